#!/usr/bin/env bash
# Downtime of vzmigrate --online between two servers on this machine, on the
# rig of tests/integration/test_migrate.sh (network namespaces A and B with
# their own sshd and server roots): a busybox CT with a routed address goes
# A -> B -> A ... N times. Per migration: vzmigrate -t's "Total time CT was
# down" and the probe's longest stop (bench/gap.c in the CT). Then a CT
# with 256 MB (MIG_LAZY_MB) of touched memory, --online and --online --lazy
# (post-copy) in turn (MIG_LAZY=0: not). Prints markdown table rows, medians
# with min-max (bench/cpt.sh puts them into its section when CPT_MIGRATE=1).
# Usage (root, under a subreaper): bench/migrate.sh OUTFILE [RUNS]
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
export VZCTL=$BUILD/vzctl VZLIST=$BUILD/vzlist
TEMPLATE_CACHE=${TEMPLATE_CACHE:-/var/cache/nvz-test/templates}
OUTFILE=$1
RUNS=${2:-6}
# shellcheck disable=SC1091
. "$SRCDIR/tests/lib.sh"
# shellcheck disable=SC1091
. "$SRCDIR/tests/integration/test_migrate.sh"

T=$(mktemp -d /tmp/nvz-bmig.XXXXXX)
CGROUP_PREFIX=nvzbm$$
new_server "$T" "$CGROUP_PREFIX"
export T VZ_CONF=$T/vz.conf CGROUP_PREFIX
cc -O2 -static -o "$T/gap" "$SRCDIR/bench/gap.c" || exit 1
RAW=$(mktemp /tmp/nvz-bmig-raw.XXXXXX)
lines_ge() { [ -e "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }

# run ID MB MODE...: CT ID probed by gap with MB of touched memory; each
# MODE (online, lazy) in turn for a pair of migrations (A -> B, B -> A),
# RUNS migrations per mode, so the modes alternate in the same run.
run() {
	local id=$1 mb=$2
	shift 2
	local modes=("$@")
	rm -rf "$T/ssh" # keys of the previous run
	mig_setup
	mig_ct "$id"
	cp "$T/gap" "$T/root/$id/gap"
	ina "$VZCTL" exec3 "$id" /gap "$mb" /gap.log -d || fail "gap"
	wait_for 300 test -s "$T/root/$id/gap.log" || fail "gap not ready"
	local i from=a out down gap n log cpt sync rst mode opt
	for ((i = 1; i <= RUNS * ${#modes[@]}; i++)); do
		mode=${modes[$(((i - 1) / 2 % ${#modes[@]}))]}
		opt=--online
		[ "$mode" = lazy ] && opt=--lazy
		if [ $from = a ]; then
			log=$T/root/$id/gap.log
			n=$(($(wc -l <"$log") + 1))
			out=$(ina "$VZMIGRATE" --ssh="$SSHOPTS" $opt -t $MIG_B "$id" 2>&1) || fail "A->B: $out"
			log=$T/b/root/$id/gap.log from=b
		else
			log=$T/b/root/$id/gap.log
			n=$(($(wc -l <"$log") + 1))
			out=$(inb env VZ_CONF="$BCONF" "$VZMIGRATE" --ssh="$SSHOPTS" $opt -t $MIG_A "$id" 2>&1) ||
				fail "B->A: $out"
			log=$T/root/$id/gap.log from=a
		fi
		down=$(printf '%s\n' "$out" | sed -n 's/.*Total time CT was down: *\([0-9.]*\) s.*/\1/p')
		cpt=$(printf '%s\n' "$out" | sed -n 's/.*Stopping or checkpoint: *\([0-9.]*\) s.*/\1/p')
		sync=$(printf '%s\n' "$out" | sed -n 's/.*Final sync: *\([0-9.]*\) s.*/\1/p')
		rst=$(printf '%s\n' "$out" | sed -n 's/.*Start or restore there: *\([0-9.]*\) s.*/\1/p')
		wait_for 300 lines_ge "$log" "$n" || fail "no gap line after migration $i"
		# The longest stop since the migration began: with --lazy the
		# probe may also wait a little for a page after the restore.
		gap=$(awk -v n="$n" 'NR >= n && /^gap/ && $2 > g {g = $2} END { printf "%.3f", g / 1e9 }' "$log")
		echo "$mode $mb $down $gap $cpt $sync $rst" >>"$RAW"
	done
	# Its address is the next CT's: gone from whichever server has it.
	if [ $from = a ]; then
		ina "$VZCTL" --quiet stop "$id" --fast && ina "$VZCTL" --quiet destroy "$id"
	else
		vzb --quiet stop "$id" --fast && vzb --quiet destroy "$id"
	fi
}
# Post-copy without CAP_SYS_RESOURCE needs 4 MiB pipes (lib/cpt/lazy.c).
PIPE_OLD=$(cat /proc/sys/fs/pipe-max-size)
(run 2114 0 online) && { [ "${MIG_LAZY:-1}" = 0 ] || {
	[ "$PIPE_OLD" -ge 4194304 ] || sysctl -qw fs.pipe-max-size=4194304
	(run 2124 "${MIG_LAZY_MB:-256}" online lazy)
}; }
rc=$?
sysctl -qw fs.pipe-max-size="$PIPE_OLD"
teardown_server "$T" "$CGROUP_PREFIX"
if [ $rc -eq 0 ]; then
	awk 'function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
		if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
	function mm(a, n,   i, lo, hi) { lo = hi = a[1]; for (i = 2; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
		return sprintf(" (%.0f-%.0f)", lo * 1000, hi * 1000) }
	{ key = $1 " " $2; if (!(key in cnt)) order[++nk] = key; c = ++cnt[key]
	  for (k = 3; k <= 7; k++) v[key, k, c] = $k }
	END { for (q = 1; q <= nk; q++) { key = order[q]; split(key, kk, " "); n = cnt[key]
		for (k = 3; k <= 7; k++) { for (i = 1; i <= n; i++) a[i] = v[key, k, i]; m[k] = med(a, n) * 1000; r[k] = mm(a, n) }
		what = kk[2] == 0 ? "busybox CT with a routed address" : "CT with " kk[2] " MB touched (probe)"
		printf "| vzmigrate %s -t, %s, A -> B -> A (%d migrations) | %.0f%s | %.0f%s | %.0f | %.0f | %.0f |\n",
			kk[1] == "lazy" ? "--online --lazy" : "--online", what, n, m[4], r[4], m[3], r[3], m[5], m[6], m[7] } }' "$RAW" >"$OUTFILE"
fi
rm -rf "$T" "$RAW"
exit $rc
