/* fuzz_target_http: the HTTP/1.1 request parser of 'tide target' (engine/target/target_http.c),
 * which reads whatever a client sends: request heads (also pipelined, at each offset the parser
 * returns), chunked bodies decoded in place, query strings and percent-decoding. The input is
 * copied to a buffer of exactly its size so ASan sees any read past the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "target_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_query(const struct tide_http_req *req)
{
    struct tide_http_str rest = req->query, name, value;
    char out[256];
    while (tide_http_pair_next(&rest, '&', &name, &value))
        (void)tide_http_unescape(value.p, value.n, out, sizeof out);
    (void)tide_http_query_get(req->query, "ms", &value);
    (void)tide_http_unescape(req->path.p, req->path.n, out, sizeof out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    size_t off = 0;
    while (off < size) {
        struct tide_http_req req;
        long head = tide_http_parse(buf + off, size - off, &req);
        if (head < 0)
            break;
        if (head == 0 || (size_t)head > size - off)
            abort(); /* a head is never empty, never past the input */
        (void)tide_http_header(&req, "host");
        read_query(&req);
        off += (size_t)head;
        if (req.chunked) {
            size_t body_len;
            const char *error;
            long used = tide_http_dechunk(buf + off, size - off, &body_len, &error);
            if (used < 0)
                break;
            if ((size_t)used > size - off || body_len > (size_t)used)
                abort();
            off += (size_t)used;
        } else if (req.content_length > 0) {
            if ((uint64_t)req.content_length > size - off)
                break;
            off += (size_t)req.content_length;
        }
    }
    free(buf);
    return 0;
}
