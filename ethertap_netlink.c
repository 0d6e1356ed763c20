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
 * checks it: EPERM); input checks it too.  A sender learns why its frame was
 * refused asynchronously, the netlink way: the errno is set on its socket
 * and returned by its next recv() (and poll() reports POLLERR).  Taps are
 * reached only from the namespace they are in.
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
	struct ethertap __rcu **slot = NULL;
	struct iov_iter from;
	struct kvec kv;
	ssize_t ret;

	if (skb->len >= ETHERTAP_PAD)
		slot = ethertap_slot(skb->data[0] << 8 | skb->data[1]);
	if (!slot) {
		ret = skb->len < ETHERTAP_PAD ? -EINVAL : -ENXIO;
	} else if (!netlink_net_capable(skb, CAP_NET_ADMIN)) {
		ret = ethertap_refuse(slot, net, ETHERTAP_RX_NOT_PERMITTED,
				      -EPERM);
	} else {
		kv.iov_base = skb->data;
		kv.iov_len = skb->len;
		iov_iter_kvec(&from, ITER_SOURCE, &kv, 1, skb->len);
		ret = ethertap_receive_iter(slot, net, &from);
	}
	if (ret < 0)
		etnl_report(ssk, ret);
}

/* ethertap_hooks.xmit: broadcast a copy of @skb to the tap's group. */
static int etnl_xmit(struct ethertap *tap, const struct sk_buff *skb)
{
	struct etnl_net *nn = net_generic(dev_net(tap->dev), etnl_net_id);
	unsigned int group = ETHERTAP_NLGRP(tap->index);
	struct sock *sk = READ_ONCE(nn->sk);
	struct sk_buff *nskb;
	u8 *pad;

	if (!sk || !netlink_has_listeners(sk, group))
		return 0;
	nskb = alloc_skb(ETHERTAP_PAD + skb->len, GFP_ATOMIC);
	if (!nskb)
		return -ENOMEM;
	pad = skb_put(nskb, ETHERTAP_PAD);
	pad[0] = tap->index >> 8;
	pad[1] = tap->index & 0xff;
	if (skb_copy_bits(skb, 0, skb_put(nskb, skb->len), skb->len)) {
		kfree_skb(nskb);
		return -ENOMEM;
	}
	NETLINK_CB(nskb).dst_group = group;
	/*
	 * 0 if a listener took it, -ESRCH if none did: they left, are all in
	 * other namespaces (the listener check is global), or their receive
	 * buffers were full (each such socket counts its overrun in its own
	 * drops and reports ENOBUFS, the netlink way).
	 */
	return netlink_broadcast(sk, nskb, 0, group, GFP_ATOMIC) ? 0 : 1;
}

static const struct ethertap_hooks etnl_hooks = {
	.xmit = etnl_xmit,
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
