/* utf8.c: UTF-8 validation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "utf8.h"

size_t tide_utf8_seq(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xbf; /* the second byte's range, narrower after some leads */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0; /* overlong */
    else if (c == 0xed)
        hi = 0x9f; /* surrogates */
    else if (c == 0xf0)
        lo = 0x90; /* overlong */
    else if (c == 0xf4)
        hi = 0x8f; /* beyond U+10FFFF */
    if (n < len || u[1] < lo || u[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++) { /* in order: stops at the first non-continuation */
        if (u[i] < 0x80 || u[i] > 0xbf)
            return 0;
    }
    return len;
}

size_t tide_utf8_char(const char *s)
{
    return tide_utf8_seq(s, SIZE_MAX);
}

long tide_utf8_count(const char *s, size_t n)
{
    long count = 0;
    for (size_t i = 0; i < n; count++) {
        size_t k = tide_utf8_seq(s + i, n - i);
        if (k == 0)
            return -1;
        i += k;
    }
    return count;
}

bool tide_utf8_valid(const char *s)
{
    for (size_t i = 0; s[i] != '\0';) {
        size_t k = tide_utf8_char(s + i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

char *tide_utf8_repair(const char *s)
{
    static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1); /* at worst every byte becomes three */
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = tide_utf8_seq(s + i, n - i);
        if (k == 0) {
            memcpy(out + o, replacement, 3);
            o += 3;
            i++;
            continue;
        }
        memcpy(out + o, s + i, k);
        o += k;
        i += k;
    }
    out[o] = '\0';
    return out;
}
