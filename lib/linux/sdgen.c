/* systemd runs every generator before it loads a single unit, and waits
 * for all of them: on this 2-core host the 12 of Debian 12 cost ~120 ms of
 * a ~450 ms boot (bench/PROFILE.md, branch boot2), each one an exec of a
 * binary linked to libsystemd-shared. In a CT most of them provably find
 * nothing to do. nvz masks those in the CT's fresh /run, the place systemd
 * reads first and the one meant for runtime masks (systemd.generator(7): a
 * link to /dev/null there hides the generator of the same name): the
 * template is not changed and the next start decides again.
 *
 * A generator is masked only when its result cannot differ:
 * - gpt-auto exits in any container, hibernate-resume outside an initrd
 *   (systemd's own checks);
 * - debug and run read only the kernel command line, which in a container
 *   is PID 1's arguments, and nvz starts init with none;
 * - cryptsetup, integritysetup, veritysetup, system-update and rc-local
 *   only when the file they read is absent (a CT that adds one gets the
 *   generator back at its next start, when the file matters: boot).
 * Nothing is masked when the CT's admin has a generator of that name in
 * /etc or /usr/local (theirs wins), or when the CT has no such generator
 * (not systemd, or another version).
 *
 * The same /run takes one setting for systemd >= 255, which ships
 * systemd-executor (the key came in 254; Debian 13 has 257):
 * DefaultMemoryPressureWatch=off. With
 * it on, on cgroup v2, each service with ProtectControlGroups= (logind,
 * networkd, timedated...) gets its cgroup's memory.pressure bind-mounted
 * writable over itself, and criu restores that bind from the cgroup2
 * mount's root instead of from the file ("Failed to move_mount ...:
 * Invalid argument"): such a CT could not be restored or migrated. The
 * services then do not watch memory pressure; PID 1 still does. A file
 * in the CT's /etc/systemd/system.conf.d that sorts after nvz.conf wins. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux/rootfs.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

static const struct {
	const char *name;
	const char *input; /* masked only while this is absent; NULL: always */
	const char *input2;
} gens[] = {
	{ "systemd-gpt-auto-generator", NULL, NULL },
	{ "systemd-hibernate-resume-generator", NULL, NULL },
	{ "systemd-debug-generator", NULL, NULL },
	{ "systemd-run-generator", NULL, NULL },
	{ "systemd-cryptsetup-generator", "etc/crypttab", NULL },
	{ "systemd-integritysetup-generator", "etc/integritytab", NULL },
	{ "systemd-veritysetup-generator", "etc/veritytab", NULL },
	{ "systemd-system-update-generator", "system-update", "etc/system-update" },
	{ "systemd-rc-local-generator", "etc/rc.local", NULL },
};

/* Absent for sure: anything else (a loop, a permission error) counts as
 * there, so the generator stays. The last component is not followed: a
 * dangling /system-update link is what system-update looks for. */
static bool absent(int rootfd, const char *path)
{
	cleanup_close int fd = nvz_open_in_root(rootfd, path, O_PATH | O_NOFOLLOW, 0);
	return fd < 0 && errno == ENOENT;
}

static bool present(int rootfd, const char *dir, const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return !absent(rootfd, path);
}

static bool maskable(int rootfd, size_t i)
{
	const char *n = gens[i].name;
	if (!present(rootfd, "usr/lib/systemd/system-generators", n) &&
	    !present(rootfd, "lib/systemd/system-generators", n))
		return false;
	if (present(rootfd, "etc/systemd/system-generators", n) ||
	    present(rootfd, "usr/local/lib/systemd/system-generators", n))
		return false;
	return (!gens[i].input || absent(rootfd, gens[i].input)) &&
	       (!gens[i].input2 || absent(rootfd, gens[i].input2));
}

static int mkdir_owned(int at, const char *name, unsigned owner, struct nvz_error **err)
{
	if (mkdirat(at, name, 0755) < 0 && errno != EEXIST)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mkdir /run/%s", name);
	if (owner && fchownat(at, name, owner, owner, AT_SYMLINK_NOFOLLOW) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "chown /run/%s", name);
	int fd = openat(at, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "open /run/%s", name);
	return fd;
}

static const char pressure_conf[] =
	"# Written by nvz at each start: criu cannot restore the memory.pressure\n"
	"# bind mounts systemd makes for sandboxed services on cgroup v2.\n"
	"[Manager]\nDefaultMemoryPressureWatch=off\n";

static int write_pressure_conf(int sd, unsigned owner, struct nvz_error **err)
{
	cleanup_close int dir = mkdir_owned(sd, "system.conf.d", owner, err);
	if (dir < 0)
		return -1;
	cleanup_close int fd =
		openat(dir, "nvz.conf", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, pressure_conf, sizeof(pressure_conf) - 1) != sizeof(pressure_conf) - 1 ||
	    (owner && fchown(fd, owner, owner) < 0))
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "write /run/systemd/system.conf.d/nvz.conf");
	return 0;
}

int nvz_rootfs_systemd_run(int rootfd, unsigned owner, struct nvz_error **err)
{
	bool any = false, mask[sizeof(gens) / sizeof(gens[0])];
	for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++)
		any |= mask[i] = maskable(rootfd, i);
	bool pressure = present(rootfd, "usr/lib/systemd", "systemd-executor") ||
			present(rootfd, "lib/systemd", "systemd-executor");
	if (!any && !pressure)
		return 0;
	/* The tmpfs nvz has just mounted on /run: the CT has not run yet. */
	cleanup_close int run = nvz_open_in_root(rootfd, "run", O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
	if (run < 0)
		return 0;
	cleanup_close int sd = mkdir_owned(run, "systemd", owner, err);
	if (sd < 0 || (pressure && write_pressure_conf(sd, owner, err) < 0))
		return -1;
	if (!any)
		return 0;
	cleanup_close int gd = mkdir_owned(sd, "system-generators", owner, err);
	if (gd < 0)
		return -1;
	for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
		if (!mask[i])
			continue;
		if (symlinkat("/dev/null", gd, gens[i].name) < 0 && errno != EEXIST)
			return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mask %s", gens[i].name);
		if (owner && fchownat(gd, gens[i].name, owner, owner, AT_SYMLINK_NOFOLLOW) < 0)
			return nvz_err_sys(err, NVZ_E_MOUNT, errno, "chown %s", gens[i].name);
	}
	return 0;
}
