// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: Ethernet devices tapN whose frames user space reads and writes
 * through /dev/tapN, a modern reimplementation of the 2.2/2.4 driver.
 *
 * This module holds the tapN net_devices: their setup and lifetime, the
 * xmit path (frames the interface sends, queued for the readers), the
 * receive path (frames user space writes, handed to the stack), counters
 * and ethtool support.  The character devices that user space opens are
 * netlink_dev.c, a module of its own as in 2.4, built on the functions
 * exported here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/idr.h>
#include <linux/if_vlan.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/poll.h>
#include <linux/rculist.h>
#include <linux/rtnetlink.h>
#include <linux/sched/signal.h>
#include <linux/skbuff.h>
#include <linux/uio.h>
#include <linux/virtio_net.h>
#include <net/dst.h>
#include <net/gro_cells.h>
#include <net/netfilter/nf_conntrack.h>

#include "compat.h"
#include "ethertap_dev.h"

static int max_taps = 1;
module_param(max_taps, int, 0444);
MODULE_PARM_DESC(max_taps, "Number of tapN devices created at load (0 to "
		 __stringify(ETHERTAP_MAX_TAPS) ", default 1)");

/*
 * Guards changes to ethertap_table and to every tap's list of readers;
 * both are read under RCU.
 */
static DEFINE_MUTEX(ethertap_mutex);
static struct ethertap __rcu *ethertap_table[ETHERTAP_MAX_TAPS];
/* What the raw netlink interface (ethertap_netlink) adds, when loaded. */
static const struct ethertap_hooks __rcu *ethertap_hooks;
static DEFINE_IDA(ethertap_ida);
static struct rtnl_link_ops ethertap_link_ops;
static struct class ethertap_class = {
	.name = "ethertap",
};

/* The tap with index N; call with ethertap_mutex held. */
static struct ethertap *ethertap_lookup(unsigned int index)
{
	if (index >= ETHERTAP_MAX_TAPS)
		return NULL;
	return rcu_dereference_protected(ethertap_table[index],
					 lockdep_is_held(&ethertap_mutex));
}

/* The table slot of tap @index, to read under RCU; NULL if out of range. */
struct ethertap __rcu **ethertap_slot(unsigned int index)
{
	return index < ETHERTAP_MAX_TAPS ? &ethertap_table[index] : NULL;
}
EXPORT_SYMBOL_GPL(ethertap_slot);

/* Install @hooks, or remove them (NULL) and wait until no one uses them. */
void ethertap_set_hooks(const struct ethertap_hooks *hooks)
{
	rcu_assign_pointer(ethertap_hooks, hooks);
	if (!hooks)
		synchronize_net();
}
EXPORT_SYMBOL_GPL(ethertap_set_hooks);

/*
 * Counter updates.  Callers run with bottom halves disabled (the xmit path
 * always does; the others disable them around the update).
 */
void ethertap_count_n(struct ethertap *tap, enum ethertap_counter c,
		      unsigned int n)
{
	struct ethertap_stats *s = this_cpu_ptr(tap->stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_add(&s->events[c], n);
	u64_stats_update_end(&s->syncp);
}
EXPORT_SYMBOL_GPL(ethertap_count_n);

static void ethertap_count_rx(struct ethertap *tap, unsigned int bytes)
{
	struct ethertap_stats *s = this_cpu_ptr(tap->stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->rx_packets);
	u64_stats_add(&s->rx_bytes, bytes);
	u64_stats_update_end(&s->syncp);
}

static void ethertap_count_tx(struct ethertap *tap, unsigned int bytes)
{
	struct ethertap_stats *s = this_cpu_ptr(tap->stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->tx_packets);
	u64_stats_add(&s->tx_bytes, bytes);
	u64_stats_update_end(&s->syncp);
}

/* Sum of the per-CPU counters: packets/bytes in @base, events in @ev. */
static void ethertap_fold(struct ethertap *tap, u64 *base, u64 *ev)
{
	int cpu, i;

	memset(base, 0, 4 * sizeof(*base));
	memset(ev, 0, ETHERTAP_NR_COUNTERS * sizeof(*ev));
	for_each_possible_cpu(cpu) {
		const struct ethertap_stats *s = per_cpu_ptr(tap->stats, cpu);
		u64 b[4], e[ETHERTAP_NR_COUNTERS];
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			b[0] = u64_stats_read(&s->rx_packets);
			b[1] = u64_stats_read(&s->rx_bytes);
			b[2] = u64_stats_read(&s->tx_packets);
			b[3] = u64_stats_read(&s->tx_bytes);
			for (i = 0; i < ETHERTAP_NR_COUNTERS; i++)
				e[i] = u64_stats_read(&s->events[i]);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		for (i = 0; i < 4; i++)
			base[i] += b[i];
		for (i = 0; i < ETHERTAP_NR_COUNTERS; i++)
			ev[i] += e[i];
	}
}

static void ethertap_get_stats64(struct net_device *dev,
				 struct rtnl_link_stats64 *st)
{
	struct ethertap *tap = netdev_priv(dev);
	u64 b[4], ev[ETHERTAP_NR_COUNTERS];

	ethertap_fold(tap, b, ev);
	st->rx_packets = b[0];
	st->rx_bytes = b[1];
	st->tx_packets = b[2];
	st->tx_bytes = b[3];
	st->tx_dropped = ev[ETHERTAP_TX_NO_READER] +
			 ev[ETHERTAP_TX_QUEUE_FULL] + ev[ETHERTAP_TX_NOMEM];
	st->rx_length_errors = ev[ETHERTAP_RX_TOO_SHORT] +
			       ev[ETHERTAP_RX_TOO_LONG];
	st->rx_frame_errors = ev[ETHERTAP_RX_VNET_HDR];
	st->rx_errors = st->rx_length_errors + st->rx_frame_errors +
			ev[ETHERTAP_RX_FAULT];
	st->rx_dropped = ev[ETHERTAP_RX_DOWN] + ev[ETHERTAP_RX_NOMEM] +
			 ev[ETHERTAP_RX_OTHER_HOST] +
			 ev[ETHERTAP_RX_MCAST_FILTERED];
}

/*
 * The nodes of tap N, devices of class "ethertap" that devtmpfs or udev
 * makes, root's with mode 0600; netlink_dev serves both numbers.
 *
 *   /dev/ethertap/tapN  (ethertap_devt's major, 16 + N), device ethertap!tapN:
 *                       always there.
 *   /dev/tapN           (36, 16 + N) as in 2.4, device tapN: while no
 *                       macvtap or ipvtap device has ifindex N.  Those name
 *                       their nodes tap<ifindex> too, and devtmpfs keeps
 *                       the node made first and fails the other silently,
 *                       so tap N leaves the name to them and says so once.
 */
static dev_t ethertap_devt;

dev_t ethertap_node_devt(void)
{
	return ethertap_devt;
}
EXPORT_SYMBOL_GPL(ethertap_node_devt);

static bool ethertap_is_vtap(const struct net_device *dev)
{
	const char *kind = dev->rtnl_link_ops ? dev->rtnl_link_ops->kind : "";

	return !strcmp(kind, "macvtap") || !strcmp(kind, "ipvtap");
}

/* The macvtap or ipvtap device with ifindex @n in any namespace, or NULL. */
static struct net_device *ethertap_vtap_rcu(unsigned int n)
{
	struct net_device *dev;
	struct net *net;

	for_each_net_rcu(net) {
		dev = dev_get_by_index_rcu(net, n);
		if (dev && ethertap_is_vtap(dev))
			return dev;
	}
	return NULL;
}

static void ethertap_legacy_taken(struct ethertap *tap,
				  const struct net_device *vtap)
{
	pr_warn("%s: /dev/tap%u is %s's (%s, ifindex %d): use /dev/ethertap/tap%u\n",
		tap->dev->name, tap->index, vtap->name,
		vtap->rtnl_link_ops->kind, vtap->ifindex, tap->index);
}

static int ethertap_legacy_create(struct ethertap *tap)
{
	dev_t devt = MKDEV(ETHERTAP_MAJOR, ETHERTAP_MINOR_BASE + tap->index);
	struct device *d;

	d = device_create(&ethertap_class, NULL, devt, tap, "tap%u",
			  tap->index);
	if (IS_ERR(d))
		return PTR_ERR(d);
	tap->legacy = d;
	return 0;
}

/*
 * The tap is going away (ethertap_mutex held): every reader loses it,
 * its queued frames are discarded and counted, and sleepers wake up to
 * read end-of-file.
 */
static void ethertap_detach_all(struct ethertap *tap)
{
	struct ethertap_reader *r, *tmp;
	unsigned int unread;

	list_for_each_entry_safe(r, tmp, &tap->readers, node) {
		list_del_rcu(&r->node);
		tap->nreaders--;
		RCU_INIT_POINTER(r->tap, NULL);
		spin_lock_bh(&r->queue.lock);
		unread = skb_queue_len(&r->queue);
		__skb_queue_purge(&r->queue);
		atomic_long_sub(r->bytes, &tap->queued);
		WRITE_ONCE(r->bytes, 0);
		ethertap_count_n(tap, ETHERTAP_TX_UNREAD, unread);
		spin_unlock_bh(&r->queue.lock);
		wake_up_interruptible_poll(&r->wait,
					   EPOLLIN | EPOLLHUP | EPOLLERR);
		netdev_dbg(tap->dev, "reader %p cut off, %u frames unread\n",
			   r, unread);
	}
}

/* Under RTNL and ethertap_mutex. */
static int ethertap_node_create(struct ethertap *tap)
{
	dev_t devt = ethertap_devt + tap->index;
	struct net_device *vtap;
	int err = 0;

	tap->node = device_create(&ethertap_class, NULL, devt, tap,
				  "ethertap!tap%u", tap->index);
	if (IS_ERR(tap->node))
		return PTR_ERR(tap->node);
	rcu_read_lock();
	vtap = ethertap_vtap_rcu(tap->index);
	if (vtap)
		ethertap_legacy_taken(tap, vtap);
	rcu_read_unlock();
	if (!vtap)
		err = ethertap_legacy_create(tap);
	if (err)
		device_unregister(tap->node);
	return err;
}

static void ethertap_node_destroy(struct ethertap *tap)
{
	if (tap->legacy)
		device_unregister(tap->legacy);
	tap->legacy = NULL;
	device_unregister(tap->node);
}

/*
 * A macvtap or ipvtap device comes (@comes) or goes, under RTNL.  One that
 * comes with ifindex N takes /dev/tapN: tap N's node goes before macvtap's
 * own notifier makes its node.  Once the last such device of ifindex N
 * is gone (and its node with it), tap N has /dev/tapN again.
 */
static void ethertap_vtap_event(struct net_device *vtap, bool comes)
{
	struct ethertap *tap;
	bool taken;

	if (!ethertap_is_vtap(vtap))
		return;
	mutex_lock(&ethertap_mutex);
	tap = ethertap_lookup(vtap->ifindex);
	if (tap && comes && tap->legacy) {
		ethertap_legacy_taken(tap, vtap);
		device_unregister(tap->legacy);
		tap->legacy = NULL;
	} else if (tap && !comes && !tap->legacy) {
		rcu_read_lock();
		taken = ethertap_vtap_rcu(tap->index);
		rcu_read_unlock();
		if (!taken && !ethertap_legacy_create(tap))
			pr_info("%s: /dev/tap%u is this tap's again\n",
				tap->dev->name, tap->index);
	}
	mutex_unlock(&ethertap_mutex);
}

static void ethertap_update_offloads(struct ethertap *tap);

/*
 * A tap registered, or moved to another namespace (under RTNL): its
 * offloads are those of the vnet netlink listeners it has there.
 */
static void ethertap_tap_comes(struct net_device *dev)
{
	mutex_lock(&ethertap_mutex);
	ethertap_update_offloads(netdev_priv(dev));
	mutex_unlock(&ethertap_mutex);
}

static int ethertap_vtap_comes(struct notifier_block *nb,
			       unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (event == NETDEV_REGISTER && dev->rtnl_link_ops == &ethertap_link_ops)
		ethertap_tap_comes(dev);
	else if (event == NETDEV_REGISTER)
		ethertap_vtap_event(dev, true);
	return NOTIFY_DONE;
}

static int ethertap_vtap_goes(struct notifier_block *nb,
			      unsigned long event, void *ptr)
{
	if (event == NETDEV_UNREGISTER)
		ethertap_vtap_event(netdev_notifier_info_to_dev(ptr), false);
	return NOTIFY_DONE;
}

/* Before macvtap's notifier on register, after it on unregister. */
static struct notifier_block ethertap_vtap_first = {
	.notifier_call	= ethertap_vtap_comes,
	.priority	= INT_MAX,
};

static struct notifier_block ethertap_vtap_last = {
	.notifier_call	= ethertap_vtap_goes,
	.priority	= INT_MIN,
};

static netdev_features_t ethertap_tap_features(struct ethertap *tap);

static int ethertap_init(struct net_device *dev)
{
	struct ethertap *tap = netdev_priv(dev);
	int err;

	tap->stats = netdev_alloc_pcpu_stats(struct ethertap_stats);
	if (!tap->stats)
		return -ENOMEM;
	err = gro_cells_init(&tap->gro, dev);
	if (err)
		goto stats;
	seqcount_spinlock_init(&tap->filter.seq, &dev->addr_list_lock);

	mutex_lock(&ethertap_mutex);
	err = ethertap_node_create(tap);
	if (!err) {
		/* Vnet netlink listeners may be there before the tap. */
		tap->offloads = ethertap_tap_features(tap);
		rcu_assign_pointer(ethertap_table[tap->index], tap);
	}
	mutex_unlock(&ethertap_mutex);
	if (!err)
		return 0;
	/* register_netdevice() calls no destructor when init fails. */
	gro_cells_destroy(&tap->gro);
stats:
	free_percpu(tap->stats);
	tap->stats = NULL;
	return err;
}

/* Unregistering (under RTNL): readers see the tap go, its nodes go. */
static void ethertap_uninit(struct net_device *dev)
{
	struct ethertap *tap = netdev_priv(dev);

	mutex_lock(&ethertap_mutex);
	RCU_INIT_POINTER(ethertap_table[tap->index], NULL);
	ethertap_detach_all(tap);
	ethertap_node_destroy(tap);
	mutex_unlock(&ethertap_mutex);
}

static void ethertap_destructor(struct net_device *dev)
{
	struct ethertap *tap = netdev_priv(dev);

	/* After RCU: no receive path is in gro_cells_receive() any more. */
	gro_cells_destroy(&tap->gro);
	free_percpu(tap->stats);
	tap->stats = NULL;
	if (tap->registered)
		ida_free(&ethertap_ida, tap->index);
}

/*
 * The xmit path.  Every frame the interface transmits is handed to each
 * reader attached to the tap (each /dev/tapN open for reading) through the
 * reader's own queue, bounded by the interface's txqueuelen and by bytes
 * (ETHERTAP_QUEUE_BYTES for all readers of the tap, ETHERTAP_READER_BYTES
 * that each may hold whatever the others do), and to the netlink sockets
 * listening to the tap (ethertap_netlink).  A frame no one takes is
 * dropped and counted; a full queue never stalls the stack and never turns
 * into an error for the reader.
 */
/*
 * Whether @r, a reader of @tap, may queue a frame of truesize @size: under
 * its queue's lock, or without it to skip the copy for a reader that is
 * full (the answer may then be stale, at the cost of one copy).
 */
static bool ethertap_reader_room(struct ethertap *tap,
				 struct ethertap_reader *r,
				 unsigned int size, u32 limit)
{
	return !READ_ONCE(r->closed) &&
	       skb_queue_len_lockless(&r->queue) < limit &&
	       (READ_ONCE(r->bytes) + size <= ETHERTAP_READER_BYTES ||
		atomic_long_read(&tap->queued) + size <= ETHERTAP_QUEUE_BYTES);
}

/* Queue @skb on @r, a reader of @tap, unless it is full or leaving. */
static bool ethertap_reader_queue(struct ethertap *tap,
				  struct ethertap_reader *r,
				  struct sk_buff *skb, u32 limit)
{
	unsigned int size = skb->truesize;
	bool queued = false;

	spin_lock(&r->queue.lock);
	if (ethertap_reader_room(tap, r, size, limit)) {
		/* A queued frame may outlive the tap: it must not point at it. */
		skb->dev = NULL;
		__skb_queue_tail(&r->queue, skb);
		WRITE_ONCE(r->bytes, r->bytes + size);
		atomic_long_add(size, &tap->queued);
		queued = true;
	}
	spin_unlock(&r->queue.lock);
	if (queued && wq_has_sleeper(&r->wait))
		wake_up_interruptible_poll(&r->wait, EPOLLIN | EPOLLRDNORM);
	return queued;
}

/*
 * The segmentation offloads: the TUN_F_* bits a reader sets (all of them,
 * with TUN_F_CSUM), the device feature they turn on, the SKB_GSO_* type
 * of the frames the reader then takes whole.
 */
static const struct ethertap_gso {
	unsigned int tun;
	netdev_features_t feature;
	unsigned int gso;
} ethertap_gso[] = {
	{ TUN_F_TSO4,		NETIF_F_TSO,		SKB_GSO_TCPV4 },
	{ TUN_F_TSO6,		NETIF_F_TSO6,		SKB_GSO_TCPV6 },
	{ TUN_F_TSO_ECN,	NETIF_F_TSO_ECN,	SKB_GSO_TCP_ECN },
	/* 0 where the kernel has no USO (compat.h): never set. */
	{ ETHERTAP_TUN_F_USO,	NETIF_F_GSO_UDP_L4,	SKB_GSO_UDP_L4 },
};

/* Does @offloads hold the bits of segmentation offload @g? */
static bool ethertap_gso_on(const struct ethertap_gso *g,
			    unsigned int offloads)
{
	return g->tun && (offloads & g->tun) == g->tun;
}

/* The SKB_GSO_* types of frames a reader accepting @offloads takes whole. */
static unsigned int ethertap_gso_types(unsigned int offloads)
{
	/* Bits that change nothing for the reader that segments. */
	unsigned int types = SKB_GSO_DODGY | SKB_GSO_TCP_FIXEDID;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ethertap_gso); i++)
		if (ethertap_gso_on(&ethertap_gso[i], offloads))
			types |= ethertap_gso[i].gso;
	return types;
}

/* The offloads (TUN_F_*) @r accepts now: none without the vnet header. */
static unsigned int ethertap_reader_offloads(const struct ethertap_reader *r)
{
	if (!(READ_ONCE(r->flags) & ETHERTAP_F_VNET_HDR))
		return 0;
	return READ_ONCE(r->offloads);
}

/* Whether @skb leaves work to its reader: a checksum or a segmentation. */
static bool ethertap_offloaded(const struct sk_buff *skb)
{
	return skb->ip_summed == CHECKSUM_PARTIAL || skb_is_gso(skb);
}

/* Whether a reader accepting @offloads takes @skb as it is. */
static bool ethertap_takes(unsigned int offloads, const struct sk_buff *skb)
{
	if (skb->ip_summed == CHECKSUM_PARTIAL && !(offloads & TUN_F_CSUM))
		return false;
	return !skb_is_gso(skb) ||
	       !(skb_shinfo(skb)->gso_type & ~ethertap_gso_types(offloads));
}

/* Which readers of a tap a frame goes to. */
enum ethertap_to {
	ETHERTAP_TO_ALL,	/* a frame every reader takes */
	ETHERTAP_TO_TAKERS,	/* an offloaded frame: those that take it */
	ETHERTAP_TO_OTHERS,	/* its segments: those that do not */
};

static bool ethertap_reader_for(const struct ethertap_reader *r,
				const struct sk_buff *orig, enum ethertap_to to)
{
	if (!r->reads)
		return false;
	if (to == ETHERTAP_TO_ALL)
		return true;
	return ethertap_takes(ethertap_reader_offloads(r), orig) ==
	       (to == ETHERTAP_TO_TAKERS);
}

/* What handing one transmitted frame to the readers came to. */
struct ethertap_tx {
	u32 limit;		/* txqueuelen: frames per reader */
	bool delivered;		/* a reader or listener took it (or a part) */
	bool offered;		/* there was a reader for it */
	bool full;		/* a reader refused what it was left */
};

/*
 * Queue @skb on each reader of @tap that @to selects for @orig (the frame
 * as transmitted): a clone on every one but the last, @skb itself on the
 * last.  Returns @skb if no reader kept it, else NULL.
 */
static struct sk_buff *ethertap_fanout(struct ethertap *tap,
				       struct sk_buff *skb,
				       const struct sk_buff *orig,
				       enum ethertap_to to,
				       struct ethertap_tx *tx)
{
	struct ethertap_reader *r, *prev = NULL;
	struct sk_buff *copy;

	list_for_each_entry_rcu(r, &tap->readers, node) {
		if (!ethertap_reader_for(r, orig, to))
			continue;
		if (prev && !ethertap_reader_room(tap, prev, skb->truesize,
						  tx->limit)) {
			ethertap_count(tap, ETHERTAP_TX_READER_FULL);
		} else if (prev) {
			copy = skb_clone(skb, GFP_ATOMIC);
			if (copy &&
			    ethertap_reader_queue(tap, prev, copy, tx->limit)) {
				tx->delivered = true;
			} else {
				kfree_skb_reason(copy, SKB_DROP_REASON_FULL_RING);
				ethertap_count(tap, ETHERTAP_TX_READER_FULL);
			}
		}
		prev = r;
	}
	if (!prev)
		return skb;
	tx->offered = true;
	if (ethertap_reader_queue(tap, prev, skb, tx->limit)) {
		tx->delivered = true;
		return NULL;	/* the reader owns it now */
	}
	ethertap_count(tap, ETHERTAP_TX_READER_FULL);
	tx->full = true;
	return skb;
}

/*
 * @skb, an offloaded frame, as a reader without offloads takes it: its
 * segments if it is GSO, each with its checksum complete, as the stack
 * would have sent them to a device without offloads.  A list (@skb itself
 * is left alone), or an ERR_PTR.
 */
static struct sk_buff *ethertap_segment(struct sk_buff *skb)
{
	struct sk_buff *segs = NULL, *seg, *next;

	if (skb_is_gso(skb))
		segs = __skb_gso_segment(skb, NETIF_F_SG, true);
	if (IS_ERR(segs))
		return segs;
	if (!segs)
		segs = skb_clone(skb, GFP_ATOMIC);
	if (!segs)
		return ERR_PTR(-ENOMEM);
	for (seg = segs; seg; seg = seg->next) {
		if (seg->ip_summed == CHECKSUM_PARTIAL &&
		    skb_checksum_help(seg)) {
			skb_list_walk_safe(segs, seg, next)
				kfree_skb(seg);
			return ERR_PTR(-EINVAL);
		}
	}
	return segs;
}

/*
 * Free what is left of a frame (or segment) once the readers and the
 * netlink listeners (their verdict @nl) had it: consumed if one took it,
 * else dropped with the reason its counter tells.
 */
static void ethertap_release(struct sk_buff *skb, const struct ethertap_tx *tx,
			     int nl)
{
	if (tx->delivered && !tx->full)
		consume_skb(skb);
	else if (tx->delivered)
		kfree_skb_reason(skb, SKB_DROP_REASON_FULL_RING);
	else if (nl == -ENOMEM)
		kfree_skb_reason(skb, SKB_DROP_REASON_NOMEM);
	else if (tx->offered || nl == -ENOBUFS)
		kfree_skb_reason(skb, SKB_DROP_REASON_FULL_RING);
	else
		kfree_skb_reason(skb, SKB_DROP_REASON_DEV_READY);
}

/*
 * Hand @skb, a frame every reader takes (or a segment of @orig, the frame
 * it comes from), to the netlink listeners @nl_to selects and to the
 * readers @to selects; consumes it.  Returns the listeners' verdict (see
 * struct ethertap_hooks).
 */
static int ethertap_xmit_plain(struct ethertap *tap, struct sk_buff *skb,
			       const struct sk_buff *orig, enum ethertap_to to,
			       const struct ethertap_hooks *hooks,
			       unsigned int nl_to, struct ethertap_tx *tx)
{
	int nl = hooks ? hooks->xmit(tap, skb, nl_to) : 0;

	if (nl > 0)
		tx->delivered = true;
	skb = ethertap_fanout(tap, skb, orig, to, tx);
	if (skb)
		ethertap_release(skb, tx, nl);
	return nl;
}

/*
 * An offloaded frame: whole to the readers and the vnet listeners that
 * take it, segmented and checksummed to the others and to the plain
 * listeners, each segment counted as a frame of its own where a copy of it
 * is lost.  Returns the vnet listeners' verdict on the whole frame.
 */
static int ethertap_xmit_offloaded(struct ethertap *tap, struct sk_buff *skb,
				   const struct ethertap_hooks *hooks,
				   struct ethertap_tx *tx)
{
	bool vnet = ethertap_takes(ETHERTAP_NL_OFFLOADS, skb);
	unsigned int nl_to = vnet ? ETHERTAP_NL_PLAIN : ETHERTAP_NL_BOTH;
	struct ethertap_reader *r;
	struct sk_buff *segs, *seg, *next;
	bool others = hooks && hooks->listens(tap, nl_to);
	int nl = 0;

	list_for_each_entry_rcu(r, &tap->readers, node)
		others = others || ethertap_reader_for(r, skb, ETHERTAP_TO_OTHERS);
	if (others) {
		tx->offered = true;
		segs = ethertap_segment(skb);
		if (IS_ERR(segs)) {
			ethertap_count(tap, ETHERTAP_TX_SEGMENT);
			segs = NULL;
		}
		skb_list_walk_safe(segs, seg, next) {
			struct ethertap_tx one = { .limit = tx->limit };

			skb_mark_not_on_list(seg);
			if (ethertap_xmit_plain(tap, seg, skb, ETHERTAP_TO_OTHERS,
						hooks, nl_to, &one) == -ENOMEM)
				ethertap_count(tap, ETHERTAP_TX_READER_FULL);
			tx->delivered |= one.delivered;
		}
	}
	if (vnet && hooks)
		nl = hooks->xmit(tap, skb, ETHERTAP_NL_VNET);
	if (nl > 0)
		tx->delivered = true;
	skb = ethertap_fanout(tap, skb, skb, ETHERTAP_TO_TAKERS, tx);
	if (skb)
		ethertap_release(skb, tx, nl);
	return nl;
}

static netdev_tx_t ethertap_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct ethertap *tap = netdev_priv(dev);
	struct ethertap_tx tx = { .limit = READ_ONCE(dev->tx_queue_len) };
	const struct ethertap_hooks *hooks;
	unsigned int len = skb->len;
	int nl = 0;

	/* The software timestamp goes to the sender: before letting it go. */
	skb_tx_timestamp(skb);
	/* The frame may wait in a queue for long: let go of its sender. */
	if (unlikely(skb_orphan_frags_rx(skb, GFP_ATOMIC))) {
		ethertap_count(tap, ETHERTAP_TX_NOMEM);
		kfree_skb_reason(skb, SKB_DROP_REASON_NOMEM);
		return NETDEV_TX_OK;
	}
	skb_orphan(skb);
	skb_dst_drop(skb);
	nf_reset_ct(skb);

	rcu_read_lock();
	hooks = rcu_dereference(ethertap_hooks);
	if (ethertap_offloaded(skb))
		nl = ethertap_xmit_offloaded(tap, skb, hooks, &tx);
	else
		nl = ethertap_xmit_plain(tap, skb, skb, ETHERTAP_TO_ALL, hooks,
					 ETHERTAP_NL_BOTH, &tx);
	rcu_read_unlock();

	/* The frame is gone: where it went is counted once. */
	if (tx.delivered) {
		ethertap_count_tx(tap, len);
		/* A reader took it, the netlink listeners' copy was lost. */
		if (nl == -ENOMEM)
			ethertap_count(tap, ETHERTAP_TX_READER_FULL);
	} else if (nl == -ENOMEM) {
		ethertap_count(tap, ETHERTAP_TX_NOMEM);
	} else if (tx.offered || nl == -ENOBUFS) {
		ethertap_count(tap, ETHERTAP_TX_QUEUE_FULL);
	} else {
		ethertap_count(tap, ETHERTAP_TX_NO_READER);
	}
	return NETDEV_TX_OK;
}

/*
 * Attach @r to tap number @index: -ENXIO if there is no such tap, -EUSERS
 * if ETHERTAP_MAX_OPENERS files have it open already (which bounds the
 * copies each transmitted frame costs).
 */
int ethertap_reader_attach(struct ethertap_reader *r, unsigned int index)
{
	struct ethertap *tap;
	int err = 0;

	skb_queue_head_init(&r->queue);
	init_waitqueue_head(&r->wait);
	mutex_lock(&ethertap_mutex);
	tap = ethertap_lookup(index);
	if (!tap) {
		err = -ENXIO;
	} else if (tap->nreaders >= ETHERTAP_MAX_OPENERS) {
		err = -EUSERS;
	} else {
		tap->nreaders++;
		rcu_assign_pointer(r->tap, tap);
		list_add_tail_rcu(&r->node, &tap->readers);
		netdev_dbg(tap->dev, "reader %p attached\n", r);
	}
	mutex_unlock(&ethertap_mutex);
	return err;
}
EXPORT_SYMBOL_GPL(ethertap_reader_attach);

/*
 * The offloads of a tap: the device features that let the stack hand it
 * frames with their checksum or segmentation left undone, as its readers
 * take them.  While no reader takes any, the stack segments and
 * checksums every frame, as for a device without offloads.
 */
#define ETHERTAP_OFFLOAD_FEATURES	(NETIF_F_HW_CSUM | NETIF_F_TSO |	\
					 NETIF_F_TSO6 | NETIF_F_TSO_ECN |	\
					 NETIF_F_GSO_UDP_L4)

/* The device features for readers accepting @offloads (TUN_F_*). */
static netdev_features_t ethertap_features(unsigned int offloads)
{
	netdev_features_t f = NETIF_F_HW_CSUM;
	unsigned int i;

	if (!(offloads & TUN_F_CSUM))
		return 0;
	for (i = 0; i < ARRAY_SIZE(ethertap_gso); i++)
		if (ethertap_gso_on(&ethertap_gso[i], offloads))
			f |= ethertap_gso[i].feature;
	return f;
}

/* ndo_fix_features: an offload only while a reader takes it. */
static netdev_features_t ethertap_fix_features(struct net_device *dev,
					       netdev_features_t features)
{
	struct ethertap *tap = netdev_priv(dev);

	return features & (~ETHERTAP_OFFLOAD_FEATURES | tap->offloads);
}

/*
 * The offloads of @tap from those of its readers and of its vnet netlink
 * listeners, under ethertap_mutex.
 */
static netdev_features_t ethertap_tap_features(struct ethertap *tap)
{
	const struct ethertap_hooks *hooks;
	struct ethertap_reader *r;
	unsigned int all = 0;

	list_for_each_entry(r, &tap->readers, node)
		if (r->reads)
			all |= ethertap_reader_offloads(r);
	rcu_read_lock();
	hooks = rcu_dereference(ethertap_hooks);
	if (hooks && hooks->listens(tap, ETHERTAP_NL_VNET))
		all |= ETHERTAP_NL_OFFLOADS;
	rcu_read_unlock();
	return ethertap_features(all);
}

/*
 * The offloads of @tap, under RTNL and ethertap_mutex.  Until the stack
 * sees the new features, a frame it sends with an offload no reader takes
 * is segmented here.
 */
static void ethertap_update_offloads(struct ethertap *tap)
{
	netdev_features_t f = ethertap_tap_features(tap);

	if (f != tap->offloads) {
		tap->offloads = f;
		netdev_update_features(tap->dev);
	}
}

/* Set @field of @r (flags or offloads), then its tap's offloads. */
static void ethertap_reader_update(struct ethertap_reader *r,
				   unsigned int *field, unsigned int value)
{
	struct ethertap *tap;

	rtnl_lock();
	mutex_lock(&ethertap_mutex);
	WRITE_ONCE(*field, value);
	tap = rcu_dereference_protected(r->tap,
					lockdep_is_held(&ethertap_mutex));
	if (tap)
		ethertap_update_offloads(tap);
	mutex_unlock(&ethertap_mutex);
	rtnl_unlock();
}

/* The ETHERTAP_F_* flags of @r, checked by the caller. */
void ethertap_reader_set_flags(struct ethertap_reader *r, unsigned int flags)
{
	ethertap_reader_update(r, &r->flags, flags);
}
EXPORT_SYMBOL_GPL(ethertap_reader_set_flags);

/*
 * The offloads @r takes (TUN_F_*, in effect with ETHERTAP_F_VNET_HDR):
 * -EINVAL for a bit this kernel cannot offer, or a segmentation without
 * TUN_F_CSUM, as TUN/TAP's TUNSETOFFLOAD.
 */
int ethertap_reader_set_offloads(struct ethertap_reader *r,
				 unsigned int offloads)
{
	unsigned int tso = TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

	if (offloads & ~(TUN_F_CSUM | tso | ETHERTAP_TUN_F_USO))
		return -EINVAL;
	if (offloads && !(offloads & TUN_F_CSUM))
		return -EINVAL;
	ethertap_reader_update(r, &r->offloads, offloads);
	return 0;
}
EXPORT_SYMBOL_GPL(ethertap_reader_set_offloads);

/*
 * The offloads of every tap again, after vnet netlink listeners came or
 * went, or the hooks changed.
 */
void ethertap_refresh_offloads(void)
{
	struct ethertap *tap;
	unsigned int i;

	rtnl_lock();
	mutex_lock(&ethertap_mutex);
	for (i = 0; i < ETHERTAP_MAX_TAPS; i++) {
		tap = ethertap_lookup(i);
		if (tap)
			ethertap_update_offloads(tap);
	}
	mutex_unlock(&ethertap_mutex);
	rtnl_unlock();
}
EXPORT_SYMBOL_GPL(ethertap_refresh_offloads);

/* Count an event on the tap of @r, if it still exists. */
void ethertap_reader_count(struct ethertap_reader *r, enum ethertap_counter c)
{
	struct ethertap *tap;

	rcu_read_lock();
	tap = rcu_dereference(r->tap);
	if (tap) {
		local_bh_disable();
		ethertap_count(tap, c);
		local_bh_enable();
	}
	rcu_read_unlock();
}
EXPORT_SYMBOL_GPL(ethertap_reader_count);

/* The last close of @r: unread frames are counted and freed, then @r. */
void ethertap_reader_detach(struct ethertap_reader *r)
{
	struct ethertap *tap;
	unsigned int unread;
	bool offloads;

	spin_lock_bh(&r->queue.lock);
	WRITE_ONCE(r->closed, true);	/* @r->queue and @r->bytes stay */
	unread = skb_queue_len(&r->queue);
	spin_unlock_bh(&r->queue.lock);

	/* A reader taking offloads takes them away: RTNL to change them. */
	offloads = r->reads && ethertap_reader_offloads(r);
	if (offloads)
		rtnl_lock();
	mutex_lock(&ethertap_mutex);
	tap = rcu_dereference_protected(r->tap,
					lockdep_is_held(&ethertap_mutex));
	if (tap) {
		list_del_rcu(&r->node);
		tap->nreaders--;
		if (offloads)
			ethertap_update_offloads(tap);
		atomic_long_sub(r->bytes, &tap->queued);
		local_bh_disable();
		ethertap_count_n(tap, ETHERTAP_TX_UNREAD, unread);
		local_bh_enable();
		netdev_dbg(tap->dev, "reader %p detached, %u frames unread\n",
			   r, unread);
	}
	mutex_unlock(&ethertap_mutex);
	if (offloads)
		rtnl_unlock();

	skb_queue_purge(&r->queue);
	kfree_rcu(r, rcu);
}
EXPORT_SYMBOL_GPL(ethertap_reader_detach);

static bool ethertap_reader_ready(struct ethertap_reader *r)
{
	return !skb_queue_empty_lockless(&r->queue) ||
	       !rcu_access_pointer(r->tap);
}

/*
 * The next frame for @r, waiting for one unless @nonblock.  NULL with
 * *err = 0 once the tap is gone (end of file), -EAGAIN or -ERESTARTSYS.
 */
/*
 * The first frame queued on @r if it is at most @max bytes long, else NULL;
 * @gone is set if the tap is gone.
 */
static struct sk_buff *ethertap_reader_dequeue(struct ethertap_reader *r,
					       unsigned int max, bool *gone)
{
	struct sk_buff *skb = NULL;
	struct ethertap *tap;

	rcu_read_lock();
	tap = rcu_dereference(r->tap);
	*gone = !tap;
	if (tap) {
		/* Once @r->tap is NULL, its queue is empty (detach_all). */
		spin_lock_bh(&r->queue.lock);
		skb = skb_peek(&r->queue);
		if (skb && skb->len <= max) {
			__skb_unlink(skb, &r->queue);
			WRITE_ONCE(r->bytes, r->bytes - skb->truesize);
			atomic_long_sub(skb->truesize, &tap->queued);
		} else {
			skb = NULL;
		}
		spin_unlock_bh(&r->queue.lock);
	}
	rcu_read_unlock();
	return skb;
}

struct sk_buff *ethertap_reader_next(struct ethertap_reader *r, bool nonblock,
				     int *err)
{
	struct sk_buff *skb;
	bool gone;

	for (;;) {
		skb = ethertap_reader_dequeue(r, UINT_MAX, &gone);
		if (gone) {
			*err = 0;
			return NULL;
		}
		if (skb)
			return skb;
		if (nonblock) {
			*err = -EAGAIN;
			return NULL;
		}
		*err = wait_event_interruptible(r->wait, ethertap_reader_ready(r));
		if (*err)
			return NULL;
	}
}
EXPORT_SYMBOL_GPL(ethertap_reader_next);

/* The next frame for @r if one is queued and at most @max bytes long. */
struct sk_buff *ethertap_reader_take(struct ethertap_reader *r,
				     unsigned int max)
{
	bool gone;

	return ethertap_reader_dequeue(r, max, &gone);
}
EXPORT_SYMBOL_GPL(ethertap_reader_take);

/*
 * The receive path.  A frame user space writes (two bytes of padding, then
 * an Ethernet frame) is checked, copied into an skb and handed to the stack
 * as received on the tap.  A refused frame gets an errno for the writer and
 * a count on the tap, and changes nothing else.
 */
/*
 * The tap behind @tapp (under RCU), if it is in namespace @net or @net is
 * NULL: a netlink socket reaches only the taps of its own namespace.
 */
static struct ethertap *ethertap_deref(struct ethertap __rcu **tapp,
				       const struct net *net)
{
	struct ethertap *tap = rcu_dereference(*tapp);

	if (tap && net && !net_eq(dev_net(tap->dev), net))
		return NULL;
	return tap;
}

/*
 * Count @why on the tap behind @tapp (see ethertap_deref() for @net);
 * returns -ENXIO if it is gone, else @err.
 */
static ssize_t ethertap_refuse(struct ethertap __rcu **tapp,
			       const struct net *net,
			       enum ethertap_counter why, ssize_t err)
{
	struct ethertap *tap;

	rcu_read_lock();
	tap = ethertap_deref(tapp, net);
	if (tap) {
		local_bh_disable();
		ethertap_count(tap, why);
		local_bh_enable();
	} else {
		err = -ENXIO;
	}
	rcu_read_unlock();
	return err;
}

/* Longest Ethernet frame @dev accepts: MTU plus header (plus a VLAN tag). */
static unsigned int ethertap_max_frame(struct net_device *dev,
				       const struct sk_buff *skb)
{
	unsigned int max = READ_ONCE(dev->mtu) + ETH_HLEN;

	if (eth_type_vlan(eth_hdr(skb)->h_proto))
		max += VLAN_HLEN;
	return max;
}

/* Is @addr one of the multicast groups @f lists? */
static bool ethertap_mc_listed(const struct ethertap_rx_filter *f,
			       const u8 *addr)
{
	unsigned int i;

	for (i = 0; i < f->count; i++)
		if (ether_addr_equal(f->mc[i], addr))
			return true;
	return false;
}

/*
 * ARP mode: the tap receives as a NIC does, by destination.  With IFF_NOARP
 * (the default) every frame passes (ethertap_deliver() made each unicast
 * one PACKET_HOST).  Without it, a frame passes if it is
 * for the tap's own address or broadcast (eth_type_trans() told which in
 * skb->pkt_type), if the filter is promiscuous, or if it is multicast and
 * the filter takes every multicast frame or lists its group.
 */
static bool ethertap_rx_wanted(struct ethertap *tap, const struct sk_buff *skb)
{
	const struct ethertap_rx_filter *f = &tap->filter;
	const u8 *dest = eth_hdr(skb)->h_dest;
	unsigned int seq;
	bool ok;

	if (READ_ONCE(tap->dev->flags) & IFF_NOARP ||
	    skb->pkt_type == PACKET_HOST || skb->pkt_type == PACKET_BROADCAST)
		return true;
	do {
		seq = read_seqcount_begin(&f->seq);
		ok = f->promisc ||
		     (skb->pkt_type == PACKET_MULTICAST &&
		      (f->allmulti || ethertap_mc_listed(f, dest)));
	} while (read_seqcount_retry(&f->seq, seq));
	return ok;
}

/*
 * ndo_set_rx_mode, under the device's addr_list_lock: copy the flags and
 * multicast list into the filter, or take every multicast frame when the
 * list does not fit.
 */
static void ethertap_set_rx_mode(struct net_device *dev)
{
	struct ethertap *tap = netdev_priv(dev);
	struct ethertap_rx_filter *f = &tap->filter;
	struct netdev_hw_addr *ha;
	unsigned int n = 0;

	write_seqcount_begin(&f->seq);
	f->promisc = dev->flags & IFF_PROMISC;
	f->allmulti = dev->flags & IFF_ALLMULTI ||
		      netdev_mc_count(dev) > ETHERTAP_MC_FILTER_SIZE;
	if (!f->allmulti) {
		netdev_for_each_mc_addr(ha, dev)
			ether_addr_copy(f->mc[n++], ha->addr);
	}
	f->count = n;
	write_seqcount_end(&f->seq);
}

/*
 * Hand @skb, a frame of @len bytes, to the stack as received on @tap (or,
 * if @defer is not NULL, queue it there for ethertap_gro_flush()) unless
 * ARP mode drops it.  In NOARP mode a unicast frame is for this host
 * whatever its destination: no neighbour can have learnt the tap's
 * address, and 2.4, whose taps all had FE:FD:00:00:00:00, let programs
 * write that address to any tap.
 */
static void ethertap_deliver(struct ethertap *tap, struct sk_buff *skb,
			     unsigned int len, struct sk_buff_head *defer)
{
	skb->protocol = eth_type_trans(skb, tap->dev);
	if (skb->pkt_type == PACKET_OTHERHOST &&
	    READ_ONCE(tap->dev->flags) & IFF_NOARP)
		skb->pkt_type = PACKET_HOST;
	if (!ethertap_rx_wanted(tap, skb)) {
		ethertap_count(tap, skb->pkt_type == PACKET_OTHERHOST ?
				    ETHERTAP_RX_OTHER_HOST :
				    ETHERTAP_RX_MCAST_FILTERED);
		/* Either way the frame is not for this host. */
		kfree_skb_reason(skb, SKB_DROP_REASON_OTHERHOST);
		return;
	}
	ethertap_count_rx(tap, len);
	if (defer)
		__skb_queue_tail(defer, skb);
	else
		netif_receive_skb(skb);
}

/*
 * The checks on the length of a padded frame of @total bytes, @hlen of
 * them a virtio-net header.
 */
static ssize_t ethertap_check_len(struct ethertap __rcu **tapp,
				  const struct net *net, size_t total,
				  size_t hlen)
{
	if (total < ETHERTAP_MIN_FRAME + hlen)
		return ethertap_refuse(tapp, net, ETHERTAP_RX_TOO_SHORT, -EINVAL);
	if (total > ETHERTAP_PAD + hlen + VLAN_ETH_HLEN + ETHERTAP_MAX_MTU)
		return ethertap_refuse(tapp, net, ETHERTAP_RX_TOO_LONG, -EMSGSIZE);
	return 0;
}

/*
 * An skb of @len bytes for a written frame: in one piece up to about a
 * page, else the first page's worth there and the rest in order-0 pages,
 * as TUN/TAP does, so that no frame needs a high-order allocation.
 */
static struct sk_buff *ethertap_alloc_frame(size_t len)
{
	size_t linear = min_t(size_t, len,
			      SKB_MAX_HEAD(NET_SKB_PAD + NET_IP_ALIGN));
	struct sk_buff *skb;
	int err;

	if (linear == len) {
		skb = __netdev_alloc_skb_ip_align(NULL, len, GFP_KERNEL);
		if (skb)
			skb_put(skb, len);
		return skb;
	}
	skb = alloc_skb_with_frags(NET_SKB_PAD + NET_IP_ALIGN + linear,
				   len - linear, 0, &err, GFP_KERNEL);
	if (!skb)
		return NULL;
	skb_reserve(skb, NET_SKB_PAD + NET_IP_ALIGN);
	skb_put(skb, linear);
	skb->data_len = len - linear;
	skb->len = len;
	return skb;
}

/*
 * What the virtio-net header @hdr says of @skb, a frame of @len bytes
 * written with it: its checksum left to the kernel, its segmentation, as
 * TUN/TAP takes it.  The kernel's checks vary between versions; these
 * hold on all: a header length, checksum field or segmentation that
 * cannot be is refused.
 */
static int ethertap_vnet_to_skb(struct sk_buff *skb,
				const struct virtio_net_hdr *hdr, size_t len)
{
	u16 start = __virtio16_to_cpu(true, hdr->csum_start);
	u16 off = __virtio16_to_cpu(true, hdr->csum_offset);

	if (__virtio16_to_cpu(true, hdr->hdr_len) > len)
		return -EINVAL;
	if (hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM &&
	    (u32)start + off + sizeof(__sum16) > len)
		return -EINVAL;
	if (hdr->gso_type != VIRTIO_NET_HDR_GSO_NONE && !hdr->gso_size)
		return -EINVAL;
	return virtio_net_hdr_to_skb(skb, hdr, true);
}

/*
 * Deliver @skb, a frame (its padding pulled) written with the virtio-net
 * header @hdr (or none if it is NULL), on the tap behind @tapp unless the
 * checks that need the tap refuse it (to @defer, see ethertap_deliver());
 * consumes @skb.  Returns @ret or a negative errno.
 */
static ssize_t ethertap_receive(struct ethertap __rcu **tapp,
				const struct net *net, struct sk_buff *skb,
				const struct virtio_net_hdr *hdr,
				ssize_t ret, struct sk_buff_head *defer)
{
	struct ethertap *tap;
	unsigned int len;

	skb_reset_mac_header(skb);
	rcu_read_lock();
	tap = ethertap_deref(tapp, net);
	if (!tap) {
		rcu_read_unlock();
		kfree_skb_reason(skb, SKB_DROP_REASON_DEV_READY);
		return -ENXIO;
	}
	/*
	 * The kernel's conversion finds the headers of a GSO frame without
	 * a checksum offset from the device's header_ops, the protocol and
	 * the network header: all set first, as macvtap does.
	 */
	skb->dev = tap->dev;
	skb->protocol = eth_hdr(skb)->h_proto;
	skb_set_network_header(skb, ETH_HLEN);
	local_bh_disable();
	len = skb->len;
	if (hdr && ethertap_vnet_to_skb(skb, hdr, len)) {
		ethertap_count(tap, ETHERTAP_RX_VNET_HDR);
		kfree_skb_reason(skb, SKB_DROP_REASON_DEV_HDR);
		ret = -EINVAL;
	} else if (len > ethertap_max_frame(tap->dev, skb) &&
		   !skb_is_gso(skb)) {
		ethertap_count(tap, ETHERTAP_RX_TOO_LONG);
		kfree_skb_reason(skb, SKB_DROP_REASON_PKT_TOO_BIG);
		ret = -EMSGSIZE;
	} else if (!(READ_ONCE(tap->dev->flags) & IFF_UP)) {
		ethertap_count(tap, ETHERTAP_RX_DOWN);
		kfree_skb_reason(skb, SKB_DROP_REASON_DEV_READY);
		ret = -ENETDOWN;
	} else {
		ethertap_deliver(tap, skb, len, defer);
	}
	local_bh_enable();
	rcu_read_unlock();
	return ret;
}

/*
 * Take one padded frame from @from (with a virtio-net header after the
 * padding if @vnet) and deliver it on the tap behind @tapp (in namespace
 * @net unless it is NULL).  A frame ARP mode filters out is consumed,
 * counted and dropped, as a NIC drops what its address filter rejects.
 * Returns the bytes consumed (all of them) or a negative errno:
 *   -EINVAL    shorter than ETHERTAP_MIN_FRAME (and the header), or a
 *              virtio-net header the kernel cannot take
 *   -EMSGSIZE  longer than padding + header + MTU (+ VLAN tag), GSO aside
 *   -EFAULT    bad buffer
 *   -ENOMEM    no memory for the frame
 *   -ENETDOWN  the interface is down
 *   -ENXIO     the tap is gone (or is in another namespace than @net)
 */
static ssize_t __ethertap_receive_iter(struct ethertap __rcu **tapp,
				       const struct net *net,
				       struct iov_iter *from, bool vnet,
				       struct sk_buff_head *defer)
{
	size_t hlen = vnet ? ETHERTAP_VNET_HDR_LEN : 0;
	size_t total = iov_iter_count(from);
	struct virtio_net_hdr hdr;
	struct sk_buff *skb;
	ssize_t ret;
	size_t len;

	BUILD_BUG_ON(sizeof(hdr) != ETHERTAP_VNET_HDR_LEN);
	ret = ethertap_check_len(tapp, net, total, hlen);
	if (ret)
		return ret;

	iov_iter_advance(from, ETHERTAP_PAD);
	if (vnet && copy_from_iter(&hdr, hlen, from) != hlen)
		return ethertap_refuse(tapp, net, ETHERTAP_RX_FAULT, -EFAULT);
	len = total - ETHERTAP_PAD - hlen;
	skb = ethertap_alloc_frame(len);
	if (!skb)
		return ethertap_refuse(tapp, net, ETHERTAP_RX_NOMEM, -ENOMEM);
	if (skb_copy_datagram_from_iter(skb, 0, from, len)) {
		kfree_skb_reason(skb, SKB_DROP_REASON_SKB_UCOPY_FAULT);
		return ethertap_refuse(tapp, net, ETHERTAP_RX_FAULT, -EFAULT);
	}
	return ethertap_receive(tapp, net, skb, vnet ? &hdr : NULL, total,
				defer);
}

ssize_t ethertap_receive_iter(struct ethertap __rcu **tapp,
			      const struct net *net, struct iov_iter *from,
			      bool vnet)
{
	return __ethertap_receive_iter(tapp, net, from, vnet, NULL);
}
EXPORT_SYMBOL_GPL(ethertap_receive_iter);

/* Frames of a batch write handed to GRO at a time: a NAPI poll's worth. */
#define ETHERTAP_GRO_BATCH	64

/*
 * The frames a batch write took, through GRO: all at once with bottom
 * halves off, so that the tap's GRO cell sees them together and merges
 * the segments of a flow before the stack does anything else.  Frames for
 * a tap that went away meanwhile are freed (nothing left to count them on);
 * gro_cells_receive() drops, in the device's rx_dropped, those for a tap
 * gone down.
 */
static void ethertap_gro_flush(struct ethertap __rcu **tapp,
			       struct sk_buff_head *q)
{
	struct ethertap *tap;
	struct sk_buff *skb;

	if (skb_queue_empty(q))
		return;
	rcu_read_lock();
	tap = rcu_dereference(*tapp);
	local_bh_disable();
	while ((skb = __skb_dequeue(q))) {
		if (tap)
			gro_cells_receive(&tap->gro, skb);
		else
			kfree_skb_reason(skb, SKB_DROP_REASON_DEV_READY);
	}
	local_bh_enable();
	rcu_read_unlock();
}

/*
 * Several frames from @from, each behind two bytes holding its length
 * (big-endian; 0: the rest of @from), each taken as ethertap_receive_iter()
 * takes one, then handed to the stack through GRO, ETHERTAP_GRO_BATCH at a
 * time.  Returns the bytes of the frames taken before the first one
 * refused, or that frame's errno if it is the first; a length past the end
 * of @from is refused as too short (-EINVAL).
 */
ssize_t ethertap_receive_batch(struct ethertap __rcu **tapp,
			       struct iov_iter *from, bool vnet)
{
	size_t done = 0, left, len;
	struct sk_buff_head defer;
	struct iov_iter one;
	ssize_t ret = 0;
	__be16 slot;

	__skb_queue_head_init(&defer);

	while ((left = iov_iter_count(from))) {
		one = *from;
		len = left;
		if (left >= ETHERTAP_PAD &&
		    copy_from_iter(&slot, ETHERTAP_PAD, &one) == ETHERTAP_PAD &&
		    slot)
			len = ETHERTAP_PAD + be16_to_cpu(slot);
		if (len > left) {
			ret = ethertap_refuse(tapp, NULL, ETHERTAP_RX_TOO_SHORT,
					      -EINVAL);
		} else {
			one = *from;
			iov_iter_truncate(&one, len);
			ret = __ethertap_receive_iter(tapp, NULL, &one, vnet,
						      &defer);
		}
		if (ret < 0)
			break;
		iov_iter_advance(from, len);
		done += len;
		if (skb_queue_len(&defer) >= ETHERTAP_GRO_BATCH)
			ethertap_gro_flush(tapp, &defer);
	}
	ethertap_gro_flush(tapp, &defer);
	return done ? done : ret;
}
EXPORT_SYMBOL_GPL(ethertap_receive_batch);

/*
 * As ethertap_receive_iter(), for a padded frame that arrived in @from (a
 * netlink message, which its sender frees after this call), behind a
 * virtio-net header if @vnet: the stack gets a clone of @from that shares
 * its data, without the padding, so the frame is not copied again.  The
 * two bytes of padding leave the IP header aligned.  A vmalloc()ed message
 * (a large one) is copied instead: its data cannot outlive it; so is one
 * with a virtio-net header, whose offloads are written into the shared
 * info @from would share.  Returns the bytes consumed or a negative errno.
 */
ssize_t ethertap_receive_skb(struct ethertap __rcu **tapp,
			     const struct net *net, struct sk_buff *from,
			     bool vnet)
{
	struct sk_buff *skb;
	struct iov_iter iter;
	struct kvec kv;
	ssize_t ret;

	if (vnet || is_vmalloc_addr(from->head)) {
		kv.iov_base = from->data;
		kv.iov_len = from->len;
		iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, kv.iov_len);
		return ethertap_receive_iter(tapp, net, &iter, vnet);
	}
	ret = ethertap_check_len(tapp, net, from->len, 0);
	if (ret)
		return ret;
	skb = skb_clone(from, GFP_KERNEL);
	if (!skb)
		return ethertap_refuse(tapp, net, ETHERTAP_RX_NOMEM, -ENOMEM);
	memset(skb->cb, 0, sizeof(skb->cb));
	skb_clear_tstamp(skb);
	__skb_pull(skb, ETHERTAP_PAD);
	return ethertap_receive(tapp, net, skb, NULL, from->len, NULL);
}
EXPORT_SYMBOL_GPL(ethertap_receive_skb);

static const struct net_device_ops ethertap_netdev_ops = {
	.ndo_init		= ethertap_init,
	.ndo_uninit		= ethertap_uninit,
	.ndo_start_xmit		= ethertap_xmit,
	.ndo_get_stats64	= ethertap_get_stats64,
	.ndo_set_rx_mode	= ethertap_set_rx_mode,
	.ndo_fix_features	= ethertap_fix_features,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
};

static const char ethertap_counter_names[ETHERTAP_NR_COUNTERS][ETH_GSTRING_LEN] = {
	[ETHERTAP_TX_NO_READER]		= "tx_dropped_no_reader",
	[ETHERTAP_TX_QUEUE_FULL]	= "tx_dropped_queue_full",
	[ETHERTAP_TX_NOMEM]		= "tx_dropped_nomem",
	[ETHERTAP_TX_READER_FULL]	= "tx_reader_copy_dropped",
	[ETHERTAP_TX_UNREAD]		= "tx_unread_at_close",
	[ETHERTAP_TX_TRUNCATED]		= "tx_read_truncated",
	[ETHERTAP_TX_FAULT]		= "tx_read_fault",
	[ETHERTAP_TX_SEGMENT]		= "tx_dropped_segment",
	[ETHERTAP_RX_TOO_SHORT]		= "rx_error_too_short",
	[ETHERTAP_RX_TOO_LONG]		= "rx_error_too_long",
	[ETHERTAP_RX_FAULT]		= "rx_error_fault",
	[ETHERTAP_RX_VNET_HDR]		= "rx_error_vnet_hdr",
	[ETHERTAP_RX_DOWN]		= "rx_dropped_down",
	[ETHERTAP_RX_NOMEM]		= "rx_dropped_nomem",
	[ETHERTAP_RX_OTHER_HOST]	= "rx_dropped_other_host",
	[ETHERTAP_RX_MCAST_FILTERED]	= "rx_dropped_mcast_filtered",
};

static void ethertap_get_drvinfo(struct net_device *dev,
				 struct ethtool_drvinfo *info)
{
	strscpy(info->driver, ETHERTAP_DRV_NAME, sizeof(info->driver));
	strscpy(info->version, ETHERTAP_DRV_VERSION, sizeof(info->version));
	strscpy(info->bus_info, "virtual", sizeof(info->bus_info));
}

static int ethertap_get_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? ETHERTAP_NR_COUNTERS : -EOPNOTSUPP;
}

static void ethertap_get_strings(struct net_device *dev, u32 sset, u8 *data)
{
	if (sset == ETH_SS_STATS)
		memcpy(data, ethertap_counter_names,
		       sizeof(ethertap_counter_names));
}

static void ethertap_get_ethtool_stats(struct net_device *dev,
				       struct ethtool_stats *stats, u64 *data)
{
	u64 b[4];

	ethertap_fold(netdev_priv(dev), b, data);
}

static const struct ethtool_ops ethertap_ethtool_ops = {
	.get_drvinfo		= ethertap_get_drvinfo,
	.get_link		= ethtool_op_get_link,
	.get_sset_count		= ethertap_get_sset_count,
	.get_strings		= ethertap_get_strings,
	.get_ethtool_stats	= ethertap_get_ethtool_stats,
	.get_ts_info		= ethtool_op_get_ts_info,
};

static void ethertap_setup(struct net_device *dev)
{
	struct ethertap *tap = netdev_priv(dev);

	ether_setup(dev);
	tap->dev = dev;
	INIT_LIST_HEAD(&tap->readers);
	dev->netdev_ops = &ethertap_netdev_ops;
	dev->ethtool_ops = &ethertap_ethtool_ops;
	dev->needs_free_netdev = true;
	dev->priv_destructor = ethertap_destructor;
	/* As in 2.4: no ARP until asked for (ifconfig tapN arp). */
	dev->flags |= IFF_NOARP;
	/*
	 * Readers and listeners copy frames out with skb_copy_datagram_iter()
	 * and skb_copy_bits(), which walk fragments and frag lists: the stack
	 * need not linearize what it sends (ethtool -K can turn them off).
	 */
	dev->hw_features |= NETIF_F_SG | NETIF_F_FRAGLIST | NETIF_F_HIGHDMA;
	dev->features |= NETIF_F_SG | NETIF_F_FRAGLIST | NETIF_F_HIGHDMA;
	/*
	 * Checksum and segmentation offloads, on while a reader takes them
	 * (ethertap_fix_features()); the others get frames segmented.
	 */
	dev->hw_features |= ETHERTAP_OFFLOAD_FEATURES;
	dev->features |= ETHERTAP_OFFLOAD_FEATURES;
	/* Frames go straight to the readers' queues: no qdisc, no tx lock. */
	dev->priv_flags |= IFF_NO_QUEUE | IFF_LIVE_ADDR_CHANGE;
	/*
	 * No netpoll (netconsole): it would call ethertap_xmit() with IRQs
	 * off, and readers take their queue's lock with BHs off only.
	 */
	dev->priv_flags |= IFF_DISABLE_NETPOLL;
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	ethertap_set_lltx(dev);
	dev->min_mtu = ETHERTAP_MIN_MTU;
	dev->max_mtu = ETHERTAP_MAX_MTU;
}

/*
 * Number @dev, named already, as tap @index and register it (under RTNL):
 * the MAC FE:FD:00:00:hi(N):lo(N) unless one was given.  On failure the
 * index is released; the caller frees @dev.
 */
static int ethertap_register(struct net_device *dev, unsigned int index)
{
	u8 addr[ETH_ALEN] = { 0xfe, 0xfd, 0, 0, index >> 8, index & 0xff };
	struct ethertap *tap = netdev_priv(dev);
	int err;

	tap->index = index;
	if (is_zero_ether_addr(dev->dev_addr))
		eth_hw_addr_set(dev, addr);
	dev->rtnl_link_ops = &ethertap_link_ops;

	err = register_netdevice(dev);
	if (err) {
		ida_free(&ethertap_ida, index);
		return err;
	}
	tap->registered = true;
	netdev_dbg(dev, "created, /dev/tap%u is (%d, %d)\n", index,
		   ETHERTAP_MAJOR, ETHERTAP_MINOR_BASE + index);
	return 0;
}

/*
 * A number for a tap given no name (ip link add type ethertap), and the
 * name: the lowest free N whose name tapN is free in @net, so that tapN
 * goes with /dev/tapN.  Called under RTNL, which keeps the name free.
 */
static int ethertap_alloc_default(struct net_device *dev, struct net *net,
				  struct netlink_ext_ack *extack)
{
	char name[IFNAMSIZ];
	bool skipped = false;
	int index = -1;

	for (;;) {
		index = ida_alloc_range(&ethertap_ida, index + 1,
					ETHERTAP_MAX_TAPS - 1, GFP_KERNEL);
		if (index < 0)
			break;
		snprintf(name, sizeof(name), "tap%d", index);
		if (!__dev_get_by_name(net, name)) {
			strscpy(dev->name, name, IFNAMSIZ);
			return index;
		}
		ida_free(&ethertap_ida, index);
		skipped = true;
	}
	if (index == -ENOSPC && skipped) {
		NL_SET_ERR_MSG(extack,
			       "every free tap number N has its name tapN taken: give a name");
		return -EEXIST;
	}
	if (index == -ENOSPC)
		NL_SET_ERR_MSG(extack, "all " __stringify(ETHERTAP_MAX_TAPS)
			       " tap numbers are in use");
	return index;
}

/*
 * A number for a tap given a name, and the name: kept, or expanded if it is
 * a template such as foo%d (as register_netdevice() would, done here to say
 * why it fails).  The number is the lowest free one.
 */
static int ethertap_alloc_named(struct net_device *dev, struct net *net,
				struct netlink_ext_ack *extack)
{
	int index, err;

	if (strchr(dev->name, '%')) {
		err = dev_alloc_name(dev, dev->name);
		if (err == -ENFILE)
			NL_SET_ERR_MSG(extack,
				       "every name the template gives is taken");
		else if (err < 0)
			NL_SET_ERR_MSG(extack, "not a valid name template");
		if (err < 0)
			return err;
	} else if (__dev_get_by_name(net, dev->name)) {
		NL_SET_ERR_MSG(extack, "a device of that name exists");
		return -EEXIST;
	}
	index = ida_alloc_max(&ethertap_ida, ETHERTAP_MAX_TAPS - 1, GFP_KERNEL);
	if (index == -ENOSPC)
		NL_SET_ERR_MSG(extack, "all " __stringify(ETHERTAP_MAX_TAPS)
			       " tap numbers are in use");
	return index;
}

/*
 * ip link add [NAME] type ethertap.  Tap numbers and /dev/tapN nodes belong
 * to the whole machine, so creating a tap takes CAP_NET_ADMIN in the initial
 * user namespace, not only in the namespace the request comes from.
 */
static int ethertap_newlink(ETHERTAP_NEWLINK_ARGS)
{
	int index;

	if (!capable(CAP_NET_ADMIN)) {
		NL_SET_ERR_MSG(extack,
			       "creating a tap needs CAP_NET_ADMIN in the initial user namespace");
		return -EPERM;
	}
	/* rtnetlink names a tap asked for without a name "ethertap%d". */
	if (dev->name_assign_type == NET_NAME_ENUM)
		index = ethertap_alloc_default(dev, dev_net(dev), extack);
	else
		index = ethertap_alloc_named(dev, dev_net(dev), extack);
	if (index < 0)
		return index;
	return ethertap_register(dev, index);
}

static struct rtnl_link_ops ethertap_link_ops = {
	.kind		= ETHERTAP_DRV_NAME,
	.priv_size	= sizeof(struct ethertap),
	.setup		= ethertap_setup,
	.newlink	= ethertap_newlink,
};

/* Create tapN in the initial namespace at load; called under RTNL. */
static int ethertap_create(unsigned int index)
{
	char name[IFNAMSIZ];
	struct net_device *dev;
	int err;

	err = ida_alloc_range(&ethertap_ida, index, index, GFP_KERNEL);
	if (err < 0)
		return err;
	snprintf(name, sizeof(name), "tap%u", index);
	dev = alloc_netdev(sizeof(struct ethertap), name, NET_NAME_ENUM,
			   ethertap_setup);
	if (!dev) {
		ida_free(&ethertap_ida, index);
		return -ENOMEM;
	}
	err = ethertap_register(dev, index);
	if (err)
		free_netdev(dev);
	return err;
}

static int __init ethertap_module_init(void)
{
	int err, i;

	if (max_taps < 0 || max_taps > ETHERTAP_MAX_TAPS) {
		pr_err("max_taps=%d out of range 0..%d\n", max_taps,
		       ETHERTAP_MAX_TAPS);
		return -EINVAL;
	}
	err = class_register(&ethertap_class);
	if (err)
		return err;
	err = alloc_chrdev_region(&ethertap_devt, ETHERTAP_MINOR_BASE,
				  ETHERTAP_MAX_TAPS, "ethertap");
	if (err)
		goto class;
	err = register_netdevice_notifier(&ethertap_vtap_first);
	if (err)
		goto region;
	err = register_netdevice_notifier(&ethertap_vtap_last);
	if (err)
		goto first;
	err = rtnl_link_register(&ethertap_link_ops);
	if (err)
		goto last;

	rtnl_lock();
	for (i = 0; i < max_taps && !err; i++)
		err = ethertap_create(i);
	rtnl_unlock();
	if (err) {
		pr_err("cannot create tap%d: %d\n", i - 1, err);
		goto link;
	}
	return 0;

link:
	rtnl_link_unregister(&ethertap_link_ops);	/* deletes every tap */
last:
	unregister_netdevice_notifier(&ethertap_vtap_last);
first:
	unregister_netdevice_notifier(&ethertap_vtap_first);
region:
	unregister_chrdev_region(ethertap_devt, ETHERTAP_MAX_TAPS);
class:
	class_unregister(&ethertap_class);
	return err;
}

static void __exit ethertap_module_exit(void)
{
	rtnl_link_unregister(&ethertap_link_ops);
	unregister_netdevice_notifier(&ethertap_vtap_last);
	unregister_netdevice_notifier(&ethertap_vtap_first);
	unregister_chrdev_region(ethertap_devt, ETHERTAP_MAX_TAPS);
	class_unregister(&ethertap_class);
}

module_init(ethertap_module_init);
module_exit(ethertap_module_exit);

MODULE_DESCRIPTION("Ethertap: Ethernet devices tapN read and written through /dev/tapN");
MODULE_AUTHOR("The ethertap project");
MODULE_LICENSE("GPL");
MODULE_VERSION(ETHERTAP_DRV_VERSION);
MODULE_SOFTDEP("post: netlink_dev ethertap_netlink");
MODULE_ALIAS_RTNL_LINK(ETHERTAP_DRV_NAME);
