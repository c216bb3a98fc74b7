/* seriescache.c: shape -> tag set and series indices, direct-mapped (see seriescache.h). */
#include <stdlib.h>
#include <string.h>
#include "seriescache.h"

struct tide_series_cache {
    struct tide_shape slot[TIDE_SERIES_CACHE_SLOTS];
    size_t used;
    uint64_t hits, misses;
};

struct tide_series_cache *tide_series_cache_new(void)
{
    return calloc(1, sizeof(struct tide_series_cache));
}

void tide_series_cache_free(struct tide_series_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < TIDE_SERIES_CACHE_SLOTS; i++) {
        free(c->slot[i].key);
        free(c->slot[i].tags);
    }
    free(c);
}

/* Eight bytes at a time (a multiply-xorshift mix per word): this runs three times per
 * request on keys of 40-80 bytes, where byte-wise FNV-1a cost ~170 instructions a call. */
uint64_t tide_series_cache_hash(const void *key, size_t n)
{
    const unsigned char *p = key;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 29;
    }
    if (n > 0) {
        uint64_t w = 0;
        memcpy(&w, p, n);
        h = (h ^ w) * 0x94d049bb133111ebULL;
        h ^= h >> 29;
    }
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 32);
}

static struct tide_shape *slot_of(struct tide_series_cache *c, uint64_t keyhash)
{
    return &c->slot[keyhash & (TIDE_SERIES_CACHE_SLOTS - 1)];
}

struct tide_shape *tide_series_cache_get(struct tide_series_cache *c, const void *key, size_t n,
                                         uint64_t keyhash)
{
    struct tide_shape *s = slot_of(c, keyhash);
    if (s->key != NULL && s->keyhash == keyhash && s->keylen == n && memcmp(s->key, key, n) == 0) {
        c->hits++;
        return s;
    }
    c->misses++;
    return NULL;
}

/* Makes *buf hold at least 'need' bytes; keeps what it had when it is big enough. */
static int reserve(char **buf, size_t *cap, size_t need)
{
    if (*buf != NULL && *cap >= need)
        return 0;
    char *grown = realloc(*buf, need);
    if (grown == NULL)
        return -1;
    *buf = grown;
    *cap = need;
    return 0;
}

static void forget(struct tide_series_cache *c, struct tide_shape *s)
{
    if (s->key == NULL)
        return;
    free(s->key); /* the buffers go too: a free slot holds nothing */
    free(s->tags);
    memset(s, 0, sizeof *s);
    c->used--;
}

struct tide_shape *tide_series_cache_put(struct tide_series_cache *c, const void *key, size_t n,
                                         uint64_t keyhash, const char *tags)
{
    struct tide_shape *s = slot_of(c, keyhash);
    bool was_used = s->key != NULL;
    size_t tl = strlen(tags) + 1;
    if (reserve(&s->key, &s->keycap, n > 0 ? n : 1) != 0 ||
        reserve(&s->tags, &s->tagscap, tl) != 0) {
        if (!was_used)
            c->used++; /* one of the buffers may be there: forget() frees both */
        forget(c, s);
        return NULL;
    }
    if (!was_used)
        c->used++;
    memcpy(s->key, key, n);
    s->keylen = n;
    s->keyhash = keyhash;
    memcpy(s->tags, tags, tl);
    s->taghash = tide_tags_hash(tags);
    s->epoch = 0; /* no registry has epoch 0: every index is looked up again */
    memset(s->idx, 0, sizeof s->idx);
    return s;
}

void tide_shape_add(struct tide_shape *s, struct tide_registry *reg, int metric, double value)
{
    if (metric < 0 || metric >= TIDE_M_BUILTIN_COUNT) {
        tide_registry_add_h(reg, metric, s->tags, s->taghash, value);
        return;
    }
    uint64_t epoch = tide_registry_epoch(reg);
    if (s->epoch != epoch) { /* another interval's registry, or reset since */
        memset(s->idx, 0, sizeof s->idx);
        s->epoch = epoch;
    }
    if (s->idx[metric] > 0) {
        tide_registry_add_at(reg, (size_t)(s->idx[metric] - 1), value);
        return;
    }
    bool folded;
    long i = tide_registry_index(reg, metric, s->tags, s->taghash, &folded);
    if (i < 0)
        return; /* out of memory: the sample is lost, as with tide_registry_add */
    if (!folded && i < INT32_MAX)
        s->idx[metric] = (int32_t)(i + 1);
    tide_registry_add_at(reg, (size_t)i, value);
}

size_t tide_series_cache_count(const struct tide_series_cache *c)
{
    return c->used;
}

uint64_t tide_series_cache_hits(const struct tide_series_cache *c)
{
    return c->hits;
}

uint64_t tide_series_cache_misses(const struct tide_series_cache *c)
{
    return c->misses;
}
