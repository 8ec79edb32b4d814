#!/usr/bin/python3
"""MQTT over WebSocket edge cases against mote's broker (or the gateway's /mqtt).

usage: ws_check.py WS_PORT PATH TCP_PORT
Raw sockets for what a library would not send, python3-paho-mqtt (Debian
1.6.1) for well-behaved clients:
- a handshake offering no MQTT subprotocol (none, or only another) is
  refused with 400; `mqtt` and `mqttv3.1` are accepted and echoed;
- permessage-deflate, when offered, is negotiated and works both ways (a
  compressed CONNECT gets a compressed CONNACK);
- a WebSocket client and a TCP client exchange messages through the broker,
  small ones and 600 KB ones;
- a ping is answered, the client's close is echoed;
- a broken frame (reserved opcode) is closed with 1002, a text frame with
  1003, a message over the packet limit with 1009, a malformed MQTT packet
  ends that connection; meanwhile an
  established WebSocket subscriber keeps receiving.
Prints OK and exits 0 on success.
"""
import base64
import os
import socket
import struct
import sys
import threading
import zlib

import paho.mqtt.client as mqtt

ws_port = int(sys.argv[1])
path = sys.argv[2]
tcp_port = int(sys.argv[3])


def fail(why):
    sys.exit("FAIL: " + why)


def handshake(protocols, extensions=None):
    """Opens a raw connection; returns (socket, status line, headers dict, rest)."""
    sock = socket.create_connection(("127.0.0.1", ws_port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        "GET %s HTTP/1.1" % path,
        "Host: 127.0.0.1:%d" % ws_port,
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: " + key,
        "Sec-WebSocket-Version: 13",
    ]
    if protocols is not None:
        lines.append("Sec-WebSocket-Protocol: " + protocols)
    if extensions is not None:
        lines.append("Sec-WebSocket-Extensions: " + extensions)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    head_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in head_lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return sock, head_lines[0], headers, rest


def frame(opcode, payload, rsv1=False):
    """A masked client frame."""
    first = 0x80 | (0x40 if rsv1 else 0) | opcode
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", first, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def read_frame(sock, buffered):
    """Reads one server frame: (fin, rsv1, opcode, payload, rest) or None at EOF."""
    data = buffered

    def need(count):
        nonlocal data
        while len(data) < count:
            chunk = sock.recv(65536)
            if not chunk:
                return False
            data += chunk
        return True

    if not need(2):
        return None
    first, second = data[0], data[1]
    length = second & 0x7F
    offset = 2
    if length == 126:
        if not need(4):
            return None
        length = struct.unpack("!H", data[2:4])[0]
        offset = 4
    elif length == 127:
        if not need(10):
            return None
        length = struct.unpack("!Q", data[2:10])[0]
        offset = 10
    if second & 0x80:
        fail("a masked frame from the server")
    if not need(offset + length):
        return None
    payload = data[offset : offset + length]
    return (first & 0x80) != 0, (first & 0x40) != 0, first & 0x0F, payload, data[offset + length :]


def expect_close(sock, rest, code, why):
    """The server's next frame is a close with `code`, then the stream ends."""
    got = read_frame(sock, rest)
    if got is None or got[2] != 0x8:
        fail("%s: no close frame (got %r)" % (why, got))
    if struct.unpack("!H", got[3][:2])[0] != code:
        fail("%s: close code %d, want %d" % (why, struct.unpack("!H", got[3][:2])[0], code))
    expect_end(sock, got[4], why)


def expect_end(sock, rest, why):
    """The server closes the connection (after at most a close frame)."""
    while True:
        got = read_frame(sock, rest)
        if got is None:
            return
        if got[2] != 0x8:
            fail("%s: still open (frame opcode %d)" % (why, got[2]))
        rest = got[4]


CONNECT = bytes([0x10, 16, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 60, 0, 4]) + b"wsck"
CONNACK = bytes([0x20, 2, 0, 0])

# --- Subprotocol negotiation ---------------------------------------------
for offer in (None, "foo", "foo, mqttv5"):
    sock, status, _, _ = handshake(offer)
    if " 400 " not in status + " ":
        fail("offer %r: %s, want 400" % (offer, status))
    sock.close()
for offer, chosen in (("mqtt", "mqtt"), ("foo, mqttv3.1", "mqttv3.1"), ("mqttv3.1, mqtt", "mqttv3.1")):
    sock, status, headers, _ = handshake(offer)
    if " 101 " not in status + " " or headers.get("sec-websocket-protocol") != chosen:
        fail("offer %r: %s %r" % (offer, status, headers))
    sock.close()

# --- permessage-deflate ------------------------------------------------------
sock, status, headers, rest = handshake("mqtt", "permessage-deflate; client_max_window_bits")
if not headers.get("sec-websocket-extensions", "").startswith("permessage-deflate"):
    fail("permessage-deflate not negotiated: %r" % headers)
compressor = zlib.compressobj(wbits=-15)
compressed = compressor.compress(CONNECT) + compressor.flush(zlib.Z_SYNC_FLUSH)
sock.sendall(frame(0x2, compressed[:-4], rsv1=True))
got = read_frame(sock, rest)
if got is None or got[2] != 0x2:
    fail("deflate: no binary answer to CONNECT: %r" % (got,))
answer = got[3]
if got[1]:
    answer = zlib.decompressobj(wbits=-15).decompress(answer + b"\x00\x00\xff\xff")
if answer != CONNACK:
    fail("deflate: CONNACK %r" % answer)
sock.close()

# --- A WebSocket subscriber and a TCP client ---------------------------------
lock = threading.Lock()
arrived = {}
events = {}


def waiter(name):
    with lock:
        return events.setdefault(name, threading.Event())


def on_message(client, userdata, message):
    with lock:
        arrived.setdefault(userdata, []).append((message.topic, message.payload))
    waiter("%s %s" % (userdata, message.topic)).set()


def client(name, transport, port):
    c = mqtt.Client(client_id="wsck-" + name, transport=transport, userdata=name)
    c.on_message = on_message
    c.on_subscribe = lambda *args: waiter(name + " suback").set()
    if transport == "websockets":
        c.ws_set_options(path=path)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


ws_sub = client("ws", "websockets", ws_port)
tcp_sub = client("tcp", "tcp", tcp_port)
ws_sub.subscribe("wsck/to-ws/#", qos=1)
tcp_sub.subscribe("wsck/to-tcp/#", qos=1)
if not waiter("ws suback").wait(5) or not waiter("tcp suback").wait(5):
    fail("no SUBACK")
tcp_sub.publish("wsck/to-ws/1", b"from tcp", qos=1).wait_for_publish(5)
ws_sub.publish("wsck/to-tcp/1", b"from ws", qos=1).wait_for_publish(5)
if not waiter("ws wsck/to-ws/1").wait(5) or not waiter("tcp wsck/to-tcp/1").wait(5):
    fail("TCP <-> WebSocket: %r" % arrived)
# 600 KB each way: the broker's writes split it over several messages.
big = os.urandom(600 * 1024)
tcp_sub.publish("wsck/to-ws/big", big, qos=1).wait_for_publish(10)
ws_sub.publish("wsck/to-tcp/big", big, qos=1).wait_for_publish(10)
if not waiter("ws wsck/to-ws/big").wait(10) or not waiter("tcp wsck/to-tcp/big").wait(10):
    fail("600 KB messages did not arrive")
with lock:
    if arrived["ws"].pop() != ("wsck/to-ws/big", big) or arrived["tcp"].pop() != ("wsck/to-tcp/big", big):
        fail("600 KB messages arrived changed")

# --- Faults end only the client at fault ---------------------------------------
# A reserved opcode: 1002.
sock, status, _, rest = handshake("mqtt")
sock.sendall(frame(0x3, b"x"))
expect_close(sock, rest, 1002, "reserved opcode")
sock.close()
# A text frame: MQTT needs binary frames, 1003.
sock, status, _, rest = handshake("mqtt")
sock.sendall(frame(0x1, CONNECT.decode("latin-1").encode("utf-8")[:2]))
expect_close(sock, rest, 1003, "text frame")
sock.close()
# A malformed MQTT packet (packet type 0 is reserved) after a good CONNECT,
# split over two frames: the broker drops the connection.
sock, status, _, rest = handshake("mqtt")
sock.sendall(frame(0x2, CONNECT[:5]) + frame(0x2, CONNECT[5:]))
got = read_frame(sock, rest)
if got is None or got[3] != CONNACK:
    fail("split CONNECT: %r" % (got,))
# A ping is answered with its payload.
sock.sendall(frame(0x9, b"hi"))
pong = read_frame(sock, got[4])
if pong is None or pong[2] != 0xA or pong[3] != b"hi":
    fail("ping: %r" % (pong,))
sock.sendall(frame(0x2, bytes([0x00, 0x00])))
expect_end(sock, pong[4], "malformed MQTT packet")
sock.close()
# The client's close (1000) is answered with 1000, then the stream ends.
sock, status, _, rest = handshake("mqtt")
sock.sendall(frame(0x2, CONNECT))
got = read_frame(sock, rest)
if got is None or got[3] != CONNACK:
    fail("CONNECT: %r" % (got,))
sock.sendall(frame(0x8, struct.pack("!H", 1000)))
expect_close(sock, got[4], 1000, "client's close")
sock.close()
# A message over the broker's packet limit (1 MiB by default), refused on
# its header alone: 1009.
sock, status, _, rest = handshake("mqtt")
sock.sendall(struct.pack("!BBQ", 0x82, 0x80 | 127, 64 << 20) + os.urandom(4))
expect_close(sock, rest, 1009, "oversized message")
sock.close()
# Through all of this, the subscriber is still served.
tcp_sub.publish("wsck/to-ws/2", b"still here", qos=1).wait_for_publish(5)
if not waiter("ws wsck/to-ws/2").wait(5):
    fail("the WebSocket subscriber stopped receiving: %r" % arrived)
if arrived["ws"] != [("wsck/to-ws/1", b"from tcp"), ("wsck/to-ws/2", b"still here")]:
    fail("ws got %r" % arrived["ws"])
if arrived["tcp"] != [("wsck/to-tcp/1", b"from ws")]:
    fail("tcp got %r" % arrived["tcp"])
for c in (ws_sub, tcp_sub):
    c.disconnect()
    c.loop_stop()
print("OK")
