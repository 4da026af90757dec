/* vzctl set: validate every option first, apply live to a running CT,
 * then save (merging into the existing file) when --save is given. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vzctl.h"

enum set_flags {
	SET_APPEND = 1 << 0,   /* repeatable: values join with spaces */
	SET_HOSTNAME = 1 << 1, /* applied live with sethostname + files */
	SET_DNS = 1 << 2,      /* applied live by rewriting resolv.conf */
	SET_NAME = 1 << 3,     /* names/ link */
	SET_PASSWD = 1 << 4,   /* --userpasswd: applied to the CT's files, never saved */
	SET_SAMPLE = 1 << 5,   /* --applyconfig: merge a sample config, saved */
};

struct set_opt {
	const char *option;
	const char *key;
	unsigned flags;
};

/* One row per option (STYLE rule 5): the option, its config key, how it applies. */
static const struct set_opt set_opts[] = {
	{ "hostname", "HOSTNAME", SET_HOSTNAME },
	{ "name", "NAME", SET_NAME },
	{ "nameserver", "NAMESERVER", SET_APPEND | SET_DNS },
	{ "searchdomain", "SEARCHDOMAIN", SET_APPEND | SET_DNS },
	{ "description", "DESCRIPTION", 0 },
	{ "onboot", "ONBOOT", 0 },
	{ "bootorder", "BOOTORDER", 0 },
	{ "disabled", "DISABLED", 0 },
	{ "stop-timeout", "STOP_TIMEOUT", 0 },
	{ "ostemplate", "OSTEMPLATE", 0 },
	{ "userpasswd", NULL, SET_PASSWD },
	{ "applyconfig", NULL, SET_SAMPLE },
};
#define N_SET_OPTS (sizeof(set_opts) / sizeof(set_opts[0]))

struct set_req {
	char *value[N_SET_OPTS];
	bool save;
};

static int add_value(struct set_req *r, size_t i, const char *v)
{
	if (r->value[i] && (set_opts[i].flags & SET_APPEND)) {
		char *joined = NULL;
		if (asprintf(&joined, "%s %s", r->value[i], v) < 0)
			return -1;
		free(r->value[i]);
		r->value[i] = joined;
		return 0;
	}
	free(r->value[i]);
	r->value[i] = strdup(v);
	return r->value[i] ? 0 : -1;
}

static int parse_set(struct cmd_ctx *c, struct set_req *r)
{
	struct option opts[N_SET_OPTS + 2];
	for (size_t i = 0; i < N_SET_OPTS; i++)
		opts[i] = (struct option){ set_opts[i].option, required_argument, NULL, (int)(i + 1) };
	opts[N_SET_OPTS] = (struct option){ "save", no_argument, NULL, 's' };
	opts[N_SET_OPTS + 1] = (struct option){ NULL, 0, NULL, 0 };
	optind = 1;
	opterr = 0;
	int o;
	while ((o = getopt_long(c->argc + 1, c->argv - 1, "+", opts, NULL)) != -1) {
		if (o == 's')
			r->save = true;
		else if (o >= 1 && o <= (int)N_SET_OPTS && add_value(r, (size_t)o - 1, optarg) == 0)
			continue;
		else
			return cmd_bad_args("Invalid option: %s", c->argv[optind - 2]);
	}
	if (optind <= c->argc)
		return cmd_bad_args("Invalid extra arguments: %s", c->argv[optind - 1]);
	return 0;
}

static int validate(struct set_req *r)
{
	bool any = r->save;
	for (size_t i = 0; i < N_SET_OPTS; i++) {
		if (!r->value[i])
			continue;
		any = true;
		struct nvz_error *err = NULL;
		if (set_opts[i].key && nvz_conf_validate(set_opts[i].key, r->value[i], &err) < 0)
			return cli_fail(err);
	}
	if (!any)
		return cmd_bad_args("%s", "Nothing to set");
	return 0;
}

static int apply_live(struct nvz_ct *ct, struct set_req *r, bool *applied)
{
	struct nvz_error *err = NULL;
	bool dns = false;
	for (size_t i = 0; i < N_SET_OPTS; i++) {
		if (!r->value[i])
			continue;
		if (set_opts[i].flags & SET_HOSTNAME) {
			if (nvz_ct_apply_hostname(ct, r->value[i], &err) < 0)
				return cli_fail(err);
			*applied = true;
		}
		dns |= (set_opts[i].flags & SET_DNS) != 0;
	}
	if (dns) {
		/* Each option replaces its whole list; the other keeps its value. */
		const char *ns = NULL, *search = NULL;
		for (size_t i = 0; i < N_SET_OPTS; i++) {
			if (!set_opts[i].key)
				continue;
			const char *v = r->value[i] ? r->value[i] : nvz_ct_get(ct, set_opts[i].key, NULL);
			if (!strcmp(set_opts[i].key, "NAMESERVER"))
				ns = v;
			else if (!strcmp(set_opts[i].key, "SEARCHDOMAIN"))
				search = v;
		}
		if (nvz_ct_apply_dns(ct, ns, search, &err) < 0)
			return cli_fail(err);
		*applied = true;
	}
	return 0;
}

/* OpenVZ's --applyconfig: every key of ve-NAME.conf-sample except the ones
 * that identify this CT. Options given on the same command line win. */
static int apply_sample(struct nvz_ct *ct, const char *name)
{
	static const char *const keep[] = { "HOSTNAME", "IP_ADDRESS", "OSTEMPLATE", "VE_ROOT",
					    "VE_PRIVATE", "NAME", "ORIGIN_SAMPLE" };
	struct nvz_error *err = NULL;
	char *path = NULL;
	if (strchr(name, '/') || asprintf(&path, "%s/ve-%s.conf-sample", ct->ctx->ct_conf_dir, name) < 0) {
		fprintf(stderr, "Sample config %s not found\n", name);
		return 109;
	}
	struct nvz_conf *sample = NULL;
	int rc = nvz_conf_load(&sample, path, 109, &err);
	free(path);
	if (rc < 0) {
		nvz_error_free(err);
		fprintf(stderr, "Sample config %s not found\n", name);
		return 109;
	}
	const char *key, *value;
	for (size_t i = 0; rc == 0 && nvz_conf_entry(sample, i, &key, &value); i++) {
		bool skip = false;
		for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
			skip |= !strcmp(key, keep[k]);
		if (!skip && nvz_conf_set(ct->conf, key, value, &err) < 0)
			rc = cli_fail(err);
	}
	nvz_conf_free(sample);
	return rc;
}

static int save(struct nvz_ct *ct, struct set_req *r)
{
	struct nvz_error *err = NULL;
	for (size_t i = 0; i < N_SET_OPTS; i++) {
		int rc;
		if (r->value[i] && (set_opts[i].flags & SET_SAMPLE) && (rc = apply_sample(ct, r->value[i])))
			return rc;
	}
	for (size_t i = 0; i < N_SET_OPTS; i++) {
		if (!r->value[i] || !set_opts[i].key)
			continue;
		int rc = (set_opts[i].flags & SET_NAME)
				 ? nvz_ct_set_name(ct, r->value[i], &err)
				 : nvz_conf_set(ct->conf, set_opts[i].key, r->value[i], &err);
		if (rc < 0)
			return cli_fail(err);
		if (set_opts[i].flags & SET_NAME)
			nvz_log(ct->ctx, NVZ_LOG_INFO, "Name %s assigned", r->value[i]);
	}
	if (nvz_ct_save(ct, &err) < 0)
		return cli_fail(err);
	return 0;
}

static int run_set(struct cmd_ctx *c, struct set_req *r)
{
	int rc = parse_set(c, r);
	if (rc || (rc = validate(r)))
		return rc;
	struct nvz_ct_state st;
	nvz_ct_get_state(c->ct, &st, NULL);
	bool applied = false, only_passwd = true;
	for (size_t i = 0; i < N_SET_OPTS; i++) {
		if (!r->value[i])
			continue;
		if (!(set_opts[i].flags & SET_PASSWD)) {
			only_passwd = false;
			continue;
		}
		struct nvz_error *err = NULL;
		if (nvz_ct_set_userpasswd(c->ct, r->value[i], &err) < 0)
			return cli_fail(err);
	}
	if (only_passwd && !r->save)
		return 0;
	if (st.running && (rc = apply_live(c->ct, r, &applied)))
		return rc;
	/* A name lives only in config and names/: it is always saved. */
	bool name_only = true;
	for (size_t i = 0; i < N_SET_OPTS; i++)
		if (r->value[i] && !(set_opts[i].flags & (SET_NAME | SET_PASSWD)))
			name_only = false;
	for (size_t i = 0; i < N_SET_OPTS; i++)
		if (r->value[i] && (set_opts[i].flags & SET_SAMPLE) && !r->save)
			return cmd_bad_args("%s", "--applyconfig requires --save");
	if (r->save || name_only)
		return save(c->ct, r);
	if (applied || !st.running)
		nvz_log(c->ct->ctx, NVZ_LOG_WARN,
			"WARNING: Settings were not saved to config and will be lost after CT restart "
			"(use --save flag)");
	return 0;
}

int cmd_set(struct cmd_ctx *c)
{
	struct set_req r = { 0 };
	int rc = run_set(c, &r);
	for (size_t i = 0; i < N_SET_OPTS; i++)
		free(r.value[i]);
	return rc;
}
