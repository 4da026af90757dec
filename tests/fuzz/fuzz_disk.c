/* libFuzzer target for the disk limit parser (lib/storage/layout.c):
 * DISKSPACE, DISKINODES and QUOTATIME, one per '\n'-separated field.
 * Properties of accepted values: a real hard limit is never below the soft
 * one; the same input always gives the same limits. */
#include "fuzz.h"
#include "nvz/storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char *space = fuzz_field(&p, end), *inodes = fuzz_field(&p, end),
	     *qtime = fuzz_field(&p, end);
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
	}
	free(space);
	free(inodes);
	free(qtime);
	return 0;
}
