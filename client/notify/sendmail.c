/* sendmail.c: runs the sendmail command (sendmail.h) with posix_spawn, feeding its standard
 * input and reading its standard error through non-blocking pipes, and waiting on a pidfd, all
 * in one poll() loop bounded by the timeout. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sendmail.h"

extern char **environ;

static int64_t
s_mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_close(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

int
sendmail_run(char *const argv[], const char *msg, size_t n, int timeout_ms, char *err,
             size_t err_size)
{
        int in[2] = {-1, -1}, errp[2] = {-1, -1}, pidfd = -1, status = 0, r;
        posix_spawn_file_actions_t fa;
        char ebuf[512];
        size_t written = 0, elen = 0;
        int64_t deadline = s_mono_ms() + timeout_ms;
        bool exited = false;
        struct stat st;
        pid_t pid;

        err[0] = '\0';
        if (stat(argv[0], &st) < 0) {
                snprintf(err, err_size, "%s: %s", argv[0], strerror(errno));
                return errno == ENOENT ? -ENOENT : -errno;
        }
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
                r = -errno;
                s_close(&in[0]);
                s_close(&in[1]);
                return r;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, errp[1], STDERR_FILENO);
        r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        s_close(&in[0]);
        s_close(&errp[1]);
        if (r != 0) {
                s_close(&in[1]);
                s_close(&errp[0]);
                snprintf(err, err_size, "%s: %s", argv[0], strerror(r));
                return -r;
        }
        pidfd = pidfd_open(pid, 0);
        fcntl(in[1], F_SETFL, O_NONBLOCK);
        fcntl(errp[0], F_SETFL, O_NONBLOCK);
        if (n == 0)
                s_close(&in[1]);

        while (!exited || errp[0] >= 0) {
                struct pollfd p[3] = {{.fd = in[1], .events = POLLOUT},
                                      {.fd = errp[0], .events = POLLIN},
                                      {.fd = exited ? -1 : pidfd, .events = POLLIN}};
                int64_t left = deadline - s_mono_ms();

                if (left <= 0 || pidfd < 0)
                        break;
                if (poll(p, 3, (int)left) < 0 && errno != EINTR)
                        break;
                if (in[1] >= 0 && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
                        ssize_t w = write(in[1], msg + written, n - written);

                        if (w > 0)
                                written += (size_t)w;
                        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == n)
                                s_close(&in[1]);
                }
                if (errp[0] >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
                        char chunk[256];
                        ssize_t got = read(errp[0], chunk, sizeof(chunk));

                        if (got > 0) {
                                size_t take = (size_t)got;

                                if (take > sizeof(ebuf) - 1 - elen)
                                        take = sizeof(ebuf) - 1 - elen;
                                memcpy(ebuf + elen, chunk, take);
                                elen += take;
                        } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                                s_close(&errp[0]);
                        }
                }
                if (p[2].revents & POLLIN)
                        exited = true;
        }
        s_close(&in[1]);
        s_close(&errp[0]);
        if (!exited) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                s_close(&pidfd);
                snprintf(err, err_size, "%s did not finish within %d ms", argv[0], timeout_ms);
                return -EAGAIN;
        }
        s_close(&pidfd);
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        ebuf[elen] = '\0';
        ebuf[strcspn(ebuf, "\n")] = '\0';
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && written == n)
                return 0;
        if (WIFEXITED(status))
                snprintf(err, err_size, "%s exited with status %d%s%s", argv[0],
                         WEXITSTATUS(status), ebuf[0] ? ": " : "", ebuf);
        else
                snprintf(err, err_size, "%s was killed by signal %d", argv[0],
                         WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        return -EAGAIN;
}
