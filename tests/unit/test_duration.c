/* Unit tests of duration parsing and formatting. */
#include "../check.h"
#include "duration.h"

static int64_t parse_ok(const char *s)
{
    int64_t us = -1;
    struct tide_err err = {{0}};
    int rc = tide_duration_parse(s, &us, &err);
    CHECK(rc == 0);
    if (rc != 0)
        fprintf(stderr, "  %s: %s\n", s, err.msg);
    return us;
}

static void test_duration_accepts_units(void)
{
    CHECK(parse_ok("500ms") == 500000);
    CHECK(parse_ok("30s") == 30000000);
    CHECK(parse_ok("5m") == 300000000);
    CHECK(parse_ok("1h30m") == 5400000000LL);
    CHECK(parse_ok("1.5s") == 1500000);
    CHECK(parse_ok("10") == 10000000);
    CHECK(parse_ok("250us") == 250);
    CHECK(parse_ok("1m30s500ms") == 90500000);
}

static void test_duration_rejects_bad_input(void)
{
    const char *bad[] = {"", "5x", "abc", "s", "10 s", "-5s", "1h30", "5m5", NULL};
    for (int i = 0; bad[i] != NULL; i++) {
        int64_t us;
        struct tide_err err = {{0}};
        CHECK(tide_duration_parse(bad[i], &us, &err) == -1);
        CHECK(err.msg[0] != '\0');
    }
    struct tide_err err = {{0}};
    int64_t us;
    tide_duration_parse("5x", &us, &err);
    CHECK_STR(err.msg, "duration \"5x\": unknown unit 'x' (use ms, s, m or h, e.g. 1h30m)");
}

int main(void)
{
    test_duration_accepts_units();
    test_duration_rejects_bad_input();
    return CHECK_DONE();
}
