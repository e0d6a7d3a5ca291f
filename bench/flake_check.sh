#!/usr/bin/env bash
# Runs the whole suite N times (default 5) with both cores kept busy by a CPU hog,
# and prints one line per round. A flaky test shows up as a failed round here long
# before it fails CI. Usage: bench/flake_check.sh [ROUNDS] [pytest args...]
# Without pytest args it runs what CI runs (-n 4: four workers, with the hog on every core).
set -u
cd "$(dirname "$0")/.."
rounds=${1:-5}; shift || true
[ "$#" -gt 0 ] || set -- -n 4
py=${PYTHON:-.venv/bin/python}
hog_pids=()
for _ in $(seq "$(nproc)"); do
  "$py" -c 'while True: pass' &
  hog_pids+=($!)
done
trap 'kill "${hog_pids[@]}" 2>/dev/null' EXIT
failed=0
for round in $(seq "$rounds"); do
  start=$(date +%s)
  if "$py" -m pytest -q -p no:cacheprovider "$@" > "/tmp/llmwb-flake-$round.log" 2>&1; then
    verdict=passed
  else
    verdict="FAILED (log: /tmp/llmwb-flake-$round.log)"; failed=$((failed + 1))
  fi
  echo "round $round: $verdict in $(( $(date +%s) - start )) s — $(tail -n 1 "/tmp/llmwb-flake-$round.log")"
done
echo "$failed of $rounds rounds failed under a ${#hog_pids[@]}-core CPU hog"
[ "$failed" -eq 0 ]
