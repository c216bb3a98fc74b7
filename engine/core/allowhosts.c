/* allowhosts.c: the --allow-hosts list and its checks (allowhosts.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include "allowhosts.h"

#define MAX_HOSTS 64

static char *hosts[MAX_HOSTS];
static int nhosts;
static char *given;
#define MAX_ADDRS 256
static struct sockaddr_storage addrs[MAX_ADDRS]; /* of the listed hosts */
static int naddrs;

static void clear(void)
{
    for (int i = 0; i < nhosts; i++)
        free(hosts[i]);
    nhosts = 0;
    naddrs = 0;
    free(given);
    given = NULL;
}

/* Lower case, without brackets and spaces around. */
static void normalise(const char *s, size_t n, char *out, size_t len)
{
    while (n > 0 && isspace((unsigned char)*s))
        s++, n--;
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']')
        s++, n -= 2;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < len; i++)
        out[o++] = (char)tolower((unsigned char)s[i]);
    out[o] = '\0';
}

/* The addresses of a listed name (an address is its own); none for "*." entries. */
static void add_addresses(const char *host)
{
    if (host[0] == '*')
        return;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return;
    for (struct addrinfo *a = res; a != NULL && naddrs < MAX_ADDRS; a = a->ai_next)
        if (a->ai_addrlen <= sizeof addrs[0])
            memcpy(&addrs[naddrs++], a->ai_addr, a->ai_addrlen);
    freeaddrinfo(res);
}

int tide_allow_hosts_set(const char *list, struct tide_err *err)
{
    clear();
    if (list == NULL || *list == '\0')
        return 0;
    for (const char *p = list;;) {
        size_t n = strcspn(p, ",");
        char h[256];
        normalise(p, n, h, sizeof h);
        if (h[0] == '\0') {
            clear();
            return tide_err_set(err,
                                "--allow-hosts: an empty entry in '%s' (expected a "
                                "comma-separated list like api.example.com,127.0.0.1)",
                                list);
        }
        char *colon = strchr(h, ':');
        if (colon != NULL && colon == strrchr(h, ':') && strpbrk(h, "/@?# ") == NULL)
            *colon = '\0'; /* host:port: any port of the host */
        if (strpbrk(h, "/@?# ") != NULL) {
            clear();
            return tide_err_set(err,
                                "--allow-hosts: '%.*s' is not a host (give host names or "
                                "addresses, without scheme or path)",
                                (int)(n > 100 ? 100 : n), p);
        }
        if (nhosts == MAX_HOSTS) {
            clear();
            return tide_err_set(err, "--allow-hosts: at most %d hosts", MAX_HOSTS);
        }
        hosts[nhosts] = strdup(h);
        if (hosts[nhosts] == NULL) {
            clear();
            return tide_err_set(err, "out of memory");
        }
        add_addresses(hosts[nhosts]);
        nhosts++;
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    given = strdup(list);
    return 0;
}

bool tide_allow_hosts_active(void)
{
    return nhosts > 0;
}

const char *tide_allow_hosts_list(void)
{
    return given != NULL ? given : "";
}

bool tide_allow_hosts_permits(const char *host)
{
    if (nhosts == 0)
        return true;
    char h[256];
    normalise(host, strlen(host), h, sizeof h);
    size_t hl = strlen(h);
    while (hl > 0 && h[hl - 1] == '.') /* "example.com." is example.com */
        h[--hl] = '\0';
    for (int i = 0; i < nhosts; i++) {
        const char *a = hosts[i];
        if (strcmp(a, h) == 0)
            return true;
        size_t al = strlen(a);
        if (al > 2 && a[0] == '*' && a[1] == '.' && hl > al - 1 &&
            strcmp(h + hl - (al - 1), a + 1) == 0)
            return true; /* *.example.com: api.example.com, not example.com or badexample.com */
    }
    return false;
}

bool tide_allow_hosts_url_host(const char *url, char *out, size_t len)
{
    const char *p = strstr(url, "://");
    if (p == NULL || len == 0)
        return false;
    p += 3;
    size_t auth = strcspn(p, "/?#");
    for (size_t i = auth; i > 0; i--) { /* the last '@' of the authority ends the userinfo */
        if (p[i - 1] == '@') {
            p += i;
            auth -= i;
            break;
        }
    }
    size_t n;
    if (*p == '[') {
        const char *close = memchr(p, ']', auth);
        if (close == NULL)
            return false;
        n = (size_t)(close + 1 - p);
    } else {
        const char *colon = memchr(p, ':', auth);
        n = colon != NULL ? (size_t)(colon - p) : auth;
    }
    normalise(p, n, out, len);
    return out[0] != '\0';
}

bool tide_allow_hosts_permits_addr(const struct sockaddr *sa)
{
    if (nhosts == 0)
        return true;
    for (int i = 0; i < naddrs; i++) {
        const struct sockaddr *a = (const struct sockaddr *)&addrs[i];
        if (a->sa_family != sa->sa_family)
            continue;
        if (sa->sa_family == AF_INET &&
            memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                   &((const struct sockaddr_in *)sa)->sin_addr, sizeof(struct in_addr)) == 0)
            return true;
        if (sa->sa_family == AF_INET6 &&
            memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                   &((const struct sockaddr_in6 *)sa)->sin6_addr, sizeof(struct in6_addr)) == 0)
            return true;
    }
    return false;
}

void tide_allow_hosts_addr_text(const struct sockaddr *sa, char *out, size_t len)
{
    const void *a = sa->sa_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    if (len == 0 || inet_ntop(sa->sa_family, a, out, (socklen_t)len) == NULL)
        snprintf(out, len, "%s", "(an address off the list)");
}
