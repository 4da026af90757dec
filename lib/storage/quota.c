/* Project quota primitives: what the filesystem holding a private area can
 * do (the probe), quotactl_fd(2) and project ids on files. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/quota.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "storage/quota.h"

/* file_getattr/file_setattr (Linux 6.17): the same numbers on every arch. */
#ifndef __NR_file_getattr
#define __NR_file_getattr 468
#define __NR_file_setattr 469
#endif
#ifndef __NR_quotactl_fd
#define __NR_quotactl_fd 443
#endif
#ifndef XFS_SUPER_MAGIC
#define XFS_SUPER_MAGIC 0x58465342
#endif

/* QCMD in unsigned arithmetic: Q_GETINFO << 8 overflows an int. */
#define QCMD_U(cmd, type) (((unsigned)(cmd) << SUBCMDSHIFT) | ((unsigned)(type) & SUBCMDMASK))

struct nvz_file_attr {
	uint64_t fa_xflags;
	uint32_t fa_extsize, fa_nextents, fa_projid, fa_cowextsize;
};

/* ---- the probe --------------------------------------------------------- */

const char *nvz_quota_state_name(enum nvz_quota_state s)
{
	static const char *const names[] = {
		[NVZ_QUOTA_ENFORCED] = "enforced", [NVZ_QUOTA_ACCOUNTING] = "accounting",
		[NVZ_QUOTA_OFF] = "off",	   [NVZ_QUOTA_NO_KERNEL] = "no-kernel",
		[NVZ_QUOTA_NO_FS] = "no-fs",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo. */
static void copy_unescaped(char *dst, size_t size, const char *s, size_t len)
{
	size_t w = 0;
	for (size_t r = 0; r < len && w + 1 < size; r++) {
		if (s[r] == '\\' && r + 3 < len && s[r + 1] >= '0' && s[r + 1] <= '3' &&
		    s[r + 2] >= '0' && s[r + 2] <= '7' && s[r + 3] >= '0' && s[r + 3] <= '7') {
			dst[w++] = (char)(((s[r + 1] - '0') << 6) | ((s[r + 2] - '0') << 3) |
					  (s[r + 3] - '0'));
			r += 3;
		} else {
			dst[w++] = s[r];
		}
	}
	dst[w] = '\0';
}

/* Split a line into space-separated fields; returns how many. */
static size_t split_fields(const char *line, size_t len, const char **f, size_t *flen, size_t max)
{
	size_t n = 0, i = 0;
	while (i < len && n < max) {
		while (i < len && line[i] == ' ')
			i++;
		if (i >= len)
			break;
		f[n] = line + i;
		while (i < len && line[i] != ' ')
			i++;
		flen[n] = (size_t)(line + i - f[n]);
		n++;
	}
	return n;
}

static bool has_option(const char *opts, size_t len, const char *want)
{
	size_t wl = strlen(want);
	for (size_t i = 0; i < len;) {
		size_t j = i;
		while (j < len && opts[j] != ',')
			j++;
		if (j - i == wl && !strncmp(opts + i, want, wl))
			return true;
		i = j + 1;
	}
	return false;
}

/* "36 35 98:0 /root /mnt rw,noatime shared:1 - ext4 /dev/vda rw,prjquota" */
int nvz_quota_mountinfo_find(const char *buf, size_t len, uint64_t mnt_id,
			     struct nvz_quota_fs *fs)
{
	for (size_t pos = 0; pos < len;) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		pos += ll + 1;
		const char *f[32];
		size_t fl[32];
		size_t n = split_fields(line, ll, f, fl, 32);
		if (n < 10 || strtoull(f[0], NULL, 10) != mnt_id)
			continue;
		size_t dash = 6;
		while (dash < n && !(fl[dash] == 1 && f[dash][0] == '-'))
			dash++;
		if (dash + 2 >= n)
			return -1;
		copy_unescaped(fs->mountpoint, sizeof(fs->mountpoint), f[4], fl[4]);
		copy_unescaped(fs->fstype, sizeof(fs->fstype), f[dash + 1], fl[dash + 1]);
		copy_unescaped(fs->source, sizeof(fs->source), f[dash + 2], fl[dash + 2]);
		fs->prjquota_opt = dash + 3 < n && has_option(f[dash + 3], fl[dash + 3], "prjquota");
		return 0;
	}
	return -1;
}

static void fill_mount(int fd, struct nvz_quota_fs *fs)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
		return;
	cleanup_free char *buf = NULL;
	size_t len = 0;
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	cleanup_fclose FILE *m = open_memstream(&buf, &len);
	if (!f || !m)
		return;
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	if (fflush(m) != 0)
		return;
	nvz_quota_mountinfo_find(buf, len, stx.stx_mnt_id, fs);
}

/* A kernel with BTF names each of its functions there (a loaded module in
 * its own file), where formatting /proc/kallsyms costs the kernel ~60 ms
 * of every simfs create with --diskspace (bench/). The 5 MB are mapped
 * where the kernel allows it (6.16+: its own pages, nothing copied or
 * faulted), else streamed through a small buffer: sysfs hands out 4 kB per
 * read, and a buffer of the whole file cost a page fault per 4 kB (30 ms
 * on a paravirtualised guest). */
int nvz_btf_has_function(const char *btf, const char *name, bool map_it)
{
	cleanup_close int fd = open(btf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char want[128];
	int wl = snprintf(want, sizeof(want), "%c%s%c", 0, name, 0);
	if (wl <= 0 || (size_t)wl >= sizeof(want))
		return -1;
	struct stat st;
	if (map_it && fstat(fd, &st) == 0 && st.st_size > 0) {
		void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			bool found = memmem(map, (size_t)st.st_size, want, (size_t)wl) != NULL;
			munmap(map, (size_t)st.st_size);
			return found ? 1 : 0;
		}
	}
	/* The last wl - 1 bytes of each chunk start the next: no name is
	 * missed across a boundary. */
	static char buf[64 * 1024];
	size_t keep = 0;
	ssize_t n;
	while ((n = read(fd, buf + keep, sizeof(buf) - keep)) > 0) {
		size_t len = keep + (size_t)n;
		if (memmem(buf, len, want, (size_t)wl))
			return 1;
		keep = len < (size_t)wl - 1 ? len : (size_t)wl - 1;
		memmove(buf, buf + len - keep, keep);
	}
	return n < 0 ? -1 : 0;
}

/* Does this kernel have the quota format ext4 needs (quota_v2, QFMT_V2)?
 * The kernel offers no list of formats: look for its code (built in, or a
 * loaded module) in kallsyms, or for a module it could load. 1 yes, 0 no,
 * -1 cannot tell. */
static int has_qfmt_v2(void)
{
	struct utsname u;
	if (uname(&u) == 0) {
		static const char *const mods[] = { "", ".xz", ".zst", ".gz" };
		for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
			char p[PATH_MAX];
			snprintf(p, sizeof(p), "/lib/modules/%s/kernel/fs/quota/quota_v2.ko%s",
				 u.release, mods[i]);
			if (access(p, F_OK) == 0)
				return 1;
		}
	}
	int btf = access("/sys/kernel/btf/quota_v2", F_OK) == 0
			  ? 1
			  : nvz_btf_has_function("/sys/kernel/btf/vmlinux", "v2_read_file_info", true);
	if (btf >= 0)
		return btf;
	cleanup_fclose FILE *f = fopen("/proc/kallsyms", "re");
	if (!f)
		return -1;
	cleanup_free char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool any = false;
	while ((n = getline(&line, &cap, f)) > 0) {
		any = true;
		char *sym = strstr(line, " v2_read_file_info");
		/* Followed by the end, a module name, or a compiler's ".suffix". */
		if (sym && strchr("\n\t.", sym[18]))
			return 1;
	}
	return any ? 0 : -1;
}

static void describe(const struct nvz_quota_fs *fs, char *buf, size_t size)
{
	if (*fs->source)
		snprintf(buf, size, "%s (%s, mounted on %s)", fs->source, fs->fstype, fs->mountpoint);
	else
		snprintf(buf, size, "its filesystem");
}

__attribute__((format(printf, 3, 4)))
static int set_state(struct nvz_quota_fs *fs, enum nvz_quota_state s, const char *fmt, ...)
{
	fs->state = s;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fs->why, sizeof(fs->why), fmt, ap);
	va_end(ap);
	return 0;
}

static long quotactl_fd(int fd, unsigned cmd, uint32_t id, void *addr)
{
	return syscall(__NR_quotactl_fd, fd, cmd, id, addr);
}

/* Q_GETINFO failed with e: which filesystem/kernel limitation is it. */
static int classify_failure(struct nvz_quota_fs *fs, unsigned long ftype, int e, const char *what)
{
	bool ext4 = ftype == EXT4_SUPER_MAGIC, xfs = ftype == XFS_SUPER_MAGIC;
	if (e == ENOSYS && ext4)
		return set_state(fs, NVZ_QUOTA_NO_KERNEL,
				 "the kernel has no quota support (CONFIG_QUOTA)");
	if (e == ENOSYS && xfs)
		return set_state(fs, NVZ_QUOTA_NO_KERNEL,
				 "the kernel's xfs has no quota support (CONFIG_XFS_QUOTA)");
	if (e == ENOSYS || e == EINVAL)
		return set_state(fs, NVZ_QUOTA_NO_FS, "%s has no project quota", what);
	/* ESRCH: quota is not on for projects. ext4 needs a quota format the
	 * kernel may lack: it refuses to mount a fs with the project feature
	 * read-write without CONFIG_QFMT_V2. */
	if (ext4 && has_qfmt_v2() == 0)
		return set_state(fs, NVZ_QUOTA_NO_KERNEL,
				 "the kernel has no quota support for ext4 (CONFIG_QFMT_V2)");
	if (ext4)
		return set_state(fs, NVZ_QUOTA_OFF,
				 "project quota is not enabled on %s: it needs the quota and project "
				 "features (tune2fs -O quota,project) and the prjquota mount option",
				 what);
	return set_state(fs, NVZ_QUOTA_OFF,
			 "project quota is not enabled on %s: mount it with prjquota", what);
}

int nvz_quota_probe(int fd, struct nvz_quota_fs *fs, struct nvz_error **err)
{
	memset(fs, 0, sizeof(*fs));
	fill_mount(fd, fs);
	char what[sizeof(fs->source) + sizeof(fs->fstype) + sizeof(fs->mountpoint) + 32];
	describe(fs, what, sizeof(what));
	struct statfs sfs;
	if (fstatfs(fd, &sfs) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "statfs");
	/* quotactl with no device: ENODEV (or EFAULT) from a kernel that has it,
	 * ENOSYS without CONFIG_QUOTACTL. It has no side effect. */
	if (syscall(SYS_quotactl, QCMD_U(Q_GETINFO, PRJQUOTA), NULL, 0, NULL) < 0 && errno == ENOSYS)
		return set_state(fs, NVZ_QUOTA_NO_KERNEL,
				 "the kernel has no quota support (CONFIG_QUOTA, CONFIG_QUOTACTL)");
	/* An invalid quota type gets EINVAL from any kernel with quotactl_fd. */
	struct if_dqinfo info;
	if (quotactl_fd(fd, QCMD_U(Q_GETINFO, MAXQUOTAS), 0, &info) < 0 && errno == ENOSYS)
		return set_state(fs, NVZ_QUOTA_NO_KERNEL,
				 "the kernel has no quotactl_fd (Linux 5.14 or later is needed)");
	if (quotactl_fd(fd, QCMD_U(Q_GETINFO, PRJQUOTA), 0, &info) < 0) {
		int e = errno;
		if (e != ENOSYS && e != EINVAL && e != ESRCH)
			return nvz_err_sys(err, NVZ_E_SYSTEM, e, "quotactl_fd Q_GETINFO on %s", what);
		return classify_failure(fs, (unsigned long)sfs.f_type, e, what);
	}
	/* Accounting is on; ext4 and xfs show "prjquota" when limits are enforced. */
	if (fs->prjquota_opt || !*fs->source)
		return set_state(fs, NVZ_QUOTA_ENFORCED, "project quota is enforced on %s", what);
	return set_state(fs, NVZ_QUOTA_ACCOUNTING,
			 "project quota limits are not enforced on %s: it is mounted without prjquota",
			 what);
}

/* ---- quotactl ---------------------------------------------------------- */

int nvz_quota_get(int fd, uint32_t projid, struct nvz_quota_dq *dq, struct nvz_error **err)
{
	struct if_dqblk b = { 0 };
	struct if_dqinfo i = { 0 };
	if (quotactl_fd(fd, QCMD_U(Q_GETQUOTA, PRJQUOTA), projid, &b) < 0)
		return nvz_err_sys(err, NVZ_QS_USAGE, errno, "get project quota %" PRIu32, projid);
	if (quotactl_fd(fd, QCMD_U(Q_GETINFO, PRJQUOTA), 0, &i) < 0)
		return nvz_err_sys(err, NVZ_QS_USAGE, errno, "get project quota grace times");
	*dq = (struct nvz_quota_dq){
		.space_bytes = b.dqb_curspace, .inodes = b.dqb_curinodes,
		.bsoft_kb = b.dqb_bsoftlimit, .bhard_kb = b.dqb_bhardlimit, /* QIF_DQBLKSIZE: 1 KiB */
		.isoft = b.dqb_isoftlimit, .ihard = b.dqb_ihardlimit,
		.btime = (int64_t)b.dqb_btime, .itime = (int64_t)b.dqb_itime,
		.bgrace = i.dqi_bgrace, .igrace = i.dqi_igrace,
	};
	return 0;
}

int nvz_quota_set(int fd, uint32_t projid, const struct nvz_disk_limits *l, int status,
		  struct nvz_error **err)
{
	/* Grace periods are per filesystem and quota type in the VFS: every
	 * project (CT) on this filesystem shares the last QUOTATIME set. Set
	 * before the limits: a usage already over the new soft limit starts
	 * its grace time from the period in force when the limit is set. */
	struct if_dqinfo i = {
		.dqi_bgrace = l->quotatime, .dqi_igrace = l->quotatime,
		.dqi_valid = IIF_BGRACE | IIF_IGRACE,
	};
	if (l->quotatime && quotactl_fd(fd, QCMD_U(Q_SETINFO, PRJQUOTA), 0, &i) < 0)
		return nvz_err_sys(err, status, errno, "set project quota grace time");
	struct if_dqblk b = {
		.dqb_bsoftlimit = l->space_soft_kb, .dqb_bhardlimit = l->space_hard_kb,
		.dqb_isoftlimit = l->inodes_soft, .dqb_ihardlimit = l->inodes_hard,
		.dqb_valid = QIF_LIMITS,
	};
	if (quotactl_fd(fd, QCMD_U(Q_SETQUOTA, PRJQUOTA), projid, &b) < 0)
		return nvz_err_sys(err, status, errno, "set limits of project quota %" PRIu32, projid);
	return 0;
}

/* ---- project ids on files ---------------------------------------------- */

static int at_flags(const char *name)
{
	return AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH);
}

/* Before Linux 6.17 only an ioctl on an open file reaches the attributes.
 * Open through O_PATH and reopen that very inode, so a file swapped for a
 * device node between a check and the open is never opened. */
static int open_for_ioctl(int dirfd, const char *name)
{
	if (!*name)
		return fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	cleanup_close int pfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (pfd < 0 || fstat(pfd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		errno = EOPNOTSUPP;
		return -1;
	}
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", pfd);
	return open(p, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

static int attr_io(int dirfd, const char *name, struct nvz_file_attr *fa, bool set)
{
	long r = syscall(set ? __NR_file_setattr : __NR_file_getattr, dirfd, name, fa,
			 sizeof(*fa), at_flags(name));
	if (r == 0)
		return 0;
	if (errno != ENOSYS)
		return errno == ENOTTY ? -EOPNOTSUPP : -errno;
	cleanup_close int fd = open_for_ioctl(dirfd, name);
	if (fd < 0)
		return -errno;
	struct fsxattr x = {
		.fsx_xflags = (uint32_t)fa->fa_xflags, .fsx_extsize = fa->fa_extsize,
		.fsx_projid = fa->fa_projid, .fsx_cowextsize = fa->fa_cowextsize,
	};
	if (ioctl(fd, set ? FS_IOC_FSSETXATTR : FS_IOC_FSGETXATTR, &x) < 0)
		return errno == ENOTTY ? -EOPNOTSUPP : -errno;
	*fa = (struct nvz_file_attr){ .fa_xflags = x.fsx_xflags, .fa_extsize = x.fsx_extsize,
				      .fa_nextents = x.fsx_nextents, .fa_projid = x.fsx_projid,
				      .fa_cowextsize = x.fsx_cowextsize };
	return 0;
}

int nvz_projid_get(int dirfd, const char *name, uint32_t *projid, bool *inherit)
{
	struct nvz_file_attr fa = { 0 };
	int r = attr_io(dirfd, name, &fa, false);
	if (r < 0)
		return r;
	*projid = fa.fa_projid;
	if (inherit)
		*inherit = fa.fa_xflags & FS_XFLAG_PROJINHERIT;
	return 0;
}

int nvz_projid_set(int dirfd, const char *name, uint32_t projid, bool dir)
{
	struct nvz_file_attr fa = { 0 };
	int r = attr_io(dirfd, name, &fa, false);
	if (r < 0)
		return r;
	/* HASATTR is reported, never set: handing it back can be refused. */
	uint64_t flags = (fa.fa_xflags & ~(uint64_t)FS_XFLAG_HASATTR) | (dir ? FS_XFLAG_PROJINHERIT : 0);
	if (fa.fa_projid == projid && (!dir || (fa.fa_xflags & FS_XFLAG_PROJINHERIT)))
		return 0;
	fa.fa_projid = projid;
	fa.fa_xflags = flags;
	return attr_io(dirfd, name, &fa, true);
}
