/* report_compare_facts.c: the warnings of 'tide compare' when two runs are not alike
 * (report_compare.h). A comparison is only as fair as its runs: another script, other load
 * options, another tide or another target makes a change in numbers say little about the code
 * under test, so the reader is told. Warnings never change the exit code. The tide version is
 * compared, not its git commit, which differs in every pull request by design; nor the
 * machine's name, which CI runners change every job. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "report_compare.h"
#include "report_util.h"

__attribute__((format(printf, 2, 3))) static void warn(struct tide_cmp *c, const char *fmt, ...)
{
    if (c->nwarnings == TIDE_CMP_MAX_WARNINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char *copy = strdup(line);
    if (copy != NULL)
        c->warnings[c->nwarnings++] = copy;
}

static const char *fact(const cJSON *summary, const char *obj, const char *key)
{
    return tide_rj_str(tide_rj_object(summary, obj), key, "");
}

/* Both known and different. */
static bool differ(const char *a, const char *b)
{
    return a[0] != '\0' && b[0] != '\0' && strcmp(a, b) != 0;
}

/* A short text of an option's value: numbers, booleans and short strings as they are, the
 * rest as "(changed)". */
static void option_text(char *out, size_t n, const cJSON *v)
{
    if (v == NULL)
        snprintf(out, n, "(unset)");
    else if (cJSON_IsNumber(v))
        tide_report_fmt_num(out, n, v->valuedouble);
    else if (cJSON_IsBool(v))
        snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsString(v) && strlen(v->valuestring) <= 40)
        snprintf(out, n, "%s", v->valuestring);
    else
        snprintf(out, n, "(changed)");
}

/* One option that differs: "threads 2 -> 4" or "scenarios". */
static void option_diff(struct tide_buf *b, const char *key, const cJSON *x, const cJSON *y)
{
    char va[64], vb[64];
    option_text(va, sizeof va, x);
    option_text(vb, sizeof vb, y);
    tide_buf_printf(b, "%s%s", b->len ? ", " : "", key);
    if (strcmp(va, "(changed)") != 0 && strcmp(vb, "(changed)") != 0)
        tide_buf_printf(b, " %s -> %s", va, vb);
}

/* The options' top-level keys whose values differ ("host" is its own warning). */
static void options_facts(struct tide_cmp *c, const cJSON *oa, const cJSON *ob)
{
    if (!cJSON_IsObject(oa) || !cJSON_IsObject(ob))
        return;
    struct tide_buf b = {0};
    const cJSON *x;
    cJSON_ArrayForEach(x, oa)
    {
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(ob, x->string);
        if (strcmp(x->string, "host") != 0 && !cJSON_Compare(x, y, true))
            option_diff(&b, x->string, x, y);
    }
    cJSON_ArrayForEach(x, ob)
    {
        if (strcmp(x->string, "host") != 0 &&
            cJSON_GetObjectItemCaseSensitive(oa, x->string) == NULL)
            option_diff(&b, x->string, NULL, x);
    }
    if (b.len > 0 && !b.failed)
        warn(c, "the runs used different options: %.900s", b.data);
    tide_buf_free(&b);
}

void tide_cmp_facts(struct tide_cmp *c, const cJSON *base, const cJSON *cur)
{
    const char *sa = fact(base, "run", "scenario_sha256"),
               *sb = fact(cur, "run", "scenario_sha256");
    if (differ(sa, sb))
        warn(c, "the runs used different scripts (%.200s sha256 %.12s..., %.200s sha256 %.12s...)",
             fact(base, "run", "scenario_file"), sa, fact(cur, "run", "scenario_file"), sb);
    options_facts(c, tide_rj_object(base, "options"), tide_rj_object(cur, "options"));
    const char *va = fact(base, "tool", "version"), *vb = fact(cur, "tool", "version");
    if (differ(va, vb))
        warn(c, "the runs used different tide versions (%.60s -> %.60s)", va, vb);
    const char *ha = fact(base, "run", "host"), *hb = fact(cur, "run", "host");
    if (differ(ha, hb))
        warn(c, "the runs targeted different hosts (%.300s -> %.300s)", ha, hb);
}

void tide_cmp_warnings_free(struct tide_cmp *c)
{
    for (int i = 0; i < c->nwarnings; i++)
        free(c->warnings[i]);
    c->nwarnings = 0;
}
