#!/usr/bin/python3
"""The publisher and the receiver of the broker crash test (python3-paho-mqtt).

usage: paho_crash.py publish PORT COUNT
    Publishes "0".."COUNT-1" to crash/1 (QoS 1) and crash/2 (QoS 2)
    alternately, 20 in flight, and prints "acked N" (flushed) for each
    message the broker acknowledged (PUBACK, PUBCOMP).
usage: paho_crash.py receive PORT CLIENT_ID
    Resumes the persistent session CLIENT_ID (clean session 0, MQTT 3.1.1)
    and prints "got TOPIC N" for each message until none came for 2 s.
usage: paho_crash.py subscribe PORT CLIENT_ID
    Creates that session: subscribes to crash/# at QoS 2 and disconnects.
"""
import sys
import threading
import time

import paho.mqtt.client as mqtt

mode, port = sys.argv[1], int(sys.argv[2])

if mode == "publish":
    count = int(sys.argv[3])
    # The callback only records the id (list.append is atomic): taking a
    # lock there while the main thread holds it inside publish() can
    # deadlock against paho's own locks.
    acked_mids = []
    numbers = {}

    def drain():
        while acked_mids:
            mid = acked_mids.pop(0)
            if mid in numbers:
                print("acked %d" % numbers.pop(mid), flush=True)
            else:
                acked_mids.append(mid)  # acknowledged before publish() returned its id
                break

    connected = threading.Event()
    client = mqtt.Client(client_id="crash-publisher", clean_session=True)
    client.on_publish = lambda client, userdata, mid: acked_mids.append(mid)
    client.on_connect = lambda *args: connected.set()
    client.max_inflight_messages_set(20)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    if not connected.wait(5):
        sys.exit("no CONNACK")
    for number in range(count):
        qos = 1 if number % 2 == 0 else 2
        info = client.publish("crash/%d" % qos, str(number), qos=qos)
        numbers[info.mid] = number
        drain()
        while len(numbers) > 40 and client.is_connected():
            time.sleep(0.001)
            drain()
        if not client.is_connected():
            break
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        drain()
        time.sleep(0.01)
    client.loop_stop()
elif mode == "subscribe":
    subscribed = threading.Event()
    client = mqtt.Client(client_id=sys.argv[3], clean_session=False)
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.subscribe("crash/#", qos=2)
    if not subscribed.wait(5):
        sys.exit("no SUBACK")
    client.disconnect()
    client.loop_stop()
    print("subscribed", flush=True)
else:
    last = [time.monotonic()]

    def on_message(client, userdata, message):
        last[0] = time.monotonic()
        print("got %s %s" % (message.topic, message.payload.decode()), flush=True)

    client = mqtt.Client(client_id=sys.argv[3], clean_session=False)
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    deadline = time.monotonic() + 60
    while time.monotonic() - last[0] < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    client.loop_stop()
    print("done", flush=True)
