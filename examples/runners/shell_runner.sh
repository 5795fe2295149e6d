#!/bin/sh
# A runner in plain POSIX shell, to show the external-runner protocol with no dependencies
# (fsweep run SPEC --runner-command "sh examples/runners/shell_runner.sh"):
#   stdin   the trial config as one line of JSON ({"dataset":…,"model":…,"train":{"epochs":3,"lr":0.01,…},"seed":0})
#   stdout  one JSON object per line: {"progress": {"epoch": k, "epochs": n, "metrics": {…}}} after each epoch,
#           then {"metrics": {…}, "arrays": [{"name", "shape", "data"}], "epochs": [{…}, …]}
#   exit    0 on success, 3 for a failure that must not be retried (bad config), anything else is retried.
# Its "training" is a closed-form toy (loss = lr-scaled decay), so the numbers are deterministic.
set -eu
config=$(cat)
num() { printf '%s' "$config" | sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p" | head -n 1; }
epochs=$(num epochs); epochs=${epochs:-10}
lr=$(num lr); lr=${lr:-0.01}
seed=$(num seed); seed=${seed:-0}
case "$epochs" in ''|*[!0-9]*) echo '{"error": "train.epochs is not an integer", "retryable": false}'; exit 3 ;; esac

devices=0
if [ -n "${CUDA_VISIBLE_DEVICES:-}" ]; then devices=$(printf '%s' "$CUDA_VISIBLE_DEVICES" | awk -F, '{print NF}'); fi

history=""
losses=""
k=1
while [ "$k" -le "$epochs" ]; do
    loss=$(awk -v k="$k" -v lr="$lr" 'BEGIN { printf "%.6f", 2.3 / (1 + 10 * lr * k) }')
    echo "{\"progress\": {\"epoch\": $k, \"epochs\": $epochs, \"metrics\": {\"loss\": $loss}}}"
    history="$history${history:+, }{\"loss\": $loss}"
    losses="$losses${losses:+, }$loss"
    k=$((k + 1))
done
accuracy=$(awk -v e="$epochs" -v lr="$lr" -v s="$seed" 'BEGIN { printf "%.6f", 1 - 0.9 / (1 + 10 * lr * e) - 0.001 * s }')
echo "{\"metrics\": {\"test_accuracy\": $accuracy, \"cuda_devices\": $devices}, \"arrays\": [{\"name\": \"loss_curve\", \"shape\": [$epochs], \"data\": [$losses]}], \"epochs\": [$history]}"
