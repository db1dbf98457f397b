#!/bin/sh
# The container starts. Docker has not made its namespace yet (it does so after Join), so
# the chain's ADD runs in a namespace of its own, with Docker's address as static IPAM; the
# interface it makes there is then handed to Docker, which moves it into the container.
. "$(dirname "$0")/lib/cni.sh"
request=$(cat)
endpoint=$NETPLUG_ENDPOINT_ID
network=$(network_request)
chain=$(load_chain "$(option "$network" cni.config)")
record=$(endpoint_record)
address=$(printf '%s' "$record" | jq -r '.Request.Interface.Address // empty')
address6=$(printf '%s' "$record" | jq -r '.Request.Interface.AddressIPv6 // empty')
gateway=$(printf '%s' "$network" | jq -r '.IPv4Data[0].Gateway // empty' | cut -d/ -f1)
gateway6=$(printf '%s' "$network" | jq -r '.IPv6Data[0].Gateway // empty' | cut -d/ -f1)
[ -n "$address$address6" ] || fail "endpoint $(short "$endpoint") has no address from Docker's IPAM; recreate the network with --subnet"

# Docker owns the addresses: the first plugin's IPAM is static, with the endpoint's address.
static=$(jq -nc --arg a "$address" --arg g "$gateway" --arg a6 "$address6" --arg g6 "$gateway6" '
    {type: "static",
     addresses: ([if $a == "" then empty else {address: $a} + (if $g == "" then {} else {gateway: $g} end) end,
                  if $a6 == "" then empty else {address: $a6} + (if $g6 == "" then {} else {gateway: $g6} end) end]),
     routes: ([if $g == "" then empty else {dst: "0.0.0.0/0", gw: $g} end,
               if $g6 == "" then empty else {dst: "::/0", gw: $g6} end])}')
chain=$(printf '%s' "$chain" | jq -c --argjson ipam "$static" '.plugins[0].ipam = $ipam')

# `docker run -p`: Docker's bindings, as CNI's portMappings (entries without a host port skipped).
bindings=$(printf '%s' "$request" | jq -c '(.Options // {})["com.docker.network.portmap"] // empty')
[ -n "$bindings" ] || bindings=$(printf '%s' "$record" | jq -c '(.Request.Options // {})["com.docker.network.portmap"] // []')
runtime=$(printf '%s' "$bindings" | jq -c '
    {portMappings: [(. // [])[] | select((.HostPort // 0) > 0)
        | {hostPort: .HostPort, containerPort: .Port,
           protocol: ({"6": "tcp", "17": "udp", "132": "sctp"}[(.Proto // 6) | tostring] // "tcp")}
          + (if (.HostIP // "") == "" then {} else {hostIP: .HostIP} end)]}')

ns=$(scratch_ns "$endpoint")
src=$(src_name "$endpoint")
mkdir -p "$KEPT_DIR"
# Idempotent: what an earlier life of this endpoint left (a `docker restart`, a crash) goes first.
delete_chain "$endpoint" || true
if link_exists "$src"; then ip link del "$src"; fi
ip netns add "$ns"

result=null
count=$(printf '%s' "$chain" | jq '.plugins | length')
i=0
while [ $i -lt "$count" ]; do
    if ! result=$(run_plugin ADD "$endpoint" "/run/netns/$ns" "$(plugin_config "$chain" $i "$result" "$runtime")" \
                  "plugin $((i + 1)) of $(printf '%s' "$chain" | jq -r .file)"); then
        # Undo what the chain did so far: DEL for all of it, with what it had answered.
        jq -n --argjson chain "$chain" --argjson result "${last:-null}" --argjson runtime "$runtime" \
            '{chain: $chain, result: $result, runtime: $runtime}' >"$KEPT_DIR/$endpoint.json"
        # Best effort: a plugin whose ADD failed may fail its DEL too (macvlan without its
        # master); the namespace goes either way, and with it what was made inside.
        delete_chain "$endpoint" 2>/dev/null || true
        rm -f "$KEPT_DIR/$endpoint.json"
        exit 1
    fi
    last=$result
    i=$((i + 1))
done
jq -n --arg network "$NETPLUG_NETWORK_ID" --argjson chain "$chain" --argjson result "$result" --argjson runtime "$runtime" \
    '{network: $network, chain: $chain, result: $result, runtime: $runtime}' >"$KEPT_DIR/$endpoint.json.new"
mv "$KEPT_DIR/$endpoint.json.new" "$KEPT_DIR/$endpoint.json"

ip -n "$ns" link show eth0 >/dev/null 2>&1 ||
    { delete_chain "$endpoint" || true; fail "the CNI chain $(printf '%s' "$chain" | jq -r .name) made no eth0 in the container's namespace"; }
# To Docker: out of the scratch namespace into the host's, under a name of its own. Addresses
# and routes do not move with a link; Docker sets the address again, and the routes below.
ip -n "$ns" link set eth0 down
ip -n "$ns" link set eth0 name "$src"
ip -n "$ns" link set "$src" netns $$
ip netns del "$ns"

printf '%s' "$result" | jq -c --arg src "$src" --arg gw "$gateway" --arg gw6 "$gateway6" '
    {InterfaceName: {SrcName: $src, DstPrefix: "eth"}}
    + (if $gw == "" then {} else {Gateway: $gw} end)
    + (if $gw6 == "" then {} else {GatewayIPv6: $gw6} end)
    + {StaticRoutes: [(.routes // [])[] | select(.dst != "0.0.0.0/0" and .dst != "::/0")
        | if (.gw // "") == "" then {Destination: .dst, RouteType: 1} else {Destination: .dst, RouteType: 0, NextHop: .gw} end]}
    | if (.StaticRoutes | length) == 0 then del(.StaticRoutes) else . end'
