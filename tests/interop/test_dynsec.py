#!/usr/bin/python3
"""The dynamic-security example (examples/dynsec/): the plugin loaded before
Mosquitto's dynamic-security plugin. The configuration is used as it is, with
only its port, the plugin's path and the JSON file's path pointed at the
test's. dynamic-security decides every topic that is not the plugin's, its
default deny included; the plugin decides return areas and its control API."""

import json

from rcpt_interop import (PLUGIN, Paho, check_eq, control, echo_round_trip, example_broker, login, main)

NOT_AUTHORIZED = 0x87


def dynsec_broker(fx):
    # dynamic-security rewrites its file (a new one, renamed) as the user mosquitto.
    return example_broker(fx, 'dynsec', 'make-dynsec.py', 'dynamic-security.json', 0o777, lambda path: [
        (r'^plugin \S*mosquitto_receipts\.so$', 'plugin %s' % PLUGIN),
        (r'^plugin_opt_config_file .*$', 'plugin_opt_config_file %s' % path),
    ])


def dynsec_requester_gets_answer_from_responder(fx):
    echo_round_trip(fx, dynsec_broker(fx), b'd-1')


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
    stats = control(admin, [{'command': 'getStats'}])
    check_eq(stats['responses'][0]['data']['pending'], 0, 'pending')
    alice.quiet()
    admin.quiet(0)


if __name__ == '__main__':
    main([
        dynsec_requester_gets_answer_from_responder,
        dynsec_default_deny_is_kept,
        dynsec_control_api_answers_admin_only,
    ])
