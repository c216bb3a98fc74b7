/* http.h: the libcurl transport (transport.h): libcurl's multi_socket interface driven by a
 * libev loop, one per worker. */
#ifndef TIDE_HTTP_H
#define TIDE_HTTP_H
#include <ev.h>
#include "transport.h"

/* 'max_connections' sizes libcurl's caches (too small costs a lot). NULL: out of memory. */
struct tide_http *tide_http_new(struct ev_loop *loop, long max_connections);
/* After every transfer was cancelled or ended. NULL is fine. */
void tide_http_free(struct tide_http *h);

#endif
