"""Shared pieces of the interop tests.

A broker with the built plugin on a free loopback port, paho clients that
record everything that reaches them, external programs whose output lines are
read with deadlines, and a runner that prints Check's summary line so that
scripts/count-checks.sh counts these tests with the Check suites.

Paths come from meson through the environment: RCPT_PLUGIN_PATH (the built
plugin), RCPT_BUILD_DIR (the build directory, for the C examples),
RCPT_SOURCE_DIR (the source tree). RCPT_MOSQUITTO names the broker to run
(scripts/matrix.sh sets it to a release built from source); without it, the
mosquitto on PATH or in /usr/sbin.
"""

import json
import os
import queue
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

MOSQUITTO = (os.environ.get('RCPT_MOSQUITTO')
             or shutil.which('mosquitto', path=os.environ.get('PATH', '') + ':/usr/sbin:/usr/local/sbin')
             or '/usr/sbin/mosquitto')
PLUGIN = os.environ.get('RCPT_PLUGIN_PATH', '')
BUILD_DIR = os.environ.get('RCPT_BUILD_DIR', '')
SOURCE_DIR = os.environ.get('RCPT_SOURCE_DIR',
                            os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HERE = os.path.dirname(os.path.abspath(__file__))

# Long enough for any delivery on loopback, short enough for the suite.
ARRIVAL_S = 2.0
# The window that proves "nothing else arrives".
QUIET_S = 0.3
# A broker-made timeout receipt comes on the broker's ~100 ms tick.
TICK_SLACK_S = 0.3
START_TIMEOUT_S = 5.0

# The names of include/receipts.h, as clients see them.
RECEIPT = 'receipt'
REASON = 'receipt-reason'
REQUESTER = 'requester'


class CheckFailed(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def check_eq(actual, expected, what):
    if actual != expected:
        raise CheckFailed('%s: expected %r, got %r' % (what, expected, actual))


def option_names():
    """The RECEIPTS_OPT_* names of include/receipts.h."""
    with open(os.path.join(SOURCE_DIR, 'include', 'receipts.h')) as f:
        names = re.findall(r'#define RECEIPTS_OPT_\w+\s+"(\w+)"', f.read())
    check(len(names) >= 12, 'options found in receipts.h: %r' % names)
    return names


# --------------------------------------------------------------------------
# The broker

_version = []


def broker_version():
    """The release of the broker under test, as a tuple such as (2, 0, 20),
    read from `mosquitto -h` (its first line: "mosquitto version 2.0.20").
    Tests whose outcome differs between releases compare against it."""
    if not _version:
        out = subprocess.run([MOSQUITTO, '-h'], capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=10).stdout
        m = re.search(r'^mosquitto version (\d+)\.(\d+)\.(\d+)', out, re.M)
        check(m is not None, '%s -h: no "mosquitto version X.Y.Z" in %r' % (MOSQUITTO, out[:200]))
        _version.append(tuple(int(g) for g in m.groups()))
    return _version[0]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def port_accepts(port):
    with socket.socket() as s:
        return s.connect_ex(('127.0.0.1', port)) == 0


def plugin_conf(port, tmpdir, opts=(), extra='', log_type='all'):
    """The test brokers' usual configuration: loopback, anonymous, the built
    plugin, a log with every level (or the given ones)."""
    lines = ['listener %d 127.0.0.1' % port,
             'allow_anonymous true',
             # As user mosquitto the broker could not write our temp dir.
             'user root',
             'log_dest stderr',
             'log_type %s' % log_type,
             'set_tcp_nodelay true',
             'persistence_location %s/' % tmpdir,
             'plugin %s' % PLUGIN]
    lines += ['plugin_opt_%s %s' % kv for kv in opts]
    return '\n'.join(lines) + '\n' + extra


class Broker:
    """One mosquitto process with its own directory; stopped by PID."""

    def __init__(self, conf=None, opts=(), extra='', port=None, tmpdir=None, log_type='all'):
        self.dir = tmpdir or tempfile.mkdtemp(prefix='rcpt-interop-')
        self.port = port or free_port()
        if conf is None:
            conf = plugin_conf(self.port, self.dir, opts, extra, log_type)
        self.conf_path = os.path.join(self.dir, 'mosquitto.conf')
        self.log_path = os.path.join(self.dir, 'broker.log')
        with open(self.conf_path, 'w') as f:
            f.write(conf)
        log = open(self.log_path, 'ab')
        # A plugin built with sanitizers needs their runtime loaded first into
        # a broker that was not (scripts/sanitize.sh sets this).
        env = dict(os.environ)
        if env.get('RCPT_BROKER_PRELOAD'):
            env['LD_PRELOAD'] = env['RCPT_BROKER_PRELOAD']
        self.proc = subprocess.Popen([MOSQUITTO, '-c', self.conf_path], stdout=log, stderr=log,
                                     stdin=subprocess.DEVNULL, env=env)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not port_accepts(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise CheckFailed('broker on port %d did not start:\n%s' % (self.port, self.log()))
            time.sleep(0.02)  # poll interval; the deadline above bounds the wait

    def log(self):
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def log_lines(self, needle):
        return [line for line in self.log().splitlines() if needle in line]

    def wait_log(self, needle, count=1, timeout=ARRIVAL_S):
        deadline = time.monotonic() + timeout
        while len(self.log_lines(needle)) < count:
            if time.monotonic() > deadline:
                raise CheckFailed('broker log: %d x %r not seen in %.1f s' % (count, needle, timeout))
            time.sleep(0.02)  # poll interval; the deadline above bounds the wait

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # Under sanitizers the broker's stderr is its log: a report there,
        # a leak at exit included, is a failure.
        if 'Sanitizer' in self.log():
            raise CheckFailed('the broker log has a sanitizer report:\n%s' % self.log())

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------
# Messages, as every client here reports them

class Msg:
    """topic, payload (bytes), qos, retain, response_topic, correlation
    (bytes or None) and user properties (list of (name, value))."""

    def __init__(self, topic, payload, qos=0, retain=False, response_topic=None, correlation=None,
                 user=()):
        self.topic, self.payload, self.qos, self.retain = topic, payload, qos, retain
        self.response_topic, self.correlation, self.user = response_topic, correlation, list(user)

    @classmethod
    def from_paho(cls, m):
        p = m.properties
        return cls(m.topic, bytes(m.payload), m.qos, bool(m.retain),
                   getattr(p, 'ResponseTopic', None), getattr(p, 'CorrelationData', None),
                   getattr(p, 'UserProperty', []))

    @classmethod
    def from_json(cls, d):
        return cls(d['topic'], bytes.fromhex(d['payload']), d['qos'], d['retain'],
                   d.get('responseTopic'),
                   bytes.fromhex(d['correlation']) if d.get('correlation') is not None else None,
                   [tuple(u) for u in d['user']])

    def users(self, name):
        return [v for n, v in self.user if n == name]

    def __repr__(self):
        return 'Msg(%r, %r, qos=%d, retain=%r, rt=%r, corr=%r, user=%r)' % (
            self.topic, self.payload, self.qos, self.retain, self.response_topic, self.correlation,
            self.user)


def check_receipt(m, topic, payload, correlation, status, reason=None, qos=1):
    """A receipt exactly as expected: its topic, payload and correlation,
    one `receipt`, one `receipt-reason` or none, and no other property
    than those the broker adds."""
    check_eq(m.topic, topic, 'receipt topic')
    check_eq(m.payload, payload, 'receipt payload')
    check_eq(m.correlation, correlation, 'receipt correlation')
    check_eq(m.qos, qos, 'receipt qos')
    check_eq(m.retain, False, 'receipt retain')
    expected = [(RECEIPT, status)] + ([(REASON, reason)] if reason else [])
    check_eq(sorted(m.user), sorted(expected), 'receipt user properties')


def check_request(m, topic, payload, requester, correlation=None, response_topic=None):
    """A delivered request: the broker vouches for the requester, and the
    responder gets the broker's 16-byte token, never the requester's own
    correlation (which may be None: it sent none)."""
    check_eq(m.topic, topic, 'request topic')
    check_eq(m.payload, payload, 'request payload')
    check_eq(m.users(REQUESTER), [requester], 'requester property')
    if response_topic is not None:
        check_eq(m.response_topic, response_topic, 'request response topic')
    check(m.correlation is not None and len(m.correlation) == 16,
          'a 16-byte token expected as correlation, got %r' % (m.correlation,))
    check(m.correlation != correlation, 'the requester\'s correlation reached the responder')


# --------------------------------------------------------------------------
# paho clients

class Paho(mqtt.Client):
    """A paho MQTT v5 client that queues what arrives and records the reason
    codes of SUBACK and PUBACK. paho 1.6.1 reads a PUBACK's reason code but
    does not pass it on, so the handler is wrapped to keep it."""

    def __init__(self, broker_port, client_id, username=None, password=None, connect=True):
        super().__init__(client_id=client_id, protocol=mqtt.MQTTv5)
        self.port = broker_port
        self.inbox = queue.Queue()
        self.events = queue.Queue()
        self.acks = {}
        if username is not None:
            self.username_pw_set(username, password)
        self.on_connect = lambda c, u, f, rc, p: self.events.put(('connack', rc.value))
        self.on_subscribe = lambda c, u, mid, rcs, p: self.events.put(('suback', [r.value for r in rcs]))
        self.on_message = lambda c, u, m: self.inbox.put(Msg.from_paho(m))
        self.on_disconnect = lambda c, u, rc, p=None: self.events.put(('disconnect', getattr(rc, 'value', rc)))
        if connect:
            check_eq(self.open(), 0, '%s: CONNACK reason code' % client_id)

    def open(self):
        """Connects and returns the CONNACK reason code."""
        # Request/reply wants Nagle off on both sides.
        self.connect_async('127.0.0.1', self.port, 30, clean_start=True)
        self.loop_start()
        rc = self._event('connack')[1]
        if self.socket():
            self.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return rc

    def _event(self, kind):
        try:
            got, value = self.events.get(timeout=ARRIVAL_S)
        except queue.Empty:
            raise CheckFailed('%s: no %s' % (self._client_id.decode(), kind))
        if got != kind:
            raise CheckFailed('%s: %s instead of %s (%r)' % (self._client_id.decode(), got, kind, value))
        return got, value

    def _handle_pubackcomp(self, cmd):
        pkt = self._in_packet['packet']
        mid, = struct.unpack('!H', pkt[:2])
        self.acks[mid] = pkt[2] if len(pkt) > 2 else 0
        return super()._handle_pubackcomp(cmd)

    def sub(self, topic, qos=1):
        """Subscribes and returns the SUBACK reason code."""
        self.subscribe(topic, qos)
        return self._event('suback')[1][0]

    def pub(self, topic, payload, qos=1, retain=False, response_topic=None, correlation=None,
            user=()):
        """Publishes; for QoS 1 waits for the PUBACK and returns its reason code."""
        props = Properties(PacketTypes.PUBLISH)
        if response_topic is not None:
            props.ResponseTopic = response_topic
        if correlation is not None:
            props.CorrelationData = correlation
        for pair in user:
            props.UserProperty = pair
        info = self.publish(topic, payload, qos, retain, props)
        if qos == 0:
            return None
        deadline = time.monotonic() + ARRIVAL_S
        while info.mid not in self.acks:
            if time.monotonic() > deadline:
                raise CheckFailed('%s: no PUBACK for %s' % (self._client_id.decode(), topic))
            time.sleep(0.005)  # poll interval; the deadline above bounds the wait
        return self.acks.pop(info.mid)

    def wait(self, timeout=ARRIVAL_S, what='a message'):
        try:
            return self.inbox.get(timeout=timeout)
        except queue.Empty:
            raise CheckFailed('%s: %s did not arrive in %.1f s' % (self._client_id.decode(), what, timeout))

    def quiet(self, window=QUIET_S):
        """Nothing more arrives within the window."""
        try:
            m = self.inbox.get(timeout=window)
        except queue.Empty:
            return
        raise CheckFailed('%s: unexpected %r' % (self._client_id.decode(), m))

    def close(self):
        self.disconnect()
        self.loop_stop()


class PahoResponder(Paho):
    """Answers every request in upper case to its Response Topic with its
    Correlation Data, and keeps the requests it got for the test."""

    def __init__(self, port, cid, area, answer=True):
        super().__init__(port, cid)
        self.answer = answer
        self.on_message = self._on_request
        check_eq(self.sub('req/%s' % area), 1, 'SUBACK of the subject area')

    def _on_request(self, client, userdata, message):
        m = Msg.from_paho(message)
        self.inbox.put(m)
        if self.answer and m.response_topic:
            self.pub_nowait(m.response_topic, m.payload.upper(), m.correlation)

    def pub_nowait(self, topic, payload, correlation):
        # In paho's network thread: publish, do not wait for the PUBACK.
        props = Properties(PacketTypes.PUBLISH)
        if correlation is not None:
            props.CorrelationData = correlation
        self.publish(topic, payload, 1, False, props)


# --------------------------------------------------------------------------
# External programs

class Program:
    """A running program whose stdout lines are read with deadlines."""

    def __init__(self, argv, env=None):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True, env=env)
        self.lines = queue.Queue()
        self.err = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put, True), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err.append, False), daemon=True).start()

    @staticmethod
    def _pump(stream, put, mark_end):
        for line in stream:
            put(line.rstrip('\n'))
        if mark_end:
            put(None)   # the reader learns the program ended

    def line(self, timeout=ARRIVAL_S):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise CheckFailed('%s: no output line in %.1f s (stderr %r)' % (self.argv[0], timeout, self.err))
        if line is None:
            raise CheckFailed('%s: ended (rc %r, stderr %r)' % (self.argv[0], self.proc.poll(), self.err))
        return line

    def json(self, timeout=ARRIVAL_S):
        return json.loads(self.line(timeout))

    def quiet(self, window=QUIET_S):
        try:
            line = self.lines.get(timeout=window)
        except queue.Empty:
            return
        if line is not None:
            raise CheckFailed('%s: unexpected output %r' % (self.argv[0], line))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def example_responder(fx, b, argv, cid, area):
    """An example responder (argv: the C or the Python one), ready once the
    broker acknowledged its subscription: the C one prints its banner
    before the SUBACK."""
    p = fx.add(Program(argv + ['-p', str(b.port), '-i', cid, area]))
    check_eq(p.line(), 'responder: answering requests on req/%s' % area, '%s banner' % argv[-1])
    b.wait_log('Sending SUBACK to %s' % cid)
    return p


def run(argv, timeout=10, env=None):
    """Runs a program to its end: (exit code, stdout, stderr)."""
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def node_env():
    """Debian installs MQTT.js in /usr/share/nodejs, which a node that is not
    Debian's own does not search."""
    env = dict(os.environ)
    env['NODE_PATH'] = ':'.join(filter(None, ['/usr/share/nodejs', env.get('NODE_PATH')]))
    return env


def mqttjs(*args):
    return Program(['node', os.path.join(HERE, 'mqttjs_client.js')] + [str(a) for a in args],
                   env=node_env())


# --------------------------------------------------------------------------
# The runner

class Fixture:
    """Things a test started, stopped whatever the outcome."""

    def __init__(self):
        self.things = []

    def add(self, thing):
        self.things.append(thing)
        return thing

    def close(self):
        """Stops everything; returns the first failure a broker reported as
        it stopped (a sanitizer report), or None."""
        failure = None
        for thing in reversed(self.things):
            try:
                if isinstance(thing, Broker):
                    thing.cleanup()
                elif isinstance(thing, Program):
                    thing.stop()
                elif isinstance(thing, Paho):
                    thing.close()
                else:
                    thing()
            except CheckFailed as e:
                failure = failure or e
            except Exception:
                pass
        return failure


def main(tests):
    """Runs each test(fixture), prints one line per test and Check's summary
    line last; exits 1 on any failure."""
    failures = errors = 0
    only = os.environ.get('CK_RUN_CASE')
    tests = [t for t in tests if not only or t.__name__ == only]
    # Which broker ran, in the test log (the version matrix runs several).
    print('broker: %s, version %s' % (MOSQUITTO, '.'.join(map(str, broker_version()))), flush=True)
    for t in tests:
        fx = Fixture()
        start = time.monotonic()
        try:
            t(fx)
            failure = fx.close()
            if failure:
                raise failure
            print('%s: Passed (%.2f s)' % (t.__name__, time.monotonic() - start), flush=True)
        except CheckFailed as e:
            failures += 1
            print('%s: Failed: %s' % (t.__name__, e), flush=True)
            dump_logs(fx)
        except Exception:
            errors += 1
            print('%s: Error: %s' % (t.__name__, traceback.format_exc()), flush=True)
            dump_logs(fx)
        finally:
            fx.close()
    n = len(tests)
    pct = 100 * (n - failures - errors) // n if n else 100
    print('%d%%: Checks: %d, Failures: %d, Errors: %d' % (pct, n, failures, errors), flush=True)
    sys.exit(1 if failures or errors or n == 0 else 0)


def dump_logs(fx):
    for thing in fx.things:
        if isinstance(thing, Broker):
            sys.stdout.write('---- broker log %s ----\n%s---- end ----\n' % (thing.log_path, thing.log()))
        elif isinstance(thing, Program) and thing.err:
            sys.stdout.write('---- stderr of %s ----\n%s\n' % (thing.argv, '\n'.join(thing.err)))
