/* http.h: libcurl's multi_socket interface driven by a libev loop (one per worker), and the
 * request object a VU fills and gets back when the transfer ends. */
#ifndef TIDE_HTTP_H
#define TIDE_HTTP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>
#include <ev.h>

struct tide_buf {
    char *data;
    size_t len, cap;
};
int tide_buf_append(struct tide_buf *b, const void *p, size_t n); /* keeps data NUL-terminated */
void tide_buf_free(struct tide_buf *b);

struct tide_http;
struct tide_http_req;
typedef void (*tide_http_done_fn)(struct tide_http_req *req);

/* One transfer. The owner keeps it alive (and its easy handle) until 'done' runs or it is
 * cancelled; easy handles are reused across requests so connections are kept alive. */
struct tide_http_req {
    CURL *easy;
    struct tide_buf body;    /* response body */
    struct tide_buf headers; /* raw response header lines of the last response */
    bool discard_body;       /* count bytes but keep nothing */
    bool abortive_close;     /* a one-use connection: close with RST (no TIME_WAIT) */
    size_t body_bytes;       /* received body bytes, kept even when discarded */
    CURLcode result;
    char errbuf[CURL_ERROR_SIZE];
    int64_t started_us; /* tide_now_us() when handed to curl */
    int64_t ended_us;
    bool active;
    tide_http_done_fn done;
    void *owner;
};

/* Worker-level state; 'max_connections' sizes libcurl's caches (too small costs a lot). */
struct tide_http *tide_http_new(struct ev_loop *loop, long max_connections);
void tide_http_free(struct tide_http *h);
/* A pooled easy handle for one request of a VU: handles are lent per request, not held per
 * VU, so idle VUs cost no receive buffer; connections and cookies stay the VU's own because
 * they live in its 'share'. Return it with tide_http_easy_put once its results are read. */
CURL *tide_http_easy_get(struct tide_http *h, struct tide_http_req *req, CURLSH *share,
                         bool insecure);
void tide_http_easy_put(struct tide_http *h, struct tide_http_req *req);
/* Starts the transfer configured on req->easy; 'done' runs from the loop when it ends. */
int tide_http_start(struct tide_http *h, struct tide_http_req *req);
/* Stops an active transfer without calling 'done'. */
void tide_http_cancel(struct tide_http *h, struct tide_http_req *req);
int tide_http_active(const struct tide_http *h);

#endif
