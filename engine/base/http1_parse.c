/* http1_parse.c: the incremental HTTP/1.1 parser of requests and responses (http1_parse.h). */
#include "http1_parse.h"
#include <ctype.h>
#include <string.h>
#include <strings.h>

enum {
    ST_START,      /* waiting for (the rest of) a status or request line */
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

/* ---- the grammar ---- */

bool tide_http1_is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')
        return true;
    return c != '\0' && strchr("!#$%&'*+.^_`|~", c) != NULL;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Field values: visible ASCII, blanks and obs-text (bytes >= 0x80); no other controls. */
static bool is_field_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

int tide_http1_field_split(const char *s, size_t n, struct tide_http1_field *f)
{
    if (n > 0 && is_ows(s[0]))
        return TIDE_HTTP1_FIELD_FOLD;
    size_t i = 0;
    while (i < n && tide_http1_is_tchar((unsigned char)s[i]))
        i++;
    if (i == 0 || i == n || s[i] != ':')
        return TIDE_HTTP1_FIELD_BAD_NAME;
    size_t v = i + 1, end = n;
    while (v < end && is_ows(s[v]))
        v++;
    while (end > v && is_ows(s[end - 1]))
        end--;
    f->name = (struct tide_http1_span){0, (uint32_t)i};
    f->value = (struct tide_http1_span){(uint32_t)v, (uint32_t)(end - v)};
    for (size_t k = v; k < end; k++)
        if (!is_field_char((unsigned char)s[k]))
            return TIDE_HTTP1_FIELD_BAD_VALUE;
    return 0;
}

int64_t tide_http1_length_value(const char *v, size_t n)
{
    if (n == 0 || n > MAX_LENGTH_DIGITS)
        return -1;
    int64_t cl = 0;
    for (size_t k = 0; k < n; k++) {
        if (!isdigit((unsigned char)v[k]))
            return -1;
        cl = cl * 10 + (v[k] - '0');
    }
    return cl;
}

static bool iequal(const char *s, size_t n, const char *lit)
{
    return n == strlen(lit) && strncasecmp(s, lit, n) == 0;
}

/* ---- the parser ---- */

void tide_http1_parser_reset(struct tide_http1_parser *p)
{
    p->status = 0;
    p->method = p->target = (struct tide_http1_span){0, 0};
    p->n_fields = 0;
    p->minor = 1;
    p->keep_alive = false;
    p->chunked = false;
    p->expect_continue = false;
    p->content_length = -1;
    p->head_len = 0;
    p->body_bytes = 0;
    p->error = NULL;
    p->state = ST_START;
    p->started = p->head_done = false;
    p->seen_close = p->seen_keep_alive = p->te_other = p->te_seen = false;
    p->remaining = 0;
    p->consumed = 0;
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

bool tide_http1_head_done(const struct tide_http1_parser *p)
{
    return p->head_done;
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
    case TIDE_HTTP1_ERR_BAD_HEADER:
        return "invalid header line";
    case TIDE_HTTP1_ERR_BODY_SIZE:
        return "body too large";
    default:
        return "no error";
    }
}

/* An error, with the text a server answers (a client reads tide_http1_strerror's). */
static int fail(struct tide_http1_parser *p, int code, const char *why)
{
    p->error = why != NULL ? why : tide_http1_strerror(code);
    return code;
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

static size_t head_limit(const struct tide_http1_parser *p)
{
    return p->max_head > 0 ? p->max_head : TIDE_HTTP1_MAX_HEADERS;
}

static int parse_status(struct tide_http1_parser *p, const char *s, size_t n)
{
    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)s[7]) || s[8] != ' ')
        return fail(p, TIDE_HTTP1_ERR_NOT_HTTP, NULL);
    for (int k = 9; k < 12; k++)
        if (!isdigit((unsigned char)s[k]))
            return fail(p, TIDE_HTTP1_ERR_NOT_HTTP, NULL);
    if (n > 12 && s[12] != ' ')
        return fail(p, TIDE_HTTP1_ERR_NOT_HTTP, NULL);
    p->minor = s[7] - '0';
    p->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (p->status < 100)
        return fail(p, TIDE_HTTP1_ERR_NOT_HTTP, NULL);
    return 0;
}

/* "METHOD SP request-target SP HTTP/1.x": a token, origin-form ("/...") or "*", 1.0 or 1.1. */
static int parse_request_line(struct tide_http1_parser *p, const char *s, size_t n, uint64_t off)
{
    size_t i = 0;
    while (i < n && tide_http1_is_tchar((unsigned char)s[i]))
        i++;
    if (i == 0 || i == n || s[i] != ' ')
        return fail(p, TIDE_HTTP1_ERR_NOT_HTTP, "bad method");
    p->method = (struct tide_http1_span){(uint32_t)off, (uint32_t)i};
    size_t start = ++i;
    while (i < n && (unsigned char)s[i] > ' ' && s[i] != 0x7f)
        i++;
    if (i == start || i == n || s[i] != ' ' ||
        (s[start] != '/' && !(i - start == 1 && s[start] == '*')))
        return fail(p, TIDE_HTTP1_ERR_NOT_HTTP, "bad request target");
    p->target = (struct tide_http1_span){(uint32_t)(off + start), (uint32_t)(i - start)};
    i++;
    if (n - i < 8 || memcmp(s + i, "HTTP/1.", 7) != 0 || (s[i + 7] != '0' && s[i + 7] != '1'))
        return fail(p, TIDE_HTTP1_ERR_NOT_HTTP, "unsupported HTTP version");
    if (n - i != 8)
        return fail(p, TIDE_HTTP1_ERR_NOT_HTTP, "bad request line");
    p->minor = s[i + 7] - '0';
    return 0;
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
    int64_t cl = tide_http1_length_value(v, n);
    if (cl < 0)
        return fail(p, TIDE_HTTP1_ERR_BAD_LENGTH, "bad Content-Length");
    if (p->content_length >= 0 && p->content_length != cl) /* which one frames the body? */
        return fail(p, TIDE_HTTP1_ERR_BAD_LENGTH, "conflicting Content-Length headers");
    p->content_length = cl;
    return 0;
}

/* A request's header line: valid, recorded in 'fields'. */
static int request_field(struct tide_http1_parser *p, int why, const struct tide_http1_field *f,
                         uint64_t off)
{
    if (why == TIDE_HTTP1_FIELD_FOLD)
        return fail(p, TIDE_HTTP1_ERR_BAD_HEADER, "obsolete line folding");
    if (why == TIDE_HTTP1_FIELD_BAD_NAME)
        return fail(p, TIDE_HTTP1_ERR_BAD_HEADER, "bad header name");
    if (why == TIDE_HTTP1_FIELD_BAD_VALUE)
        return fail(p, TIDE_HTTP1_ERR_BAD_HEADER, "bad header value");
    if (p->fields == NULL)
        return 0;
    if (p->n_fields == p->max_fields)
        return fail(p, TIDE_HTTP1_ERR_BAD_HEADER, "too many headers");
    struct tide_http1_field *to = &p->fields[p->n_fields++];
    to->name = (struct tide_http1_span){(uint32_t)(off + f->name.off), f->name.len};
    to->value = (struct tide_http1_span){(uint32_t)(off + f->value.off), f->value.len};
    return 0;
}

/* A header line of the head. A response's broken or folded lines are ignored (only the
 * framing ones are read); a request's are refused. */
static int parse_header(struct tide_http1_parser *p, const char *s, size_t n, uint64_t off)
{
    struct tide_http1_field f;
    int why = tide_http1_field_split(s, n, &f);
    if (p->request) {
        int rc = request_field(p, why, &f, off);
        if (rc != 0)
            return rc;
    } else if (why == TIDE_HTTP1_FIELD_FOLD || why == TIDE_HTTP1_FIELD_BAD_NAME) {
        return 0;
    }
    const char *name = s + f.name.off, *v = s + f.value.off;
    size_t nl = f.name.len, vl = f.value.len;
    if (iequal(name, nl, "Content-Length"))
        return content_length(p, v, vl);
    if (iequal(name, nl, "Transfer-Encoding")) {
        if (p->request) { /* a server that cannot decode a coding refuses it */
            if (p->te_seen || !iequal(v, vl, "chunked"))
                return fail(p, TIDE_HTTP1_ERR_BAD_HEADER,
                            "unsupported Transfer-Encoding (only chunked)");
            p->te_seen = p->chunked = true;
            return 0;
        }
        p->chunked = false;
        each_token(v, vl, encoding_token, p);
        p->te_other = !p->chunked; /* another coding: the body runs to the close */
    } else if (iequal(name, nl, "Connection")) {
        each_token(v, vl, connection_token, p);
    } else if (p->request && iequal(name, nl, "Expect")) {
        p->expect_continue = p->minor == 1 && iequal(v, vl, "100-continue");
    }
    return 0;
}

/* The blank line ended a response's head: what comes next. */
static int response_head_done(struct tide_http1_parser *p)
{
    if (p->status >= 100 && p->status < 200 && p->status != 101) {
        bool head = p->head_request; /* an interim response: the real one follows */
        size_t bytes = p->head_bytes;
        uint64_t consumed = p->consumed;
        tide_http1_parser_reset(p);
        p->head_request = head;
        p->head_bytes = bytes;
        p->consumed = consumed;
        p->started = true;
        return 0;
    }
    p->head_done = true;
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
    return 0;
}

/* The blank line ended a request's head: a request has a body only when it says so. */
static int request_head_done(struct tide_http1_parser *p)
{
    p->head_done = true;
    if (p->te_seen && p->content_length >= 0)
        return fail(p, TIDE_HTTP1_ERR_BAD_HEADER, "both Content-Length and Transfer-Encoding");
    if (p->te_seen && p->minor == 0)
        return fail(p, TIDE_HTTP1_ERR_BAD_HEADER, "Transfer-Encoding in HTTP/1.0");
    p->keep_alive = !p->seen_close && (p->minor >= 1 || p->seen_keep_alive);
    if (p->chunked) {
        p->state = ST_CHUNK_SIZE;
    } else if (p->content_length > 0) {
        if (p->max_body > 0 && (uint64_t)p->content_length > p->max_body)
            return fail(p, TIDE_HTTP1_ERR_BODY_SIZE, "request body too large");
        p->remaining = (uint64_t)p->content_length;
        p->state = ST_BODY_LEN;
    } else {
        p->state = ST_DONE;
    }
    return 0;
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
            return fail(p, TIDE_HTTP1_ERR_BAD_CHUNK, "bad chunked body");
        size = size * 16 + (uint64_t)hexval(s[k]);
        k++;
    }
    if (k == 0)
        return fail(p, TIDE_HTTP1_ERR_BAD_CHUNK, "bad chunked body");
    while (k < n && is_ows(s[k]))
        k++;
    if (k < n && s[k] != ';')
        return fail(p, TIDE_HTTP1_ERR_BAD_CHUNK, "bad chunked body");
    if (p->request && p->max_body > 0 && p->body_bytes + size > p->max_body)
        return fail(p, TIDE_HTTP1_ERR_BODY_SIZE, "request body too large");
    p->remaining = size;
    p->state = size > 0 ? ST_CHUNK_DATA : ST_TRAILERS;
    return 0;
}

static int emit_head_line(struct tide_http1_parser *p, const char *line, size_t n)
{
    p->head_bytes += n;
    if (p->head_bytes > head_limit(p))
        return fail(p, TIDE_HTTP1_ERR_HEADER_SIZE, "request head too large");
    if (p->on_head_line != NULL && p->on_head_line(p->ud, line, n) != 0)
        return fail(p, TIDE_HTTP1_ERR_CALLBACK, NULL);
    return 0;
}

/* A trailer line: a response's are passed on as they are, a request's must be valid fields. */
static int trailer(struct tide_http1_parser *p, const char *line, size_t n, size_t cl)
{
    if (cl == 0) { /* the blank line that ends the body: counted, not a header line (libcurl
                    * does not pass it on either, so both clients count the same bytes) */
        p->head_bytes += n;
        p->state = ST_DONE;
        return 0;
    }
    int rc = emit_head_line(p, line, n);
    if (rc != 0)
        return rc;
    struct tide_http1_field f;
    if (p->request && tide_http1_field_split(line, cl, &f) != 0)
        return fail(p, TIDE_HTTP1_ERR_BAD_CHUNK, "bad chunked body (a broken trailer line)");
    return 0;
}

/* One complete line in a line state; 'off': where it starts in the message. */
static int on_line(struct tide_http1_parser *p, const char *line, size_t n, uint64_t off)
{
    size_t cl = content_len(line, n);
    int rc = 0;
    switch (p->state) {
    case ST_START:
        if (p->request && cl == 0) { /* blank lines before a request line are ignored */
            p->head_bytes += n;
            return p->head_bytes > head_limit(p)
                       ? fail(p, TIDE_HTTP1_ERR_HEADER_SIZE, "request head too large")
                       : 0;
        }
        rc = p->request ? parse_request_line(p, line, cl, off) : parse_status(p, line, cl);
        if (rc != 0 || (rc = emit_head_line(p, line, n)) != 0)
            return rc;
        p->state = ST_HEADERS;
        return 0;
    case ST_HEADERS:
        if ((rc = emit_head_line(p, line, n)) != 0)
            return rc;
        if (cl == 0) {
            p->head_len = off + n;
            return p->request ? request_head_done(p) : response_head_done(p);
        }
        return parse_header(p, line, cl, off);
    case ST_CHUNK_SIZE:
        return chunk_size(p, line, cl);
    case ST_CHUNK_END:
        if (cl != 0)
            return fail(p, TIDE_HTTP1_ERR_BAD_CHUNK, "bad chunked body (no CRLF after chunk data)");
        p->state = ST_CHUNK_SIZE;
        return 0;
    case ST_TRAILERS:
        return trailer(p, line, n, cl);
    default:
        return 0;
    }
}

static int body_bytes(struct tide_http1_parser *p, const char *s, size_t n)
{
    p->body_bytes += n;
    if (p->on_body != NULL && n > 0 && p->on_body(p->ud, s, n) != 0)
        return fail(p, TIDE_HTTP1_ERR_CALLBACK, NULL);
    return 0;
}

/* The longest line the state may read: head lines share the head's budget. */
static size_t line_limit(const struct tide_http1_parser *p)
{
    if (p->state == ST_CHUNK_SIZE || p->state == ST_CHUNK_END)
        return TIDE_HTTP1_MAX_LINE;
    size_t left = head_limit(p) > p->head_bytes ? head_limit(p) - p->head_bytes : 0;
    return left < TIDE_HTTP1_MAX_LINE ? left : TIDE_HTTP1_MAX_LINE;
}

/* Feeds data[0..len) until the message ends; *i: the bytes taken. */
static int feed(struct tide_http1_parser *p, const char *data, size_t len, size_t *i)
{
    uint64_t base = p->consumed; /* the message offset of data[0] */
    while (*i < len && p->state != ST_DONE) {
        int rc = 0;
        if (p->state == ST_BODY_LEN || p->state == ST_CHUNK_DATA || p->state == ST_BODY_CLOSE) {
            size_t n = len - *i;
            if (p->state != ST_BODY_CLOSE && n > p->remaining)
                n = (size_t)p->remaining;
            if ((rc = body_bytes(p, data + *i, n)) != 0)
                return rc;
            *i += n;
            if (p->state != ST_BODY_CLOSE) {
                p->remaining -= n;
                if (p->remaining == 0)
                    p->state = p->state == ST_BODY_LEN ? ST_DONE : ST_CHUNK_END;
            }
            continue;
        }
        const char *line; /* head lines, and chunk lines with their extensions, alike */
        size_t n;
        rc = next_line(p, data, len, i, line_limit(p), &line, &n);
        if (rc == 0)
            break;
        if (rc < 0) {
            if (rc == TIDE_HTTP1_ERR_HEADER_SIZE &&
                (p->state == ST_CHUNK_SIZE || p->state == ST_CHUNK_END))
                return fail(p, TIDE_HTTP1_ERR_BAD_CHUNK, "bad chunked body");
            return fail(p, rc, rc == TIDE_HTTP1_ERR_HEADER_SIZE ? "request head too large" : NULL);
        }
        rc = on_line(p, line, n, base + *i - n);
        p->line.len = 0;
        if (rc != 0)
            return rc;
    }
    return 0;
}

int tide_http1_feed(struct tide_http1_parser *p, const char *data, size_t len, size_t *used)
{
    size_t i = 0;
    if (len > 0)
        p->started = true;
    uint64_t base = p->consumed;
    int rc = feed(p, data, len, &i);
    p->consumed = base + i;
    *used = i;
    if (rc != 0)
        return rc;
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
