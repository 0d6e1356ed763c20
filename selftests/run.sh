#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the selftests inside a scripts/vm/run guest and print their TAP.
# Before each test the modules are loaded afresh (ethertap max_taps=2 and
# netlink_dev from $ETHERTAP_MODDIR); after it they must unload cleanly.
#   selftests/run.sh [TEST...]     (default: every test)
set -u
cd "$(dirname "$0")"
export KSFT_DIR=${KSFT_DIR:?}
moddir=${ETHERTAP_MODDIR:?}

unload() {
	local m
	for m in ethertap_netlink netlink_dev ethertap; do
		[ -d /sys/module/$m ] && rmmod $m
	done
	! [ -d /sys/module/ethertap ] && ! [ -d /sys/module/netlink_dev ] &&
		! [ -d /sys/module/ethertap_netlink ]
}

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
	tests=($(ls out/ 2>/dev/null) $(ls ./*.sh | grep -v '/run.sh$\|/lib.sh$'))
fi

echo "# kernel $(uname -r) ($ETHERTAP_KERNEL)"
# The trace instance of the drop-reason checks (lib.h, drops_start()),
# its event turned on once, before any test: turning a tracepoint on
# rewrites kernel text, which under TCG can crash a 2-vCPU guest.
tr=/sys/kernel/tracing
[ -d $tr/instances ] || mount -t tracefs tracefs $tr 2>/dev/null
if grep -qs 'enum skb_drop_reason reason;' $tr/events/skb/kfree_skb/format &&
	mkdir -p $tr/instances/ethertap_drops; then
	echo 0 >$tr/instances/ethertap_drops/tracing_on
	echo 1 >$tr/instances/ethertap_drops/events/skb/kfree_skb/enable
fi
# Seconds one test file may take; the debug kernel (KASAN, lockdep,
# kmemleak) under TCG is several times slower than the stock ones.
limit=1200
[ "$ETHERTAP_KERNEL" = debug ] && limit=1800
for t in "${tests[@]}"; do
	t=${t#./}
	case $t in
	*.sh) cmd=(bash "./$t") ;;
	*) cmd=("./out/$t") ;;
	esac
	echo "# === $t"
	if ! [ -e "${cmd[-1]}" ]; then
		echo "not ok - $t: missing"
		continue
	fi
	unload >/dev/null 2>&1
	insmod "$moddir"/ethertap.ko max_taps=2 && insmod "$moddir"/netlink_dev.ko ||
		{ echo "not ok - $t: modules did not load"; continue; }
	out=$(mktemp)
	start=$SECONDS
	timeout "$limit" "${cmd[@]}" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	echo "# $t: $((SECONDS - start)) s"
	if [ "$rc" != 0 ] && [ "$rc" != 4 ] && ! grep -q '^not ok' "$out"; then
		echo "not ok - $t exited with status $rc"
	fi
	rm -f "$out"
	unload || echo "not ok - $t: modules did not unload afterwards"
	ip -all netns delete 2>/dev/null
done
