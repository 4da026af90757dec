/* Which of the CT's tmpfs mounts nvz carries, and their mounts at restore
 * (see tmpfs.h). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpt/tmpfs.h"
#include "ct/console.h"
#include "linux/userns.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

/* nvz's own mounts of every CT; a tmpfs the CT mounted itself stays criu's. */
static const char *const carried[] = { "/dev", "/dev/shm", "/run" };

static bool carried_path(const char *mnt)
{
	for (size_t i = 0; i < sizeof(carried) / sizeof(carried[0]); i++)
		if (!strcmp(mnt, carried[i]))
			return true;
	return false;
}

static unsigned long mnt_flags(const char *opts)
{
	static const struct { const char *name; unsigned long flag; } known[] = {
		{ "ro", MS_RDONLY }, { "nosuid", MS_NOSUID }, { "nodev", MS_NODEV },
		{ "noexec", MS_NOEXEC }, { "noatime", MS_NOATIME }, { "nodiratime", MS_NODIRATIME },
		{ "strictatime", MS_STRICTATIME },
	};
	unsigned long f = 0;
	cleanup_free char *copy = strdup(opts);
	char *save = NULL;
	for (char *o = copy ? strtok_r(copy, ",", &save) : NULL; o; o = strtok_r(NULL, ",", &save))
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!strcmp(o, known[i].name))
				f |= known[i].flag;
	return f;
}

/* The tmpfs options without rw/ro, if they are plain enough to keep in the
 * meta file and pass back to mount(2). */
static bool super_opts(const char *in, char *out, size_t len)
{
	if (strlen(in) >= len || strspn(in, "abcdefghijklmnopqrstuvwxyz0123456789=,._:-") != strlen(in))
		return false;
	out[0] = '\0';
	char copy[256];
	snprintf(copy, sizeof(copy), "%s", in);
	char *save = NULL;
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (!strcmp(o, "rw") || !strcmp(o, "ro"))
			continue;
		size_t l = strlen(out);
		snprintf(out + l, len - l, "%s%s", l ? "," : "", o);
	}
	return true;
}

/* The candidates from the CT's mountinfo: nvz's tmpfs mounts, whole (root
 * "/"), private (no shared:/master: tag: criu would have to keep their
 * peers), each path mounted once. */
static void candidates(pid_t pid, struct nvz_cpt_tmpfs *t)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	cleanup_fclose FILE *f = fopen(path, "re");
	char line[4096];
	while (f && fgets(line, sizeof(line), f)) {
		char root[256], mnt[256], mopts[256], tag[64], fstype[64], src[64], sopts[512];
		const char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %255s %255s %255s %63s", root, mnt, mopts, tag) != 4 ||
		    sscanf(dash + 3, "%63s %63s %511s", fstype, src, sopts) != 3 || !carried_path(mnt))
			continue;
		for (int i = 0; i < t->n; i++)
			if (!strcmp(t->m[i].mnt, mnt)) {
				/* Mounted twice: criu carries both. */
				t->m[i] = t->m[--t->n];
				goto next;
			}
		if (t->n >= NVZ_CPT_TMPFS_MAX || strcmp(fstype, "tmpfs") || strcmp(root, "/") ||
		    strcmp(tag, "-") || !super_opts(sopts, t->m[t->n].opts, sizeof(t->m[t->n].opts)))
			continue;
		snprintf(t->m[t->n].mnt, sizeof(t->m[t->n].mnt), "%.31s", mnt);
		t->m[t->n].flags = mnt_flags(mopts);
		t->m[t->n].fd = -1;
		t->n++;
	next:;
	}
}

/* In a child that entered the CT's mount namespace (open_tree clones only
 * mounts of the caller's own): one clone per candidate, sent back at once. */
static void clone_child(int sock, int rootfd, int nsfd, const struct nvz_cpt_tmpfs *t)
{
	int fds[NVZ_CPT_TMPFS_MAX];
	if (setns(nsfd, CLONE_NEWNS) < 0)
		_exit(1);
	for (int i = 0; i < t->n; i++) {
		cleanup_close int at = nvz_open_in_root(rootfd, t->m[i].mnt, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
		fds[i] = at < 0 ? -1 : open_tree(at, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (fds[i] < 0)
			_exit(1);
	}
	char c = 0;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)t->n) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)t->n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)t->n);
	_exit(sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? 1 : 0);
}

static int recv_fds(int sock, struct nvz_cpt_tmpfs *t)
{
	int fds[NVZ_RECV_FDS_MAX];
	if (nvz_recv_fds(sock, fds, (size_t)t->n) < 0)
		return -1;
	for (int i = 0; i < t->n; i++)
		t->m[i].fd = fds[i];
	return 0;
}

void nvz_cpt_tmpfs_grab(pid_t pid, struct nvz_cpt_tmpfs *t)
{
	memset(t, 0, sizeof(*t));
	/* A CT in a user namespace of its own owns its mounts: criu's way. */
	if (nvz_ns_cmp(pid, "user") != 0)
		return;
	candidates(pid, t);
	if (t->n == 0)
		return;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	cleanup_close int rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	cleanup_close int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	int sv[2];
	if (rootfd < 0 || nsfd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		t->n = 0;
		return;
	}
	pid_t child = fork();
	if (child == 0) {
		close(sv[0]);
		clone_child(sv[1], rootfd, nsfd, t);
	}
	close(sv[1]);
	int status = -1;
	int r = child < 0 ? -1 : recv_fds(sv[0], t);
	close(sv[0]);
	while (child > 0 && waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0 || status != 0) {
		nvz_cpt_tmpfs_close(t);
		t->n = 0;
	}
}

void nvz_cpt_tmpfs_close(struct nvz_cpt_tmpfs *t)
{
	for (int i = 0; i < t->n; i++)
		if (t->m[i].fd >= 0) {
			close(t->m[i].fd);
			t->m[i].fd = -1;
		}
}

int nvz_cpt_tmpfs_save_all(const struct nvz_cpt_tmpfs *t, const char *dir, char **meta,
			   struct nvz_error **err)
{
	*meta = NULL;
	size_t len = 0;
	FILE *m = open_memstream(meta, &len);
	if (!m)
		return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	cleanup_close int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = dfd < 0 ? nvz_err_sys(err, NVZ_E_CHKPNT, errno, "open %s", dir) : 0;
	for (int i = 0; r == 0 && i < t->n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "nvz-tmpfs-%d.img", i);
		int out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (out < 0)
			r = nvz_err_sys(err, NVZ_E_CHKPNT, errno, "create %s/%s", dir, name);
		else
			r = nvz_cpt_tmpfs_save(t->m[i].fd, out, err);
		fprintf(m, "%s%d|%s|%lu|%s", i ? " " : "", i, t->m[i].mnt, t->m[i].flags, t->m[i].opts);
	}
	if (fclose(m) != 0 && r == 0)
		r = nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	if (r < 0) {
		free(*meta);
		*meta = NULL;
	}
	return r;
}

/* One entry "N|/mnt|flags|opts" of the meta list: hostdir/N mounted and filled. */
static int make_one(int hostfd, const char *hostdir, const char *dumpdir, char *entry,
		    struct nvz_error **err)
{
	char *f[4] = { 0 };
	char *save = NULL;
	for (int i = 0; i < 4; i++)
		f[i] = strtok_r(i ? NULL : entry, "|", &save);
	int n = f[0] ? atoi(f[0]) : -1;
	char opts[256];
	if (!f[2] || n < 0 || n >= NVZ_CPT_TMPFS_MAX || strspn(f[0], "0123456789") != strlen(f[0]) ||
	    !super_opts(f[3] ? f[3] : "", opts, sizeof(opts)))
		return nvz_err(err, NVZ_E_RESTORE, EINVAL, "bad TMPFS entry in the dump");
	unsigned long flags = strtoul(f[2], NULL, 10) &
			      (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
			       MS_STRICTATIME);
	char path[4096];
	snprintf(path, sizeof(path), "%s/%d", hostdir, n);
	if (mkdirat(hostfd, f[0], 0700) < 0)
		return nvz_err_sys(err, NVZ_E_RESTORE, errno, "mkdir '%s'", path);
	if (mount("tmpfs", path, "tmpfs", flags & ~MS_RDONLY, opts) < 0)
		return nvz_err_sys(err, NVZ_E_RESTORE, errno, "mount tmpfs on '%s'", path);
	char img[4096];
	snprintf(img, sizeof(img), "%s/nvz-tmpfs-%d.img", dumpdir, n);
	int in = open(img, O_RDONLY | O_CLOEXEC);
	cleanup_close int dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0 || dir < 0) {
		int e = errno;
		if (in >= 0)
			close(in);
		return nvz_err_sys(err, NVZ_E_RESTORE, e, "open '%s'", in < 0 ? img : path);
	}
	if (nvz_cpt_tmpfs_load(in, dir, err) < 0)
		return nvz_err_wrap(err, "%s", img);
	if ((flags & MS_RDONLY) &&
	    mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
		return nvz_err_sys(err, NVZ_E_RESTORE, errno, "remount '%s' read-only", path);
	return 0;
}

int nvz_cpt_tmpfs_make(const char *hostdir, const char *dumpdir, const char *meta,
		       struct nvz_error **err)
{
	nvz_cpt_tmpfs_release(hostdir);
	if (mkdir(hostdir, 0700) < 0)
		return nvz_err_sys(err, NVZ_E_RESTORE, errno, "mkdir '%s'", hostdir);
	cleanup_close int hostfd = open(hostdir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	cleanup_free char *copy = strdup(meta);
	if (hostfd < 0 || !copy)
		return nvz_err_sys(err, NVZ_E_RESTORE, hostfd < 0 ? errno : ENOMEM, "open '%s'", hostdir);
	char *save = NULL;
	for (char *e = strtok_r(copy, " ", &save); e; e = strtok_r(NULL, " ", &save))
		if (make_one(hostfd, hostdir, dumpdir, e, err) < 0)
			return -1;
	return 0;
}

void nvz_cpt_tmpfs_release(const char *hostdir)
{
	for (int i = 0; i < NVZ_CPT_TMPFS_MAX; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%d", hostdir, i);
		umount2(path, MNT_DETACH);
		rmdir(path);
	}
	rmdir(hostdir);
}
