/* Running the transport tools of a migration (ssh, rsync): argv vectors
 * built from pieces and user option strings, children with pipes. */
#ifndef NVZ_CPT_SPAWN_H
#define NVZ_CPT_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "nvz/error.h"

struct nvz_argv {
	char **v;
	size_t n, cap;
	bool oom;
};

void nvz_argv_add(struct nvz_argv *a, const char *s);
/* Each blank-separated word of opts (NULL: none). */
void nvz_argv_add_words(struct nvz_argv *a, const char *opts);
void nvz_argv_free(struct nvz_argv *a);

/* Start argv (PATH lookup). in_w/out_r non-NULL: a pipe to its stdin /
 * from its stdout; otherwise stdin is /dev/null and stdout inherited.
 * stderr is always inherited, so the tool's own message reaches the user. */
int nvz_spawn(char *const argv[], pid_t *pid, int *in_w, int *out_r, struct nvz_error **err);
/* Wait for pid: its exit status, 128 + signal if killed, or -1. If a
 * signal interrupts the wait and *stop is set, pid gets SIGTERM (and is
 * still waited for). */
int nvz_wait(pid_t pid, const volatile sig_atomic_t *stop);
/* Run to completion with stdin /dev/null: its exit status as nvz_wait. */
int nvz_run(char *const argv[], const volatile sig_atomic_t *stop, struct nvz_error **err);

#endif
