/* report_compare.c: 'tide compare BASE NEW': how latency percentiles, error rate, throughput
 * and the checks' pass rate changed between two runs, overall, per endpoint and per trend
 * metric, as a terminal listing, Markdown (a pull-request comment) and JSON. Percentiles are
 * recomputed from the serialized histograms, not read from the rounded summary numbers. The
 * verdict (report_compare_rules.c: presets, '--max-regression', data missing from the new run)
 * is exit code 99; the warnings (report_compare_facts.c) come after the table and the verdict
 * last, in one stream, so a pipe keeps that order. Everything written goes through the
 * redaction (log.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fsutil.h"
#include "hdr.h"
#include "report.h"
#include "log.h"
#include "report_compare.h"
#include "report_util.h"

/* ---- loading ---- */

static void side_free(struct tide_cmp_side *s)
{
    tide_hdr_free(s->hdr);
}

static int side_load(struct tide_cmp_side *s, const cJSON *obj, const char *what,
                     struct tide_err *err)
{
    memset(s, 0, sizeof *s);
    if (!cJSON_IsObject(obj))
        return 0;
    s->present = true;
    s->stats = obj;
    s->percentiles = tide_rj_object(obj, "percentiles");
    s->count = tide_rj_num(obj, "requests", tide_rj_num(obj, "count", 0));
    s->fails = tide_rj_num(obj, "failures", 0);
    s->rps = tide_rj_num(obj, "rps", (double)NAN);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(obj, "histogram");
    if (h == NULL)
        return 0;
    struct tide_err why;
    s->hdr = tide_hdr_from_json(h, &why);
    if (s->hdr == NULL)
        return tide_err_set(err, "%s: %s", what, why.msg);
    return 0;
}

static struct tide_cmp_row *add_row(struct tide_cmp *c, enum tide_cmp_row_kind kind,
                                    const char *scope)
{
    struct tide_cmp_row *rows = realloc(c->rows, (size_t)(c->nrows + 1) * sizeof *rows);
    if (rows == NULL)
        return NULL;
    c->rows = rows;
    struct tide_cmp_row *r = &rows[c->nrows];
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

static int load_row(struct tide_cmp *c, enum tide_cmp_row_kind kind, const char *scope,
                    const cJSON *a, const cJSON *b, struct tide_err *err)
{
    struct tide_cmp_row *r = add_row(c, kind, scope);
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
static int load_endpoints(struct tide_cmp *c, const cJSON *base, const cJSON *cur,
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
static int load_metrics(struct tide_cmp *c, const cJSON *base, const cJSON *cur,
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

static void checks_total(const cJSON *summary, struct tide_cmp_side *s)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, tide_rj_array(summary, "checks"))
    {
        s->checks_passes += tide_rj_num(k, "passes", 0);
        s->checks_fails += tide_rj_num(k, "fails", 0);
    }
}

static int load_rows(struct tide_cmp *c, const cJSON *base, const cJSON *cur, struct tide_err *err)
{
    if (load_row(c, R_AGGREGATED, "Aggregated", tide_rj_object(base, "aggregated"),
                 tide_rj_object(cur, "aggregated"), err) != 0)
        return -1;
    if (c->nrows > 0) { /* every check of each run, judged on the Aggregated row */
        checks_total(base, &c->rows[0].base);
        checks_total(cur, &c->rows[0].cur);
    }
    if (load_endpoints(c, base, cur, err) != 0)
        return -1;
    return load_metrics(c, base, cur, err);
}

static void compare_fini(struct tide_cmp *c)
{
    for (int i = 0; i < c->nrows; i++) {
        side_free(&c->rows[i].base);
        side_free(&c->rows[i].cur);
        free(c->rows[i].scope);
    }
    free(c->rows);
    tide_cmp_warnings_free(c);
}

/* ---- output ---- */

static void text_row(struct tide_buf *b, const struct tide_cmp *c, const struct tide_cmp_row *r)
{
    const char *missing = tide_cmp_missing(c, r);
    tide_buf_printf(b, "\n%s", r->scope);
    if (!r->base.present || !r->cur.present) {
        tide_buf_printf(b, "  (only in the %s run)", r->base.present ? "base" : "new");
        tide_buf_printf(b, "%s%s\n", missing ? "  REGRESSION: " : "", missing ? missing : "");
        return;
    }
    tide_buf_printf(b, "  (%.0f -> %.0f %s)%s%s\n", r->base.count, r->cur.count,
                    r->kind == R_METRIC ? "samples" : "requests", missing ? "  REGRESSION: " : "",
                    missing ? missing : "");
    for (int j = 0; j < c->nm; j++) {
        const struct tide_cmp_measure *m = &c->m[j];
        double a = tide_cmp_value(&r->base, m), v = tide_cmp_value(&r->cur, m);
        if (!tide_cmp_applies(r, m) || (m->kind == M_CHECKS && isnan(a) && isnan(v)))
            continue;
        char sa[32], sv[32], d[32], lim[48];
        double delta;
        bool bad = tide_cmp_exceeds(c, r, m, &delta);
        tide_cmp_fmt_value(sa, sizeof sa, m, a);
        tide_cmp_fmt_value(sv, sizeof sv, m, v);
        tide_cmp_fmt_change(d, sizeof d, m, delta);
        tide_buf_printf(b, "  %-11s %12s -> %12s  %9s", m->key, sa, sv, d);
        if (bad) {
            tide_cmp_fmt_limit(lim, sizeof lim, m);
            tide_buf_printf(b, "  REGRESSION (limit %s)", lim);
        }
        tide_buf_puts(b, "\n");
    }
}

/* The verdict, one line: "tide: compare: 2 regressions beyond tolerance: Aggregated p95
 * +34.4% (limit +25% and +10 ms); GET /x no requests in the new run". */
static void verdict_line(struct tide_buf *b, const struct tide_cmp *c)
{
    if (c->regressions == 0) {
        tide_buf_printf(b, "tide: compare: no regression beyond tolerance (preset %s)\n",
                        c->preset);
        return;
    }
    tide_buf_printf(b, "tide: compare: %d regression%s beyond tolerance:", c->regressions,
                    c->regressions == 1 ? "" : "s");
    const char *sep = " ";
    for (int i = 0; i < c->nrows; i++) {
        const struct tide_cmp_row *r = &c->rows[i];
        const char *missing = tide_cmp_missing(c, r);
        if (missing != NULL) {
            tide_buf_printf(b, "%s%s %s", sep, r->scope, missing);
            sep = "; ";
        }
        for (int j = 0; j < c->nm; j++) {
            double delta;
            if (!tide_cmp_exceeds(c, r, &c->m[j], &delta))
                continue;
            char d[32], lim[48];
            tide_cmp_fmt_change(d, sizeof d, &c->m[j], delta);
            tide_cmp_fmt_limit(lim, sizeof lim, &c->m[j]);
            tide_buf_printf(b, "%s%s %s %s (limit %s)", sep, r->scope, c->m[j].key, d, lim);
            sep = "; ";
        }
    }
    tide_buf_puts(b, "\n");
}

/* The listing: the table, the warnings, then (unless the verdict goes elsewhere) the verdict,
 * so whatever reads the stream sees them in that order. */
static void render_text(struct tide_buf *b, const struct tide_cmp *c, bool with_verdict)
{
    tide_buf_printf(b, "tide compare: base %s -> new %s\n", c->base_id, c->cur_id);
    for (int i = 0; i < c->nrows; i++)
        text_row(b, c, &c->rows[i]);
    if (c->nwarnings > 0)
        tide_buf_puts(b, "\n");
    for (int i = 0; i < c->nwarnings; i++)
        tide_buf_printf(b, "warning: %s\n", c->warnings[i]);
    if (with_verdict) {
        tide_buf_puts(b, "\n");
        verdict_line(b, c);
    }
}

/* Markdown-safe text: punctuation that Markdown or a table would read is backslashed, ':'
 * too, so "http://..." is not turned into a link by GitHub's or GitLab's autolinking. */
static void put_md(struct tide_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '<')
            tide_buf_puts(b, "&lt;");
        else if (*s == '>')
            tide_buf_puts(b, "&gt;");
        else if (*s == '\n' || *s == '\r')
            tide_buf_puts(b, " ");
        else if (strchr("\\`*_[]|#!~&():", *s) != NULL)
            tide_buf_printf(b, "\\%c", *s);
        else
            tide_buf_add(b, s, 1);
    }
}

#define MD_CROSS "\xE2\x9D\x8C"             /* U+274C */
#define MD_CHECK "\xE2\x9C\x85"             /* U+2705 */
#define MD_ARROW "\xE2\x86\x92"             /* U+2192 */
#define MD_WARN  "\xE2\x9A\xA0\xEF\xB8\x8F" /* U+26A0 U+FE0F */

static void md_row(struct tide_buf *b, const struct tide_cmp *c, const struct tide_cmp_row *r)
{
    const char *missing = tide_cmp_missing(c, r);
    tide_buf_puts(b, "| ");
    put_md(b, r->scope);
    if (!r->base.present || !r->cur.present) {
        tide_buf_printf(b, " | only in the %s run%s%s%s |", r->base.present ? "base" : "new",
                        missing ? ": **" MD_CROSS " " : "", missing ? missing : "",
                        missing ? "**" : "");
        for (int j = 0; j < c->nm; j++)
            tide_buf_puts(b, " |");
        tide_buf_puts(b, "\n");
        return;
    }
    tide_buf_printf(b, " | %.0f " MD_ARROW " %.0f%s%s%s |", r->base.count, r->cur.count,
                    missing ? " **" MD_CROSS " " : "", missing ? missing : "", missing ? "**" : "");
    for (int j = 0; j < c->nm; j++) {
        const struct tide_cmp_measure *m = &c->m[j];
        if (!tide_cmp_applies(r, m)) {
            tide_buf_puts(b, " |");
            continue;
        }
        char a[32], v[32], d[32];
        double delta;
        bool bad = tide_cmp_exceeds(c, r, m, &delta);
        tide_cmp_fmt_value(a, sizeof a, m, tide_cmp_value(&r->base, m));
        tide_cmp_fmt_value(v, sizeof v, m, tide_cmp_value(&r->cur, m));
        tide_cmp_fmt_change(d, sizeof d, m, delta);
        tide_buf_printf(b, " %s " MD_ARROW " %s (%s)%s |", a, v, d, bad ? " **" MD_CROSS "**" : "");
    }
    tide_buf_puts(b, "\n");
}

static void md_tolerances(struct tide_buf *b, const struct tide_cmp *c)
{
    tide_buf_printf(b, "\nTolerances (preset %s", c->preset);
    const char *sep = "): ";
    for (int j = 0; j < c->nm; j++) {
        if (!c->m[j].judged)
            continue;
        char lim[48];
        tide_cmp_fmt_limit(lim, sizeof lim, &c->m[j]);
        tide_buf_printf(b, "%s%s %s", sep, c->m[j].key, lim);
        sep = ", ";
    }
    tide_buf_printf(b,
                    "%s. Scopes with fewer than %g requests in the base run are shown, not "
                    "judged. Latencies are recomputed from the runs' histograms.\n",
                    strcmp(sep, ", ") == 0 ? "" : "): none", c->min_requests);
}

static void render_md(struct tide_buf *b, const struct tide_cmp *c)
{
    tide_buf_puts(b, "### tide compare: ");
    put_md(b, c->base_id);
    tide_buf_puts(b, " " MD_ARROW " ");
    put_md(b, c->cur_id);
    tide_buf_puts(b, "\n\n");
    if (c->regressions > 0)
        tide_buf_printf(b, "**" MD_CROSS " Failed: %d regression%s beyond tolerance.**\n\n",
                        c->regressions, c->regressions == 1 ? "" : "s");
    else
        tide_buf_puts(b, MD_CHECK " Passed: no regression beyond tolerance.\n\n");
    tide_buf_puts(b, "| Scope | Count |");
    for (int j = 0; j < c->nm; j++)
        tide_buf_printf(b, " %s |", c->m[j].key);
    tide_buf_puts(b, "\n|---|---:|");
    for (int j = 0; j < c->nm; j++)
        tide_buf_puts(b, "---:|");
    tide_buf_puts(b, "\n");
    for (int i = 0; i < c->nrows; i++)
        md_row(b, c, &c->rows[i]);
    if (c->nwarnings > 0)
        tide_buf_puts(b, "\n**Warnings**\n\n");
    for (int i = 0; i < c->nwarnings; i++) {
        tide_buf_puts(b, "- " MD_WARN " ");
        put_md(b, c->warnings[i]);
        tide_buf_puts(b, "\n");
    }
    md_tolerances(b, c);
}

static cJSON *json_num(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *json_side(const struct tide_cmp *c, const struct tide_cmp_row *r,
                        const struct tide_cmp_side *s)
{
    if (!s->present)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "count", json_num(s->count));
    for (int j = 0; j < c->nm; j++) {
        if (tide_cmp_applies(r, &c->m[j]))
            cJSON_AddItemToObject(o, c->m[j].key, json_num(tide_cmp_value(s, &c->m[j])));
    }
    return o;
}

static const char *unit_name(enum tide_cmp_unit u, bool pct_word)
{
    return u == U_PP ? "pp" : u == U_MS ? "ms" : pct_word ? "pct" : "%";
}

static void json_regression(cJSON *regressions, const struct tide_cmp_row *r,
                            const struct tide_cmp_measure *m, double delta)
{
    cJSON *g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "scope", r->scope);
    cJSON_AddStringToObject(g, "measure", m->key);
    cJSON_AddItemToObject(g, "base", json_num(tide_cmp_value(&r->base, m)));
    cJSON_AddItemToObject(g, "new", json_num(tide_cmp_value(&r->cur, m)));
    cJSON_AddItemToObject(g, "change", json_num(delta));
    cJSON_AddStringToObject(g, "unit", unit_name(tide_cmp_shown_unit(m), false));
    cJSON_AddItemToObject(g, "limit", json_num(m->limit));
    if (m->floor_ms > 0)
        cJSON_AddItemToObject(g, "floor_ms", json_num(m->floor_ms));
    cJSON_AddItemToArray(regressions, g);
}

static cJSON *json_row(const struct tide_cmp *c, const struct tide_cmp_row *r, cJSON *regressions)
{
    static const char *const kinds[] = {"aggregated", "endpoint", "metric"};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "scope", r->scope);
    cJSON_AddStringToObject(o, "kind", kinds[r->kind]);
    cJSON_AddItemToObject(o, "base", json_side(c, r, &r->base));
    cJSON_AddItemToObject(o, "new", json_side(c, r, &r->cur));
    const char *missing = tide_cmp_missing(c, r);
    if (missing != NULL) {
        cJSON *g = cJSON_CreateObject();
        cJSON_AddStringToObject(g, "scope", r->scope);
        cJSON_AddStringToObject(g, "measure", "missing");
        cJSON_AddStringToObject(g, "reason", missing);
        cJSON_AddItemToArray(regressions, g);
    }
    cJSON *ch = cJSON_AddObjectToObject(o, "change");
    for (int j = 0; j < c->nm && r->base.present && r->cur.present; j++) {
        const struct tide_cmp_measure *m = &c->m[j];
        if (!tide_cmp_applies(r, m))
            continue;
        double delta;
        bool bad = tide_cmp_exceeds(c, r, m, &delta);
        char key[32];
        snprintf(key, sizeof key, "%s_%s", m->key, unit_name(tide_cmp_shown_unit(m), true));
        cJSON_AddItemToObject(ch, key, json_num(delta));
        if (bad)
            json_regression(regressions, r, m, delta);
    }
    return o;
}

static char *render_json(const struct tide_cmp *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "schema", "tide.compare/1");
    cJSON_AddStringToObject(o, "base", c->base_id);
    cJSON_AddStringToObject(o, "new", c->cur_id);
    cJSON_AddStringToObject(o, "preset", c->preset);
    cJSON_AddNumberToObject(o, "min_requests", c->min_requests);
    cJSON *tol = cJSON_AddObjectToObject(o, "tolerances");
    for (int j = 0; j < c->nm; j++) {
        char lim[48];
        if (!c->m[j].judged)
            continue;
        tide_cmp_fmt_limit(lim, sizeof lim, &c->m[j]);
        cJSON_AddStringToObject(tol, c->m[j].key, lim);
    }
    cJSON *rows = cJSON_AddArrayToObject(o, "rows");
    cJSON *regs = cJSON_CreateArray();
    for (int i = 0; i < c->nrows; i++)
        cJSON_AddItemToArray(rows, json_row(c, &c->rows[i], regs));
    cJSON_AddItemToObject(o, "regressions", regs);
    cJSON *w = cJSON_AddArrayToObject(o, "warnings");
    for (int i = 0; i < c->nwarnings; i++)
        cJSON_AddItemToArray(w, cJSON_CreateString(c->warnings[i]));
    cJSON_AddBoolToObject(o, "ok", cJSON_GetArraySize(regs) == 0);
    tide_redact_json(o);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    return text;
}

/* ---- command ---- */

static void compare_usage(FILE *f)
{
    fputs("usage: tide compare BASE NEW [--preset NAME] [--max-regression LIST]\n"
          "                    [--min-requests N] [--format text|markdown|json]\n"
          "                    [--md FILE] [--json FILE]\n"
          "  BASE, NEW   run folders (or their summary.json)\n"
          "  --preset default|strict|lenient|none   tolerances without flags (default:\n"
          "              p95 +25% and +10 ms, p99 +40% and +20 ms, error_rate +1pp,\n"
          "              rps -20%, checks -1pp; none: only --max-regression)\n"
          "  --max-regression 'p95=10%,p99=20%+15ms,error_rate=0.5pp,rps=-10%'\n"
          "              replaces the preset's tolerance of each key named: latency keys pN,\n"
          "              avg, med in %, ms or %+ms (both exceeded); error_rate and checks\n"
          "              in pp (percentage points) or %; rps (throughput) in %.\n"
          "  --min-requests N   judge only scopes with N requests in the base run (20;\n"
          "              --preset none: 1)\n"
          "  --format text|markdown|json   what standard output carries (text)\n"
          "  --md FILE, --markdown FILE, --json FILE   also write Markdown / JSON ('-':\n"
          "              standard output)\n"
          "Beyond a tolerance, or when the new run lacks data the base has: exit 99.\n",
          f);
}

static cJSON *load_summary(const char *arg, struct tide_err *err)
{
    char *dir = NULL;
    char *path = tide_report_summary_path(arg, &dir);
    size_t len = 0;
    char *text = path ? tide_fs_read_file(path, TIDE_FS_SUMMARY_MAX, &len, err) : NULL;
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

/* Writes 'text' (redacted) to a file or, for "-", to standard output. */
static int emit(const char *path, const char *text, struct tide_err *err)
{
    char *safe = tide_redact(text);
    if (safe == NULL)
        return tide_err_set(err, "out of memory");
    int rc = 0;
    if (strcmp(path, "-") == 0)
        fputs(safe, stdout);
    else
        rc = tide_fs_write_atomic(path, safe, strlen(safe), err);
    free(safe);
    return rc;
}

enum { OPT_TOL, OPT_MD, OPT_MARKDOWN, OPT_JSON, OPT_MIN, OPT_PRESET, OPT_FORMAT, NOPTS };

struct args {
    const char *base, *cur;
    const char *opt[NOPTS];
};

/* 0, 1 (help printed) or 2 (bad usage, message printed). */
static int parse_args(int argc, char **argv, struct args *a)
{
    static const char *const names[NOPTS] = {"--max-regression", "--md",     "--markdown", "--json",
                                             "--min-requests",   "--preset", "--format"};
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            compare_usage(stdout);
            return 1;
        }
        int k = -1;
        for (int j = 0; j < NOPTS && s[0] == '-'; j++) {
            size_t n = strlen(names[j]);
            if (strncmp(s, names[j], n) == 0 && (s[n] == '\0' || s[n] == '='))
                k = j;
        }
        if (k >= 0) {
            const char *eq = strchr(s, '=');
            if (eq == NULL && i + 1 == argc) {
                fprintf(stderr, "tide: compare: %s needs a value (see 'tide compare --help')\n",
                        names[k]);
                return 2;
            }
            a->opt[k] = eq ? eq + 1 : argv[++i];
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
    if (a->opt[OPT_MARKDOWN] != NULL && a->opt[OPT_MD] == NULL)
        a->opt[OPT_MD] = a->opt[OPT_MARKDOWN];
    const char *fmt = a->opt[OPT_FORMAT];
    if (fmt != NULL && strcmp(fmt, "text") != 0 && strcmp(fmt, "markdown") != 0 &&
        strcmp(fmt, "md") != 0 && strcmp(fmt, "json") != 0) {
        fprintf(stderr, "tide: compare: --format: '%s' is not text, markdown or json\n", fmt);
        return 2;
    }
    if (fmt != NULL && strcmp(fmt, "json") == 0 && a->opt[OPT_JSON] == NULL)
        a->opt[OPT_JSON] = "-";
    if (fmt != NULL && fmt[0] == 'm' && a->opt[OPT_MD] == NULL)
        a->opt[OPT_MD] = "-";
    return 0;
}

static int setup(struct tide_cmp *c, const struct args *a, struct tide_err *err)
{
    static const char *const shown[] = {"p50", "p95", "p99"};
    for (int i = 0; i < 3; i++)
        tide_cmp_add_measure(c, shown[i]);
    const char *preset = a->opt[OPT_PRESET] ? a->opt[OPT_PRESET] : "default";
    if (tide_cmp_preset(c, preset, err) != 0)
        return -1;
    const char *min = a->opt[OPT_MIN];
    if (min != NULL) {
        char *end;
        c->min_requests = strtod(min, &end);
        if (end == min || *end != '\0' || !(c->min_requests >= 0))
            return tide_err_set(err, "--min-requests: '%s' is not a count", min);
    }
    if (a->opt[OPT_TOL] != NULL && tide_cmp_tolerances(c, a->opt[OPT_TOL], err) != 0)
        return -1;
    tide_cmp_add_measure(c, "error_rate");
    tide_cmp_add_measure(c, "rps");
    tide_cmp_add_measure(c, "checks");
    return 0;
}

/* Renders what was asked: the listing on standard output unless a document goes there, and
 * the Markdown and JSON documents. The verdict comes last: in the listing when standard output
 * has it, else on stderr after standard output is flushed, so a pipe of both keeps the order. */
static int render(const struct tide_cmp *c, const struct args *a, struct tide_err *err)
{
    const char *md = a->opt[OPT_MD], *json = a->opt[OPT_JSON];
    bool piped = (md && strcmp(md, "-") == 0) || (json && strcmp(json, "-") == 0);
    int rc = 0;
    if (!piped) {
        struct tide_buf b = {0};
        render_text(&b, c, true);
        rc = b.failed ? tide_err_set(err, "out of memory") : emit("-", b.data, err);
        tide_buf_free(&b);
    }
    if (rc == 0 && md != NULL) {
        struct tide_buf b = {0};
        render_md(&b, c);
        rc = b.failed ? tide_err_set(err, "out of memory") : emit(md, b.data, err);
        tide_buf_free(&b);
    }
    if (rc == 0 && json != NULL) {
        char *text = render_json(c);
        rc = text ? emit(json, text, err) : tide_err_set(err, "out of memory");
        cJSON_free(text);
    }
    fflush(stdout);
    if (rc == 0 && piped) {
        struct tide_buf b = {0};
        verdict_line(&b, c);
        char *safe = b.failed ? NULL : tide_redact(b.data);
        fputs(safe ? safe : "tide: compare: out of memory\n", stderr);
        free(safe);
        tide_buf_free(&b);
    }
    return rc;
}

int tide_compare_main(int argc, char **argv)
{
    struct args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    struct tide_cmp c = {0};
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
    tide_cmp_facts(&c, base, cur);
    tide_cmp_count(&c);
    if (render(&c, &a, &err) != 0) {
        fprintf(stderr, "tide: compare: %s\n", err.msg);
        rc = 1;
    } else {
        rc = c.regressions > 0 ? 99 : 0;
    }
out:
    compare_fini(&c);
    cJSON_Delete(base);
    cJSON_Delete(cur);
    return rc;
}
