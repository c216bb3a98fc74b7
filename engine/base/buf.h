/* buf.h: the growable byte buffer every layer uses (requests and responses, rendered reports,
 * the target's output). Zero-initialize; 'data' stays NUL-terminated once anything was
 * appended (so text can be read in place), and is the owner's to release. A failed
 * allocation is remembered in 'failed': the writing functions below then do nothing, so a
 * writer checks once, at the end. */
#ifndef TIDE_BUF_H
#define TIDE_BUF_H
#include <stdbool.h>
#include <stddef.h>

struct tide_buf {
    char *data; /* NULL until the first append */
    size_t len, cap;
    bool failed; /* an allocation failed: the content is incomplete */
};

/* Appends n bytes (n == 0 still allocates, so 'data' is ""). 0, or -1 when out of memory
 * (then 'b' keeps its content and 'failed' is set). */
int tide_buf_append(struct tide_buf *b, const void *p, size_t n);
/* Room for 'more' bytes and a NUL after them, for writing in place at data + len. False when
 * out of memory, or after an earlier failure. */
bool tide_buf_reserve(struct tide_buf *b, size_t more);
/* Writing that remembers failure: nothing happens once 'failed' is set. */
void tide_buf_add(struct tide_buf *b, const void *p, size_t n);
void tide_buf_puts(struct tide_buf *b, const char *s);
void tide_buf_printf(struct tide_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tide_buf_free(struct tide_buf *b); /* releases 'data' and zeroes 'b' */

#endif
