/* notify_run.c: complaint-notify as a child of a test (notify_run.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "notify_run.h"

static void *
s_read(void *arg)
{
        notify_proc_t *p = arg;
        char chunk[4096];
        ssize_t got;

        while ((got = read(p->err_fd, chunk, sizeof(chunk))) > 0) {
                pthread_mutex_lock(&p->lock);
                {
                        char *b = realloc(p->log, p->len + (size_t)got + 1);

                        if (b) {
                                memcpy(b + p->len, chunk, (size_t)got);
                                p->len += (size_t)got;
                                b[p->len] = '\0';
                                p->log = b;
                        }
                }
                pthread_cond_broadcast(&p->cond);
                pthread_mutex_unlock(&p->lock);
        }
        return NULL;
}

int
notify_start(notify_proc_t *p, const char *conf, const char *const *extra)
{
        const char *argv[16] = {NOTIFY_BIN, "--config", conf};
        int n = 3, errp[2], r;
        pid_t pid;

        if (p->pidfd == 0 && p->pid == 0 && p->log == NULL) {
                pthread_mutex_init(&p->lock, NULL);
                pthread_cond_init(&p->cond, NULL);
        }
        for (; extra && *extra && n < 15; extra++)
                argv[n++] = *extra;
        argv[n] = NULL;
        if (pipe2(errp, O_CLOEXEC) < 0)
                return -errno;
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(errp[0]);
                close(errp[1]);
                return r;
        }
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(errp[1], STDERR_FILENO);
                execv(NOTIFY_BIN, (char *const *)(uintptr_t)argv);
                _exit(127);
        }
        close(errp[1]);
        p->pid = pid;
        p->pidfd = pidfd_open(pid, 0);
        p->err_fd = errp[0];
        p->reading = pthread_create(&p->reader, NULL, s_read, p) == 0;
        return 0;
}

static size_t
s_count(const char *log, const char *needle)
{
        size_t n = 0;

        for (const char *line = log; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);

                if (memmem(line, len, needle, strlen(needle)))
                        n++;
                line = nl ? nl + 1 : NULL;
        }
        return n;
}

size_t
notify_log_count(notify_proc_t *p, const char *needle)
{
        size_t n;

        pthread_mutex_lock(&p->lock);
        n = s_count(p->log, needle);
        pthread_mutex_unlock(&p->lock);
        return n;
}

bool
notify_wait_log(notify_proc_t *p, const char *needle, size_t n, int timeout_ms)
{
        struct timespec until;
        bool ok;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&p->lock);
        while (s_count(p->log, needle) < n &&
               pthread_cond_timedwait(&p->cond, &p->lock, &until) == 0)
                ;
        ok = s_count(p->log, needle) >= n;
        pthread_mutex_unlock(&p->lock);
        return ok;
}

static int
s_reap(notify_proc_t *p, int timeout_ms)
{
        struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};
        int status = 0;

        if (p->pid == 0)
                return -ECHILD;
        if (p->pidfd >= 0 && poll(&pfd, 1, timeout_ms) == 0)
                kill(p->pid, SIGKILL);
        waitpid(p->pid, &status, 0);
        if (p->pidfd >= 0)
                close(p->pidfd);
        if (p->reading)
                pthread_join(p->reader, NULL);
        close(p->err_fd);
        p->pid = 0;
        p->pidfd = -1;
        p->reading = false;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
notify_stop(notify_proc_t *p)
{
        if (p->pid == 0)
                return -ECHILD;
        kill(p->pid, SIGTERM);
        return s_reap(p, 10000);
}

int
notify_kill(notify_proc_t *p)
{
        if (p->pid == 0)
                return -ECHILD;
        kill(p->pid, SIGKILL);
        return s_reap(p, 10000);
}

void
notify_dump_log(notify_proc_t *p)
{
        pthread_mutex_lock(&p->lock);
        fprintf(stderr, "---- complaint-notify log ----\n%s---- end ----\n", p->log ? p->log : "");
        pthread_mutex_unlock(&p->lock);
}

void
notify_free(notify_proc_t *p)
{
        if (p->pid)
                notify_kill(p);
        free(p->log);
        p->log = NULL;
        p->len = 0;
}

int
notify_write_msmtprc(const char *path, int port, const char *from)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

        if (f == NULL)
                return -errno;
        fprintf(f,
                "defaults\nauth off\ntls off\ntimeout 10\n\n"
                "account default\nhost 127.0.0.1\nport %d\nfrom %s\n",
                port, from);
        return fclose(f) == 0 ? 0 : -errno;
}
