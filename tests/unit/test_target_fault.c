/* Unit tests of the /_fault/<kind> answers of 'tide target' (target_fault.c): CRC-32 of zeros
 * by matrix powers against zlib's values, the gzip bomb's size and trailer, the answers' first
 * bytes, and bad kinds and parameters refused. (The bomb is decoded by Python's zlib in
 * tests/e2e/test_faults.py.) */
#include <stdlib.h>
#include "../check.h"
#include "target_fault.h"

static struct tide_http_str str(const char *s)
{
    return (struct tide_http_str){s, strlen(s)};
}

static uint32_t le32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

static void test_crc32_of_zeros_is_zlibs(void)
{
    /* python3 -c 'import zlib; print(hex(zlib.crc32(bytes(n))))' */
    CHECK(tide_fault_crc32_zeros(0) == 0);
    CHECK(tide_fault_crc32_zeros(1) == 0xd202ef8du);
    CHECK(tide_fault_crc32_zeros(259) == 0xc276fc68u);
    CHECK(tide_fault_crc32_zeros(1000) == 0x060b1780u);
    CHECK(tide_fault_crc32_zeros(65536) == 0xd7978eebu);
    CHECK(tide_fault_crc32_zeros(1048513) == 0x3d73518du);
}

static void test_gzip_bomb_is_small_and_says_its_size(void)
{
    struct tide_buf b = {0};
    uint64_t n = tide_fault_gzip_zeros(&b, (uint64_t)1 << 30);
    CHECK(n <= (uint64_t)1 << 30 && n > ((uint64_t)1 << 30) - 258);
    CHECK((n - 1) % 258 == 0);
    CHECK(b.len > (1u << 30) / 1040 && b.len < (1u << 30) / 1000); /* about 1032:1 */
    CHECK((unsigned char)b.data[0] == 0x1f && (unsigned char)b.data[1] == 0x8b);
    CHECK(le32(b.data + b.len - 4) == (uint32_t)n);
    CHECK(le32(b.data + b.len - 8) == tide_fault_crc32_zeros(n));
    tide_buf_free(&b);
}

static void answer(const char *kind, const char *query, struct tide_buf *out,
                   struct tide_fault_reply *r, int want_rc)
{
    const char *why = NULL;
    out->len = 0;
    int rc = tide_target_fault(str(kind), str(query), true, out, r, &why);
    CHECK(rc == want_rc);
    CHECK((rc == 0) == (why == NULL));
}

static void test_answers(void)
{
    struct tide_buf out = {0};
    struct tide_fault_reply r;
    answer("bad-status", "", &out, &r, 0);
    CHECK(r.after == TIDE_FAULT_CLOSE && r.status == TIDE_FAULT_NO_STATUS);
    CHECK(strncmp(out.data, "HTTP/1.1 OK", 11) == 0);
    answer("empty", "", &out, &r, 0);
    CHECK(r.after == TIDE_FAULT_CLOSE && out.len == 0);
    answer("truncated", "", &out, &r, 0);
    CHECK(r.after == TIDE_FAULT_CLOSE && strstr(out.data, "Content-Length: 100000\r\n") != NULL);
    CHECK(out.len - r.body_at == 1000);
    answer("reset", "", &out, &r, 0);
    CHECK(r.after == TIDE_FAULT_RESET && out.len - r.body_at == 1000);
    answer("bad-chunked", "", &out, &r, 0);
    CHECK(r.after == TIDE_FAULT_CLOSE && strstr(out.data, "zz-not-hex") != NULL);
    answer("slow-body", "ms=500&bytes=10", &out, &r, 0);
    CHECK(r.after == TIDE_FAULT_SLOW && r.slow_s == 0.5 && out.len - r.body_at == 10);
    answer("stall", "", &out, &r, 0);
    CHECK(r.after == TIDE_FAULT_STALL && strstr(out.data, "Content-Length: 1000\r\n") != NULL);
    answer("redirect-loop", "", &out, &r, 0);
    CHECK(r.after == TIDE_FAULT_KEEP && r.status == 302);
    CHECK(strstr(out.data, "Location: /_fault/redirect-loop\r\n") != NULL);
    answer("header-line", "kb=2", &out, &r, 0);
    CHECK(r.after == TIDE_FAULT_KEEP && out.len > 2048 && out.len < 2200);
    answer("many-headers", "n=3", &out, &r, 0);
    CHECK(strstr(out.data, "X-H-2: v\r\nContent-Length: 0\r\n\r\n") != NULL);
    answer("gzip-bomb", "mb=1", &out, &r, 0);
    CHECK(strstr(out.data, "Content-Encoding: gzip\r\n") != NULL);
    CHECK(strstr(out.data, "X-Decoded-Length: 1048513\r\n") != NULL);
    answer("nope", "", &out, &r, -1);
    answer("gzip-bomb", "mb=0", &out, &r, -1);
    answer("gzip-bomb", "mb=99999", &out, &r, -1);
    answer("slow-body", "ms=x", &out, &r, -1);
    answer("header-line", "kb=-1", &out, &r, -1);
    tide_buf_free(&out);
}

int main(void)
{
    test_crc32_of_zeros_is_zlibs();
    test_gzip_bomb_is_small_and_says_its_size();
    test_answers();
    return CHECK_DONE();
}
