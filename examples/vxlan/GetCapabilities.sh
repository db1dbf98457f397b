#!/bin/sh
# A global-scope driver: Docker's manager allocates each network's addresses once for the whole
# swarm, and asks AllocateNetwork (on the manager) before any node's CreateNetwork.
echo '{"Scope": "global", "ConnectivityScope": "global"}'
