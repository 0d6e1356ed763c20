#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/ethertap-dump -n: the raw netlink interface from the command line.
# Run by run.sh with ethertap max_taps=2 and netlink_dev loaded; loads
# ethertap_netlink itself.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
moddir=${ETHERTAP_MODDIR:?}
dump=$(cd .. && pwd)/tools/ethertap-dump
tmp=$(mktemp -d)

ktap_print_header
ktap_set_plan 3

[ -d /sys/module/ethertap_netlink ] || insmod "$moddir"/ethertap_netlink.ko
echo 1 > /proc/sys/net/ipv6/conf/tap0/disable_ipv6
ip addr add 10.98.0.1/24 dev tap0
ip link set tap0 up

# 1. Three datagrams through tap0, three lines naming tap0 and the ports.
"$dump" -n 0 -c 3 > "$tmp"/out 2> "$tmp"/err &
pid=$!
sleep 1
python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.98.0.1', 4000))
for p in (5001, 5002, 5003):
    s.sendto(b'x', ('10.98.0.2', p))"
for i in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill $pid 2>/dev/null
wait $pid
rc=$?
sed 's/^/# /' "$tmp"/out "$tmp"/err
want=""
for p in 5001 5002 5003; do
	want+="   43 fe:fd:00:00:00:00 > fe:fd:00:00:00:00 tap0 IPv4 10.98.0.1 > 10.98.0.2 ttl 64 UDP 4000 > $p len 9
"
done
check "ethertap-dump -n 0 -c 3: exit $rc, the three datagrams with tap0 and their ports" \
	test "$rc" = 0 -a "$(cat "$tmp"/out)
" = "$want"

# 2. Without CAP_NET_ADMIN joining the group fails: EPERM, exit status 1.
setpriv --reuid 65534 --regid 65534 --clear-groups "$dump" -n 0 -c 1 > /dev/null 2> "$tmp"/err
rc=$?
sed 's/^/# /' "$tmp"/err
check "uid 65534: exit $rc, 'Operation not permitted'" \
	test "$rc" = 1 -a "$(grep -c "joining tap0's group: Operation not permitted" "$tmp"/err)" = 1

# 3. A tap number out of range is a usage error.
"$dump" -n 1024 > /dev/null 2> "$tmp"/err
rc=$?
check "ethertap-dump -n 1024: exit $rc, bad tap number" \
	test "$rc" = 2 -a "$(grep -c "bad tap number '1024'" "$tmp"/err)" = 1

ip addr flush dev tap0
ip link set tap0 down
rm -rf "$tmp"
ktap_finished
