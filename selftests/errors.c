// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: refused writes and lost frames, and how each is counted.
 *
 * Every bad write() gets its exact errno, delivers nothing and moves
 * exactly the counters it should (all others stay put); the tap works
 * afterwards.  Frames the interface transmits that no reader can take
 * (no reader, full queues) are counted exactly, as are frames left unread
 * at close; the counters add up to what was sent and read.
 */
#include <sys/mman.h>
#include <sys/uio.h>

#include "lib.h"
#include "harness.h"

#define PEER_PORT	5555

FIXTURE(tap0) {
	struct tap_fixture t;	/* /dev/tap0 non-blocking */
	int drops;		/* drops_start() */
	uint8_t buf[MAX_FRAME];
	uint8_t frame[MAX_FRAME];
};

FIXTURE_SETUP(tap0)
{
	const char *err;

	self->t.fd = -1;
	self->t.sock = -1;
	self->drops = 0;
	REQUIRE_TAPS(return, 1);
	err = tap_fixture_setup(&self->t, O_RDWR | O_NONBLOCK);
	ASSERT_TRUE(err == NULL) TH_LOG("%s: %s", err, strerror(errno));
	self->drops = drops_start();
	ASSERT_LE(0, self->drops);
}

FIXTURE_TEARDOWN(tap0)
{
	tap_fixture_close(&self->t);
	drops_stop(self->drops);
	tap_cleanup(0);
}

/* Write a good @plen-byte datagram to our socket; it must arrive intact. */
static void inject_ok(struct __test_metadata *_metadata,
		      FIXTURE_DATA(tap0) *self, int fd, size_t plen,
		      struct tap_stats *want)
{
	static uint8_t payload[ETHERTAP_MAX_MTU], got[ETHERTAP_MAX_MTU];
	size_t i, len;

	for (i = 0; i < plen; i++)
		payload[i] = i ^ plen;
	len = build_to_tap(self->frame, 0, self->t.port, payload, plen);
	ASSERT_EQ(len, write(fd, self->frame, len));
	ASSERT_EQ(plen, recv(self->t.sock, got, sizeof(got), MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(got, payload, plen));
	want->v[S_RX_PACKETS]++;
	want->v[S_RX_BYTES] += len - ETHERTAP_PAD;
}

/* Send @n datagrams with payload "seq %04u" numbered from @first. */
static void send_seq(struct __test_metadata *_metadata,
		     FIXTURE_DATA(tap0) *self, unsigned int first,
		     unsigned int n)
{
	char msg[16];
	unsigned int i;

	for (i = first; i < first + n; i++) {
		snprintf(msg, sizeof(msg), "seq %04u", i);
		ASSERT_EQ(8, udp_send_peer(self->t.sock, 0, PEER_PORT, msg, 8));
	}
}

#define SEQ_FRAME	UDP_FRAME(8)	/* on the wire, without the pad */

/* Read one frame from @fd now; it must be datagram number @seq. */
static void read_seq(struct __test_metadata *_metadata, int fd,
		     unsigned int seq)
{
	uint8_t buf[256];
	char msg[16];

	snprintf(msg, sizeof(msg), "seq %04u", seq);
	errno = 0;
	ASSERT_EQ(ETHERTAP_PAD + SEQ_FRAME, read(fd, buf, sizeof(buf)))
		TH_LOG("expected seq %u: %s", seq, strerror(errno));
	EXPECT_EQ(0, memcmp(buf + ETHERTAP_PAD + SEQ_FRAME - 8, msg, 8))
		TH_LOG("expected %s, got %.8s", msg,
		       buf + ETHERTAP_PAD + SEQ_FRAME - 8);
}

static void read_none(struct __test_metadata *_metadata, int fd)
{
	uint8_t buf[256];

	errno = 0;
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
}

/* Shorter than pad + Ethernet header: EINVAL. */
TEST_F(tap0, write_too_short)
{
	struct tap_stats d = { .v = { 0 } };
	static const size_t lens[] = { 0, 1, 2, 14, 15 };
	unsigned int i;

	build_to_tap(self->frame, 0, self->t.port, "x", 1);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		errno = 0;
		EXPECT_EQ(-1, write(self->t.fd, self->frame, lens[i]));
		EXPECT_EQ(EINVAL, errno) TH_LOG("len %zu", lens[i]);
	}
	d.v[S_RX_ERRORS] = d.v[S_RX_LENGTH_ERRORS] =
		d.v[E_RX_ERROR_TOO_SHORT] = i;
	EXPECT_FALSE(udp_pending(self->t.sock));
	/* Refused before any buffer was taken: no frame to free. */
	EXPECT_EQ(0, drops_check(self->drops, "PKT_TOO_SMALL", 0));

	/* Exactly 16 is a (bodiless) frame: accepted, the stack drops it. */
	EXPECT_EQ(16, write(self->t.fd, self->frame, 16));
	d.v[S_RX_PACKETS]++;
	d.v[S_RX_BYTES] += 14;

	/* The tap still works. */
	inject_ok(_metadata, self, self->t.fd, 100, &d);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* Longer than pad + header + MTU (+ 4 with a VLAN tag): EMSGSIZE. */
TEST_F(tap0, write_too_long)
{
	const uint8_t mac[6] = { 0xfe, 0xfd, 0, 0, 0, 0 }, peer[6] = PEER_MAC;
	static const uint16_t tpids[] = { 0x8100, 0x88a8 };
	struct tap_stats d = { .v = { 0 } };
	static uint8_t payload[ETHERTAP_MAX_MTU], big[100000];
	unsigned int i, refused = 0;
	uint8_t got[2048];
	size_t len;

	/* 1500 bytes of IPv4 is the longest frame at MTU 1500. */
	inject_ok(_metadata, self, self->t.fd, 1500 - IP_HDR - UDP_HDR, &d);
	len = build_to_tap(self->frame, 0, self->t.port, payload,
			   1501 - IP_HDR - UDP_HDR);
	ASSERT_EQ(ETHERTAP_PAD + ETH_HDR + 1501, len);
	errno = 0;
	EXPECT_EQ(-1, write(self->t.fd, self->frame, len));
	EXPECT_EQ(EMSGSIZE, errno);
	refused++;

	/* Far too long for any MTU; and the longest write there is + 1. */
	errno = 0;
	EXPECT_EQ(-1, write(self->t.fd, big, sizeof(big)));
	EXPECT_EQ(EMSGSIZE, errno);
	refused++;
	errno = 0;
	EXPECT_EQ(-1, write(self->t.fd, self->frame,
			    ETHERTAP_PAD + 18 + ETHERTAP_MAX_MTU + 1));
	EXPECT_EQ(EMSGSIZE, errno);
	refused++;

	/* A VLAN tag (priority tag, VID 0) may add 4 bytes, not 5. */
	for (i = 0; i < 2; i++) {
		len = build_udp_frame_vlan(self->frame, 0, mac, peer, tpids[i],
					   inet_be("10.99.0.2"), 40000,
					   inet_be("10.99.0.1"), self->t.port,
					   payload, 1500 - IP_HDR - UDP_HDR);
		ASSERT_EQ(ETHERTAP_PAD + ETH_HDR + 4 + 1500, len);
		EXPECT_EQ(len, write(self->t.fd, self->frame, len))
			TH_LOG("tpid %04x: %s", tpids[i], strerror(errno));
		d.v[S_RX_PACKETS]++;
		d.v[S_RX_BYTES] += len - ETHERTAP_PAD;
		EXPECT_EQ(1500 - IP_HDR - UDP_HDR,
			  recv(self->t.sock, got, sizeof(got), MSG_DONTWAIT))
			TH_LOG("tpid %04x", tpids[i]);
		errno = 0;
		EXPECT_EQ(-1, write(self->t.fd, self->frame, len + 1));
		EXPECT_EQ(EMSGSIZE, errno) TH_LOG("tpid %04x", tpids[i]);
		refused++;
	}

	/* The limit follows the MTU. */
	ASSERT_EQ(0, tap_set_mtu(0, 9000));
	inject_ok(_metadata, self, self->t.fd, 9000 - IP_HDR - UDP_HDR, &d);
	len = build_to_tap(self->frame, 0, self->t.port, payload,
			   9001 - IP_HDR - UDP_HDR);
	errno = 0;
	EXPECT_EQ(-1, write(self->t.fd, self->frame, len));
	EXPECT_EQ(EMSGSIZE, errno);
	refused++;
	ASSERT_EQ(0, tap_set_mtu(0, 68));
	inject_ok(_metadata, self, self->t.fd, 68 - IP_HDR - UDP_HDR, &d);
	errno = 0;
	EXPECT_EQ(-1, write(self->t.fd, self->frame, ETHERTAP_PAD + ETH_HDR + 69));
	EXPECT_EQ(EMSGSIZE, errno);
	refused++;
	ASSERT_EQ(0, tap_set_mtu(0, 1500));
	/*
	 * A frame longer than the tap's MTU allows is freed with its reason;
	 * the two longer than any MTU are refused before a buffer is taken.
	 */
	EXPECT_EQ(0, drops_check(self->drops, "PKT_TOO_BIG", refused - 2));

	EXPECT_FALSE(udp_pending(self->t.sock));
	d.v[S_RX_ERRORS] = d.v[S_RX_LENGTH_ERRORS] =
		d.v[E_RX_ERROR_TOO_LONG] = refused;
	inject_ok(_metadata, self, self->t.fd, 1, &d);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* Interface down: ENETDOWN, counted as dropped; fine again once up. */
TEST_F(tap0, write_down)
{
	struct tap_stats d = { .v = { 0 } };
	size_t len;

	ASSERT_EQ(0, tap_set_up(0, 0));
	len = build_to_tap(self->frame, 0, self->t.port, "down", 4);
	errno = 0;
	EXPECT_EQ(-1, write(self->t.fd, self->frame, len));
	EXPECT_EQ(ENETDOWN, errno);
	errno = 0;
	EXPECT_EQ(-1, write(self->t.fd, self->frame, 16));
	EXPECT_EQ(ENETDOWN, errno);
	d.v[S_RX_DROPPED] = d.v[E_RX_DROPPED_DOWN] = 2;
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
	EXPECT_EQ(0, drops_check(self->drops, "DEV_READY", 2));

	ASSERT_EQ(0, tap_set_up(0, 1));
	EXPECT_FALSE(udp_pending(self->t.sock));
	inject_ok(_metadata, self, self->t.fd, 33, &d);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* A buffer that cannot be read: EFAULT, rx_errors. */
TEST_F(tap0, write_fault)
{
	struct tap_stats d = { .v = { 0 } };
	long pg = sysconf(_SC_PAGESIZE);
	struct iovec iov[2];
	uint8_t *map;
	size_t len;

	map = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + pg, pg, PROT_NONE));

	/* Wholly unreadable. */
	errno = 0;
	EXPECT_EQ(-1, write(self->t.fd, map + pg, 100));
	EXPECT_EQ(EFAULT, errno);
	/* A good frame whose last 10 bytes lie in the unreadable page. */
	len = build_to_tap(self->frame, 0, self->t.port, "fault", 5);
	memcpy(map + pg - (len - 10), self->frame, len - 10);
	errno = 0;
	EXPECT_EQ(-1, write(self->t.fd, map + pg - (len - 10), len));
	EXPECT_EQ(EFAULT, errno);
	/* writev with a bad second piece. */
	iov[0] = (struct iovec){ self->frame, 20 };
	iov[1] = (struct iovec){ map + pg, len - 20 };
	errno = 0;
	EXPECT_EQ(-1, writev(self->t.fd, iov, 2));
	EXPECT_EQ(EFAULT, errno);
	munmap(map, 2 * pg);

	EXPECT_FALSE(udp_pending(self->t.sock));
	EXPECT_EQ(0, drops_check(self->drops, "SKB_UCOPY_FAULT", 3));
	d.v[S_RX_ERRORS] = d.v[E_RX_ERROR_FAULT] = 3;
	inject_ok(_metadata, self, self->t.fd, 200, &d);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* A read buffer that cannot be written: EFAULT, counted. */
TEST_F(tap0, read_fault)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 2, [S_TX_BYTES] = 2 * SEQ_FRAME,
		[E_TX_READ_FAULT] = 1 } };
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *map;

	map = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	send_seq(_metadata, self, 0, 2);
	errno = 0;
	EXPECT_EQ(-1, read(self->t.fd, map, 256));
	EXPECT_EQ(EFAULT, errno);
	munmap(map, pg);
	EXPECT_EQ(0, drops_check(self->drops, "SKB_UCOPY_FAULT", 1));
	/* The next frame is intact. */
	read_seq(_metadata, self->t.fd, 1);
	read_none(_metadata, self->t.fd);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* Nobody has the tap open: every frame is dropped and counted. */
TEST_F(tap0, tx_no_reader)
{
	struct tap_stats d = { .v = {
		[S_TX_DROPPED] = 5, [E_TX_DROPPED_NO_READER] = 5 } };

	close(self->t.fd);
	self->t.fd = -1;
	send_seq(_metadata, self, 0, 5);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
	EXPECT_EQ(0, drops_check(self->drops, "DEV_READY", 5));

	/* A reader again: frames are queued again, nothing before them. */
	self->t.fd = tap_open(0, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, self->t.fd);
	send_seq(_metadata, self, 5, 1);
	read_seq(_metadata, self->t.fd, 5);
	read_none(_metadata, self->t.fd);
	d.v[S_TX_PACKETS] = 1;
	d.v[S_TX_BYTES] = SEQ_FRAME;
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * txqueuelen 4, ten frames, no reads: the first four wait, six dropped.
 * The one reader's copy of each is lost too: tx_reader_copy_dropped counts
 * copies, so it equals tx_dropped_queue_full with a single reader.
 */
TEST_F(tap0, tx_queue_full)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 4, [S_TX_BYTES] = 4 * SEQ_FRAME,
		[S_TX_DROPPED] = 6, [E_TX_DROPPED_QUEUE_FULL] = 6,
		[E_TX_READER_COPY_DROPPED] = 6 } };
	unsigned int i;

	ASSERT_EQ(0, tap_set_txqlen(0, 4));
	send_seq(_metadata, self, 0, 10);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
	EXPECT_EQ(0, drops_check(self->drops, "FULL_RING", 6));
	for (i = 0; i < 4; i++)
		read_seq(_metadata, self->t.fd, i);
	read_none(_metadata, self->t.fd);

	/* Room again: the next frame is queued, overflow left no trace. */
	send_seq(_metadata, self, 10, 1);
	read_seq(_metadata, self->t.fd, 10);
	read_none(_metadata, self->t.fd);
	d.v[S_TX_PACKETS]++;
	d.v[S_TX_BYTES] += SEQ_FRAME;

	/* The limit follows txqueuelen live: 2 now, 1 already queued. */
	send_seq(_metadata, self, 11, 1);
	ASSERT_EQ(0, tap_set_txqlen(0, 2));
	send_seq(_metadata, self, 12, 3);
	read_seq(_metadata, self->t.fd, 11);
	read_seq(_metadata, self->t.fd, 12);
	read_none(_metadata, self->t.fd);
	d.v[S_TX_PACKETS] += 2;
	d.v[S_TX_BYTES] += 2 * SEQ_FRAME;
	d.v[S_TX_DROPPED] += 2;
	d.v[E_TX_DROPPED_QUEUE_FULL] += 2;
	d.v[E_TX_READER_COPY_DROPPED] += 2;
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
	EXPECT_EQ(0, drops_check(self->drops, "FULL_RING", 2));
}

/*
 * Two readers, one full: it loses its copies (tx_reader_copy_dropped), the
 * other gets them all, and every frame is transmitted.  Then both full:
 * each frame is dropped once (tx_dropped_queue_full) and loses two copies.
 */
TEST_F(tap0, tx_one_reader_full)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 11, [S_TX_BYTES] = 11 * SEQ_FRAME,
		[S_TX_DROPPED] = 2, [E_TX_DROPPED_QUEUE_FULL] = 2,
		[E_TX_READER_COPY_DROPPED] = 11 } };
	unsigned int i;
	int fd2;

	ASSERT_EQ(0, tap_set_txqlen(0, 4));
	fd2 = tap_open(0, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd2);
	/* fd2 reads each frame at once; the fixture's file never reads. */
	for (i = 0; i < 7; i++) {
		send_seq(_metadata, self, i, 1);
		read_seq(_metadata, fd2, i);
	}
	read_none(_metadata, fd2);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st,
				     &(struct tap_stats){ .v = {
		[S_TX_PACKETS] = 7, [S_TX_BYTES] = 7 * SEQ_FRAME,
		[E_TX_READER_COPY_DROPPED] = 3 } }));
	/* No copy is made for a full reader: nothing to free. */
	EXPECT_EQ(0, drops_check(self->drops, "FULL_RING", 0));
	/* fd2 stops reading: four more fill it, two more find both full. */
	send_seq(_metadata, self, 7, 6);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
	/* Only the two frames no reader took are freed as dropped. */
	EXPECT_EQ(0, drops_check(self->drops, "FULL_RING", 2));
	/* The full one has the first four; closing it counts them. */
	read_seq(_metadata, self->t.fd, 0);
	close(self->t.fd);
	self->t.fd = -1;
	read_seq(_metadata, fd2, 7);
	close(fd2);
	d.v[E_TX_UNREAD_AT_CLOSE] = 3 + 3;
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* Frames still queued at close are counted once, when the file goes. */
TEST_F(tap0, tx_unread_at_close)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 3, [S_TX_BYTES] = 3 * SEQ_FRAME } };
	int fd2, fd3;

	send_seq(_metadata, self, 0, 3);
	read_seq(_metadata, self->t.fd, 0);
	/* A dup keeps the file open: nothing counted yet. */
	fd2 = dup(self->t.fd);
	ASSERT_LE(0, fd2);
	close(self->t.fd);
	self->t.fd = fd2;
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
	close(fd2);
	self->t.fd = -1;
	d.v[E_TX_UNREAD_AT_CLOSE] = 2;
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));

	/* An empty queue at close counts nothing. */
	fd3 = tap_open(0, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd3);
	send_seq(_metadata, self, 3, 2);
	read_seq(_metadata, fd3, 3);
	read_seq(_metadata, fd3, 4);
	close(fd3);
	d.v[S_TX_PACKETS] += 2;
	d.v[S_TX_BYTES] += 2 * SEQ_FRAME;
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * Conservation: three readers with different habits and a small queue,
 * a long run of frames; a model of the queues predicts every counter and
 * every read exactly.
 */
TEST_F(tap0, tx_conservation)
{
	enum { READERS = 3, LIMIT = 5, FRAMES = 60 };
	unsigned int qlen[READERS] = { 0 }, head[READERS] = { 0 };
	unsigned int nread[READERS] = { 0 }, seqs[READERS][FRAMES];
	unsigned int sent = 0, delivered = 0, copy_drop = 0, full = 0;
	unsigned int unread = 0, i, r, k;
	struct tap_stats d = { .v = { 0 } };
	int fds[READERS];

	ASSERT_EQ(0, tap_set_txqlen(0, LIMIT));
	fds[0] = self->t.fd;
	self->t.fd = -1;
	for (r = 1; r < READERS; r++) {
		fds[r] = tap_open(0, O_RDWR | O_NONBLOCK);
		ASSERT_LE(0, fds[r]);
	}

	/* Frame i goes to reader r if r's queue (seqs[r]) has room. */
	for (i = 0; i < FRAMES; i++) {
		int any = 0;

		send_seq(_metadata, self, i, 1);
		sent++;
		for (r = 0; r < READERS; r++) {
			if (qlen[r] < LIMIT) {
				seqs[r][head[r] + qlen[r]++] = i;
				any = 1;
			} else {
				copy_drop++;
			}
		}
		if (any)
			delivered++;
		else
			full++;

		/* Reader 0 reads 3 every 7 frames, reader 1 one every 2. */
		/* Reader 2 only drains its queue once, after frame 40. */
		for (r = 0; r < READERS; r++) {
			unsigned int want = 0;

			if (r == 0 && i % 7 == 6)
				want = 3;
			if (r == 1 && i % 2 == 1)
				want = 1;
			if (r == 2 && i == 40)
				want = LIMIT;	/* reader 2 drains once */
			for (k = 0; k < want && qlen[r]; k++) {
				read_seq(_metadata, fds[r], seqs[r][head[r]]);
				head[r]++;
				qlen[r]--;
				nread[r]++;
			}
			if (want && !qlen[r])
				read_none(_metadata, fds[r]);
		}
	}
	for (r = 0; r < READERS; r++) {
		unread += qlen[r];
		close(fds[r]);
	}
	EXPECT_EQ(FRAMES, sent);
	/* The pattern exercises both kinds of loss. */
	EXPECT_NE(0, full);
	EXPECT_NE(0, copy_drop - READERS * full);
	d.v[S_TX_PACKETS] = delivered;
	d.v[S_TX_BYTES] = delivered * SEQ_FRAME;
	d.v[S_TX_DROPPED] = d.v[E_TX_DROPPED_QUEUE_FULL] = full;
	d.v[E_TX_READER_COPY_DROPPED] = copy_drop;
	d.v[E_TX_UNREAD_AT_CLOSE] = unread;
	TH_LOG("sent %u delivered %u all-full %u copies dropped %u unread %u",
	       sent, delivered, full, copy_drop, unread);
	/* Every copy is accounted for: read, dropped or unread at close. */
	EXPECT_EQ(READERS * FRAMES,
		  nread[0] + nread[1] + nread[2] + copy_drop + unread);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* Receive side conservation: frames of many sizes, all counted. */
TEST_F(tap0, rx_conservation)
{
	struct tap_stats d = { .v = { 0 } };
	unsigned int i;

	for (i = 0; i < 40; i++)
		inject_ok(_metadata, self, self->t.fd, (i * 37) % 1473, &d);
	EXPECT_EQ(40, d.v[S_RX_PACKETS]);
	EXPECT_FALSE(udp_pending(self->t.sock));
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

TEST_HARNESS_MAIN
