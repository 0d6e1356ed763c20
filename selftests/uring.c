// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: /dev/tapN through io_uring (liburing).
 *
 * Reads (IORING_OP_READ, IORING_OP_READV) return one padded frame, the
 * same bytes a read() of another file gives; writes (IORING_OP_WRITE,
 * IORING_OP_WRITEV) inject one frame, with exact counters, and a refused
 * one completes with its errno.  The file is FMODE_NOWAIT: RWF_NOWAIT is
 * accepted (EAGAIN on an empty queue, not EOPNOTSUPP), and io_uring
 * completes reads and writes without an io-wq worker thread ("iou-wrk-",
 * counted in /proc/self/task), polling while the queue is empty.  A
 * pending read completes when a frame comes, with end-of-file when the
 * tap is deleted; cancelling one, closing the file and the ring under
 * pending reads, and killing a process with them, leave no reader
 * behind.  SKIP where the kernel has no io_uring or
 * kernel.io_uring_disabled refuses it.  Needs root and the modules loaded
 * with max_taps >= 2.
 */
#include <dirent.h>
#include <liburing.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "lib.h"
#include "harness.h"

#define PEER_PORT	5555
#define MSG		"ethertap io_uring test!"	/* odd length: 23 */
#define MSG_LEN		(sizeof(MSG) - 1)
#define FRAME_LEN	(ETHERTAP_PAD + UDP_FRAME(MSG_LEN))
#define NREADS		8
#define REFCNT		"/sys/module/netlink_dev/refcnt"

/* NULL if io_uring can be used here, else why the tests must skip. */
static const char *uring_skip_reason(void)
{
	static char why[96];
	struct io_uring ring;
	uint64_t disabled;
	int ret;

	ret = io_uring_queue_init(2, &ring, 0);
	if (!ret) {
		io_uring_queue_exit(&ring);
		return NULL;
	}
	if (ret == -ENOSYS)
		return "no io_uring in this kernel (CONFIG_IO_URING)";
	disabled = read_u64("/proc/sys/kernel/io_uring_disabled");
	if (ret == -EPERM && disabled != UINT64_MAX) {
		snprintf(why, sizeof(why),
			 "io_uring disabled: kernel.io_uring_disabled = %" PRIu64,
			 disabled);
		return why;
	}
	return NULL;	/* the fixture's own io_uring_queue_init() fails */
}

/* The io-wq worker threads of this process: "iou-wrk-PID". */
static int io_workers(void)
{
	char path[300], comm[32];
	struct dirent *e;
	ssize_t len;
	int fd, n = 0;
	DIR *d;

	d = opendir("/proc/self/task");
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 e->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (len > 0 && !strncmp(comm, "iou-wrk-", 8))
			n++;
	}
	closedir(d);
	return n;
}

FIXTURE(ur) {
	struct tap_fixture t;	/* /dev/tap0 blocking */
	struct io_uring ring;
	bool ring_ok;
	uint8_t buf[MAX_FRAME];
};

FIXTURE_SETUP(ur)
{
	const char *err;
	int ret;

	self->t.fd = -1;
	self->t.sock = -1;
	self->ring_ok = false;
	REQUIRE_TAPS(return, 2);
	err = uring_skip_reason();
	if (err)
		SKIP(return, "%s", err);
	err = tap_fixture_setup(&self->t, O_RDWR);
	ASSERT_TRUE(err == NULL) TH_LOG("%s: %s", err, strerror(errno));
	ret = io_uring_queue_init(16, &self->ring, 0);
	ASSERT_EQ(0, ret) TH_LOG("io_uring_queue_init: %s", strerror(-ret));
	self->ring_ok = true;
}

FIXTURE_TEARDOWN(ur)
{
	if (self->ring_ok)
		io_uring_queue_exit(&self->ring);
	tap_fixture_close(&self->t);
	tap_cleanup(0);
}

static struct io_uring_sqe *sqe_get(struct __test_metadata *_metadata,
				    struct io_uring *ring, uint64_t data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	ASSERT_NE(NULL, sqe);
	io_uring_sqe_set_data64(sqe, data);
	return sqe;
}

/* Queue a read (@data) of @fd into @buf, a stream: offset -1. */
static struct io_uring_sqe *prep_read(struct __test_metadata *_metadata,
				      struct io_uring *ring, int fd,
				      void *buf, size_t len, uint64_t data)
{
	struct io_uring_sqe *sqe = sqe_get(_metadata, ring, data);

	io_uring_prep_read(sqe, fd, buf, len, -1);
	return sqe;
}

static struct io_uring_sqe *prep_write(struct __test_metadata *_metadata,
				       struct io_uring *ring, int fd,
				       const void *buf, size_t len,
				       uint64_t data)
{
	struct io_uring_sqe *sqe = sqe_get(_metadata, ring, data);

	io_uring_prep_write(sqe, fd, buf, len, -1);
	return sqe;
}

/*
 * The next completion within @ms: 0 with its user data and result, or
 * -ETIME if none came.
 */
static int next_cqe(struct io_uring *ring, int ms, uint64_t *data, int *res)
{
	struct __kernel_timespec ts = {
		.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000LL };
	struct io_uring_cqe *cqe;
	int ret;

	ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (ret)
		return ret;
	*data = cqe->user_data;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/* Wait for the completion of @want (the only one expected): its result. */
static int wait_res(struct __test_metadata *_metadata, struct io_uring *ring,
		    uint64_t want)
{
	uint64_t data = 0;
	int res = 0;

	ASSERT_EQ(0, next_cqe(ring, 5000, &data, &res))
		TH_LOG("no completion for request %" PRIu64, want);
	EXPECT_EQ(want, data);
	return res;
}

/* No completion for 100 ms: whatever is queued is still pending. */
static void none_complete(struct __test_metadata *_metadata,
			  struct io_uring *ring)
{
	uint64_t data = 0;
	int res = 0;

	EXPECT_EQ(-ETIME, next_cqe(ring, 100, &data, &res))
		TH_LOG("request %" PRIu64 " completed with %d", data, res);
}

static void send_msg(struct __test_metadata *_metadata,
		     FIXTURE_DATA(ur) *self)
{
	ASSERT_EQ(MSG_LEN, udp_send_peer(self->t.sock, 0, PEER_PORT, MSG,
					 MSG_LEN));
}

/* @buf holds FRAME_LEN bytes: the padding, tap0's frame, MSG at the end. */
static void check_frame(struct __test_metadata *_metadata,
			const uint8_t *buf)
{
	const uint8_t mac[6] = { 0xfe, 0xfd, 0, 0, 0, 0 };

	EXPECT_EQ(0, buf[0]);
	EXPECT_EQ(0, buf[1]);
	/* NOARP: to and from the tap's own address, as in 2.4. */
	EXPECT_EQ(0, memcmp(buf + 2, mac, 6));
	EXPECT_EQ(0, memcmp(buf + 8, mac, 6));
	EXPECT_EQ(0x0800, get16(buf + 14));
	EXPECT_EQ(0, memcmp(buf + FRAME_LEN - MSG_LEN, MSG, MSG_LEN));
}

static int queued(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/*
 * IORING_OP_READ: a read pending on the empty queue completes with the
 * frame tap0 then transmits, 2 + its length, the same bytes as read()
 * gives a second file; a read submitted with a frame queued completes at
 * once.  No worker thread did either.
 */
TEST_F(ur, read_exact)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 2, [S_TX_BYTES] = 2 * (FRAME_LEN - 2) } };
	uint8_t other[MAX_FRAME];
	int fd2, round;

	fd2 = tap_open(0, O_RDWR);
	ASSERT_LE(0, fd2);
	for (round = 0; round < 2; round++) {
		memset(self->buf, 0xee, sizeof(self->buf));
		if (round == 1)
			send_msg(_metadata, self);
		prep_read(_metadata, &self->ring, self->t.fd, self->buf,
			  sizeof(self->buf), 1);
		ASSERT_EQ(1, io_uring_submit(&self->ring));
		if (round == 0) {
			none_complete(_metadata, &self->ring);
			send_msg(_metadata, self);
		}
		ASSERT_EQ(FRAME_LEN, wait_res(_metadata, &self->ring, 1))
			TH_LOG("round %d", round);
		check_frame(_metadata, self->buf);
		EXPECT_EQ(0xee, self->buf[FRAME_LEN]);
		ASSERT_EQ(FRAME_LEN, tap_read_wait(fd2, other, sizeof(other),
						   2000));
		EXPECT_EQ(0, memcmp(self->buf, other, FRAME_LEN));
		EXPECT_FALSE(queued(self->t.fd));
	}
	close(fd2);
	EXPECT_EQ(0, io_workers());
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * IORING_OP_READV scatters one frame as readv() does: the whole of it,
 * then (a vector too short) its first 26 bytes, the rest discarded and
 * counted.
 */
TEST_F(ur, readv_exact)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 2, [S_TX_BYTES] = 2 * (FRAME_LEN - 2),
		[E_TX_READ_TRUNCATED] = 1 } };
	uint8_t pad[2], hdr[14], rest[200], frame[FRAME_LEN], other[MAX_FRAME];
	struct iovec iov[3] = {
		{ pad, sizeof(pad) }, { hdr, sizeof(hdr) },
		{ rest, sizeof(rest) },
	};
	struct io_uring_sqe *sqe;
	int fd2;

	fd2 = tap_open(0, O_RDWR);
	ASSERT_LE(0, fd2);
	sqe = sqe_get(_metadata, &self->ring, 1);
	io_uring_prep_readv(sqe, self->t.fd, iov, 3, -1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	none_complete(_metadata, &self->ring);
	send_msg(_metadata, self);
	ASSERT_EQ(FRAME_LEN, wait_res(_metadata, &self->ring, 1));
	memcpy(frame, pad, 2);
	memcpy(frame + 2, hdr, 14);
	memcpy(frame + 16, rest, FRAME_LEN - 16);
	check_frame(_metadata, frame);
	ASSERT_EQ(FRAME_LEN, tap_read_wait(fd2, other, sizeof(other), 2000));
	EXPECT_EQ(0, memcmp(frame, other, FRAME_LEN));

	/* Shorter vector than the frame: truncated to it. */
	iov[2].iov_len = 10;
	memset(rest, 0xee, sizeof(rest));
	sqe = sqe_get(_metadata, &self->ring, 2);
	io_uring_prep_readv(sqe, self->t.fd, iov, 3, -1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	send_msg(_metadata, self);
	ASSERT_EQ(26, wait_res(_metadata, &self->ring, 2));
	ASSERT_EQ(FRAME_LEN, tap_read_wait(fd2, other, sizeof(other), 2000));
	EXPECT_EQ(0, memcmp(pad, other, 2));
	EXPECT_EQ(0, memcmp(hdr, other + 2, 14));
	EXPECT_EQ(0, memcmp(rest, other + 16, 10));
	EXPECT_EQ(0xee, rest[10]);
	EXPECT_FALSE(queued(self->t.fd));
	close(fd2);
	EXPECT_EQ(0, io_workers());
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * IORING_OP_WRITE and IORING_OP_WRITEV inject one frame each, received by
 * the stack: the UDP socket gets the datagram, rx_packets and rx_bytes
 * move by exactly the frames.  A frame too short completes with EINVAL
 * and is counted as write() counts it.
 */
TEST_F(ur, write_exact)
{
	struct tap_stats d = { .v = {
		[S_RX_PACKETS] = 2, [S_RX_BYTES] = 2 * (FRAME_LEN - 2),
		[S_RX_ERRORS] = 1, [S_RX_LENGTH_ERRORS] = 1,
		[E_RX_ERROR_TOO_SHORT] = 1 } };
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	struct io_uring_sqe *sqe;
	struct iovec iov[4];
	char got[128];
	size_t len;

	len = build_to_tap(self->buf, 0, self->t.port, MSG, MSG_LEN);
	ASSERT_EQ(FRAME_LEN, len);
	prep_write(_metadata, &self->ring, self->t.fd, self->buf, len, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(len, wait_res(_metadata, &self->ring, 1));
	ASSERT_EQ(MSG_LEN, recvfrom(self->t.sock, got, sizeof(got), 0,
				    (struct sockaddr *)&from, &fl));
	EXPECT_EQ(0, memcmp(got, MSG, MSG_LEN));
	EXPECT_EQ(inet_be("10.99.0.2"), from.sin_addr.s_addr);
	EXPECT_EQ(40000, ntohs(from.sin_port));

	/* In four pieces, cut inside the padding too. */
	iov[0] = (struct iovec){ self->buf, 1 };
	iov[1] = (struct iovec){ self->buf + 1, 6 };
	iov[2] = (struct iovec){ self->buf + 7, 20 };
	iov[3] = (struct iovec){ self->buf + 27, len - 27 };
	sqe = sqe_get(_metadata, &self->ring, 2);
	io_uring_prep_writev(sqe, self->t.fd, iov, 4, -1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(len, wait_res(_metadata, &self->ring, 2));
	ASSERT_EQ(MSG_LEN, recv(self->t.sock, got, sizeof(got), 0));
	EXPECT_EQ(0, memcmp(got, MSG, MSG_LEN));

	prep_write(_metadata, &self->ring, self->t.fd, self->buf, 10, 3);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-EINVAL, wait_res(_metadata, &self->ring, 3));

	EXPECT_FALSE(udp_pending(self->t.sock));
	EXPECT_FALSE(queued(self->t.fd));
	EXPECT_EQ(0, io_workers());
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * RWF_NOWAIT, which the kernel refuses (EOPNOTSUPP) on a file that is
 * not FMODE_NOWAIT: preadv2() and an io_uring read with it fail with
 * EAGAIN on the empty queue, read a queued frame; pwritev2() and an
 * io_uring write with it inject theirs.
 */
TEST_F(ur, rwf_nowait)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 2, [S_TX_BYTES] = 2 * (FRAME_LEN - 2),
		[S_RX_PACKETS] = 2, [S_RX_BYTES] = 2 * (FRAME_LEN - 2) } };
	struct pollfd pfd = { .fd = self->t.fd, .events = POLLIN };
	struct iovec iov = { self->buf, sizeof(self->buf) };
	uint8_t frame[FRAME_LEN];
	struct io_uring_sqe *sqe;
	char got[128];
	size_t len;

	errno = 0;
	EXPECT_EQ(-1, preadv2(self->t.fd, &iov, 1, -1, RWF_NOWAIT));
	EXPECT_EQ(EAGAIN, errno) TH_LOG("preadv2: %s", strerror(errno));
	/* Not polled for: the empty queue completes it with EAGAIN. */
	sqe = prep_read(_metadata, &self->ring, self->t.fd, self->buf,
			sizeof(self->buf), 1);
	sqe->rw_flags = RWF_NOWAIT;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-EAGAIN, wait_res(_metadata, &self->ring, 1));

	send_msg(_metadata, self);
	ASSERT_EQ(FRAME_LEN, preadv2(self->t.fd, &iov, 1, -1, RWF_NOWAIT));
	check_frame(_metadata, self->buf);

	send_msg(_metadata, self);
	ASSERT_EQ(1, poll(&pfd, 1, 2000));
	sqe = prep_read(_metadata, &self->ring, self->t.fd, self->buf,
			sizeof(self->buf), 2);
	sqe->rw_flags = RWF_NOWAIT;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(FRAME_LEN, wait_res(_metadata, &self->ring, 2));
	check_frame(_metadata, self->buf);

	len = build_to_tap(frame, 0, self->t.port, MSG, MSG_LEN);
	iov = (struct iovec){ frame, len };
	ASSERT_EQ(len, pwritev2(self->t.fd, &iov, 1, -1, RWF_NOWAIT))
		TH_LOG("pwritev2: %s", strerror(errno));
	ASSERT_EQ(MSG_LEN, recv(self->t.sock, got, sizeof(got), 0));
	sqe = prep_write(_metadata, &self->ring, self->t.fd, frame, len, 3);
	sqe->rw_flags = RWF_NOWAIT;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(len, wait_res(_metadata, &self->ring, 3));
	ASSERT_EQ(MSG_LEN, recv(self->t.sock, got, sizeof(got), 0));
	EXPECT_EQ(0, memcmp(got, MSG, MSG_LEN));
	EXPECT_FALSE(queued(self->t.fd));
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * Not punted: NREADS reads pending on the empty queue wait in poll, not
 * in worker threads.  NREADS frames, one at a time, complete them: each
 * frame wakes every read still pending, and those that find the queue
 * empty again go back to polling.  A write completes the same way: no
 * io-wq worker thread at all.  Then the count is shown to see workers: a
 * read forced to one with IOSQE_ASYNC.
 */
TEST_F(ur, no_worker_threads)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = NREADS, [S_TX_BYTES] = NREADS * (FRAME_LEN - 2),
		[S_RX_PACKETS] = 1, [S_RX_BYTES] = FRAME_LEN - 2 } };
	static uint8_t bufs[NREADS][256];
	unsigned int seen = 0;
	struct io_uring_sqe *sqe;
	uint64_t data;
	int i, res, n;
	size_t len;

	for (i = 0; i < NREADS; i++)
		prep_read(_metadata, &self->ring, self->t.fd, bufs[i],
			  sizeof(bufs[i]), i);
	ASSERT_EQ(NREADS, io_uring_submit(&self->ring));
	none_complete(_metadata, &self->ring);
	EXPECT_EQ(0, io_workers()) TH_LOG("reads pending");

	for (i = 0; i < NREADS; i++) {
		send_msg(_metadata, self);
		ASSERT_EQ(0, next_cqe(&self->ring, 5000, &data, &res))
			TH_LOG("%d of %d reads completed", i, NREADS);
		ASSERT_GT(NREADS, data);
		EXPECT_EQ(0, seen & 1u << data);
		seen |= 1u << data;
		EXPECT_EQ(FRAME_LEN, res) TH_LOG("read %" PRIu64, data);
		check_frame(_metadata, bufs[data]);
	}
	none_complete(_metadata, &self->ring);
	EXPECT_FALSE(queued(self->t.fd));

	len = build_to_tap(self->buf, 0, self->t.port, MSG, MSG_LEN);
	prep_write(_metadata, &self->ring, self->t.fd, self->buf, len, 100);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(len, wait_res(_metadata, &self->ring, 100));
	ASSERT_EQ(MSG_LEN, recv(self->t.sock, bufs[0], sizeof(bufs[0]), 0));
	EXPECT_EQ(0, io_workers()) TH_LOG("after %d reads and a write",
					  NREADS);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));

	/* The count sees a worker where there is one. */
	sqe = prep_read(_metadata, &self->ring, self->t.fd, self->buf,
			sizeof(self->buf), 200);
	sqe->flags |= IOSQE_ASYNC;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (i = 0; i < 200 && (n = io_workers()) == 0; i++)
		usleep(10 * 1000);
	EXPECT_LT(0, n) TH_LOG("no worker seen for an IOSQE_ASYNC read");
	send_msg(_metadata, self);
	ASSERT_EQ(FRAME_LEN, wait_res(_metadata, &self->ring, 200));
	check_frame(_metadata, self->buf);
}

/*
 * A read pending while this process sleeps in io_uring_enter() completes
 * when another process makes tap0 send a frame.
 */
TEST_F(ur, pending_read_wakes)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 1, [S_TX_BYTES] = FRAME_LEN - 2 } };
	int status;
	pid_t pid;

	prep_read(_metadata, &self->ring, self->t.fd, self->buf,
		  sizeof(self->buf), 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	pid = udp_send_peer_later(self->t.sock, 0, PEER_PORT, MSG,
				  MSG_LEN, 300);
	ASSERT_LE(0, pid);
	ASSERT_EQ(FRAME_LEN, wait_res(_metadata, &self->ring, 1));
	check_frame(_metadata, self->buf);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, io_workers());
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * A pending read cancelled completes with ECANCELED and takes nothing:
 * the next frame is there for read().
 */
TEST_F(ur, cancel)
{
	struct tap_stats d = { .v = {
		[S_TX_PACKETS] = 1, [S_TX_BYTES] = FRAME_LEN - 2 } };
	struct io_uring_sqe *sqe;
	uint64_t data;
	int i, res;

	prep_read(_metadata, &self->ring, self->t.fd, self->buf,
		  sizeof(self->buf), 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	none_complete(_metadata, &self->ring);
	sqe = sqe_get(_metadata, &self->ring, 2);
	io_uring_prep_cancel64(sqe, 1, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	/* The two completions, in either order. */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, next_cqe(&self->ring, 5000, &data, &res));
		if (data == 1) {
			EXPECT_EQ(-ECANCELED, res);
		} else {
			EXPECT_EQ(2, data);
			EXPECT_EQ(0, res);
		}
	}
	none_complete(_metadata, &self->ring);
	send_msg(_metadata, self);
	ASSERT_EQ(FRAME_LEN, tap_read_wait(self->t.fd, self->buf,
					   sizeof(self->buf), 2000));
	check_frame(_metadata, self->buf);
	EXPECT_EQ(0, io_workers());
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * Wait up to 5 s for netlink_dev's module count to be @want: each open
 * /dev/tapN holds it (twice: the cdev and its file operations).
 */
static uint64_t refcnt_wait(uint64_t want)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < 500; i++) {
		n = read_u64(REFCNT);
		if (n == want)
			break;
		usleep(10 * 1000);
	}
	return n;
}

/*
 * Reads pending on a file closed: the requests keep it open until the
 * ring goes; then it is released, its reader with it: tap0 has no reader
 * left, the next frame is dropped as such.  So too for a process killed
 * with reads pending on a ring and a file of its own.
 */
TEST_F(ur, close_pending)
{
	struct tap_stats d = { .v = {
		[S_TX_DROPPED] = 2, [E_TX_DROPPED_NO_READER] = 2 } };
	uint64_t base = read_u64(REFCNT);
	int i, p[2], status;
	pid_t pid;
	char c;

	/* The fixture's file is the only one open. */
	ASSERT_LT(0, base);
	ASSERT_NE(UINT64_MAX, base);
	for (i = 0; i < 4; i++)
		prep_read(_metadata, &self->ring, self->t.fd, self->buf,
			  sizeof(self->buf), i);
	ASSERT_EQ(4, io_uring_submit(&self->ring));
	none_complete(_metadata, &self->ring);
	EXPECT_EQ(0, close(self->t.fd));
	self->t.fd = -1;
	EXPECT_EQ(base, read_u64(REFCNT));
	io_uring_queue_exit(&self->ring);
	self->ring_ok = false;
	EXPECT_EQ(0, refcnt_wait(0));
	send_msg(_metadata, self);

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct io_uring ring;
		int fd = tap_open(0, O_RDWR);

		if (fd < 0 || io_uring_queue_init(8, &ring, 0))
			_exit(1);
		for (i = 0; i < 4; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			io_uring_prep_read(sqe, fd, self->buf, 256, -1);
		}
		if (io_uring_submit(&ring) != 4 || write(p[1], "", 1) != 1)
			_exit(2);
		pause();
		_exit(3);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1)) TH_LOG("the child failed");
	close(p[0]);
	EXPECT_EQ(base, read_u64(REFCNT));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(0, refcnt_wait(0));
	send_msg(_metadata, self);
	EXPECT_EQ(0, tap_stats_check(0, &self->t.st, &d));
}

/*
 * A read pending when the tap is deleted completes with end-of-file;
 * then a write completes with ENXIO and a read with 0 at once.
 */
TEST_F(ur, tap_deleted_eof)
{
	uint8_t frame[FRAME_LEN];
	size_t len;
	int fd2;

	if (tap_exists(2))
		SKIP(return, "tap2 exists already");
	ASSERT_EQ(0, run("ip link add type ethertap"));
	ASSERT_TRUE(tap_exists(2));
	fd2 = tap_open(2, O_RDWR);
	ASSERT_LE(0, fd2) TH_LOG("open /dev/tap2: %s", strerror(errno));
	prep_read(_metadata, &self->ring, fd2, self->buf, sizeof(self->buf),
		  1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	none_complete(_metadata, &self->ring);
	ASSERT_EQ(0, run("ip link del tap2"));
	EXPECT_EQ(0, wait_res(_metadata, &self->ring, 1));
	EXPECT_EQ(0, io_workers()) TH_LOG("after the read");

	len = build_to_tap(frame, 2, 9, MSG, MSG_LEN);
	prep_write(_metadata, &self->ring, fd2, frame, len, 2);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-ENXIO, wait_res(_metadata, &self->ring, 2));
	/* Not POLLOUT any more: only FMODE_NOWAIT keeps it inline. */
	EXPECT_EQ(0, io_workers()) TH_LOG("after the write");
	prep_read(_metadata, &self->ring, fd2, self->buf, sizeof(self->buf),
		  3);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(0, wait_res(_metadata, &self->ring, 3));
	close(fd2);
}

TEST_HARNESS_MAIN
