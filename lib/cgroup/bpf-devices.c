/* cgroup v2 device access: a BPF_PROG_TYPE_CGROUP_DEVICE program written
 * out instruction by instruction (no compiler, no libbpf), attached with
 * BPF_F_ALLOW_MULTI so an init inside can add its own, stricter programs.
 * The kernel runs every program on the path from the CT's cgroup up to the
 * root; a device is usable only if all of them allow it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

/* Our programs are recognised by this name when replaced (15 chars max). */
#define PROG_NAME "nvz_devices"
#define MAX_ATTACHED 64

enum { R0, R1, R2, R3, R4, R5, R6 };

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off,
				  .imm = imm };
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

struct prog {
	struct bpf_insn *v;
	size_t n, cap;
};

static int emit(struct prog *p, struct bpf_insn i)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct bpf_insn *nv = realloc(p->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		p->v = nv;
		p->cap = cap;
	}
	p->v[p->n++] = i;
	return 0;
}

/* if (reg != imm) goto end of this rule; the offset is patched later. */
static int emit_jne(struct prog *p, uint8_t reg, int32_t imm)
{
	return emit(p, insn(BPF_JMP | BPF_JNE | BPF_K, reg, 0, 0, imm));
}

/* One rule: fall through every check that matches, then return 1 (allow);
 * any mismatch jumps past the rule to the next one. */
static int emit_rule(struct prog *p, const struct nvz_cg_dev *d)
{
	size_t start = p->n;
	int r = emit_jne(p, R2, d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
	if (r == 0 && d->access != 7) {
		/* The request must be a subset: access & ~allowed == 0. */
		r = emit(p, insn(BPF_ALU | BPF_MOV | BPF_X, R6, R3, 0, 0));
		if (r == 0)
			r = emit(p, insn(BPF_ALU | BPF_AND | BPF_K, R6, 0, 0, (int32_t)(~d->access & 7)));
		if (r == 0)
			r = emit_jne(p, R6, 0);
	}
	if (r == 0 && d->major >= 0)
		r = emit_jne(p, R4, (int32_t)d->major);
	if (r == 0 && d->minor >= 0)
		r = emit_jne(p, R5, (int32_t)d->minor);
	if (r == 0)
		r = emit(p, insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 1));
	if (r == 0)
		r = emit(p, insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	for (size_t i = start; r == 0 && i < p->n; i++)
		if (p->v[i].code == (BPF_JMP | BPF_JNE | BPF_K))
			p->v[i].off = (int16_t)(p->n - (i + 1));
	return r;
}

/* struct bpf_cgroup_dev_ctx: access_type = access << 16 | type, major, minor. */
static int build(const struct nvz_cg_dev *devs, size_t n, struct prog *p)
{
	const int16_t at = offsetof(struct bpf_cgroup_dev_ctx, access_type);
	struct bpf_insn head[] = {
		insn(BPF_LDX | BPF_MEM | BPF_W, R2, R1, at, 0),
		insn(BPF_ALU | BPF_AND | BPF_K, R2, 0, 0, 0xffff),
		insn(BPF_LDX | BPF_MEM | BPF_W, R3, R1, at, 0),
		insn(BPF_ALU | BPF_RSH | BPF_K, R3, 0, 0, 16),
		insn(BPF_LDX | BPF_MEM | BPF_W, R4, R1,
		     offsetof(struct bpf_cgroup_dev_ctx, major), 0),
		insn(BPF_LDX | BPF_MEM | BPF_W, R5, R1,
		     offsetof(struct bpf_cgroup_dev_ctx, minor), 0),
	};
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		if (emit(p, head[i]) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (emit_rule(p, &devs[i]) < 0)
			return -ENOMEM;
	/* Nothing matched: deny. */
	if (emit(p, insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0)) < 0 ||
	    emit(p, insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)) < 0)
		return -ENOMEM;
	if (p->n > BPF_MAXINSNS)
		return -E2BIG;
	return 0;
}

static int load(const struct prog *p, const char *dir, struct nvz_error **err)
{
	static const char license[] = "GPL";
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.expected_attach_type = BPF_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)p->v;
	a.insn_cnt = (uint32_t)p->n;
	a.license = (uint64_t)(uintptr_t)license;
	snprintf(a.prog_name, sizeof(a.prog_name), "%s", PROG_NAME);
	int fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_DEVICES, errno, "load the device program for '%s'", dir);
	return fd;
}

/* Is the program with this id one of ours? Its fd if so (to replace it). */
static int our_prog(uint32_t id)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	int fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
	if (fd < 0)
		return -1;
	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (uint64_t)(uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0 && strcmp(info.name, PROG_NAME) == 0)
		return fd;
	close(fd);
	return -1;
}

/* fds of our programs attached to cgfd itself (not inherited ones). */
static int find_ours(int cgfd, const char *dir, int *fds, size_t *n, struct nvz_error **err)
{
	uint32_t ids[MAX_ATTACHED];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)cgfd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = MAX_ATTACHED;
	*n = 0;
	if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
		return nvz_err_sys(err, NVZ_E_DEVICES, errno, "query device programs of '%s'", dir);
	for (uint32_t i = 0; i < a.query.prog_cnt && i < MAX_ATTACHED; i++) {
		int fd = our_prog(ids[i]);
		if (fd >= 0)
			fds[(*n)++] = fd;
	}
	return 0;
}

static int attach(int cgfd, int prog, int old, unsigned flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = flags;
	a.replace_bpf_fd = old >= 0 ? (uint32_t)old : 0;
	return (int)sys_bpf(BPF_PROG_ATTACH, &a);
}

static void detach(int cgfd, int prog)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	(void)sys_bpf(BPF_PROG_DETACH, &a);
}

/* The old program is swapped for the new one in place (BPF_F_REPLACE,
 * 5.6+). Older kernels: attach, then detach the old one; in between both
 * run, which only ever denies more. */
static int install(int cgfd, int prog, const char *dir, struct nvz_error **err)
{
	int old[MAX_ATTACHED];
	size_t nold = 0;
	if (find_ours(cgfd, dir, old, &nold, err) < 0)
		return -EIO;
	size_t first = 0;
	int r = -1;
	if (nold) {
		r = attach(cgfd, prog, old[0], BPF_F_ALLOW_MULTI | BPF_F_REPLACE);
		first = r == 0 ? 1 : 0;
	}
	if (r < 0 && attach(cgfd, prog, -1, BPF_F_ALLOW_MULTI) < 0) {
		int e = errno;
		nvz_close_all(old, nold);
		if (e == EPERM)
			return nvz_err_sys(err, NVZ_E_DEVICES, e,
					   "attach the device program to '%s': a program attached "
					   "without BPF_F_ALLOW_MULTI is in the way", dir);
		return nvz_err_sys(err, NVZ_E_DEVICES, e, "attach the device program to '%s'", dir);
	}
	for (size_t i = first; i < nold; i++)
		detach(cgfd, old[i]);
	nvz_close_all(old, nold);
	return 0;
}

int nvz_cg_bpf_set_devices(const char *dir, const struct nvz_cg_dev *devs, size_t n,
			   struct nvz_error **err)
{
	struct prog p = { 0 };
	int r = build(devs, n, &p);
	if (r < 0) {
		free(p.v);
		return nvz_err(err, NVZ_E_DEVICES, -r, "device program for '%s': %s", dir,
			       r == -E2BIG ? "too many rules" : "out of memory");
	}
	cleanup_close int prog = load(&p, dir, err);
	free(p.v);
	if (prog < 0)
		return -EIO;
	cleanup_close int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return nvz_err_sys(err, NVZ_E_DEVICES, errno, "open cgroup '%s'", dir);
	/* Once attached the cgroup holds the program; our fds can go. */
	return install(cgfd, prog, dir, err);
}

int nvz_cg_bpf_count(const char *dir, struct nvz_error **err)
{
	cleanup_close int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open cgroup '%s'", dir);
	int fds[MAX_ATTACHED];
	size_t n = 0;
	if (find_ours(cgfd, dir, fds, &n, err) < 0)
		return -EIO;
	nvz_close_all(fds, n);
	return (int)n;
}
