#!/bin/sh
# Docker calls this once, when it first uses the driver (request: nothing).
# Print the scope: "local" (this host only) or "global" (a cluster-wide store).
# Without this hook, netplug-host answers the --scope flag (default local).
echo '{"Scope": "local", "ConnectivityScope": "local"}'
