/* age.c: the age v1 format with X25519 recipients, see age.h. */
#include "age.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include "bech32.h"

#define FILE_KEY_LEN 16
#define CHUNK        65536
#define TAG_LEN      16
#define HEADER_MAX   (1 << 20) /* a header larger than this is not one tide can have written */
#define LINE_MAX_LEN 8192

static const char version_line[] = "age-encryption.org/v1\n";
static const char x25519_label[] = "age-encryption.org/v1/X25519";

/* ---- raw (unpadded, canonical) base64 ---- */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_encode(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64chars[v >> 18];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = b64chars[(v >> 6) & 63];
        out[o++] = b64chars[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64chars[v >> 18];
        out[o++] = b64chars[(v >> 12) & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64chars[v >> 18];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = b64chars[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64chars, c) : NULL;
    return p ? (int)(p - b64chars) : -1;
}

/* Decodes exactly 'len' characters into 'out' (at most 'cap' bytes); rejects padding,
 * foreign characters and non-canonical trailing bits. Returns the byte count or -1. */
static long b64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    if (len % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (long)o;
}

/* ---- primitives ---- */

static int hkdf_sha256(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt, size_t saltlen,
                       const char *info, uint8_t out[32])
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (ctx == NULL)
        return -1;
    static const uint8_t empty_salt[1] = {0};
    OSSL_PARAM params[5];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
    /* An empty salt is HMAC's key of zero bytes; OpenSSL wants a pointer even then. */
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                  (void *)(saltlen ? salt : empty_salt), saltlen);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
    params[4] = OSSL_PARAM_construct_end();
    int ok = EVP_KDF_derive(ctx, out, 32, params) == 1;
    EVP_KDF_CTX_free(ctx);
    return ok ? 0 : -1;
}

/* ChaCha20-Poly1305 with empty associated data: 'out' gets len bytes and the 16-byte tag. */
static int aead_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t len,
                     uint8_t *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ok = c != NULL;
    ok = ok && EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key, nonce) == 1;
    ok = ok && (len == 0 || EVP_EncryptUpdate(c, out, &n, in, (int)len) == 1);
    ok = ok && EVP_EncryptFinal_ex(c, out + n, &n) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, out + len) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

/* Opens len bytes (tag included); 'out' gets len - 16 bytes. -1 when authentication fails. */
static int aead_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t len,
                     uint8_t *out)
{
    if (len < TAG_LEN)
        return -1;
    size_t plen = len - TAG_LEN;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ok = c != NULL;
    ok = ok && EVP_DecryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key, nonce) == 1;
    ok = ok && (plen == 0 || EVP_DecryptUpdate(c, out, &n, in, (int)plen) == 1);
    ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, (void *)(in + plen)) == 1;
    ok = ok && EVP_DecryptFinal_ex(c, out + n, &n) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

/* X25519(scalar, point); -1 on failure or an all-zero result (a low-order point). */
static int x25519(const uint8_t scalar[32], const uint8_t point[32], uint8_t out[32])
{
    EVP_PKEY *priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, scalar, 32);
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, point, 32);
    EVP_PKEY_CTX *ctx = priv ? EVP_PKEY_CTX_new(priv, NULL) : NULL;
    size_t outlen = 32;
    int ok = ctx != NULL && peer != NULL;
    ok = ok && EVP_PKEY_derive_init(ctx) == 1;
    ok = ok && EVP_PKEY_derive_set_peer(ctx, peer) == 1;
    ok = ok && EVP_PKEY_derive(ctx, out, &outlen) == 1 && outlen == 32;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(priv);
    if (ok) {
        uint8_t any = 0;
        for (int i = 0; i < 32; i++)
            any |= out[i];
        ok = any != 0;
    }
    return ok ? 0 : -1;
}

static int public_of(const uint8_t sec[32], uint8_t pub[32])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sec, 32);
    size_t len = 32;
    int ok = k != NULL && EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == 32;
    EVP_PKEY_free(k);
    return ok ? 0 : -1;
}

/* ---- keys ---- */

static int parse_key(const char *s, const char *want_hrp, struct tide_age_key *key)
{
    char hrp[32];
    size_t len = 0;
    if (tide_bech32_decode(s, hrp, sizeof hrp, key->bytes, sizeof key->bytes, &len) != 0)
        return -1;
    return strcmp(hrp, want_hrp) == 0 && len == TIDE_AGE_KEY_LEN ? 0 : -1;
}

int tide_age_parse_recipient(const char *s, struct tide_age_key *pub, struct tide_err *err)
{
    if (parse_key(s, "age", pub) != 0)
        return tide_err_set(err, "\"%.100s\" is not an age X25519 recipient (age1...)", s);
    return 0;
}

int tide_age_parse_identity(const char *s, struct tide_age_key *sec, struct tide_err *err)
{
    if (parse_key(s, "age-secret-key-", sec) != 0) {
        OPENSSL_cleanse(sec, sizeof *sec);
        return tide_err_set(err, "not an age X25519 identity (AGE-SECRET-KEY-1...)");
    }
    return 0;
}

void tide_age_recipient_string(const struct tide_age_key *pub, char out[TIDE_AGE_KEY_STR])
{
    tide_bech32_encode("age", pub->bytes, TIDE_AGE_KEY_LEN, 0, out, TIDE_AGE_KEY_STR);
}

void tide_age_identity_string(const struct tide_age_key *sec, char out[TIDE_AGE_KEY_STR])
{
    tide_bech32_encode("age-secret-key-", sec->bytes, TIDE_AGE_KEY_LEN, 1, out, TIDE_AGE_KEY_STR);
}

int tide_age_public_of(const struct tide_age_key *sec, struct tide_age_key *pub,
                       struct tide_err *err)
{
    if (public_of(sec->bytes, pub->bytes) != 0)
        return tide_err_set(err, "X25519 is not available in this OpenSSL");
    return 0;
}

int tide_age_keygen(struct tide_age_key *sec, struct tide_age_key *pub, struct tide_err *err)
{
    if (RAND_bytes(sec->bytes, TIDE_AGE_KEY_LEN) != 1)
        return tide_err_set(err, "no random bytes from OpenSSL");
    return tide_age_public_of(sec, pub, err);
}

int tide_age_load_identities(const char *path, struct tide_age_key **keys, size_t *n,
                             struct tide_err *err)
{
    *keys = NULL;
    *n = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return tide_err_set(err, "cannot read identity file %s: %s", path, strerror(errno));
    char line[512];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        size_t len = strlen(line);
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        struct tide_age_key k;
        if (tide_age_parse_identity(line, &k, NULL) != 0) {
            rc = tide_err_set(err, "%s:%d: not an age X25519 identity (AGE-SECRET-KEY-1...)", path,
                              lineno);
            break;
        }
        struct tide_age_key *grown = realloc(*keys, (*n + 1) * sizeof **keys);
        if (grown == NULL) {
            rc = tide_err_set(err, "out of memory");
            break;
        }
        *keys = grown;
        (*keys)[(*n)++] = k;
        OPENSSL_cleanse(&k, sizeof k);
    }
    OPENSSL_cleanse(line, sizeof line);
    fclose(f);
    if (rc == 0 && *n == 0)
        rc = tide_err_set(err, "%s holds no age identity (AGE-SECRET-KEY-1...)", path);
    if (rc != 0 && *keys != NULL) {
        OPENSSL_cleanse(*keys, *n * sizeof **keys);
        free(*keys);
        *keys = NULL;
        *n = 0;
    }
    return rc;
}

/* ---- payload (STREAM) ---- */

static void stream_nonce(uint64_t counter, int last, uint8_t nonce[12])
{
    memset(nonce, 0, 12);
    for (int i = 0; i < 8; i++)
        nonce[10 - i] = (uint8_t)(counter >> (8 * i));
    nonce[11] = last ? 1 : 0;
}

/* Reads up to 'want' bytes; returns the count (short only at end of file or on error). */
static size_t read_full(FILE *in, uint8_t *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        size_t r = fread(buf + got, 1, want - got, in);
        if (r == 0)
            break;
        got += r;
    }
    return got;
}

static int at_eof(FILE *in)
{
    int c = fgetc(in);
    if (c == EOF)
        return 1;
    ungetc(c, in);
    return 0;
}

static int payload_encrypt(FILE *in, FILE *out, const uint8_t key[32], struct tide_err *err)
{
    uint8_t *plain = malloc(CHUNK), *sealed = malloc(CHUNK + TAG_LEN);
    int rc = 0;
    if (plain == NULL || sealed == NULL)
        rc = tide_err_set(err, "out of memory");
    for (uint64_t counter = 0; rc == 0; counter++) {
        size_t len = read_full(in, plain, CHUNK);
        if (ferror(in)) {
            rc = tide_err_set(err, "read error: %s", strerror(errno));
            break;
        }
        int last = len < CHUNK || at_eof(in);
        uint8_t nonce[12];
        stream_nonce(counter, last, nonce);
        if (aead_seal(key, nonce, plain, len, sealed) != 0) {
            rc = tide_err_set(err, "ChaCha20-Poly1305 failed");
            break;
        }
        if (fwrite(sealed, 1, len + TAG_LEN, out) != len + TAG_LEN) {
            rc = tide_err_set(err, "write error: %s", strerror(errno));
            break;
        }
        if (last)
            break;
    }
    if (plain != NULL)
        OPENSSL_cleanse(plain, CHUNK);
    free(plain);
    free(sealed);
    return rc;
}

static int payload_decrypt(FILE *in, FILE *out, const uint8_t key[32], struct tide_err *err)
{
    uint8_t *sealed = malloc(CHUNK + TAG_LEN), *plain = malloc(CHUNK);
    int rc = 0;
    if (plain == NULL || sealed == NULL)
        rc = tide_err_set(err, "out of memory");
    for (uint64_t counter = 0; rc == 0; counter++) {
        size_t len = read_full(in, sealed, CHUNK + TAG_LEN);
        if (ferror(in)) {
            rc = tide_err_set(err, "read error: %s", strerror(errno));
            break;
        }
        int last = at_eof(in);
        if (len < TAG_LEN || (last && len == TAG_LEN && counter > 0)) {
            rc = tide_err_set(err, "the file is truncated (chunk %llu)",
                              (unsigned long long)counter);
            break;
        }
        uint8_t nonce[12];
        stream_nonce(counter, last, nonce);
        if (aead_open(key, nonce, sealed, len, plain) != 0) {
            rc = tide_err_set(err,
                              "chunk %llu failed authentication: the file was changed or "
                              "truncated",
                              (unsigned long long)counter);
            break;
        }
        if (fwrite(plain, 1, len - TAG_LEN, out) != len - TAG_LEN) {
            rc = tide_err_set(err, "write error: %s", strerror(errno));
            break;
        }
        if (last)
            break;
    }
    if (plain != NULL)
        OPENSSL_cleanse(plain, CHUNK);
    free(plain);
    free(sealed);
    return rc;
}

/* ---- header ---- */

struct header {
    char *text; /* the whole header, NUL-terminated */
    size_t len;
    size_t cap;
};

static int header_add(struct header *h, const char *s, size_t len)
{
    if (h->len + len + 1 > h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 1024;
        while (cap < h->len + len + 1)
            cap *= 2;
        char *grown = realloc(h->text, cap);
        if (grown == NULL)
            return -1;
        h->text = grown;
        h->cap = cap;
    }
    memcpy(h->text + h->len, s, len);
    h->len += len;
    h->text[h->len] = '\0';
    return 0;
}

static int header_mac(const uint8_t file_key[FILE_KEY_LEN], const char *text, size_t len,
                      uint8_t mac[32])
{
    uint8_t key[32];
    unsigned int maclen = 0;
    int ok = hkdf_sha256(file_key, FILE_KEY_LEN, NULL, 0, "header", key) == 0 &&
             HMAC(EVP_sha256(), key, 32, (const unsigned char *)text, len, mac, &maclen) != NULL &&
             maclen == 32;
    OPENSSL_cleanse(key, sizeof key);
    return ok ? 0 : -1;
}

static int wrap_for(const struct tide_age_key *recipient, const uint8_t file_key[FILE_KEY_LEN],
                    struct header *h)
{
    uint8_t eph[32], share[32], shared[32], salt[64], wrap_key[32], body[FILE_KEY_LEN + TAG_LEN];
    static const uint8_t zero_nonce[12] = {0};
    static const uint8_t basepoint[32] = {9};
    int rc = -1;
    if (RAND_bytes(eph, sizeof eph) == 1 && x25519(eph, basepoint, share) == 0 &&
        x25519(eph, recipient->bytes, shared) == 0) {
        memcpy(salt, share, 32);
        memcpy(salt + 32, recipient->bytes, 32);
        if (hkdf_sha256(shared, 32, salt, 64, x25519_label, wrap_key) == 0 &&
            aead_seal(wrap_key, zero_nonce, file_key, FILE_KEY_LEN, body) == 0) {
            char line[160], b64[64];
            b64_encode(share, 32, b64);
            int n = snprintf(line, sizeof line, "-> X25519 %s\n", b64);
            size_t blen = b64_encode(body, sizeof body, b64); /* 43 < 64: one final line */
            b64[blen] = '\n';
            rc = header_add(h, line, (size_t)n) == 0 && header_add(h, b64, blen + 1) == 0 ? 0 : -1;
        }
    }
    OPENSSL_cleanse(eph, sizeof eph);
    OPENSSL_cleanse(shared, sizeof shared);
    OPENSSL_cleanse(wrap_key, sizeof wrap_key);
    return rc;
}

int tide_age_encrypt(FILE *in, FILE *out, const struct tide_age_key *recipients, size_t n,
                     struct tide_err *err)
{
    if (n == 0)
        return tide_err_set(err, "no recipient to encrypt to");
    uint8_t file_key[FILE_KEY_LEN], nonce[16], payload_key[32], mac[32];
    struct header h = {0};
    int rc = 0;
    if (RAND_bytes(file_key, sizeof file_key) != 1 || RAND_bytes(nonce, sizeof nonce) != 1)
        rc = tide_err_set(err, "no random bytes from OpenSSL");
    if (rc == 0 && header_add(&h, version_line, strlen(version_line)) != 0)
        rc = tide_err_set(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (wrap_for(&recipients[i], file_key, &h) != 0)
            rc = tide_err_set(err, "cannot wrap the file key for recipient %zu (bad key?)", i + 1);
    }
    if (rc == 0 && header_add(&h, "---", 3) != 0)
        rc = tide_err_set(err, "out of memory");
    if (rc == 0 && header_mac(file_key, h.text, h.len, mac) != 0)
        rc = tide_err_set(err, "HMAC-SHA-256 failed");
    if (rc == 0) {
        char b64[64];
        size_t blen = b64_encode(mac, sizeof mac, b64);
        if (fwrite(h.text, 1, h.len, out) != h.len || fputc(' ', out) == EOF ||
            fwrite(b64, 1, blen, out) != blen || fputc('\n', out) == EOF ||
            fwrite(nonce, 1, sizeof nonce, out) != sizeof nonce)
            rc = tide_err_set(err, "write error: %s", strerror(errno));
    }
    if (rc == 0 &&
        hkdf_sha256(file_key, FILE_KEY_LEN, nonce, sizeof nonce, "payload", payload_key) != 0)
        rc = tide_err_set(err, "HKDF-SHA-256 failed");
    if (rc == 0)
        rc = payload_encrypt(in, out, payload_key, err);
    if (rc == 0 && fflush(out) != 0)
        rc = tide_err_set(err, "write error: %s", strerror(errno));
    OPENSSL_cleanse(file_key, sizeof file_key);
    OPENSSL_cleanse(payload_key, sizeof payload_key);
    free(h.text);
    return rc;
}

/* Reads one header line (with its '\n') into 'line'; returns its length, 0 at end of file,
 * -1 when longer than LINE_MAX_LEN. */
static long read_line(FILE *in, char *line)
{
    size_t len = 0;
    int c;
    while ((c = fgetc(in)) != EOF) {
        if (len + 2 > LINE_MAX_LEN)
            return -1;
        line[len++] = (char)c;
        if (c == '\n')
            break;
    }
    line[len] = '\0';
    return (long)len;
}

/* One stanza being read: its arguments and its decoded body. */
struct stanza {
    char args[LINE_MAX_LEN];
    int nargs;
    char *argv[8];
    uint8_t body[LINE_MAX_LEN];
    size_t body_len;
};

static int try_unwrap(const struct stanza *s, const struct tide_age_key *ids, size_t n,
                      uint8_t file_key[FILE_KEY_LEN])
{
    uint8_t share[32];
    if (s->nargs != 2 || strlen(s->argv[1]) != 43 ||
        b64_decode(s->argv[1], 43, share, sizeof share) != 32 ||
        s->body_len != FILE_KEY_LEN + TAG_LEN)
        return -2; /* malformed X25519 stanza */
    static const uint8_t zero_nonce[12] = {0};
    for (size_t i = 0; i < n; i++) {
        uint8_t pub[32], shared[32], salt[64], wrap_key[32];
        if (public_of(ids[i].bytes, pub) != 0 || x25519(ids[i].bytes, share, shared) != 0)
            continue;
        memcpy(salt, share, 32);
        memcpy(salt + 32, pub, 32);
        int ok = hkdf_sha256(shared, 32, salt, 64, x25519_label, wrap_key) == 0 &&
                 aead_open(wrap_key, zero_nonce, s->body, s->body_len, file_key) == 0;
        OPENSSL_cleanse(shared, sizeof shared);
        OPENSSL_cleanse(wrap_key, sizeof wrap_key);
        if (ok)
            return 0;
    }
    return -1;
}

int tide_age_decrypt(FILE *in, FILE *out, const struct tide_age_key *identities, size_t n,
                     struct tide_err *err)
{
    char *line = malloc(LINE_MAX_LEN);
    struct stanza *s = malloc(sizeof *s);
    struct header h = {0};
    uint8_t file_key[FILE_KEY_LEN], mac[32], want_mac[32], nonce[16], payload_key[32];
    int rc = 0, found = 0, stanzas = 0, scrypt = 0;
    if (line == NULL || s == NULL) {
        rc = tide_err_set(err, "out of memory");
        goto done;
    }
    long len = read_line(in, line);
    if (len <= 0 || strcmp(line, version_line) != 0) {
        rc = tide_err_set(err, "not an age file (no age-encryption.org/v1 header)");
        goto done;
    }
    header_add(&h, line, (size_t)len);
    for (;;) {
        len = read_line(in, line);
        if (len <= 0 || line[len - 1] != '\n' || h.len + (size_t)len > HEADER_MAX) {
            rc = tide_err_set(err, "malformed age header");
            goto done;
        }
        if (strncmp(line, "---", 3) == 0)
            break;
        if (strncmp(line, "-> ", 3) != 0) {
            rc = tide_err_set(err, "malformed age header");
            goto done;
        }
        if (header_add(&h, line, (size_t)len) != 0) {
            rc = tide_err_set(err, "out of memory");
            goto done;
        }
        /* The stanza's arguments, then its body lines until one shorter than 64 columns. */
        memcpy(s->args, line + 3, (size_t)len - 3);
        s->args[len - 4] = '\0';
        s->nargs = 0;
        for (char *save = NULL, *a = strtok_r(s->args, " ", &save); a != NULL;
             a = strtok_r(NULL, " ", &save)) {
            if (s->nargs == 8)
                break;
            s->argv[s->nargs++] = a;
        }
        s->body_len = 0;
        for (;;) {
            len = read_line(in, line);
            if (len <= 0 || line[len - 1] != '\n' || len > 65) {
                rc = tide_err_set(err, "malformed age header (stanza body)");
                goto done;
            }
            header_add(&h, line, (size_t)len);
            long got = b64_decode(line, (size_t)len - 1, s->body + s->body_len,
                                  sizeof s->body - s->body_len);
            if (got < 0) {
                rc = tide_err_set(err, "malformed age header (stanza body)");
                goto done;
            }
            s->body_len += (size_t)got;
            if (len - 1 < 64)
                break;
        }
        stanzas++;
        if (s->nargs == 0) {
            rc = tide_err_set(err, "malformed age header (empty stanza)");
            goto done;
        }
        if (strcmp(s->argv[0], "scrypt") == 0)
            scrypt = 1;
        if (found || strcmp(s->argv[0], "X25519") != 0)
            continue;
        int r = try_unwrap(s, identities, n, file_key);
        if (r == -2) {
            rc = tide_err_set(err, "malformed X25519 stanza in the age header");
            goto done;
        }
        found = r == 0;
    }
    if (scrypt) {
        rc = tide_err_set(err, "passphrase-encrypted age files are not supported (X25519 only)");
        goto done;
    }
    if (!found) {
        rc = tide_err_set(err, "no identity matches this file (%d recipient stanza%s)", stanzas,
                          stanzas == 1 ? "" : "s");
        goto done;
    }
    /* "--- MAC\n": the MAC covers the header up to and including "---". */
    header_add(&h, "---", 3);
    if (len != 3 + 1 + 43 + 1 || line[3] != ' ' ||
        b64_decode(line + 4, 43, want_mac, sizeof want_mac) != 32) {
        rc = tide_err_set(err, "malformed age header (MAC line)");
        goto done;
    }
    if (header_mac(file_key, h.text, h.len, mac) != 0 ||
        CRYPTO_memcmp(mac, want_mac, sizeof mac) != 0) {
        rc = tide_err_set(err, "the age header's MAC does not match: the header was changed");
        goto done;
    }
    if (read_full(in, nonce, sizeof nonce) != sizeof nonce) {
        rc = tide_err_set(err, "the file is truncated (no payload nonce)");
        goto done;
    }
    if (hkdf_sha256(file_key, FILE_KEY_LEN, nonce, sizeof nonce, "payload", payload_key) != 0) {
        rc = tide_err_set(err, "HKDF-SHA-256 failed");
        goto done;
    }
    rc = payload_decrypt(in, out, payload_key, err);
    if (rc == 0 && fflush(out) != 0)
        rc = tide_err_set(err, "write error: %s", strerror(errno));
done:
    OPENSSL_cleanse(file_key, sizeof file_key);
    OPENSSL_cleanse(payload_key, sizeof payload_key);
    free(line);
    free(s);
    free(h.text);
    return rc;
}
