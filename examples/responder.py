#!/usr/bin/python3
"""A responder for one subject area, in Python with paho-mqtt (Debian:
python3-paho-mqtt): answers every request with its own payload in upper case.
Plain MQTT 5: reply to the Response Topic with the request's Correlation
Data, and the broker does the rest.

    responder.py [-h host] [-p port] [-i client-id] AREA
"""
import argparse
import socket
import sys

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

ap = argparse.ArgumentParser(add_help=False, usage='responder.py [-h host] [-p port] [-i client-id] [-u user] [-P password] AREA')
ap.add_argument('-h', dest='host', default='127.0.0.1')
ap.add_argument('-p', dest='port', type=int, default=1883)
ap.add_argument('-i', dest='id', default='')
ap.add_argument('-u', dest='user')
ap.add_argument('-P', dest='password')
ap.add_argument('area')
args = ap.parse_args()
topic = 'req/' + args.area


def on_connect(client, userdata, flags, rc, props):
    if rc != 0:
        print('responder: connection refused: %s' % rc, file=sys.stderr)
        client.disconnect()
        return
    # Request/reply wants Nagle off: each small reply would wait ~40 ms.
    client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.subscribe(topic, qos=1)


def on_subscribe(client, userdata, mid, granted, props):
    # Announced only once the broker holds the subscription: a request
    # sent before it would find no responder.
    if granted[0].value > 2:
        print('responder: subscription to %s refused' % topic, file=sys.stderr)
        client.disconnect()
        return
    print('responder: answering requests on %s' % topic, flush=True)


def on_message(client, userdata, msg):
    p = msg.properties
    response_topic = getattr(p, 'ResponseTopic', None)
    if not response_topic:
        return   # not a request: nobody waits for an answer
    # The broker vouches for who asked, in user property "requester".
    requester = next((v for n, v in getattr(p, 'UserProperty', []) if n == 'requester'), '?')
    reply = Properties(PacketTypes.PUBLISH)
    if hasattr(p, 'CorrelationData'):
        reply.CorrelationData = p.CorrelationData
    client.publish(response_topic, bytes(msg.payload).upper(), qos=1, properties=reply)
    print('responder: answered %s for %s' % (response_topic, requester), flush=True)


client = mqtt.Client(client_id=args.id, protocol=mqtt.MQTTv5)
client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_message = on_message
if args.user:
    client.username_pw_set(args.user, args.password)
try:
    client.connect(args.host, args.port, 30)
except OSError as e:
    print('responder: %s' % e, file=sys.stderr)
    sys.exit(1)
sys.exit(0 if client.loop_forever() == mqtt.MQTT_ERR_SUCCESS else 1)
