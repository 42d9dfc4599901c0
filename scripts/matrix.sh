#!/usr/bin/env bash
# Runs every test that starts a broker (the integration suites, the interop
# suites and the soak) against one given mosquitto, so that the plugin is
# checked on each Mosquitto 2.0 release it supports, not only Debian's 2.0.11.
#   scripts/matrix.sh [--sanitize] [--suites LIST] [--no-interop] [--no-soak] [--build DIR] BROKER
#     BROKER       a mosquitto binary, or a release such as 2.0.20 (built by scripts/brokers.sh)
#     --sanitize   the variant of scripts/sanitize.sh: plugin and tests from build-asan/, the
#                  ASan/UBSan runtimes preloaded into the broker; a sanitizer report in a
#                  broker's log fails the test that ran it
#     --suites L   only these integration suites, comma-separated (requests,sessions,...)
#     --no-interop, --no-soak   leave those out
#     --build DIR  the meson build directory (default build/, or build-asan/ with --sanitize)
# The tests learn the broker from RCPT_MOSQUITTO and its release from `BROKER -h`.
# Ends with "N passed, N failed" (scripts/count-checks.sh).
set -uo pipefail
cd "$(dirname "$0")/.."

sanitize=0 suites="" interop=1 soak=1 build="" broker=""
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) sanitize=1 ;;
    --suites) suites=$2; shift ;;
    --no-interop) interop=0 ;;
    --no-soak) soak=0 ;;
    --build) build=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "matrix.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    *) broker=$1 ;;
  esac
  shift
done
fail() { echo "matrix.sh: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
[ -n "$broker" ] || fail "name a broker binary or a release (try --help)"

# A release name is built (once) from the vendor archives.
if [ ! -e "$broker" ] && [[ "$broker" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  broker=$(./scripts/brokers.sh "$broker" | tail -n 1 | cut -d' ' -f2-) || fail "could not build mosquitto $broker"
fi
[ -x "$broker" ] || fail "$broker is not an executable"
broker=$(cd "$(dirname "$broker")" && pwd)/$(basename "$broker")
version=$("$broker" -h 2>/dev/null | sed -n 's/^mosquitto version \([0-9.]*\)$/\1/p' | head -n 1)
[ -n "$version" ] || fail "$broker -h does not say 'mosquitto version X.Y.Z'"

./scripts/setup.sh --packages-only >/dev/null || fail "setup failed"
if [ "$sanitize" = 1 ]; then
  build=${build:-build-asan}
  [ -f "$build/build.ninja" ] || meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
  # As scripts/sanitize.sh: the stock broker gets the runtimes through LD_PRELOAD.
  export ASAN_OPTIONS=detect_leaks=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  RCPT_BROKER_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
  export RCPT_BROKER_PRELOAD
else
  build=${build:-build}
  [ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
fi
ninja -C "$build" >/dev/null || fail "build failed in $build"
export RCPT_MOSQUITTO=$broker

log=$build/matrix-$version$([ "$sanitize" = 1 ] && echo -asan).log
echo "matrix: mosquitto $version ($broker), build $build$([ "$sanitize" = 1 ] && echo ', sanitizers')" | tee "$log"
status=0
run() {
  meson test -C "$build" --verbose --print-errorlogs "$@" >>"$log" 2>&1 || status=1
}

# CK_RUN_SUITE names one suite, so a subset is one run per suite. Check runs
# nothing, and passes, for a name it does not know: refuse typos here.
if [ -n "$suites" ]; then
  known=$(sed -n 's/.*suite_create("\([a-z_]*\)").*/\1/p' tests/integration/*.c)
  for s in ${suites//,/ }; do
    grep -qx "$s" <<<"$known" || fail "no integration suite '$s' (there are: $(echo $known))"
  done
  for s in ${suites//,/ }; do CK_RUN_SUITE=$s run integration; done
else
  run integration
fi
others=()
if [ "$interop" = 1 ]; then
  # Every test of the interop suite, but the .deb test in the sanitizer
  # variant: the package holds its own uninstrumented build of the plugin.
  while read -r name; do
    [ "$sanitize" = 1 ] && [ "$name" = deb ] && continue
    others+=("$name")
  done < <(meson test -C "$build" --list 2>/dev/null | sed -n 's/^[^ ]*:interop \/ //p')
fi
[ "$soak" = 1 ] && others+=(soak)
[ ${#others[@]} -eq 0 ] || run "${others[@]}"

# The failures and sanitizer reports, then the tally.
grep -E "runtime error|Sanitizer|:F:|:E:|: Failed: |: Error: |^run.sh: .*FAIL" "$log" | head -40
summary=$(scripts/count-checks.sh "$log")
echo "$summary"
[ "$status" -eq 0 ] || exit 1
case "$summary" in *", 0 failed") exit 0 ;; *) exit 1 ;; esac
