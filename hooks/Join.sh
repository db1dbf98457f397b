#!/bin/sh
# The container starts: stdin is {"NetworkID", "EndpointID", "SandboxKey", "Options"}.
# Create an interface on the host and name it in InterfaceName.SrcName: Docker moves it into
# the container and renames it DstPrefix + a number (eth1, ...). Gateway is a plain IP.
# This starter prints nothing, so Docker gets {} and has no interface to move:
# see examples/bridge for a Join that makes a veth pair and a working network.
cat >/dev/null
