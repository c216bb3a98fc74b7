/* Unit tests of 'tide compare': a run against itself, slowed runs (histogram values scaled),
 * more errors, less throughput, tolerance parsing, outputs and exit codes. */
#include <sys/stat.h>
#include <unistd.h>
#include "../check.h"
#include "test_report_fixture.h"
#include "report.h"
#include "report_util.h"

/* Multiplies every latency of one histogram by 'k': each bucket's value is re-recorded
 * scaled, as a slower server would have produced it. */
static cJSON *scaled_histogram(const cJSON *h, double k)
{
    struct tide_err err = {{0}};
    struct tide_hdr *out = tide_hdr_new();
    const cJSON *b;
    cJSON_ArrayForEach(b, tide_rj_array(h, "buckets"))
    {
        double v = cJSON_GetArrayItem(b, 0)->valuedouble;
        double n = cJSON_GetArrayItem(b, 1)->valuedouble;
        tide_hdr_record_n(out, (int64_t)(v * k), (uint64_t)n);
    }
    (void)err;
    cJSON *j = tide_hdr_to_json(out);
    tide_hdr_free(out);
    return j;
}

/* Scales the histograms (only: the rounded summary numbers stay, so a detected change proves
 * that compare reads the histograms) of the aggregate, every endpoint and every trend. */
static void scale_histograms(cJSON *s, double k)
{
    cJSON *agg = cJSON_GetObjectItem(s, "aggregated");
    cJSON_ReplaceItemInObject(agg, "histogram",
                              scaled_histogram(cJSON_GetObjectItem(agg, "histogram"), k));
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(s, "endpoints"))
    {
        cJSON_ReplaceItemInObject(e, "histogram",
                                  scaled_histogram(cJSON_GetObjectItem(e, "histogram"), k));
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(s, "metrics"))
    {
        const cJSON *h = cJSON_GetObjectItem(e, "histogram");
        if (h != NULL)
            cJSON_ReplaceItemInObject(e, "histogram", scaled_histogram(h, k));
    }
}

static char dir[512];

/* Saves 's' as dir/name/summary.json and returns that run folder. */
static const char *save_run(const cJSON *s, const char *name)
{
    static char paths[64][600];
    static int n;
    char *run = paths[n++ % 64];
    snprintf(run, sizeof paths[0], "%s/%s", dir, name);
    mkdir(run, 0755);
    char file[640];
    snprintf(file, sizeof file, "%s/summary.json", run);
    CHECK(fx_save(s, file) == 0);
    return run;
}

/* Runs 'tide compare' with up to 6 arguments; NULL ends them. Output goes to dir/out.txt. */
static int compare(const char *a, const char *b, const char *c, const char *d, const char *e,
                   const char *f)
{
    char name[] = "compare";
    char *argv[8] = {name, (char *)a, (char *)b, (char *)c, (char *)d, (char *)e, (char *)f, NULL};
    int argc = 1;
    while (argc < 7 && argv[argc] != NULL)
        argc++;
    char out[600];
    snprintf(out, sizeof out, "%s/out.txt", dir);
    fflush(stdout);
    int saved = dup(1);
    FILE *f1 = freopen(out, "w", stdout);
    int rc = tide_compare_main(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    (void)f1;
    return rc;
}

static char *read_in_dir(const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return fx_slurp(path);
}

static void test_compare_with_itself_is_clean(const char *base)
{
    char json[600];
    snprintf(json, sizeof json, "%s/same.json", dir);
    int rc = compare(base, base, "--max-regression",
                     "p50=0.1%,p95=0.1%,p99=0.1%,error_rate=0pp,rps=-0.1%", "--json", json);
    CHECK(rc == 0);
    char *text = read_in_dir("same.json");
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    CHECK(j != NULL);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "regressions")) == 0);
    /* Aggregated, 6 endpoints, 3 trend metrics */
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "rows")) == 10);
    const cJSON *row0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rows"), 0);
    CHECK_STR(tide_rj_str(row0, "scope", NULL), "Aggregated");
    CHECK(tide_rj_num(tide_rj_object(row0, "change"), "p95_pct", -1) == 0);
    /* p95 recomputed from the histogram equals the summary's */
    CHECK_NEAR(tide_rj_num(tide_rj_object(row0, "new"), "p95", -1), 94.304, 1e-9);
    cJSON_Delete(j);
    free(text);
    char *out = read_in_dir("out.txt");
    CHECK(out && strstr(out, "no regression beyond tolerance") != NULL);
    free(out);

    /* '--json -': standard output is the JSON document alone */
    CHECK(compare(base, base, "--json", "-", NULL, NULL) == 0);
    out = read_in_dir("out.txt");
    j = out ? cJSON_Parse(out) : NULL;
    CHECK(j != NULL && cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    cJSON_Delete(j);
    free(out);
}

static void test_slower_run_is_a_regression(const char *base, const char *slow)
{
    char json[600], md[600];
    snprintf(json, sizeof json, "%s/slow.json", dir);
    snprintf(md, sizeof md, "%s/slow.md", dir);
    int rc = compare(base, slow, "--max-regression=p95=10%,p99=20%", "--json", json, NULL);
    CHECK(rc == 99);
    char *text = read_in_dir("slow.json");
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    const cJSON *regs = cJSON_GetObjectItem(j, "regressions");
    CHECK(cJSON_GetArraySize(regs) == 2 * 7); /* p95 and p99, Aggregated and 6 endpoints */
    const cJSON *r0 = cJSON_GetArrayItem(regs, 0);
    CHECK_STR(tide_rj_str(r0, "scope", NULL), "Aggregated");
    CHECK_STR(tide_rj_str(r0, "measure", NULL), "p95");
    CHECK_NEAR(tide_rj_num(r0, "change", -1), 30.0, 0.5);
    CHECK_STR(tide_rj_str(r0, "unit", NULL), "%");
    CHECK(tide_rj_num(r0, "limit", -1) == 10);
    cJSON_Delete(j);
    free(text);
    char *out = read_in_dir("out.txt");
    CHECK(out && strstr(out, "REGRESSION (limit +10%)") != NULL);
    free(out);

    /* within a looser tolerance: exit 0; absolute ms limits work too */
    CHECK(compare(base, slow, "--max-regression", "p95=35%,p99=35%", NULL, NULL) == 0);
    CHECK(compare(base, slow, "--max-regression", "p95=5ms", NULL, NULL) == 99);
    CHECK(compare(base, slow, "--max-regression", "p95=500ms", NULL, NULL) == 0);
    /* a faster run is no regression */
    CHECK(compare(slow, base, "--max-regression", "p95=1%,p99=1%", NULL, NULL) == 0);

    CHECK(compare(base, slow, "--max-regression", "p95=10%", "--md", md) == 99);
    char *m = read_in_dir("slow.md");
    CHECK(m && strstr(m, "### tide compare: 20261125-153000-crud \xE2\x86\x92 "
                         "20261125-153000-crud") != NULL);
    CHECK(m && strstr(m, "| Scope | Count | p50 | p95 | p99 | error\\_rate | rps |") == NULL);
    CHECK(m && strstr(m, "| Scope | Count | p50 | p95 | p99 | error_rate | rps |") != NULL);
    CHECK(m && strstr(m, "7 regressions beyond tolerance") != NULL);
    CHECK(m && strstr(m, "| GET /api/search?q={term} |") != NULL);
    CHECK(m && fx_count(m, "\xE2\x9D\x8C") == 8);
    free(m);
}

static void test_more_errors_and_less_throughput(cJSON *s, const char *base)
{
    cJSON *errs = cJSON_Duplicate(s, 1);
    cJSON *agg = cJSON_GetObjectItem(errs, "aggregated");
    double reqs = tide_rj_num(agg, "requests", 0);
    cJSON_SetNumberValue(cJSON_GetObjectItem(agg, "failures"),
                         tide_rj_num(agg, "failures", 0) + reqs * 0.01);
    const char *more = save_run(errs, "errors");
    CHECK(compare(base, more, "--max-regression", "error_rate=0.5pp", NULL, NULL) == 99);
    CHECK(compare(base, more, "--max-regression", "error_rate=1.5pp", NULL, NULL) == 0);
    char *out = read_in_dir("out.txt");
    CHECK(out && strstr(out, "+1.0pp") != NULL);
    free(out);
    cJSON_Delete(errs);

    cJSON *fewer = cJSON_Duplicate(s, 1);
    agg = cJSON_GetObjectItem(fewer, "aggregated");
    cJSON_SetNumberValue(cJSON_GetObjectItem(agg, "rps"), tide_rj_num(agg, "rps", 0) * 0.8);
    const char *less = save_run(fewer, "fewer");
    CHECK(compare(base, less, "--max-regression", "rps=-10%", NULL, NULL) == 99);
    CHECK(compare(base, less, "--max-regression", "rps=10%", NULL, NULL) == 99);
    CHECK(compare(base, less, "--max-regression", "rps=-25%", NULL, NULL) == 0);
    CHECK(compare(less, base, "--max-regression", "rps=-10%", NULL, NULL) == 0);
    cJSON_Delete(fewer);
}

static void test_endpoint_only_in_one_run(cJSON *s, const char *base)
{
    cJSON *one = cJSON_Duplicate(s, 1);
    cJSON_DeleteItemFromArray(cJSON_GetObjectItem(one, "endpoints"), 0);
    const char *gone = save_run(one, "gone");
    /* the base measured it, the new run did not: a regression, whatever the tolerances */
    CHECK(compare(base, gone, "--preset", "none", NULL, NULL) == 99);
    char *out = read_in_dir("out.txt");
    CHECK(out && strstr(out, "POST /api/auth/login  (only in the base run)  REGRESSION: no "
                             "requests in the new run") != NULL);
    free(out);
    /* the other way round: a new endpoint is shown, not judged */
    CHECK(compare(gone, base, NULL, NULL, NULL, NULL) == 0);
    out = read_in_dir("out.txt");
    CHECK(out && strstr(out, "POST /api/auth/login  (only in the new run)\n") != NULL);
    free(out);
    /* one hit fewer than --min-requests in the base: not required in the new run */
    CHECK(compare(base, gone, "--min-requests", "1000000", NULL, NULL) == 0);
    cJSON_Delete(one);

    /* a trend metric the base has and the new run lacks */
    cJSON *nometric = cJSON_Duplicate(s, 1);
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(nometric, "metrics"), "iteration_duration");
    CHECK(compare(base, save_run(nometric, "nometric"), NULL, NULL, NULL, NULL) == 99);
    out = read_in_dir("out.txt");
    CHECK(out && strstr(out, "iteration_duration no samples in the new run") != NULL);
    free(out);
    cJSON_Delete(nometric);
}

static void test_bad_usage_exits_2(const char *base)
{
    CHECK(compare(base, NULL, NULL, NULL, NULL, NULL) == 2);
    CHECK(compare(base, base, base, NULL, NULL, NULL) == 2);
    CHECK(compare(base, base, "--frobnicate", NULL, NULL, NULL) == 2);
    CHECK(compare(base, base, "--max-regression", NULL, NULL, NULL) == 2);
    CHECK(compare(base, base, "--max-regression", "p95=10", NULL, NULL) == 2);
    CHECK(compare(base, base, "--max-regression", "latency=10%", NULL, NULL) == 2);
    CHECK(compare(base, base, "--max-regression", "error_rate=5ms", NULL, NULL) == 2);
    CHECK(compare(base, base, "--max-regression", "rps=3pp", NULL, NULL) == 2);
    CHECK(compare(base, base, "--max-regression", "p101=1%", NULL, NULL) == 2);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no-such-run", dir);
    CHECK(compare(base, missing, NULL, NULL, NULL, NULL) == 2);
    CHECK(compare("--help", NULL, NULL, NULL, NULL, NULL) == 0);
}

static void test_corrupt_histogram_is_reported(cJSON *s, const char *base)
{
    cJSON *bad = cJSON_Duplicate(s, 1);
    cJSON *h = cJSON_GetObjectItem(cJSON_GetObjectItem(bad, "aggregated"), "histogram");
    cJSON_ReplaceItemInObject(h, "buckets", cJSON_CreateString("oops"));
    const char *run = save_run(bad, "corrupt");
    CHECK(compare(base, run, NULL, NULL, NULL, NULL) == 2);
    cJSON_Delete(bad);
}

/* Without flags the default preset judges: +30 % on p95 of a ~94 ms endpoint fails, +5 %
 * passes; strict and lenient move the line; none judges nothing. */
static void test_presets(cJSON *s, const char *base, const char *slow)
{
    CHECK(compare(base, slow, NULL, NULL, NULL, NULL) == 99);
    char *out = read_in_dir("out.txt");
    CHECK(out && strstr(out, "REGRESSION (limit +25% and +10 ms)") != NULL);
    free(out);
    CHECK(compare(base, slow, "--preset", "strict", NULL, NULL) == 99);
    CHECK(compare(base, slow, "--preset", "lenient", NULL, NULL) == 0);
    CHECK(compare(base, slow, "--preset", "none", NULL, NULL) == 0);
    CHECK(compare(base, slow, "--preset=default", NULL, NULL, NULL) == 99);
    /* an explicit tolerance replaces the preset's for that key only */
    CHECK(compare(base, slow, "--max-regression", "p95=35%", NULL, NULL) == 0);
    CHECK(compare(base, slow, "--preset", "strict", "--max-regression", "p95=35%") == 99);
    CHECK(compare(base, slow, "--preset", "bogus", NULL, NULL) == 2);

    cJSON *near = cJSON_Duplicate(s, 1);
    scale_histograms(near, 1.05);
    const char *within = save_run(near, "within");
    CHECK(compare(base, within, NULL, NULL, NULL, NULL) == 0);
    out = read_in_dir("out.txt");
    CHECK(out && strstr(out, "no regression beyond tolerance (preset default)") != NULL);
    free(out);
    cJSON_Delete(near);

    /* the absolute floor: a 0.9 ms p95 growing by half is +50 % but well under +10 ms */
    cJSON *fast = cJSON_Duplicate(s, 1);
    scale_histograms(fast, 0.01);
    const char *tiny = save_run(fast, "tiny");
    scale_histograms(fast, 1.5);
    const char *tiny_slow = save_run(fast, "tiny-slow");
    CHECK(compare(tiny, tiny_slow, NULL, NULL, NULL, NULL) == 0);
    CHECK(compare(tiny, tiny_slow, "--preset", "strict", NULL, NULL) == 0);
    CHECK(compare(tiny, tiny_slow, "--max-regression", "p95=25%", NULL, NULL) == 99);
    CHECK(compare(tiny, tiny_slow, "--max-regression", "p95=25%+0.1ms", NULL, NULL) == 99);
    CHECK(compare(tiny, tiny_slow, "--max-regression", "p95=25%+10ms", NULL, NULL) == 0);
    CHECK(compare(tiny, tiny_slow, "--max-regression", "p95=25%+10pp", NULL, NULL) == 2);
    CHECK(compare(tiny, tiny_slow, "--max-regression", "rps=5%+10ms", NULL, NULL) == 2);
    cJSON_Delete(fast);

    /* default error rate: +1 point */
    cJSON *errs = cJSON_Duplicate(s, 1);
    cJSON *agg = cJSON_GetObjectItem(errs, "aggregated");
    double reqs = tide_rj_num(agg, "requests", 0);
    cJSON_SetNumberValue(cJSON_GetObjectItem(agg, "failures"),
                         tide_rj_num(agg, "failures", 0) + reqs * 0.02);
    CHECK(compare(base, save_run(errs, "errors2"), NULL, NULL, NULL, NULL) == 99);
    cJSON_SetNumberValue(cJSON_GetObjectItem(agg, "failures"),
                         tide_rj_num(agg, "failures", 0) - reqs * 0.015);
    CHECK(compare(base, save_run(errs, "errors05"), NULL, NULL, NULL, NULL) == 0);
    cJSON_Delete(errs);

    /* default throughput: -20 % */
    cJSON *fewer = cJSON_Duplicate(s, 1);
    agg = cJSON_GetObjectItem(fewer, "aggregated");
    double rps = tide_rj_num(agg, "rps", 0);
    cJSON_SetNumberValue(cJSON_GetObjectItem(agg, "rps"), rps * 0.7);
    CHECK(compare(base, save_run(fewer, "rps70"), NULL, NULL, NULL, NULL) == 99);
    cJSON_SetNumberValue(cJSON_GetObjectItem(agg, "rps"), rps * 0.9);
    CHECK(compare(base, save_run(fewer, "rps90"), NULL, NULL, NULL, NULL) == 0);
    cJSON_Delete(fewer);
}

/* Sets every check's passes and fails so the run's checks pass at 'rate'. */
static void set_checks(cJSON *s, double rate)
{
    cJSON *k;
    cJSON_ArrayForEach(k, cJSON_GetObjectItem(s, "checks"))
    {
        cJSON_SetNumberValue(cJSON_GetObjectItem(k, "passes"), 1000 * rate);
        cJSON_SetNumberValue(cJSON_GetObjectItem(k, "fails"), 1000 * (1 - rate));
    }
}

/* Checks: -1 point of pass rate by default; a new run without checks fails. */
static void test_checks_rate(cJSON *s)
{
    cJSON *a = cJSON_Duplicate(s, 1);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(a, "checks")) > 0);
    set_checks(a, 0.99);
    const char *base = save_run(a, "checks99");
    set_checks(a, 0.97);
    CHECK(compare(base, save_run(a, "checks97"), NULL, NULL, NULL, NULL) == 99);
    char *out = read_in_dir("out.txt");
    CHECK(out && strstr(out, "Aggregated checks -2.0pp (limit -1pp)") != NULL);
    free(out);
    set_checks(a, 0.985);
    CHECK(compare(base, save_run(a, "checks985"), NULL, NULL, NULL, NULL) == 0);
    CHECK(compare(base, save_run(a, "checks985"), "--max-regression", "checks=0.2pp", NULL, NULL) ==
          99);
    cJSON_DeleteItemFromObject(a, "checks");
    cJSON_AddArrayToObject(a, "checks");
    CHECK(compare(base, save_run(a, "nochecks"), "--preset", "none", NULL, NULL) == 99);
    out = read_in_dir("out.txt");
    CHECK(out && strstr(out, "Aggregated no checks in the new run") != NULL);
    free(out);
    cJSON_Delete(a);
}

/* A new run that sent no request at all fails, with and without tolerances. */
static void test_zero_request_run_fails(cJSON *s, const char *base)
{
    cJSON *none = cJSON_Duplicate(s, 1);
    cJSON_ReplaceItemInObject(none, "endpoints", cJSON_CreateArray());
    cJSON *agg = cJSON_GetObjectItem(none, "aggregated");
    cJSON_SetNumberValue(cJSON_GetObjectItem(agg, "requests"), 0);
    cJSON_SetNumberValue(cJSON_GetObjectItem(agg, "failures"), 0);
    cJSON_SetNumberValue(cJSON_GetObjectItem(agg, "rps"), 0);
    cJSON_DeleteItemFromObject(agg, "histogram");
    const char *empty = save_run(none, "empty");
    CHECK(compare(base, empty, NULL, NULL, NULL, NULL) == 99);
    char *out = read_in_dir("out.txt");
    CHECK(out && strstr(out, "Aggregated no requests in the new run") != NULL);
    free(out);
    CHECK(compare(base, empty, "--preset", "none", NULL, NULL) == 99);
    /* and without an "aggregated" object at all */
    cJSON_DeleteItemFromObject(none, "aggregated");
    CHECK(compare(base, save_run(none, "noagg"), "--preset", "none", NULL, NULL) == 99);
    cJSON_Delete(none);
}

/* Index of the first line of 'text' that contains 'needle', or -1. */
static int line_of(const char *text, const char *needle)
{
    const char *at = text ? strstr(text, needle) : NULL;
    if (at == NULL)
        return -1;
    int n = 0;
    for (const char *p = text; p < at; p++)
        n += *p == '\n';
    return n;
}

/* Another script, other options, another tide and another host: four warnings after the
 * table and before the verdict, in the listing, the Markdown and the JSON. */
static void test_warnings(cJSON *s, const char *base)
{
    cJSON *other = cJSON_Duplicate(s, 1);
    cJSON *run = cJSON_GetObjectItem(other, "run");
    cJSON_ReplaceItemInObject(run, "scenario_sha256", cJSON_CreateString("00aa11bb22cc33dd"));
    cJSON_ReplaceItemInObject(run, "host", cJSON_CreateString("http://127.0.0.1:6000"));
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(other, "tool"), "version",
                              cJSON_CreateString("0.2.0"));
    cJSON *opts = cJSON_GetObjectItem(other, "options");
    cJSON_ReplaceItemInObject(opts, "threads", cJSON_CreateNumber(4));
    cJSON_ReplaceItemInObject(opts, "host", cJSON_CreateString("http://127.0.0.1:6000"));
    const char *changed = save_run(other, "changed");
    char md[600], json[600];
    snprintf(md, sizeof md, "%s/warn.md", dir);
    snprintf(json, sizeof json, "%s/warn.json", dir);
    CHECK(compare(base, changed, "--md", md, "--json", json) == 0);
    char *out = read_in_dir("out.txt");
    int script = line_of(out, "warning: the runs used different scripts (scenarios/crud.lua "
                              "sha256 9f2c1e4b7a3d...");
    int options = line_of(out, "warning: the runs used different options: threads 2 -> 4\n");
    int version = line_of(out, "warning: the runs used different tide versions (0.1.0 -> 0.2.0)");
    int host = line_of(out, "warning: the runs targeted different hosts (http://127.0.0.1:5000 "
                            "-> http://127.0.0.1:6000)");
    int table = line_of(out, "iteration_duration  (");
    int verdict = line_of(out, "tide: compare: no regression beyond tolerance");
    CHECK(script > table && options > script && version > options && host > version);
    CHECK(verdict > host && out && out[strlen(out) - 1] == '\n' &&
          strchr(strstr(out, "tide: compare: no regression"), '\n')[1] == '\0');
    free(out);
    char *m = read_in_dir("warn.md");
    CHECK(m && strstr(m, "**Warnings**") != NULL);
    CHECK(m && fx_count(m, "\xE2\x9A\xA0") == 4);
    CHECK(m && strstr(m, "different tide versions \\(0.1.0 -&gt; 0.2.0\\)") != NULL);
    CHECK(m && strstr(m, "http\\://127.0.0.1\\:6000") != NULL && strstr(m, "http://") == NULL);
    free(m);
    char *text = read_in_dir("warn.json");
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "warnings")) == 4);
    CHECK_STR(tide_rj_str(j, "preset", NULL), "default");
    cJSON_Delete(j);
    free(text);
    /* the same run twice: no warning */
    CHECK(compare(base, base, NULL, NULL, NULL, NULL) == 0);
    out = read_in_dir("out.txt");
    CHECK(out && strstr(out, "warning:") == NULL);
    free(out);
    cJSON_Delete(other);
}

/* '--format markdown': standard output is the comment alone, verdict and all; '--format
 * json' the JSON document; '--markdown FILE' is '--md FILE'. */
static void test_formats(const char *base, const char *slow)
{
    CHECK(compare(base, slow, "--format", "markdown", NULL, NULL) == 99);
    char *out = read_in_dir("out.txt");
    CHECK(out && strncmp(out, "### tide compare: ", 18) == 0);
    CHECK(out && strstr(out, "**\xE2\x9D\x8C Failed: ") != NULL);
    CHECK(out && strstr(out, "Tolerances (preset default): p95 +25% and +10 ms, p99 +40% and "
                             "+20 ms, error_rate +1pp, rps -20%, checks -1pp.") != NULL);
    CHECK(out && strstr(out, "REGRESSION") == NULL && strstr(out, "tide: compare:") == NULL);
    CHECK(out && strstr(out, "](") == NULL && strstr(out, "http://") == NULL); /* links-free */
    free(out);
    CHECK(compare(base, base, "--format=json", NULL, NULL, NULL) == 0);
    out = read_in_dir("out.txt");
    cJSON *j = out ? cJSON_Parse(out) : NULL;
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    cJSON_Delete(j);
    free(out);
    char md[600];
    snprintf(md, sizeof md, "%s/alias.md", dir);
    CHECK(compare(base, base, "--markdown", md, NULL, NULL) == 0);
    out = read_in_dir("alias.md");
    CHECK(out && strstr(out, "\xE2\x9C\x85 Passed: no regression beyond tolerance.") != NULL);
    free(out);
    CHECK(compare(base, base, "--format", "html", NULL, NULL) == 2);
}

int main(void)
{
    if (fx_tmpdir(dir, sizeof dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    cJSON *s = fixture_summary(1.0);
    const char *base = save_run(s, "base");
    cJSON *slow = cJSON_Duplicate(s, 1);
    scale_histograms(slow, 1.3);
    const char *slower = save_run(slow, "slow");
    cJSON_Delete(slow);

    test_compare_with_itself_is_clean(base);
    test_slower_run_is_a_regression(base, slower);
    test_more_errors_and_less_throughput(s, base);
    test_endpoint_only_in_one_run(s, base);
    test_bad_usage_exits_2(base);
    test_corrupt_histogram_is_reported(s, base);
    test_presets(s, base, slower);
    test_checks_rate(s);
    test_zero_request_run_fails(s, base);
    test_warnings(s, base);
    test_formats(base, slower);
    cJSON_Delete(s);
    fx_rmdir(dir);
    return CHECK_DONE();
}
