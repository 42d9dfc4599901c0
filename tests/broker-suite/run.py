#!/usr/bin/python3
# Runs Mosquitto's own broker tests (test/broker of the release archive) in two
# prepared trees, one whose src/mosquitto runs the broker plain and one that
# loads our plugin, and compares: the plugin must change no test's outcome.
# scripts/broker-suite.sh prepares the trees and calls this; see its header.
#
# Why not the suite's own test.py/ptest.py: it runs one tree with fixed ports
# from 1888 (the two modes must run side by side on distinct ports), has no
# timeout, and stops at a missing test file.
import argparse
import fnmatch
import json
import os
import re
import shutil
import select
import signal
import socket
import subprocess
import sys
import time

MODES = ("plain", "plugin")
# The CI subset (--quick): where the plugin's decisions (ACLs, retained
# messages, auth plugins, dynamic-security) and its MESSAGE handling meet.
QUICK = ["02-subpub-*", "04-retain-*", "09-*", "14-dynsec-*"]


def read_test_list(test_py):
    # test.py lists each test as `(ports, './name.py'),`. Its one commented-out
    # entry (03-publish-qos1-queued-bytes.py) is part of the release's 192
    # tests too: it is run, and listed as an expected failure.
    tests = []
    with open(test_py) as f:
        for line in f:
            m = re.match(r"\s*#?\s*\((\d+),\s*'\./([^']+\.py)'\)", line)
            if m:
                tests.append((m.group(2), int(m.group(1))))
    return tests


def read_expected(path):
    # "<test> <reason>" per line; lines starting with # are comments.
    expected = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                expected[name] = reason.strip()
    return expected


def selected(name, quick, only):
    if only:
        return any(fnmatch.fnmatch(name, p if any(c in p for c in "*?[") else "*%s*" % p)
                   for p in only)
    if quick:
        return any(fnmatch.fnmatch(name, p) for p in QUICK)
    return True


class Ports:
    # Distinct ports for tests running at the same time, taken in turn from a
    # range (a port is not reused while a test holds it), skipping any port
    # that something else on this machine holds: the tests connect to
    # "localhost", so both 127.0.0.1 and ::1 must be free.
    def __init__(self, base, span):
        self.base, self.span, self.next, self.held = base, span, 0, set()
        self.families = [(socket.AF_INET, "127.0.0.1")]
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
            self.families.append((socket.AF_INET6, "::1"))
        except OSError:
            pass

    def free(self, port):
        for family, addr in self.families:
            try:
                with socket.socket(family) as s:
                    s.bind((addr, port))
            except OSError:
                return False
        return True

    def take(self, count):
        got = []
        for _ in range(self.span):
            port = self.base + self.next
            self.next = (self.next + 1) % self.span
            if port not in self.held and self.free(port):
                got.append(port)
                self.held.add(port)
                if len(got) == count:
                    return got
        self.give(got)
        return None

    def give(self, ports):
        self.held.difference_update(ports)


def wait_for_any(running, timeout):
    # Blocks until one of the running tests exits (its pidfd turns readable)
    # or the nearest deadline among them passes, whichever comes first.
    if not running:
        return
    wait = max(0.0, min(r.began + timeout for r in running) - time.monotonic())
    fds = []
    try:
        for r in running:
            try:
                fds.append(os.pidfd_open(r.proc.pid))
            except ProcessLookupError:
                return  # already gone: the caller's poll will see it
        select.select(fds, [], [], wait)
    finally:
        for fd in fds:
            os.close(fd)


class Run:
    # One test in one mode: a process group with a deadline.
    def __init__(self, name, nports, mode, attempt, tree, logdir):
        self.name, self.nports, self.mode, self.attempt = name, nports, mode, attempt
        self.cwd = os.path.join(tree, "test", "broker")
        suffix = ".log" if attempt == 1 else ".run%d.log" % attempt
        self.log = os.path.join(logdir, mode, name.replace(".py", suffix))
        self.proc = None
        self.ports = []
        self.outcome = None   # "pass" or "fail"
        self.detail = ""
        self.seconds = 0.0

    def start(self, ports, env, user):
        self.ports = ports
        self.began = time.monotonic()
        os.makedirs(os.path.dirname(self.log), exist_ok=True)
        path = os.path.join(self.cwd, self.name)
        if not os.path.exists(path):
            # A test that test.py lists but the release does not ship.
            self.outcome, self.detail = "fail", "no such file"
            with open(self.log, "w") as f:
                f.write("%s: no such file in the release\n" % path)
            return False
        with open(self.log, "w") as log:
            # Own session: the test and every broker it started form one
            # process group, killed as a whole at the end (a test that dies
            # early can leave its broker running on its port).
            as_user = {"user": user, "group": user, "extra_groups": []} if user else {}
            self.proc = subprocess.Popen(
                ["/usr/bin/python3", self.name] + [str(p) for p in ports],
                cwd=self.cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True, **as_user)
        return True

    def kill_group(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def poll(self, timeout):
        if self.proc.poll() is None:
            if time.monotonic() - self.began < timeout:
                return False
            self.kill_group()
            self.proc.wait()
            self.outcome, self.detail = "fail", "timed out after %ds" % timeout
        else:
            rc = self.proc.returncode
            self.outcome = "pass" if rc == 0 else "fail"
            self.detail = "" if rc == 0 else "exit %d" % rc
        self.kill_group()
        self.seconds = time.monotonic() - self.began
        return True


def verdict(name, pair, expected):
    plain, plugin = pair["plain"].outcome, pair["plugin"].outcome
    if plain == "pass" and name in expected:
        return False, "listed in expected-failures.txt but passes plain: update the list"
    if plain == "fail" and name not in expected:
        return False, "fails plain and is not in expected-failures.txt"
    if plain != plugin:
        return False, "fails only with the plugin" if plugin == "fail" else "passes only with the plugin"
    return True, "expected failure: " + expected[name] if plain == "fail" else ""


def describe(r):
    return "%s %s%.1fs" % (r.outcome, r.detail + " " if r.detail else "", r.seconds)


def retry_trees(args, trees):
    # A test's next run goes to a fresh copy of the tree: a run killed at its
    # timeout leaves its persistence files behind, which would fail it again.
    # One copy per attempt number, so that a test runs once in each.
    made = {}

    def tree(mode, attempt):
        if (mode, attempt) not in made:
            path = "%s-run%d" % (trees[mode].rstrip("/"), attempt)
            shutil.rmtree(path, ignore_errors=True)
            subprocess.run(["cp", "-a", args.pristine, path], check=True)
            shutil.copy2(os.path.join(trees[mode], "src", "mosquitto.standin"),
                         os.path.join(path, "src", "mosquitto.standin"))
            made[(mode, attempt)] = path
        return made[(mode, attempt)]
    return tree


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pristine", required=True, help="an unused tree, copied for runs again")
    p.add_argument("--tree-plain", required=True)
    p.add_argument("--tree-plugin", required=True)
    p.add_argument("--expected", required=True)
    p.add_argument("--logs", required=True)
    p.add_argument("--durations", required=True, help="JSON file of the last run's times")
    p.add_argument("--user", help="run the tests (and so the brokers) as this user")
    p.add_argument("--jobs", type=int, default=8)
    p.add_argument("--timeout", type=int, default=300)
    p.add_argument("--retries", type=int, default=1)
    p.add_argument("--port-base", type=int, default=20000)
    p.add_argument("--port-span", type=int, default=4000)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", action="append", default=[])
    args = p.parse_args()

    trees = {"plain": args.tree_plain, "plugin": args.tree_plugin}
    tests = read_test_list(os.path.join(args.pristine, "test", "broker", "test.py"))
    expected = read_expected(args.expected)
    unknown = sorted(set(expected) - {n for n, _ in tests})
    work = [(n, c) for n, c in tests if selected(n, args.quick, args.only)]
    durations = {}
    if os.path.exists(args.durations):
        with open(args.durations) as f:
            durations = json.load(f)
    # The tests start their helpers through "#!/usr/bin/env python3": Debian's
    # interpreter first (not a pyenv python3 that may come first on PATH).
    env = dict(os.environ, PATH="/usr/bin:/bin:" + os.environ.get("PATH", ""))
    if args.user:
        env["HOME"] = "/tmp"
    tree_for = retry_trees(args, trees)

    print("broker suite: %d tests x 2 modes, %d at a time, timeout %ds"
          % (len(work), args.jobs, args.timeout), flush=True)
    started = time.monotonic()
    # Longest first (by the last run's times), so that the slowest test
    # (06-bridge-clean-session.py, ~135 s) does not start last.
    order = sorted(work, key=lambda w: -durations.get(w[0], 1000.0))
    queue = [Run(n, c, m, 1, trees[m], args.logs) for n, c in order for m in MODES]
    ports = Ports(args.port_base, args.port_span)
    running, later, halves, results, earlier = [], [], {}, {}, {}
    # Interrupted (Ctrl-C, or SIGTERM from CI): no test or broker outlives us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        # At most args.jobs test processes at once; a test's verdict as soon
        # as both its modes have finished.
        while queue or running or later:
            while queue and len(running) < args.jobs:
                got = ports.take(queue[0].nports)
                if got is None:
                    break
                r = queue.pop(0)
                if r.start(got, env, args.user):
                    running.append(r)
                else:
                    ports.give(got)
                    halves.setdefault(r.name, {})[r.mode] = r
            for r in list(running):
                if r.poll(args.timeout):
                    running.remove(r)
                    ports.give(r.ports)
                    halves.setdefault(r.name, {})[r.mode] = r
            for name in [n for n, pair in halves.items() if len(pair) == 2]:
                pair = halves.pop(name)
                attempt = pair["plain"].attempt
                ok, why = verdict(name, pair, expected)
                durations[name] = max(r.seconds for r in pair.values())
                again = not ok and attempt <= args.retries
                print(("%-4s %-48s plain: %-22s plugin: %-22s %s%s%s" % (
                    "ok" if ok else "FAIL", name, describe(pair["plain"]), describe(pair["plugin"]),
                    why, " (run %d)" % attempt if attempt > 1 else "",
                    "; running it again" if again else "")).rstrip(), flush=True)
                if again:
                    # Once more, both modes, after all the others: the suite
                    # has timing-dependent tests (06-bridge-clean-session.py
                    # above all) that can fail under the load of the full run.
                    earlier[name] = why
                    later += [Run(name, pair["plain"].nports, m, attempt + 1,
                                  tree_for(m, attempt + 1), args.logs) for m in MODES]
                else:
                    results[name] = (ok, why)
            if not queue and not running and later:
                queue, later = sorted(later, key=lambda r: -durations.get(r.name, 0.0)), []
                print("--- running again: " + " ".join(r.name for r in queue[::2]), flush=True)
            wait_for_any(running, args.timeout)
    finally:
        for r in running:
            r.kill_group()
    elapsed = time.monotonic() - started
    with open(args.durations, "w") as f:
        json.dump(durations, f, indent=0, sort_keys=True)

    failed = sorted(n for n, (ok, _) in results.items() if not ok)
    plugin_only = [n for n in failed if results[n][1] == "fails only with the plugin"]
    print("\nbroker suite: %.0f s for %d tests" % (elapsed, len(work)))
    flaky = sorted(n for n in earlier if results[n][0])
    if flaky:
        print("passed only when run again (%d): %s" % (len(flaky), " ".join(flaky)))
    if unknown:
        print("expected-failures.txt names tests the suite does not have: " + " ".join(unknown))
    print("fail only with the plugin (%d):%s" % (
        len(plugin_only), "".join("\n  " + n for n in plugin_only) or " none"))
    others = [n for n in failed if n not in plugin_only]
    if others:
        print("other failures (%d):" % len(others))
        for n in others:
            print("  %s: %s" % (n, results[n][1]))
    if failed:
        print("logs: %s/{plain,plugin}/<test>.log (.run2.log: run again)" % args.logs)
    print("%d passed, %d failed" % (len(results) - len(failed), len(failed) + len(unknown)))
    return 1 if failed or unknown else 0


if __name__ == "__main__":
    sys.exit(main())
