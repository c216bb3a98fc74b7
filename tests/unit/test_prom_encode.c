/* Unit tests of the remote-write encoder (engine/run/prom_encode.h): a tiny WriteRequest
 * against bytes derived by hand from the protobuf wire format, multi-byte varints, label
 * sorting, and the snappy round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <snappy-c.h>
#include "../check.h"
#include "prom_encode.h"

/* {__name__="up", job="a"} = 1.0 at t = 1000 ms, worked out field by field:
 *   Label 1: 0a 08 "__name__" 12 02 "up"          14 bytes
 *   Label 2: 0a 03 "job"      12 01 "a"            8 bytes
 *   Sample:  09 <1.0 as little-endian double> 10 e8 07 (1000 = 0x3e8 -> e8 07)  12 bytes
 *   TimeSeries: 0a 0e <label 1> 0a 08 <label 2> 12 0c <sample>                  40 bytes
 *   WriteRequest: 0a 28 <time series> */
static const unsigned char tiny[] = {
    0x0a, 0x28, /* timeseries, 40 bytes */
    0x0a, 0x0e, /* label, 14 bytes */
    0x0a, 0x08, '_',  '_',  'n',  'a',  'm',  'e',  '_',  '_', 0x12, 0x02, 'u', 'p', /* */
    0x0a, 0x08,                                           /* label, 8 bytes */
    0x0a, 0x03, 'j',  'o',  'b',  0x12, 0x01, 'a',        /* */
    0x12, 0x0c,                                           /* sample, 12 bytes */
    0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, /* value 1.0 */
    0x10, 0xe8, 0x07,                                     /* timestamp 1000 */
};

static void test_tiny_request(void)
{
    struct tide_prom_label labels[] = {{"job", "a"}, {"__name__", "up"}};
    tide_prom_sort_labels(labels, 2);
    CHECK_STR(labels[0].name, "__name__");
    struct tide_buf enc = {0}, req = {0};
    tide_prom_encode_labels(&enc, labels, 2);
    tide_prom_add_series(&req, enc.data, enc.len, 1.0, 1000);
    CHECK(req.len == sizeof tiny);
    CHECK(req.len == sizeof tiny && memcmp(req.data, tiny, sizeof tiny) == 0);

    /* a request is its series one after another: two series = the bytes twice */
    tide_prom_add_series(&req, enc.data, enc.len, 1.0, 1000);
    CHECK(req.len == 2 * sizeof tiny && memcmp(req.data + sizeof tiny, tiny, sizeof tiny) == 0);

    /* snappy block format, as remote write wants it: uncompresses to the same bytes */
    struct tide_buf z = {0};
    CHECK(tide_prom_compress(&req, &z) == 0);
    size_t n = 0;
    CHECK(snappy_uncompressed_length(z.data, z.len, &n) == SNAPPY_OK && n == req.len);
    char *back = malloc(n);
    CHECK(back != NULL && snappy_uncompress(z.data, z.len, back, &n) == SNAPPY_OK && n == req.len &&
          memcmp(back, req.data, n) == 0);
    free(back);
    tide_buf_free(&z);
    tide_buf_free(&enc);
    tide_buf_free(&req);
}

/* Lengths past 127 take two varint bytes, and so does the enclosing length. */
static void test_long_value(void)
{
    char value[201];
    memset(value, 'v', 200);
    value[200] = '\0';
    struct tide_prom_label l = {"k", value};
    struct tide_buf enc = {0};
    tide_prom_encode_labels(&enc, &l, 1);
    /* 0a <206 = ce 01> 0a 01 'k' 12 <200 = c8 01> v*200 */
    CHECK(enc.len == 1 + 2 + 3 + 3 + 200); /* key, length, name field, value key+length, value */
    const unsigned char *b = (const unsigned char *)enc.data;
    CHECK(b[0] == 0x0a && b[1] == 0xce && b[2] == 0x01);
    CHECK(b[3] == 0x0a && b[4] == 0x01 && b[5] == 'k');
    CHECK(b[6] == 0x12 && b[7] == 0xc8 && b[8] == 0x01 && b[9] == 'v');
    tide_buf_free(&enc);

    /* a real timestamp (ms since 1970) is a 6-byte varint: 1796533729812 */
    struct tide_buf req = {0};
    tide_prom_add_series(&req, "", 0, 0.5, 1796533729812);
    const unsigned char *r = (const unsigned char *)req.data;
    /* 0a 12 12 10 09 <0.5: 00.. e0 3f> 10 <6 bytes>: sample 16 bytes, series 18 */
    CHECK(req.len == 2 + 2 + 9 + 1 + 6);
    CHECK(r[0] == 0x0a && r[1] == 0x12 && r[2] == 0x12 && r[3] == 0x10 && r[4] == 0x09);
    CHECK(r[11] == 0xe0 && r[12] == 0x3f && r[13] == 0x10);
    uint64_t ts = 0;
    for (int i = 0; i < 6; i++)
        ts |= (uint64_t)(r[14 + i] & 0x7f) << (7 * i);
    CHECK(ts == 1796533729812ull && (r[19] & 0x80) == 0);
    tide_buf_free(&req);
}

static void test_sort(void)
{
    struct tide_prom_label l[] = {
        {"status", "200"}, {"run_id", "x"}, {"__name__", "m"}, {"method", "GET"}, {"name", "/"}};
    tide_prom_sort_labels(l, 5);
    CHECK_STR(l[0].name, "__name__");
    CHECK_STR(l[1].name, "method");
    CHECK_STR(l[2].name, "name");
    CHECK_STR(l[3].name, "run_id");
    CHECK_STR(l[4].name, "status");
}

int main(void)
{
    test_tiny_request();
    test_long_value();
    test_sort();
    return CHECK_DONE();
}
