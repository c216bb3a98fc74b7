/* http.c: the transport (transport.h) over libcurl's multi_socket interface. libcurl tells us
 * which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to call it back
 * (CURLMOPT_TIMERFUNCTION); libev does the waiting. Easy handles are pooled per worker and
 * lent to a transfer while it runs, so idle VUs hold no receive buffer; connections stay a
 * VU's own because they live in its session (a CURLSH). Cookies are tide's (cookiejar.h), kept
 * in the session too: libcurl's cookie engine is off, and tide follows redirects itself
 * (redirect.h) so that every hop gets its Cookie header from the jar and gives it its
 * Set-Cookie headers. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <curl/curl.h>
#include "allowhosts.h"
#include "clock.h"
#include "cookiejar.h"
#include "decode.h"
#include "http_curl.h"
#include "session.h"
#include "log.h"
#include "redirect.h"

/* Response header bytes kept per response; beyond, the transfer fails with its reason. Below
 * libcurl's own limit (300 KiB in all, reported only as a receive error), so that a header
 * flood is always named as one (tests/e2e/test_faults.py, many-headers). */
#define TIDE_HTTP_MAX_HEADERS ((size_t)256 << 10)

_Static_assert(sizeof(((struct tide_http_result *)0)->error) >= CURL_ERROR_SIZE,
               "the result's error text is libcurl's error buffer");

struct tide_curl {
    struct ev_loop *loop;
    CURLM *multi;
    ev_timer timer;
    CURL **pool; /* idle easy handles */
    int npool, cappool;
};

struct sock {
    ev_io io;
    curl_socket_t fd;
    struct tide_curl *http;
};

struct tide_transfer_state {
    CURL *easy;                 /* lent from the pool while active */
    CURLU *cu;                  /* the URL parsed once while it does not change */
    char *cu_url;               /* the text 'cu' holds */
    struct curl_slist *headers; /* the request's header lines */
    int sends;                  /* requests libcurl was about to send in this transfer */
    bool answered;              /* response bytes came since the last send */
    bool resend_refused;        /* a re-send was refused (on_prereq) */
    bool expect_refused;        /* libcurl's re-send after a 417 was refused: the 417 stands */
    size_t charged;             /* body bytes counted in body_budget_used */
    bool headers_too_large;     /* on_header refused more than TIDE_HTTP_MAX_HEADERS */
    char refused_host[128];     /* --allow-hosts refused a connection to it (a redirect) */
    bool out_of_fds;            /* socket() failed: the generator's open-file limit */
    /* redirects, followed by tide (hop 0 is the spec's own request) */
    long hops;                       /* redirects followed so far */
    char hop_method[16];             /* this hop's method */
    bool hop_body;                   /* the spec's body goes with this hop */
    bool hop_get;                    /* made a GET by a redirect: no body headers */
    bool hop_cross_origin;           /* left the spec's origin: no credential headers */
    struct tide_buf hop_url;         /* this hop's URL */
    struct tide_buf cookie;          /* this hop's Cookie header line */
    struct tide_buf user_cookie;     /* the script's own Cookie header values */
    struct tide_http_timings before; /* timings of the earlier hops, summed as libcurl does */
    double sent_before;              /* bytes_sent of the earlier hops */
    struct tide_redirect next;       /* where the last redirect said to go */
    struct tide_body_decode decode;  /* gzip/deflate bodies, as on the native path (decode.h) */
};

/* Body bytes every transfer of the process holds (TIDE_HTTP_BODY_BUDGET). */
static size_t body_budget_used; /* only through __atomic builtins */

size_t tide_body_budget_take(size_t *charged, size_t n)
{
    size_t used = __atomic_add_fetch(&body_budget_used, n, __ATOMIC_RELAXED);
    if (used > TIDE_HTTP_BODY_BUDGET) {
        __atomic_sub_fetch(&body_budget_used, n, __ATOMIC_RELAXED);
        return 0;
    }
    *charged += n;
    return n;
}

void tide_body_budget_release(size_t *charged)
{
    if (*charged > 0) {
        __atomic_sub_fetch(&body_budget_used, *charged, __ATOMIC_RELAXED);
        *charged = 0;
    }
}

/* Takes up to 'n' bytes of the budget; returns how many it got (all or none). */
static size_t budget_take(struct tide_transfer_state *s, size_t n)
{
    return tide_body_budget_take(&s->charged, n);
}

static void budget_release(struct tide_transfer_state *s)
{
    if (s != NULL)
        tide_body_budget_release(&s->charged);
}

/* Empties the body; a large buffer is freed (an idle VU keeps no megabytes). */
static void body_clear(struct tide_transfer *t)
{
    budget_release(t->state);
    if (t->res.body.cap > ((size_t)1 << 20))
        tide_buf_free(&t->res.body);
    t->res.body.len = 0;
}

void tide_curl_body_done(struct tide_transfer *t)
{
    body_clear(t);
}

struct tide_curl_session {
    CURLSH *share;
};

/* k6-style error codes for transport failures (docs/scenario-api.md lists them). */
static int error_code_of(CURLcode c)
{
    switch (c) {
    case CURLE_OPERATION_TIMEDOUT:
        return 1050;
    case CURLE_COULDNT_RESOLVE_HOST:
        return 1100;
    case CURLE_COULDNT_CONNECT:
        return 1212;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return 1220;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        return 1300;
    case CURLE_TOO_MANY_REDIRECTS:
        return 1400;
    case CURLE_WEIRD_SERVER_REPLY:
        return 1500;
    case CURLE_UNSUPPORTED_PROTOCOL: /* also a garbage status line from the server */
        return 1500;
    case CURLE_URL_MALFORMAT:
        return 1020;
    case CURLE_BAD_CONTENT_ENCODING: /* a gzip/deflate body tide could not decode (decode.h) */
        return 1701;
    default:
        return 1000;
    }
}

void tide_curl_error(struct tide_http_result *res, int code, long status)
{
    CURLcode c = (CURLcode)code;
    res->status = 0;
    res->error_code = error_code_of(c);
    if (c == CURLE_UNSUPPORTED_PROTOCOL && status >= 300 && status < 400)
        res->error_code = TIDE_HTTP_ERR_REDIRECT_SCHEME; /* not followed (http, https only) */
    if (res->error[0] == '\0') /* libcurl left no detail in its error buffer */
        snprintf(res->error, sizeof res->error, "%s", curl_easy_strerror(c));
    /* libcurl's generic text: one row per kind of error in the failures table */
    snprintf(res->error_kind, sizeof res->error_kind, "%s (curl %d)", curl_easy_strerror(c),
             (int)c);
}

static void read_timings(CURL *e, struct tide_http_timings *t)
{
    curl_off_t dns = 0, conn = 0, app = 0, pre = 0, start = 0, total = 0;
    curl_easy_getinfo(e, CURLINFO_NAMELOOKUP_TIME_T, &dns);
    curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &conn);
    curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &app);
    curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pre);
    curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &start);
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total);
    *t = (struct tide_http_timings){dns, conn, app, pre, start, total};
}

void tide_transport_host_refused(struct tide_http_result *res, const char *host)
{
    static atomic_flag said = ATOMIC_FLAG_INIT;
    res->status = 0;
    res->error_code = TIDE_HTTP_ERR_HOST_NOT_ALLOWED;
    snprintf(res->error, sizeof res->error,
             "host %.100s is not in --allow-hosts: request refused, nothing sent", host);
    snprintf(res->error_kind, sizeof res->error_kind, "Host not in --allow-hosts (refused)");
    if (!atomic_flag_test_and_set(&said)) /* the first violation, once per process */
        tide_log(TIDE_LOG_ERROR,
                 "request to host %.100s refused: not in --allow-hosts (%s); such requests "
                 "fail with error %d, nothing is sent",
                 host, tide_allow_hosts_list(), TIDE_HTTP_ERR_HOST_NOT_ALLOWED);
}

/* --allow-hosts, before anything leaves: the request's own host is checked by name when it
 * starts (tide_curl_start sets refused_host; the lookup is then stopped before it begins),
 * and every connection a redirect opens by address (the hosts on the list, resolved once). */
static struct tide_transfer *transfer_of(CURL *e)
{
    struct tide_transfer *t = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&t);
    return t;
}

/* CURLOPT_RESOLVER_START_FUNCTION */
static int on_resolver_start(void *resolver_state, void *reserved, void *clientp)
{
    (void)resolver_state;
    (void)reserved;
    struct tide_transfer *t = transfer_of(clientp);
    return t != NULL && t->state->refused_host[0] != '\0' ? 1 : 0;
}

/* CURLOPT_OPENSOCKETFUNCTION */
static curl_socket_t on_opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    (void)purpose;
    struct tide_transfer *t = transfer_of(clientp);
    bool guard = tide_allow_hosts_active();
    if (addr->family == AF_UNIX) /* the script's unix_socket: no host to judge */
        guard = false;
    if (guard && t != NULL && t->state->refused_host[0] != '\0')
        return CURL_SOCKET_BAD;
    if (guard && t != NULL && t->state->sends > 0 && !tide_allow_hosts_permits_addr(&addr->addr)) {
        tide_allow_hosts_addr_text(&addr->addr, t->state->refused_host,
                                   sizeof t->state->refused_host);
        return CURL_SOCKET_BAD; /* a redirect off the list */
    }
    curl_socket_t fd = socket(addr->family, addr->socktype, addr->protocol);
    if (fd == CURL_SOCKET_BAD && (errno == EMFILE || errno == ENFILE) && t != NULL)
        t->state->out_of_fds = true; /* the generator's limit, not the target's fault */
    return fd;
}

void tide_transport_fds_exhausted(struct tide_http_result *res)
{
    static atomic_flag said = ATOMIC_FLAG_INIT;
    struct rlimit rl = {0, 0};
    getrlimit(RLIMIT_NOFILE, &rl);
    res->status = 0;
    res->error_code = 1000;
    snprintf(res->error, sizeof res->error,
             "open-file limit reached on the load generator (%llu descriptors): no socket for "
             "this request, nothing sent",
             (unsigned long long)rl.rlim_cur);
    snprintf(res->error_kind, sizeof res->error_kind,
             "Open-file limit reached on the load generator (nothing sent)");
    if (!atomic_flag_test_and_set(&said))
        tide_log(TIDE_LOG_ERROR,
                 "the load generator ran out of file descriptors (open-file limit %llu): such "
                 "requests fail with error 1000 before anything is sent; raise the limit "
                 "(ulimit -n) or use fewer VUs",
                 (unsigned long long)rl.rlim_cur);
}

/* A later hop's timings are offsets from its own start; libcurl (following redirects itself)
 * summed each over the hops, and tide keeps that. */
static void add_timings(struct tide_http_timings *t, const struct tide_http_timings *before)
{
    t->dns += before->dns;
    t->connect += before->connect;
    t->tls += before->tls;
    t->sent += before->sent;
    t->first_byte += before->first_byte;
    t->total += before->total;
}

/* Everything the result needs from the handle, read before it goes back to the pool. */
static void read_result(struct tide_transfer *t, CURL *e, CURLcode c)
{
    struct tide_http_result *res = &t->res;
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (t->state->refused_host[0] != '\0') {
        tide_transport_host_refused(res, t->state->refused_host);
    } else if (t->state->out_of_fds && c != CURLE_OK) {
        tide_transport_fds_exhausted(res);
    } else if (c == CURLE_ABORTED_BY_CALLBACK && t->state->expect_refused) {
        res->status = 417;
        res->error[0] = '\0';
    } else if (c == CURLE_ABORTED_BY_CALLBACK && t->state->resend_refused) {
        res->status = 0;
        res->error_code = 1220;
        snprintf(res->error, sizeof res->error,
                 "connection closed without a response (reused keep-alive connection); "
                 "not re-sent");
        snprintf(res->error_kind, sizeof res->error_kind,
                 "Connection closed without a response, not re-sent");
    } else if (t->state->headers_too_large || (c == CURLE_OUT_OF_MEMORY && t->state->sends > 0)) {
        /* libcurl reports its own limit on a header line (100 KiB) as "Out of memory" */
        tide_curl_error(res, c, status);
        snprintf(res->error, sizeof res->error,
                 "response header too large (a line over 100 KiB, or over %zu KiB in all)",
                 TIDE_HTTP_MAX_HEADERS >> 10);
        snprintf(res->error_kind, sizeof res->error_kind, "Response header too large");
    } else if (c == CURLE_OK) {
        res->status = status;
        res->error[0] = '\0'; /* a recovered failure (another address) may have left text */
    } else {
        tide_curl_error(res, c, status);
    }
    read_timings(e, &res->timings);
    add_timings(&res->timings, &t->state->before);
    curl_off_t up = 0;
    long head = 0;
    curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &up);
    curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &head);
    res->bytes_sent = t->state->sent_before + (double)up + (double)head;
    /* tide follows redirects itself, so the URL of the last hop is known; libcurl's
     * CURLINFO_EFFECTIVE_URL (7.88) reports an earlier transfer's URL when a reused CURLU
     * changed in place (a VU's next request) or when the connection failed */
    const char *eff = t->state->hops > 0 ? t->state->hop_url.data : t->spec.url.data;
    res->url.len = 0;
    if (eff != NULL)
        tide_buf_append(&res->url, eff, strlen(eff));
}

static void easy_put(struct tide_curl *h, struct tide_transfer *t)
{
    CURL *e = t->state->easy;
    if (e == NULL)
        return;
    t->state->easy = NULL;
    if (h->npool == h->cappool) {
        int cap = h->cappool ? h->cappool * 2 : 64;
        CURL **grown = realloc(h->pool, (size_t)cap * sizeof *grown);
        if (grown == NULL) {
            curl_easy_cleanup(e);
            return;
        }
        h->pool = grown;
        h->cappool = cap;
    }
    curl_easy_setopt(e, CURLOPT_SHARE, NULL); /* the VU's caches stay with the VU */
    h->pool[h->npool++] = e;
}

static int configure_hop(struct tide_transfer *t, CURL *e);

/* After a hop ended with a response: when it is a redirect to follow (redirect.h), starts the
 * next hop on the same handle and returns true. Otherwise false: the response is the last, or
 * the redirect ended the transfer with an error (set in t->res). */
static bool follow_redirect(struct tide_curl *h, struct tide_transfer *t, CURL *e)
{
    struct tide_transfer_state *s = t->state;
    struct tide_http_result *res = &t->res;
    if (res->error_code != 0 || res->status < 300 || res->status > 399 || t->spec.redirects <= 0)
        return false;
    size_t len = 0;
    const char *loc = tide_redirect_location(&res->headers, &len);
    const char *base = res->url.len > 0 ? res->url.data : t->spec.url.data;
    enum tide_redirect_verdict v = tide_redirect_next(res->status, s->hop_method, base, loc, len,
                                                      s->hops, t->spec.redirects, &s->next);
    if (v == TIDE_REDIRECT_NONE)
        return false;
    if (v != TIDE_REDIRECT_FOLLOW) {
        res->status = 0;
        res->error_code =
            tide_redirect_error(v, t->spec.redirects, &s->next, res->error, sizeof res->error,
                                res->error_kind, sizeof res->error_kind);
        body_clear(t);
        return false;
    }
    long left = t->spec.timeout_ms;
    if (left > 0) {
        left -= (long)((tide_now_us() - res->started_us) / 1000);
        if (left <= 0) {
            res->error[0] = '\0';
            tide_curl_error(res, CURLE_OPERATION_TIMEDOUT, 0);
            snprintf(res->error, sizeof res->error, "Operation timed out after %ld milliseconds",
                     t->spec.timeout_ms);
            body_clear(t);
            return false;
        }
    }
    s->before = res->timings;
    s->sent_before = res->bytes_sent;
    s->hops++;
    snprintf(s->hop_method, sizeof s->hop_method, "%s", s->next.method);
    s->hop_body = s->hop_body && s->next.resend_body;
    s->hop_get = s->hop_get || s->next.method_changed;
    struct tide_buf swap = s->hop_url;
    s->hop_url = s->next.url;
    s->next.url = swap;
    s->hop_cross_origin = !tide_url_same_origin(t->spec.url.data, s->hop_url.data);
    /* this hop's response replaces the redirect's */
    res->error[0] = '\0';
    res->headers.len = 0;
    body_clear(t);
    res->body_bytes = 0;
    res->truncated = false;
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, left);
    if (s->hop_url.failed || configure_hop(t, e) != 0 ||
        curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        tide_curl_error(res, CURLE_OUT_OF_MEMORY, 0);
        return false;
    }
    return true;
}

/* A compressed body that was bad, or ended early, fails the transfer as on the native path
 * (decode.h); the decoder's memory goes back at once (an idle VU holds none). */
static void decode_verdict(struct tide_transfer *t)
{
    struct tide_body_decode *bd = &t->state->decode;
    if (bd->asked && (bd->failed || (t->res.error_code == 0 && !tide_body_decode_end(bd, &t->res))))
        tide_body_decode_fail(bd, &t->res);
    tide_body_decode_fini(bd);
}

static void check_done(struct tide_curl *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode c = msg->data.result;
        struct tide_transfer *t;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&t);
        t->res.ended_us = tide_now_us();
        read_result(t, e, c);
        curl_multi_remove_handle(h->multi, e);
        if (c == CURLE_OK && follow_redirect(h, t, e))
            continue; /* the next hop runs on the same handle */
        decode_verdict(t);
        t->active = false;
        easy_put(h, t); /* everything read: lend the handle to others */
        t->done(t);
    }
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    struct sock *s = (struct sock *)w;
    struct tide_curl *h = s->http; /* 's' may be freed inside socket_action (POLL_REMOVE) */
    int action =
        ((revents & EV_READ) ? CURL_CSELECT_IN : 0) | ((revents & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(h->multi, s->fd, action, &running);
    check_done(h);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct tide_curl *h = (struct tide_curl *)((char *)w - offsetof(struct tide_curl, timer));
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static void set_malloc_threshold(void)
{
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
}

/* CURLMOPT_SOCKETFUNCTION */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct tide_curl *h = userp;
    struct sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL) {
            ev_io_stop(h->loop, &s->io);
            curl_multi_assign(h->multi, fd, NULL);
            free(s);
        }
        return 0;
    }
    int events = ((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        if (s == NULL)
            return -1;
        s->fd = fd;
        s->http = h;
        ev_io_init(&s->io, on_io, fd, events);
        curl_multi_assign(h->multi, fd, s);
    } else {
        ev_io_stop(h->loop, &s->io);
        ev_io_set(&s->io, fd, events);
    }
    ev_io_start(h->loop, &s->io);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION */
static int on_timeout(CURLM *multi, long timeout_ms, void *userp)
{
    struct tide_curl *h = userp;
    ev_timer_stop(h->loop, &h->timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&h->timer, (double)timeout_ms / 1000.0, 0.);
        ev_timer_start(h->loop, &h->timer);
    }
    return 0;
}

struct tide_curl *tide_curl_new(struct ev_loop *loop, long max_connections)
{
    /* Blocks of 1 MiB and more (bodies, their Lua copies) always come from mmap, so a freed
     * one goes back to the system; glibc would otherwise raise its threshold after the first
     * frees and keep hundreds of megabytes of freed bodies in its heaps. */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, set_malloc_threshold);
    struct tide_curl *h = calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->loop = loop;
    h->multi = curl_multi_init();
    if (h->multi == NULL) {
        free(h);
        return NULL;
    }
    ev_timer_init(&h->timer, on_timer, 0., 0.);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timeout);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, max_connections < 16 ? 16 : max_connections);
    return h;
}

void tide_curl_free(struct tide_curl *h)
{
    if (h == NULL)
        return;
    for (int i = 0; i < h->npool; i++)
        curl_easy_cleanup(h->pool[i]);
    free(h->pool);
    ev_timer_stop(h->loop, &h->timer);
    curl_multi_cleanup(h->multi);
    free(h);
}

/* Whether the response so far is a 417 (Expectation Failed). After a 417 to a script's own
 * 'Expect: 100-continue', libcurl 7.88 sends the request again with the same header, and
 * again, until the timeout: on_prereq stops it, and the 417 is the answer (as native.c). */
static bool answered_417(const struct tide_buf *h)
{
    return h->len > 12 && memcmp(h->data, "HTTP/", 5) == 0 && memcmp(h->data + 8, " 417", 4) == 0;
}

/* CURLOPT_PREREQFUNCTION: called before each request libcurl sends, redirects included.
 * When the previous request of this transfer got no byte back, this is libcurl re-sending it
 * on a fresh connection after a reused one failed (7.88 does so up to 5 times, for any
 * method, and has no option to turn that off). An idempotent request may go once more, counted
 * in res.retries (http_req_retries), as the native client does (native.c, stale_retry); a
 * POST or PATCH, or a second re-send, is refused: the server may have acted on it, and the
 * attempt ends as a counted failure (error 1220, docs/reliability.md). */
static int on_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                     int local_port)
{
    struct tide_transfer *t = clientp;
    struct tide_transfer_state *s = t->state;
    if (s->sends > 0 && s->answered && answered_417(&t->res.headers)) {
        s->expect_refused = true;
        return CURL_PREREQFUNC_ABORT;
    }
    if (s->sends > 0 && !s->answered) {
        if (t->res.retries > 0 || !tide_http_idempotent(s->hop_method)) {
            s->resend_refused = true;
            return CURL_PREREQFUNC_ABORT;
        }
        t->res.retries++;
    }
    s->sends++;
    s->answered = false;
    return CURL_PREREQFUNC_OK;
}

/* CURLOPT_WRITEFUNCTION */
static size_t on_body(char *p, size_t size, size_t n, void *userp)
{
    struct tide_transfer *t = userp;
    t->state->answered = true;
    if (t->state->decode.asked) /* decoded by tide, as on the native path (decode.h) */
        return tide_body_decode_feed(&t->state->decode, t, &t->state->charged, p, n) == 0 ? n : 0;
    t->res.body_bytes += n;
    if (t->spec.discard_body || t->res.truncated)
        return n;
    size_t keep = n;
    if (t->res.body.len + n > t->spec.max_body) {
        keep = t->spec.max_body - t->res.body.len;
        t->res.truncated = true;
    }
    if (keep > 0 && budget_take(t->state, keep) != keep) {
        keep = 0;
        t->res.truncated = true;
    }
    if (keep > 0 && tide_buf_append(&t->res.body, p, keep) != 0)
        return 0; /* out of memory: the transfer fails (curl 23) */
    return n;
}

/* The URL the current hop requested. */
static const char *hop_url(const struct tide_transfer *t)
{
    return t->state->hops > 0 ? t->state->hop_url.data : t->spec.url.data;
}

/* A Set-Cookie header's value (after the colon, with its line end) into the VU's jar. */
static void store_cookie(struct tide_transfer *t, const char *v, size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    const char *url = hop_url(t);
    if (url != NULL)
        tide_cookiejar_store(t->spec.session->jar, url, v, n, (int64_t)time(NULL));
}

/* CURLOPT_HEADERFUNCTION */
static size_t on_header(char *p, size_t size, size_t n, void *userp)
{
    struct tide_transfer *t = userp;
    t->state->answered = true;
    if (n > 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new response (after a redirect or 100) */
        t->res.headers.len = 0;
        body_clear(t);
        t->res.body_bytes = 0;
        t->res.truncated = false;
    }
    if (n > 11 && (p[0] | 0x20) == 's' && strncasecmp(p, "set-cookie:", 11) == 0 &&
        t->spec.session != NULL)
        store_cookie(t, p + 11, n - 11);
    if (t->res.headers.len + n > TIDE_HTTP_MAX_HEADERS) {
        t->state->headers_too_large = true; /* the transfer fails; read_result says why */
        return 0;
    }
    return tide_buf_append(&t->res.headers, p, n) == 0 ? n : 0;
}

/* CURLOPT_SOCKOPTFUNCTION: one-use connections (beyond the open-file budget) close with a
 * reset, so thousands of them do not leave the ephemeral ports in TIME_WAIT. */
static int on_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
    CURL *e = clientp;
    struct tide_transfer *t = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&t);
    if (t != NULL && t->spec.one_use) {
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    return CURL_SOCKOPT_OK;
}

/* A handle with the options every transfer shares. */
static CURL *easy_new(void)
{
    CURL *e = curl_easy_init();
    if (e == NULL)
        return NULL;
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");   /* tide picks the proxy (set_proxy) */
    curl_easy_setopt(e, CURLOPT_NOPROXY, ""); /* ... no_proxy included: not libcurl again */
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "tide/" TIDE_VERSION);
    curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
    curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, e);
    /* a script or a server's redirect must not reach file://, dict://, gopher://... */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_opensocket); /* --allow-hosts, EMFILE */
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, e);
    if (tide_allow_hosts_active()) {
        curl_easy_setopt(e, CURLOPT_RESOLVER_START_FUNCTION, on_resolver_start);
        curl_easy_setopt(e, CURLOPT_RESOLVER_START_DATA, e);
    }
    return e;
}

/* Lends a handle to 't', its callbacks pointed at 't' and its caches at the VU's session. */
static CURL *easy_get(struct tide_curl *h, struct tide_transfer *t)
{
    CURL *e = h->npool > 0 ? h->pool[--h->npool] : easy_new();
    if (e == NULL)
        return NULL;
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->res.error);
    curl_easy_setopt(e, CURLOPT_SHARE,
                     t->spec.session != NULL ? t->spec.session->curl->share : NULL);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, t);
    t->state->easy = e;
    t->state->sends = 0;
    t->state->answered = false;
    t->state->resend_refused = false;
    t->state->expect_refused = false;
    t->state->headers_too_large = false;
    t->state->refused_host[0] = '\0';
    t->state->out_of_fds = false;
    return e;
}

/* The URL as a parsed CURLU, reused while the transfer requests the same URL: libcurl then
 * skips parsing it again (measurably cheaper per request). Falls back to the text form. */
static void set_url(struct tide_transfer_state *s, CURL *e, const char *url)
{
    if (s->cu_url == NULL || strcmp(s->cu_url, url) != 0) {
        free(s->cu_url);
        s->cu_url = NULL;
        if (s->cu == NULL)
            s->cu = curl_url();
        if (s->cu != NULL && curl_url_set(s->cu, CURLUPART_URL, url, 0) == CURLUE_OK)
            s->cu_url = strdup(url);
    }
    if (s->cu_url != NULL) {
        curl_easy_setopt(e, CURLOPT_CURLU, s->cu);
        return;
    }
    curl_easy_setopt(e, CURLOPT_CURLU, NULL); /* libcurl judges the text itself */
    curl_easy_setopt(e, CURLOPT_URL, url);
}

/* Method 'm' (the spec's, or a redirect's), with the spec's body unless 'm' became a GET. */
static void set_method(CURL *e, const char *m, const struct tide_http_spec *sp, bool with_body)
{
    bool has_body = sp->has_body && with_body;
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        return;
    }
    if (strcmp(m, "GET") == 0 && !has_body)
        return;
    if (strcmp(m, "POST") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    if (has_body || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)sp->body.len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, sp->body.data != NULL ? sp->body.data : "");
    }
}

/* Whether the header line "Name: value" is named 'name' (lower case). */
static bool line_is(const char *line, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(line, name, n) == 0 && line[n] == ':';
}

/* Headers about a body, dropped when a redirect made the request a GET (the Fetch standard). */
static bool body_header(const char *line)
{
    return line_is(line, "content-type") || line_is(line, "content-length") ||
           line_is(line, "content-encoding") || line_is(line, "content-language") ||
           line_is(line, "content-location");
}

static int append_line(struct tide_transfer_state *s, const char *line)
{
    struct curl_slist *grown = curl_slist_append(s->headers, line);
    if (grown == NULL)
        return -1;
    s->headers = grown;
    return 0;
}

/* The Cookie header of this hop: the script's own Cookie values, then the VU's jar. */
static int add_cookie_line(struct tide_transfer *t)
{
    struct tide_transfer_state *s = t->state;
    struct tide_cookiejar *jar = t->spec.session != NULL ? t->spec.session->jar : NULL;
    if (s->user_cookie.len == 0 && (jar == NULL || tide_cookiejar_count(jar) == 0))
        return 0;
    s->cookie.len = 0;
    tide_buf_puts(&s->cookie, "Cookie: ");
    const char *user = s->user_cookie.len > 0 ? s->user_cookie.data : "";
    int n = tide_cookiejar_request_cookie(jar, hop_url(t), user, s->user_cookie.len, &s->cookie,
                                          jar != NULL ? (int64_t)time(NULL) : 0);
    if (n < 0)
        return -1;
    return n > 0 || s->user_cookie.len > 0 ? append_line(s, s->cookie.data) : 0;
}

/* The spec's header lines, and no 'Expect: 100-continue' of libcurl's own (a wasted round
 * trip on every large body): the empty 'Expect:' goes last, so that a script's own Expect
 * line, found first, is honoured (libcurl waits up to 1 s for the 100, as native.c); on a
 * redirect, without credentials when it left the origin and without body headers
 * when it became a GET; the Cookie header from the jar. -1: out of memory. */
static int set_headers(struct tide_transfer *t, CURL *e)
{
    struct tide_transfer_state *s = t->state;
    const struct tide_buf *lines = &t->spec.headers;
    curl_slist_free_all(s->headers);
    s->headers = NULL;
    s->user_cookie.len = 0;
    for (size_t at = 0; at < lines->len; at += strlen(lines->data + at) + 1) {
        const char *line = lines->data + at;
        char first = (char)(line[0] | 0x20); /* only names starting so are looked at */
        if (first != 'c' && first != 'a' && first != 'p') {
            if (append_line(s, line) != 0)
                return -1;
            continue;
        }
        if (line_is(line, "cookie")) { /* merged with the jar's below */
            const char *v = line + 7;
            while (*v == ' ' || *v == '\t')
                v++;
            if (!s->hop_cross_origin && *v != '\0') {
                if (s->user_cookie.len > 0)
                    tide_buf_add(&s->user_cookie, "; ", 2);
                tide_buf_puts(&s->user_cookie, v);
            }
            continue;
        }
        if (s->hop_cross_origin &&
            (line_is(line, "authorization") || line_is(line, "proxy-authorization")))
            continue;
        if (s->hop_get && body_header(line))
            continue;
        if (append_line(s, line) != 0)
            return -1;
    }
    if (append_line(s, "Expect:") != 0)
        return -1;
    if (s->user_cookie.failed || add_cookie_line(t) != 0)
        return -1;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
    return 0;
}

/* The pooled handle may have carried another request's files: each is set every time (the CA
 * back to libcurl's built-in bundle when none is given). */
static void set_tls_files(CURL *e, const struct tide_http_spec *sp)
{
    const char *ca = NULL;
    if (sp->tls_ca.len > 0)
        ca = sp->tls_ca.data;
    else
        curl_easy_getinfo(e, CURLINFO_CAINFO, &ca);
    curl_easy_setopt(e, CURLOPT_CAINFO, ca);
    curl_easy_setopt(e, CURLOPT_SSLCERT, sp->tls_cert.len > 0 ? sp->tls_cert.data : NULL);
    curl_easy_setopt(e, CURLOPT_SSLKEY, sp->tls_key.len > 0 ? sp->tls_key.data : NULL);
}

/* ---- what only libcurl serves: proxies, HTTP/2, Unix sockets, auth schemes ---- */

/* The host of a proxy URL ("socks5://u:p@h:1080", "h:3128") into 'out', lower case. */
static bool proxy_host(const char *proxy, char *out, size_t len)
{
    const char *sep = strstr(proxy, "://");
    char url[512];
    snprintf(url, sizeof url, "http://%s", sep != NULL ? sep + 3 : proxy);
    return tide_allow_hosts_url_host(url, out, len);
}

/* The hop's proxy, chosen by tide (proxy.h), or none. With --allow-hosts the proxy must be on
 * the list too, and the hop's host is judged by name here: the proxy resolves it, not tide,
 * so the address check of on_opensocket sees only the proxy. */
static void set_proxy(struct tide_transfer *t, CURL *e, const char *url)
{
    const char *proxy = tide_transport_proxy(&t->spec, url);
    curl_easy_setopt(e, CURLOPT_PROXY, proxy != NULL ? proxy : "");
    char *refused = t->state->refused_host;
    size_t cap = sizeof t->state->refused_host;
    if (proxy == NULL || !tide_allow_hosts_active() || refused[0] != '\0')
        return;
    char host[128];
    if (tide_allow_hosts_url_host(url, host, sizeof host) && !tide_allow_hosts_permits(host))
        snprintf(refused, cap, "%s", host);
    else if (!proxy_host(proxy, host, sizeof host) || !tide_allow_hosts_permits(host))
        snprintf(refused, cap, "%.100s (the proxy)", host);
}

/* HTTP version, Unix socket, auth scheme, proxy TLS checks: set on every transfer (the
 * pooled handle may carry another request's). HTTP/1.1 unless http2: then HTTP/2 by ALPN over
 * TLS, and an h2c upgrade on http:// (a server that ignores it answers in HTTP/1.1). */
static void set_curl_only(CURL *e, const struct tide_http_spec *sp)
{
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                     sp->http2 ? (long)CURL_HTTP_VERSION_2_0 : (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH,
                     sp->unix_socket.len > 0 ? sp->unix_socket.data : NULL);
    long auth = CURLAUTH_BASIC;
    if (sp->auth == TIDE_AUTH_DIGEST)
        auth = CURLAUTH_DIGEST;
    else if (sp->auth == TIDE_AUTH_NTLM)
        auth = CURLAUTH_NTLM;
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, auth);
    /* an https:// proxy's certificate: verified as the origin's are, unless --insecure */
    curl_easy_setopt(e, CURLOPT_PROXY_SSL_VERIFYPEER, sp->insecure ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_PROXY_SSL_VERIFYHOST, sp->insecure ? 0L : 2L);
}

/* What changes from hop to hop of a transfer: the URL, the method and the headers. */
static int configure_hop(struct tide_transfer *t, CURL *e)
{
    const char *url = hop_url(t);
    set_url(t->state, e, url != NULL ? url : "");
    set_proxy(t, e, url != NULL ? url : "");
    set_method(e, t->state->hop_method, &t->spec, t->state->hop_body);
    return set_headers(t, e);
}

static int configure(struct tide_transfer *t, CURL *e)
{
    const struct tide_http_spec *sp = &t->spec;
    struct tide_transfer_state *s = t->state;
    s->hops = 0;
    s->hop_body = true;
    s->hop_get = false;
    s->hop_cross_origin = false;
    s->before = (struct tide_http_timings){0};
    s->sent_before = 0;
    _Static_assert(sizeof s->hop_method == sizeof sp->method, "one method buffer size");
    memcpy(s->hop_method, sp->method, sizeof s->hop_method); /* per request: no snprintf */
    if (configure_hop(t, e) != 0)
        return -1;
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, sp->timeout_ms);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* tide follows (follow_redirect) */
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, sp->one_use ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, sp->insecure ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, sp->insecure ? 0L : 2L);
    set_tls_files(e, sp);
    set_curl_only(e, sp);
    return 0;
}

static void reset_result(struct tide_transfer *t)
{
    struct tide_http_result *res = &t->res;
    if (t->state != NULL)
        body_clear(t);
    tide_transport_reset_result(res);
}

/* A transfer that could not start ends at once with 'c'. */
static int fail(struct tide_transfer *t, CURLcode c)
{
    t->res.started_us = t->res.ended_us = tide_now_us();
    tide_curl_error(&t->res, c, 0);
    t->res.url.len = 0;
    if (t->spec.url.data != NULL)
        tide_buf_append(&t->res.url, t->spec.url.data, t->spec.url.len);
    return -1;
}

int tide_curl_start(struct tide_curl *h, struct tide_transfer *t)
{
    reset_result(t);
    if (t->state == NULL)
        t->state = calloc(1, sizeof *t->state);
    if (t->state == NULL)
        return fail(t, CURLE_OUT_OF_MEMORY);
    tide_body_decode_start(&t->state->decode, &t->spec);
    CURL *e = easy_get(h, t);
    char host[128];
    if (e != NULL && tide_allow_hosts_active() && t->spec.url.data != NULL &&
        tide_allow_hosts_url_host(t->spec.url.data, host, sizeof host) &&
        !tide_allow_hosts_permits(host)) /* ends in the callbacks: no lookup, no connection */
        snprintf(t->state->refused_host, sizeof t->state->refused_host, "%s", host);
    if (e == NULL || configure(t, e) != 0) {
        if (e != NULL)
            easy_put(h, t);
        return fail(t, CURLE_OUT_OF_MEMORY);
    }
    t->res.started_us = tide_now_us();
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        easy_put(h, t);
        return fail(t, CURLE_OUT_OF_MEMORY);
    }
    t->active = true;
    return 0;
}

void tide_curl_cancel(struct tide_curl *h, struct tide_transfer *t)
{
    if (!t->active)
        return;
    curl_multi_remove_handle(h->multi, t->state->easy);
    t->active = false;
    easy_put(h, t);
    body_clear(t); /* a cancelled body is never read: its budget goes back now */
    tide_body_decode_fini(&t->state->decode);
}

void tide_curl_transfer_fini(struct tide_transfer *t)
{
    struct tide_transfer_state *s = t->state;
    budget_release(s);
    if (s != NULL) {
        if (s->easy != NULL)
            curl_easy_cleanup(s->easy);
        curl_url_cleanup(s->cu);
        free(s->cu_url);
        curl_slist_free_all(s->headers);
        tide_buf_free(&s->hop_url);
        tide_buf_free(&s->cookie);
        tide_buf_free(&s->user_cookie);
        tide_buf_free(&s->next.url);
        tide_body_decode_fini(&s->decode);
        free(s);
        t->state = NULL;
    }
    tide_buf_free(&t->spec.url);
    tide_buf_free(&t->spec.headers);
    tide_buf_free(&t->spec.body);
    tide_buf_free(&t->spec.tls_ca);
    tide_buf_free(&t->spec.tls_cert);
    tide_buf_free(&t->spec.tls_key);
    tide_buf_free(&t->spec.proxy);
    tide_buf_free(&t->spec.unix_socket);
    tide_buf_free(&t->res.body);
    tide_buf_free(&t->res.headers);
    tide_buf_free(&t->res.url);
}

struct tide_curl_session *tide_curl_session_new(void)
{
    struct tide_curl_session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->share = curl_share_init();
    if (s->share == NULL) {
        free(s);
        return NULL;
    }
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    return s;
}

void tide_curl_session_free(struct tide_curl_session *s)
{
    if (s == NULL)
        return;
    curl_share_cleanup(s->share);
    free(s);
}
