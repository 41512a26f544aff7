/* pb.h: short names for the generated complaint.v1 types and enum values, and small helpers
 * that turn enum values into the words users type and read. Shared by the daemon, the client
 * library and complaintctl. */
#ifndef COMPLAINTD_PB_H
#define COMPLAINTD_PB_H

#include "complaint.pb-c.h"

typedef Complaint__V1__Complaint pb_complaint_t;
typedef Complaint__V1__Complainant pb_complainant_t;
typedef Complaint__V1__Resolution pb_resolution_t;
typedef Complaint__V1__FollowUp pb_follow_up_t;
typedef Complaint__V1__HistoryEntry pb_history_t;
typedef Complaint__V1__Event pb_event_t;
typedef Complaint__V1__Request pb_request_t;
typedef Complaint__V1__Reply pb_reply_t;
typedef Complaint__V1__StatusReply pb_status_reply_t;
typedef Complaint__V1__StateCount pb_state_count_t;
typedef Complaint__V1__ComplaintList pb_list_t;

#define PB_SCHEMA_VERSION COMPLAINT__V1__SCHEMA_VERSION__SCHEMA_VERSION_CURRENT

/* Status values. */
#define ST_NONE COMPLAINT__V1__STATUS__STATUS_UNSPECIFIED
#define ST_NEW COMPLAINT__V1__STATUS__STATUS_NEW
#define ST_ASSIGNED COMPLAINT__V1__STATUS__STATUS_ASSIGNED
#define ST_ACCEPTED COMPLAINT__V1__STATUS__STATUS_ACCEPTED
#define ST_PENDING COMPLAINT__V1__STATUS__STATUS_PENDING
#define ST_RESOLVED COMPLAINT__V1__STATUS__STATUS_RESOLVED
#define ST_CLOSED COMPLAINT__V1__STATUS__STATUS_CLOSED
#define ST_DISMISSED COMPLAINT__V1__STATUS__STATUS_DISMISSED
#define ST_COUNT 8

/* Error codes. */
#define E_OK COMPLAINT__V1__ERROR_CODE__ERROR_CODE_OK
#define E_BAD_REQUEST COMPLAINT__V1__ERROR_CODE__ERROR_CODE_BAD_REQUEST
#define E_INVALID_ARGUMENT COMPLAINT__V1__ERROR_CODE__ERROR_CODE_INVALID_ARGUMENT
#define E_TOO_LARGE COMPLAINT__V1__ERROR_CODE__ERROR_CODE_TOO_LARGE
#define E_NOT_FOUND COMPLAINT__V1__ERROR_CODE__ERROR_CODE_NOT_FOUND
#define E_INVALID_TRANSITION COMPLAINT__V1__ERROR_CODE__ERROR_CODE_INVALID_TRANSITION
#define E_REQUEST_ID_REUSED COMPLAINT__V1__ERROR_CODE__ERROR_CODE_REQUEST_ID_REUSED
#define E_UNSUPPORTED_VERSION COMPLAINT__V1__ERROR_CODE__ERROR_CODE_UNSUPPORTED_VERSION
#define E_STORAGE_FULL COMPLAINT__V1__ERROR_CODE__ERROR_CODE_STORAGE_FULL
#define E_INTERNAL COMPLAINT__V1__ERROR_CODE__ERROR_CODE_INTERNAL
#define E_UNKNOWN_REFERENCE COMPLAINT__V1__ERROR_CODE__ERROR_CODE_UNKNOWN_REFERENCE
#define E_UNAVAILABLE COMPLAINT__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE
#define E_MISCONFIGURED COMPLAINT__V1__ERROR_CODE__ERROR_CODE_MISCONFIGURED
#define E_FORBIDDEN COMPLAINT__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN

/* Each table maps an enum value to its lower-case word ("walk_in", "third_party") and back.
 * pb_*_name() returns a static string ("?" for a value it does not know); pb_*_parse() returns
 * the value, or -1 for a word it does not know. */
const char *pb_status_name(int v);
int pb_status_parse(const char *s);
const char *pb_nature_name(int v);
int pb_nature_parse(const char *s);
const char *pb_priority_name(int v);
int pb_priority_parse(const char *s);
const char *pb_channel_name(int v);
int pb_channel_parse(const char *s);
const char *pb_responsibility_name(int v);
int pb_responsibility_parse(const char *s);
const char *pb_dismiss_reason_name(int v);
int pb_dismiss_reason_parse(const char *s);
const char *pb_action_name(int v);
const char *pb_error_name(int v);

#endif
