#!/usr/bin/python3
"""The dynamic-security example (examples/dynsec/): the plugin loaded before
Mosquitto's dynamic-security plugin. The configuration is used as it is, with
only its port, the plugin's path and the JSON file's path pointed at the
test's. dynamic-security decides every topic that is not the plugin's, its
default deny included; the plugin decides return areas and its control API."""

import json
import os
import re
import tempfile

from rcpt_interop import (PLUGIN, SOURCE_DIR, Broker, Paho, check_eq, check_receipt, check_request,
                          free_port, main, run)

DYNSEC = os.path.join(SOURCE_DIR, 'examples', 'dynsec')
NOT_AUTHORIZED = 0x87


def substitute(text, pattern, line, what):
    new, n = re.subn(pattern, line, text, flags=re.M)
    check_eq(n, 1, 'lines %s in examples/dynsec/mosquitto.conf' % what)
    return new


def dynsec_broker(fx):
    tmp = tempfile.mkdtemp(prefix='rcpt-dynsec-')
    # dynamic-security rewrites its file (a new one, renamed) as the user mosquitto.
    os.chmod(tmp, 0o777)
    path = os.path.join(tmp, 'dynamic-security.json')
    rc, out, err = run([os.path.join(DYNSEC, 'make-dynsec.py'), path])
    check_eq((rc, err), (0, ''), 'make-dynsec.py exit, stderr')
    port = free_port()
    with open(os.path.join(DYNSEC, 'mosquitto.conf')) as f:
        conf = f.read()
    conf = substitute(conf, r'^listener .*$', 'listener %d 127.0.0.1' % port, '"listener"')
    conf = substitute(conf, r'^plugin \S*mosquitto_receipts\.so$', 'plugin %s' % PLUGIN, 'loading this plugin')
    conf = substitute(conf, r'^plugin_opt_config_file .*$', 'plugin_opt_config_file %s' % path,
                      '"plugin_opt_config_file"')
    return fx.add(Broker(conf=conf, port=port, tmpdir=tmp))


def login(fx, b, user, cid=None):
    return fx.add(Paho(b.port, cid or user, username=user, password=user + '-secret'))


def dynsec_requester_gets_answer_from_responder(fx):
    b = dynsec_broker(fx)
    w = login(fx, b, 'worker')
    check_eq(w.sub('req/echo'), 1, 'SUBACK of worker to req/echo')
    alice = login(fx, b, 'alice')
    check_eq(alice.sub('ret/alice/#'), 1, 'SUBACK of alice to her return area')
    check_eq(alice.pub('req/echo', b'hello', response_topic='ret/alice/replies', correlation=b'd-1'), 0,
             'PUBACK of the request')
    req = w.wait()
    check_request(req, 'req/echo', b'hello', 'alice', b'd-1', 'ret/alice/replies')
    check_eq(w.pub(req.response_topic, b'HELLO', correlation=req.correlation), 0, 'PUBACK of the answer')
    check_receipt(alice.wait(), 'ret/alice/replies', b'HELLO', b'd-1', 'ok')
    alice.quiet()
    w.quiet(0)


def dynsec_default_deny_is_kept(fx):
    b = dynsec_broker(fx)
    b.wait_log('topics not ours: left to the other access control (acl_fallback set: plugin ')
    anonymous = fx.add(Paho(b.port, 'anon', connect=False))
    check_eq(anonymous.open(), NOT_AUTHORIZED, 'CONNACK without a username')
    guest = login(fx, b, 'guest')
    check_eq(guest.sub('ret/guest/#'), 1, 'SUBACK of guest to its own return area')
    check_eq(guest.sub('req/echo'), NOT_AUTHORIZED, 'SUBACK of guest to req/echo')
    check_eq(guest.sub('news/#'), NOT_AUTHORIZED, 'SUBACK of guest to news/#')
    check_eq(guest.pub('news/x', b'hi'), NOT_AUTHORIZED, 'PUBACK of guest on news/x')
    check_eq(guest.pub('req/echo', b'hi', response_topic='ret/guest/replies', correlation=b'g-1'),
             NOT_AUTHORIZED, 'PUBACK of a request dynamic-security does not allow')
    # Nobody but admin may change dynamic-security: guest's createClient is refused.
    create = {'commands': [{'command': 'createClient', 'username': 'mallory', 'password': 'x'}]}
    check_eq(guest.pub('$CONTROL/dynamic-security/v1', json.dumps(create).encode()), NOT_AUTHORIZED,
             'PUBACK of guest\'s createClient')
    admin = login(fx, b, 'admin')
    check_eq(admin.sub('$CONTROL/dynamic-security/v1/response'), 1, 'SUBACK of admin to dynsec responses')
    check_eq(admin.pub('$CONTROL/dynamic-security/v1', json.dumps(
        {'commands': [{'command': 'listClients'}]}).encode()), 0, 'PUBACK of admin\'s listClients')
    clients = json.loads(admin.wait(what='the listClients response').payload)
    check_eq(sorted(clients['responses'][0]['data']['clients']), ['admin', 'alice', 'bob', 'guest', 'worker'],
             'clients dynamic-security knows')
    guest.quiet()
    admin.quiet(0)


def dynsec_control_api_answers_admin_only(fx):
    b = dynsec_broker(fx)
    alice = login(fx, b, 'alice')
    check_eq(alice.sub('$CONTROL/receipts/v1/response'), NOT_AUTHORIZED, 'SUBACK of alice to control responses')
    admin = login(fx, b, 'admin')
    check_eq(admin.sub('$CONTROL/receipts/v1/response'), 1, 'SUBACK of admin to control responses')
    check_eq(admin.pub('$CONTROL/receipts/v1', json.dumps({'commands': [{'command': 'getStats'}]}).encode()), 0,
             'PUBACK of the control command')
    stats = json.loads(admin.wait(what='the control response').payload)
    check_eq(stats['responses'][0]['data']['pending'], 0, 'pending')
    alice.quiet()
    admin.quiet(0)


if __name__ == '__main__':
    main([
        dynsec_requester_gets_answer_from_responder,
        dynsec_default_deny_is_kept,
        dynsec_control_api_answers_admin_only,
    ])
