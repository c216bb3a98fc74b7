/* fuzz_http1_feed.h: feeds the HTTP/1.1 parser (engine/base/http1_parse.h) a message in pieces of
 * 'step' bytes, each a copy of exactly its size so ASan sees a read past it, until the parser
 * stops asking for more; shared by fuzz_http1 (responses) and fuzz_http1_request. */
#ifndef TIDE_FUZZ_HTTP1_FEED_H
#define TIDE_FUZZ_HTTP1_FEED_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "http1_parse.h"

/* The last result; '*used': the bytes of 'data' that belonged to the message. */
static inline int fuzz_http1_feed(struct tide_http1_parser *p, const uint8_t *data, size_t size,
                                  size_t step, size_t *used)
{
    int rc = TIDE_HTTP1_MORE;
    size_t at = 0;
    *used = 0;
    while (at < size && rc == TIDE_HTTP1_MORE) {
        size_t n = size - at < step ? size - at : step;
        char *piece = malloc(n);
        if (piece == NULL)
            abort();
        memcpy(piece, data + at, n);
        size_t took = 0;
        rc = tide_http1_feed(p, piece, n, &took);
        free(piece);
        if (took > n)
            abort(); /* never more than it was given */
        *used = at + took;
        at += n;
    }
    return rc;
}

#endif
