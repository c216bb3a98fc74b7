/* Unit tests of core/segment.c, the arithmetic of a test split into N segments (--segment
 * I/N): for N = 1..7 and awkward totals (7 VUs, 1000 iterations, 7 arrivals per 2 s, ramps of
 * VUs and of arrival rates) the N shares add up exactly to the whole and never differ by more
 * than one; arrivals are interleaved (any run of consecutive arrivals is shared evenly), each
 * segment's arrival times are the whole test's; VU ids in the test are unique; data slices
 * cover a list exactly once; the command line's I/N and Kubernetes' 0-based index parse. */
#include <stdint.h>
#include <stdlib.h>
#include "../check.h"
#include "executor.h"
#include "segment.h"

#define S 1000000 /* one second in µs */

static struct tide_segment seg(int i, int n)
{
    return (struct tide_segment){i, n};
}

/* The N shares of 'total': exact sum, spread at most one. */
static int bad_split(int64_t total, int n)
{
    int64_t sum = 0, lo = INT64_MAX, hi = INT64_MIN;
    for (int i = 0; i < n; i++) {
        int64_t x = tide_segment_share(seg(i, n), total);
        sum += x;
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    if (sum != total || hi - lo > 1) {
        fprintf(stderr, "  %lld over %d: sum %lld, shares %lld..%lld\n", (long long)total, n,
                (long long)sum, (long long)lo, (long long)hi);
        return 1;
    }
    return 0;
}

static void test_totals_split_exactly(void)
{
    static const int64_t totals[] = {0, 1, 2, 6, 7, 10, 99, 1000, 1001, 65537, 1LL << 40};
    int bad = 0;
    for (int n = 1; n <= 7; n++) {
        for (size_t k = 0; k < sizeof totals / sizeof totals[0]; k++)
            bad += bad_split(totals[k], n);
    }
    CHECK(bad == 0);
    /* 7 VUs over 3: 3, 2, 2; 1000 iterations over 7: six of 143, one of 142 */
    CHECK(tide_segment_share(seg(0, 3), 7) == 3 && tide_segment_share(seg(2, 3), 7) == 2);
    CHECK(tide_segment_share(seg(5, 7), 1000) == 143 && tide_segment_share(seg(6, 7), 1000) == 142);
}

/* The same split applied to the workers of each segment still adds up (segment first, then
 * worker: how executor.c splits). */
static void test_segments_then_workers(void)
{
    int bad = 0;
    for (int n = 1; n <= 7; n++) {
        for (int w = 1; w <= 4; w++) {
            int64_t sum = 0;
            for (int i = 0; i < n; i++) {
                int64_t mine = tide_segment_share(seg(i, n), 1000);
                for (int k = 0; k < w; k++)
                    sum += tide_share(mine, k, w);
            }
            bad += sum != 1000;
        }
    }
    CHECK(bad == 0);
}

static struct tide_scenario rate_scenario(double rate, int64_t unit, int64_t duration)
{
    struct tide_scenario s = {0};
    s.executor = TIDE_EXEC_CONSTANT_ARRIVAL_RATE;
    s.rate = rate;
    s.time_unit_us = unit;
    s.duration_us = duration;
    return s;
}

/* Arrivals of the whole test due before 'end' µs. */
static int64_t whole_arrivals(const struct tide_scenario *sc, int64_t end)
{
    int64_t k = 0;
    while (tide_arrival_due(sc, k) < end)
        k++;
    return k;
}

/* Segment i's arrivals due before 'end': its j-th is the whole test's arrival i + j*n. */
static int64_t segment_arrivals(const struct tide_scenario *sc, struct tide_segment g, int64_t end)
{
    int64_t j = 0;
    while (tide_arrival_due(sc, tide_segment_arrival(g, j)) < end)
        j++;
    return j;
}

/* For every end time: the segments' arrivals add up to the whole's and differ by at most
 * one; every arrival index belongs to exactly one segment. */
static int bad_arrivals(const struct tide_scenario *sc, int64_t duration, int n)
{
    int bad = 0;
    for (int64_t end = S / 10; end <= duration; end += S / 10) {
        int64_t whole = whole_arrivals(sc, end), sum = 0, lo = INT64_MAX, hi = 0;
        for (int i = 0; i < n; i++) {
            int64_t x = segment_arrivals(sc, seg(i, n), end);
            sum += x;
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
        if (sum != whole || hi - lo > 1) {
            fprintf(stderr, "  n=%d end=%lld µs: whole %lld, segments %lld (%lld..%lld)\n", n,
                    (long long)end, (long long)whole, (long long)sum, (long long)lo, (long long)hi);
            bad++;
        }
    }
    int *seen = calloc(1000, sizeof *seen);
    for (int i = 0; i < n; i++) {
        for (int64_t j = 0; tide_segment_arrival(seg(i, n), j) < 1000; j++)
            seen[tide_segment_arrival(seg(i, n), j)]++;
    }
    for (int k = 0; k < 1000; k++)
        bad += seen[k] != 1;
    free(seen);
    return bad;
}

static void test_rate_7_per_2s_interleaved(void)
{
    struct tide_scenario sc = rate_scenario(7, 2 * S, 10 * S);
    int bad = 0;
    for (int n = 1; n <= 7; n++)
        bad += bad_arrivals(&sc, 10 * S, n);
    CHECK(bad == 0);
    CHECK(whole_arrivals(&sc, 10 * S) == 35);
}

static void test_ramping_rate(void)
{
    struct tide_stage st[] = {{3 * S, 7}, {2 * S, 7}, {3 * S, 1}};
    struct tide_scenario sc = {0};
    sc.executor = TIDE_EXEC_RAMPING_ARRIVAL_RATE;
    sc.start_rate = 0;
    sc.time_unit_us = 2 * S;
    sc.stages = st;
    sc.nstages = 3;
    int bad = 0;
    for (int n = 1; n <= 7; n++)
        bad += bad_arrivals(&sc, 8 * S, n);
    CHECK(bad == 0);
}

/* Ramping VUs: at every instant, the segments' VUs add up to the whole's target. */
static void test_ramping_vus(void)
{
    struct tide_stage st[] = {{7 * S, 7}, {3 * S, 7}, {5 * S, 0}};
    struct tide_scenario sc = {0};
    sc.executor = TIDE_EXEC_RAMPING_VUS;
    sc.stages = st;
    sc.nstages = 3;
    int bad = 0;
    for (int n = 1; n <= 7; n++) {
        for (int64_t t = 0; t <= 15 * S; t += S / 20) {
            int64_t whole = (int64_t)(tide_ramp_target(&sc, t) + 1e-9);
            bad += bad_split(whole, n);
        }
    }
    CHECK(bad == 0);
}

static void test_vu_ids_unique(void)
{
    char seen[7 * 50 + 1] = {0};
    int bad = 0;
    for (int i = 0; i < 7; i++) {
        for (int64_t v = 1; v <= 50; v++) {
            int64_t id = tide_segment_vu_id(seg(i, 7), v);
            if (id < 1 || id > 7 * 50 || seen[id]++)
                bad++;
        }
    }
    CHECK(bad == 0);
    CHECK(tide_segment_vu_id(TIDE_SEGMENT_WHOLE, 5) == 5);
    CHECK(tide_segment_vu_id(seg(1, 3), 1) == 2);
}

static void test_slices_cover_once(void)
{
    int bad = 0;
    for (int n = 1; n <= 7; n++) {
        for (int64_t len = 0; len <= 30; len++) {
            int64_t next = 0;
            for (int i = 0; i < n; i++) {
                int64_t first, k;
                tide_segment_slice(seg(i, n), len, &first, &k);
                bad += first != next;
                next = first + k;
            }
            bad += next != len;
        }
    }
    CHECK(bad == 0);
}

static void test_parse(void)
{
    struct tide_segment g;
    struct tide_err err;
    CHECK(tide_segment_parse("2/3", &g, &err) == 0 && g.index == 1 && g.count == 3);
    CHECK(tide_segment_parse("1/1", &g, &err) == 0 && g.index == 0 && g.count == 1);
    CHECK(tide_segment_parse("0/3", &g, &err) != 0);
    CHECK(tide_segment_parse("4/3", &g, &err) != 0);
    CHECK(tide_segment_parse("1/0", &g, &err) != 0);
    CHECK(tide_segment_parse("2/3x", &g, &err) != 0);
    CHECK(tide_segment_parse("-1/3", &g, &err) != 0);
    CHECK(tide_segment_parse("", &g, &err) != 0);
    CHECK(tide_segment_from_index("0", 3, &g, &err) == 0 && g.index == 0 && g.count == 3);
    CHECK(tide_segment_from_index("2", 3, &g, &err) == 0 && g.index == 2);
    CHECK(tide_segment_from_index("3", 3, &g, &err) != 0);
    CHECK(tide_segment_from_index("x", 3, &g, &err) != 0);
}

int main(void)
{
    test_totals_split_exactly();
    test_segments_then_workers();
    test_rate_7_per_2s_interleaved();
    test_ramping_rate();
    test_ramping_vus();
    test_vu_ids_unique();
    test_slices_cover_once();
    test_parse();
    return CHECK_DONE();
}
