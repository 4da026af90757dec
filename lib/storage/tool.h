/* Running a system tool for lib/storage (tool.c). */
#ifndef NVZ_STORAGE_TOOL_H
#define NVZ_STORAGE_TOOL_H

#include <stddef.h>

#include "nvz/error.h"

/* Run argv[0] (found in the system directories, with a clean environment,
 * killed if we die), its stdout and stderr captured into out (the first
 * bytes, newlines folded). Returns its exit status (128 + signal if
 * killed), < 0 if it could not be started. */
int nvz_run_tool(char *const argv[], char *out, size_t outlen, struct nvz_error **err);

#endif
