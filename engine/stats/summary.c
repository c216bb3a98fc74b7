/* summary.c: registries -> summary.json pieces. Endpoints group the request series by
 * (method, name) exactly as Locust's rows do; every percentile comes from merged histograms. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "summary.h"

static const double locust_pcts[] = {50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100};
static const char *const locust_keys[] = {"50", "66", "75",   "80",    "90", "95",
                                          "98", "99", "99.9", "99.99", "100"};
#define NPCTS (sizeof locust_pcts / sizeof locust_pcts[0])

static double r3(double v)
{
    return round(v * 1000.0) / 1000.0;
}

struct endpoint {
    char method[16];
    char name[512];
    struct tide_agg dur; /* http_req_duration */
    double reqs, fails, content;
};

struct endpoints {
    struct endpoint *e;
    size_t n;
};

static const char *tag_of(const struct tide_tags *t, const char *key)
{
    for (int i = 0; i < t->n; i++) {
        if (strcmp(t->key[i], key) == 0)
            return t->value[i];
    }
    return "";
}

static struct endpoint *endpoint_for(struct endpoints *eps, const char *method, const char *name)
{
    for (size_t i = 0; i < eps->n; i++) {
        if (strcmp(eps->e[i].method, method) == 0 && strcmp(eps->e[i].name, name) == 0)
            return &eps->e[i];
    }
    struct endpoint *g = realloc(eps->e, (eps->n + 1) * sizeof *g);
    if (g == NULL)
        return NULL;
    eps->e = g;
    struct endpoint *ep = &g[eps->n++];
    memset(ep, 0, sizeof *ep);
    snprintf(ep->method, sizeof ep->method, "%s", method);
    snprintf(ep->name, sizeof ep->name, "%s", name);
    tide_agg_init(&ep->dur, TIDE_TREND);
    return ep;
}

static int cmp_endpoint(const void *a, const void *b)
{
    const struct endpoint *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->method, y->method);
}

/* Groups the request series of r by (method, name); 'all' gets everything. */
static void collect_endpoints(const struct tide_registry *r, struct endpoints *eps,
                              struct endpoint *all)
{
    const int content = TIDE_M_CONTENT_BYTES;
    memset(all, 0, sizeof *all);
    tide_agg_init(&all->dur, TIDE_TREND);
    for (size_t i = 0; i < tide_registry_size(r); i++) {
        const struct tide_series *s = tide_registry_at(r, i);
        bool wanted = s->metric == TIDE_M_HTTP_REQ_DURATION || s->metric == TIDE_M_HTTP_REQS ||
                      s->metric == TIDE_M_HTTP_REQ_FAILED || s->metric == content;
        if (!wanted)
            continue;
        char scratch[2048];
        struct tide_tags t;
        tide_tags_parse(s->tags, scratch, sizeof scratch, &t);
        struct endpoint *ep = endpoint_for(eps, tag_of(&t, "method"), tag_of(&t, "name"));
        if (ep == NULL)
            continue;
        if (s->metric == TIDE_M_HTTP_REQ_DURATION) {
            tide_agg_merge(&ep->dur, &s->agg);
            tide_agg_merge(&all->dur, &s->agg);
        } else if (s->metric == TIDE_M_HTTP_REQS) {
            ep->reqs += s->agg.sum;
            all->reqs += s->agg.sum;
        } else if (s->metric == TIDE_M_HTTP_REQ_FAILED) {
            ep->fails += (double)s->agg.nonzero;
            all->fails += (double)s->agg.nonzero;
        } else {
            ep->content += s->agg.sum;
            all->content += s->agg.sum;
        }
    }
    if (eps->n > 1)
        qsort(eps->e, eps->n, sizeof *eps->e, cmp_endpoint);
}

static void free_endpoints(struct endpoints *eps, struct endpoint *all)
{
    for (size_t i = 0; i < eps->n; i++)
        tide_agg_fini(&eps->e[i].dur);
    free(eps->e);
    tide_agg_fini(&all->dur);
}

static cJSON *endpoint_json(const struct endpoint *ep, double seconds, bool histogram)
{
    cJSON *o = cJSON_CreateObject();
    const struct tide_agg *d = &ep->dur;
    double n = (double)d->count;
    cJSON_AddStringToObject(o, "method", ep->method);
    cJSON_AddStringToObject(o, "name", ep->name);
    cJSON_AddNumberToObject(o, "requests", ep->reqs);
    cJSON_AddNumberToObject(o, "failures", ep->fails);
    cJSON_AddNumberToObject(o, "med", r3(tide_agg_percentile(d, 50)));
    cJSON_AddNumberToObject(o, "avg", n > 0 ? r3(d->sum / n) : 0);
    cJSON_AddNumberToObject(o, "min", r3(d->min));
    cJSON_AddNumberToObject(o, "max", r3(d->max));
    cJSON_AddNumberToObject(o, "avg_content_size", ep->reqs > 0 ? r3(ep->content / ep->reqs) : 0);
    double secs = seconds > 0 ? seconds : 1;
    cJSON_AddNumberToObject(o, "rps", r3(ep->reqs / secs));
    cJSON_AddNumberToObject(o, "fps", r3(ep->fails / secs));
    cJSON *p = cJSON_AddObjectToObject(o, "percentiles");
    for (size_t i = 0; i < NPCTS; i++)
        cJSON_AddNumberToObject(p, locust_keys[i], r3(tide_agg_percentile(d, locust_pcts[i])));
    if (histogram && d->hdr != NULL)
        cJSON_AddItemToObject(o, "histogram", tide_hdr_to_json(d->hdr));
    return o;
}

static double counter_sum(const struct tide_registry *r, int metric)
{
    double s = 0;
    for (size_t i = 0; i < tide_registry_size(r); i++) {
        const struct tide_series *se = tide_registry_at(r, i);
        if (se->metric == metric)
            s += se->agg.sum;
    }
    return s;
}

cJSON *tide_summary_history_row(const struct tide_registry *iv, const struct tide_registry *total,
                                int64_t index, int64_t wall_us, double vus)
{
    cJSON *row = cJSON_CreateObject();
    char ts[40];
    tide_wall_format(wall_us, ts, sizeof ts);
    cJSON_AddStringToObject(row, "time", ts);
    cJSON_AddNumberToObject(row, "elapsed_s", (double)(index + 1));
    cJSON_AddNumberToObject(row, "vus", vus);
    struct endpoints eps = {0};
    struct endpoint all;
    collect_endpoints(iv, &eps, &all);
    cJSON_AddNumberToObject(row, "reqs", all.reqs);
    cJSON_AddNumberToObject(row, "fails", all.fails);
    cJSON_AddNumberToObject(row, "rps", all.reqs);
    cJSON_AddNumberToObject(row, "fps", all.fails);
    cJSON_AddNumberToObject(row, "iterations", counter_sum(iv, TIDE_M_ITERATIONS));
    cJSON_AddNumberToObject(row, "bytes_received", counter_sum(iv, TIDE_M_DATA_RECEIVED));
    cJSON_AddNumberToObject(row, "bytes_sent", counter_sum(iv, TIDE_M_DATA_SENT));
    cJSON *p = cJSON_AddObjectToObject(row, "percentiles");
    for (size_t i = 0; i < NPCTS; i++)
        cJSON_AddNumberToObject(p, locust_keys[i],
                                r3(tide_agg_percentile(&all.dur, locust_pcts[i])));
    cJSON *eo = cJSON_AddObjectToObject(row, "endpoints");
    for (size_t i = 0; i < eps.n; i++) {
        char key[600];
        snprintf(key, sizeof key, "%s %s", eps.e[i].method, eps.e[i].name);
        cJSON *e = cJSON_AddObjectToObject(eo, key);
        cJSON_AddNumberToObject(e, "reqs", eps.e[i].reqs);
        cJSON_AddNumberToObject(e, "fails", eps.e[i].fails);
        cJSON_AddNumberToObject(e, "p50", r3(tide_agg_percentile(&eps.e[i].dur, 50)));
        cJSON_AddNumberToObject(e, "p95", r3(tide_agg_percentile(&eps.e[i].dur, 95)));
        cJSON_AddNumberToObject(e, "p99", r3(tide_agg_percentile(&eps.e[i].dur, 99)));
    }
    free_endpoints(&eps, &all);
    struct endpoints teps = {0};
    struct endpoint tall;
    collect_endpoints(total, &teps, &tall);
    cJSON *t = cJSON_AddObjectToObject(row, "total");
    double n = (double)tall.dur.count;
    cJSON_AddNumberToObject(t, "reqs", tall.reqs);
    cJSON_AddNumberToObject(t, "fails", tall.fails);
    cJSON_AddNumberToObject(t, "med", r3(tide_agg_percentile(&tall.dur, 50)));
    cJSON_AddNumberToObject(t, "avg", n > 0 ? r3(tall.dur.sum / n) : 0);
    cJSON_AddNumberToObject(t, "min", r3(tall.dur.min));
    cJSON_AddNumberToObject(t, "max", r3(tall.dur.max));
    cJSON_AddNumberToObject(t, "avg_content_size",
                            tall.reqs > 0 ? r3(tall.content / tall.reqs) : 0);
    free_endpoints(&teps, &tall);
    return row;
}

cJSON *tide_summary_tags_json(const char *canon)
{
    char scratch[2048];
    struct tide_tags t;
    tide_tags_parse(canon, scratch, sizeof scratch, &t);
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < t.n; i++)
        cJSON_AddStringToObject(o, t.key[i], t.value[i]);
    return o;
}

cJSON *tide_summary_checks(const struct tide_registry *r)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < tide_registry_size(r); i++) {
        const struct tide_series *s = tide_registry_at(r, i);
        if (s->metric != TIDE_M_CHECKS)
            continue;
        char scratch[2048];
        struct tide_tags t;
        tide_tags_parse(s->tags, scratch, sizeof scratch, &t);
        const char *name = tag_of(&t, "check"), *group = tag_of(&t, "group");
        cJSON *found = NULL, *c;
        cJSON_ArrayForEach(c, arr)
        {
            if (strcmp(cJSON_GetObjectItem(c, "name")->valuestring, name) == 0 &&
                strcmp(cJSON_GetObjectItem(c, "group")->valuestring, group) == 0)
                found = c;
        }
        if (found == NULL) {
            found = cJSON_CreateObject();
            cJSON_AddStringToObject(found, "name", name);
            cJSON_AddStringToObject(found, "group", group);
            cJSON_AddNumberToObject(found, "passes", 0);
            cJSON_AddNumberToObject(found, "fails", 0);
            cJSON_AddItemToArray(arr, found);
        }
        cJSON *p = cJSON_GetObjectItem(found, "passes"), *f = cJSON_GetObjectItem(found, "fails");
        cJSON_SetNumberValue(p, p->valuedouble + (double)s->agg.nonzero);
        cJSON_SetNumberValue(f, f->valuedouble + (double)(s->agg.count - s->agg.nonzero));
    }
    return arr;
}

/* "errors" from tide_failures{method,name,error}; "script_errors" from tide_script_errors. */
static void add_errors(cJSON *summary, const struct tide_registry *r)
{
    const int failures = TIDE_M_FAILURES, script = TIDE_M_SCRIPT_ERRORS;
    cJSON *errors = cJSON_AddArrayToObject(summary, "errors");
    cJSON *serrors = cJSON_AddArrayToObject(summary, "script_errors");
    for (size_t i = 0; i < tide_registry_size(r); i++) {
        const struct tide_series *s = tide_registry_at(r, i);
        if (s->metric != failures && s->metric != script)
            continue;
        char scratch[2048];
        struct tide_tags t;
        tide_tags_parse(s->tags, scratch, sizeof scratch, &t);
        cJSON *o = cJSON_CreateObject();
        if (s->metric == failures) {
            cJSON_AddStringToObject(o, "method", tag_of(&t, "method"));
            cJSON_AddStringToObject(o, "name", tag_of(&t, "name"));
            cJSON_AddStringToObject(o, "error", tag_of(&t, "error"));
            cJSON_AddNumberToObject(o, "occurrences", s->agg.sum);
            cJSON_AddItemToArray(errors, o);
        } else {
            cJSON_AddStringToObject(o, "message", tag_of(&t, "message"));
            cJSON_AddNumberToObject(o, "count", s->agg.sum);
            cJSON_AddItemToArray(serrors, o);
        }
    }
}

void tide_summary_add_metrics(cJSON *summary, const struct tide_registry *r, double seconds)
{
    cJSON *metrics = cJSON_AddObjectToObject(summary, "metrics");
    int n = tide_metric_count();
    for (int m = 0; m < n; m++) {
        const char *name = tide_metric_name(m);
        if (strncmp(name, "tide_", 5) == 0)
            continue; /* internal bookkeeping, reported as errors/endpoints */
        struct tide_agg a;
        tide_registry_aggregate(r, m, NULL, NULL, &a);
        a.seconds = seconds;
        if (a.count > 0)
            cJSON_AddItemToObject(metrics, name,
                                  tide_agg_to_json(&a, tide_metric_contains(m), true));
        tide_agg_fini(&a);
    }
    cJSON *series = cJSON_AddArrayToObject(summary, "series");
    for (size_t i = 0; i < tide_registry_size(r); i++) {
        const struct tide_series *s = tide_registry_at(r, i);
        const char *name = tide_metric_name(s->metric);
        if (strncmp(name, "tide_", 5) == 0)
            continue;
        struct tide_agg a = s->agg;
        a.seconds = seconds;
        cJSON *o = tide_agg_to_json(&a, tide_metric_contains(s->metric), true);
        cJSON_AddStringToObject(o, "metric", name);
        cJSON_AddItemToObject(o, "tags", tide_summary_tags_json(s->tags));
        cJSON_AddItemToArray(series, o);
    }
    struct endpoints eps = {0};
    struct endpoint all;
    collect_endpoints(r, &eps, &all);
    cJSON *earr = cJSON_AddArrayToObject(summary, "endpoints");
    for (size_t i = 0; i < eps.n; i++)
        cJSON_AddItemToArray(earr, endpoint_json(&eps.e[i], seconds, true));
    snprintf(all.name, sizeof all.name, "Aggregated");
    cJSON_AddItemToObject(summary, "aggregated", endpoint_json(&all, seconds, true));
    free_endpoints(&eps, &all);
    cJSON_AddItemToObject(summary, "checks", tide_summary_checks(r));
    add_errors(summary, r);
}
