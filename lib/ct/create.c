/* create and destroy. The order of steps is chosen so that a command killed
 * at any point leaves either no CT or a CT that the next create/destroy
 * finishes: unpack into <private>.tmp, save the config, rename into place. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ct/internal.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/storage.h"
#include "nvz/template.h"

static char *suffixed(const char *path, const char *suffix)
{
	char *s = NULL;
	if (asprintf(&s, "%s%s", path, suffix) < 0)
		return NULL;
	return s;
}

/* Copy ve-<sample>.conf-sample as the CT's config (only when it has none). */
static int apply_sample(struct nvz_ct *ct, const char *sample, struct nvz_error **err)
{
	if (!sample || !*sample || strchr(sample, '/'))
		return sample && strchr(sample, '/')
			       ? nvz_err(err, NVZ_E_CONFIG_COPY, EINVAL, "Sample config %s not found",
					 sample)
			       : 0;
	cleanup_free char *path = NULL;
	if (asprintf(&path, "%s/ve-%s.conf-sample", ct->ctx->ct_conf_dir, sample) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	struct nvz_conf *c = NULL;
	if (nvz_conf_load(&c, path, NVZ_E_CONFIG_COPY, err) < 0) {
		nvz_error_clear(err);
		return nvz_err(err, NVZ_E_CONFIG_COPY, ENOENT, "Sample config %s not found", path);
	}
	nvz_conf_free(ct->conf);
	ct->conf = c;
	return nvz_conf_set(ct->conf, "ORIGIN_SAMPLE", sample, err);
}

int nvz_ct_apply_sample(struct nvz_ct *ct, const char *name, struct nvz_error **err)
{
	/* OpenVZ's --applyconfig: every key of the sample except the ones that
	 * identify this CT. */
	static const char *const keep[] = { "HOSTNAME", "IP_ADDRESS", "OSTEMPLATE", "VE_ROOT",
					    "VE_PRIVATE", "NAME", "ORIGIN_SAMPLE" };
	cleanup_free char *path = NULL;
	if (strchr(name, '/') || asprintf(&path, "%s/ve-%s.conf-sample", ct->ctx->ct_conf_dir, name) < 0)
		return nvz_err(err, NVZ_E_APPLYCONFIG, EINVAL, "Sample config %s not found", name);
	struct nvz_conf *sample = NULL;
	if (nvz_conf_load(&sample, path, NVZ_E_APPLYCONFIG, err) < 0) {
		nvz_error_clear(err);
		return nvz_err(err, NVZ_E_APPLYCONFIG, ENOENT, "Sample config %s not found", path);
	}
	const char *key, *value;
	int r = 0;
	for (size_t i = 0; r == 0 && nvz_conf_entry(sample, i, &key, &value); i++) {
		bool skip = false;
		for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
			skip |= !strcmp(key, keep[k]);
		if (!skip)
			r = nvz_conf_set(ct->conf, key, value, err);
	}
	nvz_conf_free(sample);
	return r;
}

static int set_opt(struct nvz_ct *ct, const char *key, const char *value, struct nvz_error **err)
{
	if (!value)
		return 0;
	if (nvz_conf_validate(key, value, err) < 0)
		return -1;
	return nvz_conf_set(ct->conf, key, value, err);
}

static int unpack_private(struct nvz_ct *ct, const char *tmp, const char *archive,
			  struct nvz_error **err)
{
	const struct nvz_layout *l;
	if (nvz_layout_get(nvz_ct_get(ct, "VE_LAYOUT", "simfs"), &l, err) < 0 ||
	    l->create(tmp, err) < 0)
		return -1;
	cleanup_close int rootfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0)
		return nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, errno, "open %s", tmp);
	struct nvz_unpack_stats stats = { 0 };
	if (nvz_template_unpack(rootfd, archive, &stats, err) < 0)
		return nvz_err_wrap(err, "Creation of container private area failed");
	if (stats.skipped_devices)
		nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "skipped %lu device nodes from the template",
			stats.skipped_devices);
	/* The root of a CT is 755 like any /, whatever the archive said. */
	if (fchmod(rootfd, 0755) < 0)
		return nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, errno, "chmod %s", tmp);
	return 0;
}

int nvz_ct_create(struct nvz_ct *ct, const struct nvz_create_opts *o, struct nvz_error **err)
{
	if (ct->conf_exists && nvz_path_exists(ct->private))
		return nvz_err(err, NVZ_E_PRIVATE_EXISTS, EEXIST, "Private area already exists in %s",
			       ct->private);
	if (o->config && ct->conf_exists)
		return nvz_err(err, NVZ_E_CONFIG_COPY, EEXIST,
			       "Error: container config file %s already exists, can not use --config option",
			       ct->conf_path);
	if (!ct->conf_exists &&
	    apply_sample(ct, o->config ? o->config : nvz_ctx_get(ct->ctx, "CONFIGFILE", NULL), err) < 0)
		return -1;
	if (set_opt(ct, "VE_PRIVATE", o->private, err) < 0 || set_opt(ct, "VE_ROOT", o->root, err) < 0 ||
	    nvz_ct_refresh_paths(ct, err) < 0)
		return -1;
	if (nvz_path_exists(ct->private))
		return nvz_err(err, NVZ_E_PRIVATE_EXISTS, EEXIST, "Private area already exists in %s",
			       ct->private);
	const char *ostemplate = o->ostemplate ? o->ostemplate
					       : nvz_ct_get(ct, "OSTEMPLATE",
							    nvz_ctx_get(ct->ctx, "DEF_OSTEMPLATE", NULL));
	if (!ostemplate)
		return nvz_err(err, NVZ_E_OSTEMPLATE_NOTSET, EINVAL, "OS template is not specified");
	if (set_opt(ct, "OSTEMPLATE", ostemplate, err) < 0)
		return -1;
	const char *tmpldir = nvz_ctx_get(ct->ctx, "TEMPLATE", NULL);
	if (!tmpldir)
		return nvz_err(err, NVZ_E_TEMPLATE_NOTSET, EINVAL, "TEMPLATE is not set");
	cleanup_free char *archive = nvz_template_find(tmpldir, ostemplate, err);
	if (!archive)
		return -1;
	if (set_opt(ct, "HOSTNAME", o->hostname, err) < 0 ||
	    set_opt(ct, "DESCRIPTION", o->description, err) < 0 ||
	    (o->name && nvz_ct_set_name(ct, o->name, err) < 0))
		return -1;
	cleanup_free char *tmp = suffixed(ct->private, ".tmp");
	cleanup_free char *del = suffixed(ct->private, ".del");
	if (!tmp || !del)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	/* Leftovers of a create or destroy that was killed. */
	if (nvz_rm_rf(tmp, err) < 0 || nvz_rm_rf(del, err) < 0)
		return -1;
	cleanup_free char *parent = strdup(ct->private);
	char *slash = parent ? strrchr(parent, '/') : NULL;
	if (slash && slash != parent)
		*slash = '\0';
	if (parent && nvz_mkdir_p(parent, 0755, err) < 0)
		return -1;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Creating container private area (%s)", ostemplate);
	if (unpack_private(ct, tmp, archive, err) < 0) {
		nvz_rm_rf(tmp, NULL);
		return -1;
	}
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Performing postcreate actions");
	if (nvz_ct_save(ct, err) < 0 || rename(tmp, ct->private) < 0) {
		int e = errno;
		nvz_rm_rf(tmp, NULL);
		return nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, e, "rename %s", tmp);
	}
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Container private area was created");
	return 0;
}

int nvz_ct_destroy(struct nvz_ct *ct, struct nvz_error **err)
{
	struct nvz_ct_state st;
	nvz_ct_get_state(ct, &st, NULL);
	if (st.running)
		return nvz_err(err, NVZ_E_RUNNING, EBUSY, "Container is currently running. Stop it first.");
	if (st.mounted)
		return nvz_err(err, NVZ_E_FS_MOUNTED, EBUSY, "Container is currently mounted (umount first)");
	cleanup_free char *del = suffixed(ct->private, ".del");
	cleanup_free char *gone = suffixed(ct->conf_path, ".destroyed");
	if (!del || !gone)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Destroying container private area: %s", ct->private);
	/* One rename makes the CT absent; the slow removal comes after. */
	if (rename(ct->private, del) < 0 && errno != ENOENT)
		return nvz_err_sys(err, NVZ_E_DELETE, errno, "rename %s", ct->private);
	if (nvz_ct_remove_name(ct, err) < 0)
		return -1;
	if (ct->conf_exists && rename(ct->conf_path, gone) < 0 && errno != ENOENT)
		return nvz_err_sys(err, NVZ_E_DELETE, errno, "rename %s", ct->conf_path);
	const struct nvz_layout *l;
	if (nvz_layout_get(nvz_ct_get(ct, "VE_LAYOUT", "simfs"), &l, err) < 0 || l->destroy(del, err) < 0)
		return -1;
	rmdir(ct->root);
	nvz_runstate_remove(ct);
	cleanup_free char *console = suffixed(ct->rundir, "/console.log");
	if (console)
		unlink(console);
	rmdir(ct->rundir);
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Container private area was destroyed");
	return 0;
}
