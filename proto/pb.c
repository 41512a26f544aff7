/* pb.c: the enum word tables declared in pb.h. The words are the enum value names without
 * their prefix, in lower case, so they follow the schema without a second list to maintain. */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "pb.h"

/* The generated descriptor holds "STATUS_WALK_IN"-style names; strip the prefix up to the
 * known stem and lower-case the rest into a per-descriptor cache built on first use, once,
 * whichever threads ask first (libcomplaint's users may call from several). */
#define WORD_MAX 32
#define VALUES_MAX 16

struct words {
        const ProtobufCEnumDescriptor *desc;
        const char *prefix;
        char word[VALUES_MAX][WORD_MAX];
        int value[VALUES_MAX];
        _Atomic int n; /* 0 until the table is built; then its size, published with release */
};

static pthread_mutex_t fill_lock = PTHREAD_MUTEX_INITIALIZER;

/* The number of words in w, built on first use. */
static int
s_fill(struct words *w)
{
        size_t plen = strlen(w->prefix);
        int n = atomic_load_explicit(&w->n, memory_order_acquire);

        if (n > 0)
                return n;
        pthread_mutex_lock(&fill_lock);
        n = atomic_load_explicit(&w->n, memory_order_relaxed);
        if (n == 0) {
                for (unsigned i = 0; i < w->desc->n_values && n < VALUES_MAX; i++) {
                        const char *name = w->desc->values[i].name;
                        size_t j;

                        if (strncmp(name, w->prefix, plen) != 0)
                                continue;
                        name += plen;
                        for (j = 0; name[j] && j + 1 < WORD_MAX; j++)
                                w->word[n][j] = (char)tolower((unsigned char)name[j]);
                        w->word[n][j] = '\0';
                        w->value[n] = w->desc->values[i].value;
                        n++;
                }
                atomic_store_explicit(&w->n, n, memory_order_release);
        }
        pthread_mutex_unlock(&fill_lock);
        return n;
}

static const char *
s_name(struct words *w, int v)
{
        int n = s_fill(w);

        for (int i = 0; i < n; i++)
                if (w->value[i] == v)
                        return w->word[i];
        return "?";
}

static int
s_parse(struct words *w, const char *s)
{
        int n = s_fill(w);

        if (s == NULL)
                return -1;
        for (int i = 0; i < n; i++)
                if (w->value[i] != 0 && strcmp(w->word[i], s) == 0)
                        return w->value[i];
        return -1;
}

#define WORDS(fn, descriptor, pfx)                                             \
        static struct words fn##_words = {.desc = &descriptor, .prefix = pfx}; \
        const char *pb_##fn##_name(int v)                                      \
        {                                                                      \
                return s_name(&fn##_words, v);                                 \
        }                                                                      \
        int pb_##fn##_parse(const char *s)                                     \
        {                                                                      \
                return s_parse(&fn##_words, s);                                \
        }

WORDS(status, complaint__v1__status__descriptor, "STATUS_")
WORDS(nature, complaint__v1__nature__descriptor, "NATURE_")
WORDS(priority, complaint__v1__priority__descriptor, "PRIORITY_")
WORDS(channel, complaint__v1__channel__descriptor, "CHANNEL_")
WORDS(responsibility, complaint__v1__responsibility__descriptor, "RESPONSIBILITY_")
WORDS(dismiss_reason, complaint__v1__dismiss_reason__descriptor, "DISMISS_REASON_")

static struct words action_words = {.desc = &complaint__v1__action__descriptor,
                                    .prefix = "ACTION_"};
static struct words error_words = {.desc = &complaint__v1__error_code__descriptor,
                                   .prefix = "ERROR_CODE_"};

const char *
pb_action_name(int v)
{
        return s_name(&action_words, v);
}

const char *
pb_error_name(int v)
{
        return s_name(&error_words, v);
}
