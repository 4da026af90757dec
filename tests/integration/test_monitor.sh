# The monitor hub (lib/ct/hub.h): once init runs, a CT's host side (init's
# reaping, the console, the beancounters, the work after init's exit) is
# served by one process per server, `vzhub`, instead of a
# process per CT.
# shellcheck shell=bash

# A process's own memory: its anonymous pages (Private_Dirty would count
# the pages of its binary too where that lives on a tmpfs, as in the VM lane).
anon_kb() { awk '/^Anonymous:/ {print $2}' "/proc/$1/smaps_rollup"; }

# The parent of a process.
ppid_of() { awk '{print $4}' "/proc/$1/stat"; }

# The hub of a running CT: MONITOR_PID, on the host, vzhub, the parent of
# the CT's init (once the start's monitor has handed the CT over), holding
# the CT's console log, beancounter FUSE device and monitor lock.
check_hub() {
	local id=$1 hub init exe fd kinds
	hub=$(state_pid "$id" MONITOR_PID) init=$(state_pid "$id" INIT_PID)
	[ -n "$hub" ] && kill -0 "$hub" || fail "no hub for $id"
	wait_for 50 eval '[ "$(ppid_of '"$init"')" = '"$hub"' ]' || fail "init of $id is not the hub's child"
	[ "$(cat "/proc/$hub/comm")" = vzmon-hub ] || fail "MONITOR_PID $hub is $(cat "/proc/$hub/comm")"
	exe=$(readlink "/proc/$hub/exe")
	case $exe in */vzhub | *"/vzhub (deleted)") ;; *) fail "the hub runs $exe" ;; esac
	# ... for the vzctl it serves, which it holds for each CT's after-exit work.
	exe=$(readlink "/proc/$hub/fd/4")
	case $exe in */vzctl | *"/vzctl (deleted)") ;; *) fail "the hub serves $exe, not a vzctl" ;; esac
	[ "$(readlink "/proc/$hub/ns/pid")" = "$(readlink /proc/self/ns/pid)" ] ||
		fail "the hub is not in the host's pid namespace"
	[ "$(readlink "/proc/$hub/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ] ||
		fail "the hub is not in the host's mount namespace"
	for fd in /proc/"$hub"/fd/*; do
		kinds+=" $(readlink "$fd")"
		# The one directory: the root of the CTs' beancounter files, a
		# detached mount (bcsrv.c), which keeps nothing busy.
		[ -d "$fd" ] && [ "$(stat -f -c %T "$fd")" != fuseblk ] &&
			fail "the hub holds a directory: $(readlink "$fd")"
	done
	case $kinds in *" $T/run/$id/console.log"*) ;; *) fail "no console log of $id: $kinds" ;; esac
	case $kinds in *" $T/run/$id/monitor.lock"*) ;; *) fail "no monitor lock of $id: $kinds" ;; esac
	case $kinds in */dev/fuse*) ;; *) fail "no beancounter FUSE device: $kinds" ;; esac
	# Its look for orphans closes only what it opened: an orphan it did
	# not take once closed fd 0, and the next CT's console master took it.
	[ "$(readlink "/proc/$hub/fd/0")" = /dev/null ] ||
		fail "the hub's fd 0 is $(readlink "/proc/$hub/fd/0")"
	return 0
}

# The hub keeps nothing of a CT that is gone.
check_hub_let_go() {
	local id=$1 hub=$2
	kill -0 "$hub" 2>/dev/null || return 0
	wait_for 50 eval '! ls -l /proc/'"$hub"'/fd 2>/dev/null | grep -q " $T/run/$id/"' ||
		fail "the hub still holds files of $id: $(ls -l /proc/"$hub"/fd)"
	grep -q " $T/run/$id/bc" /proc/self/mounts && fail "beancounter mount of $id left"
	return 0
}

check_beancounters() {
	local id=$1
	expect_rc 0 "$VZCTL" exec "$id" cat /run/user_beancounters
	expect_out '^Version: 2.5'
	expect_out "^ +$id: +kmemsize"
	expect_out '^ +numproc +[1-9][0-9]* '
	# Small reads see one snapshot of exactly the size the file reports.
	expect_rc 0 "$VZCTL" exec "$id" 'a=$(wc -c </run/user_beancounters);
		b=$(dd if=/run/user_beancounters bs=7 2>/dev/null | wc -c);
		s=$(stat -c %s /run/user_beancounters); echo "$a $b $s"'
	set -- $OUT
	[ "$1" = "$2" ] && [ "$1" = "$3" ] && [ "$1" -gt 1000 ] || fail "sizes differ: $OUT"
	# Read-only, whatever the caller's capabilities.
	expect_rc 0 "$VZCTL" exec "$id" '(echo x >/run/user_beancounters) 2>/dev/null && echo written || echo refused'
	[ "$OUT" = refused ] || fail "beancounters writable: $OUT"
	return 0
}

t_hub_serves_and_restarts() {
	start_busybox 101
	check_hub 101
	check_beancounters 101
	# Many opens: each builds its table in a child; none may leak or stay.
	local hub i
	hub=$(state_pid 101 MONITOR_PID)
	"$VZCTL" exec 101 'i=0; while [ $i -lt 50 ]; do cat /run/user_beancounters >/dev/null || exit 1; i=$((i+1)); done' ||
		fail "50 reads failed"
	# Its only child: init. The start ran in a thread of the hub, gone
	# once it handed the CT over (and its launcher thread with it).
	[ -z "$(ps -o pid=,comm= --ppid "$hub" | grep -v "^ *$(state_pid 101 INIT_PID) ")" ] ||
		fail "the hub left children: $(ps -o pid,comm --ppid "$hub")"
	wait_for 50 eval '[ "$(ls /proc/'"$hub"'/task | wc -l)" -eq 1 ]' ||
		fail "the hub kept threads: $(ls /proc/"$hub"/task)"
	check_hub 101
	# A second CT: the same hub, which grows by its descriptors only.
	local pd1
	pd1=$(anon_kb "$hub")
	start_busybox 104
	check_hub 104
	[ "$(state_pid 104 MONITOR_PID)" = "$hub" ] || fail "a second hub for 104"
	[ "$(ps -o ppid= -p "$(state_pid 104 INIT_PID)" | tr -d ' ')" = "$hub" ] ||
		fail "104's init is not the hub's child"
	check_beancounters 104
	# The hub gives memory back once quiet (50 ms after a start).
	# Not in the sanitizer build (ASan's allocator and shadow memory).
	[ -n "${ASAN_OPTIONS:-}" ] ||
		wait_for 20 eval '[ "$(anon_kb '"$hub"')" -lt '"$((pd1 + 64))"' ]' ||
		fail "the hub grew from $pd1 to $(anon_kb "$hub") kB for one CT"
	expect_rc 0 "$VZCTL" stop 104 --fast
	check_hub_let_go 104 "$hub"
	# reboot inside: the hub hands the exit to vzctl, which restarts the
	# CT under the same hub.
	reboot_inside 101 150 reboot
	wait_for 100 booted 101 || fail "no boot after reboot"
	check_hub 101
	check_beancounters 101
	[ "$(state_pid 101 MONITOR_PID)" = "$hub" ] || fail "another hub after reboot"
	# One CT's descriptors: nothing of the first boot's is left. The
	# hub's own include its epoll set of the CTs' descriptors and, once
	# it has waited for a stop, its inotify watch.
	i=$(ls "/proc/$hub/fd" | wc -l)
	[ "$i" -le 15 ] || fail "the hub holds $i descriptors: $(ls -l /proc/$hub/fd)"
	# halt inside: cleanup, unmount, nothing of the CT left in the hub.
	"$VZCTL" exec 101 poweroff
	wait_for 150 eval '! ct_running 101' || fail "CT still running after poweroff inside"
	wait_for 50 eval '"$VZCTL" status 101 | grep -q unmounted' || fail "not unmounted after halt"
	check_hub_let_go 101 "$hub"
	return 0
}

# The hub forks only to exec (it has threads: a forked child of it must
# not allocate): reading the beancounters forks nothing (the hub makes the
# table itself), and the work after a halt inside is a vzctl it execs at
# once, which looks at the state and the lock itself.
t_hub_forks_only_exec() {
	start_busybox 124
	start_busybox 125
	local hub
	hub=$(state_pid 124 MONITOR_PID)
	hub_trace "$hub"
	"$VZCTL" exec 124 cat /run/user_beancounters >"$T/bc.out" 2>&1
	hub_trace_end
	grep -qE '^ +124: +kmemsize' "$T/bc.out" || fail "no table: $(cat "$T/bc.out")"
	hub_forks_only_exec "$hub" 0
	hub_trace "$hub"
	"$VZCTL" exec 125 poweroff
	wait_for 150 eval '"$VZCTL" status 125 | grep -q unmounted' || { hub_trace_end; fail "125 not cleaned up after a halt inside"; }
	hub_trace_end
	hub_forks_only_exec "$hub" 1 'monitor-exit", "125"'
	check_beancounters 124
	expect_rc 0 "$VZCTL" stop 124 --fast
	return 0
}

# vzctl stop (and kill) end the CT's service in the hub; the console is
# still relayed and lent.
# Can this kernel clone a file of a detached mount (6.15 on)? Then the hub
# serves every CT's beancounter file from one FUSE file system (bcsrv.c).
bc_shared_expected() {
	local v major minor
	v=$(uname -r)
	major=${v%%.*} minor=${v#*.} minor=${minor%%[!0-9]*}
	[ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 15 ]; }
}

fuse_devs_of() {
	local n=0 fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd")" = /dev/fuse ] && n=$((n + 1))
	done
	echo "$n"
}

# One beancounter file system for all the CTs of the server: each CT sees
# only its own file (a bind whose root is that file), and a CT costs no
# FUSE connection or superblock of its own. Where the kernel cannot clone
# a detached mount's file, each CT has its own file system, as before.
t_hub_bc_one_fs_for_all() {
	start_busybox 122
	start_busybox 123
	check_beancounters 122
	check_beancounters 123
	local hub d122 d123
	hub=$(state_pid 122 MONITOR_PID)
	[ "$(state_pid 123 MONITOR_PID)" = "$hub" ] || fail "two hubs"
	d122=$("$VZCTL" exec 122 stat -c %d /run/user_beancounters) || fail "stat in 122"
	d123=$("$VZCTL" exec 123 stat -c %d /run/user_beancounters) || fail "stat in 123"
	if bc_shared_expected; then
		[ "$d122" = "$d123" ] || fail "one file system each: $d122 $d123"
		[ "$(fuse_devs_of "$hub")" = 1 ] || fail "the hub holds $(fuse_devs_of "$hub") FUSE devices"
		# The CT's mount is its file of the server's, nothing above it.
		expect_rc 0 "$VZCTL" exec 123 cat /proc/self/mountinfo
		expect_out '^[0-9]+ [0-9]+ [0-9:]+ /123 /run/user_beancounters ro,'
		printf '%s\n' "$OUT" | grep -q ' /122 ' && fail "123 sees 122's file: $OUT"
	else
		[ "$d122" != "$d123" ] || fail "a shared file system on $(uname -r)"
	fi
	# A CT that stops takes nothing from the other; it starts again with
	# its file looked up afresh.
	expect_rc 0 "$VZCTL" stop 122 --fast
	check_beancounters 123
	expect_rc 0 "$VZCTL" start 122
	wait_for 100 booted 122 || fail "122 did not boot again"
	check_beancounters 122
	expect_rc 0 "$VZCTL" exec 122 stat -c %Y /run/user_beancounters
	[ $(($(date +%s) - OUT)) -lt 60 ] || fail "122's file dates from $OUT"
	expect_rc 0 "$VZCTL" stop 122 --fast
	expect_rc 0 "$VZCTL" stop 123 --fast
	return 0
}

t_hub_stop_and_console() {
	start_busybox 102
	local hub
	hub=$(state_pid 102 MONITOR_PID)
	"$VZCTL" exec 102 'echo nvz-console-probe >/dev/console'
	wait_for 50 grep -q nvz-console-probe "$T/run/102/console.log" || fail "console not drained to its log"
	expect_rc 0 "$VZCTL" stop 102 --fast
	check_hub_let_go 102 "$hub"
	expect_rc 0 "$VZCTL" start 102
	check_hub 102
	expect_rc 0 "$VZCTL" stop 102
	expect_out 'Container was stopped'
	check_hub_let_go 102 "$hub"
	return 0
}

# init dies while a command holds the CT's lock: the hub waits for that
# command to clean up (it removes the state) rather than doing it itself;
# a command that lets the lock go without cleaning up (it failed) leaves
# the work to the hub, which then cleans up as after a halt inside.
t_hub_ending_lock_released() {
	start_busybox 121
	local init hub lk
	init=$(state_pid 121 INIT_PID) hub=$(state_pid 121 MONITOR_PID)
	exec {lk}>"$T/lock/121.lck"
	flock -x "$lk" || fail "lock 121"
	kill -9 "$init"
	wait_for 50 eval '! kill -0 '"$init"' 2>/dev/null' || fail "init $init did not die"
	sleep 0.3
	[ "$(state_pid 121 INIT_PID)" = "$init" ] || fail "the state changed under the held lock"
	flock -u "$lk"
	exec {lk}>&-
	wait_for 50 eval '! "$VZCTL" status 121 | grep -q running' || fail "121 not cleaned up: $("$VZCTL" status 121)"
	# status says "down" once init is gone; the after-exit work the hub
	# forked removes the state a moment later.
	wait_for 50 eval '[ ! -e "$T/run/121/state" ]' || fail "state of 121 left: $(cat "$T/run/121/state" 2>&1)"
	check_hub_let_go 121 "$hub"
	expect_rc 0 "$VZCTL" start 121
	check_hub 121
	expect_rc 0 "$VZCTL" stop 121 --fast
	return 0
}

# An init that exits as soon as it runs: the hub may reap it before the
# start's thread has handed the CT over (init is the hub's child from
# birth). The CT must still end as after a halt inside: down, its state
# and mounts gone, the hub holding nothing of it.
t_hub_init_exits_at_once() {
	local i hub
	"$VZCTL" --quiet create 125 --ostemplate busybox-x86_64 || fail "create 125"
	rm -f "$T/private/125/sbin/init"
	printf '#!/bin/sh\nexit 0\n' >"$T/private/125/sbin/init" && chmod 755 "$T/private/125/sbin/init" ||
		fail "write init"
	# The hub this first start makes hands a CT over 100 ms late.
	for i in 1 2 3; do
		NVZ_TEST_HANDOVER_DELAY_MS=100 "$VZCTL" --quiet start 125 >/dev/null 2>&1
		wait_for 50 eval '! "$VZCTL" status 125 | grep -q running' ||
			fail "try $i: 125 still running: $("$VZCTL" status 125)"
		wait_for 50 eval '[ ! -e "$T/run/125/state" ]' || fail "try $i: state of 125 left"
		wait_for 50 eval '"$VZCTL" status 125 | grep -q unmounted' ||
			fail "try $i: 125 still mounted: $("$VZCTL" status 125)"
	done
	hub=$(cat "$T/run/hub.pid")
	wait_for 50 eval '! ls -l /proc/'"$hub"'/fd 2>/dev/null | grep -q "/125/"' ||
		fail "the hub still holds 125's files: $(ls -l /proc/"$hub"/fd)"
	return 0
}

# Starts in a row, each in a thread of the hub, some of them side by side
# (the second batch at once): every CT ends up served by the hub alone,
# with its console and beancounters, and stops cleanly; no thread stays.
t_hub_starts_in_a_row() {
	local id hub ids
	ids=$(seq 111 118)
	for id in $ids; do
		"$VZCTL" --quiet create "$id" --ostemplate busybox-x86_64 || fail "create $id"
	done
	for id in 111 112 113 114; do
		"$VZCTL" --quiet start "$id" || fail "start $id"
	done
	local pids=()
	for id in 115 116 117 118; do
		"$VZCTL" --quiet start "$id" &
		pids+=($!)
	done
	for id in "${pids[@]}"; do
		wait "$id" || fail "a start side by side failed"
	done
	hub=$(state_pid 111 MONITOR_PID)
	for id in $ids; do
		check_hub "$id"
		[ "$(state_pid "$id" MONITOR_PID)" = "$hub" ] || fail "$id is not served by the hub $hub"
	done
	for id in $ids; do
		wait_for 100 booted "$id" || fail "CT $id did not boot"
	done
	check_beancounters 118
	# Only the hub's CTs are left of the starts: no child, no thread.
	[ "$(ps -o comm= --ppid "$hub" | grep -vcx init)" -eq 0 ] ||
		fail "the hub has other children: $(ps -o pid,comm --ppid "$hub")"
	wait_for 50 eval '[ "$(ls /proc/'"$hub"'/task | wc -l)" -eq 1 ]' ||
		fail "the hub kept threads: $(ls /proc/"$hub"/task)"
	for id in $ids; do
		expect_rc 0 "$VZCTL" stop "$id" --fast
		check_hub_let_go "$id" "$hub"
	done
	return 0
}

# init is cloned with a copy of the hub's descriptor table, and keeps
# from it only what it uses: not another CT's lock (a command's, handed to
# the hub while that CT's start runs), console, log or beancounter device.
# A copy of the lock held until this init's exec made the next command on
# the other CT wait for it (nvz_lock's 2 s for a holder that is gone).
# Both inits are held back at birth: 119's so that its lock is in the hub
# when 120's init is cloned, 120's to be looked at meanwhile.
t_hub_init_keeps_no_hub_fd() {
	local i a b init fds
	for i in 119 120; do
		"$VZCTL" --quiet create "$i" --ostemplate busybox-x86_64 || fail "create $i"
	done
	export NVZ_TEST_INIT_DELAY=119:400,120:800
	"$VZCTL" --quiet start 119 &
	a=$!
	sleep 0.1
	"$VZCTL" --quiet start 120 &
	b=$!
	unset NVZ_TEST_INIT_DELAY
	wait_for 50 eval '[ -n "$(state_pid 120 INIT_PID 2>/dev/null)" ]' || fail "no init for 120"
	init=$(state_pid 120 INIT_PID)
	fds=$(ls -l "/proc/$init/fd" | awk 'NR > 1 {print $9, $11}')
	wait "$a" || fail "start 119"
	expect_rc 0 "$VZCTL" --quiet stop 119 --fast
	wait "$b" || fail "start 120"
	expect_rc 0 "$VZCTL" --quiet stop 120 --fast
	printf '%s\n' "$fds" | grep -E "$T|/dev/(ptmx|pts|fuse)|eventpoll|signalfd" &&
		fail "init before its exec holds the hub's descriptors: $(printf '%s\n' "$fds" | tr '\n' ' ')"
	# Seen before the exec: the sync socket is there (close-on-exec).
	printf '%s\n' "$fds" | grep -q 'socket:' || fail "init had exec'd already: $fds"
	return 0
}

# A hub that is gone (killed) is replaced at the next start; the CTs it
# served run on, and stop as usual. With nothing to serve it exits, and
# so does one whose socket was removed.
t_hub_replaced_and_exits() {
	start_busybox 105
	local hub1 hub2 init
	hub1=$(state_pid 105 MONITOR_PID) init=$(state_pid 105 INIT_PID)
	check_hub 105
	kill -9 "$hub1"
	wait_for 50 eval '! kill -0 '"$hub1"' 2>/dev/null || [ "$(awk '"'"'{print $3}'"'"' /proc/'"$hub1"'/stat)" = Z ]' ||
		fail "hub did not die"
	kill -0 "$init" || fail "init died with the hub"
	start_busybox 106
	hub2=$(state_pid 106 MONITOR_PID)
	[ "$hub2" != "$hub1" ] || fail "no new hub"
	check_hub 106
	expect_rc 0 "$VZCTL" stop 105 --fast
	expect_rc 0 "$VZCTL" stop 106 --fast
	check_hub_let_go 106 "$hub2"
	# The socket is root's only.
	[ "$(stat -c %a "$T/run/hub.sock")" = 600 ] || fail "hub socket mode $(stat -c %a "$T/run/hub.sock")"
	[ "$(cat "$T/run/hub.pid")" = "$hub2" ] || fail "hub.pid: $(cat "$T/run/hub.pid")"
	# Nothing left to serve: its socket goes (as when the server's RUNDIR
	# is removed), and the hub exits at its next look.
	[ -S "$T/run/hub.sock" ] || fail "no hub socket"
	rm -f "$T/run/hub.sock"
	wait_for 30 eval '! kill -0 '"$hub2"' 2>/dev/null || [ "$(awk '"'"'{print $3}'"'"' /proc/'"$hub2"'/stat)" = Z ]' ||
		fail "the hub did not exit without its socket"
	return 0
}

# SIGTERM ends the hub only once it has no CT left; an upgraded vzctl gets
# a hub of its own, and the old one serves its CTs to their end.
t_hub_term_and_upgrade() {
	mkdir -p "$T/bin"
	cp "$VZCTL" "$(dirname "$VZCTL")/vzmon" "$(dirname "$VZCTL")/vzhub" "$T/bin/"
	start_busybox 107 # by the tests' vzctl: its hub
	"$T/bin/vzctl" --quiet create 108 --ostemplate busybox-x86_64 || fail "create 108"
	local hub1 hub2
	hub1=$(state_pid 107 MONITOR_PID)
	# Another binary (not an upgrade: the hub's own is still in place).
	expect_rc 0 "$T/bin/vzctl" start 108
	[ "$(state_pid 108 MONITOR_PID)" != "$hub1" ] || fail "a hub ran another vzctl's monitor"
	expect_rc 0 "$T/bin/vzctl" stop 108 --fast
	kill -TERM "$hub1"
	sleep 0.3
	kill -0 "$hub1" || fail "SIGTERM ended a hub that serves a CT"
	check_hub 107
	# An upgrade: the hub's binary replaced at its path.
	expect_rc 0 "$VZCTL" stop 107 --fast
	wait_for 50 eval '! kill -0 '"$hub1"' 2>/dev/null || [ "$(awk '"'"'{print $3}'"'"' /proc/'"$hub1"'/stat)" = Z ]' ||
		fail "SIGTERM'd hub did not exit once idle"
	expect_rc 0 "$T/bin/vzctl" start 107
	hub1=$(state_pid 107 MONITOR_PID)
	check_hub 107
	cp "$VZCTL" "$T/bin/vzctl.new" && mv "$T/bin/vzctl.new" "$T/bin/vzctl"
	expect_rc 0 "$T/bin/vzctl" start 108
	hub2=$(state_pid 108 MONITOR_PID)
	[ "$hub2" != "$hub1" ] || fail "the old hub ran the new vzctl's monitor"
	check_hub 108
	[ "$(cat "$T/run/hub.pid")" = "$hub2" ] || fail "the new hub does not own the socket"
	check_hub 107
	expect_rc 0 "$T/bin/vzctl" stop 107 --fast
	wait_for 50 eval '! kill -0 '"$hub1"' 2>/dev/null || [ "$(awk '"'"'{print $3}'"'"' /proc/'"$hub1"'/stat)" = Z ]' ||
		fail "the old hub did not exit with its last CT"
	expect_rc 0 "$T/bin/vzctl" stop 108 --fast
	return 0
}

# MONITOR_HUB="no": the CT gets a monitor of its own, which execs the small
# static vzmon once init runs, serves the beancounters and goes with the CT.
t_monitor_hub_off() {
	"$VZCTL" --quiet create 109 --ostemplate busybox-x86_64 || fail "create 109"
	echo 'MONITOR_HUB="no"' >>"$T/conf/109.conf"
	expect_rc 0 "$VZCTL" --quiet start 109
	wait_for 100 booted 109 || fail "CT 109 did not boot"
	local mon init
	mon=$(state_pid 109 MONITOR_PID) init=$(state_pid 109 INIT_PID)
	[ "$(ppid_of "$init")" = "$mon" ] || fail "init is not its monitor's child"
	wait_for 50 eval 'case $(readlink /proc/'"$mon"'/exe) in */vzmon) true ;; *) false ;; esac' ||
		fail "the monitor runs $(readlink "/proc/$mon/exe"), not vzmon"
	[ ! -e "$T/run/hub.sock" ] || fail "a hub was started"
	check_beancounters 109
	# The small monitor's own memory (not in the sanitizer build, where
	# vzmon is dynamic and ASan's shadow memory counts).
	if ! grep -q '/ld-linux' "/proc/$mon/maps"; then
		# (Measured once it has trimmed what its start-up used.)
		wait_for 50 eval '[ "$(anon_kb '"$mon"')" -lt 150 ]' ||
			fail "vzmon keeps $(anon_kb "$mon") kB"
	fi
	expect_rc 0 "$VZCTL" stop 109 --fast
	wait_for 50 eval '! kill -0 '"$mon"' 2>/dev/null || [ "$(awk '"'"'{print $3}'"'"' /proc/'"$mon"'/stat)" = Z ]' ||
		fail "the monitor outlived its CT"
	return 0
}

# The hub killed (a crash, the OOM killer): its CTs run on. Until a command
# touches one, nobody serves their beancounters or cleans up after a halt
# inside. The first command that finds a CT running without its monitor
# (here `status`) brings up a new hub, which takes over every such CT, and
# the commands work as before, the console included (a new pty).
t_hub_killed() {
	start_busybox 110
	start_busybox 111
	local hub hub2 init110 init111
	hub=$(state_pid 110 MONITOR_PID) init110=$(state_pid 110 INIT_PID) init111=$(state_pid 111 INIT_PID)
	[ "$(state_pid 111 MONITOR_PID)" = "$hub" ] || fail "two hubs"
	kill -KILL "$hub"
	wait_for 50 eval '! kill -0 '"$hub"' 2>/dev/null || [ "$(awk '"'"'{print $3}'"'"' /proc/'"$hub"'/stat)" = Z ]' ||
		fail "the hub $hub was not killed"
	OUT=$(cat "/proc/$init110/root/run/user_beancounters" 2>&1)
	expect_out 'not connected'
	# A halt inside (from the host: no command touches the CT) with nobody
	# to clean up after it: down, still mounted, and no hub for it.
	kill -USR2 "$init111"
	wait_for 100 eval '! kill -0 '"$init111"' 2>/dev/null' || fail "111 did not halt"
	expect_rc 0 "$VZCTL" status 111
	expect_out 'exist mounted down'
	[ "$(cat "$T/run/hub.pid")" = "$hub" ] || fail "a hub was started for a CT that is down"
	expect_rc 0 "$VZCTL" status 110
	expect_out 'exist mounted running'
	hub2=$(state_pid 110 MONITOR_PID)
	[ -n "$hub2" ] && [ "$hub2" != "$hub" ] && kill -0 "$hub2" || fail "110 names $hub2, not a new hub"
	[ "$(cat "/proc/$hub2/comm")" = vzmon-hub ] || fail "MONITOR_PID $hub2 is $(cat "/proc/$hub2/comm")"
	check_beancounters 110
	expect_rc 0 "$VZCTL" exec 110 echo alive
	expect_out '^alive$'
	# The console is back: a new pty bound over /dev/console, drained to
	# the log, and `vzctl console` attaches to it.
	expect_rc 0 "$VZCTL" exec 110 'echo after-adoption >/dev/console'
	wait_for 50 grep -q after-adoption "$T/run/110/console.log" || fail "the adopted console is not drained"
	OUT=$( (sleep 0.5; "$VZCTL" exec 110 'echo attached-after-adoption >/dev/console'; sleep 0.5
		printf '\033.') | timeout 20 "$VZCTL" console 110 2>&1)
	expect_out '^Attached to CT 110 '
	expect_out 'attached-after-adoption'
	expect_out 'Detached from CT 110'
	expect_rc 0 "$VZCTL" exec 110 'grep -c " /dev/console " /proc/self/mountinfo'
	[ "$OUT" = 1 ] || fail "/dev/console mounted $OUT times"
	# 111 starts again, under the new hub.
	expect_rc 0 "$VZCTL" start 111
	wait_for 100 booted 111 || fail "111 did not boot again"
	[ "$(state_pid 111 MONITOR_PID)" = "$hub2" ] || fail "111 names $(state_pid 111 MONITOR_PID), not $hub2"
	check_hub 111
	check_beancounters 111
	# The new hub does the work after init's exit for the CT it took over.
	expect_rc 0 "$VZCTL" exec 110 poweroff
	wait_for 100 eval '"$VZCTL" status 110 | grep -q "unmounted down"' ||
		fail "110 after a halt: $("$VZCTL" status 110)"
	check_hub_let_go 110 "$hub2"
	kill -0 "$init110" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$init110/stat")" != Z ] &&
		fail "110 still runs"
	expect_rc 0 "$VZCTL" stop 111
	check_hub_let_go 111 "$hub2"
	return 0
}

# A new hub takes over the CTs of a killed one: the beancounter file is
# served again, the state names the new hub, and a halt inside is cleaned
# up after (unmounted, no state, no cgroup) as under the first hub. A CT
# whose lock a command holds is left to that command.
t_hub_adopts_orphans() {
	start_busybox 113
	start_busybox 114
	# A CT with a small monitor of its own (MONITOR_HUB="no") whose monitor
	# dies too: better served by the hub than by nobody.
	"$VZCTL" --quiet create 116 --ostemplate busybox-x86_64 || fail "create 116"
	echo 'MONITOR_HUB="no"' >>"$T/conf/116.conf"
	"$VZCTL" --quiet start 116 || fail "start 116"
	wait_for 100 booted 116 || fail "CT 116 did not boot"
	"$VZCTL" --quiet create 115 --ostemplate busybox-x86_64 || fail "create 115"
	# An unsaved live value: the state keeps it when the new hub rewrites it.
	expect_rc 0 "$VZCTL" set 113 --numproc 77
	local hub1 hub2 init114 mon116
	hub1=$(state_pid 113 MONITOR_PID) init114=$(state_pid 114 INIT_PID) mon116=$(state_pid 116 MONITOR_PID)
	kill -KILL "$hub1" "$mon116"
	wait_for 50 eval '! kill -0 '"$hub1"' 2>/dev/null || [ "$(awk '"'"'{print $3}'"'"' /proc/'"$hub1"'/stat)" = Z ]' ||
		fail "the hub $hub1 was not killed"
	OUT=$(cat "/proc/$(state_pid 113 INIT_PID)/root/run/user_beancounters" 2>&1)
	expect_out 'not connected'
	# 114's lock held (as a command at work on it would) while a start
	# brings up a new hub: 113 is taken over, 114 is not.
	exec 7>"$T/lock/114.lck"
	flock -n 7 || fail "lock 114"
	expect_rc 0 "$VZCTL" --quiet start 115
	hub2=$(state_pid 115 MONITOR_PID)
	[ "$hub2" != "$hub1" ] || fail "no new hub"
	wait_for 50 eval '[ "$(state_pid 113 MONITOR_PID)" = '"$hub2"' ]' ||
		fail "113 names $(state_pid 113 MONITOR_PID), not the new hub $hub2"
	wait_for 50 eval '[ "$(state_pid 116 MONITOR_PID)" = '"$hub2"' ]' ||
		fail "116 names $(state_pid 116 MONITOR_PID), not the new hub $hub2"
	# Looked at again less and less often while it stays locked (a
	# migration can hold a CT for minutes): 200 ms, doubled up to 5 s.
	sleep 1
	local w0 w1
	w0=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$hub2/status")
	sleep 5
	w1=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$hub2/status")
	[ $((w1 - w0)) -le 8 ] || fail "the hub woke $((w1 - w0)) times in 5 s for a locked CT"
	[ "$(state_pid 114 MONITOR_PID)" = "$hub1" ] || fail "114 was taken while locked"
	# Once the command is done with it, the hub takes it too.
	exec 7>&-
	wait_for 100 eval '[ "$(state_pid 114 MONITOR_PID)" = '"$hub2"' ]' ||
		fail "114 names $(state_pid 114 MONITOR_PID), not the new hub $hub2"
	check_beancounters 113
	check_beancounters 114
	check_beancounters 115
	check_beancounters 116
	grep -q '^NUMPROC="77:77"$' "$T/run/113/state" || fail "the adoption lost 113's live numproc"
	expect_rc 0 "$VZCTL" exec 113 'grep numproc /run/user_beancounters'
	expect_out ' 77 +77 +0$'
	expect_rc 0 "$VZCTL" stop 116
	check_hub_let_go 116 "$hub2"
	# Its console comes back, as a new pty (t_hub_killed).
	OUT=$(printf '\033.' | timeout 20 "$VZCTL" console 113 2>&1) || fail "console 113: $OUT"
	expect_out '^Attached to CT 113 '
	# The after-exit work of a taken-over CT: a halt inside is cleaned up.
	expect_rc 0 "$VZCTL" exec 113 poweroff
	wait_for 100 eval '"$VZCTL" status 113 | grep -q "unmounted down"' ||
		fail "113 after a halt: $("$VZCTL" status 113)"
	[ ! -e "$T/run/113/state" ] || fail "state of 113 left"
	[ ! -d "$(cgdir pids 113)" ] || fail "cgroup of 113 left"
	check_hub_let_go 113 "$hub2"
	# A stop waits for the new hub to let go, as for its own CTs.
	expect_rc 0 "$VZCTL" stop 114
	expect_out 'Container was stopped'
	check_hub_let_go 114 "$hub2"
	kill -0 "$init114" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$init114/stat")" != Z ] &&
		fail "114 still runs"
	expect_rc 0 "$VZCTL" stop 115 --fast
	return 0
}

# vzlist, the admin's first look, brings up the hub for CTs whose monitor
# is gone too. A CT given a monitor of its own (MONITOR_HUB="no") gets no
# hub started for it by a command, but a hub that runs takes it over.
t_hub_adopt_on_vzlist() {
	start_busybox 117
	"$VZCTL" --quiet create 118 --ostemplate busybox-x86_64 || fail "create 118"
	echo 'MONITOR_HUB="no"' >>"$T/conf/118.conf"
	"$VZCTL" --quiet start 118 || fail "start 118"
	wait_for 100 booted 118 || fail "CT 118 did not boot"
	local hub hub2 mon118
	hub=$(state_pid 117 MONITOR_PID) mon118=$(state_pid 118 MONITOR_PID)
	kill -KILL "$hub" "$mon118"
	wait_for 50 eval '! kill -0 '"$hub"' 2>/dev/null || [ "$(awk '"'"'{print $3}'"'"' /proc/'"$hub"'/stat)" = Z ]' ||
		fail "the hub $hub was not killed"
	wait_for 50 eval '! kill -0 '"$mon118"' 2>/dev/null || [ "$(awk '"'"'{print $3}'"'"' /proc/'"$mon118"'/stat)" = Z ]' ||
		fail "the monitor $mon118 was not killed"
	expect_rc 0 "$VZCTL" status 118
	expect_out 'exist mounted running'
	[ "$(state_pid 118 MONITOR_PID)" = "$mon118" ] || fail "118 was taken over"
	[ "$(cat "$T/run/hub.pid")" = "$hub" ] || fail "a hub was started for a MONITOR_HUB=no CT"
	expect_rc 0 "$VZLIST" -H -o ctid
	expect_out '^ *117$'
	expect_out '^ *118$'
	hub2=$(state_pid 117 MONITOR_PID)
	[ -n "$hub2" ] && [ "$hub2" != "$hub" ] && kill -0 "$hub2" || fail "117 names $hub2, not a new hub"
	[ "$(state_pid 118 MONITOR_PID)" = "$hub2" ] || fail "118 names $(state_pid 118 MONITOR_PID), not $hub2"
	check_beancounters 117
	check_beancounters 118
	expect_rc 0 "$VZCTL" stop 117 --fast
	check_hub_let_go 117 "$hub2"
	expect_rc 0 "$VZCTL" stop 118
	check_hub_let_go 118 "$hub2"
	return 0
}

# The hub leaves the cgroup of the command that started it for one of its
# own, CGROUP_PREFIX/hub: when systemd stops an ssh session or a service it
# kills what is left in its cgroup (here: each process of the caller's
# cgroup, SIGKILLed), which takes the command, not the hub, and the CT
# keeps its monitor. Once it serves nothing the hub ends and removes it.
t_hub_own_cgroup() {
	local caller hub p
	caller=$(cgdir pids "")
	caller=${caller%/}-caller
	mkdir "$caller" || fail "mkdir $caller"
	# shellcheck disable=SC2064 # the local is gone by the time it runs
	trap "rmdir '$caller' 2>/dev/null" EXIT
	"$VZCTL" --quiet create 112 --ostemplate busybox-x86_64 || fail "create"
	sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" --quiet start 112' sh "$caller" "$VZCTL" ||
		fail "start from $caller"
	wait_for 100 booted 112 || fail "112 did not boot"
	hub=$(state_pid 112 MONITOR_PID)
	grep -q ":/$CGROUP_PREFIX/hub\$" "/proc/$hub/cgroup" ||
		fail "the hub is not in its own cgroup: $(cat "/proc/$hub/cgroup")"
	grep -q -- "-caller\$" "/proc/$hub/cgroup" && fail "the hub stayed in the caller's cgroup"
	for p in $(cat "$caller/cgroup.procs"); do kill -KILL "$p"; done
	sleep 0.2
	kill -0 "$hub" 2>/dev/null || fail "the hub died with its caller's cgroup"
	check_hub 112
	check_beancounters 112
	expect_rc 0 "$VZCTL" stop 112
	check_hub_let_go 112 "$hub"
	kill -TERM "$hub"
	wait_for 100 eval '! grep -qs vzmon-hub /proc/'"$hub"'/comm' || fail "the hub did not end"
	[ -d "$(cgdir pids hub)" ] && fail "the hub left its cgroup $(cgdir pids hub)"
	return 0
}

# A CT's init gets the limits of the vzctl that started it (as when vzctl
# forked it), not those of whoever started the hub (before, the second CT
# here got the first one's), also after a reboot inside.
t_hub_init_gets_starters_limits() {
	local hub
	"$VZCTL" --quiet create 113 --ostemplate busybox-x86_64 || fail "create 113"
	"$VZCTL" --quiet create 114 --ostemplate busybox-x86_64 || fail "create 114"
	(ulimit -Sn 1111 && exec "$VZCTL" --quiet start 113) || fail "start 113"
	hub=$(state_pid 113 MONITOR_PID)
	(ulimit -Sn 2222 && ulimit -Hn 3333 && ulimit -Ss 4096 && exec "$VZCTL" --quiet start 114) || fail "start 114"
	[ "$(state_pid 114 MONITOR_PID)" = "$hub" ] || fail "114 has another hub"
	expect_rc 0 "$VZCTL" exec 113 'grep "^Max open files" /proc/1/limits'
	[ "$(echo $OUT)" = "Max open files 1111 $(ulimit -Hn) files" ] || fail "113: $OUT"
	expect_rc 0 "$VZCTL" exec 114 'grep -E "^Max (open files|stack size)" /proc/1/limits'
	printf '%s\n' "$OUT" | grep -Eq '^Max open files +2222 +3333 +files' || fail "114: $OUT"
	printf '%s\n' "$OUT" | grep -Eq "^Max stack size +4194304 " || fail "114: $OUT"
	# The hub keeps its own.
	grep -Eq "^Max open files +1111 " "/proc/$hub/limits" || fail "the hub's: $(grep 'open files' "/proc/$hub/limits")"
	# Kept in the state: no file of their own (a tmpfs page per CT).
	grep -q '^LIMITS="' "$T/run/114/state" || fail "no LIMITS in the state"
	[ -e "$T/run/114/limits" ] && fail "a limits file"
	# A reboot inside restarts the CT (through a vzctl the hub runs) with them.
	reboot_inside 114 150 reboot
	wait_for 100 booted 114 || fail "no boot after reboot"
	expect_rc 0 "$VZCTL" exec 114 'grep -E "^Max (open files|stack size)" /proc/1/limits'
	printf '%s\n' "$OUT" | grep -Eq '^Max open files +2222 +3333 +files' || fail "114 after reboot: $OUT"
	printf '%s\n' "$OUT" | grep -Eq "^Max stack size +4194304 " || fail "114 after reboot: $OUT"
	expect_rc 0 "$VZCTL" stop 114
	# An older nvz's limits file goes with the stop.
	head -c 256 /dev/zero >"$T/run/113/limits"
	expect_rc 0 "$VZCTL" stop 113
	[ -e "$T/run/113/limits" ] && fail "an older nvz's limits file left after stop"
	return 0
}
