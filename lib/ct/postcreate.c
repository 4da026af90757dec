/* OpenVZ's postcreate.sh, in-process, on a new CT's tree: what vzctl did
 * after "Performing postcreate actions". Every path is resolved inside the
 * tree (a template may hold links pointing out of it). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ct/postcreate.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

#define FILE_MAX (1 << 20)

static unsigned random_below(unsigned n)
{
	unsigned r = 0;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (unsigned)getpid() ^ (unsigned)(uintptr_t)&r;
	return r % n;
}

static bool all_digits(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* grep -w: needle somewhere in text with no word character next to it. */
static bool has_whole_word(const char *text, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = text; (p = strstr(p, needle)); p++) {
		bool before = p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
		bool after = isalnum((unsigned char)p[n]) || p[n] == '_';
		if (!before && !after)
			return true;
	}
	return false;
}

/* The new text of field i (0 minute, 1 hour, 2 day of month) or NULL to
 * keep it. Hours stay in 0-5 (the night, as OpenVZ's script) and days in
 * 1-28, so that a monthly job still runs every month. */
static bool shuffled_field(int i, const char *f, size_t n, char *out, size_t size)
{
	if (all_digits(f, n)) {
		unsigned v = i == 0 ? random_below(60) : i == 1 ? random_below(6) : 1 + random_below(28);
		snprintf(out, size, "%u", v);
		return true;
	}
	/* "-*\/N" (every N minutes, not logged): the period is made random too. */
	if (i == 0 && n > 3 && !strncmp(f, "-*/", 3) && all_digits(f + 3, n - 3)) {
		snprintf(out, size, "-*/%u", 15 + random_below(40));
		return true;
	}
	return false;
}

char *nvz_cron_line_shuffle(const char *line, size_t len)
{
	const char *start[3], *end = line + len, *p = line;
	size_t flen[3];
	int fields = 0;
	while (p < end) {
		while (p < end && blank(*p))
			p++;
		if (p == end)
			break;
		if (fields == 0 && *p == '#')
			return NULL;
		const char *f = p;
		while (p < end && !blank(*p))
			p++;
		if (fields < 3) {
			start[fields] = f;
			flen[fields] = (size_t)(p - f);
		}
		fields++;
	}
	/* minute hour day month weekday user command: a system crontab's job. */
	if (fields < 7)
		return NULL;
	char repl[3][16];
	bool any = false, changed[3];
	for (int i = 0; i < 3; i++)
		any |= changed[i] = shuffled_field(i, start[i], flen[i], repl[i], sizeof(repl[i]));
	if (!any)
		return NULL;
	char *out = malloc(len + 3 * sizeof(repl[0]) + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	const char *copied = line;
	for (int i = 0; i < 3; i++) {
		memcpy(out + o, copied, (size_t)(start[i] - copied));
		o += (size_t)(start[i] - copied);
		const char *text = changed[i] ? repl[i] : start[i];
		size_t n = changed[i] ? strlen(repl[i]) : flen[i];
		memcpy(out + o, text, n);
		o += n;
		copied = start[i] + flen[i];
	}
	memcpy(out + o, copied, (size_t)(end - copied));
	o += (size_t)(end - copied);
	out[o] = '\0';
	return out;
}

/* A file of the tree, or NULL if there is none (or it is not a regular
 * file: a template's odd entry is left alone, as the script's -f test). */
static char *read_tree_file(int rootfd, const char *path)
{
	/* Not through a link: it is replaced by a file when written. */
	const char *slash = strrchr(path, '/');
	cleanup_free char *parent = strndup(path, (size_t)(slash - path));
	cleanup_close int dirfd = parent ? nvz_open_in_root(rootfd, parent, O_PATH | O_DIRECTORY, 0) : -1;
	struct stat st;
	if (dirfd < 0 || fstatat(dirfd, slash + 1, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	char *text = NULL;
	return nvz_read_in_root(rootfd, path, FILE_MAX, &text, NULL) < 0 ? NULL : text;
}

static int shuffle_crontab(int rootfd, const char *path, bool apply, struct nvz_error **err)
{
	cleanup_free char *text = read_tree_file(rootfd, path);
	if (!text || has_whole_word(text, "VZCTL_POSTCREATE_SKIP"))
		return 0;
	size_t len = strlen(text);
	cleanup_free char *out = malloc(len + len / 2 + 64);
	if (!out)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	size_t o = 0, cap = len + len / 2 + 64;
	bool changed = false;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		cleanup_free char *shuffled = nvz_cron_line_shuffle(line, n);
		const char *src = shuffled ? shuffled : line;
		size_t sn = shuffled ? strlen(shuffled) : n;
		if (o + sn + 2 > cap) {
			cap = 2 * cap + sn;
			char *bigger = realloc(out, cap);
			if (!bigger)
				return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
			out = bigger;
		}
		memcpy(out + o, src, sn);
		o += sn;
		if (nl)
			out[o++] = '\n';
		changed |= shuffled != NULL;
		line += n + (nl != NULL);
	}
	if (!changed)
		return 0;
	if (apply && nvz_write_in_root(rootfd, path, out, o, 0644, err) < 0)
		return -1;
	return 1;
}

static int shuffle_cron(int rootfd, bool apply, struct nvz_error **err)
{
	int r = shuffle_crontab(rootfd, "etc/crontab", apply, err);
	if (r < 0)
		return -1;
	int dirfd = nvz_open_in_root(rootfd, "etc/cron.d", O_RDONLY | O_DIRECTORY, 0);
	cleanup_dir DIR *dir = dirfd < 0 ? NULL : fdopendir(dirfd);
	if (!dir) {
		if (dirfd >= 0)
			close(dirfd);
		return r;
	}
	for (struct dirent *e; (e = readdir(dir));) {
		if (e->d_name[0] == '.')
			continue;
		char path[sizeof("etc/cron.d/") + sizeof(e->d_name)];
		snprintf(path, sizeof(path), "etc/cron.d/%s", e->d_name);
		int one = shuffle_crontab(rootfd, path, apply, err);
		if (one < 0)
			return -1;
		r |= one;
	}
	return r;
}

/* "root::" (no password at all) becomes locked: OpenVZ's script did it in
 * /etc/passwd; an empty one in /etc/shadow lets a login in just the same. */
static int lock_empty_root(int rootfd, const char *path, const char *lock, bool apply,
			   struct nvz_error **err)
{
	cleanup_free char *text = read_tree_file(rootfd, path);
	if (!text)
		return 0;
	char *at = !strncmp(text, "root::", 6) ? text : strstr(text, "\nroot::");
	if (!at)
		return 0;
	if (*at == '\n')
		at++;
	if (!apply)
		return 1;
	size_t head = (size_t)(at - text) + 5, len = strlen(text);
	cleanup_free char *out = malloc(len + strlen(lock) + 1);
	if (!out)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	int n = snprintf(out, len + strlen(lock) + 1, "%.*s%s%s", (int)head, text, lock, text + head);
	return nvz_write_in_root(rootfd, path, out, (size_t)n, 0644, err) < 0 ? -1 : 1;
}

/* /etc/hosts with the localhost lines it lacks; an empty resolv.conf where
 * there is none (some distributions' network scripts complain). */
static int seed_network_files(int rootfd, bool apply, struct nvz_error **err)
{
	cleanup_close int etc = nvz_open_in_root(rootfd, "etc", O_PATH | O_DIRECTORY, 0);
	if (etc < 0)
		return 0;
	int r = 0;
	struct stat st;
	bool no_hosts = fstatat(etc, "hosts", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
	cleanup_free char *hosts = no_hosts ? strdup("") : read_tree_file(rootfd, "etc/hosts");
	if (hosts) {
		bool v4 = !has_whole_word(hosts, "127.0.0.1"), v6 = !has_whole_word(hosts, "::1");
		if (v4 || v6) {
			size_t len = strlen(hosts);
			cleanup_free char *out = NULL;
			int n = asprintf(&out, "%s%s%s%s", hosts, len && hosts[len - 1] != '\n' ? "\n" : "",
					 v4 ? "127.0.0.1 localhost.localdomain localhost\n" : "",
					 v6 ? "::1 localhost.localdomain localhost\n" : "");
			if (n < 0)
				return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
			if (apply && nvz_write_in_root(rootfd, "etc/hosts", out, (size_t)n, 0644, err) < 0)
				return -1;
			r = 1;
		}
	}
	/* Anything there, a dangling link included, is the distribution's. */
	if (fstatat(etc, "resolv.conf", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
		if (apply && nvz_write_in_root(rootfd, "etc/resolv.conf", "", 0, 0644, err) < 0)
			return -1;
		r = 1;
	}
	return r;
}

int nvz_ct_postcreate(int rootfd, bool apply, struct nvz_error **err)
{
	int cron = shuffle_cron(rootfd, apply, err);
	if (cron < 0)
		return -1;
	int passwd = lock_empty_root(rootfd, "etc/passwd", "!!", apply, err);
	if (passwd < 0)
		return -1;
	int shadow = lock_empty_root(rootfd, "etc/shadow", "!", apply, err);
	if (shadow < 0)
		return -1;
	int net = seed_network_files(rootfd, apply, err);
	if (net < 0)
		return -1;
	return cron | passwd | shadow | net;
}
