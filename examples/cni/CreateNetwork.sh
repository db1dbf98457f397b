#!/bin/sh
# docker network create -d NAME -o cni.config=CONF --subnet ...: the chain must exist and each
# of its plugins be found now, so that a mistake shows at `docker network create`, not at the
# first `docker run`. Nothing is made yet: each endpoint's chain makes what it needs.
. "$(dirname "$0")/lib/cni.sh"
request=$(cat)
unknown=$(printf '%s' "$request" | jq -r '(.Options // {})["com.docker.network.generic"] // {} | keys[] | select(. != "cni.config")' | head -n1)
[ -z "$unknown" ] || fail "unknown option -o $unknown: this driver takes -o cni.config=NAME (a .conflist or .conf in $CONF_DIR)"
name=$(option "$request" cni.config)
[ -n "$name" ] || fail "give the CNI config with -o cni.config=NAME (NAME.conflist or NAME.conf in $CONF_DIR)"
chain=$(load_chain "$name")
ipam=$(printf '%s' "$chain" | jq -r '.plugins[0].ipam.type // empty')
if [ -n "$ipam" ] && [ "$ipam" != static ]; then
    echo "$name: its $ipam IPAM is not used; Docker chooses the addresses (--subnet, --ipam-driver) and the chain gets them as static IPAM" >&2
fi
echo '{}'
