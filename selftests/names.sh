#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Names and numbers of taps made with ip link add: a tap asked for without
# a name gets the lowest number N whose name tapN is free, so creation keeps
# working after a tap took another's name (given, or by renaming); a given
# name is kept, a template such as foo%d expanded; each refusal has its
# errno and its extack message.  Requests go through a small rtnetlink
# client (exact errno and message); names and nodes are read from sysfs.
# Run by run.sh with ethertap max_taps=2 and netlink_dev loaded.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
moddir=${ETHERTAP_MODDIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# add [NAME [PID]]: RTM_NEWLINK of kind ethertap (in the namespace of PID);
# prints "ok" or "ERRNO message".
cat > "$tmp/add.py" <<'PY'
import errno, socket, struct, sys

def attr(t, data):
    a = struct.pack("=HH", 4 + len(data), t) + data
    return a + bytes(-len(a) % 4)

body = struct.pack("=BxHiII", 0, 0, 0, 0, 0)
if len(sys.argv) > 1:
    body += attr(3, sys.argv[1].encode() + b"\0")		# IFLA_IFNAME
if len(sys.argv) > 2:
    body += attr(19, struct.pack("=I", int(sys.argv[2])))	# IFLA_NET_NS_PID
body += attr(18, attr(1, b"ethertap\0"))			# IFLA_LINKINFO
flags = 0x1 | 0x4 | 0x400 | 0x200	# REQUEST ACK CREATE EXCL
msg = struct.pack("=IHHII", 16 + len(body), 16, flags, 1, 0) + body
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
s.setsockopt(270, 11, 1)	# SOL_NETLINK, NETLINK_EXT_ACK
s.send(msg)
r = s.recv(65536)
ln, typ, fl = struct.unpack("=IHH", r[:8])
err = -struct.unpack("=i", r[16:20])[0]
if not err:
    print("ok")
    sys.exit(0)
off = 20 + (16 if fl & 0x100 else struct.unpack("=I", r[20:24])[0])
text = ""
while off + 4 <= ln:
    alen, atype = struct.unpack("=HH", r[off:off + 4])
    if atype == 1:				# NLMSGERR_ATTR_MSG
        text = r[off + 4:off + alen].rstrip(b"\0").decode()
    off += (alen + 3) & ~3
print(errno.errorcode[err], text)
PY
add() { python3 "$tmp/add.py" "$@" 2>&1; }
# tap NAME: "NAME N" for the tap NAME, N its number (from its MAC).
tap() {
	local a

	a=$(cat "/sys/class/net/$1/address" 2>/dev/null) || { echo "no $1"; return; }
	echo "$1 $((16#${a:12:2}${a:15:2}))"
}
node() { stat -c '%t:%T' "/dev/$1" 2>/dev/null; }

ktap_print_header
ktap_set_plan 7

# 1. A given name takes the lowest free number: tap2 is number 1.
ip link del tap1
out="$(add tap2) $(tap tap2) $(node tap1)"
check "add tap2 after del tap1: tap2 is number 1, /dev/tap1 ($out)" \
	test "$out" = "ok tap2 1 24:11"

# 2. Without a name: number 2 would be tap2, taken, so tap3 with number 3;
#    then tap4.  Number 2 stays free for a named tap.
out="$(add) $(tap tap3) $(node tap3) $(add) $(tap tap4)"
check "add without a name while tap2 is number 1: tap3 then tap4 ($out)" \
	test "$out" = "ok tap3 3 24:13 ok tap4 4"

# 3. A template is honoured, with the lowest free number.
out="$(add 'foo%d') $(tap foo0) $(add 'foo%d') $(tap foo1)"
check "add foo%d twice: foo0 number 2, foo1 number 5 ($out)" \
	test "$out" = "ok foo0 2 ok foo1 5"

# 4. Refusals say why: a name taken in the namespace the tap is made for
#    (rtnetlink itself refuses one taken where the request comes from, with
#    no message), a bad template.  No node is made.
ip netns add nn
ip -n nn link add x1 type veth peer name x2
ip netns exec nn sleep 60 &
sleep 0.5
out="$(add tap3)|$(add x1 $!)|$(add 'foo%d%d')|$(ls /sys/class/ethertap | grep -c '^ethertap!')"
kill $!
ip netns del nn
check "add tap3, x1 in a namespace that has one, foo%d%d: errno and message ($out)" \
	test "$out" = "EEXIST |EEXIST a device of that name exists|EINVAL not a valid name template|6"

# 5-6. A tap renamed to the name the next number would get: tap0 becomes
#    tap1, and creation goes on with tap2 (number 2), then tap3.
for d in $(ip -o link show type ethertap | awk -F': ' '{ print $2 }'); do
	ip link del "$d"
done
out="$(add) $(tap tap0)"
ip link set tap0 name tap1
out+=" $(add) $(tap tap1) $(tap tap2)"
check "del all, add, ip link set tap0 name tap1, add: tap2 number 2 ($out)" \
	test "$out" = "ok tap0 0 ok tap1 0 tap2 2"
out="$(add) $(tap tap3) $(add tap1)"
check "then add: tap3 number 3; add tap1: refused ($out)" \
	test "$out" = "ok tap3 3 EEXIST "

# 7. Taps loaded with max_taps=N are tap0..tapN-1 with their numbers.
rmmod netlink_dev ethertap
insmod "$moddir"/ethertap.ko max_taps=3 && insmod "$moddir"/netlink_dev.ko
out="$(tap tap0) $(tap tap1) $(tap tap2) $(node tap2)"
check "max_taps=3: tap0 0, tap1 1, tap2 2 ($out)" \
	test "$out" = "tap0 0 tap1 1 tap2 2 24:12"

ktap_finished
