#!/bin/sh
# A container is attached: answer a MAC address derived from its IPv4 address (02:42 and the
# address's four bytes, as Docker's own bridge does), so a container restarted with the same
# address keeps its MAC and its peers' neighbour caches stay right. A MAC Docker already has
# (docker run --mac-address) is kept.
. "$(dirname "$0")/lib/common.sh"
jq -c '
    def hex2: [(. / 16 | floor), (. % 16)] | map("0123456789abcdef"[.:.+1]) | join("");
    (.Interface // {}) as $iface
    | if ($iface.MacAddress // "") != "" or ($iface.Address // "") == "" then {}
      else {Interface: {MacAddress: (["02", "42"] + ($iface.Address | split("/")[0] | split(".") | map(tonumber | hex2)) | join(":"))}}
      end'
