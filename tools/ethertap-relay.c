// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap-relay: copy frames both ways between two devices, as a switch
 * or a VPN daemon does, with one thread per direction.  Each side is an
 * ethertap file or a TUN/TAP file, opened as one of these variants:
 *
 *   ethertap          /dev/ethertap/NAME (or /dev/NAME, or the path NAME):
 *                     one frame per read() and write(), behind the two
 *                     bytes of padding
 *   ethertap-offload  the same file with ETHERTAP_F_VNET_HDR: a struct
 *                     virtio_net_hdr between the padding and the frame
 *   ethertap-batch    offload and ETHERTAP_F_BATCH: many frames per read()
 *                     and per write(), each behind its length
 *   tun               /dev/net/tun, TUNSETIFF NAME, IFF_TAP | IFF_NO_PI
 *   tun-vnet          the same with IFF_VNET_HDR (TUNSETVNETHDRSZ 10)
 *
 *   ethertap-relay [-v VARIANT] [-c CPU,CPU] [-b BYTES] [-s FILE]
 *                  [VARIANT:]NAME [VARIANT:]NAME
 *
 * When both sides carry a vnet header, each is set to accept checksum and
 * TCP segmentation offloads (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
 * TUN_F_TSO_ECN): frames of up to 64 KB pass with their header unchanged
 * and the kernel of the other side segments them, or not at all.  Any
 * variant may face any other; a frame crosses in whatever form the
 * writing side takes.  The relay prints "ready" once both files are
 * open, and on SIGINT or SIGTERM (or when a device goes away) its counts
 * and the CPU time of its threads, to FILE or standard error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ethertap.h"

/*
 * A frame in the relay's buffer, whatever the sides, is a slot: two bytes
 * (padding, or the length in batch mode), the vnet header, the frame.
 * Each variant reads and writes from its own offset into the slot, so
 * that a frame is never moved: a TUN/TAP file without header, for one,
 * reads at SLOT_HDR and ethertap's classic files at SLOT_HDR - 2.
 */
#define VNET_LEN	ETHERTAP_VNET_HDR_LEN
#define SLOT_HDR	(ETHERTAP_PAD + VNET_LEN)
#define FRAME_MAX	65535		/* longest frame a batch length holds */
#define READ_LEN	(SLOT_HDR + (64 << 10) + 64)	/* one frame, GSO too */
#define BATCH_DEFAULT	(256 << 10)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define OFFLOADS	(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)

struct variant {
	const char *name;
	int ethertap;	/* /dev/tapN, else /dev/net/tun */
	int vnet;	/* a virtio_net_hdr in front of each frame */
	int batch;	/* ETHERTAP_F_BATCH */
	size_t skip;	/* where read() and write() start in a slot */
};

static const struct variant variants[] = {
	{ .name = "ethertap", .ethertap = 1, .skip = SLOT_HDR - ETHERTAP_PAD },
	{ .name = "ethertap-offload", .ethertap = 1, .vnet = 1 },
	{ .name = "ethertap-batch", .ethertap = 1, .vnet = 1, .batch = 1 },
	{ .name = "tun", .skip = SLOT_HDR },
	{ .name = "tun-vnet", .vnet = 1, .skip = ETHERTAP_PAD },
};

struct side {
	const struct variant *v;
	const char *name;
	int fd;
};

struct dir {
	struct side *from, *to;
	int cpu;		/* -1: not pinned */
	unsigned char *buf;
	size_t len;		/* bytes of buf a read may fill */
	unsigned long long frames, bytes, reads, writes, dropped;
	struct timespec cpu_time;
	pthread_t thread;
};

static size_t batch_len = BATCH_DEFAULT;

static void print_usage(void)
{
	fprintf(stderr,
		"usage: ethertap-relay [-v VARIANT] [-c CPU,CPU] [-b BYTES] [-s FILE]\n"
		"                      [VARIANT:]NAME [VARIANT:]NAME\n"
		"VARIANT: ethertap, ethertap-offload, ethertap-batch, tun, tun-vnet\n");
	exit(2);
}

static void die(const char *what, const char *name)
{
	fprintf(stderr, "ethertap-relay: %s %s: %s\n", what, name,
		strerror(errno));
	exit(1);
}

static const struct variant *find_variant(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(variants); i++)
		if (strlen(variants[i].name) == len &&
		    !strncmp(variants[i].name, name, len))
			return &variants[i];
	fprintf(stderr, "ethertap-relay: no variant %.*s\n", (int)len, name);
	print_usage();
	return NULL;
}

static int open_ethertap(struct side *s)
{
	char path[64];
	unsigned int flags = 0;
	int fd;

	if (s->name[0] == '/') {
		fd = open(s->name, O_RDWR | O_CLOEXEC);
	} else {
		snprintf(path, sizeof(path), "/dev/ethertap/%s", s->name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			snprintf(path, sizeof(path), "/dev/%s", s->name);
			fd = open(path, O_RDWR | O_CLOEXEC);
		}
	}
	if (fd < 0)
		die("cannot open", s->name);
	if (s->v->vnet)
		flags |= ETHERTAP_F_VNET_HDR;
	if (s->v->batch)
		flags |= ETHERTAP_F_BATCH;
	if (flags && ioctl(fd, ETHERTAPSETFLAGS, &flags))
		die("ETHERTAPSETFLAGS on", s->name);
	return fd;
}

static int open_tun(struct side *s)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int hdr_len = VNET_LEN;
	int fd;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("cannot open /dev/net/tun for", s->name);
	if (s->v->vnet)
		ifr.ifr_flags |= IFF_VNET_HDR;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", s->name);
	if (ioctl(fd, TUNSETIFF, &ifr))
		die("TUNSETIFF", s->name);
	if (s->v->vnet && ioctl(fd, TUNSETVNETHDRSZ, &hdr_len))
		die("TUNSETVNETHDRSZ on", s->name);
	return fd;
}

static void set_offloads(struct side *s)
{
	unsigned int off = OFFLOADS;

	if (s->v->ethertap ? ioctl(s->fd, ETHERTAPSETOFFLOAD, &off) :
			     ioctl(s->fd, TUNSETOFFLOAD, (unsigned long)off))
		die("cannot set the offloads of", s->name);
}

/*
 * Write one frame of len bytes whose slot starts at slot; the bytes in
 * front of the writer's offset are its own again afterwards.
 */
static void write_frame(struct dir *d, unsigned char *slot, size_t len)
{
	const struct variant *to = d->to->v;
	size_t n = SLOT_HDR - to->skip + len;

	if (to->vnet && !d->from->v->vnet)
		memset(slot + ETHERTAP_PAD, 0, VNET_LEN);
	if (to->ethertap) {
		/* padding, or the length of header and frame (0: to the end) */
		n -= ETHERTAP_PAD;
		slot[to->skip] = to->batch && n <= FRAME_MAX ? n >> 8 : 0;
		slot[to->skip + 1] = to->batch && n <= FRAME_MAX ? n & 0xff : 0;
		n += ETHERTAP_PAD;
	}
	d->writes++;
	while (write(d->to->fd, slot + to->skip, n) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == ENXIO || errno == EBADFD)
			die("cannot write to", d->to->name);
		d->dropped++;	/* a frame the other side refused */
		break;
	}
}

/* Bytes of the batch record at p, of at most len: length field and all. */
static size_t record_len(const unsigned char *p, size_t len)
{
	size_t n = (p[0] << 8 | p[1]) + ETHERTAP_PAD;

	return n == ETHERTAP_PAD || n > len ? len : n;
}

/* Write a batch read from an ethertap-batch file as it came. */
static void write_batch(struct dir *d, unsigned char *p, size_t len)
{
	ssize_t n;
	size_t skip;

	while (len) {
		d->writes++;
		n = write(d->to->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENXIO || errno == EBADFD)
				die("cannot write to", d->to->name);
			/* the first frame was refused: the others go on */
			skip = record_len(p, len);
			d->dropped++;
			p += skip;
			len -= skip;
			continue;
		}
		p += n;
		len -= n;
	}
}

static void relay_batch(struct dir *d, size_t len)
{
	unsigned char *p = d->buf;
	size_t n, off;

	for (off = 0; off < len; off += n) {
		n = record_len(p + off, len - off);
		if (n < SLOT_HDR)
			break;		/* cannot happen: the kernel wrote it */
		d->frames++;
		d->bytes += n - SLOT_HDR;
		if (!d->to->v->batch)
			write_frame(d, p + off, n - SLOT_HDR);
	}
	if (d->to->v->batch)
		write_batch(d, p, off);
}

static void record_cpu_time(void *arg)
{
	struct dir *d = arg;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &d->cpu_time);
}

static void *relay_dir(void *arg)
{
	struct dir *d = arg;
	size_t skip = d->from->v->skip;
	char name[16];
	cpu_set_t cpus;
	ssize_t n;

	/* "relay-tap0": the thread reading tap0, as ps and perf name it */
	snprintf(name, sizeof(name), "relay-%s", d->from->name);
	pthread_setname_np(pthread_self(), name);
	if (d->cpu >= 0) {
		CPU_ZERO(&cpus);
		CPU_SET(d->cpu, &cpus);
		if (sched_setaffinity(0, sizeof(cpus), &cpus))
			die("cannot pin the thread of", d->from->name);
	}
	pthread_cleanup_push(record_cpu_time, d);
	for (;;) {
		n = read(d->from->fd, d->buf + skip, d->len - skip);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			/* end of file or an error: the device is gone */
			fprintf(stderr, "ethertap-relay: %s: %s\n", d->from->name,
				n ? strerror(errno) : "end of file");
			kill(getpid(), SIGTERM);
			break;
		}
		d->reads++;
		if (d->from->v->batch) {
			relay_batch(d, n);
		} else if ((size_t)n >= SLOT_HDR - skip) {
			d->frames++;
			d->bytes += n - (SLOT_HDR - skip);
			write_frame(d, d->buf, n - (SLOT_HDR - skip));
		}
	}
	pthread_cleanup_pop(1);
	return NULL;
}

static void parse_side(struct side *s, const char *arg, const struct variant *v)
{
	const char *colon = strchr(arg, ':');

	s->v = v;
	s->name = arg;
	if (colon && arg[0] != '/') {
		s->v = find_variant(arg, colon - arg);
		s->name = colon + 1;
	}
	if (!s->v || !s->name[0])
		print_usage();
}

static double seconds(const struct timespec *ts)
{
	return ts->tv_sec + ts->tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const struct variant *v = NULL;
	struct side sides[2];
	struct dir dirs[2];
	struct timespec t0, t1;
	const char *stats = NULL;
	int cpu[2] = { -1, -1 };
	double cpu_total = 0;
	sigset_t sigs;
	FILE *out;
	int c, i, sig;

	while ((c = getopt(argc, argv, "v:c:b:s:")) != -1) {
		switch (c) {
		case 'v':
			v = find_variant(optarg, strlen(optarg));
			break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &cpu[0], &cpu[1]) != 2)
				print_usage();
			break;
		case 'b':
			batch_len = strtoul(optarg, NULL, 0);
			if (batch_len < READ_LEN)
				print_usage();
			break;
		case 's':
			stats = optarg;
			break;
		default:
			print_usage();
		}
	}
	if (argc - optind != 2)
		print_usage();
	for (i = 0; i < 2; i++) {
		parse_side(&sides[i], argv[optind + i], v);
		sides[i].fd = sides[i].v->ethertap ? open_ethertap(&sides[i]) :
						     open_tun(&sides[i]);
	}
	if (sides[0].v->vnet && sides[1].v->vnet)
		for (i = 0; i < 2; i++)
			set_offloads(&sides[i]);

	/* SIGINT and SIGTERM are taken by sigwait() below, in this thread */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 2; i++) {
		dirs[i] = (struct dir) {
			.from = &sides[i], .to = &sides[!i], .cpu = cpu[i],
			.len = sides[i].v->batch ? batch_len : READ_LEN,
		};
		dirs[i].buf = malloc(dirs[i].len);
		if (!dirs[i].buf)
			die("cannot allocate a buffer for", sides[i].name);
		errno = pthread_create(&dirs[i].thread, NULL, relay_dir, &dirs[i]);
		if (errno)
			die("cannot start the thread of", sides[i].name);
	}
	printf("ready\n");
	fflush(stdout);

	sigwait(&sigs, &sig);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (i = 0; i < 2; i++) {
		pthread_cancel(dirs[i].thread);
		pthread_join(dirs[i].thread, NULL);
	}

	out = stats ? fopen(stats, "w") : stderr;
	if (!out)
		die("cannot write", stats);
	for (i = 0; i < 2; i++) {
		struct dir *d = &dirs[i];

		fprintf(out, "%s:%s -> %s:%s", d->from->v->name, d->from->name,
			d->to->v->name, d->to->name);
		fprintf(out, " frames %llu bytes %llu reads %llu writes %llu",
			d->frames, d->bytes, d->reads, d->writes);
		fprintf(out, " dropped %llu cpu %.6f\n", d->dropped,
			seconds(&d->cpu_time));
		cpu_total += seconds(&d->cpu_time);
	}
	fprintf(out, "total frames %llu bytes %llu dropped %llu cpu %.6f wall %.6f\n",
		dirs[0].frames + dirs[1].frames, dirs[0].bytes + dirs[1].bytes,
		dirs[0].dropped + dirs[1].dropped, cpu_total,
		seconds(&t1) - seconds(&t0));
	if (stats && fclose(out))
		die("cannot write", stats);
	return 0;
}
