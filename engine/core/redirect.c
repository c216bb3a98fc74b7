/* redirect.c: the redirect policy and RFC 3986 reference resolution (redirect.h). */
#include "redirect.h"
#include "transport.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One part of a URL split as RFC 3986 appendix B does. */
struct part {
    const char *p;
    size_t n;
    bool has;
};

struct url_parts {
    struct part scheme, authority, path, query, fragment;
};

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool scheme_char(char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

static void split(const char *s, size_t n, struct url_parts *u)
{
    *u = (struct url_parts){0};
    const char *end = s + n, *p = s;
    const char *colon = NULL;
    for (const char *q = s; q < end && *q != '/' && *q != '?' && *q != '#'; q++)
        if (*q == ':') {
            colon = q;
            break;
        }
    if (colon != NULL && colon > s && is_alpha(*s)) {
        bool ok = true;
        for (const char *q = s; q < colon; q++)
            ok = ok && scheme_char(*q);
        if (ok) {
            u->scheme = (struct part){s, (size_t)(colon - s), true};
            p = colon + 1;
        }
    }
    if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
        p += 2;
        const char *a = p;
        while (p < end && *p != '/' && *p != '?' && *p != '#')
            p++;
        u->authority = (struct part){a, (size_t)(p - a), true};
    }
    const char *path = p;
    while (p < end && *p != '?' && *p != '#')
        p++;
    u->path = (struct part){path, (size_t)(p - path), true};
    if (p < end && *p == '?') {
        const char *q = ++p;
        while (p < end && *p != '#')
            p++;
        u->query = (struct part){q, (size_t)(p - q), true};
    }
    if (p < end && *p == '#')
        u->fragment = (struct part){p + 1, (size_t)(end - p - 1), true};
}

/* Drops the last segment of 'out' and the '/' before it. */
static void pop_segment(struct tide_buf *out, size_t floor)
{
    size_t k = out->len;
    while (k > floor && out->data[k - 1] != '/')
        k--;
    out->len = k > floor ? k - 1 : floor;
}

static bool at(const char *in, size_t n, const char *s)
{
    size_t k = strlen(s);
    return n >= k && memcmp(in, s, k) == 0;
}

static bool is(const char *in, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(in, s, n) == 0;
}

/* RFC 3986 5.2.4, appending to 'out' (whose first 'floor' bytes are left alone). */
static void remove_dots(const char *in, size_t n, struct tide_buf *out)
{
    size_t floor = out->len;
    char slash_only[1] = {'/'};
    while (n > 0) {
        if (at(in, n, "../")) {
            in += 3, n -= 3;
        } else if (at(in, n, "./")) {
            in += 2, n -= 2;
        } else if (at(in, n, "/./")) {
            in += 2, n -= 2;
        } else if (is(in, n, "/.")) {
            in = slash_only, n = 1;
        } else if (at(in, n, "/../")) {
            in += 3, n -= 3;
            pop_segment(out, floor);
        } else if (is(in, n, "/..")) {
            in = slash_only, n = 1;
            pop_segment(out, floor);
        } else if (is(in, n, ".") || is(in, n, "..")) {
            n = 0;
        } else {
            size_t k = in[0] == '/' ? 1 : 0;
            while (k < n && in[k] != '/')
                k++;
            tide_buf_add(out, in, k);
            in += k, n -= k;
        }
    }
    if (out->data != NULL)
        out->data[out->len] = '\0';
}

/* Appends 'p', percent-encoding what may not appear raw in a URL sent on a request line. */
static void add_encoded(struct tide_buf *out, const char *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c >= 0x7F) {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            tide_buf_add(out, e, 3);
        } else {
            tide_buf_add(out, p + i, 1);
        }
    }
}

bool tide_url_resolve(const char *base, const char *ref, size_t len, struct tide_buf *out)
{
    struct url_parts b, r;
    split(base, strlen(base), &b);
    while (len > 0 && (*ref == ' ' || *ref == '\t'))
        ref++, len--;
    while (len > 0 && (ref[len - 1] == ' ' || ref[len - 1] == '\t'))
        len--;
    split(ref, len, &r);
    if (!b.scheme.has)
        return false;
    /* the target, part by part (RFC 3986 5.2.2) */
    struct part scheme = r.scheme.has ? r.scheme : b.scheme;
    struct part authority, query = r.query, fragment = r.fragment;
    struct tide_buf path = {0};
    if (r.scheme.has || r.authority.has) {
        authority = r.authority;
        remove_dots(r.path.p, r.path.n, &path);
    } else {
        authority = b.authority;
        if (r.path.n == 0) {
            tide_buf_add(&path, b.path.p, b.path.n);
            if (!r.query.has)
                query = b.query;
        } else if (r.path.p[0] == '/') {
            remove_dots(r.path.p, r.path.n, &path);
        } else { /* merge (5.2.3) */
            struct tide_buf merged = {0};
            if (b.authority.has && b.path.n == 0) {
                tide_buf_add(&merged, "/", 1);
            } else {
                size_t k = b.path.n;
                while (k > 0 && b.path.p[k - 1] != '/')
                    k--;
                tide_buf_add(&merged, b.path.p, k);
            }
            tide_buf_add(&merged, r.path.p, r.path.n);
            if (!merged.failed)
                remove_dots(merged.data != NULL ? merged.data : "", merged.len, &path);
            path.failed |= merged.failed;
            tide_buf_free(&merged);
        }
    }
    if (!fragment.has)
        fragment = b.fragment; /* RFC 9110 10.2.2 */
    for (size_t i = 0; i < scheme.n; i++) {
        char c = scheme.p[i];
        tide_buf_add(out, &(char){c >= 'A' && c <= 'Z' ? (char)(c + 32) : c}, 1);
    }
    tide_buf_add(out, ":", 1);
    if (authority.has) {
        tide_buf_add(out, "//", 2);
        add_encoded(out, authority.p, authority.n);
    }
    add_encoded(out, path.data != NULL ? path.data : "", path.len);
    if (query.has) {
        tide_buf_add(out, "?", 1);
        add_encoded(out, query.p, query.n);
    }
    if (fragment.has) {
        tide_buf_add(out, "#", 1);
        add_encoded(out, fragment.p, fragment.n);
    }
    bool ok = !path.failed && !out->failed;
    tide_buf_free(&path);
    tide_buf_add(out, "", 0);
    return ok;
}

static bool scheme_is(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);
    for (size_t i = 0; i < n; i++) {
        char c = url[i];
        if (c == '\0' || (c >= 'A' && c <= 'Z' ? (char)(c + 32) : c) != scheme[i])
            return false;
    }
    return url[n] == ':';
}

/* scheme://authority of 'url' (without user information), lower-cased, into 'out'. */
static void origin_of(const char *url, char *out, size_t cap)
{
    struct url_parts u;
    split(url, strlen(url), &u);
    const char *a = u.authority.p;
    size_t n = u.authority.n;
    for (size_t i = 0; i < u.authority.n; i++)
        if (u.authority.p[i] == '@')
            a = u.authority.p + i + 1, n = u.authority.n - i - 1;
    size_t k = 0;
    for (size_t i = 0; i < u.scheme.n && k + 1 < cap; i++)
        out[k++] = u.scheme.p[i];
    if (k + 1 < cap)
        out[k++] = '|';
    for (size_t i = 0; i < n && k + 1 < cap; i++)
        out[k++] = a[i];
    out[k] = '\0';
    for (size_t i = 0; i < k; i++)
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (char)(out[i] + 32);
    /* the default port is the same origin as none */
    const char *dflt = scheme_is(url, "https") ? ":443" : ":80";
    size_t d = strlen(dflt);
    if (k > d && strcmp(out + k - d, dflt) == 0)
        out[k - d] = '\0';
}

bool tide_url_same_origin(const char *a, const char *b)
{
    char oa[512], ob[512];
    origin_of(a, oa, sizeof oa);
    origin_of(b, ob, sizeof ob);
    return strcmp(oa, ob) == 0;
}

enum tide_redirect_verdict tide_redirect_next(long status, const char *method, const char *url,
                                              const char *location, size_t len, long followed,
                                              long max, struct tide_redirect *next)
{
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
        return TIDE_REDIRECT_NONE;
    if (location == NULL || max <= 0)
        return TIDE_REDIRECT_NONE;
    size_t k = 0;
    while (k < len && (location[k] == ' ' || location[k] == '\t'))
        k++;
    if (k == len)
        return TIDE_REDIRECT_NONE;
    if (followed >= max)
        return TIDE_REDIRECT_TOO_MANY;
    bool get_head = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool to_get = ((status == 301 || status == 302) && strcmp(method, "POST") == 0) ||
                  (status == 303 && !get_head);
    snprintf(next->method, sizeof next->method, "%s", to_get ? "GET" : method);
    next->method_changed = to_get;
    next->resend_body = !to_get;
    next->url.len = 0;
    next->url.failed = false;
    if (!tide_url_resolve(url, location, len, &next->url))
        return next->url.failed ? TIDE_REDIRECT_NO_MEMORY : TIDE_REDIRECT_BAD_URL;
    if (!scheme_is(next->url.data, "http") && !scheme_is(next->url.data, "https"))
        return TIDE_REDIRECT_BAD_SCHEME;
    struct url_parts u;
    split(next->url.data, next->url.len, &u);
    if (!u.authority.has || u.authority.n == 0)
        return TIDE_REDIRECT_BAD_URL;
    return TIDE_REDIRECT_FOLLOW;
}

int tide_redirect_error(enum tide_redirect_verdict v, long max, const struct tide_redirect *next,
                        char *error, size_t error_size, char *kind, size_t kind_size)
{
    switch (v) {
    case TIDE_REDIRECT_TOO_MANY:
        snprintf(error, error_size, "Maximum (%ld) redirects followed", max);
        snprintf(kind, kind_size, "Too many redirects");
        return 1400;
    case TIDE_REDIRECT_BAD_SCHEME: {
        const char *u = next->url.data != NULL ? next->url.data : "";
        int n = (int)strcspn(u, ":");
        snprintf(error, error_size,
                 "redirect to a %.*s: URL not followed (only http and https are)", n > 32 ? 32 : n,
                 u);
        snprintf(kind, kind_size, "Redirect to a scheme other than http or https (refused)");
        return TIDE_HTTP_ERR_REDIRECT_SCHEME;
    }
    case TIDE_REDIRECT_BAD_URL:
        snprintf(error, error_size, "redirect to a Location that is not a URL with a host");
        snprintf(kind, kind_size, "Malformed redirect Location");
        return 1020;
    default:
        snprintf(error, error_size, "out of memory following a redirect");
        snprintf(kind, kind_size, "Out of memory");
        return 1000;
    }
}

const char *tide_redirect_location(const struct tide_buf *headers, size_t *len)
{
    const char *p = headers->data, *end = p + headers->len;
    while (p != NULL && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *stop = eol != NULL ? eol : end;
        if (stop - p > 9 && strncasecmp(p, "location:", 9) == 0) {
            const char *v = p + 9;
            while (v < stop && (*v == ' ' || *v == '\t'))
                v++;
            while (stop > v && (stop[-1] == '\r' || stop[-1] == ' ' || stop[-1] == '\t'))
                stop--;
            *len = (size_t)(stop - v);
            return v;
        }
        p = eol != NULL ? eol + 1 : NULL;
    }
    return NULL;
}
