# vzmigrate --online's hold: the final sync and the restore on B run inside
# criu's post-dump, while the CT is frozen on A; A's copy goes only once B's
# runs, and a failure on either side leaves exactly one copy running.
# Servers and helpers: test_migrate.sh.
# shellcheck shell=bash

# CT $1 as mig_ct makes it, with a process that must outlive what follows:
# its pid (in the CT) in SLEEPER, init's host pid in INIT0.
mig_ct_sleeper() {
	mig_ct "$1"
	SLEEPER=$(ina "$VZCTL" exec "$1" 'sleep 9999 >/dev/null 2>&1 & echo $!')
	INIT0=$(state_pid "$1" INIT_PID)
}

# Online, and the restore on B fails (B cannot mount the CT): the CT runs
# on A from where it was frozen, the same processes (nothing restored from
# the dump, which could fail here too); B is clean.
t_migrate_online_rollback() {
	mig_setup
	mig_ct_sleeper 2115
	local pid=$SLEEPER init=$INIT0
	[ -n "$init" ] || fail "no INIT_PID"
	b_root_readonly
	expect_rc 7 migrate --online $MIG_B 2115
	expect_out 'Live migrating container...'
	expect_out 'Resuming container on the source'
	expect_out '^Error: Failed to undump container: '
	source_intact 2115
	ina "$VZCTL" exec 2115 "kill -0 $pid" || fail "process $pid lost in the rollback"
	[ "$(state_pid 2115 INIT_PID)" = "$init" ] && kill -0 "$init" ||
		fail "init $init did not run on: restored ($(state_pid 2115 INIT_PID))?"
	ls "$T"/dump 2>/dev/null | grep -q 2115 && fail "dump left on A"
	ls "$T"/b/dump 2>/dev/null | grep -q 2115 && fail "dump left on B"
	umount "$T/b/ro"
	return 0
}

# Online, a ploop CT: its image is copied while the CT is frozen and its
# file system still mounted, so what that file system held in memory
# (written just before, never synced) must reach the image first.
t_migrate_online_ploop() {
	mig_setup
	mig_ct 2136 --layout ploop --diskspace 512M
	ina "$VZCTL" exec 2136 'dd if=/dev/urandom of=/root/late bs=64k count=16 2>/dev/null; md5sum /root/late' >"$T/sum" ||
		fail "write"
	expect_rc 0 migrate --online $MIG_B 2136
	vzb status 2136 | grep -q 'exist mounted running' || fail "not running on B: $(vzb status 2136)"
	[ "$(vzb exec 2136 'md5sum /root/late')" = "$(cat "$T/sum")" ] || fail "the late write did not arrive"
	[ "$(vzb exec 2136 cat /root/marker)" = migrated-2136 ] || fail "disk"
	# B's copy of the image is a clean file system once stopped there.
	vzb stop 2136 >/dev/null 2>&1 || fail "stop on B"
	local img
	img=$(ls "$T"/b/private/2136/root.hdd/*.hdd 2>/dev/null | head -1)
	[ -n "$img" ] || img=$(find "$T/b/private/2136" -name '*.hdd' -o -name 'root.hds' | head -1)
	[ -n "$img" ] || fail "no image on B: $(find "$T/b/private/2136" | head)"
	e2fsck -fn "$img" >"$T/fsck" 2>&1 || fail "fsck of B's image: $(tail -5 "$T/fsck")"
	return 0
}

# A dump that no criu can restore (here a criu whose restore always fails,
# on both servers; in life a criu bug, as Debian 13's (sd-pam) was): the
# live migration fails on B, and the CT runs on A as it was, the same init
# and processes. Restoring it on A from that dump would have lost it.
t_migrate_online_unrestorable() {
	mig_setup
	mig_ct_sleeper 2134
	local pid=$SLEEPER init=$INIT0 real=${NVZ_CRIU:-/opt/nvz/criu/criu}
	cat >"$T/criu-norestore" <<SH
#!/bin/sh
for a; do [ "\$a" = restore ] && { echo "Error (criu/cr-restore.c:1): this test's criu restores nothing" >&2; exit 1; }; done
exec "$real" "\$@"
SH
	chmod +x "$T/criu-norestore"
	sed -i '/^CRIU=/d' "$T/vz.conf" "$BCONF"
	echo "CRIU=$T/criu-norestore" >>"$T/vz.conf"
	echo "CRIU=$T/criu-norestore" >>"$BCONF"
	expect_rc 7 migrate --online $MIG_B 2134
	expect_out '^Error: Failed to undump container: '
	expect_out 'Resuming container on the source'
	source_intact 2134
	[ "$(state_pid 2134 INIT_PID)" = "$init" ] || fail "init $init replaced by $(state_pid 2134 INIT_PID)"
	ina "$VZCTL" exec 2134 "kill -0 $pid" || fail "process $pid lost"
	ls "$T"/dump 2>/dev/null | grep -q 2134 && fail "dump left on A: $(ls "$T"/dump)"
	return 0
}


# Processes in CT $1's cgroup on B (none, once its copy there went with an
# aborted migration).
b_ct_procs() {
	grep -lE ":/$CGROUP_PREFIX-b/$1(/|\$)" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3
	return 0
}
b_ct_gone() { [ -z "$(b_ct_procs "$1")" ]; }

# A's criu runs nvz's action script through $T/action-wrap, which runs
# the test's $T/after-post-dump (sh, in the wrap's environment: criu's
# CRTOOLS_SCRIPT_ACTION, nvz's NVZ_CPT_HOOK_WAITER) once nvz's post-dump
# hook returned 0; the wrap's status is that snippet's.
mig_criu_after_post_dump() {
	local real=${NVZ_CRIU:-/opt/nvz/criu/criu}
	cat >"$T/criu-wrap" <<SH
#!/bin/bash
args=() script=
for a; do
	if [ "\$script" = next ]; then script=\$a; a=$T/action-wrap; fi
	[ "\$a" = --action-script ] && script=next
	args+=("\$a")
done
[ -n "\$script" ] && printf '%s\n' "\$script" >"$T/real-action"
exec "$real" "\${args[@]}"
SH
	cat >"$T/action-wrap" <<SH
#!/bin/sh
"\$(cat "$T/real-action")" || exit
[ "\$CRTOOLS_SCRIPT_ACTION" = post-dump ] || exit 0
. "$T/after-post-dump"
SH
	chmod +x "$T/criu-wrap" "$T/action-wrap"
	sed -i '/^CRIU=/d' "$T/vz.conf"
	echo "CRIU=$T/criu-wrap" >>"$T/vz.conf"
}

# criu on A fails after its post-dump hook had restored the CT on B (here
# its action script fails once nvz's own hook returned): criu lets the
# frozen tree run on, on A, so B's copy must not run on too. The migration
# fails, A's CT is the same init and processes, and B has no trace of it.
t_migrate_online_source_resumed_after_restore() {
	mig_setup
	mig_ct_sleeper 2137
	local pid=$SLEEPER init=$INIT0
	cat >"$T/after-post-dump" <<SH
grep -lE ":/$CGROUP_PREFIX-b/2137(/|\\\$)" /proc/[0-9]*/cgroup >"$T/b-procs" 2>/dev/null
echo "this test's post-dump fails after nvz's hook" >&2
exit 1
SH
	mig_criu_after_post_dump
	expect_rc 8 migrate --online $MIG_B 2137
	# B's copy ran when criu here failed.
	[ -s "$T/b-procs" ] || fail "nothing ran on B at post-dump: $OUT"
	expect_out 'Resuming container on the source'
	source_intact 2137
	[ "$(state_pid 2137 INIT_PID)" = "$init" ] && kill -0 "$init" ||
		fail "init $init did not run on ($(state_pid 2137 INIT_PID))"
	ina "$VZCTL" exec 2137 "kill -0 $pid" || fail "process $pid lost"
	wait_for 100 b_ct_gone 2137 || fail "B's copy still runs: $(b_ct_procs 2137)"
	[ -e "$T/dump/Dump.2137" ] && fail "dump left on A: $(ls "$T"/dump)"
	[ -s "$T/dump/Dump.2137.failed.log" ] || fail "criu's log of the failure not kept: $(ls "$T"/dump)"
	expect_out "^Error: Failed to dump container: after its restore on $MIG_B, criu here failed and let it run on here: .*log: $T/dump/Dump.2137.failed.log"
	ls "$T"/b/dump 2>/dev/null | grep -q 2137 && fail "dump left on B"
	return 0
}

# The session's ssh dies once B runs the CT and criu here was told to kill
# it, before the commit: B cannot know the source's copy is gone, so it
# drops its own, and the source brings the CT back from the dump, which
# restored there a moment before: its processes run on, and B is clean.
t_migrate_online_session_lost_after_restore() {
	mig_setup
	mig_ct_sleeper 2139
	local pid=$SLEEPER
	cat >"$T/after-post-dump" <<SH
grep -lE ":/$CGROUP_PREFIX-b/2139(/|\\\$)" /proc/[0-9]*/cgroup >"$T/b-procs" 2>/dev/null
sh=\$(pgrep -P "\$NVZ_CPT_HOOK_WAITER" -x ssh) && kill -KILL \$sh && touch "$T/ssh-killed"
exit 0
SH
	mig_criu_after_post_dump
	expect_rc 7 migrate --online $MIG_B 2139
	[ -s "$T/b-procs" ] || fail "nothing ran on B at post-dump: $OUT"
	[ -e "$T/ssh-killed" ] || fail "no session ssh to kill: $OUT"
	expect_out '^Error: Failed to commit the migration on the destination: '
	expect_out 'Restoring container on the source again'
	source_intact 2139
	ina "$VZCTL" exec 2139 "kill -0 $pid" || fail "process $pid lost"
	wait_for 100 b_ct_gone 2139 || fail "B's copy still runs: $(b_ct_procs 2139)"
	ls "$T"/dump 2>/dev/null | grep -q 2139 && fail "dump left on A: $(ls "$T"/dump)"
	ls "$T"/b/dump 2>/dev/null | grep -q 2139 && fail "dump left on B"
	return 0
}

# criu on A kills the CT once B's copy runs, then fails (here it says so
# after the real one succeeded): the CT runs on B only, so the migration
# completes, with a warning, and A is cleaned up as after any migration.
t_migrate_online_source_fails_after_kill() {
	mig_setup
	mig_ct 2138
	criu_fails_after_dump
	expect_rc 0 migrate --online $MIG_B 2138
	expect_out "^Warning: the source side of the checkpoint did not end cleanly: "
	vzb status 2138 | grep -q 'exist mounted running' || fail "not running on B: $(vzb status 2138)"
	[ "$(vzb exec 2138 cat /root/marker)" = migrated-2138 ] || fail "disk"
	client_ping $MIG_CT_IP || fail "client cannot reach the CT on B"
	[ -e "$T/conf/2138.conf" ] && fail "source left: $OUT"
	[ -e "$T/private/2138" ] && fail "source area left"
	grep -q "$T/root/2138" /proc/self/mountinfo && fail "source root still mounted"
	[ -e "$T/run/2138" ] && fail "source run state left: $(ls "$T/run/2138")"
	ls "$T"/b/dump 2>/dev/null | grep -q 2138 && fail "dump left on B"
	return 0
}

# The target commits, and its answer never reaches the source (here a
# vzctl on B that swallows the OK to "commit" and hangs up): the source
# asks B on a connection of its own. B has the CT: the migration is
# complete, and the source goes. B cannot be asked either: the CT stays
# stopped on A with its dump, as it may run on B (it does), and the error
# says so; two copies never run. After a post-copy (--lazy), A's dump has
# no memory: it goes, and the advice is a fresh boot.
t_migrate_online_commit_answer_lost() {
	mig_setup
	local bin
	bin=$(dirname "$VZCTL")
	mkdir -p "$T/bwrap"
	cat >"$T/bwrap/vzctl" <<SH
#!/bin/bash
case " \$* " in
*" migrate-recv "*" --query "*) [ -e "$T/bwrap-noquery" ] && exit 1 ;;
*" migrate-recv "*)
	"$bin/vzctl" "\$@" < <(tee "$T/b-requests") | while IFS= read -r l; do
		[ "\$l" = OK ] && [ "\$(tail -n1 "$T/b-requests")" = commit ] && exit 0
		printf '%s\n' "\$l"
	done
	exit 0 ;;
esac
exec "$bin/vzctl" "\$@"
SH
	chmod +x "$T/bwrap/vzctl"
	sed -i "s|PATH=$bin:|PATH=$T/bwrap:$bin:|" "$T/ssh/auth_b"
	mig_ct 2140
	expect_rc 0 migrate --online $MIG_B 2140
	expect_out "^Warning: the answer to the commit was lost \\(lost the connection to the destination\\), but $MIG_B has CT 2140: the migration is complete"
	vzb status 2140 | grep -q 'exist mounted running' || fail "not running on B: $(vzb status 2140)"
	[ -e "$T/conf/2140.conf" ] && fail "source left: $OUT"
	ls "$T"/dump 2>/dev/null | grep -q 2140 && fail "dump left on A: $(ls "$T"/dump)"
	vzb stop 2140 --fast >/dev/null 2>&1 && vzb destroy 2140 >/dev/null 2>&1 || fail "B: stop, destroy"
	touch "$T/bwrap-noquery"
	mig_ct 2141
	expect_rc 7 migrate --online $MIG_B 2141
	expect_out '^Error: Failed to commit the migration on the destination: lost the connection to the destination, and whether it kept the container is not known: '
	expect_out "CT 2141 is left stopped here, as it may run on $MIG_B: check there, and bring it back here \\(vzctl restore 2141\\) only if it does not"
	expect_out "is not known: $MIG_B cannot be asked \\(ssh exit status 1\\)$"
	ina "$VZCTL" status 2141 | grep -q 'exist unmounted down' || fail "not stopped on A: $(ina "$VZCTL" status 2141)"
	vzb status 2141 | grep -q 'exist mounted running' || fail "not running on B: $(vzb status 2141)"
	[ -d "$T/dump/Dump.2141" ] || fail "dump not kept on A: $(ls "$T"/dump)"
	vzb stop 2141 --fast >/dev/null 2>&1 && vzb destroy 2141 >/dev/null 2>&1 || fail "B: stop, destroy 2141"
	ina "$VZCTL" --quiet destroy 2141 || fail "A: destroy 2141"
	# Post-copy: the dump on A holds no memory, so it goes, and the advice
	# is a fresh boot (a restore from it brought back processes without
	# their memory).
	lazy_pipes
	mig_ct 2142
	expect_rc 7 migrate --lazy $MIG_B 2142
	expect_out "CT 2142 is left stopped here, as it may run on $MIG_B: check there. Its memory went there \(post-copy\): only if it does not run there, boot it here afresh \(vzctl start 2142\)"
	vzb status 2142 | grep -q 'exist mounted running' || fail "not running on B: $(vzb status 2142)"
	ina "$VZCTL" status 2142 | grep -q 'exist unmounted down$' || fail "A: $(ina "$VZCTL" status 2142)"
	[ -e "$T/dump/Dump.2142" ] && fail "a dump without memory kept on A: $(ls "$T/dump/Dump.2142")"
	return 0
}
