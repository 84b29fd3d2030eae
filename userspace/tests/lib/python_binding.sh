#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The Python binding (userspace/python/swprof.py) with Debian's
# /usr/bin/python3, TAP output.  Run from the repo top after the build:
#   bash userspace/tests/lib/python_binding.sh
#
# An LD_PRELOAD shim (python_binding_shim.c, compiled here) counts the
# library's opens of $SWPROF_DEVICE, so that "a missing device is tried at
# most once a second" is checked by counting, not by timing, and then plays
# the device for the admitted cases.  The tests themselves are in
# userspace/python/test_swprof.py.
#
# SWPROF_TEST_LIB=PATH tests another libswprof.so (default build/lib/libswprof.so).
set -u
cd "$(dirname "$0")/../../.." || exit 1

py=/usr/bin/python3
lib=${SWPROF_TEST_LIB:-build/lib/libswprof.so}
cc=${CC:-cc}
if [[ ! -x $py ]]; then
	echo "1..0 # SKIP $py not installed (tools/setup installs it)"
	exit 0
fi
if [[ ! -f $lib ]]; then
	echo "1..0 # SKIP $lib not built (make -f userspace/Makefile)"
	exit 0
fi
if ! command -v "$cc" > /dev/null; then
	echo "1..0 # SKIP no C compiler for the shim"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! "$cc" -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude/uapi -shared -fPIC \
	-o "$tmp/shim.so" userspace/tests/lib/python_binding_shim.c 2> "$tmp/cc.log"; then
	echo "1..1"
	echo "not ok 1 python_binding_shim.c compiles"
	sed 's/^/# /' "$tmp/cc.log"
	exit 1
fi

# The device path never exists: the shim decides whether it "opens".
exec env LD_PRELOAD="$tmp/shim.so" SWPROF_LIB="$(realpath "$lib")" \
	SWPROF_DEVICE="$tmp/no-such-dir/swprof" PYTHONDONTWRITEBYTECODE=1 \
	"$py" userspace/python/test_swprof.py
