/* The public cgroup API: open (detect the version, pick the backend once),
 * the operations that are the same on every hierarchy, and shared helpers. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/fs.h"

#define CG_WALK_MAX_DEPTH 256
#define CG_DESTROY_WAIT_MS 2000

char *nvz_cg_join(const char *dir, const char *name)
{
	char *s = NULL;
	if (asprintf(&s, "%s/%s", dir, name) < 0)
		return NULL;
	return s;
}

void nvz_cg_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int nvz_cg_read_file(const char *path, char **out, struct nvz_error **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "read '%s'", path);
	size_t len = 0, cap = 0;
	cleanup_free char *buf = NULL;
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 8192);
			if (!nb)
				return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "read '%s': out of memory", path);
			buf = nb;
			cap += 8192;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "read '%s'", path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = steal_ptr(&buf);
	return (int)len;
}

/* cgroup files take one value per write(2); a short write is a failure.
 * O_TRUNC is ignored by cgroupfs and keeps fixture files (tests) exact. */
int nvz_cg_write_file(const char *path, const char *value, struct nvz_error **err)
{
	cleanup_close int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "write '%s' to '%s'", value, path);
	/* A zero-length write never reaches the handler: "" is sent as "\n"
	 * (an empty cpuset.cpus, say), which cgroupfs strips. */
	if (!*value)
		value = "\n";
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	if (n < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "write '%s' to '%s'", value, path);
	if ((size_t)n != len)
		return nvz_err(err, NVZ_E_SYSTEM, EIO, "write '%s' to '%s': short write", value, path);
	return 0;
}

char **nvz_cg_split_words(const char *s)
{
	size_t n = 0;
	char **v = calloc(1, sizeof(*v));
	while (v && *s) {
		while (*s && isspace((unsigned char)*s))
			s++;
		size_t w = 0;
		while (s[w] && !isspace((unsigned char)s[w]))
			w++;
		if (!w)
			break;
		char **nv = realloc(v, (n + 2) * sizeof(*v));
		if (!nv || !(nv[n] = strndup(s, w))) {
			nvz_strv_free(nv ? nv : v);
			return NULL;
		}
		v = nv;
		v[++n] = NULL;
		s += w;
	}
	return v;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Child cgroups of dir. Names are listed first and the directory closed, so
 * a walk holds one fd at a time however deep the container nested. */
static int list_children(const char *dir, char ***out, struct nvz_error **err)
{
	cleanup_dir DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open cgroup '%s'", dir);
	cleanup_strv char **v = calloc(1, sizeof(*v));
	if (!v)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "list cgroup '%s': out of memory", dir);
	size_t n = 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char **nv = realloc(v, (n + 2) * sizeof(*v));
		if (!nv)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "list cgroup '%s': out of memory", dir);
		v = nv;
		v[n + 1] = NULL;
		if (!(v[n] = strdup(de->d_name)))
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "list cgroup '%s': out of memory", dir);
		n++;
	}
	*out = steal_ptr(&v);
	return 0;
}

/* Hand a local error to the caller unless one is already set (rule 1). */
static int pass_err(struct nvz_error **err, struct nvz_error *e)
{
	int code = e ? e->code : EIO;
	if (err && !*err)
		*err = e;
	else
		nvz_error_free(e);
	return -code;
}

typedef int (*walk_fn)(const char *dir, void *ctx, struct nvz_error **err);

/* Call fn on dir and every child cgroup: pre-order, or post-order (children
 * first, what rmdir needs). A missing dir is an empty tree. */
static int walk(const char *dir, bool post, walk_fn fn, void *ctx, int depth,
		struct nvz_error **err)
{
	if (depth > CG_WALK_MAX_DEPTH)
		return nvz_err(err, NVZ_E_SYSTEM, ELOOP, "cgroup '%s' is nested too deeply", dir);
	int r;
	if (!post && (r = fn(dir, ctx, err)) < 0)
		return r;
	cleanup_strv char **kids = NULL;
	if ((r = list_children(dir, &kids, err)) < 0)
		return r;
	for (char **k = kids; k && *k; k++) {
		cleanup_free char *sub = nvz_cg_join(dir, *k);
		if (!sub)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "walk cgroup '%s': out of memory", dir);
		if ((r = walk(sub, post, fn, ctx, depth + 1, err)) < 0)
			return r;
	}
	return post ? fn(dir, ctx, err) : 0;
}

/* Each pid in <dir>/cgroup.procs. A vanished cgroup holds nothing. */
static int for_each_pid(const char *dir, int (*fn)(pid_t pid, void *ctx), void *ctx,
			struct nvz_error **err)
{
	cleanup_free char *path = nvz_cg_join(dir, "cgroup.procs");
	cleanup_free char *buf = NULL;
	if (!path)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "cgroup '%s': out of memory", dir);
	struct nvz_error *e = NULL;
	if (nvz_cg_read_file(path, &buf, &e) < 0) {
		if (e->code != ENOENT && e->code != ENODEV)
			return pass_err(err, e);
		nvz_error_free(e);
		return 0;
	}
	int total = 0;
	for (char *p = buf, *end; *p; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0)
			total += fn((pid_t)pid, ctx);
	}
	return total;
}

static int kill_one(pid_t pid, void *ctx)
{
	(void)ctx;
	/* Never ourselves: a caller that joined the cgroup must survive to clean up. */
	if (pid == getpid())
		return 0;
	return kill(pid, SIGKILL) == 0 ? 1 : 0;
}

static int count_one(pid_t pid, void *ctx)
{
	(void)pid;
	(void)ctx;
	return 1;
}

static int kill_dir(const char *dir, void *ctx, struct nvz_error **err)
{
	int r = for_each_pid(dir, kill_one, NULL, err);
	if (r > 0)
		*(int *)ctx += r;
	return r < 0 ? r : 0;
}

static int count_dir(const char *dir, void *ctx, struct nvz_error **err)
{
	int r = for_each_pid(dir, count_one, NULL, err);
	if (r > 0)
		*(int *)ctx += r;
	return r < 0 ? r : 0;
}

int nvz_cg_kill_tree(const char *path, struct nvz_error **err)
{
	int n = 0;
	int r = walk(path, false, kill_dir, &n, 0, err);
	return r < 0 ? r : n;
}

int nvz_cg_count_tree(const char *path, struct nvz_error **err)
{
	int n = 0;
	int r = walk(path, false, count_dir, &n, 0, err);
	return r < 0 ? r : n;
}

int nvz_cg_wait_line(const char *path, const char *want, int ms, struct nvz_error **err)
{
	for (int waited = 0;; waited += 10) {
		cleanup_free char *buf = NULL;
		struct nvz_error *e = NULL;
		if (nvz_cg_read_file(path, &buf, &e) < 0)
			return pass_err(err, e);
		for (char *line, *p = buf; (line = strsep(&p, "\n"));)
			if (strcmp(line, want) == 0)
				return 0;
		if (waited >= ms)
			return nvz_err(err, NVZ_E_SYSTEM, ETIMEDOUT, "wait for '%s' in '%s': timed out",
				       want, path);
		nvz_cg_sleep_ms(10);
	}
}

int nvz_cg_mkdir_levels(const struct nvz_cgroup *cg, const struct nvz_cg_hier *h,
			nvz_cg_level_fn level, struct nvz_error **err)
{
	cleanup_free char *rel = nvz_cg_join(cg->prefix, cg->name);
	cleanup_free char *dir = strdup(h->mnt);
	if (!rel || !dir)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "create cgroup: out of memory");
	bool made = false;
	for (char *p = rel, *comp; (comp = strsep(&p, "/"));) {
		cleanup_free char *parent = steal_ptr(&dir);
		if (!(dir = nvz_cg_join(parent, comp)))
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "create cgroup: out of memory");
		made = mkdir(dir, 0755) == 0;
		if (!made && errno != EEXIST)
			return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "create cgroup '%s'", dir);
		int r = level ? level(h, parent, dir, p == NULL, err) : 0;
		if (r < 0)
			return r;
	}
	return made;
}

static int rmdir_one(const char *dir, void *ctx, struct nvz_error **err)
{
	(void)ctx;
	if (rmdir(dir) < 0 && errno != ENOENT)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "remove cgroup '%s'", dir);
	return 0;
}

/* A killed task leaves its cgroup asynchronously: retry EBUSY for a while. */
static int destroy_tree(const char *path, struct nvz_error **err)
{
	for (int waited = 0;; waited += 20) {
		struct nvz_error *e = NULL;
		if (walk(path, true, rmdir_one, NULL, 0, &e) == 0)
			return 0;
		if (e->code != EBUSY || waited >= CG_DESTROY_WAIT_MS)
			return pass_err(err, e);
		nvz_error_free(e);
		nvz_cg_sleep_ms(20);
	}
}

/* prefix: relative, components without "." or ".."; name: one component. */
static bool valid_rel(const char *s, bool allow_slash)
{
	if (!s || !*s || s[0] == '/' || strlen(s) > 1024)
		return false;
	cleanup_free char *dup = strdup(s);
	if (!dup)
		return false;
	for (char *p = dup, *c; (c = strsep(&p, "/"));) {
		if (!*c || strcmp(c, ".") == 0 || strcmp(c, "..") == 0 || (!allow_slash && p))
			return false;
		for (const char *q = c; *q; q++)
			if (*q == '\n' || !isprint((unsigned char)*q))
				return false;
	}
	return true;
}

static void hier_clear(struct nvz_cg_hier *h)
{
	free(h->mnt);
	free(h->path);
	free(h->name);
	nvz_strv_free(h->ctrls);
	nvz_strv_free(h->flags);
}

static char **strv_dup(char *const *v)
{
	size_t n = 0;
	while (v[n])
		n++;
	cleanup_strv char **d = calloc(n + 1, sizeof(*d));
	for (size_t i = 0; d && i < n; i++)
		if (!(d[i] = strdup(v[i])))
			return NULL;
	return steal_ptr(&d);
}

static int add_hier(struct nvz_cgroup *cg, const struct nvz_cg_mount *m)
{
	struct nvz_cg_hier h = { .v2 = m->v2 };
	cleanup_free char *rel = nvz_cg_join(cg->prefix, cg->name);
	bool ok = rel && (h.mnt = strdup(m->mnt)) && (h.path = nvz_cg_join(m->mnt, rel)) &&
		  (!m->name || (h.name = strdup(m->name))) && (h.ctrls = strv_dup(m->ctrls)) &&
		  (h.flags = strv_dup(m->flags));
	struct nvz_cg_hier *nv = ok ? realloc(cg->hier, (cg->nhier + 1) * sizeof(*nv)) : NULL;
	if (!nv) {
		hier_clear(&h);
		return -ENOMEM;
	}
	cg->hier = nv;
	cg->hier[cg->nhier++] = h;
	return 0;
}

/* v1: every v1 hierarchy, plus the (empty) cgroup2 one so that the
 * container's cgroup namespace is rooted there too and its init cannot write
 * into the host's unified root. v2: the cgroup2 mount alone. */
static int add_hierarchies(struct nvz_cgroup *cg, const struct nvz_cg_mounts *m,
			   enum nvz_cgroup_version v)
{
	bool have_v2 = false;
	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i].v2 && have_v2)
			continue;
		if (v == NVZ_CGROUP_V2 && !m->v[i].v2)
			continue;
		if (add_hier(cg, &m->v[i]) < 0)
			return -ENOMEM;
		have_v2 = have_v2 || m->v[i].v2;
	}
	return 0;
}

static int open_from(struct nvz_cgroup *cg, const char *buf, size_t len, struct nvz_error **err)
{
	struct nvz_cg_mounts m;
	if (nvz_cg_mountinfo_parse(buf, len, &m, err) < 0)
		return -EINVAL;
	enum nvz_cgroup_version v;
	/* The override exists for tests that drive the v2 backend on a v1 host. */
	int r = nvz_cg_detect(&m, getenv("NVZ_CGROUP_VERSION"), &v, err);
	if (r == 0) {
		cg->ops = v == NVZ_CGROUP_V1 ? &nvz_cg_v1_backend : &nvz_cg_v2_backend;
		if (add_hierarchies(cg, &m, v) < 0)
			r = nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "open cgroup: out of memory");
	}
	nvz_cg_mounts_free(&m);
	return r;
}

int nvz_cgroup_open(struct nvz_cgroup **out, const char *prefix, const char *name,
		    struct nvz_error **err)
{
	if (!valid_rel(prefix, true))
		return nvz_err(err, NVZ_E_SYSTEM, EINVAL, "invalid cgroup prefix '%s'",
			       prefix ? prefix : "");
	if (!valid_rel(name, false))
		return nvz_err(err, NVZ_E_SYSTEM, EINVAL, "invalid cgroup name '%s'", name ? name : "");
	cleanup_free char *buf = NULL;
	int len = nvz_cg_read_file("/proc/self/mountinfo", &buf, err);
	if (len < 0)
		return len;
	struct nvz_cgroup *cg = calloc(1, sizeof(*cg));
	if (!cg || !(cg->prefix = strdup(prefix)) || !(cg->name = strdup(name))) {
		nvz_cgroup_free(cg);
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "open cgroup: out of memory");
	}
	int r = open_from(cg, buf, (size_t)len, err);
	if (r < 0) {
		nvz_cgroup_free(cg);
		return nvz_err_wrap(err, "cgroup %s/%s", prefix, name);
	}
	*out = cg;
	return 0;
}

void nvz_cgroup_free(struct nvz_cgroup *cg)
{
	if (!cg)
		return;
	for (size_t i = 0; i < cg->nhier; i++)
		hier_clear(&cg->hier[i]);
	free(cg->hier);
	nvz_strv_free(cg->avail);
	free(cg->prefix);
	free(cg->name);
	free(cg);
}

enum nvz_cgroup_version nvz_cgroup_version(const struct nvz_cgroup *cg)
{
	return cg->ops->version;
}

bool nvz_cg_has_controller(const struct nvz_cgroup *cg, const char *ctrl)
{
	return cg->ops->has_controller(cg, ctrl);
}

int nvz_cgroup_create(struct nvz_cgroup *cg, struct nvz_error **err)
{
	return cg->ops->create(cg, err);
}

int nvz_cgroup_open_v2_dir(const struct nvz_cgroup *cg)
{
	for (size_t i = 0; i < cg->nhier; i++)
		if (cg->hier[i].v2)
			return open(cg->hier[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	errno = ENOENT;
	return -1;
}

int nvz_cgroup_enter_v1_self(struct nvz_cgroup *cg, bool but_counting, struct nvz_error **err)
{
	int fds[NVZ_CGROUP_V1_MAX];
	int n = nvz_cgroup_open_v1_tasks(cg, but_counting, fds, NVZ_CGROUP_V1_MAX);
	if (n < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "enter cgroup %s/%s", cg->prefix, cg->name);
	int r = 0;
	for (int i = 0; i < n; i++) {
		if (r == 0 && write(fds[i], "0", 1) != 1)
			r = nvz_err_sys(err, NVZ_E_SYSTEM, errno, "enter cgroup %s/%s", cg->prefix, cg->name);
		close(fds[i]);
	}
	return r;
}

int nvz_cgroup_open_v1_tasks(const struct nvz_cgroup *cg, bool but_counting, int *fds, size_t max)
{
	const struct nvz_cg_hier *counting = but_counting ? cg->ops->procs_hier(cg) : NULL;
	size_t n = 0;
	for (size_t i = 0; i < cg->nhier; i++) {
		if (cg->hier[i].v2 || &cg->hier[i] == counting)
			continue;
		cleanup_free char *tasks = n < max ? nvz_cg_join(cg->hier[i].path, "tasks") : NULL;
		int fd = tasks ? open(tasks, O_WRONLY | O_CLOEXEC) : -1;
		if (fd < 0) {
			if (n == max)
				errno = E2BIG;
			else if (!tasks)
				errno = ENOMEM;
			nvz_close_all(fds, n);
			return -1;
		}
		fds[n++] = fd;
	}
	return (int)n;
}

int nvz_cgroup_open_counting(const struct nvz_cgroup *cg, bool *v2)
{
	const struct nvz_cg_hier *h = cg->ops->procs_hier(cg);
	if (!h) {
		errno = ENOENT;
		return -1;
	}
	*v2 = h->v2;
	cleanup_free char *file = nvz_cg_join(h->path, h->v2 ? "cgroup.procs" : "tasks");
	if (!file) {
		errno = ENOMEM;
		return -1;
	}
	return open(file, O_WRONLY | O_CLOEXEC);
}

int nvz_cgroup_open_leaf_of(const struct nvz_cgroup *cg, pid_t pid)
{
	const struct nvz_cg_hier *h = cg->ops->procs_hier(cg);
	size_t mlen = h ? strlen(h->mnt) : 0;
	char file[64];
	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	cleanup_free char *buf = NULL;
	if (!h || !h->v2 || strncmp(h->path, h->mnt, mlen) || nvz_cg_read_file(file, &buf, NULL) < 0) {
		errno = ENOENT;
		return -1;
	}
	/* Our own path, as /proc shows it: from the mount's root on. */
	const char *own = h->path + mlen;
	size_t olen = strlen(own);
	char *line = strstr(buf, "0::");
	if (line && (line == buf || line[-1] == '\n')) {
		char *p = line + 3;
		p[strcspn(p, "\n")] = '\0';
		/* Strictly below ours, and no way back up. */
		if (!strncmp(p, own, olen) && p[olen] == '/' && !strstr(p, "/..")) {
			cleanup_free char *dir = NULL, *procs = NULL;
			if (asprintf(&dir, "%s%s", h->mnt, p) < 0 || !(procs = nvz_cg_join(dir, "cgroup.procs"))) {
				errno = ENOMEM;
				return -1;
			}
			return open(procs, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		}
	}
	errno = ENOENT;
	return -1;
}

/* pid into the cgroup's directory in each hierarchy, or into its root. */
static int move_pid(struct nvz_cgroup *cg, pid_t pid, bool to_root, struct nvz_error **err)
{
	char val[32];
	snprintf(val, sizeof(val), "%d", (int)pid);
	for (size_t i = 0; i < cg->nhier; i++) {
		const struct nvz_cg_hier *h = &cg->hier[i];
		cleanup_free char *procs = nvz_cg_join(to_root ? h->mnt : h->path, "cgroup.procs");
		if (!procs)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "move pid %d: out of memory", (int)pid);
		if (nvz_cg_write_file(procs, val, err) < 0)
			return nvz_err_wrap(err, "move pid %d %s cgroup %s/%s", (int)pid,
					    to_root ? "out of" : "into", cg->prefix, cg->name);
	}
	return 0;
}

int nvz_cgroup_attach(struct nvz_cgroup *cg, pid_t pid, struct nvz_error **err)
{
	return move_pid(cg, pid, false, err);
}

int nvz_cgroup_leave(struct nvz_cgroup *cg, pid_t pid, struct nvz_error **err)
{
	return move_pid(cg, pid, true, err);
}

bool nvz_cgroup_exists(const struct nvz_cgroup *cg)
{
	for (size_t i = 0; i < cg->nhier; i++)
		if (is_dir(cg->hier[i].path))
			return true;
	return false;
}

int nvz_cgroup_nr_procs(const struct nvz_cgroup *cg, struct nvz_error **err)
{
	const struct nvz_cg_hier *h = cg->ops->procs_hier(cg);
	return h ? nvz_cg_count_tree(h->path, err) : 0;
}

int nvz_cgroup_kill(struct nvz_cgroup *cg, struct nvz_error **err)
{
	return cg->ops->kill(cg, err);
}

int nvz_cgroup_freeze(struct nvz_cgroup *cg, bool frozen, struct nvz_error **err)
{
	return cg->ops->freeze(cg, frozen, err);
}

bool nvz_cgroup_frozen(const struct nvz_cgroup *cg)
{
	const struct nvz_cg_hier *h = cg->ops->freezer_hier(cg);
	bool v1 = nvz_cgroup_version(cg) == NVZ_CGROUP_V1;
	cleanup_free char *path = h ? nvz_cg_join(h->path, v1 ? "freezer.state" : "cgroup.events") : NULL;
	cleanup_free char *text = NULL;
	if (!path || nvz_read_file(path, 4096, &text, NULL, NULL) < 0)
		return false;
	return v1 ? !strncmp(text, "FROZEN", 6) : strstr(text, "frozen 1") != NULL;
}

char *nvz_cgroup_freezer_dir(const struct nvz_cgroup *cg)
{
	const struct nvz_cg_hier *h = cg->ops->freezer_hier(cg);
	return h && nvz_path_exists(h->path) ? strdup(h->path) : NULL;
}

int nvz_cgroup_destroy(struct nvz_cgroup *cg, struct nvz_error **err)
{
	for (size_t i = 0; i < cg->nhier; i++) {
		int r = destroy_tree(cg->hier[i].path, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int nvz_cg_open_in_root(int rootfd, const char *rel, const char *shown, struct nvz_error **err)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open '%s'", shown);
	return fd;
}

int nvz_cgroup_mount_inside(const struct nvz_cgroup *cg, const char *root, struct nvz_error **err)
{
	cleanup_free char *shown = nvz_cg_join(root, "sys/fs/cgroup");
	if (!shown)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "mount cgroups: out of memory");
	cleanup_close int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open root '%s'", root);
	return cg->ops->mount_inside(cg, rootfd, "sys/fs/cgroup", shown, err);
}

/* A file name the caller passes: one plain component. */
static int check_file(const char *controller, const char *file, struct nvz_error **err)
{
	if (!valid_rel(file, false) || (controller && !valid_rel(controller, false)))
		return nvz_err(err, NVZ_E_SYSTEM, EINVAL, "invalid cgroup file '%s'", file ? file : "");
	return 0;
}

int nvz_cgroup_write(struct nvz_cgroup *cg, const char *controller, const char *file,
		     const char *value, struct nvz_error **err)
{
	if (check_file(controller, file, err) < 0)
		return -EINVAL;
	const struct nvz_cg_hier *h = NULL;
	int r = cg->ops->file_hier(cg, controller, file, &h, err);
	if (r < 0)
		return r;
	cleanup_free char *path = nvz_cg_join(h->path, file);
	if (!path)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "write '%s': out of memory", file);
	return nvz_cg_write_file(path, value, err);
}

/* The value with its final newline dropped ("10", not "10\n"). */
int nvz_cgroup_read(const struct nvz_cgroup *cg, const char *controller, const char *file,
		    char **out, struct nvz_error **err)
{
	if (check_file(controller, file, err) < 0)
		return -EINVAL;
	const struct nvz_cg_hier *h = NULL;
	int r = cg->ops->file_hier(cg, controller, file, &h, err);
	if (r < 0)
		return r;
	cleanup_free char *path = nvz_cg_join(h->path, file);
	if (!path)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "read '%s': out of memory", file);
	int len = nvz_cg_read_file(path, out, err);
	if (len < 0)
		return len;
	if (len > 0 && (*out)[len - 1] == '\n')
		(*out)[len - 1] = '\0';
	return 0;
}

int nvz_cg_mount_fd(int fd, const char *shown, const char *what, const char *src,
		    const char *fstype, unsigned long flags, const char *data,
		    struct nvz_error **err)
{
	char target[64];
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	if (mount(src, target, fstype, flags, data) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "mount %s at '%s'", what, shown);
	return 0;
}

int nvz_cg_remount_ro(int fd, const char *shown, unsigned long flags, struct nvz_error **err)
{
	char target[64];
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	/* A bind remount changes only this mount's flags; the ones not passed are cleared. */
	if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | flags, NULL) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "remount '%s' read-only", shown);
	return 0;
}

int nvz_cg_mkdir_open(int dirfd, const char *name, const char *shown, struct nvz_error **err)
{
	if (mkdirat(dirfd, name, 0755) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "create '%s/%s'", shown, name);
	int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open '%s/%s'", shown, name);
	return fd;
}
