#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Taps at run time: ip link add/del type ethertap, deletion under open
# files, network namespaces, and unloading with taps in other namespaces.
# Run by run.sh with ethertap max_taps=2 and netlink_dev loaded.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
moddir=${ETHERTAP_MODDIR:?}

node() { stat -c '%t:%T' "/dev/$1" 2>/dev/null; }

ktap_print_header
ktap_set_plan 9

# 1. ip link add type ethertap: the lowest free number, its node and MAC.
ip link add type ethertap
kind=$(ip -d link show tap2 2>/dev/null | grep -o 'ethertap' | head -n 1)
check "ip link add type ethertap: tap2, /dev/tap2 = 24:12, kind $kind" \
	test "$(node tap2)" = 24:12 -a "$kind" = ethertap -a \
	"$(cat /sys/class/net/tap2/address)" = fe:fd:00:00:00:02

# 2. A given name keeps the next number for its node.
ip link add foo type ethertap
check "ip link add foo type ethertap: foo with /dev/tap3" \
	test "$(node tap3)" = 24:13 -a "$(cat /sys/class/net/foo/address)" = fe:fd:00:00:00:03

# 3. Deleting a tap wakes its blocked reader with end-of-file.
cat /dev/tap0 > /dev/null &
reader=$!
sleep 0.5
ip link del tap0
for i in $(seq 50); do kill -0 $reader 2>/dev/null || break; sleep 0.1; done
if kill -0 $reader 2>/dev/null; then
	kill $reader
	rc=killed
else
	wait $reader
	rc=$?
fi
check "ip link del tap0 under a blocked cat: cat ends with EOF (status $rc)" \
	test "$rc" = 0 -a ! -e /dev/tap0

# 4. An open file of a deleted tap: read EOF, POLLHUP, write ENXIO.
out=$(python3 - <<'PY'
import errno, os, select, subprocess
fd = os.open('/dev/tap1', os.O_RDWR)
subprocess.run(['ip', 'link', 'del', 'tap1'], check=True)
r = os.read(fd, 2000)
ev = select.poll(); ev.register(fd); ev = ev.poll(0)[0][1]
try:
    os.write(fd, bytes(2) + bytes.fromhex('fefd00000001020000000002') + b'\x08\x00' + bytes(20))
    w = 'written'
except OSError as e:
    w = errno.errorcode[e.errno]
print(len(r), bool(ev & select.POLLHUP), w)
os.close(fd)
PY
)
check "open file of a deleted tap: read 0, POLLHUP, write ENXIO ($out)" \
	test "$out" = "0 True ENXIO"

# 5. Numbers are reused only once free: tap0 and tap1 come back.
ip link add type ethertap && ip link add type ethertap
check "freed numbers are reused: tap0 and tap1 again" \
	test "$(node tap0)" = 24:10 -a "$(node tap1)" = 24:11

# 6. Created in, and moved to, another namespace; frames still flow.
ip netns add et1
ip -n et1 link add type ethertap
ip link set tap1 netns et1
n=$(ip -n et1 -o link show | grep -c 'tap[0-9]')
ip netns exec et1 sh -c 'echo 1 > /proc/sys/net/ipv6/conf/tap1/disable_ipv6'
ip -n et1 addr add 10.8.0.1/24 dev tap1
ip -n et1 link set tap1 up
(sleep 3; ip netns exec et1 ping -c 1 -W 1 10.8.0.2 >/dev/null 2>&1) &
f=$(timeout 60 head -c 16 /dev/tap1 | od -An -tx1 | tr -d ' \n')
wait
check "taps in a namespace ($n): created there, moved there, /dev/tap1 reads ($f)" \
	test "$n" = 2 -a "$f" = 0000fefd00000001fefd000000010800

# 7. Deleting the namespace deletes its taps and their nodes.
ip netns del et1
for i in $(seq 50); do [ -e /dev/tap1 ] || break; sleep 0.1; done
check "ip netns del removes its taps and nodes" \
	test ! -e /dev/tap1 -a ! -e /sys/class/ethertap/tap4

# 8. A write-only file gets no frames: with only such a file open, a
#    transmitted frame has no reader.
out=$(python3 - <<'PY'
import os, socket, subprocess
def drops():
    out = subprocess.run(['ethtool', '-S', 'tap0'], capture_output=True, text=True).stdout
    return int(out.split('tx_dropped_no_reader:')[1].split()[0])
subprocess.run('echo 1 > /proc/sys/net/ipv6/conf/tap0/disable_ipv6; ip addr add 10.6.0.1/24 dev tap0; ip link set tap0 up', shell=True, check=True)
w = os.open('/dev/tap0', os.O_WRONLY)
before = drops()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b'x', ('10.6.0.2', 9))
print(drops() - before)
os.close(w)
PY
)
check "a write-only file receives no frames (no-reader drops +$out)" test "$out" = 1

# 9. Unloading removes taps in every namespace.
ip netns add et2
ip -n et2 link add type ethertap
rmmod ethertap_netlink 2>/dev/null
rmmod netlink_dev ethertap
r=$?
left=$(ip -n et2 -o link show | grep -c 'tap[0-9]')
ip netns del et2
check "rmmod with a tap in another namespace: unloads ($r), none left ($left)" \
	test "$r" = 0 -a "$left" = 0
insmod "$moddir"/ethertap.ko max_taps=2 && insmod "$moddir"/netlink_dev.ko

ktap_finished
