/* What vzctl hands the exec stub (stub/exec-stub.c): a small static program
 * run from a sealed memfd that joins a running CT and execs the command, so
 * that no process the CT can see ever runs (or maps) a host binary
 * (CVE-2019-5736), without copying all of vzctl for every exec. */
#ifndef NVZ_CT_EXEC_STUB_H
#define NVZ_CT_EXEC_STUB_H

#include <stdint.h>

#define NVZ_STUB_MAGIC 0x6e767a31u

/* The stub's descriptors (0-2: the command's stdio). */
enum {
	NVZ_STUB_FD_PARAMS = 3, /* struct nvz_stub_params, then the seccomp filter */
	NVZ_STUB_FD_PIDFD = 4,  /* the CT's init: its namespaces */
	NVZ_STUB_FD_REPORT = 5, /* the stub writes the command's pid (an int) here */
	NVZ_STUB_FD_USERNS = 6, /* the CT's user namespace, with NVZ_STUB_USERNS */
	NVZ_STUB_FD_PTY = 7,    /* with NVZ_STUB_PTY: a socket for the pty's master */
	NVZ_STUB_FD_JOIN = 8,   /* with NVZ_STUB_JOIN: the counting cgroup's tasks/cgroup.procs */
	NVZ_STUB_FD_JOIN_LEAF = 9, /* with NVZ_STUB_JOIN_LEAF: init's cgroup.procs, for EBUSY */
};

enum {
	NVZ_STUB_NNP = 1 << 0,    /* no_new_privs for the command */
	NVZ_STUB_USERNS = 1 << 1, /* join the CT's user namespace and become its root */
	NVZ_STUB_SEARCH = 1 << 2, /* look argv[0] up in path (execvp) */
	NVZ_STUB_PTY = 1 << 3,    /* the command's stdio: a new pty of the CT's devpts */
	NVZ_STUB_JOIN = 1 << 4,   /* the command writes "0" to NVZ_STUB_FD_JOIN first */
	/* cgroup v2: where that refuses it (EBUSY: a CT's systemd enabled
	 * controllers for its subtree, so the CT's cgroup holds no process),
	 * into init's cgroup (init.scope), a leaf of the same subtree, as runc
	 * does. */
	NVZ_STUB_JOIN_LEAF = 1 << 5,
	NVZ_STUB_SH_FALLBACK = 1 << 6, /* file missing (ENOENT): /bin/sh, argv[0] "sh" */
	NVZ_STUB_TIMENS = 1 << 7,      /* init has a time namespace of its own: join it too */
};

struct nvz_stub_params {
	uint32_t magic;
	uint32_t flags;
	uint64_t caps_keep; /* bit mask of capabilities kept (1 << CAP_x) */
	int32_t ioprio;     /* value for ioprio_set(IOPRIO_WHO_PROCESS, 0, .) */
	int32_t cap_last;   /* /proc/sys/kernel/cap_last_cap */
	uint32_t nfilter;   /* struct sock_filter entries that follow */
	uint32_t pad;
	char file[256];     /* what to execve when not NVZ_STUB_SEARCH */
	char path[1024];    /* the caller's PATH, for NVZ_STUB_SEARCH */
};

/* The stub's image, embedded in vzctl (build/stub/exec-stub-blob.o). */
extern const unsigned char nvz_exec_stub[];
extern const unsigned char nvz_exec_stub_end[];

#endif
