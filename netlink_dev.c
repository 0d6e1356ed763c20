// SPDX-License-Identifier: GPL-2.0
/*
 * netlink_dev: the character devices of ethertap, /dev/tapN (major 36,
 * minor 16 + N, as in 2.2/2.4) and /dev/ethertap/tapN (the same minor of
 * the major ethertap allocated, ethertap_node_devt()).  Each open file is
 * a reader on its tap: read() returns one frame the interface transmitted,
 * write() injects one frame, poll() tells which of the two would not
 * block.  Several files may have one tap open; each one open for reading
 * receives its own copy of every frame (a write-only file receives none).
 * In batch mode (an ioctl sets it per file) a read returns several frames
 * and a write takes several.  ioctl() answers SIOCGIFHWADDR and the file's
 * flags.  The kernel loads this module by
 * itself when a major 36 node is opened; the other major is dynamic, so
 * modprobe ethertap loads it (a soft dependency).
 */
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/if.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/virtio_net.h>

#include "compat.h"
#include "ethertap_dev.h"

static struct cdev tapdev_cdev;		/* /dev/tapN */
static struct cdev tapdev_dir_cdev;	/* /dev/ethertap/tapN */

static int tapdev_open(struct inode *inode, struct file *file)
{
	struct ethertap_reader *r;
	int err;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	r->reads = file->f_mode & FMODE_READ;
	err = ethertap_reader_attach(r, iminor(inode) - ETHERTAP_MINOR_BASE);
	if (err) {
		kfree(r);
		return err;
	}
	file->private_data = r;
	/*
	 * Reads and writes honour IOCB_NOWAIT (tapdev_read_iter(),
	 * tapdev_write_iter()): io_uring tries them inline and polls while
	 * the queue is empty, instead of handing them to a worker thread.
	 */
	file->f_mode |= FMODE_NOWAIT;
	return stream_open(inode, file);
}

static int tapdev_release(struct inode *inode, struct file *file)
{
	ethertap_reader_detach(file->private_data);
	return 0;
}

/* What goes in front of a frame read: the two bytes, the vnet header. */
struct tapdev_head {
	__be16 slot;
	struct virtio_net_hdr vnet;
} __packed;

/*
 * Copy @skb to @to behind its two bytes (zeros; in batch mode the length of
 * what follows, 0 if that is above 65535) and, if @vnet, its virtio-net
 * header, as much of it as fits.  The rest of a frame longer than the
 * buffer is discarded (and counted), as a datagram socket does.  Consumes
 * @skb.
 */
static ssize_t tapdev_put(struct ethertap_reader *r, struct sk_buff *skb,
			  struct iov_iter *to, bool batch, bool vnet)
{
	size_t hlen = vnet ? ETHERTAP_VNET_HDR_LEN : 0;
	size_t room = iov_iter_count(to);
	size_t n = min_t(size_t, room, ETHERTAP_PAD + hlen);
	size_t body = min_t(size_t, skb->len, room - n);
	struct tapdev_head head = {};

	BUILD_BUG_ON(sizeof(head) != ETHERTAP_PAD + ETHERTAP_VNET_HDR_LEN);
	/* The xmit path queued for @r only frames it can describe. */
	if (vnet && virtio_net_hdr_from_skb(skb, &head.vnet, true, false, 0)) {
		ethertap_reader_count(r, ETHERTAP_TX_SEGMENT);
		kfree_skb(skb);
		return -EINVAL;
	}
	if (batch && hlen + body <= U16_MAX)
		head.slot = cpu_to_be16(hlen + body);
	if (copy_to_iter(&head, n, to) != n ||
	    skb_copy_datagram_iter(skb, 0, to, body)) {
		ethertap_reader_count(r, ETHERTAP_TX_FAULT);
		kfree_skb_reason(skb, SKB_DROP_REASON_SKB_UCOPY_FAULT);
		return -EFAULT;
	}
	if (body < skb->len)
		ethertap_reader_count(r, ETHERTAP_TX_TRUNCATED);
	consume_skb(skb);
	return n + body;
}

/*
 * One frame per read, waiting for it unless the file is non-blocking; in
 * batch mode (ETHERTAP_F_BATCH) then every further queued frame that fits
 * whole, up to one longer than 65535 bytes, which comes alone.
 */
static ssize_t tapdev_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct ethertap_reader *r = file->private_data;
	unsigned int flags = READ_ONCE(r->flags);
	bool batch = flags & ETHERTAP_F_BATCH;
	bool vnet = flags & ETHERTAP_F_VNET_HDR;
	size_t hlen = vnet ? ETHERTAP_VNET_HDR_LEN : 0;
	size_t room = iov_iter_count(to);
	struct sk_buff *skb;
	ssize_t ret, done;
	bool nonblock;
	int err;

	if (!room)
		return 0;
	nonblock = (file->f_flags & O_NONBLOCK) || (iocb->ki_flags & IOCB_NOWAIT);
	skb = ethertap_reader_next(r, nonblock, &err);
	if (!skb)
		return err;
	if (batch && hlen + skb->len > U16_MAX)
		batch = false;	/* its length is the whole read */
	done = tapdev_put(r, skb, to, batch, vnet);
	while (batch && done > 0 &&
	       (room = iov_iter_count(to)) > ETHERTAP_PAD + hlen) {
		skb = ethertap_reader_take(r, min_t(size_t,
						    room - ETHERTAP_PAD - hlen,
						    U16_MAX - hlen));
		if (!skb)
			break;
		ret = tapdev_put(r, skb, to, true, vnet);
		if (ret < 0)
			break;	/* that frame is lost, and counted */
		done += ret;
	}
	return done;
}

/*
 * A write never waits, IOCB_NOWAIT or not: there is no queue to wait on
 * and no sleeping lock on the way to the stack.  It may sleep allocating
 * the frame (GFP_KERNEL) or faulting the user's pages in, as a write to
 * TUN/TAP does, whose file is FMODE_NOWAIT too.
 */
static ssize_t tapdev_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct ethertap_reader *r = iocb->ki_filp->private_data;

	unsigned int flags = READ_ONCE(r->flags);
	bool vnet = flags & ETHERTAP_F_VNET_HDR;

	if (flags & ETHERTAP_F_BATCH)
		return ethertap_receive_batch(&r->tap, from, vnet);
	return ethertap_receive_iter(&r->tap, NULL, from, vnet);
}

static __poll_t tapdev_poll(struct file *file, poll_table *wait)
{
	struct ethertap_reader *r = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &r->wait, wait);
	if (!skb_queue_empty_lockless(&r->queue))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (rcu_access_pointer(r->tap))
		mask |= EPOLLOUT | EPOLLWRNORM;
	else
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLHUP | EPOLLERR;
	return mask;
}

/*
 * SIOCGIFHWADDR, as TUN/TAP answers it on its file: a struct ifreq with the
 * tap's name and its hardware address (ARPHRD_ETHER), so that a daemon
 * learns the address of the tap it opened.  Only the name and the address
 * are written, the same bytes for 32- and 64-bit callers.  The name and
 * the address change only under RTNL.
 */
static long tapdev_hwaddr(struct ethertap_reader *r, unsigned long arg)
{
	struct ethertap *tap;
	struct ifreq ifr = {};
	int err = 0;

	rtnl_lock();
	tap = rcu_dereference_protected(r->tap, lockdep_rtnl_is_held());
	if (tap) {
		strscpy(ifr.ifr_name, tap->dev->name, IFNAMSIZ);
		ifr.ifr_hwaddr.sa_family = tap->dev->type;
		memcpy(ifr.ifr_hwaddr.sa_data, tap->dev->dev_addr, ETH_ALEN);
	} else {
		err = -ENXIO;
	}
	rtnl_unlock();
	if (!err && copy_to_user((void __user *)arg, &ifr,
				 offsetofend(struct ifreq, ifr_hwaddr)))
		err = -EFAULT;
	return err;
}

/*
 * SIOCGIFHWADDR, the file's flags (ETHERTAPSETFLAGS, ETHERTAPGETFLAGS:
 * EINVAL for a flag this module does not know) and the offloads its reads
 * take (ETHERTAPSETOFFLOAD, ETHERTAPGETOFFLOAD).  Every other command is
 * ENOTTY (2.4 said EINVAL to all): a program probing for TUN/TAP with
 * TUNSETIFF learns it has none, with neither EPERM nor EBUSY.
 */
static long tapdev_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct ethertap_reader *r = file->private_data;
	unsigned int __user *uflags = (unsigned int __user *)arg;
	unsigned int flags;

	switch (cmd) {
	case SIOCGIFHWADDR:
		return tapdev_hwaddr(r, arg);
	case ETHERTAPSETFLAGS:
		if (get_user(flags, uflags))
			return -EFAULT;
		if (flags & ~(ETHERTAP_F_BATCH | ETHERTAP_F_VNET_HDR))
			return -EINVAL;
		ethertap_reader_set_flags(r, flags);
		return 0;
	case ETHERTAPGETFLAGS:
		return put_user(READ_ONCE(r->flags), uflags);
	case ETHERTAPSETOFFLOAD:
		if (get_user(flags, uflags))
			return -EFAULT;
		return ethertap_reader_set_offloads(r, flags);
	case ETHERTAPGETOFFLOAD:
		return put_user(READ_ONCE(r->offloads), uflags);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations tapdev_fops = {
	.owner		= THIS_MODULE,
	.open		= tapdev_open,
	.release	= tapdev_release,
	.read_iter	= tapdev_read_iter,
	.write_iter	= tapdev_write_iter,
	.poll		= tapdev_poll,
	.unlocked_ioctl	= tapdev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static int __init tapdev_init(void)
{
	dev_t base = MKDEV(ETHERTAP_MAJOR, ETHERTAP_MINOR_BASE);
	int err;

	err = register_chrdev_region(base, ETHERTAP_MAX_TAPS, "ethertap");
	if (err)
		return err;
	cdev_init(&tapdev_cdev, &tapdev_fops);
	tapdev_cdev.owner = THIS_MODULE;
	err = cdev_add(&tapdev_cdev, base, ETHERTAP_MAX_TAPS);
	if (err)
		goto region;
	cdev_init(&tapdev_dir_cdev, &tapdev_fops);
	tapdev_dir_cdev.owner = THIS_MODULE;
	err = cdev_add(&tapdev_dir_cdev, ethertap_node_devt(),
		       ETHERTAP_MAX_TAPS);
	if (err)
		goto cdev;
	return 0;

cdev:
	cdev_del(&tapdev_cdev);
region:
	unregister_chrdev_region(base, ETHERTAP_MAX_TAPS);
	return err;
}

static void __exit tapdev_exit(void)
{
	cdev_del(&tapdev_dir_cdev);
	cdev_del(&tapdev_cdev);
	unregister_chrdev_region(MKDEV(ETHERTAP_MAJOR, ETHERTAP_MINOR_BASE),
				 ETHERTAP_MAX_TAPS);
}

module_init(tapdev_init);
module_exit(tapdev_exit);

MODULE_DESCRIPTION("Ethertap character devices /dev/tapN (major 36)");
MODULE_AUTHOR("The ethertap project");
MODULE_LICENSE("GPL");
MODULE_VERSION(ETHERTAP_DRV_VERSION);
MODULE_ALIAS_CHARDEV_MAJOR(ETHERTAP_MAJOR);
