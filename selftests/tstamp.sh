#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Software transmit timestamps: a UDP socket with SO_TIMESTAMPING sends
# through tap0 while /dev/tap0 is read; the timestamp comes back on the
# socket's error queue (MSG_ERRQUEUE), and ethtool -T tap0 lists it.
# Run by run.sh with ethertap max_taps=2 and netlink_dev loaded.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ktap_print_header
ktap_set_plan 2

echo 1 > /proc/sys/net/ipv6/conf/tap0/disable_ipv6
ip addr add 10.5.0.1/24 dev tap0
ip link set tap0 up

# 1. One datagram, one timestamp: SCM_TSTAMP_SND, key 0 (OPT_ID), a
#    software time within 10 s of now; the reader got the frame.
out=$(python3 - <<'PY'
import os, select, socket, struct, time

SO_TIMESTAMPING, IP_RECVERR = 37, 11
TX_SOFTWARE, SOFTWARE, OPT_ID, OPT_TSONLY = 1 << 1, 1 << 4, 1 << 7, 1 << 11
fd = os.open("/dev/tap0", os.O_RDONLY)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING,
             TX_SOFTWARE | SOFTWARE | OPT_ID | OPT_TSONLY)
s.sendto(b"stamp me", ("10.5.0.2", 9))
frame = os.read(fd, 2000)
p = select.poll()
p.register(s, select.POLLERR)
res = []
if p.poll(5000):
    data, anc, flags, _ = s.recvmsg(100, 1024, socket.MSG_ERRQUEUE)
    for level, typ, d in anc:
        if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPING:
            sec, nsec = struct.unpack("=qq", d[:16])
            res.append("ts %s" % (abs(sec + nsec / 1e9 - time.time()) < 10))
        elif level == socket.IPPROTO_IP and typ == IP_RECVERR:
            eno, origin, typ_, code, pad, info, key = struct.unpack("=IBBBBII", d[:16])
            res.append("errno %d origin %d info %d key %d" % (eno, origin, info, key))
print(len(frame), " | ".join(sorted(res)) or "nothing")
PY
)
check "SO_TIMESTAMPING TX_SOFTWARE through tap0: $out" \
	test "$out" = "52 errno 42 origin 4 info 0 key 0 | ts True"

# 2. ethtool -T: software transmit, software receive, the system clock.
caps=$(ethtool -T tap0 | sed -n '/^Capabilities:/,/^PTP/p' | sed '1d;$d' | awk '{ print $1 }' | tr '\n' ' ')
check "ethtool -T tap0 capabilities: $caps" \
	test "$caps" = "software-transmit software-receive software-system-clock "

ktap_finished
