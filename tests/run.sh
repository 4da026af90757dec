#!/usr/bin/env bash
# The test suite: Criterion unit tests, then integration tests against real
# containers. Ends with "N passed, N failed". Usage: tests/run.sh [PATTERN]
# NVZ_TEST_SKIP="GLOB...": integration tests whose name matches one of the
# globs are not run (and are listed as skipped), e.g. the Debian boot tests
# where no template is.
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
export SRCDIR
BUILD=${BUILD:-$SRCDIR/build}
export VZCTL=$BUILD/vzctl VZLIST=$BUILD/vzlist VZPID=$BUILD/vzpid VZCPUCHECK=$BUILD/vzcpucheck VZSPLIT=$BUILD/vzsplit \
	VZMEMCHECK=$BUILD/vzmemcheck VZCALC=$BUILD/vzcalc VZCFGVALIDATE=$BUILD/vzcfgvalidate
PATTERN=${1:-}

# Orphaned monitors must be reaped by someone: be their subreaper.
if [ -z "${NVZ_TEST_REAPER:-}" ]; then
	export NVZ_TEST_REAPER=1
	exec "$BUILD/tests/subreaper" bash "$0" "$@"
fi

# Seconds a test may take (the slowest here, 50 CTs started at once, takes
# ~45 s; the VM lane sets its own).
TEST_TIMEOUT=${NVZ_TEST_TIMEOUT:-300}

# tree PID [stop]: PID and its descendants, one per line; with "stop",
# each stopped before its children are read, so that none forks again.
tree() {
	local pids=("$1") i=0 c
	while [ "$i" -lt "${#pids[@]}" ]; do
		[ -n "${2:-}" ] && kill -STOP "${pids[$i]}" 2>/dev/null
		read -r -d '' -a c < <(cat /proc/"${pids[$i]}"/task/*/children 2>/dev/null)
		pids+=("${c[@]}")
		i=$((i + 1))
	done
	printf '%s\n' "${pids[@]}"
}

# kill_tree PID: PID and all its descendants (by pid: nothing else).
kill_tree() {
	local pids
	mapfile -t pids < <(tree "$1" stop)
	kill -KILL "${pids[@]}" 2>/dev/null
}

# hang_report PID PREFIX: where a hung test's processes wait, those of its
# tree and of its server's cgroups (the hub, the CTs): each thread's
# state and kernel stack, and with gdb the user stacks of nvz's own.
hang_report() {
	local p t comm
	echo "# hang report: the test's processes and its server's"
	for p in $( { tree "$1"; server_pids "$2"; } | sort -un); do
		[ -d "/proc/$p" ] || continue
		comm=$(cat "/proc/$p/comm" 2>/dev/null)
		echo "## pid $p ($comm) ppid $(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null):" \
			"$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-120)"
		for t in /proc/"$p"/task/*; do
			echo "   tid ${t##*/} $(awk '/^State:/ {print $2}' "$t/status" 2>/dev/null)" \
				"wchan $(cat "$t/wchan" 2>/dev/null):" \
				"$(sed 's/+0x[0-9a-f/x]*//' "$t/stack" 2>/dev/null | awk '{print $2}' | head -6 | paste -sd' ')"
		done
		case $comm in vz*) ;; *) continue ;; esac
		command -v gdb >/dev/null &&
			timeout 20 gdb -q -batch -p "$p" -ex 'thread apply all bt 12' 2>/dev/null | grep -E '^(#|Thread)' | cut -c1-160
	done
}

# watchdog PID FLAG PREFIX: after TEST_TIMEOUT s, mark FLAG, report where
# PID's tree and its server wait, and end PID's tree; SIGTERM (the test
# ended) ends the watchdog and its sleep.
watchdog() {
	local sp=
	trap 'kill "$sp" 2>/dev/null; exit 0' TERM
	sleep "$TEST_TIMEOUT" &
	sp=$!
	wait "$sp"
	trap - TERM
	hang_report "$1" "$3" >"$2" 2>&1
	kill_tree "$1"
}

passed=0
failed=0
failed_names=()
skipped_names=()

# Templates are built once per machine and cached (CI keeps /var/cache).
export TEMPLATE_CACHE=${TEMPLATE_CACHE:-/var/cache/nvz-test/templates}
mkdir -p "$TEMPLATE_CACHE"
if [ ! -e "$TEMPLATE_CACHE/busybox-x86_64.tar.gz" ]; then
	"$SRCDIR/scripts/mk-busybox-template" "$TEMPLATE_CACHE" >/dev/null || {
		echo "cannot build the busybox template" >&2
		exit 1
	}
fi
# Debian 12 and 13 booting systemd, Debian 12 booting sysvinit, and a
# Debian 12 and 13 server (sshd, D-Bus, logind, cron, rsyslog).
for tmpl in 12:systemd:minbase 13:systemd:minbase 12:sysvinit:sysvinit 12:server:server 13:server:server; do
	[ -z "${NVZ_SKIP_DEBIAN:-}" ] || break
	IFS=: read -r release init flavour <<<"$tmpl"
	[ -e "$TEMPLATE_CACHE/debian-$release-x86_64-$flavour.tar.gz" ] && continue
	log=$TEMPLATE_CACHE/mk-debian.log
	[ "$tmpl" = 12:systemd:minbase ] || log=$TEMPLATE_CACHE/mk-debian-$release-$init.log
	echo "# building the Debian $release ($init) template with mmdebstrap (cached afterwards)"
	"$SRCDIR/scripts/mk-debian-template" "$TEMPLATE_CACHE" "$release" "$init" >"$log" 2>&1 ||
		echo "# Debian $release ($init) template build failed: see $log"
done

# --- unit tests (Criterion) ---
if [ -z "$PATTERN" ] || [ "$PATTERN" = unit ]; then
	for t in "$BUILD"/unit/*; do
		[ -x "$t" ] || continue
		out=$(cd "$SRCDIR" && "$t" --jobs 2 2>&1)
		line=$(printf '%s\n' "$out" | grep -a 'Synthesis:' | tail -1)
		p=$(printf '%s' "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
		f=$(printf '%s' "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
		c=$(printf '%s' "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
		if [ -z "$p" ]; then
			p=0 f=1 c=0
		fi
		passed=$((passed + p))
		failed=$((failed + f + c))
		echo "# unit $(basename "$t"): ${p} passed, $((f + c)) failed"
		if [ $((f + c)) -ne 0 ]; then
			printf '%s\n' "$out" | grep -a -E '\[(FAIL|----)\]' | head -20
			failed_names+=("unit:$(basename "$t")")
		fi
	done
fi

# --- integration tests ---
. "$SRCDIR/tests/lib.sh"
n=0
read -r -d "" -a skip_globs <<<"${NVZ_TEST_SKIP:-}"
for file in "$SRCDIR"/tests/integration/test_*.sh; do
	. "$file"
done
for t in $(declare -F | awk '{print $3}' | grep '^t_' ); do
	if [ -n "$PATTERN" ] && [[ "$t" != *$PATTERN* ]]; then
		continue
	fi
	skip=
	for glob in "${skip_globs[@]}"; do
		[[ "$t" == $glob ]] && skip=1
	done
	if [ -n "$skip" ]; then
		skipped_names+=("$t")
		continue
	fi
	n=$((n + 1))
	T=$(mktemp -d /tmp/nvz-test.XXXXXX)
	prefix="nvz-test-$$-$n"
	# A run cut short (^C, a timeout) still takes down the test's server.
	trap 'teardown_server "$T" "$prefix"; rm -f "$T.out"; exit 130' INT TERM HUP
	new_server "$T" "$prefix"
	start=${EPOCHREALTIME//[!0-9]/}
	(
		export T VZ_CONF=$T/vz.conf CGROUP_PREFIX=$prefix
		cd "$T" || exit 1
		"$t"
	) >"$T.out" 2>&1 </dev/null &
	tpid=$!
	# A test that hangs fails alone, after TEST_TIMEOUT s, instead of
	# holding the whole run until CI's own limit ends it.
	watchdog "$tpid" "$T.timedout" "$prefix" &
	wpid=$!
	wait "$tpid" 2>/dev/null
	rc=$?
	kill -TERM "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	if [ -e "$T.timedout" ]; then
		{
			echo "# timed out after ${TEST_TIMEOUT}s: killed"
			cat "$T.timedout"
		} >>"$T.out"
		rc=124
		rm -f "$T.timedout"
	fi
	# In tenths of a second, without a process (see new_server).
	dur=$(((${EPOCHREALTIME//[!0-9]/} - start) / 100000))
	dur=$((dur / 10)).$((dur % 10))
	teardown_server "$T" "$prefix"
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf 'ok %d - %s (%ss)\n' "$n" "$t" "$dur"
		# What a passing test said of the path it took (TAP comments).
		while IFS= read -r line; do
			[[ $line == note:\ * || $line == skip:\ * ]] && printf '    # %s\n' "$line"
		done <"$T.out"
	else
		failed=$((failed + 1))
		failed_names+=("$t")
		printf 'not ok %d - %s (%ss)\n' "$n" "$t" "$dur"
		# A hang's report is long: all of it.
		sed 's/^/    /' "$T.out" | tail -n "$([ $rc -eq 124 ] && echo 400 || echo 25)"
	fi
	rm -f "$T.out"
done

if [ ${#skipped_names[@]} -gt 0 ]; then
	echo "# skipped (NVZ_TEST_SKIP=${skip_globs[*]}): ${skipped_names[*]}"
fi
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "# failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
