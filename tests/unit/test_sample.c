/* Unit tests of sample.c: phases from transport offsets, the coordinated-omission correction,
 * expected statuses, and the samples a finished request records. */
#include <stdlib.h>
#include "../check.h"
#include "sample.h"
#include "vu.h"
#include "worker.h"

static void test_sample_phases_plain_and_tls(void)
{
    static const struct {
        struct tide_http_timings raw;    /* µs */
        struct tide_sample_timings want; /* ms */
    } cases[] = {
        /* plain HTTP, new connection */
        {{100, 300, 0, 350, 1350, 1500}, {0.1, 0.2, 0, 0.05, 1.0, 0.15, 1.2}},
        /* TLS: sending starts after the handshake */
        {{100, 300, 800, 850, 1850, 2000}, {0.1, 0.2, 0.5, 0.05, 1.0, 0.15, 1.2}},
        /* kept connection: no lookup, no connect */
        {{0, 0, 0, 20, 520, 600}, {0, 0, 0, 0.02, 0.5, 0.08, 0.6}},
        /* failed while connecting: later offsets are 0 and clamped to the last one reached */
        {{100, 0, 0, 0, 0, 5000}, {0.1, 0, 0, 0, 0, 4.9, 4.9}},
        /* connect reported before the lookup: not negative */
        {{400, 300, 0, 450, 950, 1000}, {0.4, 0, 0, 0.05, 0.5, 0.05, 0.6}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tide_sample_timings t;
        const struct tide_sample_timings *w = &cases[i].want;
        tide_sample_phases(&cases[i].raw, &t);
        CHECK_NEAR(t.blocked, w->blocked, 1e-9);
        CHECK_NEAR(t.connecting, w->connecting, 1e-9);
        CHECK_NEAR(t.tls, w->tls, 1e-9);
        CHECK_NEAR(t.sending, w->sending, 1e-9);
        CHECK_NEAR(t.waiting, w->waiting, 1e-9);
        CHECK_NEAR(t.receiving, w->receiving, 1e-9);
        CHECK_NEAR(t.duration, w->duration, 1e-9);
    }
}

static void test_sample_co_duration_counts_from_when_due(void)
{
    /* due at 1 000 µs, started at 3 000: 2 ms late */
    CHECK_NEAR(tide_sample_co_duration(5, 3000, 1000, 0), 7, 1e-12);
    /* the previous request ended after the due time: late counts from its end */
    CHECK_NEAR(tide_sample_co_duration(5, 3000, 1000, 2500), 5.5, 1e-12);
    /* the due time is later than the previous end */
    CHECK_NEAR(tide_sample_co_duration(5, 3000, 2800, 1000), 5.2, 1e-12);
    /* on time or early: nothing added, never less than measured */
    CHECK_NEAR(tide_sample_co_duration(5, 3000, 3000, 0), 5, 1e-12);
    CHECK_NEAR(tide_sample_co_duration(5, 900, 1000, 0), 5, 1e-12);
    CHECK_NEAR(tide_sample_co_duration(5, 900, 0, 1000), 5, 1e-12);
    /* sub-millisecond lateness is kept */
    CHECK_NEAR(tide_sample_co_duration(0.25, 1001, 1000, 0), 0.251, 1e-12);
}

static char item_name[] = "/items/{id}";

static struct tide_vu_request request(long status, int error_code)
{
    struct tide_vu_request r = {0};
    snprintf(r.r.spec.method, sizeof r.r.spec.method, "GET");
    r.r.res.status = status;
    r.r.res.error_code = error_code;
    r.name = item_name;
    return r;
}

static void test_sample_failed_by_expected_status(void)
{
    static const struct {
        long status;
        int error_code;
        int expect[3], nexpect;
        bool failed;
    } cases[] = {
        {200, 0, {0}, 0, false},
        {204, 0, {0}, 0, false},
        {302, 0, {0}, 0, false},
        {399, 0, {0}, 0, false},
        {400, 0, {0}, 0, true},
        {404, 0, {0}, 0, true},
        {503, 0, {0}, 0, true},
        {199, 0, {0}, 0, true},
        {0, 1050, {0}, 0, true},
        /* a transport error fails whatever the status */
        {200, 1220, {0}, 0, true},
        {404, 0, {404}, 1, false},
        {200, 0, {404}, 1, true},
        {404, 0, {200, 404}, 2, false},
        {500, 0, {200, 404}, 2, true},
        {0, 1050, {0, 200}, 2, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tide_vu_request r = request(cases[i].status, cases[i].error_code);
        r.nexpect = cases[i].nexpect;
        for (int j = 0; j < r.nexpect; j++)
            r.expect[j] = cases[i].expect[j];
        if (tide_sample_failed(&r) != cases[i].failed)
            fprintf(stderr, "case %zu: status %ld\n", i, cases[i].status);
        CHECK(tide_sample_failed(&r) == cases[i].failed);
    }
}

static void test_sample_tags_add_name_method_status(void)
{
    struct tide_vu_request r = request(404, 0);
    char user[64], got[256], want[256];
    struct tide_tags t = {0};
    tide_tags_set(&t, "kind", "x");
    tide_tags_canon(&t, user, sizeof user);
    r.tags = user;
    tide_sample_tags(&r, got, sizeof got);
    tide_tags_set(&t, "status", "404");
    tide_tags_set(&t, "method", "GET");
    tide_tags_set(&t, "name", "/items/{id}");
    tide_tags_canon(&t, want, sizeof want);
    CHECK_STR(got, want);
}

/* The aggregate of 'metric' over every series whose tags equal 'tags' (NULL: any). */
static struct tide_agg *find(struct tide_registry *reg, int metric, const char *tags)
{
    for (size_t i = 0; i < tide_registry_size(reg); i++) {
        struct tide_series *s = tide_registry_at(reg, i);
        if (s->metric == metric && (tags == NULL || strcmp(s->tags, tags) == 0))
            return &s->agg;
    }
    return NULL;
}

static void test_sample_record_response(void)
{
    struct tide_registry *reg = tide_registry_new();
    struct tide_vu_request r = request(503, 0);
    r.r.res.body_bytes = 10;
    r.r.res.bytes_sent = 77;
    tide_buf_append(&r.r.res.headers, "HTTP/1.1 503 x\r\n\r\n", 18);
    struct tide_sample s = {.t = {1, 2, 0, 0.5, 3, 0.5, 4}, .duration = 9, .open_model = true};
    tide_sample_record(reg, "t\x1fv", &r, &s);
    struct tide_agg *a = find(reg, TIDE_M_HTTP_REQS, "t\x1fv");
    CHECK(a != NULL && a->sum == 1);
    a = find(reg, TIDE_M_HTTP_REQ_FAILED, "t\x1fv");
    CHECK(a != NULL && a->count == 1 && a->nonzero == 1);
    a = find(reg, TIDE_M_HTTP_REQ_DURATION, "t\x1fv");
    CHECK(a != NULL && a->count == 1 && a->sum == 9);
    a = find(reg, TIDE_M_HTTP_REQ_DURATION_UNCORRECTED, "t\x1fv");
    CHECK(a != NULL && a->count == 1 && a->sum == 4);
    a = find(reg, TIDE_M_HTTP_REQ_WAITING, "t\x1fv");
    CHECK(a != NULL && a->sum == 3);
    a = find(reg, TIDE_M_DATA_SENT, "t\x1fv");
    CHECK(a != NULL && a->sum == 77);
    a = find(reg, TIDE_M_DATA_RECEIVED, "t\x1fv");
    CHECK(a != NULL && a->sum == 10 + 18);
    a = find(reg, tide_metric_lookup("tide_content_bytes"), "t\x1fv");
    CHECK(a != NULL && a->sum == 10);
    struct tide_tags ft = {0};
    char want[256];
    tide_tags_set(&ft, "method", "GET");
    tide_tags_set(&ft, "name", "/items/{id}");
    tide_tags_set(&ft, "error", "HTTP 503");
    tide_tags_canon(&ft, want, sizeof want);
    a = find(reg, tide_metric_lookup("tide_failures"), want);
    CHECK(a != NULL && a->sum == 1);
    tide_buf_free(&r.r.res.headers);
    tide_registry_free(reg);
}

static void test_sample_record_transport_error_closed_model(void)
{
    struct tide_registry *reg = tide_registry_new();
    struct tide_vu_request r = request(0, 1050);
    snprintf(r.r.res.error_kind, sizeof r.r.res.error_kind, "Timeout was reached (curl 28)");
    struct tide_sample s = {.t = {0, 0, 0, 0, 0, 200, 200}, .duration = 200};
    tide_sample_record(reg, "", &r, &s);
    struct tide_agg *a = find(reg, TIDE_M_HTTP_REQ_FAILED, "");
    CHECK(a != NULL && a->nonzero == 1);
    CHECK(find(reg, TIDE_M_HTTP_REQ_DURATION_UNCORRECTED, NULL) == NULL);
    struct tide_tags ft = {0};
    char want[256];
    tide_tags_set(&ft, "method", "GET");
    tide_tags_set(&ft, "name", "/items/{id}");
    tide_tags_set(&ft, "error", "Timeout was reached (curl 28)");
    tide_tags_canon(&ft, want, sizeof want);
    a = find(reg, tide_metric_lookup("tide_failures"), want);
    CHECK(a != NULL && a->sum == 1);
    tide_registry_free(reg);
}

/* A re-send after a stale keep-alive connection is counted in http_req_retries with the
 * request's tags; a request without one records no such series at all. */
static void test_sample_record_retries(void)
{
    struct tide_registry *reg = tide_registry_new();
    struct tide_vu_request r = request(200, 0);
    struct tide_sample s = {.t = {0, 0, 0, 0, 1, 0, 1}, .duration = 1};
    tide_sample_record(reg, "t\x1fv", &r, &s);
    CHECK(find(reg, TIDE_M_HTTP_REQ_RETRIES, NULL) == NULL);
    r.r.res.retries = 1;
    tide_sample_record(reg, "t\x1fv", &r, &s);
    struct tide_agg *a = find(reg, TIDE_M_HTTP_REQ_RETRIES, "t\x1fv");
    CHECK(a != NULL && a->sum == 1);
    a = find(reg, TIDE_M_HTTP_REQS, "t\x1fv");
    CHECK(a != NULL && a->sum == 2); /* still one request each */
    CHECK(tide_metric_lookup("http_req_retries") == TIDE_M_HTTP_REQ_RETRIES);
    tide_registry_free(reg);
}

static void test_sample_record_expected_status_not_failed(void)
{
    struct tide_registry *reg = tide_registry_new();
    struct tide_vu_request r = request(404, 0);
    r.expect[0] = 404;
    r.nexpect = 1;
    struct tide_sample s = {.t = {0, 0, 0, 0, 1, 0, 1}, .duration = 1};
    tide_sample_record(reg, "", &r, &s);
    tide_sample_record(reg, "", &r, &s);
    r.r.res.status = 200; /* not in the list: a failure */
    tide_sample_record(reg, "", &r, &s);
    struct tide_agg *a = find(reg, TIDE_M_HTTP_REQ_FAILED, "");
    CHECK(a != NULL && a->count == 3 && a->nonzero == 1);
    int failures = tide_metric_lookup("tide_failures");
    size_t nfail = 0;
    for (size_t i = 0; i < tide_registry_size(reg); i++)
        nfail += tide_registry_at(reg, i)->metric == failures;
    CHECK(nfail == 1);
    tide_registry_free(reg);
}

/* The tags a request of 'vu' must be recorded under: built from scratch, as before the
 * series cache (tide_sample_tags, then tide_vu_tags). */
static void expected_tags(struct tide_vu *vu, const struct tide_vu_request *r, char *out,
                          size_t len)
{
    char own[2048];
    tide_sample_tags(r, own, sizeof own);
    tide_vu_tags(vu, own, out, len);
}

/* Through the worker's series cache: each request lands in the series of its own tags, when
 * only its status, its tags, the VU's group or the VU itself differ, and after the registry
 * is swapped; and a VU's own samples (tide_sample_vu_add) likewise. */
static void test_sample_request_cached_shapes(void)
{
    struct tide_worker w = {0};
    w.reg = tide_registry_new();
    struct tide_vu a = {.w = &w,
                        .scenario_tags = "scenario\x1f"
                                         "one"};
    struct tide_vu b = {.w = &w,
                        .scenario_tags = "scenario\x1f"
                                         "two"};
    struct tide_vu_request r = request(200, 0);
    struct tide_sample s = {.t = {0, 0, 0, 0, 1, 0, 1}, .duration = 1};
    char tags[2048], kv[] = "k\x1fv";
    static const long statuses[] = {200, 500, 200, 200, 404};
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++) {
            r.r.res.status = statuses[i];
            r.tags = i == 3 ? kv : NULL;
            snprintf(a.group, sizeof a.group, "%s", i == 2 ? "::g" : "");
            snprintf(b.group, sizeof b.group, "%s", a.group);
            tide_sample_request(&a, &r, &s);
            tide_sample_request(&b, &r, &s);
        }
        if (round == 1) { /* the next interval: another registry */
            tide_registry_free(w.reg);
            w.reg = tide_registry_new();
        }
    }
    /* in the last registry: one round, each shape once per VU (status 200, no tags, no group
     * twice for 'a': i = 0 only, since i = 2 has a group and i = 3 tags) */
    struct {
        long status;
        bool tagged;
        const char *group;
    } shapes[] = {
        {200, false, ""}, {500, false, ""}, {200, false, "::g"}, {200, true, ""}, {404, false, ""}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        r.r.res.status = shapes[i].status;
        r.tags = shapes[i].tagged ? kv : NULL;
        snprintf(a.group, sizeof a.group, "%s", shapes[i].group);
        expected_tags(&a, &r, tags, sizeof tags);
        struct tide_agg *g = find(w.reg, TIDE_M_HTTP_REQS, tags);
        CHECK(g != NULL && g->sum == 1);
        g = find(w.reg, TIDE_M_HTTP_REQ_FAILED, tags);
        CHECK(g != NULL && g->count == 1 && g->nonzero == (shapes[i].status >= 400 ? 1u : 0u));
        snprintf(b.group, sizeof b.group, "%s", shapes[i].group);
        expected_tags(&b, &r, tags, sizeof tags);
        g = find(w.reg, TIDE_M_HTTP_REQ_DURATION, tags);
        CHECK(g != NULL && g->count == 1);
    }
    size_t reqs = 0;
    for (size_t i = 0; i < tide_registry_size(w.reg); i++) {
        struct tide_series *se = tide_registry_at(w.reg, i);
        if (se->metric == TIDE_M_HTTP_REQS)
            reqs += (size_t)se->agg.sum;
    }
    CHECK(reqs == 10); /* nothing recorded twice, nothing lost */
    /* a VU's own samples: the VU's tags with the extra pairs, per VU and group */
    a.group[0] = '\0';
    for (int i = 0; i < 3; i++) {
        tide_sample_vu_add(&a, NULL, TIDE_M_ITERATIONS, 1);
        tide_sample_vu_add(&a, "check\x1fok", TIDE_M_CHECKS, 1);
        tide_sample_vu_add(&b, "check\x1fok", TIDE_M_CHECKS, 0);
    }
    tide_vu_tags(&a, NULL, tags, sizeof tags);
    struct tide_agg *g = find(w.reg, TIDE_M_ITERATIONS, tags);
    CHECK(g != NULL && g->sum == 3);
    tide_vu_tags(&a, "check\x1fok", tags, sizeof tags);
    g = find(w.reg, TIDE_M_CHECKS, tags);
    CHECK(g != NULL && g->count == 3 && g->nonzero == 3);
    tide_vu_tags(&b, "check\x1fok", tags, sizeof tags);
    g = find(w.reg, TIDE_M_CHECKS, tags);
    CHECK(g != NULL && g->count == 3 && g->nonzero == 0);
    CHECK(w.series != NULL && tide_series_cache_hits(w.series) > 0);
    tide_series_cache_free(w.series);
    tide_registry_free(w.reg);
}

int main(void)
{
    test_sample_phases_plain_and_tls();
    test_sample_co_duration_counts_from_when_due();
    test_sample_failed_by_expected_status();
    test_sample_tags_add_name_method_status();
    test_sample_record_response();
    test_sample_record_transport_error_closed_model();
    test_sample_record_expected_status_not_failed();
    test_sample_record_retries();
    test_sample_request_cached_shapes();
    return CHECK_DONE();
}
