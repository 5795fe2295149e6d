#!/bin/bash
# Runs the Slurm templates against a real single-node Slurm started here (Debian's slurm-wlm and munge, run as
# the current user in a temporary directory, on their own ports), and checks that:
#   1. coordinator.sbatch + a 2-task workers.sbatch array run a tiny sweep to completion;
#   2. a worker array task submitted after the end exits 0 at once (the coordinator's sweep.finished marker);
#   3. `scancel` of a worker task that runs a trial puts the trial back in the queue and another task runs it.
# Usage: cluster/slurm/test-local.sh [FSWEEP_BINARY]   (default .build/debug/fsweep); exit 0 when both hold.
# Needs: apt-get install slurm-wlm munge. Leaves nothing running (daemons stopped on exit).
set -euo pipefail

FSWEEP=$(realpath "${1:-.build/debug/fsweep}")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
for tool in munged slurmctld slurmd sbatch squeue; do
    command -v "$tool" >/dev/null || { echo "test-local.sh: $tool not found; apt-get install slurm-wlm munge" >&2; exit 2; }
done

DIR=$(mktemp -d /tmp/fsweep-slurm.XXXXXX)
NODE=$(hostname -s)
USER_NAME=$(id -un)
PIDS=()
KEEP=1
cleanup() {
    scancel --user="$USER_NAME" 2>/dev/null || true
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    # bounded: a daemon that inherited a blocked SIGTERM (some test runners block it) is killed outright
    for _ in $(seq 1 50); do
        alive=0; for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break; sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    if [ "$KEEP" = 0 ]; then rm -rf "$DIR"; else echo "test-local.sh: logs kept in $DIR" >&2; fi
}
trap cleanup EXIT
log() { echo "test-local.sh: $*"; }
fail() { echo "test-local.sh: FAILED: $*" >&2; for f in "$DIR"/*.log "$DIR"/jobs/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done >&2; exit 1; }

# munge, with its own key and socket
mkdir -p "$DIR/munge" "$DIR/state" "$DIR/spool" "$DIR/jobs" "$DIR/shared"
chmod 700 "$DIR/munge"
dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$DIR/munge/munge.key"
munged --foreground --force --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
    --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge.log" --seed-file="$DIR/munge/seed" 2>>"$DIR/munge.log" &
PIDS+=($!)
for _ in $(seq 1 50); do [ -S "$DIR/munge/munge.socket" ] && break; sleep 0.1; done
[ -S "$DIR/munge/munge.socket" ] || fail "munged did not start"

cat > "$DIR/slurm.conf" <<CONF
ClusterName=fsweeptest
SlurmctldHost=$NODE
SlurmUser=$USER_NAME
SlurmdUser=$USER_NAME
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$NODE CPUs=4 RealMemory=4000 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
: > "$DIR/cgroup.conf"
export SLURM_CONF="$DIR/slurm.conf"
slurmctld -D -i -f "$SLURM_CONF" >"$DIR/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" >"$DIR/slurmd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)' && break; sleep 0.2; done
sinfo -h -o %t | grep -qE '^(idle|mix|alloc)' || fail "the Slurm node did not come up: $(sinfo 2>&1)"
log "slurm up in $DIR"

# a tiny sweep, CURVE keys where the templates look for them
cat > "$DIR/tiny.yaml" <<YAML
version: 1
name: slurmtiny
fixed:
  dataset: {name: synthetic, image_size: 8, train_size: 20, test_size: 10}
  model: {arch: convactually, width: 4, depth: 1}
  train: {epochs: 1, batch_size: 10}
  probes: []
grid:
  train.lr: [0.01, 0.02, 0.03, 0.04]
YAML
mkdir -p "$DIR/shared/keys"
"$FSWEEP" keys generate "$DIR/shared/keys/coordinator" >/dev/null
"$FSWEEP" keys generate "$DIR/shared/keys/worker" >/dev/null
cat "$DIR/shared/keys/worker.pub" > "$DIR/shared/keys/authorized_keys"

export FSWEEP="$FSWEEP" FSWEEP_SHARED="$DIR/shared" FSWEEP_RESULTS="$DIR/results" FSWEEP_PORT=16855 FSWEEP_GIVE_UP_AFTER=2m
SMALL=(--cpus-per-task=1 --mem=200M --chdir="$DIR/jobs" --parsable)
COORD=$(sbatch "${SMALL[@]}" --output="$DIR/jobs/coordinator.log" "$REPO/cluster/slurm/coordinator.sbatch" "$DIR/tiny.yaml")
WORKERS=$(sbatch "${SMALL[@]}" --array=0-1 --dependency="after:$COORD" --output="$DIR/jobs/worker-%a.log" \
    "$REPO/cluster/slurm/workers.sbatch")
log "coordinator job $COORD, worker array $WORKERS"

wait_gone() {  # job id, seconds
    for _ in $(seq 1 $(($2 * 5))); do [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0; sleep 0.2; done
    return 1
}
wait_gone "$COORD" 300 || fail "the coordinator job did not finish in 300 s"
wait_gone "$WORKERS" 60 || fail "the worker tasks did not exit after the sweep ended"
"$FSWEEP" status "$DIR/results/slurmtiny" | tee "$DIR/status.txt"
grep -q "4 trials — 4 done" "$DIR/status.txt" || fail "not every trial is done"
[ -f "$DIR/shared/sweep.finished" ] || fail "the coordinator wrote no sweep.finished marker"
log "1/3 sweep finished under Slurm: $(cat "$DIR/shared/sweep.finished")"

LATE=$(sbatch "${SMALL[@]}" --array=0 --output="$DIR/jobs/late.log" "$REPO/cluster/slurm/workers.sbatch")
wait_gone "$LATE" 60 || fail "a worker task submitted after the end did not exit by itself"
grep -q "sweep already finished" "$DIR/jobs/late.log" || fail "the late worker did not see the finished marker"
log "2/3 a late worker task exited at once"

# 3. a cancelled worker task gives its trial back: two slow trials, two tasks, cancel one mid-trial
sed -e 's/name: slurmtiny/name: slurmcancel/' -e 's/\[0.01, 0.02, 0.03, 0.04\]/[0.01, 0.02]/' "$DIR/tiny.yaml" > "$DIR/cancel.yaml"
export FSWEEP_RUNNER_COMMAND="echo \"start \$FSWEEP_TRIAL_ID \$SLURM_ARRAY_TASK_ID\" >> $DIR/runs.log; sleep 6; sh $REPO/examples/runners/shell_runner.sh"
COORD=$(sbatch "${SMALL[@]}" --output="$DIR/jobs/coordinator-2.log" "$REPO/cluster/slurm/coordinator.sbatch" "$DIR/cancel.yaml")
WORKERS=$(sbatch "${SMALL[@]}" --array=0-1 --dependency="after:$COORD" --output="$DIR/jobs/worker2-%a.log" \
    "$REPO/cluster/slurm/workers.sbatch")
starts() { local n; n=$(grep -c '^start' "$DIR/runs.log" 2>/dev/null || true); echo "${n:-0}"; }
for _ in $(seq 1 600); do [ "$(starts)" -ge 2 ] && break; sleep 0.2; done
[ "$(starts)" -ge 2 ] || fail "the two worker tasks did not both start a trial"
scancel "${WORKERS}_0"
CANCELLED=$(awk '$3 == "0" { print $2; exit }' "$DIR/runs.log")
wait_gone "$COORD" 300 || fail "the coordinator job did not finish after a worker task was cancelled"
"$FSWEEP" status "$DIR/results/slurmcancel" | tee "$DIR/status-2.txt"
grep -q "2 trials — 2 done" "$DIR/status-2.txt" || fail "the cancelled task's trial was not run to done"
grep -q "^start $CANCELLED 1\$" "$DIR/runs.log" || fail "trial $CANCELLED of the cancelled task was not re-run by task 1: $(cat "$DIR/runs.log")"
log "3/3 trial $CANCELLED of the cancelled task was re-queued and run by the other task"
KEEP=0
log "passed"
