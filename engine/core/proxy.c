/* proxy.c: proxy.h's choice of proxy per request, with libcurl's environment rules (so a
 * request tide sends to libcurl goes exactly where curl would have sent it). */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "allowhosts.h"
#include "proxy.h"

static struct tide_proxy_env process_env;

/* The lower-case variable, else the upper-case one (libcurl: a set but empty lower-case one
 * still wins, and means none). */
static const char *either(const char *lower, const char *upper)
{
    const char *v = getenv(lower);
    return v != NULL ? v : getenv(upper);
}

static const char *nonempty(const char *v)
{
    return v != NULL && v[0] != '\0' ? v : NULL;
}

static void read_env(void)
{
    process_env.http = nonempty(getenv("http_proxy")); /* never HTTP_PROXY (CGI's header) */
    process_env.https = nonempty(either("https_proxy", "HTTPS_PROXY"));
    process_env.all = nonempty(either("all_proxy", "ALL_PROXY"));
    process_env.no = nonempty(either("no_proxy", "NO_PROXY"));
}

const struct tide_proxy_env *tide_proxy_env(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, read_env);
    return &process_env;
}

bool tide_proxy_configured(const struct tide_proxy_env *env, const char *explicit_proxy)
{
    if (explicit_proxy != NULL)
        return explicit_proxy[0] != '\0';
    return env->http != NULL || env->https != NULL || env->all != NULL;
}

/* Whether the first 'bits' bits of two addresses of 'len' bytes are the same. */
static bool prefix_equal(const unsigned char *a, const unsigned char *b, size_t len, long bits)
{
    if (bits < 0 || (size_t)bits > len * 8)
        return false;
    size_t whole = (size_t)bits / 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    int rest = (int)(bits % 8);
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* An address entry ("10.0.0.0/8", "::1", "[::1]") against the host's address. */
static bool address_matches(const char *entry, size_t n, int family, const unsigned char *addr)
{
    char text[64];
    if (n >= sizeof text)
        return false;
    memcpy(text, entry, n);
    text[n] = '\0';
    char *slash = strchr(text, '/');
    long bits = family == AF_INET ? 32 : 128;
    if (slash != NULL) {
        char *end = NULL;
        *slash = '\0';
        bits = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end != '\0')
            return false;
    }
    char *a = text;
    size_t al = strlen(a);
    if (al >= 2 && a[0] == '[' && a[al - 1] == ']') {
        a[al - 1] = '\0';
        a++;
    }
    unsigned char want[16];
    if (inet_pton(family, a, want) != 1)
        return false;
    return prefix_equal(want, addr, family == AF_INET ? 4 : 16, bits);
}

/* A name entry against the host name: the name itself or a name under it. */
static bool name_matches(const char *entry, size_t n, const char *host, size_t hl)
{
    if (n > 0 && entry[0] == '.')
        entry++, n--;
    if (n > 0 && entry[n - 1] == '.')
        n--;
    if (n == 0 || n > hl)
        return false;
    if (strncasecmp(entry, host + hl - n, n) != 0)
        return false;
    return n == hl || host[hl - n - 1] == '.';
}

bool tide_proxy_exempt(const char *list, const char *host)
{
    if (list == NULL || host == NULL)
        return false;
    if (strcmp(list, "*") == 0)
        return true;
    char name[256];
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']')
        host++, hl -= 2;
    if (hl == 0 || hl >= sizeof name)
        return false;
    memcpy(name, host, hl);
    name[hl] = '\0';
    if (name[hl - 1] == '.')
        name[--hl] = '\0';
    unsigned char addr[16];
    int family = 0;
    if (inet_pton(AF_INET, name, addr) == 1)
        family = AF_INET;
    else if (inet_pton(AF_INET6, name, addr) == 1)
        family = AF_INET6;
    for (const char *p = list; *p != '\0';) {
        p += strspn(p, ", \t");
        size_t n = strcspn(p, ", \t");
        if (n == 0)
            break;
        bool hit = family != 0 ? address_matches(p, n, family, addr) : name_matches(p, n, name, hl);
        if (hit)
            return true;
        p += n;
    }
    return false;
}

const char *tide_proxy_pick(const struct tide_proxy_env *env, const char *url,
                            const char *explicit_proxy)
{
    if (explicit_proxy != NULL)
        return explicit_proxy[0] != '\0' ? explicit_proxy : NULL;
    if (url == NULL || (env->http == NULL && env->https == NULL && env->all == NULL))
        return NULL; /* the usual case, decided without looking at the URL */
    const char *proxy = NULL;
    if (strncasecmp(url, "http://", 7) == 0)
        proxy = env->http;
    else if (strncasecmp(url, "https://", 8) == 0)
        proxy = env->https;
    else
        return NULL;
    if (proxy == NULL)
        proxy = env->all;
    if (proxy == NULL)
        return NULL;
    char host[256];
    if (env->no != NULL && tide_allow_hosts_url_host(url, host, sizeof host) &&
        tide_proxy_exempt(env->no, host))
        return NULL;
    return proxy;
}

bool tide_proxy_valid(const char *proxy)
{
    static const char *const schemes[] = {"http://",   "https://",   "socks4://", "socks4a://",
                                          "socks5://", "socks5h://", NULL};
    const char *host = proxy;
    const char *sep = strstr(proxy, "://");
    if (sep != NULL) {
        int i = 0;
        while (schemes[i] != NULL && strncasecmp(proxy, schemes[i], strlen(schemes[i])) != 0)
            i++;
        if (schemes[i] == NULL)
            return false;
        host = sep + 3;
    }
    size_t at = strcspn(host, "/?#");
    if (memchr(host, '@', at) != NULL) /* user info: past the last '@' */
        for (const char *a = memchr(host, '@', at); a != NULL; a = memchr(host, '@', at))
            at -= (size_t)(a + 1 - host), host = a + 1;
    if (at == 0 || host[0] == ':')
        return false;
    for (size_t i = 0; i < at; i++)
        if ((unsigned char)host[i] <= ' ' || host[i] == '\\')
            return false;
    return host[at] == '\0' || strcmp(host + at, "/") == 0;
}
