/* The open files of a restored CT's processes (taskfd.c), and the PSI
 * triggers criu does not carry (psi.c). */
#ifndef NVZ_CPT_TASKFD_H
#define NVZ_CPT_TASKFD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* fn(pid, arg) for each process in init_pid's pid namespace (the CT's),
 * init included, until fn returns false. */
void nvz_cpt_each_task(pid_t init_pid, bool (*fn)(pid_t pid, void *arg), void *arg);

/* A process of the CT (init_pid's) in a network, UTS or IPC namespace
 * other than init's: criu dumps none of these but a network namespace,
 * and restores a nested one only in the CT's own (which nvz makes and
 * criu joins). Returns true and describes the first such process in why
 * ("comm[pid] has a network namespace of its own"). */
bool nvz_cpt_nested_ns(pid_t init_pid, char *why, size_t len);

/* Is the CT (init_pid) in a user namespace of its own (USERNS="yes")?
 * Its network, UTS and IPC namespaces belong to the host's, so that its
 * root cannot change them (launcher.c), and criu dumps only namespaces
 * that belong to the tree's user namespace: such a CT cannot be dumped. */
bool nvz_cpt_own_userns(pid_t init_pid);
#define NVZ_CPT_USERNS_WHY                                                                        \
	"it runs in a user namespace of its own (USERNS=\"yes\"), whose network, UTS and IPC "   \
	"namespaces belong to the host's: criu cannot checkpoint it"

/* pidcount.c: the CT's pid counter (its pid namespace's last pid, init_pid's),
 * which criu does not carry: read at dump (-1 if it cannot be), written
 * back at restore (0, or -1 and errno). */
int nvz_cpt_last_pid_read(pid_t init_pid);
int nvz_cpt_last_pid_write(pid_t init_pid, int value);

/* want: the descriptor's link target (/proc/PID/fd/N) is one to act on.
 * fn: gets a copy of that descriptor, closed when it returns, or -1 with
 * errno set if the copy was refused. */
typedef bool (*nvz_cpt_fd_want_fn)(const char *target);
typedef void (*nvz_cpt_fd_fn)(pid_t pid, int fd, const char *target, void *arg);

/* Each wanted descriptor of each process in init_pid's pid namespace. */
void nvz_cpt_each_task_fd(pid_t init_pid, nvz_cpt_fd_want_fn want, nvz_cpt_fd_fn fn, void *arg);

/* The trigger to write again into a PSI file a restored process holds,
 * from its environment (envp: NUL-separated, len bytes): systemd's
 * MEMORY_PRESSURE_WRITE (base64) for a memory file, else sd-event's own
 * default. Returns its length (with the NUL systemd writes), or -1 if
 * out does not hold it. */
ssize_t nvz_cpt_psi_trigger(const char *envp, size_t len, bool memory, char *out, size_t size);

/* Writes the triggers again into every PSI file open for writing in the
 * CT (init_pid's pid namespace). Returns how many could not be: what
 * failed, or a trigger nvz had to guess, is described in note (may be
 * NULL), one "comm[pid] path: why" per item, "; " between them. */
int nvz_cpt_psi_rearm(pid_t init_pid, char *note, size_t note_len);

#endif
