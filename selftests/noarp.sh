#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 2.4 programs on every tap: in 2.4 every tap had the MAC FE:FD:00:00:00:00,
# and programs wrote frames to that address whatever the tap.  In NOARP
# mode such a frame reaches the stack as one for this host on any tap: the
# HOWTO's ping responder logic on /dev/tap1, and a user-space router that
# relays frames between /dev/tap0 and /dev/tap1 unchanged, joining two
# namespaces (ping and a 4 MiB TCP copy).  ARP mode still drops them, and
# counts them.  Then SIOCGIFHWADDR on /dev/tapN, and ENOTTY for every other
# ioctl.  Run by run.sh with ethertap max_taps=2 and netlink_dev loaded.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tmp=$(mktemp -d)
pids=()

cleanup() {
	local p

	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip netns del na 2>/dev/null
	ip netns del nb 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

stat_of() {	# stat_of DEV NAME: the ethtool -S counter NAME of DEV
	ethtool -S "$1" | sed -n "s/^ *$2: //p"
}
rx_packets() { cat "/sys/class/net/$1/statistics/rx_packets"; }
# "otherhost" of ip -s -s link: frames the stack dropped for their address.
otherhost() {
	ip -s -s -j link show "$1" | python3 -c \
		'import json, sys; print(json.load(sys.stdin)[0]["stats64"]["rx"].get("otherhost", 0))'
}
replies() { sed -n 's/.* \([0-9][0-9]*\) received.*/\1/p'; }
# start_open DEV CMD...: start CMD in the background, its output in
# $tmp/bg.log; return once it has DEV open (its pid in pids[-1]).
start_open() {
	local dev=$1 i f

	shift
	"$@" > "$tmp/bg.log" 2>&1 &
	pids+=($!)
	for i in $(seq 200); do
		for f in /proc/$!/fd/*; do
			[ "$(readlink "$f")" = "$dev" ] && return 0
		done
		sleep 0.1
	done
	ktap_print_msg "$* did not open $dev:"
	sed 's/^/#   /' "$tmp/bg.log"
	return 1
}

ktap_print_header
ktap_set_plan 7

for t in tap0 tap1; do
	echo 1 > /proc/sys/net/ipv6/conf/$t/disable_ipv6
done

# 1. The HOWTO's responder logic on /dev/tap1: turn an echo request into a
#    reply and write it addressed to FE:FD:00:00:00:00, as on 2.4.
cat > "$tmp/responder.py" <<'PY'
import os, struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

fd = os.open(sys.argv[1], os.O_RDWR)
while True:
    f = bytearray(os.read(fd, 65536))
    ip = 16
    if f[14:16] != b"\x08\x00" or f[ip + 9] != 1:
        continue
    ihl = (f[ip] & 15) * 4
    icmp = ip + ihl
    if f[icmp] != 8:
        continue
    f[ip + 12:ip + 16], f[ip + 16:ip + 20] = f[ip + 16:ip + 20], f[ip + 12:ip + 16]
    f[icmp] = 0
    f[icmp + 2:icmp + 4] = b"\0\0"
    tot = struct.unpack("!H", f[ip + 2:ip + 4])[0]
    f[icmp + 2:icmp + 4] = struct.pack("!H", csum(bytes(f[icmp:ip + tot])))
    f[2:8] = bytes.fromhex("fefd00000000")
    os.write(fd, f)
PY
ip addr add 10.0.1.123/32 dev tap1
ip link set tap1 up
ip route add 10.0.1.124/32 dev tap1
start_open /dev/tap1 python3 "$tmp/responder.py" /dev/tap1
rx=$(rx_packets tap1)
got=$(ping -c 3 -W 2 10.0.1.124 2>&1 | replies)
rx=$(($(rx_packets tap1) - rx))
oh=$(otherhost tap1)
check "HOWTO responder on /dev/tap1, replies to FE:FD:00:00:00:00: $got of 3 (rx_packets +$rx, otherhost $oh)" \
	test "$got" = 3 -a "$rx" = 3 -a "$oh" = 0
kill "${pids[-1]}"
wait "${pids[-1]}" 2>/dev/null
unset 'pids[-1]'

# 2. ARP mode filters by destination as a NIC does: the same kind of
#    frame is dropped before the stack and counted (rx_dropped).
write_foreign() {	# write_foreign DEV: one UDP frame to FE:FD:00:00:00:00
	python3 - "$1" <<'PY'
import os, struct, sys
h = bytes.fromhex("4500001c00000000401100000a0001f90a00017b")
s = sum(struct.unpack("!10H", h))
s = (s & 0xffff) + (s >> 16)
ip = h[:10] + struct.pack("!H", ~s & 0xffff) + h[12:] + bytes(8)
f = bytes(2) + bytes.fromhex("fefd00000000" "020000000001" "0800") + ip
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, f)
PY
}
ip link set tap1 arp on
d0=$(stat_of tap1 rx_dropped_other_host)
r0=$(rx_packets tap1)
write_foreign /dev/tap1
d=$(($(stat_of tap1 rx_dropped_other_host) - d0))
r=$(($(rx_packets tap1) - r0))
ip link set tap1 arp off
d0=$(stat_of tap1 rx_dropped_other_host)
r0=$(rx_packets tap1)
write_foreign /dev/tap1
nd=$(($(stat_of tap1 rx_dropped_other_host) - d0))
nr=$(($(rx_packets tap1) - r0))
oh=$(otherhost tap1)
check "frame to FE:FD:00:00:00:00 on tap1: ARP mode drops it (other_host +$d, rx +$r), NOARP takes it (+$nd, +$nr, otherhost $oh)" \
	test "$d$r$nd$nr$oh" = 10010
ip addr flush dev tap1
ip link set tap1 down

# 3-4. A user-space router: na (10.60.0.1 on tap0) and nb (10.60.0.2 on
#    tap1) joined by a relay that copies every frame from /dev/tap0 to
#    /dev/tap1 and back, changing nothing.
cat > "$tmp/relay.py" <<'PY'
import os, threading

a = os.open("/dev/tap0", os.O_RDWR)
b = os.open("/dev/tap1", os.O_RDWR)

def relay(src, dst):
    while True:
        f = os.read(src, 65536)
        if not f:
            return
        try:
            os.write(dst, f)
        except OSError:
            pass

t = threading.Thread(target=relay, args=(a, b), daemon=True)
t.start()
relay(b, a)
PY
ip netns add na
ip netns add nb
ip link set tap0 netns na
ip link set tap1 netns nb
ip -n na addr add 10.60.0.1/24 dev tap0
ip -n nb addr add 10.60.0.2/24 dev tap1
ip -n na link set tap0 up
ip -n nb link set tap1 up
start_open /dev/tap1 python3 "$tmp/relay.py"
got=$(ip netns exec na ping -c 5 -i 0.3 -W 2 10.60.0.2 2>&1 | replies)
oh=$(ip netns exec na bash -c "$(declare -f otherhost); otherhost tap0")$(ip netns exec nb bash -c "$(declare -f otherhost); otherhost tap1")
check "router over /dev/tap0 and /dev/tap1 (NOARP): ping $got of 5, otherhost $oh" \
	test "$got" = 5 -a "$oh" = 00

cat > "$tmp/sink.py" <<'PY'
import hashlib, socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.60.0.2", 5001))
s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
h, n = hashlib.sha256(), 0
while True:
    d = c.recv(65536)
    if not d:
        break
    h.update(d)
    n += len(d)
print(n, h.hexdigest(), flush=True)
PY
ip netns exec nb timeout 300 python3 "$tmp/sink.py" > "$tmp/sink.out" &
sink=$!
for i in $(seq 100); do grep -q listening "$tmp/sink.out" && break; sleep 0.1; done
want=$(ip netns exec na timeout 300 python3 -c '
import hashlib, random, socket
data = random.Random(24).randbytes(4 << 20)
s = socket.create_connection(("10.60.0.2", 5001), timeout=120)
s.sendall(data)
s.close()
print(len(data), hashlib.sha256(data).hexdigest())')
wait $sink
got=$(sed -n 2p "$tmp/sink.out")
check "router: 4 MiB TCP copy from na to nb arrives intact ($got)" \
	test -n "$want" -a "$got" = "$want"
kill "${pids[-1]}"
wait "${pids[-1]}" 2>/dev/null
unset 'pids[-1]'
ip netns del na
ip netns del nb
for i in $(seq 50); do [ -e /dev/tap1 ] || break; sleep 0.1; done
ip link add type ethertap && ip link add type ethertap

# 5-7. ioctl() on /dev/tapN.
cat > "$tmp/ioctl.py" <<'PY'
import errno, fcntl, os, subprocess, sys

SIOCGIFHWADDR = 0x8927
TUNSETIFF = 0x400454CA
TUNGETIFF = 0x800454D2
FIONREAD = 0x541B

def hwaddr(fd):
    buf = bytearray(b"\xaa" * 40)
    fcntl.ioctl(fd, SIOCGIFHWADDR, buf, True)
    return bytes(buf).hex()

def err(fd, req, arg):
    try:
        fcntl.ioctl(fd, req, arg)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]

what = sys.argv[1]
fd = os.open("/dev/tap1", os.O_RDWR)
if what == "hwaddr":
    one = hwaddr(fd)
    subprocess.run("ip link set tap1 address 02:11:22:33:44:55 && ip link set tap1 name et9",
                   shell=True, check=True)
    two = hwaddr(fd)
    subprocess.run("ip link set et9 name tap1", shell=True, check=True)
    print(one, two)
elif what == "other":
    ifr = bytearray(b"tap1".ljust(40, b"\0"))
    ifr[16:18] = (0x0002).to_bytes(2, "little")	# IFF_TAP
    print(err(fd, TUNSETIFF, ifr), err(fd, TUNGETIFF, bytearray(40)),
          err(fd, FIONREAD, bytearray(4)), err(fd, 0x89F0, bytearray(40)),
          err(fd, SIOCGIFHWADDR, 8))
elif what == "gone":
    subprocess.run(["ip", "link", "del", "tap1"], check=True)
    print(err(fd, SIOCGIFHWADDR, bytearray(40)))
PY
want1="74617031000000000000000000000000 0100 fefd00000001 0000000000000000 aaaaaaaaaaaaaaaa"
want2="65743900000000000000000000000000 0100 021122334455 0000000000000000 aaaaaaaaaaaaaaaa"
out=$(python3 "$tmp/ioctl.py" hwaddr 2>&1)
# Split each 40-byte answer: ifr_name, sa_family, sa_data[0..5],
# sa_data[6..13], the 8 bytes beyond ifr_hwaddr (left as they were).
split() { echo "${1:0:32} ${1:32:4} ${1:36:12} ${1:48:16} ${1:64:16}"; }
read -r a b <<<"$out"
[ "$(split "$a")" = "$want1" ] && [ "$(split "$b")" = "$want2" ] ||
	ktap_print_msg "got: $out"
check "SIOCGIFHWADDR on /dev/tap1: name, ARPHRD_ETHER, address; then after a new address and name" \
	test "$(split "$a")" = "$want1" -a "$(split "$b")" = "$want2"
out=$(python3 "$tmp/ioctl.py" other 2>&1)
check "TUNSETIFF, TUNGETIFF, FIONREAD, SIOCDEVPRIVATE: ENOTTY; SIOCGIFHWADDR to a bad address: EFAULT ($out)" \
	test "$out" = "ENOTTY ENOTTY ENOTTY ENOTTY EFAULT"
out=$(python3 "$tmp/ioctl.py" gone 2>&1)
check "SIOCGIFHWADDR on the open file of a deleted tap: ENXIO ($out)" \
	test "$out" = ENXIO

ktap_finished
