# Shared by the cni hooks (sourced, not run): finding a network's CNI config and plugins,
# and running a chain of plugins the way libcni does. Each endpoint's chain runs in a
# namespace of its own, cni-NET12-EP12, made for ADD or DEL and removed after it; what ADD
# answered is kept in $NETPLUG_STATE_DIR/cni/ENDPOINT.json for DEL.
set -eu

fail() { echo "$*" >&2; exit 1; }

CONF_DIR=${CNI_CONF_DIR:-/etc/cni/net.d}
PLUGIN_PATH=${CNI_PATH:-/opt/cni/bin:/usr/lib/cni}
KEPT_DIR="$NETPLUG_STATE_DIR/cni"

short() { printf '%s' "$1" | cut -c1-12; }
scratch_ns() { echo "cni-$(short "$NETPLUG_NETWORK_ID")-$(short "$1")"; }
# The name the chain's interface has in the host between ADD and Docker's move (15 at most).
src_name() { echo "cn$(printf '%s' "$1" | cut -c1-11)"; }
link_exists() { ip link show "$1" >/dev/null 2>&1; }

# The options of `docker network create -o KEY=VALUE`, from a CreateNetwork request.
option() { # option REQUEST_JSON KEY
    printf '%s' "$1" | jq -r --arg key "$2" '(.Options // {})["com.docker.network.generic"] // {} | .[$key] // empty | tostring'
}

network_request() {
    if [ -n "${NETPLUG_NETWORK_FILE:-}" ] && [ -r "$NETPLUG_NETWORK_FILE" ]; then
        jq -c '.Request' "$NETPLUG_NETWORK_FILE"
    else
        echo '{}'
    fi
}

endpoint_record() {
    if [ -n "${NETPLUG_ENDPOINT_FILE:-}" ] && [ -r "$NETPLUG_ENDPOINT_FILE" ]; then
        jq -c '.' "$NETPLUG_ENDPOINT_FILE"
    else
        echo '{}'
    fi
}

# The chain named by cni.config, as a conflist ({cniVersion, name, plugins: [...]}); a .conf
# is a chain of one. Fails with a sentence naming what is missing or wrong.
load_chain() { # load_chain NAME
    name=$1
    printf '%s' "$name" | grep -Eq '^[A-Za-z0-9_.-]+$' ||
        fail "-o cni.config=\"$name\": use the name of a file in $CONF_DIR, without .conflist or .conf"
    if [ -r "$CONF_DIR/$name.conflist" ]; then
        file="$CONF_DIR/$name.conflist"
        chain=$(jq -ec 'select(type == "object" and (.plugins | type) == "array" and (.plugins | length) > 0)' "$file" 2>/dev/null) ||
            fail "$file is not a CNI conflist: it needs a \"plugins\" array of at least one plugin (jq: $(jq empty "$file" 2>&1 | head -n1))"
    elif [ -r "$CONF_DIR/$name.conf" ]; then
        file="$CONF_DIR/$name.conf"
        chain=$(jq -ec 'select(type == "object" and (.type | type) == "string")
                        | {cniVersion, name, plugins: [del(.cniVersion, .name)]}' "$file" 2>/dev/null) ||
            fail "$file is not a CNI config: it needs a \"type\" naming the plugin (jq: $(jq empty "$file" 2>&1 | head -n1))"
    else
        fail "-o cni.config=$name: there is no $name.conflist or $name.conf in $CONF_DIR (set CNI_CONF_DIR to look elsewhere)"
    fi
    missing=$(printf '%s' "$chain" | jq -r '.plugins[] | select((.type | type) != "string") | "x"' | head -n1)
    [ -z "$missing" ] || fail "$file: every plugin needs a \"type\" naming its program"
    for type in $(printf '%s' "$chain" | jq -r '.plugins[].type') static; do
        find_plugin "$type" >/dev/null ||
            fail "the CNI plugin \"$type\" that $file uses is in none of CNI_PATH=$PLUGIN_PATH: install it (Debian: containernetworking-plugins) or set CNI_PATH"
    done
    printf '%s' "$chain" | jq -c --arg file "$file" '. + {file: $file}'
}

find_plugin() { # find_plugin TYPE
    case "$1" in */*|.*|'') return 1 ;; esac
    old_ifs=$IFS; IFS=:
    for folder in $PLUGIN_PATH; do
        if [ -x "$folder/$1" ]; then IFS=$old_ifs; echo "$folder/$1"; return 0; fi
    done
    IFS=$old_ifs
    return 1
}

# One plugin, one command. Prints the plugin's stdout; a failure is a sentence naming the
# plugin and its place, from its {"code", "msg", "details"}.
run_plugin() { # run_plugin ADD|DEL ENDPOINT NETNS CONFIG_JSON WHERE
    type=$(printf '%s' "$4" | jq -r '.type')
    program=$(find_plugin "$type") || fail "the CNI plugin \"$type\" is in none of CNI_PATH=$PLUGIN_PATH"
    if out=$(printf '%s' "$4" | CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=$3 CNI_IFNAME=eth0 CNI_PATH=$PLUGIN_PATH \
             CNI_ARGS= "$program" 2>"$NETPLUG_STATE_DIR/.cni-stderr.$$"); then
        rm -f "$NETPLUG_STATE_DIR/.cni-stderr.$$"
        printf '%s' "$out"
        return 0
    fi
    said=$(printf '%s' "$out" | jq -r 'select(type == "object") | (.msg // "") + (if (.details // "") != "" then " (" + .details + ")" else "" end)' 2>/dev/null || true)
    [ -n "$said" ] || said=$(tail -n1 "$NETPLUG_STATE_DIR/.cni-stderr.$$" 2>/dev/null || true)
    rm -f "$NETPLUG_STATE_DIR/.cni-stderr.$$"
    verb=$( [ "$1" = ADD ] && echo "attach the container" || echo "detach the container" )
    echo "the CNI plugin $type ($5) could not $verb: ${said:-it failed without saying why}" >&2
    return 1
}

# The config one plugin gets: its own object, the chain's name and version, the previous
# result, and the runtime values its capabilities ask for (portMappings).
plugin_config() { # plugin_config CHAIN INDEX PREV_RESULT RUNTIME_JSON
    printf '%s' "$1" | jq -c --argjson i "$2" --argjson prev "$3" --argjson runtime "$4" '
        (.plugins[$i].capabilities // {}) as $caps
        | .plugins[$i] + {cniVersion, name}
        + (if $prev == null then {} else {prevResult: $prev} end)
        + ($runtime | with_entries(select($caps[.key] == true)) | if length == 0 then {} else {runtimeConfig: .} end)'
}

# DEL for every plugin of a kept chain, last first, each with the kept result; then the
# namespace goes. Errors are reported, and the rest still run.
delete_chain() { # delete_chain ENDPOINT
    kept="$KEPT_DIR/$1.json"
    ns=$(scratch_ns "$1")
    status=0
    if [ -r "$kept" ]; then
        ip netns add "$ns" 2>/dev/null || true
        src=$(src_name "$1")
        # Back from Docker (after Leave it is in the host under its first name): into the
        # namespace as eth0, where the plugins look for it.
        if link_exists "$src"; then
            ip link set "$src" down 2>/dev/null || true
            ip link set "$src" netns "$ns" && ip -n "$ns" link set "$src" name eth0 || true
        fi
        chain=$(jq -c '.chain' "$kept")
        result=$(jq -c '.result' "$kept")
        runtime=$(jq -c '.runtime' "$kept")
        count=$(printf '%s' "$chain" | jq '.plugins | length')
        i=$((count - 1))
        while [ $i -ge 0 ]; do
            run_plugin DEL "$1" "/run/netns/$ns" "$(plugin_config "$chain" $i "$result" "$runtime")" \
                "plugin $((i + 1)) of $(printf '%s' "$chain" | jq -r '.file // "the chain"')" >/dev/null || status=1
            i=$((i - 1))
        done
    fi
    ip netns del "$ns" 2>/dev/null || true
    [ $status -eq 0 ] && rm -f "$kept"
    return $status
}
