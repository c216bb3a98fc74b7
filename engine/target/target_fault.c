/* target_fault.c: the answers of GET /_fault/<kind> (target_fault.h). Each is written as raw
 * bytes, since most are not valid HTTP on purpose; target.c sends them. */
#include <string.h>
#include "target_fault.h"
#include "compress.h"

#define SLOW_MS_MAX   60000
#define BYTES_MAX     (1L << 20)
#define BOMB_MB_MAX   16384 /* 16 GiB of zeros: 16 MiB on the wire */
#define HEADER_KB_MAX 16384
#define HEADERS_MAX   1000000
#define ANNOUNCED     100000 /* Content-Length of the truncated and reset bodies */
#define SENT_OF_BODY  1000   /* what they really send */
#define MATCH_LEN     258    /* deflate's longest match */
#define CRC32_POLY    0xedb88320u

/* Query parameter 'name' as a whole number in [0, max]; 'def' when absent. -1: bad. */
static long param(struct tide_http_str query, const char *name, long def, long max)
{
    struct tide_http_str v;
    if (!tide_http_query_get(query, name, &v))
        return def;
    return (long)tide_http_decimal(v, max);
}

static bool is(struct tide_http_str kind, const char *name)
{
    return kind.n == strlen(name) && memcmp(kind.p, name, kind.n) == 0;
}

static void head(struct tide_buf *out, int status, const char *reason, bool keep_alive)
{
    tide_buf_printf(out, "HTTP/1.1 %d %s\r\n", status, reason);
    if (!keep_alive)
        tide_buf_puts(out, "Connection: close\r\n");
}

static void filler(struct tide_buf *out, size_t n)
{
    if (!tide_buf_reserve(out, n))
        return;
    memset(out->data + out->len, 'x', n);
    out->len += n;
    out->data[out->len] = '\0';
}

/* CRC-32 of zeros: one zero byte is a linear map of the CRC register, so n of them is that
 * map's n-th power, by squaring (32 x 32 bit matrices over GF(2), one column per word). */

static uint32_t gf2_apply(const uint32_t *m, uint32_t v)
{
    uint32_t sum = 0;
    for (int i = 0; v != 0; v >>= 1, i++) {
        if (v & 1)
            sum ^= m[i];
    }
    return sum;
}

static void gf2_square(uint32_t *dst, const uint32_t *m)
{
    for (int i = 0; i < 32; i++)
        dst[i] = gf2_apply(m, m[i]);
}

uint32_t tide_fault_crc32_zeros(uint64_t n)
{
    uint32_t op[32], sq[32];
    op[0] = CRC32_POLY; /* one zero bit */
    for (int i = 1; i < 32; i++)
        op[i] = 1u << (i - 1);
    for (int i = 0; i < 3; i++) { /* 2, 4, then 8 bits: one byte */
        gf2_square(sq, op);
        memcpy(op, sq, sizeof op);
    }
    uint32_t reg = 0xffffffffu;
    for (; n > 0; n >>= 1) {
        if (n & 1)
            reg = gf2_apply(op, reg);
        gf2_square(sq, op);
        memcpy(op, sq, sizeof op);
    }
    return reg ^ 0xffffffffu;
}

/* Deflate's bit order: fields least significant bit first, Huffman codes most significant bit
 * first. */
struct bits {
    struct tide_buf *out;
    uint32_t acc;
    int n;
};

static void put(struct bits *b, uint32_t v, int n)
{
    b->acc |= v << b->n;
    b->n += n;
    while (b->n >= 8) {
        unsigned char c = (unsigned char)b->acc;
        tide_buf_add(b->out, &c, 1);
        b->acc >>= 8;
        b->n -= 8;
    }
}

static void put_code(struct bits *b, uint32_t code, int len)
{
    for (int i = len - 1; i >= 0; i--)
        put(b, (code >> i) & 1, 1);
}

/* 'count' zero bits, the middle ones as whole zero bytes. */
static void put_zeros(struct bits *b, uint64_t count)
{
    while (count > 0 && b->n != 0) {
        put(b, 0, 1);
        count--;
    }
    size_t bytes = (size_t)(count / 8);
    if (bytes > 0 && tide_buf_reserve(b->out, bytes)) {
        memset(b->out->data + b->out->len, 0, bytes);
        b->out->len += bytes;
        b->out->data[b->out->len] = '\0';
    }
    put(b, 0, (int)(count % 8));
}

static void put_le32(struct tide_buf *out, uint32_t v)
{
    unsigned char le[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 24)};
    tide_buf_add(out, le, 4);
}

/* One dynamic-Huffman block. Literal/length code: 285 (length 258) "0", literal 0 "10",
 * end of block "11"; distance code: 0 (distance 1) "0". Their code lengths are sent with a
 * code-length code of 18 (a run of zeros) "0", 1 "10", 2 "11". */
uint64_t tide_fault_gzip_zeros(struct tide_buf *out, uint64_t n)
{
    static const unsigned char gzip_head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    /* code-length code lengths, in the order of RFC 1951 3.2.7 up to symbol 1 */
    static const unsigned char cl_order_lens[18] = {0, 0, 1, 0, 0, 0, 0, 0, 0,
                                                    0, 0, 0, 0, 0, 0, 2, 0, 2};
    uint64_t matches = n > 0 ? (n - 1) / MATCH_LEN : 0;
    struct bits b = {out, 0, 0};
    tide_buf_add(out, gzip_head, sizeof gzip_head);
    put(&b, 1, 1);  /* BFINAL */
    put(&b, 2, 2);  /* BTYPE: dynamic Huffman */
    put(&b, 29, 5); /* HLIT: 286 literal/length codes */
    put(&b, 0, 5);  /* HDIST: 1 distance code */
    put(&b, 14, 4); /* HCLEN: 18 code-length codes */
    for (int i = 0; i < 18; i++)
        put(&b, cl_order_lens[i], 3);
    put_code(&b, 3, 2); /* literal 0: length 2 */
    put_code(&b, 0, 1); /* 138 zeros (1..138) */
    put(&b, 127, 7);
    put_code(&b, 0, 1); /* 117 zeros (139..255) */
    put(&b, 106, 7);
    put_code(&b, 3, 2); /* 256, end of block: length 2 */
    put_code(&b, 0, 1); /* 28 zeros (257..284) */
    put(&b, 17, 7);
    put_code(&b, 2, 2); /* 285: length 1 */
    put_code(&b, 2, 2); /* distance 0: length 1 */
    put_code(&b, 2, 2); /* the data: a literal 0... */
    put_zeros(&b, matches * 2);
    put_code(&b, 3, 2); /* ...end of block */
    put(&b, 0, (8 - b.n) % 8);
    uint64_t size = 1 + matches * MATCH_LEN;
    put_le32(out, tide_fault_crc32_zeros(size));
    put_le32(out, (uint32_t)size);
    return size;
}

/* gzip-corrupt, gzip-truncated: a gzip body, valid HTTP framing, its compressed data broken
 * (one byte flipped in the middle) or cut in half: a client that decodes must fail on it. */
static int broken_gzip(struct tide_http_str kind, bool keep_alive, struct tide_buf *out,
                       struct tide_fault_reply *r)
{
    struct tide_buf text = {0}, gz = {0};
    for (int i = 0; i < 2000; i++)
        tide_buf_printf(&text, "line %d of a compressed body\n", i);
    int rc = text.failed ? -2 : tide_compress("gzip", text.data, text.len, &gz);
    tide_buf_free(&text);
    if (rc != 0 || gz.len < 64) {
        tide_buf_free(&gz);
        return -1;
    }
    if (is(kind, "gzip-corrupt"))
        gz.data[gz.len / 2] ^= (char)0xff;
    else
        gz.len /= 2;
    r->status = 200;
    head(out, 200, "OK", keep_alive);
    tide_buf_printf(out,
                    "Content-Type: text/plain\r\nContent-Encoding: gzip\r\n"
                    "Content-Length: %zu\r\n\r\n",
                    gz.len);
    r->body_at = out->len;
    tide_buf_add(out, gz.data, gz.len);
    tide_buf_free(&gz);
    return 0;
}

/* The complete responses (status line valid, framing valid). */
static int complete(struct tide_http_str kind, struct tide_http_str query, bool keep_alive,
                    struct tide_buf *out, struct tide_fault_reply *r, const char **why)
{
    r->after = TIDE_FAULT_KEEP;
    if (is(kind, "redirect-loop")) {
        r->status = 302;
        head(out, 302, "Found", keep_alive);
        tide_buf_puts(out, "Location: /_fault/redirect-loop\r\nContent-Length: 0\r\n\r\n");
    } else if (is(kind, "gzip-bomb")) {
        long mb = param(query, "mb", 1024, BOMB_MB_MAX);
        if (mb < 1)
            return *why = "gzip-bomb: expected ?mb=1 to 16384 (MiB of zeros once decoded)", -1;
        struct tide_buf body = {0};
        uint64_t size = tide_fault_gzip_zeros(&body, (uint64_t)mb << 20);
        r->status = 200;
        head(out, 200, "OK", keep_alive);
        tide_buf_printf(out,
                        "Content-Type: application/octet-stream\r\nContent-Encoding: gzip\r\n"
                        "X-Decoded-Length: %llu\r\nContent-Length: %zu\r\n\r\n",
                        (unsigned long long)size, body.len);
        r->body_at = out->len;
        tide_buf_add(out, body.data, body.len);
        if (body.failed)
            out->failed = true;
        tide_buf_free(&body);
    } else if (is(kind, "gzip-corrupt") || is(kind, "gzip-truncated")) {
        if (broken_gzip(kind, keep_alive, out, r) != 0)
            return *why = "out of memory", -1;
    } else if (is(kind, "header-line")) {
        long kb = param(query, "kb", 1024, HEADER_KB_MAX);
        if (kb < 0)
            return *why = "header-line: expected ?kb=0 to 16384", -1;
        r->status = 200;
        head(out, 200, "OK", keep_alive);
        tide_buf_puts(out, "X-Big: ");
        filler(out, (size_t)kb << 10);
        tide_buf_puts(out, "\r\nContent-Length: 0\r\n\r\n");
    } else if (is(kind, "hostile")) {
        /* every byte an output file must survive: invalid UTF-8, NUL, quotes, separators of
         * CSV, the end of a CDATA section and of a script, control characters */
        static const char bytes[] = "bad \xff\xfe\xc3( utf8, nul \0 \"quote\" 'single' a,b;c\r\n"
                                    "line2 ]]> </script><script>alert(1)</script> \x01\x1b[31m"
                                    "\x7f <b>&amp;</b> \xed\xa0\x80 surrogate";
        r->status = 500;
        head(out, 500, "Bad \xff Reason", keep_alive);
        tide_buf_printf(out,
                        "Content-Type: text/plain\r\nX-Hostile: \xff\x01 \"v\" ]]>\r\n"
                        "Content-Length: %zu\r\n\r\n",
                        sizeof bytes - 1);
        r->body_at = out->len;
        tide_buf_add(out, bytes, sizeof bytes - 1);
    } else if (is(kind, "many-headers")) {
        long n = param(query, "n", 100000, HEADERS_MAX);
        if (n < 0)
            return *why = "many-headers: expected ?n=0 to 1000000", -1;
        r->status = 200;
        head(out, 200, "OK", keep_alive);
        for (long i = 0; i < n; i++)
            tide_buf_printf(out, "X-H-%ld: v\r\n", i);
        tide_buf_puts(out, "Content-Length: 0\r\n\r\n");
    } else {
        return *why = "unknown fault (bad-status, truncated, bad-chunked, reset, empty, "
                      "slow-body, stall, redirect-loop, gzip-bomb, gzip-corrupt, gzip-truncated, "
                      "header-line, many-headers, hostile)",
               -1;
    }
    r->body_at = r->body_at > 0 ? r->body_at : out->len;
    return 0;
}

int tide_target_fault(struct tide_http_str kind, struct tide_http_str query, bool keep_alive,
                      struct tide_buf *out, struct tide_fault_reply *r, const char **why)
{
    *r = (struct tide_fault_reply){.status = 200};
    if (is(kind, "bad-status")) {
        r->after = TIDE_FAULT_CLOSE;
        r->status = TIDE_FAULT_NO_STATUS;
        tide_buf_puts(out, "HTTP/1.1 OK-ish no status\r\nContent-Length: 0\r\n\r\n");
    } else if (is(kind, "empty")) {
        r->after = TIDE_FAULT_CLOSE;
        r->status = TIDE_FAULT_NO_STATUS;
    } else if (is(kind, "truncated") || is(kind, "reset")) {
        r->after = is(kind, "reset") ? TIDE_FAULT_RESET : TIDE_FAULT_CLOSE;
        head(out, 200, "OK", false);
        tide_buf_printf(out, "Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n", ANNOUNCED);
        r->body_at = out->len;
        filler(out, SENT_OF_BODY);
        return 0;
    } else if (is(kind, "bad-chunked")) {
        r->after = TIDE_FAULT_CLOSE;
        head(out, 200, "OK", false);
        tide_buf_puts(out, "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "5\r\nhello\r\nzz-not-hex\r\nworld\r\n0\r\n\r\n");
    } else if (is(kind, "slow-body") || is(kind, "stall")) {
        bool slow = is(kind, "slow-body");
        long ms = param(query, "ms", 2000, SLOW_MS_MAX);
        long bytes = param(query, "bytes", 1000, BYTES_MAX);
        if (ms < 1 || bytes < 1)
            return *why = "slow-body: expected ?ms=1 to 60000 and ?bytes=1 to 1048576", -1;
        r->after = slow ? TIDE_FAULT_SLOW : TIDE_FAULT_STALL;
        r->slow_s = (double)ms / 1000.0;
        head(out, 200, "OK", keep_alive);
        tide_buf_printf(out, "Content-Type: text/plain\r\nContent-Length: %ld\r\n\r\n", bytes);
        r->body_at = out->len;
        filler(out, (size_t)bytes);
        return 0;
    } else {
        return complete(kind, query, keep_alive, out, r, why);
    }
    r->body_at = out->len;
    return 0;
}
