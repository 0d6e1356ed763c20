#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The modules as the standard tools see them: modinfo, ethtool -i and -S,
# ip -s -s link, tcpdump on tap0 (both directions), the "ethertap: " prefix
# of kernel log lines, and dynamic debug.  Run by run.sh with the modules
# loaded (ethertap max_taps=2, netlink_dev).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
moddir=${ETHERTAP_MODDIR:?}
tmp=$(mktemp -d)

# Fields of a module, one "name=value" line each, in the order asked.
fields() {
	local f
	for f in "${@:2}"; do
		modinfo -F "$f" "$1" 2>/dev/null | sed "s/^/$f=/"
	done
}
# ethtool -S tap0 as "name value" lines.
estats() { ethtool -S tap0 | sed -n 's/^ *\([a-z_]*\): \([0-9]*\)$/\1 \2/p'; }
estat() { estats | sed -n "s/^$1 //p"; }

ktap_print_header
ktap_set_plan 10

# 1-3. modinfo: exactly the fields the sources declare.
got=$(fields "$moddir"/ethertap.ko description author license version parm softdep vermagic)
want="description=Ethertap: Ethernet devices tapN read and written through /dev/tapN
author=The ethertap project
license=GPL
version=1.0
parm=max_taps:Number of tapN devices created at load (0 to 1024, default 1) (int)
softdep=post: netlink_dev ethertap_netlink"
check "modinfo ethertap.ko: description, author, GPL, 1.0, max_taps, softdep, vermagic $(uname -r)" \
	test "$(echo "$got" | grep -v ^vermagic=)" = "$want" -a \
	"$(echo "$got" | sed -n 's/^vermagic=\([^ ]*\) .*/\1/p')" = "$(uname -r)"
[ "$(echo "$got" | grep -v ^vermagic=)" = "$want" ] || diff <(echo "$want") <(echo "$got") | sed 's/^/# /'

got=$(fields "$moddir"/netlink_dev.ko alias description author license version depends parm)
want="alias=char-major-36-*
description=Ethertap character devices /dev/tapN (major 36)
author=The ethertap project
license=GPL
version=1.0
depends=ethertap"
check "modinfo netlink_dev.ko: alias char-major-36-*, description, author, GPL, 1.0, depends ethertap, no parm" \
	test "$got" = "$want"
[ "$got" = "$want" ] || diff <(echo "$want") <(echo "$got") | sed 's/^/# /'

got=$(fields "$moddir"/ethertap_netlink.ko alias description author license version depends parm)
want="alias=net-pf-16-proto-31
description=Ethertap raw netlink interface (protocol 31)
author=The ethertap project
license=GPL
version=1.0
depends=ethertap"
check "modinfo ethertap_netlink.ko: alias net-pf-16-proto-31, description, author, GPL, 1.0, depends ethertap, no parm" \
	test "$got" = "$want"
[ "$got" = "$want" ] || diff <(echo "$want") <(echo "$got") | sed 's/^/# /'

# 4-5. ethtool: driver information and the exact set of counters.
drv=$(ethtool -i tap0 | grep -E '^(driver|version|bus-info):' | tr '\n' ' ')
check "ethtool -i tap0: driver ethertap, version 1.0, bus-info virtual ($drv)" \
	test "$drv" = "driver: ethertap version: 1.0 bus-info: virtual "
got=$(estats | cut -d' ' -f1 | sort | tr '\n' ' ')
want=$(printf '%s\n' tx_dropped_no_reader tx_dropped_queue_full tx_dropped_nomem \
	tx_reader_copy_dropped tx_unread_at_close tx_read_truncated tx_read_fault \
	rx_error_too_short rx_error_too_long rx_error_fault rx_dropped_down \
	rx_dropped_nomem rx_dropped_other_host \
	rx_dropped_mcast_filtered rx_error_vnet_hdr \
	tx_dropped_segment | sort | tr '\n' ' ')
check "ethtool -S tap0: the 16 counters, no others ($(estats | wc -l))" \
	test "$got" = "$want"

# 6-7. tcpdump sees a datagram tap0 sends (with no reader: dropped by the
#      driver, but after the capture tap in dev_queue_xmit) and a frame
#      written to /dev/tap0, delivered to a socket.
echo 1 > /proc/sys/net/ipv6/conf/tap0/disable_ipv6
ip addr add 10.7.0.1/24 dev tap0 && ip link set tap0 up
tcpdump -i tap0 -n -Z root -c 2 -w "$tmp"/cap.pcap udp 2>"$tmp"/tcpdump.err &
dump=$!
for i in $(seq 100); do
	grep -q 'listening on tap0' "$tmp"/tcpdump.err && break
	sleep 0.1
done
drop0=$(estat tx_dropped_no_reader)
python3 -c "
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'hi\n', ('10.7.0.2', 9999))"
drop1=$(estat tx_dropped_no_reader)
rx0=$(cat /sys/class/net/tap0/statistics/rx_packets)
# 2 bytes of padding, Ethernet (to tap0's MAC), IPv4, UDP without checksum.
got=$(python3 - <<'EOF' 2>&1
import os, socket, struct
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
data = b'yo\n'
udp = struct.pack('!HHHH', 40000, 9998, 8 + len(data), 0) + data
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0,
                 socket.inet_aton('10.7.0.2'), socket.inet_aton('10.7.0.1'))
ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
eth = bytes.fromhex('fefd00000000' '020000000002' '0800')
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.7.0.1', 9998))
s.settimeout(3)
fd = os.open('/dev/tap0', os.O_RDWR)
os.write(fd, b'\0\0' + eth + ip + udp)
print(s.recv(100).decode().strip())
os.close(fd)
EOF
)
rx1=$(cat /sys/class/net/tap0/statistics/rx_packets)
for i in $(seq 50); do
	kill -0 $dump 2>/dev/null || break
	sleep 0.1
done
kill $dump 2>/dev/null
wait $dump
tcpdump -r "$tmp"/cap.pcap -n -e 2>/dev/null > "$tmp"/cap.txt
sed 's/^/# /' "$tmp"/cap.txt
check "tcpdump sees tap0 send 10.7.0.1 > 10.7.0.2.9999 with no reader (tx_dropped_no_reader $drop0 -> $drop1)" \
	grep -qE ' fe:fd:00:00:00:00 > fe:fd:00:00:00:00, ethertype IPv4 \(0x0800\), length 45: 10\.7\.0\.1\.[0-9]+ > 10\.7\.0\.2\.9999: UDP, length 3$' "$tmp"/cap.txt \
	-a "$drop1" = $((drop0 + 1))
check "tcpdump sees 10.7.0.2.40000 > 10.7.0.1.9998 written to /dev/tap0, the socket gets it ('$got', rx_packets $rx0 -> $rx1)" \
	grep -qE ' 02:00:00:00:00:02 > fe:fd:00:00:00:00, ethertype IPv4 \(0x0800\), length 45: 10\.7\.0\.2\.40000 > 10\.7\.0\.1\.9998: UDP, length 3$' "$tmp"/cap.txt \
	-a "$got" = yo -a "$rx1" = $((rx0 + 1))

# 8. ip -s -s link: the four blocks of standard counters, each value equal
#    to the kernel's (sysfs statistics), after the traffic above.
ip -s -s link show tap0 > "$tmp"/ip.txt
got=$(awk '
	/^ *(RX|TX)( errors)?:/ {
		sub(/^ */, ""); h = $0; sub(/:.*/, "", h); sub(/^[^:]*: */, "")
		n = split($0, names); getline; split($0, vals)
		for (i = 1; i <= n; i++) printf "%s:%s=%s ", h, names[i], vals[i]
	}' "$tmp"/ip.txt)
s=/sys/class/net/tap0/statistics
want=
for kv in RX:bytes=rx_bytes RX:packets=rx_packets RX:errors=rx_errors \
	RX:dropped=rx_dropped RX:missed=rx_missed_errors RX:mcast=multicast \
	"RX errors:length=rx_length_errors" "RX errors:crc=rx_crc_errors" \
	"RX errors:frame=rx_frame_errors" "RX errors:fifo=rx_fifo_errors" \
	"RX errors:overrun=rx_over_errors" \
	TX:bytes=tx_bytes TX:packets=tx_packets TX:errors=tx_errors \
	TX:dropped=tx_dropped TX:carrier=tx_carrier_errors TX:collsns=collisions \
	"TX errors:aborted=tx_aborted_errors" "TX errors:fifo=tx_fifo_errors" \
	"TX errors:window=tx_window_errors" "TX errors:heartbt=tx_heartbeat_errors" \
	"TX errors:transns=../carrier_changes"; do
	want+="${kv%=*}=$(cat $s/${kv#*=}) "
done
check "ip -s -s link show tap0: RX, RX errors, TX, TX errors blocks match sysfs (rx_packets $(cat $s/rx_packets), tx_dropped $(cat $s/tx_dropped))" \
	test "$got" = "$want" -a "$(cat $s/rx_packets)" -ge 1 -a "$(cat $s/tx_dropped)" -ge 1
[ "$got" = "$want" ] || { sed 's/^/# /' "$tmp"/ip.txt; echo "# got:  $got"; echo "# want: $want"; }

# Dynamic debug call sites of the loaded ethertap (debugfs or /proc).
ctl=/sys/kernel/debug/dynamic_debug/control
[ -e $ctl ] || ctl=/proc/dynamic_debug/control
sites=$(grep -c '\[ethertap\]' $ctl 2>/dev/null)

# 9. Kernel log lines carry the module's name: a bad max_taps.
rmmod ethertap_netlink 2>/dev/null
rmmod netlink_dev ethertap
dmesg -C
insmod "$moddir"/ethertap.ko max_taps=5000 2>/dev/null
r=$?
log=$(dmesg -t)
echo "$log" | sed 's/^/# /'
check "insmod max_taps=5000 fails ($r), logs 'ethertap: max_taps=5000 out of range 0..1024', no unprefixed line" \
	test $r -ne 0 -a \
	"$(echo "$log" | grep -c '^ethertap: max_taps=5000 out of range 0\.\.1024$')" = 1 -a \
	"$(echo "$log" | grep -v '^ethertap: ' | grep -c 'max_taps\|ethertap')" = 0

# 10. Dynamic debug: with dyndbg=+p every call site is on, and opening and
#    closing /dev/tap0 logs "tap0: " lines; with -p they stop.
if ! [ -e $ctl ] || [ "$sites" = 0 ]; then
	insmod "$moddir"/ethertap.ko max_taps=2 && insmod "$moddir"/netlink_dev.ko
	if [ -e $ctl ]; then
		ktap_test_skip "dynamic debug: ethertap has no pr_debug/netdev_dbg call sites"
	else
		ktap_test_skip "dynamic debug: no $ctl (CONFIG_DYNAMIC_DEBUG off?)"
	fi
else
	dmesg -C
	insmod "$moddir"/ethertap.ko max_taps=2 dyndbg=+p && insmod "$moddir"/netlink_dev.ko
	on=$(grep '\[ethertap\]' $ctl | grep -c ' =p ')
	a=$(dmesg -t | grep -c '^tap[01]: ')
	a0=$(dmesg -t | grep -c '^tap0: ')
	exec 3</dev/tap0
	exec 3<&-
	b=$(dmesg -t | grep -c '^tap0: ')
	echo 'module ethertap -p' > $ctl
	exec 3</dev/tap0
	exec 3<&-
	c=$(dmesg -t | grep -c '^tap0: ')
	dmesg -t | grep '^tap[01]: ' | sed 's/^/# /'
	check "dynamic debug: $sites call sites, $on enabled by dyndbg=+p; $a lines at load, open+close $b, none after -p ($c)" \
		test "$on" = "$sites" -a "$b" -gt "$a0" -a "$c" = "$b"
fi

rm -rf "$tmp"
ktap_finished
