# Disk layouts: the ploop image (real loop devices and ext4), template
# sharing, and the guide's three disk problems.
# shellcheck shell=bash

# df inside, in KiB: total, used, and inodes total, used.
df_k() { "$VZCTL" exec "$1" 'df -k / | tail -1' | awk '{print $2}'; }
df_i() { "$VZCTL" exec "$1" 'df -i / | tail -1' | awk '{print $2}'; }

start_ploop() {
	local id=$1
	shift
	"$VZCTL" --quiet create "$id" --ostemplate busybox-x86_64 --layout ploop "$@" || fail "create $id"
	"$VZCTL" --quiet start "$id" || fail "start $id"
	wait_for 100 booted "$id" || fail "CT $id did not boot"
}

t_disk_ploop_limits_inside() {
	start_ploop 1101 --diskspace 200M:200M --diskinodes 5000:5000
	[ -f "$T/private/1101/root.hdd" ] || fail "no image"
	local total inodes
	total=$(df_k 1101)
	inodes=$(df_i 1101)
	echo "df inside: ${total} KiB, ${inodes} inodes (asked 204800 KiB, 5000 inodes)"
	[ "$total" -ge 170000 ] && [ "$total" -le 204800 ] || fail "df total $total KiB for 200M"
	[ "$inodes" -ge 5000 ] && [ "$inodes" -le 6000 ] || fail "df -i total $inodes for 5000"
	# The image is sparse: a fresh CT costs little host disk.
	[ "$(du -k "$T/private/1101/root.hdd" | cut -f1)" -lt 20000 ] || fail "image not sparse"
	# Writing past the limit fails inside with ENOSPC; nothing outside grows.
	local host_before
	host_before=$(df -k "$T" | awk 'NR==2 {print $3}')
	"$VZCTL" exec 1101 'dd if=/dev/zero of=/fill bs=1M count=400 2>&1' >"$T/dd.out"
	grep -q 'No space left on device' "$T/dd.out" || fail "no ENOSPC: $(cat "$T/dd.out")"
	local host_after
	host_after=$(df -k "$T" | awk 'NR==2 {print $3}')
	[ $((host_after - host_before)) -lt 220000 ] || fail "host grew by $((host_after - host_before)) KiB"
	[ "$(du -k "$T/private/1101/root.hdd" | cut -f1)" -le 204800 ] || fail "image beyond its size"
}

# vzlist's diskspace and diskinodes show the usage, as OpenVZ's did: what
# df inside says for ploop (running or stopped), the project quota's count
# for simfs where the kernel keeps one, and "-" where only a walk of the
# tree would tell (vzlist never walks a CT's files).
t_vzlist_disk_usage() {
	start_ploop 1116 --diskspace 300M:300M --diskinodes 8000:8000
	"$VZCTL" exec 1116 'dd if=/dev/zero of=/big bs=1M count=40 2>/dev/null; sync' || fail "write"
	local used inodes ds di
	used=$("$VZCTL" exec 1116 'df -k / | tail -1' | awk '{print $3}')
	inodes=$("$VZCTL" exec 1116 'df -i / | tail -1' | awk '{print $3}')
	read -r ds di <<<"$("$VZLIST" -H -o diskspace,diskinodes 1116)"
	[ "$ds" -ge 40000 ] && [ $((ds - used)) -le 64 ] && [ $((used - ds)) -le 64 ] ||
		fail "diskspace $ds, df inside used $used"
	[ "$di" = "$inodes" ] || fail "diskinodes $di, df -i inside used $inodes"
	expect_rc 0 "$VZLIST" -H -o diskspace.h 1116
	[ "$(echo $OUT)" = 307200 ] || fail "diskspace.h $OUT"
	expect_rc 0 "$VZLIST" -j -o diskspace 1116
	expect_out '"usage": [1-9][0-9]+,'
	# Stopped: from the image's own counts.
	expect_rc 0 "$VZCTL" stop 1116
	read -r ds di <<<"$("$VZLIST" -a -H -o diskspace,diskinodes 1116)"
	[ $((ds - used)) -le 1024 ] && [ $((used - ds)) -le 1024 ] || fail "stopped: diskspace $ds, was $used"
	# simfs: the kernel's count where it keeps a project quota, else "-".
	local limit=()
	prjquota_here && limit=(--diskspace 1G)
	"$VZCTL" --quiet create 1117 --ostemplate busybox-x86_64 --layout simfs "${limit[@]}" ||
		fail "create simfs"
	expect_rc 0 "$VZLIST" -a -H -o ctid,diskspace 1117
	if prjquota_here; then
		[ "$(echo $OUT | cut -d' ' -f2)" -gt 100 ] || fail "simfs with project quota: $OUT"
	else
		[ "$(echo $OUT)" = "1117 -" ] || fail "simfs without project quota: $OUT"
	fi
	return 0
}

# vzctl set --mount_opts (MOUNT_OPTS): the ploop image's ext4 is mounted
# with them from the next mount on; options that would weaken isolation
# or take the host down are refused; a simfs CT is told they do nothing.
t_disk_ploop_mount_opts() {
	start_ploop 1107 --diskspace 200M
	expect_rc 21 "$VZCTL" set 1107 --mount_opts dev --save
	expect_out '^Bad parameter for --mount_opts: dev \(dev is not an option'
	expect_rc 21 "$VZCTL" set 1107 --mount_opts noatime,errors=panic --save
	expect_rc 21 "$VZCTL" set 1107 --mount_opts commit=x --save
	grep -q '^MOUNT_OPTS=' "$T/conf/1107.conf" && fail "a refused MOUNT_OPTS was saved"
	expect_rc 0 "$VZCTL" set 1107 --mount_opts noatime,commit=17,data=journal --save
	expect_out "The new mount options are used at the container's next mount"
	grep -q '^MOUNT_OPTS="noatime,commit=17,data=journal"$' "$T/conf/1107.conf" || fail "MOUNT_OPTS not saved"
	awk -v r="$T/root/1107" '$2 == r' /proc/mounts | grep -q noatime && fail "applied to the mounted CT already"
	expect_rc 0 "$VZCTL" restart 1107
	wait_for 100 booted 1107 || fail "no boot"
	local line
	line=$(awk -v r="$T/root/1107" '$2 == r' /proc/mounts)
	case $line in *noatime*commit=17*data=journal* | *noatime*data=journal*commit=17*) ;;
	*) fail "mount options not used: $line" ;; esac
	case $line in *nodev*) ;; *) fail "nodev lost: $line" ;; esac
	"$VZCTL" --quiet create 1108 --ostemplate busybox-x86_64 || fail "create simfs"
	expect_rc 0 "$VZCTL" set 1108 --mount_opts noatime --save
	expect_out 'Warning: --mount_opts is used by the ploop layout only'
	return 0
}

# vzctl convert: a stopped simfs CT onto a ploop image of DISKSPACE, hard
# links, symlinks, owners, xattrs and sparse files kept; refused while it
# runs, for another layout and without DISKSPACE; an image too small fails
# and leaves the CT exactly as it was. Then a CT on a shared template: its
# whole tree (template + own changes) ends up in the image.
t_disk_convert_to_ploop() {
	start_busybox 1109
	expect_rc 0 "$VZCTL" exec 1109 'mkdir /data && echo hello >/data/f && ln /data/f /data/hard && ln -s f /data/link &&
		dd if=/dev/zero of=/data/sparse bs=1 count=1 seek=50M 2>/dev/null && chown 123:456 /data/f &&
		dd if=/dev/urandom of=/data/big bs=1M count=30 2>/dev/null'
	"$BUILD/tests/xattr" set "$T/root/1109/data/f" trusted.nvz kept || fail "set xattr"
	expect_rc 32 "$VZCTL" convert 1109
	expect_out 'CT is running \(stop it first\)'
	expect_rc 0 "$VZCTL" stop 1109
	expect_rc 21 "$VZCTL" convert 1109 --layout simfs
	expect_out 'Only conversion to ploop is supported'
	sed -i '/^DISKSPACE=/d' "$T/conf/1109.conf"
	expect_rc 63 "$VZCTL" convert 1109
	# Too small for what the CT holds: nothing changes. (The config is
	# edited: set --diskspace on simfs needs quotas this kernel lacks.)
	echo 'DISKSPACE="20M"' >>"$T/conf/1109.conf"
	cp "$T/conf/1109.conf" "$T/before"
	"$VZCTL" convert 1109 >"$T/out" 2>&1 && fail "converted into a too small image: $(cat "$T/out")"
	grep -q 'Conversion to ploop failed, the container is unchanged' "$T/out" || fail "unclear: $(cat "$T/out")"
	cmp -s "$T/conf/1109.conf" "$T/before" || fail "config changed by a failed convert"
	[ -f "$T/private/1109/data/f" ] || fail "old area harmed"
	ls -d "$T"/private/1109.* 2>/dev/null && fail "leftovers: $(ls -d "$T"/private/1109.*)"
	sed -i 's/^DISKSPACE=.*/DISKSPACE="300M"/' "$T/conf/1109.conf"
	# What a convert killed between its swap and its save leaves at .tmp
	# (the CT's own files) is never removed by the next one.
	mkdir "$T/private/1109.tmp" && echo precious >"$T/private/1109.tmp/file"
	expect_rc 3 "$VZCTL" convert 1109
	expect_out 'is not an image a convert left'
	[ "$(cat "$T/private/1109.tmp/file")" = precious ] || fail "an interrupted convert's files were removed"
	rm -r "$T/private/1109.tmp"
	expect_rc 0 "$VZCTL" convert 1109
	expect_out 'Copying content to ploop...'
	expect_out 'Container was successfully converted to the ploop layout'
	grep -q '^VE_LAYOUT="ploop"$' "$T/conf/1109.conf" || fail "VE_LAYOUT: $(grep VE_LAYOUT "$T/conf/1109.conf")"
	[ -f "$T/private/1109/root.hdd" ] && [ ! -e "$T/private/1109/data" ] || fail "private: $(ls "$T/private/1109")"
	ls -d "$T"/private/1109.* 2>/dev/null && fail "leftovers: $(ls -d "$T"/private/1109.*)"
	expect_rc 0 "$VZCTL" start 1109
	wait_for 100 booted 1109 || fail "no boot from the image"
	expect_rc 0 "$VZCTL" exec 1109 'cat /data/hard; readlink /data/link; stat -c "%u:%g %i" /data/f; stat -c %i /data/hard; du -k /data/sparse'
	printf '%s\n' "$OUT" | sed -n 1p | grep -qx hello || fail "content: $OUT"
	printf '%s\n' "$OUT" | sed -n 2p | grep -qx f || fail "symlink: $OUT"
	local ino
	ino=$(printf '%s\n' "$OUT" | sed -n 3p | cut -d' ' -f2)
	printf '%s\n' "$OUT" | sed -n 3p | grep -q '^123:456 ' || fail "owner: $OUT"
	[ "$(printf '%s\n' "$OUT" | sed -n 4p)" = "$ino" ] || fail "hard link lost: $OUT"
	[ "$(printf '%s\n' "$OUT" | sed -n 5p | cut -f1)" -lt 100 ] || fail "sparse file filled: $OUT"
	[ "$("$BUILD/tests/xattr" get "$T/root/1109/data/f" trusted.nvz)" = kept ] || fail "xattr lost"
	[ "$(df_k 1109)" -gt 250000 ] || fail "df inside $(df_k 1109) KiB for 300M"
	expect_rc 0 "$VZCTL" stop 1109
	expect_rc 0 "$VZCTL" convert 1109
	expect_out '^CT is already on ploop$'
	# A CT on a shared template.
	"$VZCTL" --quiet create 1110 --ostemplate busybox-x86_64 --layout simfs:shared --diskspace 200M || fail "create shared"
	"$VZCTL" --quiet start 1110 || fail "start 1110"
	expect_rc 0 "$VZCTL" exec 1110 'echo mine >/root/own'
	expect_rc 0 "$VZCTL" stop 1110
	expect_rc 0 "$VZCTL" convert 1110
	grep -q '^TEMPLATE_TREE=""$' "$T/conf/1110.conf" || fail "TEMPLATE_TREE: $(grep TEMPLATE_TREE "$T/conf/1110.conf")"
	expect_rc 0 "$VZCTL" start 1110
	wait_for 100 booted 1110 || fail "1110 no boot from the image"
	expect_rc 0 "$VZCTL" exec 1110 'cat /root/own; test -x /bin/busybox && echo template-files'
	expect_out '^mine$'
	expect_out '^template-files$'
	return 0
}

# vzctl snapshot*: a running ploop CT's disk and config kept as they were
# (--skip-suspend: its tasks frozen and its file system synced for the
# copy, no memory), listed, mounted read-only, switched back to (the CT
# boots from the snapshot's disk and gets its config back), deleted;
# refused on simfs. The memory: t_disk_snapshot_memory.
t_disk_snapshots() {
	start_ploop 1112 --diskspace 200M
	expect_rc 0 "$VZCTL" exec 1112 'echo before >/root/state; sync'
	expect_rc 0 "$VZCTL" snapshot 1112 --name first --description "before the upgrade" --skip-suspend
	expect_out 'Snapshot \{[0-9a-f-]{36}\} has been successfully created'
	local id1 id2
	id1=$(printf '%s\n' "$OUT" | sed -n 's/^Creating snapshot {\(.*\)}$/\1/p')
	[ -n "$id1" ] || fail "no id: $OUT"
	"$VZCTL" status 1112 | grep -q ' running' || fail "not running after the snapshot"
	expect_rc 0 "$VZCTL" exec 1112 'echo after >/root/state'
	expect_rc 0 "$VZCTL" set 1112 --hostname changed.example.com --save
	expect_rc 0 "$VZCTL" snapshot 1112 --id "{11111111-2222-3333-4444-555555555555}" --name second
	id2=11111111-2222-3333-4444-555555555555
	expect_rc 21 "$VZCTL" snapshot 1112 --id "$id2"
	expect_out 'already exists'
	expect_rc 0 "$VZCTL" snapshot-list 1112
	expect_out '^PARENT_UUID +C UUID +DATE +NAME +$'
	[ "$(printf '%s\n' "$OUT" | sed -n 2p | awk '{print $1}')" = "{$id1}" ] || fail "order: $OUT"
	expect_out "^ +\{$id1\} +[0-9-]+ [0-9:]+ first$"
	expect_out "^\{$id1\} +\* \{$id2\} +[0-9-]+ [0-9:]+ second$"
	expect_rc 0 "$VZCTL" snapshot-list 1112 -H -o uuid,description --id "$id1"
	[ "$OUT" = "{$id1} before the upgrade" ] || fail "list -H -o: $OUT"
	expect_rc 21 "$VZCTL" snapshot-list 1112 -o nosuch
	# The first snapshot, read-only, beside the running CT.
	expect_rc 0 "$VZCTL" snapshot-mount 1112 --id "$id1" --target "$T/snap"
	[ "$(cat "$T/snap/root/state")" = before ] || fail "snapshot content: $(cat "$T/snap/root/state")"
	touch "$T/snap/x" 2>/dev/null && fail "snapshot mounted writable"
	expect_rc 41 "$VZCTL" snapshot-delete 1112 --id "$id1"
	expect_rc 0 "$VZCTL" snapshot-umount 1112 --id "$id1"
	mountpoint -q "$T/snap" && fail "still mounted"
	# Back to the first: the disk and the config as they were, booted.
	expect_rc 0 "$VZCTL" snapshot-switch 1112 --id "$id1"
	wait_for 100 booted 1112 || fail "no boot after the switch"
	[ "$("$VZCTL" exec 1112 cat /root/state)" = before ] || fail "disk not switched"
	grep -q changed.example.com "$T/conf/1112.conf" && fail "config not switched"
	expect_rc 0 "$VZCTL" snapshot-list 1112 -H -o current,uuid
	expect_out "^\* \{$id1\}$"
	expect_rc 0 "$VZCTL" snapshot-switch 1112 --id "$id2" --skip-resume
	"$VZCTL" status 1112 | grep -q ' running' && fail "--skip-resume started it"
	expect_rc 0 "$VZCTL" start 1112
	wait_for 100 booted 1112 || fail "no boot"
	[ "$("$VZCTL" exec 1112 cat /root/state)" = after ] || fail "second snapshot's disk"
	grep -q changed.example.com "$T/conf/1112.conf" || fail "second snapshot's config"
	expect_rc 0 "$VZCTL" snapshot-delete 1112 --id "$id1"
	expect_rc 159 "$VZCTL" snapshot-switch 1112 --id "$id1"
	expect_out "^Unable to find snapshot by uuid \{$id1\}$"
	expect_rc 20 "$VZCTL" snapshot-delete 1112
	expect_rc 21 "$VZCTL" snapshot-delete 1112 --id nonsense
	"$VZCTL" --quiet create 1113 --ostemplate busybox-x86_64 || fail "create simfs"
	expect_rc 156 "$VZCTL" snapshot 1113
	expect_out 'Snapshot feature is only available for ploop-based CTs'
	expect_rc 0 "$VZCTL" stop 1112
	expect_rc 0 "$VZCTL" destroy 1112
	[ -e "$T/private/1112" ] && fail "destroy left the snapshots"
	return 0
}

# vzctl snapshot of a running CT keeps its memory too, as OpenVZ's did: a
# switch to it brings the CT's processes back as they were at that instant
# (the same pid, the count from the snapshot's disk, tmpfs content), whether
# the CT runs or not, and the dump stays for the next switch. --skip-suspend
# makes one without (the switch boots the CT), which --must-resume refuses
# before anything changes. A restore that fails is a warning, or with
# --must-resume an error that puts the image and config back. A dump that
# fails (no criu; no room for the image copy, which is made while criu holds
# the CT frozen) leaves no snapshot and the CT running on.
t_disk_snapshot_memory() {
	cpt_setup
	start_ploop 1114 --diskspace 200M
	start_counter 1114
	local pid id s_disk b now snaps=$T/private/1114/snapshots
	pid=$(counter_pid 1114)
	[ -n "$pid" ] || fail "no counter pid"
	expect_rc 0 "$VZCTL" exec 1114 'echo snap >/run/marker'
	expect_rc 0 "$VZCTL" snapshot 1114 --name live
	expect_out 'Snapshot \{[0-9a-f-]{36}\} has been successfully created'
	id=$(printf '%s\n' "$OUT" | sed -n 's/^Creating snapshot {\(.*\)}$/\1/p')
	[ -f "$snaps/$id/dump/nvz-cpt.conf" ] || fail "no dump in the snapshot: $(ls -R "$snaps")"
	ls "$snaps" | grep -qv '^[0-9a-f-]*$\|current.conf' && fail "leftovers: $(ls "$snaps")"
	expect_counter_pid 1114 "$pid" "the CT did not run on after the snapshot"
	expect_rc 0 "$VZCTL" snapshot-mount 1114 --id "$id" --target "$T/snap"
	s_disk=$(cat "$T/snap/tmp/count")
	expect_rc 0 "$VZCTL" snapshot-umount 1114 --id "$id"
	[ -n "$s_disk" ] || fail "no count on the snapshot's disk"
	sleep 3
	expect_rc 0 "$VZCTL" exec 1114 'echo later >/run/marker'
	b=$(count 1114)
	[ "$b" -gt $((s_disk + 8)) ] || fail "counter did not move: $b after $s_disk"
	# Running: killed, switched, restored.
	expect_rc 0 "$VZCTL" snapshot-switch 1114 --id "$id"
	expect_out 'Restoring completed successfully'
	expect_counter_pid 1114 "$pid" "counter process not restored"
	sleep 1
	now=$(count 1114)
	[ -n "$now" ] && [ "$now" -gt "$s_disk" ] && [ "$now" -lt "$b" ] ||
		fail "count $now after the switch: not from the snapshot ($s_disk, later $b)"
	[ "$("$VZCTL" exec 1114 cat /run/marker)" = snap ] || fail "tmpfs not from the snapshot"
	[ -f "$snaps/$id/dump/nvz-cpt.conf" ] || fail "the switch removed the snapshot's dump"
	# Stopped: the switch resumes it all the same.
	expect_rc 0 "$VZCTL" stop 1114 --fast
	expect_rc 0 "$VZCTL" snapshot-switch 1114 --id "$id"
	printf '%s\n' "$OUT" | grep -q 'Restoring completed successfully' ||
		fail "no restore: $OUT; $(tail -20 "$snaps/$id/dump/restore.log" 2>&1)"
	expect_counter_pid 1114 "$pid" "not restored from a stopped CT"
	# Without the memory.
	local nomem=22222222-3333-4444-5555-666666666666
	expect_rc 0 "$VZCTL" snapshot 1114 --skip-suspend --id "$nomem"
	[ -e "$snaps/$nomem/dump" ] && fail "--skip-suspend dumped the memory"
	expect_rc 159 "$VZCTL" snapshot-switch 1114 --id "$nomem" --must-resume
	expect_out 'Error: no dump in snapshot, unable to resume'
	expect_counter_pid 1114 "$pid" "--must-resume's refusal touched the CT"
	expect_rc 0 "$VZCTL" snapshot-switch 1114 --id "$nomem"
	wait_for 100 booted 1114 || fail "no boot after a switch to a snapshot without memory"
	[ -z "$(counter_pid 1114)" ] || fail "a snapshot without memory brought processes back"
	expect_rc 0 "$VZCTL" exec 1114 'echo nomem >/root/where; sync'
	# A restore that fails: a warning, or an error with everything put back.
	local meta=$snaps/$id/dump/nvz-cpt.conf here=1 other=2
	cg_v2 && here=2 other=1
	sed -i "s/^CGROUP_VERSION=.*/CGROUP_VERSION=\"$other\"/" "$meta"
	expect_rc 159 "$VZCTL" snapshot-switch 1114 --id "$id" --must-resume
	expect_out "Failed to switch to snapshot \\{$id\\}: .*made under cgroup v$other"
	expect_rc 0 "$VZCTL" snapshot-list 1114 -H -o current,uuid
	expect_out "^\\* \\{$nomem\\}$"
	expect_rc 0 "$VZCTL" start 1114
	wait_for 100 booted 1114 || fail "no boot after the failed switch"
	[ "$("$VZCTL" exec 1114 cat /root/where)" = nomem ] || fail "--must-resume did not put the image back"
	ls "$T/private/1114" | grep -q 'root.hdd.' && fail "leftovers: $(ls "$T/private/1114")"
	expect_rc 0 "$VZCTL" snapshot-switch 1114 --id "$id"
	expect_out 'Warning: failed to resume CT, ignoring \(use --must-resume to treat as error\)'
	"$VZCTL" status 1114 | grep -q ' running' && fail "running after a failed resume"
	sed -i "s/^CGROUP_VERSION=.*/CGROUP_VERSION=\"$here\"/" "$meta"
	# Dumps that fail leave no snapshot, and the CT runs on.
	expect_rc 0 "$VZCTL" start 1114
	wait_for 100 booted 1114 || fail "no boot"
	start_counter 1114
	pid=$(counter_pid 1114)
	echo "CRIU=/nonexistent/criu" >>"$T/vz.conf"
	expect_rc 156 "$VZCTL" snapshot 1114 --id "{33333333-4444-5555-6666-777777777777}"
	expect_out 'Failed to create snapshot \(--skip-suspend makes one without the memory\): .*cannot run /nonexistent/criu'
	sed -i '/^CRIU=\/nonexistent/d' "$T/vz.conf"
	[ -e "$snaps/33333333-4444-5555-6666-777777777777" ] && fail "a failed snapshot left its directory"
	# No room for the image copy at post-dump: the error is the copy's.
	mount -t tmpfs -o size=$(( $(du -sk "$snaps/$id/dump" | cut -f1) + 2048 ))k nvz-test "$snaps" ||
		fail "tmpfs on $snaps"
	expect_rc 156 "$VZCTL" snapshot 1114 --id "{44444444-5555-6666-7777-888888888888}"
	umount "$snaps"
	expect_out 'No space left on device'
	expect_counter_pid 1114 "$pid" "the CT did not run on after a failed snapshot"
	b=$(count 1114)
	sleep 1
	[ "$(count 1114)" -gt "$b" ] || fail "the CT is frozen after a failed snapshot"
	expect_rc 0 "$VZCTL" snapshot-list 1114 -H -o uuid
	[ "$(printf '%s\n' "$OUT" | wc -l)" = 2 ] || fail "snapshots after the failures: $OUT"
	# A CT suspended by vzctl chkpnt --suspend stays suspended through both.
	expect_rc 0 "$VZCTL" chkpnt 1114 --suspend
	b=$(cat "$T/root/1114/tmp/count")
	expect_rc 0 "$VZCTL" snapshot 1114 --id "{55555555-6666-7777-8888-999999999999}"
	expect_rc 0 "$VZCTL" snapshot 1114 --skip-suspend --id "{66666666-7777-8888-9999-aaaaaaaaaaaa}"
	sleep 1
	[ "$(cat "$T/root/1114/tmp/count")" = "$b" ] || fail "a snapshot resumed a suspended CT"
	expect_rc 0 "$VZCTL" chkpnt 1114 --resume
	expect_counter_continues 1114 "$b" "$pid"
	expect_rc 0 "$VZCTL" stop 1114 --fast
	expect_rc 0 "$VZCTL" destroy 1114
	return 0
}

# A ploop mount skips e2fsck -p where the superblock says it would only
# find the filesystem clean (its exec costs more than the mount); it runs
# where the superblock records errors, and also where the superblock looks
# clean but the kernel refuses the filesystem (a damaged group descriptor).
t_disk_ploop_fsck_when_needed() {
	local img=$T/private/1105/root.hdd
	expect_rc 0 "$VZCTL" create 1105 --ostemplate busybox-x86_64 --layout ploop --diskspace 128M
	expect_rc 0 "$VZCTL" mount 1105
	expect_rc 0 "$VZCTL" umount 1105
	debugfs -w -R "ssv state 3" "$img" >/dev/null 2>&1
	dumpe2fs -h "$img" 2>/dev/null | grep -Eq '^Filesystem state: +clean with errors' ||
		fail "could not mark the filesystem: $(dumpe2fs -h "$img" 2>/dev/null | grep state)"
	expect_rc 0 "$VZCTL" mount 1105
	expect_rc 0 "$VZCTL" umount 1105
	dumpe2fs -h "$img" 2>/dev/null | grep -Eq '^Filesystem state: +clean$' ||
		fail "e2fsck did not run: $(dumpe2fs -h "$img" 2>/dev/null | grep state)"
	# Group 0's block bitmap pointed outside the filesystem, the superblock
	# untouched: e2fsck -p refuses to guess, and its verdict is the error.
	local bs
	bs=$(dumpe2fs -h "$img" 2>/dev/null | awk -F: '/^Block size/ {print $2 + 0}')
	printf '\xf0\xff\xff\xff' | dd of="$img" bs=1 seek=$((bs == 1024 ? 2048 : bs)) conv=notrunc 2>/dev/null
	"$VZCTL" mount 1105 >"$T/m.out" 2>&1 && fail "a damaged filesystem was mounted"
	grep -q 'needs a manual e2fsck' "$T/m.out" || fail "not e2fsck's verdict: $(cat "$T/m.out")"
	grep -q "$T/root/1105" /proc/self/mountinfo && fail "mounted anyway"
	true
}

# --diskspace on a running CT: grown online where the kernel lets root resize
# ext4 (CAP_SYS_RESOURCE); refused here, clearly, with the CT unharmed; then
# done offline.
t_disk_ploop_grow() {
	start_ploop 1102 --diskspace 200M:200M
	"$VZCTL" exec 1102 'dd if=/dev/zero of=/fill bs=1M count=300 2>/dev/null; sync'
	"$VZCTL" exec 1102 'rm /fill; dd if=/dev/zero of=/want bs=1M count=250 2>&1' | grep -q 'No space' ||
		fail "250M fit in 200M"
	"$VZCTL" exec 1102 'rm -f /want'
	"$VZCTL" set 1102 --diskspace 400M:400M --save >"$T/out" 2>&1
	local rc=$?
	# Root with CAP_SYS_RESOURCE (a stock host, the VM lane) must grow online;
	# without it (this sandbox) the kernel refuses and nvz must say so.
	if have_cap_sys_resource; then
		[ $rc -eq 0 ] || fail "online grow failed with CAP_SYS_RESOURCE: $(cat "$T/out")"
		grep -q '^DISKSPACE="409600:409600"$' "$T/conf/1102.conf" || fail "grown but not saved"
	else
		[ $rc -ne 0 ] || fail "online grow succeeded without CAP_SYS_RESOURCE?"
		grep -q 'CAP_SYS_RESOURCE' "$T/out" || fail "unclear refusal: $(cat "$T/out")"
		grep -q 'not saving configuration' "$T/out" || fail "no not-saved notice"
		grep -q '^DISKSPACE="204800:204800"$' "$T/conf/1102.conf" || fail "config changed by a refused set"
		ct_running 1102 || fail "CT harmed by the refused resize"
		"$VZCTL" exec 1102 'touch /still-writable' || fail "CT fs not writable after refusal"
		expect_rc 0 "$VZCTL" stop 1102
		expect_rc 0 "$VZCTL" set 1102 --diskspace 400M:400M --save
		expect_rc 0 "$VZCTL" start 1102
		wait_for 100 booted 1102 || fail "no boot"
	fi
	local total
	total=$(df_k 1102)
	[ "$total" -ge 360000 ] || fail "df after grow: $total KiB"
	expect_rc 0 "$VZCTL" exec 1102 'dd if=/dev/zero of=/want bs=1M count=250 2>&1 && echo written'
	expect_out 'written'
	# Shrinking a running CT is refused; offline, below usage, refused too.
	expect_rc 41 "$VZCTL" set 1102 --diskspace 300M:300M --save
	expect_out 'stop the container first'
	expect_rc 0 "$VZCTL" stop 1102
	"$VZCTL" set 1102 --diskspace 100M:100M --save >"$T/out" 2>&1 && fail "shrink below usage accepted"
	grep -q '^DISKSPACE="409600:409600"$' "$T/conf/1102.conf" || fail "config changed by refused shrink"
	# Make room (resize2fs's own minimum is conservative), then shrink.
	expect_rc 0 "$VZCTL" mount 1102
	rm "$T/root/1102/want"
	echo keep >"$T/root/1102/marker"
	expect_rc 0 "$VZCTL" umount 1102
	expect_rc 0 "$VZCTL" set 1102 --diskspace 300M:300M --save
	expect_rc 0 "$VZCTL" start 1102
	[ "$(df_k 1102)" -lt 310000 ] || fail "df after shrink: $(df_k 1102)"
	expect_rc 0 "$VZCTL" exec 1102 'cat /marker'
	[ "$OUT" = keep ] || fail "files lost by the offline shrink"
}

# The guide: disk has space but no inodes; raise --diskinodes.
t_disk_inodes_guide() {
	start_ploop 1103 --diskspace 200M:200M --diskinodes 2000:2000
	"$VZCTL" exec 1103 'mkdir /many; i=0; while [ $i -lt 50000 ] && touch /many/f$i 2>/dev/null; do i=$((i+1)); done; echo $i' >"$T/n"
	expect_rc 0 "$VZCTL" exec 1103 'df -i / | tail -1'
	expect_out '100%'
	expect_rc 0 "$VZCTL" exec 1103 'df -k / | tail -1'
	printf '%s' "$OUT" | grep -q '100%' && fail "space also full: $OUT"
	# Live: ext4's inode count is fixed at mkfs: a clear refusal saying how.
	expect_rc 41 "$VZCTL" set 1103 --diskinodes 20000:20000 --save
	expect_out 'vzctl stop CT; vzctl set CT --diskinodes 20000'
	# As the refusal says: stop, set, start; files kept.
	expect_rc 0 "$VZCTL" stop 1103
	expect_rc 0 "$VZCTL" set 1103 --diskinodes 20000:20000 --save
	expect_rc 0 "$VZCTL" start 1103
	wait_for 100 booted 1103 || fail "no boot"
	local inodes
	inodes=$(df_i 1103)
	[ "$inodes" -ge 20000 ] && [ "$inodes" -le 24000 ] || fail "df -i after raise: $inodes"
	expect_rc 0 "$VZCTL" exec 1103 'ls /many | wc -l'
	[ "$OUT" -eq "$(cat "$T/n")" ] || fail "files lost: $OUT of $(cat "$T/n")"
	expect_rc 0 "$VZCTL" exec 1103 'touch /many/more && echo ok'
}

# The guide's "df lies after files were written from the host": impossible
# on ploop, the host writes into the CT's own filesystem.
t_disk_df_never_lies() {
	start_ploop 1104 --diskspace 300M:300M
	local used1 used2
	used1=$("$VZCTL" exec 1104 'df -k / | tail -1' | awk '{print $3}')
	dd if=/dev/zero of="$T/root/1104/from-host" bs=1M count=50 2>/dev/null
	sync
	used2=$("$VZCTL" exec 1104 'df -k / | tail -1' | awk '{print $3}')
	echo "used inside: $used1 -> $used2 KiB after 50 MiB written from the host"
	[ $((used2 - used1)) -ge 50000 ] || fail "df inside did not count the host's write"
	expect_rc 0 "$VZCTL" exec 1104 'ls -l /from-host'
}

# --diskspace/--diskinodes/--quotatime are saved as vzctl 4.x saves them
# (config.c store_dq): "soft:hard" in 1 KiB blocks and inodes, one value
# for both, suffixes K/M/G/T for inodes too; bad ones are vzctl's "Bad
# parameter for --X: Y" (21).
t_disk_values_saved_as_vzctl() {
	local conf=$T/conf/1107.conf
	expect_rc 0 "$VZCTL" create 1107 --ostemplate busybox-x86_64 --layout ploop --diskspace 64M --diskinodes 20K
	grep -q '^DISKSPACE="65536:65536"$' "$conf" || fail "create: $(grep DISKSPACE "$conf")"
	grep -q '^DISKINODES="20480:20480"$' "$conf" || fail "create: $(grep DISKINODES "$conf")"
	expect_rc 0 "$VZCTL" set 1107 --diskspace 80M:0.1G --quotatime 0600 --save
	grep -q '^DISKSPACE="81920:104857"$' "$conf" || fail "set: $(grep DISKSPACE "$conf")"
	grep -q '^QUOTATIME="600"$' "$conf" || fail "set: $(grep QUOTATIME "$conf")"
	cp "$conf" "$T/before"
	expect_rc 21 "$VZCTL" set 1107 --diskspace 10X --save
	expect_out '^Bad parameter for --diskspace: 10X$'
	expect_rc 21 "$VZCTL" set 1107 --diskinodes 1.5 --save
	expect_out '^Bad parameter for --diskinodes: 1.5$'
	expect_rc 21 "$VZCTL" set 1107 --quotatime 1:2 --save
	expect_out '^Bad parameter for --quotatime: 1:2$'
	expect_rc 21 "$VZCTL" set 1107 --diskspace 2G:1G --save
	expect_out '^Bad parameter for --diskspace: 2G:1G \(soft limit is greater than hard limit\)$'
	cmp -s "$T/before" "$conf" || fail "config changed by bad input"
}

t_disk_bad_input() {
	start_ploop 1105 --diskspace 200M:200M
	cp "$T/conf/1105.conf" "$T/before"
	expect_rc 21 "$VZCTL" set 1105 --diskspace abc --save
	expect_rc 21 "$VZCTL" set 1105 --diskspace 300M:200M --save
	expect_rc 21 "$VZCTL" set 1105 --diskinodes -5 --save
	cmp -s "$T/before" "$T/conf/1105.conf" || fail "config changed by bad input"
	expect_rc 63 "$VZCTL" create 1106 --ostemplate busybox-x86_64 --layout ploop
	expect_out 'diskspace not set'
	[ -e "$T/private/1106" ] && fail "private area left"
	expect_rc 0 "$VZCTL" status 1105
	expect_out 'running'
	expect_rc 0 "$VZCTL" stop 1105
	expect_rc 0 "$VZCTL" mount 1105
	[ -x "$T/root/1105/bin/busybox" ] || fail "mount of a stopped ploop CT shows no files"
	expect_rc 0 "$VZCTL" umount 1105
	expect_rc 0 "$VZCTL" destroy 1105
	[ -e "$T/private/1105" ] && fail "destroy left the image"
	losetup -a | grep -q "$T" && fail "loop device left: $(losetup -a)"
	return 0
}

# Who keeps a loop device of this server: processes whose mount table or
# descriptors name it (to tell a leak from the kernel's slow release).
loop_holders() {
	local p
	for p in /proc/[0-9]*; do
		grep -qs "$T" "$p/mountinfo" && echo "mount in ${p#/proc/} ($(cat "$p/comm" 2>/dev/null))"
		ls -l "$p/fd" 2>/dev/null | grep -q "$T\|/dev/loop" &&
			echo "fd in ${p#/proc/} ($(cat "$p/comm" 2>/dev/null))"
	done | head -10 | tr '\n' ';'
}

t_disk_kill9_create_ploop() {
	local d i=0
	for d in 0.005 0.01 0.02 0.03 0.05; do
		i=$((i + 1))
		"$VZCTL" create $((1110 + i)) --ostemplate busybox-x86_64 --layout ploop --diskspace 100M >/dev/null 2>&1 &
		local pid=$!
		sleep $d
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		# The kernel frees an autoclear device when the killed command's mount
		# namespace is torn down, after the superblock is flushed: asynchronous,
		# seconds under load or ASan. Left for good is the bug; slow is not.
		wait_for 100 eval '! losetup -a | grep -q "$T"' ||
			fail "loop device left after kill: $(losetup -a | grep "$T"); held by: $(loop_holders)"
		grep -q "$T" /proc/self/mounts && fail "mount left after kill: $(grep "$T" /proc/self/mounts)"
		"$VZCTL" status $((1110 + i)) | grep -q exist ||
			"$VZCTL" --quiet create $((1110 + i)) --ostemplate busybox-x86_64 --layout ploop --diskspace 100M ||
			fail "create after kill failed"
		expect_rc 0 "$VZCTL" start $((1110 + i))
		expect_rc 0 "$VZCTL" stop $((1110 + i))
	done
}

t_disk_compact() {
	start_ploop 1107 --diskspace 300M:300M
	"$VZCTL" exec 1107 'dd if=/dev/urandom of=/big bs=1M count=60 2>/dev/null; sync; rm /big; sync'
	local before after
	before=$(du -k "$T/private/1107/root.hdd" | cut -f1)
	expect_rc 0 "$VZCTL" compact 1107
	after=$(du -k "$T/private/1107/root.hdd" | cut -f1)
	echo "image on disk: $before -> $after KiB"
	[ $((before - after)) -ge 40000 ] || fail "compact freed only $((before - after)) KiB"
	expect_rc 0 "$VZCTL" create 1108 --ostemplate busybox-x86_64
	expect_rc 0 "$VZCTL" compact 1108
	expect_out '^Compact only makes sense for ploop containers$'
}

# As vzctl: convert of a CT already on ploop and compact of one that is not
# say so and succeed (scripts run them over every CT); convert of a mounted
# CT and compact of a missing private area are refused in vzctl's words.
# vzctl snapshot*'s words and statuses: each command refuses a CT not on
# ploop with its own status (156 create, 159 switch, 158 delete, 160 mount,
# 161 umount, 167 list), an unknown snapshot likewise, with vzctl's closing
# line for switch and delete; what they say when they work.
t_disk_snapshot_messages() {
	local id=11111111-2222-3333-4444-555555555555 cmd
	expect_rc 0 "$VZCTL" create 1116 --ostemplate busybox-x86_64
	for cmd in snapshot:156 snapshot-switch:159 snapshot-delete:158 snapshot-mount:160 \
		snapshot-umount:161 snapshot-list:167; do
		expect_rc "${cmd#*:}" "$VZCTL" "${cmd%:*}" 1116 --id "$id"
		[ "$OUT" = 'Snapshot feature is only available for ploop-based CTs' ] || fail "${cmd%:*}: $OUT"
	done
	expect_rc 0 "$VZCTL" create 1117 --ostemplate busybox-x86_64 --layout ploop --diskspace 200M
	expect_rc 159 "$VZCTL" snapshot-switch 1117 --id "$id"
	[ "$OUT" = "Unable to find snapshot by uuid {$id}
Failed to switch to snapshot {$id}" ] || fail "switch: $OUT"
	expect_rc 158 "$VZCTL" snapshot-delete 1117 --id "{$id}"
	[ "$OUT" = "Unable to find snapshot by uuid {$id}
Failed to delete snapshot {$id}" ] || fail "delete: $OUT"
	expect_rc 160 "$VZCTL" snapshot-mount 1117 --id "$id" --target "$T/snap"
	[ "$OUT" = "Unable to find snapshot by uuid {$id}" ] || fail "mount: $OUT"
	expect_rc 20 "$VZCTL" snapshot-delete 1117
	[ "$OUT" = "Invalid syntax: snapshot id is missing" ] || fail "no id: $OUT"
	expect_rc 21 "$VZCTL" snapshot-switch 1117 --id nonsense
	[ "$OUT" = "Bad parameter for --id: nonsense" ] || fail "bad id: $OUT"
	expect_rc 0 "$VZCTL" snapshot 1117 --id "$id"
	expect_rc 0 "$VZCTL" snapshot-mount 1117 --id "$id" --target "$T/snap"
	[ "$OUT" = "Mounting snapshot {$id} to $T/snap" ] || fail "mount: $OUT"
	expect_rc 0 "$VZCTL" snapshot-umount 1117 --id "$id"
	[ "$OUT" = "Umounting snapshot {$id}" ] || fail "umount: $OUT"
	expect_rc 0 "$VZCTL" snapshot-switch 1117 --id "$id"
	[ "$OUT" = "Switching to snapshot {$id}
Container has been successfully switched to another snapshot" ] || fail "switch: $OUT"
	expect_rc 0 "$VZCTL" snapshot-delete 1117 --id "$id"
	[ "$OUT" = "Deleting snapshot {$id}
Snapshot {$id} has been successfully deleted" ] || fail "delete: $OUT"
	return 0
}

# vzctl snapshot-list: its fields (desc, device, target too; names in any
# case; -L names them), its column widths, --id: that snapshot and its
# ancestors; "Unknown field" and a bad or unknown --id are 21.
t_disk_snapshot_list() {
	local a=aaaaaaaa-0000-0000-0000-000000000001 b=bbbbbbbb-0000-0000-0000-000000000002
	local c=cccccccc-0000-0000-0000-000000000003
	expect_rc 0 "$VZCTL" create 1118 --ostemplate busybox-x86_64 --layout ploop --diskspace 200M
	expect_rc 0 "$VZCTL" snapshot-list 1118
	[ "$OUT" = "$(printf '%-38s %-1s %-38s %-19s %-32s' PARENT_UUID C UUID DATE NAME)" ] || fail "empty list: '$OUT'"
	expect_rc 0 "$VZCTL" snapshot 1118 --id "$a" --name first --description "the first one"
	expect_rc 0 "$VZCTL" snapshot 1118 --id "$b" --name second
	expect_rc 0 "$VZCTL" snapshot-switch 1118 --id "$a"
	expect_rc 0 "$VZCTL" snapshot 1118 --id "$c" --name third
	expect_rc 0 "$VZCTL" snapshot-list 1118 -H -o uuid --id "$c"
	[ "$OUT" = "{$c}
{$a}" ] || fail "--id $c: $OUT"
	expect_rc 0 "$VZCTL" snapshot-list 1118 -o NAME,Desc,current --id "{$b}"
	[ "$OUT" = "$(printf '%-32s %-32s %-1s\n%-32s %-38s \n%-32s %-38s ' NAME DESC C second '' first 'the first one')" ] ||
		fail "-o: '$OUT'"
	expect_rc 0 "$VZCTL" snapshot-list 1118 -H -o name,desc --id "$a"
	[ "$OUT" = "$(printf '%-32s %s' first 'the first one')" ] || fail "desc: '$OUT'"
	expect_rc 0 "$VZCTL" snapshot-list 1118 -L
	[ "$(printf '%s\n' "$OUT" | awk '{print $1 ":" $2}' | tr '\n' ' ')" = \
		"uuid:UUID parent_uuid:PARENT_UUID current:C date:DATE name:NAME desc:DESC device:DEVICE target:TARGET " ] ||
		fail "-L: $OUT"
	expect_rc 0 "$VZCTL" snapshot-mount 1118 --id "$b" --target "$T/snap"
	expect_rc 0 "$VZCTL" snapshot-list 1118 -H -o uuid,device,target
	expect_out "^\{$b\} +/dev/loop[0-9]+ +$T/snap$"
	expect_out "^\{$a\} +$"
	expect_rc 0 "$VZCTL" snapshot-umount 1118 --id "$b"
	expect_rc 21 "$VZCTL" snapshot-list 1118 -o uuid,nosuch
	[ "$OUT" = "Unknown field: nosuch" ] || fail "unknown field: $OUT"
	expect_rc 21 "$VZCTL" snapshot-list 1118 --id nonsense
	[ "$OUT" = "Invalid guid is specified: nonsense" ] || fail "bad id: $OUT"
	expect_rc 21 "$VZCTL" snapshot-list 1118 --id dddddddd-0000-0000-0000-000000000004
	[ "$OUT" = "Can't find snapshot by uuid {dddddddd-0000-0000-0000-000000000004}" ] || fail "unknown id: $OUT"
	return 0
}

t_disk_convert_compact_noop() {
	expect_rc 0 "$VZCTL" create 1114 --ostemplate busybox-x86_64 --layout ploop --diskspace 200M
	expect_rc 0 "$VZCTL" convert 1114
	expect_out '^CT is already on ploop$'
	grep -q '^VE_LAYOUT="ploop' "$T/conf/1114.conf" || fail "layout changed: $(grep VE_LAYOUT "$T/conf/1114.conf")"
	expect_rc 0 "$VZCTL" create 1115 --ostemplate busybox-x86_64 --diskspace 200M
	expect_rc 0 "$VZCTL" compact 1115
	expect_out '^Compact only makes sense for ploop containers$'
	expect_rc 0 "$VZCTL" mount 1115
	expect_rc 41 "$VZCTL" convert 1115
	expect_out '^CT is mounted \(umount it first\)$'
	expect_rc 0 "$VZCTL" umount 1115
	mv "$T/private/1115" "$T/private/1115.away"
	expect_rc 43 "$VZCTL" compact 1115
	expect_out "Container private area $T/private/1115 does not exist"
	mv "$T/private/1115.away" "$T/private/1115"
	return 0
}

# Template sharing: many CTs, one copy of the template; changes stay private.
t_disk_template_sharing() {
	local i id
	for i in $(seq 1 20); do
		id=$((1200 + i))
		"$VZCTL" --quiet create $id --ostemplate busybox-x86_64 --layout simfs:shared || fail "create $id"
	done
	local trees
	trees=$(ls -d "$T"/template/shared/busybox-x86_64@* | grep -vc complete)
	[ "$trees" -eq 1 ] || fail "$trees template trees for one template"
	local priv_kb tmpl_kb
	priv_kb=$(du -sk "$T/private" | cut -f1)
	tmpl_kb=$(du -sk "$T/template/shared" | cut -f1)
	echo "20 CTs: private areas ${priv_kb} KiB in all, shared template ${tmpl_kb} KiB"
	[ "$priv_kb" -lt $((tmpl_kb / 2)) ] || fail "20 CTs take $priv_kb KiB beside a $tmpl_kb KiB template"
	"$VZCTL" --quiet start 1201 || fail start
	"$VZCTL" --quiet start 1202 || fail start
	wait_for 100 booted 1201 || fail "no boot"
	expect_rc 0 "$VZCTL" exec 1201 'echo changed > /etc/motd; rm /bin/vi; echo done'
	expect_rc 0 "$VZCTL" exec 1202 'cat /etc/motd 2>/dev/null; test -e /bin/vi && echo vi-here'
	printf '%s' "$OUT" | grep -q changed && fail "a change leaked into another CT"
	expect_out 'vi-here'
	local tree
	tree=$(ls -d "$T"/template/shared/busybox-x86_64@* | grep -v complete)
	[ -e "$tree/bin/vi" ] || fail "the shared template was changed"
	grep -q changed "$tree/etc/motd" 2>/dev/null && fail "template motd changed"
	# The same file is one inode for every CT: shared page cache.
	local ino1 ino2
	ino1=$("$VZCTL" exec 1201 'stat -c %i /bin/busybox')
	ino2=$("$VZCTL" exec 1202 'stat -c %i /bin/busybox')
	[ "$ino1" = "$ino2" ] || fail "busybox not shared ($ino1 vs $ino2)"
	expect_rc 0 "$VZCTL" stop 1201
	expect_rc 0 "$VZCTL" destroy 1201
	[ -e "$tree/bin/busybox" ] || fail "destroy touched the shared template"
	# ploop:shared: the CT's layer in its own image; df counts only it.
	expect_rc 0 "$VZCTL" create 1230 --ostemplate busybox-x86_64 --layout ploop:shared --diskspace 100M
	expect_rc 0 "$VZCTL" start 1230
	wait_for 100 booted 1230 || fail "no boot"
	local used
	used=$("$VZCTL" exec 1230 'df -k / | tail -1' | awk '{print $3}')
	[ "$used" -lt 1000 ] || fail "df inside counts the template: $used KiB used"
}

# A CT on a shared template gets its empty layer at create without any
# mount: ploop:shared writes upper/ and work/ into the new ext4 with mkfs
# (no loop device stays bound, no seed directory stays behind), simfs:shared
# makes them in its directory. Both then start, take changes and keep them.
t_disk_shared_layer_create() {
	expect_rc 0 "$VZCTL" create 1240 --ostemplate busybox-x86_64 --layout ploop:shared --diskspace 64M --diskinodes 20000
	expect_rc 0 "$VZCTL" create 1241 --ostemplate busybox-x86_64 --layout simfs:shared
	local img=$T/private/1240/root.hdd
	[ "$(ls -A "$T/private/1240")" = root.hdd ] || fail "private area holds: $(ls -A "$T/private/1240")"
	losetup -j "$img" | grep -q . && fail "a loop device is bound to the new image: $(losetup -j "$img")"
	e2fsck -fn "$img" >/dev/null 2>&1 || fail "the new image is not a clean ext4: $(e2fsck -fn "$img" 2>&1 | tail -3)"
	local ls
	ls=$(debugfs -R 'ls -l /' "$img" 2>/dev/null)
	printf '%s\n' "$ls" | grep -Eq '40755 .* (upper|work)$' || fail "no upper/work in the image: $ls"
	[ "$(printf '%s\n' "$ls" | grep -Ec '40755 \(2\) +0 +0 .* (upper|work)$')" -eq 2 ] ||
		fail "upper/work not root-owned 0755: $ls"
	[ "$(stat -c %a "$T/private/1241/upper")" = 755 ] || fail "simfs:shared upper mode $(stat -c %a "$T/private/1241/upper")"
	[ -d "$T/private/1241/work" ] || fail "simfs:shared has no work directory"
	local id
	for id in 1240 1241; do
		expect_rc 0 "$VZCTL" start $id
		wait_for 100 booted $id || fail "CT $id did not boot"
		expect_rc 0 "$VZCTL" exec $id 'echo kept > /root/mark; stat -c %a /'
		expect_out '^755$'
		expect_rc 0 "$VZCTL" stop $id --fast
		expect_rc 0 "$VZCTL" start $id
		expect_rc 0 "$VZCTL" exec $id 'cat /root/mark'
		expect_out '^kept$'
		expect_rc 0 "$VZCTL" stop $id --fast
	done
	# The overlay's own work/work (made by the kernel at each mount) goes
	# at the unmount: the next mount need not clean it up first.
	expect_rc 0 "$VZCTL" mount 1241
	[ -d "$T/private/1241/work/work" ] || fail "mounted, but no overlay work/work"
	expect_rc 0 "$VZCTL" umount 1241
	[ -e "$T/private/1241/work/work" ] && fail "work/work left after the unmount"
	[ -d "$T/private/1241/work" ] || fail "the unmount removed work itself"
	# ploop:shared: the same inside the image (stopped above).
	ls=$(debugfs -R 'ls /work' "$img" 2>/dev/null | tr -s ' ' '\n')
	printf '%s\n' "$ls" | grep -qx '\.\.' || fail "no work directory in the image: $ls"
	printf '%s\n' "$ls" | grep -qx work && fail "work/work left in the image"
	# DISKINODES still shapes the image (mkfs -N with -d).
	local inodes
	inodes=$(dumpe2fs -h "$img" 2>/dev/null | awk -F: '/^Inode count/ {print $2+0}')
	[ "$inodes" -ge 20000 ] && [ "$inodes" -lt 30000 ] || fail "inode count $inodes for --diskinodes 20000"
}
