# shellcheck shell=bash
# Unprivileged CTs (USERNS="yes"): the CT's root is an ordinary host uid.

# userns_base ID: the default first host id of CT ID (USERNS_BASE 100000).
userns_base() { echo $((100000 + $1 * 65536)); }

t_userns_root_is_unprivileged() {
	local id=4101 base pid
	base=$(userns_base $id)
	expect_rc 0 "$VZCTL" create $id --ostemplate busybox-x86_64 --layout simfs
	expect_rc 21 "$VZCTL" set $id --userns maybe --save
	expect_rc 0 "$VZCTL" set $id --userns yes --save
	echo secret >"$T/private/$id/root/host-made"
	chmod 600 "$T/private/$id/root/host-made"
	expect_rc 0 "$VZCTL" start $id
	wait_for 100 booted $id || fail "CT did not boot in a user namespace"
	pid=$(state_pid $id INIT_PID)
	# On the host: init runs as the first id of the CT's range, not root.
	grep -Eq "^Uid:[[:space:]]+$base[[:space:]]+$base[[:space:]]+$base[[:space:]]+$base\$" \
		"/proc/$pid/status" || fail "init's host uid: $(grep Uid "/proc/$pid/status")"
	[ "$(awk '{print $1, $2, $3}' "/proc/$pid/uid_map")" = "0 $base 65536" ] ||
		fail "uid_map: $(cat "/proc/$pid/uid_map")"
	[ "$(awk '{print $1, $2, $3}' "/proc/$pid/gid_map")" = "0 $base 65536" ] ||
		fail "gid_map: $(cat "/proc/$pid/gid_map")"
	# Inside: root, owning its files (idmapped root: on disk they stay 0).
	expect_rc 0 "$VZCTL" exec $id 'id -u; cat /root/host-made; touch /root/ct-made; stat -c %u /bin/busybox'
	[ "$OUT" = "$(printf '0\nsecret\n0')" ] || fail "inside: $OUT"
	# The beancounter view is served to a root that is not host root.
	expect_rc 0 "$VZCTL" exec $id 'head -1 /run/user_beancounters'
	expect_out '^Version: 2.5$'
	[ "$(stat -c %u "$T/private/$id/root/ct-made")" = 0 ] ||
		fail "a file made inside is owned by $(stat -c %u "$T/private/$id/root/ct-made") on disk"
	# ...but not the host's root: its namespaces are the host's to change.
	expect_rc 0 "$VZCTL" exec $id 'mount -t tmpfs x /mnt 2>&1 && echo MOUNTED; hostname evil 2>&1 && echo RENAMED; mknod /tmp/sda b 8 0 2>&1 && echo MKNOD; cat /proc/self/uid_map'
	printf '%s' "$OUT" | grep -Eq 'MOUNTED|RENAMED|MKNOD' && fail "CT root kept host powers: $OUT"
	expect_out "0 +$base +65536"
	# A process exec'd in is the same unprivileged uid on the host.
	"$VZCTL" exec $id 'sleep 5' &
	local execpid=$!
	wait_for 50 sh -c "pgrep -u $base -x sleep" || fail "no sleep running as uid $base on the host"
	wait $execpid
	expect_rc 0 "$VZCTL" stop $id
	grep -q "$T" /proc/self/mountinfo && fail "mounts left: $(grep "$T" /proc/self/mountinfo)"
	# Default CTs are unchanged: no user namespace.
	expect_rc 0 "$VZCTL" create 4102 --ostemplate busybox-x86_64 --layout simfs
	expect_rc 0 "$VZCTL" start 4102
	wait_for 100 booted 4102 || fail "default CT did not boot"
	pid=$(state_pid 4102 INIT_PID)
	grep -Eq '^Uid:[[:space:]]+0[[:space:]]' "/proc/$pid/status" || fail "default CT is not host root"
	[ "$(readlink "/proc/$pid/ns/user")" = "$(readlink /proc/self/ns/user)" ] ||
		fail "default CT got a user namespace"
	expect_rc 0 "$VZCTL" stop 4102
}

t_userns_ploop_and_refusals() {
	expect_rc 0 "$VZCTL" create 4111 --ostemplate busybox-x86_64 --layout ploop --diskspace 200M
	expect_rc 0 "$VZCTL" set 4111 --userns yes --save
	# An explicit range (USERNS_MAP) instead of the CTID's default.
	echo 'USERNS_MAP="3000000:65536"' >>"$T/conf/4111.conf"
	expect_rc 0 "$VZCTL" start 4111
	wait_for 100 booted 4111 || fail "ploop CT did not boot in a user namespace"
	local pid
	pid=$(state_pid 4111 INIT_PID)
	[ "$(awk '{print $1, $2, $3}' "/proc/$pid/uid_map")" = "0 3000000 65536" ] ||
		fail "uid_map: $(cat "/proc/$pid/uid_map")"
	expect_rc 0 "$VZCTL" exec 4111 'touch /etc/from-ct && stat -c %u /etc/from-ct'
	[ "$OUT" = 0 ] || fail "file owner inside: $OUT"
	# enter: a shell on a pty of the CT's devpts, as the CT's root.
	# Its input's end ends it (the pty's slave opened from the host).
	OUT=$(printf 'echo uid-$(id -u)-$(cat /proc/self/uid_map | tr -s " ")\n' |
		timeout 20 "$VZCTL" enter 4111 2>&1) || fail "enter did not end: $OUT"
	expect_out 'uid-0- ?0 3000000 65536'
	expect_out 'exited from CT 4111'
	# Its namespaces are the host's (only the user namespace is its own):
	# criu cannot dump that. Said before anything is frozen; it runs on.
	cpt_setup
	expect_rc 16 "$VZCTL" chkpnt 4111
	expect_out 'the container cannot be checkpointed: it runs in a user namespace of its own'
	expect_rc 156 "$VZCTL" snapshot 4111
	expect_out 'Failed to create snapshot \(--skip-suspend makes one without the memory\): .*user namespace of its own'
	expect_rc 0 "$VZCTL" snapshot 4111 --skip-suspend
	expect_rc 17 "$BUILD/vzmigrate" --online 192.0.2.1 4111
	expect_out 'CT 4111: it runs in a user namespace of its own .*: online migration is impossible'
	expect_rc 0 "$VZCTL" exec 4111 true
	expect_rc 0 "$VZCTL" stop 4111
	# Host root as a CT's id is refused.
	sed -i 's/^USERNS_MAP=.*/USERNS_MAP="0:65536"/' "$T/conf/4111.conf"
	expect_rc 21 "$VZCTL" start 4111
	# An overlay (simfs:shared) cannot be idmapped on this kernel: refused,
	# with nothing left mounted.
	expect_rc 0 "$VZCTL" create 4112 --ostemplate busybox-x86_64 --layout simfs:shared
	expect_rc 0 "$VZCTL" set 4112 --userns yes --save
	expect_rc 50 "$VZCTL" start 4112
	expect_out 'idmapped mounts'
	grep -q "$T" /proc/self/mountinfo && fail "mounts left: $(grep "$T" /proc/self/mountinfo)"
	return 0
}

# A new hub takes over an unprivileged CT as any other (t_hub_killed): its
# beancounter file and its console (a pty the CT's root owns) come back.
t_userns_adopted_by_new_hub() {
	local id=4121 hub hub2
	expect_rc 0 "$VZCTL" create $id --ostemplate busybox-x86_64 --layout simfs
	expect_rc 0 "$VZCTL" set $id --userns yes --save
	expect_rc 0 "$VZCTL" start $id
	wait_for 100 booted $id || fail "CT did not boot in a user namespace"
	hub=$(state_pid $id MONITOR_PID)
	kill -KILL "$hub"
	wait_for 50 eval '! kill -0 '"$hub"' 2>/dev/null || [ "$(awk '"'"'{print $3}'"'"' /proc/'"$hub"'/stat)" = Z ]' ||
		fail "the hub $hub was not killed"
	expect_rc 0 "$VZCTL" status $id
	expect_out 'exist mounted running'
	hub2=$(state_pid $id MONITOR_PID)
	[ -n "$hub2" ] && [ "$hub2" != "$hub" ] || fail "$id names $hub2, not a new hub"
	expect_rc 0 "$VZCTL" exec $id 'cat /run/user_beancounters'
	expect_out "^ +$id: +kmemsize"
	expect_rc 0 "$VZCTL" exec $id 'echo userns-console-back >/dev/console && stat -c %u /dev/console'
	[ "$OUT" = 0 ] || fail "the console is owned by $OUT inside"
	wait_for 50 grep -q userns-console-back "$T/run/$id/console.log" || fail "the console is not drained"
	expect_rc 0 "$VZCTL" stop $id
}
