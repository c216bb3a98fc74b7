/* report_csv.c: stats.csv, stats_history.csv and failures.csv in Locust's layout, so the
 * tooling that reads Locust's --csv files reads tide's. Numbers are written as Locust's
 * Python csv.writer writes them: counts and percentiles as integers, times and rates as
 * Python's repr() of a float ("3.0", "0.1", "1e-05"), history rates as "%2f"; lines end in
 * "\r\n" (csv's default dialect). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "report.h"
#include "report_util.h"

static const char *const pct_keys[] = {"50", "66", "75",   "80",    "90", "95",
                                       "98", "99", "99.9", "99.99", "100"};
#define NPCT (sizeof pct_keys / sizeof pct_keys[0])

static const char stats_header[] =
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\r\n";
static const char history_header[] =
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,"
    "Total Request Count,Total Failure Count,Total Median Response Time,"
    "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
    "Total Average Content Size\r\n";
static const char failures_header[] = "Method,Name,Error,Occurrences\r\n";
/* Locust's PREFIX_exceptions.csv header (its csv writer's, locust/html and stats code). */
static const char exceptions_header[] = "Count,Message,Traceback,Nodes\r\n";

/* Python's repr() of a float: shortest round-trip digits, fixed notation for exponents
 * -4..15 (always with a '.'), else "1.5e-05" / "1e+16". */
static void put_pyfloat(struct tide_buf *b, double v)
{
    char tmp[40];
    if (!isfinite(v)) {
        tide_buf_puts(b, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return;
    }
    for (int p = 0; p < 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* tmp: [-]D[.DDD]e[+-]XX */
    char digits[24];
    size_t nd = 0;
    const char *p = tmp;
    bool neg = *p == '-';
    p += neg;
    for (; *p != 'e'; p++) {
        if (*p != '.')
            digits[nd++] = *p;
    }
    digits[nd] = '\0';
    int exp = atoi(p + 1);
    if (neg)
        tide_buf_puts(b, "-");
    if (exp < -4 || exp >= 16) {
        tide_buf_add(b, digits, 1);
        if (nd > 1)
            tide_buf_printf(b, ".%s", digits + 1);
        tide_buf_printf(b, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    } else if (exp < 0) {
        tide_buf_printf(b, "0.%.*s%s", -exp - 1, "0000", digits);
    } else if ((size_t)exp + 1 >= nd) {
        tide_buf_printf(b, "%s%.*s.0", digits, (int)((size_t)exp + 1 - nd), "0000000000000000");
    } else {
        tide_buf_printf(b, "%.*s.%s", exp + 1, digits, digits + exp + 1);
    }
}

/* Min/max: Locust writes 'min_response_time or 0', an int 0 until a sample arrives. */
static void put_float_or_zero(struct tide_buf *b, double v)
{
    if (v == 0)
        tide_buf_puts(b, "0");
    else
        put_pyfloat(b, v);
}

/* Python's csv QUOTE_MINIMAL: quoted when it holds a comma, a quote or a line break. */
static void put_field(struct tide_buf *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        tide_buf_puts(b, s);
        return;
    }
    tide_buf_puts(b, "\"");
    for (const char *q = strchr(s, '"'); q != NULL; q = strchr(s, '"')) {
        tide_buf_add(b, s, (size_t)(q - s) + 1);
        tide_buf_puts(b, "\"");
        s = q + 1;
    }
    tide_buf_puts(b, s);
    tide_buf_puts(b, "\"");
}

static void put_count(struct tide_buf *b, double v)
{
    tide_buf_printf(b, "%.0f", v < 0 ? 0 : floor(v));
}

/* Locust's median is an int (rounded response time), clamped to the exact min and max. */
static void put_median(struct tide_buf *b, double med, double min, double max)
{
    double m = nearbyint(med);
    if (m > max)
        put_pyfloat(b, max);
    else if (m < min)
        put_pyfloat(b, min);
    else
        tide_buf_printf(b, "%.0f", m);
}

/* ",50%,...,100%" values: integers (Locust rounds response times), N/A without requests. */
static void put_percentiles(struct tide_buf *b, const cJSON *pcts, bool any)
{
    for (size_t i = 0; i < NPCT; i++) {
        if (!any)
            tide_buf_puts(b, ",N/A");
        else
            tide_buf_printf(b, ",%.0f", nearbyint(tide_rj_num(pcts, pct_keys[i], 0)));
    }
}

static void stats_row(struct tide_buf *b, const cJSON *e, const char *method, const char *name)
{
    double reqs = tide_rj_num(e, "requests", 0);
    double min = tide_rj_num(e, "min", 0);
    double max = tide_rj_num(e, "max", 0);
    put_field(b, method);
    tide_buf_puts(b, ",");
    put_field(b, name);
    tide_buf_puts(b, ",");
    put_count(b, reqs);
    tide_buf_puts(b, ",");
    put_count(b, tide_rj_num(e, "failures", 0));
    tide_buf_puts(b, ",");
    if (reqs > 0)
        put_median(b, tide_rj_num(e, "med", 0), min, max);
    else
        tide_buf_puts(b, "0");
    tide_buf_puts(b, ",");
    put_pyfloat(b, tide_rj_num(e, "avg", 0));
    tide_buf_puts(b, ",");
    put_float_or_zero(b, reqs > 0 ? min : 0);
    tide_buf_puts(b, ",");
    put_float_or_zero(b, reqs > 0 ? max : 0);
    tide_buf_puts(b, ",");
    if (reqs > 0)
        put_pyfloat(b, tide_rj_num(e, "avg_content_size", 0));
    else
        tide_buf_puts(b, "0");
    tide_buf_puts(b, ",");
    put_pyfloat(b, tide_rj_num(e, "rps", 0));
    tide_buf_puts(b, ",");
    put_pyfloat(b, tide_rj_num(e, "fps", 0));
    put_percentiles(b, tide_rj_object(e, "percentiles"), reqs > 0);
    tide_buf_puts(b, "\r\n");
}

/* Locust sorts rows by (name, method). */
static int by_name_method(const void *pa, const void *pb)
{
    const cJSON *a = *(const cJSON *const *)pa, *b = *(const cJSON *const *)pb;
    int c = strcmp(tide_rj_str(a, "name", ""), tide_rj_str(b, "name", ""));
    return c != 0 ? c : strcmp(tide_rj_str(a, "method", ""), tide_rj_str(b, "method", ""));
}

/* Most frequent first; ties in (method, name, error) order, so output is stable. */
static int by_occurrences(const void *pa, const void *pb)
{
    const cJSON *a = *(const cJSON *const *)pa, *b = *(const cJSON *const *)pb;
    double na = tide_rj_num(a, "occurrences", 0), nb = tide_rj_num(b, "occurrences", 0);
    if (na != nb)
        return na > nb ? -1 : 1;
    int c = strcmp(tide_rj_str(a, "method", ""), tide_rj_str(b, "method", ""));
    if (c == 0)
        c = strcmp(tide_rj_str(a, "name", ""), tide_rj_str(b, "name", ""));
    return c != 0 ? c : strcmp(tide_rj_str(a, "error", ""), tide_rj_str(b, "error", ""));
}

/* The objects of array 'key' of 'summary', sorted with 'cmp'; NULL and 0 when none. */
static const cJSON **sorted_items(const cJSON *summary, const char *key,
                                  int (*cmp)(const void *, const void *), size_t *n, bool *oom)
{
    const cJSON *arr = tide_rj_array(summary, key);
    int size = arr ? cJSON_GetArraySize(arr) : 0;
    *n = 0;
    if (size == 0)
        return NULL;
    const cJSON **items = malloc((size_t)size * sizeof *items);
    if (items == NULL) {
        *oom = true;
        return NULL;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (cJSON_IsObject(e))
            items[(*n)++] = e;
    }
    qsort(items, *n, sizeof *items, cmp);
    return items;
}

static int write_stats(const cJSON *summary, const char *path, struct tide_err *err)
{
    struct tide_buf b = {0};
    size_t n;
    const cJSON **rows = sorted_items(summary, "endpoints", by_name_method, &n, &b.failed);
    tide_buf_puts(&b, stats_header);
    for (size_t i = 0; i < n; i++)
        stats_row(&b, rows[i], tide_rj_str(rows[i], "method", ""),
                  tide_rj_str(rows[i], "name", ""));
    free(rows);
    stats_row(&b, tide_rj_object(summary, "aggregated"), "", "Aggregated");
    return tide_report_buf_save(&b, path, err);
}

/* Unix seconds of a history row: its "time", else the run's start plus "elapsed_s". */
static long long history_stamp(const cJSON *row, double start)
{
    double t;
    if (!tide_report_parse_time(tide_rj_str(row, "time", NULL), &t))
        t = start + tide_rj_num(row, "elapsed_s", 0);
    return (long long)floor(t);
}

static void history_row(struct tide_buf *b, const cJSON *row, double start)
{
    const cJSON *tot = tide_rj_object(row, "total");
    double reqs = tide_rj_num(tot, "reqs", 0);
    double min = tide_rj_num(tot, "min", 0);
    double max = tide_rj_num(tot, "max", 0);
    tide_buf_printf(b, "%lld,", history_stamp(row, start));
    put_count(b, tide_rj_num(row, "vus", 0));
    tide_buf_printf(b, ",,Aggregated,%2f,%2f", tide_rj_num(row, "rps", 0),
                    tide_rj_num(row, "fps", 0));
    put_percentiles(b, tide_rj_object(row, "percentiles"), reqs > 0);
    tide_buf_puts(b, ",");
    put_count(b, reqs);
    tide_buf_puts(b, ",");
    put_count(b, tide_rj_num(tot, "fails", 0));
    tide_buf_puts(b, ",");
    if (reqs > 0)
        put_median(b, tide_rj_num(tot, "med", 0), min, max);
    else
        tide_buf_puts(b, "0");
    tide_buf_puts(b, ",");
    put_pyfloat(b, tide_rj_num(tot, "avg", 0));
    tide_buf_puts(b, ",");
    put_float_or_zero(b, reqs > 0 ? min : 0);
    tide_buf_puts(b, ",");
    put_float_or_zero(b, reqs > 0 ? max : 0);
    tide_buf_puts(b, ",");
    if (reqs > 0)
        put_pyfloat(b, tide_rj_num(tot, "avg_content_size", 0));
    else
        tide_buf_puts(b, "0");
    tide_buf_puts(b, "\r\n");
}

static int write_history(const cJSON *summary, const char *path, struct tide_err *err)
{
    struct tide_buf b = {0};
    double start = 0;
    tide_report_parse_time(tide_rj_str(tide_rj_object(summary, "run"), "start", NULL), &start);
    tide_buf_puts(&b, history_header);
    const cJSON *row;
    cJSON_ArrayForEach(row, tide_rj_array(summary, "history"))
    {
        if (cJSON_IsObject(row))
            history_row(&b, row, start);
    }
    return tide_report_buf_save(&b, path, err);
}

static int write_failures(const cJSON *summary, const char *path, struct tide_err *err)
{
    struct tide_buf b = {0};
    size_t n;
    const cJSON **rows = sorted_items(summary, "errors", by_occurrences, &n, &b.failed);
    tide_buf_puts(&b, failures_header);
    for (size_t i = 0; i < n; i++) {
        put_field(&b, tide_rj_str(rows[i], "method", ""));
        tide_buf_puts(&b, ",");
        put_field(&b, tide_rj_str(rows[i], "name", ""));
        tide_buf_puts(&b, ",");
        put_field(&b, tide_rj_str(rows[i], "error", ""));
        tide_buf_puts(&b, ",");
        put_count(&b, tide_rj_num(rows[i], "occurrences", 0));
        tide_buf_puts(&b, "\r\n");
    }
    free(rows);
    return tide_report_buf_save(&b, path, err);
}

/* Most frequent first, then by message: a stable order. */
static int by_count(const void *pa, const void *pb)
{
    const cJSON *a = *(const cJSON *const *)pa, *b = *(const cJSON *const *)pb;
    double na = tide_rj_num(a, "count", 0), nb = tide_rj_num(b, "count", 0);
    if (na != nb)
        return na > nb ? -1 : 1;
    return strcmp(tide_rj_str(a, "message", ""), tide_rj_str(b, "message", ""));
}

/* The "file.lua:12" a Lua error message starts with (tide keeps no stack of a script error:
 * the place it was raised is its traceback), into out; "" when the message has none. */
static void error_location(const char *msg, char *out, size_t cap)
{
    out[0] = '\0';
    const char *colon = strstr(msg, ".lua:");
    if (colon == NULL)
        return;
    const char *p = colon + 5;
    while (*p >= '0' && *p <= '9')
        p++;
    if (p == colon + 5 || *p != ':' || (size_t)(p - msg) >= cap ||
        memchr(msg, ' ', (size_t)(p - msg)))
        return;
    memcpy(out, msg, (size_t)(p - msg));
    out[p - msg] = '\0';
}

int tide_report_exceptions_csv(const cJSON *summary, const char *path, struct tide_err *err)
{
    if (tide_report_check_schema(summary, err) != 0)
        return -1;
    struct tide_buf b = {0};
    size_t n;
    const cJSON **rows = sorted_items(summary, "script_errors", by_count, &n, &b.failed);
    tide_buf_puts(&b, exceptions_header);
    for (size_t i = 0; i < n; i++) {
        /* the summary is redacted already; redact again in case a caller passed a raw one */
        char *msg = tide_redact(tide_rj_str(rows[i], "message", ""));
        if (msg == NULL) {
            b.failed = true;
            break;
        }
        char where[512];
        error_location(msg, where, sizeof where);
        put_count(&b, tide_rj_num(rows[i], "count", 0));
        tide_buf_puts(&b, ",");
        put_field(&b, msg);
        tide_buf_puts(&b, ",");
        put_field(&b, where);
        tide_buf_puts(&b, ",local\r\n"); /* Locust's node name for a run without workers */
        free(msg);
    }
    free(rows);
    return tide_report_buf_save(&b, path, err);
}

int tide_report_csv(const cJSON *summary, const char *stats_path, const char *history_path,
                    const char *failures_path, struct tide_err *err)
{
    if (tide_report_check_schema(summary, err) != 0)
        return -1;
    if (stats_path != NULL && write_stats(summary, stats_path, err) != 0)
        return -1;
    if (history_path != NULL && write_history(summary, history_path, err) != 0)
        return -1;
    if (failures_path != NULL && write_failures(summary, failures_path, err) != 0)
        return -1;
    return 0;
}
