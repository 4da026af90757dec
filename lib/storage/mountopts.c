/* MOUNT_OPTS (vzctl set --mount_opts): extra mount options for a ploop
 * image's ext4, from a list that cannot weaken the CT's isolation: no
 * "dev" (device nodes are the device cgroup's and nvz's), no errors=panic
 * (a CT's file system error must not take the host down). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "nvz/cleanup.h"
#include "nvz/storage.h"

static const struct {
	const char *name;
	unsigned long flag;
} flag_opts[] = {
	{ "noatime", MS_NOATIME },   { "nodiratime", MS_NODIRATIME }, { "relatime", MS_RELATIME },
	{ "strictatime", MS_STRICTATIME }, { "lazytime", MS_LAZYTIME }, { "nosuid", MS_NOSUID },
	{ "noexec", MS_NOEXEC },     { "sync", MS_SYNCHRONOUS },      { "dirsync", MS_DIRSYNC },
};

/* ext4's own options, passed as the mount's data: exact names, or a
 * prefix taking a value ("commit=" digits, "data=" one of a few). */
static const char *const ext4_words[] = {
	"barrier", "nobarrier", "discard", "nodiscard", "journal_checksum", "nojournal_checksum",
	"auto_da_alloc", "noauto_da_alloc", "delalloc", "nodelalloc", "dioread_nolock", "dioread_lock",
	"nombcache", "init_itable", "noinit_itable", "acl", "noacl", "user_xattr",
};
static const char *const ext4_numeric[] = { "commit=", "barrier=", "max_batch_time=", "min_batch_time=",
					    "journal_ioprio=", "init_itable=", "stripe=", "inode_readahead_blks=" };

static bool in_list(const char *opt, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(opt, list[i]))
			return true;
	return false;
}

static bool ext4_option(const char *opt)
{
	static const char *const data_modes[] = { "data=ordered", "data=journal", "data=writeback" };
	static const char *const errors_modes[] = { "errors=continue", "errors=remount-ro" };
	if (in_list(opt, ext4_words, sizeof(ext4_words) / sizeof(ext4_words[0])) ||
	    in_list(opt, data_modes, 3) || in_list(opt, errors_modes, 2))
		return true;
	for (size_t i = 0; i < sizeof(ext4_numeric) / sizeof(ext4_numeric[0]); i++) {
		size_t n = strlen(ext4_numeric[i]);
		if (!strncmp(opt, ext4_numeric[i], n) && opt[n] && strlen(opt + n) <= 9 &&
		    strspn(opt + n, "0123456789") == strlen(opt + n))
			return true;
	}
	return false;
}

int nvz_mount_opts_parse(const char *text, unsigned long *flags, char *data, size_t size,
			 struct nvz_error **err)
{
	*flags = 0;
	if (size)
		data[0] = '\0';
	if (!text || !*text)
		return 0;
	cleanup_free char *copy = strdup(text);
	if (!copy)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	size_t len = 0;
	char *save = NULL;
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		bool known = false;
		for (size_t i = 0; i < sizeof(flag_opts) / sizeof(flag_opts[0]) && !known; i++)
			if (!strcmp(o, flag_opts[i].name)) {
				*flags |= flag_opts[i].flag;
				known = true;
			}
		if (known)
			continue;
		if (!ext4_option(o))
			return nvz_err(err, NVZ_E_VALUE, EINVAL,
				       "invalid value for MOUNT_OPTS: '%s' (%s is not an option nvz passes "
				       "to a container's ext4)", text, o);
		int n = snprintf(data + len, size - len, "%s%s", len ? "," : "", o);
		if (n < 0 || (size_t)n >= size - len)
			return nvz_err(err, NVZ_E_VALUE, E2BIG,
				       "invalid value for MOUNT_OPTS: '%s' (too long)", text);
		len += (size_t)n;
	}
	return 0;
}
