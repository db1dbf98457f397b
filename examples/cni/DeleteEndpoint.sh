#!/bin/sh
# The endpoint goes: DEL again if Leave did not run (a failed Join), and the interface Docker
# gave back. Repeating it, or nothing being left, is fine.
. "$(dirname "$0")/lib/cni.sh"
cat >/dev/null
delete_chain "$NETPLUG_ENDPOINT_ID"
src=$(src_name "$NETPLUG_ENDPOINT_ID")
if link_exists "$src"; then ip link del "$src"; fi
echo '{}'
