/* watch.c: bench_watch, the benchmark's sampler of the daemon during a scenario. It reads
 * /proc/PID/status (VmRSS, RssAnon) every --every-ms (20 by default) until it is sent SIGTERM or
 * SIGINT or the process is gone, and /proc/PID/io (write_bytes: what the process sent, or caused
 * to be sent, to the storage layer; wchar: the bytes it handed to write calls) when it starts
 * and when it stops. It then prints, as "name value" lines (bench.h) under --label:
 *
 *   LABEL.peak_rss_kib        the highest VmRSS seen (the LMDB map's pages in memory included)
 *   LABEL.peak_rss_anon_kib   the highest RssAnon seen (the daemon's own memory)
 *   LABEL.rss_samples         how many samples the peaks are of
 *   LABEL.write_bytes         write_bytes at the end less at the start (-1: /proc/PID/io could
 *                             not be read, as when the process is not this user's)
 *   LABEL.wchar               wchar likewise: for the daemon, the pages LMDB wrote (4 KiB each)
 *                             and its log lines (its sockets' sends are not write calls)
 *
 * write_bytes is not the bytes the disk wrote on a kernel whose page cache keeps files in large
 * folios (Linux 6.x, ext4 since 6.16): a 4 KiB page written into a folio accounts the whole
 * folio, so after a store file was read or written in large runs, write_bytes can be 5 to 18
 * times what LMDB wrote and the disk received (issue 18: bench_pages measures both); wchar
 * stays the bytes written.
 *
 * The peaks are of samples: a spike shorter than the period can pass unseen. Between samples
 * it waits for the signal with a timeout (sigtimedwait), not a sleep, so it stops at once. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

/* Reads VmRSS and RssAnon ("Key:   123 kB") of /proc/PID/status; false when it cannot. */
static bool
s_rss(long pid, int64_t *ret_rss, int64_t *ret_anon)
{
        char path[64], line[256];
        int64_t rss = -1, anon = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%ld/status", pid);
        if ((f = fopen(path, "re")) == NULL)
                return false;
        while (fgets(line, sizeof(line), f)) {
                if (strncmp(line, "VmRSS:", 6) == 0)
                        rss = strtoll(line + 6, NULL, 10);
                else if (strncmp(line, "RssAnon:", 8) == 0)
                        anon = strtoll(line + 8, NULL, 10);
        }
        fclose(f);
        if (rss < 0 || anon < 0)
                return false;
        *ret_rss = rss;
        *ret_anon = anon;
        return true;
}

/* Reads write_bytes and wchar of /proc/PID/io; false when it cannot. */
static bool
s_io(long pid, int64_t *ret_write_bytes, int64_t *ret_wchar)
{
        char path[64], line[128];
        int64_t w = -1, c = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%ld/io", pid);
        if ((f = fopen(path, "re")) == NULL)
                return false;
        while (fgets(line, sizeof(line), f)) {
                if (strncmp(line, "write_bytes:", 12) == 0)
                        w = strtoll(line + 12, NULL, 10);
                else if (strncmp(line, "wchar:", 6) == 0)
                        c = strtoll(line + 6, NULL, 10);
        }
        fclose(f);
        if (w < 0 || c < 0)
                return false;
        *ret_write_bytes = w;
        *ret_wchar = c;
        return true;
}

static void
s_usage(FILE *f)
{
        fprintf(f, "usage: bench_watch --pid PID --label NAME [--every-ms N]\n");
}

int
main(int argc, char **argv)
{
        static const struct option options[] = {
            {"pid", required_argument, NULL, 'p'},
            {"label", required_argument, NULL, 'l'},
            {"every-ms", required_argument, NULL, 'e'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        const char *label = NULL;
        long pid = 0, every_ms = 20;
        int64_t peak_rss = 0, peak_anon = 0, samples = 0, w0 = -1, w1 = -1, c0 = -1, c1 = -1;
        bool io0;
        sigset_t stop;
        char key[160];
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
                switch (c) {
                case 'p':
                        pid = atol(optarg);
                        break;
                case 'l':
                        label = optarg;
                        break;
                case 'e':
                        every_ms = atol(optarg);
                        break;
                case 'h':
                        s_usage(stdout);
                        return 0;
                default:
                        s_usage(stderr);
                        return 2;
                }
        }
        if (optind != argc || pid <= 0 || label == NULL || every_ms < 1 || every_ms > 10000) {
                s_usage(stderr);
                return 2;
        }
        /* Blocked, the stop signals wait for sigtimedwait() below. */
        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGINT);
        sigprocmask(SIG_BLOCK, &stop, NULL);

        io0 = s_io(pid, &w0, &c0);
        for (;;) {
                struct timespec wait = {every_ms / 1000, (every_ms % 1000) * 1000000};
                int64_t rss, anon, w, wc;

                if (!s_rss(pid, &rss, &anon))
                        break; /* gone: the last /proc/PID/io read stands */
                if (s_io(pid, &w, &wc)) {
                        w1 = w;
                        c1 = wc;
                }
                samples++;
                if (rss > peak_rss)
                        peak_rss = rss;
                if (anon > peak_anon)
                        peak_anon = anon;
                if (sigtimedwait(&stop, NULL, &wait) >= 0)
                        break;
                if (errno != EAGAIN && errno != EINTR)
                        bench_die("sigtimedwait: %s", strerror(errno));
        }
        if (samples == 0)
                bench_die("cannot read /proc/%ld/status", pid);
        snprintf(key, sizeof(key), "%s.peak_rss_kib", label);
        bench_figure(key, (double)peak_rss);
        snprintf(key, sizeof(key), "%s.peak_rss_anon_kib", label);
        bench_figure(key, (double)peak_anon);
        snprintf(key, sizeof(key), "%s.rss_samples", label);
        bench_figure(key, (double)samples);
        snprintf(key, sizeof(key), "%s.write_bytes", label);
        bench_figure(key, io0 && w1 >= 0 ? (double)(w1 - w0) : -1);
        snprintf(key, sizeof(key), "%s.wchar", label);
        bench_figure(key, io0 && c1 >= 0 ? (double)(c1 - c0) : -1);
        return 0;
}
