#!/usr/bin/env bash
# Real-browser check of the dashboard: runs a tiny sweep (a shell runner that reports one epoch a second) with
# `fsweep run --dashboard 127.0.0.1:0`, loads the sweep page in headless Chromium while trials run, and checks
# that the counts and a learning curve appear. The screenshot is kept under the temp dir and its path printed.
#   tools/dashboard-check.sh            builds fsweep (debug) unless FSWEEP_BIN names a binary
# Needs chromium (Debian: apt-get install -y chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

chrome=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chrome" ] || { echo "dashboard-check: chromium not found (apt-get install -y chromium)" >&2; exit 2; }
bin=${FSWEEP_BIN:-}
if [ -z "$bin" ]; then swift build --product fsweep >/dev/null; bin=.build/debug/fsweep; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fsweep-dashboard-check.XXXXXX")
# The runner reports epochs 1-2 of a trial, then holds it (at most 60 s) until the check has loaded the page and
# touched $work/release, so the page is looked at while a trial is running.
cat > "$work/runner.sh" <<RUNNER
#!/bin/sh
cat > /dev/null
for e in 1 2 3 4; do
  if [ "\$e" -eq 3 ]; then n=0; while [ ! -e "$work/release" ] && [ \$n -lt 600 ]; do sleep 0.1; n=\$((n + 1)); done; fi
  loss=\$(awk -v e="\$e" -v s="\$FSWEEP_TRIAL_ID" 'BEGIN { printf "%.4f", 2 / e + length(s) % 3 / 10 }')
  echo "{\\"progress\\": {\\"epoch\\": \$e, \\"epochs\\": 4, \\"metrics\\": {\\"train_loss\\": \$loss}}}"
done
echo '{"metrics": {"test_accuracy": 0.5}}'
RUNNER
cat > "$work/check.yaml" <<'SPEC'
version: 1
name: dashcheck
fixed:
  dataset: {name: synthetic, image_size: 16, train_size: 100, test_size: 50}
  model: {arch: convactually, width: 8, activation: relu, depth: 1}
  train: {epochs: 4, batch_size: 32, lr: 0.01}
grid:
  train.weight_decay: [0.0, 0.001, 0.01]
seeds: [0]
runner: {max_attempts: 1}
SPEC

"$bin" run "$work/check.yaml" --results "$work/results" --workers 1 --quiet --dashboard 127.0.0.1:0 \
  --runner-command "sh $work/runner.sh" >"$work/run.log" 2>&1 &
run_pid=$!
trap 'kill "$run_pid" 2>/dev/null || true' EXIT

url=""
for _ in $(seq 1 600); do   # bounded: 60 s for the dashboard line
  url=$(grep -o 'dashboard: http://[^ ]*' "$work/run.log" | head -1 | sed 's/^dashboard: //' || true)
  [ -n "$url" ] && break
  kill -0 "$run_pid" 2>/dev/null || { cat "$work/run.log" >&2; echo "dashboard-check: fsweep run exited early" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/run.log" >&2; echo "dashboard-check: no dashboard address printed" >&2; exit 1; }
page="${url}sweeps/dashcheck"

# Wait (bounded) until the first trial has recorded epoch 2 and is held, so the page has a curve to draw.
for _ in $(seq 1 600); do
  if curl -sf "${url}api/sweeps/dashcheck/status" | grep -Eq '"epoch" ?: ?2'; then break; fi
  sleep 0.1
done

flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-dev-shm-usage --user-data-dir="$work/chrome"
       --timeout=4000)
# The curve is drawn when the event stream's first events arrive; load again (at most 5 times) if the dump came first.
for _ in 1 2 3 4 5; do
  timeout 60 "$chrome" "${flags[@]}" --dump-dom "$page" > "$work/dom.html" 2>>"$work/chrome.log" || true
  grep -q '<polyline class="curve"' "$work/dom.html" && break
done
timeout 60 "$chrome" "${flags[@]}" --window-size=1200,1400 --screenshot="$work/dashboard.png" "$page" >>"$work/chrome.log" 2>&1 || true

touch "$work/release"
for _ in $(seq 1 600); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done   # bounded: 60 s to finish
wait "$run_pid" || { echo "dashboard-check: fsweep run failed" >&2; cat "$work/run.log" >&2; exit 1; }

fail=0
# One worker holds two leases: the trial it runs and the next one, reserved ahead (docs/DESIGN.md, Leases).
grep -q '<span id="count-leased">2</span>' "$work/dom.html" || { echo "dashboard-check: the running and the queued trial are not counted" >&2; fail=1; }
grep -q 'queued next' "$work/dom.html" || { echo "dashboard-check: the worker's queued trial is not shown" >&2; fail=1; }
grep -q 'epoch 2/4' "$work/dom.html" || { echo "dashboard-check: the worker's epoch 2/4 is not shown" >&2; fail=1; }
grep -q '<span id="count-total">3</span>' "$work/dom.html" || { echo "dashboard-check: trial count 3 not on the page" >&2; fail=1; }
grep -q 'id="count-done"' "$work/dom.html" || { echo "dashboard-check: done count not on the page" >&2; fail=1; }
grep -q '<polyline class="curve"' "$work/dom.html" || { echo "dashboard-check: no learning curve drawn" >&2; fail=1; }
[ -s "$work/dashboard.png" ] || { echo "dashboard-check: no screenshot" >&2; fail=1; }
echo "dashboard-check: screenshot $work/dashboard.png"
echo "dashboard-check: DOM $work/dom.html"
if [ "$fail" -ne 0 ]; then tail -20 "$work/chrome.log" >&2; exit 1; fi
echo "dashboard-check: ok (counts and a learning curve appear while the sweep runs)"
