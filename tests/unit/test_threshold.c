/* Unit tests of threshold expressions and metric keys: parsing, errors, matching, evaluation. */
#include <math.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "../check.h"
#include "threshold.h"

/* A copy of 's' that ends right before an unreadable page, so any over-read crashes. */
struct fenced {
    char *map;
    size_t size;
    char *str;
};

static struct fenced fence(const char *s)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t n = strlen(s) + 1;
    size_t pages = (n + page - 1) / page + 1;
    struct fenced f = {NULL, pages * page, NULL};
    f.map = mmap(NULL, f.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(f.map != MAP_FAILED);
    mprotect(f.map + f.size - page, page, PROT_NONE);
    f.str = f.map + f.size - page - n;
    memcpy(f.str, s, n);
    return f;
}

static void unfence(struct fenced *f)
{
    munmap(f->map, f->size);
}

static const char *const key = "http_req_duration";

static const struct {
    const char *expr;
    enum tide_threshold_agg agg;
    double arg;
    enum tide_threshold_op op;
    double value;
    int64_t window_us;
} valid[] = {
    {"avg<200", TIDE_AGG_AVG, 0, TIDE_OP_LT, 200, 0},
    {"min>=0", TIDE_AGG_MIN, 0, TIDE_OP_GE, 0, 0},
    {"max<=1000", TIDE_AGG_MAX, 0, TIDE_OP_LE, 1000, 0},
    {"med==5", TIDE_AGG_MED, 0, TIDE_OP_EQ, 5, 0},
    {"p(95)<300", TIDE_AGG_P, 95, TIDE_OP_LT, 300, 0},
    {"p(99.9) < 800", TIDE_AGG_P, 99.9, TIDE_OP_LT, 800, 0},
    {"  p( 90 ) <= 1.5  ", TIDE_AGG_P, 90, TIDE_OP_LE, 1.5, 0},
    {"p(100)>0", TIDE_AGG_P, 100, TIDE_OP_GT, 0, 0},
    {"p(0.5)>0", TIDE_AGG_P, 0.5, TIDE_OP_GT, 0, 0},
    {"count>100", TIDE_AGG_COUNT, 0, TIDE_OP_GT, 100, 0},
    {"count > 1e3", TIDE_AGG_COUNT, 0, TIDE_OP_GT, 1000, 0},
    {"rate<0.01", TIDE_AGG_RATE, 0, TIDE_OP_LT, 0.01, 0},
    {"rate<.01", TIDE_AGG_RATE, 0, TIDE_OP_LT, 0.01, 0},
    {"value!=0", TIDE_AGG_VALUE, 0, TIDE_OP_NE, 0, 0},
    {"value>-5", TIDE_AGG_VALUE, 0, TIDE_OP_GT, -5, 0},
    {"passes>=10", TIDE_AGG_PASSES, 0, TIDE_OP_GE, 10, 0},
    {"fails==0", TIDE_AGG_FAILS, 0, TIDE_OP_EQ, 0, 0},
    {"avg===3", TIDE_AGG_AVG, 0, TIDE_OP_EQ, 3, 0},
    {"rate>500 over 30s", TIDE_AGG_RATE, 0, TIDE_OP_GT, 500, 30000000},
    {"p(95)<300 over 1m30s ", TIDE_AGG_P, 95, TIDE_OP_LT, 300, 90000000},
    {"\tavg\t<\t2\tover\t500ms", TIDE_AGG_AVG, 0, TIDE_OP_LT, 2, 500000},
};

static void test_threshold_parses_valid_expressions(void)
{
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        struct tide_threshold t;
        struct tide_err err = {{0}};
        struct fenced f = fence(valid[i].expr);
        int rc = tide_threshold_parse(key, f.str, &t, &err);
        CHECK(rc == 0);
        if (rc != 0) {
            fprintf(stderr, "  %s\n", err.msg);
            unfence(&f);
            continue;
        }
        CHECK(t.agg == valid[i].agg);
        CHECK(t.agg_arg == valid[i].arg);
        CHECK(t.op == valid[i].op);
        CHECK(t.value == valid[i].value);
        CHECK(t.window_us == valid[i].window_us);
        CHECK(!t.abort_on_fail);
        CHECK(t.delay_abort_eval_us == 0);
        CHECK_STR(t.key.metric, key);
        CHECK(t.expr_text[0] != ' ' && t.expr_text[strlen(t.expr_text) - 1] != ' ');
        tide_threshold_fini(&t);
        tide_threshold_fini(&t); /* idempotent */
        unfence(&f);
    }
}

#define AGGS "(use avg, min, max, med, p(N), count, rate, value, passes or fails)"

static const struct {
    const char *expr;
    const char *msg; /* after 'threshold "EXPR" on http_req_duration: ' */
} invalid[] = {
    {"p(95)<<300", "expected a number at column 7"},
    {"", "expected an aggregation at column 1 " AGGS},
    {"   ", "expected an aggregation at column 4 " AGGS},
    {"<300", "expected an aggregation at column 1 " AGGS},
    {"p95<300", "unknown aggregation \"p95\" at column 1 " AGGS},
    {"AVG<1", "unknown aggregation \"AVG\" at column 1 " AGGS},
    {" mean < 1", "unknown aggregation \"mean\" at column 2 " AGGS},
    {"p<1", "expected '(' after 'p' at column 2 (e.g. p(95))"},
    {"p()<1", "expected a percentile at column 3 (e.g. p(95))"},
    {"p(0)<1", "percentile 0 at column 3 is not in (0, 100]"},
    {"p(101)<1", "percentile 101 at column 3 is not in (0, 100]"},
    {"p(-5)<1", "percentile -5 at column 3 is not in (0, 100]"},
    {"p(95<1", "expected ')' at column 5"},
    {"p(95", "expected ')' at column 5"},
    {"avg 300", "expected an operator (<, <=, >, >=, == or !=) at column 5"},
    {"avg=300", "expected an operator (<, <=, >, >=, == or !=) at column 4"},
    {"avg", "expected an operator (<, <=, >, >=, == or !=) at column 4"},
    {"avg<", "expected a number at column 5"},
    {"avg< abc", "expected a number at column 6"},
    {"avg<inf", "expected a number at column 5"},
    {"avg<0x10", "unexpected \"x10\" at column 6"},
    {"avg<300ms", "unexpected \"ms\" at column 8"},
    {"avg<1 2", "unexpected \"2\" at column 7"},
    {"avg<300 over", "expected a duration after 'over' at column 13 (e.g. over 30s)"},
    {"avg<300 over 5x",
     "bad window at column 14: duration \"5x\": unknown unit 'x' (use ms, s, m or h, e.g. "
     "1h30m)"},
    {"avg<300 over 0s", "window at column 14 must be longer than 0"},
    {"avg<300 over 30s x", "unexpected \"x\" at column 18"},
    {"avg<300 overall", "unexpected \"overall\" at column 9"},
};

static void test_threshold_rejects_invalid_expressions(void)
{
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        struct tide_threshold t;
        struct tide_err err = {{0}};
        char want[512];
        snprintf(want, sizeof want, "threshold \"%s\" on %s: %s", invalid[i].expr, key,
                 invalid[i].msg);
        struct fenced f = fence(invalid[i].expr);
        CHECK(tide_threshold_parse(key, f.str, &t, &err) == -1);
        CHECK_STR(err.msg, want);
        CHECK(t.expr_text == NULL && t.key.metric == NULL);
        tide_threshold_fini(&t);
        unfence(&f);
    }
}

/* Every prefix of a long valid expression parses or fails with a message; none over-reads. */
static void test_threshold_survives_every_truncation(void)
{
    const char *full = "p(99.9) <= 1.5e2 over 1m30s";
    char buf[64];
    for (size_t n = 0; n <= strlen(full); n++) {
        snprintf(buf, sizeof buf, "%.*s", (int)n, full);
        struct fenced f = fence(buf);
        struct tide_threshold t;
        struct tide_err err = {{0}};
        int rc = tide_threshold_parse(key, f.str, &t, &err);
        CHECK(rc == 0 || err.msg[0] != '\0');
        tide_threshold_fini(&t);
        unfence(&f);
    }
    const char *fullkey = "m{ name : \"a,b\" , url:~^/x{1,2}$,status:!200}";
    for (size_t n = 0; n <= strlen(fullkey); n++) {
        snprintf(buf, sizeof buf, "%.*s", (int)n, fullkey);
        struct fenced f = fence(buf);
        struct tide_metric_key k;
        struct tide_err err = {{0}};
        int rc = tide_metric_key_parse(f.str, &k, &err);
        CHECK(rc == 0 || err.msg[0] != '\0');
        CHECK(rc == 0 || k.metric == NULL);
        tide_metric_key_fini(&k);
        unfence(&f);
    }
}

static void test_metric_key_parses_tags(void)
{
    struct tide_metric_key k;
    struct tide_err err = {{0}};
    CHECK(tide_metric_key_parse(" http_req_duration ", &k, &err) == 0);
    CHECK_STR(k.metric, "http_req_duration");
    CHECK_STR(k.text, "http_req_duration");
    CHECK(k.ntags == 0);
    tide_metric_key_fini(&k);

    CHECK(tide_metric_key_parse("m{ name : login , method:GET,status:!500}", &k, &err) == 0);
    CHECK(k.ntags == 3);
    if (k.ntags == 3) {
        CHECK_STR(k.tags[0].key, "name");
        CHECK_STR(k.tags[0].value, "login");
        CHECK(k.tags[0].op == TIDE_TAG_EQ);
        CHECK_STR(k.tags[1].key, "method");
        CHECK_STR(k.tags[1].value, "GET");
        CHECK_STR(k.tags[2].key, "status");
        CHECK_STR(k.tags[2].value, "500");
        CHECK(k.tags[2].op == TIDE_TAG_NE);
    }
    tide_metric_key_fini(&k);

    CHECK(tide_metric_key_parse("m{group:::login}", &k, &err) == 0);
    CHECK(k.ntags == 1 && strcmp(k.tags[0].value, "::login") == 0);
    tide_metric_key_fini(&k);

    CHECK(tide_metric_key_parse("m{name:/api/projects/{id},method:GET}", &k, &err) == 0);
    CHECK(k.ntags == 2 && strcmp(k.tags[0].value, "/api/projects/{id}") == 0);
    tide_metric_key_fini(&k);

    CHECK(tide_metric_key_parse("m{name:\"a, \\\"b}\",x:\"!y\"}", &k, &err) == 0);
    CHECK(k.ntags == 2 && strcmp(k.tags[0].value, "a, \"b}") == 0);
    CHECK(k.ntags == 2 && k.tags[1].op == TIDE_TAG_EQ && strcmp(k.tags[1].value, "!y") == 0);
    tide_metric_key_fini(&k);

    CHECK(tide_metric_key_parse("m{url:~^/x{1,3}(a|b)$,method:GET}", &k, &err) == 0);
    CHECK(k.ntags == 2 && k.tags[0].op == TIDE_TAG_RE);
    CHECK(k.ntags == 2 && strcmp(k.tags[0].value, "^/x{1,3}(a|b)$") == 0);
    tide_metric_key_fini(&k);

    CHECK(tide_metric_key_parse("m{group:}", &k, &err) == 0);
    CHECK(k.ntags == 1 && k.tags[0].value[0] == '\0');
    tide_metric_key_fini(&k);
}

static const struct {
    const char *key;
    const char *msg;
} bad_keys[] = {
    {"", "metric key \"\": expected a metric name at column 1"},
    {"{a:b}", "metric key \"{a:b}\": expected a metric name at column 1"},
    {"m x", "metric key \"m x\": unexpected \"x\" at column 3"},
    {"m}", "metric key \"m}\": unexpected \"}\" at column 2"},
    {"m{", "metric key \"m{\": expected a tag name at column 3"},
    {"m{}", "metric key \"m{}\": expected a tag name at column 3"},
    {"m{a:b", "metric key \"m{a:b\": missing '}' at column 6"},
    {"m{a}", "metric key \"m{a}\": expected ':' after tag name at column 4"},
    {"m{:b}", "metric key \"m{:b}\": expected a tag name at column 3"},
    {"m{a:b,}", "metric key \"m{a:b,}\": expected a tag name at column 7"},
    {"m{a:b}x", "metric key \"m{a:b}x\": unexpected \"x\" after '}' at column 7"},
    {"m{a:b}}", "metric key \"m{a:b}}\": unexpected \"}\" after '}' at column 7"},
    {"m{a:\"x}", "metric key \"m{a:\"x}\": unterminated quoted value at column 5"},
    {"m{a:\"x\"y}", "metric key \"m{a:\"x\"y}\": expected ',' or '}' at column 8"},
    {"m{a:~}", "metric key \"m{a:~}\": empty regex at column 6"},
    /* found by tests/fuzz (fuzz_threshold): compiling it took gigabytes */
    {"m{a:~x++++++++++++++++++++++++++++++++++++++++}",
     "metric key \"m{a:~x++++++++++++++++++++++++++++++++++++++++}\": regex at column 6 is too "
     "complex (nested or stacked repetitions)"},
};

static void test_metric_key_rejects_bad_keys(void)
{
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        struct tide_metric_key k;
        struct tide_err err = {{0}};
        CHECK(tide_metric_key_parse(bad_keys[i].key, &k, &err) == -1);
        CHECK_STR(err.msg, bad_keys[i].msg);
        CHECK(k.metric == NULL && k.tags == NULL);
    }
    struct tide_metric_key k;
    struct tide_err err = {{0}};
    CHECK(tide_metric_key_parse("m{a:~x{2,1}}", &k, &err) == -1);
    const char *want = "metric key \"m{a:~x{2,1}}\": bad regex \"x{2,1}\" at column 6: ";
    CHECK(strncmp(err.msg, want, strlen(want)) == 0);

    struct tide_threshold t;
    CHECK(tide_threshold_parse("m{a", "avg<1", &t, &err) == -1);
    CHECK_STR(err.msg, "metric key \"m{a\": expected ':' after tag name at column 4");
}

static bool matches(const char *text)
{
    static const char *const keys[] = {"name", "method", "status", "group"};
    static const char *const values[] = {"login", "GET", "200", ""};
    struct tide_metric_key k;
    struct tide_err err = {{0}};
    if (tide_metric_key_parse(text, &k, &err) != 0) {
        fprintf(stderr, "  %s\n", err.msg);
        return false;
    }
    bool ok = tide_metric_key_matches(&k, keys, values, 4);
    tide_metric_key_fini(&k);
    return ok;
}

static void test_metric_key_matches_tags(void)
{
    CHECK(matches("m"));
    CHECK(matches("m{name:login}"));
    CHECK(!matches("m{name:logout}"));
    CHECK(!matches("m{name:Login}"));
    CHECK(matches("m{status:!500}"));
    CHECK(!matches("m{status:!200}"));
    CHECK(matches("m{tenant:!a}"));
    CHECK(!matches("m{tenant:a}"));
    CHECK(!matches("m{tenant:~.*}"));
    CHECK(matches("m{name:~^log}"));
    CHECK(matches("m{name:~gi}"));
    CHECK(!matches("m{name:~^gin}"));
    CHECK(matches("m{status:~^2[0-9]{2}$}"));
    CHECK(!matches("m{status:~^4}"));
    CHECK(matches("m{group:}"));
    CHECK(matches("m{name:login,method:GET,status:!500}"));
    CHECK(!matches("m{name:login,method:POST}"));
}

/* --threshold 'KEY: EXPR' as options.c reads it: split, then parsed. */
static int parse_cli(const char *arg, struct tide_threshold *t, struct tide_err *err)
{
    const char *expr;
    size_t keylen;
    memset(t, 0, sizeof *t);
    if (tide_threshold_split_cli(arg, &keylen, &expr, err) != 0)
        return -1;
    char keybuf[512];
    snprintf(keybuf, sizeof keybuf, "%.*s", (int)keylen, arg);
    return tide_threshold_parse(keybuf, expr, t, err);
}

static void test_threshold_parses_cli_form(void)
{
    struct tide_threshold t;
    struct tide_err err = {{0}};
    CHECK(parse_cli("http_req_duration: p(95)<300", &t, &err) == 0);
    CHECK_STR(t.key.text, "http_req_duration");
    CHECK_STR(t.expr_text, "p(95)<300");
    CHECK(t.agg == TIDE_AGG_P && t.agg_arg == 95 && t.value == 300);
    tide_threshold_fini(&t);

    CHECK(parse_cli("http_req_duration{name:x}:p(99)<=1", &t, &err) == 0);
    CHECK_STR(t.key.text, "http_req_duration{name:x}");
    CHECK(t.key.ntags == 1);
    tide_threshold_fini(&t);

    CHECK(parse_cli("checks{group:::login}: rate>0.99", &t, &err) == 0);
    CHECK(t.key.ntags == 1 && strcmp(t.key.tags[0].value, "::login") == 0);
    tide_threshold_fini(&t);

    /* a ':' inside a quoted tag value does not split either */
    CHECK(parse_cli("m{name:\"a:b\"}:\tcount>1", &t, &err) == 0);
    CHECK(t.key.ntags == 1 && strcmp(t.key.tags[0].value, "a:b") == 0);
    CHECK_STR(t.expr_text, "count>1");
    tide_threshold_fini(&t);

    const char *expr = NULL;
    size_t keylen = 0;
    CHECK(tide_threshold_split_cli("a{b:c}:  d", &keylen, &expr, &err) == 0);
    CHECK(keylen == 6 && strcmp(expr, "d") == 0);

    CHECK(parse_cli("http_req_duration p(95)<300", &t, &err) == -1);
    CHECK_STR(err.msg, "--threshold \"http_req_duration p(95)<300\": expected 'METRIC: "
                       "EXPRESSION', e.g. 'http_req_duration: p(95)<300'");
    CHECK(parse_cli("m: p(95)<<3", &t, &err) == -1);
    CHECK_STR(err.msg, "threshold \"p(95)<<3\" on m: expected a number at column 7");
}

static struct tide_threshold parsed(const char *expr)
{
    struct tide_threshold t;
    struct tide_err err = {{0}};
    if (tide_threshold_parse("m", expr, &t, &err) != 0)
        fprintf(stderr, "  %s\n", err.msg);
    return t;
}

static double observe(const char *expr, const struct tide_agg *a)
{
    struct tide_threshold t = parsed(expr);
    struct tide_err err = {{0}};
    CHECK(tide_threshold_check_type(&t, a->type, &err) == 0);
    double v = tide_threshold_observe(&t, a);
    tide_threshold_fini(&t);
    return v;
}

static bool holds(const char *expr, const struct tide_agg *a)
{
    struct tide_threshold t = parsed(expr);
    struct tide_err err = {{0}};
    double observed;
    bool ok = false;
    CHECK(tide_threshold_eval(&t, a, &observed, &ok, &err) == 0);
    tide_threshold_fini(&t);
    return ok;
}

static void test_threshold_evaluates_trend(void)
{
    struct tide_hdr *h = tide_hdr_new();
    struct tide_agg a = {.type = TIDE_TREND, .hdr = h, .seconds = 10};
    for (int ms = 1; ms <= 100; ms++) {
        tide_hdr_record(h, ms * 1000);
        a.count++;
        a.sum += ms;
    }
    a.min = 1;
    a.max = 100;
    CHECK_NEAR(observe("avg<1", &a), 50.5, 1e-9);
    CHECK_NEAR(observe("min<1", &a), 1, 1e-9);
    CHECK_NEAR(observe("max<1", &a), 100, 1e-9);
    CHECK_NEAR(observe("med<1", &a), 50, 0.05);
    CHECK_NEAR(observe("p(95)<1", &a), 95, 0.095);
    CHECK_NEAR(observe("p(99.9)<1", &a), 100, 0.1);
    CHECK_NEAR(observe("count<1", &a), 100, 0);
    CHECK(holds("p(95)<300", &a));
    CHECK(!holds("p(95)<90", &a));
    CHECK(holds("avg<=50.5", &a));
    CHECK(!holds("avg<50.5", &a));
    CHECK(holds("count==100", &a));
    CHECK(holds("max>=100", &a));
    CHECK(!holds("max>100", &a));
    CHECK(holds("min!=2", &a));

    struct tide_agg none = {.type = TIDE_TREND, .hdr = NULL, .count = 4, .sum = 10, .max = 7};
    CHECK_NEAR(observe("avg<1", &none), 2.5, 1e-12);
    CHECK_NEAR(observe("max<1", &none), 7, 0);
    CHECK(isnan(observe("p(95)<1", &none)));
    tide_hdr_free(h);
}

static void test_threshold_evaluates_counter_rate_gauge(void)
{
    struct tide_agg c = {.type = TIDE_COUNTER, .count = 1000, .sum = 1200, .seconds = 30};
    CHECK_NEAR(observe("count>1", &c), 1200, 0);
    CHECK_NEAR(observe("rate>1", &c), 40, 1e-12);
    CHECK(holds("rate>39.9", &c));
    CHECK(!holds("rate>500", &c));

    struct tide_agg r = {.type = TIDE_RATE, .count = 100, .nonzero = 3, .sum = 3};
    CHECK_NEAR(observe("rate<1", &r), 0.03, 1e-12);
    CHECK_NEAR(observe("passes<1", &r), 3, 0);
    CHECK_NEAR(observe("fails<1", &r), 97, 0);
    CHECK_NEAR(observe("count<1", &r), 100, 0);
    CHECK(holds("rate<0.05", &r));
    CHECK(!holds("rate<0.01", &r));
    CHECK(holds("fails>=97", &r));

    struct tide_agg g = {.type = TIDE_GAUGE, .count = 5, .last = 10, .min = 0, .max = 12};
    CHECK_NEAR(observe("value<1", &g), 10, 0);
    CHECK_NEAR(observe("min<1", &g), 0, 0);
    CHECK_NEAR(observe("max<1", &g), 12, 0);
    CHECK(holds("value==10", &g));
    CHECK(holds("max<=12", &g));
    CHECK(!holds("min>0", &g));
}

static void test_threshold_on_empty_data(void)
{
    struct tide_hdr *h = tide_hdr_new();
    struct tide_agg trend = {.type = TIDE_TREND, .hdr = h, .seconds = 10};
    CHECK(isnan(observe("p(95)<1", &trend)));
    CHECK(isnan(observe("avg<1", &trend)));
    CHECK(holds("p(95)<1", &trend));
    CHECK(holds("max>1000", &trend));
    CHECK(observe("count>0", &trend) == 0);
    CHECK(!holds("count>0", &trend));

    struct tide_agg counter = {.type = TIDE_COUNTER, .seconds = 10};
    CHECK(observe("rate>500", &counter) == 0);
    CHECK(!holds("rate>500", &counter));
    CHECK(!holds("count>=100", &counter));
    struct tide_agg unmeasured = {.type = TIDE_COUNTER, .seconds = 0};
    CHECK(isnan(observe("rate>500", &unmeasured)));

    struct tide_agg rate = {.type = TIDE_RATE};
    CHECK(isnan(observe("rate<0.01", &rate)));
    CHECK(holds("rate>0.99", &rate));
    CHECK(observe("passes>0", &rate) == 0);
    CHECK(!holds("passes>0", &rate));

    struct tide_agg gauge = {.type = TIDE_GAUGE};
    CHECK(isnan(observe("value>0", &gauge)));
    CHECK(holds("value>0", &gauge));
    tide_hdr_free(h);
}

static void test_threshold_rejects_aggregation_of_wrong_type(void)
{
    static const struct {
        const char *expr;
        enum tide_metric_type type;
        const char *msg;
    } cases[] = {
        {"rate<0.01", TIDE_TREND,
         "threshold \"rate<0.01\" on m: 'rate' does not apply to a trend metric (use avg, min, "
         "max, med, p(N) or count)"},
        {"p(99.9)<1", TIDE_COUNTER,
         "threshold \"p(99.9)<1\" on m: 'p(99.9)' does not apply to a counter metric (use count "
         "or rate)"},
        {"avg<1", TIDE_RATE,
         "threshold \"avg<1\" on m: 'avg' does not apply to a rate metric (use rate, passes, "
         "fails or count)"},
        {"count<1", TIDE_GAUGE,
         "threshold \"count<1\" on m: 'count' does not apply to a gauge metric (use value, min "
         "or max)"},
        {"value<1", TIDE_TREND,
         "threshold \"value<1\" on m: 'value' does not apply to a trend metric (use avg, min, "
         "max, med, p(N) or count)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tide_threshold t = parsed(cases[i].expr);
        struct tide_err err = {{0}};
        CHECK(tide_threshold_check_type(&t, cases[i].type, &err) == -1);
        CHECK_STR(err.msg, cases[i].msg);
        struct tide_agg a = {.type = cases[i].type, .count = 1, .sum = 1, .nonzero = 1};
        CHECK(isnan(tide_threshold_observe(&t, &a)));
        double observed = 0;
        bool ok = true;
        struct tide_err err2 = {{0}};
        CHECK(tide_threshold_eval(&t, &a, &observed, &ok, &err2) == -1);
        CHECK_STR(err2.msg, cases[i].msg);
        tide_threshold_fini(&t);
    }
}

static void test_threshold_operators_and_names(void)
{
    struct tide_threshold t = parsed("p(99.9)<=5");
    char name[32];
    tide_threshold_agg_name(&t, name, sizeof name);
    CHECK_STR(name, "p(99.9)");
    CHECK(t.op == TIDE_OP_LE);
    CHECK(tide_threshold_holds(&t, 5));
    CHECK(!tide_threshold_holds(&t, 5.0001));
    CHECK(tide_threshold_holds(&t, (double)NAN));
    tide_threshold_fini(&t);

    static const struct {
        const char *expr;
        double observed;
        bool ok;
    } cases[] = {
        {"avg<5", 4.9, true}, {"avg<5", 5, false},    {"avg<=5", 5, true},   {"avg<=5", 5.1, false},
        {"avg>5", 5.1, true}, {"avg>5", 5, false},    {"avg>=5", 5, true},   {"avg>=5", 4.9, false},
        {"avg==5", 5, true},  {"avg==5", 5.1, false}, {"avg!=5", 5.1, true}, {"avg!=5", 5, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t = parsed(cases[i].expr);
        CHECK(tide_threshold_holds(&t, cases[i].observed) == cases[i].ok);
        tide_threshold_fini(&t);
    }
    t = parsed("count>1");
    tide_threshold_agg_name(&t, name, sizeof name);
    CHECK_STR(name, "count");
    CHECK(t.op == TIDE_OP_GT);
    tide_threshold_fini(&t);
}

int main(void)
{
    test_threshold_parses_valid_expressions();
    test_threshold_rejects_invalid_expressions();
    test_threshold_survives_every_truncation();
    test_metric_key_parses_tags();
    test_metric_key_rejects_bad_keys();
    test_metric_key_matches_tags();
    test_threshold_parses_cli_form();
    test_threshold_evaluates_trend();
    test_threshold_evaluates_counter_rate_gauge();
    test_threshold_on_empty_data();
    test_threshold_rejects_aggregation_of_wrong_type();
    test_threshold_operators_and_names();
    return CHECK_DONE();
}
