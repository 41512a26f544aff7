/* json.h: a small streaming JSON writer for complaintctl. It writes values to a stdio stream as
 * they come, inserting the commas and colons, and escapes strings: '"' and '\\' with a
 * backslash, control characters as \u00XX, valid UTF-8 passed through and each invalid byte
 * replaced by U+FFFD. Output is compact, one document per line.
 *
 * The writer keeps no heap memory: declare a json_t, json_init() it, write one document, then
 * json_finish(). Misuse (a value where a key is due, unbalanced ends, nesting deeper than
 * JSON_DEPTH_MAX) is a programming error and asserts. */
#ifndef COMPLAINTD_JSON_H
#define COMPLAINTD_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 16

typedef struct json {
        FILE *f;    /* borrowed */
        int depth;  /* open objects and arrays */
        bool key;   /* a key was written and its value is due */
        bool first; /* nothing written yet in the innermost container */
        bool object[JSON_DEPTH_MAX];
} json_t;

/* Starts a document on f, which is borrowed until json_finish(). */
void json_init(json_t *j, FILE *f);

/* Ends the document with a newline and flushes f. Returns 0, or -EIO when any write to f
 * failed. */
int json_finish(json_t *j);

void json_object_begin(json_t *j);
void json_object_end(json_t *j);
void json_array_begin(json_t *j);
void json_array_end(json_t *j);

/* Writes the key of the next member of the innermost object. */
void json_key(json_t *j, const char *key);

/* Values. json_string() writes NULL as "". */
void json_string(json_t *j, const char *s);
void json_int(json_t *j, int64_t v);
void json_uint(json_t *j, uint64_t v);
void json_bool(json_t *j, bool v);
void json_double(json_t *j, double v); /* %.17g; null when not finite */
void json_null(json_t *j);

/* A key and its value, in one call. */
void json_kv_string(json_t *j, const char *key, const char *s);
void json_kv_int(json_t *j, const char *key, int64_t v);
void json_kv_uint(json_t *j, const char *key, uint64_t v);
void json_kv_bool(json_t *j, const char *key, bool v);

#endif
