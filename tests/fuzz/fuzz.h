/* Shared bits of the libFuzzer targets: a check that aborts (libFuzzer
 * reports it as a crash with the input) and NUL-terminated copies of the
 * fuzzer's bytes, since the parsers take C strings. */
#ifndef NVZ_FUZZ_H
#define NVZ_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond))                                                                   \
			abort();                                                               \
	} while (0)

/* The next '\n'-separated field of [*p, end) as a malloc'd string. */
static inline char *fuzz_field(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);
	CHECK(s);
	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nl ? nl + 1 : end;
	return s;
}

#endif
