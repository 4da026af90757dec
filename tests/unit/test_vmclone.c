/* Unit tests of lib/linux/vmclone: a child that shares our memory on a
 * stack of its own (init's clone, monitor.c), on this machine's kernel. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
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
	/* The guard page: a write there kills (here, a forked child). */
	pid_t pid = fork();
	if (pid == 0) {
		stack[0] = 1;
		_exit(0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "status %#x", status);
	nvz_stack_free(stack, STACK);
}
