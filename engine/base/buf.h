/* buf.h: a growable byte buffer. Zero-initialize; 'data' stays NUL-terminated once anything
 * was appended (so text can be read in place), and is the owner's to release. */
#ifndef TIDE_BUF_H
#define TIDE_BUF_H
#include <stddef.h>

struct tide_buf {
    char *data; /* NULL until the first append */
    size_t len, cap;
};

/* Appends n bytes (n == 0 still allocates, so 'data' is ""). 0, or -1 when out of memory
 * (then 'b' is unchanged). */
int tide_buf_append(struct tide_buf *b, const void *p, size_t n);
void tide_buf_free(struct tide_buf *b); /* releases 'data' and zeroes 'b' */

#endif
