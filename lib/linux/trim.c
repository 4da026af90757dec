#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "linux/trim.h"
#include "nvz/cleanup.h"

/* Pages below the current frame kept for the calls the caller makes next
 * (its event loop: poll, a FUSE request, a console read). */
#define STACK_KEEP (8 * 1024)

/* The lowest address of the main thread's stack mapping, 0 if unknown. */
static uintptr_t stack_low(void)
{
	cleanup_fclose FILE *f = fopen("/proc/self/maps", "re");
	char line[256];
	unsigned long lo, hi;
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			return lo;
	return 0;
}

/* noinline: its own frame is the "current frame", below the caller's. */
static __attribute__((noinline)) void trim_stack(void)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile char here;
	uintptr_t sp = (uintptr_t)&here;
	uintptr_t lo = stack_low();
	uintptr_t hi = (sp - STACK_KEEP) & ~((uintptr_t)page - 1);
	/* Dead frames only: everything between the mapping's bottom and a
	 * margin below us. The kernel refaults zero pages if they are used. */
	if (lo && hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

void nvz_trim_memory(void)
{
	trim_stack(); /* first: reading the maps allocates */
	malloc_trim(0);
}

void nvz_trim_text(void)
{
	/* The linker's bounds of this program's own code. */
	extern char __executable_start[], etext[];
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = (uintptr_t)__executable_start & ~(page - 1);
	uintptr_t hi = ((uintptr_t)etext + page - 1) & ~(page - 1);
	/* File pages: only our page table entries go, the page cache keeps
	 * them, and what we run next faults back in. */
	madvise((void *)lo, hi - lo, MADV_DONTNEED);
}
