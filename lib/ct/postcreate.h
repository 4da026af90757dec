/* What OpenVZ's postcreate.sh did to a new CT's tree, done in-process. */
#ifndef NVZ_CT_POSTCREATE_H
#define NVZ_CT_POSTCREATE_H

#include <stdbool.h>
#include <stddef.h>

#include "nvz/error.h"

/* On the tree at rootfd (every path resolved inside it): cron jobs that
 * run at a fixed time get a random minute, hour (0-5) and day of month
 * (1-28), unless their file has the word VZCTL_POSTCREATE_SKIP; an empty
 * root password in /etc/passwd or /etc/shadow is locked; /etc/hosts gets
 * the localhost lines it lacks; an empty /etc/resolv.conf is made where
 * there is none. With apply false nothing is written. Returns 1 if
 * something was (or would be) changed, 0 if not, -1 on an error. */
int nvz_ct_postcreate(int rootfd, bool apply, struct nvz_error **err);

/* One crontab line with its fixed times made random: a new string, or
 * NULL if the line has none (a comment, a variable, "@daily", "*"). */
char *nvz_cron_line_shuffle(const char *line, size_t len);

#endif
