/* hdr.h: HDR-style log-linear latency histogram: 3 significant digits over 1 µs .. 1 h,
 * fixed precision, buckets allocated lazily, mergeable exactly across threads, intervals and
 * machines, serializable to JSON. Values are integers (µs for times). One owner thread each. */
#ifndef TIDE_HDR_H
#define TIDE_HDR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>
#include "err.h"

#define TIDE_HDR_MAX 3600000000LL /* 1 h in µs; larger values are clamped to it */

struct tide_hdr; /* opaque */

/* Lifecycle. NULL: no memory. */
struct tide_hdr *tide_hdr_new(void);
void tide_hdr_free(struct tide_hdr *h); /* NULL is fine */
void tide_hdr_reset(struct tide_hdr *h);

/* Recording: v < 0 is recorded as 0, v > TIDE_HDR_MAX as TIDE_HDR_MAX. */
void tide_hdr_record(struct tide_hdr *h, int64_t v);
void tide_hdr_record_n(struct tide_hdr *h, int64_t v, uint64_t n);
/* Adds every sample of 'src' to 'dst'. -1 only when out of memory. */
int tide_hdr_merge(struct tide_hdr *dst, const struct tide_hdr *src);

/* Queries. min/max are exact values seen; percentile p in [0, 100] is the value at rank
 * ceil(p/100 * count), within 0.1 % of the exact sample, clamped to [min, max]; 0 when empty. */
uint64_t tide_hdr_count(const struct tide_hdr *h);
int64_t tide_hdr_min(const struct tide_hdr *h);
int64_t tide_hdr_max(const struct tide_hdr *h);
double tide_hdr_mean(const struct tide_hdr *h);
int64_t tide_hdr_percentile(const struct tide_hdr *h, double p);
size_t tide_hdr_memory(const struct tide_hdr *h); /* bytes held, for self-health reports */

/* Serialization: {"digits":3,"unit":"us","min":m,"max":M,"sum":S,"buckets":[[value,count],...]}
 * with only non-empty buckets, ascending; value is the lowest value of its bucket. "sum" (exact
 * sum, for the mean) is optional on input. from_json: NULL with a message on bad input. */
cJSON *tide_hdr_to_json(const struct tide_hdr *h);
struct tide_hdr *tide_hdr_from_json(const cJSON *j, struct tide_err *err);

#endif
