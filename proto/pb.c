/* pb.c: the enum word tables declared in pb.h. The words are the enum value names without
 * their prefix, in lower case, so they follow the schema without a second list to maintain. */
#include <ctype.h>
#include <string.h>

#include "pb.h"

/* The generated descriptor holds "STATUS_WALK_IN"-style names; strip the prefix up to the
 * known stem and lower-case the rest into a per-descriptor cache built on first use. */
#define WORD_MAX 32
#define VALUES_MAX 16

struct words {
        const ProtobufCEnumDescriptor *desc;
        const char *prefix;
        char word[VALUES_MAX][WORD_MAX];
        int value[VALUES_MAX];
        int n;
};

static void
s_fill(struct words *w)
{
        size_t plen = strlen(w->prefix);

        if (w->n > 0)
                return;
        for (unsigned i = 0; i < w->desc->n_values && w->n < VALUES_MAX; i++) {
                const char *name = w->desc->values[i].name;
                size_t j;

                if (strncmp(name, w->prefix, plen) != 0)
                        continue;
                name += plen;
                for (j = 0; name[j] && j + 1 < WORD_MAX; j++)
                        w->word[w->n][j] = (char)tolower((unsigned char)name[j]);
                w->word[w->n][j] = '\0';
                w->value[w->n] = w->desc->values[i].value;
                w->n++;
        }
}

static const char *
s_name(struct words *w, int v)
{
        s_fill(w);
        for (int i = 0; i < w->n; i++)
                if (w->value[i] == v)
                        return w->word[i];
        return "?";
}

static int
s_parse(struct words *w, const char *s)
{
        s_fill(w);
        if (s == NULL)
                return -1;
        for (int i = 0; i < w->n; i++)
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
