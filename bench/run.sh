#!/usr/bin/env bash
# The mosquitto-receipts benchmark, in one command.
#
#   bench/run.sh [--quick] [--runs N] [--duration S] [--scenarios rr,pass,scale,persist,hostile,bridge]
#                [--scale-count N] [--deadline S] [--persist-count N] [--collide-count N]
#                [--fanout-count N] [--cancel-count N] [--plugin-opt "NAME VALUE"]...
#                [--build DIR] [--mosquitto PATH] [--no-nats] [--keep]
#
# Starts its own brokers on free 127.0.0.1 ports (mosquitto with the plugin,
# mosquitto without it, nats-server), runs the matrix, stops them by PID, and
# prints one "BENCH {json}" line per measurement and then the table. Every
# target is a ratio of plugin to no plugin measured in the same run; figures
# are the median and [min..max] over --runs runs.
#
#   --quick          a short smoke run (CI): the round trips for ~2 s and the hostile
#                    scenario at small counts, one run; exits 0 when it ran and every
#                    request got exactly one answer, whatever the ratios
#   --runs N         runs per measurement (default 3)
#   --duration S     measured seconds per round-trip cell (default 3)
#   --scenarios L    comma-separated subset of rr,pass,scale,persist,hostile,bridge (default all)
#                    bridge: the three brokers of examples/bridged (ports and plugin path
#                    replaced), round trips edge-a -> core -> edge-b at 64 in flight, with the
#                    plugin on all three and on none (then replies bridged as ret/# both)
#   --scale-count N  pending requests in the scale scenario (default 1000000)
#   --deadline S     scale: seconds from the start of the fill to the common deadline (default 25)
#   --persist-count N  pending requests in the persistence scenario (default 100000)
#   --collide-count N  hostile: pending requests per correlation kind (default 40000)
#   --fanout-count N   hostile: subscribers of the fan-out request (default 5000)
#   --cancel-count N   hostile: pending requests cancelled at once (default 1000000)
#   --plugin-opt "NAME VALUE"  one more plugin_opt_NAME VALUE line for every broker with
#                    the plugin (repeatable), e.g. to lift a quota the scenarios would hit
#   --build DIR      meson build directory holding bench/rcpt-bench and the plugin
#                    (default: build-bench, built when missing)
#   --mosquitto PATH the broker binary for both mosquitto brokers, with and without the plugin
#                    (default: mosquitto on PATH), e.g. a release from scripts/brokers.sh
#   --no-nats        leave NATS out
#   --keep           keep the temporary folder (broker configs and logs)
#
# Brokers run pinned to CPU 0 and clients to CPU 1 (taskset), when there are two CPUs.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
runs=3 duration=3 warmup=0.5 quick=0 scenarios="rr,pass,scale,persist,hostile,bridge" build="" nats=1 keep=0
scale_count=1000000 deadline=25 persist_count=100000 pass_count=200000 probe_s=5 MOSQUITTO=""
collide_count=40000 fanout_count=5000 cancel_count=1000000 extra_opts=()

while [ $# -gt 0 ]; do
	case "$1" in
		--quick) quick=1 ;;
		--runs) runs=$2; shift ;;
		--duration) duration=$2; shift ;;
		--scenarios) scenarios=$2; shift ;;
		--scale-count) scale_count=$2; shift ;;
		--deadline) deadline=$2; shift ;;
		--persist-count) persist_count=$2; shift ;;
		--collide-count) collide_count=$2; shift ;;
		--fanout-count) fanout_count=$2; shift ;;
		--cancel-count) cancel_count=$2; shift ;;
		--plugin-opt) extra_opts+=("plugin_opt_$2"); shift ;;
		--build) build=$2; shift ;;
		--mosquitto) MOSQUITTO=$2; shift ;;
		--no-nats) nats=0 ;;
		--keep) keep=1 ;;
		-h|--help) sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		*) echo "run.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
if [ "$quick" = 1 ]; then
	scenarios=rr,hostile runs=1 duration=0.1 warmup=0.05
	collide_count=4000 fanout_count=500 cancel_count=20000
fi
has() { case ",$scenarios," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

# --- the build ------------------------------------------------------------
if [ -z "$build" ]; then
	build="$ROOT/build-bench"
	if [ ! -f "$build/build.ninja" ]; then
		meson setup "$build" "$ROOT" >/dev/null || { echo "run.sh: meson setup failed" >&2; exit 2; }
	fi
fi
ninja -C "$build" >/dev/null || { echo "run.sh: build failed in $build" >&2; exit 2; }
BENCH="$build/bench/rcpt-bench"
PLUGIN="$build/plugin/mosquitto_receipts.so"
for f in "$BENCH" "$PLUGIN"; do
	[ -e "$f" ] || { echo "run.sh: $f missing" >&2; exit 2; }
done
# One binary for every mosquitto of the run, so that the plugin's cost is
# measured against the same release without it.
if [ -z "$MOSQUITTO" ]; then
	MOSQUITTO=$(PATH="$PATH:/usr/sbin:/usr/local/sbin" command -v mosquitto) \
		|| { echo "run.sh: mosquitto not installed" >&2; exit 2; }
fi
[ -x "$MOSQUITTO" ] || { echo "run.sh: $MOSQUITTO is not an executable" >&2; exit 2; }
# The NATS peer comes from Debian's packages; the smoke run does without.
if [ "$nats" = 1 ] && [ "$quick" = 0 ] && { ! command -v nats-server >/dev/null || ! pkg-config --exists libnats; }; then
	sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get install -y -qq --no-install-recommends nats-server libnats-dev >/dev/null 2>&1 \
		&& meson setup --reconfigure "$build" "$ROOT" >/dev/null && ninja -C "$build" >/dev/null
fi
if [ "$nats" = 1 ] && ! command -v nats-server >/dev/null; then
	echo "run.sh: nats-server not installed: NATS left out" >&2
	nats=0
fi
if [ "$nats" = 1 ] && [ "$("$BENCH" nats-rr --duration 0 >/dev/null 2>&1; echo $?)" = 3 ]; then
	echo "run.sh: rcpt-bench built without libnats: NATS left out" >&2
	nats=0
fi

# Brokers on CPU 0, clients on CPU 1: runs on 2 shared vCPUs drift 5-25%
# unpinned, under ~3% pinned.
PIN_BROKER=() PIN_CLIENT=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	PIN_BROKER=(taskset -c 0) PIN_CLIENT=(taskset -c 1)
fi

tmp=$(mktemp -d /tmp/rcpt-bench.XXXXXX)
results="$tmp/results.txt"
: >"$results"
pids=()
failed=0

stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
cleanup() {
	local pid
	for pid in "${pids[@]}"; do stop_pid "$pid"; done
	pids=()
	if [ "$keep" = 1 ]; then echo "run.sh: configs and logs kept in $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_mosquitto NAME [config lines...]: sets PORT and PID.
start_mosquitto() {
	local name=$1
	shift
	PORT=$("$BENCH" freeport)
	{
		echo "listener $PORT 127.0.0.1"
		echo "allow_anonymous true"
		# Request/reply needs Nagle off on both sides (the clients set TCP_NODELAY).
		echo "set_tcp_nodelay true"
		echo "persistence false"
		# Stay root when started as root, so the plugin can write its state file in $tmp.
		echo "user root"
		echo "log_dest stderr"
		printf '%s\n' "$@"
	} >"$tmp/$name.conf"
	"${PIN_BROKER[@]}" "$MOSQUITTO" -c "$tmp/$name.conf" >"$tmp/$name.log" 2>&1 &
	PID=$!
	pids+=("$PID")
	if ! "$BENCH" waitport "$PORT" 5000; then
		echo "run.sh: broker $name did not start; its log:" >&2
		cat "$tmp/$name.log" >&2
		exit 2
	fi
}
start_nats() {
	PORT=$("$BENCH" freeport)
	"${PIN_BROKER[@]}" nats-server -a 127.0.0.1 -p "$PORT" >"$tmp/nats.log" 2>&1 &
	PID=$!
	pids+=("$PID")
	"$BENCH" waitport "$PORT" 5000 || { cat "$tmp/nats.log" >&2; exit 2; }
}
stop_broker() {
	local pid=$1 p keep_pids=()
	stop_pid "$pid"
	for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep_pids+=("$p"); done
	pids=("${keep_pids[@]}")
}

# measure ARGS...: runs one cell pinned to the client CPU; its BENCH line goes
# to the results and the screen; a failed check marks the whole run failed.
measure() {
	local out rc
	out=$("${PIN_CLIENT[@]}" "$BENCH" "$@")
	rc=$?
	[ -n "$out" ] && echo "$out" | tee -a "$results"
	if [ $rc -ne 0 ]; then
		echo "run.sh: FAILED (exit $rc): rcpt-bench $*" >&2
		failed=1
	fi
}

echo "# mosquitto-receipts benchmark: $(date -u +%FT%TZ), $(nproc) CPUs, $("$MOSQUITTO" -h 2>/dev/null | head -1) ($MOSQUITTO)," \
	"$( [ "$nats" = 1 ] && nats-server --version)"
echo "# runs $runs, ${duration}s per round-trip cell, scenarios $scenarios," \
	"pinning: ${PIN_BROKER[*]:-none} (brokers) ${PIN_CLIENT[*]:-none} (clients)"

PLUGIN_LINES=("plugin $PLUGIN" "${extra_opts[@]}")

# --- scenarios 1 and 2: one broker of each kind for all their runs -------------
if has rr || has pass; then
	start_mosquitto plain
	PORT_PLAIN=$PORT PID_PLAIN=$PID
	start_mosquitto plugin "${PLUGIN_LINES[@]}"
	PORT_PLUGIN=$PORT PID_PLUGIN=$PID
	if [ "$nats" = 1 ] && has rr; then
		start_nats
		PORT_NATS=$PORT PID_NATS=$PID
	fi
	for run in $(seq "$runs"); do
		# Alternate which broker goes first, so neither always gets the warmer machine.
		if [ $((run % 2)) = 1 ]; then order="plain plugin"; else order="plugin plain"; fi
		if has rr; then
			for cell in "1 1 1" "1 1 64" "8 4 64"; do
				set -- $cell
				common=(--run "$run" --requesters "$1" --responders "$2" --inflight "$3"
					--duration "$duration" --warmup "$warmup")
				for qos in 0 1; do
					for mode in $order; do
						if [ "$mode" = plain ]; then port=$PORT_PLAIN pid=$PID_PLAIN; else port=$PORT_PLUGIN pid=$PID_PLUGIN; fi
						measure rr --mode "$mode" --port "$port" --broker-pid "$pid" --qos "$qos" "${common[@]}"
					done
				done
				if [ "$nats" = 1 ]; then
					measure nats-rr --mode nats --port "$PORT_NATS" --broker-pid "$PID_NATS" "${common[@]}"
				fi
			done
		fi
		if has pass; then
			for mode in $order; do
				if [ "$mode" = plain ]; then port=$PORT_PLAIN pid=$PID_PLAIN; else port=$PORT_PLUGIN pid=$PID_PLUGIN; fi
				measure pass --mode "$mode" --port "$port" --broker-pid "$pid" --run "$run" --count "$pass_count"
			done
		fi
	done
	stop_broker "$PID_PLAIN"
	stop_broker "$PID_PLUGIN"
	[ -n "${PID_NATS:-}" ] && stop_broker "$PID_NATS"
fi

# --- scenario 3: a fresh broker per run, so that memory starts from the same place
if has scale; then
	for run in $(seq "$runs"); do
		start_mosquitto "scale$run" "${PLUGIN_LINES[@]}" \
			"plugin_opt_max_pending 2000000" "plugin_opt_max_pending_per_client 2000000"
		measure scale --mode plugin --port "$PORT" --broker-pid "$PID" --run "$run" \
			--count "$scale_count" --connections 4 --deadline "$deadline"
		stop_broker "$PID"
	done
fi

# --- scenario 4: state file saved every second, against none ---------------
if has persist; then
	for run in $(seq "$runs"); do
		for mode in state nostate; do
			lines=("${PLUGIN_LINES[@]}" "plugin_opt_max_pending_per_client 1000000" "plugin_opt_save_interval_s 1")
			if [ "$mode" = state ]; then
				mkdir -p "$tmp/state$run"
				lines+=("plugin_opt_state_file $tmp/state$run/receipts.state")
			fi
			start_mosquitto "persist-$mode$run" "${lines[@]}"
			measure persist --mode "$mode" --port "$PORT" --broker-pid "$PID" --run "$run" \
				--count "$persist_count" --connections 1 --probe "$probe_s"
			stop_broker "$PID"
			if [ "$mode" = state ] && [ ! -s "$tmp/state$run/receipts.state" ]; then
				echo "run.sh: FAILED: no state file was written in $tmp/state$run" >&2
				failed=1
			fi
		done
	done
fi

# --- scenario 5: hostile clients, a fresh broker per measurement -------------
if has hostile; then
	# The fan-out's subscribers each hold a descriptor in the broker and in the
	# client; both inherit this shell's limit.
	need_fds=$((fanout_count + 1024))
	if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need_fds" ]; then
		ulimit -n "$need_fds" 2>/dev/null \
			|| { echo "run.sh: hostile needs $need_fds open files (ulimit -n is $(ulimit -n))" >&2; exit 2; }
	fi
	# Quotas out of the way: these measure the table, not the limits.
	QUOTA_LINES=("plugin_opt_max_pending 2000000" "plugin_opt_max_pending_per_client 2000000")
	for run in $(seq "$runs"); do
		if [ $((run % 2)) = 1 ]; then order="plain plugin" corrs="random crafted"
		else order="plugin plain" corrs="crafted random"; fi
		# 1. Hash flooding: correlations crafted to collide against random ones.
		for corr in $corrs; do
			start_mosquitto "collide-$corr$run" "${PLUGIN_LINES[@]}" "${QUOTA_LINES[@]}"
			measure hostile-collide --mode plugin --corr "$corr" --port "$PORT" --broker-pid "$PID" --run "$run" \
				--count "$collide_count" --connections 4
			stop_broker "$PID"
		done
		# 2. Fan-out: one request to many subscribers and their disconnects, with and without the plugin.
		for mode in $order; do
			if [ "$mode" = plugin ]; then start_mosquitto "fanout-$mode$run" "${PLUGIN_LINES[@]}"
			else start_mosquitto "fanout-$mode$run"; fi
			measure hostile-fanout --mode "$mode" --port "$PORT" --broker-pid "$PID" --run "$run" \
				--count "$fanout_count"
			stop_broker "$PID"
		done
		# 3 and 4. Memory per pending request, then all of them cancelled by one
		# control command. The control user is whoever connects with its name:
		# fine on a loopback broker of the benchmark's own, never elsewhere.
		# max_queued_messages 0: a cancellation's receipts are never dropped
		# for a full queue, so every one can be counted.
		start_mosquitto "cancel$run" "${PLUGIN_LINES[@]}" "${QUOTA_LINES[@]}" \
			"plugin_opt_control_users bench-control" "max_queued_messages 0"
		measure hostile-cancel --mode plugin --user bench-control --port "$PORT" --broker-pid "$PID" --run "$run" \
			--count "$cancel_count" --connections 4
		stop_broker "$PID"
	done
fi

# --- scenario 6: a bridged network, the plugin on all three brokers or none --
# start_bridged MODE: the brokers of examples/bridged on free ports; sets
# BR_A (edge-a's port), BR_B (edge-b's), BR_CORE_PID. Without the plugin the
# edges bridge every return topic both ways, as a network without it would.
start_bridged() {
	local mode=$1 name i port conf pid
	local -a ports=("$("$BENCH" freeport)" "$("$BENCH" freeport)" "$("$BENCH" freeport)")
	local -a names=(core edge-a edge-b)
	for i in 0 1 2; do
		name=${names[$i]}
		conf="$tmp/bridge-$mode-$name.conf"
		sed -e "s/18830/${ports[0]}/g; s/18831/${ports[1]}/g; s/18832/${ports[2]}/g" \
			-e "s|/usr/lib/x86_64-linux-gnu/mosquitto_receipts.so|$PLUGIN|" \
			-e "s|examples/bridged/|$ROOT/examples/bridged/|" "$ROOT/examples/bridged/$name.conf" >"$conf"
		if [ "$mode" = plain ]; then
			sed -i -e '/^plugin/d' -e 's|^topic ret/@.*# in 1$|topic ret/# both 1|' -e '/^topic ret\/@.*# out 1$/d' "$conf"
		fi
		printf '%s\n' "persistence false" "user root" "log_dest stderr" \
			"log_type error" "log_type warning" "log_type notice" "log_type subscribe" >>"$conf"
		"${PIN_BROKER[@]}" "$MOSQUITTO" -c "$conf" >"$tmp/bridge-$mode-$name.log" 2>&1 &
		pid=$!
		pids+=("$pid")
		[ "$i" = 0 ] && BR_CORE_PID=$pid
		"$BENCH" waitport "${ports[$i]}" 5000 || { cat "$tmp/bridge-$mode-$name.log" >&2; exit 2; }
	done
	BR_A=${ports[1]} BR_B=${ports[2]}
	# Both bridges have subscribed on the core.
	for i in $(seq 100); do
		[ "$(grep -c ' bridge-edge-[ab] [0-9] ' "$tmp/bridge-$mode-core.log")" -ge 4 ] && return 0
		sleep 0.1
	done
	echo "run.sh: the bridges of the $mode network did not come up" >&2
	cat "$tmp/bridge-$mode-core.log" >&2
	exit 2
}
if has bridge; then
	start_bridged plain
	PLAIN_A=$BR_A PLAIN_B=$BR_B PLAIN_PID=$BR_CORE_PID
	start_bridged plugin
	PLUGIN_A=$BR_A PLUGIN_B=$BR_B PLUGIN_PID=$BR_CORE_PID
	for run in $(seq "$runs"); do
		if [ $((run % 2)) = 1 ]; then order="plain plugin"; else order="plugin plain"; fi
		for qos in 0 1; do
			for mode in $order; do
				if [ "$mode" = plain ]; then a=$PLAIN_A b=$PLAIN_B pid=$PLAIN_PID
				else a=$PLUGIN_A b=$PLUGIN_B pid=$PLUGIN_PID; fi
				measure rr --mode "$mode" --port "$a" --responder-port "$b" --broker-pid "$pid" --qos "$qos" \
					--run "$run" --requesters 1 --responders 1 --inflight 64 --duration "$duration" --warmup "$warmup"
			done
		done
	done
fi

echo
"$BENCH" report "$results"
rc=$?
# One line for CI's tally: each measurement is one check (it ran, and every
# request got exactly one answer). Missed targets are reported, not failed.
measured=$(grep -c '^BENCH ' "$results" 2>/dev/null || echo 0)
if [ $failed -ne 0 ] || [ $rc -ne 0 ]; then
	echo "run.sh: FAILED: a measurement did not run or its check did not hold (see above)" >&2
	echo "$measured passed, 1 failed"
	exit 1
fi
echo "$measured passed, 0 failed"
exit 0
