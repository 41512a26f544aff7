/* mailmsg.h: composes one mail as the sendmail interface reads it: an RFC 5322 message with
 * MIME for UTF-8 text. It owns no state; the message is written into a buf_t.
 *
 * Headers: From, To, Subject, Date, Message-ID, MIME-Version, Content-Type (text/plain;
 * charset=UTF-8), Content-Transfer-Encoding, Auto-Submitted: auto-generated (RFC 3834, so
 * that vacation responders stay quiet), then the caller's extra headers. A subject or a From
 * display name that is not plain ASCII is written as RFC 2047 encoded-words (base64, cut on
 * character boundaries, folded); a plain one longer than a line is folded at spaces. The body
 * goes as 7bit when it is ASCII with short lines, as base64 otherwise, so Chinese text arrives
 * intact through any MTA. Lines end in LF, the sendmail command's local convention. */
#ifndef COMPLAINT_NOTIFY_MAILMSG_H
#define COMPLAINT_NOTIFY_MAILMSG_H

#include <stdint.h>

#include "text.h"

/* Writes the message to out. from is "Name <address>" or an address; to an address;
 * message_id without angle brackets ("e17.c4.chief@example.org"); date_ms the Date header's
 * instant (UTC ms); extra a NULL-terminated list of "Name: value" headers, or NULL. Subject and
 * body are UTF-8 (CR and control characters other than tab and LF in the subject become
 * spaces). Returns 0; -EINVAL when from, to, message_id or an extra header holds a line break
 * or a control character (a header injection), or to is not a plain address; -ENOMEM. */
int mailmsg_build(buf_t *out, const char *from, const char *to, const char *subject,
                  const char *body, const char *message_id, int64_t date_ms,
                  const char *const *extra);

/* Writes text as RFC 2047 "B" encoded-words in UTF-8, each at most 75 characters, cut on
 * character boundaries and separated by a fold ("\n "). */
void mailmsg_encode_words(buf_t *out, const char *text);

#endif
