/* target_http.c: the target's view of a request the shared parser read (base/http1_parse.c), query
 * strings, percent-decoding and reason phrases (target_http.h). */
#include <string.h>
#include "target_http.h"

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive (ASCII) comparison with a NUL-terminated string. */
static bool iequal(struct tide_http_str s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.n != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (lower((unsigned char)s.p[i]) != lower((unsigned char)lit[i]))
            return false;
    }
    return true;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static struct tide_http_str at(const char *msg, struct tide_http1_span s)
{
    return (struct tide_http_str){msg + s.off, s.len};
}

void tide_http_req_from(struct tide_http_req *req, const struct tide_http1_parser *p,
                        const char *msg)
{
    req->method = at(msg, p->method);
    req->target = at(msg, p->target);
    req->minor_version = p->minor;
    req->n_headers = p->n_fields < TIDE_HTTP_MAX_HEADERS ? p->n_fields : TIDE_HTTP_MAX_HEADERS;
    for (size_t i = 0; i < req->n_headers; i++) {
        req->headers[i].name = at(msg, p->fields[i].name);
        req->headers[i].value = at(msg, p->fields[i].value);
    }
    req->content_length = p->content_length;
    req->chunked = p->chunked;
    req->keep_alive = p->keep_alive;
    req->expect_continue = p->expect_continue;
    const char *q = memchr(req->target.p, '?', req->target.n);
    size_t plen = q != NULL ? (size_t)(q - req->target.p) : req->target.n;
    req->path = (struct tide_http_str){req->target.p, plen};
    req->query = q != NULL ? (struct tide_http_str){q + 1, req->target.n - plen - 1}
                           : (struct tide_http_str){req->target.p + plen, 0};
}

const struct tide_http_str *tide_http_header(const struct tide_http_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        if (iequal(req->headers[i].name, name))
            return &req->headers[i].value;
    }
    return NULL;
}

bool tide_http_pair_next(struct tide_http_str *rest, char sep, struct tide_http_str *name,
                         struct tide_http_str *value)
{
    const char *p = rest->p, *end = rest->p + rest->n;
    while (p < end && (*p == sep || (sep != '&' && (*p == ' ' || *p == '\t'))))
        p++;
    if (p == end) {
        *rest = (struct tide_http_str){end, 0};
        return false;
    }
    const char *stop = memchr(p, sep, (size_t)(end - p));
    if (stop == NULL)
        stop = end;
    const char *eq = memchr(p, '=', (size_t)(stop - p));
    if (eq != NULL) {
        *name = (struct tide_http_str){p, (size_t)(eq - p)};
        *value = (struct tide_http_str){eq + 1, (size_t)(stop - eq - 1)};
    } else {
        *name = (struct tide_http_str){p, (size_t)(stop - p)};
        *value = (struct tide_http_str){stop, 0};
    }
    *rest = (struct tide_http_str){stop, (size_t)(end - stop)};
    return true;
}

bool tide_http_query_get(struct tide_http_str query, const char *name, struct tide_http_str *value)
{
    size_t n = strlen(name);
    struct tide_http_str k, v;
    while (tide_http_pair_next(&query, '&', &k, &v)) {
        if (k.n == n && memcmp(k.p, name, n) == 0) {
            *value = v;
            return true;
        }
    }
    return false;
}

long tide_http_unescape(const char *s, size_t n, char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o == cap)
            return -1;
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = hi >= 0 ? hexval((unsigned char)s[i + 2]) : -1;
            if (lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        dst[o++] = c;
    }
    return (long)o;
}

const char *tide_http_reason(int status)
{
    static const struct {
        int status;
        const char *reason;
    } reasons[] = {
        {100, "Continue"},
        {101, "Switching Protocols"},
        {200, "OK"},
        {201, "Created"},
        {202, "Accepted"},
        {203, "Non-Authoritative Information"},
        {204, "No Content"},
        {205, "Reset Content"},
        {206, "Partial Content"},
        {300, "Multiple Choices"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {303, "See Other"},
        {304, "Not Modified"},
        {307, "Temporary Redirect"},
        {308, "Permanent Redirect"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {402, "Payment Required"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {406, "Not Acceptable"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {410, "Gone"},
        {411, "Length Required"},
        {412, "Precondition Failed"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {415, "Unsupported Media Type"},
        {418, "I'm a teapot"},
        {422, "Unprocessable Content"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
        {507, "Insufficient Storage"},
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        if (reasons[i].status == status)
            return reasons[i].reason;
    }
    return "Unknown";
}

int64_t tide_http_decimal(struct tide_http_str s, int64_t max)
{
    int64_t n = 0;
    if (s.n == 0 || s.n > 18)
        return -1;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        n = n * 10 + (s.p[i] - '0');
    }
    return n <= max ? n : -1;
}
