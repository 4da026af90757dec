/* nvz exec stub: the only program that joins a running CT for vzctl exec.
 *
 * vzctl runs it from a sealed memfd (lib/ct/exec.c): a few pages instead of
 * a copy of all of vzctl per exec, no dynamic loader, no libc start-up. It
 * joins the CT's namespaces (its cgroups it already has), clones the command
 * into the CT's pid namespace as vzctl's own child (CLONE_PARENT), reports
 * the command's pid and exits. The command drops to the CT's capabilities
 * and seccomp filter and execs the CT's binary. Neither process ever maps a
 * host binary the CT could reach (CVE-2019-5736).
 *
 * Freestanding (no libc: -nostdlib -static): raw system calls, x86-64. */
#include <linux/capability.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/filter.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <linux/uio.h>
#include <asm/ioctls.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "ct/exec-stub.h"

#ifndef __x86_64__
#error "the exec stub is written for x86-64"
#endif

#define JOIN_NS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP)
#define MAX_FILTER 512

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys5(n, a, b, c, d, e) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* The compiler may emit calls to these for struct copies and zeroing. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}
void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

static __attribute__((noreturn)) void die(int code)
{
	for (;;)
		sys3(SYS_exit_group, code, 0, 0);
}

static size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static int has_slash(const char *s)
{
	for (; *s; s++)
		if (*s == '/')
			return 1;
	return 0;
}

static void put(const char *s)
{
	sys3(SYS_write, 2, s, slen(s));
}

static int read_all(int fd, void *buf, size_t len)
{
	for (size_t off = 0; off < len;) {
		long n = sys3(SYS_read, fd, (char *)buf + off, len - off);
		if (n == -EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static struct nvz_stub_params P;
static struct sock_filter filter[MAX_FILTER];

/* Root of the CT's user namespace: ids 0, no supplementary groups. */
static int become_root(void)
{
	if (sys3(SYS_setns, NVZ_STUB_FD_USERNS, CLONE_NEWUSER, 0) < 0 ||
	    sys3(SYS_setresgid, 0, 0, 0) < 0 || sys3(SYS_setgroups, 0, 0, 0) < 0 ||
	    sys3(SYS_setresuid, 0, 0, 0) < 0)
		return -1;
	return 0;
}

/* As nvz_caps_apply: everything not kept leaves the bounding, ambient,
 * inheritable, permitted and effective sets. */
static int drop_caps(void)
{
	long r = sys5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (r < 0 && r != -EINVAL)
		return -1;
	for (int c = 0; c <= P.cap_last && c < 64; c++) {
		if (P.caps_keep & (1ULL << c))
			continue;
		r = sys5(SYS_prctl, PR_CAPBSET_DROP, c, 0, 0, 0);
		if (r < 0 && r != -EINVAL)
			return -1;
	}
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	if (sys3(SYS_capget, &h, d, 0) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		uint32_t keep = (uint32_t)(P.caps_keep >> (32 * i));
		d[i].effective &= keep;
		d[i].permitted &= keep;
		d[i].inheritable &= keep;
	}
	return sys3(SYS_capset, &h, d, 0) < 0 ? -1 : 0;
}

static const char *errstr(long e)
{
	switch (e) {
	case ENOENT: return "No such file or directory";
	case EACCES: return "Permission denied";
	case ENOEXEC: return "Exec format error";
	case ENOTDIR: return "Not a directory";
	case E2BIG: return "Argument list too long";
	case ENOMEM: return "Cannot allocate memory";
	case ELOOP: return "Too many levels of symbolic links";
	case ENAMETOOLONG: return "File name too long";
	case ETXTBSY: return "Text file busy";
	case EPERM: return "Operation not permitted";
	case EBUSY: return "Device or resource busy";
	default: return "Exec failed";
	}
}

/* execve, and for a file the kernel cannot run, as execvp: /bin/sh runs it. */
static long try_exec(const char *file, char **argv, char **envp)
{
	long e = sys3(SYS_execve, file, argv, envp);
	if (e == -ENOEXEC) {
		char *sh[256] = { "sh", (char *)file };
		for (int i = 1; argv[i] && i < 254; i++)
			sh[i + 1] = argv[i];
		sys3(SYS_execve, "/bin/sh", sh, envp);
	}
	return e;
}

/* execvp's search: each PATH entry in turn; EACCES is remembered, a
 * missing entry skipped, any other error ends the search (as glibc). */
static long search_exec(char **argv, char **envp)
{
	const char *name = argv[0], *p = P.path[0] ? P.path : "/bin:/usr/bin";
	size_t nl = slen(name);
	int denied = 0;
	char buf[4096];
	while (1) {
		const char *end = p;
		while (*end && *end != ':')
			end++;
		size_t dl = (size_t)(end - p);
		if (dl + nl + 2 <= sizeof(buf)) {
			memcpy(buf, p, dl);
			size_t off = dl;
			if (dl)
				buf[off++] = '/';
			memcpy(buf + off, name, nl + 1);
			long e = try_exec(buf, argv, envp);
			if (e == -EACCES)
				denied = 1;
			else if (e != -ENOENT && e != -ENOTDIR && e != -ESTALE && e != -ENODEV &&
				 e != -ETIMEDOUT)
				return e;
		}
		if (!*end)
			break;
		p = end + 1;
	}
	return denied ? -EACCES : -ENOENT;
}

/* The kernel's struct msghdr and a control message carrying one fd. */
struct msg {
	void *name;
	int namelen;
	struct iovec *iov;
	size_t iovlen;
	void *control;
	size_t controllen;
	unsigned flags;
};
struct fdmsg {
	size_t len;
	int level, type, fd, pad;
};

/* vzctl enter: a pty of the CT's own devpts (so `tty` names /dev/pts/N of
 * the CT) as stdio and controlling terminal; the master goes to vzctl. */
static int pty_stdio(void)
{
	int zero = 0;
	unsigned n = 0;
	long m = sys3(SYS_open, "/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
	if (m < 0 || sys3(SYS_ioctl, m, TIOCSPTLCK, &zero) < 0 || sys3(SYS_ioctl, m, TIOCGPTN, &n) < 0)
		return -1;
	char c = 0;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct fdmsg cm = { .len = 20, .level = 1 /* SOL_SOCKET */, .type = 1 /* SCM_RIGHTS */,
			    .fd = (int)m };
	struct msg msg = { .iov = &iov, .iovlen = 1, .control = &cm, .controllen = sizeof(cm) };
	if (sys3(SYS_sendmsg, NVZ_STUB_FD_PTY, &msg, 0x4000 /* MSG_NOSIGNAL */) < 0)
		return -1;
	sys3(SYS_close, m, 0, 0);
	sys3(SYS_close, NVZ_STUB_FD_PTY, 0, 0);
	char name[32] = "/dev/pts/";
	char digits[12];
	int k = 0;
	do
		digits[k++] = (char)('0' + n % 10);
	while ((n /= 10) && k < 11);
	int at = 9;
	while (k)
		name[at++] = digits[--k];
	name[at] = '\0';
	long t = sys3(SYS_open, name, O_RDWR, 0);
	if (t < 0 || sys3(SYS_ioctl, t, TIOCSCTTY, 0) < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (sys3(SYS_dup2, t, i, 0) < 0)
			return -1;
	if (t > 2)
		sys3(SYS_close, t, 0, 0);
	return 0;
}

/* The command, born in the CT's pid namespace: drops privileges, execs. */
static __attribute__((noreturn)) void command(char **argv, char **envp)
{
	/* Into the cgroup that counts the CT's processes, alone: the stub
	 * never held a slot there (exec-stub.h). */
	if (P.flags & NVZ_STUB_JOIN) {
		long r = sys3(SYS_write, NVZ_STUB_FD_JOIN, "0", 1);
		if (r == -EBUSY && (P.flags & NVZ_STUB_JOIN_LEAF))
			r = sys3(SYS_write, NVZ_STUB_FD_JOIN_LEAF, "0", 1);
		if (r != 1) {
			put("vzctl: cannot join the container's cgroup: ");
			put(errstr(-r));
			put("\n");
			die(125);
		}
		sys3(SYS_close, NVZ_STUB_FD_JOIN, 0, 0);
	}
	sys3(SYS_setsid, 0, 0, 0);
	if ((P.flags & NVZ_STUB_PTY) && pty_stdio() < 0)
		die(125);
	if (P.ioprio >= 0)
		sys3(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, P.ioprio);
	/* The filter first: loading it without no_new_privs needs CAP_SYS_ADMIN. */
	struct sock_fprog prog = { .len = (unsigned short)P.nfilter, .filter = filter };
	if ((P.nfilter && sys3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) ||
	    drop_caps() < 0)
		die(126);
	sys3(SYS_close_range, 3, ~0U, 0);
	if (sys3(SYS_chdir, "/", 0, 0) < 0 ||
	    ((P.flags & NVZ_STUB_NNP) && sys5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0))
		die(126);
	long e = (P.flags & NVZ_STUB_SEARCH) && !has_slash(argv[0])
			 ? search_exec(argv, envp)
			 : try_exec((P.flags & NVZ_STUB_SEARCH) ? argv[0] : P.file, argv, envp);
	if (e == -ENOENT && (P.flags & NVZ_STUB_SH_FALLBACK)) {
		argv[0] = (char *)"sh";
		e = try_exec("/bin/sh", argv, envp);
	}
	put("vzctl: exec ");
	put(argv[0]);
	put(": ");
	put(errstr(-e));
	put("\n");
	die(e == -ENOENT ? 127 : 126);
}

__attribute__((used)) void stub_main(long *sp);
__attribute__((used, noreturn)) void stub_main(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1), **envp = argv + argc + 1;
	if (argc < 1 || read_all(NVZ_STUB_FD_PARAMS, &P, sizeof(P)) < 0 ||
	    P.magic != NVZ_STUB_MAGIC || P.nfilter > MAX_FILTER ||
	    read_all(NVZ_STUB_FD_PARAMS, filter, P.nfilter * sizeof(filter[0])) < 0)
		die(125);
	P.file[sizeof(P.file) - 1] = P.path[sizeof(P.path) - 1] = '\0';
	sys3(SYS_close, NVZ_STUB_FD_PARAMS, 0, 0);
	if (sys3(SYS_setns, NVZ_STUB_FD_PIDFD, JOIN_NS | ((P.flags & NVZ_STUB_TIMENS) ? CLONE_NEWTIME : 0), 0) < 0 ||
	    ((P.flags & NVZ_STUB_USERNS) && become_root() < 0))
		die(125);
	/* vzctl's child, not ours: vzctl waits for it and relays its stdio;
	 * the stub's job ends here. exit_signal is the stub's (SIGCHLD). */
	struct clone_args a = { .flags = CLONE_PARENT };
	long pid = sys3(SYS_clone3, &a, sizeof(a), 0);
	if (pid == 0)
		command(argv, envp);
	if (pid < 0)
		die(125);
	int v = (int)pid;
	die(sys3(SYS_write, NVZ_STUB_FD_REPORT, &v, sizeof(v)) == sizeof(v) ? 0 : 125);
}

__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %rbp, %rbp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call stub_main\n"
	"	hlt\n");
