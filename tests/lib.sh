# Helpers for integration tests: each test function runs in its own subshell
# with a fresh "server" (its own VZ_CONF root and cgroup prefix) in $T.
# shellcheck shell=bash

fail() {
	echo "    FAIL: $*" >&2
	exit 1
}

# expect_rc CODE command...: run, compare the exit status, keep output in $OUT.
expect_rc() {
	local want=$1
	shift
	OUT=$("$@" 2>&1)
	local rc=$?
	[ "$rc" -eq "$want" ] || fail "'$*' exited $rc, expected $want; output: $OUT"
	return 0
}

expect_out() { # expect_out REGEX: $OUT must match
	printf '%s\n' "$OUT" | grep -Eq -- "$1" || fail "output does not match /$1/: $OUT"
}

# A server root: vz.conf, conf/, names/, template cache shared read-only.
# Few processes here and in teardown_server: each exec costs ~50 ms in the
# VM lane (qemu without KVM), paid twice for every test.
new_server() {
	local dir=$1 prefix=$2 tmpls
	mkdir -p "$dir"/conf "$dir"/names "$dir"/template/cache
	tmpls=("$TEMPLATE_CACHE"/*.tar*)
	[ -e "${tmpls[0]}" ] && ln -s "${tmpls[@]}" "$dir/template/cache/"
	cp "$SRCDIR"/etc/ve-*.conf-sample "$dir/conf/"
	printf '%s\n' "# test server $dir" "LOCKDIR=$dir/lock" "DUMPDIR=$dir/dump" "TEMPLATE=$dir/template" \
		"VE_ROOT=$dir/root/\$VEID" "VE_PRIVATE=$dir/private/\$VEID" LOGGING=yes "LOGFILE=$dir/vzctl.log" \
		LOG_LEVEL=1 'CONFIGFILE="basic"' 'DEF_OSTEMPLATE="busybox-x86_64"' VE_LAYOUT=simfs \
		"RUNDIR=$dir/run" "CGROUP_PREFIX=$prefix" STOP_TIMEOUT=20 >"$dir/vz.conf"
}

# Stop and remove everything a server holds; report what could not go.
teardown_server() {
	local dir=$1 prefix=$2 f id m
	for f in "$dir"/conf/*.conf; do
		[ -e "$f" ] || continue
		id=${f##*/}
		id=${id%.conf}
		VZ_CONF=$dir/vz.conf timeout 60 "$VZCTL" --quiet --skiplock stop "$id" --fast >/dev/null 2>&1
		VZ_CONF=$dir/vz.conf timeout 30 "$VZCTL" --quiet --skiplock umount "$id" >/dev/null 2>&1
	done
	# Any mount left below the server root (a failed test's), deepest first.
	local mounts=()
	while read -r _ m _; do
		[[ $m == "$dir"* ]] && mounts+=("$m")
	done </proc/self/mounts
	if [ ${#mounts[@]} -gt 0 ]; then
		printf '%s\n' "${mounts[@]}" | sort -r | while read -r m; do
			umount -l "$m" 2>/dev/null
		done
	fi
	# The server's monitor hub lives in its cgroup prefix: asked to end (by
	# its pid; SIGTERM ends it once it serves no CT), before the rmdir.
	local hub=
	{ read -r hub <"$dir/run/hub.pid"; } 2>/dev/null
	if [ -n "$hub" ] && is_hub "$hub"; then
		kill -TERM "$hub"
		wait_for 100 eval '! is_hub '"$hub"
	fi
	# What the stops above could not end (a test that broke its CT's
	# config, a run cut short): every process still in the server's own
	# cgroups, by pid, thawed first (on cgroup v1 a frozen task does not die).
	local left
	left=$(server_pids "$prefix")
	if [ -n "$left" ]; then
		echo "# teardown: killed what $dir left running: $(echo $left)" >&2
		find /sys/fs/cgroup/freezer/"$prefix" -name freezer.state 2>/dev/null |
			while read -r f; do echo THAWED >"$f"; done
		find /sys/fs/cgroup/"$prefix" -name cgroup.freeze 2>/dev/null |
			while read -r f; do echo 0 >"$f"; done
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null
		wait_for 100 eval '[ -z "$(server_pids "$prefix")" ]'
	fi
	# And those of a prefix the test derived from it (a restore under
	# "$prefix-b"), which its own trap can miss while a stop still ends.
	local cgs=() c
	for c in /sys/fs/cgroup/*/"$prefix" /sys/fs/cgroup/"$prefix" /sys/fs/cgroup/*/"$prefix"-* \
		/sys/fs/cgroup/"$prefix"-*; do
		[ -d "$c" ] && cgs+=("$c")
	done
	[ ${#cgs[@]} -eq 0 ] || find "${cgs[@]}" -depth -type d -exec rmdir {} + 2>/dev/null
	rm -rf "$dir"
}

# PID is a server's monitor hub (its comm, read without a process).
is_hub() {
	local comm=
	{ read -r comm <"/proc/$1/comm"; } 2>/dev/null
	[ "$comm" = vzmon-hub ]
}

# The pids in a server's cgroups (any hierarchy), one per line.
server_pids() {
	local dirs=() d
	for d in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
		[ -d "$d" ] && dirs+=("$d")
	done
	[ ${#dirs[@]} -eq 0 ] && return 0
	find "${dirs[@]}" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -un
}

# strace the hub (hub_trace PID) and each process it forks, until
# hub_trace_end (up to its exec: -b); hub_forks_only_exec then checks them. The hub
# has threads (a start's monitor): a child forked from it may find a heap
# lock held for good, so it must exec before it allocates or opens a file.
hub_trace() {
	HUB_TRACE_DIR=$T/hub-trace
	rm -rf "$HUB_TRACE_DIR" && mkdir -p "$HUB_TRACE_DIR"
	strace -f -ff -qq -b execve -o "$HUB_TRACE_DIR/t" -p "$1" 2>/dev/null &
	HUB_TRACE_PID=$!
	wait_for 50 eval '[ "$(awk '"'"'/^TracerPid:/ {print $2}'"'"' /proc/'"$1"'/status)" = '"$HUB_TRACE_PID"' ]' ||
		{ hub_trace_end; fail "strace did not attach to the hub $1"; }
}
hub_trace_end() {
	[ -n "${HUB_TRACE_PID:-}" ] || return 0
	kill -INT "$HUB_TRACE_PID" 2>/dev/null
	wait "$HUB_TRACE_PID" 2>/dev/null
	HUB_TRACE_PID=
}
# hub_forks_only_exec HUB MIN [EXEC_RE]: the traced hub forked MIN children
# or more (0: none at all), each of which called nothing but these before
# its exec (of a file whose arguments match EXEC_RE).
hub_forks_only_exec() {
	local hub=$1 min=$2 re=${3:-.} child n=0 call
	[ -s "$HUB_TRACE_DIR/t.$hub" ] || fail "no trace of the hub $hub"
	for child in $(grep -vh CLONE_THREAD "$HUB_TRACE_DIR/t.$hub" |
		sed -nE 's/^(clone|clone3|fork|vfork)\(.*\) = ([0-9]+)$/\2/p'); do
		n=$((n + 1))
		[ -s "$HUB_TRACE_DIR/t.$child" ] || fail "no trace of the hub's child $child"
		for call in $(awk '/^execve(at)?\(/ {exit} /^(---|\+\+\+) / {next} {sub(/\(.*/, ""); print}' "$HUB_TRACE_DIR/t.$child" | sort -u); do
			case $call in
			close_range | close | fcntl | rt_sigaction | rt_sigprocmask | prctl | set_robust_list | rseq | gettid | getpid) ;;
			*) fail "the hub's child $child called $call before its exec: $(head -20 "$HUB_TRACE_DIR/t.$child")" ;;
			esac
		done
		grep -qE '^execve(at)?\(.*'"$re" "$HUB_TRACE_DIR/t.$child" ||
			fail "the hub's child $child did not exec /$re/: $(head -20 "$HUB_TRACE_DIR/t.$child")"
	done
	if [ "$min" = 0 ]; then
		[ "$n" = 0 ] || fail "the hub forked $n children"
	else
		[ "$n" -ge "$min" ] || fail "the hub forked $n children, not $min"
	fi
}

# Wait until a command succeeds (up to N tenths of a second).
wait_for() {
	local tries=$1
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

ct_running() { "$VZCTL" status "$1" | grep -q ' running'; }
booted() { "$VZCTL" exec "$1" 'test -e /run/nvz-boot.done'; }

# Create and start a busybox CT and wait for its rcS to finish.
start_busybox() {
	local id=$1
	shift
	"$VZCTL" --quiet create "$id" --ostemplate busybox-x86_64 "$@" || fail "create $id"
	"$VZCTL" --quiet start "$id" || fail "start $id"
	wait_for 100 booted "$id" || fail "CT $id did not boot"
}

# Root here has CAP_SYS_RESOURCE (a stock host, the VM lane; not this
# sandbox): ext4 online resize, criu's prlimit of other users' processes.
have_cap_sys_resource() {
	local capeff
	capeff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
	[ $(((16#$capeff >> 24) & 1)) -eq 1 ]
}

# Pid of the CT's init / monitor from the runtime state.
state_pid() { sed -n "s/^$2=\"\\([0-9]*\\)\"/\\1/p" "$T/run/$1/state"; }

# reboot_inside ID TRIES CMD: run CMD in the CT (a reboot) and wait up to
# TRIES tenths of a second for a new init. A failure says what CMD printed,
# the CT's status and the end of the log: a rare miss is then explained.
reboot_inside() {
	local id=$1 tries=$2 cmd=$3 init1 out new
	init1=$(state_pid "$id" INIT_PID)
	out=$("$VZCTL" exec "$id" "$cmd" 2>&1; echo "(exit $?)")
	wait_for "$tries" eval "new=\$(state_pid $id INIT_PID 2>/dev/null); [ -n \"\$new\" ] && [ \"\$new\" != $init1 ]" &&
		return 0
	# Still up: what it is waiting for (a systemd's jobs, its processes).
	fail "CT $id did not come back after '$cmd' (init was $init1): $out
$("$VZCTL" status "$id" 2>&1)
$(tail -15 "$T/vzctl.log" 2>/dev/null)
$(timeout 20 "$VZCTL" exec "$id" 'systemctl list-jobs --no-pager 2>/dev/null; ps -eo pid,stat,etime,args 2>/dev/null || ps' 2>&1)"
}

# cgroup files of a CT, on either version. cgdir CONTROLLER ID: the
# directory (v1: per controller; v2: the unified one).
cg_v2() { [ -e /sys/fs/cgroup/cgroup.controllers ] && [ ! -d /sys/fs/cgroup/memory ]; }
cgdir() {
	if cg_v2; then echo "/sys/fs/cgroup/$CGROUP_PREFIX/$2"; else echo "/sys/fs/cgroup/$1/$CGROUP_PREFIX/$2"; fi
}
# cg CONTROLLER ID FILE: a v1 file's value; on v2, the same quantity read
# from the v2 files (limits in v1's units: -1 / 9223372036854771712 = none).
cg() {
	local d
	d=$(cgdir "$1" "$2")
	cg_v2 || { cat "$d/$3"; return; }
	local v s
	case $3 in
	memory.limit_in_bytes) v=$(cat "$d/memory.max"); [ "$v" = max ] && v=9223372036854771712; echo "$v" ;;
	memory.memsw.limit_in_bytes)
		v=$(cat "$d/memory.max"); s=$(cat "$d/memory.swap.max" 2>/dev/null || echo max)
		if [ "$v" = max ] || [ "$s" = max ]; then echo 9223372036854771712; else echo $((v + s)); fi ;;
	memory.failcnt) awk '$1 == "max" {print $2}' "$d/memory.events" ;;
	memory.memsw.failcnt) awk '$1 == "max" {print $2}' "$d/memory.swap.events" 2>/dev/null || echo 0 ;;
	cpu.cfs_quota_us) v=$(cut -d' ' -f1 "$d/cpu.max"); [ "$v" = max ] && v=-1; echo "$v" ;;
	*) cat "$d/$3" ;;
	esac
}
cg_oom_kills() { # CT ID: OOM kills in its memory cgroup
	local d
	d=$(cgdir memory "$1")
	if cg_v2; then awk '$1 == "oom_kill" {print $2}' "$d/memory.events"; else awk '/oom_kill /{print $2}' "$d/memory.oom_control"; fi
}
# cpu_units_applied ID UNITS: the CPU weight the kernel has is OpenVZ's units
# (v1: cpu.shares = units * 1024 / 1000; v2: cpu.weight by crun's mapping).
cpu_units_applied() {
	local shares=$(($2 * 1024 / 1000))
	if cg_v2; then
		[ "$(cat "$(cgdir cpu "$1")/cpu.weight")" = $((1 + (shares - 2) * 9999 / 262142)) ]
	else
		[ "$(cg cpu "$1" cpu.shares)" = "$shares" ]
	fi
}
# Is $T on a filesystem mounted with project quotas (the VM lane's /tmp)?
# Then the "no quota here" tests have nothing to refuse; tests/vm covers it.
prjquota_here() {
	local mnt
	mnt=$(df --output=target "$T" 2>/dev/null | tail -1)
	awk -v m="$mnt" '$2 == m && $4 ~ /prjquota/ {found=1} END {exit !found}' /proc/self/mounts
}

# $T/vz.conf's criu: the real one, whose tree dump then "fails" (after it
# killed the tree; the dump itself is whole).
criu_fails_after_dump() {
	local real=${NVZ_CRIU:-/opt/nvz/criu/criu}
	cat >"$T/criu-fails-late" <<SH
#!/bin/sh
"$real" "\$@" || exit
tree=
for a; do case \$a in cpuinfo) exit 0 ;; dump) tree=1 ;; esac; done
[ -n "\$tree" ] || exit 0
echo "Error (criu/cr-dump.c:1): this test's criu fails after the kill" >&2
exit 1
SH
	chmod +x "$T/criu-fails-late"
	sed -i '/^CRIU=/d' "$T/vz.conf"
	echo "CRIU=$T/criu-fails-late" >>"$T/vz.conf"
}
