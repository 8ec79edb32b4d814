#!/usr/bin/env python3
"""Turns a capture made by capture.sh into the test vectors and fuzz seeds.

    python3 net/wire/testdata/generate.py /tmp/cap/cap.pcap

writes net/wire/testdata/captures.hpp (one constexpr array per frame) and the
seed corpora net/corpus/net_<protocol>_fuzzer/<frame>.bin (each fuzzer gets the
bytes its parser starts at). Frames are picked by what they hold, not by their
position, so a new capture gives the same set.
"""

import pathlib
import struct
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
NET = HERE.parent.parent


def read_pcap(path):
    data = pathlib.Path(path).read_bytes()
    (magic,) = struct.unpack("<I", data[:4])
    if magic != 0xA1B2C3D4:
        sys.exit(f"{path}: not a little-endian microsecond pcap")
    (linktype,) = struct.unpack("<I", data[20:24])
    if linktype != 1:
        sys.exit(f"{path}: link type {linktype}, want 1 (Ethernet)")
    frames, offset = [], 24
    while offset < len(data):
        _, _, caplen, _ = struct.unpack("<IIII", data[offset : offset + 16])
        offset += 16
        frames.append(data[offset : offset + caplen])
        offset += caplen
    return frames


class Frame:
    """Just enough dissection to pick frames and cut out each layer."""

    def __init__(self, raw):
        self.raw = raw
        self.ethertype = struct.unpack(">H", raw[12:14])[0]
        self.l3 = raw[14:]
        self.ip = self.l4 = self.app = None
        self.proto = self.sport = self.dport = None
        if self.ethertype == 0x0800:
            ihl = (self.l3[0] & 0x0F) * 4
            total = struct.unpack(">H", self.l3[2:4])[0]
            self.ip = self.l3[:total]
            self.proto = self.ip[9]
            self.src, self.dst = self.ip[12:16], self.ip[16:20]
            self.l4 = self.ip[ihl:]
            if self.proto in (6, 17):
                self.sport, self.dport = struct.unpack(">HH", self.l4[:4])
            if self.proto == 17:
                self.app = self.l4[8:]
            elif self.proto == 6:
                self.app = self.l4[(self.l4[12] >> 4) * 4 :]

    def dhcp_options(self):
        options, offset = {}, 240
        while offset < len(self.app) and self.app[offset] != 255:
            if self.app[offset] == 0:
                offset += 1
                continue
            length = self.app[offset + 1]
            options[self.app[offset]] = self.app[offset + 2 : offset + 2 + length]
            offset += 2 + length
        return options

    def tcp_flags(self):
        return self.l4[13]

    def tcp_options(self):
        return self.l4[20 : (self.l4[12] >> 4) * 4]


def is_dhcp(f, kind, with_server_id=None):
    if f.sport not in (67, 68) or f.proto != 17:
        return False
    options = f.dhcp_options()
    if options.get(53) != bytes([kind]):
        return False
    return with_server_id is None or (54 in options) == with_server_id


def is_dns(f, name, response):
    if f.proto != 17 or 53 not in (f.sport, f.dport):
        return False
    return (f.sport == 53) == response and name in f.app


def has_sack_blocks(f, count):
    # Linux: NOP NOP TS(10) NOP NOP SACK(2 + 8n)
    return f.proto == 6 and bytes([5, 2 + 8 * count]) in f.tcp_options()


# name, what it is (for the comment), which layer seeds which fuzzer, picker
PICKS = [
    ("kDhcpDiscover", "DHCPDISCOVER from dhclient (RFC 2131), broadcast",
     lambda f: is_dhcp(f, 1)),
    ("kDhcpOffer", "DHCPOFFER from dnsmasq 2.90", lambda f: is_dhcp(f, 2)),
    ("kDhcpRequest", "DHCPREQUEST (SELECTING: server id + requested IP) from dhclient",
     lambda f: is_dhcp(f, 3, with_server_id=True)),
    ("kDhcpAck", "DHCPACK from dnsmasq, no padding after END", lambda f: is_dhcp(f, 5)),
    ("kDhcpRelease", "DHCPRELEASE from dhclient, unicast", lambda f: is_dhcp(f, 7)),
    ("kDhcpRequestInitReboot", "DHCPREQUEST (INIT-REBOOT, a lease on another network)",
     lambda f: is_dhcp(f, 3, with_server_id=False)),
    ("kDhcpNak", "DHCPNAK from dnsmasq with a message option, broadcast flag set",
     lambda f: is_dhcp(f, 6)),
    ("kArpRequest", "ARP request from Linux: who has 192.168.69.1",
     lambda f: f.ethertype == 0x0806 and f.l3[7] == 1 and f.l3[14:18] == bytes([192, 168, 69, 105])),
    ("kArpReply", "ARP reply from Linux: 192.168.69.1 is at 02:00:00:00:00:05",
     lambda f: f.ethertype == 0x0806 and f.l3[7] == 2),
    ("kPingRequest", "ICMP echo request from Linux ping (56 data bytes, DF set)",
     lambda f: f.proto == 1 and f.l4[0] == 8 and f.src == bytes([192, 168, 69, 105])
     and f.dst == bytes([192, 168, 69, 1])),
    ("kPingReply", "ICMP echo reply from Linux", lambda f: f.proto == 1 and f.l4[0] == 0),
    ("kDnsQueryA", "DNS query from dig: example.com A (RD and AD set, no EDNS)",
     lambda f: is_dns(f, b"\x07example\x03com\x00", False) and b"\x03www" not in f.app),
    ("kDnsResponseA", "DNS response from dnsmasq: example.com A 93.184.215.14, TTL 300",
     lambda f: is_dns(f, b"\x07example\x03com\x00", True) and b"\x03www" not in f.app),
    ("kDnsQueryCname", "DNS query from dig: www.example.com A",
     lambda f: is_dns(f, b"\x03www\x07example", False)),
    ("kDnsResponseCname", "DNS response from dnsmasq: www.example.com CNAME example.com, A",
     lambda f: is_dns(f, b"\x03www\x07example", True)),
    ("kTcpSyn", "TCP SYN from Linux: MSS 1460, SACK permitted, timestamps, window scale 10",
     lambda f: f.proto == 6 and f.tcp_flags() == 0x02),
    ("kTcpSynAck", "TCP SYN-ACK from Linux", lambda f: f.proto == 6 and f.tcp_flags() == 0x12),
    ("kTcpData", "TCP PSH+ACK from Linux carrying \"ping\\n\", timestamps",
     lambda f: f.proto == 6 and f.app == b"ping\n"),
    ("kTcpSack", "TCP duplicate ACK from Linux with two SACK blocks after a loss",
     lambda f: has_sack_blocks(f, 2)),
    ("kUdpDatagram", "UDP datagram \"x\\n\" from nc to a closed port",
     lambda f: f.proto == 17 and f.dport == 9),
    ("kIcmpPortUnreachable", "ICMP destination unreachable (port) quoting that datagram",
     lambda f: f.proto == 1 and f.l4[0] == 3 and f.l4[1] == 3),
    ("kIcmpTimeExceeded", "ICMP time exceeded from a Linux router quoting a TTL-1 ping",
     lambda f: f.proto == 1 and f.l4[0] == 11),
]


def seeds_of(name, f):
    """(fuzzer, bytes) pairs: every layer of the frame seeds its parser's fuzzer."""
    seeds = [("ethernet", f.raw)]
    if f.ethertype == 0x0806:
        seeds.append(("arp", f.l3))
    if f.ip is not None:
        seeds.append(("ipv4", f.ip))
        if f.proto == 1:
            seeds.append(("icmpv4", f.l4))
        elif f.proto == 6:
            seeds.append(("tcp", f.l4))
        elif f.proto == 17:
            seeds.append(("udp", f.l4))
            if 67 in (f.sport, f.dport):
                seeds.append(("dhcp", f.app))
            if 53 in (f.sport, f.dport):
                seeds.append(("dns", f.app))
    return seeds


def cpp_array(name, comment, raw):
    lines = [f"// {comment}", f"inline constexpr std::array<std::uint8_t, {len(raw)}> {name} = {{"]
    for i in range(0, len(raw), 12):
        lines.append("    " + " ".join(f"0x{b:02x}," for b in raw[i : i + 12]))
    lines.append("};")
    return "\n".join(lines)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    frames = [Frame(raw) for raw in read_pcap(sys.argv[1])]
    arrays = []
    for name, comment, pick in PICKS:
        matches = [f for f in frames if pick(f)]
        if not matches:
            sys.exit(f"no frame for {name}")
        frame = matches[0]
        arrays.append(cpp_array(name, comment, frame.raw))
        stem = name[1:]
        stem = "".join("_" + c.lower() if c.isupper() else c for c in stem).lstrip("_")
        for fuzzer, data in seeds_of(name, frame):
            folder = NET / "corpus" / f"net_{fuzzer}_fuzzer"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{stem}.bin").write_bytes(data)

    header = HERE / "captures.hpp"
    header.write_text(
        "#pragma once\n"
        "// Real Ethernet II frames (no FCS) captured by capture.sh and written out by\n"
        "// generate.py: do not edit by hand. Client 192.168.69.105 / 02:00:00:00:00:0c\n"
        "// (Linux 6.x, dhclient, dig, ping, nc); server 192.168.69.1 / 02:00:00:00:00:05\n"
        "// (dnsmasq 2.90 and Linux), which routes to 192.168.70.0/24.\n\n"
        "#include <array>\n#include <cstdint>\n\n"
        "namespace mote::net::wire::testdata {\n\n"
        + "\n\n".join(arrays)
        + "\n\n}  // namespace mote::net::wire::testdata\n"
    )
    subprocess.run(["clang-format", "-i", str(header)], check=False)


if __name__ == "__main__":
    main()
