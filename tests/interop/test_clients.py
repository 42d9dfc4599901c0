#!/usr/bin/python3
"""Third-party clients against the plugin, crossing languages: Python's paho
(python3-paho-mqtt) and Node's MQTT.js (node-mqtt), each as requester and as
responder, with libmosquitto (the C example responder) and mosquitto_rr.

For each requester: an ok receipt, a request that sets no Correlation Data,
a timeout and no-responders. Every test checks what arrived, field by field,
and then that nothing else did."""

import os
import time

from rcpt_interop import (ARRIVAL_S, BUILD_DIR, START_TIMEOUT_S, TICK_SLACK_S, Broker, Msg, Paho,
                          PahoResponder, check, check_eq, check_receipt, check_request, example_responder, main,
                          mqttjs, run)

TIMEOUT_MS = 300
# The broker's PUBACK reason code for a message that reached nobody.
NO_MATCHING_SUBSCRIBERS = 0x10


def broker(fx):
    return fx.add(Broker())


def paho_requester(fx, b, cid):
    c = fx.add(Paho(b.port, cid))
    check_eq(c.sub('ret/%s/#' % cid), 1, 'SUBACK of the return area')
    return c


def c_responder(fx, b, cid, area):
    return example_responder(fx, b, [os.path.join(BUILD_DIR, 'examples', 'responder')], cid, area)


def js(fx, *args):
    return fx.add(mqttjs(*args))


def js_events(p, *want, timeout=ARRIVAL_S):
    """The next len(want) events of an MQTT.js client, in any order, must be
    exactly these; returns them by name."""
    got = [p.json(timeout) for _ in want]
    check_eq(sorted(e['event'] for e in got), sorted(want), 'MQTT.js events')
    return {e['event']: e for e in got}


def js_ready(p):
    # A start-up deadline, like the broker's: node loading MQTT.js takes
    # over 2 s on a loaded 2-CPU machine (seen under the sanitizer stages).
    check_eq(p.json(START_TIMEOUT_S), {'event': 'ready', 'granted': 1}, 'MQTT.js subscription')
    return p


def js_message(e):
    return Msg.from_json(e)


# --------------------------------------------------------------------------
# paho as requester

def paho_request_answered(fx, correlation):
    b = broker(fx)
    resp = c_responder(fx, b, 'c-resp', 'echo')
    req = paho_requester(fx, b, 'paho-req')
    check_eq(req.pub('req/echo', b'hello', response_topic='ret/paho-req/replies', correlation=correlation),
             0, 'PUBACK of the request')
    check_receipt(req.wait(), 'ret/paho-req/replies', b'HELLO', correlation, 'ok')
    check_eq(resp.line(), 'responder: answered ret/paho-req/replies for paho-req', 'responder output')
    req.quiet()
    resp.quiet(0)


def paho_requester_gets_ok_from_libmosquitto_responder(fx):
    paho_request_answered(fx, b'paho-1')


def paho_requester_without_correlation_gets_ok_from_libmosquitto_responder(fx):
    paho_request_answered(fx, None)


def paho_requester_times_out_on_silent_mqttjs_subscriber(fx):
    b = broker(fx)
    silent = js_ready(js(fx, 'silent', b.port, 'js-silent', 'silent'))
    req = paho_requester(fx, b, 'paho-req')
    start = time.monotonic()
    check_eq(req.pub('req/silent', b'anyone?', response_topic='ret/paho-req/replies', correlation=b'p-2',
                     user=[('receipt-timeout-ms', str(TIMEOUT_MS))]), 0, 'PUBACK of the request')
    got = js_message(js_events(silent, 'request')['request'])
    check_request(got, 'req/silent', b'anyone?', 'paho-req', b'p-2', 'ret/paho-req/replies')
    check_receipt(req.wait(TIMEOUT_MS / 1000 + ARRIVAL_S), 'ret/paho-req/replies', b'', b'p-2',
                  'timeout', 'deadline-passed')
    took = time.monotonic() - start
    check(TIMEOUT_MS / 1000 <= took <= TIMEOUT_MS / 1000 + TICK_SLACK_S, 'timeout receipt after %.3f s' % took)
    req.quiet()
    silent.quiet(0)


def paho_requester_gets_no_responders(fx):
    b = broker(fx)
    req = paho_requester(fx, b, 'paho-req')
    check_eq(req.pub('req/nobody', b'?', response_topic='ret/paho-req/replies', correlation=b'p-3'),
             NO_MATCHING_SUBSCRIBERS, 'PUBACK of the request')
    # At once, not after the 2 s default timeout.
    check_receipt(req.wait(1.0), 'ret/paho-req/replies', b'', b'p-3', 'no-responders', 'no-subscriber')
    req.quiet()


# --------------------------------------------------------------------------
# MQTT.js as responder, answering mosquitto_rr (which sets no correlation)

def mosquitto_rr_gets_ok_from_mqttjs_responder(fx):
    b = broker(fx)
    resp = js_ready(js(fx, 'responder', b.port, 'js-resp', 'echo'))
    rc, out, err = run(['mosquitto_rr', '-V', '5', '-p', str(b.port), '-i', 'rr-alice', '-t', 'req/echo',
                        '-e', 'ret/rr-alice/replies', '-m', 'hello', '-F', '%p %P', '-W', '5'])
    check_eq((rc, out, err), (0, 'HELLO receipt:ok\n', ''), 'mosquitto_rr exit, stdout, stderr')
    ev = js_events(resp, 'request', 'answered', 'puback')
    check_request(js_message(ev['request']), 'req/echo', b'hello', 'rr-alice', None, 'ret/rr-alice/replies')
    check_eq(ev['answered']['topic'], 'ret/rr-alice/replies', 'topic of the answer')
    check_eq(ev['puback']['reasonCode'], 0, 'PUBACK of the answer')
    resp.quiet()


# --------------------------------------------------------------------------
# MQTT.js as requester

def mqttjs_request_answered(fx, correlation):
    b = broker(fx)
    resp = fx.add(PahoResponder(b.port, 'paho-resp', 'echo'))
    req = js_ready(js(fx, 'requester', b.port, 'js-req', 'echo', 'hello', '-', correlation or '-'))
    ev = js_events(req, 'puback', 'message')
    check_eq(ev['puback']['reasonCode'], 0, 'PUBACK of the request')
    corr = correlation.encode() if correlation else None
    check_receipt(js_message(ev['message']), 'ret/js-req/replies', b'HELLO', corr, 'ok')
    check_request(resp.wait(), 'req/echo', b'hello', 'js-req', corr, 'ret/js-req/replies')
    req.quiet()
    resp.quiet(0)


def mqttjs_requester_gets_ok_from_paho_responder(fx):
    mqttjs_request_answered(fx, 'js-1')


def mqttjs_requester_without_correlation_gets_ok_from_paho_responder(fx):
    mqttjs_request_answered(fx, None)


def mqttjs_requester_times_out_on_silent_paho_subscriber(fx):
    b = broker(fx)
    silent = fx.add(PahoResponder(b.port, 'paho-silent', 'silent', answer=False))
    start = time.monotonic()
    req = js_ready(js(fx, 'requester', b.port, 'js-req', 'silent', 'anyone?', TIMEOUT_MS, 'js-2'))
    check_eq(js_events(req, 'puback')['puback']['reasonCode'], 0, 'PUBACK of the request')
    check_request(silent.wait(), 'req/silent', b'anyone?', 'js-req', b'js-2', 'ret/js-req/replies')
    e = js_events(req, 'message', timeout=TIMEOUT_MS / 1000 + ARRIVAL_S)['message']
    check_receipt(js_message(e), 'ret/js-req/replies', b'', b'js-2', 'timeout', 'deadline-passed')
    # Measured from before the client started: an upper bound only.
    took = time.monotonic() - start
    check(took >= TIMEOUT_MS / 1000, 'timeout receipt after %.3f s' % took)
    req.quiet()
    silent.quiet(0)


def mqttjs_requester_gets_no_responders(fx):
    b = broker(fx)
    req = js_ready(js(fx, 'requester', b.port, 'js-req', 'nobody', '?', '-', 'js-3'))
    ev = js_events(req, 'puback', 'message')
    check_eq(ev['puback']['reasonCode'], NO_MATCHING_SUBSCRIBERS, 'PUBACK of the request')
    check_receipt(js_message(ev['message']), 'ret/js-req/replies', b'', b'js-3', 'no-responders', 'no-subscriber')
    req.quiet()


if __name__ == '__main__':
    main([
        paho_requester_gets_ok_from_libmosquitto_responder,
        paho_requester_without_correlation_gets_ok_from_libmosquitto_responder,
        paho_requester_times_out_on_silent_mqttjs_subscriber,
        paho_requester_gets_no_responders,
        mosquitto_rr_gets_ok_from_mqttjs_responder,
        mqttjs_requester_gets_ok_from_paho_responder,
        mqttjs_requester_without_correlation_gets_ok_from_paho_responder,
        mqttjs_requester_times_out_on_silent_paho_subscriber,
        mqttjs_requester_gets_no_responders,
    ])
