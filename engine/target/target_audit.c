/* target_audit.c: the audit log as a ring of fixed-size records with contiguous sequence
 * numbers, so a 'since' cursor finds its place by arithmetic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "target_audit.h"
#include "target_store.h"

struct record {
    uint64_t seq;
    int64_t actor;
    const char *action; /* static */
    char time[25];
    char tenant[TIDE_AUDIT_TENANT + 1];
    char resource[TIDE_AUDIT_RESOURCE];
};

struct tide_audit {
    struct record *ring; /* TIDE_AUDIT_CAP of them, allocated at the first record */
    size_t head, n;      /* the oldest, and how many are held */
    uint64_t next_seq;   /* of the next record; 1 for the first */
};

struct tide_audit *tide_audit_new(void)
{
    struct tide_audit *a = calloc(1, sizeof *a);
    if (a != NULL)
        a->next_seq = 1;
    return a;
}

void tide_audit_free(struct tide_audit *a)
{
    if (a == NULL)
        return;
    free(a->ring);
    free(a);
}

void tide_audit_timestamp(double now, char out[25])
{
    time_t sec = (time_t)now;
    int ms = (int)((now - (double)sec) * 1000.0);
    struct tm tm;
    char tmp[80];
    gmtime_r(&sec, &tm);
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             ms < 0 || ms > 999 ? 0 : ms);
    memcpy(out, tmp, 24);
    out[24] = '\0';
}

void tide_audit_add(struct tide_audit *a, double now, int64_t actor, struct tide_http_str tenant,
                    const char *action, const char *resource)
{
    if (a->ring == NULL && (a->ring = calloc(TIDE_AUDIT_CAP, sizeof *a->ring)) == NULL)
        return; /* no memory: the record is lost, the server goes on */
    struct record *r;
    if (a->n == TIDE_AUDIT_CAP) {
        r = &a->ring[a->head];
        a->head = (a->head + 1) % TIDE_AUDIT_CAP;
    } else {
        r = &a->ring[(a->head + a->n++) % TIDE_AUDIT_CAP];
    }
    r->seq = a->next_seq++;
    r->actor = actor;
    r->action = action;
    tide_audit_timestamp(now, r->time);
    size_t tn = tenant.n < TIDE_AUDIT_TENANT ? tenant.n : TIDE_AUDIT_TENANT;
    memcpy(r->tenant, tenant.p, tn);
    r->tenant[tn] = '\0';
    snprintf(r->resource, sizeof r->resource, "%s", resource);
}

static int bad(struct tide_buf *out, const char *field, const char *msg)
{
    tide_buf_printf(out, "{\"error\":\"%s\",\"field\":\"%s\"}", msg, field);
    return 422;
}

/* A decimal number making up all of s (at most 18 digits), or -1. */
static int64_t decimal(struct tide_http_str s)
{
    return tide_http_decimal(s, INT64_MAX);
}

/* A UTC time "YYYY-MM-DDTHH:MM:SS[.fff]Z", percent-decoded, as the prefix records compare with;
 * false when it is not one. */
static bool since_time(struct tide_http_str raw, char *buf, size_t cap)
{
    long n = tide_http_unescape(raw.p, raw.n, buf, cap);
    if (n < 20 || n > 24 || buf[n - 1] != 'Z')
        return false;
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        bool digit = buf[i] >= '0' && buf[i] <= '9';
        if (shape[i] == 'd' ? !digit : buf[i] != shape[i])
            return false;
    }
    buf[n - 1] = '\0'; /* "...:SS" or "...:SS.fff": compared as a prefix-ordered string */
    return true;
}

int tide_audit_query(const struct tide_audit *a, struct tide_http_str tenant,
                     struct tide_http_str query, struct tide_buf *out)
{
    struct tide_http_str raw;
    uint64_t after = 0;
    char when[32] = "";
    int64_t actor = -1, limit = TIDE_AUDIT_PAGE;
    if (tide_http_query_get(query, "since", &raw) && raw.n > 0) {
        int64_t n = decimal(raw);
        if (n >= 0)
            after = (uint64_t)n;
        else if (!since_time(raw, when, sizeof when))
            return bad(out, "since",
                       "since must be a sequence number or a UTC time like 2025-01-31T12:00:00Z");
    }
    if (tide_http_query_get(query, "actor", &raw) && (actor = decimal(raw)) < 0)
        return bad(out, "actor", "actor must be a user id");
    if (tide_http_query_get(query, "limit", &raw)) {
        limit = decimal(raw);
        if (limit < 1)
            return bad(out, "limit", "limit must be a positive integer");
        if (limit > TIDE_AUDIT_PAGE_MAX)
            limit = TIDE_AUDIT_PAGE_MAX;
    }
    uint64_t oldest = a->n > 0 ? a->ring[a->head].seq : a->next_seq;
    size_t from = after >= oldest ? (size_t)(after - oldest + 1) : 0;
    uint64_t next = after;
    int64_t shown = 0;
    tide_buf_puts(out, "{\"items\":[");
    for (size_t i = from; i < a->n && shown < limit; i++) {
        const struct record *r = &a->ring[(a->head + i) % TIDE_AUDIT_CAP];
        next = r->seq; /* the cursor passes records of other tenants too */
        if (strlen(r->tenant) != tenant.n || memcmp(r->tenant, tenant.p, tenant.n) != 0)
            continue;
        if ((actor >= 0 && r->actor != actor) || (when[0] && strcmp(r->time, when) < 0))
            continue;
        tide_buf_printf(out,
                        "%s{\"seq\":%llu,\"time\":\"%s\",\"actor\":%lld,\"action\":\"%s\","
                        "\"resource\":",
                        shown++ > 0 ? "," : "", (unsigned long long)r->seq, r->time,
                        (long long)r->actor, r->action);
        tide_store_buf_json(out, r->resource, strlen(r->resource));
        tide_buf_puts(out, ",\"tenant\":");
        tide_store_buf_json(out, r->tenant, strlen(r->tenant));
        tide_buf_puts(out, "}");
    }
    tide_buf_printf(out, "],\"next\":%llu,\"oldest\":%llu,\"dropped\":%llu}",
                    (unsigned long long)next, (unsigned long long)oldest,
                    (unsigned long long)(oldest - 1));
    return 200;
}
