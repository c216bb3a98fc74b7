/* prom_encode.c: protobuf wire format for the remote-write messages (prom_encode.h), and
 * snappy through libsnappy's C API. */
#include <stdlib.h>
#include <string.h>
#include <snappy-c.h>
#include "prom_encode.h"

/* Protobuf wire types and the field keys used here ((field << 3) | wire type). */
enum {
    WIRE_VARINT = 0,
    WIRE_FIXED64 = 1,
    WIRE_LEN = 2,
};
#define KEY(field, wire) ((unsigned char)(((field) << 3) | (wire)))

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void put_varint(struct tide_buf *b, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (unsigned char)v;
    tide_buf_add(b, tmp, n);
}

static void put_key(struct tide_buf *b, unsigned char key)
{
    tide_buf_add(b, &key, 1);
}

/* A length-delimited string field: key, length, bytes. */
static void put_string(struct tide_buf *b, unsigned char key, const char *s)
{
    size_t len = strlen(s);
    put_key(b, key);
    put_varint(b, len);
    tide_buf_add(b, s, len);
}

static int label_cmp(const void *a, const void *b)
{
    const struct tide_prom_label *x = a, *y = b;
    return strcmp(x->name, y->name);
}

void tide_prom_sort_labels(struct tide_prom_label *labels, int n)
{
    if (n > 1)
        qsort(labels, (size_t)n, sizeof *labels, label_cmp);
}

void tide_prom_encode_labels(struct tide_buf *out, const struct tide_prom_label *labels, int n)
{
    for (int i = 0; i < n; i++) {
        size_t nlen = strlen(labels[i].name), vlen = strlen(labels[i].value);
        size_t body = 1 + varint_size(nlen) + nlen + 1 + varint_size(vlen) + vlen;
        put_key(out, KEY(1, WIRE_LEN)); /* TimeSeries.labels */
        put_varint(out, body);
        put_string(out, KEY(1, WIRE_LEN), labels[i].name);
        put_string(out, KEY(2, WIRE_LEN), labels[i].value);
    }
}

void tide_prom_add_series(struct tide_buf *req, const void *labels, size_t len, double value,
                          int64_t timestamp_ms)
{
    /* Sample: a fixed64 double (little-endian) and a varint int64 (two's complement) */
    size_t sample = 1 + 8 + 1 + varint_size((uint64_t)timestamp_ms);
    size_t series = len + 1 + varint_size(sample) + sample;
    put_key(req, KEY(1, WIRE_LEN)); /* WriteRequest.timeseries */
    put_varint(req, series);
    tide_buf_add(req, labels, len);
    put_key(req, KEY(2, WIRE_LEN)); /* TimeSeries.samples */
    put_varint(req, sample);
    put_key(req, KEY(1, WIRE_FIXED64));
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(bits >> (8 * i));
    tide_buf_add(req, le, sizeof le);
    put_key(req, KEY(2, WIRE_VARINT));
    put_varint(req, (uint64_t)timestamp_ms);
}

int tide_prom_compress(const struct tide_buf *req, struct tide_buf *out)
{
    out->len = 0;
    size_t max = snappy_max_compressed_length(req->len);
    if (req->failed || !tide_buf_reserve(out, max))
        return -1;
    size_t n = max;
    if (snappy_compress(req->data != NULL ? req->data : "", req->len, out->data, &n) != SNAPPY_OK)
        return -1;
    out->len = n;
    return 0;
}
