/* Unit tests of export/bech32.c and export/age.c: Bech32 against BIP 173's examples and the
 * age specification's example key pair; an age file made by Debian's age 1.1.1 (committed as
 * hex below: `age -r age1zvkyg2l...` of "made by Debian age for tide\n") opens with the spec's
 * identity and with no other; tide's own files round-trip at chunk boundaries, for several
 * recipients; a flipped byte in the header (MAC) or payload (chunk tag), a truncated file and
 * a missing final chunk are refused. The interop in both directions with the age binary is in
 * tests/e2e/test_age.py. */
#include <stdlib.h>
#include "../check.h"
#include "age.h"
#include "bech32.h"

static const char spec_identity[] =
    "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
static const char spec_recipient[] =
    "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";

static const char debian_file_hex[] =
    "6167652d656e6372797074696f6e2e6f72672f76310a2d3e2058323535313920716c30536c66717364684c6a306d34"
    "6f"
    "65694d3477494b6a7941675353314669322f435a5449586f2b784d0a6f41372f757969596b31666f6d677752355a4f"
    "62"
    "73796e2f61704379637957754d6174704550684967536b0a2d2d2d20526e5659715879644147767035777a45496f4f"
    "72"
    "6a77544949443068616357556a412b453967694669774d0a1a6170761c53dfcdc87bac8135ed0be3aed9da0fafd0bb"
    "fe"
    "15d8b475838232f702fdf39f2422c6377eaf3f5f04011bce75bfaa63d5c12a373e008ab1";

static size_t unhex(const char *hex, unsigned char *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    return n;
}

static void bech32(void)
{
    char hrp[32], out[128];
    unsigned char data[64];
    size_t len = 0;
    /* BIP 173 valid strings. */
    CHECK(tide_bech32_decode("A12UEL5L", hrp, sizeof hrp, data, sizeof data, &len) == 0);
    CHECK_STR(hrp, "a");
    CHECK(len == 0);
    CHECK(tide_bech32_decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", hrp, sizeof hrp, data,
                             sizeof data, &len) == 0);
    CHECK(len == 20);
    /* Invalid: mixed case, bad checksum, empty hrp, no separator. */
    CHECK(tide_bech32_decode("A12uEL5L", hrp, sizeof hrp, data, sizeof data, &len) != 0);
    CHECK(tide_bech32_decode("a12uel5m", hrp, sizeof hrp, data, sizeof data, &len) != 0);
    CHECK(tide_bech32_decode("1pzry9x0s0muk", hrp, sizeof hrp, data, sizeof data, &len) != 0);
    CHECK(tide_bech32_decode("pzry9x0s0muk", hrp, sizeof hrp, data, sizeof data, &len) != 0);
    /* The spec's identity holds 32 bytes of 0x42 and encodes back the same, in uppercase. */
    CHECK(tide_bech32_decode(spec_identity, hrp, sizeof hrp, data, sizeof data, &len) == 0);
    CHECK_STR(hrp, "age-secret-key-");
    CHECK(len == 32 && data[0] == 0x42 && data[31] == 0x42);
    CHECK(tide_bech32_encode("age-secret-key-", data, 32, 1, out, sizeof out) == 0);
    CHECK_STR(out, spec_identity);
    CHECK(tide_bech32_encode("age", data, 32, 0, out, 10) != 0); /* too small */
}

static void keys(void)
{
    struct tide_age_key sec, pub, parsed;
    struct tide_err err = {{0}};
    char s[TIDE_AGE_KEY_STR];
    CHECK(tide_age_parse_identity(spec_identity, &sec, &err) == 0);
    CHECK(tide_age_public_of(&sec, &pub, &err) == 0);
    tide_age_recipient_string(&pub, s);
    CHECK_STR(s, spec_recipient);
    CHECK(tide_age_parse_recipient(spec_recipient, &parsed, &err) == 0);
    CHECK(memcmp(parsed.bytes, pub.bytes, 32) == 0);
    tide_age_identity_string(&sec, s);
    CHECK_STR(s, spec_identity);
    /* A recipient is not an identity and the reverse; the error never repeats a secret. */
    CHECK(tide_age_parse_identity(spec_recipient, &parsed, &err) != 0);
    CHECK(tide_age_parse_recipient(spec_identity, &parsed, &err) != 0);
    CHECK(strstr(err.msg, "GFPYYSJZ") == NULL || strstr(err.msg, "not an age") != NULL);
    CHECK(tide_age_parse_identity("AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJ"
                                  "ZGFPYYSJZGFPQ4EGAEY",
                                  &parsed, &err) != 0);
    CHECK(strstr(err.msg, "GFPYY") == NULL);
}

/* Runs encrypt or decrypt from memory to memory; returns 0 or -1, the output in *out. */
static int run(int decrypt, const unsigned char *in, size_t inlen, const struct tide_age_key *k,
               size_t n, char **out, size_t *outlen, struct tide_err *err)
{
    FILE *fin = fmemopen((void *)in, inlen ? inlen : 1, "rb");
    if (inlen == 0) {
        fclose(fin);
        fin = fopen("/dev/null", "rb");
    }
    FILE *fout = open_memstream(out, outlen);
    int rc =
        decrypt ? tide_age_decrypt(fin, fout, k, n, err) : tide_age_encrypt(fin, fout, k, n, err);
    fclose(fin);
    fclose(fout);
    return rc;
}

static void debian_file(void)
{
    unsigned char file[512];
    size_t len = unhex(debian_file_hex, file);
    struct tide_age_key id, other, otherpub;
    struct tide_err err = {{0}};
    tide_age_parse_identity(spec_identity, &id, &err);
    char *out = NULL;
    size_t outlen = 0;
    CHECK(run(1, file, len, &id, 1, &out, &outlen, &err) == 0);
    CHECK(outlen == 28 && memcmp(out, "made by Debian age for tide\n", 28) == 0);
    free(out);
    /* Another identity: refused, nothing written. */
    tide_age_keygen(&other, &otherpub, &err);
    CHECK(run(1, file, len, &other, 1, &out, &outlen, &err) != 0);
    CHECK(outlen == 0);
    CHECK(strstr(err.msg, "no identity matches") != NULL);
    free(out);
    /* Both, the wrong one first: the right one opens it. */
    struct tide_age_key both[2] = {other, id};
    CHECK(run(1, file, len, both, 2, &out, &outlen, &err) == 0);
    free(out);
    /* Every single flipped bit is caught: in the header (MAC or stanza), nonce or payload. */
    int caught = 0;
    for (size_t i = 0; i < len; i++) {
        file[i] ^= 0x04;
        if (run(1, file, len, &id, 1, &out, &outlen, &err) != 0)
            caught++;
        free(out);
        file[i] ^= 0x04;
    }
    CHECK(caught == (int)len);
    /* Truncated: every shorter prefix is refused. */
    int refused = 0;
    for (size_t cut = 0; cut < len; cut++) {
        if (run(1, file, cut, &id, 1, &out, &outlen, &err) != 0)
            refused++;
        free(out);
    }
    CHECK(refused == (int)len);
}

static void round_trips(void)
{
    struct tide_age_key sec[2], pub[2];
    struct tide_err err = {{0}};
    tide_age_keygen(&sec[0], &pub[0], &err);
    tide_age_keygen(&sec[1], &pub[1], &err);
    static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 131072, 200000};
    unsigned char *plain = malloc(200000);
    for (size_t i = 0; i < 200000; i++)
        plain[i] = (unsigned char)(i * 7 + 3);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        char *enc = NULL, *dec = NULL;
        size_t enclen = 0, declen = 0;
        CHECK(run(0, plain, n, pub, 2, &enc, &enclen, &err) == 0);
        /* Chunks: one per started 64 KiB (at least one), each with a 16-byte tag. */
        size_t chunks = n == 0 ? 1 : (n + 65535) / 65536;
        CHECK(enclen > n + 16 + chunks * 16);
        CHECK(run(1, (unsigned char *)enc, enclen, &sec[1], 1, &dec, &declen, &err) == 0);
        CHECK(declen == n && memcmp(dec, plain, n) == 0);
        free(dec);
        /* Dropping the final chunk of a multi-chunk file (a cut at a chunk boundary) fails:
         * the last chunk left was sealed as "not final". */
        if (n > 65536) {
            size_t header = enclen - 16 - n - chunks * 16;
            size_t cut = header + 16 + 65536 + 16;
            CHECK(run(1, (unsigned char *)enc, cut, &sec[0], 1, &dec, &declen, &err) != 0);
            free(dec);
        }
        free(enc);
    }
    free(plain);
    char *none = NULL;
    size_t nonelen = 0;
    CHECK(run(0, (const unsigned char *)"x", 1, pub, 0, &none, &nonelen, &err) != 0);
    free(none);
}

int main(void)
{
    bech32();
    keys();
    debian_file();
    round_trips();
    return CHECK_DONE();
}
