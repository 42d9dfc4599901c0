#!/usr/bin/python3
"""The secure example (examples/secure/): the plugin with password_file,
acl_file and plugin_opt_acl_fallback defer. The configuration is used as it
is, with only its port, plugin path and file paths pointed at the test's."""

import json
import os
import re
import tempfile

from rcpt_interop import (PLUGIN, SOURCE_DIR, Broker, Paho, check_eq, check_receipt, check_request,
                          free_port, main, run)

SECURE = os.path.join(SOURCE_DIR, 'examples', 'secure')
NOT_AUTHORIZED = 0x87


def substitute(text, key, value):
    """Replaces the one line `key ...` of the example."""
    new, n = re.subn(r'^%s .*$' % re.escape(key), '%s %s' % (key, value), text, flags=re.M)
    check_eq(n, 1, 'lines "%s" in examples/secure/mosquitto.conf' % key)
    return new


def secure_broker(fx):
    tmp = tempfile.mkdtemp(prefix='rcpt-secure-')
    # The broker reads the files as the user mosquitto.
    os.chmod(tmp, 0o755)
    passwords = os.path.join(tmp, 'passwords')
    rc, out, err = run([os.path.join(SECURE, 'make-passwords.sh'), passwords])
    check_eq((rc, err), (0, ''), 'make-passwords.sh exit, stderr')
    port = free_port()
    with open(os.path.join(SECURE, 'mosquitto.conf')) as f:
        conf = f.read()
    conf = substitute(conf, 'listener', '%d 127.0.0.1' % port)
    conf = substitute(conf, 'password_file', passwords)
    conf = substitute(conf, 'acl_file', os.path.join(SECURE, 'acl'))
    conf = substitute(conf, 'plugin', PLUGIN)
    return fx.add(Broker(conf=conf, port=port, tmpdir=tmp))


def login(fx, b, user, cid=None):
    return fx.add(Paho(b.port, cid or user, username=user, password=user + '-secret'))


def worker(fx, b):
    """The example's responder: answers in upper case."""
    w = login(fx, b, 'worker')
    check_eq(w.sub('req/echo'), 1, 'SUBACK of worker to req/echo')
    return w


def secure_requester_gets_answer_from_responder(fx):
    b = secure_broker(fx)
    w = worker(fx, b)
    alice = login(fx, b, 'alice')
    check_eq(alice.sub('ret/alice/#'), 1, 'SUBACK of alice to her return area')
    check_eq(alice.pub('req/echo', b'hello', response_topic='ret/alice/replies', correlation=b's-1'), 0,
             'PUBACK of the request')
    req = w.wait()
    check_request(req, 'req/echo', b'hello', 'alice', b's-1', 'ret/alice/replies')
    check_eq(w.pub(req.response_topic, b'HELLO', correlation=req.correlation), 0, 'PUBACK of the answer')
    check_receipt(alice.wait(), 'ret/alice/replies', b'HELLO', b's-1', 'ok')
    alice.quiet()
    w.quiet(0)


def secure_refuses_anonymous_and_wrong_password(fx):
    b = secure_broker(fx)
    anonymous = fx.add(Paho(b.port, 'anon', connect=False))
    check_eq(anonymous.open(), NOT_AUTHORIZED, 'CONNACK without a username')
    # Mosquitto 2.0.11 answers a wrong password with 0x87 too, not 0x86.
    wrong = fx.add(Paho(b.port, 'wrong', username='alice', password='guess', connect=False))
    check_eq(wrong.open(), NOT_AUTHORIZED, 'CONNACK with a wrong password')


def secure_acl_file_decides_the_subject_areas(fx):
    b = secure_broker(fx)
    guest = login(fx, b, 'guest')
    check_eq(guest.sub('ret/guest/#'), 1, 'SUBACK of guest to its own return area')
    # acl_file refuses before the plugin sees the request: no receipt.
    check_eq(guest.pub('req/echo', b'hi', response_topic='ret/guest/replies', correlation=b'g-1'),
             NOT_AUTHORIZED, 'PUBACK of a request acl_file does not allow')
    # Mosquitto 2.0's acl_file judges reads at delivery, not at subscribe.
    check_eq(guest.sub('req/echo'), 1, 'SUBACK of guest to req/echo')
    alice = login(fx, b, 'alice')
    check_eq(alice.sub('ret/alice/#'), 1, 'SUBACK of alice to her return area')
    check_eq(alice.pub('req/echo', b'hello', response_topic='ret/alice/replies', correlation=b'a-1',
                       user=[('receipt-timeout-ms', '300')]), 0, 'PUBACK of the request')
    # acl_file keeps the request from guest, so it reached nobody. On a broker
    # whose mosquitto_acl_check the plugin cannot find it cannot ask acl_file
    # and counts guest (README, Limits): then it ends by timeout.
    if b.log_lines('does not export mosquitto_acl_check'):
        check_receipt(alice.wait(), 'ret/alice/replies', b'', b'a-1', 'timeout', 'deadline-passed')
    else:
        check_receipt(alice.wait(), 'ret/alice/replies', b'', b'a-1', 'no-responders', 'no-subscriber')
    guest.quiet()
    alice.quiet(0)


def secure_return_areas_stay_private(fx):
    b = secure_broker(fx)
    w = worker(fx, b)
    alice = login(fx, b, 'alice')
    bob = login(fx, b, 'bob')
    check_eq(alice.sub('ret/alice/#'), 1, 'SUBACK of alice to her return area')
    check_eq(bob.sub('ret/alice/#'), NOT_AUTHORIZED, 'SUBACK of bob to alice\'s return area')
    check_eq(bob.sub('ret/#'), NOT_AUTHORIZED, 'SUBACK of bob to all return areas')
    # A forged receipt (nothing pending) into alice's area is refused.
    check_eq(w.pub('ret/alice/replies', b'forged', correlation=b'x'), NOT_AUTHORIZED,
             'PUBACK of a forged receipt')
    # bob asks in alice's name: refused, and alice hears nothing of it.
    check_eq(bob.pub('req/echo', b'hi', response_topic='ret/alice/replies', correlation=b'b-1'),
             NOT_AUTHORIZED, 'PUBACK of a request with a foreign return area')
    alice.quiet()
    bob.quiet(0)
    w.quiet(0)


def control(admin, commands):
    check_eq(admin.pub('$CONTROL/receipts/v1', json.dumps({'commands': commands}).encode()), 0,
             'PUBACK of the control command')
    m = admin.wait(what='the control response')
    check_eq(m.topic, '$CONTROL/receipts/v1/response', 'control response topic')
    return json.loads(m.payload)


def secure_control_api_answers_admin_only(fx):
    b = secure_broker(fx)
    w = worker(fx, b)
    alice = login(fx, b, 'alice')
    check_eq(alice.sub('ret/alice/#'), 1, 'SUBACK of alice to her return area')
    check_eq(alice.pub('req/echo', b'wait', response_topic='ret/alice/replies', correlation=b'c-1'), 0,
             'PUBACK of the request')
    check_request(w.wait(), 'req/echo', b'wait', 'alice', b'c-1', 'ret/alice/replies')
    # alice is no control user: refused, and her command is not run.
    check_eq(alice.sub('$CONTROL/receipts/v1/response'), NOT_AUTHORIZED, 'SUBACK of alice to control responses')
    cancel_all = {'command': 'cancelPending', 'area': 'echo', 'all': True, 'reason': 'maintenance'}
    check_eq(alice.pub('$CONTROL/receipts/v1', json.dumps({'commands': [cancel_all]}).encode()),
             NOT_AUTHORIZED, 'PUBACK of alice\'s control command')
    admin = login(fx, b, 'admin')
    check_eq(admin.sub('$CONTROL/receipts/v1/response'), 1, 'SUBACK of admin to control responses')
    stats = control(admin, [{'command': 'getStats'}])['responses']
    check_eq(len(stats), 1, 'responses to getStats')
    check_eq(stats[0]['data']['pending'], 1, 'pending')
    check_eq(sum(stats[0]['data']['totals'].values()), 0, 'all totals')
    check_eq(control(admin, [cancel_all]),
             {'responses': [{'command': 'cancelPending', 'data': {'cancelled': 1, 'selected': 1, 'queued': 0}}]}, 'admin\'s cancelPending')
    check_receipt(alice.wait(), 'ret/alice/replies', b'', b'c-1', 'cancelled', 'maintenance')
    alice.quiet()
    admin.quiet(0)
    w.quiet(0)


if __name__ == '__main__':
    main([
        secure_requester_gets_answer_from_responder,
        secure_refuses_anonymous_and_wrong_password,
        secure_acl_file_decides_the_subject_areas,
        secure_return_areas_stay_private,
        secure_control_api_answers_admin_only,
    ])
