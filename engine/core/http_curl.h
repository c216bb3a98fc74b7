/* http_curl.h: the libcurl transport (http.c) as transport.c dispatches to it, and what both
 * transports share: the process's body budget and the --allow-hosts refusal. Internal to
 * core: callers use transport.h. */
#ifndef TIDE_HTTP_CURL_H
#define TIDE_HTTP_CURL_H
#include <ev.h>
#include "transport.h"

struct tide_curl;
struct tide_curl_session;

struct tide_curl *tide_curl_new(struct ev_loop *loop, long max_connections);
void tide_curl_free(struct tide_curl *h);
int tide_curl_start(struct tide_curl *h, struct tide_transfer *t);
void tide_curl_cancel(struct tide_curl *h, struct tide_transfer *t);
void tide_curl_transfer_fini(struct tide_transfer *t);
void tide_curl_body_done(struct tide_transfer *t);
struct tide_curl_session *tide_curl_session_new(void);
void tide_curl_session_free(struct tide_curl_session *s);
/* TIDE_HTTP_BODY_BUDGET: takes 'n' bytes of it (all or none, the count returned), adding them
 * to '*charged'; release gives '*charged' back and zeroes it. Any thread. */
size_t tide_body_budget_take(size_t *charged, size_t n);
void tide_body_budget_release(size_t *charged);

/* A failure as libcurl's result 'code' (a CURLcode) reports it: error_code, error_kind, and
 * libcurl's text in 'error' unless it holds one already. 'status': of the last response. */
void tide_curl_error(struct tide_http_result *res, int code, long status);

/* The proxy that carries the request 'sp' to 'url' (one of its hops), NULL: direct
 * (proxy.h's rules). */
const char *tide_transport_proxy(const struct tide_http_spec *sp, const char *url);

/* Empties a result for the next request (its buffers kept). */
void tide_transport_reset_result(struct tide_http_result *res);

/* A connection could not be opened for lack of descriptors on this machine: said as such
 * (error 1000 naming the generator's open-file limit, once on stderr), never "Couldn't connect
 * to server", which would blame the target. */
void tide_transport_fds_exhausted(struct tide_http_result *res);

/* --allow-hosts refused a request to 'host' before any connection: the result says so (and
 * the first time in the process, the log). */
void tide_transport_host_refused(struct tide_http_result *res, const char *host);

#endif
