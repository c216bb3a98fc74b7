/* Unit tests of the run's verdict (verdict.c): status and exit code from the outcome, in
 * DESIGN.md's order: interrupted, then aborted, then failed; and the default checks: which
 * apply, what they observe, the one line that says why. */
#include <math.h>
#include <string.h>
#include "../check.h"
#include "run.h"
#include "verdict.h"

static int verdict(struct tide_outcome o, const char **status)
{
    return tide_verdict(&o, status);
}

static void test_passed(void)
{
    const char *st = NULL;
    CHECK(verdict((struct tide_outcome){.thresholds_ok = true}, &st) == TIDE_EXIT_OK);
    CHECK_STR(st, "passed");
}

static void test_failed(void)
{
    const char *st = NULL;
    CHECK(verdict((struct tide_outcome){.thresholds_ok = false}, &st) == TIDE_EXIT_THRESHOLDS);
    CHECK_STR(st, "failed");
    CHECK(verdict((struct tide_outcome){.thresholds_ok = true, .verify_failed = true}, &st) ==
          TIDE_EXIT_THRESHOLDS);
    CHECK(verdict((struct tide_outcome){.thresholds_ok = true, .saturated_fails = true}, &st) ==
          TIDE_EXIT_THRESHOLDS);
    /* an abort_on_fail threshold: exit 99, status "aborted" */
    CHECK(verdict((struct tide_outcome){.thresholds_ok = false, .threshold_abort = true}, &st) ==
          TIDE_EXIT_THRESHOLDS);
    CHECK_STR(st, "aborted");
}

static void test_order(void)
{
    const char *st = NULL;
    CHECK(verdict((struct tide_outcome){.interrupted = true, .aborted = true}, &st) ==
          TIDE_EXIT_INTERRUPTED);
    CHECK_STR(st, "interrupted");
    CHECK(verdict((struct tide_outcome){.aborted = true, .thresholds_ok = false}, &st) ==
          TIDE_EXIT_ABORTED);
    CHECK_STR(st, "aborted");
}

static void test_defaults_fail_the_run(void)
{
    const char *st = NULL;
    struct tide_outcome o = {.thresholds_ok = true, .defaults_failed = true, .defaults_exit = 99};
    CHECK(verdict(o, &st) == TIDE_EXIT_THRESHOLDS);
    CHECK_STR(st, "failed");
    /* Locust's code, also when verify failed too; interrupted and aborted still win */
    o.defaults_exit = 3;
    CHECK(verdict(o, &st) == 3);
    o.verify_failed = true;
    CHECK(verdict(o, &st) == 3);
    CHECK_STR(st, "failed");
    o.aborted = true;
    CHECK(verdict(o, &st) == TIDE_EXIT_ABORTED);
    o.interrupted = true;
    CHECK(verdict(o, &st) == TIDE_EXIT_INTERRUPTED);
    /* --exit-code-on-error 0: the run failed, the code is the user's */
    CHECK(verdict((struct tide_outcome){.thresholds_ok = true, .defaults_failed = true}, &st) == 0);
    CHECK_STR(st, "failed");
}

static struct tide_default_check *find(struct tide_default_check *d, const char *metric)
{
    for (int i = 0; i < TIDE_DEFAULT_COUNT; i++) {
        if (strcmp(d[i].metric, metric) == 0)
            return &d[i];
    }
    return NULL;
}

static bool judge(enum tide_verdict_rule rule, const struct tide_run_counts *c, char *why,
                  struct tide_default_check *d)
{
    tide_defaults_init(d, rule, NULL, 0);
    return tide_defaults_judge(d, rule, c, why, 300);
}

static void test_no_request_succeeded(void)
{
    struct tide_default_check d[TIDE_DEFAULT_COUNT];
    char why[300];
    struct tide_run_counts c = {
        .reqs = 57070, .failed = 57070, .iterations = 57070, .top_error = "connection refused"};
    CHECK(!judge(TIDE_RULE_DEFAULTS, &c, why, d));
    CHECK_STR(why, "no request succeeded (57070 of 57070 failed: connection refused)");
    struct tide_default_check *r = find(d, "http_req_failed");
    CHECK(r != NULL && !r->ok && r->observed == 1);
    CHECK_STR(r->expression, "rate<0.1");
    CHECK(find(d, "iterations")->ok && find(d, "iterations")->observed == 57070);
    CHECK(find(d, "tide_script_errors")->ok && find(d, "tide_script_errors")->observed == 0);
}

static void test_error_rate_limit(void)
{
    struct tide_default_check d[TIDE_DEFAULT_COUNT];
    char why[300];
    /* 9.9 %: passes; 10 %: fails, with the share and the limit */
    struct tide_run_counts c = {.reqs = 1000, .failed = 99, .iterations = 1000};
    CHECK(judge(TIDE_RULE_DEFAULTS, &c, why, d));
    CHECK_STR(why, "");
    c.failed = 100;
    c.top_error = "HTTP 503";
    CHECK(!judge(TIDE_RULE_DEFAULTS, &c, why, d));
    CHECK(strncmp(why, "100 of 1000 requests failed (10.0%, above the default limit of 10%", 66) ==
          0);
    CHECK(strstr(why, "): HTTP 503") != NULL);
    /* a run without any request is not judged on requests */
    c = (struct tide_run_counts){.iterations = 5};
    CHECK(judge(TIDE_RULE_DEFAULTS, &c, why, d));
    CHECK(isnan(find(d, "http_req_failed")->observed));
}

static void test_script_errors(void)
{
    struct tide_default_check d[TIDE_DEFAULT_COUNT];
    char why[300];
    struct tide_run_counts c = {
        .iterations = 12, .script_errors = 12, .top_script_error = "x.lua:3: boom"};
    CHECK(!judge(TIDE_RULE_DEFAULTS, &c, why, d));
    CHECK_STR(why, "every iteration raised an error (12 of 12: x.lua:3: boom)");
    CHECK(find(d, "tide_script_errors")->observed == 1);
    c.script_errors = 5;
    c.iterations = 20;
    CHECK(!judge(TIDE_RULE_DEFAULTS, &c, why, d));
    CHECK(strncmp(why, "5 script errors in 20 iterations (25.0%", 39) == 0);
    c.script_errors = 1;
    CHECK(judge(TIDE_RULE_DEFAULTS, &c, why, d)); /* 5 % */
    /* raised before any iteration ended (vu_setup): no iteration, and the errors */
    c = (struct tide_run_counts){.script_errors = 2};
    CHECK(!judge(TIDE_RULE_DEFAULTS, &c, why, d));
    CHECK_STR(why, "no iteration completed");
    CHECK(!find(d, "tide_script_errors")->ok);
}

static void test_user_threshold_replaces_default(void)
{
    struct tide_default_check d[TIDE_DEFAULT_COUNT];
    const char *user[] = {"http_req_duration", "http_req_failed"};
    tide_defaults_init(d, TIDE_RULE_DEFAULTS, user, 2);
    CHECK(!find(d, "http_req_failed")->active);
    CHECK(find(d, "iterations")->active && find(d, "tide_script_errors")->active);
    char why[300];
    struct tide_run_counts c = {.reqs = 10, .failed = 10, .iterations = 10};
    CHECK(tide_defaults_judge(d, TIDE_RULE_DEFAULTS, &c, why, sizeof why));
    /* --no-default-thresholds: none applies, nothing is judged */
    tide_defaults_init(d, TIDE_RULE_NONE, NULL, 0);
    for (int i = 0; i < TIDE_DEFAULT_COUNT; i++)
        CHECK(!d[i].active);
    c.iterations = 0;
    CHECK(tide_defaults_judge(d, TIDE_RULE_NONE, &c, why, sizeof why));
}

static void test_locust_rule(void)
{
    struct tide_default_check d[TIDE_DEFAULT_COUNT];
    char why[300];
    /* one failed request in a thousand: fine for tide's default, not for Locust's rule */
    struct tide_run_counts c = {
        .reqs = 1000, .failed = 1, .iterations = 1000, .top_error = "HTTP 500"};
    CHECK(judge(TIDE_RULE_DEFAULTS, &c, why, d));
    CHECK(!judge(TIDE_RULE_LOCUST, &c, why, d));
    CHECK_STR(why,
              "1 of 1000 requests failed (Locust's rule: any failure fails the run): HTTP 500");
    CHECK_STR(find(d, "http_req_failed")->expression, "rate==0");
    c.failed = 0;
    c.script_errors = 1;
    CHECK(!judge(TIDE_RULE_LOCUST, &c, why, d));
    CHECK_STR(why, "1 script error");
    CHECK_STR(find(d, "tide_script_errors")->expression, "count==0");
    c.script_errors = 0;
    CHECK(judge(TIDE_RULE_LOCUST, &c, why, d));
}

/* several fail: the most telling reason first (no iteration, then requests) */
static void test_reason_order(void)
{
    struct tide_default_check d[TIDE_DEFAULT_COUNT];
    char why[300];
    struct tide_run_counts c = {.reqs = 4, .failed = 4, .script_errors = 4};
    CHECK(!judge(TIDE_RULE_DEFAULTS, &c, why, d));
    CHECK_STR(why, "no iteration completed");
    c.iterations = 4;
    CHECK(!judge(TIDE_RULE_DEFAULTS, &c, why, d));
    CHECK(strncmp(why, "no request succeeded", 20) == 0);
    /* a long error is cut, the line stays one line of bounded length */
    char longmsg[1000];
    memset(longmsg, 'e', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    c.top_error = longmsg;
    CHECK(!judge(TIDE_RULE_DEFAULTS, &c, why, d));
    CHECK(strlen(why) < 250 && strstr(why, "…)") != NULL);
}

int main(void)
{
    test_passed();
    test_failed();
    test_order();
    test_defaults_fail_the_run();
    test_no_request_succeeded();
    test_error_rate_limit();
    test_script_errors();
    test_user_threshold_replaces_default();
    test_locust_rule();
    test_reason_order();
    return CHECK_DONE();
}
