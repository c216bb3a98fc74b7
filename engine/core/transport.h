/* transport.h: the HTTP transport a VU's request goes through, independent of how it is done.
 * The caller fills a transfer's 'spec', starts it, and gets its 'res' in the 'done' callback,
 * run from the worker's loop. Two clients implement it: tide's own HTTP/1.1 client on the
 * loop (native.c) and libcurl (http.c); transport.c picks one per request (docs/http.md).
 * One worker thread owns a transport and its transfers. */
#ifndef TIDE_TRANSPORT_H
#define TIDE_TRANSPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

struct tide_http;    /* the worker's transport (http.h makes one) */
struct tide_session; /* one VU's connections, cookie jar and DNS cache */
struct tide_transfer_state;
struct tide_transfer;
typedef void (*tide_transfer_done_fn)(struct tide_transfer *t);

/* Which client serves a request: auto picks the native one for what it fully implements. */
enum tide_transport_choice { TIDE_TRANSPORT_AUTO, TIDE_TRANSPORT_NATIVE, TIDE_TRANSPORT_CURL };
struct tide_native_state;

/* The authentication scheme for a URL's user name and password (the `auth` param). */
enum tide_http_auth { TIDE_AUTH_BASIC, TIDE_AUTH_DIGEST, TIDE_AUTH_NTLM };

/* What to send. Buffers are reused from request to request (set 'len' to 0, append). */
struct tide_http_spec {
    char method[16];         /* upper case: "GET" */
    struct tide_buf url;     /* absolute */
    struct tide_buf headers; /* "Name: value" lines, each followed by a NUL byte */
    struct tide_buf body;    /* sent when 'has_body'; POST, PUT and PATCH send it (or "") */
    bool has_body;
    long timeout_ms;              /* the whole transfer, redirects included */
    long redirects;               /* redirects followed; 0: the 3xx is the response */
    bool insecure;                /* do not verify TLS certificates */
    bool discard_body;            /* count the body's bytes, keep none */
    size_t max_body;              /* body bytes kept at most; beyond: counted, 'truncated' */
    bool one_use;                 /* a connection of its own, closed (with RST) afterwards */
    struct tide_session *session; /* NULL: nothing kept after the transfer */
    /* TLS files (paths, NUL-terminated; len 0: none): CA bundle trusted besides the system's,
     * client certificate and its key (PEM) */
    struct tide_buf tls_ca, tls_cert, tls_key;
    enum tide_transport_choice transport; /* --transport, options.transport */
    /* What only libcurl implements: a request asking for any of it goes there, whatever
     * --transport says (tide_transport_curl_only; docs/http.md). */
    bool http2;            /* HTTP/2: ALPN over TLS, an h2c upgrade on http:// */
    bool has_proxy;        /* 'proxy' given (param, options.proxy): the environment's not used */
    struct tide_buf proxy; /* NUL-terminated proxy URL; "" (len 1): no proxy at all */
    struct tide_buf unix_socket; /* NUL-terminated path: connect there instead (len 0: TCP) */
    enum tide_http_auth auth;    /* the scheme for user info in the URL */
};

/* Why a request must go to libcurl whatever --transport says (a proxy would carry it, HTTP/2,
 * a Unix socket, an auth scheme beyond Basic), NULL when nothing in it does. */
const char *tide_transport_curl_only(const struct tide_http_spec *sp);

/* Offsets from the transfer's start, µs, as the transport saw them (later ones may be 0 when
 * the transfer ended before reaching them; tide_sample_phases orders them). */
struct tide_http_timings {
    int64_t dns;        /* name resolved */
    int64_t connect;    /* TCP connected */
    int64_t tls;        /* TLS handshake done; 0: no TLS */
    int64_t sent;       /* about to send the request */
    int64_t first_byte; /* first response byte */
    int64_t total;      /* last byte */
};

/* error_code of a redirect to a scheme other than http or https (file://...): not followed. */
#define TIDE_HTTP_ERR_REDIRECT_SCHEME 1410

/* What came back. 'error_code' 0: a response arrived (whatever its status). */
struct tide_http_result {
    long status;             /* 0 on a transport error */
    int error_code;          /* k6-style code (docs/scenario-api.md, "Error codes") */
    char error[256];         /* the error in detail ("" when none); not redacted */
    char error_kind[128];    /* one text per kind of error, "Timeout was reached (curl 28)" */
    struct tide_buf body;    /* of the last response; empty when discarded */
    struct tide_buf headers; /* raw header lines of the last response (after redirects) */
    struct tide_buf url;     /* the final URL, after redirects */
    size_t body_bytes;       /* received body bytes, counted even when discarded */
    bool truncated;          /* 'body' holds fewer bytes than came (max_body or the budget) */
    double bytes_sent;       /* request lines, headers and body, over all redirects */
    struct tide_http_timings timings;
    int64_t started_us, ended_us; /* tide_now_us() at start and when it ended */
    bool native;                  /* served by tide's own client (else libcurl) */
    /* times the request was sent again on a new connection because a reused keep-alive
     * connection ended before any byte of answer (0 or 1; http_req_retries, docs/http.md) */
    int retries;
};

/* One request in flight. Zero-initialize; the owner keeps it alive until 'done' runs or it is
 * cancelled, and releases it with tide_http_transfer_fini. */
struct tide_transfer {
    struct tide_http_spec spec;        /* set before tide_http_start */
    struct tide_http_result res;       /* set before 'done' runs */
    tide_transfer_done_fn done;        /* from the loop, once, when the transfer ended */
    bool active;                       /* started, not ended nor cancelled */
    struct tide_transfer_state *state; /* libcurl's own, kept for the next request */
    struct tide_native_state *nstate;  /* the native client's own, likewise */
};

/* Starts 't' as its spec says. -1 when it could not start: then 't->res' holds the error (as
 * if it had ended with it) and 'done' will not run. */
int tide_http_start(struct tide_http *h, struct tide_transfer *t);
/* Stops an active transfer without calling 'done' (nothing happens when it is not active). */
void tide_http_cancel(struct tide_http *h, struct tide_transfer *t);
/* Frees what 't' holds (its buffers and transport state); it must not be active. */
void tide_http_transfer_fini(struct tide_transfer *t);

/* Response bodies kept: TIDE_HTTP_MAX_BODY per response unless the spec says otherwise, and
 * TIDE_HTTP_BODY_BUDGET in all for the bodies the process holds at once (every worker); bytes
 * beyond either are counted in body_bytes but not kept. */
#define TIDE_HTTP_MAX_BODY    ((size_t)16 << 20)
#define TIDE_HTTP_BODY_BUDGET ((size_t)64 << 20)
/* The caller is done with 't->res.body' (copied out): its memory and its share of the budget
 * go back at once rather than at the next request. */
void tide_http_body_done(struct tide_transfer *t);

/* GET, HEAD, OPTIONS, PUT, DELETE, TRACE: the methods a stale keep-alive connection's request
 * may be sent again for (RFC 9110 9.2.2); never POST or PATCH. */
bool tide_http_idempotent(const char *method);

/* Requests each client ended in this process (every worker, warmup included). */
void tide_transport_counts(uint64_t *native, uint64_t *curl);
/* "native" or "curl" from the command line or options.transport; -1: none of them. */
int tide_transport_parse(const char *text);

/* A VU's connections and cookies, kept between its requests. NULL: out of memory. */
struct tide_session *tide_http_session_new(void);
void tide_http_session_free(struct tide_session *s); /* NULL is fine */
/* The VU's cookie jar (cookiejar.h) its session keeps; NULL when 's' is NULL. */
struct tide_cookiejar *tide_session_cookies(struct tide_session *s);

#endif
