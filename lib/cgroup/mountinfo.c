/* /proc/self/mountinfo -> the cgroup hierarchies of this host, and the choice
 * of cgroup version. Parsers take buffers (STYLE rule 4). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/backend.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

/* v1 super options that are no controllers: dropped, or kept as flags of
 * the hierarchy (a mount inside that omits them makes the kernel warn). */
static const char *const v1_dropped[] = { "rw", "ro", "none", "all", NULL };
static const char *const v1_flags[] = {
	"noprefix", "clone_children", "cpuset_v2_mode", "xattr", "favordynmods", "nofavordynmods", NULL,
};

bool nvz_cg_strv_has(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

static void mount_clear(struct nvz_cg_mount *m)
{
	free(m->mnt);
	free(m->root);
	free(m->name);
	nvz_strv_free(m->ctrls);
	nvz_strv_free(m->flags);
	memset(m, 0, sizeof(*m));
}

void nvz_cg_mounts_free(struct nvz_cg_mounts *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		mount_clear(&m->v[i]);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

/* "rw,cpu,cpuacct" or "rw,xattr,name=systemd" -> controllers and name. */
static int parse_super(struct nvz_cg_mount *m, char *opts)
{
	size_t n = 0, nf = 0;
	if (!(m->ctrls = calloc(1, sizeof(char *))) || !(m->flags = calloc(1, sizeof(char *))))
		return -ENOMEM;
	if (m->v2)
		return 0;
	for (char *o; (o = strsep(&opts, ","));) {
		/* release_agent is a host path; a cgroup namespace may not set it. */
		if (!*o || nvz_cg_strv_has((char *const *)v1_dropped, o) ||
		    strncmp(o, "release_agent=", 14) == 0)
			continue;
		if (nvz_cg_strv_has((char *const *)v1_flags, o)) {
			if (strv_push(&m->flags, &nf, o) < 0)
				return -ENOMEM;
		} else if (strncmp(o, "name=", 5) == 0) {
			free(m->name);
			if (!(m->name = strdup(o + 5)))
				return -ENOMEM;
		} else if (strv_push(&m->ctrls, &n, o) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

/* One line: "id parent maj:min root mnt opts [optional...] - fstype src super".
 * Returns 1 if it is a cgroup mount (filled in *m), 0 if not, < 0 if malformed. */
static int parse_line(char *line, struct nvz_cg_mount *m)
{
	char *f[6];
	for (int i = 0; i < 6; i++)
		if (!(f[i] = strsep(&line, " ")) || !*f[i])
			return -EINVAL;
	char *tok;
	while ((tok = strsep(&line, " ")) && strcmp(tok, "-") != 0)
		;
	char *fstype = strsep(&line, " ");
	char *src = strsep(&line, " ");
	char *super = strsep(&line, " ");
	if (!tok || !fstype || !src || !super)
		return -EINVAL;
	if (strcmp(fstype, "cgroup") != 0 && strcmp(fstype, "cgroup2") != 0)
		return 0;
	char tail;
	if (sscanf(f[2], "%u:%u%c", &m->dev_major, &m->dev_minor, &tail) != 2)
		return -EINVAL;
	m->v2 = strcmp(fstype, "cgroup2") == 0;
	nvz_mountinfo_unescape(f[3]);
	nvz_mountinfo_unescape(f[4]);
	if (!(m->root = strdup(f[3])) || !(m->mnt = strdup(f[4])))
		return -ENOMEM;
	return parse_super(m, super) < 0 ? -ENOMEM : 1;
}

/* Keep one mount per superblock: the first, unless a later one shows the
 * whole hierarchy and the kept one only a subtree. Takes ownership of *m. */
static int add_mount(struct nvz_cg_mounts *out, struct nvz_cg_mount *m)
{
	for (size_t i = 0; i < out->n; i++) {
		struct nvz_cg_mount *o = &out->v[i];
		if (o->dev_major != m->dev_major || o->dev_minor != m->dev_minor)
			continue;
		if (strcmp(o->root, "/") != 0 && strcmp(m->root, "/") == 0) {
			mount_clear(o);
			*o = *m;
		} else {
			mount_clear(m);
		}
		memset(m, 0, sizeof(*m));
		return 0;
	}
	struct nvz_cg_mount *nv = realloc(out->v, (out->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	out->v = nv;
	out->v[out->n++] = *m;
	memset(m, 0, sizeof(*m));
	return 0;
}

static int parse_all(const char *buf, size_t len, struct nvz_cg_mounts *out,
		     struct nvz_error **err)
{
	size_t lineno = 0;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		cleanup_free char *line = strndup(buf + pos, n);
		pos += n + 1;
		lineno++;
		if (!line)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "parse mountinfo: out of memory");
		if (!*line)
			continue;
		struct nvz_cg_mount m = { 0 };
		int r = parse_line(line, &m);
		if (r > 0)
			r = add_mount(out, &m);
		mount_clear(&m);
		if (r == -ENOMEM)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "parse mountinfo: out of memory");
		if (r < 0)
			return nvz_err(err, NVZ_E_SYSTEM, EINVAL, "parse mountinfo: malformed line %zu",
				       lineno);
	}
	return 0;
}

int nvz_cg_mountinfo_parse(const char *buf, size_t len, struct nvz_cg_mounts *out,
			   struct nvz_error **err)
{
	out->v = NULL;
	out->n = 0;
	int r = parse_all(buf, len, out, err);
	if (r < 0)
		nvz_cg_mounts_free(out);
	return r;
}

static int parse_override(const char *s, enum nvz_cgroup_version *v, struct nvz_error **err)
{
	if (strcmp(s, "1") == 0)
		*v = NVZ_CGROUP_V1;
	else if (strcmp(s, "2") == 0)
		*v = NVZ_CGROUP_V2;
	else
		return nvz_err(err, NVZ_E_SYSTEM, EINVAL,
			       "NVZ_CGROUP_VERSION is '%s', expected 1 or 2", s);
	return 0;
}

int nvz_cg_detect(const struct nvz_cg_mounts *m, const char *override,
		  enum nvz_cgroup_version *out, struct nvz_error **err)
{
	bool v1_ctrls = false, v1_any = false, v2 = false;
	for (size_t i = 0; i < m->n; i++) {
		const struct nvz_cg_mount *c = &m->v[i];
		if (c->v2) {
			v2 = true;
			continue;
		}
		v1_any = v1_any || c->ctrls[0];
		/* A v1 name=systemd next to a full cgroup2 (systemd's compat mode) is no v1 host. */
		if (nvz_cg_strv_has(c->ctrls, "memory") || nvz_cg_strv_has(c->ctrls, "pids") ||
		    nvz_cg_strv_has(c->ctrls, "cpu"))
			v1_ctrls = true;
	}
	if (override && *override) {
		if (parse_override(override, out, err) < 0)
			return -EINVAL;
		if (*out == NVZ_CGROUP_V1 && !v1_any)
			return nvz_err(err, NVZ_E_SYSTEM, ENOENT,
				       "NVZ_CGROUP_VERSION=1 but no cgroup v1 controller is mounted");
		if (*out == NVZ_CGROUP_V2 && !v2)
			return nvz_err(err, NVZ_E_SYSTEM, ENOENT,
				       "NVZ_CGROUP_VERSION=2 but no cgroup2 filesystem is mounted");
		return 0;
	}
	if (v1_ctrls)
		*out = NVZ_CGROUP_V1;
	else if (v2)
		*out = NVZ_CGROUP_V2;
	else
		return nvz_err(err, NVZ_E_SYSTEM, ENOENT,
			       "no cgroup hierarchy with memory, pids or cpu and no cgroup2 is mounted");
	return 0;
}
