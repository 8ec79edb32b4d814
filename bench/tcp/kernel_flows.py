"""Traffic, measurement and the ACK path's delay for bench/tcp/kernel_flows
(read that script first).

`delay-line` holds the ACK path's packets for the RTT (below). `flows` runs
N kernel TCP flows from the sender namespace to the receiver namespace
that bench/tcp/kernel_flows built, all from one process (sockets keep the
namespace they were created in, so the process enters each in turn with
setns), sends continuously for --seconds, then prints one line in
mote_tcp_netsim's key=value style. Counters are read at the start and the
end of the span, so connection set-up is left out:

  goodput        payload bytes the receiver read per second of the span
  arrived        packets at the bottleneck: sent + dropped (tbf, `tc -s`)
  queue_dropped  packets the bottleneck dropped; drop_rate = dropped / arrived
  bottleneck_rate  bytes the bottleneck sent per second (checks the emulation
                 kept up: should be the configured rate)
  path_dropped   packets dropped anywhere else on the path (veth and TUN
                 counters; should be 0, else queue_dropped is too low)
  retrans_segs   the sender namespace's TcpRetransSegs (nstat); also
                 tcpi_total_retrans summed over the flows (TCP_INFO)
  timeouts       TcpExtTCPTimeouts: retransmission timer expiries
  peer_window_max  the largest receive window any receiver advertised
                 (the sender's tcpi_snd_wnd); flight_max the largest flight
                 (tcpi_unacked x tcpi_snd_mss); cwnd_max in segments;
                 sampled every 100 ms
  rwnd_limited, sndbuf_limited  share of the flows' busy time limited by
                 the receive window / the send buffer (TCP_INFO)
  paced          whether the kernel paced the sender: `fq` (the fq qdisc),
                 `internal` (the congestion control asks for it: bbr), `no`

Python standard library only.
"""

import argparse
import collections
import ctypes
import fcntl
import json
import os
import select
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000
PORT = 5001
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
# struct tcp_info offsets (include/uapi/linux/tcp.h); fields up to
# tcpi_snd_wnd, whose layout has been fixed since Linux 5.4.
TCPI_SND_MSS = 16
TCPI_UNACKED = 24
TCPI_SND_CWND = 80
TCPI_MIN_RTT = 148
TCPI_TOTAL_RETRANS = 100
TCPI_BUSY_TIME = 168
TCPI_RWND_LIMITED = 176
TCPI_SNDBUF_LIMITED = 184
TCPI_SND_WND = 228
TCPI_SIZE = 232

libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(handle):
    if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
        sys.exit(f"kernel_flows: setns({handle.name}): {os.strerror(ctypes.get_errno())}")


def in_netns(namespace, *command):
    done = subprocess.run(["ip", "netns", "exec", namespace, *command],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"kernel_flows: {' '.join(command)} in {namespace}: {done.stderr.strip()}")
    return done.stdout


def qdisc_stats(namespace, device):
    """The root qdisc of `device`: kind, sent bytes and packets, drops."""
    for qdisc in json.loads(in_netns(namespace, "tc", "-s", "-j", "qdisc", "show", "dev", device)):
        if qdisc.get("root"):
            return {"kind": qdisc["kind"], "bytes": qdisc.get("bytes", 0),
                    "packets": qdisc.get("packets", 0), "drops": qdisc.get("drops", 0)}
    sys.exit(f"kernel_flows: no root qdisc on {device} in {namespace}")


def link_drops(devices):
    """Packets the path's devices dropped (a veth counts what its peer could
    not take as its own TX drop; a TUN device what its reader did not take)."""
    total = 0
    for path in devices:
        namespace, device = path.split("/")
        stats = json.loads(in_netns(namespace, "ip", "-s", "-j", "link", "show", "dev", device))
        total += stats[0]["stats64"]["tx"]["dropped"] + stats[0]["stats64"]["rx"]["dropped"]
    return total


def tcp_counters(namespace):
    counters = {}
    for line in in_netns(namespace, "nstat", "-a", "-s", "-z").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            counters[parts[0]] = int(parts[1])
    return counters


def tcp_info(sock):
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 512)
    if len(raw) < TCPI_SIZE:
        sys.exit(f"kernel_flows: TCP_INFO has {len(raw)} bytes, need {TCPI_SIZE} (Linux >= 5.4)")
    return raw


def u32(raw, offset):
    return struct.unpack_from("=I", raw, offset)[0]


def u64(raw, offset):
    return struct.unpack_from("=Q", raw, offset)[0]


def open_flows(args):
    with (open("/proc/self/ns/net", "rb") as home,
          open(f"/run/netns/{args.receiver_netns}", "rb") as receiver_netns,
          open(f"/run/netns/{args.sender_netns}", "rb") as sender_netns):
        enter_netns(receiver_netns)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Accepted sockets inherit the listener's buffers; the receive buffer
        # must be set before the handshake, which fixes the window scale.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.buffer)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, args.buffer)
        listener.bind((args.receiver_address, PORT))
        listener.listen(args.flows)
        enter_netns(sender_netns)
        senders = [connect(args) for _ in range(args.flows)]
        enter_netns(home)
    listener.settimeout(10)
    receivers = [listener.accept()[0] for _ in senders]
    listener.close()
    return senders, receivers


def connect(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, args.buffer)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.buffer)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, args.cc.encode())
    except OSError as error:
        sys.exit(f"kernel_flows: congestion control {args.cc}: {error}")
    sock.settimeout(10)
    try:
        sock.connect((args.receiver_address, PORT))
    except OSError as error:
        sys.exit(f"kernel_flows: connect to {args.receiver_address}:{PORT}: {error}")
    return sock


def run(args):
    senders, receivers = open_flows(args)
    cc = senders[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()
    sndbuf = senders[0].getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    rcvbuf = receivers[0].getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    selector = selectors.DefaultSelector()
    for sock in senders:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_WRITE, "send")
    for sock in receivers:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, "receive")
    payload = memoryview(bytes(64 * 1024))
    sink = bytearray(256 * 1024)
    peer_window_max = flight_max = cwnd_max = 0

    def sample():
        nonlocal peer_window_max, flight_max, cwnd_max
        for sock in senders:
            raw = tcp_info(sock)
            peer_window_max = max(peer_window_max, u32(raw, TCPI_SND_WND))
            flight_max = max(flight_max, u32(raw, TCPI_UNACKED) * u32(raw, TCPI_SND_MSS))
            cwnd_max = max(cwnd_max, u32(raw, TCPI_SND_CWND))

    queue_before = qdisc_stats(args.router_netns, args.bottleneck_device)
    counters_before = tcp_counters(args.sender_netns)
    path_drops_before = link_drops(args.path_device)
    retrans_before = sum(u32(tcp_info(sock), TCPI_TOTAL_RETRANS) for sock in senders)
    received = 0
    start = time.monotonic()
    end = start + args.seconds
    next_sample = start
    while (now := time.monotonic()) < end:
        if now >= next_sample:
            sample()
            next_sample = now + 0.1
        for key, _ in selector.select(timeout=max(0.0, min(end, next_sample) - now)):
            try:
                if key.data == "send":
                    key.fileobj.send(payload)
                else:
                    received += key.fileobj.recv_into(sink)
            except BlockingIOError:
                pass
    elapsed = time.monotonic() - start
    queue_after = qdisc_stats(args.router_netns, args.bottleneck_device)
    counters_after = tcp_counters(args.sender_netns)
    path_drops = link_drops(args.path_device) - path_drops_before
    infos = [tcp_info(sock) for sock in senders]
    sender_qdisc = qdisc_stats(args.sender_netns, args.sender_device)["kind"]
    for sock in senders + receivers:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def delta(name):
        return counters_after.get(name, 0) - counters_before.get(name, 0)

    sent = queue_after["packets"] - queue_before["packets"]
    dropped = queue_after["drops"] - queue_before["drops"]
    busy = sum(u64(raw, TCPI_BUSY_TIME) for raw in infos) or 1
    if sender_qdisc == "fq":
        paced = "fq"
    elif cc == "bbr":
        paced = "internal"
    else:
        paced = "no"
    fields = {
        "stack": f"kernel-{cc}", "flows": args.flows, "rate": args.rate, "queue": args.queue,
        "rtt_ms": args.rtt_ms, "buffer": args.buffer, "seconds": args.seconds,
        "goodput": f"{received / elapsed:.0f}",
        "arrived": sent + dropped, "queue_dropped": dropped,
        "drop_rate": f"{dropped / (sent + dropped) if sent + dropped else 0:.4f}",
        "bottleneck_rate": f"{(queue_after['bytes'] - queue_before['bytes']) / elapsed:.0f}",
        "path_dropped": path_drops,
        "retrans_segs": delta("TcpRetransSegs"), "out_segs": delta("TcpOutSegs"),
        "tcpi_total_retrans": sum(u32(raw, TCPI_TOTAL_RETRANS) for raw in infos) - retrans_before,
        "timeouts": delta("TcpExtTCPTimeouts"),
        "sndbuf": sndbuf, "rcvbuf": rcvbuf, "peer_window_max": peer_window_max,
        "flight_max": flight_max, "cwnd_max": cwnd_max,
        "min_rtt_ms": f"{min(u32(raw, TCPI_MIN_RTT) for raw in infos) / 1000:.1f}",
        "rwnd_limited": f"{sum(u64(raw, TCPI_RWND_LIMITED) for raw in infos) / busy:.3f}",
        "sndbuf_limited": f"{sum(u64(raw, TCPI_SNDBUF_LIMITED) for raw in infos) / busy:.3f}",
        "sender_qdisc": sender_qdisc, "paced": paced, "result": "ok",
    }
    print(" ".join(f"{key}={value}" for key, value in fields.items()), flush=True)


def delay_line(args):
    """Holds every packet the router routes into the TUN device for the
    delay, then hands it back to the router, which forwards it on: the ACK
    path's RTT. Runs in the router's namespace until SIGTERM, then prints
    how late the packets left (the emulation's own jitter)."""
    tun = os.open("/dev/net/tun", os.O_RDWR)
    request = struct.pack("16sH", args.device.encode(), IFF_TUN | IFF_NO_PI)
    fcntl.ioctl(tun, TUNSETIFF, request)
    os.set_blocking(tun, False)
    delay = args.delay_ms / 1000
    held = collections.deque()
    packets = late_max = late_sum = 0
    stop = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.append(True))
    while not stop:
        now = time.monotonic()
        while held and held[0][0] <= now:
            due, packet = held.popleft()
            os.write(tun, packet)
            packets += 1
            late_max = max(late_max, now - due)
            late_sum += now - due
        timeout = max(0.0, held[0][0] - now) if held else 1.0
        try:
            if select.select([tun], [], [], timeout)[0]:
                while True:
                    held.append((time.monotonic() + delay, os.read(tun, 65536)))
        except (BlockingIOError, InterruptedError):
            pass
    print(f"delay_line: packets={packets} late_max_ms={late_max * 1000:.2f} "
          f"late_mean_ms={late_sum * 1000 / max(packets, 1):.3f}", file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    flows = commands.add_parser("flows")
    for name in ("sender-netns", "router-netns", "receiver-netns", "receiver-address",
                 "bottleneck-device", "sender-device", "cc"):
        flows.add_argument(f"--{name}", required=True)
    for name in ("flows", "rate", "queue", "rtt-ms", "buffer", "seconds"):
        flows.add_argument(f"--{name}", type=int, required=True)
    flows.add_argument("--path-device", action="append", default=[], metavar="NETNS/DEVICE")
    delay = commands.add_parser("delay-line")
    delay.add_argument("--device", required=True)
    delay.add_argument("--delay-ms", type=int, required=True)
    args = parser.parse_args()
    if args.command == "flows":
        run(args)
    else:
        delay_line(args)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
