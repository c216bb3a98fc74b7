/* Unit tests of the growable byte buffer. */
#include <stdlib.h>
#include "../check.h"
#include "buf.h"

static void test_buf_grows_and_stays_terminated(void)
{
    struct tide_buf b = {0};
    CHECK(b.data == NULL);
    CHECK(tide_buf_append(&b, "ab", 2) == 0);
    CHECK(b.len == 2 && b.cap >= 3);
    CHECK_STR(b.data, "ab");
    char big[1000];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 5; i++)
        CHECK(tide_buf_append(&b, big, sizeof big) == 0);
    CHECK(b.len == 5002 && b.cap > b.len);
    CHECK(b.data[0] == 'a' && b.data[2] == 'x' && b.data[5001] == 'x' && b.data[5002] == '\0');
    tide_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
}

static void test_buf_empty_append_allocates(void)
{
    struct tide_buf b = {0};
    CHECK(tide_buf_append(&b, NULL, 0) == 0);
    CHECK(b.data != NULL && b.len == 0);
    CHECK_STR(b.data, "");
    tide_buf_free(&b);
}

static void test_buf_binary_and_reuse(void)
{
    struct tide_buf b = {0};
    CHECK(tide_buf_append(&b, "a\0b", 3) == 0);
    CHECK(b.len == 3 && memcmp(b.data, "a\0b", 4) == 0);
    size_t cap = b.cap;
    b.len = 0; /* reused: no new allocation */
    CHECK(tide_buf_append(&b, "cd", 2) == 0);
    CHECK(b.cap == cap);
    CHECK_STR(b.data, "cd");
    tide_buf_free(&b);
    tide_buf_free(&b); /* twice is fine */
}

int main(void)
{
    test_buf_grows_and_stays_terminated();
    test_buf_empty_append_allocates();
    test_buf_binary_and_reuse();
    return CHECK_DONE();
}
