/* native.h: tide's own HTTP/1.1 client (transport.h) on the worker's libev loop: non-blocking
 * sockets, the framing of http1.h, per-VU keep-alive connections, redirects, the total
 * timeout, and the same results as the libcurl path for the same failures (error codes,
 * texts, timings). http:// and https:// (OpenSSL) over HTTP/1.1, names through the worker's
 * resolver (resolver.h); transport.c sends what it lacks (proxies, HTTP/2, client
 * certificates, Unix sockets, Digest/NTLM) to libcurl. Its reason to exist is cost: a request
 * here is a few system calls and no per-request allocation in steady state (docs/http.md,
 * docs/performance.md). */
#ifndef TIDE_NATIVE_H
#define TIDE_NATIVE_H
#include <ev.h>
#include <stdbool.h>
#include "transport.h"

struct tide_native;
struct tide_native_session;

struct tide_native *tide_native_new(struct ev_loop *loop);
void tide_native_free(struct tide_native *n); /* NULL is fine */

/* Whether the native client implements everything 'sp' asks for; when not, 'why' (may be
 * NULL) says what it lacks. */
bool tide_native_supports(const struct tide_http_spec *sp, const char **why);

/* As tide_http_start, tide_http_cancel, tide_http_body_done (transport.h). */
int tide_native_start(struct tide_native *n, struct tide_transfer *t);
void tide_native_cancel(struct tide_native *n, struct tide_transfer *t);
void tide_native_body_done(struct tide_transfer *t);
/* Frees t->nstate (the rest of 't' is the libcurl side's to free). */
void tide_native_transfer_fini(struct tide_transfer *t);

struct tide_native_session *tide_native_session_new(void);
void tide_native_session_free(struct tide_native_session *s); /* closes its connections */

#endif
