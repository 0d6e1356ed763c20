// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: churn during load.
 *
 * The traffic of selftests/load.c (traffic.h) runs on tap0 and tap1 while
 * three threads change things under it, each for a bounded number of
 * rounds (fewer on the debug kernel), starting none after
 * ETHERTAP_CHURN_SECONDS (default 3) seconds:
 *
 *   link:    tap0 down, a write (ENETDOWN), MTU 576/1500/9000/1280, a
 *            frame too long for the MTU (EMSGSIZE), ARP mode on/off,
 *            tap0 up again;
 *   readers: files on tap1 opened, read a little, and closed with frames
 *            still queued;
 *   life:    a tap created with ip link add, a reader blocked in read()
 *            on it and a second open file, rmmod of netlink_dev and
 *            ethertap (EWOULDBLOCK: in use), ip link del (the reader
 *            reads end of file, the other file polls POLLIN | POLLHUP |
 *            POLLERR and writes ENXIO, the node goes, and stays so when
 *            a tap is created again, maybe with its number); a tap created,
 *            opened and moved to a new namespace (its file writes ENETDOWN
 *            there, then, once it is up there, the full frame), a reader
 *            blocked on it, and the namespace deleted (end of file).
 *            On the debug kernel, one round, without the re-creation and
 *            without bringing the moved tap up (each ip command is slow).
 *
 * Then the traffic stops, the readers drain their queues and every file
 * closes, and per tap:
 *
 * tap1 (readers come and go; the link stays up, NOARP): exact, as in
 * load.c, with the files that came and went counted in: the sender holds
 * a lock around each send, under which the reader thread opens and closes
 * its files, and adds for each datagram sent the number of files reading
 * at that moment (a send transmits synchronously on a noqueue device):
 *
 *   written                 = rx_packets = socket got + socket drops
 *   sent                    = tx_packets + tx_dropped
 *   copies offered          = frames read (all files) + tx_reader_copy_dropped
 *                             + tx_unread_at_close + tx_read_fault
 *
 * tap0 (the link churns): every counter of the receive path is exact:
 * written = rx_packets (and bytes), writes refused with ENETDOWN =
 * rx_dropped_down, with EMSGSIZE = rx_error_too_long = rx_length_errors
 * = rx_errors.  On the transmit side what reaches the driver is not what
 * the sender counts: in ARP mode the stack holds datagrams for an
 * unresolved neighbour and sends ARP requests of its own, and what meets
 * the link down in the core is dropped there (counted in the sysfs
 * tx_dropped beside the driver's reasons: ip -s link shows the sum), some
 * after sendto() succeeded.  The readers, attached all along, still make
 * the copies exact:
 *
 *   readers * (tx_packets + tx_dropped_queue_full)
 *          = frames read + tx_reader_copy_dropped + tx_unread_at_close
 *            + tx_read_fault
 *
 * and every frame transmitted is either the sender's datagram or an ARP
 * request: tx_bytes = a * (UDP frame) + b * 42 with a + b = tx_packets,
 * b at least what any one reader read of ARP; nothing else is read.
 */
#include <dirent.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lib.h"
#include "traffic.h"
#include "harness.h"

#define CHURN_QLEN	64
#define ARP_FRAME	42	/* Ethernet + ARP request for IPv4 */

struct churn {
	struct tapload *tl;
	double deadline;
	bool debug;
	/* link */
	unsigned int link_rounds;
	uint64_t down_writes, toolong_writes;
	/* readers */
	unsigned int reader_rounds;
	uint64_t tr_frames, tr_other;
	/* life */
	unsigned int del_rounds, ns_rounds, rmmod_refused;
	double del_secs, ns_secs, ns_del_secs;
	char err[3][200];
};

/*
 * Commands run while files come and go: a child holds a copy of every
 * descriptor from fork until its exec closes the O_CLOEXEC ones, and a
 * file closed in that window would be released only then, still taking
 * copies meanwhile.  posix_spawn() returns when the child leaves the
 * parent's memory in exec; 6.12 and 7.2 close the descriptors before
 * that, 5.10 just after it.  So sh() holds this lock until the child has
 * no tap file left, and files close under it, never in that window.
 */
static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;
extern char **environ;

/* Whether process @pid still has a /dev/tapN open (false once it is gone). */
static bool holds_tap(pid_t pid)
{
	char dir[64], path[320], target[64];
	struct dirent *e;
	bool found = false;
	ssize_t n;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			found = !strncmp(target, "/dev/tap", 8);
		}
	}
	closedir(d);
	return found;
}

static int sh(const char *fmt, ...)
{
	char cmd[512], *argv[32] = { "sh", "-c", cmd, NULL }, *p, *q;
	posix_spawn_file_actions_t fa;
	const char *prog = "/bin/sh";
	bool quiet = false;
	unsigned int n = 0;
	va_list ap;
	pid_t pid;
	int st, err;
	double t;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	posix_spawn_file_actions_init(&fa);
	p = strstr(cmd, " 2>/dev/null");
	if (p && !p[12]) {
		*p = 0;
		quiet = true;
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	}
	/* A plain ip command runs without a shell: one exec less. */
	if (!strncmp(cmd, "ip ", 3) && !strpbrk(cmd, "&;'>|")) {
		prog = "ip";
		for (q = cmd; (p = strsep(&q, " ")) && n < 31;)
			if (*p)
				argv[n++] = p;
		argv[n] = NULL;
	} else if (quiet) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;	/* not used that way */
	}
	t = now_s();
	pthread_mutex_lock(&fork_lock);
	err = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	while (!err && holds_tap(pid))
		usleep(100);
	pthread_mutex_unlock(&fork_lock);
	posix_spawn_file_actions_destroy(&fa);
	if (err)
		return -1;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	/* Where the time goes, on a slow or busy machine. */
	if (now_s() - t > 1)
		fprintf(stderr, "# churn: %.1f s for %s\n", now_s() - t, fmt);
	return WEXITSTATUS(st);
}

static void cerr(char *err, const char *fmt, ...)
{
	va_list ap;

	if (err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(err, 200, fmt, ap);
	va_end(ap);
}

static int if_flags(int s, const char *ifname, short set, short clear)
{
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		return -1;
	ifr.ifr_flags = (ifr.ifr_flags | set) & ~clear;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

static int if_mtu(int s, const char *ifname, int mtu)
{
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_mtu = mtu;
	return ioctl(s, SIOCSIFMTU, &ifr);
}

/* tap0: down (a write there: ENETDOWN), MTU, ARP mode, up. */
static void *link_churn(void *arg)
{
	static const int mtus[] = { 576, 1500, 9000, 1280 };
	struct churn *c = arg;
	unsigned int rounds = c->debug ? 15 : 40, i;
	uint8_t payload[1000], frame[1100];
	char *err = c->err[0];
	size_t small, big;
	int s, fd;

	memset(payload, 0x33, sizeof(payload));
	small = build_to_tap(frame, 0, RX_PORT, payload, 10);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	fd = tap_open(0, O_WRONLY | O_CLOEXEC);
	if (s < 0 || fd < 0) {
		cerr(err, "socket/open: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < rounds && now_s() < c->deadline; i++) {
		int mtu = mtus[i % 4];
		ssize_t r;

		if (if_flags(s, "tap0", 0, IFF_UP)) {
			cerr(err, "down: %s", strerror(errno));
			break;
		}
		small = build_to_tap(frame, 0, RX_PORT, payload, 10);
		r = write(fd, frame, small);
		if (r != -1 || errno != ENETDOWN) {
			cerr(err, "write while down: %zd (%s)", r,
			     strerror(errno));
			break;
		}
		c->down_writes++;
		usleep(2000);
		if (if_mtu(s, "tap0", mtu)) {
			cerr(err, "mtu %d: %s", mtu, strerror(errno));
			break;
		}
		/* A frame one byte over the MTU: refused whether up or down. */
		big = build_to_tap(frame, 0, RX_PORT, payload,
				   576 - IP_HDR - UDP_HDR + 1);
		r = write(fd, frame, big);
		if (mtu == 576) {
			if (r != -1 || errno != EMSGSIZE) {
				cerr(err, "write %zu at MTU 576: %zd (%s)", big,
				     r, strerror(errno));
				break;
			}
			c->toolong_writes++;
		} else if (r != -1 || errno != ENETDOWN) {
			cerr(err, "write %zu at MTU %d while down: %zd (%s)",
			     big, mtu, r, strerror(errno));
			break;
		} else {
			c->down_writes++;
		}
		if (if_flags(s, "tap0", IFF_UP | (i & 1 ? IFF_NOARP : 0),
			     i & 1 ? 0 : IFF_NOARP)) {
			cerr(err, "up, arp %s: %s", i & 1 ? "off" : "on",
			     strerror(errno));
			break;
		}
		usleep(c->debug ? 20000 : 8000);
	}
	c->link_rounds = i;
	if (if_mtu(s, "tap0", 1500) || if_flags(s, "tap0", IFF_UP | IFF_NOARP, 0))
		cerr(err, "restoring tap0: %s", strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (s >= 0)
		close(s);
	return NULL;
}

/* tap1: files open, read some frames, close with the rest queued. */
static void *reader_churn(void *arg)
{
	struct churn *c = arg;
	struct tapload *tl = c->tl;
	size_t want = ETHERTAP_PAD + UDP_FRAME(tx_plen[1]);
	unsigned int rounds = c->debug ? 20 : 60, i, k;
	uint8_t buf[2048];
	char *err = c->err[1];
	ssize_t r;
	int fd;

	for (i = 0; i < rounds && now_s() < c->deadline; i++) {
		pthread_mutex_lock(tl->tx_lock);
		fd = tap_open(1, (i & 1 ? O_RDWR : O_RDONLY) | O_NONBLOCK |
			      O_CLOEXEC);
		if (fd >= 0)
			tl->extra_readers++;
		pthread_mutex_unlock(tl->tx_lock);
		if (fd < 0) {
			cerr(err, "open /dev/tap1: %s", strerror(errno));
			break;
		}
		usleep(3000);
		if (i % 4) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			poll(&p, 1, 200);	/* at least one frame to read */
		}
		for (k = 0; k < i % 4; k++) {
			r = read(fd, buf, sizeof(buf));
			if (r == -1 && errno == EAGAIN)
				break;
			if (r == (ssize_t)want)
				c->tr_frames++;
			else
				c->tr_other++;
		}
		pthread_mutex_lock(&fork_lock);
		pthread_mutex_lock(tl->tx_lock);
		close(fd);
		tl->extra_readers--;
		pthread_mutex_unlock(tl->tx_lock);
		pthread_mutex_unlock(&fork_lock);
		usleep(1000);
	}
	c->reader_rounds = i;
	return NULL;
}

struct blocked {
	pthread_t th;
	int fd;
	atomic_int tid;
	ssize_t ret;
	int err;
};

static void *blocked_read(void *arg)
{
	struct blocked *b = arg;
	uint8_t buf[2048];

	atomic_store(&b->tid, gettid());
	b->ret = read(b->fd, buf, sizeof(buf));
	b->err = b->ret < 0 ? errno : 0;
	return NULL;
}

/* Start a thread reading @fd and wait until it blocks in read(). */
static int block_reader(struct blocked *b, int fd)
{
	int i;

	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->ret = -2;
	if (pthread_create(&b->th, NULL, blocked_read, b))
		return -1;
	for (i = 0; i < 400 && !atomic_load(&b->tid); i++)
		usleep(5000);
	return wait_in_syscall(atomic_load(&b->tid), SYS_read, 5000);
}

/* Join the reader within @secs: 0 if it read end of file. */
static int reader_eof(struct blocked *b, int secs, char *err, const char *what)
{
	struct timespec ts;

	double t = now_s();
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	r = pthread_timedjoin_np(b->th, NULL, &ts);
	if (now_s() - t > 1)
		fprintf(stderr, "# churn: %.1f s to wake the reader (%s)\n",
			now_s() - t, what);
	if (r) {
		/* Still blocked: give it a frame-less way out and fail. */
		cerr(err, "%s: the blocked reader did not wake up in %d s",
		     what, secs);
		pthread_cancel(b->th);
		pthread_join(b->th, NULL);
		return -1;
	}
	if (b->ret != 0) {
		cerr(err, "%s: the blocked reader got %zd (%s), not EOF", what,
		     b->ret, strerror(b->err));
		return -1;
	}
	return 0;
}

/* After the tap went away: POLLIN | POLLHUP | POLLERR, read 0, ENXIO. */
static int gone_file(int fd, unsigned int n, char *err, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t frame[128], payload[8] = {};
	size_t len = build_to_tap(frame, n, RX_PORT, payload, sizeof(payload));
	ssize_t r;

	if (poll(&p, 1, 0) != 1 || p.revents != (POLLIN | POLLHUP | POLLERR)) {
		cerr(err, "%s: poll revents %#x", what, p.revents);
		return -1;
	}
	r = read(fd, frame + 64, 64);
	if (r != 0) {
		cerr(err, "%s: read %zd (%s), not EOF", what, r, strerror(errno));
		return -1;
	}
	r = write(fd, frame, len);
	if (r != -1 || errno != ENXIO) {
		cerr(err, "%s: write %zd (%s), not ENXIO", what, r,
		     strerror(errno));
		return -1;
	}
	return 0;
}

/* rmmod of either module, with files open: refused, "in use". */
static int rmmod_refused(char *err)
{
	static const char *const mods[] = { "netlink_dev", "ethertap" };
	unsigned int i;
	long r;

	for (i = 0; i < 2; i++) {
		r = syscall(SYS_delete_module, mods[i], O_NONBLOCK);
		if (r != -1 || errno != EWOULDBLOCK) {
			cerr(err, "delete_module(%s): %ld (%s), not EWOULDBLOCK",
			     mods[i], r, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Open tap @n for a blocked reader and a second (O_RDWR) file. */
static int open_pair(unsigned int n, int *fdr, int *fdw)
{
	*fdr = tap_open(n, O_RDONLY | O_CLOEXEC);
	*fdw = tap_open(n, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	return *fdr < 0 || *fdw < 0 ? -1 : 0;
}

static void close_pair(int fdr, int fdw)
{
	if (fdr >= 0)
		close(fdr);
	if (fdw >= 0)
		close(fdw);
}

/* ip link del under a blocked reader, with rmmod attempts before. */
static int del_round(struct churn *c, char *err)
{
	int n, fdr = -1, fdw = -1, ret = -1;
	bool exists = false;
	struct blocked b;
	char node[32];

	if (sh("ip link add ctdel type ethertap")) {
		cerr(err, "ip link add ctdel type ethertap failed");
		return -1;
	}
	exists = true;
	n = tap_number("ctdel");
	snprintf(node, sizeof(node), "/dev/tap%d", n);
	if (n < 2 || open_pair(n, &fdr, &fdw)) {
		cerr(err, "ctdel: number %d, open: %s", n, strerror(errno));
		goto out;
	}
	if (block_reader(&b, fdr)) {
		cerr(err, "ctdel: the reader did not block in read()");
		goto out;
	}
	if (rmmod_refused(err) == 0)
		c->rmmod_refused++;
	if (sh("ip link del ctdel")) {
		cerr(err, "ip link del ctdel failed");
		goto out;
	}
	exists = false;
	if (reader_eof(&b, c->debug ? 60 : 10, err, "ip link del") ||
	    gone_file(fdw, n, err, "ip link del"))
		goto out;
	if (access(node, F_OK) == 0 || errno != ENOENT) {
		cerr(err, "%s still there after ip link del", node);
		goto out;
	}
	/*
	 * A new tap, maybe with the same number: the old file stays dead.
	 * (Not on the debug kernel, where each ip command is slow.)
	 */
	if (!c->debug) {
		if (sh("ip link add ctdel type ethertap")) {
			cerr(err, "ip link add ctdel type ethertap (again) failed");
			goto out;
		}
		exists = true;
		if (gone_file(fdw, n, err, "ip link add after ip link del"))
			goto out;
	}
	ret = 0;
out:
	close_pair(fdr, fdw);
	if (exists)
		sh("ip link del ctdel 2>/dev/null");
	return ret;
}

/* A tap moved to a new namespace with files open; the namespace deleted. */
static int ns_round(struct churn *c, char *err, unsigned int round)
{
	uint8_t frame[128], payload[8] = {};
	int n, fdr = -1, fdw = -1, ret = -1;
	bool ns = false, tap = false;
	struct blocked b;
	size_t len;
	ssize_t r;
	double t;

	if (sh("ip netns add ctns%u", round)) {
		cerr(err, "ip netns add failed");
		goto out;
	}
	ns = true;
	/* No IPv6 there: its frames would wake the reader before the end. */
	if (!c->debug &&
	    sh("ip netns exec ctns%u sh -c 'echo 1 > "
	       "/proc/sys/net/ipv6/conf/default/disable_ipv6'", round)) {
		cerr(err, "ip netns exec failed");
		goto out;
	}
	if (sh("ip link add ctmv type ethertap")) {
		cerr(err, "ip link add ctmv failed");
		goto out;
	}
	tap = true;
	n = tap_number("ctmv");
	if (n < 2 || open_pair(n, &fdr, &fdw)) {
		cerr(err, "ctmv: number %d, open: %s", n, strerror(errno));
		goto out;
	}
	if (sh("ip link set ctmv netns ctns%u", round)) {
		cerr(err, "ip link set ctmv netns failed");
		goto out;
	}
	tap = false;
	/* The file still reaches the tap: down after the move, then up. */
	len = build_to_tap(frame, n, RX_PORT, payload, sizeof(payload));
	r = write(fdw, frame, len);
	if (r != -1 || errno != ENETDOWN) {
		cerr(err, "ctmv in ctns: write %zd (%s), not ENETDOWN", r,
		     strerror(errno));
		goto out;
	}
	if (!c->debug) {
		if (sh("ip -n ctns%u link set ctmv up", round)) {
			cerr(err, "ip -n ctns link set ctmv up failed");
			goto out;
		}
		r = write(fdw, frame, len);
		if (r != (ssize_t)len) {
			cerr(err, "ctmv up in ctns: write %zd (%s)", r,
			     strerror(errno));
			goto out;
		}
	}
	if (block_reader(&b, fdr)) {
		cerr(err, "ctmv: the reader did not block in read()");
		goto out;
	}
	t = now_s();
	if (sh("ip netns del ctns%u", round)) {
		cerr(err, "ip netns del failed");
		goto out;
	}
	ns = false;
	/* The namespace goes in a work item: its taps go with it, soon. */
	if (reader_eof(&b, c->debug ? 60 : 15, err, "ip netns del") ||
	    gone_file(fdw, n, err, "ip netns del"))
		goto out;
	c->ns_del_secs += now_s() - t;
	ret = 0;
out:
	close_pair(fdr, fdw);
	if (tap)
		sh("ip link del ctmv 2>/dev/null");
	if (ns)
		sh("ip netns del ctns%u 2>/dev/null", round);
	return ret;
}

static void *life_churn(void *arg)
{
	struct churn *c = arg;
	unsigned int rounds = c->debug ? 1 : 4, i;
	char *err = c->err[2];

	for (i = 0; i < rounds && now_s() < c->deadline; i++) {
		double t = now_s();

		if (del_round(c, err))
			break;
		c->del_rounds++;
		c->del_secs += now_s() - t;
		t = now_s();
		if (ns_round(c, err, i))
			break;
		c->ns_rounds++;
		c->ns_secs += now_s() - t;
	}
	return NULL;
}

FIXTURE(churn) {
	struct tapload tl[2];
	pthread_mutex_t tx_lock;
};

FIXTURE_SETUP(churn)
{
	const char *kernel;
	unsigned int t;

	for (t = 0; t < 2; t++)
		tapload_init(&self->tl[t]);
	pthread_mutex_init(&self->tx_lock, NULL);
	REQUIRE_TAPS(return, 2);
	for (t = 0; t < 2; t++)
		ASSERT_EQ(0, tapload_setup(&self->tl[t], t, CHURN_QLEN));
	self->tl[0].churn = true;
	self->tl[1].tx_lock = &self->tx_lock;
	/* Leave the CPUs some time for the ip commands of the churn. */
	kernel = getenv("ETHERTAP_KERNEL");
	for (t = 0; t < 2; t++)
		self->tl[t].pace_us = kernel && !strcmp(kernel, "debug") ?
				      2000 : 200;
}

FIXTURE_TEARDOWN(churn)
{
	unsigned int t;

	for (t = 0; t < 2; t++)
		tapload_teardown(&self->tl[t]);
}

/* Sum of one field of the workers @w[0..@n-1], with each one's error. */
#define SUM(tl, arr, n, field) ({					\
	uint64_t __s = 0;						\
	unsigned int __i;						\
	for (__i = 0; __i < (n); __i++)					\
		__s += (tl)->arr[__i].field;				\
	__s; })

static void worker_errors(struct __test_metadata *_metadata,
			  struct tapload *tl)
{
	unsigned int i;

	for (i = 0; i < WRITERS; i++)
		EXPECT_EQ(0, tl->w[i].err[0])
			TH_LOG("tap%u writer %u: %s", tl->n, i, tl->w[i].err);
	for (i = 0; i < SENDERS; i++)
		EXPECT_EQ(0, tl->s[i].err[0])
			TH_LOG("tap%u sender %u: %s", tl->n, i, tl->s[i].err);
	for (i = 0; i < READERS; i++)
		EXPECT_EQ(0, tl->r[i].err[0])
			TH_LOG("tap%u reader %u: %s", tl->n, i, tl->r[i].err);
	EXPECT_EQ(0, tl->rcv.err[0]) TH_LOG("tap%u: %s", tl->n, tl->rcv.err);
}

TEST_F_TIMEOUT(churn, during_load, 900)
{
	const char *env = getenv("ETHERTAP_CHURN_SECONDS");
	const char *kernel = getenv("ETHERTAP_KERNEL");
	double secs = env && *env ? atof(env) : 3, t0;
	struct churn c = {};
	pthread_t th[3];
	unsigned int t, i;
	uint64_t drops[2];

	c.tl = &self->tl[1];
	c.debug = kernel && !strcmp(kernel, "debug");
	for (t = 0; t < 2; t++)
		ASSERT_EQ(0, tap_stats(t, &self->tl[t].before));
	ASSERT_EQ(0, sock_drops(self->tl[1].rx_sock));

	t0 = now_s();
	c.deadline = t0 + secs;
	for (t = 0; t < 2; t++)
		ASSERT_EQ(0, tapload_start(&self->tl[t]));
	ASSERT_EQ(0, pthread_create(&th[0], NULL, link_churn, &c));
	ASSERT_EQ(0, pthread_create(&th[1], NULL, reader_churn, &c));
	ASSERT_EQ(0, pthread_create(&th[2], NULL, life_churn, &c));
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	for (t = 0; t < 2; t++)
		tapload_stop_tx(&self->tl[t]);
	for (t = 0; t < 2; t++)
		drops[t] = sock_drops(self->tl[t].rx_sock);
	for (t = 0; t < 2; t++)
		tapload_stop_rx(&self->tl[t]);

	printf("# churn: %.1f s: link %u rounds (%" PRIu64 " writes ENETDOWN, %"
	       PRIu64 " EMSGSIZE), readers %u rounds (%" PRIu64
	       " frames read), ip link del %u (%.1f s), netns %u (%.1f s, %.1f s"
	       " of it to EOF after ip netns del), rmmod refused %u\n",
	       now_s() - t0, c.link_rounds, c.down_writes, c.toolong_writes,
	       c.reader_rounds, c.tr_frames, c.del_rounds, c.del_secs,
	       c.ns_rounds, c.ns_secs, c.ns_del_secs, c.rmmod_refused);
	for (i = 0; i < 3; i++) {
		if (c.err[i][0])
			printf("# churn: %s\n", c.err[i]);
		EXPECT_EQ(0, c.err[i][0]);
	}
	EXPECT_LT(0, c.link_rounds);
	EXPECT_LT(0, c.reader_rounds);
	EXPECT_LT(0, c.del_rounds);
	EXPECT_LT(0, c.ns_rounds);
	EXPECT_EQ(c.del_rounds, c.rmmod_refused);
	EXPECT_EQ(0, c.tr_other);

	for (t = 0; t < 2; t++) {
		struct tapload *tl = &self->tl[t];
		uint64_t written = SUM(tl, w, WRITERS, frames);
		uint64_t wbytes = SUM(tl, w, WRITERS, bytes);
		uint64_t nomem = SUM(tl, w, WRITERS, nomem);
		uint64_t down = SUM(tl, w, WRITERS, down);
		uint64_t toolong = SUM(tl, w, WRITERS, toolong);
		uint64_t sent = SUM(tl, s, SENDERS, frames);
		uint64_t refused = SUM(tl, s, SENDERS, nomem);
		uint64_t ours = SUM(tl, r, READERS, frames);
		uint64_t arp = SUM(tl, r, READERS, arp);
		uint64_t foreign = SUM(tl, r, READERS, foreign);
		uint64_t tx, drop, full, copy, unread, fault, copies, rd, core;
		uint64_t flen = UDP_FRAME(tx_plen[t]), arp_max = 0;

		worker_errors(_metadata, tl);
		ASSERT_EQ(0, tap_stats(t, &tl->after));
		tx = tapload_delta(tl, S_TX_PACKETS);
		drop = tapload_delta(tl, S_TX_DROPPED);
		full = tapload_delta(tl, E_TX_DROPPED_QUEUE_FULL);
		copy = tapload_delta(tl, E_TX_READER_COPY_DROPPED);
		unread = tapload_delta(tl, E_TX_UNREAD_AT_CLOSE);
		fault = tapload_delta(tl, E_TX_READ_FAULT);
		rd = ours + arp + foreign;
		core = drop - full - tapload_delta(tl, E_TX_DROPPED_NOMEM);
		if (t == 0) {
			down += c.down_writes;
			toolong += c.toolong_writes;
		} else {
			rd += c.tr_frames + c.tr_other;
		}
		printf("# churn: tap%u written %" PRIu64 " (ENETDOWN %" PRIu64
		       ", EMSGSIZE %" PRIu64 "), socket got %" PRIu64
		       " dropped %" PRIu64 "; sent %" PRIu64 ", tx %" PRIu64
		       ", dropped %" PRIu64 " (all full %" PRIu64 "), read %"
		       PRIu64 " (ARP %" PRIu64 "), copies dropped %" PRIu64
		       ", unread at close %" PRIu64 ", sends refused %" PRIu64
		       ", core drops %" PRIu64 "\n", t, written, down, toolong,
		       tl->rcv.frames, drops[t], sent, tx, drop, full, rd, arp,
		       copy, unread, refused, core);

		/* The receive path, exact on both taps. */
		EXPECT_LT(0, written);
		EXPECT_EQ(written, tapload_delta(tl, S_RX_PACKETS));
		EXPECT_EQ(wbytes, tapload_delta(tl, S_RX_BYTES));
		EXPECT_EQ(down, tapload_delta(tl, E_RX_DROPPED_DOWN));
		EXPECT_EQ(toolong, tapload_delta(tl, E_RX_ERROR_TOO_LONG));
		EXPECT_EQ(toolong, tapload_delta(tl, S_RX_LENGTH_ERRORS));
		EXPECT_EQ(toolong, tapload_delta(tl, S_RX_ERRORS));
		EXPECT_EQ(nomem, tapload_delta(tl, E_RX_DROPPED_NOMEM));
		EXPECT_EQ(down + nomem, tapload_delta(tl, S_RX_DROPPED));
		EXPECT_EQ(0, tapload_delta(tl, E_RX_DROPPED_OTHER_HOST));
		EXPECT_EQ(0, tapload_delta(tl, E_RX_DROPPED_MCAST_FILTERED));

		/* The transmit path: readers attached all along. */
		EXPECT_LT(0, sent);
		EXPECT_LT(0, ours);
		EXPECT_EQ(0, foreign);
		EXPECT_EQ(0, tapload_delta(tl, E_TX_DROPPED_NO_READER));
		/*
		 * tx_dropped (sysfs, ip -s link) also counts what the core
		 * dropped because the link was down: a send as it went down
		 * (ENETDOWN), datagrams ARP held and ARP requests of its own.
		 * None on tap1, whose link stays up.
		 */
		if (t == 1)
			EXPECT_EQ(0, core);
		EXPECT_EQ(0, tapload_delta(tl, E_TX_READ_TRUNCATED));
		for (i = 0; i < READERS; i++) {
			EXPECT_GE(sent, tl->r[i].frames);
			if (tl->r[i].arp > arp_max)
				arp_max = tl->r[i].arp;
		}
		copies = t == 1 ? tl->offered : READERS * (tx + full);
		EXPECT_EQ(copies, rd + copy + unread + fault)
			TH_LOG("tap%u: copies offered %" PRIu64 " != read %"
			       PRIu64 " + copies dropped %" PRIu64
			       " + unread %" PRIu64 " + fault %" PRIu64, t,
			       copies, rd, copy, unread, fault);

		if (t == 1) {
			/* Nothing churns the link: exact as in load.c. */
			EXPECT_LT(0, c.tr_frames);
			EXPECT_EQ(0, down);
			EXPECT_EQ(0, toolong);
			EXPECT_EQ(0, arp);
			EXPECT_EQ(sent, tx + drop);
			EXPECT_EQ(tx * flen, tapload_delta(tl, S_TX_BYTES));
			EXPECT_EQ(written, tl->rcv.frames + drops[t]);
		} else {
			uint64_t b = tx * flen - tapload_delta(tl, S_TX_BYTES);

			/* b ARP frames of 42 bytes, tx - b datagrams. */
			EXPECT_LT(0, down);
			EXPECT_LT(0, toolong);
			EXPECT_EQ(0, b % (flen - ARP_FRAME));
			b /= flen - ARP_FRAME;
			EXPECT_LE(arp_max, b);
			EXPECT_GE(tx, b);
			EXPECT_GE(written, tl->rcv.frames + drops[t]);
			EXPECT_LT(0, tl->rcv.frames);
		}
	}
}

TEST_HARNESS_MAIN
