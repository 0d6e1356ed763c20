#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/ethertap-tunneld between two network namespaces joined by a veth
# pair (the "underlay", 192.168.77.1 and .2), each with its own tap (the
# "overlay", 10.77.0.1 on tap0 in tnA and 10.77.0.2 on tap1 in tnB): ping
# and a 1 MiB TCP transfer through it, per-frame authentication with a good
# and a wrong key, forged datagrams, the peer's restart, SIGUSR1 and
# SIGTERM with exact counters, ARP across; then the documented example's
# form over an IPv6 underlay (fd77::1 and ::2) with the defaults (no -l,
# no -d), -v, SIGINT and SIGHUP, and the daemon in the background logging
# to syslog.  Run by run.sh with ethertap max_taps=2 and netlink_dev loaded.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bin=$(cd "$(dirname "$0")/.." && pwd)/tools/ethertap-tunneld
tmp=$(mktemp -d)
umask 077
declare -A pid

# start NAME NS DEV LOCAL REMOTE [KEYFILE [OPTION...]]: a daemon in the
# foreground, its log in $tmp/NAME.log; waits for its "started" line.
# An empty DEV or LOCAL leaves out -d or -l (the defaults).
start() {
	local i name=$1 ns=$2 dev=$3 local=$4 remote=$5 key=${6:-}

	shift $(( $# < 6 ? $# : 6 ))
	ip netns exec "$ns" "$bin" -f ${dev:+-d "/dev/$dev"} ${local:+-l "$local"} \
		-r "$remote" ${key:+-k "$key"} "$@" 2> "$tmp/$name.log" &
	pid[$name]=$!
	for i in $(seq 100); do
		grep -q ': started' "$tmp/$name.log" && return 0
		kill -0 "${pid[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/# /' "$tmp/$name.log"
	return 1
}
startA() { start A tnA tap0 192.168.77.1:7700 192.168.77.2:7700 "$@"; }
startB() { start B tnB tap1 192.168.77.2:7700 192.168.77.1:7700 "$@"; }

# stop NAME [SIGNAL]: the exit status in $rc.
stop() {
	kill -"${2:-TERM}" "${pid[$1]}"
	{ wait "${pid[$1]}"; } 2>/dev/null
	rc=$?
	unset "pid[$1]"
}

# The counters a daemon logged at exit (or on SIGUSR1: counters NAME SIGUSR1).
counters() {
	sed -n "s/^ethertap-tunneld: counters (${2:-exit}): //p" "$tmp/$1.log" | tail -n 1
}
ctr() { counters "$1" "$3" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# counters with every drop at zero, out and in as given.
clean_counters() {	# out_frames out_bytes in_frames in_bytes datagrams
	echo "out_frames=$1 out_bytes=$2 in_frames=$3 in_bytes=$4 datagrams=$5 refused=0 bad_tag=0 short=0 too_long=0 bad_header=0 replay=0 looped=0 write_errors=0 send_errors=0"
}

# usr1 NAME: SIGUSR1, and wait for the counters line it makes.
usr1() {
	local n i
	n=$(grep -c 'counters (SIGUSR1)' "$tmp/$1.log")
	kill -USR1 "${pid[$1]}"
	for i in $(seq 50); do
		[ "$(grep -c 'counters (SIGUSR1)' "$tmp/$1.log")" -gt "$n" ] && return
		sleep 0.1
	done
}

# pings NS ADDR COUNT: the number of replies.
pings() {
	ip netns exec "$1" ping -n -c "$3" -i 0.5 -W 2 "$2" 2>&1 |
		sed -n 's/.* \([0-9]*\) received.*/\1/p'
}

# A tap's counter in its namespace: tstat NS DEV NAME (sysfs or ethtool -S).
tstat() {
	case $3 in
	tx_packets|rx_packets)
		ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3" ;;
	*)
		ip netns exec "$1" ethtool -S "$2" | sed -n "s/^ *$3: //p" ;;
	esac
}

cleanup() {
	local n
	for n in "${!pid[@]}"; do
		kill -KILL "${pid[$n]}" 2>/dev/null
		wait "${pid[$n]}" 2>/dev/null
	done
	[ -n "${bg:-}" ] && kill -KILL "$bg" 2>/dev/null
	[ -n "${logger_pid:-}" ] && kill "$logger_pid" 2>/dev/null
	ip netns del tnA 2>/dev/null
	ip netns del tnB 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ktap_print_header
ktap_set_plan 17

# Two "hosts": namespaces joined by veth, each with a tap, ARP on and a
# permanent neighbour entry (no ARP traffic), IPv6 off (no chatter): every
# frame through the tunnel is one the test sends.
ip netns add tnA && ip netns add tnB
ip link add vA netns tnA type veth peer name vB netns tnB
ip link set tap0 netns tnA && ip link set tap1 netns tnB
for s in "tnA vA tap0 1 2 fe:fd:00:00:00:01" "tnB vB tap1 2 1 fe:fd:00:00:00:00"; do
	set -- $s
	ip -n "$1" link set lo up
	ip -n "$1" addr add "192.168.77.$4/24" dev "$2"
	ip -n "$1" link set "$2" up
	ip netns exec "$1" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$3/disable_ipv6"
	ip -n "$1" addr add "10.77.0.$4/24" dev "$3"
	ip -n "$1" link set "$3" arp on up
	ip -n "$1" neigh replace "10.77.0.$5" lladdr "$6" dev "$3" nud permanent
done
head -c 32 /dev/urandom > "$tmp/key"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$tmp/wrong"
echo >> "$tmp/wrong"

# 1-2. No key: 3 pings (98-byte frames) through, exact counters at SIGTERM.
startA && startB
n=$(pings tnA 10.77.0.2 3)
check "no key: ping -c 3 10.77.0.2 from tnA through the tunnel: $n replies" \
	test "$n" = 3
stop A; sa=$rc
stop B; sb=$rc
want=$(clean_counters 3 294 3 294 3)
check "SIGTERM: exit $sa and $sb, counters A '$(counters A)', B '$(counters B)'" \
	test "$sa" = 0 -a "$sb" = 0 -a "$(counters A)" = "$want" -a \
	"$(counters B)" = "$want"

# 3-4. With a key: ping, then 1 MiB over TCP with the same sha256 at both
#      ends.  tap0's counters before A starts, to compare at the end.
tx0=$(tstat tnA tap0 tx_packets)
rx0=$(tstat tnA tap0 rx_packets)
un0=$(tstat tnA tap0 tx_unread_at_close)
startA "$tmp/key" && startB "$tmp/key"
n=$(pings tnA 10.77.0.2 3)
check "key: ping -c 3 through the authenticated tunnel: $n replies" test "$n" = 3

head -c 1048576 /dev/urandom > "$tmp/send"
ip netns exec tnB timeout 120 socat -u TCP-LISTEN:7701,bind=10.77.0.2,reuseaddr \
	CREATE:"$tmp/recv" &
srv=$!
ip netns exec tnA timeout 120 socat -u OPEN:"$tmp/send" \
	TCP:10.77.0.2:7701,retry=50,interval=0.2
wait $srv
s1=$(sha256sum < "$tmp/send" | cut -c1-16)
s2=$(sha256sum < "$tmp/recv" 2>/dev/null | cut -c1-16)
check "key: 1 MiB over TCP, sha256 $s1 sent, $s2 received ($(stat -c %s "$tmp/recv" 2>/dev/null) bytes)" \
	test "$s1" = "$s2" -a "$(stat -c %s "$tmp/recv" 2>/dev/null)" = 1048576

# 5. B with a wrong key (hexadecimal key file): the 3 echo requests reach
#    it and are dropped, each counted as a bad tag; no reply.
stop B; sb=$rc
startB "$tmp/wrong"
n=$(pings tnA 10.77.0.2 3)
stop B; sb=$rc
check "wrong key: $n replies, B exits $sb with '$(counters B)'" \
	test "$n" = 0 -a "$sb" = 0 -a "$(counters B)" = "$(clean_counters 0 0 0 0 3 |
		sed 's/bad_tag=0/bad_tag=3/')"

# 6-7. The peer's restart: B killed outright; A's datagrams are refused
#      (ICMP port unreachable) and A carries on; B again: pings flow, and
#      A logs one "unreachable", one "reachable again", a new session.
startB "$tmp/key"
n1=$(pings tnA 10.77.0.2 1)
stop B KILL
n2=$(pings tnA 10.77.0.2 2)
alive=no
kill -0 "${pid[A]}" 2>/dev/null && alive=yes
startB "$tmp/key"
# One of B's datagrams as A receives it, for the forgeries of test 9.
ip netns exec tnA tcpdump -i vA -n -c 1 -w "$tmp/b.pcap" \
	udp and src host 192.168.77.2 2> "$tmp/tcpdump.err" &
dump=$!
for i in $(seq 100); do
	grep -q 'listening on' "$tmp/tcpdump.err" && break
	sleep 0.1
done
n3=$(pings tnA 10.77.0.2 3)
for i in $(seq 50); do kill -0 $dump 2>/dev/null || break; sleep 0.1; done
kill $dump 2>/dev/null
wait $dump
u=$(grep -c 'peer unreachable' "$tmp/A.log")
r=$(grep -c 'peer reachable again' "$tmp/A.log")
check "peer killed: $n2 replies, A alive ($alive), unreachable logged $u time(s)" \
	test "$n1" = 1 -a "$n2" = 0 -a "$alive" = yes -a "$u" = 1
check "peer restarted: $n3 replies, 'reachable again' logged $r time(s)" \
	test "$n3" = 3 -a "$r" = 1

# 8. SIGUSR1: one counters line, and the daemon goes on.
usr1 A
n=$(pings tnA 10.77.0.2 1)
check "SIGUSR1: A logs '$(counters A SIGUSR1 | cut -d' ' -f1-3) ...' and goes on ($n reply)" \
	test -n "$(counters A SIGUSR1)" -a "$n" = 1

# 9. Forgeries from B's address and port, B stopped: the captured datagram
#    twice (replays), the same with one frame byte changed (bad tag), 10
#    bytes (short), another magic (bad header).  None reaches tap0.
stop B
usr1 A
c0=$(counters A SIGUSR1)
d0() { echo "$c0" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
d1() { ctr A "$1" SIGUSR1; }
len=$(ip netns exec tnB python3 - "$tmp/b.pcap" <<'PY'
import socket, sys
p = open(sys.argv[1], 'rb').read()[24 + 16:]	# pcap header, record header
ip = p[14:]
d = ip[(ip[0] & 15) * 4 + 8:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('192.168.77.2', 7700))
s.connect(('192.168.77.1', 7700))
bad = bytearray(d)
bad[16 + 20] ^= 1
for x in (d, d, bytes(bad), d[:10], b'XY' + d[2:]):
    s.send(x)
print(len(d))
PY
)
for i in $(seq 25); do
	usr1 A
	[ "$(d1 datagrams)" -ge $(( $(d0 datagrams) + 5 )) ] && break
	sleep 0.2
done
got=
for f in datagrams in_frames replay bad_tag short bad_header looped write_errors; do
	got+="$f+$(( $(d1 $f) - $(d0 $f) )) "
done
check "forged datagrams (from a $len-byte one) at A: $got" \
	test "$got" = "datagrams+5 in_frames+0 replay+2 bad_tag+1 short+1 bad_header+1 looped+0 write_errors+0 "

# 10-12. SIGTERM: exit 0; A's counters against tap0's and against its
#        datagrams; drops: exactly the forgeries of test 9.
startB "$tmp/key"
stop A; sa=$rc
stop B; sb=$rc
tx=$(( $(tstat tnA tap0 tx_packets) - tx0 - ($(tstat tnA tap0 tx_unread_at_close) - un0) ))
rx=$(( $(tstat tnA tap0 rx_packets) - rx0 ))
check "SIGTERM: A exits $sa, B exits $sb, both print counters" \
	test "$sa" = 0 -a "$sb" = 0 -a -n "$(counters A)" -a -n "$(counters B)"
echo "# A: $(counters A)"
check "A: frames read from tap0 ($tx) = out_frames $(ctr A out_frames) + send_errors $(ctr A send_errors); written to tap0 ($rx) = in_frames $(ctr A in_frames) = datagrams $(ctr A datagrams) - 5" \
	test "$tx" = $(( $(ctr A out_frames) + $(ctr A send_errors) )) -a \
	"$rx" = "$(ctr A in_frames)" -a "$rx" = $(( $(ctr A datagrams) - 5 )) -a "$rx" -gt 0
drops=
for f in bad_tag short too_long bad_header replay looped write_errors; do
	drops+="$f=$(ctr A $f) "
done
check "A: drops exactly the 5 forgeries ($drops), refusals while B was dead ($(ctr A refused))" \
	test "$drops" = "bad_tag=1 short=1 too_long=0 bad_header=1 replay=2 looped=0 write_errors=0 " -a \
	"$(ctr A refused)" -ge 1

# 13. ARP through the tunnel: the permanent entries gone, tnA resolves
#     10.77.0.2 to tap1's MAC by a request and reply carried as frames.
ip -n tnA neigh del 10.77.0.2 dev tap0
ip -n tnB neigh del 10.77.0.1 dev tap1
startA && startB
n=$(pings tnA 10.77.0.2 3)
mac=$(ip -n tnA neigh show 10.77.0.2 dev tap0 | grep -o 'lladdr [0-9a-f:]*')
stop A; sa=$rc
stop B; sb=$rc
check "ARP through the tunnel: $n replies, 10.77.0.2 $mac, exits $sa $sb" \
	test "$n" = 3 -a "$mac" = "lladdr fe:fd:00:00:00:01" -a "$sa$sb" = 00

# 14. The documented example over an IPv6 underlay: "ip link set tapN mtu
#     1410 arp on up", A with the defaults (no -l: any address and the
#     peer's port; no -d: /dev/tap0), B with -v; permanent neighbours
#     again.  3 pings of 1390-byte packets (1404-byte frames: 1404 + 16 +
#     32 + 8 + 40 = 1500, one unfragmented datagram each), exact counters
#     at SIGINT.
for s in "tnA vA tap0 1 2 fe:fd:00:00:00:01" "tnB vB tap1 2 1 fe:fd:00:00:00:00"; do
	set -- $s
	ip -n "$1" addr add "fd77::$4/64" dev "$2" nodad
	ip -n "$1" link set "$3" mtu 1410 arp on up
	ip -n "$1" neigh replace "10.77.0.$5" lladdr "$6" dev "$3" nud permanent
done
start A tnA "" "" "[fd77::2]:7700" "$tmp/key" &&
	start B tnB tap1 "[fd77::2]:7700" "[fd77::1]:7700" "$tmp/key" -v
n=$(ip netns exec tnA ping -n -c 3 -i 0.5 -W 2 -s 1362 -M do 10.77.0.2 2>&1 |
	sed -n 's/.* \([0-9]*\) received.*/\1/p')
stop A INT; sa=$rc
m=$(ip -n tnA -o link show tap0 | grep -o 'mtu [0-9]*')
started=$(sed -n 's/.*: started ([^)]*): //p' "$tmp/A.log")
check "IPv6 underlay, defaults: A '$started', tap0 $m, $n replies, SIGINT: exit $sa, counters '$(counters A)'" \
	test "$started" = "/dev/tap0, local [::]:7700" -a "$m" = "mtu 1410" -a \
	"$n" = 3 -a "$sa" = 0 -a "$(counters A)" = "$(clean_counters 3 4212 3 4212 3)"

# 15. -v logs every drop, without it only the first: 3 short datagrams
#     from A's address and port to B (-v), then the same to B started
#     without -v.
short3() {
	ip netns exec tnA python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(('fd77::1', 7700))
s.connect(('fd77::2', 7700))
for i in range(3):
    s.send(b'ET\x01\x00short')
PY
	for i in $(seq 25); do
		usr1 B
		[ "$(ctr B short SIGUSR1)" = 3 ] && return
		sleep 0.2
	done
}
short3
v=$(grep -c 'dropped: .*(short)$' "$tmp/B.log")
stop B HUP; sb=$rc
start B tnB tap1 "[fd77::2]:7700" "[fd77::1]:7700" "$tmp/key"
short3
q=$(grep -c 'dropped: .*(short); further ones are only counted$' "$tmp/B.log")
t=$(grep -c 'dropped:' "$tmp/B.log")
stop B; sb2=$rc
check "-v: 3 short datagrams logged $v times (SIGHUP: exit $sb); without -v logged $q time(s) ($t drop lines), short=$(ctr B short)" \
	test "$v" = 3 -a "$sb" = 0 -a "$q" = 1 -a "$t" = 1 -a "$(ctr B short)" = 3 -a "$sb2" = 0

# 16-17. Without -f: the command returns at once, the daemon runs in the
#        background and logs to syslog (a socket on /dev/log catches it);
#        pings flow; SIGHUP ends it with its counters in the log.
ip netns exec tnB socat -u UNIX-RECV:/dev/log,unlink-early OPEN:"$tmp/syslog",creat &
logger_pid=$!
for i in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
ip netns exec tnB "$bin" -d /dev/tap1 -r "[fd77::1]:7700" -k "$tmp/key"
sb=$?
for i in $(seq 50); do grep -q 'started (pid' "$tmp/syslog" 2>/dev/null && break; sleep 0.1; done
bg=$(sed -n 's/.*ethertap-tunneld\[\([0-9]*\)\]: started (pid \1,.*/\1/p' "$tmp/syslog")
start A tnA "" "" "[fd77::2]:7700" "$tmp/key"
n=$(pings tnA 10.77.0.2 3)
check "background: command exits $sb, daemon pid '$bg' logs to syslog with facility daemon, $n replies" \
	test "$sb" = 0 -a -n "$bg" -a "$n" = 3 -a \
	"$(grep -c '^<30>.*ethertap-tunneld\['"$bg"'\]: started (pid' "$tmp/syslog")" = 1
# running PID: the process exists and has not exited (an orphan that
# exited may stay a zombie until init reaps it).
running() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z ' "/proc/$1/stat"; }
kill -HUP "$bg" 2>/dev/null
for i in $(seq 50); do running "$bg" || break; sleep 0.1; done
alive=no
running "$bg" && alive=yes
stop A; sa=$rc
exitline=$(sed -n 's/.*ethertap-tunneld\['"$bg"'\]: counters (exit): //p' "$tmp/syslog")
check "background: SIGHUP: still running: $alive, syslog has 'exiting on Hangup' and counters (exit) '$exitline'" \
	test "$alive" = no -a "$(grep -c "ethertap-tunneld\[$bg\]: exiting on Hangup" "$tmp/syslog")" = 1 -a \
	"$exitline" = "$(clean_counters 3 294 3 294 3)" -a "$sa" = 0
kill "$logger_pid" 2>/dev/null
wait "$logger_pid" 2>/dev/null
rm -f /dev/log

ktap_finished
