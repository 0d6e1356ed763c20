// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap-dump: print the frames an ethertap interface transmits, one
 * line each.
 *
 *	ethertap-dump [-d /dev/tapN] [-c COUNT] [-x]
 *	ethertap-dump -n N [-c COUNT] [-x]
 *	ethertap-dump -r FILE [-c COUNT] [-x]
 *
 * Live, every read() of /dev/tapN returns one frame (ETHERTAP_PAD zero
 * bytes, then the Ethernet frame), so frame boundaries come for free.  A
 * file made with "cat /dev/tapN > FILE" holds the same frames back to back
 * with nothing in between; -r FILE ("-" for standard input) splits it again
 * using the lengths in the frames' own headers (IPv4, IPv6, ARP, behind any
 * VLAN tags), and stops at the first frame whose length it cannot tell.
 * -n N listens to tapN through the raw netlink interface instead (module
 * ethertap_netlink, CAP_NET_ADMIN): it joins the tap's multicast group and
 * takes frames in batches with recvmmsg(); there the padding holds N.
 *
 * Each line shows the length of the Ethernet frame (without the padding),
 * source > destination MAC, the EtherType and, for IPv4, the addresses and
 * protocol (ICMP type, UDP and TCP ports).  -x adds a hex dump of the bytes
 * as read, padding included.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "../ethertap.h"

#define ETH_HDR_LEN	14
#define VLAN_TAG_LEN	4
#define BUF_SIZE	(ETHERTAP_PAD + 18 + ETHERTAP_MAX_MTU + 64)
#define BATCH		32

static const char *prog = "ethertap-dump";
static bool hexdump;
static bool from_netlink;	/* the padding names the tap */

static unsigned int get16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static const char *ethertype_name(unsigned int type)
{
	switch (type) {
	case 0x0800: return "IPv4";
	case 0x0806: return "ARP";
	case 0x86dd: return "IPv6";
	case 0x8100: return "VLAN";
	case 0x88a8: return "QinQ";
	default: return NULL;
	}
}

static const char *icmp_name(unsigned int type)
{
	switch (type) {
	case 0: return "echo reply";
	case 3: return "unreachable";
	case 5: return "redirect";
	case 8: return "echo request";
	case 11: return "time exceeded";
	default: return NULL;
	}
}

static void print_mac(const uint8_t *m)
{
	printf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
	       m[5]);
}

static void print_ipv4(const uint8_t *ip, size_t len)
{
	size_t ihl, tot, plen;
	const uint8_t *l4;

	if (len < 20 || (ip[0] >> 4) != 4) {
		printf(" [truncated or bad IPv4 header]");
		return;
	}
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	tot = get16(ip + 2);
	printf(" %u.%u.%u.%u > %u.%u.%u.%u ttl %u", ip[12], ip[13], ip[14],
	       ip[15], ip[16], ip[17], ip[18], ip[19], ip[8]);
	if (ihl < 20 || ihl > len || tot < ihl) {
		printf(" [bad IPv4 header]");
		return;
	}
	if (tot > len)
		printf(" [%zu of %zu bytes]", len, tot);
	else
		len = tot;
	if (get16(ip + 6) & 0x1fff) {
		printf(" proto %u fragment offset %u", ip[9],
		       (get16(ip + 6) & 0x1fff) * 8);
		return;
	}
	l4 = ip + ihl;
	plen = len - ihl;
	switch (ip[9]) {
	case 1:
		printf(" ICMP");
		if (plen < 8) {
			printf(" [truncated]");
		} else if (icmp_name(l4[0])) {
			printf(" %s", icmp_name(l4[0]));
			if (l4[0] == 0 || l4[0] == 8)
				printf(" id %u seq %u", get16(l4 + 4),
				       get16(l4 + 6));
		} else {
			printf(" type %u code %u", l4[0], l4[1]);
		}
		break;
	case 6:
		printf(" TCP");
		if (plen < 20) {
			printf(" [truncated]");
		} else {
			static const char flags[] = "FSRPAU";
			int i;

			printf(" %u > %u [", get16(l4), get16(l4 + 2));
			for (i = 0; i < 6; i++)
				if (l4[13] & (1 << i))
					putchar(flags[i]);
			printf("]");
		}
		break;
	case 17:
		printf(" UDP");
		if (plen < 8)
			printf(" [truncated]");
		else
			printf(" %u > %u len %u", get16(l4), get16(l4 + 2),
			       get16(l4 + 4));
		break;
	case 2:
		printf(" IGMP");
		break;
	default:
		printf(" proto %u", ip[9]);
	}
}

static void print_ipv6(const uint8_t *ip, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	if (len < 40 || (ip[0] >> 4) != 6) {
		printf(" [truncated or bad IPv6 header]");
		return;
	}
	inet_ntop(AF_INET6, ip + 8, s, sizeof(s));
	inet_ntop(AF_INET6, ip + 24, d, sizeof(d));
	printf(" %s > %s next header %u", s, d, ip[6]);
	if (ip[6] == 58 && len >= 41)
		printf(" (ICMPv6 type %u)", ip[40]);
}

static void print_arp(const uint8_t *a, size_t len)
{
	unsigned int op;

	if (len < 28 || get16(a) != 1 || get16(a + 2) != 0x0800 ||
	    a[4] != 6 || a[5] != 4) {
		printf(" [not Ethernet/IPv4 ARP or truncated]");
		return;
	}
	op = get16(a + 6);
	if (op == 1) {
		printf(" who-has %u.%u.%u.%u tell %u.%u.%u.%u", a[24], a[25],
		       a[26], a[27], a[14], a[15], a[16], a[17]);
	} else if (op == 2) {
		printf(" reply %u.%u.%u.%u is-at ", a[14], a[15], a[16],
		       a[17]);
		print_mac(a + 8);
	} else {
		printf(" op %u", op);
	}
}

static void print_hex(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 16 == 0)
			printf("\t0x%04zx:", i);
		printf("%s%02x", i % 2 ? "" : " ", p[i]);
		if (i % 16 == 15 || i + 1 == len)
			putchar('\n');
	}
}

/* One line for the @len bytes at @buf (padding included). */
static void print_frame(const uint8_t *buf, size_t len)
{
	const uint8_t *eth = buf + ETHERTAP_PAD;
	size_t flen, off = 12;
	unsigned int type;

	if (len < ETHERTAP_MIN_FRAME) {
		printf("%zu bytes: shorter than padding and Ethernet header\n",
		       len);
		if (hexdump)
			print_hex(buf, len);
		return;
	}
	flen = len - ETHERTAP_PAD;
	printf("%5zu ", flen);
	print_mac(eth + 6);
	printf(" > ");
	print_mac(eth);
	if (from_netlink)
		printf(" tap%u", get16(buf));
	else if (buf[0] || buf[1])
		printf(" [padding %02x %02x]", buf[0], buf[1]);

	type = get16(eth + off);
	while ((type == 0x8100 || type == 0x88a8) &&
	       off + 2 + VLAN_TAG_LEN <= flen) {
		printf(" %s %u", ethertype_name(type),
		       get16(eth + off + 2) & 0x0fff);
		off += VLAN_TAG_LEN;
		type = get16(eth + off);
	}
	off += 2;
	if (ethertype_name(type))
		printf(" %s", ethertype_name(type));
	else if (type < 0x0600)
		printf(" 802.3 length %u", type);
	else
		printf(" type 0x%04x", type);

	switch (type) {
	case 0x0800:
		print_ipv4(eth + off, flen - off);
		break;
	case 0x86dd:
		print_ipv6(eth + off, flen - off);
		break;
	case 0x0806:
		print_arp(eth + off, flen - off);
		break;
	}
	putchar('\n');
	if (hexdump)
		print_hex(buf, len);
}

/*
 * Length, padding included, of the frame starting at @p in a capture file
 * with @avail bytes left; 0 if the headers do not tell (or are cut short).
 */
static size_t frame_length(const uint8_t *p, size_t avail)
{
	size_t off = ETHERTAP_PAD + 12;
	unsigned int type;

	if (avail < ETHERTAP_MIN_FRAME)
		return 0;
	type = get16(p + off);
	while (type == 0x8100 || type == 0x88a8) {
		off += VLAN_TAG_LEN;
		if (off + 2 > avail)
			return 0;
		type = get16(p + off);
	}
	off += 2;
	switch (type) {
	case 0x0800:
		if (off + 20 > avail || (p[off] >> 4) != 4 ||
		    get16(p + off + 2) < 20)
			return 0;
		return off + get16(p + off + 2);
	case 0x86dd:
		if (off + 40 > avail || (p[off] >> 4) != 6)
			return 0;
		return off + 40 + get16(p + off + 4);
	case 0x0806:
		if (off + 8 > avail)
			return 0;
		return off + 8 + 2 * (p[off + 4] + p[off + 5]);
	default:
		return 0;
	}
}

static int dump_file(const char *path, unsigned long count)
{
	size_t size = 0, cap = 0, off = 0, len;
	unsigned long frames = 0;
	uint8_t *data = NULL;
	int fd = 0;
	ssize_t n;

	if (strcmp(path, "-")) {
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, path,
				strerror(errno));
			return 1;
		}
	}
	for (;;) {
		if (size == cap) {
			cap = cap ? 2 * cap : 1 << 16;
			data = realloc(data, cap);
			if (!data) {
				fprintf(stderr, "%s: out of memory\n", prog);
				return 1;
			}
		}
		n = read(fd, data + size, cap - size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: read %s: %s\n", prog, path,
				strerror(errno));
			return 1;
		}
		if (!n)
			break;
		size += n;
	}

	while (off < size && (!count || frames < count)) {
		len = frame_length(data + off, size - off);
		if (!len || len > size - off) {
			fprintf(stderr, "%s: %s: cannot tell the length of the frame at offset %zu, stopping\n",
				prog, path, off);
			free(data);
			return 1;
		}
		print_frame(data + off, len);
		off += len;
		frames++;
	}
	free(data);
	return 0;
}

static int dump_dev(const char *dev, unsigned long count)
{
	static uint8_t buf[BUF_SIZE];
	unsigned long frames = 0;
	ssize_t n;
	int fd;

	fd = open(dev, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, dev, strerror(errno));
		return 1;
	}
	while (!count || frames < count) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: read %s: %s\n", prog, dev,
				strerror(errno));
			return 1;
		}
		if (!n) {
			fprintf(stderr, "%s: %s: end of file (tap gone)\n",
				prog, dev);
			return 1;
		}
		print_frame(buf, n);
		frames++;
	}
	close(fd);
	return 0;
}

static int dump_netlink(unsigned int tap, unsigned long count)
{
	static uint8_t bufs[BATCH][BUF_SIZE];
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	unsigned int group = ETHERTAP_NLGRP(tap);
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	unsigned long frames = 0;
	int fd, n, i;

	from_netlink = true;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, ETHERTAP_NETLINK);
	if (fd < 0) {
		fprintf(stderr, "%s: netlink protocol %d: %s (is ethertap_netlink loaded?)\n",
			prog, ETHERTAP_NETLINK, strerror(errno));
		return 1;
	}
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group,
		       sizeof(group))) {
		fprintf(stderr, "%s: joining tap%u's group: %s\n", prog, tap,
			strerror(errno));
		close(fd);
		return 1;
	}
	while (!count || frames < count) {
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = BUF_SIZE;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, mm, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			fprintf(stderr, "%s: frames lost, receive buffer full\n",
				prog);
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "%s: recvmmsg: %s\n", prog,
				strerror(errno));
			close(fd);
			return 1;
		}
		for (i = 0; i < n && (!count || frames < count); i++, frames++)
			print_frame(bufs[i], mm[i].msg_len);
	}
	close(fd);
	return 0;
}

static void print_help(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: %s [-d /dev/tapN | -n N | -r FILE] [-c COUNT] [-x]\n"
		"  -d DEV    read frames live from DEV (default /dev/tap0)\n"
		"  -n N      listen to tapN through netlink (ethertap_netlink)\n"
		"  -r FILE   read a capture made with 'cat /dev/tapN > FILE'\n"
		"            ('-' for standard input)\n"
		"  -c COUNT  stop after COUNT frames\n"
		"  -x        hex dump every frame, padding included\n",
		prog);
	exit(status);
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/tap0", *file = NULL;
	unsigned long count = 0, tap = 0;
	bool netlink = false;
	char *end;
	int opt;

	while ((opt = getopt(argc, argv, "d:n:r:c:xh")) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'n':
			errno = 0;
			tap = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || optarg[0] == '-' ||
			    tap >= ETHERTAP_MAX_TAPS) {
				fprintf(stderr, "%s: bad tap number '%s'\n",
					prog, optarg);
				return 2;
			}
			netlink = true;
			break;
		case 'r':
			file = optarg;
			break;
		case 'c':
			errno = 0;
			count = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || optarg[0] == '-' ||
			    !count) {
				fprintf(stderr, "%s: bad count '%s'\n", prog,
					optarg);
				return 2;
			}
			break;
		case 'x':
			hexdump = true;
			break;
		case 'h':
			print_help(0);
			break;
		default:
			print_help(2);
		}
	}
	if (optind != argc)
		print_help(2);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (file)
		return dump_file(file, count);
	return netlink ? dump_netlink(tap, count) : dump_dev(dev, count);
}
