# shellcheck shell=bash
# Load: many CTs driven by parallel commands at once. Nothing may be lost
# (every CT reaches each state), nothing may hang (each phase is bounded by
# timeout), and nothing may be left behind (mounts, loop devices, cgroups,
# monitors).

LOAD_N=${NVZ_LOAD_N:-50}

# load_phase NAME CMD...: run "CMD ID" for every CT at once; fail on any
# error. CMD may be one of the load_* functions (exported for bash -c).
load_phase() {
	local name=$1 id pid rc bad=0
	shift
	local -A pids=()
	for id in $(seq 3001 $((3000 + LOAD_N))); do
		timeout 120 bash -c '"$@"' load "$@" "$id" >"$T/$name.$id.out" 2>&1 &
		pids[$id]=$!
	done
	for id in "${!pids[@]}"; do
		wait "${pids[$id]}"
		rc=$?
		if [ $rc -ne 0 ]; then
			bad=$((bad + 1))
			echo "$name $id: exit $rc: $(head -c 400 "$T/$name.$id.out")"
		fi
	done
	[ $bad -eq 0 ] || fail "$name: $bad of $LOAD_N commands failed"
}

# Every tenth CT on its own ploop image (loop devices attached and freed
# concurrently), the rest on the shared template (simfs:shared: create in ms).
load_create() {
	local layout=(--layout simfs:shared)
	[ $(($1 % 10)) -ne 0 ] || layout=(--layout ploop:shared --diskspace 200M)
	"$VZCTL" --quiet create "$1" --ostemplate busybox-x86_64 "${layout[@]}"
}
load_exec() { "$VZCTL" exec2 "$1" "test \$(hostname) = ct$1.load && test -e /run/nvz-boot.done && echo ok-$1"; }
load_stopped() { "$VZCTL" status "$1" | grep -q ' down'; }

t_load_50_concurrent() {
	local id
	export -f load_create load_exec
	load_phase create load_create
	for id in $(seq 3001 $((3000 + LOAD_N))); do
		"$VZCTL" --quiet set "$id" --hostname "ct$id.load" --save || fail "set $id"
	done
	load_phase start "$VZCTL" --quiet start
	[ "$("$VZLIST" -H -o ctid | wc -l)" -eq "$LOAD_N" ] || fail "not all running: $("$VZLIST" -a)"
	for id in $(seq 3001 $((3000 + LOAD_N))); do
		wait_for 300 booted "$id" || fail "CT $id did not boot"
	done
	load_phase exec load_exec
	for id in $(seq 3001 $((3000 + LOAD_N))); do
		grep -qx "ok-$id" "$T/exec.$id.out" || fail "exec in $id: $(cat "$T/exec.$id.out")"
	done
	# The hub, for the leak check after stop: it must let go of every CT.
	local hub
	hub=$(state_pid 3001 MONITOR_PID)
	# stop and a second exec race on every CT: the exec may fail, never hang.
	local -a racers=()
	for id in $(seq 3001 $((3000 + LOAD_N))); do
		timeout 60 "$VZCTL" exec "$id" 'sleep 0.2' >/dev/null 2>&1 &
		racers+=($!)
	done
	load_phase stop "$VZCTL" --quiet stop
	for id in "${racers[@]}"; do
		wait "$id"
		[ $? -ne 124 ] || fail "an exec racing stop hung"
	done
	for id in $(seq 3001 $((3000 + LOAD_N))); do
		load_stopped "$id" || fail "CT $id not down after stop: $("$VZCTL" status "$id")"
	done
	[ -z "$("$VZLIST" -H -o ctid)" ] || fail "still running: $("$VZLIST")"
	if [ -n "$hub" ] && kill -0 "$hub" 2>/dev/null; then
		wait_for 50 eval '! ls -l /proc/'"$hub"'/fd 2>/dev/null | grep -q " $T/run/[0-9]*/"' ||
			fail "the hub still holds CT files: $(ls -l /proc/"$hub"/fd)"
		[ -z "$(ps -o comm= --ppid "$hub")" ] ||
			fail "the hub still has children: $(ps -o pid,comm --ppid "$hub")"
	fi
	load_phase destroy "$VZCTL" --quiet destroy
	load_no_leftovers
}

# Nothing of this server left: mounts, loop devices, cgroups.
load_no_leftovers() {
	local left
	left=$(awk -v d="$T" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo)
	[ -z "$left" ] || fail "mounts left: $left"
	left=$(losetup -a 2>/dev/null | grep -F "$T/" || true)
	[ -z "$left" ] || fail "loop devices left: $left"
	# (The hub's own cgroup stays while the hub does.)
	left=$(find /sys/fs/cgroup/*/"$CGROUP_PREFIX" /sys/fs/cgroup/unified/"$CGROUP_PREFIX" \
		-mindepth 1 -type d ! -path "*/$CGROUP_PREFIX/hub" 2>/dev/null | head -5)
	[ -z "$left" ] || fail "cgroups left: $left"
	[ "$(ls "$T/private" 2>/dev/null | wc -l)" -eq 0 ] || fail "private areas left: $(ls "$T/private")"
}
