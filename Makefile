# SPDX-License-Identifier: GPL-2.0
#
#   make                 build the modules for the running kernel (or KDIR=...)
#   make KVER=<id>       build them for a test kernel: 5.10, 6.1, 6.12, debug,
#                        or next (the newest release candidate, compiled
#                        only: objects, no modpost)
#   make check           build and run the test suite in QEMU guests
#   make demo            show the HOWTO's ping working in a guest
#   make bench           ethertap (/dev/tapN and raw netlink) against TUN/TAP in
#                        a guest (KVER=<id>, default 6.12): table on stdout and
#                        in bench.txt (BENCH_OUT=..., a path inside the
#                        repository); a few minutes
#   make vm              a shell in a guest with the modules (KVER=<id>)
#   make lint            checkpatch, sparse, W=1 and a dkms build on every test kernel
#   make deps            install what all of this needs (Debian 12, as root)
#   make update-kernels  move the debug and next kernels to Debian's newest
#                        series (scripts/vm/pinned) and build them
#   make install         install the modules for the running kernel
#   make deb             the Debian packages ethertap-dkms and ethertap-tools
#                        in build/deb/ (lintian-checked)

SRCS := ethertap.c netlink_dev.c ethertap_netlink.c ethertap.h ethertap_dev.h compat.h Kbuild dkms.conf
KERNELS ?= 5.10 6.1 6.12 debug next
LINT_KERNELS ?= $(KERNELS)

ifneq ($(KVER),)
KDIR := $(shell scripts/vm/kernel $(KVER) kdir)
KMAKEFLAGS := $(shell scripts/vm/kernel $(KVER) makeflags)
OUT := $(CURDIR)/build/$(KVER)
# next is a tree made by modules_prepare: no vmlinux for modpost to check.
KTARGETS := $(if $(filter next,$(KVER)),$(patsubst %.c,%.o,$(filter %.c,$(SRCS))),modules)
else
KDIR ?= /lib/modules/$(shell uname -r)/build
OUT := $(CURDIR)
KTARGETS := modules
endif

all: modules

modules:
ifneq ($(KVER),)
	@mkdir -p $(OUT)
	@for f in $(SRCS); do ln -sf ../../$$f $(OUT)/$$f; done
endif
	$(MAKE) -C $(KDIR) M=$(OUT) $(KMAKEFLAGS) $(KTARGETS)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf build
	$(MAKE) -C selftests clean
	$(MAKE) -C tools clean

install: modules
	$(MAKE) -C $(KDIR) M=$(OUT) $(KMAKEFLAGS) INSTALL_MOD_DIR=extra modules_install
	depmod -a $(if $(KVER),$(shell scripts/vm/kernel $(KVER) release))

uninstall:
	rm -f /lib/modules/$(shell uname -r)/extra/ethertap.ko* \
	      /lib/modules/$(shell uname -r)/extra/netlink_dev.ko* \
	      /lib/modules/$(shell uname -r)/extra/ethertap_netlink.ko*
	depmod -a

deps:
	scripts/deps install

check:
	@scripts/deps ensure
	@scripts/check $(KERNELS)

demo:
	@scripts/deps ensure
	@$(MAKE) -s KVER=6.12 modules >/dev/null
	@$(MAKE) -s -C tools
	scripts/vm/run --kernel 6.12 -- scripts/demo

BENCH_KVER := $(or $(KVER),6.12)
BENCH_OUT ?= $(CURDIR)/bench.txt
BENCH_RUNS ?= 5
BENCH_SECONDS ?= 1
BENCH_LOAD_REPS ?= 3

bench:
	@scripts/deps ensure
	@$(MAKE) -s KVER=$(BENCH_KVER) modules >/dev/null
	@$(MAKE) -s -C tools
	scripts/vm/run --kernel $(BENCH_KVER) --timeout 1800 -- env \
		BENCH_OUT=$(abspath $(BENCH_OUT)) BENCH_RUNS=$(BENCH_RUNS) \
		BENCH_SECONDS=$(BENCH_SECONDS) \
		BENCH_LOAD_REPS=$(BENCH_LOAD_REPS) \
		$(if $(BENCH_PARTS),BENCH_PARTS="$(BENCH_PARTS)") \
		$(if $(BENCH_RELAY_SECONDS),BENCH_RELAY_SECONDS=$(BENCH_RELAY_SECONDS)) \
		scripts/bench

vm:
	@scripts/deps ensure
	@$(MAKE) -s KVER=$(or $(KVER),6.1) modules >/dev/null
	scripts/vm/run --kernel $(or $(KVER),6.1)

lint:
	@scripts/deps ensure
	@scripts/lint $(LINT_KERNELS)

update-kernels:
	@scripts/deps ensure
	scripts/vm/update-kernels

# The one version (dkms.conf's PACKAGE_VERSION), for debian/rules too.
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
version:
	@echo $(VERSION)

# The Debian packages, built from a copy of the tree in build/deb/ (where
# the .debs land) and checked by lintian.
deb:
	@scripts/deps ensure
	rm -rf build/deb && mkdir -p build/deb
	rsync -a --exclude=/build --exclude=/.git --exclude=/selftests/out \
		--exclude=/bench.txt ./ build/deb/ethertap-$(VERSION)/
	cd build/deb/ethertap-$(VERSION) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning build/deb/ethertap_$(VERSION)_*.changes

.PHONY: all modules clean install uninstall deps check demo bench vm lint \
	update-kernels deb version
