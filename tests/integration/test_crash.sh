# kill -9 of vzctl in the middle of create, start and set --save: the CT is
# then either absent or fully usable, the config is whole, the lock is free.
# shellcheck shell=bash

# Run "$@" in the background and SIGKILL it after $1 seconds.
kill_after() {
	local delay=$1
	shift
	"$@" >/dev/null 2>&1 &
	local pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# The CT is either cleanly absent or usable end to end.
absent_or_usable() {
	local id=$1 st
	st=$("$VZCTL" status "$id")
	case $st in
	*deleted*)
		[ -e "$T/private/$id" ] && fail "deleted CT has a private area"
		# The next create must work.
		"$VZCTL" --quiet create "$id" --ostemplate "${2:-busybox-x86_64}" || fail "create after kill failed"
		;;
	esac
	ct_running "$id" || "$VZCTL" --quiet start "$id" || fail "CT $id unusable after kill ($st)"
	wait_for 100 booted "$id" || fail "CT $id does not boot after kill"
	"$VZCTL" --quiet stop "$id" || fail "stop failed"
	"$VZCTL" --quiet destroy "$id" || fail "destroy failed"
	[ -e "$T/private/$id.tmp" ] && fail "half-created private area left"
	return 0
}

t_kill9_create() {
	local d i=0
	for d in 0.005 0.01 0.02 0.04 0.08 0.15; do
		i=$((i + 1))
		kill_after "$d" "$VZCTL" create $((900 + i)) --ostemplate busybox-x86_64
		absent_or_usable $((900 + i))
	done
}

t_kill9_start() {
	local d i=0 id
	for d in 0.002 0.005 0.01 0.02 0.05; do
		i=$((i + 1))
		id=$((910 + i))
		"$VZCTL" --quiet create $id --ostemplate busybox-x86_64 || fail create
		kill_after "$d" "$VZCTL" start $id
		# The lock is free again once the start that was begun is over.
		wait_for 50 "$VZCTL" set $id --description after-kill --save || fail "CT $id stays locked"
		absent_or_usable $id
		ls "$(cgdir pids $id)" >/dev/null 2>&1 && fail "cgroup of $id left after stop"
	done
	return 0
}

t_kill9_set_save() {
	"$VZCTL" --quiet create 920 --ostemplate busybox-x86_64 || fail create
	local i
	for i in $(seq 1 30); do
		kill_after 0.00$((i % 9 + 1)) "$VZCTL" set 920 --description "round $i" --hostname "h$i.example.com" --save
		grep -q '^OSTEMPLATE="busybox-x86_64"$' "$T/conf/920.conf" || fail "config truncated in round $i"
	done
	expect_rc 0 "$VZCTL" set 920 --description final --save
	# Temp files of killed saves are swept by the next save under the lock.
	[ -z "$(ls -A "$T/conf" | grep '^\.')" ] || fail "temp files left: $(ls -A "$T/conf")"
}

# kill -9 of stop and destroy: the lock is free afterwards, the CT is either
# still there and usable (running or stopped) or cleanly gone; a destroy cut
# short is finished by the next destroy, or its leftovers swept by the next
# create of that ID. Nothing is left mounted.
t_kill9_stop_destroy() {
	local d i=0 id st
	for d in 0.005 0.02 0.05 0.1; do
		i=$((i + 1))
		id=$((930 + i))
		start_busybox $id
		kill_after "$d" "$VZCTL" stop $id
		wait_for 50 "$VZCTL" set $id --description after-kill --save || fail "CT $id stays locked after a killed stop"
		absent_or_usable $id
	done
	for d in 0.002 0.005 0.01 0.03 0.06; do
		i=$((i + 1))
		id=$((930 + i))
		"$VZCTL" --quiet create $id --ostemplate busybox-x86_64 || fail create
		kill_after "$d" "$VZCTL" destroy $id
		st=$("$VZCTL" status $id)
		case $st in
		*deleted*) ;;
		*) expect_rc 0 "$VZCTL" destroy $id
		   [ -e "$T/private/$id.del" ] && fail "a second destroy left $id.del" ;;
		esac
		[ -e "$T/private/$id" ] && fail "private area of $id left after destroy"
		grep -q "$T/root/$id " /proc/self/mountinfo && fail "root of $id still mounted"
		absent_or_usable $id
		[ -e "$T/private/$id.del" ] && fail "create did not sweep $id.del"
	done
	return 0
}
