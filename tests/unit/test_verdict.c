/* Unit tests of the run's verdict (verdict.c): status and exit code from the outcome, in
 * DESIGN.md's order: interrupted, then aborted, then failed. */
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

int main(void)
{
    test_passed();
    test_failed();
    test_order();
    return CHECK_DONE();
}
