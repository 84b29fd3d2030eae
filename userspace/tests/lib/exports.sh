#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# libswprof.so exports exactly the public API: every function declared
# SWPROF_API in userspace/lib/swprof.h, nothing else (no internal helper,
# no symbol of a static library linked in), under the version node of
# userspace/lib/libswprof.map.  TAP output.  Run from the repo top after
# the build: bash userspace/tests/lib/exports.sh
set -u
cd "$(dirname "$0")/../../.." || exit 1

so=${SWPROF_TEST_LIB:-build/lib/libswprof.so}
if [[ ! -f $so ]]; then
	echo "1..0 # SKIP $so not built (make -f userspace/Makefile)"
	exit 0
fi
if ! command -v nm > /dev/null; then
	echo "1..0 # SKIP no nm (binutils)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "1..4"
grep -o '^SWPROF_API [^(]*(' userspace/lib/swprof.h | sed -E 's/.*[ *]([a-z_0-9]+)\($/\1/' | sort -u > "$tmp/api"
# defined dynamic symbols: "ADDR T name@@LIBSWPROF_1"
nm -D --defined-only "$so" | awk '$2 ~ /^[TtDdBbRrVvWwi]$/ { print $3 }' > "$tmp/syms"
sed 's/@.*//' "$tmp/syms" | grep -v '^LIBSWPROF_' | sort -u > "$tmp/exported"

n=$(wc -l < "$tmp/api")
if ((n >= 60)); then
	echo "ok 1 swprof.h declares the API ($n functions)"
else
	echo "not ok 1 swprof.h declares the API (only $n functions found: the grep is broken)"
fi

extra=$(comm -13 "$tmp/api" "$tmp/exported")
if [[ -z $extra ]]; then
	echo "ok 2 nothing but the API is exported"
else
	echo "not ok 2 nothing but the API is exported"
	sed 's/^/# exported, not in swprof.h: /' <<<"$extra"
fi

missing=$(comm -23 "$tmp/api" "$tmp/exported")
if [[ -z $missing ]]; then
	echo "ok 3 every API function is exported"
else
	echo "not ok 3 every API function is exported"
	sed 's/^/# in swprof.h, not exported: /' <<<"$missing"
fi

unversioned=$(grep -v '^LIBSWPROF_' "$tmp/syms" | grep -vc '@@LIBSWPROF_1$')
if [[ $unversioned == 0 ]]; then
	echo "ok 4 every export carries the version node LIBSWPROF_1"
else
	echo "not ok 4 every export carries the version node LIBSWPROF_1"
	grep -v '^LIBSWPROF_' "$tmp/syms" | grep -v '@@LIBSWPROF_1$' | sed 's/^/# /' | head
fi
