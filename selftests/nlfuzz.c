// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: a bounded, seeded, reproducible fuzzer of the raw netlink
 * interface (module ethertap_netlink, protocol ETHERTAP_NETLINK).
 *
 * The PRNG of lib.h, seeded from ETHERTAP_FUZZ_SEED (default 1), picks
 * ETHERTAP_NLFUZZ_OPS (default 3000) operations on up to NSOCK sockets:
 * socket(), bind() to random groups (and bad addresses), setsockopt()
 * (NETLINK_ADD_MEMBERSHIP/DROP_MEMBERSHIP of random groups, SO_RCVBUF,
 * NETLINK_PKTINFO, NETLINK_NO_ENOBUFS, unknown options), sendmsg() of
 * random lengths (0 to 70000) with random tap numbers in the padding and
 * structured or random contents (IPv4, IPv6, ARP, VLAN headers from
 * traffic.h's fuzz_frame(), nlmsghdr-like headers among them), recvmsg() with
 * random sizes and flags, close(), and UDP datagrams the stack sends
 * through tap0 and tap1 to the listeners.  The outcome of every call is
 * predicted from the documented ABI, including the errno a refused frame
 * leaves on its sender's socket for its next receive, and which sockets
 * receive each transmitted frame; tap0's and tap1's counters must match
 * the model exactly.  At the end both taps still move frames through
 * netlink and through /dev/tapN.
 */
#include <sys/uio.h>
#include <linux/netlink.h>

#include "lib.h"
#include "traffic.h"
#include "harness.h"

#define NSOCK		6
#define NL_PORT		7780
#define BUFSZ		70000
#define QMAX		3	/* frames a listener may hold (see op_xmit) */
#define MAX_WRITE	(ETHERTAP_PAD + 18 + ETHERTAP_MAX_MTU)

struct nsock {
	int fd;			/* -1: free slot */
	int bound;		/* has a port id: receives broadcasts */
	int joined[2];		/* groups of tap0 and tap1 */
	int err;		/* errno pending for the next receive */
	unsigned int queued;	/* frames waiting */
	size_t qlen[QMAX];	/* their lengths (padded) */
};

struct nlz {
	struct rng rng;
	uint64_t seed, op;
	struct nsock s[NSOCK];
	int up[2];
	int zero_enodata;	/* this kernel refuses empty messages */
	int udp[2];		/* bound to 10.99.N.1:NL_PORT */
	struct {
		uint64_t packets, bytes, too_short, too_long, down;
		uint64_t tx, no_reader;
	} m[2];
	uint8_t *buf, *rnd;
	unsigned long counts[16];
	uint64_t protos[FP_NR];	/* frames sent, per fuzz_frame() protocol */
	char msg[512];
};

enum {
	N_SOCKET, N_BIND, N_SETSOCKOPT, N_SEND, N_RECV, N_CLOSE, N_XMIT,
	N_LINK, N_NR
};

static const char *const nop_names[N_NR] = {
	"socket", "bind", "setsockopt", "sendmsg", "recvmsg", "close", "xmit",
	"link",
};

static int nfail(struct nlz *z, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(z->msg, sizeof(z->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static struct nsock *rnd_sock(struct nlz *z)
{
	struct nsock *s = &z->s[rng_below(&z->rng, NSOCK)];

	return s->fd >= 0 ? s : NULL;
}

/* A random group number, mostly tap0's, tap1's and their neighbours. */
/*
 * A group: tap0's or tap1's plain one, or any (invalid past the vnet
 * range); the vnet groups of tap0 and tap1, whose offloads change what
 * the stack sends, are offload.c's: those of tap2 and tap3 instead.
 */
static unsigned int rnd_group(struct nlz *z)
{
	unsigned int g;

	switch (rng_below(&z->rng, 4)) {
	case 0:
		g = rng_below(&z->rng, 2 * ETHERTAP_MAX_TAPS + 100);
		if (g == ETHERTAP_NLGRP_VNET(0) || g == ETHERTAP_NLGRP_VNET(1))
			g += 2;
		return g;
	default:
		return rng_below(&z->rng, 4);
	}
}

static int op_socket(struct nlz *z)
{
	struct nsock *s = &z->s[rng_below(&z->rng, NSOCK)];

	if (s->fd >= 0)
		return 0;
	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       ETHERTAP_NETLINK);
	if (s->fd < 0)
		return nfail(z, "socket: %s", strerror(errno));
	return 0;
}

static uint32_t port_id(int fd)
{
	struct sockaddr_nl a = {};
	socklen_t l = sizeof(a);

	return getsockname(fd, (struct sockaddr *)&a, &l) ? 0 : a.nl_pid;
}

/* bind(): groups 1 << N (N < 32) replace the first 32 memberships. */
static int op_bind(struct nlz *z)
{
	struct nsock *s = rnd_sock(z);
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	socklen_t alen = sizeof(a);
	int want = 0, r, t;

	if (!s)
		return 0;
	switch (rng_below(&z->rng, 8)) {
	case 0:
		a.nl_groups = (uint32_t)rng_next(&z->rng);
		break;
	case 1:
		a.nl_groups = ~0u;
		break;
	case 2:
		alen = rng_below(&z->rng, sizeof(a));	/* too short */
		want = EINVAL;
		break;
	case 3:
		a.nl_family = AF_INET;
		want = EINVAL;
		break;
	default:
		a.nl_groups = rng_below(&z->rng, 8);
		break;
	}
	/* A bound socket may bind again to its own port id only. */
	if (!want && s->bound) {
		if (rng_below(&z->rng, 4))
			a.nl_pid = port_id(s->fd);
		else
			want = EINVAL;
	}
	r = bind(s->fd, (struct sockaddr *)&a, alen);
	if (want)
		return r == -1 && errno == want ? 0 :
		       nfail(z, "bind (len %u family %u): %d %s, expected %s",
			     alen, a.nl_family, r, strerror(errno),
			     strerror(want));
	if (r)
		return nfail(z, "bind groups %#x: %s", a.nl_groups,
			     strerror(errno));
	s->bound = 1;
	for (t = 0; t < 2; t++)
		s->joined[t] = !!(a.nl_groups & (1u << t));
	return 0;
}

static int op_setsockopt(struct nlz *z)
{
	struct nsock *s = rnd_sock(z);
	int opt, lvl = SOL_NETLINK, want = 0, r;
	unsigned int val;

	if (!s)
		return 0;
	val = rng_below(&z->rng, 2);
	switch (rng_below(&z->rng, 8)) {
	case 0:
	case 1:
	case 2:
		opt = rng_below(&z->rng, 2) ? NETLINK_ADD_MEMBERSHIP :
		      NETLINK_DROP_MEMBERSHIP;
		val = rnd_group(z);
		if (!val || val > 2 * ETHERTAP_MAX_TAPS)
			want = EINVAL;
		break;
	case 3:
		/* Room for QMAX frames at least: no overrun to predict. */
		lvl = SOL_SOCKET;
		opt = SO_RCVBUF;
		val = 16384 + rng_below(&z->rng, 1 << 20);
		break;
	case 4:
		opt = NETLINK_PKTINFO;
		break;
	case 5:
		opt = NETLINK_NO_ENOBUFS;
		break;
	case 6:
		opt = NETLINK_BROADCAST_ERROR;
		break;
	default:
		opt = 100 + rng_below(&z->rng, 1000);	/* no such option */
		want = ENOPROTOOPT;
		break;
	}
	r = setsockopt(s->fd, lvl, opt, &val, sizeof(val));
	if (want)
		return r == -1 && errno == want ? 0 :
		       nfail(z, "setsockopt %d %d = %u: %d %s, expected %s",
			     lvl, opt, val, r, strerror(errno), strerror(want));
	if (r)
		return nfail(z, "setsockopt %d %d = %u: %s", lvl, opt, val,
			     strerror(errno));
	if (opt == NETLINK_ADD_MEMBERSHIP && val <= 2)
		s->joined[val - 1] = 1;
	if (opt == NETLINK_DROP_MEMBERSHIP && val <= 2)
		s->joined[val - 1] = 0;
	return 0;
}

/* The errno etnl_input() reports for @len bytes naming @tap (0: none). */
static int expect_send(struct nlz *z, unsigned int tap, size_t len,
		       const uint8_t *f)
{
	size_t max;

	if (len < ETHERTAP_PAD)
		return EINVAL;
	if (tap > 1)
		return ENXIO;		/* no such tap, or out of range */
	if (len < ETHERTAP_MIN_FRAME) {
		z->m[tap].too_short++;
		return EINVAL;
	}
	max = ETHERTAP_PAD + ETH_HDR + 1500;
	if (get16(f + ETHERTAP_PAD + 12) == 0x8100 ||
	    get16(f + ETHERTAP_PAD + 12) == 0x88a8)
		max += 4;
	if (len > max) {
		z->m[tap].too_long++;
		return EMSGSIZE;
	}
	if (!z->up[tap]) {
		z->m[tap].down++;
		return ENETDOWN;
	}
	z->m[tap].packets++;
	z->m[tap].bytes += len - ETHERTAP_PAD;
	return 0;
}

/*
 * sendmsg() to the kernel socket: the message is accepted whole and any
 * refusal comes back on the socket's next receive.  Contents: a UDP
 * datagram for the tap's socket, the headers of IPv4, IPv6, ARP or
 * VLAN-tagged IPv4 that the stack drops unanswered (fuzz_frame(), quiet),
 * or random bytes behind a header with an ethertype no one handles (or an
 * nlmsghdr where the padding would be).
 */
static int op_send(struct nlz *z)
{
	struct nsock *s = rnd_sock(z);
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	const uint8_t peer[6] = PEER_MAC;
	struct msghdr mh = { .msg_name = &k, .msg_namelen = sizeof(k) };
	struct iovec iov[2];
	unsigned int tap, udp = 0, proto = FP_OTHER;
	uint8_t *f = z->buf, mac[6];
	size_t len, cut;
	ssize_t r;
	int err;

	if (!s)
		return 0;
	switch (rng_below(&z->rng, 8)) {
	case 0:
		/* With ETHERTAP_NL_VNET, for a tap that does not exist. */
		tap = rng_below(&z->rng, 65536);
		if ((tap & ~ETHERTAP_NL_VNET) < 2)
			tap &= ~ETHERTAP_NL_VNET;
		break;
	case 1:
		tap = 2 + rng_below(&z->rng, ETHERTAP_MAX_TAPS);
		break;
	default:
		tap = rng_below(&z->rng, 2);
		break;
	}
	switch (rng_below(&z->rng, 6)) {
	case 0:
		len = rng_below(&z->rng, 20);
		break;
	case 1:
		len = ETHERTAP_PAD + ETH_HDR + 1500 - 2 + rng_below(&z->rng, 8);
		break;
	case 2:
		len = MAX_WRITE - 3 + rng_below(&z->rng, 6);
		break;
	case 3:
		len = rng_below(&z->rng, BUFSZ + 1);
		break;
	default:
		len = rng_below(&z->rng, 200);
		break;
	}
	memcpy(f, z->rnd + rng_below(&z->rng, 1000), len);
	if (len >= ETHERTAP_MIN_FRAME) {
		tap_mac(tap < 2 ? tap : 0, mac);
		memcpy(f + ETHERTAP_PAD, mac, 6);
		memcpy(f + ETHERTAP_PAD + 6, peer, 6);
		put16(f + ETHERTAP_PAD + 12, rng_below(&z->rng, 8) ? 0x88b5 :
		      rng_below(&z->rng, 2) ? 0x8100 : 0x88a8);
		if (tap < 2 && rng_below(&z->rng, 3) == 0) {
			len = build_to_tap(f, tap, NL_PORT, z->rnd,
					   rng_below(&z->rng, 1400));
			udp = 1;
			proto = FP_IPV4;
		} else if (rng_below(&z->rng, 2)) {
			/* Quiet: nothing the stack would answer. */
			proto = rng_below(&z->rng, FP_OTHER);
			fuzz_frame(&z->rng, proto, f, len, tap < 2 ? tap : 0,
				   true);
		}
	}
	if (len >= sizeof(struct nlmsghdr) && rng_below(&z->rng, 8) == 0) {
		struct nlmsghdr *h = (void *)f;

		h->nlmsg_len = rng_below(&z->rng, 2) ? len :
			       (uint32_t)rng_next(&z->rng);
		h->nlmsg_type = rng_below(&z->rng, 40);
		h->nlmsg_flags = rng_next(&z->rng);
		udp = 0;
		proto = FP_OTHER;
		tap = f[0] << 8 | f[1];
		if (len >= ETHERTAP_MIN_FRAME)	/* no IP datagram now */
			put16(f + ETHERTAP_PAD + 12, 0x88b5);
	}
	z->protos[proto]++;
	if (len >= ETHERTAP_PAD) {
		f[0] = tap >> 8;
		f[1] = tap;
	}
	if (len || !z->zero_enodata)
		err = expect_send(z, tap, len, f);
	else
		err = 0;

	/* One iovec or two, split anywhere. */
	cut = len ? rng_below(&z->rng, len + 1) : 0;
	iov[0].iov_base = f;
	iov[0].iov_len = cut;
	iov[1].iov_base = f + cut;
	iov[1].iov_len = len - cut;
	mh.msg_iov = iov;
	mh.msg_iovlen = rng_below(&z->rng, 2) ? 2 : 1;
	if (mh.msg_iovlen == 1)
		iov[0].iov_len = len;
	r = sendmsg(s->fd, &mh, 0);
	if (!len && z->zero_enodata) {
		/* Refused before anything else (kernels since 6.x). */
		if (r != -1 || errno != ENODATA)
			return nfail(z, "sendmsg of 0 bytes: %zd %s, expected ENODATA",
				     r, strerror(errno));
		return 0;
	}
	if (r != (ssize_t)len)
		return nfail(z, "sendmsg of %zu bytes for tap %u: %zd %s", len,
			     tap, r, strerror(errno));
	s->bound = 1;	/* autobound by sendmsg() */
	if (err)
		s->err = err;	/* replaces an earlier one, as sk_err does */
	if (udp && !err) {
		struct pollfd p = { .fd = z->udp[tap], .events = POLLIN };

		/* Delivered in the send: the datagram is there already. */
		if (poll(&p, 1, 0) != 1 ||
		    recv(z->udp[tap], z->buf, BUFSZ, 0) < 0)
			return nfail(z, "datagram for tap%u not received", tap);
	}
	return 0;
}

/* recvmsg(): the pending error first, then the queued frames in order. */
static int op_recv(struct nlz *z)
{
	struct nsock *s = rnd_sock(z);
	struct sockaddr_nl from;
	struct iovec iov;
	struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
			     .msg_iov = &iov, .msg_iovlen = 1 };
	char cbuf[64];
	size_t room, want;
	int flags = MSG_DONTWAIT;
	ssize_t r;

	if (!s)
		return 0;
	room = rng_below(&z->rng, 4) ? rng_below(&z->rng, 2000) :
	       rng_below(&z->rng, BUFSZ);
	if (rng_below(&z->rng, 4) == 0)
		flags |= MSG_PEEK;
	if (rng_below(&z->rng, 4) == 0)
		flags |= MSG_TRUNC;
	iov.iov_base = z->buf;
	iov.iov_len = room;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	r = recvmsg(s->fd, &mh, flags);
	if (s->err) {
		if (r != -1 || errno != s->err)
			return nfail(z, "recvmsg: %zd %s, expected %s pending",
				     r, strerror(errno), strerror(s->err));
		s->err = 0;
		return 0;
	}
	if (!s->queued) {
		if (r != -1 || errno != EAGAIN)
			return nfail(z, "recvmsg: %zd %s, expected EAGAIN", r,
				     strerror(errno));
		return 0;
	}
	want = flags & MSG_TRUNC ? s->qlen[0] :
	       room < s->qlen[0] ? room : s->qlen[0];
	if (r != (ssize_t)want)
		return nfail(z, "recvmsg (room %zu flags %#x): %zd %s, expected %zu",
			     room, flags, r, strerror(errno), want);
	if (!(flags & MSG_PEEK)) {
		s->queued--;
		memmove(s->qlen, s->qlen + 1, s->queued * sizeof(s->qlen[0]));
	}
	return 0;
}

static int op_close(struct nlz *z)
{
	struct nsock *s = rnd_sock(z);

	if (!s)
		return 0;
	if (close(s->fd))
		return nfail(z, "close: %s", strerror(errno));
	s->fd = -1;
	return 0;
}

/*
 * The stack sends a datagram through tapN: every bound socket in tapN's
 * group gets the frame, N in its padding; with none, it is dropped
 * (tx_dropped_no_reader).  Sent only while every such socket holds fewer
 * than QMAX frames, so that no receive buffer can be full.
 */
static int op_xmit(struct nlz *z)
{
	unsigned int tap = rng_below(&z->rng, 2), i, takers = 0;
	size_t plen = rng_below(&z->rng, 1400), flen = UDP_FRAME(plen);
	struct nsock *s;

	for (i = 0; i < NSOCK; i++) {
		s = &z->s[i];
		if (s->fd >= 0 && s->bound && s->joined[tap] &&
		    s->queued >= QMAX)
			return 0;
	}
	if (!z->up[tap])
		return 0;	/* nothing to send through */
	if (udp_send_peer(z->udp[tap], tap, NL_PORT, z->rnd, plen) !=
	    (ssize_t)plen)
		return nfail(z, "send through tap%u: %s", tap, strerror(errno));
	for (i = 0; i < NSOCK; i++) {
		s = &z->s[i];
		if (s->fd < 0 || !s->bound || !s->joined[tap])
			continue;
		s->qlen[s->queued++] = ETHERTAP_PAD + flen;
		takers++;
	}
	if (takers)
		z->m[tap].tx++;
	else
		z->m[tap].no_reader++;
	return 0;
}

static int op_link(struct nlz *z)
{
	unsigned int tap = rng_below(&z->rng, 2);

	z->up[tap] = !z->up[tap];
	if (tap_set_up(tap, z->up[tap]))
		return nfail(z, "ip link set tap%u %s", tap,
			     z->up[tap] ? "up" : "down");
	return 0;
}

static int do_nop(struct nlz *z)
{
	static const unsigned char weight[N_NR] = {
		[N_SOCKET] = 6, [N_BIND] = 6, [N_SETSOCKOPT] = 10,
		[N_SEND] = 25, [N_RECV] = 25, [N_CLOSE] = 3, [N_XMIT] = 20,
		[N_LINK] = 1,
	};
	unsigned int i, sum = 0, x;

	for (i = 0; i < N_NR; i++)
		sum += weight[i];
	x = rng_below(&z->rng, sum);
	for (i = 0; x >= weight[i]; i++)
		x -= weight[i];
	z->counts[i]++;
	switch (i) {
	case N_SOCKET:
		return op_socket(z);
	case N_BIND:
		return op_bind(z);
	case N_SETSOCKOPT:
		return op_setsockopt(z);
	case N_SEND:
		return op_send(z);
	case N_RECV:
		return op_recv(z);
	case N_CLOSE:
		return op_close(z);
	case N_XMIT:
		return op_xmit(z);
	default:
		return op_link(z);
	}
}

FIXTURE(nlz) {
	struct nlz *z;
	struct tap_stats st[2];
};

FIXTURE_SETUP(nlz)
{
	struct nlz *z;
	unsigned int i, t;

	self->z = NULL;
	REQUIRE_TAPS(return, 2);
	if (access("/sys/module/ethertap_netlink", F_OK))
		ASSERT_EQ(0, run("insmod %s/ethertap_netlink.ko",
				 getenv("ETHERTAP_MODDIR")));
	z = calloc(1, sizeof(*z));
	ASSERT_NE(NULL, z);
	self->z = z;
	z->seed = env_u64("ETHERTAP_FUZZ_SEED", 1);
	rng_seed(&z->rng, z->seed);
	z->buf = malloc(BUFSZ + 64);
	z->rnd = malloc(BUFSZ + 1000);
	ASSERT_TRUE(z->buf && z->rnd);
	for (i = 0; i < BUFSZ + 1000; i++)
		z->rnd[i] = rng_next(&z->rng);
	for (i = 0; i < NSOCK; i++)
		z->s[i].fd = -1;
	/* An empty message: ENODATA at once, or EINVAL on the next recv. */
	i = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, ETHERTAP_NETLINK);
	ASSERT_LE(0, (int)i);
	z->zero_enodata = send(i, "", 0, 0) == -1 && errno == ENODATA;
	if (!z->zero_enodata) {
		ASSERT_EQ(-1, recv(i, z->buf, 64, 0));
		ASSERT_EQ(EINVAL, errno);
	}
	close(i);
	printf("# nlfuzz: an empty message is %s\n", z->zero_enodata ?
	       "refused with ENODATA" : "sent, EINVAL on the next receive");
	for (t = 0; t < 2; t++) {
		ASSERT_EQ(0, tap_setup(t));
		z->up[t] = 1;
		z->udp[t] = udp_socket(t, NL_PORT);
		ASSERT_LE(0, z->udp[t]);
		ASSERT_EQ(0, tap_stats(t, &self->st[t]));
	}
}

FIXTURE_TEARDOWN(nlz)
{
	struct nlz *z = self->z;
	unsigned int i, t;

	if (!z)
		return;
	for (i = 0; i < NSOCK; i++)
		if (z->s[i].fd >= 0)
			close(z->s[i].fd);
	for (t = 0; t < 2; t++) {
		if (z->udp[t] > 0)
			close(z->udp[t]);
		tap_cleanup(t);
	}
	free(z->buf);
	free(z->rnd);
	free(z);
}

/* tapN still works: through netlink both ways, then through /dev/tapN. */
static void nl_works(struct __test_metadata *_metadata, struct nlz *z,
		     unsigned int t)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK,
				 .nl_groups = 1u << t };
	uint8_t *f = z->buf;
	size_t len;
	int fd, dev;

	fd = socket(AF_NETLINK, SOCK_RAW, ETHERTAP_NETLINK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(3, udp_send_peer(z->udp[t], t, NL_PORT, "end", 3));
	ASSERT_EQ(ETHERTAP_PAD + UDP_FRAME(3), recv(fd, f, BUFSZ, 0));
	ASSERT_EQ(t, get16(f));
	z->m[t].tx++;
	len = build_to_tap(f, t, NL_PORT, "nl", 2);
	f[1] = t;
	ASSERT_EQ(len, send(fd, f, len, 0));
	ASSERT_EQ(2, recv(z->udp[t], f, BUFSZ, 0));
	z->m[t].packets++;
	z->m[t].bytes += len - ETHERTAP_PAD;
	close(fd);

	dev = tap_open(t, O_RDWR);
	ASSERT_LE(0, dev);
	len = build_to_tap(f, t, NL_PORT, "dev", 3);
	ASSERT_EQ(len, write(dev, f, len));
	ASSERT_EQ(3, recv(z->udp[t], f, BUFSZ, 0));
	z->m[t].packets++;
	z->m[t].bytes += len - ETHERTAP_PAD;
	ASSERT_EQ(3, udp_send_peer(z->udp[t], t, NL_PORT, "end", 3));
	ASSERT_EQ(ETHERTAP_PAD + UDP_FRAME(3),
		  tap_read_wait(dev, f, BUFSZ, 2000));
	z->m[t].tx++;
	close(dev);
}

TEST_F_TIMEOUT(nlz, fuzz, 600)
{
	struct nlz *z = self->z;
	uint64_t ops = env_u64("ETHERTAP_NLFUZZ_OPS", 3000);
	struct tap_stats now;
	unsigned int t, c;

	printf("# nlfuzz: seed %" PRIu64 ", %" PRIu64 " ops "
	       "(ETHERTAP_FUZZ_SEED, ETHERTAP_NLFUZZ_OPS)\n", z->seed, ops);
	fflush(stdout);
	for (z->op = 0; z->op < ops; z->op++) {
		if (do_nop(z)) {
			TH_LOG("seed %" PRIu64 " op %" PRIu64 ": %s", z->seed,
			       z->op, z->msg);
			ASSERT_TRUE(0);
		}
	}
	for (c = 0; c < N_NR; c++)
		printf("#   %-10s %lu\n", nop_names[c], z->counts[c]);
	for (c = 0; c < NSOCK; c++) {
		if (z->s[c].fd >= 0)
			ASSERT_EQ(0, close(z->s[c].fd));
		z->s[c].fd = -1;
	}
	for (t = 0; t < 2; t++) {
		while (udp_pending(z->udp[t]))
			recv(z->udp[t], z->buf, BUFSZ, 0);
		if (!z->up[t]) {
			ASSERT_EQ(0, tap_set_up(t, 1));
			z->up[t] = 1;
		}
		nl_works(_metadata, z, t);
	}

	for (t = 0; t < 2; t++) {
		const struct stat_want ck[] = {
			{ S_RX_PACKETS, z->m[t].packets },
			{ S_RX_BYTES, z->m[t].bytes },
			{ E_RX_ERROR_TOO_SHORT, z->m[t].too_short },
			{ E_RX_ERROR_TOO_LONG, z->m[t].too_long },
			{ S_RX_LENGTH_ERRORS, z->m[t].too_short + z->m[t].too_long },
			{ E_RX_DROPPED_DOWN, z->m[t].down },
			{ E_RX_DROPPED_NOMEM, 0 },
			{ S_TX_PACKETS, z->m[t].tx },
			{ E_TX_DROPPED_NO_READER, z->m[t].no_reader },
			{ S_TX_DROPPED, z->m[t].no_reader },
		};

		EXPECT_EQ(0, tap_stats_model(t, &self->st[t], ck, ARRAY_SIZE(ck),
					     z->seed, &now));
		printf("# nlfuzz: tap%u rx %" PRIu64 " (short %" PRIu64
		       ", long %" PRIu64 ", down %" PRIu64 "), tx %" PRIu64
		       ", no listener %" PRIu64 "\n", t, z->m[t].packets,
		       z->m[t].too_short, z->m[t].too_long, z->m[t].down,
		       z->m[t].tx, z->m[t].no_reader);
	}
	printf("# nlfuzz: %" PRIu64 " ops, seed %" PRIu64 "\n", z->op, z->seed);
	printf("# figure: operations_fuzzed %" PRIu64 "\n", z->op);
	printf("# figure: frames_moved %" PRIu64 "\n",
	       z->m[0].packets + z->m[1].packets + z->m[0].tx + z->m[1].tx);
	/* 3000 ops send some 30 frames of each protocol. */
	EXPECT_EQ(0, fuzz_protos_report(z->protos, z->op, 3000));
}

TEST_HARNESS_MAIN
