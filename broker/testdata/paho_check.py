#!/usr/bin/python3
"""Interop check of mote's broker with python3-paho-mqtt (Debian 1.6.1).

usage: paho_check.py PORT 3|5 [tcp|websockets]
(websockets: MQTT over WebSocket, paho's default path /mqtt)
Subscribes to t/# at QoS 2, publishes QoS 0, 1 and 2 (and, with MQTT 5,
user properties, response topic, correlation data and a topic alias), and
checks every message comes back as sent. Prints OK and exits 0 on success.
"""
import sys
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

port = int(sys.argv[1])
v5 = sys.argv[2] == "5"
transport = sys.argv[3] if len(sys.argv) > 3 else "tcp"
protocol = mqtt.MQTTv5 if v5 else mqtt.MQTTv311
received = []
done = threading.Event()
subscribed = threading.Event()
expected = 4 if v5 else 3


def on_message(client, userdata, message):
    props = {}
    if v5 and message.properties is not None:
        props = {
            "user": getattr(message.properties, "UserProperty", None),
            "response": getattr(message.properties, "ResponseTopic", None),
            "correlation": getattr(message.properties, "CorrelationData", None),
        }
    received.append((message.topic, message.payload, message.qos, props))
    if len(received) >= expected:
        done.set()


def on_subscribe(client, userdata, mid, *args):
    subscribed.set()


client = mqtt.Client(client_id="paho-check-%s-%s" % (sys.argv[2], transport), protocol=protocol,
                     transport=transport)
client.on_message = on_message
client.on_subscribe = on_subscribe
if v5:
    client.connect("127.0.0.1", port, clean_start=True)
else:
    client.connect("127.0.0.1", port)
client.loop_start()
client.subscribe("t/#", qos=2)
if not subscribed.wait(5):
    sys.exit("no SUBACK")
for qos in (0, 1, 2):
    properties = None
    if v5:
        properties = Properties(PacketTypes.PUBLISH)
        properties.UserProperty = [("k", "v%d" % qos)]
        properties.ResponseTopic = "reply/%d" % qos
        properties.CorrelationData = b"id-%d" % qos
    client.publish("t/%d" % qos, b"payload-%d" % qos, qos=qos, properties=properties).wait_for_publish(5)
if v5:
    # Topic alias 1 set with the topic, then used with an empty topic.
    alias = Properties(PacketTypes.PUBLISH)
    alias.TopicAlias = 1
    client.publish("t/alias", b"first", qos=1, properties=alias).wait_for_publish(5)
    expected = 5
if not done.wait(5) or len(received) < expected:
    # One more moment for the last one.
    done.clear()
    done.wait(2)
client.loop_stop()
client.disconnect()
by_topic = {topic: (payload, qos, props) for topic, payload, qos, props in received}
for qos in (0, 1, 2):
    payload, got_qos, props = by_topic.get("t/%d" % qos, (None, None, None))
    if payload != b"payload-%d" % qos or got_qos != qos:
        sys.exit("t/%d: got %r" % (qos, by_topic.get("t/%d" % qos)))
    if v5:
        if props["user"] != [("k", "v%d" % qos)] or props["response"] != "reply/%d" % qos \
                or props["correlation"] != b"id-%d" % qos:
            sys.exit("t/%d properties: %r" % (qos, props))
if v5 and by_topic.get("t/alias", (None,))[0] != b"first":
    sys.exit("alias: %r" % (received,))
print("OK")
