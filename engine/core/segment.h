/* segment.h: execution segments. `tide run --segment I/N` runs the I-th of N equal shares of
 * every scenario, so N processes on N machines together run exactly the test one process would
 * run (k6's execution segments are the model; only equal shares here). Every split is exact:
 * the N shares of a total (VUs, iterations, max_vus, queue) add up to the total and differ by
 * at most one, the first segments taking the remainder; open-model arrivals are interleaved:
 * segment I takes arrivals I-1, I-1+N, I-1+2N, ... of the whole schedule, so each segment
 * sees the whole test's rhythm at 1/N of its rate, and no arrival is lost or taken twice.
 * Times (durations, stages, start_time) are not split: every segment runs the whole schedule.
 * Indices are 0-based here; the command line's I is 1-based. */
#ifndef TIDE_SEGMENT_H
#define TIDE_SEGMENT_H
#include <stdint.h>
#include "err.h"

struct tide_segment {
    int index; /* 0-based, < count */
    int count; /* 1: the whole test */
};

/* The whole test. */
#define TIDE_SEGMENT_WHOLE ((struct tide_segment){0, 1})

/* Units of 'total' that segment 'seg' gets: total / N, plus one for the first total % N. */
int64_t tide_segment_share(struct tide_segment seg, int64_t total);
/* The whole test's index of the segment's j-th arrival (0-based): index + j * count. */
int64_t tide_segment_arrival(struct tide_segment seg, int64_t j);
/* How many of the whole test's arrivals 0 .. total-1 fall to the segment. */
int64_t tide_segment_arrivals_below(struct tide_segment seg, int64_t total);
/* A VU number unique across segments from the segment's own VU number (1-based): VU v of
 * segment I of N is (v - 1) * N + I; with one segment it is v. */
int64_t tide_segment_vu_id(struct tide_segment seg, int64_t local_id);
/* The rows [*first, *first + *n) of a list of 'len' rows that are the segment's contiguous
 * slice (an exact split, as tide_segment_share). */
void tide_segment_slice(struct tide_segment seg, int64_t len, int64_t *first, int64_t *n);

/* Parses "I/N" (1-based I, 1 <= I <= N <= 10000). */
int tide_segment_parse(const char *text, struct tide_segment *seg, struct tide_err *err);
/* The segment of a Kubernetes Indexed Job: JOB_COMPLETION_INDEX (0-based, as Kubernetes sets
 * it) and 'count'. */
int tide_segment_from_index(const char *index_text, int count, struct tide_segment *seg,
                            struct tide_err *err);

#endif
