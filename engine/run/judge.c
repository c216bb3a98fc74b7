/* judge.c: thresholds and default checks, for a run and a merge (see judge.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "judge.h"

static int64_t window_seconds(const struct tide_judged *t)
{
    return (t->t.window_us + 999999) / 1000000;
}

int tide_window_init(struct tide_window *w, const struct tide_judged *thr, int n)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < n; i++) {
        if (window_seconds(&thr[i]) > w->size)
            w->size = window_seconds(&thr[i]);
    }
    if (w->size > 0 && (w->ring = calloc((size_t)w->size, sizeof *w->ring)) == NULL)
        return -1;
    return 0;
}

void tide_window_push(struct tide_window *w, struct tide_registry *second)
{
    if (w->size <= 0) {
        tide_registry_free(second);
        return;
    }
    int64_t slot = w->n % w->size;
    tide_registry_free(w->ring[slot]);
    w->ring[slot] = second;
    w->n++;
}

void tide_window_free(struct tide_window *w)
{
    for (int64_t i = 0; w->ring != NULL && i < w->size; i++)
        tide_registry_free(w->ring[i]);
    free(w->ring);
    memset(w, 0, sizeof *w);
}

bool tide_window_full(const struct tide_window *w, const struct tide_judged *t)
{
    return w->n * 1000000 >= t->t.window_us;
}

static bool match_tags(void *ctx, const struct tide_tags *t)
{
    return tide_metric_key_matches(ctx, t->key, t->value, t->n);
}

bool tide_judge_observe(const struct tide_judged *t, const struct tide_registry *total,
                        double total_secs, const struct tide_window *w, double *obs)
{
    int id = tide_metric_lookup(t->t.key.metric);
    tide_tags_match_fn fn = t->t.key.ntags > 0 ? match_tags : NULL;
    struct tide_agg a;
    double secs = total_secs;
    if (id < 0) {
        tide_agg_init(&a, TIDE_COUNTER);
    } else if (t->t.window_us > 0) { /* the window's last seconds, merged */
        struct tide_registry *tmp = tide_registry_new();
        int64_t have = 0;
        for (int64_t i = 0; i < window_seconds(t) && i < w->n; i++) {
            struct tide_registry *ri = w->ring[(w->n - 1 - i) % w->size];
            if (ri != NULL) {
                tide_registry_merge(tmp, ri);
                have++;
            }
        }
        tide_registry_aggregate(tmp, id, fn, (void *)&t->t.key, &a);
        tide_registry_free(tmp);
        secs = (double)have;
    } else {
        tide_registry_aggregate(total, id, fn, (void *)&t->t.key, &a);
    }
    a.seconds = secs;
    bool ok = true;
    struct tide_err err;
    if (id < 0) {
        *obs = tide_threshold_observe(&t->t, &a);
        ok = tide_threshold_holds(&t->t, *obs);
    } else if (tide_threshold_eval(&t->t, &a, obs, &ok, &err) != 0) {
        ok = false;
    }
    tide_agg_fini(&a);
    return ok;
}

/* The value of tag 'key' of the series of 'metric' with the largest sum, into 'out' ("" when
 * the metric has no series). */
static void most_frequent(const struct tide_registry *reg, int metric, const char *key, char *out,
                          size_t len)
{
    double best = 0;
    out[0] = '\0';
    for (size_t i = 0; i < tide_registry_size(reg); i++) {
        const struct tide_series *se = tide_registry_at(reg, i);
        if (se->metric != metric || se->agg.sum <= best)
            continue;
        char scratch[2048];
        struct tide_tags t;
        tide_tags_parse(se->tags, scratch, sizeof scratch, &t);
        for (int k = 0; k < t.n; k++) {
            if (strcmp(t.key[k], key) == 0) {
                snprintf(out, len, "%s", t.value[k]);
                best = se->agg.sum;
            }
        }
    }
}

static double total_of(const struct tide_registry *total, int metric, bool nonzero)
{
    struct tide_agg a;
    tide_registry_aggregate(total, metric, NULL, NULL, &a);
    double v = nonzero ? (double)a.nonzero : a.sum;
    tide_agg_fini(&a);
    return v;
}

bool tide_judge_defaults(struct tide_default_check d[TIDE_DEFAULT_COUNT],
                         enum tide_verdict_rule rule, const struct tide_registry *total,
                         char *reason, size_t len)
{
    char top_error[300], top_script[300];
    most_frequent(total, TIDE_M_FAILURES, "error", top_error, sizeof top_error);
    most_frequent(total, TIDE_M_SCRIPT_ERRORS, "message", top_script, sizeof top_script);
    struct tide_run_counts c = {
        .reqs = total_of(total, TIDE_M_HTTP_REQS, false),
        .failed = total_of(total, TIDE_M_HTTP_REQ_FAILED, true),
        .iterations = total_of(total, TIDE_M_ITERATIONS, false),
        .script_errors = total_of(total, TIDE_M_SCRIPT_ERRORS, false),
        .top_error = top_error,
        .top_script_error = top_script,
    };
    return tide_defaults_judge(d, rule, &c, reason, len);
}

bool tide_judge_threshold_reason(const struct tide_judged *thr, int n, char *reason, size_t len)
{
    const struct tide_judged *first = NULL;
    int failing = 0;
    for (int i = 0; i < n; i++) {
        if (!thr[i].ok && failing++ == 0)
            first = &thr[i];
    }
    if (first == NULL)
        return false;
    char obs[40] = "no data", more[48] = "";
    if (isfinite(first->observed))
        snprintf(obs, sizeof obs, "%g", first->observed);
    if (failing > 1)
        snprintf(more, sizeof more, "; %d more thresholds failed", failing - 1);
    snprintf(reason, len, "threshold %s: %s not met (observed %s)%s", first->t.key.text,
             first->t.expr_text, obs, more);
    return true;
}

static cJSON *threshold_json(const char *metric, const char *expression, const char *source,
                             const char *plugin, bool ok, double observed, bool abort_on_fail,
                             bool aborted)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "metric", metric);
    cJSON_AddStringToObject(o, "expression", expression);
    cJSON_AddStringToObject(o, "source", source);
    if (plugin != NULL)
        cJSON_AddStringToObject(o, "plugin", plugin);
    cJSON_AddBoolToObject(o, "ok", ok);
    if (isfinite(observed))
        cJSON_AddNumberToObject(o, "observed", observed);
    else
        cJSON_AddNullToObject(o, "observed");
    cJSON_AddBoolToObject(o, "abort_on_fail", abort_on_fail);
    cJSON_AddBoolToObject(o, "aborted", aborted);
    return o;
}

cJSON *tide_judge_thresholds_json(const struct tide_judged *thr, int n,
                                  const struct tide_default_check d[TIDE_DEFAULT_COUNT])
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        const struct tide_judged *t = &thr[i];
        cJSON_AddItemToArray(arr,
                             threshold_json(t->t.key.text, t->t.expr_text, t->source, t->plugin,
                                            t->ok, t->observed, t->t.abort_on_fail, t->aborted));
    }
    for (int i = 0; i < TIDE_DEFAULT_COUNT; i++) {
        if (!d[i].active)
            continue;
        double obs = isfinite(d[i].observed) ? round(d[i].observed * 1e6) / 1e6 : (double)NAN;
        cJSON_AddItemToArray(arr, threshold_json(d[i].metric, d[i].expression, "default", NULL,
                                                 d[i].ok, obs, false, false));
    }
    return arr;
}
