// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: concurrent load on tap0 and tap1, and exact conservation of
 * frames.
 *
 * For ETHERTAP_LOAD_SECONDS (default 3) seconds, per tap: writer threads
 * (each with its own /dev/tapN) inject valid UDP frames addressed to a
 * local socket, a UDP sender makes the stack transmit datagrams through
 * the tap, and reader threads (each with its own non-blocking file,
 * waiting in poll()) read them.  The queues are short so that copies are
 * lost.  Afterwards (senders stopped, readers drained, files closed) the
 * counters must add up exactly, per tap:
 *
 *   written                  = rx_packets                (rx_bytes too)
 *   received by the socket   = written - UDP receive errors
 *   sent                     = tx_packets + tx_dropped
 *   readers * (tx_packets + tx_dropped_queue_full)
 *          = frames read + tx_reader_copy_dropped + tx_unread_at_close
 *            + tx_read_fault
 *
 * The last one holds because every reader's file (the writers' files are
 * O_WRONLY and get no frames) is attached for the whole run: each frame the
 * tap transmits offers one copy to every reader; a copy is queued or counted in
 * tx_reader_copy_dropped, a queued copy is read or counted at close; the
 * frame counts in tx_packets if some copy was queued, in
 * tx_dropped_queue_full if none was.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "lib.h"
#include "harness.h"

#define WRITERS		2
#define READERS		3
#define SENDERS		1
#define LOAD_QLEN	64
#define RX_PORT		6000	/* writers' frames go to 10.99.N.1:6000 */
#define TX_PORT		6001	/* senders' datagrams to 10.99.N.2:6001 */

static const size_t tx_plen[2] = { 64, 300 };

struct tapload;

struct worker {
	struct tapload *tl;
	pthread_t th;
	int fd;
	unsigned int id;
	uint64_t frames, bytes, nomem, foreign;
	char err[160];
};

struct tapload {
	unsigned int n;
	int rx_sock, tx_sock;
	struct worker w[WRITERS], r[READERS], s[SENDERS], rcv;
	atomic_int stop_tx, stop_rx;
	struct tap_stats before, after;
};

static void werr(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
}

static void *writer(void *arg)
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
		} else {
			werr(w, "write %zu: %zd (%s)", len, r, strerror(errno));
			break;
		}
	}
	return NULL;
}

static void *sender(void *arg)
{
	struct worker *w = arg;
	struct tapload *tl = w->tl;
	uint8_t payload[1400];
	size_t plen = tx_plen[tl->n];
	ssize_t r;

	memset(payload, 0xc3, sizeof(payload));
	while (!atomic_load(&tl->stop_tx)) {
		r = udp_send_peer(tl->tx_sock, tl->n, TX_PORT, payload, plen);
		if (r == (ssize_t)plen) {
			w->frames++;
		} else if (r == -1 && (errno == ENOBUFS || errno == EAGAIN)) {
			w->nomem++;	/* not sent: the stack refused it */
		} else {
			werr(w, "sendto: %zd (%s)", r, strerror(errno));
			break;
		}
	}
	return NULL;
}

/* Reads frames until told to stop and then the queue is empty. */
static void *reader(void *arg)
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
			if ((size_t)r != want || buf[0] || buf[1] ||
			    get16(buf + ETHERTAP_PAD + 12) != 0x0800 ||
			    get16(buf + ETHERTAP_PAD + ETH_HDR + IP_HDR + 2) !=
			    TX_PORT)
				w->foreign++;
			else
				w->frames++;
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

static void *receiver(void *arg)
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

/* A field of the "Udp:" lines of /proc/net/snmp. */
static uint64_t udp_snmp(const char *field)
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

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

FIXTURE(load) {
	struct tapload tl[2];
};

FIXTURE_SETUP(load)
{
	unsigned int t, i;
	int big = 8 << 20;

	memset(self->tl, 0, sizeof(self->tl));
	for (t = 0; t < 2; t++) {
		struct tapload *tl = &self->tl[t];

		tl->rx_sock = tl->tx_sock = -1;
		for (i = 0; i < WRITERS; i++)
			tl->w[i].fd = -1;
		for (i = 0; i < READERS; i++)
			tl->r[i].fd = -1;
	}
	if (geteuid())
		SKIP(return, "needs root");
	if (!tap_exists(0) || !tap_exists(1))
		SKIP(return, "needs ethertap loaded with max_taps=2");
	for (t = 0; t < 2; t++) {
		struct tapload *tl = &self->tl[t];

		tl->n = t;
		/* tap_setup() disables IPv6 (also by default) before up. */
		ASSERT_EQ(0, tap_setup(t));
		ASSERT_EQ(0, tap_set_txqlen(t, LOAD_QLEN));
		tl->rx_sock = udp_socket(t, RX_PORT);
		ASSERT_LE(0, tl->rx_sock);
		if (setsockopt(tl->rx_sock, SOL_SOCKET, SO_RCVBUFFORCE, &big,
			       sizeof(big)))
			setsockopt(tl->rx_sock, SOL_SOCKET, SO_RCVBUF, &big,
				   sizeof(big));
		tl->tx_sock = udp_socket(t, 0);
		ASSERT_LE(0, tl->tx_sock);
		for (i = 0; i < WRITERS; i++) {
			tl->w[i].fd = tap_open(t, O_WRONLY);
			ASSERT_LE(0, tl->w[i].fd);
		}
		for (i = 0; i < READERS; i++) {
			tl->r[i].fd = tap_open(t, O_RDONLY | O_NONBLOCK);
			ASSERT_LE(0, tl->r[i].fd);
		}
	}
}

FIXTURE_TEARDOWN(load)
{
	unsigned int t, i;

	for (t = 0; t < 2; t++) {
		struct tapload *tl = &self->tl[t];

		for (i = 0; i < WRITERS; i++)
			if (tl->w[i].fd >= 0)
				close(tl->w[i].fd);
		for (i = 0; i < READERS; i++)
			if (tl->r[i].fd >= 0)
				close(tl->r[i].fd);
		if (tl->rx_sock >= 0)
			close(tl->rx_sock);
		if (tl->tx_sock >= 0)
			close(tl->tx_sock);
		if (tap_exists(t))
			tap_cleanup(t);
	}
}

static void start(struct __test_metadata *_metadata, struct tapload *tl,
		  struct worker *w, unsigned int id, void *(*fn)(void *))
{
	w->tl = tl;
	w->id = id;
	ASSERT_EQ(0, pthread_create(&w->th, NULL, fn, w));
}

static uint64_t delta(const struct tapload *tl, int i)
{
	return tl->after.v[i] - tl->before.v[i];
}

TEST_F_TIMEOUT(load, conservation, 300)
{
	const char *env = getenv("ETHERTAP_LOAD_SECONDS");
	double secs = env && *env ? atof(env) : 3, t0, t1;
	uint64_t udp_err0, udp_err1, written_all = 0, rcvd_all = 0;
	unsigned int t, i;

	udp_err0 = udp_snmp("InErrors");
	ASSERT_NE(UINT64_MAX, udp_err0);
	for (t = 0; t < 2; t++)
		ASSERT_EQ(0, tap_stats(t, &self->tl[t].before));

	t0 = now_s();
	for (t = 0; t < 2; t++) {
		struct tapload *tl = &self->tl[t];

		start(_metadata, tl, &tl->rcv, 0, receiver);
		for (i = 0; i < READERS; i++)
			start(_metadata, tl, &tl->r[i], i, reader);
		for (i = 0; i < WRITERS; i++)
			start(_metadata, tl, &tl->w[i], i, writer);
		for (i = 0; i < SENDERS; i++)
			start(_metadata, tl, &tl->s[i], i, sender);
	}
	usleep(secs * 1e6);

	/* Stop the traffic: after the joins every frame is queued or lost. */
	for (t = 0; t < 2; t++)
		atomic_store(&self->tl[t].stop_tx, 1);
	for (t = 0; t < 2; t++) {
		struct tapload *tl = &self->tl[t];

		for (i = 0; i < WRITERS; i++)
			pthread_join(tl->w[i].th, NULL);
		for (i = 0; i < SENDERS; i++)
			pthread_join(tl->s[i].th, NULL);
	}
	/* Readers drain their queues and stop; then every file closes. */
	for (t = 0; t < 2; t++)
		atomic_store(&self->tl[t].stop_rx, 1);
	for (t = 0; t < 2; t++) {
		struct tapload *tl = &self->tl[t];

		for (i = 0; i < READERS; i++)
			pthread_join(tl->r[i].th, NULL);
		pthread_join(tl->rcv.th, NULL);
		for (i = 0; i < READERS; i++) {
			close(tl->r[i].fd);
			tl->r[i].fd = -1;
		}
		for (i = 0; i < WRITERS; i++) {
			close(tl->w[i].fd);
			tl->w[i].fd = -1;
		}
	}
	t1 = now_s();
	udp_err1 = udp_snmp("InErrors");

	for (t = 0; t < 2; t++) {
		struct tapload *tl = &self->tl[t];
		uint64_t written = 0, wbytes = 0, nomem = 0, sent = 0;
		uint64_t refused = 0, nread = 0, foreign = 0;
		uint64_t tx, drop, full, copy, unread, fault, files;
		size_t flen = UDP_FRAME(tx_plen[t]);
		char rd[128];
		int off = 0;

		ASSERT_EQ(0, tap_stats(t, &tl->after));
		for (i = 0; i < WRITERS; i++) {
			EXPECT_EQ(0, tl->w[i].err[0])
				TH_LOG("tap%u writer %u: %s", t, i, tl->w[i].err);
			written += tl->w[i].frames;
			wbytes += tl->w[i].bytes;
			nomem += tl->w[i].nomem;
		}
		for (i = 0; i < SENDERS; i++) {
			EXPECT_EQ(0, tl->s[i].err[0])
				TH_LOG("tap%u sender %u: %s", t, i, tl->s[i].err);
			sent += tl->s[i].frames;
			refused += tl->s[i].nomem;
		}
		for (i = 0; i < READERS; i++) {
			EXPECT_EQ(0, tl->r[i].err[0])
				TH_LOG("tap%u reader %u: %s", t, i, tl->r[i].err);
			EXPECT_GE(delta(tl, S_TX_PACKETS), tl->r[i].frames);
			nread += tl->r[i].frames;
			foreign += tl->r[i].foreign;
			off += snprintf(rd + off, sizeof(rd) - off, "%s%" PRIu64,
					i ? "+" : "", tl->r[i].frames);
		}
		EXPECT_EQ(0, tl->rcv.err[0]) TH_LOG("tap%u: %s", t, tl->rcv.err);
		tx = delta(tl, S_TX_PACKETS);
		drop = delta(tl, S_TX_DROPPED);
		full = delta(tl, E_TX_DROPPED_QUEUE_FULL);
		copy = delta(tl, E_TX_READER_COPY_DROPPED);
		unread = delta(tl, E_TX_UNREAD_AT_CLOSE);
		fault = delta(tl, E_TX_READ_FAULT);
		files = READERS;

		printf("# load: tap%u written %" PRIu64 ", rx %" PRIu64
		       ", socket got %" PRIu64 "; sent %" PRIu64 ", tx %" PRIu64
		       ", dropped %" PRIu64 " (all queues full %" PRIu64
		       "), read %" PRIu64 " (%s), copies dropped %" PRIu64
		       ", unread at close %" PRIu64 "\n", t, written,
		       delta(tl, S_RX_PACKETS), tl->rcv.frames, sent, tx, drop,
		       full, nread, rd, copy, unread);

		/* The receive side. */
		EXPECT_LT(0, written);
		EXPECT_EQ(written, delta(tl, S_RX_PACKETS));
		EXPECT_EQ(wbytes, delta(tl, S_RX_BYTES));
		EXPECT_EQ(0, delta(tl, S_RX_ERRORS));
		EXPECT_EQ(nomem, delta(tl, S_RX_DROPPED));
		EXPECT_EQ(nomem, delta(tl, E_RX_DROPPED_NOMEM));
		written_all += written;
		rcvd_all += tl->rcv.frames;

		/* The transmit side. */
		EXPECT_LT(0, sent);
		EXPECT_LT(0, nread);
		EXPECT_EQ(0, foreign) TH_LOG("tap%u: %" PRIu64 " frames not ours",
					     t, foreign);
		EXPECT_EQ(sent, tx + drop) TH_LOG("tap%u: sent %" PRIu64
						  ", tx %" PRIu64 " + dropped %"
						  PRIu64, t, sent, tx, drop);
		EXPECT_EQ(full + delta(tl, E_TX_DROPPED_NOMEM), drop);
		EXPECT_EQ(0, delta(tl, E_TX_DROPPED_NO_READER));
		EXPECT_EQ(tx * flen, delta(tl, S_TX_BYTES));
		EXPECT_EQ(0, delta(tl, E_TX_READ_TRUNCATED));
		EXPECT_EQ(files * (tx + full), nread + foreign + copy + unread + fault)
			TH_LOG("tap%u: %" PRIu64 " files x (tx %" PRIu64
			       " + all-full %" PRIu64 ") != read %" PRIu64
			       " + copies dropped %" PRIu64 " + unread %"
			       PRIu64 " + fault %" PRIu64, t, files, tx, full,
			       nread + foreign, copy, unread, fault);
		/*
		 * The readers emptied their queues before closing; the
		 * writers' files are write-only and queue nothing.
		 */
		EXPECT_EQ(0, unread);
		if (refused)
			printf("# load: tap%u: %" PRIu64 " sends refused\n", t,
			       refused);
	}
	/* Every written datagram reached the sockets or was counted lost. */
	printf("# load: sockets got %" PRIu64 " of %" PRIu64
	       " written, UDP InErrors +%" PRIu64 ", %.1f s\n", rcvd_all,
	       written_all, udp_err1 - udp_err0, t1 - t0);
	EXPECT_EQ(written_all, rcvd_all + (udp_err1 - udp_err0));
}

TEST_HARNESS_MAIN
