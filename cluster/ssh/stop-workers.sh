#!/bin/bash
# Stop fsweep workers on every host of a host list (SIGTERM: running trials are cancelled and re-queued).
#   cluster/ssh/stop-workers.sh cluster/ssh/hosts.example
set -euo pipefail
HOSTS=${1:?usage: stop-workers.sh HOSTS_FILE}
grep -v '^\s*#' "$HOSTS" | while read -r host _; do
    [ -z "$host" ] && continue
    echo "stopping workers on $host"
    ssh -n -o BatchMode=yes "$host" 'pkill -TERM -u "$USER" -x fsweep || true'
done
