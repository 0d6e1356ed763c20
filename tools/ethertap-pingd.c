// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap-pingd: answer IPv4 ICMP echo requests sent through an ethertap
 * interface, so that "ping 10.0.0.124" gets replies once the HOWTO's route
 * points that address at tap0.
 *
 *	ethertap-pingd [-d /dev/tapN] [-c COUNT] [-v]
 *
 * Each read() of /dev/tapN returns one frame the interface transmitted,
 * ETHERTAP_PAD zero bytes and then the Ethernet frame; each write() hands
 * one frame in the same form to the stack as received on tapN.  Everything
 * that is not a well-formed IPv4 ICMP echo request (ARP, IPv6, fragments,
 * other protocols, frames too short for what their headers claim) is
 * ignored.  With -c COUNT the program exits after sending COUNT replies.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ethertap.h"

#define ETH_ALEN_	6
#define ETH_HDR_LEN	14
#define ETHERTYPE_IPV4	0x0800
#define IPV4_MIN_HLEN	20
#define ICMP_HDR_LEN	8
#define ICMP_ECHO_REPLY	0
#define ICMP_ECHO_REQ	8
#define IP_PROTO_ICMP	1
#define IP_FRAG_MASK	0x3fff	/* MF flag and fragment offset */
#define REPLY_TTL	64

/* Room for the largest frame a tap can transmit, and then some. */
#define BUF_SIZE	(ETHERTAP_PAD + 18 + ETHERTAP_MAX_MTU + 64)

static const char *prog = "ethertap-pingd";
static bool verbose;

static unsigned int get16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/*
 * The Internet checksum (RFC 1071) of @len bytes at @p: the ones' complement
 * of the ones' complement sum of the big-endian 16-bit words, an odd last
 * byte counting as the high half of a word padded with zero.  Returns the
 * value to store in network order; over data that includes a correct
 * checksum field it returns 0.
 */
static unsigned int inet_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static void log_ip(const char *what, const uint8_t *ip, const uint8_t *icmp,
		   size_t icmp_len)
{
	if (!verbose)
		return;
	fprintf(stderr, "%s: %s %u.%u.%u.%u > %u.%u.%u.%u id %u seq %u, %zu bytes of ICMP\n",
		prog, what, ip[12], ip[13], ip[14], ip[15],
		ip[16], ip[17], ip[18], ip[19],
		get16(icmp + 4), get16(icmp + 6), icmp_len);
}

static void ignore(const char *why, unsigned int ethertype, size_t len)
{
	if (verbose)
		fprintf(stderr, "%s: ignored a %zu-byte frame (type 0x%04x): %s\n",
			prog, len, ethertype, why);
}

/*
 * Turn the frame of @len bytes in @buf (padding included) into an echo reply
 * in place.  Returns the length of the reply to write, or 0 to ignore the
 * frame.
 */
static size_t make_reply(uint8_t *buf, size_t len)
{
	uint8_t *eth = buf + ETHERTAP_PAD;
	uint8_t tmp[ETH_ALEN_];
	size_t avail, ihl, tot, icmp_len;
	unsigned int type;
	uint8_t *ip, *icmp;

	if (len < ETHERTAP_MIN_FRAME) {
		ignore("shorter than an Ethernet header", 0, len);
		return 0;
	}
	type = get16(eth + 12);
	if (type != ETHERTYPE_IPV4) {
		ignore(type == 0x0806 ? "ARP" : type == 0x86dd ? "IPv6" :
		       "not IPv4", type, len);
		return 0;
	}

	/* The IPv4 header: within the frame, consistent, not a fragment. */
	ip = eth + ETH_HDR_LEN;
	avail = len - ETHERTAP_PAD - ETH_HDR_LEN;
	if (avail < IPV4_MIN_HLEN) {
		ignore("truncated IPv4 header", type, len);
		return 0;
	}
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	tot = get16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < IPV4_MIN_HLEN || ihl > avail ||
	    tot < ihl || tot > avail) {
		ignore("malformed IPv4 header", type, len);
		return 0;
	}
	if (inet_csum(ip, ihl)) {
		ignore("bad IPv4 header checksum", type, len);
		return 0;
	}
	if (ip[9] != IP_PROTO_ICMP) {
		ignore("IPv4 but not ICMP", type, len);
		return 0;
	}
	if (get16(ip + 6) & IP_FRAG_MASK) {
		ignore("IPv4 fragment", type, len);
		return 0;
	}

	/* The ICMP message: the rest of the datagram, Ethernet padding aside. */
	icmp = ip + ihl;
	icmp_len = tot - ihl;
	if (icmp_len < ICMP_HDR_LEN) {
		ignore("truncated ICMP header", type, len);
		return 0;
	}
	if (icmp[0] != ICMP_ECHO_REQ || icmp[1] != 0) {
		ignore("ICMP but not an echo request", type, len);
		return 0;
	}
	if (inet_csum(icmp, icmp_len)) {
		ignore("bad ICMP checksum", type, len);
		return 0;
	}
	log_ip("echo request", ip, icmp, icmp_len);

	/* Ethernet: back to where it came from. */
	memcpy(tmp, eth, ETH_ALEN_);
	memcpy(eth, eth + ETH_ALEN_, ETH_ALEN_);
	memcpy(eth + ETH_ALEN_, tmp, ETH_ALEN_);

	/* IPv4: swap the addresses, fresh TTL, checksum recomputed. */
	memcpy(tmp, ip + 12, 4);
	memcpy(ip + 12, ip + 16, 4);
	memcpy(ip + 16, tmp, 4);
	ip[8] = REPLY_TTL;
	put16(ip + 10, 0);
	put16(ip + 10, inet_csum(ip, ihl));

	/* ICMP: an echo reply with the request's id, sequence and data. */
	icmp[0] = ICMP_ECHO_REPLY;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 2, inet_csum(icmp, icmp_len));

	/* Whatever followed the datagram (Ethernet padding) is not sent. */
	return ETHERTAP_PAD + ETH_HDR_LEN + tot;
}

static void print_help(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: %s [-d /dev/tapN] [-c COUNT] [-v]\n"
		"  -d DEV    ethertap device to serve (default /dev/tap0)\n"
		"  -c COUNT  exit after sending COUNT echo replies\n"
		"  -v        log every frame read and every reply sent\n",
		prog);
	exit(status);
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/tap0";
	unsigned long count = 0, replies = 0;
	static uint8_t buf[BUF_SIZE];
	char *end;
	int fd, opt;

	while ((opt = getopt(argc, argv, "d:c:vh")) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
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
		case 'v':
			verbose = true;
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

	fd = open(dev, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, dev, strerror(errno));
		return 1;
	}
	if (verbose)
		fprintf(stderr, "%s: answering pings on %s\n", prog, dev);

	while (!count || replies < count) {
		ssize_t n = read(fd, buf, sizeof(buf));
		size_t out;
		ssize_t w;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: read %s: %s\n", prog, dev,
				strerror(errno));
			return 1;
		}
		if (n == 0) {
			fprintf(stderr, "%s: %s: end of file (tap gone)\n",
				prog, dev);
			return 1;
		}
		out = make_reply(buf, n);
		if (!out)
			continue;
		w = write(fd, buf, out);
		if (w < 0) {
			fprintf(stderr, "%s: write %s: %s\n", prog, dev,
				strerror(errno));
			continue;
		}
		if ((size_t)w != out) {
			fprintf(stderr, "%s: short write to %s: %zd of %zu\n",
				prog, dev, w, out);
			continue;
		}
		replies++;
		if (verbose)
			fprintf(stderr, "%s: sent echo reply %lu (%zu bytes)\n",
				prog, replies, out);
	}
	close(fd);
	return 0;
}
