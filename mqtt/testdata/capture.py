#!/usr/bin/python3
"""Captures real MQTT conversations for mqtt's codec tests.

    /usr/bin/python3 mqtt/testdata/capture.py

starts mosquitto on 127.0.0.1, puts a small TCP proxy in front of it that
records every byte in both directions, runs mosquitto_pub / mosquitto_sub
(MQTT 3.1.1 and 5) and a paho-mqtt client (MQTT 5: subscription options,
subscription identifiers, unsubscribe, disconnect with a reason) through the
proxy, cuts each direction into packets and writes

    mqtt/testdata/captures.hpp         one constexpr array per packet
    mqtt/corpus/mqtt_codec_fuzzer/*.bin  the fuzzer's seeds (version byte + packet)

Packets are named <scenario>_<c2s|s2c>_<type><n>. Only loopback is used.
Needs mosquitto, mosquitto-clients and python3-paho-mqtt (Debian's python3).
"""

import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
MQTT = HERE.parent
TYPES = ["reserved", "connect", "connack", "publish", "puback", "pubrec", "pubrel", "pubcomp",
         "subscribe", "suback", "unsubscribe", "unsuback", "pingreq", "pingresp", "disconnect",
         "auth"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")


class Recorder:
    """A TCP proxy: each accepted connection is forwarded to the broker and
    both directions are recorded under the scenario name current when it was
    accepted."""

    def __init__(self, broker_port):
        self.broker_port = broker_port
        self.scenario = "none"
        self.conversations = []  # (scenario, {"c2s": bytearray, "s2c": bytearray})
        self.lock = threading.Lock()
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.broker_port))
            record = {"c2s": bytearray(), "s2c": bytearray()}
            with self.lock:
                self.conversations.append((self.scenario, record))
            threading.Thread(target=self.pump, args=(client, upstream, record["c2s"]),
                             daemon=True).start()
            threading.Thread(target=self.pump, args=(upstream, client, record["s2c"]),
                             daemon=True).start()

    def pump(self, source, sink, log):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                with self.lock:
                    log.extend(data)
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def split_packets(stream):
    packets, i = [], 0
    while i < len(stream):
        length, shift, j = 0, 0, i + 1
        while True:
            byte = stream[j]
            length |= (byte & 0x7F) << shift
            shift += 7
            j += 1
            if not byte & 0x80:
                break
        packets.append(bytes(stream[i:j + length]))
        i = j + length
    return packets


def run(argv, timeout=10):
    subprocess.run(argv, check=True, timeout=timeout, stdout=subprocess.DEVNULL)


def scenarios(rec, port):
    p = str(port)
    sub = None

    def start_sub(args):
        proc = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", p] + args,
                                stdout=subprocess.DEVNULL)
        time.sleep(0.5)
        return proc

    # MQTT 5: a subscriber with a user property and session expiry, then QoS 0/1/2 publishes.
    rec.scenario = "v5_sub"
    sub = start_sub(["-V", "mqttv5", "-i", "mote-sub5", "-q", "2", "-t", "sensors/+/temp",
                     "-t", "alerts/#", "-C", "4", "-D", "connect", "session-expiry-interval", "60",
                     "-D", "subscribe", "user-property", "who", "mote"])
    rec.scenario = "v5_pub_qos0"
    run(["mosquitto_pub", "-h", "127.0.0.1", "-p", p, "-V", "mqttv5", "-i", "mote-pub5",
         "-t", "sensors/kitchen/temp", "-m", "21.5", "-q", "0"])
    rec.scenario = "v5_pub_qos1"
    run(["mosquitto_pub", "-h", "127.0.0.1", "-p", p, "-V", "mqttv5", "-i", "mote-pub5",
         "-t", "sensors/hall/temp", "-m", "19.0", "-q", "1",
         "-D", "publish", "user-property", "unit", "C",
         "-D", "publish", "content-type", "text/plain",
         "-D", "publish", "message-expiry-interval", "300"])
    rec.scenario = "v5_pub_qos2"
    run(["mosquitto_pub", "-h", "127.0.0.1", "-p", p, "-V", "mqttv5", "-i", "mote-pub5",
         "-t", "alerts/door", "-m", "open", "-q", "2",
         "-D", "publish", "response-topic", "alerts/ack",
         "-D", "publish", "correlation-data", "c0ffee"])
    rec.scenario = "v5_pub_retained"
    run(["mosquitto_pub", "-h", "127.0.0.1", "-p", p, "-V", "mqttv5", "-i", "mote-pub5r",
         "-t", "alerts/state", "-m", "armed", "-q", "1", "-r",
         "-D", "publish", "payload-format-indicator", "1"])
    sub.wait(timeout=10)

    # MQTT 3.1.1: subscriber with a will and credentials, QoS 0/1/2.
    rec.scenario = "v311_sub"
    sub = start_sub(["-V", "mqttv311", "-i", "mote-sub311", "-q", "2", "-t", "plant/#", "-C", "3",
                     "-u", "user", "-P", "secret", "-k", "30",
                     "--will-topic", "plant/status", "--will-payload", "offline",
                     "--will-qos", "1", "--will-retain"])
    for qos in ("0", "1", "2"):
        rec.scenario = f"v311_pub_qos{qos}"
        run(["mosquitto_pub", "-h", "127.0.0.1", "-p", p, "-V", "mqttv311", "-i", "mote-pub311",
             "-t", f"plant/line{qos}", "-m", f"reading {qos}", "-q", qos])
    sub.wait(timeout=10)
    rec.scenario = "v311_clear_retained"
    run(["mosquitto_pub", "-h", "127.0.0.1", "-p", p, "-V", "mqttv311", "-t", "alerts/state",
         "-n", "-r"])

    # MQTT 5 through paho: subscription options, identifiers, unsubscribe,
    # a keep-alive ping and a disconnect with a reason code and properties.
    rec.scenario = "v5_paho"
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties
    from paho.mqtt.subscribeoptions import SubscribeOptions
    from paho.mqtt.reasoncodes import ReasonCodes

    done = threading.Event()
    got = []
    client = mqtt.Client(client_id="mote-paho", protocol=mqtt.MQTTv5)
    client.on_message = lambda c, u, m: got.append(m.topic)
    client.on_subscribe = lambda *a: done.set()
    client.on_unsubscribe = lambda *a: done.set()
    connect_props = Properties(PacketTypes.CONNECT)
    connect_props.SessionExpiryInterval = 120
    connect_props.ReceiveMaximum = 10
    connect_props.TopicAliasMaximum = 5
    connect_props.MaximumPacketSize = 65536
    client.connect("127.0.0.1", port, keepalive=60, clean_start=True, properties=connect_props)
    client.loop_start()
    time.sleep(0.3)
    sub_props = Properties(PacketTypes.SUBSCRIBE)
    sub_props.SubscriptionIdentifier = 42
    done.clear()
    client.subscribe([("rooms/+/light",
                       SubscribeOptions(qos=1, noLocal=True, retainAsPublished=True,
                                        retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)),
                      ("$share/grp/rooms/#", SubscribeOptions(qos=2))],
                     properties=sub_props)
    done.wait(5)
    pub_props = Properties(PacketTypes.PUBLISH)
    pub_props.UserProperty = [("a", "1"), ("b", "2")]
    client.publish("rooms/1/light", b"on", qos=1, properties=pub_props).wait_for_publish(5)
    client.publish("rooms/2/light", b"off", qos=2).wait_for_publish(5)
    time.sleep(0.3)
    client._send_pingreq()
    time.sleep(0.3)
    done.clear()
    client.unsubscribe(["rooms/+/light", "$share/grp/rooms/#"])
    done.wait(5)
    disconnect_props = Properties(PacketTypes.DISCONNECT)
    disconnect_props.SessionExpiryInterval = 0
    disconnect_props.ReasonString = "bye"
    client.disconnect(reasoncode=ReasonCodes(PacketTypes.DISCONNECT, "Disconnect with will message"),
                      properties=disconnect_props)
    time.sleep(0.3)
    client.loop_stop()

    # An empty client id with a persistent session: mosquitto assigns one (MQTT 5)...
    raw_exchange(rec, "v5_empty_client_id",
                 bytes([0x10, 13, 0, 4]) + b"MQTT" + bytes([5, 0x00, 0, 60, 0, 0, 0]))
    # ...and refuses it in 3.1.1 (return code 2, identifier rejected).
    raw_exchange(rec, "v311_empty_client_id",
                 bytes([0x10, 12, 0, 4]) + b"MQTT" + bytes([4, 0x00, 0, 60, 0, 0]))
    # An authentication method mosquitto has no plugin for: CONNACK 0x8C.
    method = b"SCRAM-SHA-1"
    props = bytes([0x15, 0, len(method)]) + method
    body = bytes([0, 4]) + b"MQTT" + bytes([5, 0x02, 0, 60, len(props)]) + props + bytes([0, 1]) + b"x"
    raw_exchange(rec, "v5_bad_auth_method", bytes([0x10, len(body)]) + body)


def raw_exchange(rec, scenario, connect):
    rec.scenario = scenario
    s = socket.create_connection(("127.0.0.1", rec.port))
    s.sendall(connect)
    time.sleep(0.3)
    s.close()
    time.sleep(0.2)


def cpp_name(name):
    return "k" + "".join(part.capitalize() for part in name.split("_"))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        conf = os.path.join(tmp, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        broker = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            wait_listening(port)
            rec = Recorder(port)
            scenarios(rec, rec.port)
            time.sleep(0.5)
        finally:
            broker.terminate()
            broker.wait(timeout=5)

    version = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True).stdout.split("\n")[0]
    lines = [
        "#pragma once",
        "// Real MQTT packets recorded by capture.py between mosquitto_pub /",
        f"// mosquitto_sub / paho-mqtt 1.6.1 and the broker ({version.strip()})",
        "// on 127.0.0.1: do not edit by hand. Names: <scenario>_<c2s|s2c>_<type><n>",
        "// (c2s: client to server).",
        "",
        "#include <array>",
        "#include <cstdint>",
        "#include <span>",
        "",
        "namespace mote::mqtt::testdata {",
        "",
    ]
    table = []
    corpus = MQTT / "corpus" / "mqtt_codec_fuzzer"
    corpus.mkdir(parents=True, exist_ok=True)
    for old in corpus.glob("*.bin"):
        old.unlink()
    seen = {}
    for scenario, record in rec.conversations:
        v5 = scenario.startswith("v5")
        for direction in ("c2s", "s2c"):
            counts = {}
            for packet in split_packets(record[direction]):
                kind = TYPES[packet[0] >> 4]
                counts[kind] = counts.get(kind, 0) + 1
                name = f"{scenario}_{direction}_{kind}{counts[kind]}"
                while name in seen:
                    name += "_again"
                seen[name] = True
                body = ", ".join(f"0x{b:02x}" for b in packet)
                lines.append(f"inline constexpr std::array<std::uint8_t, {len(packet)}> "
                             f"{cpp_name(name)} = {{{body}}};")
                table.append(f"    {{\"{name}\", {cpp_name(name)}, {5 if v5 else 4}}},")
                (corpus / f"{name}.bin").write_bytes(bytes([5 if v5 else 4]) + packet)
    lines += ["", "struct CapturedPacket {", "  const char* name;",
              "  std::span<const std::uint8_t> bytes;", "  int protocol_level;  // 4: 3.1.1, 5: 5.0",
              "};", "", "inline constexpr CapturedPacket kAllPackets[] = {"] + table + ["};"]
    lines += ["", "}  // namespace mote::mqtt::testdata", ""]
    (HERE / "captures.hpp").write_text("\n".join(lines))
    print(f"{len(seen)} packets")


if __name__ == "__main__":
    main()
