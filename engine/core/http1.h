/* http1.h: HTTP/1.1 framing with no I/O, for tide's own client (native.c): a request
 * serializer and an incremental response parser. The parser is fed whatever slices the
 * socket returns (one byte at a time works as well as a whole response) and says where the
 * response ends, so a keep-alive connection knows what is the next response's; it decides
 * framing the way RFC 9112 section 6 does (1xx skipped, HEAD/204/304 without a body,
 * Transfer-Encoding chunked before Content-Length, else read until close). Limits bound what
 * a hostile server can make the client hold: one header line, all header bytes. */
#ifndef TIDE_HTTP1_H
#define TIDE_HTTP1_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

/* What the serializer needs; strings are not copied. */
struct tide_http1_request {
    const char *method;  /* "GET" */
    const char *target;  /* origin-form: "/path?query" */
    const char *host;    /* Host header value: "example.com:8080" */
    const char *headers; /* "Name: value" lines, each followed by a NUL byte (transport.h) */
    size_t headers_len;
    const char *body; /* sent when 'with_body' */
    size_t body_len;
    bool with_body; /* Content-Length (and the body) are sent */
    const char *user_agent;
    bool drop_credentials; /* leave out Authorization, Cookie, Proxy-Authorization */
    /* The Cookie header's whole value (the VU's jar merged with the script's own cookies,
     * cookiejar.h), sent instead of the caller's Cookie lines; "" sends none. NULL: the
     * caller's Cookie lines as given. */
    const char *cookie;
    /* A redirect made the request a GET (redirect.h): the caller's body headers
     * (Content-Type, Content-Length, Content-Encoding, -Language, -Location) are left out. */
    bool drop_body_headers;
};

/* Appends the request head (and body) to 'out'. Like libcurl: a header the caller gives
 * replaces the default one of that name (Host, User-Agent, Accept, Content-Type); "Name:" with
 * nothing after the colon removes it; a body gets Content-Type
 * application/x-www-form-urlencoded when none is given. 0, or -1: out of memory. */
int tide_http1_write_request(struct tide_buf *out, const struct tide_http1_request *rq);

/* Parser results: more input needed, the response ended, or why it is broken. */
enum {
    TIDE_HTTP1_MORE = 0,
    TIDE_HTTP1_DONE = 1,
    TIDE_HTTP1_ERR_NOT_HTTP = -1,    /* the status line is not "HTTP/1.x NNN" */
    TIDE_HTTP1_ERR_HEADER_SIZE = -2, /* a header line or all header bytes over the limit */
    TIDE_HTTP1_ERR_BAD_LENGTH = -3,  /* Content-Length not a number, or two that differ */
    TIDE_HTTP1_ERR_BAD_CHUNK = -4,   /* chunk size line or chunk end is broken */
    TIDE_HTTP1_ERR_CALLBACK = -5,    /* a callback refused (returned nonzero) */
    TIDE_HTTP1_ERR_TRUNCATED = -6,   /* end of input before the response ended */
};

/* Limits of the head (status line, header lines, trailers), as libcurl's path has them. */
#define TIDE_HTTP1_MAX_LINE    ((size_t)100 << 10)
#define TIDE_HTTP1_MAX_HEADERS ((size_t)1 << 20)

struct tide_http1_parser {
    /* set by the caller (tide_http1_parser_reset keeps them) */
    bool head_request; /* the response to a HEAD has no body whatever it says */
    void *ud;
    /* each head line as received, "\r\n" included: the status line, the headers, the blank
     * line, then trailer lines; the line of a 1xx interim response comes too (a new status
     * line starts a new head) */
    int (*on_head_line)(void *ud, const char *line, size_t len);
    int (*on_body)(void *ud, const char *p, size_t n);
    /* read after a head ends */
    long status;
    int minor;       /* HTTP/1.<minor> */
    bool keep_alive; /* the connection may carry the next request once DONE */
    bool chunked;
    int64_t content_length; /* -1: none */
    uint64_t body_bytes;    /* body bytes so far (chunk framing excluded) */
    /* private */
    int state;
    bool started;
    bool seen_close, seen_keep_alive, te_other;
    uint64_t remaining; /* of the Content-Length body or of the chunk */
    size_t head_bytes;
    struct tide_buf line; /* a line split between slices */
};

/* Ready for the next response on the connection (the line buffer is kept). */
void tide_http1_parser_reset(struct tide_http1_parser *p);
void tide_http1_parser_fini(struct tide_http1_parser *p);
/* Feeds 'len' bytes; '*used' says how many belong to this response (the rest, after DONE,
 * are the server's next bytes). MORE, DONE or an error (then stop feeding). */
int tide_http1_feed(struct tide_http1_parser *p, const char *data, size_t len, size_t *used);
/* The connection closed: DONE when the response is read-until-close (it ends here), else
 * TRUNCATED (or MORE when nothing at all of a response came: the caller tells). */
int tide_http1_eof(struct tide_http1_parser *p);
/* True once any byte of the current response came. */
bool tide_http1_started(const struct tide_http1_parser *p);
/* A short English text for a result code ("bad chunk size"). */
const char *tide_http1_strerror(int code);

#endif
