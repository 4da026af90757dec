/* OS templates: $TEMPLATE/cache/<name>.tar{,.gz,.xz,.zst,.bz2}, unpacked
 * in-process with libarchive without ever writing outside the target root. */
#ifndef NVZ_TEMPLATE_H
#define NVZ_TEMPLATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "nvz/error.h"

/* Path of the cached template archive, malloc'd; NULL with status 91 and
 * OpenVZ's message ("Cached OS template ... not found") if none exists. */
char *nvz_template_find(const char *template_dir, const char *ostemplate, struct nvz_error **err);

struct nvz_unpack_stats {
	unsigned long entries;
	unsigned long skipped_devices; /* device nodes and fifos are not created */
};

/* Unpack archive into the directory open as rootfd. Every entry is created
 * relative to rootfd with in-root resolution; entries with "..", absolute
 * paths that would escape, hard links to outside, are refused (the whole
 * unpack fails); symlinks are created verbatim but never followed out. */
int nvz_template_unpack(int rootfd, const char *archive, struct nvz_unpack_stats *stats,
			struct nvz_error **err);

/* Template sharing: the archive unpacked once into
 * <template_dir>/shared/<ostemplate>@<version>/, where the version names the
 * archive's identity (size and mtime): a replaced archive is a new version,
 * and CTs created from the old one keep their tree. Concurrent creates
 * unpack it once (flock). Returns the tree's path (malloc'd). */
char *nvz_template_shared_tree(const char *template_dir, const char *ostemplate,
			       struct nvz_error **err);

/* Check one archive entry name (exposed for unit tests and fuzzing):
 * returns 0 and a normalised relative path in out (malloc'd), or < 0. */
int nvz_archive_path_check(const char *name, char **out, struct nvz_error **err);

#endif
