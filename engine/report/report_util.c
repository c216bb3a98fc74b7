/* report_util.c: what the report renderers share (report_util.h): saving a rendered file, lenient
 * summary reads, the schema check, times and numbers. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fsutil.h"
#include "report_util.h"

int tide_report_buf_save(struct tide_buf *b, const char *path, struct tide_err *err)
{
    int rc;
    if (b->failed)
        rc = tide_err_set(err, "cannot render '%s': out of memory", path);
    else
        rc = tide_fs_write_atomic(path, b->data ? b->data : "", b->len, err);
    tide_buf_free(b);
    return rc;
}

double tide_rj_num(const cJSON *obj, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? 1 : 0;
    return dflt;
}

const char *tide_rj_str(const cJSON *obj, const char *key, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

const cJSON *tide_rj_array(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsArray(v) ? v : NULL;
}

const cJSON *tide_rj_object(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsObject(v) ? v : NULL;
}

int tide_report_check_schema(const cJSON *summary, struct tide_err *err)
{
    if (!cJSON_IsObject(summary))
        return tide_err_set(err, "summary: expected a JSON object");
    const char *schema = tide_rj_str(summary, "schema", NULL);
    if (schema == NULL)
        return tide_err_set(err, "summary: no \"schema\" field (is this a tide summary.json?)");
    if (strcmp(schema, "tide.summary/1") != 0)
        return tide_err_set(err,
                            "summary: schema \"%.100s\" is not supported (expected "
                            "\"tide.summary/1\"; use the tide version that wrote it)",
                            schema);
    return 0;
}

cJSON *tide_report_parse(const char *text, size_t len, const char *name, struct tide_err *err)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (j == NULL) {
        int line = 1;
        for (const char *p = text; end != NULL && p < end && p < text + len; p++)
            line += *p == '\n';
        tide_err_set(err, "%s: line %d: not valid JSON", name, line);
        return NULL;
    }
    struct tide_err why;
    if (tide_report_check_schema(j, &why) != 0) {
        tide_err_set(err, "%s: %s", name, why.msg + strlen("summary: "));
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool tide_report_parse_time(const char *s, double *secs)
{
    int y, mo, d, h, mi, n = 0;
    double sec;
    if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec < 0 || sec >= 61)
        return false;
    double off = 0;
    const char *z = s + n;
    if (*z == '+' || *z == '-') {
        int oh, om;
        if (sscanf(z + 1, "%2d:%2d", &oh, &om) != 2)
            return false;
        off = (*z == '-' ? -1 : 1) * (oh * 3600.0 + om * 60.0);
    } else if (*z != 'Z' && *z != 'z') {
        return false;
    }
    *secs = (double)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60) + sec - off;
    return true;
}

void tide_report_fmt_num(char *out, size_t n, double v)
{
    if (!isfinite(v)) {
        snprintf(out, n, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(out, n, "%.*g", p, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

char *tide_report_summary_path(const char *arg, char **dir)
{
    size_t n = strlen(arg);
    if (n >= 5 && strcmp(arg + n - 5, ".json") == 0) {
        const char *slash = strrchr(arg, '/');
        *dir = slash ? strndup(arg, (size_t)(slash - arg)) : strdup(".");
        return strdup(arg);
    }
    while (n > 1 && arg[n - 1] == '/')
        n--;
    *dir = strndup(arg, n);
    char *p = malloc(n + sizeof "/summary.json");
    if (p != NULL)
        snprintf(p, n + sizeof "/summary.json", "%.*s/summary.json", (int)n, arg);
    return p;
}
