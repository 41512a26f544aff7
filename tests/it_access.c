/* it_access.c: access control (issue 14) against the real daemon with CURVE on both sockets.
 * One daemon runs the bundled configuration with an `access` group of six principals:
 *
 *   agent         intake, acts for people      billing-sys   department of billing
 *   network-sys   department of network, sees contact details
 *   billing-head  supervisor of billing at level 1
 *   analysis      analyst                      root          admin
 *
 * and the test holds a seventh key that is no principal. The cases:
 *
 *   A  a key that is no principal gets no answer (the handshake is refused, on the API and on
 *      the event socket), the refusal is logged, and the daemon serves the others on;
 *   B  a client pinned to the daemon's server key does not talk to another server: a fake
 *      CURVE ROUTER with a key pair of its own receives nothing from it (and, as a control,
 *      does receive from a client pinned to its own key);
 *   C  the matrix: every principal sends every kind of request against a complaint of its
 *      department in a state that allows it; what access.c allows succeeds, the rest is
 *      FORBIDDEN with a message naming the principal and the action (intake resolves only
 *      what is still new);
 *   D  a department principal reads, changes, lists, replays and hears only its departments:
 *      live on a SUB subscribed to "billing/", "network/", "" and "_heartbeat", billing-sys
 *      gets billing events and heartbeats only; the supervisor's "billing/escalated/1" is
 *      honoured and its "billing/" refused;
 *   E  the history records the principal as the actor whatever the client wrote
 *      ("billing-sys", "agent:alice"), and so do whoami and the log of a backup;
 *   F  contact details reach only intake, admin and a department with contact = true, in get,
 *      list and the reply to a change;
 *   G  a reload that removes billing-sys refuses its next request and ends its subscription,
 *      while root's subscription goes on;
 *   H  without an `access` group the daemon refuses a non-loopback tcp endpoint.
 *
 * Nothing sleeps: every wait polls a socket, the daemon's log (inotify) or a child with a
 * bounded timeout. Waiting for something NOT to happen is a poll that must time out. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "check.h"
#include "harness.h"

CHECK_DEFINE_COUNTERS();

#define BODY(x) COMPLAINT__V1__REQUEST__BODY_##x

/* How long a request that must get no answer, or a message that must not arrive, is waited
 * for: a handshake and a reply over ipc:// take a few milliseconds. */
#define SILENCE_MS 1000
/* How long an event that must arrive is waited for. */
#define EVENT_WAIT_MS 5000

/* ------------------------------------------------------------------ principals */

enum { R_INTAKE = 1, R_DEPT = 2, R_SUPER = 4, R_ANALYST = 8, R_ADMIN = 16, R_ALL = 31 };
enum { P_AGENT, P_BILLING, P_NETWORK, P_HEAD, P_ANALYSIS, P_ROOT, P_COUNT };

struct principal {
        const char *name;
        const char *role;
        unsigned role_bit;
        const char *dept;  /* the department of its complaints in the matrix */
        const char *extra; /* the rest of its line in the configuration */
        harness_keypair_t kp;
        harness_client_t cl;
};

#define PRINCIPAL(n, r, bit, d, x)                                           \
        {                                                                    \
                .name = n, .role = r, .role_bit = bit, .dept = d, .extra = x \
        }
static struct principal pr[P_COUNT] = {
    [P_AGENT] = PRINCIPAL("agent", "intake", R_INTAKE, "billing", "acts_for_people = true;"),
    [P_BILLING] =
        PRINCIPAL("billing-sys", "department", R_DEPT, "billing", "departments = [\"billing\"];"),
    [P_NETWORK] = PRINCIPAL("network-sys", "department", R_DEPT, "network",
                            "departments = [\"network\"]; contact = true;"),
    [P_HEAD] = PRINCIPAL("billing-head", "supervisor", R_SUPER, "billing",
                         "departments = [\"billing\"]; levels = [1];"),
    [P_ANALYSIS] = PRINCIPAL("analysis", "analyst", R_ANALYST, "billing", ""),
    [P_ROOT] = PRINCIPAL("root", "admin", R_ADMIN, "billing", ""),
};

static harness_t h;
static harness_keypair_t server_kp, unknown_kp, fake_kp;
static char keyfile[PATH_MAX];
static int64_t t_begin; /* UTC ms at the start: the period of reports and ledgers */

static int64_t
s_utc_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes the configuration: the bundled one with a 100 ms heartbeat, and an access group of
 * every principal (billing-sys only when with_billing_sys). */
static void
s_write_conf(bool with_billing_sys)
{
        static const char *const pairs[] = {"heartbeat = \"1s\";", "heartbeat = \"100ms\";", NULL};
        const char *sep = "";
        FILE *f;

        REQUIRE(harness_write_conf(h.conf, pairs) == 0);
        f = fopen(h.conf, "a");
        REQUIRE(f != NULL);
        fprintf(f, "\naccess: {\n  server_key = \"%s\";\n  principals = (\n", keyfile);
        for (int i = 0; i < P_COUNT; i++) {
                if (i == P_BILLING && !with_billing_sys)
                        continue;
                fprintf(f, "%s    { name = \"%s\"; key = \"%s\"; role = \"%s\"; %s }", sep,
                        pr[i].name, pr[i].kp.public_key, pr[i].role, pr[i].extra);
                sep = ",\n";
        }
        fprintf(f, "\n  );\n};\n");
        REQUIRE(fclose(f) == 0);
}

static void
s_connect(int who)
{
        REQUIRE(harness_client_open_curve(&h, &pr[who].cl, NULL, server_kp.public_key,
                                          &pr[who].kp) == 0);
}

/* ------------------------------------------------------------------ requests */

/* The kinds of request, in the order of the matrix. */
enum {
        K_CREATE,
        K_ASSIGN,
        K_ACCEPT,
        K_PEND,
        K_RESUME,
        K_RESOLVE,
        K_CLOSE,
        K_REOPEN,
        K_DISMISS,
        K_NOTE,
        K_ESCALATE,
        K_GET,
        K_LIST,
        K_STATUS,
        K_REPLAY,
        K_REPORT,
        K_LEDGER,
        K_BACKUP,
        K_WHOAMI,
        K_COUNT
};

/* What each kind needs and who may send it, as issue 14 states the rules (daemon/access.c):
 * the target complaint's state (0: none), the roles allowed, and the word a FORBIDDEN message
 * must hold. Resolve is the department's; intake resolves only a new complaint (case C adds
 * that cell). */
static const struct kind {
        const char *name;
        int state;
        unsigned allowed;
        const char *word;
} kinds[K_COUNT] = {
    [K_CREATE] = {"create", 0, R_INTAKE | R_ADMIN, "file"},
    [K_ASSIGN] = {"assign", ST_ASSIGNED, R_INTAKE | R_SUPER | R_ADMIN, "assign"},
    [K_ACCEPT] = {"accept", ST_ASSIGNED, R_DEPT | R_ADMIN, "accept"},
    [K_PEND] = {"pend", ST_ACCEPTED, R_DEPT | R_ADMIN, "pend"},
    [K_RESUME] = {"resume", ST_PENDING, R_DEPT | R_ADMIN, "resume"},
    [K_RESOLVE] = {"resolve", ST_ACCEPTED, R_DEPT | R_ADMIN, "resolve"},
    [K_CLOSE] = {"close", ST_RESOLVED, R_INTAKE | R_ADMIN, "close"},
    [K_REOPEN] = {"reopen", ST_RESOLVED, R_INTAKE | R_ADMIN, "reopen"},
    [K_DISMISS] = {"dismiss", ST_ASSIGNED, R_INTAKE | R_ADMIN, "dismiss"},
    [K_NOTE] = {"note", ST_ASSIGNED, R_INTAKE | R_DEPT | R_SUPER | R_ADMIN, "note"},
    [K_ESCALATE] = {"escalate", ST_ASSIGNED, R_SUPER | R_ADMIN, "escalate"},
    [K_GET] = {"get", ST_ASSIGNED, R_ALL, NULL},
    [K_LIST] = {"list", 0, R_ALL, NULL},
    [K_STATUS] = {"status", 0, R_ALL, NULL},
    [K_REPLAY] = {"replay", 0, R_ALL, NULL},
    [K_REPORT] = {"report", 0, R_ANALYST | R_ADMIN, "report"},
    [K_LEDGER] = {"ledger", 0, R_ANALYST | R_ADMIN, "ledger"},
    [K_BACKUP] = {"backup", 0, R_ADMIN, "backup"},
    [K_WHOAMI] = {"whoami", 0, R_ALL, NULL},
};

/* Storage for one request of any kind. */
struct body {
        pb_request_t req;
        Complaint__V1__CreateRequest create;
        pb_complainant_t who;
        Complaint__V1__AssignRequest assign;
        Complaint__V1__AcceptRequest accept;
        Complaint__V1__PendRequest pend;
        Complaint__V1__ResumeRequest resume;
        Complaint__V1__ResolveRequest resolve;
        Complaint__V1__CloseRequest close;
        Complaint__V1__ReopenRequest reopen;
        Complaint__V1__DismissRequest dismiss;
        Complaint__V1__NoteRequest note;
        Complaint__V1__EscalateRequest escalate;
        Complaint__V1__GetRequest get;
        Complaint__V1__ListRequest list;
        Complaint__V1__StatusRequest status;
        Complaint__V1__ReplayRequest replay;
        Complaint__V1__ReportRequest report;
        Complaint__V1__LedgerRequest ledger;
        Complaint__V1__BackupRequest backup;
        Complaint__V1__WhoAmIRequest whoami;
        char phone[32], email[64], prefix[80], name[32];
        char *prefixes[1];
};

/* Fills b with a valid request of kind about complaint id of department dept (the category of
 * a create, the department of a list, the stream of a replay). arg, when not NULL, is the text
 * of a note, or the department of an assign (default: a reassignment to customer_care).
 * Returns &b->req. */
static pb_request_t *
s_body(struct body *b, int kind, uint64_t id, const char *dept, const char *arg)
{
        static unsigned serial;
        pb_request_t *q = &b->req;

        REQUIRE(kind >= 0 && kind < K_COUNT);
        memset(b, 0, sizeof(*b));
        complaint__v1__request__init(q);
        serial++;
        switch (kind) {
        case K_CREATE:
                complaint__v1__create_request__init(&b->create);
                complaint__v1__complainant__init(&b->who);
                snprintf(b->phone, sizeof(b->phone), "+49 30 5%07u", serial);
                snprintf(b->email, sizeof(b->email), "c%u@example.org", serial);
                b->who.name = (char *)"Ada Lovelace";
                b->who.phone = b->phone;
                b->who.email = b->email;
                b->create.channel = COMPLAINT__V1__CHANNEL__CHANNEL_PHONE;
                b->create.complainant = &b->who;
                b->create.subject = (char *)"Charged twice";
                b->create.description = (char *)"The October bill has the same line twice.";
                b->create.category = (char *)(uintptr_t)dept;
                q->body_case = BODY(CREATE);
                q->create = &b->create;
                break;
        case K_ASSIGN:
                complaint__v1__assign_request__init(&b->assign);
                b->assign.id = id;
                b->assign.department = (char *)(uintptr_t)(arg ? arg : "customer_care");
                q->body_case = BODY(ASSIGN);
                q->assign = &b->assign;
                break;
        case K_ACCEPT:
                complaint__v1__accept_request__init(&b->accept);
                b->accept.id = id;
                q->body_case = BODY(ACCEPT);
                q->accept = &b->accept;
                break;
        case K_PEND:
                complaint__v1__pend_request__init(&b->pend);
                b->pend.id = id;
                b->pend.note = (char *)"waiting for the meter reading";
                q->body_case = BODY(PEND);
                q->pend = &b->pend;
                break;
        case K_RESUME:
                complaint__v1__resume_request__init(&b->resume);
                b->resume.id = id;
                q->body_case = BODY(RESUME);
                q->resume = &b->resume;
                break;
        case K_RESOLVE:
                complaint__v1__resolve_request__init(&b->resolve);
                b->resolve.id = id;
                b->resolve.cause = (char *)"a duplicate line";
                b->resolve.responsibility = COMPLAINT__V1__RESPONSIBILITY__RESPONSIBILITY_COMPANY;
                b->resolve.reply = (char *)"We refunded the second charge.";
                q->body_case = BODY(RESOLVE);
                q->resolve = &b->resolve;
                break;
        case K_CLOSE:
                complaint__v1__close_request__init(&b->close);
                b->close.id = id;
                b->close.satisfaction = 4;
                q->body_case = BODY(CLOSE);
                q->close = &b->close;
                break;
        case K_REOPEN:
                complaint__v1__reopen_request__init(&b->reopen);
                b->reopen.id = id;
                b->reopen.reason = (char *)"the customer was charged again";
                q->body_case = BODY(REOPEN);
                q->reopen = &b->reopen;
                break;
        case K_DISMISS:
                complaint__v1__dismiss_request__init(&b->dismiss);
                b->dismiss.id = id;
                b->dismiss.reason = COMPLAINT__V1__DISMISS_REASON__DISMISS_REASON_DUPLICATE;
                q->body_case = BODY(DISMISS);
                q->dismiss = &b->dismiss;
                break;
        case K_NOTE:
                complaint__v1__note_request__init(&b->note);
                b->note.id = id;
                b->note.note = (char *)(uintptr_t)(arg ? arg : "called the customer back");
                q->body_case = BODY(NOTE);
                q->note = &b->note;
                break;
        case K_ESCALATE:
                complaint__v1__escalate_request__init(&b->escalate);
                b->escalate.id = id;
                b->escalate.note = (char *)"the customer called again";
                q->body_case = BODY(ESCALATE);
                q->escalate = &b->escalate;
                break;
        case K_GET:
                complaint__v1__get_request__init(&b->get);
                b->get.id = id;
                q->body_case = BODY(GET);
                q->get = &b->get;
                break;
        case K_LIST:
                complaint__v1__list_request__init(&b->list);
                b->list.department = (char *)(uintptr_t)dept;
                q->body_case = BODY(LIST);
                q->list = &b->list;
                break;
        case K_STATUS:
                complaint__v1__status_request__init(&b->status);
                q->body_case = BODY(STATUS);
                q->status = &b->status;
                break;
        case K_REPLAY:
                complaint__v1__replay_request__init(&b->replay);
                b->replay.stream = (char *)(uintptr_t)dept;
                /* A prefix every role may replay, the supervisor of level 1 included. */
                snprintf(b->prefix, sizeof(b->prefix), "%s/escalated/1", dept);
                b->prefixes[0] = b->prefix;
                b->replay.topic_prefixes = b->prefixes;
                b->replay.n_topic_prefixes = dept[0] ? 1 : 0;
                q->body_case = BODY(REPLAY);
                q->replay = &b->replay;
                break;
        case K_REPORT:
                complaint__v1__report_request__init(&b->report);
                b->report.from_ms = t_begin - 3600000;
                b->report.to_ms = s_utc_ms() + 60000;
                q->body_case = BODY(REPORT);
                q->report = &b->report;
                break;
        case K_LEDGER:
                complaint__v1__ledger_request__init(&b->ledger);
                b->ledger.from_ms = t_begin - 3600000;
                b->ledger.to_ms = s_utc_ms() + 60000;
                q->body_case = BODY(LEDGER);
                q->ledger = &b->ledger;
                break;
        case K_BACKUP:
                complaint__v1__backup_request__init(&b->backup);
                snprintf(b->name, sizeof(b->name), "access-%u", serial);
                b->backup.name = b->name;
                q->body_case = BODY(BACKUP);
                q->backup = &b->backup;
                break;
        case K_WHOAMI:
                complaint__v1__who_am_irequest__init(&b->whoami);
                q->body_case = BODY(WHOAMI);
                q->whoami = &b->whoami;
                break;
        default:
                break;
        }
        return q;
}

/* Sends req as principal who under a fresh request id with actor (NULL: "tester") and waits
 * up to timeout_ms. Returns the reply (the caller's to free), or NULL when none came: the
 * connection is then opened again, with the principal's keys. */
static pb_reply_t *
s_call_wait(int who, pb_request_t *req, const char *actor, int timeout_ms)
{
        static unsigned counter;
        pb_reply_t *r = NULL;
        char id[32];
        int rc;

        snprintf(id, sizeof(id), "acc-%u", ++counter);
        req->schema_version = PB_SCHEMA_VERSION;
        req->request_id = id;
        req->actor = (char *)(uintptr_t)(actor ? actor : "tester");
        rc = harness_client_call(&pr[who].cl, req, timeout_ms, &r);
        req->request_id = (char *)(uintptr_t)protobuf_c_empty_string;
        req->actor = (char *)(uintptr_t)protobuf_c_empty_string;
        if (rc < 0) {
                harness_client_close(&pr[who].cl);
                s_connect(who);
                return NULL;
        }
        return r;
}

static pb_reply_t *
s_call(int who, pb_request_t *req, const char *actor)
{
        pb_reply_t *r = s_call_wait(who, req, actor, HARNESS_CALL_TIMEOUT_MS);

        if (r == NULL)
                fprintf(stderr, "%s: no reply to a %s request; daemon %s\n", pr[who].name,
                        protobuf_c_message_descriptor_get_field(&complaint__v1__request__descriptor,
                                                                req->body_case)
                            ->name,
                        harness_running(&h) ? "running" : "GONE");
        return r;
}

static void
s_free(pb_reply_t *r)
{
        if (r)
                complaint__v1__reply__free_unpacked(r, NULL);
}

/* Sends a request that must succeed; returns the reply (the caller's to free). Gives up when
 * no reply comes or it failed, since what follows builds on it. */
static pb_reply_t *
s_must(int who, pb_request_t *req, const char *actor, const char *what)
{
        pb_reply_t *r = s_call(who, req, actor);

        REQUIRE(r != NULL);
        if (r->error != E_OK)
                fprintf(stderr, "%s: %s by %s: %s (%s)\n", what, pr[who].name, actor ? actor : "",
                        pb_error_name(r->error), r->message);
        REQUIRE(r->error == E_OK);
        return r;
}

/* The complaint id and last event seq of a change root must be able to make. */
static uint64_t
s_root(int kind, uint64_t id, const char *dept, const char *note, uint64_t *ret_seq)
{
        struct body b;
        pb_reply_t *r = s_must(P_ROOT, s_body(&b, kind, id, dept, note), NULL, kinds[kind].name);
        uint64_t got = r->complaint ? r->complaint->id : 0;

        if (ret_seq)
                *ret_seq = r->event_seq;
        s_free(r);
        return got;
}

/* A complaint of category dept (billing, network: the department of that name) brought by
 * root into state. */
static uint64_t
s_prepare(const char *dept, int state)
{
        uint64_t id = s_root(K_CREATE, 0, dept, NULL, NULL);

        if (state == ST_NEW)
                return id;
        s_root(K_ASSIGN, id, dept, dept, NULL);
        if (state == ST_ASSIGNED)
                return id;
        s_root(K_ACCEPT, id, dept, NULL, NULL);
        if (state == ST_PENDING)
                s_root(K_PEND, id, dept, NULL, NULL);
        else if (state == ST_RESOLVED)
                s_root(K_RESOLVE, id, dept, NULL, NULL);
        return id;
}

/* Whether r is FORBIDDEN with a message naming who and holding word (when not NULL). */
static bool
s_is_forbidden(const pb_reply_t *r, int who, const char *word)
{
        return r && r->error == E_FORBIDDEN && r->message && strstr(r->message, pr[who].name) &&
               strstr(r->message, "may not") && (word == NULL || strstr(r->message, word));
}

/* Checks that r is FORBIDDEN for who, naming word; says what came instead. */
static void
s_check_forbidden(const pb_reply_t *r, int who, const char *word, const char *what)
{
        bool ok = s_is_forbidden(r, who, word);

        CHECK(ok);
        if (!ok)
                fprintf(stderr,
                        "  %s by %s: expected FORBIDDEN naming \"%s\" and \"%s\", got %s%s%s\n",
                        what, pr[who].name, pr[who].name, word ? word : "",
                        r ? pb_error_name(r->error) : "no reply",
                        r && r->message && r->message[0] ? ": " : "",
                        r && r->message ? r->message : "");
}

/* ------------------------------------------------------------------ subscribers */

#define SUB_MAX 512

typedef struct sub {
        const char *name;
        void *sock;
        size_t n; /* events other than heartbeats, recorded below up to SUB_MAX */
        char topic[SUB_MAX][64];
        uint64_t seq[SUB_MAX];
        size_t heartbeats;
        uint64_t last_hb_seq;
        int64_t last_hb_at;
} sub_t;

/* Receives one message within timeout_ms. Returns 1 for an event, 0 for a heartbeat,
 * -ETIMEDOUT, or -EPROTO for something that is no [topic][Event]. */
static int
s_sub_recv(sub_t *s, int timeout_ms)
{
        zmq_pollitem_t item = {.socket = s->sock, .events = ZMQ_POLLIN};
        char topic[64] = "";
        uint8_t data[65536];
        int n, more = 0, len;
        size_t more_len = sizeof(more);
        pb_event_t *ev;

        n = zmq_poll(&item, 1, timeout_ms);
        if (n <= 0)
                return -ETIMEDOUT;
        len = zmq_recv(s->sock, topic, sizeof(topic) - 1, ZMQ_DONTWAIT);
        if (len < 0)
                return -EPROTO;
        topic[len < (int)sizeof(topic) ? len : (int)sizeof(topic) - 1] = '\0';
        zmq_getsockopt(s->sock, ZMQ_RCVMORE, &more, &more_len);
        if (!more)
                return -EPROTO;
        len = zmq_recv(s->sock, data, sizeof(data), ZMQ_DONTWAIT);
        if (len < 0 || len > (int)sizeof(data))
                return -EPROTO;
        ev = complaint__v1__event__unpack(NULL, (size_t)len, data);
        if (ev == NULL)
                return -EPROTO;
        if (ev->heartbeat) {
                s->heartbeats++;
                s->last_hb_seq = ev->seq;
                s->last_hb_at = ev->at_ms;
                complaint__v1__event__free_unpacked(ev, NULL);
                return 0;
        }
        if (s->n < SUB_MAX) {
                snprintf(s->topic[s->n], sizeof(s->topic[s->n]), "%s", topic);
                s->seq[s->n] = ev->seq;
        }
        s->n++;
        complaint__v1__event__free_unpacked(ev, NULL);
        return 1;
}

/* Opens who's SUB on the prefixes and "_heartbeat" (last), and waits for the first heartbeat:
 * subscriptions travel in order, so then every one of them has been judged. */
static void
s_sub_open(sub_t *s, int who, const char *const *prefixes)
{
        const char *all[8];
        size_t n = 0;
        int64_t deadline;

        memset(s, 0, sizeof(*s));
        s->name = pr[who].name;
        for (; prefixes[n] && n < 6; n++)
                all[n] = prefixes[n];
        all[n++] = "_heartbeat";
        all[n] = NULL;
        s->sock = harness_sub_open_curve(&h, server_kp.public_key, &pr[who].kp, all);
        REQUIRE(s->sock != NULL);
        deadline = harness_now_ms() + EVENT_WAIT_MS;
        /* At most one pass per message before the deadline. */
        for (int i = 0; i < 10000 && s->heartbeats == 0; i++) {
                int left = (int)(deadline - harness_now_ms());

                if (left <= 0 || s_sub_recv(s, left) == -ETIMEDOUT)
                        break;
        }
        if (s->heartbeats == 0)
                fprintf(stderr, "%s: no heartbeat within %d ms\n", s->name, EVENT_WAIT_MS);
        REQUIRE(s->heartbeats > 0);
}

/* Receives until a heartbeat announcing event head (or later) arrived: every event up to head
 * that the subscriptions match arrived before it. Returns whether it did in time. */
static bool
s_sub_settle(sub_t *s, uint64_t head)
{
        int64_t deadline = harness_now_ms() + EVENT_WAIT_MS;

        /* At most one pass per message before the deadline. */
        for (int i = 0; i < 100000; i++) {
                int left = (int)(deadline - harness_now_ms()), r;

                if (left <= 0)
                        break;
                r = s_sub_recv(s, left);
                if (r == -ETIMEDOUT)
                        break;
                if (r == 0 && s->last_hb_seq >= head)
                        return true;
        }
        fprintf(stderr, "%s: no heartbeat announcing event %" PRIu64 " within %d ms\n", s->name,
                head, EVENT_WAIT_MS);
        return false;
}

/* Drops what is queued, without waiting. */
static void
s_sub_drain(sub_t *s)
{
        for (int i = 0; i < 100000 && s_sub_recv(s, 0) != -ETIMEDOUT; i++)
                ;
}

/* How many recorded events have a topic beginning with prefix. */
static size_t
s_sub_count(const sub_t *s, const char *prefix)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n && i < SUB_MAX; i++)
                n += strncmp(s->topic[i], prefix, strlen(prefix)) == 0;
        return n;
}

static void
s_sub_print(const sub_t *s)
{
        fprintf(stderr, "  %s received %zu events:", s->name, s->n);
        for (size_t i = 0; i < s->n && i < SUB_MAX; i++)
                fprintf(stderr, " %s#%" PRIu64, s->topic[i], s->seq[i]);
        fprintf(stderr, "\n");
}

static void
s_sub_close(sub_t *s)
{
        if (s->sock)
                zmq_close(s->sock);
        s->sock = NULL;
}

/* The newest event seq, from root's status. */
static uint64_t
s_last_seq(void)
{
        struct body b;
        pb_reply_t *r = s_must(P_ROOT, s_body(&b, K_STATUS, 0, "", NULL), NULL, "status");
        uint64_t seq = r->status ? r->status->last_event_seq : 0;

        s_free(r);
        return seq;
}

/* ------------------------------------------------------------------ A: unknown key */

static void
case_unknown_key(void)
{
        harness_client_t c;
        harness_frames_t f;
        sub_t s = {.name = "unknown"};
        struct body b;
        size_t n;
        uint8_t *bytes;
        char needle[32];
        off_t from = harness_log_size(&h);
        pb_reply_t *r;
        int64_t t;

        printf("A: a key that is no principal\n");
        REQUIRE(harness_client_open_curve(&h, &c, NULL, server_kp.public_key, &unknown_kp) == 0);
        s.sock = harness_sub_open_curve(&h, server_kp.public_key, &unknown_kp,
                                        (const char *const[]){"", "_heartbeat", NULL});
        REQUIRE(s.sock != NULL);
        bytes = harness_encode(s_body(&b, K_STATUS, 0, "", NULL), &n);
        REQUIRE(bytes != NULL);
        REQUIRE(harness_client_send(&c, (const void *const[]){"", bytes}, (const size_t[]){0, n},
                                    2) == 0);
        free(bytes);
        /* Both sockets together: neither may get anything within the wait. */
        CHECK_INT(harness_client_recv(&c, SILENCE_MS, &f), -ETIMEDOUT);
        harness_frames_free(&f);
        CHECK_INT(s_sub_recv(&s, 0), -ETIMEDOUT);
        harness_client_close(&c);
        s_sub_close(&s);
        snprintf(needle, sizeof(needle), "key %.8s...", unknown_kp.public_key);
        CHECK(harness_wait_log(&h, needle, from, EVENT_WAIT_MS) >= 0);
        /* The daemon serves on: root's status, at once. */
        t = harness_now_ms();
        r = s_call(P_ROOT, s_body(&b, K_STATUS, 0, "", NULL), NULL);
        CHECK(r != NULL && r->error == E_OK && r->status != NULL);
        CHECK(harness_now_ms() - t < 2000);
        s_free(r);
        CHECK(harness_running(&h));
}

/* ------------------------------------------------------------------ B: wrong server */

static void
case_wrong_server(void)
{
        char endpoint[PATH_MAX];
        void *fake = zmq_socket(h.zctx, ZMQ_ROUTER);
        harness_client_t pinned, control;
        zmq_pollitem_t item = {.socket = fake, .events = ZMQ_POLLIN};
        struct body b;
        uint8_t *bytes;
        size_t n;
        int one = 1, linger = 0;

        printf("B: a client pinned to the daemon's key and a fake server\n");
        REQUIRE(fake != NULL);
        snprintf(endpoint, sizeof(endpoint), "ipc://%s/fake-api", h.dir);
        zmq_setsockopt(fake, ZMQ_LINGER, &linger, sizeof(linger));
        REQUIRE(zmq_setsockopt(fake, ZMQ_CURVE_SERVER, &one, sizeof(one)) == 0);
        REQUIRE(zmq_setsockopt(fake, ZMQ_CURVE_SECRETKEY, fake_kp.secret_key, 40) == 0);
        REQUIRE(zmq_bind(fake, endpoint) == 0);

        bytes = harness_encode(s_body(&b, K_CREATE, 0, "billing", NULL), &n);
        REQUIRE(bytes != NULL);
        /* Pinned to the real daemon's key: the fake server cannot complete the handshake. */
        REQUIRE(harness_client_open_curve(&h, &pinned, endpoint, server_kp.public_key,
                                          &pr[P_AGENT].kp) == 0);
        REQUIRE(harness_client_send(&pinned, (const void *const[]){"", bytes},
                                    (const size_t[]){0, n}, 2) == 0);
        CHECK_INT(zmq_poll(&item, 1, SILENCE_MS), 0);
        /* The control: a client that trusts the fake server's key does reach it, so the
         * silence above is the pinning, not a fake server that hears nobody. */
        REQUIRE(harness_client_open_curve(&h, &control, endpoint, fake_kp.public_key,
                                          &pr[P_AGENT].kp) == 0);
        REQUIRE(harness_client_send(&control, (const void *const[]){"", bytes},
                                    (const size_t[]){0, n}, 2) == 0);
        CHECK_INT(zmq_poll(&item, 1, EVENT_WAIT_MS), 1);
        free(bytes);
        harness_client_close(&pinned);
        harness_client_close(&control);
        zmq_close(fake);
}

/* ------------------------------------------------------------------ C: the matrix */

static void
case_matrix(void)
{
        printf("C: every principal, every request (+ allowed and done, F forbidden as the rules "
               "say, ! not as they say)\n   %-13s",
               "");
        for (int k = 0; k < K_COUNT; k++)
                printf(" %.4s", kinds[k].name);
        printf("\n");
        for (int p = 0; p < P_COUNT; p++) {
                char row[K_COUNT * 5 + 1] = "";

                for (int k = 0; k < K_COUNT; k++) {
                        const struct kind *kd = &kinds[k];
                        const char *dept = pr[p].dept;
                        uint64_t id = kd->state ? s_prepare(dept, kd->state) : 0;
                        bool allowed = (kd->allowed & pr[p].role_bit) != 0, ok;
                        struct body b;
                        pb_reply_t *r = s_call(p, s_body(&b, k, id, dept, NULL), "matrix");

                        if (allowed) {
                                ok = r && r->error == E_OK;
                                if (ok && k == K_WHOAMI)
                                        ok = r->whoami && r->whoami->principal &&
                                             strcmp(r->whoami->principal, pr[p].name) == 0;
                        } else {
                                /* Intake resolves only what is new: the refusal names it. */
                                ok = s_is_forbidden(r, p, kd->word);
                        }
                        CHECK(ok);
                        if (!ok)
                                fprintf(stderr, "  %s %s (%s): expected %s, got %s: %s\n",
                                        pr[p].name, kd->name, allowed ? "allowed" : "forbidden",
                                        allowed ? "OK" : "FORBIDDEN naming principal and action",
                                        r ? pb_error_name(r->error) : "no reply",
                                        r && r->message ? r->message : "");
                        strcat(row, ok ? (allowed ? "    +" : "    F") : "    !");
                        s_free(r);
                }
                printf("   %-13s%s\n", pr[p].name, row);
        }

        /* The other half of intake's resolve: a complaint still new is settled on the spot. */
        {
                struct body b;
                uint64_t id = s_prepare("billing", ST_NEW);
                pb_reply_t *r = s_call(P_AGENT, s_body(&b, K_RESOLVE, id, "billing", NULL), NULL);

                CHECK(r != NULL && r->error == E_OK);
                if (r && r->error != E_OK)
                        fprintf(stderr, "  agent resolve of a new complaint: %s: %s\n",
                                pb_error_name(r->error), r->message);
                s_free(r);
        }
        /* A supervisor dispatches nothing that is not its departments' yet: a new complaint
         * belongs to the centre. */
        {
                struct body b;
                uint64_t id = s_prepare("billing", ST_NEW);
                pb_reply_t *r =
                    s_call(P_HEAD, s_body(&b, K_ASSIGN, id, "billing", "billing"), NULL);

                s_check_forbidden(r, P_HEAD, NULL, "assign of a new complaint");
                s_free(r);
        }
}

/* ------------------------------------------------------------------ D: scope */

static void
case_scope(sub_t *bsub, sub_t *rsub)
{
        uint64_t bill = s_prepare("billing", ST_ASSIGNED), net = s_prepare("network", ST_ASSIGNED);
        uint64_t head = 0, bill2, seq;
        off_t from = harness_log_size(&h);
        sub_t hsub;
        struct body b;
        pb_reply_t *r;

        printf("D: a department's complaints, lists, streams and topics\n");
        /* billing-sys on network's complaint: read, change, none of it. */
        for (int k = K_ACCEPT; k <= K_GET; k++) {
                if (k == K_ESCALATE || k == K_CLOSE || k == K_REOPEN || k == K_DISMISS)
                        continue; /* refused for its role already (case C) */
                r = s_call(P_BILLING, s_body(&b, k, net, "network", NULL), NULL);
                s_check_forbidden(r, P_BILLING, NULL, kinds[k].name);
                if (r && r->complaint)
                        fprintf(stderr, "  a refused %s carried the complaint\n", kinds[k].name);
                CHECK(r == NULL || r->complaint == NULL);
                s_free(r);
        }
        r = s_call(P_NETWORK, s_body(&b, K_GET, bill, "billing", NULL), NULL);
        s_check_forbidden(r, P_NETWORK, NULL, "get of billing's complaint");
        s_free(r);
        r = s_call(P_HEAD, s_body(&b, K_GET, net, "network", NULL), NULL);
        s_check_forbidden(r, P_HEAD, NULL, "get of network's complaint");
        s_free(r);
        /* Lists: one of its departments, named. */
        r = s_call(P_BILLING, s_body(&b, K_LIST, 0, "network", NULL), NULL);
        s_check_forbidden(r, P_BILLING, "list", "list of network");
        s_free(r);
        r = s_call(P_BILLING, s_body(&b, K_LIST, 0, "", NULL), NULL);
        s_check_forbidden(r, P_BILLING, "list", "list of every department");
        s_free(r);
        r = s_call(P_BILLING, s_body(&b, K_LIST, 0, "billing", NULL), NULL);
        CHECK(r && r->error == E_OK && r->list);
        for (size_t i = 0; r && r->list && i < r->list->n_complaints; i++)
                CHECK_STR(r->list->complaints[i]->department, "billing");
        s_free(r);
        /* Replay: its own stream only; not network's, not the global one. */
        s_body(&b, K_REPLAY, 0, "network", NULL);
        b.replay.n_topic_prefixes = 0;
        r = s_call(P_BILLING, &b.req, NULL);
        s_check_forbidden(r, P_BILLING, "replay", "replay of network");
        CHECK(r == NULL || r->replay == NULL || r->replay->n_events == 0);
        s_free(r);
        s_body(&b, K_REPLAY, 0, "", NULL);
        r = s_call(P_BILLING, &b.req, NULL);
        s_check_forbidden(r, P_BILLING, "replay", "replay of the global stream");
        s_free(r);
        s_body(&b, K_REPLAY, 0, "billing", NULL);
        b.replay.n_topic_prefixes = 0;
        r = s_call(P_BILLING, &b.req, NULL);
        CHECK(r && r->error == E_OK && r->replay && r->replay->n_events > 0);
        for (size_t i = 0; r && r->replay && i < r->replay->n_events; i++)
                CHECK(strncmp(r->replay->events[i]->topic, "billing/", 8) == 0);
        s_free(r);
        /* A supervisor replays its levels' escalations, not the whole stream. */
        s_body(&b, K_REPLAY, 0, "billing", NULL);
        b.replay.n_topic_prefixes = 0;
        r = s_call(P_HEAD, &b.req, NULL);
        s_check_forbidden(r, P_HEAD, "replay", "supervisor's replay without prefixes");
        s_free(r);
        s_body(&b, K_REPLAY, 0, "billing", NULL);
        b.prefixes[0] = (char *)"billing/";
        r = s_call(P_HEAD, &b.req, NULL);
        s_check_forbidden(r, P_HEAD, "replay", "supervisor's replay of billing/");
        s_free(r);

        /* Live: billing-sys asks for everything, root for everything, the supervisor for
         * billing/ (refused) and its level (honoured). */
        s_sub_open(bsub, P_BILLING, (const char *const[]){"billing/", "network/", "", NULL});
        s_sub_open(rsub, P_ROOT, (const char *const[]){"", NULL});
        s_sub_open(&hsub, P_HEAD, (const char *const[]){"billing/", "billing/escalated/1", NULL});
        CHECK(harness_wait_log(&h, "refused a subscription to \"network/\" from billing-sys", from,
                               EVENT_WAIT_MS) >= 0);
        CHECK(harness_wait_log(&h, "refused a subscription to \"\" from billing-sys", from,
                               EVENT_WAIT_MS) >= 0);
        CHECK(harness_wait_log(&h, "refused a subscription to \"billing/\" from billing-head", from,
                               EVENT_WAIT_MS) >= 0);
        CHECK_INT(harness_log_count(&h, "refused a subscription", from), 3);
        s_sub_drain(bsub);
        s_sub_drain(rsub);
        s_sub_drain(&hsub);
        /* Events in both departments: network's first, billing's last. */
        s_root(K_NOTE, net, "network", NULL, NULL);
        r = s_must(P_NETWORK, s_body(&b, K_ACCEPT, net, "network", NULL), NULL, "accept");
        s_free(r);
        bill2 = s_root(K_CREATE, 0, "billing", NULL, NULL);
        s_root(K_ASSIGN, bill2, "billing", "billing", NULL);
        s_root(K_NOTE, bill, "billing", NULL, NULL);
        r = s_must(P_BILLING, s_body(&b, K_ACCEPT, bill, "billing", NULL), NULL, "accept");
        s_free(r);
        r = s_must(P_HEAD, s_body(&b, K_ESCALATE, bill, "billing", NULL), NULL, "escalate");
        head = r->event_seq;
        s_free(r);
        s_root(K_NOTE, net, "network", NULL, &seq);
        if (seq > head)
                head = seq;
        CHECK(s_sub_settle(bsub, head));
        CHECK(s_sub_settle(rsub, head));
        CHECK(s_sub_settle(&hsub, head));

        /* billing-sys: billing's events, every one, and nothing else. */
        CHECK(s_sub_count(bsub, "billing/assigned") == 1);
        CHECK(s_sub_count(bsub, "billing/noted") == 1);
        CHECK(s_sub_count(bsub, "billing/accepted") == 1);
        CHECK(s_sub_count(bsub, "billing/escalated/1") == 1);
        CHECK_INT(s_sub_count(bsub, "billing/"), bsub->n);
        CHECK_INT(s_sub_count(bsub, "network/"), 0);
        if (s_sub_count(bsub, "billing/") != bsub->n || bsub->n != 4)
                s_sub_print(bsub);
        /* root hears network too: the events were there to be missed. */
        CHECK_INT(s_sub_count(rsub, "network/"), 3);
        CHECK(s_sub_count(rsub, "centre/created") >= 1);
        /* The supervisor: its level's escalation only. */
        CHECK_INT(s_sub_count(&hsub, "billing/escalated/1"), 1);
        CHECK_INT(hsub.n, 1);
        if (hsub.n != 1)
                s_sub_print(&hsub);
        s_sub_close(&hsub);
}

/* ------------------------------------------------------------------ E: the actor */

/* The actor of the history entry of complaint id whose note is note, read by root. */
static bool
s_actor_of(uint64_t id, const char *note, const char *want)
{
        struct body b;
        pb_reply_t *r = s_must(P_ROOT, s_body(&b, K_GET, id, "", NULL), NULL, "get");
        const char *got = NULL;
        bool ok;

        for (size_t i = 0; i < r->n_history; i++)
                if (strcmp(r->history[i]->note, note) == 0)
                        got = r->history[i]->actor;
        ok = got && strcmp(got, want) == 0;
        if (!ok)
                fprintf(stderr, "  the note \"%s\" is recorded as by %s, expected %s\n", note,
                        got ? got : "(not found)", want);
        s_free(r);
        return ok;
}

static void
s_note_as(int who, uint64_t id, const char *note, const char *actor)
{
        struct body b;
        pb_reply_t *r = s_must(who, s_body(&b, K_NOTE, id, "", note), actor, "note");

        s_free(r);
}

static void
case_actor(void)
{
        uint64_t id = s_prepare("billing", ST_ASSIGNED);
        off_t from = harness_log_size(&h);
        struct body b;
        pb_reply_t *r;

        printf("E: the actor is the principal\n");
        s_note_as(P_BILLING, id, "note 1 by billing-sys as root", "root");
        CHECK(s_actor_of(id, "note 1 by billing-sys as root", "billing-sys"));
        s_note_as(P_AGENT, id, "note 2 by agent for alice", "alice");
        CHECK(s_actor_of(id, "note 2 by agent for alice", "agent:alice"));
        s_note_as(P_AGENT, id, "note 3 by agent for nobody", "");
        CHECK(s_actor_of(id, "note 3 by agent for nobody", "agent"));
        s_note_as(P_ROOT, id, "note 4 by root as mallory", "mallory");
        CHECK(s_actor_of(id, "note 4 by root as mallory", "root"));
        s_note_as(P_HEAD, id, "note 5 by billing-head as agent:alice", "agent:alice");
        CHECK(s_actor_of(id, "note 5 by billing-head as agent:alice", "billing-head"));

        /* A complaint filed by agent for alice is owned by agent:alice. */
        r = s_must(P_AGENT, s_body(&b, K_CREATE, 0, "billing", NULL), "alice", "create");
        CHECK(r->complaint && strcmp(r->complaint->owner, "agent:alice") == 0);
        s_free(r);

        /* whoami says so, with the rest of the principal. */
        r = s_must(P_BILLING, s_body(&b, K_WHOAMI, 0, "", NULL), "root", "whoami");
        REQUIRE(r->whoami != NULL);
        CHECK(r->whoami->access_control);
        CHECK_STR(r->whoami->principal, "billing-sys");
        CHECK_STR(r->whoami->role, "department");
        CHECK_STR(r->whoami->actor, "billing-sys");
        CHECK(r->whoami->n_departments == 1 && strcmp(r->whoami->departments[0], "billing") == 0);
        CHECK(!r->whoami->contact);
        CHECK(!r->whoami->acts_for_people);
        s_free(r);
        r = s_must(P_AGENT, s_body(&b, K_WHOAMI, 0, "", NULL), "alice", "whoami");
        REQUIRE(r->whoami != NULL);
        CHECK_STR(r->whoami->principal, "agent");
        CHECK_STR(r->whoami->role, "intake");
        CHECK_STR(r->whoami->actor, "agent:alice");
        CHECK(r->whoami->acts_for_people);
        CHECK(r->whoami->contact);
        s_free(r);
        r = s_must(P_HEAD, s_body(&b, K_WHOAMI, 0, "", NULL), NULL, "whoami");
        REQUIRE(r->whoami != NULL);
        CHECK_STR(r->whoami->role, "supervisor");
        CHECK(r->whoami->n_levels == 1 && r->whoami->levels[0] == 1);
        CHECK(!r->whoami->contact);
        s_free(r);
        r = s_must(P_NETWORK, s_body(&b, K_WHOAMI, 0, "", NULL), NULL, "whoami");
        REQUIRE(r->whoami != NULL);
        CHECK(r->whoami->contact);
        CHECK(r->whoami->n_departments == 1 && strcmp(r->whoami->departments[0], "network") == 0);
        s_free(r);
        r = s_must(P_ANALYSIS, s_body(&b, K_WHOAMI, 0, "", NULL), "bob", "whoami");
        REQUIRE(r->whoami != NULL);
        CHECK_STR(r->whoami->actor, "analysis");
        CHECK(!r->whoami->contact);
        s_free(r);

        /* The log of a backup names the principal, not what the client wrote. */
        r = s_must(P_ROOT, s_body(&b, K_BACKUP, 0, "", NULL), "mallory", "backup");
        s_free(r);
        CHECK(harness_wait_log(&h, "backup to ", from, EVENT_WAIT_MS) >= 0);
        CHECK(harness_log_count(&h, "requested by root", from) == 1);
        CHECK(harness_log_count(&h, "requested by mallory", from) == 0);
        if (harness_log_count(&h, "requested by mallory", from) != 0)
                fprintf(stderr, "  the log says a backup was requested by mallory\n");
}

/* ------------------------------------------------------------------ F: contact details */

/* Whether who's get of id returns the complainant (with phone), and nothing else goes wrong. */
static int
s_sees_contact(int who, uint64_t id)
{
        struct body b;
        pb_reply_t *r = s_call(who, s_body(&b, K_GET, id, "", NULL), NULL);
        int seen = -1;

        if (r && r->error == E_OK && r->complaint)
                seen = r->complaint->complainant && r->complaint->complainant->phone[0];
        else
                fprintf(stderr, "  get %" PRIu64 " by %s: %s: %s\n", id, pr[who].name,
                        r ? pb_error_name(r->error) : "no reply", r ? r->message : "");
        s_free(r);
        return seen;
}

static void
case_contact(void)
{
        uint64_t bill = s_prepare("billing", ST_ASSIGNED), net = s_prepare("network", ST_ASSIGNED);
        struct body b;
        pb_reply_t *r;

        printf("F: contact details\n");
        CHECK_INT(s_sees_contact(P_ANALYSIS, bill), 0);
        CHECK_INT(s_sees_contact(P_HEAD, bill), 0);
        CHECK_INT(s_sees_contact(P_BILLING, bill), 0);
        CHECK_INT(s_sees_contact(P_AGENT, bill), 1);
        CHECK_INT(s_sees_contact(P_ROOT, bill), 1);
        CHECK_INT(s_sees_contact(P_NETWORK, net), 1);
        CHECK_INT(s_sees_contact(P_ROOT, net), 1);

        /* Lists strip them the same way. */
        r = s_must(P_BILLING, s_body(&b, K_LIST, 0, "billing", NULL), NULL, "list");
        CHECK(r->list && r->list->n_complaints > 0);
        for (size_t i = 0; r->list && i < r->list->n_complaints; i++)
                CHECK(r->list->complaints[i]->complainant == NULL);
        s_free(r);
        r = s_must(P_ANALYSIS, s_body(&b, K_LIST, 0, "billing", NULL), NULL, "list");
        for (size_t i = 0; r->list && i < r->list->n_complaints; i++)
                CHECK(r->list->complaints[i]->complainant == NULL);
        s_free(r);
        r = s_must(P_NETWORK, s_body(&b, K_LIST, 0, "network", NULL), NULL, "list");
        CHECK(r->list && r->list->n_complaints > 0 && r->list->complaints[0]->complainant);
        s_free(r);

        /* So does the complaint in the reply to a change. */
        r = s_must(P_BILLING, s_body(&b, K_NOTE, bill, "", NULL), NULL, "note");
        CHECK(r->complaint != NULL && r->complaint->complainant == NULL);
        if (r->complaint && r->complaint->complainant)
                fprintf(stderr, "  billing-sys's note reply carries the complainant (phone %s)\n",
                        r->complaint->complainant->phone);
        s_free(r);
        r = s_must(P_HEAD, s_body(&b, K_ESCALATE, bill, "", NULL), NULL, "escalate");
        CHECK(r->complaint != NULL && r->complaint->complainant == NULL);
        if (r->complaint && r->complaint->complainant)
                fprintf(stderr,
                        "  billing-head's escalate reply carries the complainant (phone "
                        "%s)\n",
                        r->complaint->complainant->phone);
        s_free(r);
}

/* ------------------------------------------------------------------ G: reload */

static void
case_reload(sub_t *bsub, sub_t *rsub)
{
        uint64_t bill = s_prepare("billing", ST_ASSIGNED), at_reload, last, seen = 0;
        harness_client_t fresh;
        harness_frames_t f;
        struct body b;
        pb_reply_t *r;
        int64_t t_reloaded;
        off_t from;
        uint8_t *bytes;
        size_t n, late_events = 0, late_heartbeats = 0;

        printf("G: billing-sys removed by a reload\n");
        /* Its connection works before. */
        r = s_must(P_BILLING, s_body(&b, K_WHOAMI, 0, "", NULL), NULL, "whoami");
        s_free(r);
        s_sub_drain(bsub);
        s_sub_drain(rsub);

        s_write_conf(false);
        from = harness_log_size(&h);
        REQUIRE(kill(h.pid, SIGHUP) == 0);
        CHECK(harness_wait_log(&h, "reloaded ", from, EVENT_WAIT_MS) >= 0);
        CHECK(harness_log_count(&h, "reload of", from) == 0); /* not rejected */
        t_reloaded = s_utc_ms();
        at_reload = s_last_seq();

        /* Its next requests, on the connection it had: refused, or no answer. */
        for (int i = 0; i < 3; i++) {
                int k = (const int[]){K_GET, K_NOTE, K_WHOAMI}[i];

                r = s_call_wait(P_BILLING, s_body(&b, k, bill, "billing", NULL), NULL, SILENCE_MS);
                CHECK(r == NULL || r->error == E_FORBIDDEN);
                CHECK(r == NULL || (r->complaint == NULL && r->whoami == NULL));
                printf("   billing-sys's %s after its removal: %s%s%s\n", kinds[k].name,
                       r ? pb_error_name(r->error) : "no answer", r ? ": " : "",
                       r ? r->message : "");
                s_free(r);
        }
        /* A new connection with its key: the handshake is refused. */
        REQUIRE(harness_client_open_curve(&h, &fresh, NULL, server_kp.public_key,
                                          &pr[P_BILLING].kp) == 0);
        bytes = harness_encode(s_body(&b, K_STATUS, 0, "", NULL), &n);
        REQUIRE(bytes != NULL);
        REQUIRE(harness_client_send(&fresh, (const void *const[]){"", bytes},
                                    (const size_t[]){0, n}, 2) == 0);
        free(bytes);
        CHECK_INT(harness_client_recv(&fresh, SILENCE_MS, &f), -ETIMEDOUT);
        harness_frames_free(&f);
        harness_client_close(&fresh);

        /* Billing events after the reload: root's subscription reconnects and gets them (a
         * note at a time until one arrives, since its subscriptions are sent again after the
         * event socket was bound anew), billing-sys's gets nothing more. */
        for (int i = 0; i < 20 && seen == 0; i++) {
                uint64_t seq;
                int64_t deadline;

                s_root(K_NOTE, bill, "billing", NULL, &seq);
                deadline = harness_now_ms() + 250;
                /* At most one pass per message within 250 ms. */
                for (int j = 0; j < 10000 && seen == 0; j++) {
                        int left = (int)(deadline - harness_now_ms());

                        if (left <= 0 || s_sub_recv(rsub, left) == -ETIMEDOUT)
                                break;
                        for (size_t e = 0; e < rsub->n && e < SUB_MAX; e++)
                                if (rsub->seq[e] > at_reload &&
                                    strncmp(rsub->topic[e], "billing/", 8) == 0)
                                        seen = rsub->seq[e];
                }
        }
        CHECK(seen > 0);
        if (seen == 0)
                fprintf(stderr, "  root's subscription got no billing event after the reload\n");
        s_root(K_NOTE, bill, "billing", NULL, &last);
        CHECK(s_sub_settle(rsub, last));
        /* What billing-sys's SUB holds now may only be from before the reload. */
        {
                int64_t deadline = harness_now_ms() + SILENCE_MS;

                /* At most one pass per message within the wait. */
                for (int i = 0; i < 100000; i++) {
                        int left = (int)(deadline - harness_now_ms()), got;
                        size_t had = bsub->n;

                        if (left <= 0)
                                break;
                        got = s_sub_recv(bsub, left);
                        if (got == -ETIMEDOUT)
                                break;
                        if (got == 1 && had < SUB_MAX && bsub->seq[had] > at_reload)
                                late_events++;
                        if (got == 0 && bsub->last_hb_at >= t_reloaded)
                                late_heartbeats++;
                }
        }
        CHECK_INT(late_events, 0);
        CHECK_INT(late_heartbeats, 0);
        /* The others go on. */
        r = s_call(P_HEAD, s_body(&b, K_WHOAMI, 0, "", NULL), NULL);
        CHECK(r && r->error == E_OK);
        s_free(r);
        CHECK(harness_running(&h));
}

/* ------------------------------------------------------------------ H: exposure */

/* A TCP port on 127.0.0.1 that nothing listens on just now. */
static int
s_free_port(void)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

        if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &len) == 0)
                port = ntohs(a.sin_port);
        if (fd >= 0)
                close(fd);
        return port;
}

static void
case_exposure(void)
{
        char conf[PATH_MAX], state[PATH_MAX], ipc[PATH_MAX], tcp[64];
        int port = s_free_port();

        printf("H: no access group, a public endpoint\n");
        REQUIRE(port > 0);
        snprintf(conf, sizeof(conf), "%s/noaccess.conf", h.dir);
        snprintf(state, sizeof(state), "%s/exposed", h.dir);
        snprintf(ipc, sizeof(ipc), "ipc://%s/exposed", h.dir);
        snprintf(tcp, sizeof(tcp), "tcp://0.0.0.0:%d", port);
        REQUIRE(harness_write_conf(conf, NULL) == 0);
        for (int which = 0; which < 2; which++) {
                const char *args[] = {"--config",    conf,
                                      "--state-dir", state,
                                      "--api",       which == 0 ? tcp : ipc,
                                      "--events",    which == 0 ? ipc : tcp,
                                      NULL};
                char *err = NULL;
                int code = harness_run(COMPLAINTD_BIN, args, 10000, NULL, &err);

                CHECK(code > 0 && code < 128);
                CHECK(err && strstr(err, "refusing to serve") &&
                      strstr(err, "without access control"));
                if (code <= 0 || code >= 128 || !err || !strstr(err, "refusing to serve"))
                        fprintf(stderr, "  complaintd with %s on %s: exit %d, stderr:\n%s\n", tcp,
                                which == 0 ? "--api" : "--events", code, err ? err : "");
                free(err);
        }
}

/* ------------------------------------------------------------------ main */

int
main(void)
{
        int64_t t0 = harness_now_ms();
        sub_t *bsub = calloc(1, sizeof(*bsub)), *rsub = calloc(1, sizeof(*rsub));

        REQUIRE(bsub && rsub);
        REQUIRE(harness_init(&h, "access") == 0);
        t_begin = s_utc_ms();
        REQUIRE(harness_keypair(&server_kp) == 0);
        REQUIRE(harness_keypair(&unknown_kp) == 0);
        REQUIRE(harness_keypair(&fake_kp) == 0);
        for (int i = 0; i < P_COUNT; i++)
                REQUIRE(harness_keypair(&pr[i].kp) == 0);
        snprintf(keyfile, sizeof(keyfile), "%s/server.key", h.dir);
        REQUIRE(harness_write_keyfile(keyfile, &server_kp, 0600) == 0);
        s_write_conf(true);
        REQUIRE(harness_start_curve(&h, server_kp.public_key, &pr[P_ROOT].kp) == 0);
        for (int i = 0; i < P_COUNT; i++)
                s_connect(i);

        case_unknown_key();
        case_wrong_server();
        case_matrix();
        case_scope(bsub, rsub);
        case_actor();
        case_contact();
        case_reload(bsub, rsub);
        case_exposure();

        s_sub_close(bsub);
        s_sub_close(rsub);
        free(bsub);
        free(rsub);
        for (int i = 0; i < P_COUNT; i++)
                harness_client_close(&pr[i].cl);
        printf("took %" PRId64 " ms\n", harness_now_ms() - t0);
        return harness_cleanup(&h, check_summary());
}
