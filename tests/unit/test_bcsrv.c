/* The server's beancounter file system (lib/ct/bcsrv.c): the names it
 * takes, and, on a kernel that clones a detached mount's file, one file
 * system whose per-CT files a start binds. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ct/bcfs.h"
#include "ct/bcraw.h"

static bool name_ok(const char *name, unsigned long *veid)
{
	return nvz_bcsrv_name(name, strlen(name), veid);
}

Test(bcsrv, names)
{
	unsigned long v = 7;
	cr_assert(name_ok("101", &v));
	cr_assert_eq(v, 101);
	cr_assert(name_ok("0", &v));
	cr_assert_eq(v, 0);
	cr_assert(name_ok("4611686018427387903", &v)); /* 2^62 - 1 */
	const char *refused[] = { "", "0101", "+1", "-1", "1a", "..", "../101", "101/x", " 101",
				  "4611686018427387904", "18446744073709551615", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		cr_assert_not(name_ok(refused[i], &v), "took \"%s\"", refused[i]);
	/* The length given, not the string's: a lookup's name has its NUL. */
	cr_assert(nvz_bcsrv_name("12x", 2, &v));
	cr_assert_eq(v, 12);
}

static atomic_bool stop_serving;

static void *serve(void *arg)
{
	int fd = *(int *)arg;
	while (!atomic_load(&stop_serving)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 50) > 0 && nvz_bcsrv_process() < 0)
			break;
	}
	return NULL;
}

/* Two CTs' files: one file system (the device), a node each, the same
 * node when looked up again; read-only files of the table's size, dated
 * by the lookup. A process forked from the server's gets none. */
Test(bcsrv, one_fs_a_file_per_ct, .timeout = 30)
{
	if (geteuid() != 0 || access("/dev/fuse", R_OK | W_OK) != 0)
		cr_skip_test("needs root and /dev/fuse");
	int fd = nvz_bcsrv_open();
	if (fd < 0)
		cr_skip_test("this kernel cannot clone a file of a detached mount");
	cr_assert_eq(nvz_bcsrv_open(), fd, "a second server");
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, serve, &fd), 0);
	int a = nvz_bcsrv_tree(101), b = nvz_bcsrv_tree(102), again = nvz_bcsrv_tree(101);
	cr_assert(a >= 0 && b >= 0 && again >= 0, "trees %d %d %d: %s", a, b, again, strerror(errno));
	struct stat sa, sb, sagain;
	cr_assert_eq(fstat(a, &sa), 0);
	cr_assert_eq(fstat(b, &sb), 0);
	cr_assert_eq(fstat(again, &sagain), 0);
	cr_assert_eq(sa.st_dev, sb.st_dev, "one file system for both");
	cr_assert_neq(sa.st_ino, sb.st_ino);
	cr_assert_eq(sa.st_ino, sagain.st_ino);
	cr_assert_eq(sa.st_mode, S_IFREG | 0444);
	cr_assert_gt(sa.st_size, 1000);
	cr_assert_lt(labs((long)(time(NULL) - sa.st_mtime)), 60);
	/* Its LOOKUP would wait on a loop that is not its own. */
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(nvz_bcsrv_tree(101) < 0 && errno == ENOSYS ? 0 : 1);
	int status = -1;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a child got a tree");
	close(a);
	close(b);
	close(again);
	atomic_store(&stop_serving, true);
	pthread_join(t, NULL);
}
