/* sample.c: from a finished transfer to the worker's registry. Built-in metrics are recorded
 * by id (TIDE_M_*), every one of a request's samples under the same hashed tag set. A request
 * of a shape seen before (seriescache.h) skips building that tag set and the series lookups. */
#include <stdio.h>
#include <string.h>
#include "errsamples.h"
#include "log.h"
#include "sample.h"
#include "vu.h"
#include "worker.h"

static double ms_between(int64_t a, int64_t b)
{
    return b > a ? (double)(b - a) / 1000.0 : 0;
}

void tide_sample_phases(const struct tide_http_timings *raw, struct tide_sample_timings *t)
{
    int64_t dns = raw->dns, conn = raw->connect, app = raw->tls, pre = raw->sent;
    int64_t start = raw->first_byte, total = raw->total;
    if (conn < dns)
        conn = dns;
    int64_t ready = app > conn ? app : conn;
    if (pre < ready)
        pre = ready;
    if (start < pre)
        start = pre;
    if (total < start)
        total = start;
    t->blocked = (double)dns / 1000.0;
    t->connecting = ms_between(dns, conn);
    t->tls = app > 0 ? ms_between(conn, app) : 0;
    t->sending = ms_between(ready, pre);
    t->waiting = ms_between(pre, start);
    t->receiving = ms_between(start, total);
    t->duration = t->sending + t->waiting + t->receiving;
}

/* A VU that falls behind its schedule (slow responses delay its next requests) would hide
 * the delay from the measured durations; counting from when the request should have started
 * puts it back (wrk2's "expected start time"). */
double tide_sample_co_duration(double duration_ms, int64_t started_us, int64_t due_us,
                               int64_t prev_end_us)
{
    int64_t should = prev_end_us > due_us ? prev_end_us : due_us;
    double late = (double)(started_us - should) / 1000.0;
    return late > 0 ? duration_ms + late : duration_ms;
}

bool tide_sample_failed(const struct tide_vu_request *r)
{
    long status = r->r.res.status;
    if (r->r.res.error_code != 0)
        return true;
    if (r->nexpect == 0)
        return !(status >= 200 && status < 400);
    for (int i = 0; i < r->nexpect; i++) {
        if (r->expect[i] == status)
            return false;
    }
    return true;
}

void tide_sample_tags(const struct tide_vu_request *r, char *buf, size_t len)
{
    struct tide_tags t = {0};
    char scratch[1024], status[16];
    tide_tags_parse(r->tags != NULL ? r->tags : "", scratch, sizeof scratch, &t);
    snprintf(status, sizeof status, "%ld", r->r.res.status);
    tide_tags_set(&t, "name", r->name);
    tide_tags_set(&t, "method", r->r.spec.method);
    tide_tags_set(&t, "status", status);
    tide_tags_canon(&t, buf, len);
}

static void record_failure(struct tide_registry *reg, const struct tide_vu_request *r)
{
    const struct tide_http_result *res = &r->r.res;
    char errtext[300], canon[2048];
    if (res->error_code != 0)
        snprintf(errtext, sizeof errtext, "%s", res->error_kind);
    else
        snprintf(errtext, sizeof errtext, "HTTP %ld", res->status);
    tide_redact_buf(errtext, sizeof errtext);
    struct tide_tags ft = {0};
    tide_tags_set(&ft, "method", r->r.spec.method);
    tide_tags_set(&ft, "name", r->name);
    tide_tags_set(&ft, "error", errtext);
    tide_tags_canon(&ft, canon, sizeof canon);
    tide_registry_add(reg, TIDE_M_FAILURES, canon, 1);
    if (res->error_code == 0) /* what the server said, a few times per kind of error */
        tide_errsamples_offer(r->r.spec.method, r->name, errtext, res->body.data, res->body.len);
}

/* Where a request's samples go: through its cached shape, or by tag string. */
struct sink {
    struct tide_registry *reg;
    struct tide_shape *shape; /* NULL: by 'tags' and 'th' */
    const char *tags;
    uint64_t th;
};

static void add(const struct sink *k, int metric, double value)
{
    if (k->shape != NULL)
        tide_shape_add(k->shape, k->reg, metric, value);
    else
        tide_registry_add_h(k->reg, metric, k->tags, k->th, value);
}

static void record(const struct sink *k, const struct tide_vu_request *r,
                   const struct tide_sample *s)
{
    const struct tide_http_result *res = &r->r.res;
    const struct tide_sample_timings *t = &s->t;
    bool failed = tide_sample_failed(r);
    add(k, TIDE_M_HTTP_REQS, 1);
    add(k, TIDE_M_HTTP_REQ_FAILED, failed ? 1 : 0);
    add(k, TIDE_M_HTTP_REQ_DURATION, s->duration);
    if (s->open_model)
        add(k, TIDE_M_HTTP_REQ_DURATION_UNCORRECTED, t->duration);
    add(k, TIDE_M_HTTP_REQ_BLOCKED, t->blocked);
    add(k, TIDE_M_HTTP_REQ_CONNECTING, t->connecting);
    add(k, TIDE_M_HTTP_REQ_TLS, t->tls);
    add(k, TIDE_M_HTTP_REQ_SENDING, t->sending);
    add(k, TIDE_M_HTTP_REQ_WAITING, t->waiting);
    add(k, TIDE_M_HTTP_REQ_RECEIVING, t->receiving);
    add(k, TIDE_M_DATA_SENT, res->bytes_sent);
    add(k, TIDE_M_DATA_RECEIVED, (double)res->body_bytes + (double)res->headers.len);
    add(k, TIDE_M_CONTENT_BYTES, (double)res->body_bytes);
    if (res->retries > 0) /* only then: a run without re-sends shows no such metric */
        add(k, TIDE_M_HTTP_REQ_RETRIES, res->retries);
    if (failed)
        record_failure(k->reg, r);
}

void tide_sample_record(struct tide_registry *reg, const char *tags,
                        const struct tide_vu_request *r, const struct tide_sample *s)
{
    struct sink k = {.reg = reg, .tags = tags, .th = tide_tags_hash(tags)};
    record(&k, r, s);
}

static size_t put_str(char *key, size_t o, size_t cap, const char *s)
{
    size_t n = strlen(s) + 1; /* with its NUL: fields cannot run into each other */
    if (o == 0 || o + n > cap)
        return 0;
    memcpy(key + o, s, n);
    return o + n;
}

/* The bytes that decide the tag set of a request 'vu' made (tide_sample_tags, then
 * tide_vu_tags): its length, or 0 when it does not fit 'cap' (then it is not cached). */
static size_t shape_key(const struct tide_vu *vu, const struct tide_vu_request *r, char *key,
                        size_t cap)
{
    long status = r->r.res.status;
    if (cap < 1 + sizeof status)
        return 0;
    key[0] = 'R'; /* a request's shape ('V': tide_sample_vu_add's) */
    memcpy(key + 1, &status, sizeof status);
    size_t o = 1 + sizeof status;
    o = put_str(key, o, cap, r->r.spec.method);
    o = put_str(key, o, cap, r->name != NULL ? r->name : "");
    o = put_str(key, o, cap, r->tags != NULL ? r->tags : "");
    o = put_str(key, o, cap, vu->group);
    return put_str(key, o, cap, vu->scenario_tags != NULL ? vu->scenario_tags : "");
}

/* The cached shape of 'key' (n bytes; 0: not cacheable), or NULL; *h: the key's hash. */
static struct tide_shape *cache_get(struct tide_vu *vu, const char *key, size_t n, uint64_t *h)
{
    struct tide_worker *w = vu->w;
    if (n == 0 || (w->series == NULL && (w->series = tide_series_cache_new()) == NULL))
        return NULL;
    *h = tide_series_cache_hash(key, n);
    return tide_series_cache_get(w->series, key, n, *h);
}

/* A new shape for 'key': the VU's tags with 'extra' (canonical) merged in, also written to
 * 'tags'; NULL when it cannot be cached. */
static struct tide_shape *cache_put(struct tide_vu *vu, const char *key, size_t n, uint64_t h,
                                    const char *extra, char *tags, size_t cap)
{
    tide_vu_tags(vu, extra, tags, cap);
    if (n == 0 || vu->w->series == NULL)
        return NULL;
    return tide_series_cache_put(vu->w->series, key, n, h, tags);
}

void tide_sample_vu_add(struct tide_vu *vu, const char *extra, int metric, double value)
{
    char key[TIDE_SERIES_CACHE_KEY_MAX], tags[2048];
    key[0] = 'V';
    size_t n = put_str(key, 1, sizeof key, extra != NULL ? extra : "");
    n = put_str(key, n, sizeof key, vu->group);
    n = put_str(key, n, sizeof key, vu->scenario_tags != NULL ? vu->scenario_tags : "");
    uint64_t h = 0;
    struct tide_shape *sh = cache_get(vu, key, n, &h);
    if (sh == NULL)
        sh = cache_put(vu, key, n, h, extra, tags, sizeof tags);
    if (sh != NULL)
        tide_shape_add(sh, vu->w->reg, metric, value);
    else
        tide_registry_add(vu->w->reg, metric, tags, value);
}

void tide_sample_request(struct tide_vu *vu, const struct tide_vu_request *r, struct tide_sample *s)
{
    const struct tide_http_result *res = &r->r.res;
    tide_sample_phases(&res->timings, &s->t);
    s->duration = s->t.duration;
    s->open_model = vu->sched_start_us > 0;
    if (s->open_model) {
        s->duration = tide_sample_co_duration(s->t.duration, res->started_us, vu->sched_start_us,
                                              vu->prev_req_end_us);
        vu->prev_req_end_us = res->ended_us;
    }
    char key[TIDE_SERIES_CACHE_KEY_MAX], own[2048], tags[2048];
    size_t n = shape_key(vu, r, key, sizeof key);
    uint64_t h = 0;
    struct tide_shape *sh = cache_get(vu, key, n, &h);
    if (sh == NULL) { /* a new shape (or one that cannot be cached): its tags, from scratch */
        tide_sample_tags(r, own, sizeof own);
        sh = cache_put(vu, key, n, h, own, tags, sizeof tags);
    }
    if (sh != NULL) {
        struct sink k = {.reg = vu->w->reg, .shape = sh};
        record(&k, r, s);
        return;
    }
    tide_sample_record(vu->w->reg, tags, r, s);
}
