/* Unit tests of the log-linear histogram: accuracy against exact percentiles, merging, JSON. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "../check.h"
#include "hdr.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define NSAMPLES 200000

static const double pcts[] = {0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100};
#define NPCTS (sizeof pcts / sizeof pcts[0])

/* splitmix64: deterministic, so a failure can be replayed. */
static uint64_t rng_state = 42;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rng_unit(void) /* (0, 1) */
{
    return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(void)
{
    return sqrt(-2.0 * log(rng_unit())) * cos(2.0 * M_PI * rng_unit());
}

static int64_t gen_uniform(void)
{
    return 1 + (int64_t)(rng_next() % 1000000);
}

static int64_t gen_lognormal(void) /* median 20 ms, heavy tail */
{
    return (int64_t)llround(20000.0 * exp(rng_normal()));
}

static int64_t gen_bimodal(void) /* 90 % around 10 ms, 10 % around 200 ms */
{
    double mode = rng_unit() < 0.9 ? 10000.0 : 200000.0;
    return (int64_t)llround(mode * (1.0 + 0.05 * rng_normal()));
}

static int64_t gen_wide(void) /* log-uniform over 1 µs .. 1 h */
{
    return (int64_t)llround(exp(rng_unit() * log((double)TIDE_HDR_MAX)));
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The definition the histogram approximates: value at rank ceil(p/100 * n), p = 0 -> min. */
static int64_t exact_percentile(const int64_t *sorted, size_t n, double p)
{
    if (p == 0)
        return sorted[0];
    double x = p / 100.0 * (double)n;
    double r = ceil(x);
    if (r - x > 1 - 1e-9)
        r -= 1;
    if (r < 1)
        r = 1;
    return sorted[(size_t)r - 1];
}

static double rel_error(int64_t got, int64_t want)
{
    if (want == 0)
        return got == 0 ? 0 : 1;
    return fabs((double)(got - want)) / (double)want;
}

static void check_accuracy(const char *name, int64_t (*gen)(void))
{
    int64_t *v = malloc(NSAMPLES * sizeof *v);
    struct tide_hdr *h = tide_hdr_new();
    double sum = 0;
    for (size_t i = 0; i < NSAMPLES; i++) {
        v[i] = gen();
        if (v[i] > TIDE_HDR_MAX)
            v[i] = TIDE_HDR_MAX;
        sum += (double)v[i];
        tide_hdr_record(h, v[i]);
    }
    qsort(v, NSAMPLES, sizeof *v, cmp_i64);
    CHECK(tide_hdr_count(h) == NSAMPLES);
    CHECK(tide_hdr_min(h) == v[0]);
    CHECK(tide_hdr_max(h) == v[NSAMPLES - 1]);
    CHECK_NEAR(tide_hdr_mean(h), sum / NSAMPLES, 1e-6 * sum / NSAMPLES);
    double worst = 0;
    for (size_t i = 0; i < NPCTS; i++) {
        int64_t want = exact_percentile(v, NSAMPLES, pcts[i]);
        int64_t got = tide_hdr_percentile(h, pcts[i]);
        double e = rel_error(got, want);
        if (e > worst)
            worst = e;
        CHECK(e <= 0.001);
        if (e > 0.001)
            fprintf(stderr, "  %s p%g: got %lld, exact %lld\n", name, pcts[i], (long long)got,
                    (long long)want);
    }
    printf("%-10s worst relative error %.5f %%\n", name, worst * 100);
    tide_hdr_free(h);
    free(v);
}

static void test_hdr_percentiles_within_a_thousandth(void)
{
    check_accuracy("uniform", gen_uniform);
    check_accuracy("lognormal", gen_lognormal);
    check_accuracy("bimodal", gen_bimodal);
    check_accuracy("1us..1h", gen_wide);
}

static void check_same(const struct tide_hdr *a, const struct tide_hdr *b)
{
    CHECK(tide_hdr_count(a) == tide_hdr_count(b));
    CHECK(tide_hdr_min(a) == tide_hdr_min(b));
    CHECK(tide_hdr_max(a) == tide_hdr_max(b));
    CHECK(tide_hdr_mean(a) == tide_hdr_mean(b));
    int diffs = 0;
    for (int i = 0; i <= 1000; i++) {
        double p = i / 10.0;
        if (tide_hdr_percentile(a, p) != tide_hdr_percentile(b, p))
            diffs++;
    }
    for (size_t i = 0; i < NPCTS; i++) {
        if (tide_hdr_percentile(a, pcts[i]) != tide_hdr_percentile(b, pcts[i]))
            diffs++;
    }
    CHECK(diffs == 0);
    /* every bucket count equal */
    cJSON *ja = tide_hdr_to_json(a), *jb = tide_hdr_to_json(b);
    char *ta = cJSON_PrintUnformatted(ja), *tb = cJSON_PrintUnformatted(jb);
    CHECK_STR(ta, tb);
    cJSON_free(ta);
    cJSON_free(tb);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
}

static void test_hdr_merge_equals_all_samples(void)
{
    struct tide_hdr *a = tide_hdr_new(), *b = tide_hdr_new(), *all = tide_hdr_new();
    for (int i = 0; i < 50000; i++) {
        int64_t x = gen_lognormal();
        int64_t y = gen_bimodal();
        tide_hdr_record(a, x);
        tide_hdr_record(b, y);
        tide_hdr_record(all, x);
        tide_hdr_record(all, y);
    }
    CHECK(tide_hdr_merge(a, b) == 0);
    check_same(a, all);

    struct tide_hdr *empty = tide_hdr_new();
    CHECK(tide_hdr_merge(a, empty) == 0);
    check_same(a, all);
    CHECK(tide_hdr_merge(empty, all) == 0);
    check_same(empty, all);
    tide_hdr_free(a);
    tide_hdr_free(b);
    tide_hdr_free(all);
    tide_hdr_free(empty);
}

static struct tide_hdr *round_trip(const struct tide_hdr *h)
{
    cJSON *j = tide_hdr_to_json(h);
    char *text = cJSON_PrintUnformatted(j);
    cJSON *back = cJSON_Parse(text);
    struct tide_err err = {{0}};
    struct tide_hdr *r = tide_hdr_from_json(back, &err);
    CHECK(r != NULL);
    if (r == NULL)
        fprintf(stderr, "  %s\n", err.msg);
    cJSON *again = tide_hdr_to_json(r);
    char *text2 = cJSON_PrintUnformatted(again);
    CHECK_STR(text2, text);
    cJSON_free(text);
    cJSON_free(text2);
    cJSON_Delete(j);
    cJSON_Delete(back);
    cJSON_Delete(again);
    return r;
}

static void test_hdr_json_round_trip_is_exact(void)
{
    struct tide_hdr *a = tide_hdr_new(), *b = tide_hdr_new(), *all = tide_hdr_new();
    for (int i = 0; i < 30000; i++) {
        int64_t x = gen_wide(), y = gen_uniform();
        tide_hdr_record(a, x);
        tide_hdr_record(b, y);
        tide_hdr_record(all, x);
        tide_hdr_record(all, y);
    }
    struct tide_hdr *ra = round_trip(a), *rb = round_trip(b);
    check_same(ra, a);
    check_same(rb, b);
    CHECK(tide_hdr_merge(ra, rb) == 0);
    check_same(ra, all);

    cJSON *j = tide_hdr_to_json(all);
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "digits")) == 3);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "unit")), "us");
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "min")) == (double)tide_hdr_min(all));
    cJSON_Delete(j);

    struct tide_hdr *e = tide_hdr_new();
    struct tide_hdr *re = round_trip(e);
    CHECK(tide_hdr_count(re) == 0);
    tide_hdr_free(e);
    tide_hdr_free(re);
    tide_hdr_free(a);
    tide_hdr_free(b);
    tide_hdr_free(ra);
    tide_hdr_free(rb);
    tide_hdr_free(all);
}

static void test_hdr_json_without_sum_estimates_mean(void)
{
    cJSON *j = cJSON_Parse("{\"digits\":3,\"unit\":\"us\",\"min\":1000,\"max\":3000,"
                           "\"buckets\":[[1000,1],[3000,1]]}");
    struct tide_err err = {{0}};
    struct tide_hdr *h = tide_hdr_from_json(j, &err);
    CHECK(h != NULL);
    CHECK(tide_hdr_count(h) == 2);
    CHECK_NEAR(tide_hdr_mean(h), 2000, 2);
    CHECK(tide_hdr_percentile(h, 50) == 1000);
    CHECK(tide_hdr_percentile(h, 100) == 3000);
    tide_hdr_free(h);
    cJSON_Delete(j);
}

static void test_hdr_clamps_out_of_range(void)
{
    struct tide_hdr *h = tide_hdr_new();
    tide_hdr_record(h, -5);
    tide_hdr_record(h, TIDE_HDR_MAX * 10);
    tide_hdr_record_n(h, 7, 3);
    tide_hdr_record_n(h, 8, 0);
    CHECK(tide_hdr_count(h) == 5);
    CHECK(tide_hdr_min(h) == 0);
    CHECK(tide_hdr_max(h) == TIDE_HDR_MAX);
    CHECK(tide_hdr_percentile(h, 0) == 0);
    CHECK(tide_hdr_percentile(h, 20) == 0);
    CHECK(tide_hdr_percentile(h, 50) == 7);
    CHECK(tide_hdr_percentile(h, 80) == 7);
    CHECK(tide_hdr_percentile(h, 100) == TIDE_HDR_MAX);
    CHECK(tide_hdr_percentile(h, 250) == TIDE_HDR_MAX);
    CHECK_NEAR(tide_hdr_mean(h), (21.0 + (double)TIDE_HDR_MAX) / 5, 1e-3);
    tide_hdr_free(h);
}

static void test_hdr_empty_and_reset(void)
{
    struct tide_hdr *h = tide_hdr_new();
    CHECK(tide_hdr_count(h) == 0);
    CHECK(tide_hdr_min(h) == 0);
    CHECK(tide_hdr_max(h) == 0);
    CHECK(tide_hdr_mean(h) == 0);
    CHECK(tide_hdr_percentile(h, 50) == 0);
    CHECK(tide_hdr_percentile(h, 0) == 0);
    tide_hdr_record(h, 123456);
    tide_hdr_record(h, 5);
    size_t mem = tide_hdr_memory(h);
    tide_hdr_reset(h);
    CHECK(tide_hdr_count(h) == 0);
    CHECK(tide_hdr_max(h) == 0);
    CHECK(tide_hdr_percentile(h, 99) == 0);
    CHECK(tide_hdr_memory(h) == mem); /* arrays are kept for reuse */
    tide_hdr_record(h, 300);
    CHECK(tide_hdr_min(h) == 300);
    CHECK(tide_hdr_percentile(h, 50) == 300);
    tide_hdr_free(h);
    tide_hdr_free(NULL);
}

static void test_hdr_exact_below_2048(void)
{
    struct tide_hdr *h = tide_hdr_new();
    for (int v = 0; v < 2048; v++)
        tide_hdr_record(h, v);
    for (int v = 1; v < 2048; v++)
        CHECK(tide_hdr_percentile(h, 100.0 * v / 2048) == v - 1);
    tide_hdr_free(h);
}

static void test_hdr_memory_small_for_narrow_data(void)
{
    struct tide_hdr *h = tide_hdr_new();
    size_t base = tide_hdr_memory(h);
    CHECK(base < 512);
    for (int i = 0; i < 100000; i++)
        tide_hdr_record(h, 10000 + (int64_t)(rng_next() % 10000)); /* 10..20 ms */
    printf("10..20 ms: %zu bytes\n", tide_hdr_memory(h));
    CHECK(tide_hdr_memory(h) <= base + 2 * 8192);
    tide_hdr_free(h);
    /* a series of one endpoint: latencies within a few percent hold one or two 1 KB chunks,
     * not a whole bucket (16 KB for values under 2 ms) */
    h = tide_hdr_new();
    for (int i = 0; i < 1000; i++)
        tide_hdr_record(h, 900 + (int64_t)(rng_next() % 100)); /* 0.9..1 ms */
    printf("0.9..1 ms: %zu bytes\n", tide_hdr_memory(h));
    CHECK(tide_hdr_memory(h) <= base + 2 * 1024 + 16 * sizeof(void *));
    for (int i = 0; i < 100000; i++)
        tide_hdr_record(h, gen_wide());
    printf("1us..1h: %zu bytes\n", tide_hdr_memory(h));
    CHECK(tide_hdr_memory(h) < 200 * 1024);
    tide_hdr_free(h);
}

static const struct {
    const char *json;
    const char *msg;
} bad_json[] = {
    {"[]", "histogram: expected an object"},
    {"{\"digits\":2,\"min\":0,\"max\":0,\"buckets\":[]}", "histogram: \"digits\" must be 3"},
    {"{\"unit\":\"ms\",\"min\":0,\"max\":0,\"buckets\":[]}", "histogram: \"unit\" must be \"us\""},
    {"{\"max\":0,\"buckets\":[]}", "histogram: \"min\" must be an integer in 0..3600000000"},
    {"{\"min\":0,\"max\":-1,\"buckets\":[]}",
     "histogram: \"max\" must be an integer in 0..3600000000"},
    {"{\"min\":5,\"max\":4,\"buckets\":[]}", "histogram: \"min\" 5 is above \"max\" 4"},
    {"{\"min\":0,\"max\":0}", "histogram: \"buckets\" must be an array of [value, count]"},
    {"{\"min\":1,\"max\":1,\"buckets\":[[1]]}", "histogram: buckets[0]: expected [value, count]"},
    {"{\"min\":1,\"max\":1,\"buckets\":[[1.5,1]]}",
     "histogram: buckets[0]: value must be an integer in 0..3600000000"},
    {"{\"min\":1,\"max\":1,\"buckets\":[[1,0]]}",
     "histogram: buckets[0]: count must be a positive integer"},
    {"{\"min\":1,\"max\":2,\"buckets\":[[2,1],[1,1]]}",
     "histogram: buckets[1]: values must be ascending, one per slot"},
    {"{\"min\":4096,\"max\":4097,\"buckets\":[[4096,1],[4097,1]]}",
     "histogram: buckets[1]: values must be ascending, one per slot"},
    {"{\"min\":1,\"max\":9,\"buckets\":[[2,1],[9,1]]}",
     "histogram: \"min\" 1 is not in the first bucket"},
    {"{\"min\":2,\"max\":10,\"buckets\":[[2,1],[9,1]]}",
     "histogram: \"max\" 10 is not in the last bucket"},
    {"{\"min\":0,\"max\":3,\"buckets\":[]}", "histogram: no buckets but \"min\"/\"max\" are not 0"},
    {"{\"min\":1,\"max\":1,\"sum\":\"x\",\"buckets\":[[1,1]]}",
     "histogram: \"sum\" must be a non-negative number"},
};

static void test_hdr_from_json_rejects_malformed(void)
{
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        cJSON *j = cJSON_Parse(bad_json[i].json);
        CHECK(j != NULL);
        struct tide_err err = {{0}};
        struct tide_hdr *h = tide_hdr_from_json(j, &err);
        CHECK(h == NULL);
        CHECK_STR(err.msg, bad_json[i].msg);
        tide_hdr_free(h);
        cJSON_Delete(j);
    }
    struct tide_err err = {{0}};
    CHECK(tide_hdr_from_json(NULL, &err) == NULL);
    CHECK_STR(err.msg, "histogram: expected an object");
}

int main(void)
{
    test_hdr_percentiles_within_a_thousandth();
    test_hdr_merge_equals_all_samples();
    test_hdr_json_round_trip_is_exact();
    test_hdr_json_without_sum_estimates_mean();
    test_hdr_clamps_out_of_range();
    test_hdr_empty_and_reset();
    test_hdr_exact_below_2048();
    test_hdr_memory_small_for_narrow_data();
    test_hdr_from_json_rejects_malformed();
    return CHECK_DONE();
}
