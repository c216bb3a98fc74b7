/* cookiejar.h: one VU's cookies, kept by tide as RFC 6265 says (not by the transport), so every
 * transport sends the same Cookie header and a cookie set on one is sent on the other.
 *
 * What it does: parses Set-Cookie values (Domain, Path and the default path, host-only,
 * Secure, HttpOnly, Expires with the RFC's date algorithm, Max-Age which wins over Expires,
 * SameSite kept), matches domains and paths, replaces a cookie of the same (name, domain,
 * path), drops expired ones, and orders the Cookie header (longer paths first, then older).
 *
 * Where it follows browsers rather than the bare RFC (docs/http.md, "Cookies"):
 * - a Secure cookie is only taken from an https response, and a cookie from an http response
 *   does not replace a Secure one of the same name (RFC 6265bis); Secure cookies are only sent
 *   over https;
 * - a Domain attribute with a single label ("com", "local") is a public suffix: the cookie is
 *   dropped unless the domain is the request's host itself (then host-only); "localhost" and
 *   the subdomains of it are allowed. There is no public-suffix list;
 * - expiry is capped at 400 days from now (RFC 6265bis);
 * - memory is bounded against hostile servers: a name and value of at most 4096 bytes, an
 *   attribute value of at most 1024 bytes (longer: the attribute is ignored), at most 50
 *   cookies per domain and 3000 per jar and 1 MiB in all; beyond, expired cookies go first,
 *   then the oldest.
 *
 * Times are whole seconds since the epoch, given by the caller (tests choose them). One jar
 * belongs to one VU, so to one thread; nothing here locks. */
#ifndef TIDE_COOKIEJAR_H
#define TIDE_COOKIEJAR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define TIDE_COOKIE_MAX_NAME_VALUE 4096          /* bytes of name and value together */
#define TIDE_COOKIE_MAX_ATTR       1024          /* bytes of one attribute's value */
#define TIDE_COOKIE_MAX_PER_DOMAIN 50            /* cookies with the same domain */
#define TIDE_COOKIE_MAX_PER_JAR    3000          /* cookies in one jar */
#define TIDE_COOKIE_MAX_JAR_BYTES  (1 << 20)     /* names, values, domains and paths of one jar */
#define TIDE_COOKIE_MAX_AGE_S      (400 * 86400) /* expiry at most this far ahead */
#define TIDE_COOKIE_SESSION        INT64_MAX     /* 'expires' of a cookie without Expires/Max-Age */

enum tide_samesite {
    TIDE_SAMESITE_UNSET = 0, /* absent or not one of the three */
    TIDE_SAMESITE_STRICT,
    TIDE_SAMESITE_LAX,
    TIDE_SAMESITE_NONE,
};

/* One stored cookie. Its strings live in the same allocation, after the struct. */
struct tide_cookie {
    const char *name, *value, *domain, *path; /* domain: lower case, no leading dot */
    int64_t expires;                          /* seconds; TIDE_COOKIE_SESSION: none */
    uint64_t created;                         /* creation order in the jar (kept on replace) */
    bool host_only, secure, http_only;
    enum tide_samesite samesite;
};

struct tide_cookiejar;

struct tide_cookiejar *tide_cookiejar_new(void);    /* NULL: out of memory */
void tide_cookiejar_free(struct tide_cookiejar *j); /* NULL is fine */

/* Appends "a=1; b=2" (after a "; " when 'out' already holds text) for a request to the
 * absolute 'url'. Returns the number of cookies appended (0 when none or 'url' is not
 * http/https); -1 when out of memory. */
int tide_cookiejar_header(struct tide_cookiejar *j, const char *url, struct tide_buf *out,
                          int64_t now_s);

/* The value of a request's Cookie header: the script's own cookies first ('user', 'user_len'
 * bytes, "a=1; b=2", may be empty), then the jar's for 'url' whose names the script's do not
 * set (the script's win). Appended to 'out'. Returns the number of jar cookies appended; -1
 * when out of memory. 'j' NULL: the script's alone. */
int tide_cookiejar_request_cookie(struct tide_cookiejar *j, const char *url, const char *user,
                                  size_t user_len, struct tide_buf *out, int64_t now_s);

/* One Set-Cookie header value ('len' bytes, no NUL needed) received from 'url'. 1: stored (or,
 * when already expired, the same cookie removed); 0: ignored, as the RFC says; -1: out of
 * memory. */
int tide_cookiejar_store(struct tide_cookiejar *j, const char *url, const char *set_cookie,
                         size_t len, int64_t now_s);

/* What a script sets (the jar API): like a Set-Cookie from 'url', except that a Secure cookie
 * is taken whatever the scheme. 'domain' and 'path' may be NULL (host-only, default path);
 * 'expires' 0: none; 'max_age' is used when 'has_max_age'. Returns as tide_cookiejar_store;
 * -2: the name or value cannot be a cookie (empty name, ';', ',' or a control character...). */
struct tide_cookie_attrs {
    const char *domain, *path;
    int64_t expires; /* seconds since the epoch; 0: none */
    int64_t max_age;
    bool has_max_age, secure, http_only;
    enum tide_samesite samesite;
};
int tide_cookiejar_set(struct tide_cookiejar *j, const char *url, const char *name,
                       const char *value, const struct tide_cookie_attrs *a, int64_t now_s);

/* Calls 'fn' for each cookie a request to 'url' would send, in Cookie header order ('url'
 * NULL: every unexpired cookie of the jar, in creation order). Returns how many. */
typedef void (*tide_cookie_fn)(const struct tide_cookie *c, void *ud);
int tide_cookiejar_each(struct tide_cookiejar *j, const char *url, int64_t now_s, tide_cookie_fn fn,
                        void *ud);

/* Removes the cookies named 'name' ('name' NULL: all) that a request to 'url' would send
 * ('url' NULL: from every domain and path). Returns how many. */
int tide_cookiejar_delete(struct tide_cookiejar *j, const char *url, const char *name,
                          int64_t now_s);

/* Cookies stored (expired ones not yet dropped included). */
size_t tide_cookiejar_count(const struct tide_cookiejar *j);

/* Parses one Set-Cookie value received from 'url' into a new cookie (free() it), without a
 * jar: what a response set (res.cookies). NULL when the RFC says to ignore it. */
struct tide_cookie *tide_cookie_parse(const char *url, const char *set_cookie, size_t len,
                                      int64_t now_s);

/* The RFC 6265 section 5.1.1 date algorithm: seconds since the epoch, or false. */
bool tide_cookie_parse_date(const char *s, size_t len, int64_t *out);

#endif
