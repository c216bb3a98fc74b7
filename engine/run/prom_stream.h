/* prom_stream.h: '--stream prometheus=URL', the run's per-second series pushed to a
 * Prometheus remote-write endpoint (docs/streams.md has the naming and what each series
 * means).
 *
 * Each second, from the coordinator's merge (stream.c calls here; workers never see it):
 * counters as running totals (tide_<metric>_total; data in bytes: _bytes_total), rates as
 * two running totals (non-zero samples, and all samples: _samples_total), trends as summary
 * style series (quantile="0.5|0.9|0.95|0.99|1" gauges of that second, and running _count and
 * _sum; time in seconds: _seconds), gauges as they are (tide_vus). Labels: run_id, and the
 * samples' tags (scenario, name, method, status, group, check, user tags; not url), every
 * value through tide_redact. At most TIDE_PROM_SERIES_CAP series per push (a warning once
 * when more are left out). Warm-up seconds are not counted nor pushed, as in summary.json.
 * The push is encoded (prom_encode.h) here and sent by a thread of its own (prom_send.h). */
#ifndef TIDE_PROM_STREAM_H
#define TIDE_PROM_STREAM_H
#include <stdbool.h>
#include <stdint.h>
#include "err.h"
#include "metrics.h"

/* Time series in one push, at most: past it the rest of that second is left out. */
#define TIDE_PROM_SERIES_CAP 1000

struct tide_prom_stream; /* opaque */

/* Starts pushing to 'url' (checked with tide_prom_check_url). NULL with a message. */
struct tide_prom_stream *tide_prom_stream_open(const char *url, struct tide_err *err);
/* The run id, a label of every series: set once the run folder exists, before the first
 * second. */
void tide_prom_stream_set_run_id(struct tide_prom_stream *p, const char *run_id);
/* Builds and queues the push of one second (see above). */
void tide_prom_stream_second(struct tide_prom_stream *p, const struct tide_registry *reg,
                             int64_t wall_us, bool warmup);
/* Sends what is queued (bounded wait, TIDE_PROM_FLUSH_MS), warns about pushes that did not
 * arrive, frees. Returns the number of pushes not delivered. NULL is fine. */
long tide_prom_stream_close(struct tide_prom_stream *p);

#endif
