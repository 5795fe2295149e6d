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
cat > "$work/runner.sh" <<'RUNNER'
#!/bin/sh
cat > /dev/null
for e in 1 2 3 4; do
  loss=$(awk -v e="$e" -v s="${FSWEEP_TRIAL_ID#t}" 'BEGIN { printf "%.4f", 2 / e + length(s) % 3 / 10 }')
  echo "{\"progress\": {\"epoch\": $e, \"epochs\": 4, \"metrics\": {\"train_loss\": $loss}}}"
  sleep 1
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

# Wait (bounded) until a trial has recorded an epoch, so the page has a curve to draw.
for _ in $(seq 1 600); do
  if curl -sf "${url}api/sweeps/dashcheck/status" | grep -Eq '"epoch" ?: ?[1-9]'; then break; fi
  sleep 0.1
done

flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-dev-shm-usage --user-data-dir="$work/chrome"
       --virtual-time-budget=4000 --timeout=20000)
timeout 60 "$chrome" "${flags[@]}" --dump-dom "$page" > "$work/dom.html" 2>"$work/chrome.log" || true
timeout 60 "$chrome" "${flags[@]}" --window-size=1200,1400 --screenshot="$work/dashboard.png" "$page" >>"$work/chrome.log" 2>&1 || true

fail=0
grep -q '<span id="count-total">3</span>' "$work/dom.html" || { echo "dashboard-check: trial count 3 not on the page" >&2; fail=1; }
grep -q 'id="count-done"' "$work/dom.html" || { echo "dashboard-check: done count not on the page" >&2; fail=1; }
grep -q '<polyline class="curve"' "$work/dom.html" || { echo "dashboard-check: no learning curve drawn" >&2; fail=1; }
[ -s "$work/dashboard.png" ] || { echo "dashboard-check: no screenshot" >&2; fail=1; }
echo "dashboard-check: screenshot $work/dashboard.png"
echo "dashboard-check: DOM $work/dom.html"
if [ "$fail" -ne 0 ]; then tail -20 "$work/chrome.log" >&2; exit 1; fi
echo "dashboard-check: ok (counts and a learning curve appear while the sweep runs)"
