#!/usr/bin/env bash
# Freeze time of checkpoint + restore: nvz (vzctl chkpnt + restore on one
# server), LXC (lxc-checkpoint -s, then -r) and plain criu (dump + restore of
# a pid-namespace tree in the same rootfs), for a busybox CT and for one with
# 256 MB of touched anonymous memory. The freeze window is measured inside
# the container by bench/gap.c (the longest step of CLOCK_REALTIME it saw),
# criu's own stats files give its frozen/restore times, the commands' wall
# times are kept too. Writes bench/CPT.md and puts it into bench/RESULTS.md
# between the cpt markers (the rest of RESULTS.md is kept).
# Usage (root): bench/cpt.sh; CPT_RUNS=N (default 10), CPT_MB="0 256",
# CPT_WHO="nvz lxc plain" (a subset while working on one of them),
# CPT_BEFORE=DIR: also an older nvz build (its build dir), same CT, same run;
# CPT_MIGRATE=0: without the vzmigrate --online downtime (bench/migrate.sh).
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
VZCTL=$BUILD/vzctl
TEMPLATES=${TEMPLATE_CACHE:-/var/cache/nvz-test/templates}
RESULTS=${BENCH_RESULTS:-$SRCDIR/bench/RESULTS.md}
CRIU=${CRIU:-/opt/nvz/criu/criu}
RUNS=${CPT_RUNS:-10}
[ -n "${BENCH_QUICK:-}" ] && RUNS=${CPT_RUNS:-4}
SIZES=${CPT_MB:-0 256}

die() { echo "bench/cpt: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
if [ -z "${NVZ_BENCH_REAPER:-}" ]; then
	export NVZ_BENCH_REAPER=1
	make -s -C "$SRCDIR" -j2 all || die "build failed"
	exec "$BUILD/tests/subreaper" bash "$0" "$@"
fi
command -v lxc-checkpoint >/dev/null || apt-get install -y --no-install-recommends lxc >/dev/null ||
	die "apt-get install lxc"
command -v jq >/dev/null || apt-get install -y --no-install-recommends jq >/dev/null || die "apt-get install jq"
[ -x "$CRIU" ] || die "no criu at $CRIU (scripts/install-criu)"
BB_TAR=$TEMPLATES/busybox-x86_64.tar.gz
[ -e "$BB_TAR" ] || die "no template $BB_TAR (tests/run.sh builds it)"

W=$(mktemp -d /tmp/nvz-cpt.XXXXXX)
TAG=nvzc$$
OUT=$W/out
NV=$W/nvz
LXCP=$W/lxc
mkdir -p "$OUT/stats" "$W/bin" "$LXCP" "$W/plain"
cc -O2 -static -Wall -Wextra -Werror -o "$W/bin/gap" "$SRCDIR/bench/gap.c" || die "build gap"
# LXC runs "criu" from PATH: the same binary as nvz.
ln -s "$CRIU" "$W/bin/criu"
export PATH=$W/bin:$PATH
# LXC asks criu for iptables' network lock; this host has nftables only
# (nvz passes --network-lock nftables itself). criu reads this file.
echo "network-lock nftables" >"$W/criu-lxc.conf"

# q, put, now_ns, secs and setup_nvz (its server root) come from bench/lib.sh;
# this script's own setup_lxc and cleanup below replace run.sh's.
. "$SRCDIR/bench/lib.sh"

cleanup() {
	set +e
	[ -n "${PLAIN_PID:-}" ] && kill -9 "$PLAIN_PID" 2>/dev/null
	[ -n "${NC_MON:-}" ] && kill -CONT "$NC_MON" 2>/dev/null
	local id
	for id in 101 102 103 104; do
		VZ_CONF=$NV/vz.conf timeout 60 "$VZCTL" --quiet --skiplock stop $id --fast >/dev/null 2>&1
		VZ_CONF=$NV/vz.conf timeout 60 "$VZCTL" --quiet --skiplock destroy $id >/dev/null 2>&1
	done
	lxc-stop -P "$LXCP" -n "${TAG}bb" -k >/dev/null 2>&1
	lxc-destroy -P "$LXCP" -n "${TAG}bb" >/dev/null 2>&1
	awk -v d="$W" '$2 ~ "^"d {print $2}' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
	for c in /sys/fs/cgroup/*/"$TAG"* /sys/fs/cgroup/*/lxc.*"$TAG"* /sys/fs/cgroup/"$TAG"* /sys/fs/cgroup/lxc.*"$TAG"*; do
		[ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_log FILE N: until FILE (gap's log) has N lines; 20 s at most.
wait_log() {
	local i
	for ((i = 0; i < 2000; i++)); do
		[ -e "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
		sleep 0.01
	done
	echo "bench/cpt: $1: no line $2" >&2
	return 1
}
# The freeze (s): the longest gap the probe logged from line N on, once the
# restored probe wrote one. Under load it may also log a scheduling gap
# before the freeze (seen: 25 and 89 ms in a 256 MB cycle): the longest one
# after a short wait is the freeze, not the first or the last.
last_gap() {
	wait_log "$1" "$2" || { echo ""; return; }
	sleep 0.05
	awk -v n="$2" 'NR >= n && /^gap/ && $2 > g {g = $2} END { if (g) printf "%.6f", g / 1e9 }' "$1"
}

# --- nvz: one server root of its own (bench/lib.sh), simfs busybox CTs
# without network: 101 for this build (restore --no-lazy), 104 for it with
# restore --lazy (post-copy), 102 for CPT_BEFORE's, 103 for the plain criu
# row on nvz's tree.
setup_nvz_cpt() {
	setup_nvz "CRIU=$CRIU" "STOP_TIMEOUT=20"
	local id
	for id in 101 ${CPT_BEFORE:+102} 103 104; do
		"$VZCTL" --quiet create "$id" --ostemplate busybox-x86_64 --layout simfs || die "nvz create $id"
	done
}

# rec WHO MB T0 T1 T2 LOG N: one cycle's figures (probe gap, dump and
# restore command times), appended to $OUT/raw/WHO-MB-{gap,dumpcmd,restorecmd}.
rec() {
	local f=$OUT/raw/$1-$2
	{ last_gap "$6" "$7"; echo; } >>"$f-gap"
	{ secs "$3" "$4"; echo; } >>"$f-dumpcmd"
	{ secs "$4" "$5"; echo; } >>"$f-restorecmd"
}
finish() { # WHO MB: the JSON files of report.py
	local k
	for k in gap dumpcmd restorecmd; do
		# shellcheck disable=SC2046
		put "$1-$2-$k" $(grep . "$OUT/raw/$1-$2-$k")
	done
}

# nvz: CT 101 for this build, 104 for it with post-copy, 102 for CPT_BEFORE's.
nvz_ct() { case $1 in nvz) echo 101 ;; nvzlazy) echo 104 ;; *) echo 102 ;; esac; }
nvz_bin() { [ "$1" = nvzbefore ] && echo "$CPT_BEFORE/vzctl" || echo "$VZCTL"; }
# How each row restores: both ways of this build named (the goal line of
# bench/report.py says which one is the default for the size), the before
# build as it does by default (it has no post-copy restore).
nvz_ropt() { case $1 in nvz) echo --no-lazy ;; nvzlazy) echo --lazy ;; esac; }
start_nvz() { # WHO MB
	local id v log
	id=$(nvz_ct "$1") v=$(nvz_bin "$1") log=$NV/root/$id/gap.log
	"$v" --quiet start "$id" || die "nvz start $id"
	cp "$W/bin/gap" "$NV/root/$id/gap" && rm -f "$log"
	"$v" exec3 "$id" /gap "$2" /gap.log -d || die "nvz exec gap"
	wait_log "$log" 1 || die "nvz: gap not ready"
}
cycle_nvz() { # WHO MB I
	local id v log t0 t1 t2 n
	id=$(nvz_ct "$1") v=$(nvz_bin "$1") log=$NV/root/$id/gap.log
	n=$(($(wc -l <"$log") + 1))
	t0=$(now_ns)
	"$v" --quiet chkpnt "$id" || die "nvz chkpnt $id"
	t1=$(now_ns)
	cp "$NV/dump/Dump.$id/stats-dump" "$OUT/stats/$1-$2-$3.dump"
	# shellcheck disable=SC2046
	"$v" --quiet restore "$id" $(nvz_ropt "$1") || die "nvz restore $id"
	t2=$(now_ns)
	cp "$NV/run/$id/stats-restore" "$OUT/stats/$1-$2-$3.restore"
	# chkpnt unmounted and restore mounted the root again: same file.
	rec "$1" "$2" "$t0" "$t1" "$t2" "$log" "$n"
}
stop_nvz() { "$(nvz_bin "$1")" --quiet stop "$(nvz_ct "$1")" --fast; }

# --- plain criu on nvz's own tree: CT 103, started by nvz, then its monitor
# stopped (SIGSTOP: it neither reaps nor cleans up) while criu alone dumps
# and restores the same namespaces and mounts, with only the options criu
# needs for that tree: the root, the cgroup yard (--manage-cgroups, the
# freezer), the externals nvz passes (console tty, FUSE and /dev/null binds,
# the empty /proc masks; mapped to /dev/null and an empty directory at
# restore). nvz / this row = what nvz adds around criu.
NC=103
nc_state() { sed -n "s/^$1=\"\([0-9]*\)\"/\1/p" "$NV/run/$NC/state"; }
start_nvzcriu() { # WHO MB
	local log=$NV/root/$NC/gap.log rdev minor
	# A monitor of its own, stopped below: the server's hub serves the
	# other rows' CTs meanwhile.
	grep -q '^MONITOR_HUB=' "$NV/conf/$NC.conf" || echo 'MONITOR_HUB="no"' >>"$NV/conf/$NC.conf"
	"$VZCTL" --quiet start $NC || die "nvz start $NC"
	cp "$W/bin/gap" "$NV/root/$NC/gap" && rm -f "$log"
	"$VZCTL" exec3 $NC /gap "$2" /gap.log -d || die "nvz exec gap"
	wait_log "$log" 1 || die "nvzcriu: gap not ready"
	NC_INIT=$(nc_state INIT_PID) NC_MON=$(nc_state MONITOR_PID)
	if [ -z "$NC_INIT" ] || [ -z "$NC_MON" ]; then die "nvzcriu: no state"; fi
	kill -STOP "$NC_MON"
	mkdir -p "$W/nc-empty" && chmod 555 "$W/nc-empty"
	# The console: criu names it tty[rdev:dev]; the restore gets the same
	# pty slave (the stopped monitor keeps its master open).
	read -r NC_TTY rdev < <(python3 -c 'import os,sys; s=os.stat(sys.argv[1]); print("tty[%x:%x] %d" % (s.st_rdev, s.st_dev, s.st_rdev))' "/proc/$NC_INIT/root/dev/console")
	minor=$(python3 -c 'import os,sys; print(os.minor(int(sys.argv[1])))' "$rdev")
	NC_PTS=/dev/pts/$minor
	[ -c "$NC_PTS" ] || die "nvzcriu: no $NC_PTS"
	# The same external mounts as lib/cpt/criu.c add_externals.
	NC_DUMPX=() NC_RESTX=()
	local mnt key src
	while read -r mnt key src; do
		NC_DUMPX+=(--external "mnt[$mnt]:$key") NC_RESTX+=(--external "mnt[$key]:$src")
	done < <(awk -v e="$W/nc-empty" '{
		split($0, p, " - "); split(p[2], f, " "); r = $4; m = $5
		if (f[1] == "fuse.nvz-bc") print m, "nvz-bcfs", "/dev/null"
		else if (m == "/dev/console") print m, "nvz-console", "/dev/null"
		else if (f[1] == "devtmpfs" && r == "/null") print m, "nvz-devnull", "/dev/null"
		else if (m == "/proc/acpi" || m == "/proc/scsi") print m, "nvz-empty:" m, e
	}' "/proc/$NC_INIT/mountinfo")
}
cycle_nvzcriu() { # WHO MB I
	local dir=$W/nc-dump log=$NV/root/$NC/gap.log t0 t1 t2 n
	n=$(($(wc -l <"$log") + 1))
	rm -rf "$dir" && mkdir -p "$dir"
	t0=$(now_ns)
	"$CRIU" dump -t "$NC_INIT" -D "$dir" -o dump.log --root "$NV/root/$NC" --manage-cgroups \
		--freeze-cgroup "/sys/fs/cgroup/freezer/$TAG/$NC" --network-lock skip \
		--external "$NC_TTY" "${NC_DUMPX[@]}" || die "criu dump (nvz tree): $(grep -m3 Error "$dir/dump.log")"
	t1=$(now_ns)
	cp "$dir/stats-dump" "$OUT/stats/nvzcriu-$2-$3.dump"
	"$CRIU" restore -d -D "$dir" -o restore.log --root "$NV/root/$NC" --manage-cgroups \
		--pidfile "$dir/pid" --inherit-fd "fd[9]:$NC_TTY" "${NC_RESTX[@]}" 9<>"$NC_PTS" ||
		die "criu restore (nvz tree): $(grep -m3 Error "$dir/restore.log")"
	t2=$(now_ns)
	cp "$dir/stats-restore" "$OUT/stats/nvzcriu-$2-$3.restore"
	NC_INIT=$(cat "$dir/pid")
	rec nvzcriu "$2" "$t0" "$t1" "$t2" "$log" "$n"
}
stop_nvzcriu() {
	local k
	kill -9 "$NC_INIT" 2>/dev/null
	for ((k = 0; k < 100; k++)); do [ -d "/proc/$NC_INIT" ] || break; sleep 0.02; done
	kill -CONT "$NC_MON"
	"$VZCTL" --quiet stop $NC --fast >/dev/null 2>&1
}

# --- LXC: Debian's default configuration (common.conf), no network, no
# console and no ttys (LXC cannot checkpoint those).
setup_lxc() {
	cat >"$W/bin/lxc-tar" <<'EOF'
#!/bin/sh
rootfs= tarball=
while [ $# -gt 0 ]; do
	case $1 in
	--rootfs=*) rootfs=${1#*=} ;; --rootfs) rootfs=$2; shift ;;
	--tarball) tarball=$2; shift ;;
	esac
	shift
done
mkdir -p "$rootfs" && tar -xzpf "$tarball" --numeric-owner -C "$rootfs"
EOF
	chmod +x "$W/bin/lxc-tar"
	cat >"$W/lxc.conf" <<'EOF'
lxc.include = /usr/share/lxc/config/common.conf
lxc.net.0.type = empty
# What LXC's checkpoint needs (lxc-checkpoint(1)): no console, no ttys; and
# no apparmor profile (this kernel has no apparmor: criu restore refuses
# the one LXC would name).
lxc.console.path = none
lxc.tty.max = 0
EOF
	lxc-create -P "$LXCP" -n "${TAG}bb" -f "$W/lxc.conf" -t "$W/bin/lxc-tar" -- --tarball "$BB_TAR" \
		>"$OUT/lxc-setup.log" 2>&1 || die "lxc-create: $(tail -3 "$OUT/lxc-setup.log")"
	echo "lxc.signal.halt = SIGUSR2" >>"$LXCP/${TAG}bb/config"
}

LXC_LOG() { echo "$LXCP/${TAG}bb/rootfs/gap.log"; }
start_lxc() { # WHO MB
	local c=${TAG}bb log
	log=$(LXC_LOG)
	lxc-start -P "$LXCP" -n "$c" || die "lxc-start"
	cp "$W/bin/gap" "$LXCP/$c/rootfs/gap" && rm -f "$log"
	lxc-attach -P "$LXCP" -n "$c" -- /gap "$2" /gap.log -d || die "lxc-attach gap"
	wait_log "$log" 1 || die "lxc: gap not ready"
}
cycle_lxc() { # WHO MB I
	local c=${TAG}bb cp=$W/lxc-dump log t0 t1 t2 n
	log=$(LXC_LOG)
	n=$(($(wc -l <"$log") + 1))
	rm -rf "$cp"
	t0=$(now_ns)
	CRIU_CONFIG_FILE=$W/criu-lxc.conf lxc-checkpoint -P "$LXCP" -n "$c" -s -D "$cp" ||
		die "lxc-checkpoint -s: $(grep -m3 Error "$cp/dump.log")"
	t1=$(now_ns)
	cp "$cp/stats-dump" "$OUT/stats/lxc-$2-$3.dump" 2>/dev/null
	CRIU_CONFIG_FILE=$W/criu-lxc.conf lxc-checkpoint -P "$LXCP" -n "$c" -r -D "$cp" ||
		die "lxc-checkpoint -r: $(grep -m3 Error "$cp/restore.log")"
	t2=$(now_ns)
	cp "$cp/stats-restore" "$OUT/stats/lxc-$2-$3.restore" 2>/dev/null
	rec lxc "$2" "$t0" "$t1" "$t2" "$log" "$n"
}
stop_lxc() { q lxc-stop -P "$LXCP" -n "${TAG}bb" -k; }

# --- plain criu: `unshare --pid --fork` + chroot into the same busybox tree,
# sleep as the namespace's init (in its own session), the probe detached.
# No mount or network namespace: criu has only the pid namespace to carry.
setup_plain() {
	mkdir -p "$W/plain/root"
	tar -xzpf "$BB_TAR" --numeric-owner -C "$W/plain/root" || die "unpack busybox"
	cp "$W/bin/gap" "$W/plain/root/gap"
}

start_plain() { # WHO MB
	local log=$W/plain/root/gap.log
	rm -f "$log"
	setsid unshare --pid --fork chroot "$W/plain/root" /usr/bin/setsid /bin/sh -c \
		"/gap $2 /gap.log -d; exec sleep 1000000" </dev/null >/dev/null 2>&1 &
	PLAIN_UNSHARE=$!
	wait_log "$log" 1 || die "plain: gap not ready"
	PLAIN_PID=$(awk '{print $1}' "/proc/$PLAIN_UNSHARE/task/$PLAIN_UNSHARE/children" 2>/dev/null)
	[ -n "$PLAIN_PID" ] || die "plain: no namespace init"
}
cycle_plain() { # WHO MB I
	local dir=$W/plain/dump log=$W/plain/root/gap.log t0 t1 t2 n
	n=$(($(wc -l <"$log") + 1))
	rm -rf "$dir" && mkdir -p "$dir"
	t0=$(now_ns)
	"$CRIU" dump -t "$PLAIN_PID" -D "$dir" -o dump.log || die "criu dump: $(grep -m3 Error "$dir/dump.log")"
	t1=$(now_ns)
	cp "$dir/stats-dump" "$OUT/stats/plain-$2-$3.dump"
	"$CRIU" restore -d -D "$dir" -o restore.log --pidfile "$dir/pid" ||
		die "criu restore: $(grep -m3 Error "$dir/restore.log")"
	t2=$(now_ns)
	cp "$dir/stats-restore" "$OUT/stats/plain-$2-$3.restore"
	PLAIN_PID=$(cat "$dir/pid")
	rec plain "$2" "$t0" "$t1" "$t2" "$log" "$n"
}
stop_plain() {
	local k
	kill -9 "$PLAIN_PID" 2>/dev/null
	for ((k = 0; k < 100; k++)); do [ -d "/proc/$PLAIN_PID" ] || break; sleep 0.02; done
	PLAIN_PID=
	wait "$PLAIN_UNSHARE" 2>/dev/null
}

{
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel=$(uname -r)"
	echo "cpus=$(nproc)"
	echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "nvz=$(git -C "$SRCDIR" describe --always --dirty 2>/dev/null)"
	echo "criu=$("$CRIU" --version | head -1)"
	echo "lxc=$(lxc-start --version)"
	echo "runs=$RUNS"
	echo "sizes=$SIZES"
	[ -n "${CPT_BEFORE:-}" ] && echo "before=$(cat "$CPT_BEFORE/../.bench-version" 2>/dev/null || echo "$CPT_BEFORE")"
} >"$OUT/meta"

setup_nvz_cpt
setup_lxc
setup_plain
# Per size, all of them run at once and take turns cycle by cycle: the load
# of other engineers' tests drifts over minutes and must hit all alike.
WHO=${CPT_WHO:-nvz nvzlazy lxc nvzcriu plain}
[ -n "${CPT_BEFORE:-}" ] && WHO="$WHO nvzbefore"
mkdir -p "$OUT/raw"
fn() { case $1 in nvzbefore | nvzlazy) echo nvz ;; *) echo "$1" ;; esac; }
for mb in $SIZES; do
	echo "# $mb MB: $WHO, $RUNS cycles each, in turn"
	for who in $WHO; do "start_$(fn "$who")" "$who" "$mb"; done
	for ((i = 1; i <= RUNS; i++)); do
		for who in $WHO; do "cycle_$(fn "$who")" "$who" "$mb" "$i"; done
	done
	for who in $WHO; do
		"stop_$(fn "$who")" "$who"
		finish "$who" "$mb"
	done
done
# Online migration between two servers of this machine (the test rig).
if [ "${CPT_MIGRATE:-1}" = 1 ]; then
	echo "# vzmigrate --online downtime"
	bash "$SRCDIR/bench/migrate.sh" "$OUT/migrate.md" "${CPT_MIGRATE_RUNS:-6}" >"$OUT/migrate.log" 2>&1 ||
		echo "bench/cpt: bench/migrate.sh failed: $(tail -5 "$OUT/migrate.log")" >&2
fi
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta"
[ -n "${BENCH_KEEP_RAW:-}" ] && rm -rf "$BENCH_KEEP_RAW" && cp -r "$OUT" "$BENCH_KEEP_RAW"
python3 "$SRCDIR/bench/report.py" --cpt "$OUT" >"$SRCDIR/bench/CPT.md.tmp" ||
	die "report failed (raw data in $OUT)"
mv "$SRCDIR/bench/CPT.md.tmp" "$SRCDIR/bench/CPT.md"
python3 "$SRCDIR/bench/report.py" --splice "$RESULTS" "$SRCDIR/bench/CPT.md" || die "splice into $RESULTS"
echo "# wrote $SRCDIR/bench/CPT.md and its section of $RESULTS"
