// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: systematic fault injection (debug kernel: CONFIG_FAILSLAB).
 *
 * For N = 1, 2, ... the Nth slab allocation of one system call fails
 * (/proc/thread-self/fail-nth, Documentation/fault-injection/), until the
 * call succeeds without the fault firing.  Each attempt must either fail
 * with the documented errno, changing nothing but the documented counter,
 * or succeed whole; afterwards the taps move frames both ways, no tap
 * number is lost and the modules unload.  Sites: write() of a frame,
 * open(), the xmit path to two readers and a netlink listener, RTM_NEWLINK
 * and RTM_DELLINK of an ethertap link, a netlink frame, a netlink socket()
 * and bind(), and finit_module() of ethertap.ko max_taps=4.
 *
 * Kernels without CONFIG_FAULT_INJECTION (Debian's 6.1 and 6.12) have no
 * fail-nth file: every test there is a SKIP.
 */
#include <sys/syscall.h>
#include <time.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>

#include "lib.h"
#include "harness.h"

#define FS	"/sys/kernel/debug/failslab/"
#define PORT	7300
#define MAXN	20000	/* no call here makes this many allocations */

FIXTURE(flt) {
	int nth;		/* /proc/thread-self/fail-nth */
	int udp;		/* bound to 10.99.0.1:PORT */
	unsigned long faults;	/* faults that fired */
	unsigned long frames;	/* frames moved */
	char gfp_wait[8], verbose[8];
	struct timespec t0;
	uint8_t buf[MAX_FRAME];
	uint8_t frame[MAX_FRAME];
	size_t flen;
};

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* Make the @n-th slab allocation of this thread fail (0: none). */
static int nth_arm(int fd, unsigned int n)
{
	char b[16];
	int l = snprintf(b, sizeof(b), "%u", n);

	return pwrite(fd, b, l, 0) == l ? 0 : -1;
}

/* Did the armed fault fire?  Disarms it in any case. */
static int nth_fired(int fd)
{
	char b[16] = "";
	ssize_t n = pread(fd, b, sizeof(b) - 1, 0);

	nth_arm(fd, 0);
	return n > 0 && strtoul(b, NULL, 10) == 0;
}

/*
 * The next N to try.  Every N for the short calls; for the long ones
 * (RTM_NEWLINK, finit_module: hundreds to thousands of allocations, each
 * failed attempt unwinding all before it) every N up to 32, then steps
 * of N/8, unless ETHERTAP_FAULTS_ALL=1: the time on the debug kernel
 * under TCG grows with the square of the calls' allocations.
 */
static unsigned int next_n(unsigned int n)
{
	const char *all = getenv("ETHERTAP_FAULTS_ALL");

	if ((all && *all == '1') || n < 32)
		return n + 1;
	return n + n / 8;
}

FIXTURE_SETUP(flt)
{
	const uint8_t hello[] = "fault";

	self->nth = -1;
	self->udp = -1;
	self->gfp_wait[0] = 0;
	if (geteuid())
		SKIP(return, "needs root");
	if (access("/proc/thread-self/fail-nth", F_OK))
		SKIP(return, "no /proc/thread-self/fail-nth: kernel without CONFIG_FAULT_INJECTION");
	if (access(FS "ignore-gfp-wait", F_OK))
		SKIP(return, "no " FS ": kernel without CONFIG_FAILSLAB or debugfs");
	ASSERT_TRUE(tap_exists(0) && tap_exists(1));
	ASSERT_EQ(0, read_str(FS "ignore-gfp-wait", self->gfp_wait,
			      sizeof(self->gfp_wait)));
	ASSERT_EQ(0, read_str(FS "verbose", self->verbose,
			      sizeof(self->verbose)));
	/* GFP_KERNEL allocations fail too; no stack dump for each fault. */
	ASSERT_EQ(0, write_str(FS "ignore-gfp-wait", "N"));
	ASSERT_EQ(0, write_str(FS "verbose", "0"));
	ASSERT_EQ(0, tap_setup(0));
	self->udp = udp_socket(0, PORT);
	ASSERT_LE(0, self->udp);
	self->flen = build_to_tap(self->frame, 0, PORT, hello, sizeof(hello));
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR);
	ASSERT_LE(0, self->nth);
	clock_gettime(CLOCK_MONOTONIC, &self->t0);
}

FIXTURE_TEARDOWN(flt)
{
	if (self->nth >= 0) {
		nth_arm(self->nth, 0);
		close(self->nth);
	}
	if (self->gfp_wait[0]) {
		write_str(FS "ignore-gfp-wait", self->gfp_wait);
		write_str(FS "verbose", self->verbose);
	}
	if (self->udp >= 0)
		close(self->udp);
	if (tap_exists(0))
		tap_cleanup(0);
}

static void figures(FIXTURE_DATA(flt) *self, const char *site, unsigned int calls)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	printf("# faults: %s: last N %u, %lu faults injected, %ld s\n", site,
	       calls, self->faults, (long)(t.tv_sec - self->t0.tv_sec));
	printf("# figure: faults_injected %lu\n", self->faults);
	printf("# figure: frames_moved %lu\n", self->frames);
}

/* Is a datagram from tap0's frame waiting on the UDP socket?  Takes it. */
static int got_datagram(FIXTURE_DATA(flt) *self)
{
	if (!udp_pending(self->udp))
		return 0;
	return recv(self->udp, self->buf, sizeof(self->buf), 0) > 0;
}

/* A frame written to @fd reaches the socket; one the stack sends is read. */
static void both_ways(struct __test_metadata *_metadata, FIXTURE_DATA(flt) *self,
		      int fd)
{
	ASSERT_EQ(self->flen, write(fd, self->frame, self->flen));
	ASSERT_TRUE(udp_pending(self->udp) ||
		    (usleep(200000), udp_pending(self->udp)));
	ASSERT_TRUE(got_datagram(self));
	ASSERT_EQ(4, udp_send_peer(self->udp, 0, PORT, "back", 4));
	ASSERT_EQ(ETHERTAP_PAD + UDP_FRAME(4),
		  tap_read_wait(fd, self->buf, sizeof(self->buf), 2000));
	self->frames += 2;
}

/*
 * write(): the frame's skb cannot be allocated (ENOMEM, rx_dropped_nomem),
 * or it is delivered whole.
 */
TEST_F_TIMEOUT(flt, write_frame, 300)
{
	struct tap_stats st, want;
	unsigned int n;
	int fd, fired, err;
	ssize_t r;

	fd = tap_open(0, O_RDWR);
	ASSERT_LE(0, fd);
	both_ways(_metadata, self, fd);	/* routes and neighbours cached */
	for (n = 1; n < MAXN; n++) {
		ASSERT_EQ(0, tap_stats(0, &st));
		memset(&want, 0, sizeof(want));
		ASSERT_EQ(0, nth_arm(self->nth, n));
		r = write(fd, self->frame, self->flen);
		err = errno;
		fired = nth_fired(self->nth);
		self->faults += fired;
		if (r < 0) {
			ASSERT_TRUE(fired);
			ASSERT_EQ(ENOMEM, err) TH_LOG("N=%u", n);
			want.v[S_RX_DROPPED] = 1;
			want.v[E_RX_DROPPED_NOMEM] = 1;
			EXPECT_FALSE(got_datagram(self)) TH_LOG("N=%u", n);
		} else {
			ASSERT_EQ(self->flen, r);
			want.v[S_RX_PACKETS] = 1;
			want.v[S_RX_BYTES] = self->flen - ETHERTAP_PAD;
			EXPECT_TRUE(got_datagram(self)) TH_LOG("N=%u", n);
			self->frames++;
		}
		ASSERT_EQ(0, tap_stats_check(0, &st, &want)) TH_LOG("N=%u", n);
		if (!fired)
			break;
	}
	ASSERT_LT(1, n);
	both_ways(_metadata, self, fd);
	close(fd);
	figures(self, "write", n);
}

/* open(): ENOMEM, and no reader is left attached. */
TEST_F_TIMEOUT(flt, open_tap, 300)
{
	struct tap_stats st, want;
	unsigned int n;
	int fd, fired, err;

	for (n = 1; n < MAXN; n++) {
		ASSERT_EQ(0, nth_arm(self->nth, n));
		fd = tap_open(0, O_RDWR);
		err = errno;
		fired = nth_fired(self->nth);
		self->faults += fired;
		if (fd < 0) {
			ASSERT_TRUE(fired);
			ASSERT_EQ(ENOMEM, err) TH_LOG("N=%u", n);
			continue;
		}
		if (!fired)
			break;
		both_ways(_metadata, self, fd);
		close(fd);
	}
	ASSERT_LT(1, n);
	ASSERT_LE(0, fd);
	both_ways(_metadata, self, fd);
	close(fd);

	/* No failed open left a reader behind: nobody takes this frame. */
	ASSERT_EQ(0, tap_stats(0, &st));
	memset(&want, 0, sizeof(want));
	want.v[S_TX_DROPPED] = 1;
	want.v[E_TX_DROPPED_NO_READER] = 1;
	ASSERT_EQ(4, udp_send_peer(self->udp, 0, PORT, "none", 4));
	ASSERT_EQ(0, tap_stats_check(0, &st, &want));
	figures(self, "open", n);
}

static int load_netlink(void)
{
	if (!access("/sys/module/ethertap_netlink", F_OK))
		return 0;
	return run("insmod %s/ethertap_netlink.ko", getenv("ETHERTAP_MODDIR"));
}

/* An ETHERTAP_NETLINK socket in @groups (bit N: tapN), non-blocking. */
static int nl_listener(uint32_t groups)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_groups = groups };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, ETHERTAP_NETLINK);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One frame queued on @fd (non-blocking)?  Takes it. */
static int got_frame(int fd, uint8_t *buf)
{
	return read(fd, buf, MAX_FRAME) == ETHERTAP_PAD + UDP_FRAME(4);
}

/*
 * The xmit path, driven by a UDP send, with two readers and a netlink
 * listener on tap0: the send fails and nothing reaches the tap, or the
 * frame is transmitted and every copy lost for want of memory is counted
 * in tx_reader_copy_dropped.
 */
TEST_F_TIMEOUT(flt, xmit, 300)
{
	struct tap_stats st, want;
	int fd[3], fired, err, got, i;
	unsigned int n;
	ssize_t r;

	ASSERT_EQ(0, load_netlink());
	fd[0] = tap_open(0, O_RDWR | O_NONBLOCK);
	fd[1] = tap_open(0, O_RDWR | O_NONBLOCK);
	fd[2] = nl_listener(1 << 0);
	for (i = 0; i < 3; i++)
		ASSERT_LE(0, fd[i]);
	/* Warm up: the route and the neighbour are cached. */
	ASSERT_EQ(4, udp_send_peer(self->udp, 0, PORT, "warm", 4));
	for (i = 0; i < 3; i++)
		ASSERT_TRUE(got_frame(fd[i], self->buf));

	for (n = 1; n < MAXN; n++) {
		ASSERT_EQ(0, tap_stats(0, &st));
		memset(&want, 0, sizeof(want));
		ASSERT_EQ(0, nth_arm(self->nth, n));
		r = udp_send_peer(self->udp, 0, PORT, "xmit", 4);
		err = errno;
		fired = nth_fired(self->nth);
		self->faults += fired;
		for (got = 0, i = 0; i < 3; i++)
			got += got_frame(fd[i], self->buf);
		if (r < 0) {
			ASSERT_TRUE(fired);
			ASSERT_TRUE(err == ENOMEM || err == ENOBUFS)
				TH_LOG("N=%u: errno %d", n, err);
			ASSERT_EQ(0, got) TH_LOG("N=%u", n);
		} else {
			ASSERT_EQ(4, r);
			if (!fired)
				ASSERT_EQ(3, got);
			/* The last reader gets the original: never lost. */
			ASSERT_LE(1, got) TH_LOG("N=%u", n);
			want.v[S_TX_PACKETS] = 1;
			want.v[S_TX_BYTES] = UDP_FRAME(4);
			want.v[E_TX_READER_COPY_DROPPED] = 3 - got;
			self->frames += got;
		}
		ASSERT_EQ(0, tap_stats_check(0, &st, &want)) TH_LOG("N=%u", n);
		if (!fired)
			break;
	}
	ASSERT_LT(1, n);
	for (i = 0; i < 3; i++)
		close(fd[i]);
	fd[0] = tap_open(0, O_RDWR);
	ASSERT_LE(0, fd[0]);
	both_ways(_metadata, self, fd[0]);
	close(fd[0]);
	figures(self, "xmit", n);
}

/*
 * The xmit path of an offloaded frame: a UDP datagram left for the device
 * to checksum (tap0 offers it while a reader takes TUN_F_CSUM) reaches a
 * reader with the virtio-net header and that offload whole, and a classic
 * reader and a netlink listener checksummed.  The send fails and nothing
 * reaches the tap, or the frame is transmitted, the offloading reader
 * gets it, and every other copy is read or counted: in
 * tx_reader_copy_dropped, or both in one tx_dropped_segment when the
 * checksummed copy could not be made.
 */
TEST_F_TIMEOUT(flt, xmit_offloaded, 300)
{
	unsigned int vnet = ETHERTAP_F_VNET_HDR, csum = TUN_F_CSUM;
	struct tap_stats st, want;
	int fd[3], fired, err, got, i;
	unsigned int n, segfail;
	ssize_t r;

	ASSERT_EQ(0, load_netlink());
	fd[0] = tap_open(0, O_RDWR | O_NONBLOCK);
	fd[1] = nl_listener(1 << 0);
	fd[2] = tap_open(0, O_RDWR | O_NONBLOCK);
	for (i = 0; i < 3; i++)
		ASSERT_LE(0, fd[i]);
	ASSERT_EQ(0, ioctl(fd[2], ETHERTAPSETFLAGS, &vnet));
	ASSERT_EQ(0, ioctl(fd[2], ETHERTAPSETOFFLOAD, &csum));
	/* Warm up: the route and the neighbour are cached. */
	ASSERT_EQ(4, udp_send_peer(self->udp, 0, PORT, "warm", 4));
	ASSERT_TRUE(got_frame(fd[0], self->buf));
	ASSERT_TRUE(got_frame(fd[1], self->buf));
	ASSERT_EQ(ETHERTAP_PAD + ETHERTAP_VNET_HDR_LEN + UDP_FRAME(4),
		  read(fd[2], self->buf, MAX_FRAME));
	/* The datagram came with its checksum left to the reader. */
	ASSERT_EQ(VIRTIO_NET_HDR_F_NEEDS_CSUM, self->buf[ETHERTAP_PAD]);

	for (n = 1; n < MAXN; n++) {
		ASSERT_EQ(0, tap_stats(0, &st));
		memset(&want, 0, sizeof(want));
		ASSERT_EQ(0, nth_arm(self->nth, n));
		r = udp_send_peer(self->udp, 0, PORT, "xmit", 4);
		err = errno;
		fired = nth_fired(self->nth);
		self->faults += fired;
		got = got_frame(fd[0], self->buf) + got_frame(fd[1], self->buf);
		got += read(fd[2], self->buf, MAX_FRAME) ==
		       ETHERTAP_PAD + ETHERTAP_VNET_HDR_LEN + UDP_FRAME(4);
		ASSERT_EQ(0, tap_stats(0, &want));
		segfail = want.v[E_TX_DROPPED_SEGMENT] -
			  st.v[E_TX_DROPPED_SEGMENT];
		memset(&want, 0, sizeof(want));
		if (r < 0) {
			ASSERT_TRUE(fired);
			ASSERT_TRUE(err == ENOMEM || err == ENOBUFS)
				TH_LOG("N=%u: errno %d", n, err);
			ASSERT_EQ(0, got) TH_LOG("N=%u", n);
		} else {
			ASSERT_EQ(4, r);
			if (!fired)
				ASSERT_EQ(3, got);
			ASSERT_GE(1, segfail) TH_LOG("N=%u", n);
			/* The offloading reader gets the original. */
			ASSERT_LE(1, got) TH_LOG("N=%u", n);
			want.v[S_TX_PACKETS] = 1;
			want.v[S_TX_BYTES] = UDP_FRAME(4);
			want.v[E_TX_DROPPED_SEGMENT] = segfail;
			want.v[E_TX_READER_COPY_DROPPED] = 3 - got - 2 * segfail;
			self->frames += got;
		}
		ASSERT_EQ(0, tap_stats_check(0, &st, &want)) TH_LOG("N=%u", n);
		if (!fired)
			break;
	}
	ASSERT_LT(1, n);
	for (i = 0; i < 3; i++)
		close(fd[i]);
	figures(self, "xmit_offloaded", n);
}

/*
 * A frame sent on an ETHERTAP_NETLINK socket: sendmsg() fails (ENOMEM or
 * ENOBUFS) and nothing changes, or the frame is delivered, or the socket
 * reports ENOMEM and rx_dropped_nomem counts it.
 */
TEST_F_TIMEOUT(flt, netlink_send, 300)
{
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	struct tap_stats st, want;
	int nl, fired, err, nlerr;
	unsigned int n;
	ssize_t r;

	ASSERT_EQ(0, load_netlink());
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, ETHERTAP_NETLINK);
	ASSERT_LE(0, nl);
	for (n = 1; n < MAXN; n++) {
		ASSERT_EQ(0, tap_stats(0, &st));
		memset(&want, 0, sizeof(want));
		ASSERT_EQ(0, nth_arm(self->nth, n));
		r = sendto(nl, self->frame, self->flen, 0,
			   (struct sockaddr *)&k, sizeof(k));
		err = errno;
		fired = nth_fired(self->nth);
		self->faults += fired;
		nlerr = recv(nl, self->buf, sizeof(self->buf), 0) < 0 ?
			errno : 0;
		if (r < 0) {
			ASSERT_TRUE(fired);
			ASSERT_TRUE(err == ENOMEM || err == ENOBUFS)
				TH_LOG("N=%u: errno %d", n, err);
			ASSERT_EQ(EAGAIN, nlerr);
			ASSERT_FALSE(got_datagram(self));
		} else if (nlerr == ENOMEM) {
			ASSERT_EQ(self->flen, r);
			ASSERT_TRUE(fired);
			want.v[S_RX_DROPPED] = 1;
			want.v[E_RX_DROPPED_NOMEM] = 1;
			ASSERT_FALSE(got_datagram(self));
		} else {
			ASSERT_EQ(self->flen, r);
			ASSERT_EQ(EAGAIN, nlerr) TH_LOG("N=%u", n);
			want.v[S_RX_PACKETS] = 1;
			want.v[S_RX_BYTES] = self->flen - ETHERTAP_PAD;
			ASSERT_TRUE(got_datagram(self)) TH_LOG("N=%u", n);
			self->frames++;
		}
		ASSERT_EQ(0, tap_stats_check(0, &st, &want)) TH_LOG("N=%u", n);
		if (!fired)
			break;
	}
	ASSERT_LT(1, n);
	close(nl);
	figures(self, "netlink sendmsg", n);
}

/*
 * socket() and bind() to tap0's group: ENOMEM; a socket whose bind failed
 * is no listener (tap0's next frame finds nobody); one bound gets it.
 */
TEST_F_TIMEOUT(flt, netlink_socket_bind, 300)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	struct tap_stats st, want;
	unsigned int n, calls;
	int fd, fired, err, r;

	ASSERT_EQ(0, load_netlink());
	for (n = 1; n < MAXN; n++) {
		ASSERT_EQ(0, nth_arm(self->nth, n));
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK,
			    ETHERTAP_NETLINK);
		err = errno;
		fired = nth_fired(self->nth);
		self->faults += fired;
		if (fd < 0) {
			ASSERT_TRUE(fired);
			/* ENFILE: no inode for the socket (sock_alloc()). */
			ASSERT_TRUE(err == ENOMEM || err == ENFILE)
				TH_LOG("N=%u: errno %d", n, err);
			continue;
		}
		close(fd);
		if (!fired)
			break;
	}
	ASSERT_LT(1, n);
	calls = n;

	for (n = 1; n < MAXN; n++) {
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK,
			    ETHERTAP_NETLINK);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, nth_arm(self->nth, n));
		r = bind(fd, (struct sockaddr *)&a, sizeof(a));
		err = errno;
		fired = nth_fired(self->nth);
		self->faults += fired;
		ASSERT_EQ(0, tap_stats(0, &st));
		memset(&want, 0, sizeof(want));
		ASSERT_EQ(4, udp_send_peer(self->udp, 0, PORT, "bind", 4));
		if (r) {
			ASSERT_TRUE(fired);
			ASSERT_EQ(ENOMEM, err) TH_LOG("N=%u", n);
			want.v[S_TX_DROPPED] = 1;
			want.v[E_TX_DROPPED_NO_READER] = 1;
			ASSERT_FALSE(got_frame(fd, self->buf));
		} else {
			want.v[S_TX_PACKETS] = 1;
			want.v[S_TX_BYTES] = UDP_FRAME(4);
			ASSERT_TRUE(got_frame(fd, self->buf)) TH_LOG("N=%u", n);
			self->frames++;
		}
		ASSERT_EQ(0, tap_stats_check(0, &st, &want)) TH_LOG("N=%u", n);
		close(fd);
		if (!fired)
			break;
	}
	ASSERT_LT(1, n);
	figures(self, "netlink socket+bind", calls + n);
}

/* ---- rtnetlink: RTM_NEWLINK / RTM_DELLINK from this thread ---- */

struct nlreq {
	struct nlmsghdr h;
	struct ifinfomsg i;
	char attrs[256];
};

static void add_attr(struct nlmsghdr *h, unsigned short type,
		     const void *data, unsigned short len)
{
	struct rtattr *rta = (void *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/*
 * Send an RTM_NEWLINK of kind ethertap (@del: RTM_DELLINK of @name) and
 * return the acknowledged status: 0, -errno from the ack or from
 * sendmsg(), or -errno of a lost ack (ENOBUFS on the socket).
 */
static int rtnl_link(int nth, int rt, unsigned int n, int del,
		     const char *name)
{
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	struct nlreq req = {};
	struct rtattr *li;
	char ack[1024];
	struct nlmsgerr *e;
	ssize_t r;

	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.i));
	req.h.nlmsg_type = del ? RTM_DELLINK : RTM_NEWLINK;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.h.nlmsg_seq = n;
	req.i.ifi_family = AF_UNSPEC;
	if (del) {
		add_attr(&req.h, IFLA_IFNAME, name, strlen(name) + 1);
	} else {
		req.h.nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
		li = (void *)((char *)&req + NLMSG_ALIGN(req.h.nlmsg_len));
		add_attr(&req.h, IFLA_LINKINFO, NULL, 0);
		add_attr(&req.h, IFLA_INFO_KIND, "ethertap", 9);
		li->rta_len = (char *)&req + req.h.nlmsg_len - (char *)li;
	}
	if (n && nth_arm(nth, n))
		return -EIO;
	r = sendto(rt, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&k,
		   sizeof(k));
	if (r < 0)
		return -errno;
	r = recv(rt, ack, sizeof(ack), MSG_DONTWAIT);
	if (r < 0)
		return -errno;
	e = NLMSG_DATA((struct nlmsghdr *)ack);
	if (((struct nlmsghdr *)ack)->nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return e->error;
}

static int rtnl_socket(void)
{
	int one = 1;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	/* The ack alone: no extended error attributes to parse. */
	if (fd >= 0)
		setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return fd;
}

/* tap2 exists in full: interface, node, MAC. */
static int tap2_whole(void)
{
	char out[64];

	return tap_exists(2) && !access("/dev/tap2", F_OK) &&
	       !read_str("/sys/class/net/tap2/address", out, sizeof(out)) &&
	       !strcmp(out, "fe:fd:00:00:00:02");
}

/* Neither the interface nor its node. */
static int tap2_gone(void)
{
	return !tap_exists(2) && access("/dev/tap2", F_OK);
}

/*
 * ip link add type ethertap (as RTM_NEWLINK): refused with ENOMEM (or the
 * ack lost, ENOBUFS) and nothing half made, or tap2 made whole; the next
 * add still gets number 2.  ip link del (RTM_DELLINK): the tap goes whole
 * or stays whole, and its number is free again.
 */
TEST_F_TIMEOUT(flt, link_add_del, 600)
{
	unsigned int n, calls, errs[128] = {};
	int rt, r, fired, fd;

	rt = rtnl_socket();
	ASSERT_LE(0, rt);
	ASSERT_TRUE(tap2_gone());
	for (n = 1; n < MAXN; n = next_n(n)) {
		r = rtnl_link(self->nth, rt, n, 0, NULL);
		fired = nth_fired(self->nth);
		self->faults += fired;
		if (!fired) {
			ASSERT_EQ(0, r);
			break;
		}
		/*
		 * The errno is the core's choice (ENOMEM mostly, EINVAL from
		 * some of its paths, ENOBUFS for a lost ack): any error, as
		 * long as it is one and the state is whole either way.
		 */
		if (r == 0 || (r < 0 && tap_exists(2))) {
			ASSERT_TRUE(tap2_whole()) TH_LOG("N=%u: %d", n, r);
			ASSERT_EQ(0, rtnl_link(self->nth, rt, 0, 1, "tap2"));
		} else {
			ASSERT_GT(0, r) TH_LOG("N=%u", n);
			errs[-r < 128 ? -r : 0]++;
		}
		ASSERT_TRUE(tap2_gone()) TH_LOG("N=%u", n);
	}
	ASSERT_LT(1, n);
	ASSERT_TRUE(tap2_whole());
	calls = n;

	for (n = 1; n < MAXN; n = next_n(n)) {
		if (!tap_exists(2))
			ASSERT_EQ(0, rtnl_link(self->nth, rt, 0, 0, NULL));
		ASSERT_TRUE(tap2_whole());
		r = rtnl_link(self->nth, rt, n, 1, "tap2");
		fired = nth_fired(self->nth);
		self->faults += fired;
		if (tap_exists(2)) {
			ASSERT_GT(0, r) TH_LOG("N=%u", n);
			errs[-r < 128 ? -r : 0]++;
			ASSERT_TRUE(tap2_whole()) TH_LOG("N=%u", n);
		} else {
			ASSERT_TRUE(r == 0 || r == -ENOBUFS)
				TH_LOG("N=%u: %d", n, r);
			ASSERT_TRUE(tap2_gone()) TH_LOG("N=%u", n);
		}
		if (!fired) {
			ASSERT_EQ(0, r);
			break;
		}
	}
	ASSERT_LT(1, n);
	/* Number 2 is free again, and a new tap2 works. */
	ASSERT_EQ(0, rtnl_link(self->nth, rt, 0, 0, NULL));
	ASSERT_TRUE(tap2_whole());
	ASSERT_EQ(0, tap_no_ipv6(2));
	ASSERT_EQ(0, run("ip link set tap2 up"));
	fd = tap_open(2, O_RDWR);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, rtnl_link(self->nth, rt, 0, 1, "tap2"));
	ASSERT_TRUE(tap2_gone());
	close(rt);
	for (r = 0; r < 128; r++)
		if (errs[r])
			printf("# faults: link refused %u times with %s\n",
			       errs[r], r ? strerror(r) : "another errno");
	figures(self, "RTM_NEWLINK+RTM_DELLINK", calls + n);
}

/* ---- module load ---- */

static int mod_loaded(const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return !access(path, F_OK);
}

static int unload_all(void)
{
	static const char *const mods[] = {
		"ethertap_netlink", "netlink_dev", "ethertap"
	};
	unsigned int i;

	for (i = 0; i < 3; i++)
		if (mod_loaded(mods[i]) &&
		    syscall(__NR_delete_module, mods[i], O_NONBLOCK))
			return -1;
	return 0;
}

/* Nothing of ethertap is left: no module, taps, nodes or class. */
static int nothing_left(void)
{
	char path[32];
	unsigned int t;

	if (mod_loaded("ethertap") || !access("/sys/class/ethertap", F_OK))
		return 0;
	for (t = 0; t < 5; t++) {
		snprintf(path, sizeof(path), "/dev/tap%u", t);
		if (tap_exists(t) || !access(path, F_OK))
			return 0;
		snprintf(path, sizeof(path), "/dev/ethertap/tap%u", t);
		if (!access(path, F_OK))
			return 0;
	}
	return 1;
}

/*
 * finit_module(ethertap.ko, "max_taps=4"): fails with ENOMEM leaving
 * nothing behind, or loads with its four taps, which then unload.  ENOBUFS
 * is an allocation failure too: the IPv4 notifier's (inetdev_init()) while
 * a tap registers.
 */
TEST_F_TIMEOUT(flt, module_load, 1500)
{
	const char *dir = getenv("ETHERTAP_MODDIR");
	unsigned int n, t;
	char path[512];
	int mfd, r, err, fired;

	ASSERT_NE(NULL, dir);
	snprintf(path, sizeof(path), "%s/ethertap.ko", dir);
	mfd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, mfd);
	close(self->udp);
	self->udp = -1;
	ASSERT_EQ(0, unload_all());
	ASSERT_TRUE(nothing_left());
	for (n = 1; n < MAXN; n = next_n(n)) {
		ASSERT_EQ(0, nth_arm(self->nth, n));
		r = syscall(__NR_finit_module, mfd, "max_taps=4", 0);
		err = errno;
		fired = nth_fired(self->nth);
		self->faults += fired;
		if (r) {
			ASSERT_TRUE(fired);
			ASSERT_TRUE(err == ENOMEM || err == ENOBUFS)
				TH_LOG("N=%u: errno %d", n, err);
			ASSERT_TRUE(nothing_left()) TH_LOG("N=%u", n);
			continue;
		}
		for (t = 0; t < 4; t++)
			ASSERT_TRUE(tap_exists(t)) TH_LOG("N=%u tap%u", n, t);
		ASSERT_FALSE(tap_exists(4));
		if (!fired)
			break;
		ASSERT_EQ(0, syscall(__NR_delete_module, "ethertap", O_NONBLOCK))
			TH_LOG("N=%u", n);
		ASSERT_TRUE(nothing_left()) TH_LOG("N=%u", n);
	}
	ASSERT_LT(1, n);
	close(mfd);
	/* As run.sh loaded them; then the usual frame both ways. */
	ASSERT_EQ(0, unload_all());
	ASSERT_EQ(0, run("insmod %s/ethertap.ko max_taps=2", dir));
	ASSERT_EQ(0, run("insmod %s/netlink_dev.ko", dir));
	ASSERT_EQ(0, tap_setup(0));
	self->udp = udp_socket(0, PORT);
	ASSERT_LE(0, self->udp);
	r = tap_open(0, O_RDWR);
	ASSERT_LE(0, r);
	both_ways(_metadata, self, r);
	close(r);
	figures(self, "finit_module", n);
}

TEST_HARNESS_MAIN
