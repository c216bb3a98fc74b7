/* native.c: tide's own HTTP/1.1 client (native.h). A transfer is a chain of hops (the request,
 * then one per redirect followed); a hop takes an idle connection of the VU's session for its
 * host and port or opens one, writes the request http1.c serialized, and feeds what it reads
 * to the shared framing parser (base/http1_parse.c) until the response ends. Failures are
 * reported as libcurl reports the same failure (tide_curl_error), so a test gives the same
 * errors on both transports. */
#include "native.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h> /* the CURLcode of each failure: same codes, same texts */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "allowhosts.h"
#include "clock.h"
#include "cookiejar.h"
#include "decode.h"
#include "http1.h"
#include "http_curl.h"
#include "redirect.h"
#include "resolver.h"
#include "session.h"

#define READ_CHUNK       ((size_t)64 << 10)
#define IDLE_PER_SESSION 8   /* keep-alive connections a VU keeps (batches use several) */
#define TLS_SESSIONS     4   /* TLS sessions a VU keeps for resumption (by host:port) */
#define EXPECT_WAIT_S    1.0 /* Expect: 100-continue: the body goes anyway after (libcurl's) */

struct tide_native {
    struct ev_loop *loop;
    SSL_CTX *tls[2];       /* [0]: verifying against the system store, [1]: --insecure; made once */
    char rbuf[READ_CHUNK]; /* one worker thread reads into it, one transfer at a time */
    struct tide_resolver *resolver; /* names to addresses without blocking (resolver.h) */
};

struct conn {
    int fd;
    SSL *ssl;      /* NULL: plain */
    char key[272]; /* "host:port" */
    struct conn *next;
};

struct tls_resume {
    char key[272];
    SSL_SESSION *session;
};

struct tide_native_session {
    struct conn *idle;
    int nidle;
    struct conn *spare;     /* the record of the connection in use, for when it is parked again:
                             * no malloc/free pair per request on a kept connection */
    struct tls_resume *tls; /* [TLS_SESSIONS], the last session of each host:port; made on the
                             * first ticket (1.1 KB a VU that never speaks TLS does not hold) */
    int tls_next;
};

/* A URL the native client serves, split. */
struct url {
    bool https;
    char host[256]; /* without brackets */
    char host_header[272];
    int port;
    const char *target; /* into the URL text: "/path?query" ("" means "/") */
    size_t target_len;
};

struct tide_native_state {
    struct tide_native *n;
    struct tide_transfer *t;
    ev_io io;
    ev_timer timeout; /* the whole transfer */
    ev_timer later;   /* a failure found while starting, ended from the loop */
    ev_timer expect;  /* Expect: 100-continue: how long the body waits for the 100 */
    bool starting;
    int fd; /* -1: none */
    SSL *ssl;
    bool handshaking;
    char key[272];
    bool reused, retried, connecting, sending, got_bytes;
    struct tide_buf url; /* this hop's URL */
    struct tide_buf target;
    struct url u;
    char method[16];
    bool with_body;
    bool method_changed; /* a redirect made it a GET: no body headers (redirect.h) */
    long hops;
    struct tide_buf out;
    struct tide_buf cookie; /* this hop's Cookie header value */
    size_t out_off;
    struct tide_http1_parser parser;
    size_t charged; /* body budget */
    int64_t hop_start_us;
    /* Expect: 100-continue (the script's header, a body to send): the head goes first, the body
     * after a 1xx or EXPECT_WAIT_S; a final status before it means no body and no reuse */
    size_t head_len;   /* bytes of 'out' before the body; out.len when not waiting */
    bool expect_wait;  /* the head is out, the body waits */
    bool body_skipped; /* a final status came instead of the 100: the body never goes */
    bool got_interim;  /* a 1xx came while waiting */
    bool ignore_body;  /* a 417 instead of the 100: its body is not kept (as libcurl) */
    struct tide_body_decode decode; /* gzip/deflate bodies, as on the libcurl path (decode.h) */
    /* the hop's addresses (resolver.h), tried in turn until one connects */
    struct tide_resolve_wait rwait; /* a lookup this transfer waits for */
    struct tide_addrs addrs;
    int addr_next; /* the next one to try */
};

/* ---- sessions and connections ---- */

/* strlcpy: a string into a fixed array, cut to fit. snprintf("%s") cost ~500 instructions a
 * call here, four calls per request (bench/transport_cost.sh). */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

struct tide_native_session *tide_native_session_new(void)
{
    return calloc(1, sizeof(struct tide_native_session));
}

void tide_native_session_free(struct tide_native_session *s)
{
    if (s == NULL)
        return;
    for (struct conn *c = s->idle, *next; c != NULL; c = next) {
        next = c->next;
        SSL_free(c->ssl);
        close(c->fd);
        free(c);
    }
    free(s->spare);
    for (int i = 0; s->tls != NULL && i < TLS_SESSIONS; i++)
        SSL_SESSION_free(s->tls[i].session);
    free(s->tls);
    free(s);
}

static struct tide_native_session *session_of(struct tide_transfer *t)
{
    struct tide_session *s = t->spec.session;
    if (s == NULL)
        return NULL;
    if (s->native == NULL)
        s->native = tide_native_session_new();
    return s->native;
}

/* True when an idle connection is still open with nothing unread (a server that closed it, or
 * sent bytes nobody asked for, makes it useless). */
static bool still_good(int fd)
{
    char c;
    ssize_t r = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* An idle connection to 'key' from the session (its TLS state in '*ssl'), or -1. */
static int take_idle(struct tide_native_session *s, const char *key, SSL **ssl)
{
    if (s == NULL)
        return -1;
    for (struct conn **pp = &s->idle; *pp != NULL;) {
        struct conn *c = *pp;
        if (strcmp(c->key, key) != 0) {
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        s->nidle--;
        int fd = c->fd;
        *ssl = c->ssl;
        if (s->spare == NULL)
            s->spare = c;
        else
            free(c);
        if (still_good(fd))
            return fd;
        SSL_free(*ssl);
        *ssl = NULL;
        close(fd);
    }
    return -1;
}

static void give_idle(struct tide_native_session *s, int fd, SSL *ssl, const char *key)
{
    struct conn *c = NULL;
    if (s != NULL && s->nidle < IDLE_PER_SESSION) {
        c = s->spare != NULL ? s->spare : malloc(sizeof *c);
        s->spare = NULL;
    }
    if (c == NULL) {
        SSL_free(ssl);
        close(fd);
        return;
    }
    c->fd = fd;
    c->ssl = ssl;
    copy_str(c->key, sizeof c->key, key);
    c->next = s->idle;
    s->idle = c;
    s->nidle++;
}

/* ---- URLs and names ---- */

static bool is_http(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0;
}

static bool is_https(const char *url)
{
    return strncasecmp(url, "https://", 8) == 0;
}

/* Splits an http:// or https:// URL; false when the native client does not serve it (user
 * info, a bad port, an empty host). */
static bool url_split(const char *url, struct url *u)
{
    u->https = is_https(url);
    if (!is_http(url) && !u->https)
        return false;
    const char *a = url + (u->https ? 8 : 7);
    int default_port = u->https ? 443 : 80;
    size_t alen = strcspn(a, "/?#");
    if (memchr(a, '@', alen) != NULL || alen == 0)
        return false;
    const char *hend = a + alen, *port = NULL;
    size_t hl;
    if (*a == '[') {
        const char *rb = memchr(a, ']', alen);
        if (rb == NULL)
            return false;
        hl = (size_t)(rb - a - 1);
        if (hl >= sizeof u->host)
            return false;
        memcpy(u->host, a + 1, hl);
        if (rb + 1 < hend && rb[1] != ':')
            return false;
        port = rb + 1 < hend ? rb + 2 : NULL;
    } else {
        const char *colon = memchr(a, ':', alen);
        hl = (size_t)((colon != NULL ? colon : hend) - a);
        if (hl >= sizeof u->host)
            return false;
        memcpy(u->host, a, hl);
        port = colon != NULL ? colon + 1 : NULL;
    }
    u->host[hl] = '\0';
    if (hl == 0)
        return false;
    u->port = default_port;
    if (port != NULL && port < hend) {
        int p = 0;
        for (const char *c = port; c < hend; c++) {
            if (*c < '0' || *c > '9' || p > 65535)
                return false;
            p = p * 10 + (*c - '0');
        }
        if (p <= 0 || p > 65535)
            return false;
        u->port = p;
    }
    if (alen >= sizeof u->host_header)
        return false;
    /* Host: as the URL has it, without a default port (as libcurl sends it) */
    if (u->port == default_port && port != NULL)
        alen = (size_t)(port - 1 - a);
    memcpy(u->host_header, a, alen);
    u->host_header[alen] = '\0';
    u->target = hend;
    u->target_len = strcspn(hend, "#");
    return true;
}

bool tide_native_supports(const struct tide_http_spec *sp, const char **why)
{
    const char *no = NULL;
    struct url u;
    if (sp->url.data == NULL || (!is_http(sp->url.data) && !is_https(sp->url.data)))
        no = "not an http:// or https:// URL";
    else if (!url_split(sp->url.data, &u))
        no = "user info or an unusual authority in the URL";
    else if (sp->tls_cert.len > 0 || sp->tls_key.len > 0 || sp->tls_ca.len > 0)
        no = "TLS files given (a client certificate or a CA bundle)";
    else /* a proxy, HTTP/2, a Unix socket, Digest...: libcurl's */
        no = tide_transport_curl_only(sp);
    if (why != NULL)
        *why = no;
    return no == NULL;
}

/* ---- results ---- */

static void stop_watchers(struct tide_native_state *st)
{
    ev_io_stop(st->n->loop, &st->io);
    ev_timer_stop(st->n->loop, &st->timeout);
    ev_timer_stop(st->n->loop, &st->later);
    ev_timer_stop(st->n->loop, &st->expect);
    tide_resolver_cancel(&st->rwait); /* no callback into a transfer that ended */
}

static void close_conn(struct tide_native_state *st)
{
    if (st->fd < 0)
        return;
    ev_io_stop(st->n->loop, &st->io);
    SSL_free(st->ssl);
    st->ssl = NULL;
    close(st->fd);
    st->fd = -1;
}

static int64_t since_start(const struct tide_native_state *st)
{
    return tide_now_us() - st->t->res.started_us;
}

/* The transfer ended (its result is set): 'done' runs, and nothing of 'st' is touched after. */
static void complete(struct tide_native_state *st)
{
    struct tide_transfer *t = st->t;
    stop_watchers(st);
    tide_body_decode_fini(&st->decode); /* an idle VU holds no zlib state */
    t->res.ended_us = tide_now_us();
    t->res.timings.total = t->res.ended_us - t->res.started_us;
    t->res.url.len = 0;
    tide_buf_append(&t->res.url, st->url.data, st->url.len);
    t->active = false;
    t->done(t);
}

static void on_later(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    complete(w->data);
}

/* Ends the transfer with its result set: from the loop at once, or, while tide_http_start
 * runs (where 'done' must not run), from the loop's next turn. */
static void end_now_or_later(struct tide_native_state *st)
{
    close_conn(st);
    if (st->starting) {
        ev_timer_stop(st->n->loop, &st->timeout);
        ev_timer_set(&st->later, 0., 0.);
        ev_timer_start(st->n->loop, &st->later);
        return;
    }
    complete(st);
}

/* Ends the transfer with libcurl's 'code' for this failure, the detail 'fmt', and 'kind' for
 * the failures table (NULL: libcurl's text for the code). */
__attribute__((format(printf, 4, 5))) static void
fail_kind(struct tide_native_state *st, CURLcode code, const char *kind, const char *fmt, ...)
{
    struct tide_http_result *res = &st->t->res;
    res->error[0] = '\0';
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(res->error, sizeof res->error, fmt, ap);
        va_end(ap);
    }
    tide_curl_error(res, code, st->parser.status);
    if (kind != NULL)
        snprintf(res->error_kind, sizeof res->error_kind, "%s", kind);
    end_now_or_later(st); /* what came of the body stays, as on the libcurl path */
}

#define fail(st, code, ...) fail_kind(st, code, NULL, __VA_ARGS__)

/* ---- the parser's callbacks ---- */

/* A Set-Cookie line: into the VU's jar (cookiejar.h), which both transports read. */
static void store_cookie(struct tide_native_state *st, const char *line, size_t n)
{
    struct tide_session *s = st->t->spec.session;
    if (s == NULL || s->jar == NULL)
        return;
    const char *v = line + 11, *e = line + n;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == '\r' || e[-1] == '\n'))
        e--;
    tide_cookiejar_store(s->jar, st->url.data, v, (size_t)(e - v), (int64_t)time(NULL));
}

/* This hop's Cookie header value into st->cookie: the script's own Cookie values (unless the
 * hop left the request's origin), then the jar's cookies for the hop's URL. */
static int hop_cookie(struct tide_native_state *st, bool cross_origin)
{
    struct tide_transfer *t = st->t;
    struct tide_session *s = t->spec.session;
    st->cookie.len = 0;
    struct tide_buf user = {0};
    if (!cross_origin) {
        const char *h = t->spec.headers.data;
        for (size_t at = 0; h != NULL && at < t->spec.headers.len; at += strlen(h + at) + 1) {
            const char *line = h + at;
            if (strncasecmp(line, "cookie:", 7) != 0)
                continue;
            const char *v = line + 7;
            while (*v == ' ' || *v == '\t')
                v++;
            if (*v == '\0')
                continue;
            if (user.len > 0)
                tide_buf_add(&user, "; ", 2);
            tide_buf_puts(&user, v);
        }
    }
    struct tide_cookiejar *jar = s != NULL ? s->jar : NULL;
    if (user.len == 0 && !user.failed && (jar == NULL || tide_cookiejar_count(jar) == 0)) {
        tide_buf_free(&user);
        tide_buf_add(&st->cookie, "", 0); /* the common case: nothing to merge or send */
        return st->cookie.failed ? -1 : 0;
    }
    int n = tide_cookiejar_request_cookie(jar, st->url.data, user.data != NULL ? user.data : "",
                                          user.len, &st->cookie, (int64_t)time(NULL));
    bool failed = user.failed;
    tide_buf_free(&user);
    tide_buf_add(&st->cookie, "", 0); /* NUL-terminated, maybe empty */
    return n < 0 || failed || st->cookie.failed ? -1 : 0;
}

/* ---- Expect: 100-continue ---- */

/* Whether the script's headers ask for a 100 before the body ("Expect: 100-continue"). */
static bool asks_continue(const struct tide_buf *h)
{
    for (size_t at = 0; h->data != NULL && at < h->len; at += strlen(h->data + at) + 1) {
        const char *line = h->data + at;
        if (strncasecmp(line, "expect:", 7) != 0)
            continue;
        const char *v = line + 7;
        while (*v == ' ' || *v == '\t')
            v++;
        if (strncasecmp(v, "100-continue", 12) == 0)
            return true;
    }
    return false;
}

/* A status line came while the body waited: a 100 lets it go (once the bytes read are fed),
 * another 1xx (103 Early Hints) changes nothing, as for libcurl; a final status means the
 * server answered without it: never sent, the connection not reused (the server may still be
 * waiting for it, or read it as the next request). */
static void expect_answered(struct tide_native_state *st, const char *line, size_t n)
{
    if (n > 9 && line[9] == '1') {
        if (n > 12 && memcmp(line + 8, " 100", 4) == 0) {
            ev_timer_stop(st->n->loop, &st->expect);
            st->got_interim = true;
        }
        return;
    }
    ev_timer_stop(st->n->loop, &st->expect);
    st->expect_wait = false;
    st->body_skipped = true;
    st->ignore_body = n > 12 && memcmp(line + 8, " 417", 4) == 0;
    st->t->res.bytes_sent -= (double)(st->out.len - st->out_off);
}

static void send_some(struct tide_native_state *st);

/* The body goes now: after the 100, or when none came in time. */
static void expect_release(struct tide_native_state *st)
{
    ev_timer_stop(st->n->loop, &st->expect);
    st->expect_wait = false;
    st->got_interim = false;
    st->head_len = st->out.len;
    st->sending = true;
    send_some(st);
}

static void on_expect_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    expect_release(w->data);
}

static int on_head_line(void *ud, const char *line, size_t n)
{
    struct tide_native_state *st = ud;
    struct tide_transfer *t = st->t;
    if (n > 11 && strncasecmp(line, "set-cookie:", 11) == 0)
        store_cookie(st, line, n);
    if (n > 5 && memcmp(line, "HTTP/", 5) == 0) { /* a new response (1xx, a redirect hop) */
        if (st->expect_wait)
            expect_answered(st, line, n);
        t->res.headers.len = 0;
        tide_body_budget_release(&st->charged);
        t->res.body.len = 0;
        t->res.body_bytes = 0;
        t->res.truncated = false;
    }
    return tide_buf_append(&t->res.headers, line, n);
}

static int on_body(void *ud, const char *p, size_t n)
{
    struct tide_native_state *st = ud;
    struct tide_transfer *t = st->t;
    if (st->ignore_body)
        return 0;
    if (st->decode.asked) /* decoded by tide, as on the libcurl path (decode.h) */
        return tide_body_decode_feed(&st->decode, t, &st->charged, p, n);
    t->res.body_bytes += n;
    if (t->spec.discard_body || t->res.truncated)
        return 0;
    size_t keep = n;
    if (t->res.body.len + n > t->spec.max_body) {
        keep = t->spec.max_body - t->res.body.len;
        t->res.truncated = true;
    }
    if (keep > 0 && tide_body_budget_take(&st->charged, keep) != keep) {
        keep = 0;
        t->res.truncated = true;
    }
    return keep > 0 ? tide_buf_append(&t->res.body, p, keep) : 0;
}

/* ---- a hop ---- */

/* The idle-connection key of this hop: "[s:]host:port", without printf (per request). */
static void conn_key(struct tide_native_state *st)
{
    char port[8];
    size_t at = sizeof port;
    port[--at] = '\0';
    for (int p = st->u.port; p > 0 && at > 0; p /= 10)
        port[--at] = (char)('0' + p % 10);
    size_t hl = strnlen(st->u.host, sizeof st->u.host);
    size_t pl = sizeof port - 1 - at;
    char *k = st->key;
    if (st->u.https) {
        memcpy(k, "s:", 2);
        k += 2;
    }
    memcpy(k, st->u.host, hl); /* host <= 255 + "s:" + ":" + 5 digits < sizeof st->key */
    k[hl] = ':';
    memcpy(k + hl + 1, port + at, pl + 1);
}

static void begin_hop(struct tide_native_state *st);
static void on_io(struct ev_loop *loop, ev_io *w, int revents);

/* A reused keep-alive connection ended (EOF, or 'err' ECONNRESET or EPIPE) before any byte
 * came back: the stale-connection race (the server closed it as the request went out). An
 * idempotent request goes once more on a new connection and is counted in res.retries
 * (http_req_retries), as libcurl re-sends it on the other path (http.c, on_prereq); a POST or
 * PATCH, or a second failure, ends with error 1220 "not re-sent": the server may have acted
 * on it (docs/reliability.md, "No hidden re-sends"). Other errors are not this race. */
static bool stale_retry(struct tide_native_state *st, int err)
{
    if (!st->reused || st->got_bytes || (err != 0 && err != ECONNRESET && err != EPIPE))
        return false;
    if (!st->retried && tide_http_idempotent(st->method)) {
        st->retried = true;
        st->t->res.retries++;
        close_conn(st);
        st->t->res.bytes_sent -= (double)(st->out.len - st->out_off); /* never written */
        begin_hop(st);
        return true;
    }
    fail_kind(st, CURLE_GOT_NOTHING, "Connection closed without a response, not re-sent",
              "connection closed without a response (reused keep-alive connection); not "
              "re-sent");
    return true;
}

static void want(struct tide_native_state *st, int events)
{
    if (ev_is_active(&st->io) && st->io.fd == st->fd &&
        (st->io.events & (EV_READ | EV_WRITE)) == events)
        return;
    ev_io_stop(st->n->loop, &st->io);
    ev_io_set(&st->io, st->fd, events);
    ev_io_start(st->n->loop, &st->io);
}

#define IO_AGAIN (-2) /* would block: the watcher waits for what is needed */

/* What a TLS call's failure means: IO_AGAIN (watcher set), 0 (closed), -1 (errno set). */
static ssize_t tls_outcome(struct tide_native_state *st, int r)
{
    int e = SSL_get_error(st->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        want(st, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE);
        return IO_AGAIN;
    }
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
        return 0;
    if (e != SSL_ERROR_SYSCALL)
        errno = EPROTO;
    ERR_clear_error();
    return -1;
}

/* Bytes written, IO_AGAIN, or -1 (errno set); plain or TLS. */
static ssize_t io_send(struct tide_native_state *st, const char *p, size_t n)
{
    if (st->ssl != NULL) {
        errno = 0;
        int r = SSL_write(st->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
        ssize_t o = r > 0 ? r : tls_outcome(st, r);
        if (o == 0)
            errno = EPIPE;
        return o == 0 ? -1 : o;
    }
    for (;;) {
        ssize_t w = send(st->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            want(st, EV_WRITE);
            return IO_AGAIN;
        }
        return w;
    }
}

/* Bytes read, 0 (closed), IO_AGAIN, or -1 (errno set); plain or TLS. */
static ssize_t io_recv(struct tide_native_state *st, char *p, size_t n)
{
    if (st->ssl != NULL) {
        errno = 0;
        int r = SSL_read(st->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
        return r > 0 ? r : tls_outcome(st, r);
    }
    for (;;) {
        ssize_t r = recv(st->fd, p, n, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            want(st, EV_READ);
            return IO_AGAIN;
        }
        return r;
    }
}

static void send_some(struct tide_native_state *st)
{
    while (st->out_off < st->head_len) {
        ssize_t w = io_send(st, st->out.data + st->out_off, st->head_len - st->out_off);
        if (w == IO_AGAIN)
            return;
        if (w < 0) {
            int e = errno;
            if (!stale_retry(st, e))
                fail(st, CURLE_SEND_ERROR, "Send failure: %s", strerror(e));
            return;
        }
        st->out_off += (size_t)w;
    }
    st->sending = false;
    if (st->head_len < st->out.len && !st->expect_wait && !st->body_skipped) {
        st->expect_wait = true; /* the head is out: the body waits for the 100 */
        ev_timer_set(&st->expect, EXPECT_WAIT_S, 0.);
        ev_timer_start(st->n->loop, &st->expect);
    }
    want(st, EV_READ);
}

/* A compressed body that was bad, or ended early, fails the transfer with error 1701, as on
 * the libcurl path (decode.h). */
static bool decode_failed(struct tide_native_state *st)
{
    struct tide_body_decode *bd = &st->decode;
    if (!bd->asked || (!bd->failed && tide_body_decode_end(bd, &st->t->res)))
        return false;
    tide_body_decode_fail(bd, &st->t->res);
    end_now_or_later(st);
    return true;
}

/* The hop's response ended: keep the connection, then follow a redirect or end. */
static void hop_done(struct tide_native_state *st, bool reusable)
{
    struct tide_transfer *t = st->t;
    struct tide_native_session *s = session_of(t);
    if (reusable && st->parser.keep_alive && !t->spec.one_use && s != NULL) {
        ev_io_stop(st->n->loop, &st->io);
        if (st->ssl != NULL)
            SSL_set_app_data(st->ssl, NULL); /* idle: no transfer of its own */
        give_idle(s, st->fd, st->ssl, st->key);
        st->fd = -1;
        st->ssl = NULL;
    } else {
        close_conn(st);
    }
    long status = st->parser.status;
    size_t ll = 0;
    const char *loc = tide_redirect_location(&t->res.headers, &ll);
    struct tide_redirect next = {0};
    enum tide_redirect_verdict v = tide_redirect_next(status, st->method, st->url.data, loc, ll,
                                                      st->hops, t->spec.redirects, &next);
    if (v == TIDE_REDIRECT_NONE) {
        tide_buf_free(&next.url);
        if (decode_failed(st))
            return;
        t->res.status = status;
        complete(st);
        return;
    }
    /* a redirect refused ends without the body of its 3xx (libcurl never reads it) */
    tide_body_budget_release(&st->charged);
    t->res.body.len = 0;
    if (v != TIDE_REDIRECT_FOLLOW) { /* the same error as the libcurl path (redirect.h) */
        struct tide_http_result *res = &t->res;
        res->status = 0;
        res->error_code =
            tide_redirect_error(v, t->spec.redirects, &next, res->error, sizeof res->error,
                                res->error_kind, sizeof res->error_kind);
        tide_buf_free(&next.url);
        end_now_or_later(st);
        return;
    }
    st->url.len = 0;
    tide_buf_append(&st->url, next.url.data, next.url.len);
    tide_buf_free(&next.url);
    st->hops++;
    copy_str(st->method, sizeof st->method, next.method);
    st->with_body = st->with_body && next.resend_body;
    st->method_changed = st->method_changed || next.method_changed;
    begin_hop(st);
}

static void on_readable(struct tide_native_state *st)
{
    struct tide_native *n = st->n;
    for (;;) {
        ssize_t r = io_recv(st, n->rbuf, sizeof n->rbuf);
        if (r == IO_AGAIN)
            return;
        if (r < 0) {
            int e = errno;
            if (!stale_retry(st, e))
                fail(st, CURLE_RECV_ERROR, "Recv failure: %s", strerror(e));
            return;
        }
        if (r == 0) {
            int rc = tide_http1_eof(&st->parser);
            if (rc == TIDE_HTTP1_DONE)
                hop_done(st, false);
            else if (rc == TIDE_HTTP1_MORE && stale_retry(st, 0))
                return;
            else if (rc == TIDE_HTTP1_MORE)
                fail(st, CURLE_GOT_NOTHING, "Empty reply from server");
            else if (st->parser.status > 0)
                fail(st, CURLE_PARTIAL_FILE,
                     "transfer closed with outstanding read data remaining");
            else
                fail(st, CURLE_RECV_ERROR, "Recv failure: the connection closed in the header");
            return;
        }
        if (!st->got_bytes) {
            st->got_bytes = true;
            st->t->res.timings.first_byte = since_start(st);
        }
        size_t used = 0;
        int rc = tide_http1_feed(&st->parser, n->rbuf, (size_t)r, &used);
        if (rc == TIDE_HTTP1_DONE) {
            /* bytes beyond the response, or a body the server did not wait for: no reuse */
            hop_done(st, used == (size_t)r && !st->body_skipped);
            return;
        }
        if (rc == TIDE_HTTP1_MORE && st->expect_wait && st->got_interim) {
            expect_release(st);
            return;
        }
        if (rc == TIDE_HTTP1_MORE)
            continue;
        switch (rc) {
        case TIDE_HTTP1_ERR_NOT_HTTP:
            fail(st, CURLE_UNSUPPORTED_PROTOCOL, "Received HTTP/0.9 when not allowed");
            break;
        case TIDE_HTTP1_ERR_HEADER_SIZE:
            fail_kind(st, CURLE_OUT_OF_MEMORY, "Response header too large",
                      "response header too large (a line over 100 KiB, or over %zu KiB in all)",
                      TIDE_HTTP1_MAX_HEADERS >> 10);
            break;
        case TIDE_HTTP1_ERR_BAD_LENGTH:
            fail(st, CURLE_WEIRD_SERVER_REPLY, "Invalid Content-Length: value");
            break;
        case TIDE_HTTP1_ERR_BAD_CHUNK:
            fail(st, CURLE_RECV_ERROR,
                 "Illegal or missing hexadecimal sequence in chunked-encoding");
            break;
        default:
            if (st->decode.failed && decode_failed(st))
                break;
            fail(st, CURLE_OUT_OF_MEMORY, "%s", "");
        }
        return;
    }
}

/* A TLS session ticket came (during the handshake or a later read): kept in the VU's
 * session for the next connection to the same host and port. */
static int on_new_session(SSL *ssl, SSL_SESSION *session)
{
    struct tide_native_state *st = SSL_get_app_data(ssl);
    struct tide_native_session *s = st != NULL ? session_of(st->t) : NULL;
    if (s != NULL && s->tls == NULL)
        s->tls = calloc(TLS_SESSIONS, sizeof *s->tls);
    if (s == NULL || s->tls == NULL)
        return 0;
    int slot = -1;
    for (int i = 0; i < TLS_SESSIONS && slot < 0; i++)
        if (strcmp(s->tls[i].key, st->key) == 0)
            slot = i;
    if (slot < 0) {
        slot = s->tls_next;
        s->tls_next = (s->tls_next + 1) % TLS_SESSIONS;
    }
    SSL_SESSION_free(s->tls[slot].session);
    snprintf(s->tls[slot].key, sizeof s->tls[slot].key, "%s", st->key);
    s->tls[slot].session = session;
    return 1; /* the reference is ours */
}

/* The worker's TLS context: verifying against the system's CA store, or not (--insecure). */
static SSL_CTX *tls_ctx(struct tide_native *n, bool insecure)
{
    SSL_CTX **slot = &n->tls[insecure ? 1 : 0];
    if (*slot != NULL)
        return *slot;
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (c == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_IGNORE_UNEXPECTED_EOF); /* a close without close_notify */
    SSL_CTX_set_verify(c, insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    if (!insecure)
        SSL_CTX_set_default_verify_paths(c);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(c, on_new_session);
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(c, alpn, sizeof alpn - 1);
    *slot = c;
    return c;
}

/* The TLS state of a new connection: SNI, the name or address to verify, a session to resume. */
static bool tls_begin(struct tide_native_state *st)
{
    bool insecure = st->t->spec.insecure;
    SSL_CTX *ctx = tls_ctx(st->n, insecure);
    st->ssl = ctx != NULL ? SSL_new(ctx) : NULL;
    if (st->ssl == NULL) {
        fail(st, CURLE_SSL_CONNECT_ERROR, "TLS: out of memory");
        return false;
    }
    SSL_set_fd(st->ssl, st->fd);
    SSL_set_app_data(st->ssl, st);
    unsigned char addr[16];
    bool ip =
        inet_pton(AF_INET, st->u.host, addr) == 1 || inet_pton(AF_INET6, st->u.host, addr) == 1;
    if (!ip)
        SSL_set_tlsext_host_name(st->ssl, st->u.host);
    if (!insecure && ip)
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(st->ssl), st->u.host);
    else if (!insecure)
        SSL_set1_host(st->ssl, st->u.host);
    struct tide_native_session *s = session_of(st->t);
    for (int i = 0; s != NULL && s->tls != NULL && i < TLS_SESSIONS; i++)
        if (s->tls[i].session != NULL && strcmp(s->tls[i].key, st->key) == 0)
            SSL_set_session(st->ssl, s->tls[i].session);
    st->handshaking = true;
    return true;
}

static void handshake(struct tide_native_state *st)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_connect(st->ssl);
    if (r == 1) {
        st->handshaking = false;
        st->t->res.timings.tls = since_start(st);
        st->t->res.timings.sent = since_start(st);
        send_some(st);
        return;
    }
    int e = SSL_get_error(st->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        want(st, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE);
        return;
    }
    long verify = SSL_get_verify_result(st->ssl);
    unsigned long err = ERR_peek_last_error();
    const char *why = err != 0 ? ERR_reason_error_string(err) : NULL;
    int sys = errno;
    ERR_clear_error();
    if (verify != X509_V_OK)
        fail(st, CURLE_PEER_FAILED_VERIFICATION, "SSL certificate problem: %s",
             X509_verify_cert_error_string(verify));
    else
        fail(st, CURLE_SSL_CONNECT_ERROR, "OpenSSL SSL_connect: %s",
             why != NULL ? why
             : sys != 0  ? strerror(sys)
                         : "the connection closed");
}

static void connect_failed(struct tide_native_state *st);

static void on_connected(struct tide_native_state *st)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(st->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
        connect_failed(st);
        return;
    }
    st->connecting = false;
    st->t->res.timings.connect = since_start(st);
    if (st->u.https) {
        if (tls_begin(st))
            handshake(st);
        return;
    }
    st->t->res.timings.sent = since_start(st);
    send_some(st);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    struct tide_native_state *st = w->data;
    (void)revents; /* TLS may need either direction: each step asks again */
    if (st->connecting)
        on_connected(st);
    else if (st->handshaking)
        handshake(st);
    else if (st->sending)
        send_some(st);
    else
        on_readable(st);
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    struct tide_native_state *st = w->data;
    long ms = st->t->spec.timeout_ms;
    /* the timer runs from the loop's cached time, which is stale when the loop sat idle
     * before this request (the lifecycle VU's loop during the test): judge by the clock */
    int64_t left_us = (int64_t)ms * 1000 - (tide_now_us() - st->t->res.started_us);
    if (left_us > 1000) {
        ev_timer_set(w, (double)left_us / 1e6, 0.);
        ev_timer_start(loop, w);
        return;
    }
    if (tide_resolver_waiting(&st->rwait)) /* libcurl's text for a lookup too slow */
        fail(st, CURLE_OPERATION_TIMEDOUT, "Resolving timed out after %lld milliseconds",
             (long long)(since_start(st) / 1000));
    else if (st->connecting)
        fail(st, CURLE_OPERATION_TIMEDOUT, "Connection timed out after %ld milliseconds", ms);
    else
        fail(st, CURLE_OPERATION_TIMEDOUT,
             "Operation timed out after %ld milliseconds with %zu bytes received", ms,
             st->t->res.body_bytes);
}

/* A new connection to the hop's next address (st->addrs, st->addr_next). */
static void open_conn(struct tide_native_state *st)
{
    const union tide_sockaddr *a = &st->addrs.addr[st->addr_next];
    socklen_t len = st->addrs.len[st->addr_next];
    st->addr_next++;
    if (st->hops > 0 && tide_allow_hosts_active() && !tide_allow_hosts_permits_addr(&a->sa)) {
        char refused[128];
        tide_allow_hosts_addr_text(&a->sa, refused, sizeof refused);
        tide_transport_host_refused(&st->t->res, refused);
        end_now_or_later(st);
        return;
    }
    int fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE)) { /* the generator's limit */
        tide_transport_fds_exhausted(&st->t->res);
        end_now_or_later(st);
        return;
    }
    if (fd < 0 && st->addrs.n > 1) { /* no IPv6 here, say: the next address, or the end */
        connect_failed(st);
        return;
    }
    if (fd < 0) {
        fail(st, CURLE_COULDNT_CONNECT, "Could not create a socket: %s", strerror(errno));
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (st->t->spec.one_use) { /* closed with a reset: no TIME_WAIT left behind */
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    st->fd = fd;
    st->connecting = true;
    if (connect(fd, &a->sa, len) != 0 && errno != EINPROGRESS) {
        connect_failed(st);
        return;
    }
    want(st, EV_WRITE);
}

/* The connection to one address failed (refused, unreachable): the next address, as libcurl
 * tries each in turn ("localhost" is ::1 and 127.0.0.1; a server may listen on one); after
 * the last, libcurl's error. */
static void connect_failed(struct tide_native_state *st)
{
    close_conn(st);
    if (st->addr_next < st->addrs.n) {
        open_conn(st);
        return;
    }
    fail(st, CURLE_COULDNT_CONNECT, "Failed to connect to %s port %d after %lld ms: %s", st->u.host,
         st->u.port, (long long)(since_start(st) / 1000),
         curl_easy_strerror(CURLE_COULDNT_CONNECT));
}

/* The hop's request, on the connection taken (st->reused) or on a new one to st->addrs. */
static void send_request(struct tide_native_state *st)
{
    struct tide_transfer *t = st->t;
    t->res.timings.dns = since_start(st);
    st->target.len = 0;
    if (st->u.target_len == 0 || st->u.target[0] != '/')
        tide_buf_add(&st->target, "/", 1);
    tide_buf_add(&st->target, st->u.target, st->u.target_len);
    tide_buf_add(&st->target, "", 0);
    st->out.len = 0;
    st->out_off = 0;
    struct tide_http1_request rq = {
        .method = st->method,
        .target = st->target.data,
        .host = st->u.host_header,
        .headers = t->spec.headers.data,
        .headers_len = t->spec.headers.len,
        .body = t->spec.body.data,
        .body_len = t->spec.body.len,
        .with_body = st->with_body,
        .user_agent = "tide/" TIDE_VERSION,
        .drop_credentials = st->hops > 0 && !tide_url_same_origin(t->spec.url.data, st->url.data),
        .drop_body_headers = st->method_changed};
    if (hop_cookie(st, rq.drop_credentials) != 0) {
        fail(st, CURLE_OUT_OF_MEMORY, "%s", "");
        return;
    }
    rq.cookie = st->cookie.data;
    if (st->target.failed || tide_http1_write_request(&st->out, &rq) != 0) {
        fail(st, CURLE_OUT_OF_MEMORY, "%s", "");
        return;
    }
    t->res.bytes_sent += (double)st->out.len;
    st->head_len = st->out.len;
    ev_timer_stop(st->n->loop, &st->expect); /* a re-send's hop may follow a wait */
    st->expect_wait = st->body_skipped = st->got_interim = st->ignore_body = false;
    if (st->with_body && t->spec.body.len > 0 && asks_continue(&t->spec.headers))
        st->head_len -= t->spec.body.len; /* the body is the tail of 'out' (http1.h) */
    tide_http1_parser_reset(&st->parser);
    st->parser.head_request = strcmp(st->method, "HEAD") == 0;
    st->got_bytes = false;
    st->sending = true;
    st->handshaking = false;
    if (st->reused) {
        st->connecting = false;
        t->res.timings.connect = since_start(st);
        t->res.timings.sent = since_start(st);
        send_some(st);
        return;
    }
    open_conn(st);
}

static void on_resolved(struct tide_resolve_wait *w, int status)
{
    struct tide_native_state *st =
        (struct tide_native_state *)((char *)w - offsetof(struct tide_native_state, rwait));
    if (status != 0) { /* libcurl's error for a name that does not resolve */
        fail(st, CURLE_COULDNT_RESOLVE_HOST, "Could not resolve host: %s", st->u.host);
        return;
    }
    send_request(st);
}

/* Starts the hop to st->url: a kept connection, or the host's addresses (from the worker's
 * resolver, maybe later from the loop) and a new connection; then the request. */
static void begin_hop(struct tide_native_state *st)
{
    struct tide_transfer *t = st->t;
    char refused[128];
    st->hop_start_us = tide_now_us();
    if (!url_split(st->url.data, &st->u)) {
        fail(st, CURLE_URL_MALFORMAT, "URL rejected: Malformed input to a URL function");
        return;
    }
    if (tide_allow_hosts_active() &&
        tide_allow_hosts_url_host(st->url.data, refused, sizeof refused) &&
        !tide_allow_hosts_permits(refused)) {
        tide_transport_host_refused(&t->res, refused);
        end_now_or_later(st);
        return;
    }
    conn_key(st);
    /* a kept connection needs no lookup (nor does libcurl make one), unless --allow-hosts
     * must see the address a redirect leads to */
    bool check_addr = st->hops > 0 && tide_allow_hosts_active();
    st->ssl = NULL;
    st->fd = st->retried || t->spec.one_use || check_addr
                 ? -1
                 : take_idle(session_of(t), st->key, &st->ssl);
    st->reused = st->fd >= 0;
    if (st->ssl != NULL)
        SSL_set_app_data(st->ssl, st);
    if (st->reused) {
        send_request(st);
        return;
    }
    st->addr_next = 0;
    st->rwait.done = on_resolved;
    int rc = tide_resolver_lookup(st->n->resolver, st->u.host, st->u.port, &st->addrs, &st->rwait);
    if (rc == TIDE_RESOLVE_PENDING)
        return;
    if (rc == TIDE_RESOLVE_DONE)
        send_request(st);
    else
        on_resolved(&st->rwait, -1);
}

/* ---- the transport's functions ---- */

static struct tide_native_state *state_of(struct tide_native *n, struct tide_transfer *t)
{
    struct tide_native_state *st = t->nstate;
    if (st == NULL) {
        st = calloc(1, sizeof *st);
        if (st == NULL)
            return NULL;
        st->fd = -1;
        ev_init(&st->io, on_io);
        ev_init(&st->timeout, on_timeout);
        ev_init(&st->later, on_later);
        ev_init(&st->expect, on_expect_timeout);
        st->io.data = st->timeout.data = st->later.data = st->expect.data = st;
        st->parser.ud = st;
        st->parser.on_head_line = on_head_line;
        st->parser.on_body = on_body;
        t->nstate = st;
    }
    st->n = n;
    st->t = t;
    return st;
}

static void reset_result(struct tide_transfer *t)
{
    struct tide_http_result *res = &t->res;
    if (res->body.cap > ((size_t)1 << 20))
        tide_buf_free(&res->body);
    tide_transport_reset_result(res);
    res->native = true;
}

int tide_native_start(struct tide_native *n, struct tide_transfer *t)
{
    struct tide_native_state *st = state_of(n, t);
    reset_result(t);
    t->res.started_us = tide_now_us();
    if (st == NULL) {
        t->res.ended_us = t->res.started_us;
        tide_curl_error(&t->res, CURLE_OUT_OF_MEMORY, 0);
        return -1;
    }
    tide_body_budget_release(&st->charged);
    tide_body_decode_start(&st->decode, &t->spec);
    st->url.len = 0;
    tide_buf_append(&st->url, t->spec.url.data, t->spec.url.len);
    copy_str(st->method, sizeof st->method, t->spec.method);
    const char *m = st->method;
    st->with_body = strcmp(m, "HEAD") != 0 && (t->spec.has_body || strcmp(m, "POST") == 0 ||
                                               strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0);
    st->hops = 0;
    st->method_changed = false;
    st->retried = false;
    st->reused = false;
    t->active = true;
    st->starting = true;
    ev_timer_set(&st->timeout, (double)t->spec.timeout_ms / 1000.0, 0.);
    ev_timer_start(n->loop, &st->timeout);
    begin_hop(st);
    st->starting = false;
    return 0;
}

void tide_native_cancel(struct tide_native *n, struct tide_transfer *t)
{
    (void)n;
    struct tide_native_state *st = t->nstate;
    if (!t->active || st == NULL)
        return;
    stop_watchers(st);
    close_conn(st); /* mid-request: never reused */
    tide_body_budget_release(&st->charged);
    tide_body_decode_fini(&st->decode);
    t->res.body.len = 0;
    t->active = false;
}

void tide_native_body_done(struct tide_transfer *t)
{
    struct tide_native_state *st = t->nstate;
    if (st != NULL)
        tide_body_budget_release(&st->charged);
    if (t->res.body.cap > ((size_t)1 << 20))
        tide_buf_free(&t->res.body);
    t->res.body.len = 0;
}

void tide_native_transfer_fini(struct tide_transfer *t)
{
    struct tide_native_state *st = t->nstate;
    if (st == NULL)
        return;
    tide_resolver_cancel(&st->rwait);
    SSL_free(st->ssl);
    if (st->fd >= 0)
        close(st->fd);
    tide_body_budget_release(&st->charged);
    tide_buf_free(&st->url);
    tide_buf_free(&st->target);
    tide_buf_free(&st->out);
    tide_buf_free(&st->cookie);
    tide_http1_parser_fini(&st->parser);
    tide_body_decode_fini(&st->decode);
    free(st);
    t->nstate = NULL;
}

struct tide_native *tide_native_new(struct ev_loop *loop)
{
    struct tide_native *n = calloc(1, sizeof *n);
    if (n == NULL)
        return NULL;
    n->loop = loop;
    n->resolver = tide_resolver_new(loop, NULL);
    if (n->resolver == NULL) {
        free(n);
        return NULL;
    }
    return n;
}

void tide_native_free(struct tide_native *n)
{
    if (n == NULL)
        return;
    SSL_CTX_free(n->tls[0]);
    SSL_CTX_free(n->tls[1]);
    tide_resolver_free(n->resolver);
    free(n);
}
