/* Unpacking an OS template archive in-process with libarchive. We read with
 * libarchive but write every entry ourselves (unpack-entry.c) relative to
 * the root fd: archive_write_disk resolves paths against the process's
 * cwd and root, which is exactly what a hostile template attacks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/template.h"
#include "template/unpack.h"

int nvz_archive_path_check(const char *name, char **out, struct nvz_error **err)
{
	*out = NULL;
	if (!name || !*name)
		return nvz_err(err, NVZ_E_BAD_TEMPLATE, EINVAL, "template entry with an empty name");
	size_t len = strlen(name);
	if (len >= PATH_MAX)
		return nvz_err(err, NVZ_E_BAD_TEMPLATE, ENAMETOOLONG,
			       "template entry '%.64s...' has a name too long", name);
	cleanup_free char *buf = malloc(len + 2);
	if (!buf)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	size_t n = 0;
	/* GNU tar strips leading '/': the name is resolved inside the root
	 * anyway, so "/etc/x" is just "etc/x". ".." is never legitimate. */
	for (const char *p = name; *p;) {
		while (*p == '/')
			p++;
		const char *comp = p;
		while (*p && *p != '/')
			p++;
		size_t clen = (size_t)(p - comp);
		if (clen == 0 || (clen == 1 && comp[0] == '.'))
			continue;
		if (clen == 2 && comp[0] == '.' && comp[1] == '.')
			return nvz_err(err, NVZ_E_BAD_TEMPLATE, EPERM,
				       "template entry '%s' escapes the container root", name);
		if (clen > NAME_MAX)
			return nvz_err(err, NVZ_E_BAD_TEMPLATE, ENAMETOOLONG,
				       "template entry '%s' has a component too long", name);
		if (n)
			buf[n++] = '/';
		memcpy(buf + n, comp, clen);
		n += clen;
	}
	if (n == 0)
		buf[n++] = '.'; /* "./" or "/": the root itself */
	buf[n] = '\0';
	*out = steal_ptr(&buf);
	return 0;
}

int nvz_unpack_add_dir(struct nvz_unpack *u, const char *path, struct archive_entry *e,
		       struct nvz_error **err)
{
	if (u->ndirs == u->dirs_cap) {
		size_t cap = u->dirs_cap ? u->dirs_cap * 2 : 256;
		struct nvz_dir_fixup *d = reallocarray(u->dirs, cap, sizeof(*d));
		if (!d)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		u->dirs = d;
		u->dirs_cap = cap;
	}
	char *copy = strdup(path);
	if (!copy)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	struct timespec mtime = { 0, UTIME_OMIT };
	if (archive_entry_mtime_is_set(e))
		mtime = (struct timespec){ archive_entry_mtime(e), archive_entry_mtime_nsec(e) };
	u->dirs[u->ndirs++] = (struct nvz_dir_fixup){
		.path = copy,
		.mode = archive_entry_perm(e) & 07777,
		.mtime = mtime,
	};
	return 0;
}

/* Deepest-last-created first, so a 0500 parent is set after its children.
 * A directory replaced by a later entry is simply skipped (O_NOFOLLOW). */
static int apply_dir_fixups(struct nvz_unpack *u, struct nvz_error **err)
{
	for (size_t i = u->ndirs; i-- > 0;) {
		const struct nvz_dir_fixup *d = &u->dirs[i];
		cleanup_close int fd =
			nvz_open_in_root(u->rootfd, d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
		if (fd < 0) {
			if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
				continue;
			return nvz_err_sys(err, nvz_unpack_status(errno), errno,
					   "template entry '%s': open directory", d->path);
		}
		struct timespec ts[2] = { { 0, UTIME_NOW }, d->mtime };
		if (fchmod(fd, d->mode) < 0 || futimens(fd, ts) < 0)
			return nvz_err_sys(err, nvz_unpack_status(errno), errno,
					   "template entry '%s': set directory mode", d->path);
	}
	return 0;
}

static int archive_fail(struct archive *a, const char *archive, struct nvz_error **err)
{
	int code = archive_errno(a) > 0 ? archive_errno(a) : EIO;
	const char *msg = archive_error_string(a);
	return nvz_err(err, NVZ_E_BAD_TEMPLATE, code, "read template %s: %s", archive,
		       msg ? msg : "unknown error");
}

static int unpack_entries(struct nvz_unpack *u, struct archive *a, int fd, const char *archive,
			  struct nvz_error **err)
{
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a); /* ustar, pax and GNU tar */
	if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK)
		return archive_fail(a, archive, err);
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		/* ARCHIVE_WARN: e.g. an unknown pax keyword; the entry is usable. */
		if (r < ARCHIVE_WARN)
			return archive_fail(a, archive, err);
		const char *name = archive_entry_pathname(e);
		if (!name)
			name = archive_entry_pathname_utf8(e);
		cleanup_free char *path = NULL;
		if (nvz_archive_path_check(name, &path, err) < 0 ||
		    nvz_unpack_entry(u, a, e, path, err) < 0)
			return -1;
		u->stats->entries++;
	}
	if (u->stats->entries == 0)
		return nvz_err(err, NVZ_E_BAD_TEMPLATE, ENODATA, "template %s has no entries",
			       archive);
	return apply_dir_fixups(u, err);
}

/* libarchive converts pax (UTF-8) names to the current locale's charset; in
 * the "C" locale non-ASCII names would come out as '?'. A UTF-8 locale for
 * this thread only keeps the bytes as they are. */
static int unpack_in_utf8(struct nvz_unpack *u, int fd, const char *archive,
			  struct nvz_error **err)
{
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t old = utf8 ? uselocale(utf8) : (locale_t)0;
	struct archive *a = archive_read_new();
	int r = a ? unpack_entries(u, a, fd, archive, err)
		  : nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (a)
		archive_read_free(a);
	if (utf8) {
		uselocale(old);
		freelocale(utf8);
	}
	return r;
}

int nvz_template_unpack(int rootfd, const char *archive, struct nvz_unpack_stats *stats,
			struct nvz_error **err)
{
	struct nvz_unpack_stats local;
	struct nvz_unpack u = {
		.rootfd = rootfd,
		.chown = geteuid() == 0,
		.stats = stats ? stats : &local,
	};
	*u.stats = (struct nvz_unpack_stats){ 0 };
	struct stat st;
	if (fstat(rootfd, &st) < 0 || !S_ISDIR(st.st_mode))
		return nvz_err(err, NVZ_E_CANT_CREATE_PRIVATE, ENOTDIR,
			       "unpack %s: target is not a directory", archive);
	cleanup_close int fd = open(archive, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return nvz_err_sys(err,
				   errno == ENOENT ? NVZ_E_OSTEMPLATE_NOT_FOUND
						   : NVZ_E_BAD_TEMPLATE,
				   errno, "open template %s", archive);
	int r = unpack_in_utf8(&u, fd, archive, err);
	for (size_t i = 0; i < u.ndirs; i++)
		free(u.dirs[i].path);
	free(u.dirs);
	return r;
}
