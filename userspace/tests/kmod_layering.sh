#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The module's files keep their layering: no dependency cycle between
# kmod files, and every function a file uses from another is declared in
# that file's own header (tools/check-kmod-includes says which line breaks
# a rule).  Run by tools/check from the repository top.
set -u
echo "1..1"
if out=$(tools/check-kmod-includes kmod 2>&1); then
	sed 's/^/# /' <<<"$out"
	echo "ok 1 - kmod layering: no include or call cycle, cross-file calls through the owner's header"
else
	sed 's/^/# /' <<<"$out"
	echo "not ok 1 - kmod layering: no include or call cycle, cross-file calls through the owner's header"
	exit 1
fi
