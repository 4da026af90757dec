# Bad input: a clear message, OpenVZ's exit code, nothing lost.
# shellcheck shell=bash

t_bad_commands_and_ids() {
	expect_rc 20 "$VZCTL" frobnicate 101
	expect_out 'Bad command: frobnicate'
	expect_rc 21 "$VZCTL" status
	expect_out 'CT ID missing'
	expect_rc 21 "$VZCTL" status 99999999999
	expect_out 'Bad CT ID'
	expect_rc 21 "$VZCTL" status ../../etc
	expect_rc 21 "$VZCTL" status "$(printf 'a\nb')"
	expect_rc 21 "$VZCTL" status "$(head -c 300 /dev/zero | tr '\0' a)"
	expect_rc 21 "$VZCTL" start nosuchname
	expect_out 'Unable to find container by name nosuchname'
	expect_rc 14 "$VZCTL" start 4242
	expect_out 'Container config file does not exist'
	# vzctl's parse_opt: 21 after getopt's line.
	expect_rc 21 "$VZCTL" create 4242 --no-such-option
	expect_rc 0 "$VZCTL" status 4242
	[ "$OUT" = "CTID 4242 deleted unmounted down" ] || fail "status: $OUT"
}

t_create_errors() {
	# vzctl's last line of every failed create.
	local failed='Creation of container private area failed$'
	expect_rc 91 "$VZCTL" create 201 --ostemplate no-such-template
	expect_out "Cached OS template $T/template/cache/no-such-template.tar"
	expect_out "$failed"
	[ -e "$T/private/201" ] && fail "private area left after failed create"
	expect_rc 0 "$VZCTL" create 201 --ostemplate busybox-x86_64
	expect_rc 44 "$VZCTL" create 201 --ostemplate busybox-x86_64
	expect_out 'Private area already exists'
	expect_out "$failed"
	[ "$(printf '%s\n' "$OUT" | grep -c 'Creation of container')" = 1 ] || fail "said twice: $OUT"
	expect_rc 82 "$VZCTL" create 202 --config nosuchsample
	expect_out 'Sample config .* not found'
	expect_out "$failed"
	expect_rc 0 "$VZCTL" create 203 --config vswap-256m
	grep -q '^PHYSPAGES="0:256M"' "$T/conf/203.conf" || fail "sample not applied"
	sed -i '/^DEF_OSTEMPLATE=/d' "$T/vz.conf"
	expect_rc 29 "$VZCTL" create 204
	expect_out 'OS template is not specified'
	expect_out "$failed"
}

# As vzctl: --name '' takes the name away (its link, NAME=""), and the
# name is free for another CT.
t_set_name_empty_removes_it() {
	expect_rc 0 "$VZCTL" create 304 --ostemplate busybox-x86_64 --name gamma
	[ -L "$T/names/gamma" ] || fail "no name link"
	expect_rc 0 "$VZCTL" set 304 --name '' --save
	expect_out '^Name gamma detached$'
	[ -e "$T/names/gamma" ] && fail "name link left"
	grep -qx 'NAME=""' "$T/conf/304.conf" || fail "NAME: $(grep NAME "$T/conf/304.conf")"
	expect_rc 0 "$VZCTL" status 304
	expect_rc 21 "$VZCTL" status gamma
	expect_out "Unable to find container by name gamma"
	expect_rc 0 "$VZCTL" create 305 --ostemplate busybox-x86_64 --name gamma
	# Once more on a CT without a name: nothing to say, nothing fails.
	expect_rc 0 "$VZCTL" set 304 --name '' --save
	expect_rc 0 "$VZCTL" set 304 --name delta --save
	expect_out '^Name delta assigned$'
}

t_name_clash_and_validation() {
	expect_rc 0 "$VZCTL" create 301 --ostemplate busybox-x86_64 --name alpha
	expect_rc 0 "$VZCTL" create 302 --ostemplate busybox-x86_64
	expect_rc 131 "$VZCTL" set 302 --name alpha --save
	expect_out 'Conflict: name alpha already used by container 301'
	grep -q NAME "$T/conf/302.conf" && fail "clashing name saved"
	expect_rc 21 "$VZCTL" set 302 --name ../evil --save
	[ "$OUT" = "Bad parameter for --name: ../evil" ] || fail "--name ../evil: $OUT"
	# One only nvz refuses (all digits would read as a CTID): the same.
	expect_rc 21 "$VZCTL" set 302 --name 4242 --save
	[ "$OUT" = "Bad parameter for --name: 4242" ] || fail "--name 4242: $OUT"
	# With other options, a name needs --save (alone, nvz saves it).
	expect_rc 131 "$VZCTL" set 302 --name beta --description d302
	expect_out 'Error: unable to use --name option without --save'
	[ -e "$T/names/beta" ] && fail "name assigned without --save"
	grep -q 'd302' "$T/conf/302.conf" && fail "description saved"
	expect_rc 70 "$VZCTL" set 302 --hostname 'bad host!' --save
	grep -q 'bad host' "$T/conf/302.conf" && fail "bad hostname saved"
	expect_rc 72 "$VZCTL" set 302 --nameserver not-an-ip --save
	expect_rc 21 "$VZCTL" set 302 --bogus 1 --save
	expect_rc 0 "$VZCTL" status alpha
	expect_out 'CTID 301 exist'
}

# An unknown option, a missing argument, as vzctl 4: getopt's own line
# with the program's name, then 21 where vzctl's parse_opt read the
# options (set, create, snapshot), 20 in its start/stop parser, and chkpnt and
# restore add their "Invalid option -?" (20). A command without options
# lists what it was given; set and create end with the arguments that are
# no options. nvz said "Invalid option: --bogus", always 20.
# An unknown option before the command is vzctl's "Bad command" (20).
t_unknown_option_openvz() {
	local cmd
	expect_rc 0 "$VZCTL" create 606 --ostemplate busybox-x86_64
	cp "$T/conf/606.conf" "$T/before"
	expect_rc 21 "$VZCTL" set 606 --bogus 1 --save
	[ "$OUT" = "$VZCTL: unrecognized option '--bogus'" ] || fail "set: $OUT"
	expect_rc 21 "$VZCTL" set 606 --save --hostname
	[ "$OUT" = "$VZCTL: option '--hostname' requires an argument" ] || fail "set, no argument: $OUT"
	# parse_opt's getopt put the other arguments behind the options.
	expect_rc 20 "$VZCTL" set 606 foo --hostname h.example.com bar --save
	[ "$OUT" = "non-option ARGV-elements: foo bar " ] || fail "set foo: $OUT"
	cmp -s "$T/conf/606.conf" "$T/before" || fail "config changed"
	expect_rc 21 "$VZCTL" create 607 --ostemplate busybox-x86_64 --bogus
	[ "$OUT" = "$VZCTL: unrecognized option '--bogus'" ] || fail "create: $OUT"
	expect_rc 20 "$VZCTL" create 607 extra --ostemplate busybox-x86_64
	[ "$OUT" = "non-option ARGV-elements: extra " ] || fail "create extra: $OUT"
	[ -e "$T/conf/607.conf" ] && fail "create went on"
	for cmd in start stop restart; do
		expect_rc 20 "$VZCTL" $cmd 606 --bogus
		[ "$OUT" = "$VZCTL: unrecognized option '--bogus'" ] || fail "$cmd: $OUT"
	done
	expect_rc 20 "$VZCTL" start 606 --wait=yes
	[ "$OUT" = "$VZCTL: option '--wait' doesn't allow an argument" ] || fail "--wait=yes: $OUT"
	for cmd in chkpnt restore; do
		expect_rc 20 "$VZCTL" $cmd 606 --bogus
		[ "$OUT" = "$VZCTL: unrecognized option '--bogus'
Invalid option -?" ] || fail "$cmd: $OUT"
	done
	expect_rc 20 "$VZCTL" mount 606 --bogus x
	[ "$OUT" = "Invalid options: --bogus x " ] || fail "mount: $OUT"
	expect_rc 0 "$VZCTL" status 606
	[ "$OUT" = "CTID 606 exist unmounted down" ] || fail "status: $OUT"
	# The snapshot commands: 21 from parse_opt, whose table held only the
	# command's own options; snapshot-list's parser added its usage (20).
	expect_rc 21 "$VZCTL" snapshot 606 --bogus
	[ "$OUT" = "$VZCTL: unrecognized option '--bogus'" ] || fail "snapshot: $OUT"
	expect_rc 21 "$VZCTL" snapshot 606 --target "$T/x"
	[ "$OUT" = "$VZCTL: unrecognized option '--target'" ] || fail "snapshot --target: $OUT"
	expect_rc 21 "$VZCTL" snapshot-delete 606 -H
	[ "$OUT" = "$VZCTL: invalid option -- 'H'" ] || fail "snapshot-delete -H: $OUT"
	expect_rc 20 "$VZCTL" snapshot-list 606 --name=x
	[ "$OUT" = "$VZCTL: unrecognized option '--name=x'
vzctl snapshot-list <ctid|name> [-H] [-o field[,field...]] [--id <uuid>]
vzctl snapshot-list <ctid|name> -L | --list" ] || fail "snapshot-list: $OUT"
	# Before the command, vzctl took an unknown option for the command.
	expect_rc 20 "$VZCTL" --bogus status 606
	[ "$OUT" = "Bad command: --bogus" ] || fail "global option: $OUT"
}

t_malformed_config_survives() {
	expect_rc 0 "$VZCTL" create 401 --ostemplate busybox-x86_64
	printf '# my comment\nthis line is garbage\nCUSTOM_KEY="kept"\n' >>"$T/conf/401.conf"
	expect_rc 0 "$VZCTL" set 401 --hostname h401.example.com --save
	expect_out 'malformed line'
	grep -q '^# my comment$' "$T/conf/401.conf" || fail "comment lost"
	grep -q '^this line is garbage$' "$T/conf/401.conf" || fail "malformed line lost"
	grep -q '^CUSTOM_KEY="kept"$' "$T/conf/401.conf" || fail "unknown key lost"
	grep -q '^HOSTNAME="h401.example.com"$' "$T/conf/401.conf" || fail "hostname not saved"
	expect_rc 0 "$VZCTL" start 401
	wait_for 100 booted 401 || fail "no boot"
	expect_rc 32 "$VZCTL" start 401
	expect_out 'Container is already running'
	expect_rc 32 "$VZCTL" destroy 401
	expect_rc 0 "$VZCTL" stop 401
	expect_rc 0 "$VZCTL" stop 401
	expect_out 'container is not running'
	expect_rc 31 "$VZCTL" exec2 401 true
	expect_rc 8 "$VZCTL" exec 401 true
}

t_missing_global_config() {
	VZ_CONF=$T/nonexistent.conf expect_rc 10 "$VZCTL" status 101
}

t_lock_held_exits_9() {
	expect_rc 0 "$VZCTL" create 501 --ostemplate busybox-x86_64
	mkdir -p "$T/lock"
	# Another holder of the CT lock (as a second vzctl would be).
	flock "$T/lock/501.lck" sleep 3 &
	local holder=$!
	sleep 0.3
	expect_rc 9 "$VZCTL" set 501 --hostname x.example.com --save
	expect_out 'Container already locked'
	wait "$holder"
	expect_rc 0 "$VZCTL" set 501 --hostname x.example.com --save
}

t_parallel_commands_one_ct() {
	expect_rc 0 "$VZCTL" create 502 --ostemplate busybox-x86_64
	local i pids=() rc ok=0 locked=0
	for i in 1 2 3 4 5 6; do
		"$VZCTL" --quiet set 502 --description "writer $i" --save >/dev/null 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p"
		rc=$?
		case $rc in 0) ok=$((ok + 1)) ;; 9) locked=$((locked + 1)) ;; *) fail "set exited $rc" ;; esac
	done
	[ $ok -ge 1 ] || fail "no writer succeeded"
	grep -Eq '^DESCRIPTION="writer [1-6]"$' "$T/conf/502.conf" || fail "config corrupt: $(cat "$T/conf/502.conf")"
	grep -q '^OSTEMPLATE="busybox-x86_64"$' "$T/conf/502.conf" || fail "config lost keys"
}

# vzctl start checks DISABLED first, then the private area, then whether the
# CT runs; a disabled CT with a dump is not restored and keeps its dump.
t_errors_start_disabled_first() {
	start_busybox 601
	expect_rc 0 "$VZCTL" set 601 --disabled yes --save
	expect_rc 105 "$VZCTL" start 601
	expect_out 'Container start disabled'
	expect_rc 32 "$VZCTL" start 601 --force
	expect_out 'Container is already running'
	expect_rc 0 "$VZCTL" stop 601
	# A dump (as chkpnt leaves) makes the CT suspended: start would restore it.
	mkdir -p "$T/dump/Dump.601" && echo keep >"$T/dump/Dump.601/marker"
	expect_rc 105 "$VZCTL" start 601
	expect_out 'Container start disabled'
	[ "$(cat "$T/dump/Dump.601/marker" 2>/dev/null)" = keep ] || fail "dump of a disabled CT touched"
	rm -rf "$T/dump/Dump.601"
	mv "$T/private/601" "$T/private/601.away"
	expect_rc 105 "$VZCTL" start 601
	expect_rc 43 "$VZCTL" start 601 --force
	expect_out "Container private area $T/private/601 does not exist"
	# So too with a dump: 43 before any restore is tried.
	mkdir -p "$T/dump/Dump.601"
	expect_rc 43 "$VZCTL" start 601 --force
	expect_out "Container private area $T/private/601 does not exist"
	[ -d "$T/dump/Dump.601" ] || fail "dump gone"
	mv "$T/private/601.away" "$T/private/601"
}

# vzctl's messages and statuses on the error paths of exec, enter, console,
# start/stop options, set --setmode, chkpnt and restore.
t_errors_openvz_messages() {
	expect_rc 0 "$VZCTL" create 602 --ostemplate busybox-x86_64
	expect_rc 31 "$VZCTL" chkpnt 602
	expect_out 'Unable to setup checkpointing: container is not running'
	expect_rc 31 "$VZCTL" chkpnt 602 --resume
	expect_out '^Container is not running'
	expect_rc 31 "$VZCTL" chkpnt 602 --kill
	expect_out '^Container is not running'
	expect_rc 31 "$VZCTL" restore 602 --kill
	expect_out '^Container is not running'
	expect_rc 20 "$VZCTL" start 602 --fast
	expect_out 'Option --fast is not applicable to start command'
	expect_rc 20 "$VZCTL" stop 602 --wait
	expect_out 'Option --wait is not applicable to stop command'
	expect_rc 21 "$VZCTL" set 602 --setmode bogus --save
	expect_out '^Bad parameter for --setmode: bogus$'
	expect_rc 21 "$VZCTL" console 602 abc
	expect_out 'Invalid tty number: abc'
	expect_rc 20 "$VZCTL" console 602 1 2
	expect_rc 20 "$VZCTL" exec 602
	expect_out 'No command line given for exec'
	expect_rc 20 "$VZCTL" enter 602 --exec
	expect_out 'No command line given for --exec'
	expect_rc 20 "$VZCTL" enter 602 --bogus
	expect_out "Invalid option '--bogus'"
	# restart of a CT that does not run only starts it.
	expect_rc 0 "$VZCTL" restart 602
	expect_out '^Restarting container'
	expect_out '^Container start in progress'
	printf '%s\n' "$OUT" | grep -q 'Unable to stop' && fail "restart of a stopped CT: $OUT"
	wait_for 100 booted 602 || fail "no boot"
	expect_rc 32 "$VZCTL" restore 602
	expect_out 'Unable to perform restore: container already running'
	# Two stages are refused, not the last one run (it killed the CT).
	expect_rc 20 "$VZCTL" chkpnt 602 --suspend --kill
	expect_out 'Invalid syntax: only one sub command may be used'
	expect_rc 20 "$VZCTL" restore 602 --resume --kill
	expect_out 'Invalid syntax: only one sub command may be used'
	ct_running 602 || fail "two stage flags stopped the CT"
	expect_rc 0 "$VZCTL" exec 602 true
	expect_rc 0 "$VZCTL" stop 602 --fast
}

# At host boot a disabled CT that was suspended is refused (105) before
# its dump is tried, so nvz-onboot keeps the dump for a later --force.
t_errors_onboot_disabled_keeps_dump() {
	export VZREBOOTDIR=$T/vzreboot VZCTL VZLIST
	expect_rc 0 "$VZCTL" create 603 --ostemplate busybox-x86_64
	expect_rc 0 "$VZCTL" set 603 --onboot yes --disabled yes --save
	mkdir -p "$T/dump/Dump.603" && echo keep >"$T/dump/Dump.603/marker"
	expect_rc 1 "$SRCDIR/scripts/nvz-onboot" start
	expect_out 'Container start disabled'
	[ -e "$T/dump/Dump.603/marker" ] || fail "dump of a disabled CT moved: $(ls "$T/dump")"
	[ -e "$T/dump/Dump.603.failed" ] && fail "dump of a disabled CT called failed"
	ct_running 603 && fail "disabled CT started"
	return 0
}

# A bad option value of vzctl set: vzctl's one line "Bad parameter for
# --OPTION: VALUE" (21), nothing saved; where vzctl took the value and nvz
# refuses it, nvz's reason follows in parentheses. --netdev_add/_del
# refuse vzctl's reserved names (venet*, tun*, tap*, lo*).
t_set_bad_parameter_words() {
	local opt
	expect_rc 0 "$VZCTL" create 604 --ostemplate busybox-x86_64
	cp "$T/conf/604.conf" "$T/before.conf"
	for opt in "onboot maybe" "disabled maybe" "bootorder x" "netdev_add lo" "netdev_add venet0" \
		"netdev_add tap3" "netdev_del tun0" \
		"meminfo bogus" "quotaugidlimit x" "diskquota maybe"; do
		# shellcheck disable=SC2086
		set -- $opt
		expect_rc 21 "$VZCTL" set 604 "--$1" "$2" --save
		[ "$OUT" = "Bad parameter for --$1: $2" ] || fail "--$1 $2: $OUT"
	done
	expect_rc 21 "$VZCTL" set 604 --mount_opts noatime,dev --save
	[ "$OUT" = "Bad parameter for --mount_opts: noatime,dev (dev is not an option nvz passes to a container's ext4)" ] ||
		fail "--mount_opts: $OUT"
	expect_rc 21 "$VZCTL" set 604 --root relative/path --save
	[ "$OUT" = "Bad parameter for --root: relative/path (expected an absolute path)" ] || fail "--root: $OUT"
	# As vzctl's parse_features: a warning for each unknown entry first.
	expect_rc 21 "$VZCTL" set 604 --features nfs:on,bogus:on,sit:maybe --save
	[ "$OUT" = "Warning: Unknown feature: bogus:on
Warning: Unknown feature: sit:maybe
Bad parameter for --features: nfs:on,bogus:on,sit:maybe" ] || fail "--features: $OUT"
	expect_rc 21 "$VZCTL" set 604 --iptables iptable_filter,ipt_bogus --save
	[ "$OUT" = "Warning: Unknown iptable module: ipt_bogus, skipped
Bad parameter for --iptables: iptable_filter,ipt_bogus" ] || fail "--iptables: $OUT"
	expect_rc 21 "$VZCTL" set 604 --netdev_del nd0 --save
	[ "$OUT" = "Bad parameter for --netdev_del: nd0 (not in NETDEV)" ] || fail "--netdev_del: $OUT"
	cmp -s "$T/conf/604.conf" "$T/before.conf" || fail "a refused value was saved: $(diff "$T/before.conf" "$T/conf/604.conf")"
	expect_rc 0 "$VZCTL" set 604 --netdev_add lan0 --save
	grep -q '^NETDEV="lan0"$' "$T/conf/604.conf" || fail "NETDEV: $(grep NETDEV "$T/conf/604.conf")"
}

# create's bad option values too: vzctl's "Bad parameter for --OPTION:
# VALUE" (21) before anything is made, not a failed creation.
t_create_bad_parameter_words() {
	local opt
	for opt in "name ../x" "layout bogus" "ve_layout ploop:bogus" "diskspace x"; do
		# shellcheck disable=SC2086
		set -- $opt
		expect_rc 21 "$VZCTL" create 605 --ostemplate busybox-x86_64 "--$1" "$2"
		[ "$OUT" = "Bad parameter for --$1: $2" ] || fail "--$1 $2: $OUT"
	done
	expect_rc 21 "$VZCTL" create 605 --ostemplate busybox-x86_64 --root relative
	[ "$OUT" = "Bad parameter for --root: relative (expected an absolute path)" ] || fail "--root: $OUT"
	expect_rc 0 "$VZCTL" status 605
	[ "$OUT" = "CTID 605 deleted unmounted down" ] || fail "status: $OUT"
	[ -e "$T/private/605" ] && fail "private area made"
	return 0
}
