/* buf.c: growable byte buffer (doubling, NUL kept after the bytes). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"

static bool grow(struct tide_buf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return true;
    /* small first: a VU holds ~8 buffers (URL, name, request head, headers...) for its whole
     * life, most far below 256 bytes (bench/memory.sh: 2 KB a keep-alive VU at 256) */
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *grown = realloc(b->data, cap);
    if (grown == NULL) {
        b->failed = true;
        return false;
    }
    b->data = grown;
    b->cap = cap;
    return true;
}

int tide_buf_append(struct tide_buf *b, const void *p, size_t n)
{
    if (!grow(b, n))
        return -1;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

bool tide_buf_reserve(struct tide_buf *b, size_t more)
{
    return !b->failed && grow(b, more);
}

void tide_buf_add(struct tide_buf *b, const void *p, size_t n)
{
    if (!b->failed)
        tide_buf_append(b, p, n);
}

void tide_buf_puts(struct tide_buf *b, const char *s)
{
    tide_buf_add(b, s, strlen(s));
}

void tide_buf_printf(struct tide_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !tide_buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void tide_buf_free(struct tide_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
