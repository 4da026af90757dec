/* Internal to lib/cgroup: the parsed cgroup mounts, the cgroup object and the
 * table of functions each cgroup version implements (STYLE rule 6). */
#ifndef NVZ_CGROUP_BACKEND_H
#define NVZ_CGROUP_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "nvz/cgroup.h"
#include "nvz/error.h"

/* One cgroup filesystem from /proc/self/mountinfo (one row per superblock). */
struct nvz_cg_mount {
	char *mnt;     /* mount point, unescaped */
	char *root;    /* cgroup path shown at the mount point ("/" unless cgroupns/bind) */
	char **ctrls;  /* v1 controllers from the super options; empty for cgroup2 */
	char **flags;  /* v1 hierarchy flags (xattr, clone_children...), repeated on mount */
	char *name;    /* v1 "name=" hierarchy (e.g. "systemd"), or NULL */
	unsigned dev_major, dev_minor;
	bool v2;
};

struct nvz_cg_mounts {
	struct nvz_cg_mount *v;
	size_t n;
};

/* Parse mountinfo text; keeps cgroup and cgroup2 mounts only, the first mount
 * of each superblock (a mount of the whole hierarchy wins over a subtree). */
int nvz_cg_mountinfo_parse(const char *buf, size_t len, struct nvz_cg_mounts *out,
			   struct nvz_error **err);
void nvz_cg_mounts_free(struct nvz_cg_mounts *m);
bool nvz_cg_strv_has(char *const *v, const char *s);
/* Pick the version: v1 if a v1 hierarchy carries memory, pids or cpu, else v2
 * if cgroup2 is mounted. override is $NVZ_CGROUP_VERSION (tests only) or NULL. */
int nvz_cg_detect(const struct nvz_cg_mounts *m, const char *override,
		  enum nvz_cgroup_version *out, struct nvz_error **err);

/* One hierarchy the container's cgroup lives in. */
struct nvz_cg_hier {
	char *mnt;    /* host mount point */
	char *path;   /* <mnt>/<prefix>/<name> */
	char **ctrls; /* v1 controllers (NULL-terminated, maybe empty) */
	char **flags; /* v1 hierarchy flags */
	char *name;   /* v1 name= hierarchy or NULL */
	bool v2;      /* cgroup2: the only one on v2, the empty hybrid one on v1 */
};

struct nvz_cgroup {
	const struct nvz_cg_backend *ops;
	char *prefix;
	char *name;
	struct nvz_cg_hier *hier;
	size_t nhier;
	char **avail; /* v2: controllers enabled for the container, set by create */
	/* create made the container's directory just now: until the first
	 * limits are set its files hold the kernel's defaults (a start). */
	bool fresh;
};

/* One write of a resource transaction: what to write and what was there
 * before, read ahead of every write, to put back if a later write fails. */
struct nvz_cg_write {
	char *path;
	char *value;
	char *old;
	char *what;  /* "memory limit": messages say "unable to set <what> to <value>" */
	int status;  /* NVZ_E_SETUBC for beancounter-like files, NVZ_E_SYSTEM otherwise */
	bool usage;  /* EBUSY means the container already uses more than this */
	bool bytes;  /* a byte count: messages say "N bytes" */
};

struct nvz_cg_plan {
	struct nvz_cg_write *v;
	size_t n;
	/* For a fresh cgroup: a file whose default is known is not read; a
	 * value equal to it is not written at all. */
	bool fresh;
};

struct nvz_cg_step {
	const char *path, *value;
	const char *old; /* NULL: read the file now */
	const char *what;
	int status;
	bool usage, bytes;
};
int nvz_cg_plan_add(struct nvz_cg_plan *p, const struct nvz_cg_step *s, struct nvz_error **err);
/* Write in order; on a failure restore the written ones in reverse order
 * (best effort) and return the first error. Unchanged values are skipped. */
int nvz_cg_plan_apply(struct nvz_cg_plan *p, struct nvz_error **err);
void nvz_cg_plan_free(struct nvz_cg_plan *p);

struct nvz_cg_backend {
	enum nvz_cgroup_version version;
	/* Make every level, then whatever a controller needs before a task joins. */
	int (*create)(struct nvz_cgroup *cg, struct nvz_error **err);
	int (*kill)(struct nvz_cgroup *cg, struct nvz_error **err);
	int (*freeze)(struct nvz_cgroup *cg, bool frozen, struct nvz_error **err);
	/* The hierarchy whose directory freezes the container (NULL: none). */
	const struct nvz_cg_hier *(*freezer_hier)(const struct nvz_cgroup *cg);
	/* The hierarchy holding <controller>'s <file>. */
	int (*file_hier)(const struct nvz_cgroup *cg, const char *controller, const char *file,
			 const struct nvz_cg_hier **out, struct nvz_error **err);
	/* The hierarchy whose tree counts the container's processes. */
	const struct nvz_cg_hier *(*procs_hier)(const struct nvz_cgroup *cg);
	bool (*has_controller)(const struct nvz_cgroup *cg, const char *ctrl);
	/* rel: "sys/fs/cgroup" under rootfd; shown: <root>/<rel> for messages. */
	int (*mount_inside)(const struct nvz_cgroup *cg, int rootfd, const char *rel,
			    const char *shown, struct nvz_error **err);
	/* Resource limits (limits.c): add every write l needs to plan, each with
	 * the value read back now; nvz_cgroup_set_limits applies the plan. */
	int (*plan_limits)(const struct nvz_cgroup *cg, const struct nvz_res_limits *l,
			   struct nvz_cg_plan *plan, struct nvz_error **err);
	/* Device access (devices.c): rules already hold the standard nodes. */
	int (*set_devices)(struct nvz_cgroup *cg, const struct nvz_dev_rule *rules, size_t n,
			   struct nvz_error **err);
	/* Beancounter view (counters.c); out[] arrives zeroed (valid = false). */
	int (*counters)(const struct nvz_cgroup *cg, struct nvz_cgroup_counter *out,
			struct nvz_error **err);
	bool (*enforces)(const struct nvz_cgroup *cg, enum nvz_ubc_id id);
};

/* The per-version resource operations (limits.c, devices.c, counters.c). */
int nvz_cg_v1_plan_limits(const struct nvz_cgroup *cg, const struct nvz_res_limits *l,
			  struct nvz_cg_plan *plan, struct nvz_error **err);
int nvz_cg_v2_plan_limits(const struct nvz_cgroup *cg, const struct nvz_res_limits *l,
			  struct nvz_cg_plan *plan, struct nvz_error **err);
bool nvz_cg_v1_enforces(const struct nvz_cgroup *cg, enum nvz_ubc_id id);
bool nvz_cg_v2_enforces(const struct nvz_cgroup *cg, enum nvz_ubc_id id);
int nvz_cg_v1_set_devices(struct nvz_cgroup *cg, const struct nvz_dev_rule *rules, size_t n,
			  struct nvz_error **err);
int nvz_cg_v2_set_devices(struct nvz_cgroup *cg, const struct nvz_dev_rule *rules, size_t n,
			  struct nvz_error **err);
int nvz_cg_v1_counters(const struct nvz_cgroup *cg, struct nvz_cgroup_counter *out,
		       struct nvz_error **err);
int nvz_cg_v2_counters(const struct nvz_cgroup *cg, struct nvz_cgroup_counter *out,
		       struct nvz_error **err);

/* Device rules as the kernel sees them: one per type/major/minor, access as
 * bits (BPF_DEVCG_ACC_*: mknod 1, read 2, write 4); 'a' split into c and b. */
struct nvz_cg_dev {
	char type; /* 'c' or 'b' */
	long major, minor; /* -1 = any */
	unsigned access;
};
/* Merge rules into devs (caller frees *out); rules of type 'a' become two. */
int nvz_cg_dev_merge(const struct nvz_dev_rule *rules, size_t n, struct nvz_cg_dev **out,
		     size_t *nout, struct nvz_error **err);
/* v2: build, load and attach the device program to dir (bpf-devices.c),
 * replacing the one nvz attached before. */
int nvz_cg_bpf_set_devices(const char *dir, const struct nvz_cg_dev *devs, size_t n,
			   struct nvz_error **err);
/* Programs nvz attached to dir (tests). */
int nvz_cg_bpf_count(const char *dir, struct nvz_error **err);

extern const struct nvz_cg_backend nvz_cg_v1_backend;
extern const struct nvz_cg_backend nvz_cg_v2_backend;

/* Is a controller usable for this container (v1: mounted; v2: enabled in the
 * parent)? For issue #3, which refuses limits on missing controllers. */
bool nvz_cg_has_controller(const struct nvz_cgroup *cg, const char *ctrl);

/* Helpers shared by the backends (cgroup.c). All return < 0 with *err set. */
char *nvz_cg_join(const char *dir, const char *name);
int nvz_cg_read_file(const char *path, char **out, struct nvz_error **err);
int nvz_cg_write_file(const char *path, const char *value, struct nvz_error **err);
/* Split a whitespace-separated list ("cpu memory pids\n"). */
char **nvz_cg_split_words(const char *s);
/* mkdir <mnt>/<prefix...>/<name> level by level; level() runs on each one
 * (parent, dir, is_ct) and may be NULL. */
typedef int (*nvz_cg_level_fn)(const struct nvz_cg_hier *h, const char *parent, const char *dir,
			       bool is_ct, struct nvz_error **err);
/* Returns 1 if the container's own directory was made now, 0 if it was
 * there already, or an error. */
int nvz_cg_mkdir_levels(const struct nvz_cgroup *cg, const struct nvz_cg_hier *h,
			nvz_cg_level_fn level, struct nvz_error **err);
/* Recursively: SIGKILL every pid in cgroup.procs; count them. */
int nvz_cg_kill_tree(const char *path, struct nvz_error **err);
int nvz_cg_count_tree(const char *path, struct nvz_error **err);
/* Poll until <path> holds a line equal to want, for up to ms milliseconds. */
int nvz_cg_wait_line(const char *path, const char *want, int ms, struct nvz_error **err);
void nvz_cg_sleep_ms(int ms);
/* v2 without cgroup.kill: freeze, kill every pid, thaw (tests call it). */
int nvz_cg_v2_kill_by_freeze(struct nvz_cgroup *cg, struct nvz_error **err);

/* O_PATH fd of rootfd/rel, symlinks resolved as if rootfd were "/": a
 * container's planted link cannot lead out of its root (STYLE rule 8). */
int nvz_cg_open_in_root(int rootfd, const char *rel, const char *shown, struct nvz_error **err);

/* Mounting over O_PATH fds (via /proc/self/fd), so no path the container can
 * plant a symlink in is walked again after it was checked. */
int nvz_cg_mount_fd(int fd, const char *shown, const char *what, const char *src,
		    const char *fstype, unsigned long flags, const char *data,
		    struct nvz_error **err);
/* Remount the mount whose root is fd read-only (flags: the per-mount ones to keep). */
int nvz_cg_remount_ro(int fd, const char *shown, unsigned long flags, struct nvz_error **err);
/* mkdir <dirfd>/<name> and return an O_PATH fd to it (not following symlinks). */
int nvz_cg_mkdir_open(int dirfd, const char *name, const char *shown, struct nvz_error **err);

#endif
