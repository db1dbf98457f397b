# Shared by the bridge hooks (sourced, not run). Everything a hook needs about its network
# comes from the record netplug-host keeps ($NETPLUG_NETWORK_FILE), so the hooks keep no state.
set -eu

fail() { echo "$*" >&2; exit 1; }

# The options given with `docker network create -o KEY=VALUE`, from a CreateNetwork request.
option() { # option REQUEST_JSON KEY DEFAULT
    printf '%s' "$1" | jq -r --arg key "$2" --arg default "$3" \
        '(.Options // {})["com.docker.network.generic"] // {} | .[$key] // $default | tostring'
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

bridge_of() { option "$1" bridge "$(default_bridge)"; }
mtu_of() { option "$1" mtu 1500; }

# Interface names must be at most 15 bytes: 'nph' + 11 hex digits of the endpoint id, and 'npc' for
# the end that goes into the container.
host_veth() { echo "nph$(printf '%s' "$NETPLUG_ENDPOINT_ID" | cut -c1-11)"; }
container_veth() { echo "npc$(printf '%s' "$NETPLUG_ENDPOINT_ID" | cut -c1-11)"; }

link_exists() { ip link show "$1" >/dev/null 2>&1; }
