/* Unit tests of the target's HTTP/1.1 request parser: tables of requests, every truncation of
 * each one, pipelining, malformed input, chunked bodies and query strings. Inputs are placed
 * right before a PROT_NONE page, so reading past the end crashes the test. */
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
    long rc = tide_http_parse(guarded(c->in, len), len, &req);
    CHECK(rc == (long)len);
    if (rc != (long)len) {
        fprintf(stderr, "  input: %s  rc %ld error %s\n", c->in, rc, req.error);
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

/* Every strict prefix of a complete head is incomplete, never an error nor a success. */
static void check_truncations(const char *in)
{
    size_t len = strlen(in);
    for (size_t n = 0; n < len; n++) {
        struct tide_http_req req;
        long rc = tide_http_parse(guarded(in, n), n, &req);
        CHECK(rc == TIDE_HTTP_PARTIAL);
        if (rc != TIDE_HTTP_PARTIAL)
            fprintf(stderr, "  prefix %zu of %s  rc %ld\n", n, in, rc);
    }
}

static void test_target_http_parses_good_requests(void)
{
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        check_good(&good[i]);
        check_truncations(good[i].in);
    }
}

static void test_target_http_fields(void)
{
    const char *in = "GET /x HTTP/1.1\r\nHost: a\r\nX-Tenant-ID:  t1 \t\r\n"
                     "cookie: a=1; b=2\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n";
    size_t len = strlen(in);
    struct tide_http_req req;
    CHECK(tide_http_parse(guarded(in, len), len, &req) == (long)len);
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
    long a = tide_http_parse(buf, len, &req);
    CHECK(a == 30);
    CHECK(str_is(req.path, "/one"));
    long b = tide_http_parse(buf + a, len - (size_t)a, &req);
    CHECK(b > 0 && str_is(req.path, "/two") && req.content_length == 5);
    CHECK(memcmp(buf + a + b, "hello", 5) == 0);
    size_t off = (size_t)(a + b + 5);
    long c = tide_http_parse(buf + off, len - off, &req);
    CHECK(c > 0 && str_is(req.path, "/three") && str_is(req.query, "x"));
    off += (size_t)c;
    CHECK(tide_http_parse(buf + off, len - off, &req) == TIDE_HTTP_PARTIAL);
}

struct bad_case {
    const char *in;
    const char *error;
};

static const struct bad_case bads[] = {
    {" GET / HTTP/1.1\r\n\r\n", "bad method"},
    {"G(T / HTTP/1.1\r\n\r\n", "bad method"},
    {"GET  / HTTP/1.1\r\n\r\n", "bad request target"},
    {"GET x HTTP/1.1\r\n\r\n", "bad request target"},
    {"GET /\r\n\r\n", "bad request target"},
    {"GET / HTTP/2.0\r\n\r\n", "unsupported HTTP version"},
    {"GET / HTTP/1.2\r\n\r\n", "unsupported HTTP version"},
    {"GET / http/1.1\r\n\r\n", "unsupported HTTP version"},
    {"GET / HTTP/1.1 \r\n\r\n", "bad request line"},
    {"GET / HTTP/1.1\rX\n\r\n", "bad request line"},
    {"\rX", "bad request line"},
    {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", "bad header name"},
    {"GET / HTTP/1.1\r\n: x\r\n\r\n", "bad header name"},
    {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "bad header name"},
    {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", "bad header name"},
    {"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n", "bad header value"},
    {"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", "bad header value"},
    {"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", "bad Content-Length"},
    {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"},
    {"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", "bad Content-Length"},
    {"POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", "bad Content-Length"},
    {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", "bad Content-Length"},
    {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
     "conflicting Content-Length headers"},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
     "unsupported Transfer-Encoding (only chunked)"},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
     "both Content-Length and Transfer-Encoding"},
    {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding in HTTP/1.0"},
};

static void test_target_http_rejects_bad_requests(void)
{
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        size_t len = strlen(bads[i].in);
        struct tide_http_req req;
        long rc = tide_http_parse(guarded(bads[i].in, len), len, &req);
        CHECK(rc == TIDE_HTTP_BAD);
        CHECK_STR(req.error, bads[i].error);
        /* A prefix may still look fine, but is never a complete request. */
        for (size_t n = 0; n < len; n++) {
            rc = tide_http_parse(guarded(bads[i].in, n), n, &req);
            CHECK(rc == TIDE_HTTP_PARTIAL || rc == TIDE_HTTP_BAD);
        }
    }
}

static void test_target_http_too_many_headers(void)
{
    char in[4096];
    size_t len = (size_t)snprintf(in, sizeof in, "GET / HTTP/1.1\r\n");
    for (int i = 0; i <= TIDE_HTTP_MAX_HEADERS; i++)
        len += (size_t)snprintf(in + len, sizeof in - len, "X-%d: v\r\n", i);
    len += (size_t)snprintf(in + len, sizeof in - len, "\r\n");
    struct tide_http_req req;
    CHECK(tide_http_parse(guarded(in, len), len, &req) == TIDE_HTTP_BAD);
    CHECK_STR(req.error, "too many headers");
}

struct chunk_case {
    const char *in;
    const char *body; /* NULL: malformed */
    size_t consumed;  /* of the input; the rest belongs to the next request */
};

static const struct chunk_case chunks[] = {
    {"5\r\nhello\r\n0\r\n\r\n", "hello", 15},
    {"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET", "hello world", 26},
    {"A;ext=1\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n", "0123456789", 40},
    {"0\r\n\r\n", "", 5},
    {"3\nabc\n0\n\n", "abc", 9},
    {"x\r\n", NULL, 0},
    {"3\r\nabcd\r\n0\r\n\r\n", NULL, 0},
    {"3\r\nabc\r\n0\r\nX\x01\r\n\r\n", NULL, 0},
    {"fffffffffffffffff\r\n", NULL, 0},
};

static void test_target_http_dechunks(void)
{
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        const struct chunk_case *c = &chunks[i];
        size_t len = strlen(c->in);
        size_t body_len = 0;
        const char *error = NULL;
        char *buf = guarded(c->in, len);
        long rc = tide_http_dechunk(buf, len, &body_len, &error);
        if (c->body == NULL) {
            CHECK(rc == TIDE_HTTP_BAD);
            CHECK(error != NULL);
            continue;
        }
        CHECK(rc == (long)c->consumed);
        if (rc != (long)c->consumed)
            fprintf(stderr, "  chunk case %zu: rc %ld\n", i, rc);
        CHECK(body_len == strlen(c->body) && memcmp(buf, c->body, body_len) == 0);
        for (size_t n = 0; n < c->consumed; n++) {
            buf = guarded(c->in, n);
            rc = tide_http_dechunk(buf, n, &body_len, &error);
            CHECK(rc == TIDE_HTTP_PARTIAL);
            CHECK(memcmp(buf, c->in, n) == 0); /* untouched until complete */
        }
    }
    /* Announced sizes count before their data arrives, so the caller can refuse early. */
    size_t body_len = 0;
    const char *error = NULL;
    char big[] = "5\r\nhello\r\n100000\r\nabc";
    CHECK(tide_http_dechunk(big, strlen(big), &body_len, &error) == TIDE_HTTP_PARTIAL);
    CHECK(body_len == 5 + 0x100000);
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
    test_target_http_rejects_bad_requests();
    test_target_http_too_many_headers();
    test_target_http_dechunks();
    test_target_http_queries();
    test_target_http_reasons();
    return CHECK_DONE();
}
