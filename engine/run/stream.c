/* stream.c: the JSON lines stream (stream.h): formatting on the coordinator, writing on a
 * thread of its own, a byte-bounded queue between them. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "buf.h"
#include "clock.h"
#include "log.h"
#include "prom_send.h"
#include "prom_stream.h"
#include "stream.h"

struct chunk {
    struct chunk *next;
    size_t len;
    long points;
    char text[];
};

struct tide_stream {
    FILE *f;
    bool own; /* fclose at the end (not stdout) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct chunk *head, *tail; /* guarded by mu */
    size_t queued;             /* bytes in the queue; guarded by mu */
    bool closing;              /* guarded by mu */
    long dropped;              /* points dropped; guarded by mu */
    bool write_failed;         /* set by the writer, read after join */
    unsigned char *announced;  /* per metric id: its "Metric" line was written (coordinator) */
    int nannounced;
    struct tide_prom_stream *prom; /* prometheus=URL: pushes instead of lines (prom_stream.h) */
};

static const char *target_of(const char *spec)
{
    return strncmp(spec, "json=", 5) == 0 ? spec + 5 : NULL;
}

int tide_stream_check_spec(const char *spec, struct tide_err *err)
{
    const char *eq = strchr(spec, '=');
    if (eq == NULL)
        return tide_err_set(err,
                            "--stream %s: expected KIND=TARGET, e.g. json=metrics.jsonl "
                            "or json=- (docs/streams.md)",
                            spec);
    if (strncmp(spec, "prometheus=", 11) == 0)
        return tide_prom_check_url(spec + 11, err);
    const char *t = target_of(spec);
    if (t == NULL)
        return tide_err_set(err,
                            "--stream: unknown kind '%.*s' (json=FILE or prometheus=URL; "
                            "docs/streams.md)",
                            (int)(eq - spec), spec);
    if (*t == '\0')
        return tide_err_set(err, "--stream json=: a file name (or - for stdout) is needed");
    return 0;
}

bool tide_stream_uses_stdout(const char *spec)
{
    const char *t = target_of(spec);
    return t != NULL && strcmp(t, "-") == 0;
}

static void *writer(void *arg)
{
    struct tide_stream *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->head == NULL && !s->closing)
            pthread_cond_wait(&s->cv, &s->mu);
        struct chunk *c = s->head;
        if (c == NULL)
            break; /* closing, and nothing left */
        s->head = c->next;
        if (s->head == NULL)
            s->tail = NULL;
        s->queued -= c->len;
        pthread_mutex_unlock(&s->mu);
        if (!s->write_failed && (fwrite(c->text, 1, c->len, s->f) != c->len || fflush(s->f) != 0)) {
            s->write_failed = true;
            tide_log(TIDE_LOG_ERROR, "--stream: cannot write: %s (the rest is not written)",
                     strerror(errno));
        }
        free(c);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

struct tide_stream *tide_stream_open(const char *spec, struct tide_err *err)
{
    if (tide_stream_check_spec(spec, err) != 0)
        return NULL;
    const char *t = target_of(spec);
    struct tide_stream *s = calloc(1, sizeof *s);
    if (s == NULL) {
        tide_err_set(err, "--stream: out of memory");
        return NULL;
    }
    if (t == NULL) { /* prometheus=URL: its own sender thread, no file */
        if ((s->prom = tide_prom_stream_open(spec + 11, err)) == NULL) {
            free(s);
            return NULL;
        }
        return s;
    }
    if (strcmp(t, "-") == 0) {
        s->f = stdout;
    } else if ((s->f = fopen(t, "w")) == NULL) {
        tide_err_set(err, "--stream: cannot create '%s': %s", t, strerror(errno));
        free(s);
        return NULL;
    } else {
        s->own = true;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->thread, NULL, writer, s) != 0) {
        tide_err_set(err, "--stream: cannot start its writer thread");
        if (s->own)
            fclose(s->f);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
        return NULL;
    }
    return s;
}

/* {"type": "Metric", ...} once per metric, before its first point (k6 does the same). */
static void announce(struct tide_stream *s, struct tide_buf *out, int metric)
{
    if (metric >= s->nannounced) {
        int n = metric + 64;
        unsigned char *a = realloc(s->announced, (size_t)n);
        if (a == NULL)
            return;
        memset(a + s->nannounced, 0, (size_t)(n - s->nannounced));
        s->announced = a;
        s->nannounced = n;
    }
    if (s->announced[metric])
        return;
    static const char *const contains[] = {"default", "time", "data"};
    cJSON *line = cJSON_CreateObject();
    cJSON_AddStringToObject(line, "type", "Metric");
    cJSON_AddStringToObject(line, "metric", tide_metric_name(metric));
    cJSON *data = cJSON_AddObjectToObject(line, "data");
    cJSON_AddStringToObject(data, "name", tide_metric_name(metric));
    cJSON_AddStringToObject(data, "type", tide_metric_type_name(tide_metric_type_of(metric)));
    cJSON_AddStringToObject(data, "contains", contains[tide_metric_contains(metric)]);
    tide_redact_json(line);
    char *text = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    if (text == NULL)
        return;
    tide_buf_append(out, text, strlen(text));
    tide_buf_append(out, "\n", 1);
    free(text);
    s->announced[metric] = 1;
}

static cJSON *tags_json(const char *canon)
{
    cJSON *tags = cJSON_CreateObject();
    size_t len = strlen(canon) + 1;
    char *scratch = malloc(len);
    if (scratch == NULL)
        return tags;
    struct tide_tags t;
    tide_tags_parse(canon, scratch, len, &t);
    for (int i = 0; i < t.n; i++)
        cJSON_AddStringToObject(tags, t.key[i], t.value[i]);
    free(scratch);
    return tags;
}

/* The per-second aggregate: "value" is what one number per second means for the type
 * (counter: the sum, gauge: the last value, rate: the share of non-zero samples, trend: the
 * average), "aggregation" has the rest, so sums and counts add up to summary.json's. */
static void add_values(cJSON *data, const struct tide_agg *a)
{
    cJSON *agg = cJSON_CreateObject();
    double value = 0;
    switch (a->type) {
    case TIDE_COUNTER:
        value = a->sum;
        cJSON_AddNumberToObject(agg, "count", (double)a->count);
        break;
    case TIDE_GAUGE:
        value = a->last;
        cJSON_AddNumberToObject(agg, "min", a->min);
        cJSON_AddNumberToObject(agg, "max", a->max);
        break;
    case TIDE_RATE:
        value = a->count ? (double)a->nonzero / (double)a->count : 0;
        cJSON_AddNumberToObject(agg, "count", (double)a->count);
        cJSON_AddNumberToObject(agg, "nonzero", (double)a->nonzero);
        break;
    case TIDE_TREND: {
        value = a->count ? a->sum / (double)a->count : 0;
        cJSON_AddNumberToObject(agg, "count", (double)a->count);
        cJSON_AddNumberToObject(agg, "sum", a->sum);
        cJSON_AddNumberToObject(agg, "min", a->min);
        cJSON_AddNumberToObject(agg, "max", a->max);
        static const struct {
            const char *key;
            double p;
        } ps[] = {{"p50", 50}, {"p90", 90}, {"p95", 95}, {"p99", 99}};
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
            cJSON_AddNumberToObject(agg, ps[i].key, tide_agg_percentile(a, ps[i].p));
        break;
    }
    }
    cJSON_AddNumberToObject(data, "value", value);
    cJSON_AddItemToObject(data, "aggregation", agg);
}

static void enqueue(struct tide_stream *s, const struct tide_buf *b, long points)
{
    struct chunk *c = malloc(sizeof *c + b->len);
    pthread_mutex_lock(&s->mu);
    if (c == NULL) {
        s->dropped += points;
        pthread_mutex_unlock(&s->mu);
        return;
    }
    memcpy(c->text, b->data, b->len);
    c->len = b->len;
    c->points = points;
    c->next = NULL;
    /* bounded: the oldest waiting seconds make room (the writer holds none of them) */
    while (s->head != NULL && s->queued + c->len > TIDE_STREAM_QUEUE_BYTES) {
        struct chunk *old = s->head;
        s->head = old->next;
        if (s->head == NULL)
            s->tail = NULL;
        s->queued -= old->len;
        s->dropped += old->points;
        free(old);
    }
    if (s->tail != NULL)
        s->tail->next = c;
    else
        s->head = c;
    s->tail = c;
    s->queued += c->len;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void tide_stream_second(struct tide_stream *s, const struct tide_registry *reg, int64_t wall_us,
                        bool warmup)
{
    if (s == NULL || reg == NULL)
        return;
    if (s->prom != NULL) {
        tide_prom_stream_second(s->prom, reg, wall_us, warmup);
        return;
    }
    char ts[40];
    tide_wall_format(wall_us, ts, sizeof ts);
    struct tide_buf out = {0};
    long points = 0;
    for (size_t i = 0; i < tide_registry_size(reg); i++) {
        const struct tide_series *se = tide_registry_at(reg, i);
        const char *name = tide_metric_name(se->metric);
        if (se->agg.count == 0 || name == NULL || strncmp(name, "tide_", 5) == 0)
            continue;
        announce(s, &out, se->metric);
        cJSON *line = cJSON_CreateObject();
        cJSON_AddStringToObject(line, "type", "Point");
        cJSON_AddStringToObject(line, "metric", name);
        cJSON *data = cJSON_AddObjectToObject(line, "data");
        cJSON_AddStringToObject(data, "time", ts);
        add_values(data, &se->agg);
        cJSON_AddItemToObject(data, "tags", tags_json(se->tags != NULL ? se->tags : ""));
        if (warmup)
            cJSON_AddBoolToObject(data, "warmup", 1);
        tide_redact_json(line);
        char *text = cJSON_PrintUnformatted(line);
        cJSON_Delete(line);
        if (text == NULL)
            continue;
        tide_buf_append(&out, text, strlen(text));
        tide_buf_append(&out, "\n", 1);
        free(text);
        points++;
    }
    if (out.failed) { /* out of memory: this second is not written, and counted */
        pthread_mutex_lock(&s->mu);
        s->dropped += points;
        pthread_mutex_unlock(&s->mu);
    } else if (out.len > 0) {
        enqueue(s, &out, points);
    }
    tide_buf_free(&out);
}

long tide_stream_close(struct tide_stream *s)
{
    if (s == NULL)
        return 0;
    if (s->prom != NULL) {
        long lost = tide_prom_stream_close(s->prom); /* warns itself */
        free(s);
        return lost;
    }
    pthread_mutex_lock(&s->mu);
    s->closing = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    bool failed = s->write_failed;
    if (s->own && fclose(s->f) != 0 && !failed) {
        tide_log(TIDE_LOG_ERROR, "--stream: cannot close the file: %s", strerror(errno));
        failed = true;
    } else if (!s->own) {
        fflush(s->f);
    }
    long dropped = s->dropped;
    if (dropped > 0)
        tide_log(TIDE_LOG_WARN,
                 "--stream: %ld points dropped (the output could not keep up; the queue "
                 "holds at most %u MB); summary.json has every one",
                 dropped, TIDE_STREAM_QUEUE_BYTES / (1024 * 1024));
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->announced);
    free(s);
    return failed ? -1 : dropped;
}

void tide_stream_set_run_id(struct tide_stream *s, const char *run_id)
{
    if (s != NULL && s->prom != NULL)
        tide_prom_stream_set_run_id(s->prom, run_id);
}
