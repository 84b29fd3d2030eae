# SPDX-License-Identifier: GPL-2.0-only
#
# Reads a guest's kernel console log and prints "LINE<TAB>TEXT" for every line
# that reports a kernel problem.  Used by tools/vm; see docs/testing.md.
#
#   awk -v allow='ERE' -f dmesg-check.awk console.log
#
# A line matching `allow` is exempt, and so is the rest of the report it
# starts (up to "---[ end ...", the next "cut here", or 200 lines), so that
# a test that expects one WARN does not trip on its "Call Trace".
# Lines written by the VM's init ("swprof-vm: ...") are never problems, and
# neither are the sections it brackets with "swprof-vm: ... begin" / "... end"
# (the kmemleak baseline taken before CMD, the task dump at a timeout).

BEGIN {
	trig = "WARNING:|(^|[^A-Za-z0-9_])BUG([^A-Za-z0-9_]|$)|Oops|general protection fault" \
	       "|Call Trace|possible recursive locking|circular locking|lockdep" \
	       "|inconsistent lock state|KASAN|UBSAN|KFENCE" \
	       "|kmemleak: .*suspected memory leak|unreferenced object|Objects remaining" \
	       "|Kernel panic|Unable to handle kernel|blocked for more than [0-9]+ seconds" \
	       "|detected stalls? on CPU|refcount_t: |list_(add|del) corruption"
	allowing = 0
	skipping = 0
}

{
	sub(/\r+$/, "")
	line = $0
	sub(/^\[ *[0-9]+\.[0-9]+\] /, "", line)
	sub(/^\[ *[TC][0-9]+\] /, "", line)
}

line ~ /^swprof-vm: .* begin$/ { skipping = 1; next }
line ~ /^swprof-vm: .* end$/ { skipping = 0; next }
skipping { next }
line ~ /^swprof-vm:/ { next }

allowing > 0 {
	if (line ~ /---\[ end /) {
		allowing = 0
		next
	}
	if (line !~ /cut here/) {
		allowing--
		next
	}
	allowing = 0
}

allow != "" && line ~ allow { allowing = 200; next }

line ~ trig { printf "%d\t%s\n", NR, line }
