/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's kselftest_harness.h, with a per-test timeout fit for QEMU
 * without KVM: the debug kernel (KASAN, lockdep, kmemleak) under TCG runs
 * some tests twenty times slower than real hardware does.
 */
#ifndef _ETHERTAP_SELFTEST_HARNESS_H
#define _ETHERTAP_SELFTEST_HARNESS_H

#include "kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 600

#endif /* _ETHERTAP_SELFTEST_HARNESS_H */
