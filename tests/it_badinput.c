/* it_badinput.c: guarantee 3 of DESIGN §6 through raw DEALER sockets: no malformed, oversized
 * or out-of-order request crashes the daemon or changes the store; each gets a clear error
 * (the code, a non-empty message, and for field errors the field). Idempotent request ids are
 * checked here too. At the end the daemon still serves a normal create and the complaint count
 * is exactly what the successful creates made. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "harness.h"

CHECK_DEFINE_COUNTERS();

static harness_t h;
static harness_client_t cl;
static int rid_next;
/* Complaints the test created successfully; the daemon's count must match. */
static uint64_t created;

/* Every sub-message a request may need, so one stack value builds any request. */
typedef struct rq {
        pb_request_t req;
        char rid[64];
        Complaint__V1__CreateRequest create;
        Complaint__V1__Complainant who;
        Complaint__V1__AssignRequest assign;
        Complaint__V1__AcceptRequest accept;
        Complaint__V1__PendRequest pend;
        Complaint__V1__ResumeRequest resume;
        Complaint__V1__ResolveRequest resolve;
        Complaint__V1__CloseRequest close;
        Complaint__V1__ReopenRequest reopen;
        Complaint__V1__DismissRequest dismiss;
        Complaint__V1__NoteRequest note;
        Complaint__V1__GetRequest get;
} rq_t;

static void
rq_init(rq_t *q)
{
        memset(q, 0, sizeof(*q));
        complaint__v1__request__init(&q->req);
        complaint__v1__create_request__init(&q->create);
        complaint__v1__complainant__init(&q->who);
        complaint__v1__assign_request__init(&q->assign);
        complaint__v1__accept_request__init(&q->accept);
        complaint__v1__pend_request__init(&q->pend);
        complaint__v1__resume_request__init(&q->resume);
        complaint__v1__resolve_request__init(&q->resolve);
        complaint__v1__close_request__init(&q->close);
        complaint__v1__reopen_request__init(&q->reopen);
        complaint__v1__dismiss_request__init(&q->dismiss);
        complaint__v1__note_request__init(&q->note);
        complaint__v1__get_request__init(&q->get);
        snprintf(q->rid, sizeof(q->rid), "bi-%d", ++rid_next);
        q->req.schema_version = PB_SCHEMA_VERSION;
        q->req.request_id = q->rid;
        q->req.actor = (char *)"agent.badinput";
}

/* A complete, valid create. */
static pb_request_t *
rq_create(rq_t *q)
{
        rq_init(q);
        q->who.name = (char *)"Ada Lovelace";
        q->who.phone = (char *)"+44 20 7946 0000";
        q->create.channel = COMPLAINT__V1__CHANNEL__CHANNEL_PHONE;
        q->create.complainant = &q->who;
        q->create.subject = (char *)"Charged twice";
        q->create.description = (char *)"The March bill charges the line rental twice.";
        q->create.category = (char *)"billing";
        q->req.body_case = COMPLAINT__V1__REQUEST__BODY_CREATE;
        q->req.create = &q->create;
        return &q->req;
}

#define RQ_BODY(q, member, BODY, idv)                                     \
        do {                                                              \
                rq_init(q);                                               \
                (q)->member.id = (idv);                                   \
                (q)->req.body_case = COMPLAINT__V1__REQUEST__BODY_##BODY; \
                (q)->req.member = &(q)->member;                           \
        } while (0)

static pb_reply_t *
s_call(const pb_request_t *req)
{
        pb_reply_t *reply = NULL;
        int r = harness_client_call(&cl, req, HARNESS_CALL_TIMEOUT_MS, &reply);

        if (r < 0) {
                fprintf(stderr, "no valid reply (%s); daemon %s\n", strerror(-r),
                        harness_running(&h) ? "running" : "GONE");
                REQUIRE(harness_running(&h));
        }
        REQUIRE(r == 0);
        return reply;
}

static pb_reply_t *
s_call_bytes(const void *bytes, size_t size)
{
        pb_reply_t *reply = NULL;
        int r = harness_client_call_raw(&cl, bytes, size, HARNESS_CALL_TIMEOUT_MS, &reply);

        if (r < 0) {
                fprintf(stderr, "no valid reply to %zu bytes (%s); daemon %s\n", size, strerror(-r),
                        harness_running(&h) ? "running" : "GONE");
                REQUIRE(harness_running(&h));
        }
        REQUIRE(r == 0);
        return reply;
}

/* Checks a reply's error code, that its message says something, and that the field (when
 * field is not NULL) contains `field`. Frees the reply. */
static void
s_expect(const char *what, pb_reply_t *r, int code, const char *field)
{
        bool ok_code = (int)r->error == code;
        bool ok_msg = code == E_OK || (r->message && r->message[0]);
        bool ok_field = field == NULL || (r->field && strstr(r->field, field));

        CHECK(ok_code);
        CHECK(ok_msg);
        CHECK(ok_field);
        if (getenv("IT_VERBOSE"))
                fprintf(stderr, "  %s: %s field \"%s\" message \"%s\"\n", what,
                        pb_error_name(r->error), r->field ? r->field : "",
                        r->message ? r->message : "");
        if (!ok_code || !ok_msg || !ok_field)
                fprintf(stderr,
                        "  %s: got %s (%d) field \"%s\" message \"%s\"; expected %s field "
                        "~\"%s\"\n",
                        what, pb_error_name(r->error), r->error, r->field ? r->field : "",
                        r->message ? r->message : "", pb_error_name(code), field ? field : "");
        complaint__v1__reply__free_unpacked(r, NULL);
}

/* Creates a valid complaint and returns its id. */
static uint64_t
s_new_complaint(void)
{
        rq_t q;
        pb_reply_t *r = s_call(rq_create(&q));
        uint64_t id;

        REQUIRE(r->error == E_OK && r->complaint && r->complaint->id > 0);
        id = r->complaint->id;
        created++;
        complaint__v1__reply__free_unpacked(r, NULL);
        return id;
}

/* A successful change; returns the reply (caller frees). */
static pb_reply_t *
s_ok(const char *what, const pb_request_t *req)
{
        pb_reply_t *r = s_call(req);

        if (r->error != E_OK)
                fprintf(stderr, "  %s: %s %s (%s)\n", what, pb_error_name(r->error), r->message,
                        r->field);
        REQUIRE(r->error == E_OK);
        return r;
}

static uint64_t
s_assigned_complaint(void)
{
        uint64_t id = s_new_complaint();
        rq_t q;

        RQ_BODY(&q, assign, ASSIGN, id);
        q.assign.department = (char *)"billing";
        complaint__v1__reply__free_unpacked(s_ok("assign", &q.req), NULL);
        return id;
}

static uint64_t
s_resolved_complaint(void)
{
        uint64_t id = s_assigned_complaint();
        rq_t q;

        RQ_BODY(&q, resolve, RESOLVE, id);
        q.resolve.cause = (char *)"duplicate charge";
        q.resolve.responsibility = COMPLAINT__V1__RESPONSIBILITY__RESPONSIBILITY_COMPANY;
        q.resolve.reply = (char *)"Refunded.";
        complaint__v1__reply__free_unpacked(s_ok("resolve", &q.req), NULL);
        return id;
}

static uint64_t
s_status_complaints(void)
{
        pb_reply_t *r = harness_status(&h);
        uint64_t n;

        REQUIRE(r != NULL);
        n = r->status->complaints;
        complaint__v1__reply__free_unpacked(r, NULL);
        return n;
}

static char *
s_repeat(const char *unit, size_t times)
{
        size_t u = strlen(unit);
        char *s = malloc(u * times + 1);

        REQUIRE(s != NULL);
        for (size_t i = 0; i < times; i++)
                memcpy(s + i * u, unit, u);
        s[u * times] = '\0';
        return s;
}

/* ------------------------------------------------------------------ undecodable bytes */

static void
test_random_bytes(void)
{
        uint64_t seed = 0xC0FFEE123ULL;
        int bad = 0;

        fprintf(stderr, "random bytes: seed %#llx\n", (unsigned long long)seed);
        for (int i = 0; i < 300; i++) {
                uint8_t buf[512];
                size_t n = 1 + harness_rand(&seed) % sizeof(buf);
                pb_request_t *local;
                pb_reply_t *r;

                for (size_t k = 0; k < n; k++)
                        buf[k] = (uint8_t)harness_rand(&seed);
                local = complaint__v1__request__unpack(NULL, n, buf);
                r = s_call_bytes(buf, n);
                if (local == NULL) {
                        bad++;
                        s_expect("random bytes", r, E_BAD_REQUEST, NULL);
                } else {
                        /* Decodable by chance: anything but a crash or a change will do. */
                        CHECK(r->error != E_OK || local->body_case >= 30);
                        complaint__v1__request__free_unpacked(local, NULL);
                        complaint__v1__reply__free_unpacked(r, NULL);
                }
        }
        CHECK(bad > 100);
}

static void
test_truncated(void)
{
        rq_t q;
        size_t n;
        uint8_t *full = harness_encode(rq_create(&q), &n);

        REQUIRE(full != NULL);
        /* Every proper prefix, the empty one included. */
        for (size_t len = 0; len < n; len++) {
                pb_request_t *local = complaint__v1__request__unpack(NULL, len, full);
                pb_reply_t *r = s_call_bytes(full, len);

                if (local == NULL) {
                        s_expect("truncated", r, E_BAD_REQUEST, NULL);
                } else {
                        /* A prefix that ends between top-level fields lacks the body. */
                        CHECK(r->error != E_OK);
                        if (r->error == E_OK)
                                fprintf(stderr, "  truncated to %zu of %zu bytes accepted\n", len,
                                        n);
                        CHECK(r->message && r->message[0]);
                        complaint__v1__request__free_unpacked(local, NULL);
                        complaint__v1__reply__free_unpacked(r, NULL);
                }
        }
        free(full);
}

static void
test_oversized_message(void)
{
        rq_t q;
        char *big = s_repeat("x", 70000);

        rq_create(&q);
        q.create.description = big;
        s_expect("70000-byte message", s_call(&q.req), E_TOO_LARGE, NULL);
        free(big);

        /* Far over the limit: a megabyte of zeros. */
        big = calloc(1, 1 << 20);
        REQUIRE(big != NULL);
        s_expect("1 MiB of zeros", s_call_bytes(big, 1 << 20), E_TOO_LARGE, NULL);
        free(big);
}

/* ------------------------------------------------------------------ framing */

/* Sends frames as given and expects [empty][Reply] with error `code`. */
static void
s_frames_expect(const char *what, const void *const *data, const size_t *size, size_t n, int code)
{
        harness_frames_t f;
        pb_reply_t *r;
        int rc;

        REQUIRE(harness_client_send(&cl, data, size, n) == 0);
        rc = harness_client_recv(&cl, HARNESS_CALL_TIMEOUT_MS, &f);
        CHECK_INT(rc, 0);
        if (rc != 0) {
                fprintf(stderr, "  %s: no reply (%s)\n", what, strerror(-rc));
                harness_client_reset(&cl);
                REQUIRE(harness_running(&h));
                return;
        }
        CHECK_INT(f.n, 2);
        CHECK_INT(f.size[0], 0);
        if (f.n != 2 || f.size[0] != 0) {
                fprintf(stderr, "  %s: reply of %zu frames\n", what, f.n);
                harness_frames_free(&f);
                return;
        }
        r = complaint__v1__reply__unpack(NULL, f.size[1], f.data[1]);
        harness_frames_free(&f);
        CHECK(r != NULL);
        if (r)
                s_expect(what, r, code, NULL);
}

static void
test_framing(void)
{
        Complaint__V1__StatusRequest st;
        pb_request_t req;
        uint8_t buf[64];
        size_t n;

        complaint__v1__status_request__init(&st);
        complaint__v1__request__init(&req);
        req.schema_version = PB_SCHEMA_VERSION;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_STATUS;
        req.status = &st;
        n = complaint__v1__request__pack(&req, buf);

        /* The well-framed status request works, so the rest fails for its framing alone. */
        s_frames_expect("well framed", (const void *const[]){"", buf}, (const size_t[]){0, n}, 2,
                        E_OK);
        s_frames_expect("1 frame, no delimiter", (const void *const[]){buf}, (const size_t[]){n}, 1,
                        E_BAD_REQUEST);
        s_frames_expect("3 frames", (const void *const[]){"", buf, buf}, (const size_t[]){0, n, n},
                        3, E_BAD_REQUEST);
        s_frames_expect("non-empty delimiter", (const void *const[]){"x", buf},
                        (const size_t[]){1, n}, 2, E_BAD_REQUEST);
        s_frames_expect("delimiter only", (const void *const[]){""}, (const size_t[]){0}, 1,
                        E_BAD_REQUEST);

        /* An empty body is a valid encoding of a Request without a body: refused, either as a
         * bad request or as a missing argument. */
        {
                pb_reply_t *r = s_call_bytes("", 0);

                CHECK(r->error == E_BAD_REQUEST || r->error == E_INVALID_ARGUMENT);
                CHECK(r->message && r->message[0]);
                if (r->error != E_BAD_REQUEST && r->error != E_INVALID_ARGUMENT)
                        fprintf(stderr, "  empty body: %s\n", pb_error_name(r->error));
                complaint__v1__reply__free_unpacked(r, NULL);
        }
}

/* ------------------------------------------------------------------ arguments */

static void
test_references(void)
{
        uint64_t id = s_new_complaint();
        rq_t q;

        rq_create(&q);
        q.create.category = (char *)"weather";
        s_expect("unknown category", s_call(&q.req), E_UNKNOWN_REFERENCE, "category");

        RQ_BODY(&q, assign, ASSIGN, id);
        q.assign.department = (char *)"nowhere";
        s_expect("unknown department", s_call(&q.req), E_UNKNOWN_REFERENCE, "department");
}

static void
test_required(void)
{
        uint64_t assigned = s_assigned_complaint();
        uint64_t resolved = s_resolved_complaint();
        rq_t q;

        rq_create(&q);
        q.req.request_id = (char *)"";
        s_expect("no request_id", s_call(&q.req), E_INVALID_ARGUMENT, "request_id");
        rq_create(&q);
        q.req.actor = (char *)"";
        s_expect("no actor", s_call(&q.req), E_INVALID_ARGUMENT, "actor");

        rq_create(&q);
        q.create.subject = (char *)"";
        s_expect("no subject", s_call(&q.req), E_INVALID_ARGUMENT, "subject");
        rq_create(&q);
        q.create.description = (char *)"";
        s_expect("no description", s_call(&q.req), E_INVALID_ARGUMENT, "description");
        rq_create(&q);
        q.create.channel = COMPLAINT__V1__CHANNEL__CHANNEL_UNSPECIFIED;
        s_expect("no channel", s_call(&q.req), E_INVALID_ARGUMENT, "channel");
        rq_create(&q);
        q.create.category = (char *)"";
        s_expect("no category", s_call(&q.req), E_INVALID_ARGUMENT, "category");
        rq_create(&q);
        q.who.phone = (char *)"";
        s_expect("no contact", s_call(&q.req), E_INVALID_ARGUMENT, "complainant");
        rq_create(&q);
        q.create.complainant = NULL;
        s_expect("no complainant", s_call(&q.req), E_INVALID_ARGUMENT, "complainant");

        RQ_BODY(&q, pend, PEND, assigned);
        s_expect("pend without note", s_call(&q.req), E_INVALID_ARGUMENT, "note");

        RQ_BODY(&q, resolve, RESOLVE, assigned);
        q.resolve.cause = (char *)"cause";
        q.resolve.responsibility = COMPLAINT__V1__RESPONSIBILITY__RESPONSIBILITY_COMPANY;
        s_expect("resolve without reply", s_call(&q.req), E_INVALID_ARGUMENT, "reply");
        RQ_BODY(&q, resolve, RESOLVE, assigned);
        q.resolve.responsibility = COMPLAINT__V1__RESPONSIBILITY__RESPONSIBILITY_COMPANY;
        q.resolve.reply = (char *)"reply";
        s_expect("resolve without cause", s_call(&q.req), E_INVALID_ARGUMENT, "cause");
        RQ_BODY(&q, resolve, RESOLVE, assigned);
        q.resolve.cause = (char *)"cause";
        q.resolve.reply = (char *)"reply";
        s_expect("resolve without responsibility", s_call(&q.req), E_INVALID_ARGUMENT,
                 "responsibility");
        RQ_BODY(&q, resolve, RESOLVE, assigned);
        q.resolve.cause = (char *)"cause";
        q.resolve.reply = (char *)"reply";
        q.resolve.responsibility = COMPLAINT__V1__RESPONSIBILITY__RESPONSIBILITY_COMPANY;
        q.resolve.compensation_cents = -1;
        s_expect("negative compensation", s_call(&q.req), E_INVALID_ARGUMENT, "compensation");
        q.resolve.compensation_cents = 100000001;
        q.req.request_id = (char *)"bi-over-compensation";
        {
                pb_reply_t *r = s_call(&q.req);

                /* Over the configured maximum: out of range, or over a limit. */
                CHECK(r->error == E_INVALID_ARGUMENT || r->error == E_TOO_LARGE);
                CHECK(r->field && strstr(r->field, "compensation"));
                CHECK(r->message && r->message[0]);
                complaint__v1__reply__free_unpacked(r, NULL);
        }
        RQ_BODY(&q, resolve, RESOLVE, assigned);
        q.resolve.cause = (char *)"cause";
        q.resolve.reply = (char *)"reply";
        q.resolve.responsibility = 42;
        s_expect("unknown responsibility", s_call(&q.req), E_INVALID_ARGUMENT, "responsibility");

        RQ_BODY(&q, close, CLOSE, resolved);
        s_expect("close without satisfaction", s_call(&q.req), E_INVALID_ARGUMENT, "satisfaction");
        RQ_BODY(&q, close, CLOSE, resolved);
        q.close.satisfaction = 6;
        s_expect("satisfaction 6", s_call(&q.req), E_INVALID_ARGUMENT, "satisfaction");

        RQ_BODY(&q, dismiss, DISMISS, assigned);
        s_expect("dismiss without reason", s_call(&q.req), E_INVALID_ARGUMENT, "reason");

        RQ_BODY(&q, reopen, REOPEN, resolved);
        s_expect("reopen without reason", s_call(&q.req), E_INVALID_ARGUMENT, "reason");

        RQ_BODY(&q, note, NOTE, assigned);
        s_expect("empty note", s_call(&q.req), E_INVALID_ARGUMENT, "note");
}

static void
test_utf8_and_limits(void)
{
        uint64_t id = s_new_complaint();
        char *s;
        rq_t q;

        rq_create(&q);
        q.create.subject = (char *)"Bad \xff\xfe bytes";
        s_expect("invalid UTF-8 subject", s_call(&q.req), E_INVALID_ARGUMENT, "subject");
        rq_create(&q);
        q.create.subject = (char *)"Overlong \xc0\xaf slash";
        s_expect("overlong UTF-8 subject", s_call(&q.req), E_INVALID_ARGUMENT, "subject");
        rq_create(&q);
        q.who.name = (char *)"Cut \xe2\x82";
        s_expect("truncated UTF-8 name", s_call(&q.req), E_INVALID_ARGUMENT, "name");
        RQ_BODY(&q, note, NOTE, id);
        q.note.note = (char *)"surrogate \xed\xa0\x80";
        s_expect("surrogate in note", s_call(&q.req), E_INVALID_ARGUMENT, "note");

        /* subject: 200 bytes is the limit, counted in bytes of UTF-8. */
        s = s_repeat("\xc3\xa9", 100);
        rq_create(&q);
        q.create.subject = s;
        s_expect("200-byte subject", s_call(&q.req), E_OK, NULL);
        created++;
        free(s);
        s = s_repeat("\xc3\xa9", 101);
        rq_create(&q);
        q.create.subject = s;
        s_expect("202-byte subject", s_call(&q.req), E_TOO_LARGE, "subject");
        free(s);

        s = s_repeat("d", 8001);
        rq_create(&q);
        q.create.description = s;
        s_expect("8001-byte description", s_call(&q.req), E_TOO_LARGE, "description");
        free(s);

        s = s_repeat("a", 101);
        rq_create(&q);
        q.req.actor = s;
        s_expect("101-byte actor", s_call(&q.req), E_TOO_LARGE, "actor");
        free(s);

        s = s_repeat("r", 101);
        rq_create(&q);
        q.req.request_id = s;
        s_expect("101-byte request id", s_call(&q.req), E_TOO_LARGE, "request_id");
        free(s);

        s = s_repeat("n", 4001);
        RQ_BODY(&q, note, NOTE, id);
        q.note.note = s;
        s_expect("4001-byte note", s_call(&q.req), E_TOO_LARGE, "note");
        free(s);

        s = s_repeat("p", 41);
        rq_create(&q);
        q.who.phone = s;
        s_expect("41-byte phone", s_call(&q.req), E_TOO_LARGE, "phone");
        free(s);
}

/* ------------------------------------------------------------------ state */

/* Expects E_INVALID_TRANSITION with a message naming `state` and each of `moves`. */
static void
s_expect_transition(const char *what, pb_reply_t *r, const char *state, const char *const *moves)
{
        bool named = r->message && strstr(r->message, state);

        for (size_t i = 0; moves[i]; i++)
                named = named && strstr(r->message, moves[i]);
        CHECK(named);
        if (!named)
                fprintf(stderr, "  %s: message \"%s\" does not name state %s and its moves\n", what,
                        r->message ? r->message : "", state);
        s_expect(what, r, E_INVALID_TRANSITION, NULL);
}

static void
test_transitions(void)
{
        uint64_t fresh = s_new_complaint();
        uint64_t assigned = s_assigned_complaint();
        rq_t q;
        pb_reply_t *r;

        RQ_BODY(&q, accept, ACCEPT, fresh);
        s_expect_transition("accept a new complaint", s_call(&q.req), "new",
                            (const char *const[]){"assign", "resolve", "dismiss", NULL});
        RQ_BODY(&q, pend, PEND, fresh);
        q.pend.note = (char *)"waiting";
        s_expect_transition("pend a new complaint", s_call(&q.req), "new",
                            (const char *const[]){"assign", NULL});
        RQ_BODY(&q, close, CLOSE, assigned);
        q.close.satisfaction = 5;
        s_expect_transition("close an assigned complaint", s_call(&q.req), "assigned",
                            (const char *const[]){"accept", "pend", "resolve", NULL});
        RQ_BODY(&q, resume, RESUME, assigned);
        s_expect_transition("resume an assigned complaint", s_call(&q.req), "assigned",
                            (const char *const[]){"accept", NULL});
        RQ_BODY(&q, reopen, REOPEN, fresh);
        q.reopen.reason = (char *)"again";
        s_expect_transition("reopen a new complaint", s_call(&q.req), "new",
                            (const char *const[]){"dismiss", NULL});

        /* accepted cannot be dismissed */
        RQ_BODY(&q, accept, ACCEPT, assigned);
        complaint__v1__reply__free_unpacked(s_ok("accept", &q.req), NULL);
        RQ_BODY(&q, dismiss, DISMISS, assigned);
        q.dismiss.reason = COMPLAINT__V1__DISMISS_REASON__DISMISS_REASON_DUPLICATE;
        s_expect_transition("dismiss an accepted complaint", s_call(&q.req), "accepted",
                            (const char *const[]){"pend", "resolve", NULL});

        /* A refused transition changed nothing. */
        RQ_BODY(&q, get, GET, assigned);
        q.req.request_id = NULL;
        r = s_call(&q.req);
        CHECK_INT(r->error, E_OK);
        REQUIRE(r->complaint != NULL);
        CHECK_INT(r->complaint->status, ST_ACCEPTED);
        CHECK_INT(r->complaint->history_count, 3);
        CHECK_INT(r->n_history, 3);
        complaint__v1__reply__free_unpacked(r, NULL);
}

static void
test_not_found(void)
{
        rq_t q;

        RQ_BODY(&q, get, GET, 999999);
        s_expect("get 999999", s_call(&q.req), E_NOT_FOUND, NULL);
        RQ_BODY(&q, assign, ASSIGN, 999999);
        q.assign.department = (char *)"billing";
        s_expect("assign 999999", s_call(&q.req), E_NOT_FOUND, NULL);
        RQ_BODY(&q, note, NOTE, 999999);
        q.note.note = (char *)"hello";
        s_expect("note 999999", s_call(&q.req), E_NOT_FOUND, NULL);
        RQ_BODY(&q, accept, ACCEPT, 0);
        {
                pb_reply_t *r = s_call(&q.req);

                CHECK(r->error == E_NOT_FOUND || r->error == E_INVALID_ARGUMENT);
                CHECK(r->message && r->message[0]);
                complaint__v1__reply__free_unpacked(r, NULL);
        }
}

/* ------------------------------------------------------------------ request ids */

static void
test_request_ids(void)
{
        uint64_t before = s_status_complaints(), id;
        pb_reply_t *r1, *r2;
        rq_t q, q2;

        rq_create(&q);
        q.req.request_id = (char *)"dup-1";
        r1 = s_ok("first create", &q.req);
        created++;
        CHECK(!r1->replayed);
        r2 = s_ok("repeated create", &q.req);
        CHECK(r2->replayed);
        REQUIRE(r1->complaint && r2->complaint);
        CHECK_INT(r2->complaint->id, r1->complaint->id);
        CHECK_INT(r2->complaint->history_count, r1->complaint->history_count);
        CHECK_INT(r2->event_seq, r1->event_seq);
        CHECK_INT(s_status_complaints(), before + 1);
        id = r1->complaint->id;
        complaint__v1__reply__free_unpacked(r1, NULL);
        complaint__v1__reply__free_unpacked(r2, NULL);

        /* The same id with a different request. */
        rq_create(&q2);
        q2.req.request_id = (char *)"dup-1";
        q2.create.subject = (char *)"Another subject";
        s_expect("reused id, other create", s_call(&q2.req), E_REQUEST_ID_REUSED, NULL);
        RQ_BODY(&q2, note, NOTE, id);
        q2.req.request_id = (char *)"dup-1";
        q2.note.note = (char *)"a note under a used id";
        s_expect("reused id, a note", s_call(&q2.req), E_REQUEST_ID_REUSED, NULL);
        CHECK_INT(s_status_complaints(), before + 1);

        /* A repeated assign changes nothing the second time. */
        RQ_BODY(&q2, assign, ASSIGN, id);
        q2.req.request_id = (char *)"dup-assign";
        q2.assign.department = (char *)"network";
        r1 = s_ok("assign", &q2.req);
        r2 = s_ok("repeated assign", &q2.req);
        CHECK(!r1->replayed);
        CHECK(r2->replayed);
        REQUIRE(r1->complaint && r2->complaint);
        CHECK_INT(r2->complaint->history_count, r1->complaint->history_count);
        complaint__v1__reply__free_unpacked(r1, NULL);
        complaint__v1__reply__free_unpacked(r2, NULL);
        RQ_BODY(&q2, get, GET, id);
        q2.req.request_id = NULL;
        r1 = s_call(&q2.req);
        REQUIRE(r1->error == E_OK && r1->complaint);
        CHECK_INT(r1->complaint->history_count, 2);
        CHECK_INT(r1->n_history, 2);
        CHECK_STR(r1->complaint->department, "network");
        complaint__v1__reply__free_unpacked(r1, NULL);

        /* Ids are per actor: another actor's "dup-1" is a request of its own. */
        rq_create(&q);
        q.req.request_id = (char *)"dup-1";
        q.req.actor = (char *)"agent.other";
        r1 = s_ok("other actor, same id", &q.req);
        created++;
        CHECK(!r1->replayed);
        REQUIRE(r1->complaint != NULL);
        CHECK(r1->complaint->id != id);
        CHECK_STR(r1->complaint->owner, "agent.other");
        complaint__v1__reply__free_unpacked(r1, NULL);
        CHECK_INT(s_status_complaints(), before + 2);
}

/* ------------------------------------------------------------------ versions and unknowns */

static void
test_unknown_fields(void)
{
        rq_t q;
        size_t n;
        uint8_t *enc, *ext;
        /* Field 999, wire type 0 (varint), value 1: key (999 << 3) | 0 = 7992 = 0xB8 0x3E. */
        static const uint8_t extra[] = {0xB8, 0x3E, 0x01};
        pb_reply_t *r;

        rq_create(&q);
        q.create.subject = (char *)"With an unknown field";
        enc = harness_encode(&q.req, &n);
        REQUIRE(enc != NULL);
        ext = malloc(n + sizeof(extra));
        REQUIRE(ext != NULL);
        memcpy(ext, enc, n);
        memcpy(ext + n, extra, sizeof(extra));
        r = s_call_bytes(ext, n + sizeof(extra));
        CHECK_INT(r->error, E_OK);
        if (r->error != E_OK)
                fprintf(stderr, "  unknown field: %s %s\n", pb_error_name(r->error), r->message);
        else
                created++;
        CHECK(r->complaint && strcmp(r->complaint->subject, "With an unknown field") == 0);
        CHECK(r->complaint && r->complaint->status == ST_NEW);
        complaint__v1__reply__free_unpacked(r, NULL);
        free(enc);
        free(ext);
}

static void
test_versions(void)
{
        rq_t q;
        pb_reply_t *r;

        rq_create(&q);
        q.req.schema_version = 99;
        s_expect("schema_version 99", s_call(&q.req), E_UNSUPPORTED_VERSION, NULL);
        rq_create(&q);
        q.req.schema_version = PB_SCHEMA_VERSION + 1;
        s_expect("schema_version current+1", s_call(&q.req), E_UNSUPPORTED_VERSION, NULL);

        rq_create(&q);
        q.req.schema_version = 0;
        r = s_call(&q.req);
        CHECK_INT(r->error, E_OK);
        if (r->error == E_OK)
                created++;
        complaint__v1__reply__free_unpacked(r, NULL);
}

static void
test_still_serving(void)
{
        rq_t q;
        pb_reply_t *r, *st;

        CHECK(harness_running(&h));
        r = s_call(rq_create(&q));
        CHECK_INT(r->error, E_OK);
        if (r->error == E_OK)
                created++;
        CHECK(r->complaint && r->complaint->status == ST_NEW);
        CHECK(r->complaint && strcmp(r->complaint->owner, "agent.badinput") == 0);
        complaint__v1__reply__free_unpacked(r, NULL);

        st = harness_status(&h);
        REQUIRE(st != NULL);
        CHECK_INT(st->status->complaints, created);
        complaint__v1__reply__free_unpacked(st, NULL);

        /* And it stops cleanly. */
        CHECK_INT(harness_stop(&h), 0);
}

int
main(void)
{
        REQUIRE(harness_init(&h, "it_badinput") == 0);
        REQUIRE(harness_start(&h) == 0);
        REQUIRE(harness_client_open(&h, &cl) == 0);

        test_random_bytes();
        test_truncated();
        test_oversized_message();
        test_framing();
        test_references();
        test_required();
        test_utf8_and_limits();
        test_transitions();
        test_not_found();
        test_request_ids();
        test_unknown_fields();
        test_versions();
        CHECK_INT(s_status_complaints(), created);
        test_still_serving();

        harness_client_close(&cl);
        return harness_cleanup(&h, check_summary());
}
