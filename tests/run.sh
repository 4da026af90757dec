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
read -ra skip_globs <<<"${NVZ_TEST_SKIP:-}"
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
	) >"$T.out" 2>&1 </dev/null
	rc=$?
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
		sed 's/^/    /' "$T.out" | tail -25
	fi
	rm -f "$T.out"
done

if [ ${#skipped_names[@]} -gt 0 ]; then
	echo "# skipped (NVZ_TEST_SKIP=$NVZ_TEST_SKIP): ${skipped_names[*]}"
fi
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "# failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
