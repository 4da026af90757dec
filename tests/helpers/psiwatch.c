/* psiwatch FILE OUT [-d]: a PSI trigger's user, as systemd's sd-event is
 * one (static, copied into a busybox CT for the cpt tests). Opens FILE (a
 * PSI file: /proc/pressure/memory, a cgroup's memory.pressure) read-write,
 * writes a trigger into it (MEMORY_PRESSURE_WRITE from the environment,
 * base64, as systemd hands it to a service; else sd-event's default) and
 * polls it for POLLPRI, 200 ms at a time. Every round it writes
 * "<events> <rounds>" to OUT (through a rename). A file whose trigger was
 * lost (criu restores the open file without it) reports an event at once,
 * every time: events then grow by thousands a second. -d: detach. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t unbase64(const char *in, char *out, size_t size)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0;
	for (; *in && *in != '=' && n < size; in++) {
		const char *p = strchr(set, *in);
		if (!p)
			return 0;
		acc = (acc << 6) | (unsigned)(p - set);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: psiwatch FILE OUT [-d]\n");
		return 2;
	}
	int fd = open(argv[1], O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	char trigger[256] = "some 200000 2000000";
	size_t len = strlen(trigger) + 1;
	const char *env = getenv("MEMORY_PRESSURE_WRITE");
	if (env && !(len = unbase64(env, trigger, sizeof(trigger)))) {
		fprintf(stderr, "bad MEMORY_PRESSURE_WRITE\n");
		return 1;
	}
	if (write(fd, trigger, len) < 0) {
		perror("write trigger");
		return 1;
	}
	if (argc > 3 && !strcmp(argv[3], "-d")) {
		if (fork() != 0)
			return 0;
		setsid();
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0), dup2(null, 1), dup2(null, 2);
	}
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.new", argv[2]);
	for (unsigned long events = 0, rounds = 0;; rounds++) {
		struct pollfd p = { .fd = fd, .events = POLLPRI };
		if (poll(&p, 1, 200) > 0)
			events++;
		FILE *f = fopen(tmp, "w");
		if (f) {
			fprintf(f, "%lu %lu\n", events, rounds);
			fclose(f);
			rename(tmp, argv[2]);
		}
	}
}
