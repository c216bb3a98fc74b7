/* target_http.c: HTTP/1.1 request parsing (RFC 9112) for 'tide target'. Stateless: a partial
 * head is parsed again from its start when more bytes arrive, which keeps the parser free of
 * allocations and of per-connection state; the caller caps the head size. */
#include <string.h>
#include "target_http.h"

#define MAX_CL_DIGITS    18 /* Content-Length below 10^18: no overflow of int64_t */
#define MAX_CHUNK_DIGITS 15 /* chunk sizes below 16^15 */

static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')
        return true;
    return c != '\0' && strchr("!#$%&'*+.^_`|~", c) != NULL;
}

/* Field values: visible ASCII, blanks and obs-text (bytes >= 0x80); no other controls. */
static bool is_vchar(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

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

/* At b[*pos]: CRLF or a bare LF. 1: consumed; 0: need more bytes; -1: something else. */
static int eol(const char *b, size_t len, size_t *pos)
{
    size_t i = *pos;
    if (i >= len)
        return 0;
    if (b[i] == '\n') {
        *pos = i + 1;
        return 1;
    }
    if (b[i] != '\r')
        return -1;
    if (i + 1 >= len)
        return 0;
    if (b[i + 1] != '\n')
        return -1;
    *pos = i + 2;
    return 1;
}

static long bad(struct tide_http_req *req, const char *why)
{
    req->error = why;
    return TIDE_HTTP_BAD;
}

static long parse_request_line(const char *b, size_t len, size_t *pos, struct tide_http_req *req)
{
    size_t i = *pos;
    size_t start = i;
    while (i < len && is_tchar((unsigned char)b[i]))
        i++;
    if (i == len)
        return TIDE_HTTP_PARTIAL;
    if (i == start || b[i] != ' ')
        return bad(req, "bad method");
    req->method = (struct tide_http_str){b + start, i - start};
    start = ++i;
    while (i < len && (unsigned char)b[i] > ' ' && b[i] != 0x7f)
        i++;
    if (i == len)
        return TIDE_HTTP_PARTIAL;
    if (i == start || b[i] != ' ')
        return bad(req, "bad request target");
    if (b[start] != '/' && !(i - start == 1 && b[start] == '*'))
        return bad(req, "bad request target");
    req->target = (struct tide_http_str){b + start, i - start};
    i++;
    static const char version[] = "HTTP/1.";
    for (size_t k = 0; k < 8; k++, i++) {
        if (i == len)
            return TIDE_HTTP_PARTIAL;
        bool ok = k < 7 ? b[i] == version[k] : (b[i] == '0' || b[i] == '1');
        if (!ok)
            return bad(req, "unsupported HTTP version");
    }
    req->minor_version = b[i - 1] - '0';
    int r = eol(b, len, &i);
    if (r == 0)
        return TIDE_HTTP_PARTIAL;
    if (r < 0)
        return bad(req, "bad request line");
    *pos = i;
    return 0;
}

/* One 'name: value' line at b[*pos]. */
static long parse_header(const char *b, size_t len, size_t *pos, struct tide_http_header *h,
                         struct tide_http_req *req)
{
    size_t i = *pos;
    size_t start = i;
    while (i < len && is_tchar((unsigned char)b[i]))
        i++;
    if (i == len)
        return TIDE_HTTP_PARTIAL;
    if (i == start || b[i] != ':')
        return bad(req, "bad header name");
    h->name = (struct tide_http_str){b + start, i - start};
    i++;
    while (i < len && (b[i] == ' ' || b[i] == '\t'))
        i++;
    start = i;
    while (i < len && is_vchar((unsigned char)b[i]))
        i++;
    size_t end = i;
    while (end > start && (b[end - 1] == ' ' || b[end - 1] == '\t'))
        end--;
    h->value = (struct tide_http_str){b + start, end - start};
    int r = eol(b, len, &i);
    if (r == 0)
        return TIDE_HTTP_PARTIAL;
    if (r < 0)
        return bad(req, "bad header value");
    *pos = i;
    return 0;
}

static int parse_length(struct tide_http_str v, int64_t *out)
{
    if (v.n == 0 || v.n > MAX_CL_DIGITS)
        return -1;
    int64_t n = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -1;
        n = n * 10 + (v.p[i] - '0');
    }
    *out = n;
    return 0;
}

/* Connection: a comma-separated list of options; 'close' wins over 'keep-alive'. */
static void parse_connection(struct tide_http_str v, bool *close, bool *keep)
{
    struct tide_http_str rest = v, item, unused;
    while (tide_http_pair_next(&rest, ',', &item, &unused)) {
        while (item.n > 0 && (item.p[item.n - 1] == ' ' || item.p[item.n - 1] == '\t'))
            item.n--;
        if (iequal(item, "close"))
            *close = true;
        else if (iequal(item, "keep-alive"))
            *keep = true;
    }
}

static long interpret_headers(struct tide_http_req *req)
{
    bool close = false, keep = false, has_te = false;
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct tide_http_header *h = &req->headers[i];
        if (iequal(h->name, "content-length")) {
            int64_t n;
            if (parse_length(h->value, &n) < 0)
                return bad(req, "bad Content-Length");
            if (req->content_length >= 0 && req->content_length != n)
                return bad(req, "conflicting Content-Length headers");
            req->content_length = n;
        } else if (iequal(h->name, "transfer-encoding")) {
            if (has_te || !iequal(h->value, "chunked"))
                return bad(req, "unsupported Transfer-Encoding (only chunked)");
            has_te = true;
        } else if (iequal(h->name, "connection")) {
            parse_connection(h->value, &close, &keep);
        } else if (iequal(h->name, "expect")) {
            req->expect_continue = req->minor_version == 1 && iequal(h->value, "100-continue");
        }
    }
    if (has_te && req->content_length >= 0)
        return bad(req, "both Content-Length and Transfer-Encoding");
    if (has_te && req->minor_version == 0)
        return bad(req, "Transfer-Encoding in HTTP/1.0");
    req->chunked = has_te;
    req->keep_alive = !close && (req->minor_version == 1 || keep);
    return 0;
}

long tide_http_parse(const char *buf, size_t len, struct tide_http_req *req)
{
    size_t pos = 0;
    req->n_headers = 0;
    req->content_length = -1;
    req->chunked = false;
    req->expect_continue = false;
    req->error = NULL;
    while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n')) {
        int r = eol(buf, len, &pos);
        if (r == 0)
            return TIDE_HTTP_PARTIAL;
        if (r < 0)
            return bad(req, "bad request line");
    }
    long rc = parse_request_line(buf, len, &pos, req);
    if (rc != 0)
        return rc;
    for (;;) {
        int r = eol(buf, len, &pos);
        if (r == 0)
            return TIDE_HTTP_PARTIAL;
        if (r > 0)
            break;
        if (req->n_headers == TIDE_HTTP_MAX_HEADERS)
            return bad(req, "too many headers");
        rc = parse_header(buf, len, &pos, &req->headers[req->n_headers], req);
        if (rc != 0)
            return rc;
        req->n_headers++;
    }
    const char *q = memchr(req->target.p, '?', req->target.n);
    size_t plen = q != NULL ? (size_t)(q - req->target.p) : req->target.n;
    req->path = (struct tide_http_str){req->target.p, plen};
    req->query = q != NULL ? (struct tide_http_str){q + 1, req->target.n - plen - 1}
                           : (struct tide_http_str){req->target.p + plen, 0};
    rc = interpret_headers(req);
    if (rc != 0)
        return rc;
    return (long)pos;
}

const struct tide_http_str *tide_http_header(const struct tide_http_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        if (iequal(req->headers[i].name, name))
            return &req->headers[i].value;
    }
    return NULL;
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

/* A line of trailer fields or chunk extensions: anything but controls, up to its end. */
static long skip_line(const char *b, size_t len, size_t *pos)
{
    size_t i = *pos;
    while (i < len && is_vchar((unsigned char)b[i]))
        i++;
    int r = eol(b, len, &i);
    if (r == 0)
        return TIDE_HTTP_PARTIAL;
    if (r < 0)
        return TIDE_HTTP_BAD;
    *pos = i;
    return 0;
}

static long chunk_size(const char *b, size_t len, size_t *pos, uint64_t *size)
{
    size_t i = *pos;
    uint64_t n = 0;
    int v = 0;
    while (i < len && (v = hexval((unsigned char)b[i])) >= 0) {
        if (i - *pos == MAX_CHUNK_DIGITS)
            return TIDE_HTTP_BAD;
        n = n * 16 + (uint64_t)v;
        i++;
    }
    if (i == len)
        return TIDE_HTTP_PARTIAL;
    if (i == *pos || (b[i] != ';' && b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n'))
        return TIDE_HTTP_BAD;
    long rc = skip_line(b, len, &i);
    if (rc != 0)
        return rc;
    *size = n;
    *pos = i;
    return 0;
}

static long trailers(const char *b, size_t len, size_t *pos)
{
    for (;;) {
        int r = eol(b, len, pos);
        if (r > 0)
            return 0;
        if (r == 0)
            return TIDE_HTTP_PARTIAL;
        long rc = skip_line(b, len, pos);
        if (rc != 0)
            return rc;
    }
}

/* One pass over a chunked body; moves the data to the front of 'b' only when 'copy'. */
static long walk_chunks(char *b, size_t len, bool copy, size_t *body_len, const char **error)
{
    size_t pos = 0, out = 0;
    uint64_t total = 0;
    for (;;) {
        uint64_t size;
        long rc = chunk_size(b, len, &pos, &size);
        if (rc == 0 && size == 0)
            rc = trailers(b, len, &pos);
        if (rc == 0 && size == 0)
            break;
        if (rc == 0) {
            total += size;
            if (len - pos < size)
                rc = TIDE_HTTP_PARTIAL;
        }
        if (rc == TIDE_HTTP_PARTIAL) {
            *body_len = (size_t)total;
            return rc;
        }
        if (rc != 0) {
            *error = "bad chunked body";
            return rc;
        }
        if (copy)
            memmove(b + out, b + pos, (size_t)size);
        out += (size_t)size;
        pos += (size_t)size;
        int r = eol(b, len, &pos);
        if (r == 0) {
            *body_len = (size_t)total;
            return TIDE_HTTP_PARTIAL;
        }
        if (r < 0) {
            *error = "bad chunked body (no CRLF after chunk data)";
            return TIDE_HTTP_BAD;
        }
    }
    *body_len = out;
    return (long)pos;
}

long tide_http_dechunk(char *buf, size_t len, size_t *body_len, const char **error)
{
    long rc = walk_chunks(buf, len, false, body_len, error);
    if (rc < 0)
        return rc;
    return walk_chunks(buf, len, true, body_len, error);
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
