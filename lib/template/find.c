/* Locating a cached OS template: $TEMPLATE/cache/<name>.tar[.gz|.bz2|.xz|.zst]. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nvz/cleanup.h"
#include "nvz/template.h"

/* The name is joined into a host path: it must stay one component. */
static bool bad_name(const char *name)
{
	return !*name || strchr(name, '/') || strchr(name, '\n') || !strcmp(name, ".") ||
	       !strcmp(name, "..");
}

char *nvz_template_find(const char *template_dir, const char *ostemplate, struct nvz_error **err)
{
	/* vzctl's order (plain, gz, bz2, xz); nvz's zstd last. */
	static const char *const exts[] = { ".tar", ".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst" };
	if (!template_dir || !*template_dir) {
		nvz_err(err, NVZ_E_TEMPLATE_NOTSET, EINVAL, "TEMPLATE is not set");
		return NULL;
	}
	if (!ostemplate || !*ostemplate) {
		nvz_err(err, NVZ_E_OSTEMPLATE_NOTSET, EINVAL, "OS template is not specified");
		return NULL;
	}
	if (bad_name(ostemplate)) {
		nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid OS template name '%s'", ostemplate);
		return NULL;
	}
	size_t dlen = strlen(template_dir);
	while (dlen > 1 && template_dir[dlen - 1] == '/')
		dlen--;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		cleanup_free char *path = NULL;
		if (asprintf(&path, "%.*s/cache/%s%s", (int)dlen, template_dir, ostemplate,
			     exts[i]) < 0) {
			nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
			return NULL;
		}
		struct stat st;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			return steal_ptr(&path);
	}
	nvz_err(err, NVZ_E_OSTEMPLATE_NOT_FOUND, ENOENT,
		"Cached OS template %.*s/cache/%s.tar[.gz|.bz2|.xz|.zst] not found", (int)dlen,
		template_dir, ostemplate);
	return NULL;
}
