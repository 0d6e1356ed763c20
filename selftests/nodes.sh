#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The nodes of a tap beside macvtap, which names its nodes /dev/tap<ifindex>
# in the same devtmpfs: /dev/ethertap/tapN always, /dev/tapN (36, 16 + N)
# while no macvtap has ifindex N, one log line when one takes the name,
# macvtap's node untouched, with the macvtap made before the tap and after
# it, and an ipvtap whose namespace is deleted.  Run by run.sh with the
# modules loaded (ethertap max_taps=2, netlink_dev).
set -u
source "${KSFT_DIR:?}/kselftest/ktap_helpers.sh"
made=()

cleanup() {
	local t

	for t in "${made[@]}"; do ip link del "$t" 2>/dev/null; done
	ip link del dm0 2>/dev/null
	ip netns del et-nodes 2>/dev/null
	ip netns del et-nodes2 2>/dev/null
}
trap cleanup EXIT

check() {	# check "description" command...
	local d=$1
	shift
	if "$@"; then ktap_test_pass "$d"; else ktap_test_fail "$d"; fi
}

# "major:minor mode owner:group" of a character node, in decimal, or "none".
node() {
	local s

	s=$(stat -c '%F %t %T %a %U:%G' "$1" 2>/dev/null) || { echo none; return; }
	set -- $s
	[ "$1 $2" = "character special" ] || { echo "not a char device"; return; }
	echo "$((16#$4)):$((16#$5)) $6 $7"
}

# The major of the /proc/devices line "MAJOR NAME" other than $2.
major() { awk -v n="$1" -v x="${2:-}" '$2 == n && $1 != x { print $1 }' /proc/devices; }

# Lines of the kernel log that contain $1.
logged() { dmesg | grep -cF -- "$1"; }

# frames TAP NODE...: send one UDP datagram through TAP while every NODE is
# open for reading; print "LEN:SHA" of what each read, then how many of the
# written copies the tap received (one frame written to the first NODE).
frames() {
	local tap=$1 n=${1#tap}
	shift
	sysctl -qw net.ipv6.conf."$tap".disable_ipv6=1
	ip link set "$tap" up
	ip addr add 10.77.$n.1/24 dev "$tap"
	python3 - "$tap" 10.77.$n.2 "$@" <<'PY'
import hashlib, os, select, socket, sys
tap, peer, nodes = sys.argv[1], sys.argv[2], sys.argv[3:]
fds = [os.open(p, os.O_RDWR) for p in nodes]
rx = lambda: int(open('/sys/class/net/%s/statistics/rx_packets' % tap).read())
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b'nodes', (peer, 7))
out = []
for fd in fds:
    got = 'nothing'
    while select.select([fd], [], [], 2)[0]:
        f = os.read(fd, 2000)
        if f[14:16] == b'\x08\x00' and f[-5:] == b'nodes':
            got = '%d:%s' % (len(f), hashlib.sha1(f).hexdigest()[:12])
            break
    out.append(got)
r0 = rx()
os.write(fds[0], bytes(2) + b'\xff' * 6 + bytes.fromhex('020000007702') +
         b'\x88\xb5' + bytes(46))
print(' '.join(out), rx() - r0)
PY
	ip addr flush dev "$tap"
	ip link set "$tap" down
}

ktap_print_header
ktap_set_plan 13

M=$(major ethertap 36)
mv=
# 1-3. tap0 and tap1: both nodes, 0600 root's, both serve the same tap.
check "two ethertap majors in /proc/devices: 36 and ${M:-none}" \
	test -n "$M" -a "$(major ethertap "$M")" = 36 -a "$(wc -w <<<"$M")" = 1
r="$(node /dev/tap0), $(node /dev/ethertap/tap0), $(node /dev/tap1), $(node /dev/ethertap/tap1)"
check "/dev/tap0, /dev/ethertap/tap0, /dev/tap1, /dev/ethertap/tap1: $r" \
	test "$r" = "36:16 600 root:root, $M:16 600 root:root, 36:17 600 root:root, $M:17 600 root:root"
r=$(frames tap0 /dev/ethertap/tap0 /dev/tap0)
read -r a b c <<<"$r"
check "a frame tap0 sends is read from both nodes ($r)" \
	test "${a%%:*}" = 49 -a "$a" = "$b" -a "$c" = 1

# 4-7. A macvtap of ifindex K made first: taps are added up to tapK.
ip link add dm0 type dummy
k=5
while ip -o link show | grep -q "^$k:"; do k=$((k + 1)); done
ip link add link dm0 name mv0 index $k type macvtap
mvmaj=$(major macvtap)
mv=$(node /dev/tap$k)
dmesg -C
while ! [ -e /sys/class/net/tap$k ]; do
	t=$(ip link add type ethertap 2>&1) || { echo "# ip link add: $t"; break; }
	made+=($(ls /sys/class/net | grep '^tap[0-9]*$' | sort -V | tail -1))
done
line="tap$k: /dev/tap$k is mv0's (macvtap, ifindex $k): use /dev/ethertap/tap$k"
r="$(node /dev/tap$k), $(node /dev/ethertap/tap$k), $(node /dev/tap$((k - 1)))"
check "macvtap mv0 (ifindex $k) first: /dev/tap$k stays mv0's ($mvmaj:...), tap$k is /dev/ethertap/tap$k, tap$((k - 1)) keeps /dev/tap$((k - 1)): $r" \
	test -n "$mvmaj" -a "${mv%%:*}" = "$mvmaj" \
	     -a "$(cat /sys/class/macvtap/tap$k/dev 2>/dev/null) 600 root:root" = "$mv" \
	     -a "$r" = "$mv, $M:$((16 + k)) 600 root:root, 36:$((15 + k)) 600 root:root"
check "no device (36, $((16 + k))), /sys/class/ethertap/tap$k absent" \
	test ! -e /sys/dev/char/36:$((16 + k)) -a ! -e /sys/class/ethertap/tap$k \
	     -a -e /sys/class/ethertap/ethertap!tap$k
check "logged once: '$line' ($(logged "$line")), no warning" \
	test "$(logged "$line")" = 1 -a "$(logged 'ethertap: ')" = 1 \
	     -a "$(logged WARNING)" = 0
r=$(frames tap$k /dev/ethertap/tap$k)
check "tap$k's frames through /dev/ethertap/tap$k ($r)" test "${r%% *}" != nothing -a "${r#* }" = 1

# 8. mv0 gone: /dev/tapK is tapK's again.
dmesg -C
ip link del mv0
r=$(node /dev/tap$k)
check "mv0 deleted: /dev/tap$k is 36:$((16 + k)) again ($r), logged once" \
	test "$r" = "36:$((16 + k)) 600 root:root" \
	     -a "$(logged "tap$k: /dev/tap$k is this tap's again")" = 1

# 9-12. A macvtap of ifindex K made after tapK, in another namespace.
ip netns add et-nodes
ip -n et-nodes link add dm1 type dummy
dmesg -C
ip -n et-nodes link add link dm1 name mv1 index $k type macvtap
mv=$(node /dev/tap$k)
line="tap$k: /dev/tap$k is mv1's (macvtap, ifindex $k): use /dev/ethertap/tap$k"
check "macvtap mv1 (ifindex $k in et-nodes) after tap$k: /dev/tap$k is mv1's ($mv), /dev/ethertap/tap$k stays" \
	test "${mv%%:*}" = "$mvmaj" -a ! -e /sys/dev/char/36:$((16 + k)) \
	     -a "$(ip netns exec et-nodes cat /sys/class/macvtap/tap$k/dev) 600 root:root" = "$mv" \
	     -a "$(node /dev/ethertap/tap$k)" = "$M:$((16 + k)) 600 root:root"
check "logged once: '$line' ($(logged "$line")), no warning" \
	test "$(logged "$line")" = 1 -a "$(logged 'ethertap: ')" = 1 \
	     -a "$(logged WARNING)" = 0
r=$(frames tap$k /dev/ethertap/tap$k)
check "tap$k's frames through /dev/ethertap/tap$k ($r)" test "${r%% *}" != nothing -a "${r#* }" = 1
ip link del tap$k
check "tap$k deleted: /dev/tap$k is still mv1's ($(node /dev/tap$k)), /dev/ethertap/tap$k gone" \
	test "$(node /dev/tap$k)" = "$mv" -a "$(node /dev/ethertap/tap$k)" = none

# 13. An ipvtap of ifindex K - 1 in a namespace of its own takes
#     /dev/tap(K-1); deleting the namespace gives it back.
j=$((k - 1))
ip netns add et-nodes2
ip -n et-nodes2 link add dm2 type dummy
dmesg -C
ip -n et-nodes2 link add link dm2 name iv0 index $j type ipvtap
a=$(node /dev/tap$j)
b=$(ip netns exec et-nodes2 cat /sys/class/ipvtap/tap$j/dev 2>/dev/null)
ip netns del et-nodes2
for i in $(seq 40); do	# the namespace goes in the background
	r=$(node /dev/tap$j)
	[ "${r%%:*}" = 36 ] && break
	sleep 0.5
done
line="tap$j: /dev/tap$j is iv0's (ipvtap, ifindex $j): use /dev/ethertap/tap$j"
check "ipvtap iv0 (ifindex $j) takes /dev/tap$j ($a, $b), logged once, back as 36:$((16 + j)) with its namespace gone ($r)" \
	test "${a% 600 root:root}" = "$b" -a "${b%%:*}" = "$(major ipvtap)" \
	     -a "$(logged "$line")" = 1 -a "$r" = "36:$((16 + j)) 600 root:root"

ktap_finished
