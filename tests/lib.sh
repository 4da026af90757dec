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
new_server() {
	local dir=$1 prefix=$2
	mkdir -p "$dir"/conf "$dir"/names "$dir"/template/cache
	for f in "$TEMPLATE_CACHE"/*.tar*; do
		[ -e "$f" ] && ln -s "$f" "$dir/template/cache/"
	done
	cp "$SRCDIR"/etc/ve-*.conf-sample "$dir/conf/"
	cat >"$dir/vz.conf" <<CONF
# test server $dir
LOCKDIR=$dir/lock
DUMPDIR=$dir/dump
TEMPLATE=$dir/template
VE_ROOT=$dir/root/\$VEID
VE_PRIVATE=$dir/private/\$VEID
LOGGING=yes
LOGFILE=$dir/vzctl.log
CONFIGFILE="basic"
DEF_OSTEMPLATE="busybox-x86_64"
VE_LAYOUT=simfs
RUNDIR=$dir/run
CGROUP_PREFIX=$prefix
STOP_TIMEOUT=20
CONF
}

# Stop and remove everything a server holds; report what could not go.
teardown_server() {
	local dir=$1 prefix=$2 f id
	for f in "$dir"/conf/*.conf; do
		[ -e "$f" ] || continue
		id=$(basename "$f" .conf)
		VZ_CONF=$dir/vz.conf timeout 60 "$VZCTL" --quiet --skiplock stop "$id" --fast >/dev/null 2>&1
		VZ_CONF=$dir/vz.conf timeout 30 "$VZCTL" --quiet --skiplock umount "$id" >/dev/null 2>&1
	done
	# Any mount left below the server root (a failed test's), deepest first.
	awk -v d="$dir" '$2 ~ "^"d {print $2}' /proc/self/mounts | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	for c in /sys/fs/cgroup/*/"$prefix" /sys/fs/cgroup/"$prefix"; do
		[ -d "$c" ] || continue
		find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf "$dir"
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

# Pid of the CT's init / monitor from the runtime state.
state_pid() { sed -n "s/^$2=\"\\([0-9]*\\)\"/\\1/p" "$T/run/$1/state"; }
