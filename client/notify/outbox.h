/* outbox.h: the durable state of complaint-notify: its position in the daemon's event stream
 * and the deliveries it still owes, kept together in one append-only journal file, so that one
 * fdatasync() makes an event's deliveries and the position after it durable at once. An event
 * is "had" by every recipient of its route once its deliveries are in the journal: from there
 * each one is sent, retried, held for quiet hours, or given up, across any number of restarts.
 *
 * The file is text, one record a line, each ending in a checksum: the position ("P"), a
 * delivery added ("A"), a complainant's message sent with its history note still owed ("S"), a
 * delivery done ("D"). A line torn by a crash is ignored; a damaged line elsewhere is skipped
 * and counted. Opening the file rewrites it with only what is still owed (a temporary file,
 * synced, renamed over it), and so does outbox_sync() once most of the file is done records.
 *
 * Changes are buffered in memory until outbox_sync(). Not thread-safe. */
#ifndef COMPLAINT_NOTIFY_OUTBOX_H
#define COMPLAINT_NOTIFY_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kinds of delivery. */
enum {
        OUTBOX_ALERT = 'a',    /* an alert to a recipient (target: the recipient's id) */
        OUTBOX_FEEDBACK = 'f', /* a message to a complainant (target: "email" or "sms") */
        OUTBOX_REPEAT = 'r',   /* the next periodic progress message is due (target: "api") */
};

/* The longest id and target. */
#define OUTBOX_ID_MAX 160

typedef struct outbox_item {
        char *id;     /* unique among the items owed: the Message-ID and request ids come from it */
        int type;     /* OUTBOX_* */
        char *target; /* see OUTBOX_*: what is reached, and whose failures hold it back */
        uint64_t complaint_id;
        uint64_t event_seq; /* the event it comes from */
        uint32_t msg;       /* feedback: FEEDBACK_*; repeat: which repetition */
        int64_t created_ms;
        int64_t due_ms; /* not before this (UTC ms): quiet hours, the next progress message */
        uint8_t *data;  /* alert: the event, encoded; NULL otherwise */
        size_t size;
        bool sent; /* feedback: the message went; only its history note is owed */
} outbox_item_t;

typedef struct outbox outbox_t;

/* Opens (creating it, mode 0600) the journal at path, loads the position and the items owed,
 * and rewrites the file with only those. *ret_skipped counts damaged lines that were skipped
 * (a torn last line is not counted). Returns 0; -EBADMSG when the file is not a journal; -ENOMEM;
 * or the errno of reading or writing it. *ret is the caller's, freed with outbox_free(). */
int outbox_open(const char *path, outbox_t **ret, unsigned *ret_skipped);

/* Writes what is buffered (without syncing it) and frees the outbox. Accepts NULL and a
 * pointer to NULL; sets *o to NULL. */
void outbox_free(outbox_t **o);

/* The position: the last event seq whose deliveries are in the journal. Returns 0 with
 * *ret_seq, or -ENOENT when none was ever recorded (a first start). */
int outbox_position(const outbox_t *o, uint64_t *ret_seq);

/* Records the position (buffered). */
void outbox_set_position(outbox_t *o, uint64_t seq);

/* Adds a copy of item (buffered). Returns 0; -EEXIST when an item with its id is owed (an
 * event seen again after a crash: nothing is added); -EINVAL when its id or target is empty,
 * too long or holds a tab or a line break; -ENOMEM. */
int outbox_add(outbox_t *o, const outbox_item_t *item);

/* Marks the item with id sent (buffered). Returns 0 or -ENOENT. */
int outbox_mark_sent(outbox_t *o, const char *id);

/* Records the item with id done and forgets it (buffered); pointers to it become invalid.
 * Returns 0 or -ENOENT. */
int outbox_done(outbox_t *o, const char *id);

/* Writes what is buffered to the file, and with durable also fdatasync()s it; compacts the
 * file when most of it is done records. Returns 0 or the negative errno of the failed write
 * (the buffer is kept for the next try). */
int outbox_sync(outbox_t *o, bool durable);

/* The items owed, in the order they were added; borrowed until the next change. */
size_t outbox_count(const outbox_t *o);
outbox_item_t *outbox_get(outbox_t *o, size_t i);

/* The item owed with id, or NULL; borrowed until the next change. */
outbox_item_t *outbox_find(outbox_t *o, const char *id);

#endif
