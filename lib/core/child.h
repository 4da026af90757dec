/* Run a function in a forked child that dies with its parent and sends
 * back its error: used for work done in another namespace (a private mount
 * namespace for create, a CT's mount or UTS namespace for live changes). */
#ifndef NVZ_CORE_CHILD_H
#define NVZ_CORE_CHILD_H

#include "nvz/error.h"

typedef int (*nvz_child_fn)(void *arg, struct nvz_error **err);

/* 0 if fn returned >= 0 in the child; otherwise < 0 with the child's error
 * (or "what: the helper process died" if it died without one). */
int nvz_child_run(nvz_child_fn fn, void *arg, const char *what, struct nvz_error **err);

/* Every signal to its default action, none blocked: what a program started
 * afresh expects (init, an admin's script), while an exec keeps the mask
 * and the ignored signals of whoever runs it (the hub blocks SIGCHLD and
 * SIGTERM for its signalfd and ignores SIGPIPE and SIGHUP). */
void nvz_signals_default(void);

/* Our RLIM_NLIMITS limits to want's; a hard limit above ours takes
 * CAP_SYS_RESOURCE: without it, ours (and a soft one no higher). */
struct rlimit;
void nvz_rlimits_set(const struct rlimit *want);

#endif
