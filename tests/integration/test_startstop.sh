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

# A VZ_CONF relative to the admin's directory: the hub (in /) and the
# commands it runs read the same file, so the start neither fails nor
# falls back to a monitor of its own.
t_start_relative_vz_conf() {
	"$VZCTL" --quiet create 175 --ostemplate busybox-x86_64 || fail "create"
	local hub
	(cd "$T" && VZ_CONF=./vz.conf "$VZCTL" --quiet start 175) || fail "start with VZ_CONF=./vz.conf"
	hub=$(cat "$T/run/hub.pid") || fail "no hub"
	grep -qx "MONITOR_PID=\"$hub\"" "$T/run/175/state" || fail "not served by the hub: $(cat "$T/run/175/state")"
	(cd "$T/conf" && VZ_CONF=../vz.conf "$VZCTL" --quiet exec3 175 /bin/true) || fail "exec with VZ_CONF=../vz.conf"
	(cd "$T" && VZ_CONF=vz.conf "$VZCTL" --quiet stop 175) || fail "stop with VZ_CONF=vz.conf"
	expect_rc 0 "$VZCTL" status 175
	[ "$OUT" = "CTID 175 exist unmounted down" ] || fail "status: $OUT"
}

# start_fails ID REGEX: vzctl start fails saying why, and the CT is left
# down, unmounted, without its cgroup.
start_fails() {
	OUT=$(timeout 30 "$VZCTL" start "$1" 2>&1)
	local rc=$?
	# >= 128: vzctl died by a signal (SIGPIPE from a monitor already gone).
	[ "$rc" -ne 0 ] && [ "$rc" -lt 124 ] || fail "start exited $rc: $OUT"
	expect_out "$2"
	expect_rc 0 "$VZCTL" status "$1"
	[ "$OUT" = "CTID $1 exist unmounted down" ] || fail "status: $OUT"
	[ ! -d "$(cgdir memory "$1")" ] || fail "cgroup left behind"
}

# init fails in its first mounts, before the monitor told it that it is in
# its cgroup: start still reports why, and leaves nothing behind.
t_start_early_mount_failure() {
	"$VZCTL" --quiet create 171 --ostemplate busybox-x86_64 || fail "create"
	rm -rf "$T/private/171/proc" && : >"$T/private/171/proc"
	start_fails 171 "/proc' in container is not a directory"
}

# A limit the kernel refuses when the start writes it (a CPUMASK edited
# into the file by hand, for CPUs this host does not have): start fails
# saying so and leaves nothing behind, again and again. The limits are
# written after the launcher thread was told to go, and a start that failed
# there once freed the CT's config and cgroup while the launcher still used
# them (a use-after-free the sanitizer lane reports).
t_start_refused_limit_leaves_nothing() {
	"$VZCTL" --quiet create 174 --ostemplate busybox-x86_64 || fail "create"
	local cpus hub i
	cpus=$(getconf _NPROCESSORS_CONF)
	echo "CPUMASK=\"$((cpus + 64))\"" >>"$T/conf/174.conf"
	for i in 1 2 3 4 5 6 7 8; do
		start_fails 174 "CPU $((cpus + 64)) is not online"
		[ ! -e "$T/run/174/state" ] || fail "state left behind"
	done
	# The hub that served these starts still serves a good one.
	sed -i '/^CPUMASK=/d' "$T/conf/174.conf"
	expect_rc 0 "$VZCTL" --quiet start 174
	hub=$(state_pid 174 MONITOR_PID)
	[ -n "$hub" ] && [ -e "/proc/$hub" ] || fail "no hub"
	expect_rc 0 "$VZCTL" --quiet stop 174 --fast
}

# A CT without /sbin/init: start fails with OpenVZ's message and leaves no
# state, cgroup or mount behind (whether or not init was launched already:
# branch start4 launched it before the check), and starts once init is back.
t_start_without_init_after_launch() {
	"$VZCTL" --quiet create 173 --ostemplate busybox-x86_64 || fail "create"
	rm -f "$T/private/173/sbin/init" || fail "rm init"
	start_fails 173 "Unable to start init, probably incorrect template"
	[ ! -e "$T/run/173/state" ] || fail "state left behind"
	# And the CT starts once init is back.
	ln -s ../bin/busybox "$T/private/173/sbin/init" || fail "restore init"
	expect_rc 0 "$VZCTL" --quiet start 173
	expect_rc 0 "$VZCTL" --quiet stop 173 --fast
}

# init starts with every signal at its default and none blocked, as the
# kernel starts a machine's init. It was exec'd with the hub's state:
# SIGCHLD and SIGTERM blocked (its signalfd), SIGPIPE and SIGHUP ignored,
# which sysvinit keeps (t_debian_sysvinit_boot) and busybox init passed
# on to every process it started. An init script records what it got.
t_start_init_signals() {
	"$VZCTL" --quiet create 174 --ostemplate busybox-x86_64 || fail "create"
	rm -f "$T/private/174/sbin/init" || fail "rm init"
	printf '#!/bin/sh\ngrep -E "^Sig(Blk|Ign)" /proc/self/status >/init-signals\nexec /bin/busybox init\n' \
		>"$T/private/174/sbin/init" && chmod 755 "$T/private/174/sbin/init" || fail "init script"
	expect_rc 0 "$VZCTL" --quiet start 174
	wait_for 100 test -s "$T/private/174/init-signals" || fail "the init script did not run"
	[ "$(cat "$T/private/174/init-signals")" = "$(printf 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000')" ] ||
		fail "init's signals: $(cat "$T/private/174/init-signals")"
	expect_rc 0 "$VZCTL" --quiet stop 174 --fast
}

# init is born in the CT's cgroups (the monitor's launcher enters the v1
# ones, init comes from clone3 CLONE_INTO_CGROUP for the cgroup2 one): it
# is never moved, it is the monitor's child, and the launcher is gone.
t_start_init_born_in_cgroups() {
	"$VZCTL" --quiet create 172 --ostemplate busybox-x86_64 || fail "create"
	expect_rc 0 "$VZCTL" --quiet start 172
	local init mon line
	init=$(state_pid 172 INIT_PID) mon=$(state_pid 172 MONITOR_PID)
	# The start's monitor, then (once it handed the CT over) the hub.
	wait_for 50 eval '[ "$(awk '"'"'{print $4}'"'"' /proc/'"$init"'/stat)" = '"$mon"' ]' ||
		fail "init's parent is not the hub"
	while IFS= read -r line; do
		case $line in *":/$CGROUP_PREFIX/172") ;; *) fail "init outside its cgroup: $line" ;; esac
	done <"/proc/$init/cgroup"
	[ "$(cat "$(cgdir pids 172)/cgroup.procs")" = "$init" ] ||
		fail "not init alone in the cgroup: $(cat "$(cgdir pids 172)/cgroup.procs")"
	# What vzctl exec runs is in every hierarchy of the CT's cgroup too
	# (moved by itself into v1's, born in v2's).
	expect_rc 0 "$VZCTL" exec 172 'sleep 30 >/dev/null 2>&1 &'
	local p sleeper=""
	for p in $(cat "$(cgdir pids 172)/cgroup.procs"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && sleeper=$p
	done
	[ -n "$sleeper" ] || fail "the exec'd process is not in the CT's pids cgroup"
	while IFS= read -r line; do
		case $line in *":/$CGROUP_PREFIX/172") ;; *) fail "exec'd process outside the CT's cgroup: $line" ;; esac
	done <"/proc/$sleeper/cgroup"
	expect_rc 0 "$VZCTL" --quiet stop 172 --fast
}

# init's /dev and /sys are the CT's own instances, made in its namespaces,
# with the options the CT expects (no host links, fusectl or queues).
t_start_dev_sys_are_the_cts() {
	"$VZCTL" --quiet create 173 --ostemplate busybox-x86_64 || fail "create"
	expect_rc 0 "$VZCTL" --quiet start 173
	# sysfs of the CT's network namespace: its lo only, never the host's links.
	expect_rc 0 "$VZCTL" exec3 173 ls /sys/class/net
	[ "$OUT" = lo ] || fail "/sys/class/net inside: $OUT"
	expect_rc 0 "$VZCTL" exec3 173 cat /proc/self/mountinfo
	local mi=$OUT
	echo "$mi" | grep -q ' /sys ro,nosuid,nodev,noexec[^ ]* .*- sysfs sysfs ro' || fail "/sys: $mi"
	echo "$mi" | grep -q ' /dev rw,nosuid,noexec[^ ]* .*- tmpfs tmpfs rw,size=65536k,mode=755' ||
		fail "/dev: $mi"
	echo "$mi" | grep -q ' /dev/pts rw,nosuid,noexec[^ ]* .*- devpts devpts rw,gid=5,mode=620,ptmxmode=666' ||
		fail "/dev/pts: $mi"
	echo "$mi" | grep -q ' /dev/shm rw,nosuid,nodev[^ ]* .*- tmpfs shm rw,size=65536k' || fail "/dev/shm: $mi"
	echo "$mi" | grep -q ' /dev/mqueue rw,nosuid,nodev,noexec[^ ]* .*- mqueue mqueue' || fail "/dev/mqueue: $mi"
	if [ -d /sys/fs/fuse/connections ]; then
		expect_rc 0 "$VZCTL" exec3 173 ls -A /sys/fs/fuse/connections
		[ -z "$OUT" ] || fail "the host's fusectl inside: $OUT"
		expect_rc 1 "$VZCTL" exec3 173 touch /sys/fs/fuse/connections/x
	fi
	# The masks over directories (/proc/acpi, fusectl) are read-only binds
	# of empty directories of the CT's /dev, each its own: a mount each,
	# no file system of their own.
	local dev_id masks
	dev_id=$(echo "$mi" | awk '$5 == "/dev" {print $3}')
	masks=$(echo "$mi" | awk '$5 == "/proc/acpi" || $5 == "/proc/scsi" || $5 == "/sys/fs/fuse/connections"')
	[ -z "$masks" ] && [ -d /sys/fs/fuse/connections ] && fail "no masks: $mi"
	echo "$masks" | awk -v d="$dev_id" 'NF && ($3 != d || $4 !~ /^\/\.nvz-empty\/[0-9]+$/ || $6 !~ /^ro,/) {bad = 1} END {exit bad}' ||
		fail "masks not binds of /dev ($dev_id): $masks"
	[ "$(echo "$masks" | awk 'NF {print $4}' | sort -u | wc -l)" = "$(echo "$masks" | awk 'NF' | wc -l)" ] ||
		fail "masks share a directory: $masks"
	expect_rc 0 "$VZCTL" exec3 173 sh -c 'echo x >/dev/null && ls -ln /dev/null /dev/zero /dev/tty && readlink /dev/ptmx'
	echo "$OUT" | grep -q '^crw-rw-rw- .* 1, *3 .*/dev/null$' || fail "/dev/null: $OUT"
	echo "$OUT" | grep -q '^pts/ptmx$' || fail "/dev/ptmx: $OUT"
	# A queue made inside lives in the CT's ipc namespace, not the host's.
	expect_rc 0 "$VZCTL" exec3 173 sh -c ': >/dev/mqueue/nvz-t173 && ls /dev/mqueue'
	[ "$OUT" = nvz-t173 ] || fail "/dev/mqueue inside: $OUT"
	OUT=$(unshare -m sh -c 'mount -t mqueue none /mnt && ls /mnt' 2>&1) || fail "host mqueue: $OUT"
	case $OUT in *nvz-t173*) fail "the CT's queue is in the host's ipc namespace" ;; esac
	expect_rc 0 "$VZCTL" --quiet stop 173 --fast
}

# A server whose cgroup prefix leaves the hierarchy: a start is refused
# with the reason, whether the hub (that runs for 178) or a monitor of
# vzctl's own (no hub) opens the CT's cgroup, and nothing of it stays.
t_start_bad_cgroup_prefix_said() {
	local id hub rc
	for id in 177 178; do
		"$VZCTL" --quiet create $id --ostemplate busybox-x86_64 || fail "create $id"
	done
	expect_rc 0 "$VZCTL" --quiet start 178
	cp "$T/vz.conf" "$T/vz.conf.good"
	for hub in yes no; do
		sed -i 's/^CGROUP_PREFIX=.*/CGROUP_PREFIX="..\/escape"/' "$T/vz.conf"
		echo "MONITOR_HUB=\"$hub\"" >>"$T/vz.conf"
		OUT=$("$VZCTL" start 177 2>&1)
		rc=$?
		cp "$T/vz.conf.good" "$T/vz.conf"
		[ "$rc" -ne 0 ] || fail "started with a prefix outside the hierarchy (hub: $hub)"
		expect_out "invalid cgroup prefix '\.\./escape'"
		expect_rc 0 "$VZCTL" status 177
		[ "$OUT" = "CTID 177 exist unmounted down" ] || fail "after the refusal (hub: $hub): $OUT"
	done
	rm -f "$T/vz.conf.good"
	expect_rc 0 "$VZCTL" --quiet stop 178 --fast
}
