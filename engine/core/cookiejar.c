/* cookiejar.c: RFC 6265 cookie storage and retrieval (cookiejar.h says what and why). A jar is
 * a small array of cookies, each one allocation; lookups scan it (a jar holds a handful of
 * cookies in practice and 3000 at most), and the header is built from a reused scratch array
 * sorted as section 5.4 says. */
#include "cookiejar.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tide_cookiejar {
    struct tide_cookie **v;
    size_t n, cap;
    size_t bytes;                 /* strings of the stored cookies */
    uint64_t next;                /* creation order of the next new cookie */
    struct tide_cookie **scratch; /* matching cookies while a header is built */
    size_t scratch_cap;
};

/* ---- URLs ---------------------------------------------------------------------------- */

/* What a cookie needs from a request URL: the scheme, the host (lower case, no port, no
 * brackets) and the path (up to '?' or '#'). */
struct req {
    bool https;
    char host[256];
    const char *path;
    size_t path_len;
};

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool prefix_nocase(const char *s, const char *p)
{
    for (; *p != '\0'; s++, p++)
        if (lower(*s) != *p)
            return false;
    return true;
}

/* False when 'url' is not an absolute http or https URL with a host. */
static bool parse_url(const char *url, struct req *r)
{
    const char *p;
    if (url == NULL)
        return false;
    if (prefix_nocase(url, "http://")) {
        r->https = false;
        p = url + 7;
    } else if (prefix_nocase(url, "https://")) {
        r->https = true;
        p = url + 8;
    } else {
        return false;
    }
    size_t auth_len = strcspn(p, "/?#");
    const char *host = p, *end = p + auth_len;
    for (const char *q = p; q < end; q++)
        if (*q == '@')
            host = q + 1; /* user information before the last '@' */
    const char *host_end;
    if (host < end && *host == '[') {
        host++;
        host_end = memchr(host, ']', (size_t)(end - host));
        if (host_end == NULL)
            return false;
    } else {
        host_end = memchr(host, ':', (size_t)(end - host));
        if (host_end == NULL)
            host_end = end;
    }
    size_t n = (size_t)(host_end - host);
    if (n == 0 || n >= sizeof r->host)
        return false;
    for (size_t i = 0; i < n; i++)
        r->host[i] = lower(host[i]);
    r->host[n] = '\0';
    r->path = end;
    r->path_len = strcspn(end, "?#");
    return true;
}

static bool is_ip(const char *host)
{
    struct in_addr a;
    return strchr(host, ':') != NULL || inet_pton(AF_INET, host, &a) == 1;
}

/* ---- matching (section 5.1.3 and 5.1.4) ------------------------------------------------ */

static bool domain_match(const char *host, const char *domain)
{
    size_t h = strlen(host), d = strlen(domain);
    if (h == d)
        return memcmp(host, domain, h) == 0;
    return d < h && d > 0 && memcmp(host + h - d, domain, d) == 0 && host[h - d - 1] == '.' &&
           !is_ip(host);
}

static bool path_match(const char *req_path, size_t req_len, const char *cookie_path)
{
    if (req_len == 0 || req_path[0] != '/') {
        req_path = "/";
        req_len = 1;
    }
    size_t c = strlen(cookie_path);
    if (c > req_len || memcmp(req_path, cookie_path, c) != 0)
        return false;
    return c == req_len || cookie_path[c - 1] == '/' || req_path[c] == '/';
}

/* The directory of the request path (section 5.1.4), as a length of r->path ("/" when 0). */
static size_t default_path_len(const struct req *r)
{
    if (r->path_len == 0 || r->path[0] != '/')
        return 0;
    size_t last = 0;
    for (size_t i = 0; i < r->path_len; i++)
        if (r->path[i] == '/')
            last = i;
    return last; /* 0: "/" */
}

static bool sends_to(const struct tide_cookie *c, const struct req *r)
{
    if (c->secure && !r->https)
        return false;
    if (c->host_only ? strcmp(c->domain, r->host) != 0 : !domain_match(r->host, c->domain))
        return false;
    return path_match(r->path, r->path_len, c->path);
}

/* ---- dates (section 5.1.1) ------------------------------------------------------------ */

static bool is_delimiter(unsigned char c)
{
    return c == 0x09 || (c >= 0x20 && c <= 0x2F) || (c >= 0x3B && c <= 0x40) ||
           (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* 'min' to 'max' digits at the start of the token, then its end or a non-digit. */
static bool digits(const char *t, size_t n, size_t min, size_t max, int *out)
{
    size_t i = 0;
    int v = 0;
    while (i < n && i < max && is_digit(t[i]))
        v = v * 10 + (t[i++] - '0');
    if (i < min || (i < n && is_digit(t[i])))
        return false;
    *out = v;
    return true;
}

static bool time_token(const char *t, size_t n, int *h, int *m, int *s)
{
    size_t i = 0;
    int *parts[3] = {h, m, s};
    for (int k = 0; k < 3; k++) {
        size_t start = i;
        int v = 0;
        while (i < n && i - start < 2 && is_digit(t[i]))
            v = v * 10 + (t[i++] - '0');
        if (i == start)
            return false;
        *parts[k] = v;
        if (k < 2) {
            if (i >= n || t[i] != ':')
                return false;
            i++;
        }
    }
    return i == n || !is_digit(t[i]);
}

static int month_of(const char *t, size_t n)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    if (n < 3)
        return -1;
    for (int m = 0; m < 12; m++)
        if (lower(t[0]) == names[m * 3] && lower(t[1]) == names[m * 3 + 1] &&
            lower(t[2]) == names[m * 3 + 2])
            return m + 1;
    return -1;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

bool tide_cookie_parse_date(const char *s, size_t len, int64_t *out)
{
    bool got_time = false, got_day = false, got_month = false, got_year = false;
    int hh = 0, mm = 0, ss = 0, day = 0, month = 0, year = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && is_delimiter((unsigned char)s[i]))
            i++;
        size_t start = i;
        while (i < len && !is_delimiter((unsigned char)s[i]))
            i++;
        const char *t = s + start;
        size_t n = i - start;
        if (n == 0)
            continue;
        if (!got_time && time_token(t, n, &hh, &mm, &ss))
            got_time = true;
        else if (!got_day && digits(t, n, 1, 2, &day))
            got_day = true;
        else if (!got_month && (month = month_of(t, n)) > 0)
            got_month = true;
        else if (!got_year && digits(t, n, 2, 4, &year))
            got_year = true;
    }
    if (year >= 70 && year <= 99)
        year += 1900;
    else if (year >= 0 && year <= 69)
        year += 2000;
    if (!got_time || !got_day || !got_month || !got_year || day < 1 || day > 31 || year < 1601 ||
        hh > 23 || mm > 59 || ss > 59 || day > days_in_month(year, month))
        return false;
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = month - 1,
                    .tm_mday = day,
                    .tm_hour = hh,
                    .tm_min = mm,
                    .tm_sec = ss};
    *out = (int64_t)timegm(&tm);
    return true;
}

/* ---- Set-Cookie (section 5.2) --------------------------------------------------------- */

struct slice {
    const char *p;
    size_t n;
};

/* A Set-Cookie value taken apart; slices point into it. */
struct parsed {
    struct slice name, value, domain, path;
    bool has_domain, has_path, has_expires, has_max_age, secure, http_only;
    int64_t expires, max_age;
    enum tide_samesite samesite;
};

static struct slice trim(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return (struct slice){p, n};
}

static bool slice_is(struct slice s, const char *word)
{
    return strlen(word) == s.n && prefix_nocase(s.p, word);
}

/* Control characters other than tab end a cookie (RFC 6265bis): they would reach the
 * Cookie header. */
static bool has_ctl(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return true;
    }
    return false;
}

/* "-"? DIGIT+, saturated far beyond any cap; false when not that. */
static bool parse_delta(struct slice v, int64_t *out)
{
    size_t i = v.n > 0 && v.p[0] == '-' ? 1 : 0;
    if (i == v.n)
        return false;
    int64_t x = 0;
    for (size_t k = i; k < v.n; k++) {
        if (!is_digit(v.p[k]))
            return false;
        if (x < (int64_t)1 << 40)
            x = x * 10 + (v.p[k] - '0');
    }
    *out = i == 1 ? -x : x;
    return true;
}

static void attribute(struct parsed *c, struct slice name, struct slice value)
{
    if (value.n > TIDE_COOKIE_MAX_ATTR)
        return;
    if (slice_is(name, "expires")) {
        int64_t t;
        if (tide_cookie_parse_date(value.p, value.n, &t)) {
            c->expires = t;
            c->has_expires = true;
        }
    } else if (slice_is(name, "max-age")) {
        int64_t d;
        if (value.n > 0 && (is_digit(value.p[0]) || value.p[0] == '-') && parse_delta(value, &d)) {
            c->max_age = d;
            c->has_max_age = true;
        }
    } else if (slice_is(name, "domain")) {
        if (value.n > 0 && value.p[0] == '.')
            value.p++, value.n--;
        if (value.n > 0) { /* an empty Domain is ignored (section 5.2.3) */
            c->domain = value;
            c->has_domain = true;
        }
    } else if (slice_is(name, "path")) {
        c->has_path = value.n > 0 && value.p[0] == '/'; /* else the default path */
        c->path = value;
    } else if (slice_is(name, "secure")) {
        c->secure = true;
    } else if (slice_is(name, "httponly")) {
        c->http_only = true;
    } else if (slice_is(name, "samesite")) {
        c->samesite = slice_is(value, "strict") ? TIDE_SAMESITE_STRICT
                      : slice_is(value, "lax")  ? TIDE_SAMESITE_LAX
                      : slice_is(value, "none") ? TIDE_SAMESITE_NONE
                                                : TIDE_SAMESITE_UNSET;
    }
}

static bool parse_set_cookie(const char *s, size_t len, struct parsed *c)
{
    *c = (struct parsed){0};
    if (has_ctl(s, len))
        return false;
    const char *semi = memchr(s, ';', len);
    size_t pair_len = semi != NULL ? (size_t)(semi - s) : len;
    const char *eq = memchr(s, '=', pair_len);
    if (eq == NULL)
        return false;
    c->name = trim(s, (size_t)(eq - s));
    c->value = trim(eq + 1, pair_len - (size_t)(eq + 1 - s));
    if (c->name.n == 0 || c->name.n + c->value.n > TIDE_COOKIE_MAX_NAME_VALUE)
        return false;
    const char *p = semi, *end = s + len;
    while (p != NULL && p < end) {
        p++; /* past ';' */
        const char *next = memchr(p, ';', (size_t)(end - p));
        size_t n = next != NULL ? (size_t)(next - p) : (size_t)(end - p);
        const char *aeq = memchr(p, '=', n);
        struct slice name = trim(p, aeq != NULL ? (size_t)(aeq - p) : n);
        struct slice value =
            aeq != NULL ? trim(aeq + 1, n - (size_t)(aeq + 1 - p)) : (struct slice){"", 0};
        attribute(c, name, value);
        p = next;
    }
    return true;
}

/* ---- the storage model (section 5.3) -------------------------------------------------- */

static bool single_label(const char *domain)
{
    if (strchr(domain, '.') != NULL || strcmp(domain, "localhost") == 0)
        return false;
    return true;
}

static struct tide_cookie *cookie_alloc(struct slice name, struct slice value, const char *domain,
                                        const char *path, size_t path_len)
{
    size_t dn = strlen(domain);
    struct tide_cookie *k =
        malloc(sizeof *k + name.n + 1 + value.n + 1 + dn + 1 + (path_len ? path_len : 1) + 1);
    if (k == NULL)
        return NULL;
    *k = (struct tide_cookie){0};
    char *p = (char *)(k + 1);
    k->name = memcpy(p, name.p, name.n);
    p[name.n] = '\0';
    p += name.n + 1;
    k->value = memcpy(p, value.p, value.n);
    p[value.n] = '\0';
    p += value.n + 1;
    k->domain = memcpy(p, domain, dn + 1);
    p += dn + 1;
    if (path_len == 0)
        path = "/", path_len = 1;
    k->path = memcpy(p, path, path_len);
    p[path_len] = '\0';
    return k;
}

static size_t cookie_bytes(const struct tide_cookie *k)
{
    return strlen(k->name) + strlen(k->value) + strlen(k->domain) + strlen(k->path) + 4;
}

/* The cookie section 5.3 makes of 'c' received from 'r'; NULL with *oom false: ignored. */
static struct tide_cookie *make_cookie(const struct parsed *c, const struct req *r, int64_t now,
                                       bool from_script, bool *oom)
{
    *oom = false;
    int64_t expires = TIDE_COOKIE_SESSION;
    if (c->has_max_age)
        expires = c->max_age <= 0 ? INT64_MIN : now + c->max_age;
    else if (c->has_expires)
        expires = c->expires;
    if (expires != TIDE_COOKIE_SESSION && expires != INT64_MIN &&
        expires > now + TIDE_COOKIE_MAX_AGE_S)
        expires = now + TIDE_COOKIE_MAX_AGE_S;

    char domain[TIDE_COOKIE_MAX_ATTR + 1];
    bool host_only = true;
    snprintf(domain, sizeof domain, "%s", r->host);
    if (c->has_domain) {
        for (size_t i = 0; i < c->domain.n; i++)
            domain[i] = lower(c->domain.p[i]);
        domain[c->domain.n] = '\0';
        if (strlen(domain) != c->domain.n)
            return NULL;
        if (single_label(domain) && strcmp(domain, r->host) != 0)
            return NULL; /* a public suffix: not the request's own host */
        if (single_label(domain)) {
            snprintf(domain, sizeof domain, "%s", r->host);
        } else {
            if (!domain_match(r->host, domain))
                return NULL;
            host_only = false;
        }
    }
    if (c->secure && !r->https && !from_script)
        return NULL;
    struct tide_cookie *k;
    if (c->has_path)
        k = cookie_alloc(c->name, c->value, domain, c->path.p, c->path.n);
    else
        k = cookie_alloc(c->name, c->value, domain, r->path, default_path_len(r));
    if (k == NULL) {
        *oom = true;
        return NULL;
    }
    k->expires = expires;
    k->host_only = host_only;
    k->secure = c->secure;
    k->http_only = c->http_only;
    k->samesite = c->samesite;
    return k;
}

struct tide_cookie *tide_cookie_parse(const char *url, const char *set_cookie, size_t len,
                                      int64_t now_s)
{
    struct req r;
    struct parsed c;
    bool oom;
    if (!parse_url(url, &r) || !parse_set_cookie(set_cookie, len, &c))
        return NULL;
    return make_cookie(&c, &r, now_s, false, &oom);
}

/* ---- the jar -------------------------------------------------------------------------- */

struct tide_cookiejar *tide_cookiejar_new(void)
{
    return calloc(1, sizeof(struct tide_cookiejar));
}

void tide_cookiejar_free(struct tide_cookiejar *j)
{
    if (j == NULL)
        return;
    for (size_t i = 0; i < j->n; i++)
        free(j->v[i]);
    free(j->v);
    free(j->scratch);
    free(j);
}

size_t tide_cookiejar_count(const struct tide_cookiejar *j)
{
    return j->n;
}

static void remove_at(struct tide_cookiejar *j, size_t i)
{
    j->bytes -= cookie_bytes(j->v[i]);
    free(j->v[i]);
    j->v[i] = j->v[--j->n]; /* order does not matter: 'created' orders */
}

static void drop_expired(struct tide_cookiejar *j, int64_t now)
{
    for (size_t i = j->n; i-- > 0;)
        if (j->v[i]->expires <= now)
            remove_at(j, i);
}

/* The oldest cookie (of 'domain' when not NULL), or n. */
static size_t oldest(const struct tide_cookiejar *j, const char *domain)
{
    size_t best = j->n;
    for (size_t i = 0; i < j->n; i++)
        if ((domain == NULL || strcmp(j->v[i]->domain, domain) == 0) &&
            (best == j->n || j->v[i]->created < j->v[best]->created))
            best = i;
    return best;
}

static void enforce_limits(struct tide_cookiejar *j, const char *domain, int64_t now)
{
    size_t same = 0;
    for (size_t i = 0; i < j->n; i++)
        same += strcmp(j->v[i]->domain, domain) == 0;
    if (same > TIDE_COOKIE_MAX_PER_DOMAIN || j->n > TIDE_COOKIE_MAX_PER_JAR ||
        j->bytes > TIDE_COOKIE_MAX_JAR_BYTES)
        drop_expired(j, now);
    for (;;) {
        same = 0;
        for (size_t i = 0; i < j->n; i++)
            same += strcmp(j->v[i]->domain, domain) == 0;
        if (same <= TIDE_COOKIE_MAX_PER_DOMAIN)
            break;
        remove_at(j, oldest(j, domain));
    }
    while (j->n > TIDE_COOKIE_MAX_PER_JAR || j->bytes > TIDE_COOKIE_MAX_JAR_BYTES)
        remove_at(j, oldest(j, NULL));
}

/* Stores 'k' (owned from now on): section 5.3 steps 11 to 13 and the limits. */
static int insert(struct tide_cookiejar *j, struct tide_cookie *k, const struct req *r, int64_t now)
{
    if (!k->secure && !r->https) { /* a Secure cookie stays unless replaced over https */
        for (size_t i = 0; i < j->n; i++) {
            const struct tide_cookie *o = j->v[i];
            if (o->secure && strcmp(o->name, k->name) == 0 &&
                (domain_match(o->domain, k->domain) || domain_match(k->domain, o->domain)) &&
                path_match(k->path, strlen(k->path), o->path)) {
                free(k);
                return 0;
            }
        }
    }
    k->created = j->next++;
    for (size_t i = 0; i < j->n; i++) {
        const struct tide_cookie *o = j->v[i];
        if (strcmp(o->name, k->name) == 0 && strcmp(o->domain, k->domain) == 0 &&
            strcmp(o->path, k->path) == 0) {
            k->created = o->created;
            remove_at(j, i);
            break;
        }
    }
    if (k->expires <= now) { /* the way a server deletes a cookie */
        free(k);
        return 1;
    }
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 4;
        struct tide_cookie **v = realloc(j->v, cap * sizeof *v);
        if (v == NULL) {
            free(k);
            return -1;
        }
        j->v = v;
        j->cap = cap;
    }
    j->v[j->n++] = k;
    j->bytes += cookie_bytes(k);
    enforce_limits(j, k->domain, now);
    return 1;
}

int tide_cookiejar_store(struct tide_cookiejar *j, const char *url, const char *set_cookie,
                         size_t len, int64_t now_s)
{
    struct req r;
    struct parsed c;
    bool oom;
    if (!parse_url(url, &r) || !parse_set_cookie(set_cookie, len, &c))
        return 0;
    struct tide_cookie *k = make_cookie(&c, &r, now_s, false, &oom);
    if (k == NULL)
        return oom ? -1 : 0;
    return insert(j, k, &r, now_s);
}

static bool valid_name(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7F || strchr("()<>@,;:\\\"/[]?={}", *s))
            return false;
    return true;
}

static bool valid_value(const char *s)
{
    for (; *s != '\0'; s++)
        if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7F || *s == ';')
            return false;
    return true;
}

int tide_cookiejar_set(struct tide_cookiejar *j, const char *url, const char *name,
                       const char *value, const struct tide_cookie_attrs *a, int64_t now_s)
{
    if (!valid_name(name) || !valid_value(value) ||
        strlen(name) + strlen(value) > TIDE_COOKIE_MAX_NAME_VALUE)
        return -2;
    struct req r;
    if (!parse_url(url, &r))
        return 0;
    struct parsed c = {0};
    c.name = (struct slice){name, strlen(name)};
    c.value = (struct slice){value, strlen(value)};
    if (a->domain != NULL && a->domain[0] != '\0') {
        const char *d = a->domain[0] == '.' ? a->domain + 1 : a->domain;
        if (strlen(d) > TIDE_COOKIE_MAX_ATTR || has_ctl(d, strlen(d)))
            return 0;
        c.domain = (struct slice){d, strlen(d)};
        c.has_domain = c.domain.n > 0;
    }
    if (a->path != NULL && a->path[0] == '/' && strlen(a->path) <= TIDE_COOKIE_MAX_ATTR &&
        !has_ctl(a->path, strlen(a->path)) && strchr(a->path, ';') == NULL) {
        c.path = (struct slice){a->path, strlen(a->path)};
        c.has_path = true;
    }
    c.has_expires = a->expires != 0;
    c.expires = a->expires;
    c.has_max_age = a->has_max_age;
    c.max_age = a->max_age;
    c.secure = a->secure;
    c.http_only = a->http_only;
    c.samesite = a->samesite;
    bool oom;
    struct tide_cookie *k = make_cookie(&c, &r, now_s, true, &oom);
    if (k == NULL)
        return oom ? -1 : 0;
    struct req as_https = r;
    as_https.https = true; /* a script's own cookie may replace a Secure one */
    return insert(j, k, &as_https, now_s);
}

static int header_order(const void *a, const void *b)
{
    const struct tide_cookie *x = *(const struct tide_cookie *const *)a;
    const struct tide_cookie *y = *(const struct tide_cookie *const *)b;
    size_t xl = strlen(x->path), yl = strlen(y->path);
    if (xl != yl)
        return xl > yl ? -1 : 1;
    return x->created < y->created ? -1 : x->created > y->created;
}

/* The cookies for 'url' (every one when NULL) in j->scratch, sorted; -1: out of memory. */
static int collect(struct tide_cookiejar *j, const char *url, int64_t now)
{
    struct req r;
    if (url != NULL && !parse_url(url, &r))
        return 0;
    drop_expired(j, now);
    if (j->scratch_cap < j->n) {
        struct tide_cookie **s = realloc(j->scratch, j->n * sizeof *s);
        if (s == NULL)
            return -1;
        j->scratch = s;
        j->scratch_cap = j->n;
    }
    size_t m = 0;
    for (size_t i = 0; i < j->n; i++)
        if (url == NULL || sends_to(j->v[i], &r))
            j->scratch[m++] = j->v[i];
    if (url != NULL && m > 1)
        qsort(j->scratch, m, sizeof *j->scratch, header_order);
    return (int)m;
}

int tide_cookiejar_header(struct tide_cookiejar *j, const char *url, struct tide_buf *out,
                          int64_t now_s)
{
    if (j == NULL || j->n == 0)
        return 0;
    int m = collect(j, url, now_s);
    for (int i = 0; i < m; i++) {
        if (i > 0 || out->len > 0)
            tide_buf_add(out, "; ", 2);
        tide_buf_puts(out, j->scratch[i]->name);
        tide_buf_add(out, "=", 1);
        tide_buf_puts(out, j->scratch[i]->value);
    }
    return out->failed ? -1 : m;
}

/* Whether the "a=1; b=2" text sets a cookie named 'name'. */
static bool names_cookie(const char *s, size_t n, const char *name)
{
    size_t k = strlen(name);
    const char *end = s + n;
    while (s < end) {
        const char *semi = memchr(s, ';', (size_t)(end - s));
        size_t len = semi != NULL ? (size_t)(semi - s) : (size_t)(end - s);
        const char *eq = memchr(s, '=', len);
        struct slice nm = trim(s, eq != NULL ? (size_t)(eq - s) : len);
        if (nm.n == k && memcmp(nm.p, name, k) == 0)
            return true;
        s += len + (semi != NULL);
    }
    return false;
}

int tide_cookiejar_request_cookie(struct tide_cookiejar *j, const char *url, const char *user,
                                  size_t user_len, struct tide_buf *out, int64_t now_s)
{
    tide_buf_add(out, user, user_len);
    int m = j != NULL && j->n > 0 ? collect(j, url, now_s) : 0, sent = 0;
    for (int i = 0; i < m; i++) {
        const struct tide_cookie *c = j->scratch[i];
        if (user_len > 0 && names_cookie(user, user_len, c->name))
            continue;
        if (sent > 0 || user_len > 0)
            tide_buf_add(out, "; ", 2);
        tide_buf_puts(out, c->name);
        tide_buf_add(out, "=", 1);
        tide_buf_puts(out, c->value);
        sent++;
    }
    return out->failed || m < 0 ? -1 : sent;
}

static int creation_order(const void *a, const void *b)
{
    const struct tide_cookie *x = *(const struct tide_cookie *const *)a;
    const struct tide_cookie *y = *(const struct tide_cookie *const *)b;
    return x->created < y->created ? -1 : x->created > y->created;
}

int tide_cookiejar_each(struct tide_cookiejar *j, const char *url, int64_t now_s, tide_cookie_fn fn,
                        void *ud)
{
    int m = collect(j, url, now_s);
    if (url == NULL && m > 1)
        qsort(j->scratch, (size_t)m, sizeof *j->scratch, creation_order);
    for (int i = 0; i < m; i++)
        fn(j->scratch[i], ud);
    return m;
}

int tide_cookiejar_delete(struct tide_cookiejar *j, const char *url, const char *name,
                          int64_t now_s)
{
    struct req r;
    if (url != NULL && !parse_url(url, &r))
        return 0;
    drop_expired(j, now_s);
    int removed = 0;
    for (size_t i = j->n; i-- > 0;) {
        const struct tide_cookie *c = j->v[i];
        if ((name == NULL || strcmp(c->name, name) == 0) && (url == NULL || sends_to(c, &r))) {
            remove_at(j, i);
            removed++;
        }
    }
    return removed;
}
