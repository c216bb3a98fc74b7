/* s3.c: S3 PUT, GET, ListObjectsV2 and DELETE with SigV4, see s3.h. */
#include "s3.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include "log.h"
#include "sigv4.h"

#define RESPONSE_MAX (16L << 20) /* a listing page is far smaller; more is not an S3 server */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char *env_or_null(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? strdup(v) : NULL;
}

int tide_s3_open(struct tide_s3 *s3, const char *endpoint, const char *region, struct tide_err *err)
{
    memset(s3, 0, sizeof *s3);
    s3->access_key = env_or_null("AWS_ACCESS_KEY_ID");
    s3->secret_key = env_or_null("AWS_SECRET_ACCESS_KEY");
    s3->session_token = env_or_null("AWS_SESSION_TOKEN");
    if (s3->access_key == NULL || s3->secret_key == NULL) {
        tide_s3_close(s3);
        return tide_err_set(err, "S3 credentials missing: set AWS_ACCESS_KEY_ID and "
                                 "AWS_SECRET_ACCESS_KEY");
    }
    tide_secret_add(s3->access_key);
    tide_secret_add(s3->secret_key);
    if (s3->session_token)
        tide_secret_add(s3->session_token);
    if (region == NULL)
        region = getenv("AWS_REGION");
    if (region == NULL || *region == '\0')
        region = getenv("AWS_DEFAULT_REGION");
    if (region == NULL || *region == '\0')
        region = "us-east-1";
    s3->region = strdup(region);
    char dflt[256];
    if (endpoint == NULL) {
        snprintf(dflt, sizeof dflt, "https://s3.%s.amazonaws.com", region);
        endpoint = dflt;
    }
    const char *rest = strncmp(endpoint, "http://", 7) == 0    ? endpoint + 7
                       : strncmp(endpoint, "https://", 8) == 0 ? endpoint + 8
                                                               : NULL;
    if (rest == NULL || *rest == '\0' || *rest == '/') {
        tide_s3_close(s3);
        return tide_err_set(err, "--s3-endpoint %.200s is not an http:// or https:// URL",
                            endpoint);
    }
    s3->endpoint = strdup(endpoint);
    s3->host = strndup(rest, strcspn(rest, "/"));
    if (s3->region == NULL || s3->endpoint == NULL || s3->host == NULL) {
        tide_s3_close(s3);
        return tide_err_set(err, "out of memory");
    }
    size_t len = strlen(s3->endpoint);
    while (len > 0 && s3->endpoint[len - 1] == '/')
        s3->endpoint[--len] = '\0';
    return 0;
}

static void free_secret(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void tide_s3_close(struct tide_s3 *s3)
{
    free(s3->endpoint);
    free(s3->host);
    free(s3->region);
    free_secret(s3->access_key);
    free_secret(s3->secret_key);
    free_secret(s3->session_token);
    memset(s3, 0, sizeof *s3);
}

int tide_s3_parse_url(const char *url, char **bucket, char **prefix, struct tide_err *err)
{
    *bucket = *prefix = NULL;
    if (strncmp(url, "s3://", 5) != 0 || url[5] == '\0' || url[5] == '/')
        return tide_err_set(err, "\"%.200s\" is not an s3://BUCKET[/PREFIX] URL", url);
    const char *b = url + 5;
    size_t blen = strcspn(b, "/");
    const char *p = b + blen;
    while (*p == '/')
        p++;
    size_t plen = strlen(p);
    while (plen > 0 && p[plen - 1] == '/')
        plen--;
    *bucket = strndup(b, blen);
    *prefix = strndup(p, plen);
    if (*bucket == NULL || *prefix == NULL) {
        free(*bucket);
        free(*prefix);
        *bucket = *prefix = NULL;
        return tide_err_set(err, "out of memory");
    }
    return 0;
}

/* ---- one signed request ---- */

struct response {
    char *body; /* in memory, at most RESPONSE_MAX */
    size_t len;
    int too_big;
    char etag[80];
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct response *r = userp;
    size_t n = size * nmemb;
    if (r->len + n > (size_t)RESPONSE_MAX) {
        r->too_big = 1;
        return 0;
    }
    char *grown = realloc(r->body, r->len + n + 1);
    if (grown == NULL)
        return 0;
    r->body = grown;
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    struct response *r = userp;
    size_t n = size * nmemb;
    if (n > 5 && strncasecmp(data, "etag:", 5) == 0) {
        const char *v = data + 5;
        size_t len = n - 5;
        while (len > 0 && (*v == ' ' || *v == '"')) {
            v++;
            len--;
        }
        while (len > 0 &&
               (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == '"' || v[len - 1] == ' '))
            len--;
        if (len >= sizeof r->etag)
            len = sizeof r->etag - 1;
        memcpy(r->etag, v, len);
        r->etag[len] = '\0';
    }
    return n;
}

void tide_s3_error_summary(const char *body, char *out, size_t outsz)
{
    out[0] = '\0';
    if (body == NULL)
        return;
    const char *c = strstr(body, "<Code>");
    if (c != NULL) {
        c += 6;
        snprintf(out, outsz, ": %.*s", (int)strcspn(c, "<"), c);
    }
}

static void amz_now(char out[17])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* method on /BUCKET[/KEY][?query]; 'upload' (with its size, hex SHA-256 and base64 MD5) is
 * the body. The MD5 goes in Content-MD5, which S3 checks against what it received (BadDigest
 * otherwise): the end-to-end integrity check of an upload, whatever the store's ETags are. */
static int s3_request(const struct tide_s3 *s3, const char *method, const char *bucket,
                      const char *key, const char *query, FILE *upload, long long upload_size,
                      const char *payload_hash, const char *content_md5, struct response *resp,
                      long *status, struct tide_err *err)
{
    char *ebucket = tide_sigv4_uri_encode(bucket, 0);
    char *ekey = key ? tide_sigv4_uri_encode(key, 1) : strdup("");
    size_t plen = (ebucket ? strlen(ebucket) : 0) + (ekey ? strlen(ekey) : 0) + 3;
    char *path = malloc(plen);
    size_t ulen = strlen(s3->endpoint) + plen + (query ? strlen(query) : 0) + 2;
    char *url = malloc(ulen);
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    char *auth = NULL;
    int rc = 0;
    if (ebucket == NULL || ekey == NULL || path == NULL || url == NULL || c == NULL) {
        rc = tide_err_set(err, "out of memory");
        goto done;
    }
    snprintf(path, plen, "/%s%s%s", ebucket, key ? "/" : "", ekey);
    snprintf(url, ulen, "%s%s%s%s", s3->endpoint, path, query && *query ? "?" : "",
             query ? query : "");
    char date[17];
    amz_now(date);
    struct tide_sigv4_header sh[5] = {
        {"host", s3->host}, {"x-amz-content-sha256", payload_hash}, {"x-amz-date", date}};
    size_t nsh = 3;
    if (s3->session_token != NULL)
        sh[nsh++] = (struct tide_sigv4_header){"x-amz-security-token", s3->session_token};
    if (content_md5 != NULL)
        sh[nsh++] = (struct tide_sigv4_header){"content-md5", content_md5};
    struct tide_sigv4_request req = {method,       path, query,      sh,  nsh,
                                     payload_hash, date, s3->region, "s3"};
    auth = tide_sigv4_authorization(&req, s3->access_key, s3->secret_key, NULL);
    if (auth == NULL) {
        rc = tide_err_set(err, "out of memory");
        goto done;
    }
    char line[4096];
    /* The Host sent is the one signed (curl would drop an explicit default port). */
    snprintf(line, sizeof line, "Host: %s", s3->host);
    hdrs = curl_slist_append(hdrs, line);
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", payload_hash);
    hdrs = curl_slist_append(hdrs, line);
    snprintf(line, sizeof line, "x-amz-date: %s", date);
    hdrs = curl_slist_append(hdrs, line);
    if (s3->session_token != NULL) {
        snprintf(line, sizeof line, "x-amz-security-token: %s", s3->session_token);
        hdrs = curl_slist_append(hdrs, line);
    }
    if (content_md5 != NULL) {
        snprintf(line, sizeof line, "Content-MD5: %s", content_md5);
        hdrs = curl_slist_append(hdrs, line);
    }
    snprintf(line, sizeof line, "Authorization: %s", auth);
    hdrs = curl_slist_append(hdrs, line);
    OPENSSL_cleanse(line, sizeof line);
    hdrs = curl_slist_append(hdrs, "Expect:");
    hdrs = curl_slist_append(hdrs, "Content-Type:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (upload != NULL) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READDATA, upload);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)upload_size);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        rc = tide_err_set(err, "%s %s: %s", method, s3->endpoint,
                          resp->too_big ? "answer too large" : curl_easy_strerror(cc));
        goto done;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
done:
    curl_slist_free_all(hdrs);
    if (auth != NULL) {
        OPENSSL_cleanse(auth, strlen(auth));
        free(auth);
    }
    if (c != NULL)
        curl_easy_cleanup(c);
    free(url);
    free(path);
    free(ebucket);
    free(ekey);
    return rc;
}

static int status_error(const char *what, const char *key, long status, const char *body,
                        struct tide_err *err)
{
    char detail[200];
    tide_s3_error_summary(body, detail, sizeof detail);
    return tide_err_set(err, "%s %.300s: HTTP %ld%s", what, key, status, detail);
}

/* One pass over the body: its size, hex SHA-256 (x-amz-content-sha256) and base64 MD5
 * (Content-MD5). */
static int digest_stream(FILE *f, char hex[65], char md5_b64[32], long long *size)
{
    EVP_MD_CTX *sha = EVP_MD_CTX_new(), *md5 = EVP_MD_CTX_new();
    unsigned char *buf = malloc(65536);
    unsigned char d[SHA256_DIGEST_LENGTH], m[16];
    size_t n;
    int ok = buf != NULL && sha != NULL && md5 != NULL &&
             EVP_DigestInit_ex(sha, EVP_sha256(), NULL) == 1 &&
             EVP_DigestInit_ex(md5, EVP_md5(), NULL) == 1;
    *size = 0;
    while (ok && (n = fread(buf, 1, 65536, f)) > 0) {
        ok = EVP_DigestUpdate(sha, buf, n) == 1 && EVP_DigestUpdate(md5, buf, n) == 1;
        *size += (long long)n;
    }
    ok = ok && !ferror(f) && EVP_DigestFinal_ex(sha, d, NULL) == 1 &&
         EVP_DigestFinal_ex(md5, m, NULL) == 1;
    EVP_MD_CTX_free(sha);
    EVP_MD_CTX_free(md5);
    free(buf);
    if (!ok)
        return -1;
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    EVP_EncodeBlock((unsigned char *)md5_b64, m, 16); /* 24 characters and a NUL */
    return 0;
}

int tide_s3_put_file(const struct tide_s3 *s3, const char *bucket, const char *key,
                     const char *path, char etag[80], struct tide_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tide_err_set(err, "cannot read %s: %s", path, strerror(errno));
    char hash[65], md5[32];
    long long size = 0;
    if (digest_stream(f, hash, md5, &size) != 0) {
        fclose(f);
        return tide_err_set(err, "cannot read %s: %s", path, strerror(errno));
    }
    rewind(f);
    struct response resp = {0};
    long status = 0;
    int rc = s3_request(s3, "PUT", bucket, key, NULL, f, size, hash, md5, &resp, &status, err);
    fclose(f);
    if (rc == 0 && status != 200)
        rc = status_error("PUT", key, status, resp.body, err);
    if (rc == 0 && etag != NULL)
        memcpy(etag, resp.etag, sizeof resp.etag);
    free(resp.body);
    return rc;
}

/* ---- listing ---- */

/* The text of <tag>...</tag> starting at or after 'from' and before 'end'; XML entities
 * decoded. NULL when absent. */
static char *xml_text(const char *from, const char *end, const char *tag)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = strstr(from, open);
    if (a == NULL || (end != NULL && a >= end))
        return NULL;
    a += strlen(open);
    const char *b = strstr(a, close);
    if (b == NULL || (end != NULL && b > end))
        return NULL;
    char *out = malloc((size_t)(b - a) + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (const char *p = a; p < b;) {
        int matched = 0;
        for (size_t i = 0; *p == '&' && i < sizeof ents / sizeof ents[0]; i++) {
            size_t l = strlen(ents[i].ent);
            if ((size_t)(b - p) >= l && strncmp(p, ents[i].ent, l) == 0) {
                out[o++] = ents[i].c;
                p += l;
                matched = 1;
                break;
            }
        }
        if (!matched)
            out[o++] = *p++;
    }
    out[o] = '\0';
    return out;
}

void tide_s3_free_objects(struct tide_s3_object *objs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(objs[i].key);
    free(objs);
}

int tide_s3_parse_list_page(const char *xml, struct tide_s3_object **objs, size_t *n, char **next)
{
    *next = NULL;
    for (const char *p = strstr(xml, "<Contents>"); p != NULL; p = strstr(p + 1, "<Contents>")) {
        const char *end = strstr(p, "</Contents>");
        if (end == NULL)
            return -1;
        char *key = xml_text(p, end, "Key");
        char *size = xml_text(p, end, "Size");
        char *etag = xml_text(p, end, "ETag");
        struct tide_s3_object *grown = realloc(*objs, (*n + 1) * sizeof **objs);
        if (key == NULL || size == NULL || grown == NULL) {
            free(key);
            free(size);
            free(etag);
            if (grown != NULL)
                *objs = grown;
            return -1;
        }
        *objs = grown;
        struct tide_s3_object *o = &(*objs)[(*n)++];
        o->key = key;
        o->size = strtoll(size, NULL, 10);
        const char *e = etag ? etag : "";
        while (*e == '"')
            e++;
        snprintf(o->etag, sizeof o->etag, "%.*s", (int)strcspn(e, "\""), e);
        free(size);
        free(etag);
    }
    char *trunc = xml_text(xml, NULL, "IsTruncated");
    if (trunc != NULL && strcmp(trunc, "true") == 0)
        *next = xml_text(xml, NULL, "NextContinuationToken");
    free(trunc);
    return 0;
}

int tide_s3_list(const struct tide_s3 *s3, const char *bucket, const char *prefix,
                 struct tide_s3_object **objs, size_t *n, struct tide_err *err)
{
    *objs = NULL;
    *n = 0;
    char *token = NULL;
    char *eprefix = tide_sigv4_uri_encode(prefix, 0);
    int rc = eprefix ? 0 : tide_err_set(err, "out of memory");
    for (int page = 0; rc == 0; page++) {
        char *etoken = token ? tide_sigv4_uri_encode(token, 0) : NULL;
        size_t qlen = strlen(eprefix) + (etoken ? strlen(etoken) : 0) + 64;
        char *query = malloc(qlen);
        if (query == NULL || (token && etoken == NULL)) {
            free(query);
            free(etoken);
            rc = tide_err_set(err, "out of memory");
            break;
        }
        snprintf(query, qlen, "list-type=2&prefix=%s%s%s", eprefix,
                 etoken ? "&continuation-token=" : "", etoken ? etoken : "");
        free(etoken);
        struct response resp = {0};
        long status = 0;
        rc = s3_request(s3, "GET", bucket, NULL, query, NULL, 0, EMPTY_SHA256, NULL, &resp, &status,
                        err);
        free(query);
        free(token);
        token = NULL;
        if (rc == 0 && status != 200)
            rc = status_error("list", bucket, status, resp.body, err);
        if (rc == 0 && tide_s3_parse_list_page(resp.body ? resp.body : "", objs, n, &token) != 0)
            rc = tide_err_set(err, "list %s: the server's answer is not a ListObjectsV2 result",
                              bucket);
        free(resp.body);
        if (token == NULL || page > 100000)
            break;
    }
    free(token);
    free(eprefix);
    if (rc != 0) {
        tide_s3_free_objects(*objs, *n);
        *objs = NULL;
        *n = 0;
    }
    return rc;
}

int tide_s3_delete_prefix(const struct tide_s3 *s3, const char *bucket, const char *prefix,
                          size_t *deleted, struct tide_err *err)
{
    struct tide_s3_object *objs = NULL;
    size_t n = 0, done = 0;
    if (deleted != NULL)
        *deleted = 0;
    if (tide_s3_list(s3, bucket, prefix, &objs, &n, err) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct response resp = {0};
        long status = 0;
        rc = s3_request(s3, "DELETE", bucket, objs[i].key, NULL, NULL, 0, EMPTY_SHA256, NULL, &resp,
                        &status, err);
        if (rc == 0 && status != 204 && status != 200)
            rc = status_error("DELETE", objs[i].key, status, resp.body, err);
        free(resp.body);
        done += rc == 0;
    }
    tide_s3_free_objects(objs, n);
    if (deleted != NULL)
        *deleted = done;
    if (rc != 0)
        return rc;
    /* Check: nothing left under the prefix. */
    if (tide_s3_list(s3, bucket, prefix, &objs, &n, err) != 0)
        return -1;
    tide_s3_free_objects(objs, n);
    if (n != 0)
        return tide_err_set(err, "%zu object(s) still under s3://%s/%s after deleting", n, bucket,
                            prefix);
    return 0;
}
