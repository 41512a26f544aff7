/* pagemap.h: the pages LMDB writes to the data file, counted by the B-tree that holds each
 * (bench_pages --trees). Linking pagemap.c interposes pwrite, pwrite64 and writev on the
 * process's LMDB; nothing is recorded before pagemap_start(). Single-threaded. */
#ifndef COMPLAINTD_BENCH_PAGEMAP_H
#define COMPLAINTD_BENCH_PAGEMAP_H

#include <stdbool.h>
#include <stdint.h>

#define PAGEMAP_TREES 64

/* Starts recording the pages written to the data file. */
void pagemap_start(void);

/* Counts the pages recorded since the last call (or pagemap_start()) by the tree of the store
 * in dir that holds them now: call it right after each commit, no write transaction open.
 * 0, or -errno when the data file cannot be read. */
int pagemap_attribute(const char *dir);

/* Prints the counts, per change over `changes` changes. */
void pagemap_print(uint64_t changes);

#endif
