/* threshold.c: parsing of metric keys and threshold expressions, and their evaluation. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "duration.h"
#include "regex_cost.h"
#include "threshold.h"

#define AGG_LIST  "avg, min, max, med, p(N), count, rate, value, passes or fails"
#define UNDEFINED ((double)NAN) /* NAN is a float */

/* A position in the text being parsed; columns are 1-based from 's'. */
struct cur {
    const char *s;
    const char *p;
};

static int column(const struct cur *c)
{
    return (int)(c->p - c->s) + 1;
}

static void skip_space(struct cur *c)
{
    while (isspace((unsigned char)*c->p))
        c->p++;
}

/* Prefixes 'what' with the thing being parsed: 'metric key "x"' or 'threshold "e" on k'. */
static int failf(struct tide_err *err, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int failf(struct tide_err *err, const char *prefix, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return tide_err_set(err, "%s: %s", prefix, what);
}

static char *trimmed_copy(const char *s, const char *end)
{
    while (s < end && isspace((unsigned char)*s))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    return strndup(s, (size_t)(end - s));
}

/* Metric keys. */

static bool name_char(char ch)
{
    return ch != '\0' && ch != '{' && ch != '}' && ch != ',' && ch != ':' && ch != '"' &&
           !isspace((unsigned char)ch);
}

void tide_metric_key_fini(struct tide_metric_key *k)
{
    for (int i = 0; i < k->ntags; i++) {
        free(k->tags[i].key);
        free(k->tags[i].value);
        if (k->tags[i].op == TIDE_TAG_RE)
            regfree(&k->tags[i].re);
    }
    free(k->tags);
    free(k->metric);
    free(k->text);
    memset(k, 0, sizeof *k);
}

/* A "quoted" value; \" and \\ are escapes. On return c->p is past the closing quote. */
static char *quoted_value(struct cur *c, const char *pre, struct tide_err *err)
{
    struct cur open = *c;
    char *out = malloc(strlen(c->p) + 1);
    size_t n = 0;
    if (out == NULL) {
        tide_err_set(err, "out of memory");
        return NULL;
    }
    for (c->p++; *c->p != '"'; c->p++) {
        if (*c->p == '\0') {
            free(out);
            failf(err, pre, "unterminated quoted value at column %d", column(&open));
            return NULL;
        }
        if (*c->p == '\\' && (c->p[1] == '"' || c->p[1] == '\\'))
            c->p++;
        out[n++] = *c->p;
    }
    c->p++;
    out[n] = '\0';
    return out;
}

/* An unquoted value, up to a ',' or '}' outside {} ("/api/projects/{id}"); in a regex also
 * outside () and [], and not escaped. */
static char *plain_value(struct cur *c, bool regex, struct tide_err *err)
{
    const char *start = c->p;
    int depth = 0;
    for (; *c->p != '\0'; c->p++) {
        char ch = *c->p;
        if (depth == 0 && (ch == ',' || ch == '}'))
            break;
        if (regex && ch == '\\' && c->p[1] != '\0')
            c->p++;
        else if (ch == '{' || (regex && (ch == '(' || ch == '[')))
            depth++;
        else if ((ch == '}' || (regex && (ch == ')' || ch == ']'))) && depth > 0)
            depth--;
    }
    char *v = trimmed_copy(start, c->p);
    if (v == NULL)
        tide_err_set(err, "out of memory");
    return v;
}

static int compile_regex(struct tide_tag_match *m, int col, const char *pre, struct tide_err *err)
{
    if (m->value[0] == '\0')
        return failf(err, pre, "empty regex at column %d", col);
    if (tide_regex_cost(m->value) > TIDE_REGEX_MAX_COST) /* found by tests/fuzz */
        return failf(err, pre, "regex at column %d is too complex (nested or stacked repetitions)",
                     col);
    int rc = regcomp(&m->re, m->value, REG_EXTENDED | REG_NOSUB);
    if (rc == 0)
        return 0;
    char why[128];
    regerror(rc, &m->re, why, sizeof why);
    m->op = TIDE_TAG_EQ; /* a failed regcomp leaves nothing to regfree */
    return failf(err, pre, "bad regex \"%s\" at column %d: %s", m->value, col, why);
}

/* One 'tag:[!~]value' into m; c->p is on the tag name and ends on ',' or '}'. */
static int parse_tag(struct cur *c, struct tide_tag_match *m, const char *pre, struct tide_err *err)
{
    skip_space(c);
    const char *name = c->p;
    while (name_char(*c->p))
        c->p++;
    if (c->p == name)
        return failf(err, pre, "expected a tag name at column %d", column(c));
    m->key = strndup(name, (size_t)(c->p - name));
    if (m->key == NULL)
        return tide_err_set(err, "out of memory");
    skip_space(c);
    if (*c->p != ':')
        return failf(err, pre, "expected ':' after tag name at column %d", column(c));
    c->p++;
    skip_space(c);
    m->op = TIDE_TAG_EQ;
    if (*c->p == '!' || *c->p == '~') {
        m->op = *c->p == '!' ? TIDE_TAG_NE : TIDE_TAG_RE;
        c->p++;
        skip_space(c);
    }
    int vcol = column(c);
    if (*c->p == '"')
        m->value = quoted_value(c, pre, err);
    else
        m->value = plain_value(c, m->op == TIDE_TAG_RE, err);
    if (m->value == NULL)
        return -1;
    skip_space(c);
    if (*c->p == '\0')
        return failf(err, pre, "missing '}' at column %d", column(c));
    if (*c->p != ',' && *c->p != '}')
        return failf(err, pre, "expected ',' or '}' at column %d", column(c));
    if (m->op == TIDE_TAG_RE)
        return compile_regex(m, vcol, pre, err);
    return 0;
}

static int parse_tags(struct cur *c, struct tide_metric_key *k, const char *pre,
                      struct tide_err *err)
{
    for (c->p++;; c->p++) {
        struct tide_tag_match *t = realloc(k->tags, (size_t)(k->ntags + 1) * sizeof *t);
        if (t == NULL)
            return tide_err_set(err, "out of memory");
        k->tags = t;
        memset(&t[k->ntags], 0, sizeof *t);
        k->ntags++;
        if (parse_tag(c, &t[k->ntags - 1], pre, err) != 0)
            return -1;
        if (*c->p == '}')
            break;
    }
    c->p++;
    skip_space(c);
    if (*c->p != '\0')
        return failf(err, pre, "unexpected \"%s\" after '}' at column %d", c->p, column(c));
    return 0;
}

static int parse_key(const char *text, struct tide_metric_key *k, const char *pre,
                     struct tide_err *err)
{
    struct cur c = {text, text};
    skip_space(&c);
    const char *name = c.p;
    while (name_char(*c.p))
        c.p++;
    if (c.p == name)
        return failf(err, pre, "expected a metric name at column %d", column(&c));
    k->metric = strndup(name, (size_t)(c.p - name));
    k->text = trimmed_copy(text, text + strlen(text));
    if (k->metric == NULL || k->text == NULL)
        return tide_err_set(err, "out of memory");
    skip_space(&c);
    if (*c.p == '{')
        return parse_tags(&c, k, pre, err);
    if (*c.p != '\0')
        return failf(err, pre, "unexpected \"%s\" at column %d", c.p, column(&c));
    return 0;
}

int tide_metric_key_parse(const char *text, struct tide_metric_key *k, struct tide_err *err)
{
    char pre[300];
    snprintf(pre, sizeof pre, "metric key \"%s\"", text);
    memset(k, 0, sizeof *k);
    if (parse_key(text, k, pre, err) == 0)
        return 0;
    tide_metric_key_fini(k);
    return -1;
}

static const char *tag_of(const char *key, const char *const *keys, const char *const *values,
                          int n)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(keys[i], key) == 0)
            return values[i];
    }
    return NULL;
}

bool tide_metric_key_matches(const struct tide_metric_key *k, const char *const *tag_keys,
                             const char *const *tag_values, int ntags)
{
    for (int i = 0; i < k->ntags; i++) {
        const struct tide_tag_match *m = &k->tags[i];
        const char *v = tag_of(m->key, tag_keys, tag_values, ntags);
        bool ok;
        if (m->op == TIDE_TAG_EQ)
            ok = v != NULL && strcmp(v, m->value) == 0;
        else if (m->op == TIDE_TAG_NE)
            ok = v == NULL || strcmp(v, m->value) != 0;
        else
            ok = v != NULL && regexec(&m->re, v, 0, NULL, 0) == 0;
        if (!ok)
            return false;
    }
    return true;
}

/* Expressions. */

static const struct {
    const char *name;
    enum tide_threshold_agg agg;
} aggs[] = {
    {"avg", TIDE_AGG_AVG},     {"min", TIDE_AGG_MIN},     {"max", TIDE_AGG_MAX},
    {"med", TIDE_AGG_MED},     {"p", TIDE_AGG_P},         {"count", TIDE_AGG_COUNT},
    {"rate", TIDE_AGG_RATE},   {"value", TIDE_AGG_VALUE}, {"passes", TIDE_AGG_PASSES},
    {"fails", TIDE_AGG_FAILS},
};

static const struct {
    const char *text; /* longest first where one prefixes another */
    enum tide_threshold_op op;
} ops[] = {
    {"<=", TIDE_OP_LE},  {"<", TIDE_OP_LT},  {">=", TIDE_OP_GE}, {">", TIDE_OP_GT},
    {"===", TIDE_OP_EQ}, {"==", TIDE_OP_EQ}, {"!=", TIDE_OP_NE},
};

/* A decimal number: [+-] digits [. digits] [e [+-] digits]; no hex, inf or nan. */
static bool number(struct cur *c, double *out)
{
    const char *p = c->p;
    if (*p == '+' || *p == '-')
        p++;
    const char *digits = p;
    while (isdigit((unsigned char)*p))
        p++;
    bool any = p > digits;
    if (*p == '.') {
        p++;
        const char *frac = p;
        while (isdigit((unsigned char)*p))
            p++;
        any = any || p > frac;
    }
    if (!any)
        return false;
    if ((*p == 'e' || *p == 'E') &&
        (isdigit((unsigned char)p[1]) ||
         ((p[1] == '+' || p[1] == '-') && isdigit((unsigned char)p[2])))) {
        p += 2;
        while (isdigit((unsigned char)*p))
            p++;
    }
    char buf[64];
    if ((size_t)(p - c->p) >= sizeof buf)
        return false;
    memcpy(buf, c->p, (size_t)(p - c->p));
    buf[p - c->p] = '\0';
    *out = strtod(buf, NULL);
    if (!isfinite(*out))
        return false;
    c->p = p;
    return true;
}

static int parse_percentile(struct cur *c, struct tide_threshold *t, const char *pre,
                            struct tide_err *err)
{
    skip_space(c);
    if (*c->p != '(')
        return failf(err, pre, "expected '(' after 'p' at column %d (e.g. p(95))", column(c));
    c->p++;
    skip_space(c);
    int ncol = column(c);
    if (!number(c, &t->agg_arg))
        return failf(err, pre, "expected a percentile at column %d (e.g. p(95))", ncol);
    if (!(t->agg_arg > 0 && t->agg_arg <= 100))
        return failf(err, pre, "percentile %g at column %d is not in (0, 100]", t->agg_arg, ncol);
    skip_space(c);
    if (*c->p != ')')
        return failf(err, pre, "expected ')' at column %d", column(c));
    c->p++;
    return 0;
}

static int parse_agg(struct cur *c, struct tide_threshold *t, const char *pre, struct tide_err *err)
{
    skip_space(c);
    struct cur start = *c;
    while (isalnum((unsigned char)*c->p) || *c->p == '_')
        c->p++;
    size_t n = (size_t)(c->p - start.p);
    if (n == 0)
        return failf(err, pre, "expected an aggregation at column %d (use " AGG_LIST ")",
                     column(&start));
    for (size_t i = 0; i < sizeof aggs / sizeof aggs[0]; i++) {
        if (strlen(aggs[i].name) != n || strncmp(aggs[i].name, start.p, n) != 0)
            continue;
        t->agg = aggs[i].agg;
        return t->agg == TIDE_AGG_P ? parse_percentile(c, t, pre, err) : 0;
    }
    return failf(err, pre, "unknown aggregation \"%.*s\" at column %d (use " AGG_LIST ")", (int)n,
                 start.p, column(&start));
}

static int parse_op(struct cur *c, struct tide_threshold *t, const char *pre, struct tide_err *err)
{
    skip_space(c);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].text);
        if (strncmp(c->p, ops[i].text, n) == 0) {
            t->op = ops[i].op;
            c->p += n;
            return 0;
        }
    }
    return failf(err, pre, "expected an operator (<, <=, >, >=, == or !=) at column %d", column(c));
}

static int parse_window(struct cur *c, struct tide_threshold *t, const char *pre,
                        struct tide_err *err)
{
    skip_space(c);
    const char *start = c->p;
    int dcol = column(c);
    while (*c->p != '\0' && !isspace((unsigned char)*c->p))
        c->p++;
    if (c->p == start)
        return failf(err, pre, "expected a duration after 'over' at column %d (e.g. over 30s)",
                     dcol);
    char buf[64];
    struct tide_err derr = {{0}};
    snprintf(buf, sizeof buf, "%.*s", (int)(c->p - start), start);
    if (tide_duration_parse(buf, &t->window_us, &derr) != 0)
        return failf(err, pre, "bad window at column %d: %s", dcol, derr.msg);
    if (t->window_us <= 0)
        return failf(err, pre, "window at column %d must be longer than 0", dcol);
    return 0;
}

static bool word(struct cur *c, const char *w)
{
    size_t n = strlen(w);
    if (strncmp(c->p, w, n) != 0 || isalnum((unsigned char)c->p[n]))
        return false;
    c->p += n;
    return true;
}

static int parse_expr(const char *expr, struct tide_threshold *t, const char *pre,
                      struct tide_err *err)
{
    struct cur c = {expr, expr};
    if (parse_agg(&c, t, pre, err) != 0 || parse_op(&c, t, pre, err) != 0)
        return -1;
    skip_space(&c);
    int ncol = column(&c);
    if (!number(&c, &t->value))
        return failf(err, pre, "expected a number at column %d", ncol);
    skip_space(&c);
    if (word(&c, "over") && parse_window(&c, t, pre, err) != 0)
        return -1;
    skip_space(&c);
    if (*c.p != '\0')
        return failf(err, pre, "unexpected \"%s\" at column %d", c.p, column(&c));
    t->expr_text = trimmed_copy(expr, expr + strlen(expr));
    return t->expr_text == NULL ? tide_err_set(err, "out of memory") : 0;
}

void tide_threshold_fini(struct tide_threshold *t)
{
    tide_metric_key_fini(&t->key);
    free(t->expr_text);
    memset(t, 0, sizeof *t);
}

int tide_threshold_parse(const char *key, const char *expr, struct tide_threshold *t,
                         struct tide_err *err)
{
    memset(t, 0, sizeof *t);
    if (tide_metric_key_parse(key, &t->key, err) != 0)
        return -1;
    char pre[400];
    snprintf(pre, sizeof pre, "threshold \"%s\" on %s", expr, t->key.text);
    if (parse_expr(expr, t, pre, err) == 0)
        return 0;
    tide_threshold_fini(t);
    return -1;
}

/* The first ':' outside braces and quotes, or NULL. */
static const char *key_colon(const char *s)
{
    int depth = 0;
    bool quoted = false;
    for (; *s != '\0'; s++) {
        if (quoted && *s == '\\' && s[1] != '\0')
            s++;
        else if (*s == '"')
            quoted = !quoted;
        else if (!quoted && *s == '{')
            depth++;
        else if (!quoted && *s == '}' && depth > 0)
            depth--;
        else if (!quoted && depth == 0 && *s == ':')
            return s;
    }
    return NULL;
}

int tide_threshold_split_cli(const char *arg, size_t *keylen, const char **expr,
                             struct tide_err *err)
{
    const char *colon = key_colon(arg);
    if (colon == NULL)
        return tide_err_set(err,
                            "--threshold \"%s\": expected 'METRIC: EXPRESSION', e.g. "
                            "'http_req_duration: p(95)<300'",
                            arg);
    *keylen = (size_t)(colon - arg);
    const char *e = colon + 1;
    while (isspace((unsigned char)*e))
        e++;
    *expr = e;
    return 0;
}

/* Evaluation. */

static unsigned valid_aggs(enum tide_metric_type type)
{
    switch (type) {
    case TIDE_TREND:
        return 1u << TIDE_AGG_AVG | 1u << TIDE_AGG_MIN | 1u << TIDE_AGG_MAX | 1u << TIDE_AGG_MED |
               1u << TIDE_AGG_P | 1u << TIDE_AGG_COUNT;
    case TIDE_COUNTER:
        return 1u << TIDE_AGG_COUNT | 1u << TIDE_AGG_RATE;
    case TIDE_RATE:
        return 1u << TIDE_AGG_RATE | 1u << TIDE_AGG_PASSES | 1u << TIDE_AGG_FAILS |
               1u << TIDE_AGG_COUNT;
    case TIDE_GAUGE:
        return 1u << TIDE_AGG_VALUE | 1u << TIDE_AGG_MIN | 1u << TIDE_AGG_MAX;
    }
    return 0;
}

static const char *type_name(enum tide_metric_type type)
{
    static const char *const names[] = {"a counter", "a gauge", "a rate", "a trend"};
    return (unsigned)type < 4 ? names[type] : "an unknown";
}

static const char *type_aggs(enum tide_metric_type type)
{
    static const char *const lists[] = {"count or rate", "value, min or max",
                                        "rate, passes, fails or count",
                                        "avg, min, max, med, p(N) or count"};
    return (unsigned)type < 4 ? lists[type] : "nothing";
}

void tide_threshold_agg_name(const struct tide_threshold *t, char *buf, size_t len)
{
    for (size_t i = 0; i < sizeof aggs / sizeof aggs[0]; i++) {
        if (aggs[i].agg != t->agg)
            continue;
        if (t->agg == TIDE_AGG_P)
            snprintf(buf, len, "p(%g)", t->agg_arg);
        else
            snprintf(buf, len, "%s", aggs[i].name);
        return;
    }
    snprintf(buf, len, "?");
}

int tide_threshold_check_type(const struct tide_threshold *t, enum tide_metric_type type,
                              struct tide_err *err)
{
    if (valid_aggs(type) & (1u << t->agg))
        return 0;
    char name[32];
    tide_threshold_agg_name(t, name, sizeof name);
    return tide_err_set(err, "threshold \"%s\" on %s: '%s' does not apply to %s metric (use %s)",
                        t->expr_text, t->key.text, name, type_name(type), type_aggs(type));
}

/* Histogram values are ms x 1000. */
static double trend_value(const struct tide_threshold *t, const struct tide_agg *a)
{
    const struct tide_hdr *h = a->hdr;
    if (t->agg == TIDE_AGG_COUNT)
        return (double)(h != NULL ? tide_hdr_count(h) : a->count);
    if ((h != NULL ? tide_hdr_count(h) : a->count) == 0)
        return UNDEFINED;
    switch (t->agg) {
    case TIDE_AGG_AVG:
        return h != NULL ? tide_hdr_mean(h) / 1000.0 : a->sum / (double)a->count;
    case TIDE_AGG_MIN:
        return h != NULL ? (double)tide_hdr_min(h) / 1000.0 : a->min;
    case TIDE_AGG_MAX:
        return h != NULL ? (double)tide_hdr_max(h) / 1000.0 : a->max;
    case TIDE_AGG_MED:
        return h != NULL ? (double)tide_hdr_percentile(h, 50) / 1000.0 : UNDEFINED;
    case TIDE_AGG_P:
        return h != NULL ? (double)tide_hdr_percentile(h, t->agg_arg) / 1000.0 : UNDEFINED;
    default:
        return UNDEFINED;
    }
}

static double counter_value(const struct tide_threshold *t, const struct tide_agg *a)
{
    if (t->agg == TIDE_AGG_COUNT)
        return a->sum;
    return a->seconds > 0 ? a->sum / a->seconds : UNDEFINED;
}

static double rate_value(const struct tide_threshold *t, const struct tide_agg *a)
{
    switch (t->agg) {
    case TIDE_AGG_COUNT:
        return (double)a->count;
    case TIDE_AGG_PASSES:
        return (double)a->nonzero;
    case TIDE_AGG_FAILS:
        return (double)(a->count - a->nonzero);
    default:
        return a->count > 0 ? (double)a->nonzero / (double)a->count : UNDEFINED;
    }
}

static double gauge_value(const struct tide_threshold *t, const struct tide_agg *a)
{
    if (a->count == 0)
        return UNDEFINED;
    if (t->agg == TIDE_AGG_MIN)
        return a->min;
    if (t->agg == TIDE_AGG_MAX)
        return a->max;
    return a->last;
}

double tide_threshold_observe(const struct tide_threshold *t, const struct tide_agg *a)
{
    if (!(valid_aggs(a->type) & (1u << t->agg)))
        return UNDEFINED;
    switch (a->type) {
    case TIDE_TREND:
        return trend_value(t, a);
    case TIDE_COUNTER:
        return counter_value(t, a);
    case TIDE_RATE:
        return rate_value(t, a);
    case TIDE_GAUGE:
        return gauge_value(t, a);
    }
    return UNDEFINED;
}

bool tide_threshold_holds(const struct tide_threshold *t, double observed)
{
    if (isnan(observed))
        return true;
    switch (t->op) {
    case TIDE_OP_LT:
        return observed < t->value;
    case TIDE_OP_LE:
        return observed <= t->value;
    case TIDE_OP_GT:
        return observed > t->value;
    case TIDE_OP_GE:
        return observed >= t->value;
    case TIDE_OP_EQ:
        return observed == t->value;
    case TIDE_OP_NE:
        return observed != t->value;
    }
    return false;
}

int tide_threshold_eval(const struct tide_threshold *t, const struct tide_agg *a, double *observed,
                        bool *ok, struct tide_err *err)
{
    if (tide_threshold_check_type(t, a->type, err) != 0)
        return -1;
    *observed = tide_threshold_observe(t, a);
    *ok = tide_threshold_holds(t, *observed);
    return 0;
}
