/* vzctl set: validate every option first, apply what can be applied to a
 * running CT (rolling back on failure), then save with --save, merging into
 * the existing file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvz/cleanup.h"
#include "set.h"
#include "vzctl.h"

/* As vzctl: NUMA nodes go with a CPU mask, and "auto" (the nodes' CPUs)
 * needs nodes. Checked on the config the set leaves, not only its options. */
static int check_numa_masks(struct nvz_ct *ct, const struct set_req *r)
{
	const char *nodes = nvz_conf_get(r->changes, "NODEMASK");
	const char *cpus = nvz_conf_get(r->changes, "CPUMASK");
	if (!nodes && !cpus)
		return 0;
	if (!nodes)
		nodes = nvz_ct_get(ct, "NODEMASK", "");
	if (!cpus)
		cpus = nvz_ct_get(ct, "CPUMASK", "");
	bool some_nodes = *nodes && strcmp(nodes, "all") != 0;
	if (some_nodes && !*cpus)
		return cmd_bad_args("%s", "Error: --nodemask must be used with --cpumask");
	if (!strcmp(cpus, "auto") && !some_nodes)
		return cmd_bad_args("%s", "Error: --cpumask auto option requires --nodemask");
	return 0;
}

/* --applyconfig on a running CT: the sample's values that change something
 * join the changes (the options given win), to be applied live like the
 * options that set them, as vzctl did. */
static int merge_sample(struct nvz_ct *ct, struct set_req *r)
{
	struct nvz_error *err = NULL;
	struct nvz_conf *sample = NULL;
	if (nvz_ct_sample_load(ct, r->sample, &sample, &err) < 0)
		return cli_fail(err);
	size_t n;
	const struct set_opt *table = set_opt_table(&n);
	const char *key, *value;
	int rc = 0;
	for (size_t i = 0; rc == 0 && nvz_conf_entry(sample, i, &key, &value); i++) {
		const char *now = nvz_ct_get(ct, key, "");
		if (nvz_conf_get(r->changes, key) || !strcmp(now, value))
			continue;
		const struct set_opt *o = NULL;
		for (size_t k = 0; k < n && !o; k++)
			if (table[k].key && !strcmp(table[k].key, key))
				o = &table[k];
		enum set_kind kind = o ? o->kind : K_PLAIN;
		/* A CT's own network, and disk limits (a sample's DISKSPACE must
		 * not fail the set where quotas or a resize cannot be had): only
		 * saved, with the sample, for the next start. */
		if (kind == K_NETIF || kind == K_NETDEV || kind == K_IP || kind == K_DISK)
			continue;
		if (nvz_conf_set(r->changes, key, value, &err) < 0) {
			rc = cli_fail(err);
			break;
		}
		r->live_res |= kind == K_UBC || kind == K_RAM || kind == K_RES || kind == K_DEVLIST;
		r->live_devnodes |= !strcmp(key, "DEVNODES");
		r->live_dns |= kind == K_DNS;
		r->needs_restart |= kind == K_CAP;
		r->restart_caps |= kind == K_CAP;
		if (!strcmp(key, "FEATURES"))
			set_features_nesting(ct, value, r);
	}
	nvz_conf_free(sample);
	return rc;
}

static int parse_set(struct cmd_ctx *c, struct set_req *r)
{
	size_t n;
	const struct set_opt *table = set_opt_table(&n);
	struct option opts[SET_MAX_OPTS + 1];
	if (n > SET_MAX_OPTS)
		return 3;
	for (size_t i = 0; i < n; i++)
		opts[i] = (struct option){ table[i].option,
					   table[i].kind == K_FLAG ? no_argument : required_argument,
					   NULL, (int)i + 256 };
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
	/* As vzctl's parse_opt: an unknown option or a missing argument is
	 * getopt's line, then 21; getopt moves the other arguments behind the
	 * options (GNU order), which are then one too many (20). */
	cleanup_free char **av = cmd_getopt_argv(c);
	if (!av)
		return NVZ_E_SYSTEM;
	optind = 1;
	opterr = 1;
	int o, rc;
	while ((o = getopt_long(c->argc + 1, av, "", opts, NULL)) != -1) {
		if (o < 256 || o >= 256 + (int)n)
			return NVZ_E_VALUE;
		if ((rc = set_opt_apply(c->ct, &table[o - 256], optarg, r)))
			return rc;
	}
	if (optind <= c->argc)
		return cmd_non_options(av, c->argc + 1);
	if (r->npending)
		return cmd_bad_args("%s", "Invalid usage.  Option --ifname not specified");
	if ((rc = check_numa_masks(c->ct, r)))
		return rc;
	if (r->reset_ub && (nvz_conf_count(r->changes) || r->save))
		return cmd_bad_args("%s", "Error: option --reset_ub is exclusive");
	if (r->restart && !r->save)
		return cmd_bad_args("%s", "Error: --setmode restart doesn't make sense without --save flag");
	if (!nvz_conf_count(r->changes) && !r->userpasswd && !r->sample && !r->reset_ub && !r->save &&
	    !r->map_name)
		return cmd_bad_args("%s", "Nothing to set");
	return 0;
}

/* Apply to the running CT. Returns 0, or an exit status after printing. */
static int apply_live(struct nvz_ct *ct, struct set_req *r)
{
	struct nvz_error *err = NULL;
	const char *v;
	if (r->live_hostname && (v = nvz_conf_get(r->changes, "HOSTNAME")) &&
	    nvz_ct_apply_hostname(ct, v, &err) < 0)
		return cli_fail(err);
	/* As vzctl: only the kinds this set names (NULL: left as they are). */
	if (r->live_dns && nvz_ct_apply_dns(ct, nvz_conf_get(r->changes, "NAMESERVER"),
					    nvz_conf_get(r->changes, "SEARCHDOMAIN"), &err) < 0)
		return cli_fail(err);
	if (r->reset_ub ? nvz_ct_reset_ub(ct, &err) < 0
			: r->live_res && nvz_ct_set_resources(ct, r->changes, &err) < 0) {
		int status = cli_fail(err);
		if (r->save)
			fprintf(stderr, "Error: failed to apply some parameters, not saving configuration file!\n");
		return status;
	}
	if (r->ips && nvz_ct_set_ips(ct, nvz_conf_get(r->changes, "IP_ADDRESS"), &err) < 0)
		return cli_fail(err);
	cleanup_free char *live_if = r->netif ? nvz_ct_live_netif(ct) : NULL;
	if (r->netif && nvz_ct_set_netif(ct, live_if ? live_if : nvz_ct_get(ct, "NETIF", ""),
					 nvz_conf_get(r->changes, "NETIF"), &err) < 0)
		return cli_fail(err);
	if ((r->ips || r->netif || r->live_hostname) && nvz_ct_apply_netconf(ct, r->changes, &err) < 0)
		return cli_fail(err);
	cleanup_free char *live_dev = r->netdev ? nvz_ct_live_netdev(ct) : NULL;
	if (r->netdev && nvz_ct_set_netdev(ct, live_dev ? live_dev : nvz_ct_get(ct, "NETDEV", ""),
					   nvz_conf_get(r->changes, "NETDEV"), &err) < 0)
		return cli_fail(err);
	if (r->needs_restart && !r->restart && !r->ignore) {
		if (r->restart_caps)
			fprintf(stderr, "Unable to set capability on a running container\n");
		if (r->restart_features)
			fprintf(stderr, "Unable to set features on a running container\n");
		fprintf(stderr, "WARNING: Some of the parameters could not be applied to a running container.\n"
				"\tPlease consider using --setmode option\n");
	}
	return 0;
}

static int check_sample(struct nvz_ct *ct, const char *name)
{
	struct nvz_error *err = NULL;
	struct nvz_conf *sample = NULL;
	if (nvz_ct_sample_load(ct, name, &sample, &err) < 0)
		return cli_fail(err);
	nvz_conf_free(sample);
	return 0;
}

static int apply_sample(struct nvz_ct *ct, const char *name)
{
	struct nvz_error *err = NULL;
	if (nvz_ct_apply_sample(ct, name, &err) < 0)
		return cli_fail(err);
	return 0;
}

static int save(struct nvz_ct *ct, struct set_req *r)
{
	struct nvz_error *err = NULL;
	int rc;
	/* vzctl wrote only when the set had something for the file (not for
	 * a lone --save, --userpasswd or --applyconfig_map). */
	if (!nvz_conf_count(r->changes) && !r->sample) {
		nvz_log(ct->ctx, NVZ_LOG_INFO, "No changes in CT configuration, not saving");
		return 0;
	}
	if (r->sample && (rc = apply_sample(ct, r->sample)))
		return rc;
	const char *key, *value;
	for (size_t i = 0; nvz_conf_entry(r->changes, i, &key, &value); i++) {
		if (!strcmp(key, "NAME")) {
			cleanup_free char *old = strdup(nvz_ct_get(ct, "NAME", ""));
			if (!old)
				return 3;
			if (nvz_ct_set_name(ct, value, &err) < 0)
				return cli_fail(err);
			if (*value)
				nvz_log(ct->ctx, NVZ_LOG_INFO, "Name %s assigned", value);
			else if (*old)
				nvz_log(ct->ctx, NVZ_LOG_INFO, "Name %s detached", old);
		} else if (nvz_conf_set(ct->conf, key, value, &err) < 0) {
			return cli_fail(err);
		}
	}
	if (nvz_ct_save(ct, &err) < 0)
		return cli_fail(err);
	return 0;
}

static int run_set(struct cmd_ctx *c, struct set_req *r)
{
	int rc = parse_set(c, r);
	if (rc)
		return rc;
	/* As vzctl: set --save on a CT without a config makes one with the
	 * changes (to prepare it before a create, say); the rest needs it. */
	if (!c->ct->conf_exists) {
		if (!r->save || r->userpasswd || r->reset_ub || c->ct->veid == 0) {
			fprintf(stderr, "Container config file does not exist\n");
			return NVZ_E_NOVECONFIG;
		}
		fprintf(stderr, "WARNING: %s not found: No such file or directory\n", c->ct->conf_path);
	}
	/* vzctl refused a name without --save; nvz saves a name given alone
	 * (see below), but with other changes that are not saved it would
	 * silently not be set. */
	if (!r->save && nvz_conf_get(r->changes, "NAME") && nvz_conf_count(r->changes) > 1) {
		fprintf(stderr, "Error: unable to use --name option without --save\n");
		return NVZ_E_NAME;
	}
	/* Kept in the config for OpenVZ's tools and a move back; said once. */
	for (size_t i = 0; i < r->nstored; i++) {
		bool again = false;
		for (size_t j = 0; j < i; j++)
			again |= !strcmp(r->stored[j], r->stored[i]);
		if (!again)
			fprintf(stderr, "Warning: --%s is kept in the config, but nothing sets it per container on "
					"this kernel: %s\n",
				r->stored[i], set_stored_reason(r->stored[i]));
	}
	struct nvz_error *err = NULL;
	/* As vzctl: the name link made again from the config's own NAME (after
	 * a config was copied in by hand, say); without a NAME, nothing. */
	const char *name = nvz_conf_get(c->ct->conf, "NAME");
	if (r->map_name && name && *name) {
		cleanup_free char *copy = strdup(name);
		if (!copy || nvz_ct_set_name(c->ct, copy, &err) < 0)
			return copy ? cli_fail(err) : 3;
		nvz_log(c->ct->ctx, NVZ_LOG_INFO, "Name %s assigned", copy);
	}
	if (r->userpasswd && nvz_ct_set_userpasswd(c->ct, r->userpasswd, &err) < 0)
		return cli_fail(err);
	struct nvz_ct_state st;
	nvz_ct_get_state(c->ct, &st, NULL);
	if (r->sample && st.running && (rc = merge_sample(c->ct, r)))
		return rc;
	/* Not saved and nothing to apply it to: vzctl still checked the
	 * sample (109) before its warning. */
	if (r->sample && !st.running && !r->save && (rc = check_sample(c->ct, r->sample)))
		return rc;
	/* As vzctl: the paths change only in the config (nothing is moved),
	 * so not under a CT that uses them. */
	static const char *const paths[] = { "VE_ROOT", "VE_PRIVATE" };
	for (size_t i = 0; i < 2; i++) {
		if (!nvz_conf_get(r->changes, paths[i]) || !(st.running || st.mounted))
			continue;
		fprintf(stderr, "Unable to change %s on a %s container\n", paths[i],
			st.running ? "running" : "mounted");
		return st.running ? NVZ_E_RUNNING : NVZ_E_FS_MOUNTED;
	}
	if (nvz_conf_get(r->changes, "MOUNT_OPTS")) {
		const char *layout = nvz_ct_get(c->ct, "VE_LAYOUT", "simfs");
		if (strncmp(layout, "ploop", 5) != 0)
			fprintf(stderr, "Warning: --mount_opts is used by the ploop layout only, this container's is %s\n",
				layout);
		else if (st.mounted)
			fprintf(stderr, "The new mount options are used at the container's next mount\n");
	}
	if (st.running && (rc = apply_live(c->ct, r)))
		return rc;
	/* Disk limits: online when mounted, else offline and only with --save
	 * (an image resized but not recorded would be a lie). */
	if (r->disk && c->ct->conf_exists && (st.mounted || r->save) &&
	    nvz_ct_set_disk(c->ct, r->changes, &err) < 0) {
		int status = cli_fail(err);
		if (r->save)
			fprintf(stderr, "Error: failed to apply some parameters, not saving configuration file!\n");
		return status;
	}
	/* A name lives only in config and names/: it is always saved. */
	bool only_name = nvz_conf_count(r->changes) == 1 && nvz_conf_get(r->changes, "NAME");
	if (r->save || only_name) {
		if ((rc = save(c->ct, r)))
			return rc;
		if (r->restart && st.running && r->needs_restart) {
			nvz_log(c->ct->ctx, NVZ_LOG_INFO, "Restarting container");
			if (nvz_ct_stop(c->ct, NULL, &err) < 0 || nvz_ct_start(c->ct, NULL, &err) < 0)
				return cli_fail(err);
		}
		return 0;
	}
	/* vzctl's words: "will be lost" only where something was applied. */
	if ((nvz_conf_count(r->changes) || r->sample) && (st.running || !r->userpasswd))
		nvz_log(c->ct->ctx, NVZ_LOG_WARN, "WARNING: Settings were not saved to config %s(use --save flag)",
			st.running ? "and will be lost after CT restart " : "");
	return 0;
}

int cmd_set(struct cmd_ctx *c)
{
	struct set_req r = { .changes = nvz_conf_new() };
	int rc = r.changes ? run_set(c, &r) : 3;
	nvz_conf_free(r.changes);
	free(r.userpasswd);
	free(r.sample);
	return rc;
}
