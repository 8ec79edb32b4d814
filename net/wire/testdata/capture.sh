#!/usr/bin/env bash
# Captures the real packets net/wire's tests are built from: a client
# namespace (Linux, dhclient, dig, ping, nc) talking to dnsmasq (DHCP + DNS)
# and to the Linux stack in a second namespace, which also routes to a third.
# Offloads are off so every checksum on the wire is the final one.
#
#   sudo net/wire/testdata/capture.sh /tmp/cap     -> /tmp/cap/cap.pcap
#   python3 net/wire/testdata/generate.py /tmp/cap/cap.pcap
#
# Needs root and: iproute2 ethtool nftables tcpdump dnsmasq-base
# isc-dhcp-client bind9-dnsutils netcat-openbsd iputils-ping python3.
# All traffic stays inside the three namespaces it makes.
set -euo pipefail
out=${1:-/tmp/cap}
mkdir -p "$out"
for n in cli srv far; do ip netns add $n; done
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -f $out/dhclient.pid ]] && kill "$(cat $out/dhclient.pid)" 2>/dev/null || true
  sleep 1
  for n in cli srv far; do ip netns del $n 2>/dev/null || true; done
}
trap cleanup EXIT
ip link add c0 netns cli type veth peer name s0 netns srv
ip link add s1 netns srv type veth peer name f0 netns far
for n in cli srv far; do ip -n $n link set lo up; done
ip -n cli link set c0 address 02:00:00:00:00:0c up
ip -n srv link set s0 address 02:00:00:00:00:05 up
ip -n srv link set s1 up; ip -n far link set f0 up
for pair in cli:c0 srv:s0 srv:s1 far:f0; do
  ip netns exec ${pair%%:*} ethtool -K ${pair##*:} tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  ip netns exec ${pair%%:*} sysctl -qw net.ipv6.conf.${pair##*:}.disable_ipv6=1
done
ip -n srv addr add 192.168.69.1/24 dev s0
ip -n srv addr add 192.168.70.1/24 dev s1
ip -n far addr add 192.168.70.2/24 dev f0
ip -n far route add default via 192.168.70.1
ip netns exec srv sysctl -qw net.ipv4.ip_forward=1

ip netns exec srv dnsmasq --no-daemon --interface=s0 --bind-interfaces --except-interface=lo \
  --no-resolv --no-hosts --dhcp-range=192.168.69.100,192.168.69.150,255.255.255.0,12h \
  --dhcp-option=option:router,192.168.69.1 --dhcp-option=option:dns-server,192.168.69.1 \
  --dhcp-authoritative --dhcp-leasefile=$out/dnsmasq.leases --local-ttl=300 \
  --host-record=example.com,93.184.215.14 --cname=www.example.com,example.com --domain=lan \
  --pid-file=$out/dnsmasq.pid --log-dhcp --log-queries >$out/dnsmasq.log 2>&1 &
pids+=($!)
sleep 1
ip netns exec cli tcpdump -i c0 -U -s 0 -w $out/cap.pcap >$out/tcpdump.log 2>&1 &
pids+=($!)
sleep 1

cat >$out/dhclient.conf <<'CONF'
send host-name "mote-node";
request subnet-mask, broadcast-address, routers, domain-name-servers, domain-name, host-name;
CONF
X="ip netns exec cli"
dh=(-cf $out/dhclient.conf -pf $out/dhclient.pid -sf /bin/true)
timeout 20 $X dhclient -1 "${dh[@]}" -lf $out/dhclient.leases c0
$X ip addr add 192.168.69.105/24 dev c0
$X ip route add default via 192.168.69.1
$X ping -c1 -W2 192.168.69.1
$X dig +noedns @192.168.69.1 example.com A
$X dig +noedns @192.168.69.1 www.example.com A
ip netns exec srv sh -c "echo hello | timeout 5 nc -l 192.168.69.1 8080 >$out/nc.out" &
sleep 1
$X sh -c 'echo ping | timeout 3 nc -q1 192.168.69.1 8080'
sleep 1
$X sh -c 'echo x | nc -u -w1 192.168.69.1 9' || true
$X ping -c1 -W2 -t1 192.168.70.2 || true
# Every 7th segment from the server is lost, so the client's ACKs carry SACK blocks.
# (Dropped on input in the client, after tcpdump has seen them: a drop on
# output would be noticed and retransmitted by the sender at once.)
ip netns exec cli nft add table inet lossy
ip netns exec cli nft add chain inet lossy in '{ type filter hook input priority 0; }'
ip netns exec cli nft add rule inet lossy in tcp sport 8081 numgen inc mod 7 == 3 drop
ip netns exec srv python3 -c "
import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR,1); s.bind(('192.168.69.1',8081)); s.listen(1)
c,_=s.accept(); c.sendall(b'x'*30000); c.close()" &
sleep 1
$X python3 -c "
import socket
s=socket.create_connection(('192.168.69.1',8081))
while s.recv(65536): pass"
sleep 1
timeout 10 $X dhclient -r "${dh[@]}" -lf $out/dhclient.leases c0
cat >$out/nak.leases <<'LEASE'
lease { interface "c0"; fixed-address 192.168.99.5; option subnet-mask 255.255.255.0;
  option dhcp-server-identifier 192.168.99.1; renew 6 2030/11/21 11:03:44;
  rebind 6 2030/11/21 16:56:35; expire 6 2030/11/21 18:26:35; }
LEASE
timeout 12 $X dhclient -1 "${dh[@]}" -lf $out/nak.leases c0 || true
sleep 1
