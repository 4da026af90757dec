/* vzmon: a running CT's small monitor. Not for people: the CT's full
 * monitor execs it once init runs (lib/ct/monwait.h says what it does and
 * why it is a separate, static binary). */
#include <stdio.h>
#include <sys/prctl.h>

#include "ct/monwait.h"

int main(int argc, char **argv)
{
	struct nvz_monwait m;
	struct nvz_error *err = NULL;
	if (nvz_monwait_parse(argc - 1, argv + 1, &m, &err) < 0) {
		fprintf(stderr, "vzmon: %s\n", err->msg);
		return NVZ_E_SYNTAX;
	}
	char comm[16];
	snprintf(comm, sizeof(comm), "vzmon %lu", m.veid);
	prctl(PR_SET_NAME, comm);
	int status = nvz_monwait_run(&m);
	nvz_monwait_exec_exit(&m, status);
	return 0;
}
