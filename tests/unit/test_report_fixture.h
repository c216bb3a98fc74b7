/* test_report_fixture.h: builds a realistic summary.json (schema tide.summary/1) for the report
 * tests: a 60-second CRUD run of 6 endpoints ramping to 20 VUs, latencies drawn from a seeded
 * generator and recorded in real tide_hdr histograms, so every percentile, histogram and
 * history row is consistent with the others. Pure arithmetic (no libm), so the output is the
 * same bytes on every machine; tests/fixtures/summary.json is its output (test_report_fixture
 * checks that and rewrites it with --write). */
#ifndef TIDE_TEST_REPORT_FIXTURE_H
#define TIDE_TEST_REPORT_FIXTURE_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "hdr.h"

#define FX_SECONDS 60
#define FX_NEP     6

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
    const char *error;
    double size; /* response bytes */
};

static const struct fx_ep fx_eps[FX_NEP] = {
    {"POST", "/api/auth/login", 42, 0.08, 0.0, NULL, 312},
    {"GET", "/api/projects", 18, 0.34, 0.002,
     "HTTP 503: <html><body>Service Unavailable</body></html>", 2048},
    {"GET", "/api/projects/{id}", 9, 0.25, 0.004, "connection reset by peer", 512},
    {"POST", "/api/projects", 25, 0.10, 0.01,
     "HTTP 409: {\"error\": \"project \\\"alpha, beta\\\" exists\"}", 256},
    {"DELETE", "/api/projects/{id}", 14, 0.07, 0.0, NULL, 0},
    {"GET", "/api/search?q={term}", 85, 0.16, 0.02, "HTTP 500: <script>alert(1)</script>", 4096},
};

static const char *const fx_pct_keys[] = {"50", "66", "75",   "80",    "90", "95",
                                          "98", "99", "99.9", "99.99", "100"};
static const double fx_pcts[] = {50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100};

/* Milliseconds with microsecond resolution (what the engine writes). */
static inline double fx_ms(double us)
{
    return (double)(int64_t)(us + (us >= 0 ? 0.5 : -0.5)) / 1000.0;
}

static inline double fx_round3(double v)
{
    return (double)(int64_t)(v * 1000.0 + 0.5) / 1000.0;
}

static inline cJSON *fx_percentiles(const struct tide_hdr *h)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof fx_pcts / sizeof fx_pcts[0]; i++)
        cJSON_AddNumberToObject(o, fx_pct_keys[i],
                                fx_ms((double)tide_hdr_percentile(h, fx_pcts[i])));
    return o;
}

/* An endpoint row (or "aggregated") from its histogram and counters. */
static inline cJSON *fx_endpoint(const char *method, const char *name, const struct tide_hdr *h,
                                 double fails, double bytes, double secs)
{
    double n = (double)tide_hdr_count(h);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "method", method);
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddNumberToObject(e, "requests", n);
    cJSON_AddNumberToObject(e, "failures", fails);
    cJSON_AddNumberToObject(e, "med", fx_ms((double)tide_hdr_percentile(h, 50)));
    cJSON_AddNumberToObject(e, "avg", fx_round3(tide_hdr_mean(h) / 1000.0));
    cJSON_AddNumberToObject(e, "min", fx_ms((double)tide_hdr_min(h)));
    cJSON_AddNumberToObject(e, "max", fx_ms((double)tide_hdr_max(h)));
    cJSON_AddNumberToObject(e, "avg_content_size", n > 0 ? fx_round3(bytes / n) : 0);
    cJSON_AddNumberToObject(e, "rps", fx_round3(n / secs));
    cJSON_AddNumberToObject(e, "fps", fx_round3(fails / secs));
    cJSON_AddItemToObject(e, "percentiles", fx_percentiles(h));
    cJSON_AddItemToObject(e, "histogram", tide_hdr_to_json(h));
    return e;
}

static inline cJSON *fx_trend(const struct tide_hdr *h)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "type", "trend");
    cJSON_AddStringToObject(m, "contains", "time");
    cJSON_AddNumberToObject(m, "count", (double)tide_hdr_count(h));
    cJSON_AddNumberToObject(m, "avg", fx_round3(tide_hdr_mean(h) / 1000.0));
    cJSON_AddNumberToObject(m, "min", fx_ms((double)tide_hdr_min(h)));
    cJSON_AddNumberToObject(m, "med", fx_ms((double)tide_hdr_percentile(h, 50)));
    cJSON_AddNumberToObject(m, "max", fx_ms((double)tide_hdr_max(h)));
    cJSON_AddNumberToObject(m, "p90", fx_ms((double)tide_hdr_percentile(h, 90)));
    cJSON_AddNumberToObject(m, "p95", fx_ms((double)tide_hdr_percentile(h, 95)));
    cJSON_AddNumberToObject(m, "p99", fx_ms((double)tide_hdr_percentile(h, 99)));
    cJSON_AddNumberToObject(m, "p99.9", fx_ms((double)tide_hdr_percentile(h, 99.9)));
    cJSON_AddItemToObject(m, "histogram", tide_hdr_to_json(h));
    return m;
}

static inline cJSON *fx_counter(const char *contains, double count, double secs)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "type", "counter");
    cJSON_AddStringToObject(m, "contains", contains);
    cJSON_AddNumberToObject(m, "count", count);
    cJSON_AddNumberToObject(m, "rate", fx_round3(count / secs));
    return m;
}

static inline cJSON *fx_rate(double trues, double falses)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "type", "rate");
    cJSON_AddStringToObject(m, "contains", "default");
    cJSON_AddNumberToObject(m, "rate", trues + falses > 0 ? trues / (trues + falses) : 0);
    cJSON_AddNumberToObject(m, "passes", trues);
    cJSON_AddNumberToObject(m, "fails", falses);
    return m;
}

static inline cJSON *fx_gauge(double value, double min, double max)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "type", "gauge");
    cJSON_AddStringToObject(m, "contains", "default");
    cJSON_AddNumberToObject(m, "value", value);
    cJSON_AddNumberToObject(m, "min", min);
    cJSON_AddNumberToObject(m, "max", max);
    return m;
}

static inline void fx_check(cJSON *arr, const char *name, const char *group, double passes,
                            double fails)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", name);
    cJSON_AddStringToObject(c, "group", group);
    cJSON_AddNumberToObject(c, "passes", passes);
    cJSON_AddNumberToObject(c, "fails", fails);
    cJSON_AddItemToArray(arr, c);
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

/* What the run accumulates. */
struct fx_run {
    struct tide_hdr *all, *waiting, *iter, *ep[FX_NEP];
    double ep_fails[FX_NEP], ep_bytes[FX_NEP], fails, bytes, sent;
};

/* One second of load: 'vus' users at about 4 requests/s each. */
static inline cJSON *fx_second(struct fx_run *run, struct fx_rng *r, int t, int vus, double slow)
{
    struct tide_hdr *sec = tide_hdr_new(), *sec_ep[FX_NEP];
    double sec_fails = 0, sec_ep_fails[FX_NEP] = {0}, bytes0 = run->bytes, sent0 = run->sent;
    for (int e = 0; e < FX_NEP; e++)
        sec_ep[e] = tide_hdr_new();
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
        tide_hdr_record(sec, us);
        tide_hdr_record(sec_ep[e], us);
        tide_hdr_record(run->all, us);
        tide_hdr_record(run->ep[e], us);
        tide_hdr_record(run->waiting, us * 17 / 20);
        run->ep_fails[e] += failed;
        sec_ep_fails[e] += failed;
        sec_fails += failed;
        run->fails += failed;
        run->ep_bytes[e] += failed ? 0 : fx_eps[e].size;
        run->bytes += failed ? 120 : fx_eps[e].size + 180;
        run->sent += 220;
    }
    for (int i = 0; i < n / 5; i++)
        tide_hdr_record(run->iter, 1000000 + fx_latency(r, 220, slow));

    char stamp[40];
    snprintf(stamp, sizeof stamp, "2026-11-25T15:30:%02d.000Z", t + 1);
    if (t + 1 >= 60)
        snprintf(stamp, sizeof stamp, "2026-11-25T15:31:%02d.000Z", t + 1 - 60);
    cJSON *row = cJSON_CreateObject();
    cJSON_AddStringToObject(row, "time", stamp);
    cJSON_AddNumberToObject(row, "elapsed_s", t + 1);
    cJSON_AddNumberToObject(row, "vus", vus);
    cJSON_AddNumberToObject(row, "reqs", n);
    cJSON_AddNumberToObject(row, "fails", sec_fails);
    cJSON_AddNumberToObject(row, "rps", n);
    cJSON_AddNumberToObject(row, "fps", sec_fails);
    cJSON_AddNumberToObject(row, "iterations", n / 5);
    cJSON_AddNumberToObject(row, "bytes_received", run->bytes - bytes0);
    cJSON_AddNumberToObject(row, "bytes_sent", run->sent - sent0);
    cJSON_AddItemToObject(row, "percentiles", fx_percentiles(sec));
    cJSON *tot = cJSON_AddObjectToObject(row, "total");
    double all = (double)tide_hdr_count(run->all);
    cJSON_AddNumberToObject(tot, "reqs", all);
    cJSON_AddNumberToObject(tot, "fails", run->fails);
    cJSON_AddNumberToObject(tot, "med", fx_ms((double)tide_hdr_percentile(run->all, 50)));
    cJSON_AddNumberToObject(tot, "avg", fx_round3(tide_hdr_mean(run->all) / 1000.0));
    cJSON_AddNumberToObject(tot, "min", fx_ms((double)tide_hdr_min(run->all)));
    cJSON_AddNumberToObject(tot, "max", fx_ms((double)tide_hdr_max(run->all)));
    double body = 0;
    for (int e = 0; e < FX_NEP; e++)
        body += run->ep_bytes[e];
    cJSON_AddNumberToObject(tot, "avg_content_size", fx_round3(body / all));
    cJSON *eps = cJSON_AddObjectToObject(row, "endpoints");
    for (int e = 0; e < FX_NEP; e++) {
        if (tide_hdr_count(sec_ep[e]) == 0)
            continue;
        char key[80];
        snprintf(key, sizeof key, "%s %s", fx_eps[e].method, fx_eps[e].name);
        cJSON *o = cJSON_AddObjectToObject(eps, key);
        cJSON_AddNumberToObject(o, "reqs", (double)tide_hdr_count(sec_ep[e]));
        cJSON_AddNumberToObject(o, "fails", sec_ep_fails[e]);
        cJSON_AddNumberToObject(o, "p50", fx_ms((double)tide_hdr_percentile(sec_ep[e], 50)));
        cJSON_AddNumberToObject(o, "p95", fx_ms((double)tide_hdr_percentile(sec_ep[e], 95)));
        cJSON_AddNumberToObject(o, "p99", fx_ms((double)tide_hdr_percentile(sec_ep[e], 99)));
    }
    for (int e = 0; e < FX_NEP; e++)
        tide_hdr_free(sec_ep[e]);
    tide_hdr_free(sec);
    return row;
}

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
    return run;
}

static inline void fx_errors(cJSON *s, const struct fx_run *run)
{
    cJSON *errs = cJSON_AddArrayToObject(s, "errors");
    for (int e = 0; e < FX_NEP; e++) {
        if (run->ep_fails[e] == 0)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "method", fx_eps[e].method);
        cJSON_AddStringToObject(o, "name", fx_eps[e].name);
        cJSON_AddStringToObject(o, "error", fx_eps[e].error);
        cJSON_AddNumberToObject(o, "occurrences", run->ep_fails[e]);
        cJSON_AddItemToArray(errs, o);
    }
    cJSON *se = cJSON_AddArrayToObject(s, "script_errors");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "message",
                            "scenarios/crud.lua:41: attempt to index a nil value (field 'items')");
    cJSON_AddNumberToObject(o, "count", 3);
    cJSON_AddItemToArray(se, o);
}

static inline void fx_metrics(cJSON *s, const struct fx_run *run, double iterations)
{
    double reqs = (double)tide_hdr_count(run->all);
    cJSON *m = cJSON_AddObjectToObject(s, "metrics");
    cJSON_AddItemToObject(m, "http_req_duration", fx_trend(run->all));
    cJSON_AddItemToObject(m, "http_req_waiting", fx_trend(run->waiting));
    cJSON_AddItemToObject(m, "iteration_duration", fx_trend(run->iter));
    cJSON_AddItemToObject(m, "http_reqs", fx_counter("default", reqs, FX_SECONDS));
    cJSON_AddItemToObject(m, "http_req_failed", fx_rate(run->fails, reqs - run->fails));
    cJSON_AddItemToObject(m, "iterations", fx_counter("default", iterations, FX_SECONDS));
    cJSON_AddItemToObject(m, "data_received", fx_counter("data", run->bytes, FX_SECONDS));
    cJSON_AddItemToObject(m, "data_sent", fx_counter("data", run->sent, FX_SECONDS));
    cJSON_AddItemToObject(m, "vus", fx_gauge(20, 0, 20));
    cJSON_AddItemToObject(m, "vus_max", fx_gauge(20, 20, 20));
    cJSON_AddItemToObject(m, "checks", fx_rate(reqs - run->fails, run->fails));
}

static inline void fx_checks_and_thresholds(cJSON *s, const struct fx_run *run)
{
    double reqs = (double)tide_hdr_count(run->all);
    cJSON *checks = cJSON_AddArrayToObject(s, "checks");
    double login = (double)tide_hdr_count(run->ep[0]);
    fx_check(checks, "login is 200", "::login", login - run->ep_fails[0], run->ep_fails[0]);
    fx_check(checks, "list is 200", "", (double)tide_hdr_count(run->ep[1]) - run->ep_fails[1],
             run->ep_fails[1]);
    fx_check(checks, "search returns items", "::search",
             (double)tide_hdr_count(run->ep[5]) - run->ep_fails[5], run->ep_fails[5]);
    fx_check(checks, "body has <b>no</b> \"error\" & is JSON", "::projects",
             (double)tide_hdr_count(run->ep[3]), 0);

    cJSON *th = cJSON_AddArrayToObject(s, "thresholds");
    double p95 = fx_ms((double)tide_hdr_percentile(run->all, 95));
    double p99 = fx_ms((double)tide_hdr_percentile(run->all, 99));
    double login95 = fx_ms((double)tide_hdr_percentile(run->ep[0], 95));
    fx_threshold(th, "http_req_duration", "p(95)<300", p95 < 300, p95);
    fx_threshold(th, "http_req_duration", "p(99)<120", p99 < 120, p99);
    fx_threshold(th, "http_req_duration{name:/api/auth/login}", "p(95)<500", login95 < 500,
                 login95);
    fx_threshold(th, "http_req_failed", "rate<0.01", run->fails / reqs < 0.01, run->fails / reqs);

    cJSON *v = cJSON_AddObjectToObject(s, "verify");
    cJSON_AddBoolToObject(v, "ran", true);
    cJSON_AddBoolToObject(v, "ok", true);
    cJSON_AddNullToObject(v, "error");
    cJSON *vc = cJSON_AddArrayToObject(v, "checks");
    fx_check(vc, "every created project is listed", "::verify", 1, 0);
    fx_check(vc, "tenants see only their own projects", "::verify", 1, 0);
}

/* The whole summary; 'slow' multiplies every latency (1: the reference run). */
static inline cJSON *fixture_summary(double slow)
{
    struct fx_rng r = {0x7469646572756e31ULL}; /* "tiderun1" */
    struct fx_run run = {0};
    run.all = tide_hdr_new();
    run.waiting = tide_hdr_new();
    run.iter = tide_hdr_new();
    for (int e = 0; e < FX_NEP; e++)
        run.ep[e] = tide_hdr_new();

    cJSON *hist = cJSON_CreateArray();
    double iterations = 0;
    for (int t = 0; t < FX_SECONDS; t++) {
        int vus = t < 10 ? 2 * (t + 1) : 20;
        cJSON *row = fx_second(&run, &r, t, vus, slow);
        iterations += cJSON_GetObjectItem(row, "iterations")->valuedouble;
        cJSON_AddItemToArray(hist, row);
    }

    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "schema", "tide.summary/1");
    cJSON *tool = cJSON_AddObjectToObject(s, "tool");
    cJSON_AddStringToObject(tool, "name", "tide");
    cJSON_AddStringToObject(tool, "version", "0.1.0");
    cJSON_AddStringToObject(tool, "git", "fixture");

    double reqs = (double)tide_hdr_count(run.all);
    double p99 = fx_ms((double)tide_hdr_percentile(run.all, 99));
    bool failed = p99 >= 120 || run.fails / reqs >= 0.01;
    cJSON_AddItemToObject(s, "run", fx_run_section(failed ? "failed" : "passed", failed ? 99 : 0));
    cJSON *opt = cJSON_AddObjectToObject(s, "options");
    cJSON_AddNumberToObject(opt, "vus", 20);
    cJSON_AddStringToObject(opt, "duration", "1m");
    fx_metrics(s, &run, iterations);
    cJSON_AddArrayToObject(s, "series");

    cJSON *eps = cJSON_AddArrayToObject(s, "endpoints");
    double body = 0;
    for (int e = 0; e < FX_NEP; e++) {
        cJSON_AddItemToArray(eps, fx_endpoint(fx_eps[e].method, fx_eps[e].name, run.ep[e],
                                              run.ep_fails[e], run.ep_bytes[e], FX_SECONDS));
        body += run.ep_bytes[e];
    }
    cJSON_AddItemToObject(s, "aggregated",
                          fx_endpoint("", "Aggregated", run.all, run.fails, body, FX_SECONDS));
    fx_checks_and_thresholds(s, &run);
    fx_errors(s, &run);
    cJSON_AddItemToObject(s, "history", hist);
    cJSON *g = cJSON_AddObjectToObject(s, "generator");
    cJSON_AddNumberToObject(g, "threads", 2);
    cJSON_AddNumberToObject(g, "loop_lag_p99_ms", 0.42);
    cJSON_AddNumberToObject(g, "cpu_max_percent", 38.5);
    cJSON_AddNumberToObject(g, "max_open_fds", 64);
    cJSON_AddNumberToObject(g, "peak_rss_kb", 20480);

    tide_hdr_free(run.all);
    tide_hdr_free(run.waiting);
    tide_hdr_free(run.iter);
    for (int e = 0; e < FX_NEP; e++)
        tide_hdr_free(run.ep[e]);
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
