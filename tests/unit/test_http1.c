/* test_http1: the HTTP/1.1 framing module (base/http1_parse.c) and the client's serializer
 * (core/http1.c). Every response and every request is fed whole, one byte at a time, and
 * split in two at every point; each way must give the same verdict: status or request line,
 * header fields, body, where the message ends, keep-alive, the error and its text. */
#include <stdlib.h>
#include "../check.h"
#include "http1.h"

struct got {
    struct tide_buf head, body;
};

static int on_head(void *ud, const char *line, size_t n)
{
    struct got *g = ud;
    return tide_buf_append(&g->head, line, n);
}

static int on_body(void *ud, const char *p, size_t n)
{
    struct got *g = ud;
    return tide_buf_append(&g->body, p, n);
}

/* Feeds 'text' in pieces of 'step' bytes (0: two pieces split at 'split'), each a copy of
 * exactly the piece so ASan sees any read beyond it, until the parser stops asking for more.
 * The last result; '*used': the bytes of 'text' that belonged to the message. */
static int feed_pieces(struct tide_http1_parser *p, const char *text, size_t len, size_t step,
                       size_t split, size_t *used)
{
    int rc = TIDE_HTTP1_MORE;
    size_t at = 0;
    *used = 0;
    while (at < len && rc == TIDE_HTTP1_MORE) {
        size_t n = step > 0 ? step : (at < split ? split - at : len - at);
        if (n > len - at)
            n = len - at;
        char *piece = malloc(n);
        memcpy(piece, text + at, n);
        size_t took = 0;
        rc = tide_http1_feed(p, piece, n, &took);
        free(piece);
        *used = at + took;
        at += n;
    }
    return rc;
}

struct outcome {
    int rc;      /* DONE or the error */
    size_t used; /* bytes of the input that belonged to the response */
    long status;
    bool keep_alive;
    char head[512], body[512];
};

/* Feeds 'text' in pieces of 'step' bytes (0: two pieces split at 'split'); 'eof': the
 * connection closes after the input. */
static struct outcome feed(const char *text, size_t len, bool head_request, size_t step,
                           size_t split, bool eof)
{
    struct got g = {0};
    struct tide_http1_parser p = {0};
    tide_http1_parser_reset(&p);
    p.head_request = head_request;
    p.ud = &g;
    p.on_head_line = on_head;
    p.on_body = on_body;
    struct outcome o = {0};
    o.rc = feed_pieces(&p, text, len, step, split, &o.used);
    if (o.rc == TIDE_HTTP1_MORE && eof)
        o.rc = tide_http1_eof(&p);
    o.status = p.status;
    o.keep_alive = p.keep_alive;
    snprintf(o.head, sizeof o.head, "%s", g.head.data ? g.head.data : "");
    snprintf(o.body, sizeof o.body, "%s", g.body.data ? g.body.data : "");
    tide_buf_free(&g.head);
    tide_buf_free(&g.body);
    tide_http1_parser_fini(&p);
    return o;
}

static bool same(const struct outcome *a, const struct outcome *b)
{
    return a->rc == b->rc && a->used == b->used && a->status == b->status &&
           a->keep_alive == b->keep_alive && strcmp(a->head, b->head) == 0 &&
           strcmp(a->body, b->body) == 0;
}

/* Whole, then byte by byte and at every split: all the same. Returns the whole one's. */
static struct outcome every_way(const char *text, bool head_request, bool eof)
{
    size_t len = strlen(text);
    struct outcome whole = feed(text, len, head_request, len ? len : 1, 0, eof);
    struct outcome bytes = feed(text, len, head_request, 1, 0, eof);
    CHECK(same(&whole, &bytes));
    int differ = 0;
    for (size_t split = 0; split <= len; split++) {
        struct outcome o = feed(text, len, head_request, 0, split, eof);
        differ += !same(&whole, &o);
    }
    CHECK(differ == 0);
    return whole;
}

static void test_content_length(void)
{
    const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhelloHTTP/1.1";
    struct outcome o = every_way(r, false, false);
    CHECK(o.rc == TIDE_HTTP1_DONE);
    CHECK(o.status == 200);
    CHECK(o.keep_alive);
    CHECK_STR(o.body, "hello");
    CHECK_STR(o.head, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\n");
    CHECK(o.used == strlen(r) - strlen("HTTP/1.1")); /* the next response's bytes are left */
    o = every_way("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, false);
    CHECK(o.rc == TIDE_HTTP1_DONE && o.body[0] == '\0');
    o = every_way("HTTP/1.1 200\nContent-Length:  3 \n\nabc", false, false); /* bare LF */
    CHECK(o.rc == TIDE_HTTP1_DONE && strcmp(o.body, "abc") == 0 && o.status == 200);
}

static void test_chunked(void)
{
    const char *r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 99\r\n"
                    "\r\n5;name=\"v;x\"\r\nhello\r\n1 ; a=b\r\n!\r\nA\r\n0123456789\r\n"
                    "0;last\r\nX-Trailer: t\r\n\r\nNEXT";
    struct outcome o = every_way(r, false, false);
    CHECK(o.rc == TIDE_HTTP1_DONE);
    CHECK_STR(o.body, "hello!0123456789");
    CHECK(o.keep_alive);
    /* trailers come as head lines; the blank line that ends them does not (as with libcurl) */
    CHECK(strstr(o.head, "\r\n\r\nX-Trailer: t\r\n") != NULL);
    CHECK(strstr(o.head, "X-Trailer: t\r\n\r\n") == NULL);
    CHECK(o.used == strlen(r) - 4);
    o = every_way("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false, false);
    CHECK(o.rc == TIDE_HTTP1_DONE && o.body[0] == '\0');
    CHECK_STR(o.head, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    o = every_way("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, false);
    CHECK(o.rc == TIDE_HTTP1_ERR_BAD_CHUNK);
    o = every_way("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", false,
                  false);
    CHECK(o.rc == TIDE_HTTP1_ERR_BAD_CHUNK); /* data longer than its size */
    o = every_way("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n",
                  false, false);
    CHECK(o.rc == TIDE_HTTP1_ERR_BAD_CHUNK); /* a size past 16^15 */
    o = every_way("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", false, true);
    CHECK(o.rc == TIDE_HTTP1_ERR_TRUNCATED);
}

static void test_until_close(void)
{
    struct outcome o = every_way("HTTP/1.1 200 OK\r\nX: y\r\n\r\nall of it", false, true);
    CHECK(o.rc == TIDE_HTTP1_DONE);
    CHECK(!o.keep_alive);
    CHECK_STR(o.body, "all of it");
    o = every_way("HTTP/1.1 200 OK\r\nX: y\r\n\r\nall of it", false, false);
    CHECK(o.rc == TIDE_HTTP1_MORE); /* not ended until the close */
    o = every_way("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabc",
                  false, true);
    CHECK(o.rc == TIDE_HTTP1_DONE && strcmp(o.body, "abc") == 0);
}

static void test_no_body(void)
{
    struct outcome o =
        every_way("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 ...", true, false);
    CHECK(o.rc == TIDE_HTTP1_DONE && o.body[0] == '\0' && o.keep_alive);
    CHECK(o.used == strlen("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"));
    o = every_way("HTTP/1.1 204 No Content\r\n\r\n", false, false);
    CHECK(o.rc == TIDE_HTTP1_DONE && o.status == 204);
    o = every_way("HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n", false, false);
    CHECK(o.rc == TIDE_HTTP1_DONE && o.status == 304 && o.body[0] == '\0');
}

static void test_interim(void)
{
    const char *r = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                    "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    struct outcome o = every_way(r, false, false);
    CHECK(o.rc == TIDE_HTTP1_DONE && o.status == 201);
    CHECK_STR(o.body, "ok");
    CHECK(strstr(o.head, "HTTP/1.1 201 Created\r\n") != NULL); /* the last head is the answer */
}

static void test_connection(void)
{
    struct outcome o =
        every_way("HTTP/1.1 200 OK\r\nConnection: Upgrade, close\r\nContent-Length: 1\r\n\r\nx",
                  false, false);
    CHECK(o.rc == TIDE_HTTP1_DONE && !o.keep_alive);
    o = every_way("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", false, false);
    CHECK(o.rc == TIDE_HTTP1_DONE && !o.keep_alive);
    o = every_way("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", false,
                  false);
    CHECK(o.rc == TIDE_HTTP1_DONE && o.keep_alive);
}

static void test_errors(void)
{
    CHECK(every_way("SSH-2.0-OpenSSH\r\n", false, false).rc == TIDE_HTTP1_ERR_NOT_HTTP);
    CHECK(every_way("HTTP/2 200\r\n\r\n", false, false).rc == TIDE_HTTP1_ERR_NOT_HTTP);
    CHECK(every_way("HTTP/1.1 2x0 OK\r\n\r\n", false, false).rc == TIDE_HTTP1_ERR_NOT_HTTP);
    CHECK(every_way("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", false, false).rc ==
          TIDE_HTTP1_ERR_BAD_LENGTH);
    CHECK(
        every_way("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", false, false)
            .rc == TIDE_HTTP1_ERR_BAD_LENGTH);
    CHECK(every_way("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", false, false)
              .rc == TIDE_HTTP1_ERR_BAD_LENGTH);
    CHECK(every_way("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", false, true).rc ==
          TIDE_HTTP1_ERR_TRUNCATED);
    CHECK(every_way("HTTP/1.1 200 OK\r\nX: y", false, true).rc == TIDE_HTTP1_ERR_TRUNCATED);
    CHECK(every_way("", false, true).rc == TIDE_HTTP1_MORE); /* nothing came: the caller says */
}

static void test_limits(void)
{
    size_t n = TIDE_HTTP1_MAX_LINE + 100;
    char *r = malloc(n + 64);
    strcpy(r, "HTTP/1.1 200 OK\r\nX: ");
    size_t at = strlen(r);
    memset(r + at, 'a', n);
    strcpy(r + at + n, "\r\n\r\n");
    struct outcome o = feed(r, strlen(r), false, 4096, 0, true);
    CHECK(o.rc == TIDE_HTTP1_ERR_HEADER_SIZE);
    /* many lines, each short, over the total */
    struct tide_buf b = {0};
    tide_buf_puts(&b, "HTTP/1.1 200 OK\r\n");
    while (b.len <= TIDE_HTTP1_MAX_HEADERS)
        tide_buf_puts(&b, "X-Some-Header: some value of it\r\n");
    tide_buf_puts(&b, "\r\n");
    o = feed(b.data, b.len, false, 65536, 0, true);
    CHECK(o.rc == TIDE_HTTP1_ERR_HEADER_SIZE);
    tide_buf_free(&b);
    free(r);
}

static void test_request(void)
{
    struct tide_buf out = {0};
    const char hdrs[] = "X-A: 1\0Accept: text/plain\0User-Agent:\0X-Empty;";
    struct tide_http1_request rq = {.method = "POST",
                                    .target = "/p?q=1",
                                    .host = "h:8080",
                                    .headers = hdrs,
                                    .headers_len = sizeof hdrs,
                                    .body = "a=b",
                                    .body_len = 3,
                                    .with_body = true,
                                    .user_agent = "tide/x"};
    CHECK(tide_http1_write_request(&out, &rq) == 0);
    CHECK_STR(out.data, "POST /p?q=1 HTTP/1.1\r\nHost: h:8080\r\nX-A: 1\r\nAccept: text/plain\r\n"
                        "X-Empty:\r\nContent-Length: 3\r\n"
                        "Content-Type: application/x-www-form-urlencoded\r\n\r\na=b");
    out.len = 0;
    rq = (struct tide_http1_request){
        .method = "GET", .target = "/", .host = "h", .user_agent = "tide/x"};
    CHECK(tide_http1_write_request(&out, &rq) == 0);
    CHECK_STR(out.data, "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: tide/x\r\nAccept: */*\r\n\r\n");
    tide_buf_free(&out);
}

/* ---- requests (the server's side: `tide target`) ---- */

struct req_outcome {
    int rc;
    size_t used;
    char line[256];   /* "METHOD TARGET 1.x" */
    char fields[512]; /* "name=value|..." */
    char body[512];
    int64_t content_length;
    bool keep_alive, chunked, expect;
    const char *error;
};

static void span_cat(char *out, size_t cap, const char *msg, struct tide_http1_span s)
{
    size_t at = strlen(out);
    snprintf(out + at, cap - at, "%.*s", (int)s.len, msg + s.off);
}

/* Feeds a request as feed() does a response; 'max_head'/'max_body' set the limits (0: none). */
static struct req_outcome feed_request(const char *text, size_t len, size_t step, size_t split,
                                       size_t max_head, uint64_t max_body)
{
    struct got g = {0};
    struct tide_http1_field fields[8];
    struct tide_http1_parser p = {.request = true,
                                  .max_head = max_head,
                                  .max_body = max_body,
                                  .fields = fields,
                                  .max_fields = 8,
                                  .ud = &g,
                                  .on_body = on_body};
    tide_http1_parser_reset(&p);
    struct req_outcome o = {0};
    o.rc = feed_pieces(&p, text, len, step, split, &o.used);
    if (tide_http1_head_done(&p) && o.rc >= 0) {
        span_cat(o.line, sizeof o.line, text, p.method);
        strcat(o.line, " ");
        span_cat(o.line, sizeof o.line, text, p.target);
        snprintf(o.line + strlen(o.line), sizeof o.line - strlen(o.line), " 1.%d", p.minor);
        for (size_t k = 0; k < p.n_fields; k++) {
            span_cat(o.fields, sizeof o.fields, text, fields[k].name);
            strcat(o.fields, "=");
            span_cat(o.fields, sizeof o.fields, text, fields[k].value);
            strcat(o.fields, "|");
        }
    }
    o.content_length = p.content_length;
    o.keep_alive = p.keep_alive;
    o.chunked = p.chunked;
    o.expect = p.expect_continue;
    o.error = o.rc < 0 ? p.error : NULL;
    snprintf(o.body, sizeof o.body, "%s", g.body.data ? g.body.data : "");
    tide_buf_free(&g.body);
    tide_http1_parser_fini(&p);
    return o;
}

static bool same_request(const struct req_outcome *a, const struct req_outcome *b)
{
    return a->rc == b->rc && (a->rc < 0 || a->used == b->used) && strcmp(a->line, b->line) == 0 &&
           strcmp(a->fields, b->fields) == 0 && strcmp(a->body, b->body) == 0 &&
           a->content_length == b->content_length && a->keep_alive == b->keep_alive &&
           a->chunked == b->chunked && a->expect == b->expect &&
           (a->error == NULL) == (b->error == NULL) &&
           (a->error == NULL || strcmp(a->error, b->error) == 0);
}

static struct req_outcome request_every_way(const char *text, size_t max_head, uint64_t max_body)
{
    size_t len = strlen(text);
    struct req_outcome whole = feed_request(text, len, len ? len : 1, 0, max_head, max_body);
    struct req_outcome bytes = feed_request(text, len, 1, 0, max_head, max_body);
    CHECK(same_request(&whole, &bytes));
    int differ = 0;
    for (size_t split = 0; split <= len; split++) {
        struct req_outcome o = feed_request(text, len, 0, split, max_head, max_body);
        differ += !same_request(&whole, &o);
    }
    CHECK(differ == 0);
    if (differ != 0 || !same_request(&whole, &bytes))
        fprintf(stderr, "  fed differently: %s\n", text);
    return whole;
}

struct good_request {
    const char *in, *line, *fields, *body;
    size_t used; /* 0: all of 'in' */
    int64_t content_length;
    bool keep_alive, chunked, expect;
};

static const struct good_request good_requests[] = {
    {"GET / HTTP/1.1\r\n\r\n", "GET / 1.1", "", "", 0, -1, true, false, false},
    {"GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: */*\r\n\r\n",
     "GET /a/b?x=1&y=%20 1.1", "Host=127.0.0.1:8080|Accept=*/*|", "", 0, -1, true, false, false},
    {"PUT /x HTTP/1.1\r\ncontent-LENGTH:   7  \r\n\r\nabcdefgGET", "PUT /x 1.1",
     "content-LENGTH=7|", "abcdefg", 49, 7, true, false, false},
    {"GET / HTTP/1.0\r\n\r\n", "GET / 1.0", "", "", 0, -1, false, false, false},
    {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET / 1.0", "Connection=Keep-Alive|", "",
     0, -1, true, false, false},
    {"GET / HTTP/1.1\r\nConnection: keep-alive, CLOSE\r\n\r\n", "GET / 1.1",
     "Connection=keep-alive, CLOSE|", "", 0, -1, false, false, false},
    {"POST /echo HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n5;ext=\"a;b\"\r\nhello\r\n"
     "6 \r\n world\r\n0\r\nX-Trailer: t\r\n\r\nGET / HTTP/1.1\r\n",
     "POST /echo 1.1", "Transfer-Encoding=Chunked|", "hello world", 102, -1, true, true, false},
    {"POST /c HTTP/1.1\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n", "POST /c 1.1",
     "Transfer-Encoding=chunked|", "abc", 0, -1, true, true, false},
    {"POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok", "POST /echo 1.1",
     "Expect=100-continue|Content-Length=2|", "ok", 0, 2, true, false, true},
    {"POST /e HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n", "POST /e 1.0",
     "Expect=100-continue|Content-Length=0|", "", 0, 0, false, false, false},
    {"\r\n\r\nGET /after-blank HTTP/1.1\r\n\r\n", "GET /after-blank 1.1", "", "", 0, -1, true,
     false, false},
    {"OPTIONS * HTTP/1.1\r\n\r\n", "OPTIONS * 1.1", "", "", 0, -1, true, false, false},
    {"GET /q? HTTP/1.1\r\nX-Empty:\r\nX-Utf8: caf\xc3\xa9\r\n\r\n", "GET /q? 1.1",
     "X-Empty=|X-Utf8=caf\xc3\xa9|", "", 0, -1, true, false, false},
    {"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", "POST / 1.1",
     "Content-Length=3|Content-Length=3|", "abc", 0, 3, true, false, false},
};

static void test_request_good(void)
{
    for (size_t i = 0; i < sizeof good_requests / sizeof good_requests[0]; i++) {
        const struct good_request *c = &good_requests[i];
        struct req_outcome o = request_every_way(c->in, 0, 0);
        bool ok = o.rc == TIDE_HTTP1_DONE && o.used == (c->used ? c->used : strlen(c->in)) &&
                  strcmp(o.line, c->line) == 0 && strcmp(o.fields, c->fields) == 0 &&
                  strcmp(o.body, c->body) == 0 && o.content_length == c->content_length &&
                  o.keep_alive == c->keep_alive && o.chunked == c->chunked && o.expect == c->expect;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  request %zu: rc %d used %zu line '%s' fields '%s' body '%s' %s\n", i,
                    o.rc, o.used, o.line, o.fields, o.body, o.error ? o.error : "");
    }
}

struct bad_request {
    const char *in;
    int rc;
    const char *error;
};

static const struct bad_request bad_requests[] = {
    {" GET / HTTP/1.1\r\n\r\n", TIDE_HTTP1_ERR_NOT_HTTP, "bad method"},
    {"G(T / HTTP/1.1\r\n\r\n", TIDE_HTTP1_ERR_NOT_HTTP, "bad method"},
    {"GET\r\n\r\n", TIDE_HTTP1_ERR_NOT_HTTP, "bad method"},
    {"GET  / HTTP/1.1\r\n\r\n", TIDE_HTTP1_ERR_NOT_HTTP, "bad request target"},
    {"GET x HTTP/1.1\r\n\r\n", TIDE_HTTP1_ERR_NOT_HTTP, "bad request target"},
    {"GET http://h/ HTTP/1.1\r\n\r\n", TIDE_HTTP1_ERR_NOT_HTTP, "bad request target"},
    {"GET /\r\n\r\n", TIDE_HTTP1_ERR_NOT_HTTP, "bad request target"},
    {"GET / HTTP/2.0\r\n\r\n", TIDE_HTTP1_ERR_NOT_HTTP, "unsupported HTTP version"},
    {"GET / HTTP/1.2\r\n\r\n", TIDE_HTTP1_ERR_NOT_HTTP, "unsupported HTTP version"},
    {"GET / http/1.1\r\n\r\n", TIDE_HTTP1_ERR_NOT_HTTP, "unsupported HTTP version"},
    {"GET / HTTP/1\r\n\r\n", TIDE_HTTP1_ERR_NOT_HTTP, "unsupported HTTP version"},
    {"GET / HTTP/1.1 \r\n\r\n", TIDE_HTTP1_ERR_NOT_HTTP, "bad request line"},
    {"GET / HTTP/1.1\rX\n\r\n", TIDE_HTTP1_ERR_NOT_HTTP, "bad request line"},
    {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", TIDE_HTTP1_ERR_BAD_HEADER, "bad header name"},
    {"GET / HTTP/1.1\r\n: x\r\n\r\n", TIDE_HTTP1_ERR_BAD_HEADER, "bad header name"},
    {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", TIDE_HTTP1_ERR_BAD_HEADER,
     "obsolete line folding"},
    {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", TIDE_HTTP1_ERR_BAD_HEADER, "bad header name"},
    {"GET / HTTP/1.1\r\nX: a\x01"
     "b\r\n\r\n",
     TIDE_HTTP1_ERR_BAD_HEADER, "bad header value"},
    {"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", TIDE_HTTP1_ERR_BAD_HEADER, "bad header value"},
    {"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", TIDE_HTTP1_ERR_BAD_LENGTH,
     "bad Content-Length"},
    {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", TIDE_HTTP1_ERR_BAD_LENGTH,
     "bad Content-Length"},
    {"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", TIDE_HTTP1_ERR_BAD_LENGTH,
     "bad Content-Length"},
    {"POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", TIDE_HTTP1_ERR_BAD_LENGTH,
     "bad Content-Length"},
    {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", TIDE_HTTP1_ERR_BAD_LENGTH,
     "bad Content-Length"},
    {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", TIDE_HTTP1_ERR_BAD_LENGTH,
     "conflicting Content-Length headers"},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", TIDE_HTTP1_ERR_BAD_HEADER,
     "unsupported Transfer-Encoding (only chunked)"},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
     TIDE_HTTP1_ERR_BAD_HEADER, "unsupported Transfer-Encoding (only chunked)"},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
     TIDE_HTTP1_ERR_BAD_HEADER, "both Content-Length and Transfer-Encoding"},
    {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", TIDE_HTTP1_ERR_BAD_HEADER,
     "Transfer-Encoding in HTTP/1.0"},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nx\r\n", TIDE_HTTP1_ERR_BAD_CHUNK,
     "bad chunked body"},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\n", TIDE_HTTP1_ERR_BAD_CHUNK,
     "bad chunked body"},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
     TIDE_HTTP1_ERR_BAD_CHUNK, "bad chunked body"},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
     TIDE_HTTP1_ERR_BAD_CHUNK, "bad chunked body (no CRLF after chunk data)"},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX\x01\r\n\r\n",
     TIDE_HTTP1_ERR_BAD_CHUNK, "bad chunked body (a broken trailer line)"},
    {"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\nI: "
     "9\r\n\r\n",
     TIDE_HTTP1_ERR_BAD_HEADER, "too many headers"},
};

static void test_request_bad(void)
{
    for (size_t i = 0; i < sizeof bad_requests / sizeof bad_requests[0]; i++) {
        const struct bad_request *c = &bad_requests[i];
        struct req_outcome o = request_every_way(c->in, 0, 0);
        bool ok = o.rc == c->rc && o.error != NULL && strcmp(o.error, c->error) == 0;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  bad request %zu: rc %d error %s\n", i, o.rc,
                    o.error ? o.error : "(none)");
    }
}

static void test_request_limits(void)
{
    /* the head: over 'max_head' (blank lines before it count) is HEADER_SIZE, at it is fine */
    const char *r = "GET /0123456789 HTTP/1.1\r\nHost: x\r\n\r\n";
    struct req_outcome o = request_every_way(r, strlen(r), 0);
    CHECK(o.rc == TIDE_HTTP1_DONE);
    o = request_every_way(r, strlen(r) - 1, 0);
    CHECK(o.rc == TIDE_HTTP1_ERR_HEADER_SIZE && strcmp(o.error, "request head too large") == 0);
    o = request_every_way("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n", 16, 0);
    CHECK(o.rc == TIDE_HTTP1_ERR_HEADER_SIZE);
    /* an endless line is refused once over the limit, without its end */
    o = request_every_way("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 32, 0);
    CHECK(o.rc == TIDE_HTTP1_ERR_HEADER_SIZE);
    /* the body: a Content-Length or chunk sizes over 'max_body', refused before the data */
    o = request_every_way("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 0, 10);
    CHECK(o.rc == TIDE_HTTP1_ERR_BODY_SIZE && strcmp(o.error, "request body too large") == 0);
    o = request_every_way("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", 0, 10);
    CHECK(o.rc == TIDE_HTTP1_DONE && strcmp(o.body, "0123456789") == 0);
    o = request_every_way("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\nhello\r\n6\r\n",
                          0, 10);
    CHECK(o.rc == TIDE_HTTP1_ERR_BODY_SIZE);
    o = request_every_way("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n",
                          0, 10);
    CHECK(o.rc == TIDE_HTTP1_DONE && strcmp(o.body, "helloworld") == 0);
    /* trailers share the head's budget */
    o = request_every_way("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "0\r\nX-Long-Trailer: 0123456789012345678901234567890123456789\r\n\r\n",
                          80, 0);
    CHECK(o.rc == TIDE_HTTP1_ERR_HEADER_SIZE);
}

/* Pipelined requests: each DONE leaves the next request's bytes; the parser, reset, reads
 * them. Also a message ended by the connection: a request never reads until close. */
static void test_request_pipelined(void)
{
    const char *in = "GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
                     "POST /two HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                     "GET /three?x HTTP/1.0\r\n\r\n"
                     "GET /four HTTP/1.1\r\n";
    const char *want[] = {"GET /one 1.1", "POST /two 1.1", "GET /three?x 1.0"};
    size_t off = 0, len = strlen(in);
    for (size_t k = 0; k < 3; k++) {
        struct req_outcome o = request_every_way(in + off, 0, 0);
        CHECK(o.rc == TIDE_HTTP1_DONE && strcmp(o.line, want[k]) == 0);
        off += o.used;
    }
    CHECK(strcmp(in + off, "GET /four HTTP/1.1\r\n") == 0);
    struct req_outcome o = request_every_way(in + off, 0, 0);
    CHECK(o.rc == TIDE_HTTP1_MORE && off < len);
    struct tide_http1_parser p = {.request = true};
    tide_http1_parser_reset(&p);
    size_t used;
    CHECK(tide_http1_feed(&p, "GET / HTTP/1.1\r\n", 16, &used) == TIDE_HTTP1_MORE);
    CHECK(tide_http1_eof(&p) == TIDE_HTTP1_ERR_TRUNCATED);
    tide_http1_parser_fini(&p);
}

/* The grammar's pieces, as both sides use them. */
static void test_grammar(void)
{
    struct tide_http1_field f;
    CHECK(tide_http1_field_split("Name: \t v a \t", 13, &f) == 0);
    CHECK(f.name.off == 0 && f.name.len == 4 && f.value.off == 8 && f.value.len == 3);
    CHECK(tide_http1_field_split(" cont", 5, &f) == TIDE_HTTP1_FIELD_FOLD);
    CHECK(tide_http1_field_split("\tcont", 5, &f) == TIDE_HTTP1_FIELD_FOLD);
    CHECK(tide_http1_field_split("Na me: v", 8, &f) == TIDE_HTTP1_FIELD_BAD_NAME);
    CHECK(tide_http1_field_split("Name", 4, &f) == TIDE_HTTP1_FIELD_BAD_NAME);
    CHECK(tide_http1_field_split("N: \x7f", 4, &f) == TIDE_HTTP1_FIELD_BAD_VALUE);
    CHECK(tide_http1_field_split("N: caf\xc3\xa9", 8, &f) == 0); /* obs-text is allowed */
    CHECK(tide_http1_length_value("0", 1) == 0);
    CHECK(tide_http1_length_value("123456789012345678", 18) == 123456789012345678);
    CHECK(tide_http1_length_value("1234567890123456789", 19) == -1);
    CHECK(tide_http1_length_value("+1", 2) == -1);
    CHECK(tide_http1_is_tchar('~') && !tide_http1_is_tchar('(') && !tide_http1_is_tchar(0x80));
}

int main(void)
{
    test_content_length();
    test_chunked();
    test_until_close();
    test_no_body();
    test_interim();
    test_connection();
    test_errors();
    test_limits();
    test_request();
    test_request_good();
    test_request_bad();
    test_request_limits();
    test_request_pipelined();
    test_grammar();
    printf("test_http1: %d checks, %d failed\n", check_count, check_failures);
    return check_failures != 0;
}
