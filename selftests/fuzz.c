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
 *
 * Files also switch ETHERTAP_F_VNET_HDR and their offloads on and off
 * (ETHERTAPSETFLAGS, ETHERTAPSETOFFLOAD: the errno of each bad value);
 * a write to such a file carries a struct virtio_net_hdr: zeros before a
 * frame as above, or NEEDS_CSUM and GSO headers over IPv4/IPv6 TCP and
 * UDP frames, right and wrong (unknown gso_type, gso_size 0, checksum or
 * hdr_len beyond the frame, random csum_start, gso_size and mismatched
 * types).  A header the ABI refuses must get EINVAL and count in
 * rx_error_vnet_hdr; a GSO frame longer than the MTU is taken whole; for
 * the few that kernels may judge either way (a random csum_start within
 * the frame, a GSO type that is not the frame's) the write must return
 * its length or EINVAL, and the model counts what it returned.
 */
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include "lib.h"
#include "traffic.h"
#include "harness.h"

#define NFDS		8
#define BUFSZ		70000
#define FZ_PORT		7777
#define MAX_WRITE	(ETHERTAP_PAD + 18 + ETHERTAP_MAX_MTU)	/* 65555 */
#define VH		ETHERTAP_VNET_HDR_LEN
#define VNET_MIN	(ETHERTAP_PAD + VH + ETH_HDR)		/* 26 */
#define SINK_PORT	9	/* closed: TCP frames there get a RST */

struct fent {
	int fd;			/* -1: free slot */
	unsigned int tap;
	int acc;		/* O_RDONLY, O_WRONLY or O_RDWR */
	unsigned int file;	/* the open file; dups share it */
};

/* What the model expects of each tap's receive-side counters. */
struct rxmodel {
	uint64_t packets, bytes, too_short, too_long, fault, down, nomem;
	uint64_t read_fault, vnet_hdr;
};

struct fz {
	struct rng rng;
	uint64_t seed, op;
	struct fent f[NFDS];
	int nonblock[1024];	/* per open file (index: file id) */
	int vnet[1024];		/* per open file: ETHERTAP_F_VNET_HDR set */
	bool uso;		/* TUN_F_USO4/6 taken (6.2 and later) */
	uint64_t vnet_writes[8];	/* per header class (enum vclass) */
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
	C_VNET, C_NR
};

static const char *const op_names[C_NR] = {
	"open", "close", "dup", "fcntl", "read", "readv", "write", "writev",
	"udpframe", "poll", "ioctl", "seek", "mmap", "link", "send", "drain",
	"vnet",
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
	z->vnet[e->file] = 0;
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

/* ---- ETHERTAP_F_VNET_HDR ---- */

/* Whether this kernel has USO (6.2 and later): TUN_F_USO4/6 are taken. */
static bool kernel_has_uso(void)
{
	unsigned int maj = 0, min = 0;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%u.%u", &maj, &min) != 2)
		return false;
	return maj > 6 || (maj == 6 && min >= 2);
}

#define OFFLOAD_BITS	(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | \
			 TUN_F_USO4 | TUN_F_USO6)

/* The flags and offloads of a file: set, read back, bad values refused. */
static int op_vnet(struct fz *z)
{
	static const unsigned int offs[] = {
		0, TUN_F_CSUM, TUN_F_CSUM | TUN_F_TSO4,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
		TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6, TUN_F_TSO4, TUN_F_USO4,
		TUN_F_UFO | TUN_F_CSUM,
	};
	int i = rnd_fd(z), r, want, err;
	unsigned int v, got;
	struct fent *e;

	if (i < 0)
		return 0;
	e = &z->f[i];
	switch (rnd(z, 4)) {
	case 0:
	case 1:
		v = rnd(z, 2) ? ETHERTAP_F_VNET_HDR : 0;
		if (!rnd(z, 8))
			v |= 1U << (2 + rnd(z, 30));	/* unknown */
		want = v & ~ETHERTAP_F_VNET_HDR ? EINVAL : 0;
		r = ioctl(e->fd, ETHERTAPSETFLAGS, &v);
		err = r ? errno : 0;
		if (err != want)
			return fail(z, "ETHERTAPSETFLAGS %#x: %s, expected %s",
				    v, strerror(err), strerror(want));
		if (!r)
			z->vnet[e->file] = !!v;
		got = 0xdead;
		if (ioctl(e->fd, ETHERTAPGETFLAGS, &got) ||
		    got != (z->vnet[e->file] ? ETHERTAP_F_VNET_HDR : 0))
			return fail(z, "ETHERTAPGETFLAGS: %#x (%s)", got,
				    strerror(errno));
		return 0;
	case 2:
		v = rnd(z, 4) ? offs[rnd(z, ARRAY_SIZE(offs))] : (uint32_t)rnd64(z);
		want = 0;
		if ((v & ~OFFLOAD_BITS) ||
		    ((v & OFFLOAD_BITS & ~TUN_F_CSUM) && !(v & TUN_F_CSUM)) ||
		    ((v & (TUN_F_USO4 | TUN_F_USO6)) && !z->uso))
			want = EINVAL;
		r = ioctl(e->fd, ETHERTAPSETOFFLOAD, &v);
		err = r ? errno : 0;
		if (err != want)
			return fail(z, "ETHERTAPSETOFFLOAD %#x: %s, expected %s",
				    v, strerror(err), strerror(want));
		got = 0xdead;
		if (ioctl(e->fd, ETHERTAPGETOFFLOAD, &got) || (!r && got != v))
			return fail(z, "ETHERTAPGETOFFLOAD: %#x (%s), set %#x",
				    got, strerror(errno), v);
		return 0;
	default:
		v = rnd(z, 4);
		r = ioctl(e->fd, v == 0 ? ETHERTAPSETFLAGS :
				 v == 1 ? ETHERTAPGETFLAGS :
				 v == 2 ? ETHERTAPSETOFFLOAD : ETHERTAPGETOFFLOAD,
			  rnd(z, 2) ? (void *)z->bad : NULL);
		if (r == -1 && errno == EFAULT)
			return 0;
		return fail(z, "ioctl %u with a bad pointer: %d (%s)", v, r,
			    strerror(errno));
	}
}

/*
 * Build at z->buf + 2 + VH an IPv4 or IPv6 TCP or UDP frame from the
 * neighbour of @tap to its address (TCP to a closed port, UDP to the
 * fuzzer's socket) with @plen bytes of payload and the L4 checksum left
 * partial (the pseudo header's sum), as NEEDS_CSUM wants it.  Returns its
 * length; *@l4 is where its TCP or UDP header starts.
 */
static size_t vnet_frame(struct fz *z, unsigned int tap, bool v6, bool tcp,
			 size_t plen, size_t *l4)
{
	const uint8_t peer[6] = PEER_MAC;
	uint8_t *f = z->buf + ETHERTAP_PAD + VH, *ip = f + ETH_HDR, *th;
	size_t l3 = v6 ? 40 : IP_HDR, thl = tcp ? 20 : UDP_HDR;
	size_t l4len = thl + plen;
	uint8_t proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	uint32_t sum, sa, da;
	char a[32];

	tap_mac(tap, f);
	memcpy(f + 6, peer, 6);
	put16(f + 12, v6 ? 0x86dd : 0x0800);
	memset(ip, 0, l3 + thl);
	th = ip + l3;
	if (v6) {
		ip[0] = 0x60;
		put16(ip + 4, l4len);
		ip[6] = proto;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[23] = 2;
		ip[24] = 0xfd;
		ip[39] = 1;
		sum = csum_add(0, ip + 8, 32);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, l3 + l4len);
		put16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = proto;
		snprintf(a, sizeof(a), TAP_NET ".2", tap);
		sa = inet_be(a);
		snprintf(a, sizeof(a), TAP_NET ".1", tap);
		da = inet_be(a);
		memcpy(ip + 12, &sa, 4);
		memcpy(ip + 16, &da, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, IP_HDR)));
		sum = csum_add(0, ip + 12, 8);
	}
	put16(th, 40000);
	put16(th + 2, tcp ? SINK_PORT : FZ_PORT);
	if (tcp) {
		put16(th + 6, rnd(z, 65536));
		th[12] = 5 << 4;
		th[13] = 0x10;		/* ACK */
		put16(th + 14, 512);
	} else {
		put16(th + 4, l4len);
	}
	memcpy(th + thl, z->rnd + rnd(z, BUFSZ - plen), plen);
	sum += proto + (l4len >> 16) + (l4len & 0xffff);
	put16(th + (tcp ? 16 : 6), ~csum_fold(sum));
	*l4 = ETH_HDR + l3;
	return ETH_HDR + l3 + l4len;
}

/* The classes of headers written (figures); the outcomes a write may have. */
enum vclass { V_ZERO, V_CSUM, V_GSO, V_BAD, V_MAYBE, V_SHORT, V_NR };
static const char *const vclass_name[V_NR] = {
	"zero", "csum", "gso", "bad", "maybe", "short",
};

enum { O_OK = 1, O_VNET = 2, O_LONG = 4, O_DOWN = 8 };

static void vnet_hdr(uint8_t *p, uint8_t flags, uint8_t gso_type,
		     size_t hdr_len, size_t gso_size, size_t start, size_t off)
{
	struct virtio_net_hdr h = {
		.flags = flags, .gso_type = gso_type,
		.hdr_len = htole16(hdr_len), .gso_size = htole16(gso_size),
		.csum_start = htole16(start), .csum_offset = htole16(off),
	};

	memcpy(p, &h, VH);
}

/* A gso_type no kernel knows: none of NONE, TCPV4, UDP, TCPV6, UDP_L4. */
static uint8_t unknown_gso_type(struct fz *z)
{
	uint8_t t;

	do {
		t = rnd(z, 256);
	} while ((t & 0x7f) == 1 || (t & 0x7f) == 3 || (t & 0x7f) == 4 ||
		 (t & 0x7f) == 5 || t == 0);
	return t;
}

/*
 * A write to a file with ETHERTAP_F_VNET_HDR: a header of one class over
 * a frame, the outcomes the ABI allows, and the model counting the one
 * the kernel chose.
 */
static int op_write_vnet(struct fz *z, struct fent *e, int vec)
{
	uint8_t *h = z->buf + ETHERTAP_PAD, *f = h + VH, gt;
	unsigned int tap = e->tap, cls, allowed, k, n, sub;
	size_t flen = 0, len, l4 = 0, plen, mss = 0, max, room, left, part;
	bool v6 = !rnd(z, 4), tcp = rnd(z, 2);
	struct rxmodel *m = &z->m[tap];
	uint16_t type = 0x0800;
	struct iovec iov[4];
	int err, o = 0;
	ssize_t r;

	switch (rnd(z, 10)) {
	case 0:
	case 1:
		cls = V_ZERO;
		break;
	case 2:
	case 3:
	case 4:
		cls = V_CSUM;
		break;
	case 5:
	case 6:
		cls = V_GSO;
		break;
	case 7:
		cls = V_BAD;
		break;
	case 8:
		cls = V_MAYBE;
		break;
	default:
		cls = V_SHORT;
	}
	z->vnet_writes[cls]++;
	z->buf[0] = 0;
	z->buf[1] = 0;
	memset(h, 0, VH);
	max = z->mtu[tap] + ETH_HDR;
	if (cls == V_ZERO) {
		flen = rnd(z, 3) ? rnd(z, 2 * z->mtu[tap] + 40) : rnd(z, 40);
		type = make_frame(z, tap, ETHERTAP_PAD + flen);
		memmove(f, z->buf + ETHERTAP_PAD, flen);
		z->buf[0] = 0;
		z->buf[1] = 0;
		memset(h, 0, VH);
		if (type == 0x8100 || type == 0x88a8)
			max += 4;
		if (!rnd(z, 4))
			vnet_hdr(h, 0, 0, rnd(z, flen + 40), 0, 0, 0);
	} else if (cls == V_SHORT) {
		flen = 0;
	} else if (cls == V_CSUM || (cls != V_GSO && rnd(z, 2))) {
		/* One frame with NEEDS_CSUM, maybe longer than the MTU. */
		plen = rnd(z, z->mtu[tap] + 60);
		flen = vnet_frame(z, tap, v6, tcp, plen, &l4);
		vnet_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, l4,
			 tcp ? 16 : 6);
	} else {
		/* A TCP GSO frame of 2 to 40 segments, each within the MTU. */
		size_t seg_max = z->mtu[tap] - (v6 ? 40 : IP_HDR) - 20;

		mss = 1 + rnd(z, seg_max < 1448 ? seg_max : 1448);
		if (rnd(z, 2))
			mss = seg_max < 1448 ? seg_max : 1448;
		n = 2 + rnd(z, 39);
		while (n > 2 && n * mss > 50000)
			n--;
		plen = (n - 1) * mss + 1 + rnd(z, mss);
		tcp = true;
		flen = vnet_frame(z, tap, v6, true, plen, &l4);
		gt = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		if (!rnd(z, 4))
			gt |= VIRTIO_NET_HDR_GSO_ECN;
		vnet_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, gt, l4 + 20, mss, l4,
			 16);
	}
	if (cls == V_BAD || cls == V_MAYBE) {
		struct virtio_net_hdr *vh = (struct virtio_net_hdr *)h;

		sub = rnd(z, 4);
		if (cls == V_BAD && sub == 0) {
			vh->gso_type = unknown_gso_type(z);
		} else if (cls == V_BAD && sub == 1) {
			vh->gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
					    VIRTIO_NET_HDR_GSO_TCPV4;
			vh->gso_size = 0;
			vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		} else if (cls == V_BAD && sub == 2) {
			/* csum_start + csum_offset + 2 beyond the frame */
			vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			vh->csum_start = htole16(rnd(z, 2) ? l4 :
						 flen - 1 + rnd(z, 100));
			vh->csum_offset = htole16(flen - 1 -
						  le16toh(vh->csum_start) +
						  rnd(z, 100));
			if (le16toh(vh->csum_start) >= flen)
				vh->csum_offset = htole16(rnd(z, 30));
		} else if (cls == V_BAD) {
			vh->hdr_len = htole16(flen + 1 + rnd(z, 1000));
		} else if (sub == 0) {
			/* a random checksum place within the frame */
			vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			vh->csum_start = htole16(rnd(z, flen - 1));
			vh->csum_offset = htole16(rnd(z, flen - 1 -
						     le16toh(vh->csum_start)));
		} else if (sub == 1) {
			/* a GSO type that is not the frame's */
			vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			vh->gso_type = v6 || !tcp ? VIRTIO_NET_HDR_GSO_TCPV4 :
						    VIRTIO_NET_HDR_GSO_TCPV6;
			vh->gso_size = htole16(1 + rnd(z, 1448));
		} else if (sub == 2) {
			vh->gso_size = htole16(1 + rnd(z, 3000));
		} else {
			vh->flags = 0;	/* GSO without NEEDS_CSUM */
		}
	}
	len = ETHERTAP_PAD + VH + flen;
	if (cls == V_SHORT)
		len = rnd(z, VNET_MIN);
	if (len < VNET_MIN)
		cls = V_SHORT;	/* EINVAL, whatever the header says */
	/* The outcomes allowed. */
	if (cls == V_SHORT) {
		allowed = 0;
	} else {
		const struct virtio_net_hdr *vh = (struct virtio_net_hdr *)h;
		bool gso_hdr = vh->gso_type != VIRTIO_NET_HDR_GSO_NONE;
		unsigned int errs = 0;

		if (cls == V_BAD || le16toh(vh->hdr_len) > flen)
			errs |= O_VNET;
		if (!gso_hdr && flen > max)
			errs |= O_LONG;
		if (!z->up[tap])
			errs |= O_DOWN;
		if (cls == V_MAYBE)
			allowed = O_VNET | errs | (errs ? 0 : O_OK) |
				  (gso_hdr ? O_LONG : 0);
		else
			allowed = errs ? errs : O_OK;
	}
	if (!can_write(e)) {
		r = write(e->fd, z->buf, len);
		if (r == -1 && errno == EBADF)
			return 0;
		return fail(z, "vnet write on O_RDONLY: %zd (%s)", r,
			    strerror(errno));
	}
	if (!vec) {
		r = write(e->fd, z->buf, len);
	} else {
		n = 1 + rnd(z, 4);
		left = len;
		for (k = 0; k < n; k++) {
			part = k == n - 1 ? left : rnd(z, left + 1);
			iov[k].iov_base = z->buf + (len - left);
			iov[k].iov_len = part;
			left -= part;
		}
		r = writev(e->fd, iov, n);
	}
	err = r < 0 ? errno : 0;
	room = len;
	if (vec && !len && r == 0)
		return 0;			/* writev() of nothing */
	if (r == (ssize_t)room)
		o = O_OK;
	else if (r == -1 && err == EINVAL)
		o = O_VNET;
	else if (r == -1 && err == EMSGSIZE)
		o = O_LONG;
	else if (r == -1 && err == ENETDOWN)
		o = O_DOWN;
	if (r == -1 && err == ENOMEM) {
		m->nomem++;
		return 0;
	}
	if (cls == V_SHORT) {
		if (o != O_VNET)
			return fail(z, "vnet write of %zu bytes: %zd (%s), expected EINVAL",
				    len, r, strerror(err));
		m->too_short++;
		return 0;
	}
	if (!(o & allowed))
		return fail(z, "vnet %s tap%u %zu bytes (frame %zu, mtu %u, %s): %zd (%s), may %#x",
			    vclass_name[cls], tap, len, flen, z->mtu[tap],
			    z->up[tap] ? "up" : "down", r,
			    r < 0 ? strerror(err) : "", allowed);
	switch (o) {
	case O_OK:
		m->packets++;
		m->bytes += flen;
		break;
	case O_VNET:
		m->vnet_hdr++;
		break;
	case O_LONG:
		m->too_long++;
		break;
	default:
		m->down++;
	}
	return 0;
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
	if (z->vnet[e->file])
		return op_write_vnet(z, e, vec);
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
	uint8_t frame[ETHERTAP_PAD + VH + ETH_HDR + 9000], got[9000];
	size_t plen, len, maxp, vh;
	struct fent *e;
	ssize_t r;

	if (i < 0)
		return 0;
	e = &z->f[i];
	maxp = z->mtu[e->tap] - IP_HDR - UDP_HDR;
	plen = rnd(z, (maxp < 1500 ? maxp : 1500) + 1);
	/* On a vnet file: behind a header of zeros. */
	vh = z->vnet[e->file] ? VH : 0;
	len = build_to_tap(frame + vh, e->tap, FZ_PORT,
			   z->rnd + rnd(z, 60000), plen);
	memset(frame, 0, ETHERTAP_PAD + vh);
	drain_udp(z, e->tap);
	z->protos[FP_IPV4]++;
	want = can_write(e) ? expect_write(z, e->tap, len, 0x0800, len, 0, 0) :
	       EBADF;
	r = write(e->fd, frame, vh + len);
	if (r > 0)
		r -= vh;
	if (can_write(e))
		fix_nomem(z, e->tap, r, want, len);
	if (check_write(z, e, r, len, want, "udp write"))
		return -1;
	if (r != (ssize_t)len)
		return 0;
	r = recv(z->udp[e->tap], got, sizeof(got), MSG_DONTWAIT);
	if (r != (ssize_t)plen ||
	    memcmp(got, frame + vh + ETHERTAP_PAD + UDP_FRAME(0), plen))
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
		[C_VNET] = 3,
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
	case C_VNET:
		return op_vnet(z);
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

	z->uso = kernel_has_uso();
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
			{ S_RX_ERRORS, m->too_short + m->too_long + m->fault +
				       m->vnet_hdr },
			{ S_RX_FRAME_ERRORS, m->vnet_hdr },
			{ E_RX_ERROR_VNET_HDR, m->vnet_hdr },
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
	printf("# fuzz: vnet writes:");
	for (c = 0; c < V_NR; c++)
		printf(" %s %" PRIu64, vclass_name[c], z->vnet_writes[c]);
	printf("\n");
	for (t = 0; t < 2; t++)
		printf("# fuzz: tap%u rx_error_vnet_hdr %" PRIu64 "\n", t,
		       z->m[t].vnet_hdr);
	printf("# fuzz: %" PRIu64 " ops, seed %" PRIu64 "\n", z->op, z->seed);
	printf("# figure: operations_fuzzed %" PRIu64 "\n", z->op);
	/* 20000 ops write some 7000 frames: every protocol is there. */
	EXPECT_EQ(0, fuzz_protos_report(z->protos, z->op, 2000));
}

TEST_HARNESS_MAIN
