/* Unit tests of the --allow-hosts list (core/allowhosts.c): parsing (ports, brackets,
 * wildcards, bad entries), host matching, host extraction from URLs (userinfo, IPv6, ports),
 * and addresses of listed hosts. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "../check.h"
#include "allowhosts.h"

static struct sockaddr_in v4(const char *a)
{
    struct sockaddr_in s = {0};
    s.sin_family = AF_INET;
    inet_pton(AF_INET, a, &s.sin_addr);
    return s;
}

static void test_lists(void)
{
    struct tide_err err = {{0}};
    CHECK(!tide_allow_hosts_active());
    CHECK(tide_allow_hosts_permits("anything.example"));
    CHECK(tide_allow_hosts_set("Api.Example.com, 127.0.0.1:8080,*.internal,[::1]", &err) == 0);
    CHECK(tide_allow_hosts_active());
    CHECK(tide_allow_hosts_permits("api.example.com"));
    CHECK(tide_allow_hosts_permits("API.EXAMPLE.COM."));
    CHECK(tide_allow_hosts_permits("127.0.0.1")); /* the port in the list is any port */
    CHECK(tide_allow_hosts_permits("db.internal"));
    CHECK(tide_allow_hosts_permits("a.b.internal"));
    CHECK(tide_allow_hosts_permits("[::1]"));
    CHECK(!tide_allow_hosts_permits("internal"));    /* *.x is the subdomains of x */
    CHECK(!tide_allow_hosts_permits("badinternal")); /* not a suffix match on text */
    CHECK(!tide_allow_hosts_permits("127.0.0.2"));
    CHECK(!tide_allow_hosts_permits("example.com"));
    CHECK(!tide_allow_hosts_permits("api.example.com.evil.net"));
    CHECK_STR(tide_allow_hosts_list(), "Api.Example.com, 127.0.0.1:8080,*.internal,[::1]");
    struct sockaddr_in a = v4("127.0.0.1"), b = v4("127.0.0.2");
    CHECK(tide_allow_hosts_permits_addr((struct sockaddr *)&a));
    CHECK(!tide_allow_hosts_permits_addr((struct sockaddr *)&b));
    char text[64];
    tide_allow_hosts_addr_text((struct sockaddr *)&b, text, sizeof text);
    CHECK_STR(text, "127.0.0.2");

    CHECK(tide_allow_hosts_set("a,,b", &err) == -1);
    CHECK(strstr(err.msg, "empty entry") != NULL);
    CHECK(!tide_allow_hosts_active()); /* a bad list leaves none, not half of one */
    CHECK(tide_allow_hosts_set("http://x/", &err) == -1);
    CHECK(strstr(err.msg, "is not a host") != NULL);
    CHECK(tide_allow_hosts_set("user@x", &err) == -1);
    CHECK(tide_allow_hosts_set(NULL, &err) == 0);
    CHECK(!tide_allow_hosts_active());
}

static void test_url_host(void)
{
    char h[128];
    CHECK(tide_allow_hosts_url_host("http://127.0.0.1:8080/x?y", h, sizeof h));
    CHECK_STR(h, "127.0.0.1");
    CHECK(tide_allow_hosts_url_host("https://admin:p@ss@Api.Example.com/", h, sizeof h));
    CHECK_STR(h, "api.example.com"); /* the last '@' ends the userinfo */
    CHECK(tide_allow_hosts_url_host("http://[::1]:9/", h, sizeof h));
    CHECK_STR(h, "::1");
    CHECK(tide_allow_hosts_url_host("http://host", h, sizeof h));
    CHECK_STR(h, "host");
    CHECK(!tide_allow_hosts_url_host("/relative", h, sizeof h));
    CHECK(!tide_allow_hosts_url_host("http:///path", h, sizeof h));
}

int main(void)
{
    test_lists();
    test_url_host();
    tide_allow_hosts_set(NULL, NULL);
    return CHECK_DONE();
}
