/* Unit tests of tide_vu_error_group: script-error messages are grouped with ids folded (numbers
 * of 4 digits or more, hexadecimal ids, UUIDs), the "chunk:line:" location kept as is. */
#include <string.h>
#include "../check.h"
#include "vu.h"

static const char *group(const char *msg, char *buf, size_t n)
{
    tide_vu_error_group(msg, buf, n);
    return buf;
}

int main(void)
{
    char b[300];
    CHECK_STR(group("s.lua:12345: user 98765 not found", b, sizeof b),
              "s.lua:12345: user N not found");
    CHECK_STR(group("order 550e8400-e29b-41d4-a716-446655440000 failed", b, sizeof b),
              "order X failed");
    CHECK_STR(group("token deadbeef42 rejected", b, sizeof b), "token X rejected");
    CHECK_STR(group("item u12345 gone", b, sizeof b), "item uN gone");
    /* small numbers, words of hex letters without digits, and statuses stay */
    CHECK_STR(group("out of memory (Lua memory cap 64 MiB per VU)", b, sizeof b),
              "out of memory (Lua memory cap 64 MiB per VU)");
    CHECK_STR(group("status 404 from /a/b", b, sizeof b), "status 404 from /a/b");
    CHECK_STR(group("deadbeefcafe exploded", b, sizeof b), "deadbeefcafe exploded");
    CHECK_STR(group("tide.fail: business rule broken", b, sizeof b),
              "tide.fail: business rule broken");
    /* two messages that differ only by the id share a group */
    char a2[300];
    CHECK_STR(group("x.lua:3: id 1000001 missing", b, sizeof b),
              group("x.lua:3: id 2000002 missing", a2, sizeof a2));
    /* a small buffer is cut, never overrun */
    CHECK(strlen(group("0123456789 abcdefghijklmnop", b, 8)) < 8);
    return CHECK_DONE();
}
