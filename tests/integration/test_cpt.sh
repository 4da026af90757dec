# Checkpoint/restore with CRIU (vz.conf CRIU, installed by scripts/install-criu).
# shellcheck shell=bash

CRIU_BIN=${NVZ_CRIU:-/opt/nvz/criu/criu}

cpt_setup() {
	[ -x "$CRIU_BIN" ] || fail "no CRIU at $CRIU_BIN: run scripts/install-criu"
	echo "CRIU=$CRIU_BIN" >>"$T/vz.conf"
}

# A counter in the CT: /tmp/count grows 5 times a second, from 1.
# The count is written through a rename: a reader never sees it truncated.
start_counter() {
	"$VZCTL" exec "$1" "sh -c 'i=0; while :; do i=\$((i+1)); echo \$i > /tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.2; done' </dev/null >/dev/null 2>&1 &" ||
		fail "start counter"
	wait_for 50 "$VZCTL" exec "$1" 'test -s /tmp/count' || fail "counter did not start"
}
count() { "$VZCTL" exec "$1" cat /tmp/count 2>/dev/null; }
# The counter's pid in `ps -o pid,ppid,args` of its CT: the process with
# its command line whose parent is not one (its forked children share the
# line, and after a wrap of the pid counter may come first).
counter_in_ps() { awk '/i=\$\(\(i\+1/ { ppid[$1] = $2 } END { for (p in ppid) if (!(ppid[p] in ppid)) print p }'; }
counter_pid() { "$VZCTL" exec "$1" ps -o pid,ppid,args | counter_in_ps; }
# expect_counter_pid ID PID WHAT: the counter is process PID of CT ID, or
# fail with WHAT and all that ps showed.
expect_counter_pid() {
	local ps got
	ps=$("$VZCTL" exec "$1" ps -o pid,ppid,args 2>&1)
	got=$(printf '%s\n' "$ps" | counter_in_ps)
	[ "$got" = "$2" ] || fail "$3: the counter is '$got', not $2; ps said: $ps"
}

# The counter went on from where it was (same process, larger value).
expect_counter_continues() {
	local id=$1 before=$2 pid_before=$3 now
	sleep 1
	now=$(count "$id")
	[ -n "$now" ] && [ "$now" -gt "$before" ] || fail "counter is '$now' after restore, was $before"
	expect_counter_pid "$id" "$pid_before" "counter process changed"
}

# vzlist's uptime (000d00h:00m:00s) in seconds.
uptime_s() { "$VZLIST" -H -o uptime "$1" | awk -F'[dhms:]+' '{ print $1 * 86400 + $2 * 3600 + $3 * 60 + $4 }'; }

cg_gone() { [ ! -d "$(cgdir pids "$1")" ]; }

# The CPU ticks (user + system) process PID of CT ID (its own pid there)
# spent in a second; vzctl runs as VZCTL or as the command given after.
cpu_ticks_1s() {
	local id=$1 pid=$2
	shift 2
	"${@:-$VZCTL}" exec "$id" "a=\$(cut -d' ' -f14,15 /proc/$pid/stat); sleep 1; b=\$(cut -d' ' -f14,15 /proc/$pid/stat); echo \$a \$b" |
		awk '{ print $3 + $4 - $1 - $2 }'
}

# What the restore cannot write back of the cgroup settings a dump carries
# (cgroup2: controllers and limits below the CT's cgroup, written by
# nvz-criu-action) is said, and the CT runs on without it. It goes to the
# cgroup2 hierarchy wherever there is one (a hybrid host's `unified` too).
t_cpt_cgroup_props_refused() {
	cpt_setup
	start_busybox 1516
	expect_rc 0 "$VZCTL" chkpnt 1516
	local list=$T/dump/Dump.1516/nvz-cgroup-props.list
	printf 'nosuch\tpids.max\t9\n' >>"$list"
	expect_rc 0 "$VZCTL" restore 1516
	expect_out 'Restoring completed successfully'
	if [ -e /sys/fs/cgroup/cgroup.subtree_control ] || [ -e /sys/fs/cgroup/unified/cgroup.subtree_control ]; then
		expect_out "Warning: the CT's cgroups did not all come back: write 9 to nosuch/pids.max: No such file"
	else
		printf '%s\n' "$OUT" | grep -q Warning && fail "a host without cgroup2 read the list: $OUT"
		echo "note: no cgroup2 on this host: the dump's cgroup2 list is not used"
	fi
	expect_rc 0 "$VZCTL" exec 1516 echo alive
	expect_out '^alive$'
	expect_rc 0 "$VZCTL" stop 1516 --fast
	return 0
}

# A dump made under the other cgroup version (a copy from another server)
# is refused before anything is restored, and kept; the same dump restores
# where the version matches.
t_cpt_other_cgroup_version_refused() {
	cpt_setup
	start_busybox 1517
	expect_rc 0 "$VZCTL" chkpnt 1517
	local meta=$T/dump/Dump.1517/nvz-cpt.conf here other
	here=1 other=2
	cg_v2 && here=2 other=1
	grep -qx "CGROUP_VERSION=\"$here\"" "$meta" || fail "dump meta without CGROUP_VERSION=$here: $(cat "$meta")"
	sed -i "s/^CGROUP_VERSION=.*/CGROUP_VERSION=\"$other\"/" "$meta"
	expect_rc 17 "$VZCTL" restore 1517
	expect_out "made under cgroup v$other and this server's controllers are on cgroup v$here: criu cannot restore its processes here \(remove the dump to start the CT afresh\)"
	expect_rc 0 "$VZCTL" status 1517
	expect_out 'exist unmounted down suspended'
	[ -e "$meta" ] || fail "the refused dump was removed"
	sed -i "s/^CGROUP_VERSION=.*/CGROUP_VERSION=\"$here\"/" "$meta"
	expect_rc 0 "$VZCTL" restore 1517
	expect_out 'Restoring completed successfully'
	expect_rc 0 "$VZCTL" stop 1517 --fast
	return 0
}

t_cpt_chkpnt_restore() {
	cpt_setup
	start_busybox 1501
	start_counter 1501
	local pid before
	pid=$(counter_pid 1501)
	[ -n "$pid" ] || fail "no counter pid"
	expect_rc 0 "$VZCTL" chkpnt 1501
	expect_out 'Setting up checkpoint...'
	expect_out 'Checkpointing completed successfully'
	before=$(cat "$T/root/1501/tmp/count" 2>/dev/null || true)
	[ -z "$before" ] || fail "CT still mounted after chkpnt"
	expect_rc 0 "$VZCTL" status 1501
	expect_out 'exist unmounted down suspended'
	expect_rc 0 "$VZLIST" -a -H -o ctid,status
	expect_out '^ +1501 +suspended$'
	[ -f "$T/dump/Dump.1501/inventory.img" ] || fail "no CRIU images in $T/dump/Dump.1501"
	[ -f "$T/dump/Dump.1501/nvz-cpt.conf" ] || fail "no nvz-cpt.conf in the dump"
	cg_gone 1501 || fail "cgroup left after chkpnt"
	expect_rc 31 "$VZCTL" chkpnt 1501
	# The value at dump time, read from the stopped CT's files.
	"$VZCTL" --quiet mount 1501 || fail mount
	before=$(cat "$T/root/1501/tmp/count")
	"$VZCTL" --quiet umount 1501 || fail umount
	sleep 1
	expect_rc 0 "$VZCTL" restore 1501
	expect_out 'Restoring container ...'
	expect_out 'Restoring completed successfully'
	[ -e "$T/dump/Dump.1501" ] && fail "dump left after a successful restore"
	expect_rc 0 "$VZCTL" status 1501
	expect_out 'exist mounted running$'
	expect_counter_continues 1501 "$before" "$pid"
	# The restored CT is supervised as after a start: its init is the
	# monitor's child, beancounters are served, stop and start work.
	local init mon
	init=$(state_pid 1501 INIT_PID)
	mon=$(state_pid 1501 MONITOR_PID)
	wait_for 50 eval '[ "$(awk '"'"'{print $4}'"'"' /proc/'"$init"'/stat)" = '"$mon"' ]' ||
		fail "restored init is not the hub's child"
	expect_rc 0 "$VZCTL" exec 1501 'head -1 /run/user_beancounters'
	expect_out 'Version: 2.5'
	[ "$(cg pids 1501 pids.max)" != "" ] || fail "no pids cgroup"
	expect_rc 0 "$VZCTL" stop 1501
	ct_running 1501 && fail "still running after stop"
	cg_gone 1501 || fail "cgroup left after stop"
	expect_rc 0 "$VZCTL" start 1501
	wait_for 100 booted 1501 || fail "no boot after restore+stop"
	return 0
}

# The CT's pid counter goes on after a restore, as under OpenVZ: criu
# gives each process its pid back but leaves the namespace's counter at
# the start, and the CT's next processes got pids 2, 3... (those of
# processes that ended before the dump: a stale pid file then names a live
# process). A dump without the counter (an older nvz's) still restores.
t_cpt_pid_counter_goes_on() {
	cpt_setup
	start_busybox 1518
	expect_rc 0 "$VZCTL" exec 1518 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do /bin/true; done'
	local before after meta=$T/dump/Dump.1518/nvz-cpt.conf
	before=$("$VZCTL" exec 1518 'echo $$')
	[ "$before" -gt 12 ] || fail "pids in the CT before the dump: $before"
	expect_rc 0 "$VZCTL" chkpnt 1518
	local saved
	saved=$(sed -n 's/^NS_LAST_PID="\([0-9]*\)"$/\1/p' "$meta")
	[ -n "$saved" ] && [ "$saved" -gt "$before" ] || fail "counter at dump: '$saved' after $before"
	expect_rc 0 "$VZCTL" restore 1518
	after=$("$VZCTL" exec 1518 'echo $$')
	[ "$after" -gt "$before" ] || fail "a process after the restore got pid $after (before the dump: $before)"
	expect_rc 0 "$VZCTL" chkpnt 1518
	sed -i '/^NS_LAST_PID=/d' "$meta"
	expect_rc 0 "$VZCTL" restore 1518
	expect_out 'Restoring completed successfully'
	expect_rc 0 "$VZCTL" exec 1518 true
	expect_rc 0 "$VZCTL" stop 1518 --fast
	return 0
}

# The CT's clocks go on after a restore, as under OpenVZ: the CT has a time
# namespace of its own (commands entered join it), which criu carries, so
# CLOCK_MONOTONIC and CLOCK_BOOTTIME resume from their values at the dump
# instead of jumping to the server's (after a migration: another server's
# uptime, and programs' timers fired at once or not for days). Here: the
# 2 s the CT was down do not count on its clocks, which never go back.
t_cpt_clocks_go_on() {
	cpt_setup
	start_busybox 1519
	local init ns up1 up2 host2 v
	init=$(state_pid 1519 INIT_PID)
	ns=$(readlink "/proc/$init/ns/time")
	# Before 6.2 the kernel cannot clone init (CLONE_VM) into one: the CT
	# runs in the host's, as before.
	v=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
	if [ ! -e /proc/self/ns/time ] || [ "$v" -lt 6002 ]; then
		[ "$ns" = "$(readlink /proc/self/ns/time)" ] || fail "a time namespace on $(uname -r)"
		echo "note: kernel $(uname -r): the CT's clocks are the host's"
		return 0
	fi
	[ "$ns" != "$(readlink /proc/self/ns/time)" ] || fail "init in the host's time namespace"
	[ "$("$VZCTL" exec 1519 readlink /proc/self/ns/time)" = "$ns" ] || fail "exec not in the CT's time namespace"
	up1=$("$VZCTL" exec 1519 cat /proc/uptime | cut -d' ' -f1)
	expect_rc 0 "$VZCTL" chkpnt 1519
	sleep 2
	expect_rc 0 "$VZCTL" restore 1519
	up2=$("$VZCTL" exec 1519 cat /proc/uptime | cut -d' ' -f1)
	host2=$(cut -d' ' -f1 /proc/uptime)
	init=$(state_pid 1519 INIT_PID)
	awk -v a="$up1" -v b="$up2" -v h="$host2" 'BEGIN { exit !(b >= a && h - b >= 1.5) }' ||
		fail "the CT's uptime $up1 before, $up2 after the restore, the host's $host2: $(cat "/proc/$init/timens_offsets")"
	[ "$("$VZCTL" exec 1519 readlink /proc/self/ns/time)" = "$(readlink "/proc/$init/ns/time")" ] ||
		fail "exec after the restore not in the CT's time namespace"
	expect_rc 0 "$VZCTL" stop 1519 --fast
	return 0
}

# A restore's monitor is a process of its own (criu is its child), which
# the hub forks and runs anew (vzhub --restore-monitor): the child of a
# hub with threads only execs.
t_cpt_restore_monitor_exec() {
	cpt_setup
	start_busybox 1502
	start_busybox 1503
	local hub
	hub=$(state_pid 1503 MONITOR_PID)
	expect_rc 0 "$VZCTL" chkpnt 1502
	[ "$(state_pid 1503 MONITOR_PID)" = "$hub" ] || fail "1503 changed hubs"
	hub_trace "$hub"
	"$VZCTL" restore 1502 >"$T/restore.out" 2>&1
	local rc=$?
	hub_trace_end
	[ "$rc" = 0 ] || fail "restore: $rc: $(cat "$T/restore.out")"
	hub_forks_only_exec "$hub" 1 '"--restore-monitor"'
	[ "$(state_pid 1502 MONITOR_PID)" = "$hub" ] || fail "1502 is not the hub's after its restore"
	expect_rc 0 "$VZCTL" exec 1502 'head -1 /run/user_beancounters'
	expect_out 'Version: 2.5'
	expect_rc 0 "$VZCTL" stop 1502
	expect_rc 0 "$VZCTL" stop 1503 --fast
	return 0
}

# OpenVZ: vzctl start of a suspended CT restores it; the limits come back.
t_cpt_start_after_chkpnt() {
	cpt_setup
	start_busybox 1502
	expect_rc 0 "$VZCTL" set 1502 --ram 200M --numproc 123 --save
	start_counter 1502
	local pid before
	pid=$(counter_pid 1502)
	expect_rc 0 "$VZCTL" suspend 1502 --dumpfile "$T/mydump"
	[ -f "$T/mydump/inventory.img" ] || fail "--dumpfile not used"
	"$VZCTL" --quiet mount 1502 && before=$(cat "$T/root/1502/tmp/count") && "$VZCTL" --quiet umount 1502
	# start looks at DUMPDIR only: move the dump there.
	mkdir -p "$T/dump" && mv "$T/mydump" "$T/dump/Dump.1502"
	expect_rc 0 "$VZCTL" start 1502
	expect_out "Dump file $T/dump/Dump.1502 exists, trying to restore from it"
	expect_out 'Restoring completed successfully'
	expect_counter_continues 1502 "$before" "$pid"
	[ "$(cg pids 1502 pids.max)" = 123 ] || fail "numproc not applied after restore: $(cg pids 1502 pids.max)"
	[ "$(cg memory 1502 memory.limit_in_bytes)" = $((200 * 1024 * 1024)) ] || fail "ram not applied"
	# resume with --dumpfile, after a second suspend
	expect_rc 0 "$VZCTL" chkpnt 1502 --dumpfile "$T/d2"
	expect_rc 0 "$VZCTL" resume 1502 --dumpfile "$T/d2"
	expect_counter_continues 1502 "$before" "$pid"
	# destroy of a suspended CT removes its dump, as OpenVZ did.
	expect_rc 0 "$VZCTL" suspend 1502
	[ -d "$T/dump/Dump.1502" ] || fail "no dump"
	expect_rc 0 "$VZCTL" destroy 1502
	[ -e "$T/dump/Dump.1502" ] && fail "dump left after destroy"
	return 0
}

# criu kills the CT, then fails: chkpnt says so (16), and the CT is stopped
# and unmounted when it returns, its cgroup gone; a start boots it afresh.
t_cpt_criu_fails_after_kill() {
	cpt_setup
	start_busybox 1533
	criu_fails_after_dump
	expect_rc 16 "$VZCTL" chkpnt 1533
	expect_out '^Warning: criu had killed the container before it failed: it is stopped$'
	expect_out '^Checkpointing failed: criu dump failed: '
	expect_rc 0 "$VZCTL" status 1533
	[ "$OUT" = "CTID 1533 exist unmounted down" ] || fail "status: $OUT"
	cg_gone 1533 || fail "cgroup left"
	expect_rc 0 "$VZCTL" start 1533
	expect_rc 0 "$VZCTL" exec 1533 true
	return 0
}

# A damaged dump: restore fails with a clear message and status 17, the CT
# is left stopped and unmounted, and the dump is exactly as it was.
t_cpt_failed_restore_keeps_dump() {
	cpt_setup
	start_busybox 1503
	expect_rc 32 "$VZCTL" restore 1503
	expect_out 'Unable to perform restore: container already running'
	start_counter 1503
	expect_rc 0 "$VZCTL" chkpnt 1503
	local d=$T/dump/Dump.1503 sum
	# Garbage in the process tree image.
	head -c 64 /dev/urandom >"$d/pstree.img"
	sum=$(cd "$d" && find . -type f -exec md5sum {} + | sort -k2)
	expect_rc 17 "$VZCTL" restore 1503
	expect_out 'Restore error'
	expect_out 'criu restore failed: .*\(log: '
	[ "$(cd "$d" && find . -type f -exec md5sum {} + | sort -k2)" = "$sum" ] || fail "the dump changed"
	expect_rc 0 "$VZCTL" status 1503
	expect_out 'exist unmounted down suspended'
	cg_gone 1503 || fail "cgroup left after a failed restore"
	# An incomplete dump (no nvz-cpt.conf) is refused before criu runs.
	rm -f "$d/nvz-cpt.conf"
	expect_rc 17 "$VZCTL" restore 1503
	expect_out 'not a complete nvz dump'
	rm -rf "$d"
	expect_rc 17 "$VZCTL" restore 1503
	expect_out "^Unable to open $T/dump/Dump.1503: No such file or directory$"
	# Stopped CT: nothing to checkpoint.
	expect_rc 31 "$VZCTL" chkpnt 1503
	return 0
}

# Without a working criu, chkpnt says so and the CT keeps running.
t_cpt_no_criu() {
	cpt_setup
	echo "CRIU=/nonexistent/criu" >>"$T/vz.conf"
	start_busybox 1504
	expect_rc 16 "$VZCTL" chkpnt 1504
	expect_out 'Checkpointing failed'
	expect_out 'cannot run /nonexistent/criu'
	ct_running 1504 || fail "CT stopped by a failed chkpnt"
	[ -e "$T/dump/Dump.1504" ] && fail "a failed chkpnt left a dump"
	return 0
}

# Routed networking survives: the host side (routes, proxy ARP) is made
# again, the LAN reaches the restored CT and a TCP listener inside.
t_cpt_routed_net() {
	cpt_setup
	net_setup
	srv "$VZCTL" --quiet create 1505 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" set 1505 --ipadd 10.77.0.15 --save
	expect_rc 0 srv "$VZCTL" start 1505
	wait_for 100 srv "$VZCTL" exec 1505 'test -e /run/nvz-boot.done' || fail "no boot"
	lan_ping 10.77.0.15 || fail "LAN cannot reach the CT before chkpnt"
	expect_rc 0 srv "$VZCTL" exec 1505 'nc -l -p 7777 -e echo hello-from-ct </dev/null >/dev/null 2>&1 &'
	# An established connection from the LAN to a cat server in the CT.
	expect_rc 0 srv "$VZCTL" exec 1505 'nc -l -p 7778 -e cat </dev/null >/dev/null 2>&1 &'
	mkfifo "$T/in"
	lan busybox nc 10.77.0.15 7778 <"$T/in" >"$T/echoed" 2>&1 &
	local ncpid=$!
	exec 3>"$T/in"
	echo before-chkpnt >&3
	wait_for 50 grep -q before-chkpnt "$T/echoed" || fail "no echo before chkpnt: $(cat "$T/echoed")"
	expect_rc 0 srv "$VZCTL" chkpnt 1505
	ip -n "$SRV" link | grep -q venet1505 && fail "host side left after chkpnt"
	ip -n "$SRV" neigh show proxy | grep -q 10.77.0.15 && fail "proxy entry left after chkpnt"
	# The network namespace is nvz's: criu saved its sockets, no link of it
	# (criu ran inside it).
	grep -q '^NETNS="nvz"' "$T/dump/Dump.1505/nvz-cpt.conf" || fail "netns dumped by criu"
	compgen -G "$T/dump/Dump.1505/netdev-*.img" >/dev/null && fail "criu saved the CT's links"
	expect_rc 0 srv "$VZCTL" restore 1505
	expect_rc 0 srv "$VZCTL" exec 1505 'ip -o addr show; ip route'
	expect_out '^1: lo .*inet 127.0.0.1/8'
	expect_out 'venet0 .*inet 10.77.0.15/32'
	expect_out '^default via 169.254.0.1 dev venet0 onlink'
	# criu ran in the CT's netns: none of its probe links stayed there.
	expect_rc 0 srv "$VZCTL" exec 1505 'ip -o link | wc -l'
	expect_out '^2$'
	ip -n "$SRV" route | grep -q '10.77.0.15 dev venet1505' || fail "no host route: $(ip -n "$SRV" route)"
	wait_for 30 lan_ping 10.77.0.15 || fail "LAN cannot reach the restored CT"
	srv "$VZCTL" exec 1505 'ping -c 1 -W 2 10.77.0.50' >/dev/null 2>&1 || fail "restored CT cannot reach the LAN"
	OUT=$(lan busybox nc -w 3 10.77.0.15 7777 </dev/null 2>&1)
	expect_out 'hello-from-ct'
	# The same TCP connection goes on (criu --tcp-established).
	echo after-restore >&3
	wait_for 100 grep -q after-restore "$T/echoed" || fail "connection lost across chkpnt/restore: $(cat "$T/echoed")"
	exec 3>&-
	kill "$ncpid" 2>/dev/null
	# What the CT set up in its netns itself (an address, a route, forwarding)
	# cannot be made from its config: criu saves the whole namespace then,
	# and all of it comes back.
	expect_rc 0 srv "$VZCTL" exec 1505 'ip addr add 10.99.0.5/32 dev venet0 && ip route add 10.98.0.0/24 dev venet0 && echo 1 >/proc/sys/net/ipv4/ip_forward'
	expect_rc 0 srv "$VZCTL" --verbose chkpnt 1505
	expect_out 'network namespace holds an address of its own \(10.99.0.5\)'
	grep -q '^NETNS="criu"' "$T/dump/Dump.1505/nvz-cpt.conf" || fail "the CT's own network state was not saved by criu"
	expect_rc 0 srv "$VZCTL" restore 1505
	expect_rc 0 srv "$VZCTL" exec 1505 'ip -o addr show venet0; ip route; cat /proc/sys/net/ipv4/ip_forward'
	expect_out 'inet 10.99.0.5/32'
	expect_out '^10.98.0.0/24 dev venet0'
	expect_out '^1$'
	wait_for 30 lan_ping 10.77.0.15 || fail "LAN cannot reach the CT restored by criu's netns"
	expect_rc 0 srv "$VZCTL" stop 1505
	ip -n "$SRV" link | grep -q venet1505 && fail "host side link left"
	ip -n "$SRV" neigh show proxy | grep -q 10.77.0 && fail "proxy entry left"
	return 0
}

# A Debian 12 CT booting systemd checkpoints and comes back running. Under
# LXC here systemd holds BPF program fds (cgroup device/firewall programs)
# that criu cannot dump; an nvz CT has no CAP_BPF and its seccomp filter
# refuses bpf(2), and on cgroup v1 systemd uses no cgroup BPF anyway, so
# systemd holds none: asserted here, since it is what makes the dump work.
t_cpt_debian_systemd() {
	cpt_setup
	need_debian
	expect_rc 0 "$VZCTL" create 1506 --ostemplate "$DEBIAN_TMPL"
	expect_rc 0 "$VZCTL" start 1506 --wait
	expect_rc 0 "$VZCTL" exec 1506 'ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c "anon_inode:bpf" || true'
	[ "$OUT" = 0 ] || fail "processes in the CT hold BPF fds: $OUT"
	local journald cgview=: cgwas
	journald=$("$VZCTL" exec 1506 'systemctl show -p MainPID --value systemd-journald')
	# cgroup v2: the controllers systemd enabled below the CT's cgroup and
	# the limits it set there come back (criu carries neither).
	if cg_v2; then
		expect_rc 0 "$VZCTL" exec 1506 'systemctl set-property --runtime systemd-journald TasksMax=77'
		cgview='cd /sys/fs/cgroup && cat cgroup.subtree_control system.slice/cgroup.subtree_control system.slice/systemd-journald.service/pids.max && ls init.scope/memory.events'
	fi
	expect_rc 0 "$VZCTL" exec 1506 "$cgview"
	cgwas=$OUT
	cg_v2 && { printf '%s\n' "$cgwas" | grep -qx 77 || fail "TasksMax=77 not in pids.max: $cgwas"; }
	expect_rc 0 "$VZCTL" chkpnt 1506
	expect_rc 0 "$VZCTL" restore 1506
	expect_rc 0 "$VZCTL" exec 1506 'systemctl is-system-running'
	case $OUT in running | degraded) ;; *) fail "systemd state after restore: $OUT" ;; esac
	expect_rc 0 "$VZCTL" exec 1506 "$cgview"
	[ "$OUT" = "$cgwas" ] || fail "cgroups after restore: '$OUT', were '$cgwas'"
	expect_rc 0 "$VZCTL" exec 1506 'systemctl show -p MainPID --value systemd-journald'
	[ "$OUT" = "$journald" ] || fail "journald restarted: $OUT != $journald"
	# systemd >= 254 (Debian 13) watches memory pressure: with the trigger
	# lost in the restore, PID 1 and journald spun (t_cpt_psi_triggers).
	local p ticks
	for p in 1 "$journald"; do
		ticks=$(cpu_ticks_1s 1506 "$p")
		[ "${ticks:-100}" -lt 30 ] || fail "pid $p spins after the restore: $ticks ticks in 1 s"
	done
	# systemd still manages units and halts cleanly on vzctl stop.
	expect_rc 0 "$VZCTL" exec 1506 'systemctl restart systemd-journald && systemctl is-active systemd-journald'
	# Restored under another CGROUP_PREFIX (as on another server): each
	# process is back in its own cgroup below the CT's, not all at its top.
	expect_rc 0 "$VZCTL" chkpnt 1506
	trap 'find /sys/fs/cgroup/*/"$CGROUP_PREFIX-b" -depth -type d -exec rmdir {} + 2>/dev/null' EXIT
	sed -i "s/^CGROUP_PREFIX=.*/CGROUP_PREFIX=$CGROUP_PREFIX-b/" "$T/vz.conf"
	expect_rc 0 "$VZCTL" restore 1506
	expect_rc 0 "$VZCTL" exec 1506 'grep -E "name=systemd|^0::" /proc/$(systemctl show -p MainPID --value systemd-journald)/cgroup'
	expect_out ':/system.slice/systemd-journald.service$'
	[ -d "$(CGROUP_PREFIX=$CGROUP_PREFIX-b cgdir pids 1506)" ] || fail "not restored under the new prefix"
	expect_rc 0 "$VZCTL" exec 1506 "$cgview"
	[ "$OUT" = "$cgwas" ] || fail "cgroups after restore under a new prefix: '$OUT', were '$cgwas'"
	expect_rc 0 "$VZCTL" stop 1506
	printf '%s\n' "$OUT" | grep -q 'Killing' && fail "restored systemd did not halt cleanly"
	return 0
}

# A PSI trigger lives in the open file, which criu restores without it:
# the file then polls ready at once, every time. Every sd-event daemon of
# systemd >= 254 (PID 1, journald... in a Debian 13 CT) watches memory
# pressure so, and spun at 100% CPU after a restore. nvz writes the
# triggers again (lib/cpt/psi.c). Two watchers: one on the server-wide
# file, one on its cgroup's, told its trigger as systemd tells a service
# (MEMORY_PRESSURE_WRITE). Neither sees a storm of events afterwards.
t_cpt_psi_triggers() {
	cpt_setup
	start_busybox 1531
	cp "$BUILD/tests/psiwatch" "$T/root/1531/psiwatch" || fail "copy psiwatch"
	# A cgroup below the CT's own: the kernel refuses writes to the
	# non-delegatable files of a cgroup namespace's root.
	local cgdir=/sys/fs/cgroup/unified/psiw f e0 e1 r0 r1
	cg_v2 && cgdir=/sys/fs/cgroup/psiw
	"$VZCTL" exec 1531 "mkdir $cgdir" || fail "mkdir $cgdir in the CT"
	local cgfile=$cgdir/memory.pressure
	"$VZCTL" exec 1531 "/psiwatch /proc/pressure/memory /tmp/psi.proc -d" || fail "psiwatch on /proc"
	"$VZCTL" exec 1531 "MEMORY_PRESSURE_WRITE=$(printf 'some 150000 2000000\0' | base64) /psiwatch $cgfile /tmp/psi.cg -d" ||
		fail "psiwatch on $cgfile"
	for f in psi.proc psi.cg; do
		wait_for 50 test -s "$T/root/1531/tmp/$f" || fail "psiwatch did not start ($f)"
	done
	expect_rc 0 "$VZCTL" chkpnt 1531
	expect_rc 0 "$VZCTL" restore 1531
	printf '%s\n' "$OUT" | grep -q 'Warning' && fail "restore warned: $OUT"
	sleep 1
	for f in psi.proc psi.cg; do
		read -r e0 r0 <"$T/root/1531/tmp/$f"
		sleep 2
		read -r e1 r1 <"$T/root/1531/tmp/$f"
		[ "$r1" -gt "$r0" ] || fail "psiwatch ($f) does not run after the restore: $r0 -> $r1"
		[ $((e1 - e0)) -le 3 ] || fail "PSI trigger lost in the restore ($f): $((e1 - e0)) events in 2 s"
	done
	return 0
}

# start_opathexe ID: a CT running tests/opathexe (its exe held O_PATH on fd
# 9); its pid in $OPATH_PID.
start_opathexe() {
	cpt_setup
	start_busybox "$1"
	cp "$BUILD/tests/opathexe" "$T/root/$1/opathexe" || fail "copy opathexe"
	"$VZCTL" exec "$1" '/opathexe </dev/null >/dev/null 2>&1 &' || fail "opathexe"
	wait_for 50 "$VZCTL" exec "$1" 'test -e /proc/$(pidof opathexe)/fd/9' || fail "opathexe did not start"
	OPATH_PID=$("$VZCTL" exec "$1" 'pidof opathexe')
}

# A process whose executable another descriptor names with O_PATH (systemd
# >= 255's "(sd-pam)" runs systemd-executor, of which PID 1 and each user
# manager hold one) comes back from a checkpoint: criu gave its exe that
# O_PATH file, and the restore failed ("PR_SET_MM_MAP failed with -9")
# after the dump had killed the CT. The descriptor stays O_PATH.
t_cpt_exe_held_opath() {
	start_opathexe 1532
	local pid=$OPATH_PID
	expect_rc 0 "$VZCTL" chkpnt 1532
	expect_rc 0 "$VZCTL" restore 1532
	expect_rc 0 "$VZCTL" exec 1532 "readlink /proc/$pid/exe; readlink /proc/$pid/fd/9; grep ^flags: /proc/$pid/fdinfo/9"
	[ "$(printf '%s\n' "$OUT" | head -2 | tr '\n' ' ')" = "/opathexe /opathexe " ] || fail "after the restore: $OUT"
	# O_PATH is 010000000, octal as the kernel shows it; nothing above it is set.
	printf '%s\n' "$OUT" | grep -Eq '^flags:\s+0*1[0-7]{7}$' || fail "fd 9 is no longer O_PATH: $OUT"
	expect_rc 0 "$VZCTL" stop 1532
}

# A dump made by an nvz before that mend (suspended before an upgrade, or
# sent by a migration's source not yet upgraded) is mended at the restore.
t_cpt_exe_held_opath_old_dump() {
	start_opathexe 1533
	NVZ_TEST_DUMP_UNMENDED=1 expect_rc 0 "$VZCTL" chkpnt 1533
	expect_rc 0 "$VZCTL" restore 1533
	expect_rc 0 "$VZCTL" exec 1533 "readlink /proc/$OPATH_PID/exe"
	[ "$OUT" = /opathexe ] || fail "after the restore: $OUT"
	expect_rc 0 "$VZCTL" stop 1533
}

# What the monitor serves comes back: lxcfs views (FUSE, re-bound from this
# host's lxcfs), the console (init's stdio now on the new monitor's pty),
# and reboot inside is handled as after a boot.
t_cpt_lxcfs_console_reboot() {
	cpt_setup
	start_lxcfs
	start_busybox 1507
	expect_rc 0 "$VZCTL" set 1507 --ram 64M --swap 0 --save
	expect_rc 0 "$VZCTL" chkpnt 1507
	expect_rc 0 "$VZCTL" restore 1507
	expect_rc 0 "$VZCTL" exec 1507 'grep -E "^MemTotal:" /proc/meminfo; head -1 /run/user_beancounters'
	expect_out '^MemTotal: +65536 kB$'
	expect_out 'Version: 2.5'
	# init writes to the console it had before the dump: the new pty.
	OUT=$( (sleep 0.5; "$VZCTL" exec 1507 'echo hello-after-restore >/proc/1/fd/1'; sleep 0.5; printf '\033.') |
		timeout 20 "$VZCTL" console 1507 2>&1)
	expect_out 'hello-after-restore'
	reboot_inside 1507 200 reboot
	wait_for 100 booted 1507 || fail "no boot after reboot"
	expect_rc 0 "$VZCTL" stop 1507
	return 0
}

# Bridged (NETIF): criu makes the pair again, nvz puts the host side back
# on the bridge with its MAC; the LAN reaches the restored CT.
# A busybox CT on the test server with eth0 on its bridge (saved), booted;
# more options for eth0 (saved) after the ID.
cpt_bridged_ct() {
	local id=$1
	shift
	cpt_setup
	net_bridge_setup
	srv "$VZCTL" --quiet create "$id" --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" set "$id" --netif_add eth0 --save
	[ $# -eq 0 ] || expect_rc 0 srv "$VZCTL" set "$id" --ifname eth0 "$@" --save
	expect_rc 0 srv "$VZCTL" start "$id"
	wait_for 100 srv "$VZCTL" exec "$id" 'test -e /run/nvz-boot.done' || fail "no boot"
}

t_cpt_bridged_net() {
	cpt_bridged_ct 1508 --ipadd 10.77.0.18/24 --gw 10.77.0.1
	lan_ping 10.77.0.18 || fail "LAN cannot reach the CT before chkpnt"
	local mac hmac
	mac=$(srv "$VZCTL" exec 1508 'cat /sys/class/net/eth0/address')
	hmac=$(ip -n "$SRV" -o link show veth1508.0 | grep -o 'link/ether [^ ]*')
	expect_rc 0 srv "$VZCTL" chkpnt 1508
	ip -n "$SRV" link | grep -q veth1508 && fail "host side left after chkpnt"
	expect_rc 0 srv "$VZCTL" restore 1508
	ip -n "$SRV" -o link show veth1508.0 | grep -q 'master br0' || fail "host side not on br0"
	[ "$(ip -n "$SRV" -o link show veth1508.0 | grep -o 'link/ether [^ ]*')" = "$hmac" ] || fail "host MAC changed"
	[ "$(srv "$VZCTL" exec 1508 'cat /sys/class/net/eth0/address')" = "$mac" ] || fail "CT MAC changed"
	wait_for 30 lan_ping 10.77.0.18 || fail "LAN cannot reach the restored CT"
	srv "$VZCTL" exec 1508 'ping -c1 -W2 10.77.0.50' >/dev/null 2>&1 || fail "restored CT cannot reach the LAN"
	expect_rc 0 srv "$VZCTL" stop 1508
	return 0
}

# Twice in a row (a restored CT checkpoints again). What nvz keeps out of
# criu's images: the empty masks over /proc directories come back as an
# empty read-only directory; a CT without network is dumped without
# criu's network lock (nothing outside reaches its netns), one with a
# routed address with it.
# criu's network lock method recorded in a dump (inventory.img, field 11
# network_lock_method: 0 iptables, 1 nftables, 2 skip).
lock_method() {
	# inventory.img: magic, a 4-byte length, then a protobuf message whose
	# field 11 (varint) is the lock method. awk, so that it runs where no
	# python is (the VM lane's guest).
	od -An -tu1 -v "$1/inventory.img" | awk '
	function varint(   v, s, c) {
		v = 0; s = 1
		do { c = b[i++]; v += (c % 128) * s; s *= 128 } while (c >= 128)
		return v
	}
	{ for (j = 1; j <= NF; j++) b[n++] = $j }
	END {
		end = 8 + b[4] + b[5] * 256 + b[6] * 65536 + b[7] * 16777216
		i = 8; found = "none"
		while (i < end) {
			k = varint(); t = k % 8
			if (t == 0) {
				v = varint()
				if (int(k / 8) == 11)
					found = v == 0 ? "iptables" : v == 1 ? "nftables" : v == 2 ? "skip" : v
			} else if (t == 2) {
				i += varint()
			} else {
				break
			}
		}
		print found
	}'
}

t_cpt_twice_masks_netlock() {
	cpt_setup
	start_busybox 1509
	start_counter 1509
	local pid before i
	pid=$(counter_pid 1509)
	for i in 1 2; do
		expect_rc 0 "$VZCTL" chkpnt 1509
		[ "$(lock_method "$T/dump/Dump.1509")" = skip ] ||
			fail "network lock for a CT without network: $(lock_method "$T/dump/Dump.1509")"
		if [ -d /proc/acpi ]; then
			grep -q 'nvz-empty:/proc/acpi' "$T/dump/Dump.1509/nvz-cpt.conf" || fail "/proc/acpi dumped by criu"
		fi
		"$VZCTL" --quiet mount 1509 || fail mount
		before=$(cat "$T/root/1509/tmp/count")
		"$VZCTL" --quiet umount 1509 || fail umount
		# cgroup v1: nvz's /sys/fs/cgroup tmpfs is external, made again, not
		# untarred. cgroup v2: it is the CT's own cgroup2 mount.
		local v1=""
		[ -e /sys/fs/cgroup/cgroup.controllers ] || v1=yes
		if [ -n "$v1" ]; then
			grep -q 'nvz-cgfs' "$T/dump/Dump.1509/nvz-cpt.conf" || fail "/sys/fs/cgroup dumped by criu"
		fi
		expect_rc 0 "$VZCTL" restore 1509
		expect_counter_continues 1509 "$before" "$pid"
		grep -q "$T/run/1509/cgfs" /proc/self/mountinfo && fail "cgfs tmpfs left on the host"
		expect_rc 0 "$VZCTL" exec 1509 'grep " /sys/fs/cgroup " /proc/self/mountinfo; ls -l /sys/fs/cgroup'
		if [ -n "$v1" ]; then
			expect_out ' /sys/fs/cgroup ro,nosuid,nodev,noexec.* - tmpfs '
			expect_out 'freezer'
			expect_rc 8 "$VZCTL" exec 1509 'mkdir /sys/fs/cgroup/x'
		else
			expect_out ' /sys/fs/cgroup .* - cgroup2 '
			expect_out 'cgroup.procs'
		fi
		if [ -d /proc/acpi ]; then
			expect_rc 0 "$VZCTL" exec 1509 'ls -A /proc/acpi | wc -l; grep " /proc/acpi " /proc/self/mountinfo'
			expect_out '^0$'
			expect_out ' /proc/acpi ro,nosuid,nodev,noexec'
			expect_rc 8 "$VZCTL" exec 1509 'touch /proc/acpi/x'
		fi
		# Each mask has its own empty directory: bound from one, all but
		# the first came back writable from a second restore.
		if [ -d /sys/fs/fuse/connections ]; then
			expect_rc 0 "$VZCTL" exec 1509 'grep " /sys/fs/fuse/connections " /proc/self/mountinfo'
			expect_out ' /sys/fs/fuse/connections ro,nosuid,nodev,noexec'
			expect_rc 8 "$VZCTL" exec 1509 'touch /sys/fs/fuse/connections/x'
		fi
	done
	"$VZCTL" --quiet set 1509 --ipadd 192.0.2.59 --save || fail "ipadd"
	expect_rc 0 "$VZCTL" chkpnt 1509
	[ "$(lock_method "$T/dump/Dump.1509")" = nftables ] ||
		fail "no nftables lock for a CT with an address: $(lock_method "$T/dump/Dump.1509")"
	expect_rc 0 "$VZCTL" restore 1509
	return 0
}

# What the CT made in its tmpfs mounts (/dev, /dev/shm, /run) comes back,
# twice over (a restored CT's tmpfs is nvz's copy, dumped again): files,
# directories, hard links, symlinks, fifos, device nodes with their owners
# and modes, set-id bits, times, extended attributes; the socket syslogd
# listens on at /dev/log works; a file a process keeps open is the same
# file. nvz carries these mounts itself (no tar image of criu's for them)
# and leaves no mount on the host.
t_cpt_tmpfs_content() {
	cpt_setup
	start_busybox 1510
	"$VZCTL" exec 1510 'echo hello > /run/a.txt; mkdir -p /run/sub/deep; echo deep > /run/sub/deep/f
		chmod 4755 /run/sub/deep/f; chown 7:8 /run/sub; ln /run/a.txt /run/sub/hard
		ln -s ../a.txt /run/sub/sym; mkfifo /dev/myfifo; mknod /dev/mynull c 1 3
		chmod 640 /dev/mynull; chown 12:34 /dev/mynull; echo shm > /dev/shm/seg
		touch -d "2001-02-03 04:05:06" /dev/shm/seg; head -c 300000 /dev/urandom > /run/big
		dd if=/dev/zero of=/dev/shm/sparse bs=1 count=0 seek=50M 2>/dev/null
		syslogd -O /run/syslog.txt' || fail "make files"
	local init
	init=$(state_pid 1510 INIT_PID)
	# trusted.*: tmpfs takes user.* only from Linux 6.6 (the VM lane runs 6.1).
	"$BUILD/tests/xattr" set "/proc/$init/root/run/a.txt" trusted.nvz kept ||
		fail "setxattr"
	"$VZCTL" exec 1510 'sleep 9999 3</run/big >/dev/null 2>&1 &' || fail "holder"
	local want sum holder
	want=$("$VZCTL" exec 1510 'ls -lanR --full-time /run /dev /dev/shm | grep -v -e "console$" -e " \.\.\?$" -e " pts$" -e "ptmx$" -e " log$" -e " mqueue$" -e "user_beancounters$" -e "^total"')
	sum=$("$VZCTL" exec 1510 'md5sum /run/big')
	holder=$("$VZCTL" exec 1510 "ps | awk '/sleep 9999/ && !/awk/ {print \$1; exit}'")
	[ -n "$holder" ] || fail "no holder process"
	local round
	for round in 1 2; do
		expect_rc 0 "$VZCTL" chkpnt 1510
		ls "$T/dump/Dump.1510" | grep -q '^nvz-tmpfs-0.img$' || fail "no nvz tmpfs image"
		ls "$T/dump/Dump.1510" | grep -q '^tmpfs-.*tar' && fail "criu tarred a tmpfs: $(ls "$T/dump/Dump.1510")"
		# The 50 MB hole of /dev/shm/sparse is not in the dump.
		[ "$(cat "$T"/dump/Dump.1510/nvz-tmpfs-*.img | wc -c)" -lt 2000000 ] ||
			fail "tmpfs images: $(ls -l "$T"/dump/Dump.1510/nvz-tmpfs-*.img)"
		grep -q 'TMPFS=".*|/dev|.*|/dev/shm|.*|/run|' "$T/dump/Dump.1510/nvz-cpt.conf" ||
			fail "TMPFS: $(grep TMPFS "$T/dump/Dump.1510/nvz-cpt.conf")"
		expect_rc 0 "$VZCTL" restore 1510
		grep -q "$T/run/1510/tmpfs" /proc/self/mountinfo && fail "tmpfs left on the host"
		expect_rc 0 "$VZCTL" exec 1510 'ls -lanR --full-time /run /dev /dev/shm | grep -v -e "console$" -e " \.\.\?$" -e " pts$" -e "ptmx$" -e " log$" -e " mqueue$" -e "user_beancounters$" -e "^total"'
		[ "$OUT" = "$want" ] || fail "round $round: tmpfs content differs: $(diff <(echo "$want") <(echo "$OUT"))"
		[ "$("$VZCTL" exec 1510 'md5sum /run/big')" = "$sum" ] || fail "/run/big changed"
		[ "$("$VZCTL" exec 1510 'stat -c %i /run/a.txt')" = "$("$VZCTL" exec 1510 'stat -c %i /run/sub/hard')" ] ||
			fail "hard link lost"
		[ "$("$VZCTL" exec 1510 'cat /run/sub/sym /dev/shm/seg')" = "$(printf 'hello\nshm')" ] || fail "content"
		init=$(state_pid 1510 INIT_PID)
		[ "$("$BUILD/tests/xattr" get "/proc/$init/root/run/a.txt" trusted.nvz)" = kept ] ||
			fail "xattr lost"
		"$VZCTL" exec 1510 "ls -l /proc/$holder/fd/3" | grep -q '/run/big$' || fail "held file: $("$VZCTL" exec 1510 "ls -l /proc/$holder/fd/")"
		"$VZCTL" exec 1510 "logger nvz-round-$round" || fail "logger"
		wait_for 30 "$VZCTL" exec 1510 "grep -q nvz-round-$round /run/syslog.txt" || fail "/dev/log does not work after restore"
		expect_rc 0 "$VZCTL" exec 1510 'grep -E " /(dev|run|dev/shm) " /proc/self/mountinfo'
		expect_out ' /dev rw,nosuid,noexec,.* - tmpfs .*size=65536k,mode=755'
		expect_out ' /run rw,nosuid,nodev,.* - tmpfs '
		want=$("$VZCTL" exec 1510 'ls -lanR --full-time /run /dev /dev/shm | grep -v -e "console$" -e " \.\.\?$" -e " pts$" -e "ptmx$" -e " log$" -e " mqueue$" -e "user_beancounters$" -e "^total"')
	done
	return 0
}
