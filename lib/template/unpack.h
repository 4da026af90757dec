/* Internal to lib/template: the state shared by the archive loop (unpack.c)
 * and the per-entry writers (unpack-entry.c). */
#ifndef NVZ_TEMPLATE_UNPACK_H
#define NVZ_TEMPLATE_UNPACK_H

#include <archive.h>
#include <archive_entry.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "nvz/error.h"
#include "nvz/template.h"

/* A directory's mode and mtime are applied after its contents (as tar does):
 * a 0555 directory must still accept its entries, and creating entries
 * would bump its mtime. */
struct nvz_dir_fixup {
	char *path; /* normalised, relative to the root */
	mode_t mode;
	struct timespec mtime;
};

struct nvz_unpack {
	int rootfd;
	bool chown; /* only root can give files away; others keep their own uid */
	struct nvz_unpack_stats *stats;
	struct nvz_dir_fixup *dirs;
	size_t ndirs, dirs_cap;
};

/* Create one entry whose name nvz_archive_path_check normalised to path. */
int nvz_unpack_entry(struct nvz_unpack *u, struct archive *a, struct archive_entry *e,
		     const char *path, struct nvz_error **err);
/* Remember a directory for the final mode/mtime pass. */
int nvz_unpack_add_dir(struct nvz_unpack *u, const char *path, struct archive_entry *e,
		       struct nvz_error **err);
/* Exit status for a failed syscall on an entry: full disk, the template's
 * fault, or ours. */
int nvz_unpack_status(int code);

#endif
