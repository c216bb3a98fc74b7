/* test_regex_cost: the compiled-size estimate that keeps regcomp from exploding on stacked or
 * nested repetitions (engine/base/regex_cost.h), and its use by the privacy rules. */
#include <stdbool.h>
#include "../check.h"
#include "privacy.h"
#include "regex_cost.h"

static bool accepted(const char *pattern)
{
    return tide_regex_cost(pattern) <= TIDE_REGEX_MAX_COST;
}

static void test_ordinary_patterns_are_cheap(void)
{
    static const char *const ok[] = {
        "5..",
        "^/api/(users|projects)/[0-9]+$",
        "[[:alpha:]]{2,8}",
        "a{1000}",
        "(ab|cd)*ef",
        "x\\{2\\}+",
        "[]+]+",
        "(((a)))",
        "a{2,}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        "",
        "((",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK(accepted(ok[i]));
    CHECK(tide_regex_cost("abc") >= 3);
    CHECK(tide_regex_cost("a{50}") >= 50);
}

static void test_multiplying_repetitions_are_refused(void)
{
    static const char *const bombs[] = {
        "a++++++++++++++++++++++++++++++++++++++++", /* the fuzzer's find, reduced */
        "((a{99}){99}){99}",
        "(((((((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+",
        "a{1000}{1000}",
        "(x|y{32767}){32767}",
        "A]]]]]]++++++*++++++++k++++]]]]++]", /* the fuzzer's second find: 75 MB, 1 s */
        "(a|b*){3000}",                       /* 280 MB, 1 s: optional pieces cost squared */
    };
    for (size_t i = 0; i < sizeof bombs / sizeof bombs[0]; i++)
        CHECK(!accepted(bombs[i]));
}

static void test_privacy_rule_refuses_a_bomb(void)
{
    struct tide_err err = {{0}};
    CHECK(tide_privacy_add_rule(TIDE_PRIVACY_DROP, "(a{99}){99}{99}", &err) == -1);
    CHECK_STR(err.msg, "options.privacy: pattern '(a{99}){99}{99}' is too complex (nested or "
                       "stacked repetitions)");
    CHECK(tide_privacy_add_rule(TIDE_PRIVACY_DROP, "order-[0-9]{6}", &err) == 0);
    tide_privacy_reset();
}

int main(void)
{
    test_ordinary_patterns_are_cheap();
    test_multiplying_repetitions_are_refused();
    test_privacy_rule_refuses_a_bomb();
    return CHECK_DONE();
}
