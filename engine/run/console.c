/* console.c: progress line and terminal summary. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "console.h"
#include "duration.h"

static void clock_text(int64_t us, char *buf, size_t len)
{
    long s = (long)(us / 1000000);
    snprintf(buf, len, "%02ld:%02ld", s / 60, s % 60);
}

void tide_console_progress(FILE *out, bool tty, const struct tide_progress *p)
{
    char el[32], tot[32] = "--:--";
    clock_text(p->elapsed_us, el, sizeof el);
    if (p->total_us > 0)
        clock_text(p->total_us, tot, sizeof tot);
    double err = p->reqs > 0 ? 100.0 * p->fails / p->reqs : 0;
    if (tty)
        fprintf(out, "\r\033[K");
    fprintf(out, "running %s/%s  VUs %d  iterations %.0f  %.0f req/s  p95 %.1fms  errors %.2f%%",
            el, tot, p->vus, p->iterations, p->rps, p->p95_ms, err);
    fputs(tty ? "" : "\n", out);
    fflush(out);
}

void tide_console_progress_end(FILE *out, bool tty)
{
    if (tty)
        fputs("\r\033[K", out);
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void fmt_time(double ms, char *buf, size_t len)
{
    if (ms >= 1000)
        snprintf(buf, len, "%.2fs", ms / 1000);
    else if (ms >= 1)
        snprintf(buf, len, "%.2fms", ms);
    else
        snprintf(buf, len, "%.0fµs", ms * 1000);
}

static void fmt_bytes(double b, char *buf, size_t len)
{
    const char *units[] = {"B", "kB", "MB", "GB", "TB"};
    int u = 0;
    while (b >= 1000 && u < 4) {
        b /= 1000;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

static void metric_line(FILE *out, const char *name, const cJSON *m)
{
    char dots[64];
    int n = 32 - (int)strlen(name);
    if (n < 2)
        n = 2;
    memset(dots, '.', (size_t)n);
    dots[n] = '\0';
    const char *type = str(m, "type"), *contains = str(m, "contains");
    fprintf(out, "    %s%s: ", name, dots);
    if (strcmp(type, "trend") == 0) {
        static const char *keys[] = {"avg", "min", "med", "max", "p90", "p95", "p99"};
        static const char *labels[] = {"avg", "min", "med", "max", "p(90)", "p(95)", "p(99)"};
        for (int i = 0; i < 7; i++) {
            char b[32];
            if (strcmp(contains, "time") == 0)
                fmt_time(num(m, keys[i]), b, sizeof b);
            else
                snprintf(b, sizeof b, "%g", num(m, keys[i]));
            fprintf(out, "%s=%s%s", labels[i], b, i < 6 ? " " : "");
        }
    } else if (strcmp(type, "counter") == 0) {
        if (strcmp(contains, "data") == 0) {
            char a[32], b[32];
            fmt_bytes(num(m, "count"), a, sizeof a);
            fmt_bytes(num(m, "rate"), b, sizeof b);
            fprintf(out, "%-10s %s/s", a, b);
        } else {
            fprintf(out, "%-10.0f %.2f/s", num(m, "count"), num(m, "rate"));
        }
    } else if (strcmp(type, "rate") == 0) {
        double pass = num(m, "passes"), fail = num(m, "fails");
        fprintf(out, "%.2f%%  %.0f of %.0f", 100 * num(m, "rate"), pass, pass + fail);
    } else {
        fprintf(out, "%-10g min=%g max=%g", num(m, "value"), num(m, "min"), num(m, "max"));
    }
    fputc('\n', out);
}

static void endpoint_table(FILE *out, const cJSON *summary)
{
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(summary, "endpoints");
    if (cJSON_GetArraySize(eps) == 0)
        return;
    fprintf(out, "\n  %-7s %-38s %9s %7s %9s %9s %9s %9s %8s\n", "Method", "Name", "Requests",
            "Fails", "Median", "p95", "p99", "Max", "req/s");
    const cJSON *e;
    const cJSON *agg = cJSON_GetObjectItemCaseSensitive(summary, "aggregated");
    int i = 0, n = cJSON_GetArraySize(eps);
    for (e = eps->child; i <= n; i++, e = e != NULL ? e->next : NULL) {
        const cJSON *row = i < n ? e : agg;
        if (row == NULL)
            break;
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(row, "percentiles");
        char med[24], p95[24], p99[24], mx[24];
        fmt_time(num(row, "med"), med, sizeof med);
        fmt_time(num(p, "95"), p95, sizeof p95);
        fmt_time(num(p, "99"), p99, sizeof p99);
        fmt_time(num(row, "max"), mx, sizeof mx);
        if (i == n)
            fprintf(out, "  %s\n",
                    "----------------------------------------------------------"
                    "------------------------------------------------------");
        fprintf(out, "  %-7s %-38.38s %9.0f %7.0f %9s %9s %9s %9s %8.1f\n", str(row, "method"),
                str(row, "name"), num(row, "requests"), num(row, "failures"), med, p95, p99, mx,
                num(row, "rps"));
    }
}

static void checks_block(FILE *out, const char *title, const cJSON *checks)
{
    if (cJSON_GetArraySize(checks) == 0)
        return;
    fprintf(out, "\n  %s\n", title);
    const cJSON *c;
    cJSON_ArrayForEach(c, checks)
    {
        double p = num(c, "passes"), f = num(c, "fails");
        const char *g = str(c, "group");
        fprintf(out, "    %s %s%s%s  %.0f/%.0f\n", f > 0 ? "✗" : "✓", g, *g ? " › " : "",
                str(c, "name"), p, p + f);
    }
}

/* The hooks that failed (a warning, or what failed the run when required) and the plugins'
 * summary sections. */
static void hooks_summary(FILE *out, const cJSON *summary)
{
    const cJSON *fails = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(summary, "hooks"), "failures");
    if (cJSON_GetArraySize(fails) > 0) {
        fprintf(out, "\n  hooks\n");
        const cJSON *f;
        cJSON_ArrayForEach(f, fails)
        {
            bool req = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "required"));
            fprintf(out, "    %s %s (%s) failed: %s\n", req ? "✗ required hook" : "! warning: hook",
                    str(f, "hook"), str(f, "event"), str(f, "error"));
        }
    }
    const cJSON *sec;
    cJSON_ArrayForEach(sec, cJSON_GetObjectItemCaseSensitive(summary, "plugin_sections"))
    {
        fprintf(out, "\n  %s (plugin %s)\n", str(sec, "title"), str(sec, "plugin"));
        const cJSON *rows = cJSON_GetObjectItemCaseSensitive(sec, "rows"), *row;
        cJSON_ArrayForEach(row, rows)
        {
            const cJSON *v = cJSON_IsArray(row) ? cJSON_GetArrayItem(row, 1) : row;
            const char *k =
                cJSON_IsArray(row) ? cJSON_GetStringValue(cJSON_GetArrayItem(row, 0)) : row->string;
            char *text = cJSON_IsString(v) ? NULL : cJSON_PrintUnformatted(v);
            fprintf(out, "    %-28s %s\n", k != NULL ? k : "",
                    text != NULL              ? text
                    : cJSON_GetStringValue(v) ? cJSON_GetStringValue(v)
                                              : "");
            free(text);
        }
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(sec, "error")))
            fprintf(out, "    ! %s\n", str(sec, "error"));
    }
}

void tide_console_summary(FILE *out, const cJSON *summary)
{
    const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(summary, "metrics");
    fprintf(out, "\n");
    const cJSON *m;
    cJSON_ArrayForEach(m, metrics)
    {
        metric_line(out, m->string, m);
    }
    endpoint_table(out, summary);
    checks_block(out, "checks", cJSON_GetObjectItemCaseSensitive(summary, "checks"));
    const cJSON *verify = cJSON_GetObjectItemCaseSensitive(summary, "verify");
    if (cJSON_IsObject(verify)) {
        checks_block(out, "verify", cJSON_GetObjectItemCaseSensitive(verify, "checks"));
        const char *e = str(verify, "error");
        if (*e)
            fprintf(out, "    ✗ verify() failed: %s\n", e);
    }
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(summary, "thresholds");
    if (cJSON_GetArraySize(th) > 0) {
        fprintf(out, "\n  thresholds\n");
        const cJSON *t;
        cJSON_ArrayForEach(t, th)
        {
            bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "ok"));
            const cJSON *obs = cJSON_GetObjectItemCaseSensitive(t, "observed");
            char o[32] = "no data";
            if (cJSON_IsNumber(obs))
                snprintf(o, sizeof o, "%g", obs->valuedouble);
            bool dflt = strcmp(str(t, "source"), "default") == 0; /* verdict.h */
            fprintf(out, "    %s %s: %s  (observed %s)%s\n", ok ? "✓" : "✗", str(t, "metric"),
                    str(t, "expression"), o, dflt ? "  default check" : "");
        }
    }
    const cJSON *serr = cJSON_GetObjectItemCaseSensitive(summary, "script_errors");
    if (cJSON_GetArraySize(serr) > 0) {
        fprintf(out, "\n  script errors\n");
        const cJSON *e;
        cJSON_ArrayForEach(e, serr)
        {
            fprintf(out, "    %6.0f× %s\n", num(e, "count"), str(e, "message"));
        }
    }
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(summary, "errors");
    if (cJSON_GetArraySize(errs) > 0) {
        fprintf(out, "\n  failed requests\n");
        const cJSON *e;
        int shown = 0;
        cJSON_ArrayForEach(e, errs)
        {
            if (shown++ == 10) {
                fprintf(out, "    … see failures.csv\n");
                break;
            }
            fprintf(out, "    %6.0f× %s %s: %s\n", num(e, "occurrences"), str(e, "method"),
                    str(e, "name"), str(e, "error"));
        }
    }
    hooks_summary(out, summary);
    fputc('\n', out);
}
