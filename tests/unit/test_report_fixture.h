/* test_report_fixture.h: the summary.json of a 60-second CRUD run (6 endpoints, ramping to 20
 * VUs) for the report tests, written by the engine's own summary writer. Seeded samples are
 * recorded in metric registries the way a VU records a response (lua/lua_http.c): one registry
 * per second, merged into the run's total as the coordinator does. stats/summary.c then writes
 * the history rows and "metrics", "series", "endpoints", "aggregated", "checks", "errors" and
 * "script_errors". What the coordinator (run/run.c) writes around them ("tool", "run",
 * "options", "thresholds", "verify", "generator") is built here in the same shape, and
 * tests/e2e/test_summary_shape.py compares tests/fixtures/summary.json key by key with the
 * summary.json of a real run, so the fixture and the engine cannot drift apart unnoticed.
 * Deterministic: the same bytes on every machine; tests/fixtures/summary.json is the output
 * (test_report_fixture checks that, and rewrites it with --write). */
#ifndef TIDE_TEST_REPORT_FIXTURE_H
#define TIDE_TEST_REPORT_FIXTURE_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "hdr.h"
#include "metrics.h"
#include "summary.h"

#define FX_SECONDS  60
#define FX_NEP      6
#define FX_START_US 1795620600000000LL /* 2026-11-25T15:30:00Z */

struct fx_rng {
    uint64_t s;
};

static inline uint64_t fx_next(struct fx_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}

static inline double fx_unit(struct fx_rng *r)
{
    return (double)(fx_next(r) >> 11) / 9007199254740992.0;
}

/* Latency in µs around 'base_ms': a bell (mean of 4 uniforms) plus a 3 % slow tail. */
static inline int64_t fx_latency(struct fx_rng *r, double base_ms, double slow)
{
    double x = (fx_unit(r) + fx_unit(r) + fx_unit(r) + fx_unit(r)) / 4.0;
    double v = base_ms * (0.55 + 0.9 * x);
    if (fx_unit(r) < 0.03)
        v *= 2.0 + 6.0 * fx_unit(r);
    return (int64_t)(v * slow * 1000.0);
}

struct fx_ep {
    const char *method, *name;
    double base_ms, weight, fail_p;
    const char *error, *status, *fail_status;
    double size;               /* response bytes */
    const char *check, *group; /* the check made on its responses, or NULL */
    bool check_fails;          /* whether the check fails with the request */
};

/* The errors carry hostile text (markup, quotes, commas) for the escaping tests. */
static const struct fx_ep fx_eps[FX_NEP] = {
    {"POST", "/api/auth/login", 42, 0.08, 0.0, NULL, "200", NULL, 312, "login is 200", "::login",
     true},
    {"GET", "/api/projects", 18, 0.34, 0.002,
     "HTTP 503: <html><body>Service Unavailable</body></html>", "200", "503", 2048, "list is 200",
     "", true},
    {"GET", "/api/projects/{id}", 9, 0.25, 0.004, "connection reset by peer", "200", "0", 512, NULL,
     NULL, false},
    {"POST", "/api/projects", 25, 0.10, 0.01,
     "HTTP 409: {\"error\": \"project \\\"alpha, beta\\\" exists\"}", "201", "409", 256,
     "body has <b>no</b> \"error\" & is JSON", "::projects", false},
    {"DELETE", "/api/projects/{id}", 14, 0.07, 0.0, NULL, "204", NULL, 0, NULL, NULL, false},
    {"GET", "/api/search?q={term}", 85, 0.16, 0.02, "HTTP 500: <script>alert(1)</script>", "200",
     "500", 4096, "search returns items", "::search", true},
};

/* Canonical tags from up to four key/value pairs (NULL key: none). */
static inline const char *fx_tags(char *buf, size_t len, const char *k1, const char *v1,
                                  const char *k2, const char *v2, const char *k3, const char *v3,
                                  const char *k4, const char *v4)
{
    struct tide_tags t = {0};
    const char *k[] = {k1, k2, k3, k4}, *v[] = {v1, v2, v3, v4};
    for (int i = 0; i < 4; i++) {
        if (k[i] != NULL)
            tide_tags_set(&t, k[i], v[i]);
    }
    tide_tags_canon(&t, buf, len);
    return buf;
}

/* One response of endpoint 'e', recorded as lua_http.c records it. */
static inline void fx_record(struct tide_registry *reg, const struct fx_ep *e, int64_t us,
                             bool failed)
{
    static int content = -1, failures = -1;
    if (content < 0) {
        content =
            tide_metric_register("tide_content_bytes", TIDE_COUNTER, TIDE_CONTAINS_DATA, NULL);
        failures = tide_metric_register("tide_failures", TIDE_COUNTER, TIDE_CONTAINS_DEFAULT, NULL);
    }
    char tags[512], ft[512];
    fx_tags(tags, sizeof tags, "scenario", "crud", "method", e->method, "name", e->name, "status",
            failed ? e->fail_status : e->status);
    double ms = (double)us / 1000.0;
    tide_registry_add(reg, TIDE_M_HTTP_REQS, tags, 1);
    tide_registry_add(reg, TIDE_M_HTTP_REQ_FAILED, tags, failed ? 1 : 0);
    tide_registry_add(reg, TIDE_M_HTTP_REQ_DURATION, tags, ms);
    tide_registry_add(reg, TIDE_M_HTTP_REQ_WAITING, tags, (double)(us * 17 / 20) / 1000.0);
    tide_registry_add(reg, TIDE_M_DATA_SENT, tags, 220);
    tide_registry_add(reg, TIDE_M_DATA_RECEIVED, tags, failed ? 120 : e->size + 180);
    tide_registry_add(reg, content, tags, failed ? 0 : e->size);
    if (failed) {
        fx_tags(ft, sizeof ft, "method", e->method, "name", e->name, "error", e->error, NULL, NULL);
        tide_registry_add(reg, failures, ft, 1);
    }
    if (e->check != NULL) {
        fx_tags(ft, sizeof ft, "scenario", "crud", "check", e->check, "group", e->group, NULL,
                NULL);
        tide_registry_add(reg, TIDE_M_CHECKS, ft, failed && e->check_fails ? 0 : 1);
    }
}

/* One second of load: 'vus' users at about 4 requests/s each, recorded in 'sec'. */
static inline void fx_second(struct tide_registry *sec, struct fx_rng *r, int vus, double slow)
{
    char tags[128];
    fx_tags(tags, sizeof tags, "scenario", "crud", NULL, NULL, NULL, NULL, NULL, NULL);
    int n = vus * 4 + (int)(fx_unit(r) * vus);
    for (int i = 0; i < n; i++) {
        double pick = fx_unit(r), acc = 0;
        int e = 0;
        for (; e < FX_NEP - 1; e++) {
            acc += fx_eps[e].weight;
            if (pick < acc)
                break;
        }
        int64_t us = fx_latency(r, fx_eps[e].base_ms, slow);
        bool failed = fx_unit(r) < fx_eps[e].fail_p;
        fx_record(sec, &fx_eps[e], us, failed);
    }
    for (int i = 0; i < n / 5; i++) {
        tide_registry_add(sec, TIDE_M_ITERATIONS, tags, 1);
        tide_registry_add(sec, TIDE_M_ITERATION_DURATION, tags,
                          (double)(1000000 + fx_latency(r, 220, slow)) / 1000.0);
    }
    tide_registry_add(sec, TIDE_M_VUS, "", vus);
    tide_registry_add(sec, TIDE_M_VUS_MAX, "", 20);
}

/* run/run.c's "run" section. */
static inline cJSON *fx_run_section(const char *status, double exit_code)
{
    cJSON *run = cJSON_CreateObject();
    cJSON_AddStringToObject(run, "id", "20261125-153000-crud");
    cJSON_AddStringToObject(run, "scenario_file", "scenarios/crud.lua");
    cJSON_AddStringToObject(run, "scenario_sha256",
                            "9f2c1e4b7a3d5f60812e4c9b0a7d3f215e6c8b9a0d1f2e3c4b5a69788796a5b4");
    cJSON_AddStringToObject(run, "host", "http://127.0.0.1:5000");
    cJSON_AddStringToObject(run, "start", "2026-11-25T15:30:00.000Z");
    cJSON_AddStringToObject(run, "end", "2026-11-25T15:31:00.000Z");
    cJSON_AddNumberToObject(run, "duration_s", FX_SECONDS);
    cJSON_AddNumberToObject(run, "warmup_s", 0);
    cJSON_AddNumberToObject(run, "threads", 2);
    cJSON_AddStringToObject(run, "status", status);
    cJSON_AddNumberToObject(run, "exit_code", exit_code);
    cJSON_AddNullToObject(run, "abort_reason");
    cJSON_AddBoolToObject(run, "generator_bound", false);
    if (strcmp(status, "passed") == 0)
        cJSON_AddNullToObject(run, "reason");
    else
        cJSON_AddStringToObject(run, "reason",
                                "threshold http_req_duration: p(99)<120 not met (observed "
                                "140.992)");
    /* a split test's fields (docs/distributed.md): null in a run that is not a segment */
    cJSON_AddNullToObject(run, "segment");
    cJSON_AddNullToObject(run, "start_at");
    cJSON_AddNullToObject(run, "start_skew_ms");
    return run;
}

/* run/run.c's "options": one ramping-vus scenario, 0 -> 20 VUs over 10 s, then 50 s at 20. */
static inline cJSON *fx_options(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "host", "http://127.0.0.1:5000");
    cJSON_AddNumberToObject(o, "threads", 2);
    cJSON_AddNumberToObject(o, "warmup_s", 0);
    cJSON_AddBoolToObject(o, "insecure", false);
    cJSON *sc = cJSON_AddArrayToObject(o, "scenarios");
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", "crud");
    cJSON_AddStringToObject(j, "executor", "ramping-vus");
    cJSON_AddStringToObject(j, "exec", "run");
    cJSON_AddNumberToObject(j, "start_time_s", 0);
    cJSON *st = cJSON_AddArrayToObject(j, "stages");
    static const double stages[2][2] = {{10, 20}, {50, 20}};
    for (int i = 0; i < 2; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "duration_s", stages[i][0]);
        cJSON_AddNumberToObject(x, "target", stages[i][1]);
        cJSON_AddItemToArray(st, x);
    }
    cJSON_AddItemToArray(sc, j);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "env"), "TIDE_PASSWORD", "***");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "tags"), "team", "<payments & \"core\">");
    return o;
}

static inline void fx_threshold(cJSON *arr, const char *metric, const char *expr, bool ok,
                                double observed)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "metric", metric);
    cJSON_AddStringToObject(t, "expression", expr);
    cJSON_AddStringToObject(t, "source", "script");
    cJSON_AddBoolToObject(t, "ok", ok);
    cJSON_AddNumberToObject(t, "observed", observed);
    cJSON_AddBoolToObject(t, "abort_on_fail", false);
    cJSON_AddBoolToObject(t, "aborted", false);
    cJSON_AddItemToArray(arr, t);
}

static inline double fx_num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(o, a), b);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* run/run.c's "thresholds", judged on what the summary writer computed; true when all hold. */
static inline bool fx_thresholds(cJSON *s)
{
    const cJSON *m = cJSON_GetObjectItem(s, "metrics");
    double p95 = fx_num(m, "http_req_duration", "p95");
    double p99 = fx_num(m, "http_req_duration", "p99");
    double fails = fx_num(m, "http_req_failed", "rate");
    double login95 = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(s, "endpoints"))
    {
        if (strcmp(cJSON_GetObjectItem(e, "name")->valuestring, "/api/auth/login") == 0)
            login95 = fx_num(e, "percentiles", "95");
    }
    cJSON *th = cJSON_AddArrayToObject(s, "thresholds");
    fx_threshold(th, "http_req_duration", "p(95)<300", p95 < 300, p95);
    fx_threshold(th, "http_req_duration", "p(99)<120", p99 < 120, p99);
    fx_threshold(th, "http_req_duration{name:/api/auth/login}", "p(95)<500", login95 < 500,
                 login95);
    fx_threshold(th, "http_req_failed", "rate<0.01", fails < 0.01, fails);
    return p95 < 300 && p99 < 120 && login95 < 500 && fails < 0.01;
}

/* run/run.c's "verify": its checks come from a registry, as verify()'s do. */
static inline cJSON *fx_verify(void)
{
    struct tide_registry *reg = tide_registry_new();
    char t[256];
    fx_tags(t, sizeof t, "check", "every created project is listed", "group", "::verify", NULL,
            NULL, NULL, NULL);
    tide_registry_add(reg, TIDE_M_CHECKS, t, 1);
    fx_tags(t, sizeof t, "check", "tenants see only their own projects", "group", "::verify", NULL,
            NULL, NULL, NULL);
    tide_registry_add(reg, TIDE_M_CHECKS, t, 1);
    cJSON *v = cJSON_CreateObject();
    cJSON_AddBoolToObject(v, "ran", true);
    cJSON_AddBoolToObject(v, "ok", true);
    cJSON_AddNullToObject(v, "error");
    cJSON_AddItemToObject(v, "checks", tide_summary_checks(reg));
    tide_registry_free(reg);
    return v;
}

/* run/run.c's "generator". */
static inline cJSON *fx_generator(void)
{
    cJSON *g = cJSON_CreateObject();
    cJSON_AddNumberToObject(g, "threads", 2);
    cJSON_AddNumberToObject(g, "loop_lag_p99_ms", 0.42);
    cJSON_AddNumberToObject(g, "loop_lag_max_ms", 3.1);
    cJSON_AddNumberToObject(g, "cpu_max_percent", 38.5);
    cJSON_AddNumberToObject(g, "cpu_avg_percent", 21.4);
    cJSON_AddNumberToObject(g, "max_open_fds", 64);
    cJSON_AddNumberToObject(g, "peak_rss_kb", 20480);
    cJSON_AddNumberToObject(g, "saturated_seconds", 0);
    cJSON_AddNumberToObject(g, "measured_seconds", FX_SECONDS);
    cJSON_AddBoolToObject(g, "generator_bound", false);
    return g;
}

/* The whole summary; 'slow' multiplies every latency (1: the reference run). */
static inline cJSON *fixture_summary(double slow)
{
    struct fx_rng r = {0x7469646572756e31ULL}; /* "tiderun1" */
    struct tide_registry *total = tide_registry_new();
    cJSON *hist = cJSON_CreateArray();
    for (int t = 0; t < FX_SECONDS; t++) {
        struct tide_registry *sec = tide_registry_new();
        fx_second(sec, &r, t < 10 ? 2 * (t + 1) : 20, slow);
        tide_registry_merge(total, sec);
        cJSON_AddItemToArray(hist, tide_summary_history_row(sec, total, t,
                                                            FX_START_US + (t + 1) * 1000000LL,
                                                            t < 10 ? 2 * (t + 1) : 20));
        tide_registry_free(sec);
    }
    char msg[128];
    fx_tags(msg, sizeof msg, "message",
            "scenarios/crud.lua:41: attempt to index a nil value (field 'items')", NULL, NULL, NULL,
            NULL, NULL, NULL);
    tide_registry_add(
        total,
        tide_metric_register("tide_script_errors", TIDE_COUNTER, TIDE_CONTAINS_DEFAULT, NULL), msg,
        3);

    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "schema", "tide.summary/1");
    cJSON *tool = cJSON_AddObjectToObject(s, "tool");
    cJSON_AddStringToObject(tool, "name", "tide");
    cJSON_AddStringToObject(tool, "version", "0.1.0");
    cJSON_AddStringToObject(tool, "git", "fixture");
    cJSON_AddObjectToObject(s, "run"); /* filled once the verdict is known */
    cJSON_AddItemToObject(s, "options", fx_options());
    tide_summary_add_metrics(s, total, FX_SECONDS);
    bool passed = fx_thresholds(s);
    cJSON_ReplaceItemInObjectCaseSensitive(
        s, "run", fx_run_section(passed ? "passed" : "failed", passed ? 0 : 99));
    cJSON_AddItemToObject(s, "verify", fx_verify());
    cJSON_AddItemToObject(s, "generator", fx_generator());
    cJSON_AddItemToObject(s, "history", hist);
    /* run/run.c's extension_json: no plugin, no hook failure */
    cJSON_AddArrayToObject(s, "plugins");
    cJSON *hooks = cJSON_AddObjectToObject(s, "hooks");
    cJSON_AddArrayToObject(hooks, "failures");
    cJSON_AddBoolToObject(hooks, "required_failed", 0);
    /* run/run.c's add_transports_json: the requests each HTTP client served */
    cJSON *transports = cJSON_AddObjectToObject(s, "transports");
    cJSON_AddNumberToObject(transports, "native", 1200);
    cJSON_AddNumberToObject(transports, "curl", 0);
    tide_registry_free(total);
    return s;
}

/* A new empty folder under $TMPDIR (or /tmp), into 'buf'. */
static inline const char *fx_tmpdir(char *buf, size_t n)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, n, "%s/tide-report-test-XXXXXX", base && base[0] ? base : "/tmp");
    return mkdtemp(buf);
}

/* "dir/name" into 'buf'. */
static inline const char *fx_path(char *buf, size_t n, const char *dir, const char *name)
{
    int len = snprintf(buf, n, "%s/%s", dir, name);
    if (len < 0 || (size_t)len >= n)
        abort(); /* test paths are short */
    return buf;
}

/* The whole file, NUL-terminated, or NULL; the caller frees it. */
static inline char *fx_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        char *bigger = realloc(buf, cap + 1);
        if (bigger == NULL)
            free(buf);
        buf = bigger;
    }
    fclose(f);
    if (buf != NULL)
        buf[n] = '\0';
    return buf;
}

/* Occurrences of 'needle' in 'hay'. */
static inline int fx_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Removes 'dir' and the files in it (the tests make no subfolders). */
static inline void fx_rmdir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "  could not remove %s\n", dir);
}

/* Writes 'j' to 'path' (for the tests' own inputs). */
static inline int fx_save(const cJSON *j, const char *path)
{
    char *text = cJSON_Print(j);
    FILE *f = fopen(path, "w");
    int rc = text != NULL && f != NULL && fputs(text, f) >= 0 ? 0 : -1;
    if (f != NULL && fclose(f) != 0)
        rc = -1;
    cJSON_free(text);
    return rc;
}

#endif
