/* prom_stream.c: per-second series for remote write (prom_stream.h): running totals kept
 * here per metric and tag set, label sets encoded once per series. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "log.h"
#include "prom_encode.h"
#include "prom_send.h"
#include "prom_stream.h"

#define MAX_LABELS   (32 + 3) /* the tags, __name__, run_id, quantile */
#define NAME_MAX_LEN 128

/* Running totals of one metric and tag set, with the encoded labels of its series. */
struct entry {
    int metric;
    char *tags;
    uint64_t hash;
    double a, b;            /* counter: total; rate: non-zero, samples; trend: count, sum */
    struct tide_buf la, lb; /* labels of the series of a and of b (rates and trends) */
};

struct tide_prom_stream {
    struct tide_prom_sender *sender;
    char *run_id; /* redacted */
    struct entry *entries;
    size_t nentries, cap;
    int *slots; /* open addressing into entries, -1 empty; size nslots (power of two) */
    size_t nslots;
    struct tide_buf req, body;
    bool warned_cap;
    long pushes;
};

/* Prometheus names: [a-zA-Z_:][a-zA-Z0-9_:]* for metrics, no ':' in label names. */
static void sanitize(char *out, size_t size, const char *in, bool colon_ok)
{
    size_t n = 0;
    if (isdigit((unsigned char)in[0]) && n + 1 < size)
        out[n++] = '_';
    for (; *in != '\0' && n + 1 < size; in++) {
        unsigned char c = (unsigned char)*in;
        out[n++] = (char)(isalnum(c) || c == '_' || (colon_ok && c == ':') ? c : '_');
    }
    out[n] = '\0';
}

/* The series name of 'metric' with 'suffix' (e.g. "_total"): tide_<name><unit><suffix>. */
static void series_name(char *out, size_t size, int metric, const char *suffix)
{
    char base[NAME_MAX_LEN];
    sanitize(base, sizeof base, tide_metric_name(metric), true);
    enum tide_contains c = tide_metric_contains(metric);
    const char *unit = c == TIDE_CONTAINS_TIME   ? "_seconds"
                       : c == TIDE_CONTAINS_DATA ? "_bytes"
                                                 : "";
    snprintf(out, size, "tide_%s%s%s", base, unit, suffix);
}

/* Encodes the label set {__name__=name, run_id, tags..., quantile} into 'out'. */
static void build_labels(const struct tide_prom_stream *p, struct tide_buf *out, const char *name,
                         const char *canon, const char *quantile)
{
    struct tide_prom_label labels[MAX_LABELS];
    char keys[MAX_LABELS][NAME_MAX_LEN];
    char *values[MAX_LABELS]; /* redacted copies */
    int n = 0, nvalues = 0;
    labels[n++] = (struct tide_prom_label){"__name__", name};
    if (p->run_id != NULL)
        labels[n++] = (struct tide_prom_label){"run_id", p->run_id};
    if (quantile != NULL)
        labels[n++] = (struct tide_prom_label){"quantile", quantile};
    size_t len = strlen(canon) + 1;
    char *scratch = malloc(len);
    struct tide_tags t = {0};
    if (scratch != NULL)
        tide_tags_parse(canon, scratch, len, &t);
    for (int i = 0; i < t.n && n < MAX_LABELS; i++) {
        if (t.value[i][0] == '\0' || strcmp(t.key[i], "url") == 0)
            continue; /* empty is absent in Prometheus; url: ids and queries, use name */
        char *key = keys[n];
        char plain[NAME_MAX_LEN - 4]; /* room for the prefix below */
        sanitize(plain, sizeof plain, t.key[i], false);
        /* reserved names and tide's own labels are kept apart from user tags */
        bool clash = strncmp(plain, "__", 2) == 0 || strcmp(plain, "run_id") == 0 ||
                     strcmp(plain, "quantile") == 0;
        snprintf(key, NAME_MAX_LEN, "%s%s", clash ? "tag_" : "", plain);
        bool dup = false;
        for (int j = 0; j < n && !dup; j++)
            dup = strcmp(labels[j].name, key) == 0;
        char *v = dup ? NULL : tide_redact(t.value[i]);
        if (v == NULL)
            continue;
        values[nvalues++] = v;
        labels[n++] = (struct tide_prom_label){key, v};
    }
    tide_prom_sort_labels(labels, n);
    tide_prom_encode_labels(out, labels, n);
    for (int i = 0; i < nvalues; i++)
        free(values[i]);
    free(scratch);
}

static uint64_t key_hash(int metric, uint64_t tags_hash)
{
    return tags_hash ^ ((uint64_t)(unsigned)metric * 0x9E3779B97F4A7C15ull);
}

static bool grow_slots(struct tide_prom_stream *p)
{
    size_t n = p->nslots ? p->nslots * 2 : 256;
    int *slots = malloc(n * sizeof *slots);
    if (slots == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        slots[i] = -1;
    for (size_t e = 0; e < p->nentries; e++) {
        size_t i = (size_t)p->entries[e].hash & (n - 1);
        while (slots[i] >= 0)
            i = (i + 1) & (n - 1);
        slots[i] = (int)e;
    }
    free(p->slots);
    p->slots = slots;
    p->nslots = n;
    return true;
}

/* The entry of (metric, tags), created with its label sets on first sight; NULL without
 * memory. */
static struct entry *entry_of(struct tide_prom_stream *p, const struct tide_series *se)
{
    const char *tags = se->tags != NULL ? se->tags : "";
    uint64_t h = key_hash(se->metric, se->hash);
    if (p->nslots != 0) {
        for (size_t i = (size_t)h & (p->nslots - 1); p->slots[i] >= 0;
             i = (i + 1) & (p->nslots - 1)) {
            struct entry *e = &p->entries[p->slots[i]];
            if (e->hash == h && e->metric == se->metric && strcmp(e->tags, tags) == 0)
                return e;
        }
    }
    if ((p->nentries + 1) * 2 > p->nslots && !grow_slots(p))
        return NULL;
    if (p->nentries == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct entry *es = realloc(p->entries, cap * sizeof *es);
        if (es == NULL)
            return NULL;
        p->entries = es;
        p->cap = cap;
    }
    struct entry *e = &p->entries[p->nentries];
    memset(e, 0, sizeof *e);
    if ((e->tags = strdup(tags)) == NULL)
        return NULL;
    e->metric = se->metric;
    e->hash = h;
    char name[NAME_MAX_LEN + 32];
    switch (tide_metric_type_of(se->metric)) {
    case TIDE_COUNTER:
        series_name(name, sizeof name, se->metric, "_total");
        build_labels(p, &e->la, name, tags, NULL);
        break;
    case TIDE_RATE:
        series_name(name, sizeof name, se->metric, "_total");
        build_labels(p, &e->la, name, tags, NULL);
        series_name(name, sizeof name, se->metric, "_samples_total");
        build_labels(p, &e->lb, name, tags, NULL);
        break;
    case TIDE_TREND:
        series_name(name, sizeof name, se->metric, "_count");
        build_labels(p, &e->la, name, tags, NULL);
        series_name(name, sizeof name, se->metric, "_sum");
        build_labels(p, &e->lb, name, tags, NULL);
        break;
    case TIDE_GAUGE:
        break;
    }
    size_t i = (size_t)h & (p->nslots - 1);
    while (p->slots[i] >= 0)
        i = (i + 1) & (p->nslots - 1);
    p->slots[i] = (int)p->nentries++;
    return e;
}

struct tide_prom_stream *tide_prom_stream_open(const char *url, struct tide_err *err)
{
    if (tide_prom_check_url(url, err) != 0)
        return NULL;
    struct tide_prom_stream *p = calloc(1, sizeof *p);
    if (p == NULL) {
        tide_err_set(err, "--stream prometheus: out of memory");
        return NULL;
    }
    if ((p->sender = tide_prom_sender_open(url, err)) == NULL) {
        free(p);
        return NULL;
    }
    return p;
}

void tide_prom_stream_set_run_id(struct tide_prom_stream *p, const char *run_id)
{
    if (p == NULL || run_id == NULL || p->run_id != NULL || p->nentries != 0)
        return; /* labels already encoded keep what they have */
    p->run_id = tide_redact(run_id);
}

static bool internal(int metric)
{
    const char *name = tide_metric_name(metric);
    return name == NULL || strncmp(name, "tide_", 5) == 0;
}

/* Appends one series unless the push is full. */
static void emit(struct tide_prom_stream *p, int *n, const struct tide_buf *labels, double v,
                 int64_t ts)
{
    if (*n >= TIDE_PROM_SERIES_CAP) {
        if (!p->warned_cap) {
            p->warned_cap = true;
            tide_log(TIDE_LOG_WARN,
                     "--stream prometheus: more than %d series in a second; the rest are not "
                     "pushed (fewer tags or names keep them all; summary.json has every one)",
                     TIDE_PROM_SERIES_CAP);
        }
        return;
    }
    if (labels->failed || labels->len == 0)
        return;
    tide_prom_add_series(&p->req, labels->data, labels->len, v, ts);
    (*n)++;
}

/* The second's gauges and trend quantiles, encoded now (not kept). */
static void emit_now(struct tide_prom_stream *p, int *n, const struct tide_series *se, int64_t ts)
{
    const char *tags = se->tags != NULL ? se->tags : "";
    char name[NAME_MAX_LEN + 32];
    struct tide_buf labels = {0};
    if (se->agg.type == TIDE_GAUGE) {
        series_name(name, sizeof name, se->metric, "");
        build_labels(p, &labels, name, tags, NULL);
        emit(p, n, &labels, se->agg.last, ts);
    } else if (se->agg.type == TIDE_TREND) {
        static const struct {
            const char *label;
            double p; /* 100: the max */
        } qs[] = {{"0.5", 50}, {"0.9", 90}, {"0.95", 95}, {"0.99", 99}, {"1", 100}};
        double scale = tide_metric_contains(se->metric) == TIDE_CONTAINS_TIME ? 0.001 : 1;
        series_name(name, sizeof name, se->metric, "");
        for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
            labels.len = 0;
            build_labels(p, &labels, name, tags, qs[i].label);
            double v = qs[i].p >= 100 ? se->agg.max : tide_agg_percentile(&se->agg, qs[i].p);
            emit(p, n, &labels, v * scale, ts);
        }
    }
    tide_buf_free(&labels);
}

void tide_prom_stream_second(struct tide_prom_stream *p, const struct tide_registry *reg,
                             int64_t wall_us, bool warmup)
{
    if (p == NULL || reg == NULL || warmup)
        return;
    int64_t ts = wall_us / 1000;
    size_t nreg = tide_registry_size(reg);
    /* running totals first: they are what rate() and increase() need */
    for (size_t i = 0; i < nreg; i++) {
        const struct tide_series *se = tide_registry_at(reg, i);
        if (se->agg.count == 0 || internal(se->metric) || se->agg.type == TIDE_GAUGE)
            continue;
        struct entry *e = entry_of(p, se);
        if (e == NULL)
            continue;
        const struct tide_agg *a = &se->agg;
        if (a->type == TIDE_COUNTER) {
            e->a += a->sum;
        } else if (a->type == TIDE_RATE) {
            e->a += (double)a->nonzero;
            e->b += (double)a->count;
        } else {
            double scale = tide_metric_contains(se->metric) == TIDE_CONTAINS_TIME ? 0.001 : 1;
            e->a += (double)a->count;
            e->b += a->sum * scale;
        }
    }
    p->req.len = 0;
    p->req.failed = false;
    int n = 0;
    for (size_t i = 0; i < p->nentries; i++) {
        const struct entry *e = &p->entries[i];
        emit(p, &n, &e->la, e->a, ts);
        if (e->lb.len > 0)
            emit(p, &n, &e->lb, e->b, ts);
    }
    for (size_t i = 0; i < nreg; i++) {
        const struct tide_series *se = tide_registry_at(reg, i);
        if (se->agg.count > 0 && !internal(se->metric))
            emit_now(p, &n, se, ts);
    }
    if (n == 0)
        return;
    if (tide_prom_compress(&p->req, &p->body) != 0) {
        tide_log(TIDE_LOG_WARN, "--stream prometheus: out of memory; a second is not pushed");
        return;
    }
    tide_prom_send(p->sender, p->body.data, p->body.len);
    p->pushes++;
}

long tide_prom_stream_close(struct tide_prom_stream *p)
{
    if (p == NULL)
        return 0;
    struct tide_prom_send_stats st = {0};
    tide_prom_sender_close(p->sender, TIDE_PROM_FLUSH_MS, &st);
    long lost = st.failed + st.dropped;
    if (lost > 0)
        tide_log(TIDE_LOG_WARN,
                 "--stream prometheus: %ld of %ld pushes did not arrive (%ld failed, %ld "
                 "dropped: queue full or still waiting after the %d s flush); summary.json has "
                 "every number",
                 lost, p->pushes, st.failed, st.dropped, TIDE_PROM_FLUSH_MS / 1000);
    for (size_t i = 0; i < p->nentries; i++) {
        free(p->entries[i].tags);
        tide_buf_free(&p->entries[i].la);
        tide_buf_free(&p->entries[i].lb);
    }
    free(p->entries);
    free(p->slots);
    free(p->run_id);
    tide_buf_free(&p->req);
    tide_buf_free(&p->body);
    free(p);
    return lost;
}
