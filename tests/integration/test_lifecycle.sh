# The guide's life cycle, as typed there, on the busybox template.
# shellcheck shell=bash

t_guide_lifecycle() {
	expect_rc 0 "$VZCTL" create 16108 --ostemplate busybox-x86_64
	expect_out '^Creating container private area \(busybox-x86_64\)'
	expect_out 'Container private area was created'
	expect_rc 0 "$VZCTL" set 16108 --hostname web.example.com --save
	expect_out "CT configuration saved to $T/conf/16108.conf"
	expect_rc 0 "$VZCTL" set 16108 --name web --save
	expect_out 'Name web assigned'
	expect_rc 0 "$VZCTL" set web --nameserver 8.8.8.8 --searchdomain example.com --save
	grep -q '^NAMESERVER="8.8.8.8"$' "$T/conf/16108.conf" || fail "nameserver not saved"
	expect_rc 0 "$VZCTL" start web
	expect_out '^Starting container\.\.\.'
	expect_out '^Container is mounted'
	expect_out '^Container start in progress\.\.\.'
	expect_rc 0 "$VZCTL" status web
	[ "$OUT" = "CTID 16108 exist mounted running" ] || fail "status: $OUT"
	wait_for 100 booted web || fail "no boot"
	expect_rc 0 "$VZCTL" exec web 'ps ax | wc -l'
	[ "$OUT" -ge 2 ] || fail "ps ax | wc -l gave $OUT"
	expect_rc 1 "$VZCTL" exec2 web false
	expect_rc 8 "$VZCTL" exec web false
	expect_rc 0 "$VZCTL" exec web hostname
	[ "$OUT" = web.example.com ] || fail "hostname inside: $OUT"
	expect_rc 0 "$VZCTL" exec web cat /etc/resolv.conf
	expect_out '^search example.com$'
	expect_out '^nameserver 8.8.8.8$'
	# Live change without --save: applied, warned, not saved.
	expect_rc 0 "$VZCTL" set web --hostname other.example.com
	expect_out 'WARNING: Settings were not saved'
	expect_rc 0 "$VZCTL" exec web hostname
	[ "$OUT" = other.example.com ] || fail "live hostname: $OUT"
	grep -q 'HOSTNAME="web.example.com"' "$T/conf/16108.conf" || fail "config changed without --save"
	expect_rc 32 "$VZCTL" destroy web
	expect_out 'Container is currently running. Stop it first.'
	expect_rc 0 "$VZCTL" restart web
	expect_out 'Restarting container'
	wait_for 100 booted web || fail "no boot after restart"
	expect_rc 0 "$VZCTL" exec web hostname
	[ "$OUT" = web.example.com ] || fail "saved hostname not back after restart: $OUT"
	expect_rc 0 "$VZCTL" stop web
	expect_out '^Stopping container \.\.\.'
	expect_out '^Container was stopped'
	expect_out '^Container is unmounted'
	expect_rc 0 "$VZCTL" status web
	[ "$OUT" = "CTID 16108 exist unmounted down" ] || fail "status after stop: $OUT"
	expect_rc 0 "$VZCTL" mount web
	[ -x "$T/root/16108/bin/busybox" ] || fail "mounted root not readable"
	expect_rc 0 "$VZCTL" umount web
	[ -e "$T/root/16108/bin/busybox" ] && fail "still mounted"
	expect_rc 0 "$VZCTL" destroy web
	expect_out "Destroying container private area: $T/private/16108"
	[ -e "$T/private/16108" ] && fail "private area left"
	[ -e "$T/names/web" ] && fail "name link left"
	[ -e "$T/run/16108" ] && fail "run state left: $(ls "$T/run/16108")"
	expect_rc 0 "$VZCTL" status 16108
	[ "$OUT" = "CTID 16108 deleted unmounted down" ] || fail "status after destroy: $OUT"
	expect_rc 21 "$VZCTL" status web
}

t_reboot_and_halt_inside() {
	start_busybox 101
	local init1 init2
	init1=$(state_pid 101 INIT_PID)
	reboot_inside 101 150 reboot
	wait_for 100 booted 101 || fail "no boot after reboot"
	init2=$(state_pid 101 INIT_PID)
	[ "$init1" != "$init2" ] || fail "same init after reboot"
	"$VZCTL" exec 101 poweroff
	wait_for 150 eval '! ct_running 101' || fail "CT still running after poweroff inside"
	wait_for 50 eval '"$VZCTL" status 101 | grep -q unmounted' || fail "not unmounted after halt"
	expect_rc 0 "$VZCTL" status 101
	[ "$OUT" = "CTID 101 exist unmounted down" ] || fail "status: $OUT"
	ls "$(cgdir pids 101)" >/dev/null 2>&1 && fail "cgroup left after halt"
	return 0
}

t_enter_shell() {
	start_busybox 102 --hostname enter.example.com
	OUT=$(printf 'echo in-$(hostname)\nexit\n' | "$VZCTL" enter 102 2>&1)
	expect_out '^entered into CT 102'
	expect_out 'in-enter.example.com'
	expect_out 'exited from CT 102'
	expect_rc 0 "$VZCTL" stop 102
	expect_rc 31 "$VZCTL" enter 102
	expect_out 'Container is not running'
	return 0
}

# vzctl exec joined its arguments into one command line, writing an empty
# argument as '' so that it stays an argument.
t_exec_empty_argument() {
	start_busybox 104
	expect_rc 1 "$VZCTL" exec2 104 test -n ""
	expect_rc 0 "$VZCTL" exec2 104 test -z ""
	expect_rc 0 "$VZCTL" exec2 104 printf '[%s]' "" a
	[ "$OUT" = "[][a]" ] || fail "empty argument lost: $OUT"
}

# vzctl ran exec's command lines, exec - and runscript's script by the CT's
# /bin/bash, and by /bin/sh only where the CT has no bash. The busybox CT
# gets a stand-in bash that says it ran.
t_exec_uses_bash_first() {
	start_busybox 105
	printf 'echo $0-$VIA\n' >"$T/s.sh"
	expect_rc 0 "$VZCTL" exec2 105 'echo $0-$VIA'
	[ "$OUT" = "sh-" ] || fail "no bash: $OUT"
	printf '#!/bin/sh\nexport VIA=bash\nexec /bin/sh "$@"\n' >"$T/private/105/bin/bash"
	chmod 755 "$T/private/105/bin/bash"
	expect_rc 0 "$VZCTL" exec2 105 'echo $VIA'
	[ "$OUT" = "bash" ] || fail "exec2 not by bash: $OUT"
	OUT=$(echo 'echo $VIA' | "$VZCTL" exec2 105 - 2>&1)
	[ "$OUT" = "bash" ] || fail "exec - not by bash: $OUT"
	expect_rc 0 "$VZCTL" runscript 105 "$T/s.sh"
	expect_out '-bash$'
	expect_rc 0 "$VZCTL" stop 105
	expect_rc 0 "$VZCTL" runscript 105 "$T/s.sh"
	expect_out '-bash$'
}

# vzctl enter --exec typed the command line into the root shell (so the
# man page's `--exec "apt-get install vim && logout"` works), and kept the
# admin's commands out of the CT's shell history.
t_enter_exec_types_into_shell() {
	start_busybox 106
	OUT=$(timeout 20 "$VZCTL" enter 106 --exec 'echo typed-$((6*7)) $HISTFILE &&' exit 2>&1 </dev/null) ||
		fail "enter --exec: $OUT"
	expect_out '^entered into CT 106'
	expect_out '^typed-42 /dev/null'
	expect_out 'exited from CT 106'
}

# mount and umount in vzctl's words and codes.
t_mount_umount_messages() {
	expect_rc 0 "$VZCTL" create 107 --ostemplate busybox-x86_64
	expect_rc 40 "$VZCTL" umount 107
	[ "$OUT" = "CT is not mounted" ] || fail "umount: $OUT"
	expect_rc 0 "$VZCTL" mount 107
	[ "$OUT" = "Container is mounted" ] || fail "mount: $OUT"
	expect_rc 0 "$VZCTL" mount 107
	[ "$OUT" = "Container is already mounted" ] || fail "mount again: $OUT"
	expect_rc 41 "$VZCTL" destroy 107
	[ "$OUT" = "Container is currently mounted (umount first)" ] || fail "destroy: $OUT"
	expect_rc 0 "$VZCTL" umount 107
	[ "$OUT" = "Container is unmounted" ] || fail "umount: $OUT"
}

t_monitor_killed_ct_survives() {
	start_busybox 103
	local mon init
	mon=$(state_pid 103 MONITOR_PID)
	init=$(state_pid 103 INIT_PID)
	kill -9 "$mon"
	sleep 0.3
	kill -0 "$init" || fail "init died with its monitor"
	expect_rc 0 "$VZCTL" status 103
	expect_out 'running'
	expect_rc 0 "$VZCTL" exec 103 echo alive
	[ "$OUT" = alive ] || fail "exec after monitor kill: $OUT"
	expect_rc 0 "$VZCTL" stop 103
	expect_out 'Container was stopped'
	kill -0 "$init" 2>/dev/null && [ "$(awk '{print $3}' /proc/"$init"/stat 2>/dev/null)" != Z ] &&
		fail "init still alive after stop"
	return 0
}

t_stop_kills_after_timeout() {
	start_busybox 104
	# An init that ignores its poweroff signal: the stop falls back to kill.
	sed -i 's/^STOP_TIMEOUT=.*/STOP_TIMEOUT=1/' "$T/vz.conf"
	"$VZCTL" exec 104 'kill -STOP 1'
	expect_rc 0 "$VZCTL" stop 104
	expect_out 'Killing container'
	expect_out 'Container was stopped'
	ct_running 104 && fail "still running"
	return 0
}

t_version_help() {
	expect_rc 0 "$VZCTL" --version
	expect_out '^vzctl version'
	expect_rc 0 "$VZCTL" --help
	expect_out 'vzctl create'
}

# `cmds | vzctl enter CT`: the shell ends with its input, as OpenVZ's did
# (it closed the pty then), after running all it was given.
t_enter_input_ends() {
	start_busybox 108
	OUT=$(printf 'echo first-$((2+3))\n' | timeout 20 "$VZCTL" enter 108 2>&1) ||
		fail "enter did not end with its input: $OUT"
	expect_out '^first-5'
	expect_out 'exited from CT 108'
	# A command reading the input gets its end, then the shell does.
	OUT=$(printf 'cat\nread-by-cat\n' | timeout 20 "$VZCTL" enter 108 2>&1) ||
		fail "enter with cat did not end: $OUT"
	expect_out '^read-by-cat'
	expect_out 'exited from CT 108'
	# A command still running when the input ends finishes first.
	OUT=$(printf 'sleep 1; echo after-$((3*3))\n' | timeout 20 "$VZCTL" enter 108 2>&1) ||
		fail "enter with sleep did not end: $OUT"
	expect_out '^after-9'
	expect_out 'exited from CT 108'
}

# vzctl 4's create options as fog and panels pass them: --ipadd (repeated,
# or a list), --local_uid/--local_gid (kept for OpenVZ, see ctid.conf(5)).
t_create_ipadd_local_uid() {
	expect_rc 0 "$VZCTL" create 16110 --ostemplate busybox-x86_64 --hostname h.example.com \
		--ipadd 10.77.0.1 --ipadd '10.77.0.2 10.77.0.1' --local_uid 100000 --local_gid 100000
	expect_out 'Container private area was created'
	grep -q '^IP_ADDRESS="10.77.0.1 10.77.0.2"$' "$T/conf/16110.conf" ||
		fail "IP_ADDRESS: $(grep IP_ADDRESS "$T/conf/16110.conf")"
	grep -q '^LOCAL_UID="100000"$' "$T/conf/16110.conf" || fail "LOCAL_UID not saved"
	grep -q '^LOCAL_GID="100000"$' "$T/conf/16110.conf" || fail "LOCAL_GID not saved"
	expect_rc 21 "$VZCTL" create 16111 --ostemplate busybox-x86_64 --ipadd 10.77.0.x
	expect_out '^Bad parameter for --ipadd: 10.77.0.x$'
	expect_rc 21 "$VZCTL" create 16111 --ostemplate busybox-x86_64 --local_uid lots
	expect_out '^Bad parameter for --local_uid: lots$'
	[ -e "$T/conf/16111.conf" ] && fail "config of a refused create"
	[ -e "$T/private/16111" ] && fail "private area of a refused create"
	return 0
}

# As vzctl, create records the CT's paths ($VEID kept, unescaped: a script
# sourcing the config with VEID set gets the path) and its layout, so new
# defaults in vz.conf later leave the existing CT where and what it is.
t_create_records_paths_layout() {
	expect_rc 0 "$VZCTL" create 16112 --ostemplate busybox-x86_64
	grep -qxF "VE_ROOT=\"$T/root/\$VEID\"" "$T/conf/16112.conf" || fail "VE_ROOT: $(grep VE_ROOT "$T/conf/16112.conf")"
	grep -qxF "VE_PRIVATE=\"$T/private/\$VEID\"" "$T/conf/16112.conf" ||
		fail "VE_PRIVATE: $(grep VE_PRIVATE "$T/conf/16112.conf")"
	grep -qx 'VE_LAYOUT="simfs"' "$T/conf/16112.conf" || fail "VE_LAYOUT: $(grep VE_LAYOUT "$T/conf/16112.conf")"
	[ "$(VEID=16112 sh -c ". '$T/conf/16112.conf'; echo \"\$VE_PRIVATE\"")" = "$T/private/16112" ] ||
		fail "sourced VE_PRIVATE is not the CT's path"
	sed -i "s|^VE_ROOT=.*|VE_ROOT=$T/elsewhere/root/\$VEID|; s|^VE_PRIVATE=.*|VE_PRIVATE=$T/elsewhere/private/\$VEID|;
		s|^VE_LAYOUT=.*|VE_LAYOUT=ploop|" "$T/vz.conf"
	expect_rc 0 "$VZCTL" mount 16112
	[ -x "$T/root/16112/bin/busybox" ] || fail "not mounted at its own VE_ROOT"
	expect_rc 0 "$VZCTL" umount 16112
	expect_rc 0 "$VZCTL" destroy 16112
	expect_out "Destroying container private area: $T/private/16112"
	[ -e "$T/private/16112" ] && fail "private area left"
	return 0
}

# A create after a destroy: vzctl removes what the destroy kept of the old
# CT (CTID.conf.destroyed, its *.destroyed scripts). A create onto an
# existing config says the sample is not applied; a wrong CONFIGFILE in
# vz.conf gets vzctl's hint.
t_create_after_destroy_and_samples() {
	expect_rc 0 "$VZCTL" create 16113 --ostemplate busybox-x86_64
	printf '#!/bin/sh\nexit 0\n' >"$T/conf/16113.mount"
	chmod +x "$T/conf/16113.mount"
	expect_rc 0 "$VZCTL" destroy 16113
	[ -e "$T/conf/16113.conf.destroyed" ] || fail "no 16113.conf.destroyed"
	[ -e "$T/conf/16113.mount.destroyed" ] || fail "no 16113.mount.destroyed"
	expect_rc 0 "$VZCTL" create 16113 --ostemplate busybox-x86_64
	[ -e "$T/conf/16113.conf.destroyed" ] && fail "old config kept after a new create"
	[ -e "$T/conf/16113.mount.destroyed" ] && fail "old mount script kept after a new create"
	grep -v '^VE_' "$T/conf/16113.conf" >"$T/conf/16114.conf"
	expect_rc 0 "$VZCTL" create 16114 --ostemplate busybox-x86_64
	expect_out '^Warning: CT config file already exists, not applying a default config sample\.$'
	expect_out '^It might lead to incomplete CT configuration, you can use --applyconfig to fix\.$'
	sed -i 's/^CONFIGFILE=.*/CONFIGFILE="nosuch"/' "$T/vz.conf"
	expect_rc 82 "$VZCTL" create 16115 --ostemplate busybox-x86_64
	expect_out "^Sample config $T/conf/ve-nosuch.conf-sample not found$"
	expect_out "^Fix the value of CONFIGFILE in $T/vz.conf$"
	expect_out '^Creation of container private area failed$'
	return 0
}

# As vzctl: an empty private directory (made ahead by the admin) is no
# "existing private area", the new one takes its place; a private area that
# is a mount point is refused (48, vzctl's words and suggestion).
t_create_private_empty_or_mountpoint() {
	mkdir -p "$T/private/16116"
	expect_rc 0 "$VZCTL" create 16116 --ostemplate busybox-x86_64
	[ -x "$T/private/16116/bin/busybox" ] || fail "template not in the private area"
	mkdir -p "$T/private/16117"
	touch "$T/private/16117/keep"
	expect_rc 44 "$VZCTL" create 16117 --ostemplate busybox-x86_64
	expect_out "^Private area already exists in $T/private/16117$"
	[ -e "$T/private/16117/keep" ] || fail "a non-empty private area was touched"
	mkdir -p "$T/private/16118"
	mount -t tmpfs nvz-test-priv "$T/private/16118" || fail "tmpfs"
	expect_rc 48 "$VZCTL" create 16118 --ostemplate busybox-x86_64
	expect_out "^Can't create: private dir \($T/private/16118\) is a mount point\. Suggestion: use --private $T/private/16118/private$"
	expect_out '^Creation of container private area failed$'
	[ -e "$T/conf/16118.conf" ] && fail "config of a refused create"
	umount "$T/private/16118"
	return 0
}

# A private area that is a link to elsewhere: destroy removes the link and
# says, as vzctl, that the destination is left for the admin.
t_destroy_private_symlink() {
	expect_rc 0 "$VZCTL" create 16119 --ostemplate busybox-x86_64
	mv "$T/private/16119" "$T/elsewhere-16119" || fail "move"
	ln -s "$T/elsewhere-16119" "$T/private/16119"
	expect_rc 0 "$VZCTL" destroy 16119
	expect_out "^Warning: container private area $T/private/16119 is a symlink to $T/elsewhere-16119\.$"
	expect_out '^Not removing link destination, you have to do it manually\.$'
	expect_out '^Container private area was destroyed$'
	[ -L "$T/private/16119" ] && fail "link left"
	[ -x "$T/elsewhere-16119/bin/busybox" ] || fail "the link's destination was removed"
	return 0
}

# VE_PRIVATE/VE_ROOT with a trailing slash in vz.conf (as admins write
# directories): vzctl dropped it; the CT is made, mounted and destroyed at
# the paths without it.
t_create_paths_trailing_slash() {
	sed -i "s|^VE_ROOT=.*|VE_ROOT=$T/root/\$VEID/|; s|^VE_PRIVATE=.*|VE_PRIVATE=$T/private/\$VEID//|" "$T/vz.conf"
	expect_rc 0 "$VZCTL" create 16120 --ostemplate busybox-x86_64
	[ -x "$T/private/16120/bin/busybox" ] || fail "template not in the private area"
	[ -e "$T/private/16120/.tmp" ] && fail "the temporary area went inside the private one"
	expect_rc 0 "$VZCTL" mount 16120
	mountpoint -q "$T/root/16120" || fail "not mounted"
	expect_rc 0 "$VZLIST" -H -o private 16120
	[ "$OUT" = "$T/private/16120" ] || fail "vzlist private: $OUT"
	expect_rc 0 "$VZCTL" umount 16120
	expect_rc 0 "$VZCTL" destroy 16120
	expect_out "^Destroying container private area: $T/private/16120$"
	[ -e "$T/private/16120" ] && fail "private area left"
	return 0
}

# OpenVZ's postcreate actions ("Performing postcreate actions"), in every
# layout: cron jobs at fixed times get a random minute, an hour of the night
# and a day 1-28, so that the CTs of one template do not all run them at
# once (a file with VZCTL_POSTCREATE_SKIP is left alone); an empty root
# password is locked; /etc/hosts gets its localhost lines and an empty
# resolv.conf appears. A shared template's own tree is never written.
t_create_postcreate_actions() {
	local s=$T/pcstage
	mkdir -p "$s" && tar -xzf "$TEMPLATE_CACHE/busybox-x86_64.tar.gz" -C "$s" || fail "unpack busybox"
	mkdir -p "$s/etc/cron.d"
	printf 'SHELL=/bin/sh\n25 6\t* * *\troot\trun-parts /etc/cron.daily\n52 6 1 * * root run-parts /etc/cron.monthly\n' >"$s/etc/crontab"
	printf '30 3 * * 0 root e2scrub_all_cron\n' >"$s/etc/cron.d/job"
	printf '# VZCTL_POSTCREATE_SKIP\n30 3 * * 0 root mine\n' >"$s/etc/cron.d/mine"
	sed -i 's/^root:[^:]*:/root::/' "$s/etc/passwd" "$s/etc/shadow"
	rm -f "$s/etc/hosts" "$s/etc/resolv.conf"
	(cd "$s" && tar -czf "$T/template/cache/pc.tar.gz" .) || fail "tar"
	local id=1710 layout r line h d
	for layout in simfs simfs:shared ploop ploop:shared; do
		id=$((id + 1))
		expect_rc 0 "$VZCTL" create $id --ostemplate pc --layout $layout --diskspace 128M
		expect_out "^Performing postcreate actions$"
		expect_rc 0 "$VZCTL" mount $id
		r=$T/root/$id
		line=$(grep 'cron.daily' "$r/etc/crontab")
		h=$(echo "$line" | awk '{print $2}')
		case $h in [0-5]) ;; *) fail "$layout: daily job's hour $h: $line" ;; esac
		line=$(grep 'cron.monthly' "$r/etc/crontab")
		d=$(echo "$line" | awk '{print $3}')
		[ "$d" -ge 1 ] && [ "$d" -le 28 ] || fail "$layout: monthly job's day $d: $line"
		h=$(awk '{print $2}' "$r/etc/cron.d/job")
		case $h in [0-5]) ;; *) fail "$layout: cron.d job's hour $h" ;; esac
		grep -q '^SHELL=/bin/sh$' "$r/etc/crontab" || fail "$layout: crontab lost a line"
		[ "$(cat "$r/etc/cron.d/mine")" = "$(printf '# VZCTL_POSTCREATE_SKIP\n30 3 * * 0 root mine')" ] ||
			fail "$layout: a file marked VZCTL_POSTCREATE_SKIP changed"
		grep -q '^root:!!:' "$r/etc/passwd" || fail "$layout: passwd $(head -1 "$r/etc/passwd")"
		grep -q '^root:!:' "$r/etc/shadow" || fail "$layout: shadow $(head -1 "$r/etc/shadow")"
		[ "$(stat -c %a "$r/etc/shadow")" = 640 ] || fail "$layout: shadow mode $(stat -c %a "$r/etc/shadow")"
		grep -q '^127.0.0.1 localhost' "$r/etc/hosts" && grep -q '^::1 localhost' "$r/etc/hosts" ||
			fail "$layout: hosts: $(cat "$r/etc/hosts")"
		[ -f "$r/etc/resolv.conf" ] && [ ! -s "$r/etc/resolv.conf" ] || fail "$layout: no empty resolv.conf"
		expect_rc 0 "$VZCTL" umount $id
	done
	# The shared tree is the template as it is.
	local tree
	tree=$(ls -d "$T"/template/shared/pc@* | grep -v '\.complete$') || fail "no shared tree"
	cmp -s "$s/etc/crontab" "$tree/etc/crontab" || fail "the shared tree's crontab was written"
	grep -q '^root::' "$tree/etc/passwd" || fail "the shared tree's passwd was written"
	[ -e "$tree/etc/hosts" ] && fail "the shared tree got a hosts file"
	# A password set later is the one used: passwd's locked field becomes "x".
	expect_rc 0 "$VZCTL" set 1711 --userpasswd root:secret
	grep -q '^root:x:0:0:' "$T/private/1711/etc/passwd" || fail "passwd after --userpasswd: $(head -1 "$T/private/1711/etc/passwd")"
	grep -q '^root:\$6\$' "$T/private/1711/etc/shadow" || fail "shadow after --userpasswd: $(head -1 "$T/private/1711/etc/shadow")"
	for id in 1711 1712 1713 1714; do
		expect_rc 0 "$VZCTL" destroy $id
	done
	return 0
}
