# Shared by the bridge hooks (sourced, not run). What a hook needs about its network comes
# from the record netplug-host keeps ($NETPLUG_NETWORK_FILE); which bridges this driver made,
# and for which network, is kept in $NETPLUG_STATE_DIR/bridges/NAME ("NETWORK-ID made" or
# "NETWORK-ID adopted"), so that a hook never deletes or reconfigures an interface it did
# not make.
set -eu

fail() { echo "$*" >&2; exit 1; }

KNOWN_OPTIONS='["bridge", "mtu"]'

# The options given with `docker network create -o KEY=VALUE`, from a CreateNetwork request.
option() { # option REQUEST_JSON KEY DEFAULT
    printf '%s' "$1" | jq -r --arg key "$2" --arg default "$3" \
        '(.Options // {})["com.docker.network.generic"] // {} | .[$key] // $default | tostring'
}

# Fails on the first option this driver does not know, with the closest known one.
check_options() { # check_options REQUEST_JSON
    unknown=$(printf '%s' "$1" | jq -r --argjson known "$KNOWN_OPTIONS" '
        def distance($a; $b):
            ($a | explode) as $s | ($b | explode) as $t
            | reduce range(0; $s | length) as $i ([range(0; ($t | length) + 1)];
                . as $row | reduce range(0; $t | length) as $j ([$i + 1];
                    . + [[$row[$j + 1] + 1, .[$j] + 1, $row[$j] + (if $s[$i] == $t[$j] then 0 else 1 end)] | min]))
            | .[-1];
        [((.Options // {})["com.docker.network.generic"] // {}) | keys[] | select(. as $k | $known | index($k) | not)]
        | first // empty
        | . as $k | ($known | map({name: ., d: distance($k; .)}) | min_by(.d)) as $best
        | $k + (if $best.d <= 2 then "\t" + $best.name else "" end)')
    [ -z "$unknown" ] && return 0
    key=$(printf '%s' "$unknown" | cut -f1)
    hint=$(printf '%s' "$unknown" | cut -s -f2)
    if [ -n "$hint" ]; then
        fail "unknown option -o $key: did you mean -o $hint? This driver takes -o bridge=NAME and -o mtu=N"
    fi
    fail "unknown option -o $key: this driver takes -o bridge=NAME and -o mtu=N"
}

default_bridge() { echo "np-$(printf '%s' "$NETPLUG_NETWORK_ID" | cut -c1-12)"; }

# The network's CreateNetwork request, as the host recorded it ({} if there is no record).
network_request() {
    if [ -n "${NETPLUG_NETWORK_FILE:-}" ] && [ -r "$NETPLUG_NETWORK_FILE" ]; then
        jq -c '.Request' "$NETPLUG_NETWORK_FILE"
    else
        echo '{}'
    fi
}

# The endpoint's CreateEndpoint request and answer ({} if there is no record).
endpoint_record() {
    if [ -n "${NETPLUG_ENDPOINT_FILE:-}" ] && [ -r "$NETPLUG_ENDPOINT_FILE" ]; then
        jq -c '.' "$NETPLUG_ENDPOINT_FILE"
    else
        echo '{}'
    fi
}

bridge_of() { option "$1" bridge "$(default_bridge)"; }
mtu_of() { option "$1" mtu 1500; }

# Gateways as Docker's IPAM gives them (CIDR), empty when the network has none.
gateway4_of() { printf '%s' "$1" | jq -r '.IPv4Data[0].Gateway // empty'; }
gateway6_of() { printf '%s' "$1" | jq -r '.IPv6Data[0].Gateway // empty'; }

# Interface names must be at most 15 bytes: 'nph' + 11 hex digits of the endpoint id, and 'npc' for
# the end that goes into the container.
host_veth() { echo "nph$(printf '%s' "$NETPLUG_ENDPOINT_ID" | cut -c1-11)"; }
container_veth() { echo "npc$(printf '%s' "$NETPLUG_ENDPOINT_ID" | cut -c1-11)"; }

link_exists() { ip link show "$1" >/dev/null 2>&1; }
is_bridge() { ip -d -o link show dev "$1" 2>/dev/null | grep -q ' bridge forward_delay '; }

# Who owns a bridge name: prints "NETWORK-ID made|adopted", nothing when no network of ours has it.
claims_dir() { echo "$NETPLUG_STATE_DIR/bridges"; }
claim_of() { cat "$(claims_dir)/$1" 2>/dev/null || true; }
