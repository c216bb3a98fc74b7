/* sshsig.c: SSHSIG with Ed25519 through OpenSSL's EVP interface (see sshsig.h).
 *
 * The signed data is "SSHSIG" string(namespace) string("") string(hash name) string(H(msg));
 * the signature blob is "SSHSIG" uint32(1) string(public key) string(namespace) string("")
 * string(hash name) string(string("ssh-ed25519") string(64-byte signature)), armored in base64
 * lines of 70 characters. An SSH "string" is a big-endian uint32 length and the bytes. */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fsutil.h"
#include "sshsig.h"

#define ED25519_TYPE "ssh-ed25519"
#define SIG_BEGIN    "-----BEGIN SSH SIGNATURE-----"
#define SIG_END      "-----END SSH SIGNATURE-----"
#define KEY_BEGIN    "-----BEGIN OPENSSH PRIVATE KEY-----"
#define KEY_END      "-----END OPENSSH PRIVATE KEY-----"

/* A growable byte string for the SSH wire format. */
struct wire {
    unsigned char *p;
    size_t len, cap;
    bool oom;
};

static void put_bytes(struct wire *w, const void *data, size_t n)
{
    if (w->oom)
        return;
    if (w->len + n > w->cap) {
        size_t cap = (w->len + n) * 2 + 64;
        unsigned char *g = realloc(w->p, cap);
        if (g == NULL) {
            w->oom = true;
            return;
        }
        w->p = g;
        w->cap = cap;
    }
    memcpy(w->p + w->len, data, n);
    w->len += n;
}

static void put_u32(struct wire *w, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    put_bytes(w, b, 4);
}

static void put_string(struct wire *w, const void *data, size_t n)
{
    put_u32(w, (uint32_t)n);
    put_bytes(w, data, n);
}

/* Reading: a cursor over bytes; every read checks the bounds. */
struct cursor {
    const unsigned char *p;
    size_t left;
};

static bool get_u32(struct cursor *c, uint32_t *v)
{
    if (c->left < 4)
        return false;
    *v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
    c->p += 4;
    c->left -= 4;
    return true;
}

static bool get_string(struct cursor *c, const unsigned char **data, size_t *n)
{
    uint32_t len;
    if (!get_u32(c, &len) || len > c->left)
        return false;
    *data = c->p;
    *n = len;
    c->p += len;
    c->left -= len;
    return true;
}

static bool string_is(const unsigned char *data, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(data, s, n) == 0;
}

/* Base64 of everything between 'begin' and 'end' in 'text' (whitespace skipped), decoded;
 * malloc'd, NULL when the markers or the encoding are wrong. */
static unsigned char *unarmor(const char *text, const char *begin, const char *end, size_t *n)
{
    const char *a = strstr(text, begin);
    const char *b = a != NULL ? strstr(a, end) : NULL;
    if (b == NULL)
        return NULL;
    a += strlen(begin);
    char *b64 = malloc((size_t)(b - a) + 1);
    if (b64 == NULL)
        return NULL;
    size_t k = 0;
    for (const char *s = a; s < b; s++) {
        if (!isspace((unsigned char)*s))
            b64[k++] = *s;
    }
    b64[k] = '\0';
    unsigned char *out = NULL;
    if (k > 0 && k % 4 == 0 && (out = malloc(k / 4 * 3 + 1)) != NULL) {
        int got = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)k);
        if (got < 0) {
            free(out);
            out = NULL;
        } else {
            size_t pad = (b64[k - 1] == '=') + (b64[k - 2] == '=');
            *n = (size_t)got - pad;
        }
    }
    free(b64);
    return out;
}

static char *armor(const unsigned char *data, size_t n)
{
    size_t b64len = 4 * ((n + 2) / 3);
    char *b64 = malloc(b64len + 1);
    char *out = malloc(b64len + b64len / 70 + 2 + sizeof SIG_BEGIN + sizeof SIG_END + 2);
    if (b64 == NULL || out == NULL) {
        free(b64);
        free(out);
        return NULL;
    }
    EVP_EncodeBlock((unsigned char *)b64, data, (int)n);
    char *o = out;
    o += sprintf(o, "%s\n", SIG_BEGIN);
    for (size_t i = 0; i < b64len; i += 70) {
        size_t line = b64len - i < 70 ? b64len - i : 70;
        memcpy(o, b64 + i, line);
        o += line;
        *o++ = '\n';
    }
    sprintf(o, "%s\n", SIG_END);
    free(b64);
    return out;
}

/* The bytes an SSHSIG signature covers. */
static bool signed_data(struct wire *w, const char *ns, const char *hash, const void *msg,
                        size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const EVP_MD *alg = strcmp(hash, "sha512") == 0 ? EVP_sha512() : EVP_sha256();
    if (EVP_Digest(msg, len, md, &mdlen, alg, NULL) != 1)
        return false;
    put_bytes(w, "SSHSIG", 6);
    put_string(w, ns, strlen(ns));
    put_string(w, "", 0);
    put_string(w, hash, strlen(hash));
    put_string(w, md, mdlen);
    return !w->oom;
}

/* The Ed25519 seed and public key of an unencrypted openssh-key-v1 file. */
static int read_private_key(const char *keyfile, unsigned char seed[32], unsigned char pub[32],
                            struct tide_err *err)
{
    struct tide_err ferr = {{0}};
    char *text = tide_fs_read_all(keyfile, NULL, &ferr);
    if (text == NULL)
        return tide_err_set(err, "signing key %s: %s", keyfile, ferr.msg);
    size_t n = 0;
    unsigned char *raw = unarmor(text, KEY_BEGIN, KEY_END, &n);
    free(text);
    if (raw == NULL)
        return tide_err_set(
            err, "signing key %s: not an OpenSSH private key (ssh-keygen -t ed25519)", keyfile);
    int rc = -1;
    struct cursor c = {raw, n};
    const unsigned char *cipher, *kdf, *kdfopts, *pubblob, *priv, *type, *k;
    size_t ncipher, nkdf, nkdfopts, npubblob, npriv, ntype, nk;
    uint32_t nkeys, check1, check2;
    static const char magic[] = "openssh-key-v1"; /* followed by a NUL */
    if (n < sizeof magic || memcmp(raw, magic, sizeof magic) != 0) {
        tide_err_set(err, "signing key %s: not an openssh-key-v1 file", keyfile);
        goto out;
    }
    c.p += sizeof magic;
    c.left -= sizeof magic;
    if (!get_string(&c, &cipher, &ncipher) || !get_string(&c, &kdf, &nkdf) ||
        !get_string(&c, &kdfopts, &nkdfopts) || !get_u32(&c, &nkeys) ||
        !get_string(&c, &pubblob, &npubblob) || !get_string(&c, &priv, &npriv)) {
        tide_err_set(err, "signing key %s: truncated or malformed", keyfile);
        goto out;
    }
    if (!string_is(cipher, ncipher, "none")) {
        tide_err_set(err,
                     "signing key %s is encrypted (passphrase); tide needs an unencrypted key "
                     "(ssh-keygen -t ed25519 -N '')",
                     keyfile);
        goto out;
    }
    if (nkeys != 1) {
        tide_err_set(err, "signing key %s: holds %u keys, tide reads files with one", keyfile,
                     nkeys);
        goto out;
    }
    struct cursor p = {priv, npriv};
    if (!get_u32(&p, &check1) || !get_u32(&p, &check2) || check1 != check2 ||
        !get_string(&p, &type, &ntype)) {
        tide_err_set(err, "signing key %s: malformed private section", keyfile);
        goto out;
    }
    if (!string_is(type, ntype, ED25519_TYPE)) {
        tide_err_set(err, "signing key %s: a %.*s key; tide signs with Ed25519 keys", keyfile,
                     (int)(ntype < 40 ? ntype : 40), (const char *)type);
        goto out;
    }
    if (!get_string(&p, &k, &nk) || nk != 32) {
        tide_err_set(err, "signing key %s: malformed Ed25519 public key", keyfile);
        goto out;
    }
    memcpy(pub, k, 32);
    if (!get_string(&p, &k, &nk) || nk != 64) {
        tide_err_set(err, "signing key %s: malformed Ed25519 private key", keyfile);
        goto out;
    }
    memcpy(seed, k, 32); /* OpenSSH stores seed || public key */
    rc = 0;
out:
    OPENSSL_cleanse(raw, n);
    free(raw);
    return rc;
}

char *tide_sshsig_sign(const char *keyfile, const char *ns, const void *msg, size_t len,
                       struct tide_err *err)
{
    unsigned char seed[32], pub[32], sig[64];
    if (read_private_key(keyfile, seed, pub, err) != 0)
        return NULL;
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    OPENSSL_cleanse(seed, sizeof seed);
    struct wire data = {0}, blob = {0}, pk = {0}, sw = {0};
    char *out = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t siglen = sizeof sig;
    if (key == NULL || ctx == NULL || !signed_data(&data, ns, "sha512", msg, len) ||
        EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
        EVP_DigestSign(ctx, sig, &siglen, data.p, data.len) != 1 || siglen != 64) {
        tide_err_set(err, "signing with %s failed (OpenSSL)", keyfile);
        goto out;
    }
    put_string(&pk, ED25519_TYPE, strlen(ED25519_TYPE));
    put_string(&pk, pub, 32);
    put_string(&sw, ED25519_TYPE, strlen(ED25519_TYPE));
    put_string(&sw, sig, 64);
    put_bytes(&blob, "SSHSIG", 6);
    put_u32(&blob, 1);
    put_string(&blob, pk.p, pk.len);
    put_string(&blob, ns, strlen(ns));
    put_string(&blob, "", 0);
    put_string(&blob, "sha512", 6);
    put_string(&blob, sw.p, sw.len);
    if (pk.oom || sw.oom || blob.oom || (out = armor(blob.p, blob.len)) == NULL)
        tide_err_set(err, "out of memory while signing");
out:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    free(data.p);
    free(blob.p);
    free(pk.p);
    free(sw.p);
    return out;
}

/* Splits an allowed_signers line into up to 'max' tokens (double quotes keep spaces). */
static int tokens(char *line, char **tok, int max)
{
    int n = 0;
    char *s = line;
    while (n < max) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0' || *s == '#')
            break;
        tok[n++] = s;
        bool quoted = false;
        while (*s != '\0' && (quoted || (*s != ' ' && *s != '\t'))) {
            if (*s == '"')
                quoted = !quoted;
            s++;
        }
        if (*s != '\0')
            *s++ = '\0';
    }
    return n;
}

/* The namespaces="a,b" option of 'opts' allows 'ns' (no such option: every namespace). */
static bool namespace_allowed(const char *opts, const char *ns)
{
    const char *o = opts != NULL ? strstr(opts, "namespaces=\"") : NULL;
    if (o == NULL)
        return true;
    o += strlen("namespaces=\"");
    size_t nl = strlen(ns);
    while (*o != '\0' && *o != '"') {
        size_t k = strcspn(o, ",\"");
        if (k == nl && strncmp(o, ns, nl) == 0)
            return true;
        o += k;
        if (*o == ',')
            o++;
    }
    return false;
}

/* 0: 'pk' (a public key blob) is listed in 'allowed' for 'ns'; its first principal copied. */
static int find_signer(const char *allowed, const char *ns, const unsigned char *pk, size_t npk,
                       char *principal, size_t plen)
{
    char *copy = strdup(allowed);
    if (copy == NULL)
        return -1;
    int rc = -1;
    for (char *line = strtok(copy, "\n"); line != NULL && rc != 0; line = strtok(NULL, "\n")) {
        char *tok[8];
        int n = tokens(line, tok, 8);
        for (int i = 1; i + 1 < n; i++) {
            if (strcmp(tok[i], ED25519_TYPE) != 0)
                continue;
            size_t nb = 0;
            char armored[600];
            snprintf(armored, sizeof armored, "<\n%s\n>", tok[i + 1]);
            unsigned char *b = unarmor(armored, "<", ">", &nb); /* not base64 characters */
            bool same = b != NULL && nb == npk && memcmp(b, pk, npk) == 0;
            free(b);
            if (same && namespace_allowed(i > 1 ? tok[1] : NULL, ns)) {
                size_t k = strcspn(tok[0], ",");
                snprintf(principal, plen, "%.*s", (int)k, tok[0]);
                rc = 0;
            }
            break;
        }
    }
    free(copy);
    return rc;
}

int tide_sshsig_verify(const char *armored, const char *ns, const void *msg, size_t len,
                       const char *allowed, char *principal, size_t principal_len,
                       char fingerprint[64], struct tide_err *err)
{
    size_t n = 0;
    unsigned char *raw = unarmor(armored, SIG_BEGIN, SIG_END, &n);
    if (raw == NULL)
        return tide_err_set(err, "not an SSH signature (no armored SSHSIG block)");
    int rc = -1;
    struct cursor c = {raw, n};
    uint32_t version;
    const unsigned char *pk, *sns, *reserved, *hash, *sig, *t, *key, *s;
    size_t npk, nsns, nreserved, nhash, nsig, nt, nkey, ns64;
    if (n < 6 || memcmp(raw, "SSHSIG", 6) != 0) {
        tide_err_set(err, "not an SSHSIG signature");
        goto out;
    }
    c.p += 6;
    c.left -= 6;
    if (!get_u32(&c, &version) || version != 1 || !get_string(&c, &pk, &npk) ||
        !get_string(&c, &sns, &nsns) || !get_string(&c, &reserved, &nreserved) ||
        !get_string(&c, &hash, &nhash) || !get_string(&c, &sig, &nsig)) {
        tide_err_set(err, "malformed SSHSIG signature");
        goto out;
    }
    char nsbuf[64];
    snprintf(nsbuf, sizeof nsbuf, "%.*s", (int)(nsns < 63 ? nsns : 63), (const char *)sns);
    if (!string_is(sns, nsns, ns)) {
        tide_err_set(err, "signature made for namespace \"%s\", not \"%s\"", nsbuf, ns);
        goto out;
    }
    char hname[8];
    snprintf(hname, sizeof hname, "%.*s", (int)(nhash < 7 ? nhash : 7), (const char *)hash);
    if (strcmp(hname, "sha512") != 0 && strcmp(hname, "sha256") != 0) {
        tide_err_set(err, "unsupported signature hash \"%s\"", hname);
        goto out;
    }
    struct cursor kc = {pk, npk}, sc = {sig, nsig};
    if (!get_string(&kc, &t, &nt) || !string_is(t, nt, ED25519_TYPE) ||
        !get_string(&kc, &key, &nkey) || nkey != 32 || !get_string(&sc, &t, &nt) ||
        !string_is(t, nt, ED25519_TYPE) || !get_string(&sc, &s, &ns64) || ns64 != 64) {
        tide_err_set(err, "not an Ed25519 signature (tide checks Ed25519 only)");
        goto out;
    }
    if (fingerprint != NULL) {
        unsigned char md[32];
        char b64[48];
        EVP_Digest(pk, npk, md, NULL, EVP_sha256(), NULL);
        EVP_EncodeBlock((unsigned char *)b64, md, 32);
        b64[strcspn(b64, "=")] = '\0'; /* ssh-keygen prints it unpadded */
        snprintf(fingerprint, 64, "SHA256:%s", b64);
    }
    struct wire data = {0};
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool good = pkey != NULL && ctx != NULL && signed_data(&data, ns, hname, msg, len) &&
                EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
                EVP_DigestVerify(ctx, s, 64, data.p, data.len) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    free(data.p);
    if (!good) {
        tide_err_set(err, "the signature does not match (content or signature changed)");
        goto out;
    }
    if (allowed != NULL && find_signer(allowed, ns, pk, npk, principal, principal_len) != 0) {
        tide_err_set(err, "the signing key is not in the allowed signers (for namespace \"%s\")",
                     ns);
        goto out;
    }
    if (allowed == NULL && principal != NULL && principal_len > 0)
        principal[0] = '\0';
    rc = 0;
out:
    free(raw);
    return rc;
}
