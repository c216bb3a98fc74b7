/* Unit tests of the "did you mean" suggestions. */
#include "../check.h"
#include "suggest.h"

int main(void)
{
    static const char *const opts[] = {"body", "expect", "form",    "headers", "json",
                                       "name", "query",  "timeout", NULL};
    CHECK(tide_suggest_distance("hedaers", "headers") == 1); /* a swap is one edit */
    CHECK(tide_suggest_distance("", "abc") == 3);
    CHECK(tide_suggest_distance("same", "same") == 0);
    CHECK_STR(tide_suggest("hedaers", opts), "headers");
    CHECK_STR(tide_suggest("timout", opts), "timeout");
    CHECK_STR(tide_suggest("jsn", opts), "json");
    CHECK(tide_suggest("completely-else", opts) == NULL);
    static const char *const flags[] = {"--duration", "--vus", "--rate", NULL};
    CHECK_STR(tide_suggest("--durtion", flags), "--duration");
    static const char *const cmds[] = {"run", "verify", "report", NULL};
    CHECK_STR(tide_suggest("verfy", cmds), "verify");
    return CHECK_DONE();
}
