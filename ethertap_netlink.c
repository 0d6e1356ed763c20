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
		slot = ethertap_slot(skb->data[0] << 8 | skb->data[1]);
		ret = slot ? ethertap_receive_skb(slot, net, skb) : -ENXIO;
	}
	if (ret < 0)
		etnl_report(ssk, ret);
}

/*
 * The message for @skb: the two bytes of padding (N), then the frame.  If
 * no one else uses the headroom of @skb (its header is not cloned), the
 * padding goes there and the message is a clone sharing the frame's data;
 * else the frame is copied.  The readers of /dev/tapN, which may queue
 * @skb itself, never look in front of skb->data.
 */
static struct sk_buff *etnl_message(struct ethertap *tap, struct sk_buff *skb)
{
	struct sk_buff *nskb;
	u8 *pad;

	if (skb_headroom(skb) >= ETHERTAP_PAD && !skb_header_cloned(skb)) {
		pad = skb->data - ETHERTAP_PAD;
		pad[0] = tap->index >> 8;
		pad[1] = tap->index & 0xff;
		nskb = skb_clone(skb, GFP_ATOMIC);
		if (!nskb)
			return NULL;
		__skb_push(nskb, ETHERTAP_PAD);
		memset(nskb->cb, 0, sizeof(nskb->cb));
		skb_clear_tstamp(nskb);
		nskb->dev = NULL;	/* it may outlive the tap */
		return nskb;
	}
	nskb = alloc_skb(ETHERTAP_PAD + skb->len, GFP_ATOMIC);
	if (!nskb)
		return NULL;
	pad = skb_put(nskb, ETHERTAP_PAD);
	pad[0] = tap->index >> 8;
	pad[1] = tap->index & 0xff;
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

/* ethertap_hooks.listens: does a socket listen to the tap's group? */
static bool etnl_listens(struct ethertap *tap)
{
	struct etnl_net *nn = net_generic(dev_net(tap->dev), etnl_net_id);
	struct sock *sk = READ_ONCE(nn->sk);

	return sk && netlink_has_listeners(sk, ETHERTAP_NLGRP(tap->index));
}

/* ethertap_hooks.xmit: broadcast @skb, padded, to the tap's group. */
static int etnl_xmit(struct ethertap *tap, struct sk_buff *skb)
{
	struct etnl_net *nn = net_generic(dev_net(tap->dev), etnl_net_id);
	unsigned int group = ETHERTAP_NLGRP(tap->index);
	struct sock *sk = READ_ONCE(nn->sk);
	struct etnl_tally t = {};
	struct sk_buff *nskb;
	int err;

	if (!sk || !netlink_has_listeners(sk, group))
		return 0;
	nskb = etnl_message(tap, skb);
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

static const struct ethertap_hooks etnl_hooks = {
	.xmit = etnl_xmit,
	.listens = etnl_listens,
};

static int __net_init etnl_net_init(struct net *net)
{
	struct etnl_net *nn = net_generic(net, etnl_net_id);
	struct netlink_kernel_cfg cfg = {
		.groups	= ETHERTAP_MAX_TAPS,
		.input	= etnl_input,
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

static void __exit etnl_exit(void)
{
	ethertap_set_hooks(NULL);	/* no xmit uses a socket after this */
	unregister_pernet_subsys(&etnl_net_ops);
}

module_init(etnl_init);
module_exit(etnl_exit);

MODULE_DESCRIPTION("Ethertap raw netlink interface (protocol " __stringify(ETHERTAP_NETLINK) ")");
MODULE_AUTHOR("The ethertap project");
MODULE_LICENSE("GPL");
MODULE_VERSION(ETHERTAP_DRV_VERSION);
MODULE_ALIAS_NET_PF_PROTO(PF_NETLINK, ETHERTAP_NETLINK);
