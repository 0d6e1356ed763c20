/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels ethertap builds on (6.1 to 7.x), kept in
 * this one place so that the driver itself reads as current kernel code.
 */
#ifndef _ETHERTAP_COMPAT_H
#define _ETHERTAP_COMPAT_H

#include <linux/device.h>
#include <linux/netdevice.h>
#include <linux/version.h>

/* 6.4 dropped the owner argument of class_create(). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define ethertap_class_create(name) class_create(THIS_MODULE, name)
#else
#define ethertap_class_create(name) class_create(name)
#endif

/* 6.12 turned the NETIF_F_LLTX feature into the dev->lltx flag. */
static inline void ethertap_set_lltx(struct net_device *dev)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
	dev->features |= NETIF_F_LLTX;
#else
	dev->lltx = true;
#endif
}

#endif /* _ETHERTAP_COMPAT_H */
