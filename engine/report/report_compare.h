/* report_compare.h: the parts of 'tide compare' (report_compare.c, the command and its
 * renderers) that decide the verdict, kept apart so they can be read and tested on their own:
 * the tolerances (presets and '--max-regression' items, report_compare_rules.c), how a change
 * is measured and judged, and the warnings about runs that are not comparable
 * (report_compare_facts.c). Internal to the report layer. */
#ifndef TIDE_REPORT_COMPARE_H
#define TIDE_REPORT_COMPARE_H
#include <stdbool.h>
#include <cJSON.h>
#include "err.h"

#define TIDE_CMP_MAX_MEASURES 12
#define TIDE_CMP_MAX_WARNINGS 8

enum tide_cmp_kind { M_LATENCY, M_ERRORS, M_RPS, M_CHECKS };
enum tide_cmp_unit { U_PCT, U_PP, U_MS };

struct tide_cmp_measure {
    char key[16];            /* "p95", "avg", "error_rate", "rps", "checks" */
    enum tide_cmp_kind kind; /* what it reads */
    double pct;              /* latency percentile; < 0: the mean */
    bool judged;             /* a tolerance applies */
    double limit;            /* tolerance: allowed worsening, >= 0, in 'unit' */
    enum tide_cmp_unit unit;
    double floor_ms; /* latency: the change must also exceed this many ms (0: no floor) */
};

/* One run's side of a row. */
struct tide_cmp_side {
    bool present;
    double count, fails, rps;
    double checks_passes, checks_fails; /* Aggregated only: every check of the run */
    struct tide_hdr *hdr;               /* NULL: fall back to 'stats' */
    const cJSON *stats;                 /* the summary object (endpoint, aggregated, metric) */
    const cJSON *percentiles;           /* endpoint "percentiles" object, for the fallback */
};

enum tide_cmp_row_kind { R_AGGREGATED, R_ENDPOINT, R_METRIC };

struct tide_cmp_row {
    enum tide_cmp_row_kind kind;
    char *scope; /* "Aggregated", "GET /api/x", "iteration_duration" */
    struct tide_cmp_side base, cur;
};

struct tide_cmp {
    struct tide_cmp_measure m[TIDE_CMP_MAX_MEASURES];
    int nm;
    const char *preset;  /* "default", "strict", "lenient" or "none" */
    double min_requests; /* a scope is judged when the base run has this many */
    struct tide_cmp_row *rows;
    int nrows;
    const char *base_id, *cur_id;
    int regressions; /* limits exceeded plus data missing from the new run */
    char *warnings[TIDE_CMP_MAX_WARNINGS];
    int nwarnings;
};

/* Tolerances. A preset sets the judged measures and the default --min-requests; '--max-
 * regression' items then replace a measure's tolerance whole. -1 and a message on error. */
int tide_cmp_preset(struct tide_cmp *c, const char *name, struct tide_err *err);
int tide_cmp_tolerances(struct tide_cmp *c, const char *list, struct tide_err *err);
/* Adds a shown measure (not judged unless a tolerance says so); NULL when full. */
struct tide_cmp_measure *tide_cmp_add_measure(struct tide_cmp *c, const char *key);

/* A side's value of a measure (NAN when it has none), in ms, a 0..1 rate or requests/s. */
double tide_cmp_value(const struct tide_cmp_side *s, const struct tide_cmp_measure *m);
/* The unit a change is shown in: the tolerance's, else % (pp for rates). */
enum tide_cmp_unit tide_cmp_shown_unit(const struct tide_cmp_measure *m);
/* Whether the measure has a column in this row (error rate and rps: not for trend metrics;
 * checks: Aggregated only). */
bool tide_cmp_applies(const struct tide_cmp_row *r, const struct tide_cmp_measure *m);
/* Worse beyond the tolerance? '*delta' receives the change in the shown unit. */
bool tide_cmp_exceeds(const struct tide_cmp *c, const struct tide_cmp_row *r,
                      const struct tide_cmp_measure *m, double *delta);
/* Data the base has and the new run lacks: the scope had enough requests (samples) in the
 * base and none in the new run, or the base ran checks and the new run none. NULL when
 * nothing is missing, else why ("no requests in the new run"). */
const char *tide_cmp_missing(const struct tide_cmp *c, const struct tide_cmp_row *r);
/* Counts c->regressions over every row and measure. */
void tide_cmp_count(struct tide_cmp *c);

/* Formatting shared by the renderers. */
void tide_cmp_fmt_value(char *out, size_t n, const struct tide_cmp_measure *m, double v);
void tide_cmp_fmt_change(char *out, size_t n, const struct tide_cmp_measure *m, double d);
void tide_cmp_fmt_limit(char *out, size_t n, const struct tide_cmp_measure *m);

/* Warnings when the runs are not alike: another script (sha256), other options, another tide
 * version, another target host. Read from both summaries (and manifest.json beside them
 * when present); appended to c->warnings. */
void tide_cmp_facts(struct tide_cmp *c, const cJSON *base, const cJSON *cur);
void tide_cmp_warnings_free(struct tide_cmp *c);

#endif
