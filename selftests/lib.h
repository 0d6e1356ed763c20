/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the ethertap selftests: link setup, counter snapshots
 * (sysfs statistics and the ethtool -S counters through SIOCETHTOOL), and
 * padded Ethernet/IPv4/UDP frames with correct checksums.
 *
 * Every function here is static inline so that each test program uses what
 * it needs without -Wunused-function complaints.
 */
#ifndef _ETHERTAP_SELFTEST_LIB_H
#define _ETHERTAP_SELFTEST_LIB_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "ethertap.h"

/*
 * kselftest_harness.h (included after this file) does not build with
 * -Wextra -Werror: its own functions and the TEST() bodies it generates
 * have unused parameters, ASSERT_EQ(sizeof(x), read(...)) compares signed
 * with unsigned, and its TEST_F() wrapper trips -Wclobbered.  All are
 * harmless here.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wclobbered"

/* tapN gets 10.99.N.1/24; its "neighbour" 10.99.N.2 is reached through it. */
#define TAP_NET		"10.99.%u"
#define PEER_MAC	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 }
#define ETH_HDR		14
#define IP_HDR		20
#define UDP_HDR		8
#define UDP_FRAME(n)	(ETH_HDR + IP_HDR + UDP_HDR + (n))
#define MAX_FRAME	(ETHERTAP_PAD + 18 + ETHERTAP_MAX_MTU + 64)

/* ---- a seeded PRNG (xorshift64*) for the fuzzers ---- */

struct rng {
	uint64_t s;
};

static inline void rng_seed(struct rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* 0 .. n - 1 (0 if n is 0). */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)((rng_next(r) >> 32) % n) : 0;
}

/* ---- running commands and small file I/O ---- */

static inline int run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Output of a command (first @len - 1 bytes), or -1. */
static inline int run_output(char *out, size_t len, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	size_t n;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(out, 1, len - 1, f);
	out[n] = 0;
	return pclose(f) == 0 ? 0 : -1;
}

static inline int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* An unsigned number from a file; UINT64_MAX if unreadable. */
static inline uint64_t read_u64(const char *fmt, ...)
{
	char path[256], buf[64];
	va_list ap;
	ssize_t n;
	int fd;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return UINT64_MAX;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return UINT64_MAX;
	buf[n] = 0;
	return strtoull(buf, NULL, 0);
}

/* ---- the tap and its character device ---- */

static inline int tap_open(unsigned int n, int flags)
{
	char path[32];

	snprintf(path, sizeof(path), "/dev/tap%u", n);
	return open(path, flags);
}

static inline int tap_exists(unsigned int n)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/class/net/tap%u", n);
	return access(path, F_OK) == 0;
}

/* Whether tap0 .. tap(n-1) all exist. */
static inline int taps_exist(unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!tap_exists(i))
			return 0;
	return 1;
}

/* NULL if root and tap0 .. tap(n-1) all exist, else why a test must skip. */
static inline const char *taps_skip_reason(unsigned int n)
{
	static char why[64];

	if (geteuid())
		return "needs root";
	if (taps_exist(n))
		return NULL;
	snprintf(why, sizeof(why), "needs ethertap loaded with max_taps=%u", n);
	return why;
}

/*
 * In a fixture setup or a test: SKIP(statement, ...) unless root and
 * tap0 .. tap(n-1) exist.  The statement is given as to SKIP(), so that
 * the return stays visible where the macro is used.
 */
#define REQUIRE_TAPS(statement, n)					\
	do {								\
		const char *__why = taps_skip_reason(n);		\
									\
		if (__why)						\
			SKIP(statement, "%s", __why);			\
	} while (0)

static inline int tap_set_up(unsigned int n, int up)
{
	return run("ip link set tap%u %s", n, up ? "up" : "down");
}

static inline int tap_set_txqlen(unsigned int n, unsigned int q)
{
	return run("ip link set tap%u txqueuelen %u", n, q);
}

/*
 * No IPv6 on tapN: its autoconfiguration (router solicitations, MLD
 * reports) would add frames the tests do not expect.  The default is set
 * too because an MTU under 1280 drops the device's IPv6 state, and raising
 * it again starts afresh from the defaults.  (No IPv6 at all is fine.)
 */
static inline int tap_no_ipv6(unsigned int n)
{
	const char *dflt = "/proc/sys/net/ipv6/conf/default/disable_ipv6";
	char path[96];

	snprintf(path, sizeof(path),
		 "/proc/sys/net/ipv6/conf/tap%u/disable_ipv6", n);
	if (access(dflt, F_OK) == 0 && write_str(dflt, "1"))
		return -1;
	if (access(path, F_OK) == 0 && write_str(path, "1"))
		return -1;
	return 0;
}

static inline int tap_set_mtu(unsigned int n, unsigned int mtu)
{
	if (tap_no_ipv6(n))
		return -1;
	return run("ip link set tap%u mtu %u", n, mtu);
}

/*
 * Bring tapN to a known state: no IPv6, MTU 1500, txqueuelen 1000, address
 * 10.99.N.1/24, up.  0 on success.
 */
static inline int tap_setup(unsigned int n)
{
	if (tap_no_ipv6(n))
		return -1;
	if (tap_set_up(n, 0) || tap_set_mtu(n, 1500) || tap_set_txqlen(n, 1000))
		return -1;
	if (run("ip addr flush dev tap%u", n))
		return -1;
	if (run("ip addr add " TAP_NET ".1/24 dev tap%u", n, n))
		return -1;
	return tap_set_up(n, 1);
}

/*
 * tap_setup() by ioctls, without running ip: much faster on a slow guest.
 * Sets the address (replacing the first one) but removes none.  0 or -1.
 */
static inline int tap_setup_quick(unsigned int n, unsigned int qlen)
{
	struct ifreq ifr = {};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	char a[32];
	int s, ret = -1;

	if (tap_no_ipv6(n))
		return -1;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "tap%u", n);
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		goto out;
	ifr.ifr_flags &= ~IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		goto out;
	ifr.ifr_mtu = 1500;
	if (ioctl(s, SIOCSIFMTU, &ifr))
		goto out;
	ifr.ifr_qlen = qlen;
	if (ioctl(s, SIOCSIFTXQLEN, &ifr))
		goto out;
	snprintf(a, sizeof(a), TAP_NET ".1", n);
	memset(&ifr.ifr_addr, 0, sizeof(ifr.ifr_addr));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = inet_addr(a);
	if (ioctl(s, SIOCSIFADDR, &ifr))
		goto out;
	sin->sin_addr.s_addr = inet_addr("255.255.255.0");
	if (ioctl(s, SIOCSIFNETMASK, &ifr))
		goto out;
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		goto out;
	ifr.ifr_flags |= IFF_UP;
	ret = ioctl(s, SIOCSIFFLAGS, &ifr);
out:
	close(s);
	return ret;
}

/* tap_cleanup() by ioctls: down, MTU 1500, txqueuelen 1000 (address kept). */
static inline void tap_cleanup_quick(unsigned int n)
{
	struct ifreq ifr = {};
	int s;

	if (tap_setup_quick(n, 1000))
		return;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "tap%u", n);
	if (!ioctl(s, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags &= ~IFF_UP;
		ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
}

static inline void tap_cleanup(unsigned int n)
{
	tap_set_up(n, 0);
	run("ip addr flush dev tap%u", n);
	tap_set_txqlen(n, 1000);
	tap_set_mtu(n, 1500);
}

/* Wait up to @ms for a frame, then read it (or return -1, errno ETIMEDOUT). */
static inline ssize_t tap_read_wait(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, ms);

	if (r < 0)
		return -1;
	if (r == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return read(fd, buf, len);
}

/*
 * The tap number N of interface @ifname (its node is /dev/tapN), from its
 * MAC address FE:FD:00:00:hi:lo as created; -1 if unreadable.
 */
static inline int tap_number(const char *ifname)
{
	char path[96], buf[32];
	unsigned int m[6];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (sscanf(buf, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3],
		   &m[4], &m[5]) != 6 || m[0] != 0xfe || m[1] != 0xfd)
		return -1;
	return m[4] << 8 | m[5];
}

/*
 * Wait up to @ms for task @tid (a thread or a process) to be in system call
 * @nr, as /proc/TID/syscall shows it ("0 0x3 ..." for a read of fd 3 on
 * x86-64).  0 once it is, -1 if not in time.
 */
static inline int wait_in_syscall(pid_t tid, long nr, int ms)
{
	char path[64], buf[128];
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)tid);
	for (i = 0; i < ms; i += 5) {
		fd = open(path, O_RDONLY);
		if (fd < 0)
			return -1;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			if (strtol(buf, NULL, 10) == nr && buf[0] >= '0' &&
			    buf[0] <= '9')
				return 0;
		}
		usleep(5000);
	}
	return -1;
}

/* Print (as TAP comments) and discard the frames queued on @fd; the count. */
static inline int tap_dump(int fd, const char *why)
{
	static unsigned char buf[MAX_FRAME];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t len, i;
	int n = 0;

	while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
		len = read(fd, buf, sizeof(buf));
		if (len <= 0)
			break;
		fprintf(stderr, "# %s frame, %zd bytes:", why, len);
		for (i = 0; i < len && i < 80; i++)
			fprintf(stderr, "%s%02x", i % 16 ? " " : "\n#   ",
				buf[i]);
		fprintf(stderr, "\n");
		n++;
	}
	return n;
}

/* ---- counters ---- */

enum {
	/* /sys/class/net/tapN/statistics */
	S_RX_PACKETS, S_RX_BYTES, S_RX_ERRORS, S_RX_DROPPED, S_RX_LENGTH_ERRORS,
	S_RX_OVER_ERRORS, S_RX_CRC_ERRORS, S_RX_FRAME_ERRORS, S_RX_FIFO_ERRORS,
	S_RX_MISSED_ERRORS, S_RX_NOHANDLER, S_MULTICAST, S_COLLISIONS,
	S_TX_PACKETS, S_TX_BYTES, S_TX_ERRORS, S_TX_DROPPED,
	S_TX_ABORTED_ERRORS, S_TX_CARRIER_ERRORS, S_TX_FIFO_ERRORS,
	S_NR_SYSFS,
	/* ethtool -S */
	E_TX_DROPPED_NO_READER = S_NR_SYSFS, E_TX_DROPPED_QUEUE_FULL,
	E_TX_DROPPED_NOMEM, E_TX_READER_COPY_DROPPED, E_TX_UNREAD_AT_CLOSE,
	E_TX_READ_TRUNCATED, E_TX_READ_FAULT, E_RX_ERROR_TOO_SHORT,
	E_RX_ERROR_TOO_LONG, E_RX_ERROR_FAULT, E_RX_DROPPED_DOWN,
	E_RX_DROPPED_NOMEM, E_RX_DROPPED_OTHER_HOST,
	E_RX_DROPPED_MCAST_FILTERED, E_RX_ERROR_VNET_HDR, E_TX_DROPPED_SEGMENT,
	S_NR
};

static const char *const stat_names[S_NR] = {
	"rx_packets", "rx_bytes", "rx_errors", "rx_dropped",
	"rx_length_errors", "rx_over_errors", "rx_crc_errors",
	"rx_frame_errors", "rx_fifo_errors", "rx_missed_errors",
	"rx_nohandler", "multicast", "collisions",
	"tx_packets", "tx_bytes", "tx_errors", "tx_dropped",
	"tx_aborted_errors", "tx_carrier_errors", "tx_fifo_errors",
	"tx_dropped_no_reader", "tx_dropped_queue_full", "tx_dropped_nomem",
	"tx_reader_copy_dropped", "tx_unread_at_close", "tx_read_truncated",
	"tx_read_fault", "rx_error_too_short", "rx_error_too_long",
	"rx_error_fault", "rx_dropped_down", "rx_dropped_nomem",
	"rx_dropped_other_host", "rx_dropped_mcast_filtered",
	"rx_error_vnet_hdr", "tx_dropped_segment",
};

struct tap_stats {
	uint64_t v[S_NR];
};

/*
 * The ethtool -S counters of @ifname by name through SIOCETHTOOL.  Fills
 * st->v[S_NR_SYSFS..] and returns 0 if every name in stat_names was found.
 */
static inline int ethtool_stats(const char *ifname, struct tap_stats *st)
{
	struct ethtool_sset_info *sset = NULL;
	struct ethtool_gstrings *strs = NULL;
	struct ethtool_stats *vals = NULL;
	unsigned int i, j, n, found = 0;
	struct ifreq ifr = {};
	int fd, ret = -1;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);

	sset = calloc(1, sizeof(*sset) + sizeof(uint32_t));
	sset->cmd = ETHTOOL_GSSET_INFO;
	sset->sset_mask = 1ULL << ETH_SS_STATS;
	ifr.ifr_data = (void *)sset;
	if (ioctl(fd, SIOCETHTOOL, &ifr) || !sset->sset_mask)
		goto out;
	n = sset->data[0];

	strs = calloc(1, sizeof(*strs) + n * ETH_GSTRING_LEN);
	strs->cmd = ETHTOOL_GSTRINGS;
	strs->string_set = ETH_SS_STATS;
	strs->len = n;
	ifr.ifr_data = (void *)strs;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		goto out;

	vals = calloc(1, sizeof(*vals) + n * sizeof(uint64_t));
	vals->cmd = ETHTOOL_GSTATS;
	vals->n_stats = n;
	ifr.ifr_data = (void *)vals;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		goto out;

	for (i = S_NR_SYSFS; i < S_NR; i++) {
		for (j = 0; j < n; j++) {
			if (!strncmp((char *)strs->data + j * ETH_GSTRING_LEN,
				     stat_names[i], ETH_GSTRING_LEN)) {
				st->v[i] = vals->data[j];
				found++;
				break;
			}
		}
	}
	ret = found == S_NR - S_NR_SYSFS ? 0 : -1;
out:
	free(sset);
	free(strs);
	free(vals);
	close(fd);
	return ret;
}

static inline int tap_stats(unsigned int n, struct tap_stats *st)
{
	char ifname[IFNAMSIZ];
	int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < S_NR_SYSFS; i++) {
		st->v[i] = read_u64("/sys/class/net/tap%u/statistics/%s", n,
				    stat_names[i]);
		if (st->v[i] == UINT64_MAX)
			return -1;
	}
	snprintf(ifname, sizeof(ifname), "tap%u", n);
	return ethtool_stats(ifname, st);
}

/*
 * Compare the counters of tapN now with @before: every counter must have
 * moved by exactly want->v[i] (zero unless set).  Prints each difference;
 * returns how many there were (-1 if the counters could not be read).
 */
static inline int tap_stats_check(unsigned int n, const struct tap_stats *before,
				  const struct tap_stats *want)
{
	struct tap_stats now;
	int i, bad = 0;

	if (tap_stats(n, &now))
		return -1;
	for (i = 0; i < S_NR; i++) {
		uint64_t d = now.v[i] - before->v[i];

		if (d != want->v[i]) {
			fprintf(stderr,
				"# tap%u %s: changed by %" PRIu64
				", expected %" PRIu64 "\n",
				n, stat_names[i], d, want->v[i]);
			bad++;
		}
	}
	return bad;
}

/* What a fuzzer's model says counter @i of a tap moved by. */
struct stat_want {
	int i;
	uint64_t want;
};

/*
 * Compare the counters of tapN now (left in @now) with @before, for the
 * @nw counters of @want only; print each difference with the fuzzer's
 * @seed.  Returns how many differ (-1 if the counters could not be read).
 */
static inline int tap_stats_model(unsigned int n, const struct tap_stats *before,
				  const struct stat_want *want, size_t nw,
				  uint64_t seed, struct tap_stats *now)
{
	int bad = 0;
	size_t c;

	if (tap_stats(n, now))
		return -1;
	for (c = 0; c < nw; c++) {
		uint64_t d = now->v[want[c].i] - before->v[want[c].i];

		if (d != want[c].want) {
			fprintf(stderr, "# seed %" PRIu64 ": tap%u %s moved by %"
				PRIu64 ", model says %" PRIu64 "\n", seed, n,
				stat_names[want[c].i], d, want[c].want);
			bad++;
		}
	}
	return bad;
}

/* A number from the environment (0x for hex), or @dflt if unset or empty. */
static inline uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

/*
 * ---- drop reasons ----
 * The frames ethertap's modules free as dropped, with the reason each
 * names, as the skb:kfree_skb tracepoint reports them (perf and dropwatch
 * read the same), in a trace instance of the tests' own whose event filter
 * keeps only the drops whose caller lies in the modules' code.  run.sh
 * enables the event once, when the guest starts: turning a tracepoint on
 * rewrites kernel text, which under TCG with two vCPUs can crash the
 * guest (an int3 Oops), so the tests only move the filter and the
 * instance's tracing_on.
 */
#define TRACEFS		"/sys/kernel/tracing"
#define DROPS_DIR	TRACEFS "/instances/ethertap_drops"
#define DROPS_EVENT	DROPS_DIR "/events/skb/kfree_skb"

/*
 * Start recording: 1 if recording, 0 if this kernel's kfree_skb event has
 * no reason (5.10: the checks are then skipped), -1 on error.
 */
static inline int drops_start(void)
{
	char fmt[8192], filter[512], line[512], name[64];
	unsigned long long base, size;
	size_t n = 0;
	ssize_t got;
	FILE *f;
	int fd;

	if (access(TRACEFS "/instances", F_OK) &&
	    run("mount -t tracefs tracefs " TRACEFS))
		return -1;
	fd = open(TRACEFS "/events/skb/kfree_skb/format", O_RDONLY);
	if (fd < 0)
		return -1;
	got = read(fd, fmt, sizeof(fmt) - 1);
	close(fd);
	fmt[got > 0 ? got : 0] = 0;
	if (!strstr(fmt, "field:enum skb_drop_reason reason;"))
		return 0;
	if (access(DROPS_EVENT, F_OK) &&
	    (run("mkdir -p " DROPS_DIR) ||
	     write_str(DROPS_EVENT "/enable", "1")))
		return -1;
	/* The modules' code: from each one's address, its size. */
	f = fopen("/proc/modules", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %llu %*s %*s %*s %llx", name, &size,
			   &base) != 3 || !base ||
		    (strcmp(name, "ethertap") && strcmp(name, "netlink_dev") &&
		     strcmp(name, "ethertap_netlink")))
			continue;
		n += snprintf(filter + n, sizeof(filter) - n,
			      "%s(location >= 0x%llx && location < 0x%llx)",
			      n ? " || " : "", base, base + size);
	}
	fclose(f);
	if (!n || n >= sizeof(filter))
		return -1;
	if (write_str(DROPS_EVENT "/filter", filter) ||
	    write_str(DROPS_DIR "/tracing_on", "1"))
		return -1;
	fd = open(DROPS_DIR "/trace", O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	close(fd);
	return 1;
}

static inline void drops_stop(int on)
{
	if (on > 0)
		write_str(DROPS_DIR "/tracing_on", "0");
}

/*
 * The drops recorded since drops_start() or the last drops_check(), which
 * empties the record: they must be exactly @n frames freed by ethertap's
 * modules, each with @reason ("DEV_READY", ...).  Prints what differs;
 * returns 0 if it matches (or if @on is 0: no reasons here).
 */
static inline int drops_check(int on, const char *reason, unsigned int n)
{
	unsigned int want = 0, other = 0;
	char line[512], tag[64];
	FILE *f;
	int fd;

	if (!on)
		return 0;
	if (on < 0)
		return -1;
	f = fopen(DROPS_DIR "/trace", "r");
	if (!f)
		return -1;
	snprintf(tag, sizeof(tag), " reason: %s\n", reason);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || !strstr(line, " kfree_skb: "))
			continue;
		if (strstr(line, tag)) {
			want++;
		} else {
			other++;
			fprintf(stderr, "# unexpected drop: %s", line);
		}
	}
	fclose(f);
	fd = open(DROPS_DIR "/trace", O_WRONLY | O_TRUNC);
	if (fd >= 0)
		close(fd);
	if (want != n)
		fprintf(stderr, "# %u drops with reason %s, expected %u\n",
			want, reason, n);
	return want == n && !other ? 0 : -1;
}

/* ---- frames ---- */

static inline uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += (p[0] << 8) | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += p[0] << 8;
	return sum;
}

static inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (p[0] << 8) | p[1];
}

static inline uint32_t inet_be(const char *a)
{
	struct in_addr in;

	inet_pton(AF_INET, a, &in);
	return in.s_addr;
}

/* The MAC address of tapN: FE:FD:00:00:hi(N):lo(N). */
static inline void tap_mac(unsigned int n, uint8_t mac[6])
{
	const uint8_t m[6] = { 0xfe, 0xfd, 0, 0, n >> 8, n & 0xff };

	memcpy(mac, m, 6);
}

/* UDP checksum over pseudo header, header and payload of @udp (@len bytes). */
static inline uint16_t udp_csum(uint32_t saddr, uint32_t daddr,
				const uint8_t *udp, size_t len)
{
	uint8_t ph[12];
	uint32_t sum;
	uint16_t c;

	memcpy(ph, &saddr, 4);
	memcpy(ph + 4, &daddr, 4);
	ph[8] = 0;
	ph[9] = IPPROTO_UDP;
	put16(ph + 10, len);
	sum = csum_add(csum_add(0, ph, 12), udp, len);
	c = csum_fold(sum);
	return c ? c : 0xffff;
}

/*
 * Build at @buf a padded Ethernet frame (pad bytes @pad) from @src to @dst
 * carrying IPv4/UDP @saddr:@sport -> @daddr:@dport with @plen bytes of
 * @payload, all checksums right.  @vlan_tpid nonzero inserts a VLAN tag
 * (TPID @vlan_tpid, TCI 0).  Returns the length to write().
 */
static inline size_t build_udp_frame_vlan(uint8_t *buf, uint8_t pad,
					  const uint8_t dst[6],
					  const uint8_t src[6],
					  uint16_t vlan_tpid,
					  uint32_t saddr, uint16_t sport,
					  uint32_t daddr, uint16_t dport,
					  const void *payload, size_t plen)
{
	uint8_t *eth = buf + ETHERTAP_PAD, *ip, *udp;
	static uint16_t ip_id = 0x1234;

	buf[0] = buf[1] = pad;
	memcpy(eth, dst, 6);
	memcpy(eth + 6, src, 6);
	ip = eth + 12;
	if (vlan_tpid) {
		put16(ip, vlan_tpid);
		put16(ip + 2, 0);
		ip += 4;
	}
	put16(ip, 0x0800);
	ip += 2;

	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, IP_HDR + UDP_HDR + plen);
	put16(ip + 4, ip_id++);
	put16(ip + 6, 0x4000);		/* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	put16(ip + 10, 0);
	memcpy(ip + 12, &saddr, 4);
	memcpy(ip + 16, &daddr, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, IP_HDR)));

	udp = ip + IP_HDR;
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, UDP_HDR + plen);
	put16(udp + 6, 0);
	memcpy(udp + UDP_HDR, payload, plen);
	put16(udp + 6, udp_csum(saddr, daddr, udp, UDP_HDR + plen));

	return udp + UDP_HDR + plen - buf;
}

static inline size_t build_udp_frame(uint8_t *buf, const uint8_t dst[6],
				     const uint8_t src[6],
				     uint32_t saddr, uint16_t sport,
				     uint32_t daddr, uint16_t dport,
				     const void *payload, size_t plen)
{
	return build_udp_frame_vlan(buf, 0, dst, src, 0, saddr, sport,
				    daddr, dport, payload, plen);
}

/*
 * A padded frame from the neighbour 10.99.N.2 (PEER_MAC) to tapN's own
 * address 10.99.N.1 port @dport: what write() on /dev/tapN injects.
 */
static inline size_t build_to_tap(uint8_t *buf, unsigned int n, uint16_t dport,
				  const void *payload, size_t plen)
{
	const uint8_t peer[6] = PEER_MAC;
	char s[32], d[32];
	uint8_t mac[6];

	tap_mac(n, mac);
	snprintf(s, sizeof(s), TAP_NET ".2", n);
	snprintf(d, sizeof(d), TAP_NET ".1", n);
	return build_udp_frame(buf, mac, peer, inet_be(s), 40000, inet_be(d),
			       dport, payload, plen);
}

/* ---- sockets ---- */

/* A UDP socket bound to 10.99.N.1:@port (port 0: any), 1 s receive timeout. */
static inline int udp_socket(unsigned int n, uint16_t port)
{
	struct timeval tv = { .tv_sec = 1 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char a[32];
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	snprintf(a, sizeof(a), TAP_NET ".1", n);
	sin.sin_addr.s_addr = inet_be(a);
	sin.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send @len bytes from @fd to the neighbour 10.99.N.2:@port, through tapN. */
static inline ssize_t udp_send_peer_flags(int fd, unsigned int n,
					  uint16_t port, const void *buf,
					  size_t len, int flags)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char a[32];

	snprintf(a, sizeof(a), TAP_NET ".2", n);
	sin.sin_addr.s_addr = inet_be(a);
	sin.sin_port = htons(port);
	return sendto(fd, buf, len, flags, (struct sockaddr *)&sin, sizeof(sin));
}

static inline ssize_t udp_send_peer(int fd, unsigned int n, uint16_t port,
				    const void *buf, size_t len)
{
	return udp_send_peer_flags(fd, n, port, buf, len, 0);
}

/*
 * Fork a child that sends @len bytes of @buf from @fd to the peer of tapN,
 * port @port, after @ms milliseconds, and exits 0 if all were sent.
 * Returns its pid, or -1.
 */
static inline pid_t udp_send_peer_later(int fd, unsigned int n, uint16_t port,
					const void *buf, size_t len, int ms)
{
	pid_t pid = fork();

	if (!pid) {
		usleep(ms * 1000);
		_exit(udp_send_peer(fd, n, port, buf, len) == (ssize_t)len ? 0 : 1);
	}
	return pid;
}

static inline uint16_t udp_local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t l = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &l))
		return 0;
	return ntohs(sin.sin_port);
}

/* Is there a datagram waiting on @fd (without blocking)? */
static inline int udp_pending(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/*
 * What the tap0 fixtures of chardev, errors and arpmode share: tap0 set
 * up, /dev/tap0 open, a UDP socket bound to 10.99.0.1, tap0's counters
 * once all that is done.
 */
struct tap_fixture {
	int fd;			/* /dev/tap0 */
	int sock;		/* UDP socket bound to 10.99.0.1 */
	uint16_t port;		/* its port */
	struct tap_stats st;	/* tap0's counters after setup */
};

/* Set @t up, /dev/tap0 opened with @flags: NULL, or what failed. */
static inline const char *tap_fixture_setup(struct tap_fixture *t, int flags)
{
	t->sock = -1;
	t->fd = -1;
	if (tap_setup(0))
		return "tap_setup(0)";
	t->fd = tap_open(0, flags);
	if (t->fd < 0)
		return "open /dev/tap0";
	t->sock = udp_socket(0, 0);
	if (t->sock < 0)
		return "UDP socket on 10.99.0.1";
	t->port = udp_local_port(t->sock);
	if (!t->port)
		return "the UDP socket's port";
	if (tap_stats(0, &t->st))
		return "tap0's counters";
	return NULL;
}

/*
 * Close what tap_fixture_setup() opened.  A test reads all it expects:
 * a frame still queued on /dev/tap0 is printed as unexpected.
 */
static inline void tap_fixture_close(struct tap_fixture *t)
{
	if (t->fd >= 0) {
		tap_dump(t->fd, "unexpected");
		close(t->fd);
	}
	if (t->sock >= 0)
		close(t->sock);
	t->fd = -1;
	t->sock = -1;
}

#endif /* _ETHERTAP_SELFTEST_LIB_H */
