/* xattr set PATH NAME VALUE | xattr get PATH NAME: one extended attribute,
 * for tests on hosts without python3 or the attr tools (the VM lane). */
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "set")) {
		if (setxattr(argv[2], argv[3], argv[4], strlen(argv[4]), 0) == 0)
			return 0;
	} else if (argc == 4 && !strcmp(argv[1], "get")) {
		char value[4096];
		ssize_t n = getxattr(argv[2], argv[3], value, sizeof(value));
		if (n >= 0) {
			printf("%.*s\n", (int)n, value);
			return 0;
		}
	} else {
		fprintf(stderr, "usage: xattr set PATH NAME VALUE | xattr get PATH NAME\n");
		return 2;
	}
	perror(argv[2]);
	return 1;
}
