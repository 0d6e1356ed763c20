/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ethertap: the user-space ABI.
 *
 * Programs include this header to talk to tapN devices; it needs nothing
 * beyond the kernel's uapi headers.  See Documentation/ethertap.rst.
 *
 * Each frame crosses the user/kernel boundary as
 *
 *	+------+------------------+------------------+-----------+---------+
 *	| 0  0 | destination (6)  | source (6)       | type (2)  | payload |
 *	+------+------------------+------------------+-----------+---------+
 *	  pad    the Ethernet frame, as on the wire without the FCS
 *
 * read() of /dev/tapN returns one such frame the interface transmitted;
 * write() takes one and delivers it to the stack as received on tapN.
 */
#ifndef _UAPI_ETHERTAP_H
#define _UAPI_ETHERTAP_H

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

/*
 * Character devices: /dev/tapN is (major 36, minor 16 + N), as in 2.2/2.4,
 * while macvtap has no node of that name; /dev/ethertap/tapN is always
 * there, with minor 16 + N of a dynamic major (sysfs names it).
 */
#define ETHERTAP_MAJOR		36
#define ETHERTAP_MINOR_BASE	16

/* Highest number of taps (N runs from 0 to ETHERTAP_MAX_TAPS - 1). */
#define ETHERTAP_MAX_TAPS	1024

/* Files open on one /dev/tapN at a time; one more open() gets EUSERS. */
#define ETHERTAP_MAX_OPENERS	256

/*
 * Bytes (skb truesize) the queues of all readers of one tap may hold, and
 * the share each reader is always allowed beyond that, so that idle readers
 * cannot starve the others: all readers of a tap together hold at most
 * twice ETHERTAP_QUEUE_BYTES, and each also at most txqueuelen frames.
 */
#define ETHERTAP_QUEUE_BYTES	(16 << 20)
#define ETHERTAP_READER_BYTES	(ETHERTAP_QUEUE_BYTES / ETHERTAP_MAX_OPENERS)

/* Bytes of zero padding in front of every frame read or written. */
#define ETHERTAP_PAD		2

/* Shortest write: padding and an Ethernet header (16 bytes). */
#define ETHERTAP_MIN_FRAME	(ETHERTAP_PAD + 14)

/*
 * ioctls of an open /dev/tapN besides SIOCGIFHWADDR: the file's flags,
 * an unsigned int.  Type 0xE7 is unassigned in the kernel's
 * Documentation/userspace-api/ioctl/ioctl-number.rst; TUN/TAP's ioctls
 * (type 'T') keep failing with ENOTTY.
 *
 * ETHERTAP_F_BATCH: the two bytes in front of each frame carry its length,
 * big-endian, instead of zeros; one read() returns as many whole frames as
 * fit, one write() takes several.  A length of 0 means "to the end of the
 * buffer" (a frame longer than 65535 bytes is read alone, with length 0).
 */
#define ETHERTAP_IOC_TYPE	0xE7
#define ETHERTAPSETFLAGS	_IOW(ETHERTAP_IOC_TYPE, 1, unsigned int)
#define ETHERTAPGETFLAGS	_IOR(ETHERTAP_IOC_TYPE, 2, unsigned int)
#define ETHERTAP_F_BATCH	0x0001

/*
 * ETHERTAP_F_VNET_HDR: a struct virtio_net_hdr (<linux/virtio_net.h>, 10
 * bytes, little-endian) sits between the two bytes and the frame, both
 * ways, as on TUN/TAP with IFF_VNET_HDR:
 *
 *	+------+-----------------+----------------+
 *	| 0  0 | virtio_net_hdr  | Ethernet frame |
 *	+------+-----------------+----------------+
 *
 * (in batch mode the two bytes hold the length of the header and the frame
 * together).  A frame written with it may be a GSO frame of up to 64 KB
 * and may leave its checksum to the kernel; a header the kernel cannot
 * take is refused with EINVAL.
 *
 * ETHERTAPSETOFFLOAD and ETHERTAPGETOFFLOAD: the offloads the file's reads
 * accept, an unsigned int of TUN/TAP's TUN_F_* bits (<linux/if_tun.h>):
 * TUN_F_CSUM (frames may leave their checksum to the reader,
 * VIRTIO_NET_HDR_F_NEEDS_CSUM), and with it TUN_F_TSO4, TUN_F_TSO6,
 * TUN_F_TSO_ECN, and TUN_F_USO4 and TUN_F_USO6 on kernels that have USO
 * (6.2 and later): frames up to 64 KB that the reader segments.  They take
 * effect while the file has ETHERTAP_F_VNET_HDR; a file without them
 * reads frames segmented and checksummed, whatever other files accept.
 */
#ifndef TUN_F_USO4	/* <linux/if_tun.h> before 6.2 */
#define TUN_F_USO4		0x20
#define TUN_F_USO6		0x40
#endif
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4	/* <linux/virtio_net.h> before 5.18 */
#define VIRTIO_NET_HDR_GSO_UDP_L4	5
#endif
#define ETHERTAPSETOFFLOAD	_IOW(ETHERTAP_IOC_TYPE, 3, unsigned int)
#define ETHERTAPGETOFFLOAD	_IOR(ETHERTAP_IOC_TYPE, 4, unsigned int)
#define ETHERTAP_F_VNET_HDR	0x0002
#define ETHERTAP_VNET_HDR_LEN	10

/*
 * The raw netlink interface (module ethertap_netlink): a socket
 * socket(AF_NETLINK, SOCK_RAW, ETHERTAP_NETLINK) that joins multicast group
 * ETHERTAP_NLGRP(N) (bind() with nl_groups = 1 << N for N < 32, or
 * setsockopt NETLINK_ADD_MEMBERSHIP) reads the frames tapN transmits; a
 * message sent to the kernel (nl_pid 0, nl_groups 0) is written to a tap.
 * The framing is the one above, except that the two bytes of padding carry
 * N, big-endian, both ways: tap0's frames are exactly 2.4's.  2.4 used
 * protocol 16 + N; 16 is NETLINK_GENERIC today, so one protocol serves
 * every tap.  Both directions need CAP_NET_ADMIN in the tap's namespace.
 *
 * With offloads: a socket that joins group ETHERTAP_NLGRP_VNET(N) (with
 * NETLINK_ADD_MEMBERSHIP) reads tapN's frames behind N | ETHERTAP_NL_VNET
 * and a struct virtio_net_hdr, as a file with ETHERTAP_F_VNET_HDR does:
 *
 *	+----------------+-----------------+----------------+
 *	| N | 0x8000 (2) | virtio_net_hdr  | Ethernet frame |
 *	+----------------+-----------------+----------------+
 *
 * Those listeners take every offload (TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6,
 * TUN_F_TSO_ECN, and TUN_F_USO4 and TUN_F_USO6 where the kernel has USO):
 * while one listens, tapN offers them to the stack, and its frames may be
 * GSO frames of up to 64 KB or leave their checksum to the listener.  The
 * listeners of ETHERTAP_NLGRP(N) read the same frames segmented and
 * checksummed.  A message sent to the kernel with ETHERTAP_NL_VNET set in
 * its first two bytes carries a virtio-net header before the frame, taken
 * as a write() with ETHERTAP_F_VNET_HDR takes it (a bad one: EINVAL).
 */
#define ETHERTAP_NETLINK	31
#define ETHERTAP_NLGRP(n)	((n) + 1)
#define ETHERTAP_NLGRP_VNET(n)	(ETHERTAP_MAX_TAPS + 1 + (n))
#define ETHERTAP_NL_VNET	0x8000

/* MTU range of a tapN interface (ip link set tapN mtu M). */
#define ETHERTAP_MIN_MTU	68
#define ETHERTAP_MAX_MTU	65535

/*
 * ARP mode (IFF_NOARP cleared): multicast groups the receive filter matches
 * exactly.  While more are joined, every multicast frame passes.
 */
#define ETHERTAP_MC_FILTER_SIZE	32

#endif /* _UAPI_ETHERTAP_H */
