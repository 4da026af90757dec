# vzmigrate between two "servers" on this machine: network namespaces A and
# B, each with its own sshd on its own address, its own VZ_CONF root ($T for
# A, $T/b for B) and cgroup prefix, joined by a bridge "LAN" in a third
# namespace C (the client). Keys are made here; nothing touches the real
# network or root's ~/.ssh.
# shellcheck shell=bash

MIG_A=10.78.0.2
MIG_B=10.78.0.3
MIG_CT_IP=10.78.0.50
MIG_A6=fd78::2
MIG_B6=fd78::3

mig_setup() {
	NA=nvzma$BASHPID NB=nvzmb$BASHPID NC=nvzmc$BASHPID
	BCONF=$T/b/vz.conf
	VZMIGRATE=$(dirname "$VZCTL")/vzmigrate
	MIG_PIDS=""
	trap mig_teardown EXIT
	for n in "$NA" "$NB" "$NC"; do ip netns add "$n" || fail "netns add $n"; done
	ip -n "$NC" link add lan type bridge || fail bridge
	ip -n "$NC" link add a0 type veth peer name eth0 netns "$NA" || fail veth
	ip -n "$NC" link add b0 type veth peer name eth0 netns "$NB" || fail veth
	ip -n "$NC" link set a0 master lan
	ip -n "$NC" link set b0 master lan
	ip -n "$NC" addr add 10.78.0.1/24 dev lan
	ip -n "$NA" addr add $MIG_A/24 dev eth0
	ip -n "$NB" addr add $MIG_B/24 dev eth0
	ip -n "$NA" addr add $MIG_A6/64 dev eth0 nodad
	ip -n "$NB" addr add $MIG_B6/64 dev eth0 nodad
	for l in lo lan a0 b0; do ip -n "$NC" link set "$l" up; done
	for n in "$NA" "$NB"; do ip -n "$n" link set lo up; ip -n "$n" link set eth0 up; done
	new_server "$T/b" "$CGROUP_PREFIX-b"
	mig_ssh
}

# Keys, host keys and one sshd per server, each in its namespace. The
# target's authorized_keys sets VZ_CONF (its server root) and PATH (this
# build's vzctl) for the commands vzmigrate runs there, and HOME to an empty
# directory: bash sources ~/.bashrc for every ssh command, and this
# machine's root .bashrc (pyenv init) takes ~270 ms, which a stock host's
# does not; every copy of a migration would pay it.
mig_ssh() {
	local k=$T/ssh bin
	bin=$(dirname "$VZCTL")
	mkdir -p "$k/home" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$k/id" || fail "ssh-keygen"
	ssh-keygen -q -t ed25519 -N '' -f "$k/hostkey" || fail "ssh-keygen"
	for s in a b; do
		local addr=$MIG_A addr6=$MIG_A6 ns=$NA conf=$T/vz.conf
		[ $s = b ] && addr=$MIG_B addr6=$MIG_B6 ns=$NB conf=$BCONF
		printf 'environment="VZ_CONF=%s",environment="PATH=%s:/usr/sbin:/usr/bin:/sbin:/bin",environment="HOME=%s" %s\n' \
			"$conf" "$bin" "$k/home" "$(cat "$k/id.pub")" >"$k/auth_$s"
		cat >"$k/sshd_$s" <<CONF
ListenAddress $addr
ListenAddress $addr6
HostKey $k/hostkey
PidFile $k/sshd_$s.pid
AuthorizedKeysFile $k/auth_$s
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitUserEnvironment VZ_CONF,PATH,HOME,NVZ_CGROUP_VERSION
LogLevel INFO
CONF
		nsenter --net=/run/netns/"$ns" /usr/sbin/sshd -D -f "$k/sshd_$s" -E "$k/sshd_$s.log" &
		MIG_PIDS="$MIG_PIDS $!"
	done
	SSHOPTS="-F /dev/null -i $k/id -o IdentitiesOnly=yes -o UserKnownHostsFile=$k/known -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=accept-new"
	# shellcheck disable=SC2086
	wait_for 100 ina ssh $SSHOPTS -o BatchMode=yes root@$MIG_B true || fail "sshd on B: $(cat "$k/sshd_b.log")"
	# shellcheck disable=SC2086
	wait_for 100 inb ssh $SSHOPTS -o BatchMode=yes root@$MIG_A true || fail "sshd on A"
}

mig_teardown() {
	local f
	for f in "$T"/b/conf/[0-9]*.conf; do
		[ -e "$f" ] && inb env VZ_CONF="$BCONF" "$VZCTL" --quiet --skiplock stop "$(basename "$f" .conf)" --fast >/dev/null 2>&1
	done
	for f in "$T"/conf/[0-9]*.conf; do
		[ -e "$f" ] && ina "$VZCTL" --quiet --skiplock stop "$(basename "$f" .conf)" --fast >/dev/null 2>&1
	done
	for p in $MIG_PIDS; do kill "$p" 2>/dev/null; done
	for p in $MIG_PIDS; do wait "$p" 2>/dev/null; done
	# Whatever still runs in the servers' namespaces (an ssh session, an
	# rsync of a failed test) is this test's: by PID, nothing else.
	for p in $(ip netns pids "$NA" 2>/dev/null) $(ip netns pids "$NB" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
	done
	[ -d "$T/b" ] && teardown_server "$T/b" "$CGROUP_PREFIX-b"
	[ -n "${LAZY_PIPE_OLD:-}" ] && sysctl -qw fs.pipe-max-size="$LAZY_PIPE_OLD"
	ip netns del "$NA" 2>/dev/null
	ip netns del "$NB" 2>/dev/null
	ip netns del "$NC" 2>/dev/null
}

ina() { nsenter --net=/run/netns/"$NA" "$@"; }
inb() { nsenter --net=/run/netns/"$NB" "$@"; }
inc() { nsenter --net=/run/netns/"$NC" "$@"; }
vzb() { inb env VZ_CONF="$BCONF" "$VZCTL" "$@"; }

# The CT's /run/count counter (0.1 s a step) goes past $1 within 10 s, read
# with the rest of the command line (vzb exec CTID, or ina vzctl exec CTID).
# A fixed sleep was not enough when the CT's other work loads both CPUs.
counter_passes() {
	local c1=$1 tries=100 c
	shift
	while [ $tries -gt 0 ]; do
		c=$("$@" cat /run/count 2>/dev/null)
		[ "${c:-0}" -gt "$c1" ] && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}
# vzmigrate on server A to server B.
migrate() { ina "$VZMIGRATE" --ssh="$SSHOPTS" "$@"; }
lock_taken() { ! flock -n "$1" true; }
# ssh connections the sshd of server a or b has accepted so far.
ssh_logins() { grep -c 'Accepted publickey' "$T/ssh/sshd_$1.log"; }
client_ping() { inc busybox ping -c 1 -W 2 "$1" >/dev/null 2>&1; }

# CTID.mount on A: $T/hostdir (same path for both servers) bound at
# /mnt/host in the CT, as an admin's action script does.
mig_bind_script() {
	mkdir -p "$T/hostdir"
	echo from-the-host >"$T/hostdir/hello"
	printf '#!/bin/sh\nmkdir -p "$VE_ROOT/mnt/host" && mount --bind %s "$VE_ROOT/mnt/host"\n' "$T/hostdir" \
		>"$T/conf/$1.mount"
	chmod 755 "$T/conf/$1.mount"
}

# A busybox CT on A with a name, a routed IP, and a file of its own.
mig_ct() {
	local id=$1
	shift
	ina "$VZCTL" --quiet create "$id" --ostemplate busybox-x86_64 "$@" || fail "create $id"
	ina "$VZCTL" --quiet set "$id" --ipadd $MIG_CT_IP --hostname "mig$id.example.com" --save || fail "set $id"
	ina "$VZCTL" --quiet start "$id" || fail "start $id"
	wait_for 100 ina "$VZCTL" exec "$id" 'test -e /run/nvz-boot.done' || fail "CT $id did not boot"
	ina "$VZCTL" exec "$id" "echo migrated-$id > /root/marker" || fail "write marker"
}

# An established TCP connection from the client to a cat server in CT $1:
# written through fd 3, echoed into $T/echoed; the client's pid in MIG_NCPID.
mig_tcp_echo() {
	ina "$VZCTL" exec "$1" 'nc -l -p 7778 -e cat </dev/null >/dev/null 2>&1 &' || fail "nc server"
	mkfifo "$T/in"
	inc busybox nc $MIG_CT_IP 7778 <"$T/in" >"$T/echoed" 2>&1 &
	MIG_NCPID=$!
	exec 3>"$T/in"
	echo before-migration >&3
	wait_for 50 grep -q before-migration "$T/echoed" || fail "no echo before migration: $(cat "$T/echoed")"
}

# The CT is running on A exactly as before, and B holds nothing of it.
source_intact() {
	local id=$1
	ina "$VZCTL" status "$id" | grep -q 'exist mounted running' || fail "CT $id not running on the source: $(ina "$VZCTL" status "$id")"
	[ "$(ina "$VZCTL" exec "$id" cat /root/marker)" = "migrated-$id" ] || fail "source files changed"
	client_ping $MIG_CT_IP || fail "CT $id unreachable on the source"
	wait_for 100 target_clean "$id" || fail "target not clean: $(ls -a "$T/b/conf" "$T/b/private" 2>&1)"
}
target_clean() {
	[ ! -e "$T/b/conf/$1.conf" ] && [ ! -e "$T/b/conf/$1.conf.migrating" ] && [ ! -e "$T/b/private/$1" ] &&
		[ ! -e "$T/b/conf/.$1.scripts.migrating" ] && [ ! -e "$T/b/conf/$1.mount" ] &&
		! ls "$T/b/names" 2>/dev/null | grep -q . && ! ls -a "$T/b/template/shared" 2>/dev/null | grep -q migrating
}

# B cannot mount any CT: its VE_ROOT is on a read-only tmpfs (unmounted by
# the test, or by mig_teardown).
b_root_readonly() {
	mkdir -p "$T/b/ro"
	mount -t tmpfs -o ro nvz-mig-ro "$T/b/ro" || fail "tmpfs"
	sed -i "s|^VE_ROOT=.*|VE_ROOT=$T/b/ro/\$VEID|" "$BCONF"
}

# $OUT's progress lines (OpenVZ's step lines) are exactly "$@", in order.
mig_steps() {
	local got want
	got=$(printf '%s\n' "$OUT" | grep -E '^(Locked CT|Starting|Checking|Preparing|Initializing|Syncing|Stopping|Unmounting|Live migrating|Restoring|Mounting|Registering|Cleaning)')
	want=$(printf '%s\n' "$@")
	[ "$got" = "$want" ] || fail "steps: $(echo "$got" | tr '\n' '|'), expected $(echo "$want" | tr '\n' '|')"
}

t_migrate_offline_busybox() {
	mig_setup
	mig_ct 2101 --name web
	client_ping $MIG_CT_IP || fail "client cannot reach the CT on A"
	# Its action script (a host directory bound into the CT) goes with it.
	mig_bind_script 2101
	expect_rc 0 migrate -t $MIG_B web
	printf '%s\n' "$OUT" | grep -q 'Container start in progress' && fail "the destination's vzctl lines without -v: $OUT"
	# OpenVZ's steps at its default verbosity, in its order.
	mig_steps 'Locked CT 2101' 'Starting migration of CT 2101 to 10.78.0.3' 'Preparing remote node' \
		'Initializing remote quota' 'Syncing private' 'Stopping container' 'Starting container' 'Cleaning up'
	expect_out 'Total time CT was down'
	# Arrived: running, files, config, name, hostname, IP.
	vzb status 2101 | grep -q 'exist mounted running' || fail "not running on B: $(vzb status 2101)"
	[ "$(vzb exec web cat /root/marker)" = "migrated-2101" ] || fail "file did not arrive"
	grep -q "^IP_ADDRESS=\"$MIG_CT_IP\"" "$T/b/conf/2101.conf" || fail "IP not in the config"
	grep -q '^NAME="web"' "$T/b/conf/2101.conf" || fail "name not in the config"
	[ "$(readlink "$T/b/names/web")" = "$T/b/conf/2101.conf" ] || fail "name link not recreated"
	[ "$(vzb exec 2101 hostname)" = "mig2101.example.com" ] || fail "hostname"
	[ -x "$T/b/conf/2101.mount" ] || fail "the action script did not arrive"
	[ "$(vzb exec 2101 cat /mnt/host/hello)" = from-the-host ] || fail "the mount script did not run on B"
	[ -e "$T/b/conf/.2101.scripts.migrating" ] && fail "staged scripts left on B"
	# The source is gone.
	[ -e "$T/conf/2101.conf" ] && fail "source config left"
	[ -e "$T/conf/2101.mount" ] && fail "source action script left active"
	[ -e "$T/private/2101" ] && fail "source private left"
	[ -e "$T/names/web" ] && fail "source name left"
	# Networking followed: B answers ARP for the CT, A does not; the client reaches it.
	ip -n "$NB" neigh show proxy | grep -q "$MIG_CT_IP" || fail "no proxy ARP on B"
	ip -n "$NA" neigh show proxy | grep -q "$MIG_CT_IP" && fail "proxy ARP left on A"
	# The client's ARP entry for the CT names B before any new traffic: the
	# gratuitous ARP sent at start on B moved it.
	local bmac
	bmac=$(ip -n "$NB" -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	ip -n "$NC" neigh show $MIG_CT_IP | grep -q "$bmac" || fail "client ARP still stale: $(ip -n "$NC" neigh show $MIG_CT_IP)"
	client_ping $MIG_CT_IP || fail "client cannot reach the CT on B"
	# The CT is locked while it migrates: a second migration back works too.
	expect_rc 0 inb env VZ_CONF="$BCONF" "$VZMIGRATE" --ssh="$SSHOPTS" $MIG_A 2101
	ina "$VZCTL" status 2101 | grep -q running || fail "not back on A"
	[ "$(ina "$VZCTL" exec 2101 cat /mnt/host/hello)" = from-the-host ] || fail "the mount script did not run back on A"
	return 0
}

# -v: OpenVZ's detail lines ("log 2": three spaces in, its words), in its
# order; what vzctl prints meanwhile (the stop, the destroy) is not indented.
t_migrate_verbose_lines() {
	mig_setup
	mig_ct 2113
	expect_rc 0 migrate -v $MIG_B 2113
	local got
	got=$(printf '%s\n' "$OUT" | grep '^   ' | sed "s|$T|T|")
	[ "$got" = "   Loading T/vz.conf
   Loading T/conf/2113.conf
   Getting remote VE_ROOT and VE_PRIVATE
   Checking IPs on destination node: $MIG_CT_IP
   Quota init
   Turning remote quota on
   Syncing private (2nd pass)
   Destroying container" ] || fail "detail lines: $OUT"
	mig_steps 'Locked CT 2113' 'Starting migration of CT 2113 to 10.78.0.3' 'Preparing remote node' \
		'Initializing remote quota' 'Syncing private' 'Stopping container' 'Stopping container ...' 'Starting container' 'Starting container...' 'Cleaning up'
	expect_out '^Container was stopped$'
	expect_out '^Container private area was destroyed$'
	# And what vzctl printed on the destination (its start), as OpenVZ's.
	expect_out '^Starting container\.\.\.$'
	expect_out '^Container start in progress\.\.\.$'
	# Stopped, back to A: no second pass (OpenVZ's was for a running CT);
	# nvz's "Registering" is a detail line too.
	vzb --quiet stop 2113 || fail "stop on B"
	expect_rc 0 inb env VZ_CONF="$BCONF" "$VZMIGRATE" -v --ssh="$SSHOPTS" $MIG_A 2113
	expect_out '^   Registering container$'
	printf '%s\n' "$OUT" | grep -q '2nd pass' && fail "2nd pass of a stopped CT: $OUT"
	# Without -v: none of them. DISK_QUOTA=no: no quota step (OpenVZ's
	# vzmigrate ran no vzquota for it).
	ina "$VZCTL" --quiet set 2113 --diskquota no --save || fail "diskquota no"
	expect_rc 0 migrate $MIG_B 2113
	printf '%s\n' "$OUT" | grep -q '^ ' && fail "detail lines without -v: $OUT"
	mig_steps 'Locked CT 2113' 'Starting migration of CT 2113 to 10.78.0.3' 'Preparing remote node' \
		'Syncing private' 'Cleaning up'
	return 0
}

# A simfs CT's DISKSPACE holds on the destination too (OpenVZ's vzquota
# init and on there): put on its project there, or, where the destination
# cannot enforce project quota, a warning says so, as vzctl create's.
t_migrate_disk_limits() {
	mig_setup
	mig_ct 2115 --diskspace 20M:20M
	expect_rc 0 migrate $MIG_B 2115
	vzb status 2115 | grep -q running || fail "not running on B"
	if prjquota_here; then
		expect_rc 0 vzb exec 2115 'df -k / | tail -1'
		printf '%s\n' "$OUT" | awk '{ exit !($2 == 20480) }' || fail "df on B: $OUT"
	else
		expect_out "^Warning: disk limits are not enforced: unable to apply disk quota to $T/b/private/2115: "
	fi
	return 0
}

# An unprivileged CT (USERNS="yes") moves stopped: its files keep their
# owners inside, and it runs under its range on B. Online is refused at
# once (criu cannot dump its namespaces, see t_userns_ploop_and_refusals).
t_migrate_userns_offline() {
	mig_setup
	ina "$VZCTL" --quiet create 2116 --ostemplate busybox-x86_64 --layout simfs || fail "create"
	ina "$VZCTL" --quiet set 2116 --userns yes --ipadd $MIG_CT_IP --save || fail "set"
	ina "$VZCTL" --quiet start 2116 || fail "start"
	wait_for 100 ina "$VZCTL" exec 2116 'test -e /run/nvz-boot.done' || fail "CT did not boot"
	expect_rc 0 ina "$VZCTL" exec 2116 'echo moved >/root/marker; chown 1000:1001 /root/marker'
	expect_rc 17 migrate --online $MIG_B 2116
	expect_out 'CT 2116: it runs in a user namespace of its own .*online migration is impossible'
	ina "$VZCTL" status 2116 | grep -q running || fail "the refused migration stopped it"
	expect_rc 0 migrate $MIG_B 2116
	vzb status 2116 | grep -q 'exist mounted running' || fail "not running on B: $(vzb status 2116)"
	expect_rc 0 vzb exec 2116 'id -u; stat -c "%u %g" /root/marker; cat /root/marker'
	[ "$OUT" = "$(printf '0\n1000 1001\nmoved')" ] || fail "inside on B: $OUT"
	local pid
	pid=$(sed -n 's/^INIT_PID="\([0-9]*\)"/\1/p' "$T/b/run/2116/state")
	[ -n "$pid" ] && [ "$(awk '{print $2}' "/proc/$pid/uid_map")" = "$(userns_base 2116)" ] ||
		fail "init on B (pid '$pid'): uid_map $(cat "/proc/$pid/uid_map" 2>&1)"
	return 0
}

t_migrate_keep_source() {
	mig_setup
	mig_ct 2102
	expect_rc 0 migrate -r no $MIG_B 2102
	vzb status 2102 | grep -q running || fail "not running on B"
	[ -e "$T/conf/2102.conf.migrated" ] || fail "no .migrated config on the source"
	[ -e "$T/conf/2102.conf" ] && fail "source config still active"
	[ -e "$T/private/2102/root/marker" ] || fail "source private removed despite -r no"
	ina "$VZCTL" status 2102 | grep -q running && fail "still running on the source"
	return 0
}

t_migrate_check_only_clash() {
	mig_setup
	mig_ct 2103 --name db
	# Check only, nothing in the way: success, nothing copied or stopped.
	expect_rc 0 migrate --check-only $MIG_B 2103
	expect_out 'Check passed'
	target_clean 2103 || fail "check-only left something on B"
	# The same ID on B: refused before anything is copied.
	vzb --quiet create 2103 --ostemplate busybox-x86_64 || fail "create on B"
	local sum
	sum=$(cat "$T/b/conf/2103.conf" | md5sum)
	expect_rc 9 migrate --check-only $MIG_B 2103
	# OpenVZ's one error line, the target's reason in it.
	expect_out '^Error: CT #2103 already exists on destination node$'
	[ "$(printf '%s\n' "$OUT" | grep -c 'already exists')" = 1 ] || fail "said twice: $OUT"
	expect_rc 9 migrate $MIG_B 2103
	[ "$(md5sum <"$T/b/conf/2103.conf")" = "$sum" ] || fail "B's config changed"
	[ -e "$T/b/private/2103/root/marker" ] && fail "files copied over B's CT"
	vzb --quiet destroy 2103 || fail "destroy on B"
	# The name on B: refused too.
	vzb --quiet create 2203 --ostemplate busybox-x86_64 --name db || fail "create on B"
	expect_rc 9 migrate $MIG_B db
	expect_out '^Error: name db is already used by CT 2203 on the destination$'
	[ -e "$T/b/private/2103" ] && fail "copied despite the name clash"
	vzb --quiet destroy 2203 || fail "destroy on B"
	# The IP address on B.
	vzb --quiet create 2303 --ostemplate busybox-x86_64 || fail "create on B"
	vzb --quiet set 2303 --ipadd $MIG_CT_IP --save || fail "set on B"
	expect_rc 12 migrate $MIG_B 2103
	expect_out "^Error: IP address $MIG_CT_IP is already used by CT 2303 on the destination$"
	rm -f "$T/b/names/db"
	vzb --quiet destroy 2303
	# Bad input and what cannot be done yet: nothing copied, nothing stopped.
	expect_rc 1 ina "$VZMIGRATE" $MIG_B
	expect_rc 1 migrate -r maybe $MIG_B 2103
	expect_rc 10 migrate $MIG_B 9999
	expect_out "Error: CT #9999 doesn't exist"
	ina "$VZCTL" --quiet create 2403 --ostemplate busybox-x86_64 || fail "create"
	expect_rc 2 migrate --online $MIG_B 2403
	expect_out "^Error: Can't perform live migration of a stopped container$"
	# Locked on either end: exit 20, nothing done. The holder keeps the
	# lock until it is released, however slowly this machine runs.
	mkdir -p "$T/b/lock"
	local holder
	flock -o "$T/lock/2103.lck" sleep 120 &
	holder=$!
	wait_for 50 lock_taken "$T/lock/2103.lck" || fail "lock holder did not start"
	echo $holder >"$T/lock/2103.lck"
	expect_rc 20 migrate $MIG_B 2103
	# OpenVZ's words, the holder named.
	expect_out "^Error: ERROR: CT 2103 already locked by PID $holder\$"
	pkill -P $holder; wait $holder
	flock -o "$T/b/lock/2103.lck" sleep 120 &
	holder=$!
	wait_for 50 lock_taken "$T/b/lock/2103.lck" || fail "lock holder did not start"
	expect_rc 20 migrate $MIG_B 2103
	expect_out 'CT 2103 is locked on the destination'
	pkill -P $holder; wait $holder
	source_intact 2103
	return 0
}

# OpenVZ's command line: no argument prints the usage (status 0), -? is
# help, -f=cpu is --nodeps=cpu, --check-only says "Checking migration",
# and any -v prints the times as -t does.
t_migrate_cli_openvz() {
	mig_setup
	# OpenVZ's usage text, on stdout.
	local o
	for o in '' '-?' -h --help --usage; do
		OUT=$(ina "$VZMIGRATE" $o 2>/dev/null) || fail "vzmigrate $o: not status 0"
		[ "$(printf '%s\n' "$OUT" | head -3)" = "This program is used for container migration to another node.
Usage:
  vzmigrate [option ...] destination_address <CTID>" ] || fail "vzmigrate $o: $OUT"
		expect_out '^-r, --remove-area yes\|no$'
		expect_out '^-f, --nodeps\[=<check>\[,<check> \.\.\.\]\]$'
	done
	expect_rc 1 ina "$VZMIGRATE" --frobnicate $MIG_B 2110
	expect_rc 1 ina "$VZMIGRATE" -f=gpu $MIG_B 2110
	ina "$VZCTL" --quiet create 2110 --ostemplate busybox-x86_64 || fail "create"
	expect_rc 0 migrate -f=cpu,ipv6 --check-only $MIG_B 2110
	expect_out '^Checking migration of CT 2110 to 10.78.0.3$'
	printf '%s\n' "$OUT" | grep -q '^Starting migration' && fail "check-only said Starting: $OUT"
	expect_rc 0 migrate --nodeps=cpu_check --dry-run $MIG_B 2110
	expect_out "^Checking migration of CT 2110 to "
	target_clean 2110 || fail "check-only left something on B"
	# No vzctl on the target: OpenVZ's "not running there", status 14.
	cp "$T/ssh/auth_b" "$T/ssh/auth_b.keep"
	sed -i 's|PATH=[^:]*:|PATH=|' "$T/ssh/auth_b"
	expect_rc 14 migrate $MIG_B 2110
	expect_out '^Error: OpenVZ is not running on the target machine'
	expect_out "^Error: Can't continue migration$"
	mv "$T/ssh/auth_b.keep" "$T/ssh/auth_b"
	expect_rc 0 migrate -v $MIG_B 2110
	expect_out '^Starting migration of CT 2110 to 10.78.0.3$'
	expect_out 'Total time CT was down'
	vzb status 2110 | grep -q 'exist unmounted down' || fail "not on B: $(vzb status 2110)"
	# Mounted, not running: unmounted here, mounted there (OpenVZ's
	# "Unmounting container" ... "Mounting container").
	ina "$VZCTL" --quiet create 2111 --ostemplate busybox-x86_64 || fail "create 2111"
	ina "$VZCTL" --quiet mount 2111 || fail "mount 2111"
	expect_rc 0 migrate $MIG_B 2111
	expect_out '^Unmounting container$'
	expect_out '^Mounting container$'
	vzb status 2111 | grep -q 'exist mounted down' || fail "not mounted on B: $(vzb status 2111)"
	[ -e "$T/b/root/2111/bin/busybox" ] || fail "B's root of 2111 is not mounted"
	[ -e "$T/conf/2111.conf" ] && fail "source config left"
	vzb --quiet umount 2111 || fail "umount on B"
	return 0
}

# OpenVZ's bad_usage: "Invalid usage: WHY" and where to look, on stdout
# (its heredoc went there), status 1; no server needed.
mig_bad_usage() {
	local why=$1 out
	shift
	out=$("$(dirname "$VZCTL")/vzmigrate" "$@" 2>/dev/null)
	[ $? -eq 1 ] || fail "vzmigrate $*: not status 1"
	[ "$out" = "Invalid usage: $why

For command line syntax, please check
  vzmigrate --help
  man vzmigrate" ] || fail "vzmigrate $*: $out"
}

t_migrate_cli_bad_usage() {
	mig_bad_usage 'not enough parameters' 10.78.0.3
	mig_bad_usage 'too many parameters' 10.78.0.3 101 102
	mig_bad_usage 'Bad argument for -r: maybe' -r maybe 10.78.0.3 101
	mig_bad_usage 'Bad argument for --remove-area: maybe' --remove-area maybe 10.78.0.3 101
	mig_bad_usage 'unknown -f argument: gpu' -f=cpu,gpu 10.78.0.3 101
	mig_bad_usage 'unknown --nodeps argument: gpu' --nodeps=gpu 10.78.0.3 101
	return 0
}

t_migrate_rollback_unreachable() {
	mig_setup
	mig_ct 2104
	# As OpenVZ's (its check's ssh ran with stderr thrown away unless -v):
	# its two lines say why, not ssh's; -v adds ssh's own.
	local why="Error: Can't connect to destination address using public key
Error: Please put your public key to destination node"
	expect_rc 4 migrate 10.78.0.99 2104
	[ "$(printf '%s\n' "$OUT" | sed 1,2d)" = "$why" ] || fail "unreachable: $OUT"
	expect_rc 4 migrate -v 10.78.0.99 2104
	expect_out '^ssh: connect to host 10\.78\.0\.99 port 22: '
	expect_out "^Error: Can't connect to destination address using public key$"
	# -vvvv: ssh -v too, as OpenVZ's.
	expect_rc 4 migrate -vvvv 10.78.0.99 2104
	expect_out '^debug1: '
	source_intact 2104
	# sshd up but the key is not accepted there.
	: >"$T/ssh/auth_b"
	expect_rc 4 migrate $MIG_B 2104
	[ "$(printf '%s\n' "$OUT" | sed 1,2d)" = "$why" ] || fail "key refused: $OUT"
	expect_rc 4 migrate -v $MIG_B 2104
	expect_out 'Permission denied \(publickey\)'
	source_intact 2104
	return 0
}

t_migrate_rollback_target_full() {
	mig_setup
	mig_ct 2105
	# B's private area is a 4 MB filesystem; the CT holds 12 MB.
	mkdir -p "$T/b/private"
	mount -t tmpfs -o size=4m nvz-mig-full "$T/b/private" || fail "tmpfs"
	ina "$VZCTL" exec 2105 'dd if=/dev/urandom of=/root/big bs=1M count=12 2>/dev/null' || fail "fill"
	expect_rc 6 migrate $MIG_B 2105
	expect_out '^Error: Failed to sync container private areas: '
	source_intact 2105
	umount "$T/b/private"
	return 0
}

# The copy's ssh dies mid-transfer (bandwidth-limited so there is a "mid").
t_migrate_rollback_ssh_killed() {
	mig_setup
	mig_ct 2106
	ina "$VZCTL" exec 2106 'dd if=/dev/urandom of=/root/big bs=1M count=8 2>/dev/null' || fail "fill"
	# nsenter execs vzmigrate: $! is vzmigrate itself.
	nsenter --net=/run/netns/"$NA" "$VZMIGRATE" --ssh="$SSHOPTS" --rsync="--bwlimit=400" $MIG_B 2106 >"$T/mig.out" 2>&1 &
	local mig=$! rs="" sh="" i
	for i in $(seq 100); do
		rs=$(pgrep -P $mig -x rsync | head -1)
		[ -n "$rs" ] && sh=$(pgrep -P "$rs" -x ssh | head -1)
		[ -n "$sh" ] && break
		sleep 0.1
	done
	[ -n "$sh" ] || fail "no rsync/ssh to kill: $(cat "$T/mig.out")"
	# Locked on both ends meanwhile.
	expect_rc 9 ina "$VZCTL" set 2106 --hostname other.example.com --save
	expect_rc 9 vzb create 2106 --ostemplate busybox-x86_64
	sleep 1
	kill -9 "$sh"
	wait $mig
	local rc=$?
	[ $rc -eq 6 ] || fail "vzmigrate exited $rc, expected 6: $(cat "$T/mig.out")"
	grep -q '^Error: Failed to sync container private areas: ' "$T/mig.out" || fail "no failed step named: $(cat "$T/mig.out")"
	source_intact 2106
	return 0
}

# The target cannot start the CT (its VE_ROOT is on a read-only fs) after
# the source was stopped: the source starts it again, B is left clean.
t_migrate_rollback_start_fails() {
	mig_setup
	mig_ct 2107
	b_root_readonly
	expect_rc 7 migrate $MIG_B 2107
	expect_out 'Stopping container'
	# OpenVZ's words for the step that failed, the reason after them.
	expect_out '^Error: Failed to start container: '
	expect_out 'Starting container on the source again'
	source_intact 2107
	umount "$T/b/ro"
	return 0
}

# A CT on a shared template goes to a server that never unpacked it.
t_migrate_shared_template() {
	mig_setup
	mig_ct 2108 --layout simfs:shared
	local tree
	tree=$(sed -n 's/^TEMPLATE_TREE="\(.*\)"/\1/p' "$T/conf/2108.conf")
	[ -n "$tree" ] || fail "no TEMPLATE_TREE"
	[ -e "$T/b/template/shared/$tree" ] && fail "B already has the tree"
	expect_rc 0 migrate $MIG_B 2108
	expect_out 'Preparing remote node'
	[ -e "$T/b/template/shared/$tree.complete" ] || fail "tree not marked complete on B"
	[ -e "$T/b/template/shared/$tree/sbin/init" ] || fail "tree not on B"
	vzb status 2108 | grep -q running || fail "not running on B"
	[ "$(vzb exec 2108 cat /root/marker)" = "migrated-2108" ] || fail "own layer did not arrive"
	[ -e "$T/template/shared/$tree.complete" ] || fail "the source's shared tree was touched"
	client_ping $MIG_CT_IP || fail "client cannot reach the CT on B"
	return 0
}

# A ploop CT: the image is synced sparse, then in place after the stop. Its
# layout comes from A's vz.conf (its config has none, as one vzctl < 4 made),
# B's default is simfs.
t_migrate_ploop() {
	mig_setup
	sed -i 's/^VE_LAYOUT=.*/VE_LAYOUT=ploop/' "$T/vz.conf"
	mig_ct 2109 --diskspace 300M
	# As a CT made by vzctl before 4.0: no VE_LAYOUT in its config.
	sed -i '/^VE_LAYOUT=/d' "$T/conf/2109.conf"
	expect_rc 0 migrate -c -s $MIG_B 2109
	expect_out 'Compacting container image'
	expect_out 'Not creating a container snapshot'
	# As OpenVZ's: no quota step for ploop (the image is the limit).
	printf '%s\n' "$OUT" | grep -q 'quota' && fail "quota step for ploop: $OUT"
	[ ! -e "$T/b/private/2109/snapshots" ] || [ -z "$(ls -A "$T/b/private/2109/snapshots")" ] ||
		fail "a snapshot arrived on B"
	grep -q '^VE_LAYOUT="ploop"' "$T/b/conf/2109.conf" || fail "layout not recorded on B"
	vzb status 2109 | grep -q running || fail "not running on B"
	[ "$(vzb exec 2109 cat /root/marker)" = "migrated-2109" ] || fail "file did not arrive"
	local alloc
	alloc=$(du -k "$T/b/private/2109/root.hdd" | cut -f1)
	[ "$alloc" -lt 150000 ] || fail "image not sparse on B: $alloc KiB"
	return 0
}

t_migrate_offline_debian() {
	mig_setup
	ina "$VZCTL" --quiet create 2110 --ostemplate "$DEBIAN_TMPL" || fail "create"
	ina "$VZCTL" --quiet set 2110 --ipadd $MIG_CT_IP --name deb --save || fail "set"
	ina "$VZCTL" --quiet start 2110 --wait || fail "start"
	ina "$VZCTL" exec 2110 'echo debian > /root/marker' || fail "marker"
	expect_rc 0 migrate $MIG_B deb
	vzb status deb | grep -q running || fail "not running on B"
	[ "$(vzb exec deb cat /root/marker)" = "debian" ] || fail "file did not arrive"
	wait_for 300 vzb exec deb 'systemctl is-system-running | grep -Eq "running|degraded"' || fail "systemd not up on B"
	client_ping $MIG_CT_IP || fail "client cannot reach the CT on B"
	[ -e "$T/conf/2110.conf" ] && fail "source left"
	return 0
}

# Online, a Debian CT booted with systemd: it runs on B without booting
# again (journald is the same process), systemd still manages its units,
# and on cgroup v2 the limits systemd set below the CT's cgroup came along.
t_migrate_online_debian() {
	mig_setup
	ina "$VZCTL" --quiet create 2121 --ostemplate "$DEBIAN_TMPL" || fail "create"
	ina "$VZCTL" --quiet set 2121 --ipadd $MIG_CT_IP --save || fail "set"
	ina "$VZCTL" --quiet start 2121 --wait || fail "start"
	wait_for 300 ina "$VZCTL" exec 2121 'systemctl is-system-running | grep -Eq "running|degraded"' ||
		fail "systemd not up on A"
	local journald cgview=: cgwas
	journald=$(ina "$VZCTL" exec 2121 'systemctl show -p MainPID --value systemd-journald')
	if cg_v2; then
		ina "$VZCTL" exec 2121 'systemctl set-property --runtime systemd-journald TasksMax=77' ||
			fail "set-property"
		cgview='cat /sys/fs/cgroup/cgroup.subtree_control /sys/fs/cgroup/system.slice/systemd-journald.service/pids.max'
	fi
	cgwas=$(ina "$VZCTL" exec 2121 "$cgview")
	expect_rc 0 migrate --online $MIG_B 2121
	expect_out 'Live migrating container...'
	vzb status 2121 | grep -q 'exist mounted running' || fail "not running on B: $(vzb status 2121)"
	[ "$(vzb exec 2121 'systemctl show -p MainPID --value systemd-journald')" = "$journald" ] ||
		fail "journald restarted: the CT booted again on B"
	# systemd >= 254 (Debian 13): its memory pressure triggers came back.
	local p ticks
	for p in 1 "$journald"; do
		ticks=$(cpu_ticks_1s 2121 "$p" vzb)
		[ "${ticks:-100}" -lt 30 ] || fail "pid $p spins on B: $ticks ticks in 1 s"
	done
	[ "$(vzb exec 2121 "$cgview")" = "$cgwas" ] ||
		fail "cgroups on B: '$(vzb exec 2121 "$cgview")', were '$cgwas' on A"
	vzb exec 2121 'systemctl restart systemd-journald && systemctl is-active systemd-journald' >/dev/null ||
		fail "systemd cannot restart a unit on B"
	client_ping $MIG_CT_IP || fail "client cannot reach the CT on B"
	[ -e "$T/conf/2121.conf" ] && fail "source left"
	OUT=$(vzb stop 2121 2>&1) || fail "stop on B: $OUT"
	printf '%s\n' "$OUT" | grep -q 'Killing' && fail "systemd did not halt cleanly on B"
	return 0
}

# The Debian server (sshd, D-Bus, logind, rsyslog, cron) moves live while
# an admin is logged in over ssh from the LAN: the session, with its pty,
# goes on from B. Its services run as other users, whose limits criu reads
# only with CAP_SYS_RESOURCE (a stock host's root has it: the VM lane);
# without it the move fails before the freeze, says why, and the CT runs
# on A as before.
t_migrate_online_debian_server() {
	local tmpl=$DEBIAN_SRV_TMPL
	[ -e "$T/template/cache/$tmpl.tar.gz" ] ||
		fail "$tmpl template missing (see $TEMPLATE_CACHE/mk-debian-*-server.log)"
	mig_setup
	ina "$VZCTL" --quiet create 2122 --ostemplate "$tmpl" || fail "create"
	ina "$VZCTL" --quiet set 2122 --ipadd $MIG_CT_IP --save || fail "set"
	ina "$VZCTL" --quiet start 2122 --wait || fail "start"
	ssh-keygen -q -t ed25519 -N '' -f "$T/ctkey" || fail keygen
	ina "$VZCTL" exec 2122 'mkdir -p -m 700 /root/.ssh && cat >/root/.ssh/authorized_keys' <"$T/ctkey.pub" ||
		fail "authorized_keys"
	local -a o=(-i "$T/ctkey" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes
		-o ConnectTimeout=5 -o LogLevel=ERROR)
	wait_for 100 inc ssh "${o[@]}" root@$MIG_CT_IP true || fail "no ssh into the CT on A"
	local sshd
	sshd=$(ina "$VZCTL" exec 2122 'systemctl show -p MainPID --value ssh')
	# root's user manager (a login's, kept by linger), with its "(sd-pam)",
	# is up before the move, not still starting with the session below.
	ina "$VZCTL" exec 2122 'loginctl enable-linger root' || fail "enable-linger"
	wait_for 300 ina "$VZCTL" exec 2122 'systemctl is-active user@0.service && grep -qsx "(sd-pam)" /proc/[0-9]*/comm' ||
		fail "root's user manager did not start"
	if ! have_cap_sys_resource; then
		migrate --online $MIG_B 2122 >"$T/out" 2>&1 && fail "migrated without CAP_SYS_RESOURCE?"
		grep -q 'CAP_SYS_RESOURCE' "$T/out" || fail "unclear failure: $(cat "$T/out")"
		ina "$VZCTL" status 2122 | grep -q 'exist mounted running' || fail "not running on A: $(cat "$T/out")"
		vzb status 2122 | grep -q 'deleted' || fail "left on B: $(vzb status 2122)"
		inc ssh "${o[@]}" root@$MIG_CT_IP true || fail "no ssh into the CT on A after the failed move"
		return 0
	fi
	inc ssh -tt "${o[@]}" root@$MIG_CT_IP 'for i in $(seq 1 40); do echo tick $i; sleep 0.25; done; tty; exit 7' \
		>"$T/ticks" 2>&1 </dev/null &
	local sp=$!
	wait_for 100 grep -q 'tick 2' "$T/ticks" || fail "no ticks: $(cat "$T/ticks")"
	expect_rc 0 migrate --online $MIG_B 2122
	wait "$sp"
	local rc=$?
	[ "$rc" = 7 ] && grep -q '^tick 40' "$T/ticks" ||
		fail "the ssh session did not survive (rc $rc): $(tr '\r\n' '  ' <"$T/ticks" | tail -c 300)"
	vzb status 2122 | grep -q 'exist mounted running' || fail "not running on B: $(vzb status 2122)"
	[ "$(vzb exec 2122 'systemctl show -p MainPID --value ssh')" = "$sshd" ] || fail "sshd restarted on B"
	inc ssh "${o[@]}" root@$MIG_CT_IP 'loginctl list-sessions --no-legend; systemctl is-system-running' >"$T/ctssh.out" 2>&1 ||
		fail "ssh into the CT on B: $(cat "$T/ctssh.out")"
	grep -qx running "$T/ctssh.out" || fail "on B: $(cat "$T/ctssh.out")"
	OUT=$(vzb stop 2122 2>&1) || fail "stop on B: $OUT"
	return 0
}
# Debian 13: the ssh login's user manager runs "(sd-pam)" from an executable
# that PID 1 holds O_PATH, which criu 4 dumps wrong (cpt/exefix.c).
t_debian13_server_migrate_online() { DEBIAN_SRV_TMPL=debian-13-x86_64-server t_migrate_online_debian_server; }

# vzmigrate itself killed mid-copy (SIGTERM, then SIGKILL): the target
# session ends, B cleans up by itself; the CT never stopped on A. A retry
# then succeeds.
t_migrate_killed_midway() {
	mig_setup
	mig_ct 2111
	ina "$VZCTL" exec 2111 'dd if=/dev/urandom of=/root/big bs=1M count=8 2>/dev/null' || fail "fill"
	# SIGTERM: vzmigrate stops its copy and rolls back by itself.
	nsenter --net=/run/netns/"$NA" "$VZMIGRATE" --ssh="$SSHOPTS" --rsync="--bwlimit=400" $MIG_B 2111 >"$T/mig.out" 2>&1 &
	local mig=$!
	wait_for 100 test -d "$T/b/private/2111/root" || fail "copy did not start: $(cat "$T/mig.out")"
	kill -TERM $mig
	wait $mig
	local rc=$?
	[ $rc -eq 6 ] || fail "SIGTERM: exited $rc, expected 6: $(cat "$T/mig.out")"
	grep -q '^Error: Failed to sync container private areas: ' "$T/mig.out" || fail "no failed step named: $(cat "$T/mig.out")"
	source_intact 2111
	# SIGKILL: no rollback code runs on A at all.
	nsenter --net=/run/netns/"$NA" "$VZMIGRATE" --ssh="$SSHOPTS" --rsync="--bwlimit=400" $MIG_B 2111 >"$T/mig.out" 2>&1 &
	mig=$!
	wait_for 100 test -d "$T/b/private/2111/root" || fail "copy did not start: $(cat "$T/mig.out")"
	kill -9 $mig
	wait $mig 2>/dev/null
	# Its rsync and ssh children lose their parent and die with the pipes
	# or the connection; the target notices EOF on its session.
	source_intact 2111
	expect_rc 0 migrate $MIG_B 2111
	vzb status 2111 | grep -q running || fail "retry: not running on B"
	return 0
}

# A stopped CT: copied and registered on the target, not started; --keep-dst
# keeps a failed copy there for a retry with --keep-dst.
t_migrate_stopped_keep_dst() {
	mig_setup
	mig_ct 2112 --name cold
	# A failed attempt (B cannot mount: its VE_ROOT is read-only) with --keep-dst.
	b_root_readonly
	expect_rc 7 migrate --keep-dst $MIG_B 2112
	[ "$(cat "$T/b/private/2112/root/marker")" = migrated-2112 ] || fail "--keep-dst did not keep the synced area"
	[ -e "$T/b/conf/2112.conf" ] && fail "config left on B"
	ina "$VZCTL" status 2112 | grep -q running || fail "not running on A again"
	# Without --keep-dst the leftover is somebody's: refused.
	expect_rc 9 migrate $MIG_B 2112
	umount "$T/b/ro"
	sed -i "s|^VE_ROOT=.*|VE_ROOT=$T/b/root/\$VEID|" "$BCONF"
	# Stopped now: copied and registered, not started.
	ina "$VZCTL" --quiet stop 2112 || fail "stop"
	expect_rc 0 migrate --keep-dst $MIG_B cold
	# OpenVZ's steps for a stopped CT: no stop, no start.
	mig_steps 'Locked CT 2112' 'Starting migration of CT 2112 to 10.78.0.3' 'Preparing remote node' \
		'Initializing remote quota' 'Syncing private' 'Cleaning up'
	vzb status 2112 | grep -q 'exist unmounted down' || fail "B: $(vzb status 2112)"
	[ "$(readlink "$T/b/names/cold")" = "$T/b/conf/2112.conf" ] || fail "name link"
	[ -e "$T/conf/2112.conf" ] && fail "source left"
	return 0
}

# Bridged (veth) CT: both servers bridge their LAN port in br0. The CT keeps
# its MAC and address on B, and the LAN switch (C's bridge) learns its new
# port from the announcement at start, so the client reaches it at once.
t_migrate_bridged() {
	mig_setup
	local ns addr
	for ns in "$NA" "$NB"; do
		addr=$(ip -n "$ns" -o -4 addr show eth0 | awk '{print $4}')
		ip -n "$ns" addr flush dev eth0
		ip -n "$ns" link add br0 type bridge
		ip -n "$ns" link set eth0 master br0
		ip -n "$ns" addr add "$addr" dev br0
		ip -n "$ns" link set br0 up
	done
	echo 'BRIDGE="br0"' >>"$T/vz.conf"
	echo 'BRIDGE="br0"' >>"$BCONF"
	ina "$VZCTL" --quiet create 2113 --ostemplate busybox-x86_64 || fail "create"
	ina "$VZCTL" --quiet set 2113 --netif_add eth0 --save || fail "netif"
	ina "$VZCTL" --quiet set 2113 --ifname eth0 --ipadd 10.78.0.60/24 --save || fail "ip"
	ina "$VZCTL" --quiet start 2113 || fail "start"
	wait_for 100 ina "$VZCTL" exec 2113 'test -e /run/nvz-boot.done' || fail "no boot"
	local mac
	mac=$(ina "$VZCTL" exec 2113 cat /sys/class/net/eth0/address)
	wait_for 30 client_ping 10.78.0.60 || fail "client cannot reach the CT on A"
	expect_rc 0 migrate $MIG_B 2113
	[ "$(vzb exec 2113 cat /sys/class/net/eth0/address)" = "$mac" ] || fail "MAC changed"
	vzb exec 2113 'ip addr show eth0 2>/dev/null || ifconfig eth0' | grep -q 10.78.0.60 || fail "address lost"
	client_ping 10.78.0.60 || fail "client cannot reach the CT on B: $(ip -n "$NC" neigh show 10.78.0.60)"
	return 0
}
