#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# netpoll would call the xmit path with interrupts off, which it is not
# made for: a tap refuses it (IFF_DISABLE_NETPOLL).  netconsole, through
# its configfs interface, must fail to enable a target on tap0 with
# ENOTSUPP (524) and log why.  Skipped without the netconsole module.
# Run by run.sh with ethertap max_taps=2 and netlink_dev loaded.
source "$KSFT_DIR/kselftest/ktap_helpers.sh"
cfs=/sys/kernel/config
nc=$cfs/netconsole/et0

ktap_print_header
ktap_set_plan 1

if ! modprobe netconsole 2>/dev/null; then
	ktap_test_skip "netconsole refuses tap0 (no netconsole module)"
	ktap_finished
	exit
fi
mountpoint -q $cfs || mount -t configfs none $cfs
echo 1 > /proc/sys/net/ipv6/conf/tap0/disable_ipv6
ip addr add 10.4.0.1/24 dev tap0
ip link set tap0 up
mkdir $nc
echo tap0 > $nc/dev_name
echo 10.4.0.1 > $nc/local_ip
echo 10.4.0.2 > $nc/remote_ip
dmesg -C
out=$(python3 -c '
import errno, os
try:
    with open("'$nc'/enabled", "w") as f:
        f.write("1\n")
    print("enabled")
except OSError as e:
    print(e.errno)
')
state=$(cat $nc/enabled)
said=$(dmesg | grep -q "tap0 doesn.t support polling" && echo yes)
[ "$state" = 1 ] && echo 0 > $nc/enabled
rmdir $nc
rmmod netconsole
if [ "$out $state $said" = "524 0 yes" ]; then
	ktap_test_pass "netconsole on tap0: enabling fails with 524, logged"
else
	dmesg | tail -n 5 | sed 's/^/# /'
	ktap_test_fail "netconsole on tap0: enabling gave '$out', enabled $state, logged $said"
fi

ktap_finished
