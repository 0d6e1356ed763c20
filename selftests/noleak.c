// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: frames read from /dev/tapN never carry kernel memory.
 *
 * Frames of every length from a bare Ethernet header (14 bytes) to 1514
 * are transmitted on tap0 through an AF_PACKET socket with a known
 * pattern, and UDP datagrams of every payload size the MTU allows are
 * sent by the stack.  Each read() of /dev/tap0 must return exactly
 * 2 + length bytes: the padding 00 00, then the frame byte for byte, and
 * nothing after it: the bytes of the buffer beyond the returned length
 * stay as they were.  Truncated reads and readv() are held to the same
 * rule.
 */
#include <sys/uio.h>
#include <linux/if_packet.h>

#include "lib.h"
#include "harness.h"

#define ROOM		4096
#define ETYPE		0x88b5		/* local experimental ethertype */
#define NOLEAK_PORT	6464

FIXTURE(tap0) {
	int fd;			/* /dev/tap0, non-blocking */
	int pkt;		/* AF_PACKET, SOCK_RAW, sends on tap0 */
	int ifindex;
	uint8_t frame[2048];
	uint8_t buf[ROOM];
	uint8_t buf2[ROOM];
};

FIXTURE_SETUP(tap0)
{
	self->fd = -1;
	self->pkt = -1;
	REQUIRE_TAPS(return, 1);
	ASSERT_EQ(0, tap_setup(0));
	self->ifindex = if_nametoindex("tap0");
	ASSERT_LT(0, self->ifindex);
	/* Protocol 0: the socket sends but receives nothing. */
	self->pkt = socket(AF_PACKET, SOCK_RAW, 0);
	ASSERT_LE(0, self->pkt) TH_LOG("AF_PACKET: %s", strerror(errno));
	self->fd = tap_open(0, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(tap0)
{
	if (self->fd >= 0) {
		tap_dump(self->fd, "unexpected");
		close(self->fd);
	}
	if (self->pkt >= 0)
		close(self->pkt);
	tap_cleanup(0);
}

/* The frame of @len bytes (14..1514): header, then a pattern. */
static void pattern(uint8_t *f, size_t len, unsigned int salt)
{
	const uint8_t dst[6] = PEER_MAC;
	size_t i;

	memcpy(f, dst, 6);
	tap_mac(0, f + 6);
	put16(f + 12, ETYPE);
	for (i = ETH_HDR; i < len; i++)
		f[i] = (uint8_t)(len * 31 + i * 7 + salt) | 1;
}

static ssize_t pkt_send(FIXTURE_DATA(tap0) *self, const void *f, size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETYPE),
		.sll_ifindex = self->ifindex,
	};

	return sendto(self->pkt, f, len, 0, (struct sockaddr *)&sll,
		      sizeof(sll));
}

/* @got (@n bytes returned, @room asked) is padding + @f (@len) and fill. */
static int check_bytes(const uint8_t *got, size_t n, size_t room,
		       const uint8_t *f, uint8_t fill)
{
	size_t i;

	if (n >= 1 && got[0])
		return 0;
	if (n >= 2 && got[1])
		return 1;
	for (i = ETHERTAP_PAD; i < n; i++)
		if (got[i] != f[i - ETHERTAP_PAD])
			return i;
	for (i = n; i < room; i++)
		if (got[i] != fill)
			return i;
	return -1;
}

/* Every length 14..1514: read() returns 2 + len, exactly the frame. */
TEST_F_TIMEOUT(tap0, every_length_packet, 300)
{
	unsigned int bad = 0;
	size_t len, room;
	ssize_t n;
	int at;

	for (len = ETH_HDR; len <= ETH_HDR + 1500; len++) {
		pattern(self->frame, len, 0);
		ASSERT_EQ(len, pkt_send(self, self->frame, len))
			TH_LOG("len %zu: %s", len, strerror(errno));
		/* A roomy buffer, or one exactly the padded frame's size. */
		room = len % 3 ? ROOM : ETHERTAP_PAD + len;
		memset(self->buf, 0xaa, ROOM);
		n = read(self->fd, self->buf, room);
		ASSERT_EQ(ETHERTAP_PAD + len, n)
			TH_LOG("len %zu: %s", len, n < 0 ? strerror(errno) : "");
		at = check_bytes(self->buf, n, ROOM, self->frame, 0xaa);
		if (at >= 0 && bad++ < 10)
			TH_LOG("len %zu: byte %d is %02x", len, at,
			       self->buf[at]);
		/* One frame per send: nothing after it. */
		errno = 0;
		ASSERT_EQ(-1, read(self->fd, self->buf, ROOM));
		ASSERT_EQ(EAGAIN, errno) TH_LOG("len %zu", len);
	}
	EXPECT_EQ(0, bad);
}

/* The same with a 0x55 fill and through readv() into two buffers. */
TEST_F_TIMEOUT(tap0, every_length_readv, 300)
{
	unsigned int bad = 0;
	struct iovec iov[2];
	size_t len, cut, i;
	ssize_t n;

	for (len = ETH_HDR; len <= ETH_HDR + 1500; len++) {
		pattern(self->frame, len, 0x33);
		ASSERT_EQ(len, pkt_send(self, self->frame, len));
		memset(self->buf, 0x55, ROOM);
		memset(self->buf2, 0x55, ROOM);
		cut = 1 + len % 40;
		iov[0] = (struct iovec){ self->buf, cut };
		iov[1] = (struct iovec){ self->buf2, ROOM - cut };
		n = readv(self->fd, iov, 2);
		ASSERT_EQ(ETHERTAP_PAD + len, n)
			TH_LOG("len %zu: %s", len, n < 0 ? strerror(errno) : "");
		/* Reassemble and compare. */
		for (i = 0; i < (size_t)n; i++) {
			uint8_t b = i < cut ? self->buf[i] : self->buf2[i - cut];
			uint8_t want = i < ETHERTAP_PAD ? 0 :
				       self->frame[i - ETHERTAP_PAD];

			if (b != want) {
				if (bad++ < 10)
					TH_LOG("len %zu: byte %zu is %02x, sent %02x",
					       len, i, b, want);
				break;
			}
		}
		for (i = (size_t)n < cut ? (size_t)n : cut; i < ROOM; i++) {
			if (self->buf[i] != 0x55) {
				if (bad++ < 10)
					TH_LOG("len %zu: buf[%zu] written", len, i);
				break;
			}
		}
		for (i = (size_t)n > cut ? n - cut : 0; i < ROOM; i++) {
			if (self->buf2[i] != 0x55) {
				if (bad++ < 10)
					TH_LOG("len %zu: buf2[%zu] written (%02x)",
					       len, i, self->buf2[i]);
				break;
			}
		}
	}
	EXPECT_EQ(0, bad);
	errno = 0;
	EXPECT_EQ(-1, read(self->fd, self->buf, ROOM));
	EXPECT_EQ(EAGAIN, errno);
}

/* A short buffer gets the first bytes, and not one byte more. */
TEST_F_TIMEOUT(tap0, truncated_no_spill, 300)
{
	static const size_t lens[] = { 14, 15, 59, 60, 61, 100, 1000, 1514 };
	unsigned int bad = 0, i;
	size_t room, len;
	ssize_t n;
	int at;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		len = lens[i];
		for (room = 1; room < ETHERTAP_PAD + len;
		     room += room < 20 ? 1 : 97) {
			pattern(self->frame, len, room);
			ASSERT_EQ(len, pkt_send(self, self->frame, len));
			memset(self->buf, 0xaa, ROOM);
			n = read(self->fd, self->buf, room);
			ASSERT_EQ(room, n) TH_LOG("len %zu room %zu", len, room);
			at = check_bytes(self->buf, n, ROOM, self->frame, 0xaa);
			if (at >= 0 && bad++ < 10)
				TH_LOG("len %zu room %zu: byte %d is %02x",
				       len, room, at, self->buf[at]);
			/* The rest of the frame is gone. */
			errno = 0;
			ASSERT_EQ(-1, read(self->fd, self->buf, ROOM));
			ASSERT_EQ(EAGAIN, errno);
		}
	}
	EXPECT_EQ(0, bad);
}

/* Datagrams the stack sends: every payload 0..1472, exact frames. */
TEST_F_TIMEOUT(tap0, every_length_udp, 300)
{
	static uint8_t payload[1500];
	unsigned int bad = 0;
	uint8_t mac[6];
	size_t plen, i, flen;
	uint8_t *eth, *ip, *udp;
	int sock;
	ssize_t n;

	sock = udp_socket(0, 0);
	ASSERT_LE(0, sock);
	tap_mac(0, mac);
	for (plen = 0; plen <= 1500 - IP_HDR - UDP_HDR; plen++) {
		for (i = 0; i < plen; i++)
			payload[i] = (uint8_t)(plen + i * 13) | 0x80;
		ASSERT_EQ(plen, udp_send_peer(sock, 0, NOLEAK_PORT, payload,
					      plen));
		memset(self->buf, 0xaa, ROOM);
		n = read(self->fd, self->buf, ROOM);
		flen = UDP_FRAME(plen);
		ASSERT_EQ(ETHERTAP_PAD + flen, n)
			TH_LOG("payload %zu: %s", plen,
			       n < 0 ? strerror(errno) : "");
		eth = self->buf + ETHERTAP_PAD;
		ip = eth + ETH_HDR;
		udp = ip + IP_HDR;
		if (self->buf[0] || self->buf[1] || memcmp(eth, mac, 6) ||
		    memcmp(eth + 6, mac, 6) || get16(eth + 12) != 0x0800 ||
		    ip[0] != 0x45 || get16(ip + 2) != IP_HDR + UDP_HDR + plen ||
		    csum_fold(csum_add(0, ip, IP_HDR)) != 0 ||
		    get16(udp + 2) != NOLEAK_PORT ||
		    get16(udp + 4) != UDP_HDR + plen ||
		    memcmp(udp + UDP_HDR, payload, plen)) {
			if (bad++ < 10)
				TH_LOG("payload %zu: frame differs", plen);
		}
		for (i = n; i < ROOM; i++) {
			if (self->buf[i] != 0xaa) {
				if (bad++ < 10)
					TH_LOG("payload %zu: byte %zu after the frame written",
					       plen, i);
				break;
			}
		}
		errno = 0;
		ASSERT_EQ(-1, read(self->fd, self->buf, ROOM));
		ASSERT_EQ(EAGAIN, errno);
	}
	close(sock);
	EXPECT_EQ(0, bad);
}

TEST_HARNESS_MAIN
