# criu's kernel-probe cache where /run is not a tmpfs (lib/cpt/kdat.c).
# shellcheck shell=bash

# criu restore and criu lazy-pages get a /run of their own, the tmpfs
# RUNDIR/criu-run, where criu keeps its probe: the second restore loads it
# instead of probing again. criu still sees every entry of the host's /run,
# and nothing of its /run reaches the host's mounts.
t_cpt_kdat_cache() {
	cpt_setup
	cat >"$T/criu-kdat" <<EOF2
#!/bin/bash
for a in "\$@"; do
	case "\$a" in restore | lazy-pages)
		{ stat -f -c '%T' /run; ls -A /run | grep -v '^criu\.kdat' | sort; } >"$T/criu-view.\$a" ;;
	esac
done
exec $CRIU_BIN "\$@"
EOF2
	chmod +x "$T/criu-kdat"
	echo "CRIU=$T/criu-kdat" >>"$T/vz.conf"
	local had_kdat=no
	[ -e /run/criu.kdat ] && had_kdat=yes
	start_busybox 1521
	expect_rc 0 "$VZCTL" chkpnt 1521
	expect_rc 0 "$VZCTL" restore 1521 --no-lazy
	expect_out 'Restoring completed successfully'
	ct_running 1521 || fail "not running after restore"
	[ -s "$T/criu-view.restore" ] || fail "the criu wrapper did not run"
	if [ "$(stat -f -c %T /run)" = tmpfs ]; then
		# criu caches by itself here: nvz leaves it alone.
		mountpoint -q "$T/run/criu-run" && fail "a criu-run tmpfs although /run is one"
		[ "$(head -1 "$T/criu-view.restore")" = tmpfs ] || fail "criu's /run changed"
		return 0
	fi
	mountpoint -q "$T/run/criu-run" || fail "no tmpfs at RUNDIR/criu-run"
	[ "$(stat -f -c %T "$T/run/criu-run")" = tmpfs ] || fail "RUNDIR/criu-run is not a tmpfs"
	[ -s "$T/run/criu-run/criu.kdat" ] || fail "criu kept no probe in RUNDIR/criu-run"
	[ "$(head -1 "$T/criu-view.restore")" = tmpfs ] || fail "criu restore's /run is not a tmpfs"
	local missing
	missing=$(comm -23 <(ls -A /run | grep -v '^criu\.kdat' | sort) <(tail -n +2 "$T/criu-view.restore"))
	[ -z "$missing" ] || fail "criu did not see the host's /run entries: $missing"
	grep -q ' /run .*nvz-criu-run' /proc/self/mountinfo && fail "criu's /run reached the host's mounts"
	[ "$had_kdat" = no ] && [ -e /run/criu.kdat ] && fail "criu wrote into the host's /run"
	local ino
	ino=$(stat -c %i "$T/run/criu-run/criu.kdat")
	# A second restore, post-copy: both criu processes load the probe.
	expect_rc 0 "$VZCTL" chkpnt 1521
	rm -f "$T"/criu-view.*
	expect_rc 0 "$VZCTL" restore 1521 --lazy
	expect_out 'Restoring completed successfully'
	ct_running 1521 || fail "not running after the second restore"
	[ "$(head -1 "$T/criu-view.lazy-pages")" = tmpfs ] || fail "criu lazy-pages' /run is not a tmpfs"
	[ "$(stat -c %i "$T/run/criu-run/criu.kdat")" = "$ino" ] ||
		fail "criu probed the kernel again (its cache was rewritten)"
	expect_rc 0 "$VZCTL" exec 1521 'echo alive'
	expect_out alive
	echo "note: criu's probe kept in RUNDIR/criu-run ($(stat -c %s "$T/run/criu-run/criu.kdat") bytes), loaded by the second restore"
	echo "CRIU=$CRIU_BIN" >>"$T/vz.conf"
	return 0
}
