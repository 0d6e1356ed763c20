#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ARP mode end to end: tap0 with ARP on (ifconfig tap0 arp, or ip link set
# tap0 arp on) resolves its neighbours through user space.  A responder
# with its own MAC (tools/ethertap-pingd -a) answers ARP, IPv6 neighbour
# solicitations and echo requests, and ping and ping -6 get every reply;
# the kernel answers a neighbour solicitation sent to its solicited-node
# group, and not one sent to another group.  Run by run.sh with the
# modules loaded (ethertap max_taps=2, netlink_dev).
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
pingd=$repo/tools/ethertap-pingd
peer=02:00:00:00:05:02
tmp=$(mktemp -d)
pid=

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

noarp() { echo $(($(cat /sys/class/net/tap0/flags) & 0x80 ? 1 : 0)); }
estat() { ethtool -S tap0 | sed -n "s/^ *$1: //p"; }
drops() { echo "$(estat rx_dropped_other_host)/$(estat rx_dropped_mcast_filtered)"; }
received() {	# received N ping...: the ping gets exactly N replies
	local n=$1 out
	shift
	out=$("$@" 2>&1)
	echo "$out" | sed 's/^/# /'
	echo "$out" | grep -q " $n received"
}

ktap_print_header
ktap_set_plan 6

# 1. The HOWTO's spelling: ifconfig tap0 arp clears NOARP, -arp sets it.
if command -v ifconfig >/dev/null; then
	a=$(noarp)
	ifconfig tap0 arp
	b=$(noarp)
	ifconfig tap0 -arp
	c=$(noarp)
	check "ifconfig tap0 arp / -arp: NOARP $a -> $b -> $c" \
		test "$a$b$c" = 101
else
	ktap_test_skip "ifconfig tap0 arp: no ifconfig"
fi

# tap0 with ARP on, IPv4 and IPv6 (no duplicate address detection).
echo 0 > /proc/sys/net/ipv6/conf/tap0/disable_ipv6
ip link set tap0 arp on
ip addr add 10.5.0.1/24 dev tap0
ip -6 addr add fd05::1/64 dev tap0 nodad
ip link set tap0 up
make -s -C "$repo/tools" >/dev/null 2>&1
d0=$(drops)
rx0=$(cat /sys/class/net/tap0/statistics/rx_packets)

"$pingd" -a $peer -4 10.5.0.2 -6 fd05::2 -c 6 -v > "$tmp/pingd.log" 2>&1 &
pid=$!
for i in $(seq 100); do
	[ "$(readlink /proc/$pid/fd/3 2>/dev/null)" = /dev/tap0 ] && break
	sleep 0.1
done

# 2-3. ping and ping -6: resolved through the responder, every reply back.
received 3 ping -c 3 -W 3 10.5.0.2
r=$?
n4=$(ip neigh show 10.5.0.2 dev tap0)
check "ping -c 3 10.5.0.2 with ARP on: 3 replies, neighbour ($n4)" \
	test $r = 0 -a "$(echo "$n4" | cut -d' ' -f3)" = $peer
received 3 ping -6 -c 3 -W 3 fd05::2
r=$?
n6=$(ip -6 neigh show fd05::2 dev tap0)
check "ping -6 -c 3 fd05::2 with ARP on: 3 replies, neighbour ($n6)" \
	test $r = 0 -a "$(echo "$n6" | cut -d' ' -f3)" = $peer

# 4. The responder answered 6 echo requests and exited; the tap dropped
#    none of its frames.
for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	rc=running
else
	wait $pid
	rc=$?
	pid=
fi
rx1=$(cat /sys/class/net/tap0/statistics/rx_packets)
check "ethertap-pingd -a exits after 6 echo replies ($rc), none of its $((rx1 - rx0)) frames dropped ($d0 -> $(drops))" \
	test "$rc" = 0 -a "$(drops)" = "$d0" -a $((rx1 - rx0)) -ge 8
[ "$rc" = 0 ] || sed 's/^/# /' "$tmp/pingd.log"

# 5-6. A neighbour solicitation for fd05::1 from another host, sent to
#      the solicited-node group the kernel joined: the kernel advertises.
#      The same to a group it did not join: dropped and counted, no answer.
ns() {	# ns DEST-MAC: the kernel's answers (neighbour advertisements)
	python3 - "$1" <<'PY'
import os, select, socket, struct, sys, time

def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

mac = bytes.fromhex('020000000503')
src = socket.inet_pton(socket.AF_INET6, 'fd05::3')
dst = socket.inet_pton(socket.AF_INET6, 'ff02::1:ff00:1')
target = socket.inet_pton(socket.AF_INET6, 'fd05::1')
icmp = struct.pack('!BBHI', 135, 0, 0, 0) + target + b'\x01\x01' + mac
pseudo = src + dst + struct.pack('!I3xB', len(icmp), 58)
icmp = icmp[:2] + struct.pack('!H', csum(pseudo + icmp)) + icmp[4:]
ip6 = struct.pack('!IHBB', 6 << 28, len(icmp), 58, 255) + src + dst
eth = bytes.fromhex(sys.argv[1].replace(':', '')) + mac + b'\x86\xdd'
fd = os.open('/dev/tap0', os.O_RDWR | os.O_NONBLOCK)
os.write(fd, bytes(2) + eth + ip6 + icmp)
na = 0
end = time.time() + 2
while time.time() < end:
    if not select.select([fd], [], [], 0.2)[0]:
        continue
    f = os.read(fd, 2000)[2:]
    if f[12:14] == b'\x86\xdd' and f[20] == 58 and f[54] == 136 and \
       f[0:6] == mac and f[62:78] == target:
        na += 1
print(na)
PY
}
d0=$(drops)
na=$(ns 33:33:ff:00:00:01)
check "NS to the solicited-node group 33:33:ff:00:00:01: $na advertisement, drops $d0 -> $(drops)" \
	test "$na" = 1 -a "$(drops)" = "$d0"
d0=$(drops)
na=$(ns 33:33:ff:00:00:77)
check "NS to the unjoined group 33:33:ff:00:00:77: $na advertisements, drops $d0 -> $(drops)" \
	test "$na" = 0 -a "$(drops)" = "${d0%/*}/$((${d0#*/} + 1))"

ip link set tap0 down arp off
ip addr flush dev tap0
ktap_finished
