#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux/sealed.h"
#include "nvz/cleanup.h"

/* CVE-2019-5736 (runc): a process that joins a container's pid namespace
 * can be reached through /proc/<pid>/exe by the container's root, who can
 * then rewrite the host binary once it is no longer busy. Running from a
 * sealed anonymous copy means /proc/<pid>/exe is that copy: writing it is
 * refused (F_SEAL_WRITE) and the host's file is never reachable. */
int nvz_reexec_sealed(char **argv, char **envp)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = '\0';
	if (!strncmp(self, "/memfd:", 7))
		return 0; /* already the sealed copy */
	cleanup_close int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return -errno;
	struct stat st;
	if (fstat(src, &st) < 0)
		return -errno;
	cleanup_close int mfd = memfd_create("nvz-vzctl", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return -errno;
	for (off_t off = 0; off < st.st_size;) {
		ssize_t w = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
	}
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		return -errno;
	fexecve(mfd, argv, envp);
	return -errno;
}
