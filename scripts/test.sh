#!/usr/bin/env bash
# Sets everything up, builds, runs every test suite, and ends with one line
# "N passed, N failed" counting individual test cases.
set -uo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

log=build/test-output.log
meson test -C build --verbose --print-errorlogs "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Check prints "NN%: Checks: N, Failures: F, Errors: E" per test program; a
# program that died before its summary counts as one failure through meson's
# own "Fail:" and "Timeout:" totals.
summary=$(awk '
  /[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Checks:")   checks += $(i + 1)
      if ($i == "Failures:") failures += $(i + 1)
      if ($i == "Errors:")   errors += $(i + 1)
    }
    summaries++
  }
  /^Fail:/    { fail = $2 }
  /^Timeout:/ { timeout = $2 }
  /^Ok:/      { ok = $2 }
  END {
    bad = failures + errors
    if (fail + timeout > 0 && bad == 0) bad = fail + timeout
    printf "%d passed, %d failed\n", checks - failures - errors, bad
  }' "$log")
echo "$summary"
[ "$status" -eq 0 ] || exit "$status"
case "$summary" in *", 0 failed") exit 0 ;; *) exit 1 ;; esac
