#!/usr/bin/env bash
# nvz side by side with crun and LXC, same machine, same run, same rootfs
# (the busybox and Debian 12 template tarballs), networking off.
# Writes bench/RESULTS.md. Usage (root): bench/run.sh; BENCH_QUICK=1 for a
# short run. Needs hyperfine, lxc, crun (installed with apt-get if missing).
# Never part of the test suite's pass/fail: timings are reported, not asserted.
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
VZCTL=$BUILD/vzctl
QUICK=${BENCH_QUICK:-}
TEMPLATES=${TEMPLATE_CACHE:-/var/cache/nvz-test/templates}
RESULTS=${BENCH_RESULTS:-$SRCDIR/bench/RESULTS.md}
NCT=${BENCH_NCT:-50}
RUNS=${BENCH_RUNS:-30}
[ -n "$QUICK" ] && RUNS=${BENCH_RUNS:-8} NCT=${BENCH_NCT:-10}

die() { echo "bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"

# Orphans (nvz monitors, LXC monitors, crun's detached inits) need a reaper.
if [ -z "${NVZ_BENCH_REAPER:-}" ]; then
	export NVZ_BENCH_REAPER=1
	make -s -C "$SRCDIR" -j2 all || die "build failed"
	exec "$BUILD/tests/subreaper" bash "$0" "$@"
fi

missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v lxc-start >/dev/null || missing+=(lxc)
command -v crun >/dev/null || missing+=(crun)
command -v jq >/dev/null || missing+=(jq)
if [ ${#missing[@]} -gt 0 ]; then
	echo "# installing ${missing[*]}"
	apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]}"
fi
for t in busybox-x86_64 debian-12-x86_64-minbase; do
	[ -e "$TEMPLATES/$t.tar.gz" ] || die "no template $TEMPLATES/$t.tar.gz (tests/run.sh builds them)"
done

# Everything lives under one temp dir and one unique name; trap cleans up.
W=$(mktemp -d /tmp/nvz-bench.XXXXXX)
TAG=nvzb$$
export W TAG
OUT=$W/out
mkdir -p "$OUT" "$W/bin" "$W/lxc" "$W/crun" "$W/rootfs"
cc -O2 -Wall -Wextra -Werror -o "$W/bin/floor" "$SRCDIR/bench/floor.c" || die "build floor"
cc -O2 -static -Wall -Wextra -Werror -o "$W/bin/execwait" "$SRCDIR/bench/execwait.c" || die "build execwait"
cc -O2 -Wall -Wextra -Werror -o "$W/bin/sdwait" "$SRCDIR/bench/sdwait.c" || die "build sdwait"
cc -O2 -static -Wall -Wextra -Werror -o "$W/bin/ptyhold" "$SRCDIR/bench/ptyhold.c" || die "build ptyhold"
FLOOR=$W/bin/floor
SDWAIT=$W/bin/sdwait
EXECWAIT=$W/bin/execwait
. "$SRCDIR/bench/lib.sh"
# LXC leaves an empty lxc.pivot cgroup in each hierarchy it used: the
# cleanup removes those this run made.
LXC_PIVOTS_BEFORE=$(ls -d /sys/fs/cgroup/lxc.pivot /sys/fs/cgroup/*/lxc.pivot 2>/dev/null)
trap cleanup_all EXIT
trap 'exit 130' INT TERM
run_tmpfs "$NV/run" "$CRUNR"

{
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel=$(uname -r)"
	echo "cpus=$(nproc)"
	echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "nvz=$(git -C "$SRCDIR" describe --always --dirty 2>/dev/null)"
	echo "crun=$(crun --version | head -1)"
	echo "lxc=$(lxc-start --version)"
	echo "hyperfine=$(hyperfine --version)"
	echo "runs=$RUNS"
	echo "nct=$NCT"
	echo "quick=${QUICK:-0}"
} >"$OUT/meta"

echo "# preparing rootfs copies and configurations in $W"
setup_nvz
setup_rootfs
setup_lxc
setup_crun

# BENCH_ONLY="life create debian many": a subset (for debugging the bench).
want() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }
want life && { echo "# busybox: floor, start (tools round by round), exec, stop"; bench_busybox_life; }
want create && { echo "# create / destroy"; bench_create; }
want debian && { echo "# Debian 12 systemd"; bench_debian; }
want many && { echo "# $NCT containers started one after another, memory per CT"; bench_many; }
if [ -n "${BENCH_BEFORE:-}" ]; then
	echo "# before/after: $BENCH_BEFORE vs $BUILD"
	echo "before=$(cat "$BENCH_BEFORE/../.bench-version" 2>/dev/null || echo "$BENCH_BEFORE")" >>"$OUT/meta"
	bench_before_after
fi

echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta"
# Freeze time of checkpoint + restore (bench/cpt.sh, its own section of
# RESULTS.md, spliced in after report.py below): BENCH_ONLY=cpt for it alone.
want cpt && RUN_CPT=1
[ -n "${BENCH_KEEP_RAW:-}" ] && rm -rf "$BENCH_KEEP_RAW" && cp -r "$OUT" "$BENCH_KEEP_RAW"
python3 "$SRCDIR/bench/report.py" "$OUT" >"$RESULTS.tmp" && mv "$RESULTS.tmp" "$RESULTS" ||
	die "report failed (raw data in $OUT)"
echo "# wrote $RESULTS"
if [ -n "${RUN_CPT:-}" ]; then
	echo "# checkpoint + restore freeze time"
	bash "$SRCDIR/bench/cpt.sh" || echo "bench: bench/cpt.sh failed" >&2
fi
