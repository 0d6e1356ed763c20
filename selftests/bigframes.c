// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: 64 KB frames through tap0 (MTU 65000) while free memory is
 * fragmented into order-0 pages (issue 13).
 *
 * A helper process fills most of the free memory with anonymous pages and
 * gives back every other 4 KiB page, after the page cache has been filled
 * by reading files; /proc/buddyinfo before and after shows that hardly any
 * free block of order >= 4 is left (else the test skips).  Then N UDP
 * datagrams of 64000 bytes go out through tap0 to a reader on /dev/tap0,
 * and N frames of the same size are written to /dev/tap0 for a UDP socket
 * on 10.99.0.1.  Every frame must be accounted for exactly: read (whole,
 * with its payload) or delivered, or counted as a drop; and the kernel log
 * must show no page allocation failure, WARNING or BUG.  Needs root and
 * the modules loaded with max_taps >= 2.
 */
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "lib.h"
#include "harness.h"

#define MTU		65000
#define NFRAMES		200
#define PLEN		64000
#define BIG_FRAME	(ETHERTAP_PAD + UDP_FRAME(PLEN))	/* 64044 */
#define READ_BUF	65100
#define PEER_PORT	5557
#define MARGIN_MB	64
#define HIGH_ORDER	4
#define PAGE_CACHE_MB	128

/* ---- /proc ---- */

/* Seconds since the test started, for the comments. */
static double elapsed(void)
{
	static struct timespec t0;
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	if (!t0.tv_sec)
		t0 = t;
	return (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
}

/* Free pages in blocks of order >= HIGH_ORDER in zones DMA32 and Normal. */
static long buddy_high(int print, const char *when)
{
	char line[512], zone[32];
	long total = 0;
	FILE *f = fopen("/proc/buddyinfo", "r");

	if (!f)
		return -1;
	if (print)
		fprintf(stderr, "# buddyinfo %s (%.1f s):\n", when, elapsed());
	while (fgets(line, sizeof(line), f)) {
		unsigned long c[11] = {};
		int node, o;

		if (print)
			fprintf(stderr, "#   %s", line);
		if (sscanf(line, "Node %d, zone %31s %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu",
			   &node, zone, &c[0], &c[1], &c[2], &c[3], &c[4],
			   &c[5], &c[6], &c[7], &c[8], &c[9], &c[10]) < 3)
			continue;
		if (strcmp(zone, "DMA32") && strcmp(zone, "Normal"))
			continue;
		for (o = HIGH_ORDER; o < 11; o++)
			total += c[o] << o;
	}
	fclose(f);
	if (print)
		fprintf(stderr, "# pages free in blocks of order >= %d: %ld\n",
			HIGH_ORDER, total);
	return total;
}

/* A /proc/meminfo field in kB, or -1. */
static long meminfo_kb(const char *name)
{
	char line[256];
	size_t l = strlen(name);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, l) && line[l] == ':') {
			v = strtol(line + l + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Udp RcvbufErrors from /proc/net/snmp, or -1. */
static long udp_rcvbuf_errors(void)
{
	char hdr[1024], val[1024], *h, *v, *hs, *vs;
	long ret = -1;
	FILE *f = fopen("/proc/net/snmp", "r");

	if (!f)
		return -1;
	while (fgets(hdr, sizeof(hdr), f)) {
		if (strncmp(hdr, "Udp: ", 5) || !fgets(val, sizeof(val), f))
			continue;
		h = strtok_r(hdr, " \n", &hs);
		v = strtok_r(val, " \n", &vs);
		while (h && v) {
			if (!strcmp(h, "RcvbufErrors")) {
				ret = strtol(v, NULL, 10);
				break;
			}
			h = strtok_r(NULL, " \n", &hs);
			v = strtok_r(NULL, " \n", &vs);
		}
		break;
	}
	fclose(f);
	return ret;
}

/* Lines in the kernel log now. */
static long dmesg_lines(void)
{
	char out[64];

	if (run_output(out, sizeof(out), "dmesg | wc -l"))
		return -1;
	return strtol(out, NULL, 10);
}

/*
 * Read up to PAGE_CACHE_MB of the libraries of the (9p, cache=loose) root
 * file system into the page cache, for at most 5 s.  The bytes read.
 * (One directory, not a walk of the tree: that takes minutes over 9p.)
 */
static long fill_page_cache(void)
{
	static char buf[1 << 16];
	time_t end = time(NULL) + 5;
	long total = 0;
	size_t i;
	glob_t g;

	if (glob("/usr/lib/x86_64-linux-gnu/*.so*", 0, NULL, &g))
		return 0;
	for (i = 0; i < g.gl_pathc && total < PAGE_CACHE_MB << 20 &&
	     time(NULL) < end; i++) {
		ssize_t n;
		int fd = open(g.gl_pathv[i], O_RDONLY);

		if (fd < 0)
			continue;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			total += n;
		close(fd);
	}
	globfree(&g);
	return total;
}

/*
 * The fragmenting process: map MemFree less MARGIN_MB, touch every page,
 * give back every other one, report the size on @wfd, and keep the rest
 * until killed.  It is the one the OOM killer should pick.
 */
static void fragmenter(int wfd)
{
	long page = sysconf(_SC_PAGESIZE), kb = meminfo_kb("MemFree");
	size_t len, off;
	char *p;

	write_str("/proc/self/oom_score_adj", "1000");
	if (kb < (MARGIN_MB + 64) * 1024L)
		_exit(1);
	len = (size_t)(kb - MARGIN_MB * 1024L) * 1024;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		_exit(2);
	/* 4 KiB pages, not huge ones that DONTNEED would split anyway. */
	madvise(p, len, MADV_NOHUGEPAGE);
	for (off = 0; off < len; off += page)
		p[off] = 1;
	for (off = page; off < len; off += 2 * page)
		madvise(p + off, page, MADV_DONTNEED);
	if (write(wfd, &len, sizeof(len)) != sizeof(len))
		_exit(3);
	for (;;)
		pause();
}

/* ---- the transmit reader ---- */

/*
 * The payload of datagram @seq: its number at both ends, a fixed pattern
 * between (cheap to build and compare under TCG).
 */
static void fill_payload(uint8_t *p, uint32_t seq)
{
	static uint8_t pattern[PLEN];
	size_t i;

	if (!pattern[5])
		for (i = 0; i < PLEN; i++)
			pattern[i] = (uint8_t)(i * 31 + 7) | 1;
	memcpy(p + 4, pattern + 4, PLEN - 8);
	memcpy(p, &seq, 4);
	memcpy(p + PLEN - 4, &seq, 4);
}


struct reader {
	pthread_t th;
	int fd;
	unsigned int got, bad_len, bad_data, dup;
	ssize_t first_bad_len;
	uint8_t seen[NFRAMES];
};

static void *tx_reader(void *arg)
{
	struct reader *r = arg;
	static uint8_t buf[READ_BUF], want[PLEN];
	const uint8_t *pl = buf + ETHERTAP_PAD + ETH_HDR + IP_HDR + UDP_HDR;

	while (r->got < NFRAMES) {
		ssize_t n = tap_read_wait(r->fd, buf, sizeof(buf), 3000);
		uint32_t seq;

		if (n < 0)
			break;
		r->got++;
		if (n != BIG_FRAME) {
			if (!r->bad_len++)
				r->first_bad_len = n;
			continue;
		}
		memcpy(&seq, pl, 4);
		if (seq >= NFRAMES) {
			r->bad_data++;
			continue;
		}
		if (r->seen[seq]++)
			r->dup++;
		fill_payload(want, seq);
		if (buf[0] || buf[1] || get16(buf + 2 + 12) != 0x0800 ||
		    get16(buf + 2 + ETH_HDR + IP_HDR + 2) != PEER_PORT ||
		    memcmp(pl, want, PLEN))
			r->bad_data++;
	}
	return NULL;
}

FIXTURE(big) {
	struct tap_fixture t;
	pid_t frag;
	long log0;
};

FIXTURE_SETUP(big)
{
	const char *err;

	self->t.fd = -1;
	self->t.sock = -1;
	self->frag = -1;
	REQUIRE_TAPS(return, 2);
	self->log0 = dmesg_lines();
	err = tap_fixture_setup(&self->t, O_RDWR);
	ASSERT_TRUE(err == NULL) TH_LOG("%s: %s", err, strerror(errno));
	ASSERT_EQ(0, tap_set_mtu(0, MTU));
	ASSERT_EQ(MTU, read_u64("/sys/class/net/tap0/mtu"));
	ASSERT_EQ(0, tap_stats(0, &self->t.st));
}

static void stop_fragmenter(FIXTURE_DATA(big) *self)
{
	if (self->frag > 0) {
		kill(self->frag, SIGKILL);
		waitpid(self->frag, NULL, 0);
		self->frag = -1;
	}
}

FIXTURE_TEARDOWN(big)
{
	stop_fragmenter(self);
	tap_fixture_close(&self->t);
	tap_cleanup(0);
}

TEST_F_TIMEOUT(big, fragmented, 600)
{
	static uint8_t payload[PLEN], frame[BIG_FRAME + 64];
	struct tap_stats now;
	struct reader r = { .fd = self->t.fd };
	long before, after, cached, rcvbuf0, rcvbuf1, log1;
	int pfd[2], i, sock = self->t.sock, big = 32 << 20;
	unsigned int sent = 0, written = 0, wfail = 0, recvd = 0, rbad = 0;
	uint64_t d_tx, d_drop, d_rx, d_rxdrop;
	int first_werr = 0;
	size_t len;

	/* 1. Fragment the free memory. */
	before = buddy_high(1, "before");
	ASSERT_LE(0, before);
	cached = fill_page_cache();
	fprintf(stderr, "# %.1f s: read %ld MB of files; Cached %ld MB, MemFree %ld MB\n",
		elapsed(), cached >> 20, meminfo_kb("Cached") >> 10,
		meminfo_kb("MemFree") >> 10);
	before = buddy_high(0, NULL);
	ASSERT_EQ(0, pipe(pfd));
	self->frag = fork();
	ASSERT_LE(0, self->frag);
	if (!self->frag) {
		close(pfd[0]);
		fragmenter(pfd[1]);
	}
	close(pfd[1]);
	len = 0;
	i = read(pfd[0], &len, sizeof(len));
	close(pfd[0]);
	if (i != sizeof(len)) {
		stop_fragmenter(self);
		SKIP(return, "the fragmenting process failed");
	}
	fprintf(stderr, "# %.1f s: fragmenter: %zu MB mapped, every other page freed; MemFree %ld MB\n",
		elapsed(), len >> 20, meminfo_kb("MemFree") >> 10);
	after = buddy_high(1, "fragmented");
	if (after * 4 > before) {
		stop_fragmenter(self);
		SKIP(return, "could not fragment: %ld pages in order >= %d blocks before, %ld after",
		     before, HIGH_ORDER, after);
	}

	/* 2. Transmit: NFRAMES datagrams to 10.99.0.2 through tap0. */
	ASSERT_EQ(0, pthread_create(&r.th, NULL, tx_reader, &r));
	for (i = 0; i < NFRAMES; i++) {
		fill_payload(payload, i);
		if (udp_send_peer(sock, 0, PEER_PORT, payload, PLEN) != PLEN) {
			TH_LOG("sendto #%d: %s", i, strerror(errno));
			break;
		}
		sent++;
	}
	pthread_join(r.th, NULL);
	ASSERT_EQ(0, tap_stats(0, &now));
	d_tx = now.v[S_TX_PACKETS] - self->t.st.v[S_TX_PACKETS];
	d_drop = now.v[S_TX_DROPPED] - self->t.st.v[S_TX_DROPPED] +
		 now.v[E_TX_READER_COPY_DROPPED] -
		 self->t.st.v[E_TX_READER_COPY_DROPPED];
	fprintf(stderr, "# %.1f s: tx: %u sent, %u read, tx_packets +%" PRIu64
		", drops +%" PRIu64 " (nomem +%" PRIu64 ", queue_full +%" PRIu64
		")\n", elapsed(), sent, r.got, d_tx, d_drop,
		now.v[E_TX_DROPPED_NOMEM] - self->t.st.v[E_TX_DROPPED_NOMEM],
		now.v[E_TX_DROPPED_QUEUE_FULL] -
		self->t.st.v[E_TX_DROPPED_QUEUE_FULL]);
	EXPECT_EQ(NFRAMES, sent);
	EXPECT_EQ(sent, r.got + d_drop);
	EXPECT_EQ(r.got, d_tx);
	EXPECT_EQ(0, r.bad_len) TH_LOG("first bad length %zd", r.first_bad_len);
	EXPECT_EQ(0, r.bad_data);
	EXPECT_EQ(0, r.dup);
	EXPECT_EQ(0, tap_dump(self->t.fd, "unexpected"));

	/* 3. Receive: NFRAMES frames written to /dev/tap0 for the socket. */
	ASSERT_EQ(0, tap_stats(0, &self->t.st));
	if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		TH_LOG("SO_RCVBUFFORCE: %s", strerror(errno));
	rcvbuf0 = udp_rcvbuf_errors();
	for (i = 0; i < NFRAMES; i++) {
		ssize_t n;

		fill_payload(payload, i);
		len = build_to_tap(frame, 0, self->t.port, payload, PLEN);
		ASSERT_EQ(BIG_FRAME, len);
		n = write(self->t.fd, frame, len);
		if (n == (ssize_t)len) {
			written++;
		} else {
			EXPECT_EQ(-1, n);
			if (!wfail++)
				first_werr = errno;
		}
		/* Take what has arrived, so that the socket stays short. */
		while (udp_pending(sock)) {
			uint32_t seq;

			n = recv(sock, frame, sizeof(frame), MSG_DONTWAIT);
			if (n < 0)
				break;
			recvd++;
			memcpy(&seq, frame, 4);
			fill_payload(payload, seq);
			if (n != PLEN || seq >= NFRAMES ||
			    memcmp(frame, payload, PLEN))
				rbad++;
		}
	}
	for (;;) {
		uint32_t seq;
		ssize_t n = recv(sock, frame, sizeof(frame), 0);

		if (n < 0)
			break;
		recvd++;
		memcpy(&seq, frame, 4);
		fill_payload(payload, seq);
		if (n != PLEN || seq >= NFRAMES || memcmp(frame, payload, PLEN))
			rbad++;
	}
	rcvbuf1 = udp_rcvbuf_errors();
	ASSERT_EQ(0, tap_stats(0, &now));
	d_rx = now.v[S_RX_PACKETS] - self->t.st.v[S_RX_PACKETS];
	d_rxdrop = now.v[S_RX_DROPPED] - self->t.st.v[S_RX_DROPPED];
	fprintf(stderr, "# %.1f s: rx: %u written, %u failed (first: %s), rx_packets +%"
		PRIu64 ", rx_dropped +%" PRIu64 " (nomem +%" PRIu64
		"), %u received, RcvbufErrors +%ld\n", elapsed(), written, wfail,
		wfail ? strerror(first_werr) : "-", d_rx, d_rxdrop,
		now.v[E_RX_DROPPED_NOMEM] - self->t.st.v[E_RX_DROPPED_NOMEM],
		recvd, rcvbuf1 - rcvbuf0);
	/* A failed write is a clear errno, counted: no memory for it. */
	if (wfail)
		EXPECT_EQ(ENOMEM, first_werr);
	EXPECT_EQ(NFRAMES, written + wfail);
	EXPECT_EQ(NFRAMES, d_rx + d_rxdrop);
	EXPECT_EQ(wfail, now.v[E_RX_DROPPED_NOMEM] -
		  self->t.st.v[E_RX_DROPPED_NOMEM]);
	EXPECT_EQ(d_rx, recvd + (rcvbuf1 - rcvbuf0));
	EXPECT_EQ(0, rbad);
	EXPECT_EQ(0, now.v[S_RX_ERRORS] - self->t.st.v[S_RX_ERRORS]);

	/* 4. Memory back, and a clean kernel log. */
	buddy_high(1, "after the traffic");
	stop_fragmenter(self);
	fprintf(stderr, "# fragmenter killed; MemFree %ld MB\n",
		meminfo_kb("MemFree") >> 10);
	buddy_high(1, "at the end");
	log1 = dmesg_lines();
	if (self->log0 >= 0 && log1 >= self->log0) {
		char out[4096];

		ASSERT_EQ(0, run_output(out, sizeof(out),
					"dmesg | tail -n +%ld | grep -E 'page allocation failure|WARNING|BUG' || true",
					self->log0 + 1));
		EXPECT_STREQ("", out);
	}
}

TEST_HARNESS_MAIN
