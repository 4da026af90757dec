#!/bin/bash
# scripts/vm-lane/build.sh: build the VM lane's guest (tests/vm/README.md).
# Debian's stock kernel + an initramfs holding busybox, bash, the GNU tools
# the tests use, e2fsprogs, quota-tools, the built nvz binaries, the test
# suite and the busybox template. Everything lands in $NVZ_VM_CACHE
# (/var/cache/nvz-vm); the kernel and the base image are cached, only the
# nvz part is remade per run (run.sh makes the data disk).
# Needs root on a Debian 12 host; installs qemu-system-x86 (no recommends),
# busybox-static and e2fsprogs if missing; quota and the kernel are only
# downloaded (apt-get download) and unpacked, never installed on the host.
set -euo pipefail
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
C=${NVZ_VM_CACHE:-/var/cache/nvz-vm}
log() { echo "vm-lane build: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
mkdir -p "$C/debs"

export DEBIAN_FRONTEND=noninteractive
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; then
		die "cannot install ${need[*]}"
	fi
fi
for f in vzctl vzmon vzhub nvz-criu-action vzlist vzubc vzquota vzpid vzcpucheck vzsplit vzmemcheck vzcalc vzcfgvalidate tests/subreaper; do
	[ -x "$BUILD/$f" ] || die "$BUILD/$f missing: build nvz first (make)"
done

# ---- kernel: resolve the versioned package from the metapackage; old ABIs
# leave the mirror, so fall back to the newest cached .deb when offline.
cd "$C/debs"
KPKG=
if apt-get download linux-image-amd64 >/dev/null 2>&1; then
	meta=$(ls -t linux-image-amd64_*.deb | head -1)
	KPKG=$(dpkg-deb -f "$meta" Depends | sed 's/[ ,].*//')
	ls "${KPKG}"_*.deb >/dev/null 2>&1 || apt-get download "$KPKG" >/dev/null 2>&1 || KPKG=
fi
if [ -z "$KPKG" ]; then
	deb=$(ls -t linux-image-[0-9]*.deb 2>/dev/null | head -1) || true
	[ -n "$deb" ] || die "no kernel package: apt-get download linux-image-amd64 failed and none cached"
	KPKG=${deb%%_*}
	log "offline: using cached $deb"
fi
ls quota_*.deb >/dev/null 2>&1 || apt-get download quota >/dev/null 2>&1 || die "cannot download quota"
# lxcfs (free/uptime inside CTs, t_bc_free_inside): optional
ls lxcfs_*.deb >/dev/null 2>&1 || apt-get download lxcfs >/dev/null 2>&1 || log "no lxcfs: its tests will fail"
KVER=${KPKG#linux-image-}
K=$C/kernel/$KVER
# veth and bridge (with stp, llc) for the networking tests; the socket
# diag modules, nf_tables and ctnetlink for CRIU (socket dumps, the network
# lock, conntrack); a stock host loads them on demand, this guest cannot.
MODS="crc32c_generic crc32c_intel ext4 quota_v2 quota_tree loop overlay fuse tun
      virtio_pci virtio_blk veth bridge
      unix_diag inet_diag tcp_diag udp_diag raw_diag netlink_diag af_packet_diag nf_tables
      nf_conntrack_netlink"
# Re-resolved when the list changes (the kernel package itself stays cached).
if [ ! -s "$K/vmlinux" ] || [ ! -s "$K/modules.order" ] || [ "$(cat "$K/mods.list" 2>/dev/null)" != "$MODS" ]; then
	log "unpacking $KPKG"
	rm -rf "$K" "$C/kpkg"; mkdir -p "$K/modules" "$C/kpkg"
	dpkg -x "$C/debs/${KPKG}"_*.deb "$C/kpkg"
	cp "$C/kpkg/boot/vmlinuz-$KVER" "$K/vmlinuz"
	# The ELF vmlinux boots through PVH: no xz decompression under TCG (~6 s).
	off=$(LC_ALL=C grep -m1 -aobUP '\xfd7zXZ\x00' "$K/vmlinuz" | cut -d: -f1)
	tail -c +$((off + 1)) "$K/vmlinuz" | xz -dc 2>/dev/null >"$K/vmlinux" || true
	[ "$(head -c4 "$K/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] || rm -f "$K/vmlinux"
	# No modules.dep in the .deb and no depmod here: resolve "depends=" from
	# each module's .modinfo, dependencies first.
	declare -A path=() done_=()
	while read -r f; do
		n=$(basename "$f"); n=${n%%.ko*}; path[${n//-/_}]=$f
	done < <(find "$C/kpkg/lib/modules/$KVER/kernel" -name '*.ko*')
	order=()
	visit() {
		local n=${1//-/_} f d
		[ -n "${done_[$n]:-}" ] && return 0
		f=${path[$n]:-}
		[ -n "$f" ] || { log "module $n not in the package (built in?)"; done_[$n]=1; return 0; }
		done_[$n]=1
		local cat=cat; case $f in *.xz) cat="xz -dc";; esac
		for d in $($cat "$f" | tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' '); do visit "$d"; done
		$cat "$f" >"$K/modules/$n.ko"
		order+=("$n")
	}
	for m in $MODS; do visit "$m"; done
	printf '%s\n' "${order[@]}" >"$K/modules.order"
	printf '%s' "$MODS" >"$K/mods.list"
	[ -s "$K/vmlinux" ] || log "vmlinux extraction failed: will boot the (slower) vmlinuz"
	rm -rf "$C/kpkg"
fi

# ---- copy a binary (or script) and the libraries ld.so resolves for it
R=
copy_bin() { # copy_bin SRC [DEST-in-guest]
	local src=$1 dst=$R${2:-$1} l
	[ -e "$src" ] || return 0
	mkdir -p "$(dirname "$dst")"
	cp -L "$src" "$dst"
	ldd "$src" 2>/dev/null | awk '/=>/ { print $3 } /^\t\// { print $1 }' | while read -r l; do
		[ -e "$l" ] && [ ! -e "$R$l" ] || continue
		mkdir -p "$R$(dirname "$l")"
		cp -L "$l" "$R$l"
	done || true # ldd fails on scripts
}

# ---- base image: kernel modules + userland; rebuilt when this script or
# the kernel changes.
BASE=$C/base-$KVER.cpio.gz
if [ ! -s "$BASE" ] || [ "$0" -nt "$BASE" ]; then
	log "building the base image for $KVER"
	R=$(mktemp -d /tmp/nvz-vm-base.XXXXXX)
	trap 'rm -rf -- "$R"' EXIT
	mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,mnt,root,lib/modules,var/cache,lib64}
	cp /bin/busybox "$R/bin/busybox"
	cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"
	cp "$K"/modules/*.ko "$K/modules.order" "$R/lib/modules/"
	QP=$(mktemp -d /tmp/nvz-vm-quota.XXXXXX)
	dpkg -x "$(ls -t "$C"/debs/quota_*.deb | head -1)" "$QP"
	for b in setquota repquota quota quotaon quotaoff quotacheck; do
		for d in usr/sbin usr/bin; do
			[ -e "$QP/$d/$b" ] && copy_bin "$QP/$d/$b" "/$d/$b"
		done
	done
	rm -rf "$QP"
	if ls "$C"/debs/lxcfs_*.deb >/dev/null 2>&1; then
		LP=$(mktemp -d /tmp/nvz-vm-lxcfs.XXXXXX)
		dpkg -x "$(ls -t "$C"/debs/lxcfs_*.deb | head -1)" "$LP"
		copy_bin "$LP/usr/bin/lxcfs" /usr/bin/lxcfs
		# dlopen()ed by lxcfs: ldd cannot see it
		copy_bin "$LP/usr/lib/x86_64-linux-gnu/lxcfs/liblxcfs.so" /usr/lib/x86_64-linux-gnu/lxcfs/liblxcfs.so
		rm -rf "$LP"
	fi
	# GNU userland the tests call (busybox fills in the rest at boot):
	# GNU df shows project quotas (statfs on the path), bash runs the suite.
	for p in bash coreutils grep sed mawk findutils diffutils tar gzip e2fsprogs procps iproute2; do
		dpkg -L "$p" 2>/dev/null | grep -E '^/(usr/)?s?bin/[^/]+$' | while read -r f; do
			[ -f "$f" ] && [ -x "$f" ] && copy_bin "$f"
		done
	done
	for f in /usr/bin/fusermount3 /usr/bin/ionice /usr/sbin/losetup /usr/bin/mountpoint \
		/usr/bin/nsenter /usr/bin/unshare /usr/bin/setpriv /usr/bin/flock /usr/bin/xz /usr/bin/watch /usr/bin/getconf \
		/usr/sbin/sshd /usr/bin/ssh /usr/bin/ssh-keygen /usr/bin/rsync /usr/bin/strace; do
		copy_bin "$f"
	done
	ln -sf mawk "$R/usr/bin/awk"
	cp /etc/mke2fs.conf "$R/etc/"
	# sshd (the migration tests' servers) wants its privilege separation user.
	printf 'root:x:0:0:root:/root:/bin/bash\nsshd:x:100:65534::/run/sshd:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$R/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
	echo "nvz-vm" >"$R/etc/hostname"
	(cd "$R" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$BASE.tmp"
	mv -f "$BASE.tmp" "$BASE"
	rm -rf -- "$R"; trap - EXIT
fi

# ---- nvz part: binaries, tests, template, /init (always remade; ~1 s)
R=$(mktemp -d /tmp/nvz-vm-nvz.XXXXXX)
trap 'rm -rf -- "$R"' EXIT
N=/nvz
mkdir -p "$R$N/build/tests" "$R$N/tests" "$R$N/scripts" "$R$N/etc" "$R/var/cache/nvz-test/templates"
for f in vzctl vzmon vzhub nvz-criu-action vzlist vzubc vzquota vzpid vzcpucheck vzsplit vzmemcheck vzcalc vzcfgvalidate vzmigrate tests/subreaper tests/memfill tests/psiwatch tests/clone3ns tests/opathexe tests/xattr; do copy_bin "$BUILD/$f" "$N/build/$f"; done
cp -r "$SRCDIR/tests/run.sh" "$SRCDIR/tests/lib.sh" "$SRCDIR/tests/integration" "$SRCDIR/tests/vm" "$R$N/tests/"
# NVZ_VM_EXTRA_TESTS=DIR: more test_*.sh (e.g. one-off diagnostics) run with tests/vm/'s.
if [ -n "${NVZ_VM_EXTRA_TESTS:-}" ]; then
	cp "$NVZ_VM_EXTRA_TESTS"/test_*.sh "$R$N/tests/vm/" || die "no test_*.sh in $NVZ_VM_EXTRA_TESTS"
fi
[ -d "$SRCDIR/tests/helpers" ] && cp -r "$SRCDIR/tests/helpers" "$R$N/tests/"
cp "$SRCDIR"/scripts/mk-busybox-template "$SRCDIR"/scripts/nvz-onboot "$R$N/scripts/"
# CRIU as scripts/install-criu left it (a wrapper with its own loader and
# libraries): checkpoint/restore on cgroup v2 and the stock kernel.
if [ -x /opt/nvz/criu/criu ]; then
	mkdir -p "$R/opt/nvz"
	cp -a /opt/nvz/criu "$R/opt/nvz/"
else
	log "no /opt/nvz/criu (run scripts/install-criu): the t_cpt_ tests will fail in the guest"
fi
cp "$SRCDIR"/etc/* "$R$N/etc/" 2>/dev/null || true
"$SRCDIR/scripts/mk-busybox-template" "$C/templates" >/dev/null
cp "$C/templates/busybox-x86_64.tar.gz" "$R/var/cache/nvz-test/templates/"
install -m 0755 "$SRCDIR/scripts/vm-lane/guest-init.sh" "$R/init"
(cd "$R" && find . | busybox cpio -o -H newc 2>/dev/null) >"$C/nvz.cpio"
# The kernel unpacks concatenated archives in order: the nvz part on top.
# Uncompressed: gunzip of ~40 MB costs ~4 s of TCG time at every boot.
{ gzip -dc "$BASE"; cat "$C/nvz.cpio"; } >"$C/initramfs.cpio"
rm -f "$C/nvz.cpio" "$C/nvz.cpio.gz" "$C/initramfs.gz"

ln -sfn "kernel/$KVER" "$C/current"
log "kernel $KPKG, initramfs $(stat -c %s "$C/initramfs.cpio") B"
