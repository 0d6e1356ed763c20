/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ethertap: what the parts of the module share.
 *
 *   ethertap.c     module ethertap: the tapN net_devices, their xmit path
 *                  (frames the interface sends, to the readers) and receive
 *                  path (frames user space writes, to the stack)
 *   netlink_dev.c  module netlink_dev: the character devices /dev/tapN
 *   ethertap_netlink.c  module ethertap_netlink: the raw netlink interface
 *   compat.h       differences between supported kernels
 */
#ifndef _ETHERTAP_DEV_H
#define _ETHERTAP_DEV_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/seqlock.h>
#include <linux/skbuff.h>
#include <linux/u64_stats_sync.h>
#include <linux/wait.h>
#include <net/gro_cells.h>

#include "compat.h"
#include "ethertap.h"

#define ETHERTAP_DRV_NAME	"ethertap"
/* ETHERTAP_DRV_VERSION: PACKAGE_VERSION of dkms.conf, passed by Kbuild */

/*
 * Event counters, one per reason a frame was discarded (and one for
 * truncated reads).  ethtool -S shows each; ethertap_get_stats64() folds
 * them into the standard counters as noted.
 */
enum ethertap_counter {
	ETHERTAP_TX_NO_READER,		/* tx_dropped: nobody had the tap open */
	ETHERTAP_TX_QUEUE_FULL,		/* tx_dropped: every reader was full */
	ETHERTAP_TX_NOMEM,		/* tx_dropped: no memory to keep it */
	ETHERTAP_TX_READER_FULL,	/* a copy lost: per reader or listener */
	ETHERTAP_TX_UNREAD,		/* queued, then the reader closed */
	ETHERTAP_TX_TRUNCATED,		/* read buffer shorter than the frame */
	ETHERTAP_TX_FAULT,		/* lost copying to a bad read buffer */
	ETHERTAP_TX_SEGMENT,		/* an offloaded frame not segmented */
	ETHERTAP_RX_TOO_SHORT,		/* rx_errors, rx_length_errors */
	ETHERTAP_RX_TOO_LONG,		/* rx_errors, rx_length_errors */
	ETHERTAP_RX_FAULT,		/* rx_errors: bad user buffer */
	ETHERTAP_RX_VNET_HDR,		/* rx_errors, rx_frame_errors: bad vnet header */
	ETHERTAP_RX_DOWN,		/* rx_dropped: interface down */
	ETHERTAP_RX_NOMEM,		/* rx_dropped: no memory for the frame */
	ETHERTAP_RX_OTHER_HOST,		/* rx_dropped: ARP mode, foreign unicast */
	ETHERTAP_RX_MCAST_FILTERED,	/* rx_dropped: ARP mode, group not joined */
	ETHERTAP_NR_COUNTERS
};

struct ethertap_stats {
	u64_stats_t rx_packets;
	u64_stats_t rx_bytes;
	u64_stats_t tx_packets;
	u64_stats_t tx_bytes;
	u64_stats_t events[ETHERTAP_NR_COUNTERS];
	struct u64_stats_sync syncp;
};

/*
 * The destination filter of ARP mode, kept as a NIC keeps its address
 * filter: ndo_set_rx_mode rewrites it under the device's addr_list_lock,
 * the receive path reads it under @seq.  Frames to the device's own
 * address and broadcast always pass; see ethertap_rx_wanted().
 */
struct ethertap_rx_filter {
	seqcount_spinlock_t seq;
	bool promisc;			/* every frame passes */
	bool allmulti;			/* every multicast frame passes */
	unsigned int count;		/* groups in @mc */
	u8 mc[ETHERTAP_MC_FILTER_SIZE][ETH_ALEN] __aligned(2);
};

/* The private part of a tapN net_device. */
struct ethertap {
	struct net_device *dev;
	struct ethertap_stats __percpu *stats;
	struct ethertap_rx_filter filter;
	struct list_head readers;	/* RCU; changed under ethertap_mutex */
	unsigned int nreaders;		/* in @readers (ethertap_mutex) */
	atomic_long_t queued;		/* truesize in all readers' queues */
	netdev_features_t offloads;	/* the readers', under RTNL */
	struct gro_cells gro;		/* for the frames of batch writes */
	struct device *node;		/* /dev/ethertap/tapN */
	struct device *legacy;		/* /dev/tapN; NULL if macvtap's */
	unsigned int index;		/* N: minor ETHERTAP_MINOR_BASE + N */
	bool registered;		/* owns its index */
};

/* One open /dev/tapN: its own queue of transmitted frames if it reads. */
struct ethertap_reader {
	struct ethertap __rcu *tap;	/* NULL once the tap is gone */
	struct sk_buff_head queue;	/* .lock also guards .closed, .bytes */
	unsigned int bytes;		/* truesize of the frames in @queue */
	wait_queue_head_t wait;
	struct list_head node;		/* in tap->readers */
	bool reads;			/* opened for reading: gets frames */
	unsigned int flags;		/* ETHERTAP_F_*, set by ioctl */
	unsigned int offloads;		/* TUN_F_* it reads, set by ioctl */
	bool closed;
	struct rcu_head rcu;
};

/* ethertap.c: exported to netlink_dev and ethertap_netlink */
dev_t ethertap_node_devt(void);	/* /dev/ethertap/tap0; tapN is + N */
void ethertap_count_n(struct ethertap *tap, enum ethertap_counter c,
		      unsigned int n);

static inline void ethertap_count(struct ethertap *tap,
				  enum ethertap_counter c)
{
	ethertap_count_n(tap, c, 1);
}

/*
 * The netlink listeners of a tap, by what they read: ETHERTAP_NLGRP(N)'s
 * frames alone, ETHERTAP_NLGRP_VNET(N)'s behind a virtio-net header, with
 * every offload of ETHERTAP_NL_OFFLOADS left to them.
 */
#define ETHERTAP_NL_PLAIN	0x1
#define ETHERTAP_NL_BOTH	(ETHERTAP_NL_PLAIN | ETHERTAP_NL_VNET)
#define ETHERTAP_NL_OFFLOADS	(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | \
				 TUN_F_TSO_ECN | ETHERTAP_TUN_F_USO)

/*
 * What ethertap_netlink adds to a tap.  xmit() offers each frame the tap
 * transmits (BHs off, under RCU) to the listeners @to selects
 * (ETHERTAP_NL_PLAIN, ETHERTAP_NL_VNET or both): to ETHERTAP_NL_PLAIN only
 * frames that leave no work to their reader (see ethertap_offloaded()), to
 * ETHERTAP_NL_VNET only frames a reader of ETHERTAP_NL_OFFLOADS takes.  It
 * counts in ETHERTAP_TX_READER_FULL each listener that was offered a copy
 * and lost it, and returns 1 if a listener took it, 0 if none was offered
 * it, -ENOBUFS if all that were lost it, or -ENOMEM if there was no memory
 * for the listeners' copy.
 */
struct ethertap_hooks {
	int (*xmit)(struct ethertap *tap, struct sk_buff *skb, unsigned int to);
	/* would xmit() offer it to a listener @to selects? */
	bool (*listens)(struct ethertap *tap, unsigned int to);
};

struct ethertap __rcu **ethertap_slot(unsigned int index);
void ethertap_set_hooks(const struct ethertap_hooks *hooks);
void ethertap_refresh_offloads(void);
int ethertap_reader_attach(struct ethertap_reader *r, unsigned int index);
void ethertap_reader_detach(struct ethertap_reader *r);
void ethertap_reader_count(struct ethertap_reader *r, enum ethertap_counter c);
void ethertap_reader_set_flags(struct ethertap_reader *r, unsigned int flags);
int ethertap_reader_set_offloads(struct ethertap_reader *r,
				 unsigned int offloads);
struct sk_buff *ethertap_reader_next(struct ethertap_reader *r, bool nonblock,
				     int *err);
struct sk_buff *ethertap_reader_take(struct ethertap_reader *r,
				     unsigned int max);
ssize_t ethertap_receive_iter(struct ethertap __rcu **tapp,
			      const struct net *net, struct iov_iter *from,
			      bool vnet);
ssize_t ethertap_receive_batch(struct ethertap __rcu **tapp,
			       struct iov_iter *from, bool vnet);
ssize_t ethertap_receive_skb(struct ethertap __rcu **tapp,
			     const struct net *net, struct sk_buff *from,
			     bool vnet);

#endif /* _ETHERTAP_DEV_H */
