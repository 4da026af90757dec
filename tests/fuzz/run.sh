#!/usr/bin/env bash
# Run every libFuzzer target (build-fuzz/fuzz/fuzz_*, from `make fuzz`) for a
# bounded time each, starting from its seed corpus tests/fuzz/corpus_<name>.
# New inputs go to a scratch copy, never into the repository; a crash leaves
# its input in $FUZZ_ARTIFACTS (default /tmp) and fails the target.
# Usage: tests/fuzz/run.sh [SECONDS_EACH]   Ends with "N passed, N failed".
set -u
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-${FUZZ_SECONDS:-25}}
BIN=${FUZZ_BUILD:-$SRCDIR/build-fuzz}/fuzz
ART=${FUZZ_ARTIFACTS:-/tmp}
passed=0 failed=0
for f in "$BIN"/fuzz_*; do
	[ -x "$f" ] || continue
	name=${f##*/fuzz_}
	work=$(mktemp -d /tmp/nvz-fuzz-"$name".XXXXXX)
	cp -r "$SRCDIR/tests/fuzz/corpus_$name/." "$work/" 2>/dev/null
	log=$work.log
	# -rss_limit_mb: a parser must not need more; -timeout: nor hang on one input.
	"$f" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$ART/nvz-fuzz-$name-" "$work" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok - fuzz $name (${runs:-?} runs in ${SECS}s)"
	else
		failed=$((failed + 1))
		echo "not ok - fuzz $name (exit $rc)"
		grep -aE 'ERROR|SUMMARY|runtime error|Test unit written|#[0-9]+ in ' "$log" | head -30 |
			sed 's/^/    /'
	fi
	rm -rf "$work" "$log"
done
[ $((passed + failed)) -gt 0 ] || { echo "no fuzz targets in $BIN (make fuzz)"; failed=1; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
