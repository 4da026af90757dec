/* libFuzzer target for the disk limit parser (lib/storage/layout.c):
 * DISKSPACE, DISKINODES and QUOTATIME, one per '\n'-separated field, and
 * MOUNT_OPTS (lib/storage/mountopts.c) in a fourth.
 * Properties of accepted values: a real hard limit is never below the soft
 * one; the same input always gives the same limits; accepted mount options
 * never hold "dev" or "panic" and their data string is NUL-terminated. */
#include "fuzz.h"
#include "nvz/storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char *space = fuzz_field(&p, end), *inodes = fuzz_field(&p, end),
	     *qtime = fuzz_field(&p, end), *mopts = fuzz_field(&p, end);
	struct nvz_disk_limits l, again;
	struct nvz_error *err = NULL;
	if (nvz_disk_limits_parse(space, inodes, qtime, &l, &err) < 0) {
		CHECK(err && err->status == NVZ_E_VALUE);
		nvz_error_free(err);
	} else {
		CHECK(!l.space_hard_kb || l.space_soft_kb <= l.space_hard_kb);
		CHECK(!l.inodes_hard || l.inodes_soft <= l.inodes_hard);
		CHECK(nvz_disk_limits_parse(space, inodes, qtime, &again, NULL) == 0);
		CHECK(memcmp(&l, &again, sizeof(l)) == 0);
		/* What set saves for --diskspace reads back as the same limits. */
		char *saved = space && *space ? nvz_disk_option_value("diskspace", space, NULL) : NULL;
		if (saved) {
			CHECK(nvz_disk_limits_parse(saved, inodes, qtime, &again, NULL) == 0);
			CHECK(again.space_soft_kb == l.space_soft_kb && again.space_hard_kb == l.space_hard_kb);
			free(saved);
		}
	}
	unsigned long flags;
	char mdata[64];
	err = NULL;
	if (nvz_mount_opts_parse(mopts, &flags, mdata, sizeof(mdata), &err) < 0) {
		CHECK(err && err->status == NVZ_E_VALUE);
		nvz_error_free(err);
	} else {
		CHECK(memchr(mdata, '\0', sizeof(mdata)) != NULL);
		CHECK(!strstr(mdata, "panic") && !(mopts && strstr(mopts, ",dev,")));
	}
	free(mopts);
	free(space);
	free(inodes);
	free(qtime);
	return 0;
}
