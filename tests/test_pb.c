/* test_pb.c: the enum word tables of proto/pb.c, built on first use, when the first use is by
 * several threads at once (libcomplaint's users may call from several): every thread reads
 * the same words as one thread alone would, and no table grows past its values. */
#include <pthread.h>
#include <string.h>

#include "check.h"
#include "pb.h"

CHECK_DEFINE_COUNTERS();

#define THREADS 8

static pthread_barrier_t start;

struct seen {
        char error[16][32];
        char status[16][32];
        int parsed;
};

static void *
s_read(void *arg)
{
        struct seen *s = arg;

        pthread_barrier_wait(&start);
        for (int v = 0; v < 16; v++) {
                snprintf(s->error[v], sizeof(s->error[v]), "%s", pb_error_name(v));
                snprintf(s->status[v], sizeof(s->status[v]), "%s", pb_status_name(v));
        }
        s->parsed = pb_priority_parse("urgent");
        return NULL;
}

int
main(void)
{
        pthread_t t[THREADS];
        static struct seen seen[THREADS];

        REQUIRE(pthread_barrier_init(&start, NULL, THREADS) == 0);
        for (int i = 0; i < THREADS; i++)
                REQUIRE(pthread_create(&t[i], NULL, s_read, &seen[i]) == 0);
        for (int i = 0; i < THREADS; i++)
                pthread_join(t[i], NULL);
        pthread_barrier_destroy(&start);

        /* What one thread reads now, the tables built. */
        CHECK_STR(pb_error_name(E_OK), "ok");
        CHECK_STR(pb_error_name(E_NOT_FOUND), "not_found");
        CHECK_STR(pb_status_name(ST_NEW), "new");
        CHECK_INT(pb_priority_parse("urgent"), COMPLAINT__V1__PRIORITY__PRIORITY_URGENT);
        for (int i = 0; i < THREADS; i++) {
                for (int v = 0; v < 16; v++) {
                        CHECK_STR(seen[i].error[v], pb_error_name(v));
                        CHECK_STR(seen[i].status[v], pb_status_name(v));
                }
                CHECK_INT(seen[i].parsed, COMPLAINT__V1__PRIORITY__PRIORITY_URGENT);
        }
        return check_summary();
}
