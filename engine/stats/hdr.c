/* hdr.c: the log-linear histogram behind hdr.h.
 *
 * Layout: 3 significant digits need 2048 sub-buckets per power of two. Bucket 0 holds the
 * values 0..2047 exactly (width 1). Bucket k >= 1 holds 1024 << k .. (2048 << k) - 1 in 1024
 * slots of width 1 << k, so each slot spans less than 1/1024 of its value. Bucket 21 reaches
 * 2^32 - 1 > TIDE_HDR_MAX. Counts are allocated on first use in chunks of 128 slots (1 KB):
 * latencies cluster, so a histogram holds a few chunks, not whole 8-16 KB buckets. That keeps
 * a run with hundreds of series per metric (one per endpoint and status, times every
 * per-second registry in flight) within memory. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hdr.h"

#define SUB_COUNT  2048 /* slots of bucket 0 */
#define SUB_HALF   1024 /* slots of every other bucket */
#define SUB_BITS   11   /* log2(SUB_COUNT) */
#define NBUCKETS   22
#define CHUNK_BITS 7
#define CHUNK      (1 << CHUNK_BITS) /* slots allocated together */

struct tide_hdr {
    uint64_t **chunks[NBUCKETS]; /* per bucket, its chunks of counts; NULL until used */
    uint64_t count;
    uint64_t sum; /* exact, of recorded (clamped) values */
    int64_t min, max;
};

/* Where a value lands: bucket 'b', slot 's' within that bucket's array. */
struct pos {
    int b;
    int s;
};

static struct pos locate(int64_t v)
{
    struct pos p = {0, (int)v};
    if (v < SUB_COUNT)
        return p;
    int msb = 63 - __builtin_clzll((unsigned long long)v);
    p.b = msb - (SUB_BITS - 1);
    p.s = (int)(v >> p.b) - SUB_HALF;
    return p;
}

static int64_t slot_lowest(int b, int s)
{
    if (b == 0)
        return s;
    return (int64_t)(s + SUB_HALF) << b;
}

static int64_t slot_width(int b)
{
    return (int64_t)1 << b;
}

static int slots_in(int b)
{
    return b == 0 ? SUB_COUNT : SUB_HALF;
}

static int64_t clamp_value(int64_t v)
{
    if (v < 0)
        return 0;
    if (v > TIDE_HDR_MAX)
        return TIDE_HDR_MAX;
    return v;
}

static int chunks_in(int b)
{
    return slots_in(b) >> CHUNK_BITS;
}

/* The chunk of counts holding slot 's' of bucket 'b', allocated on demand; NULL when out of
 * memory. Index it with s & (CHUNK - 1). */
static uint64_t *chunk_for(struct tide_hdr *h, int b, int s)
{
    if (h->chunks[b] == NULL) {
        h->chunks[b] = calloc((size_t)chunks_in(b), sizeof(uint64_t *));
        if (h->chunks[b] == NULL)
            return NULL;
    }
    uint64_t **c = &h->chunks[b][s >> CHUNK_BITS];
    if (*c == NULL)
        *c = calloc(CHUNK, sizeof(uint64_t));
    return *c;
}

/* Chunk 'c' of bucket 'b', or NULL when nothing was ever recorded there. */
static const uint64_t *chunk_at(const struct tide_hdr *h, int b, int c)
{
    return h->chunks[b] != NULL ? h->chunks[b][c] : NULL;
}

struct tide_hdr *tide_hdr_new(void)
{
    return calloc(1, sizeof(struct tide_hdr));
}

void tide_hdr_free(struct tide_hdr *h)
{
    if (h == NULL)
        return;
    for (int b = 0; b < NBUCKETS; b++) {
        for (int c = 0; h->chunks[b] != NULL && c < chunks_in(b); c++)
            free(h->chunks[b][c]);
        free(h->chunks[b]);
    }
    free(h);
}

/* Keeps the arrays already allocated: a recycled interval histogram does not allocate again. */
void tide_hdr_reset(struct tide_hdr *h)
{
    for (int b = 0; b < NBUCKETS; b++) {
        for (int c = 0; h->chunks[b] != NULL && c < chunks_in(b); c++) {
            if (h->chunks[b][c] != NULL)
                memset(h->chunks[b][c], 0, CHUNK * sizeof(uint64_t));
        }
    }
    h->count = 0;
    h->sum = 0;
    h->min = 0;
    h->max = 0;
}

static void note_extremes(struct tide_hdr *h, int64_t lo, int64_t hi)
{
    if (h->count == 0 || lo < h->min)
        h->min = lo;
    if (h->count == 0 || hi > h->max)
        h->max = hi;
}

/* Out of memory: the sample is dropped, so counts and percentiles stay consistent. */
void tide_hdr_record_n(struct tide_hdr *h, int64_t v, uint64_t n)
{
    if (n == 0)
        return;
    v = clamp_value(v);
    struct pos p = locate(v);
    uint64_t *c = chunk_for(h, p.b, p.s);
    if (c == NULL)
        return;
    c[p.s & (CHUNK - 1)] += n;
    note_extremes(h, v, v);
    h->count += n;
    h->sum += (uint64_t)v * n;
}

void tide_hdr_record(struct tide_hdr *h, int64_t v)
{
    tide_hdr_record_n(h, v, 1);
}

int tide_hdr_merge(struct tide_hdr *dst, const struct tide_hdr *src)
{
    if (src->count == 0)
        return 0;
    for (int b = 0; b < NBUCKETS; b++) {
        for (int c = 0; c < chunks_in(b); c++) {
            if (chunk_at(src, b, c) != NULL && chunk_for(dst, b, c << CHUNK_BITS) == NULL)
                return -1; /* nothing added yet: allocation comes before any addition */
        }
    }
    for (int b = 0; b < NBUCKETS; b++) {
        for (int c = 0; c < chunks_in(b); c++) {
            const uint64_t *from = chunk_at(src, b, c);
            if (from == NULL)
                continue;
            uint64_t *to = dst->chunks[b][c];
            for (int i = 0; i < CHUNK; i++)
                to[i] += from[i];
        }
    }
    note_extremes(dst, src->min, src->max);
    dst->count += src->count;
    dst->sum += src->sum;
    return 0;
}

uint64_t tide_hdr_count(const struct tide_hdr *h)
{
    return h->count;
}

int64_t tide_hdr_min(const struct tide_hdr *h)
{
    return h->min;
}

int64_t tide_hdr_max(const struct tide_hdr *h)
{
    return h->max;
}

double tide_hdr_mean(const struct tide_hdr *h)
{
    if (h->count == 0)
        return 0;
    return (double)h->sum / (double)h->count;
}

/* ceil(p/100 * count), forgiving the rounding of p/100: 99.9% of 1000 is rank 999, not 1000. */
static uint64_t rank_of(double p, uint64_t count)
{
    double x = p / 100.0 * (double)count;
    double lo = floor(x);
    double r = (x - lo <= x * 1e-12) ? lo : ceil(x);
    if (r < 1)
        return 1;
    if (r > (double)count)
        return count;
    return (uint64_t)r;
}

/* The midpoint of a slot is within half a slot, i.e. 1/2048, of any value in it. */
static int64_t slot_value(const struct tide_hdr *h, int b, int s)
{
    int64_t v = slot_lowest(b, s) + slot_width(b) / 2;
    if (v < h->min)
        return h->min;
    if (v > h->max)
        return h->max;
    return v;
}

int64_t tide_hdr_percentile(const struct tide_hdr *h, double p)
{
    if (h->count == 0)
        return 0;
    if (!(p > 0))
        return h->min;
    uint64_t rank = rank_of(p > 100 ? 100 : p, h->count);
    if (rank == 1)
        return h->min;
    if (rank == h->count)
        return h->max;
    uint64_t seen = 0;
    for (int b = 0; b < NBUCKETS; b++) {
        for (int c = 0; c < chunks_in(b); c++) {
            const uint64_t *k = chunk_at(h, b, c);
            for (int i = 0; k != NULL && i < CHUNK; i++) {
                seen += k[i];
                if (seen >= rank)
                    return slot_value(h, b, (c << CHUNK_BITS) + i);
            }
        }
    }
    return h->max;
}

size_t tide_hdr_memory(const struct tide_hdr *h)
{
    size_t n = sizeof *h;
    for (int b = 0; b < NBUCKETS; b++) {
        if (h->chunks[b] == NULL)
            continue;
        n += (size_t)chunks_in(b) * sizeof(uint64_t *);
        for (int c = 0; c < chunks_in(b); c++)
            n += chunk_at(h, b, c) != NULL ? CHUNK * sizeof(uint64_t) : 0;
    }
    return n;
}

/* Serialization. Each non-empty slot is written as [lowest value of the slot, count]: reading
 * it back lands in the same slot, so counts, percentiles and merges are exact. "sum" keeps the
 * mean exact across a round trip; when absent it is estimated from slot midpoints. */

static cJSON *pair(int64_t v, uint64_t n)
{
    cJSON *a = cJSON_CreateArray();
    if (a == NULL)
        return NULL;
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v));
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)n));
    if (cJSON_GetArraySize(a) != 2) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

static int add_buckets(cJSON *arr, const struct tide_hdr *h)
{
    for (int b = 0; b < NBUCKETS; b++) {
        for (int c = 0; c < chunks_in(b); c++) {
            const uint64_t *k = chunk_at(h, b, c);
            for (int i = 0; k != NULL && i < CHUNK; i++) {
                if (k[i] == 0)
                    continue;
                cJSON *p = pair(slot_lowest(b, (c << CHUNK_BITS) + i), k[i]);
                if (p == NULL)
                    return -1;
                cJSON_AddItemToArray(arr, p);
            }
        }
    }
    return 0;
}

cJSON *tide_hdr_to_json(const struct tide_hdr *h)
{
    cJSON *j = cJSON_CreateObject();
    if (j == NULL)
        return NULL;
    cJSON_AddNumberToObject(j, "digits", 3);
    cJSON_AddStringToObject(j, "unit", "us");
    cJSON_AddNumberToObject(j, "min", (double)h->min);
    cJSON_AddNumberToObject(j, "max", (double)h->max);
    cJSON_AddNumberToObject(j, "sum", (double)h->sum);
    cJSON *arr = cJSON_AddArrayToObject(j, "buckets");
    if (arr == NULL || cJSON_GetArraySize(j) != 6 || add_buckets(arr, h) != 0) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* A JSON number that is an integer in [lo, hi]. */
static bool json_int(const cJSON *n, double lo, double hi, int64_t *out)
{
    if (!cJSON_IsNumber(n))
        return false;
    double d = n->valuedouble;
    if (!(d >= lo && d <= hi) || d != floor(d))
        return false;
    *out = (int64_t)d;
    return true;
}

static int read_header(const cJSON *j, struct tide_hdr *h, struct tide_err *err)
{
    if (!cJSON_IsObject(j))
        return tide_err_set(err, "histogram: expected an object");
    const cJSON *digits = cJSON_GetObjectItemCaseSensitive(j, "digits");
    int64_t d;
    if (digits != NULL && !json_int(digits, 3, 3, &d))
        return tide_err_set(err, "histogram: \"digits\" must be 3");
    const cJSON *unit = cJSON_GetObjectItemCaseSensitive(j, "unit");
    if (unit != NULL && (!cJSON_IsString(unit) || strcmp(unit->valuestring, "us") != 0))
        return tide_err_set(err, "histogram: \"unit\" must be \"us\"");
    if (!json_int(cJSON_GetObjectItemCaseSensitive(j, "min"), 0, (double)TIDE_HDR_MAX, &h->min))
        return tide_err_set(err, "histogram: \"min\" must be an integer in 0..%lld",
                            (long long)TIDE_HDR_MAX);
    if (!json_int(cJSON_GetObjectItemCaseSensitive(j, "max"), 0, (double)TIDE_HDR_MAX, &h->max))
        return tide_err_set(err, "histogram: \"max\" must be an integer in 0..%lld",
                            (long long)TIDE_HDR_MAX);
    if (h->min > h->max)
        return tide_err_set(err, "histogram: \"min\" %lld is above \"max\" %lld", (long long)h->min,
                            (long long)h->max);
    return 0;
}

/* One [value, count] entry; 'last' is the flat index of the previous slot, for the order. */
static int read_bucket(const cJSON *e, int i, struct tide_hdr *h, int *last, struct tide_err *err)
{
    int64_t v, n;
    if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2)
        return tide_err_set(err, "histogram: buckets[%d]: expected [value, count]", i);
    if (!json_int(e->child, 0, (double)TIDE_HDR_MAX, &v))
        return tide_err_set(err, "histogram: buckets[%d]: value must be an integer in 0..%lld", i,
                            (long long)TIDE_HDR_MAX);
    if (!json_int(e->child->next, 1, 9007199254740992.0, &n))
        return tide_err_set(err, "histogram: buckets[%d]: count must be a positive integer", i);
    struct pos p = locate(v);
    int flat = p.b == 0 ? p.s : SUB_COUNT + (p.b - 1) * SUB_HALF + p.s;
    if (flat <= *last)
        return tide_err_set(err, "histogram: buckets[%d]: values must be ascending, one per slot",
                            i);
    *last = flat;
    uint64_t *c = chunk_for(h, p.b, p.s);
    if (c == NULL)
        return tide_err_set(err, "histogram: out of memory");
    c[p.s & (CHUNK - 1)] = (uint64_t)n;
    h->count += (uint64_t)n;
    h->sum += (uint64_t)(slot_lowest(p.b, p.s) + slot_width(p.b) / 2) * (uint64_t)n;
    return 0;
}

/* min and max must fall in the first and last non-empty slots, or percentiles would lie. */
static int check_extremes(const struct tide_hdr *h, const cJSON *first, const cJSON *last,
                          struct tide_err *err)
{
    if (h->count == 0)
        return 0;
    struct pos lo = locate(h->min), flo = locate((int64_t)first->child->valuedouble);
    struct pos hi = locate(h->max), fhi = locate((int64_t)last->child->valuedouble);
    if (lo.b != flo.b || lo.s != flo.s)
        return tide_err_set(err, "histogram: \"min\" %lld is not in the first bucket",
                            (long long)h->min);
    if (hi.b != fhi.b || hi.s != fhi.s)
        return tide_err_set(err, "histogram: \"max\" %lld is not in the last bucket",
                            (long long)h->max);
    return 0;
}

static int read_histogram(const cJSON *j, struct tide_hdr *h, struct tide_err *err)
{
    if (read_header(j, h, err) != 0)
        return -1;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "buckets");
    if (!cJSON_IsArray(arr))
        return tide_err_set(err, "histogram: \"buckets\" must be an array of [value, count]");
    int i = 0, last = -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (read_bucket(e, i++, h, &last, err) != 0)
            return -1;
    }
    if (check_extremes(h, arr->child, cJSON_GetArrayItem(arr, i - 1), err) != 0)
        return -1;
    if (h->count == 0 && (h->min != 0 || h->max != 0))
        return tide_err_set(err, "histogram: no buckets but \"min\"/\"max\" are not 0");
    const cJSON *sum = cJSON_GetObjectItemCaseSensitive(j, "sum");
    if (sum == NULL)
        return 0;
    if (!cJSON_IsNumber(sum) || !(sum->valuedouble >= 0 && sum->valuedouble < 1.8e19))
        return tide_err_set(err, "histogram: \"sum\" must be a non-negative number");
    h->sum = (uint64_t)sum->valuedouble;
    return 0;
}

struct tide_hdr *tide_hdr_from_json(const cJSON *j, struct tide_err *err)
{
    struct tide_hdr *h = tide_hdr_new();
    if (h == NULL) {
        tide_err_set(err, "histogram: out of memory");
        return NULL;
    }
    if (read_histogram(j, h, err) != 0) {
        tide_hdr_free(h);
        return NULL;
    }
    return h;
}
