/* threshold.h: threshold expressions ("p(95)<300 over 30s") on metric keys
 * ("http_req_duration{name:login,status:!200}"), parsed once, evaluated on struct tide_agg.
 *
 * Metric key:  NAME [ '{' TAG ':' [ '!' | '~' ] VALUE { ',' TAG ':' ... } '}' ]
 *   'tag:v' the series' tag equals v; 'tag:!v' it differs (or the tag is absent); 'tag:~re' it
 *   matches the POSIX extended regex 're' anywhere (anchor with ^ $). A value may be quoted,
 *   "…", to hold ',' '}' or a leading '!'/'~' literally; a regex may hold ',' inside {} [] ().
 *   The first ':' splits tag from value: '{group:::login}' is group == "::login".
 * Expression: AGG OP NUMBER [ 'over' DURATION ], whitespace allowed between tokens.
 *   AGG: avg min max med p(N) count rate value passes fails, N in (0, 100], e.g. p(99.9)
 *   OP:  < <= > >= == != (=== is read as ==)
 *
 * Aggregations per metric type (trend values in ms; its histogram holds value x 1000):
 *   trend   avg min max med p(N) count(samples)
 *   counter count(sum of values) rate(sum per second)
 *   rate    rate(non-zero share) passes(non-zero) fails(zero) count(samples)
 *   gauge   value(last) min max
 * No samples: a statistic of values (avg, min, max, med, p(N), value, and rate on a rate
 * metric) is undefined, observed as NAN, and the threshold holds (as k6 does). Counting
 * aggregations (count, passes, fails, and a counter's rate) observe 0 and are compared, so
 * "iterations: count>=100" fails when nothing ran. */
#ifndef TIDE_THRESHOLD_H
#define TIDE_THRESHOLD_H
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "agg.h"
#include "err.h"

enum tide_tag_op {
    TIDE_TAG_EQ, /* tag:value */
    TIDE_TAG_NE, /* tag:!value */
    TIDE_TAG_RE, /* tag:~regex */
};

struct tide_tag_match {
    char *key;
    char *value; /* the literal, or the regex source */
    enum tide_tag_op op;
    regex_t re; /* TIDE_TAG_RE only */
};

struct tide_metric_key {
    char *metric;                /* "http_req_duration" */
    struct tide_tag_match *tags; /* ntags matchers, all must hold */
    int ntags;
    char *text; /* the key as written, trimmed: for messages and reports */
};

enum tide_threshold_agg {
    TIDE_AGG_AVG,
    TIDE_AGG_MIN,
    TIDE_AGG_MAX,
    TIDE_AGG_MED,
    TIDE_AGG_P, /* agg_arg is N */
    TIDE_AGG_COUNT,
    TIDE_AGG_RATE,
    TIDE_AGG_VALUE,
    TIDE_AGG_PASSES,
    TIDE_AGG_FAILS,
};

enum tide_threshold_op {
    TIDE_OP_LT,
    TIDE_OP_LE,
    TIDE_OP_GT,
    TIDE_OP_GE,
    TIDE_OP_EQ,
    TIDE_OP_NE,
};

struct tide_threshold {
    struct tide_metric_key key;
    char *expr_text; /* the expression as written, trimmed */
    enum tide_threshold_agg agg;
    double agg_arg; /* N of p(N) */
    enum tide_threshold_op op;
    double value;
    int64_t window_us;           /* 'over D': judge the last D only (caller aggregates); 0: all */
    bool abort_on_fail;          /* set by the caller (options); parse sets false */
    int64_t delay_abort_eval_us; /* set by the caller (options); parse sets 0 */
};

/* Metric keys. parse: 0, or -1 with a message naming the key and the 1-based column; 'k' is
 * left zeroed on failure, owns its strings on success (release with tide_metric_key_fini). */
int tide_metric_key_parse(const char *text, struct tide_metric_key *k, struct tide_err *err);
void tide_metric_key_fini(struct tide_metric_key *k); /* zeroed or parsed; idempotent */
/* True when every matcher holds on the series' tags; a tag absent from the series fails EQ and
 * RE matchers and passes NE ones. The metric name is not compared here. */
bool tide_metric_key_matches(const struct tide_metric_key *k, const char *const *tag_keys,
                             const char *const *tag_values, int ntags);

/* Thresholds. parse: 0, or -1 with one line such as
 *   threshold "p(95)<<300" on http_req_duration: expected a number at column 7
 * 't' is zeroed on failure and owns its strings on success (release with tide_threshold_fini).
 * A threshold holds no pointer into 'key' or 'expr'; do not copy a parsed one (regex_t). */
int tide_threshold_parse(const char *key, const char *expr, struct tide_threshold *t,
                         struct tide_err *err);
/* --threshold 'METRIC: EXPR', e.g. "http_req_duration{name:x}: p(95)<300": the first ':'
 * outside braces and quotes separates the key (arg's first *keylen bytes) from the expression
 * (*expr, a pointer into arg past the blanks after the ':'). 0, or -1 with a message when
 * there is no such ':'. The parts go to tide_threshold_parse. */
int tide_threshold_split_cli(const char *arg, size_t *keylen, const char **expr,
                             struct tide_err *err);
void tide_threshold_fini(struct tide_threshold *t); /* zeroed or parsed; idempotent */

/* Evaluation. check_type: 0, or -1 with e.g.
 *   threshold "rate<0.01" on http_req_duration: 'rate' does not apply to a trend metric (use
 *   avg, min, max, med, p(N) or count)
 * observe: the aggregated value, NAN when undefined (no samples, no histogram, wrong type).
 * holds: observed OP value; NAN holds. eval: all three; -1 only on a wrong type. */
int tide_threshold_check_type(const struct tide_threshold *t, enum tide_metric_type type,
                              struct tide_err *err);
double tide_threshold_observe(const struct tide_threshold *t, const struct tide_agg *a);
bool tide_threshold_holds(const struct tide_threshold *t, double observed);
int tide_threshold_eval(const struct tide_threshold *t, const struct tide_agg *a, double *observed,
                        bool *ok, struct tide_err *err);

/* The aggregate's name for reports: "p(99.9)", "avg". */
void tide_threshold_agg_name(const struct tide_threshold *t, char *buf, size_t len);

#endif
