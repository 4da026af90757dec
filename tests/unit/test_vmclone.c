/* Unit tests of lib/linux/vmclone: a child that shares our memory on a
 * stack of its own (init's clone, monitor.c), on this machine's kernel. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux/vmclone.h"

#define STACK (256 * 1024)

static volatile int shared_word;
static volatile uintptr_t child_frame;

static int child_writes(void *arg)
{
	volatile int here = 0;
	child_frame = (uintptr_t)&here;
	shared_word = *(int *)arg;
	return 7;
}

typedef pid_t clone_fn(struct clone_args *a, int (*fn)(void *), void *arg);

static pid_t portable(struct clone_args *a, int (*fn)(void *), void *arg)
{
	return nvz_clone_vm_portable(a, fn, NULL, arg);
}

static pid_t clone_child_with(clone_fn *how, void *stack, int (*fn)(void *), void *arg)
{
	struct clone_args a = { .exit_signal = SIGCHLD, .stack = (uint64_t)(uintptr_t)stack,
				.stack_size = STACK };
	return how(&a, fn, arg);
}

static void shares_memory(clone_fn *how)
{
	char *stack = nvz_stack_new(STACK, 16 * 1024);
	cr_assert_not_null(stack);
	int value = 42;
	shared_word = 0;
	pid_t pid = clone_child_with(how, stack, child_writes, &value);
	cr_assert_gt(pid, 0, "clone: %s", strerror(errno));
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7, "status %#x", status);
	/* A fork would have written its own copy. */
	cr_assert_eq(shared_word, 42);
	cr_assert(child_frame > (uintptr_t)stack && child_frame < (uintptr_t)stack + STACK,
		  "child frame %#lx outside its stack", (unsigned long)child_frame);
	nvz_stack_free(stack, STACK);
}

Test(vmclone, child_shares_memory_and_runs_on_its_stack)
{
	shares_memory(nvz_clone_vm);
}

/* glibc's clone(): what other architectures, and hosts that refuse clone3
 * (Docker's default seccomp profile), run. */
Test(vmclone, portable_child_shares_memory_and_runs_on_its_stack)
{
	shares_memory(portable);
}

/* A cgroup2 directory of our own (v2, or the hybrid host's unified mount). */
static char cg_path[PATH_MAX + 64];

static int cgroup2_dir(void)
{
	FILE *m = fopen("/proc/self/mounts", "re");
	cr_assert_not_null(m);
	char dev[256], at[PATH_MAX], type[64];
	bool found = false;
	while (!found && fscanf(m, "%255s %4095s %63s %*[^\n]", dev, at, type) == 3)
		found = !strcmp(type, "cgroup2");
	fclose(m);
	if (!found)
		cr_skip_test("no cgroup2 mount");
	static int n;
	snprintf(cg_path, sizeof(cg_path), "%s/nvz-unit-vmclone-%d-%d", at, (int)getpid(), n++);
	cr_assert_eq(mkdir(cg_path, 0755), 0, "mkdir %s: %s", cg_path, strerror(errno));
	int fd = open(cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	return fd;
}

/* What the child finds in its cgroup's member list: its own pid, read by
 * itself (a path in /proc/self/cgroup depends on the cgroup namespace). */
static char child_members[4096];
static volatile pid_t child_pid;

static int child_reads_members(void *arg)
{
	child_pid = getpid();
	int fd = openat(*(int *)arg, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, child_members, sizeof(child_members) - 1);
	if (fd >= 0)
		close(fd);
	child_members[n > 0 ? n : 0] = '\0';
	return 3;
}

static void born_in_cgroup(clone_fn *how)
{
	int cg = cgroup2_dir();
	char *stack = nvz_stack_new(STACK, 16 * 1024);
	cr_assert_not_null(stack);
	struct clone_args a = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
				.stack = (uint64_t)(uintptr_t)stack, .stack_size = STACK,
				.cgroup = (uint64_t)cg };
	child_pid = 0;
	pid_t pid = how(&a, child_reads_members, &cg);
	int status = 0;
	bool reaped = pid > 0 && waitpid(pid, &status, 0) == pid;
	close(cg);
	rmdir(cg_path);
	nvz_stack_free(stack, STACK);
	cr_assert(reaped, "clone: %s", strerror(errno));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %#x", status);
	cr_assert_eq(child_pid, pid);
	char want[32];
	snprintf(want, sizeof(want), "%d\n", (int)pid);
	cr_assert_str_eq(child_members, want, "members of %s: %s", cg_path, child_members);
}

Test(vmclone, child_born_in_its_cgroup)
{
	born_in_cgroup(nvz_clone_vm);
}

Test(vmclone, portable_child_moves_into_its_cgroup_first)
{
	born_in_cgroup(portable);
}

/* Where clone3 is refused (Docker's seccomp profile: ENOSYS since 20.10,
 * EPERM before), nvz_clone_vm takes the portable way: the child still
 * starts in its cgroup. The filter is this test's process's alone. */
static void clone3_refused(int errno_given)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	cr_assert_not_null(f);
	cr_assert_eq(seccomp_rule_add(f, SCMP_ACT_ERRNO(errno_given), SCMP_SYS(clone3), 0), 0);
	cr_assert_eq(seccomp_load(f), 0);
	seccomp_release(f);
	struct clone_args a = { .exit_signal = SIGCHLD };
	cr_assert_eq(syscall(SYS_clone3, &a, sizeof(a)), -1, "clone3 not refused");
	cr_assert_eq(errno, errno_given);
	born_in_cgroup(nvz_clone_vm);
}

Test(vmclone, clone3_refused_enosys_goes_portable)
{
	clone3_refused(ENOSYS);
}

Test(vmclone, clone3_refused_eperm_goes_portable)
{
	clone3_refused(EPERM);
}

/* What the child that could not move says (in our memory). */
static volatile int no_cgroup_errno;
static void note_no_cgroup(void *arg, int e)
{
	(void)arg;
	no_cgroup_errno = e;
}

/* A directory that is no cgroup: the child says why and exits without
 * running fn. */
Test(vmclone, portable_child_that_cannot_enter_runs_nothing)
{
	char *stack = nvz_stack_new(STACK, 16 * 1024);
	cr_assert_not_null(stack);
	int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dir, 0);
	int value = 5;
	shared_word = 0;
	struct clone_args a = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
				.stack = (uint64_t)(uintptr_t)stack, .stack_size = STACK,
				.cgroup = (uint64_t)dir };
	no_cgroup_errno = 0;
	pid_t pid = nvz_clone_vm_portable(&a, child_writes, note_no_cgroup, &value);
	cr_assert_gt(pid, 0, "clone: %s", strerror(errno));
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	close(dir);
	nvz_stack_free(stack, STACK);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == NVZ_CLONE_VM_NO_CGROUP,
		  "status %#x", status);
	cr_assert_eq(shared_word, 0, "fn ran");
	cr_assert_eq(no_cgroup_errno, ENOENT, "no_cgroup got %d", no_cgroup_errno);
}

Test(vmclone, refuses_without_a_stack)
{
	struct clone_args a = { .exit_signal = SIGCHLD };
	errno = 0;
	cr_assert_eq(nvz_clone_vm(&a, child_writes, NULL), -1);
	cr_assert_eq(errno, EINVAL);
}

Test(vmclone, stack_top_is_warm_and_bottom_is_guarded)
{
	long page = sysconf(_SC_PAGESIZE);
	char *stack = nvz_stack_new(STACK, 16 * 1024);
	cr_assert_not_null(stack);
	unsigned char vec[STACK / 4096];
	cr_assert_eq(mincore(stack, STACK, vec), 0);
	size_t pages = STACK / (size_t)page;
	for (size_t i = pages - 4; i < pages; i++)
		cr_assert(vec[i] & 1, "page %zu of the warm top is not resident", i);
	cr_assert_eq(vec[pages / 2] & 1, 0, "the cold middle is resident");
	/* The guard page: no access (read from the maps, not by a write that
	 * would fault: the sanitizer build's own SEGV handler reports it). */
	FILE *maps = fopen("/proc/self/maps", "re");
	cr_assert_not_null(maps);
	char line[512], perms[8] = "";
	unsigned long lo = 0, hi = 0;
	while (fgets(line, sizeof(line), maps))
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && lo == (uintptr_t)stack)
			break;
	fclose(maps);
	cr_assert_eq(lo, (uintptr_t)stack, "no mapping starts at the stack's base");
	cr_assert_eq(hi - lo, (unsigned long)page, "the guard is %lu bytes", hi - lo);
	cr_assert_str_eq(perms, "---p");
	nvz_stack_free(stack, STACK);
}

static bool mapped(void *addr)
{
	unsigned char v;
	return mincore(addr, 1, &v) == 0;
}

Test(vmclone, stacks_put_back_are_reused_warm)
{
	long page = sysconf(_SC_PAGESIZE);
	char *a = nvz_stack_get(STACK, 16 * 1024), *b = nvz_stack_get(STACK, 16 * 1024),
	     *c = nvz_stack_get(STACK, 16 * 1024);
	cr_assert(a && b && c && a != b && b != c && a != c);
	/* A child used a deeper part of a than the warm top. */
	memset(a + STACK - 64 * 1024, 1, 64 * 1024);
	nvz_stack_put(a, STACK);
	nvz_stack_put(b, STACK);
	nvz_stack_put(c, STACK); /* the pool is full: unmapped */
	cr_assert_not(mapped(c + STACK - page), "a third stack was kept");
	/* Another size is not taken from the pool. */
	char *other = nvz_stack_get(STACK / 2, 4096);
	cr_assert(other != a && other != b);
	nvz_stack_free(other, STACK / 2);
	char *again = nvz_stack_get(STACK, 16 * 1024);
	cr_assert(again == a || again == b);
	char *next = nvz_stack_get(STACK, 16 * 1024);
	cr_assert(next == a || next == b);
	cr_assert_neq(again, next);
	/* a comes back as it was left: its used pages resident, not zeroed. */
	unsigned char vec[STACK / 4096];
	cr_assert_eq(mincore(a, STACK, vec), 0);
	for (size_t i = (STACK - 64 * 1024) / (size_t)page; i < STACK / (size_t)page; i++)
		cr_assert(vec[i] & 1, "page %zu of the used part is not resident", i);
	cr_assert_eq(a[STACK - 64 * 1024], 1);
	nvz_stack_put(again, STACK);
	nvz_stack_put(next, STACK);
}
