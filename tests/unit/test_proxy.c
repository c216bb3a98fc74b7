/* Unit tests of the proxy choice (core/proxy.c): libcurl's environment rules (which variable
 * serves which scheme, explicit proxies winning, "" meaning none), no_proxy matching (names,
 * subdomains, leading dots, "*", addresses and CIDR, IPv6 in brackets), and proxy URLs. */
#include <stdlib.h>
#include "../check.h"
#include "proxy.h"

static void test_pick(void)
{
    const char *p = "http://proxy:3128";
    const char *s = "http://secure-proxy:3128";
    struct tide_proxy_env none = {0};
    CHECK(tide_proxy_pick(&none, "http://a/", NULL) == NULL);
    CHECK_STR(tide_proxy_pick(&none, "http://a/", p), p); /* explicit, no environment */
    CHECK(tide_proxy_pick(&none, "http://a/", "") == NULL);

    struct tide_proxy_env http_only = {.http = p};
    CHECK_STR(tide_proxy_pick(&http_only, "http://a/x", NULL), p);
    CHECK_STR(tide_proxy_pick(&http_only, "HTTP://a/x", NULL), p);
    CHECK(tide_proxy_pick(&http_only, "https://a/x", NULL) == NULL);
    CHECK(tide_proxy_pick(&http_only, "http://a/x", "") == NULL); /* "" beats the environment */
    CHECK_STR(tide_proxy_pick(&http_only, "http://a/x", s), s);

    struct tide_proxy_env both = {.http = p, .https = s, .no = "localhost, .internal,10.0.0.0/8"};
    CHECK_STR(tide_proxy_pick(&both, "https://a/", NULL), s);
    CHECK_STR(tide_proxy_pick(&both, "http://a:8080/", NULL), p);
    CHECK(tide_proxy_pick(&both, "http://localhost:8080/", NULL) == NULL);
    CHECK(tide_proxy_pick(&both, "https://api.internal/", NULL) == NULL);
    CHECK(tide_proxy_pick(&both, "http://10.1.2.3/", NULL) == NULL);
    CHECK(tide_proxy_pick(&both, "http://user:pw@10.1.2.3/", NULL) == NULL);
    CHECK_STR(tide_proxy_pick(&both, "http://11.1.2.3/", NULL), p);
    CHECK_STR(tide_proxy_pick(&both, "http://localhost:8080/", p), p); /* explicit: no exempts */

    struct tide_proxy_env all = {.all = p, .https = s};
    CHECK_STR(tide_proxy_pick(&all, "http://a/", NULL), p); /* all_proxy fills in for http */
    CHECK_STR(tide_proxy_pick(&all, "https://a/", NULL), s);

    CHECK(!tide_proxy_configured(&none, NULL));
    CHECK(!tide_proxy_configured(&both, ""));
    CHECK(tide_proxy_configured(&none, p));
    CHECK(tide_proxy_configured(&http_only, NULL));
    struct tide_proxy_env only_no = {.no = "*"};
    CHECK(!tide_proxy_configured(&only_no, NULL));
}

static void test_exempt(void)
{
    CHECK(tide_proxy_exempt("*", "anything.example"));
    CHECK(!tide_proxy_exempt("*.example.com", "a.example.com")); /* "*" only alone */
    CHECK(tide_proxy_exempt("example.com", "example.com"));
    CHECK(tide_proxy_exempt("example.com", "API.Example.com"));
    CHECK(tide_proxy_exempt(".example.com", "a.b.example.com"));
    CHECK(tide_proxy_exempt(".example.com", "example.com"));
    CHECK(tide_proxy_exempt("example.com.", "example.com."));
    CHECK(!tide_proxy_exempt("example.com", "notexample.com"));
    CHECK(!tide_proxy_exempt("a.example.com", "example.com"));
    CHECK(tide_proxy_exempt("foo bar,\tbaz", "baz"));
    CHECK(tide_proxy_exempt("foo,,bar", "bar"));
    CHECK(!tide_proxy_exempt("", "a"));
    CHECK(!tide_proxy_exempt(NULL, "a"));
    /* addresses: exact or CIDR, never by suffix */
    CHECK(tide_proxy_exempt("127.0.0.1", "127.0.0.1"));
    CHECK(!tide_proxy_exempt("0.0.1", "127.0.0.1"));
    CHECK(tide_proxy_exempt("127.0.0.0/8", "127.200.3.4"));
    CHECK(!tide_proxy_exempt("127.0.0.0/8", "128.0.0.1"));
    CHECK(tide_proxy_exempt("192.168.0.0/17", "192.168.127.255"));
    CHECK(!tide_proxy_exempt("192.168.0.0/17", "192.168.128.0"));
    CHECK(tide_proxy_exempt("0.0.0.0/0", "8.8.8.8"));
    CHECK(!tide_proxy_exempt("10.0.0.0/33", "10.0.0.1"));
    CHECK(!tide_proxy_exempt("10.0.0.0/x", "10.0.0.1"));
    CHECK(tide_proxy_exempt("::1", "[::1]"));
    CHECK(tide_proxy_exempt("[::1]", "::1"));
    CHECK(tide_proxy_exempt("fd00::/8", "[fd12:3456::1]"));
    CHECK(!tide_proxy_exempt("fd00::/8", "[fe80::1]"));
    CHECK(!tide_proxy_exempt("127.0.0.1", "::1")); /* another family */
}

static void test_valid(void)
{
    CHECK(tide_proxy_valid("http://127.0.0.1:3128"));
    CHECK(tide_proxy_valid("proxy.internal:3128"));
    CHECK(tide_proxy_valid("socks5h://u:p@proxy:1080"));
    CHECK(tide_proxy_valid("HTTPS://proxy/"));
    CHECK(tide_proxy_valid("http://[::1]:3128"));
    CHECK(!tide_proxy_valid("ftp://proxy"));
    CHECK(!tide_proxy_valid("http://"));
    CHECK(!tide_proxy_valid("http://:3128"));
    CHECK(!tide_proxy_valid("http://proxy/path"));
    CHECK(!tide_proxy_valid("http://pro xy"));
    CHECK(!tide_proxy_valid("http://u@"));
}

int main(void)
{
    test_pick();
    test_exempt();
    test_valid();
    return CHECK_DONE();
}
