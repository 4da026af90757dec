/* Reading and atomically writing config (and state) files. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/error.h"

/* OpenVZ configs are a few KiB; anything this large is not one. */
#define CONF_FILE_MAX (1024 * 1024)
#define CONF_MODE 0644

/* Read fd to EOF into a NUL-terminated buffer, refusing more than max bytes. */
static int read_fd(int fd, const char *path, size_t max, char **out, size_t *len, int status,
		   struct nvz_error **err)
{
	if (max > SIZE_MAX / 4)
		max = SIZE_MAX / 4;
	size_t cap = max + 1 < 4096 ? max + 1 : 4096, n = 0;
	cleanup_free char *buf = malloc(cap + 1);
	if (!buf)
		return nvz_err(err, status, ENOMEM, "read %s: out of memory", path);
	for (;;) {
		if (n == cap) {
			/* Grow up to max + 1 so that one byte too many is seen. */
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *nb = realloc(buf, ncap + 1);
			if (!nb)
				return nvz_err(err, status, ENOMEM, "read %s: out of memory", path);
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return nvz_err_sys(err, status, errno, "read %s", path);
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max)
			return nvz_err(err, status, EFBIG, "%s: file larger than %zu bytes", path, max);
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	*out = steal_ptr(&buf);
	return 0;
}

int nvz_read_file(const char *path, size_t max, char **out, size_t *len, struct nvz_error **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open %s", path);
	return read_fd(fd, path, max, out, len, NVZ_E_SYSTEM, err);
}

static int conf_load(struct nvz_conf **out, const char *path, int missing_status, bool optional,
		     struct nvz_error **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT && optional) {
		*out = NULL;
		return 0;
	}
	if (fd < 0 && errno == ENOENT)
		return nvz_err(err, missing_status, ENOENT, "%s: no such file", path);
	if (fd < 0)
		return nvz_err_sys(err, missing_status, errno, "open %s", path);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	int r = read_fd(fd, path, CONF_FILE_MAX, &buf, &len, missing_status, err);
	if (r < 0)
		return r;
	struct nvz_conf *c = nvz_conf_new();
	if (!c)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "load %s: out of memory", path);
	r = nvz_conf_parse(c, buf, len, path, err);
	if (r < 0) {
		nvz_conf_free(c);
		return r;
	}
	*out = c;
	return 0;
}

int nvz_conf_load(struct nvz_conf **out, const char *path, int missing_status,
		  struct nvz_error **err)
{
	return conf_load(out, path, missing_status, false, err);
}

int nvz_conf_load_optional(struct nvz_conf **out, const char *path, int status,
			   struct nvz_error **err)
{
	return conf_load(out, path, status, true, err);
}

/* Directory part of path ("." when there is none), malloc'd. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int write_all(int fd, const char *tmp, const void *data, size_t len, int status,
		     struct nvz_error **err)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return nvz_err_sys(err, status, errno, "write %s", tmp);
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Fill the temporary file; with durable, the data is on disk when this returns 0. */
static int fill_temp(int fd, const char *tmp, const void *data, size_t len, unsigned mode,
		     bool durable, int status, struct nvz_error **err)
{
	/* mkostemp creates 0600 and the umask must not decide the final mode. */
	if (fchmod(fd, mode & 07777) < 0)
		return nvz_err_sys(err, status, errno, "chmod %s", tmp);
	int r = write_all(fd, tmp, data, len, status, err);
	if (r < 0)
		return r;
	if (durable && fsync(fd) < 0)
		return nvz_err_sys(err, status, errno, "fsync %s", tmp);
	return 0;
}

/* Make the rename itself durable. Filesystems that cannot fsync a
 * directory say EINVAL; there is nothing more to do on them. */
static int fsync_dir(const char *dir, int status, struct nvz_error **err)
{
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return nvz_err_sys(err, status, errno, "open directory %s", dir);
	if (fsync(dfd) < 0 && errno != EINVAL)
		return nvz_err_sys(err, status, errno, "fsync directory %s", dir);
	return 0;
}

/* Temp file in the same directory (rename must not cross filesystems),
 * created exclusively, written, fsynced (if durable), renamed over path.
 * Readers see the old file or the new one, never a truncated mix; the temp
 * never outlives a failure. */
static int write_atomic(const char *path, const void *data, size_t len, unsigned mode,
			bool durable, int status, struct nvz_error **err)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (!*base)
		return nvz_err(err, status, EINVAL, "%s: not a file path", path);
	cleanup_free char *dir = dir_of(path);
	cleanup_free char *tmp = NULL;
	if (!dir || asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0)
		return nvz_err(err, status, ENOMEM, "write %s: out of memory", path);
	/* mkostemp opens with O_CREAT|O_EXCL: never reuses someone's file. */
	cleanup_close int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return nvz_err_sys(err, status, errno, "create temporary file for %s", path);
	int r = fill_temp(fd, tmp, data, len, mode, durable, status, err);
	if (r == 0 && close(steal_fd(&fd)) < 0)
		r = nvz_err_sys(err, status, errno, "close %s", tmp);
	if (r == 0 && rename(tmp, path) < 0)
		r = nvz_err_sys(err, status, errno, "rename %s to %s", tmp, path);
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	return durable ? fsync_dir(dir, status, err) : 0;
}

int nvz_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode,
			  struct nvz_error **err)
{
	return write_atomic(path, data, len, mode, true, NVZ_E_SYSTEM, err);
}

/* Runtime state (RUNDIR) describes processes that a crash or reboot ends
 * anyway, so durability buys nothing there; the rename alone keeps readers
 * and a killed writer safe. The fsyncs cost 10-80 ms per start on a busy
 * disk (bench/RESULTS.md). */
int nvz_write_runtime_atomic(const char *path, const void *data, size_t len, unsigned mode,
			     struct nvz_error **err)
{
	return write_atomic(path, data, len, mode, false, NVZ_E_SYSTEM, err);
}

int nvz_conf_save(const struct nvz_conf *c, const char *path, struct nvz_error **err)
{
	cleanup_free char *text = nvz_conf_format(c);
	if (!text)
		return nvz_err(err, NVZ_E_CONFIG_SAVE, ENOMEM, "save %s: out of memory", path);
	/* As vzctl (canonicalize_file_name): a config that is a symlink (to
	 * shared storage, say) is written where it points and stays a link;
	 * the rename would replace the link by a file. */
	cleanup_free char *real = realpath(path, NULL);
	if (!real && errno != ENOENT)
		return nvz_err_sys(err, NVZ_E_CONFIG_SAVE, errno, "Unable to resolve path %s", path);
	if (real)
		path = real;
	/* Keep the mode of the file being replaced (someone may have made a
	 * config private); new files get the usual 0644 of OpenVZ configs. */
	unsigned mode = CONF_MODE;
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		mode = st.st_mode & 07777;
	return write_atomic(path, text, strlen(text), mode, true, NVZ_E_CONFIG_SAVE, err);
}
