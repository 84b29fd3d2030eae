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
# Lockdep's reports are caught by their own words ("WARNING: possible
# circular locking dependency detected", "DEBUG_LOCKS_WARN_ON", ...), not by
# the bare word "lockdep": a PROVE_LOCKING kernel (tools/debug-kernel) says
# "rcu: RCU lockdep checking is enabled." at every boot.

BEGIN {
	trig = "WARNING:|(^|[^A-Za-z0-9_])BUG([^A-Za-z0-9_]|$)|Oops|general protection fault" \
	       "|Call Trace|possible recursive locking|circular locking" \
	       "|DEBUG_LOCKS_WARN_ON|lockdep is turned off|locking correctness validator" \
	       "|trying to register non-static key" \
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
