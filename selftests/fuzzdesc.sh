#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The fuzzer description selftests/ethertap.txt (syzlang) and the frame
# generator of the seeded fuzzers (fuzz_frame() in traffic.h) stay in
# step: the same protocols in the union ethertap_proto, in
# fuzz_proto_name[] and in the FP_ enum; every ethertap_* type the
# description uses is defined in it; both fuzzers print one
# frames_fuzzed_<protocol> figure per protocol.  Text only: it needs no
# module, but runs in the guest with the others (run.sh).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
desc=$here/ethertap.txt
gen=$here/traffic.h

# The field names of the union ethertap_proto, one a line, sorted.
desc_protos() {
	awk '/^ethertap_proto \[/ { on = 1; next } on && /^\]/ { on = 0 }
		on && $1 !~ /^#/ && NF { print $1 }' "$desc" | sort
}
# The strings of fuzz_proto_name[], sorted.
gen_protos() {
	sed -n '/fuzz_proto_name\[FP_NR\] = {/,/};/p' "$gen" |
		grep -o '"[a-z0-9]*"' | tr -d '"' | sort
}
# The FP_ enum's names but FP_NR, lower case, sorted.
enum_protos() {
	grep -o 'enum { FP_[A-Z0-9_, ]*}' "$gen" | grep -o 'FP_[A-Z0-9]*' |
		grep -vx FP_NR | sed 's/^FP_//' | tr 'A-Z' 'a-z' | sort
}
# Types named ethertap_* the description uses but does not define.
undefined_types() {
	local used defined

	used=$(grep -v '^#' "$desc" |
		grep -oE '(^|[^$a-zA-Z0-9_])ethertap_[a-z0-9_]*' |
		sed 's/^[^e]//' | grep -vx ethertap_devs | sort -u)
	defined=$(sed -n 's/^\(ethertap_[a-z0-9_]*\) [[{].*/\1/p' "$desc" | sort -u)
	comm -23 <(echo "$used") <(echo "$defined")
}
# Every pattern is in the description.
has_all() {
	local p

	for p; do
		grep -q -- "$p" "$desc" || { echo "# not in ethertap.txt: $p"; return 1; }
	done
}
same() {
	if [ "$1" = "$2" ] && [ -n "$1" ]; then
		return 0
	fi
	diff <(echo "$1") <(echo "$2") | sed 's/^/# /'
	return 1
}

ktap_print_header
ktap_set_plan 5
d=$(desc_protos) g=$(gen_protos) e=$(enum_protos)
echo "# description: $(echo $d); generator: $(echo $g)"
check "ethertap.txt's ethertap_proto and traffic.h's fuzz_proto_name[] name the same protocols" \
	same "$d" "$g"
check "traffic.h's FP_ enum and fuzz_proto_name[] agree" same "$e" "$g"
u=$(undefined_types)
[ -z "$u" ] || echo "# undefined in ethertap.txt: $(echo $u)"
check "every ethertap type ethertap.txt uses is defined in it" test -z "$u"
check "ethertap.txt describes /dev/tapN, its ioctls and the netlink protocol 31" \
	has_all 'openat\$ethertap(' 'ioctl\$ethertap_SIOCGIFHWADDR(' \
	'ioctl\$ethertap_TUNSETIFF(' 'proto const\[31\]' \
	'NETLINK_ADD_MEMBERSHIP' 'ethertap_frame {' 'ethertap_nl_frame {'
check "fuzz.c and nlfuzz.c use fuzz_frame() and print a frames_fuzzed figure per protocol" \
	bash -c "grep -q 'frames_fuzzed_%s' '$here/traffic.h' &&
		grep -q 'fuzz_protos_report(' '$here/fuzz.c' && grep -q 'fuzz_protos_report(' '$here/nlfuzz.c' &&
		grep -q 'fuzz_frame(' '$here/fuzz.c' && grep -q 'fuzz_frame(' '$here/nlfuzz.c'"
ktap_finished
