// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: ARP mode, the tap receiving as a NIC does.
 *
 * With IFF_NOARP (the default) every frame written to /dev/tap0 reaches the
 * stack, unicast as for this host whatever its destination.  With ARP on, a frame passes only if it is for the tap's own
 * address, broadcast, a multicast group the tap joined, or anything in
 * promiscuous mode (every multicast frame in allmulti mode, or while more
 * groups are joined than the filter holds).  A filtered frame is still a
 * successful write; it is dropped and counted (rx_dropped and
 * rx_dropped_other_host or rx_dropped_mcast_filtered), and every other
 * counter stays put.
 */
#include <sys/wait.h>

#include "lib.h"
#include "harness.h"

#define ACCEPT		(-1)
#define OTHER_HOST	E_RX_DROPPED_OTHER_HOST
#define NOT_JOINED	E_RX_DROPPED_MCAST_FILTERED

static const uint8_t own[6] = { 0xfe, 0xfd, 0, 0, 0, 0 };
static const uint8_t foreign[6] = { 0x02, 0, 0, 0, 0, 0x99 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t allhosts[6] = { 0x01, 0x00, 0x5e, 0, 0, 0x01 };
static const uint8_t group[6] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 };
static const uint8_t unjoined[6] = { 0x01, 0x00, 0x5e, 0x7f, 0x00, 0x09 };
static const uint8_t unjoined6[6] = { 0x33, 0x33, 0, 0, 0, 0xfb };

FIXTURE(tap0) {
	struct tap_fixture t;	/* /dev/tap0 non-blocking */
	int drops;		/* drops_start() */
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
	ASSERT_EQ(0, run("ip link set tap0 arp on"));
	ASSERT_EQ(0, read_u64("/sys/class/net/tap0/flags") & IFF_NOARP);
	self->drops = drops_start();
	ASSERT_LE(0, self->drops);
}

FIXTURE_TEARDOWN(tap0)
{
	/* No test makes the tap transmit: a frame queued is news. */
	tap_fixture_close(&self->t);
	drops_stop(self->drops);
	run("ip link set tap0 promisc off allmulticast off arp off");
	run("ip maddr del 01:00:5e:01:02:03 dev tap0 2>/dev/null");
	tap_cleanup(0);
}

static const char *mac_str(const uint8_t m[6])
{
	static char s[18];

	snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x",
		 m[0], m[1], m[2], m[3], m[4], m[5]);
	return s;
}

/* A frame from 10.99.0.2 to 10.99.0.1 (our socket's port), Ethernet @dst. */
static size_t build_frame(FIXTURE_DATA(tap0) *self, const uint8_t dst[6])
{
	const uint8_t peer[6] = PEER_MAC;

	return build_udp_frame(self->frame, dst, peer, inet_be("10.99.0.2"),
			       40000, inet_be("10.99.0.1"), self->t.port,
			       "arp", 3);
}

/*
 * Write a frame to @dst.  @verdict: ACCEPT (rx_packets and rx_bytes move)
 * or the ethtool counter that must count the drop (with rx_dropped).
 * @to_socket: the stack delivers the datagram (a frame the device takes in
 * promiscuous mode for another host, the stack still drops).
 */
static void send_to(struct __test_metadata *_metadata,
		    FIXTURE_DATA(tap0) *self, const uint8_t dst[6],
		    int verdict, bool to_socket)
{
	struct tap_stats before, d = { .v = { 0 } };
	size_t len = build_frame(self, dst);
	uint8_t got[64];

	ASSERT_EQ(0, tap_stats(0, &before));
	ASSERT_EQ(len, write(self->t.fd, self->frame, len))
		TH_LOG("to %s: %s", mac_str(dst), strerror(errno));
	if (verdict == ACCEPT) {
		d.v[S_RX_PACKETS] = 1;
		d.v[S_RX_BYTES] = len - ETHERTAP_PAD;
	} else {
		d.v[S_RX_DROPPED] = 1;
		d.v[verdict] = 1;
	}
	if (to_socket) {
		EXPECT_EQ(3, recv(self->t.sock, got, sizeof(got), MSG_DONTWAIT))
			TH_LOG("to %s: datagram not delivered", mac_str(dst));
	} else {
		EXPECT_FALSE(udp_pending(self->t.sock))
			TH_LOG("to %s: datagram delivered", mac_str(dst));
	}
	EXPECT_EQ(0, tap_stats_check(0, &before, &d))
		TH_LOG("to %s", mac_str(dst));
	/* Foreign unicast and groups not joined alike: not for this host. */
	EXPECT_EQ(0, drops_check(self->drops, "OTHERHOST",
				 verdict == ACCEPT ? 0 : 1))
		TH_LOG("to %s", mac_str(dst));
}

/* Groups on tap0's multicast list (/proc/net/dev_mcast). */
static int mc_count(void)
{
	char out[4096];

	if (run_output(out, sizeof(out),
		       "grep -c ' tap0 ' /proc/net/dev_mcast || true"))
		return -1;
	return atoi(out);
}

/*
 * NOARP, the default: every frame passes, and foreign unicast reaches the
 * socket as for this host; ARP on filters; off again.
 */
TEST_F(tap0, noarp_takes_all)
{
	ASSERT_EQ(0, run("ip link set tap0 arp off"));
	ASSERT_EQ(IFF_NOARP,
		  read_u64("/sys/class/net/tap0/flags") & IFF_NOARP);
	send_to(_metadata, self, foreign, ACCEPT, true);
	send_to(_metadata, self, unjoined, ACCEPT, true);
	send_to(_metadata, self, own, ACCEPT, true);

	ASSERT_EQ(0, run("ip link set tap0 arp on"));
	send_to(_metadata, self, foreign, OTHER_HOST, false);
	send_to(_metadata, self, unjoined, NOT_JOINED, false);
	ASSERT_EQ(0, run("ip link set tap0 arp off"));
	send_to(_metadata, self, foreign, ACCEPT, true);
	send_to(_metadata, self, unjoined, ACCEPT, true);
}

/* ARP on: own address and broadcast pass, foreign unicast is dropped. */
TEST_F(tap0, unicast)
{
	send_to(_metadata, self, foreign, OTHER_HOST, false);
	send_to(_metadata, self, own, ACCEPT, true);
	send_to(_metadata, self, bcast, ACCEPT, true);
	send_to(_metadata, self, foreign, OTHER_HOST, false);
}

/* The own address follows ip link set address, also while up. */
TEST_F(tap0, address_change)
{
	const uint8_t next[6] = { 0xfe, 0xfd, 0, 0, 0x12, 0x34 };

	ASSERT_EQ(0, run("ip link set tap0 address fe:fd:00:00:12:34"));
	send_to(_metadata, self, own, OTHER_HOST, false);
	send_to(_metadata, self, next, ACCEPT, true);
	ASSERT_EQ(0, run("ip link set tap0 address fe:fd:00:00:00:00"));
	send_to(_metadata, self, next, OTHER_HOST, false);
	send_to(_metadata, self, own, ACCEPT, true);
}

/* Promiscuous: the device takes foreign unicast, the stack then drops it. */
TEST_F(tap0, promisc)
{
	ASSERT_EQ(0, run("ip link set tap0 promisc on"));
	send_to(_metadata, self, foreign, ACCEPT, false);
	send_to(_metadata, self, unjoined, ACCEPT, true);
	send_to(_metadata, self, own, ACCEPT, true);
	ASSERT_EQ(0, run("ip link set tap0 promisc off"));
	send_to(_metadata, self, foreign, OTHER_HOST, false);
	send_to(_metadata, self, unjoined, NOT_JOINED, false);
}

/* Groups joined with ip maddr pass; unjoined and left ones do not. */
TEST_F(tap0, multicast)
{
	/* The stack joined all-hosts when 10.99.0.1 came up. */
	send_to(_metadata, self, allhosts, ACCEPT, true);
	send_to(_metadata, self, group, NOT_JOINED, false);
	send_to(_metadata, self, unjoined6, NOT_JOINED, false);
	ASSERT_EQ(0, run("ip maddr add %s dev tap0", mac_str(group)));
	send_to(_metadata, self, group, ACCEPT, true);
	send_to(_metadata, self, unjoined, NOT_JOINED, false);
	ASSERT_EQ(0, run("ip maddr del %s dev tap0", mac_str(group)));
	send_to(_metadata, self, group, NOT_JOINED, false);
	send_to(_metadata, self, allhosts, ACCEPT, true);
}

/* Allmulti: every multicast frame passes, foreign unicast still not. */
TEST_F(tap0, allmulti)
{
	ASSERT_EQ(0, run("ip link set tap0 allmulticast on"));
	send_to(_metadata, self, unjoined, ACCEPT, true);
	send_to(_metadata, self, unjoined6, ACCEPT, true);
	send_to(_metadata, self, foreign, OTHER_HOST, false);
	ASSERT_EQ(0, run("ip link set tap0 allmulticast off"));
	send_to(_metadata, self, unjoined, NOT_JOINED, false);
}

/*
 * The filter holds ETHERTAP_MC_FILTER_SIZE groups exactly; with one more
 * joined it takes every multicast frame, and exact again once it fits.
 */
TEST_F(tap0, filter_full)
{
	uint8_t g[6] = { 0x01, 0x00, 0x5e, 0x10, 0x00, 0x00 };
	int n0 = mc_count(), i, added;

	ASSERT_LE(1, n0);
	ASSERT_GT(ETHERTAP_MC_FILTER_SIZE, n0);
	added = ETHERTAP_MC_FILTER_SIZE - n0;
	for (i = 0; i < added; i++) {
		g[5] = i;
		ASSERT_EQ(0, run("ip maddr add %s dev tap0", mac_str(g)));
	}
	ASSERT_EQ(ETHERTAP_MC_FILTER_SIZE, mc_count());
	send_to(_metadata, self, g, ACCEPT, true);
	send_to(_metadata, self, unjoined, NOT_JOINED, false);

	g[5] = added;
	ASSERT_EQ(0, run("ip maddr add %s dev tap0", mac_str(g)));
	send_to(_metadata, self, unjoined, ACCEPT, true);
	send_to(_metadata, self, foreign, OTHER_HOST, false);
	ASSERT_EQ(0, run("ip maddr del %s dev tap0", mac_str(g)));
	send_to(_metadata, self, unjoined, NOT_JOINED, false);
	send_to(_metadata, self, g, NOT_JOINED, false);

	for (i = 0; i < added; i++) {
		g[5] = i;
		ASSERT_EQ(0, run("ip maddr del %s dev tap0", mac_str(g)));
	}
	send_to(_metadata, self, g, NOT_JOINED, false);
	ASSERT_EQ(n0, mc_count());
}

/*
 * Frames to a joined group keep passing while the list changes around it
 * (its place in the filter moves as another group leaves and rejoins).
 * The datagrams may overflow the socket; the stack drops those silently.
 */
TEST_F(tap0, list_changes)
{
	const uint8_t other[6] = { 0x01, 0x00, 0x5e, 0x20, 0x00, 0x01 };
	struct tap_stats before, d = { .v = { 0 } };
	unsigned long frames = 0, written = 0;
	int stop[2], count[2], i, status;
	size_t len;
	pid_t pid;

	ASSERT_EQ(0, run("ip maddr add %s dev tap0", mac_str(other)));
	ASSERT_EQ(0, run("ip maddr add %s dev tap0", mac_str(group)));
	len = build_frame(self, group);
	ASSERT_EQ(0, tap_stats(0, &before));
	ASSERT_EQ(0, pipe(stop));
	ASSERT_EQ(0, pipe(count));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char c;

		/* Write until the parent closes its end of @stop. */
		close(stop[1]);
		fcntl(stop[0], F_SETFL, O_NONBLOCK);
		while (read(stop[0], &c, 1) < 0 && errno == EAGAIN) {
			if (write(self->t.fd, self->frame, len) != (ssize_t)len)
				_exit(1);
			frames++;
		}
		_exit(write(count[1], &frames, sizeof(frames)) !=
		      sizeof(frames));
	}
	close(stop[0]);
	close(count[1]);
	for (i = 0; i < 10; i++) {
		EXPECT_EQ(0, run("ip maddr del %s dev tap0", mac_str(other)));
		EXPECT_EQ(0, run("ip maddr add %s dev tap0", mac_str(other)));
	}
	close(stop[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(sizeof(written), read(count[0], &written, sizeof(written)));
	close(count[0]);
	TH_LOG("%lu frames written to %s", written, mac_str(group));
	EXPECT_LT(0, written);
	d.v[S_RX_PACKETS] = written;
	d.v[S_RX_BYTES] = written * (len - ETHERTAP_PAD);
	EXPECT_EQ(0, tap_stats_check(0, &before, &d));
	EXPECT_EQ(0, drops_check(self->drops, "OTHERHOST", 0));
	run("ip maddr del %s dev tap0", mac_str(other));
}

TEST_HARNESS_MAIN
