/* fuzz_http1: the HTTP/1.1 response parser of tide's own client (engine/base/http1_parse.c), which
 * reads whatever a server sends. The first input byte says whether the request was a HEAD and
 * where to split the rest; the response is fed whole, then in two pieces, then one byte at a
 * time (each piece a copy of exactly its size, so ASan sees a read past it), and the three
 * must agree on everything: framing cannot depend on how the bytes arrived. The request
 * serializer gets the same bytes as header lines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_http1_feed.h"
#include "http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    uint64_t head_bytes, body_bytes, head_sum, body_sum;
};

static int on_head(void *ud, const char *line, size_t n)
{
    struct seen *s = ud;
    s->head_bytes += n;
    for (size_t i = 0; i < n; i++)
        s->head_sum = s->head_sum * 31 + (unsigned char)line[i];
    return 0;
}

static int on_body(void *ud, const char *p, size_t n)
{
    struct seen *s = ud;
    s->body_bytes += n;
    for (size_t i = 0; i < n; i++)
        s->body_sum = s->body_sum * 31 + (unsigned char)p[i];
    return 0;
}

struct run {
    int rc;
    size_t used;
    struct seen seen;
    long status;
    bool keep_alive;
};

static struct run feed(const uint8_t *data, size_t size, bool head, size_t step)
{
    struct run r = {.rc = TIDE_HTTP1_MORE};
    struct tide_http1_parser p = {0};
    tide_http1_parser_reset(&p);
    p.head_request = head;
    p.ud = &r.seen;
    p.on_head_line = on_head;
    p.on_body = on_body;
    r.rc = fuzz_http1_feed(&p, data, size, step, &r.used);
    if (r.rc == TIDE_HTTP1_MORE)
        r.rc = tide_http1_eof(&p);
    r.status = p.status;
    r.keep_alive = p.keep_alive;
    if (r.seen.body_bytes != p.body_bytes)
        abort();
    tide_http1_parser_fini(&p);
    return r;
}

static void same(const struct run *a, const struct run *b)
{
    if (a->rc != b->rc || a->used != b->used || a->status != b->status ||
        a->keep_alive != b->keep_alive || memcmp(&a->seen, &b->seen, sizeof a->seen) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    bool head = (data[0] & 1) != 0;
    size_t split = data[0] >> 1;
    data++;
    size--;
    struct run whole = feed(data, size, head, size ? size : 1);
    struct run two = feed(data, size, head, split ? split : 1);
    struct run bytes = feed(data, size, head, 1);
    same(&whole, &two);
    same(&whole, &bytes);
    /* the serializer with the input as header lines (NUL-separated, as transport.h has them) */
    char *lines = malloc(size + 1);
    if (lines == NULL)
        abort();
    memcpy(lines, data, size);
    lines[size] = '\0';
    struct tide_buf out = {0};
    struct tide_http1_request rq = {.method = "POST",
                                    .target = "/",
                                    .host = "h",
                                    .headers = lines,
                                    .headers_len = size + 1,
                                    .body = "b",
                                    .body_len = 1,
                                    .with_body = true,
                                    .user_agent = "tide"};
    if (tide_http1_write_request(&out, &rq) != 0)
        abort();
    tide_buf_free(&out);
    free(lines);
    return 0;
}
