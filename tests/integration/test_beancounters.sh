# The beancounter view: /proc/user_beancounters inside a CT (served by the
# monitor's FUSE file), vzubc on the host, and lxcfs for free/uptime.
# shellcheck shell=bash

VZUBC=${VZUBC:-$(dirname "$VZCTL")/vzubc}
# Where a CT reads its beancounters. OpenVZ: /proc/user_beancounters; mainline
# procfs cannot gain an entry (no mount target exists, overlayfs refuses
# procfs), so nvz serves the same file at /run/user_beancounters.
BC_INSIDE=${BC_INSIDE:-/run/user_beancounters}
BC_NAMES="kmemsize lockedpages privvmpages shmpages numproc physpages vmguarpages oomguarpages
	numtcpsock numflock numpty numsiginfo tcpsndbuf tcprcvbuf othersockbuf dgramrcvbuf
	numothersock dcachesize numfile numiptent swappages"

# bc_field CT RESOURCE COLUMN: a value from the CT's own
# /proc/user_beancounters (COLUMN: held maxheld barrier limit failcnt).
bc_field() {
	local col
	case $3 in
	held) col=2 ;; maxheld) col=3 ;; barrier) col=4 ;; limit) col=5 ;; failcnt) col=6 ;;
	esac
	"$VZCTL" exec "$1" cat "$BC_INSIDE" 2>/dev/null |
		awk -v r="$2" -v c="$col" '$1 ~ /:$/ { $1 = ""; $0 = $0 } $1 == r { print $c }'
}

t_bc_format_inside() {
	start_busybox 101
	expect_rc 0 "$VZCTL" exec 101 cat "$BC_INSIDE"
	local first header
	first=$(printf '%s\n' "$OUT" | sed -n 1p)
	header=$(printf '%s\n' "$OUT" | sed -n 2p)
	[ "$first" = "Version: 2.5" ] || fail "first line: $first"
	[ "$header" = "       uid  resource                     held              maxheld              barrier                limit              failcnt" ] ||
		fail "header: $header"
	expect_out '^      101:  kmemsize +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$'
	local n
	for n in $BC_NAMES; do
		expect_out "^ +([0-9]+: +)?$n +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+\$"
	done
	[ "$(printf '%s\n' "$OUT" | grep -c '^ *dummy ')" -eq 4 ] || fail "dummy rows: $OUT"
	[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 27 ] || fail "line count: $OUT"
	# Read-only, as on OpenVZ.
	expect_rc 8 "$VZCTL" exec 101 "echo x > $BC_INSIDE"
}

# Rows the kernel counts but does not limit, held only (memory.stat):
# shmpages follows the CT's tmpfs files, oomguarpages is RAM and swap
# together, kmemsize the kernel's objects, dcachesize (cgroup v2) the
# reclaimable slab. Before, they showed 0 whatever the CT did.
t_bc_held_from_memory_stat() {
	start_busybox 101
	local shm0 shm1 shm2 ram oom
	shm0=$(bc_field 101 shmpages held)
	expect_rc 0 "$VZCTL" exec 101 'dd if=/dev/zero of=/run/fill bs=1048576 count=8 2>/dev/null'
	shm1=$(bc_field 101 shmpages held)
	[ "${shm1:-0}" -ge $((${shm0:-0} + 2048)) ] || fail "shmpages held $shm0 -> $shm1 after 8M written to /run"
	[ "$(bc_field 101 shmpages maxheld)" -ge $((${shm0:-0} + 2048)) ] || fail "shmpages maxheld below held"
	expect_rc 0 "$VZCTL" exec 101 'rm /run/fill'
	shm2=$(bc_field 101 shmpages held)
	[ "${shm2:-0}" -lt "$shm1" ] || fail "shmpages held $shm1 -> $shm2 after the file went"
	# Both from one read: the CT's memory moves between two.
	read -r ram oom < <("$VZCTL" exec 101 cat "$BC_INSIDE" |
		awk '$1 ~ /:$/ { $1 = ""; $0 = $0 } $1 == "physpages" { r = $2 } $1 == "oomguarpages" { o = $2 }
			END { print r, o }')
	[ "${oom:-0}" -ge "${ram:-1}" ] && [ "$ram" -gt 0 ] || fail "oomguarpages held $oom, physpages held $ram"
	[ "$(bc_field 101 kmemsize held)" -gt 0 ] || fail "kmemsize held 0"
	if cg_v2; then
		[ "$(bc_field 101 dcachesize held)" -gt 0 ] || fail "dcachesize held 0 on cgroup v2"
	fi
	# The same values on the host: vzlist's columns.
	expect_rc 0 "$VZLIST" -H -o shmpages,oomguarpages 101
	expect_out '^ +[0-9]+ +[1-9][0-9]*$'
	# No counter on mainline: still 0.
	[ "$(bc_field 101 numfile held)" = 0 ] || fail "numfile held"
}

t_bc_numproc_failcnt() {
	start_busybox 101
	expect_rc 0 "$VZCTL" set 101 --numproc 20:20
	[ "$(bc_field 101 numproc limit)" = 20 ] || fail "numproc limit not 20"
	[ "$(bc_field 101 numproc failcnt)" = 0 ] || fail "failcnt not 0 at start"
	"$VZCTL" exec 101 'for i in $(seq 40); do sleep 5 & done; wait' >"$T/fork1" 2>&1
	grep -qi 'fork' "$T/fork1" || fail "40 forks under numproc 20 did not fail: $(cat "$T/fork1")"
	local fc
	fc=$(bc_field 101 numproc failcnt)
	[ "${fc:-0}" -gt 0 ] || fail "numproc failcnt $fc after failed forks"
	expect_rc 0 "$VZCTL" set 101 --numproc 200:200
	[ "$(bc_field 101 numproc barrier)" = 200 ] || fail "numproc barrier not raised live"
	expect_rc 0 "$VZCTL" exec 101 'for i in $(seq 40); do sleep 1 & done; wait'
	printf '%s\n' "$OUT" | grep -qi fork && fail "forks failed under numproc 200: $OUT"
	# The fail counter lives as long as the CT, and only as long.
	[ "$(bc_field 101 numproc failcnt)" = "$fc" ] || fail "failcnt changed without failures"
	expect_rc 0 "$VZCTL" restart 101
	wait_for 100 booted 101 || fail "no boot after restart"
	[ "$(bc_field 101 numproc failcnt)" = 0 ] || fail "failcnt not reset by restart"
}

t_bc_tcpsndbuf_live() {
	start_busybox 101
	expect_rc 0 "$VZCTL" set 101 --tcpsndbuf 4M:5M --save
	grep -q '^TCPSNDBUF="4194304:5242880"$' "$T/conf/101.conf" || fail "not saved: $(cat "$T/conf/101.conf")"
	[ "$(bc_field 101 tcpsndbuf barrier)" = 4194304 ] || fail "tcpsndbuf barrier"
	[ "$(bc_field 101 tcpsndbuf limit)" = 5242880 ] || fail "tcpsndbuf limit"
	expect_rc 0 "$VZUBC" -v 101
	expect_out '^    tcpsndbuf\|.*\|   4M\|   5M\|'
}

# bc_hog_refused CT ROW WHAT: a 100M hog (tail keeps a newline-less stream
# in memory) refused by the CT's 64M memory limit (set by WHAT), and ROW's
# failcnt saying so.
bc_hog_refused() {
	"$VZCTL" exec "$1" 'dd if=/dev/zero bs=1048576 count=100 2>/dev/null | tail >/dev/null' >"$T/hog1" 2>&1 &&
		fail "a 100M hog finished under $3"
	local fc
	fc=$(bc_field "$1" "$2" failcnt)
	[ "${fc:-0}" -gt 0 ] || fail "$2 failcnt $fc after the hog"
}

t_bc_memory_hog() {
	"$VZCTL" --quiet create 101 --ostemplate busybox-x86_64 || fail "create"
	expect_rc 0 "$VZCTL" set 101 --ram 64M --swap 0 --save
	"$VZCTL" --quiet start 101 || fail "start"
	wait_for 100 booted 101 || fail "no boot"
	[ "$(bc_field 101 physpages limit)" = 16384 ] || fail "physpages limit not 64M in pages"
	bc_hog_refused 101 physpages "--ram 64M --swap 0"
	ct_running 101 || fail "the CT died with its hog"
	expect_rc 0 "$VZCTL" set 101 --ram 256M
	[ "$(bc_field 101 physpages limit)" = 65536 ] || fail "physpages limit not raised live"
	expect_rc 0 "$VZCTL" exec 101 'dd if=/dev/zero bs=1048576 count=100 2>/dev/null | tail >/dev/null'
}

# The guide's memory loop (vmguarpages, oomguarpages, privvmpages), a
# pre-VSwap config: privvmpages' limit is the CT's memory limit, so what it
# refuses shows in the privvmpages row, whose held is RAM and swap, as the
# guide's "look for a non-zero failcnt" expects. (Its row showed 0 held and
# 0 failcnt while the memory limit refused the hog.)
t_bc_privvmpages_guide_loop() {
	"$VZCTL" --quiet create 101 --ostemplate busybox-x86_64 || fail "create"
	local t
	for t in vmguarpages oomguarpages privvmpages; do
		expect_rc 0 "$VZCTL" set 101 --save --$t 64M
	done
	grep -q '^PHYSPAGES=.*:[0-9]' "$T/conf/101.conf" && ! grep -q '^PHYSPAGES=.*:unlimited' "$T/conf/101.conf" &&
		fail "the config has a VSwap RAM limit: $(grep PHYSPAGES "$T/conf/101.conf")"
	"$VZCTL" --quiet start 101 || fail "start"
	wait_for 100 booted 101 || fail "no boot"
	[ "$(bc_field 101 privvmpages limit)" = 16384 ] || fail "privvmpages limit not 64M in pages"
	local held
	held=$(bc_field 101 privvmpages held)
	[ "${held:-0}" -gt 0 ] && [ "$held" -lt 16384 ] || fail "privvmpages held $held"
	[ "$(bc_field 101 privvmpages failcnt)" = 0 ] || fail "privvmpages failcnt before the hog"
	bc_hog_refused 101 privvmpages "privvmpages 64M"
	[ "$(bc_field 101 privvmpages maxheld)" -ge 15000 ] || fail "privvmpages maxheld below the limit's reach"
	expect_rc 0 "$VZUBC" 101
	expect_out '^  privvmpages\|'
	expect_rc 0 "$VZLIST" -H -o privvmpages.f 101
	expect_out '^ +[1-9][0-9]*$'
}

# lxcfs on a private mount point of this test, stopped by its PID.
start_lxcfs() {
	command -v lxcfs >/dev/null || fail "lxcfs cannot run here: not installed (apt-get install lxcfs)"
	[ -c /dev/fuse ] || fail "lxcfs cannot run here: no /dev/fuse"
	mkdir -p "$T/lxcfs"
	lxcfs -f -p "$T/lxcfs.pid" "$T/lxcfs" >"$T/lxcfs.log" 2>&1 &
	LXCFS_PID=$!
	trap stop_lxcfs EXIT
	wait_for 50 test -e "$T/lxcfs/proc/meminfo" ||
		fail "lxcfs cannot run here: $(tail -3 "$T/lxcfs.log")"
	echo "LXCFS_DIR=$T/lxcfs" >>"$T/vz.conf"
}

stop_lxcfs() {
	local f
	# CTs first: their /proc views hang on this lxcfs.
	for f in "$T"/conf/[0-9]*.conf; do
		[ -e "$f" ] && "$VZCTL" --quiet stop "$(basename "$f" .conf)" --fast >/dev/null 2>&1
	done
	[ -n "${LXCFS_PID:-}" ] && kill "$LXCFS_PID" 2>/dev/null
	fusermount3 -u "$T/lxcfs" 2>/dev/null || umount -l "$T/lxcfs" 2>/dev/null
	wait "$LXCFS_PID" 2>/dev/null
}

t_bc_free_inside() {
	start_lxcfs
	"$VZCTL" --quiet create 101 --ostemplate busybox-x86_64 || fail "create"
	expect_rc 0 "$VZCTL" set 101 --ram 64M --swap 0 --save
	"$VZCTL" --quiet start 101 || fail "start"
	wait_for 100 booted 101 || fail "no boot"
	expect_rc 0 "$VZCTL" exec 101 'grep -E "^(MemTotal|SwapTotal):" /proc/meminfo'
	expect_out '^MemTotal: +65536 kB$'
	expect_out '^SwapTotal: +0 kB$'
	# busybox free takes "total" from sysinfo(2), which no file can
	# change; "available" comes from /proc/meminfo.
	expect_rc 0 "$VZCTL" exec 101 free
	local avail
	avail=$(printf '%s\n' "$OUT" | awk '/^Mem:/ { print $7 }')
	[ "${avail:-0}" -gt 0 ] && [ "$avail" -le 65536 ] || fail "free inside: $OUT"
	# uptime is the CT's: lxcfs counts from the init of the reader's pid namespace.
	expect_rc 0 "$VZCTL" exec 101 'cut -d. -f1 /proc/uptime'
	[ "$OUT" -lt 120 ] || fail "uptime inside is the host's: $OUT"
	expect_rc 0 "$VZCTL" exec 101 'grep -c ^processor /proc/cpuinfo'
}

t_vzubc_host() {
	start_busybox 101
	expect_rc 0 "$VZCTL" set 101 --numproc 20:20
	"$VZCTL" exec 101 'for i in $(seq 40); do sleep 3 & done; wait' >/dev/null 2>&1
	expect_rc 0 "$VZUBC" 101
	expect_out '^CT 101       \| HELD Bar% Lim%\| MAXH Bar% Lim%\| BAR \| LIM \| FAIL$'
	expect_out '^-------------\+---------------\+---------------\+-----\+-----\+------$'
	expect_out '^      numproc\| +[0-9]+ +[0-9]+% +[0-9]+%\|.*\|  20 \|  20 \| +[1-9][0-9]* $'
	expect_rc 0 "$VZUBC" -q
	expect_out '^      numproc\|'
	printf '%s\n' "$OUT" | grep -q '^     kmemsize' && fail "quiet mode shows a calm kmemsize: $OUT"
	expect_rc 0 "$VZUBC" -r -rd "$T/store" 101
	expect_out '\| BAR \| LIM \|\+FAIL$'
	expect_out '^      numproc\|.*\| +[1-9][0-9]* $'
	[ -s "$T/store/ubc.101.numproc.failcnt" ] || fail "relative mode stored nothing"
	expect_rc 0 "$VZUBC" -r -rd "$T/store" 101
	expect_out '^      numproc\|.*\|    - $'
	expect_rc 1 "$VZUBC" -q -v
	expect_rc 0 "$VZUBC" 999
	[ -z "$OUT" ] || fail "a CT that does not run shows: $OUT"
	# Inside the CT, with no argument, it reads the CT's own view (once
	# the sleeps above are gone and it can fork again).
	local i
	for i in $(seq 100); do
		[ "$(cg pids 101 pids.current)" -lt 5 ] && break
		sleep 0.1
	done
	# (A static vzubc: the sanitizer lane's is linked against libraries the
	# busybox CT lacks, so that lane copies the plain build's.)
	local ubc=$VZUBC
	readelf -l "$ubc" | grep -q INTERP && ubc=$SRCDIR/build/vzubc
	readelf -l "$ubc" | grep -q INTERP && fail "no static vzubc to run inside the CT"
	"$VZCTL" exec 101 'cat >/tmp/vzubc && chmod 755 /tmp/vzubc' <"$ubc" || fail "copy vzubc in"
	expect_rc 0 "$VZCTL" exec 101 /tmp/vzubc
	expect_out '^      numproc\| +[0-9]+ +[0-9]+% +[0-9]+%\|.*\|  20 \|  20 \| +[1-9][0-9]* $'
}

# -i (OpenVZ's incremental mode): a "+/-" column with held's change since
# the previous run (the first run counts from 0), saved per CT and
# resource in STOREDIR/ubc.<id>.<resource>.held; with -q a changed row is
# shown even if calm; -ic forgets the saved values.
t_vzubc_incremental() {
	local f=$T/ubc.txt st=$T/ubcstore
	cat >"$f" <<'UBC'
Version: 2.5
       uid  resource                     held              maxheld              barrier                limit              failcnt
      101:  kmemsize                  2297856              3002368             14372700             14790164                    0
            numproc                        12                   27                  240                  240                    0
            privvmpages                  1000                 2000                65536                69632                    3
UBC
	expect_rc 0 "$VZUBC" -f "$f" -i -id "$st"
	expect_out '^-----------------------------------------------------------------------$'
	expect_out '^CT 101       \| HELD  \+/-   Bar% Lim%\| MAXH Bar% Lim%\| BAR \| LIM \| FAIL$'
	expect_out '^-------------\+----------------------\+---------------\+-----\+-----\+------$'
	expect_out '^      numproc\|  12    \+12    5%   5%\|  27   11%  11%\| 240 \| 240 \|    - $'
	[ "$(cat "$st/ubc.101.numproc.held")" = 12 ] || fail "held not saved: $(ls "$st")"
	sed -i 's/^\( *numproc *\)12/\115/; s/2297856/2197856/' "$f"
	expect_rc 0 "$VZUBC" -f "$f" --incremental -rd "$st" -q
	expect_out '^      numproc\|  15     \+3    6%   6%\|'
	expect_out '^     kmemsize\| 2.1M -97.7K  15%  14%\|'
	expect_out '^  privvmpages\|3.91M          2%   1%\|'
	# Nothing changed since: quiet shows the failing row only.
	expect_rc 0 "$VZUBC" -f "$f" -i -rd "$st" -q
	printf '%s\n' "$OUT" | grep -q numproc && fail "an unchanged calm row shown: $OUT"
	expect_out '^  privvmpages\|'
	expect_rc 0 "$VZUBC" -f "$f" -ic -rd "$st"
	ls "$st"/ubc.*.held >/dev/null 2>&1 && fail "-ic left saved values"
	expect_out '^CT 101       \| HELD Bar% Lim%\|'
	return 0
}

# -qh/-qm as OpenVZ's awk read them: "50%" is 50, a percentage as any
# value over 1; "1%" one percent, "0.5%" the ratio 0.5 (awk compared the
# text with "1"). What is no number is refused, an empty value is a
# missing one (exit 1, the usage).
t_vzubc_quiet_percent() {
	local f=$T/ubc.txt
	cat >"$f" <<'UBC'
Version: 2.5
       uid  resource                     held              maxheld              barrier                limit              failcnt
      101:  numproc                        60                   60                  100                  100                    0
            numtcpsock                     30                   30                  100                  100                    0
            numothersock                    2                    2                  100                  100                    0
UBC
	local rows arg want
	for arg in "50%:numproc" "50:numproc" "0.5:numproc" "0.5%:numproc" "20%:numproc numtcpsock" \
		"1%:numproc numtcpsock numothersock" "1:" "100%:" "61:" "59%:numproc"; do
		expect_rc 0 "$VZUBC" -f "$f" -q -qh "${arg%%:*}"
		rows=$(printf '%s\n' "$OUT" | awk -F'|' 'NF > 5 && $1 !~ /CT|^-/ { gsub(/ /, "", $1); printf "%s ", $1 }')
		want=${arg#*:}
		[ "${rows% }" = "$want" ] || fail "-qh ${arg%%:*}: rows '$rows', want '$want': $OUT"
	done
	expect_rc 0 "$VZUBC" -f "$f" -c -qm 25% -qh 90%
	expect_out $'\e\\[1;33m +numtcpsock\\|'
	expect_out $'\e\\[0;39m numothersock\\|'
	for arg in abc 5x 50%% -0.5 inf 0x10 %; do
		expect_rc 1 "$VZUBC" -f "$f" -q -qh "$arg"
		expect_out '^Error: invalid value for -qh$'
	done
	expect_rc 1 "$VZUBC" -f "$f" -q -qm ""
	expect_out '^Error: option -qm requires an argument$'
	expect_out '^Usage: vzubc'
	return 0
}

# A table of another version: OpenVZ's vzubc's message, bare, exit 1; a
# malformed row names the file and the line.
t_vzubc_file_errors() {
	local f=$T/ubc.txt
	printf 'Version: 2.6\n      101:  numproc 1 2 3 4 0\n' >"$f"
	expect_rc 1 "$VZUBC" -f "$f"
	[ "$OUT" = "Error: unknown version: 2.6" ] || fail "version: $OUT"
	expect_rc 1 "$VZUBC" - <"$f"
	[ "$OUT" = "Error: unknown version: 2.6" ] || fail "version on stdin: $OUT"
	printf 'Version: 2.5\n      101:  numproc 1 2 3\n' >"$f"
	expect_rc 1 "$VZUBC" -f "$f"
	[ "$OUT" = "Error: $f: line 2: malformed beancounter row" ] || fail "malformed: $OUT"
	return 0
}

# -r saves the fail counters of the rows it shows only, as OpenVZ's vzubc:
# a row hidden for its unlimited barrier keeps its last shown count, so
# -v later shows the failures since then, not since the hidden run.
t_vzubc_relative_hidden() {
	local f=$T/ubc.txt st=$T/ubcstore
	cat >"$f" <<'UBC'
Version: 2.5
       uid  resource                     held              maxheld              barrier                limit              failcnt
      101:  numproc                        12                   27                  240                  240                    2
            numflock                        3                    5  9223372036854775807  9223372036854775807                    7
UBC
	expect_rc 0 "$VZUBC" -f "$f" -r -rd "$st"
	expect_out '^      numproc\|.*\|    2 $'
	printf '%s\n' "$OUT" | grep -q numflock && fail "an unlimited row shown without -v: $OUT"
	[ "$(cat "$st/ubc.101.numproc.failcnt")" = 2 ] || fail "numproc not saved: $(ls "$st")"
	[ -e "$st/ubc.101.numflock.failcnt" ] && fail "a hidden row's failcnt was saved"
	expect_rc 0 "$VZUBC" -f "$f" -r -v -rd "$st"
	expect_out '^      numproc\|.*\|    - $'
	expect_out '^     numflock\|.*\|    7 $'
	return 0
}
