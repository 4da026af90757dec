# The small monitor (vzmon, lib/ct/monwait.h): once init runs, the CT's
# monitor is a small static binary on the host, with a few pages of memory
# of its own, that still serves the beancounters, restarts on reboot and
# cleans up after a halt.
# shellcheck shell=bash

# Private dirty kB of a process (what it costs on its own, whatever else
# shares its file pages).
private_dirty_kb() { awk '/^Private_Dirty:/ {print $2}' "/proc/$1/smaps_rollup"; }

# Does this process run vzmon (after the monitor's hand-over)?
is_vzmon() { case $(readlink "/proc/$1/exe") in */vzmon) return 0 ;; esac; return 1; }

# The monitor of a running CT: vzmon, on the host, holding only the console,
# the beancounters' FUSE device, the console socket and the log.
check_small_monitor() {
	local id=$1 mon exe pd fd kinds
	mon=$(state_pid "$id" MONITOR_PID)
	[ -n "$mon" ] && kill -0 "$mon" || fail "no monitor for $id"
	# vzctl start returns when init exec'd; the monitor execs vzmon just
	# after (once vzctl is gone).
	wait_for 50 is_vzmon "$mon"
	exe=$(readlink "/proc/$mon/exe")
	case $exe in */vzmon) ;; *) fail "monitor of $id runs $exe, not vzmon" ;; esac
	[ "$(readlink "/proc/$mon/ns/pid")" = "$(readlink /proc/self/ns/pid)" ] ||
		fail "the monitor is not in the host's pid namespace"
	[ "$(readlink "/proc/$mon/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ] ||
		fail "the monitor is not in the host's mount namespace"
	for fd in /proc/"$mon"/fd/*; do
		kinds+=" $(readlink "$fd")"
		[ -d "$fd" ] && fail "the monitor holds a directory: $(readlink "$fd")"
	done
	case $kinds in *vzctl*) ;; *) fail "no vzctl for the after-exit work: $kinds" ;; esac
	case $kinds in */dev/fuse*) ;; *) fail "no beancounter FUSE device: $kinds" ;; esac
	# A fork of vzctl kept ~185 kB private dirty; vzmon keeps ~50. Not in
	# the sanitizer build (a dynamic vzmon with ASan's shadow memory).
	if ! LC_ALL=C readelf -l "$exe" | grep -q 'program interpreter'; then
		pd=$(private_dirty_kb "$mon")
		[ "$pd" -lt 150 ] || fail "the monitor keeps $pd kB private dirty"
	fi
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

t_small_monitor_serves_and_restarts() {
	start_busybox 101
	check_small_monitor 101
	check_beancounters 101
	# Many opens: each builds its table in a child; none may leak or stay.
	local mon i
	mon=$(state_pid 101 MONITOR_PID)
	"$VZCTL" exec 101 'i=0; while [ $i -lt 50 ]; do cat /run/user_beancounters >/dev/null || exit 1; i=$((i+1)); done' ||
		fail "50 reads failed"
	[ -z "$(ps -o pid= --ppid "$mon" | grep -v "^ *$(state_pid 101 INIT_PID)\$")" ] ||
		fail "the monitor left children: $(ps -o pid,comm --ppid "$mon")"
	check_small_monitor 101
	# reboot inside: the small monitor hands back to vzctl, which restarts
	# the CT under a new small monitor.
	local init1=$(state_pid 101 INIT_PID)
	"$VZCTL" exec 101 reboot
	wait_for 150 eval '[ "$(state_pid 101 INIT_PID 2>/dev/null)" != "" ] && [ "$(state_pid 101 INIT_PID)" != "$init1" ]' ||
		fail "CT did not come back after reboot"
	wait_for 100 booted 101 || fail "no boot after reboot"
	check_small_monitor 101
	check_beancounters 101
	# The restarted monitor inherited nothing from the first one.
	mon=$(state_pid 101 MONITOR_PID)
	i=$(ls "/proc/$mon/fd" | wc -l)
	[ "$i" -le 10 ] || fail "the monitor holds $i descriptors: $(ls -l /proc/$mon/fd)"
	# halt inside: cleanup, unmount, no beancounter mount left.
	"$VZCTL" exec 101 poweroff
	wait_for 150 eval '! ct_running 101' || fail "CT still running after poweroff inside"
	wait_for 50 eval '"$VZCTL" status 101 | grep -q unmounted' || fail "not unmounted after halt"
	wait_for 50 eval '! kill -0 '"$mon"' 2>/dev/null' || fail "monitor still there after halt"
	grep -q " $T/run/101/bc" /proc/self/mounts && fail "beancounter mount left after halt"
	return 0
}

# vzctl stop (and kill) end the small monitor with the CT, as before.
t_small_monitor_stop_and_console() {
	start_busybox 102
	local mon
	mon=$(state_pid 102 MONITOR_PID)
	# The console is still relayed and lent: what init writes reaches the log.
	"$VZCTL" exec 102 'echo nvz-console-probe >/dev/console'
	wait_for 50 grep -q nvz-console-probe "$T/run/102/console.log" || fail "console not drained to its log"
	expect_rc 0 "$VZCTL" stop 102 --fast
	# (Its state after the last ')': the name "vzmon 102" has a space.)
	kill -0 "$mon" 2>/dev/null && [ "$(sed 's/.*) //' /proc/"$mon"/stat 2>/dev/null | cut -d' ' -f1)" != Z ] &&
		fail "monitor alive after stop"
	grep -q " $T/run/102/bc" /proc/self/mounts && fail "beancounter mount left after stop"
	expect_rc 0 "$VZCTL" start 102
	check_small_monitor 102
	expect_rc 0 "$VZCTL" stop 102
	expect_out 'Container was stopped'
	return 0
}
