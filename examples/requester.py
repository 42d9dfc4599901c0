#!/usr/bin/python3
"""A requester in Python with paho-mqtt (Debian: python3-paho-mqtt): sends one
request and prints the one receipt the broker guarantees: the answer, or the
broker's verdict. Exit status 0 for `ok`, 1 for any other receipt, 2 for none.

    requester.py [-h host] [-p port] [-i client-id] [-r return-area] [-T timeout-ms]
                 [-o topic] AREA MESSAGE

Without -r it names its return topic itself (Response Topic ret/<id>/replies);
with -r it lets the broker map it (user property return-area). With -o it
publishes on that topic and names the area in user property subject-area.
"""
import argparse
import socket
import sys
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

ap = argparse.ArgumentParser(add_help=False, usage='requester.py [-h host] [-p port] [-i id] [-u user] [-P password] '
                             '[-r return-area] [-T timeout-ms] [-o topic] AREA MESSAGE')
ap.add_argument('-h', dest='host', default='127.0.0.1')
ap.add_argument('-p', dest='port', type=int, default=1883)
ap.add_argument('-i', dest='id', default='requester')
ap.add_argument('-u', dest='user')
ap.add_argument('-P', dest='password')
ap.add_argument('-r', dest='return_area')
ap.add_argument('-T', dest='timeout_ms')
ap.add_argument('-o', dest='topic')
ap.add_argument('area')
ap.add_argument('message')
args = ap.parse_args()
return_topic = 'ret/%s/%s' % (args.id, args.return_area or 'replies')
exit_code = 2


def on_connect(client, userdata, flags, rc, props):
    if rc != 0:
        print('requester: connection refused: %s' % rc, file=sys.stderr)
        client.disconnect()
        return
    client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.subscribe(return_topic, qos=1)


def on_subscribe(client, userdata, mid, granted, props):
    # Sends the request once the return area is subscribed: a receipt that
    # arrived before the subscription would be lost.
    if granted[0].value > 2:
        print('requester: subscription to %s refused' % return_topic, file=sys.stderr)
        client.disconnect()
        return
    p = Properties(PacketTypes.PUBLISH)
    if args.topic:
        topic = args.topic
        p.UserProperty = ('subject-area', args.area)
    else:
        topic = 'req/' + args.area
    if args.return_area:
        p.UserProperty = ('return-area', args.return_area)
    else:
        p.ResponseTopic = return_topic
    p.CorrelationData = b'1'
    if args.timeout_ms:
        p.UserProperty = ('receipt-timeout-ms', args.timeout_ms)
    client.publish(topic, args.message.encode(), qos=1, properties=p)


def on_message(client, userdata, msg):
    global exit_code
    user = getattr(msg.properties, 'UserProperty', [])
    status = next((v for n, v in user if n == 'receipt'), None)
    reason = next((v for n, v in user if n == 'receipt-reason'), None)
    line = '%s receipt: %s' % (msg.topic, status or '(none)')
    if reason:
        line += ' (%s)' % reason
    if msg.payload:
        line += ' payload: %s' % msg.payload.decode(errors='replace')
    print(line, flush=True)
    exit_code = 0 if status == 'ok' else 1
    client.disconnect()


client = mqtt.Client(client_id=args.id, protocol=mqtt.MQTTv5)
client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_message = on_message
if args.user:
    client.username_pw_set(args.user, args.password)
try:
    client.connect(args.host, args.port, 30)
except OSError as e:
    print('requester: %s' % e, file=sys.stderr)
    sys.exit(2)
# The broker guarantees a receipt for every accepted request; a refused
# request with an unusable return topic gets none, so do not wait for ever.
if args.timeout_ms is None:
    timeout_s = 30
else:
    timeout_s = int(args.timeout_ms) // 1000 if args.timeout_ms.isdigit() else 0
give_up = time.monotonic() + 10 + timeout_s
while exit_code == 2 and time.monotonic() < give_up and client.loop(0.1) == mqtt.MQTT_ERR_SUCCESS:
    pass
if exit_code == 2:
    print('requester: no receipt', file=sys.stderr)
sys.exit(exit_code)
