/* Unit tests of lib/linux/sdgen.c on a directory tree: which systemd
 * generators a CT root gets masked in its /run, and its memory pressure
 * setting. The Debian boot in
 * tests/integration/test_debian.sh checks the same on a real systemd. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux/rootfs.h"
#include "nvz/fs.h"

static char dir[] = "/tmp/nvz-test-sdgen-XXXXXX";
static int rootfd = -1;

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(rootfd, 0);
	cr_assert_eq(nvz_mkdir_in_root(rootfd, "run", 0755, NULL), 0);
}

static void teardown(void)
{
	close(rootfd);
	nvz_rm_rf(dir, NULL);
}

TestSuite(sdgen, .init = setup, .fini = teardown);

static void file(const char *path)
{
	char d[PATH_MAX];
	snprintf(d, sizeof(d), "%s", path);
	for (char *slash = strchr(d, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		cr_assert(mkdirat(rootfd, d, 0755) == 0 || errno == EEXIST, "mkdir %s", d);
		*slash = '/';
	}
	cr_assert_eq(nvz_write_in_root(rootfd, path, "x", 1, 0755, NULL), 0, "write %s", path);
}

static void generators(const char *dir_in_root)
{
	static const char *const all[] = { "fstab", "getty", "sysv", "gpt-auto", "hibernate-resume",
					   "debug", "run", "cryptsetup", "integritysetup",
					   "veritysetup", "system-update", "rc-local" };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/systemd-%s-generator", dir_in_root, all[i]);
		file(p);
	}
}

static bool masked(const char *name)
{
	char p[PATH_MAX], link[64];
	snprintf(p, sizeof(p), "%s/run/systemd/system-generators/systemd-%s-generator", dir, name);
	ssize_t n = readlink(p, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return !strcmp(link, "/dev/null");
}

Test(sdgen, masks_only_the_idle_ones)
{
	generators("usr/lib/systemd/system-generators");
	file("etc/rc.local");
	file("etc/systemd/system-generators/systemd-run-generator"); /* the admin's own */
	cr_assert_eq(nvz_rootfs_systemd_run(rootfd, 0, NULL), 0);
	cr_assert(masked("gpt-auto") && masked("hibernate-resume") && masked("debug"));
	cr_assert(masked("cryptsetup") && masked("integritysetup") && masked("veritysetup"));
	cr_assert(masked("system-update"));
	cr_assert(!masked("fstab") && !masked("getty") && !masked("sysv"), "a generator with work");
	cr_assert(!masked("rc-local"), "/etc/rc.local exists");
	cr_assert(!masked("run"), "the admin's generator of that name");
}

Test(sdgen, inputs_keep_their_generator)
{
	generators("lib/systemd/system-generators");
	file("etc/crypttab");
	/* A dangling /system-update link is what system-update looks for. */
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/system-update", dir);
	cr_assert_eq(symlink("/var/lib/nothing", p), 0);
	cr_assert_eq(nvz_rootfs_systemd_run(rootfd, 0, NULL), 0);
	cr_assert(!masked("cryptsetup") && !masked("system-update"));
	cr_assert(masked("integritysetup") && masked("rc-local") && masked("gpt-auto"));
}

Test(sdgen, not_systemd_nothing_made)
{
	file("sbin/init");
	cr_assert_eq(nvz_rootfs_systemd_run(rootfd, 0, NULL), 0);
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/run/systemd", dir);
	cr_assert_eq(access(p, F_OK), -1, "/run/systemd made for a CT without systemd");
}

Test(sdgen, no_run_no_error)
{
	generators("usr/lib/systemd/system-generators");
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/run", dir);
	cr_assert_eq(rmdir(p), 0);
	cr_assert_eq(nvz_rootfs_systemd_run(rootfd, 0, NULL), 0);
	cr_assert_eq(access(p, F_OK), -1);
}

static bool pressure_off(void)
{
	char p[PATH_MAX], buf[512] = "";
	snprintf(p, sizeof(p), "%s/run/systemd/system.conf.d/nvz.conf", dir);
	FILE *f = fopen(p, "re");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, "\n[Manager]\nDefaultMemoryPressureWatch=off\n") != NULL;
}

/* systemd >= 255 (it has systemd-executor): services' memory pressure
 * watch off, whose memory.pressure binds criu cannot restore. */
Test(sdgen, pressure_watch_off_for_new_systemd)
{
	file("usr/lib/systemd/systemd-executor");
	cr_assert_eq(nvz_rootfs_systemd_run(rootfd, 0, NULL), 0);
	cr_assert(pressure_off());
}

Test(sdgen, pressure_watch_left_to_older_systemd)
{
	generators("lib/systemd/system-generators");
	cr_assert_eq(nvz_rootfs_systemd_run(rootfd, 0, NULL), 0);
	cr_assert(masked("gpt-auto"));
	cr_assert(!pressure_off(), "systemd 252 has no DefaultMemoryPressureWatch=");
}
