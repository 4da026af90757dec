/* Resources of a CT: from its settings (config plus pending changes) to
 * the cgroup, and the record of what is applied (in RUNDIR/<id>/state)
 * that /proc/user_beancounters and vzubc show as barrier and limit. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sync.h"
#include "cpt/criu.h"
#include "ct/internal.h"
#include "linux/rootfs.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

struct overlay {
	const struct nvz_ct *ct;
	const struct nvz_conf *changes; /* may be NULL */
	const struct nvz_conf *live;	/* unsaved live values, may be NULL */
};

static const char *overlay_get(void *data, const char *key)
{
	const struct overlay *o = data;
	const char *v = o->changes ? nvz_conf_get(o->changes, key) : NULL;
	if (!v && o->live)
		v = nvz_conf_get(o->live, key);
	return v ? v : nvz_ct_get(o->ct, key, NULL);
}

static bool ubc_key(const char *key)
{
	for (int id = 0; id < UBC_COUNT; id++)
		if (!strcmp(nvz_ubc_info(id)->key, key))
			return true;
	return false;
}

/* The keys a set applies to the cgroup (what nvz_res_compute and the
 * device rules read). */
static bool resource_key(const char *key)
{
	static const char *const keys[] = { "CPUUNITS", "CPULIMIT",  "CPUS",   "CPUMASK",
					    "NODEMASK", "IOLIMIT",   "IOPRIO", "IOPSLIMIT",
					    "DEVNODES", "DEVICES" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i], key))
			return true;
	return ubc_key(key);
}

/* RUNDIR/<id>/resources.live: what sets without --save applied to the
 * running CT. Each set computes every limit again, so it must start from
 * these, not from the config: OpenVZ's set touched only the parameters it
 * was given, and an unsaved change lasted until the CT stopped. */
static char *live_path(const struct nvz_ct *ct)
{
	char *path = NULL;
	return asprintf(&path, "%s/resources.live", ct->rundir) < 0 ? NULL : path;
}

static int live_load(const struct nvz_ct *ct, struct nvz_conf **out, struct nvz_error **err)
{
	cleanup_free char *path = live_path(ct);
	if (!path)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (nvz_conf_load_optional(out, path, NVZ_E_SYSTEM, err) < 0)
		return -1;
	if (!*out)
		*out = nvz_conf_new();
	return *out ? 0 : nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
}

static int live_store(const struct nvz_ct *ct, const struct nvz_conf *live, struct nvz_error **err)
{
	cleanup_free char *path = live_path(ct);
	cleanup_free char *text = nvz_conf_format(live);
	if (!path || !text)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	return nvz_write_runtime_atomic(path, text, strlen(text), 0600, err);
}

char *nvz_ct_live_value(const struct nvz_ct *ct, const char *key)
{
	struct nvz_conf *live = NULL;
	struct nvz_error *e = NULL;
	if (live_load(ct, &live, &e) < 0) {
		nvz_error_free(e);
		return NULL;
	}
	const char *v = nvz_conf_get(live, key);
	char *copy = v ? strdup(v) : NULL;
	nvz_conf_free(live);
	return copy;
}

/* After a set was applied: its resource values join the live ones. */
static int live_update(const struct nvz_ct *ct, struct nvz_conf *live, const struct nvz_conf *changes,
		       struct nvz_error **err)
{
	const char *key, *value;
	for (size_t i = 0; nvz_conf_entry(changes, i, &key, &value); i++)
		if (resource_key(key) && nvz_conf_set(live, key, value, err) < 0)
			return -1;
	return live_store(ct, live, err);
}

const char *nvz_ct_get_pending(const struct nvz_ct *ct, const struct nvz_conf *changes,
			       const char *key)
{
	struct overlay o = { ct, changes, NULL };
	return overlay_get(&o, key);
}

/* Device rules from DEVNODES and DEVICES (space-separated lists). */
static int collect_devices(const struct overlay *o, struct nvz_dev_rule **rules, size_t *n,
			   struct nvz_error **err)
{
	static const char *const keys[] = { "DEVNODES", "DEVICES" };
	*rules = NULL;
	*n = 0;
	for (size_t k = 0; k < 2; k++) {
		const char *list = overlay_get((void *)o, keys[k]);
		cleanup_free char *copy = list ? strdup(list) : NULL;
		char *save = NULL;
		for (char *t = copy ? strtok_r(copy, " ", &save) : NULL; t; t = strtok_r(NULL, " ", &save)) {
			if (!strcmp(t, "none"))
				continue;
			struct nvz_dev_rule r;
			int rc = k == 0 ? nvz_res_parse_devnode(t, &r, err) : nvz_res_parse_device(t, &r, err);
			if (rc < 0)
				return -1;
			struct nvz_dev_rule *nr = realloc(*rules, (*n + 1) * sizeof(**rules));
			if (!nr)
				return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
			*rules = nr;
			(*rules)[(*n)++] = r;
		}
	}
	return 0;
}

/* The applied barrier:limit of every beancounter, for the beancounter view,
 * and the CPU units. */
static int write_applied(const struct nvz_ct *ct, const struct overlay *o, struct nvz_error **err)
{
	struct nvz_conf *c = nvz_conf_new();
	if (!c)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	int r = 0;
	for (int id = 0; id < UBC_COUNT && r == 0; id++) {
		const struct nvz_ubc_info *info = nvz_ubc_info(id);
		const char *text = overlay_get((void *)o, info->key);
		struct nvz_ubc_value v = { NVZ_UNLIMITED, NVZ_UNLIMITED, false };
		if (text && nvz_ubc_parse(id, text, &v, NULL) < 0)
			v = (struct nvz_ubc_value){ NVZ_UNLIMITED, NVZ_UNLIMITED, false };
		cleanup_free char *s = nvz_ubc_format(&v);
		r = s ? nvz_conf_set(c, info->key, s, err) : nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "oom");
	}
	/* And the CPU units, for vzcpucheck. */
	const char *units = overlay_get((void *)o, "CPUUNITS");
	if (r == 0)
		r = nvz_conf_set(c, "CPUUNITS", units && *units ? units : "1000", err);
	if (r == 0)
		r = nvz_runstate_write_applied(ct, c, !o->changes, err);
	nvz_conf_free(c);
	return r;
}

static int apply_overlay(struct nvz_ct *ct, const struct overlay *o, struct nvz_cgroup *cg,
			 struct nvz_error **err)
{
	struct nvz_res_limits lim;
	if (nvz_res_compute(overlay_get, (void *)o, &lim, err) < 0)
		return -1;
	cleanup_free struct nvz_dev_rule *rules = NULL;
	size_t n = 0;
	if (collect_devices(o, &rules, &n, err) < 0)
		return -1;
	if (nvz_cgroup_set_limits(cg, &lim, err) < 0 || nvz_cgroup_set_devices(cg, rules, n, err) < 0)
		return -1;
	return write_applied(ct, o, err);
}

int nvz_ct_apply_resources(struct nvz_ct *ct, const struct nvz_conf *changes,
			   struct nvz_cgroup *cg, struct nvz_error **err)
{
	/* A start (no changes) has the config only: what the last run was
	 * set to without --save is gone, as in OpenVZ. */
	if (!changes) {
		cleanup_free char *path = live_path(ct);
		if (path)
			unlink(path);
		struct overlay o = { ct, NULL, NULL };
		return apply_overlay(ct, &o, cg, err);
	}
	struct nvz_conf *live = NULL;
	if (live_load(ct, &live, err) < 0)
		return -1;
	struct overlay o = { ct, changes, live };
	int r = apply_overlay(ct, &o, cg, err);
	if (r == 0)
		r = live_update(ct, live, changes, err);
	nvz_conf_free(live);
	return r;
}

int nvz_ct_apply_resources_dumped(struct nvz_ct *ct, const char *dumpdir, struct nvz_cgroup *cg,
				  struct nvz_error **err)
{
	cleanup_free char *path = NULL;
	if (asprintf(&path, "%s/" NVZ_CPT_LIVE, dumpdir) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	struct nvz_conf *live = NULL;
	if (nvz_conf_load_optional(&live, path, NVZ_E_RESTORE, err) < 0)
		return -1;
	/* A dump of a CT with no unsaved value (or of an older nvz). */
	if (!live)
		return nvz_ct_apply_resources(ct, NULL, cg, err);
	struct overlay o = { ct, NULL, live };
	int r = apply_overlay(ct, &o, cg, err);
	if (r == 0)
		r = live_store(ct, live, err);
	nvz_conf_free(live);
	return r;
}

char *nvz_ct_live_text(const struct nvz_ct *ct)
{
	struct nvz_conf *live = NULL;
	struct nvz_error *e = NULL;
	if (live_load(ct, &live, &e) < 0) {
		nvz_error_free(e);
		return NULL;
	}
	const char *key, *value;
	char *text = nvz_conf_entry(live, 0, &key, &value) ? nvz_conf_format(live) : NULL;
	nvz_conf_free(live);
	return text;
}

/* A live --ioprio reaches every process of the CT's cgroup. */
static void set_ioprio_all(const struct nvz_ct *ct, const struct nvz_cgroup *cg,
			   const struct nvz_conf *changes)
{
	struct nvz_ct tmp = *ct;
	struct nvz_conf *merged = nvz_conf_new();
	if (!merged)
		return;
	nvz_conf_set(merged, "IOPRIO", nvz_conf_get(changes, "IOPRIO"), NULL);
	tmp.conf = merged;
	cleanup_free char *procs = NULL;
	if (nvz_cgroup_read(cg, "pids", "cgroup.procs", &procs, NULL) == 0)
		for (char *p = procs; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
			nvz_ct_set_ioprio(&tmp, (pid_t)atoi(p));
	nvz_conf_free(merged);
}

static const char *changes_get(void *data, const char *key)
{
	return nvz_conf_get(data, key);
}

/* What vzctl 4.x says of the CPU, device and I/O values it applies, in its
 * order (vz_setcpu, vps_set_devperm, then vps_set_io); ioprio goes without
 * a word there too. */
static void say_cpu_io(const struct nvz_ct *ct, nvz_res_get_fn get, void *data)
{
	static const struct {
		const char *key, *fmt;
	} cpu[] = {
		{ "CPULIMIT", "Setting CPU limit: %s" }, { "CPUUNITS", "Setting CPU units: %s" },
		{ "CPUS", "Setting CPUs: %s" },		 { "CPUMASK", "Setting CPU mask: %s" },
		{ "NODEMASK", "Setting NUMA node mask: %s" },
	};
	const char *v;
	for (size_t i = 0; i < sizeof(cpu) / sizeof(cpu[0]); i++)
		if ((v = get(data, cpu[i].key)) && *v && strcmp(v, "auto"))
			nvz_log(ct->ctx, NVZ_LOG_INFO, cpu[i].fmt, v);
	const char *nodes = get(data, "DEVNODES"), *devs = get(data, "DEVICES");
	if ((nodes && *nodes && strcmp(nodes, "none")) || (devs && *devs && strcmp(devs, "none")))
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Setting devices");
	if ((v = get(data, "IOLIMIT")) && *v)
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Setting iolimit: %s %s", v,
			strcmp(v, "0") ? "bytes/sec" : "(unlimited)");
	if ((v = get(data, "IOPSLIMIT")) && *v)
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Setting iopslimit: %s %s", v,
			strcmp(v, "0") ? "iops" : "(unlimited)");
}

void nvz_ct_start_messages(const struct nvz_ct *ct)
{
	struct overlay o = { ct, NULL, NULL };
	say_cpu_io(ct, overlay_get, &o);
}

/* A live set says what it applied, as vps_setup_res: the beancounters'
 * line first, then CPU, then I/O. */
static void say_applied(const struct nvz_ct *ct, const struct nvz_conf *changes)
{
	bool ubc = false;
	for (int id = 0; id < UBC_COUNT; id++)
		ubc |= nvz_conf_get(changes, nvz_ubc_info(id)->key) != NULL;
	if (ubc)
		nvz_log(ct->ctx, NVZ_LOG_INFO, "UB limits were set successfully");
	say_cpu_io(ct, changes_get, (void *)changes);
}

int nvz_ct_set_resources(struct nvz_ct *ct, const struct nvz_conf *changes,
			 struct nvz_error **err)
{
	struct nvz_cgroup *cg = NULL;
	if (nvz_ct_cgroup(ct, &cg, err) < 0)
		return -1;
	int r = nvz_ct_apply_resources(ct, changes, cg, err);
	if (r == 0 && changes)
		say_applied(ct, changes);
	/* Say once which of the changed beancounters this kernel cannot enforce. */
	char list[512] = "";
	for (int id = 0; r == 0 && changes && id < UBC_COUNT; id++) {
		const struct nvz_ubc_info *info = nvz_ubc_info(id);
		/* Without VSwap the memory limit is made of other beancounters. */
		bool enforced = nvz_cgroup_enforces(cg, id) ||
				(nvz_res_sets_memory(overlay_get, &(struct overlay){ ct, changes, NULL }, id) &&
				 nvz_cgroup_enforces(cg, UBC_PHYSPAGES));
		if (nvz_conf_get(changes, info->key) && !enforced &&
		    strlen(list) + strlen(info->name) + 3 < sizeof(list))
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 *list ? ", " : "", info->name);
	}
	if (*list)
		nvz_log(ct->ctx, NVZ_LOG_WARN,
			"Warning: %s: stored and shown in /run/user_beancounters, not enforced by this kernel",
			list);
	if (r == 0 && changes && nvz_conf_get(changes, "IOPRIO"))
		set_ioprio_all(ct, cg, changes);
	nvz_cgroup_free(cg);
	if (r == 0 && changes && nvz_conf_get(changes, "DEVNODES")) {
		cleanup_strv char **names = nvz_ct_devnode_names(ct, changes);
		r = nvz_ct_make_devnodes(ct, names, err);
	}
	return r;
}

int nvz_ct_reset_ub(struct nvz_ct *ct, struct nvz_error **err)
{
	/* The config's beancounters again: their unsaved live values go,
	 * the CPU, IO and device ones stay (OpenVZ's --reset_ub set UBC only). */
	struct nvz_conf *live = NULL;
	if (live_load(ct, &live, err) < 0)
		return -1;
	int r = 0;
	for (int id = 0; r == 0 && id < UBC_COUNT; id++)
		r = nvz_conf_set(live, nvz_ubc_info(id)->key, NULL, err);
	if (r == 0)
		r = live_store(ct, live, err);
	nvz_conf_free(live);
	struct nvz_conf *none = r == 0 ? nvz_conf_new() : NULL;
	if (r == 0 && !none)
		r = nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (r == 0)
		r = nvz_ct_set_resources(ct, none, err);
	nvz_conf_free(none);
	if (r == 0) /* vzctl set --reset_ub: vps_set_ublimit()'s word */
		nvz_log(ct->ctx, NVZ_LOG_INFO, "UB limits were set successfully");
	return r;
}
