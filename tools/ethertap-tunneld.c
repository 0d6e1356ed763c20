// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap-tunneld: carry Ethernet frames between /dev/tapN on two hosts
 * over UDP.
 *
 *	ethertap-tunneld -r ADDR:PORT [-l [ADDR]:PORT] [-d /dev/tapN]
 *			 [-k KEYFILE] [-f] [-v]
 *
 * Every frame read from /dev/tapN (ETHERTAP_PAD zero bytes, then the
 * Ethernet frame) goes to the peer as one UDP datagram; every datagram
 * from the peer is written to /dev/tapN as one frame.  A datagram is
 *
 *	+-----+-----+-----+-------+-------------+--------------+-------+-----+
 *	| 'E' | 'T' | ver | flags | sender (4)  | sequence (8) | frame | tag |
 *	+-----+-----+-----+-------+-------------+--------------+-------+-----+
 *
 * version 1; flag 1 means a 32-byte tag follows the frame; "sender" is a
 * random number each daemon picks at start (it recognises its own datagrams
 * coming back); "sequence" counts the sender's frames from its start time
 * in nanoseconds, so that it keeps growing across restarts.  With -k, the
 * tag is libsodium's crypto_auth (HMAC-SHA-512-256) of everything before
 * it under the pre-shared key, and datagrams with a bad or missing tag, or
 * a sequence number seen already or more than 64 behind the highest one,
 * are dropped and counted.  See Documentation/ethertap.rst, "A tunnel
 * daemon", for what this protects and what it does not.
 *
 * The daemon logs events (start, peer state, first drop of each kind,
 * exit), never one line per frame unless -v; counters are logged on
 * SIGUSR1 and at exit.  SIGINT, SIGTERM and SIGHUP end it with status 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "../ethertap.h"

#define ETH_HDR_LEN	14
#define HDR_LEN		16		/* magic, version, flags, sender, seq */
#define TAG_LEN		crypto_auth_BYTES	/* 32 */
#define KEY_LEN		crypto_auth_KEYBYTES	/* 32 */
#define VERSION		1
#define FLAG_TAG	0x01
#define MAX_DGRAM	65535		/* a UDP payload never exceeds this */
#define REPLAY_WINDOW	64
#define BATCH		64		/* frames or datagrams per wake-up */

/* Largest frame a tap can transmit: MTU 65535, header, two VLAN tags. */
#define MAX_FRAME	(ETH_HDR_LEN + 8 + ETHERTAP_MAX_MTU)

static const char *prog = "ethertap-tunneld";
static bool foreground, verbose;

/* Why a datagram or frame was dropped; the order of the counter line. */
enum drop {
	DROP_BAD_TAG,		/* tag missing or wrong (with -k) */
	DROP_SHORT,		/* datagram shorter than header + frame header */
	DROP_TOO_LONG,		/* frame from the tap too long for a datagram */
	DROP_BAD_HEADER,	/* not our magic/version, or tag without -k */
	DROP_REPLAY,		/* sequence number seen or too old (with -k) */
	DROP_LOOPED,		/* our own datagram came back */
	DROP_WRITE,		/* write() to the tap failed */
	DROP_SEND,		/* send() to the peer failed */
	NR_DROPS
};

static const char *const drop_name[NR_DROPS] = {
	"bad_tag", "short", "too_long", "bad_header", "replay", "looped",
	"write_errors", "send_errors",
};

static struct {
	uint64_t out_frames, out_bytes;	/* tap -> peer */
	uint64_t in_frames, in_bytes;	/* peer -> tap */
	uint64_t datagrams;		/* every datagram received */
	uint64_t refused;		/* ECONNREFUSED reported by the socket */
	uint64_t drop[NR_DROPS];
} cnt;

static struct {
	bool on;
	uint8_t key[KEY_LEN];
} auth;

/* Highest sequence number accepted and which of the 63 below it were. */
static struct {
	bool started;
	uint64_t top;
	uint64_t seen;		/* bit i: top - i accepted */
} window;

static uint32_t self_id, peer_id;
static bool peer_known, peer_down;
static uint64_t next_seq;

static void logmsg(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void logmsg(int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio == LOG_DEBUG && !verbose)
		return;
	va_start(ap, fmt);
	if (foreground) {
		fprintf(stderr, "%s: ", prog);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(prio, fmt, ap);
	}
	va_end(ap);
}

static void log_counters(const char *when)
{
	char line[512];
	int i, n;

	n = snprintf(line, sizeof(line),
		     "counters (%s): out_frames=%" PRIu64 " out_bytes=%" PRIu64
		     " in_frames=%" PRIu64 " in_bytes=%" PRIu64
		     " datagrams=%" PRIu64 " refused=%" PRIu64,
		     when, cnt.out_frames, cnt.out_bytes, cnt.in_frames,
		     cnt.in_bytes, cnt.datagrams, cnt.refused);
	for (i = 0; i < NR_DROPS && n > 0 && (size_t)n < sizeof(line); i++)
		n += snprintf(line + n, sizeof(line) - n, " %s=%" PRIu64,
			      drop_name[i], cnt.drop[i]);
	logmsg(LOG_INFO, "%s", line);
}

/* Count a drop; log the first of each kind (every one with -v). */
static void drop(enum drop why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void drop(enum drop why, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	if (cnt.drop[why]++ && !verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	logmsg(LOG_WARNING, "dropped: %s (%s)%s", what, drop_name[why],
	       verbose ? "" : "; further ones are only counted");
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, (uint32_t)v);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/*
 * Sliding-window check of an authenticated sequence number; records it if
 * accepted.  Returns false for a number accepted before or more than
 * REPLAY_WINDOW - 1 below the highest one accepted.
 */
static bool window_accept(uint64_t seq)
{
	uint64_t diff;

	if (!window.started || seq > window.top) {
		diff = window.started ? seq - window.top : REPLAY_WINDOW;
		window.seen = diff >= REPLAY_WINDOW ? 0 : window.seen << diff;
		window.seen |= 1;
		window.top = seq;
		window.started = true;
		return true;
	}
	diff = window.top - seq;
	if (diff >= REPLAY_WINDOW || (window.seen >> diff) & 1)
		return false;
	window.seen |= (uint64_t)1 << diff;
	return true;
}

/* "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (any address). */
static int resolve(const char *arg, int family, bool passive,
		   struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { 0 }, *res;
	char host[256];
	const char *port = strrchr(arg, ':');
	size_t hlen;
	int err;

	if (!port || !port[1]) {
		fprintf(stderr, "%s: '%s': want ADDR:PORT\n", prog, arg);
		return -1;
	}
	hlen = port - arg;
	if (hlen >= 2 && arg[0] == '[' && arg[hlen - 1] == ']') {
		arg++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
		fprintf(stderr, "%s: '%s': address too long\n", prog, arg);
		return -1;
	}
	memcpy(host, arg, hlen);
	host[hlen] = '\0';

	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	err = getaddrinfo(hlen ? host : NULL, port + 1, &hints, &res);
	if (err) {
		fprintf(stderr, "%s: '%s': %s\n", prog, arg, gai_strerror(err));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static const char *addr_str(const struct sockaddr_storage *ss)
{
	static char buf[INET6_ADDRSTRLEN + 10];
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		port = ntohs(s->sin_port);
		snprintf(buf, sizeof(buf), "%s:%u", host, port);
	} else {
		const struct sockaddr_in6 *s = (const void *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
		port = ntohs(s->sin6_port);
		snprintf(buf, sizeof(buf), "[%s]:%u", host, port);
	}
	return buf;
}

/*
 * The key file holds the 32-byte key, raw or as 64 hexadecimal digits
 * (followed by an optional newline).
 */
static int read_key(const char *path)
{
	uint8_t buf[2 * KEY_LEN + 2];
	struct stat st;
	size_t bin_len;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "%s: key file %s: %s\n", prog, path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_mode & 077)
		fprintf(stderr, "%s: warning: key file %s is accessible to group or others\n",
			prog, path);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n == KEY_LEN) {
		memcpy(auth.key, buf, KEY_LEN);
	} else if ((n == 2 * KEY_LEN || (n == 2 * KEY_LEN + 1 && buf[n - 1] == '\n')) &&
		   !sodium_hex2bin(auth.key, KEY_LEN, (const char *)buf,
				   2 * KEY_LEN, NULL, &bin_len, NULL) &&
		   bin_len == KEY_LEN) {
		/* hexadecimal */
	} else {
		fprintf(stderr, "%s: key file %s: want 32 bytes or 64 hex digits\n",
			prog, path);
		sodium_memzero(buf, sizeof(buf));
		return -1;
	}
	sodium_memzero(buf, sizeof(buf));
	auth.on = true;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/*
 * Frames from the tap to the peer.  The frame is read so that it lands
 * right after the datagram header: the header then overwrites the padding.
 * Returns -1 when the tap is gone.
 */
static int tap_to_peer(int tap, int sock, const char *dev)
{
	static uint8_t dgram[HDR_LEN + MAX_FRAME + TAG_LEN];
	uint8_t *frame = dgram + HDR_LEN;
	size_t len, dlen;
	ssize_t n;
	int i;

	for (i = 0; i < BATCH; i++) {
		n = read(tap, frame - ETHERTAP_PAD, MAX_FRAME + ETHERTAP_PAD);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			logmsg(LOG_ERR, "read %s: %s", dev, strerror(errno));
			return -1;
		}
		if (n == 0) {
			logmsg(LOG_ERR, "%s: end of file: the tap was deleted", dev);
			return -1;
		}
		if ((size_t)n < ETHERTAP_MIN_FRAME) {
			drop(DROP_SHORT, "a %zd-byte read from %s", n, dev);
			continue;
		}
		len = n - ETHERTAP_PAD;
		dlen = HDR_LEN + len + (auth.on ? TAG_LEN : 0);
		if (dlen > MAX_DGRAM - 8 - 40) {	/* UDP + IPv6 header */
			drop(DROP_TOO_LONG, "a %zu-byte frame from %s does not fit in a datagram",
			     len, dev);
			continue;
		}
		dgram[0] = 'E';
		dgram[1] = 'T';
		dgram[2] = VERSION;
		dgram[3] = auth.on ? FLAG_TAG : 0;
		put32(dgram + 4, self_id);
		put64(dgram + 8, next_seq++);
		if (auth.on)
			crypto_auth(frame + len, dgram, HDR_LEN + len, auth.key);
		if (send(sock, dgram, dlen, 0) < 0) {
			if (errno == ECONNREFUSED) {
				cnt.refused++;
				if (!peer_down)
					logmsg(LOG_NOTICE, "peer unreachable (%s); carrying on",
					       strerror(errno));
				peer_down = true;
			}
			drop(DROP_SEND, "send to the peer: %s", strerror(errno));
			continue;
		}
		cnt.out_frames++;
		cnt.out_bytes += len;
	}
	return 0;
}

/* Datagrams from the peer to the tap.  Returns -1 when the tap is gone. */
static int peer_to_tap(int sock, int tap, const char *dev)
{
	static uint8_t dgram[MAX_DGRAM + 1];
	uint32_t sender;
	uint64_t seq;
	size_t len, flen;
	ssize_t n;
	int i;

	for (i = 0; i < BATCH; i++) {
		n = recv(sock, dgram, sizeof(dgram), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno == ECONNREFUSED) {
				cnt.refused++;
				if (!peer_down)
					logmsg(LOG_NOTICE, "peer unreachable (%s); carrying on",
					       strerror(errno));
				peer_down = true;
				continue;
			}
			/* Other ICMP errors (EHOSTUNREACH, ...): keep going. */
			logmsg(LOG_WARNING, "receive: %s; carrying on", strerror(errno));
			return 0;
		}
		cnt.datagrams++;
		len = n;
		if (len < HDR_LEN + ETH_HDR_LEN) {
			drop(DROP_SHORT, "a %zu-byte datagram", len);
			continue;
		}
		if (dgram[0] != 'E' || dgram[1] != 'T' || dgram[2] != VERSION ||
		    (dgram[3] & ~FLAG_TAG)) {
			drop(DROP_BAD_HEADER, "unknown header %02x %02x %02x %02x",
			     dgram[0], dgram[1], dgram[2], dgram[3]);
			continue;
		}
		if (auth.on) {
			if (!(dgram[3] & FLAG_TAG)) {
				drop(DROP_BAD_TAG, "a datagram without a tag");
				continue;
			}
			if (len < HDR_LEN + ETH_HDR_LEN + TAG_LEN) {
				drop(DROP_SHORT, "a %zu-byte datagram", len);
				continue;
			}
			len -= TAG_LEN;
			if (crypto_auth_verify(dgram + len, dgram, len, auth.key)) {
				drop(DROP_BAD_TAG, "a datagram with a bad tag");
				continue;
			}
		} else if (dgram[3] & FLAG_TAG) {
			drop(DROP_BAD_HEADER, "a tagged datagram, but no key (-k) given");
			continue;
		}
		sender = get32(dgram + 4);
		seq = get64(dgram + 8);
		if (sender == self_id) {
			drop(DROP_LOOPED, "our own datagram came back");
			continue;
		}
		if (auth.on && !window_accept(seq)) {
			drop(DROP_REPLAY, "sequence number %" PRIu64 " replayed or too old",
			     seq);
			continue;
		}
		if (peer_down) {
			logmsg(LOG_NOTICE, "peer reachable again");
			peer_down = false;
		}
		if (!peer_known || sender != peer_id) {
			logmsg(LOG_NOTICE, "%s peer session %08" PRIx32,
			       peer_known ? "new" : "first", sender);
			peer_known = true;
			peer_id = sender;
		}

		/* Padding in front of the frame, over the parsed header. */
		flen = len - HDR_LEN;
		dgram[HDR_LEN - 2] = 0;
		dgram[HDR_LEN - 1] = 0;
		if (write(tap, dgram + HDR_LEN - ETHERTAP_PAD,
			  flen + ETHERTAP_PAD) < 0) {
			if (errno == ENXIO) {
				logmsg(LOG_ERR, "write %s: %s: the tap was deleted",
				       dev, strerror(errno));
				return -1;
			}
			drop(DROP_WRITE, "write of a %zu-byte frame to %s: %s",
			     flen, dev, strerror(errno));
			continue;
		}
		cnt.in_frames++;
		cnt.in_bytes += flen;
	}
	return 0;
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: %s -r ADDR:PORT [-l [ADDR]:PORT] [-d /dev/tapN] [-k KEYFILE] [-f] [-v]\n"
		"  -r ADDR:PORT   the peer's address and UDP port ([V6ADDR]:PORT for IPv6)\n"
		"  -l ADDR:PORT   local address and port (default: any address, the peer's port)\n"
		"  -d DEV         ethertap device (default /dev/tap0)\n"
		"  -k KEYFILE     pre-shared key (32 bytes, raw or 64 hex digits):\n"
		"                 authenticate every frame, drop replays\n"
		"  -f             stay in the foreground and log to standard error\n"
		"  -v             also log every dropped datagram or frame\n",
		prog);
	exit(status);
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/tap0", *local = NULL, *remote = NULL;
	const char *keyfile = NULL;
	struct sockaddr_storage laddr, raddr;
	socklen_t llen, rlen;
	struct signalfd_siginfo si;
	struct pollfd pfd[3];
	int tap = -1, sock = -1, sfd = -1, opt, one = 1, status = 1;
	int bufsz = 4 << 20;
	sigset_t sigs;
	char portarg[16];

	while ((opt = getopt(argc, argv, "r:l:d:k:fvh")) != -1) {
		switch (opt) {
		case 'r':
			remote = optarg;
			break;
		case 'l':
			local = optarg;
			break;
		case 'd':
			dev = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc || !remote)
		usage(2);

	if (sodium_init() < 0) {
		fprintf(stderr, "%s: libsodium failed to initialise\n", prog);
		return 1;
	}
	if (keyfile && read_key(keyfile))
		return 1;
	if (resolve(remote, AF_UNSPEC, false, &raddr, &rlen))
		return 1;
	if (!local) {
		snprintf(portarg, sizeof(portarg), ":%s", strrchr(remote, ':') + 1);
		local = portarg;
	}
	if (resolve(local, raddr.ss_family, true, &laddr, &llen))
		return 1;

	tap = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tap < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, dev, strerror(errno));
		goto out;
	}
	sock = socket(raddr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
		goto out;
	}
	setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	if (raddr.ss_family == AF_INET) {
		/* Large frames are fragmented, never refused for the path MTU. */
		int pmtu = IP_PMTUDISC_DONT;

		setsockopt(sock, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	}
	if (bind(sock, (struct sockaddr *)&laddr, llen)) {
		fprintf(stderr, "%s: bind %s: %s\n", prog, addr_str(&laddr),
			strerror(errno));
		goto out;
	}
	/* Connected: only the peer's datagrams arrive. */
	if (connect(sock, (struct sockaddr *)&raddr, rlen)) {
		fprintf(stderr, "%s: connect %s: %s\n", prog, addr_str(&raddr),
			strerror(errno));
		goto out;
	}

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "%s: signalfd: %s\n", prog, strerror(errno));
		goto out;
	}

	if (!foreground) {
		openlog(prog, LOG_PID, LOG_DAEMON);
		if (daemon(0, 0)) {
			fprintf(stderr, "%s: daemon: %s\n", prog, strerror(errno));
			goto out;
		}
	}

	randombytes_buf(&self_id, sizeof(self_id));
	next_seq = now_ns();
	logmsg(LOG_INFO, "started (pid %d, session %08" PRIx32 "): %s, local %s",
	       (int)getpid(), self_id, dev, addr_str(&laddr));
	logmsg(LOG_INFO, "peer %s, %s", addr_str(&raddr),
	       auth.on ? "frames authenticated (HMAC-SHA-512-256), replays dropped" :
	       "no authentication");

	pfd[0] = (struct pollfd){ .fd = tap, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = sock, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			logmsg(LOG_ERR, "poll: %s", strerror(errno));
			break;
		}
		if (pfd[2].revents & POLLIN &&
		    read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGUSR1) {
				log_counters("SIGUSR1");
			} else {
				logmsg(LOG_INFO, "exiting on %s",
				       strsignal(si.ssi_signo));
				status = 0;
				break;
			}
		}
		if (pfd[0].revents & (POLLERR | POLLHUP)) {
			logmsg(LOG_ERR, "%s: the tap was deleted", dev);
			break;
		}
		if (pfd[0].revents & POLLIN && tap_to_peer(tap, sock, dev))
			break;
		if (pfd[1].revents & (POLLIN | POLLERR) &&
		    peer_to_tap(sock, tap, dev))
			break;
	}
	log_counters("exit");
out:
	sodium_memzero(auth.key, sizeof(auth.key));
	if (sfd >= 0)
		close(sfd);
	if (sock >= 0)
		close(sock);
	if (tap >= 0)
		close(tap);
	if (!foreground)
		closelog();
	return status;
}
