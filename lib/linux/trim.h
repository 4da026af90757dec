#ifndef NVZ_LINUX_TRIM_H
#define NVZ_LINUX_TRIM_H

/* Give back to the kernel what a long-lived process (a CT's monitor) no
 * longer uses after its setup: free heap, and the pages of its stack below
 * the current frame that setup's deeper calls dirtied. Best effort. */
void nvz_trim_memory(void);
/* Unmap this program's code pages that start-up faulted in (a static
 * binary's start-up touches most of libc's); those used later fault back. */
void nvz_trim_text(void);

#endif
