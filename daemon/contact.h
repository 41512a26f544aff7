/* contact.h: the keys that link a complainant's complaints: a phone number or an e-mail address
 * written the same way however the complainant gave it. Pure functions; no I/O, no logging.
 *
 * Phone numbers: every character but the digits is dropped ("+49 (30) 1234-567" is
 * "49301234567"). A number written internationally, with "+" or "00", keeps its country code
 * and loses the "00". A national number, starting with one "0" (the trunk prefix), loses that
 * "0" and gets the configured default country code instead, so "030 1234567" with country code
 * "49" is also "49301234567". Without a default country code, or for a number written without
 * any prefix, the digits are kept as written. A "0" written after the default country code
 * ("+49 (0)30 1234567", "+49 030 1234567") is the national trunk prefix and is dropped too. A
 * number of fewer than 6 digits, or one digit repeated ("0000000", a placeholder), links
 * nothing.
 *
 * E-mail addresses: surrounding white space is dropped and the whole address is lower-cased
 * (the local part too: providers treat it case-insensitively in practice).
 *
 * Keys are "p:<digits>" and "e:<address>". */
#ifndef COMPLAINTD_CONTACT_H
#define COMPLAINTD_CONTACT_H

#include <stddef.h>

#define CONTACT_KEY_MAX 300 /* a key, with its NUL; longer contacts link nothing */
#define CONTACT_PHONE_MIN_DIGITS 6

/* Writes the key of phone number phone into buf (CONTACT_KEY_MAX bytes); country_code is the
 * default country code's digits ("49"), or NULL or "" for none. Returns the key's length, or 0
 * when the number links nothing (too short, too long, empty). */
size_t contact_phone_key(const char *phone, const char *country_code, char *buf);

/* Writes the key of e-mail address email into buf (CONTACT_KEY_MAX bytes). Returns its length,
 * or 0 when there is no address or it is too long. */
size_t contact_email_key(const char *email, char *buf);

#endif
