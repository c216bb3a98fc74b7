/* stream.h: '--stream json=FILE' (or json=- for stdout): the run's metrics as one JSON line
 * per series (metric and tag set) per second, close to k6's '--out json' lines but already
 * aggregated per second (docs/streams.md, schema in docs/stream-json.schema.json).
 *
 * Off the hot path: the coordinator calls tide_stream_second() from its per-second merge
 * (workers never see the stream); the lines are formatted there and handed to a writer
 * thread through a queue bounded in bytes, so a slow disk or a stalled pipe cannot grow
 * memory or hold up the merge: past the bound the oldest pending second is dropped and
 * counted (a warning at the end says how many points). Every line goes through
 * tide_redact_json. tide_stream_close() writes what is queued and flushes: the run calls it
 * when it ends, also after Ctrl-C. */
#ifndef TIDE_STREAM_H
#define TIDE_STREAM_H
#include <stdbool.h>
#include <stdint.h>
#include "err.h"
#include "metrics.h"

/* Bytes of formatted lines that may wait for the writer before the oldest second is dropped. */
#define TIDE_STREAM_QUEUE_BYTES (32u * 1024 * 1024)

/* Checks a --stream value without opening anything: 0, or -1 with a message (unknown kind,
 * missing target, a URL that is not http(s)). Kinds: "json=FILE", "json=-",
 * "prometheus=URL" (remote write, prom_stream.h: pushed by a sender thread of its own). */
int tide_stream_check_spec(const char *spec, struct tide_err *err);

struct tide_stream; /* opaque */

/* Opens the output of 'spec' (truncating FILE) and starts its writer. NULL, with a message,
 * when the file cannot be created or without memory. */
struct tide_stream *tide_stream_open(const char *spec, struct tide_err *err);
/* True when the stream writes to standard output (json=-): tide's own stdout lines move off. */
bool tide_stream_uses_stdout(const char *spec);

/* Queues the lines of one second: every series of 'reg' with samples (internal tide_*
 * metrics left out), stamped 'wall_us' (the second's end); 'warmup' marks warm-up seconds,
 * which summary.json leaves out of its totals. */
void tide_stream_second(struct tide_stream *s, const struct tide_registry *reg, int64_t wall_us,
                        bool warmup);

/* The run id, once the run folder exists (prometheus=URL labels every series with it). */
void tide_stream_set_run_id(struct tide_stream *s, const char *run_id);

/* Writes everything queued, flushes, stops the writer, closes the file, frees. Returns the
 * number of points dropped (0 normally), or -1 when writing failed (logged). NULL is fine. */
long tide_stream_close(struct tide_stream *s);

#endif
