/* sigv4.c: AWS Signature Version 4, see sigv4.h. */
#include "sigv4.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

/* A growing string; 'failed' sticks after an allocation failure. */
struct sb {
    char *s;
    size_t len, cap;
    int failed;
};

static void sb_add(struct sb *b, const char *s, size_t len)
{
    if (b->failed)
        return;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *grown = realloc(b->s, cap);
        if (grown == NULL) {
            b->failed = 1;
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, len);
    b->len += len;
    b->s[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static char *sb_take(struct sb *b)
{
    if (b->failed || b->s == NULL) {
        free(b->s);
        return b->failed ? NULL : strdup("");
    }
    return b->s;
}

void tide_sigv4_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(data, len, d);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

char *tide_sigv4_uri_encode(const char *s, int keep_slash)
{
    struct sb b = {0};
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
            sb_add(&b, (const char *)p, 1);
        } else {
            char esc[4];
            snprintf(esc, sizeof esc, "%%%02X", c);
            sb_add(&b, esc, 3);
        }
    }
    return sb_take(&b);
}

/* Orders "name=value" pairs by name, then by value, byte by byte. */
static int cmp_pair(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    size_t nx = strcspn(x, "="), ny = strcspn(y, "=");
    int c = memcmp(x, y, nx < ny ? nx : ny);
    if (c != 0 || nx != ny)
        return c != 0 ? c : (nx < ny ? -1 : 1);
    return strcmp(x + nx + (x[nx] == '='), y + ny + (y[ny] == '='));
}

/* The query's "name=value" pairs sorted by name then value (byte order), joined by '&'. */
static void add_sorted_query(struct sb *b, const char *query)
{
    if (query == NULL || *query == '\0')
        return;
    char *copy = strdup(query);
    size_t n = 1;
    for (const char *p = query; *p; p++)
        n += *p == '&';
    char **parts = calloc(n, sizeof *parts);
    if (copy == NULL || parts == NULL) {
        b->failed = 1;
        free(copy);
        free(parts);
        return;
    }
    size_t k = 0;
    for (char *save = NULL, *p = strtok_r(copy, "&", &save); p; p = strtok_r(NULL, "&", &save))
        parts[k++] = p;
    qsort(parts, k, sizeof *parts, cmp_pair); /* a bare name ("acl") is written "acl=" */
    for (size_t i = 0; i < k; i++) {
        if (i)
            sb_str(b, "&");
        sb_str(b, parts[i]);
        if (strchr(parts[i], '=') == NULL)
            sb_str(b, "=");
    }
    free(parts);
    free(copy);
}

struct hdr {
    char *name;  /* lowercased */
    char *value; /* trimmed, inner runs of spaces folded to one */
};

static int cmp_hdr(const void *a, const void *b)
{
    return strcmp(((const struct hdr *)a)->name, ((const struct hdr *)b)->name);
}

static struct hdr *canonical_headers(const struct tide_sigv4_request *r)
{
    struct hdr *h = calloc(r->nheaders ? r->nheaders : 1, sizeof *h);
    if (h == NULL)
        return NULL;
    for (size_t i = 0; i < r->nheaders; i++) {
        h[i].name = strdup(r->headers[i].name);
        h[i].value = malloc(strlen(r->headers[i].value) + 1);
        if (h[i].name == NULL || h[i].value == NULL) {
            for (size_t j = 0; j <= i; j++) {
                free(h[j].name);
                free(h[j].value);
            }
            free(h);
            return NULL;
        }
        for (char *p = h[i].name; *p; p++) {
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        }
        const char *v = r->headers[i].value;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t o = 0;
        for (; *v; v++) {
            if ((*v == ' ' || *v == '\t') && (o == 0 || h[i].value[o - 1] == ' '))
                continue;
            h[i].value[o++] = *v == '\t' ? ' ' : *v;
        }
        while (o > 0 && h[i].value[o - 1] == ' ')
            o--;
        h[i].value[o] = '\0';
    }
    qsort(h, r->nheaders, sizeof *h, cmp_hdr);
    return h;
}

static void free_headers(struct hdr *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
}

static void add_signed_headers(struct sb *b, const struct hdr *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_str(b, ";");
        sb_str(b, h[i].name);
    }
}

char *tide_sigv4_canonical_request(const struct tide_sigv4_request *r)
{
    struct hdr *h = canonical_headers(r);
    if (h == NULL)
        return NULL;
    struct sb b = {0};
    sb_str(&b, r->method);
    sb_str(&b, "\n");
    sb_str(&b, r->path && *r->path ? r->path : "/");
    sb_str(&b, "\n");
    add_sorted_query(&b, r->query);
    sb_str(&b, "\n");
    for (size_t i = 0; i < r->nheaders; i++) {
        sb_str(&b, h[i].name);
        sb_str(&b, ":");
        sb_str(&b, h[i].value);
        sb_str(&b, "\n");
    }
    sb_str(&b, "\n");
    add_signed_headers(&b, h, r->nheaders);
    sb_str(&b, "\n");
    sb_str(&b, r->payload_hash);
    free_headers(h, r->nheaders);
    return sb_take(&b);
}

static void add_scope(struct sb *b, const struct tide_sigv4_request *r)
{
    sb_add(b, r->amz_date, 8);
    sb_str(b, "/");
    sb_str(b, r->region);
    sb_str(b, "/");
    sb_str(b, r->service);
    sb_str(b, "/aws4_request");
}

char *tide_sigv4_string_to_sign(const struct tide_sigv4_request *r)
{
    if (strlen(r->amz_date) != 16)
        return NULL;
    char *creq = tide_sigv4_canonical_request(r);
    if (creq == NULL)
        return NULL;
    char hex[65];
    tide_sigv4_sha256_hex(creq, strlen(creq), hex);
    free(creq);
    struct sb b = {0};
    sb_str(&b, "AWS4-HMAC-SHA256\n");
    sb_str(&b, r->amz_date);
    sb_str(&b, "\n");
    add_scope(&b, r);
    sb_str(&b, "\n");
    sb_str(&b, hex);
    return sb_take(&b);
}

static void hmac(const void *key, size_t keylen, const char *msg, size_t msglen,
                 unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, msglen, out, &len);
}

char *tide_sigv4_authorization(const struct tide_sigv4_request *r, const char *access_key,
                               const char *secret_key, char signature[65])
{
    char *sts = tide_sigv4_string_to_sign(r);
    if (sts == NULL)
        return NULL;
    size_t klen = strlen(secret_key) + 5;
    char *k0 = malloc(klen);
    if (k0 == NULL) {
        free(sts);
        return NULL;
    }
    snprintf(k0, klen, "AWS4%s", secret_key);
    unsigned char kdate[32], kregion[32], kservice[32], ksigning[32], sig[32];
    hmac(k0, klen - 1, r->amz_date, 8, kdate);
    hmac(kdate, 32, r->region, strlen(r->region), kregion);
    hmac(kregion, 32, r->service, strlen(r->service), kservice);
    hmac(kservice, 32, "aws4_request", 12, ksigning);
    hmac(ksigning, 32, sts, strlen(sts), sig);
    OPENSSL_cleanse(k0, klen);
    OPENSSL_cleanse(kdate, 32);
    OPENSSL_cleanse(kregion, 32);
    OPENSSL_cleanse(kservice, 32);
    OPENSSL_cleanse(ksigning, 32);
    free(k0);
    free(sts);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", sig[i]);
    if (signature != NULL)
        memcpy(signature, hex, 65);
    struct hdr *h = canonical_headers(r);
    if (h == NULL)
        return NULL;
    struct sb b = {0};
    sb_str(&b, "AWS4-HMAC-SHA256 Credential=");
    sb_str(&b, access_key);
    sb_str(&b, "/");
    add_scope(&b, r);
    sb_str(&b, ", SignedHeaders=");
    add_signed_headers(&b, h, r->nheaders);
    sb_str(&b, ", Signature=");
    sb_str(&b, hex);
    free_headers(h, r->nheaders);
    return sb_take(&b);
}
