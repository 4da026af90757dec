/* The container registry: IDs, names, config files and paths. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/keys.h"
#include "nvz/cleanup.h"
#include "nvz/ct.h"
#include "nvz/fs.h"
#include "nvz/net.h"

int nvz_ct_parse_id(const char *s, unsigned long *veid, struct nvz_error **err)
{
	if (!s || !*s || strlen(s) > 10)
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "Bad CT ID %s", s ? s : "");
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return nvz_err(err, NVZ_E_VALUE, EINVAL, "Bad CT ID %s", s);
	unsigned long v = strtoul(s, NULL, 10);
	if (v > NVZ_VEID_MAX)
		return nvz_err(err, NVZ_E_VALUE, ERANGE, "Bad CT ID %s", s);
	*veid = v;
	return 0;
}

static bool looks_numeric(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int nvz_ct_resolve(struct nvz_ctx *ctx, const char *arg, unsigned long *veid,
		   struct nvz_error **err)
{
	if (looks_numeric(arg))
		return nvz_ct_parse_id(arg, veid, err);
	/* A name: refuse anything that could walk out of names/. */
	if (!*arg || strchr(arg, '/') || !strcmp(arg, ".") || !strcmp(arg, "..") ||
	    strlen(arg) > 255 || strpbrk(arg, "\n\r"))
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "Bad CT ID %s", arg);
	cleanup_free char *link = NULL;
	if (asprintf(&link, "%s/%s", ctx->names_dir, arg) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	char target[PATH_MAX];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return nvz_err(err, NVZ_E_VALUE, ENOENT, "Unable to find container by name %s", arg);
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	char idbuf[16];
	size_t len = strcspn(base, ".");
	if (len == 0 || len >= sizeof(idbuf) || strcmp(base + len, ".conf"))
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "Unable to find container by name %s", arg);
	memcpy(idbuf, base, len);
	idbuf[len] = '\0';
	if (nvz_ct_parse_id(idbuf, veid, err) < 0) {
		nvz_error_clear(err);
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "Unable to find container by name %s", arg);
	}
	return 0;
}

/* Replace $VEID and ${VEID} (vz.conf's VE_ROOT/VE_PRIVATE templates).
 * Trailing slashes go, as vzctl dropped them: "<private>.tmp" must be a
 * sibling of the area, not a directory inside it. */
static char *subst_veid(const char *tmpl, const char *id)
{
	char *out = NULL;
	size_t len = 0, n = strlen(tmpl);
	while (n > 1 && tmpl[n - 1] == '/')
		n--;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	for (const char *p = tmpl; p < tmpl + n;) {
		size_t skip = !strncmp(p, "${VEID}", 7) ? 7 : !strncmp(p, "$VEID", 5) ? 5 : 0;
		if (skip) {
			fputs(id, f);
			p += skip;
		} else {
			fputc(*p++, f);
		}
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static bool has_dotdot(const char *path)
{
	for (const char *p = strstr(path, ".."); p; p = strstr(p + 1, ".."))
		if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return true;
	return false;
}

int nvz_ct_refresh_paths(struct nvz_ct *ct, struct nvz_error **err)
{
	const char *root = nvz_ct_get(ct, "VE_ROOT", NULL);
	const char *priv = nvz_ct_get(ct, "VE_PRIVATE", NULL);
	if (!root)
		return nvz_err(err, NVZ_E_VE_ROOT_NOTSET, EINVAL, "VE_ROOT is not set");
	if (!priv)
		return nvz_err(err, NVZ_E_VE_PRIVATE_NOTSET, EINVAL, "VE_PRIVATE is not set");
	free(ct->root);
	free(ct->private);
	ct->root = subst_veid(root, ct->id);
	ct->private = subst_veid(priv, ct->id);
	if (!ct->root || !ct->private)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (ct->root[0] != '/' || ct->private[0] != '/' || has_dotdot(ct->root) ||
	    has_dotdot(ct->private))
		return nvz_err(err, NVZ_E_INVALID_CONFIG, EINVAL,
			       "VE_ROOT and VE_PRIVATE must be absolute paths");
	return 0;
}

/* A key of vz.conf only (the server's paths, cgroup prefix, log...): a
 * CT's config cannot move that CT's lock, state or cgroup away from where
 * every other command looks. */
static bool server_only(const char *key)
{
	unsigned f = nvz_conf_key_flags(key);
	return (f & NVZ_KEY_GLOBAL) && !(f & NVZ_KEY_CT);
}

int nvz_ct_open(struct nvz_ctx *ctx, unsigned long veid, struct nvz_ct **out,
		struct nvz_error **err)
{
	struct nvz_ct *ct = calloc(1, sizeof(*ct));
	if (!ct)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	ct->ctx = ctx;
	ct->veid = veid;
	ct->lockfd = -1;
	ct->lazy_ready_fd = -1;
	snprintf(ct->id, sizeof(ct->id), "%lu", veid);
	ctx->log_tag = ct->id;
	const char *rundir = nvz_ctx_get(ctx, "RUNDIR", "/run/nvz");
	if (asprintf(&ct->conf_path, "%s/%s.conf", ctx->ct_conf_dir, ct->id) < 0 ||
	    asprintf(&ct->rundir, "%s/%s", rundir, ct->id) < 0) {
		nvz_ct_free(ct);
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	}
	struct nvz_error *lerr = NULL;
	if (nvz_conf_load(&ct->conf, ct->conf_path, NVZ_E_NOVECONFIG, &lerr) == 0) {
		ct->conf_exists = true;
		for (const char *const *w = nvz_conf_warnings(ct->conf); w && *w; w++)
			nvz_log(ctx, NVZ_LOG_WARN, "Warning: %s", *w);
		const char *key, *value;
		for (size_t i = 0; nvz_conf_entry(ct->conf, i, &key, &value); i++)
			if (server_only(key) && *value)
				nvz_log(ctx, NVZ_LOG_WARN,
					"Warning: %s is a setting of the server (vz.conf), ignored in %s",
					key, ct->conf_path);
	} else if (lerr->code == ENOENT) {
		nvz_error_free(lerr);
		ct->conf = nvz_conf_new();
	} else {
		*err = lerr;
		nvz_ct_free(ct);
		return -1;
	}
	if (!ct->conf || nvz_ct_refresh_paths(ct, err) < 0) {
		nvz_ct_free(ct);
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	}
	*out = ct;
	return 0;
}

void nvz_ct_free(struct nvz_ct *ct)
{
	if (!ct)
		return;
	if (ct->ctx && ct->ctx->log_tag == ct->id)
		ct->ctx->log_tag = NULL;
	nvz_ct_unlock(ct);
	nvz_conf_free(ct->conf);
	free(ct->conf_path);
	free(ct->root);
	free(ct->private);
	free(ct->rundir);
	free(ct);
}

const char *nvz_ct_get(const struct nvz_ct *ct, const char *key, const char *def)
{
	const char *v = ct->conf && !server_only(key) ? nvz_conf_get(ct->conf, key) : NULL;
	if (v && *v)
		return v;
	return nvz_ctx_get(ct->ctx, key, def);
}

int nvz_ct_lock(struct nvz_ct *ct, struct nvz_error **err)
{
	if (ct->ctx->skiplock || ct->lockfd >= 0)
		return 0;
	const char *lockdir = nvz_ctx_get(ct->ctx, "LOCKDIR", NULL);
	if (!lockdir)
		return nvz_err(err, NVZ_E_LOCKDIR_NOTSET, EINVAL, "LOCKDIR is not set");
	return nvz_lock(lockdir, ct->id, false, &ct->lockfd, err);
}

void nvz_ct_unlock(struct nvz_ct *ct)
{
	if (ct->lockfd >= 0)
		close(ct->lockfd);
	ct->lockfd = -1;
}

/* A save killed between its temp file and the rename leaves ".<id>.conf.XXXXXX";
 * under the CT lock nobody else writes this config, so sweep them. */
static void sweep_temp_files(const struct nvz_ct *ct)
{
	cleanup_dir DIR *d = opendir(ct->ctx->ct_conf_dir);
	if (!d)
		return;
	char prefix[40];
	int n = snprintf(prefix, sizeof(prefix), ".%s.conf.", ct->id);
	struct dirent *de;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, (size_t)n) && strlen(de->d_name) == (size_t)n + 6)
			unlinkat(dirfd(d), de->d_name, 0);
}

int nvz_ct_save(struct nvz_ct *ct, struct nvz_error **err)
{
	if (nvz_mkdir_p(ct->ctx->ct_conf_dir, 0755, err) < 0)
		return -1;
	if (ct->lockfd >= 0)
		sweep_temp_files(ct);
	if (nvz_conf_save(ct->conf, ct->conf_path, err) < 0) {
		(*err)->status = NVZ_E_CONFIG_SAVE;
		return nvz_err_wrap(err, "save %s", ct->conf_path);
	}
	ct->conf_exists = true;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "CT configuration saved to %s", ct->conf_path);
	return 0;
}

static int cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
	return x < y ? -1 : x > y;
}

int nvz_ct_list_ids(struct nvz_ctx *ctx, unsigned long **ids, size_t *n, struct nvz_error **err)
{
	*ids = NULL;
	*n = 0;
	cleanup_dir DIR *d = opendir(ctx->ct_conf_dir);
	if (!d)
		return errno == ENOENT ? 0
				       : nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open %s", ctx->ct_conf_dir);
	cleanup_free unsigned long *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".conf"))
			continue;
		char idbuf[16];
		if (len - 5 >= sizeof(idbuf))
			continue;
		memcpy(idbuf, de->d_name, len - 5);
		idbuf[len - 5] = '\0';
		unsigned long id;
		if (!looks_numeric(idbuf) || nvz_ct_parse_id(idbuf, &id, NULL) < 0 || id == 0)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 32;
			unsigned long *nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
			v = nv;
		}
		v[cnt++] = id;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_ul);
	*ids = steal_ptr(&v);
	*n = cnt;
	return 0;
}

int nvz_ct_remove_name(struct nvz_ct *ct, struct nvz_error **err)
{
	const char *old = nvz_conf_get(ct->conf, "NAME");
	if (!old || !*old || strchr(old, '/'))
		return 0;
	unsigned long owner;
	if (nvz_ct_resolve(ct->ctx, old, &owner, NULL) < 0 || owner != ct->veid)
		return 0;
	cleanup_free char *link = NULL;
	if (asprintf(&link, "%s/%s", ct->ctx->names_dir, old) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (unlink(link) < 0 && errno != ENOENT)
		return nvz_err_sys(err, NVZ_E_NAME, errno, "remove name link %s", link);
	return 0;
}

int nvz_ct_set_name(struct nvz_ct *ct, const char *name, struct nvz_error **err)
{
	if (nvz_conf_validate("NAME", name, err) < 0)
		return -1;
	/* An empty name takes the CT's name away: its link, and NAME="". */
	if (!*name)
		return nvz_ct_remove_name(ct, err) < 0 ? -1 : nvz_conf_set(ct->conf, "NAME", "", err);
	unsigned long owner;
	struct nvz_error *e = NULL;
	if (nvz_ct_resolve(ct->ctx, name, &owner, &e) == 0 && owner != ct->veid) {
		/* A dangling link from a destroyed CT does not count as a clash. */
		cleanup_free char *conf = NULL;
		if (asprintf(&conf, "%s/%lu.conf", ct->ctx->ct_conf_dir, owner) >= 0 &&
		    nvz_path_exists(conf))
			return nvz_err(err, NVZ_E_NAME, EEXIST,
				       "Conflict: name %s already used by container %lu", name, owner);
	}
	nvz_error_free(e);
	if (nvz_mkdir_p(ct->ctx->names_dir, 0755, err) < 0 || nvz_ct_remove_name(ct, err) < 0)
		return -1;
	cleanup_free char *link = NULL, *tmp = NULL;
	if (asprintf(&link, "%s/%s", ct->ctx->names_dir, name) < 0 ||
	    asprintf(&tmp, "%s/.%s.tmp%d", ct->ctx->names_dir, name, (int)getpid()) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	unlink(tmp);
	/* symlink + rename: the name points at the old or the new CT, never at nothing. */
	if (symlink(ct->conf_path, tmp) < 0 || rename(tmp, link) < 0) {
		int e2 = errno;
		unlink(tmp);
		return nvz_err_sys(err, NVZ_E_NAME, e2, "create name link %s", link);
	}
	return nvz_conf_set(ct->conf, "NAME", name, err);
}

unsigned long nvz_ct_ip_owner(struct nvz_ctx *ctx, const char *addr, unsigned long self)
{
	cleanup_free unsigned long *ids = NULL;
	size_t n = 0;
	if (nvz_ct_list_ids(ctx, &ids, &n, NULL) < 0)
		return 0;
	size_t alen = strcspn(addr, "/");
	const char *tag = ctx->log_tag; /* opening others retags the log */
	unsigned long owner = 0;
	for (size_t i = 0; i < n && !owner; i++) {
		struct nvz_ct *other = NULL;
		if (ids[i] == self || nvz_ct_open(ctx, ids[i], &other, NULL) < 0)
			continue;
		const char *ips = nvz_conf_get(other->conf, "IP_ADDRESS");
		bool used = false;
		/* Compared in canonical form: a config written by hand may
		 * spell an IPv6 address otherwise. */
		for (const char *p = ips; p && *p;) {
			size_t wl = strcspn(p, " ");
			char word[INET6_ADDRSTRLEN + 8], canon[INET6_ADDRSTRLEN + 8];
			snprintf(word, sizeof(word), "%.*s", (int)wl, p);
			const char *w = nvz_addr_canon(word, canon, sizeof(canon), NULL) == 0 ? canon : word;
			used |= strcspn(w, "/") == alen && !strncmp(w, addr, alen);
			p += wl + (p[wl] == ' ');
		}
		nvz_ct_free(other);
		if (used)
			owner = ids[i];
	}
	ctx->log_tag = tag;
	return owner;
}
