/* test_http1: the HTTP/1.1 framing module. Every response is fed whole, one byte at a time,
 * and split in two at every point; each way must give the same status, head, body, end and
 * keep-alive verdict. */
#include <stdlib.h>
#include "../check.h"
#include "http1.h"
#include "http1_write.h"

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
    struct outcome o = {.rc = TIDE_HTTP1_MORE};
    size_t at = 0;
    while (at < len) {
        size_t n = step > 0 ? step : (at < split ? split - at : len - at);
        if (n > len - at)
            n = len - at;
        /* a copy of exactly the piece: ASan sees any read beyond it */
        char *piece = malloc(n);
        memcpy(piece, text + at, n);
        size_t used = 0;
        o.rc = tide_http1_feed(&p, piece, n, &used);
        free(piece);
        o.used = at + used;
        at += n;
        if (o.rc != TIDE_HTTP1_MORE)
            break;
    }
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
    CHECK(strstr(o.head, "X-Trailer: t\r\n\r\n") != NULL); /* trailers come as head lines */
    CHECK(o.used == strlen(r) - 4);
    o = every_way("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false, false);
    CHECK(o.rc == TIDE_HTTP1_DONE && o.body[0] == '\0');
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
    printf("test_http1: %d checks, %d failed\n", check_count, check_failures);
    return check_failures != 0;
}
