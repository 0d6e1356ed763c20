// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: the character device /dev/tapN and the tapN link.
 *
 * Exact framing of what read() returns for a frame the interface transmits
 * and of what write() injects, truncating and zero-length reads, blocking,
 * O_NONBLOCK, poll, readv/writev, several openers, and the errors of open,
 * lseek and ioctl.  Needs root and the modules loaded with max_taps >= 2.
 */
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "lib.h"
#include "harness.h"

#define PEER_PORT	5555
#define MSG		"ethertap framing test!"	/* odd length: 23 */
#define MSG_LEN		(sizeof(MSG) - 1)
#define FRAME_LEN	(ETHERTAP_PAD + UDP_FRAME(MSG_LEN))

/*
 * Check that @buf (@len bytes from read()) is exactly the padded frame tap0
 * sends for a UDP datagram 10.99.0.1:@sport -> 10.99.0.2:@dport carrying
 * @plen bytes of @payload.
 */
static void check_udp_frame(struct __test_metadata *_metadata,
			    const uint8_t *buf, ssize_t len, uint16_t sport,
			    uint16_t dport, const void *payload, size_t plen)
{
	const uint8_t mac[6] = { 0xfe, 0xfd, 0, 0, 0, 0 };
	const uint8_t *eth = buf + 2, *ip = eth + 14, *udp = ip + 20;
	uint32_t saddr = inet_be("10.99.0.1"), daddr = inet_be("10.99.0.2");

	ASSERT_EQ(ETHERTAP_PAD + UDP_FRAME(plen), len);
	EXPECT_EQ(0, buf[0]);
	EXPECT_EQ(0, buf[1]);
	/* NOARP: the neighbour's address is the tap's own, as in 2.4. */
	EXPECT_EQ(0, memcmp(eth, mac, 6));
	EXPECT_EQ(0, memcmp(eth + 6, mac, 6));
	EXPECT_EQ(0x0800, get16(eth + 12));
	EXPECT_EQ(0x45, ip[0]);
	EXPECT_EQ(IP_HDR + UDP_HDR + plen, get16(ip + 2));
	EXPECT_EQ(0, get16(ip + 6) & 0x3fff);	/* not a fragment */
	EXPECT_EQ(IPPROTO_UDP, ip[9]);
	EXPECT_EQ(0, memcmp(ip + 12, &saddr, 4));
	EXPECT_EQ(0, memcmp(ip + 16, &daddr, 4));
	EXPECT_EQ(0, csum_fold(csum_add(0, ip, IP_HDR)));
	EXPECT_EQ(sport, get16(udp));
	EXPECT_EQ(dport, get16(udp + 2));
	EXPECT_EQ(UDP_HDR + plen, get16(udp + 4));
	/* The stack checksummed it in software: it must verify. */
	if (get16(udp + 6)) {
		uint8_t tmp[UDP_HDR + 9000];
		uint16_t c;

		ASSERT_GE(sizeof(tmp), UDP_HDR + plen);
		memcpy(tmp, udp, UDP_HDR + plen);
		c = get16(tmp + 6);
		put16(tmp + 6, 0);
		EXPECT_EQ(c, udp_csum(saddr, daddr, tmp, UDP_HDR + plen));
	}
	EXPECT_EQ(0, memcmp(udp + UDP_HDR, payload, plen));
}

FIXTURE(tap0) {
	struct tap_fixture t;	/* /dev/tap0 blocking */
	uint8_t buf[MAX_FRAME];
};

FIXTURE_SETUP(tap0)
{
	const char *err;

	self->t.fd = -1;
	self->t.sock = -1;
	REQUIRE_TAPS(return, 2);
	err = tap_fixture_setup(&self->t, O_RDWR);
	ASSERT_TRUE(err == NULL) TH_LOG("%s: %s", err, strerror(errno));
}

FIXTURE_TEARDOWN(tap0)
{
	tap_fixture_close(&self->t);
	tap_cleanup(0);
}

/* Send MSG from the fixture's socket to 10.99.0.2:PEER_PORT via tap0. */
static void send_msg(struct __test_metadata *_metadata,
		     FIXTURE_DATA(tap0) *self)
{
	ASSERT_EQ(MSG_LEN, udp_send_peer(self->t.sock, 0, PEER_PORT, MSG,
					 MSG_LEN));
}

static int queued(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

TEST(link_defaults)
{
	char out[4096];
	int n;

	REQUIRE_TAPS(return, 2);

	for (n = 0; n < 2; n++) {
		char want[32];

		snprintf(want, sizeof(want), "fe:fd:00:00:00:%02x\n", n);
		ASSERT_EQ(0, run_output(out, sizeof(out),
					"cat /sys/class/net/tap%d/address", n));
		EXPECT_STREQ(want, out);
		EXPECT_EQ(1, read_u64("/sys/class/net/tap%d/type", n));
		EXPECT_EQ(1500, read_u64("/sys/class/net/tap%d/mtu", n));
		EXPECT_EQ(1000, read_u64("/sys/class/net/tap%d/tx_queue_len",
					 n));
		EXPECT_EQ(IFF_NOARP,
			  read_u64("/sys/class/net/tap%d/flags", n) & IFF_NOARP);
		ASSERT_EQ(0, run_output(out, sizeof(out),
					"ethtool -i tap%d", n));
		EXPECT_NE(NULL, strstr(out, "driver: ethertap\n")) TH_LOG("%s", out);
	}

	/* MTU range 68..65535. */
	EXPECT_NE(0, run("ip link set tap1 mtu 67 2>/dev/null"));
	EXPECT_EQ(0, tap_set_mtu(1, 68));
	EXPECT_EQ(68, read_u64("/sys/class/net/tap1/mtu"));
	EXPECT_EQ(0, tap_set_mtu(1, 65535));
	EXPECT_EQ(65535, read_u64("/sys/class/net/tap1/mtu"));
	EXPECT_NE(0, run("ip link set tap1 mtu 65536 2>/dev/null"));
	EXPECT_EQ(65535, read_u64("/sys/class/net/tap1/mtu"));
	EXPECT_EQ(0, tap_set_mtu(1, 1500));

	/* Up, it has no qdisc: noqueue. */
	ASSERT_EQ(0, tap_setup(1));
	ASSERT_EQ(0, run_output(out, sizeof(out), "ip link show tap1"));
	EXPECT_NE(NULL, strstr(out, " qdisc noqueue ")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "NOARP")) TH_LOG("%s", out);
	tap_cleanup(1);
}

/* A datagram sent to a neighbour on tap0 is read back exactly. */
TEST_F(tap0, tx_frame_exact)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 1, [S_TX_BYTES] = FRAME_LEN - 2 } };
	ssize_t n;

	send_msg(_metadata, self);
	n = tap_read_wait(self->t.fd, self->buf, sizeof(self->buf), 2000);
	check_udp_frame(_metadata, self->buf, n, self->t.port, PEER_PORT,
			MSG, MSG_LEN);
	EXPECT_FALSE(queued(self->t.fd));
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* Bigger frames (MTU 9000, one full-sized datagram) come out whole too. */
TEST_F(tap0, tx_frame_jumbo)
{
	static uint8_t payload[9000 - IP_HDR - UDP_HDR];
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 1, [S_TX_BYTES] = UDP_FRAME(sizeof(payload)) } };
	size_t i;
	ssize_t n;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = i * 7 + 3;
	ASSERT_EQ(0, tap_set_mtu(0, 9000));
	ASSERT_EQ(sizeof(payload), udp_send_peer(self->t.sock, 0, PEER_PORT,
						 payload, sizeof(payload)));
	n = tap_read_wait(self->t.fd, self->buf, sizeof(self->buf), 2000);
	check_udp_frame(_metadata, self->buf, n, self->t.port, PEER_PORT,
			payload, sizeof(payload));
	EXPECT_FALSE(queued(self->t.fd));
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * tap0 does scatter-gather: a datagram corked in three parts (MSG_MORE)
 * is handed over with its later parts in page fragments, not copied
 * into one buffer, and comes out whole.
 */
TEST_F(tap0, tx_frame_paged)
{
	static uint8_t payload[3 * 2000];
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 1, [S_TX_BYTES] = UDP_FRAME(sizeof(payload)) } };
	char out[4096];
	size_t i;
	ssize_t n;

	ASSERT_EQ(0, run_output(out, sizeof(out), "ethtool -k tap0"));
	EXPECT_NE(NULL, strstr(out, "scatter-gather: on\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "tx-scatter-gather-fraglist: on\n"));
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = i * 11 + 5;
	ASSERT_EQ(0, tap_set_mtu(0, 9000));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(2000, udp_send_peer_flags(self->t.sock, 0, PEER_PORT,
						    payload + 2000 * i, 2000,
						    i < 2 ? MSG_MORE : 0));
	n = tap_read_wait(self->t.fd, self->buf, sizeof(self->buf), 2000);
	check_udp_frame(_metadata, self->buf, n, self->t.port, PEER_PORT,
			payload, sizeof(payload));
	EXPECT_FALSE(queued(self->t.fd));
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* A frame written is received by the stack: the UDP socket gets it. */
TEST_F(tap0, rx_frame_delivered)
{
	struct tap_stats d = { .v = { [S_RX_PACKETS] = 2 } };
	const uint8_t peer[6] = PEER_MAC, mac[6] = { 0xfe, 0xfd, 0, 0, 0, 0 };
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char got[128];
	size_t len, len2;

	len = build_to_tap(self->buf, 0, self->t.port, MSG, MSG_LEN);
	ASSERT_EQ(FRAME_LEN, len);
	ASSERT_EQ(len, write(self->t.fd, self->buf, len));
	ASSERT_EQ(MSG_LEN, recvfrom(self->t.sock, got, sizeof(got), 0,
				    (struct sockaddr *)&from, &fl));
	EXPECT_EQ(0, memcmp(got, MSG, MSG_LEN));
	EXPECT_EQ(inet_be("10.99.0.2"), from.sin_addr.s_addr);
	EXPECT_EQ(40000, ntohs(from.sin_port));

	/* The content of the two pad bytes does not matter. */
	len2 = build_udp_frame_vlan(self->buf, 0xa5, mac, peer, 0,
				    inet_be("10.99.0.2"), 40001,
				    inet_be("10.99.0.1"), self->t.port, "xyz", 3);
	ASSERT_EQ(len2, write(self->t.fd, self->buf, len2));
	ASSERT_EQ(3, recvfrom(self->t.sock, got, sizeof(got), 0,
			      (struct sockaddr *)&from, &fl));
	EXPECT_EQ(0, memcmp(got, "xyz", 3));
	EXPECT_EQ(40001, ntohs(from.sin_port));

	EXPECT_FALSE(udp_pending(self->t.sock));
	/* Nothing goes back out (no ICMP), and the reader sees nothing. */
	EXPECT_FALSE(queued(self->t.fd));
	d.v[S_RX_BYTES] = len - 2 + len2 - 2;
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * Big frames written (MTU 65000): past a page the frame is received in
 * page fragments, whole; the socket gets each payload byte for byte.
 */
TEST_F(tap0, rx_frame_big)
{
	static const size_t sizes[] = { 1000, 3500, 4096, 8000, 30000, 60000 };
	static uint8_t payload[60000], got[60000 + 1];
	struct tap_stats d = { .v = { [S_RX_PACKETS] = ARRAY_SIZE(sizes) } };
	size_t i, k, len;

	for (k = 0; k < sizeof(payload); k++)
		payload[k] = k * 13 + 1;
	ASSERT_EQ(0, tap_set_mtu(0, 65000));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		len = build_to_tap(self->buf, 0, self->t.port, payload, sizes[i]);
		ASSERT_EQ(len, write(self->t.fd, self->buf, len));
		ASSERT_EQ(sizes[i], recv(self->t.sock, got, sizeof(got), 0))
			TH_LOG("%zu-byte payload", sizes[i]);
		EXPECT_EQ(0, memcmp(got, payload, sizes[i]))
			TH_LOG("%zu-byte payload", sizes[i]);
		d.v[S_RX_BYTES] += len - 2;
	}
	EXPECT_FALSE(udp_pending(self->t.sock));
	EXPECT_FALSE(queued(self->t.fd));
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* A buffer shorter than the frame: truncated, the rest is gone. */
TEST_F(tap0, read_truncated)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 4, [S_TX_BYTES] = 4 * (FRAME_LEN - 2),
		[E_TX_READ_TRUNCATED] = 3 } };
	uint8_t full[FRAME_LEN], part[FRAME_LEN];

	send_msg(_metadata, self);
	ASSERT_EQ(FRAME_LEN, tap_read_wait(self->t.fd, full, sizeof(full), 2000));
	check_udp_frame(_metadata, full, FRAME_LEN, self->t.port, PEER_PORT,
			MSG, MSG_LEN);

	/* 20 bytes: pad, header, the first 4 bytes of the IP header. */
	send_msg(_metadata, self);
	memset(part, 0xee, sizeof(part));
	ASSERT_EQ(20, tap_read_wait(self->t.fd, part, 20, 2000));
	EXPECT_EQ(0, memcmp(part, full, 20));	/* up to the IP id */
	EXPECT_EQ(0xee, part[20]);
	EXPECT_FALSE(queued(self->t.fd));

	/* One byte: only the first pad byte. */
	send_msg(_metadata, self);
	memset(part, 0xee, sizeof(part));
	ASSERT_EQ(1, tap_read_wait(self->t.fd, part, 1, 2000));
	EXPECT_EQ(0, part[0]);
	EXPECT_EQ(0xee, part[1]);
	EXPECT_FALSE(queued(self->t.fd));

	/* One byte short of the frame. */
	send_msg(_metadata, self);
	ASSERT_EQ(FRAME_LEN - 1, tap_read_wait(self->t.fd, part, FRAME_LEN - 1,
					       2000));
	/* Same UDP header and payload as the first one (not IP id, sum). */
	EXPECT_EQ(0, memcmp(part + 36, full + 36, FRAME_LEN - 37));
	EXPECT_EQ(0, memcmp(part, full, 20));
	EXPECT_FALSE(queued(self->t.fd));

	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* read() with no room returns 0 at once and consumes nothing. */
TEST_F(tap0, read_zero_length)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 1, [S_TX_BYTES] = FRAME_LEN - 2 } };

	/* Empty queue, blocking file: still returns 0 immediately. */
	alarm(10);
	EXPECT_EQ(0, read(self->t.fd, self->buf, 0));
	send_msg(_metadata, self);
	EXPECT_EQ(0, read(self->t.fd, self->buf, 0));
	EXPECT_TRUE(queued(self->t.fd));
	ASSERT_EQ(FRAME_LEN, read(self->t.fd, self->buf, sizeof(self->buf)));
	alarm(0);
	check_udp_frame(_metadata, self->buf, FRAME_LEN, self->t.port,
			PEER_PORT, MSG, MSG_LEN);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* O_NONBLOCK with nothing queued: EAGAIN, nothing counted. */
TEST_F(tap0, read_nonblock)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 1, [S_TX_BYTES] = FRAME_LEN - 2 } };
	int fd2;

	fd2 = tap_open(0, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd2);
	errno = 0;
	EXPECT_EQ(-1, read(fd2, self->buf, sizeof(self->buf)));
	EXPECT_EQ(EAGAIN, errno);

	/* Set later with fcntl on the fixture's file. */
	ASSERT_EQ(0, fcntl(self->t.fd, F_SETFL, O_NONBLOCK));
	errno = 0;
	EXPECT_EQ(-1, read(self->t.fd, self->buf, sizeof(self->buf)));
	EXPECT_EQ(EAGAIN, errno);

	send_msg(_metadata, self);
	EXPECT_EQ(FRAME_LEN, read(fd2, self->buf, sizeof(self->buf)));
	EXPECT_EQ(FRAME_LEN, read(self->t.fd, self->buf, sizeof(self->buf)));
	errno = 0;
	EXPECT_EQ(-1, read(fd2, self->buf, sizeof(self->buf)));
	EXPECT_EQ(EAGAIN, errno);
	close(fd2);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* poll: POLLOUT always, POLLIN exactly when a frame is queued. */
TEST_F(tap0, poll_states)
{
	struct pollfd p = { .fd = self->t.fd, .events = POLLIN | POLLOUT };

	ASSERT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLOUT, p.revents);

	send_msg(_metadata, self);
	send_msg(_metadata, self);
	ASSERT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLIN | POLLOUT, p.revents);
	ASSERT_EQ(FRAME_LEN, read(self->t.fd, self->buf, sizeof(self->buf)));
	ASSERT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLIN | POLLOUT, p.revents);
	ASSERT_EQ(FRAME_LEN, read(self->t.fd, self->buf, sizeof(self->buf)));
	ASSERT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLOUT, p.revents);

	/* Interface down: the tap still exists, still writable. */
	ASSERT_EQ(0, tap_set_up(0, 0));
	ASSERT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLOUT, p.revents);

	/* Only POLLIN asked for, nothing queued: times out. */
	p.events = POLLIN;
	EXPECT_EQ(0, poll(&p, 1, 100));
}

/* A sleeping poll() and a sleeping read() wake up when a frame comes. */
TEST_F(tap0, wakeup)
{
	struct pollfd p = { .fd = self->t.fd, .events = POLLIN };
	int round, status;
	pid_t pid;

	for (round = 0; round < 2; round++) {
		pid = udp_send_peer_later(self->t.sock, 0, PEER_PORT, MSG,
					  MSG_LEN, 300);
		ASSERT_LE(0, pid);
		if (round == 0) {
			ASSERT_EQ(1, poll(&p, 1, 10000));
			EXPECT_EQ(POLLIN, p.revents);
		}
		alarm(10);
		ASSERT_EQ(FRAME_LEN, read(self->t.fd, self->buf,
					  sizeof(self->buf)));
		alarm(0);
		check_udp_frame(_metadata, self->buf, FRAME_LEN, self->t.port,
				PEER_PORT, MSG, MSG_LEN);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_EQ(0, status);
	}
}

/*
 * select() and epoll report what poll() reports: always writable,
 * readable while a frame is queued; a sleeping select() or epoll_wait()
 * wakes up when a frame comes, and an edge-triggered epoll reports each
 * new frame once.
 */
TEST_F(tap0, select_epoll)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct timeval tv = { 0, 0 };
	fd_set rd, wr;
	int ep, status;
	pid_t pid;

	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(self->t.fd, &rd);
	FD_SET(self->t.fd, &wr);
	ASSERT_EQ(1, select(self->t.fd + 1, &rd, &wr, NULL, &tv));
	EXPECT_FALSE(FD_ISSET(self->t.fd, &rd));
	EXPECT_TRUE(FD_ISSET(self->t.fd, &wr));

	/* Asleep in select() for reading until the child's frame. */
	pid = udp_send_peer_later(self->t.sock, 0, PEER_PORT, MSG,
				  MSG_LEN, 300);
	ASSERT_LE(0, pid);
	FD_ZERO(&rd);
	FD_SET(self->t.fd, &rd);
	tv.tv_sec = 10;
	ASSERT_EQ(1, select(self->t.fd + 1, &rd, NULL, NULL, &tv));
	EXPECT_TRUE(FD_ISSET(self->t.fd, &rd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	ASSERT_EQ(FRAME_LEN, read(self->t.fd, self->buf, sizeof(self->buf)));
	check_udp_frame(_metadata, self->buf, FRAME_LEN, self->t.port,
			PEER_PORT, MSG, MSG_LEN);

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ev.data.u32 = 7;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->t.fd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0));

	/* Asleep in epoll_wait() until the child's frame. */
	pid = udp_send_peer_later(self->t.sock, 0, PEER_PORT, MSG,
				  MSG_LEN, 300);
	ASSERT_LE(0, pid);
	memset(&ev, 0, sizeof(ev));
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 10000));
	EXPECT_EQ(EPOLLIN, ev.events);
	EXPECT_EQ(7, ev.data.u32);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	/* Edge-triggered: the same frame is not reported again... */
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	/* ...a second one is, though the first is still unread. */
	send_msg(_metadata, self);
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 0));
	EXPECT_EQ(EPOLLIN, ev.events);
	ASSERT_EQ(FRAME_LEN, read(self->t.fd, self->buf, sizeof(self->buf)));
	ASSERT_EQ(FRAME_LEN, read(self->t.fd, self->buf, sizeof(self->buf)));
	EXPECT_FALSE(queued(self->t.fd));
	EXPECT_EQ(0, close(ep));
}

/* readv() scatters one frame; writev() gathers one. */
TEST_F(tap0, readv_writev)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 2, [S_TX_BYTES] = 2 * (FRAME_LEN - 2),
		[E_TX_READ_TRUNCATED] = 1, [S_RX_PACKETS] = 1,
		[S_RX_BYTES] = FRAME_LEN - 2 } };
	uint8_t pad[2], hdr[14], rest[200], frame[FRAME_LEN], got[64];
	struct iovec iov[4] = {
		{ pad, sizeof(pad) }, { hdr, sizeof(hdr) },
		{ rest, sizeof(rest) },
	};
	size_t len;

	send_msg(_metadata, self);
	ASSERT_EQ(1, poll(&(struct pollfd){ .fd = self->t.fd, .events = POLLIN },
			  1, 2000));
	ASSERT_EQ(FRAME_LEN, readv(self->t.fd, iov, 3));
	memcpy(frame, pad, 2);
	memcpy(frame + 2, hdr, 14);
	memcpy(frame + 16, rest, FRAME_LEN - 16);
	check_udp_frame(_metadata, frame, FRAME_LEN, self->t.port, PEER_PORT,
			MSG, MSG_LEN);

	/* Shorter vector than the frame: truncated to it. */
	send_msg(_metadata, self);
	iov[2].iov_len = 10;
	ASSERT_EQ(26, readv(self->t.fd, iov, 3));
	EXPECT_EQ(0, memcmp(hdr, frame + 2, 14));
	EXPECT_FALSE(queued(self->t.fd));

	/* writev: a frame in four pieces, cut inside the padding too. */
	len = build_to_tap(self->buf, 0, self->t.port, MSG, MSG_LEN);
	iov[0] = (struct iovec){ self->buf, 1 };
	iov[1] = (struct iovec){ self->buf + 1, 6 };
	iov[2] = (struct iovec){ self->buf + 7, 20 };
	iov[3] = (struct iovec){ self->buf + 27, len - 27 };
	ASSERT_EQ(len, writev(self->t.fd, iov, 4));
	ASSERT_EQ(MSG_LEN, recv(self->t.sock, got, sizeof(got), 0));
	EXPECT_EQ(0, memcmp(got, MSG, MSG_LEN));

	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* Each open file is a reader with its own copy; dup()s share one. */
TEST_F(tap0, two_openers)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 2, [S_TX_BYTES] = 2 * (FRAME_LEN - 2),
		[S_RX_PACKETS] = 1, [S_RX_BYTES] = FRAME_LEN - 2 } };
	uint8_t b2[FRAME_LEN + 10], got[64];
	int fd2, fd3;
	size_t len;

	fd2 = tap_open(0, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd2);
	send_msg(_metadata, self);
	ASSERT_EQ(FRAME_LEN, tap_read_wait(self->t.fd, self->buf,
					   sizeof(self->buf), 2000));
	ASSERT_EQ(FRAME_LEN, read(fd2, b2, sizeof(b2)));
	EXPECT_EQ(0, memcmp(self->buf, b2, FRAME_LEN));
	check_udp_frame(_metadata, b2, FRAME_LEN, self->t.port, PEER_PORT,
			MSG, MSG_LEN);
	EXPECT_FALSE(queued(self->t.fd));
	EXPECT_FALSE(queued(fd2));

	/* A dup of fd2 is the same reader: one copy between them. */
	fd3 = dup(fd2);
	ASSERT_LE(0, fd3);
	send_msg(_metadata, self);
	ASSERT_EQ(FRAME_LEN, tap_read_wait(fd3, b2, sizeof(b2), 2000));
	EXPECT_FALSE(queued(fd2));
	ASSERT_EQ(FRAME_LEN, tap_read_wait(self->t.fd, self->buf,
					   sizeof(self->buf), 2000));
	close(fd3);

	/* Any opener can write. */
	len = build_to_tap(self->buf, 0, self->t.port, MSG, MSG_LEN);
	ASSERT_EQ(len, write(fd2, self->buf, len));
	ASSERT_EQ(MSG_LEN, recv(self->t.sock, got, sizeof(got), 0));
	close(fd2);

	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * ETHERTAP_MAX_OPENERS files at most on one tap (the fixture's among
 * them): 2000 more opens get that many minus one, the rest EUSERS,
 * write-only or not; each reader gets the frame sent then; a close frees
 * a place; tap1 is not affected.
 */
#define OPEN_TRIES	2000
TEST_F(tap0, openers_limit)
{
	struct rlimit rl = { OPEN_TRIES + 64, OPEN_TRIES + 64 };
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 1, [S_TX_BYTES] = FRAME_LEN - 2 } };
	static int fds[OPEN_TRIES];
	unsigned int ok = 0, eusers = 0, other = 0, got = 0, i;
	int fd;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	for (i = 0; i < OPEN_TRIES; i++) {
		fds[i] = tap_open(0, (i & 1 ? O_RDONLY : O_RDWR) | O_NONBLOCK);
		if (fds[i] >= 0)
			ok++;
		else if (errno == EUSERS)
			eusers++;
		else
			other++;
	}
	printf("# openers_limit: %u opened, %u EUSERS, %u other\n", ok,
	       eusers, other);
	printf("# figure: readers_refused %u\n", eusers);
	EXPECT_EQ(ETHERTAP_MAX_OPENERS - 1, ok);
	EXPECT_EQ(OPEN_TRIES - ETHERTAP_MAX_OPENERS + 1, eusers);
	EXPECT_EQ(0, other);
	errno = 0;
	EXPECT_EQ(-1, tap_open(0, O_WRONLY));
	EXPECT_EQ(EUSERS, errno);

	/* Every reader of the full tap gets the frame. */
	send_msg(_metadata, self);
	ASSERT_EQ(FRAME_LEN, tap_read_wait(self->t.fd, self->buf,
					   sizeof(self->buf), 2000));
	for (i = 0; i < OPEN_TRIES; i++)
		if (fds[i] >= 0 && read(fds[i], self->buf,
					sizeof(self->buf)) == FRAME_LEN)
			got++;
	EXPECT_EQ(ok, got);

	/* tap1 counts its own openers. */
	fd = tap_open(1, O_RDWR);
	EXPECT_LE(0, fd);
	close(fd);

	/* A close frees one place, and only one. */
	for (i = 0; fds[i] < 0; i++)
		;
	close(fds[i]);
	fds[i] = tap_open(0, O_RDONLY);
	EXPECT_LE(0, fds[i]);
	errno = 0;
	EXPECT_EQ(-1, tap_open(0, O_RDONLY));
	EXPECT_EQ(EUSERS, errno);
	for (i = 0; i < OPEN_TRIES; i++)
		if (fds[i] >= 0)
			close(fds[i]);

	/* All closed: the places are back. */
	fd = tap_open(0, O_RDONLY);
	EXPECT_LE(0, fd);
	close(fd);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* kB of unreclaimable slab, from /proc/meminfo. */
static long sunreclaim_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SUnreclaim: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

#define FLOOD_FRAMES	1000

/*
 * The reader flood of 2000 opens: 256 readers (the fixture's and 255 more;
 * the other opens get EUSERS), none reading while the tap transmits 1000
 * frames at txqueuelen 1000.  Without a byte bound they would hold 256000
 * copies (about 64 MB of slab); with it the slab grows by at most twice
 * ETHERTAP_QUEUE_BYTES, every reader gets frames until it holds its share
 * and the tap its total, and every frame and copy not queued is counted.
 * Once all are closed, the tap's byte count is back to zero: one reader
 * queues 200 frames again, past its own share.
 */
TEST_F(tap0, reader_flood)
{
	struct rlimit rl = { OPEN_TRIES + 64, OPEN_TRIES + 64 };
	struct tap_stats before, now;
	static unsigned int got[OPEN_TRIES + 1];
	static int fds[OPEN_TRIES];
	unsigned int ok = 0, eusers = 0, i, j, n, lo = ~0u, hi = 0;
	uint64_t total = 0, t0, ns;
	long kb0, kb1;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	for (i = 0; i < OPEN_TRIES; i++) {
		fds[i] = tap_open(0, O_RDONLY | O_NONBLOCK);
		if (fds[i] >= 0)
			ok++;
		else if (errno == EUSERS)
			eusers++;
	}
	ASSERT_EQ(ETHERTAP_MAX_OPENERS - 1, ok);
	ASSERT_EQ(OPEN_TRIES - ok, eusers);
	printf("# figure: readers_refused %u\n", eusers);

	ASSERT_EQ(0, tap_stats(0, &before));
	kb0 = sunreclaim_kb();
	ASSERT_LT(0, kb0);
	t0 = now_ns();
	for (i = 0; i < FLOOD_FRAMES; i++)
		send_msg(_metadata, self);
	ns = now_ns() - t0;
	kb1 = sunreclaim_kb();
	printf("# reader_flood: %u readers, %d frames: slab %+ld kB, %" PRIu64
	       " ns per frame sent\n", ok + 1, FLOOD_FRAMES, kb1 - kb0,
	       ns / FLOOD_FRAMES);
	printf("# figure: peak_slab_per_tap_kb %ld\n", kb1 - kb0);
	EXPECT_GE(2 * ETHERTAP_QUEUE_BYTES / 1024 + 4096, kb1 - kb0);

	/* Drain every reader; the fixture's file is got[OPEN_TRIES]. */
	for (i = 0; i <= OPEN_TRIES; i++) {
		int fd = i < OPEN_TRIES ? fds[i] : self->t.fd;

		if (fd < 0)
			continue;
		if (i == OPEN_TRIES)
			ASSERT_EQ(0, fcntl(fd, F_SETFL, O_NONBLOCK));
		while (read(fd, self->buf, sizeof(self->buf)) == FRAME_LEN)
			got[i]++;
		total += got[i];
		lo = got[i] < lo ? got[i] : lo;
		hi = got[i] > hi ? got[i] : hi;
	}
	printf("# reader_flood: %" PRIu64 " copies read, %u to %u per reader\n",
	       total, lo, hi);
	EXPECT_LT(0, lo);
	ASSERT_EQ(0, tap_stats(0, &now));
	/*
	 * A reader refused once is refused from then on (no one reads), so
	 * each got a prefix of the frames: the longest one is tx_packets,
	 * the rest no reader took.
	 */
	EXPECT_EQ(hi, now.v[S_TX_PACKETS] - before.v[S_TX_PACKETS]);
	EXPECT_EQ(FLOOD_FRAMES - hi,
		  now.v[E_TX_DROPPED_QUEUE_FULL] - before.v[E_TX_DROPPED_QUEUE_FULL]);
	EXPECT_EQ(FLOOD_FRAMES - hi, now.v[S_TX_DROPPED] - before.v[S_TX_DROPPED]);
	EXPECT_GT(FLOOD_FRAMES, hi);
	EXPECT_EQ((uint64_t)(ok + 1) * FLOOD_FRAMES - total,
		  now.v[E_TX_READER_COPY_DROPPED] -
		  before.v[E_TX_READER_COPY_DROPPED]);

	/* Close them with frames queued: counted, and their bytes freed. */
	send_msg(_metadata, self);
	for (i = 0; i < OPEN_TRIES; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	ASSERT_EQ(FRAME_LEN, read(self->t.fd, self->buf, sizeof(self->buf)));
	ASSERT_EQ(0, tap_stats(0, &before));
	EXPECT_EQ(ok, before.v[E_TX_UNREAD_AT_CLOSE] -
		      now.v[E_TX_UNREAD_AT_CLOSE]);
	n = 200;
	for (j = 0; j < n; j++)
		send_msg(_metadata, self);
	for (j = 0; read(self->t.fd, self->buf, sizeof(self->buf)) == FRAME_LEN;)
		j++;
	EXPECT_EQ(n, j);
}

/* tap1 is a tap of its own: its frames do not show up on tap0. */
TEST_F(tap0, taps_independent)
{
	struct tap_stats d1 = { .v = {
		[S_TX_PACKETS] = 1, [S_TX_BYTES] = FRAME_LEN - 2 } };
	struct tap_stats st1;
	int fd1, s1;

	ASSERT_EQ(0, tap_setup(1));
	ASSERT_EQ(0, tap_stats(1, &st1));
	fd1 = tap_open(1, O_RDWR);
	ASSERT_LE(0, fd1);
	s1 = udp_socket(1, 0);
	ASSERT_LE(0, s1);
	ASSERT_EQ(MSG_LEN, udp_send_peer(s1, 1, PEER_PORT, MSG, MSG_LEN));
	ASSERT_EQ(FRAME_LEN, tap_read_wait(fd1, self->buf, sizeof(self->buf),
					   2000));
	/* From tap1's address and MAC. */
	EXPECT_EQ(0, memcmp(self->buf + 2,
			    "\xfe\xfd\x00\x00\x00\x01\xfe\xfd\x00\x00\x00\x01",
			    12));
	EXPECT_EQ(0, memcmp(self->buf + 2 + 14 + 12, "\x0a\x63\x01\x01", 4));
	EXPECT_FALSE(queued(self->t.fd));
	close(fd1);
	close(s1);
	EXPECT_EQ(0, tap_stats_check(1, &st1, &d1));
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st,
				     &(struct tap_stats){ .v = { 0 } }));
	tap_cleanup(1);
}

/* Opening works with the interface down; it is then still a reader. */
TEST_F(tap0, open_while_down)
{
	struct pollfd p = { .events = POLLIN | POLLOUT };
	int fd2;

	ASSERT_EQ(0, tap_set_up(0, 0));
	fd2 = tap_open(0, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd2) TH_LOG("open: %s", strerror(errno));
	p.fd = fd2;
	ASSERT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLOUT, p.revents);
	ASSERT_EQ(0, tap_set_up(0, 1));
	send_msg(_metadata, self);
	EXPECT_EQ(FRAME_LEN, tap_read_wait(fd2, self->buf, sizeof(self->buf),
					   2000));
	/* The fixture's file, open since before, has its copy as well. */
	EXPECT_EQ(FRAME_LEN, tap_read_wait(self->t.fd, self->buf,
					   sizeof(self->buf), 2000));
	close(fd2);
	fd2 = tap_open(0, O_RDONLY);
	EXPECT_LE(0, fd2);
	close(fd2);
	fd2 = tap_open(0, O_WRONLY);
	EXPECT_LE(0, fd2);
	close(fd2);
}

/* The minor of a tap that does not exist: ENXIO.  Others open. */
TEST(open_enxio)
{
	char dir[] = "/tmp/ethertap.XXXXXX", path[64];
	static const struct { unsigned int minor; int err; } cases[] = {
		{ 16, 0 }, { 17, 0 }, { 18, ENXIO }, { 16 + 1023, ENXIO },
	};
	unsigned int i;
	int fd;

	REQUIRE_TAPS(return, 2);
	if (tap_exists(2))
		SKIP(return, "needs ethertap loaded with max_taps=2");
	ASSERT_NE(NULL, mkdtemp(dir));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(path, sizeof(path), "%s/t%u", dir, cases[i].minor);
		ASSERT_EQ(0, mknod(path, S_IFCHR | 0600,
				   makedev(ETHERTAP_MAJOR, cases[i].minor)));
		errno = 0;
		fd = open(path, O_RDWR);
		if (cases[i].err) {
			EXPECT_EQ(-1, fd) TH_LOG("minor %u", cases[i].minor);
			EXPECT_EQ(cases[i].err, errno)
				TH_LOG("minor %u", cases[i].minor);
		} else {
			EXPECT_LE(0, fd) TH_LOG("minor %u: %s", cases[i].minor,
						strerror(errno));
		}
		if (fd >= 0)
			close(fd);
		unlink(path);
	}
	rmdir(dir);
}

/* A stream: no seeking, no positioned I/O. */
TEST_F(tap0, espipe)
{
	errno = 0;
	EXPECT_EQ(-1, lseek(self->t.fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	errno = 0;
	EXPECT_EQ(-1, lseek(self->t.fd, 0, SEEK_CUR));
	EXPECT_EQ(ESPIPE, errno);
	errno = 0;
	EXPECT_EQ(-1, pread(self->t.fd, self->buf, 100, 0));
	EXPECT_EQ(ESPIPE, errno);
	errno = 0;
	EXPECT_EQ(-1, pwrite(self->t.fd, self->buf, 100, 0));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st,
				     &(struct tap_stats){ .v = { 0 } }));
}

/* No ioctls but SIOCGIFHWADDR (selftests/noarp.sh). */
TEST_F(tap0, enotty)
{
	int v = 0;

	errno = 0;
	EXPECT_EQ(-1, ioctl(self->t.fd, 0x12345678, &v));
	EXPECT_EQ(ENOTTY, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->t.fd, _IOW('T', 202, int), &v)); /* TUNSETIFF */
	EXPECT_EQ(ENOTTY, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->t.fd, FIONREAD, &v));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_HARNESS_MAIN
