// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: batch mode of /dev/tapN (ETHERTAPSETFLAGS, ETHERTAP_F_BATCH).
 *
 * The flags ioctls and their errors; a read that returns every queued
 * frame that fits, each behind its length, byte for byte what a classic
 * file of the same tap reads one frame at a time; a read whose buffer
 * holds some of them, and one too short for the first; a write of many
 * frames delivered in order with exact counters; a write with a bad frame
 * in the middle (the frames before it taken, its errno for the next write
 * that starts at it, each refusal counted once); a length past the end of
 * the buffer; length 0 for "the rest of the buffer"; a file that turns
 * batch mode off again reads and writes one frame as before; and the TCP
 * segments of one batch write merged by GRO (one packet for a packet
 * socket on tap0), but not with GRO off nor when written one by one.
 */
#include <sys/uio.h>
#include <linux/if_packet.h>

#include "lib.h"
#include "harness.h"

#define PEER_PORT	5556
#define NFRAMES		40
#define PLEN		100	/* payload of each datagram */
#define FLEN		UDP_FRAME(PLEN)	/* Ethernet frame, without the slot */

FIXTURE(bt) {
	struct tap_fixture t;	/* /dev/tap0, classic, blocking */
	int fd;			/* /dev/tap0 in batch mode, non-blocking */
	uint8_t buf[65536];
	uint8_t one[2048];
};

FIXTURE_SETUP(bt)
{
	unsigned int flags = ETHERTAP_F_BATCH;
	const char *err;

	self->t.fd = -1;
	self->t.sock = -1;
	self->fd = -1;
	REQUIRE_TAPS(return, 1);
	err = tap_fixture_setup(&self->t, O_RDWR);
	ASSERT_TRUE(err == NULL) TH_LOG("%s: %s", err, strerror(errno));
	self->fd = tap_open(0, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, ETHERTAPSETFLAGS, &flags));
}

FIXTURE_TEARDOWN(bt)
{
	if (self->fd >= 0)
		close(self->fd);
	tap_fixture_close(&self->t);
	tap_cleanup(0);
}

/* Make tap0 transmit @n datagrams, payload i of each: PLEN bytes of i. */
static void send_n(struct __test_metadata *_metadata, FIXTURE_DATA(bt) *self,
		   unsigned int first, unsigned int n)
{
	uint8_t p[PLEN];
	unsigned int i;

	for (i = first; i < first + n; i++) {
		memset(p, i, sizeof(p));
		ASSERT_EQ(PLEN, udp_send_peer(self->t.sock, 0, PEER_PORT, p,
					      PLEN));
	}
}

/*
 * Check that @got holds @n frames behind their lengths, each exactly what
 * the classic file reads next.
 */
static void check_batch(struct __test_metadata *_metadata,
			FIXTURE_DATA(bt) *self, const uint8_t *got, ssize_t len,
			unsigned int n)
{
	unsigned int i;
	size_t off = 0;

	ASSERT_EQ((ssize_t)n * (ETHERTAP_PAD + FLEN), len);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(ETHERTAP_PAD + FLEN,
			  read(self->t.fd, self->one, sizeof(self->one)));
		EXPECT_EQ(FLEN, get16(got + off));
		EXPECT_EQ(0, memcmp(got + off + ETHERTAP_PAD,
				    self->one + ETHERTAP_PAD, FLEN))
			TH_LOG("frame %u differs", i);
		EXPECT_EQ(i, got[off + ETHERTAP_PAD + UDP_FRAME(0)] -
			     got[ETHERTAP_PAD + UDP_FRAME(0)]);
		off += ETHERTAP_PAD + FLEN;
	}
}

TEST_F(bt, flags)
{
	unsigned int v = 7;
	int fd;

	ASSERT_EQ(0, ioctl(self->fd, ETHERTAPGETFLAGS, &v));
	EXPECT_EQ(ETHERTAP_F_BATCH, v);
	fd = tap_open(0, O_RDONLY);
	ASSERT_LE(0, fd);
	v = 7;
	ASSERT_EQ(0, ioctl(fd, ETHERTAPGETFLAGS, &v));
	EXPECT_EQ(0, v);	/* per file, off by default */
	v = ETHERTAP_F_VNET_HDR << 1;	/* no such flag */
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, ETHERTAPSETFLAGS, &v));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, ETHERTAPSETFLAGS, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, ETHERTAPGETFLAGS, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	/* TUN/TAP's probe still fails as before. */
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, _IOW('T', 202, int), &v)); /* TUNSETIFF */
	EXPECT_EQ(ENOTTY, errno);
	v = 7;
	ASSERT_EQ(0, ioctl(fd, ETHERTAPGETFLAGS, &v));
	EXPECT_EQ(0, v);
	close(fd);
}

/* One read takes all 40 queued frames, then EAGAIN. */
TEST_F(bt, read_all)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = NFRAMES, [S_TX_BYTES] = NFRAMES * FLEN } };
	ssize_t r;

	send_n(_metadata, self, 0, NFRAMES);
	r = read(self->fd, self->buf, sizeof(self->buf));
	check_batch(_metadata, self, self->buf, r, NFRAMES);
	errno = 0;
	EXPECT_EQ(-1, read(self->fd, self->buf, sizeof(self->buf)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* A buffer for 3.5 frames gets 3; the next reads get the rest. */
TEST_F(bt, read_what_fits)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 10, [S_TX_BYTES] = 10 * FLEN } };
	size_t room = 3 * (ETHERTAP_PAD + FLEN) + (ETHERTAP_PAD + FLEN) / 2;
	ssize_t r;

	send_n(_metadata, self, 0, 10);
	r = read(self->fd, self->buf, room);
	check_batch(_metadata, self, self->buf, r, 3);
	r = read(self->fd, self->buf, room);
	check_batch(_metadata, self, self->buf, r, 3);
	r = read(self->fd, self->buf, sizeof(self->buf));
	check_batch(_metadata, self, self->buf, r, 4);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* A buffer shorter than the first frame: it comes truncated, alone. */
TEST_F(bt, read_truncated)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 2, [S_TX_BYTES] = 2 * FLEN,
		[E_TX_READ_TRUNCATED] = 1 } };
	ssize_t r;

	send_n(_metadata, self, 0, 2);
	r = read(self->fd, self->buf, 50);
	ASSERT_EQ(50, r);
	EXPECT_EQ(48, get16(self->buf));
	ASSERT_EQ(ETHERTAP_PAD + FLEN,
		  read(self->t.fd, self->one, sizeof(self->one)));
	EXPECT_EQ(0, memcmp(self->buf + 2, self->one + 2, 48));
	r = read(self->fd, self->buf, sizeof(self->buf));
	check_batch(_metadata, self, self->buf, r, 1);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* Append a frame to tap0's socket, payload @i, behind its length. */
static size_t put_frame(uint8_t *p, uint16_t port, unsigned int i)
{
	uint8_t pl[PLEN];
	size_t len;

	memset(pl, i, sizeof(pl));
	len = build_to_tap(p, 0, port, pl, PLEN);
	put16(p, len - ETHERTAP_PAD);
	return len;
}

/* Receive the datagrams @first.. of @n from the fixture's socket. */
static void recv_n(struct __test_metadata *_metadata, FIXTURE_DATA(bt) *self,
		   unsigned int first, unsigned int n)
{
	uint8_t p[PLEN + 1], want[PLEN];
	unsigned int i;

	for (i = first; i < first + n; i++) {
		memset(want, i, sizeof(want));
		ASSERT_EQ(PLEN, recv(self->t.sock, p, sizeof(p), MSG_DONTWAIT))
			TH_LOG("datagram %u", i);
		EXPECT_EQ(0, memcmp(p, want, PLEN));
	}
	errno = 0;
	EXPECT_EQ(-1, recv(self->t.sock, p, sizeof(p), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

/* 32 frames in one write: all delivered, in order. */
TEST_F(bt, write_many)
{
	struct tap_stats d = { .v = {
		[S_RX_PACKETS] = 32, [S_RX_BYTES] = 32 * FLEN } };
	size_t len = 0;
	unsigned int i;

	for (i = 0; i < 32; i++)
		len += put_frame(self->buf + len, self->t.port, i);
	ASSERT_EQ((ssize_t)len, write(self->fd, self->buf, len));
	recv_n(_metadata, self, 0, 32);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * Frames 0, 1, a 10-byte one, 3: the write takes 0 and 1 and returns
 * their bytes; the next write, from the bad frame on, gets EINVAL.
 * Each refusal counts once.
 */
TEST_F(bt, write_bad_in_middle)
{
	struct tap_stats d = { .v = {
		[S_RX_PACKETS] = 3, [S_RX_BYTES] = 3 * FLEN,
		[S_RX_ERRORS] = 2, [S_RX_LENGTH_ERRORS] = 2,
		[E_RX_ERROR_TOO_SHORT] = 2 } };
	size_t len = 0, good;

	len += put_frame(self->buf + len, self->t.port, 0);
	len += put_frame(self->buf + len, self->t.port, 1);
	good = len;
	put16(self->buf + len, 10);
	memset(self->buf + len + 2, 0xff, 10);
	len += 12;
	len += put_frame(self->buf + len, self->t.port, 3);
	ASSERT_EQ((ssize_t)good, write(self->fd, self->buf, len));
	recv_n(_metadata, self, 0, 2);
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, self->buf + good, len - good));
	EXPECT_EQ(EINVAL, errno);
	/* The rest after the bad frame is whole. */
	EXPECT_EQ((ssize_t)(len - good - 12),
		  write(self->fd, self->buf + good + 12, len - good - 12));
	recv_n(_metadata, self, 3, 1);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * A length past the end of the buffer: refused, counted as too short,
 * alone or behind a frame that is taken.
 */
TEST_F(bt, write_past_end)
{
	struct tap_stats d = { .v = {
		[S_RX_PACKETS] = 1, [S_RX_BYTES] = FLEN,
		[S_RX_ERRORS] = 2, [S_RX_LENGTH_ERRORS] = 2,
		[E_RX_ERROR_TOO_SHORT] = 2 } };
	size_t len;

	len = put_frame(self->buf, self->t.port, 0);
	put16(self->buf, FLEN + 1);
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, self->buf, len));
	EXPECT_EQ(EINVAL, errno);
	/* A frame, then half of one: the first is taken, the write says so. */
	put16(self->buf, FLEN);
	memcpy(self->buf + len, self->buf, len / 2);
	EXPECT_EQ((ssize_t)len, write(self->fd, self->buf, len + len / 2));
	recv_n(_metadata, self, 0, 1);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * Length 0: the frame runs to the end of the buffer, so a classic write
 * (two zero bytes, one frame) works in batch mode too; a writev's pieces
 * make one buffer.
 */
TEST_F(bt, write_length_zero)
{
	struct tap_stats d = { .v = {
		[S_RX_PACKETS] = 3, [S_RX_BYTES] = 3 * FLEN } };
	struct iovec iov[3];
	size_t len, l1, l2;
	uint8_t *p;

	len = put_frame(self->buf, self->t.port, 0);
	put16(self->buf, 0);
	EXPECT_EQ((ssize_t)len, write(self->fd, self->buf, len));
	p = self->buf + len;
	l1 = put_frame(p, self->t.port, 1);
	l2 = put_frame(p + l1, self->t.port, 2);
	iov[0].iov_base = p;
	iov[0].iov_len = 7;
	iov[1].iov_base = p + 7;
	iov[1].iov_len = l1 + 3 - 7;
	iov[2].iov_base = p + l1 + 3;
	iov[2].iov_len = l2 - 3;
	EXPECT_EQ((ssize_t)(l1 + l2), writev(self->fd, iov, 3));
	recv_n(_metadata, self, 0, 3);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* Batch mode off again: one frame per read, zeros in front, as classic. */
TEST_F(bt, batch_off)
{
	unsigned int flags = 0;
	ssize_t r;

	ASSERT_EQ(0, ioctl(self->fd, ETHERTAPSETFLAGS, &flags));
	send_n(_metadata, self, 0, 3);
	r = read(self->fd, self->buf, sizeof(self->buf));
	ASSERT_EQ(ETHERTAP_PAD + FLEN, r);
	EXPECT_EQ(0, get16(self->buf));
	ASSERT_EQ(r, read(self->t.fd, self->one, sizeof(self->one)));
	EXPECT_EQ(0, memcmp(self->buf, self->one, r));
}

#define SEGS		8
#define SEG_LEN		1000
#define SEG_PORT	9	/* nothing listens: the stack answers RST */

/*
 * Append behind its length TCP segment @i of a flow 10.99.0.2:40000 ->
 * 10.99.0.1:SEG_PORT: ACK, SEG_LEN bytes, sequence and IP ID following
 * segment i - 1, checksums right.  Returns its bytes.
 */
static size_t put_seg(uint8_t *p, unsigned int i)
{
	const uint8_t peer[6] = PEER_MAC;
	uint32_t saddr = inet_be("10.99.0.2"), daddr = inet_be("10.99.0.1");
	uint8_t *eth = p + ETHERTAP_PAD, *ip = eth + ETH_HDR, *tcp = ip + IP_HDR;
	uint8_t ph[12];
	size_t tlen = 20 + SEG_LEN;
	uint32_t seq = 1000 + i * SEG_LEN;

	put16(p, ETH_HDR + IP_HDR + tlen);
	tap_mac(0, eth);
	memcpy(eth + 6, peer, 6);
	put16(eth + 12, 0x0800);
	memset(ip, 0, IP_HDR);
	ip[0] = 0x45;
	put16(ip + 2, IP_HDR + tlen);
	put16(ip + 4, 100 + i);		/* ID */
	put16(ip + 6, 0x4000);		/* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &saddr, 4);
	memcpy(ip + 16, &daddr, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, IP_HDR)));
	memset(tcp, 0, 20);
	put16(tcp, 40000);
	put16(tcp + 2, SEG_PORT);
	put16(tcp + 4, seq >> 16);
	put16(tcp + 6, seq & 0xffff);
	put16(tcp + 10, 1);		/* ack 1 */
	tcp[12] = 5 << 4;
	tcp[13] = 0x10;			/* ACK */
	put16(tcp + 14, 512);
	memset(tcp + 20, 'a' + i, SEG_LEN);
	memcpy(ph, &saddr, 4);
	memcpy(ph + 4, &daddr, 4);
	ph[8] = 0;
	ph[9] = IPPROTO_TCP;
	put16(ph + 10, tlen);
	put16(tcp + 16, csum_fold(csum_add(csum_add(0, ph, 12), tcp, tlen)));
	return ETHERTAP_PAD + ETH_HDR + IP_HDR + tlen;
}

/*
 * The lengths of the IPv4 packets to SEG_PORT a packet socket on tap0 saw
 * come in, up to @max, in @len; how many.
 */
static int seg_packets(int ps, size_t *len, int max)
{
	struct sockaddr_ll sll;
	socklen_t sl;
	uint8_t b[65536];
	int n = 0;
	ssize_t r;

	for (;;) {
		sl = sizeof(sll);
		r = recvfrom(ps, b, sizeof(b), MSG_DONTWAIT,
			     (struct sockaddr *)&sll, &sl);
		if (r < 0)
			return n;
		if (sll.sll_pkttype == PACKET_OUTGOING || r < 20 + 4 ||
		    b[9] != IPPROTO_TCP || get16(b + 20 + 2) != SEG_PORT)
			continue;
		if (n < max)
			len[n] = r;
		n++;
	}
}

static int packet_socket(void)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(0x0800),
		.sll_ifindex = if_nametoindex("tap0"),
	};
	int ps = socket(AF_PACKET, SOCK_DGRAM, htons(0x0800));

	if (ps < 0 || bind(ps, (struct sockaddr *)&sll, sizeof(sll)))
		return -1;
	return ps;
}

/*
 * Eight segments of one flow in one batch write reach the stack as one
 * packet of 8 x 1000 bytes; with GRO off, or written one per write(),
 * as eight.  rx_packets counts the eight frames either way; the stack
 * answers each packet it sees with one RST (54 bytes): 1 + 8 + 8.
 */
TEST_F(bt, write_gro)
{
	struct tap_stats d = { .v = {
		[S_RX_PACKETS] = 3 * SEGS,
		[S_RX_BYTES] = 3 * SEGS * (ETH_HDR + IP_HDR + 20 + SEG_LEN),
		[S_TX_PACKETS] = 1 + 2 * SEGS,
		[S_TX_BYTES] = (1 + 2 * SEGS) * (ETH_HDR + IP_HDR + 20) } };
	size_t len = 0, off, got[SEGS + 1];
	unsigned int i;
	int ps, n, fd;

	ps = packet_socket();
	ASSERT_LE(0, ps);
	for (i = 0; i < SEGS; i++)
		len += put_seg(self->buf + len, i);
	ASSERT_EQ((ssize_t)len, write(self->fd, self->buf, len));
	usleep(100 * 1000);
	n = seg_packets(ps, got, SEGS + 1);
	ASSERT_EQ(1, n);
	EXPECT_EQ(IP_HDR + 20 + SEGS * SEG_LEN, got[0]);

	/* One frame per write (classic file): nothing to merge. */
	fd = tap_open(0, O_WRONLY);
	ASSERT_LE(0, fd);
	for (off = 0, i = 0; i < SEGS; i++) {
		size_t l = ETHERTAP_PAD + get16(self->buf + off);

		put16(self->buf + off, 0);
		ASSERT_EQ((ssize_t)l, write(fd, self->buf + off, l));
		off += l;
	}
	close(fd);
	usleep(100 * 1000);
	EXPECT_EQ(SEGS, seg_packets(ps, got, SEGS + 1));

	/* GRO off on tap0: the batch comes as eight packets. */
	ASSERT_EQ(0, run("ethtool -K tap0 gro off"));
	for (len = 0, i = 0; i < SEGS; i++)
		len += put_seg(self->buf + len, i);
	ASSERT_EQ((ssize_t)len, write(self->fd, self->buf, len));
	usleep(100 * 1000);
	n = seg_packets(ps, got, SEGS + 1);
	EXPECT_EQ(0, run("ethtool -K tap0 gro on"));
	EXPECT_EQ(SEGS, n);
	close(ps);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

TEST_HARNESS_MAIN
