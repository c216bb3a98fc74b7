/* target.c: 'tide target', the built-in reference API: a libev HTTP/1.1 server on loopback
 * (keep-alive, pipelining, all ready responses in one send), its routes, the /_stats counters,
 * fault injection and the 'tide target' command. The /api data lives in target_store.c; the
 * wire format in target_http.c.
 *
 * A connection answers its requests in order. A response that must wait (a delay, a stall, a
 * slow body) is written into the output buffer at once, but only the bytes before it may be
 * sent; the connection reads no further request until its timer releases it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cJSON.h>
#include <ev.h>
#include "compress.h"
#include "duration.h"
#include "hdr.h"
#include "http1_parse.h"
#include "target.h"
#include "target_fault.h"
#include "target_http.h"
#include "target_store.h"

#define IN_START     4096      /* input buffer of a connection, grown as needed */
#define HEAD_MAX     65536     /* request line and headers; beyond: 431 */
#define OUT_HIGH     (1 << 20) /* no new request while this much output is unsent */
#define BUF_KEEP     (1 << 20) /* larger buffers are freed once empty */
#define DRAIN_S      1.0       /* after our last response, read and discard this long */
#define SLOW_CHUNKS  10        /* a slowed body goes out in this many pieces */
#define DELAY_MAX_MS 60000
#define BYTES_MAX    (16 << 20)
#define REDIRECT_MAX 100
#define STALL_MAX_S  120.0 /* a stalled fault answer (/_fault/stall) is given up after this */
#define RESET_AFTER  0.05  /* /_fault/reset: the RST follows the partial body after this */

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Routes, as /_stats names them. Those from R_STATS on are control routes: not counted, no
 * faults. */
enum route {
    R_UNMATCHED,
    R_HEALTH,
    R_ECHO,
    R_DELAY,
    R_DELAY_MS,
    R_STATUS,
    R_REDIRECT,
    R_COOKIES,
    R_COOKIES_SET,
    R_BYTES,
    R_GZIP,
    R_DEFLATE,
    R_LOGIN,
    R_LOGOUT,
    R_PROJECTS,
    R_PROJECT,
    R_SEARCH,
    R_USERS,
    R_USERS_IMPORT,
    R_USER,
    R_USER_EXPORT,
    R_AUDIT,
    R_LIMITED,
    R_FAULT,
    R_STATS,
    R_STATS_RESET,
    R_FAULTS,
    R_COUNT
};

static const char *const route_names[R_COUNT] = {
    "(unmatched)",
    "/health",
    "/echo",
    "/delay",
    "/delay/{ms}",
    "/status/{code}",
    "/redirect/{n}",
    "/cookies",
    "/cookies/set",
    "/bytes/{n}",
    "/gzip/{n}",
    "/deflate/{n}",
    "/api/auth/login",
    "/api/auth/logout",
    "/api/projects",
    "/api/projects/{id}",
    "/api/search",
    "/api/users",
    "/api/users/import",
    "/api/users/{id}",
    "/api/users/{id}/export",
    "/api/audit",
    "/api/limited",
    "/_fault/{kind}",
    "/_stats",
    "/_stats/reset",
    "/_faults",
};

enum method { M_GET, M_HEAD, M_POST, M_PUT, M_PATCH, M_DELETE, M_OPTIONS, M_OTHER, M_COUNT };

static const char *const method_names[M_COUNT] = {"GET",   "HEAD",   "POST",    "PUT",
                                                  "PATCH", "DELETE", "OPTIONS", "OTHER"};

#define BIT(m) (1u << (m))

/* Methods each route answers; 0: any. */
static const unsigned route_methods[R_COUNT] = {
    [R_LOGIN] = BIT(M_POST),
    [R_LOGOUT] = BIT(M_POST),
    [R_PROJECTS] = BIT(M_GET) | BIT(M_POST),
    [R_PROJECT] = BIT(M_GET) | BIT(M_PUT) | BIT(M_PATCH) | BIT(M_DELETE),
    [R_SEARCH] = BIT(M_GET),
    [R_USERS] = BIT(M_GET) | BIT(M_POST),
    [R_USERS_IMPORT] = BIT(M_POST),
    [R_USER] = BIT(M_GET) | BIT(M_DELETE),
    [R_USER_EXPORT] = BIT(M_GET),
    [R_AUDIT] = BIT(M_GET),
    [R_LIMITED] = BIT(M_GET),
    [R_STATS] = BIT(M_GET),
    [R_STATS_RESET] = BIT(M_POST),
    [R_FAULTS] = BIT(M_GET) | BIT(M_POST) | BIT(M_DELETE),
};

#define STATUS_RESET     (-1)                 /* counted in place of a status: connection reset */
#define STATUS_MALFORMED (-2)                 /* garbage sent */
#define STATUS_NONE      TIDE_FAULT_NO_STATUS /* a fault answer without a status */

struct stat_hit {
    int status; /* or STATUS_RESET, STATUS_MALFORMED */
    uint64_t count;
};

struct stat_cell {
    int n, cap;
    struct stat_hit *v;
};

enum phase { T_NONE, T_DELAY, T_SLOW, T_DRAIN, T_STALL, T_RESET };

struct conn {
    ev_io io;
    ev_timer timer;
    struct tide_target *t;
    struct conn *prev, *next;
    int fd;
    int events; /* what 'io' watches */
    char *in;
    size_t in_len, in_cap;
    struct tide_buf out; /* responses; out.p[sent..limit) may be sent now */
    size_t sent, limit;
    size_t hold_body, hold_end; /* of the held response, the last in 'out' */
    double slow_s;              /* the held response's body is spread over this */
    size_t slow_step;
    enum phase phase;
    bool held;      /* a response waits for the timer: answer no further request */
    bool closing;   /* close once 'out' is sent */
    bool eof;       /* the client sent FIN */
    bool draining;  /* our side is shut: discard input until EOF or the timer */
    bool continued; /* '100 Continue' sent for the request at the front of 'in' */
    /* the request at in[req_at..]: the shared parser, its header lines, the bytes it has
     * read, the body bytes decoded to follow its head */
    struct tide_http1_parser parser;
    struct tide_http1_field fields[TIDE_HTTP_MAX_HEADERS];
    size_t req_at, fed, body_len;
    int64_t started_us; /* when the request being answered was parsed; 0: none */
};

struct tide_target {
    struct ev_loop *loop;
    ev_io accept_io;
    ev_async stop_async;
    ev_timer accept_retry;
    pthread_t thread;
    int lfd, port;
    size_t max_body;
    struct tide_store *store;
    struct tide_target_faults faults;
    bool faulty;         /* some fault is set */
    double faults_since; /* when they were set: the stall's phase */
    uint64_t rng[4];
    struct conn *conns;
    uint64_t live, conns_total;
    struct stat_cell cells[M_COUNT][R_COUNT];
    uint64_t total, bad;
    struct tide_hdr *service;  /* request parsed -> response fully written, µs: the truth that
                                  latency-accuracy tests compare a client's numbers with */
    struct tide_buf body, tmp; /* the body being built; scratch */
};

/* One request being answered. */
struct call {
    struct conn *c;
    const struct tide_http_req *req;
    const char *in; /* request body */
    size_t in_len;
    enum route route;
    enum method method;
    struct tide_http_str arg; /* the {...} path segment */
    int status;
    const char *type; /* Content-Type */
    const char *body; /* NULL: t->body */
    size_t body_len;
    char head[1024]; /* extra header lines */
    size_t head_len;
    double hold; /* seconds before the response may go */
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Randomness of the faults: xoshiro256**, seeded with splitmix64. */

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(struct tide_target *t)
{
    uint64_t *s = t->rng;
    uint64_t r = rotl(s[1] * 5, 7) * 9, x = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= x;
    s[3] = rotl(s[3], 45);
    return r;
}

static double rnd01(struct tide_target *t)
{
    return (double)(rnd(t) >> 11) * 0x1.0p-53;
}

static void rnd_seed(struct tide_target *t, uint64_t seed)
{
    if (seed == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
    }
    for (int i = 0; i < 4; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        t->rng[i] = z ^ (z >> 31);
    }
}

static bool hit(struct tide_target *t, double p)
{
    return p > 0 && rnd01(t) < p;
}

/* Faults: parsing and showing. */

static const char *const fault_names[] = {
    "delay",
    "delay-dist",
    "stall",
    "error-rate",
    "reset-rate",
    "slow-body",
    "malformed-rate",
    "drop-writes",
    "tenant-leak",
    /* the user routes' promises (docs/target.md#faults) */
    "leaky-erasure",
    "incomplete-export",
    "skip-audit",
    "broken-authz",
};

enum fault {
    F_DELAY,
    F_DIST,
    F_STALL,
    F_ERROR,
    F_RESET,
    F_SLOW,
    F_MALFORMED,
    F_DROP,
    F_LEAK,
    F_LEAKY_ERASURE,
    F_INCOMPLETE_EXPORT,
    F_SKIP_AUDIT,
    F_BROKEN_AUTHZ,
};

#define N_FAULTS ((int)(sizeof fault_names / sizeof fault_names[0]))

/* The index of a fault name ('_' and '-' alike), or -1. */
static int fault_index(const char *name)
{
    char key[32];
    size_t n = strlen(name);
    if (n >= sizeof key)
        return -1;
    for (size_t i = 0; i <= n; i++)
        key[i] = name[i] == '_' ? '-' : name[i];
    for (int i = 0; i < N_FAULTS; i++) {
        if (strcmp(key, fault_names[i]) == 0)
            return i;
    }
    return -1;
}

static int parse_rate(const char *name, const char *v, double *out, struct tide_err *err)
{
    char *end;
    double p = strtod(v, &end);
    if (end == v || *end != '\0' || !(p >= 0 && p <= 1))
        return tide_err_set(err, "%s \"%s\": expected a probability from 0 to 1, e.g. 0.05", name,
                            v);
    *out = p;
    return 0;
}

static int parse_dur(const char *name, const char *v, int64_t *us, struct tide_err *err)
{
    struct tide_err e;
    if (tide_duration_parse(v, us, &e) < 0)
        return tide_err_set(err, "%s: %s", name, e.msg);
    return 0;
}

static bool is_off(const char *v)
{
    return strcmp(v, "none") == 0 || strcmp(v, "off") == 0 || strcmp(v, "0") == 0;
}

/* Splits 'v' (copied into buf) at 'sep' into at most 'max' parts; the count. */
static int split(const char *v, char sep, char *buf, size_t size, char **parts, int max)
{
    snprintf(buf, size, "%s", v);
    int n = 0;
    char *p = buf;
    while (n < max) {
        parts[n++] = p;
        p = strchr(p, sep);
        if (p == NULL)
            return n;
        *p++ = '\0';
    }
    return max + 1;
}

static int parse_dist(struct tide_target_faults *f, const char *name, const char *v,
                      struct tide_err *err)
{
    char buf[128], *a[4];
    int n = split(v, ':', buf, sizeof buf, a, 4);
    struct tide_target_faults g = *f;
    int rc = -1;
    g.dist_p = 0;
    g.dist_b_us = 0;
    if (is_off(v)) {
        g.dist = TIDE_TARGET_DIST_NONE;
        g.dist_a_us = 0;
        rc = 0;
    } else if (strcmp(a[0], "uniform") == 0 && n == 3) {
        g.dist = TIDE_TARGET_DIST_UNIFORM;
        rc = parse_dur(name, a[1], &g.dist_a_us, err) || parse_dur(name, a[2], &g.dist_b_us, err);
        if (rc == 0 && g.dist_a_us > g.dist_b_us)
            return tide_err_set(err, "%s \"%s\": MIN is above MAX", name, v);
    } else if (strcmp(a[0], "exp") == 0 && n == 2) {
        g.dist = TIDE_TARGET_DIST_EXP;
        rc = parse_dur(name, a[1], &g.dist_a_us, err);
    } else if (strcmp(a[0], "bimodal") == 0 && n == 4) {
        g.dist = TIDE_TARGET_DIST_BIMODAL;
        rc = parse_rate(name, a[1], &g.dist_p, err) || parse_dur(name, a[2], &g.dist_a_us, err) ||
             parse_dur(name, a[3], &g.dist_b_us, err);
    } else {
        return tide_err_set(err,
                            "%s \"%s\": expected uniform:MIN:MAX, exp:MEAN or bimodal:P:FAST:SLOW "
                            "(e.g. bimodal:0.9:10ms:200ms)",
                            name, v);
    }
    if (rc != 0)
        return -1;
    *f = g;
    return 0;
}

static int parse_stall(struct tide_target_faults *f, const char *name, const char *v,
                       struct tide_err *err)
{
    char buf[128], *a[2];
    int64_t d, every;
    if (is_off(v)) {
        f->stall_for_us = f->stall_every_us = 0;
        return 0;
    }
    if (split(v, '/', buf, sizeof buf, a, 2) != 2)
        return tide_err_set(err, "%s \"%s\": expected FOR/EVERY, e.g. 1s/5s", name, v);
    if (parse_dur(name, a[0], &d, err) < 0 || parse_dur(name, a[1], &every, err) < 0)
        return -1;
    if (d <= 0 || every <= d)
        return tide_err_set(err, "%s \"%s\": FOR must be above 0 and below EVERY", name, v);
    f->stall_for_us = d;
    f->stall_every_us = every;
    return 0;
}

static int parse_rule(struct tide_target_faults *f, const char *name, const char *v,
                      struct tide_err *err)
{
    struct tide_target_error_rule r = {.status = 500, .route = "*"};
    char buf[128];
    snprintf(buf, sizeof buf, "%s", v);
    char *rest = strchr(buf, ':');
    if (rest != NULL)
        *rest++ = '\0';
    if (parse_rate(name, buf, &r.rate, err) < 0)
        return -1;
    if (rest != NULL && rest[0] >= '0' && rest[0] <= '9') {
        char *end;
        long st = strtol(rest, &end, 10);
        if ((*end != '\0' && *end != ':') || st < 400 || st > 599)
            return tide_err_set(err, "%s \"%s\": expected a status from 400 to 599 after the rate",
                                name, v);
        r.status = (int)st;
        rest = *end == ':' ? end + 1 : NULL;
    }
    if (rest != NULL && (rest[0] == '\0' || strlen(rest) >= sizeof r.route))
        return tide_err_set(err, "%s \"%s\": expected RATE[:STATUS][:ROUTE], e.g. 0.1:503:/api/*",
                            name, v);
    if (rest != NULL)
        snprintf(r.route, sizeof r.route, "%s", rest);
    if (f->n_errors == TIDE_TARGET_ERROR_RULES)
        return tide_err_set(err, "%s: at most %d rules", name, TIDE_TARGET_ERROR_RULES);
    f->errors[f->n_errors++] = r;
    return 0;
}

static int parse_bool(const char *name, const char *v, bool *out, struct tide_err *err)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "on") == 0) {
        *out = true;
        return 0;
    }
    if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "off") == 0) {
        *out = false;
        return 0;
    }
    return tide_err_set(err, "%s \"%s\": expected true or false", name, v);
}

static void fault_clear(struct tide_target_faults *f, enum fault which)
{
    switch (which) {
    case F_DELAY:
        f->delay_us = 0;
        break;
    case F_DIST:
        f->dist = TIDE_TARGET_DIST_NONE;
        f->dist_a_us = f->dist_b_us = 0;
        f->dist_p = 0;
        break;
    case F_STALL:
        f->stall_for_us = f->stall_every_us = 0;
        break;
    case F_ERROR:
        f->n_errors = 0;
        break;
    case F_RESET:
        f->reset_rate = 0;
        break;
    case F_SLOW:
        f->slow_body_us = 0;
        break;
    case F_MALFORMED:
        f->malformed_rate = 0;
        break;
    case F_DROP:
        f->drop_writes = false;
        break;
    case F_LEAK:
        f->tenant_leak = false;
        break;
    case F_LEAKY_ERASURE:
        f->leaky_erasure = false;
        break;
    case F_INCOMPLETE_EXPORT:
        f->incomplete_export = false;
        break;
    case F_SKIP_AUDIT:
        f->skip_audit = false;
        break;
    case F_BROKEN_AUTHZ:
        f->broken_authz = false;
        break;
    }
}

int tide_target_faults_set(struct tide_target_faults *f, const char *name, const char *value,
                           struct tide_err *err)
{
    int i = fault_index(name);
    if (i < 0)
        return tide_err_set(err,
                            "unknown fault '%s' (one of delay, delay-dist, stall, "
                            "error-rate, reset-rate, slow-body, malformed-rate, drop-writes, "
                            "tenant-leak, leaky-erasure, incomplete-export, skip-audit, "
                            "broken-authz)",
                            name);
    if (value == NULL) {
        fault_clear(f, (enum fault)i);
        return 0;
    }
    switch ((enum fault)i) {
    case F_DELAY:
        return parse_dur(name, value, &f->delay_us, err);
    case F_DIST:
        return parse_dist(f, name, value, err);
    case F_STALL:
        return parse_stall(f, name, value, err);
    case F_ERROR:
        return parse_rule(f, name, value, err);
    case F_RESET:
        return parse_rate(name, value, &f->reset_rate, err);
    case F_SLOW:
        return parse_dur(name, value, &f->slow_body_us, err);
    case F_MALFORMED:
        return parse_rate(name, value, &f->malformed_rate, err);
    case F_DROP:
        return parse_bool(name, value, &f->drop_writes, err);
    case F_LEAK:
        return parse_bool(name, value, &f->tenant_leak, err);
    case F_LEAKY_ERASURE:
        return parse_bool(name, value, &f->leaky_erasure, err);
    case F_INCOMPLETE_EXPORT:
        return parse_bool(name, value, &f->incomplete_export, err);
    case F_SKIP_AUDIT:
        return parse_bool(name, value, &f->skip_audit, err);
    case F_BROKEN_AUTHZ:
        return parse_bool(name, value, &f->broken_authz, err);
    }
    return 0;
}

static bool faults_any(const struct tide_target_faults *f)
{
    return f->delay_us > 0 || f->dist != TIDE_TARGET_DIST_NONE || f->stall_every_us > 0 ||
           f->n_errors > 0 || f->reset_rate > 0 || f->slow_body_us > 0 || f->malformed_rate > 0 ||
           f->drop_writes || f->tenant_leak || f->leaky_erasure || f->incomplete_export ||
           f->skip_audit || f->broken_authz;
}

static void fmt_dur(int64_t us, char *buf, size_t n)
{
    if (us % 1000 == 0)
        snprintf(buf, n, "%lldms", (long long)(us / 1000));
    else
        snprintf(buf, n, "%lldus", (long long)us);
}

static void json_dur(struct tide_buf *b, const char *key, int64_t us)
{
    char d[32];
    fmt_dur(us, d, sizeof d);
    if (us > 0)
        tide_buf_printf(b, "\"%s\":\"%s\",", key, d);
    else
        tide_buf_printf(b, "\"%s\":null,", key);
}

/* The faults in the form POST /_faults takes. */
static void faults_json(const struct tide_target_faults *f, struct tide_buf *b)
{
    char a[32], c[32];
    tide_buf_puts(b, "{");
    json_dur(b, "delay", f->delay_us);
    fmt_dur(f->dist_a_us, a, sizeof a);
    fmt_dur(f->dist_b_us, c, sizeof c);
    if (f->dist == TIDE_TARGET_DIST_UNIFORM)
        tide_buf_printf(b, "\"delay_dist\":\"uniform:%s:%s\",", a, c);
    else if (f->dist == TIDE_TARGET_DIST_EXP)
        tide_buf_printf(b, "\"delay_dist\":\"exp:%s\",", a);
    else if (f->dist == TIDE_TARGET_DIST_BIMODAL)
        tide_buf_printf(b, "\"delay_dist\":\"bimodal:%.6g:%s:%s\",", f->dist_p, a, c);
    else
        tide_buf_puts(b, "\"delay_dist\":null,");
    fmt_dur(f->stall_for_us, a, sizeof a);
    fmt_dur(f->stall_every_us, c, sizeof c);
    if (f->stall_every_us > 0)
        tide_buf_printf(b, "\"stall\":\"%s/%s\",", a, c);
    else
        tide_buf_puts(b, "\"stall\":null,");
    tide_buf_puts(b, "\"error_rate\":[");
    for (int i = 0; i < f->n_errors; i++) {
        tide_buf_printf(b, "%s\"%.6g:%d:", i ? "," : "", f->errors[i].rate, f->errors[i].status);
        tide_buf_add(b, f->errors[i].route, strlen(f->errors[i].route));
        tide_buf_puts(b, "\"");
    }
    tide_buf_printf(b, "],\"reset_rate\":%.6g,", f->reset_rate);
    json_dur(b, "slow_body", f->slow_body_us);
    tide_buf_printf(b, "\"malformed_rate\":%.6g,\"drop_writes\":%s,\"tenant_leak\":%s",
                    f->malformed_rate, f->drop_writes ? "true" : "false",
                    f->tenant_leak ? "true" : "false");
    tide_buf_printf(b,
                    ",\"leaky_erasure\":%s,\"incomplete_export\":%s,\"skip_audit\":%s,"
                    "\"broken_authz\":%s}",
                    f->leaky_erasure ? "true" : "false", f->incomplete_export ? "true" : "false",
                    f->skip_audit ? "true" : "false", f->broken_authz ? "true" : "false");
}

/* One member of a POST /_faults object, as its command-line text. */
static int fault_member(struct tide_target_faults *f, const cJSON *m, struct tide_err *err)
{
    char num[64];
    const char *v = NULL;
    if (cJSON_IsString(m)) {
        v = m->valuestring;
    } else if (cJSON_IsNumber(m)) {
        snprintf(num, sizeof num, "%.17g", m->valuedouble);
        v = num;
    } else if (cJSON_IsBool(m)) {
        v = cJSON_IsTrue(m) ? "true" : "false";
    } else if (!cJSON_IsNull(m)) {
        return tide_err_set(err, "%s: expected a string, a number, true, false or null", m->string);
    }
    return tide_target_faults_set(f, m->string, v, err);
}

/* Merges a POST /_faults body into 'f': members set faults, null clears one; "error_rate"
 * replaces the rules with a string or a list of strings. */
static int faults_post(struct tide_target_faults *f, const char *body, size_t len,
                       struct tide_err *err)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    struct tide_target_faults g = *f;
    int rc = cJSON_IsObject(root) ? 0 : tide_err_set(err, "expected a JSON object of faults");
    const cJSON *m;
    for (m = root != NULL ? root->child : NULL; rc == 0 && m != NULL; m = m->next) {
        int i = fault_index(m->string);
        if (i == F_ERROR)
            g.n_errors = 0;
        if (i != F_ERROR || !cJSON_IsArray(m)) {
            rc = fault_member(&g, m, err);
            continue;
        }
        const cJSON *r;
        cJSON_ArrayForEach(r, m)
        {
            if (rc == 0 && !cJSON_IsString(r))
                rc = tide_err_set(err, "%s: expected a list of strings", m->string);
            if (rc == 0)
                rc = tide_target_faults_set(&g, m->string, r->valuestring, err);
        }
    }
    cJSON_Delete(root);
    if (rc == 0)
        *f = g;
    return rc;
}

static void faults_apply(struct tide_target *t, const struct tide_target_faults *f)
{
    t->faults = *f;
    t->faulty = faults_any(f);
    t->faults_since = ev_now(t->loop);
    struct tide_store_faults sf = {f->leaky_erasure, f->incomplete_export, f->skip_audit,
                                   f->broken_authz};
    tide_store_set_faults(t->store, &sf);
}

/* Seconds to hold a response: fixed and random delay, plus the rest of a stall. */
static double fault_delay(struct tide_target *t)
{
    const struct tide_target_faults *f = &t->faults;
    double d = (double)f->delay_us, a = (double)f->dist_a_us, b = (double)f->dist_b_us;
    if (f->dist == TIDE_TARGET_DIST_UNIFORM)
        d += a + (b - a) * rnd01(t);
    else if (f->dist == TIDE_TARGET_DIST_EXP)
        d += -a * log(1.0 - rnd01(t));
    else if (f->dist == TIDE_TARGET_DIST_BIMODAL)
        d += rnd01(t) < f->dist_p ? a : b;
    d /= 1e6;
    if (f->stall_every_us > 0) {
        double since = ev_now(t->loop) - t->faults_since;
        double every = (double)f->stall_every_us / 1e6, len = (double)f->stall_for_us / 1e6;
        double phase = fmod(since, every);
        if (since >= every && phase < len)
            d += len - phase;
    }
    return d;
}

static bool rule_matches(const struct tide_target_error_rule *r, enum method m, enum route route)
{
    const char *pat = r->route, *space = strchr(pat, ' ');
    if (strcmp(pat, "*") == 0)
        return true;
    if (space != NULL) {
        size_t n = (size_t)(space - pat);
        if (strlen(method_names[m]) != n || memcmp(method_names[m], pat, n) != 0)
            return false;
        pat = space + 1;
    }
    size_t n = strlen(pat);
    if (n > 0 && pat[n - 1] == '*')
        return strncmp(route_names[route], pat, n - 1) == 0;
    return strcmp(route_names[route], pat) == 0;
}

/* Counters. */

static void count(struct tide_target *t, enum method m, enum route r, int status)
{
    struct stat_cell *c = &t->cells[m][r];
    t->total++;
    for (int i = 0; i < c->n; i++) {
        if (c->v[i].status == status) {
            c->v[i].count++;
            return;
        }
    }
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 4;
        struct stat_hit *v = realloc(c->v, (size_t)cap * sizeof *v);
        if (v == NULL)
            return;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = (struct stat_hit){status, 1};
}

static void stats_clear(struct tide_target *t)
{
    for (int m = 0; m < M_COUNT; m++) {
        for (int r = 0; r < R_COUNT; r++) {
            free(t->cells[m][r].v);
            t->cells[m][r] = (struct stat_cell){0};
        }
    }
    t->total = t->bad = 0;
    if (t->service != NULL)
        tide_hdr_reset(t->service);
}

static void stats_json(struct tide_target *t, struct tide_buf *b)
{
    bool first = true;
    tide_buf_puts(b, "{\"requests\":{");
    for (int m = 0; m < M_COUNT; m++) {
        for (int r = 0; r < R_COUNT; r++) {
            const struct stat_cell *c = &t->cells[m][r];
            if (c->n == 0)
                continue;
            tide_buf_printf(b, "%s\"%s %s\":{", first ? "" : ",", method_names[m], route_names[r]);
            first = false;
            for (int i = 0; i < c->n; i++) {
                int st = c->v[i].status;
                const char *sep = i > 0 ? "," : "";
                unsigned long long n = (unsigned long long)c->v[i].count;
                if (st == STATUS_RESET)
                    tide_buf_printf(b, "%s\"reset\":%llu", sep, n);
                else if (st == STATUS_MALFORMED)
                    tide_buf_printf(b, "%s\"malformed\":%llu", sep, n);
                else if (st == STATUS_NONE)
                    tide_buf_printf(b, "%s\"none\":%llu", sep, n);
                else
                    tide_buf_printf(b, "%s\"%d\":%llu", sep, st, n);
            }
            tide_buf_puts(b, "}");
        }
    }
    tide_buf_printf(b, "},\"total_requests\":%llu,\"bad_requests\":%llu,",
                    (unsigned long long)t->total, (unsigned long long)t->bad);
    tide_buf_puts(b, "\"items_per_tenant\":");
    tide_store_tenants_json(t->store, b);
    tide_buf_printf(b, ",\"connections\":{\"live\":%llu,\"total\":%llu}",
                    (unsigned long long)t->live, (unsigned long long)t->conns_total);
    const struct tide_hdr *h = t->service;
    tide_buf_printf(b,
                    ",\"service_ms\":{\"count\":%llu,\"p50\":%.3f,\"p95\":%.3f,"
                    "\"p99\":%.3f,\"max\":%.3f}}",
                    (unsigned long long)tide_hdr_count(h), (double)tide_hdr_percentile(h, 50) / 1e3,
                    (double)tide_hdr_percentile(h, 95) / 1e3,
                    (double)tide_hdr_percentile(h, 99) / 1e3, (double)tide_hdr_max(h) / 1e3);
}

/* Routing. */

static enum route route_of(struct tide_http_str path, struct tide_http_str *arg)
{
    static const struct {
        const char *path;
        enum route route;
    } exact[] = {
        {"/health", R_HEALTH},
        {"/echo", R_ECHO},
        {"/delay", R_DELAY},
        {"/cookies", R_COOKIES},
        {"/cookies/set", R_COOKIES_SET},
        {"/api/auth/login", R_LOGIN},
        {"/api/auth/logout", R_LOGOUT},
        {"/api/projects", R_PROJECTS},
        {"/api/search", R_SEARCH},
        {"/api/users", R_USERS},
        {"/api/users/import", R_USERS_IMPORT},
        {"/api/audit", R_AUDIT},
        {"/api/limited", R_LIMITED},
        {"/_stats", R_STATS},
        {"/_stats/reset", R_STATS_RESET},
        {"/_faults", R_FAULTS},
    };
    static const struct {
        const char *prefix;
        enum route route;
    } one_segment[] = {
        {"/delay/", R_DELAY_MS},       {"/status/", R_STATUS},
        {"/redirect/", R_REDIRECT},    {"/bytes/", R_BYTES},
        {"/api/projects/", R_PROJECT}, {"/api/users/", R_USER},
        {"/_fault/", R_FAULT},         {"/gzip/", R_GZIP},
        {"/deflate/", R_DEFLATE},
    };
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        if (path.n == strlen(exact[i].path) && memcmp(path.p, exact[i].path, path.n) == 0)
            return exact[i].route;
    }
    if (path.n > 6 && memcmp(path.p, "/echo/", 6) == 0)
        return R_ECHO;
    static const char user_prefix[] = "/api/users/", export_suffix[] = "/export";
    size_t pn = sizeof user_prefix - 1, sn = sizeof export_suffix - 1;
    if (path.n > pn + sn && memcmp(path.p, user_prefix, pn) == 0 &&
        memcmp(path.p + path.n - sn, export_suffix, sn) == 0 &&
        memchr(path.p + pn, '/', path.n - pn - sn) == NULL) {
        *arg = (struct tide_http_str){path.p + pn, path.n - pn - sn};
        return R_USER_EXPORT;
    }
    for (size_t i = 0; i < sizeof one_segment / sizeof one_segment[0]; i++) {
        size_t n = strlen(one_segment[i].prefix);
        if (path.n > n && memcmp(path.p, one_segment[i].prefix, n) == 0 &&
            memchr(path.p + n, '/', path.n - n) == NULL) {
            *arg = (struct tide_http_str){path.p + n, path.n - n};
            return one_segment[i].route;
        }
    }
    return R_UNMATCHED;
}

static enum method method_of(struct tide_http_str m)
{
    for (int i = 0; i < M_OTHER; i++) {
        if (m.n == strlen(method_names[i]) && memcmp(m.p, method_names[i], m.n) == 0)
            return (enum method)i;
    }
    return M_OTHER;
}

/* A decimal number in [0, max] making up all of 's', or -1. */
static long number(struct tide_http_str s, long max)
{
    return s.n > 9 ? -1 : (long)tide_http_decimal(s, max);
}

/* Responses under construction. */

static void header(struct call *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void header(struct call *k, const char *fmt, ...)
{
    size_t room = sizeof k->head - k->head_len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(k->head + k->head_len, room, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n + 2 < room) {
        memcpy(k->head + k->head_len + n, "\r\n", 2);
        k->head_len += (size_t)n + 2;
    }
}

static void reply(struct call *k, int status, const char *json)
{
    k->status = status;
    k->body = json;
    k->body_len = strlen(json);
}

/* An error body {"error": msg} built in t->body. */
static void reply_error(struct call *k, int status, const char *msg)
{
    struct tide_buf *b = &k->c->t->body;
    k->status = status;
    tide_buf_puts(b, "{\"error\":");
    tide_store_buf_json(b, msg, strlen(msg));
    tide_buf_puts(b, "}");
}

/* Writes the response into c->out; its body starts at *body_at. */
static void respond(struct conn *c, struct call *k, size_t *body_at)
{
    struct tide_buf *out = &c->out;
    const char *body = k->body != NULL ? k->body : c->t->body.data;
    size_t n = k->body != NULL ? k->body_len : c->t->body.len;
    bool bodiless = k->status == 204 || k->status == 304;
    bool close = k->req == NULL || !k->req->keep_alive;
    char head[256];
    int len =
        snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n", k->status, tide_http_reason(k->status));
    if (!bodiless)
        len += snprintf(head + len, sizeof head - (size_t)len,
                        "Content-Type: %s\r\nContent-Length: %zu\r\n", k->type, n);
    if (close)
        len += snprintf(head + len, sizeof head - (size_t)len, "Connection: close\r\n");
    else if (k->req->minor_version == 0)
        len += snprintf(head + len, sizeof head - (size_t)len, "Connection: keep-alive\r\n");
    tide_buf_reserve(out, (size_t)len + k->head_len + 2 + n);
    tide_buf_add(out, head, (size_t)len);
    tide_buf_add(out, k->head, k->head_len);
    tide_buf_add(out, "\r\n", 2);
    *body_at = out->len;
    if (!bodiless && k->method != M_HEAD)
        tide_buf_add(out, body, n);
    if (close)
        c->closing = true;
}

/* Answers a request that could not be parsed or accepted, and closes. */
static int refuse(struct conn *c, int status, const char *msg)
{
    struct call k = {.c = c, .type = "application/json", .method = M_OTHER};
    size_t body_at;
    c->t->body.len = 0;
    c->t->bad++;
    reply_error(&k, status, msg);
    respond(c, &k, &body_at);
    if (!c->held)
        c->limit = c->out.len;
    return 0;
}

/* Test routes. */

static void route_echo(struct call *k)
{
    struct tide_target *t = k->c->t;
    struct tide_buf *b = &t->body;
    const struct tide_http_req *req = k->req;
    tide_buf_puts(b, "{\"method\":");
    tide_store_buf_json(b, req->method.p, req->method.n);
    tide_buf_puts(b, ",\"path\":");
    tide_store_buf_json(b, req->path.p, req->path.n);
    tide_buf_puts(b, ",\"query\":");
    tide_store_buf_json(b, req->query.p, req->query.n);
    tide_buf_puts(b, ",\"args\":{");
    struct tide_http_str rest = req->query, name, value;
    bool first = true;
    while (tide_http_pair_next(&rest, '&', &name, &value)) {
        t->tmp.len = 0;
        tide_buf_reserve(&t->tmp, name.n + value.n + 1);
        long kn = tide_http_unescape(name.p, name.n, t->tmp.data, t->tmp.cap);
        long vn = kn >= 0 ? tide_http_unescape(value.p, value.n, t->tmp.data + kn,
                                               t->tmp.cap - (size_t)kn)
                          : -1;
        if (vn < 0 || t->tmp.failed)
            continue;
        tide_buf_puts(b, first ? "" : ",");
        first = false;
        tide_store_buf_json(b, t->tmp.data, (size_t)kn);
        tide_buf_puts(b, ":");
        tide_store_buf_json(b, t->tmp.data + kn, (size_t)vn);
    }
    tide_buf_puts(b, "},\"headers\":{");
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct tide_http_header *h = &req->headers[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = h->name.n == req->headers[j].name.n &&
                   strncasecmp(h->name.p, req->headers[j].name.p, h->name.n) == 0;
        if (seen)
            continue;
        t->tmp.len = 0;
        for (size_t j = 0; j < h->name.n; j++) {
            char ch = h->name.p[j];
            ch = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
            tide_buf_add(&t->tmp, &ch, 1);
        }
        size_t name_len = t->tmp.len;
        for (size_t j = i; j < req->n_headers; j++) {
            const struct tide_http_header *o = &req->headers[j];
            if (o->name.n != h->name.n || strncasecmp(o->name.p, h->name.p, h->name.n) != 0)
                continue;
            if (t->tmp.len > name_len)
                tide_buf_add(&t->tmp, ", ", 2);
            tide_buf_add(&t->tmp, o->value.p, o->value.n);
        }
        tide_buf_puts(b, i > 0 ? "," : "");
        tide_store_buf_json(b, t->tmp.data, name_len);
        tide_buf_puts(b, ":");
        tide_store_buf_json(b, t->tmp.data + name_len, t->tmp.len - name_len);
    }
    tide_buf_puts(b, "},\"body\":");
    tide_store_buf_json(b, k->in, k->in_len);
    tide_buf_printf(b, ",\"body_length\":%zu}", k->in_len);
    k->status = 200;
}

static void route_delay(struct call *k)
{
    struct tide_http_str ms = k->arg;
    if (k->route == R_DELAY && !tide_http_query_get(k->req->query, "ms", &ms))
        ms.n = 0;
    long n = number(ms, DELAY_MAX_MS);
    if (n < 0) {
        reply_error(k, 400, "delay: expected /delay/MS or /delay?ms=MS with MS from 0 to 60000");
        return;
    }
    k->hold = (double)n / 1000.0;
    k->status = 200;
    tide_buf_printf(&k->c->t->body, "{\"delay_ms\":%ld}", n);
}

static void route_status(struct call *k)
{
    long n = number(k->arg, 599);
    if (n < 200) {
        reply_error(k, 400, "status: expected /status/CODE with CODE from 200 to 599");
        return;
    }
    k->status = (int)n;
    tide_buf_printf(&k->c->t->body, "{\"status\":%ld}", n);
}

static void route_redirect(struct call *k)
{
    long n = number(k->arg, REDIRECT_MAX);
    if (n < 0) {
        reply_error(k, 400, "redirect: expected /redirect/N with N from 0 to 100");
    } else if (n == 0) {
        reply(k, 200, "{\"redirects\":\"done\"}");
    } else {
        header(k, "Location: /redirect/%ld", n - 1);
        tide_buf_printf(&k->c->t->body, "{\"location\":\"/redirect/%ld\"}", n - 1);
        k->status = 302;
    }
}

static void route_cookies(struct call *k)
{
    struct tide_buf *b = &k->c->t->body;
    bool first = true;
    tide_buf_puts(b, "{\"cookies\":{");
    for (size_t i = 0; i < k->req->n_headers; i++) {
        const struct tide_http_header *h = &k->req->headers[i];
        if (h->name.n != 6 || strncasecmp(h->name.p, "cookie", 6) != 0)
            continue;
        struct tide_http_str rest = h->value, name, value;
        while (tide_http_pair_next(&rest, ';', &name, &value)) {
            tide_buf_puts(b, first ? "" : ",");
            first = false;
            tide_store_buf_json(b, name.p, name.n);
            tide_buf_puts(b, ":");
            tide_store_buf_json(b, value.p, value.n);
        }
    }
    tide_buf_puts(b, "}}");
    k->status = 200;
}

static void route_cookies_set(struct call *k)
{
    struct tide_buf *b = &k->c->t->body;
    struct tide_http_str rest = k->req->query, name, value;
    bool first = true;
    tide_buf_puts(b, "{\"cookies\":{");
    while (tide_http_pair_next(&rest, '&', &name, &value)) {
        if (name.n == 0 || memchr(value.p, ';', value.n) != NULL)
            continue;
        header(k, "Set-Cookie: %.*s=%.*s; Path=/", (int)name.n, name.p, (int)value.n, value.p);
        tide_buf_puts(b, first ? "" : ",");
        first = false;
        tide_store_buf_json(b, name.p, name.n);
        tide_buf_puts(b, ":");
        tide_store_buf_json(b, value.p, value.n);
    }
    tide_buf_puts(b, "}}");
    k->status = 200;
}

static void route_bytes(struct call *k)
{
    struct tide_buf *b = &k->c->t->body;
    long n = number(k->arg, BYTES_MAX);
    if (n < 0) {
        reply_error(k, 400, "bytes: expected /bytes/N with N from 0 to 16777216");
        return;
    }
    if (!tide_buf_reserve(b, (size_t)n)) {
        reply(k, 500, "{\"error\":\"out of memory\"}");
        return;
    }
    for (long i = 0; i < n; i++)
        b->data[i] = (char)('a' + i % 26);
    b->len = (size_t)n;
    k->type = "application/octet-stream";
    k->status = 200;
}

/* /gzip/{n}, /deflate/{n} (?raw=1: bare deflate data, as some servers send): /bytes/{n}'s
 * body compressed, with its Content-Encoding, whatever the request's Accept-Encoding (as
 * httpbin's /gzip); X-Decoded-Length says the size once decoded. */
static void route_compressed(struct call *k)
{
    route_bytes(k);
    if (k->status != 200)
        return;
    struct tide_buf *b = &k->c->t->body;
    struct tide_http_str raw;
    bool bare = k->route == R_DEFLATE && tide_http_query_get(k->req->query, "raw", &raw) &&
                raw.n == 1 && raw.p[0] == '1';
    const char *coding = k->route == R_GZIP ? "gzip" : bare ? "deflate-raw" : "deflate";
    struct tide_buf packed = {0};
    size_t plain = b->len;
    if (tide_compress(coding, b->data != NULL ? b->data : "", plain, &packed) != 0) {
        tide_buf_free(&packed);
        b->len = 0;
        reply(k, 500, "{\"error\":\"out of memory\"}");
        return;
    }
    b->len = 0;
    tide_buf_add(b, packed.data, packed.len);
    tide_buf_free(&packed);
    header(k, "Content-Encoding: %s", k->route == R_GZIP ? "gzip" : "deflate");
    header(k, "X-Decoded-Length: %zu", plain);
}

/* The reference API. */

/* Users, personal data, the audit log and the rate-limited route, once the token is known. */
static void route_users(struct call *k, const struct tide_store_user *who,
                        struct tide_http_str tenant, double now)
{
    struct tide_store *s = k->c->t->store;
    struct tide_buf *b = &k->c->t->body;
    int64_t id = 0;
    int retry = 0;
    switch (k->route) {
    case R_USERS:
        if (k->method == M_GET)
            k->status = tide_store_user_list(s, who, tenant, now, b);
        else
            k->status = tide_store_user_create(s, who, tenant, k->in, k->in_len, now, b, &id);
        break;
    case R_USERS_IMPORT:
        k->status = tide_store_user_import(s, who, tenant, k->in, k->in_len, now, b, &id);
        break;
    case R_USER:
        if (k->method == M_GET)
            k->status = tide_store_user_get(s, who, tenant, k->arg, now, b);
        else
            k->status = tide_store_user_erase(s, who, tenant, k->arg, now, b);
        break;
    case R_USER_EXPORT:
        k->status = tide_store_user_export(s, who, tenant, k->arg, now, b);
        break;
    case R_AUDIT:
        k->status = tide_store_audit_query(s, who, tenant, k->req->query, b);
        break;
    default:
        k->status =
            tide_store_limited(s, tide_http_header(k->req, "authorization"), now, b, &retry);
        break;
    }
    if (k->status == 201)
        header(k, "Location: /api/users/%lld", (long long)id);
    if (k->status == 429)
        header(k, "Retry-After: %d", retry);
}

static void route_api(struct call *k)
{
    struct tide_target *t = k->c->t;
    struct tide_buf *b = &t->body;
    const struct tide_http_req *req = k->req;
    const struct tide_http_str *tenant = tide_http_header(req, "x-tenant-id");
    const struct tide_http_str *authz = tide_http_header(req, "authorization");
    double now = ev_now(t->loop);
    bool dry = t->faults.drop_writes, leak = t->faults.tenant_leak;
    if (k->route == R_LOGIN) {
        k->status = tide_store_login(t->store, k->in, k->in_len, now, b);
        return;
    }
    const struct tide_store_user *who = NULL;
    k->status = tide_store_authorize(t->store, authz, tenant, k->route != R_LOGOUT, now, &who, b);
    if (k->status == 401)
        header(k, "WWW-Authenticate: Bearer");
    if (k->status != 0)
        return;
    int64_t id = 0;
    if (k->route >= R_USERS && k->route <= R_LIMITED) {
        route_users(k, who, *tenant, now);
        return;
    }
    if (k->route == R_LOGOUT)
        k->status = tide_store_logout(t->store, authz);
    else if (k->route == R_SEARCH)
        k->status = tide_store_search(t->store, *tenant, req->query, leak, b);
    else if (k->route == R_PROJECTS && k->method == M_GET)
        k->status = tide_store_list(t->store, *tenant, req->query, leak, b);
    else if (k->route == R_PROJECTS)
        k->status = tide_store_create(t->store, who, *tenant, k->in, k->in_len, now, dry, b, &id);
    else if (k->method == M_GET)
        k->status = tide_store_get(t->store, *tenant, k->arg, b);
    else if (k->method == M_DELETE)
        k->status = tide_store_delete(t->store, who, *tenant, k->arg, now, dry, b);
    else
        k->status = tide_store_update(t->store, who, *tenant, k->arg, k->in, k->in_len,
                                      k->method == M_PATCH, now, dry, b);
    if (k->status == 201)
        header(k, "Location: /api/projects/%lld", (long long)id);
}

static void route_control(struct call *k)
{
    struct tide_target *t = k->c->t;
    struct tide_buf *b = &t->body;
    struct tide_err err;
    if (k->route == R_STATS) {
        stats_json(t, b);
        k->status = 200;
        return;
    }
    if (k->route == R_STATS_RESET) {
        stats_clear(t);
        k->status = 204;
        return;
    }
    struct tide_target_faults f = t->faults;
    if (k->method == M_DELETE)
        memset(&f, 0, sizeof f);
    if (k->method == M_POST && faults_post(&f, k->in, k->in_len, &err) < 0) {
        reply_error(k, 400, err.msg);
        return;
    }
    if (k->method != M_GET)
        faults_apply(t, &f);
    faults_json(&t->faults, b);
    k->status = 200;
}

static void route(struct call *k)
{
    unsigned allowed = route_methods[k->route];
    if (allowed != 0 && (allowed & BIT(k->method)) == 0) {
        char list[64] = "";
        for (int m = 0; m < M_OTHER; m++) {
            if (allowed & BIT(m))
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                         list[0] ? ", " : "", method_names[m]);
        }
        header(k, "Allow: %s", list);
        reply(k, 405, "{\"error\":\"method not allowed\"}");
        return;
    }
    switch (k->route) {
    case R_UNMATCHED:
        reply(k, 404, "{\"error\":\"not found\"}");
        break;
    case R_HEALTH:
        reply(k, 200, "{\"status\":\"ok\"}");
        break;
    case R_ECHO:
        route_echo(k);
        break;
    case R_DELAY:
    case R_DELAY_MS:
        route_delay(k);
        break;
    case R_STATUS:
        route_status(k);
        break;
    case R_REDIRECT:
        route_redirect(k);
        break;
    case R_COOKIES:
        route_cookies(k);
        break;
    case R_COOKIES_SET:
        route_cookies_set(k);
        break;
    case R_BYTES:
        route_bytes(k);
        break;
    case R_GZIP:
    case R_DEFLATE:
        route_compressed(k);
        break;
    case R_LOGIN:
    case R_LOGOUT:
    case R_PROJECTS:
    case R_PROJECT:
    case R_SEARCH:
    case R_USERS:
    case R_USERS_IMPORT:
    case R_USER:
    case R_USER_EXPORT:
    case R_AUDIT:
    case R_LIMITED:
        route_api(k);
        break;
    default:
        route_control(k);
        break;
    }
}

/* Connections. */

static void conn_update(struct conn *c);
static int conn_step(struct conn *c);

static void conn_free(struct conn *c)
{
    struct tide_target *t = c->t;
    ev_io_stop(t->loop, &c->io);
    ev_timer_stop(t->loop, &c->timer);
    close(c->fd);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        t->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    t->live--;
    free(c->in);
    tide_buf_free(&c->out);
    tide_http1_parser_fini(&c->parser);
    free(c);
}

/* Closes with a TCP RST, without answering (earlier answers still go out, if they can). */
static void conn_reset(struct conn *c)
{
    struct linger lg = {1, 0};
    if (c->sent < c->limit)
        (void)send(c->fd, c->out.data + c->sent, c->limit - c->sent, MSG_NOSIGNAL);
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    conn_free(c);
}

static void timer_start(struct conn *c, enum phase phase, double after, double repeat)
{
    ev_now_update(c->t->loop); /* delays count from now, not from the loop's cached time */
    ev_timer_stop(c->t->loop, &c->timer);
    ev_timer_set(&c->timer, after, repeat);
    ev_timer_start(c->t->loop, &c->timer);
    c->phase = phase;
}

/* The held response's delay is over: send its head, and its body now or in slow pieces. */
static void release(struct conn *c)
{
    size_t body = c->hold_end - c->hold_body;
    if (c->slow_s > 0 && body > 0) {
        size_t pieces = body < SLOW_CHUNKS ? body : SLOW_CHUNKS;
        c->slow_step = (body + pieces - 1) / pieces;
        c->limit = c->hold_body;
        timer_start(c, T_SLOW, c->slow_s / (double)pieces, c->slow_s / (double)pieces);
        return;
    }
    ev_timer_stop(c->t->loop, &c->timer);
    c->phase = T_NONE;
    c->limit = c->hold_end;
    c->held = false;
}

/* After the response written at [start, c->out.len) with its body at body_at: hold it for
 * 'hold' seconds and the faults' delays, and slow its body down. */
static void pace(struct conn *c, size_t start, size_t body_at, double hold)
{
    struct tide_target *t = c->t;
    if (hold > 0 || t->faulty)
        ev_now_update(t->loop); /* timers count from the loop's time: make it now */
    double delay = hold + (t->faulty ? fault_delay(t) : 0.0);
    c->slow_s = (double)t->faults.slow_body_us / 1e6;
    if (delay <= 0 && (c->slow_s <= 0 || body_at == c->out.len)) {
        c->limit = c->out.len;
        return;
    }
    c->held = true;
    c->limit = start;
    c->hold_body = body_at;
    c->hold_end = c->out.len;
    if (delay > 0)
        timer_start(c, T_DELAY, delay, 0);
    else
        release(c);
}

/* GET /_fault/<kind> (target_fault.h): its bytes, then what it says to do. 1: done. */
static int dispatch_fault(struct conn *c, struct call *k)
{
    struct tide_fault_reply r;
    const char *why = NULL;
    size_t start = c->out.len, body_at;
    c->started_us = 0; /* not a service time */
    if (tide_target_fault(k->arg, k->req->query, k->req->keep_alive, &c->out, &r, &why) < 0) {
        reply_error(k, 400, why);
        count(c->t, k->method, k->route, 400);
        respond(c, k, &body_at);
        c->limit = c->out.len;
        return 1;
    }
    count(c->t, k->method, k->route, r.after == TIDE_FAULT_RESET ? STATUS_RESET : r.status);
    c->limit = c->out.len;
    switch (r.after) {
    case TIDE_FAULT_KEEP:
        c->closing = !k->req->keep_alive;
        break;
    case TIDE_FAULT_CLOSE:
        c->closing = true;
        break;
    case TIDE_FAULT_RESET:
        c->held = true;
        timer_start(c, T_RESET, RESET_AFTER, 0);
        break;
    case TIDE_FAULT_STALL:
        c->held = true;
        c->limit = r.body_at;
        timer_start(c, T_STALL, STALL_MAX_S, 0);
        break;
    case TIDE_FAULT_SLOW:
        c->held = true;
        c->limit = start;
        c->hold_body = r.body_at;
        c->hold_end = c->out.len;
        c->slow_s = r.slow_s;
        release(c);
        break;
    }
    return 1;
}

static const char malformed[] = "HTTP/1.1 2x0 tide-malformed\r\n\x01\x02garbage\r\n\r\n";

/* Answers one request (body at in[0..in_len)). 1: done; -1: 'c' was freed (reset fault). */
static int dispatch(struct conn *c, const struct tide_http_req *req, const char *in, size_t in_len)
{
    struct tide_target *t = c->t;
    struct call k = {.c = c, .req = req, .in = in, .in_len = in_len, .type = "application/json"};
    k.route = route_of(req->path, &k.arg);
    c->started_us = k.route < R_STATS ? now_us() : 0;
    k.method = method_of(req->method);
    t->body.len = 0;
    bool faults = t->faulty && k.route < R_STATS;
    const struct tide_target_error_rule *rule = NULL;
    for (int i = 0; faults && i < t->faults.n_errors && rule == NULL; i++) {
        if (rule_matches(&t->faults.errors[i], k.method, k.route))
            rule = &t->faults.errors[i];
    }
    if (faults && hit(t, t->faults.reset_rate)) {
        count(t, k.method, k.route, STATUS_RESET);
        conn_reset(c);
        return -1;
    }
    if (faults && hit(t, t->faults.malformed_rate)) {
        count(t, k.method, k.route, STATUS_MALFORMED);
        tide_buf_add(&c->out, malformed, sizeof malformed - 1);
        c->closing = true;
        c->limit = c->out.len;
        return 1;
    }
    bool injected = rule != NULL && hit(t, rule->rate);
    if (k.route == R_FAULT && !injected)
        return dispatch_fault(c, &k);
    if (injected)
        reply_error(&k, rule->status, "injected fault");
    else
        route(&k);
    if (t->body.failed || t->tmp.failed) {
        tide_buf_free(&t->body);
        tide_buf_free(&t->tmp);
        k.head_len = 0;
        reply(&k, 500, "{\"error\":\"out of memory\"}");
    }
    if (k.route < R_STATS)
        count(t, k.method, k.route, k.status);
    size_t start = c->out.len, body_at;
    respond(c, &k, &body_at);
    if (k.route < R_STATS)
        pace(c, start, body_at, k.hold);
    else
        c->limit = c->out.len;
    if (t->body.cap > BUF_KEEP)
        tide_buf_free(&t->body);
    return 1;
}

/* Makes room for 'need' bytes of input; 0, or the refusal's 0 when there is no memory. */
static int grow_in(struct conn *c, size_t need)
{
    if (need <= c->in_cap)
        return 0;
    size_t cap = c->in_cap * 2 > need ? c->in_cap * 2 : need;
    char *p = realloc(c->in, cap);
    if (p == NULL)
        return refuse(c, 503, "out of memory");
    c->in = p;
    c->in_cap = cap;
    return 0;
}

/* The body is not all there yet: ask for it (100 Continue) and make room. */
static int wait_body(struct conn *c, size_t need)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (c->parser.expect_continue && !c->continued) {
        tide_buf_add(&c->out, cont, sizeof cont - 1);
        c->limit = c->out.len;
        c->continued = true;
    }
    return grow_in(c, need);
}

/* The parser's body bytes, chunk framing removed: moved down in place to follow the head (a
 * chunk's data only ever moves towards the front, over framing already read). */
static int on_request_body(void *ud, const char *p, size_t n)
{
    struct conn *c = ud;
    char *to = c->in + c->req_at + c->parser.head_len + c->body_len;
    if (to != p)
        memmove(to, p, n);
    c->body_len += n;
    return 0;
}

/* Ready for the next request on the connection. */
static void request_reset(struct conn *c)
{
    tide_http1_parser_reset(&c->parser);
    c->fed = 0;
    c->body_len = 0;
    c->continued = false;
}

/* The parser's refusal as the status a client gets. */
static int refuse_parse(struct conn *c, int rc)
{
    if (rc == TIDE_HTTP1_ERR_HEADER_SIZE)
        return refuse(c, 431, "request head too large");
    if (rc == TIDE_HTTP1_ERR_BODY_SIZE)
        return refuse(c, 413, "request body too large");
    if (rc == TIDE_HTTP1_ERR_CALLBACK) /* the parser's line buffer could not grow */
        return refuse(c, 503, "out of memory");
    return refuse(c, 400, c->parser.error != NULL ? c->parser.error : tide_http1_strerror(rc));
}

/* Parses and answers the request at in[off..], feeding the shared HTTP/1.1 parser (http1.h)
 * only the bytes it has not seen. 1: answered, *used bytes; 0: needs more input or the
 * connection is closing; -1: 'c' was freed. */
static int next_request(struct conn *c, size_t off, size_t *used)
{
    struct tide_target *t = c->t;
    char *buf = c->in + off;
    size_t avail = c->in_len - off, took = 0;
    c->req_at = off;
    int rc = tide_http1_feed(&c->parser, buf + c->fed, avail - c->fed, &took);
    c->fed += took;
    if (rc < 0)
        return refuse_parse(c, rc);
    if (rc == TIDE_HTTP1_MORE) {
        if (c->fed > 2 * t->max_body + HEAD_MAX) /* chunk framing around a small body */
            return refuse(c, 413, "request body too large");
        if (!tide_http1_head_done(&c->parser))
            return grow_in(c, off + avail + 1);
        if (c->parser.chunked)
            return wait_body(c, off + avail + 1);
        return wait_body(c, off + (size_t)c->parser.head_len + (size_t)c->parser.content_length);
    }
    struct tide_http_req req;
    tide_http_req_from(&req, &c->parser, buf);
    const char *body = buf + c->parser.head_len;
    size_t body_len = c->body_len;
    *used = c->fed;
    request_reset(c);
    return dispatch(c, &req, body, body_len);
}

/* Answers the complete requests at the front of 'in' in order, until one is held, the
 * connection is closing or much output waits. 1: stopped for output; 0: otherwise; -1: 'c' was
 * freed. */
static int conn_process(struct conn *c)
{
    size_t off = 0;
    int rc = 0;
    while (!c->held && !c->closing && !c->draining) {
        if (c->out.len - c->sent >= OUT_HIGH) {
            rc = 1;
            break;
        }
        size_t used = 0;
        int r = next_request(c, off, &used);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        off += used;
    }
    if (off > 0) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    if (c->in_len == 0 && c->in_cap > BUF_KEEP) {
        char *p = realloc(c->in, IN_START);
        if (p != NULL) {
            c->in = p;
            c->in_cap = IN_START;
        }
    }
    return rc;
}

/* Drops what was sent from the front of 'out'. */
static void out_compact(struct conn *c)
{
    size_t n = c->sent;
    if (n == 0 || n != c->limit)
        return;
    memmove(c->out.data, c->out.data + n, c->out.len - n);
    c->out.len -= n;
    c->limit -= n;
    c->hold_body = c->hold_body > n ? c->hold_body - n : 0;
    c->hold_end = c->hold_end > n ? c->hold_end - n : 0;
    c->sent = 0;
    if (c->out.len == 0 && c->out.cap > BUF_KEEP)
        tide_buf_free(&c->out);
}

/* Sends what may go. -1: the connection failed and 'c' was freed. */
static int conn_flush(struct conn *c)
{
    int64_t handed_us = 0; /* before the last send: the client cannot have the bytes earlier */
    while (c->sent < c->limit) {
        handed_us = now_us();
        ssize_t n = send(c->fd, c->out.data + c->sent, c->limit - c->sent, MSG_NOSIGNAL);
        if (n > 0) {
            c->sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        conn_free(c);
        return -1;
    }
    if (c->started_us > 0 && !c->held && c->sent == c->out.len) {
        tide_hdr_record(c->t->service, (handed_us > 0 ? handed_us : now_us()) - c->started_us);
        c->started_us = 0;
    }
    out_compact(c);
    return 0;
}

/* Everything is sent and the connection is to close: shut our side, then read until the client
 * closes (or DRAIN_S), so that unread input does not turn our close into a reset. */
static void conn_linger(struct conn *c)
{
    shutdown(c->fd, SHUT_WR);
    c->draining = true;
    timer_start(c, T_DRAIN, DRAIN_S, 0);
}

/* Answers what can be answered, sends what can be sent, closes when done. -1: 'c' was freed. */
static int conn_step(struct conn *c)
{
    if (!c->draining && !c->out.failed) {
        for (int i = 0; i < 64; i++) {
            int r = conn_process(c);
            if (r < 0 || conn_flush(c) < 0)
                return -1;
            if (r == 0 || c->out.len - c->sent >= OUT_HIGH)
                break;
        }
    }
    if (c->out.failed) {
        conn_free(c);
        return -1;
    }
    bool idle = !c->held && c->sent == c->out.len;
    if (c->eof && c->phase == T_STALL) { /* the client gave up on a stalled answer */
        conn_free(c);
        return -1;
    }
    if (idle && c->eof && !c->draining) {
        conn_free(c);
        return -1;
    }
    if (idle && c->closing && !c->draining)
        conn_linger(c);
    conn_update(c);
    return 0;
}

static void conn_update(struct conn *c)
{
    int want = 0;
    if (c->draining || (!c->eof && !c->closing && c->in_len < c->in_cap))
        want |= EV_READ;
    if (c->sent < c->limit)
        want |= EV_WRITE;
    if (want == c->events)
        return;
    ev_io_stop(c->t->loop, &c->io);
    ev_io_set(&c->io, c->fd, want);
    if (want != 0)
        ev_io_start(c->t->loop, &c->io);
    c->events = want;
}

/* -1: 'c' was freed. */
static int conn_read(struct conn *c)
{
    char sink[4096];
    char *dst = c->draining ? sink : c->in + c->in_len;
    size_t room = c->draining ? sizeof sink : c->in_cap - c->in_len;
    ssize_t n = recv(c->fd, dst, room, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n <= 0 && c->draining) {
        conn_free(c);
        return -1;
    }
    if (n < 0) {
        conn_free(c);
        return -1;
    }
    if (n == 0)
        c->eof = true;
    else if (!c->draining)
        c->in_len += (size_t)n;
    return 0;
}

/* ev_io of a connection */
static void on_conn_io(struct ev_loop *loop, ev_io *w, int revents)
{
    struct conn *c = container_of(w, struct conn, io);
    if ((revents & EV_READ) && conn_read(c) < 0)
        return;
    conn_step(c);
}

/* ev_timer of a connection: release a delayed response, send the next slow piece, or give up
 * waiting for the client to close. */
static void on_conn_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct conn *c = container_of(w, struct conn, timer);
    if (c->phase == T_DRAIN || c->phase == T_STALL) {
        conn_free(c);
        return;
    }
    if (c->phase == T_RESET) {
        conn_reset(c);
        return;
    }
    if (c->phase == T_DELAY) {
        release(c);
    } else if (c->phase == T_SLOW) {
        c->limit = c->limit + c->slow_step < c->hold_end ? c->limit + c->slow_step : c->hold_end;
        if (c->limit == c->hold_end) {
            ev_timer_stop(loop, &c->timer);
            c->phase = T_NONE;
            c->held = false;
        }
    }
    conn_step(c);
}

static void conn_new(struct tide_target *t, int fd)
{
    struct conn *c = calloc(1, sizeof *c);
    char *in = malloc(IN_START);
    if (c == NULL || in == NULL) {
        free(c);
        free(in);
        close(fd);
        return;
    }
    c->t = t;
    c->fd = fd;
    c->in = in;
    c->in_cap = IN_START;
    c->parser = (struct tide_http1_parser){.request = true,
                                           .max_head = HEAD_MAX,
                                           .max_body = t->max_body,
                                           .fields = c->fields,
                                           .max_fields = TIDE_HTTP_MAX_HEADERS,
                                           .ud = c,
                                           .on_body = on_request_body};
    request_reset(c);
    ev_io_init(&c->io, on_conn_io, fd, EV_READ);
    ev_init(&c->timer, on_conn_timer);
    ev_io_start(t->loop, &c->io);
    c->events = EV_READ;
    c->next = t->conns;
    if (t->conns != NULL)
        t->conns->prev = c;
    t->conns = c;
    t->live++;
    t->conns_total++;
}

/* Listening. */

/* ev_io of the listening socket */
static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    struct tide_target *t = container_of(w, struct tide_target, accept_io);
    for (int i = 0; i < 64; i++) {
        int fd = accept(t->lfd, NULL, NULL);
        if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
            continue;
        if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
            /* Out of descriptors: pause rather than spin on a ready socket. */
            ev_io_stop(loop, &t->accept_io);
            ev_timer_set(&t->accept_retry, 0.1, 0);
            ev_timer_start(loop, &t->accept_retry);
        }
        if (fd < 0)
            return;
        int one = 1;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_new(t, fd);
    }
}

/* ev_timer: accept again after running out of descriptors */
static void on_accept_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct tide_target *t = container_of(w, struct tide_target, accept_retry);
    ev_io_start(loop, &t->accept_io);
}

/* ev_async from tide_target_stop */
static void on_stop(struct ev_loop *loop, ev_async *w, int revents)
{
    ev_break(loop, EVBREAK_ALL);
}

/* The loopback address to bind; -1 for other addresses. */
static int resolve(const char *host, struct sockaddr_storage *ss, socklen_t *len,
                   struct tide_err *err)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof *ss);
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1 && (ntohl(v4->sin_addr.s_addr) >> 24) == 127) {
        v4->sin_family = AF_INET;
        *len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1 && IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) {
        v6->sin6_family = AF_INET6;
        *len = sizeof *v6;
        return 0;
    }
    return tide_err_set(err,
                        "--bind %s: not a loopback address (use 127.0.0.1, another 127.x.y.z, "
                        "::1 or localhost)",
                        host);
}

static int listen_on(struct tide_target *t, const struct tide_target_opts *o, struct tide_err *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (o->port < 0 || o->port > 65535)
        return tide_err_set(err, "--port %d: expected 0 to 65535", o->port);
    if (resolve(o->bind_host, &ss, &len, err) < 0)
        return -1;
    int port_be = htons((uint16_t)o->port);
    if (ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&ss)->sin_port = (in_port_t)port_be;
    else
        ((struct sockaddr_in6 *)&ss)->sin6_port = (in_port_t)port_be;
    t->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (t->lfd < 0)
        return tide_err_set(err, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(t->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(t->lfd, (struct sockaddr *)&ss, len) < 0)
        return tide_err_set(err, "cannot listen on %s port %d: %s (try another --port)",
                            o->bind_host, o->port, strerror(errno));
    if (listen(t->lfd, 1024) < 0)
        return tide_err_set(err, "listen: %s", strerror(errno));
    fcntl(t->lfd, F_SETFL, fcntl(t->lfd, F_GETFL) | O_NONBLOCK);
    len = sizeof ss;
    getsockname(t->lfd, (struct sockaddr *)&ss, &len);
    t->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

static void *serve(void *arg)
{
    struct tide_target *t = arg;
    ev_run(t->loop, 0);
    return NULL;
}

/* Lifetime. */

void tide_target_opts_init(struct tide_target_opts *o)
{
    memset(o, 0, sizeof *o);
    o->bind_host = "127.0.0.1";
    o->max_body = TIDE_TARGET_MAX_BODY;
}

static void target_free(struct tide_target *t)
{
    while (t->conns != NULL)
        conn_free(t->conns);
    if (t->loop != NULL)
        ev_loop_destroy(t->loop);
    if (t->lfd >= 0)
        close(t->lfd);
    tide_store_free(t->store);
    stats_clear(t);
    tide_hdr_free(t->service);
    tide_buf_free(&t->body);
    tide_buf_free(&t->tmp);
    free(t);
}

struct tide_target *tide_target_start(const struct tide_target_opts *o, struct tide_err *err)
{
    struct tide_target *t = calloc(1, sizeof *t);
    if (t == NULL) {
        tide_err_set(err, "out of memory");
        return NULL;
    }
    t->lfd = -1;
    t->max_body = o->max_body > 0 ? o->max_body : TIDE_TARGET_MAX_BODY;
    rnd_seed(t, o->seed);
    if (listen_on(t, o, err) < 0)
        goto fail;
    t->store = tide_store_new(o->users_file, err);
    if (t->store == NULL)
        goto fail;
    t->service = tide_hdr_new();
    if (t->service == NULL) {
        tide_err_set(err, "out of memory");
        goto fail;
    }
    t->loop = ev_loop_new(o->precise ? EVBACKEND_SELECT : EVFLAG_AUTO);
    if (t->loop == NULL) {
        tide_err_set(err, "cannot create an event loop");
        goto fail;
    }
    ev_io_init(&t->accept_io, on_accept, t->lfd, EV_READ);
    ev_io_start(t->loop, &t->accept_io);
    ev_init(&t->accept_retry, on_accept_retry);
    ev_async_init(&t->stop_async, on_stop);
    ev_async_start(t->loop, &t->stop_async);
    faults_apply(t, &o->faults);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the server thread takes no signals */
    int rc = pthread_create(&t->thread, NULL, serve, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        tide_err_set(err, "pthread_create: %s", strerror(rc));
        goto fail;
    }
    return t;
fail:
    target_free(t);
    return NULL;
}

int tide_target_port(const struct tide_target *t)
{
    return t->port;
}

void tide_target_stop(struct tide_target *t)
{
    if (t == NULL)
        return;
    ev_async_send(t->loop, &t->stop_async);
    pthread_join(t->thread, NULL);
    target_free(t);
}

/* Command. */

static const char usage[] =
    "usage: tide target [--port P] [--bind ADDR] [--users FILE] [--max-body BYTES] [--seed N]\n"
    "                   [fault options]\n"
    "The built-in reference API (docs/target.md), on loopback, until SIGINT or SIGTERM.\n"
    "  --port P           port to listen on (default 0: any free port, printed at start)\n"
    "  --bind ADDR        127.0.0.1 (default), another 127.x.y.z, ::1 or localhost\n"
    "  --users FILE       users as CSV 'username,password[,tenant[,role]]' or a JSON list\n"
    "                     of {\"username\",\"password\",\"tenant\",\"role\"} (default: demo/demo,\n"
    "                     alice/alice-pw, bob/bob-pw, user1..user100 with pw-user1..100)\n"
    "  --max-body BYTES   request body limit, e.g. 8388608 or 8m (default 8m; beyond: 413)\n"
    "  --seed N           seed of the faults' randomness (default: random)\n"
    "  --precise          microsecond timers for delays (select backend, up to 1000\n"
    "                     connections), for latency-accuracy measurements\n"
    "Faults (all routes but /_stats and /_faults; change them at run time with\n"
    "POST /_faults {\"delay\": \"20ms\", ...}, show with GET, clear with DELETE):\n"
    "  --delay D                 hold every response D (e.g. 20ms)\n"
    "  --delay-dist uniform:MIN:MAX | exp:MEAN | bimodal:P:FAST:SLOW\n"
    "                            plus a random delay, e.g. bimodal:0.9:10ms:200ms\n"
    "  --stall FOR/EVERY         at each EVERY after start, hold all responses for FOR (1s/5s)\n"
    "  --error-rate P[:STATUS][:ROUTE]\n"
    "                            answer STATUS (default 500) with probability P, on ROUTE\n"
    "                            ('*' default, '/api/projects/{id}', 'GET /api/*'); repeatable\n"
    "  --reset-rate P            close the connection with a TCP RST instead of answering\n"
    "  --malformed-rate P        answer a garbage status line, then close\n"
    "  --slow-body D             send each body in 10 pieces spread over D\n"
    "  --drop-writes             project POST/PUT/PATCH/DELETE answer success, change nothing\n"
    "  --tenant-leak             project list and search show every tenant's projects\n"
    "  --leaky-erasure           DELETE /api/users/{id} answers its receipt, keeps the projects\n"
    "  --incomplete-export       GET /api/users/{id}/export leaves out the newest project\n"
    "  --skip-audit              deletions and erasures leave no audit record\n"
    "  --broken-authz            roles and tenant bindings are not checked\n"
    "Durations: 500us, 20ms, 1.5s, 2m (a bare number is seconds).\n";

static int parse_size(const char *v, size_t *out)
{
    char *end;
    double n = strtod(v, &end);
    double unit = 1;
    if (*end == 'k' || *end == 'K')
        unit = 1024;
    else if (*end == 'm' || *end == 'M')
        unit = 1024 * 1024;
    if (unit > 1)
        end++;
    if (end == v || *end != '\0' || !(n > 0) || n * unit > 1e12)
        return -1;
    *out = (size_t)(n * unit);
    return 0;
}

static int option(struct tide_target_opts *o, const char *name, const char *v, struct tide_err *err)
{
    char *end;
    if (strcmp(name, "port") == 0) {
        long p = strtol(v, &end, 10);
        if (end == v || *end != '\0' || p < 0 || p > 65535)
            return tide_err_set(err, "--port \"%s\": expected 0 to 65535", v);
        o->port = (int)p;
    } else if (strcmp(name, "bind") == 0) {
        o->bind_host = v;
    } else if (strcmp(name, "users") == 0) {
        o->users_file = v;
    } else if (strcmp(name, "max-body") == 0) {
        if (parse_size(v, &o->max_body) < 0)
            return tide_err_set(err, "--max-body \"%s\": expected bytes, e.g. 1048576 or 8m", v);
    } else if (strcmp(name, "precise") == 0) {
        o->precise = true;
    } else if (strcmp(name, "seed") == 0) {
        o->seed = strtoull(v, &end, 10);
        if (end == v || *end != '\0')
            return tide_err_set(err, "--seed \"%s\": expected a number", v);
    } else {
        struct tide_err e;
        if (tide_target_faults_set(&o->faults, name, v, &e) < 0)
            return tide_err_set(err, "--%s", e.msg);
    }
    return 0;
}

static bool takes_value(const char *name)
{
    static const char *const switches[] = {"drop-writes",      "tenant-leak", "precise",
                                           "leaky-erasure",    "skip-audit",  "broken-authz",
                                           "incomplete-export"};
    for (size_t i = 0; i < sizeof switches / sizeof switches[0]; i++) {
        if (strcmp(name, switches[i]) == 0)
            return false;
    }
    return true;
}

static bool known(const char *name)
{
    static const char *const others[] = {"port", "bind", "users", "max-body", "seed", "precise"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        if (strcmp(name, others[i]) == 0)
            return true;
    }
    return fault_index(name) >= 0 && strchr(name, '_') == NULL;
}

static int parse_args(int argc, char **argv, struct tide_target_opts *o, struct tide_err *err)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char name[32];
        if (strncmp(a, "--", 2) != 0)
            return tide_err_set(err, "unexpected argument \"%s\" (see 'tide target --help')", a);
        const char *eq = strchr(a, '=');
        size_t n = eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2);
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), a + 2);
        if (n >= sizeof name || !known(name))
            return tide_err_set(err, "unknown option %s (see 'tide target --help')", a);
        const char *v = eq != NULL ? eq + 1 : NULL;
        if (v == NULL && !takes_value(name))
            v = "true";
        if (v == NULL && i + 1 == argc)
            return tide_err_set(err, "--%s needs a value (see 'tide target --help')", name);
        if (v == NULL)
            v = argv[++i];
        if (option(o, name, v, err) < 0)
            return -1;
    }
    return 0;
}

int tide_target_main(int argc, char **argv)
{
    struct tide_target_opts o;
    struct tide_err err;
    tide_target_opts_init(&o);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
    }
    if (parse_args(argc, argv, &o, &err) < 0) {
        fprintf(stderr, "tide: target: %s\n", err.msg);
        return 2;
    }
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    struct tide_target *t = tide_target_start(&o, &err);
    if (t == NULL) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        fprintf(stderr, "tide: target: %s\n", err.msg);
        return 2;
    }
    bool v6 = strchr(o.bind_host, ':') != NULL;
    printf("tide target listening on http://%s%s%s:%d\n", v6 ? "[" : "",
           strcmp(o.bind_host, "localhost") == 0 ? "127.0.0.1" : o.bind_host, v6 ? "]" : "",
           tide_target_port(t));
    fflush(stdout);
    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    tide_target_stop(t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 0;
}
