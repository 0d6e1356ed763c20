// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: the modules themselves.  netlink_dev cannot go while a
 * /dev/tapN is open; max_taps decides which taps (and MACs, and minors)
 * exist.  These tests unload and reload the modules from $ETHERTAP_MODDIR
 * and leave them as selftests/run.sh loads them: ethertap max_taps=2 and
 * netlink_dev.
 */
#include <sys/sysmacros.h>

#include "lib.h"
#include "harness.h"

static const char *moddir(void)
{
	return getenv("ETHERTAP_MODDIR");
}

static int mod_loaded(const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return access(path, F_OK) == 0;
}

static int load(const char *name, const char *params)
{
	return run("insmod %s/%s.ko %s", moddir(), name, params);
}

static int unload_all(void)
{
	if (mod_loaded("ethertap_netlink") && run("rmmod ethertap_netlink"))
		return -1;
	if (mod_loaded("netlink_dev") && run("rmmod netlink_dev"))
		return -1;
	if (mod_loaded("ethertap") && run("rmmod ethertap"))
		return -1;
	return 0;
}

/* Back to what run.sh set up: ethertap max_taps=2, netlink_dev. */
static int restore(void)
{
	if (mod_loaded("ethertap") &&
	    read_u64("/sys/module/ethertap/parameters/max_taps") != 2 &&
	    unload_all())
		return -1;
	if (!mod_loaded("ethertap") && load("ethertap", "max_taps=2"))
		return -1;
	if (!mod_loaded("netlink_dev") && load("netlink_dev", ""))
		return -1;
	return 0;
}

static int count_taps(void)
{
	char out[64];

	if (run_output(out, sizeof(out),
		       "ls -d /sys/class/net/tap* 2>/dev/null | wc -l"))
		return -1;
	return atoi(out);
}

FIXTURE(mod) {
	int unused;
};

FIXTURE_SETUP(mod)
{
	if (geteuid())
		SKIP(return, "needs root");
	if (!moddir())
		SKIP(return, "needs ETHERTAP_MODDIR (run through run.sh)");
	if (!mod_loaded("ethertap") || !mod_loaded("netlink_dev"))
		SKIP(return, "needs the modules loaded");
}

FIXTURE_TEARDOWN(mod)
{
	if (moddir() && restore())
		fprintf(stderr, "# could not reload the modules\n");
}

/* rmmod netlink_dev is refused while a /dev/tapN is open. */
TEST_F(mod, rmmod_in_use)
{
	int fd, fd1;

	fd = tap_open(0, O_RDWR);
	ASSERT_LE(0, fd);
	fd1 = tap_open(1, O_RDONLY);
	ASSERT_LE(0, fd1);
	/* Each open file holds the module (twice: the cdev and its fops). */
	EXPECT_EQ(4, read_u64("/sys/module/netlink_dev/refcnt"));
	EXPECT_NE(0, run("rmmod netlink_dev 2>/dev/null"));
	EXPECT_TRUE(mod_loaded("netlink_dev"));
	/* ethertap is held by netlink_dev in any case. */
	EXPECT_NE(0, run("rmmod ethertap 2>/dev/null"));
	EXPECT_TRUE(mod_loaded("ethertap"));

	close(fd);
	EXPECT_EQ(2, read_u64("/sys/module/netlink_dev/refcnt"));
	EXPECT_NE(0, run("rmmod netlink_dev 2>/dev/null"));
	close(fd1);
	EXPECT_EQ(0, read_u64("/sys/module/netlink_dev/refcnt"));
	EXPECT_EQ(0, run("rmmod netlink_dev"));
	EXPECT_FALSE(mod_loaded("netlink_dev"));

	/* The node stays with the tap; without netlink_dev it cannot open
	 * (unless the kernel loads netlink_dev by itself for major 36).
	 */
	EXPECT_TRUE(tap_exists(0));
	fd = tap_open(0, O_RDWR);
	if (fd >= 0) {
		EXPECT_TRUE(mod_loaded("netlink_dev"));
		close(fd);
	} else {
		EXPECT_EQ(ENXIO, errno);
	}

	/* Both go once nothing is open. */
	EXPECT_EQ(0, unload_all());
	EXPECT_FALSE(mod_loaded("ethertap"));
	EXPECT_FALSE(tap_exists(0));
	EXPECT_NE(0, access("/dev/tap0", F_OK));
	ASSERT_EQ(0, restore());
	fd = tap_open(0, O_RDWR);
	EXPECT_LE(0, fd);
	close(fd);
}

/* max_taps=0: no taps, nothing to open; out of range values refused. */
TEST_F(mod, max_taps_bounds)
{
	char dir[] = "/tmp/ethertap.XXXXXX", path[64];
	int fd;

	ASSERT_EQ(0, unload_all());
	EXPECT_NE(0, load("ethertap", "max_taps=1025 2>/dev/null"));
	EXPECT_FALSE(mod_loaded("ethertap"));
	EXPECT_NE(0, load("ethertap", "max_taps=-1 2>/dev/null"));
	EXPECT_FALSE(mod_loaded("ethertap"));

	ASSERT_EQ(0, load("ethertap", "max_taps=0"));
	ASSERT_EQ(0, load("netlink_dev", ""));
	EXPECT_EQ(0, count_taps());
	EXPECT_NE(0, access("/dev/tap0", F_OK));
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tap0", dir);
	ASSERT_EQ(0, mknod(path, S_IFCHR | 0600,
			   makedev(ETHERTAP_MAJOR, ETHERTAP_MINOR_BASE)));
	errno = 0;
	fd = open(path, O_RDWR);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ENXIO, errno);
	if (fd >= 0)
		close(fd);
	unlink(path);
	rmdir(dir);

	/* The default is one tap. */
	ASSERT_EQ(0, unload_all());
	ASSERT_EQ(0, load("ethertap", ""));
	EXPECT_EQ(1, count_taps());
	EXPECT_TRUE(tap_exists(0));
}

/* Taps 256 and up: MAC FE:FD:00:00:N>>8:N&0xff, minor 16 + N. */
TEST_F_TIMEOUT(mod, many_taps, 300)
{
	static const unsigned int idx[] = { 255, 256, 257 };
	uint8_t buf[256], mac[6];
	struct stat sb;
	unsigned int i;
	char out[64], want[64], path[32];
	int fd, s;

	ASSERT_EQ(0, unload_all());
	ASSERT_EQ(0, load("ethertap", "max_taps=258"));
	ASSERT_EQ(0, load("netlink_dev", ""));
	EXPECT_EQ(258, count_taps());
	EXPECT_FALSE(tap_exists(258));

	for (i = 0; i < ARRAY_SIZE(idx); i++) {
		unsigned int n = idx[i];

		tap_mac(n, mac);
		snprintf(want, sizeof(want),
			 "%02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1],
			 mac[2], mac[3], mac[4], mac[5]);
		ASSERT_EQ(0, run_output(out, sizeof(out),
					"cat /sys/class/net/tap%u/address", n));
		EXPECT_STREQ(want, out);
		snprintf(path, sizeof(path), "/dev/tap%u", n);
		ASSERT_EQ(0, stat(path, &sb));
		EXPECT_TRUE(S_ISCHR(sb.st_mode));
		EXPECT_EQ(ETHERTAP_MAJOR, major(sb.st_rdev));
		EXPECT_EQ(ETHERTAP_MINOR_BASE + n, minor(sb.st_rdev));
	}
	EXPECT_STREQ("fe:fd:00:00:01:01\n", out);

	/* tap257 (10.99.257.1 does not parse: use tap1's subnet on it). */
	ASSERT_EQ(0, tap_no_ipv6(257));
	ASSERT_EQ(0, run("ip addr add 10.99.1.1/24 dev tap257"));
	ASSERT_EQ(0, run("ip link set tap257 up"));
	fd = tap_open(257, O_RDWR);
	ASSERT_LE(0, fd);
	s = udp_socket(1, 0);
	ASSERT_LE(0, s);
	ASSERT_EQ(3, udp_send_peer(s, 1, 5555, "abc", 3));
	ASSERT_EQ(ETHERTAP_PAD + UDP_FRAME(3),
		  tap_read_wait(fd, buf, sizeof(buf), 2000));
	EXPECT_EQ(0, memcmp(buf + 2, mac, 6));
	EXPECT_EQ(0, memcmp(buf + 8, mac, 6));
	EXPECT_EQ(0, memcmp(buf + ETHERTAP_PAD + ETH_HDR + IP_HDR + UDP_HDR,
			    "abc", 3));
	close(s);
	close(fd);
}

/*
 * All 1024 numbers in use: ip link add fails with ENOSPC and says why,
 * nothing is half created; a deleted number is handed out again.
 */
TEST_F_TIMEOUT(mod, all_numbers_used, 900)
{
	struct stat sb;
	char out[256];

	ASSERT_EQ(0, unload_all());
	ASSERT_EQ(0, load("ethertap", "max_taps=1024"));
	EXPECT_EQ(1024, count_taps());
	ASSERT_EQ(0, stat("/dev/tap1023", &sb));
	EXPECT_EQ(ETHERTAP_MINOR_BASE + 1023, minor(sb.st_rdev));

	EXPECT_NE(0, run_output(out, sizeof(out),
				"ip link add type ethertap 2>&1"));
	EXPECT_STREQ("Error: all 1024 tap numbers are in use.\n", out);
	EXPECT_NE(0, run("ip link add extra type ethertap 2>/dev/null"));
	EXPECT_EQ(1024, count_taps());
	EXPECT_NE(0, access("/sys/class/net/extra", F_OK));

	ASSERT_EQ(0, run("ip link del tap700"));
	EXPECT_EQ(1023, count_taps());
	ASSERT_EQ(0, run("ip link add type ethertap"));
	EXPECT_TRUE(tap_exists(700));
	EXPECT_EQ(0, access("/dev/tap700", F_OK));
	EXPECT_EQ(1024, count_taps());
}

TEST_HARNESS_MAIN
