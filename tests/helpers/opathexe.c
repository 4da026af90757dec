/* opathexe: hold an O_PATH descriptor of our own executable as fd 9 (as
 * systemd >= 255 holds systemd-executor, which its "(sd-pam)" processes
 * run) and wait for signals. Static: busybox CTs have no libc. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	int fd = open("/proc/self/exe", O_PATH | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 9) < 0) {
		perror("opathexe");
		return 1;
	}
	close(fd);
	for (;;)
		pause();
}
