# Commands run back to back, as scripts (and bench/) run them: no command may
# find the CT still locked by what the previous one left behind.
# shellcheck shell=bash

t_start_stop_back_to_back() {
	"$VZCTL" --quiet create 170 --ostemplate busybox-x86_64 || fail "create"
	local i
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		# The monitor used to keep its lock copy a moment after start returned,
		# and take the lock after `stop --fast` returned: exit 9 either way.
		expect_rc 0 "$VZCTL" --quiet start 170
		expect_rc 0 "$VZCTL" --quiet stop 170 --fast
	done
	for i in 1 2 3; do
		expect_rc 0 "$VZCTL" --quiet start 170
		expect_rc 0 "$VZCTL" --quiet exec3 170 /bin/true
		expect_rc 0 "$VZCTL" --quiet stop 170
	done
	expect_rc 0 "$VZCTL" status 170
	[ "$OUT" = "CTID 170 exist unmounted down" ] || fail "status: $OUT"
}

# init fails in its first mounts, before the monitor told it that it is in
# its cgroup: start still reports why, and leaves nothing behind.
t_start_early_mount_failure() {
	"$VZCTL" --quiet create 171 --ostemplate busybox-x86_64 || fail "create"
	rm -rf "$T/private/171/proc" && : >"$T/private/171/proc"
	OUT=$(timeout 30 "$VZCTL" start 171 2>&1)
	local rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "start exited $rc: $OUT"
	expect_out "/proc' in container is not a directory"
	expect_rc 0 "$VZCTL" status 171
	[ "$OUT" = "CTID 171 exist unmounted down" ] || fail "status: $OUT"
	[ ! -d "$(cgdir memory 171)" ] || fail "cgroup left behind"
}
