# Disk quota of simfs CTs: vzquota (stat/show/drop/on/off/setlimit, OpenVZ's
# output format and exit codes) and vzctl quotaon/quotaoff/quotainit. The
# machines this suite runs on keep no project quota (no quota format in the
# kernel, or no prjquota mount): limits are refused with a message saying
# why, usage is counted by walking the private area. Enforcement is tested
# in a VM with prjquota: tests/vm/test_simfs_quota.sh.
# shellcheck shell=bash

VZQUOTA=${VZQUOTA:-$(dirname "$VZCTL")/vzquota}
VZQ_HEADER='   resource          usage       softlimit      hardlimit    grace'

# vzq_field RESOURCE COLUMN: a value of the last vzquota stat/show in $OUT
# (COLUMN: usage soft hard); a '*' after the usage is dropped.
vzq_field() {
	printf '%s\n' "$OUT" | awk -v r="$1" -v c="$2" '$1 == r {
		sub(/\*$/, "", $2); if (c == "usage") print $2; if (c == "soft") print $3; if (c == "hard") print $4 }'
}

t_vzquota_stat_format() {
	"$VZCTL" --quiet create 101 --ostemplate busybox-x86_64 --name web || fail "create"
	expect_rc 0 "$VZQUOTA" stat 101
	[ "$(printf '%s\n' "$OUT" | sed -n 1p)" = "$VZQ_HEADER" ] || fail "header: $OUT"
	expect_out '^  1k-blocks +[0-9]+  +0 +0 +$'
	expect_out '^     inodes +[0-9]+  +0 +0 +$'
	[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 3 ] || fail "line count: $OUT"
	# The numbers are du's: blocks and inodes of the private area, hard
	# links once, not crossing into other filesystems.
	local du inodes
	du=$(du -sxk "$T/private/101" | cut -f1)
	inodes=$(find "$T/private/101" -xdev -printf '%i\n' | sort -u | wc -l)
	[ "$(vzq_field 1k-blocks usage)" = "$du" ] || fail "blocks $(vzq_field 1k-blocks usage) != du $du"
	[ "$(vzq_field inodes usage)" = "$inodes" ] || fail "inodes $(vzq_field inodes usage) != $inodes"
	# Names work as CT IDs; show prints the same rows; batch mode is numbers.
	expect_rc 0 "$VZQUOTA" show web
	[ "$(vzq_field inodes usage)" = "$inodes" ] || fail "show by name: $OUT"
	expect_rc 0 "$VZQUOTA" -b stat 101
	[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 2 ] || fail "batch: $OUT"
	expect_out "^ +$du +0 +0 +0 +0\$"
	# A file written into the private area shows up at once.
	dd if=/dev/zero of="$T/private/101/root/blob" bs=1k count=2048 status=none
	expect_rc 0 "$VZQUOTA" stat 101
	[ "$(vzq_field 1k-blocks usage)" -ge $((du + 2048)) ] || fail "2 MiB not counted: $OUT"
	# And on a running CT.
	expect_rc 0 "$VZCTL" --quiet start 101
	wait_for 100 booted 101 || fail "no boot"
	expect_rc 0 "$VZQUOTA" stat 101
	expect_out '^     inodes +[0-9]+ '
}

t_vzquota_show_limits_over_soft() {
	"$VZCTL" --quiet create 101 --ostemplate busybox-x86_64 || fail "create"
	# Limits written by hand (set --diskspace is refused on this machine).
	printf 'DISKSPACE="1000:2G"\nDISKINODES="10:100000"\nQUOTATIME="600"\n' >>"$T/conf/101.conf"
	expect_rc 0 "$VZQUOTA" show 101
	expect_out '^  1k-blocks +[0-9]+\* +1000 +2097152 +$'
	expect_out '^     inodes +[0-9]+\* +10 +100000 +$'
	expect_rc 0 "$VZQUOTA" -b show 101
	expect_out '^ +[0-9]+ +1000 +2097152 +0 +600$'
}

t_vzquota_diskspace_refused() {
	if prjquota_here; then
		echo "project quota is enforced here: tests/vm/test_simfs_quota.sh covers this host"
		return 0
	fi
	"$VZCTL" --quiet create 101 --ostemplate busybox-x86_64 || fail "create"
	cp "$T/conf/101.conf" "$T/conf.before"
	expect_rc 62 "$VZCTL" set 101 --diskspace 200M:200M --save
	expect_out 'unable to apply disk quota to .*private/101: '
	expect_out 'use the ploop layout \(VE_LAYOUT=ploop\) for per-CT disk limits'
	cmp -s "$T/conf.before" "$T/conf/101.conf" || fail "config changed: $(diff "$T/conf.before" "$T/conf/101.conf")"
	expect_rc 0 "$VZCTL" --quiet start 101
	wait_for 100 booted 101 || fail "CT does not boot after the refused --diskspace"
	expect_rc 62 "$VZCTL" set 101 --diskinodes 1000:1000 --save
	cmp -s "$T/conf.before" "$T/conf/101.conf" || fail "config changed by --diskinodes"
	# The standalone tool says the same, with vzquota's status for a
	# failed quota call.
	expect_rc 3 "$VZQUOTA" setlimit 101 -b 1000 -B 2000
	expect_out '^vzquota : \(error\) unable to apply disk quota to '
}

# DISK_QUOTA=no: as OpenVZ ran no vzquota for such a CT, nvz applies no
# disk limits to it; DISKSPACE is saved for when quota is on again. Where the
# kernel enforces limits, tests/vm/test_simfs_quota.sh sees them go and come
# back; here, where none can be applied, the refusal goes away.
t_vzquota_diskquota_no() {
	if prjquota_here; then
		echo "project quota is enforced here: tests/vm/test_simfs_quota.sh covers this host"
		return 0
	fi
	"$VZCTL" --quiet create 101 --ostemplate busybox-x86_64 || fail "create"
	expect_rc 21 "$VZCTL" set 101 --diskquota maybe --save
	expect_rc 0 "$VZCTL" set 101 --diskquota no --diskspace 200M:200M --save
	expect_out 'Disk quota is not enabled \(DISK_QUOTA=no\): disk limits are not applied'
	grep -q '^DISK_QUOTA="no"$' "$T/conf/101.conf" || fail "DISK_QUOTA not saved"
	grep -Eq '^DISKSPACE="(204800:204800|200M:200M)"$' "$T/conf/101.conf" || fail "DISKSPACE not saved"
	expect_rc 0 "$VZCTL" --quiet start 101
	wait_for 100 booted 101 || fail "CT does not boot"
	expect_rc 0 "$VZCTL" set 101 --diskinodes 1000:1000 --save
	# Quota on again: the saved limits are applied, which this host refuses.
	cp "$T/conf/101.conf" "$T/conf.before"
	expect_rc 62 "$VZCTL" set 101 --diskquota yes --save
	expect_out 'unable to apply disk quota to .*private/101: '
	cmp -s "$T/conf.before" "$T/conf/101.conf" || fail "config changed: $(diff "$T/conf.before" "$T/conf/101.conf")"
	# The server-wide setting counts for a CT that has none: create warns
	# of nothing, the sample's DISKSPACE is kept.
	echo 'DISK_QUOTA=no' >>"$VZ_CONF"
	expect_rc 0 "$VZCTL" create 102 --ostemplate busybox-x86_64 --diskspace 1G:1G
	if printf '%s\n' "$OUT" | grep -q 'not enforced'; then fail "create with DISK_QUOTA=no warned: $OUT"; fi
	# A ploop CT's size is its image: DISK_QUOTA alone leaves it as it is.
	expect_rc 0 "$VZCTL" --quiet create 103 --ostemplate busybox-x86_64 --layout ploop --diskspace 300M
	expect_rc 0 "$VZCTL" set 103 --diskquota no --save
	grep -q '^DISK_QUOTA="no"$' "$T/conf/103.conf" || fail "DISK_QUOTA not saved for ploop"
}

t_vzquota_vzctl_quota_commands() {
	if prjquota_here; then
		echo "project quota is enforced here: tests/vm/test_simfs_quota.sh covers this host"
		return 0
	fi
	"$VZCTL" --quiet create 101 --ostemplate busybox-x86_64 || fail "create"
	expect_rc 63 "$VZCTL" quotainit 101
	expect_out '^Error: Not enough parameters, diskspace quota not set$'
	echo 'DISKSPACE="200M:200M"' >>"$T/conf/101.conf"
	expect_rc 64 "$VZCTL" quotaon 101
	expect_out '^Error: Not enough parameters, diskinodes quota not set$'
	echo 'DISKINODES="200000:200000"' >>"$T/conf/101.conf"
	expect_rc 61 "$VZCTL" quotainit 101
	expect_out 'unable to apply disk quota to .*use the ploop layout'
	expect_rc 60 "$VZCTL" quotaon 101
	expect_out 'unable to apply disk quota to '
	# Off when nothing is on: no failure, as in vzctl.
	expect_rc 0 "$VZCTL" quotaoff 101
	expect_rc 20 "$VZCTL" quotaon 101 extra
	echo 'DISK_QUOTA="no"' >>"$T/conf/101.conf"
	expect_rc 60 "$VZCTL" quotaon 101
	[ "$OUT" = "Disk quota is not enabled, skipping operation" ] || fail "quotaon: $OUT"
	expect_rc 66 "$VZCTL" quotaoff 101
	expect_out '^Disk quota is not enabled, skipping operation$'
	expect_rc 61 "$VZCTL" quotainit 101
	expect_out '^Disk quota is not enabled, skipping operation$'
	expect_rc 14 "$VZCTL" quotaon 999
}

t_vzquota_ploop_ct() {
	# A ploop CT's config written by hand: no image is needed to be told.
	printf 'VE_LAYOUT="ploop"\nDISKSPACE="1G:1G"\nDISKINODES="1000:1000"\n' >"$T/conf/102.conf"
	local cmd
	for cmd in quotaon quotaoff quotainit; do
		expect_rc 0 "$VZCTL" "$cmd" 102
		[ "$OUT" = "CT is on ploop, disk quota is obsoleted, skipping operation" ] || fail "$cmd: $OUT"
	done
	for cmd in stat show on off drop init setlimit; do
		expect_rc 0 "$VZQUOTA" "$cmd" 102
		expect_out '^vzquota : \(warning\) CT 102 is on ploop, disk quota is obsoleted, skipping operation$'
	done
	expect_rc 0 "$VZQUOTA" -q stat 102
	[ -z "$OUT" ] || fail "-q still warns: $OUT"
}

t_vzquota_errors_and_drop() {
	if prjquota_here; then
		echo "project quota is enforced here: tests/vm/test_simfs_quota.sh covers this host"
		return 0
	fi
	"$VZCTL" --quiet create 101 --ostemplate busybox-x86_64 || fail "create"
	expect_rc 2 "$VZQUOTA"
	expect_rc 2 "$VZQUOTA" stat
	expect_rc 2 "$VZQUOTA" frobnicate 101
	expect_rc 2 "$VZQUOTA" setlimit2 101
	expect_out 'not supported'
	# Second-level quota: "stat -t" has no user or group records to add,
	# "-s 0" and "-u 0" (vzctl's QUOTAUGIDLIMIT=0) ask for none; the rest
	# is refused.
	expect_rc 0 "$VZQUOTA" stat 101
	local plain=$OUT
	expect_rc 0 "$VZQUOTA" stat 101 -t
	[ "$OUT" = "$plain" ] || fail "stat -t: $OUT"
	expect_rc 2 "$VZQUOTA" setlimit 101 -t
	expect_rc 2 "$VZQUOTA" setlimit 101 -s 1
	expect_out 'not supported'
	expect_rc 2 "$VZQUOTA" setlimit 101 --ugid-limit 100
	expect_rc 2 "$VZQUOTA" setlimit 101 -b lots
	expect_rc 2 "$VZQUOTA" on 101 -e 3x
	expect_rc 2 "$VZQUOTA" stat no-such-name
	expect_rc 11 "$VZQUOTA" stat 999
	expect_out 'no quota for id 999'
	expect_rc 0 "$VZQUOTA" -h
	expect_out '^Usage: vzquota '
	expect_rc 0 "$VZQUOTA" -V
	expect_out '^Vzquota version '
	# Nothing is on here: off is "not running"; on without limits has
	# nothing to do; drop has nothing cached (-v says so).
	expect_rc 6 "$VZQUOTA" off 101
	expect_out 'Quota is not running for id 101'
	expect_rc 0 "$VZQUOTA" on 101
	expect_rc 0 "$VZQUOTA" on 101 -s 0 -u 0 --sub-quotas 0 --ugid-limit 0
	expect_rc 0 "$VZQUOTA" -v drop 101
	expect_out 'nothing is cached for 101'
	# -p: a tree with no CT config behind the id.
	mkdir -p "$T/tree/sub"
	: >"$T/tree/sub/f"
	expect_rc 0 "$VZQUOTA" stat 998 -p "$T/tree"
	[ "$(vzq_field inodes usage)" = 3 ] || fail "-p tree inodes: $OUT"
	expect_rc 1 "$VZQUOTA" stat 998 -p "$T/no-such-tree"
	# The CT lock is respected by the commands that change things.
	exec 9>"$T/lock/101.lck"
	flock -n 9 || fail "cannot take the CT lock"
	expect_rc 7 "$VZQUOTA" drop 101
	expect_rc 0 "$VZQUOTA" stat 101
	exec 9>&-
}

# A hard limit below the soft one is refused as vzquota refused it (usage,
# 2), before anything is applied, on any kernel.
t_vzquota_hard_below_soft() {
	"$VZCTL" --quiet create 101 --ostemplate busybox-x86_64 || fail "create"
	expect_rc 2 "$VZQUOTA" setlimit 101 -b 2000 -B 1000
	expect_out '^vzquota : \(error\) block_hard_limit \[1000\] < block_soft_limit \[2000\]$'
	expect_rc 2 "$VZQUOTA" init 101 -p "$T/private/101" -b 10 -B 20 -i 500 -I 100
	expect_out '^vzquota : \(error\) inode_hard_limit \[100\] < inode_soft_limit \[500\]$'
	expect_rc 2 "$VZQUOTA" on 101 --block-softlimit 30 --block-hardlimit 20
	expect_out 'block_hard_limit \[20\] < block_soft_limit \[30\]'
	return 0
}
