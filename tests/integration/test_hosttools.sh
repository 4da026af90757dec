# OpenVZ's host-side helpers that look across CTs: vzpid, vzcpucheck.
# shellcheck shell=bash

# vzpid names the CT each host process belongs to (0 for the host's own),
# with the pid it has inside under -p, pids from stdin with "-"; a pid that
# does not exist or is not a number fails.
t_vzpid() {
	start_busybox 1801
	local init1 sp p
	init1=$(sed -n 's/^INIT_PID="\(.*\)"$/\1/p' "$T/run/1801/state")
	[ -n "$init1" ] || fail "no init pid: $(cat "$T/run/1801/state")"
	expect_rc 0 "$VZPID" "$init1" $$
	expect_out "^Pid	CTID	Name$"
	expect_out "^$init1	1801	init$"
	expect_out "^$$	0	bash$"
	"$VZCTL" exec 1801 'sleep 300 </dev/null >/dev/null 2>&1 &' || fail "exec sleep"
	for p in $(cat "$(cgdir pids 1801)/cgroup.procs"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && sp=$p
	done
	[ -n "$sp" ] || fail "no sleep in the CT's cgroup"
	expect_rc 0 "$VZCTL" exec 1801 'pidof sleep'
	local inside=$OUT
	[ "$inside" != "$sp" ] || fail "the CT's pid is the host's: $inside"
	expect_rc 0 "$VZPID" -p "$sp"
	expect_out "^Pid	CT/Pid	CTID	Name$"
	expect_out "^$sp	$inside	1801	sleep$"
	OUT=$(echo "$init1 $$" | "$VZPID" -) || fail "vzpid - failed"
	[ "$(printf '%s\n' "$OUT" | wc -l)" = 3 ] || fail "vzpid -: $OUT"
	expect_rc 1 "$VZPID" 999999999
	expect_rc 1 "$VZPID" nonsense
	expect_rc 1 "$VZPID"
	expect_rc 0 "$VZCTL" stop 1801 --fast
	return 0
}

# vzcpucheck sums the CPU units of the host (VE0CPUUNITS) and of the
# running CTs, as applied (a live change without --save counts; a stopped
# CT does not), against the node's power: the bogomips of its CPUs x 25.
t_vzcpucheck() {
	start_busybox 1811
	start_busybox 1812
	expect_rc 0 "$VZCTL" set 1812 --cpuunits 3000 --save
	expect_rc 0 "$VZCTL" set 1811 --cpuunits 2500
	local power
	power=$(awk -F: 'tolower($1) ~ /^bogomips/ {s += $2} END {printf "%d", s * 25}' /proc/cpuinfo)
	expect_rc 0 "$VZCPUCHECK" -v
	expect_out "^VEID		CPUUNITS$"
	expect_out "^0		1000$"
	expect_out "^1811		2500$"
	expect_out "^1812		3000$"
	expect_out "^Current CPU utilization: 6500$"
	expect_out "^Power of the node: $power$"
	printf '%s\n' "$OUT" | grep -q overcommitted && fail "overcommitted: $OUT"
	expect_rc 0 "$VZCTL" stop 1812 --fast
	expect_rc 0 "$VZCPUCHECK"
	expect_out "^Current CPU utilization: 3500$"
	printf '%s\n' "$OUT" | grep -q CPUUNITS && fail "-v table without -v: $OUT"
	echo "VE0CPUUNITS=$((power + 1))" >>"$T/vz.conf"
	expect_rc 0 "$VZCPUCHECK"
	expect_out "^Warning: hardware node is overcommitted$"
	expect_rc 2 "$VZCPUCHECK" -x
	expect_rc 0 "$VZCTL" stop 1811 --fast
	return 0
}
