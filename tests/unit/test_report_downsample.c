/* Unit tests of the chart history thinning (engine/report/report_downsample.h): short
 * histories are left alone, long ones fit the row budget, and every spike and dip of every
 * number (nested ones too) survives as a bucket minimum or maximum. */
#include <stdio.h>
#include "../check.h"
#include "report_downsample.h"

/* 'n' rows: rps 100 with one spike of 5000 at 'spike' and one dip to 3 at 'dip';
 * percentiles.95 = 20 with 900 at 'spike'; an endpoint that appears only in row 'late'. */
static cJSON *history(int n, int spike, int dip, int late)
{
    cJSON *h = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *r = cJSON_CreateObject();
        char t[40];
        snprintf(t, sizeof t, "2026-01-01T00:00:%05dZ", i);
        cJSON_AddStringToObject(r, "time", t);
        cJSON_AddNumberToObject(r, "elapsed_s", i);
        cJSON_AddNumberToObject(r, "rps", i == spike ? 5000 : i == dip ? 3 : 100);
        cJSON *p = cJSON_AddObjectToObject(r, "percentiles");
        cJSON_AddNumberToObject(p, "95", i == spike ? 900 : 20);
        if (i == late) {
            cJSON *e = cJSON_AddObjectToObject(cJSON_AddObjectToObject(r, "endpoints"), "GET /x");
            cJSON_AddNumberToObject(e, "reqs", 7);
        }
        cJSON_AddItemToArray(h, r);
    }
    return h;
}

static double extreme(const cJSON *rows, const char *obj, const char *key, int want_max)
{
    double best = want_max ? -1e300 : 1e300;
    const cJSON *r;
    cJSON_ArrayForEach(r, rows)
    {
        const cJSON *o = obj ? cJSON_GetObjectItemCaseSensitive(r, obj) : r;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        if (cJSON_IsNumber(v) && (want_max ? v->valuedouble > best : v->valuedouble < best))
            best = v->valuedouble;
    }
    return best;
}

static void test_short_history_is_kept(void)
{
    cJSON *h = history(1000, 5, 6, 7);
    int per = -1;
    CHECK(tide_history_downsample(h, 1000, &per) == NULL);
    CHECK(per == -1);
    cJSON_Delete(h);
}

static void test_eight_hours_fit_and_keep_extremes(void)
{
    int n = 28800;
    cJSON *h = history(n, 17001, 3, 20000);
    int per = 0;
    cJSON *thin = tide_history_downsample(h, TIDE_REPORT_CHART_ROWS, &per);
    CHECK(thin != NULL);
    if (thin == NULL) {
        cJSON_Delete(h);
        return;
    }
    int rows = cJSON_GetArraySize(thin);
    CHECK(rows == 2 * ((n + 57) / 58)); /* 497 buckets of 58 rows, the last one shorter */
    CHECK(rows <= TIDE_REPORT_CHART_ROWS);
    CHECK(rows % 2 == 0);
    CHECK(per == 58); /* ceil(28800 / 500) */
    CHECK(extreme(thin, NULL, "rps", 1) == 5000);
    CHECK(extreme(thin, NULL, "rps", 0) == 3);
    CHECK(extreme(thin, "percentiles", "95", 1) == 900);
    CHECK(extreme(thin, "percentiles", "95", 0) == 20);
    CHECK(extreme(thin, NULL, "elapsed_s", 0) == 0);
    CHECK(extreme(thin, NULL, "elapsed_s", 1) == n - 1);
    /* a key only some rows have is still there, in its bucket */
    int found = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, thin)
    {
        found += cJSON_GetObjectItemCaseSensitive(r, "endpoints") != NULL;
    }
    CHECK(found == 2);
    /* the min row has the bucket's first time, the max row its last; times stay ordered */
    CHECK_STR(cJSON_GetArrayItem(thin, 0)->child->valuestring, "2026-01-01T00:00:00000Z");
    CHECK_STR(cJSON_GetArrayItem(thin, 1)->child->valuestring, "2026-01-01T00:00:00057Z");
    CHECK_STR(cJSON_GetArrayItem(thin, rows - 1)->child->valuestring, "2026-01-01T00:00:28799Z");
    /* the input is not modified */
    CHECK(cJSON_GetArraySize(h) == n);
    CHECK(extreme(h, NULL, "rps", 1) == 5000);
    cJSON_Delete(thin);
    cJSON_Delete(h);
}

static void test_odd_input(void)
{
    CHECK(tide_history_downsample(NULL, 10, NULL) == NULL);
    cJSON *obj = cJSON_CreateObject();
    CHECK(tide_history_downsample(obj, 10, NULL) == NULL);
    cJSON_Delete(obj);
    /* rows that are not objects are skipped, not crashed on */
    cJSON *h = cJSON_CreateArray();
    for (int i = 0; i < 50; i++)
        cJSON_AddItemToArray(h, cJSON_CreateNumber(i));
    cJSON_AddItemToArray(h, cJSON_Parse("{\"rps\":4}"));
    cJSON *thin = tide_history_downsample(h, 10, NULL);
    CHECK(thin != NULL && cJSON_GetArraySize(thin) == 2);
    CHECK(extreme(thin, NULL, "rps", 1) == 4);
    cJSON_Delete(thin);
    cJSON_Delete(h);
}

int main(void)
{
    test_short_history_is_kept();
    test_eight_hours_fit_and_keep_extremes();
    test_odd_input();
    return CHECK_DONE();
}
