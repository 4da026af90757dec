/* vzhub: the server's monitor hub (lib/ct/hub.h). Not for people: vzctl
 * start runs it when the server has none, as `vzhub 3 4` with its
 * listening socket on 3 and the vzctl it serves open on 4. A binary of its
 * own, linked with only what the hub calls: the one process that lives as
 * long as the server's CTs maps a fraction of vzctl's code and data.
 * `vzhub --restore-monitor ...` is a restore's monitor, which the hub
 * forks and runs anew (hub-start.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct/hub.h"

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--restore-monitor"))
		return nvz_hub_restore_monitor_main(argc, argv);
	if (argc != 3) {
		fprintf(stderr, "vzhub: not for people (vzctl start runs it)\n");
		return NVZ_E_SYNTAX;
	}
	return nvz_hub_main(atoi(argv[1]), atoi(argv[2]));
}
