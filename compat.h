/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels ethertap builds on (5.10 to 7.x), kept in
 * this one place so that the driver itself reads as current kernel code.
 * Kbuild detects each feature in the target kernel's headers.
 */
#ifndef _ETHERTAP_COMPAT_H
#define _ETHERTAP_COMPAT_H

#include <linux/netdevice.h>
#include <linux/netlink.h>
#include <linux/skbuff.h>
#include <linux/uio.h>
#include <net/rtnetlink.h>
#include <net/sock.h>

/* 6.1 named the direction of an iov_iter by its role (5.10: WRITE). */
#ifndef ITER_SOURCE
#define ITER_SOURCE	WRITE
#endif

/* 5.18 gave clearing skb->tstamp a helper of its own. */
#ifndef ETHERTAP_HAVE_SKB_CLEAR_TSTAMP
static inline void skb_clear_tstamp(struct sk_buff *skb)
{
	skb->tstamp = 0;
}
#endif

/* 5.12 wrapped the socket's error callback in a helper. */
#ifndef ETHERTAP_HAVE_SK_ERROR_REPORT
static inline void sk_error_report(struct sock *sk)
{
	sk->sk_error_report(sk);
}
#endif

/*
 * The reasons ethertap names when it frees a frame it drops
 * (kfree_skb_reason(), shown by the skb:kfree_skb tracepoint, perf and
 * dropwatch): 6.1 has them all, 5.10 none; without, no reason is given.
 */
#ifndef ETHERTAP_HAVE_DROP_REASONS
#define SKB_DROP_REASON_NOMEM		0
#define SKB_DROP_REASON_FULL_RING	0
#define SKB_DROP_REASON_DEV_READY	0
#define SKB_DROP_REASON_OTHERHOST	0
#define SKB_DROP_REASON_PKT_TOO_BIG	0
#define SKB_DROP_REASON_SKB_UCOPY_FAULT	0
#define SKB_DROP_REASON_DEV_HDR		0
static inline void ethertap_kfree_skb_reason(struct sk_buff *skb, int reason)
{
	kfree_skb(skb);
}

#define kfree_skb_reason ethertap_kfree_skb_reason
#endif

/* 6.4 moved the GSO functions out of netdevice.h. */
#ifdef ETHERTAP_HAVE_NET_GSO_H
#include <net/gso.h>
#endif

/*
 * USO, the offload of UDP segmentation (TUN_F_USO4 and TUN_F_USO6, both
 * needed), came with 6.2; before, the virtio-net header cannot carry it.
 */
#ifdef ETHERTAP_HAVE_USO
#define ETHERTAP_TUN_F_USO	(TUN_F_USO4 | TUN_F_USO6)
#else
#define ETHERTAP_TUN_F_USO	0
#endif

/* 6.12 turned the NETIF_F_LLTX feature into the dev->lltx flag. */
static inline void ethertap_set_lltx(struct net_device *dev)
{
#ifdef ETHERTAP_HAVE_DEV_LLTX
	dev->lltx = true;
#else
	dev->features |= NETIF_F_LLTX;
#endif
}

/* 6.15 passed rtnl_link_ops::newlink() its arguments in a struct. */
#ifdef ETHERTAP_HAVE_NEWLINK_PARAMS
#define ETHERTAP_NEWLINK_ARGS struct net_device *dev,			\
			      struct rtnl_newlink_params *params,	\
			      struct netlink_ext_ack *extack
#else
#define ETHERTAP_NEWLINK_ARGS struct net *src_net, struct net_device *dev, \
			      struct nlattr *tb[], struct nlattr *data[],  \
			      struct netlink_ext_ack *extack
#endif

/*
 * 6.1 does not export netlink_broadcast_filtered(); there the
 * broadcast runs without the filter and ethertap_netlink judges by its
 * result.
 */
#ifndef ETHERTAP_HAVE_NETLINK_BROADCAST_FILTERED
static inline int
netlink_broadcast_filtered(struct sock *ssk, struct sk_buff *skb, u32 portid,
			   u32 group, gfp_t allocation,
			   int (*filter)(struct sock *dsk, struct sk_buff *skb,
					 void *data),
			   void *filter_data)
{
	return netlink_broadcast(ssk, skb, portid, group, allocation);
}
#endif

#endif /* _ETHERTAP_COMPAT_H */
