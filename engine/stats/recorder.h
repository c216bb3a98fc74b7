/* recorder.h: hands one thread's per-interval metrics to another without allocating in steady
 * state. The writer records into its active registry; at the end of each interval it swaps
 * it for a spare one and queues the filled one; the reader takes filled intervals in order,
 * merges them, and gives them back: reset (allocations kept) and kept as spares for the next
 * swaps. The lock belongs to the recorder and guards only its queue and spares. */
#ifndef TIDE_RECORDER_H
#define TIDE_RECORDER_H
#include <stdint.h>
#include "metrics.h"

struct tide_interval {
    int64_t index;             /* the writer's interval number (seconds since the start) */
    struct tide_registry *reg; /* its samples */
    struct tide_interval *next;
};

struct tide_recorder; /* opaque */

/* A recorder with its first active registry; NULL without memory. */
struct tide_recorder *tide_recorder_new(void);
/* Frees everything, queued intervals included: call once the writer has stopped and the
 * reader has drained what it wants. NULL is fine. */
void tide_recorder_free(struct tide_recorder *rec);

/* Writer side (one thread). active: the registry to record into now; it changes at each
 * swap. swap: closes the active registry as interval 'index' and makes a spare (or, when
 * none is free, a new one) active. 0, or -1 without memory: then the active registry is
 * kept and goes on accumulating, to be handed over at a later swap. */
struct tide_registry *tide_recorder_active(const struct tide_recorder *rec);
int tide_recorder_swap(struct tide_recorder *rec, int64_t index);

/* Reader side (one thread). take: the oldest filled interval, or NULL when none is queued.
 * recycle: gives a taken interval back once its registry has been read; it is reset here,
 * outside the lock, and reused by a later swap. */
struct tide_interval *tide_recorder_take(struct tide_recorder *rec);
void tide_recorder_recycle(struct tide_recorder *rec, struct tide_interval *iv);

#endif
