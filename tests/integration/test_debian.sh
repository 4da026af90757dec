# A real Debian 12 with systemd, built by mmdebstrap (scripts/mk-debian-template),
# and the same tests on Debian 13 (trixie, systemd 257) at the end.
# shellcheck shell=bash

DEBIAN_TMPL=${NVZ_DEBIAN_TMPL:-debian-12-x86_64-minbase}

need_debian() {
	[ -e "$T/template/cache/$DEBIAN_TMPL.tar.gz" ] ||
		fail "Debian template missing (mmdebstrap failed? see $TEMPLATE_CACHE/mk-debian.log)"
}

t_debian_systemd_boot() {
	need_debian
	expect_rc 0 "$VZCTL" create 801 --ostemplate "$DEBIAN_TMPL" --hostname deb.example.com
	expect_rc 0 "$VZCTL" set 801 --nameserver 192.0.2.1 --searchdomain example.com --save
	expect_rc 0 "$VZCTL" start 801 --wait
	expect_out 'Container started successfully'
	expect_rc 0 "$VZCTL" exec 801 'systemctl is-system-running'
	case $OUT in
	running) ;;
	degraded) "$VZCTL" exec 801 'systemctl --failed --no-legend' >&2 ;;
	*) fail "systemd state: $OUT" ;;
	esac
	expect_rc 0 "$VZCTL" exec 801 'cat /proc/1/comm; hostname; cat /etc/resolv.conf; ps ax | wc -l'
	expect_out '^systemd$'
	expect_out '^deb.example.com$'
	expect_out 'nameserver 192.0.2.1'
	expect_rc 0 "$VZCTL" exec2 801 'systemctl is-active systemd-journald'
	# The host's FUSE control fs (an abort switch for every FUSE
	# connection on the host, this CT's beancounter file among them) is
	# masked: systemd's sys-fs-fuse-connections.mount finds it mounted.
	expect_rc 0 "$VZCTL" exec 801 'ls -A /sys/fs/fuse/connections | wc -l; awk '"'"'$2 == "/sys/fs/fuse/connections" {print $3, $4}'"'"' /proc/mounts'
	[ "$(printf '%s\n' "$OUT" | head -1)" = 0 ] || fail "the CT sees the host's FUSE connections: $OUT"
	expect_out '^tmpfs ro,'
	printf '%s\n' "$OUT" | grep -q fusectl && fail "fusectl mounted in the CT: $OUT"
	# Live hostname change reaches systemd's view too.
	expect_rc 0 "$VZCTL" set 801 --hostname deb2.example.com --save
	expect_rc 0 "$VZCTL" exec 801 'hostname; cat /etc/hostname'
	[ "$OUT" = "$(printf 'deb2.example.com\ndeb2.example.com')" ] || fail "hostname: $OUT"
	# The generators that find nothing to do in a CT are masked in its
	# /run (lib/linux/sdgen.c); those with work stay, and the units are
	# the same. rc-local's is masked only while /etc/rc.local is absent:
	# one is added here, and after the reboot below it runs.
	expect_rc 0 "$VZCTL" exec 801 'ls /run/systemd/system-generators; systemctl is-active console-getty'
	expect_out '^systemd-gpt-auto-generator$'
	expect_out '^systemd-rc-local-generator$'
	# Debian 12's systemd has the cryptsetup generator; Debian 13's
	# minbase has none (it moved to the systemd-cryptsetup package).
	if "$VZCTL" exec 801 'test -e /usr/lib/systemd/system-generators/systemd-cryptsetup-generator'; then
		expect_out '^systemd-cryptsetup-generator$'
	fi
	expect_out '^active$'
	printf '%s\n' "$OUT" | grep -Eq 'getty-gen|fstab|sysv' && fail "a generator with work is masked: $OUT"
	expect_rc 0 "$VZCTL" exec 801 'printf "#!/bin/sh\ntouch /run/rc-local-ran\n" >/etc/rc.local; chmod +x /etc/rc.local'
	# Reboot inside: systemd goes down and comes back.
	local boot1
	boot1=$("$VZCTL" exec 801 cat /proc/sys/kernel/random/boot_id)
	reboot_inside 801 300 'systemctl reboot'
	wait_for 300 eval '"$VZCTL" exec 801 systemctl is-system-running | grep -Eq "^(running|degraded)$"' ||
		fail "systemd did not come back up after reboot"
	expect_rc 0 "$VZCTL" exec 801 'ls /run/systemd/system-generators; ls /run/rc-local-ran'
	printf '%s\n' "$OUT" | grep -q rc-local-generator && fail "rc-local generator masked with /etc/rc.local there: $OUT"
	expect_out '^/run/rc-local-ran$'
	# Each boot has its own boot id, so the CT's journal tells them apart.
	expect_rc 0 "$VZCTL" exec 801 'cat /proc/sys/kernel/random/boot_id; journalctl --list-boots --no-pager | grep -c "[0-9a-f]\{32\}"'
	[ "$(printf '%s\n' "$OUT" | head -1)" != "$boot1" ] || fail "same boot id after reboot: $boot1"
	[ "$(printf '%s\n' "$OUT" | tail -1)" -ge 2 ] || fail "journalctl --list-boots sees one boot: $OUT"
	# Clean stop through systemd's own poweroff signal.
	expect_rc 0 "$VZCTL" stop 801
	expect_out 'Container was stopped'
	printf '%s\n' "$OUT" | grep -q 'Killing' && fail "systemd did not halt cleanly"
	grep -q 'Stopping container' "$T/vzctl.log" || fail "nothing logged"
	expect_rc 0 "$VZCTL" destroy 801
}

t_debian_userpasswd_login() {
	need_debian
	expect_rc 0 "$VZCTL" create 802 --ostemplate "$DEBIAN_TMPL"
	expect_rc 0 "$VZCTL" set 802 --userpasswd admin:Secr3t
	expect_rc 0 "$VZCTL" start 802 --wait
	expect_rc 0 "$VZCTL" exec 802 'id admin; getent shadow admin | cut -d: -f2 | cut -c1-3'
	expect_out 'uid=1000\(admin\)'
	expect_out '^\$6\$'
	# su from a normal user checks the password through PAM.
	expect_rc 0 "$VZCTL" exec 802 "echo Secr3t | su -s /bin/sh admin -c 'echo ok' 2>&1 || true"
	# vzctl enter with its input piped: bash (readline) ends with it.
	OUT=$(printf 'cat\nby-cat\n' | timeout 30 "$VZCTL" enter 802 2>&1) || fail "enter did not end: $OUT"
	expect_out '^by-cat'
	expect_out 'exited from CT 802'
	OUT=$(printf 'sleep 1; echo after-$((4*4))\n' | timeout 30 "$VZCTL" enter 802 2>&1) ||
		fail "enter did not end: $OUT"
	expect_out 'after-16'
	expect_out 'exited from CT 802'
}

# procps free/top/uptime in a real distribution show the CT's limit and uptime.
t_debian_free_top_uptime() {
	need_debian
	start_lxcfs
	expect_rc 0 "$VZCTL" create 803 --ostemplate "$DEBIAN_TMPL"
	expect_rc 0 "$VZCTL" set 803 --ram 256M --swap 128M --save
	expect_rc 0 "$VZCTL" start 803 --wait
	expect_rc 0 "$VZCTL" exec 803 'free -m | awk "/^Mem:/ {print \$2}"'
	[ "$OUT" -ge 250 ] && [ "$OUT" -le 256 ] || fail "free -m total inside: $OUT (want 256)"
	expect_rc 0 "$VZCTL" exec 803 'top -b -n1 | head -5'
	expect_out 'MiB Mem : +25[0-9]\.[0-9] total'
	expect_rc 0 "$VZCTL" exec 803 'cut -d. -f1 /proc/uptime'
	[ "$OUT" -lt 120 ] || fail "uptime is the host's: $OUT"
	expect_rc 0 "$VZCTL" exec 803 "cat $BC_INSIDE"
	expect_out 'physpages +[0-9]+ +[0-9]+ +0 +65536 '
	# Command lines run by the CT's bash, as vzctl's exec (not dash).
	expect_rc 0 "$VZCTL" exec 803 'echo {1..3} $BASH_VERSION'
	expect_out '^1 2 3 5\.'
}

# Debian 13 (trixie): systemd 257, with its memory pressure watch in PID 1
# and every daemon (lib/cpt/psi.c), procps 4, shadow 4.17. The same tests.
DEBIAN13_TMPL=debian-13-x86_64-minbase
t_debian13_systemd_boot() { DEBIAN_TMPL=$DEBIAN13_TMPL t_debian_systemd_boot; }
t_debian13_userpasswd_login() { DEBIAN_TMPL=$DEBIAN13_TMPL t_debian_userpasswd_login; }
t_debian13_free_top_uptime() { DEBIAN_TMPL=$DEBIAN13_TMPL t_debian_free_top_uptime; }
t_net_debian13_ifupdown_networkd() { DEBIAN_TMPL=$DEBIAN13_TMPL t_net_debian_ifupdown_networkd; }
t_cpt_debian13_systemd() { DEBIAN_TMPL=$DEBIAN13_TMPL t_cpt_debian_systemd; }
t_cpt_debian13_sandboxed_units() { DEBIAN_TMPL=$DEBIAN13_TMPL t_cpt_debian_sandboxed_units; }
t_migrate_online_debian13() { DEBIAN_TMPL=$DEBIAN13_TMPL t_migrate_online_debian; }

# Debian 12 booting sysvinit, as the guide's Debian 6 templates did. It
# reaches runlevel 2 (rcS, rc 2, the gettys), `start --wait` sees it, a
# reboot inside comes back, and vzctl stop halts it through runlevel 0
# without a kill. Its init got SIGCHLD and SIGTERM blocked and SIGPIPE
# and SIGHUP ignored from the hub; sysvinit resets neither, so it never
# reaped rcS and stayed in "init boot" (nvz_signals_default).
DEBIAN_SYSV_TMPL=debian-12-x86_64-sysvinit
t_debian_sysvinit_boot() {
	[ -e "$T/template/cache/$DEBIAN_SYSV_TMPL.tar.gz" ] ||
		fail "Debian sysvinit template missing (see $TEMPLATE_CACHE/mk-debian-12-sysvinit.log)"
	expect_rc 0 "$VZCTL" create 804 --ostemplate "$DEBIAN_SYSV_TMPL" --hostname sysv.example.com
	expect_rc 0 "$VZCTL" set 804 --nameserver 192.0.2.1 --save
	# A boot script that takes 2 s (run by rc.local, the runlevel's last):
	# --wait returns once the runlevel's rc script is done, not when
	# `runlevel` first names the runlevel.
	"$VZCTL" --quiet mount 804 || fail "mount"
	mkdir -p "$T/root/804/etc/boot.d"
	printf '#!/bin/sh\nsleep 2\ntouch /run/nvz-slow-boot.done\n' >"$T/root/804/etc/boot.d/nvzslow"
	chmod 755 "$T/root/804/etc/boot.d/nvzslow"
	"$VZCTL" --quiet umount 804 || fail "umount"
	expect_rc 0 "$VZCTL" start 804 --wait
	expect_out 'Container started successfully'
	"$VZCTL" exec 804 'test -e /run/nvz-slow-boot.done' || fail "--wait returned before the boot scripts ended"
	expect_rc 0 "$VZCTL" exec 804 'runlevel; cat /proc/1/comm; hostname; cat /etc/resolv.conf; grep -E "^Sig(Blk|Ign)" /proc/1/status'
	expect_out '^N 2$'
	expect_out '^init$'
	expect_out '^sysv.example.com$'
	expect_out '^nameserver 192.0.2.1$'
	expect_out '^SigBlk:	0+$'
	# init starts the gettys once the runlevel's rc script has ended.
	wait_for 50 eval '"$VZCTL" exec 804 "ps -o args= --ppid 1" | grep -q "^/sbin/getty .*tty1$"' ||
		fail "no getty on tty1: $("$VZCTL" exec 804 'ps -o args= --ppid 1')"
	# What init starts does not ignore SIGPIPE (the hub's, before).
	expect_rc 0 "$VZCTL" exec 804 'for p in $(pidof getty); do v=$(awk "/^SigIgn/ {print \$2}" /proc/$p/status); echo $((0x$v & 0x1000)); done | sort -u'
	[ "$OUT" = 0 ] || fail "the gettys init started ignore SIGPIPE"
	reboot_inside 804 300 reboot
	wait_for 300 eval '"$VZCTL" exec 804 runlevel | grep -q " 2$"' || fail "not back in runlevel 2 after the reboot"
	expect_rc 0 "$VZCTL" stop 804
	expect_out 'Container was stopped'
	printf '%s\n' "$OUT" | grep -q 'Killing' && fail "sysvinit did not halt cleanly"
	expect_rc 0 "$VZCTL" destroy 804
}
