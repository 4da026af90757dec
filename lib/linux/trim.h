#ifndef NVZ_LINUX_TRIM_H
#define NVZ_LINUX_TRIM_H

/* Give back to the kernel what a long-lived process (a CT's monitor) no
 * longer uses after its setup: free heap, and the pages of its stack below
 * the current frame that setup's deeper calls dirtied. Best effort. */
void nvz_trim_memory(void);

#endif
