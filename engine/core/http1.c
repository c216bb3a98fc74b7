/* http1.c: HTTP/1.1 request serializer and incremental response parser (http1.h). */
#include "http1.h"
#include <ctype.h>
#include <string.h>
#include <strings.h>

enum {
    ST_STATUS,     /* waiting for (the rest of) a status line */
    ST_HEADERS,    /* header lines until the blank one */
    ST_BODY_LEN,   /* 'remaining' bytes of a Content-Length body */
    ST_CHUNK_SIZE, /* a chunk-size line (with extensions) */
    ST_CHUNK_DATA, /* 'remaining' bytes of a chunk */
    ST_CHUNK_END,  /* the CRLF after a chunk's data */
    ST_TRAILERS,   /* trailer lines after the last chunk, until the blank one */
    ST_BODY_CLOSE, /* body until the connection closes */
    ST_DONE,
};

#define MAX_LENGTH_DIGITS 18 /* below 10^18: no overflow */
#define MAX_CHUNK_DIGITS  15 /* below 16^15 */

/* ---- the request ---- */

/* The name of a header line ("Name: value" or "Name;"), its length. */
static size_t name_len(const char *line)
{
    size_t n = strcspn(line, ":;");
    return n;
}

/* Whether the caller's lines name 'name' (then the default is not sent). */
static bool given(const struct tide_http1_request *rq, const char *name)
{
    size_t want = strlen(name);
    for (size_t at = 0; at < rq->headers_len; at += strlen(rq->headers + at) + 1) {
        const char *line = rq->headers + at;
        if (name_len(line) == want && strncasecmp(line, name, want) == 0)
            return true;
    }
    return false;
}

/* One caller line as it goes out: "Name:" alone removes a default (nothing sent), "Name;"
 * sends the header with an empty value. */
static void put_line(struct tide_buf *out, const char *line)
{
    size_t n = name_len(line);
    const char *rest = line + n;
    if (*rest == ':') {
        const char *v = rest + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v == '\0')
            return;
    } else if (*rest == ';') {
        const char *v = rest + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v != '\0')
            return; /* "Name; x": not a header libcurl would send either */
        tide_buf_add(out, line, n);
        tide_buf_add(out, ":\r\n", 3);
        return;
    } else {
        return; /* no colon: not a header */
    }
    tide_buf_puts(out, line);
    tide_buf_add(out, "\r\n", 2);
}

static bool is_cookie(const char *line)
{
    return name_len(line) == 6 && strncasecmp(line, "Cookie", 6) == 0;
}

static bool is_body_header(const char *line)
{
    static const char *const names[] = {"Content-Type", "Content-Length", "Content-Encoding",
                                        "Content-Language", "Content-Location"};
    size_t n = name_len(line);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (n == strlen(names[k]) && strncasecmp(line, names[k], n) == 0)
            return true;
    return false;
}

static bool is_credential(const char *line)
{
    static const char *const names[] = {"Authorization", "Cookie", "Proxy-Authorization"};
    size_t n = name_len(line);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (n == strlen(names[k]) && strncasecmp(line, names[k], n) == 0)
            return true;
    return false;
}

/* "Name: value\r\n" without printf: the request head is written once per request, and the
 * printf engine cost more than the rest of the native client (bench/transport_cost.sh). */
static void put_header(struct tide_buf *out, const char *name_colon_space, const char *value)
{
    tide_buf_puts(out, name_colon_space);
    tide_buf_puts(out, value);
    tide_buf_add(out, "\r\n", 2);
}

static void put_length(struct tide_buf *out, size_t n)
{
    char digits[24];
    size_t at = sizeof digits;
    do {
        digits[--at] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0);
    tide_buf_puts(out, "Content-Length: ");
    tide_buf_add(out, digits + at, sizeof digits - at);
    tide_buf_add(out, "\r\n", 2);
}

int tide_http1_write_request(struct tide_buf *out, const struct tide_http1_request *rq)
{
    tide_buf_puts(out, rq->method);
    tide_buf_add(out, " ", 1);
    tide_buf_puts(out, rq->target);
    tide_buf_add(out, " HTTP/1.1\r\n", 11);
    if (!given(rq, "Host"))
        put_header(out, "Host: ", rq->host);
    if (rq->user_agent != NULL && !given(rq, "User-Agent"))
        put_header(out, "User-Agent: ", rq->user_agent);
    if (!given(rq, "Accept"))
        tide_buf_puts(out, "Accept: */*\r\n");
    for (size_t at = 0; at < rq->headers_len; at += strlen(rq->headers + at) + 1) {
        const char *line = rq->headers + at;
        if ((rq->drop_credentials && is_credential(line)) ||
            (rq->cookie != NULL && is_cookie(line)) ||
            (rq->drop_body_headers && is_body_header(line)))
            continue;
        put_line(out, line);
    }
    if (rq->cookie != NULL && rq->cookie[0] != '\0')
        put_header(out, "Cookie: ", rq->cookie);
    if (rq->with_body) {
        if (!given(rq, "Content-Length"))
            put_length(out, rq->body_len);
        if (!given(rq, "Content-Type"))
            tide_buf_puts(out, "Content-Type: application/x-www-form-urlencoded\r\n");
    }
    tide_buf_add(out, "\r\n", 2);
    if (rq->with_body && rq->body_len > 0)
        tide_buf_add(out, rq->body, rq->body_len);
    return out->failed ? -1 : 0;
}

/* ---- the response ---- */

void tide_http1_parser_reset(struct tide_http1_parser *p)
{
    p->status = 0;
    p->minor = 1;
    p->keep_alive = false;
    p->chunked = false;
    p->content_length = -1;
    p->body_bytes = 0;
    p->state = ST_STATUS;
    p->started = false;
    p->seen_close = p->seen_keep_alive = p->te_other = false;
    p->remaining = 0;
    p->head_bytes = 0;
    p->line.len = 0;
}

void tide_http1_parser_fini(struct tide_http1_parser *p)
{
    tide_buf_free(&p->line);
}

bool tide_http1_started(const struct tide_http1_parser *p)
{
    return p->started;
}

const char *tide_http1_strerror(int code)
{
    switch (code) {
    case TIDE_HTTP1_ERR_NOT_HTTP:
        return "the reply is not HTTP/1.x";
    case TIDE_HTTP1_ERR_HEADER_SIZE:
        return "response header too large";
    case TIDE_HTTP1_ERR_BAD_LENGTH:
        return "invalid Content-Length";
    case TIDE_HTTP1_ERR_BAD_CHUNK:
        return "invalid chunked encoding";
    case TIDE_HTTP1_ERR_CALLBACK:
        return "refused by the receiver";
    case TIDE_HTTP1_ERR_TRUNCATED:
        return "connection closed before the response ended";
    default:
        return "no error";
    }
}

/* Finds the next complete line at data[*i...]: 1 with 'line'/'n' ("\n" included) pointing into
 * the input or the parser's buffer, 0 when the slice ended first (the part is kept), or an
 * error. 'limit' bounds the line. */
static int next_line(struct tide_http1_parser *p, const char *data, size_t len, size_t *i,
                     size_t limit, const char **line, size_t *n)
{
    const char *start = data + *i;
    size_t avail = len - *i;
    const char *nl = memchr(start, '\n', avail);
    size_t take = nl != NULL ? (size_t)(nl - start) + 1 : avail;
    if (p->line.len + take > limit)
        return TIDE_HTTP1_ERR_HEADER_SIZE;
    *i += take;
    if (nl != NULL && p->line.len == 0) { /* whole in this slice: no copy */
        *line = start;
        *n = take;
        return 1;
    }
    if (tide_buf_append(&p->line, start, take) != 0)
        return TIDE_HTTP1_ERR_CALLBACK;
    if (nl == NULL)
        return 0;
    *line = p->line.data;
    *n = p->line.len;
    return 1;
}

/* The line without its line end. */
static size_t content_len(const char *line, size_t n)
{
    if (n > 0 && line[n - 1] == '\n')
        n--;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    return n;
}

static int parse_status(struct tide_http1_parser *p, const char *s, size_t n)
{
    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)s[7]) || s[8] != ' ')
        return TIDE_HTTP1_ERR_NOT_HTTP;
    for (int k = 9; k < 12; k++)
        if (!isdigit((unsigned char)s[k]))
            return TIDE_HTTP1_ERR_NOT_HTTP;
    if (n > 12 && s[12] != ' ')
        return TIDE_HTTP1_ERR_NOT_HTTP;
    p->minor = s[7] - '0';
    p->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (p->status < 100)
        return TIDE_HTTP1_ERR_NOT_HTTP;
    return 0;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Calls 'fn' on each comma-separated token of v[0..n), trimmed. */
static void each_token(const char *v, size_t n,
                       void (*fn)(struct tide_http1_parser *, const char *, size_t),
                       struct tide_http1_parser *p)
{
    size_t a = 0;
    while (a <= n) {
        size_t b = a;
        while (b < n && v[b] != ',')
            b++;
        size_t s = a, e = b;
        while (s < e && is_ows(v[s]))
            s++;
        while (e > s && is_ows(v[e - 1]))
            e--;
        if (e > s)
            fn(p, v + s, e - s);
        a = b + 1;
    }
}

static void connection_token(struct tide_http1_parser *p, const char *t, size_t n)
{
    if (n == 5 && strncasecmp(t, "close", 5) == 0)
        p->seen_close = true;
    else if (n == 10 && strncasecmp(t, "keep-alive", 10) == 0)
        p->seen_keep_alive = true;
}

/* Transfer-Encoding: chunked when it is the last coding (else the body runs to the close). */
static void encoding_token(struct tide_http1_parser *p, const char *t, size_t n)
{
    p->chunked = n == 7 && strncasecmp(t, "chunked", 7) == 0;
}

static int content_length(struct tide_http1_parser *p, const char *v, size_t n)
{
    if (n == 0 || n > MAX_LENGTH_DIGITS)
        return TIDE_HTTP1_ERR_BAD_LENGTH;
    int64_t cl = 0;
    for (size_t k = 0; k < n; k++) {
        if (!isdigit((unsigned char)v[k]))
            return TIDE_HTTP1_ERR_BAD_LENGTH;
        cl = cl * 10 + (v[k] - '0');
    }
    if (p->content_length >= 0 && p->content_length != cl)
        return TIDE_HTTP1_ERR_BAD_LENGTH; /* two that differ: which one frames the body? */
    p->content_length = cl;
    return 0;
}

/* A header line of the head: only the framing ones are read. */
static int parse_header(struct tide_http1_parser *p, const char *s, size_t n)
{
    if (n == 0 || is_ows(s[0]))
        return 0; /* an obsolete folded line continues a header framing never reads */
    const char *colon = memchr(s, ':', n);
    if (colon == NULL)
        return 0;
    size_t nl = (size_t)(colon - s);
    const char *v = colon + 1, *end = s + n;
    while (v < end && is_ows(*v))
        v++;
    while (end > v && is_ows(end[-1]))
        end--;
    size_t vl = (size_t)(end - v);
    if (nl == 14 && strncasecmp(s, "Content-Length", 14) == 0)
        return content_length(p, v, vl);
    if (nl == 17 && strncasecmp(s, "Transfer-Encoding", 17) == 0) {
        p->chunked = false;
        each_token(v, vl, encoding_token, p);
        p->te_other = !p->chunked; /* another coding: the body runs to the close */
    } else if (nl == 10 && strncasecmp(s, "Connection", 10) == 0) {
        each_token(v, vl, connection_token, p);
    }
    return 0;
}

/* The blank line ended a head: what comes next. */
static void head_done(struct tide_http1_parser *p)
{
    if (p->status >= 100 && p->status < 200 && p->status != 101) {
        bool head = p->head_request; /* an interim response: the real one follows */
        size_t bytes = p->head_bytes;
        tide_http1_parser_reset(p);
        p->head_request = head;
        p->head_bytes = bytes;
        p->started = true;
        return;
    }
    p->keep_alive = p->minor >= 1 ? !p->seen_close : p->seen_keep_alive && !p->seen_close;
    if (p->head_request || p->status == 204 || p->status == 304 || p->status == 101) {
        p->keep_alive = p->keep_alive && p->status != 101;
        p->state = ST_DONE;
    } else if (p->chunked) {
        p->state = ST_CHUNK_SIZE;
    } else if (p->content_length >= 0 && !p->te_other) {
        p->remaining = (uint64_t)p->content_length;
        p->state = p->remaining > 0 ? ST_BODY_LEN : ST_DONE;
    } else {
        p->keep_alive = false;
        p->state = ST_BODY_CLOSE;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "1a2b[ ][;ext=...]": the size. */
static int chunk_size(struct tide_http1_parser *p, const char *s, size_t n)
{
    size_t k = 0;
    uint64_t size = 0;
    while (k < n && hexval(s[k]) >= 0) {
        if (k == MAX_CHUNK_DIGITS)
            return TIDE_HTTP1_ERR_BAD_CHUNK;
        size = size * 16 + (uint64_t)hexval(s[k]);
        k++;
    }
    if (k == 0)
        return TIDE_HTTP1_ERR_BAD_CHUNK;
    while (k < n && is_ows(s[k]))
        k++;
    if (k < n && s[k] != ';')
        return TIDE_HTTP1_ERR_BAD_CHUNK;
    p->remaining = size;
    p->state = size > 0 ? ST_CHUNK_DATA : ST_TRAILERS;
    return 0;
}

static int emit_head_line(struct tide_http1_parser *p, const char *line, size_t n)
{
    p->head_bytes += n;
    if (p->head_bytes > TIDE_HTTP1_MAX_HEADERS)
        return TIDE_HTTP1_ERR_HEADER_SIZE;
    if (p->on_head_line != NULL && p->on_head_line(p->ud, line, n) != 0)
        return TIDE_HTTP1_ERR_CALLBACK;
    return 0;
}

/* One complete line in a line state. */
static int on_line(struct tide_http1_parser *p, const char *line, size_t n)
{
    size_t cl = content_len(line, n);
    int rc = 0;
    switch (p->state) {
    case ST_STATUS:
        if ((rc = parse_status(p, line, cl)) != 0 || (rc = emit_head_line(p, line, n)) != 0)
            return rc;
        p->state = ST_HEADERS;
        return 0;
    case ST_HEADERS:
        if ((rc = emit_head_line(p, line, n)) != 0)
            return rc;
        if (cl == 0) {
            head_done(p);
            return 0;
        }
        return parse_header(p, line, cl);
    case ST_CHUNK_SIZE:
        return chunk_size(p, line, cl);
    case ST_CHUNK_END:
        if (cl != 0)
            return TIDE_HTTP1_ERR_BAD_CHUNK;
        p->state = ST_CHUNK_SIZE;
        return 0;
    case ST_TRAILERS:
        if ((rc = emit_head_line(p, line, n)) != 0)
            return rc;
        if (cl == 0)
            p->state = ST_DONE;
        return 0;
    default:
        return 0;
    }
}

static int body_bytes(struct tide_http1_parser *p, const char *s, size_t n)
{
    p->body_bytes += n;
    if (p->on_body != NULL && n > 0 && p->on_body(p->ud, s, n) != 0)
        return TIDE_HTTP1_ERR_CALLBACK;
    return 0;
}

int tide_http1_feed(struct tide_http1_parser *p, const char *data, size_t len, size_t *used)
{
    size_t i = 0;
    if (len > 0)
        p->started = true;
    while (i < len && p->state != ST_DONE) {
        int rc = 0;
        if (p->state == ST_BODY_LEN || p->state == ST_CHUNK_DATA || p->state == ST_BODY_CLOSE) {
            size_t n = len - i;
            if (p->state != ST_BODY_CLOSE && n > p->remaining)
                n = (size_t)p->remaining;
            if ((rc = body_bytes(p, data + i, n)) != 0)
                return *used = i, rc;
            i += n;
            if (p->state != ST_BODY_CLOSE) {
                p->remaining -= n;
                if (p->remaining == 0)
                    p->state = p->state == ST_BODY_LEN ? ST_DONE : ST_CHUNK_END;
            }
            continue;
        }
        const char *line; /* head lines, and chunk lines with their extensions, alike */
        size_t n;
        rc = next_line(p, data, len, &i, TIDE_HTTP1_MAX_LINE, &line, &n);
        if (rc == 0)
            break;
        if (rc < 0) {
            if (rc == TIDE_HTTP1_ERR_HEADER_SIZE && p->state == ST_CHUNK_SIZE)
                rc = TIDE_HTTP1_ERR_BAD_CHUNK;
            return *used = i, rc;
        }
        rc = on_line(p, line, n);
        p->line.len = 0;
        if (rc != 0)
            return *used = i, rc;
    }
    *used = i;
    return p->state == ST_DONE ? TIDE_HTTP1_DONE : TIDE_HTTP1_MORE;
}

int tide_http1_eof(struct tide_http1_parser *p)
{
    if (p->state == ST_DONE)
        return TIDE_HTTP1_DONE;
    if (p->state == ST_BODY_CLOSE) {
        p->state = ST_DONE;
        return TIDE_HTTP1_DONE;
    }
    return p->started ? TIDE_HTTP1_ERR_TRUNCATED : TIDE_HTTP1_MORE;
}
