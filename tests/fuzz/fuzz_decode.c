/* fuzz_decode: the Content-Encoding decoder of both transports (engine/core/decode.c), which
 * inflates whatever a server sends. Input: one byte choosing the Content-Encoding (gzip,
 * deflate, "deflate, gzip", x-gzip, "gzip, gzip", or the input's own lines up to a NUL), then
 * the body. The body is fed whole, in two pieces and in 3-byte pieces (each piece a copy of
 * exactly its size, so ASan sees a read past it), with a sink that stops after 1 MiB, as
 * max_body does: the three must agree on the result and on the bytes decoded. The head also
 * goes through the Accept-Encoding reader. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LIMIT ((size_t)1 << 20)

struct seen {
    size_t bytes;
    uint64_t sum; /* of the first LIMIT bytes */
};

static int sink(void *ud, const char *p, size_t n)
{
    struct seen *s = ud;
    for (size_t i = 0; i < n && s->bytes + i < LIMIT; i++)
        s->sum = s->sum * 31 + (unsigned char)p[i];
    s->bytes += n;
    return s->bytes >= LIMIT ? TIDE_DECODE_STOP : TIDE_DECODE_OK;
}

struct run {
    int rc;
    struct seen seen;
};

static struct run feed(const char *head, size_t head_len, const uint8_t *body, size_t n,
                       size_t step)
{
    struct run r = {0};
    struct tide_decoder *d = NULL;
    if (tide_decoder_new(&d, head, head_len) != 0 || d == NULL) {
        r.rc = 99; /* nothing to decode */
        return r;
    }
    for (size_t at = 0; at < n && r.rc == TIDE_DECODE_OK; at += step) {
        size_t k = at + step > n ? n - at : step;
        char *copy = malloc(k);
        if (copy == NULL)
            abort();
        memcpy(copy, body + at, k);
        r.rc = tide_decoder_feed(d, copy, k, sink, &r.seen);
        free(copy);
    }
    if (r.rc == TIDE_DECODE_OK)
        r.rc = tide_decoder_end(d);
    if (r.rc == TIDE_DECODE_BAD && strncmp(tide_decoder_error(d), "bad ", 4) != 0)
        abort();
    tide_decoder_free(d);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const heads[] = {
        "Content-Encoding: gzip\r\n",          "Content-Encoding: deflate\r\n",
        "Content-Encoding: deflate, gzip\r\n", "Content-Encoding: x-gzip\r\n",
        "Content-Encoding: gzip, gzip\r\n",
    };
    size_t nheads = sizeof heads / sizeof heads[0];
    if (size < 1)
        return 0;
    const char *head = heads[data[0] % (nheads + 1) % nheads];
    size_t head_len = strlen(head);
    const uint8_t *body = data + 1;
    size_t n = size - 1;
    const uint8_t *nul = data[0] % (nheads + 1) == nheads ? memchr(body, 0, n) : NULL;
    if (nul != NULL) { /* the head is the input's own, up to a NUL */
        head = (const char *)body;
        head_len = (size_t)(nul - body);
        body = nul + 1;
        n -= head_len + 1;
    }
    (void)tide_decode_asked(head, head_len);
    if (n == 0)
        return 0;
    struct run whole = feed(head, head_len, body, n, n);
    struct run halves = feed(head, head_len, body, n, n / 2 + 1);
    struct run small = feed(head, head_len, body, n, 3);
    if (whole.rc != halves.rc || whole.rc != small.rc)
        abort();
    if (whole.rc == TIDE_DECODE_OK &&
        (whole.seen.bytes != halves.seen.bytes || whole.seen.bytes != small.seen.bytes))
        abort();
    if (whole.rc != TIDE_DECODE_BAD &&
        (whole.seen.sum != halves.seen.sum || whole.seen.sum != small.seen.sum))
        abort();
    return 0;
}
