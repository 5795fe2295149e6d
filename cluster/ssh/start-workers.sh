#!/bin/bash
# Start fsweep workers on every host of a host list over ssh (one line per host: `HOST [WORKERS [THREADS]]`,
# `#` comments). Workers run under nohup and exit by themselves when the sweep is done.
#   cluster/ssh/start-workers.sh cluster/ssh/hosts.example tcp://coordinator.example.org:5555
# Environment: FSWEEP (remote binary path, default `fsweep`), FSWEEP_KEYS (remote dir holding
# coordinator.pub and worker.key, default ~/.fsweep/keys), FSWEEP_RUNNER_COMMAND (optional).
set -euo pipefail

HOSTS=${1:?usage: start-workers.sh HOSTS_FILE ENDPOINT}
ENDPOINT=${2:?usage: start-workers.sh HOSTS_FILE ENDPOINT}
FSWEEP=${FSWEEP:-fsweep}
KEYS=${FSWEEP_KEYS:-'~/.fsweep/keys'}
RUNNER=""
if [ -n "${FSWEEP_RUNNER_COMMAND:-}" ]; then RUNNER="--runner-command $(printf %q "$FSWEEP_RUNNER_COMMAND")"; fi

grep -v '^\s*#' "$HOSTS" | while read -r host workers threads; do
    [ -z "$host" ] && continue
    workers=${workers:-1}
    for i in $(seq 0 $((workers - 1))); do
        id="$host-$i"
        threads_opt=""
        [ -n "${threads:-}" ] && threads_opt="--threads $threads"
        echo "starting $id"
        ssh -n -o BatchMode=yes "$host" \
            "mkdir -p ~/.fsweep/logs && nohup $FSWEEP worker --connect $ENDPOINT --id $id $threads_opt \
             --outbox ~/.fsweep/outbox/$id --curve-server-key $KEYS/coordinator.pub --curve-secret $KEYS/worker.key \
             $RUNNER > ~/.fsweep/logs/$id.log 2>&1 &"
    done
done
