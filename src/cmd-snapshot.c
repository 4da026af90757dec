/* vzctl snapshot, snapshot-switch, snapshot-delete, snapshot-mount,
 * snapshot-umount and snapshot-list, with OpenVZ's options. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nvz/cleanup.h"
#include "vzctl.h"

enum { O_ID = 256, O_NAME, O_DESC, O_TARGET, O_SKIP_CONFIG, O_SKIP_RESUME, O_SKIP_SUSPEND, O_MUST_RESUME,
       O_NOHDR, O_OUTPUT, O_LIST, O_HELP };

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
	{ "list", no_argument, NULL, O_LIST },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

struct snap_args {
	struct nvz_snapshot_opts o;
	bool no_header, list_fields, help;
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
		return opt == O_ID || opt == O_NOHDR || opt == O_OUTPUT || opt == O_LIST || opt == O_HELP;
	return opt == O_ID; /* delete, umount */
}

#define LIST_USAGE                                                                  \
	"vzctl snapshot-list <ctid|name> [-H] [-o field[,field...]] [--id <uuid>]\n" \
	"vzctl snapshot-list <ctid|name> -L | --list\n"

/* An option the command does not take, as vzctl: getopt's line (written
 * here for an option of another snapshot command, which vzctl's own table
 * did not know), then 21 from its parse_opt, or snapshot-list's usage and
 * 20. */
static int bad_option(const struct cmd_ctx *c, const char *typed, int opt)
{
	if (typed && typed[1] == '-')
		fprintf(stderr, "%s: unrecognized option '%s'\n", program_invocation_name, typed);
	else if (typed)
		fprintf(stderr, "%s: invalid option -- '%c'\n", program_invocation_name, opt);
	if (strcmp(c->name, "snapshot-list"))
		return NVZ_E_VALUE;
	fputs(LIST_USAGE, stderr);
	return NVZ_E_SYNTAX;
}

static int parse(struct cmd_ctx *c, struct snap_args *a)
{
	memset(a, 0, sizeof(*a));
	cleanup_free char **av = cmd_getopt_argv(c);
	if (!av)
		return NVZ_E_SYSTEM;
	optind = 1;
	opterr = 1;
	int o, at = 1;
	while ((o = getopt_long(c->argc + 1, av, "+Ho:Lh", snap_opts, NULL)) != -1) {
		int letter = o;
		if (o == '?')
			return bad_option(c, NULL, o);
		if (o == 'H')
			o = O_NOHDR;
		else if (o == 'o')
			o = O_OUTPUT;
		else if (o == 'L')
			o = O_LIST;
		else if (o == 'h')
			o = O_HELP;
		if (o < O_ID || !allowed(c->name, o))
			return bad_option(c, av[at], letter);
		at = optind;
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
		case O_LIST: a->list_fields = true; break;
		case O_HELP: a->help = true; break;
		default: break;
		}
	}
	if (optind <= c->argc)
		return cmd_bad_args("Invalid extra arguments: %s", c->argv[optind - 1]);
	if (!a->o.id && strcmp(c->name, "snapshot") && strcmp(c->name, "snapshot-list"))
		return cmd_bad_args("%s", "Invalid syntax: snapshot id is missing");
	return 0;
}

/* snapshot-list's fields as vzctl's: name, header, and the widths of a
 * cell and of its header ("description" is nvz's older name of desc). */
static const struct list_field {
	const char *name, *hdr;
	int width, hdr_width;
} list_fields[] = {
	{ "uuid", "UUID", 38, 38 },  { "parent_uuid", "PARENT_UUID", 38, 38 }, { "current", "C", 1, 1 },
	{ "date", "DATE", 19, 19 },  { "name", "NAME", 32, 32 },	       { "desc", "DESC", 38, 32 },
	{ "device", "DEVICE", 32, 16 }, { "target", "TARGET", 32, 32 },
};
#define N_LIST_FIELDS (sizeof(list_fields) / sizeof(list_fields[0]))

static const struct list_field *find_field(const char *name)
{
	if (!strcasecmp(name, "description"))
		name = "desc";
	for (size_t i = 0; i < N_LIST_FIELDS; i++)
		if (!strcasecmp(name, list_fields[i].name))
			return &list_fields[i];
	return NULL;
}

static const char *field_text(const struct nvz_snapshot_info *s, const struct list_field *f, char *buf,
			      size_t len)
{
	const char *n = f->name;
	if (!strcmp(n, "uuid") || !strcmp(n, "parent_uuid")) {
		const char *u = !strcmp(n, "uuid") ? s->uuid : s->parent;
		snprintf(buf, len, *u ? "{%s}" : "%s", u);
		return buf;
	}
	return !strcmp(n, "current") ? (s->current ? "*" : "")
	       : !strcmp(n, "date")  ? s->date
	       : !strcmp(n, "name")  ? s->name
	       : !strcmp(n, "desc")  ? s->description
	       : !strcmp(n, "device") ? s->device
				     : s->target;
}

/* A uuid with or without braces, as vzctl took it. */
static bool uuid_like(const char *s)
{
	size_t n = strlen(s);
	if (n == 38 && s[0] == '{' && s[37] == '}')
		s++, n = 36;
	for (size_t i = 0; n == 36 && i < n; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return n == 36;
}

static const struct nvz_snapshot_info *by_uuid(const struct nvz_snapshot_info *v, size_t n, const char *u)
{
	for (size_t i = 0; *u && i < n; i++)
		if (!strncasecmp(v[i].uuid, u, 36))
			return &v[i];
	return NULL;
}

static void print_row(const struct nvz_snapshot_info *s, const struct list_field **f, size_t nf)
{
	for (size_t i = 0; i < nf; i++) {
		char buf[64];
		const char *t = field_text(s, f[i], buf, sizeof(buf));
		if (i + 1 == nf)
			printf("%s\n", t);
		else
			printf("%-*s ", f[i]->width, t);
	}
}

/* vzctl snapshot-list: -L names the fields; --id lists that snapshot and
 * its ancestors down to the first. */
static int list(struct cmd_ctx *c, const struct snap_args *a)
{
	if (a->help || a->list_fields) {
		if (a->help)
			fputs(LIST_USAGE, stdout);
		for (size_t i = 0; !a->help && i < N_LIST_FIELDS; i++)
			printf("%-15s %-15s\n", list_fields[i].name, list_fields[i].hdr);
		return 0;
	}
	char fields[256];
	snprintf(fields, sizeof(fields), "%s", a->fields ? a->fields : "parent_uuid,current,uuid,date,name");
	const struct list_field *f[16];
	size_t nf = 0;
	char *save = NULL;
	for (char *name = strtok_r(fields, ",", &save); name && nf < 16; name = strtok_r(NULL, ",", &save))
		if (!(f[nf++] = find_field(name))) {
			fprintf(stderr, "Unknown field: %s\n", name);
			return NVZ_E_VALUE;
		}
	if (a->o.id && !uuid_like(a->o.id)) {
		fprintf(stderr, "Invalid guid is specified: %s\n", a->o.id);
		return NVZ_E_VALUE;
	}
	struct nvz_error *err = NULL;
	cleanup_free struct nvz_snapshot_info *v = NULL;
	size_t n;
	if (nvz_ct_snapshot_list(c->ct, &v, &n, &err) < 0)
		return cli_fail(err);
	const char *id = a->o.id && a->o.id[0] == '{' ? a->o.id + 1 : a->o.id;
	const struct nvz_snapshot_info *s = id && n ? by_uuid(v, n, id) : NULL;
	if (id && n && !s) {
		fprintf(stderr, "Can't find snapshot by uuid {%.36s}\n", id);
		return NVZ_E_VALUE;
	}
	for (size_t i = 0; !a->no_header && i < nf; i++)
		printf(i + 1 < nf ? "%-*s " : "%-*s\n", f[i]->hdr_width, f[i]->hdr);
	if (id) {
		/* A chain, not a loop, even in a damaged directory. */
		for (size_t hops = 0; s && hops < n; s = by_uuid(v, n, s->parent), hops++)
			print_row(s, f, nf);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		print_row(&v[i], f, nf);
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
