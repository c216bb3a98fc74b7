/* Unit tests of stats/summary.c: from a registry holding known samples, the per-second history
 * row and the "metrics", "series", "endpoints", "aggregated", "checks", "errors" and
 * "script_errors" of summary.json carry the right counts, rates and percentiles. */
#include <stdlib.h>
#include "../check.h"
#include "summary.h"

#define TOL 0.001 /* the histograms keep three significant digits: 0.1 % */

static const char *tags(const char *k1, const char *v1, const char *k2, const char *v2,
                        const char *k3, const char *v3, char *buf, size_t len)
{
    struct tide_tags t = {0};
    if (k1 != NULL)
        tide_tags_set(&t, k1, v1);
    if (k2 != NULL)
        tide_tags_set(&t, k2, v2);
    if (k3 != NULL)
        tide_tags_set(&t, k3, v3);
    tide_tags_canon(&t, buf, len);
    return buf;
}

/* One request of 'ms' to (method, name); 'failed' as http_req_failed; a body of 'bytes'. */
static void request(struct tide_registry *r, const char *method, const char *name, double ms,
                    bool failed, double bytes)
{
    char t[256];
    tags("method", method, "name", name, NULL, NULL, t, sizeof t);
    tide_registry_add(r, TIDE_M_HTTP_REQ_DURATION, t, ms);
    tide_registry_add(r, TIDE_M_HTTP_REQS, t, 1);
    tide_registry_add(r, TIDE_M_HTTP_REQ_FAILED, t, failed ? 1 : 0);
    tide_registry_add(r, TIDE_M_DATA_RECEIVED, "", bytes + 100); /* + the headers */
    /* the body alone, per endpoint: Locust's "Average Content Size" */
    int content =
        tide_metric_register("tide_content_bytes", TIDE_COUNTER, TIDE_CONTAINS_DATA, NULL);
    tide_registry_add(r, content, t, bytes);
}

/* GET /a: 100 requests of 1..100 ms, the last 10 failed, 50 bytes each; POST /b: 10 of 200 ms;
 * 40 iterations; the check "is 200" passes 3 times and fails once; two request errors and one
 * script error. */
static struct tide_registry *known_samples(void)
{
    struct tide_registry *r = tide_registry_new();
    for (int i = 1; i <= 100; i++)
        request(r, "GET", "/a", i, i > 90, 50);
    for (int i = 0; i < 10; i++)
        request(r, "POST", "/b", 200, false, 0);
    for (int i = 0; i < 40; i++)
        tide_registry_add(r, TIDE_M_ITERATIONS, "", 1);
    tide_registry_add(r, TIDE_M_DATA_SENT, "", 1234);
    char t[256];
    tags("check", "is 200", "group", "", NULL, NULL, t, sizeof t);
    for (int i = 0; i < 4; i++)
        tide_registry_add(r, TIDE_M_CHECKS, t, i < 3 ? 1 : 0);
    int failures = tide_metric_register("tide_failures", TIDE_COUNTER, TIDE_CONTAINS_DEFAULT, NULL);
    int script =
        tide_metric_register("tide_script_errors", TIDE_COUNTER, TIDE_CONTAINS_DEFAULT, NULL);
    tags("method", "GET", "name", "/a", "error", "HTTP 503", t, sizeof t);
    tide_registry_add(r, failures, t, 10);
    tags("message", "boom", NULL, NULL, NULL, NULL, t, sizeof t);
    tide_registry_add(r, script, t, 2);
    return r;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1e300;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *obj(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItem(o, key);
}

/* A percentile within the histogram's precision of the exact value. */
#define CHECK_PCT(got, want) CHECK_NEAR(got, want, (want)*TOL + 1e-9)

static void test_history_row(const struct tide_registry *r)
{
    /* 2026-11-25T15:30:00Z, and this row is second 3 (index 2) */
    cJSON *row = tide_summary_history_row(r, r, 2, 1795620603000000LL, 7);
    CHECK_STR(str(row, "time"), "2026-11-25T15:30:03.000Z");
    CHECK(num(row, "elapsed_s") == 3);
    CHECK(num(row, "vus") == 7);
    CHECK(num(row, "reqs") == 110 && num(row, "rps") == 110);
    CHECK(num(row, "fails") == 10 && num(row, "fps") == 10);
    CHECK(num(row, "iterations") == 40);
    CHECK(num(row, "bytes_received") == 5000 + 110 * 100);
    CHECK(num(row, "bytes_sent") == 1234);
    const cJSON *p = obj(row, "percentiles");
    CHECK_PCT(num(p, "50"), 55);  /* 110 samples: 1..100, then ten of 200 */
    CHECK_PCT(num(p, "90"), 99);  /* the 99th of 110 */
    CHECK_PCT(num(p, "95"), 200); /* the 105th */
    CHECK_PCT(num(p, "100"), 200);
    const cJSON *a = obj(obj(row, "endpoints"), "GET /a"),
                *b = obj(obj(row, "endpoints"), "POST /b");
    CHECK(a != NULL && b != NULL && cJSON_GetArraySize(obj(row, "endpoints")) == 2);
    CHECK(num(a, "reqs") == 100 && num(a, "fails") == 10);
    CHECK_PCT(num(a, "p50"), 50);
    CHECK_PCT(num(a, "p95"), 95);
    CHECK_PCT(num(a, "p99"), 99);
    CHECK(num(b, "reqs") == 10 && num(b, "fails") == 0);
    CHECK_PCT(num(b, "p50"), 200);
    const cJSON *t = obj(row, "total");
    CHECK(num(t, "reqs") == 110 && num(t, "fails") == 10);
    CHECK_NEAR(num(t, "avg"), 7050.0 / 110, 0.0005);
    CHECK_PCT(num(t, "min"), 1);
    CHECK_PCT(num(t, "max"), 200);
    CHECK_NEAR(num(t, "avg_content_size"), 5000.0 / 110, 0.0005);
    cJSON_Delete(row);
}

/* An empty second: zeros, no endpoints, the totals of the run so far. */
static void test_history_row_of_an_empty_second(const struct tide_registry *total)
{
    struct tide_registry *empty = tide_registry_new();
    cJSON *row = tide_summary_history_row(empty, total, 0, 1795620601000000LL, 0);
    CHECK(num(row, "reqs") == 0 && num(row, "fails") == 0 && num(row, "iterations") == 0);
    CHECK(cJSON_GetArraySize(obj(row, "endpoints")) == 0);
    CHECK(num(obj(row, "total"), "reqs") == 110);
    cJSON_Delete(row);
    tide_registry_free(empty);
}

static void test_metrics(const cJSON *s)
{
    const cJSON *m = obj(s, "metrics");
    const cJSON *reqs = obj(m, "http_reqs"), *failed = obj(m, "http_req_failed");
    CHECK_STR(str(reqs, "type"), "counter");
    CHECK(num(reqs, "count") == 110 && num(reqs, "rate") == 11); /* over 10 s */
    CHECK_STR(str(failed, "type"), "rate");
    CHECK_NEAR(num(failed, "rate"), 10.0 / 110, 1e-12);
    CHECK(num(failed, "passes") == 10 && num(failed, "fails") == 100);
    const cJSON *d = obj(m, "http_req_duration");
    CHECK_STR(str(d, "type"), "trend");
    CHECK_STR(str(d, "contains"), "time");
    CHECK(num(d, "count") == 110);
    CHECK_NEAR(num(d, "avg"), 64.091, 1e-9);
    CHECK_PCT(num(d, "min"), 1);
    CHECK_PCT(num(d, "med"), 55);
    CHECK_PCT(num(d, "p90"), 99);
    CHECK_PCT(num(d, "p95"), 200);
    CHECK_PCT(num(d, "max"), 200);
    CHECK(cJSON_IsObject(obj(d, "histogram")));
    CHECK(num(obj(m, "iterations"), "count") == 40 && num(obj(m, "iterations"), "rate") == 4);
    CHECK_STR(str(obj(m, "data_received"), "contains"), "data");
    CHECK(num(obj(m, "data_received"), "count") == 5000 + 110 * 100);
    const cJSON *c = obj(m, "checks");
    CHECK(num(c, "passes") == 3 && num(c, "fails") == 1 && num(c, "rate") == 0.75);
    CHECK(obj(m, "vus") == NULL); /* no samples: not reported */
    CHECK(obj(m, "tide_failures") == NULL && obj(m, "tide_script_errors") == NULL);
}

static void test_series(const cJSON *s)
{
    const cJSON *x;
    int reqs = 0, internal = 0;
    cJSON_ArrayForEach(x, obj(s, "series"))
    {
        const char *metric = str(x, "metric");
        internal += metric != NULL && strncmp(metric, "tide_", 5) == 0;
        if (metric == NULL || strcmp(metric, "http_reqs") != 0)
            continue;
        reqs++;
        const char *name = str(obj(x, "tags"), "name");
        CHECK(num(x, "count") == (name != NULL && strcmp(name, "/a") == 0 ? 100 : 10));
    }
    CHECK(reqs == 2);
    CHECK(internal == 0);
}

static void test_endpoints(const cJSON *s)
{
    const cJSON *eps = obj(s, "endpoints");
    CHECK(cJSON_GetArraySize(eps) == 2);
    const cJSON *a = cJSON_GetArrayItem(eps, 0), *b = cJSON_GetArrayItem(eps, 1);
    CHECK_STR(str(a, "name"), "/a"); /* sorted by name */
    CHECK_STR(str(a, "method"), "GET");
    CHECK(num(a, "requests") == 100 && num(a, "failures") == 10);
    CHECK(num(a, "rps") == 10 && num(a, "fps") == 1);
    CHECK_NEAR(num(a, "avg"), 50.5, 1e-9);
    CHECK_NEAR(num(a, "avg_content_size"), 50, 1e-9);
    CHECK_PCT(num(a, "med"), 50);
    CHECK_PCT(num(obj(a, "percentiles"), "66"), 66);
    CHECK_PCT(num(obj(a, "percentiles"), "99"), 99);
    CHECK_PCT(num(obj(a, "percentiles"), "100"), 100);
    CHECK(cJSON_IsObject(obj(a, "histogram")));
    CHECK_STR(str(b, "name"), "/b");
    CHECK(num(b, "requests") == 10 && num(b, "failures") == 0 && num(b, "avg_content_size") == 0);
    const cJSON *all = obj(s, "aggregated");
    CHECK_STR(str(all, "name"), "Aggregated");
    CHECK(num(all, "requests") == 110 && num(all, "failures") == 10);
    CHECK(num(all, "rps") == 11 && num(all, "fps") == 1);
    CHECK_PCT(num(obj(all, "percentiles"), "95"), 200);
}

static void test_checks_and_errors(const cJSON *s)
{
    const cJSON *checks = obj(s, "checks");
    CHECK(cJSON_GetArraySize(checks) == 1);
    const cJSON *c = cJSON_GetArrayItem(checks, 0);
    CHECK_STR(str(c, "name"), "is 200");
    CHECK_STR(str(c, "group"), "");
    CHECK(num(c, "passes") == 3 && num(c, "fails") == 1);
    const cJSON *errors = obj(s, "errors"), *serrors = obj(s, "script_errors");
    CHECK(cJSON_GetArraySize(errors) == 1 && cJSON_GetArraySize(serrors) == 1);
    const cJSON *e = cJSON_GetArrayItem(errors, 0);
    CHECK_STR(str(e, "method"), "GET");
    CHECK_STR(str(e, "name"), "/a");
    CHECK_STR(str(e, "error"), "HTTP 503");
    CHECK(num(e, "occurrences") == 10);
    CHECK_STR(str(cJSON_GetArrayItem(serrors, 0), "message"), "boom");
    CHECK(num(cJSON_GetArrayItem(serrors, 0), "count") == 2);
}

int main(void)
{
    struct tide_registry *r = known_samples();
    test_history_row(r);
    test_history_row_of_an_empty_second(r);
    cJSON *s = cJSON_CreateObject();
    tide_summary_add_metrics(s, r, 10);
    test_metrics(s);
    test_series(s);
    test_endpoints(s);
    test_checks_and_errors(s);
    cJSON_Delete(s);
    tide_registry_free(r);
    return CHECK_DONE();
}
