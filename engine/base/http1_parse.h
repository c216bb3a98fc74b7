/* http1_parse.h: HTTP/1.1 message framing (RFC 9112) with no I/O, shared by both ends tide speaks:
 * tide's own client reads responses with it (core/native.c) and `tide target` reads requests
 * with it (target/target.c). One grammar, one incremental parser: it is fed whatever slices
 * the socket returns (one byte at a time works as well as a whole message) and says where the
 * message ends, so the bytes after it (a pipelined request, the next response on a keep-alive
 * connection) stay the caller's. It holds only a line split between slices, so what a peer can
 * make it hold is bounded by the limits below.
 *
 * Both directions: header lines are "name: value" with OWS trimmed, a line ends in CRLF or a
 * bare LF; Content-Length is digits, two that differ are an error; a chunked body has sizes in
 * hex, extensions after ';' and trailer lines; Connection close/keep-alive decides keep-alive
 * with the version's default (1.1 on, 1.0 off).
 *
 * What differs is the role's duty (RFC 9112 sections 5.2, 6.1, 6.3): a response framing is
 * decided the way a client must (1xx skipped, HEAD/204/304 without a body, Transfer-Encoding
 * chunked before Content-Length, else read until close) and broken header lines or folded
 * continuations are ignored (only framing headers are read); a request is checked as a server
 * must (method token, origin-form or '*' target, HTTP/1.0 or 1.1, every header line valid and
 * recorded, obsolete line folding refused, Transfer-Encoding only "chunked" and not with
 * Content-Length, no read-until-close), and Expect: 100-continue is reported. */
#ifndef TIDE_HTTP1_PARSE_H
#define TIDE_HTTP1_PARSE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

/* Parser results: more input needed, the message ended, or why it is broken. */
enum {
    TIDE_HTTP1_MORE = 0,
    TIDE_HTTP1_DONE = 1,
    TIDE_HTTP1_ERR_NOT_HTTP = -1,    /* the start line is not HTTP/1.x */
    TIDE_HTTP1_ERR_HEADER_SIZE = -2, /* a header line or all header bytes over the limit */
    TIDE_HTTP1_ERR_BAD_LENGTH = -3,  /* Content-Length not a number, or two that differ */
    TIDE_HTTP1_ERR_BAD_CHUNK = -4,   /* chunk size line or chunk end is broken */
    TIDE_HTTP1_ERR_CALLBACK = -5,    /* a callback refused (returned nonzero) */
    TIDE_HTTP1_ERR_TRUNCATED = -6,   /* end of input before the message ended */
    TIDE_HTTP1_ERR_BAD_HEADER = -7,  /* a request's header line or framing headers are invalid */
    TIDE_HTTP1_ERR_BODY_SIZE = -8,   /* a request's body is over 'max_body' */
};

/* Limits of the head (start line, header lines, trailers), as libcurl's path has them. */
#define TIDE_HTTP1_MAX_LINE    ((size_t)100 << 10)
#define TIDE_HTTP1_MAX_HEADERS ((size_t)1 << 20)

/* A part of the message as an offset from its first byte (the first fed after a reset) and a
 * length: valid however the bytes were sliced; a caller that keeps the message contiguous
 * (the target) turns it into a pointer. */
struct tide_http1_span {
    uint32_t off, len;
};

struct tide_http1_field {
    struct tide_http1_span name;  /* as sent (compare case-insensitively) */
    struct tide_http1_span value; /* blanks around it removed */
};

struct tide_http1_parser {
    /* set by the caller (tide_http1_parser_reset keeps them) */
    bool request;      /* parse requests (the server's side); else responses */
    bool head_request; /* responses: the response to a HEAD has no body whatever it says */
    size_t max_head;   /* bytes of head and trailers; 0: TIDE_HTTP1_MAX_HEADERS */
    uint64_t max_body; /* requests: body bytes (Content-Length or chunk sizes); 0: no limit */
    /* requests: where each header line goes; more than 'max_fields' is ERR_BAD_HEADER */
    struct tide_http1_field *fields;
    size_t max_fields;
    void *ud;
    /* each head line as received, "\r\n" included: the start line, the headers, the blank
     * line, then trailer lines; the line of a 1xx interim response comes too (a new status
     * line starts a new head) */
    int (*on_head_line)(void *ud, const char *line, size_t len);
    /* the body's bytes, chunk framing removed; 'p' points into the slice being fed */
    int (*on_body)(void *ud, const char *p, size_t n);
    /* read after a head ends */
    long status;                   /* responses */
    struct tide_http1_span method; /* requests: "GET" */
    struct tide_http1_span target; /* requests: "/a/b?x=1" as sent */
    size_t n_fields;               /* requests: header lines recorded in 'fields' */
    int minor;                     /* HTTP/1.<minor> */
    bool keep_alive;               /* the connection may carry the next message once DONE */
    bool chunked;
    bool expect_continue;   /* requests: Expect: 100-continue (HTTP/1.1) */
    int64_t content_length; /* -1: none */
    uint64_t head_len;      /* bytes of the head (blank line included): the body starts here */
    uint64_t body_bytes;    /* body bytes so far (chunk framing excluded) */
    const char *error;      /* after an error: what was wrong, a static English text */
    /* private */
    int state;
    bool started, head_done;
    bool seen_close, seen_keep_alive, te_other, te_seen;
    uint64_t remaining; /* of the Content-Length body or of the chunk */
    uint64_t consumed;  /* bytes of the message so far */
    size_t head_bytes;
    struct tide_buf line; /* a line split between slices */
};

/* Ready for the next message on the connection (the line buffer is kept). */
void tide_http1_parser_reset(struct tide_http1_parser *p);
void tide_http1_parser_fini(struct tide_http1_parser *p);
/* Feeds 'len' bytes; '*used' says how many belong to this message (the rest, after DONE,
 * are the peer's next bytes). MORE, DONE or an error (then stop feeding; 'error' says why). */
int tide_http1_feed(struct tide_http1_parser *p, const char *data, size_t len, size_t *used);
/* The connection closed: DONE when the response is read-until-close (it ends here), else
 * TRUNCATED (or MORE when nothing at all of a message came: the caller tells). */
int tide_http1_eof(struct tide_http1_parser *p);
/* True once any byte of the current message came. */
bool tide_http1_started(const struct tide_http1_parser *p);
/* True once the head of the current message was read (its fields may be used). */
bool tide_http1_head_done(const struct tide_http1_parser *p);
/* A short English text for a result code ("invalid chunked encoding"). */
const char *tide_http1_strerror(int code);

/* The grammar's pieces, for callers that read HTTP text outside a message. */

/* RFC 9110 token characters (method, header name). */
bool tide_http1_is_tchar(unsigned char c);
/* Splits a header line (no line end) into name and value (offsets into 's', value trimmed).
 * 0, or why not: TIDE_HTTP1_FIELD_FOLD (starts with a blank: an obsolete continuation),
 * _BAD_NAME (no token before the colon), _BAD_VALUE (a control character in the value). */
enum { TIDE_HTTP1_FIELD_FOLD = 1, TIDE_HTTP1_FIELD_BAD_NAME, TIDE_HTTP1_FIELD_BAD_VALUE };
int tide_http1_field_split(const char *s, size_t n, struct tide_http1_field *f);
/* A Content-Length value: 1 to 18 digits. The number, or -1. */
int64_t tide_http1_length_value(const char *v, size_t n);

#endif
