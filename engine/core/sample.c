/* sample.c: from a finished transfer to the worker's registry. Built-in metrics are recorded
 * by id (TIDE_M_*), every one of a request's samples under the same hashed tag set. */
#include <stdio.h>
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

void tide_sample_record(struct tide_registry *reg, const char *tags,
                        const struct tide_vu_request *r, const struct tide_sample *s)
{
    const struct tide_http_result *res = &r->r.res;
    const struct tide_sample_timings *t = &s->t;
    bool failed = tide_sample_failed(r);
    uint64_t th = tide_tags_hash(tags);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQS, tags, th, 1);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_FAILED, tags, th, failed ? 1 : 0);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_DURATION, tags, th, s->duration);
    if (s->open_model)
        tide_registry_add_h(reg, TIDE_M_HTTP_REQ_DURATION_UNCORRECTED, tags, th, t->duration);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_BLOCKED, tags, th, t->blocked);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_CONNECTING, tags, th, t->connecting);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_TLS, tags, th, t->tls);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_SENDING, tags, th, t->sending);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_WAITING, tags, th, t->waiting);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_RECEIVING, tags, th, t->receiving);
    tide_registry_add_h(reg, TIDE_M_DATA_SENT, tags, th, res->bytes_sent);
    tide_registry_add_h(reg, TIDE_M_DATA_RECEIVED, tags, th,
                        (double)res->body_bytes + (double)res->headers.len);
    tide_registry_add_h(reg, TIDE_M_CONTENT_BYTES, tags, th, (double)res->body_bytes);
    if (failed)
        record_failure(reg, r);
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
    char own[2048], tags[2048];
    tide_sample_tags(r, own, sizeof own);
    tide_vu_tags(vu, own, tags, sizeof tags);
    tide_sample_record(vu->w->reg, tags, r, s);
}
