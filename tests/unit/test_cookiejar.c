/* Unit tests of the RFC 6265 cookie jar (engine/core/cookiejar.c): parsing, domain and path
 * matching, replacement, expiry, header order, the limits, and the script API. */
#include <stdlib.h>
#include "../check.h"
#include "cookiejar.h"

#define NOW ((int64_t)1700000000) /* 2023-11-14T22:13:20Z */

static struct tide_buf hdr;

/* The Cookie header a request to 'url' gets (valid until the next call). */
static const char *header(struct tide_cookiejar *j, const char *url)
{
    hdr.len = 0;
    tide_buf_append(&hdr, "", 0);
    tide_cookiejar_header(j, url, &hdr, NOW);
    return hdr.data;
}

static const char *header_at(struct tide_cookiejar *j, const char *url, int64_t now)
{
    hdr.len = 0;
    tide_buf_append(&hdr, "", 0);
    tide_cookiejar_header(j, url, &hdr, now);
    return hdr.data;
}

static int store(struct tide_cookiejar *j, const char *url, const char *sc)
{
    return tide_cookiejar_store(j, url, sc, strlen(sc), NOW);
}

static void test_dates(void)
{
    int64_t t = 0;
    CHECK(tide_cookie_parse_date("Sun, 06 Nov 1994 08:49:37 GMT", 29, &t) && t == 784111777);
    const char *rfc850 = "Sunday, 06-Nov-94 08:49:37 GMT";
    CHECK(tide_cookie_parse_date(rfc850, strlen(rfc850), &t) && t == 784111777);
    const char *asctime = "Sun Nov  6 08:49:37 1994";
    CHECK(tide_cookie_parse_date(asctime, strlen(asctime), &t) && t == 784111777);
    const char *odd = "06 nov 1994 8:49:37";
    CHECK(tide_cookie_parse_date(odd, strlen(odd), &t) && t == 784111777);
    const char *y2k = "Wed, 01 Jan 2020 00:00:00 GMT";
    CHECK(tide_cookie_parse_date(y2k, strlen(y2k), &t) && t == 1577836800);
    const char *two_digit = "01 Jan 20 00:00:00";
    CHECK(tide_cookie_parse_date(two_digit, strlen(two_digit), &t) && t == 1577836800);
    const char *leap = "29 Feb 2024 00:00:00";
    CHECK(tide_cookie_parse_date(leap, strlen(leap), &t) && t == 1709164800);
    const char *bad[] = {"",
                         "garbage",
                         "30 Feb 2023 00:00:00",
                         "01 Jan 1600 00:00:00",
                         "01 Jan 2020 24:00:00",
                         "01 Jan 2020 00:60:00",
                         "32 Jan 2020 00:00:00",
                         "01 Foo 2020 00:00:00",
                         "01 Jan 2020",
                         "Jan 2020 00:00:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!tide_cookie_parse_date(bad[i], strlen(bad[i]), &t));
    const char *trailing = "01 Jan 2020 00:00:00x";
    CHECK(tide_cookie_parse_date(trailing, strlen(trailing), &t) && t == 1577836800);
    const char *three_digit_day = "001 Jan 2020 00:00:00";
    CHECK(!tide_cookie_parse_date(three_digit_day, strlen(three_digit_day), &t));
}

static void test_parse_basic(void)
{
    struct tide_cookiejar *j = tide_cookiejar_new();
    CHECK(store(j, "http://example.com/", "a=1") == 1);
    CHECK(store(j, "http://example.com/", "  b  =  two words  ; HttpOnly") == 1);
    CHECK(store(j, "http://example.com/", "noequals") == 0);
    CHECK(store(j, "http://example.com/", "=novalue") == 0);
    CHECK(store(j, "http://example.com/", "c=") == 1); /* an empty value is fine */
    CHECK(store(j, "http://example.com/", "bad=x\r\nInjected: 1") == 0);
    CHECK(store(j, "http://example.com/", "nul=x\0y") == 1); /* strlen stops: "x" */
    CHECK(tide_cookiejar_store(j, "http://example.com/", "z=x\0y", 5, NOW) == 0);
    CHECK(store(j, "ftp://example.com/", "a=1") == 0);
    CHECK_STR(header(j, "http://example.com/"), "a=1; b=two words; c=; nul=x");
    CHECK_STR(header(j, "ftp://example.com/"), "");
    CHECK_STR(header(j, "http://other.com/"), "");
    CHECK_STR(header(j, "HTTP://EXAMPLE.COM:8080/x?q#f"), "a=1; b=two words; c=; nul=x");
    CHECK_STR(header(j, "http://user:pw@example.com/"), "a=1; b=two words; c=; nul=x");
    tide_cookiejar_free(j);
}

static void test_host_only_and_domain(void)
{
    struct tide_cookiejar *j = tide_cookiejar_new();
    CHECK(store(j, "http://www.example.com/", "host=1") == 1);
    CHECK(store(j, "http://www.example.com/", "dom=2; Domain=example.com") == 1);
    CHECK(store(j, "http://www.example.com/", "dot=3; Domain=.EXAMPLE.com") == 1);
    CHECK(store(j, "http://www.example.com/", "other=4; Domain=other.com") == 0);
    CHECK(store(j, "http://www.example.com/", "sub=5; Domain=a.www.example.com") == 0);
    CHECK(store(j, "http://www.example.com/", "tld=6; Domain=com") == 0);
    CHECK(store(j, "http://www.example.com/", "empty=7; Domain=") == 1); /* host-only */
    CHECK_STR(header(j, "http://www.example.com/"), "host=1; dom=2; dot=3; empty=7");
    CHECK_STR(header(j, "http://example.com/"), "dom=2; dot=3");
    CHECK_STR(header(j, "http://a.www.example.com/"), "dom=2; dot=3");
    CHECK_STR(header(j, "http://notexample.com/"), "");
    /* a single-label domain that is the host itself: host-only; localhost is allowed */
    CHECK(store(j, "http://intranet/", "i=1; Domain=intranet") == 1);
    CHECK_STR(header(j, "http://intranet/"), "i=1");
    CHECK_STR(header(j, "http://x.intranet/"), "");
    CHECK(store(j, "http://app.localhost/", "l=1; Domain=localhost") == 1);
    CHECK_STR(header(j, "http://localhost/"), "l=1");
    CHECK_STR(header(j, "http://other.localhost/"), "l=1");
    /* IP addresses: only the same address */
    CHECK(store(j, "http://127.0.0.1:9000/", "ip=1") == 1);
    CHECK(store(j, "http://127.0.0.1/", "ipd=1; Domain=0.0.1") == 0);
    CHECK_STR(header(j, "http://127.0.0.1/"), "ip=1");
    CHECK_STR(header(j, "http://127.0.0.2/"), "");
    CHECK(store(j, "http://[::1]:8080/", "v6=1") == 1);
    CHECK_STR(header(j, "http://[::1]/"), "v6=1");
    tide_cookiejar_free(j);
}

static void test_paths(void)
{
    struct tide_cookiejar *j = tide_cookiejar_new();
    CHECK(store(j, "http://h.test/a/b/page", "def=1") == 1); /* default path /a/b */
    CHECK(store(j, "http://h.test/x", "root=1") == 1);       /* default path / */
    CHECK(store(j, "http://h.test/a/b/page", "p=1; Path=/a") == 1);
    CHECK(store(j, "http://h.test/", "rel=1; Path=relative") == 1); /* default path / */
    CHECK(store(j, "http://h.test/", "slash=1; Path=/a/") == 1);
    CHECK_STR(header(j, "http://h.test/a/b"), "def=1; slash=1; p=1; root=1; rel=1");
    CHECK_STR(header(j, "http://h.test/a/b/c"), "def=1; slash=1; p=1; root=1; rel=1");
    CHECK_STR(header(j, "http://h.test/a/bc"), "slash=1; p=1; root=1; rel=1");
    CHECK_STR(header(j, "http://h.test/a"), "p=1; root=1; rel=1");
    CHECK_STR(header(j, "http://h.test/ab"), "root=1; rel=1");
    CHECK_STR(header(j, "http://h.test"), "root=1; rel=1");
    CHECK_STR(header(j, "http://h.test?q=/a/b"), "root=1; rel=1");
    tide_cookiejar_free(j);
}

static void test_secure_httponly_samesite(void)
{
    struct tide_cookiejar *j = tide_cookiejar_new();
    CHECK(store(j, "http://s.test/", "s=1; Secure") == 0); /* not from http (6265bis) */
    CHECK(store(j, "https://s.test/", "s=1; Secure; HttpOnly; SameSite=Lax") == 1);
    CHECK_STR(header(j, "http://s.test/"), "");
    CHECK_STR(header(j, "https://s.test/"), "s=1");
    /* an http response cannot replace or shadow a Secure cookie */
    CHECK(store(j, "http://s.test/", "s=2") == 0);
    CHECK_STR(header(j, "https://s.test/"), "s=1");
    CHECK(store(j, "https://s.test/", "s=3") == 1);
    CHECK_STR(header(j, "http://s.test/"), "s=3");
    struct tide_cookie *c =
        tide_cookie_parse("https://s.test/", "k=v; SameSite=Strict; HttpOnly", 30, NOW);
    CHECK(c != NULL && c->samesite == TIDE_SAMESITE_STRICT && c->http_only && !c->secure);
    free(c);
    c = tide_cookie_parse("https://s.test/", "k=v; samesite=none; secure", 26, NOW);
    CHECK(c != NULL && c->samesite == TIDE_SAMESITE_NONE && c->secure);
    free(c);
    c = tide_cookie_parse("https://s.test/", "k=v; SameSite=bogus", 19, NOW);
    CHECK(c != NULL && c->samesite == TIDE_SAMESITE_UNSET);
    free(c);
    tide_cookiejar_free(j);
}

static void test_replace_and_order(void)
{
    struct tide_cookiejar *j = tide_cookiejar_new();
    CHECK(store(j, "http://o.test/", "first=1") == 1);
    CHECK(store(j, "http://o.test/", "second=2") == 1);
    CHECK(store(j, "http://o.test/", "first=changed") == 1); /* keeps its creation time */
    CHECK_STR(header(j, "http://o.test/"), "first=changed; second=2");
    CHECK(tide_cookiejar_count(j) == 2);
    /* same name, another path: a second cookie */
    CHECK(store(j, "http://o.test/", "first=deep; Path=/d") == 1);
    CHECK_STR(header(j, "http://o.test/d/x"), "first=deep; first=changed; second=2");
    /* same name, domain cookie vs host-only: a different domain string only when it differs */
    CHECK(store(j, "http://w.o.test/", "first=dom; Domain=o.test") == 1);
    CHECK(tide_cookiejar_count(j) == 3); /* replaced the host-only one (same domain, path) */
    CHECK_STR(header(j, "http://w.o.test/"), "first=dom");
    tide_cookiejar_free(j);
}

static void test_expiry(void)
{
    struct tide_cookiejar *j = tide_cookiejar_new();
    CHECK(store(j, "http://e.test/", "gone=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT") == 1);
    CHECK(tide_cookiejar_count(j) == 0);
    CHECK(store(j, "http://e.test/", "ma=1; Max-Age=60") == 1);
    CHECK_STR(header_at(j, "http://e.test/", NOW + 59), "ma=1");
    CHECK_STR(header_at(j, "http://e.test/", NOW + 60), "");
    /* Max-Age wins over Expires, whatever the order */
    CHECK(store(j, "http://e.test/", "w=1; Max-Age=60; Expires=Sun, 06 Nov 1994 08:49:37 GMT") ==
          1);
    CHECK(store(j, "http://e.test/", "v=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=60") ==
          1);
    CHECK_STR(header(j, "http://e.test/"), "w=1; v=1");
    /* Max-Age=0 or negative deletes */
    CHECK(store(j, "http://e.test/", "w=x; Max-Age=0") == 1);
    CHECK(store(j, "http://e.test/", "v=x; Max-Age=-5") == 1);
    CHECK_STR(header(j, "http://e.test/"), "");
    /* a malformed Max-Age or Expires is ignored: a session cookie */
    CHECK(store(j, "http://e.test/", "s=1; Max-Age=1x; Expires=nonsense") == 1);
    CHECK_STR(header_at(j, "http://e.test/", NOW + 100000000), "s=1");
    /* expiry in the future by date; capped at 400 days */
    CHECK(store(j, "http://e.test/", "s=1; Max-Age=0") == 1);
    CHECK(store(j, "http://e.test/", "far=1; Expires=Fri, 01 Jan 9999 00:00:00 GMT") == 1);
    CHECK_STR(header_at(j, "http://e.test/", NOW + TIDE_COOKIE_MAX_AGE_S - 1), "far=1");
    CHECK_STR(header_at(j, "http://e.test/", NOW + TIDE_COOKIE_MAX_AGE_S), "");
    CHECK(store(j, "http://e.test/", "big=1; Max-Age=99999999999999999999999") == 1);
    CHECK_STR(header_at(j, "http://e.test/", NOW + 86400), "big=1");
    tide_cookiejar_free(j);
}

static void test_limits(void)
{
    struct tide_cookiejar *j = tide_cookiejar_new();
    char sc[8192];
    for (int i = 0; i < 60; i++) {
        snprintf(sc, sizeof sc, "c%d=%d", i, i);
        CHECK(store(j, "http://l.test/", sc) == 1);
    }
    CHECK(tide_cookiejar_count(j) == TIDE_COOKIE_MAX_PER_DOMAIN);
    const char *h = header(j, "http://l.test/");
    CHECK(strstr(h, "c9=") == NULL && strstr(h, "c10=10") != NULL && strstr(h, "c59=59"));
    /* per jar: many domains */
    for (int i = 0; i < 4000; i++) {
        snprintf(sc, sizeof sc, "x=%d", i);
        char url[64];
        snprintf(url, sizeof url, "http://d%d.test/", i);
        CHECK(store(j, url, sc) == 1);
    }
    CHECK(tide_cookiejar_count(j) == TIDE_COOKIE_MAX_PER_JAR);
    CHECK_STR(header(j, "http://d0.test/"), "");
    CHECK_STR(header(j, "http://d3999.test/"), "x=3999");
    tide_cookiejar_free(j);
    /* name and value at most 4096 bytes; in all 1 MiB */
    j = tide_cookiejar_new();
    memset(sc, 'v', sizeof sc);
    memcpy(sc, "n=", 2);
    CHECK(tide_cookiejar_store(j, "http://b.test/", sc, 4096, NOW) == 1);
    CHECK(tide_cookiejar_store(j, "http://b.test/", sc, 4098, NOW) == 0);
    for (int i = 0; i < 400; i++) {
        char url[64];
        snprintf(url, sizeof url, "http://b%d.test/", i);
        CHECK(tide_cookiejar_store(j, url, sc, 4000, NOW) == 1);
    }
    CHECK(tide_cookiejar_count(j) < 270 && tide_cookiejar_count(j) > 200);
    CHECK_STR(header(j, "http://b.test/"), ""); /* the oldest went first */
    /* an attribute over 1024 bytes is ignored */
    char longpath[1200] = "p=1; Path=/";
    memset(longpath + 11, 'a', 1100);
    longpath[1111] = '\0';
    CHECK(store(j, "http://lp.test/dir/x", longpath) == 1);
    CHECK_STR(header(j, "http://lp.test/dir/y"), "p=1"); /* default path /dir */
    tide_cookiejar_free(j);
}

static int seen;
static char seen_names[256];
static void visit(const struct tide_cookie *c, void *ud)
{
    (void)ud;
    seen++;
    strncat(seen_names, c->name, sizeof seen_names - strlen(seen_names) - 1);
    strncat(seen_names, ",", sizeof seen_names - strlen(seen_names) - 1);
}

static void test_script_api(void)
{
    struct tide_cookiejar *j = tide_cookiejar_new();
    struct tide_cookie_attrs a = {0};
    CHECK(tide_cookiejar_set(j, "http://api.test/", "k", "v", &a, NOW) == 1);
    CHECK(tide_cookiejar_set(j, "http://api.test/", "", "v", &a, NOW) == -2);
    CHECK(tide_cookiejar_set(j, "http://api.test/", "a;b", "v", &a, NOW) == -2);
    CHECK(tide_cookiejar_set(j, "http://api.test/", "k", "v;x", &a, NOW) == -2);
    CHECK(tide_cookiejar_set(j, "http://api.test/", "k", "v\r\n", &a, NOW) == -2);
    a.domain = "api.test";
    a.path = "/p";
    CHECK(tide_cookiejar_set(j, "http://api.test/", "d", "1", &a, NOW) == 1);
    CHECK_STR(header(j, "http://sub.api.test/p/q"), "d=1");
    a = (struct tide_cookie_attrs){.secure = true};
    CHECK(tide_cookiejar_set(j, "http://api.test/", "sec", "1", &a, NOW) == 1);
    CHECK_STR(header(j, "http://api.test/"), "k=v");
    CHECK_STR(header(j, "https://api.test/"), "k=v; sec=1");
    a = (struct tide_cookie_attrs){.has_max_age = true, .max_age = 10};
    CHECK(tide_cookiejar_set(j, "http://api.test/", "short", "1", &a, NOW) == 1);
    CHECK_STR(header_at(j, "http://api.test/", NOW + 11), "k=v");
    a = (struct tide_cookie_attrs){.expires = NOW + 5};
    CHECK(tide_cookiejar_set(j, "http://api.test/", "e", "1", &a, NOW) == 1);
    CHECK_STR(header_at(j, "http://api.test/", NOW + 4), "k=v; e=1");
    a = (struct tide_cookie_attrs){.domain = "com"};
    CHECK(tide_cookiejar_set(j, "http://api.test/", "x", "1", &a, NOW) == 0);
    seen = 0;
    seen_names[0] = '\0';
    CHECK(tide_cookiejar_each(j, "http://api.test/p", NOW, visit, NULL) == 3);
    CHECK_STR(seen_names, "d,k,e,");
    seen_names[0] = '\0';
    CHECK(tide_cookiejar_each(j, NULL, NOW, visit, NULL) == 4);
    CHECK_STR(seen_names, "k,d,sec,e,");
    CHECK(tide_cookiejar_delete(j, "http://api.test/p", "d", NOW) == 1);
    CHECK(tide_cookiejar_delete(j, "http://api.test/", "nothere", NOW) == 0);
    CHECK_STR(header(j, "http://api.test/p"), "k=v; e=1");
    CHECK(tide_cookiejar_delete(j, "http://api.test/", NULL, NOW) == 2); /* clear(url) */
    CHECK_STR(header(j, "https://api.test/"), "sec=1");                  /* not matched over http */
    CHECK(tide_cookiejar_delete(j, NULL, NULL, NOW) == 1);
    CHECK(tide_cookiejar_count(j) == 0);
    tide_cookiejar_free(j);
}

static void test_header_append(void)
{
    struct tide_cookiejar *j = tide_cookiejar_new();
    store(j, "http://m.test/", "a=1");
    struct tide_buf b = {0};
    tide_buf_puts(&b, "user=given");
    CHECK(tide_cookiejar_header(j, "http://m.test/", &b, NOW) == 1);
    CHECK_STR(b.data, "user=given; a=1");
    tide_buf_free(&b);
    /* a script's Cookie header wins over the jar's cookie of the same name */
    store(j, "http://m.test/", "b=2");
    store(j, "http://m.test/", "c=3");
    tide_buf_puts(&b, "Cookie: ");
    CHECK(tide_cookiejar_request_cookie(j, "http://m.test/", "b=mine;x=1", 10, &b, NOW) == 2);
    CHECK_STR(b.data, "Cookie: b=mine;x=1; a=1; c=3");
    b.len = 0;
    CHECK(tide_cookiejar_request_cookie(j, "http://m.test/", "", 0, &b, NOW) == 3);
    CHECK_STR(b.data, "a=1; b=2; c=3");
    b.len = 0;
    CHECK(tide_cookiejar_request_cookie(NULL, "http://m.test/", "u=1", 3, &b, NOW) == 0);
    CHECK_STR(b.data, "u=1");
    tide_buf_free(&b);
    CHECK(tide_cookiejar_header(NULL, "http://m.test/", &b, NOW) == 0);
    tide_cookiejar_free(j);
    tide_cookiejar_free(NULL);
}

int main(void)
{
    test_dates();
    test_parse_basic();
    test_host_only_and_domain();
    test_paths();
    test_secure_httponly_samesite();
    test_replace_and_order();
    test_expiry();
    test_limits();
    test_script_api();
    test_header_append();
    tide_buf_free(&hdr);
    return CHECK_DONE();
}
