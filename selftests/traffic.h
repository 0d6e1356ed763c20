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

#endif /* _ETHERTAP_SELFTEST_TRAFFIC_H */
