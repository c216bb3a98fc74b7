/* redirect.h: what to do with a redirect, decided the same way by every transport (so that
 * tide, not the HTTP library, follows redirects: each hop then gets its own Cookie header from
 * the VU's jar and gives its Set-Cookie to it). Pure functions: no I/O, no state.
 *
 * The rules are the browsers' (the Fetch standard), which curl and k6 follow for POST:
 * - 301 and 302: a POST becomes a GET without its body; other methods are kept, body and all;
 * - 303: every method but GET and HEAD becomes a GET without a body;
 * - 307 and 308: the method and the body are kept;
 * - other statuses, and a 3xx without a Location (or an empty one), are not redirects.
 * The Location is resolved against the current URL as RFC 3986 section 5 says (a fragment
 * not given is inherited, RFC 9110 10.2.2); spaces, control and non-ASCII bytes in it are
 * percent-encoded. Only http and https are followed. */
#ifndef TIDE_REDIRECT_H
#define TIDE_REDIRECT_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

struct tide_redirect {
    char method[16];     /* upper case, as the next request sends it */
    bool resend_body;    /* the request body goes with it (307, 308, a kept method) */
    bool method_changed; /* now a GET: body headers (Content-Type...) are dropped */
    struct tide_buf url; /* the absolute next URL (the owner frees it) */
};

enum tide_redirect_verdict {
    TIDE_REDIRECT_NONE = 0,   /* not a redirect: this response is the last */
    TIDE_REDIRECT_FOLLOW,     /* follow to 'next' */
    TIDE_REDIRECT_BAD_SCHEME, /* a scheme other than http/https: TIDE_HTTP_ERR_REDIRECT_SCHEME */
    TIDE_REDIRECT_BAD_URL,    /* the Location cannot be resolved into a URL with a host */
    TIDE_REDIRECT_NO_MEMORY,
    TIDE_REDIRECT_TOO_MANY, /* a redirect beyond the cap: error 1400 */
};

/* 'status' and 'location' ('len' bytes, NULL: no Location header) of a response to 'method'
 * 'url' (absolute), after 'followed' redirects of a transfer that follows at most 'max' (0: none
 * are followed, a 3xx is the response). Fills 'next' when the verdict is FOLLOW. */
enum tide_redirect_verdict tide_redirect_next(long status, const char *method, const char *url,
                                              const char *location, size_t len, long followed,
                                              long max, struct tide_redirect *next);

/* The error a verdict other than NONE and FOLLOW ends a transfer with: fills 'error' (the
 * detail) and 'kind' (one text per kind, the failures table's row) and returns the error code
 * (TIDE_HTTP_ERR_REDIRECT_SCHEME, 1400 too many, 1020 a bad URL, 1000 out of memory). */
int tide_redirect_error(enum tide_redirect_verdict v, long max, const struct tide_redirect *next,
                        char *error, size_t error_size, char *kind, size_t kind_size);

/* The value of the first Location header in a response's raw header lines (trimmed, 'len'
 * bytes, not NUL-terminated), or NULL. Both transports read redirects with it. */
const char *tide_redirect_location(const struct tide_buf *headers, size_t *len);

/* RFC 3986 reference resolution: 'ref' ('len' bytes) against the absolute 'base', appended to
 * 'out'. False when 'base' has no scheme or out of memory. */
bool tide_url_resolve(const char *base, const char *ref, size_t len, struct tide_buf *out);

/* The request headers that carry credentials (Authorization, Cookie, Proxy-Authorization)
 * are kept only while the scheme, host and port stay the same, as curl does. */
bool tide_url_same_origin(const char *a, const char *b);

#endif
