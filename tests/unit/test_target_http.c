/* Unit tests of the target's view of a request (the shared parser's spans as strings, path and
 * query split), pipelining, query strings, numbers and reasons. The grammar itself (every split
 * point, malformed input, chunked bodies) is tested with the parser, in test_http1.c. Inputs are
 * placed right before a PROT_NONE page, so reading past the end crashes the test. */
#include <sys/mman.h>
#include <unistd.h>
#include "../check.h"
#include "target_http.h"

static char *guard_base;
static size_t guard_size;

/* Copies 'len' bytes of 's' so that they end where an unreadable page begins. */
static char *guarded(const char *s, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (guard_base == NULL) {
        guard_size = 8 * page;
        guard_base = mmap(NULL, guard_size + page, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (guard_base == MAP_FAILED) {
            perror("mmap");
            _exit(1);
        }
        mprotect(guard_base + guard_size, page, PROT_NONE);
    }
    if (len > guard_size) {
        fprintf(stderr, "input too long for the guard area\n");
        _exit(1);
    }
    char *p = guard_base + guard_size - len;
    memcpy(p, s, len);
    return p;
}

static bool str_is(struct tide_http_str s, const char *lit)
{
    return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

/* Parses the request at buf[0..len) with the shared parser, as the target does: the bytes
 * of the message taken (its head and body; only the head when the body is still to come), or
 * the parser's error (<0) or 0 (the head is incomplete). */
static long parse(const char *buf, size_t len, struct tide_http_req *req)
{
    static struct tide_http1_field fields[TIDE_HTTP_MAX_HEADERS];
    struct tide_http1_parser p = {
        .request = true, .fields = fields, .max_fields = TIDE_HTTP_MAX_HEADERS};
    tide_http1_parser_reset(&p);
    size_t used = 0;
    int rc = tide_http1_feed(&p, buf, len, &used);
    if (rc >= 0 && tide_http1_head_done(&p))
        tide_http_req_from(req, &p, buf);
    long head = (long)p.head_len;
    bool head_only = rc == TIDE_HTTP1_MORE && tide_http1_head_done(&p);
    tide_http1_parser_fini(&p);
    return rc == TIDE_HTTP1_DONE ? (long)used : head_only ? head : rc;
}

struct good_case {
    const char *in;
    const char *method, *path, *query;
    int minor;
    size_t n_headers;
    int64_t content_length;
    bool keep_alive, chunked, expect;
};

static const struct good_case good[] = {
    {"GET / HTTP/1.1\r\n\r\n", "GET", "/", "", 1, 0, -1, true, false, false},
    {"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/health", "", 1, 1, -1, true, false, false},
    {"GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: */*\r\n\r\n", "GET", "/a/b",
     "x=1&y=%20", 1, 2, -1, true, false, false},
    {"POST /api/projects HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n"
     "Content-Type: application/json\r\n\r\n",
     "POST", "/api/projects", "", 1, 3, 13, true, false, false},
    {"PUT /x HTTP/1.1\r\ncontent-LENGTH:   7  \r\n\r\n", "PUT", "/x", "", 1, 1, 7, true, false,
     false},
    {"GET / HTTP/1.0\r\n\r\n", "GET", "/", "", 0, 0, -1, false, false, false},
    {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET", "/", "", 0, 1, -1, true, false,
     false},
    {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", "GET", "/", "", 1, 1, -1, false, false, false},
    {"GET / HTTP/1.1\r\nConnection: keep-alive, CLOSE\r\n\r\n", "GET", "/", "", 1, 1, -1, false,
     false, false},
    {"POST /echo HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", "POST", "/echo", "", 1, 1, -1,
     true, true, false},
    {"POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n", "POST",
     "/echo", "", 1, 2, 2000000, true, false, true},
    {"GET /lf HTTP/1.1\nHost: x\n\n", "GET", "/lf", "", 1, 1, -1, true, false, false},
    {"\r\n\r\nGET /after-blank HTTP/1.1\r\n\r\n", "GET", "/after-blank", "", 1, 0, -1, true, false,
     false},
    {"OPTIONS * HTTP/1.1\r\n\r\n", "OPTIONS", "*", "", 1, 0, -1, true, false, false},
    {"GET /q? HTTP/1.1\r\nX-Empty:\r\nX-Utf8: caf\xc3\xa9\r\n\r\n", "GET", "/q", "", 1, 2, -1, true,
     false, false},
    {"DELETE /api/projects/7 HTTP/1.1\r\nAuthorization: Bearer abc\r\nX-Tenant-ID: t1\r\n\r\n",
     "DELETE", "/api/projects/7", "", 1, 2, -1, true, false, false},
};

static void check_good(const struct good_case *c)
{
    size_t len = strlen(c->in);
    struct tide_http_req req;
    long rc = parse(guarded(c->in, len), len, &req);
    CHECK(rc == (long)len);
    if (rc != (long)len) {
        fprintf(stderr, "  input: %s  rc %ld\n", c->in, rc);
        return;
    }
    CHECK(str_is(req.method, c->method));
    CHECK(str_is(req.path, c->path));
    CHECK(str_is(req.query, c->query));
    CHECK(req.minor_version == c->minor);
    CHECK(req.n_headers == c->n_headers);
    CHECK(req.content_length == c->content_length);
    CHECK(req.keep_alive == c->keep_alive);
    CHECK(req.chunked == c->chunked);
    CHECK(req.expect_continue == c->expect);
}

static void test_target_http_parses_good_requests(void)
{
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        check_good(&good[i]);
    }
}

static void test_target_http_fields(void)
{
    const char *in = "GET /x HTTP/1.1\r\nHost: a\r\nX-Tenant-ID:  t1 \t\r\n"
                     "cookie: a=1; b=2\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n";
    size_t len = strlen(in);
    struct tide_http_req req;
    CHECK(parse(guarded(in, len), len, &req) == (long)len);
    CHECK(str_is(req.headers[1].name, "X-Tenant-ID"));
    CHECK(str_is(req.headers[1].value, "t1"));
    const struct tide_http_str *v = tide_http_header(&req, "x-tenant-id");
    CHECK(v != NULL && str_is(*v, "t1"));
    v = tide_http_header(&req, "COOKIE");
    CHECK(v != NULL && str_is(*v, "a=1; b=2"));
    v = tide_http_header(&req, "X-DUP");
    CHECK(v != NULL && str_is(*v, "1"));
    CHECK(tide_http_header(&req, "Content-Type") == NULL);
    CHECK(tide_http_header(&req, "Host2") == NULL);
}

static void test_target_http_pipelined(void)
{
    const char *in = "GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
                     "POST /two HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                     "GET /three?x HTTP/1.1\r\n\r\n"
                     "GET /four HTTP/1.1\r\n";
    size_t len = strlen(in);
    const char *buf = guarded(in, len);
    struct tide_http_req req;
    long a = parse(buf, len, &req);
    CHECK(a == 30);
    CHECK(str_is(req.path, "/one"));
    long b = parse(buf + a, len - (size_t)a, &req);
    CHECK(b > 0 && str_is(req.path, "/two") && req.content_length == 5);
    CHECK(memcmp(buf + a + b - 5, "hello", 5) == 0); /* the body is part of the message */
    size_t off = (size_t)(a + b);
    long c = parse(buf + off, len - off, &req);
    CHECK(c > 0 && str_is(req.path, "/three") && str_is(req.query, "x"));
    off += (size_t)c;
    CHECK(parse(buf + off, len - off, &req) == TIDE_HTTP1_MORE);
}

static void test_target_http_queries(void)
{
    struct tide_http_str q = {"page=2&per_page=10&q=caf%C3%A9+bar&flag&=x&", 42};
    struct tide_http_str v;
    CHECK(tide_http_query_get(q, "page", &v) && str_is(v, "2"));
    CHECK(tide_http_query_get(q, "per_page", &v) && str_is(v, "10"));
    CHECK(tide_http_query_get(q, "flag", &v) && v.n == 0);
    CHECK(!tide_http_query_get(q, "per", &v));
    CHECK(!tide_http_query_get(q, "missing", &v));
    CHECK(tide_http_query_get(q, "q", &v));
    char out[64];
    long n = tide_http_unescape(v.p, v.n, out, sizeof out);
    CHECK(n == 9 && memcmp(out, "caf\xc3\xa9 bar", 9) == 0);
    CHECK(tide_http_unescape("%zz", 3, out, sizeof out) == -1);
    CHECK(tide_http_unescape("%4", 2, out, sizeof out) == -1);
    CHECK(tide_http_unescape("abc", 3, out, 2) == -1);
    CHECK(tide_http_unescape("%41%62", 6, out, sizeof out) == 2 && memcmp(out, "Ab", 2) == 0);

    struct tide_http_str cookies = {" a=1;b=two ;  c=", 16}, k;
    CHECK(tide_http_pair_next(&cookies, ';', &k, &v) && str_is(k, "a") && str_is(v, "1"));
    CHECK(tide_http_pair_next(&cookies, ';', &k, &v) && str_is(k, "b") && str_is(v, "two "));
    CHECK(tide_http_pair_next(&cookies, ';', &k, &v) && str_is(k, "c") && v.n == 0);
    CHECK(!tide_http_pair_next(&cookies, ';', &k, &v));
}

static void test_target_http_reasons(void)
{
    CHECK_STR(tide_http_reason(200), "OK");
    CHECK_STR(tide_http_reason(404), "Not Found");
    CHECK_STR(tide_http_reason(422), "Unprocessable Content");
    CHECK_STR(tide_http_reason(599), "Unknown");
}

static void test_target_http_decimal(void)
{
    struct tide_http_str s = {"42", 2}, big = {"1234567890123456789", 19}, x = {"4x", 2};
    CHECK(tide_http_decimal(s, 100) == 42);
    CHECK(tide_http_decimal(s, 41) == -1);
    CHECK(tide_http_decimal(big, INT64_MAX) == -1); /* 19 digits: refused, no overflow */
    CHECK(tide_http_decimal(x, 100) == -1);
    CHECK(tide_http_decimal((struct tide_http_str){"", 0}, 100) == -1);
}

int main(void)
{
    test_target_http_decimal();
    test_target_http_parses_good_requests();
    test_target_http_fields();
    test_target_http_pipelined();
    test_target_http_queries();
    test_target_http_reasons();
    return CHECK_DONE();
}
