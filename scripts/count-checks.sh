#!/usr/bin/env bash
# Reads test output and prints "N passed, N failed", counting individual
# Check test cases. Check prints "NN%: Checks: N, Failures: F, Errors: E"
# per program; a program that died before its summary counts as one failure
# through meson's own "Fail:" and "Timeout:" totals, summed over the meson
# runs in the output (scripts/matrix.sh runs several).
awk '
  /[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Checks:")   checks += $(i + 1)
      if ($i == "Failures:") failures += $(i + 1)
      if ($i == "Errors:")   errors += $(i + 1)
    }
  }
  /^Fail:/    { fail += $2 }
  /^Timeout:/ { timeout += $2 }
  END {
    bad = failures + errors
    if (fail + timeout > 0 && bad == 0) bad = fail + timeout
    printf "%d passed, %d failed\n", checks - failures - errors, bad
  }' "$@"
