#!/bin/sh
# A container is attached: stdin is {"NetworkID", "EndpointID", "Interface": {"Address", "MacAddress"}, "Options"}.
# Docker's IPAM already chose Interface.Address; print {} to keep it, or
# {"Interface": {"MacAddress": "..."}} to add what Docker left empty.
cat >/dev/null
echo '{}'
