/* fuzz_http1_request: the request side of the shared HTTP/1.1 parser (engine/base/http1_parse.c),
 * which `tide target` feeds whatever a client sends. The first input byte chooses the limits
 * (bit 0: a 256-byte head, bit 1: a 64-byte body) and where to split the rest; the requests
 * are fed whole, in two pieces, and one byte at a time (each piece a copy of exactly its size,
 * so ASan sees a read past it), and the three must agree on everything: request line, header
 * fields, body, where each request ends, keep-alive, the error and its text. Pipelined
 * requests are read one after another until the input or a request is used up. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_http1_feed.h"
#include "http1_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 16

struct run {
    int rc;
    size_t used;
    uint64_t body_bytes, body_sum, head_sum;
    bool keep_alive, chunked, expect;
    int64_t content_length;
    const char *error;
};

static int on_body(void *ud, const char *p, size_t n)
{
    struct run *r = ud;
    r->body_bytes += n;
    for (size_t i = 0; i < n; i++)
        r->body_sum = r->body_sum * 31 + (unsigned char)p[i];
    return 0;
}

static uint64_t span_sum(uint64_t h, const uint8_t *msg, size_t len, struct tide_http1_span s)
{
    if ((size_t)s.off + s.len > len)
        abort(); /* a span past what the message fed */
    for (size_t i = 0; i < s.len; i++)
        h = h * 31 + msg[s.off + i];
    return h * 7 + s.len;
}

/* One request at data[0..size) fed in pieces of 'step' bytes. */
static struct run feed(const uint8_t *data, size_t size, uint8_t flags, size_t step)
{
    struct tide_http1_field fields[MAX_FIELDS];
    struct run r = {.rc = TIDE_HTTP1_MORE};
    struct tide_http1_parser p = {.request = true,
                                  .max_head = (flags & 1) ? 256 : 0,
                                  .max_body = (flags & 2) ? 64 : 0,
                                  .fields = fields,
                                  .max_fields = MAX_FIELDS,
                                  .ud = &r,
                                  .on_body = on_body};
    tide_http1_parser_reset(&p);
    r.rc = fuzz_http1_feed(&p, data, size, step, &r.used);
    if (r.rc < 0 && p.error == NULL)
        abort(); /* every refusal says why */
    if (r.body_bytes != p.body_bytes || p.n_fields > MAX_FIELDS)
        abort();
    if (r.rc == TIDE_HTTP1_DONE) {
        if (p.head_len == 0 || p.head_len > r.used || p.head_len + p.body_bytes > r.used)
            abort();
        r.head_sum = span_sum(r.head_sum, data, r.used, p.method);
        r.head_sum = span_sum(r.head_sum, data, r.used, p.target);
        for (size_t k = 0; k < p.n_fields; k++) {
            r.head_sum = span_sum(r.head_sum, data, r.used, fields[k].name);
            r.head_sum = span_sum(r.head_sum, data, r.used, fields[k].value);
        }
        r.head_sum = r.head_sum * 31 + (uint64_t)p.minor;
    }
    r.keep_alive = p.keep_alive;
    r.chunked = p.chunked;
    r.expect = p.expect_continue;
    r.content_length = p.content_length;
    r.error = r.rc < 0 ? p.error : NULL;
    tide_http1_parser_fini(&p);
    return r;
}

static void same(const struct run *a, const struct run *b)
{
    if (a->rc != b->rc || (a->rc >= 0 && a->used != b->used) || a->body_bytes != b->body_bytes ||
        a->body_sum != b->body_sum || a->head_sum != b->head_sum ||
        a->keep_alive != b->keep_alive || a->chunked != b->chunked || a->expect != b->expect ||
        a->content_length != b->content_length || (a->error == NULL) != (b->error == NULL) ||
        (a->error != NULL && strcmp(a->error, b->error) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    uint8_t flags = data[0] & 3;
    size_t split = data[0] >> 2;
    data++;
    size--;
    while (size > 0) {
        struct run whole = feed(data, size, flags, size);
        struct run two = feed(data, size, flags, split ? split : 1);
        struct run bytes = feed(data, size, flags, 1);
        same(&whole, &two);
        same(&whole, &bytes);
        if (whole.rc != TIDE_HTTP1_DONE || whole.used == 0)
            break;
        data += whole.used; /* the next pipelined request */
        size -= whole.used;
    }
    return 0;
}
