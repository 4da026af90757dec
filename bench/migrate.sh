#!/usr/bin/env bash
# Downtime of vzmigrate --online between two servers on this machine, on the
# rig of tests/integration/test_migrate.sh (network namespaces A and B with
# their own sshd and server roots): a busybox CT with a routed address goes
# A -> B -> A ... N times. Per migration: vzmigrate -t's "Total time CT was
# down" and the probe's longest stop (bench/gap.c in the CT). Prints a
# markdown table (bench/cpt.sh puts it into its section when CPT_MIGRATE=1).
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

run() {
	mig_setup
	mig_ct 2114 --name live
	cp "$T/gap" "$T/root/2114/gap"
	ina "$VZCTL" exec3 2114 /gap 0 /gap.log -d || fail "gap"
	wait_for 100 test -s "$T/root/2114/gap.log" || fail "gap not ready"
	local i from=a out down gap n log cpt sync rst
	for ((i = 1; i <= RUNS; i++)); do
		if [ $from = a ]; then
			log=$T/root/2114/gap.log
			n=$(($(wc -l <"$log") + 1))
			out=$(ina "$VZMIGRATE" --ssh="$SSHOPTS" --online -t $MIG_B live 2>&1) || fail "A->B: $out"
			log=$T/b/root/2114/gap.log from=b
		else
			log=$T/b/root/2114/gap.log
			n=$(($(wc -l <"$log") + 1))
			out=$(inb env VZ_CONF="$BCONF" "$VZMIGRATE" --ssh="$SSHOPTS" --online -t $MIG_A live 2>&1) ||
				fail "B->A: $out"
			log=$T/root/2114/gap.log from=a
		fi
		down=$(printf '%s\n' "$out" | sed -n 's/.*Total time CT was down: *\([0-9.]*\) s.*/\1/p')
		cpt=$(printf '%s\n' "$out" | sed -n 's/.*Stopping or checkpoint: *\([0-9.]*\) s.*/\1/p')
		sync=$(printf '%s\n' "$out" | sed -n 's/.*Final sync: *\([0-9.]*\) s.*/\1/p')
		rst=$(printf '%s\n' "$out" | sed -n 's/.*Start or restore there: *\([0-9.]*\) s.*/\1/p')
		wait_for 200 lines_ge "$log" "$n" || fail "no gap line after migration $i"
		gap=$(awk '/^gap/ {g = $2} END { printf "%.3f", g / 1e9 }' "$log")
		echo "$down $gap $cpt $sync $rst" >>"$RAW"
	done
}
(run)
rc=$?
teardown_server "$T" "$CGROUP_PREFIX"
if [ $rc -eq 0 ]; then
	awk 'function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
		if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
	{ for (k = 1; k <= 5; k++) v[k, NR] = $k } END {
		for (k = 1; k <= 5; k++) { for (i = 1; i <= NR; i++) a[i] = v[k, i]; m[k] = med(a, NR) * 1000 }
		printf "| vzmigrate --online -t, busybox CT with a routed address, A -> B -> A (%d migrations) | " \
			"%.0f | %.0f | %.0f | %.0f | %.0f |\n", NR, m[2], m[1], m[3], m[4], m[5] }' "$RAW" >"$OUTFILE"
fi
rm -rf "$T" "$RAW"
exit $rc
