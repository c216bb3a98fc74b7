/* metrics.c: metric definitions, tag sets, and registries of series (hash table by metric and
 * canonical tags). */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "metrics.h"

#define MAX_METRICS    1024
/* Series a metric may have beyond TIDE_SERIES_CAP when folded by name only (other tags kept). */
#define OVERFLOW_SLACK 64

struct def {
    char name[129];
    enum tide_metric_type type;
    enum tide_contains contains;
};

/* Metrics registered at run time (custom ones): id = TIDE_M_BUILTIN_COUNT + index. A slot is
 * written once, under the lock, before its id is returned; readers got the id through the lock
 * (or through a registry handed over under another lock), so they read a complete slot. */
static pthread_mutex_t defs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct def defs[MAX_METRICS - TIDE_M_BUILTIN_COUNT];
static int ndefs;

static const struct {
    const char *name;
    enum tide_metric_type type;
    enum tide_contains contains;
} builtins[TIDE_M_BUILTIN_COUNT] = {
    [TIDE_M_HTTP_REQS] = {"http_reqs", TIDE_COUNTER, TIDE_CONTAINS_DEFAULT},
    [TIDE_M_HTTP_REQ_DURATION] = {"http_req_duration", TIDE_TREND, TIDE_CONTAINS_TIME},
    [TIDE_M_HTTP_REQ_BLOCKED] = {"http_req_blocked", TIDE_TREND, TIDE_CONTAINS_TIME},
    [TIDE_M_HTTP_REQ_CONNECTING] = {"http_req_connecting", TIDE_TREND, TIDE_CONTAINS_TIME},
    [TIDE_M_HTTP_REQ_TLS] = {"http_req_tls_handshaking", TIDE_TREND, TIDE_CONTAINS_TIME},
    [TIDE_M_HTTP_REQ_SENDING] = {"http_req_sending", TIDE_TREND, TIDE_CONTAINS_TIME},
    [TIDE_M_HTTP_REQ_WAITING] = {"http_req_waiting", TIDE_TREND, TIDE_CONTAINS_TIME},
    [TIDE_M_HTTP_REQ_RECEIVING] = {"http_req_receiving", TIDE_TREND, TIDE_CONTAINS_TIME},
    [TIDE_M_HTTP_REQ_FAILED] = {"http_req_failed", TIDE_RATE, TIDE_CONTAINS_DEFAULT},
    [TIDE_M_ITERATIONS] = {"iterations", TIDE_COUNTER, TIDE_CONTAINS_DEFAULT},
    [TIDE_M_ITERATION_DURATION] = {"iteration_duration", TIDE_TREND, TIDE_CONTAINS_TIME},
    [TIDE_M_DROPPED_ITERATIONS] = {"dropped_iterations", TIDE_COUNTER, TIDE_CONTAINS_DEFAULT},
    [TIDE_M_VUS] = {"vus", TIDE_GAUGE, TIDE_CONTAINS_DEFAULT},
    [TIDE_M_VUS_MAX] = {"vus_max", TIDE_GAUGE, TIDE_CONTAINS_DEFAULT},
    [TIDE_M_DATA_SENT] = {"data_sent", TIDE_COUNTER, TIDE_CONTAINS_DATA},
    [TIDE_M_DATA_RECEIVED] = {"data_received", TIDE_COUNTER, TIDE_CONTAINS_DATA},
    [TIDE_M_CHECKS] = {"checks", TIDE_RATE, TIDE_CONTAINS_DEFAULT},
    [TIDE_M_HTTP_REQ_DURATION_UNCORRECTED] = {"http_req_duration_uncorrected", TIDE_TREND,
                                              TIDE_CONTAINS_TIME},
    [TIDE_M_ITERATION_START_DELAY] = {"iteration_start_delay", TIDE_TREND, TIDE_CONTAINS_TIME},
    [TIDE_M_LOOP_LAG] = {"tide_loop_lag", TIDE_TREND, TIDE_CONTAINS_TIME},
    [TIDE_M_WORKER_CPU] = {"tide_worker_cpu", TIDE_TREND, TIDE_CONTAINS_DEFAULT},
    [TIDE_M_SCRIPT_ERRORS] = {"tide_script_errors", TIDE_COUNTER, TIDE_CONTAINS_DEFAULT},
    [TIDE_M_FAILURES] = {"tide_failures", TIDE_COUNTER, TIDE_CONTAINS_DEFAULT},
    [TIDE_M_CONTENT_BYTES] = {"tide_content_bytes", TIDE_COUNTER, TIDE_CONTAINS_DATA},
    [TIDE_M_HTTP_REQ_RETRIES] = {"http_req_retries", TIDE_COUNTER, TIDE_CONTAINS_DEFAULT},
};

/* The id of 'name', or -1; the caller holds defs_lock. */
static int find_locked(const char *name)
{
    for (int i = 0; i < TIDE_M_BUILTIN_COUNT; i++) {
        if (strcmp(builtins[i].name, name) == 0)
            return i;
    }
    for (int i = 0; i < ndefs; i++) {
        if (strcmp(defs[i].name, name) == 0)
            return TIDE_M_BUILTIN_COUNT + i;
    }
    return -1;
}

static bool valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 128 || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '.')
            return false;
    }
    return true;
}

const char *tide_metric_type_name(enum tide_metric_type t)
{
    static const char *names[] = {"counter", "gauge", "rate", "trend"};
    return names[t];
}

int tide_metric_register(const char *name, enum tide_metric_type type, enum tide_contains contains,
                         struct tide_err *err)
{
    if (!valid_name(name))
        return tide_err_set(err, "metric name \"%s\" is invalid (use letters, digits and _)", name);
    pthread_mutex_lock(&defs_lock);
    int id = find_locked(name);
    if (id >= 0 && tide_metric_type_of(id) != type) {
        pthread_mutex_unlock(&defs_lock);
        return tide_err_set(err, "metric \"%s\" is already a %s, not a %s", name,
                            tide_metric_type_name(tide_metric_type_of(id)),
                            tide_metric_type_name(type));
    }
    if (id < 0 && TIDE_M_BUILTIN_COUNT + ndefs == MAX_METRICS) {
        pthread_mutex_unlock(&defs_lock);
        return tide_err_set(err, "too many metrics (at most %d)", MAX_METRICS);
    }
    if (id < 0) {
        struct def *d = &defs[ndefs];
        snprintf(d->name, sizeof d->name, "%s", name);
        d->type = type;
        d->contains = contains;
        id = TIDE_M_BUILTIN_COUNT + ndefs++;
    }
    pthread_mutex_unlock(&defs_lock);
    return id;
}

int tide_metric_lookup(const char *name)
{
    pthread_mutex_lock(&defs_lock);
    int id = find_locked(name);
    pthread_mutex_unlock(&defs_lock);
    return id;
}

/* Definitions are only appended, so reading an existing id needs no lock. */
const char *tide_metric_name(int id)
{
    if (id < TIDE_M_BUILTIN_COUNT)
        return builtins[id].name;
    return defs[id - TIDE_M_BUILTIN_COUNT].name;
}

enum tide_metric_type tide_metric_type_of(int id)
{
    if (id < TIDE_M_BUILTIN_COUNT)
        return builtins[id].type;
    return defs[id - TIDE_M_BUILTIN_COUNT].type;
}

enum tide_contains tide_metric_contains(int id)
{
    if (id < TIDE_M_BUILTIN_COUNT)
        return builtins[id].contains;
    return defs[id - TIDE_M_BUILTIN_COUNT].contains;
}

int tide_metric_count(void)
{
    pthread_mutex_lock(&defs_lock);
    int n = TIDE_M_BUILTIN_COUNT + ndefs;
    pthread_mutex_unlock(&defs_lock);
    return n;
}

/* --- tag sets --- */

void tide_tags_set(struct tide_tags *t, const char *key, const char *value)
{
    for (int i = 0; i < t->n; i++) {
        if (strcmp(t->key[i], key) == 0) {
            t->value[i] = value;
            return;
        }
    }
    if (t->n < 32) {
        t->key[t->n] = key;
        t->value[t->n] = value;
        t->n++;
    }
}

size_t tide_tags_canon(const struct tide_tags *t, char *buf, size_t len)
{
    int order[32];
    for (int i = 0; i < t->n; i++)
        order[i] = i;
    for (int i = 1; i < t->n; i++) { /* insertion sort: sets are small */
        int k = order[i], j = i - 1;
        while (j >= 0 && strcmp(t->key[order[j]], t->key[k]) > 0) {
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = k;
    }
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < t->n; i++) {
        const char *k = t->key[order[i]], *v = t->value[order[i]];
        size_t kl = strlen(k), vl = strlen(v);
        if (o + kl + vl + 3 > len)
            break;
        if (o > 0)
            buf[o++] = '\x1e';
        memcpy(buf + o, k, kl);
        o += kl;
        buf[o++] = '\x1f';
        for (size_t c = 0; c < vl; c++) /* separators inside values would corrupt the set */
            buf[o++] = (v[c] == '\x1e' || v[c] == '\x1f') ? '_' : v[c];
        buf[o] = '\0';
    }
    return o;
}

void tide_tags_parse(const char *canon, char *scratch, size_t len, struct tide_tags *t)
{
    t->n = 0;
    snprintf(scratch, len, "%s", canon);
    char *p = scratch;
    while (*p != '\0' && t->n < 32) {
        char *sep = strchr(p, '\x1f');
        if (sep == NULL)
            break;
        *sep = '\0';
        char *v = sep + 1;
        char *end = strchr(v, '\x1e');
        if (end != NULL)
            *end = '\0';
        t->key[t->n] = p;
        t->value[t->n] = v;
        t->n++;
        if (end == NULL)
            break;
        p = end + 1;
    }
}

/* --- aggregates --- */

void tide_agg_init(struct tide_agg *a, enum tide_metric_type type)
{
    memset(a, 0, sizeof *a);
    a->type = type;
}

void tide_agg_add(struct tide_agg *a, double value)
{
    if (a->count == 0 || value < a->min)
        a->min = value;
    if (a->count == 0 || value > a->max)
        a->max = value;
    a->count++;
    a->sum += value;
    a->last = value;
    if (value != 0)
        a->nonzero++;
    if (a->type == TIDE_TREND) {
        if (a->hdr == NULL)
            a->hdr = tide_hdr_new();
        if (a->hdr != NULL)
            tide_hdr_record(a->hdr, (int64_t)llround(value * 1000.0));
    }
}

void tide_agg_merge(struct tide_agg *dst, const struct tide_agg *src)
{
    if (src->count == 0)
        return;
    if (dst->count == 0 || src->min < dst->min)
        dst->min = src->min;
    if (dst->count == 0 || src->max > dst->max)
        dst->max = src->max;
    dst->count += src->count;
    dst->sum += src->sum;
    dst->nonzero += src->nonzero;
    dst->last = src->last;
    if (src->hdr != NULL) {
        if (dst->hdr == NULL)
            dst->hdr = tide_hdr_new();
        if (dst->hdr != NULL)
            tide_hdr_merge(dst->hdr, src->hdr);
    }
}

void tide_agg_fini(struct tide_agg *a)
{
    tide_hdr_free(a->hdr);
    a->hdr = NULL;
}

double tide_agg_percentile(const struct tide_agg *a, double p)
{
    if (a->hdr == NULL || a->count == 0)
        return 0;
    return (double)tide_hdr_percentile(a->hdr, p) / 1000.0;
}

static double round3(double v)
{
    return round(v * 1000.0) / 1000.0;
}

cJSON *tide_agg_to_json(const struct tide_agg *a, enum tide_contains contains, bool histogram)
{
    static const char *contains_names[] = {"default", "time", "data"};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", tide_metric_type_name(a->type));
    cJSON_AddStringToObject(o, "contains", contains_names[contains]);
    double secs = a->seconds > 0 ? a->seconds : 1;
    switch (a->type) {
    case TIDE_COUNTER:
        cJSON_AddNumberToObject(o, "count", a->sum);
        cJSON_AddNumberToObject(o, "rate", round3(a->sum / secs));
        break;
    case TIDE_GAUGE:
        cJSON_AddNumberToObject(o, "value", a->last);
        cJSON_AddNumberToObject(o, "min", a->min);
        cJSON_AddNumberToObject(o, "max", a->max);
        break;
    case TIDE_RATE:
        cJSON_AddNumberToObject(o, "rate", a->count ? (double)a->nonzero / (double)a->count : 0);
        cJSON_AddNumberToObject(o, "passes", (double)a->nonzero);
        cJSON_AddNumberToObject(o, "fails", (double)(a->count - a->nonzero));
        break;
    case TIDE_TREND: {
        cJSON_AddNumberToObject(o, "count", (double)a->count);
        cJSON_AddNumberToObject(o, "avg", a->count ? round3(a->sum / (double)a->count) : 0);
        cJSON_AddNumberToObject(o, "min", round3(a->min));
        cJSON_AddNumberToObject(o, "med", round3(tide_agg_percentile(a, 50)));
        cJSON_AddNumberToObject(o, "max", round3(a->max));
        static const struct {
            const char *key;
            double p;
        } ps[] = {{"p90", 90}, {"p95", 95}, {"p99", 99}, {"p99.9", 99.9}};
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
            cJSON_AddNumberToObject(o, ps[i].key, round3(tide_agg_percentile(a, ps[i].p)));
        if (histogram && a->hdr != NULL)
            cJSON_AddItemToObject(o, "histogram", tide_hdr_to_json(a->hdr));
        break;
    }
    }
    return o;
}

/* --- registries --- */

struct tide_registry {
    struct tide_series *series;
    size_t n, cap;
    uint32_t nper[MAX_METRICS]; /* series per metric */
    uint32_t *slots;            /* index+1 into series; 0 = empty */
    size_t nslots;
    uint64_t epoch; /* tide_registry_epoch: new at creation and at every reset */
};

/* Epochs are unique in the process, so an index remembered with one can never be taken for
 * an index of another registry, or of this one after a reset moved its series. */
static uint64_t next_epoch(void)
{
    static uint64_t counter; /* only through __atomic builtins */
    return __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
}

uint64_t tide_tags_hash(const char *tags)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)tags; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

/* One tag set is recorded under many metrics: its hash is computed once and mixed here. */
static uint64_t mix(int metric, uint64_t taghash)
{
    uint64_t h = taghash ^ ((uint64_t)(metric + 1) * 0x9E3779B97F4A7C15ULL);
    h ^= h >> 29;
    return h;
}

struct tide_registry *tide_registry_new(void)
{
    struct tide_registry *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->nslots = 64;
    r->epoch = next_epoch();
    r->slots = calloc(r->nslots, sizeof *r->slots);
    if (r->slots == NULL) {
        free(r);
        return NULL;
    }
    return r;
}

void tide_registry_free(struct tide_registry *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->series[i].tags);
        tide_agg_fini(&r->series[i].agg);
    }
    free(r->series);
    free(r->slots);
    free(r);
}

static int grow_slots(struct tide_registry *r)
{
    size_t n = r->nslots * 2;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < r->n; i++) {
        size_t s = r->series[i].hash & (n - 1);
        while (slots[s] != 0)
            s = (s + 1) & (n - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    free(r->slots);
    r->slots = slots;
    r->nslots = n;
    return 0;
}

/* The metrics every HTTP request records under the same tags: they overflow together, so one
 * warning covers them all. */
static bool per_request_metric(int metric)
{
    return metric <= TIDE_M_HTTP_REQ_FAILED || metric == TIDE_M_DATA_SENT ||
           metric == TIDE_M_DATA_RECEIVED || metric == TIDE_M_HTTP_REQ_DURATION_UNCORRECTED ||
           metric == TIDE_M_FAILURES || metric == TIDE_M_CONTENT_BYTES ||
           metric == TIDE_M_HTTP_REQ_RETRIES;
}

static void warn_overflow(int metric)
{
    static bool warned[MAX_METRICS]; /* only through __atomic builtins */
    int flag = per_request_metric(metric) ? TIDE_M_HTTP_REQS : metric;
    if (__atomic_exchange_n(&warned[flag], true, __ATOMIC_RELAXED))
        return;
    tide_log(TIDE_LOG_WARN,
             "metric %s has more than %d series (distinct tag sets): further ones are counted "
             "under name=\"%s\"; give such requests a name (http.get(url, { name = "
             "\"/users/{id}\" })) or fewer distinct tag values",
             tide_metric_name(metric), TIDE_SERIES_CAP, TIDE_SERIES_OTHER);
}

/* The tags an overflowing sample is counted under: its own with 'name' set to "(other)" and no
 * 'url' (keeps method, status, scenario... for thresholds) while the metric has room for
 * OVERFLOW_SLACK more; else the one catch-all set name="(other)". */
static void overflow_tags(const struct tide_registry *r, int metric, const char *tags, char *out,
                          size_t len)
{
    char scratch[2048];
    struct tide_tags t, kept = {0};
    tide_tags_parse(tags, scratch, sizeof scratch, &t);
    for (int i = 0; i < t.n; i++) {
        if (strcmp(t.key[i], "url") != 0 && strcmp(t.key[i], "name") != 0)
            tide_tags_set(&kept, t.key[i], t.value[i]);
    }
    if (r->nper[metric] >= TIDE_SERIES_CAP + OVERFLOW_SLACK)
        kept.n = 0; /* the other tags vary too: the catch-all */
    tide_tags_set(&kept, "name", TIDE_SERIES_OTHER);
    tide_tags_canon(&kept, out, len);
}

static struct tide_series *find_h(const struct tide_registry *r, int metric, const char *tags,
                                  uint64_t h, size_t *slot)
{
    size_t s = h & (r->nslots - 1);
    while (r->slots[s] != 0) {
        struct tide_series *se = &r->series[r->slots[s] - 1];
        if (se->hash == h && se->metric == metric && strcmp(se->tags, tags) == 0)
            return se;
        s = (s + 1) & (r->nslots - 1);
    }
    *slot = s;
    return NULL;
}

/* *folded (if not NULL) tells whether the sample went to an overflow series. */
static struct tide_series *find_or_add_h(struct tide_registry *r, int metric, const char *tags,
                                         uint64_t taghash, bool *folded)
{
    uint64_t h = mix(metric, taghash);
    size_t s;
    struct tide_series *found = find_h(r, metric, tags, h, &s);
    if (found != NULL)
        return found;
    char other[2048]; /* 'tags' may point here from now on */
    if (metric >= 0 && metric < MAX_METRICS && r->nper[metric] >= TIDE_SERIES_CAP) {
        overflow_tags(r, metric, tags, other, sizeof other);
        if (strcmp(other, tags) != 0) { /* else: the fold itself; add it */
            warn_overflow(metric);
            if (folded != NULL)
                *folded = true;
            tags = other;
            h = mix(metric, tide_tags_hash(tags));
            found = find_h(r, metric, tags, h, &s);
            if (found != NULL)
                return found;
        }
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        struct tide_series *grown = realloc(r->series, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        r->series = grown;
        r->cap = cap;
    }
    struct tide_series *se = &r->series[r->n];
    se->tags = strdup(tags);
    if (se->tags == NULL)
        return NULL;
    se->metric = metric;
    se->hash = h;
    tide_agg_init(&se->agg, tide_metric_type_of(metric));
    r->slots[s] = (uint32_t)(r->n + 1);
    r->n++;
    r->nper[metric]++;
    if (r->n * 2 > r->nslots && grow_slots(r) != 0)
        return NULL;
    return &r->series[r->n - 1];
}

static struct tide_series *find_or_add(struct tide_registry *r, int metric, const char *tags)
{
    return find_or_add_h(r, metric, tags, tide_tags_hash(tags), NULL);
}

void tide_registry_add_h(struct tide_registry *r, int metric, const char *tags, uint64_t taghash,
                         double value)
{
    struct tide_series *se = find_or_add_h(r, metric, tags, taghash, NULL);
    if (se != NULL)
        tide_agg_add(&se->agg, value);
}

uint64_t tide_registry_epoch(const struct tide_registry *r)
{
    return r->epoch;
}

long tide_registry_index(struct tide_registry *r, int metric, const char *tags, uint64_t taghash,
                         bool *folded)
{
    *folded = false;
    struct tide_series *se = find_or_add_h(r, metric, tags, taghash, folded);
    return se != NULL ? (long)(se - r->series) : -1;
}

void tide_registry_add_at(struct tide_registry *r, size_t i, double value)
{
    tide_agg_add(&r->series[i].agg, value);
}

void tide_registry_add(struct tide_registry *r, int metric, const char *tags, double value)
{
    struct tide_series *se = find_or_add(r, metric, tags);
    if (se != NULL)
        tide_agg_add(&se->agg, value);
}

int tide_registry_merge(struct tide_registry *dst, const struct tide_registry *src)
{
    for (size_t i = 0; i < src->n; i++) {
        const struct tide_series *s = &src->series[i];
        if (s->agg.count == 0)
            continue;
        struct tide_series *d = find_or_add(dst, s->metric, s->tags);
        if (d == NULL)
            return -1;
        tide_agg_merge(&d->agg, &s->agg);
    }
    return 0;
}

int tide_registry_merge_agg(struct tide_registry *dst, int metric, const char *tags,
                            const struct tide_agg *a)
{
    if (a->count == 0)
        return 0;
    struct tide_series *d = find_or_add(dst, metric, tags);
    if (d == NULL)
        return -1;
    tide_agg_merge(&d->agg, a);
    return 0;
}

/* Puts every series back into the (cleared) slot table, e.g. after some were dropped. */
static void rehash(struct tide_registry *r)
{
    memset(r->slots, 0, r->nslots * sizeof *r->slots);
    for (size_t i = 0; i < r->n; i++) {
        size_t s = r->series[i].hash & (r->nslots - 1);
        while (r->slots[s] != 0)
            s = (s + 1) & (r->nslots - 1);
        r->slots[s] = (uint32_t)(i + 1);
    }
}

static void agg_zero(struct tide_agg *a)
{
    struct tide_hdr *h = a->hdr;
    tide_agg_init(a, a->type);
    if (h != NULL)
        tide_hdr_reset(h);
    a->hdr = h;
}

void tide_registry_reset(struct tide_registry *r)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->n; i++) {
        struct tide_series *s = &r->series[i];
        if (s->agg.count == 0) { /* idle for a whole interval: let it go */
            r->nper[s->metric]--;
            free(s->tags);
            tide_agg_fini(&s->agg);
            continue;
        }
        agg_zero(&s->agg);
        r->series[kept++] = *s;
    }
    bool dropped = kept != r->n;
    r->n = kept;
    r->epoch = next_epoch();
    if (dropped)
        rehash(r);
}

size_t tide_registry_size(const struct tide_registry *r)
{
    return r->n;
}

struct tide_series *tide_registry_at(const struct tide_registry *r, size_t i)
{
    return &r->series[i];
}

void tide_registry_aggregate(const struct tide_registry *r, int metric, tide_tags_match_fn match,
                             void *ctx, struct tide_agg *out)
{
    tide_agg_init(out, tide_metric_type_of(metric));
    for (size_t i = 0; i < r->n; i++) {
        const struct tide_series *s = &r->series[i];
        if (s->metric != metric)
            continue;
        if (match != NULL) {
            char scratch[2048];
            struct tide_tags t;
            tide_tags_parse(s->tags, scratch, sizeof scratch, &t);
            if (!match(ctx, &t))
                continue;
        }
        tide_agg_merge(out, &s->agg);
    }
}
