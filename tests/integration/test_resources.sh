# Resource limits that change live (cgroup v1 here, end to end).
# shellcheck shell=bash

# cg, cgdir, cg_oom_kills: tests/lib.sh (cgroup v1 and v2).

# A memory hog stopped at --ram, finishing once --ram is raised live.
t_res_ram_live() {
	start_busybox 1001
	expect_rc 0 "$VZCTL" set 1001 --ram 64M --swap 0 --save
	grep -q '^PHYSPAGES="0:16384"$' "$T/conf/1001.conf" || fail "PHYSPAGES: $(grep PHYS "$T/conf/1001.conf")"
	[ "$(cg memory 1001 memory.limit_in_bytes)" = 67108864 ] || fail "memory limit not applied"
	[ "$(cg memory 1001 memory.memsw.limit_in_bytes)" = 67108864 ] || fail "memsw limit not applied"
	# 100 MB into a tmpfs-less pipe buffer: tail keeps the last line in memory.
	"$VZCTL" exec2 1001 'head -c 100m /dev/zero | tail -c 90m >/dev/null'
	local rc=$?
	[ $rc -ne 0 ] || fail "hog survived a 64M limit"
	# With memory+swap = memory the kernel counts the refusal on memsw (and,
	# since 6.13, only as an OOM kill): either shows the CT was refused.
	local refused
	refused=$(( $(cg memory 1001 memory.failcnt) + $(cg memory 1001 memory.memsw.failcnt) +
		$(cg_oom_kills 1001) ))
	[ "$refused" -gt 0 ] || fail "no refusal counted"
	expect_rc 0 "$VZCTL" set 1001 --ram 256M
	expect_out 'WARNING: Settings were not saved'
	expect_rc 0 "$VZCTL" exec 1001 'head -c 100m /dev/zero | tail -c 90m >/dev/null && echo finished'
	[ "$OUT" = finished ] || fail "hog did not finish after raising --ram: $OUT"
	grep -q '^PHYSPAGES="0:16384"$' "$T/conf/1001.conf" || fail "unsaved change reached the config"
}

# The guide's loop must leave a sensible, enforced memory limit.
t_res_guide_memory_loop() {
	start_busybox 1002
	local t
	for t in vmguarpages oomguarpages privvmpages; do
		expect_rc 0 "$VZCTL" set 1002 --save --$t 512M
		# Without VSwap they make the memory limit: not "not enforced".
		printf '%s\n' "$OUT" | grep -q 'not enforced' && fail "--$t said: $OUT"
	done
	expect_rc 0 "$VZCTL" set 1002 --save --numtcpsock 100 --kmemsize 20M
	expect_out '^Warning: kmemsize, numtcpsock: stored and shown in /run/user_beancounters, not enforced by this kernel$'
	expect_rc 0 "$VZCTL" set 1002 --save --swappages 2G:2G
	[ "$(cg memory 1002 memory.limit_in_bytes)" = $((512 << 20)) ] ||
		fail "memory limit $(cg memory 1002 memory.limit_in_bytes)"
	local memsw
	memsw=$(cg memory 1002 memory.memsw.limit_in_bytes)
	[ "$memsw" -ge $((512 << 20)) ] || fail "memsw $memsw below memory"
	# Restart: the saved limits come back.
	expect_rc 0 "$VZCTL" restart 1002
	[ "$(cg memory 1002 memory.limit_in_bytes)" = $((512 << 20)) ] || fail "limit lost on restart"
}

t_res_numproc_live() {
	start_busybox 1003
	expect_rc 0 "$VZCTL" set 1003 --numproc 15:15
	[ "$(cg pids 1003 pids.max)" = 15 ] || fail "pids.max not 15"
	"$VZCTL" exec 1003 'i=0; while [ $i -lt 30 ]; do sleep 3 & i=$((i+1)); done 2>/dev/null; wait' >/dev/null 2>&1
	grep -q 'max [1-9]' "$(cgdir pids 1003)/pids.events" || fail "no fork refused"
	expect_rc 0 "$VZCTL" set 1003 --numproc 200:200 --save
	expect_rc 0 "$VZCTL" exec 1003 'i=0; while [ $i -lt 30 ]; do sleep 1 & i=$((i+1)); done; wait; echo all-forked'
	expect_out 'all-forked'
}

t_res_devnodes_tun() {
	start_busybox 1004
	"$VZCTL" exec2 1004 'test -c /dev/net/tun' && fail "/dev/net/tun present before --devnodes"
	expect_rc 0 "$VZCTL" set 1004 --devnodes net/tun:rw --save
	# vzctl's word for it, live and at each start.
	expect_out '^Setting devices$'
	expect_rc 0 "$VZCTL" exec 1004 'ls -l /dev/net/tun'
	expect_out '10, *200'
	# Openable: the only error left is "not attached" (EBADFD), not EPERM.
	expect_rc 0 "$VZCTL" exec 1004 'cat /dev/net/tun 2>&1; true'
	printf '%s' "$OUT" | grep -qi 'not permitted' && fail "tun refused by the devices cgroup: $OUT"
	grep -q '^DEVNODES="net/tun:rw"$' "$T/conf/1004.conf" || fail "DEVNODES not saved"
	# A node the CT was not given stays closed even if the CT makes it.
	expect_rc 0 "$VZCTL" exec 1004 'mknod /tmp/kmsg c 1 11 && cat /tmp/kmsg 2>&1 | head -1; true'
	printf '%s' "$OUT" | grep -qi 'not permitted' || fail "an ungranted device opened: $OUT"
	# After restart the node is there again.
	expect_rc 0 "$VZCTL" restart 1004
	expect_out '^Setting devices$'
	wait_for 100 booted 1004 || fail "no boot"
	expect_rc 0 "$VZCTL" exec 1004 'test -c /dev/net/tun && echo yes'
	[ "$OUT" = yes ] || fail "tun gone after restart"
}

# As vzctl: one --devnodes or --devices argument may hold several entries,
# space separated; each replaces the entry for its device, live too.
t_res_devlist_several_in_one_arg() {
	start_busybox 1013
	expect_rc 0 "$VZCTL" set 1013 --devnodes 'net/tun:r fuse:rw' --devices 'c:1:11:r c:10:200:rw' --save
	grep -qx 'DEVNODES="net/tun:r fuse:rw"' "$T/conf/1013.conf" || fail "DEVNODES: $(grep DEVNODES "$T/conf/1013.conf")"
	grep -qx 'DEVICES="c:1:11:r c:10:200:rw"' "$T/conf/1013.conf" || fail "DEVICES: $(grep DEVICES "$T/conf/1013.conf")"
	expect_rc 0 "$VZCTL" exec 1013 'ls -l /dev/net/tun /dev/fuse'
	expect_out '10, *200'
	expect_out '10, *229'
	expect_rc 0 "$VZCTL" set 1013 --devnodes 'fuse:r net/tun:rw' --save
	grep -qx 'DEVNODES="fuse:r net/tun:rw"' "$T/conf/1013.conf" || fail "DEVNODES: $(grep DEVNODES "$T/conf/1013.conf")"
	# One bad entry refuses the whole argument.
	expect_rc 21 "$VZCTL" set 1013 --devices 'c:1:3:r x:1:5:r' --save
	expect_out 'Bad parameter for --devices: x:1:5:r'
	grep -qx 'DEVICES="c:1:11:r c:10:200:rw"' "$T/conf/1013.conf" || fail "a refused DEVICES was saved"
	expect_rc 0 "$VZCTL" stop 1013 --fast
}

# --devnodes none empties DEVNODES and, on a running CT, takes the access
# away at once, as any other --devnodes change.
t_res_devnodes_none_live() {
	start_busybox 1016
	expect_rc 0 "$VZCTL" set 1016 --devnodes net/tun:rw --save
	expect_rc 0 "$VZCTL" exec 1016 'cat /dev/net/tun 2>&1; true'
	printf '%s' "$OUT" | grep -qi 'not permitted' && fail "tun refused before none: $OUT"
	expect_rc 0 "$VZCTL" set 1016 --devnodes none --save
	grep -qx 'DEVNODES=""' "$T/conf/1016.conf" || fail "DEVNODES: $(grep DEVNODES "$T/conf/1016.conf")"
	expect_rc 0 "$VZCTL" exec 1016 'cat /dev/net/tun 2>&1; true'
	printf '%s' "$OUT" | grep -qi 'not permitted' || fail "tun still open after none: $OUT"
	expect_rc 0 "$VZCTL" stop 1016 --fast
}

# --cpulimit 50 caps a busy loop: CPU time over wall time, as a ratio.
t_res_cpulimit() {
	start_busybox 1005
	expect_rc 0 "$VZCTL" set 1005 --cpulimit 50 --save
	[ "$(cg cpu 1005 cpu.cfs_quota_us)" = 50000 ] || fail "quota not set"
	local before after
	before=$(awk '/usage_usec/ {print $2}' "$(cgdir cpu 1005)/cpu.stat" 2>/dev/null)
	[ -n "$before" ] || before=$(cg cpuacct 1005 cpuacct.usage | awk '{print int($1/1000)}')
	"$VZCTL" exec 1005 'timeout 2 sh -c "while :; do :; done"' >/dev/null 2>&1
	after=$(awk '/usage_usec/ {print $2}' "$(cgdir cpu 1005)/cpu.stat" 2>/dev/null)
	[ -n "$after" ] || after=$(cg cpuacct 1005 cpuacct.usage | awk '{print int($1/1000)}')
	local used=$(( (after - before) / 1000 ))
	echo "busy loop for 2 s used ${used} ms of CPU with --cpulimit 50"
	[ "$used" -lt 1500 ] || fail "cpulimit 50 did not cap: ${used} ms of CPU in 2 s"
	grep -q 'nr_throttled [1-9]' "$(cgdir cpu 1005)/cpu.stat" || fail "never throttled"
}

# Bad values: OpenVZ's message and exit code, nothing changed anywhere.
t_res_bad_values_change_nothing() {
	start_busybox 1006
	expect_rc 0 "$VZCTL" set 1006 --ram 128M --numproc 50 --save
	cp "$T/conf/1006.conf" "$T/before"
	local mem pids
	mem=$(cg memory 1006 memory.limit_in_bytes)
	pids=$(cg pids 1006 pids.max)
	expect_rc 21 "$VZCTL" set 1006 --ram abc --save
	expect_out 'Bad parameter for --ram: abc'
	expect_rc 21 "$VZCTL" set 1006 --numproc 30:20 --save
	expect_rc 21 "$VZCTL" set 1006 --numproc -5 --save
	expect_rc 21 "$VZCTL" set 1006 --kmemsize 1Q --save
	expect_rc 21 "$VZCTL" set 1006 --numproc 10K --save
	expect_rc 21 "$VZCTL" set 1006 --no-such-resource 5 --save
	expect_rc 21 "$VZCTL" set 1006 --cpumask 999 --save
	# Valid syntax the kernel refuses: the memory limit below what is used.
	expect_rc 0 "$VZCTL" exec 1006 'head -c 30m /dev/zero > /dev/shm/fill'
	"$VZCTL" set 1006 --ram 1M --numproc 7 --save >"$T/out" 2>&1 && fail "1M accepted: $(cat "$T/out")"
	cmp -s "$T/conf/1006.conf" "$T/before" || fail "config changed by a refused set"
	[ "$(cg memory 1006 memory.limit_in_bytes)" = "$mem" ] || fail "memory limit half-applied"
	[ "$(cg pids 1006 pids.max)" = "$pids" ] || fail "pids.max half-applied"
	ct_running 1006 || fail "CT harmed"
}

t_res_cpu_io_values() {
	start_busybox 1007
	expect_rc 0 "$VZCTL" set 1007 --cpuunits 2000 --cpus 1 --cpumask 0 --ioprio 6 --iolimit 10 --iopslimit 500 --save
	cpu_units_applied 1007 2000 || fail "cpuunits 2000 not applied"
	[ "$(cg cpu 1007 cpu.cfs_quota_us)" = 100000 ] || fail "cpus 1 -> quota $(cg cpu 1007 cpu.cfs_quota_us)"
	[ "$(cg cpuset 1007 cpuset.cpus)" = 0 ] || fail "cpumask $(cg cpuset 1007 cpuset.cpus)"
	grep -q '^IOLIMIT="10485760"$' "$T/conf/1007.conf" || fail "IOLIMIT $(grep IOLIMIT "$T/conf/1007.conf")"
	# ioprio: OpenVZ's 6 (the higher, the more I/O) is best-effort level 1
	# (Linux's run the other way), on processes started afterwards too.
	expect_rc 0 "$VZCTL" exec 1007 'cat /proc/self/io 2>/dev/null >/dev/null; echo $$'
	local init
	init=$(state_pid 1007 INIT_PID)
	expect_rc 21 "$VZCTL" set 1007 --ioprio 9
	expect_rc 21 "$VZCTL" set 1007 --cpuunits 3
	expect_rc 0 "$VZCTL" restart 1007
	init=$(state_pid 1007 INIT_PID)
	ionice -p "$init" | grep -q 'best-effort: prio 1' || fail "init ioprio: $(ionice -p "$init")"
	# and on what exec starts
	local p sp=
	expect_rc 0 "$VZCTL" exec 1007 'sleep 30 </dev/null >/dev/null 2>&1 &'
	for p in $(cg pids 1007 cgroup.procs); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && sp=$p
	done
	[ -n "$sp" ] || fail "no sleep in the CT's cgroup"
	ionice -p "$sp" | grep -q 'best-effort: prio 1' || fail "exec'd ioprio: $(ionice -p "$sp")"
	return 0
}

# Option values as vzctl 4.x takes them on its command line (config.c,
# vzctl-actions.c:parse_opt): "Bad parameter for --X: Y" (21) for what it
# cannot take, numbers above LONG_MAX and an iolimit above INT_MAX bytes/s
# included (vzctl truncates those only in config files); --cpulimit N% is
# N per cent of the whole host; --ram/--swap round up to whole pages.
t_res_set_values_openvz() {
	"$VZCTL" --quiet create 1012 --ostemplate busybox-x86_64 || fail create
	local conf=$T/conf/1012.conf
	expect_rc 0 "$VZCTL" set 1012 --kmemsize 1M --save
	cp "$conf" "$T/before"
	expect_rc 21 "$VZCTL" set 1012 --numproc 10K --save
	expect_out '^Bad parameter for --numproc: 10K$'
	expect_rc 21 "$VZCTL" set 1012 --kmemsize 9223372036854775808 --save
	expect_out '^Bad parameter for --kmemsize: 9223372036854775808$'
	expect_rc 21 "$VZCTL" set 1012 --privvmpages 1:99999999999999T --save
	expect_out '^Bad parameter for --privvmpages: 1:99999999999999T$'
	expect_rc 21 "$VZCTL" set 1012 --iolimit 3000 --save
	expect_out '^Bad parameter for --iolimit: 3000$'
	expect_rc 21 "$VZCTL" set 1012 --cpuunits 7 --save
	expect_out '^Bad parameter for --cpuunits: 7$'
	expect_rc 21 "$VZCTL" set 1012 --cpulimit 101% --save
	expect_out '^Bad parameter for --cpulimit: 101%$'
	expect_rc 21 "$VZCTL" set 1012 --ram 99999999999999999999 --save
	expect_out '^Bad parameter for --ram: 99999999999999999999$'
	# what a start would refuse is refused here, not saved
	expect_rc 21 "$VZCTL" set 1012 --iopslimit 2147483648 --save
	expect_out '^Bad parameter for --iopslimit: 2147483648$'
	expect_rc 21 "$VZCTL" set 1012 --cpus 8193 --save
	expect_out '^Bad parameter for --cpus: 8193$'
	cmp -s "$conf" "$T/before" || fail "config changed by a refused set: $(diff "$T/before" "$conf")"
	# LONG_MAX itself is unlimited, as vzctl writes it
	expect_rc 0 "$VZCTL" set 1012 --kmemsize 9223372036854775807 --save
	grep -q '^KMEMSIZE="unlimited:unlimited"$' "$conf" || fail "$(grep KMEMSIZE "$conf")"
	local ncpu
	ncpu=$(getconf _NPROCESSORS_ONLN)
	expect_rc 0 "$VZCTL" set 1012 --cpulimit 50% --save
	grep -q "^CPULIMIT=\"$((50 * ncpu))\"$" "$conf" || fail "50% of $ncpu CPUs: $(grep CPULIMIT "$conf")"
	expect_rc 0 "$VZCTL" set 1012 --ram 1000 --swap 4097 --save
	grep -q '^PHYSPAGES="0:1"$' "$conf" || fail "--ram 1000: $(grep PHYSPAGES "$conf")"
	grep -q '^SWAPPAGES="0:2"$' "$conf" || fail "--swap 4097: $(grep SWAPPAGES "$conf")"
	expect_rc 0 "$VZCTL" set 1012 --iolimit 2047 --save
	grep -q '^IOLIMIT="2146435072"$' "$conf" || fail "$(grep IOLIMIT "$conf")"
}

# What a live set says, as vzctl 4.x (vps_setup_res: UBC, then CPU, then
# I/O; panels such as WHMCS's OpenVZ module look for the UB line), before
# "CT configuration saved"; --reset_ub says the UB line too; start says
# the config's CPU and I/O values (beancounters without a word).
t_res_set_messages_openvz() {
	start_busybox 1013
	expect_rc 0 "$VZCTL" set 1013 --iolimit 10 --cpus 1 --ram 128M --cpuunits 2000 --cpulimit 50 --save
	printf '%s\n' "$OUT" >"$T/out"
	local want='UB limits were set successfully
Setting CPU limit: 50
Setting CPU units: 2000
Setting CPUs: 1
Setting iolimit: 10485760 bytes/sec
CT configuration saved to '"$T"'/conf/1013.conf'
	[ "$(grep -E '^(UB limits|Setting |CT configuration saved)' "$T/out")" = "$want" ] ||
		fail "set said: $(cat "$T/out")"
	expect_rc 0 "$VZCTL" set 1013 --iolimit 0
	expect_out '^Setting iolimit: 0 \(unlimited\)$'
	expect_rc 0 "$VZCTL" set 1013 --reset_ub
	expect_out '^UB limits were set successfully$'
	# A stopped CT: nothing is applied, nothing said but the save.
	expect_rc 0 "$VZCTL" stop 1013
	expect_rc 0 "$VZCTL" set 1013 --cpuunits 1500 --numproc 100 --save
	printf '%s\n' "$OUT" | grep -Eq '^(UB limits|Setting )' && fail "stopped CT: $OUT"
	# start says the config's CPU and I/O values, before "start in progress"
	expect_rc 0 "$VZCTL" start 1013
	want='Starting container...
Setting CPU limit: 50
Setting CPU units: 1500
Setting CPUs: 1
Setting iolimit: 10485760 bytes/sec
Container start in progress...'
	[ "$(printf '%s\n' "$OUT" | grep -E '^(Starting container|Setting |Container start|UB limits)')" = "$want" ] ||
		fail "start said: $OUT"
	return 0
}

# NUMA: --nodemask is cpuset.mems (live, and again at each start); vzctl's
# "--cpumask auto" is the CPUs of those nodes, kept as "auto" in the config.
# As vzctl, a node mask goes with a CPU mask and "auto" needs nodes.
t_res_numa_masks() {
	start_busybox 1009
	local node0 nodes
	node0=$(cat /sys/devices/system/node/node0/cpulist 2>/dev/null || cat /sys/devices/system/cpu/online)
	nodes=$(cat /sys/devices/system/node/online 2>/dev/null || echo 0)
	expect_rc 0 "$VZCTL" set 1009 --cpumask 0 --save
	cp "$T/conf/1009.conf" "$T/before"
	expect_rc 20 "$VZCTL" set 1009 --cpumask auto --save
	expect_out 'Error: --cpumask auto option requires --nodemask'
	expect_rc 21 "$VZCTL" set 1009 --nodemask $((${nodes##*[-,]} + 1)) --save
	expect_out "Bad parameter for --nodemask: $((${nodes##*[-,]} + 1)) \(node $((${nodes##*[-,]} + 1)) is not online\)"
	expect_rc 21 "$VZCTL" set 1009 --nodemask x --save
	cmp -s "$T/conf/1009.conf" "$T/before" || fail "config changed by a refused set"
	[ "$(cg cpuset 1009 cpuset.cpus)" = 0 ] || fail "cpus changed by a refused set: $(cg cpuset 1009 cpuset.cpus)"
	expect_rc 0 "$VZCTL" set 1009 --cpumask auto --nodemask 0 --save
	grep -q '^CPUMASK="auto"$' "$T/conf/1009.conf" || fail "CPUMASK $(grep CPUMASK "$T/conf/1009.conf")"
	grep -q '^NODEMASK="0"$' "$T/conf/1009.conf" || fail "NODEMASK $(grep NODEMASK "$T/conf/1009.conf")"
	[ "$(cg cpuset 1009 cpuset.cpus)" = "$node0" ] || fail "auto: cpus $(cg cpuset 1009 cpuset.cpus), node 0 has $node0"
	[ "$(cg cpuset 1009 cpuset.mems)" = 0 ] || fail "mems $(cg cpuset 1009 cpuset.mems)"
	expect_rc 0 "$VZCTL" exec 1009 'grep Mems_allowed_list /proc/self/status'
	expect_out 'Mems_allowed_list:[[:space:]]+0$'
	# A CPU mask from the config with the set's nodes: no --cpumask needed.
	expect_rc 0 "$VZCTL" set 1009 --cpumask 0 --nodemask all --save
	expect_rc 0 "$VZCTL" set 1009 --nodemask 0 --save
	expect_rc 0 "$VZCTL" restart 1009
	[ "$(cg cpuset 1009 cpuset.cpus)" = 0 ] || fail "after restart: cpus $(cg cpuset 1009 cpuset.cpus)"
	[ "$(cg cpuset 1009 cpuset.mems)" = 0 ] || fail "after restart: mems $(cg cpuset 1009 cpuset.mems)"
	# Back to all: the parent's CPUs and nodes (v2 refuses an empty list in
	# a cpuset with tasks, so not the inherited empty one there either).
	expect_rc 0 "$VZCTL" set 1009 --cpumask all --nodemask all --save
	local parent eff_cpus=cpuset.effective_cpus eff_mems=cpuset.effective_mems
	parent=$(dirname "$(cgdir cpuset 1009)")
	cg_v2 && eff_cpus=cpuset.cpus.effective eff_mems=cpuset.mems.effective
	[ "$(cg cpuset 1009 cpuset.mems)" = "$(cat "$parent/$eff_mems")" ] ||
		fail "mems not the parent's: $(cg cpuset 1009 cpuset.mems)"
	[ "$(cg cpuset 1009 cpuset.cpus)" = "$(cat "$parent/$eff_cpus")" ] ||
		fail "cpus not the parent's: $(cg cpuset 1009 cpuset.cpus)"
	# A stopped CT: a node mask alone, without a CPU mask anywhere, is refused.
	expect_rc 0 "$VZCTL" stop 1009
	expect_rc 0 "$VZCTL" set 1009 --cpumask all --save
	sed -i '/^CPUMASK=/d' "$T/conf/1009.conf"
	expect_rc 20 "$VZCTL" set 1009 --nodemask 0 --save
	expect_out 'Error: --nodemask must be used with --cpumask'
	return 0
}

# A capability change needs a restart: warned without --setmode, done with
# --setmode restart.
t_res_capability_setmode() {
	start_busybox 1008
	expect_rc 0 "$VZCTL" exec 1008 'grep CapBnd /proc/1/status'
	local bnd=$((16#${OUT##*:	}))
	[ $((bnd >> 25 & 1)) -eq 0 ] || fail "sys_time granted by default"
	expect_rc 0 "$VZCTL" set 1008 --capability sys_time:on --save
	expect_out 'Unable to set capability on a running container'
	expect_out 'Please consider using --setmode option'
	grep -q '^CAPABILITY="SYS_TIME:on"$' "$T/conf/1008.conf" || fail "capability not saved"
	expect_rc 0 "$VZCTL" set 1008 --capability net_admin:off --save --setmode restart
	expect_out 'Restarting container'
	wait_for 100 booted 1008 || fail "no boot after setmode restart"
	expect_rc 0 "$VZCTL" exec 1008 'grep CapBnd /proc/1/status'
	bnd=$((16#${OUT##*:	}))
	[ $((bnd >> 25 & 1)) -eq 1 ] || fail "sys_time not granted after restart"
	[ $((bnd >> 12 & 1)) -eq 0 ] || fail "net_admin not dropped"
	expect_rc 21 "$VZCTL" set 1008 --capability no_such_cap:on --save
	[ "$OUT" = "Capability no_such_cap is unknown
Bad parameter for --capability: no_such_cap:on" ] || fail "unknown capability: $OUT"
	expect_rc 21 "$VZCTL" set 1008 --capability sys_time --save
	[ "$OUT" = "Can't parse capability sys_time (expecting capname:on|off)
Bad parameter for --capability: sys_time" ] || fail "capability without on/off: $OUT"
	expect_rc 20 "$VZCTL" set 1008 --capability sys_time:on --setmode restart
}

# As vzctl: a --capability that leaves the config's capabilities as they
# are needs no restart: no warning, and --setmode restart does nothing.
t_capability_unchanged_no_restart() {
	start_busybox 1015
	expect_rc 0 "$VZCTL" set 1015 --capability sys_time:on --save --setmode restart
	expect_out 'Restarting container'
	wait_for 100 booted 1015 || fail "no boot after setmode restart"
	expect_rc 0 "$VZCTL" set 1015 --capability sys_time:on --save
	printf '%s' "$OUT" | grep -q 'Unable to set capability' && fail "warned for no change: $OUT"
	expect_rc 0 "$VZCTL" set 1015 --capability sys_time:on --save --setmode restart
	printf '%s' "$OUT" | grep -q 'Restarting' && fail "restarted for no change: $OUT"
	# A real change still warns.
	expect_rc 0 "$VZCTL" set 1015 --capability sys_time:off --save
	expect_out 'Unable to set capability on a running container'
	expect_rc 0 "$VZCTL" stop 1015 --fast
}

# As vzctl: CAPABILITY holds one entry a capability (a new one replaces
# the old), written NAME:on|off in upper case; a bad value is a bad
# parameter (21) in vzctl's words, and nothing is saved.
t_set_capability_merge() {
	expect_rc 0 "$VZCTL" create 1014 --ostemplate busybox-x86_64
	expect_rc 0 "$VZCTL" set 1014 --capability sys_time:on --save
	expect_rc 0 "$VZCTL" set 1014 --capability 'net_admin:off,SYS_TIME:off' --capability chown:on --save
	grep -qx 'CAPABILITY="CHOWN:on NET_ADMIN:off SYS_TIME:off"' "$T/conf/1014.conf" ||
		fail "CAPABILITY: $(grep CAPABILITY "$T/conf/1014.conf")"
	expect_rc 0 "$VZCTL" set 1014 --capability 'sys_time:on chown:off' --save
	grep -qx 'CAPABILITY="CHOWN:off NET_ADMIN:off SYS_TIME:on"' "$T/conf/1014.conf" ||
		fail "CAPABILITY: $(grep CAPABILITY "$T/conf/1014.conf")"
	expect_rc 21 "$VZCTL" set 1014 --capability foo:on --save
	expect_out '^Capability foo is unknown$'
	expect_out '^Bad parameter for --capability: foo:on$'
	expect_rc 21 "$VZCTL" set 1014 --capability chown --save
	expect_out "^Can't parse capability chown \(expecting capname:on\|off\)$"
	expect_out '^Bad parameter for --capability: chown$'
	grep -qx 'CAPABILITY="CHOWN:off NET_ADMIN:off SYS_TIME:on"' "$T/conf/1014.conf" || fail "a refused value was saved"
	# The merged value starts: sys_time given, net_admin taken.
	expect_rc 0 "$VZCTL" start 1014
	wait_for 100 booted 1014 || fail "no boot"
	expect_rc 0 "$VZCTL" exec 1014 'grep CapBnd /proc/1/status'
	local bnd=$((16#${OUT##*:	}))
	[ $((bnd >> 25 & 1)) -eq 1 ] || fail "sys_time not granted"
	[ $((bnd >> 12 & 1)) -eq 0 ] || fail "net_admin not dropped"
	expect_rc 0 "$VZCTL" stop 1014 --fast
}

t_res_reset_ub() {
	start_busybox 1009
	expect_rc 0 "$VZCTL" set 1009 --numproc 40 --save
	expect_rc 0 "$VZCTL" set 1009 --numproc 80
	[ "$(cg pids 1009 pids.max)" = 80 ] || fail "live numproc"
	expect_rc 0 "$VZCTL" set 1009 --reset_ub
	[ "$(cg pids 1009 pids.max)" = 40 ] || fail "reset_ub did not restore the saved value"
	expect_rc 20 "$VZCTL" set 1009 --reset_ub --numproc 5
	expect_out 'exclusive'
}

# --applyconfig on a running CT applies the sample's limits at once, as
# vzctl did (they used to wait for the next start), the options given
# winning over the sample; disk limits and the network are only saved.
t_res_applyconfig_live() {
	start_busybox 1010
	cat >"$T/conf/ve-live.conf-sample" <<'CONF'
PHYSPAGES="0:100M"
SWAPPAGES="0:0"
NUMPROC="50:50"
CPUUNITS="1500"
DISKSPACE="3G:3G"
HOSTNAME="from-sample"
CONF
	expect_rc 0 "$VZCTL" set 1010 --applyconfig live --cpuunits 1700 --save
	[ "$(cg memory 1010 memory.limit_in_bytes)" = $((100 << 20)) ] ||
		fail "memory limit $(cg memory 1010 memory.limit_in_bytes)"
	[ "$(cg pids 1010 pids.max)" = 50 ] || fail "pids.max $(cg pids 1010 pids.max)"
	cpu_units_applied 1010 1700 || fail "the option's cpuunits 1700 did not win"
	grep -q '^CPUUNITS="1700"$' "$T/conf/1010.conf" || fail "CPUUNITS $(grep CPUUNITS "$T/conf/1010.conf")"
	grep -q '^DISKSPACE="3G:3G"$' "$T/conf/1010.conf" || fail "DISKSPACE not saved"
	grep -q 'from-sample' "$T/conf/1010.conf" && fail "the sample's HOSTNAME was taken"
	expect_rc 0 "$VZCTL" exec 1010 'grep numproc /run/user_beancounters'
	expect_out ' 50 +50 '
	return 0
}

# As OpenVZ, a set changes only what it names on the running CT: an
# unsaved live change stays until the CT stops, whatever is set after it
# (each set used to apply every limit again from the config, undoing the
# unsaved ones); --reset_ub brings back the config's beancounters only.
t_res_live_sets_accumulate() {
	start_busybox 1011
	expect_rc 0 "$VZCTL" set 1011 --numproc 40 --save
	expect_rc 0 "$VZCTL" set 1011 --numproc 80
	expect_rc 0 "$VZCTL" set 1011 --ram 128M --swap 0
	expect_rc 0 "$VZCTL" set 1011 --cpus 1
	expect_rc 0 "$VZCTL" set 1011 --devices c:10:200:rw
	expect_rc 0 "$VZCTL" set 1011 --cpulimit 0
	[ "$(cg pids 1011 pids.max)" = 80 ] || fail "live numproc 80 undone: $(cg pids 1011 pids.max)"
	[ "$(cg memory 1011 memory.limit_in_bytes)" = $((128 << 20)) ] ||
		fail "live --ram undone: $(cg memory 1011 memory.limit_in_bytes)"
	[ "$(cg cpu 1011 cpu.cfs_quota_us)" = 100000 ] || fail "live --cpus 1 undone: $(cg cpu 1011 cpu.cfs_quota_us)"
	if ! cg_v2; then
		grep -q '^c 10:200 rw' "$(cgdir devices 1011)/devices.list" || fail "live --devices undone"
	fi
	expect_rc 0 "$VZCTL" exec 1011 'mknod /dev/tun0 c 10 200 && cat /dev/tun0 2>&1; true'
	printf '%s' "$OUT" | grep -qi 'not permitted' && fail "tun refused after a later set: $OUT"
	expect_rc 0 "$VZCTL" exec 1011 'grep numproc /run/user_beancounters'
	expect_out ' 80 +80 '
	# --devices adds to what the CT has, not to the config's list.
	expect_rc 0 "$VZCTL" set 1011 --devices c:1:4:r
	if ! cg_v2; then
		grep -q '^c 10:200 rw' "$(cgdir devices 1011)/devices.list" || fail "a second --devices dropped the first"
	fi
	# A live --ioprio holds for what is started after it too.
	expect_rc 0 "$VZCTL" set 1011 --ioprio 7
	expect_rc 0 "$VZCTL" exec 1011 'sleep 30 </dev/null >/dev/null 2>&1 &'
	local p sp=
	for p in $(cg pids 1011 cgroup.procs); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && sp=$p
	done
	[ -n "$sp" ] || fail "no sleep in the CT's cgroup"
	ionice -p "$sp" | grep -q 'best-effort: prio 0' || fail "exec'd after a live --ioprio 7: $(ionice -p "$sp")"
	# --reset_ub: the config's beancounters, the other live values stay.
	expect_rc 0 "$VZCTL" set 1011 --reset_ub
	[ "$(cg pids 1011 pids.max)" = 40 ] || fail "reset_ub: pids.max $(cg pids 1011 pids.max)"
	[ "$(cg cpu 1011 cpu.cfs_quota_us)" = 100000 ] || fail "reset_ub undid --cpus"
	# A restart has only the config.
	expect_rc 0 "$VZCTL" restart 1011
	wait_for 100 booted 1011 || fail "no boot"
	[ "$(cg pids 1011 pids.max)" = 40 ] || fail "restart: pids.max $(cg pids 1011 pids.max)"
	[ "$(cg cpu 1011 cpu.cfs_quota_us)" = -1 ] || fail "restart kept an unsaved --cpus"
	expect_rc 0 "$VZCTL" set 1011 --cpulimit 50
	[ "$(cg memory 1011 memory.limit_in_bytes)" = 9223372036854771712 ] ||
		fail "an unsaved --ram of the last run came back"
	return 0
}

# --applyconfig as vzctl's: without --save it is applied to a running CT
# (and said not saved), checked on a stopped one; saved, it records the
# sample in ORIGIN_SAMPLE and keeps the CT's own DESCRIPTION.
t_res_applyconfig_unsaved_and_origin() {
	expect_rc 0 "$VZCTL" create 1011 --ostemplate busybox-x86_64 --description "mine"
	cat >"$T/conf/ve-small.conf-sample" <<'CONF'
NUMPROC="40:40"
DESCRIPTION="the sample's"
CONF
	cp "$T/conf/1011.conf" "$T/before.conf"
	expect_rc 0 "$VZCTL" set 1011 --applyconfig small
	[ "$OUT" = "WARNING: Settings were not saved to config (use --save flag)" ] || fail "stopped: $OUT"
	cmp -s "$T/before.conf" "$T/conf/1011.conf" || fail "config changed without --save"
	expect_rc 109 "$VZCTL" set 1011 --applyconfig nosuch
	expect_out "^Sample config file not found: $T/conf/ve-nosuch.conf-sample\$"
	expect_rc 0 "$VZCTL" --quiet start 1011
	expect_rc 0 "$VZCTL" set 1011 --applyconfig small
	expect_out 'will be lost after CT restart'
	[ "$(cg pids 1011 pids.max)" = 40 ] || fail "pids.max $(cg pids 1011 pids.max)"
	cmp -s "$T/before.conf" "$T/conf/1011.conf" || fail "config changed without --save"
	expect_rc 0 "$VZCTL" set 1011 --applyconfig small --save
	grep -q '^ORIGIN_SAMPLE="small"$' "$T/conf/1011.conf" || fail "ORIGIN_SAMPLE: $(grep ORIGIN "$T/conf/1011.conf")"
	grep -q '^DESCRIPTION="mine"$' "$T/conf/1011.conf" || fail "DESCRIPTION: $(grep DESCR "$T/conf/1011.conf")"
	grep -q '^NUMPROC="40:40"$' "$T/conf/1011.conf" || fail "NUMPROC not saved"
}

# What a running CT was given is in its run state, beside its processes:
# one file per CT, so one page of a tmpfs /run (as on a stock host). Each
# writer keeps the others' keys.
t_res_applied_in_the_state() {
	expect_rc 0 "$VZCTL" --quiet create 1017 --ostemplate busybox-x86_64
	expect_rc 0 "$VZCTL" set 1017 --numproc 40 --cpuunits 2000 --save
	expect_rc 0 "$VZCTL" --quiet start 1017
	wait_for 100 booted 1017 || fail "no boot"
	local f files=
	for f in "$T/run/1017"/*; do
		[ -f "$f" ] && [ -s "$f" ] && [ "${f##*/}" != console.log ] && files="$files ${f##*/}"
	done
	[ "$files" = " state" ] || fail "files with data in the run directory:$files"
	grep -q '^NUMPROC="40:40"$' "$T/run/1017/state" || fail "state: $(cat "$T/run/1017/state")"
	grep -q '^CPUUNITS="2000"$' "$T/run/1017/state" || fail "no CPUUNITS: $(cat "$T/run/1017/state")"
	local init
	init=$(state_pid 1017 INIT_PID)
	[ -n "$init" ] && [ "$init" -gt 1 ] || fail "no INIT_PID: $(cat "$T/run/1017/state")"
	# A live set changes its keys and keeps the processes'.
	expect_rc 0 "$VZCTL" set 1017 --numproc 90 --cpuunits 3000
	grep -q '^NUMPROC="90:90"$' "$T/run/1017/state" || fail "live set: $(cat "$T/run/1017/state")"
	[ "$(state_pid 1017 INIT_PID)" = "$init" ] || fail "live set lost INIT_PID: $(cat "$T/run/1017/state")"
	expect_rc 0 "$VZCTL" exec 1017 'grep numproc /run/user_beancounters'
	expect_out ' 90 +90 '
	expect_rc 0 "$VZCPUCHECK" -v
	expect_out "^1017		3000$"
	expect_rc 0 "$VZCTL" status 1017
	expect_out 'running'
	expect_rc 0 "$VZCTL" stop 1017 --fast
	[ ! -e "$T/run/1017/state" ] || fail "state left after the stop"
}
