#!/bin/sh
# docker network rm: remove the bridge if this driver made it for this network; a bridge it
# adopted, or one it has no claim on, is left untouched. Succeeds when it is already gone.
. "$(dirname "$0")/lib/common.sh"
cat >/dev/null
bridge=$(bridge_of "$(network_request)")
claim=$(claim_of "$bridge")
owner=$(printf '%s' "$claim" | cut -d' ' -f1)
how=$(printf '%s' "$claim" | cut -s -d' ' -f2)
[ -z "$owner" ] || [ "$owner" = "$NETPLUG_NETWORK_ID" ] || exit 0
if [ "$how" = made ] && link_exists "$bridge"; then ip link del "$bridge"; fi
rm -f "$(claims_dir)/$bridge"
