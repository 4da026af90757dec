#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux/sealed.h"
#include "nvz/cleanup.h"

/* How much of the running binary the loader needs: up to the end of its last
 * segment (from the program headers the kernel mapped for us). What follows
 * is debug info and the section table: half of vzctl's file, copied at every
 * exec for nothing. 0 if unknown (copy it all). */
static off_t loaded_size(void)
{
	const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
	unsigned long n = getauxval(AT_PHNUM);
	off_t end = 0;
	for (unsigned long i = 0; ph && i < n; i++)
		if ((off_t)(ph[i].p_offset + ph[i].p_filesz) > end)
			end = (off_t)(ph[i].p_offset + ph[i].p_filesz);
	return end;
}

/* The copy ends before the section table: say it has none. */
static int drop_section_table(int fd)
{
	Elf64_Ehdr eh;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh))
		return -EIO;
	eh.e_shoff = 0;
	eh.e_shnum = 0;
	eh.e_shstrndx = SHN_UNDEF;
	return pwrite(fd, &eh, sizeof(eh), 0) == sizeof(eh) ? 0 : -EIO;
}

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
	off_t size = loaded_size();
	bool partial = size > 0 && size < st.st_size;
	if (!partial)
		size = st.st_size;
	for (off_t off = 0; off < size;) {
		ssize_t w = sendfile(mfd, src, &off, (size_t)(size - off));
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
	}
	int r = partial ? drop_section_table(mfd) : 0;
	if (r < 0)
		return r;
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		return -errno;
	fexecve(mfd, argv, envp);
	return -errno;
}
