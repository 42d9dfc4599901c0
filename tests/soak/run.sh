#!/usr/bin/env bash
# The soak, in one command: starts mosquitto with the built plugin on a free
# 127.0.0.1 port, runs `soak` against it, stops the broker by PID.
#
#   tests/soak/run.sh [--build DIR] [--soak PATH] [--plugin PATH] [--mosquitto PATH] [--keep]
#                     [--requests N] [--seconds S] [--seed X] [--verbose]
#
#   --build DIR      meson build directory holding tests/soak/soak and the plugin (default: build)
#   --soak, --plugin the two files directly (meson test passes these)
#   --mosquitto PATH the broker (default: $RCPT_MOSQUITTO, else mosquitto on PATH), so
#                    that `meson test soak` runs the broker the version matrix chose
#   --keep           keep the broker's config and log
#   the rest goes to soak: --requests (default 20000), --seconds (time cap, default 600), --seed
#
# CI (meson test soak) runs 20,000 requests. The documented long run:
#   tests/soak/run.sh --build build --requests 1000000 --seconds 1800
# Exit status: soak's (0 when every invariant held). The last line of the
# output is soak's Check-style summary.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
build="$ROOT/build" soak="" plugin="" mosquitto="" keep=0 soak_args=()
while [ $# -gt 0 ]; do
	case "$1" in
		--build) build=$2; shift ;;
		--soak) soak=$2; shift ;;
		--plugin) plugin=$2; shift ;;
		--mosquitto) mosquitto=$2; shift ;;
		--keep) keep=1 ;;
		--requests|--seconds|--seed) soak_args+=("$1" "$2"); shift ;;
		--verbose) soak_args+=("$1") ;;
		-h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		*) echo "run.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
soak=${soak:-$build/tests/soak/soak}
plugin=${plugin:-$build/plugin/mosquitto_receipts.so}
mosquitto=${mosquitto:-${RCPT_MOSQUITTO:-}}
if [ -z "$mosquitto" ]; then
	mosquitto=$(PATH="$PATH:/usr/sbin:/usr/local/sbin" command -v mosquitto) \
		|| { echo "run.sh: mosquitto not installed" >&2; exit 2; }
fi
for f in "$soak" "$plugin" "$mosquitto"; do
	[ -e "$f" ] || { echo "run.sh: $f missing (build first: ninja -C $build)" >&2; exit 2; }
done

# Which release ran, in the test log (the version matrix runs several).
echo "run.sh: broker $mosquitto ($("$mosquitto" -h 2>/dev/null | head -n 1))"

tmp=$(mktemp -d /tmp/rcpt-soak.XXXXXX)
pid=""
stop_broker() {
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	local i
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05   # poll interval: at most 100 polls, then SIGKILL
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=""
}
cleanup() {
	stop_broker
	if [ "$keep" = 1 ]; then echo "run.sh: config and log kept in $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port the kernel just handed out and released: free unless something
# grabs it in the next moment, which on loopback in a test is rare.
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') \
	|| { echo "run.sh: cannot find a free port" >&2; exit 2; }
conf="$tmp/mosquitto.conf" log="$tmp/mosquitto.log"
{
	echo "listener $port 127.0.0.1"
	# The control user `admin` is claimed without a password: acceptable
	# on a loopback test broker only (README says why).
	echo "allow_anonymous true"
	# Request/reply needs Nagle off on both sides (the clients set TCP_NODELAY).
	echo "set_tcp_nodelay true"
	echo "persistence false"
	# Started as root, mosquitto would drop to `mosquitto`, which may not
	# read a plugin in a build tree.
	[ "$(id -u)" = 0 ] && echo "user root"
	echo "log_dest stderr"
	echo "plugin $plugin"
	echo "plugin_opt_control_users admin"
} >"$conf"
# A plugin built with sanitizers needs their runtime loaded first into a
# broker that was not (scripts/sanitize.sh sets RCPT_BROKER_PRELOAD).
LD_PRELOAD="${RCPT_BROKER_PRELOAD:-}" "$mosquitto" -c "$conf" >"$log" 2>&1 &
pid=$!

# Ready when the broker says so in its log (or gone when it says why).
for i in $(seq 200); do
	grep -q ' running$' "$log" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.025   # poll interval: at most 200 polls (the start-up deadline)
done
if ! grep -q ' running$' "$log"; then
	echo "run.sh: the broker did not start; its log:" >&2
	cat "$log" >&2
	exit 2
fi

"$soak" --port "$port" --broker-pid "$pid" --broker-log "$log" "${soak_args[@]}"
rc=$?
stop_broker
# Under sanitizers the broker's stderr is its log: any report fails the run.
if grep -q 'Sanitizer' "$log"; then
	echo "run.sh: the broker log has a sanitizer report:" >&2
	grep -A30 'Sanitizer' "$log" | head -60 >&2
	echo "100%: Checks: 1, Failures: 1, Errors: 0"
	rc=1
fi
if [ "$rc" != 0 ]; then
	echo "run.sh: soak failed (exit $rc); broker log tail:" >&2
	tail -n 20 "$log" >&2
fi
exit "$rc"
