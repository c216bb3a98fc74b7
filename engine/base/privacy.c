/* privacy.c: detectors, pseudonyms and user rules of the privacy filter (privacy.h). One pass
 * left to right: at each position the detectors that can start there are tried in turn; text
 * no detector claims is copied as it is. */
#include <ctype.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cJSON.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "buf.h"
#include "privacy.h"
#include "regex_cost.h"

#define MAX_RULES 32
#define MAX_KEEP  32
#define HASH_HEX  8 /* hex digits of a pseudonym: 32 bits tell equal values apart in one run */

enum detector { D_USERINFO, D_EMAIL, D_JWT, D_BEARER, D_HEADER, D_FIELD, D_CARD, D_IBAN, D_PHONE };
static const char *const detector_names[] = {"userinfo", "email", "jwt",  "bearer", "header",
                                             "field",    "card",  "iban", "phone"};
#define NDETECTORS (sizeof detector_names / sizeof detector_names[0])

struct rule {
    regex_t re;
    char *pattern;
    enum tide_privacy_action action;
};

static atomic_bool enabled = true;
static atomic_bool samples = true;
static struct rule rules[MAX_RULES];
static int nrules;
static char *keep[MAX_KEEP];
static int nkeep;
static unsigned detectors_off; /* bit per enum detector */

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
/* HMAC-SHA256 with the key already absorbed (RFC 2104's inner and outer pads): a pseudonym
 * then costs two short digests, not a key schedule each time. Read-only once made. */
static EVP_MD_CTX *inner, *outer;

void tide_privacy_set_enabled(bool on)
{
    atomic_store(&enabled, on);
}

bool tide_privacy_enabled(void)
{
    return atomic_load(&enabled);
}

void tide_privacy_set_samples(bool keep_them)
{
    atomic_store(&samples, keep_them);
}

bool tide_privacy_samples(void)
{
    return atomic_load(&samples);
}

int tide_privacy_add_rule(enum tide_privacy_action action, const char *pattern,
                          struct tide_err *err)
{
    if (nrules >= MAX_RULES)
        return tide_err_set(err, "options.privacy: at most %d rules", MAX_RULES);
    struct rule *r = &rules[nrules];
    if (tide_regex_cost(pattern) > TIDE_REGEX_MAX_COST) /* compiling it would take gigabytes */
        return tide_err_set(err,
                            "options.privacy: pattern '%s' is too complex (nested or stacked "
                            "repetitions)",
                            pattern);
    int rc = regcomp(&r->re, pattern, REG_EXTENDED);
    if (rc != 0) {
        char why[200];
        regerror(rc, &r->re, why, sizeof why);
        return tide_err_set(err, "options.privacy: pattern '%s': %s", pattern, why);
    }
    r->pattern = strdup(pattern);
    if (r->pattern == NULL) {
        regfree(&r->re);
        return tide_err_set(err, "out of memory");
    }
    r->action = action;
    nrules++;
    return 0;
}

int tide_privacy_keep(const char *name, struct tide_err *err)
{
    for (size_t d = 0; d < NDETECTORS; d++) {
        if (strcasecmp(name, detector_names[d]) == 0) {
            detectors_off |= 1u << d;
            return 0;
        }
    }
    if (nkeep >= MAX_KEEP)
        return tide_err_set(err, "options.privacy.keep: at most %d names", MAX_KEEP);
    keep[nkeep] = strdup(name);
    if (keep[nkeep] == NULL)
        return tide_err_set(err, "out of memory");
    nkeep++;
    return 0;
}

void tide_privacy_reset(void)
{
    for (int i = 0; i < nrules; i++) {
        regfree(&rules[i].re);
        free(rules[i].pattern);
    }
    for (int i = 0; i < nkeep; i++)
        free(keep[i]);
    nrules = nkeep = 0;
    detectors_off = 0;
    atomic_store(&enabled, true);
    atomic_store(&samples, true);
}

static bool on(enum detector d)
{
    return (detectors_off & (1u << d)) == 0;
}

static bool kept_name(const char *name, size_t n)
{
    for (int i = 0; i < nkeep; i++) {
        if (strlen(keep[i]) == n && strncasecmp(keep[i], name, n) == 0)
            return true;
    }
    return false;
}

/* ---- pseudonyms ---- */

static void make_key(void)
{
    unsigned char key[64] = {0}, ipad[64], opad[64];
    if (RAND_bytes(key, 32) != 1) {
        FILE *f = fopen("/dev/urandom", "rb");
        if (f == NULL || fread(key, 1, 32, f) != 32)
            abort(); /* pseudonyms made with a known key could be reversed: better not run */
        fclose(f);
    }
    for (size_t i = 0; i < sizeof key; i++) {
        ipad[i] = key[i] ^ 0x36;
        opad[i] = key[i] ^ 0x5c;
    }
    inner = EVP_MD_CTX_new();
    outer = EVP_MD_CTX_new();
    if (inner == NULL || outer == NULL || EVP_DigestInit_ex(inner, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(inner, ipad, sizeof ipad) != 1 ||
        EVP_DigestInit_ex(outer, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(outer, opad, sizeof opad) != 1)
        abort();
    OPENSSL_cleanse(key, sizeof key); /* only the padded states remain, in memory */
    OPENSSL_cleanse(ipad, sizeof ipad);
    OPENSSL_cleanse(opad, sizeof opad);
}

void tide_privacy_pseudonym(const char *kind, const char *value, size_t n, char *out, size_t len)
{
    pthread_once(&key_once, make_key);
    unsigned char h[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
    unsigned int hl = 0, maclen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    bool ok = c != NULL && EVP_MD_CTX_copy_ex(c, inner) == 1 &&
              EVP_DigestUpdate(c, kind, strlen(kind)) == 1 && EVP_DigestUpdate(c, ":", 1) == 1 &&
              EVP_DigestUpdate(c, value, n) == 1 && EVP_DigestFinal_ex(c, h, &hl) == 1 &&
              EVP_MD_CTX_copy_ex(c, outer) == 1 && EVP_DigestUpdate(c, h, hl) == 1 &&
              EVP_DigestFinal_ex(c, mac, &maclen) == 1;
    EVP_MD_CTX_free(c);
    if (!ok || maclen < HASH_HEX / 2) { /* no memory: hide the value without a hash */
        snprintf(out, len, "[%s:????????]", kind);
        return;
    }
    snprintf(out, len, "[%s:%02x%02x%02x%02x]", kind, mac[0], mac[1], mac[2], mac[3]);
}

static void add_pseudonym(struct tide_buf *o, const char *kind, const char *v, size_t n)
{
    char p[48];
    tide_privacy_pseudonym(kind, v, n, p, sizeof p);
    tide_buf_puts(o, p);
}

/* ---- character classes ---- */

static bool is_word(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

static bool word_start(const char *s, size_t i)
{
    return i == 0 || !is_word(s[i - 1]);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_b64url(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* "[kind:1a2b3c4d]" or "[dropped]": already filtered; copied as it is (the filter is idempotent) */
static size_t made_token(const char *s, size_t n, size_t i)
{
    if (s[i] != '[')
        return 0;
    if (n - i >= 9 && memcmp(s + i, "[dropped]", 9) == 0)
        return 9;
    size_t k = i + 1;
    while (k < n && k - i <= 17 && s[k] >= 'a' && s[k] <= 'z')
        k++;
    if (k == i + 1 || k >= n || s[k] != ':')
        return 0;
    k++;
    size_t h = 0;
    while (k + h < n && h < HASH_HEX && (isxdigit((unsigned char)s[k + h]) || s[k + h] == '?'))
        h++;
    if (h != HASH_HEX || k + h >= n || s[k + h] != ']')
        return 0;
    return k + h + 1 - i;
}

/* ---- detectors: each returns the length it consumed at s + i (0: no match) and appends its
 * replacement to o ---- */

/* scheme://user:password@host: the userinfo becomes "***" */
static size_t d_userinfo(const char *s, size_t n, size_t i, struct tide_buf *o)
{
    size_t k = i;
    if (!isalpha((unsigned char)s[k]))
        return 0;
    while (k < n && (isalnum((unsigned char)s[k]) || s[k] == '+' || s[k] == '.' || s[k] == '-'))
        k++;
    if (n - k < 3 || memcmp(s + k, "://", 3) != 0)
        return 0;
    size_t u = k + 3, at = u;
    while (at < n && strchr("/?#@ \t\r\n\"'<>", s[at]) == NULL)
        at++;
    if (at >= n || s[at] != '@' || at == u)
        return 0;
    if (at - u == 3 && memcmp(s + u, "***", 3) == 0)
        return 0; /* already hidden */
    tide_buf_add(o, s + i, u - i);
    tide_buf_puts(o, "***@");
    return at + 1 - i;
}

static bool is_local(char c)
{
    return isalnum((unsigned char)c) || (c != '\0' && strchr("._+-", c) != NULL);
}

/* jane.doe@example.com, also percent-encoded (jane.doe%40example.com, as in URL paths) */
static size_t d_email(const char *s, size_t n, size_t i, struct tide_buf *o)
{
    if (!isalnum((unsigned char)s[i]))
        return 0;
    size_t k = i;
    while (k < n && is_local(s[k]))
        k++;
    size_t dom;
    if (k < n && s[k] == '@')
        dom = k + 1;
    else if (n - k >= 3 && s[k] == '%' && s[k + 1] == '4' && s[k + 2] == '0')
        dom = k + 3;
    else
        return 0;
    size_t e = dom;
    while (e < n && (isalnum((unsigned char)s[e]) || s[e] == '.' || s[e] == '-'))
        e++;
    while (e > dom && (s[e - 1] == '.' || s[e - 1] == '-'))
        e--;
    size_t last = e; /* the top-level label: letters only, at least two */
    while (last > dom && s[last - 1] != '.')
        last--;
    if (last == dom || e - last < 2)
        return 0;
    for (size_t t = last; t < e; t++)
        if (!isalpha((unsigned char)s[t]))
            return 0;
    char norm[320];
    size_t nn = 0;
    for (size_t t = i; t < k && nn < sizeof norm - 1; t++)
        norm[nn++] = (char)tolower((unsigned char)s[t]);
    if (nn < sizeof norm - 1)
        norm[nn++] = '@';
    for (size_t t = dom; t < e && nn < sizeof norm - 1; t++)
        norm[nn++] = (char)tolower((unsigned char)s[t]);
    add_pseudonym(o, "email", norm, nn);
    return e - i;
}

/* eyJhbGciOi...payload.signature (the signature may be empty: alg none) */
static size_t d_jwt(const char *s, size_t n, size_t i, struct tide_buf *o)
{
    if (n - i < 10 || memcmp(s + i, "eyJ", 3) != 0)
        return 0;
    size_t k = i;
    for (int seg = 0; seg < 3; seg++) {
        size_t st = k;
        while (k < n && is_b64url(s[k]))
            k++;
        if (seg < 2 && (k - st < 2 || k >= n || s[k] != '.'))
            return 0;
        if (seg < 2)
            k++;
    }
    add_pseudonym(o, "jwt", s + i, k - i);
    return k - i;
}

static bool is_token_char(char c)
{
    return isalnum((unsigned char)c) || (c != '\0' && strchr("._~+/=-", c) != NULL);
}

/* A credential looks like one: long enough, and not an ordinary word ("Basic checks"). */
static bool looks_like_token(const char *t, size_t n)
{
    bool digit = false, upper = false, lower = false, sym = false;
    for (size_t i = 0; i < n; i++) {
        digit |= is_digit(t[i]);
        upper |= isupper((unsigned char)t[i]) != 0;
        lower |= islower((unsigned char)t[i]) != 0;
        sym |= strchr("+/=", t[i]) != NULL;
    }
    return n >= 6 && (digit || sym || (upper && lower));
}

/* Bearer <token>, Basic <base64> */
static size_t d_bearer(const char *s, size_t n, size_t i, struct tide_buf *o)
{
    size_t w;
    if (n - i > 7 && strncasecmp(s + i, "bearer", 6) == 0)
        w = 6;
    else if (n - i > 6 && strncmp(s + i, "Basic", 5) == 0)
        w = 5;
    else
        return 0;
    size_t k = i + w;
    if (s[k] != ' ')
        return 0;
    while (k < n && s[k] == ' ')
        k++;
    size_t t = k;
    while (k < n && is_token_char(s[k]))
        k++;
    if (!looks_like_token(s + t, k - t))
        return 0;
    tide_buf_add(o, s + i, t - i);
    add_pseudonym(o, "token", s + t, k - t);
    return k - i;
}

static const char *const header_names[] = {"authorization", "proxy-authorization", "cookie",
                                           "set-cookie",    "x-api-key",           "x-auth-token"};

bool tide_privacy_sensitive_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || kept_name(name, n))
        return false;
    char low[65];
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    static const char *const inside[] = {
        "password", "passwd",    "passphrase", "secret",  "token", "apikey", "api_key",
        "api-key",  "signature", "credential", "session", "auth",  "cookie", "private_key"};
    for (size_t i = 0; i < sizeof inside / sizeof *inside; i++)
        if (strstr(low, inside[i]) != NULL)
            return true;
    static const char *const whole[] = {"key", "sig", "pwd", "pass", "pin", "otp", "sid"};
    for (size_t i = 0; i < sizeof whole / sizeof *whole; i++) {
        size_t wl = strlen(whole[i]);
        if (n >= wl && strcmp(low + n - wl, whole[i]) == 0 &&
            (n == wl || strchr("_-.", low[n - wl - 1]) != NULL))
            return true; /* key, api.key, x-sig, user_pwd */
    }
    return false;
}

static bool is_header_name(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof header_names / sizeof *header_names; i++)
        if (strlen(header_names[i]) == n && strncasecmp(s, header_names[i], n) == 0)
            return !kept_name(s, n);
    return false;
}

/* The end of a quoted value starting at k (after its opening quote): its closing quote. */
static size_t quoted_end(const char *s, size_t n, size_t k)
{
    while (k < n && s[k] != '"') {
        if (s[k] == '\\' && k + 1 < n)
            k++;
        k++;
    }
    return k;
}

/* name=value (query, form, cookie), "name": "value" (JSON), Name: value (the headers above) */
static size_t d_field(const char *s, size_t n, size_t i, struct tide_buf *o, bool fields,
                      bool headers)
{
    if (!isalpha((unsigned char)s[i]))
        return 0;
    size_t k = i;
    while (k < n && (is_word(s[k]) || s[k] == '-' || s[k] == '.'))
        k++;
    size_t nl = k - i;
    if (nl > 64)
        return 0;
    char name[65];
    memcpy(name, s + i, nl);
    name[nl] = '\0';
    bool header = headers && is_header_name(s + i, nl);
    bool field = fields && tide_privacy_sensitive_name(name);
    if (!header && !field)
        return 0;
    size_t v;
    bool quoted = false;
    if (k < n && s[k] == '=') {
        v = k + 1;
        if (v < n && s[v] == '"') {
            quoted = true;
            v++;
        }
    } else {
        size_t c = k;
        bool json = c < n && s[c] == '"' && i > 0 && s[i - 1] == '"';
        if (json)
            c++;
        while (c < n && s[c] == ' ')
            c++;
        if (c >= n || s[c] != ':' || (!json && !header))
            return 0;
        c++;
        while (c < n && s[c] == ' ')
            c++;
        if (c < n && s[c] == '"') {
            quoted = true;
            c++;
        }
        v = c;
    }
    size_t e;
    if (quoted)
        e = quoted_end(s, n, v);
    else if (header && s[k] != '=')
        for (e = v; e < n && s[e] != '\r' && s[e] != '\n';)
            e++;
    else
        for (e = v; e < n && strchr("&;# \t\r\n\"'<>,)}", s[e]) == NULL;)
            e++;
    if (e == v)
        return 0;
    if (e - v == 3 && memcmp(s + v, "***", 3) == 0)
        return 0;
    if (made_token(s, n, v) == e - v)
        return 0; /* already a pseudonym */
    tide_buf_add(o, s + i, v - i);
    add_pseudonym(o, "secret", s + v, e - v);
    return e - i;
}

/* Luhn: the check digit of card numbers */
static bool luhn(const char *d, size_t n)
{
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int x = d[n - 1 - i] - '0';
        if (i % 2 == 1) {
            x *= 2;
            if (x > 9)
                x -= 9;
        }
        sum += x;
    }
    return sum % 10 == 0;
}

/* The lengths the card networks use, by leading digit: a 14-digit timestamp starting with 2
 * or a millisecond epoch starting with 1 is no card even when its Luhn sum happens to work. */
static bool card_length(char first, size_t n)
{
    switch (first) {
    case '2':
    case '5':
        return n == 16;
    case '3':
        return n == 14 || n == 15 || n == 16 || n == 19;
    case '4':
        return n == 13 || n == 16 || n == 19;
    case '6':
        return n == 16 || n == 19;
    default:
        return false;
    }
}

/* A run of digit groups: digits, one separator from 'seps' between groups. */
struct digit_run {
    char d[40];
    size_t nd, end, groups, first_group;
    char sep; /* the separator, when all are the same; 0 none; 1 mixed */
};

static void scan_digits(const char *s, size_t n, size_t i, const char *seps, struct digit_run *r)
{
    memset(r, 0, sizeof *r);
    size_t k = i;
    while (k < n) {
        size_t g = 0;
        while (k < n && is_digit(s[k])) {
            if (r->nd < sizeof r->d)
                r->d[r->nd] = s[k];
            r->nd++;
            g++;
            k++;
        }
        if (g == 0)
            break;
        r->groups++;
        if (r->groups == 1)
            r->first_group = g;
        r->end = k;
        if (k + 1 < n && strchr(seps, s[k]) != NULL && s[k] != '\0' && is_digit(s[k + 1])) {
            r->sep = r->sep == 0 || r->sep == s[k] ? s[k] : 1;
            k++;
            continue;
        }
        break;
    }
}

static bool ends_clean(const char *s, size_t n, size_t e)
{
    return e >= n || !(is_word(s[e]) || (s[e] == '.' && e + 1 < n && is_digit(s[e + 1])));
}

static size_t d_card(const char *s, size_t n, size_t i, struct tide_buf *o)
{
    if (!is_digit(s[i]) || (i > 0 && (s[i - 1] == '.' || s[i - 1] == '-' || s[i - 1] == '+')))
        return 0;
    struct digit_run r;
    scan_digits(s, n, i, " -", &r);
    if (r.nd > 19 || !card_length(r.d[0], r.nd) || !luhn(r.d, r.nd) || !ends_clean(s, n, r.end))
        return 0;
    add_pseudonym(o, "card", r.d, r.nd);
    return r.end - i;
}

static size_t d_phone(const char *s, size_t n, size_t i, struct tide_buf *o)
{
    struct digit_run r;
    char p[24];
    if (s[i] == '+' && i + 1 < n && is_digit(s[i + 1]) && (i == 0 || !is_word(s[i - 1]))) {
        size_t k = i + 1;
        scan_digits(s, n, k, " -.", &r);
        /* +44 (20) 7946 0958: a group in parentheses after the country code */
        if (r.end + 2 < n && s[r.end] == ' ' && s[r.end + 1] == '(' && r.nd <= 3) {
            struct digit_run in, rest;
            scan_digits(s, n, r.end + 2, "", &in);
            size_t close = r.end + 2 + in.nd;
            if (in.nd > 0 && close + 2 < n && s[close] == ')' && s[close + 1] == ' ') {
                scan_digits(s, n, close + 2, " -.", &rest);
                if (rest.nd > 0 && r.nd + in.nd + rest.nd < sizeof r.d) {
                    memcpy(r.d + r.nd, in.d, in.nd);
                    memcpy(r.d + r.nd + in.nd, rest.d, rest.nd);
                    r.nd += in.nd + rest.nd;
                    r.end = rest.end;
                }
            }
        }
        if (r.nd < 8 || r.nd > 15 || !ends_clean(s, n, r.end))
            return 0;
        p[0] = '+';
        memcpy(p + 1, r.d, r.nd);
        add_pseudonym(o, "phone", p, r.nd + 1);
        return r.end - i;
    }
    if (!(i == 0 || !(is_word(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '-')))
        return 0;
    if (s[i] == '(' && n - i >= 14) { /* (555) 123-4567 */
        struct digit_run a, b;
        scan_digits(s, n, i + 1, "", &a);
        size_t k = i + 1 + a.nd;
        if (a.nd != 3 || s[k] != ')')
            return 0;
        k++;
        if (k < n && s[k] == ' ')
            k++;
        scan_digits(s, n, k, "-. ", &b);
        if (b.groups != 2 || b.first_group != 3 || b.nd != 7 || !ends_clean(s, n, b.end))
            return 0;
        memcpy(p, a.d, 3);
        memcpy(p + 3, b.d, 7);
        add_pseudonym(o, "phone", p, 10);
        return b.end - i;
    }
    if (!is_digit(s[i]))
        return 0;
    scan_digits(s, n, i, " -.", &r);
    if (r.groups < 2 || r.sep == 1 || !ends_clean(s, n, r.end))
        return 0;
    bool nanp = r.groups == 3 && r.first_group == 3 && r.nd == 10 && s[i + 3] != '.';
    bool national = s[i] == '0' && r.first_group >= 2 && r.first_group <= 5 && r.nd >= 10 &&
                    r.nd <= 11 && r.sep != '.';
    if (!nanp && !national)
        return 0;
    add_pseudonym(o, "phone", r.d, r.nd);
    return r.end - i;
}

/* mod 97 of the IBAN's digits, its first four characters moved to the end (ISO 13616) */
static bool iban_valid(const char *c, size_t n)
{
    unsigned rem = 0;
    for (size_t j = 0; j < n; j++) {
        char ch = c[(j + 4) % n];
        if (is_digit(ch))
            rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
        else
            rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
    }
    return rem == 1;
}

static size_t d_iban(const char *s, size_t n, size_t i, struct tide_buf *o)
{
    if (n - i < 15 || !isupper((unsigned char)s[i]) || !isupper((unsigned char)s[i + 1]) ||
        !is_digit(s[i + 2]) || !is_digit(s[i + 3]))
        return 0;
    char c[34];
    size_t at[34], nc = 0, k = i;
    while (k < n && nc < sizeof c) {
        if (isupper((unsigned char)s[k]) || is_digit(s[k])) {
            c[nc] = s[k];
            at[nc++] = k + 1;
            k++;
        } else if (s[k] == ' ' && k + 1 < n &&
                   (isupper((unsigned char)s[k + 1]) || is_digit(s[k + 1])) && nc % 4 == 0) {
            k++; /* printed in groups of four */
        } else {
            break;
        }
    }
    for (size_t len = nc; len >= 15; len--) { /* the longest that checks and ends a word */
        if (ends_clean(s, n, at[len - 1]) && iban_valid(c, len)) {
            add_pseudonym(o, "iban", c, len);
            return at[len - 1] - i;
        }
    }
    return 0;
}

static void filter_builtin(const char *s, size_t n, struct tide_buf *o)
{
    size_t i = 0;
    while (i < n) {
        size_t m = made_token(s, n, i);
        if (m > 0) {
            tide_buf_add(o, s + i, m);
            i += m;
            continue;
        }
        if (word_start(s, i)) {
            if (on(D_USERINFO) && (m = d_userinfo(s, n, i, o)) > 0)
                goto next;
            if (on(D_JWT) && (m = d_jwt(s, n, i, o)) > 0)
                goto next;
            if (on(D_EMAIL) && (m = d_email(s, n, i, o)) > 0)
                goto next;
            if (on(D_BEARER) && (m = d_bearer(s, n, i, o)) > 0)
                goto next;
            if ((on(D_FIELD) || on(D_HEADER)) &&
                (m = d_field(s, n, i, o, on(D_FIELD), on(D_HEADER))) > 0)
                goto next;
            if (on(D_IBAN) && (m = d_iban(s, n, i, o)) > 0)
                goto next;
            if (on(D_CARD) && (m = d_card(s, n, i, o)) > 0)
                goto next;
            if (on(D_PHONE) && (m = d_phone(s, n, i, o)) > 0)
                goto next;
        } else if (s[i] == '+' && on(D_PHONE) && (m = d_phone(s, n, i, o)) > 0) {
            goto next;
        }
        tide_buf_add(o, s + i, 1);
        i++;
        continue;
    next:
        i += m;
    }
}

/* The user's rules, in order, each over the result of the previous. */
static char *apply_rules(const char *s)
{
    char *cur = strdup(s);
    for (int r = 0; r < nrules && cur != NULL; r++) {
        struct tide_buf o = {0};
        const char *p = cur;
        regmatch_t m;
        int flags = 0;
        while (*p != '\0' && regexec(&rules[r].re, p, 1, &m, flags) == 0) {
            tide_buf_add(&o, p, (size_t)m.rm_so);
            size_t ml = (size_t)(m.rm_eo - m.rm_so);
            if (ml == 0) { /* an empty match: step over one byte */
                tide_buf_add(&o, p + m.rm_so, 1);
                p += m.rm_so + 1;
            } else {
                if (rules[r].action == TIDE_PRIVACY_DROP)
                    tide_buf_puts(&o, "[dropped]");
                else
                    add_pseudonym(&o, "pseudo", p + m.rm_so, ml);
                p += m.rm_eo;
            }
            flags = REG_NOTBOL;
        }
        tide_buf_puts(&o, p);
        free(cur);
        cur = o.failed ? NULL : o.data;
        if (o.failed)
            tide_buf_free(&o);
    }
    return cur;
}

bool tide_privacy_may_match(const char *s)
{
    if (s == NULL || !atomic_load(&enabled))
        return false;
    if (nrules > 0)
        return true;
    size_t digits = 0;
    for (const char *p = s; *p != '\0'; p++) {
        switch (*p) {
        case '@':
        case '=':
        case ':':
            return true;
        case '%':
            if (p[1] == '4' && p[2] == '0')
                return true;
            break;
        case 'e':
            if (p[1] == 'y' && p[2] == 'J')
                return true;
            break;
        case 'B':
        case 'b':
            if (strncasecmp(p + 1, "earer ", 6) == 0 || strncmp(p + 1, "asic ", 5) == 0)
                return true;
            break;
        default:
            if (is_digit(*p) && ++digits >= 8)
                return true;
        }
    }
    return false;
}

char *tide_privacy_filter(const char *s)
{
    if (s == NULL)
        s = "";
    if (!tide_privacy_may_match(s))
        return strdup(s);
    char *ruled = nrules > 0 ? apply_rules(s) : NULL;
    if (nrules > 0 && ruled == NULL)
        return NULL;
    const char *in = ruled != NULL ? ruled : s;
    struct tide_buf o = {0};
    size_t n = strlen(in);
    tide_buf_reserve(&o, n + 16);
    filter_builtin(in, n, &o);
    tide_buf_add(&o, "", 0);
    free(ruled);
    if (o.failed) {
        tide_buf_free(&o);
        return NULL;
    }
    return o.data;
}

void tide_privacy_filter_buf(char *buf, size_t len)
{
    if (len == 0 || !tide_privacy_may_match(buf))
        return;
    char *f = tide_privacy_filter(buf);
    if (f == NULL) { /* no memory to filter: hide it all rather than print it unfiltered */
        snprintf(buf, len, "%s", "[unfiltered text hidden]");
        return;
    }
    snprintf(buf, len, "%s", f);
    free(f);
}

char *tide_privacy_filter_value(const char *name, const char *value)
{
    size_t n = strlen(value);
    if (!atomic_load(&enabled) || n == 0 || strcmp(value, "***") == 0 ||
        made_token(value, n, 0) == n || !tide_privacy_sensitive_name(name))
        return tide_privacy_filter(value);
    char p[48];
    tide_privacy_pseudonym("secret", value, n, p, sizeof p);
    return strdup(p);
}

char *tide_privacy_describe(void)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddBoolToObject(o, "enabled", atomic_load(&enabled));
    cJSON *d = cJSON_AddArrayToObject(o, "detectors");
    for (size_t i = 0; i < NDETECTORS; i++)
        if (on((enum detector)i))
            cJSON_AddItemToArray(d, cJSON_CreateString(detector_names[i]));
    cJSON *drop = cJSON_AddArrayToObject(o, "drop");
    cJSON *pseudo = cJSON_AddArrayToObject(o, "pseudonymise");
    for (int i = 0; i < nrules; i++)
        cJSON_AddItemToArray(rules[i].action == TIDE_PRIVACY_DROP ? drop : pseudo,
                             cJSON_CreateString(rules[i].pattern));
    cJSON *k = cJSON_AddArrayToObject(o, "keep");
    for (size_t i = 0; i < NDETECTORS; i++)
        if (!on((enum detector)i))
            cJSON_AddItemToArray(k, cJSON_CreateString(detector_names[i]));
    for (int i = 0; i < nkeep; i++)
        cJSON_AddItemToArray(k, cJSON_CreateString(keep[i]));
    cJSON_AddBoolToObject(o, "samples", atomic_load(&samples));
    cJSON_AddStringToObject(o, "pseudonyms", "hmac-sha256, per-run random key, never stored");
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}
