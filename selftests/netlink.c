// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: the raw netlink interface (module ethertap_netlink).
 *
 * A socket of protocol ETHERTAP_NETLINK in group ETHERTAP_NLGRP(N) reads
 * tapN's transmitted frames, padded with N (big-endian); a message sent to
 * the kernel is written to the tap its padding names.  Exact bytes, exact
 * counters, the errno a refused frame reports on the sender's socket,
 * CAP_NET_ADMIN, namespaces, batches and overruns.  Both ways a frame
 * reaches netlink (sharing the transmitted skb, or a copy when a packet
 * socket holds a clone of it) and both ways a large message reaches the
 * stack (a clone, or a copy of a vmalloc()ed one) are run.
 */
#include <sched.h>
#include <sys/wait.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "lib.h"
#include "harness.h"

#define BATCH	16

FIXTURE(nl) {
	int nl;			/* ETHERTAP_NETLINK socket, unbound */
	int sock;		/* UDP socket bound to 10.99.0.1 */
	uint16_t port;
	struct tap_stats st;	/* tap0's counters after setup */
	struct tap_stats want;	/* their expected changes */
	uint8_t buf[MAX_FRAME];
	uint8_t frame[MAX_FRAME];
};

static int nl_socket(void)
{
	struct timeval tv = { .tv_sec = 2 };
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, ETHERTAP_NETLINK);
	if (fd >= 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* bind() to the groups in @groups (bit N: tapN); 0 or -1 with errno. */
static int nl_bind(int fd, uint32_t groups)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_groups = groups };

	return bind(fd, (struct sockaddr *)&a, sizeof(a));
}

/* Send @len bytes to the kernel socket: a frame for the tap they name. */
static ssize_t nl_send(int fd, const void *buf, size_t len)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };

	return sendto(fd, buf, len, 0, (struct sockaddr *)&a, sizeof(a));
}

/* The errno a refused frame left on @fd (0 if none), without blocking. */
static int nl_error(int fd)
{
	uint8_t b[64];

	if (recv(fd, b, sizeof(b), MSG_DONTWAIT) >= 0)
		return -1;	/* a frame, not an error */
	return errno == EAGAIN ? 0 : errno;
}

FIXTURE_SETUP(nl)
{
	self->nl = -1;
	self->sock = -1;
	memset(&self->want, 0, sizeof(self->want));
	REQUIRE_TAPS(return, 2);
	if (access("/sys/module/ethertap_netlink", F_OK))
		ASSERT_EQ(0, run("insmod %s/ethertap_netlink.ko",
				 getenv("ETHERTAP_MODDIR")));
	ASSERT_EQ(0, tap_setup(0));
	self->nl = nl_socket();
	ASSERT_LE(0, self->nl) TH_LOG("socket: %s", strerror(errno));
	self->sock = udp_socket(0, 0);
	ASSERT_LE(0, self->sock);
	self->port = udp_local_port(self->sock);
	ASSERT_EQ(0, tap_stats(0, &self->st));
}

FIXTURE_TEARDOWN(nl)
{
	if (self->nl >= 0)
		close(self->nl);
	if (self->sock >= 0)
		close(self->sock);
	tap_cleanup(0);
	tap_cleanup(1);
}

/*
 * Check a frame tapN transmitted for the UDP datagram @msg to 10.99.N.2
 * (sent from @sport), as read from netlink: padding N, then the frame.
 */
static void check_tx_frame(struct __test_metadata *_metadata,
			   const uint8_t *f, ssize_t len, unsigned int n,
			   uint16_t sport, const char *msg)
{
	size_t plen = strlen(msg);
	uint8_t mac[6];

	tap_mac(n, mac);
	ASSERT_EQ(ETHERTAP_PAD + UDP_FRAME(plen), len);
	EXPECT_EQ(n, get16(f));
	/* IFF_NOARP: the neighbour's address is the tap's own. */
	EXPECT_EQ(0, memcmp(f + 2, mac, 6));
	EXPECT_EQ(0, memcmp(f + 8, mac, 6));
	EXPECT_EQ(0x0800, get16(f + 14));
	EXPECT_EQ(sport, get16(f + 2 + ETH_HDR + IP_HDR));
	EXPECT_EQ(0, memcmp(f + len - plen, msg, plen));
}

/* bind(nl_groups = 1): tap0's frames, byte for byte, from the kernel. */
TEST_F(nl, reads_transmitted_frames)
{
	struct sockaddr_nl from;
	socklen_t fl = sizeof(from);
	ssize_t len;

	ASSERT_EQ(0, nl_bind(self->nl, 1 << 0));
	ASSERT_EQ(5, udp_send_peer(self->sock, 0, 7000, "hello", 5));
	len = recvfrom(self->nl, self->buf, sizeof(self->buf), 0,
		       (struct sockaddr *)&from, &fl);
	check_tx_frame(_metadata, self->buf, len, 0, self->port, "hello");
	EXPECT_EQ(0, from.nl_pid);
	EXPECT_EQ(1, from.nl_groups);
	EXPECT_EQ(0, nl_error(self->nl));

	self->want.v[S_TX_PACKETS] = 1;
	self->want.v[S_TX_BYTES] = UDP_FRAME(5);
	EXPECT_EQ(0, tap_stats_check(0, &self->st, &self->want));
}

/*
 * A 2.4 client with only its protocol number changed: bind() with
 * nl_groups = ~0, read() tap0's frames, write() frames with padding 0.
 */
TEST_F(nl, classic_client)
{
	char got[16];
	ssize_t len;
	size_t wlen;

	ASSERT_EQ(0, nl_bind(self->nl, ~0U));
	ASSERT_EQ(4, udp_send_peer(self->sock, 0, 7000, "2.4!", 4));
	len = read(self->nl, self->buf, sizeof(self->buf));
	check_tx_frame(_metadata, self->buf, len, 0, self->port, "2.4!");
	EXPECT_EQ(0, get16(self->buf));	/* the padding of 2.4 */

	wlen = build_to_tap(self->frame, 0, self->port, "back", 4);
	ASSERT_EQ(wlen, write(self->nl, self->frame, wlen));
	ASSERT_EQ(4, recv(self->sock, got, sizeof(got), 0));
	EXPECT_EQ(0, memcmp(got, "back", 4));
	EXPECT_EQ(0, nl_error(self->nl));

	self->want.v[S_TX_PACKETS] = 1;
	self->want.v[S_TX_BYTES] = UDP_FRAME(4);
	self->want.v[S_RX_PACKETS] = 1;
	self->want.v[S_RX_BYTES] = wlen - ETHERTAP_PAD;
	EXPECT_EQ(0, tap_stats_check(0, &self->st, &self->want));
}

/* A frame sent to the kernel with padding 0 arrives on tap0. */
TEST_F(nl, writes_frames)
{
	char got[16];
	size_t len;

	len = build_to_tap(self->frame, 0, self->port, "yo", 2);
	ASSERT_EQ(len, nl_send(self->nl, self->frame, len));
	ASSERT_EQ(2, recv(self->sock, got, sizeof(got), 0));
	EXPECT_EQ(0, memcmp(got, "yo", 2));
	EXPECT_EQ(0, nl_error(self->nl));

	self->want.v[S_RX_PACKETS] = 1;
	self->want.v[S_RX_BYTES] = len - ETHERTAP_PAD;
	EXPECT_EQ(0, tap_stats_check(0, &self->st, &self->want));
}

/*
 * tap1 through NETLINK_ADD_MEMBERSHIP: padding 00 01 both ways,
 * NETLINK_PKTINFO names group 2, and tap0's frames stay away.
 */
TEST_F(nl, second_tap_by_membership)
{
	unsigned int group = ETHERTAP_NLGRP(1), one = 1;
	char cbuf[CMSG_SPACE(sizeof(struct nl_pktinfo))];
	struct iovec iov = { self->buf, sizeof(self->buf) };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct nl_pktinfo *pi;
	struct cmsghdr *c;
	int sock1;
	char got[16];
	ssize_t len;

	ASSERT_EQ(0, tap_setup(1));
	sock1 = udp_socket(1, 0);
	ASSERT_LE(0, sock1);
	/* Bound first: an unbound socket (port 0) gets no broadcasts. */
	ASSERT_EQ(0, nl_bind(self->nl, 0));
	ASSERT_EQ(0, setsockopt(self->nl, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				&group, sizeof(group)));
	ASSERT_EQ(0, setsockopt(self->nl, SOL_NETLINK, NETLINK_PKTINFO,
				&one, sizeof(one)));

	ASSERT_EQ(3, udp_send_peer(self->sock, 0, 7000, "ta0", 3));
	ASSERT_EQ(3, udp_send_peer(sock1, 1, 7000, "ta1", 3));
	len = recvmsg(self->nl, &m, 0);
	check_tx_frame(_metadata, self->buf, len, 1, udp_local_port(sock1),
		       "ta1");
	c = CMSG_FIRSTHDR(&m);
	ASSERT_NE(NULL, c);
	EXPECT_EQ(SOL_NETLINK, c->cmsg_level);
	EXPECT_EQ(NETLINK_PKTINFO, c->cmsg_type);
	pi = (struct nl_pktinfo *)CMSG_DATA(c);
	EXPECT_EQ(group, pi->group);
	EXPECT_EQ(0, nl_error(self->nl));	/* and nothing from tap0 */

	/* Written with padding 00 01: tap1's socket gets it. */
	len = build_to_tap(self->frame, 1, udp_local_port(sock1), "in1", 3);
	put16(self->frame, 1);
	ASSERT_EQ(len, nl_send(self->nl, self->frame, len));
	ASSERT_EQ(3, recv(sock1, got, sizeof(got), 0));
	EXPECT_EQ(0, memcmp(got, "in1", 3));
	close(sock1);

	/* tap0: its datagram, no reader, no listener. */
	self->want.v[S_TX_DROPPED] = 1;
	self->want.v[E_TX_DROPPED_NO_READER] = 1;
	EXPECT_EQ(0, tap_stats_check(0, &self->st, &self->want));
}

/* /dev/tap0 and a netlink listener each get the frame; it counts once. */
TEST_F(nl, with_char_device_reader)
{
	uint8_t dev[MAX_FRAME];
	ssize_t len;
	int fd;

	fd = tap_open(0, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, nl_bind(self->nl, 1 << 0));
	ASSERT_EQ(4, udp_send_peer(self->sock, 0, 7000, "both", 4));
	len = recv(self->nl, self->buf, sizeof(self->buf), 0);
	check_tx_frame(_metadata, self->buf, len, 0, self->port, "both");
	ASSERT_EQ(len, tap_read_wait(fd, dev, sizeof(dev), 2000));
	EXPECT_EQ(0, memcmp(dev, self->buf, len));
	close(fd);

	self->want.v[S_TX_PACKETS] = 1;
	self->want.v[S_TX_BYTES] = UDP_FRAME(4);
	EXPECT_EQ(0, tap_stats_check(0, &self->st, &self->want));
}

/*
 * An AF_PACKET socket on tap0 holds a clone of every transmitted skb, so
 * the netlink message cannot use the frame's headroom and is a copy: the
 * same bytes reach netlink and the packet socket.
 */
TEST_F(nl, frame_copied_beside_packet_socket)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};
	uint8_t pkt[MAX_FRAME];
	ssize_t len;
	int ps;

	sll.sll_ifindex = if_nametoindex("tap0");
	ASSERT_LT(0, sll.sll_ifindex);
	ps = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ASSERT_LE(0, ps) TH_LOG("AF_PACKET: %s", strerror(errno));
	ASSERT_EQ(0, bind(ps, (struct sockaddr *)&sll, sizeof(sll)));
	ASSERT_EQ(0, nl_bind(self->nl, 1 << 0));
	ASSERT_EQ(6, udp_send_peer(self->sock, 0, 7000, "cloned", 6));
	len = recv(self->nl, self->buf, sizeof(self->buf), 0);
	check_tx_frame(_metadata, self->buf, len, 0, self->port, "cloned");
	ASSERT_EQ(len - ETHERTAP_PAD, recv(ps, pkt, sizeof(pkt), MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(pkt, self->buf + ETHERTAP_PAD, len - ETHERTAP_PAD));
	EXPECT_EQ(0, nl_error(self->nl));
	close(ps);

	self->want.v[S_TX_PACKETS] = 1;
	self->want.v[S_TX_BYTES] = UDP_FRAME(6);
	EXPECT_EQ(0, tap_stats_check(0, &self->st, &self->want));
}

/*
 * MTU 9000, 8000-byte datagrams both ways: a message over a page, which
 * the netlink core puts in vmalloc() memory on 6.1 and 6.12 (ethertap
 * copies it) and in kvmalloc() memory on newer kernels (shared).
 */
TEST_F(nl, large_frames_both_ways)
{
	static char msg[8001];
	size_t wlen;

	memset(msg, 'j', sizeof(msg) - 1);
	ASSERT_EQ(0, tap_set_mtu(0, 9000));
	ASSERT_EQ(0, nl_bind(self->nl, 1 << 0));
	ASSERT_EQ(8000, udp_send_peer(self->sock, 0, 7000, msg, 8000));
	check_tx_frame(_metadata, self->buf,
		       recv(self->nl, self->buf, sizeof(self->buf), 0),
		       0, self->port, msg);

	wlen = build_to_tap(self->frame, 0, self->port, msg, 8000);
	ASSERT_EQ(wlen, nl_send(self->nl, self->frame, wlen));
	ASSERT_EQ(8000, recv(self->sock, self->buf, sizeof(self->buf), 0));
	EXPECT_EQ(0, memcmp(self->buf, msg, 8000));
	EXPECT_EQ(0, nl_error(self->nl));

	self->want.v[S_TX_PACKETS] = 1;
	self->want.v[S_TX_BYTES] = UDP_FRAME(8000);
	self->want.v[S_RX_PACKETS] = 1;
	self->want.v[S_RX_BYTES] = wlen - ETHERTAP_PAD;
	EXPECT_EQ(0, tap_stats_check(0, &self->st, &self->want));
}

/*
 * Refused frames: each sets its errno on the sender's socket (read by the
 * next recv) and moves exactly its counters; the tap works afterwards.
 */
TEST_F(nl, refused_frames)
{
	uint8_t f[64] = {};
	char got[16];
	size_t len;

	/* One byte: no padding to name a tap. */
	ASSERT_EQ(1, nl_send(self->nl, f, 1));
	EXPECT_EQ(EINVAL, nl_error(self->nl));
	/* No tap 1023; 1024 and above are out of range. */
	put16(f, 1023);
	ASSERT_EQ(40, nl_send(self->nl, f, 40));
	EXPECT_EQ(ENXIO, nl_error(self->nl));
	put16(f, 0xffff);
	ASSERT_EQ(40, nl_send(self->nl, f, 40));
	EXPECT_EQ(ENXIO, nl_error(self->nl));
	/* Shorter than padding and header. */
	put16(f, 0);
	ASSERT_EQ(ETHERTAP_MIN_FRAME - 1,
		  nl_send(self->nl, f, ETHERTAP_MIN_FRAME - 1));
	EXPECT_EQ(EINVAL, nl_error(self->nl));
	/* Interface down. */
	len = build_to_tap(self->frame, 0, self->port, "dn", 2);
	ASSERT_EQ(0, tap_set_up(0, 0));
	ASSERT_EQ(len, nl_send(self->nl, self->frame, len));
	EXPECT_EQ(ENETDOWN, nl_error(self->nl));
	ASSERT_EQ(0, tap_setup(0));
	/* And it works again; no error left behind. */
	len = build_to_tap(self->frame, 0, self->port, "ok", 2);
	ASSERT_EQ(len, nl_send(self->nl, self->frame, len));
	ASSERT_EQ(2, recv(self->sock, got, sizeof(got), 0));
	EXPECT_EQ(0, memcmp(got, "ok", 2));
	EXPECT_EQ(0, nl_error(self->nl));

	self->want.v[S_RX_PACKETS] = 1;
	self->want.v[S_RX_BYTES] = len - ETHERTAP_PAD;
	self->want.v[S_RX_ERRORS] = 1;
	self->want.v[S_RX_LENGTH_ERRORS] = 1;
	self->want.v[E_RX_ERROR_TOO_SHORT] = 1;
	self->want.v[S_RX_DROPPED] = 1;
	self->want.v[E_RX_DROPPED_DOWN] = 1;
	EXPECT_EQ(0, tap_stats_check(0, &self->st, &self->want));
}

/*
 * Without CAP_NET_ADMIN (uid 65534): joining a tap's group is EPERM; a
 * frame sent to tap0, to tap1, to tap1000 (there is none) and a message
 * too short to name a tap are all refused with EPERM, and no counter of
 * tap0 or tap1 moves.
 */
TEST_F(nl, unprivileged)
{
	unsigned int group = ETHERTAP_NLGRP(0);
	struct tap_stats st1, none = { .v = { 0 } };
	int status;
	size_t len;
	pid_t pid;

	len = build_to_tap(self->frame, 0, self->port, "no", 2);
	ASSERT_EQ(0, tap_stats(1, &st1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		static const uint16_t n[4] = { 0, 1, 1000, 0 };
		unsigned int t;
		int fd, r = 0;

		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(100);
		fd = nl_socket();
		if (fd < 0)
			_exit(101);
		if (nl_bind(fd, 1) == 0 || errno != EPERM)
			r |= 1;
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
			       &group, sizeof(group)) == 0 || errno != EPERM)
			r |= 2;
		for (t = 0; t < 4; t++) {
			size_t l = t < 3 ? len : 1;

			put16(self->frame, n[t]);
			if (nl_send(fd, self->frame, l) != (ssize_t)l)
				r |= 4;
			if (nl_error(fd) != EPERM)
				r |= 8 << t;
		}
		_exit(r);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("bit 1: bind, 2: membership, 4: send, 8/16/32/64: no EPERM for tap0/tap1/tap1000/short");
	EXPECT_FALSE(udp_pending(self->sock));

	EXPECT_EQ(0, tap_stats_check(0, &self->st, &none));
	EXPECT_EQ(0, tap_stats_check(1, &st1, &none));
}

/*
 * Another network namespace: its sockets neither see tap0's frames nor
 * reach tap0 (ENXIO), and tap0 counts nothing but its unread datagram.
 */
TEST_F(nl, other_namespace)
{
	int go[2], ready[2], status;
	uint8_t f[MAX_FRAME];
	size_t len;
	pid_t pid;
	char c;

	len = build_to_tap(self->frame, 0, self->port, "ns", 2);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd, r = 0;

		if (unshare(CLONE_NEWNET))
			_exit(100);
		fd = nl_socket();
		if (fd < 0 || nl_bind(fd, 1))
			_exit(101);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(102);
		/* The parent has sent its datagram through tap0. */
		if (recv(fd, f, sizeof(f), MSG_DONTWAIT) >= 0 ||
		    errno != EAGAIN)
			r |= 1;
		if (nl_send(fd, self->frame, len) != (ssize_t)len)
			r |= 2;
		if (nl_error(fd) != ENXIO)
			r |= 4;
		_exit(r);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(2, udp_send_peer(self->sock, 0, 7000, "ns", 2));
	usleep(200000);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("bit 1: saw a frame, 2: send, 4: no ENXIO");
	EXPECT_FALSE(udp_pending(self->sock));

	self->want.v[S_TX_DROPPED] = 1;
	self->want.v[E_TX_DROPPED_NO_READER] = 1;
	EXPECT_EQ(0, tap_stats_check(0, &self->st, &self->want));
}

/* sendmmsg() and recvmmsg() move BATCH frames per call, in order. */
TEST_F(nl, batches)
{
	static uint8_t frames[BATCH][MAX_FRAME];
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	struct mmsghdr mm[BATCH] = {};
	struct iovec iov[BATCH];
	unsigned int i, got = 0;
	size_t len = 0;
	char msg[8], rx[16];
	int n;

	ASSERT_EQ(0, nl_bind(self->nl, 1 << 0));
	for (i = 0; i < BATCH; i++) {
		snprintf(msg, sizeof(msg), "b%02u", i);
		len = build_to_tap(frames[i], 0, self->port, msg, 3);
		iov[i].iov_base = frames[i];
		iov[i].iov_len = len;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &k;
		mm[i].msg_hdr.msg_namelen = sizeof(k);
	}
	ASSERT_EQ(BATCH, sendmmsg(self->nl, mm, BATCH, 0));
	for (i = 0; i < BATCH; i++) {
		snprintf(msg, sizeof(msg), "b%02u", i);
		ASSERT_EQ(3, recv(self->sock, rx, sizeof(rx), 0));
		EXPECT_EQ(0, memcmp(rx, msg, 3));
	}

	for (i = 0; i < BATCH; i++) {
		snprintf(msg, sizeof(msg), "t%02u", i);
		ASSERT_EQ(3, udp_send_peer(self->sock, 0, 7000, msg, 3));
	}
	memset(mm, 0, sizeof(mm));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = frames[i];
		iov[i].iov_len = MAX_FRAME;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	while (got < BATCH) {
		n = recvmmsg(self->nl, mm + got, BATCH - got, MSG_WAITFORONE,
			     NULL);
		ASSERT_LT(0, n) TH_LOG("recvmmsg: %s", strerror(errno));
		got += n;
	}
	for (i = 0; i < BATCH; i++) {
		snprintf(msg, sizeof(msg), "t%02u", i);
		check_tx_frame(_metadata, frames[i], mm[i].msg_len, 0,
			       self->port, msg);
	}

	self->want.v[S_RX_PACKETS] = BATCH;
	self->want.v[S_RX_BYTES] = BATCH * (len - ETHERTAP_PAD);
	self->want.v[S_TX_PACKETS] = BATCH;
	self->want.v[S_TX_BYTES] = BATCH * UDP_FRAME(3);
	EXPECT_EQ(0, tap_stats_check(0, &self->st, &self->want));
}

/* The Drops column of /proc/net/netlink for the socket @fd; -1 if absent. */
static long long proc_drops(int fd)
{
	unsigned long long ino, drops;
	char line[256];
	struct stat st;
	long long r = -1;
	FILE *f;

	if (fstat(fd, &st))
		return -1;
	f = fopen("/proc/net/netlink", "r");
	if (!f)
		return -1;
	/* sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %llu %llu",
			   &drops, &ino) == 2 && ino == st.st_ino)
			r = drops;
	fclose(f);
	return r;
}

/*
 * A listener with a small receive buffer that does not read while tap0
 * transmits @sent frames: what it reads later, plus its socket's drops
 * (SO_MEMINFO and /proc/net/netlink), is everything, and each frame it
 * lost, having been the only one offered it, is dropped on tap0
 * (tx_dropped_queue_full and tx_reader_copy_dropped, where the kernel
 * exports netlink_broadcast_filtered(); tx_dropped_no_reader on 6.1,
 * whose netlink_broadcast() does not tell).  Without
 * NETLINK_NO_ENOBUFS the first recv() after the overflow fails with
 * ENOBUFS, once; with it, never.
 */
static void overrun(struct __test_metadata *_metadata, FIXTURE_DATA(nl) *self,
		    int no_enobufs)
{
	int small = 4096, sent = 200, i, read_n = 0, enobufs = 0;
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t ml = sizeof(mem);
	struct tap_stats now;
	uint64_t tx, lost;
	ssize_t n;

	ASSERT_EQ(0, setsockopt(self->nl, SOL_SOCKET, SO_RCVBUF, &small,
				sizeof(small)));
	ASSERT_EQ(0, setsockopt(self->nl, SOL_NETLINK, NETLINK_NO_ENOBUFS,
				&no_enobufs, sizeof(no_enobufs)));
	ASSERT_EQ(0, nl_bind(self->nl, 1 << 0));
	for (i = 0; i < sent; i++)
		ASSERT_EQ(4, udp_send_peer(self->sock, 0, 7000, "full", 4));
	for (;;) {
		n = recv(self->nl, self->buf, sizeof(self->buf), MSG_DONTWAIT);
		if (n > 0)
			read_n++;
		else if (n < 0 && errno == ENOBUFS)
			enobufs++;
		else
			break;
	}
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(no_enobufs ? 0 : 1, enobufs);

	ASSERT_EQ(0, getsockopt(self->nl, SOL_SOCKET, SO_MEMINFO, mem, &ml));
	ASSERT_EQ(0, tap_stats(0, &now));
	tx = now.v[S_TX_PACKETS] - self->st.v[S_TX_PACKETS];
	lost = now.v[E_TX_DROPPED_NO_READER] -
	       self->st.v[E_TX_DROPPED_NO_READER] +
	       now.v[E_TX_DROPPED_QUEUE_FULL] -
	       self->st.v[E_TX_DROPPED_QUEUE_FULL];
	EXPECT_EQ(now.v[E_TX_DROPPED_QUEUE_FULL] -
		  self->st.v[E_TX_DROPPED_QUEUE_FULL],
		  now.v[E_TX_READER_COPY_DROPPED] -
		  self->st.v[E_TX_READER_COPY_DROPPED]);
	EXPECT_LT(0, read_n);
	EXPECT_GT(sent, read_n);
	EXPECT_EQ(read_n, tx);
	EXPECT_EQ(sent - read_n, lost);
	EXPECT_EQ(sent - read_n, mem[SK_MEMINFO_DROPS]);
	EXPECT_EQ(sent - read_n, proc_drops(self->nl));
	EXPECT_EQ(sent - read_n, now.v[S_TX_DROPPED] - self->st.v[S_TX_DROPPED]);
}

TEST_F(nl, overrun_is_counted)
{
	overrun(_metadata, self, 1);
}

TEST_F(nl, overrun_enobufs)
{
	overrun(_metadata, self, 0);
}

/*
 * Two listeners: A, with NETLINK_BROADCAST_ERROR and a small receive
 * buffer, does not read while tap0 transmits @sent frames; B reads them all
 * afterwards.  netlink_broadcast() returns -ENOBUFS for every frame A lost,
 * though B got it: each is still transmitted (tx_packets), A's lost copies
 * are counted in tx_reader_copy_dropped, exactly as many as A's socket
 * drops, and nothing in tx_dropped.  @a_first: A joins first (the core
 * offers a frame to the later one first).
 */
static void overrun_beside(struct __test_metadata *_metadata,
			   FIXTURE_DATA(nl) *self, int a_first)
{
	int small = 4096, one = 1, sent = 50, i, read_a = 0, read_b = 0;
	int a = self->nl, b, enobufs = 0;
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t ml = sizeof(mem);
	ssize_t n;

	b = nl_socket();
	ASSERT_LE(0, b);
	ASSERT_EQ(0, setsockopt(a, SOL_SOCKET, SO_RCVBUF, &small,
				sizeof(small)));
	ASSERT_EQ(0, setsockopt(a, SOL_NETLINK, NETLINK_BROADCAST_ERROR,
				&one, sizeof(one)));
	ASSERT_EQ(0, nl_bind(a_first ? a : b, 1 << 0));
	ASSERT_EQ(0, nl_bind(a_first ? b : a, 1 << 0));
	for (i = 0; i < sent; i++)
		ASSERT_EQ(4, udp_send_peer(self->sock, 0, 7000, "both", 4));
	while ((n = recv(b, self->buf, sizeof(self->buf), MSG_DONTWAIT)) > 0) {
		check_tx_frame(_metadata, self->buf, n, 0, self->port, "both");
		read_b++;
	}
	for (;;) {
		n = recv(a, self->buf, sizeof(self->buf), MSG_DONTWAIT);
		if (n > 0)
			read_a++;
		else if (n < 0 && errno == ENOBUFS)
			enobufs++;
		else
			break;
	}
	ASSERT_EQ(0, getsockopt(a, SOL_SOCKET, SO_MEMINFO, mem, &ml));
	close(b);
	EXPECT_EQ(sent, read_b);
	EXPECT_LT(0, read_a);
	EXPECT_GT(sent, read_a);
	EXPECT_EQ(1, enobufs);
	EXPECT_EQ(sent - read_a, mem[SK_MEMINFO_DROPS]);
	TH_LOG("A read %d of %d, B %d", read_a, sent, read_b);

	self->want.v[S_TX_PACKETS] = sent;
	self->want.v[S_TX_BYTES] = sent * UDP_FRAME(4);
	self->want.v[E_TX_READER_COPY_DROPPED] = sent - read_a;
	EXPECT_EQ(0, tap_stats_check(0, &self->st, &self->want));
}

TEST_F(nl, overrun_beside_a_first)
{
	overrun_beside(_metadata, self, 1);
}

TEST_F(nl, overrun_beside_b_first)
{
	overrun_beside(_metadata, self, 0);
}

TEST_HARNESS_MAIN
