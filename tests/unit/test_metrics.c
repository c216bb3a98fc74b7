/* Unit tests of metric definitions, tag sets and registries (stats/metrics.c): ids, name
 * rules, canonical tags, exact merges of every metric type, aggregation with tag matching. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../check.h"
#include "metrics.h"

static void test_builtins_have_fixed_ids(void)
{
    CHECK_STR(tide_metric_name(TIDE_M_HTTP_REQS), "http_reqs");
    CHECK_STR(tide_metric_name(TIDE_M_CHECKS), "checks");
    CHECK(tide_metric_lookup("http_req_duration") == TIDE_M_HTTP_REQ_DURATION);
    CHECK(tide_metric_type_of(TIDE_M_HTTP_REQ_DURATION) == TIDE_TREND);
    CHECK(tide_metric_contains(TIDE_M_DATA_SENT) == TIDE_CONTAINS_DATA);
    /* the internal ones are built in too: usable from any thread without registering */
    CHECK(tide_metric_lookup("tide_loop_lag") == TIDE_M_LOOP_LAG);
    CHECK(tide_metric_lookup("tide_worker_cpu") == TIDE_M_WORKER_CPU);
    CHECK(tide_metric_lookup("tide_script_errors") == TIDE_M_SCRIPT_ERRORS);
    CHECK(tide_metric_lookup("tide_failures") == TIDE_M_FAILURES);
    CHECK(tide_metric_lookup("tide_content_bytes") == TIDE_M_CONTENT_BYTES);
    CHECK(tide_metric_type_of(TIDE_M_LOOP_LAG) == TIDE_TREND);
    CHECK(tide_metric_contains(TIDE_M_LOOP_LAG) == TIDE_CONTAINS_TIME);
    CHECK(tide_metric_type_of(TIDE_M_FAILURES) == TIDE_COUNTER);
    CHECK(tide_metric_contains(TIDE_M_CONTENT_BYTES) == TIDE_CONTAINS_DATA);
    CHECK(tide_metric_count() >= TIDE_M_BUILTIN_COUNT);
    CHECK_STR(tide_metric_type_name(TIDE_RATE), "rate");
}

static void test_register_and_lookup(void)
{
    struct tide_err err = {{0}};
    int n0 = tide_metric_count();
    CHECK(tide_metric_lookup("orders") == -1);
    int id = tide_metric_register("orders", TIDE_COUNTER, TIDE_CONTAINS_DEFAULT, &err);
    CHECK(id >= TIDE_M_BUILTIN_COUNT);
    CHECK(tide_metric_count() == n0 + 1);
    CHECK(tide_metric_lookup("orders") == id);
    CHECK_STR(tide_metric_name(id), "orders");
    CHECK(tide_metric_type_of(id) == TIDE_COUNTER);
    /* the same name and type: the same id, no new definition */
    CHECK(tide_metric_register("orders", TIDE_COUNTER, TIDE_CONTAINS_DEFAULT, &err) == id);
    CHECK(tide_metric_count() == n0 + 1);
    /* another type: an error naming both */
    CHECK(tide_metric_register("orders", TIDE_TREND, TIDE_CONTAINS_TIME, &err) == -1);
    CHECK(strstr(err.msg, "already a counter, not a trend") != NULL);
    /* a built-in's name with its own type is the built-in */
    CHECK(tide_metric_register("http_reqs", TIDE_COUNTER, TIDE_CONTAINS_DEFAULT, &err) ==
          TIDE_M_HTTP_REQS);
    CHECK(tide_metric_register("http_reqs", TIDE_GAUGE, TIDE_CONTAINS_DEFAULT, &err) == -1);
    int t = tide_metric_register("cart.wait_ms", TIDE_TREND, TIDE_CONTAINS_TIME, &err);
    CHECK(t == id + 1);
    CHECK(tide_metric_contains(t) == TIDE_CONTAINS_TIME);
    /* name rules */
    static const char *bad[] = {"", "1abc", "a-b", "a b", "é"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = '\0';
        CHECK(tide_metric_register(bad[i], TIDE_COUNTER, TIDE_CONTAINS_DEFAULT, &err) == -1);
        CHECK(strstr(err.msg, "is invalid") != NULL);
    }
    char longname[140];
    memset(longname, 'a', 129);
    longname[129] = '\0';
    CHECK(tide_metric_register(longname, TIDE_COUNTER, TIDE_CONTAINS_DEFAULT, &err) == -1);
    longname[128] = '\0';
    CHECK(tide_metric_register(longname, TIDE_COUNTER, TIDE_CONTAINS_DEFAULT, &err) >= 0);
    CHECK(tide_metric_register("_x", TIDE_RATE, TIDE_CONTAINS_DEFAULT, &err) >= 0);
}

static void test_tags_canonical(void)
{
    struct tide_tags a = {0}, b = {0};
    tide_tags_set(&a, "name", "/login");
    tide_tags_set(&a, "method", "POST");
    tide_tags_set(&a, "status", "200");
    tide_tags_set(&b, "status", "500");
    tide_tags_set(&b, "method", "POST");
    tide_tags_set(&b, "name", "/login");
    tide_tags_set(&b, "status", "200"); /* replaces, does not add */
    CHECK(b.n == 3);
    char ca[256], cb[256];
    size_t la = tide_tags_canon(&a, ca, sizeof ca), lb = tide_tags_canon(&b, cb, sizeof cb);
    CHECK(la == lb && strcmp(ca, cb) == 0); /* equal sets, equal strings, whatever the order */
    CHECK_STR(ca, "method\x1fPOST\x1ename\x1f/login\x1estatus\x1f"
                  "200");
    CHECK(la == strlen(ca));
    CHECK(tide_tags_hash(ca) == tide_tags_hash(cb));

    /* separators inside a value cannot forge another pair */
    struct tide_tags c = {0};
    tide_tags_set(&c, "k",
                  "a\x1e"
                  "evil\x1fyes");
    char cc[64];
    tide_tags_canon(&c, cc, sizeof cc);
    CHECK_STR(cc, "k\x1f"
                  "a_evil_yes");

    /* a set too long for the buffer is cut at a pair */
    char small[20];
    size_t ls = tide_tags_canon(&a, small, sizeof small);
    CHECK_STR(small, "method\x1fPOST");
    CHECK(ls == strlen(small));

    /* parse gives the pairs back */
    char scratch[256];
    struct tide_tags p;
    tide_tags_parse(ca, scratch, sizeof scratch, &p);
    CHECK(p.n == 3);
    if (p.n == 3) {
        CHECK_STR(p.key[0], "method");
        CHECK_STR(p.value[0], "POST");
        CHECK_STR(p.key[2], "status");
        CHECK_STR(p.value[2], "200");
    }
    tide_tags_parse("", scratch, sizeof scratch, &p);
    CHECK(p.n == 0);
}

static struct tide_agg agg_of(const struct tide_registry *r, int metric)
{
    struct tide_agg a;
    tide_registry_aggregate(r, metric, NULL, NULL, &a);
    return a;
}

/* Splitting samples over several registries and merging them gives exactly what recording
 * them all in one does: counters, rates, gauges, trends with their histograms. */
static void test_merge_exact(void)
{
    struct tide_registry *one = tide_registry_new(), *parts[3], *merged = tide_registry_new();
    for (int k = 0; k < 3; k++)
        parts[k] = tide_registry_new();
    const char *tags[] = {"name\x1f/a", "name\x1f/b"};
    for (int i = 0; i < 3000; i++) {
        struct tide_registry *p = parts[i % 3];
        const char *t = tags[i % 2];
        double ms = 0.5 + (double)((i * 7919) % 2000);
        tide_registry_add(one, TIDE_M_HTTP_REQ_DURATION, t, ms);
        tide_registry_add(p, TIDE_M_HTTP_REQ_DURATION, t, ms);
        tide_registry_add(one, TIDE_M_HTTP_REQS, t, 1);
        tide_registry_add(p, TIDE_M_HTTP_REQS, t, 1);
        tide_registry_add(one, TIDE_M_DATA_RECEIVED, t, 0.25 * i);
        tide_registry_add(p, TIDE_M_DATA_RECEIVED, t, 0.25 * i);
        tide_registry_add(one, TIDE_M_CHECKS, "", i % 4 != 0);
        tide_registry_add(p, TIDE_M_CHECKS, "", i % 4 != 0);
    }
    tide_registry_add(parts[0], TIDE_M_VUS, "", 3);
    tide_registry_add(parts[0], TIDE_M_VUS, "", 9);
    tide_registry_add(parts[2], TIDE_M_VUS, "", 5);
    for (int k = 0; k < 3; k++)
        CHECK(tide_registry_merge(merged, parts[k]) == 0);
    CHECK(tide_registry_size(merged) == tide_registry_size(one) + 1);

    struct tide_agg a = agg_of(one, TIDE_M_HTTP_REQS), b = agg_of(merged, TIDE_M_HTTP_REQS);
    CHECK(a.sum == 3000 && b.sum == 3000 && b.count == 3000);
    a = agg_of(one, TIDE_M_DATA_RECEIVED);
    b = agg_of(merged, TIDE_M_DATA_RECEIVED);
    CHECK(a.sum == b.sum && b.sum == 0.25 * 2999 * 3000 / 2);
    a = agg_of(one, TIDE_M_CHECKS);
    b = agg_of(merged, TIDE_M_CHECKS);
    CHECK(b.count == 3000 && b.nonzero == 2250 && a.nonzero == b.nonzero);
    a = agg_of(one, TIDE_M_HTTP_REQ_DURATION);
    b = agg_of(merged, TIDE_M_HTTP_REQ_DURATION);
    CHECK(a.count == 3000 && b.count == 3000);
    CHECK(a.sum == b.sum && a.min == b.min && a.max == b.max);
    CHECK(a.min == 0.5 && a.max == 1999.5);
    static const double ps[] = {0, 1, 50, 90, 95, 99, 99.9, 100};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        CHECK(tide_agg_percentile(&a, ps[i]) == tide_agg_percentile(&b, ps[i]));
    tide_agg_fini(&a);
    tide_agg_fini(&b);
    b = agg_of(merged, TIDE_M_VUS);
    CHECK(b.type == TIDE_GAUGE && b.min == 3 && b.max == 9 && b.last == 5);

    /* merging an empty registry changes nothing; merging twice doubles */
    struct tide_registry *empty = tide_registry_new();
    size_t n = tide_registry_size(merged);
    CHECK(tide_registry_merge(merged, empty) == 0);
    CHECK(tide_registry_size(merged) == n);
    CHECK(tide_registry_merge(merged, one) == 0);
    b = agg_of(merged, TIDE_M_HTTP_REQS);
    CHECK(b.sum == 6000);
    b = agg_of(merged, TIDE_M_HTTP_REQ_DURATION);
    CHECK(b.count == 6000 && b.min == 0.5);
    tide_agg_fini(&b);
    tide_registry_free(empty);
    for (int k = 0; k < 3; k++)
        tide_registry_free(parts[k]);
    tide_registry_free(one);
    tide_registry_free(merged);
}

static bool match_name(void *ctx, const struct tide_tags *t)
{
    for (int i = 0; i < t->n; i++) {
        if (strcmp(t->key[i], "name") == 0)
            return strcmp(t->value[i], ctx) == 0;
    }
    return false;
}

static void test_aggregate_with_matching(void)
{
    struct tide_registry *r = tide_registry_new();
    struct tide_tags t = {0};
    char canon[128];
    const char *names[] = {"/a", "/b", "/a"};
    const char *status[] = {"200", "200", "500"};
    for (int k = 0; k < 3; k++) {
        t.n = 0;
        tide_tags_set(&t, "name", names[k]);
        tide_tags_set(&t, "status", status[k]);
        tide_tags_canon(&t, canon, sizeof canon);
        for (int i = 0; i <= k; i++) /* 1, 2 and 3 samples */
            tide_registry_add(r, TIDE_M_HTTP_REQ_DURATION, canon, 10.0 * (k + 1));
        tide_registry_add(r, TIDE_M_HTTP_REQS, canon, k + 1);
    }
    tide_registry_add(r, TIDE_M_HTTP_REQS, "", 100); /* untagged: never matches a name */
    CHECK(tide_registry_size(r) == 7);
    struct tide_agg a;
    char a_name[] = "/a", b_name[] = "/b", none[] = "/none";
    tide_registry_aggregate(r, TIDE_M_HTTP_REQ_DURATION, match_name, a_name, &a);
    CHECK(a.count == 4 && a.sum == 10 + 3 * 30 && a.min == 10 && a.max == 30);
    CHECK(tide_agg_percentile(&a, 100) == 30);
    tide_agg_fini(&a);
    tide_registry_aggregate(r, TIDE_M_HTTP_REQS, match_name, b_name, &a);
    CHECK(a.type == TIDE_COUNTER && a.sum == 2 && a.hdr == NULL);
    tide_registry_aggregate(r, TIDE_M_HTTP_REQS, NULL, NULL, &a);
    CHECK(a.sum == 106);
    tide_registry_aggregate(r, TIDE_M_HTTP_REQS, match_name, none, &a);
    CHECK(a.count == 0 && a.sum == 0);
    tide_registry_aggregate(r, TIDE_M_CHECKS, NULL, NULL, &a); /* no series at all */
    CHECK(a.count == 0 && a.type == TIDE_RATE);
    tide_registry_free(r);
}

static void test_agg_json(void)
{
    struct tide_agg a;
    tide_agg_init(&a, TIDE_RATE);
    tide_agg_add(&a, 1);
    tide_agg_add(&a, 0);
    tide_agg_add(&a, 1);
    tide_agg_add(&a, 1);
    cJSON *j = tide_agg_to_json(&a, TIDE_CONTAINS_DEFAULT, false);
    CHECK(cJSON_GetObjectItem(j, "rate")->valuedouble == 0.75);
    CHECK(cJSON_GetObjectItem(j, "passes")->valuedouble == 3);
    CHECK(cJSON_GetObjectItem(j, "fails")->valuedouble == 1);
    cJSON_Delete(j);
    tide_agg_init(&a, TIDE_COUNTER);
    tide_agg_add(&a, 5);
    tide_agg_add(&a, 7);
    a.seconds = 4;
    j = tide_agg_to_json(&a, TIDE_CONTAINS_DATA, false);
    CHECK(cJSON_GetObjectItem(j, "count")->valuedouble == 12);
    CHECK(cJSON_GetObjectItem(j, "rate")->valuedouble == 3);
    CHECK_STR(cJSON_GetObjectItem(j, "contains")->valuestring, "data");
    cJSON_Delete(j);
}

/* Distinct tag sets past the cap are counted under name="(other)": totals stay exact and the
 * series stay bounded whatever the number of URLs. */
static void test_series_cap(void)
{
    struct tide_registry *r = tide_registry_new();
    char tags[256];
    int n = TIDE_SERIES_CAP * 5;
    for (int i = 0; i < n; i++) {
        snprintf(tags, sizeof tags, "method\x1fGET\x1ename\x1f/users/u%d\x1estatus\x1f%d", i,
                 i % 2 ? 200 : 404);
        tide_registry_add(r, TIDE_M_HTTP_REQS, tags, 1);
        tide_registry_add(r, TIDE_M_HTTP_REQ_DURATION, tags, 2.5);
    }
    size_t reqs = 0, durs = 0;
    for (size_t i = 0; i < tide_registry_size(r); i++) {
        const struct tide_series *se = tide_registry_at(r, i);
        reqs += se->metric == TIDE_M_HTTP_REQS;
        durs += se->metric == TIDE_M_HTTP_REQ_DURATION;
    }
    CHECK(reqs <= TIDE_SERIES_CAP + 2 && reqs >= TIDE_SERIES_CAP);
    CHECK(durs == reqs);
    struct tide_agg a;
    tide_registry_aggregate(r, TIDE_M_HTTP_REQS, NULL, NULL, &a);
    CHECK(a.sum == n); /* nothing lost */
    tide_agg_fini(&a);
    /* the fold keeps the other tags: the 404s stay apart from the 200s */
    const struct tide_series *other404 = NULL;
    for (size_t i = 0; i < tide_registry_size(r); i++) {
        const struct tide_series *se = tide_registry_at(r, i);
        if (se->metric == TIDE_M_HTTP_REQS &&
            strcmp(se->tags, "method\x1fGET\x1ename\x1f(other)\x1estatus\x1f"
                             "404") == 0)
            other404 = se;
    }
    CHECK(other404 != NULL && other404->agg.sum == n / 2 - TIDE_SERIES_CAP / 2);
    /* merged into another registry: still bounded */
    struct tide_registry *total = tide_registry_new();
    tide_registry_merge(total, r);
    tide_registry_merge(total, r);
    CHECK(tide_registry_size(total) == tide_registry_size(r));
    tide_registry_aggregate(total, TIDE_M_HTTP_REQS, NULL, NULL, &a);
    CHECK(a.sum == 2.0 * n);
    tide_agg_fini(&a);
    /* other tags varying too: past the slack, one catch-all */
    for (int i = 0; i < n; i++) {
        snprintf(tags, sizeof tags, "name\x1f/x/%d\x1esession\x1f%d", i, i);
        tide_registry_add(r, TIDE_M_CHECKS, tags, 1);
    }
    size_t checks = 0;
    for (size_t i = 0; i < tide_registry_size(r); i++)
        checks += tide_registry_at(r, i)->metric == TIDE_M_CHECKS;
    CHECK(checks <= TIDE_SERIES_CAP + 65);
    tide_registry_free(total);
    tide_registry_free(r);
}

int main(void)
{
    test_series_cap();
    test_builtins_have_fixed_ids();
    test_register_and_lookup();
    test_tags_canonical();
    test_merge_exact();
    test_aggregate_with_matching();
    test_agg_json();
    return CHECK_DONE();
}
