# Hostile templates, symlinks planted by a CT, and what exec hands a CT.
# shellcheck shell=bash

# A template tarball that tries every escape at once, plus a sentinel dir
# outside the CT that must stay empty.
make_evil_template() {
	local name=$1 s="$T/stage"
	mkdir -p "$s/a/sbin" "$s/b/escape" "$T/outside"
	cp "$TEMPLATE_CACHE/busybox-x86_64.tar.gz" "$T/base.tar.gz"
	ln -s "$T/outside" "$s/a/escape"
	echo pwned >"$s/b/escape/pwned"
	(cd "$s/a" && tar -cf "$T/evil.tar" escape)
	(cd "$s/b" && tar -rf "$T/evil.tar" escape/pwned)
	(cd "$s" && echo dotdot >"$T/dotdot-src" && tar -rPf "$T/evil.tar" --transform "s|.*|../../outside/dotdot|" "$T/dotdot-src")
	gzip -c "$T/evil.tar" >"$T/template/cache/$name.tar.gz"
}

t_hostile_template_refused() {
	make_evil_template evil
	"$VZCTL" create 601 --ostemplate evil >"$T/out" 2>&1
	local rc=$?
	[ "$(ls -A "$T/outside")" = "" ] || fail "template wrote outside the CT: $(ls -A "$T/outside")"
	[ -e "$T/dotdot" ] || [ -e "$T/../outside/dotdot" ] && fail "'..' entry escaped"
	[ $rc -ne 0 ] || fail "hostile template accepted"
	[ $rc -eq 47 ] || fail "exit $rc, expected 47: $(cat "$T/out")"
	[ -e "$T/private/601" ] && fail "private area left"
	[ -e "$T/private/601.tmp" ] && fail "half-unpacked private area left"
	"$VZCTL" status 601 | grep -q 'deleted' || fail "status after refused create"
	return 0
}

# A CT replaces /etc/hosts and /etc/resolv.conf with symlinks to host files,
# and /etc/hostname's directory with one to a host dir: set must not follow.
t_planted_symlinks_not_followed() {
	start_busybox 602
	mkdir -p "$T/hostdir"
	echo host-hosts >"$T/hostdir/hosts"
	echo host-resolv >"$T/hostdir/resolv"
	"$VZCTL" exec 602 "ln -sf $T/hostdir/hosts /etc/hosts; ln -sf $T/hostdir/resolv /etc/resolv.conf"
	expect_rc 0 "$VZCTL" set 602 --hostname evil.example.com --nameserver 192.0.2.53 --save
	[ "$(cat "$T/hostdir/hosts")" = host-hosts ] || fail "host file behind /etc/hosts was written"
	[ "$(cat "$T/hostdir/resolv")" = host-resolv ] || fail "host file behind resolv.conf was written"
	expect_rc 0 "$VZCTL" exec 602 cat /etc/resolv.conf
	expect_out 'nameserver 192.0.2.53'
	# Whole /etc replaced by a link to a host directory, CT stopped.
	expect_rc 0 "$VZCTL" stop 602
	expect_rc 0 "$VZCTL" mount 602
	mv "$T/root/602/etc" "$T/root/602/etc.real"
	ln -s "$T/hostdir" "$T/root/602/etc"
	expect_rc 0 "$VZCTL" umount 602
	"$VZCTL" set 602 --hostname again.example.com --save >/dev/null 2>&1
	"$VZCTL" start 602 >/dev/null 2>&1
	[ ! -e "$T/hostdir/hostname" ] || fail "start wrote /etc/hostname through a CT symlink to the host"
	[ "$(cat "$T/hostdir/hosts")" = host-hosts ] || fail "start wrote through /etc symlink"
	return 0
}

# exec hands the CT only pipes: no host fd, no host terminal, no host binary.
t_exec_leaks_nothing() {
	start_busybox 603
	exec 7<"$SRCDIR/Makefile"
	expect_rc 0 "$VZCTL" exec 603 'ls -l /proc/self/fd/ 2>/dev/null | sed -n "s/.*-> //p"'
	exec 7<&-
	printf '%s\n' "$OUT" | grep -vE '^(pipe:|/dev/null|/proc/[0-9]+/fd)' | grep . &&
		fail "exec'd process holds a non-pipe fd: $OUT"
	# Every process the CT can see is its own: none runs a host binary.
	expect_rc 0 "$VZCTL" exec 603 'for p in /proc/[0-9]*; do readlink $p/exe; done'
	printf '%s\n' "$OUT" | grep -E 'vzctl|memfd' && fail "host binary visible inside: $OUT"
	# vzctl exec itself never joins the CT (its namespaces stay the host's);
	# what joins is the exec stub, run from a sealed memfd, and the command
	# it starts as vzctl's child runs the CT's own binary.
	"$VZCTL" exec 603 'sleep 2' &
	local bg=$! p ns
	sleep 0.5
	for ns in pid mnt net; do
		[ "$(readlink /proc/$bg/ns/$ns)" = "$(readlink /proc/self/ns/$ns)" ] ||
			fail "vzctl exec ($bg) joined the CT's $ns namespace"
	done
	[ -n "$(pgrep -P $bg)" ] || fail "vzctl exec has no child"
	for p in $(pgrep -P $bg); do
		readlink /proc/$p/exe | grep -qE 'memfd|vzctl' &&
			fail "the command ($p) runs from $(readlink /proc/$p/exe)"
	done
	wait $bg
	# enter, the same way (its shell on a pty of the CT's devpts).
	{ echo 'sleep 2; exit'; sleep 3; } | "$VZCTL" enter 603 >/dev/null 2>&1 &
	bg=$!
	sleep 0.7
	local v
	v=$(pgrep -f "vzctl enter 603" | head -1)
	[ -n "$v" ] || fail "no vzctl enter"
	[ "$(readlink /proc/$v/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ] ||
		fail "vzctl enter ($v) joined the CT's mount namespace"
	[ -n "$(pgrep -P $v)" ] || fail "vzctl enter has no child"
	for p in $(pgrep -P $v); do
		readlink /proc/$p/exe | grep -qE 'memfd|vzctl' &&
			fail "the shell ($p) runs from $(readlink /proc/$p/exe)"
	done
	wait $bg
	# Capabilities: no module loading, no raw I/O inside.
	expect_rc 0 "$VZCTL" exec 603 'grep CapBnd /proc/self/status'
	local bnd=$((16#${OUT##*:	}))
	[ $((bnd >> 16 & 1)) -eq 0 ] || fail "CAP_SYS_MODULE kept"
	[ $((bnd >> 17 & 1)) -eq 0 ] || fail "CAP_SYS_RAWIO kept"
	[ $((bnd >> 21 & 1)) -eq 1 ] || fail "CAP_SYS_ADMIN dropped (a CT runs a whole OS)"
	expect_rc 0 "$VZCTL" exec 603 'grep Seccomp: /proc/self/status'
	expect_out '2$'
	# Masked and read-only proc paths.
	"$VZCTL" exec2 603 'echo 1 > /proc/sysrq-trigger' && fail "sysrq-trigger writable"
	expect_rc 0 "$VZCTL" exec 603 'cat /proc/kcore 2>/dev/null | wc -c'
	[ "$OUT" = 0 ] || fail "/proc/kcore readable"
	"$VZCTL" exec2 603 'echo x > /sys/kernel/uevent_helper' && fail "/sys writable"
	return 0
}

# nvz's own probe inside the CT (start --wait) runs with no_new_privs: a
# setuid file planted by the CT gives it nothing. The admin's exec keeps
# setuid working (su, sudo, ping inside), as on a real server.
t_wait_probe_no_new_privs() {
	"$VZCTL" --quiet create 605 --ostemplate busybox-x86_64 || fail create
	"$VZCTL" --quiet mount 605 || fail mount
	# A slow boot, so the probe can be seen while it waits.
	sed -i '2i sleep 3' "$T/root/605/etc/init.d/rcS" || fail "edit rcS"
	"$VZCTL" --quiet umount 605 || fail umount
	"$VZCTL" start 605 --wait >"$T/out" 2>&1 &
	local sp=$! p pid="" nnp="" i
	# The probe is a process of the CT: look among its cgroup's members,
	# for as long as the start runs (a loaded host makes the start slow).
	for i in $(seq 1200); do
		kill -0 $sp 2>/dev/null || break
		for p in $(cat "$(cgdir pids 605)/cgroup.procs" 2>/dev/null); do
			# /bin/sh -c SCRIPT nvz-wait SECS
			if tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | grep -qx 'nvz-wai[t]'; then
				pid=$p
				nnp=$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$p/status" 2>/dev/null)
			fi
		done
		[ -n "$nnp" ] && break
		sleep 0.05
	done
	wait $sp || fail "start --wait: $(cat "$T/out")"
	# --wait returned only once busybox's rcS had finished.
	"$VZCTL" exec 605 'test -e /run/nvz-boot.done' || fail "start --wait returned before rcS ended"
	[ -n "$pid" ] || fail "the wait probe was never seen"
	[ "$nnp" = 1 ] || fail "wait probe runs with NoNewPrivs=$nnp"
	expect_rc 0 "$VZCTL" exec 605 'grep NoNewPrivs /proc/self/status /proc/1/status'
	expect_out 'self/status:NoNewPrivs:[[:space:]]+0'
	expect_out '1/status:NoNewPrivs:[[:space:]]+0'
	expect_rc 0 "$VZCTL" exec 605 'grep Seccomp: /proc/self/status /proc/1/status'
	[ "$(printf '%s\n' "$OUT" | grep -c 'Seccomp:[[:space:]]*2')" = 2 ] || fail "seccomp filter missing: $OUT"
	return 0
}

# The CT's seccomp filter refuses a new UTS namespace however it is asked
# for (t_cpt_debian_sandboxed_units has why): unshare gets EPERM, and
# clone3, whose flags seccomp cannot read, ENOSYS (glibc then falls back
# to clone, which is refused too).
t_seccomp_no_nested_ns_via_clone3() {
	start_busybox 1740
	cp "$BUILD/tests/clone3ns" "$T/root/1740/clone3ns" || fail "copy clone3ns"
	expect_rc 0 "$VZCTL" exec 1740 /clone3ns
	expect_out '^clone3 ENOSYS$'
	expect_out '^unshare EPERM$'
	rm -f "$T/root/1740/clone3ns"
}
