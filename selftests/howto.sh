#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The ethertap mini-HOWTO (Documentation/networking/ethertap.txt of 2.4),
# step by step, on the reimplementation: bring tap0 up and route 10.0.0.124
# through it, answer pings with the HOWTO's own sample program and with
# tools/ethertap-pingd, look at what "cat /dev/tap0" gets, and ping from
# "other hosts" (a network namespace behind a veth pair) with proxy ARP and
# forwarding on; then the same with iproute2 and tools/ethertap-dump -d,
# and "ifconfig tap0 10.0.0.123 up arp".  Runs in a guest after selftests/run.sh loaded ethertap.ko
# and netlink_dev.ko; prints KTAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
source "${KSFT_DIR:?}/kselftest/ktap_helpers.sh"

seed=$(dirname "$repo")/shared/seeds/000_10af45c321fa2c2a.txt
pingd=$repo/tools/ethertap-pingd
dump=$repo/tools/ethertap-dump
tmp=$(mktemp -d)
pids=()
forward=$(cat /proc/sys/net/ipv4/ip_forward)

cleanup() {
	local p

	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip netns del other 2>/dev/null
	ip link del veth0 2>/dev/null
	echo "$forward" > /proc/sys/net/ipv4/ip_forward
	rm -rf "$tmp"
}
trap cleanup EXIT

has_tap0() {	# process $1 has /dev/tap0 open
	local f

	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f")" = /dev/tap0 ] && return 0
	done
	return 1
}

# Start "$@" in the background; once it has /dev/tap0 open, its pid is in
# $bgpid (else it is killed and this fails).  Its output goes to $bglog.
bgpid='' bglog='' nlogs=0
start_reader() {
	local i

	nlogs=$((nlogs + 1))
	bglog=$tmp/reader$nlogs.log
	"$@" >"$bglog" 2>&1 &
	bgpid=$!
	pids+=("$bgpid")
	for i in $(seq 100); do
		has_tap0 "$bgpid" && return 0
		kill -0 "$bgpid" 2>/dev/null || break
		sleep 0.1
	done
	ktap_print_msg "$* did not open /dev/tap0:"
	sed 's/^/#   /' "$bglog"
	stop "$bgpid"
	return 1
}

stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# ping_ok N CMD...: CMD (a ping) got exactly N replies and no duplicates.
ping_ok() {
	local want=$1 out got

	shift
	out=$("$@" 2>&1)
	got=$(sed -n 's/.* \([0-9][0-9]*\) received.*/\1/p' <<<"$out")
	if [ "$got" = "$want" ] && ! grep -q duplicates <<<"$out"; then
		return 0
	fi
	ktap_print_msg "$*: wanted $want replies, got '${got:-?}':"
	sed 's/^/#   /' <<<"$out"
	return 1
}

# result DESCRIPTION CMD...: pass if CMD succeeds.
result() {
	local desc=$1

	shift
	if "$@"; then
		ktap_test_pass "$desc"
	else
		ktap_test_fail "$desc"
	fi
}

ktap_print_header
ktap_set_plan 8

# 1. Setting it all up, as the HOWTO says (the node comes from devtmpfs).
setup() {
	local dev

	dev=$(stat -c '%F %t:%T' /dev/tap0 2>&1)
	if [ "$dev" != "character special file 24:10" ]; then
		ktap_print_msg "/dev/tap0 is not char 36:16 (0x24:0x10): $dev"
		return 1
	fi
	echo 1 > /proc/sys/net/ipv6/conf/tap0/disable_ipv6 || return 1
	ifconfig tap0 10.0.0.123 up || return 1
	route add -host 10.0.0.124 gw 10.0.0.123 || return 1
	# (ip route get shows no "via": the gateway is tap0's own address.)
	if ! ip route show 10.0.0.124 | grep -q '^10.0.0.124 via 10.0.0.123 dev tap0' ||
	   ! ip route get 10.0.0.124 | grep -q '^10.0.0.124 .*dev tap0 '; then
		ktap_print_msg "10.0.0.124 is not routed through tap0:"
		{ ip route show; ip route get 10.0.0.124; } | sed 's/^/#   /'
		return 1
	fi
}
result "setup: ifconfig tap0 10.0.0.123 up; route add -host 10.0.0.124 gw 10.0.0.123" setup

# 2. The HOWTO's sample program, extracted from the HOWTO and unchanged.
sample() {
	local src=$tmp/sample.c rc=0

	sed -n '\|^/\* Simple program to listen to /dev/tap0 and reply to pings. \*/$|,$p' \
		"$seed" | sed '/^Download Driver Pack/,$d' > "$src"
	if ! grep -q '^int main()' "$src" || ! tail -n 5 "$src" | grep -q 'return len < 0'; then
		ktap_print_msg "could not extract the sample program from $seed"
		return 1
	fi
	if ! gcc -w -o "$tmp/sample" "$src" 2>"$tmp/gcc.log"; then
		ktap_print_msg "the sample program does not compile:"
		sed 's/^/#   /' "$tmp/gcc.log"
		return 1
	fi
	start_reader "$tmp/sample" || return 1
	ping_ok 3 ping -c 3 -W 2 10.0.0.124 || rc=1
	kill -0 "$bgpid" 2>/dev/null || { ktap_print_msg "the sample died"; rc=1; }
	stop "$bgpid"
	if [ $rc -ne 0 ]; then
		ktap_print_msg "the sample program said:"
		sed 's/^/#   /' "$bglog"
	fi
	return $rc
}
if [ -r "$seed" ]; then
	result "howto sample program answers ping 10.0.0.124" sample
else
	ktap_test_skip "howto sample program answers ping 10.0.0.124 (no $seed)"
fi

# 3. The same with tools/ethertap-pingd, which must exit after 3 replies.
tools() {
	[ -x "$pingd" ] && [ -x "$dump" ] && return 0
	make -s -C "$repo/tools" >"$tmp/make.log" 2>&1 && return 0
	ktap_print_msg "cannot build the tools:"
	sed 's/^/#   /' "$tmp/make.log"
	return 1
}
pingd_test() {
	local rc=0 i

	tools || return 1
	start_reader "$pingd" -d /dev/tap0 -c 3 -v || return 1
	ping_ok 3 ping -c 3 -W 2 10.0.0.124 || rc=1
	for i in $(seq 50); do
		kill -0 "$bgpid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$bgpid" 2>/dev/null; then
		ktap_print_msg "ethertap-pingd -c 3 still runs after 3 replies"
		rc=1
	elif ! wait "$bgpid"; then
		ktap_print_msg "ethertap-pingd -c 3 failed"
		rc=1
	fi
	stop "$bgpid"
	[ $rc -eq 0 ] || sed 's/^/#   /' "$bglog"
	return $rc
}
result "ethertap-pingd answers ping 10.0.0.124" pingd_test

# 4. cat /dev/tap0 > file during ping -c 2 -s 56: two 100-byte frames,
# 2 + 14 + 20 + 8 + 56, back to back.
frame_ok() {	# frame_ok INDEX SEQ: check the frame at INDEX in ${b[@]}
	local o=$(($1 * 100)) seq=$2 want got i

	want="00 00 fe fd 00 00 00 00 fe fd 00 00 00 00 08 00"
	want+=" 45 00 00 54"			# IPv4, 20-byte header, 84 bytes
	got="${b[*]:o:20}"
	[ "$got" = "$want" ] || { ktap_print_msg "frame $1 header: $got"; return 1; }
	got="${b[*]:o+25:1} ${b[*]:o+28:8} ${b[*]:o+36:2} ${b[*]:o+42:2}"
	want="01 0a 00 00 7b 0a 00 00 7c 08 00 00 $(printf %02x "$seq")"
	[ "$got" = "$want" ] || { ktap_print_msg "frame $1: proto/src/dst/type/seq $got"; return 1; }
	# The IPv4 header and the ICMP message check out (sum 0xffff).
	for i in "16 20" "36 64"; do
		got=$(sum16 $((o + ${i% *})) ${i#* })
		[ "$got" = ffff ] || { ktap_print_msg "frame $1: bad checksum at ${i% *}"; return 1; }
	done
}
sum16() {	# ones' complement sum of $2 bytes of ${b[@]} from $1
	local s=0 j

	for ((j = $1; j < $1 + $2; j += 2)); do
		s=$((s + 0x${b[j]}${b[j + 1]}))
	done
	while ((s >> 16)); do s=$(((s & 0xffff) + (s >> 16))); done
	printf %04x $s
}
cat_test() {
	local f=$tmp/cat.out size b

	start_reader cat /dev/tap0 || return 1
	# Nobody answers: the pings fail, the file gets the requests.
	ping -c 2 -i 0.5 -s 56 -W 1 10.0.0.124 >/dev/null 2>&1
	sleep 0.2
	stop "$bgpid"
	mv "$bglog" "$f"
	size=$(stat -c %s "$f")
	if [ "$size" != 200 ]; then
		ktap_print_msg "cat /dev/tap0 wrote $size bytes, not 2 x 100:"
		od -A d -t x1 "$f" | sed 's/^/#   /'
		return 1
	fi
	read -r -a b <<<"$(od -A n -v -t x1 "$f" | tr -s ' \n' ' ')"
	frame_ok 0 1 && frame_ok 1 2 || { od -A d -t x1 "$f" | sed 's/^/#   /'; return 1; }
	# ethertap-dump can split the capture again by the frames' lengths.
	tools || return 1
	"$dump" -r "$f" > "$tmp/dump.out" 2>&1
	if [ "$(grep -c '^   98 fe:fd:00:00:00:00 > fe:fd:00:00:00:00 IPv4 10.0.0.123 > 10.0.0.124 ttl 64 ICMP echo request id [0-9]* seq [12]$' "$tmp/dump.out")" != 2 ] ||
	   [ "$(wc -l < "$tmp/dump.out")" != 2 ]; then
		ktap_print_msg "ethertap-dump -r does not show the two requests:"
		sed 's/^/#   /' "$tmp/dump.out"
		return 1
	fi
}
result "cat /dev/tap0 > file: the echo requests, padded, byte for byte" cat_test

# 5. Getting this to work from other hosts: "other" is a namespace behind
# a veth pair, with proxy ARP and IP forwarding on as the HOWTO says.
other_test() {
	local rc=0

	tools || return 1
	ip netns add other || return 1
	ip link add veth0 type veth peer name veth1 netns other || return 1
	ip addr add 192.168.50.1/24 dev veth0 &&
	ip link set veth0 up &&
	ip -n other link set lo up &&
	ip -n other addr add 192.168.50.2/24 dev veth1 &&
	ip -n other link set veth1 up &&
	ip -n other route add default via 192.168.50.1 || return 1
	echo 1 > /proc/sys/net/ipv4/conf/veth0/proxy_arp || return 1
	echo 1 > /proc/sys/net/ipv4/ip_forward || return 1
	start_reader "$pingd" -d /dev/tap0 -c 3 -v || return 1
	ping_ok 3 ip netns exec other ping -c 3 -W 2 10.0.0.124 || rc=1
	stop "$bgpid"
	[ $rc -eq 0 ] || sed 's/^/#   /' "$bglog"
	ip netns del other
	echo "$forward" > /proc/sys/net/ipv4/ip_forward
	return $rc
}
result "other hosts: ip netns exec other ping 10.0.0.124 (proxy_arp, ip_forward)" other_test

# 6. ethertap-pingd against frames it must not answer or misparse: frames
# sent on tap0 through a packet socket reach it as "transmitted".  Only the
# two well-formed echo requests (one of odd length, followed by Ethernet
# padding) are answered, with correct checksums; it then exits (-c 2).
robust_test() {
	local rc=0 i

	tools || return 1
	# Replies to 10.9.9.9 must not come back on tap0 as forwarded.
	echo 0 > /proc/sys/net/ipv4/ip_forward || return 1
	start_reader "$pingd" -d /dev/tap0 -c 2 -v || return 1
	python3 - <<'PY' || rc=1
import socket, struct, sys, time

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

tapmac = bytes.fromhex("fefd00000000")
other = bytes.fromhex("020000000001")
src, dst = socket.inet_aton("10.9.9.9"), socket.inet_aton("10.0.0.124")

def ipv4(payload, proto=1, tot=None, ihl=5):
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot or 20 + len(payload),
                    7, 0, 63, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload

def echo(seq, data):
    m = struct.pack("!BBHHH", 8, 0, 0, 0x1234, seq) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]

def eth(t, body):
    return tapmac + other + struct.pack("!H", t) + body

odd = bytes(range(57))
even = bytes(range(100, 132))
frames = [
    eth(0x0806, bytes.fromhex("0001080006040001") + other + src +
        bytes(6) + dst),                                  # ARP who-has
    eth(0x86dd, bytes.fromhex("6000000000083aff") + bytes(32) +
        echo(1, b"")),                                    # IPv6
    eth(0x0800, b""),                                     # no IPv4 header
    eth(0x0800, ipv4(echo(9, odd))[:30]),                 # cut short
    eth(0x0800, ipv4(echo(9, odd), tot=400)),             # tot_len too big
    eth(0x0800, ipv4(echo(9, odd))[:0] +
        bytes([0x4f]) + ipv4(echo(9, odd))[1:]),          # ihl 15, bad sum
    eth(0x0800, ipv4(echo(9, odd), proto=17)),            # UDP
    eth(0x0800, ipv4(b"\x08\0\0\0")),                   # ICMP cut
    eth(0x0800, ipv4(echo(1, odd)) + b"\xee" * 9),        # good, odd, padded
    eth(0x0800, ipv4(echo(2, even))),                     # good
]
want = {1: odd, 2: even}

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("tap0", 0))
s.settimeout(0.5)
for f in frames:
    s.send(f)
got = {}
end = time.time() + 5
while time.time() < end and len(got) < 2:
    try:
        f, addr = s.recvfrom(70000)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    ok = True
    def bad(why):
        print("# reply %s: %s" % (f.hex(), why))
        return False
    if f[:12] != other + tapmac or f[12:14] != b"\x08\x00":
        ok = bad("Ethernet header not swapped")
    ip, icmp = f[14:34], f[34:]
    if ip[0] != 0x45 or struct.unpack("!H", ip[2:4])[0] != 20 + len(icmp):
        ok = bad("IPv4 header or length")
    if ip[12:16] != dst or ip[16:20] != src or csum(ip) or ip[9] != 1:
        ok = bad("IPv4 addresses or checksum")
    if len(icmp) < 8 or icmp[:2] != b"\0\0" or csum(icmp):
        ok = bad("ICMP type or checksum")
        continue
    i, seq = struct.unpack("!HH", icmp[4:8])
    if i != 0x1234 or seq not in want or icmp[8:] != want[seq] or seq in got:
        ok = bad("ICMP id, sequence or data")
    if ok:
        got[seq] = True
if sorted(got) != [1, 2]:
    print("# replies to sequence numbers %s, not [1, 2]" % sorted(got))
    sys.exit(1)
PY
	for i in $(seq 50); do
		kill -0 "$bgpid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$bgpid" 2>/dev/null || ! wait "$bgpid"; then
		ktap_print_msg "ethertap-pingd -c 2 did not exit cleanly"
		rc=1
	fi
	stop "$bgpid"
	if [ "$(grep -c 'ignored' "$bglog")" != 8 ]; then
		ktap_print_msg "ethertap-pingd did not ignore exactly 8 frames"
		rc=1
	fi
	[ $rc -eq 0 ] || sed 's/^/#   /' "$bglog"
	return $rc
}
result "ethertap-pingd ignores ARP, IPv6, short and bad frames" robust_test

running() {	# running PID: not exited yet (a zombie has exited)
	[ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z ' "/proc/$1/stat"
}
# dump_pings FILE ARGS...: tools/ethertap-dump -d /dev/tap0 ARGS into FILE
# while pinging 10.0.0.124 twice; it must exit by itself (-c) with 0.
dump_pings() {
	local f=$1 rc i
	shift
	start_reader "$dump" -d /dev/tap0 "$@" || return 1
	ping -c 2 -i 0.5 -s 56 -W 1 10.0.0.124 >/dev/null 2>&1
	for i in $(seq 50); do running "$bgpid" || break; sleep 0.1; done
	if running "$bgpid"; then
		stop "$bgpid"
		rc=timeout
	else
		wait "$bgpid" 2>/dev/null
		rc=$?
	fi
	mv "$bglog" "$f"
	[ "$rc" = 0 ] || { ktap_print_msg "ethertap-dump -d /dev/tap0 $* exited $rc:"; sed 's/^/#   /' "$f"; return 1; }
}

# 7. The iproute2 form of test 1 (ip addr add 10.0.0.123/8, ip link set
# up, ip route add 10.0.0.124/32 dev tap0): 10.0.0.123 answers with
# nothing attached, and tools/ethertap-dump -d /dev/tap0 -c 2 prints the
# two echo requests to 10.0.0.124, one line each.
iproute_test() {
	local req

	ip link set tap0 down && ip addr flush dev tap0 || return 1
	ip addr add 10.0.0.123/8 dev tap0 && ip link set tap0 up &&
		ip route add 10.0.0.124/32 dev tap0 || return 1
	if ! ip route get 10.0.0.124 | grep -q '^10.0.0.124 dev tap0 src 10.0.0.123 '; then
		ip route get 10.0.0.124 | sed 's/^/#   /'
		return 1
	fi
	ping_ok 1 ping -c 1 -W 2 10.0.0.123 || return 1
	tools && dump_pings "$tmp/dump-d.out" -c 2 || return 1
	req='^   98 fe:fd:00:00:00:00 > fe:fd:00:00:00:00 IPv4 10.0.0.123 > 10.0.0.124 ttl 64 ICMP echo request id [0-9]* seq [12]$'
	if [ "$(grep -c "$req" "$tmp/dump-d.out")" != 2 ] ||
	   [ "$(wc -l < "$tmp/dump-d.out")" != 2 ]; then
		ktap_print_msg "ethertap-dump -d does not show the two requests:"
		sed 's/^/#   /' "$tmp/dump-d.out"
		return 1
	fi
}
result "ip addr add, ip link set up, ip route add 10.0.0.124/32 dev tap0; ethertap-dump -d /dev/tap0" iproute_test

# 8. "ifconfig tap0 10.0.0.123 up arp": address, up, IFF_NOARP cleared in
# one command; pinging 10.0.0.124 now makes the kernel ask for it by ARP
# (nobody answers: ethertap-dump -c 1 sees the broadcast request).
arp_test() {
	local flags

	ip link set tap0 down && ip addr flush dev tap0 || return 1
	ifconfig tap0 10.0.0.123 up arp || return 1
	flags=$(cat /sys/class/net/tap0/flags)
	if (( !(flags & 0x1) || (flags & 0x80) )) ||
	   ! ip -4 -o addr show dev tap0 | grep -q ' inet 10.0.0.123/8 '; then
		ktap_print_msg "tap0 flags $flags, addresses:"
		ip -4 -o addr show dev tap0 | sed 's/^/#   /'
		return 1
	fi
	ip route add 10.0.0.124/32 dev tap0 || return 1
	dump_pings "$tmp/dump-arp.out" -c 1 || return 1
	if [ "$(cat "$tmp/dump-arp.out")" != "   42 fe:fd:00:00:00:00 > ff:ff:ff:ff:ff:ff ARP who-has 10.0.0.124 tell 10.0.0.123" ]; then
		ktap_print_msg "ethertap-dump -d -c 1 after ping 10.0.0.124:"
		sed 's/^/#   /' "$tmp/dump-arp.out"
		return 1
	fi
}
if command -v ifconfig >/dev/null; then
	result "ifconfig tap0 10.0.0.123 up arp: up, NOARP clear, neighbours resolved by ARP" arp_test
else
	ktap_test_skip "ifconfig tap0 10.0.0.123 up arp: no ifconfig"
fi

ktap_finished
