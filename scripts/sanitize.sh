#!/usr/bin/env bash
# Builds the plugin and every test with AddressSanitizer and
# UndefinedBehaviorSanitizer into build-asan/, runs the unit tests, and runs
# the integration suite against brokers that load the instrumented plugin
# (the stock broker gets the sanitizer runtimes through LD_PRELOAD). Any
# report, a leak included, fails the test that caused it. Ends with
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
ninja -C build-asan >/dev/null || { echo "0 passed, 1 failed"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
RCPT_BROKER_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
export RCPT_BROKER_PRELOAD

log=build-asan/test-output.log
meson test -C build-asan --verbose --print-errorlogs "$@" > "$log" 2>&1
status=$?
grep -E "runtime error|Sanitizer|:F:|:E:" "$log" | head -40
summary=$(scripts/count-checks.sh "$log")
echo "$summary"
[ "$status" -eq 0 ] || exit "$status"
case "$summary" in *", 0 failed") exit 0 ;; *) exit 1 ;; esac
