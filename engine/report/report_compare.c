/* report_compare.c: 'tide compare BASE NEW': how latency percentiles, error rate and
 * throughput changed between two runs, overall, per endpoint and per trend metric, as a
 * terminal listing, Markdown (for pull-request comments) and JSON. Percentiles are recomputed
 * from the serialized histograms, not read from the rounded summary numbers. Tolerances
 * ('--max-regression p95=10%,error_rate=0.5pp,rps=-10%') turn changes into exit code 99. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fsutil.h"
#include "hdr.h"
#include "report.h"
#include "report_util.h"

#define MAX_MEASURES 12
#define NO_VALUE     ((double)NAN)

enum measure_kind { M_LATENCY, M_ERRORS, M_RPS };
enum unit { U_PCT, U_PP, U_MS };

struct measure {
    char key[16];           /* "p95", "avg", "error_rate", "rps" */
    enum measure_kind kind; /* what it reads */
    double pct;             /* latency percentile; < 0: the mean */
    bool judged;            /* a tolerance applies */
    double limit;           /* tolerance: allowed worsening, >= 0 */
    enum unit unit;
};

/* One run's side of a row. */
struct side {
    bool present;
    double count, fails, rps;
    struct tide_hdr *hdr;     /* NULL: fall back to 'stats' */
    const cJSON *stats;       /* the summary object (endpoint, aggregated or metric entry) */
    const cJSON *percentiles; /* endpoint "percentiles" object, for the fallback */
};

enum row_kind { R_AGGREGATED, R_ENDPOINT, R_METRIC };

struct row {
    enum row_kind kind;
    char *scope; /* "Aggregated", "GET /api/x", "iteration_duration" */
    struct side base, cur;
};

struct compare {
    struct measure m[MAX_MEASURES];
    int nm;
    double min_requests;
    struct row *rows;
    int nrows;
    const char *base_id, *cur_id;
    int regressions;
};

/* ---- tolerances ---- */

static struct measure *add_measure(struct compare *c, const char *key)
{
    for (int i = 0; i < c->nm; i++) {
        if (strcmp(c->m[i].key, key) == 0)
            return &c->m[i];
    }
    if (c->nm == MAX_MEASURES)
        return NULL;
    struct measure *m = &c->m[c->nm++];
    memset(m, 0, sizeof *m);
    snprintf(m->key, sizeof m->key, "%s", key);
    if (strcmp(key, "error_rate") == 0) {
        m->kind = M_ERRORS;
    } else if (strcmp(key, "rps") == 0) {
        m->kind = M_RPS;
    } else {
        m->kind = M_LATENCY;
        m->pct = strcmp(key, "avg") == 0 ? -1 : strcmp(key, "med") == 0 ? 50 : atof(key + 1);
    }
    return m;
}

/* "p95", "p99.9", "avg", "med", "error_rate", "rps". */
static bool known_key(const char *k)
{
    if (strcmp(k, "avg") == 0 || strcmp(k, "med") == 0 || strcmp(k, "error_rate") == 0 ||
        strcmp(k, "rps") == 0)
        return true;
    if (k[0] != 'p' || k[1] == '\0')
        return false;
    char *end;
    double p = strtod(k + 1, &end);
    return *end == '\0' && p > 0 && p <= 100;
}

static int parse_tolerance(struct compare *c, const char *item, struct tide_err *err)
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
                            "avg, med, error_rate or rps)",
                            key);
    char *end;
    double v = strtod(eq + 1, &end);
    if (end == eq + 1 || !isfinite(v))
        return tide_err_set(err, "--max-regression: '%s': limit is not a number", item);
    enum unit u;
    if (strcmp(end, "%") == 0)
        u = U_PCT;
    else if (strcmp(end, "pp") == 0)
        u = U_PP;
    else if (strcmp(end, "ms") == 0)
        u = U_MS;
    else
        return tide_err_set(err, "--max-regression: '%s': unit must be %%, pp or ms", item);
    struct measure *m = add_measure(c, key);
    if (m == NULL)
        return tide_err_set(err, "--max-regression: too many keys (at most %d)", MAX_MEASURES);
    if ((m->kind == M_ERRORS && u == U_MS) || (m->kind == M_RPS && u != U_PCT) ||
        (m->kind == M_LATENCY && u == U_PP))
        return tide_err_set(err,
                            "--max-regression: '%s': use %% or ms for latencies, pp or %% for "
                            "error_rate, %% for rps",
                            item);
    m->judged = true;
    m->limit = fabs(v);
    m->unit = u;
    return 0;
}

static int parse_tolerances(struct compare *c, const char *list, struct tide_err *err)
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

static double latency(const struct side *s, double pct)
{
    if (!s->present)
        return NO_VALUE;
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

static double value(const struct side *s, const struct measure *m)
{
    if (!s->present)
        return NO_VALUE;
    switch (m->kind) {
    case M_ERRORS:
        return s->count > 0 ? s->fails / s->count : NO_VALUE;
    case M_RPS:
        return s->rps;
    default:
        return latency(s, m->pct);
    }
}

/* The change from 'a' to 'b' in the measure's unit: %, pp (error rate) or ms. */
static double change(double a, double b, enum unit u)
{
    if (u == U_PP)
        return (b - a) * 100.0;
    if (u == U_MS)
        return b - a;
    if (a == b)
        return 0;
    return a != 0 ? (b - a) / a * 100.0 : (double)INFINITY;
}

static enum unit shown_unit(const struct measure *m)
{
    if (m->judged)
        return m->unit;
    return m->kind == M_ERRORS ? U_PP : U_PCT;
}

/* Worse beyond the tolerance? Latency and errors worsen upwards, throughput downwards. */
static bool exceeds(const struct compare *c, const struct row *r, const struct measure *m,
                    double *delta)
{
    double a = value(&r->base, m), b = value(&r->cur, m);
    *delta = change(a, b, shown_unit(m));
    if (!m->judged || r->kind == R_METRIC || isnan(a) || isnan(b))
        return false;
    if (r->base.count < c->min_requests || r->cur.count < c->min_requests)
        return false;
    if (m->kind == M_RPS)
        return a > 0 && *delta < -m->limit;
    return *delta > m->limit;
}

/* ---- loading ---- */

static void side_free(struct side *s)
{
    tide_hdr_free(s->hdr);
}

static int side_load(struct side *s, const cJSON *obj, const char *what, struct tide_err *err)
{
    memset(s, 0, sizeof *s);
    if (!cJSON_IsObject(obj))
        return 0;
    s->present = true;
    s->stats = obj;
    s->percentiles = tide_rj_object(obj, "percentiles");
    s->count = tide_rj_num(obj, "requests", tide_rj_num(obj, "count", 0));
    s->fails = tide_rj_num(obj, "failures", 0);
    s->rps = tide_rj_num(obj, "rps", NO_VALUE);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(obj, "histogram");
    if (h == NULL)
        return 0;
    struct tide_err why;
    s->hdr = tide_hdr_from_json(h, &why);
    if (s->hdr == NULL)
        return tide_err_set(err, "%s: %s", what, why.msg);
    return 0;
}

static struct row *add_row(struct compare *c, enum row_kind kind, const char *scope)
{
    struct row *rows = realloc(c->rows, (size_t)(c->nrows + 1) * sizeof *rows);
    if (rows == NULL)
        return NULL;
    c->rows = rows;
    struct row *r = &rows[c->nrows];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->scope = strdup(scope);
    if (r->scope == NULL)
        return NULL;
    c->nrows++;
    return r;
}

static char *endpoint_key(const cJSON *e)
{
    const char *method = tide_rj_str(e, "method", "");
    const char *name = tide_rj_str(e, "name", "");
    size_t n = strlen(method) + strlen(name) + 2;
    char *k = malloc(n);
    if (k != NULL)
        snprintf(k, n, "%s%s%s", method, method[0] ? " " : "", name);
    return k;
}

static const cJSON *find_endpoint(const cJSON *summary, const char *key)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, tide_rj_array(summary, "endpoints"))
    {
        char *k = endpoint_key(e);
        bool same = k != NULL && strcmp(k, key) == 0;
        free(k);
        if (same)
            return e;
    }
    return NULL;
}

static int load_row(struct compare *c, enum row_kind kind, const char *scope, const cJSON *a,
                    const cJSON *b, struct tide_err *err)
{
    struct row *r = add_row(c, kind, scope);
    if (r == NULL)
        return tide_err_set(err, "out of memory");
    char what[300];
    snprintf(what, sizeof what, "base: %.250s", scope);
    if (side_load(&r->base, a, what, err) != 0)
        return -1;
    snprintf(what, sizeof what, "new: %.250s", scope);
    return side_load(&r->cur, b, what, err);
}

/* Endpoints of 'from' missing from 'other' (base order first, then new-only ones). */
static int load_endpoints(struct compare *c, const cJSON *base, const cJSON *cur,
                          struct tide_err *err)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, tide_rj_array(base, "endpoints"))
    {
        char *k = endpoint_key(e);
        int rc = k ? load_row(c, R_ENDPOINT, k, e, find_endpoint(cur, k), err)
                   : tide_err_set(err, "out of memory");
        free(k);
        if (rc != 0)
            return -1;
    }
    cJSON_ArrayForEach(e, tide_rj_array(cur, "endpoints"))
    {
        char *k = endpoint_key(e);
        int rc = 0;
        if (k == NULL)
            rc = tide_err_set(err, "out of memory");
        else if (find_endpoint(base, k) == NULL)
            rc = load_row(c, R_ENDPOINT, k, NULL, e, err);
        free(k);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Trend metrics with a histogram in either run. */
static int load_metrics(struct compare *c, const cJSON *base, const cJSON *cur,
                        struct tide_err *err)
{
    const cJSON *bm = tide_rj_object(base, "metrics"), *cm = tide_rj_object(cur, "metrics");
    const cJSON *m;
    cJSON_ArrayForEach(m, bm)
    {
        if (cJSON_GetObjectItemCaseSensitive(m, "histogram") == NULL)
            continue;
        if (load_row(c, R_METRIC, m->string, m, tide_rj_object(cm, m->string), err) != 0)
            return -1;
    }
    cJSON_ArrayForEach(m, cm)
    {
        if (cJSON_GetObjectItemCaseSensitive(m, "histogram") == NULL ||
            tide_rj_object(bm, m->string) != NULL)
            continue;
        if (load_row(c, R_METRIC, m->string, NULL, m, err) != 0)
            return -1;
    }
    return 0;
}

static int load_rows(struct compare *c, const cJSON *base, const cJSON *cur, struct tide_err *err)
{
    if (load_row(c, R_AGGREGATED, "Aggregated", tide_rj_object(base, "aggregated"),
                 tide_rj_object(cur, "aggregated"), err) != 0)
        return -1;
    if (load_endpoints(c, base, cur, err) != 0)
        return -1;
    return load_metrics(c, base, cur, err);
}

static void compare_fini(struct compare *c)
{
    for (int i = 0; i < c->nrows; i++) {
        side_free(&c->rows[i].base);
        side_free(&c->rows[i].cur);
        free(c->rows[i].scope);
    }
    free(c->rows);
}

/* ---- output ---- */

static bool measure_applies(const struct row *r, const struct measure *m)
{
    return r->kind != R_METRIC || m->kind == M_LATENCY;
}

static void fmt_value(char *out, size_t n, const struct measure *m, double v)
{
    if (isnan(v))
        snprintf(out, n, "-");
    else if (m->kind == M_ERRORS)
        snprintf(out, n, "%.2f %%", v * 100.0);
    else if (m->kind == M_RPS)
        snprintf(out, n, "%.1f/s", v);
    else if (v >= 1000)
        snprintf(out, n, "%.3f s", v / 1000);
    else
        snprintf(out, n, "%.2f ms", v);
}

static void fmt_change(char *out, size_t n, const struct measure *m, double d)
{
    enum unit u = shown_unit(m);
    if (isnan(d))
        snprintf(out, n, "n/a");
    else if (isinf(d))
        snprintf(out, n, "%s", d > 0 ? "+inf%" : "-inf%");
    else
        snprintf(out, n, "%+.1f%s", d, u == U_PP ? "pp" : u == U_MS ? " ms" : "%");
}

static void fmt_limit(char *out, size_t n, const struct measure *m)
{
    const char *sign = m->kind == M_RPS ? "-" : "+";
    snprintf(out, n, "%s%g%s", sign, m->limit,
             m->unit == U_PP   ? "pp"
             : m->unit == U_MS ? " ms"
                               : "%");
}

static void print_terminal(struct compare *c, FILE *f)
{
    fprintf(f, "tide compare: base %s -> new %s\n", c->base_id, c->cur_id);
    for (int i = 0; i < c->nrows; i++) {
        const struct row *r = &c->rows[i];
        fprintf(f, "\n%s", r->scope);
        if (!r->base.present || !r->cur.present) {
            fprintf(f, "  (only in the %s run)\n", r->base.present ? "base" : "new");
            continue;
        }
        fprintf(f, "  (%.0f -> %.0f %s)\n", r->base.count, r->cur.count,
                r->kind == R_METRIC ? "samples" : "requests");
        for (int j = 0; j < c->nm; j++) {
            const struct measure *m = &c->m[j];
            if (!measure_applies(r, m))
                continue;
            char a[32], b[32], d[32], lim[32];
            double delta;
            bool bad = exceeds(c, r, m, &delta);
            fmt_value(a, sizeof a, m, value(&r->base, m));
            fmt_value(b, sizeof b, m, value(&r->cur, m));
            fmt_change(d, sizeof d, m, delta);
            fprintf(f, "  %-11s %12s -> %12s  %9s", m->key, a, b, d);
            if (bad) {
                fmt_limit(lim, sizeof lim, m);
                fprintf(f, "  REGRESSION (limit %s)", lim);
            }
            fputc('\n', f);
        }
    }
}

/* Markdown-safe text: punctuation that Markdown or a table would read is backslashed. */
static void put_md(struct tide_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '<')
            tide_buf_puts(b, "&lt;");
        else if (*s == '>')
            tide_buf_puts(b, "&gt;");
        else if (*s == '\n' || *s == '\r')
            tide_buf_puts(b, " ");
        else if (strchr("\\`*_[]|#!~&", *s) != NULL)
            tide_buf_printf(b, "\\%c", *s);
        else
            tide_buf_add(b, s, 1);
    }
}

static void md_row(struct tide_buf *b, struct compare *c, const struct row *r)
{
    tide_buf_puts(b, "| ");
    put_md(b, r->scope);
    if (!r->base.present || !r->cur.present) {
        tide_buf_printf(b, " | only in the %s run |", r->base.present ? "base" : "new");
        for (int j = 0; j < c->nm; j++)
            tide_buf_puts(b, " |");
        tide_buf_puts(b, "\n");
        return;
    }
    tide_buf_printf(b, " | %.0f \xE2\x86\x92 %.0f |", r->base.count, r->cur.count);
    for (int j = 0; j < c->nm; j++) {
        const struct measure *m = &c->m[j];
        if (!measure_applies(r, m)) {
            tide_buf_puts(b, " |");
            continue;
        }
        char a[32], v[32], d[32];
        double delta;
        bool bad = exceeds(c, r, m, &delta);
        fmt_value(a, sizeof a, m, value(&r->base, m));
        fmt_value(v, sizeof v, m, value(&r->cur, m));
        fmt_change(d, sizeof d, m, delta);
        tide_buf_printf(b, " %s \xE2\x86\x92 %s (%s)%s |", a, v, d, bad ? " **\xE2\x9D\x8C**" : "");
    }
    tide_buf_puts(b, "\n");
}

static void render_md(struct tide_buf *b, struct compare *c)
{
    tide_buf_puts(b, "### tide compare: ");
    put_md(b, c->base_id);
    tide_buf_puts(b, " \xE2\x86\x92 ");
    put_md(b, c->cur_id);
    tide_buf_puts(b, "\n\n");
    if (c->regressions > 0)
        tide_buf_printf(b, "**\xE2\x9D\x8C %d regression%s beyond tolerance.**\n\n", c->regressions,
                        c->regressions == 1 ? "" : "s");
    else
        tide_buf_puts(b, "\xE2\x9C\x85 No regression beyond tolerance.\n\n");
    tide_buf_puts(b, "| Scope | Count |");
    for (int j = 0; j < c->nm; j++)
        tide_buf_printf(b, " %s |", c->m[j].key);
    tide_buf_puts(b, "\n|---|---:|");
    for (int j = 0; j < c->nm; j++)
        tide_buf_puts(b, "---:|");
    tide_buf_puts(b, "\n");
    for (int i = 0; i < c->nrows; i++)
        md_row(b, c, &c->rows[i]);
    bool any = false;
    for (int j = 0; j < c->nm; j++) {
        if (!c->m[j].judged)
            continue;
        char lim[32];
        fmt_limit(lim, sizeof lim, &c->m[j]);
        tide_buf_printf(b, "%s%s %s", any ? ", " : "\nTolerances: ", c->m[j].key, lim);
        any = true;
    }
    tide_buf_puts(b, any ? ". Latencies are recomputed from the runs' histograms.\n"
                         : "\nLatencies are recomputed from the runs' histograms.\n");
}

static cJSON *json_num(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *json_side(struct compare *c, const struct row *r, const struct side *s)
{
    if (!s->present)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "count", json_num(s->count));
    for (int j = 0; j < c->nm; j++) {
        if (measure_applies(r, &c->m[j]))
            cJSON_AddItemToObject(o, c->m[j].key, json_num(value(s, &c->m[j])));
    }
    return o;
}

static cJSON *json_row(struct compare *c, const struct row *r, cJSON *regressions)
{
    static const char *const kinds[] = {"aggregated", "endpoint", "metric"};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "scope", r->scope);
    cJSON_AddStringToObject(o, "kind", kinds[r->kind]);
    cJSON_AddItemToObject(o, "base", json_side(c, r, &r->base));
    cJSON_AddItemToObject(o, "new", json_side(c, r, &r->cur));
    cJSON *ch = cJSON_AddObjectToObject(o, "change");
    for (int j = 0; j < c->nm && r->base.present && r->cur.present; j++) {
        const struct measure *m = &c->m[j];
        if (!measure_applies(r, m))
            continue;
        double delta;
        bool bad = exceeds(c, r, m, &delta);
        enum unit u = shown_unit(m);
        char key[32];
        snprintf(key, sizeof key, "%s_%s", m->key, u == U_PP ? "pp" : u == U_MS ? "ms" : "pct");
        cJSON_AddItemToObject(ch, key, json_num(delta));
        if (!bad)
            continue;
        cJSON *g = cJSON_CreateObject();
        cJSON_AddStringToObject(g, "scope", r->scope);
        cJSON_AddStringToObject(g, "measure", m->key);
        cJSON_AddItemToObject(g, "base", json_num(value(&r->base, m)));
        cJSON_AddItemToObject(g, "new", json_num(value(&r->cur, m)));
        cJSON_AddItemToObject(g, "change", json_num(delta));
        cJSON_AddStringToObject(g, "unit", u == U_PP ? "pp" : u == U_MS ? "ms" : "%");
        cJSON_AddItemToObject(g, "limit", json_num(m->limit));
        cJSON_AddItemToArray(regressions, g);
    }
    return o;
}

static char *render_json(struct compare *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "schema", "tide.compare/1");
    cJSON_AddStringToObject(o, "base", c->base_id);
    cJSON_AddStringToObject(o, "new", c->cur_id);
    cJSON *tol = cJSON_AddObjectToObject(o, "tolerances");
    for (int j = 0; j < c->nm; j++) {
        char lim[32];
        if (!c->m[j].judged)
            continue;
        fmt_limit(lim, sizeof lim, &c->m[j]);
        cJSON_AddStringToObject(tol, c->m[j].key, lim);
    }
    cJSON *rows = cJSON_AddArrayToObject(o, "rows");
    cJSON *regs = cJSON_CreateArray();
    for (int i = 0; i < c->nrows; i++)
        cJSON_AddItemToArray(rows, json_row(c, &c->rows[i], regs));
    cJSON_AddItemToObject(o, "regressions", regs);
    cJSON_AddBoolToObject(o, "ok", cJSON_GetArraySize(regs) == 0);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    return text;
}

/* ---- command ---- */

static void compare_usage(FILE *f)
{
    fputs("usage: tide compare BASE NEW [--max-regression LIST] [--min-requests N]\n"
          "                    [--md FILE] [--json FILE]\n"
          "  BASE, NEW   run folders (or their summary.json)\n"
          "  --max-regression 'p95=10%,p99=20%,error_rate=0.5pp,rps=-10%'\n"
          "              allowed worsening, overall and per endpoint: latency keys pN, avg,\n"
          "              med in % or ms; error_rate in pp (percentage points) or %;\n"
          "              rps (throughput) in %. Beyond them: exit 99.\n"
          "  --min-requests N   judge only endpoints with N requests in both runs (1)\n"
          "  --md FILE, --json FILE   also write Markdown / JSON ('-': standard output)\n",
          f);
}

static cJSON *load_summary(const char *arg, struct tide_err *err)
{
    char *dir = NULL;
    char *path = tide_report_summary_path(arg, &dir);
    size_t len = 0;
    char *text = path ? tide_fs_read_all(path, &len, err) : NULL;
    cJSON *j = text ? tide_report_parse(text, len, path, err) : NULL;
    if (path == NULL)
        tide_err_set(err, "out of memory");
    free(text);
    free(path);
    free(dir);
    return j;
}

static const char *run_id(const cJSON *summary, const char *arg)
{
    return tide_rj_str(tide_rj_object(summary, "run"), "id", arg);
}

static int emit(const char *path, const char *text, struct tide_err *err)
{
    if (strcmp(path, "-") == 0) {
        fputs(text, stdout);
        return 0;
    }
    return tide_fs_write_atomic(path, text, strlen(text), err);
}

struct args {
    const char *base, *cur, *tol, *md, *json, *min_requests;
};

/* 0, 1 (help printed) or 2 (bad usage, message printed). */
static int parse_args(int argc, char **argv, struct args *a)
{
    const char **opt_val[] = {&a->tol, &a->md, &a->json, &a->min_requests};
    const char *opt_name[] = {"--max-regression", "--md", "--json", "--min-requests"};
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            compare_usage(stdout);
            return 1;
        }
        int k = -1;
        for (int j = 0; j < 4 && s[0] == '-'; j++) {
            size_t n = strlen(opt_name[j]);
            if (strncmp(s, opt_name[j], n) == 0 && (s[n] == '\0' || s[n] == '='))
                k = j;
        }
        if (k >= 0) {
            const char *eq = strchr(s, '=');
            if (eq == NULL && i + 1 == argc) {
                fprintf(stderr, "tide: compare: %s needs a value (see 'tide compare --help')\n",
                        opt_name[k]);
                return 2;
            }
            *opt_val[k] = eq ? eq + 1 : argv[++i];
        } else if (s[0] == '-' && s[1] != '\0') {
            fprintf(stderr, "tide: compare: unknown option '%s' (see 'tide compare --help')\n", s);
            return 2;
        } else if (a->base == NULL) {
            a->base = s;
        } else if (a->cur == NULL) {
            a->cur = s;
        } else {
            fprintf(stderr, "tide: compare: too many arguments (usage: tide compare BASE NEW)\n");
            return 2;
        }
    }
    if (a->cur == NULL) {
        fprintf(stderr, "tide: compare: two runs expected (usage: tide compare BASE NEW)\n");
        return 2;
    }
    return 0;
}

static int setup(struct compare *c, const struct args *a, struct tide_err *err)
{
    static const char *const defaults[] = {"p50", "p95", "p99"};
    for (int i = 0; i < 3; i++)
        add_measure(c, defaults[i]);
    c->min_requests = 1;
    if (a->min_requests != NULL) {
        char *end;
        c->min_requests = strtod(a->min_requests, &end);
        if (end == a->min_requests || *end != '\0' || !(c->min_requests >= 0))
            return tide_err_set(err, "--min-requests: '%s' is not a count", a->min_requests);
    }
    if (a->tol != NULL && parse_tolerances(c, a->tol, err) != 0)
        return -1;
    add_measure(c, "error_rate");
    add_measure(c, "rps");
    return 0;
}

static void count_regressions(struct compare *c)
{
    c->regressions = 0;
    for (int i = 0; i < c->nrows; i++) {
        for (int j = 0; j < c->nm; j++) {
            double delta;
            c->regressions += exceeds(c, &c->rows[i], &c->m[j], &delta);
        }
    }
}

/* One line naming every regression: "2 regressions beyond tolerance: Aggregated p95 +34.4%
 * (limit +10%); ...". */
static void say_regressions(struct compare *c, FILE *f)
{
    fprintf(f, "tide: compare: %d regression%s beyond tolerance:", c->regressions,
            c->regressions == 1 ? "" : "s");
    const char *sep = " ";
    for (int i = 0; i < c->nrows; i++) {
        for (int j = 0; j < c->nm; j++) {
            double delta;
            if (!exceeds(c, &c->rows[i], &c->m[j], &delta))
                continue;
            char d[32], lim[32];
            fmt_change(d, sizeof d, &c->m[j], delta);
            fmt_limit(lim, sizeof lim, &c->m[j]);
            fprintf(f, "%s%s %s %s (limit %s)", sep, c->rows[i].scope, c->m[j].key, d, lim);
            sep = "; ";
        }
    }
    fputc('\n', f);
}

int tide_compare_main(int argc, char **argv)
{
    struct args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    struct compare c = {0};
    struct tide_err err = {{0}};
    cJSON *base = NULL, *cur = NULL;
    if (setup(&c, &a, &err) != 0) {
        fprintf(stderr, "tide: compare: %s\n", err.msg);
        rc = 2;
        goto out;
    }
    base = load_summary(a.base, &err);
    cur = base ? load_summary(a.cur, &err) : NULL;
    if (cur == NULL || load_rows(&c, base, cur, &err) != 0) {
        fprintf(stderr, "tide: compare: %s\n", err.msg);
        rc = 2;
        goto out;
    }
    c.base_id = run_id(base, a.base);
    c.cur_id = run_id(cur, a.cur);
    count_regressions(&c);
    /* '--md -' or '--json -': standard output carries that document alone */
    bool piped = (a.md && strcmp(a.md, "-") == 0) || (a.json && strcmp(a.json, "-") == 0);
    if (!piped)
        print_terminal(&c, stdout);
    if (a.md != NULL) {
        struct tide_buf b = {0};
        render_md(&b, &c);
        rc = b.failed ? tide_err_set(&err, "out of memory") : emit(a.md, b.data, &err);
        tide_buf_free(&b);
    }
    if (rc == 0 && a.json != NULL) {
        char *text = render_json(&c);
        rc = text ? emit(a.json, text, &err) : tide_err_set(&err, "out of memory");
        cJSON_free(text);
    }
    if (rc != 0) {
        fprintf(stderr, "tide: compare: %s\n", err.msg);
        rc = 1;
    } else if (c.regressions > 0) {
        say_regressions(&c, stderr);
        rc = 99;
    } else {
        fprintf(piped ? stderr : stdout, "%stide: compare: no regression beyond tolerance\n",
                piped ? "" : "\n");
    }
out:
    compare_fini(&c);
    cJSON_Delete(base);
    cJSON_Delete(cur);
    return rc;
}
