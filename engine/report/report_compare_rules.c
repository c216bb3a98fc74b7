/* report_compare_rules.c: when 'tide compare' says "regression" (report_compare.h). A preset
 * gives every run a verdict without flags; '--max-regression' replaces a measure's tolerance.
 * Latency tolerances pair a relative limit with an absolute floor in ms, both to be exceeded,
 * so a 2 ms endpoint going to 3 ms (+50 %) does not fail a build; scopes whose base run has
 * fewer than --min-requests requests are shown, not judged, for the same reason. Data the base
 * has and the new run lacks is always a regression: a run that measured nothing cannot pass. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hdr.h"
#include "report_compare.h"
#include "report_util.h"

#define NO_VALUE ((double)NAN)

/* The presets (docs/ci.md explains the numbers). */
struct preset {
    const char *name;
    double p95, p95_ms, p99, p99_ms; /* +% and +ms, both needed */
    double error_pp, rps_pct, checks_pp;
    double min_requests;
};

static const struct preset presets[] = {
    {"default", 25, 10, 40, 20, 1, 20, 1, 20},
    {"strict", 10, 5, 20, 10, 0.5, 10, 0.5, 20},
    {"lenient", 50, 25, 100, 50, 5, 40, 5, 20},
};

struct tide_cmp_measure *tide_cmp_add_measure(struct tide_cmp *c, const char *key)
{
    for (int i = 0; i < c->nm; i++) {
        if (strcmp(c->m[i].key, key) == 0)
            return &c->m[i];
    }
    if (c->nm == TIDE_CMP_MAX_MEASURES)
        return NULL;
    struct tide_cmp_measure *m = &c->m[c->nm++];
    memset(m, 0, sizeof *m);
    snprintf(m->key, sizeof m->key, "%s", key);
    if (strcmp(key, "error_rate") == 0) {
        m->kind = M_ERRORS;
    } else if (strcmp(key, "rps") == 0) {
        m->kind = M_RPS;
    } else if (strcmp(key, "checks") == 0) {
        m->kind = M_CHECKS;
    } else {
        m->kind = M_LATENCY;
        m->pct = strcmp(key, "avg") == 0 ? -1 : strcmp(key, "med") == 0 ? 50 : atof(key + 1);
    }
    return m;
}

static void judge(struct tide_cmp *c, const char *key, double limit, enum tide_cmp_unit unit,
                  double floor_ms)
{
    struct tide_cmp_measure *m = tide_cmp_add_measure(c, key);
    if (m == NULL)
        return;
    m->judged = true;
    m->limit = limit;
    m->unit = unit;
    m->floor_ms = floor_ms;
}

int tide_cmp_preset(struct tide_cmp *c, const char *name, struct tide_err *err)
{
    c->preset = "none";
    c->min_requests = 1;
    if (strcmp(name, "none") == 0)
        return 0;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        const struct preset *p = &presets[i];
        if (strcmp(name, p->name) != 0)
            continue;
        c->preset = p->name;
        c->min_requests = p->min_requests;
        judge(c, "p95", p->p95, U_PCT, p->p95_ms);
        judge(c, "p99", p->p99, U_PCT, p->p99_ms);
        judge(c, "error_rate", p->error_pp, U_PP, 0);
        judge(c, "rps", p->rps_pct, U_PCT, 0);
        judge(c, "checks", p->checks_pp, U_PP, 0);
        return 0;
    }
    return tide_err_set(err, "--preset: unknown preset '%s' (default, strict, lenient or none)",
                        name);
}

/* "p95", "p99.9", "avg", "med", "error_rate", "rps", "checks". */
static bool known_key(const char *k)
{
    if (strcmp(k, "avg") == 0 || strcmp(k, "med") == 0 || strcmp(k, "error_rate") == 0 ||
        strcmp(k, "rps") == 0 || strcmp(k, "checks") == 0)
        return true;
    if (k[0] != 'p' || k[1] == '\0')
        return false;
    char *end;
    double p = strtod(k + 1, &end);
    return *end == '\0' && p > 0 && p <= 100;
}

/* "25%", "10ms", "0.5pp"; '*end' is left after the unit. -1: no number or no unit. */
static int parse_limit(const char *s, double *v, enum tide_cmp_unit *u, const char **end)
{
    char *e;
    *v = strtod(s, &e);
    if (e == s || !isfinite(*v))
        return -1;
    *v = fabs(*v);
    if (strncmp(e, "%", 1) == 0) {
        *u = U_PCT;
        *end = e + 1;
    } else if (strncmp(e, "pp", 2) == 0) {
        *u = U_PP;
        *end = e + 2;
    } else if (strncmp(e, "ms", 2) == 0) {
        *u = U_MS;
        *end = e + 2;
    } else {
        return -1;
    }
    return 0;
}

static bool unit_fits(enum tide_cmp_kind k, enum tide_cmp_unit u)
{
    switch (k) {
    case M_LATENCY:
        return u != U_PP;
    case M_RPS:
        return u == U_PCT;
    default:
        return u != U_MS;
    }
}

static int parse_tolerance(struct tide_cmp *c, const char *item, struct tide_err *err)
{
    const char *eq = strchr(item, '=');
    char key[16];
    if (eq == NULL || eq == item || (size_t)(eq - item) >= sizeof key)
        return tide_err_set(err, "--max-regression: '%s': expected KEY=LIMIT (e.g. p95=10%%)",
                            item);
    snprintf(key, sizeof key, "%.*s", (int)(eq - item), item);
    if (!known_key(key))
        return tide_err_set(err,
                            "--max-regression: unknown key '%s' (use pN such as p95 or p99.9, "
                            "avg, med, error_rate, rps or checks)",
                            key);
    double v, floor_ms = 0;
    enum tide_cmp_unit u, fu = U_MS;
    const char *rest;
    if (parse_limit(eq + 1, &v, &u, &rest) != 0)
        return tide_err_set(err, "--max-regression: '%s': expected a number and %%, pp or ms",
                            item);
    if (*rest == '+' && (parse_limit(rest + 1, &floor_ms, &fu, &rest) != 0 || fu != U_MS))
        return tide_err_set(err, "--max-regression: '%s': the floor after '+' is in ms", item);
    if (*rest != '\0')
        return tide_err_set(err, "--max-regression: '%s': unit must be %%, pp or ms", item);
    struct tide_cmp_measure *m = tide_cmp_add_measure(c, key);
    if (m == NULL)
        return tide_err_set(err, "--max-regression: too many keys (at most %d)",
                            TIDE_CMP_MAX_MEASURES);
    if (!unit_fits(m->kind, u) || (floor_ms > 0 && (m->kind != M_LATENCY || u != U_PCT)))
        return tide_err_set(err,
                            "--max-regression: '%s': use %% or ms (or %%+ms) for latencies, pp "
                            "or %% for error_rate and checks, %% for rps",
                            item);
    judge(c, key, v, u, floor_ms);
    return 0;
}

int tide_cmp_tolerances(struct tide_cmp *c, const char *list, struct tide_err *err)
{
    char *copy = strdup(list);
    if (copy == NULL)
        return tide_err_set(err, "out of memory");
    int rc = 0;
    char *save = NULL;
    for (char *it = strtok_r(copy, ", ", &save); it != NULL && rc == 0;
         it = strtok_r(NULL, ", ", &save))
        rc = parse_tolerance(c, it, err);
    free(copy);
    return rc;
}

/* ---- values ---- */

static double latency(const struct tide_cmp_side *s, double pct)
{
    if (s->hdr != NULL) {
        if (tide_hdr_count(s->hdr) == 0)
            return NO_VALUE;
        if (pct < 0)
            return tide_hdr_mean(s->hdr) / 1000.0;
        return (double)tide_hdr_percentile(s->hdr, pct) / 1000.0;
    }
    if (pct < 0)
        return tide_rj_num(s->stats, "avg", NO_VALUE);
    char key[16];
    tide_report_fmt_num(key, sizeof key, pct);
    if (s->percentiles != NULL)
        return tide_rj_num(s->percentiles, key, NO_VALUE);
    char pkey[20];
    snprintf(pkey, sizeof pkey, "p%s", key);
    return tide_rj_num(s->stats, pct == 50 ? "med" : pkey, NO_VALUE);
}

double tide_cmp_value(const struct tide_cmp_side *s, const struct tide_cmp_measure *m)
{
    if (!s->present)
        return NO_VALUE;
    double checks = s->checks_passes + s->checks_fails;
    switch (m->kind) {
    case M_ERRORS:
        return s->count > 0 ? s->fails / s->count : NO_VALUE;
    case M_RPS:
        return s->rps;
    case M_CHECKS:
        return checks > 0 ? s->checks_passes / checks : NO_VALUE;
    default:
        return latency(s, m->pct);
    }
}

/* The change from 'a' to 'b' in the measure's unit: %, pp (rates) or ms. */
static double change(double a, double b, enum tide_cmp_unit u)
{
    if (u == U_PP)
        return (b - a) * 100.0;
    if (u == U_MS)
        return b - a;
    if (a == b)
        return 0;
    return a != 0 ? (b - a) / a * 100.0 : (double)INFINITY;
}

enum tide_cmp_unit tide_cmp_shown_unit(const struct tide_cmp_measure *m)
{
    if (m->judged)
        return m->unit;
    return m->kind == M_ERRORS || m->kind == M_CHECKS ? U_PP : U_PCT;
}

bool tide_cmp_applies(const struct tide_cmp_row *r, const struct tide_cmp_measure *m)
{
    if (m->kind == M_CHECKS)
        return r->kind == R_AGGREGATED;
    return r->kind != R_METRIC || m->kind == M_LATENCY;
}

/* How much of the base a measure needs before it is judged: requests, or checks run. */
static double base_sample(const struct tide_cmp_row *r, const struct tide_cmp_measure *m)
{
    return m->kind == M_CHECKS ? r->base.checks_passes + r->base.checks_fails : r->base.count;
}

bool tide_cmp_exceeds(const struct tide_cmp *c, const struct tide_cmp_row *r,
                      const struct tide_cmp_measure *m, double *delta)
{
    double a = tide_cmp_value(&r->base, m), b = tide_cmp_value(&r->cur, m);
    *delta = change(a, b, tide_cmp_shown_unit(m));
    if (!m->judged || r->kind == R_METRIC || !tide_cmp_applies(r, m) || isnan(a) || isnan(b))
        return false;
    if (base_sample(r, m) < c->min_requests || r->cur.count <= 0)
        return false;
    switch (m->kind) {
    case M_RPS:
        return a > 0 && *delta < -m->limit;
    case M_CHECKS:
        return *delta < -m->limit;
    case M_LATENCY:
        return *delta > m->limit && (m->floor_ms <= 0 || b - a > m->floor_ms);
    default:
        return *delta > m->limit;
    }
}

const char *tide_cmp_missing(const struct tide_cmp *c, const struct tide_cmp_row *r)
{
    /* Aggregated: any request in the base counts; an endpoint or metric needs enough of them,
     * so one hit once by chance does not fail the next run */
    double need = r->kind == R_AGGREGATED ? 1 : fmax(1, c->min_requests);
    bool gone = !r->cur.present || r->cur.count <= 0;
    if (r->base.present && r->base.count >= need && gone)
        return r->kind == R_METRIC ? "no samples in the new run" : "no requests in the new run";
    if (r->kind == R_AGGREGATED && r->base.checks_passes + r->base.checks_fails > 0 &&
        r->cur.checks_passes + r->cur.checks_fails <= 0)
        return "no checks in the new run";
    return NULL;
}

void tide_cmp_count(struct tide_cmp *c)
{
    c->regressions = 0;
    for (int i = 0; i < c->nrows; i++) {
        c->regressions += tide_cmp_missing(c, &c->rows[i]) != NULL;
        for (int j = 0; j < c->nm; j++) {
            double delta;
            c->regressions += tide_cmp_exceeds(c, &c->rows[i], &c->m[j], &delta);
        }
    }
}

/* ---- formatting ---- */

void tide_cmp_fmt_value(char *out, size_t n, const struct tide_cmp_measure *m, double v)
{
    if (isnan(v))
        snprintf(out, n, "-");
    else if (m->kind == M_ERRORS || m->kind == M_CHECKS)
        snprintf(out, n, "%.2f %%", v * 100.0);
    else if (m->kind == M_RPS)
        snprintf(out, n, "%.1f/s", v);
    else if (v >= 1000)
        snprintf(out, n, "%.3f s", v / 1000);
    else
        snprintf(out, n, "%.2f ms", v);
}

void tide_cmp_fmt_change(char *out, size_t n, const struct tide_cmp_measure *m, double d)
{
    enum tide_cmp_unit u = tide_cmp_shown_unit(m);
    if (isnan(d))
        snprintf(out, n, "n/a");
    else if (isinf(d))
        snprintf(out, n, "%s", d > 0 ? "+inf%" : "-inf%");
    else
        snprintf(out, n, "%+.1f%s", d, u == U_PP ? "pp" : u == U_MS ? " ms" : "%");
}

void tide_cmp_fmt_limit(char *out, size_t n, const struct tide_cmp_measure *m)
{
    const char *sign = m->kind == M_RPS || m->kind == M_CHECKS ? "-" : "+";
    const char *unit = m->unit == U_PP ? "pp" : m->unit == U_MS ? " ms" : "%";
    if (m->floor_ms > 0)
        snprintf(out, n, "%s%g%s and +%g ms", sign, m->limit, unit, m->floor_ms);
    else
        snprintf(out, n, "%s%g%s", sign, m->limit, unit);
}
