# Checkpoint/restore (test_cpt.sh has the rig): post-copy restore (--lazy),
# large trees, the boot id, iterative pre-dump.
# shellcheck shell=bash

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
for i in \$(seq 6000); do grep -qs "^INIT_PID=" "\$wd/state" && break; sleep 0.01; done
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
