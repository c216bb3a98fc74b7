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
    static char paths[8][600];
    static int n;
    char *run = paths[n++ % 8];
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
    CHECK(compare(base, gone, "--max-regression", "p95=1%", NULL, NULL) == 0);
    char *out = read_in_dir("out.txt");
    CHECK(out && strstr(out, "POST /api/auth/login  (only in the base run)") != NULL);
    free(out);
    cJSON_Delete(one);
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
    cJSON_Delete(s);
    fx_rmdir(dir);
    return CHECK_DONE();
}
