/* Device access of a container: deny everything, allow the nodes every CT
 * has plus its DEVNODES/DEVICES rules. v1 edits devices.allow/deny; v2
 * attaches a device program (bpf-devices.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "nvz/cleanup.h"

enum { ACC_MKNOD = 1, ACC_READ = 2, ACC_WRITE = 4, ACC_ALL = 7 };

/* What OpenVZ gave every container: the basic character devices, ttys and
 * ptys, and mknod of any node (creating one grants no access to it). */
static const struct nvz_dev_rule standard[] = {
	{ 'c', 1, 3, true, true, true, "" },	/* null */
	{ 'c', 1, 5, true, true, true, "" },	/* zero */
	{ 'c', 1, 7, true, true, true, "" },	/* full */
	{ 'c', 1, 8, true, true, true, "" },	/* random */
	{ 'c', 1, 9, true, true, true, "" },	/* urandom */
	{ 'c', 5, 0, true, true, true, "" },	/* tty */
	{ 'c', 5, 1, true, true, true, "" },	/* console */
	{ 'c', 5, 2, true, true, true, "" },	/* ptmx */
	{ 'c', 136, -1, true, true, true, "" }, /* pts */
	{ 'c', -1, -1, false, false, true, "" },
	{ 'b', -1, -1, false, false, true, "" },
};

static unsigned rule_access(const struct nvz_dev_rule *r)
{
	return (r->mknod ? ACC_MKNOD : 0) | (r->read ? ACC_READ : 0) | (r->write ? ACC_WRITE : 0);
}

static struct nvz_cg_dev *lookup(struct nvz_cg_dev *v, size_t n, char type, long major,
				 long minor)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].type == type && v[i].major == major && v[i].minor == minor)
			return &v[i];
	return NULL;
}

/* The kernel keeps one exception per type/major/minor with the access
 * bits or-ed together: do the same, so old and new lists compare. */
static int merge_one(struct nvz_cg_dev **v, size_t *n, char type, long major, long minor,
		     unsigned access)
{
	struct nvz_cg_dev *d = lookup(*v, *n, type, major, minor);
	if (d) {
		d->access |= access;
		return 0;
	}
	struct nvz_cg_dev *nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = (struct nvz_cg_dev){ type, major, minor, access };
	return 0;
}

int nvz_cg_dev_merge(const struct nvz_dev_rule *rules, size_t n, struct nvz_cg_dev **out,
		     size_t *nout, struct nvz_error **err)
{
	cleanup_free struct nvz_cg_dev *v = NULL;
	size_t nv = 0;
	for (size_t i = 0; i < n; i++) {
		const struct nvz_dev_rule *r = &rules[i];
		unsigned acc = rule_access(r);
		if (r->type != 'a' && r->type != 'c' && r->type != 'b')
			return nvz_err(err, NVZ_E_DEVICES, EINVAL, "invalid device type '%c'", r->type);
		if (!acc) /* "none": nothing to grant */
			continue;
		int e = 0;
		if (r->type != 'b')
			e = merge_one(&v, &nv, 'c', r->major, r->minor, acc);
		if (e == 0 && r->type != 'c')
			e = merge_one(&v, &nv, 'b', r->major, r->minor, acc);
		if (e < 0)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "device rules: out of memory");
	}
	*out = steal_ptr(&v);
	*nout = nv;
	return 0;
}

/* ---- v1: devices.allow / devices.deny / devices.list -------------------- */

static void fmt_num(char buf[24], long v)
{
	if (v < 0)
		snprintf(buf, 24, "*");
	else
		snprintf(buf, 24, "%ld", v);
}

/* "c 1:3 rwm", the format of all three files. */
static void fmt_dev(char buf[96], char type, long major, long minor, unsigned access)
{
	char ma[24], mi[24];
	fmt_num(ma, major);
	fmt_num(mi, minor);
	snprintf(buf, 96, "%c %s:%s %s%s%s", type, ma, mi, access & ACC_READ ? "r" : "",
		 access & ACC_WRITE ? "w" : "", access & ACC_MKNOD ? "m" : "");
}

static long parse_num(const char *s, char **end)
{
	if (*s == '*') {
		*end = (char *)s + 1;
		return -1;
	}
	return strtol(s, end, 10);
}

/* devices.list: "a *:* rwm" alone when everything is allowed, else one
 * line per exception. Parsers take buffers (STYLE rule 4). */
static int parse_list(char *text, struct nvz_cg_dev **out, size_t *n, bool *allow_all)
{
	*allow_all = false;
	for (char *line, *p = text; (line = strsep(&p, "\n"));) {
		char *end = NULL;
		if (!*line)
			continue;
		if (line[0] == 'a') {
			*allow_all = true;
			continue;
		}
		if ((line[0] != 'c' && line[0] != 'b') || line[1] != ' ')
			return -EINVAL;
		long major = parse_num(line + 2, &end);
		if (*end != ':')
			return -EINVAL;
		long minor = parse_num(end + 1, &end);
		if (*end != ' ')
			return -EINVAL;
		unsigned acc = 0;
		for (const char *a = end + 1; *a; a++)
			acc |= *a == 'r' ? ACC_READ : *a == 'w' ? ACC_WRITE : *a == 'm' ? ACC_MKNOD : 0;
		if (merge_one(out, n, line[0], major, minor, acc) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* devices.allow and devices.deny of one cgroup, each opened once for all
 * of a transition's rules: every write() is a rule of its own to the
 * kernel, and opening a cgroup file costs about what the write does. */
struct dev_files {
	const char *dir;
	int allow, deny;
};

static void dev_files_close(struct dev_files *f)
{
	if (f->allow >= 0)
		close(steal_fd(&f->allow));
	if (f->deny >= 0)
		close(steal_fd(&f->deny));
}

static int dev_write(struct dev_files *f, const char *file, const char *rule, struct nvz_error **err)
{
	bool allow = strcmp(file, "devices.allow") == 0;
	int *fd = allow ? &f->allow : &f->deny;
	if (*fd < 0) {
		cleanup_free char *path = nvz_cg_join(f->dir, file);
		if (!path)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "set devices: out of memory");
		*fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	size_t len = strlen(rule);
	ssize_t n = *fd >= 0 ? write(*fd, rule, len) : -1;
	if (n == (ssize_t)len)
		return 0;
	int code = n < 0 ? errno : EIO;
	/* The v1 controller never grants a child more than its parent has. */
	if (code == EPERM && allow)
		return nvz_err_sys(err, NVZ_E_DEVICES, code,
				   "unable to allow '%s' in '%s': the parent cgroup does not allow it",
				   rule, f->dir);
	return nvz_err_sys(err, NVZ_E_DEVICES, code, "unable to write '%s' to '%s/%s'", rule, f->dir,
			   file);
}

static bool has_children(const char *dir)
{
	cleanup_dir DIR *d = opendir(dir);
	for (struct dirent *de; d && (de = readdir(d));)
		if (de->d_type == DT_DIR && strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			return true;
	return false;
}

static int read_list(const char *dir, struct nvz_cg_dev **out, size_t *n, bool *allow_all,
		     struct nvz_error **err)
{
	cleanup_free char *path = nvz_cg_join(dir, "devices.list");
	cleanup_free char *text = NULL;
	if (!path)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "set devices: out of memory");
	if (nvz_cg_read_file(path, &text, err) < 0)
		return -EIO;
	*out = NULL;
	*n = 0;
	int r = parse_list(text, out, n, allow_all);
	if (r < 0) {
		free(steal_ptr(out));
		return nvz_err(err, NVZ_E_SYSTEM, -r, "unexpected contents of '%s'", path);
	}
	return 0;
}

/* From what the kernel has now to want, touching only what differs, so a
 * running CT never sees a rule it keeps disappear for a moment. "a" in
 * devices.deny (switch to deny-by-default) is only needed the first time,
 * and the kernel refuses it (EINVAL) once the cgroup has children. */
static int v1_transition(const char *dir, const struct nvz_cg_dev *want, size_t nwant,
			 struct nvz_error **err)
{
	cleanup_free struct nvz_cg_dev *cur = NULL;
	size_t ncur = 0;
	bool allow_all = false;
	if (read_list(dir, &cur, &ncur, &allow_all, err) < 0)
		return -EIO;
	__attribute__((cleanup(dev_files_close))) struct dev_files f = { dir, -1, -1 };
	if (allow_all) {
		if (has_children(dir))
			return nvz_err(err, NVZ_E_DEVICES, EBUSY,
				       "cannot restrict device access of '%s': it has child cgroups "
				       "and allows every device; restart the container", dir);
		if (dev_write(&f, "devices.deny", "a", err) < 0)
			return -EIO;
		ncur = 0;
	}
	char rule[96];
	for (size_t i = 0; i < ncur; i++) {
		const struct nvz_cg_dev *c = &cur[i];
		const struct nvz_cg_dev *w = lookup((struct nvz_cg_dev *)want, nwant, c->type,
						    c->major, c->minor);
		unsigned drop = c->access & ~(w ? w->access : 0);
		fmt_dev(rule, c->type, c->major, c->minor, drop);
		if (drop && dev_write(&f, "devices.deny", rule, err) < 0)
			return -EIO;
	}
	for (size_t i = 0; i < nwant; i++) {
		const struct nvz_cg_dev *w = &want[i];
		const struct nvz_cg_dev *c = lookup(cur, ncur, w->type, w->major, w->minor);
		unsigned grant = w->access & ~(c ? c->access : 0);
		fmt_dev(rule, w->type, w->major, w->minor, grant);
		if (grant && dev_write(&f, "devices.allow", rule, err) < 0)
			return -EIO;
	}
	return 0;
}

int nvz_cg_v1_set_devices(struct nvz_cgroup *cg, const struct nvz_dev_rule *rules, size_t n,
			  struct nvz_error **err)
{
	const struct nvz_cg_hier *h = NULL;
	if (!nvz_cg_has_controller(cg, "devices"))
		return nvz_err(err, NVZ_E_DEVICES, EOPNOTSUPP,
			       "device access control needs the 'devices' cgroup controller, which is "
			       "not available on this host");
	if (cg->ops->file_hier(cg, "devices", "devices.list", &h, err) < 0)
		return -ENOENT;
	cleanup_free struct nvz_cg_dev *want = NULL, *old = NULL;
	size_t nwant = 0, nold = 0;
	bool old_all = false;
	if (nvz_cg_dev_merge(rules, n, &want, &nwant, err) < 0 ||
	    read_list(h->path, &old, &nold, &old_all, err) < 0)
		return -EIO;
	if (v1_transition(h->path, want, nwant, err) == 0)
		return 0;
	/* Best effort back to where we started. */
	(void)v1_transition(h->path, old, nold, NULL);
	if (old_all) {
		__attribute__((cleanup(dev_files_close))) struct dev_files f = { h->path, -1, -1 };
		(void)dev_write(&f, "devices.allow", "a", NULL);
	}
	return -EIO;
}

/* ---- v2 and the public call --------------------------------------------- */

int nvz_cg_v2_set_devices(struct nvz_cgroup *cg, const struct nvz_dev_rule *rules, size_t n,
			  struct nvz_error **err)
{
	cleanup_free struct nvz_cg_dev *want = NULL;
	size_t nwant = 0;
	if (nvz_cg_dev_merge(rules, n, &want, &nwant, err) < 0)
		return -EIO;
	return nvz_cg_bpf_set_devices(cg->hier[0].path, want, nwant, err);
}

int nvz_cgroup_set_devices(struct nvz_cgroup *cg, const struct nvz_dev_rule *rules, size_t n,
			   struct nvz_error **err)
{
	size_t nstd = sizeof(standard) / sizeof(standard[0]);
	cleanup_free struct nvz_dev_rule *all = calloc(nstd + n, sizeof(*all));
	if (!all)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "set devices: out of memory");
	memcpy(all, standard, sizeof(standard));
	if (n)
		memcpy(all + nstd, rules, n * sizeof(*rules));
	if (cg->ops->set_devices(cg, all, nstd + n, err) < 0)
		return nvz_err_wrap(err, "set devices of cgroup %s/%s", cg->prefix, cg->name);
	return 0;
}
