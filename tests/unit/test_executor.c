/* Unit tests of core/executor.c's arithmetic: tide_share (how a total of VUs, iterations or
 * arrivals is split over the workers) and tide_ramp_target (the VUs a ramping-vus scenario wants
 * at a given time, at and around its stage boundaries). */
#include <stdint.h>
#include "../check.h"
#include "executor.h"

#define S 1000000 /* one second in µs */

/* Every (total, n): the shares add up to the total, differ by at most one, and the larger ones
 * come first (so that worker 0 is never idle while another one works). */
static void test_share_is_an_exact_split(void)
{
    static const int64_t big[] = {1000003, 1LL << 40, (1LL << 40) + 7};
    int bad = 0;
    for (int n = 1; n <= 17; n++) {
        for (int64_t total = 0; total <= 300 + 3; total++) {
            int64_t t = total <= 300 ? total : big[total - 301];
            int64_t sum = 0, lo = t / n, prev = INT64_MAX;
            for (int w = 0; w < n; w++) {
                int64_t x = tide_share(t, w, n);
                sum += x;
                bad += x < lo || x > lo + 1 || x > prev;
                prev = x;
            }
            bad += sum != t;
            if (sum != t)
                fprintf(stderr, "  tide_share(%lld over %d) adds up to %lld\n", (long long)t, n,
                        (long long)sum);
        }
    }
    CHECK(bad == 0);
}

static void test_share_examples(void)
{
    CHECK(tide_share(7, 0, 1) == 7);
    CHECK(tide_share(10, 0, 3) == 4 && tide_share(10, 1, 3) == 3 && tide_share(10, 2, 3) == 3);
    CHECK(tide_share(2, 0, 4) == 1 && tide_share(2, 1, 4) == 1 && tide_share(2, 2, 4) == 0 &&
          tide_share(2, 3, 4) == 0);
    CHECK(tide_share(0, 1, 2) == 0);
}

static struct tide_scenario ramp(int start, struct tide_stage *st, int n)
{
    struct tide_scenario s = {0};
    s.executor = TIDE_EXEC_RAMPING_VUS;
    s.start_vus = start;
    s.stages = st;
    s.nstages = n;
    return s;
}

/* 0 -> 10 over 2 s, hold 10 for 2 s, 10 -> 0 over 1 s. */
static void test_ramp_at_stage_boundaries(void)
{
    struct tide_stage st[] = {{2 * S, 10}, {2 * S, 10}, {1 * S, 0}};
    struct tide_scenario s = ramp(0, st, 3);
    CHECK_NEAR(tide_ramp_target(&s, 0), 0, 1e-9);
    CHECK_NEAR(tide_ramp_target(&s, S / 2), 2.5, 1e-9);
    CHECK_NEAR(tide_ramp_target(&s, S), 5, 1e-9);
    CHECK_NEAR(tide_ramp_target(&s, 2 * S - 1), 10, 1e-5);
    CHECK_NEAR(tide_ramp_target(&s, 2 * S), 10, 1e-9); /* the boundary: the next stage's start */
    CHECK_NEAR(tide_ramp_target(&s, 3 * S), 10, 1e-9);
    CHECK_NEAR(tide_ramp_target(&s, 4 * S), 10, 1e-9);
    CHECK_NEAR(tide_ramp_target(&s, 4 * S + S / 2), 5, 1e-9);
    CHECK_NEAR(tide_ramp_target(&s, 5 * S - 1), 0, 1e-4);
    CHECK_NEAR(tide_ramp_target(&s, 5 * S), 0, 1e-9); /* the end: the last target */
    CHECK_NEAR(tide_ramp_target(&s, 60 * S), 0, 1e-9);
}

/* Continuous everywhere: one microsecond never moves the target by more than a stage's slope. */
static void test_ramp_is_continuous(void)
{
    struct tide_stage st[] = {{3 * S, 30}, {S, 5}, {2 * S, 5}, {S, 12}};
    struct tide_scenario s = ramp(4, st, 4);
    double prev = tide_ramp_target(&s, 0), worst = 0;
    for (int64_t t = 1; t <= 8 * S; t += 997) {
        double v = tide_ramp_target(&s, t), d = v > prev ? v - prev : prev - v;
        worst = d > worst ? d : worst;
        prev = v;
    }
    CHECK(worst < 0.03); /* the steepest stage: 25 VUs per second, 997 µs steps */
    CHECK_NEAR(tide_ramp_target(&s, 0), 4, 1e-9);
    CHECK_NEAR(tide_ramp_target(&s, 3 * S), 30, 1e-9);
    CHECK_NEAR(tide_ramp_target(&s, 4 * S), 5, 1e-9);
    CHECK_NEAR(tide_ramp_target(&s, 7 * S), 12, 1e-9);
}

/* A zero-length stage is a jump to its target; no stages: the start value. */
static void test_ramp_zero_length_and_empty(void)
{
    struct tide_stage st[] = {{0, 7}, {S, 7}, {0, 2}};
    struct tide_scenario s = ramp(1, st, 3);
    CHECK_NEAR(tide_ramp_target(&s, 0), 7, 1e-9);
    CHECK_NEAR(tide_ramp_target(&s, S / 2), 7, 1e-9);
    CHECK_NEAR(tide_ramp_target(&s, S), 2, 1e-9);
    struct tide_scenario none = ramp(3, NULL, 0);
    CHECK_NEAR(tide_ramp_target(&none, 0), 3, 1e-9);
    CHECK_NEAR(tide_ramp_target(&none, 10 * S), 3, 1e-9);
}

int main(void)
{
    test_share_is_an_exact_split();
    test_share_examples();
    test_ramp_at_stage_boundaries();
    test_ramp_is_continuous();
    test_ramp_zero_length_and_empty();
    return CHECK_DONE();
}
