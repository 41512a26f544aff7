/* smtp_sink.h: a small SMTP server for the tests of complaint-notify. It listens on 127.0.0.1
 * on a port of its own, answers one session at a time on its own thread (EHLO/HELO, MAIL,
 * RCPT, DATA, RSET, NOOP, QUIT; no TLS, no authentication: what a local MTA client such as
 * msmtp needs), and keeps every message it accepts, with its envelope and the time it came.
 * The test waits for messages with a bounded timeout. */
#ifndef COMPLAINTD_TESTS_SMTP_SINK_H
#define COMPLAINTD_TESTS_SMTP_SINK_H

#include <stddef.h>
#include <stdint.h>

typedef struct smtp_sink smtp_sink_t;

typedef struct smtp_message {
        char *from;    /* MAIL FROM's address */
        char *rcpt;    /* RCPT TO's addresses, comma-separated */
        char *data;    /* the message, dot-unstuffed, lines ending in LF */
        int64_t at_ms; /* when it was accepted, UTC ms */
} smtp_message_t;

/* Starts the server. Returns 0 or a negative errno. */
int smtp_sink_start(smtp_sink_t **ret);

/* Stops the thread, closes the socket and frees the messages; accepts NULL. */
void smtp_sink_stop(smtp_sink_t **s);

int smtp_sink_port(const smtp_sink_t *s);

/* Waits up to timeout_ms until at least n messages were accepted; returns how many were. */
size_t smtp_sink_wait(smtp_sink_t *s, size_t n, int timeout_ms);

/* A copy of message i (the caller frees it with smtp_message_free()); 0 or -ENOENT. */
int smtp_sink_get(smtp_sink_t *s, size_t i, smtp_message_t *ret);
void smtp_message_free(smtp_message_t *m);

#endif
