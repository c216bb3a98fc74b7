/* sample.h: what a finished HTTP request measured: its phases from the transport's offsets,
 * the coordinated-omission correction, whether it failed, and its samples (every built-in
 * http_* metric, data_sent, data_received) in the worker's registry under one tag set. */
#ifndef TIDE_SAMPLE_H
#define TIDE_SAMPLE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "metrics.h"
#include "transport.h"

struct tide_vu;
struct tide_vu_request;

/* Milliseconds, as http_req_* and a response's 'timings' report them. */
struct tide_sample_timings {
    double blocked;    /* until the name was resolved */
    double connecting; /* TCP connect */
    double tls;        /* TLS handshake (0 without TLS) */
    double sending, waiting, receiving;
    double duration; /* sending + waiting + receiving */
};

/* A request's measurement: its phases and the duration http_req_duration records. */
struct tide_sample {
    struct tide_sample_timings t; /* t.duration: as measured */
    double duration;              /* corrected for coordinated omission in the open model */
    bool open_model;              /* the duration was corrected: record the uncorrected too */
};

/* Phases from the transport's offsets; offsets out of order (an early failure) are clamped. */
void tide_sample_phases(const struct tide_http_timings *raw, struct tide_sample_timings *t);
/* Coordinated omission: 'duration_ms' plus how late the request started ('started_us')
 * compared with when it should have: when its iteration was due ('due_us'), or when the VU's
 * previous request ended ('prev_end_us') if later. Never less than 'duration_ms'. */
double tide_sample_co_duration(double duration_ms, int64_t started_us, int64_t due_us,
                               int64_t prev_end_us);
/* A transport error, or a status not in the request's 'expect' list (default 200..399). */
bool tide_sample_failed(const struct tide_vu_request *r);
/* The request's own tags, canonical: its user tags with name, method and status. */
void tide_sample_tags(const struct tide_vu_request *r, char *buf, size_t len);
/* Records the request's samples under the canonical 'tags' (hashed once), and a failure
 * in tide_failures (by method, name and kind of error). */
void tide_sample_record(struct tide_registry *reg, const char *tags,
                        const struct tide_vu_request *r, const struct tide_sample *s);
/* All of the above for a request 'vu' made: measures, corrects, records under the VU's tags
 * and fills 's' for the response. */
void tide_sample_request(struct tide_vu *vu, const struct tide_vu_request *r,
                         struct tide_sample *s);

/* Records 'value' of 'metric' under the VU's tags with 'extra' (canonical pairs, or NULL)
 * merged in, as tide_vu_tags builds them: through the worker's series cache (seriescache.h),
 * so a VU's per-iteration and per-check samples do not rebuild their tag set each time. */
void tide_sample_vu_add(struct tide_vu *vu, const char *extra, int metric, double value);

#endif
