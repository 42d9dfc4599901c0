#!/usr/bin/env bash
# Runs Mosquitto 2.0.11's own broker test suite (test/broker, 192 tests)
# against Debian's /usr/sbin/mosquitto twice, plain and with our plugin loaded
# into every broker the suite starts, and compares: the plugin is a drop-in
# only if it changes no test's outcome. Debian 12, as root (the tests then run
# as the user mosquitto) or as a user who can run scripts/setup.sh.
#   scripts/broker-suite.sh [--quick] [--jobs N] [--only PATTERN]... [--timeout S] [--retries N]
#     --quick         only 02-subpub-*, 04-retain-*, 09-*, 14-dynsec-* (the CI subset)
#     --jobs N        test processes at once, both modes together (default 8;
#                     16 on 2 cores made 06-bridge-clean-session.py flaky)
#     --only PATTERN  tests matching a glob (or containing PATTERN); repeatable
#     --timeout S     seconds a test may take (default 300; the slowest takes ~135)
#     --retries N     runs again of a test that did not come out as expected (default 1)
# Prints a line per test and ends with "N passed, N failed". A test passes when
# its outcome with the plugin equals the one without AND, if it fails without
# the plugin, tests/broker-suite/expected-failures.txt lists it; a plain
# failure not in the list, or a listed test that passes plain, fails. Then it
# lists the tests that fail only with the plugin.
#
# Everything goes to build-broker-suite/ (ignored by git): the release's test/
# and include/ are unpacked there at each run from the vendor archive, never
# into tracked files. Two copies, plain/ and plugin/, so that both modes run
# side by side (tests write files of fixed names in their folder). In each,
# src/mosquitto is tests/broker-suite/mosquitto-standin.py, which execs
# Debian's broker, in plugin/ with a copy of the test's config that loads the
# plugin. Logs: build-broker-suite/logs/{plain,plugin}/<test>.log.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

version=2.0.11
sha256=be053e8ce345edc66fdd3530b08704cca0ef320733eb1e529f4cb2e2241ad7f1
out=$repo/build-broker-suite
runner_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) runner_args+=(--quick); shift ;;
    --jobs|--only|--timeout|--retries)
      [ $# -ge 2 ] || { echo "broker-suite: $1 needs a value" >&2; exit 2; }
      runner_args+=("$1" "$2"); shift 2 ;;
    *) echo "usage: $0 [--quick] [--jobs N] [--only PATTERN]... [--timeout S] [--retries N]" >&2; exit 2 ;;
  esac
done

fail() { echo "broker-suite: $*"; echo "0 passed, 1 failed"; exit 1; }

# The vendor folder: RCPT_VENDOR_DIR, else beside the repository, else /work.
vendor=${RCPT_VENDOR_DIR:-}
if [ -z "$vendor" ]; then
  vendor=$repo/../shared/vendor
  [ -d "$vendor" ] || vendor=/work/shared/vendor
fi
archive=$vendor/mosquitto-$version.tar.gz
[ -f "$archive" ] || fail "no $archive (set RCPT_VENDOR_DIR)"
echo "$sha256  $archive" | sha256sum --check --status || fail "$archive: not the expected sha256"

mkdir -p "$out"
# Builds the plugin (ninja rebuilds only what changed) and installs any
# missing package: mosquitto, gcc, make, /usr/bin/python3 come with it.
./scripts/setup.sh > "$out/setup.log" 2>&1 || fail "scripts/setup.sh failed: see $out/setup.log"
[ -f /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so ] \
  || fail "Debian's mosquitto_dynamic_security.so is missing (package mosquitto)"
# A copy of the plugin as built now: every broker of this run loads the same
# one, even if build/ is rebuilt meanwhile.
install -m 0644 build/plugin/mosquitto_receipts.so "$out/mosquitto_receipts.so" || fail "no build/plugin/mosquitto_receipts.so"

# One tree (pristine/), then a copy per mode: test/ and include/ of the
# release, the test plugins built (test/broker/c's Makefile compiles with
# -I../../../include, the unpacked include/), and what the tests expect
# beside them. pristine/ stays untouched: a test run again starts from it.
rm -rf "$out/pristine" "$out/plain" "$out/plugin" "$out"/plain-run* "$out"/plugin-run* "$out/configs"
tree=$out/pristine
mkdir -p "$tree/src" "$tree/lib" "$tree/plugins/dynamic-security" "$out/configs"
tar xzf "$archive" -C "$tree" --strip-components=1 "mosquitto-$version/test" "mosquitto-$version/include" \
  || fail "cannot unpack $archive"
# 08-tls-psk-*.test link ../../../lib/libmosquitto.so.1 and run with
# LD_LIBRARY_PATH=../../lib: Debian's client library of the same release.
ln -s /usr/lib/x86_64-linux-gnu/libmosquitto.so.1 "$tree/lib/libmosquitto.so.1"
make -C "$tree/test/broker/c" > "$out/make-test-plugins.log" 2>&1 \
  || fail "make -C test/broker/c failed: see $out/make-test-plugins.log"
# The 14-dynsec tests load ../../plugins/dynamic-security/mosquitto_dynamic_security.so.
ln -s /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so "$tree/plugins/dynamic-security/"
install -m 0755 tests/broker-suite/mosquitto-standin.py "$tree/src/mosquitto"
# As root, the tests run as the user mosquitto (the broker would drop to it
# anyway, and could then not write in the folders a root test makes: the
# 14-dynsec tests save dynamic-security.json in a <port>/ folder of their
# own), so the trees belong to that user.
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  id mosquitto > /dev/null 2>&1 || fail "no user mosquitto (package mosquitto)"
  chown -R mosquitto: "$tree" "$out/configs"
  as_user=(--user mosquitto)
fi
cp -a "$tree" "$out/plain"
cp -a "$tree" "$out/plugin"
# src/mosquitto.standin: the plugin to load (none in plain/) and where the
# modified configs go.
printf '\n%s\n' "$out/configs" > "$out/plain/src/mosquitto.standin"
printf '%s\n%s\n' "$out/mosquitto_receipts.so" "$out/configs" > "$out/plugin/src/mosquitto.standin"

rm -rf "$out/logs"
/usr/bin/python3 tests/broker-suite/run.py \
  --pristine "$out/pristine" --tree-plain "$out/plain" --tree-plugin "$out/plugin" \
  --expected tests/broker-suite/expected-failures.txt \
  --logs "$out/logs" --durations "$out/durations.json" \
  "${as_user[@]}" "${runner_args[@]}" 2>&1 | tee "$out/last-run.txt"
exit "${PIPESTATUS[0]}"
