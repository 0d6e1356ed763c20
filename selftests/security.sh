#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Who may touch a tap: an unprivileged user (uid 65534), root of a user
# namespace it creates, and a user granted access through the node's group,
# by hand and by the udev rule of Documentation/ethertap.rst.
# Run by run.sh with ethertap max_taps=2 and netlink_dev loaded; loads
# ethertap_netlink itself.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
moddir=${ETHERTAP_MODDIR:?}
tmp=$(mktemp -d)
chmod 755 "$tmp"

nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
taps() { ls /sys/class/ethertap | wc -l; }

# open_err NODE FLAG CMD...: CMD (e.g. nobody) opens NODE with os.FLAG;
# prints "opened" or the errno's name.
open_err() {
	local node=$1 flag=$2
	shift 2
	"$@" python3 -c "
import errno, os, sys
try:
    os.open(sys.argv[1], getattr(os, sys.argv[2]))
    print('opened')
except OSError as e:
    print(errno.errorcode[e.errno])" "$node" "$flag" 2>&1
}

# A python3 probe of the raw netlink interface: bind to tap0's group, then
# send a frame for tap0 and one for tap1000 (none); prints the errno names
# of the three ("ok" if none).
cat > "$tmp"/nlprobe.py <<'PY'
import errno, socket
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 31)
try:
    s.bind((0, 1))
    b = "ok"
except OSError as e:
    b = errno.errorcode[e.errno]
    s.bind((0, 0))
frame = bytes.fromhex("fefd00000000020000000002") + b"\x08\x00" + bytes(46)
s.setblocking(False)
w = []
for pad in (b"\0\0", b"\x03\xe8"):
    s.send(pad + frame)
    try:
        s.recv(100)
        w.append("frame?")
    except OSError as e:
        w.append(errno.errorcode[e.errno])
print(b, *w)
PY

ktap_print_header
ktap_set_plan 11

[ -d /sys/module/ethertap_netlink ] || insmod "$moddir"/ethertap_netlink.ko
ip link set tap0 up

# 1-2. uid 65534 can neither create nor delete taps.
n=$(taps)
nobody ip link add type ethertap 2>"$tmp"/err
r=$?
check "uid 65534: ip link add type ethertap fails ($r: $(cat "$tmp"/err)), taps $n -> $(taps)" \
	test $r -ne 0 -a "$(taps)" = "$n" -a "$(grep -c 'Operation not permitted' "$tmp"/err)" = 1
nobody ip link del tap1 2>"$tmp"/err
r=$?
check "uid 65534: ip link del tap1 fails ($r), tap1 still there" \
	test $r -ne 0 -a -d /sys/class/net/tap1

# 3. Root of a user namespace (with its own network namespace) cannot
#    create taps either: their numbers and /dev nodes are the machine's.
nobody unshare -Urn ip link add type ethertap 2>"$tmp"/err
r=$?
sed 's/^/# /' "$tmp"/err
check "uid 65534 as root of its own user+net namespace: ip link add type ethertap fails ($r), taps $n -> $(taps)" \
	test $r -ne 0 -a "$(taps)" = "$n" -a \
	"$(grep -c 'creating a tap needs CAP_NET_ADMIN in the initial user namespace' "$tmp"/err)" = 1

# 4. Netlink: uid 65534, and root of its user namespace in the initial
#    network namespace: joining is EPERM, a frame sent to tap0 and one to
#    tap1000, which does not exist, are both refused with EPERM, and tap0
#    counts nothing received (its transmit counters may move meanwhile
#    with the stack's own frames).
c0=$(ethtool -S tap0 | grep rx_; cat /sys/class/net/tap0/statistics/rx_*)
a=$(nobody python3 "$tmp"/nlprobe.py 2>&1)
b=$(nobody unshare -Ur python3 "$tmp"/nlprobe.py 2>&1)
c1=$(ethtool -S tap0 | grep rx_; cat /sys/class/net/tap0/statistics/rx_*)
check "netlink: uid 65534 ($a), its user namespace's root ($b); tap0's receive counters unchanged" \
	test "$a" = "EPERM EPERM EPERM" -a "$b" = "EPERM EPERM EPERM" -a "$c0" = "$c1"

# 5. Root of a user namespace cannot open /dev/tap0 (0600 root:root).
err=$(open_err /dev/tap0 O_RDWR nobody unshare -Ur)
check "root of uid 65534's user namespace: open /dev/tap0 gives $err" test "$err" = EACCES

# 6-7. Access granted the ordinary way: group and mode of the node (what a
#      udev rule GROUP="...", MODE="0660" does).  A member of the group
#      reads tap0's frames; others still cannot open it.
chgrp 4242 /dev/tap0
chmod 0660 /dev/tap0
echo 1 > /proc/sys/net/ipv6/conf/tap0/disable_ipv6
ip addr add 10.97.0.1/24 dev tap0
setpriv --reuid 65534 --regid 65534 --groups 4242 \
	timeout 10 head -c 16 /dev/tap0 > "$tmp"/frame &
reader=$!
# The reader may open the node late on a loaded host: send until it has
# read a frame (every datagram has the same first 16 bytes).
python3 -c "
import os, socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(50):
    s.sendto(b'x', ('10.97.0.2', 9))
    time.sleep(0.2)
    if os.path.getsize('$tmp/frame') >= 16:
        break"
wait $reader
got=$(od -An -tx1 "$tmp"/frame | tr -d ' \n')
check "group 4242, mode 0660: a member (uid 65534) reads tap0's frame ($got)" \
	test "$got" = 0000fefd00000000fefd000000000800
err=$(open_err /dev/tap0 O_RDONLY nobody)
check "not a member: still $err" test "$err" = EACCES

chgrp 0 /dev/tap0
chmod 0600 /dev/tap0
ip addr flush dev tap0
ip link set tap0 down

# 8-9. The udev rule of Documentation/ethertap.rst, as written there, in
#      /run/udev/rules.d (the guest runs no udevd: "udevadm test" plays
#      the add event of each node, /dev/tapN and /dev/ethertap/tapN, and
#      applies the rule).  Where the group
#      netdev does not exist (a minimal Debian) the rule names "users".
#      The rule the Debian package ships as an example is the same.
documented=$(sed -n 's/^ *\(SUBSYSTEM=="ethertap", GROUP=.*\)$/\1/p' \
	"$(dirname "$0")"/../Documentation/ethertap.rst)
rule=$documented
shipped=$(grep -v '^#' "$(dirname "$0")"/../debian/examples/60-ethertap.rules)
group=netdev
getent group netdev >/dev/null || { group=users; rule=${rule/GROUP=\"netdev\"/GROUP=\"users\"}; }
gid=$(getent group "$group" | cut -d: -f3)
mkdir -p /run/udev/rules.d
echo "$rule" > /run/udev/rules.d/60-ethertap.rules
r=
nodes="tap0 tap1 ethertap/tap0 ethertap/tap1"
for t in $nodes; do
	udevadm test --action=add "/sys/class/ethertap/${t/\//!}" >"$tmp"/udev.log 2>&1 || sed 's/^/# /' "$tmp"/udev.log
	r+="$(stat -c '%n %G %a' /dev/$t) "
done
check "udev rule '$rule' (shipped: '$shipped'): $r" \
	test -n "$rule" -a "$shipped" = "$documented" -a "$r" = "/dev/tap0 $group 660 /dev/tap1 $group 660 /dev/ethertap/tap0 $group 660 /dev/ethertap/tap1 $group 660 "
a=$(open_err /dev/tap1 O_RDWR setpriv --reuid 65534 --regid 65534 --groups "$gid")
a+=" $(open_err /dev/ethertap/tap1 O_RDWR setpriv --reuid 65534 --regid 65534 --groups "$gid")"
b=$(open_err /dev/tap1 O_RDWR nobody)
b+=" $(open_err /dev/ethertap/tap1 O_RDWR nobody)"
check "udev rule: a member of $group opens /dev/tap1 and /dev/ethertap/tap1 ($a), uid 65534 alone cannot ($b)" \
	test "$a" = "opened opened" -a "$b" = "EACCES EACCES"
rm -f /run/udev/rules.d/60-ethertap.rules
for t in $nodes; do chgrp 0 /dev/$t; chmod 0600 /dev/$t; done

# 10-11. An administrator moves a new tap into the network namespace of a
#        user namespace that uid 65534 made.  Its root holds CAP_NET_ADMIN
#        over that network namespace, which is all rtnetlink asks for
#        changing or deleting a device there: it re-addresses, renames and
#        deletes the tap (its number and /dev node go free), and can create
#        none; its raw netlink socket joins the tap's group.  (Test 5: it
#        cannot open /dev/tapN.)
before=$(ls /sys/class/ethertap | grep -x 'tap[0-9]*')
ip link add type ethertap
t=$(comm -13 <(echo "$before") <(ls /sys/class/ethertap | grep -x 'tap[0-9]*'))
mkdir -m 777 "$tmp"/u
mkfifo -m 666 "$tmp"/u/go
nobody unshare -Urn sh -c '
	d=$1 t=$2
	echo $$ > "$d"/pid
	read x < "$d"/go
	r=
	ip link set "$t" address 02:00:00:00:00:0a && r="$r address"
	ip link set "$t" mtu 1400 && r="$r mtu"
	ip link set "$t" name usertap && r="$r rename"
	ip link set usertap up && r="$r up"
	python3 -c "
import socket, sys
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 31)
s.bind((0, 0))
s.setsockopt(270, 1, int(sys.argv[1][3:]) + 1)" "$t" && r="$r join"
	ip link add type ethertap 2>/dev/null || r="$r no-add"
	ip link del usertap && r="$r delete"
	echo $r > "$d"/out
' sh "$tmp"/u "$t" &
ns=$!
for i in $(seq 50); do [ -s "$tmp"/u/pid ] && break; sleep 0.1; done
ip link set "$t" netns "$(cat "$tmp"/u/pid)"
echo go > "$tmp"/u/go
wait $ns
got=$(cat "$tmp"/u/out 2>/dev/null)
check "root of uid 65534's user namespace, $t moved into its network namespace: $got" \
	test "$got" = "address mtu rename up join no-add delete"
check "$t deleted by it: gone from /sys/class/ethertap and /dev" \
	test ! -e /sys/class/ethertap/"$t" -a ! -e /dev/"$t"
rm -rf "$tmp"
ktap_finished
