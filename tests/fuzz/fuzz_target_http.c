/* fuzz_target_http: how `tide target` reads what a client sends (engine/target/target.c): the
 * shared HTTP/1.1 request parser (engine/base/http1_parse.c) fed as the target feeds it, chunked
 * bodies moved down in place to follow the head, the request seen as strings
 * (tide_http_req_from, engine/target/target_http.c), then its query string and path decoded.
 * Pipelined requests are read one after another. The input is copied to a buffer of exactly
 * its size so ASan sees any read past the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "http1_parse.h"
#include "target_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct msg {
    char *at; /* the request's first byte */
    uint64_t head_len;
    size_t body_len;
    const struct tide_http1_parser *p;
};

/* As the target's on_request_body: the body follows the head, framing removed. */
static int on_body(void *ud, const char *p, size_t n)
{
    struct msg *m = ud;
    char *to = m->at + m->p->head_len + m->body_len;
    if (to > p)
        abort(); /* decoded bytes never overtake the ones still to read */
    memmove(to, p, n);
    m->body_len += n;
    return 0;
}

static void read_query(const struct tide_http_req *req)
{
    struct tide_http_str rest = req->query, name, value;
    char out[256];
    while (tide_http_pair_next(&rest, '&', &name, &value))
        (void)tide_http_unescape(value.p, value.n, out, sizeof out);
    (void)tide_http_query_get(req->query, "ms", &value);
    (void)tide_http_unescape(req->path.p, req->path.n, out, sizeof out);
    const struct tide_http_str *cookie = tide_http_header(req, "cookie");
    if (cookie != NULL) {
        rest = *cookie;
        while (tide_http_pair_next(&rest, ';', &name, &value))
            (void)name;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct tide_http1_field fields[TIDE_HTTP_MAX_HEADERS];
    struct tide_http1_parser p = {.request = true,
                                  .max_head = 65536,
                                  .max_body = 1 << 20,
                                  .fields = fields,
                                  .max_fields = TIDE_HTTP_MAX_HEADERS,
                                  .on_body = on_body};
    size_t off = 0;
    while (off < size) {
        struct msg m = {.at = buf + off, .p = &p};
        p.ud = &m;
        tide_http1_parser_reset(&p);
        size_t used = 0;
        if (tide_http1_feed(&p, buf + off, size - off, &used) != TIDE_HTTP1_DONE)
            break;
        if (used == 0 || used > size - off || p.head_len + m.body_len > used)
            abort(); /* a request is never empty, never past the input */
        struct tide_http_req req;
        tide_http_req_from(&req, &p, buf + off);
        read_query(&req);
        off += used;
    }
    tide_http1_parser_fini(&p);
    free(buf);
    return 0;
}
