/* Unit tests of the remote-write sender (engine/run/prom_send.h) against a tiny HTTP server
 * on loopback: a 5xx is retried until accepted, a 4xx is not retried, every POST carries the
 * remote-write headers and the exact body; an endpoint that is down makes closing give up
 * within the flush time (counted, not hanging); the queue is bounded (oldest dropped, counted);
 * bad URLs are refused; no proxy is taken from the environment. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "../check.h"
#include "prom_send.h"

struct server {
    int fd;
    int port;
    const int *statuses; /* reply i gets statuses[i] (the last one repeats) */
    int nstatuses;
    int requests;
    int headers_ok; /* requests that had the three remote-write headers */
    int body_ok;    /* requests whose body was "hello" */
    pthread_t thread;
};

static void *serve(void *arg)
{
    struct server *sv = arg;
    for (;;) {
        int c = accept(sv->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        char req[8192];
        size_t n = 0;
        char *end = NULL;
        while (n < sizeof req - 1) {
            ssize_t r = read(c, req + n, sizeof req - 1 - n);
            if (r <= 0)
                break;
            n += (size_t)r;
            req[n] = '\0';
            end = strstr(req, "\r\n\r\n");
            if (end != NULL && n - (size_t)(end + 4 - req) >= 5)
                break; /* headers and the 5-byte body are in */
        }
        if (strncmp(req, "QUIT", 4) == 0) {
            close(c);
            return NULL;
        }
        int status = sv->statuses[sv->requests < sv->nstatuses ? sv->requests : sv->nstatuses - 1];
        __atomic_fetch_add(&sv->requests, 1, __ATOMIC_SEQ_CST); /* the test polls it */
        sv->headers_ok += strstr(req, "Content-Encoding: snappy\r\n") != NULL &&
                          strstr(req, "Content-Type: application/x-protobuf\r\n") != NULL &&
                          strstr(req, "X-Prometheus-Remote-Write-Version: 0.1.0\r\n") != NULL;
        sv->body_ok += end != NULL && strcmp(end + 4, "hello") == 0;
        char reply[128];
        int len =
            snprintf(reply, sizeof reply,
                     "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno", status);
        if (write(c, reply, (size_t)len) < 0) {
            /* the client went away: counted all the same */
        }
        close(c);
    }
}

static void server_start(struct server *sv, const int *statuses, int n)
{
    memset(sv, 0, sizeof *sv);
    sv->statuses = statuses;
    sv->nstatuses = n;
    sv->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    CHECK(bind(sv->fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(sv->fd, 16) == 0);
    getsockname(sv->fd, (struct sockaddr *)&a, &alen);
    sv->port = ntohs(a.sin_port);
    pthread_create(&sv->thread, NULL, serve, sv);
}

static void server_stop(struct server *sv)
{
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)sv->port)};
    if (connect(c, (struct sockaddr *)&a, sizeof a) == 0 && write(c, "QUIT", 4) < 0) {
        /* the server thread then ends by itself */
    }
    close(c);
    pthread_join(sv->thread, NULL);
    close(sv->fd);
}

static void url_of(char *out, size_t size, int port)
{
    snprintf(out, size, "http://127.0.0.1:%d/api/v1/write", port);
}

static void test_retry_on_5xx(void)
{
    static const int st[] = {500, 503, 204};
    struct server sv;
    server_start(&sv, st, 3);
    char url[64];
    url_of(url, sizeof url, sv.port);
    struct tide_err err = {{0}};
    struct tide_prom_sender *s = tide_prom_sender_open(url, &err);
    CHECK(s != NULL);
    tide_prom_send(s, "hello", 5);
    /* the back-off (0.25 s, 0.5 s) runs its course before closing */
    for (int i = 0; i < 400 && __atomic_load_n(&sv.requests, __ATOMIC_SEQ_CST) < 3; i++)
        usleep(50 * 1000);
    struct tide_prom_send_stats r;
    tide_prom_sender_close(s, TIDE_PROM_FLUSH_MS, &r);
    server_stop(&sv); /* joined: its counts are safe to read */
    CHECK(r.sent == 1 && r.failed == 0 && r.dropped == 0);
    CHECK(sv.requests == 3); /* two 5xx retried, then accepted */
    CHECK(sv.headers_ok == 3 && sv.body_ok == 3);
}

static void test_no_retry_on_4xx(void)
{
    static const int st[] = {400, 204};
    struct server sv;
    server_start(&sv, st, 2);
    char url[64];
    url_of(url, sizeof url, sv.port);
    struct tide_err err = {{0}};
    struct tide_prom_sender *s = tide_prom_sender_open(url, &err);
    tide_prom_send(s, "hello", 5);
    tide_prom_send(s, "hello", 5);
    struct tide_prom_send_stats r;
    tide_prom_sender_close(s, TIDE_PROM_FLUSH_MS, &r);
    server_stop(&sv);
    CHECK(r.sent == 1 && r.failed == 1);
    CHECK(sv.requests == 2); /* the 400 was not sent again */
}

/* Closing does not back off: a push that fails gets one immediate second try. */
static void test_close_retries_once(void)
{
    static const int st[] = {503, 204, 500, 500, 500, 204};
    struct server sv;
    server_start(&sv, st, 6);
    char url[64];
    url_of(url, sizeof url, sv.port);
    struct tide_err err = {{0}};
    struct tide_prom_sender *s = tide_prom_sender_open(url, &err);
    tide_prom_send(s, "hello", 5); /* 503, then 204 */
    tide_prom_send(s, "hello", 5); /* 500, 500: given up (not the third 500, nor the 204) */
    struct tide_prom_send_stats r;
    tide_prom_sender_close(s, TIDE_PROM_FLUSH_MS, &r);
    server_stop(&sv);
    CHECK(r.sent == 1 && r.failed == 1 && r.dropped == 0);
    CHECK(sv.requests == 4);
}

/* Nothing listens: every attempt fails at once; closing gives up at the flush deadline. */
static void test_down_endpoint_and_bounded_queue(void)
{
    struct server sv;
    static const int st[] = {204};
    server_start(&sv, st, 1);
    int port = sv.port;
    server_stop(&sv); /* a port that was free a moment ago: connection refused */
    char url[64];
    url_of(url, sizeof url, port);
    struct tide_err err = {{0}};
    struct tide_prom_sender *s = tide_prom_sender_open(url, &err);
    int pushes = TIDE_PROM_QUEUE_PUSHES + 50;
    for (int i = 0; i < pushes; i++)
        tide_prom_send(s, "hello", 5); /* never blocks, whatever the endpoint does */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct tide_prom_send_stats r;
    tide_prom_sender_close(s, 500, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(r.sent == 0);
    CHECK(r.failed + r.dropped == pushes); /* every push accounted for */
    CHECK(r.dropped >= pushes - TIDE_PROM_QUEUE_PUSHES - 1);
    /* a hang guard, not a speed check: the flush time (0.5 s) plus at most one attempt's
     * timeouts (4 s) when the machine is slow, never a retry cycle per queued push (minutes) */
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(took < 10);
}

static void test_urls(void)
{
    struct tide_err err = {{0}};
    CHECK(tide_prom_check_url("http://127.0.0.1:9090/api/v1/write", &err) == 0);
    CHECK(tide_prom_check_url("https://prom.example/api/v1/write", &err) == 0);
    CHECK(tide_prom_check_url("ftp://127.0.0.1/x", &err) == -1 && strstr(err.msg, "http://"));
    CHECK(tide_prom_check_url("127.0.0.1:9090", &err) == -1);
    CHECK(tide_prom_check_url("", &err) == -1);
    CHECK(tide_prom_check_url("http://", &err) == -1);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* tide looks up no proxy from the environment (docs/privacy.md): with one set here that
     * leads nowhere, the pushes below must still reach the server */
    setenv("http_proxy", "http://127.0.0.1:9", 1);
    setenv("HTTP_PROXY", "http://127.0.0.1:9", 1);
    test_urls();
    test_retry_on_5xx();
    test_no_retry_on_4xx();
    test_close_retries_once();
    test_down_endpoint_and_bounded_queue();
    curl_global_cleanup();
    return CHECK_DONE();
}
