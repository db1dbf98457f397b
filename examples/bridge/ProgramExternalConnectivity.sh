#!/bin/sh
# docker run -p HOST:CONTAINER: this driver publishes no ports, and says so rather than
# letting `docker run -p` succeed with nothing published. Containers are reachable at their
# own addresses on the bridge.
. "$(dirname "$0")/lib/common.sh"
ports=$(jq -r '[((.Options // {})["com.docker.network.portmap"] // [])[]
    | "\(.HostPort // 0 | if . == 0 then "" else "\(.):" end)\(.Port)/\(if .Proto == 17 then "udp" elif .Proto == 132 then "sctp" else "tcp" end)"]
    | join(", ")')
[ -z "$ports" ] ||
    fail "this network's driver does not publish ports (-p $ports); reach the container at its address on the network instead, or publish through a network of Docker's own bridge driver"
