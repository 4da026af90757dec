/* vzctl snapshot, snapshot-switch, snapshot-delete, snapshot-mount,
 * snapshot-umount and snapshot-list, with OpenVZ's options. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvz/cleanup.h"
#include "vzctl.h"

enum { O_ID = 256, O_NAME, O_DESC, O_TARGET, O_SKIP_CONFIG, O_SKIP_RESUME, O_SKIP_SUSPEND, O_MUST_RESUME,
       O_NOHDR, O_OUTPUT };

static const struct option snap_opts[] = {
	{ "id", required_argument, NULL, O_ID },
	{ "uuid", required_argument, NULL, O_ID },
	{ "name", required_argument, NULL, O_NAME },
	{ "description", required_argument, NULL, O_DESC },
	{ "target", required_argument, NULL, O_TARGET },
	{ "skip-config", no_argument, NULL, O_SKIP_CONFIG },
	{ "skip-resume", no_argument, NULL, O_SKIP_RESUME },
	{ "skip-suspend", no_argument, NULL, O_SKIP_SUSPEND },
	{ "must-resume", no_argument, NULL, O_MUST_RESUME },
	{ "no-header", no_argument, NULL, O_NOHDR },
	{ "output", required_argument, NULL, O_OUTPUT },
	{ NULL, 0, NULL, 0 },
};

struct snap_args {
	struct nvz_snapshot_opts o;
	bool no_header;
	const char *fields;
};

/* Which options each command takes (the rest are refused as vzctl did). */
static bool allowed(const char *cmd, int opt)
{
	if (!strcmp(cmd, "snapshot"))
		return opt == O_ID || opt == O_NAME || opt == O_DESC || opt == O_SKIP_CONFIG || opt == O_SKIP_SUSPEND;
	if (!strcmp(cmd, "snapshot-switch"))
		return opt == O_ID || opt == O_SKIP_CONFIG || opt == O_SKIP_RESUME || opt == O_MUST_RESUME;
	if (!strcmp(cmd, "snapshot-mount"))
		return opt == O_ID || opt == O_TARGET;
	if (!strcmp(cmd, "snapshot-list"))
		return opt == O_ID || opt == O_NOHDR || opt == O_OUTPUT;
	return opt == O_ID; /* delete, umount */
}

static int parse(struct cmd_ctx *c, struct snap_args *a)
{
	memset(a, 0, sizeof(*a));
	optind = 1;
	opterr = 0;
	int o;
	while ((o = getopt_long(c->argc + 1, c->argv - 1, "+Ho:", snap_opts, NULL)) != -1) {
		if (o == 'H')
			o = O_NOHDR;
		else if (o == 'o')
			o = O_OUTPUT;
		if (o < O_ID || !allowed(c->name, o))
			return cmd_bad_args("Invalid option: %s", c->argv[optind - 2]);
		switch (o) {
		case O_ID: a->o.id = optarg; break;
		case O_NAME: a->o.name = optarg; break;
		case O_DESC: a->o.description = optarg; break;
		case O_TARGET: a->o.target = optarg; break;
		case O_SKIP_CONFIG: a->o.skip_config = true; break;
		case O_SKIP_RESUME: a->o.skip_resume = true; break;
		case O_SKIP_SUSPEND: a->o.skip_suspend = true; break;
		case O_MUST_RESUME: a->o.must_resume = true; break;
		case O_NOHDR: a->no_header = true; break;
		case O_OUTPUT: a->fields = optarg; break;
		default: break;
		}
	}
	if (optind <= c->argc)
		return cmd_bad_args("Invalid extra arguments: %s", c->argv[optind - 1]);
	if (!a->o.id && strcmp(c->name, "snapshot") && strcmp(c->name, "snapshot-list"))
		return cmd_bad_args("%s", "Invalid syntax: snapshot id is missing");
	return 0;
}

/* One field of snapshot-list; NULL if unknown. */
static const char *field(const struct nvz_snapshot_info *s, const char *name, char *buf, size_t len)
{
	if (!strcmp(name, "uuid") || !strcmp(name, "parent_uuid")) {
		const char *u = !strcmp(name, "uuid") ? s->uuid : s->parent;
		if (*u)
			snprintf(buf, len, "{%s}", u);
		else
			snprintf(buf, len, "%s", "");
		return buf;
	}
	if (!strcmp(name, "current"))
		return s->current ? "*" : "";
	if (!strcmp(name, "date"))
		return s->date;
	if (!strcmp(name, "name"))
		return s->name;
	if (!strcmp(name, "description"))
		return s->description;
	return NULL;
}

/* A column: UUIDs with braces are 38 wide, the current mark 1, dates 19. */
static void cell(const char *field_name, const char *text, bool last)
{
	int width = !strcmp(field_name, "current") ? 1 : !strcmp(field_name, "date") ? 19
		    : strstr(field_name, "uuid")   ? 38
						   : 16;
	if (last)
		printf("%s\n", text);
	else
		printf("%-*s ", width, text);
}

static int list(struct cmd_ctx *c, const struct snap_args *a)
{
	struct nvz_error *err = NULL;
	cleanup_free struct nvz_snapshot_info *v = NULL;
	size_t n;
	if (nvz_ct_snapshot_list(c->ct, &v, &n, &err) < 0)
		return cli_fail(err);
	char fields[256];
	snprintf(fields, sizeof(fields), "%s", a->fields ? a->fields : "parent_uuid,current,uuid,date,name");
	const char *names[16];
	size_t nf = 0;
	char *save = NULL;
	for (char *f = strtok_r(fields, ",", &save); f && nf < 16; f = strtok_r(NULL, ",", &save)) {
		char buf[64];
		if (!field(&(struct nvz_snapshot_info){ 0 }, f, buf, sizeof(buf)))
			return cmd_bad_args("Unknown field: %s", f);
		names[nf++] = f;
	}
	for (size_t i = 0; !a->no_header && i < nf; i++) {
		const char *h = !strcmp(names[i], "current") ? "C" : names[i];
		char up[32];
		size_t k = 0;
		for (; h[k] && k < sizeof(up) - 1; k++)
			up[k] = (char)(h[k] >= 'a' && h[k] <= 'z' ? h[k] - 32 : h[k]);
		up[k] = '\0';
		cell(names[i], up, i + 1 == nf);
	}
	const char *only = a->o.id && a->o.id[0] == '{' ? a->o.id + 1 : a->o.id;
	for (size_t s = 0; s < n; s++) {
		if (only && strncmp(v[s].uuid, only, 36))
			continue;
		for (size_t i = 0; i < nf; i++) {
			char buf[64];
			cell(names[i], field(&v[s], names[i], buf, sizeof(buf)), i + 1 == nf);
		}
	}
	return 0;
}

/* vzctl ended a failed create, switch or delete with one more line, but
 * not a refusal before it began (not ploop, a bad --id). */
static int failed(const char *cmd, const char *id, struct nvz_error *err)
{
	const char *what = !strcmp(cmd, "snapshot")		? "Failed to create snapshot"
			   : !strcmp(cmd, "snapshot-switch") ? "Failed to switch to snapshot"
			   : !strcmp(cmd, "snapshot-delete") ? "Failed to delete snapshot"
							     : NULL;
	bool refused = !err || err->code == ENOTSUP || err->code == EINVAL;
	bool said = err && what && strstr(err->msg, what);
	int status = cli_fail(err);
	if (!what || refused || said)
		return status;
	char line[128];
	bool braces = id && id[0] != '{';
	if (strcmp(cmd, "snapshot") && id)
		snprintf(line, sizeof(line), "%s %s%s%s", what, braces ? "{" : "", id, braces ? "}" : "");
	else
		snprintf(line, sizeof(line), "%s", what);
	cli_error_line(line);
	return status;
}

int cmd_snapshot(struct cmd_ctx *c)
{
	struct snap_args a;
	int rc = parse(c, &a);
	if (rc)
		return rc;
	struct nvz_error *err = NULL;
	int r;
	if (!strcmp(c->name, "snapshot-list"))
		return list(c, &a);
	if (!strcmp(c->name, "snapshot"))
		r = nvz_ct_snapshot(c->ct, &a.o, &err);
	else if (!strcmp(c->name, "snapshot-switch"))
		r = nvz_ct_snapshot_switch(c->ct, &a.o, &err);
	else if (!strcmp(c->name, "snapshot-delete"))
		r = nvz_ct_snapshot_delete(c->ct, &a.o, &err);
	else if (!strcmp(c->name, "snapshot-mount"))
		r = nvz_ct_snapshot_mount(c->ct, &a.o, &err);
	else
		r = nvz_ct_snapshot_umount(c->ct, &a.o, &err);
	return r < 0 ? failed(c->name, a.o.id, err) : 0;
}
