# The test runner itself (tests/run.sh): a test that hangs fails alone
# after NVZ_TEST_TIMEOUT, with a report of where its processes wait, and
# nothing of it is left running.
# shellcheck shell=bash

# A copy of the runner with one test that starts a CT and hangs, and one
# that passes after it. Without the watchdog the inner run never ends (the
# outer timeout then fails this test).
t_runner_hung_test_fails_alone() {
	local tree=$T/runner
	mkdir -p "$tree/tests/integration" "$tree/etc"
	cp "$SRCDIR/tests/run.sh" "$SRCDIR/tests/lib.sh" "$tree/tests/"
	cp "$SRCDIR"/etc/ve-*.conf-sample "$tree/etc/"
	cat >"$tree/tests/integration/test_inner.sh" <<'INNER'
t_inner_a_hangs() {
	"$VZCTL" --quiet create 1600 --ostemplate busybox-x86_64 && "$VZCTL" --quiet start 1600 &&
		sleep 1000 && echo "never here"
}
t_inner_b_passes() { true; }
INNER
	OUT=$(BUILD=$(dirname "$VZCTL") NVZ_TEST_REAPER=1 NVZ_SKIP_DEBIAN=1 NVZ_TEST_TIMEOUT=4 NVZ_TEST_SKIP='' \
		timeout 120 bash "$tree/tests/run.sh" t_inner_ 2>&1)
	local rc=$?
	[ $rc -eq 1 ] || fail "inner run exited $rc: $OUT"
	expect_out '^not ok 1 - t_inner_a_hangs '
	expect_out '^    # timed out after 4s: killed$'
	expect_out '^    ## pid [0-9]+ \(sleep\) '
	expect_out '^    ## pid [0-9]+ \(vzmon-hub\) '
	expect_out '^       tid [0-9]+ S wchan '
	expect_out '^ok 2 - t_inner_b_passes '
	expect_out '^1 passed, 1 failed$'
	[[ "$OUT" == *"never here"* ]] && fail "the hung test went on"
	# Its sleep, its CT and the inner server's hub are gone.
	pgrep -x -f 'sleep 1000' >/dev/null && fail "sleep 1000 left: $(pgrep -a -x -f 'sleep 1000')"
	local d
	for d in /sys/fs/cgroup/memory/nvz-test-*-1; do
		[ -n "$(cat "$d"/cgroup.procs "$d"/*/cgroup.procs 2>/dev/null)" ] &&
			fail "an inner server's cgroup still holds processes: $d"
	done
	return 0
}
