/* transport.c: transport.h's functions, each request sent to one of the two clients:
 * tide's own (native.c) when it implements everything the request asks, else libcurl
 * (http.c). --transport curl forces libcurl; native and auto (the default) never send the
 * native client a request it would serve differently from libcurl (docs/http.md lists why). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "cookiejar.h"
#include "http.h"
#include "http_curl.h"
#include "native.h"
#include "proxy.h"
#include "session.h"

struct tide_http {
    struct tide_curl *curl;
    struct tide_native *native;
};

static atomic_uint_fast64_t served_native, served_curl;

struct tide_http *tide_http_new(struct ev_loop *loop, long max_connections)
{
    struct tide_http *h = calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->curl = tide_curl_new(loop, max_connections);
    h->native = tide_native_new(loop);
    if (h->curl == NULL || h->native == NULL) {
        tide_http_free(h);
        return NULL;
    }
    return h;
}

void tide_http_free(struct tide_http *h)
{
    if (h == NULL)
        return;
    tide_curl_free(h->curl);
    tide_native_free(h->native);
    free(h);
}

void tide_transport_reset_result(struct tide_http_result *res)
{
    res->truncated = false;
    res->status = 0;
    res->error_code = 0;
    res->error[0] = '\0';
    res->error_kind[0] = '\0';
    res->body.len = 0;
    res->headers.len = 0;
    res->url.len = 0;
    res->body_bytes = 0;
    res->bytes_sent = 0;
    res->timings = (struct tide_http_timings){0};
    res->native = false;
    res->retries = 0;
}

bool tide_http_idempotent(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0 ||
           strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0 || strcmp(m, "TRACE") == 0;
}

int tide_transport_parse(const char *text)
{
    if (strcmp(text, "auto") == 0)
        return TIDE_TRANSPORT_AUTO;
    if (strcmp(text, "native") == 0)
        return TIDE_TRANSPORT_NATIVE;
    if (strcmp(text, "curl") == 0)
        return TIDE_TRANSPORT_CURL;
    return -1;
}

void tide_transport_counts(uint64_t *native, uint64_t *curl)
{
    *native = atomic_load(&served_native);
    *curl = atomic_load(&served_curl);
}

/* ---- what only libcurl serves (docs/http.md, "What goes to libcurl") ---- */

const char *tide_transport_proxy(const struct tide_http_spec *sp, const char *url)
{
    return tide_proxy_pick(tide_proxy_env(), url, sp->has_proxy ? sp->proxy.data : NULL);
}

const char *tide_transport_curl_only(const struct tide_http_spec *sp)
{
    if (sp->http2)
        return "HTTP/2 asked for (http2)";
    if (sp->unix_socket.len > 0)
        return "a Unix socket (unix_socket)";
    if (sp->auth != TIDE_AUTH_BASIC)
        return "an authentication scheme beyond Basic (auth)";
    const char *explicit_proxy = sp->has_proxy ? sp->proxy.data : NULL;
    const struct tide_proxy_env *env = tide_proxy_env();
    if (tide_proxy_pick(env, sp->url.data, explicit_proxy) != NULL)
        return "a proxy carries it (proxy, or the proxy environment variables)";
    /* a redirect may lead to a URL a proxy carries: the native client would not use it */
    if (sp->redirects > 0 && tide_proxy_configured(env, explicit_proxy))
        return "a proxy is configured and redirects are followed";
    return NULL;
}

/* The native client when asked for or when auto, and able: under --transport native too, what
 * only libcurl implements (TLS files, user info, tide_transport_curl_only) goes to libcurl. */
static bool use_native(const struct tide_http_spec *sp)
{
    return sp->transport != TIDE_TRANSPORT_CURL && tide_native_supports(sp, NULL);
}

int tide_http_start(struct tide_http *h, struct tide_transfer *t)
{
    struct tide_session *s = t->spec.session;
    if (use_native(&t->spec)) {
        atomic_fetch_add(&served_native, 1);
        return tide_native_start(h->native, t);
    }
    atomic_fetch_add(&served_curl, 1);
    if (s != NULL && s->curl == NULL && (s->curl = tide_curl_session_new()) == NULL)
        t->spec.session = NULL; /* out of memory: nothing kept after the transfer */
    t->res.native = false;
    int rc = tide_curl_start(h->curl, t);
    t->spec.session = s;
    return rc;
}

void tide_http_cancel(struct tide_http *h, struct tide_transfer *t)
{
    if (!t->active)
        return;
    if (t->res.native)
        tide_native_cancel(h->native, t);
    else
        tide_curl_cancel(h->curl, t);
}

void tide_http_transfer_fini(struct tide_transfer *t)
{
    tide_native_transfer_fini(t);
    tide_curl_transfer_fini(t);
}

void tide_http_body_done(struct tide_transfer *t)
{
    if (t->res.native)
        tide_native_body_done(t);
    else
        tide_curl_body_done(t);
}

struct tide_session *tide_http_session_new(void)
{
    struct tide_session *s = calloc(1, sizeof *s); /* each transport's part: on first use */
    if (s != NULL && (s->jar = tide_cookiejar_new()) == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

struct tide_cookiejar *tide_session_cookies(struct tide_session *s)
{
    return s != NULL ? s->jar : NULL;
}

void tide_http_session_free(struct tide_session *s)
{
    if (s == NULL)
        return;
    tide_curl_session_free(s->curl);
    tide_native_session_free(s->native);
    tide_cookiejar_free(s->jar);
    free(s);
}
