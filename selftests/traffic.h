/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Traffic through a tap for the load and churn selftests: per tap, writer
 * threads inject valid UDP frames to a local socket through /dev/tapN
 * (each with its own O_WRONLY file), a UDP sender makes the stack transmit
 * datagrams through the tap, reader threads (each with its own
 * non-blocking file, waiting in poll()) read them, and a receiver drains
 * the local socket.  Every thread counts what it did; the tests compare
 * the counts with the tap's counters.
 *
 * Include after lib.h and before harness.h.
 */
#ifndef _ETHERTAP_SELFTEST_TRAFFIC_H
#define _ETHERTAP_SELFTEST_TRAFFIC_H

#include <linux/sock_diag.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#define WRITERS		2
#define READERS		3
#define SENDERS		1
#define RX_PORT		6000	/* writers' frames go to 10.99.N.1:6000 */
#define TX_PORT		6001	/* senders' datagrams to 10.99.N.2:6001 */

static const size_t tx_plen[2] = { 64, 300 };

struct tapload;

struct worker {
	struct tapload *tl;
	pthread_t th;
	int fd;
	unsigned int id;
	/*
	 * frames/bytes: done (written, sent, read as the sender's datagram);
	 * nomem: writes refused with ENOMEM, sends the stack refused;
	 * down, toolong: writes refused with ENETDOWN, EMSGSIZE (churn only);
	 * arp, foreign: frames read that are ARP, that are anything else.
	 */
	uint64_t frames, bytes, nomem, down, toolong, arp, foreign;
	char err[160];
};

struct tapload {
	unsigned int n;
	int rx_sock, tx_sock;
	struct worker w[WRITERS], r[READERS], s[SENDERS], rcv;
	atomic_int stop_tx, stop_rx;
	struct tap_stats before, after;
	/*
	 * churn: the link goes down and up, changes MTU and ARP mode, so
	 * writes may fail with ENETDOWN or EMSGSIZE and sends with the
	 * errors of an unreachable network; they are counted, not errors.
	 */
	bool churn;
	/*
	 * If set, each send holds it, and @offered adds the number of files
	 * reading the tap at that moment (READERS + @extra_readers) for each
	 * datagram sent: another thread opening or closing files under it
	 * keeps the count of copies offered to readers exact.
	 */
	pthread_mutex_t *tx_lock;
	unsigned int extra_readers;
	/* Microseconds writers and senders sleep after each frame. */
	unsigned int pace_us;
	uint64_t offered;
};

static inline void werr(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
}

static inline void *traffic_writer(void *arg)
{
	struct worker *w = arg;
	struct tapload *tl = w->tl;
	uint8_t payload[1400], frame[1600];
	uint32_t x = 0x9e3779b9 * (w->id + 1) + tl->n;
	size_t plen, len;
	ssize_t r;

	memset(payload, 0x5a, sizeof(payload));
	while (!atomic_load(&tl->stop_tx)) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		plen = x % sizeof(payload);
		len = build_to_tap(frame, tl->n, RX_PORT, payload, plen);
		r = write(w->fd, frame, len);
		if (r == (ssize_t)len) {
			w->frames++;
			w->bytes += len - ETHERTAP_PAD;
		} else if (r == -1 && errno == ENOMEM) {
			w->nomem++;
		} else if (r == -1 && errno == ENETDOWN && tl->churn) {
			w->down++;
		} else if (r == -1 && errno == EMSGSIZE && tl->churn) {
			w->toolong++;
		} else {
			werr(w, "write %zu: %zd (%s)", len, r, strerror(errno));
			break;
		}
		if (tl->pace_us)
			usleep(tl->pace_us);
	}
	return NULL;
}

/* Errors a send may meet while the link goes down and up or ARP changes. */
static inline bool churn_send_error(int e)
{
	return e == ENETUNREACH || e == ENETDOWN || e == EHOSTUNREACH;
}

static inline void *traffic_sender(void *arg)
{
	struct worker *w = arg;
	struct tapload *tl = w->tl;
	uint8_t payload[1400];
	size_t plen = tx_plen[tl->n];
	unsigned int files = 0;
	ssize_t r;

	memset(payload, 0xc3, sizeof(payload));
	while (!atomic_load(&tl->stop_tx)) {
		if (tl->tx_lock) {
			pthread_mutex_lock(tl->tx_lock);
			files = READERS + tl->extra_readers;
		}
		r = udp_send_peer(tl->tx_sock, tl->n, TX_PORT, payload, plen);
		if (r == (ssize_t)plen)
			tl->offered += files;
		if (tl->tx_lock)
			pthread_mutex_unlock(tl->tx_lock);
		if (r == (ssize_t)plen) {
			w->frames++;
		} else if (r == -1 && (errno == ENOBUFS || errno == EAGAIN ||
				       (tl->churn && churn_send_error(errno)))) {
			w->nomem++;	/* not sent: the stack refused it */
			if (tl->churn)
				usleep(100);
		} else {
			werr(w, "sendto: %zd (%s)", r, strerror(errno));
			break;
		}
		if (tl->pace_us)
			usleep(tl->pace_us);
	}
	return NULL;
}

/* Reads frames until told to stop and then the queue is empty. */
static inline void *traffic_reader(void *arg)
{
	struct worker *w = arg;
	struct tapload *tl = w->tl;
	size_t want = ETHERTAP_PAD + UDP_FRAME(tx_plen[tl->n]);
	struct pollfd p = { .fd = w->fd, .events = POLLIN };
	uint8_t buf[2048];
	ssize_t r;

	for (;;) {
		int stopping = atomic_load(&tl->stop_rx);

		r = read(w->fd, buf, sizeof(buf));
		if (r >= 0) {
			if ((size_t)r == want && !buf[0] && !buf[1] &&
			    get16(buf + ETHERTAP_PAD + 12) == 0x0800 &&
			    get16(buf + ETHERTAP_PAD + ETH_HDR + IP_HDR + 2) ==
			    TX_PORT)
				w->frames++;
			else if (r >= ETHERTAP_PAD + ETH_HDR &&
				 get16(buf + ETHERTAP_PAD + 12) == 0x0806)
				w->arp++;
			else
				w->foreign++;
			continue;
		}
		if (errno != EAGAIN) {
			werr(w, "read: %s", strerror(errno));
			break;
		}
		/* Empty: done if the senders had stopped before we looked. */
		if (stopping)
			break;
		if (poll(&p, 1, 20) < 0) {
			werr(w, "poll: %s", strerror(errno));
			break;
		}
	}
	return NULL;
}

static inline void *traffic_receiver(void *arg)
{
	struct worker *w = arg;
	struct tapload *tl = w->tl;
	struct pollfd p = { .fd = tl->rx_sock, .events = POLLIN };
	uint8_t buf[2048];
	ssize_t r;

	for (;;) {
		int stopping = atomic_load(&tl->stop_rx);

		r = recv(tl->rx_sock, buf, sizeof(buf), MSG_DONTWAIT);
		if (r >= 0) {
			w->frames++;
			continue;
		}
		if (errno != EAGAIN) {
			werr(w, "recv: %s", strerror(errno));
			break;
		}
		if (stopping)
			break;
		poll(&p, 1, 20);
	}
	return NULL;
}

/* Datagrams socket @fd dropped (SK_MEMINFO_DROPS); UINT64_MAX on error. */
static inline uint64_t sock_drops(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t ml = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &ml))
		return UINT64_MAX;
	return mem[SK_MEMINFO_DROPS];
}

/* A field of the "Udp:" lines of /proc/net/snmp. */
static inline uint64_t udp_snmp(const char *field)
{
	char line[2][1024], *names, *vals, *sn, *sv, *n, *v;
	uint64_t ret = UINT64_MAX;
	FILE *f = fopen("/proc/net/snmp", "r");

	if (!f)
		return ret;
	while (fgets(line[0], sizeof(line[0]), f)) {
		if (strncmp(line[0], "Udp:", 4))
			continue;
		if (!fgets(line[1], sizeof(line[1]), f))
			break;
		names = line[0] + 4;
		vals = line[1] + 4;
		for (n = strtok_r(names, " \n", &sn),
		     v = strtok_r(vals, " \n", &sv); n && v;
		     n = strtok_r(NULL, " \n", &sn),
		     v = strtok_r(NULL, " \n", &sv)) {
			if (!strcmp(n, field)) {
				ret = strtoull(v, NULL, 10);
				break;
			}
		}
		break;
	}
	fclose(f);
	return ret;
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Set up tapN for traffic (address, up, txqueuelen @qlen, both sockets,
 * the writers' and readers' files).  0 or -1.
 */
static inline int tapload_setup(struct tapload *tl, unsigned int n,
				unsigned int qlen)
{
	int big = 8 << 20;
	unsigned int i;

	tl->n = n;
	/* tap_setup_quick() disables IPv6 (also by default) before up. */
	if (tap_setup_quick(n, qlen))
		return -1;
	tl->rx_sock = udp_socket(n, RX_PORT);
	if (tl->rx_sock < 0)
		return -1;
	if (setsockopt(tl->rx_sock, SOL_SOCKET, SO_RCVBUFFORCE, &big,
		       sizeof(big)))
		setsockopt(tl->rx_sock, SOL_SOCKET, SO_RCVBUF, &big,
			   sizeof(big));
	tl->tx_sock = udp_socket(n, 0);
	if (tl->tx_sock < 0)
		return -1;
	for (i = 0; i < WRITERS; i++) {
		tl->w[i].fd = tap_open(n, O_WRONLY | O_CLOEXEC);
		if (tl->w[i].fd < 0)
			return -1;
	}
	for (i = 0; i < READERS; i++) {
		tl->r[i].fd = tap_open(n, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (tl->r[i].fd < 0)
			return -1;
	}
	return 0;
}

/* Mark every descriptor of @tl unused (before tapload_setup()). */
static inline void tapload_init(struct tapload *tl)
{
	unsigned int i;

	memset(tl, 0, sizeof(*tl));
	tl->rx_sock = tl->tx_sock = -1;
	for (i = 0; i < WRITERS; i++)
		tl->w[i].fd = -1;
	for (i = 0; i < READERS; i++)
		tl->r[i].fd = -1;
}

static inline void tapload_close_files(struct tapload *tl)
{
	unsigned int i;

	for (i = 0; i < READERS; i++) {
		if (tl->r[i].fd >= 0)
			close(tl->r[i].fd);
		tl->r[i].fd = -1;
	}
	for (i = 0; i < WRITERS; i++) {
		if (tl->w[i].fd >= 0)
			close(tl->w[i].fd);
		tl->w[i].fd = -1;
	}
}

static inline void tapload_teardown(struct tapload *tl)
{
	tapload_close_files(tl);
	if (tl->rx_sock >= 0)
		close(tl->rx_sock);
	if (tl->tx_sock >= 0)
		close(tl->tx_sock);
	tl->rx_sock = tl->tx_sock = -1;
	if (tap_exists(tl->n))
		tap_cleanup_quick(tl->n);
}

static inline int tapload_start1(struct tapload *tl, struct worker *w,
				 unsigned int id, void *(*fn)(void *))
{
	w->tl = tl;
	w->id = id;
	return pthread_create(&w->th, NULL, fn, w);
}

/* Start the receiver, readers, writers and senders of @tl.  0 or -1. */
static inline int tapload_start(struct tapload *tl)
{
	unsigned int i;
	int err = tapload_start1(tl, &tl->rcv, 0, traffic_receiver);

	for (i = 0; i < READERS && !err; i++)
		err = tapload_start1(tl, &tl->r[i], i, traffic_reader);
	for (i = 0; i < WRITERS && !err; i++)
		err = tapload_start1(tl, &tl->w[i], i, traffic_writer);
	for (i = 0; i < SENDERS && !err; i++)
		err = tapload_start1(tl, &tl->s[i], i, traffic_sender);
	return err ? -1 : 0;
}

/* Stop the writers and senders: after this every frame is queued or lost. */
static inline void tapload_stop_tx(struct tapload *tl)
{
	unsigned int i;

	atomic_store(&tl->stop_tx, 1);
	for (i = 0; i < WRITERS; i++)
		pthread_join(tl->w[i].th, NULL);
	for (i = 0; i < SENDERS; i++)
		pthread_join(tl->s[i].th, NULL);
}

/* Then the readers drain their queues and stop; every file closes. */
static inline void tapload_stop_rx(struct tapload *tl)
{
	unsigned int i;

	atomic_store(&tl->stop_rx, 1);
	for (i = 0; i < READERS; i++)
		pthread_join(tl->r[i].th, NULL);
	pthread_join(tl->rcv.th, NULL);
	tapload_close_files(tl);
}

static inline uint64_t tapload_delta(const struct tapload *tl, int i)
{
	return tl->after.v[i] - tl->before.v[i];
}

/*
 * ---- structured frames for the seeded fuzzers (fuzz.c, nlfuzz.c) ----
 *
 * fuzz_frame() writes the headers of one protocol over a frame whose
 * length the fuzzer chose and whose bytes it filled at random: the layouts
 * of selftests/ethertap.txt (syzkaller's eth_packet, ipv4_packet,
 * ipv6_packet and arp_packet of sys/linux/vnet.txt), cut where the frame
 * ends, the rest left as payload.  Fields are mostly right and sometimes
 * wrong (IHL, lengths, fragment offset, checksums, options); the frame's
 * length never changes, so the fuzzers' models of each write stay exact.
 *
 * fuzz_proto_name[] is the list selftests/fuzzdesc.sh compares with the
 * union ethertap_proto of ethertap.txt: keep the two in step.
 */
enum { FP_IPV4, FP_IPV6, FP_ARP, FP_VLAN, FP_OTHER, FP_NR };

static const char *const fuzz_proto_name[FP_NR] = {
	"ipv4", "ipv6", "arp", "vlan", "other",
};

/*
 * Print the frames a fuzzer wrote per protocol as figures, and check that
 * a run of @min_ops operations or more wrote some of each.  Returns the
 * number of protocols with none (0 if the run was shorter).
 */
static inline unsigned int fuzz_protos_report(const uint64_t *protos,
					      uint64_t ops, uint64_t min_ops)
{
	unsigned int c, missing = 0;

	for (c = 0; c < FP_NR; c++) {
		printf("# figure: frames_fuzzed_%s %" PRIu64 "\n",
		       fuzz_proto_name[c], protos[c]);
		if (ops >= min_ops && !protos[c]) {
			printf("# no %s frame\n", fuzz_proto_name[c]);
			missing++;
		}
	}
	return missing;
}

static inline uint32_t fz_below(struct rng *r, uint32_t n)
{
	return rng_below(r, n);
}

/* The one's complement checksum of @c, right or (one time in @bad) wrong. */
static inline uint16_t fz_csum(struct rng *r, uint16_t c, unsigned int bad)
{
	/* XOR with 1..0xfffe never turns 0 into 0xffff or back. */
	if (bad && !fz_below(r, bad))
		c ^= 1 + fz_below(r, 0xfffe);
	return c;
}

/* Sum of @n bytes of the frame at @off: header bytes in @h, the rest in @f. */
static inline uint32_t fz_sum(const uint8_t *h, size_t hl, const uint8_t *f,
			      size_t off, size_t n)
{
	size_t inh = off < hl ? (hl - off < n ? hl - off : n) : 0;
	uint32_t sum = csum_add(0, h + off, inh);

	/* inh is even whenever n > inh: headers end on even offsets. */
	return csum_add(sum, f + off + inh, n - inh);
}

static inline void fz_ipv4_addr(uint8_t *p, unsigned int n, unsigned int host)
{
	p[0] = 10;
	p[1] = 99;
	p[2] = n;
	p[3] = host;
}

/*
 * An L4 header (UDP, TCP or ICMP; ICMPv6 if @v6) at h[@l4] and its
 * checksum over the bytes up to @end (the frame's bytes after the
 * headers are in @f).  @ph: the pseudo-header's sum.  Returns the new
 * header length.
 */
static inline size_t fz_l4(struct rng *r, uint8_t *h, size_t l4, int proto,
			   const uint8_t *f, size_t end, uint32_t ph, int v6)
{
	static const uint8_t icmp_types[] = { 0, 8, 13, 14, 17, 18 };
	static const uint8_t icmp6_types[] = { 1, 2, 3, 4, 128, 129 };
	size_t hl, l4len = end > l4 ? end - l4 : 0, sumoff;
	uint16_t c;

	switch (proto) {
	case IPPROTO_UDP:
		hl = 8;
		put16(h + l4, 1024 + fz_below(r, 60000));
		put16(h + l4 + 2, fz_below(r, 4) ? 9 + fz_below(r, 3) :
			      fz_below(r, 65536));
		put16(h + l4 + 4, fz_below(r, 8) ? l4len : fz_below(r, 65536));
		sumoff = 6;
		break;
	case IPPROTO_TCP:
		hl = 20;
		put16(h + l4, 1024 + fz_below(r, 60000));
		put16(h + l4 + 2, fz_below(r, 65536));
		memcpy(h + l4 + 4, &(uint64_t){ rng_next(r) }, 8);
		/* Data offset 5 mostly; flags SYN mostly, else random. */
		h[l4 + 12] = (fz_below(r, 8) ? 5 : fz_below(r, 16)) << 4;
		h[l4 + 13] = fz_below(r, 2) ? 0x02 : fz_below(r, 256);
		put16(h + l4 + 14, fz_below(r, 65536));
		put16(h + l4 + 18, 0);
		sumoff = 16;
		break;
	default:	/* ICMP, ICMPv6: never redirects or "too big" */
		hl = 8;
		h[l4] = v6 ? icmp6_types[fz_below(r, sizeof(icmp6_types))] :
			     icmp_types[fz_below(r, sizeof(icmp_types))];
		h[l4 + 1] = fz_below(r, 4) ? 0 : fz_below(r, 256);
		memcpy(h + l4 + 4, &(uint32_t){ rng_next(r) }, 4);
		sumoff = 2;
		break;
	}
	put16(h + l4 + sumoff, 0);
	ph += proto == IPPROTO_ICMP ? 0 : (uint32_t)(l4len >> 16) + (l4len & 0xffff);
	c = csum_fold(fz_sum(h, l4 + hl, f, l4, l4len) + ph);
	if (proto == IPPROTO_UDP && !c)
		c = 0xffff;
	put16(h + l4 + sumoff, fz_csum(r, c, 4));
	return l4 + hl;
}

/*
 * An IPv4 header and its payload's header at h[@l3]; @quiet: a header
 * checksum always wrong.  Returns the headers' length.
 */
static inline size_t fz_ipv4(struct rng *r, uint8_t *h, size_t l3,
			     const uint8_t *f, size_t len, unsigned int n,
			     bool quiet)
{
	static const uint8_t protos[] = { IPPROTO_UDP, IPPROTO_TCP,
					  IPPROTO_ICMP };
	size_t ihl = 5, tot, end, i;
	uint8_t proto;
	uint32_t ph;

	switch (fz_below(r, 8)) {
	case 0:
		ihl = 6 + fz_below(r, 10);	/* options */
		break;
	case 1:
		ihl = fz_below(r, 16);		/* maybe too small */
		break;
	}
	h[l3] = (fz_below(r, 32) ? 4 : fz_below(r, 16)) << 4 | ihl;
	h[l3 + 1] = fz_below(r, 4) ? 0 : fz_below(r, 256);
	tot = len > l3 ? len - l3 : 0;
	if (tot > 65535)
		tot = 65535;
	if (!fz_below(r, 6))
		tot = fz_below(r, 2) ? fz_below(r, tot + 1) :
		      fz_below(r, 65536);
	put16(h + l3 + 2, tot);
	put16(h + l3 + 4, fz_below(r, 65536));
	switch (fz_below(r, 6)) {
	case 0:
		put16(h + l3 + 6, 0x2000 | fz_below(r, 0x2000));  /* MF */
		break;
	case 1:
		put16(h + l3 + 6, fz_below(r, 65536));
		break;
	default:
		put16(h + l3 + 6, fz_below(r, 2) ? 0x4000 : 0);	   /* DF */
	}
	h[l3 + 8] = fz_below(r, 4) ? 64 : fz_below(r, 3);
	proto = fz_below(r, 16) ? protos[fz_below(r, 3)] : fz_below(r, 256);
	h[l3 + 9] = proto;
	put16(h + l3 + 10, 0);
	switch (fz_below(r, 4)) {
	case 0:
		memcpy(h + l3 + 12, &(uint32_t){ rng_next(r) }, 4);
		break;
	default:
		fz_ipv4_addr(h + l3 + 12, n, 2);
	}
	switch (fz_below(r, 8)) {
	case 0:
		memset(h + l3 + 16, 0xff, 4);
		break;
	case 1:
		fz_ipv4_addr(h + l3 + 16, n, 255);
		break;
	case 2:
		memcpy(h + l3 + 16, "\xe0\x00\x00\x01", 4);
		break;
	case 3:
		memcpy(h + l3 + 16, &(uint32_t){ rng_next(r) }, 4);
		break;
	default:
		fz_ipv4_addr(h + l3 + 16, n, 1);
	}
	/* Options: NOPs, an end, or random bytes. */
	for (i = 20; i < ihl * 4; i++)
		h[l3 + i] = fz_below(r, 4) ? 1 : fz_below(r, 2) ? 0 :
			    fz_below(r, 256);
	i = ihl < 5 ? 20 : ihl * 4;
	put16(h + l3 + 10, csum_fold(csum_add(0, h + l3, i)));
	put16(h + l3 + 10, quiet ? fz_csum(r, get16(h + l3 + 10), 1) :
			   fz_csum(r, get16(h + l3 + 10), 8));
	if (proto != IPPROTO_UDP && proto != IPPROTO_TCP &&
	    proto != IPPROTO_ICMP)
		return l3 + i;
	end = l3 + (tot > i ? tot : i);
	if (end > len)
		end = len;
	/* ICMP has no pseudo-header. */
	ph = proto == IPPROTO_ICMP ? 0 : csum_add(0, h + l3 + 12, 8) + proto;
	return fz_l4(r, h, l3 + i, proto, f, end, ph, 0);
}

/* An IPv6 header, sometimes an extension header, then UDP, TCP or ICMPv6. */
static inline size_t fz_ipv6(struct rng *r, uint8_t *h, size_t l3,
			     const uint8_t *f, size_t len, unsigned int n)
{
	static const uint8_t protos[] = { IPPROTO_UDP, IPPROTO_TCP,
					  IPPROTO_ICMPV6 };
	size_t plen = len > l3 + 40 ? len - l3 - 40 : 0, l4 = l3 + 40, end;
	uint8_t proto = protos[fz_below(r, 3)], *nh = h + l3 + 6;
	uint32_t ph;

	memcpy(h + l3, &(uint32_t){ rng_next(r) }, 4);
	h[l3] = 0x60 | (h[l3] & 0x0f);
	if (plen > 65535)
		plen = 65535;
	if (!fz_below(r, 6))
		plen = fz_below(r, 65536);
	put16(h + l3 + 4, plen);
	h[l3 + 7] = fz_below(r, 2) ? 255 : fz_below(r, 256);
	/* Source fe80::2, or random; destination ours, all-nodes, random. */
	memset(h + l3 + 8, 0, 32);
	h[l3 + 8] = 0xfe;
	h[l3 + 9] = 0x80;
	h[l3 + 23] = 2;
	if (!fz_below(r, 4))
		memcpy(h + l3 + 8, &(uint64_t[2]){ rng_next(r), rng_next(r) },
		       16);
	switch (fz_below(r, 3)) {
	case 0:		/* fe80::fcfd:ff:fe00:N, tapN's link-local */
		memcpy(h + l3 + 24, "\xfe\x80\0\0\0\0\0\0\xfc\xfd\0\xff\xfe\0",
		       14);
		h[l3 + 38] = n >> 8;
		h[l3 + 39] = n;
		break;
	case 1:
		memcpy(h + l3 + 24, "\xff\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\x01",
		       16);
		break;
	default:
		memcpy(h + l3 + 24, &(uint64_t[2]){ rng_next(r), rng_next(r) },
		       16);
	}
	if (!fz_below(r, 4)) {
		/* Hop-by-hop or destination options: PadN over 6 bytes. */
		*nh = fz_below(r, 2) ? 0 : 60;
		nh = h + l4;
		h[l4 + 1] = 0;
		h[l4 + 2] = 1;
		h[l4 + 3] = 4;
		memset(h + l4 + 4, 0, 4);
		l4 += 8;
	}
	*nh = proto;
	end = l3 + 40 + plen < len ? l3 + 40 + plen : len;
	ph = csum_add(0, h + l3 + 8, 32) + proto;
	return fz_l4(r, h, l4, proto, f, end, ph, 1);
}

/*
 * Write over @f (@len bytes, a padded frame of random bytes) the headers
 * of a @proto frame for tapN, as far as they fit; the padding is zero.
 * @quiet: nothing the stack would answer or learn from (a destination
 * MAC address not tapN's, or an IPv4 header checksum always wrong), for
 * a fuzzer that predicts every frame the taps transmit.  Returns the
 * ethertype at offset 12 of the frame (0 if it has none).
 */
static inline uint16_t fuzz_frame(struct rng *r, unsigned int proto,
				  uint8_t *f, size_t len, unsigned int n,
				  bool quiet)
{
	const uint8_t peer[6] = PEER_MAC;
	uint8_t h[ETHERTAP_PAD + 18 + 60 + 8 + 20 + 40];
	size_t hl = ETHERTAP_PAD + 12, l3;
	uint8_t *eth = h + ETHERTAP_PAD;
	uint16_t type;

	if (proto >= FP_OTHER)
		return len >= ETHERTAP_MIN_FRAME ?
		       get16(f + ETHERTAP_PAD + 12) : 0;
	memset(h, 0, sizeof(h));
	/* tapN's address, broadcast, multicast, another host's (unicast). */
	switch (fz_below(r, 8)) {
	case 0:
		memset(eth, 0xff, 6);
		break;
	case 1:
		memcpy(eth, "\x01\x00\x5e\x00\x00\x01", 6);
		break;
	case 2:
		memcpy(eth, "\x02\x00\x00\x00\x00\x07", 6);
		break;
	default:
		tap_mac(n, eth);
	}
	if (proto == FP_ARP && !fz_below(r, 2))
		memset(eth, 0xff, 6);		/* requests are broadcast */
	if (quiet && (proto == FP_ARP || proto == FP_IPV6))
		memcpy(eth, "\x02\x00\x00\x00\x00\x07", 6);
	memcpy(eth + 6, peer, 6);
	if (!fz_below(r, 8)) {
		memcpy(eth + 6, &(uint64_t){ rng_next(r) }, 6);
		eth[6] &= 0xfe;			/* unicast */
	}
	type = proto == FP_IPV4 ? 0x0800 : proto == FP_IPV6 ? 0x86dd :
	       proto == FP_ARP ? 0x0806 : fz_below(r, 4) ? 0x8100 : 0x88a8;
	put16(h + hl, type);
	hl += 2;
	if (proto == FP_VLAN) {
		/* Priority and VLAN id (0 sometimes: priority-tagged). */
		put16(h + hl, fz_below(r, 3) ? fz_below(r, 65536) :
			      fz_below(r, 8) << 13);
		hl += 2;
		if (type == 0x88a8 && fz_below(r, 2)) {	/* 802.1ad + 802.1Q */
			put16(h + hl, 0x8100);
			put16(h + hl + 2, fz_below(r, 65536));
			hl += 4;
		}
		put16(h + hl, 0x0800);
		hl += 2;
	}
	l3 = hl;
	switch (proto) {
	case FP_IPV4:
	case FP_VLAN:
		hl = fz_ipv4(r, h, l3, f, len, n, quiet);
		break;
	case FP_IPV6:
		hl = fz_ipv6(r, h, l3, f, len, n);
		break;
	case FP_ARP:
		/* Ethernet/IPv4 mostly; an operation request or reply. */
		put16(h + l3, fz_below(r, 8) ? 1 : fz_below(r, 65536));
		put16(h + l3 + 2, fz_below(r, 8) ? 0x0800 : fz_below(r, 65536));
		h[l3 + 4] = fz_below(r, 8) ? 6 : fz_below(r, 256);
		h[l3 + 5] = fz_below(r, 8) ? 4 : fz_below(r, 256);
		put16(h + l3 + 6, fz_below(r, 8) ? 1 + fz_below(r, 2) :
			      fz_below(r, 65536));
		memcpy(h + l3 + 8, eth + 6, 6);
		/* Never from 10.99.N.1 or .2: the neighbour's entry stays. */
		if (fz_below(r, 4))
			fz_ipv4_addr(h + l3 + 14, n, 3 + fz_below(r, 250));
		else
			memcpy(h + l3 + 14, &(uint32_t){ rng_next(r) }, 4);
		if (fz_below(r, 2))
			tap_mac(n, h + l3 + 18);
		/* Target: tapN's address mostly, another sometimes. */
		fz_ipv4_addr(h + l3 + 24, n, fz_below(r, 4) ? 1 :
			     fz_below(r, 256));
		hl = l3 + 28;
		break;
	}
	memcpy(f, h, hl < len ? hl : len);
	return len >= ETHERTAP_MIN_FRAME ? type : 0;
}

#endif /* _ETHERTAP_SELFTEST_TRAFFIC_H */
