/* decode.h: response bodies decoded as their Content-Encoding says (gzip, x-gzip, deflate, or
 * a chain of them such as "deflate, gzip"), through zlib's streaming inflate (base/compress.h
 * makes the bodies sent with the `compression` option). Both transports (native.c, http.c) feed
 * the same decoder from their body callbacks, so a compressed response gives the same body,
 * the same limits and the same errors on both: libcurl's own decoding is never turned on.
 *
 * A body is decoded only when its request asked for a coding tide decodes (an
 * Accept-Encoding request header naming gzip, x-gzip or deflate) and the body is kept (not
 * `discard_body`). Limits apply to decoded bytes: the body keeps at most max_body of them (and
 * its share of the process budget); past that, decoding stops (a gzip bomb costs no memory
 * and little CPU) and the rest of the wire bytes are only counted. res.body_bytes stays the
 * bytes received (compressed), so data_received counts what crossed the network. Corrupt
 * data, or a stream that ends early, is error 1701 (libcurl's result 61, bad content
 * encoding) on both transports. A coding tide does not decode (br, zstd) leaves the body as
 * it came. docs/http.md, "Compression". */
#ifndef TIDE_DECODE_H
#define TIDE_DECODE_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "transport.h"

/* Codings in one Content-Encoding chain decoded at most (more: the body is kept as it came). */
#define TIDE_DECODE_MAX_CODINGS 4

/* Results of the decoder and of its sink. */
enum {
    TIDE_DECODE_OK = 0,
    TIDE_DECODE_STOP = 1,   /* the sink wants no more output (the body is full) */
    TIDE_DECODE_BAD = -1,   /* corrupt data, or the stream ended early (tide_decoder_error) */
    TIDE_DECODE_NOMEM = -2, /* zlib or the sink ran out of memory */
};

/* Where decoded bytes go: TIDE_DECODE_OK, STOP or NOMEM. */
typedef int (*tide_decode_sink)(void *ud, const char *p, size_t n);

struct tide_decoder;

/* Whether request header lines ("Name: value", each followed by a NUL byte, transport.h) hold
 * an Accept-Encoding that names gzip, x-gzip or deflate (with a q-value other than 0). */
bool tide_decode_asked(const char *headers, size_t len);

/* A decoder for the codings of every Content-Encoding line in a response head ('head': raw
 * lines "Name: value\r\n"). 0 with '*d' set: decode; 0 with '*d' NULL: nothing to decode
 * (no coding, identity, a coding tide does not know, or too many); -1: out of memory. */
int tide_decoder_new(struct tide_decoder **d, const char *head, size_t len);
/* Decodes 'n' more bytes into 'sink': OK, STOP (the sink's), BAD or NOMEM. After BAD or NOMEM,
 * do not feed again. */
int tide_decoder_feed(struct tide_decoder *d, const char *p, size_t n, tide_decode_sink sink,
                      void *ud);
/* The body ended: OK when every stream ended, else BAD ("the compressed body ended early"). */
int tide_decoder_end(struct tide_decoder *d);
/* What was wrong, after BAD: "bad gzip data (incorrect header check)". */
const char *tide_decoder_error(const struct tide_decoder *d);
void tide_decoder_free(struct tide_decoder *d); /* NULL is fine */

/* One transfer's body decoding, held by each transport's state (zero-initialized). */
struct tide_body_decode {
    bool asked;               /* set by tide_body_decode_start */
    bool failed;              /* the body was bad: the decoder says why (tide_decoder_error) */
    struct tide_decoder *dec; /* the current response's; NULL: kept as it came */
};

/* At a transfer's start: whether its bodies are decoded (see the top). */
void tide_body_decode_start(struct tide_body_decode *bd, const struct tide_http_spec *sp);
/* A body slice of the current response, for a transport whose 'bd->asked' is true: counts it
 * in res.body_bytes and keeps what it decodes to as the transport's own callback keeps a plain
 * body ('charged': the transfer's share of the body budget). 0, or -1: the transfer fails
 * (tide_body_decode_fail when 'bd->failed', else out of memory). */
int tide_body_decode_feed(struct tide_body_decode *bd, struct tide_transfer *t, size_t *charged,
                          const char *p, size_t n);
/* The last response ended without a transport error: false when its compressed body was
 * incomplete (then 'bd->failed'). */
bool tide_body_decode_end(struct tide_body_decode *bd, const struct tide_http_result *res);
/* The result of a bad body ('bd->failed'): error 1701 with the decoder's text, the kind
 * libcurl's result 61 has, whichever transport served it. */
void tide_body_decode_fail(const struct tide_body_decode *bd, struct tide_http_result *res);
void tide_body_decode_fini(struct tide_body_decode *bd);

#endif
