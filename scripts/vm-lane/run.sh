#!/bin/bash
# scripts/vm-lane/run.sh [PATTERN]: build the guest (build.sh), boot it under
# qemu (KVM if usable, else TCG) with cgroup v2 only and a prjquota data disk,
# stream the serial console, and pass/fail on the guest's
# "NVZVM RESULT: N passed, N failed" line. See tests/vm/README.md.
# env: NVZ_VM_CACHE (/var/cache/nvz-vm), NVZ_VM_TIMEOUT (s, 3300), SMP (2),
#      MEM (MiB, 2048), NVZ_VM_SKIP_BUILD=1 (reuse the last build),
#      NVZ_VM_EXTRA_TESTS (dir of more test_*.sh for the guest),
#      NVZ_VM_DISK (data disk size, 6G, sparse), NVZ_VM_APPEND (more kernel args),
#      NVZ_VM_LOG (serial log path; default $NVZ_VM_CACHE/serial.log),
#      NVZ_VM_DEBIAN_TEMPLATE (the Debian template for the boot tests; default
#      the host lane's cache; none: the guest skips them), and the same way
#      NVZ_VM_DEBIAN13_TEMPLATE, NVZ_VM_DEBIAN_SERVER_TEMPLATE and
#      NVZ_VM_DEBIAN13_SERVER_TEMPLATE
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
C=${NVZ_VM_CACHE:-/var/cache/nvz-vm}
TMO=${NVZ_VM_TIMEOUT:-3300}
SMP=${SMP:-2} MEM=${MEM:-2048}
LOG=${NVZ_VM_LOG:-$C/serial.log}
PATTERN=${1:-}
die() { echo "vm-lane: ERROR: $*" >&2; exit 2; }

t0=$(date +%s.%N)
if [ -z "${NVZ_VM_SKIP_BUILD:-}" ]; then
	"$HERE/build.sh" || die "guest build failed"
fi
tb=$(date +%s.%N)
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not installed"
K=$C/current
[ -s "$C/initramfs.cpio" ] && [ -d "$K" ] || die "no guest built in $C"
# The data disk: sparse, fresh each run, project quota on from mkfs (inodes
# of 256 bytes hold the project id); the guest mounts it -o prjquota on /tmp.
# It carries the Debian template, when the host lane has built it (too big
# for the initramfs), for the systemd boots on cgroup v2.
TMPLS=${TEMPLATE_CACHE:-/var/cache/nvz-test/templates}
DEB=${NVZ_VM_DEBIAN_TEMPLATE:-$TMPLS/debian-12-x86_64-minbase.tar.gz}
DEB13=${NVZ_VM_DEBIAN13_TEMPLATE:-$TMPLS/debian-13-x86_64-minbase.tar.gz}
DEBSRV=${NVZ_VM_DEBIAN_SERVER_TEMPLATE:-$TMPLS/debian-12-x86_64-server.tar.gz}
DEBSRV13=${NVZ_VM_DEBIAN13_SERVER_TEMPLATE:-$TMPLS/debian-13-x86_64-server.tar.gz}
rm -rf "$C/disk.img" "$C/disk-seed"
mkdir -p "$C/disk-seed"
for tmpl in "$DEB" "$DEB13" "$DEBSRV" "$DEBSRV13"; do
	[ -s "$tmpl" ] || continue
	mkdir -p "$C/disk-seed/nvz-templates"
	cp -l "$tmpl" "$C/disk-seed/nvz-templates/" 2>/dev/null || cp "$tmpl" "$C/disk-seed/nvz-templates/" ||
		die "cannot copy $tmpl"
done
truncate -s "${NVZ_VM_DISK:-6G}" "$C/disk.img"
mkfs.ext4 -q -F -O quota,project -I 256 -E root_owner=0:0 -L nvzvm -d "$C/disk-seed" "$C/disk.img" ||
	die "mkfs.ext4 -O quota,project failed"
rm -rf "$C/disk-seed"
KERNEL=$K/vmlinux
[ -s "$KERNEL" ] || KERNEL=$K/vmlinuz
ACCEL=tcg
[ -w /dev/kvm ] && grep -qE 'vmx|svm' /proc/cpuinfo && ACCEL=kvm
# Kernel command line: cgroup v1 off entirely so nothing can mount it.
APPEND="console=ttyS0 panic=-1 loglevel=3 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1"
[ -n "$PATTERN" ] && APPEND+=" nvzvm.pattern=$PATTERN"
APPEND+=" ${NVZ_VM_APPEND:-}"
echo "vm-lane: booting $(basename "$(readlink -f "$K")") ($ACCEL, smp $SMP, ${MEM}M), log $LOG"
# No network device, no host filesystem: the guest sees only its initramfs
# and the data disk. qemu's exit code means nothing (0 after a panic too).
timeout -k 10 "$TMO" qemu-system-x86_64 \
	-machine q35,accel=$ACCEL -cpu max -smp "$SMP" -m "$MEM" \
	-nographic -no-reboot -nodefaults -serial stdio -nic none \
	-kernel "$KERNEL" -initrd "$C/initramfs.cpio" \
	-drive file="$C/disk.img",format=raw,if=virtio,cache=unsafe \
	-append "$APPEND" </dev/null 2>&1 | tee "$LOG"
qrc=${PIPESTATUS[0]}
t1=$(date +%s.%N)
# The disk is rebuilt on every run: drop it now (the cache keeps the rest).
rm -f "$C/disk.img"
boot=$(sed -n 's/^NVZVM: ready uptime=\([0-9.]*\).*/\1/p' "$LOG" | tr -d '\r' | tail -1)
res=$(grep -a '^NVZVM RESULT:' "$LOG" | tr -d '\r' | tail -1)
printf 'vm-lane: build %.1fs, qemu %.1fs (rc %s), guest ready at uptime %ss\n' \
	"$(awk "BEGIN{print $tb - $t0}")" "$(awk "BEGIN{print $t1 - $tb}")" "$qrc" "${boot:-?}"
[ -n "$res" ] || die "no NVZVM RESULT line (timeout ${TMO}s or guest crash): see $LOG"
echo "vm-lane: ${res#NVZVM RESULT: }"
[[ $res == *bootonly* ]] && exit 0
[[ $res =~ ^NVZVM\ RESULT:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]] || die "guest did not run the suite: $res"
[ "${BASH_REMATCH[2]}" -eq 0 ] && [ "${BASH_REMATCH[1]}" -gt 0 ]
