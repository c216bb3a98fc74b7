/* Unit tests of UTF-8 validation (base/utf8.c), the one check the JSON, XML and HTML writers
 * and the target's length limits share. */
#include <stdlib.h>
#include <string.h>
#include "../check.h"
#include "utf8.h"

static void test_utf8_sequences(void)
{
    CHECK(tide_utf8_seq("a", 1) == 1);
    CHECK(tide_utf8_seq("\xc3\xa9", 2) == 2);         /* é */
    CHECK(tide_utf8_seq("\xe2\x82\xac", 3) == 3);     /* € */
    CHECK(tide_utf8_seq("\xf0\x9f\x98\x80", 4) == 4); /* 😀 */
    CHECK(tide_utf8_seq("\xf4\x8f\xbf\xbf", 4) == 4); /* U+10FFFF */
    CHECK(tide_utf8_seq("\xc3\xa9", 1) == 0);         /* cut */
    CHECK(tide_utf8_seq("\xe2\x82", 2) == 0);
    CHECK(tide_utf8_seq("\xc0\xaf", 2) == 0);         /* overlong '/' */
    CHECK(tide_utf8_seq("\xe0\x80\xaf", 3) == 0);     /* overlong */
    CHECK(tide_utf8_seq("\xf0\x80\x80\xaf", 4) == 0); /* overlong */
    CHECK(tide_utf8_seq("\xed\xa0\x80", 3) == 0);     /* surrogate */
    CHECK(tide_utf8_seq("\xf4\x90\x80\x80", 4) == 0); /* beyond U+10FFFF */
    CHECK(tide_utf8_seq("\xf5\x80\x80\x80", 4) == 0);
    CHECK(tide_utf8_seq("\x80", 1) == 0); /* a lone continuation */
    CHECK(tide_utf8_seq("\xe2\x28\xa1", 3) == 0);
}

static void test_utf8_nul_terminated(void)
{
    CHECK(tide_utf8_char("\xe2\x82\xac!") == 3);
    CHECK(tide_utf8_char("\xe2\x82") == 0); /* the NUL ends it: invalid, nothing read past */
    CHECK(tide_utf8_char("\xc3") == 0);
    CHECK(tide_utf8_char("") == 1);
}

static void test_utf8_count(void)
{
    const char *s = "h\xc3\xa9llo \xe2\x82\xac";
    CHECK(tide_utf8_count(s, strlen(s)) == 7);
    CHECK(tide_utf8_count("", 0) == 0);
    CHECK(tide_utf8_count(s, 2) == -1); /* cut inside é */
    CHECK(tide_utf8_count("ab\xff", 3) == -1);
}

static void test_utf8_repair(void)
{
    CHECK(tide_utf8_valid("h\xc3\xa9llo"));
    CHECK(tide_utf8_valid(""));
    CHECK(!tide_utf8_valid("a\xff"));
    CHECK(!tide_utf8_valid("\xed\xa0\x80")); /* a surrogate */
    CHECK(!tide_utf8_valid("cut \xc3"));
    char *r = tide_utf8_repair("a\xff\xfe b\xc3\xa9 \xed\xa0\x80 \xc3");
    CHECK_STR(r, "a\xef\xbf\xbd\xef\xbf\xbd b\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
                 "\xef\xbf\xbd");
    CHECK(r != NULL && tide_utf8_valid(r));
    free(r);
    r = tide_utf8_repair("fine \xe2\x82\xac");
    CHECK_STR(r, "fine \xe2\x82\xac");
    free(r);
}

int main(void)
{
    test_utf8_sequences();
    test_utf8_nul_terminated();
    test_utf8_count();
    test_utf8_repair();
    return CHECK_DONE();
}
