// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap-pingd: answer IPv4 ICMP echo requests sent through an ethertap
 * interface, so that "ping 10.0.0.124" gets replies once the HOWTO's route
 * points that address at tap0.
 *
 *	ethertap-pingd [-d /dev/tapN] [-c COUNT] [-v]
 *	ethertap-pingd -a MAC [-4 ADDR] [-6 ADDR6] [-d /dev/tapN] [-c COUNT] [-v]
 *
 * Each read() of /dev/tapN returns one frame the interface transmitted,
 * ETHERTAP_PAD zero bytes and then the Ethernet frame; each write() hands
 * one frame in the same form to the stack as received on tapN.  Everything
 * that is not a well-formed IPv4 ICMP echo request (ARP, IPv6, fragments,
 * other protocols, frames too short for what their headers claim) is
 * ignored.  With -c COUNT the program exits after sending COUNT replies.
 *
 * With -a MAC it is a host of its own on the tap's link, for a tap in ARP
 * mode (ip link set tapN arp on): it answers ARP requests for ADDR, IPv6
 * neighbour solicitations for ADDR6, and ICMP and ICMPv6 echo requests
 * sent to MAC and one of its addresses, always from MAC.
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
#include <arpa/inet.h>

#include "../ethertap.h"

#define ETH_ALEN_	6
#define ETH_HDR_LEN	14
#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_ARP	0x0806
#define ETHERTYPE_IPV6	0x86dd
#define ARP_LEN		28	/* Ethernet/IPv4 ARP message */
#define ARP_REQUEST	1
#define ARP_REPLY	2
#define IPV6_HLEN	40
#define IP_PROTO_ICMPV6	58
#define ICMPV6_ECHO_REQ	128
#define ICMPV6_ECHO_REPLY 129
#define ND_NS		135	/* neighbour solicitation */
#define ND_NA		136	/* neighbour advertisement */
#define ND_MSG_LEN	24	/* NS/NA: header, flags, target */
#define ND_OPT_TLLA	2	/* target link-layer address option */
#define ND_NA_SOLICITED	0x40
#define ND_NA_OVERRIDE	0x20
#define ND_HOP_LIMIT	255
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

/* ARP mode (-a): our own MAC and the addresses we answer for. */
static bool arp_mode, have_ip4, have_ip6;
static uint8_t my_mac[ETH_ALEN_];
static uint8_t my_ip4[4];
static uint8_t my_ip6[16];

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
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static unsigned int csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static unsigned int inet_csum(const uint8_t *p, size_t len)
{
	return csum_fold(csum_add(0, p, len));
}

/*
 * The ICMPv6 checksum (RFC 8200 8.1) of the @len-byte message at @msg
 * carried in the IPv6 header at @ip6: the pseudo header (addresses, length,
 * next header) comes first.  0 over a message with a correct checksum.
 */
static unsigned int icmp6_csum(const uint8_t *ip6, const uint8_t *msg,
			       size_t len)
{
	uint32_t sum = csum_add(0, ip6 + 8, 32);

	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
	sum += IP_PROTO_ICMPV6;
	return csum_fold(csum_add(sum, msg, len));
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

static void note(const char *what)
{
	if (verbose)
		fprintf(stderr, "%s: %s\n", prog, what);
}

/* An Ethernet header from us to @dst at @eth. */
static void eth_from_us(uint8_t *eth, const uint8_t *dst)
{
	memmove(eth, dst, ETH_ALEN_);
	memcpy(eth + ETH_ALEN_, my_mac, ETH_ALEN_);
}

/*
 * ARP mode: turn an ARP request for our IPv4 address (frame of @len bytes
 * in @buf, padding included) into the reply in place.  Returns the length
 * to write, or 0 to ignore the frame.
 */
static size_t arp_reply(uint8_t *buf, size_t len)
{
	uint8_t *eth = buf + ETHERTAP_PAD, *arp = eth + ETH_HDR_LEN;
	size_t avail = len - ETHERTAP_PAD - ETH_HDR_LEN;

	if (avail < ARP_LEN) {
		ignore("truncated ARP", ETHERTYPE_ARP, len);
		return 0;
	}
	if (get16(arp) != 1 || get16(arp + 2) != ETHERTYPE_IPV4 ||
	    arp[4] != ETH_ALEN_ || arp[5] != 4) {
		ignore("ARP but not Ethernet/IPv4", ETHERTYPE_ARP, len);
		return 0;
	}
	if (get16(arp + 6) != ARP_REQUEST) {
		ignore("ARP but not a request", ETHERTYPE_ARP, len);
		return 0;
	}
	if (!have_ip4 || memcmp(arp + 24, my_ip4, 4)) {
		ignore("ARP request for another address", ETHERTYPE_ARP, len);
		return 0;
	}
	note("ARP request for our address");

	/* Target: the asker; sender: us. */
	memcpy(arp + 18, arp + 8, ETH_ALEN_ + 4);
	memcpy(arp + 8, my_mac, ETH_ALEN_);
	memcpy(arp + 14, my_ip4, 4);
	put16(arp + 6, ARP_REPLY);
	eth_from_us(eth, arp + 18);
	return ETHERTAP_PAD + ETH_HDR_LEN + ARP_LEN;
}

/*
 * ARP mode: answer the ICMPv6 message @icmp (@icmp_len bytes, checksum
 * verified) in the IPv6 header @ip6 of the frame at @eth, in place: a
 * neighbour solicitation for our address gets an advertisement, an echo
 * request to it a reply.  Returns the length of the ICMPv6 answer, or 0.
 * *@echo tells which.
 */
static size_t icmp6_answer(uint8_t *eth, uint8_t *ip6, uint8_t *icmp,
			   size_t icmp_len, bool *echo, size_t len)
{
	static const uint8_t unspecified[16];

	if (icmp[0] == ND_NS && icmp[1] == 0) {
		if (ip6[7] != ND_HOP_LIMIT || icmp_len < ND_MSG_LEN) {
			ignore("malformed neighbour solicitation",
			       ETHERTYPE_IPV6, len);
			return 0;
		}
		if (memcmp(icmp + 8, my_ip6, 16)) {
			ignore("neighbour solicitation for another address",
			       ETHERTYPE_IPV6, len);
			return 0;
		}
		if (!memcmp(ip6 + 8, unspecified, 16)) {
			ignore("duplicate address detection probe",
			       ETHERTYPE_IPV6, len);
			return 0;
		}
		note("neighbour solicitation for our address");
		/* An advertisement: solicited, override, our MAC. */
		icmp[0] = ND_NA;
		icmp[4] = ND_NA_SOLICITED | ND_NA_OVERRIDE;
		memset(icmp + 5, 0, 3);
		icmp[24] = ND_OPT_TLLA;
		icmp[25] = 1;		/* in units of 8 bytes */
		memcpy(icmp + 26, my_mac, ETH_ALEN_);
		ip6[7] = ND_HOP_LIMIT;
		*echo = false;
		return ND_MSG_LEN + 8;
	}
	if (icmp[0] == ICMPV6_ECHO_REQ && icmp[1] == 0) {
		if (memcmp(eth, my_mac, ETH_ALEN_) ||
		    memcmp(ip6 + 24, my_ip6, 16)) {
			ignore("ICMPv6 echo request not to us", ETHERTYPE_IPV6,
			       len);
			return 0;
		}
		note("ICMPv6 echo request to our address");
		icmp[0] = ICMPV6_ECHO_REPLY;
		ip6[7] = REPLY_TTL;
		*echo = true;
		return icmp_len;
	}
	ignore("ICMPv6 but neither an echo request nor a solicitation",
	       ETHERTYPE_IPV6, len);
	return 0;
}

/*
 * ARP mode: turn a frame of @len bytes in @buf (padding included) carrying
 * a neighbour solicitation or an echo request for our IPv6 address into
 * its answer, from our MAC and address, in place.  Returns the length to
 * write, or 0 to ignore the frame; *@echo: whether it is an echo reply.
 */
static size_t ipv6_reply(uint8_t *buf, size_t len, bool *echo)
{
	uint8_t *eth = buf + ETHERTAP_PAD, *ip6 = eth + ETH_HDR_LEN, *icmp;
	size_t avail = len - ETHERTAP_PAD - ETH_HDR_LEN, plen, out;

	if (!have_ip6) {
		ignore("IPv6 without an address of ours", ETHERTYPE_IPV6, len);
		return 0;
	}
	if (avail < IPV6_HLEN) {
		ignore("truncated IPv6 header", ETHERTYPE_IPV6, len);
		return 0;
	}
	plen = get16(ip6 + 4);
	if ((ip6[0] >> 4) != 6 || plen > avail - IPV6_HLEN) {
		ignore("malformed IPv6 header", ETHERTYPE_IPV6, len);
		return 0;
	}
	if (ip6[6] != IP_PROTO_ICMPV6) {
		ignore("IPv6 but not ICMPv6", ETHERTYPE_IPV6, len);
		return 0;
	}
	icmp = ip6 + IPV6_HLEN;
	if (plen < ICMP_HDR_LEN) {
		ignore("truncated ICMPv6 header", ETHERTYPE_IPV6, len);
		return 0;
	}
	if (icmp6_csum(ip6, icmp, plen)) {
		ignore("bad ICMPv6 checksum", ETHERTYPE_IPV6, len);
		return 0;
	}
	out = icmp6_answer(eth, ip6, icmp, plen, echo, len);
	if (!out)
		return 0;

	/* Back to the sender, from us. */
	eth_from_us(eth, eth + ETH_ALEN_);
	memcpy(ip6 + 24, ip6 + 8, 16);
	memcpy(ip6 + 8, my_ip6, 16);
	ip6[0] = 0x60;
	memset(ip6 + 1, 0, 3);		/* no traffic class or flow label */
	put16(ip6 + 4, out);
	put16(icmp + 2, 0);
	put16(icmp + 2, icmp6_csum(ip6, icmp, out));
	return ETHERTAP_PAD + ETH_HDR_LEN + IPV6_HLEN + out;
}

/*
 * Turn the frame of @len bytes in @buf (padding included) into an echo reply
 * (or in ARP mode an ARP reply or neighbour advertisement) in place.
 * Returns the length of the reply to write, or 0 to ignore the frame;
 * *@echo tells whether it is an echo reply.
 */
static size_t make_reply(uint8_t *buf, size_t len, bool *echo)
{
	uint8_t *eth = buf + ETHERTAP_PAD;
	uint8_t tmp[ETH_ALEN_];
	size_t avail, ihl, tot, icmp_len;
	unsigned int type;
	uint8_t *ip, *icmp;

	*echo = false;
	if (len < ETHERTAP_MIN_FRAME) {
		ignore("shorter than an Ethernet header", 0, len);
		return 0;
	}
	type = get16(eth + 12);
	if (arp_mode && type == ETHERTYPE_ARP)
		return arp_reply(buf, len);
	if (arp_mode && type == ETHERTYPE_IPV6)
		return ipv6_reply(buf, len, echo);
	if (type != ETHERTYPE_IPV4) {
		ignore(type == ETHERTYPE_ARP ? "ARP" :
		       type == ETHERTYPE_IPV6 ? "IPv6" : "not IPv4", type, len);
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
	if (arp_mode && (!have_ip4 || memcmp(eth, my_mac, ETH_ALEN_) ||
			 memcmp(ip + 16, my_ip4, 4))) {
		ignore("ICMP echo request not to us", type, len);
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
	*echo = true;

	/* Whatever followed the datagram (Ethernet padding) is not sent. */
	return ETHERTAP_PAD + ETH_HDR_LEN + tot;
}

static void print_help(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: %s [-d /dev/tapN] [-c COUNT] [-v]\n"
		"       %s -a MAC [-4 ADDR] [-6 ADDR6] [-d /dev/tapN] [-c COUNT] [-v]\n"
		"  -d DEV    ethertap device to serve (default /dev/tap0)\n"
		"  -c COUNT  exit after sending COUNT echo replies\n"
		"  -v        log every frame read and every reply sent\n"
		"  -a MAC    ARP mode, for a tap with ARP on: be a host with\n"
		"            Ethernet address MAC, answering only frames to it\n"
		"  -4 ADDR   with -a: answer ARP and ICMP echo for IPv4 ADDR\n"
		"  -6 ADDR6  with -a: answer neighbour solicitations and ICMPv6\n"
		"            echo for IPv6 ADDR6\n",
		prog, prog);
	exit(status);
}

/* A unicast MAC address "xx:xx:xx:xx:xx:xx" into my_mac; false if bad. */
static bool parse_mac(const char *s)
{
	unsigned int b[ETH_ALEN_];
	int i, end = 0;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2],
		   &b[3], &b[4], &b[5], &end) != ETH_ALEN_ || s[end])
		return false;
	for (i = 0; i < ETH_ALEN_; i++)
		my_mac[i] = b[i];
	/* Not multicast (nor broadcast), not all zero. */
	return !(my_mac[0] & 1) && (b[0] | b[1] | b[2] | b[3] | b[4] | b[5]);
}

static void bad_arg(const char *what, const char *arg)
{
	fprintf(stderr, "%s: bad %s '%s'\n", prog, what, arg);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/tap0";
	unsigned long count = 0, replies = 0;
	static uint8_t buf[BUF_SIZE];
	char *end;
	int fd, opt;

	while ((opt = getopt(argc, argv, "a:4:6:d:c:vh")) != -1) {
		switch (opt) {
		case 'a':
			if (!parse_mac(optarg))
				bad_arg("MAC address", optarg);
			arp_mode = true;
			break;
		case '4':
			if (inet_pton(AF_INET, optarg, my_ip4) != 1)
				bad_arg("IPv4 address", optarg);
			have_ip4 = true;
			break;
		case '6':
			if (inet_pton(AF_INET6, optarg, my_ip6) != 1)
				bad_arg("IPv6 address", optarg);
			have_ip6 = true;
			break;
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
	if (optind != argc || (!arp_mode && (have_ip4 || have_ip6)) ||
	    (arp_mode && !have_ip4 && !have_ip6))
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
		bool echo;
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
		out = make_reply(buf, n, &echo);
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
		if (!echo) {
			note("sent an address resolution answer");
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
