/* http.c: multi_socket glue. libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION)
 * and when to call it back (CURLMOPT_TIMERFUNCTION); libev does the waiting. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "clock.h"
#include "http.h"

struct tide_http {
    struct ev_loop *loop;
    CURLM *multi;
    ev_timer timer;
    int active;
    CURL **pool; /* idle easy handles */
    int npool, cappool;
};

struct sock {
    ev_io io;
    curl_socket_t fd;
    struct tide_http *http;
};

int tide_buf_append(struct tide_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (grown == NULL)
            return -1;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void tide_buf_free(struct tide_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static void check_done(struct tide_http *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct tide_http_req *req;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&req);
        req->result = msg->data.result;
        req->ended_us = tide_now_us();
        curl_multi_remove_handle(h->multi, msg->easy_handle);
        req->active = false;
        h->active--;
        req->done(req);
    }
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    struct sock *s = (struct sock *)w;
    struct tide_http *h = s->http; /* 's' may be freed inside socket_action (POLL_REMOVE) */
    int action =
        ((revents & EV_READ) ? CURL_CSELECT_IN : 0) | ((revents & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(h->multi, s->fd, action, &running);
    check_done(h);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct tide_http *h = (struct tide_http *)((char *)w - offsetof(struct tide_http, timer));
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

/* CURLMOPT_SOCKETFUNCTION */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct tide_http *h = userp;
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
    struct tide_http *h = userp;
    ev_timer_stop(h->loop, &h->timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&h->timer, (double)timeout_ms / 1000.0, 0.);
        ev_timer_start(h->loop, &h->timer);
    }
    return 0;
}

struct tide_http *tide_http_new(struct ev_loop *loop, long max_connections)
{
    struct tide_http *h = calloc(1, sizeof *h);
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

void tide_http_free(struct tide_http *h)
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

static size_t on_body(char *p, size_t size, size_t n, void *userp)
{
    struct tide_http_req *req = userp;
    req->body_bytes += n;
    if (req->discard_body)
        return n;
    return tide_buf_append(&req->body, p, n) == 0 ? n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *userp)
{
    struct tide_http_req *req = userp;
    if (n > 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new response (after a redirect or 100) */
        req->headers.len = 0;
        req->body.len = 0;
        req->body_bytes = 0;
    }
    return tide_buf_append(&req->headers, p, n) == 0 ? n : 0;
}

/* CURLOPT_SOCKOPTFUNCTION: one-use connections (beyond the open-file budget) close with a
 * reset, so thousands of them do not leave the ephemeral ports in TIME_WAIT. */
static int on_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
    CURL *e = clientp;
    struct tide_http_req *req = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&req);
    if (req != NULL && req->abortive_close) {
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    return CURL_SOCKOPT_OK;
}

static CURL *easy_new(struct tide_http_req *req, CURLSH *share, bool insecure)
{
    CURL *e = curl_easy_init();
    if (e == NULL)
        return NULL;
    curl_easy_setopt(e, CURLOPT_PRIVATE, req);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* no proxy lookups from the environment */
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "tide/" TIDE_VERSION);
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, ""); /* enable the cookie engine, no file */
    curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
    curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, e);
    if (share != NULL)
        curl_easy_setopt(e, CURLOPT_SHARE, share);
    if (insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    req->easy = e;
    return e;
}

/* Points a handle's callbacks at 'req' and its caches at 'share'. */
static void attach(CURL *e, struct tide_http_req *req, CURLSH *share)
{
    curl_easy_setopt(e, CURLOPT_PRIVATE, req);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf);
    curl_easy_setopt(e, CURLOPT_SHARE, share);
    req->easy = e;
}

CURL *tide_http_easy_get(struct tide_http *h, struct tide_http_req *req, CURLSH *share,
                         bool insecure)
{
    if (h->npool == 0)
        return easy_new(req, share, insecure);
    CURL *e = h->pool[--h->npool];
    attach(e, req, share);
    return e;
}

void tide_http_easy_put(struct tide_http *h, struct tide_http_req *req)
{
    CURL *e = req->easy;
    if (e == NULL || req->active)
        return;
    req->easy = NULL;
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

int tide_http_start(struct tide_http *h, struct tide_http_req *req)
{
    req->body.len = 0;
    req->headers.len = 0;
    req->body_bytes = 0;
    req->errbuf[0] = '\0';
    req->result = CURLE_OK;
    req->started_us = tide_now_us();
    if (curl_multi_add_handle(h->multi, req->easy) != CURLM_OK)
        return -1;
    req->active = true;
    h->active++;
    return 0;
}

void tide_http_cancel(struct tide_http *h, struct tide_http_req *req)
{
    if (!req->active)
        return;
    curl_multi_remove_handle(h->multi, req->easy);
    req->active = false;
    h->active--;
}

int tide_http_active(const struct tide_http *h)
{
    return h->active;
}
