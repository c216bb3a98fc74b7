/* Unit tests of response body decoding (engine/core/decode.c) and body compression
 * (engine/base/compress.c): gzip, zlib-wrapped and raw deflate, chains, every split point of
 * the input, corrupt and cut streams, a bomb stopped by its sink, what asks for decoding, and
 * the transports' glue (limits on decoded bytes, wire bytes counted, error 1701). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../check.h"
#include "compress.h"
#include "decode.h"
#include "http_curl.h" /* the body budget */
#include "transport.h"

static struct tide_buf plain; /* a body of varied text */

/* A sink that keeps everything, or stops past 'limit' bytes (0: none). */
struct collect {
    struct tide_buf out;
    size_t limit;
    int calls;
};

static int collect(void *ud, const char *p, size_t n)
{
    struct collect *c = ud;
    c->calls++;
    tide_buf_append(&c->out, p, n);
    return c->limit > 0 && c->out.len >= c->limit ? TIDE_DECODE_STOP : TIDE_DECODE_OK;
}

static struct tide_buf packed(const char *coding, const char *in, size_t n)
{
    struct tide_buf b = {0};
    CHECK(tide_compress(coding, in, n, &b) == 0);
    return b;
}

/* Decodes 'data' fed in pieces of 'step' bytes (0: whole) after a head 'head'; returns the
 * result of the last feed or of the end, the output in c->out. */
static int decode(const char *head, const struct tide_buf *data, size_t step, struct collect *c)
{
    struct tide_decoder *d = NULL;
    if (tide_decoder_new(&d, head, strlen(head)) != 0 || d == NULL)
        return -99;
    int rc = TIDE_DECODE_OK;
    size_t n = step == 0 ? data->len : step;
    for (size_t at = 0; at < data->len && rc == TIDE_DECODE_OK; at += n)
        rc = tide_decoder_feed(d, data->data + at, at + n > data->len ? data->len - at : n, collect,
                               c);
    if (rc == TIDE_DECODE_OK)
        rc = tide_decoder_end(d);
    tide_decoder_free(d);
    return rc;
}

static bool same_as_plain(const struct collect *c)
{
    return c->out.len == plain.len && memcmp(c->out.data, plain.data, plain.len) == 0;
}

static void test_round_trips(void)
{
    static const struct {
        const char *coding, *head;
    } cases[] = {
        {"gzip", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n"},
        {"gzip", "HTTP/1.1 200 OK\r\ncontent-encoding:  X-GZIP \r\n\r\n"},
        {"deflate", "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n\r\n"},
        {"deflate-raw", "HTTP/1.1 200 OK\r\nCONTENT-ENCODING: Deflate\r\n\r\n"},
        {"gzip", "HTTP/1.1 200 OK\r\nContent-Encoding: identity, gzip\r\n\r\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tide_buf z = packed(cases[i].coding, plain.data, plain.len);
        CHECK(z.len > 0 && z.len < plain.len);
        size_t steps[] = {0, 1, 7, 1000};
        for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
            struct collect c = {0};
            CHECK(decode(cases[i].head, &z, steps[s], &c) == TIDE_DECODE_OK);
            CHECK(same_as_plain(&c));
            tide_buf_free(&c.out);
        }
        /* split in two at every point */
        for (size_t cut = 1; cut < z.len; cut++) {
            struct tide_decoder *d = NULL;
            CHECK(tide_decoder_new(&d, cases[i].head, strlen(cases[i].head)) == 0 && d != NULL);
            struct collect c = {0};
            int a = tide_decoder_feed(d, z.data, cut, collect, &c);
            int b = tide_decoder_feed(d, z.data + cut, z.len - cut, collect, &c);
            CHECK(a == TIDE_DECODE_OK && b == TIDE_DECODE_OK && tide_decoder_end(d) == 0);
            CHECK(same_as_plain(&c));
            tide_buf_free(&c.out);
            tide_decoder_free(d);
        }
        tide_buf_free(&z);
    }
}

static void test_chains_and_members(void)
{
    /* "deflate, gzip": deflated first, then gzip'd; undone in reverse */
    struct tide_buf inner = packed("deflate", plain.data, plain.len);
    struct tide_buf outer = packed("gzip", inner.data, inner.len);
    struct collect c = {0};
    CHECK(decode("Content-Encoding: deflate, gzip\r\n", &outer, 3, &c) == TIDE_DECODE_OK);
    CHECK(same_as_plain(&c));
    c.out.len = 0;
    CHECK(decode("Content-Encoding: deflate\r\nContent-Encoding: gzip\r\n", &outer, 0, &c) ==
          TIDE_DECODE_OK);
    CHECK(same_as_plain(&c));
    /* the wrong order is bad data, not a crash */
    c.out.len = 0;
    CHECK(decode("Content-Encoding: gzip, deflate\r\n", &outer, 0, &c) == TIDE_DECODE_BAD);
    tide_buf_free(&inner);
    tide_buf_free(&outer);
    /* two gzip members back to back: both decoded, as gunzip does */
    size_t half = plain.len / 2;
    struct tide_buf a = packed("gzip", plain.data, half);
    struct tide_buf b = packed("gzip", plain.data + half, plain.len - half);
    tide_buf_append(&a, b.data, b.len);
    c.out.len = 0;
    CHECK(decode("Content-Encoding: gzip\r\n", &a, 5, &c) == TIDE_DECODE_OK);
    CHECK(same_as_plain(&c));
    tide_buf_free(&a);
    tide_buf_free(&b);
    /* bytes after a deflate stream are ignored */
    struct tide_buf d = packed("deflate", plain.data, plain.len);
    tide_buf_puts(&d, "trailing");
    c.out.len = 0;
    CHECK(decode("Content-Encoding: deflate\r\n", &d, 0, &c) == TIDE_DECODE_OK);
    CHECK(same_as_plain(&c));
    tide_buf_free(&d);
    tide_buf_free(&c.out);
}

static void test_nothing_to_decode(void)
{
    static const char *heads[] = {
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n",
        "Content-Encoding: identity\r\n",
        "Content-Encoding: br\r\n",
        "Content-Encoding: gzip, br\r\n", /* br outermost: tide cannot undo it, so none */
        "Content-Encoding: zstd\r\nContent-Encoding: gzip\r\n",
        "Content-Encoding: gzip, gzip, gzip, gzip, gzip\r\n", /* over TIDE_DECODE_MAX_CODINGS */
        "X-Content-Encoding: gzip\r\n",
        "",
    };
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        struct tide_decoder *d = (struct tide_decoder *)1;
        CHECK(tide_decoder_new(&d, heads[i], strlen(heads[i])) == 0);
        CHECK(d == NULL);
    }
    struct tide_decoder *d = NULL;
    CHECK(tide_decoder_new(&d, "Content-Encoding: gzip, gzip, gzip, gzip\r\n", 42) == 0);
    CHECK(d != NULL);
    tide_decoder_free(d);
}

static void test_bad_data(void)
{
    struct collect c = {0};
    /* not gzip at all */
    struct tide_buf junk = {0};
    tide_buf_puts(&junk, "this is not compressed");
    CHECK(decode("Content-Encoding: gzip\r\n", &junk, 0, &c) == TIDE_DECODE_BAD);
    struct tide_decoder *d = NULL;
    tide_decoder_new(&d, "Content-Encoding: gzip\r\n", 24);
    CHECK(tide_decoder_feed(d, junk.data, junk.len, collect, &c) == TIDE_DECODE_BAD);
    CHECK_STR(tide_decoder_error(d), "bad gzip data (incorrect header check)");
    tide_decoder_free(d);
    tide_buf_free(&junk);
    /* a flipped byte: a data error or a CRC mismatch, never success */
    struct tide_buf z = packed("gzip", plain.data, plain.len);
    for (size_t at = 0; at < z.len; at += 13) {
        struct tide_buf bad = {0};
        tide_buf_append(&bad, z.data, z.len);
        bad.data[at] ^= 0x55;
        c.out.len = 0;
        int rc = decode("Content-Encoding: gzip\r\n", &bad, 64, &c);
        /* a flip in the header's mtime/xfl/os bytes (4..9) changes nothing zlib checks */
        CHECK(rc == TIDE_DECODE_BAD || (at >= 4 && at <= 9 && rc == TIDE_DECODE_OK));
        tide_buf_free(&bad);
    }
    /* cut anywhere before the end: the end says so */
    for (size_t cut = 0; cut + 1 < z.len; cut += 7) {
        struct tide_buf part = {0};
        tide_buf_append(&part, z.data, cut);
        c.out.len = 0;
        d = NULL;
        tide_decoder_new(&d, "Content-Encoding: gzip\r\n", 24);
        int rc = tide_decoder_feed(d, part.data != NULL ? part.data : "", cut, collect, &c);
        CHECK(rc == TIDE_DECODE_OK);
        CHECK(tide_decoder_end(d) == TIDE_DECODE_BAD);
        CHECK_STR(tide_decoder_error(d), "bad gzip data (the compressed body ended early)");
        tide_decoder_free(d);
        tide_buf_free(&part);
    }
    tide_buf_free(&z);
    /* one byte of deflate: neither zlib nor raw yet, and the end is early */
    d = NULL;
    tide_decoder_new(&d, "Content-Encoding: deflate\r\n", 27);
    CHECK(tide_decoder_feed(d, "x", 1, collect, &c) == TIDE_DECODE_OK);
    CHECK(tide_decoder_end(d) == TIDE_DECODE_BAD);
    tide_decoder_free(d);
    tide_buf_free(&c.out);
}

/* 64 MiB of zeros compress to about 64 KiB: a sink that stops at 1 MiB gets little more. */
static void test_bomb(void)
{
    size_t big = (size_t)64 << 20;
    char *zeros = calloc(1, big);
    CHECK(zeros != NULL);
    struct tide_buf z = packed("gzip", zeros, big);
    free(zeros);
    CHECK(z.len < big / 500);
    struct collect c = {.limit = (size_t)1 << 20};
    struct tide_decoder *d = NULL;
    tide_decoder_new(&d, "Content-Encoding: gzip\r\n", 24);
    CHECK(tide_decoder_feed(d, z.data, z.len, collect, &c) == TIDE_DECODE_STOP);
    CHECK(c.out.len >= c.limit && c.out.len <= c.limit + ((size_t)64 << 10));
    tide_decoder_free(d);
    tide_buf_free(&c.out);
    tide_buf_free(&z);
}

static bool asked(const char *lines, size_t n)
{
    return tide_decode_asked(lines, n);
}

#define ASKED(s) asked(s, sizeof s) /* NUL-separated lines, the last NUL included */

static void test_asked(void)
{
    CHECK(ASKED("Accept-Encoding: gzip"));
    CHECK(ASKED("X-A: 1\0accept-encoding: br, deflate;q=0.5"));
    CHECK(ASKED("Accept-Encoding: x-gzip"));
    CHECK(ASKED("Accept-Encoding: *"));
    CHECK(ASKED("Accept-Encoding: gzip;q=0, deflate"));
    CHECK(!ASKED("Accept-Encoding: gzip;q=0"));
    CHECK(!ASKED("Accept-Encoding: gzip; q=0.000"));
    CHECK(!ASKED("Accept-Encoding: br, zstd"));
    CHECK(!ASKED("Accept-Encoding: identity"));
    CHECK(!ASKED("Accept-Encoding:"));
    CHECK(!ASKED("Accept: gzip"));
    CHECK(!ASKED("X-Accept-Encoding: gzip"));
    CHECK(!tide_decode_asked(NULL, 0));
}

/* The glue both transports call: limits on decoded bytes, wire bytes counted. */
static void test_transfer_glue(void)
{
    struct tide_transfer t = {0};
    tide_buf_puts(&t.spec.headers, "Accept-Encoding: gzip, deflate");
    tide_buf_add(&t.spec.headers, "", 1);
    t.spec.max_body = 1000;
    struct tide_body_decode bd = {0};
    tide_body_decode_start(&bd, &t.spec);
    CHECK(bd.asked);
    tide_buf_puts(&t.res.headers, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n");
    struct tide_buf z = packed("gzip", plain.data, plain.len);
    size_t charged = 0;
    for (size_t at = 0; at < z.len; at += 10)
        CHECK(tide_body_decode_feed(&bd, &t, &charged, z.data + at,
                                    at + 10 > z.len ? z.len - at : 10) == 0);
    CHECK(t.res.body_bytes == z.len); /* the wire's bytes */
    CHECK(t.res.body.len == 1000 && t.res.truncated);
    CHECK(memcmp(t.res.body.data, plain.data, 1000) == 0);
    CHECK(charged == 1000);
    CHECK(tide_body_decode_end(&bd, &t.res)); /* truncated: the rest is not judged */
    tide_body_budget_release(&charged);
    /* a whole body, then a bad one */
    t.spec.max_body = TIDE_HTTP_MAX_BODY;
    tide_body_decode_start(&bd, &t.spec);
    t.res.body.len = 0;
    t.res.body_bytes = 0;
    t.res.truncated = false;
    CHECK(tide_body_decode_feed(&bd, &t, &charged, z.data, z.len - 4) == 0);
    CHECK(!tide_body_decode_end(&bd, &t.res) && bd.failed);
    tide_body_decode_fail(&bd, &t.res);
    CHECK(t.res.error_code == 1701 && t.res.status == 0);
    CHECK_STR(t.res.error, "response body: bad gzip data (the compressed body ended early)");
    tide_body_budget_release(&charged);
    /* a plain body under an Accept-Encoding: kept as it came */
    tide_body_decode_start(&bd, &t.spec);
    t.res.headers.len = 0;
    tide_buf_puts(&t.res.headers, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    t.res.body.len = 0;
    t.res.body_bytes = 0;
    CHECK(tide_body_decode_feed(&bd, &t, &charged, "hello", 5) == 0);
    CHECK(t.res.body.len == 5 && memcmp(t.res.body.data, "hello", 5) == 0);
    CHECK(tide_body_decode_end(&bd, &t.res));
    tide_body_budget_release(&charged);
    /* discard_body: nothing to decode, the transport counts bytes itself */
    t.spec.discard_body = true;
    tide_body_decode_start(&bd, &t.spec);
    CHECK(!bd.asked);
    /* no Accept-Encoding: not asked */
    t.spec.discard_body = false;
    t.spec.headers.len = 0;
    tide_body_decode_start(&bd, &t.spec);
    CHECK(!bd.asked);
    tide_body_decode_fini(&bd);
    tide_buf_free(&z);
    tide_buf_free(&t.spec.headers);
    tide_buf_free(&t.res.headers);
    tide_buf_free(&t.res.body);
}

static void test_compress(void)
{
    struct tide_buf out = {0};
    CHECK(tide_compress("br", "x", 1, &out) == -1);
    CHECK(tide_compress("gzip", "", 0, &out) == 0 && out.len >= 18); /* an empty member */
    struct collect c = {0};
    CHECK(decode("Content-Encoding: gzip\r\n", &out, 0, &c) == TIDE_DECODE_OK && c.out.len == 0);
    tide_buf_free(&out);
    tide_buf_free(&c.out);
}

int main(void)
{
    uint32_t x = 12345;
    for (int i = 0; i < 3000; i++) { /* words from a small vocabulary: compressible, varied */
        static const char *const words[] = {"alpha ", "beta ", "gamma ", "delta\n", "eps "};
        x = x * 1103515245u + 12345u;
        tide_buf_puts(&plain, words[(x >> 16) % 5]);
    }
    test_round_trips();
    test_chains_and_members();
    test_nothing_to_decode();
    test_bad_data();
    test_bomb();
    test_asked();
    test_transfer_glue();
    test_compress();
    tide_buf_free(&plain);
    return CHECK_DONE();
}
