/* Unit tests of stats/regjson.c: a registry written as JSON and read back is the same registry
 * (every metric type, tags, custom metrics, whole histograms: percentiles equal), two read
 * into one add up exactly as a merge does, 'skip' leaves metrics out, and malformed documents
 * or a metric of another type are refused with a message. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../check.h"
#include "regjson.h"

static const char *tags_a = "method\x1fGET\x1ename\x1f/a";
static const char *tags_b = "method\x1fPOST\x1ename\x1f/b";

static struct tide_registry *sample_registry(int seed, int custom)
{
    struct tide_registry *r = tide_registry_new();
    for (int i = 0; i < 500; i++) {
        tide_registry_add(r, TIDE_M_HTTP_REQ_DURATION, i % 3 ? tags_a : tags_b,
                          0.05 + (double)((i * 37 + seed) % 1000) * 0.731);
        tide_registry_add(r, TIDE_M_HTTP_REQS, i % 3 ? tags_a : tags_b, 1);
        tide_registry_add(r, TIDE_M_HTTP_REQ_FAILED, tags_a, (i + seed) % 7 == 0);
        tide_registry_add(r, custom, "", (double)(i % 11));
    }
    tide_registry_add(r, TIDE_M_VUS, "", 7 + seed);
    tide_registry_add(r, TIDE_M_FAILURES, "error\x1fHTTP 500", 3);
    return r;
}

static void same_aggregates(const struct tide_registry *a, const struct tide_registry *b,
                            int metric, const char *what)
{
    struct tide_agg x, y;
    tide_registry_aggregate(a, metric, NULL, NULL, &x);
    tide_registry_aggregate(b, metric, NULL, NULL, &y);
    bool same = x.count == y.count && x.sum == y.sum && x.min == y.min && x.max == y.max &&
                x.nonzero == y.nonzero && x.last == y.last;
    for (double p = 1; p <= 100 && same; p += 0.5)
        same = tide_agg_percentile(&x, p) == tide_agg_percentile(&y, p);
    if (!same)
        fprintf(stderr, "  %s differs: count %llu/%llu sum %g/%g\n", what,
                (unsigned long long)x.count, (unsigned long long)y.count, x.sum, y.sum);
    CHECK(same);
    tide_agg_fini(&x);
    tide_agg_fini(&y);
}

static void test_round_trip(void)
{
    struct tide_err err = {{0}};
    int custom = tide_metric_register("basket_size", TIDE_TREND, TIDE_CONTAINS_DEFAULT, &err);
    CHECK(custom >= 0);
    struct tide_registry *r = sample_registry(1, custom);
    cJSON *j = tide_registry_to_json(r);
    char *text = cJSON_PrintUnformatted(j); /* through text, as seconds.jsonl is */
    cJSON *back = cJSON_Parse(text);
    struct tide_registry *r2 = tide_registry_new();
    CHECK(tide_registry_from_json(r2, back, NULL, &err) == 0);
    CHECK(tide_registry_size(r2) == tide_registry_size(r));
    static const int metrics[] = {TIDE_M_HTTP_REQ_DURATION, TIDE_M_HTTP_REQS,
                                  TIDE_M_HTTP_REQ_FAILED, TIDE_M_VUS, TIDE_M_FAILURES};
    for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++)
        same_aggregates(r, r2, metrics[i], tide_metric_name(metrics[i]));
    same_aggregates(r, r2, custom, "custom trend");
    free(text);
    cJSON_Delete(j);
    cJSON_Delete(back);
    tide_registry_free(r);
    tide_registry_free(r2);
}

/* Reading two documents into one registry = merging the two registries. */
static void test_read_twice_is_a_merge(void)
{
    struct tide_err err = {{0}};
    int custom = tide_metric_lookup("basket_size");
    struct tide_registry *a = sample_registry(1, custom), *b = sample_registry(5, custom);
    struct tide_registry *merged = tide_registry_new(), *read = tide_registry_new();
    tide_registry_merge(merged, a);
    tide_registry_merge(merged, b);
    cJSON *ja = tide_registry_to_json(a), *jb = tide_registry_to_json(b);
    CHECK(tide_registry_from_json(read, ja, NULL, &err) == 0);
    CHECK(tide_registry_from_json(read, jb, NULL, &err) == 0);
    same_aggregates(merged, read, TIDE_M_HTTP_REQ_DURATION, "merged durations");
    same_aggregates(merged, read, TIDE_M_HTTP_REQS, "merged requests");
    same_aggregates(merged, read, TIDE_M_HTTP_REQ_FAILED, "merged failures");
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    tide_registry_free(a);
    tide_registry_free(b);
    tide_registry_free(merged);
    tide_registry_free(read);
}

static bool skip_vus(int metric)
{
    return metric == TIDE_M_VUS;
}

static void test_skip_and_refusals(void)
{
    struct tide_err err = {{0}};
    struct tide_registry *r = sample_registry(2, tide_metric_lookup("basket_size"));
    cJSON *j = tide_registry_to_json(r);
    struct tide_registry *r2 = tide_registry_new();
    CHECK(tide_registry_from_json(r2, j, skip_vus, &err) == 0);
    struct tide_agg v;
    tide_registry_aggregate(r2, TIDE_M_VUS, NULL, NULL, &v);
    CHECK(v.count == 0);
    static const char *const bad[] = {
        "{}",
        "[{\"metric\": \"http_reqs\"}]",
        "[{\"metric\": \"http_reqs\", \"type\": \"bogus\", \"tags\": {}}]",
        "[{\"metric\": \"http_reqs\", \"type\": \"trend\", \"tags\": {}, \"count\": 1}]",
        "[{\"metric\": \"http_reqs\", \"type\": \"counter\", \"tags\": {}, \"count\": 1, "
        "\"nonzero\": 2}]",
        "[{\"metric\": \"http_req_duration\", \"type\": \"trend\", \"tags\": {}, \"count\": 1, "
        "\"histogram\": {\"digits\": 3, \"unit\": \"us\", \"buckets\": [[\"x\", 1]]}}]",
        "[5]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *b = cJSON_Parse(bad[i]);
        err.msg[0] = '\0';
        bool refused = tide_registry_from_json(r2, b, NULL, &err) != 0 && err.msg[0] != '\0';
        if (!refused)
            fprintf(stderr, "  accepted: %s\n", bad[i]);
        CHECK(refused);
        cJSON_Delete(b);
    }
    cJSON_Delete(j);
    tide_registry_free(r);
    tide_registry_free(r2);
}

int main(void)
{
    test_round_trip();
    test_read_twice_is_a_merge();
    test_skip_and_refusals();
    return CHECK_DONE();
}
