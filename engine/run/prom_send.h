/* prom_send.h: the thread that POSTs remote-write pushes to Prometheus (--stream
 * prometheus=URL), so that neither the workers nor the coordinator ever wait on the network.
 *
 * The coordinator hands over each second's compressed WriteRequest with tide_prom_send(),
 * which only copies it into a queue bounded in pushes: when the endpoint is slower than one
 * push a second (or down), the oldest waiting push is dropped and counted. The thread sends
 * with a libcurl easy handle and short timeouts; a connection error or a 5xx is retried
 * with exponential back-off, a 4xx is not (the same body would be refused again). The first
 * failure is warned about once; the totals are warned about at the end. Closing waits a
 * bounded time for what is queued, then gives up on the rest (counted). */
#ifndef TIDE_PROM_SEND_H
#define TIDE_PROM_SEND_H
#include <stddef.h>
#include "err.h"

/* Pushes that may wait for the sender before the oldest is dropped (two minutes of run). */
#define TIDE_PROM_QUEUE_PUSHES 120
/* How long closing waits for the queue to drain, at most (the end of a run, Ctrl-C). */
#define TIDE_PROM_FLUSH_MS     5000

/* Checks 'url' (http:// or https:// with a host) without connecting: 0, or -1 with a
 * message. A password in the URL is registered as a secret, so no output shows it. */
int tide_prom_check_url(const char *url, struct tide_err *err);

struct tide_prom_sender; /* opaque */

/* Starts the sender for 'url' (already checked). NULL with a message when out of memory or
 * when the thread cannot start. */
struct tide_prom_sender *tide_prom_sender_open(const char *url, struct tide_err *err);

/* Queues a copy of one push body (snappy-compressed WriteRequest). Never blocks on the
 * network: only a short lock. */
void tide_prom_send(struct tide_prom_sender *s, const void *body, size_t len);

struct tide_prom_send_stats {
    long sent;    /* pushes Prometheus accepted (2xx) */
    long failed;  /* pushes given up after retries, or refused with a 4xx */
    long dropped; /* pushes dropped unsent: queue full, or still queued when the flush ended */
};

/* Sends what is queued (for at most flush_ms), stops the thread, frees; fills 'st' when not
 * NULL. NULL is fine. */
void tide_prom_sender_close(struct tide_prom_sender *s, int flush_ms,
                            struct tide_prom_send_stats *st);

#endif
