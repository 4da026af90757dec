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
counter_pid() { "$VZCTL" exec "$1" "ps | awk '/i=\\\$\\(\\(i\\+1/ && !/awk/ {print \$1; exit}'"; }

# The counter went on from where it was (same process, larger value).
expect_counter_continues() {
	local id=$1 before=$2 pid_before=$3 now
	sleep 1
	now=$(count "$id")
	[ -n "$now" ] && [ "$now" -gt "$before" ] || fail "counter is '$now' after restore, was $before"
	[ "$(counter_pid "$id")" = "$pid_before" ] || fail "counter process changed: $(counter_pid "$id") != $pid_before"
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

# A process whose executable another descriptor names with O_PATH (systemd
# >= 255's "(sd-pam)" runs systemd-executor, of which PID 1 and each user
# manager hold one) comes back from a checkpoint: criu gave its exe that
# O_PATH file, and the restore failed ("PR_SET_MM_MAP failed with -9")
# after the dump had killed the CT. The descriptor stays O_PATH.
t_cpt_exe_held_opath() {
	cpt_setup
	start_busybox 1532
	cp "$BUILD/tests/opathexe" "$T/root/1532/opathexe" || fail "copy opathexe"
	"$VZCTL" exec 1532 '/opathexe </dev/null >/dev/null 2>&1 &' || fail "opathexe"
	wait_for 50 "$VZCTL" exec 1532 'test -e /proc/$(pidof opathexe)/fd/9' || fail "opathexe did not start"
	local pid
	pid=$("$VZCTL" exec 1532 'pidof opathexe')
	expect_rc 0 "$VZCTL" chkpnt 1532
	expect_rc 0 "$VZCTL" restore 1532
	expect_rc 0 "$VZCTL" exec 1532 "readlink /proc/$pid/exe; readlink /proc/$pid/fd/9; grep ^flags: /proc/$pid/fdinfo/9"
	[ "$(printf '%s\n' "$OUT" | head -2 | tr '\n' ' ')" = "/opathexe /opathexe " ] || fail "after the restore: $OUT"
	# O_PATH is 010000000, octal as the kernel shows it; nothing above it is set.
	printf '%s\n' "$OUT" | grep -Eq '^flags:\s+0*1[0-7]{7}$' || fail "fd 9 is no longer O_PATH: $OUT"
	expect_rc 0 "$VZCTL" stop 1532
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
	local init1
	init1=$(state_pid 1507 INIT_PID)
	"$VZCTL" exec 1507 reboot >/dev/null 2>&1
	wait_for 200 eval '[ -n "$(state_pid 1507 INIT_PID 2>/dev/null)" ] && [ "$(state_pid 1507 INIT_PID)" != "$init1" ]' ||
		fail "no reboot after restore"
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

# A CT process holding ~70 MB of anonymous memory with a known content (the
# text of `seq 1 N` in a shell variable); it checksums its own memory on
# request (touch /run/mem.go, read /run/mem.sum).
CPT_MEM_N=9000000
mem_ct() {
	local id=$1
	start_busybox "$id"
	"$VZCTL" exec "$id" "x=\$(seq 1 $CPT_MEM_N); echo ready >/run/mem.ready; while :; do if [ -e /run/mem.go ]; then echo \"\$x\" | md5sum >/run/mem.sum; rm -f /run/mem.go; fi; sleep 0.2; done </dev/null >/dev/null 2>&1 &" ||
		fail "memory holder"
	wait_for 300 "$VZCTL" exec "$id" 'test -e /run/mem.ready' || fail "the memory holder did not fill its memory"
}
mem_sum() {
	"$VZCTL" exec "$1" 'rm -f /run/mem.sum; touch /run/mem.go' || return 1
	wait_for 300 "$VZCTL" exec "$1" 'test -s /run/mem.sum' || return 1
	"$VZCTL" exec "$1" 'cut -d" " -f1 /run/mem.sum'
}
dump_sum() { (cd "$1" && find . -type f -exec md5sum {} + | sort -k2); }

# Local post-copy restore (--lazy): the CT runs before its memory is all
# back, criu lazy-pages fills it from the dump's images; the memory is
# intact, the dump is removed only at the end, no daemon is left. Without
# --lazy (LAZY_RESTORE=auto, a dump under 128 MB of pages) no daemon runs;
# LAZY_RESTORE=yes makes it the default, also for vzctl start.
t_cpt_lazy_restore() {
	cpt_setup
	/opt/nvz/criu/criu check --feature uffd-noncoop >/dev/null 2>&1 || fail "criu here has no non-cooperative userfaultfd (post-copy)"
	mem_ct 1511
	start_counter 1511
	local want pid before pages
	want=$(seq 1 $CPT_MEM_N | md5sum | cut -d' ' -f1)
	pid=$(counter_pid 1511)
	expect_rc 0 "$VZCTL" chkpnt 1511
	pages=$(du -cb "$T"/dump/Dump.1511/pages-*.img | tail -1 | cut -f1)
	[ "$pages" -gt $((60 << 20)) ] || fail "only $pages bytes of pages in the dump"
	"$VZCTL" --quiet mount 1511 && before=$(cat "$T/root/1511/tmp/count") && "$VZCTL" --quiet umount 1511
	rm -f "$T/run/1511/lazy-pages.log"
	expect_rc 0 "$VZCTL" restore 1511 --lazy
	expect_out 'Restoring container ...'
	expect_out 'Restoring completed successfully'
	[ -e "$T/run/1511/lazy-pages.log" ] || fail "no criu lazy-pages ran"
	[ -e "$T/dump/Dump.1511" ] && fail "dump left after a successful restore"
	pgrep -f "lazy-pages.*$T" >/dev/null && fail "criu lazy-pages left running"
	[ "$(mem_sum 1511)" = "$want" ] || fail "the memory changed in a post-copy restore"
	expect_counter_continues 1511 "$before" "$pid"
	# auto: copied before the CT runs under 128 MB of pages, post-copy from
	# there. Usually under: the holder's ~70 MB; but the shell's loop forks
	# (sleep, the md5sum pipeline) and a child caught with its copy of the
	# holder's memory can double the dump, so the rule is checked both ways
	# against what this dump holds.
	expect_rc 0 "$VZCTL" chkpnt 1511
	pages=$(du -cb "$T"/dump/Dump.1511/pages-*.img | tail -1 | cut -f1)
	rm -f "$T/run/1511/lazy-pages.log"
	expect_rc 0 "$VZCTL" restore 1511
	if [ "$pages" -lt $((128 << 20)) ]; then
		[ -e "$T/run/1511/lazy-pages.log" ] &&
			fail "post-copy without --lazy with $pages bytes of pages (under 128 MB)"
	else
		echo "# note: this dump held $pages bytes of pages: auto chose post-copy"
		[ -e "$T/run/1511/lazy-pages.log" ] ||
			fail "no post-copy with $pages bytes of pages (128 MB or more)"
	fi
	[ "$(mem_sum 1511)" = "$want" ] || fail "the memory changed in a restore"
	# LAZY_RESTORE=yes: also when vzctl start restores; --no-lazy wins.
	echo 'LAZY_RESTORE="yes"' >>"$T/vz.conf"
	expect_rc 0 "$VZCTL" chkpnt 1511
	rm -f "$T/run/1511/lazy-pages.log"
	expect_rc 0 "$VZCTL" start 1511
	expect_out 'Restoring completed successfully'
	[ -e "$T/run/1511/lazy-pages.log" ] || fail "LAZY_RESTORE=yes: no post-copy"
	[ "$(mem_sum 1511)" = "$want" ] || fail "the memory changed in a restore by start"
	expect_rc 0 "$VZCTL" chkpnt 1511
	rm -f "$T/run/1511/lazy-pages.log"
	expect_rc 0 "$VZCTL" restore 1511 --no-lazy
	[ -e "$T/run/1511/lazy-pages.log" ] && fail "--no-lazy: post-copy anyway"
	[ "$(mem_sum 1511)" = "$want" ] || fail "the memory changed in a restore (--no-lazy)"
	return 0
}

# The lazy-pages daemon dies while the restored CT runs on pages it has not
# all served yet (a criu wrapper runs it in a cpu cgroup of its own at 5%
# of a CPU, so it takes seconds over what takes ~40 ms, and kills it once
# the restored CT runs, its state written): the CT is killed, the dump is
# kept exactly as it was with the daemon's log beside it, status 17 and a
# message that says so; a restore without post-copy then brings the CT
# back with its memory intact.
t_cpt_lazy_daemon_dies() {
	cpt_setup
	/opt/nvz/criu/criu check --feature uffd-noncoop >/dev/null 2>&1 || fail "criu here has no non-cooperative userfaultfd (post-copy)"
	# 5% of a CPU: cpu.max on cgroup v2, the CFS quota on v1.
	local slow limit
	if cg_v2; then
		slow=$(cgdir cpu lazyslow) limit="echo '5000 100000' >$slow/cpu.max"
	else
		[ -d /sys/fs/cgroup/cpu ] || fail "no cpu cgroup hierarchy to slow the daemon down"
		slow=$(cgdir cpu lazyslow) limit="echo 100000 >$slow/cpu.cfs_period_us && echo 5000 >$slow/cpu.cfs_quota_us"
	fi
	cat >"$T/criu-lazydies" <<EOF2
#!/bin/bash
[ "\$1" = lazy-pages ] || exec $CRIU_BIN "\$@"
wd=
for ((i = 1; i < \$#; i++)); do [ "\${!i}" = --work-dir ] && j=\$((i + 1)) && wd=\${!j}; done
mkdir -p $slow && $limit || exit 99
(echo \$BASHPID >$slow/cgroup.procs && exec $CRIU_BIN "\$@") &
p=\$!
for i in \$(seq 6000); do [ -s "\$wd/state" ] && break; sleep 0.01; done
kill -KILL \$p
wait \$p
EOF2
	chmod +x "$T/criu-lazydies"
	mem_ct 1512
	local want sum d=$T/dump/Dump.1512
	want=$(seq 1 $CPT_MEM_N | md5sum | cut -d' ' -f1)
	expect_rc 0 "$VZCTL" chkpnt 1512
	sum=$(dump_sum "$d")
	echo "CRIU=$T/criu-lazydies" >>"$T/vz.conf"
	expect_rc 17 "$VZCTL" restore 1512 --lazy
	expect_out 'criu lazy-pages exited \(status 137\) before all the memory of CT 1512 was restored: the CT was killed, the dump .*Dump.1512 is kept'
	[ "$(dump_sum "$d")" = "$sum" ] || fail "the dump changed"
	[ -e "$d.lazy-pages.log" ] || fail "the daemon's log was not kept beside the dump"
	ct_running 1512 && fail "CT still runs on an incomplete memory"
	expect_rc 0 "$VZCTL" status 1512
	expect_out 'exist unmounted down suspended'
	cg_gone 1512 || fail "cgroup left"
	pgrep -f "lazy-pages.*$T" >/dev/null && fail "criu lazy-pages left running"
	echo "CRIU=$CRIU_BIN" >>"$T/vz.conf"
	expect_rc 0 "$VZCTL" restore 1512 --no-lazy
	[ "$(mem_sum 1512)" = "$want" ] || fail "the memory changed"
	return 0
}

# criu restore no longer waits for the lazy-pages daemon (both probe the
# kernel in parallel): a daemon that listens late (a wrapper delays it by
# 1.5 s) makes criu restore fail before it restored anything, and the
# monitor runs it again once the daemon listens. The CT comes back whole.
t_cpt_lazy_late_daemon() {
	cpt_setup
	/opt/nvz/criu/criu check --feature uffd-noncoop >/dev/null 2>&1 || fail "criu here has no non-cooperative userfaultfd (post-copy)"
	cat >"$T/criu-lazylate" <<EOF2
#!/bin/bash
[ "\$1" = lazy-pages ] && sleep 1.5
exec $CRIU_BIN "\$@"
EOF2
	chmod +x "$T/criu-lazylate"
	mem_ct 1514
	local want
	want=$(seq 1 $CPT_MEM_N | md5sum | cut -d' ' -f1)
	expect_rc 0 "$VZCTL" chkpnt 1514
	echo "CRIU=$T/criu-lazylate" >>"$T/vz.conf"
	expect_rc 0 "$VZCTL" restore 1514 --lazy
	expect_out 'Restoring completed successfully'
	grep -q 'criu restore came before criu lazy-pages: again' "$T/vzctl.log" ||
		fail "criu restore did not meet the late daemon (the retry path did not run)"
	[ -e "$T/dump/Dump.1514" ] && fail "dump left after a successful restore"
	pgrep -f "lazy-pages.*$T" >/dev/null && fail "criu lazy-pages left running"
	[ "$(mem_sum 1514)" = "$want" ] || fail "the memory changed"
	echo "CRIU=$CRIU_BIN" >>"$T/vz.conf"
	return 0
}

# A CT of more than 64 processes is frozen through its cgroup (smaller
# trees are seized task by task, lib/ct/cpt.c): criu gets --freeze-cgroup
# with the CT's own directory there, v1's freezer or v2's cgroup2 one, and
# all 80 sleepers come back, not frozen. --lazy is an option of restore only.
t_cpt_large_tree() {
	cpt_setup
	cat >"$T/criu-args" <<EOF2
#!/bin/bash
for a; do [ "\$a" = dump ] && printf '%s\n' "\$@" >"$T/criu-dump-args"; done
exec $CRIU_BIN "\$@"
EOF2
	chmod +x "$T/criu-args"
	echo "CRIU=$T/criu-args" >>"$T/vz.conf"
	start_busybox 1513
	"$VZCTL" exec 1513 "sh -c 'for i in \$(seq 80); do sleep 1000 & done' </dev/null >/dev/null 2>&1" ||
		fail "start the sleepers"
	local n i
	# sh has forked them all when exec returns; each execs sleep a moment later.
	for ((i = 0; i < 100; i++)); do
		n=$("$VZCTL" exec 1513 "ps | grep -c '[s]leep 1000'")
		[ "$n" = 80 ] && break
		sleep 0.1
	done
	[ "$n" = 80 ] || fail "$n sleepers before chkpnt"
	expect_rc 20 "$VZCTL" chkpnt 1513 --lazy
	expect_out 'Invalid option: --lazy'
	ct_running 1513 || fail "a refused chkpnt stopped the CT"
	expect_rc 0 "$VZCTL" chkpnt 1513
	expect_out 'Checkpointing completed successfully'
	local fdir
	fdir=$(grep -A1 -x -- --freeze-cgroup "$T/criu-dump-args" | tail -1)
	[ -n "$fdir" ] || fail "criu dump ran without --freeze-cgroup: $(tr '\n' ' ' <"$T/criu-dump-args")"
	case "$fdir" in
	*/1513) ;;
	*) fail "criu froze $fdir, not the CT's cgroup" ;;
	esac
	expect_rc 0 "$VZCTL" restore 1513
	[ -e "$fdir/freezer.state" ] || [ -e "$fdir/cgroup.freeze" ] || fail "$fdir has no freezer"
	expect_out 'Restoring completed successfully'
	n=$("$VZCTL" exec 1513 "ps | grep -c '[s]leep 1000'")
	[ "$n" = 80 ] || fail "$n sleepers after restore"
	if [ -e "$fdir/cgroup.freeze" ]; then
		grep -qx 'frozen 0' "$fdir/cgroup.events" || fail "the CT's cgroup stays frozen after restore"
	else
		[ "$(cat "$fdir/freezer.state")" = THAWED ] || fail "the CT's freezer stays $(cat "$fdir/freezer.state")"
	fi
	echo "CRIU=$CRIU_BIN" >>"$T/vz.conf"
	return 0
}

# Each CT boot has its own boot id (/proc/sys/kernel/random/boot_id), as
# OpenVZ and LXC give: not the host's, read-only for the CT, the same after
# chkpnt and restore (the CT did not boot again), a new one at the next start.
t_cpt_boot_id() {
	cpt_setup
	start_busybox 1511
	local host id1 id2 uuid='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
	host=$(cat /proc/sys/kernel/random/boot_id)
	expect_rc 0 "$VZCTL" exec 1511 cat /proc/sys/kernel/random/boot_id
	id1=$OUT
	printf '%s\n' "$id1" | grep -Eq "$uuid" || fail "boot id is not a UUID: '$id1'"
	[ "$id1" != "$host" ] || fail "the CT sees the host's boot id"
	expect_rc 8 "$VZCTL" exec 1511 'echo 00000000-0000-4000-8000-000000000000 >/proc/sys/kernel/random/boot_id'
	expect_rc 0 "$VZCTL" exec 1511 'cat /proc/sys/kernel/random/boot_id; awk '"'"'$5 == "/proc/sys/kernel/random/boot_id" {print $6}'"'"' /proc/self/mountinfo'
	[ "$(printf '%s\n' "$OUT" | head -1)" = "$id1" ] || fail "boot id changed by a write: $OUT"
	expect_out '^ro,'
	[ "$(cat /proc/sys/kernel/random/boot_id)" = "$host" ] || fail "the host's boot id changed"
	expect_rc 0 "$VZCTL" chkpnt 1511
	expect_rc 0 "$VZCTL" restore 1511
	expect_rc 0 "$VZCTL" exec 1511 cat /proc/sys/kernel/random/boot_id
	[ "$OUT" = "$id1" ] || fail "boot id after restore: '$OUT', was '$id1'"
	expect_rc 8 "$VZCTL" exec 1511 'echo 00000000-0000-4000-8000-000000000000 >/proc/sys/kernel/random/boot_id'
	expect_rc 0 "$VZCTL" stop 1511
	expect_rc 0 "$VZCTL" start 1511
	wait_for 100 booted 1511 || fail "no boot"
	expect_rc 0 "$VZCTL" exec 1511 cat /proc/sys/kernel/random/boot_id
	id2=$OUT
	printf '%s\n' "$id2" | grep -Eq "$uuid" || fail "boot id is not a UUID: '$id2'"
	[ "$id2" != "$id1" ] && [ "$id2" != "$host" ] || fail "second boot's id '$id2' (first '$id1', host '$host')"
	return 0
}

# chkpnt --pre-dump: 64 MB of memory with a known checksum (memfill) and a
# counter. Where the kernel tracks dirty pages (the VM lane's stock
# kernel), one pre-dump round copies the memory while the CT runs and the
# freeze dumps only what was dirtied since: the dump holds the round (pre/1,
# linked as its parent) and far fewer pages than 64 MB; the restore reads
# the rest from the round. Elsewhere (this host's kernel) the plain
# checkpoint runs, with a -v note and no criu pre-dump. Either way the
# memory and the counter survive, and nothing of the round is left.
t_cpt_predump() {
	cpt_setup
	start_busybox 1520
	cp "$BUILD/tests/memfill" "$T/root/1520/memfill" || fail "copy memfill"
	"$VZCTL" exec 1520 '/memfill 64 /tmp -d' || fail "memfill"
	wait_for 200 test -s "$T/root/1520/tmp/memsum.now" || fail "memfill did not fill its memory"
	start_counter 1520
	local pid sum track=0 before
	pid=$(counter_pid 1520)
	sum=$(cat "$T/root/1520/tmp/memsum")
	"$CRIU_BIN" check --feature mem_dirty_track >/dev/null 2>&1 && track=1
	expect_rc 0 "$VZCTL" --verbose chkpnt 1520 --pre-dump
	expect_out 'Checkpointing completed successfully'
	local d=$T/dump/Dump.1520
	if [ $track = 1 ]; then
		expect_out 'Iterative memory copy, round 1: 6[4-9]\.[0-9] MB'
		[ "$(readlink "$d/parent")" = pre/1 ] || fail "no parent link to the round: $(ls -l "$d")"
		[ -f "$d/pre/1/inventory.img" ] || fail "no pre-dump images in $d/pre/1"
		local top
		top=$(cat "$d"/pages-*.img | wc -c)
		[ "$top" -lt $((16 << 20)) ] || fail "the final dump wrote $top bytes of pages: not only the dirty ones"
		echo "note: pre-dump round ran: $(printf '%s\n' "$OUT" | grep 'round 1'); the freeze wrote $top bytes of pages"
	else
		echo "note: no dirty page tracking here: chkpnt --pre-dump is the plain checkpoint"
		expect_out 'No iterative memory copy: the kernel does not track dirty pages'
		printf '%s\n' "$OUT" | grep -q 'Iterative memory copy, round' && fail "a pre-dump round ran: $OUT"
		[ -e "$d/pre" ] && fail "pre-dump directory without tracking"
	fi
	"$VZCTL" --quiet mount 1520 || fail mount
	before=$(cat "$T/root/1520/tmp/count")
	"$VZCTL" --quiet umount 1520 || fail umount
	expect_rc 0 "$VZCTL" restore 1520
	[ -e "$d" ] && fail "dump (or its pre-dump round) left after the restore: $(ls -R "$d")"
	expect_counter_continues 1520 "$before" "$pid"
	# A sum computed after the restore, from memory the restore brought back.
	local n0 now
	n0=$(cut -d' ' -f2 "$T/root/1520/tmp/memsum.now")
	wait_for 100 sh -c "[ \"\$(cut -d' ' -f2 '$T/root/1520/tmp/memsum.now')\" -gt $n0 ]" ||
		fail "memfill does not run after the restore"
	now=$(cut -d' ' -f1 "$T/root/1520/tmp/memsum.now")
	[ "$now" = "$sum" ] || fail "memory content changed in chkpnt/restore: sum $sum before, $now after"
	# A failed round leaves nothing and the plain checkpoint runs: a CT
	# that is not running cannot be pre-dumped (exit 31, as chkpnt).
	expect_rc 0 "$VZCTL" --quiet stop 1520 --fast
	expect_rc 31 "$VZCTL" chkpnt 1520 --pre-dump
	[ -e "$d" ] && fail "dump directory left by a failed chkpnt --pre-dump"
	expect_rc 20 "$VZCTL" restore 1520 --pre-dump
	return 0
}

# A restore's monitor is a child the hub forks (it waits for criu). If the
# hub is gone when the CT is restored (here SIGKILLed right after criu
# restore returned), the monitor cannot hand the CT over: it stays the CT's
# monitor as the small vzmon, with the vzctl the hub served for the work
# after init's exit. The CT runs, is served, and a halt inside ends it
# cleanly (that vzctl unmounts it).
t_cpt_restore_hub_gone() {
	cpt_setup
	start_busybox 1530
	start_counter 1530
	local before pid_before hub mon init
	before=$(count 1530) pid_before=$(counter_pid 1530)
	hub=$(state_pid 1530 MONITOR_PID)
	expect_rc 0 "$VZCTL" chkpnt 1530
	cat >"$T/criu-killhub" <<EOF2
#!/bin/bash
$CRIU_BIN "\$@"
rc=\$?
for a; do [ "\$a" = restore ] && kill -KILL "\$(cat "$T/run/hub.pid")"; done
exit \$rc
EOF2
	chmod +x "$T/criu-killhub"
	echo "CRIU=$T/criu-killhub" >>"$T/vz.conf"
	expect_rc 0 "$VZCTL" restore 1530
	expect_out 'Restoring completed successfully'
	echo "CRIU=$CRIU_BIN" >>"$T/vz.conf"
	hub=$(cat "$T/run/hub.pid")
	wait_for 50 eval '! kill -0 '"$hub"' 2>/dev/null || [ "$(awk '"'"'{print $3}'"'"' /proc/'"$hub"'/stat)" = Z ]' ||
		fail "the hub $hub was not killed"
	# The monitor finds the hub gone when it hands the CT over, which may
	# come after restore returned (it reports first): the state says so then.
	wait_for 50 eval '[ "$(state_pid 1530 MONITOR_PID)" != "$hub" ]'
	mon=$(state_pid 1530 MONITOR_PID) init=$(state_pid 1530 INIT_PID)
	[ -n "$mon" ] && [ "$mon" != "$hub" ] && kill -0 "$mon" || fail "no monitor of its own: '$mon' (hub $hub)"
	wait_for 50 eval 'case $(readlink /proc/'"$mon"'/exe) in */vzmon) true ;; *) false ;; esac' ||
		fail "the monitor runs $(readlink "/proc/$mon/exe"), not vzmon"
	[ "$(ppid_of "$init")" = "$mon" ] || fail "init is not its monitor's child"
	expect_counter_continues 1530 "$before" "$pid_before"
	check_beancounters 1530
	# A halt inside: the monitor runs that vzctl to clean up and unmount.
	"$VZCTL" exec 1530 poweroff
	wait_for 150 eval '! ct_running 1530' || fail "CT still running after poweroff inside"
	wait_for 50 eval '"$VZCTL" status 1530 | grep -q unmounted' || fail "not unmounted after halt"
	wait_for 50 eval '! kill -0 '"$mon"' 2>/dev/null || [ "$(awk '"'"'{print $3}'"'"' /proc/'"$mon"'/stat)" = Z ]' ||
		fail "the monitor outlived its CT"
	expect_rc 0 "$VZCTL" status 1530
	expect_out 'down'
	return 0
}

# criu mounting cgroup2 for its cgroup yard from the host's cgroup namespace
# set the hierarchy's root options for the whole host: on a pure v2 host
# every chkpnt and restore dropped nsdelegate (and memory_recursiveprot).
# nvz gives criu a yard of bind mounts instead; the host's options stay.
t_cpt_host_cgroup2_options() {
	cpt_setup
	local before after mnt
	mnt=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
	[ -n "$mnt" ] || fail "no cgroup2 mount on this host"
	opts() { awk -v m="$mnt" '$5 == m {print $5, $NF}' /proc/self/mountinfo; }
	before=$(opts)
	start_busybox 1531
	expect_rc 0 "$VZCTL" chkpnt 1531
	after=$(opts)
	[ "$after" = "$before" ] || fail "chkpnt changed the host's cgroup2 options: '$before' -> '$after'"
	expect_rc 0 "$VZCTL" restore 1531
	after=$(opts)
	[ "$after" = "$before" ] || fail "restore changed the host's cgroup2 options: '$before' -> '$after'"
	echo "note: host cgroup2 $before"
	expect_rc 0 "$VZCTL" stop 1531
	return 0
}

# OpenVZ's stage flags: chkpnt --suspend holds every process of a running
# CT still (the cgroup freezer) and --resume lets it go on, as admins used
# them around a backup. A suspended CT can still be checkpointed, restored
# and stopped (thawed first: on cgroup v1 a frozen task does not even die
# of SIGKILL); --kill kills it and leaves it mounted; --dump or --undump
# alone is refused, and so is a stage on a stopped CT.
t_cpt_suspend_resume() {
	cpt_setup
	start_busybox 1520
	start_counter 1520
	local a b pid
	pid=$(counter_pid 1520)
	expect_rc 0 "$VZCTL" chkpnt 1520 --suspend
	expect_out 'Setting up checkpoint\.\.\.'
	expect_out 'Checkpointing completed successfully'
	a=$(cat "$T/root/1520/tmp/count")
	sleep 1
	b=$(cat "$T/root/1520/tmp/count")
	[ "$a" = "$b" ] || fail "the counter moved while suspended: $a -> $b"
	"$VZCTL" status 1520 | grep -q ' running' || fail "suspended is not running: $("$VZCTL" status 1520)"
	expect_rc 8 timeout 20 "$VZCTL" exec 1520 true
	expect_out 'Container is suspended \(vzctl chkpnt --resume lets it run again\)'
	expect_rc 0 "$VZCTL" chkpnt 1520 --resume
	expect_out 'Resuming\.\.\.'
	expect_counter_continues 1520 "$b" "$pid"
	# restore --resume lets a suspended CT go as well.
	expect_rc 0 "$VZCTL" chkpnt 1520 --suspend
	b=$(cat "$T/root/1520/tmp/count")
	expect_rc 0 "$VZCTL" restore 1520 --resume
	expect_counter_continues 1520 "$b" "$pid"
	# Suspended, then checkpointed and restored.
	expect_rc 0 "$VZCTL" chkpnt 1520 --suspend
	b=$(cat "$T/root/1520/tmp/count")
	expect_rc 0 "$VZCTL" chkpnt 1520
	expect_rc 0 "$VZCTL" restore 1520
	expect_counter_continues 1520 "$b" "$pid"
	# Suspended, then stopped (cleanly: the halt signal reaches init).
	expect_rc 0 "$VZCTL" chkpnt 1520 --suspend
	expect_rc 0 "$VZCTL" stop 1520
	expect_out 'Container was stopped'
	printf '%s\n' "$OUT" | grep -q 'Killing' && fail "a suspended CT was killed, not halted: $OUT"
	expect_rc 31 "$VZCTL" chkpnt 1520 --suspend
	expect_out 'Unable to setup checkpointing: container is not running'
	# Suspended, then killed: stopped, still mounted.
	expect_rc 0 "$VZCTL" start 1520
	wait_for 100 booted 1520 || fail "no boot"
	expect_rc 0 "$VZCTL" chkpnt 1520 --suspend
	expect_rc 0 "$VZCTL" chkpnt 1520 --kill
	expect_rc 0 "$VZCTL" status 1520
	expect_out 'exist mounted down'
	expect_rc 0 "$VZCTL" umount 1520
	expect_rc 16 "$VZCTL" chkpnt 1520 --dump --dumpfile "$T/d"
	expect_out 'the --dump stage alone is not supported'
	expect_rc 17 "$VZCTL" restore 1520 --undump --dumpfile "$T/d"
	expect_rc 20 "$VZCTL" chkpnt 1520 --undump
	return 0
}

# OpenVZ's dump carried the CT's beancounters as they were, so a value set
# live without --save outlived chkpnt/restore (and an online migration).
t_cpt_live_values_kept() {
	cpt_setup
	start_busybox 1521
	expect_rc 0 "$VZCTL" set 1521 --numproc 40 --save
	expect_rc 0 "$VZCTL" set 1521 --numproc 80
	expect_rc 0 "$VZCTL" set 1521 --cpus 1
	# And its uptime goes on (vzlist's, OpenVZ's vestat kept it too).
	sleep 3
	local up1 up2
	up1=$(uptime_s 1521)
	[ "${up1:-0}" -ge 3 ] || fail "uptime before chkpnt: $up1"
	expect_rc 0 "$VZCTL" chkpnt 1521
	expect_rc 0 "$VZCTL" restore 1521
	up2=$(uptime_s 1521)
	[ "${up2:-0}" -ge "$up1" ] || fail "uptime after restore: $up2, was $up1"
	[ "$(cg pids 1521 pids.max)" = 80 ] || fail "restore lost the live numproc: $(cg pids 1521 pids.max)"
	[ "$(cg cpu 1521 cpu.cfs_quota_us)" = 100000 ] || fail "restore lost the live --cpus: $(cg cpu 1521 cpu.cfs_quota_us)"
	expect_rc 0 "$VZCTL" exec 1521 'grep numproc /run/user_beancounters'
	expect_out ' 80 +80 '
	# Later live sets still start from the live values.
	expect_rc 0 "$VZCTL" set 1521 --cpulimit 0
	[ "$(cg pids 1521 pids.max)" = 80 ] || fail "a set after restore undid numproc: $(cg pids 1521 pids.max)"
	expect_rc 0 "$VZCTL" stop 1521
	expect_rc 0 "$VZCTL" start 1521
	wait_for 100 booted 1521 || fail "no boot"
	[ "$(cg pids 1521 pids.max)" = 40 ] || fail "a start kept an unsaved value: $(cg pids 1521 pids.max)"
	[ "$(uptime_s 1521)" -lt "$up1" ] || fail "a new start kept the old uptime: $(uptime_s 1521)"
	return 0
}

# An interface added live without --save is in the CT's images: the
# restore makes its pair again (it failed: "Unknown peer net namespace",
# the CT down), and a later live --netif_del still finds it.
t_cpt_netif_unsaved() {
	cpt_bridged_ct 1522
	expect_rc 0 srv "$VZCTL" set 1522 --netif_add eth1,00:18:51:AA:BB:CD
	expect_rc 0 srv "$VZCTL" chkpnt 1522
	ip -n "$SRV" link | grep -q veth1522 && fail "host side left after chkpnt"
	expect_rc 0 srv "$VZCTL" restore 1522
	ip -n "$SRV" link show veth1522.1 >/dev/null 2>&1 || fail "no host side of the unsaved eth1"
	[ "$(srv "$VZCTL" exec 1522 'cat /sys/class/net/eth1/address')" = 00:18:51:aa:bb:cd ] ||
		fail "eth1 after restore: $(srv "$VZCTL" exec 1522 'ls /sys/class/net')"
	expect_rc 0 srv "$VZCTL" set 1522 --netif_del eth1
	ip -n "$SRV" link show veth1522.1 >/dev/null 2>&1 && fail "host side left after a live --netif_del"
	srv "$VZCTL" exec 1522 'ls /sys/class/net' | grep -q eth1 && fail "eth1 still in the CT"
	# Saved or not, the config decides the next start.
	grep -q 'ifname=eth1' "$T/conf/1522.conf" && fail "an unsaved NETIF was saved"
	expect_rc 0 srv "$VZCTL" stop 1522
	return 0
}

# What chkpnt, restore and a start from a dump say, line for line as
# vzctl's (panels compare them): chkpnt ends with the CT unmounted, a
# restore mounts it before the undump, sets the CT up as a start does
# (vps_start_custom: the config's CPU values) and ends as a start does.
t_cpt_messages() {
	cpt_setup
	start_busybox 1522
	local chkpnt restore
	chkpnt=$(printf '%s\n' 'Setting up checkpoint...' '	suspend...' '	dump...' '	kill...' \
		'Checkpointing completed successfully' 'Container is unmounted')
	restore=$(printf '%s\n' 'Restoring container ...' 'Container is mounted' '	undump...' \
		"Setting CPU units: $(sed -n 's/^CPUUNITS="\(.*\)"/\1/p' "$T/conf/1522.conf")" '	resume...' \
		'Container start in progress...' 'Restoring completed successfully')
	expect_rc 0 "$VZCTL" chkpnt 1522
	[ "$OUT" = "$chkpnt" ] || fail "chkpnt said: $OUT"
	expect_rc 0 "$VZCTL" restore 1522
	[ "$OUT" = "$restore" ] || fail "restore said: $OUT"
	expect_rc 0 "$VZCTL" suspend 1522
	expect_rc 0 "$VZCTL" start 1522
	[ "$OUT" = "Dump file $T/dump/Dump.1522 exists, trying to restore from it
$restore" ] || fail "start said: $OUT"
	expect_rc 0 "$VZCTL" stop 1522 --fast
	# No dump: vzctl's open of it failed after its first line.
	expect_rc 17 "$VZCTL" restore 1522 --dumpfile "$T/none"
	[ "$OUT" = "Restoring container ...
Unable to open $T/none: No such file or directory" ] || fail "restore without a dump said: $OUT"
	return 0
}

# vzctl start of a CT whose dump does not restore boots it afresh, as
# vzctl's did (after a host reboot into another kernel, the CTs come up);
# the dump is kept aside, not where the next start would restore it.
t_cpt_start_failed_restore_boots() {
	cpt_setup
	start_busybox 1523
	expect_rc 0 "$VZCTL" chkpnt 1523
	local d=$T/dump/Dump.1523
	head -c 64 /dev/urandom >"$d/pstree.img"
	expect_rc 0 "$VZCTL" start 1523
	expect_out "^Dump file $d exists, trying to restore from it$"
	expect_out 'criu restore failed'
	expect_out "^Warning: the dump that did not restore is kept as $d.failed; starting afresh$"
	expect_out '^Starting container\.\.\.$'
	wait_for 100 booted 1523 || fail "no boot after the failed restore"
	[ -e "$d" ] && fail "the dump is still where a start restores it"
	[ -f "$d.failed/pstree.img" ] || fail "the dump was not kept aside"
	expect_rc 0 "$VZCTL" stop 1523
	expect_rc 0 "$VZCTL" status 1523
	expect_out 'exist unmounted down$'
	# destroy takes the dump kept aside with the CT.
	expect_rc 0 "$VZCTL" destroy 1523
	[ -e "$d.failed" ] && fail "destroy left $d.failed"
	return 0
}

# A relative --dumpfile is taken from where vzctl runs, as vzctl opened it.
t_cpt_relative_dumpfile() {
	cpt_setup
	start_busybox 1524
	mkdir -p "$T/work" && cd "$T/work" || fail "cd"
	expect_rc 0 "$VZCTL" chkpnt 1524 --dumpfile rel
	[ -f "$T/work/rel/nvz-cpt.conf" ] || fail "no complete dump in $T/work/rel"
	expect_rc 0 "$VZCTL" restore 1524 --dumpfile rel
	expect_out 'Restoring completed successfully'
	[ -e "$T/work/rel" ] && fail "dump left after the restore"
	expect_rc 0 "$VZCTL" exec 1524 echo alive
	expect_out '^alive$'
	expect_rc 0 "$VZCTL" stop 1524 --fast
	return 0
}

# chkpnt --kill (and restore --kill) after --suspend say only vzctl's
# "Killing..." and leave the CT mounted.
t_cpt_kill_stage() {
	start_busybox 1525
	expect_rc 0 "$VZCTL" chkpnt 1525 --suspend
	expect_rc 0 "$VZCTL" chkpnt 1525 --kill
	[ "$OUT" = "Killing..." ] || fail "chkpnt --kill said: $OUT"
	expect_rc 0 "$VZCTL" status 1525
	expect_out 'exist mounted down$'
	expect_rc 0 "$VZCTL" start 1525
	wait_for 100 booted 1525 || fail "no boot"
	expect_rc 0 "$VZCTL" restore 1525 --kill
	[ "$OUT" = "Killing..." ] || fail "restore --kill said: $OUT"
	expect_rc 31 "$VZCTL" chkpnt 1525 --kill
	expect_out '^Container is not running$'
	return 0
}

# A routed CT with an IPv6 ADDR/PREFIX: its route to the prefix via the
# host is nvz's own, so a checkpoint still leaves the namespace to nvz
# (NETNS="nvz"), and after the restore the CT reaches its prefix's LAN
# peer again.
t_cpt_routed_v6_prefix() {
	cpt_setup
	net_setup
	srv "$VZCTL" --quiet create 1515 --ostemplate busybox-x86_64 || fail create
	expect_rc 0 srv "$VZCTL" set 1515 --ipadd 2001:db8:77::15/64 --save
	expect_rc 0 srv "$VZCTL" start 1515
	wait_for 100 srv "$VZCTL" exec 1515 'test -e /run/nvz-boot.done' || fail "no boot"
	wait_for 30 srv "$VZCTL" exec 1515 'ping -6 -c 1 -W 2 2001:db8:77::50' || fail "CT cannot reach the LAN before chkpnt"
	expect_rc 0 srv "$VZCTL" --verbose chkpnt 1515
	grep -q '^NETNS="nvz"' "$T/dump/Dump.1515/nvz-cpt.conf" || fail "netns dumped by criu: $OUT"
	expect_rc 0 srv "$VZCTL" restore 1515
	wait_for 30 srv "$VZCTL" exec 1515 'ping -6 -c 1 -W 2 2001:db8:77::50' ||
		fail "restored CT cannot reach its prefix: $(srv "$VZCTL" exec 1515 'ip -6 route' 2>&1)"
	wait_for 30 lan busybox ping -6 -c 1 -W 2 2001:db8:77::15 || fail "LAN cannot reach the restored CT"
	return 0
}

# systemd's sandboxing in a Debian CT: ProtectHostname= (logind, logrotate,
# timedated, localed), PrivateNetwork= (hostnamed, localed, e2scrub),
# PrivateIPC=. criu cannot dump a nested UTS or IPC namespace, and cannot
# restore a nested network namespace in the CT's (it dumped one, and the
# restore failed after the CT was gone). The CT's seccomp filter refuses
# to make them (EPERM: systemd runs the unit without, "prohibited by the
# container manager"), so such a CT checkpoints; mount namespaces
# (PrivateTmp=) are still made and carried. One made anyway (here from
# the host) makes the checkpoint refuse before anything is frozen. Debian
# 13 (systemd 257) runs it too (test_debian.sh), on cgroup v2 in the VM
# lane.
t_cpt_debian_sandboxed_units() {
	cpt_setup
	need_debian
	expect_rc 0 "$VZCTL" create 1508 --ostemplate "$DEBIAN_TMPL"
	cat >"$T/private/1508/etc/systemd/system/sandboxed.service" <<'UNIT'
[Service]
ExecStart=/bin/sleep infinity
ProtectHostname=yes
PrivateIPC=yes
PrivateTmp=yes
PrivateNetwork=yes
ProtectControlGroups=yes
ProtectSystem=strict
UNIT
	expect_rc 0 "$VZCTL" start 1508 --wait
	expect_rc 0 "$VZCTL" exec 1508 'systemctl start sandboxed && systemctl is-active sandboxed'
	expect_out '^active$'
	local main
	main=$("$VZCTL" exec 1508 'systemctl show -p MainPID --value sandboxed')
	expect_rc 0 "$VZCTL" exec 1508 "for n in uts ipc net mnt; do [ \$(readlink /proc/1/ns/\$n) = \$(readlink /proc/$main/ns/\$n) ] && echo \$n same || echo \$n own; done"
	expect_out '^uts same$'
	expect_out '^ipc same$'
	expect_out '^net same$'
	expect_out '^mnt own$'
	# systemd >= 254 on cgroup v2 bound the unit's memory.pressure writable
	# over itself, a bind criu restores from the wrong root: its memory
	# pressure watch is off in nvz's /run/systemd/system.conf.d.
	expect_rc 0 "$VZCTL" exec 1508 "systemctl show -p DefaultMemoryPressureWatch --value; grep -c memory.pressure /proc/$main/mountinfo || true"
	expect_out '^0$'
	[ -e "$T/private/1508/usr/lib/systemd/systemd-executor" ] && expect_out '^(off|no)$'
	expect_rc 0 "$VZCTL" exec 1508 'journalctl -u sandboxed --no-pager -o cat'
	expect_out 'ProtectHostname=yes is configured, but UTS namespace setup is prohibited'
	# What the admin runs is refused alike; a mount namespace is not.
	expect_rc 0 "$VZCTL" exec 1508 'unshare -u true || unshare -i true || unshare -n true || echo refused; unshare -m true && echo mnt'
	expect_out 'unshare failed: Operation not permitted'
	expect_out '^refused$'
	expect_out '^mnt$'
	expect_rc 0 "$VZCTL" chkpnt 1508
	expect_rc 0 "$VZCTL" restore 1508
	expect_rc 0 "$VZCTL" exec 1508 'systemctl is-active sandboxed; systemctl show -p MainPID --value sandboxed'
	expect_out '^active$'
	expect_out "^$main\$"
	# A process of the CT in a network namespace of its own, put there from
	# the host (no filter): refused up front, the CT keeps running.
	local init
	init=$(state_pid 1508 INIT_PID)
	nsenter -t "$init" -p -m -u -i -n --root --wd=/ sh -c 'unshare -n sleep 1000 </dev/null >/dev/null 2>&1 &'
	wait_for 50 eval '"$VZCTL" exec 1508 "pidof sleep" | grep -q " "' || fail "no sleep in a netns of its own"
	expect_rc 16 "$VZCTL" chkpnt 1508
	expect_out 'Checkpointing failed: sleep\[[0-9]+\] has a network namespace of its own, which a checkpoint cannot take along'
	expect_rc 0 "$VZCTL" status 1508
	expect_out 'running'
	expect_rc 0 "$VZCTL" exec 1508 'systemctl is-active sandboxed'
	expect_rc 0 "$VZCTL" stop 1508
}

# --features nesting:on (nvz's own; Proxmox's "nesting"): the CT may make
# network, UTS and IPC namespaces (containers, ip netns inside), through
# clone3 too, and its exec'd processes alike. A checkpoint works while it
# has none; with one it is refused up front, saying how to get it back,
# and the CT runs on. The switch is the CT's seccomp filter, set at start:
# a live change says so, and --setmode restart applies it.
t_cpt_features_nesting() {
	cpt_setup
	expect_rc 0 "$VZCTL" create 1530 --ostemplate busybox-x86_64
	expect_rc 0 "$VZCTL" set 1530 --features nesting:on --save
	printf '%s\n' "$OUT" | grep -q 'is kept in the config' && fail "nesting said to change nothing: $OUT"
	grep -qx 'FEATURES="nesting:on"' "$T/conf/1530.conf" || fail "FEATURES: $(grep FEATURES "$T/conf/1530.conf")"
	expect_rc 0 "$VZCTL" set 1530 --features nfs:on --save
	expect_out 'Warning: --features is kept in the config'
	grep -qx 'FEATURES="nfs:on nesting:on"' "$T/conf/1530.conf" || fail "FEATURES: $(grep FEATURES "$T/conf/1530.conf")"
	expect_rc 0 "$VZLIST" -H -o features 1530
	expect_out '^ *nfs:on,nesting:on *$'
	expect_rc 0 "$VZCTL" --quiet start 1530
	wait_for 100 booted 1530 || fail "no boot"
	cp "$BUILD/tests/clone3ns" "$T/root/1530/clone3ns" || fail "copy clone3ns"
	expect_rc 0 "$VZCTL" exec 1530 /clone3ns
	expect_out '^clone3 made$'
	expect_out '^unshare made$'
	expect_rc 0 "$VZCTL" exec 1530 'unshare -u sh -c "hostname inner; hostname"; hostname; unshare -n ip link | grep -c "^[0-9]"'
	printf '%s\n' "$OUT" | sed -n 1p | grep -qx inner || fail "no UTS namespace of its own: $OUT"
	printf '%s\n' "$OUT" | sed -n 2p | grep -qx inner && fail "the CT's hostname changed: $OUT"
	printf '%s\n' "$OUT" | sed -n 3p | grep -qx 1 || fail "the new network namespace has more than lo: $OUT"
	# None in use: the checkpoint goes through, and what is run in the
	# restored CT still may.
	expect_rc 0 "$VZCTL" chkpnt 1530
	expect_rc 0 "$VZCTL" restore 1530
	expect_rc 0 "$VZCTL" exec 1530 /clone3ns
	expect_out '^unshare made$'
	# One in use: refused before the freeze, the way out said.
	"$VZCTL" exec 1530 'unshare -n sleep 1000 </dev/null >/dev/null 2>&1 &' || fail "unshare -n sleep"
	wait_for 50 eval '"$VZCTL" exec 1530 "pidof sleep"' || fail "no sleep in a netns of its own"
	expect_rc 16 "$VZCTL" chkpnt 1530
	expect_out 'has a network namespace of its own, which a checkpoint cannot take along: stop that process, or turn nesting off \(--features nesting:off --save\) and restart the container'
	expect_rc 0 "$VZCTL" status 1530
	expect_out 'running'
	# Off on the running CT: saved, said, applied by --setmode restart.
	expect_rc 0 "$VZCTL" set 1530 --features nesting:off --save
	expect_out '^Unable to set features on a running container$'
	expect_out 'Please consider using --setmode option'
	expect_rc 0 "$VZCTL" exec 1530 /clone3ns
	expect_out '^clone3 ENOSYS$'
	expect_rc 0 "$VZCTL" set 1530 --features nesting:on --setmode restart --save
	printf '%s\n' "$OUT" | grep -q 'Unable to set features' && fail "restart asked for, still warned: $OUT"
	wait_for 100 booted 1530 || fail "no boot after the restart"
	expect_rc 0 "$VZCTL" exec 1530 'pidof sleep || echo none; /clone3ns'
	expect_out '^none$'
	expect_out '^unshare made$'
	# Unchanged: no restart wanted.
	expect_rc 0 "$VZCTL" set 1530 --features nesting:on --save
	printf '%s\n' "$OUT" | grep -q 'Unable to set' && fail "no change, still warned: $OUT"
	rm -f "$T/root/1530/clone3ns"
	expect_rc 0 "$VZCTL" stop 1530
}
