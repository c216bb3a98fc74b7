/* dashboard.c: the live dashboard's HTTP server (dashboard.h). One thread, one poll() loop
 * over the listening socket, a wake-up pipe and at most TIDE_DASHBOARD_CLIENTS clients. The
 * coordinator only swaps texts under the mutex and writes a byte to the pipe. */
#define _GNU_SOURCE /* accept4, pipe2, strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "clock.h"
#include "dashboard.h"
#include "log.h"

#define REQUEST_MAX    8192
#define CLIENT_OUT_MAX (64u * 1024 * 1024) /* a client further behind than this is dropped */

struct client {
    int fd;
    char req[REQUEST_MAX];
    size_t reqlen;
    bool sse;         /* an /events stream: stays open */
    bool close_after; /* a plain response: close once sent */
    uint64_t seen;    /* the tick it has been sent */
    size_t rows_off;  /* bytes of 'rows' it has been sent */
    bool got_final;
    struct tide_buf out;
    size_t out_off;
};

struct tide_dashboard {
    int lfd;
    int wake[2];
    bool loopback;
    char url[96];
    char *page;
    size_t page_len;
    pthread_t thread;
    struct client clients[TIDE_DASHBOARD_CLIENTS];
    pthread_mutex_t mu;   /* guards everything below */
    char *summary;        /* the latest page data */
    struct tide_buf rows; /* every history row so far, comma-separated */
    uint64_t tick;
    bool final;
    char *report;
    size_t report_len;
    bool stopping;
    int64_t stop_by_us;
};

/* --- addresses --- */

static int split_addr(const char *addr, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(addr, ':');
    const char *portstr = colon ? colon + 1 : addr;
    char *end;
    long p = strtol(portstr, &end, 10);
    if (*portstr == '\0' || *end != '\0' || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    if (colon == NULL) {
        snprintf(host, hostlen, "127.0.0.1");
        return 0;
    }
    size_t n = (size_t)(colon - addr);
    if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
        addr++;
        n -= 2;
    }
    if (n == 0 || n >= hostlen)
        return -1;
    memcpy(host, addr, n);
    host[n] = '\0';
    return 0;
}

int tide_dashboard_check_addr(const char *addr, struct tide_err *err)
{
    char host[64];
    int port;
    struct in6_addr a6;
    struct in_addr a4;
    if (split_addr(addr, host, sizeof host, &port) != 0 ||
        (inet_pton(AF_INET, host, &a4) != 1 && inet_pton(AF_INET6, host, &a6) != 1))
        return tide_err_set(err,
                            "--dashboard %s: expected PORT, IP:PORT or [IPv6]:PORT "
                            "(numeric, e.g. 127.0.0.1:8089)",
                            addr);
    return 0;
}

bool tide_dashboard_is_addr(const char *arg)
{
    struct tide_err err;
    return arg != NULL && arg[0] != '-' && tide_dashboard_check_addr(arg, &err) == 0;
}

/* --- start --- */

static void *serve(void *arg);

struct tide_dashboard *tide_dashboard_start(const char *addr, const char *page, size_t page_len,
                                            struct tide_err *err)
{
    char host[64];
    int port;
    if (tide_dashboard_check_addr(addr, err) != 0)
        return NULL;
    split_addr(addr, host, sizeof host, &port);
    struct sockaddr_storage ss = {0};
    socklen_t sslen;
    bool v6 = strchr(host, ':') != NULL;
    bool loopback;
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, host, &s6->sin6_addr);
        loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
        sslen = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, host, &s4->sin_addr);
        loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
        sslen = sizeof *s4;
    }
    struct tide_dashboard *d = calloc(1, sizeof *d);
    if (d == NULL || (d->page = malloc(page_len)) == NULL) {
        free(d);
        tide_err_set(err, "--dashboard: out of memory");
        return NULL;
    }
    memcpy(d->page, page, page_len);
    d->page_len = page_len;
    d->loopback = loopback;
    d->wake[0] = d->wake[1] = -1;
    for (int i = 0; i < TIDE_DASHBOARD_CLIENTS; i++)
        d->clients[i].fd = -1;
    int one = 1;
    d->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->lfd < 0 || setsockopt(d->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(d->lfd, (struct sockaddr *)&ss, sslen) != 0 || listen(d->lfd, 16) != 0 ||
        pipe2(d->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        tide_err_set(err, "--dashboard %s: cannot listen: %s", addr, strerror(errno));
        goto fail;
    }
    sslen = sizeof ss;
    getsockname(d->lfd, (struct sockaddr *)&ss, &sslen);
    int bound =
        ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
    snprintf(d->url, sizeof d->url, v6 ? "http://[%s]:%d/" : "http://%s:%d/", host, bound);
    pthread_mutex_init(&d->mu, NULL);
    if (pthread_create(&d->thread, NULL, serve, d) != 0) {
        pthread_mutex_destroy(&d->mu);
        tide_err_set(err, "--dashboard: cannot start its thread");
        goto fail;
    }
    if (!loopback)
        tide_log(TIDE_LOG_WARN,
                 "--dashboard on %s, not loopback: anyone who can reach it sees "
                 "this run's results",
                 host);
    return d;
fail:
    if (d->lfd >= 0)
        close(d->lfd);
    if (d->wake[0] >= 0) {
        close(d->wake[0]);
        close(d->wake[1]);
    }
    free(d->page);
    free(d);
    return NULL;
}

const char *tide_dashboard_url(const struct tide_dashboard *d)
{
    return d->url;
}

/* --- the coordinator's side --- */

static void wake(struct tide_dashboard *d)
{
    ssize_t n = write(d->wake[1], "x", 1);
    (void)n; /* a full pipe already wakes the loop */
}

static void set_text(char **slot, const char *text)
{
    char *copy = strdup(text != NULL ? text : "null");
    if (copy != NULL) {
        free(*slot);
        *slot = copy;
    }
}

/* Adds the rows of a JSON array text "[a,b]" to d->rows (caller holds the mutex). */
static void add_rows(struct tide_dashboard *d, const char *rows_json)
{
    if (rows_json == NULL)
        return;
    size_t n = strlen(rows_json);
    if (n < 2 || rows_json[0] != '[' || rows_json[n - 1] != ']' || n == 2)
        return;
    if (d->rows.len > 0)
        tide_buf_append(&d->rows, ",", 1);
    tide_buf_append(&d->rows, rows_json + 1, n - 2);
}

void tide_dashboard_tick(struct tide_dashboard *d, const char *summary_json, const char *rows_json)
{
    if (d == NULL)
        return;
    pthread_mutex_lock(&d->mu);
    set_text(&d->summary, summary_json);
    add_rows(d, rows_json);
    d->tick++;
    pthread_mutex_unlock(&d->mu);
    wake(d);
}

void tide_dashboard_final(struct tide_dashboard *d, const char *summary_json, const char *rows_json,
                          const char *report_html, size_t report_len)
{
    if (d == NULL)
        return;
    char *report = report_html ? malloc(report_len) : NULL;
    if (report != NULL)
        memcpy(report, report_html, report_len);
    pthread_mutex_lock(&d->mu);
    set_text(&d->summary, summary_json);
    add_rows(d, rows_json);
    d->tick++;
    d->final = true;
    free(d->report);
    d->report = report;
    d->report_len = report ? report_len : 0;
    pthread_mutex_unlock(&d->mu);
    wake(d);
}

void tide_dashboard_stop(struct tide_dashboard *d, int linger_ms)
{
    if (d == NULL)
        return;
    pthread_mutex_lock(&d->mu);
    d->stopping = true;
    d->stop_by_us = tide_now_us() + (int64_t)linger_ms * 1000;
    pthread_mutex_unlock(&d->mu);
    wake(d);
    pthread_join(d->thread, NULL);
    for (int i = 0; i < TIDE_DASHBOARD_CLIENTS; i++) {
        if (d->clients[i].fd >= 0)
            close(d->clients[i].fd);
        tide_buf_free(&d->clients[i].out);
    }
    close(d->lfd);
    close(d->wake[0]);
    close(d->wake[1]);
    pthread_mutex_destroy(&d->mu);
    free(d->summary);
    tide_buf_free(&d->rows);
    free(d->report);
    free(d->page);
    free(d);
}

/* --- the server thread --- */

static void drop(struct client *c)
{
    close(c->fd);
    c->fd = -1;
    tide_buf_free(&c->out);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

static void respond(struct client *c, int code, const char *reason, const char *type,
                    const char *body, size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                     "Referrer-Policy: no-referrer\r\nConnection: close\r\n\r\n",
                     code, reason, type, len);
    tide_buf_append(&c->out, head, (size_t)n);
    tide_buf_append(&c->out, body, len);
    c->close_after = true;
}

/* One SSE event with what the client has not seen yet (caller holds the mutex). */
static void push_event(struct tide_dashboard *d, struct client *c)
{
    if (d->summary == NULL || (c->seen == d->tick && !(d->final && !c->got_final)))
        return;
    const char *name = d->final ? "final" : "tick";
    tide_buf_printf(&c->out, "event: %s\ndata: {\"summary\":", name);
    tide_buf_append(&c->out, d->summary, strlen(d->summary));
    tide_buf_append(&c->out, ",\"rows\":[", 9);
    if (c->rows_off < d->rows.len) {
        size_t from = c->rows_off;
        if (from > 0 && d->rows.data[from] == ',')
            from++;
        tide_buf_append(&c->out, d->rows.data + from, d->rows.len - from);
    }
    tide_buf_append(&c->out, "]}\n\n", 4);
    c->rows_off = d->rows.len;
    c->seen = d->tick;
    c->got_final = d->final;
}

/* True when the Host header names the loopback address we serve (DNS rebinding guard). */
static bool host_ok(const struct tide_dashboard *d, const char *req)
{
    if (!d->loopback)
        return true;
    const char *h = strcasestr(req, "\r\nHost:");
    if (h == NULL)
        return false;
    h += 7;
    while (*h == ' ')
        h++;
    return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost", 9) == 0 ||
           strncmp(h, "[::1]", 5) == 0;
}

static void handle_request(struct tide_dashboard *d, struct client *c)
{
    char method[8] = "", path[256] = "";
    if (sscanf(c->req, "%7s %255s", method, path) != 2) {
        respond(c, 400, "Bad Request", "text/plain", "bad request\n", 12);
        return;
    }
    char *q = strchr(path, '?');
    if (q != NULL)
        *q = '\0';
    if (!host_ok(d, c->req)) {
        respond(c, 421, "Misdirected Request", "text/plain", "wrong Host\n", 11);
        return;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        respond(c, 405, "Method Not Allowed", "text/plain", "read-only\n", 10);
        return;
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
        respond(c, 200, "OK", "text/html; charset=utf-8", d->page, d->page_len);
    } else if (strcmp(path, "/events") == 0) {
        tide_buf_puts(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                               "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                               "Connection: keep-alive\r\n\r\nretry: 2000\n\n");
        c->sse = true;
        pthread_mutex_lock(&d->mu);
        push_event(d, c);
        pthread_mutex_unlock(&d->mu);
    } else if (strcmp(path, "/report.html") == 0) {
        pthread_mutex_lock(&d->mu);
        if (d->report != NULL)
            respond(c, 200, "OK", "text/html; charset=utf-8", d->report, d->report_len);
        else
            respond(c, 404, "Not Found", "text/plain", "the run has not ended yet\n", 26);
        pthread_mutex_unlock(&d->mu);
    } else {
        respond(c, 404, "Not Found", "text/plain", "not found\n", 10);
    }
}

static void on_readable(struct tide_dashboard *d, struct client *c)
{
    ssize_t n = recv(c->fd, c->req + c->reqlen, sizeof c->req - 1 - c->reqlen, 0);
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            drop(c);
        return;
    }
    if (c->sse || c->close_after)
        return; /* nothing more is read from a client that has its answer */
    c->reqlen += (size_t)n;
    c->req[c->reqlen] = '\0';
    if (strstr(c->req, "\r\n\r\n") != NULL)
        handle_request(d, c);
    else if (c->reqlen >= sizeof c->req - 1)
        respond(c, 431, "Request Header Fields Too Large", "text/plain", "too large\n", 10);
}

static void on_writable(struct client *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                drop(c);
            return;
        }
        c->out_off += (size_t)n;
    }
    c->out.len = c->out_off = 0;
    if (c->close_after)
        drop(c);
}

static void accept_clients(struct tide_dashboard *d)
{
    for (;;) {
        int fd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int slot = -1;
        for (int i = 0; i < TIDE_DASHBOARD_CLIENTS && slot < 0; i++)
            slot = d->clients[i].fd < 0 ? i : -1;
        if (slot < 0) {
            close(fd); /* full: the browser retries */
            continue;
        }
        struct client *c = &d->clients[slot];
        memset(c, 0, sizeof *c);
        c->fd = fd;
    }
}

static void *serve(void *arg)
{
    struct tide_dashboard *d = arg;
    struct pollfd pfd[TIDE_DASHBOARD_CLIENTS + 2];
    for (;;) {
        pthread_mutex_lock(&d->mu);
        bool stopping = d->stopping;
        int64_t stop_by = d->stop_by_us;
        for (int i = 0; i < TIDE_DASHBOARD_CLIENTS; i++) {
            struct client *c = &d->clients[i];
            if (c->fd >= 0 && c->sse)
                push_event(d, c);
            if (c->fd >= 0 && c->out.len - c->out_off > CLIENT_OUT_MAX)
                drop(c); /* too far behind: it reconnects and starts afresh */
        }
        pthread_mutex_unlock(&d->mu);
        if (stopping) {
            bool pending = false;
            for (int i = 0; i < TIDE_DASHBOARD_CLIENTS; i++)
                pending = pending || (d->clients[i].fd >= 0 && d->clients[i].out.len > 0);
            if (!pending || tide_now_us() >= stop_by)
                break;
        }
        pfd[0] = (struct pollfd){d->lfd, POLLIN, 0};
        pfd[1] = (struct pollfd){d->wake[0], POLLIN, 0};
        for (int i = 0; i < TIDE_DASHBOARD_CLIENTS; i++) {
            struct client *c = &d->clients[i];
            short ev = c->fd >= 0 ? POLLIN : 0;
            if (c->fd >= 0 && c->out.len > c->out_off)
                ev |= POLLOUT;
            pfd[i + 2] = (struct pollfd){c->fd, ev, 0};
        }
        if (poll(pfd, TIDE_DASHBOARD_CLIENTS + 2, stopping ? 50 : 1000) < 0 && errno != EINTR)
            break;
        if (pfd[1].revents & POLLIN) {
            char drain[64];
            while (read(d->wake[0], drain, sizeof drain) > 0) {
            }
        }
        if (pfd[0].revents & POLLIN)
            accept_clients(d);
        for (int i = 0; i < TIDE_DASHBOARD_CLIENTS; i++) {
            struct client *c = &d->clients[i];
            if (c->fd < 0 || pfd[i + 2].fd != c->fd)
                continue;
            if (pfd[i + 2].revents & (POLLERR | POLLHUP)) {
                drop(c);
                continue;
            }
            if (pfd[i + 2].revents & POLLIN)
                on_readable(d, c);
            if (c->fd >= 0 && (pfd[i + 2].revents & POLLOUT))
                on_writable(c);
            else if (c->fd >= 0 && c->out.len > c->out_off)
                on_writable(c); /* a response just made: try at once */
        }
    }
    return NULL;
}
