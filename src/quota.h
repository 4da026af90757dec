/* vzctl quotaon, quotaoff and quotainit (src/cmd-quota.c). */
#ifndef NVZ_SRC_QUOTA_H
#define NVZ_SRC_QUOTA_H

#include "vzctl.h"

/* c->name tells which of the three; OpenVZ's messages and statuses. */
int cmd_quota(struct cmd_ctx *c);

#endif
