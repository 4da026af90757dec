# OpenVZ's action scripts (lib/ct/actions.c): vps.EVENT and CTID.EVENT in
# the CT config directory, on the host around mount and unmount and after
# create; CTID.start and CTID.stop inside the CT.
# shellcheck shell=bash

# action_script NAME BODY: an executable script in the CT config directory
# that logs "NAME VEID" to $T/actions.log before its body.
action_script() {
	printf '#!/bin/sh\necho "%s $VEID" >>"%s"\n%s\n' "$1" "$T/actions.log" "$2" >"$T/conf/$1"
	chmod +x "$T/conf/$1"
}

mounts_below() { awk -v r="$1/" 'index($5, r) == 1' /proc/self/mountinfo; }

# The classic use: CTID.mount binds a host directory into the CT, with the
# paths from the configs it sources, as OpenVZ's wiki shows.
t_action_scripts_mount_and_inside() {
	mkdir -p "$T/hostdir"
	echo from-the-host >"$T/hostdir/hello"
	action_script vps.create 'test -e "$VE_CONFFILE" || exit 1'
	expect_rc 0 "$VZCTL" create 720 --ostemplate busybox-x86_64
	local id root
	for id in vps 720; do
		action_script $id.premount ''
		action_script $id.umount ''
		action_script $id.postumount ''
	done
	action_script vps.mount ''
	action_script 720.mount '. "$VZ_CONF"; . "$VE_CONFFILE"
[ "$VE_ROOT" = "'"$T/root/720"'" ] || exit 9
mkdir -p "$VE_ROOT/mnt/host" && mount --bind "'"$T/hostdir"'" "$VE_ROOT/mnt/host"'
	printf 'echo started >/run/start-script\n' >"$T/conf/720.start"
	printf 'cat /mnt/host/hello >/mnt/host/seen-at-stop\n' >"$T/conf/720.stop"
	root=$T/root/720
	expect_rc 0 "$VZCTL" start 720
	wait_for 100 booted 720 || fail "CT did not boot"
	OUT=$(cat "$T/actions.log")
	expect_out '^vps.create 720$'
	[ "$(sed -n '2,5p' "$T/actions.log" | tr '\n' ' ')" = "vps.premount 720 720.premount 720 vps.mount 720 720.mount 720 " ] ||
		fail "order: $(cat "$T/actions.log")"
	expect_rc 0 "$VZCTL" exec 720 cat /mnt/host/hello
	expect_out '^from-the-host$'
	expect_rc 0 "$VZCTL" exec 720 cat /run/start-script
	expect_out '^started$'
	# A reboot inside restarts the CT as a start does: CTID.start again.
	reboot_inside 720 200 'rm /run/start-script; reboot'
	wait_for 100 booted 720 || fail "no boot after reboot"
	wait_for 50 "$VZCTL" exec 720 test -e /run/start-script || fail "720.start did not run after the reboot"
	expect_rc 0 "$VZCTL" exec 720 cat /mnt/host/hello
	expect_out '^from-the-host$'
	: >"$T/actions.log"
	expect_rc 0 "$VZCTL" stop 720
	[ "$(cat "$T/hostdir/seen-at-stop" 2>/dev/null)" = from-the-host ] || fail "720.stop did not run inside"
	[ "$(tr '\n' ' ' <"$T/actions.log")" = "vps.umount 720 720.umount 720 vps.postumount 720 720.postumount 720 " ] ||
		fail "order at stop: $(cat "$T/actions.log")"
	# The bind no umount script took away went with the CT's mount.
	[ -z "$(mounts_below "$root")" ] || fail "left below VE_ROOT: $(mounts_below "$root")"
	expect_rc 0 "$VZCTL" status 720
	expect_out 'exist unmounted down'
	[ -e "$T/hostdir/hello" ] || fail "the host directory lost its file"
	# vzctl mount and umount run them too.
	: >"$T/actions.log"
	expect_rc 0 "$VZCTL" mount 720
	[ -e "$root/mnt/host/hello" ] || fail "no bind after vzctl mount"
	expect_rc 0 "$VZCTL" umount 720
	[ "$(wc -l <"$T/actions.log")" = 8 ] || fail "mount + umount: $(cat "$T/actions.log")"
	# destroy keeps the CT's scripts aside, so a new CT 720 does not run them.
	expect_rc 0 "$VZCTL" destroy 720
	[ -e "$T/conf/720.mount.destroyed" ] && [ ! -e "$T/conf/720.mount" ] || fail "720.mount not kept aside"
	[ -e "$T/conf/720.start.destroyed" ] || fail "720.start not kept aside"
	[ -e "$T/conf/vps.mount" ] || fail "the server's vps.mount went with the CT"
	return 0
}

# A script that fails fails the command with status 79 and leaves nothing
# behind: not mounted, not running.
t_action_scripts_failing() {
	expect_rc 0 "$VZCTL" create 721 --ostemplate busybox-x86_64
	local root=$T/root/721
	action_script 721.premount 'exit 3'
	expect_rc 79 "$VZCTL" start 721
	expect_out "Error executing premount script $T/conf/721.premount: exit status 3"
	mountpoint -q "$root" && fail "mounted after a failed premount"
	rm "$T/conf/721.premount"
	mkdir -p "$T/hostdir"
	action_script 721.mount 'mkdir -p "$VE_ROOT/mnt/host" && mount --bind "'"$T/hostdir"'" "$VE_ROOT/mnt/host"; exit 1'
	expect_rc 79 "$VZCTL" start 721
	expect_out "Error executing mount script $T/conf/721.mount: exit status 1"
	[ -z "$(mounts_below "$root")" ] || fail "left below VE_ROOT: $(mounts_below "$root")"
	mountpoint -q "$root" && fail "mounted after a failed mount script"
	rm "$T/conf/721.mount"
	printf 'exit 4\n' >"$T/conf/721.start"
	expect_rc 79 "$VZCTL" start 721
	expect_out "Error executing start script $T/conf/721.start: exit status 4"
	ct_running 721 && fail "running after its start script failed"
	expect_rc 0 "$VZCTL" status 721
	expect_out 'exist unmounted down'
	# A stop script that fails does not keep the CT up.
	rm "$T/conf/721.start"
	printf 'exit 5\n' >"$T/conf/721.stop"
	expect_rc 0 "$VZCTL" start 721
	expect_rc 0 "$VZCTL" stop 721
	expect_out "Warning: Error executing stop script $T/conf/721.stop: exit status 5"
	ct_running 721 && fail "still running"
	return 0
}

# A host directory a mount script binds into the CT survives chkpnt and
# restore as that bind (criu cannot dump it: the restore's mount runs the
# script again and criu takes the bind from there). Without the script at
# restore, the CT finds an empty directory there.
t_action_scripts_chkpnt() {
	cpt_setup
	mkdir -p "$T/hostdir"
	echo from-the-host >"$T/hostdir/hello"
	expect_rc 0 "$VZCTL" create 722 --ostemplate busybox-x86_64
	action_script 722.mount 'mkdir -p "$VE_ROOT/mnt/host" && mount --bind "'"$T/hostdir"'" "$VE_ROOT/mnt/host"'
	expect_rc 0 "$VZCTL" start 722
	wait_for 100 booted 722 || fail "CT did not boot"
	expect_rc 0 "$VZCTL" chkpnt 722
	grep -q 'nvz-host:/mnt/host' "$T/dump/Dump.722/nvz-cpt.conf" || fail "the bind is not external in the dump"
	expect_rc 0 "$VZCTL" restore 722
	expect_rc 0 "$VZCTL" exec 722 cat /mnt/host/hello
	expect_out '^from-the-host$'
	expect_rc 0 "$VZCTL" exec 722 'echo from-inside >/mnt/host/back'
	[ "$(cat "$T/hostdir/back")" = from-inside ] || fail "not the host directory after restore"
	expect_rc 0 "$VZCTL" chkpnt 722
	rm "$T/conf/722.mount"
	expect_rc 0 "$VZCTL" restore 722
	expect_rc 0 "$VZCTL" exec 722 ls -A /mnt/host
	[ -z "$OUT" ] || fail "/mnt/host without its script: $OUT"
	expect_rc 0 "$VZCTL" stop 722
	[ -z "$(mounts_below "$T/root/722")" ] || fail "left below VE_ROOT: $(mounts_below "$T/root/722")"
	return 0
}

# A vps.create that fails undoes the create, as vzctl did: no "was
# created", no config, name or private area left; status 79.
t_action_create_script_fails() {
	action_script vps.create 'exit 3'
	expect_rc 79 "$VZCTL" create 723 --ostemplate busybox-x86_64 --name n723
	expect_out "Destroying container private area: $T/private/723"
	expect_out 'Creation of container private area failed$'
	printf '%s\n' "$OUT" | grep -q 'Container private area was created' && fail "said created: $OUT"
	[ -e "$T/conf/723.conf" ] && fail "config left"
	[ -e "$T/names/n723" ] || [ -L "$T/names/n723" ] && fail "name left"
	[ -e "$T/private/723" ] && fail "private area left"
	expect_rc 0 "$VZCTL" status 723
	[ "$OUT" = "CTID 723 deleted unmounted down" ] || fail "status: $OUT"
	# The next create, with the script fixed, works.
	action_script vps.create 'exit 0'
	expect_rc 0 "$VZCTL" create 723 --ostemplate busybox-x86_64 --name n723
	return 0
}

# Around a checkpoint, as vzctl: an umount script that fails after the dump
# is said and the checkpoint stands (0, the CT left mounted); a premount
# script that fails at restore fails it with its own status, 79, and the
# dump stays for the next try.
t_action_scripts_cpt_status() {
	cpt_setup
	start_busybox 723
	action_script 723.umount 'exit 3'
	expect_rc 0 "$VZCTL" chkpnt 723
	expect_out '^Checkpointing completed successfully$'
	expect_out "^Error executing umount script $T/conf/723.umount: exit status 3$"
	expect_rc 0 "$VZCTL" status 723
	expect_out 'exist mounted down suspended$'
	rm "$T/conf/723.umount"
	expect_rc 0 "$VZCTL" umount 723
	action_script 723.premount 'exit 4'
	expect_rc 79 "$VZCTL" restore 723
	expect_out "^Error executing premount script $T/conf/723.premount: exit status 4$"
	expect_rc 0 "$VZCTL" status 723
	expect_out 'exist unmounted down suspended$'
	rm "$T/conf/723.premount"
	expect_rc 0 "$VZCTL" restore 723
	expect_out 'Restoring completed successfully'
	expect_rc 0 "$VZCTL" stop 723 --fast
	return 0
}

# vzctl ran the scripts with /bin, /sbin, /usr/bin and /usr/sbin in PATH:
# a mount script calling a tool in sbin worked from cron too. The caller's
# own PATH is kept in front.
t_action_scripts_path() {
	expect_rc 0 "$VZCTL" create 724 --ostemplate busybox-x86_64
	action_script 724.premount 'echo "$PATH" >"'"$T/path"'"'
	expect_rc 0 env PATH=/opt/x:/usr/bin:/bin "$VZCTL" mount 724
	[ "$(cat "$T/path")" = /opt/x:/usr/bin:/bin:/sbin:/usr/sbin ] || fail "PATH: $(cat "$T/path")"
	expect_rc 0 "$VZCTL" umount 724
	expect_rc 0 env -u PATH "$VZCTL" mount 724
	[ "$(cat "$T/path")" = /bin:/sbin:/usr/bin:/usr/sbin ] || fail "PATH without one: $(cat "$T/path")"
	expect_rc 0 "$VZCTL" umount 724
	return 0
}
