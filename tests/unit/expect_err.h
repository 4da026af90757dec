/* Shared by the unit tests: an error expected from a call. */
#ifndef NVZ_TEST_EXPECT_ERR_H
#define NVZ_TEST_EXPECT_ERR_H

#include <criterion/criterion.h>

#include "nvz/error.h"

/* Expect failure with status and, when msg is given, that exact message. */
static inline void expect_err(int r, struct nvz_error **errp, int status, const char *msg, const char *what)
{
	struct nvz_error *err = *errp;
	*errp = NULL;
	cr_assert_lt(r, 0, "%s: accepted", what);
	cr_assert_not_null(err, "%s: no error set", what);
	cr_assert_eq(err->status, status, "%s: status %d, want %d (%s)", what, err->status, status,
		     err->msg);
	if (msg)
		cr_assert_str_eq(err->msg, msg, "%s", what);
	nvz_error_free(err);
}

#endif
