/* memfill MB DIR [-d]: the memory a checkpoint must carry, for the cpt and
 * migrate tests (static, copied into a busybox CT). Fills MB megabytes of
 * anonymous memory with a pseudo-random pattern, writes its checksum to
 * DIR/memsum, then every 200 ms sums the memory again (reading it: no page
 * is dirtied) and writes "<sum> <count>" to DIR/memsum.now (through a
 * rename), count growing by one each time. After a restore the sum must be
 * the first one and the count must go on. -d: detach (fork, setsid, stdio
 * to /dev/null). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t sum(const uint64_t *m, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = s * 31 + m[i];
	return s;
}

static void put(const char *dir, const char *name, const char *text)
{
	char tmp[4096], path[4096];
	snprintf(tmp, sizeof(tmp), "%s/%s.new", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fputs(text, f);
	if (fclose(f) == 0)
		rename(tmp, path);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: memfill MB DIR [-d]\n");
		return 2;
	}
	size_t n = (size_t)atoi(argv[1]) << 17; /* 8-byte words in MB megabytes */
	uint64_t *m = malloc(n * sizeof(*m));
	if (!m)
		return 1;
	uint64_t x = 0x9e3779b97f4a7c15ULL ^ (uint64_t)time(NULL);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		m[i] = x;
	}
	char line[64];
	snprintf(line, sizeof(line), "%llu\n", (unsigned long long)sum(m, n));
	if (argc > 3 && !strcmp(argv[3], "-d")) {
		if (fork() != 0)
			_exit(0);
		setsid();
		int null = open("/dev/null", O_RDWR);
		for (int fd = 0; fd < 3; fd++)
			dup2(null, fd);
	}
	put(argv[2], "memsum", line);
	for (unsigned long count = 1;; count++) {
		snprintf(line, sizeof(line), "%llu %lu\n", (unsigned long long)sum(m, n), count);
		put(argv[2], "memsum.now", line);
		usleep(200000);
	}
}
