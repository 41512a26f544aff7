/* ctl.c: complaintctl, the operators' command line: its options, its command table and its help,
 * and main(), which parses the command and its options and runs the command (ctl.h). A command
 * builds one complaint.v1.Request, sends it through the client library and prints the reply as
 * text or JSON. Exit status: 0 success, 1 the daemon refused (or answered nonsense, or a file or
 * the output could not be written), 2 usage error (also a bad key or settings file), 3 no answer
 * from the daemon, or a handshake that failed: the daemon refused this client's key, or its
 * key is not the server key given.
 *
 * Access control (settings.h): the daemon's endpoint, this client's key file and the daemon's
 * public key come each from the first of its option (--endpoint, --key, --server-key), the
 * environment ($COMPLAINT_ENDPOINT, $COMPLAINT_KEY, $COMPLAINT_SERVER_KEY), the per-user file
 * $XDG_CONFIG_HOME/complaintctl/config (default ~/.config/complaintctl/config) and the system
 * file /etc/complaintd/complaintctl.conf. Without a key the connection is plain, as a daemon
 * without access control expects. `keygen` makes a key file; `whoami` shows what the daemon
 * takes this client for. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "i18n.h"
#include "settings.h"
#include "zone.h"

const struct ctl_option ctl_options[OPT_MAX_] = {
    [OPT_ENDPOINT] = {"endpoint", true},
    [OPT_JSON] = {"json", false},
    [OPT_ACTOR] = {"actor", true},
    [OPT_TIMEOUT] = {"timeout", true},
    [OPT_RETRIES] = {"retries", true},
    [OPT_REQUEST_ID] = {"request-id", true},
    [OPT_HELP] = {"help", false},
    [OPT_VERSION] = {"version", false},
    [OPT_CHANNEL] = {"channel", true},
    [OPT_CATEGORY] = {"category", true},
    [OPT_SUBJECT] = {"subject", true},
    [OPT_DESCRIPTION] = {"description", true},
    [OPT_NAME] = {"name", true},
    [OPT_PHONE] = {"phone", true},
    [OPT_EMAIL] = {"email", true},
    [OPT_ADDRESS] = {"address", true},
    [OPT_NATURE] = {"nature", true},
    [OPT_PRIORITY] = {"priority", true},
    [OPT_REF] = {"ref", true},
    [OPT_NOTE] = {"note", true},
    [OPT_DEPARTMENT] = {"department", true},
    [OPT_CAUSE] = {"cause", true},
    [OPT_RESPONSIBILITY] = {"responsibility", true},
    [OPT_REPLY] = {"reply", true},
    [OPT_COMPENSATION] = {"compensation", true},
    [OPT_SATISFACTION] = {"satisfaction", true},
    [OPT_CALL_FAILED] = {"call-failed", false},
    [OPT_REASON] = {"reason", true},
    [OPT_STATUS] = {"status", true},
    [OPT_LIMIT] = {"limit", true},
    [OPT_BEFORE] = {"before", true},
    [OPT_KIND] = {"kind", true},
    [OPT_LEVEL] = {"level", true},
    [OPT_COUNT] = {"count", true},
    [OPT_FROM] = {"from", true},
    [OPT_STATE_FILE] = {"state-file", true},
    [OPT_OVERDUE] = {"overdue", false},
    [OPT_MONTH] = {"month", true},
    [OPT_TO] = {"to", true},
    [OPT_CSV] = {"csv", false},
    [OPT_KEY] = {"key", true},
    [OPT_SERVER_KEY] = {"server-key", true},
    [OPT_OUT] = {"out", true},
    [OPT_COMPLAINT] = {"complaint", true},
    [OPT_TEXT] = {"text", false},
    [OPT_UTC] = {"utc", false},
};

#define O(x) (UINT64_C(1) << OPT_##x)
#define GLOBAL_OPTS                                                                             \
        (O(ENDPOINT) | O(JSON) | O(ACTOR) | O(TIMEOUT) | O(RETRIES) | O(REQUEST_ID) | O(HELP) | \
         O(VERSION) | O(KEY) | O(SERVER_KEY) | O(UTC))

/* ------------------------------------------------------------------- table and help */

static const struct command commands[] = {
    {"create", cmd_create,
     O(CHANNEL) | O(CATEGORY) | O(SUBJECT) | O(DESCRIPTION) | O(NAME) | O(PHONE) | O(EMAIL) |
         O(ADDRESS) | O(NATURE) | O(PRIORITY) | O(REF) | O(NOTE),
     0, 0, true,
     "--channel C --category CAT --subject S --description D [--name N] [--phone P] "
     "[--email E] [--address A] [--nature N] [--priority P] [--ref R] [--note N]",
     N_("Record a new complaint; you become its owner.\n"
        "  channel: phone, web, app, email, letter, walk_in, social\n"
        "  nature: valid (default), help, inquiry, venting\n"
        "  priority: normal (default), major, urgent\n"
        "  --ref: a reference from the intake system (ticket number, call id)")},
    {"assign", cmd_assign, O(DEPARTMENT) | O(NOTE), 1, 1, true, "ID [--department D] [--note N]",
     N_("Dispatch a complaint to a department, or reassign it. Without --department, the\n"
        "category's default department.")},
    {"accept", cmd_simple, O(NOTE), 1, 1, true, "ID [--note N]",
     N_("Acknowledge a complaint assigned to your department; stops the response clock.")},
    {"pend", cmd_simple, O(NOTE), 1, 1, true, "ID --note N",
     N_("Wait on the complainant or a third party (the note says on what); pauses the\n"
        "resolution clock.")},
    {"resume", cmd_simple, O(NOTE), 1, 1, true, "ID [--note N]",
     N_("Resume work on a pending complaint.")},
    {"resolve", cmd_resolve, O(CAUSE) | O(RESPONSIBILITY) | O(REPLY) | O(COMPENSATION) | O(NOTE), 1,
     1, true, "ID --cause C --responsibility R --reply TEXT [--compensation 12.50] [--note N]",
     N_("Report the result: the cause, who was responsible (company, customer, shared,\n"
        "third_party), the reply given to the complainant, and any compensation in currency\n"
        "units with up to 2 decimals.")},
    {"close", cmd_close, O(SATISFACTION) | O(CALL_FAILED) | O(NOTE), 1, 1, true,
     "ID (--satisfaction 1..5 | --call-failed) [--note N]",
     N_("Record the follow-up call: the complainant's satisfaction from 1 (very dissatisfied)\n"
        "to 5 (very satisfied), or that the call failed.")},
    {"reopen", cmd_reopen, O(REASON) | O(DEPARTMENT), 1, 1, true, "ID --reason R [--department D]",
     N_("Reopen a resolved, closed or dismissed complaint and assign it again; without\n"
        "--department, to the department it was last assigned to.")},
    {"dismiss", cmd_dismiss, O(REASON) | O(NOTE), 1, 1, true,
     "ID --reason duplicate|abusive|out_of_scope|other [--note N]",
     N_("Dismiss a complaint that is not a valid one.")},
    {"note", cmd_note, O(NOTE), 1, 2, true, "ID TEXT  (or ID --note TEXT)",
     N_("Add a note to a complaint's history.")},
    {"escalate", cmd_simple, O(NOTE), 1, 1, true, "ID [--note N]",
     N_("Escalate a complaint one level up its department's management chain by hand.")},
    {"erase", cmd_erase, O(PHONE) | O(EMAIL) | O(COMPLAINT) | O(TEXT) | O(REASON), 0, 0, true,
     "(--phone P | --email E | --complaint ID) --reason R [--text]",
     N_("Erase a complainant's contact details (name, phone, e-mail, address) from every\n"
        "complaint that holds them: the complainant with that phone number or e-mail address,\n"
        "or the complainant of complaint ID. --text also replaces the description and the\n"
        "intake's notes with a marker. The reason is kept in the history. Admin only under\n"
        "access control; says how many complaints were touched.")},
    {"show", cmd_show, 0, 1, 1, false, "ID", N_("Show a complaint and its full history.")},
    {"list", cmd_list,
     O(DEPARTMENT) | O(STATUS) | O(CATEGORY) | O(OVERDUE) | O(LEVEL) | O(LIMIT) | O(BEFORE), 0, 0,
     false,
     "[--department D] [--status S] [--category C] [--overdue] [--level N] [--limit N] "
     "[--before ID]",
     N_("List complaints, newest first. --overdue: only open complaints escalated at least\n"
        "once; --level N: only those at management level N. For the next page pass the id it\n"
        "reports as --before.")},
    {"status", cmd_status, 0, 0, 0, false, "",
     N_("Show the daemon's version, uptime, counts by state, overdue complaints, the next\n"
        "deadline, the event streams' heads, and the endpoints.")},
    {"backup", cmd_backup, 0, 1, 1, false, "NAME",
     N_("Write a compacted, consistent copy of the store to daemon.backup_dir/NAME while the\n"
        "daemon goes on serving. Check it with `complaintd --check-store PATH`; restore by\n"
        "making it the state directory of a stopped daemon.")},
    {"report", cmd_report, O(MONTH) | O(FROM) | O(TO) | O(DEPARTMENT) | O(CATEGORY) | O(CSV), 0, 0,
     false, "(--month YYYY-MM | --from WHEN --to WHEN) [--department D | --category C] [--csv]",
     N_("The analysis of the complaints created in a period: counts by category, nature,\n"
        "priority, channel and department; the share handled within the response and\n"
        "resolution limits; escalations by level; median and 90th-percentile business time to\n"
        "acceptance and to resolution; follow-up rate and satisfaction; reopened and dismissed;\n"
        "responsibility and compensation. Periods are the centre's, in its time zone; WHEN is a\n"
        "date (2026-11-01, --to includes that day), a local time (2026-11-01T08:30; with a Z,\n"
        "2026-11-01T08:30Z, a UTC one) or @MILLISECONDS. --csv: one line per figure set, for\n"
        "spreadsheets.")},
    {"ledger", cmd_ledger,
     O(MONTH) | O(FROM) | O(TO) | O(DEPARTMENT) | O(CATEGORY) | O(CSV) | O(LIMIT), 0, 0, false,
     "(--month YYYY-MM | --from WHEN --to WHEN) [--department D | --category C] [--csv]",
     N_("The reply ledger: every complaint created in the period with its intake owner,\n"
        "department, the reply given, the follow-up call and whether each limit was met;\n"
        "complaints without a reply or a follow-up first. --limit: rows per request.")},
    {"watch", cmd_watch, O(DEPARTMENT) | O(KIND) | O(LEVEL) | O(FROM) | O(STATE_FILE) | O(COUNT), 0,
     0, false,
     "[--department D] [--kind K] [--level L] [--from OFFSET] [--state-file PATH] [--count N]",
     N_("Print events in order, none missed and none twice, until interrupted or after N\n"
        "events. Topics are <department>/<kind> (created, assigned, reassigned, accepted,\n"
        "pending, resumed, resolved, closed, reopened, dismissed, noted, flagged,\n"
        "warning/<level>) and\n"
        "<department>/escalated/<level>.\n"
        "  --from OFFSET      replay from this offset of the department's stream (of the\n"
        "                     global stream, whose offsets are event numbers, without\n"
        "                     --department), then go on live\n"
        "  --state-file PATH  keep the position there and start after it next time\n"
        "Without either, only new events are shown. --json: one object per line, with seq,\n"
        "stream, offset and topic.")},
    {"whoami", cmd_whoami, 0, 0, 0, false, "",
     N_("Show what the daemon takes this client for: its principal, role, departments and\n"
        "levels, whether it sees complainants' contact details and may act for people, and the\n"
        "actor a change it sends now would be recorded under. Against a daemon without access\n"
        "control it says that access control is off.")},
    {"keygen", cmd_keygen, O(OUT), 1, 1, false, "NAME [--out DIR]",
     N_("Make a key pair for the client NAME and write it to DIR/NAME.key (default: the\n"
        "current directory), mode 0600, never over an existing file. Prints the public key and\n"
        "a principal for the daemon's configuration; use the file with --key. Talks to no\n"
        "daemon.")},
};

/* The global options and the rest of the long help, after a command's own. */
static void
s_global_help(void)
{
        fputs(_("Global options (before or after the command):\n"), stdout);
        printf(_("  --endpoint EP     the daemon's API (default: $COMPLAINT_ENDPOINT, else the\n"
                 "                    settings files, else %s)\n"),
               COMPLAINT_DEFAULT_ENDPOINT);
        fputs(
            _("  --key FILE        this client's key file, for a daemon with access control\n"
              "                    (default: $COMPLAINT_KEY, else the settings files; none: no\n"
              "                    key, a plain connection)\n"
              "  --server-key KEY  the daemon's public key, pinned: 40 characters or a file\n"
              "                    holding them (default: $COMPLAINT_SERVER_KEY, else the\n"
              "                    settings files)\n"
              "  --actor NAME      who does it (default: $COMPLAINT_ACTOR, else $USER)\n"
              "  --json            print one JSON object (watch: one per line)\n"
              "  --utc             print times in UTC (2026-12-04T07:30:00Z), not in the centre's\n"
              "                    time zone (2026-12-04 15:30 +08:00)\n"
              "  --timeout MS      wait this long for each try (default 5000)\n"
              "  --retries N       tries after the first that got no answer (default 2)\n"
              "  --request-id ID   the id of a change, to repeat it safely after no answer\n"
              "  --help            this help; COMMAND --help for one command\n"
              "  --version         the version of complaintctl\n"),
            stdout);
        printf(
            _("Settings files, read for what the options and the environment leave unset: first\n"
              "$XDG_CONFIG_HOME/complaintctl/config (default ~/.config/complaintctl/config), then\n"
              "%s, each with lines `endpoint = EP`, `key = FILE`\n"
              "and `server_key = KEY|FILE` (relative paths from the file's directory). Without a\n"
              "key the connection is plain, as a daemon without access control expects.\n"),
            SETTINGS_SYSTEM_FILE);
        fputs(_("Language: messages, headings and help follow LANGUAGE, LC_ALL, LC_MESSAGES and\n"
                "LANG; command words, enum words and --json output are the same in every "
                "language.\n"),
              stdout);
        fputs(
            _("Exit status: 0 success; 1 refused by the daemon, or a file or the output could not\n"
              "be written; 2 usage error, also a bad key or settings file; 3 no answer, or the\n"
              "daemon refused this client's key, or its key is not the server key given.\n"),
            stdout);
}

static void
s_help(const struct command *cmd)
{
        if (cmd) {
                printf(_("Usage: complaintctl [OPTIONS] %s%s%s\n\n"), cmd->name,
                       cmd->synopsis[0] ? " " : "", cmd->synopsis);
                printf("%s\n\n", _(cmd->help));
                s_global_help();
                return;
        }
        fputs(_("Usage: complaintctl [OPTIONS] COMMAND [ARGS]\n\n"
                "Drive complaintd, the complaint-escalation daemon.\n\nCommands:\n"),
              stdout);
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (commands[i].synopsis[0])
                        printf("  %-9s %s\n", commands[i].name, commands[i].synopsis);
                else
                        printf("  %s\n", commands[i].name);
        putchar('\n');
        s_global_help();
}

/* ------------------------------------------------------------------- arguments */

static const struct command *
s_command(const char *name)
{
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

static int
s_option(const char *name, size_t len)
{
        for (int o = 0; o < OPT_MAX_; o++)
                if (ctl_options[o].name && strlen(ctl_options[o].name) == len &&
                    strncmp(ctl_options[o].name, name, len) == 0)
                        return o;
        return -1;
}

/* Reads argv into x. Options may come before or after the command; "--" ends them. Returns 0,
 * or the exit status after a usage error. */
static int
s_parse(struct ctl *x, int argc, char **argv)
{
        bool options_end = false;

        for (int i = 1; i < argc; i++) {
                char *a = argv[i];

                if (!options_end && strcmp(a, "--") == 0) {
                        options_end = true;
                } else if (!options_end && strcmp(a, "-h") == 0) {
                        x->val[OPT_HELP] = a;
                } else if (!options_end && a[0] == '-' && a[1] != '\0') {
                        const char *name = a + 2, *eq = strchr(name, '=');
                        size_t len = eq ? (size_t)(eq - name) : strlen(name);
                        int o = a[1] == '-' ? s_option(name, len) : -1;

                        if (o < 0)
                                return ctl_usage_error(x, _("unknown option '%s'"), a);
                        if (x->val[o] && o != OPT_JSON && o != OPT_HELP)
                                return ctl_usage_error(x, _("--%s given twice"),
                                                       ctl_options[o].name);
                        if (!ctl_options[o].arg) {
                                if (eq)
                                        return ctl_usage_error(x, _("--%s takes no value"),
                                                               ctl_options[o].name);
                                x->val[o] = a;
                        } else if (eq) {
                                x->val[o] = a + 2 + len + 1;
                        } else if (i + 1 < argc) {
                                x->val[o] = argv[++i];
                        } else {
                                return ctl_usage_error(x, _("--%s needs a value"),
                                                       ctl_options[o].name);
                        }
                } else if (x->cmd == NULL) {
                        if (strcmp(a, "help") == 0 && !options_end) {
                                x->val[OPT_HELP] = a;
                                continue;
                        }
                        x->cmd = s_command(a);
                        if (x->cmd == NULL)
                                return ctl_usage_error(x, _("unknown command '%s'"), a);
                } else {
                        if (x->nargs == ARGS_MAX)
                                return ctl_usage_error(x, _("unexpected argument '%s'"), a);
                        x->arg[x->nargs++] = a;
                }
        }
        return 0;
}

/* Checks the parsed arguments against the command and settles the global settings. */
static int
s_settle(struct ctl *x)
{
        uint64_t v;
        int r;

        for (int o = 0; o < OPT_MAX_; o++)
                if (x->val[o] && !(GLOBAL_OPTS & (UINT64_C(1) << o)) &&
                    !(x->cmd->opts & (UINT64_C(1) << o)))
                        return ctl_usage_error(x, _("--%s does not apply to %s"),
                                               ctl_options[o].name, x->cmd->name);
        if (x->nargs < x->cmd->min_args) {
                const char *synopsis = x->cmd->synopsis;

                if (strncmp(synopsis, "ID", 2) == 0)
                        return ctl_usage_error(x, _("%s needs a complaint ID"), x->cmd->name);
                return ctl_usage_error(x, _("%s needs %.*s"), x->cmd->name,
                                       (int)strcspn(synopsis, " "), synopsis);
        }
        if (x->nargs > x->cmd->max_args)
                return ctl_usage_error(x, _("unexpected argument '%s'"), x->arg[x->cmd->max_args]);

        /* keygen talks to no daemon: a settings file it cannot read is no reason to fail. */
        if (x->cmd->run != cmd_keygen) {
                char err[1024];

                r = settings_load(&x->settings, x->val[OPT_ENDPOINT], x->val[OPT_KEY],
                                  x->val[OPT_SERVER_KEY], err, sizeof(err));
                if (r == -ENOMEM)
                        return ctl_fail(_("out of memory"));
                if (r < 0)
                        return ctl_usage_error(x, "%s", err);
                x->endpoint = x->settings.endpoint;
                if (x->settings.key_exposed)
                        fprintf(stderr,
                                _("complaintctl: warning: the key file %s may be read by "
                                  "others than its owner: chmod 600 it\n"),
                                x->settings.key_file);
        }
        if (x->val[OPT_ACTOR]) {
                x->actor = x->val[OPT_ACTOR];
        } else if ((x->actor = getenv("COMPLAINT_ACTOR")) == NULL || x->actor[0] == '\0') {
                x->actor = getenv("USER");
                if (x->actor == NULL || x->actor[0] == '\0')
                        x->actor = "operator";
        }
        if (x->actor[0] == '\0')
                return ctl_usage_error(x, _("--actor must not be empty"));
        x->json = x->val[OPT_JSON] != NULL;
        x->utc = x->val[OPT_UTC] != NULL;
        x->timeout_ms = DEFAULT_TIMEOUT_MS;
        if (x->val[OPT_TIMEOUT]) {
                if (!ctl_parse_u64(x->val[OPT_TIMEOUT], &v) || v == 0 || v > INT_MAX)
                        return ctl_usage_error(x,
                                               _("--timeout: '%s' is not a number of milliseconds"),
                                               x->val[OPT_TIMEOUT]);
                x->timeout_ms = (int)v;
        }
        x->retries = DEFAULT_RETRIES;
        if (x->val[OPT_RETRIES]) {
                if (!ctl_parse_u64(x->val[OPT_RETRIES], &v) || v > 100)
                        return ctl_usage_error(x,
                                               _("--retries: '%s' is not a number from 0 to 100"),
                                               x->val[OPT_RETRIES]);
                x->retries = (int)v;
        }
        if (x->val[OPT_REQUEST_ID]) {
                if (x->val[OPT_REQUEST_ID][0] == '\0')
                        return ctl_usage_error(x, _("--request-id must not be empty"));
                x->request_id = x->val[OPT_REQUEST_ID];
        } else if (x->cmd->change) {
                /* Chosen here rather than in the library so that it can be shown when the
                 * daemon does not answer. */
                r = complaint_request_id_generate(x->request_id_buf);
                if (r < 0)
                        return ctl_fail(_("cannot make a request id: %s"), strerror(-r));
                x->request_id = x->request_id_buf;
        }
        return 0;
}

int
main(int argc, char **argv)
{
        struct ctl x = {0};
        int r;

        i18n_init();
        r = s_parse(&x, argc, argv);
        if (r != 0)
                return r;
        if (x.val[OPT_HELP]) {
                s_help(x.cmd);
                return fflush(stdout) == 0 ? 0 : EXIT_REFUSED;
        }
        if (x.val[OPT_VERSION]) {
                printf("complaintctl %s\n", COMPLAINTD_VERSION);
                return 0;
        }
        if (x.cmd == NULL)
                return ctl_usage_error(&x, _("no command given"));
        r = s_settle(&x);
        if (r == 0)
                r = x.cmd->run(&x);
        settings_free(&x.settings);
        zone_free(&x.zone);
        return r;
}
