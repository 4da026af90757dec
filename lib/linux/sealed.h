#ifndef NVZ_LINUX_SEALED_H
#define NVZ_LINUX_SEALED_H

/* Re-execute the running binary from a sealed memfd copy (returns 0 if this
 * process already is one, < 0 -errno if the re-exec failed). */
int nvz_reexec_sealed(char **argv, char **envp);

#endif
