#!/bin/sh
# A MAC derived from the IPv4 address (02:42 and its four bytes): the manager allocates
# addresses once for the swarm, so MACs are distinct across nodes, and a task that comes back
# with its address keeps its MAC.
jq -c '
    def hex2: [(. / 16 | floor), (. % 16)] | map("0123456789abcdef"[.:.+1]) | join("");
    (.Interface // {}) as $iface
    | if ($iface.MacAddress // "") != "" or ($iface.Address // "") == "" then {}
      else {Interface: {MacAddress: (["02", "42"] + ($iface.Address | split("/")[0] | split(".") | map(tonumber | hex2)) | join(":"))}}
      end'
