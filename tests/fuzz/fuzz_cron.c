/* libFuzzer target for the postcreate crontab shuffle (a template's
 * /etc/crontab and /etc/cron.d files). Properties checked on every line:
 *  1. a line left alone gives NULL, a changed one keeps its field count;
 *  2. only the first three fields change: from the fourth on, the line is
 *     the same text, byte for byte; and the line is never read past len. */
#include "ct/postcreate.h"
#include "fuzz.h"

static size_t count_fields(const char *s, size_t n, const char **fourth)
{
	size_t fields = 0;
	*fourth = s + n;
	for (size_t i = 0; i < n;) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == n)
			break;
		if (++fields == 4)
			*fourth = s + i;
		while (i < n && s[i] != ' ' && s[i] != '\t')
			i++;
	}
	return fields;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A file is read as a C string: its lines hold no NUL. */
	const uint8_t *nul = memchr(data, '\0', size);
	if (nul)
		size = (size_t)(nul - data);
	/* Exactly size bytes, no terminator: a read past len shows in ASan. */
	char *line = malloc(size ? size : 1);
	CHECK(line);
	memcpy(line, data, size);
	char *out = nvz_cron_line_shuffle(line, size);
	if (out) {
		const char *in4, *out4;
		size_t nin = count_fields(line, size, &in4);
		size_t nout = count_fields(out, strlen(out), &out4);
		CHECK(nin >= 7 && nin == nout);
		CHECK((size_t)(line + size - in4) == strlen(out4));
		CHECK(!memcmp(in4, out4, strlen(out4)));
		free(out);
	}
	free(line);
	return 0;
}
