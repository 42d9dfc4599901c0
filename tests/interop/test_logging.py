#!/usr/bin/python3
"""What the plugin logs, at which level. Mosquitto's log lines carry no
level, so each broker logs only the levels a test is about (log_type):
one notice line per refusal with client id and reason, a start-up line with
the effective options, a debug line per tracked request, and no notice line
for ordinary traffic or answered requests."""

import re

from rcpt_interop import Broker, Paho, PahoResponder, check, check_eq, check_receipt, main, option_names

REQUESTS = 3
ORDINARY = 20


def plugin_lines(b):
    return [line.split(': ', 1)[1] for line in b.log_lines(': receipts: ')]


def traffic(fx, b):
    """Answered requests and ordinary traffic (a request area included),
    each waited for, so the broker has handled all of it."""
    resp = fx.add(PahoResponder(b.port, 'worker', 'echo'))
    alice = fx.add(Paho(b.port, 'alice'))
    check_eq(alice.sub('ret/alice/#'), 1, 'SUBACK of alice')
    for i in range(REQUESTS):
        corr = b'log-%d' % i
        check_eq(alice.pub('req/echo', b'q', response_topic='ret/alice/replies', correlation=corr), 0,
                 'PUBACK of request %d' % i)
        check_receipt(alice.wait(), 'ret/alice/replies', b'Q', corr, 'ok')
        resp.wait()
    sensor = fx.add(Paho(b.port, 'sensor'))
    listener = fx.add(Paho(b.port, 'listener'))
    check_eq(listener.sub('sensors/#'), 1, 'SUBACK of listener')
    for i in range(ORDINARY):
        sensor.pub('sensors/1', b'%d' % i, qos=i % 2)
        check_eq(listener.wait().payload, b'%d' % i, 'ordinary message %d' % i)
    # A PUBLISH to an area without a Response Topic is ordinary traffic.
    check_eq(sensor.pub('req/echo', b'fyi'), 0, 'PUBACK of an untracked publish to an area')
    check_eq(resp.wait().payload, b'fyi', 'untracked publish delivered')
    resp.quiet()
    alice.quiet(0)
    listener.quiet(0)
    return alice, resp


def started_line(b):
    started = [line for line in plugin_lines(b) if line.startswith('receipts: started: ')]
    check_eq(len(started), 1, 'start-up lines')
    return started[0]


def logging_ordinary_traffic_logs_no_notice(fx):
    b = fx.add(Broker(log_type='notice'))
    traffic(fx, b)
    check_eq(plugin_lines(b), [started_line(b)], 'plugin lines at notice level after ordinary traffic')


def logging_one_notice_line_per_refusal(fx):
    b = fx.add(Broker(log_type='notice'))
    alice, resp = traffic(fx, b)
    bob = fx.add(Paho(b.port, 'bob'))
    refusals = [
        (lambda: bob.sub('ret/alice/#'), 0x87,
         "receipts: refused subscription of 'bob' to 'ret/alice/#': not its return area"),
        (lambda: bob.pub('req/echo', b'x', response_topic='ret/alice/replies', correlation=b'b'), 0x87,
         "receipts: refused request from 'bob' on 'req/echo': foreign-return-area"),
        (lambda: bob.pub('req/echo', b'x', response_topic='ret/bob/r', user=[('receipt-timeout-ms', '0')]),
         0x87, "receipts: refused request from 'bob' on 'req/echo': bad-timeout"),
        (lambda: resp.pub('ret/alice/replies', b'late', correlation=b'log-0'), 0x87,
         "receipts: refused receipt from 'worker' on 'ret/alice/replies': not-pending"),
    ]
    expected = [started_line(b)]
    for act, code, line in refusals:
        check_eq(act(), code, 'reason code for %r' % line)
        expected.append(line)
        b.wait_log(line)
    check_eq(plugin_lines(b), expected, 'plugin lines at notice level')
    # The bad-timeout request's rejected receipt went to bob, who does not
    # listen: nothing reached the others.
    alice.quiet()
    resp.quiet(0)


def logging_one_debug_line_per_tracked_request(fx):
    b = fx.add(Broker(log_type='debug', opts=[('default_timeout_ms', '1500')]))
    traffic(fx, b)
    tracked = [line for line in plugin_lines(b) if ' tracked, ' in line]
    check_eq(tracked, ["receipts: request from 'alice' to area 'echo' tracked, "
                       "receipt to 'ret/alice/replies' within 1500 ms"] * REQUESTS, 'tracked-request lines')
    others = [line for line in plugin_lines(b) if ' tracked, ' not in line]
    check_eq(others, ["receipts: receipt 'ok' from 'worker' to 'ret/alice/replies' for 'alice'"] * REQUESTS,
             'other debug lines of the plugin')


def logging_start_up_line_states_effective_options(fx):
    b = fx.add(Broker(log_type='notice', opts=[
        ('default_timeout_ms', '1234'), ('acl_fallback', 'defer'), ('control_users', 'admin,ops'),
        ('sys_interval_s', '0'), ('request_prefix', 'ask/here')]))
    line = started_line(b)
    # The options, then after '; ' who decides the topics that are not the plugin's.
    options, _, access = line[len('receipts: started: '):].partition('; ')
    stated = dict(re.findall(r'(\w+)=(\S+(?: \S+)*?)(?= \w+=|$)', options))
    # broker_name and peers are stated only on a broker in a network (README: Options).
    network = {'broker_name', 'peers'}
    check_eq(sorted(stated), sorted(set(option_names()) - network), 'options named in the start-up line')
    check_eq(stated, {
        'request_prefix': 'ask/here', 'return_prefix': 'ret', 'default_timeout_ms': '1234',
        'max_timeout_ms': '300000', 'max_pending': '1000000', 'max_pending_per_client': '10000',
        'max_pending_per_user': '10000', 'max_pending_anonymous': '0', 'max_pending_bytes': '268435456',
        'max_correlation_len': '256', 'max_return_topic_len': '256', 'acl_fallback': 'defer',
        'open_return_topics': 'off', 'sys_interval_s': '0', 'state_file': '(none)', 'save_interval_s': '5',
        'journal_sync': 'false', 'bind_client_ids': 'false', 'qos2_release_grace_ms': '10000',
        'control_users': 'admin,ops'},
        'effective options')
    check(access.startswith('topics not ours: left to the other access control (acl_fallback set: no acl_file, '
                            'auth_plugin or other plugin in '), 'access decision in the start-up line: %r' % access)
    check_eq(plugin_lines(b), [line], 'plugin lines at notice level at start')


if __name__ == '__main__':
    main([
        logging_ordinary_traffic_logs_no_notice,
        logging_one_notice_line_per_refusal,
        logging_one_debug_line_per_tracked_request,
        logging_start_up_line_states_effective_options,
    ])
