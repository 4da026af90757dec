/* P(fmt, ...): printf into one of a ring of 32 buffers, so that a unit
 * test can hold a few paths at once without freeing them. */
#ifndef NVZ_TEST_PATHFMT_H
#define NVZ_TEST_PATHFMT_H

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

__attribute__((format(printf, 1, 2), unused)) static const char *P(const char *fmt, ...)
{
	static char ring[32][PATH_MAX * 2];
	static unsigned next;
	char *b = ring[next++ % 32];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(ring[0]), fmt, ap);
	va_end(ap);
	return b;
}

#endif
