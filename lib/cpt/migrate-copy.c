/* vzmigrate, source side: what it copies to the target with rsync over
 * the session's ssh connection (the CT's area, config, dump, action scripts
 * and shared template tree), copies side by side where the CT is down. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpt/migrate-src.h"
#include "cpt/spawn.h"
#include "ct/internal.h"
#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/fs.h"

/* One rsync of SRC/ to host:DST/ with the CT's ssh. Exit 24 (a file
 * vanished while the CT ran) is expected in a first pass. */
struct copy {
	const char *src, *dst, *extra;
	bool dir, vanish_ok;
	pid_t pid;
};

static int copy_start(struct mig *m, struct copy *c, struct nvz_error **err)
{
	struct nvz_argv a = { 0 };
	nvz_argv_add(&a, "rsync");
	nvz_argv_add_words(&a, "-aHAX --numeric-ids");
	nvz_argv_add_words(&a, c->extra);
	nvz_argv_add_words(&a, m->o->rsync_opts);
	nvz_argv_add(&a, "-e");
	nvz_argv_add(&a, m->rsh);
	cleanup_free char *s = NULL, *d = NULL;
	if (asprintf(&s, "%s%s", c->src, c->dir ? "/" : "") < 0 ||
	    asprintf(&d, "%s:%s%s", m->dest.rsync, c->dst, c->dir ? "/" : "") < 0) {
		nvz_argv_free(&a);
		return nvz_mig_oom(err);
	}
	nvz_argv_add(&a, s);
	nvz_argv_add(&a, d);
	int r = a.oom ? nvz_mig_oom(err) : nvz_spawn(a.v, &c->pid, NULL, NULL, err);
	nvz_argv_free(&a);
	return r;
}

static int copy_finish(struct mig *m, struct copy *c, struct nvz_error **err)
{
	if (c->pid <= 0)
		return 0;
	if (m->o->interrupted && *m->o->interrupted)
		kill(c->pid, SIGTERM); /* the signal came while another copy was waited for */
	int st = nvz_wait(c->pid, m->o->interrupted);
	c->pid = 0;
	if (st == 0 || (st == 24 && c->vanish_ok))
		return 0;
	if (st < 0)
		return nvz_err_sys(err, NVZ_MIG_COPY, errno, "waiting for rsync of %s", c->src);
	return nvz_err(err, NVZ_MIG_COPY, EIO, "rsync of %s exited with status %d", c->src, st);
}

/* Copies side by side over the one ssh connection: the final sync, while
 * the CT is down, lasts as long as the longest one. A failed start stops
 * those already running; the first error is the one reported. */
static int copy_all(struct mig *m, struct copy *c, size_t n, struct nvz_error **err)
{
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = copy_start(m, &c[i], err);
	for (size_t i = 0; i < n; i++) {
		if (r < 0 && c[i].pid > 0)
			kill(c[i].pid, SIGTERM);
		if (copy_finish(m, &c[i], err) < 0)
			r = -1;
	}
	return r;
}

int nvz_mig_rsync_to(struct mig *m, const char *src, const char *dst, const char *extra,
		    bool dir, bool vanish_ok, struct nvz_error **err)
{
	struct copy c = { src, dst, extra, dir, vanish_ok, 0 };
	return copy_all(m, &c, 1, err);
}

bool nvz_mig_is_ploop(const struct nvz_ct *ct)
{
	return !strncmp(nvz_ct_get(ct, "VE_LAYOUT", "simfs"), "ploop", 5);
}

/* The template tree of a CT on a shared template, if the target lacks it. */
int nvz_mig_prepare_tree(struct mig *m, struct nvz_error **err)
{
	if (!m->rtree)
		return 0;
	const char *tmpl = nvz_ct_get(m->ct, "TEMPLATE", NULL);
	const char *tree = nvz_conf_get(m->ct->conf, "TEMPLATE_TREE");
	cleanup_free char *src = NULL;
	if (!tmpl || !tree || strchr(tree, '/') || asprintf(&src, "%s/shared/%s", tmpl, tree) < 0)
		return nvz_err(err, NVZ_MIG_COPY, EINVAL, "bad TEMPLATE_TREE of CT %s", m->ct->id);
	if (!nvz_path_exists(src))
		return nvz_err(err, NVZ_MIG_COPY, ENOENT, "shared template %s is missing here", src);
	return nvz_mig_rsync_to(m, src, m->rtree, NULL, true, false, err);
}

/* rsync's filter for CONF_DIR: the CT's own scripts, nothing else. */
static char *script_filter(const struct nvz_ct *ct)
{
	char *f = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&f, &len);
	if (!m)
		return NULL;
	for (size_t i = 0; i < NVZ_CT_SCRIPT_EVENTS; i++)
		fprintf(m, "--include=/%s.%s ", ct->id, nvz_ct_script_events[i]);
	fputs("--exclude=*", m);
	if (fclose(m) != 0) {
		free(f);
		return NULL;
	}
	return f;
}

int nvz_mig_sync_private(struct mig *m, bool final, struct nvz_error **err)
{
	/* The final pass must see every change since the first: mtimes are
	 * compared to the nanosecond (a file rewritten in the same second with
	 * the same size is not skipped). An image is always compared block by
	 * block (--ignore-times: its mtime proves nothing about a loop device's
	 * writes) and rewritten in place, so only changed blocks move. */
	const char *extra = !final ? "--delete --sparse"
			    : nvz_mig_is_ploop(m->ct) ? "--delete --sparse --inplace --ignore-times"
					      : "--delete --sparse --modify-window=-1";
	if (!final)
		return nvz_mig_rsync_to(m, m->ct->private, m->rpriv, extra, true, true, err);
	cleanup_free char *dump = m->suspended ? nvz_ct_dump_path(m->ct) : NULL;
	cleanup_free char *scripts = script_filter(m->ct);
	if ((m->suspended && !dump) || !scripts)
		return nvz_mig_oom(err);
	struct copy c[4] = {
		{ m->ct->private, m->rpriv, extra, true, false, 0 },
		{ m->ct->conf_path, m->rconf, NULL, false, false, 0 },
		{ dump, m->rdump, "--delete --sparse", true, false, 0 },
		{ m->ct->ctx->ct_conf_dir, m->rscripts, scripts, true, false, 0 },
	};
	size_t n = 2;
	if (dump)
		c[n++] = c[2];
	/* The CT's action scripts (OpenVZ's vzmigrate copied them too), where
	 * the target takes them. */
	if (m->rscripts)
		c[n++] = c[3];
	return copy_all(m, c, n, err);
}
