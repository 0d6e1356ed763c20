// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: a bounded, seeded, reproducible fuzzer of /dev/tap0 and
 * /dev/tap1.
 *
 * A fast PRNG (xorshift64*) seeded from ETHERTAP_FUZZ_SEED (default 1)
 * picks ETHERTAP_FUZZ_OPS (default 20000) operations: open, close, dup,
 * fcntl(O_NONBLOCK), read/readv (never blocking), write/writev of random
 * lengths and contents (the headers of IPv4 with UDP, TCP or ICMP, IPv6,
 * ARP and VLAN-tagged IPv4 along the layouts of selftests/ethertap.txt,
 * right and wrong, from traffic.h's fuzz_frame(); random bytes behind
 * common ethertypes; whole valid UDP frames; bad pointers), poll, ioctl
 * (ENOTTY for every command but those of ethertap.h), lseek/pread/pwrite,
 * mmap, link changes (up/down, MTU, txqueuelen) and UDP datagrams the
 * stack sends through the taps.  The outcome of every call is predicted
 * from the documented ABI (the exact errno of a write; the errno class of
 * the others) and any other outcome fails the test with the seed and the
 * operation's index, so a failure replays with the same seed.  The
 * receive-side counters must match the model exactly, and at the end both
 * taps still move frames both ways.
 */
#include <sys/mman.h>
#include <sys/uio.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include "lib.h"
#include "traffic.h"
#include "harness.h"

#define NFDS		8
#define BUFSZ		70000
#define FZ_PORT		7777
#define MAX_WRITE	(ETHERTAP_PAD + 18 + ETHERTAP_MAX_MTU)	/* 65555 */

struct fent {
	int fd;			/* -1: free slot */
	unsigned int tap;
	int acc;		/* O_RDONLY, O_WRONLY or O_RDWR */
	unsigned int file;	/* the open file; dups share it */
};

/* What the model expects of each tap's receive-side counters. */
struct rxmodel {
	uint64_t packets, bytes, too_short, too_long, fault, down, nomem;
	uint64_t read_fault;
};

struct fz {
	struct rng rng;
	uint64_t seed, op;
	struct fent f[NFDS];
	int nonblock[1024];	/* per open file (index: file id) */
	unsigned int next_file;
	int up[2];
	unsigned int mtu[2], txq[2];
	int sock;		/* AF_INET socket for the interface ioctls */
	int udp[2];		/* bound to 10.99.N.1:FZ_PORT */
	struct rxmodel m[2];
	uint8_t *rnd;		/* BUFSZ random bytes */
	uint8_t *buf;		/* BUFSZ scratch */
	uint8_t *bad;		/* a PROT_NONE page */
	uint8_t *ro;		/* a read-only page */
	uint8_t *edge;		/* one page readable+writable, then PROT_NONE */
	long pg;
	unsigned long counts[32];
	uint64_t protos[FP_NR];	/* frames written, per fuzz_frame() protocol */
	char msg[512];
};

enum {
	C_OPEN, C_CLOSE, C_DUP, C_FCNTL, C_READ, C_READV, C_WRITE, C_WRITEV,
	C_UDPFRAME, C_POLL, C_IOCTL, C_SEEK, C_MMAP, C_LINK, C_SEND, C_DRAIN,
	C_NR
};

static const char *const op_names[C_NR] = {
	"open", "close", "dup", "fcntl", "read", "readv", "write", "writev",
	"udpframe", "poll", "ioctl", "seek", "mmap", "link", "send", "drain",
};

static uint64_t rnd64(struct fz *z)
{
	return rng_next(&z->rng);
}

static uint32_t rnd(struct fz *z, uint32_t n)
{
	return rng_below(&z->rng, n);
}

static int fail(struct fz *z, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(z->msg, sizeof(z->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Random length 0..70000, biased towards the interesting edges. */
static size_t rnd_len(struct fz *z, unsigned int tap)
{
	size_t mtu = z->mtu[tap];

	switch (rnd(z, 8)) {
	case 0:
		return rnd(z, 20);
	case 1:
		return ETHERTAP_PAD + ETH_HDR + mtu - 2 + rnd(z, 8);
	case 2:
		return MAX_WRITE - 3 + rnd(z, 6);
	case 3:
		return rnd(z, BUFSZ + 1);
	default:
		return rnd(z, 2 * mtu + 40);
	}
}

static int rnd_fd(struct fz *z)
{
	int i, n = 0, pick[NFDS];

	for (i = 0; i < NFDS; i++)
		if (z->f[i].fd >= 0)
			pick[n++] = i;
	return n ? pick[rnd(z, n)] : -1;
}

static int free_slot(struct fz *z)
{
	int i;

	for (i = 0; i < NFDS; i++)
		if (z->f[i].fd < 0)
			return i;
	return -1;
}

static int can_read(const struct fent *e)
{
	return e->acc != O_WRONLY;
}

static int can_write(const struct fent *e)
{
	return e->acc != O_RDONLY;
}

/* A pointer class for a buffer of @len bytes. */
enum { P_GOOD, P_NULL, P_BADPAGE, P_EDGE, P_KERNEL, P_RO };

static int rnd_ptr_kind(struct fz *z)
{
	return rnd(z, 12) < 10 ? P_GOOD : 1 + rnd(z, 5);
}

/*
 * The buffer for a pointer class; for P_EDGE the first @ok bytes are
 * readable and writable (the rest is not).  For writes @src (if any) is
 * copied into the readable part.
 */
static uint8_t *ptr_for(struct fz *z, int kind, size_t len, size_t *ok,
			const uint8_t *src)
{
	uint8_t *p;

	*ok = len;
	switch (kind) {
	case P_NULL:
		*ok = 0;
		return NULL;
	case P_BADPAGE:
		*ok = 0;
		return z->bad;
	case P_KERNEL:
		*ok = 0;
		return (uint8_t *)0xffffffff81000000UL;
	case P_RO:
		*ok = 0;	/* for reads; writes never use it */
		return z->ro;
	case P_EDGE:
		*ok = len < (size_t)z->pg ? len : (size_t)z->pg;
		if (*ok == len && len)
			(*ok)--;
		p = z->edge + z->pg - *ok;
		if (src)
			memcpy(p, src, *ok);
		return p;
	default:
		if (src) {
			memcpy(z->buf, src, len);
			return z->buf;
		}
		return z->buf;
	}
}

/*
 * Fill z->buf with a frame of @len bytes: mostly the headers of IPv4,
 * IPv6, ARP or VLAN-tagged IPv4 (fuzz_frame()), else random bytes with
 * a chosen destination and ethertype.  Returns its ethertype.
 */
static uint16_t make_frame(struct fz *z, unsigned int tap, size_t len)
{
	static const uint16_t types[] = { 0x0800, 0x0806, 0x86dd, 0x8100,
					  0x88a8, 0x88cc, 0x8863, 0x0842 };
	size_t off = rnd(z, BUFSZ - len + 1);
	uint8_t mac[6];

	memcpy(z->buf, z->rnd + off, len);
	/* Two in three: the headers of one protocol (traffic.h). */
	if (len >= ETHERTAP_MIN_FRAME && rnd(z, 3)) {
		unsigned int p = rnd(z, FP_OTHER);

		z->protos[p]++;
		return fuzz_frame(&z->rng, p, z->buf, len, tap, false);
	}
	z->protos[FP_OTHER]++;
	if (len < 16)
		return len >= 16 ? get16(z->buf + 14) : 0;
	if (rnd(z, 4)) {
		switch (rnd(z, 4)) {
		case 0:
			tap_mac(tap, mac);
			break;
		case 1:
			memset(mac, 0xff, 6);
			break;
		case 2:
			memcpy(mac, "\x01\x00\x5e\x00\x00\x01", 6);
			break;
		default:
			memcpy(mac, z->rnd + rnd(z, 1000), 6);
		}
		memcpy(z->buf + 2, mac, 6);
		if (rnd(z, 4))
			put16(z->buf + 14, types[rnd(z, ARRAY_SIZE(types))]);
	}
	return get16(z->buf + 14);
}

/*
 * The outcome the ABI promises for a write of @len bytes to @tap whose
 * ethertype is @type, with the first @ok bytes readable: 0 or an errno.
 * Updates the model's counters.
 */
static int expect_write(struct fz *z, unsigned int tap, size_t len,
			uint16_t type, size_t ok, int kernel_ptr, int vec)
{
	struct rxmodel *m = &z->m[tap];
	size_t max;

	if (kernel_ptr)
		return EFAULT;		/* access_ok() in the VFS */
	if (vec && !len)
		return 0;		/* writev() of nothing: the VFS */
	if (len < ETHERTAP_MIN_FRAME) {
		m->too_short++;
		return EINVAL;
	}
	if (len > MAX_WRITE) {
		m->too_long++;
		return EMSGSIZE;
	}
	if (ok < len) {
		m->fault++;
		return EFAULT;
	}
	max = z->mtu[tap] + ETH_HDR + (type == 0x8100 || type == 0x88a8 ? 4 : 0);
	if (len - ETHERTAP_PAD > max) {
		m->too_long++;
		return EMSGSIZE;
	}
	if (!z->up[tap]) {
		m->down++;
		return ENETDOWN;
	}
	m->packets++;
	m->bytes += len - ETHERTAP_PAD;
	return 0;
}

static int check_write(struct fz *z, const struct fent *e, ssize_t r,
		       size_t len, int want, const char *what)
{
	int err = r < 0 ? errno : 0;

	if (!can_write(e)) {
		/* As for reads: older kernels check a writev's iovec first. */
		if (r == -1 && err == EFAULT)
			return 0;
		want = EBADF;
	}
	if (want == 0 && r == (ssize_t)len)
		return 0;
	if (want == 0 && r >= 0)
		return fail(z, "%s tap%u len %zu: returned %zd", what, e->tap,
			    len, r);
	if (want && r == -1 && err == want)
		return 0;
	if (r == -1 && err == ENOMEM && want != EBADF) {
		/* Allowed: no memory for the frame (counted, rx_dropped). */
		return 0;
	}
	return fail(z, "%s tap%u len %zu: returned %zd (%s), expected %s",
		    what, e->tap, len, r, r < 0 ? strerror(err) : "ok",
		    want ? strerror(want) : "full length");
}

/* Undo the model's count when the write failed with ENOMEM instead. */
static void fix_nomem(struct fz *z, unsigned int tap, ssize_t r, int want,
		      size_t len)
{
	if (r != -1 || errno != ENOMEM)
		return;
	z->m[tap].nomem++;
	if (want == 0) {
		z->m[tap].packets--;
		z->m[tap].bytes -= len - ETHERTAP_PAD;
	} else if (want == ENETDOWN) {
		z->m[tap].down--;
	} else if (want == EMSGSIZE) {
		z->m[tap].too_long--;
	} else if (want == EFAULT) {
		z->m[tap].fault--;
	}
}

/* A read result: @room bytes asked, first @ok of them writable. */
static int check_read(struct fz *z, const struct fent *e, ssize_t r,
		      size_t room, size_t ok, int kind, const uint8_t *p,
		      const char *what)
{
	int err = r < 0 ? errno : 0;

	if (!can_read(e)) {
		/*
		 * EBADF, or EFAULT for a kernel address: before 6.10 or so,
		 * readv() imports (and checks) the iovec before the mode.
		 */
		if (r == -1 && (err == EBADF ||
				(err == EFAULT && kind == P_KERNEL)))
			return 0;
		return fail(z, "%s on O_WRONLY fd: %zd (%s)", what, r,
			    strerror(err));
	}
	if (kind == P_KERNEL) {
		if (r == -1 && err == EFAULT)
			return 0;
		return fail(z, "%s to a kernel address: %zd (%s)", what, r,
			    strerror(err));
	}
	if (room == 0) {
		if (r == 0)
			return 0;
		return fail(z, "%s of 0 bytes: %zd (%s)", what, r,
			    strerror(err));
	}
	if (r == -1 && err == EAGAIN)
		return 0;
	if (r == -1 && err == EFAULT && ok < room) {
		z->m[e->tap].read_fault++;
		return 0;
	}
	if (r < 0)
		return fail(z, "%s tap%u room %zu: %s", what, e->tap, room,
			    strerror(err));
	if ((size_t)r > room || (size_t)r > ok)
		return fail(z, "%s tap%u room %zu (ok %zu): returned %zd",
			    what, e->tap, room, ok, r);
	if (p && ((r >= 1 && p[0]) || (r >= 2 && p[1])))
		return fail(z, "%s tap%u: padding %02x %02x", what, e->tap,
			    p[0], r >= 2 ? p[1] : 0);
	return 0;
}

static int op_open(struct fz *z)
{
	static const int accs[] = { O_RDONLY, O_WRONLY, O_RDWR, O_RDWR };
	int slot = free_slot(z), flags, nb;
	struct fent *e;

	if (slot < 0)
		return 0;
	e = &z->f[slot];
	e->tap = rnd(z, 2);
	e->acc = accs[rnd(z, 4)];
	nb = rnd(z, 3) != 0;
	flags = e->acc | (nb ? O_NONBLOCK : 0);
	if (rnd(z, 2))
		flags |= O_CLOEXEC;
	if (rnd(z, 4) == 0)
		flags |= O_NOCTTY;
	if (rnd(z, 8) == 0)
		flags |= O_APPEND;
	e->fd = tap_open(e->tap, flags);
	if (e->fd < 0)
		return fail(z, "open /dev/tap%u flags %#x: %s", e->tap, flags,
			    strerror(errno));
	e->file = z->next_file++ % 1024;
	z->nonblock[e->file] = nb;
	return 0;
}

static int op_close(struct fz *z)
{
	int i = rnd_fd(z);

	if (i < 0)
		return 0;
	if (close(z->f[i].fd))
		return fail(z, "close: %s", strerror(errno));
	z->f[i].fd = -1;
	return 0;
}

static int op_dup(struct fz *z)
{
	int i = rnd_fd(z), slot = free_slot(z);

	if (i < 0 || slot < 0)
		return 0;
	z->f[slot] = z->f[i];
	z->f[slot].fd = rnd(z, 2) ? dup(z->f[i].fd) :
			fcntl(z->f[i].fd, F_DUPFD_CLOEXEC, 0);
	if (z->f[slot].fd < 0)
		return fail(z, "dup: %s", strerror(errno));
	return 0;
}

static int op_fcntl(struct fz *z)
{
	int i = rnd_fd(z), fl, nb;

	if (i < 0)
		return 0;
	fl = fcntl(z->f[i].fd, F_GETFL);
	if (fl < 0)
		return fail(z, "F_GETFL: %s", strerror(errno));
	if (!!(fl & O_NONBLOCK) != z->nonblock[z->f[i].file])
		return fail(z, "O_NONBLOCK is %d, expected %d",
			    !!(fl & O_NONBLOCK), z->nonblock[z->f[i].file]);
	nb = rnd(z, 3) != 0;
	if (fcntl(z->f[i].fd, F_SETFL, nb ? fl | O_NONBLOCK : fl & ~O_NONBLOCK))
		return fail(z, "F_SETFL: %s", strerror(errno));
	z->nonblock[z->f[i].file] = nb;
	return 0;
}

/*
 * A read never blocks: on a blocking file it is only done when poll()
 * says a frame is there (only this thread reads, so it stays there).
 */
static int readable_now(struct fz *z, const struct fent *e, int *skip)
{
	struct pollfd p = { .fd = e->fd, .events = POLLIN };

	*skip = 0;
	if (z->nonblock[e->file] || !can_read(e))
		return 0;
	if (poll(&p, 1, 0) < 0)
		return fail(z, "poll: %s", strerror(errno));
	if (!(p.revents & POLLIN))
		*skip = 1;
	return 0;
}

static int op_read(struct fz *z, int vec)
{
	int i = rnd_fd(z), kind, skip;
	struct iovec iov[4];
	size_t room, ok, part, left;
	unsigned int n, k;
	uint8_t *p;
	ssize_t r;

	if (i < 0)
		return 0;
	if (readable_now(z, &z->f[i], &skip))
		return -1;
	if (skip)
		return 0;
	room = rnd(z, 3) ? rnd(z, 2 * z->mtu[z->f[i].tap] + 40) :
			   rnd(z, BUFSZ + 1);
	kind = rnd_ptr_kind(z);
	p = ptr_for(z, kind, room, &ok, NULL);
	if (kind == P_GOOD && ok)
		memset(p, 0xaa, room < 4096 ? room : 4096);
	if (!vec) {
		r = read(z->f[i].fd, p, room);
		return check_read(z, &z->f[i], r, room, ok, kind, p, "read");
	}
	/* readv: the same span cut into 1..4 pieces, some maybe empty */
	n = 1 + rnd(z, 4);
	left = room;
	for (k = 0; k < n; k++) {
		part = k == n - 1 ? left : rnd(z, left + 1);
		iov[k].iov_base = p ? p + (room - left) : NULL;
		iov[k].iov_len = part;
		left -= part;
	}
	r = readv(z->f[i].fd, iov, n);
	return check_read(z, &z->f[i], r, room, ok, kind, NULL, "readv");
}

static int op_write(struct fz *z, int vec)
{
	int i = rnd_fd(z), kind, want;
	struct fent *e;
	struct iovec iov[4];
	size_t len, ok, left, part;
	uint16_t type;
	unsigned int n, k;
	uint8_t *p;
	ssize_t r;

	if (i < 0)
		return 0;
	e = &z->f[i];
	len = rnd_len(z, e->tap);
	type = make_frame(z, e->tap, len);
	kind = rnd_ptr_kind(z);
	if (kind == P_RO)
		kind = P_GOOD;	/* readable: a good source */
	p = ptr_for(z, kind, len, &ok, z->buf);
	want = can_write(e) ? expect_write(z, e->tap, len, type, ok,
					   kind == P_KERNEL, vec) : EBADF;
	if (!vec) {
		r = write(e->fd, p, len);
	} else {
		n = 1 + rnd(z, 4);
		left = len;
		for (k = 0; k < n; k++) {
			part = k == n - 1 ? left : rnd(z, left + 1);
			iov[k].iov_base = p ? p + (len - left) : NULL;
			iov[k].iov_len = part;
			left -= part;
		}
		r = writev(e->fd, iov, n);
	}
	if (can_write(e))
		fix_nomem(z, e->tap, r, want, len);
	return check_write(z, e, r, len, want, vec ? "writev" : "write");
}

/* Drain the UDP socket of @tap; the number of datagrams. */
static int drain_udp(struct fz *z, unsigned int tap)
{
	int n = 0;

	while (recv(z->udp[tap], z->buf, BUFSZ, MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

/* A whole valid UDP frame to our socket: it must arrive (if up). */
static int op_udpframe(struct fz *z)
{
	int i = rnd_fd(z), want;
	uint8_t frame[ETHERTAP_PAD + ETH_HDR + 9000], got[9000];
	size_t plen, len, maxp;
	struct fent *e;
	ssize_t r;

	if (i < 0)
		return 0;
	e = &z->f[i];
	maxp = z->mtu[e->tap] - IP_HDR - UDP_HDR;
	plen = rnd(z, (maxp < 1500 ? maxp : 1500) + 1);
	len = build_to_tap(frame, e->tap, FZ_PORT, z->rnd + rnd(z, 60000),
			   plen);
	drain_udp(z, e->tap);
	z->protos[FP_IPV4]++;
	want = can_write(e) ? expect_write(z, e->tap, len, 0x0800, len, 0, 0) :
	       EBADF;
	r = write(e->fd, frame, len);
	if (can_write(e))
		fix_nomem(z, e->tap, r, want, len);
	if (check_write(z, e, r, len, want, "udp write"))
		return -1;
	if (r != (ssize_t)len)
		return 0;
	r = recv(z->udp[e->tap], got, sizeof(got), MSG_DONTWAIT);
	if (r != (ssize_t)plen ||
	    memcmp(got, frame + ETHERTAP_PAD + UDP_FRAME(0), plen))
		return fail(z, "tap%u: written datagram of %zu bytes not received (%zd, %s)",
			    e->tap, plen, r, r < 0 ? strerror(errno) : "");
	return 0;
}

static int op_poll(struct fz *z)
{
	struct pollfd p[NFDS];
	int idx[NFDS], n = 0, i, k, r;

	for (i = 0; i < NFDS; i++) {
		if (z->f[i].fd < 0 || rnd(z, 2))
			continue;
		p[n].fd = z->f[i].fd;
		p[n].events = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
		p[n].revents = 0;
		idx[n++] = i;
	}
	if (!n)
		return 0;
	r = poll(p, n, 0);
	if (r != n)	/* POLLOUT always: every file is ready */
		return fail(z, "poll of %d files: %d (%s)", n, r,
			    r < 0 ? strerror(errno) : "");
	for (i = 0; i < n; i++) {
		if (!(p[i].revents & POLLOUT) ||
		    (p[i].revents & (POLLERR | POLLHUP | POLLNVAL)))
			return fail(z, "poll tap%u: revents %#x",
				    z->f[idx[i]].tap, p[i].revents);
		/*
		 * POLLIN: a read gets a frame now (once per open file: dups
		 * share one queue, and the read may take its last frame).
		 */
		for (k = 0; k < i; k++)
			if (z->f[idx[k]].file == z->f[idx[i]].file)
				break;
		if (k == i && (p[i].revents & POLLIN) &&
		    can_read(&z->f[idx[i]])) {
			ssize_t l = read(p[i].fd, z->buf, BUFSZ);

			if (l < ETHERTAP_PAD + ETH_HDR)
				return fail(z, "tap%u POLLIN but read %zd (%s)",
					    z->f[idx[i]].tap, l,
					    l < 0 ? strerror(errno) : "short");
			if (z->buf[0] || z->buf[1])
				return fail(z, "tap%u: padding %02x %02x",
					    z->f[idx[i]].tap, z->buf[0],
					    z->buf[1]);
		}
	}
	return 0;
}

static int generic_ioctl(unsigned long cmd)
{
	static const unsigned long generic[] = {
		FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, FIFREEZE,
		FITHAW, FS_IOC_FIEMAP, FIGETBSZ, FICLONE, FICLONERANGE,
		FIDEDUPERANGE, FIBMAP, FS_IOC_GETFLAGS, FS_IOC_SETFLAGS,
		FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR, FS_IOC32_GETFLAGS,
		FS_IOC32_SETFLAGS,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(generic); i++)
		if ((unsigned int)cmd == (unsigned int)generic[i])
			return 1;
	/* FS_IOC_GETFSUUID, FS_IOC_GETFSSYSFSPATH, ... : all of 0x15 */
	return _IOC_TYPE(cmd) == 0x15 || _IOC_TYPE(cmd) == 'X';
}

static int op_ioctl(struct fz *z)
{
	static const unsigned long known[] = {
		FIONREAD, TIOCOUTQ, _IOW('T', 202, int), _IOR('T', 210, int),
		SIOCGIFFLAGS, SIOCSIFMTU, SIOCETHTOOL, TCGETS, SIOCINQ,
		_IOR('E', 0, int),
	};
	int i = rnd_fd(z), kind;
	unsigned long cmd;
	size_t ok;
	void *arg;
	int r;

	if (i < 0)
		return 0;
	do {
		cmd = rnd(z, 2) ? known[rnd(z, ARRAY_SIZE(known))] :
				  (uint32_t)rnd64(z);
	} while (generic_ioctl(cmd) || (unsigned int)cmd == SIOCGIFHWADDR ||
		 _IOC_TYPE(cmd) == ETHERTAP_IOC_TYPE);
	kind = rnd_ptr_kind(z);
	arg = rnd(z, 4) ? (void *)ptr_for(z, kind, 64, &ok, NULL) :
			  (void *)(uintptr_t)rnd64(z);
	errno = 0;
	r = ioctl(z->f[i].fd, cmd, arg);
	if (r == -1 && errno == ENOTTY)
		return 0;
	return fail(z, "ioctl %#lx: %d (%s), expected ENOTTY", cmd, r,
		    strerror(errno));
}

static int op_seek(struct fz *z)
{
	int i = rnd_fd(z), err;
	ssize_t r;
	const char *what;

	if (i < 0)
		return 0;
	switch (rnd(z, 3)) {
	case 0:
		what = "lseek";
		r = lseek(z->f[i].fd, rnd(z, 100000), rnd(z, 3));
		break;
	case 1:
		what = "pread";
		r = pread(z->f[i].fd, z->buf, rnd(z, 2000), rnd(z, 100));
		break;
	default:
		what = "pwrite";
		r = pwrite(z->f[i].fd, z->rnd, rnd(z, 2000), rnd(z, 100));
		break;
	}
	err = errno;
	if (r == -1 && err == ESPIPE)
		return 0;
	return fail(z, "%s: %zd (%s), expected ESPIPE", what, r,
		    strerror(err));
}

static int op_mmap(struct fz *z)
{
	int i = rnd_fd(z), prot;
	void *p;

	if (i < 0)
		return 0;
	prot = z->f[i].acc == O_RDONLY ? PROT_READ : PROT_READ | PROT_WRITE;
	if (z->f[i].acc == O_WRONLY)
		prot = PROT_WRITE;
	p = mmap(NULL, z->pg, prot, MAP_SHARED, z->f[i].fd, 0);
	if (p == MAP_FAILED && (errno == ENODEV || errno == EACCES))
		return 0;
	if (p != MAP_FAILED)
		munmap(p, z->pg);
	return fail(z, "mmap tap%u: %s", z->f[i].tap,
		    p == MAP_FAILED ? strerror(errno) : "succeeded");
}

static int link_ioctl(struct fz *z, unsigned int tap, unsigned long cmd,
		      struct ifreq *ifr)
{
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "tap%u", tap);
	return ioctl(z->sock, cmd, ifr);
}

static int set_up(struct fz *z, unsigned int tap, int up)
{
	struct ifreq ifr = {};

	if (link_ioctl(z, tap, SIOCGIFFLAGS, &ifr))
		return fail(z, "SIOCGIFFLAGS: %s", strerror(errno));
	if (!!(ifr.ifr_flags & IFF_UP) != z->up[tap])
		return fail(z, "tap%u IFF_UP %d, expected %d", tap,
			    !!(ifr.ifr_flags & IFF_UP), z->up[tap]);
	ifr.ifr_flags = up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP;
	if (link_ioctl(z, tap, SIOCSIFFLAGS, &ifr))
		return fail(z, "SIOCSIFFLAGS tap%u %s: %s", tap,
			    up ? "up" : "down", strerror(errno));
	z->up[tap] = up;
	return 0;
}

static int set_mtu(struct fz *z, unsigned int tap, unsigned int mtu)
{
	struct ifreq ifr = { .ifr_mtu = mtu };
	int r = link_ioctl(z, tap, SIOCSIFMTU, &ifr);
	int valid = mtu >= ETHERTAP_MIN_MTU && mtu <= ETHERTAP_MAX_MTU;

	if (valid && r)
		return fail(z, "SIOCSIFMTU tap%u %u: %s", tap, mtu,
			    strerror(errno));
	if (!valid && !(r == -1 && errno == EINVAL))
		return fail(z, "SIOCSIFMTU tap%u %u: %d (%s), expected EINVAL",
			    tap, mtu, r, strerror(errno));
	if (valid)
		z->mtu[tap] = mtu;
	return 0;
}

static int set_txq(struct fz *z, unsigned int tap, unsigned int q)
{
	struct ifreq ifr = { .ifr_qlen = q };

	if (link_ioctl(z, tap, SIOCSIFTXQLEN, &ifr))
		return fail(z, "SIOCSIFTXQLEN tap%u %u: %s", tap, q,
			    strerror(errno));
	z->txq[tap] = q;
	return 0;
}

static int op_link(struct fz *z)
{
	unsigned int tap = rnd(z, 2);

	switch (rnd(z, 7)) {
	case 0:
	case 1:
	case 2:
		return set_up(z, tap, !z->up[tap]);
	case 3:
		return set_mtu(z, tap, 68 + rnd(z, 9000 - 68 + 1));
	case 4:
		return set_mtu(z, tap, rnd(z, 2) ? 1500 :
			       (rnd(z, 2) ? 67 : 65536 + rnd(z, 100)));
	default:
		return set_txq(z, tap, 1 + rnd(z, 2000));
	}
}

/* A datagram the stack sends to 10.99.N.2, out through tapN. */
static int op_send(struct fz *z)
{
	unsigned int tap = rnd(z, 2), k, n = 1 + rnd(z, 8);
	size_t len;
	ssize_t r;
	int err;

	for (k = 0; k < n; k++) {
		len = rnd(z, 4) ? rnd(z, 1473) : rnd(z, 9001);
		r = udp_send_peer(z->udp[tap], tap, 9 + rnd(z, 3),
				  z->rnd + rnd(z, 60000), len);
		err = errno;
		if (r == (ssize_t)len)
			continue;
		if (r == -1 && (err == EAGAIN || err == ENOBUFS))
			continue;
		if (r == -1 && !z->up[tap] &&
		    (err == ENETUNREACH || err == EHOSTUNREACH))
			continue;
		return fail(z, "sendto via tap%u (%s) %zu bytes: %zd (%s)",
			    tap, z->up[tap] ? "up" : "down", len, r,
			    strerror(err));
	}
	return 0;
}

static int do_op(struct fz *z)
{
	static const unsigned char weights[C_NR] = {
		[C_OPEN] = 6, [C_CLOSE] = 4, [C_DUP] = 2, [C_FCNTL] = 2,
		[C_READ] = 18, [C_READV] = 6, [C_WRITE] = 20, [C_WRITEV] = 8,
		[C_UDPFRAME] = 6, [C_POLL] = 6, [C_IOCTL] = 3, [C_SEEK] = 2,
		[C_MMAP] = 1, [C_LINK] = 2, [C_SEND] = 10, [C_DRAIN] = 2,
	};
	unsigned int total = 0, pick, c;

	for (c = 0; c < C_NR; c++)
		total += weights[c];
	pick = rnd(z, total);
	for (c = 0; pick >= weights[c]; c++)
		pick -= weights[c];
	z->counts[c]++;
	switch (c) {
	case C_OPEN:
		return op_open(z);
	case C_CLOSE:
		return op_close(z);
	case C_DUP:
		return op_dup(z);
	case C_FCNTL:
		return op_fcntl(z);
	case C_READ:
		return op_read(z, 0);
	case C_READV:
		return op_read(z, 1);
	case C_WRITE:
		return op_write(z, 0);
	case C_WRITEV:
		return op_write(z, 1);
	case C_UDPFRAME:
		return op_udpframe(z);
	case C_POLL:
		return op_poll(z);
	case C_IOCTL:
		return op_ioctl(z);
	case C_SEEK:
		return op_seek(z);
	case C_MMAP:
		return op_mmap(z);
	case C_LINK:
		return op_link(z);
	case C_SEND:
		return op_send(z);
	default:
		drain_udp(z, rnd(z, 2));
		return 0;
	}
}

FIXTURE(fz) {
	struct fz *z;
	struct tap_stats st[2];
};

FIXTURE_SETUP(fz)
{
	struct fz *z;
	unsigned int t;
	size_t i;

	self->z = NULL;
	REQUIRE_TAPS(return, 2);
	z = calloc(1, sizeof(*z));
	ASSERT_NE(NULL, z);
	self->z = z;
	for (i = 0; i < NFDS; i++)
		z->f[i].fd = -1;
	z->udp[0] = z->udp[1] = z->sock = -1;
	z->pg = sysconf(_SC_PAGESIZE);
	z->rnd = malloc(BUFSZ);
	z->buf = malloc(BUFSZ);
	ASSERT_NE(NULL, z->rnd);
	ASSERT_NE(NULL, z->buf);
	z->bad = mmap(NULL, 4 * z->pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	ASSERT_NE(MAP_FAILED, z->bad);
	z->ro = z->bad + z->pg;
	ASSERT_EQ(0, mprotect(z->ro, z->pg, PROT_READ));
	z->edge = z->bad + 2 * z->pg;
	ASSERT_EQ(0, mprotect(z->edge, z->pg, PROT_READ | PROT_WRITE));

	z->seed = env_u64("ETHERTAP_FUZZ_SEED", 1);
	z->rng.s = z->seed * 0x9E3779B97F4A7C15ULL + 0x1234567;
	if (!z->rng.s)
		z->rng.s = 1;
	for (i = 0; i < BUFSZ; i++)
		z->rnd[i] = rnd64(z) >> 56;

	z->sock = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, z->sock);
	for (t = 0; t < 2; t++) {
		ASSERT_EQ(0, tap_setup(t));
		z->up[t] = 1;
		z->mtu[t] = 1500;
		z->txq[t] = 1000;
		z->udp[t] = udp_socket(t, FZ_PORT);
		ASSERT_LE(0, z->udp[t]);
		ASSERT_EQ(0, tap_stats(t, &self->st[t]));
	}
}

FIXTURE_TEARDOWN(fz)
{
	struct fz *z = self->z;
	unsigned int i;

	if (!z)
		return;
	for (i = 0; i < NFDS; i++)
		if (z->f[i].fd >= 0)
			close(z->f[i].fd);
	for (i = 0; i < 2; i++) {
		if (z->udp[i] >= 0)
			close(z->udp[i]);
		tap_cleanup(i);
	}
	if (z->sock >= 0)
		close(z->sock);
	free(z->rnd);
	free(z->buf);
	free(z);
}

/* The tap works: a written datagram arrives, a sent one reads back. */
static void works(struct __test_metadata *_metadata, struct fz *z,
		  unsigned int tap)
{
	uint8_t frame[256], got[256], mac[6];
	const char *msg = "still alive";
	size_t len, plen = strlen(msg);
	int fd, tries;
	ssize_t r;

	fd = tap_open(tap, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd);
	drain_udp(z, tap);
	len = build_to_tap(frame, tap, FZ_PORT, msg, plen);
	ASSERT_EQ(len, write(fd, frame, len));
	z->m[tap].packets++;
	z->m[tap].bytes += len - ETHERTAP_PAD;
	ASSERT_EQ(plen, recv(z->udp[tap], got, sizeof(got), MSG_DONTWAIT));
	ASSERT_EQ(0, memcmp(got, msg, plen));

	ASSERT_EQ(plen, udp_send_peer(z->udp[tap], tap, 4242, msg, plen));
	tap_mac(tap, mac);
	for (tries = 0; tries < 10; tries++) {
		r = tap_read_wait(fd, got, sizeof(got), 1000);
		ASSERT_LT(0, r) TH_LOG("tap%u: sent datagram not read: %s",
				       tap, strerror(errno));
		if (r == ETHERTAP_PAD + UDP_FRAME(plen) &&
		    get16(got + ETHERTAP_PAD + 12) == 0x0800 &&
		    get16(got + ETHERTAP_PAD + ETH_HDR + IP_HDR + 2) == 4242)
			break;
		TH_LOG("tap%u: other frame of %zd bytes first", tap, r);
	}
	ASSERT_LT(tries, 10);
	EXPECT_EQ(0, got[0]);
	EXPECT_EQ(0, got[1]);
	EXPECT_EQ(0, memcmp(got + ETHERTAP_PAD, mac, 6));
	EXPECT_EQ(0, memcmp(got + ETHERTAP_PAD + UDP_FRAME(0), msg, plen));
	close(fd);
}

TEST_F_TIMEOUT(fz, fuzz, 600)
{
	struct fz *z = self->z;
	uint64_t ops = env_u64("ETHERTAP_FUZZ_OPS", 20000);
	struct tap_stats now;
	unsigned int t, c;

	printf("# fuzz: seed %" PRIu64 ", %" PRIu64 " ops "
	       "(ETHERTAP_FUZZ_SEED, ETHERTAP_FUZZ_OPS)\n", z->seed, ops);
	fflush(stdout);
	for (z->op = 0; z->op < ops; z->op++) {
		if (do_op(z)) {
			TH_LOG("seed %" PRIu64 " op %" PRIu64 ": %s", z->seed,
			       z->op, z->msg);
			ASSERT_TRUE(0);
		}
	}
	for (c = 0; c < C_NR; c++)
		printf("#   %-9s %lu\n", op_names[c], z->counts[c]);

	/* Back to a known state; every file closed. */
	for (c = 0; c < NFDS; c++) {
		if (z->f[c].fd >= 0)
			ASSERT_EQ(0, close(z->f[c].fd));
		z->f[c].fd = -1;
	}
	for (t = 0; t < 2; t++) {
		if (!z->up[t])
			ASSERT_EQ(0, set_up(z, t, 1)) TH_LOG("%s", z->msg);
		ASSERT_EQ(0, set_mtu(z, t, 1500)) TH_LOG("%s", z->msg);
		ASSERT_EQ(0, set_txq(z, t, 1000)) TH_LOG("%s", z->msg);
		works(_metadata, z, t);
	}

	/* The receive side counted exactly what the model says. */
	for (t = 0; t < 2; t++) {
		struct rxmodel *m = &z->m[t];
		const struct stat_want ck[] = {
			{ S_RX_PACKETS, m->packets },
			{ S_RX_BYTES, m->bytes },
			{ S_RX_LENGTH_ERRORS, m->too_short + m->too_long },
			{ S_RX_ERRORS, m->too_short + m->too_long + m->fault },
			{ E_RX_ERROR_TOO_SHORT, m->too_short },
			{ E_RX_ERROR_TOO_LONG, m->too_long },
			{ E_RX_ERROR_FAULT, m->fault },
			{ E_RX_DROPPED_DOWN, m->down },
			{ E_RX_DROPPED_NOMEM, m->nomem },
			{ E_TX_READ_FAULT, m->read_fault },
		};
		const struct tap_stats *b = &self->st[t];

		EXPECT_EQ(0, tap_stats_model(t, b, ck, ARRAY_SIZE(ck), z->seed,
					     &now));
		printf("# fuzz: tap%u rx %" PRIu64 " (short %" PRIu64
		       ", long %" PRIu64 ", fault %" PRIu64 ", down %" PRIu64
		       "), tx %" PRIu64 " dropped %" PRIu64
		       " copy-dropped %" PRIu64 " unread %" PRIu64
		       " truncated %" PRIu64 " read-fault %" PRIu64 "\n", t,
		       m->packets, m->too_short, m->too_long, m->fault,
		       m->down, now.v[S_TX_PACKETS] - b->v[S_TX_PACKETS],
		       now.v[S_TX_DROPPED] - b->v[S_TX_DROPPED],
		       now.v[E_TX_READER_COPY_DROPPED] -
		       b->v[E_TX_READER_COPY_DROPPED],
		       now.v[E_TX_UNREAD_AT_CLOSE] - b->v[E_TX_UNREAD_AT_CLOSE],
		       now.v[E_TX_READ_TRUNCATED] - b->v[E_TX_READ_TRUNCATED],
		       m->read_fault);
	}
	printf("# fuzz: %" PRIu64 " ops, seed %" PRIu64 "\n", z->op, z->seed);
	printf("# figure: operations_fuzzed %" PRIu64 "\n", z->op);
	/* 20000 ops write some 7000 frames: every protocol is there. */
	EXPECT_EQ(0, fuzz_protos_report(z->protos, z->op, 2000));
}

TEST_HARNESS_MAIN
