/* target_audit.h: the append-only audit log of 'tide target' (docs/target.md#audit): one record
 * per write and per read of personal data, kept in a ring of TIDE_AUDIT_CAP records so the
 * server's memory stays bounded under any load (the oldest go first; GET /api/audit says how
 * many went). Records name the actor by user id, a pseudonym: erasing a user leaves the log
 * append-only and holding nothing else of them. One thread owns a log; nothing here locks. */
#ifndef TIDE_TARGET_AUDIT_H
#define TIDE_TARGET_AUDIT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "target_http.h"

#define TIDE_AUDIT_CAP      100000 /* records kept; 17 MB at most (168 bytes each) */
#define TIDE_AUDIT_PAGE     100    /* records per answer by default */
#define TIDE_AUDIT_PAGE_MAX 1000   /* and at most */
#define TIDE_AUDIT_TENANT   64     /* bytes of a tenant name kept */
#define TIDE_AUDIT_RESOURCE 48     /* bytes of a resource path kept */

struct tide_audit;

struct tide_audit *tide_audit_new(void);    /* NULL: no memory */
void tide_audit_free(struct tide_audit *a); /* NULL is fine */

/* Appends a record: 'now' wall-clock seconds, 'actor' a user id, 'action' a static text such as
 * "project.create", 'resource' the path acted on. The oldest record goes when the log is full. */
void tide_audit_add(struct tide_audit *a, double now, int64_t actor, struct tide_http_str tenant,
                    const char *action, const char *resource);

/* GET /api/audit?since=&actor=&limit= for one tenant: writes the JSON answer into 'out' and
 * returns 200, or 422 with {"error","field"} for a bad parameter. 'since' is a sequence number
 * (records after it) or a UTC time "2025-01-31T12:00:00Z" (records at or after it). */
int tide_audit_query(const struct tide_audit *a, struct tide_http_str tenant,
                     struct tide_http_str query, struct tide_buf *out);

/* "2025-01-31T12:00:00.123Z" (24 characters and a NUL) for wall-clock seconds 'now'. */
void tide_audit_timestamp(double now, char out[25]);

#endif
