#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# configs/swctl-agent.service: systemd-analyze verify accepts it, its
# capabilities are exactly the four the agent needs, its hardening leaves
# what the agent reads reachable, and its paths agree with swctl's defaults
# (cmd_agent.c's configuration, agent_config_defaults() in agent/config.c,
# configs/swctl-agent.yaml).  TAP output.
# Run from the repo top: bash userspace/tests/swctl/systemd_unit.sh
set -u
cd "$(dirname "$0")/../../.." || exit 1

unit=configs/swctl-agent.service
swctl=${BUILD:-build}/swctl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "1..9"
n=0
report() {	# report NAME STATUS [FILE]
	n=$((n + 1))
	if [[ $2 == 0 ]]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1"
		[[ -n ${3:-} && -s $3 ]] && head -n 40 "$3" | sed 's/^/# /'
	fi
}
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }

# The value of KEY= in the unit (the last one, as systemd reads it), or "".
value() { sed -n "s/^$1=//p" "$unit" | tail -n 1; }
# How many lines set KEY=.
count() { grep -c "^$1=" "$unit"; }

# 1. systemd's own check.  /usr/bin/swctl is not installed on a build
# machine and systemd-analyze fails on a missing ExecStart binary, so a copy
# runs the swctl just built; --man=no: the man page is not installed either.
if ! command -v systemd-analyze > /dev/null; then
	skip "systemd-analyze verify accepts the unit" "no systemd-analyze"
elif [[ ! -x $swctl ]]; then
	skip "systemd-analyze verify accepts the unit" "$swctl not built"
else
	sed "s|^ExecStart=/usr/bin/swctl |ExecStart=$(realpath "$swctl") |" "$unit" \
		> "$tmp/swctl-agent.service"
	systemd-analyze verify --man=no "$tmp/swctl-agent.service" > "$tmp/verify.log" 2>&1
	rc=$?
	# a clean unit prints nothing: warnings ("Unknown key name ...") count too
	[[ $rc == 0 && ! -s $tmp/verify.log ]] && grep -q "^ExecStart=/.*/swctl agent" \
		"$tmp/swctl-agent.service"
	report "systemd-analyze verify accepts the unit (exit $rc, no warning)" $? "$tmp/verify.log"
fi

# 2. exactly four capabilities, the same in the bounding and the ambient set
want="CAP_DAC_READ_SEARCH CAP_PERFMON CAP_SYSLOG CAP_SYS_PTRACE"
bound=$(value CapabilityBoundingSet | tr ' ' '\n' | sed '/^$/d' | LC_ALL=C sort | xargs)
ambient=$(value AmbientCapabilities | tr ' ' '\n' | sed '/^$/d' | LC_ALL=C sort | xargs)
[[ $bound == "$want" && $ambient == "$want" && $(count CapabilityBoundingSet) == 1 &&
	$(count AmbientCapabilities) == 1 ]]
report "capabilities: exactly $want (bounding: '$bound', ambient: '$ambient')" $?
missing=
for c in $want; do
	grep -q "^# $c: " "$unit" || missing+=" $c"
done
[[ -z $missing ]]
report "a comment says why for each capability${missing:+ (none for$missing)}" $?

# 3. the service itself
grep -qx "Type=simple" "$unit" && grep -qx "Restart=on-failure" "$unit" &&
	grep -qx "ExecStartPre=+-/sbin/modprobe swprof" "$unit" &&
	[[ $(value ExecReload) =~ ^/bin/kill\ -HUP\ \$MAINPID$ ]] &&
	grep -qx "After=network-online.target" "$unit" && grep -qx "Wants=network-online.target" "$unit" &&
	grep -qx "DynamicUser=yes" "$unit" && [[ $(count User) == 0 ]]
report "simple, restarted on failure, reloaded by SIGHUP, modprobe first, a dynamic user" $?

# 4. hardening: on, and nothing that hides what the agent reads
rc=0
for kv in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=read-only \
	ProtectControlGroups=yes LockPersonality=yes MemoryDenyWriteExecute=yes \
	SystemCallArchitectures=native "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK"; do
	grep -qx "$kv" "$unit" || { echo "missing: $kv"; rc=1; }
done > "$tmp/hard.log"
# /dev/swprof; /proc/kallsyms (ProtectKernelTunables= makes it inaccessible);
# the processes' own /tmp (read through /proc/PID/root, whatever PrivateTmp= is)
for kv in PrivateDevices=yes ProtectKernelTunables=yes ProtectProc=invisible ProcSubset=pid \
	ProtectKernelModules=yes; do
	grep -qx "$kv" "$unit" && { echo "breaks the agent: $kv"; rc=1; }
done >> "$tmp/hard.log"
grep -q '/proc/PID/root/tmp/perf-' "$unit" && grep -q 'perf-%d.map", p->root' userspace/sym/perfmap.c ||
	{ echo "perf maps are not read through /proc/PID/root any more: PrivateTmp= matters"; rc=1; } \
		>> "$tmp/hard.log"
report "hardening on, /dev/swprof, /proc/kallsyms and the processes' /tmp reachable" $rc "$tmp/hard.log"

# 5. the configuration it runs with is swctl agent's default one
conf=$(sed -n 's/^#define DEFAULT_CONFIG "\(.*\)"$/\1/p' userspace/swctl/cmd_agent.c)
[[ -n $conf && $(value ExecStart) == "/usr/bin/swctl agent --config $conf" ]]
report "ExecStart: /usr/bin/swctl agent --config $conf (swctl agent's default)" $?

# 6, 7. the socket and the spool are in the directories systemd makes
sock=$(sed -n 's/.*status_socket = strdup("\(.*\)").*/\1/p' userspace/agent/config.c)
spool=$(sed -n 's/.*spool_dir = strdup("\(.*\)").*/\1/p' userspace/agent/config.c)
rundir=$(value RuntimeDirectory)
statedir=$(value StateDirectory)
[[ -n $rundir && $sock == "/run/$rundir/"* ]] &&
	grep -q "^  status_socket: $sock$" configs/swctl-agent.yaml
report "RuntimeDirectory=$rundir holds the status socket ($sock)" $?
[[ -n $statedir && $spool == "/var/lib/$statedir/"* ]] &&
	grep -q "^    dir: $spool$" configs/swctl-agent.yaml
report "StateDirectory=$statedir holds the spool ($spool)" $?

# 8. documented where the agent is
grep -q "swctl-agent.service" docs/configuration.md &&
	grep -q "systemctl enable --now swctl-agent" docs/configuration.md
report "docs/configuration.md says how to install the unit" $?
