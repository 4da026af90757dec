/* Scope-bound cleanup: ownership leaves a scope only through steal_ptr/steal_fd. */
#ifndef NVZ_CLEANUP_H
#define NVZ_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void nvz_freep(void *p)
{
	int saved = errno;
	free(*(void **)p);
	errno = saved;
}

static inline void nvz_closep(int *fd)
{
	int saved = errno;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	errno = saved;
}

static inline void nvz_fclosep(FILE **f)
{
	int saved = errno;
	if (*f)
		fclose(*f);
	*f = NULL;
	errno = saved;
}

static inline void nvz_closedirp(DIR **d)
{
	int saved = errno;
	if (*d)
		closedir(*d);
	*d = NULL;
	errno = saved;
}

static inline void nvz_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static inline void nvz_strvp(char ***v)
{
	int saved = errno;
	nvz_strv_free(*v);
	*v = NULL;
	errno = saved;
}

#define cleanup_free __attribute__((cleanup(nvz_freep)))
#define cleanup_close __attribute__((cleanup(nvz_closep)))
#define cleanup_fclose __attribute__((cleanup(nvz_fclosep)))
#define cleanup_dir __attribute__((cleanup(nvz_closedirp)))
#define cleanup_strv __attribute__((cleanup(nvz_strvp)))

#define steal_ptr(pp) ({ __typeof__(*(pp)) _p = *(pp); *(pp) = NULL; _p; })
#define steal_fd(fdp) ({ int _fd = *(fdp); *(fdp) = -1; _fd; })

#endif
