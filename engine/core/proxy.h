/* proxy.h: which proxy, if any, carries a request. An explicit one (the request's `proxy`
 * param or options.proxy; "" means none) wins; else the environment's, by libcurl's rules:
 * http_proxy (lower case only) for http://, https_proxy or HTTPS_PROXY for https://, then
 * all_proxy or ALL_PROXY, unless no_proxy or NO_PROXY lists the host. tide decides here, once,
 * for both transports: a request a proxy would carry goes to libcurl with that proxy, and the
 * native client never sees it (docs/http.md, "Proxies"). */
#ifndef TIDE_PROXY_H
#define TIDE_PROXY_H
#include <stdbool.h>
#include <stddef.h>

/* The proxy settings of the environment (each NULL when unset). */
struct tide_proxy_env {
    const char *http, *https, *all, *no;
};

/* The process's environment, read once (the first call; nothing may setenv afterwards). */
const struct tide_proxy_env *tide_proxy_env(void);

/* The proxy for 'url' (absolute http:// or https://) under 'env': the explicit one when
 * 'explicit_proxy' is not NULL ("" then means none), else the environment's. NULL: direct. */
const char *tide_proxy_pick(const struct tide_proxy_env *env, const char *url,
                            const char *explicit_proxy);

/* Whether any proxy may carry some request: an explicit non-empty one, or one in 'env'. */
bool tide_proxy_configured(const struct tide_proxy_env *env, const char *explicit_proxy);

/* Whether the no_proxy list 'list' exempts 'host' (a URL's host: a name, an IPv4 address or
 * an IPv6 one in brackets or not): "*" alone exempts all; each entry (commas or spaces
 * between) matches the host itself or, for names, any name under it ("example.com" and
 * ".example.com" both match "a.example.com"); addresses may carry a CIDR prefix length. */
bool tide_proxy_exempt(const char *list, const char *host);

/* Whether 'proxy' is a proxy URL tide accepts: [scheme://]host[:port][/], the scheme one of
 * http, https, socks4, socks4a, socks5, socks5h. */
bool tide_proxy_valid(const char *proxy);

#endif
