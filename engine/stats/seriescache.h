/* seriescache.h: a bounded memo from a request's shape to where its samples go. The shape is
 * whatever decides a request's tag set (method, name, status, its own tags, the VU's group and
 * scenario tags), given as the bytes of a key; an entry holds the canonical tag set built from
 * it and, per built-in metric, the index of its series in the registry being filled. A
 * request of a known shape then costs a hash of its key and one add per metric, instead of
 * building its tag set (parse, set, sort) and looking up a dozen series by the whole tag
 * string.
 *
 * One per worker thread (not thread-safe). Bounded: TIDE_SERIES_CACHE_SLOTS entries,
 * direct-mapped by the key's hash (a new shape evicts the entry in its slot), each keeping
 * its key and tags in buffers that only grow, so steady state allocates nothing. Indices are
 * checked against the registry's epoch (metrics.h) before use: a swapped or reset registry
 * gets them looked up again. A series that folded into an overflow series (TIDE_SERIES_CAP)
 * is never remembered, so the cap behaves sample by sample exactly as without the cache. */
#ifndef TIDE_SERIESCACHE_H
#define TIDE_SERIESCACHE_H
#include <stddef.h>
#include <stdint.h>
#include "metrics.h"

#define TIDE_SERIES_CACHE_SLOTS   256
#define TIDE_SERIES_CACHE_KEY_MAX 4096 /* longer keys are not cached (the caller's fallback) */

struct tide_shape {
    uint64_t keyhash;
    char *key; /* NULL: the slot is free */
    size_t keylen, keycap;
    char *tags; /* canonical */
    size_t tagscap;
    uint64_t taghash;
    uint64_t epoch;                    /* of the registry the indices below belong to */
    int32_t idx[TIDE_M_BUILTIN_COUNT]; /* series index + 1; 0: not looked up */
};

struct tide_series_cache; /* opaque */

struct tide_series_cache *tide_series_cache_new(void); /* NULL without memory */
void tide_series_cache_free(struct tide_series_cache *c);
uint64_t tide_series_cache_hash(const void *key, size_t n);
/* The entry of 'key' (n bytes, hash from tide_series_cache_hash), or NULL when it is not
 * cached (never seen, or evicted since). */
struct tide_shape *tide_series_cache_get(struct tide_series_cache *c, const void *key, size_t n,
                                         uint64_t keyhash);
/* Remembers key -> canonical 'tags' in the key's slot, evicting its entry; NULL without
 * memory (the slot is then free). */
struct tide_shape *tide_series_cache_put(struct tide_series_cache *c, const void *key, size_t n,
                                         uint64_t keyhash, const char *tags);
/* Records 'value' for the built-in 'metric' under the shape's tags, into 'reg'. */
void tide_shape_add(struct tide_shape *s, struct tide_registry *reg, int metric, double value);
/* Entries in use, and lookups that hit / missed since creation (tests, profiles). */
size_t tide_series_cache_count(const struct tide_series_cache *c);
uint64_t tide_series_cache_hits(const struct tide_series_cache *c);
uint64_t tide_series_cache_misses(const struct tide_series_cache *c);

#endif
