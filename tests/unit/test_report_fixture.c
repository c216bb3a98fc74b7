/* tests/fixtures/summary.json is test_report_fixture.h's output (the engine's summary writer fed
 * with seeded samples), and a consistent summary: totals match their parts, percentiles match
 * the histograms. Run with --write to rewrite it. That its shape is the real binary's is checked
 * by tests/e2e/test_summary_shape.py. */
#include "../check.h"
#include "test_report_fixture.h"
#include "fsutil.h"
#include "report_util.h"

#define FIXTURE TIDE_SOURCE_DIR "/tests/fixtures/summary.json"

static double num_at(const cJSON *o, const char *key)
{
    return tide_rj_num(o, key, -1);
}

static void test_fixture_is_consistent(const cJSON *s)
{
    const cJSON *agg = tide_rj_object(s, "aggregated");
    double reqs = 0, fails = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, tide_rj_array(s, "endpoints"))
    {
        reqs += num_at(e, "requests");
        fails += num_at(e, "failures");
        struct tide_err err = {{0}};
        struct tide_hdr *h = tide_hdr_from_json(tide_rj_object(e, "histogram"), &err);
        CHECK(h != NULL);
        if (h == NULL)
            continue;
        CHECK_NEAR(num_at(tide_rj_object(e, "percentiles"), "95"),
                   (double)tide_hdr_percentile(h, 95) / 1000.0, 1e-9);
        CHECK((double)tide_hdr_count(h) == num_at(e, "requests"));
        tide_hdr_free(h);
    }
    CHECK(reqs == num_at(agg, "requests"));
    CHECK(fails == num_at(agg, "failures"));
    CHECK(fails > 0);
    CHECK(cJSON_GetArraySize(tide_rj_array(s, "history")) == FX_SECONDS);
    const cJSON *last = cJSON_GetArrayItem(tide_rj_array(s, "history"), FX_SECONDS - 1);
    CHECK(num_at(tide_rj_object(last, "total"), "reqs") == reqs);
    double sum = 0;
    cJSON_ArrayForEach(e, tide_rj_array(s, "history"))
    {
        sum += num_at(e, "reqs");
    }
    CHECK(sum == reqs);
    CHECK(tide_report_check_schema(s, NULL) == 0);
}

static void test_fixture_file_matches_generator(const char *text)
{
    size_t len = 0;
    struct tide_err err = {{0}};
    char *file = tide_fs_read_all(FIXTURE, &len, &err);
    CHECK(file != NULL);
    if (file == NULL) {
        fprintf(stderr, "  %s (run 'test_report_fixture --write')\n", err.msg);
        return;
    }
    CHECK(strcmp(file, text) == 0);
    if (strcmp(file, text) != 0)
        fprintf(stderr, "  %s is stale: run 'test_report_fixture --write'\n", FIXTURE);
    free(file);
}

int main(int argc, char **argv)
{
    cJSON *s = fixture_summary(1.0);
    char *text = cJSON_Print(s);
    if (argc > 1 && strcmp(argv[1], "--write") == 0) {
        struct tide_err err = {{0}};
        size_t n = strlen(text);
        text[n] = '\n';
        int rc = tide_fs_write_atomic(FIXTURE, text, n + 1, &err);
        if (rc != 0)
            fprintf(stderr, "%s\n", err.msg);
        cJSON_free(text);
        cJSON_Delete(s);
        return rc == 0 ? 0 : 1;
    }
    test_fixture_is_consistent(s);
    size_t n = strlen(text);
    char *line = malloc(n + 2);
    memcpy(line, text, n);
    memcpy(line + n, "\n", 2);
    test_fixture_file_matches_generator(line);
    free(line);
    cJSON_free(text);
    cJSON_Delete(s);
    return CHECK_DONE();
}
