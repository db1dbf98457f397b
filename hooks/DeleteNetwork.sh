#!/bin/sh
# docker network rm: stdin is {"NetworkID"}. Remove what CreateNetwork built.
# Docker may call it again after a failure: succeed when there is nothing left to remove.
cat >/dev/null
echo "deleting network $NETPLUG_NETWORK_ID" >&2
