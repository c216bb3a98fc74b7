/* target_http.h: HTTP/1.1 for 'tide target' above the framing: requests are read by the shared
 * parser of base/http1_parse.h (the grammar tide's client reads responses with) and seen here as
 * strings into the connection's buffer; query strings, cookies, percent-decoding, numbers in
 * paths, and reason phrases. */
#ifndef TIDE_TARGET_HTTP_H
#define TIDE_TARGET_HTTP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "http1_parse.h"

#define TIDE_HTTP_MAX_HEADERS 64

struct tide_http_str {
    const char *p; /* into the caller's buffer, not NUL-terminated */
    size_t n;
};

struct tide_http_header {
    struct tide_http_str name;  /* as sent (compare case-insensitively) */
    struct tide_http_str value; /* leading and trailing blanks removed */
};

struct tide_http_req {
    struct tide_http_str method; /* case-sensitive token, "GET" */
    struct tide_http_str target; /* as sent: "/a/b?x=1" */
    struct tide_http_str path;   /* target before '?', still percent-encoded */
    struct tide_http_str query;  /* after '?' (n == 0 when absent) */
    int minor_version;           /* HTTP/1.<minor>: 0 or 1 */
    struct tide_http_header headers[TIDE_HTTP_MAX_HEADERS];
    size_t n_headers;
    int64_t content_length; /* -1 when absent */
    bool chunked;           /* Transfer-Encoding: chunked */
    bool keep_alive;        /* the version's default, changed by Connection: close/keep-alive */
    bool expect_continue;   /* Expect: 100-continue (HTTP/1.1) */
};

/* Request heads. */

/* The request whose head 'p' (a request parser, http1.h) has read, its message kept whole at
 * 'msg': strings point into 'msg', the target is split into path and query. */
void tide_http_req_from(struct tide_http_req *req, const struct tide_http1_parser *p,
                        const char *msg);

/* The first header named 'name' (any case), or NULL. */
const struct tide_http_str *tide_http_header(const struct tide_http_req *req, const char *name);

/* Query strings and cookies. */

/* Splits the next 'name=value' pair off '*rest' at 'sep' ('&' for queries, ';' for cookies;
 * blanks around cookie pairs are skipped). Both stay encoded; value.n == 0 when there is no '='.
 * Returns false when 'rest' is used up. */
bool tide_http_pair_next(struct tide_http_str *rest, char sep, struct tide_http_str *name,
                         struct tide_http_str *value);

/* The raw value of the first query parameter named 'name'; false when absent. */
bool tide_http_query_get(struct tide_http_str query, const char *name, struct tide_http_str *value);

/* A decimal number of at most 18 digits making up all of 's', if it is at most 'max'; else
 * -1 (routes' numeric segments and parameters). */
int64_t tide_http_decimal(struct tide_http_str s, int64_t max);

/* Percent-decodes s[0..n) ('+' is a space) into dst. Returns the decoded length, or -1 when a
 * '%' is not followed by two hex digits or the result does not fit in 'cap' bytes. */
long tide_http_unescape(const char *s, size_t n, char *dst, size_t cap);

/* Responses. */

/* The reason phrase for 'status' ("Not Found"); "Unknown" for codes without one. */
const char *tide_http_reason(int status);

#endif
