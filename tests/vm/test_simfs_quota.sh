# simfs disk quota ENFORCED by the kernel: for the VM lane, not tests/run.sh
# (which never sources tests/vm/). Same helpers and conventions as
# tests/integration (tests/lib.sh: $VZCTL, $T, start_busybox, expect_rc...).
#
# What the guest must provide (see shared/reference/vm-lane/vm-lane.md):
#  - /tmp, where tests/run.sh puts each test server ($T), on a filesystem with
#    project quota ON and ENFORCED: ext4 made with -O quota,project (inode
#    size >= 256) mounted -o prjquota, or xfs mounted -o prjquota. quota_v2
#    and quota_tree loaded before the mount (ext4), else mount fails (ESRCH).
#  - cgroup v2 with the usual controllers (the CTs are started).
#  - e2fsprogs' lsattr/chattr (project ids on ext4; xfs_io for xfs).
#  - The busybox template; writes are checked with busybox df/stat -f inside
#    the CT: "/" there is the bind mount of the project directory, so its
#    statfs reports the project's limits.
# Pitfall: a process with CAP_SYS_RESOURCE ignores the limits (ext4/VFS
# ignore_hardlimit()); nvz CTs keep that capability unless CAPABILITY drops
# it, so the writers below are "nobody", or root with sys_resource:off.
#
# These tests were written without a quota-capable kernel at hand: the first
# VM-lane run is their first run.
# shellcheck shell=bash

VZQUOTA=${VZQUOTA:-$(dirname "$VZCTL")/vzquota}

# vzq_field RESOURCE COLUMN from the last vzquota output in $OUT.
vzq_field() {
	printf '%s\n' "$OUT" | awk -v r="$1" -v c="$2" '$1 == r {
		sub(/\*$/, "", $2); if (c == "usage") print $2; if (c == "soft") print $3;
		if (c == "hard") print $4; if (c == "grace") print $5 }'
}

# Project id of a host path (ext4: lsattr -p; xfs: xfs_io).
projid_of() {
	if command -v lsattr >/dev/null && lsattr -pd "$1" >/dev/null 2>&1; then
		lsattr -pd "$1" | awk '{ print $1 }'
	else
		xfs_io -c 'lsproj' "$1" | sed -n 's/^projid = //p'
	fi
}

# As nobody inside the CT (no CAP_SYS_RESOURCE): a writable directory first.
as_nobody() {
	"$VZCTL" exec "$1" "mkdir -p /q && chmod 1777 /q && su -s /bin/sh nobody -c '$2'"
}

t_vzquota_enforced_limits_and_df() {
	"$VZCTL" --quiet create 101 --ostemplate busybox-x86_64 || fail "create"
	expect_rc 0 "$VZCTL" set 101 --diskspace 20M:20M --diskinodes 2000:2000 --save
	grep -Eq '^DISKSPACE="(20480:20480|20M:20M)"$' "$T/conf/101.conf" || fail "not saved: $(cat "$T/conf/101.conf")"
	[ "$(projid_of "$T/private/101")" = 101 ] || fail "private area not tagged 101"
	[ "$(projid_of "$T/private/101/bin/busybox")" = 101 ] || fail "files not tagged"
	expect_rc 0 "$VZQUOTA" stat 101
	[ "$(vzq_field 1k-blocks soft)" = 20480 ] && [ "$(vzq_field 1k-blocks hard)" = 20480 ] ||
		fail "kernel limits: $OUT"
	[ "$(vzq_field inodes hard)" = 2000 ] || fail "inode limit: $OUT"
	start_busybox_started 101
	# df inside shows the project's limit, not the host filesystem.
	expect_rc 0 "$VZCTL" exec 101 'df -k / | tail -1'
	printf '%s\n' "$OUT" | awk '{ exit !($2 == 20480) }' || fail "df inside: $OUT"
	# The block limit stops a writer without CAP_SYS_RESOURCE.
	"$VZCTL" exec 101 "mkdir -p /q && chmod 1777 /q" || fail "mkdir /q"
	OUT=$("$VZCTL" exec 101 "su -s /bin/sh nobody -c 'dd if=/dev/zero of=/q/big bs=1k count=40000'" 2>&1)
	printf '%s\n' "$OUT" | grep -qi 'quota exceeded' || fail "no EDQUOT: $OUT"
	expect_rc 0 "$VZQUOTA" stat 101
	[ "$(vzq_field 1k-blocks usage)" -le 20480 ] || fail "usage above the hard limit: $OUT"
	expect_rc 0 "$VZCTL" exec 101 'df -k / | tail -1'
	printf '%s\n' "$OUT" | grep -q '100%' || fail "df not full: $OUT"
	# The inode limit too.
	"$VZCTL" exec 101 'rm -f /q/big'
	OUT=$(as_nobody 101 'i=0; while [ $i -lt 3000 ]; do : >/q/f$i || exit 1; i=$((i+1)); done' 2>&1)
	printf '%s\n' "$OUT" | grep -qi 'quota exceeded' || fail "inode limit not enforced: $OUT"
}

# start_busybox without the create (the CT exists already).
start_busybox_started() {
	"$VZCTL" --quiet start "$1" || fail "start $1"
	wait_for 100 booted "$1" || fail "CT $1 did not boot"
}

t_vzquota_enforced_root_without_sys_resource() {
	"$VZCTL" --quiet create 101 --ostemplate busybox-x86_64 || fail "create"
	expect_rc 0 "$VZCTL" set 101 --diskspace 10M:10M --diskinodes 100000:100000 \
		--capability sys_resource:off --save
	start_busybox_started 101
	OUT=$("$VZCTL" exec 101 'dd if=/dev/zero of=/big bs=1k count=30000' 2>&1)
	printf '%s\n' "$OUT" | grep -qi 'quota exceeded' || fail "CT root not limited: $OUT"
}

t_vzquota_enforced_set_live_and_off_on() {
	"$VZCTL" --quiet create 101 --ostemplate busybox-x86_64 || fail "create"
	expect_rc 0 "$VZCTL" set 101 --diskspace 50M:50M --diskinodes 5000:5000 --save
	start_busybox_started 101
	expect_rc 0 "$VZCTL" set 101 --diskspace 30M:30M --save
	expect_rc 0 "$VZCTL" exec 101 'df -k / | tail -1'
	printf '%s\n' "$OUT" | awk '{ exit !($2 == 30720) }' || fail "live change not seen: $OUT"
	expect_rc 0 "$VZCTL" quotaoff 101
	expect_rc 0 "$VZQUOTA" stat 101
	[ "$(vzq_field 1k-blocks hard)" = 0 ] || fail "quotaoff kept limits: $OUT"
	expect_rc 0 "$VZCTL" quotaon 101
	expect_rc 0 "$VZQUOTA" stat 101
	[ "$(vzq_field 1k-blocks hard)" = 30720 ] || fail "quotaon did not restore: $OUT"
	# DISK_QUOTA=no takes the limits off (OpenVZ ran no vzquota for such a
	# CT), yes puts the saved ones back.
	expect_rc 0 "$VZCTL" set 101 --diskquota no --save
	expect_rc 0 "$VZQUOTA" stat 101
	[ "$(vzq_field 1k-blocks hard)" = 0 ] || fail "--diskquota no kept limits: $OUT"
	expect_rc 0 "$VZCTL" exec 101 'df -k / | tail -1'
	printf '%s\n' "$OUT" | awk '{ exit !($2 > 30720) }' || fail "df with DISK_QUOTA=no: $OUT"
	expect_rc 0 "$VZCTL" set 101 --diskspace 40M:40M --save
	expect_rc 0 "$VZQUOTA" stat 101
	[ "$(vzq_field 1k-blocks hard)" = 0 ] || fail "--diskspace applied with DISK_QUOTA=no: $OUT"
	expect_rc 0 "$VZCTL" set 101 --diskquota yes --save
	expect_rc 0 "$VZQUOTA" stat 101
	[ "$(vzq_field 1k-blocks hard)" = 40960 ] || fail "--diskquota yes did not restore: $OUT"
	expect_rc 0 "$VZQUOTA" off 101
	expect_rc 0 "$VZQUOTA" setlimit 101 -b 1000 -B 40000 -e 1h
	expect_rc 0 "$VZQUOTA" stat 101
	[ "$(vzq_field 1k-blocks soft)" = 1000 ] || fail "setlimit: $OUT"
	# Over the soft limit: a star and the grace time left.
	expect_out '^  1k-blocks +[0-9]+\* +1000 +40000 +(00:(59|60)|01:00)$'
}

t_vzquota_enforced_drop_retags() {
	"$VZCTL" --quiet create 101 --ostemplate busybox-x86_64 || fail "create"
	expect_rc 0 "$VZCTL" set 101 --diskspace 100M:100M --diskinodes 10000:10000 --save
	expect_rc 0 "$VZQUOTA" stat 101
	local before
	before=$(vzq_field 1k-blocks usage)
	# Written from the host under the area: inherits the id, counted.
	dd if=/dev/zero of="$T/private/101/root/host" bs=1k count=4096 status=none
	sync
	expect_rc 0 "$VZQUOTA" stat 101
	[ "$(vzq_field 1k-blocks usage)" -ge $((before + 4096)) ] || fail "host write not counted: $OUT"
	# A file taken out of the project (as one moved in before tagging would
	# be) is not counted until drop re-tags the tree.
	chattr -p 0 "$T/private/101/root/host" 2>/dev/null ||
		xfs_io -c 'chproj 0' "$T/private/101/root/host" || fail "cannot change the project id"
	expect_rc 0 "$VZQUOTA" stat 101
	[ "$(vzq_field 1k-blocks usage)" -lt $((before + 4096)) ] || fail "untagged file counted: $OUT"
	expect_rc 0 "$VZQUOTA" drop 101
	expect_rc 0 "$VZQUOTA" stat 101
	[ "$(vzq_field 1k-blocks usage)" -ge $((before + 4096)) ] || fail "drop did not re-tag: $OUT"
	[ "$(projid_of "$T/private/101/root/host")" = 101 ] || fail "file not re-tagged"
}
