#!/usr/bin/env bash
# The sanitizer lane: every command, helper and unit test built with ASan and
# UBSan into build-san, then the whole suite (unit + integration, real
# containers) run against it. A sanitizer report anywhere fails the lane,
# even in a process whose output no test looks at (the per-CT monitor).
# Usage: tests/san-lane.sh [PATTERN]. Ends with "N passed, N failed".
#
# Why these options work with containers:
#  - log_path: reports go to files in a host directory, one per pid, not to
#    stderr. The monitor runs detached with stdio on /dev/null and many tests
#    compare a command's output; a report must neither vanish nor change an
#    output. A process that has already joined a CT's mount namespace cannot
#    open that path: ASan then says so on stderr and exits non-zero, which
#    still fails the test.
#  - detect_leaks=1 is kept for every process: commands are short-lived and
#    free what they allocate, the monitor leak-checks when its CT stops, and
#    the whole suite runs with it (LeakSanitizer's ptrace of its own threads
#    is allowed to root here, also inside the CT's pid namespace).
#  - The sealed-memfd re-exec of exec/enter runs the instrumented binary again
#    from the memfd: ASan needs nothing from the file system at startup, so it
#    works unchanged. nvz sets no RLIMIT_AS on its own processes (the
#    beancounters are cgroup limits), so ASan's shadow reservation of ~20 TB
#    of address space is never refused; an RLIMIT_AS would have to be set only
#    in the CT's init, never in the monitor or an exec'ing vzctl.
#  - halt_on_error: the first report ends the process, so a bad write cannot
#    go on to corrupt a config or a CT's files before the test notices.
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRCDIR" || exit 1
B=build-san
make -s -j2 B=$B SAN=address,undefined all unit || { echo "sanitizer build failed"; echo "0 passed, 1 failed"; exit 1; }

reports=$(mktemp -d /tmp/nvz-san.XXXXXX)
chmod 0755 "$reports"
export ASAN_OPTIONS="log_path=$reports/asan:halt_on_error=1:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$reports/ubsan:halt_on_error=1:print_stacktrace=1"
log=$(mktemp /tmp/nvz-san-log.XXXXXX)
# Left to the host lane, to keep the CI's whole run well within its 90
# minutes (this lane took 22 of them on 2026-12-06): tests that take no
# path through nvz's code that the others here do not.
# - The Debian 13 and sysvinit runs repeat Debian 12's path through nvz on
#   other distributions; t_cpt_psi_triggers and every start take the code
#   they added.
# - Debian 12's boots but two: t_debian_free_top_uptime (systemd through
#   the console, the hub and the FUSE views) and the checkpoint of its
#   sandboxed units; its logins, networking and migrations are nvz's
#   busybox paths under a slower init.
# - 50 CTs at once (each start's path is every test's), vzctl killed at
#   each step (the kernel ends it: nothing of nvz's runs), and the ploop
#   migrations (an image compared byte for byte).
export NVZ_TEST_SKIP="${NVZ_TEST_SKIP:-} *debian13* t_debian_sysvinit_* t_debian_systemd_boot
	t_debian_userpasswd_login t_net_debian_* t_cpt_debian_systemd t_migrate_online_debian
	t_migrate_online_debian_server t_migrate_offline_debian t_load_50_concurrent t_kill9_*
	t_disk_kill9_create_ploop t_migrate_online_ploop t_migrate_ploop"
# A hang fails its test alone; the slowest test here takes ~45 s.
export NVZ_TEST_TIMEOUT=${NVZ_TEST_TIMEOUT:-240}
BUILD=$SRCDIR/$B bash tests/run.sh "$@" 2>&1 | tee "$log"
line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
passed=${line%% passed*}
failed=${line##*, }
failed=${failed%% failed}
: "${passed:=0}" "${failed:=1}"

# Every report file is one failure more, shown in full (they are short).
# Except one that says only that LeakSanitizer's exit-time check could not
# read its own process's registers: that is a process SIGKILLed while it
# ran the check (the kill -9 tests do it on purpose); it found nothing.
nrep=0
for f in "$reports"/*; do
	[ -e "$f" ] || continue
	if grep -q 'Unable to get registers from thread' "$f" && ! grep -qv 'Unable to get registers from thread' "$f"; then
		echo "# leak check cut short by SIGKILL ($(basename "$f")): $(head -1 "$f")"
		continue
	fi
	nrep=$((nrep + 1))
	echo "# sanitizer report $(basename "$f"):"
	sed 's/^/    /' "$f" | head -60
done
rm -rf "$reports" "$log"
echo "# sanitizer lane: $nrep report(s)"
echo "$passed passed, $((failed + nrep)) failed"
[ $((failed + nrep)) -eq 0 ]
