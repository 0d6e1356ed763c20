// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: processes and the lifetime of open files, with exact counters.
 *
 * Frames come from a UDP socket sending to tap0's neighbour (NOARP, no
 * IPv6): each sendto() transmits one frame synchronously, so the counters
 * can be checked after every step.  The queue of transmitted frames
 * belongs to the open file (struct file), not to the descriptor or the
 * process: descriptors dup'ed or inherited over fork() share it, and it
 * lives until the last of them is closed.
 *
 *   stopped_reader    a reader process stopped (SIGSTOP) while frames
 *                     keep coming: its queue fills to txqueuelen, every
 *                     further frame is a copy dropped and, as it was the
 *                     only reader, a frame dropped with every queue full;
 *                     after SIGCONT it reads exactly the queued frames.
 *   killed_mid_read   a reader killed (SIGKILL) while blocked in read(),
 *                     with a second file holding 3 frames: both files are
 *                     released (3 unread at close, the module's reference
 *                     count back to 0), the tap keeps working.
 *   fork_shared_file  a file opened before fork() is one queue for parent
 *                     and child (each frame read once, by either), a file
 *                     the child opens is a queue of its own (every frame);
 *                     the child's exit releases only its own file.
 *   dup_close_orders  three descriptors of one file closed in each of the
 *                     six orders: the queue reads until the last close,
 *                     which alone counts the unread frames.
 */
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lib.h"
#include "harness.h"

#define PORT		6001
#define PLEN		64
#define FLEN		UDP_FRAME(PLEN)		/* Ethernet bytes per frame */
#define RLEN		(ETHERTAP_PAD + FLEN)	/* bytes per read() */
#define SEQ_OFF		(ETHERTAP_PAD + ETH_HDR + IP_HDR + UDP_HDR)

FIXTURE(procs) {
	int sock;
	uint32_t seq;
	struct tap_stats before;
	struct tap_stats want;
};

FIXTURE_SETUP(procs)
{
	self->sock = -1;
	self->seq = 0;
	memset(&self->want, 0, sizeof(self->want));
	REQUIRE_TAPS(return, 1);
	ASSERT_EQ(0, tap_setup_quick(0, 1000));
	self->sock = udp_socket(0, 0);
	ASSERT_LE(0, self->sock);
	ASSERT_EQ(0, tap_stats(0, &self->before));
}

FIXTURE_TEARDOWN(procs)
{
	if (self->sock >= 0)
		close(self->sock);
	tap_cleanup_quick(0);
}

/* Send @n datagrams through tap0, numbered from self->seq on. */
static int send_frames(int sock, uint32_t *seq, unsigned int n)
{
	uint8_t payload[PLEN] = {};
	unsigned int i;

	for (i = 0; i < n; i++) {
		memcpy(payload, seq, sizeof(*seq));
		if (udp_send_peer(sock, 0, PORT, payload, PLEN) != PLEN)
			return -1;
		(*seq)++;
	}
	return 0;
}

/* Read one frame from @fd: its number, -1 if none (EAGAIN), -2 if wrong. */
static long read_seq(int fd)
{
	uint8_t buf[2048];
	uint32_t seq;
	ssize_t r = read(fd, buf, sizeof(buf));

	if (r == -1 && errno == EAGAIN)
		return -1;
	if (r != RLEN)
		return -2;
	memcpy(&seq, buf + SEQ_OFF, sizeof(seq));
	return seq;
}

/* Read up to @n bytes from pipe @fd within @ms; how many came. */
static int pipe_wait(int fd, int n, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	int got = 0;

	while (got < n && poll(&p, 1, ms) == 1 && read(fd, &c, 1) == 1)
		got++;
	return got;
}

/* Expected counter moves since setup: frames queued (tx) and events. */
static void want_tx(struct tap_stats *w, uint64_t tx)
{
	w->v[S_TX_PACKETS] += tx;
	w->v[S_TX_BYTES] += tx * FLEN;
}

static void want_drop(struct tap_stats *w, int reason, uint64_t n)
{
	w->v[reason] += n;
	w->v[S_TX_DROPPED] += n;
}

TEST_F_TIMEOUT(procs, stopped_reader, 120)
{
	const unsigned int qlen = 8, first = 5, over = 3;
	int pfd[2], st, fd;
	pid_t pid;

	ASSERT_EQ(0, tap_setup_quick(0, qlen));
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint8_t buf[2048];

		close(pfd[0]);
		fd = tap_open(0, O_RDONLY);
		if (fd < 0 || write(pfd[1], "r", 1) != 1)
			_exit(1);
		while (read(fd, buf, sizeof(buf)) == RLEN)
			if (write(pfd[1], "f", 1) != 1)
				_exit(2);
		_exit(3);
	}
	close(pfd[1]);
	ASSERT_EQ(1, pipe_wait(pfd[0], 1, 5000));

	/* It reads the first frames as they come. */
	ASSERT_EQ(0, send_frames(self->sock, &self->seq, first));
	want_tx(&self->want, first);
	ASSERT_EQ(first, pipe_wait(pfd[0], first, 5000));
	ASSERT_EQ(0, wait_in_syscall(pid, SYS_read, 5000));

	/* Stopped, it reads nothing: the queue fills, then copies drop. */
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &st, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(st));
	ASSERT_EQ(0, send_frames(self->sock, &self->seq, qlen + over));
	want_tx(&self->want, qlen);
	want_drop(&self->want, E_TX_DROPPED_QUEUE_FULL, over);
	self->want.v[E_TX_READER_COPY_DROPPED] += over;
	EXPECT_EQ(0, tap_stats_check(0, &self->before, &self->want));
	EXPECT_EQ(0, pipe_wait(pfd[0], 1, 100));

	/* Continued, it reads exactly the queued frames, then blocks. */
	ASSERT_EQ(0, kill(pid, SIGCONT));
	EXPECT_EQ(qlen, pipe_wait(pfd[0], qlen, 5000));
	EXPECT_EQ(0, pipe_wait(pfd[0], 1, 200));
	ASSERT_EQ(0, wait_in_syscall(pid, SYS_read, 5000));

	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(pfd[0]);
	EXPECT_EQ(0, tap_stats_check(0, &self->before, &self->want));
}

TEST_F_TIMEOUT(procs, killed_mid_read, 120)
{
	int pfd[2], st, fd;
	uint8_t buf[2048];
	pid_t pid;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int held, blocked;

		close(pfd[0]);
		held = tap_open(0, O_RDONLY);
		if (held < 0 || write(pfd[1], "h", 1) != 1)
			_exit(1);
		/* Stopped, the parent sends 3 frames, which stay on @held. */
		if (kill(getpid(), SIGSTOP))
			_exit(3);
		blocked = tap_open(0, O_RDONLY);
		if (blocked < 0 || write(pfd[1], "b", 1) != 1)
			_exit(4);
		if (read(blocked, buf, sizeof(buf)) >= 0)
			_exit(5);
		_exit(6);	/* not reached: killed in read() */
	}
	close(pfd[1]);
	ASSERT_EQ(1, pipe_wait(pfd[0], 1, 5000));
	ASSERT_EQ(pid, waitpid(pid, &st, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(st));
	EXPECT_EQ(2, read_u64("/sys/module/netlink_dev/refcnt"));

	ASSERT_EQ(0, send_frames(self->sock, &self->seq, 3));
	want_tx(&self->want, 3);
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(1, pipe_wait(pfd[0], 1, 5000));
	ASSERT_EQ(0, wait_in_syscall(pid, SYS_read, 5000));
	EXPECT_EQ(4, read_u64("/sys/module/netlink_dev/refcnt"));

	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(pfd[0]);

	/* Both files released: 3 unread frames, no reference left. */
	self->want.v[E_TX_UNREAD_AT_CLOSE] += 3;
	EXPECT_EQ(0, tap_stats_check(0, &self->before, &self->want));
	EXPECT_EQ(0, read_u64("/sys/module/netlink_dev/refcnt"));

	/* The tap works on: no reader, then a new reader gets a frame. */
	ASSERT_EQ(0, send_frames(self->sock, &self->seq, 1));
	want_drop(&self->want, E_TX_DROPPED_NO_READER, 1);
	fd = tap_open(0, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_frames(self->sock, &self->seq, 1));
	want_tx(&self->want, 1);
	EXPECT_EQ(4, read_seq(fd));
	EXPECT_EQ(-1, read_seq(fd));
	close(fd);
	EXPECT_EQ(0, tap_stats_check(0, &self->before, &self->want));
}

TEST_F_TIMEOUT(procs, fork_shared_file, 120)
{
	int to_child[2], to_parent[2], st, shared;
	pid_t pid;

	shared = tap_open(0, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, shared);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long s;
		int own, i;

		own = tap_open(0, O_RDONLY | O_NONBLOCK);
		if (own < 0 || write(to_parent[1], "r", 1) != 1)
			_exit(1);
		if (pipe_wait(to_child[0], 1, 10000) != 1)
			_exit(2);
		/* The shared file: what the parent left, 2 to 5. */
		for (i = 2; i < 6; i++)
			if (read_seq(shared) != i)
				_exit(10 + i);
		if (read_seq(shared) != -1)
			_exit(3);
		/* Its own file: every frame, 0 to 5. */
		for (i = 0; i < 6; i++) {
			s = read_seq(own);
			if (s != i)
				_exit(20 + i);
		}
		if (read_seq(own) != -1)
			_exit(4);
		if (write(to_parent[1], "d", 1) != 1)
			_exit(5);
		/* Exit with frame 6 queued on both files, unread. */
		if (pipe_wait(to_child[0], 1, 10000) != 1)
			_exit(6);
		_exit(0);
	}
	ASSERT_EQ(1, pipe_wait(to_parent[0], 1, 5000));
	ASSERT_EQ(0, send_frames(self->sock, &self->seq, 6));
	want_tx(&self->want, 6);
	EXPECT_EQ(0, read_seq(shared));
	EXPECT_EQ(1, read_seq(shared));
	ASSERT_EQ(1, write(to_child[1], "g", 1));
	ASSERT_EQ(1, pipe_wait(to_parent[0], 1, 5000));
	ASSERT_EQ(0, send_frames(self->sock, &self->seq, 1));
	want_tx(&self->want, 1);
	ASSERT_EQ(1, write(to_child[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));

	/* The child's own file went with 1 unread; the shared one lives. */
	self->want.v[E_TX_UNREAD_AT_CLOSE] += 1;
	EXPECT_EQ(0, tap_stats_check(0, &self->before, &self->want));
	EXPECT_EQ(6, read_seq(shared));
	EXPECT_EQ(-1, read_seq(shared));
	close(shared);
	EXPECT_EQ(0, tap_stats_check(0, &self->before, &self->want));
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

TEST_F(procs, dup_close_orders)
{
	static const int order[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	unsigned int o;
	int fd[3];

	for (o = 0; o < 6; o++) {
		uint32_t first = self->seq;
		const int *k = order[o];

		fd[0] = tap_open(0, O_RDONLY | O_NONBLOCK);
		ASSERT_LE(0, fd[0]);
		fd[1] = dup(fd[0]);
		fd[2] = fcntl(fd[0], F_DUPFD_CLOEXEC, 0);
		ASSERT_LE(0, fd[1]);
		ASSERT_LE(0, fd[2]);
		ASSERT_EQ(0, send_frames(self->sock, &self->seq, 3));
		want_tx(&self->want, 3);

		/* One queue, read through any descriptor, until the last. */
		close(fd[k[0]]);
		EXPECT_EQ(first, read_seq(fd[k[1]]));
		close(fd[k[1]]);
		EXPECT_EQ(0, tap_stats_check(0, &self->before, &self->want))
			TH_LOG("order %d %d %d: counted before the last close",
			       k[0], k[1], k[2]);
		EXPECT_EQ(first + 1, read_seq(fd[k[2]]));
		close(fd[k[2]]);
		self->want.v[E_TX_UNREAD_AT_CLOSE] += 1;

		/* Gone with the last: no reader now. */
		ASSERT_EQ(0, send_frames(self->sock, &self->seq, 1));
		want_drop(&self->want, E_TX_DROPPED_NO_READER, 1);
		EXPECT_EQ(0, tap_stats_check(0, &self->before, &self->want))
			TH_LOG("order %d %d %d", k[0], k[1], k[2]);
	}
}

TEST_HARNESS_MAIN
