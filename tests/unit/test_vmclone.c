/* Unit tests of lib/linux/vmclone: a child that shares our memory on a
 * stack of its own (init's clone, monitor.c), on this machine's kernel. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
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

static pid_t clone_child(void *stack, int (*fn)(void *), void *arg)
{
	struct clone_args a = { .exit_signal = SIGCHLD, .stack = (uint64_t)(uintptr_t)stack,
				.stack_size = STACK };
	return nvz_clone_vm(&a, fn, arg);
}

Test(vmclone, child_shares_memory_and_runs_on_its_stack)
{
	char *stack = nvz_stack_new(STACK, 16 * 1024);
	cr_assert_not_null(stack);
	int value = 42;
	shared_word = 0;
	pid_t pid = clone_child(stack, child_writes, &value);
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
