/* gap MB LOG [-d]: the freeze-time probe of bench/cpt.sh, copied (static)
 * into the container's root. It mallocs and touches MB megabytes of
 * anonymous memory (what a checkpoint must carry), then reads CLOCK_REALTIME
 * every millisecond. A step longer than 20 ms is the time the process did
 * not run: from its last instruction before the freeze to its first after
 * the restore, the window the benchmark is after. Each such gap is appended
 * to LOG (inside the container) in nanoseconds, after the restore: so the
 * figure is the same for nvz, LXC and plain criu, whatever each calls its
 * phases. REALTIME, because a restored time namespace may shift MONOTONIC.
 * -d: detach (fork, setsid, stdio to /dev/null, no other descriptor). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: gap MB LOG [-d]\n");
		return 2;
	}
	size_t len = (size_t)atol(argv[1]) << 20;
	if (argc > 3 && !strcmp(argv[3], "-d")) {
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid > 0)
			return 0;
		setsid();
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		/* Nothing of the caller's (a host /dev/null handed in by the
		 * attach tool is a file criu cannot dump). */
		syscall(SYS_close_range, 3, ~0U, 0);
	}
	/* Touched page by page with varying bytes: the pages are really
	 * allocated, and not the zero page criu could skip. */
	char *mem = len ? malloc(len) : NULL;
	for (size_t i = 0; mem && i < len; i += 4096)
		mem[i] = (char)(i >> 12 | 1);
	/* Ready: the benchmark waits for this file before it checkpoints. */
	FILE *f = fopen(argv[2], "w");
	if (!f)
		return 1;
	fprintf(f, "ready %zu\n", len >> 20);
	fflush(f);
	long long prev = now_ns();
	for (;;) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
		long long t = now_ns();
		if (t - prev > 20000000LL) {
			fprintf(f, "gap %lld\n", t - prev);
			fflush(f);
		}
		prev = t;
	}
}
