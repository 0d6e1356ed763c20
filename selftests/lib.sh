# SPDX-License-Identifier: GPL-2.0
#
# What the shell tests share: the kernel's KTAP helpers, and check().
# Sourced by each *.sh test (run.sh does not run it as a test).
source "${KSFT_DIR:?}/kselftest/ktap_helpers.sh"

check() {	# check "description" command...: one result, passed if it succeeds
	local d=$1
	shift
	if "$@"; then ktap_test_pass "$d"; else ktap_test_fail "$d"; fi
}
