/* report_downsample.c: per-bucket min/max thinning of the history (report_downsample.h).
 * Min/max per bucket rather than an average or a pick (LTTB): a load test's story is often a
 * one-second spike or dip, and an average hides it; min/max keeps both extremes of every
 * measure, each in its own row, so every chart shows the true envelope. */
#include <stdbool.h>
#include <string.h>
#include "report_downsample.h"

/* Folds 'row' into 'acc' (same shape): numbers keep the minimum or maximum, objects are
 * folded key by key, keys 'acc' lacks are copied in. Other values keep acc's (the first). */
static bool fold(cJSON *acc, const cJSON *row, bool want_max)
{
    const cJSON *kid;
    cJSON_ArrayForEach(kid, row)
    {
        if (kid->string == NULL)
            continue;
        cJSON *have = cJSON_GetObjectItemCaseSensitive(acc, kid->string);
        if (have == NULL) {
            cJSON *copy = cJSON_Duplicate(kid, 1);
            if (copy == NULL || !cJSON_AddItemToObject(acc, kid->string, copy)) {
                cJSON_Delete(copy);
                return false;
            }
        } else if (cJSON_IsNumber(have) && cJSON_IsNumber(kid)) {
            bool better = want_max ? kid->valuedouble > have->valuedouble
                                   : kid->valuedouble < have->valuedouble;
            if (better)
                cJSON_SetNumberValue(have, kid->valuedouble);
        } else if (cJSON_IsObject(have) && cJSON_IsObject(kid)) {
            if (!fold(have, kid, want_max))
                return false;
        }
    }
    return true;
}

/* The min or max row of the 'count' rows from 'first' on; non-object rows are skipped. */
static cJSON *bucket_row(const cJSON *first, int count, bool want_max)
{
    cJSON *acc = NULL;
    const cJSON *last = NULL;
    const cJSON *row = first;
    for (int i = 0; i < count && row != NULL; i++, row = row->next) {
        if (!cJSON_IsObject(row))
            continue;
        last = row;
        if (acc == NULL) {
            if ((acc = cJSON_Duplicate(row, 1)) == NULL)
                return NULL;
        } else if (!fold(acc, row, want_max)) {
            cJSON_Delete(acc);
            return NULL;
        }
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(last, "time");
    if (acc != NULL && want_max && cJSON_IsString(t)) {
        cJSON *copy = cJSON_CreateString(t->valuestring);
        if (copy == NULL || !cJSON_ReplaceItemInObjectCaseSensitive(acc, "time", copy)) {
            cJSON_Delete(copy);
            cJSON_Delete(acc);
            return NULL;
        }
    }
    return acc;
}

cJSON *tide_history_downsample(const cJSON *history, int max_rows, int *bucket_rows)
{
    int n = cJSON_GetArraySize(history);
    if (!cJSON_IsArray(history) || max_rows < 2 || n <= max_rows)
        return NULL;
    int buckets = max_rows / 2;
    int per = (n + buckets - 1) / buckets; /* rows per bucket, the last may be shorter */
    if (bucket_rows != NULL)
        *bucket_rows = per;
    cJSON *out = cJSON_CreateArray();
    const cJSON *first = history->child;
    for (int from = 0; out != NULL && from < n; from += per) {
        int count = from + per < n ? per : n - from;
        cJSON *lo = bucket_row(first, count, false);
        cJSON *hi = bucket_row(first, count, true);
        if (lo != NULL && hi != NULL) {
            cJSON_AddItemToArray(out, lo);
            cJSON_AddItemToArray(out, hi);
        } else {
            bool empty = true; /* a bucket without object rows is left out */
            const cJSON *r = first;
            for (int i = 0; i < count && r != NULL; i++, r = r->next)
                empty = empty && !cJSON_IsObject(r);
            cJSON_Delete(lo);
            cJSON_Delete(hi);
            if (!empty) {
                cJSON_Delete(out);
                return NULL;
            }
        }
        for (int i = 0; i < count && first != NULL; i++)
            first = first->next;
    }
    return out;
}
