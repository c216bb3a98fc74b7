/* metrics.h: metric definitions (process-wide) and registries of tagged series.
 * A registry belongs to one thread at a time; workers fill one per interval and hand it to
 * the coordinator (recorder.h), which merges them exactly (histograms included) and gives
 * them back reset. */
#ifndef TIDE_METRICS_H
#define TIDE_METRICS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>
#include "agg.h"
#include "err.h"

enum tide_contains { TIDE_CONTAINS_DEFAULT, TIDE_CONTAINS_TIME, TIDE_CONTAINS_DATA };

/* Built-in metrics: defined statically, so their ids are these constants from the start and
 * any thread may use them without registering. */
enum tide_builtin_metric {
    TIDE_M_HTTP_REQS,
    TIDE_M_HTTP_REQ_DURATION,
    TIDE_M_HTTP_REQ_BLOCKED,
    TIDE_M_HTTP_REQ_CONNECTING,
    TIDE_M_HTTP_REQ_TLS,
    TIDE_M_HTTP_REQ_SENDING,
    TIDE_M_HTTP_REQ_WAITING,
    TIDE_M_HTTP_REQ_RECEIVING,
    TIDE_M_HTTP_REQ_FAILED,
    TIDE_M_ITERATIONS,
    TIDE_M_ITERATION_DURATION,
    TIDE_M_DROPPED_ITERATIONS,
    TIDE_M_VUS,
    TIDE_M_VUS_MAX,
    TIDE_M_DATA_SENT,
    TIDE_M_DATA_RECEIVED,
    TIDE_M_CHECKS,
    TIDE_M_HTTP_REQ_DURATION_UNCORRECTED,
    TIDE_M_ITERATION_START_DELAY,
    /* internal (names start with "tide_": kept out of the summary's metrics) */
    TIDE_M_LOOP_LAG,         /* tide_loop_lag: how late a worker's 100 ms timer fired (ms) */
    TIDE_M_WORKER_CPU,       /* tide_worker_cpu: a worker thread's CPU, percent of one core */
    TIDE_M_SCRIPT_ERRORS,    /* tide_script_errors{message} */
    TIDE_M_FAILURES,         /* tide_failures{method,name,error}: failed requests by kind */
    TIDE_M_CONTENT_BYTES,    /* tide_content_bytes: response bodies, per request series */
    TIDE_M_HTTP_REQ_RETRIES, /* http_req_retries: re-sends after a stale keep-alive connection */
    TIDE_M_BUILTIN_COUNT
};

/* Definitions. Names: [A-Za-z_][A-Za-z0-9_.]*, at most 128 bytes. Re-registering a name with
 * the same type returns its id; with another type it is an error. Thread-safe: definitions
 * are only appended, so an id, once returned, names the same metric for the process's life. */
int tide_metric_register(const char *name, enum tide_metric_type type, enum tide_contains contains,
                         struct tide_err *err);
int tide_metric_lookup(const char *name); /* -1 when unknown */
const char *tide_metric_name(int id);
enum tide_metric_type tide_metric_type_of(int id);
enum tide_contains tide_metric_contains(int id);
int tide_metric_count(void);
const char *tide_metric_type_name(enum tide_metric_type t); /* "counter", "trend", ... */

/* Tag sets are canonical strings: "k\x1fv\x1ek\x1fv" sorted by key, so equal sets are equal
 * strings. A tagset builder: */
struct tide_tags {
    int n;
    const char *key[32];
    const char *value[32];
};
void tide_tags_set(struct tide_tags *t, const char *key, const char *value); /* replaces */
/* Writes the canonical form into buf; returns its length (truncated sets are cut at a pair). */
size_t tide_tags_canon(const struct tide_tags *t, char *buf, size_t len);
/* Splits a canonical string into 't' (pointers into 'scratch', a copy of canon). */
void tide_tags_parse(const char *canon, char *scratch, size_t len, struct tide_tags *t);

/* One series: a metric with one tag set, and its aggregate. */
struct tide_series {
    int metric;
    char *tags; /* canonical */
    uint64_t hash;
    struct tide_agg agg; /* agg.hdr is owned (trend) */
};

/* A registry keeps at most TIDE_SERIES_CAP series per metric (10k distinct URLs without a
 * 'name' must not cost gigabytes): samples of further tag sets are counted under the same tags
 * with name="(other)" (and no url), or, past a small slack, under name="(other)" alone. A
 * warning, once, names the metric and the cap. Totals stay exact. */
#define TIDE_SERIES_CAP   250
#define TIDE_SERIES_OTHER "(other)"

struct tide_registry; /* opaque */
struct tide_registry *tide_registry_new(void);
void tide_registry_free(struct tide_registry *r);
/* Records a sample. Trend values are in the metric's unit (ms for time) and kept x1000. */
void tide_registry_add(struct tide_registry *r, int metric, const char *tags, double value);
/* The same with the tags' hash (tide_tags_hash) computed once for several metrics. */
uint64_t tide_tags_hash(const char *tags);
void tide_registry_add_h(struct tide_registry *r, int metric, const char *tags, uint64_t taghash,
                         double value);
/* Series by index, for callers that record the same tag set again and again (seriescache.h).
 * epoch: names the registry's current layout; an index stays valid while it is unchanged (a
 * reset, or another registry, gives another epoch). index: the series 'add_h' would record
 * into, created if new; -1 without memory; *folded: it is an overflow series (the cap above),
 * which the caller must not remember, since a later sample of the same tags may fold
 * elsewhere. add_at: records into series i. */
uint64_t tide_registry_epoch(const struct tide_registry *r);
long tide_registry_index(struct tide_registry *r, int metric, const char *tags, uint64_t taghash,
                         bool *folded);
void tide_registry_add_at(struct tide_registry *r, size_t i, double value);
/* Adds everything in src into dst (exact); series of src without samples are skipped. */
int tide_registry_merge(struct tide_registry *dst, const struct tide_registry *src);
/* Adds the aggregate 'a' to the series (metric, tags) of dst (exact; a read-back series). */
int tide_registry_merge_agg(struct tide_registry *dst, int metric, const char *tags,
                            const struct tide_agg *a);
/* Empties r for reuse, keeping its allocations: series that had samples stay (aggregates
 * zeroed, histograms kept), so the next interval records without allocating; series that had
 * none since the last reset are dropped, so tag sets seen once do not pile up. */
void tide_registry_reset(struct tide_registry *r);
/* Series, in the order they were first seen. After a reset a series may have no samples
 * (agg.count == 0) until it is recorded again. */
size_t tide_registry_size(const struct tide_registry *r);
struct tide_series *tide_registry_at(const struct tide_registry *r, size_t i);

/* Aggregates: merges every series of 'metric' whose tags satisfy 'match' (NULL: all) into
 * 'out', whose histogram (if any) is allocated and must be released with tide_agg_fini. */
typedef bool (*tide_tags_match_fn)(void *ctx, const struct tide_tags *tags);
void tide_registry_aggregate(const struct tide_registry *r, int metric, tide_tags_match_fn match,
                             void *ctx, struct tide_agg *out);
void tide_agg_init(struct tide_agg *a, enum tide_metric_type type);
void tide_agg_add(struct tide_agg *a, double value);
void tide_agg_merge(struct tide_agg *dst, const struct tide_agg *src);
void tide_agg_fini(struct tide_agg *a);
/* The summary.json form of an aggregate (count, avg, percentiles, histogram...). */
cJSON *tide_agg_to_json(const struct tide_agg *a, enum tide_contains contains, bool histogram);
/* Trend value in the metric's unit (ms) at percentile p. */
double tide_agg_percentile(const struct tide_agg *a, double p);

#endif
