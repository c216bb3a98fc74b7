/* http1.h: HTTP/1.1 for tide's own client (native.c): the request serializer, as libcurl
 * would send the same options, and the framing it reads responses with. That framing (one
 * grammar and one incremental parser for responses and requests, no I/O) is shared with
 * `tide target` and lives below core, in base/http1_parse.h. */
#ifndef TIDE_HTTP1_H
#define TIDE_HTTP1_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "http1_parse.h"

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

#endif
