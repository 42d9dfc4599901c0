#!/usr/bin/env bash
# Sets everything up, builds, runs every test suite, and ends with one line
# "N passed, N failed" counting individual test cases.
set -uo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

log=build/test-output.log
meson test -C build --verbose --print-errorlogs "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

summary=$(scripts/count-checks.sh "$log")
echo "$summary"
[ "$status" -eq 0 ] || exit "$status"
case "$summary" in *", 0 failed") exit 0 ;; *) exit 1 ;; esac
