/* libFuzzer target for the config parser and writer.
 * Properties checked on every input the parser accepts:
 *  1. format(parse(x)) == x: untouched files are rewritten byte for byte;
 *  2. re-serialising every entry (as --save does for changed keys) and
 *     parsing the result gives back the same values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nvz/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond))                                                                   \
			abort();                                                               \
	} while (0)

static struct nvz_conf *parse(const char *buf, size_t len)
{
	struct nvz_conf *c = nvz_conf_new();
	CHECK(c);
	if (nvz_conf_parse(c, buf, len, "fuzz", NULL) < 0) {
		nvz_conf_free(c);
		return NULL;
	}
	return c;
}

/* Every key of a rewritten in full, through nvz_conf_set. */
static void check_rewrite(const struct nvz_conf *a)
{
	struct nvz_conf *b = nvz_conf_new();
	CHECK(b);
	const char *k, *v;
	for (size_t i = 0; nvz_conf_entry(a, i, &k, &v); i++)
		CHECK(nvz_conf_set(b, k, nvz_conf_get(a, k), NULL) == 0);
	char *text = nvz_conf_format(b);
	CHECK(text);
	struct nvz_conf *c = parse(text, strlen(text));
	CHECK(c);
	CHECK(nvz_conf_warnings(c)[0] == NULL);
	CHECK(nvz_conf_count(c) == nvz_conf_count(b));
	for (size_t i = 0; nvz_conf_entry(a, i, &k, &v); i++) {
		const char *got = nvz_conf_get(c, k);
		CHECK(got && strcmp(got, nvz_conf_get(a, k)) == 0);
	}
	nvz_conf_free(c);
	free(text);
	nvz_conf_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvz_conf *a = parse((const char *)data, size);
	if (!a)
		return 0;
	char *text = nvz_conf_format(a);
	CHECK(text);
	CHECK(strlen(text) == size && memcmp(text, data, size) == 0);
	struct nvz_conf *again = parse(text, size);
	CHECK(again);
	char *text2 = nvz_conf_format(again);
	CHECK(text2 && strcmp(text, text2) == 0);
	/* Escaping can double a value: keep re-serialised lines under the cap. */
	if (size < 32 * 1024)
		check_rewrite(a);
	free(text2);
	nvz_conf_free(again);
	free(text);
	nvz_conf_free(a);
	return 0;
}
