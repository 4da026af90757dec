/* Run a command as a child subreaper: container monitors that vzctl leaves
 * behind are reparented here and reaped, instead of becoming zombies under
 * a PID 1 that does not reap (as on some CI machines). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t timed_out;
static volatile pid_t command_group;

/* ^C or a timeout's SIGTERM: passed to the command's process group (the
 * test runner and the test it runs), which tears its server down, while
 * this process goes on reaping. */
static void forward(int sig)
{
	if (command_group > 0)
		kill(-command_group, sig);
}

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: subreaper command [args...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		perror("prctl");
		return 2;
	}
	pid_t child = fork();
	if (child < 0) {
		perror("fork");
		return 2;
	}
	if (child == 0) {
		setpgid(0, 0);
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	setpgid(child, child); /* whichever of the two runs first */
	command_group = child;
	struct sigaction fw = { .sa_handler = forward };
	sigaction(SIGINT, &fw, NULL);
	sigaction(SIGTERM, &fw, NULL);
	sigaction(SIGHUP, &fw, NULL);
	int code = 0, status;
	for (;;) {
		pid_t p = wait(&status);
		if (p < 0) {
			if (errno == EINTR && !timed_out)
				continue;
			break; /* ECHILD: the command and every orphan are gone */
		}
		if (p == child) {
			code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			/* Orphans still running after the command (a CT a test failed to
			 * stop) get 30 s to finish, then we leave them to the system. */
			struct sigaction sa = { .sa_handler = on_alarm };
			sigaction(SIGALRM, &sa, NULL);
			alarm(30);
		}
	}
	return code;
}
