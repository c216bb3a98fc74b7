/* verdict.c: the default checks and the status and exit code. Interrupted wins over aborted,
 * aborted over failed. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "run.h"
#include "verdict.h"

/* Shown as thresholds would be; "script errors per iteration" has no metric of its own, so
 * its expression says what is divided by what. */
static const struct tide_default_check defaults[TIDE_DEFAULT_COUNT] = {
    {"http_req_failed", "rate<0.1", true, true, NAN},
    {"tide_script_errors", "count/iterations<0.1", true, true, NAN},
    {"iterations", "count>0", true, true, NAN},
};

static const struct tide_default_check locust[TIDE_DEFAULT_COUNT] = {
    {"http_req_failed", "rate==0", true, true, NAN},
    {"tide_script_errors", "count==0", true, true, NAN},
    {"iterations", "count>0", true, true, NAN},
};

void tide_defaults_init(struct tide_default_check d[TIDE_DEFAULT_COUNT],
                        enum tide_verdict_rule rule, const char *const *user_metrics, int nuser)
{
    for (int i = 0; i < TIDE_DEFAULT_COUNT; i++) {
        d[i] = rule == TIDE_RULE_LOCUST ? locust[i] : defaults[i];
        d[i].active = rule != TIDE_RULE_NONE;
        for (int k = 0; k < nuser && d[i].active; k++) {
            if (user_metrics[k] != NULL && strcmp(user_metrics[k], d[i].metric) == 0)
                d[i].active = false;
        }
    }
}

/* ": connection refused", cut to a readable length, or "" without one. */
static void most_often(char *out, size_t len, const char *what)
{
    if (what == NULL || what[0] == '\0') {
        out[0] = '\0';
        return;
    }
    snprintf(out, len, ": %.160s%s", what, strlen(what) > 160 ? "…" : "");
}

static bool judge_requests(struct tide_default_check *d, bool locust_rule,
                           const struct tide_run_counts *c, char *reason, size_t len)
{
    if (c->reqs <= 0)
        return true; /* no request made: nothing to judge (a run without HTTP) */
    d->observed = c->failed / c->reqs;
    d->ok = locust_rule ? c->failed == 0 : d->observed < TIDE_DEFAULT_MAX_FAILED;
    if (d->ok)
        return true;
    char top[200];
    most_often(top, sizeof top, c->top_error);
    if (c->failed >= c->reqs)
        snprintf(reason, len, "no request succeeded (%.0f of %.0f failed%s)", c->failed, c->reqs,
                 top);
    else if (locust_rule)
        snprintf(reason, len,
                 "%.0f of %.0f requests failed (Locust's rule: any failure fails the run)%s",
                 c->failed, c->reqs, top);
    else
        snprintf(reason, len,
                 "%.0f of %.0f requests failed (%.1f%%, above the default limit of %.0f%%; a "
                 "threshold on http_req_failed replaces it)%s",
                 c->failed, c->reqs, d->observed * 100, TIDE_DEFAULT_MAX_FAILED * 100, top);
    return false;
}

static bool judge_script(struct tide_default_check *d, bool locust_rule,
                         const struct tide_run_counts *c, char *reason, size_t len)
{
    if (locust_rule)
        d->observed = c->script_errors;
    else if (c->iterations > 0)
        d->observed = c->script_errors / c->iterations;
    else if (c->script_errors > 0)
        d->observed = 1; /* raised before any iteration ended (e.g. in vu_setup) */
    d->ok = locust_rule ? c->script_errors == 0 : !(d->observed >= TIDE_DEFAULT_MAX_SCRIPT_ERROR);
    if (d->ok)
        return true;
    char top[200];
    most_often(top, sizeof top, c->top_script_error);
    if (c->iterations > 0 && c->script_errors >= c->iterations)
        snprintf(reason, len, "every iteration raised an error (%.0f of %.0f%s)", c->script_errors,
                 c->iterations, top);
    else if (locust_rule || c->iterations <= 0)
        snprintf(reason, len, "%.0f script error%s%s", c->script_errors,
                 c->script_errors == 1 ? "" : "s", top);
    else
        snprintf(reason, len,
                 "%.0f script errors in %.0f iterations (%.1f%%, above the default limit of "
                 "%.0f%%; a threshold on tide_script_errors replaces it)%s",
                 c->script_errors, c->iterations, d->observed * 100,
                 TIDE_DEFAULT_MAX_SCRIPT_ERROR * 100, top);
    return false;
}

static bool judge_iterations(struct tide_default_check *d, const struct tide_run_counts *c,
                             char *reason, size_t len)
{
    d->observed = c->iterations;
    d->ok = c->iterations > 0;
    if (!d->ok)
        snprintf(reason, len, "no iteration completed");
    return d->ok;
}

bool tide_defaults_judge(struct tide_default_check d[TIDE_DEFAULT_COUNT],
                         enum tide_verdict_rule rule, const struct tide_run_counts *c, char *reason,
                         size_t len)
{
    bool locust_rule = rule == TIDE_RULE_LOCUST;
    bool all = true;
    char mine[TIDE_DEFAULT_COUNT][512] = {{0}};
    if (d[TIDE_DEFAULT_REQUESTS].active)
        all = judge_requests(&d[TIDE_DEFAULT_REQUESTS], locust_rule, c, mine[0], sizeof mine[0]) &&
              all;
    if (d[TIDE_DEFAULT_SCRIPT].active)
        all = judge_script(&d[TIDE_DEFAULT_SCRIPT], locust_rule, c, mine[1], sizeof mine[1]) && all;
    if (d[TIDE_DEFAULT_ITERATIONS].active)
        all = judge_iterations(&d[TIDE_DEFAULT_ITERATIONS], c, mine[2], sizeof mine[2]) && all;
    /* the most telling first: no iteration at all, then requests, then script errors */
    static const int order[TIDE_DEFAULT_COUNT] = {TIDE_DEFAULT_ITERATIONS, TIDE_DEFAULT_REQUESTS,
                                                  TIDE_DEFAULT_SCRIPT};
    if (len > 0)
        reason[0] = '\0';
    for (int i = 0; i < TIDE_DEFAULT_COUNT && !all && len > 0; i++) {
        if (mine[order[i]][0] != '\0') {
            snprintf(reason, len, "%s", mine[order[i]]);
            break;
        }
    }
    return all;
}

int tide_verdict(const struct tide_outcome *o, const char **status)
{
    if (o->interrupted) {
        *status = "interrupted";
        return TIDE_EXIT_INTERRUPTED;
    }
    if (o->aborted) {
        *status = "aborted";
        return TIDE_EXIT_ABORTED;
    }
    bool failed = !o->thresholds_ok || o->verify_failed || o->saturated_fails;
    if (o->defaults_failed && (!failed || o->defaults_exit != TIDE_EXIT_THRESHOLDS)) {
        *status = "failed"; /* Locust's code wins: a Locust user's CI expects it */
        return o->defaults_exit;
    }
    if (failed || o->defaults_failed) {
        *status = o->threshold_abort ? "aborted" : "failed";
        return TIDE_EXIT_THRESHOLDS;
    }
    *status = "passed";
    return TIDE_EXIT_OK;
}
