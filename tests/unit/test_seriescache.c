/* test_seriescache.c: the shape -> series memo records exactly what the registry records
 * without it (tags that differ, evictions, the series cap, resets and swapped registries),
 * and stays within its bound. */
#include <stdio.h>
#include <string.h>
#include "../check.h"
#include "metrics.h"
#include "seriescache.h"

/* The same samples in 'a' and 'b': same series (metric, tags), counts and sums. */
static bool same_registries(const struct tide_registry *a, const struct tide_registry *b)
{
    size_t na = 0, nb = 0;
    for (size_t i = 0; i < tide_registry_size(b); i++)
        nb += tide_registry_at(b, i)->agg.count > 0;
    for (size_t i = 0; i < tide_registry_size(a); i++) {
        const struct tide_series *s = tide_registry_at(a, i);
        if (s->agg.count == 0)
            continue;
        na++;
        bool found = false;
        for (size_t j = 0; j < tide_registry_size(b) && !found; j++) {
            const struct tide_series *t = tide_registry_at(b, j);
            if (t->metric == s->metric && strcmp(t->tags, s->tags) == 0) {
                found = true;
                if (t->agg.count != s->agg.count || t->agg.sum != s->agg.sum) {
                    fprintf(stderr, "series %d %s: %llu/%g vs %llu/%g\n", s->metric, s->tags,
                            (unsigned long long)s->agg.count, s->agg.sum,
                            (unsigned long long)t->agg.count, t->agg.sum);
                    return false;
                }
            }
        }
        if (!found) {
            fprintf(stderr, "series %d %s missing\n", s->metric, s->tags);
            return false;
        }
    }
    return na == nb;
}

/* A request with tags 'tags' recorded under the key 'key': through the cache into 'cached',
 * and by tag string into 'direct'. */
static void record_both(struct tide_series_cache *c, struct tide_registry *cached,
                        struct tide_registry *direct, const char *key, const char *tags,
                        double value)
{
    size_t n = strlen(key);
    uint64_t h = tide_series_cache_hash(key, n);
    struct tide_shape *sh = tide_series_cache_get(c, key, n, h);
    if (sh == NULL)
        sh = tide_series_cache_put(c, key, n, h, tags);
    CHECK(sh != NULL);
    if (sh == NULL)
        return;
    CHECK_STR(sh->tags, tags);
    static const int metrics[] = {TIDE_M_HTTP_REQS, TIDE_M_HTTP_REQ_DURATION,
                                  TIDE_M_HTTP_REQ_FAILED, TIDE_M_DATA_RECEIVED};
    for (size_t i = 0; i < sizeof metrics / sizeof *metrics; i++) {
        tide_shape_add(sh, cached, metrics[i], value);
        tide_registry_add(direct, metrics[i], tags, value);
    }
}

static void test_get_put(void)
{
    struct tide_series_cache *c = tide_series_cache_new();
    uint64_t h = tide_series_cache_hash("GET\0/a", 6);
    CHECK(tide_series_cache_get(c, "GET\0/a", 6, h) == NULL);
    CHECK(tide_series_cache_put(c, "GET\0/a", 6, h, "method\x1fGET") != NULL);
    struct tide_shape *s = tide_series_cache_get(c, "GET\0/a", 6, h);
    CHECK(s != NULL && strcmp(s->tags, "method\x1fGET") == 0);
    /* same hash, other bytes (a forged collision): not the entry */
    CHECK(tide_series_cache_get(c, "GET\0/b", 6, h) == NULL);
    CHECK(tide_series_cache_count(c) == 1);
    CHECK(tide_series_cache_hits(c) == 1 && tide_series_cache_misses(c) == 2);
    tide_series_cache_free(c);
}

/* Shapes that differ only in their tags (or status) go to different series. */
static void test_tags_differ(void)
{
    struct tide_series_cache *c = tide_series_cache_new();
    struct tide_registry *cached = tide_registry_new(), *direct = tide_registry_new();
    for (int i = 0; i < 50; i++) {
        record_both(c, cached, direct, "GET /x status=200 tag=a",
                    "method\x1fGET\x1ename\x1f/x\x1estatus\x1f"
                    "200\x1etag\x1f"
                    "a",
                    i);
        record_both(c, cached, direct, "GET /x status=200 tag=b",
                    "method\x1fGET\x1ename\x1f/x\x1estatus\x1f"
                    "200\x1etag\x1f"
                    "b",
                    2 * i);
        record_both(c, cached, direct, "GET /x status=500 tag=a",
                    "method\x1fGET\x1ename\x1f/x\x1estatus\x1f"
                    "500\x1etag\x1f"
                    "a",
                    3);
    }
    CHECK(same_registries(cached, direct));
    CHECK(same_registries(direct, cached));
    CHECK(tide_registry_size(cached) == 12); /* 3 tag sets x 4 metrics */
    tide_registry_free(cached);
    tide_registry_free(direct);
    tide_series_cache_free(c);
}

/* A reset that drops idle series moves the others: remembered indices must not be used. */
static void test_reset_and_swap(void)
{
    struct tide_series_cache *c = tide_series_cache_new();
    struct tide_registry *cached = tide_registry_new(), *direct = tide_registry_new();
    uint64_t e0 = tide_registry_epoch(cached);
    tide_registry_add(cached, TIDE_M_HTTP_REQS, "idle", 1); /* first series: index 0 */
    tide_registry_add(direct, TIDE_M_HTTP_REQS, "idle", 1);
    record_both(c, cached, direct, "k", "name\x1fk", 1);
    tide_registry_reset(cached);
    tide_registry_reset(direct);
    CHECK(tide_registry_epoch(cached) != e0);
    record_both(c, cached, direct, "k", "name\x1fk", 2);
    tide_registry_reset(cached); /* "idle" had no sample: dropped, "k" moves down */
    tide_registry_reset(direct);
    record_both(c, cached, direct, "k", "name\x1fk", 4);
    CHECK(same_registries(cached, direct));
    CHECK(same_registries(direct, cached));
    /* another registry (the next interval's, after a swap) */
    struct tide_registry *next = tide_registry_new(), *next_direct = tide_registry_new();
    tide_registry_add(next, TIDE_M_CHECKS, "other", 1);
    tide_registry_add(next_direct, TIDE_M_CHECKS, "other", 1);
    record_both(c, next, next_direct, "k", "name\x1fk", 8);
    CHECK(same_registries(next, next_direct));
    CHECK(same_registries(next_direct, next));
    CHECK(same_registries(cached, direct)); /* untouched by the swap */
    tide_registry_free(next);
    tide_registry_free(next_direct);
    tide_registry_free(cached);
    tide_registry_free(direct);
    tide_series_cache_free(c);
}

/* More shapes than slots: the cache stays within its bound, evicted shapes are made again,
 * and the samples are the same as without the cache. */
static void test_bound_and_eviction(void)
{
    struct tide_series_cache *c = tide_series_cache_new();
    struct tide_registry *cached = tide_registry_new(), *direct = tide_registry_new();
    char key[64], tags[64];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 4 * TIDE_SERIES_CACHE_SLOTS; i++) {
            snprintf(key, sizeof key, "GET /i/%d", i % 200); /* under the series cap */
            snprintf(tags, sizeof tags, "name\x1f/i/%d", i % 200);
            record_both(c, cached, direct, key, tags, i);
            CHECK(tide_series_cache_count(c) <= TIDE_SERIES_CACHE_SLOTS);
        }
    }
    size_t held = tide_series_cache_count(c);
    CHECK(held > 0 && held <= 200);
    int evicted = 0;
    for (int i = 0; i < 2 * TIDE_SERIES_CACHE_SLOTS; i++) {
        snprintf(key, sizeof key, "GET /e/%d", i);
        snprintf(tags, sizeof tags, "name\x1f/e/%d", i);
        tide_series_cache_put(c, key, strlen(key), tide_series_cache_hash(key, strlen(key)), tags);
    }
    CHECK(tide_series_cache_count(c) <= TIDE_SERIES_CACHE_SLOTS);
    for (int i = 0; i < 2 * TIDE_SERIES_CACHE_SLOTS; i++) {
        snprintf(key, sizeof key, "GET /e/%d", i);
        struct tide_shape *s =
            tide_series_cache_get(c, key, strlen(key), tide_series_cache_hash(key, strlen(key)));
        snprintf(tags, sizeof tags, "name\x1f/e/%d", i);
        if (s == NULL)
            evicted++;
        else
            CHECK_STR(s->tags, tags); /* a hit is always the right shape */
    }
    CHECK(evicted >= TIDE_SERIES_CACHE_SLOTS); /* 512 keys in 256 slots */
    CHECK(same_registries(cached, direct));
    CHECK(same_registries(direct, cached));
    tide_registry_free(cached);
    tide_registry_free(direct);
    tide_series_cache_free(c);
}

/* Past TIDE_SERIES_CAP tag sets per metric the registry folds samples into "(other)"
 * series; through the cache it must fold exactly the same, and never remember a fold. */
static void test_series_cap(void)
{
    struct tide_series_cache *c = tide_series_cache_new();
    struct tide_registry *cached = tide_registry_new(), *direct = tide_registry_new();
    char key[64], tags[64];
    int n = TIDE_SERIES_CAP + 100; /* past the cap and its slack */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < n; i++) {
            snprintf(key, sizeof key, "GET %d", i);
            snprintf(tags, sizeof tags, "method\x1fGET\x1ename\x1f/u/%d", i);
            record_both(c, cached, direct, key, tags, 1);
        }
    }
    CHECK(same_registries(cached, direct));
    CHECK(same_registries(direct, cached));
    int own = 0, folds = 0; /* the first CAP tag sets have their own series, later fold */
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "GET %d", i);
        struct tide_shape *s =
            tide_series_cache_get(c, key, strlen(key), tide_series_cache_hash(key, strlen(key)));
        if (s == NULL)
            continue; /* evicted */
        if (i < TIDE_SERIES_CAP) {
            own++;
            CHECK(s->idx[TIDE_M_HTTP_REQS] > 0);
        } else {
            folds++;
            CHECK(s->idx[TIDE_M_HTTP_REQS] == 0);
        }
    }
    CHECK(own > 0 && folds > 0);
    tide_registry_free(cached);
    tide_registry_free(direct);
    tide_series_cache_free(c);
}

int main(void)
{
    test_get_put();
    test_tags_differ();
    test_reset_and_swap();
    test_bound_and_eviction();
    test_series_cap();
    return CHECK_DONE();
}
