// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap_netlink: the raw netlink interface of ethertap, the "new way" of
 * the 2.4 HOWTO.  Each network namespace gets a kernel socket of protocol
 * ETHERTAP_NETLINK with one multicast group per tap (ETHERTAP_NLGRP(N)):
 *
 *   xmit   every frame tapN transmits, while someone listens to its group,
 *          is copied behind two bytes holding N and broadcast to the group;
 *   input  a message sent to the kernel socket is written to the tap its
 *          first two bytes name, through the same receive path (checks,
 *          errors and counters) as a write() to /dev/tapN.
 *
 * A second range of groups, ETHERTAP_NLGRP_VNET(N), reads the frames behind
 * N | ETHERTAP_NL_VNET and a virtio-net header, with every offload; a
 * message with ETHERTAP_NL_VNET set carries one for input.
 *
 * Joining a group needs CAP_NET_ADMIN in the namespace (the netlink core
 * checks it: EPERM); input checks it before anything else.  A sender
 * learns why its frame was refused asynchronously, the netlink way: the
 * errno is set on its socket and returned by its next recv() (and poll()
 * reports POLLERR).  Taps are reached only from the namespace they are in.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/skbuff.h>
#include <linux/uio.h>
#include <linux/virtio_net.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include "compat.h"
#include "ethertap_dev.h"

static unsigned int etnl_net_id;

struct etnl_net {
	struct sock *sk;	/* this namespace's kernel socket */
};

/* Report @err (negative) to the sender @ssk on its next receive. */
static void etnl_report(struct sock *ssk, int err)
{
	WRITE_ONCE(ssk->sk_err, -err);
	sk_error_report(ssk);
}

/* A message to the kernel socket: one padded frame for the tap it names. */
static void etnl_input(struct sk_buff *skb)
{
	struct sock *ssk = NETLINK_CB(skb).sk;
	struct net *net = sock_net(skb->sk);
	struct ethertap __rcu **slot;
	unsigned int field;
	ssize_t ret;

	/*
	 * A sender without the right learns nothing of the taps, and their
	 * counters are for the traffic of those who have it: EPERM, before
	 * looking, whatever the message names, and nothing counted.
	 */
	if (!netlink_net_capable(skb, CAP_NET_ADMIN)) {
		ret = -EPERM;
	} else if (skb->len < ETHERTAP_PAD) {
		ret = -EINVAL;
	} else {
		field = skb->data[0] << 8 | skb->data[1];
		slot = ethertap_slot(field & ~ETHERTAP_NL_VNET);
		ret = slot ? ethertap_receive_skb(slot, net, skb,
						  field & ETHERTAP_NL_VNET) :
			     -ENXIO;
	}
	if (ret < 0)
		etnl_report(ssk, ret);
}

/* What goes in front of a frame broadcast: N (| vnet), the vnet header. */
struct etnl_head {
	__be16 field;
	struct virtio_net_hdr vnet;
} __packed;

/*
 * The message for @skb: @hlen bytes of @head (N, then for a vnet listener
 * the virtio-net header), then the frame.  If no one else uses the
 * headroom of @skb (its header is not cloned), the head goes there and the
 * message is a clone sharing the frame's data; else the frame is copied.
 * The readers of /dev/tapN, which may queue @skb itself, never look in
 * front of skb->data.
 */
static struct sk_buff *etnl_message(struct sk_buff *skb,
				    const struct etnl_head *head,
				    unsigned int hlen)
{
	struct sk_buff *nskb;

	if (skb_headroom(skb) >= hlen && !skb_header_cloned(skb)) {
		memcpy(skb->data - hlen, head, hlen);
		nskb = skb_clone(skb, GFP_ATOMIC);
		if (!nskb)
			return NULL;
		__skb_push(nskb, hlen);
		memset(nskb->cb, 0, sizeof(nskb->cb));
		skb_clear_tstamp(nskb);
		nskb->dev = NULL;	/* it may outlive the tap */
		return nskb;
	}
	nskb = alloc_skb(hlen + skb->len, GFP_ATOMIC | __GFP_NOWARN);
	if (!nskb)
		return NULL;
	skb_put_data(nskb, head, hlen);
	if (skb_copy_bits(skb, 0, skb_put(nskb, skb->len), skb->len)) {
		kfree_skb(nskb);
		return NULL;
	}
	return nskb;
}

/*
 * What one broadcast did, listener by listener.  netlink_broadcast_filtered()
 * calls etnl_tally() for each listener just before it queues its copy
 * there, and offers the same copy to the next listener if that one did not
 * take it (its receive buffer was full, or its socket filter refused it).
 * The tally holds the copy it last saw, so a copy it sees again is that
 * copy, and a copy a listener took has that listener as owner.
 */
struct etnl_tally {
	struct sk_buff *last;	/* held */
	unsigned int offered;	/* listeners offered a copy */
	unsigned int taken;	/* listeners that queued theirs */
};

static void etnl_tally_last(struct etnl_tally *t)
{
	if (!t->last)
		return;
	if (t->last->sk)
		t->taken++;
	consume_skb(t->last);
	t->last = NULL;
}

static int etnl_tally(struct sock *dsk, struct sk_buff *skb, void *data)
{
	struct etnl_tally *t = data;

	t->offered++;
	if (skb != t->last) {
		etnl_tally_last(t);
		t->last = skb_get(skb);
	}
	return 0;	/* offer it */
}

/* The group of tap @index whose listeners @to selects (one of them). */
static unsigned int etnl_group(unsigned int index, unsigned int to)
{
	return to == ETHERTAP_NL_VNET ? ETHERTAP_NLGRP_VNET(index) :
					ETHERTAP_NLGRP(index);
}

/* Does a socket listen to the tap's group @to selects? */
static bool etnl_listens_one(struct ethertap *tap, unsigned int to)
{
	struct etnl_net *nn = net_generic(dev_net(tap->dev), etnl_net_id);
	struct sock *sk = READ_ONCE(nn->sk);

	return sk && netlink_has_listeners(sk, etnl_group(tap->index, to));
}

/* ethertap_hooks.listens: to one of the groups @to selects? */
static bool etnl_listens(struct ethertap *tap, unsigned int to)
{
	return (to & ETHERTAP_NL_PLAIN &&
		etnl_listens_one(tap, ETHERTAP_NL_PLAIN)) ||
	       (to & ETHERTAP_NL_VNET &&
		etnl_listens_one(tap, ETHERTAP_NL_VNET));
}

/*
 * Broadcast @skb to the tap's group @to selects (one of them), behind N
 * and for ETHERTAP_NL_VNET its virtio-net header; the verdict of
 * ethertap_hooks.xmit for that group.
 */
static int etnl_xmit_one(struct ethertap *tap, struct sk_buff *skb,
			 unsigned int to)
{
	struct etnl_net *nn = net_generic(dev_net(tap->dev), etnl_net_id);
	unsigned int group = etnl_group(tap->index, to);
	struct sock *sk = READ_ONCE(nn->sk);
	struct etnl_head head = {};
	struct etnl_tally t = {};
	unsigned int hlen = ETHERTAP_PAD;
	struct sk_buff *nskb;
	int err;

	BUILD_BUG_ON(sizeof(head) != ETHERTAP_PAD + ETHERTAP_VNET_HDR_LEN);
	if (!sk || !netlink_has_listeners(sk, group))
		return 0;
	head.field = cpu_to_be16(tap->index);
	if (to == ETHERTAP_NL_VNET) {
		head.field |= cpu_to_be16(ETHERTAP_NL_VNET);
		hlen += ETHERTAP_VNET_HDR_LEN;
		/*
		 * ethertap_xmit() offers only frames the header can tell;
		 * were it another, the listeners' copy would be lost.
		 */
		if (virtio_net_hdr_from_skb(skb, &head.vnet, true, false, 0)) {
			ethertap_count(tap, ETHERTAP_TX_READER_FULL);
			return -ENOBUFS;
		}
	}
	nskb = etnl_message(skb, &head, hlen);
	if (!nskb)
		return -ENOMEM;
	NETLINK_CB(nskb).dst_group = group;
	/*
	 * The result alone does not say whether anyone took the frame: it is
	 * -ENOBUFS as soon as one listener with NETLINK_BROADCAST_ERROR lost
	 * its copy, whatever the others did.  The tally says it; listeners
	 * the broadcast skips (all in other namespaces: the listener check is
	 * global) are not offered it.  Each listener that lost its copy also
	 * counts it in its socket's drops and reports ENOBUFS, the netlink
	 * way.  Under RCU, as here, the listeners outlive the tally.
	 */
	err = netlink_broadcast_filtered(sk, nskb, 0, group, GFP_ATOMIC,
					 etnl_tally, &t);
	etnl_tally_last(&t);
	if (!t.offered && err != -ESRCH) {
		/* A kernel without the filter: judge by the result. */
		t.offered = 1 + (err == -ENOBUFS);
		t.taken = 1;
	}
	if (t.offered > t.taken)
		ethertap_count_n(tap, ETHERTAP_TX_READER_FULL,
				 t.offered - t.taken);
	return t.taken ? 1 : t.offered ? -ENOBUFS : 0;
}

/*
 * ethertap_hooks.xmit: broadcast @skb to the groups @to selects.  Taken by
 * one, the frame is delivered: a copy the other had no memory for is lost.
 */
static int etnl_xmit(struct ethertap *tap, struct sk_buff *skb,
		     unsigned int to)
{
	int plain = 0, vnet = 0;

	if (to & ETHERTAP_NL_PLAIN)
		plain = etnl_xmit_one(tap, skb, ETHERTAP_NL_PLAIN);
	if (to & ETHERTAP_NL_VNET)
		vnet = etnl_xmit_one(tap, skb, ETHERTAP_NL_VNET);
	if (plain > 0 || vnet > 0) {
		if (plain == -ENOMEM || vnet == -ENOMEM)
			ethertap_count(tap, ETHERTAP_TX_READER_FULL);
		return 1;
	}
	if (plain == -ENOMEM || vnet == -ENOMEM)
		return -ENOMEM;
	if (plain == -ENOBUFS || vnet == -ENOBUFS)
		return -ENOBUFS;
	return 0;
}

static const struct ethertap_hooks etnl_hooks = {
	.xmit = etnl_xmit,
	.listens = etnl_listens,
};

/*
 * The taps' offloads follow their vnet listeners: a listener that joins or
 * leaves ETHERTAP_NLGRP_VNET(N) has them recomputed, under RTNL, in a work
 * item.  The netlink core calls bind before it counts the new listener and,
 * on close, unbind before it stops counting the old one: the work waits a
 * moment for it.  Until the work has run, a frame offloaded to no one is
 * segmented, a listener that just joined reads frames without offloads.
 */
#define ETNL_REFRESH_DELAY	(HZ / 10)

static void etnl_refresh(struct work_struct *work)
{
	ethertap_refresh_offloads();
}

static DECLARE_DELAYED_WORK(etnl_refresh_work, etnl_refresh);

static void etnl_group_changed(int group)
{
	if (group > ETHERTAP_MAX_TAPS)
		mod_delayed_work(system_long_wq, &etnl_refresh_work,
				 ETNL_REFRESH_DELAY);
}

static int etnl_bind(struct net *net, int group)
{
	etnl_group_changed(group);
	return 0;
}

static void etnl_unbind(struct net *net, int group)
{
	etnl_group_changed(group);
}

static int __net_init etnl_net_init(struct net *net)
{
	struct etnl_net *nn = net_generic(net, etnl_net_id);
	struct netlink_kernel_cfg cfg = {
		.groups	= 2 * ETHERTAP_MAX_TAPS,
		.input	= etnl_input,
		.bind	= etnl_bind,
		.unbind	= etnl_unbind,
	};

	nn->sk = netlink_kernel_create(net, ETHERTAP_NETLINK, &cfg);
	if (!nn->sk) {
		pr_err("cannot create the netlink socket (protocol %d in use?)\n",
		       ETHERTAP_NETLINK);
		return -EBUSY;
	}
	return 0;
}

static void __net_exit etnl_net_exit(struct net *net)
{
	struct etnl_net *nn = net_generic(net, etnl_net_id);
	struct sock *sk = nn->sk;

	WRITE_ONCE(nn->sk, NULL);
	netlink_kernel_release(sk);
}

static struct pernet_operations etnl_net_ops = {
	.init	= etnl_net_init,
	.exit	= etnl_net_exit,
	.id	= &etnl_net_id,
	.size	= sizeof(struct etnl_net),
};

static int __init etnl_init(void)
{
	int err;

	err = register_pernet_subsys(&etnl_net_ops);
	if (err)
		return err;
	ethertap_set_hooks(&etnl_hooks);
	return 0;
}

/*
 * No socket of the protocol is left open (each holds the module): no
 * listener, no bind or unbind to come.  The work is cancelled, and the
 * taps lose the offloads their vnet listeners had, if it had not run.
 */
static void __exit etnl_exit(void)
{
	ethertap_set_hooks(NULL);	/* no xmit uses a socket after this */
	cancel_delayed_work_sync(&etnl_refresh_work);
	ethertap_refresh_offloads();
	unregister_pernet_subsys(&etnl_net_ops);
}

module_init(etnl_init);
module_exit(etnl_exit);

MODULE_DESCRIPTION("Ethertap raw netlink interface (protocol " __stringify(ETHERTAP_NETLINK) ")");
MODULE_AUTHOR("The ethertap project");
MODULE_LICENSE("GPL");
MODULE_VERSION(ETHERTAP_DRV_VERSION);
MODULE_ALIAS_NET_PF_PROTO(PF_NETLINK, ETHERTAP_NETLINK);
