/* cid.c: varints, sha2-256 multihashes and CIDv1, binary and base32 text. */
#include "cid.h"
#include <openssl/evp.h>
#include <string.h>

enum { MH_SHA2_256 = 0x12, SHA256_LEN = 32, CID_V1 = 0x01 };

size_t tide_varint_put(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t tide_varint_get(const uint8_t *p, size_t len, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < len && i < 9; i++) {
        x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if ((p[i] & 0x80) == 0) {
            if (i > 0 && p[i] == 0)
                return 0; /* a trailing zero byte: not the minimal form */
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

void tide_cid_of(uint8_t codec, const void *data, size_t len, struct tide_cid *cid)
{
    unsigned int n = 0;
    cid->codec = codec;
    EVP_Digest(data, len, cid->digest, &n, EVP_sha256(), NULL);
}

bool tide_cid_equal(const struct tide_cid *a, const struct tide_cid *b)
{
    return a->codec == b->codec && memcmp(a->digest, b->digest, sizeof a->digest) == 0;
}

void tide_cid_to_bytes(const struct tide_cid *cid, uint8_t out[TIDE_CID_BYTES])
{
    out[0] = CID_V1;
    out[1] = cid->codec; /* both codecs are below 0x80: a one-byte varint */
    out[2] = MH_SHA2_256;
    out[3] = SHA256_LEN;
    memcpy(out + 4, cid->digest, SHA256_LEN);
}

size_t tide_cid_from_bytes(const uint8_t *p, size_t len, struct tide_cid *cid, const char **why)
{
    uint64_t version, codec, hash, hlen;
    size_t n = 0, k;
    const char *dummy;
    if (why == NULL)
        why = &dummy;
    if ((k = tide_varint_get(p, len, &version)) == 0 || version != CID_V1) {
        *why = len >= 2 && p[0] == MH_SHA2_256 && p[1] == SHA256_LEN
                   ? "a CIDv0 (tide reads CIDv1 only)"
                   : "not a CIDv1";
        return 0;
    }
    n += k;
    if ((k = tide_varint_get(p + n, len - n, &codec)) == 0 ||
        (codec != TIDE_CODEC_RAW && codec != TIDE_CODEC_DAG_PB)) {
        *why = "a codec other than raw or dag-pb";
        return 0;
    }
    n += k;
    if ((k = tide_varint_get(p + n, len - n, &hash)) == 0 || hash != MH_SHA2_256) {
        *why = "a hash other than sha2-256";
        return 0;
    }
    n += k;
    if ((k = tide_varint_get(p + n, len - n, &hlen)) == 0 || hlen != SHA256_LEN ||
        len - n - k < SHA256_LEN) {
        *why = "a cut sha2-256 digest";
        return 0;
    }
    n += k;
    cid->codec = (uint8_t)codec;
    memcpy(cid->digest, p + n, SHA256_LEN);
    return n + SHA256_LEN;
}

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

void tide_cid_to_text(const struct tide_cid *cid, char out[TIDE_CID_TEXT])
{
    uint8_t bytes[TIDE_CID_BYTES];
    tide_cid_to_bytes(cid, bytes);
    size_t o = 0;
    out[o++] = 'b';
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < sizeof bytes; i++) {
        acc = (acc << 8) | bytes[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32[(acc << (5 - bits)) & 31];
    out[o] = '\0';
}

int tide_cid_from_text(const char *text, struct tide_cid *cid)
{
    uint8_t bytes[TIDE_CID_BYTES + 8];
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    if (text[0] != 'b')
        return -1;
    for (const char *c = text + 1; *c != '\0'; c++) {
        const char *at = *c != '\0' ? strchr(b32, *c) : NULL;
        if (at == NULL)
            return -1;
        acc = (acc << 5) | (uint32_t)(at - b32);
        bits += 5;
        if (bits >= 8) {
            if (n == sizeof bytes)
                return -1;
            bytes[n++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
        return -1; /* leftover bits must be zero padding of the last symbol */
    size_t used = tide_cid_from_bytes(bytes, n, cid, NULL);
    return used != 0 && used == n ? 0 : -1;
}
