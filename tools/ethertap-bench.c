// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap-bench: frames per second through ethertap's /dev/tapN (or its
 * raw netlink interface) and through TUN/TAP (IFF_TAP | IFF_NO_PI), with
 * the same traffic generator, run alternately in one process so that both
 * sides see the same machine.
 *
 *   ethertap-bench cell [-n] [-t SECONDS] [-r RUNS] [-l SLICES] [-b BATCH]
 *                  [-s SIZE] -d k2u|u2k -e TAPS -u TUNS
 *	TAPS is a comma-separated list of ethertap interfaces tapN (their
 *	files are /dev/tapN), TUNS one of TUN/TAP interfaces of the same
 *	length (created beforehand with ip tuntap add NAME mode tap).  Flow
 *	i uses the i-th interface of the side and runs on CPU i.  Each
 *	interface must have an IPv4 address A/24; its neighbour A+1 must be
 *	reachable through it without ARP (ip link set NAME arp off).
 *	Each of RUNS runs (default 5) gives each side SECONDS (default 1)
 *	of traffic in SLICES slices (default 10), the sides alternating
 *	slice by slice; every slice starts with 20 ms of unmeasured warm-up.
 *	Prints one table row: median frames/s (min..max) and Gbit/s of each
 *	side and the median (min..max) of the per-run ratios ethertap /
 *	TUN/TAP, then the raw runs as comments.
 *	-n: the ethertap side uses the raw netlink interface (module
 *	ethertap_netlink, loaded beforehand) instead of /dev/tapN: one
 *	ETHERTAP_NETLINK socket per flow, in tapN's group for k2u, with a
 *	4 MiB receive buffer (SO_RCVBUFFORCE) and NETLINK_NO_ENOBUFS; the
 *	frames it missed (its socket drops, SO_MEMINFO) are printed too.
 *   ethertap-bench time CMD [ARGS...]
 *	Runs CMD and prints its wall time in seconds (CLOCK_MONOTONIC).
 *
 * A flow is one thread pinned to one CPU:
 *   k2u  (kernel to user) sends BATCH UDP datagrams with sendmmsg() from a
 *        socket connected to the neighbour, so that the stack transmits
 *        BATCH frames of SIZE bytes on the interface, then read()s them
 *        from the interface's file (non-blocking); counts frames read.
 *   u2k  (user to kernel) write()s BATCH frames of SIZE bytes, UDP from
 *        the neighbour to the interface's address, then drains the bound
 *        UDP socket with recvmmsg(); counts datagrams received.
 * With -n the ethertap side moves each batch with one call instead: k2u
 * recvmmsg()s the frames from the netlink socket (non-blocking, until all
 * BATCH came or none is left), u2k sendmmsg()s them to the kernel socket
 * (nl_pid 0, nl_groups 0), the padding holding N big-endian.
 * SIZE is the Ethernet frame without FCS (and without ethertap's two
 * bytes of padding); Gbit/s counts those bytes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ethertap.h"

#define MAX_FLOWS	8
#define MAX_RUNS	64
#define MAX_BATCH	256
#define BUF_LEN		(ETHERTAP_PAD + 14 + 4 + 65535)
#define HDRS_LEN	(14 + 20 + 8)	/* Ethernet, IPv4, UDP */
#define PORT_BASE	40000

enum side { ETHERTAP, TUNTAP, NR_SIDES };
static const char *side_name[NR_SIDES] = { "ethertap", "TUN/TAP" };

enum phase { WARM, MEASURE, STOP };

struct flow {
	enum side side;
	char ifname[IFNAMSIZ];
	int fd;			/* /dev/tapN, netlink socket or TUN/TAP file */
	unsigned int tapn;	/* N of tapN */
	int sock;		/* UDP socket */
	int cpu;
	struct in_addr local, peer;
	unsigned char mac[6];
	unsigned char frame[BUF_LEN];	/* u2k: padding + frame to write */
	size_t frame_len;		/* bytes to write, padding included */
	unsigned long long frames, lost, stray, errors;
	uint32_t drops;		/* netlink: the socket's drops at open */
	pthread_t thread;
};

static struct {
	int k2u;
	int netlink;
	size_t size;
	unsigned int batch;
	double seconds;
	double warmup;
	int runs;
	int slices;
} opt = {
	.size = 64, .batch = 32, .seconds = 1.0, .warmup = 0.02, .runs = 5,
	.slices = 10,
};

static _Atomic int phase;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "ethertap-bench: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static uint16_t ip_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

/* The interface's IPv4 address and MAC; the neighbour is address + 1. */
static void flow_addresses(struct flow *f)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0)
		die("socket");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", f->ifname);
	if (ioctl(s, SIOCGIFADDR, &ifr))
		fail("no IPv4 address on %s", f->ifname);
	f->local = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
	f->peer.s_addr = htonl(ntohl(f->local.s_addr) + 1);
	if (ioctl(s, SIOCGIFHWADDR, &ifr))
		fail("no MAC address on %s", f->ifname);
	memcpy(f->mac, ifr.ifr_hwaddr.sa_data, 6);
	close(s);
}

/* Wait until @ifname's operstate leaves "down" (TUN/TAP: carrier on). */
static void wait_running(const char *ifname)
{
	char path[64], state[32];
	int i;

	snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", ifname);
	for (i = 0; i < 300; i++) {
		FILE *fp = fopen(path, "r");

		if (!fp)
			fail("no %s", path);
		if (!fgets(state, sizeof(state), fp))
			state[0] = 0;
		fclose(fp);
		if (strncmp(state, "down", 4) && strncmp(state, "lowerlayerdown", 14))
			return;
		sleep_s(0.01);
	}
	fail("%s did not come up", ifname);
}

static int open_tun(const char *ifname)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);

	if (fd < 0)
		die("/dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr))
		die("TUNSETIFF");
	return fd;
}

static int open_tap(unsigned int n)
{
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "/dev/tap%u", n);
	fd = open(path, O_RDWR | O_NONBLOCK);
	if (fd < 0)
		die(path);
	return fd;
}

/* The socket's drops so far (frames a full receive buffer missed). */
static uint32_t nl_drops(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) ||
	    len <= SK_MEMINFO_DROPS * sizeof(*mem))
		die("SO_MEMINFO");
	return mem[SK_MEMINFO_DROPS];
}

/*
 * A raw netlink socket for tapN: bound (so that it can receive), in tapN's
 * group for k2u, 4 MiB of receive buffer, overruns counted, not reported.
 */
static int open_netlink(unsigned int n)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, big = 4 << 20, one = 1, group = ETHERTAP_NLGRP(n);

	fd = socket(AF_NETLINK, SOCK_RAW, ETHERTAP_NETLINK);
	if (fd < 0)
		die("socket(AF_NETLINK, SOCK_RAW, ETHERTAP_NETLINK)");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		die("SO_RCVBUFFORCE");
	if (setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one)))
		die("NETLINK_NO_ENOBUFS");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("bind(AF_NETLINK)");
	if (opt.k2u && setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				  &group, sizeof(group)))
		die("NETLINK_ADD_MEMBERSHIP");
	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		die("O_NONBLOCK");
	return fd;
}

/* u2k: the frame user space writes, UDP from the neighbour to us. */
static void build_frame(struct flow *f, unsigned int port)
{
	size_t pad = f->side == ETHERTAP ? ETHERTAP_PAD : 0;
	unsigned char *eth = f->frame + pad;
	unsigned char *ip = eth + 14, *udp = ip + 20;
	size_t iplen = opt.size - 14;
	struct in_addr src = f->peer, dst = f->local;

	memset(f->frame, 0, sizeof(f->frame));
	if (pad && opt.netlink) {
		f->frame[0] = f->tapn >> 8;
		f->frame[1] = f->tapn & 0xff;
	}
	memcpy(eth, f->mac, 6);
	memcpy(eth + 6, "\x02\x00\x00\x00\x00\x02", 6);
	eth[12] = 0x08;
	eth[13] = 0x00;
	ip[0] = 0x45;
	ip[2] = iplen >> 8;
	ip[3] = iplen & 0xff;
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	memcpy(ip + 10, &(uint16_t){ ip_checksum(ip, 20) }, 2);
	udp[0] = port >> 8;
	udp[1] = port & 0xff;
	udp[2] = port >> 8;
	udp[3] = port & 0xff;
	udp[4] = (iplen - 20) >> 8;
	udp[5] = (iplen - 20) & 0xff;
	f->frame_len = pad + opt.size;
}

static void flow_open(struct flow *f, int index)
{
	unsigned int port = PORT_BASE + index;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int big = 4 << 20;

	flow_addresses(f);
	if (f->side == TUNTAP) {
		f->fd = open_tun(f->ifname);
	} else {
		if (sscanf(f->ifname, "tap%u", &f->tapn) != 1)
			fail("%s is not named tapN", f->ifname);
		f->fd = opt.netlink ? open_netlink(f->tapn) : open_tap(f->tapn);
		if (opt.netlink)
			f->drops = nl_drops(f->fd);
	}
	f->sock = socket(AF_INET, SOCK_DGRAM, 0);
	if (f->sock < 0)
		die("socket");
	setsockopt(f->sock, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(f->sock, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	sa.sin_port = htons(port);
	if (opt.k2u) {
		sa.sin_addr = f->peer;
		if (connect(f->sock, (struct sockaddr *)&sa, sizeof(sa)))
			die("connect");
	} else {
		sa.sin_addr = f->local;
		if (bind(f->sock, (struct sockaddr *)&sa, sizeof(sa)))
			die("bind");
		build_frame(f, port);
	}
	if (f->side == TUNTAP)
		wait_running(f->ifname);
}

static void flow_close(struct flow *f)
{
	close(f->sock);
	close(f->fd);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

/* The stack transmits a batch on the interface; read it from the file. */
static void *k2u_flow(void *arg)
{
	static const char payload[65536];
	struct flow *f = arg;
	struct mmsghdr msgs[MAX_BATCH];
	struct iovec iov = { (void *)payload, opt.size - HDRS_LEN };
	size_t want = opt.size + (f->side == ETHERTAP ? ETHERTAP_PAD : 0);
	unsigned char *buf = malloc(BUF_LEN);
	unsigned int i;

	if (!buf)
		die("malloc");
	pin(f->cpu);
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < opt.batch; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (atomic_load(&phase) != STOP) {
		unsigned long long got = 0, lost, stray = 0, errors = 0;
		int sent = sendmmsg(f->sock, msgs, opt.batch, 0);

		if (sent < 0) {
			errors++;
			sent = 0;
		}
		while (got < (unsigned int)sent) {
			ssize_t n = read(f->fd, buf, BUF_LEN);

			if (n < 0)
				break;
			if ((size_t)n == want)
				got++;
			else
				stray++;
		}
		lost = sent - got;
		if (atomic_load(&phase) == MEASURE) {
			f->frames += got;
			f->lost += lost;
			f->stray += stray;
			f->errors += errors;
		}
	}
	free(buf);
	return NULL;
}

/* Write a batch of frames into the interface; receive them on the socket. */
static void *u2k_flow(void *arg)
{
	struct flow *f = arg;
	struct mmsghdr msgs[MAX_BATCH];
	struct iovec iovs[MAX_BATCH];
	unsigned char *bufs = malloc((size_t)MAX_BATCH * 2048);
	unsigned int i;

	if (!bufs)
		die("malloc");
	pin(f->cpu);
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < opt.batch; i++) {
		iovs[i].iov_base = bufs + (size_t)i * 2048;
		iovs[i].iov_len = 2048;
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (atomic_load(&phase) != STOP) {
		unsigned long long written = 0, got = 0, errors = 0;

		for (i = 0; i < opt.batch; i++) {
			if (write(f->fd, f->frame, f->frame_len) ==
			    (ssize_t)f->frame_len)
				written++;
			else
				errors++;
		}
		while (got < written) {
			int n = recvmmsg(f->sock, msgs, opt.batch, MSG_DONTWAIT,
					 NULL);

			if (n <= 0)
				break;
			got += n;
		}
		if (atomic_load(&phase) == MEASURE) {
			f->frames += got;
			f->lost += written - got;
			f->errors += errors;
		}
	}
	free(bufs);
	return NULL;
}

/* Netlink, k2u: the stack transmits a batch; recvmmsg() it. */
static void *k2u_netlink_flow(void *arg)
{
	static const char payload[65536];
	struct flow *f = arg;
	struct mmsghdr out[MAX_BATCH], in[MAX_BATCH];
	struct iovec iov = { (void *)payload, opt.size - HDRS_LEN };
	struct iovec iovs[MAX_BATCH];
	size_t want = opt.size + ETHERTAP_PAD;
	unsigned char *bufs = malloc((size_t)MAX_BATCH * 2048);
	unsigned int i;

	if (!bufs)
		die("malloc");
	pin(f->cpu);
	memset(out, 0, sizeof(out));
	memset(in, 0, sizeof(in));
	for (i = 0; i < opt.batch; i++) {
		out[i].msg_hdr.msg_iov = &iov;
		out[i].msg_hdr.msg_iovlen = 1;
		iovs[i].iov_base = bufs + (size_t)i * 2048;
		iovs[i].iov_len = 2048;
		in[i].msg_hdr.msg_iov = &iovs[i];
		in[i].msg_hdr.msg_iovlen = 1;
	}
	while (atomic_load(&phase) != STOP) {
		unsigned long long got = 0, lost, stray = 0, errors = 0;
		int sent = sendmmsg(f->sock, out, opt.batch, 0);

		if (sent < 0) {
			errors++;
			sent = 0;
		}
		while (got < (unsigned int)sent) {
			int n = recvmmsg(f->fd, in, opt.batch, MSG_DONTWAIT,
					 NULL);

			if (n <= 0)
				break;
			for (i = 0; i < (unsigned int)n; i++) {
				const unsigned char *p = iovs[i].iov_base;

				if (in[i].msg_len == want &&
				    (unsigned int)(p[0] << 8 | p[1]) == f->tapn)
					got++;
				else
					stray++;
			}
		}
		lost = got < (unsigned int)sent ? sent - got : 0;
		if (atomic_load(&phase) == MEASURE) {
			f->frames += got;
			f->lost += lost;
			f->stray += stray;
			f->errors += errors;
		}
	}
	free(bufs);
	return NULL;
}

/* Netlink, u2k: sendmmsg() a batch to the kernel; receive it on the socket. */
static void *u2k_netlink_flow(void *arg)
{
	struct flow *f = arg;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct mmsghdr out[MAX_BATCH], in[MAX_BATCH];
	struct iovec iov = { f->frame, f->frame_len };
	struct iovec iovs[MAX_BATCH];
	unsigned char *bufs = malloc((size_t)MAX_BATCH * 2048);
	unsigned int i;
	int err = 0;
	socklen_t len = sizeof(err);

	if (!bufs)
		die("malloc");
	pin(f->cpu);
	memset(out, 0, sizeof(out));
	memset(in, 0, sizeof(in));
	for (i = 0; i < opt.batch; i++) {
		out[i].msg_hdr.msg_name = &kernel;
		out[i].msg_hdr.msg_namelen = sizeof(kernel);
		out[i].msg_hdr.msg_iov = &iov;
		out[i].msg_hdr.msg_iovlen = 1;
		iovs[i].iov_base = bufs + (size_t)i * 2048;
		iovs[i].iov_len = 2048;
		in[i].msg_hdr.msg_iov = &iovs[i];
		in[i].msg_hdr.msg_iovlen = 1;
	}
	while (atomic_load(&phase) != STOP) {
		unsigned long long written, got = 0, errors = 0;
		int sent = sendmmsg(f->fd, out, opt.batch, 0);

		if (sent < 0)
			sent = 0;
		written = sent;
		errors = opt.batch - written;
		while (got < written) {
			int n = recvmmsg(f->sock, in, opt.batch, MSG_DONTWAIT,
					 NULL);

			if (n <= 0)
				break;
			got += n;
		}
		if (atomic_load(&phase) == MEASURE) {
			f->frames += got;
			f->lost += got < written ? written - got : 0;
			f->errors += errors;
		}
	}
	/* A frame the tap refused leaves its errno here (counted as lost). */
	if (!getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len) && err)
		fprintf(stderr, "ethertap-bench: %s: netlink write: %s\n",
			f->ifname, strerror(err));
	free(bufs);
	return NULL;
}

static void *(*const flow_fn[2][2])(void *) = {
	{ u2k_flow, k2u_flow },
	{ u2k_netlink_flow, k2u_netlink_flow },
};

/* One timed slice of all @n flows at once: adds frames and seconds. */
static void run_slice(struct flow *flows, int n, double slice,
		      double *frames, double *seconds, unsigned long long *lost)
{
	double t0, t1;
	int i;

	atomic_store(&phase, WARM);
	for (i = 0; i < n; i++) {
		flows[i].frames = flows[i].lost = 0;
		flows[i].stray = flows[i].errors = 0;
		if (pthread_create(&flows[i].thread, NULL,
				   flow_fn[opt.netlink && flows[i].side == ETHERTAP]
					  [opt.k2u], &flows[i]))
			die("pthread_create");
		/* Names for profiles: perf report --sort comm tells the sides. */
		pthread_setname_np(flows[i].thread,
				   flows[i].side == TUNTAP ? "bench-tuntap" :
				   opt.netlink ? "bench-netlink" : "bench-tapN");
	}
	sleep_s(opt.warmup);
	t0 = now();
	atomic_store(&phase, MEASURE);
	sleep_s(slice);
	atomic_store(&phase, STOP);
	t1 = now();
	for (i = 0; i < n; i++) {
		pthread_join(flows[i].thread, NULL);
		*frames += flows[i].frames;
		*lost += flows[i].lost + flows[i].stray + flows[i].errors;
	}
	*seconds += t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct summary {
	double median, min, max;
};

static struct summary summarise(const double *v, int n)
{
	double s[MAX_RUNS];
	struct summary r;

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	r.min = s[0];
	r.max = s[n - 1];
	r.median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	return r;
}

/* 123456 -> "123.5k" */
static const char *kilo(char *buf, double v)
{
	if (v >= 1e6)
		sprintf(buf, "%.2fM", v / 1e6);
	else
		sprintf(buf, "%.1fk", v / 1e3);
	return buf;
}

static void split(char *list, struct flow *flows, int *n, enum side side)
{
	char *tok, *save = NULL;

	*n = 0;
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_FLOWS)
			fail("more than %s flows", "8");
		memset(&flows[*n], 0, sizeof(flows[*n]));
		flows[*n].side = side;
		flows[*n].cpu = *n % sysconf(_SC_NPROCESSORS_ONLN);
		snprintf(flows[*n].ifname, IFNAMSIZ, "%s", tok);
		(*n)++;
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ethertap-bench cell [-n] [-t S] [-r RUNS] [-l SLICES] [-b BATCH] [-s SIZE]\n"
		"                           -d k2u|u2k -e TAPS -u TUNS\n"
		"       ethertap-bench time CMD [ARGS...]\n");
	exit(2);
}

static int cell(int argc, char **argv)
{
	static struct flow flows[NR_SIDES][MAX_FLOWS];
	double rate[NR_SIDES][MAX_RUNS], ratio[MAX_RUNS];
	unsigned long long lost[NR_SIDES] = { 0, 0 }, drops = 0;
	char *lists[NR_SIDES] = { NULL, NULL };
	int n[NR_SIDES], c, r, s, i;
	struct summary sum[NR_SIDES], rs;
	char a[32], b[32], d[32];

	while ((c = getopt(argc, argv, "nt:r:b:s:d:e:u:l:")) != -1) {
		switch (c) {
		case 'n':
			opt.netlink = 1;
			side_name[ETHERTAP] = "netlink";
			break;
		case 't':
			opt.seconds = atof(optarg);
			break;
		case 'r':
			opt.runs = atoi(optarg);
			break;
		case 'b':
			opt.batch = atoi(optarg);
			break;
		case 's':
			opt.size = atoi(optarg);
			break;
		case 'd':
			opt.k2u = !strcmp(optarg, "k2u");
			break;
		case 'e':
			lists[ETHERTAP] = optarg;
			break;
		case 'u':
			lists[TUNTAP] = optarg;
			break;
		case 'l':
			opt.slices = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (!lists[ETHERTAP] || !lists[TUNTAP] || opt.runs < 1 ||
	    opt.runs > MAX_RUNS || opt.batch < 1 || opt.batch > MAX_BATCH ||
	    opt.size < 60 || opt.size > 1514 || opt.seconds <= 0 || opt.slices < 1)
		usage();
	for (s = 0; s < NR_SIDES; s++) {
		split(lists[s], flows[s], &n[s], s);
		for (i = 0; i < n[s]; i++)
			flow_open(&flows[s][i], s * MAX_FLOWS + i);
	}
	if (n[ETHERTAP] != n[TUNTAP])
		fail("%s: as many ethertap as TUN/TAP interfaces", "-e/-u");

	/*
	 * A run gives each side opt.seconds in opt.slices slices, the sides
	 * alternating slice by slice, so that both see the same machine
	 * (other guests on the host come and go).
	 */
	for (r = 0; r < opt.runs; r++) {
		double frames[NR_SIDES] = { 0, 0 }, secs[NR_SIDES] = { 0, 0 };
		int k;

		for (k = 0; k < opt.slices; k++) {
			for (i = 0; i < NR_SIDES; i++) {
				s = (r + k + i) % NR_SIDES;
				run_slice(flows[s], n[s], opt.seconds / opt.slices,
					  &frames[s], &secs[s], &lost[s]);
			}
		}
		for (s = 0; s < NR_SIDES; s++)
			rate[s][r] = frames[s] / secs[s];
		ratio[r] = rate[TUNTAP][r] ? rate[ETHERTAP][r] / rate[TUNTAP][r] : 0;
	}
	for (s = 0; s < NR_SIDES; s++) {
		sum[s] = summarise(rate[s], opt.runs);
		for (i = 0; i < n[s]; i++) {
			if (opt.netlink && s == ETHERTAP)
				drops += nl_drops(flows[s][i].fd) - flows[s][i].drops;
			flow_close(&flows[s][i]);
		}
	}
	rs = summarise(ratio, opt.runs);

	printf("%-4s %4zu B %d flow%s", opt.k2u ? "k->u" : "u->k", opt.size,
	       n[0], n[0] > 1 ? "s" : " ");
	for (s = 0; s < NR_SIDES; s++)
		printf(" | %7s (%7s..%7s) %6.3f", kilo(a, sum[s].median),
		       kilo(b, sum[s].min), kilo(d, sum[s].max),
		       sum[s].median * opt.size * 8 / 1e9);
	printf(" | %5.2f (%4.2f..%4.2f)\n", rs.median, rs.min, rs.max);
	for (s = 0; s < NR_SIDES; s++) {
		printf("#   %-8s frames/s:", side_name[s]);
		for (r = 0; r < opt.runs; r++)
			printf(" %.0f", rate[s][r]);
		printf("; lost or stray frames: %llu", lost[s]);
		if (opt.netlink && s == ETHERTAP)
			printf(" (netlink socket drops: %llu)", drops);
		printf("\n");
	}
	printf("#   ratios:");
	for (r = 0; r < opt.runs; r++)
		printf(" %.2f", ratio[r]);
	printf("\n");
	return 0;
}

static int time_cmd(char **argv)
{
	double t0 = now();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (!pid) {
		execvp(argv[0], argv);
		die(argv[0]);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	printf("%.3f\n", now() - t0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "cell"))
		return cell(argc - 1, argv + 1);
	if (argc >= 3 && !strcmp(argv[1], "time"))
		return time_cmd(argv + 2);
	usage();
	return 2;
}
