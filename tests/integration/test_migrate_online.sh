# vzmigrate --online (the two-server rig is in test_migrate.sh): checkpoint
# on A, restore on B; over IPv6; post-copy (--lazy) and its failures;
# iterative pre-copy; what cannot be migrated live.
# shellcheck shell=bash

# Online (--online): checkpoint on A, the dump travels with the final sync,
# restore on B. A process and what it keeps only in memory (tmpfs) survive
# with their PIDs; the routed address follows.
t_migrate_online() {
	mig_setup
	mig_bind_script 2114
	mig_ct 2114 --name live
	local pid
	pid=$(ina "$VZCTL" exec 2114 'sleep 9999 >/dev/null 2>&1 & echo $!')
	[ -n "$pid" ] || fail "no background process"
	ina "$VZCTL" exec 2114 'echo in-memory > /dev/shm/state' || fail "tmpfs"
	local bootid
	bootid=$(ina "$VZCTL" exec 2114 cat /proc/sys/kernel/random/boot_id)
	# Files the CT made in its /dev and /run tmpfs travel too (nvz's copy).
	ina "$VZCTL" exec 2114 'mknod /dev/mig-null c 1 3 && chown 5:6 /dev/mig-null && mkdir /run/mig &&
		echo run-state > /run/mig/f && ln -s mig/f /run/mig-link' || fail "tmpfs files"
	# A counter that must go on, not start again from 0.
	ina "$VZCTL" exec 2114 'i=0; while :; do i=$((i+1)); echo $i >/run/count.new; mv /run/count.new /run/count; sleep 0.1; done >/dev/null 2>&1 &' ||
		fail "counter"
	# An established TCP connection from the client to a cat server in the CT.
	mig_tcp_echo 2114
	local ncpid=$MIG_NCPID
	sleep 0.5
	# A value set live without --save travels with the CT, as in OpenVZ.
	ina "$VZCTL" set 2114 --numproc 77 >/dev/null || fail "live numproc"
	local logins
	logins=$(ssh_logins b)
	expect_rc 0 migrate --online -t $MIG_B live
	# OpenVZ's steps of a live migration at its default verbosity.
	mig_steps 'Locked CT 2114' 'Starting live migration of CT 2114 to 10.78.0.3' 'Preparing remote node' \
		'Initializing remote quota' 'Syncing private' 'Live migrating container...' 'Cleaning up'
	expect_out 'Total time CT was down: +[0-9.]+ s'
	# The checkpoint, the final sync and the restore there (which runs
	# inside the checkpoint) each counted once: together within the down time.
	printf '%s\n' "$OUT" | awk -F': *' '/Stopping or checkpoint|Final sync|Start or restore there/ { sum += $2 }
		/Total time CT was down/ { down = $2 } END { exit !(sum <= down + 0.05) }' ||
		fail "the times add up to more than the down time: $OUT"
	# One ssh connection carried the session and every copy.
	[ "$(ssh_logins b)" -eq $((logins + 1)) ] || fail "$(($(ssh_logins b) - logins)) ssh connections, expected 1"
	ls "$T/run" | grep -q migrate- && fail "ssh's socket directory left: $(ls "$T/run")"
	local c1
	c1=$(vzb exec 2114 cat /run/count)
	[ "${c1:-0}" -gt 3 ] || fail "the counter started again: $c1"
	counter_passes "$c1" vzb exec 2114 || fail "the counter stopped on B: $c1 then $(vzb exec 2114 cat /run/count)"
	echo after-migration >&3
	wait_for 100 grep -q after-migration "$T/echoed" || fail "TCP connection lost in the migration: $(cat "$T/echoed")"
	exec 3>&-
	kill "$ncpid" 2>/dev/null
	vzb status 2114 | grep -q 'exist mounted running' || fail "not running on B: $(vzb status 2114)"
	vzb exec 2114 "kill -0 $pid" || fail "process $pid did not survive"
	vzb exec 2114 'grep numproc /run/user_beancounters' | grep -Eq ' 77 +77 ' ||
		fail "the live numproc did not travel: $(vzb exec 2114 'grep numproc /run/user_beancounters')"
	[ "$(vzb exec 2114 cat /dev/shm/state)" = in-memory ] || fail "memory state lost"
	# The CT did not boot again: same boot id (a bind from its /dev).
	[ -n "$bootid" ] && [ "$(vzb exec 2114 cat /proc/sys/kernel/random/boot_id)" = "$bootid" ] ||
		fail "boot id changed in the migration: $bootid -> $(vzb exec 2114 cat /proc/sys/kernel/random/boot_id)"
	[ "$(vzb exec 2114 'stat -c "%t:%T %u:%g %F" /dev/mig-null; cat /run/mig-link')" = "$(printf '1:3 5:6 character special file\nrun-state')" ] ||
		fail "/dev or /run files lost: $(vzb exec 2114 'ls -l /dev/mig-null /run/mig-link /run/mig')"
	[ "$(vzb exec 2114 cat /root/marker)" = migrated-2114 ] || fail "disk"
	# The host directory its mount script binds is bound again there.
	[ "$(vzb exec 2114 cat /mnt/host/hello)" = from-the-host ] || fail "the bind did not follow"
	vzb exec 2114 'echo from-b >/mnt/host/b' && [ "$(cat "$T/hostdir/b")" = from-b ] ||
		fail "/mnt/host on B is not the host directory"
	[ -e "$T/conf/2114.conf" ] && fail "source left"
	ls "$T"/dump 2>/dev/null | grep -q 2114 && fail "dump left on A"
	ls "$T"/b/dump 2>/dev/null | grep -q 2114 && fail "dump left on B"
	client_ping $MIG_CT_IP || fail "client cannot reach the CT on B"
	return 0
}

# An IPv6 destination, bare and in brackets; one ssh connection per
# migration, or one per copy with --no-ssh-mux.
t_migrate_ipv6_ssh_mux() {
	mig_setup
	mig_ct 2116
	local logins
	logins=$(ssh_logins b)
	expect_rc 0 migrate "[$MIG_B6]" 2116
	expect_out "Starting migration of CT 2116 to \\[$MIG_B6\\]"
	vzb status 2116 | grep -q running || fail "not running on B: $(vzb status 2116)"
	[ "$(vzb exec 2116 cat /root/marker)" = migrated-2116 ] || fail "file did not arrive"
	[ "$(ssh_logins b)" -eq $((logins + 1)) ] || fail "$(($(ssh_logins b) - logins)) ssh connections, expected 1"
	# Back to A over its bare IPv6 address, a connection per copy.
	logins=$(ssh_logins a)
	expect_rc 0 inb env VZ_CONF="$BCONF" "$VZMIGRATE" --ssh="$SSHOPTS" --no-ssh-mux $MIG_A6 2116
	ina "$VZCTL" status 2116 | grep -q running || fail "not back on A"
	[ "$(ssh_logins a)" -ge $((logins + 3)) ] || fail "--no-ssh-mux: $(($(ssh_logins a) - logins)) connections"
	expect_rc 1 migrate "$MIG_B6:/x" 2116
	expect_out 'Bad destination address'
	return 0
}

# vzmigrate's checks of the target, and -f/--nodeps to skip them: a live
# migration needs every CPU feature of the source on the target (criu's own
# description of the CPU), and an IPv6 address needs IPv6 there.
t_migrate_nodeps() {
	mig_setup
	mig_ct 2117
	ina "$VZCTL" --quiet set 2117 --ipadd fd78::50 --save || fail "ipadd"
	# The source's criu says its CPU has features this CPU lacks: a
	# capability word that is 0 here gets bits in the description it sends.
	local real=${NVZ_CRIU:-/opt/nvz/criu/criu}
	cat >"$T/criu-newcpu" <<SH
#!/bin/sh
"$real" "\$@" || exit
[ "\$1 \$2" = "cpuinfo dump" ] || exit 0
while [ \$# -gt 0 ]; do [ "\$1" = -D ] && dir=\$2; shift; done
off=\$(od -An -tx1 -v -w1 "\$dir/cpuinfo.img" | awk 'NR > 32 && prev == "30" && \$1 == "00" { print NR - 1; exit } { prev = \$1 }')
[ -n "\$off" ] || { echo "no capability word to forge" >&2; exit 1; }
printf '\177' | dd of="\$dir/cpuinfo.img" bs=1 seek="\$off" conv=notrunc status=none
SH
	chmod +x "$T/criu-newcpu"
	sed -i '/^CRIU=/d' "$T/vz.conf" "$BCONF"
	echo "CRIU=$T/criu-newcpu" >>"$T/vz.conf"
	echo "CRIU=$real" >>"$BCONF"
	expect_rc 18 migrate --online --check-only $MIG_B 2117
	expect_out "the destination's CPU lacks features of the source's"
	expect_rc 0 migrate --online --check-only --nodeps=cpu $MIG_B 2117
	expect_out 'Check passed'
	sed -i "s|^CRIU=.*|CRIU=$real|" "$T/vz.conf"
	expect_rc 0 migrate --online --check-only $MIG_B 2117
	# IPv6 off on B: refused unless told.
	inb sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || fail "sysctl on B"
	expect_rc 14 migrate --check-only $MIG_B 2117
	expect_out 'CT 2117 has IPv6 addresses and IPv6 is disabled on the destination'
	expect_rc 0 migrate --check-only --nodeps=ipv6 $MIG_B 2117
	expect_rc 0 migrate --check-only -f $MIG_B 2117
	expect_rc 1 migrate --nodeps=gpu $MIG_B 2117
	expect_out 'unknown --nodeps argument: gpu'
	inb sysctl -qw net.ipv6.conf.all.disable_ipv6=0
	# criu cannot carry a tree between cgroup versions: B, made to use
	# cgroup v2 (the cgroup2 mount beside this host's v1 controllers),
	# refuses a live migration before anything is frozen; offline is fine.
	if cg_v2; then
		echo "note: controllers on cgroup v2 only: no v1 target to refuse"
	else
		sed -i 's|^environment="VZ_CONF|environment="NVZ_CGROUP_VERSION=2",&|' "$T/ssh/auth_b"
		expect_rc 17 migrate --online --check-only --nodeps=ipv6 $MIG_B 2117
		expect_out 'CT 2117 runs under cgroup v1 on the source and this server.s controllers are on cgroup v2: criu cannot carry its processes across; migrate it without --online'
		expect_rc 0 migrate --check-only --nodeps=ipv6 $MIG_B 2117
		sed -i 's|^environment="NVZ_CGROUP_VERSION=2",||' "$T/ssh/auth_b"
	fi
	source_intact 2117
	return 0
}

# A CT process holding ~75 MB of anonymous memory with a known content
# (the text of `seq 1 N` in a shell variable), and a counter; after the
# migration the process checksums its own memory on request.
LAZY_N=9000000
# Without CAP_SYS_RESOURCE (this host), criu's page server needs 4 MiB
# pipes allowed (see lib/cpt/lazy.c); put back at teardown.
lazy_pipes() {
	: "${LAZY_PIPE_OLD:=$(cat /proc/sys/fs/pipe-max-size)}"
	[ "$(cat /proc/sys/fs/pipe-max-size)" -ge 4194304 ] || sysctl -qw fs.pipe-max-size=4194304 || fail "cannot allow 4 MiB pipes"
}
lazy_ct() {
	local id=$1
	mig_ct "$id"
	ina "$VZCTL" exec "$id" "x=\$(seq 1 $LAZY_N); echo ready >/run/lazy.ready; while :; do if [ -e /run/lazy.go ]; then echo \"\$x\" | md5sum >/run/lazy.sum; rm -f /run/lazy.go; fi; sleep 0.2; done >/dev/null 2>&1 &" ||
		fail "memory holder"
	ina "$VZCTL" exec "$id" 'i=0; while :; do i=$((i+1)); echo $i >/run/count.new; mv /run/count.new /run/count; sleep 0.1; done >/dev/null 2>&1 &' ||
		fail "counter"
	wait_for 300 ina "$VZCTL" exec "$id" 'test -e /run/lazy.ready' || fail "the memory holder did not fill its memory"
	sleep 0.5
}
# The memory holder's checksum of its own memory, on server a or b.
lazy_sum() {
	local id=$2 run=ina vz=$VZCTL
	if [ "$1" = b ]; then run=inb vz="env VZ_CONF=$BCONF $VZCTL"; fi
	$run $vz exec "$id" 'rm -f /run/lazy.sum; touch /run/lazy.go' || return 1
	wait_for 300 $run $vz exec "$id" 'test -s /run/lazy.sum' || return 1
	$run $vz exec "$id" 'cut -d" " -f1 /run/lazy.sum'
}

# Post-copy: the CT runs on B as soon as it is restored, its memory comes
# after; the counter goes on, the memory is intact, the source is gone.
t_migrate_online_lazy() {
	mig_setup
	/opt/nvz/criu/criu check --feature uffd-noncoop >/dev/null 2>&1 || fail "criu here has no non-cooperative userfaultfd (post-copy)"
	lazy_ct 2117
	local want c0 c1
	# Refused before anything is done where criu could not serve pages.
	local cap
	cap=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
	if [ $((0x$cap >> 24 & 1)) -eq 0 ]; then
		LAZY_PIPE_OLD=$(cat /proc/sys/fs/pipe-max-size)
		sysctl -qw fs.pipe-max-size=1048576 || fail "sysctl"
		expect_rc 17 migrate --lazy $MIG_B 2117
		expect_out 'fs.pipe-max-size must be at least 4194304'
		ina "$VZCTL" status 2117 | grep -q 'exist mounted running' || fail "CT touched by a refused migration"
		target_clean 2117 || fail "target not clean after a refused migration"
	fi
	lazy_pipes
	want=$(seq 1 $LAZY_N | md5sum | cut -d' ' -f1)
	c0=$(ina "$VZCTL" exec 2117 cat /run/count)
	expect_rc 0 migrate --lazy -t $MIG_B 2117
	expect_out 'Starting live post-copy migration of CT 2117'
	expect_out 'Live migrating container...'
	expect_out 'Restoring container \(memory follows on demand\)'
	expect_out 'Copying memory'
	expect_out 'Copying memory \(CT running\): +[0-9.]+ s'
	expect_out 'Total time CT was down: +[0-9.]+ s'
	vzb status 2117 | grep -q 'exist mounted running' || fail "not running on B: $(vzb status 2117)"
	c1=$(vzb exec 2117 cat /run/count)
	[ "${c1:-0}" -ge "${c0:-1}" ] || fail "the counter started again: $c0 then $c1"
	counter_passes "$c1" vzb exec 2117 || fail "the counter stopped on B: $c1 then $(vzb exec 2117 cat /run/count)"
	[ "$(lazy_sum b 2117)" = "$want" ] || fail "the memory changed in the migration"
	[ "$(vzb exec 2117 cat /root/marker)" = migrated-2117 ] || fail "disk"
	# The source is cleaned; no criu, ssh forward or dump is left.
	[ -e "$T/conf/2117.conf" ] && fail "source left"
	[ -e "$T/private/2117" ] && fail "source private left"
	ls "$T"/dump 2>/dev/null | grep -q 2117 && fail "dump left on A"
	ls "$T"/b/dump 2>/dev/null | grep -q 2117 && fail "dump left on B"
	pgrep -f "lazy-pages.*$T" >/dev/null && fail "criu left running"
	client_ping $MIG_CT_IP || fail "client cannot reach the CT on B"
	return 0
}

# Post-copy, and the target fails before the CT ran there: B cannot mount
# it (the restore fails after the lazy-pages daemon started), then B has no
# criu at all (the daemon cannot start). Each time the frozen CT goes on
# on A with its memory and network, and B is clean.
t_migrate_online_lazy_rollback() {
	mig_setup
	/opt/nvz/criu/criu check --feature uffd-noncoop >/dev/null 2>&1 || fail "criu here has no non-cooperative userfaultfd (post-copy)"
	lazy_pipes
	lazy_ct 2118
	local want pid c1
	want=$(seq 1 $LAZY_N | md5sum | cut -d' ' -f1)
	pid=$(ina "$VZCTL" exec 2118 'sleep 9999 >/dev/null 2>&1 & echo $!')
	# An established TCP connection from the client: criu had it in repair
	# mode when it was killed; it must carry data again.
	mig_tcp_echo 2118
	local ncpid=$MIG_NCPID
	b_root_readonly
	expect_rc 7 migrate --lazy $MIG_B 2118
	expect_out 'Live migrating container...'
	expect_out '^Error: Failed to undump container: '
	expect_out 'Resuming container on the source'
	source_intact 2118
	ina "$VZCTL" exec 2118 "kill -0 $pid" || fail "process $pid lost in the rollback"
	echo after-rollback >&3
	wait_for 100 grep -q after-rollback "$T/echoed" || fail "TCP connection dead after the rollback: $(cat "$T/echoed")"
	exec 3>&-
	kill "$ncpid" 2>/dev/null
	c1=$(ina "$VZCTL" exec 2118 cat /run/count)
	counter_passes "${c1:-0}" ina "$VZCTL" exec 2118 || fail "the counter is not running on A: $c1 then $(ina "$VZCTL" exec 2118 cat /run/count)"
	[ "$(lazy_sum a 2118)" = "$want" ] || fail "the memory changed in the rollback"
	ls "$T"/dump 2>/dev/null | grep -q 2118 && fail "dump left on A"
	ls "$T"/b/dump 2>/dev/null | grep -q 2118 && fail "dump left on B"
	umount "$T/b/ro"
	sed -i "s|^VE_ROOT=.*|VE_ROOT=$T/b/root/\$VEID|" "$BCONF"
	echo 'CRIU="/nonexistent/criu"' >>"$BCONF"
	# The check finds no criu there before anything is done; past the
	# check (-f cpu), the lazy-pages daemon does not start and it rolls back.
	expect_rc 14 migrate --lazy $MIG_B 2118
	expect_out 'cannot run criu on the destination'
	expect_rc 7 migrate --lazy --nodeps=cpu $MIG_B 2118
	expect_out 'criu lazy-pages did not start'
	expect_out 'Resuming container on the source'
	source_intact 2118
	ina "$VZCTL" exec 2118 "kill -0 $pid" || fail "process $pid lost in the second rollback"
	[ "$(lazy_sum a 2118)" = "$want" ] || fail "the memory changed in the second rollback"
	# --lazy needs the one ssh connection its pages travel in.
	expect_rc 1 migrate --lazy --no-ssh-mux $MIG_B 2118
	return 0
}

# Post-copy, and a criu of the memory's path dies while the target's
# restore still runs: B's criu wrapper kills it by its PID (recorded by
# the wrapper that started it) just before it execs the restore. The
# source's page server (lazy_dies pageserver: A watches it), or B's
# lazy-pages daemon (lazy_dies daemon: B watches it, A's criu lives on).
# vzmigrate must end on its own (bounded here by timeout) with a clear
# message and status 7, B must be clean, and the CT either runs on A again
# or is reported LOST, as doc/vzmigrate.8 says.
lazy_dies() {
	local victim=$1 id=$2 msg=$3 real=${NVZ_CRIU:-/opt/nvz/criu/criu} rc
	mig_setup
	/opt/nvz/criu/criu check --feature uffd-noncoop >/dev/null 2>&1 || fail "criu here has no non-cooperative userfaultfd (post-copy)"
	lazy_pipes
	lazy_ct "$id"
	local mark_a=':' mark_b=':'
	[ "$victim" = pageserver ] && mark_a="echo \$\$ >'$T/victim.pid'"
	[ "$victim" = daemon ] && mark_b="echo \$\$ >'$T/victim.pid'"
	cat >"$T/criu-a" <<SH
#!/bin/sh
case " \$* " in *" dump "*"--lazy-pages"*) $mark_a ;; esac
exec "$real" "\$@"
SH
	# The mark is written before the kill: once the victim dies, the
	# target tears the restore (this wrapper too) down at once.
	cat >"$T/criu-b" <<SH
#!/bin/sh
case " \$* " in
*" lazy-pages "*) $mark_b ;;
*" restore "*) [ -s "$T/victim.pid" ] && echo killed >"$T/victim.killed" && kill -9 "\$(cat "$T/victim.pid")" ;;
esac
exec "$real" "\$@"
SH
	chmod +x "$T/criu-a" "$T/criu-b"
	sed -i '/^CRIU=/d' "$T/vz.conf" "$BCONF"
	echo "CRIU=$T/criu-a" >>"$T/vz.conf"
	echo "CRIU=$T/criu-b" >>"$BCONF"
	OUT=$(timeout 150 nsenter --net=/run/netns/"$NA" "$VZMIGRATE" --ssh="$SSHOPTS" --lazy $MIG_B "$id" 2>&1)
	rc=$?
	[ "$rc" -ne 124 ] || fail "vzmigrate hung: $OUT"
	[ -e "$T/victim.killed" ] || fail "the $victim was not killed: $OUT"
	[ "$rc" -eq 7 ] || fail "vzmigrate exited $rc, expected 7: $OUT"
	expect_out "$msg"
	# Bounded, not instant: when the source gave up at its session cut-off,
	# the target cleans up once its lazy-pages daemon sees the forward close.
	wait_for 600 target_clean "$id" || fail "target not clean: $(ls -a "$T/b/conf" "$T/b/private" 2>&1)"
	pgrep -f "criu.*$T/b/" >/dev/null && fail "criu left running on B: $(pgrep -af "criu.*$T/b/")"
	ls "$T"/b/dump 2>/dev/null | grep -q "$id" && fail "dump left on B"
	ls "$T"/dump 2>/dev/null | grep -q "$id" && fail "dump left on A"
	if printf '%s\n' "$OUT" | grep -q 'is LOST'; then
		ina "$VZCTL" status "$id" | grep -q 'running' && fail "reported lost but running on A"
	else
		expect_out 'Resuming container on the source'
		source_intact "$id"
		[ "$(lazy_sum a "$id")" = "$(seq 1 $LAZY_N | md5sum | cut -d' ' -f1)" ] || fail "the memory changed in the rollback"
	fi
	return 0
}
t_migrate_online_lazy_pageserver_dies() {
	lazy_dies pageserver 2119 "criu's page server on the source died \(status 137\) before the destination's restore returned"
}
t_migrate_online_lazy_daemon_dies() {
	lazy_dies daemon 2120 "criu lazy-pages exited during the restore \(status 137"
}

# Online migration with the iterative memory copy: a CT with 64 MB of
# checksummed memory (memfill) and a counter. Where the kernel tracks dirty
# pages, pre-dump rounds copy the memory while the CT runs (-t lists them),
# the freeze dumps only the last dirty pages, and the target restores from
# the rounds' images (the parent links travel with the dump). Where it does
# not (this host), the plain path runs, with a -v note and no round.
# Either way the memory and the counter arrive, and no dump is left on
# either server. --noiter turns the rounds off (the way back to A).
t_migrate_online_predump() {
	mig_setup
	mig_ct 2130
	local track=0 sum n0 c1 now
	/opt/nvz/criu/criu check --feature mem_dirty_track >/dev/null 2>&1 && track=1
	cp "$BUILD/tests/memfill" "$T/root/2130/memfill" || fail "copy memfill"
	ina "$VZCTL" exec 2130 '/memfill 64 /root -d' || fail "memfill"
	wait_for 200 test -s "$T/root/2130/root/memsum.now" || fail "memfill did not fill its memory"
	sum=$(cat "$T/root/2130/root/memsum")
	ina "$VZCTL" exec 2130 'i=0; while :; do i=$((i+1)); echo $i >/run/count.new; mv /run/count.new /run/count; sleep 0.1; done >/dev/null 2>&1 &' ||
		fail "counter"
	sleep 0.5
	expect_rc 0 migrate --online -t -v $MIG_B 2130
	expect_out 'Total time CT was down: +[0-9.]+ s'
	if [ $track = 1 ]; then
		expect_out 'Iterative memory copy, round 1: 6[4-9]\.[0-9] MB'
		expect_out 'Memory copy round 1 \(CT running\): +[0-9.]+ s, 6[4-9]\.[0-9] MB'
		echo "note: $(printf '%s\n' "$OUT" | grep -E 'round|down' | tr '\n' ';')"
	else
		echo "note: no dirty page tracking here: the plain online migration ran"
		expect_out 'No iterative memory copy: the kernel does not track dirty pages'
		printf '%s\n' "$OUT" | grep -q 'round' && fail "a pre-dump round ran: $OUT"
	fi
	c1=$(vzb exec 2130 cat /run/count)
	[ "${c1:-0}" -gt 3 ] || fail "the counter started again: $c1"
	n0=$(cut -d' ' -f2 "$T/b/root/2130/root/memsum.now")
	wait_for 100 sh -c "[ \"\$(cut -d' ' -f2 '$T/b/root/2130/root/memsum.now')\" -gt $n0 ]" ||
		fail "memfill does not run on B"
	now=$(cut -d' ' -f1 "$T/b/root/2130/root/memsum.now")
	[ "$now" = "$sum" ] || fail "memory content changed in the migration: sum $sum before, $now after"
	counter_passes "$c1" vzb exec 2130 || fail "the counter stopped on B: $c1 then $(vzb exec 2130 cat /run/count)"
	ls -a "$T"/dump "$T"/b/dump 2>/dev/null | grep -q 2130 && fail "dump left: $(ls -la "$T"/dump "$T"/b/dump)"
	# And back with --noiter: no round, the whole memory in the freeze.
	expect_rc 0 inb env VZ_CONF="$BCONF" "$VZMIGRATE" --ssh="$SSHOPTS" --online --noiter -t $MIG_A 2130
	printf '%s\n' "$OUT" | grep -q 'round' && fail "a pre-dump round ran with --noiter: $OUT"
	n0=$(cut -d' ' -f2 "$T/root/2130/root/memsum.now")
	wait_for 100 sh -c "[ \"\$(cut -d' ' -f2 '$T/root/2130/root/memsum.now')\" -gt $n0 ]" ||
		fail "memfill does not run on A"
	[ "$(cut -d' ' -f1 "$T/root/2130/root/memsum.now")" = "$sum" ] || fail "memory content changed on the way back"
	ls -a "$T"/dump "$T"/b/dump 2>/dev/null | grep -q 2130 && fail "dump left after the way back"
	return 0
}

# A CT holding one of server A's network devices (NETDEV) cannot move live:
# refused before anything is copied (17), the CT runs on A with its device,
# and B has nothing. Stopped, it migrates, NETDEV with it.
t_migrate_online_netdev_refused() {
	mig_setup
	mig_ct 2131
	ip -n "$NA" link add nd1 type veth peer name nd1p || fail "veth nd1"
	# Moved in without --save: the CT holds it all the same.
	ip -n "$NA" link add nd2 type veth peer name nd2p || fail "veth nd2"
	ina "$VZCTL" --quiet set 2131 --netdev_add nd2 >/dev/null || fail "netdev_add nd2"
	expect_rc 17 migrate --online $MIG_B 2131
	expect_out "CT 2131 has this server's network devices \(NETDEV=\"nd2\"\)"
	[ -e "$T/b/conf/2131.conf" ] && fail "config left on B"
	ina "$VZCTL" --quiet set 2131 --netdev_del nd2 >/dev/null || fail "netdev_del nd2"
	ina "$VZCTL" --quiet set 2131 --netdev_add nd1 --save || fail "netdev_add"
	expect_rc 17 migrate --online $MIG_B 2131
	expect_out "CT 2131 has this server's network devices \(NETDEV=\"nd1\"\): online migration is impossible"
	printf '%s\n' "$OUT" | grep -q 'Copying' && fail "copied before refusing: $OUT"
	ina "$VZCTL" status 2131 | grep -q 'exist mounted running' || fail "CT harmed on A: $(ina "$VZCTL" status 2131)"
	ina "$VZCTL" exec 2131 'ip link show nd1' >/dev/null 2>&1 || fail "nd1 left the CT"
	[ -e "$T/b/conf/2131.conf" ] && fail "config left on B"
	expect_rc 0 ina "$VZCTL" stop 2131
	ip -n "$NA" link show nd1 >/dev/null 2>&1 || fail "nd1 not back on A after stop"
	expect_rc 0 migrate $MIG_B 2131
	grep -q '^NETDEV="nd1"$' "$T/b/conf/2131.conf" || fail "NETDEV not carried: $(grep NETDEV "$T/b/conf/2131.conf")"
	return 0
}

# A CT with --features nesting:on whose process has a network namespace of
# its own cannot move live: refused before anything is copied (17), the CT
# runs on A. Without one it moves live, nesting and all.
t_migrate_online_nested_ns_refused() {
	mig_setup
	mig_ct 2132
	ina "$VZCTL" --quiet set 2132 --features nesting:on --setmode restart --save || fail "nesting:on"
	wait_for 100 ina "$VZCTL" exec 2132 'test -e /run/nvz-boot.done' || fail "no boot after the restart"
	ina "$VZCTL" exec 2132 'unshare -n sleep 1000 </dev/null >/dev/null 2>&1 &' || fail "unshare -n sleep"
	wait_for 50 ina "$VZCTL" exec 2132 'pidof sleep' || fail "no sleep in a netns of its own"
	expect_rc 17 migrate --online $MIG_B 2132
	expect_out 'CT 2132: sleep\[[0-9]+\] has a network namespace of its own, which a checkpoint cannot take along: online migration is impossible'
	printf '%s\n' "$OUT" | grep -q 'Syncing' && fail "copied before refusing: $OUT"
	[ -e "$T/b/conf/2132.conf" ] && fail "config left on B"
	ina "$VZCTL" status 2132 | grep -q 'exist mounted running' || fail "CT harmed on A: $(ina "$VZCTL" status 2132)"
	ina "$VZCTL" exec 2132 'kill $(pidof sleep)' || fail "kill sleep"
	wait_for 50 eval '! ina "$VZCTL" exec 2132 "pidof sleep"' || fail "sleep still there"
	expect_rc 0 migrate --online $MIG_B 2132
	vzb status 2132 | grep -q running || fail "not running on B"
	grep -q '^FEATURES="nesting:on"$' "$T/b/conf/2132.conf" || fail "FEATURES not carried"
	[ "$(vzb exec 2132 'unshare -n true && echo made')" = made ] || fail "no nesting on B"
	return 0
}
