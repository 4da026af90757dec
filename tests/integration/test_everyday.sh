# The rest of the everyday set: console, runscript, userpasswd, --wait,
# description, onboot.
# shellcheck shell=bash

# Past its cap (128 KiB) the console log keeps its newest part (64 KiB
# from a line's start), in order, and goes on: on a stock host RUNDIR is a
# tmpfs, where the log is memory for the CT's whole life (it was 1 MiB,
# then started afresh, empty).
t_console_log_capped() {
	start_busybox 703
	expect_rc 0 "$VZCTL" exec 703 'i=0; while [ $i -lt 30000 ]; do echo "console-line-$i"; i=$((i+1)); done >/dev/console'
	local log=$T/run/703/console.log size
	wait_for 100 eval 'tail -n1 "$log" | grep -q "^console-line-29999"' || fail "last line not logged: $(tail -n2 "$log")"
	size=$(stat -c %s "$log")
	# At least the newest 64 KiB were kept (less the part of a line they
	# began with): a log that started afresh at the cap instead holds less.
	[ "$size" -le $((128 * 1024 + 4096)) ] && [ "$size" -ge $((64 * 1024 - 32)) ] || fail "log of $size bytes"
	# Whole lines, one after another, up to the last.
	tr -d '\r' <"$log" | awk '!/^console-line-[0-9]+$/ { print "not a line: " $0; exit 1 }
		{ n = substr($0, 14) + 0; if (NR > 1 && n != prev + 1) { print "gap: " prev " then " n; exit 1 }; prev = n }' ||
		fail "log out of order"
	expect_rc 0 "$VZCTL" exec 703 'echo after-the-cut >/dev/console'
	wait_for 50 grep -q after-the-cut "$log" || fail "nothing logged after the cut"
}

t_console_attach_detach() {
	start_busybox 701
	OUT=$( (sleep 0.5; "$VZCTL" exec 701 'echo hello-from-console >/dev/console'; sleep 0.5; printf '\033.') |
		timeout 20 "$VZCTL" console 701 2>&1)
	expect_out '^Attached to CT 701 \(ESC \. to detach\)'
	expect_out 'hello-from-console'
	expect_out 'Detached from CT 701'
	ct_running 701 || fail "console detach stopped the CT"
	# A second attach works after the first detached.
	OUT=$(printf '\033.' | timeout 20 "$VZCTL" console 701 2>&1) || fail "re-attach failed: $OUT"
	expect_out 'Detached'
	# Once detached, the monitor (the hub) drains the console to its log again.
	"$VZCTL" exec 701 'echo after-detach-probe >/dev/console'
	wait_for 50 grep -q after-detach-probe "$T/run/701/console.log" ||
		fail "console not drained after detach: $(tail -3 "$T/run/701/console.log")"
	# Attached to a stopped CT: it waits for the start, and stays across a
	# restart (each boot is seen), as OpenVZ's console did.
	expect_rc 0 "$VZCTL" stop 701
	mkfifo "$T/console.in"
	timeout 60 "$VZCTL" console 701 <"$T/console.in" >"$T/console.out" 2>&1 &
	local pid=$!
	exec 9>"$T/console.in"
	sleep 0.5
	kill -0 "$pid" 2>/dev/null || fail "console on a stopped CT did not wait: $(cat "$T/console.out")"
	expect_rc 0 "$VZCTL" start 701
	wait_for 100 booted 701 || fail "no boot"
	"$VZCTL" exec 701 'echo first-boot-probe >/dev/console'
	wait_for 50 grep -q first-boot-probe "$T/console.out" || fail "first boot not seen: $(cat "$T/console.out")"
	expect_rc 0 "$VZCTL" restart 701
	wait_for 100 booted 701 || fail "no boot after restart"
	"$VZCTL" exec 701 'echo second-boot-probe >/dev/console'
	wait_for 50 grep -q second-boot-probe "$T/console.out" || fail "the boot after the restart not seen: $(cat "$T/console.out")"
	printf '\033.' >&9
	exec 9>&-
	wait "$pid" || fail "console exited $?: $(cat "$T/console.out")"
	grep -q '^Attached to CT 701' "$T/console.out" && grep -q 'Detached from CT 701' "$T/console.out" ||
		fail "console output: $(cat "$T/console.out")"
	# Input that ends while waiting detaches too.
	expect_rc 0 "$VZCTL" stop 701
	OUT=$(timeout 20 "$VZCTL" console 701 </dev/null 2>&1) || fail "console with no input: $OUT"
	expect_out 'Detached from CT 701'
	return 0
}

# As vzctl's: the console's own words are on stderr, stdout has only what
# the CT writes (a boot log taken with vzctl console 101 >log).
t_console_words_on_stderr() {
	start_busybox 705
	OUT=$( (sleep 0.5; "$VZCTL" exec 705 'echo on-the-console >/dev/console'; sleep 0.5; printf '\033.') |
		timeout 20 "$VZCTL" console 705 2>"$T/console.err")
	expect_out 'on-the-console'
	echo "$OUT" | grep -q 'Attached\|Detached' && fail "console words on stdout: $OUT"
	grep -q '^Attached to CT 705 (ESC \. to detach)$' "$T/console.err" || fail "stderr: $(cat "$T/console.err")"
	grep -q 'Detached from CT 705$' "$T/console.err" || fail "stderr: $(cat "$T/console.err")"
	expect_rc 0 "$VZCTL" stop 705 --fast
}

# Esc ! at the start of a line is OpenVZ's SAK: what runs on the console is
# killed (a process holding it open here), the CT's init is not.
t_console_sak() {
	start_busybox 706
	expect_rc 0 "$VZCTL" exec 706 'setsid sh -c "exec 0</dev/console 1>/dev/console 2>&1; exec sleep 1007" >/dev/null 2>&1 &'
	wait_for 50 "$VZCTL" exec 706 'pidof sleep' || fail "no process on the console"
	OUT=$( (sleep 0.5; printf '\033!'; sleep 1; printf '\033.') | timeout 20 "$VZCTL" console 706 2>&1) ||
		fail "console: $OUT"
	expect_out 'Detached from CT 706'
	wait_for 50 sh -c "! '$VZCTL' exec 706 'pidof sleep'" || fail "SAK left the console's process"
	ct_running 706 || fail "SAK stopped the CT"
	expect_rc 0 "$VZCTL" exec 706 'echo alive'
	expect_rc 0 "$VZCTL" stop 706 --fast
}

t_runscript_running_and_stopped() {
	start_busybox 702 --hostname rs.example.com
	printf 'echo script-on-$(hostname)\necho $$ >/tmp/pid\nexit 3\n' >"$T/script.sh"
	expect_rc 3 "$VZCTL" runscript 702 "$T/script.sh"
	expect_out 'script-on-rs.example.com'
	expect_rc 0 "$VZCTL" stop 702
	printf 'echo stopped-run-$(hostname)\ntouch /root/marker\n' >"$T/script2.sh"
	expect_rc 0 "$VZCTL" runscript 702 "$T/script2.sh"
	expect_out 'stopped-run-rs.example.com'
	[ -e "$T/private/702/root/marker" ] || fail "script did not write into the CT"
	expect_rc 0 "$VZCTL" status 702
	[ "$OUT" = "CTID 702 exist unmounted down" ] || fail "runscript left state: $OUT"
	[ -d "$(cgdir pids 702)" ] && fail "runscript left a cgroup"
	expect_rc 11 "$VZCTL" runscript 702 "$T/no-such-script"
	expect_out "^Script not found: $T/no-such-script\$"
	return 0
}

# vzctl read the script before running it: a directory is an error there
# (on a running or a stopped CT, which is left unmounted), not an empty
# script that succeeds.
t_runscript_directory_fails() {
	start_busybox 708
	mkdir "$T/scriptdir"
	expect_rc 79 "$VZCTL" runscript 708 "$T/scriptdir"
	expect_out "^Error reading $T/scriptdir: Is a directory\$"
	expect_rc 0 "$VZCTL" stop 708
	expect_rc 79 "$VZCTL" runscript 708 "$T/scriptdir"
	expect_out "^Error reading $T/scriptdir: Is a directory\$"
	expect_rc 0 "$VZCTL" status 708
	[ "$OUT" = "CTID 708 exist unmounted down" ] || fail "runscript left state: $OUT"
}

t_userpasswd() {
	start_busybox 703
	expect_rc 0 "$VZCTL" set 703 --userpasswd root:s3cret
	grep -q userpasswd "$T/conf/703.conf" && fail "password saved in config"
	expect_rc 0 "$VZCTL" exec 703 'awk -F: '"'"'$1=="root"{print $2}'"'"' /etc/shadow'
	local hash=$OUT salt
	salt=$(printf '%s' "$hash" | cut -d'$' -f3)
	expect_rc 0 "$VZCTL" exec 703 "mkpasswd -m sha512 s3cret $salt"
	[ "$OUT" = "$hash" ] || fail "hash does not verify: $OUT vs $hash"
	# New user, on a stopped CT.
	expect_rc 0 "$VZCTL" stop 703
	expect_rc 0 "$VZCTL" set 703 --userpasswd bob:pw
	grep -q '^bob:x:1000:1000:' "$T/private/703/etc/passwd" || fail "bob not added"
	grep -q '^bob:\$6\$' "$T/private/703/etc/shadow" || fail "bob has no hash"
	# A bad value: vzctl's set_userpass script refused it, 74.
	expect_rc 74 "$VZCTL" set 703 --userpasswd 'no-colon'
	[ "$OUT" = "Password change failed: expected user:password" ] || fail "no-colon: $OUT"
	expect_rc 74 "$VZCTL" set 703 --userpasswd '../x:pw'
	expect_rc 74 "$VZCTL" set 703 --userpasswd 'bob:'
	"$VZCTL" status 703 | grep -q unmounted || fail "userpasswd left the CT mounted"
}

t_start_wait_and_description() {
	expect_rc 0 "$VZCTL" create 704 --ostemplate busybox-x86_64 --description "my test CT"
	grep -q '^DESCRIPTION="my test CT"$' "$T/conf/704.conf" || fail "description not saved"
	expect_rc 0 "$VZCTL" start 704 --wait
	expect_out 'Container start in progress, waiting \.\.\.'
	expect_out 'Container started successfully'
	expect_rc 0 "$VZCTL" exec 704 'test -e /run/nvz-boot.done'
	expect_rc 0 "$VZCTL" set 704 --disabled yes --save
	expect_rc 0 "$VZCTL" stop 704
	expect_rc 105 "$VZCTL" start 704
	expect_out 'Container start disabled'
	expect_rc 0 "$VZCTL" start 704 --force
}

# busybox init that is slow to fork its sysinit script (rcS): --wait must
# not take "no rcS running" for "rcS has ended" before rcS even started.
# Here init first spins (no fork, so nothing else takes a pid) for a while.
t_start_wait_init_slow_to_rcS() {
	expect_rc 0 "$VZCTL" create 707 --ostemplate busybox-x86_64
	rm -f "$T/private/707/sbin/init"
	printf '#!/bin/sh\ni=0\nwhile [ $i -lt 200000 ]; do i=$((i+1)); done\nexec /bin/busybox init\n' \
		>"$T/private/707/sbin/init"
	chmod 755 "$T/private/707/sbin/init"
	expect_rc 0 "$VZCTL" start 707 --wait
	expect_rc 0 "$VZCTL" exec 707 'test -e /run/nvz-boot.done'
	expect_rc 0 "$VZCTL" stop 707
}

# The host's shutdown and boot (nvz.service runs scripts/nvz-onboot), as
# OpenVZ's initscript: at shutdown every running CT is suspended (its
# processes come back at boot) or, with VE_STOP_MODE=stop, stopped; at boot
# the CTs with ONBOOT=yes start, and so do those without ONBOOT that ran at
# shutdown, highest BOOTORDER first. A restore that fails keeps its dump
# aside and starts the CT afresh.
init_started() { awk '{ print $22 }' "/proc/$(state_pid "$1" INIT_PID)/stat"; }
t_onboot_script() {
	cpt_setup
	export VZREBOOTDIR=$T/vzreboot VZCTL VZLIST
	local onboot=$SRCDIR/scripts/nvz-onboot id
	for id in 705 706 708 709 710; do
		expect_rc 0 "$VZCTL" create $id --ostemplate busybox-x86_64
	done
	expect_rc 0 "$VZCTL" set 705 --onboot yes --bootorder 10 --save
	expect_rc 0 "$VZCTL" set 706 --onboot no --save
	expect_rc 0 "$VZCTL" set 708 --bootorder 5 --save
	for id in 705 706 708 710; do
		expect_rc 0 "$VZCTL" start $id
	done
	for id in 705 706 708 710; do
		wait_for 100 booted $id || fail "CT $id did not boot"
		"$VZCTL" exec $id 'echo before-shutdown >/run/mark' || fail "mark $id"
	done
	expect_rc 0 "$onboot" stop
	for id in 705 706 708 710; do
		expect_rc 0 "$VZCTL" status $id
		expect_out "^CTID $id exist unmounted down suspended\$"
	done
	# 710's dump cannot be restored (here: made under the other cgroup
	# version, which the restore refuses).
	sed -i 's/^CGROUP_VERSION=.*/CGROUP_VERSION="7"/' "$T/dump/Dump.710/nvz-cpt.conf"
	grep -q '^CGROUP_VERSION="7"' "$T/dump/Dump.710/nvz-cpt.conf" || fail "no CGROUP_VERSION in the dump"
	expect_rc 0 "$onboot" start
	expect_out 'the dump that did not restore is kept as .*/Dump.710.failed; starting afresh'
	# ONBOOT=yes (10) before 708 (5, ran at shutdown) before 710 (none):
	# when each init came to be on the host (a restored one too).
	local t705 t708 t710
	t705=$(init_started 705) t708=$(init_started 708) t710=$(init_started 710)
	[ "$t705" -lt "$t708" ] && [ "$t708" -lt "$t710" ] || fail "start order: 705 $t705, 708 $t708, 710 $t710"
	for id in 705 708; do
		ct_running $id || fail "CT $id was not brought back"
		expect_rc 0 "$VZCTL" exec $id cat /run/mark
		expect_out '^before-shutdown$'
	done
	ct_running 710 || fail "CT 710 was not started afresh"
	wait_for 100 booted 710 || fail "CT 710 did not boot"
	"$VZCTL" exec 710 test -e /run/mark && fail "710 came back from its dump"
	[ -d "$T/dump/Dump.710.failed" ] || fail "710's dump was not kept"
	ct_running 706 && fail "ONBOOT=no CT started"
	ct_running 709 && fail "a CT that was down at shutdown started"
	[ -z "$(ls "$VZREBOOTDIR")" ] || fail "marks left: $(ls "$VZREBOOTDIR")"
	# VE_STOP_MODE=stop: stopped, nothing dumped.
	echo 'VE_STOP_MODE=stop' >>"$T/vz.conf"
	expect_rc 0 "$onboot" stop
	for id in 705 708 710; do
		expect_rc 0 "$VZCTL" status $id
		expect_out "^CTID $id exist unmounted down\$"
	done
	expect_rc 0 "$onboot" start
	ct_running 705 || fail "CT 705 not started"
	"$VZCTL" exec 705 test -e /run/mark && fail "705 came back from a dump after a stop"
	# The CTs of one BOOTORDER go side by side, VE_PARALLEL at a time:
	# 705 and 708 (both 10 now), whose init ignores the poweroff signal,
	# each take STOP_TIMEOUT to stop.
	printf '#!/bin/sh\necho "begin $1 $2" >>"%s"\n"%s" "$@"\nrc=$?\necho "end $1 $2" >>"%s"\nexit $rc\n' \
		"$T/calls" "$VZCTL" "$T/calls" >"$T/vzctl-log"
	chmod +x "$T/vzctl-log"
	sed -i 's/^STOP_TIMEOUT=.*/STOP_TIMEOUT=1/' "$T/vz.conf"
	expect_rc 0 "$VZCTL" set 708 --bootorder 10 --save
	local par
	for par in '' 1; do
		[ -n "$par" ] && echo "VE_PARALLEL=$par" >>"$T/vz.conf"
		ct_running 708 || expect_rc 0 "$onboot" start
		for id in 705 708; do
			ct_running $id || fail "CT $id not running"
			"$VZCTL" exec $id 'kill -STOP 1' || fail "stop init of $id"
		done
		rm -f "$T/calls"
		VZCTL=$T/vzctl-log expect_rc 0 "$onboot" stop
		OUT=$(grep ' stop 70[58]$' "$T/calls" | cut -d' ' -f1 | tr '\n' ' ')
		if [ -z "$par" ]; then
			[ "$OUT" = "begin begin end end " ] || fail "not side by side: $(cat "$T/calls")"
		else
			[ "$OUT" = "begin end begin end " ] || fail "VE_PARALLEL=1: $(cat "$T/calls")"
		fi
	done
	return 0
}

# A CT config as found on an OpenVZ server (vzctl 4.x, VSwap era) loads and
# runs as it is; --save keeps every line it does not change.
t_openvz_config_loads() {
	mkdir -p "$T/private/1626"
	tar -xzf "$TEMPLATE_CACHE/busybox-x86_64.tar.gz" -C "$T/private/1626"
	cat >"$T/conf/1626.conf" <<'CONF'
# RAM
PHYSPAGES="0:262144"

# Swap
SWAPPAGES="0:524288"

# Disk quota parameters (in form of softlimit:hardlimit)
DISKSPACE="5242880:5242880"
DISKINODES="2000000:2000000"
QUOTATIME="0"

# CPU fair scheduler parameter
CPUUNITS="1000"

KMEMSIZE="14372700:14790164"
LOCKEDPAGES="256:256"
PRIVVMPAGES="524288:524288"
NUMPROC="240:240"
TCPSNDBUF="4194304:5242880"
NETFILTER="stateless"
VE_ROOT="/vz/root/$VEID"
VE_PRIVATE="/vz/private/$VEID"
OSTEMPLATE="debian-6.0-x86_64-andago"
ORIGIN_SAMPLE="vswap-256m"
HOSTNAME="orthanc.andago.com"
NAMESERVER="8.8.8.8"
NETIF="ifname=eth0,mac=00:18:51:5E:4F:A2,host_ifname=veth1626.0,host_mac=00:18:51:3C:2D:11,bridge=br0"
NAME="orthanc"
CONF
	# This server keeps its CTs elsewhere: the admin edits the two paths.
	sed -i "s|^VE_ROOT=.*|VE_ROOT=\"$T/root/\$VEID\"|; s|^VE_PRIVATE=.*|VE_PRIVATE=\"$T/private/\$VEID\"|" "$T/conf/1626.conf"
	# The config came without its name link: vzctl makes it from NAME.
	expect_rc 21 "$VZCTL" set 1626 --applyconfig_map hostname
	expect_out '^Bad parameter for --applyconfig_map: hostname$'
	expect_rc 0 "$VZCTL" set 1626 --applyconfig_map name
	expect_out '^Name orthanc assigned$'
	[ "$(readlink "$T/names/orthanc")" = "$T/conf/1626.conf" ] || fail "names/orthanc: $(ls -l "$T/names")"
	cp "$T/conf/1626.conf" "$T/before.conf"
	expect_rc 0 "$VZCTL" status orthanc
	[ "$OUT" = "CTID 1626 exist unmounted down" ] || fail "status: $OUT"
	# Its NETIF names the guide's br0: on a server without it, start says so.
	"$VZCTL" start orthanc >"$T/out" 2>&1 && fail "started without its bridge"
	grep -q "unknown bridge 'br0'" "$T/out" || fail "unclear: $(cat "$T/out")"
	# On a server that has br0 (a network namespace here), it runs as it is.
	net_setup
	ip -n "$SRV" link add br0 type bridge
	ip -n "$SRV" link set br0 up
	expect_rc 0 srv "$VZCTL" start orthanc --wait
	expect_out 'Adding interface veth1626.0 to the bridge br0.'
	expect_rc 0 srv "$VZCTL" exec orthanc 'hostname; cat /sys/class/net/eth0/address'
	[ "$OUT" = "$(printf 'orthanc.andago.com\n00:18:51:5e:4f:a2')" ] || fail "hostname/MAC: $OUT"
	expect_rc 0 srv "$VZCTL" set orthanc --description "moved from OpenVZ" --save
	diff <(grep -v '^DESCRIPTION=' "$T/conf/1626.conf") "$T/before.conf" >/dev/null ||
		fail "save changed other lines: $(diff "$T/before.conf" "$T/conf/1626.conf")"
	expect_rc 0 srv "$VZCTL" stop orthanc
	# --applyconfig merges a sample but keeps the CT's identity.
	expect_rc 0 "$VZCTL" set orthanc --applyconfig vswap-256m --save
	grep -q '^PHYSPAGES="0:256M"$' "$T/conf/1626.conf" || fail "applyconfig did not merge"
	grep -q '^HOSTNAME="orthanc.andago.com"$' "$T/conf/1626.conf" || fail "applyconfig changed HOSTNAME"
	expect_rc 109 "$VZCTL" set orthanc --applyconfig nosuch --save
}

# cgroup v2: a CT's systemd moves itself to init.scope and enables
# controllers for its subtree, after which the kernel puts no process in
# the CT's own cgroup (EBUSY). vzctl exec (and enter) then joins init's
# cgroup, a leaf of the CT's subtree, and still counts in numproc. Made
# here by hand in a busybox CT, as systemd does it.
t_exec_cgroup_v2_delegated() {
	cg_v2 || { echo "skip: cgroup v1 here (a v2 rule: no processes in a cgroup with controllers for its subtree)"; return 0; }
	start_busybox 140
	expect_rc 0 "$VZCTL" exec 140 'cd /sys/fs/cgroup && mkdir init.scope &&
		for p in $(cat cgroup.procs); do echo $p >init.scope/cgroup.procs 2>/dev/null; done;
		echo +pids >cgroup.subtree_control && cat cgroup.subtree_control'
	expect_out 'pids'
	expect_rc 0 "$VZCTL" exec 140 'cat /proc/self/cgroup'
	[ "$OUT" = "0::/init.scope" ] || fail "exec ran in '$OUT', not init's cgroup"
	expect_rc 3 "$VZCTL" exec2 140 'exit 3'
	# Counted: init and awk at least (sh execs its last command).
	expect_rc 0 "$VZCTL" exec 140 'grep -qx $$ /sys/fs/cgroup/init.scope/cgroup.procs && awk '"'"'$1 == "numproc" {print $2}'"'"' /run/user_beancounters'
	[ "$OUT" -ge 2 ] || fail "numproc $OUT does not count the exec'd processes"
	expect_rc 0 "$VZCTL" enter 140 <<<'cat /proc/self/cgroup; exit'
	expect_out '0::/init.scope'
	expect_rc 0 "$VZCTL" stop 140
	return 0
}

# OpenVZ's set options with no per-container switch on mainline Linux: an
# admin's scripts that pass them still work; the values are checked as
# OpenVZ checked them, kept in the config, and the command says why they
# change nothing. OpenVZ's no-op flags are accepted.
# As vzctl's parse_opt: a refused value ends with "Bad parameter for
# --OPTION: VALUE" and status 21, whatever the option; a device node the
# host lacks or a loop device is such a value too (86 is a start's).
t_set_bad_value_last_line() {
	expect_rc 0 "$VZCTL" create 741 --ostemplate busybox-x86_64
	local ov
	for ov in 'onboot YES' 'disabled x' 'bootorder x' 'netfilter all' 'features nfs' 'meminfo pages' \
		'stop-timeout x' 'devnodes nosuchnode:rw' 'devnodes loop0:rw' 'devices c:7:0:rw' 'devices c:10:200:x' \
		'capability foo:on'; do
		expect_rc 21 "$VZCTL" set 741 --${ov% *} "${ov#* }" --save
		# nvz's reason may follow where vzctl took values nvz refuses.
		case "$(printf '%s\n' "$OUT" | tail -1)" in
		"Bad parameter for --${ov% *}: ${ov#* }" | "Bad parameter for --${ov% *}: ${ov#* } ("*")") ;;
		*) fail "--$ov: last line: $OUT" ;;
		esac
	done
	expect_rc 21 "$VZCTL" set 741 --devnodes nosuchnode:rw --save
	expect_out '^Incorrect device name /dev/nosuchnode'
	expect_rc 21 "$VZCTL" set 741 --devnodes loop0:rw --save
	expect_out '^Device loop0 is not allowed to be assigned to a CT$'
	grep -Eq '^(ONBOOT|DISABLED|BOOTORDER|NETFILTER|FEATURES|MEMINFO|STOP_TIMEOUT|DEVNODES|DEVICES|CAPABILITY)=' \
		"$T/conf/741.conf" && fail "a refused value was saved"
	return 0
}

# As vzctl: --iptables takes the module names it knew (space separated, or
# the option repeated, adding up), writes them in its own order, and
# refuses an unknown one: its warning, then a bad parameter (21).
t_set_iptables_modules() {
	expect_rc 0 "$VZCTL" create 742 --ostemplate busybox-x86_64
	expect_rc 0 "$VZCTL" set 742 --iptables 'ipt_state iptable_filter' --iptables ipt_REJECT --save
	grep -qx 'IPTABLES="iptable_filter ipt_REJECT ipt_state"' "$T/conf/742.conf" ||
		fail "IPTABLES: $(grep IPTABLES "$T/conf/742.conf")"
	# A set's list replaces the config's, as vzctl wrote it.
	expect_rc 0 "$VZCTL" set 742 --iptables iptable_nat --save
	grep -qx 'IPTABLES="iptable_nat"' "$T/conf/742.conf" || fail "IPTABLES: $(grep IPTABLES "$T/conf/742.conf")"
	expect_rc 21 "$VZCTL" set 742 --iptables 'ipt_REJECT nosuch_mod' --save
	expect_out '^Warning: Unknown iptable module: nosuch_mod, skipped$'
	expect_out '^Bad parameter for --iptables: ipt_REJECT nosuch_mod$'
	grep -qx 'IPTABLES="iptable_nat"' "$T/conf/742.conf" || fail "a refused IPTABLES was saved"
}

# As vzctl: FEATURES keeps one entry a feature, written in vzctl's order
# (sysfs nfs sit ipip ppp ipgre bridge nfsd) whatever order they came in.
t_set_features_order() {
	expect_rc 0 "$VZCTL" create 743 --ostemplate busybox-x86_64
	expect_rc 0 "$VZCTL" set 743 --features nfs:on,sysfs:off --save
	grep -qx 'FEATURES="sysfs:off nfs:on"' "$T/conf/743.conf" || fail "FEATURES: $(grep FEATURES "$T/conf/743.conf")"
	expect_rc 0 "$VZCTL" set 743 --features 'bridge:on nfs:off' --features ipip:on --save
	grep -qx 'FEATURES="sysfs:off nfs:off ipip:on bridge:on"' "$T/conf/743.conf" ||
		fail "FEATURES: $(grep FEATURES "$T/conf/743.conf")"
	expect_rc 21 "$VZCTL" set 743 --features 'nfs:on foo:on' --save
	expect_out '^Bad parameter for --features: nfs:on foo:on$'
}

t_set_openvz_kept_options() {
	expect_rc 0 "$VZCTL" create 740 --ostemplate busybox-x86_64
	expect_rc 0 "$VZCTL" set 740 --features nfs:on,sysfs:off --netfilter stateful --save
	expect_out 'Warning: --features is kept in the config, but nothing sets it per container'
	expect_out 'Warning: --netfilter is kept in the config'
	expect_rc 0 "$VZCTL" set 740 --features nfs:off --iptables ipt_REJECT,iptable_filter --vm_overcommit 1.5 \
		--meminfo pages:1000 --quotaugidlimit 100 --diskquota no --avnumproc 40:80 --skip_arpdetect --offline-resize --save
	expect_out 'Warning: --avnumproc is kept in the config'
	grep -q '^FEATURES="sysfs:off nfs:off"$' "$T/conf/740.conf" || fail "FEATURES: $(grep FEATURES "$T/conf/740.conf")"
	local kv
	for kv in 'NETFILTER="stateful"' 'IPTABLES="iptable_filter ipt_REJECT"' 'VM_OVERCOMMIT="1.5"' \
		'MEMINFO="pages:1000"' 'QUOTAUGIDLIMIT="100"' 'DISK_QUOTA="no"' 'AVNUMPROC="40:80"'; do
		grep -qx "$kv" "$T/conf/740.conf" || fail "$kv not saved"
	done
	expect_rc 21 "$VZCTL" set 740 --features foo:on --save
	expect_out "^Bad parameter for --features: foo:on$"
	expect_rc 21 "$VZCTL" set 740 --netfilter all --save
	expect_rc 21 "$VZCTL" set 740 --meminfo pages --save
	expect_rc 21 "$VZCTL" set 740 --vm_overcommit -1 --save
	expect_rc 21 "$VZCTL" set 740 --diskquota maybe --save
	expect_rc 21 "$VZCTL" set 740 --avnumproc 40:x --save
	grep -qx 'NETFILTER="stateful"' "$T/conf/740.conf" || fail "a refused value was saved"
	# The CT starts with them.
	expect_rc 0 "$VZCTL" start 740
	expect_rc 0 "$VZCTL" stop 740 --fast
	return 0
}

# vzctl set --private/--root: the paths change in the config only (the
# admin moves the area), kept with a literal $VEID, refused while the CT
# uses them (running 32, mounted 41); the CT then runs from the new place
# and destroy removes it there.
t_set_root_private() {
	start_busybox 741
	expect_rc 32 "$VZCTL" set 741 --private "$T/private2/\$VEID" --save
	expect_out 'Unable to change VE_PRIVATE on a running container'
	expect_rc 0 "$VZCTL" stop 741
	expect_rc 0 "$VZCTL" mount 741
	expect_rc 41 "$VZCTL" set 741 --root "$T/root2/\$VEID" --save
	expect_out 'Unable to change VE_ROOT on a mounted container'
	expect_rc 0 "$VZCTL" umount 741
	expect_rc 21 "$VZCTL" set 741 --private relative/741 --save
	grep -q "^VE_PRIVATE=.*relative" "$T/conf/741.conf" && fail "refused path saved"
	mkdir -p "$T/private2" "$T/root2"
	mv "$T/private/741" "$T/private2/741" || fail "move the area"
	expect_rc 0 "$VZCTL" set 741 --private "$T/private2/\$VEID" --root "$T/root2/\$VEID" --save
	# Kept with $VEID, unescaped as vzctl wrote it (a shell sourcing the
	# file with VEID set gets the CT's path).
	grep -qF "VE_PRIVATE=\"$T/private2/\$VEID\"" "$T/conf/741.conf" || fail "VE_PRIVATE: $(grep VE_PRIVATE "$T/conf/741.conf")"
	grep -qF "VE_ROOT=\"$T/root2/\$VEID\"" "$T/conf/741.conf" || fail "VE_ROOT: $(grep VE_ROOT "$T/conf/741.conf")"
	expect_rc 0 "$VZCTL" start 741
	wait_for 100 booted 741 || fail "no boot from the new place"
	mountpoint -q "$T/root2/741" || fail "not mounted on the new VE_ROOT"
	expect_rc 0 "$VZLIST" -H -o private 741
	expect_out "$T/private2/741"
	expect_rc 0 "$VZLIST" -H -o root 741
	expect_out "$T/root2/741"
	expect_rc 0 "$VZCTL" stop 741
	expect_rc 0 "$VZCTL" destroy 741
	[ -e "$T/private2/741" ] && fail "destroy left the moved area"
	return 0
}

# LOG_LEVEL decides what reaches LOGFILE, as in vzctl: -1 errors only, 0
# the usual lines, 1 and up the detail; a failed command's error is there.
t_log_level() {
	local log=$T/vzctl.log
	"$VZCTL" --quiet create 2701 --ostemplate busybox-x86_64 || fail create
	printf '#!/bin/sh\nexit 0\n' >"$T/conf/vps.mount"
	chmod 755 "$T/conf/vps.mount"
	echo "LOG_LEVEL=0" >>"$T/vz.conf"
	: >"$log"
	expect_rc 0 "$VZCTL" start 2701
	grep -q 'CT 2701: Starting container' "$log" || fail "no progress line at 0: $(cat "$log")"
	grep -q 'Running mount script' "$log" && fail "detail logged at 0"
	expect_rc 21 "$VZCTL" set 2701 --cpuunits 3
	grep -q 'CT 2701: Bad parameter for --cpuunits: 3' "$log" || fail "the error is not logged: $(cat "$log")"
	echo "LOG_LEVEL=1" >>"$T/vz.conf"
	expect_rc 0 "$VZCTL" restart 2701
	grep -q 'Running mount script' "$log" || fail "no detail at 1"
	echo "LOG_LEVEL=-1" >>"$T/vz.conf"
	: >"$log"
	expect_rc 0 "$VZCTL" stop 2701
	[ ! -s "$log" ] || fail "logged at -1 without an error: $(cat "$log")"
	expect_rc 21 "$VZCTL" set 2701 --cpuunits 3
	grep -q 'Bad parameter for --cpuunits: 3' "$log" || fail "the error is not logged at -1"
	[ "$(wc -l <"$log")" = 1 ] || fail "more than the error at -1: $(cat "$log")"
	return 0
}

# A key of the server (vz.conf) in a CT's config is ignored with a warning:
# a CT's config cannot move its lock, state or cgroup away from where every
# other command (vzlist, vzpid, the next vzctl) looks for them.
t_ct_config_server_keys_ignored() {
	"$VZCTL" --quiet create 2702 --ostemplate busybox-x86_64 || fail create
	printf 'CGROUP_PREFIX="elsewhere"\nLOCKDIR="%s/otherlock"\nRUNDIR="%s/otherrun"\n' "$T" "$T" \
		>>"$T/conf/2702.conf"
	expect_rc 0 "$VZCTL" start 2702
	expect_out "Warning: CGROUP_PREFIX is a setting of the server \(vz.conf\), ignored in $T/conf/2702.conf"
	expect_out 'Warning: LOCKDIR is a setting'
	[ -d "$(cgdir pids 2702)" ] || fail "not in the server's cgroup"
	[ -e "$T/run/2702/state" ] || fail "state not under the server's RUNDIR"
	[ -e "$T/otherrun" ] || [ -e "$T/otherlock" ] && fail "the CT's config moved its state or lock"
	expect_rc 0 "$VZLIST" -H -o ctid,status 2702
	expect_out '2702 +running'
	expect_rc 0 "$VZCTL" stop 2702
	return 0
}

# --nameserver and --searchdomain on a running CT change, as OpenVZ's
# set_dns script, only the lines of the kind given: a --searchdomain after
# an unsaved --nameserver keeps it, and the CT's own lines (options) stay.
# (resolv.conf used to be written whole, from the config for the kind not
# given.)
t_set_dns_live_only_given() {
	start_busybox 1012
	expect_rc 0 "$VZCTL" set 1012 --nameserver 192.0.2.1 --save
	expect_rc 0 "$VZCTL" exec 1012 'echo "options ndots:2" >>/etc/resolv.conf'
	expect_rc 0 "$VZCTL" set 1012 --nameserver 192.0.2.53 --nameserver 192.0.2.54
	expect_rc 0 "$VZCTL" set 1012 --searchdomain example.org
	expect_rc 0 "$VZCTL" exec 1012 'cat /etc/resolv.conf'
	[ "$OUT" = "search example.org
options ndots:2
nameserver 192.0.2.53
nameserver 192.0.2.54" ] || fail "resolv.conf: $OUT"
	# A start writes the config's values the same way.
	expect_rc 0 "$VZCTL" restart 1012
	wait_for 100 booted 1012 || fail "no boot"
	expect_rc 0 "$VZCTL" exec 1012 'cat /etc/resolv.conf'
	[ "$OUT" = "search example.org
options ndots:2
nameserver 192.0.2.1" ] || fail "after restart: $OUT"
}

# vzctl set without --save, in vzctl's words: on a stopped CT nothing was
# applied, so nothing "will be lost"; --setmode restart without --save.
t_set_unsaved_warning_wording() {
	expect_rc 0 "$VZCTL" create 709 --ostemplate busybox-x86_64
	expect_rc 0 "$VZCTL" set 709 --cpuunits 600
	[ "$OUT" = "WARNING: Settings were not saved to config (use --save flag)" ] || fail "stopped: $OUT"
	expect_rc 20 "$VZCTL" set 709 --setmode restart --cpuunits 600
	[ "$OUT" = "Error: --setmode restart doesn't make sense without --save flag" ] || fail "setmode: $OUT"
	expect_rc 0 "$VZCTL" --quiet start 709
	expect_rc 0 "$VZCTL" set 709 --cpuunits 600
	[ "$OUT" = "Setting CPU units: 600
WARNING: Settings were not saved to config and will be lost after CT restart (use --save flag)" ] ||
		fail "running: $OUT"
}

# set --save with nothing for the file: vzctl said so and did not write it.
t_set_save_no_changes() {
	expect_rc 0 "$VZCTL" create 710 --ostemplate busybox-x86_64 --name sn710
	cp "$T/conf/710.conf" "$T/before.conf"
	touch -d '2001-01-01' "$T/conf/710.conf"
	expect_rc 0 "$VZCTL" set 710 --save
	[ "$OUT" = "No changes in CT configuration, not saving" ] || fail "lone --save: $OUT"
	expect_rc 0 "$VZCTL" set 710 --applyconfig_map name --save
	expect_out '^Name sn710 assigned$'
	expect_out '^No changes in CT configuration, not saving$'
	[ "$(stat -c %Y "$T/conf/710.conf")" = "$(date -d 2001-01-01 +%s)" ] || fail "config rewritten"
	expect_rc 0 "$VZCTL" set 710 --cpuunits 900 --save
	expect_out '^CT configuration saved to '
}

# vzctl set --save on a CT without a config made the config, with the
# changes only (a create then uses it); without --save: status 14.
t_set_save_makes_missing_config() {
	expect_rc 14 "$VZCTL" set 711 --cpuunits 300
	expect_out '^Container config file does not exist$'
	expect_rc 0 "$VZCTL" set 711 --cpuunits 300 --diskspace 1G --save
	expect_out "^WARNING: $T/conf/711.conf not found: No such file or directory\$"
	expect_out "^CT configuration saved to $T/conf/711.conf\$"
	[ "$(grep -v '^#' "$T/conf/711.conf" | grep -c .)" = 2 ] || fail "config: $(cat "$T/conf/711.conf")"
	grep -q '^CPUUNITS="300"$' "$T/conf/711.conf" || fail "CPUUNITS: $(cat "$T/conf/711.conf")"
	expect_rc 0 "$VZCTL" create 711 --ostemplate busybox-x86_64
	grep -q '^CPUUNITS="300"$' "$T/conf/711.conf" || fail "create lost CPUUNITS: $(cat "$T/conf/711.conf")"
	expect_rc 0 "$VZCTL" start 711
}
