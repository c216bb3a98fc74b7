/* fuzz_cookiejar: Set-Cookie values into a cookie jar (engine/core/cookiejar.c), then the Cookie
 * header, listing and deletion for the same URL. Input: `URL\0SET-COOKIE\nSET-COOKIE...`; each
 * line is one header value, some stored at a later time so expiry runs too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cookiejar.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void visit(const struct tide_cookie *c, void *ud)
{
    size_t *total = ud;
    *total += strlen(c->name) + strlen(c->value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size);
    const char *url = s;
    const char *lines = fuzz_second(s, size);
    const char *end = (const char *)s + size;
    struct tide_cookiejar *j = tide_cookiejar_new();
    int64_t now = 1700000000;
    for (const char *p = lines; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        tide_cookiejar_store(j, url, p, n, now);
        free(tide_cookie_parse(url, p, n, now));
        now += n % 7 == 0 ? 3600 : 0;
        p += n + 1;
    }
    struct tide_buf h = {0};
    int m = tide_cookiejar_header(j, url, &h, now);
    for (size_t i = 0; i < h.len; i++)
        if (h.data[i] == '\r' || h.data[i] == '\n' || h.data[i] == '\0')
            abort(); /* would split or end the Cookie header line */
    size_t total = 0;
    if (tide_cookiejar_each(j, url, now, visit, &total) != m)
        abort(); /* the listing and the header disagree */
    tide_cookiejar_each(j, NULL, now, visit, &total);
    tide_cookiejar_delete(j, url, "a", now);
    tide_cookiejar_delete(j, url, NULL, now);
    if (tide_cookiejar_count(j) > TIDE_COOKIE_MAX_PER_JAR)
        abort();
    tide_buf_free(&h);
    tide_cookiejar_free(j);
    free(s);
    return 0;
}
