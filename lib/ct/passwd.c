/* vzctl set --userpasswd user:password. Done from the host on the CT's own
 * /etc/passwd and /etc/shadow, resolved inside the CT root, so it works on
 * a stopped CT and never runs a CT binary with the password in its argv. */
#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ct/internal.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

static bool valid_user(const char *u, size_t len)
{
	if (len == 0 || len > 32 || !(islower((unsigned char)u[0]) || u[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!islower((unsigned char)u[i]) && !isdigit((unsigned char)u[i]) && u[i] != '_' &&
		    u[i] != '-')
			return false;
	return true;
}

/* The line of user in a colon file, or NULL. */
static const char *find_entry(const char *text, const char *user)
{
	size_t ul = strlen(user);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, user, ul) && l[ul] == ':')
			return l;
	return NULL;
}

static unsigned next_id(const char *passwd)
{
	unsigned max = 999;
	for (const char *l = passwd; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *f = strchr(l, ':');
		f = f ? strchr(f + 1, ':') : NULL;
		unsigned id = f ? (unsigned)strtoul(f + 1, NULL, 10) : 0;
		if (id > max && id < 60000)
			max = id;
	}
	return max + 1;
}

/* text with the line of user replaced (or appended) by line. */
static char *replace_line(const char *text, const char *user, const char *line)
{
	const char *at = find_entry(text, user);
	char *out = NULL;
	if (!at) {
		size_t tl = strlen(text);
		if (asprintf(&out, "%s%s%s\n", text, tl && text[tl - 1] != '\n' ? "\n" : "", line) < 0)
			return NULL;
		return out;
	}
	const char *end = strchr(at, '\n');
	if (asprintf(&out, "%.*s%s\n%s", (int)(at - text), text, line, end ? end + 1 : "") < 0)
		return NULL;
	return out;
}

static int add_user(int rootfd, const char *user, char **passwd, struct nvz_error **err)
{
	unsigned id = next_id(*passwd);
	int bash = nvz_open_in_root(rootfd, "/bin/bash", O_PATH, 0);
	if (bash >= 0)
		close(bash);
	cleanup_free char *pline = NULL, *gline = NULL, *home = NULL;
	if (asprintf(&pline, "%s:x:%u:%u::/home/%s:%s", user, id, id, user,
		     bash >= 0 ? "/bin/bash" : "/bin/sh") < 0 ||
	    asprintf(&gline, "%s:x:%u:", user, id) < 0 || asprintf(&home, "home/%s", user) < 0)
		return nvz_err(err, NVZ_E_PASSWD, ENOMEM, "out of memory");
	char *np = replace_line(*passwd, user, pline);
	cleanup_free char *group = NULL;
	nvz_read_in_root(rootfd, "/etc/group", 1 << 22, &group, NULL);
	cleanup_free char *ng = replace_line(group ? group : "", user, gline);
	if (!np || !ng)
		return nvz_err(err, NVZ_E_PASSWD, ENOMEM, "out of memory");
	free(*passwd);
	*passwd = np;
	if (nvz_write_in_root(rootfd, "/etc/group", ng, strlen(ng), 0644, err) < 0)
		return -1;
	cleanup_close int homes = nvz_open_in_root(rootfd, "/home", O_PATH | O_DIRECTORY, 0);
	if (homes >= 0 && mkdirat(homes, user, 0755) == 0 &&
	    fchownat(homes, user, id, id, AT_SYMLINK_NOFOLLOW) < 0)
		return nvz_err_sys(err, NVZ_E_PASSWD, errno, "chown /home/%s", user);
	return 0;
}

/* The user's /etc/passwd line with value as its password field. */
static int set_passwd_field(char **passwd, const char *user, const char *value,
			    struct nvz_error **err)
{
	const char *l = find_entry(*passwd, user);
	const char *rest = l ? strchr(strchr(l, ':') + 1, ':') : NULL;
	const char *end = rest ? strchr(rest, '\n') : NULL;
	cleanup_free char *line = NULL;
	if (!rest || asprintf(&line, "%s:%s%.*s", user, value,
			      (int)(end ? end - rest : (long)strlen(rest)), rest) < 0)
		return nvz_err(err, NVZ_E_PASSWD, EINVAL, "Password change failed");
	char *np = replace_line(*passwd, user, line);
	free(*passwd);
	*passwd = np;
	return np ? 0 : nvz_err(err, NVZ_E_PASSWD, ENOMEM, "out of memory");
}

static int set_hash(int rootfd, const char *user, const char *pass, char **passwd,
		    struct nvz_error **err)
{
	cleanup_free char *salt = crypt_gensalt_ra("$6$", 0, NULL, 0);
	struct crypt_data data = { 0 };
	const char *hash = salt ? crypt_r(pass, salt, &data) : NULL;
	if (!hash || hash[0] == '*')
		return nvz_err(err, NVZ_E_PASSWD, EINVAL, "Password change failed: cannot hash");
	cleanup_free char *shadow = NULL;
	if (nvz_read_in_root(rootfd, "/etc/shadow", 1 << 22, &shadow, NULL) < 0)
		/* No shadow file: the hash lives in /etc/passwd's second field. */
		return set_passwd_field(passwd, user, hash, err);
	/* With a shadow file, a passwd field other than "x" (a locked "!!",
	 * an empty one) would be used instead of the new hash. */
	if (set_passwd_field(passwd, user, "x", err) < 0)
		return -1;
	cleanup_free char *line = NULL;
	if (asprintf(&line, "%s:%s:%ld:0:99999:7:::", user, hash, (long)(time(NULL) / 86400)) < 0)
		return nvz_err(err, NVZ_E_PASSWD, ENOMEM, "out of memory");
	cleanup_free char *ns = replace_line(shadow, user, line);
	if (!ns)
		return nvz_err(err, NVZ_E_PASSWD, ENOMEM, "out of memory");
	return nvz_write_in_root(rootfd, "/etc/shadow", ns, strlen(ns), 0640, err);
}

static int userpasswd_in(int rootfd, const char *user, const char *pass, struct nvz_error **err)
{
	cleanup_free char *passwd = NULL;
	if (nvz_read_in_root(rootfd, "/etc/passwd", 1 << 22, &passwd, err) < 0)
		return -1;
	bool exists = find_entry(passwd, user) != NULL;
	if (!exists && add_user(rootfd, user, &passwd, err) < 0)
		return -1;
	if (set_hash(rootfd, user, pass, &passwd, err) < 0)
		return -1;
	return nvz_write_in_root(rootfd, "/etc/passwd", passwd, strlen(passwd), 0644, err);
}

int nvz_ct_set_userpasswd(struct nvz_ct *ct, const char *userpass, struct nvz_error **err)
{
	const char *colon = strchr(userpass, ':');
	if (!colon || !valid_user(userpass, (size_t)(colon - userpass)) || !colon[1] ||
	    strpbrk(colon + 1, "\n\r"))
		/* vzctl left this to its set_userpass script, which refused
		 * it: "Password change failed" (74). */
		return nvz_err(err, NVZ_E_PASSWD, EINVAL,
			       "Password change failed: expected user:password");
	cleanup_free char *user = strndup(userpass, (size_t)(colon - userpass));
	if (!user)
		return nvz_err(err, NVZ_E_PASSWD, ENOMEM, "out of memory");
	bool mounted_here = !nvz_is_mountpoint(ct->root);
	if (mounted_here && nvz_ct_mount(ct, false, err) < 0)
		return -1;
	int rootfd = open(ct->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = rootfd < 0 ? nvz_err_sys(err, NVZ_E_PASSWD, errno, "open %s", ct->root)
			   : userpasswd_in(rootfd, user, colon + 1, err);
	if (rootfd >= 0)
		close(rootfd);
	if (mounted_here)
		nvz_ct_umount(ct, NULL);
	if (r < 0) {
		(*err)->status = NVZ_E_PASSWD;
		return nvz_err_wrap(err, "Password change failed");
	}
	return 0;
}
