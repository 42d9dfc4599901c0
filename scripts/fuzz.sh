#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer into build-fuzz/ and runs each for SECONDS
# (default 30) from its seed corpus in tests/fuzz/corpus/. New inputs go to a
# scratch directory, never into the repository. A crash leaves its input in
# build-fuzz/crashes/. Ends with "N passed, N failed", one per target.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(requests control config state names)

if ! command -v clang >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q 'ok installed'; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
./scripts/setup.sh --packages-only >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzzing=true -Dtests=disabled \
  -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
ninja -C build-fuzz >/dev/null || { echo "0 passed, 1 failed"; exit 1; }

mkdir -p build-fuzz/crashes
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
passed=0 failed=0
for t in "${targets[@]}"; do
  scratch=$(mktemp -d)
  if ./build-fuzz/tests/fuzz/fuzz_"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix=build-fuzz/crashes/"$t"- "$scratch" tests/fuzz/corpus/"$t" > build-fuzz/fuzz-"$t".log 2>&1; then
    echo "fuzz $t: $(grep -Eo 'Done [0-9]+ runs' build-fuzz/fuzz-"$t".log | tail -1) in ${seconds}s, no crash"
    passed=$((passed + 1))
  else
    echo "fuzz $t: FAILED, see build-fuzz/fuzz-$t.log and build-fuzz/crashes/"
    grep -E "ERROR|SUMMARY" build-fuzz/fuzz-"$t".log | head -5
    failed=$((failed + 1))
  fi
  rm -rf "$scratch"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
