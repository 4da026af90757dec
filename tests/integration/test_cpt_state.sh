# Checkpoint/restore (test_cpt.sh has the rig): a restore without the hub,
# what a dump keeps of live values and interfaces, vzctl's messages and
# exit codes, the dump's place, systemd's sandboxed units, nesting.
# shellcheck shell=bash

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
