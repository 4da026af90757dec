/* OpenVZ's host-side helpers that look at all CTs at once: vzpid (which
 * CT a host process belongs to) and vzcpucheck (the CPU units promised to
 * running CTs against the node's power). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct/internal.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/ct.h"
#include "nvz/fs.h"

int nvz_cgroup_text_ctid(const char *text, const char *prefix, char *id, size_t len)
{
	size_t plen = strlen(prefix);
	while (plen && prefix[plen - 1] == '/')
		plen--;
	while (*prefix == '/')
		prefix++, plen--;
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		/* hierarchy-id:controllers:path; the path is the last field. */
		const char *path = memchr(line, ':', n);
		path = path ? memchr(path + 1, ':', n - (size_t)(path + 1 - line)) : NULL;
		if (path && path[1] == '/' && !strncmp(path + 2, prefix, plen) && path[2 + plen] == '/') {
			const char *c = path + 3 + plen;
			size_t k = strspn(c, "0123456789");
			/* A CT's cgroup is its numeric id; the hub's and others are not CTs. */
			if (k && k < len && (c[k] == '/' || c[k] == '\n' || c[k] == '\0')) {
				memcpy(id, c, k);
				id[k] = '\0';
				return 1;
			}
		}
		line = end ? end + 1 : NULL;
	}
	return 0;
}

int nvz_pid_info(struct nvz_ctx *ctx, pid_t pid, struct nvz_pid_info *out, struct nvz_error **err)
{
	memset(out, 0, sizeof(*out));
	out->pid = pid;
	out->ct_pid = pid;
	snprintf(out->ctid, sizeof(out->ctid), "0");
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	cleanup_free char *status = NULL, *cgroups = NULL;
	if (nvz_read_file(path, 1 << 16, &status, NULL, NULL) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno ? errno : ESRCH, "no process %d", (int)pid);
	for (char *l = strtok(status, "\n"); l; l = strtok(NULL, "\n")) {
		if (!strncmp(l, "Name:", 5))
			snprintf(out->name, sizeof(out->name), "%s", l + 5 + strspn(l + 5, " \t"));
		else if (!strncmp(l, "NSpid:", 6)) {
			/* The last is the pid in the innermost namespace: the CT's. */
			char *last = strrchr(l, '\t');
			out->ct_pid = (pid_t)atol(last ? last + 1 : l + 6);
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (nvz_read_file(path, 1 << 16, &cgroups, NULL, NULL) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno ? errno : ESRCH, "no process %d", (int)pid);
	const char *prefix = ctx ? nvz_ctx_get(ctx, "CGROUP_PREFIX", "nvz") : "nvz";
	if (!nvz_cgroup_text_ctid(cgroups, prefix, out->ctid, sizeof(out->ctid)))
		out->ct_pid = pid; /* the host's: the same pid */
	return 0;
}

double nvz_node_power(const char *cpuinfo)
{
	cleanup_fclose FILE *f = fopen(cpuinfo, "re");
	char line[512];
	double sum = 0;
	while (f && fgets(line, sizeof(line), f)) {
		double v;
		if (!strncasecmp(line, "bogomips", 8) && sscanf(line + strcspn(line, ":"), ": %lf", &v) == 1)
			sum += v;
	}
	return sum * 25;
}

/* What nvz applied to a running CT (its run state), else what its config
 * says, else OpenVZ's default. */
static unsigned long ct_units(const struct nvz_ct *ct)
{
	struct nvz_conf *applied = NULL;
	const char *v = NULL;
	if (nvz_runstate_read_applied(ct, &applied, NULL) == 0 && applied)
		v = nvz_conf_get(applied, "CPUUNITS");
	unsigned long units = strtoul(v ? v : nvz_ct_get(ct, "CPUUNITS", "1000"), NULL, 10);
	nvz_conf_free(applied);
	return units ? units : 1000;
}

int nvz_cpucheck(struct nvz_ctx *ctx, struct nvz_cpucheck *out, struct nvz_error **err)
{
	memset(out, 0, sizeof(*out));
	cleanup_free unsigned long *ids = NULL;
	size_t n = 0;
	if (nvz_ct_list_ids(ctx, &ids, &n, err) < 0)
		return -1;
	out->host_units = strtoul(nvz_ctx_get(ctx, "VE0CPUUNITS", "1000"), NULL, 10);
	out->power = nvz_node_power("/proc/cpuinfo");
	out->cts = calloc(n ? n : 1, sizeof(*out->cts));
	if (!out->cts)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct nvz_ct *ct = NULL;
		struct nvz_ct_state st = { 0 };
		if (nvz_ct_open(ctx, ids[i], &ct, NULL) < 0)
			continue;
		if (nvz_ct_get_state(ct, &st, NULL) == 0 && st.running)
			out->cts[out->n++] = (struct nvz_ct_units){ ids[i], ct_units(ct) };
		nvz_ct_free(ct);
	}
	out->total = out->host_units;
	for (size_t i = 0; i < out->n; i++)
		out->total += out->cts[i].units;
	return 0;
}
