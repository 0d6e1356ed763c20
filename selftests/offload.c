// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: the virtio-net header and offloads of /dev/tapN
 * (ETHERTAP_F_VNET_HDR, ETHERTAPSETOFFLOAD, ETHERTAPGETOFFLOAD).
 *
 * The ioctls and their errors (TUN/TAP's still ENOTTY); tap0's features
 * following the offloads of its reading files; on one tap at once a
 * classic reader, vnet readers without offloads, with TUN_F_CSUM, with
 * TSO4, with TSO6 and with all of them, and a raw netlink listener, each
 * checked frame by frame: a frame it may take (its header exact, its
 * checksums complete unless NEEDS_CSUM), and, segmented and checksummed
 * in user space as a virtio device would, byte for byte what the classic
 * reader read; tx_packets and tx_bytes counting each frame once as the
 * most capable reader got it.  The traffic: a UDP datagram, TCPv4 and
 * TCPv6 GSO frames injected by a packet socket, a real TCP connection
 * (its handshake answered through /dev/tap0) whose TSO frames must reach
 * the TSO4 reader as GSO, and UDP GSO (UDP_SEGMENT, kernels with USO).
 * Writes: GSO frames up to 64 KB delivered as one GSO packet (also with
 * the checksum left alone: flags 0), a partial checksum taken by a socket
 * and completed when forwarded to tap1, each refused header with EINVAL and rx_error_vnet_hdr, the length limits;
 * batch mode with the header both ways.  Every counter exact.
 */
#include <sys/uio.h>
#include <sys/utsname.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <netinet/tcp.h>

#include "lib.h"
#include "harness.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif
#ifndef SOL_UDP
#define SOL_UDP		17
#endif

#define VH		ETHERTAP_VNET_HDR_LEN
#define MAXF		256		/* frames one reader may collect */
#define BUF		(ETHERTAP_PAD + VH + 70000)
#define MSS4		1448
#define MSS6		1428
#define TCP_PORT	5001		/* the peer's port of the real connection */
#define SINK_PORT	9		/* closed: the stack answers RST */

#define F_GSO_ALL	(TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)
#define F_USO_ALL	(TUN_F_USO4 | TUN_F_USO6)

/* Whether this kernel has USO (6.2 and later). */
static bool have_uso(void)
{
	struct utsname u;
	unsigned int maj = 0, min = 0;

	if (uname(&u) || sscanf(u.release, "%u.%u", &maj, &min) != 2)
		return false;
	return maj > 6 || (maj == 6 && min >= 2);
}

/* ---- frames ---- */

struct fr {
	struct virtio_net_hdr h;
	size_t len;
	uint8_t *f;			/* the Ethernet frame */
};

struct frames {
	unsigned int n;
	struct fr x[MAXF];
};

static void frames_free(struct frames *s)
{
	unsigned int i;

	for (i = 0; i < s->n && i < MAXF; i++)
		free(s->x[i].f);
	s->n = 0;
}

static int frames_add(struct frames *s, const struct virtio_net_hdr *h,
		      const uint8_t *f, size_t len)
{
	struct fr *x;

	if (s->n >= MAXF)
		return -1;
	x = &s->x[s->n];
	x->f = malloc(len ? len : 1);
	if (!x->f)
		return -1;
	memcpy(x->f, f, len);
	x->len = len;
	if (h)
		x->h = *h;
	else
		memset(&x->h, 0, sizeof(x->h));
	s->n++;
	return 0;
}

/* Where the headers of an IPv4 or IPv6 TCP or UDP frame are. */
struct l4info {
	bool v6;
	uint8_t proto;
	size_t l4;			/* offset of the TCP/UDP header */
	size_t thl;			/* its length */
};

static int parse(const uint8_t *f, size_t len, struct l4info *o)
{
	uint16_t type;

	if (len < ETH_HDR + 40)
		return -1;
	type = get16(f + 12);
	if (type == 0x0800) {
		o->v6 = false;
		o->proto = f[ETH_HDR + 9];
		o->l4 = ETH_HDR + (f[ETH_HDR] & 15) * 4;
	} else if (type == 0x86dd) {
		o->v6 = true;
		o->proto = f[ETH_HDR + 6];
		o->l4 = ETH_HDR + 40;
	} else {
		return -1;
	}
	if (o->proto == IPPROTO_TCP && len >= o->l4 + 20)
		o->thl = (f[o->l4 + 12] >> 4) * 4;
	else if (o->proto == IPPROTO_UDP)
		o->thl = UDP_HDR;
	else
		return -1;
	return len >= o->l4 + o->thl ? 0 : -1;
}

/* The pseudo header's sum for an L4 length of @l4len. */
static uint32_t pseudo_sum(const uint8_t *f, const struct l4info *o,
			   size_t l4len)
{
	const uint8_t *ip = f + ETH_HDR;
	uint32_t sum;

	if (o->v6)
		sum = csum_add(0, ip + 8, 32);
	else
		sum = csum_add(0, ip + 12, 8);
	return sum + o->proto + (l4len >> 16) + (l4len & 0xffff);
}

static size_t csum_field(const struct l4info *o)
{
	return o->l4 + (o->proto == IPPROTO_TCP ? 16 : 6);
}

/* Fill in the complete L4 checksum (and the IPv4 header's) of @f. */
static void csum_complete(uint8_t *f, size_t len, const struct l4info *o)
{
	size_t l4len = len - o->l4;
	uint16_t c;

	if (!o->v6) {
		put16(f + ETH_HDR + 10, 0);
		put16(f + ETH_HDR + 10,
		      csum_fold(csum_add(0, f + ETH_HDR, o->l4 - ETH_HDR)));
	}
	put16(f + csum_field(o), 0);
	c = csum_fold(csum_add(pseudo_sum(f, o, l4len), f + o->l4, l4len));
	if (!c && o->proto == IPPROTO_UDP)
		c = 0xffff;
	put16(f + csum_field(o), c);
}

/* The partial checksum a NEEDS_CSUM frame carries: the pseudo header's. */
static void csum_partial(uint8_t *f, size_t len, const struct l4info *o)
{
	put16(f + csum_field(o), ~csum_fold(pseudo_sum(f, o, len - o->l4)));
}

/* Are the IPv4 header checksum and the L4 checksum of @f right? */
static bool csum_ok(const uint8_t *f, size_t len)
{
	struct l4info o;

	if (parse(f, len, &o))
		return true;	/* not ours to check */
	if (!o.v6 && csum_fold(csum_add(0, f + ETH_HDR, o.l4 - ETH_HDR)))
		return false;
	if (o.proto == IPPROTO_UDP && !get16(f + csum_field(&o)))
		return false;
	return !csum_fold(csum_add(pseudo_sum(f, &o, len - o.l4), f + o.l4,
				   len - o.l4));
}

/*
 * Build at @f an Ethernet frame from @smac to @dmac, IPv4 or IPv6 with
 * TCP or UDP from @sa:@sport to @da:@dport (4 or 16 bytes each), TCP
 * sequence @seq and @flags with @olen bytes of options @opt, @plen
 * payload bytes (a pattern from @seq); checksums complete, or the L4 one
 * partial if @partial.  Returns its length.
 */
struct flow {
	bool v6;
	uint8_t proto;
	uint8_t sa[16], da[16];
	uint16_t sport, dport;
	const uint8_t *smac, *dmac;
};

static size_t build(uint8_t *f, const struct flow *fl, uint32_t seq,
		    uint32_t ack, uint8_t flags, const uint8_t *opt,
		    size_t olen, size_t plen, bool partial)
{
	static uint16_t ip_id = 0x4321;
	size_t thl = fl->proto == IPPROTO_TCP ? 20 + olen : UDP_HDR;
	size_t l3 = fl->v6 ? 40 : IP_HDR, i;
	uint8_t *ip = f + ETH_HDR, *th = ip + l3;
	struct l4info o;

	memcpy(f, fl->dmac, 6);
	memcpy(f + 6, fl->smac, 6);
	put16(f + 12, fl->v6 ? 0x86dd : 0x0800);
	memset(ip, 0, l3 + thl);
	if (fl->v6) {
		ip[0] = 0x60;
		put16(ip + 4, thl + plen);
		ip[6] = fl->proto;
		ip[7] = 64;
		memcpy(ip + 8, fl->sa, 16);
		memcpy(ip + 24, fl->da, 16);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, l3 + thl + plen);
		put16(ip + 4, ip_id++);
		put16(ip + 6, 0x4000);		/* DF */
		ip[8] = 64;
		ip[9] = fl->proto;
		memcpy(ip + 12, fl->sa, 4);
		memcpy(ip + 16, fl->da, 4);
	}
	put16(th, fl->sport);
	put16(th + 2, fl->dport);
	if (fl->proto == IPPROTO_TCP) {
		put16(th + 4, seq >> 16);
		put16(th + 6, seq);
		put16(th + 8, ack >> 16);
		put16(th + 10, ack);
		th[12] = (thl / 4) << 4;
		th[13] = flags;
		put16(th + 14, 65535);
		memcpy(th + 20, opt, olen);
	} else {
		put16(th + 4, UDP_HDR + plen);
	}
	for (i = 0; i < plen; i++)
		th[thl + i] = (i * 7 + seq + (i >> 8)) & 0xff;
	parse(f, ETH_HDR + l3 + thl + plen, &o);
	if (partial) {
		if (!fl->v6)
			put16(ip + 10, csum_fold(csum_add(0, ip, l3)));
		csum_partial(f, ETH_HDR + l3 + thl + plen, &o);
	} else {
		csum_complete(f, ETH_HDR + l3 + thl + plen, &o);
	}
	return ETH_HDR + l3 + thl + plen;
}

/* A flow between tapN's address 10.99.N.1 and its neighbour 10.99.N.2. */
static void flow4(struct flow *fl, uint8_t proto, unsigned int n, bool out,
		  uint16_t sport, uint16_t dport)
{
	static const uint8_t peer[6] = PEER_MAC;
	static uint8_t mac[2][6];
	char a[32], b[32];
	uint32_t s, d;

	tap_mac(n, mac[n & 1]);
	snprintf(a, sizeof(a), TAP_NET ".1", n);
	snprintf(b, sizeof(b), TAP_NET ".2", n);
	s = inet_be(out ? a : b);
	d = inet_be(out ? b : a);
	memset(fl, 0, sizeof(*fl));
	fl->proto = proto;
	memcpy(fl->sa, &s, 4);
	memcpy(fl->da, &d, 4);
	fl->sport = sport;
	fl->dport = dport;
	fl->smac = out ? mac[n & 1] : peer;
	fl->dmac = out ? peer : mac[n & 1];
}

static void flow6(struct flow *fl, uint8_t proto, uint16_t sport,
		  uint16_t dport)
{
	static const uint8_t peer[6] = PEER_MAC;
	static uint8_t mac[6];

	tap_mac(0, mac);
	memset(fl, 0, sizeof(*fl));
	fl->v6 = true;
	fl->proto = proto;
	inet_pton(AF_INET6, "fd00:99::1", fl->sa);
	inet_pton(AF_INET6, "fd00:99::2", fl->da);
	fl->sport = sport;
	fl->dport = dport;
	fl->smac = mac;
	fl->dmac = peer;
}

static void hdr_set(struct virtio_net_hdr *h, uint8_t flags, uint8_t gso_type,
		    uint16_t hdr_len, uint16_t gso_size, uint16_t csum_start,
		    uint16_t csum_offset)
{
	h->flags = flags;
	h->gso_type = gso_type;
	h->hdr_len = htole16(hdr_len);
	h->gso_size = htole16(gso_size);
	h->csum_start = htole16(csum_start);
	h->csum_offset = htole16(csum_offset);
}

/* The header of a NEEDS_CSUM (and GSO if @gso_size) frame @f built above. */
static void hdr_for(struct virtio_net_hdr *h, const uint8_t *f, size_t len,
		    uint16_t gso_size)
{
	uint8_t type = VIRTIO_NET_HDR_GSO_NONE;
	struct l4info o;

	parse(f, len, &o);
	if (gso_size)
		type = o.proto == IPPROTO_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4 :
		       o.v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
			      VIRTIO_NET_HDR_GSO_TCPV4;
	hdr_set(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, type,
		gso_size ? o.l4 + o.thl : 0, gso_size, o.l4,
		csum_field(&o) - o.l4);
}

/*
 * Segment a GSO frame as the kernel does (IPv4 IDs counting up, TCP
 * sequence numbers following, FIN and PSH on the last segment only, CWR
 * on the first only, UDP lengths per segment), every checksum complete,
 * and append the segments to @out.
 */
static int segment(const uint8_t *f, size_t len, unsigned int mss,
		   struct frames *out)
{
	uint8_t *seg = malloc(len);
	size_t hl, pl, off, n;
	struct l4info o;
	unsigned int i;
	uint32_t seq;
	int ret = 0;

	if (!seg || parse(f, len, &o) || !mss) {
		free(seg);
		return -1;
	}
	hl = o.l4 + o.thl;
	pl = len - hl;
	seq = (uint32_t)get16(f + o.l4 + 4) << 16 | get16(f + o.l4 + 6);
	for (i = 0, off = 0; off < pl; i++, off += n) {
		n = pl - off < mss ? pl - off : mss;
		memcpy(seg, f, hl);
		memcpy(seg + hl, f + hl + off, n);
		if (o.v6) {
			put16(seg + ETH_HDR + 4, o.thl + n);
		} else {
			put16(seg + ETH_HDR + 2, hl - ETH_HDR + n);
			put16(seg + ETH_HDR + 4, get16(f + ETH_HDR + 4) + i);
		}
		if (o.proto == IPPROTO_TCP) {
			put16(seg + o.l4 + 4, (seq + off) >> 16);
			put16(seg + o.l4 + 6, seq + off);
			if (off + n < pl)
				seg[o.l4 + 13] &= ~0x09;	/* FIN, PSH */
			if (i)
				seg[o.l4 + 13] &= ~0x80;	/* CWR */
		} else {
			put16(seg + o.l4 + 4, UDP_HDR + n);
		}
		csum_complete(seg, hl + n, &o);
		if (frames_add(out, NULL, seg, hl + n))
			ret = -1;
	}
	free(seg);
	return ret;
}

/* ---- readers ---- */

struct rd {
	const char *name;
	int fd;
	unsigned int flags;		/* ETHERTAP_F_* */
	unsigned int off;		/* TUN_F_* */
	bool nl;			/* a raw netlink listener */
	struct frames got;
};

/*
 * A raw netlink listener of tap@n (non-blocking): ETHERTAP_NLGRP_VNET(n)
 * if @vnet, else ETHERTAP_NLGRP(n), joined once bound (an unbound socket
 * receives nothing); room for many 64 KB messages.
 */
static int nl_listen(unsigned int n, bool vnet)
{
	int g = vnet ? ETHERTAP_NLGRP_VNET(n) : ETHERTAP_NLGRP(n);
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	int fd, room = 8 << 20;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, ETHERTAP_NETLINK);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &room, sizeof(room)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Open @r on /dev/tap@n (non-blocking) with its flags and offloads. */
static int rd_open(struct rd *r, unsigned int n)
{
	r->got.n = 0;
	if (r->nl) {
		r->fd = nl_listen(n, r->flags & ETHERTAP_F_VNET_HDR);
		return r->fd < 0 ? -1 : 0;
	}
	r->fd = tap_open(n, O_RDWR | O_NONBLOCK);
	if (r->fd < 0)
		return -1;
	if (ioctl(r->fd, ETHERTAPSETFLAGS, &r->flags))
		return -1;
	return ioctl(r->fd, ETHERTAPSETOFFLOAD, &r->off);
}

static void rd_close(struct rd *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	frames_free(&r->got);
}

/*
 * Read every frame queued on @r: the first within @ms, the others until
 * none comes for 200 ms.  0, or -1 after printing what was wrong.
 */
static int rd_collect(struct rd *r, int ms)
{
	bool vnet = r->flags & ETHERTAP_F_VNET_HDR;
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	uint8_t *b = malloc(BUF);
	size_t skip = ETHERTAP_PAD + (vnet ? VH : 0);
	int ret = 0;
	ssize_t l;

	if (!b)
		return -1;
	while (poll(&p, 1, r->got.n ? 200 : ms) == 1) {
		l = read(r->fd, b, BUF);
		if (l < 0 && errno == EAGAIN)
			continue;
		if (l < (ssize_t)skip + ETH_HDR) {
			fprintf(stderr, "# %s: read %zd (%s)\n", r->name, l,
				l < 0 ? strerror(errno) : "short");
			ret = -1;
			break;
		}
		if (!r->nl && (b[0] || b[1])) {
			fprintf(stderr, "# %s: padding %02x %02x\n", r->name,
				b[0], b[1]);
			ret = -1;
		}
		if (r->nl && get16(b) != (vnet ? ETHERTAP_NL_VNET : 0)) {
			fprintf(stderr, "# %s: %#x in the padding\n",
				r->name, get16(b));
			ret = -1;
		}
		if (frames_add(&r->got,
			       vnet ? (struct virtio_net_hdr *)(b + 2) : NULL,
			       b + skip, l - skip)) {
			ret = -1;
			break;
		}
	}
	free(b);
	return ret;
}

/* Print a problem with frame @i of @r; 1. */
static int
problem(const struct rd *r, unsigned int i, const struct fr *x,
	const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "# %s frame %u (%zu bytes): ", r->name, i, x->len);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	return 1;
}

/*
 * May @r take frame @x as it came?  Then append what a virtio device
 * makes of it (segments, checksum completed) to @out.  Prints and
 * counts each problem.
 */
static int rd_expand(const struct rd *r, const struct fr *x, unsigned int i,
		     struct frames *out)
{
	const struct virtio_net_hdr *h = &x->h;
	uint16_t hdr_len = le16toh(h->hdr_len), gso_size = le16toh(h->gso_size);
	uint16_t start = le16toh(h->csum_start), cofs = le16toh(h->csum_offset);
	unsigned int off = r->flags & ETHERTAP_F_VNET_HDR ? r->off : 0;
	uint8_t type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	uint8_t *c = NULL;
	struct l4info o;
	int bad = 0;

#define BAD(...) (bad += problem(r, i, x, __VA_ARGS__))

	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		BAD("flags %#x\n", h->flags);
	if (!h->flags) {
		if (h->gso_type || hdr_len || gso_size || start || cofs)
			BAD("flags 0 but header %02x %u %u %u %u\n",
			    h->gso_type, hdr_len, gso_size, start, cofs);
		if (!csum_ok(x->f, x->len))
			BAD("checksum not complete\n");
		if (x->len > ETH_HDR + 1500)
			BAD("longer than the MTU\n");
		return bad || frames_add(out, NULL, x->f, x->len) ? -1 : 0;
	}
	if (!(off & TUN_F_CSUM))
		BAD("NEEDS_CSUM without TUN_F_CSUM\n");
	if (parse(x->f, x->len, &o)) {
		BAD("NEEDS_CSUM on a frame not TCP/UDP\n");
		return -1;
	}
	if (start != o.l4 || cofs != csum_field(&o) - o.l4)
		BAD("csum_start %u csum_offset %u, expected %zu %zu\n", start,
		    cofs, o.l4, csum_field(&o) - o.l4);
	c = malloc(x->len);
	if (!c)
		return -1;
	memcpy(c, x->f, x->len);
	/* As a virtio device: the sum from csum_start, complemented. */
	if (start + cofs + 2 <= x->len) {
		uint16_t v = csum_fold(csum_add(0, c + start, x->len - start));

		if (!v && o.proto == IPPROTO_UDP)
			v = 0xffff;
		put16(c + start + cofs, v);
	}
	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if (hdr_len || gso_size)
			BAD("no GSO but hdr_len %u gso_size %u\n", hdr_len,
			    gso_size);
		if (x->len > ETH_HDR + 1500)
			BAD("longer than the MTU without GSO\n");
		if (!csum_ok(c, x->len))
			BAD("checksum wrong once completed\n");
		if (frames_add(out, NULL, c, x->len))
			bad++;
		free(c);
		return bad ? -1 : 0;
	}
	if ((type == VIRTIO_NET_HDR_GSO_TCPV4 &&
	     (!(off & TUN_F_TSO4) || o.v6 || o.proto != IPPROTO_TCP)) ||
	    (type == VIRTIO_NET_HDR_GSO_TCPV6 &&
	     (!(off & TUN_F_TSO6) || !o.v6 || o.proto != IPPROTO_TCP)) ||
	    (type == VIRTIO_NET_HDR_GSO_UDP_L4 &&
	     (!(off & (o.v6 ? TUN_F_USO6 : TUN_F_USO4)) ||
	      o.proto != IPPROTO_UDP)) ||
	    (type != VIRTIO_NET_HDR_GSO_TCPV4 &&
	     type != VIRTIO_NET_HDR_GSO_TCPV6 &&
	     type != VIRTIO_NET_HDR_GSO_UDP_L4) ||
	    ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(off & TUN_F_TSO_ECN)))
		BAD("gso_type %#x for offloads %#x\n", h->gso_type, off);
	if (!gso_size || gso_size > 1500 - (o.l4 - ETH_HDR) - o.thl)
		BAD("gso_size %u\n", gso_size);
	if (hdr_len > x->len)
		BAD("hdr_len %u\n", hdr_len);
	/* A GSO frame's checksum field holds the whole frame's sum. */
	if (!csum_ok(c, x->len))
		BAD("GSO checksum wrong once completed\n");
	if (!bad && segment(x->f, x->len, gso_size, out))
		BAD("cannot segment\n");
	free(c);
	return bad ? -1 : 0;
#undef BAD
}

/*
 * Check every reader of @rs (@nr of them; rs[0] the classic one) against
 * the classic one: frames it may take, the same traffic once expanded.
 * Returns the number of problems.
 */
static int rd_check(struct rd *rs, unsigned int nr)
{
	const struct frames *want = &rs[0].got;
	struct frames *exp = calloc(1, sizeof(*exp));
	unsigned int k, i;
	int bad = 0;

	if (!exp)
		return 1;
	for (i = 0; i < want->n; i++) {
		if (!csum_ok(want->x[i].f, want->x[i].len) ||
		    want->x[i].len > ETH_HDR + 1500) {
			fprintf(stderr, "# %s frame %u: bad checksum or long\n",
				rs[0].name, i);
			bad++;
		}
	}
	for (k = 1; k < nr; k++) {
		for (i = 0; i < rs[k].got.n; i++)
			if (rd_expand(&rs[k], &rs[k].got.x[i], i, exp))
				bad++;
		if (exp->n != want->n) {
			fprintf(stderr, "# %s: %u frames (%u segmented), %s %u\n",
				rs[k].name, rs[k].got.n, exp->n, rs[0].name,
				want->n);
			bad++;
		}
		for (i = 0; i < exp->n && i < want->n; i++) {
			if (exp->x[i].len == want->x[i].len &&
			    !memcmp(exp->x[i].f, want->x[i].f, want->x[i].len))
				continue;
			fprintf(stderr, "# %s: frame %u (%zu bytes) is not %s's (%zu)\n",
				rs[k].name, i, exp->x[i].len, rs[0].name,
				want->x[i].len);
			bad++;
		}
		frames_free(exp);
	}
	free(exp);
	return bad;
}

static unsigned int gso_frames(const struct rd *r)
{
	unsigned int i, n = 0;

	for (i = 0; i < r->got.n; i++)
		n += r->got.x[i].h.gso_type != VIRTIO_NET_HDR_GSO_NONE;
	return n;
}

static uint64_t frame_bytes(const struct rd *r)
{
	uint64_t b = 0;
	unsigned int i;

	for (i = 0; i < r->got.n; i++)
		b += r->got.x[i].len;
	return b;
}

/* ---- the fixture ---- */

enum { R_CLASSIC, R_VNET, R_CSUM, R_TSO4, R_TSO6, R_USO, R_FULL, R_NL,
       R_NL_VNET, R_NR };

FIXTURE(ol) {
	struct tap_fixture t;		/* tap0, /dev/tap0 classic */
	struct rd r[R_NR];
	bool uso;
	int fwd;			/* ip_forward before, or -1 */
	uint8_t buf[BUF];
	uint8_t frame[BUF];
};

FIXTURE_SETUP(ol)
{
	unsigned int uso_bits, k;
	const char *err;

	self->t.fd = -1;
	self->t.sock = -1;
	self->fwd = -1;
	for (k = 0; k < R_NR; k++)
		self->r[k].fd = -1;
	REQUIRE_TAPS(return, 2);
	err = tap_fixture_setup(&self->t, O_RDWR | O_NONBLOCK);
	ASSERT_TRUE(err == NULL) TH_LOG("%s: %s", err, strerror(errno));
	/* The fixture's file is no reader of what the tests check. */
	close(self->t.fd);
	self->t.fd = tap_open(0, O_WRONLY | O_NONBLOCK);
	ASSERT_LE(0, self->t.fd);
	self->uso = have_uso();
	uso_bits = self->uso ? F_USO_ALL : 0;
	{
		const struct rd init[R_NR] = {
			[R_CLASSIC] = { "classic", -1, 0, 0 },
			[R_VNET] = { "vnet", -1, ETHERTAP_F_VNET_HDR, 0 },
			[R_CSUM] = { "vnet csum", -1, ETHERTAP_F_VNET_HDR,
				     TUN_F_CSUM },
			[R_TSO4] = { "vnet tso4", -1, ETHERTAP_F_VNET_HDR,
				     TUN_F_CSUM | TUN_F_TSO4 },
			[R_TSO6] = { "vnet tso6", -1, ETHERTAP_F_VNET_HDR,
				     TUN_F_CSUM | TUN_F_TSO6 },
			[R_USO] = { "vnet uso", -1, ETHERTAP_F_VNET_HDR,
				    TUN_F_CSUM | uso_bits },
			[R_FULL] = { "vnet all", -1, ETHERTAP_F_VNET_HDR,
				     TUN_F_CSUM | F_GSO_ALL | uso_bits },
			[R_NL] = { "netlink", -1, 0, 0, true },
			[R_NL_VNET] = { "netlink vnet", -1,
					ETHERTAP_F_VNET_HDR,
					TUN_F_CSUM | F_GSO_ALL | uso_bits,
					true },
		};

		memcpy(self->r, init, sizeof(init));
	}
}

FIXTURE_TEARDOWN(ol)
{
	unsigned int k;
	char v[16];

	for (k = 0; k < R_NR; k++)
		rd_close(&self->r[k]);
	tap_fixture_close(&self->t);
	if (self->fwd >= 0) {
		snprintf(v, sizeof(v), "%d", self->fwd);
		write_str("/proc/sys/net/ipv4/ip_forward", v);
	}
	tap_cleanup(0);
	tap_cleanup(1);
}

/* Open every reader of the set on tap0 (the netlink one needs its module). */
static void open_all(struct __test_metadata *_metadata, FIXTURE_DATA(ol) *self)
{
	unsigned int k;

	if (access("/sys/module/ethertap_netlink", F_OK))
		ASSERT_EQ(0, run("insmod %s/ethertap_netlink.ko",
				 getenv("ETHERTAP_MODDIR")));
	for (k = 0; k < R_NR; k++) {
		ASSERT_EQ(0, rd_open(&self->r[k], 0))
			TH_LOG("%s: %s", self->r[k].name, strerror(errno));
	}
}

/*
 * Collect every reader's frames, check them against the classic one's,
 * and the counters: tx_packets and tx_bytes as the reader with every
 * offload got them, @rx_packets/@rx_bytes, nothing else.
 */
static void check_all(struct __test_metadata *_metadata, FIXTURE_DATA(ol) *self,
		      uint64_t rx_packets, uint64_t rx_bytes)
{
	struct tap_stats d = { .v = {
		[S_RX_PACKETS] = rx_packets, [S_RX_BYTES] = rx_bytes } };
	unsigned int k;

	for (k = 0; k < R_NR; k++) {
		ASSERT_EQ(0, rd_collect(&self->r[k], 1000))
			TH_LOG("%s", self->r[k].name);
	}
	ASSERT_LT(0, self->r[R_CLASSIC].got.n);
	EXPECT_EQ(0, rd_check(self->r, R_NR));
	d.v[S_TX_PACKETS] = self->r[R_FULL].got.n;
	d.v[S_TX_BYTES] = frame_bytes(&self->r[R_FULL]);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
	for (k = 0; k < R_NR; k++)
		TH_LOG("%s: %u frames, %u GSO", self->r[k].name,
		       self->r[k].got.n, gso_frames(&self->r[k]));
}

static int get_off(int fd, unsigned int *v)
{
	*v = 0xdead;
	return ioctl(fd, ETHERTAPGETOFFLOAD, v);
}

/* ---- the ioctls ---- */

TEST_F(ol, flags)
{
	static const unsigned int ok[] = {
		0, ETHERTAP_F_BATCH, ETHERTAP_F_VNET_HDR,
		ETHERTAP_F_BATCH | ETHERTAP_F_VNET_HDR,
	};
	static const unsigned int bad[] = {
		4, 8, 0x80, 0x8000, 0x10000, 0x80000000, 0xffffffff,
		ETHERTAP_F_VNET_HDR | 4,
	};
	unsigned int i, v;
	int fd = tap_open(0, O_RDWR);

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		v = ok[i];
		EXPECT_EQ(0, ioctl(fd, ETHERTAPSETFLAGS, &v)) TH_LOG("%#x", v);
		v = 0xdead;
		EXPECT_EQ(0, ioctl(fd, ETHERTAPGETFLAGS, &v));
		EXPECT_EQ(ok[i], v);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		v = bad[i];
		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, ETHERTAPSETFLAGS, &v)) TH_LOG("%#x", v);
		EXPECT_EQ(EINVAL, errno);
		v = 0xdead;
		EXPECT_EQ(0, ioctl(fd, ETHERTAPGETFLAGS, &v));
		EXPECT_EQ(ok[ARRAY_SIZE(ok) - 1], v);	/* unchanged */
	}
	close(fd);
}

TEST_F(ol, offload_ioctls)
{
	unsigned int good[] = {
		0, TUN_F_CSUM, TUN_F_CSUM | TUN_F_TSO4,
		TUN_F_CSUM | TUN_F_TSO6, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN,
		TUN_F_CSUM | F_GSO_ALL,
	};
	unsigned int nocsum[] = {
		TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN, TUN_F_USO4, TUN_F_USO6,
		F_GSO_ALL, TUN_F_TSO4 | TUN_F_USO4,
	};
	unsigned int unknown[] = {
		TUN_F_UFO, 0x80, 0x100, 0x8000, 0x80000000, 0xffffffff,
		TUN_F_CSUM | 0x80,
	};
	unsigned int uso[] = {
		TUN_F_CSUM | TUN_F_USO4, TUN_F_CSUM | TUN_F_USO6,
		TUN_F_CSUM | F_USO_ALL | F_GSO_ALL,
	};
	unsigned int i, v, last = TUN_F_CSUM | F_GSO_ALL;
	int fd = tap_open(0, O_RDWR), fd2;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, get_off(fd, &v));
	EXPECT_EQ(0, v);	/* none by default */
	/* Set and read back, with or without ETHERTAP_F_VNET_HDR. */
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		v = good[i];
		EXPECT_EQ(0, ioctl(fd, ETHERTAPSETOFFLOAD, &v))
			TH_LOG("%#x: %s", good[i], strerror(errno));
		ASSERT_EQ(0, get_off(fd, &v));
		EXPECT_EQ(good[i], v);
	}
	v = ETHERTAP_F_VNET_HDR;
	ASSERT_EQ(0, ioctl(fd, ETHERTAPSETFLAGS, &v));
	v = TUN_F_CSUM | TUN_F_TSO4;
	EXPECT_EQ(0, ioctl(fd, ETHERTAPSETOFFLOAD, &v));
	v = last;
	EXPECT_EQ(0, ioctl(fd, ETHERTAPSETOFFLOAD, &v));
	for (i = 0; i < ARRAY_SIZE(nocsum); i++) {
		v = nocsum[i];
		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, ETHERTAPSETOFFLOAD, &v))
			TH_LOG("%#x without TUN_F_CSUM", nocsum[i]);
		EXPECT_EQ(EINVAL, errno);
	}
	for (i = 0; i < ARRAY_SIZE(unknown); i++) {
		v = unknown[i];
		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, ETHERTAPSETOFFLOAD, &v))
			TH_LOG("unknown %#x", unknown[i]);
		EXPECT_EQ(EINVAL, errno);
	}
	ASSERT_EQ(0, get_off(fd, &v));
	EXPECT_EQ(last, v);	/* unchanged by the refusals */
	for (i = 0; i < ARRAY_SIZE(uso); i++) {
		v = uso[i];
		errno = 0;
		if (self->uso) {
			EXPECT_EQ(0, ioctl(fd, ETHERTAPSETOFFLOAD, &v))
				TH_LOG("%#x: %s", uso[i], strerror(errno));
			last = uso[i];
		} else {
			EXPECT_EQ(-1, ioctl(fd, ETHERTAPSETOFFLOAD, &v))
				TH_LOG("%#x before 6.2", uso[i]);
			EXPECT_EQ(EINVAL, errno);
		}
		ASSERT_EQ(0, get_off(fd, &v));
		EXPECT_EQ(last, v);
	}
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, ETHERTAPSETOFFLOAD, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, ETHERTAPGETOFFLOAD, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, get_off(fd, &v));
	EXPECT_EQ(last, v);
	/* Per file: another file of the tap has none. */
	fd2 = tap_open(0, O_RDONLY);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, get_off(fd2, &v));
	EXPECT_EQ(0, v);
	close(fd2);
	/* TUN/TAP's ioctls stay ENOTTY. */
	errno = 0;
	v = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	EXPECT_EQ(-1, ioctl(fd, TUNSETIFF, &v));
	EXPECT_EQ(ENOTTY, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM));
	EXPECT_EQ(ENOTTY, errno);
	errno = 0;
	v = VH;
	EXPECT_EQ(-1, ioctl(fd, TUNSETVNETHDRSZ, &v));
	EXPECT_EQ(ENOTTY, errno);
	close(fd);
}

/* ---- tap0's features ---- */

/* Whether feature @name of tap0 is active: 1, 0, or -1 if unknown. */
static int feature(const char *name)
{
	struct ethtool_sset_info *sset = NULL;
	struct ethtool_gstrings *strs = NULL;
	struct ethtool_gfeatures *fs = NULL;
	struct ifreq ifr = {};
	unsigned int i, n;
	int s, ret = -1;

	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "tap0");
	sset = calloc(1, sizeof(*sset) + sizeof(uint32_t));
	if (!sset)
		goto out;
	sset->cmd = ETHTOOL_GSSET_INFO;
	sset->sset_mask = 1ULL << ETH_SS_FEATURES;
	ifr.ifr_data = (void *)sset;
	if (ioctl(s, SIOCETHTOOL, &ifr) || !sset->sset_mask)
		goto out;
	n = sset->data[0];
	strs = calloc(1, sizeof(*strs) + n * ETH_GSTRING_LEN);
	fs = calloc(1, sizeof(*fs) + (n + 31) / 32 * sizeof(fs->features[0]));
	if (!strs || !fs)
		goto out;
	strs->cmd = ETHTOOL_GSTRINGS;
	strs->string_set = ETH_SS_FEATURES;
	strs->len = n;
	ifr.ifr_data = (void *)strs;
	if (ioctl(s, SIOCETHTOOL, &ifr))
		goto out;
	fs->cmd = ETHTOOL_GFEATURES;
	fs->size = (n + 31) / 32;
	ifr.ifr_data = (void *)fs;
	if (ioctl(s, SIOCETHTOOL, &ifr))
		goto out;
	for (i = 0; i < n; i++)
		if (!strncmp((char *)strs->data + i * ETH_GSTRING_LEN, name,
			     ETH_GSTRING_LEN))
			ret = !!(fs->features[i / 32].active & (1U << (i % 32)));
out:
	free(sset);
	free(strs);
	free(fs);
	close(s);
	return ret;
}

/* tx-checksumming: any of the checksum features. */
static int csum_feature(void)
{
	int a = feature("tx-checksum-ipv4"), b = feature("tx-checksum-ip-generic");
	int c = feature("tx-checksum-ipv6");

	if (a < 0 || b < 0 || c < 0)
		return -1;
	return a || b || c;
}

/* The features: checksum, TSO4, TSO6, TSO-ECN, USO, as "csum tso4 ..." */
static void features(char *out, size_t len)
{
	snprintf(out, len, "csum %d tso4 %d tso6 %d ecn %d uso %d",
		 csum_feature(), feature("tx-tcp-segmentation"),
		 feature("tx-tcp6-segmentation"),
		 feature("tx-tcp-ecn-segmentation"),
		 feature("tx-udp-segmentation"));
}

#define EXPECT_FEATURES(want) do {					\
		char __f[128];						\
									\
		features(__f, sizeof(__f));				\
		EXPECT_STREQ(want, __f);				\
	} while (0)

static int set_off(int fd, unsigned int off)
{
	return ioctl(fd, ETHERTAPSETOFFLOAD, &off);
}

static int set_flags(int fd, unsigned int flags)
{
	return ioctl(fd, ETHERTAPSETFLAGS, &flags);
}

TEST_F(ol, features)
{
	const char *off = "csum 0 tso4 0 tso6 0 ecn 0 uso 0";
	int a, b, w;

	EXPECT_FEATURES(off);
	a = tap_open(0, O_RDONLY);
	b = tap_open(0, O_RDWR);
	w = tap_open(0, O_WRONLY);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, w);
	EXPECT_FEATURES(off);		/* classic readers */
	ASSERT_EQ(0, set_flags(a, ETHERTAP_F_VNET_HDR));
	EXPECT_FEATURES(off);		/* vnet, no offloads */
	ASSERT_EQ(0, set_off(a, TUN_F_CSUM));
	EXPECT_FEATURES("csum 1 tso4 0 tso6 0 ecn 0 uso 0");
	ASSERT_EQ(0, set_off(a, TUN_F_CSUM | TUN_F_TSO4));
	EXPECT_FEATURES("csum 1 tso4 1 tso6 0 ecn 0 uso 0");
	/* The union: b adds TSO6. */
	ASSERT_EQ(0, set_flags(b, ETHERTAP_F_VNET_HDR | ETHERTAP_F_BATCH));
	ASSERT_EQ(0, set_off(b, TUN_F_CSUM | TUN_F_TSO6 | TUN_F_TSO_ECN));
	EXPECT_FEATURES("csum 1 tso4 1 tso6 1 ecn 1 uso 0");
	/* Offloads without ETHERTAP_F_VNET_HDR take no effect. */
	ASSERT_EQ(0, set_flags(b, ETHERTAP_F_BATCH));
	EXPECT_FEATURES("csum 1 tso4 1 tso6 0 ecn 0 uso 0");
	ASSERT_EQ(0, set_flags(b, ETHERTAP_F_VNET_HDR));
	EXPECT_FEATURES("csum 1 tso4 1 tso6 1 ecn 1 uso 0");
	/* A write-only file reads nothing: its offloads do not count. */
	ASSERT_EQ(0, set_flags(w, ETHERTAP_F_VNET_HDR));
	ASSERT_EQ(0, set_off(w, TUN_F_CSUM | F_GSO_ALL));
	ASSERT_EQ(0, set_off(a, 0));
	ASSERT_EQ(0, set_off(b, 0));
	EXPECT_FEATURES(off);
	ASSERT_EQ(0, set_off(a, TUN_F_CSUM | TUN_F_TSO4));
	EXPECT_FEATURES("csum 1 tso4 1 tso6 0 ecn 0 uso 0");
	close(a);			/* the last such reader closes */
	EXPECT_FEATURES(off);
	if (self->uso) {
		ASSERT_EQ(0, set_off(b, TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6));
		EXPECT_FEATURES("csum 1 tso4 0 tso6 0 ecn 0 uso 1");
	}
	close(b);
	EXPECT_FEATURES(off);
	close(w);
	EXPECT_FEATURES(off);
}

/* ---- what readers get ---- */

/*
 * A UDP datagram from the stack: the CSUM readers get it with
 * NEEDS_CSUM (csum_start 34, csum_offset 6), header bytes exact, and
 * its checksum field the pseudo header's; the others with a complete
 * checksum; all the same frame.
 */
TEST_F(ol, udp_csum)
{
	static const uint8_t want_hdr[VH] = { 1, 0, 0, 0, 0, 0, 34, 0, 6, 0 };
	uint8_t p[300];
	size_t flen = UDP_FRAME(sizeof(p));
	struct l4info o;
	unsigned int k;

	memset(p, 0x5a, sizeof(p));
	open_all(_metadata, self);
	ASSERT_EQ(sizeof(p), udp_send_peer(self->t.sock, 0, 4000, p, sizeof(p)));
	check_all(_metadata, self, 0, 0);
	for (k = 0; k < R_NR; k++) {
		struct rd *r = &self->r[k];

		ASSERT_EQ(1, r->got.n) TH_LOG("%s", r->name);
		ASSERT_EQ(flen, r->got.x[0].len) TH_LOG("%s", r->name);
		EXPECT_EQ(0, memcmp(r->got.x[0].f + UDP_FRAME(0), p, sizeof(p)));
		if (r->flags & ETHERTAP_F_VNET_HDR && r->off & TUN_F_CSUM) {
			EXPECT_EQ(0, memcmp(&r->got.x[0].h, want_hdr, VH))
				TH_LOG("%s", r->name);
			ASSERT_EQ(0, parse(r->got.x[0].f, flen, &o));
			EXPECT_EQ((uint16_t)~csum_fold(pseudo_sum(r->got.x[0].f,
								  &o, flen - o.l4)),
				  get16(r->got.x[0].f + 40))
				TH_LOG("%s: not the pseudo header's sum",
				       r->name);
		} else {
			static const uint8_t zero[VH];

			EXPECT_EQ(0, memcmp(&r->got.x[0].h, zero, VH));
			EXPECT_TRUE(csum_ok(r->got.x[0].f, flen));
		}
	}
	EXPECT_EQ(1, self->r[R_CSUM].got.x[0].h.flags);
}

/* A packet socket on tap0 that sends with a virtio_net_hdr. */
static int vnet_packet_socket(void)
{
	int s = socket(AF_PACKET, SOCK_RAW, 0), one = 1;

	if (s < 0 || setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one,
				sizeof(one))) {
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

static ssize_t packet_send(int s, const struct virtio_net_hdr *h,
			   const uint8_t *f, size_t len, uint16_t proto)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(proto),
		.sll_ifindex = if_nametoindex("tap0"),
		.sll_halen = 6,
	};
	struct iovec iov[2] = {
		{ .iov_base = (void *)h, .iov_len = VH },
		{ .iov_base = (void *)f, .iov_len = len },
	};
	struct msghdr m = {
		.msg_name = &sll, .msg_namelen = sizeof(sll),
		.msg_iov = iov, .msg_iovlen = 2,
	};

	memcpy(sll.sll_addr, f, 6);
	return sendmsg(s, &m, 0);
}

/*
 * A TCP GSO frame of 3 segments (PSH and FIN on it: on the last segment
 * only) injected into tap0's xmit path: the stack hands it to tap0 as
 * one GSO frame, or segments it first; either way each reader gets what
 * it can take; a GSO frame the TSO reader gets is exactly the one sent.
 */
static void inject_tcp(struct __test_metadata *_metadata, FIXTURE_DATA(ol) *self,
		       bool v6)
{
	unsigned int mss = v6 ? MSS6 : MSS4, tso = v6 ? R_TSO6 : R_TSO4;
	struct virtio_net_hdr h;
	struct flow fl;
	size_t len;
	int ps;

	open_all(_metadata, self);
	if (v6)
		flow6(&fl, IPPROTO_TCP, 40000, 4001);
	else
		flow4(&fl, IPPROTO_TCP, 0, true, 40000, 4001);
	len = build(self->frame, &fl, 1000, 1, 0x19, NULL, 0, 3 * mss, true);
	hdr_for(&h, self->frame, len, mss);
	ps = vnet_packet_socket();
	ASSERT_LE(0, ps);
	ASSERT_EQ(VH + len, packet_send(ps, &h, self->frame, len,
					v6 ? ETH_P_IPV6 : ETH_P_IP))
		TH_LOG("sendmsg: %s", strerror(errno));
	close(ps);
	check_all(_metadata, self, 0, 0);
	EXPECT_EQ(3, self->r[R_CLASSIC].got.n);
	if (self->r[tso].got.n == 1) {
		const struct fr *x = &self->r[tso].got.x[0];

		EXPECT_EQ(len, x->len);
		EXPECT_EQ(0, memcmp(x->f, self->frame, len));
		EXPECT_EQ(VIRTIO_NET_HDR_F_NEEDS_CSUM, x->h.flags);
		EXPECT_EQ(h.gso_type, x->h.gso_type);
		EXPECT_EQ(mss, le16toh(x->h.gso_size));
		EXPECT_EQ(h.csum_start, x->h.csum_start);
		EXPECT_EQ(16, le16toh(x->h.csum_offset));
	}
}

TEST_F(ol, inject_tcp4)
{
	inject_tcp(_metadata, self, false);
}

TEST_F(ol, inject_tcp6)
{
	inject_tcp(_metadata, self, true);
}

/*
 * A real TCP connection from 10.99.0.1 to 10.99.0.2:TCP_PORT, its
 * handshake answered through the fixture's file (SYN-ACK, MSS 1448):
 * 3 x 1448 bytes sent at once leave the stack as TSO frames, which the
 * TSO4 readers get as GSO, the others segmented.
 */
TEST_F(ol, tcp_connection)
{
	static const uint8_t mss_opt[4] = { 2, 4, MSS4 >> 8, MSS4 & 0xff };
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(TCP_PORT) };
	struct linger lg = { .l_onoff = 1 };
	struct pollfd p = { .events = POLLOUT };
	struct rd ctl = { .name = "handshake", .fd = -1 };
	uint8_t data[3 * MSS4];
	uint32_t isn = 0;
	uint16_t port = 0;
	int s, one = 1, err = 0, tries;
	socklen_t el = sizeof(err);
	struct flow fl;
	size_t len;
	ssize_t r;

	open_all(_metadata, self);
	ASSERT_EQ(0, rd_open(&ctl, 0));
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	sin.sin_addr.s_addr = inet_be("10.99.0.2");
	ASSERT_EQ(-1, connect(s, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(EINPROGRESS, errno);
	for (tries = 0; tries < 5 && !port; tries++) {
		struct l4info o;

		r = tap_read_wait(ctl.fd, self->buf, BUF, 2000);
		ASSERT_LT(0, r) TH_LOG("no SYN: %s", strerror(errno));
		if (parse(self->buf + 2, r - 2, &o) || o.proto != IPPROTO_TCP ||
		    get16(self->buf + 2 + o.l4 + 2) != TCP_PORT ||
		    self->buf[2 + o.l4 + 13] != 0x02)
			continue;
		port = get16(self->buf + 2 + o.l4);
		isn = (uint32_t)get16(self->buf + 2 + o.l4 + 4) << 16 |
		      get16(self->buf + 2 + o.l4 + 6);
	}
	ASSERT_NE(0, port);
	flow4(&fl, IPPROTO_TCP, 0, false, TCP_PORT, port);
	len = build(self->frame + 2, &fl, 5000, isn + 1, 0x12, mss_opt, 4, 0,
		    false);
	self->frame[0] = 0;
	self->frame[1] = 0;
	ASSERT_EQ(2 + len, write(self->t.fd, self->frame, 2 + len));
	p.fd = s;
	ASSERT_EQ(1, poll(&p, 1, 5000));
	ASSERT_EQ(0, getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el));
	ASSERT_EQ(0, err);
	memset(data, 'x', sizeof(data));
	ASSERT_EQ(sizeof(data), send(s, data, sizeof(data), 0));
	usleep(300 * 1000);
	/* Reset: nothing more is sent (no retransmission) after this. */
	ASSERT_EQ(0, setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	close(s);
	check_all(_metadata, self, 1, len);
	EXPECT_LE(1, gso_frames(&self->r[R_TSO4]));
	EXPECT_LE(1, gso_frames(&self->r[R_FULL]));
	EXPECT_LE(1, gso_frames(&self->r[R_NL_VNET]));
	EXPECT_EQ(0, gso_frames(&self->r[R_TSO6]));
	EXPECT_EQ(0, gso_frames(&self->r[R_CSUM]));
	rd_close(&ctl);
}

/* UDP GSO (UDP_SEGMENT) from the stack: the USO readers get it whole. */
TEST_F(ol, udp_gso)
{
	uint8_t p[3 * 1000 + 500];
	int gso = 1000;

	if (!self->uso)
		SKIP(return, "no USO before Linux 6.2 (TUN_F_USO4 refused)");
	open_all(_metadata, self);
	ASSERT_EQ(0, setsockopt(self->t.sock, SOL_UDP, UDP_SEGMENT, &gso,
				sizeof(gso)));
	memset(p, 0x33, sizeof(p));
	ASSERT_EQ(sizeof(p), udp_send_peer(self->t.sock, 0, 4002, p, sizeof(p)))
		TH_LOG("%s", strerror(errno));
	check_all(_metadata, self, 0, 0);
	EXPECT_EQ(4, self->r[R_CLASSIC].got.n);
	EXPECT_EQ(1, self->r[R_USO].got.n);
	EXPECT_EQ(1, gso_frames(&self->r[R_USO]));
	EXPECT_EQ(1, gso_frames(&self->r[R_FULL]));
	EXPECT_EQ(1, gso_frames(&self->r[R_NL_VNET]));
	EXPECT_EQ(0, gso_frames(&self->r[R_TSO4]));
	if (self->r[R_USO].got.n == 1) {
		const struct fr *x = &self->r[R_USO].got.x[0];

		EXPECT_EQ(UDP_FRAME(sizeof(p)), x->len);
		EXPECT_EQ(VIRTIO_NET_HDR_GSO_UDP_L4, x->h.gso_type);
		EXPECT_EQ(gso, le16toh(x->h.gso_size));
		EXPECT_EQ(34, le16toh(x->h.csum_start));
		EXPECT_EQ(6, le16toh(x->h.csum_offset));
	}
}

/* ---- writes ---- */

/* A vnet write: the two bytes, @h, the frame; returns write()'s result. */
static ssize_t vnet_write(int fd, const struct virtio_net_hdr *h,
			  const uint8_t *f, size_t len)
{
	uint8_t pad[2] = { 0, 0 };
	struct iovec iov[3] = {
		{ .iov_base = pad, .iov_len = 2 },
		{ .iov_base = (void *)h, .iov_len = VH },
		{ .iov_base = (void *)f, .iov_len = len },
	};

	return writev(fd, iov, 3);
}

/* A packet socket seeing what tap0 receives, with its virtio_net_hdr. */
static int rx_packet_socket(void)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = if_nametoindex("tap0"),
	};
	int s = vnet_packet_socket();

	if (s >= 0 && bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		close(s);
		return -1;
	}
	return s;
}

/* The next packet tap0 received, seen by @ps: its length, @h filled. */
static ssize_t rx_packet(int ps, struct virtio_net_hdr *h, uint8_t *b,
			 size_t room)
{
	struct sockaddr_ll sll;
	struct iovec iov[2] = {
		{ .iov_base = h, .iov_len = VH },
		{ .iov_base = b, .iov_len = room },
	};
	struct msghdr m = {
		.msg_name = &sll, .msg_iov = iov, .msg_iovlen = 2,
	};
	struct pollfd p = { .fd = ps, .events = POLLIN };
	ssize_t r;

	while (poll(&p, 1, 1000) == 1) {
		m.msg_namelen = sizeof(sll);
		r = recvmsg(ps, &m, MSG_DONTWAIT);
		if (r < 0)
			return r;
		if (sll.sll_pkttype != PACKET_OUTGOING)
			return r - VH;
	}
	errno = ETIMEDOUT;
	return -1;
}

/*
 * GSO frames of 20 and of 45 segments (65214 bytes) written with their
 * header: each reaches the stack as one GSO packet (a packet socket on
 * tap0 sees its length and gso_type, gso_size), counted once in
 * rx_packets; the stack answers each with one RST.
 */
TEST_F(ol, write_gso)
{
	static const unsigned int segs[] = { 20, 45 };
	struct tap_stats d = { .v = { [S_TX_PACKETS] = 2,
				      [S_TX_BYTES] = 2 * 54 } };
	struct virtio_net_hdr h, got;
	struct rd w = { .name = "writer", .fd = -1,
			 .flags = ETHERTAP_F_VNET_HDR };
	unsigned int i;
	struct flow fl;
	size_t len;
	ssize_t r;
	int ps;

	ASSERT_EQ(0, rd_open(&w, 0));
	ps = rx_packet_socket();
	ASSERT_LE(0, ps);
	flow4(&fl, IPPROTO_TCP, 0, false, 40000, SINK_PORT);
	for (i = 0; i < ARRAY_SIZE(segs); i++) {
		len = build(self->frame, &fl, 1000, 1, 0x10, NULL, 0,
			    segs[i] * MSS4, true);
		hdr_for(&h, self->frame, len, MSS4);
		ASSERT_EQ(2 + VH + len, vnet_write(w.fd, &h, self->frame, len))
			TH_LOG("%u segments: %s", segs[i], strerror(errno));
		r = rx_packet(ps, &got, self->buf, BUF);
		ASSERT_EQ(len, r) TH_LOG("%s", strerror(errno));
		EXPECT_EQ(VIRTIO_NET_HDR_GSO_TCPV4, got.gso_type);
		EXPECT_EQ(MSS4, le16toh(got.gso_size));
		EXPECT_EQ(0, memcmp(self->buf + ETH_HDR,
				    self->frame + ETH_HDR, 20));
		d.v[S_RX_PACKETS]++;
		d.v[S_RX_BYTES] += len;
	}
	close(ps);
	/* The two RSTs, read by the writer (no offloads: plain). */
	ASSERT_EQ(0, rd_collect(&w, 1000));
	EXPECT_EQ(2, w.got.n);
	for (i = 0; i < w.got.n; i++) {
		EXPECT_EQ(54, w.got.x[i].len);
		EXPECT_EQ(0x04, w.got.x[i].f[ETH_HDR + IP_HDR + 13] & 0x04);
	}
	rd_close(&w);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * A GSO frame whose header leaves the checksum alone (flags 0, its TCP
 * checksum complete over the whole frame): the kernel finds the headers
 * itself, which needs the device and the protocol set first; the stack
 * gets one GSO packet and answers with one RST.
 */
TEST_F(ol, write_gso_no_csum)
{
	struct tap_stats d = { .v = { [S_TX_PACKETS] = 1,
				      [S_TX_BYTES] = 54 } };
	struct virtio_net_hdr h, got;
	struct rd w = { .name = "writer", .fd = -1,
			 .flags = ETHERTAP_F_VNET_HDR };
	struct flow fl;
	size_t len;
	ssize_t r;
	int ps;

	ASSERT_EQ(0, rd_open(&w, 0));
	ps = rx_packet_socket();
	ASSERT_LE(0, ps);
	flow4(&fl, IPPROTO_TCP, 0, false, 40001, SINK_PORT);
	len = build(self->frame, &fl, 1000, 1, 0x10, NULL, 0, 8 * MSS4, false);
	hdr_set(&h, 0, VIRTIO_NET_HDR_GSO_TCPV4, ETH_HDR + IP_HDR + 20, MSS4,
		0, 0);
	ASSERT_EQ(2 + VH + len, vnet_write(w.fd, &h, self->frame, len))
		TH_LOG("%s", strerror(errno));
	r = rx_packet(ps, &got, self->buf, BUF);
	ASSERT_EQ(len, r) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(VIRTIO_NET_HDR_GSO_TCPV4, got.gso_type);
	EXPECT_EQ(MSS4, le16toh(got.gso_size));
	EXPECT_EQ(0, memcmp(self->buf, self->frame, len));
	d.v[S_RX_PACKETS]++;
	d.v[S_RX_BYTES] += len;
	close(ps);
	ASSERT_EQ(0, rd_collect(&w, 1000));
	ASSERT_EQ(1, w.got.n);
	EXPECT_EQ(54, w.got.x[0].len);
	EXPECT_EQ(0x04, w.got.x[0].f[ETH_HDR + IP_HDR + 13] & 0x04);
	rd_close(&w);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * A partial checksum (NEEDS_CSUM) is taken: the datagram reaches the
 * socket; the same frame with flags 0 is dropped by UDP as corrupt;
 * forwarded to tap1, the checksum is completed; a GSO frame forwarded to
 * tap1 leaves it as MTU-sized segments with complete checksums.
 */
TEST_F(ol, write_csum_forward)
{
	struct tap_stats d0 = { .v = { 0 } }, d1 = { .v = { 0 } }, st1;
	struct rd t1 = { .name = "tap1 classic", .fd = -1 };
	struct virtio_net_hdr h, zero = { 0 };
	uint8_t got[600], *f = self->frame;
	struct frames *segs;
	struct flow fl;
	size_t len, glen;
	unsigned int i;
	uint32_t a;
	int fd;

	fd = tap_open(0, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_flags(fd, ETHERTAP_F_VNET_HDR));
	flow4(&fl, IPPROTO_UDP, 0, false, 40000, self->t.port);
	len = build(f, &fl, 7, 0, 0, NULL, 0, 500, true);
	hdr_for(&h, f, len, 0);
	ASSERT_EQ(2 + VH + len, vnet_write(fd, &h, f, len));
	ASSERT_EQ(500, recv(self->t.sock, got, sizeof(got), MSG_DONTWAIT))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, memcmp(got, f + UDP_FRAME(0), 500));
	ASSERT_EQ(2 + VH + len, vnet_write(fd, &zero, f, len));
	usleep(50 * 1000);
	EXPECT_FALSE(udp_pending(self->t.sock));	/* bad checksum */
	d0.v[S_RX_PACKETS] = 2;
	d0.v[S_RX_BYTES] = 2 * len;

	/* Forwarding to tap1. */
	ASSERT_EQ(0, tap_setup(1));
	ASSERT_EQ(0, tap_stats(1, &st1));
	self->fwd = read_u64("/proc/sys/net/ipv4/ip_forward");
	ASSERT_EQ(0, write_str("/proc/sys/net/ipv4/ip_forward", "1"));
	ASSERT_EQ(0, rd_open(&t1, 1));
	a = inet_be("10.99.1.2");
	memcpy(fl.da, &a, 4);
	len = build(f, &fl, 9, 0, 0, NULL, 0, 500, true);
	hdr_for(&h, f, len, 0);
	ASSERT_EQ(2 + VH + len, vnet_write(fd, &h, f, len));
	d0.v[S_RX_PACKETS]++;
	d0.v[S_RX_BYTES] += len;
	ASSERT_EQ(0, rd_collect(&t1, 1000));
	ASSERT_EQ(1, t1.got.n);
	glen = t1.got.x[0].len;
	EXPECT_EQ(len, glen);
	EXPECT_TRUE(csum_ok(t1.got.x[0].f, glen));
	EXPECT_EQ(63, t1.got.x[0].f[ETH_HDR + 8]);	/* TTL */
	EXPECT_EQ(0, memcmp(t1.got.x[0].f + UDP_FRAME(0), f + UDP_FRAME(0),
			    500));
	d1.v[S_TX_PACKETS] = 1;
	d1.v[S_TX_BYTES] = glen;
	frames_free(&t1.got);

	/* 5 TCP segments in one GSO frame, forwarded. */
	fl.proto = IPPROTO_TCP;
	len = build(f, &fl, 1000, 1, 0x18, NULL, 0, 5 * MSS4, true);
	hdr_for(&h, f, len, MSS4);
	ASSERT_EQ(2 + VH + len, vnet_write(fd, &h, f, len));
	d0.v[S_RX_PACKETS]++;
	d0.v[S_RX_BYTES] += len;
	ASSERT_EQ(0, rd_collect(&t1, 1000));
	segs = calloc(1, sizeof(*segs));
	ASSERT_NE(NULL, segs);
	f[ETH_HDR + 8]--;	/* what forwarding does: TTL 63 */
	ASSERT_EQ(0, segment(f, len, MSS4, segs));
	ASSERT_EQ(5, segs->n);
	EXPECT_EQ(5, t1.got.n);
	for (i = 0; i < t1.got.n && i < segs->n; i++) {
		EXPECT_TRUE(csum_ok(t1.got.x[i].f, t1.got.x[i].len));
		EXPECT_EQ(segs->x[i].len, t1.got.x[i].len);
		/* The same but the MAC addresses. */
		EXPECT_EQ(0, memcmp(t1.got.x[i].f + 12, segs->x[i].f + 12,
				    segs->x[i].len - 12)) TH_LOG("segment %u", i);
		d1.v[S_TX_BYTES] += t1.got.x[i].len;
	}
	d1.v[S_TX_PACKETS] += t1.got.n;
	frames_free(segs);
	free(segs);
	rd_close(&t1);
	close(fd);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d0));
	EXPECT_EQ(0, tap_stats_check(1, &st1, &d1));
}

/* A GSO frame or a plain one with NEEDS_CSUM, one field made wrong. */
enum { GSO_TYPE, GSO_SIZE, CSUM_OFFSET, CSUM_START, HDR_LEN };
static const struct {
	const char *what;
	bool gso;
	int field;
	unsigned int v;
} bad[] = {
	{ "gso_type 0x7f", true, GSO_TYPE, 0x7f },
	{ "gso_type 0x80 (ECN alone)", true, GSO_TYPE, 0x80 },
	{ "gso_type 0xff", true, GSO_TYPE, 0xff },
	{ "TCPV4 with gso_size 0", true, GSO_SIZE, 0 },
	{ "csum_start + csum_offset + 2 beyond the frame", false,
	  CSUM_OFFSET, 0 },
	{ "csum_start beyond the frame", false, CSUM_START, 0 },
	{ "GSO, csum beyond the frame", true, CSUM_OFFSET, 0 },
	{ "GSO, hdr_len beyond the frame", true, HDR_LEN, 0 },
	{ "hdr_len beyond the frame", false, HDR_LEN, 0 },
};

/* The header of @f (@len bytes; GSO if bad[@i].gso) with bad[@i]'s flaw. */
static void bad_hdr(struct virtio_net_hdr *h, const uint8_t *f, size_t len,
		    unsigned int i)
{
	hdr_for(h, f, len, bad[i].gso ? MSS4 : 0);
	switch (bad[i].field) {
	case GSO_TYPE:
		h->gso_type = bad[i].v;
		break;
	case GSO_SIZE:
		h->gso_size = htole16(bad[i].v);
		break;
	case CSUM_OFFSET:	/* start + offset + 2 = len + 1 */
		h->csum_offset = htole16(len - 1 - le16toh(h->csum_start));
		break;
	case CSUM_START:
		h->csum_start = htole16(len - 1);
		h->csum_offset = htole16(0);
		break;
	default:
		h->hdr_len = htole16(len + 1);
	}
}

/*
 * Headers the kernel refuses: EINVAL, counted in rx_error_vnet_hdr and
 * rx_errors, nothing delivered.  Then the lengths: shorter than 2 + 10 +
 * 14 bytes is too short, 26 bytes is a frame; a frame without GSO longer
 * than MTU + 14 is EMSGSIZE, MTU + 14 is taken.
 */
TEST_F(ol, write_refused)
{
	struct tap_stats d = { .v = { 0 } };
	uint8_t *fg = self->frame, fs[600], p[1472], *f;
	struct virtio_net_hdr h;
	size_t glen, slen, ulen, len;
	struct flow fl;
	unsigned int i;
	int fd;

	fd = tap_open(0, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_flags(fd, ETHERTAP_F_VNET_HDR));
	flow4(&fl, IPPROTO_TCP, 0, false, 40000, SINK_PORT);
	glen = build(fg, &fl, 1000, 1, 0x10, NULL, 0, 4 * MSS4, true);
	slen = build(fs, &fl, 1000, 1, 0x10, NULL, 0, 500, true);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		f = bad[i].gso ? fg : fs;
		len = bad[i].gso ? glen : slen;
		bad_hdr(&h, f, len, i);
		errno = 0;
		EXPECT_EQ(-1, vnet_write(fd, &h, f, len))
			TH_LOG("%s: taken", bad[i].what);
		EXPECT_EQ(EINVAL, errno) TH_LOG("%s: %s", bad[i].what,
						strerror(errno));
		d.v[S_RX_ERRORS]++;
		d.v[S_RX_FRAME_ERRORS]++;
		d.v[E_RX_ERROR_VNET_HDR]++;
	}
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));

	/* Lengths. */
	memset(self->buf, 0, 2 + VH);
	memcpy(self->buf + 2 + VH, fs, 14);
	errno = 0;
	EXPECT_EQ(-1, write(fd, self->buf, 2 + VH + 13));
	EXPECT_EQ(EINVAL, errno);
	d.v[S_RX_ERRORS]++;
	d.v[S_RX_LENGTH_ERRORS]++;
	d.v[E_RX_ERROR_TOO_SHORT]++;
	errno = 0;
	EXPECT_EQ(-1, write(fd, self->buf, 2 + 5));
	EXPECT_EQ(EINVAL, errno);
	d.v[S_RX_ERRORS]++;
	d.v[S_RX_LENGTH_ERRORS]++;
	d.v[E_RX_ERROR_TOO_SHORT]++;
	EXPECT_EQ(2 + VH + 14, write(fd, self->buf, 2 + VH + 14));
	d.v[S_RX_PACKETS]++;
	d.v[S_RX_BYTES] += 14;
	memset(p, 0x77, sizeof(p));
	ulen = build_to_tap(self->buf + VH, 0, self->t.port, p, sizeof(p));
	memset(self->buf, 0, 2 + VH);
	ASSERT_EQ(ETHERTAP_PAD + ETH_HDR + 1500, ulen);
	EXPECT_EQ(VH + ulen, write(fd, self->buf, VH + ulen));
	EXPECT_EQ(sizeof(p), recv(self->t.sock, self->frame, sizeof(self->frame),
				  MSG_DONTWAIT));
	d.v[S_RX_PACKETS]++;
	d.v[S_RX_BYTES] += ulen - 2;
	errno = 0;
	EXPECT_EQ(-1, write(fd, self->buf, VH + ulen + 1));
	EXPECT_EQ(EMSGSIZE, errno);
	d.v[S_RX_ERRORS]++;
	d.v[S_RX_LENGTH_ERRORS]++;
	d.v[E_RX_ERROR_TOO_LONG]++;
	close(fd);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* ---- the raw netlink interface ---- */

/*
 * Wait up to 3 s for tap0's features to be @want (the vnet listeners'
 * offloads follow them a moment later); 0 if they are.
 */
static int wait_features(const char *want)
{
	char f[128];
	int i;

	for (i = 0; i < 60; i++) {
		features(f, sizeof(f));
		if (!strcmp(f, want))
			return 0;
		usleep(50 * 1000);
	}
	fprintf(stderr, "# features: %s, not %s\n", f, want);
	return -1;
}

/* All of them, as the vnet listeners take them. */
static void full_features(char *out, size_t len, bool uso)
{
	snprintf(out, len, "csum 1 tso4 1 tso6 1 ecn 1 uso %d", uso);
}

/* Send [@field][@h][@f] to the kernel socket from @fd. */
static ssize_t nl_send_vnet(int fd, uint16_t field,
			    const struct virtio_net_hdr *h, const uint8_t *f,
			    size_t len)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	uint8_t b[2];
	struct iovec iov[3] = {
		{ .iov_base = b, .iov_len = 2 },
		{ .iov_base = (void *)h, .iov_len = VH },
		{ .iov_base = (void *)f, .iov_len = len },
	};
	struct msghdr m = {
		.msg_name = &a, .msg_namelen = sizeof(a),
		.msg_iov = iov, .msg_iovlen = 3,
	};

	put16(b, field);
	return sendmsg(fd, &m, 0);
}

/* The errno a refused message left on @fd (0 if none), without blocking. */
static int nl_error(int fd)
{
	uint8_t b[64];

	if (recv(fd, b, sizeof(b), MSG_DONTWAIT) >= 0)
		return -1;	/* a frame, not an error */
	return errno == EAGAIN ? 0 : errno;
}

static void nl_module(struct __test_metadata *_metadata)
{
	if (access("/sys/module/ethertap_netlink", F_OK))
		ASSERT_EQ(0, run("insmod %s/ethertap_netlink.ko",
				 getenv("ETHERTAP_MODDIR")));
}

/*
 * tap0 offers the stack every offload while a socket listens to
 * ETHERTAP_NLGRP_VNET(0), and none while only ETHERTAP_NLGRP(0) or tap1's
 * vnet group does.
 */
TEST_F(ol, nl_vnet_features)
{
	const char *off = "csum 0 tso4 0 tso6 0 ecn 0 uso 0";
	char full[64];
	int p, v, v1;

	full_features(full, sizeof(full), self->uso);
	nl_module(_metadata);
	ASSERT_EQ(0, tap_setup(1));
	p = nl_listen(0, false);
	v1 = nl_listen(1, true);
	ASSERT_LE(0, p);
	ASSERT_LE(0, v1);
	usleep(500 * 1000);
	EXPECT_FEATURES(off);
	v = nl_listen(0, true);
	ASSERT_LE(0, v);
	EXPECT_EQ(0, wait_features(full));
	close(v);
	EXPECT_EQ(0, wait_features(off));
	close(p);
	close(v1);
}

/*
 * A 300-byte UDP datagram from the stack: a vnet listener reads exactly
 * [0x8000][NEEDS_CSUM, csum_start 34, csum_offset 6][the frame, the
 * pseudo header's sum in it], a plain listener the same frame with the
 * checksum complete; one sent without a checksum (SO_NO_CHECK) comes with
 * a header of zeros, the frame the same for both.
 */
TEST_F(ol, nl_vnet_small)
{
	static const uint8_t csum_hdr[VH] = { 1, 0, 0, 0, 0, 0, 34, 0, 6, 0 };
	static const uint8_t zero[VH];
	size_t flen = UDP_FRAME(300), n;
	uint8_t p[300], *b = self->buf, *c = self->frame;
	struct l4info o;
	char full[64];
	int pl, v, one = 1;
	ssize_t l;

	full_features(full, sizeof(full), self->uso);
	nl_module(_metadata);
	pl = nl_listen(0, false);
	v = nl_listen(0, true);
	ASSERT_LE(0, pl);
	ASSERT_LE(0, v);
	ASSERT_EQ(0, wait_features(full));
	memset(p, 0x5a, sizeof(p));
	ASSERT_EQ(sizeof(p), udp_send_peer(self->t.sock, 0, 4000, p, sizeof(p)));
	ASSERT_EQ(2 + flen, tap_read_wait(pl, c, BUF, 1000));
	EXPECT_EQ(0, get16(c));
	EXPECT_TRUE(csum_ok(c + 2, flen));
	l = tap_read_wait(v, b, BUF, 1000);
	ASSERT_EQ(2 + VH + flen, l);
	EXPECT_EQ(0x80, b[0]);
	EXPECT_EQ(0x00, b[1]);
	EXPECT_EQ(0, memcmp(b + 2, csum_hdr, VH));
	ASSERT_EQ(0, parse(b + 2 + VH, flen, &o));
	EXPECT_EQ((uint16_t)~csum_fold(pseudo_sum(b + 2 + VH, &o,
						  flen - o.l4)),
		  get16(b + 2 + VH + 40));
	/* Completed as a virtio device would: the plain listener's frame. */
	n = csum_fold(csum_add(0, b + 2 + VH + 34, flen - 34));
	put16(b + 2 + VH + 40, n ? n : 0xffff);
	EXPECT_EQ(0, memcmp(b + 2 + VH, c + 2, flen));

	ASSERT_EQ(0, setsockopt(self->t.sock, SOL_SOCKET, SO_NO_CHECK, &one,
				sizeof(one)));
	ASSERT_EQ(sizeof(p), udp_send_peer(self->t.sock, 0, 4000, p, sizeof(p)));
	ASSERT_EQ(2 + flen, tap_read_wait(pl, c, BUF, 1000));
	EXPECT_EQ(0, get16(c + 2 + 40));	/* no checksum */
	ASSERT_EQ(2 + VH + flen, tap_read_wait(v, b, BUF, 1000));
	EXPECT_EQ(ETHERTAP_NL_VNET, get16(b));
	EXPECT_EQ(0, memcmp(b + 2, zero, VH));
	EXPECT_EQ(0, memcmp(b + 2 + VH, c + 2, flen));
	EXPECT_EQ(0, nl_error(pl));
	EXPECT_EQ(0, nl_error(v));
	close(pl);
	close(v);
}

/*
 * A TCP GSO frame of 3 segments in tap0's xmit path, with netlink
 * listeners only: the vnet listener reads it whole, exactly as sent, the
 * plain one its 3 segments as the kernel makes them; counted once.
 */
TEST_F(ol, nl_vnet_tcp_gso)
{
	struct tap_stats d = { .v = { 0 } };
	struct rd p = { .name = "netlink", .fd = -1, .nl = true };
	struct rd v = { .name = "netlink vnet", .fd = -1, .nl = true,
			.flags = ETHERTAP_F_VNET_HDR };
	struct virtio_net_hdr h;
	struct frames *segs;
	const struct fr *x;
	struct flow fl;
	char full[64];
	unsigned int i;
	size_t len;
	int ps;

	full_features(full, sizeof(full), self->uso);
	nl_module(_metadata);
	ASSERT_EQ(0, rd_open(&p, 0));
	ASSERT_EQ(0, rd_open(&v, 0));
	ASSERT_EQ(0, wait_features(full));
	flow4(&fl, IPPROTO_TCP, 0, true, 40000, 4001);
	len = build(self->frame, &fl, 1000, 1, 0x19, NULL, 0, 3 * MSS4, true);
	hdr_for(&h, self->frame, len, MSS4);
	ps = vnet_packet_socket();
	ASSERT_LE(0, ps);
	ASSERT_EQ(VH + len, packet_send(ps, &h, self->frame, len, ETH_P_IP))
		TH_LOG("sendmsg: %s", strerror(errno));
	close(ps);
	ASSERT_EQ(0, rd_collect(&v, 1000));
	ASSERT_EQ(0, rd_collect(&p, 1000));
	ASSERT_EQ(1, v.got.n);
	x = &v.got.x[0];
	EXPECT_EQ(len, x->len);
	EXPECT_EQ(0, memcmp(x->f, self->frame, len));
	EXPECT_EQ(VIRTIO_NET_HDR_F_NEEDS_CSUM, x->h.flags);
	EXPECT_EQ(VIRTIO_NET_HDR_GSO_TCPV4, x->h.gso_type);
	EXPECT_EQ(MSS4, le16toh(x->h.gso_size));
	EXPECT_GE(len, le16toh(x->h.hdr_len));
	EXPECT_LE(54, le16toh(x->h.hdr_len));
	EXPECT_EQ(34, le16toh(x->h.csum_start));
	EXPECT_EQ(16, le16toh(x->h.csum_offset));
	segs = calloc(1, sizeof(*segs));
	ASSERT_NE(NULL, segs);
	ASSERT_EQ(0, segment(self->frame, len, MSS4, segs));
	ASSERT_EQ(3, p.got.n);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(segs->x[i].len, p.got.x[i].len);
		EXPECT_EQ(0, memcmp(segs->x[i].f, p.got.x[i].f,
				    segs->x[i].len)) TH_LOG("segment %u", i);
	}
	frames_free(segs);
	free(segs);
	d.v[S_TX_PACKETS] = 1;
	d.v[S_TX_BYTES] = len;
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
	rd_close(&p);
	rd_close(&v);
}

/*
 * Messages to the kernel with ETHERTAP_NL_VNET: GSO frames of 20 and of
 * 45 segments (65214 bytes) reach the stack as one GSO packet each (a
 * packet socket on tap0 sees its length, gso_type and gso_size), answered
 * by one RST each; a UDP datagram with its checksum left to the kernel
 * reaches its socket.  The sender reads the RSTs (ETHERTAP_NLGRP(0)), no
 * error.
 */
TEST_F(ol, nl_vnet_write)
{
	static const unsigned int nsegs[] = { 20, 45 };
	struct tap_stats d = { .v = { [S_TX_PACKETS] = 2,
				      [S_TX_BYTES] = 2 * 54 } };
	struct rd s = { .name = "sender", .fd = -1, .nl = true };
	struct virtio_net_hdr h, got;
	uint8_t u[600];
	unsigned int i;
	struct flow fl;
	size_t len;
	ssize_t r;
	int ps;

	nl_module(_metadata);
	ASSERT_EQ(0, rd_open(&s, 0));
	ps = rx_packet_socket();
	ASSERT_LE(0, ps);
	flow4(&fl, IPPROTO_TCP, 0, false, 40000, SINK_PORT);
	for (i = 0; i < ARRAY_SIZE(nsegs); i++) {
		len = build(self->frame, &fl, 1000, 1, 0x10, NULL, 0,
			    nsegs[i] * MSS4, true);
		hdr_for(&h, self->frame, len, MSS4);
		ASSERT_EQ(2 + VH + len, nl_send_vnet(s.fd, ETHERTAP_NL_VNET,
						     &h, self->frame, len))
			TH_LOG("%u segments: %s", nsegs[i], strerror(errno));
		r = rx_packet(ps, &got, self->buf, BUF);
		ASSERT_EQ(len, r) TH_LOG("%s", strerror(errno));
		EXPECT_EQ(VIRTIO_NET_HDR_GSO_TCPV4, got.gso_type);
		EXPECT_EQ(MSS4, le16toh(got.gso_size));
		EXPECT_EQ(0, memcmp(self->buf, self->frame, len));
		d.v[S_RX_PACKETS]++;
		d.v[S_RX_BYTES] += len;
	}
	flow4(&fl, IPPROTO_UDP, 0, false, 40000, self->t.port);
	len = build(self->frame, &fl, 7, 0, 0, NULL, 0, 500, true);
	hdr_for(&h, self->frame, len, 0);
	ASSERT_EQ(2 + VH + len, nl_send_vnet(s.fd, ETHERTAP_NL_VNET, &h,
					     self->frame, len));
	ASSERT_EQ(500, recv(self->t.sock, u, sizeof(u), MSG_DONTWAIT))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, memcmp(u, self->frame + UDP_FRAME(0), 500));
	d.v[S_RX_PACKETS]++;
	d.v[S_RX_BYTES] += len;
	close(ps);
	ASSERT_EQ(0, rd_collect(&s, 1000));
	EXPECT_EQ(2, s.got.n);
	for (i = 0; i < s.got.n; i++) {
		EXPECT_EQ(54, s.got.x[i].len);
		EXPECT_EQ(0x04, s.got.x[i].f[ETH_HDR + IP_HDR + 13] & 0x04);
	}
	EXPECT_EQ(0, nl_error(s.fd));
	rd_close(&s);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * The headers write_refused's writes have refused, sent as messages with
 * ETHERTAP_NL_VNET: EINVAL on the sender's socket, each counted in
 * rx_error_vnet_hdr (rx_errors, rx_frame_errors); too short for the
 * header and an Ethernet header: EINVAL, rx_error_too_short; then a good
 * one is taken, no error left.
 */
TEST_F(ol, nl_vnet_write_refused)
{
	struct tap_stats d = { .v = { 0 } };
	uint8_t *fg = self->frame, fs[600], *f;
	struct virtio_net_hdr h = { 0 };
	size_t glen, slen, len;
	struct flow fl;
	unsigned int i;
	int fd;

	nl_module(_metadata);
	fd = socket(AF_NETLINK, SOCK_RAW, ETHERTAP_NETLINK);
	ASSERT_LE(0, fd);
	flow4(&fl, IPPROTO_TCP, 0, false, 40000, SINK_PORT);
	glen = build(fg, &fl, 1000, 1, 0x10, NULL, 0, 4 * MSS4, true);
	slen = build(fs, &fl, 1000, 1, 0x10, NULL, 0, 500, true);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		f = bad[i].gso ? fg : fs;
		len = bad[i].gso ? glen : slen;
		bad_hdr(&h, f, len, i);
		ASSERT_EQ(2 + VH + len,
			  nl_send_vnet(fd, ETHERTAP_NL_VNET, &h, f, len));
		EXPECT_EQ(EINVAL, nl_error(fd)) TH_LOG("%s", bad[i].what);
		d.v[S_RX_ERRORS]++;
		d.v[S_RX_FRAME_ERRORS]++;
		d.v[E_RX_ERROR_VNET_HDR]++;
		EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d))
			TH_LOG("%s", bad[i].what);
	}
	/* The header and 13 bytes of frame. */
	memset(&h, 0, sizeof(h));
	ASSERT_EQ(2 + VH + 13, nl_send_vnet(fd, ETHERTAP_NL_VNET, &h, fs, 13));
	EXPECT_EQ(EINVAL, nl_error(fd));
	d.v[S_RX_ERRORS]++;
	d.v[S_RX_LENGTH_ERRORS]++;
	d.v[E_RX_ERROR_TOO_SHORT]++;
	/* The header and an Ethernet header: a frame. */
	ASSERT_EQ(2 + VH + 14, nl_send_vnet(fd, ETHERTAP_NL_VNET, &h, fs, 14));
	EXPECT_EQ(0, nl_error(fd));
	d.v[S_RX_PACKETS]++;
	d.v[S_RX_BYTES] += 14;
	close(fd);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/* ---- batch mode ---- */

/*
 * Batch and vnet: one read returns 3 datagrams, each [length of header
 * and frame][header][frame] (NEEDS_CSUM for the CSUM file); one write
 * takes 3, the second with a partial checksum; a bad header in the middle
 * of a batch: the bytes before it, then EINVAL.
 */
TEST_F(ol, batch)
{
	static const uint8_t csum_hdr[VH] = { 1, 0, 0, 0, 0, 0, 34, 0, 6, 0 };
	struct tap_stats d = { .v = { 0 } };
	uint8_t p[200], *b = self->buf, got[256];
	size_t flen = UDP_FRAME(sizeof(p)), off, len;
	struct rd rb[2] = {
		{ .name = "batch vnet", .fd = -1,
		  .flags = ETHERTAP_F_VNET_HDR | ETHERTAP_F_BATCH },
		{ .name = "batch vnet csum", .fd = -1,
		  .flags = ETHERTAP_F_VNET_HDR | ETHERTAP_F_BATCH,
		  .off = TUN_F_CSUM },
	};
	struct virtio_net_hdr *h;
	unsigned int i, k;
	struct flow fl;
	ssize_t r;

	ASSERT_EQ(0, rd_open(&rb[0], 0));
	ASSERT_EQ(0, rd_open(&rb[1], 0));
	for (i = 0; i < 3; i++) {
		memset(p, i, sizeof(p));
		ASSERT_EQ(sizeof(p), udp_send_peer(self->t.sock, 0, 4003, p,
						   sizeof(p)));
	}
	d.v[S_TX_PACKETS] = 3;
	d.v[S_TX_BYTES] = 3 * flen;
	for (k = 0; k < 2; k++) {
		r = read(rb[k].fd, b, BUF);
		ASSERT_EQ(3 * (2 + VH + flen), r) TH_LOG("%s", rb[k].name);
		for (i = 0, off = 0; i < 3; i++, off += 2 + VH + flen) {
			uint8_t *fr = b + off + 2 + VH, c[UDP_FRAME(200)];

			EXPECT_EQ(VH + flen, get16(b + off));
			EXPECT_EQ(i, fr[UDP_FRAME(0)]);
			if (!k) {
				static const uint8_t zero[VH];

				EXPECT_EQ(0, memcmp(b + off + 2, zero, VH));
				EXPECT_TRUE(csum_ok(fr, flen));
				continue;
			}
			EXPECT_EQ(0, memcmp(b + off + 2, csum_hdr, VH));
			memcpy(c, fr, flen);
			put16(c + 40, csum_fold(csum_add(0, c + 34, flen - 34)));
			EXPECT_TRUE(csum_ok(c, flen));
		}
	}

	/* Three frames in one write; the second's checksum partial. */
	flow4(&fl, IPPROTO_UDP, 0, false, 40000, self->t.port);
	for (i = 0, off = 0; i < 3; i++) {
		h = (struct virtio_net_hdr *)(b + off + 2);
		len = build(b + off + 2 + VH, &fl, i, 0, 0, NULL, 0, 100,
			    i == 1);
		if (i == 1)
			hdr_for(h, b + off + 2 + VH, len, 0);
		else
			memset(h, 0, VH);
		put16(b + off, VH + len);
		off += 2 + VH + len;
		d.v[S_RX_PACKETS]++;
		d.v[S_RX_BYTES] += len;
	}
	EXPECT_EQ(off, write(rb[0].fd, b, off));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(100, recv(self->t.sock, got, sizeof(got),
				    MSG_DONTWAIT)) TH_LOG("datagram %u", i);
		EXPECT_EQ(i, got[0]) TH_LOG("datagram %u", i);
	}
	/* Make the second one's header bad: the first is taken. */
	h = (struct virtio_net_hdr *)(b + (2 + VH + UDP_FRAME(100)) + 2);
	h->gso_type = 0x7f;
	h->gso_size = htole16(100);
	EXPECT_EQ(2 + VH + UDP_FRAME(100), write(rb[0].fd, b, off));
	errno = 0;
	EXPECT_EQ(-1, write(rb[0].fd, b + 2 + VH + UDP_FRAME(100),
			    off - (2 + VH + UDP_FRAME(100))));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(100, recv(self->t.sock, got, sizeof(got), MSG_DONTWAIT));
	EXPECT_FALSE(udp_pending(self->t.sock));
	d.v[S_RX_PACKETS]++;
	d.v[S_RX_BYTES] += UDP_FRAME(100);
	d.v[S_RX_ERRORS] += 2;		/* each refusal counts */
	d.v[S_RX_FRAME_ERRORS] += 2;
	d.v[E_RX_ERROR_VNET_HDR] += 2;
	rd_close(&rb[0]);
	rd_close(&rb[1]);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

TEST_HARNESS_MAIN
