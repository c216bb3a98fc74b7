/* decode.c: Content-Encoding decoding with zlib (decode.h). A decoder is a chain of inflate
 * streams, the outermost coding first; each stage inflates into a buffer on the stack and
 * hands it to the next stage, the last to the sink, so a slice is decoded all the way before
 * the next one comes and nothing grows with the body. */
#include "decode.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include "http_curl.h"

#define OUT_CHUNK                       ((size_t)16 << 10) /* decoded bytes per inflate call, per stage */
#define ZLIB_HEAD                       2 /* bytes that tell a zlib stream from a raw deflate one */
#define CURLE_BAD_CONTENT_ENCODING_CODE 61 /* libcurl's CURLE_BAD_CONTENT_ENCODING */

enum coding { CODING_NONE, CODING_GZIP, CODING_DEFLATE, CODING_UNKNOWN };

struct stage {
    z_stream z;
    enum coding coding;
    bool init;  /* inflateInit2 done */
    bool ended; /* the stream's end came (Z_STREAM_END) */
    bool fed;   /* any byte came */
    unsigned char head[ZLIB_HEAD];
    size_t nhead; /* deflate: first bytes held until zlib or raw is known */
};

struct tide_decoder {
    int n;
    struct stage s[TIDE_DECODE_MAX_CODINGS];
    char error[96];
    tide_decode_sink sink;
    void *ud;
};

/* ---- header values ---- */

static bool token_is(const char *t, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(t, name, n) == 0;
}

/* Calls 'each' for every comma-separated element of 'v' (spaces trimmed, parameters after ';'
 * passed along in 'param'). */
static void each_element(const char *v, size_t n,
                         void (*each)(void *, const char *, size_t, const char *, size_t), void *ud)
{
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && v[i] != ',')
            i++;
        size_t end = i++;
        while (start < end && (v[start] == ' ' || v[start] == '\t'))
            start++;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        const char *semi = memchr(v + start, ';', end - start);
        size_t tl = (semi != NULL ? (size_t)(semi - v) : end) - start;
        while (tl > 0 && (v[start + tl - 1] == ' ' || v[start + tl - 1] == '\t'))
            tl--;
        if (tl > 0)
            each(ud, v + start, tl, semi != NULL ? semi + 1 : NULL,
                 semi != NULL ? (size_t)(v + end - semi - 1) : 0);
    }
}

/* A q parameter of 0 (0, 0.0, 0.000) refuses the coding. */
static bool q_zero(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    if (n < 2 || (p[0] | 0x20) != 'q')
        return false;
    p++, n--;
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    if (n == 0 || *p != '=')
        return false;
    p++, n--;
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    if (n == 0 || *p != '0')
        return false;
    for (p++, n--; n > 0 && *p != ';'; p++, n--)
        if (*p != '.' && *p != '0' && *p != ' ' && *p != '\t')
            return false;
    return true;
}

static void accept_element(void *ud, const char *t, size_t n, const char *param, size_t pn)
{
    bool *asked = ud;
    if ((token_is(t, n, "gzip") || token_is(t, n, "x-gzip") || token_is(t, n, "deflate") ||
         token_is(t, n, "*")) &&
        !(param != NULL && q_zero(param, pn)))
        *asked = true;
}

bool tide_decode_asked(const char *headers, size_t len)
{
    bool asked = false;
    for (size_t at = 0; headers != NULL && at < len;) {
        const char *line = headers + at;
        size_t ll = strnlen(line, len - at);
        at += ll + 1;
        if (ll > 16 && strncasecmp(line, "accept-encoding:", 16) == 0)
            each_element(line + 16, ll - 16, accept_element, &asked);
    }
    return asked;
}

struct codings {
    enum coding list[TIDE_DECODE_MAX_CODINGS];
    int n;
    bool unknown; /* a coding tide does not decode, or too many */
};

static void coding_element(void *ud, const char *t, size_t n, const char *param, size_t pn)
{
    (void)param;
    (void)pn;
    struct codings *c = ud;
    if (token_is(t, n, "identity"))
        return;
    enum coding k = token_is(t, n, "gzip") || token_is(t, n, "x-gzip") ? CODING_GZIP
                    : token_is(t, n, "deflate")                        ? CODING_DEFLATE
                                                                       : CODING_UNKNOWN;
    if (k == CODING_UNKNOWN || c->n == TIDE_DECODE_MAX_CODINGS)
        c->unknown = true;
    else
        c->list[c->n++] = k;
}

/* ---- the decoder ---- */

int tide_decoder_new(struct tide_decoder **d, const char *head, size_t len)
{
    *d = NULL;
    struct codings c = {.n = 0};
    for (size_t at = 0; head != NULL && at < len;) {
        const char *line = head + at;
        const char *nl = memchr(line, '\n', len - at);
        size_t ll = nl != NULL ? (size_t)(nl - line) + 1 : len - at;
        at += ll;
        if (ll > 17 && strncasecmp(line, "content-encoding:", 17) == 0) {
            size_t vl = ll - 17;
            while (vl > 0 && (line[17 + vl - 1] == '\r' || line[17 + vl - 1] == '\n'))
                vl--;
            each_element(line + 17, vl, coding_element, &c);
        }
    }
    if (c.unknown || c.n == 0)
        return 0;
    struct tide_decoder *dec = calloc(1, sizeof *dec);
    if (dec == NULL)
        return -1;
    dec->n = c.n;
    for (int i = 0; i < c.n; i++) /* the last coding applied is the first undone */
        dec->s[i].coding = c.list[c.n - 1 - i];
    *d = dec;
    return 0;
}

static int bad(struct tide_decoder *d, const struct stage *s, const char *why)
{
    snprintf(d->error, sizeof d->error, "bad %s data (%s)",
             s->coding == CODING_GZIP ? "gzip" : "deflate", why);
    return TIDE_DECODE_BAD;
}

/* A zlib header (RFC 1950): method 8, a window up to 32 KiB, the check bits right. */
static bool zlib_header(const unsigned char *h)
{
    return (h[0] & 0x0f) == 8 && (h[0] >> 4) <= 7 && ((unsigned)h[0] << 8 | h[1]) % 31 == 0;
}

static int stage_start(struct tide_decoder *d, struct stage *s)
{
    /* gzip: the gzip wrapper only; deflate: a zlib stream, or a raw one as some servers send */
    int bits = s->coding == CODING_GZIP ? 16 + MAX_WBITS
               : zlib_header(s->head)   ? MAX_WBITS
                                        : -MAX_WBITS;
    int rc = inflateInit2(&s->z, bits);
    if (rc == Z_MEM_ERROR)
        return TIDE_DECODE_NOMEM;
    if (rc != Z_OK)
        return bad(d, s, "zlib could not start");
    s->init = true;
    return TIDE_DECODE_OK;
}

static int feed_stage(struct tide_decoder *d, int i, const unsigned char *p, size_t n);

/* Inflates 'n' bytes (at most UINT_MAX) of stage 'i' and passes what comes out on. */
static int inflate_some(struct tide_decoder *d, int i, const unsigned char *p, size_t n)
{
    struct stage *s = &d->s[i];
    unsigned char out[OUT_CHUNK];
    s->z.next_in = (unsigned char *)p;
    s->z.avail_in = (uInt)n;
    for (;;) {
        if (s->ended) {
            if (s->z.avail_in == 0)
                return TIDE_DECODE_OK;
            if (s->coding != CODING_GZIP)
                return TIDE_DECODE_OK; /* bytes after a deflate stream: ignored */
            inflateReset(&s->z);       /* gzip: another member follows (as gunzip reads) */
            s->ended = false;
        }
        s->z.next_out = out;
        s->z.avail_out = sizeof out;
        int rc = inflate(&s->z, Z_NO_FLUSH);
        size_t got = sizeof out - s->z.avail_out;
        if (got > 0) {
            int r = feed_stage(d, i + 1, out, got);
            if (r != TIDE_DECODE_OK)
                return r;
        }
        if (rc == Z_STREAM_END)
            s->ended = true;
        else if (rc == Z_MEM_ERROR)
            return TIDE_DECODE_NOMEM;
        else if (rc == Z_NEED_DICT)
            return bad(d, s, "a preset dictionary is needed");
        else if (rc != Z_OK && rc != Z_BUF_ERROR)
            return bad(d, s, s->z.msg != NULL ? s->z.msg : "corrupt stream");
        else if (s->z.avail_in == 0 && s->z.avail_out > 0)
            return TIDE_DECODE_OK; /* all input taken, nothing pending */
    }
}

static int feed_stage(struct tide_decoder *d, int i, const unsigned char *p, size_t n)
{
    if (i == d->n)
        return d->sink(d->ud, (const char *)p, n);
    struct stage *s = &d->s[i];
    if (n > 0)
        s->fed = true;
    if (!s->init && s->coding == CODING_DEFLATE) { /* hold the first bytes until both came */
        size_t take = ZLIB_HEAD - s->nhead < n ? ZLIB_HEAD - s->nhead : n;
        memcpy(s->head + s->nhead, p, take);
        s->nhead += take;
        p += take;
        n -= take;
        if (s->nhead < ZLIB_HEAD)
            return TIDE_DECODE_OK;
        int rc = stage_start(d, s);
        if (rc == TIDE_DECODE_OK)
            rc = inflate_some(d, i, s->head, ZLIB_HEAD);
        if (rc != TIDE_DECODE_OK)
            return rc;
    } else if (!s->init) {
        int rc = stage_start(d, s);
        if (rc != TIDE_DECODE_OK)
            return rc;
    }
    while (n > 0) {
        size_t part = n > (size_t)1 << 30 ? (size_t)1 << 30 : n;
        int rc = inflate_some(d, i, p, part);
        if (rc != TIDE_DECODE_OK)
            return rc;
        p += part;
        n -= part;
    }
    return TIDE_DECODE_OK;
}

int tide_decoder_feed(struct tide_decoder *d, const char *p, size_t n, tide_decode_sink sink,
                      void *ud)
{
    d->sink = sink;
    d->ud = ud;
    return feed_stage(d, 0, (const unsigned char *)p, n);
}

int tide_decoder_end(struct tide_decoder *d)
{
    for (int i = 0; i < d->n; i++)
        if (!d->s[i].ended)
            return bad(d, &d->s[i], "the compressed body ended early");
    return TIDE_DECODE_OK;
}

const char *tide_decoder_error(const struct tide_decoder *d)
{
    return d->error;
}

void tide_decoder_free(struct tide_decoder *d)
{
    if (d == NULL)
        return;
    for (int i = 0; i < d->n; i++)
        if (d->s[i].init)
            inflateEnd(&d->s[i].z);
    free(d);
}

/* ---- a transfer's body ---- */

void tide_body_decode_start(struct tide_body_decode *bd, const struct tide_http_spec *sp)
{
    tide_decoder_free(bd->dec);
    bd->dec = NULL;
    bd->failed = false;
    bd->asked = !sp->discard_body && tide_decode_asked(sp->headers.data, sp->headers.len);
}

struct keep {
    struct tide_transfer *t;
    size_t *charged;
};

/* Decoded bytes kept as a plain body is (max_body, the process budget); STOP once full. */
static int keep_decoded(void *ud, const char *p, size_t n)
{
    struct keep *k = ud;
    struct tide_http_result *res = &k->t->res;
    size_t keep = n;
    if (res->body.len + n > k->t->spec.max_body) {
        keep = k->t->spec.max_body - res->body.len;
        res->truncated = true;
    }
    if (keep > 0 && tide_body_budget_take(k->charged, keep) != keep) {
        keep = 0;
        res->truncated = true;
    }
    if (keep > 0 && tide_buf_append(&res->body, p, keep) != 0)
        return TIDE_DECODE_NOMEM;
    return res->truncated ? TIDE_DECODE_STOP : TIDE_DECODE_OK;
}

int tide_body_decode_feed(struct tide_body_decode *bd, struct tide_transfer *t, size_t *charged,
                          const char *p, size_t n)
{
    struct tide_http_result *res = &t->res;
    if (res->body_bytes == 0 && n > 0) { /* a new response's body: its own codings */
        tide_decoder_free(bd->dec);
        bd->dec = NULL;
        if (tide_decoder_new(&bd->dec, res->headers.data, res->headers.len) != 0)
            return -1;
    }
    res->body_bytes += n;
    if (res->truncated)
        return 0;          /* full: the rest is counted, not decoded */
    if (bd->dec == NULL) { /* nothing to decode: kept as it came */
        struct keep k = {t, charged};
        return keep_decoded(&k, p, n) == TIDE_DECODE_NOMEM ? -1 : 0;
    }
    struct keep k = {t, charged};
    int rc = tide_decoder_feed(bd->dec, p, n, keep_decoded, &k);
    if (rc == TIDE_DECODE_BAD)
        bd->failed = true;
    return rc < 0 ? -1 : 0;
}

bool tide_body_decode_end(struct tide_body_decode *bd, const struct tide_http_result *res)
{
    if (!bd->asked || bd->dec == NULL || res->body_bytes == 0 || res->truncated || bd->failed)
        return !bd->failed;
    if (tide_decoder_end(bd->dec) == TIDE_DECODE_OK)
        return true;
    bd->failed = true;
    return false;
}

void tide_body_decode_fail(const struct tide_body_decode *bd, struct tide_http_result *res)
{
    snprintf(res->error, sizeof res->error, "response body: %s",
             bd->dec != NULL ? tide_decoder_error(bd->dec) : "bad compressed data");
    tide_curl_error(res, CURLE_BAD_CONTENT_ENCODING_CODE, 0);
}

void tide_body_decode_fini(struct tide_body_decode *bd)
{
    tide_decoder_free(bd->dec);
    bd->dec = NULL;
}
