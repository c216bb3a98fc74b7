/* regjson.c: registries to JSON and back (see regjson.h). */
#include <string.h>
#include "regjson.h"
#include "summary.h"

static const char *const contains_names[] = {"default", "time", "data"};

cJSON *tide_registry_to_json(const struct tide_registry *r)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < tide_registry_size(r); i++) {
        const struct tide_series *s = tide_registry_at(r, i);
        const struct tide_agg *a = &s->agg;
        if (a->count == 0)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "metric", tide_metric_name(s->metric));
        cJSON_AddStringToObject(o, "type", tide_metric_type_name(a->type));
        cJSON_AddStringToObject(o, "contains", contains_names[tide_metric_contains(s->metric)]);
        cJSON_AddItemToObject(o, "tags", tide_summary_tags_json(s->tags));
        cJSON_AddNumberToObject(o, "count", (double)a->count);
        cJSON_AddNumberToObject(o, "sum", a->sum);
        cJSON_AddNumberToObject(o, "min", a->min);
        cJSON_AddNumberToObject(o, "max", a->max);
        cJSON_AddNumberToObject(o, "nonzero", (double)a->nonzero);
        cJSON_AddNumberToObject(o, "last", a->last);
        if (a->hdr != NULL)
            cJSON_AddItemToObject(o, "histogram", tide_hdr_to_json(a->hdr));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static int parse_type(const char *name, enum tide_metric_type *t)
{
    static const enum tide_metric_type all[] = {TIDE_COUNTER, TIDE_GAUGE, TIDE_RATE, TIDE_TREND};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, tide_metric_type_name(all[i])) == 0) {
            *t = all[i];
            return 0;
        }
    }
    return -1;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* One series into dst. */
static int series_from_json(struct tide_registry *dst, const cJSON *o, bool (*skip)(int),
                            struct tide_err *err)
{
    const cJSON *m = cJSON_GetObjectItem(o, "metric"), *ty = cJSON_GetObjectItem(o, "type");
    const cJSON *co = cJSON_GetObjectItem(o, "contains"), *tg = cJSON_GetObjectItem(o, "tags");
    enum tide_metric_type type;
    if (!cJSON_IsString(m) || !cJSON_IsString(ty) || parse_type(ty->valuestring, &type) != 0 ||
        (tg != NULL && !cJSON_IsObject(tg)))
        return tide_err_set(err, "a series without metric, type or tags");
    enum tide_contains contains = TIDE_CONTAINS_DEFAULT;
    for (int i = 0; cJSON_IsString(co) && i < 3; i++) {
        if (strcmp(co->valuestring, contains_names[i]) == 0)
            contains = (enum tide_contains)i;
    }
    int id = tide_metric_lookup(m->valuestring);
    if (id < 0)
        id = tide_metric_register(m->valuestring, type, contains, err);
    if (id < 0)
        return -1;
    if (tide_metric_type_of(id) != type)
        return tide_err_set(err, "metric %s is a %s here, a %s in the file", m->valuestring,
                            tide_metric_type_name(tide_metric_type_of(id)), ty->valuestring);
    if (skip != NULL && skip(id))
        return 0;
    struct tide_tags t = {0};
    const cJSON *kv;
    cJSON_ArrayForEach(kv, tg)
    {
        if (cJSON_IsString(kv))
            tide_tags_set(&t, kv->string, kv->valuestring);
    }
    char canon[2048];
    tide_tags_canon(&t, canon, sizeof canon);
    struct tide_agg a;
    tide_agg_init(&a, type);
    double count = num(o, "count"), nonzero = num(o, "nonzero");
    if (!(count >= 0) || !(nonzero >= 0) || nonzero > count)
        return tide_err_set(err, "series %s: bad counts", m->valuestring);
    a.count = (uint64_t)count;
    a.nonzero = (uint64_t)nonzero;
    a.sum = num(o, "sum");
    a.min = num(o, "min");
    a.max = num(o, "max");
    a.last = num(o, "last");
    const cJSON *h = cJSON_GetObjectItem(o, "histogram");
    if (type == TIDE_TREND && h != NULL) {
        a.hdr = tide_hdr_from_json(h, err);
        if (a.hdr == NULL)
            return -1;
    }
    int rc = tide_registry_merge_agg(dst, id, canon, &a);
    tide_agg_fini(&a);
    return rc == 0 ? 0 : tide_err_set(err, "out of memory");
}

int tide_registry_from_json(struct tide_registry *dst, const cJSON *j, bool (*skip)(int metric),
                            struct tide_err *err)
{
    if (!cJSON_IsArray(j))
        return tide_err_set(err, "expected a list of series");
    const cJSON *o;
    cJSON_ArrayForEach(o, j)
    {
        if (!cJSON_IsObject(o))
            return tide_err_set(err, "a series is not an object");
        if (series_from_json(dst, o, skip, err) != 0)
            return -1;
    }
    return 0;
}
