# Pieces of bench/run.sh: setup of each manager on the same rootfs, the
# measurements, cleanup. Every timing goes through hyperfine (JSON in $OUT)
# except the N-container run, timed here with date +%s%N.
# shellcheck shell=bash

BB_TAR=$TEMPLATES/busybox-x86_64.tar.gz
DEB_TAR=$TEMPLATES/debian-12-x86_64-minbase.tar.gz
LXCP=$W/lxc
CRUNR=$W/crun/state
NV=$W/nvz

q() { "$@" >/dev/null 2>&1; }
nvz() { "$VZCTL" --quiet "$@"; }
lxc() { local c=$1; shift; "lxc-$c" -P "$LXCP" "$@"; }
# crun 1.8 refuses a hybrid cgroup layout: run it in a private mount
# namespace where the (empty) cgroup2 mount is gone. The host is untouched.
incrun() { unshare -m --propagation private bash -c 'umount /sys/fs/cgroup/unified && exec "$@"' _ "$@"; }
CRUN="crun --root $CRUNR"

# hf NAME RUNS PREPARE COMMAND: hyperfine without a shell, one warmup.
hf() {
	local name=$1 runs=$2 prep=$3 cmd=$4 wrap=()
	case $name in crun-*) wrap=(incrun) ;; esac
	local args=(-N --style none --runs "$runs" --export-json "$OUT/$name.json")
	# One warmup run, and always for a shared layout: its first create
	# unpacks the template once for every later CT.
	if [ "$runs" -gt 3 ] || [[ $name == *shared* ]]; then args+=(--warmup 1); fi
	[ -n "$prep" ] && args+=(--prepare "$prep")
	if ! "${wrap[@]}" hyperfine "${args[@]}" "$cmd" >"$OUT/$name.log" 2>&1; then
		echo "bench: $name failed: $(tail -3 "$OUT/$name.log")" >&2
		rm -f "$OUT/$name.json"
	fi
}
# A value measured without hyperfine, stored in the same JSON shape (seconds).
put() { # put NAME VALUE...
	local name=$1
	shift
	printf '%s\n' "$@" | jq -s '{results: [{times: .}]}' >"$OUT/$name.json"
}

# run_tmpfs DIR...: a tool's run state on a tmpfs, as /run is on a stock
# host (here /run is the root ext4). There each file a tool keeps per
# running CT is a page of memory, which a disk frees once caches are dropped.
run_tmpfs() {
	local d
	for d; do
		mkdir -p "$d" && mount -t tmpfs -o mode=0755,size=64m nvz-bench-run "$d" || die "tmpfs on $d"
	done
}

# setup_nvz [LINE...]: a server root of nvz's own under $NV (vz.conf with
# these extra lines last: bench/cpt.sh adds CRIU= and its STOP_TIMEOUT).
setup_nvz() {
	mkdir -p "$NV"/conf "$NV"/names "$NV"/template/cache
	ln -s "$BB_TAR" "$DEB_TAR" "$NV/template/cache/"
	cp "$SRCDIR"/etc/ve-*.conf-sample "$NV/conf/"
	cat >"$NV/vz.conf" <<CONF
LOCKDIR=$NV/lock
DUMPDIR=$NV/dump
TEMPLATE=$NV/template
VE_ROOT=$NV/root/\$VEID
VE_PRIVATE=$NV/private/\$VEID
LOGGING=yes
LOGFILE=$NV/vzctl.log
CONFIGFILE="basic"
DEF_OSTEMPLATE="busybox-x86_64"
VE_LAYOUT=simfs
RUNDIR=$NV/run
CGROUP_PREFIX=$TAG
STOP_TIMEOUT=60
CONF
	[ $# -eq 0 ] || printf '%s\n' "$@" >>"$NV/vz.conf"
	export VZ_CONF=$NV/vz.conf
}

setup_rootfs() {
	mkdir -p "$W/rootfs/busybox"
	tar -xzpf "$BB_TAR" --numeric-owner -C "$W/rootfs/busybox" || die "unpack busybox"
	# LXC's template hook: unpack the tarball given after `--` (what a user
	# writes for a tarball without LXC's image metadata).
	cat >"$W/bin/lxc-tar" <<'EOF'
#!/bin/sh
rootfs= tarball=
while [ $# -gt 0 ]; do
	case $1 in
	--rootfs=*) rootfs=${1#*=} ;; --rootfs) rootfs=$2; shift ;;
	--tarball) tarball=$2; shift ;;
	esac
	shift
done
mkdir -p "$rootfs" && tar -xzpf "$tarball" --numeric-owner -C "$rootfs"
EOF
	chmod +x "$W/bin/lxc-tar"
}

# Two LXC configurations: Debian's default (common.conf: seccomp, capability
# drops, device cgroup, cgroup/proc/sys mounts) and a lean one. Both without
# network (`lxc.net.0.type = empty`), halting busybox/systemd with the same
# power-off signal nvz sends.
setup_lxc() {
	cat >"$W/lxc/default.conf" <<'EOF'
lxc.include = /usr/share/lxc/config/common.conf
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
EOF
	cat >"$W/lxc/lean.conf" <<'EOF'
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.mount.auto = proc:mixed sys:ro
lxc.autodev = 1
lxc.tty.max = 0
lxc.pty.max = 16
EOF
	local n
	for n in lean default; do
		lxc create -n "${TAG}bb$n" -f "$W/lxc/$n.conf" -t "$W/bin/lxc-tar" -- --tarball "$BB_TAR" \
			>"$OUT/lxc-setup.log" 2>&1 || die "lxc-create busybox ($n): $(tail -3 "$OUT/lxc-setup.log")"
		echo "lxc.signal.halt = SIGUSR2" >>"$LXCP/${TAG}bb$n/config"
	done
}

setup_crun() {
	local b=$W/crun/bb
	mkdir -p "$b" "$CRUNR"
	(cd "$b" && crun spec) || die "crun spec"
	jq --arg root "$W/rootfs/busybox" --arg cg "/$TAG-crun/bb" \
		'.process.terminal = false | .process.args = ["/sbin/init"] | .root.path = $root |
		 .root.readonly = false | .linux.cgroupsPath = $cg | .hostname = "bb" |
		 .process.capabilities |= with_entries(.value += ["CAP_SYS_BOOT"])' \
		"$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
	# A clean halt for crun: the power-off signal, wait for the exit (busybox
	# init powers off by reboot(2): CAP_SYS_BOOT above, as LXC and nvz keep it),
	# delete. Gives up after 30 s.
	cat >"$W/bin/crun-halt" <<EOF
#!/bin/sh
$CRUN kill "\$1" USR2 || exit 1
i=0
while $CRUN state "\$1" 2>/dev/null | grep -q '"running"'; do
	sleep 0.005; i=\$((i + 1)); [ \$i -lt 6000 ] || exit 1
done
$CRUN delete -f "\$1"
EOF
	chmod +x "$W/bin/crun-halt"
}

# Rounds (BENCH_ROUNDS, 5; 2 with BENCH_QUICK) in which every tool takes
# its turn: the load other work puts on the machine drifts over minutes and
# must hit all tools alike. merge_rounds NAME: one JSON of all its rounds.
ROUNDS=${BENCH_ROUNDS:-5}
[ -n "${QUICK:-}" ] && ROUNDS=${BENCH_ROUNDS:-2}
merge_rounds() {
	local f=("$OUT/$1".r*.json)
	[ -e "${f[0]}" ] || return 0
	jq -s '{results: [{times: (map(.results[0].times) | add)}]}' "${f[@]}" >"$OUT/$1.json"
	rm -f "${f[@]}"
}

# Start until init runs, all tools and the floor round by round (RUNS in
# all per tool), each tool's container killed after its turn so that the
# next tool starts on a machine where nothing of the others runs.
bench_starts() {
	local per=$(((RUNS + ROUNDS - 1) / ROUNDS)) r id n c b=$W/crun/bb
	for ((r = 1; r <= ROUNDS; r++)); do
		hf "floor-start.r$r" "$per" "" "$FLOOR $W/rootfs/busybox /bin/true"
		for id in 101 102; do
			hf "nvz-start-$id.r$r" "$per" "sh -c '$VZCTL --quiet stop $id --fast >/dev/null 2>&1; true'" \
				"$EXECWAIT $TAG/$id $VZCTL --quiet start $id"
			q nvz stop "$id" --fast
		done
		for n in lean default; do
			c=${TAG}bb$n
			hf "lxc$n-start.r$r" "$per" "sh -c 'lxc-stop -P $LXCP -n $c -k >/dev/null 2>&1; true'" \
				"$EXECWAIT $c lxc-start -P $LXCP -n $c"
			q lxc stop -n "$c" -k
		done
		hf "crun-start.r$r" "$per" "sh -c '$CRUN delete -f bb >/dev/null 2>&1; true'" \
			"$EXECWAIT $TAG-crun/bb $CRUN run -d --bundle $b bb"
		q incrun $CRUN delete -f bb
	done
	for n in floor nvz-start-101 nvz-start-102 lxclean lxcdefault crun; do
		case $n in floor | lxc* | crun) n=$n-start ;; esac
		merge_rounds "$n"
	done
}

bench_busybox_life() {
	local halt_runs=$((RUNS / 6 + 2))
	nvz create 101 --ostemplate busybox-x86_64 --layout simfs:shared || die "nvz create 101"
	nvz create 102 --ostemplate busybox-x86_64 --layout ploop:shared --diskspace 1G || die "nvz create 102"
	bench_starts
	q nvz start 101
	hf nvz-exec "$RUNS" "" "$VZCTL exec3 101 /bin/true"
	hf nvz-exec-sh "$RUNS" "" "$VZCTL exec 101 /bin/true"
	hf nvz-kill "$RUNS" "sh -c '$VZCTL --quiet start 101 >/dev/null 2>&1; true'" "$VZCTL --quiet stop 101 --fast"
	hf nvz-halt "$halt_runs" "sh -c '$VZCTL --quiet start 101 >/dev/null 2>&1; true'" "$VZCTL --quiet stop 101"
	q nvz stop 101 --fast

	local n c
	for n in lean default; do
		c=${TAG}bb$n
		q lxc start -n "$c"
		hf "lxc$n-exec" "$RUNS" "" "lxc-attach -P $LXCP -n $c -- /bin/true"
		hf "lxc$n-kill" "$RUNS" "sh -c 'lxc-start -P $LXCP -n $c >/dev/null 2>&1; true'" "lxc-stop -P $LXCP -n $c -k"
		hf "lxc$n-halt" "$halt_runs" "sh -c 'lxc-start -P $LXCP -n $c >/dev/null 2>&1; true'" "lxc-stop -P $LXCP -n $c"
		q lxc stop -n "$c" -k
	done

	local b=$W/crun/bb
	q incrun $CRUN run -d --bundle "$b" bb
	hf crun-exec "$RUNS" "" "$CRUN exec bb /bin/true"
	hf crun-kill "$RUNS" "sh -c '$CRUN run -d --bundle $b bb >/dev/null 2>&1; true'" "$CRUN delete -f bb"
	hf crun-halt "$halt_runs" "sh -c '$CRUN run -d --bundle $b bb >/dev/null 2>&1; true'" "$W/bin/crun-halt bb"
	q incrun $CRUN delete -f bb
}

# create and destroy from the same tarball; nvz in each layout.
bench_create() {
	local runs=$((RUNS / 3 + 2)) druns=3 l t name
	[ -n "${QUICK:-}" ] && druns=2
	for t in bb deb; do
		local tpl=busybox-x86_64 tar=$BB_TAR r=$runs
		[ $t = deb ] && tpl=debian-12-x86_64-minbase tar=$DEB_TAR r=$druns
		for l in simfs:shared ploop:shared simfs ploop; do
			name=nvz-create-$t-${l/:/-}
			local extra="--diskspace 2G"
			hf "$name" "$r" "sh -c '$VZCTL --quiet destroy 201 >/dev/null 2>&1; true'" \
				"$VZCTL --quiet create 201 --ostemplate $tpl --layout $l $extra"
			hf "nvz-destroy-$t-${l/:/-}" "$r" \
				"sh -c '$VZCTL --quiet create 201 --ostemplate $tpl --layout $l $extra >/dev/null 2>&1; true'" \
				"$VZCTL --quiet destroy 201"
		done
		local c=${TAG}c$t
		hf "lxc-create-$t" "$r" "sh -c 'lxc-destroy -P $LXCP -n $c >/dev/null 2>&1; true'" \
			"lxc-create -P $LXCP -n $c -f $W/lxc/default.conf -t $W/bin/lxc-tar -- --tarball $tar"
		hf "lxc-destroy-$t" "$r" \
			"sh -c 'lxc-create -P $LXCP -n $c -f $W/lxc/default.conf -t $W/bin/lxc-tar -- --tarball $tar >/dev/null 2>&1; true'" \
			"lxc-destroy -P $LXCP -n $c"
		hf "crun-create-$t" "$r" "rm -rf $W/crun/c" \
			"sh -c 'mkdir -p $W/crun/c/rootfs && tar -xzpf $tar --numeric-owner -C $W/crun/c/rootfs && cp $W/crun/bb/config.json $W/crun/c/'"
		hf "crun-destroy-$t" "$r" \
			"sh -c 'mkdir -p $W/crun/c/rootfs && tar -xzpf $tar --numeric-owner -C $W/crun/c/rootfs'" "rm -rf $W/crun/c"
	done
}

# Debian 12 booting systemd to multi-user: start, then bench/sdwait (the
# same probe for both managers: a host-side wait for systemd's socket, then
# one `systemctl is-system-running --wait` inside).
bench_debian() {
	local runs=${BENCH_DEBIAN_RUNS:-16} d=${TAG}deb
	[ -n "${QUICK:-}" ] && runs=3
	nvz create 301 --ostemplate debian-12-x86_64-minbase --layout simfs:shared || die "nvz create 301"
	# Also a plain directory (simfs), what LXC boots from: no overlay.
	nvz create 302 --ostemplate debian-12-x86_64-minbase --layout simfs || die "nvz create 302"
	lxc create -n "$d" -f "$W/lxc/default.conf" -t "$W/bin/lxc-tar" -- --tarball "$DEB_TAR" \
		>"$OUT/lxc-setup.log" 2>&1 || die "lxc-create debian: $(tail -3 "$OUT/lxc-setup.log")"
	echo "lxc.signal.halt = SIGRTMIN+4" >>"$LXCP/$d/config"
	# nvz and LXC alternate, boot by boot: the load other engineers put on
	# this machine drifts over minutes and must hit both alike.
	local i t0 t1 t2 nb=() nh=() lb=() lh=() ns=()
	for ((i = 0; i <= runs; i++)); do # run 0 warms the page cache, not kept
		q nvz stop 302 --fast
		t0=$(now_ns)
		nvz start 302 && "$SDWAIT" "$TAG/302" "$VZCTL" exec3 302 || echo "bench: nvz Debian (simfs) boot failed" >&2
		t1=$(now_ns)
		q nvz stop 302 --fast
		[ $i -gt 0 ] && ns+=("$(secs "$t0" "$t1")")
		q nvz stop 301 --fast
		t0=$(now_ns)
		nvz start 301 && "$SDWAIT" "$TAG/301" "$VZCTL" exec3 301 || echo "bench: nvz Debian boot failed" >&2
		t1=$(now_ns)
		nvz stop 301 || echo "bench: nvz Debian stop failed" >&2
		t2=$(now_ns)
		[ $i -gt 0 ] && nb+=("$(secs "$t0" "$t1")") nh+=("$(secs "$t1" "$t2")")
		q lxc stop -n "$d" -k
		t0=$(now_ns)
		lxc start -n "$d" && "$SDWAIT" "$d" lxc-attach -P "$LXCP" -n "$d" -- || echo "bench: LXC Debian boot failed" >&2
		t1=$(now_ns)
		lxc stop -n "$d" || echo "bench: LXC Debian stop failed" >&2
		t2=$(now_ns)
		[ $i -gt 0 ] && lb+=("$(secs "$t0" "$t1")") lh+=("$(secs "$t1" "$t2")")
	done
	put nvz-systemd "${nb[@]}"
	put nvz-systemd-halt "${nh[@]}"
	put nvz-systemd-simfs "${ns[@]}"
	put lxc-systemd "${lb[@]}"
	put lxc-systemd-halt "${lh[@]}"
	q nvz stop 301 --fast
	q lxc stop -n "$d" -k
}

# Sum of the PSS (kB) of the given pids.
pss_kb() {
	local p sum=0 v
	for p in "$@"; do
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
# MemAvailable plus the free pages the per-CPU lists hold (/proc/zoneinfo's
# "count:"): the kernel leaves those out of MemFree, and since 6.7 it sizes
# the lists by the recent traffic and drains them slowly (here up to 200 MB
# after 50 CTs start or stop, given back at ~8 MB/s), which alone moved
# MemAvailable by megabytes between two readings of an idle machine.
mem_avail_kb() {
	awk '$1 == "MemAvailable:" {a = $2} $1 == "count:" {p += $2} END {print a + p * 4}' \
		/proc/meminfo /proc/zoneinfo
}
# Before a MemAvailable reading: the previous round's teardown (another
# manager's, often) goes on in the kernel after its commands return (network
# namespaces freed by a workqueue, RCU-deferred frees, cgroups going
# offline), and would otherwise be credited to whichever manager is measured
# next. Write dirty pages back, drop caches, and wait until MemAvailable
# holds still (within 256 kB over a second, at most 30 s).
settle_memory() {
	local i a b
	sync
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
	b=$(mem_avail_kb)
	for ((i = 0; i < 30; i++)); do
		sleep 1
		a=$(mem_avail_kb)
		((a - b < 256 && b - a < 256)) && break
		b=$a
		echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
	done
}
# BENCH_MEMSNAP=DIR: the kernel's counters at each memory reading, for a
# breakdown by object (DIR/WHO.ROUND.{0,1}.{meminfo,slabinfo,vmallocinfo,zoneinfo}); bench/memdiff.py
# reads them.
memsnap() { # memsnap WHO 0|1
	[ -n "${BENCH_MEMSNAP:-}" ] || return 0
	local snap=$BENCH_MEMSNAP/$1.${MEMSNAP_ROUND:-0}.$2 i
	mkdir -p "$BENCH_MEMSNAP"
	for i in meminfo slabinfo vmallocinfo zoneinfo; do cat "/proc/$i" >"$snap.$i"; done
}
now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", (b - a) / 1e9 }'; }

# Exact memory of running CTs, immune to the rest of the machine (which moves
# MemAvailable by megabytes while other work runs): the commands that start
# them run in a v1 memory cgroup of their own ($TAG-mem-NAME) and the CTs'
# cgroups live under known parents, so every anonymous page, tmpfs page and
# accounted kernel object (stacks, page tables, inodes, dentries, mounts,
# namespaces, sockets) that the CTs and their manager's processes (kept or gone)
# allocate is charged to one of them. Page cache is left out: reclaimable, and
# charged to whoever read a shared file first. Kernel objects the kernel does
# not account (struct cgroup, superblocks, tty buffers) are not in it.
MEMCG=/sys/fs/cgroup/memory
mcg_kb() { # mcg_kb CGROUP...: anon + tmpfs + kernel memory charged, kB
	local d s=0 k
	for d in "$@"; do
		[ -e "$MEMCG/$d/memory.stat" ] || continue
		k=$(cat "$MEMCG/$d/memory.kmem.usage_in_bytes" 2>/dev/null || echo 0)
		s=$((s + k + $(awk '$1 == "total_rss" || $1 == "total_shmem" {n += $2} END {print n + 0}' \
			"$MEMCG/$d/memory.stat")))
	done
	echo $((s / 1024))
}
MCG_HOME=
mcg_enter() { # mcg_enter NAME: this shell (and what it starts) into $TAG-mem-NAME
	[ -d "$MEMCG" ] || return 0 # no v1 memory controller: the row says "failed"
	MCG_HOME=$(awk -F: '$2 == "memory" {print $3}' /proc/self/cgroup)
	mkdir -p "$MEMCG/$TAG-mem-$1" && echo $BASHPID >"$MEMCG/$TAG-mem-$1/cgroup.procs"
}
mcg_leave() { [ -d "$MEMCG" ] && echo $BASHPID >"$MEMCG$MCG_HOME/cgroup.procs"; }
lxc_mcgs() { # the memory cgroups of the bench's running LXC CTs (monitor, payload)
	local i
	for ((i = 0; i < NCT; i++)); do echo "lxc.monitor.${TAG}m$i lxc.payload.${TAG}m$i"; done
}

# One tool's turn at the memory figures, around its NCT starts: mem_open
# WHO CGROUP... takes the first readings (c0, m0: the caller's locals) and
# mem_close WHO CGROUP... the last ones (c1, m1) once the CTs have settled,
# the memcg charge summed over the turn's cgroup $TAG-mem-WHO and CGROUP...
mem_open() {
	local who=$1
	shift
	settle_memory
	mcg_enter "$who"
	c0=$(mcg_kb "$TAG-mem-$who" "$@")
	memsnap "$who" 0
	m0=$(mem_avail_kb)
}
mem_close() {
	local who=$1
	shift
	sleep 2
	settle_memory # the same state of the caches as at m0
	m1=$(mem_avail_kb)
	memsnap "$who" 1
	c1=$(mcg_kb "$TAG-mem-$who" "$@")
	mcg_leave
}
# many_record T0 T1 PID...: the turn's figures (the starts' time; per CT,
# the MemAvailable drop, the memcg charge and the PSS of the PIDs).
many_record() {
	many_t+=("$(secs "$1" "$2")") many_m+=("$(((m0 - m1) / NCT))") many_c+=("$(((c1 - c0) / NCT))")
	shift 2
	many_p+=("$(($(pss_kb "$@") / NCT))")
}

# NCT busybox CTs per manager, started one after another (total time), then
# memory: MemAvailable drop per CT, memory charged per CT (exact, see mcg_kb)
# and PSS of the manager's per-CT processes. The three managers take turns,
# ROUNDS times (each figure: the median of its rounds), so that the load's
# drift hits them alike.
many_nvz() {
	local i t0 t1 m0 m1 c0 c1 pids=() hub
	# The server's monitor hub serves every CT: let it start in this
	# round's memory cgroup, so that what it costs is counted there.
	hub=$(cat "$NV/run/hub.pid" 2>/dev/null)
	if [ -n "$hub" ] && kill "$hub" 2>/dev/null; then
		for ((i = 0; i < 50; i++)); do [ -e "/proc/$hub" ] || break; sleep 0.1; done
	fi
	mem_open nvz "$TAG"
	t0=$(now_ns)
	for ((i = 0; i < NCT; i++)); do nvz start $((1000 + i)) || echo "bench: nvz start $((1000 + i)) failed" >&2; done
	t1=$(now_ns)
	mem_close nvz "$TAG"
	# Each CT's MONITOR_PID: the hub for all, or a monitor each.
	mapfile -t pids < <(for ((i = 0; i < NCT; i++)); do
		sed -n 's/^MONITOR_PID="\([0-9]*\)"/\1/p' "$NV/run/$((1000 + i))/state"
	done | sort -u)
	many_record "$t0" "$t1" "${pids[@]}"
	for ((i = 0; i < NCT; i++)); do q nvz stop $((1000 + i)) --fast; done
}

many_lxc() {
	local i t0 t1 m0 m1 c0 c1 ip pids=()
	# shellcheck disable=SC2046 # one cgroup name per word
	mem_open lxc $(lxc_mcgs)
	t0=$(now_ns)
	for ((i = 0; i < NCT; i++)); do lxc start -n "${TAG}m$i" || echo "bench: lxc-start ${TAG}m$i failed" >&2; done
	t1=$(now_ns)
	# shellcheck disable=SC2046 # one cgroup name per word
	mem_close lxc $(lxc_mcgs)
	for ((i = 0; i < NCT; i++)); do
		ip=$(lxc info -n "${TAG}m$i" -p -H)
		pids+=("$(awk '{print $4}' "/proc/$ip/stat")")
	done
	many_record "$t0" "$t1" "${pids[@]}"
	for ((i = 0; i < NCT; i++)); do q lxc stop -n "${TAG}m$i" -k; done
}

many_crun() {
	local t0 t1 m0 m1 c0 c1 times
	mem_open crun "$TAG-crun"
	# All crun commands in one private mount namespace (see incrun).
	times=$(incrun bash -c '
		t0=$(date +%s%N)
		for ((i = 0; i < '"$NCT"'; i++)); do
			'"$CRUN"' run -d --bundle '"$W"'/crun/m$i m$i >/dev/null 2>&1 || echo "bench: crun run m$i failed" >&2
		done
		echo "$t0 $(date +%s%N)"')
	mem_close crun "$TAG-crun"
	read -r t0 t1 <<<"$times"
	many_record "$t0" "$t1" # no process per CT
	incrun bash -c 'for ((i = 0; i < '"$NCT"'; i++)); do '"$CRUN"' delete -f m$i >/dev/null 2>&1; done'
}

# crun given the functions nvz gives each CT (the "crun + nvz's functions"
# column): a console pty (its masters held and drained by one process for
# the whole server, bench/ptyhold.c, where podman runs a conmon per CT), a
# root of its own (an overlay over the shared rootfs, mounted at each start
# as nvz mounts its own), nvz's seccomp filter (the syscalls
# lib/linux/seccomp.c denies). Not given: a beancounter view, a boot id of
# its own, a cgroup2 cgroup on a hybrid host (crun here does not see the
# cgroup2 mount, see incrun).
# nvz's list, read from its source so that the two cannot drift apart.
crunfn_denied() {
	sed -n '/denied\[\] = {/,/};/p' "$SRCDIR/lib/linux/seccomp.c" | grep -o '"[a-z0-9_]*"' | jq -sc .
}
setup_crunfn() { # setup_crunfn I: CT m$i's bundle and layers
	local b=$W/crunfn/m$1 denied
	denied=$(crunfn_denied)
	[ "${denied:-[]}" != "[]" ] || die "no denied syscalls found in lib/linux/seccomp.c"
	mkdir -p "$b/upper" "$b/work" "$b/root"
	jq --arg root "$b/root" --arg cg "/$TAG-crunfn/m$1" --argjson denied "$denied" \
		'.process.terminal = true | .root.path = $root | .linux.cgroupsPath = $cg |
		 .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
			syscalls: [{names: $denied, action: "SCMP_ACT_ERRNO", errnoRet: 1}]}' \
		"$W/crun/bb/config.json" >"$b/config.json"
}
CRUNFN_HOLD=
many_crunfn() {
	local t0 t1 m0 m1 c0 c1 times i
	mem_open crunfn "$TAG-crunfn"
	# The console holder starts in the window, as nvz's hub does.
	"$W/bin/ptyhold" "$W/crunfn/console.sock" &
	CRUNFN_HOLD=$!
	# shellcheck disable=SC2016 # $i and $b are the inner shell's
	times=$(incrun bash -c '
		for ((i = 0; i < 100; i++)); do [ -S '"$W"'/crunfn/console.sock ] && break; sleep 0.01; done
		t0=$(date +%s%N)
		for ((i = 0; i < '"$NCT"'; i++)); do
			b='"$W"'/crunfn/m$i
			mount -t overlay overlay -o lowerdir='"$W"'/rootfs/busybox,upperdir=$b/upper,workdir=$b/work $b/root &&
			'"$CRUN"' run -d --console-socket '"$W"'/crunfn/console.sock --bundle $b f$i >/dev/null 2>&1 ||
				echo "bench: crun run f$i (with nvz'"'"'s functions) failed" >&2
		done
		echo "$t0 $(date +%s%N)"')
	mem_close crunfn "$TAG-crunfn"
	read -r t0 t1 <<<"$times"
	many_record "$t0" "$t1" "$CRUNFN_HOLD"
	# shellcheck disable=SC2016 # $i is the inner shell's
	incrun bash -c 'for ((i = 0; i < '"$NCT"'; i++)); do '"$CRUN"' delete -f f$i >/dev/null 2>&1; done'
	kill "$CRUNFN_HOLD" 2>/dev/null
	wait "$CRUNFN_HOLD" 2>/dev/null
	CRUNFN_HOLD=
	# The CTs' roots went with their mount namespaces; their layers stay
	# for the next round, emptied.
	for ((i = 0; i < NCT; i++)); do rm -rf "$W/crunfn/m$i/upper" "$W/crunfn/m$i/work" && mkdir "$W/crunfn/m$i/upper" "$W/crunfn/m$i/work"; done
}

bench_many() {
	local i r who rounds=$((ROUNDS < 3 ? ROUNDS : 3))
	for ((i = 0; i < NCT; i++)); do
		q nvz create $((1000 + i)) --ostemplate busybox-x86_64 --layout simfs:shared || die "nvz create $((1000 + i))"
		q lxc create -n "${TAG}m$i" -f "$W/lxc/default.conf" -t "$W/bin/lxc-tar" -- --tarball "$BB_TAR" ||
			die "lxc-create ${TAG}m$i"
		echo "lxc.signal.halt = SIGUSR2" >>"$LXCP/${TAG}m$i/config"
		sed "s|/$TAG-crun/bb|/$TAG-crun/m$i|" "$W/crun/bb/config.json" >"$W/crun/bb/m.json"
		mkdir -p "$W/crun/m$i" && mv "$W/crun/bb/m.json" "$W/crun/m$i/config.json"
		setup_crunfn "$i"
	done
	declare -A T M P C
	local order=(nvz lxc crun crunfn)
	for ((r = 0; r < rounds; r++)); do
		# Each round in another order: no manager always follows the same
		# one's teardown.
		for who in "${order[@]:r%4}" "${order[@]:0:r%4}"; do
			local many_t=() many_m=() many_p=() many_c=() MEMSNAP_ROUND=$r
			"many_$who"
			T[$who]+=" ${many_t[0]}" M[$who]+=" ${many_m[0]}" P[$who]+=" ${many_p[0]}" C[$who]+=" ${many_c[0]}"
			echo "# round $r $who: ${many_t[0]} s, MemAvailable drop ${many_m[0]} kB, charged ${many_c[0]} kB per CT"
		done
	done
	for who in nvz lxc crun crunfn; do
		# shellcheck disable=SC2086 # the lists are meant to split
		put "$who-many" ${T[$who]}
		# shellcheck disable=SC2086
		put "$who-memavail" ${M[$who]}
		# shellcheck disable=SC2086
		put "$who-pss" ${P[$who]}
		# no v1 memory controller: no row (the report says "failed")
		# shellcheck disable=SC2086
		if [ -d "$MEMCG" ]; then put "$who-memcg" ${C[$who]}; fi
	done
}

cleanup_all() {
	set +e
	echo "# cleaning up $W"
	local f id c
	for f in "$NV"/conf/*.conf; do
		[ -e "$f" ] || continue
		id=$(basename "$f" .conf)
		case $id in ve-*) continue ;; esac
		timeout 60 "$VZCTL" --quiet --skiplock stop "$id" --fast >/dev/null 2>&1
		timeout 60 "$VZCTL" --quiet --skiplock destroy "$id" >/dev/null 2>&1
	done
	if [ -n "${BENCH_BEFORE:-}" ] && [ -e "$NB/vz.conf" ]; then
		VZ_CONF=$NB/vz.conf timeout 60 "$BENCH_BEFORE/vzctl" --quiet --skiplock stop 401 --fast >/dev/null 2>&1
		VZ_CONF=$NB/vz.conf timeout 60 "$BENCH_BEFORE/vzctl" --quiet --skiplock destroy 401 >/dev/null 2>&1
	fi
	for c in "$LXCP"/*/; do
		[ -d "$c" ] || continue
		c=$(basename "$c")
		lxc-stop -P "$LXCP" -n "$c" -k >/dev/null 2>&1
		lxc-destroy -P "$LXCP" -n "$c" >/dev/null 2>&1
	done
	if [ -d "$CRUNR" ]; then
		incrun bash -c "for c in \$($CRUN list -q 2>/dev/null); do $CRUN delete -f \$c; done" >/dev/null 2>&1
		# crun, not seeing the cgroup2 mount, made its cgroup path (and a
		# cgroup.procs file) in the host's /sys/fs/cgroup tmpfs, under the
		# unified mount point: visible only where that mount is gone.
		incrun bash -c "rm -rf /sys/fs/cgroup/unified/$TAG-crun*" >/dev/null 2>&1
	fi
	[ -n "$CRUNFN_HOLD" ] && kill "$CRUNFN_HOLD" 2>/dev/null
	# Each server's monitor hub (by its pid) lives in TAG/hub: gone first.
	local hub d i
	for d in "$NV" "${NB:-}"; do
		hub=$(cat "$d/run/hub.pid" 2>/dev/null)
		[ -n "$hub" ] && grep -qs vzmon-hub "/proc/$hub/comm" && kill "$hub" &&
			for ((i = 0; i < 50; i++)); do grep -qs vzmon-hub "/proc/$hub/comm" || break; sleep 0.1; done
	done
	awk -v d="$W" '$2 ~ "^"d {print $2}' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
	for c in /sys/fs/cgroup/*/"$TAG"* /sys/fs/cgroup/*/lxc.*"$TAG"* /sys/fs/cgroup/"$TAG"* /sys/fs/cgroup/lxc.*"$TAG"*; do
		[ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	for c in /sys/fs/cgroup/lxc.pivot /sys/fs/cgroup/*/lxc.pivot; do
		[ -d "$c" ] && ! grep -qxF "$c" <<<"${LXC_PIVOTS_BEFORE:-}" && rmdir "$c" 2>/dev/null
	done
	rm -rf "$W"
}

# BENCH_BEFORE=DIR (a build dir of an older nvz): the same kind of CT driven
# by both builds in this run, for the before/after table of a fix. Each
# build has a server of its own (vz.conf, RUNDIR, hub, cgroup prefix), as
# two hosts would, and they take turns round by round, the order swapped
# each round: one build run after the other measured the machine's drift
# (and the other build's hub handing its socket over) as much as the fix.
NB=$W/nvz-before
ba_round() { # ba_round before|after ROUND RUNS: one build's turn, in a subshell (its VZ_CONF)
	local v=$1 r=$2 per=$3 b=$BUILD m=$TAG/401
	export VZ_CONF=$NV/vz.conf
	[ "$v" = before ] && b=$BENCH_BEFORE m=$TAG-b/401 VZ_CONF=$NB/vz.conf
	hf "ba-$v-status.r$r" "$per" "" "$b/vzctl status 401"
	hf "ba-$v-start.r$r" "$per" "sh -c '$b/vzctl --quiet stop 401 --fast >/dev/null 2>&1; sleep 0.1'" \
		"$EXECWAIT $m $b/vzctl --quiet start 401"
	hf "ba-$v-exec.r$r" "$per" "" "$b/vzctl exec3 401 /bin/true"
	hf "ba-$v-kill.r$r" "$per" "sh -c '$b/vzctl --quiet start 401 >/dev/null 2>&1; sleep 0.1'" \
		"$b/vzctl --quiet stop 401 --fast"
	q "$b/vzctl" --quiet stop 401 --fast
}
bench_before_after() {
	local r v n per=$(((RUNS + ROUNDS - 1) / ROUNDS))
	(NV=$NB TAG=$TAG-b setup_nvz) || die "server for the before build"
	run_tmpfs "$NB/run"
	nvz create 401 --ostemplate busybox-x86_64 --layout simfs:shared || die "nvz create 401"
	VZ_CONF=$NB/vz.conf "$BENCH_BEFORE/vzctl" --quiet create 401 --ostemplate busybox-x86_64 \
		--layout simfs:shared >/dev/null || die "nvz create 401 (before)"
	for ((r = 1; r <= ROUNDS; r++)); do
		if ((r % 2)); then
			(ba_round before $r $per) && (ba_round after $r $per)
		else
			(ba_round after $r $per) && (ba_round before $r $per)
		fi
	done
	for v in before after; do
		for n in status start exec kill; do merge_rounds "ba-$v-$n"; done
	done
	VZ_CONF=$NB/vz.conf q "$BENCH_BEFORE/vzctl" --quiet destroy 401
}
