#!/usr/bin/python3
"""Writes the dynamic-security configuration of the dynsec example (default:
dynamic-security.json beside this script).

Demo users, password: the user's name followed by "-secret":
  alice, bob  role asker:    may publish requests to req/echo
  worker      role answerer: may subscribe to req/echo (and so receive them)
  admin       role admin:    administers dynamic-security ($CONTROL/dynamic-security)
                             and is the plugin's control user
  guest       no role:       may log in, nothing else
Return areas (ret/<id>/...) need no role: the plugin decides them itself.
Default access is dynamic-security's own: nothing may be published or
subscribed to unless a role allows it.

Passwords are stored as dynamic-security stores them (PBKDF2-HMAC-SHA512 of
a random 12-byte salt), so mosquitto_ctrl can manage the users afterwards.
  examples/dynsec/make-dynsec.py [FILE]
"""
import base64
import hashlib
import json
import os
import pwd
import sys

ITERATIONS = 101


def client(username, roles):
    salt = os.urandom(12)
    password = (username + '-secret').encode()
    digest = hashlib.pbkdf2_hmac('sha512', password, salt, ITERATIONS, 64)
    return {'username': username, 'password': base64.b64encode(digest).decode(),
            'salt': base64.b64encode(salt).decode(), 'iterations': ITERATIONS,
            'roles': [{'rolename': r} for r in roles]}


def acl(acltype, topic):
    return {'acltype': acltype, 'topic': topic, 'allow': True}


def config():
    dynsec = '$CONTROL/dynamic-security/#'
    return {
        'clients': [client('alice', ['asker']), client('bob', ['asker']), client('worker', ['answerer']),
                    client('admin', ['admin']), client('guest', [])],
        'roles': [
            {'rolename': 'asker', 'acls': [acl('publishClientSend', 'req/echo')]},
            {'rolename': 'answerer', 'acls': [acl('subscribePattern', 'req/echo')]},
            {'rolename': 'admin', 'acls': [
                acl('publishClientSend', dynsec), acl('publishClientReceive', dynsec),
                acl('subscribePattern', dynsec), acl('subscribePattern', '$SYS/#'),
                acl('publishClientReceive', '$SYS/#')]},
        ],
        'groups': [],
        'defaultACLAccess': {'publishClientSend': False, 'publishClientReceive': True,
                             'subscribe': False, 'unsubscribe': True},
    }


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                               'dynamic-security.json')
    old = os.umask(0o077)
    try:
        with open(path, 'w') as f:
            json.dump(config(), f, indent=1)
    finally:
        os.umask(old)
    # The broker reads and rewrites it after dropping privileges to the user mosquitto.
    if os.getuid() == 0:
        try:
            user = pwd.getpwnam('mosquitto')
            os.chown(path, user.pw_uid, user.pw_gid)
        except KeyError:
            pass
    print(path)


main()
