#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Loading, unloading and the device nodes: max_taps, rmmod while open,
# mknod, node permissions, make install + modprobe + autoload, and 20
# load/unload cycles with traffic.  Run by run.sh with the modules loaded.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
moddir=${ETHERTAP_MODDIR:?}
tmp=$(mktemp -d)

unload() { rmmod ethertap_netlink netlink_dev ethertap 2>/dev/null; ! [ -d /sys/module/ethertap ]; }
load() { insmod "$moddir"/ethertap.ko "$@" && insmod "$moddir"/netlink_dev.ko; }
ktap_print_header
ktap_set_plan 13

# 1. rmmod while a file is open is refused, the tap keeps working.
exec 3</dev/tap0
rmmod netlink_dev 2>/dev/null
r1=$?
rmmod ethertap 2>/dev/null
r2=$?
ip link set tap0 up && ip addr add 10.9.0.1/24 dev tap0 &&
	ping -c 1 -W 1 10.9.0.2 >/dev/null 2>&1
check "rmmod refused while /dev/tap0 is open" \
	test $r1 -ne 0 -a $r2 -ne 0 -a -d /sys/module/netlink_dev -a -d /sys/module/ethertap
n=$(timeout 2 head -c 2 <&3 | od -An -tx1 | tr -d ' ')
check "the open file still reads frames (pad 0000, got '$n')" test "$n" = 0000
exec 3<&-
check "rmmod succeeds after close" unload

# 2. Bad max_taps values fail with EINVAL, one log line, nothing left.
ok=1
for v in -1 1025 99999; do
	dmesg -C
	out=$(insmod "$moddir"/ethertap.ko max_taps=$v 2>&1) && ok=0
	echo "$out" | grep -q "Invalid param" || ok=0
	[ "$(dmesg | grep -c 'ethertap: ')" = 1 ] || ok=0
	dmesg | grep -q "ethertap: max_taps=$v out of range 0..1024" || ok=0
	[ -d /sys/module/ethertap ] && ok=0
	ls /sys/class/net | grep -q '^tap' && ok=0
	[ -e /sys/class/ethertap ] && ok=0
done
check "max_taps -1, 1025, 99999: EINVAL, one log line, nothing registered" test $ok = 1

# 3. max_taps=0 and 256: numbers, names, MACs.
load max_taps=0 && n=$(ls /sys/class/net | grep -c '^tap')
check "max_taps=0 creates no tap" test "$n" = 0
unload
load max_taps=256
n=$(ls /sys/class/net | grep -c '^tap[0-9]*$')
dev=$(stat -c '%t:%T %a %U:%G %F' /dev/tap255 2>/dev/null)
mac=$(cat /sys/class/net/tap255/address 2>/dev/null)
mac0=$(cat /sys/class/net/tap0/address 2>/dev/null)
flags=$(cat /sys/class/net/tap7/flags 2>/dev/null)
mtu=$(cat /sys/class/net/tap7/mtu 2>/dev/null)
check "max_taps=256: 256 taps ($n)" test "$n" = 256
check "/dev/tap255 is c 36:271, 0600 root:root ($dev)" \
	test "$dev" = "24:10f 600 root:root character special file"
check "MACs fe:fd:00:00:00:00 and fe:fd:00:00:00:ff ($mac0 $mac)" \
	test "$mac0" = fe:fd:00:00:00:00 -a "$mac" = fe:fd:00:00:00:ff
check "NOARP set, MTU 1500 ($flags $mtu)" \
	test $(( flags & 0x80 )) = 128 -a "$mtu" = 1500
unload

# 4. mknod works as in the HOWTO; a minor with no tap gives ENXIO.
load max_taps=2
mknod "$tmp"/tap0 c 36 16 && mknod "$tmp"/tap2 c 36 18
ip link set tap0 up && ip addr add 10.9.0.1/24 dev tap0
(sleep 1; ping -c 1 -W 1 10.9.0.2 >/dev/null 2>&1) &
n=$(timeout 3 head -c 16 "$tmp"/tap0 | od -An -tx1 | tr -d ' \n')
wait
err=$(python3 -c "
import os, errno
try:
    os.open('$tmp/tap2', os.O_RDWR)
except OSError as e:
    print(errno.errorcode[e.errno])" 2>&1)
check "mknod c 36 16 reads tap0's frames, c 36 18 gives ENXIO ($err)" \
	test "$n" = 0000fefd00000000fefd000000000800 -a "$err" = ENXIO

# 5. Unprivileged users cannot open /dev/tapN (mode 0600, root).
err=$(setpriv --reuid 65534 --regid 65534 --clear-groups python3 -c "
import os, errno
try:
    os.open('/dev/tap0', os.O_RDWR)
except OSError as e:
    print(errno.errorcode[e.errno])" 2>&1)
check "uid 65534 cannot open /dev/tap0 ($err)" test "$err" = EACCES
unload

# 6. make install, modprobe ethertap loads both, major 36 autoloads.
#    /lib/modules is the host's, read-only: install into an empty tmpfs
#    over it, so that depmod reads only these modules (depmod -a over all
#    of the host's modules through 9p took minutes).  The modules are the
#    ones the host built: -o modules spares make the dependency check of
#    every kernel header through 9p.
rel=$(uname -r)
if mount -t tmpfs tmpfs /lib/modules; then
	(cd .. && make -s -o modules install KVER="$ETHERTAP_KERNEL") >"$tmp"/install.log 2>&1
	i=$?
	modprobe ethertap
	a=$(lsmod | grep -Ec '^(ethertap|netlink_dev|ethertap_netlink) ')
	rmmod netlink_dev
	mknod "$tmp"/tap0b c 36 16
	# open() returns once the kernel has loaded netlink_dev for it.
	timeout 120 sh -c ': < "$1"' sh "$tmp"/tap0b 2>/dev/null
	b=$([ -d /sys/module/netlink_dev ] && echo loaded)
	# socket() returns once the kernel has loaded ethertap_netlink for it.
	rmmod ethertap_netlink
	python3 -c 'import socket; socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 31)' 2>/dev/null
	c=$([ -d /sys/module/ethertap_netlink ] && echo loaded)
	check "make install ($i), modprobe ethertap loads all three ($a), opening major 36 loads netlink_dev ($b), a protocol 31 socket ethertap_netlink ($c)" \
		test "$i" = 0 -a "$a" = 3 -a "$b" = loaded -a "$c" = loaded -a -n "$(ls /lib/modules/$rel/extra/ethertap.ko* 2>/dev/null)"
	[ "$i" = 0 ] || cat "$tmp"/install.log
	unload
	umount /lib/modules
else
	ktap_test_fail "make install: cannot mount over /lib/modules"
fi

# 7. Load/unload cycles with traffic and a reader: 20, or 10 on the debug
#    kernel where one cycle takes tens of seconds.
cycles=20
[ "$ETHERTAP_KERNEL" = debug ] && cycles=10
fails=0
for i in $(seq $cycles); do
	load max_taps=2 || { fails=$((fails + 1)); continue; }
	echo 1 > /proc/sys/net/ipv6/conf/tap0/disable_ipv6
	ip addr add 10.9.0.1/24 dev tap0 && ip link set tap0 up
	cat /dev/tap0 >/dev/null &
	reader=$!
	ping -c 3 -i 0.01 -W 1 10.9.0.2 >/dev/null 2>&1
	kill $reader
	wait $reader
	unload || fails=$((fails + 1))
done
check "$cycles load/unload cycles with traffic ($fails failures)" test $fails = 0
load max_taps=2

rm -rf "$tmp"
ktap_finished
