/* timeshim.h: moving a daemon's wall clock from a test (timeshim.c). A test creates the offset
 * file, starts the daemon with TIMESHIM_FILE naming it and LD_PRELOAD naming TIMESHIM_LIB, and
 * moves the clock with timeshim_set. */
#ifndef COMPLAINTD_TIMESHIM_H
#define COMPLAINTD_TIMESHIM_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

/* Sets the offset in file path (created 0600 if needed) to offset_ms: the daemon's clock reads
 * real time plus offset_ms from its next reading on. Returns 0 or a negative errno. */
static inline int
timeshim_set(const char *path, int64_t offset_ms)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600), r = 0;

        if (fd < 0)
                return -errno;
        if (pwrite(fd, &offset_ms, sizeof(offset_ms), 0) != (ssize_t)sizeof(offset_ms))
                r = -EIO;
        close(fd);
        return r;
}

#endif
