/* buf.c: growable byte buffer (doubling, NUL kept after the bytes). */
#include <stdlib.h>
#include <string.h>
#include "buf.h"

int tide_buf_append(struct tide_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (grown == NULL)
            return -1;
        b->data = grown;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void tide_buf_free(struct tide_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
