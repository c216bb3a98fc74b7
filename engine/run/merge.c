/* merge.c: tide merge (see merge.h). The segments' seconds are read in step, one wall-clock
 * second at a time, so memory holds one second of each segment plus the totals, whatever the
 * length of the test. */
#include <errno.h>
#include <lua.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "audit.h"
#include "cli.h"
#include "clock.h"
#include "cmd_events.h"
#include "console.h"
#include "distributed.h"
#include "fsutil.h"
#include "judge.h"
#include "lifecycle.h"
#include "log.h"
#include "merge.h"
#include "options.h"
#include "outputs.h"
#include "regjson.h"
#include "run.h"
#include "sandbox.h"
#include "segment.h"
#include "summary.h"
#include "threshold.h"
#include "verdict.h"

#define MAX_SEGMENT_DIRS 1024
#define MAX_THRESHOLDS   512

struct seg {
    const char *dir;
    cJSON *summary;
    struct tide_segment g;
    int64_t start_us; /* wall: the segment's second 0 */
    char manifest_sha[65];
    FILE *seconds;
    char *line; /* getline's buffer */
    size_t cap;
    cJSON *next; /* the next second not yet merged, NULL at the end */
    int64_t next_idx;
};

struct merge {
    struct seg segs[MAX_SEGMENT_DIRS];
    int nsegs;
    const char *out;
    const char *cli_thresholds[MAX_THRESHOLDS];
    int ncli;
    bool quiet, no_defaults;
    int64_t t0; /* wall µs: the earliest segment's start */
    struct tide_registry *total;
    cJSON *history;
    struct tide_judged thr[MAX_THRESHOLDS];
    int nthr;
    struct tide_window win; /* the last measured seconds, for windowed thresholds */
    int64_t measured;
    struct tide_default_check defaults[TIDE_DEFAULT_COUNT];
    char reason[700];
    /* --verify: verify() once, on the merged results (docs/distributed.md) */
    bool verify;
    const char *script, *host, *setup_data_path; /* --script, --host, --setup-data */
    struct tide_config cfg;                      /* the script's, for the lifecycle runner */
    lua_State *probe;                            /* its options probe, until the runner opens */
    struct tide_shared shared;
    struct tide_lifecycle life;
    cJSON *setup_data;
    cJSON *verify_result; /* summary.json's "verify"; NULL: not asked */
    bool verify_ok;
    struct tide_cmd_events ce; /* merge_done's hooks: --plugin, --script (cmd_events.h) */
};

/* One line on stderr; exit code 2. */
__attribute__((format(printf, 1, 2))) static int refuse(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tide: merge: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return TIDE_EXIT_USAGE;
}

static const char merge_usage[] =
    "usage: tide merge DIR... --out DIR [--threshold 'M: EXPR']... [--no-default-thresholds]\n"
    "                  [--verify [--script FILE] [--setup-data FILE] [--host URL]] [--quiet]\n"
    "                  [--plugin NAME|PATH]... [--script FILE] [--hook-timeout D]\n"
    "\n"
    "One run folder from the folders of the segments of a split test (tide run --segment I/N):\n"
    "histograms merged exactly, seconds merged by wall clock, thresholds judged on the whole.\n"
    "\n"
    "  --verify           run the script's verify(data, summary) once, with the merged results,\n"
    "                     as a single run does; the script is the segments' run.scenario_file\n"
    "                     (as they named it, from this folder) unless --script FILE is given,\n"
    "                     and must have their scenario_sha256\n"
    "  --setup-data FILE  verify()'s data: the file tide run --phase setup wrote\n"
    "  --host URL         verify()'s host (default: the segments' host)\n"
    "  --plugin NAME|PATH a plugin whose hooks run (repeatable); without --verify, --script\n"
    "                     FILE is only a file of hooks: merge_done fires once the merged\n"
    "                     folder is written (docs/extending.md)\n"
    "\n"
    "Exit 0 passed, 99 a threshold, default check or verify() failed (or a folder is not\n"
    "intact), 2 bad usage, segments that do not make one test, or a script that is not theirs.\n";

static int parse_args(struct merge *m, int argc, char **argv)
{
    int rc = tide_cmd_events_take(&m->ce, "merge", &argc, argv, true);
    if (rc != 0)
        return rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(merge_usage, stdout);
            return -2;
        } else if (strcmp(a, "--out") == 0 || strcmp(a, "-o") == 0) {
            if (i + 1 >= argc)
                return refuse("%s needs a folder", a);
            m->out = argv[++i];
        } else if (strncmp(a, "--out=", 6) == 0) {
            m->out = a + 6;
        } else if (strcmp(a, "--threshold") == 0) {
            if (i + 1 >= argc || m->ncli == MAX_THRESHOLDS)
                return refuse("%s needs 'METRIC: EXPRESSION'", a);
            m->cli_thresholds[m->ncli++] = argv[++i];
        } else if (strcmp(a, "--no-default-thresholds") == 0) {
            m->no_defaults = true;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            m->quiet = true;
        } else if (strcmp(a, "--verify") == 0) {
            m->verify = true;
        } else if (strcmp(a, "--script") == 0 || strcmp(a, "--setup-data") == 0 ||
                   strcmp(a, "--host") == 0) {
            if (i + 1 >= argc)
                return refuse("%s needs a value", a);
            const char *v = argv[++i];
            if (strcmp(a, "--script") == 0)
                m->script = v;
            else if (strcmp(a, "--setup-data") == 0)
                m->setup_data_path = v;
            else
                m->host = v;
        } else if (a[0] == '-') {
            return refuse("unknown option %s (see 'tide merge --help')", a);
        } else if (m->nsegs == MAX_SEGMENT_DIRS) {
            return refuse("at most %d folders", MAX_SEGMENT_DIRS);
        } else {
            m->segs[m->nsegs++].dir = a;
        }
    }
    if (m->nsegs == 0 || m->out == NULL)
        return refuse("usage: tide merge DIR... --out DIR");
    if (!m->verify && (m->setup_data_path != NULL || m->host != NULL))
        return refuse("--setup-data and --host are for --verify");
    if (!m->verify) /* without --verify, --script only brings hooks (merge_done) */
        m->ce.script = m->script;
    return 0;
}

static cJSON *read_json(const char *path)
{
    size_t len = 0;
    char *text = tide_fs_read_file(path, TIDE_FS_SUMMARY_MAX, &len, NULL);
    if (text == NULL)
        return NULL;
    cJSON *j = memchr(text, 0, len) == NULL ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItem(o, a);
    if (b != NULL)
        v = cJSON_GetObjectItem(v, b);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItem(o, a);
    if (b != NULL)
        v = cJSON_GetObjectItem(v, b);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Reads the next line of the segment's seconds.jsonl into s->next (NULL at the end). */
static int advance(struct merge *m, struct seg *s)
{
    cJSON_Delete(s->next);
    s->next = NULL;
    ssize_t n = getline(&s->line, &s->cap, s->seconds);
    if (n <= 0)
        return 0;
    s->next = cJSON_Parse(s->line);
    double t = num_at(s->next, "time_us", NULL), sec = num_at(s->next, "second", NULL);
    if (s->next == NULL || !(t > 0) || !(sec >= 1)) {
        fprintf(stderr, "tide: merge: %s/seconds.jsonl: a malformed line\n", s->dir);
        return -1;
    }
    /* the merged test's second: counted from the earliest segment's start, to the nearest */
    s->next_idx = llround(((double)t - (double)m->t0) / 1e6) - 1;
    if (s->next_idx < 0)
        s->next_idx = 0;
    return 0;
}

/* Verifies the folder, reads its summary, manifest hash and first second. */
static int load_segment(struct seg *s)
{
    struct tide_err err = {{0}};
    char path[4200];
    struct stat st;
    if (stat(s->dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return refuse("%s is not a run folder (a segment that did not run?)", s->dir);
    if (tide_audit_verify_dir(s->dir, NULL, &err) != 0) {
        fprintf(stderr, "tide: merge: %s is not intact: %s\n", s->dir, err.msg);
        return TIDE_EXIT_THRESHOLDS;
    }
    snprintf(path, sizeof path, "%s/summary.json", s->dir);
    s->summary = read_json(path);
    const char *schema = str_at(s->summary, "schema", NULL);
    if (schema == NULL || strcmp(schema, "tide.summary/1") != 0)
        return refuse("%s has no readable summary.json", s->dir);
    const char *g = str_at(s->summary, "run", "segment");
    if (g == NULL || tide_segment_parse(g, &s->g, &err) != 0)
        return refuse("%s is not a segment's run (run it with --segment I/N)", s->dir);
    snprintf(path, sizeof path, "%s/manifest.json", s->dir);
    size_t len = 0;
    char *text = tide_fs_read_file(path, TIDE_FS_SUMMARY_MAX, &len, NULL);
    if (text == NULL)
        return refuse("%s has no manifest.json", s->dir);
    tide_sha256_hex(text, len, s->manifest_sha);
    free(text);
    snprintf(path, sizeof path, "%s/seconds.jsonl", s->dir);
    s->seconds = fopen(path, "r");
    if (s->seconds == NULL)
        return refuse("%s has no seconds.jsonl (segments write it: tide run --segment I/N)",
                      s->dir);
    return 0;
}

/* The options a segment must share with the others: all but the thread count. */
static char *options_key(const cJSON *summary)
{
    cJSON *o = cJSON_Duplicate(cJSON_GetObjectItem(summary, "options"), true);
    cJSON_DeleteItemFromObject(o, "threads");
    char *text = o != NULL ? cJSON_PrintUnformatted(o) : strdup("null");
    cJSON_Delete(o);
    return text;
}

/* One test: the same N, each segment once, the same scenario and options. */
static int check_segments(struct merge *m)
{
    int n = m->segs[0].g.count;
    char seen[32];
    const char *owner[10001] = {0};
    for (int i = 0; i < m->nsegs; i++) {
        const struct seg *s = &m->segs[i];
        if (s->g.count != n)
            return refuse("%s and %s are segments of different splits", m->segs[0].dir, s->dir);
        if (owner[s->g.index] != NULL) {
            fprintf(stderr, "tide: merge: overlapping segments: %d/%d is both %s and %s\n",
                    s->g.index + 1, n, owner[s->g.index], s->dir);
            return TIDE_EXIT_USAGE;
        }
        owner[s->g.index] = s->dir;
    }
    for (int i = 0; i < n; i++) {
        if (owner[i] == NULL) {
            snprintf(seen, sizeof seen, "%d/%d", i + 1, n);
            fprintf(stderr, "tide: merge: missing segments: %s is not among the %d folders\n", seen,
                    m->nsegs);
            return TIDE_EXIT_USAGE;
        }
    }
    const char *sha0 = str_at(m->segs[0].summary, "run", "scenario_sha256");
    char *opt0 = options_key(m->segs[0].summary);
    int rc = 0;
    for (int i = 1; i < m->nsegs && rc == 0; i++) {
        const char *sha = str_at(m->segs[i].summary, "run", "scenario_sha256");
        char *opt = options_key(m->segs[i].summary);
        if (sha0 == NULL || sha == NULL || strcmp(sha0, sha) != 0)
            rc = refuse("different scenarios: %s and %s ran different scripts", m->segs[0].dir,
                        m->segs[i].dir);
        else if (opt0 == NULL || opt == NULL || strcmp(opt0, opt) != 0)
            rc = refuse("different options: %s and %s (scenarios, host, warm-up, tags or env)",
                        m->segs[0].dir, m->segs[i].dir);
        free(opt);
    }
    free(opt0);
    return rc;
}

/* --- thresholds --- */

static int add_threshold(struct merge *m, const char *key, const char *expr, const char *source)
{
    for (int i = 0; i < m->nthr; i++) {
        if (strcmp(m->thr[i].t.key.text, key) == 0 && strcmp(m->thr[i].t.expr_text, expr) == 0)
            return 0; /* every segment carries the script's */
    }
    if (m->nthr == MAX_THRESHOLDS)
        return 0;
    struct tide_judged *t = &m->thr[m->nthr];
    struct tide_err err = {{0}};
    if (tide_threshold_parse(key, expr, &t->t, &err) != 0) {
        fprintf(stderr, "tide: merge: %s\n", err.msg);
        return -1;
    }
    m->nthr++;
    t->source = source;
    t->ok = true;
    t->observed = NAN;
    return 0;
}

/* The script's and --threshold ones the segments judged, then this command's --threshold. */
static int thresholds_init(struct merge *m)
{
    for (int i = 0; i < m->nsegs; i++) {
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItem(m->segs[i].summary, "thresholds"))
        {
            const char *src = str_at(t, "source", NULL), *key = str_at(t, "metric", NULL);
            const char *expr = str_at(t, "expression", NULL);
            if (src == NULL || key == NULL || expr == NULL || strcmp(src, "default") == 0)
                continue;
            if (add_threshold(m, key, expr, strcmp(src, "cli") == 0 ? "cli" : "script") != 0)
                return -1;
        }
    }
    for (int i = 0; i < m->ncli; i++) {
        size_t keylen;
        const char *expr;
        struct tide_err err = {{0}};
        if (tide_threshold_split_cli(m->cli_thresholds[i], &keylen, &expr, &err) != 0) {
            fprintf(stderr, "tide: merge: %s\n", err.msg);
            return -1;
        }
        char key[512];
        snprintf(key, sizeof key, "%.*s", (int)keylen, m->cli_thresholds[i]);
        if (add_threshold(m, key, expr, "cli") != 0)
            return -1;
    }
    if (tide_window_init(&m->win, m->thr, m->nthr) != 0)
        return -1;
    const char *metrics[MAX_THRESHOLDS];
    for (int i = 0; i < m->nthr; i++)
        metrics[i] = m->thr[i].t.key.metric;
    tide_defaults_init(m->defaults, m->no_defaults ? TIDE_RULE_NONE : TIDE_RULE_DEFAULTS, metrics,
                       m->nthr);
    return 0;
}

/* Windowed thresholds after each measured second: a window that failed fails the test. */
static void windows_step(struct merge *m)
{
    for (int i = 0; i < m->nthr; i++) {
        struct tide_judged *t = &m->thr[i];
        if (t->t.window_us <= 0)
            continue;
        double obs = NAN;
        bool ok = tide_judge_observe(t, m->total, 1, &m->win, &obs);
        bool full = tide_window_full(&m->win, t);
        if (full || !t->window_failed)
            t->observed = t->window_failed ? t->observed : obs;
        if (full && !ok)
            t->window_failed = true;
    }
}

static void thresholds_final(struct merge *m)
{
    double secs = m->measured > 0 ? (double)m->measured : 1;
    for (int i = 0; i < m->nthr; i++) {
        struct tide_judged *t = &m->thr[i];
        if (t->t.window_us > 0) {
            t->ok = !t->window_failed;
            continue;
        }
        t->ok = tide_judge_observe(t, m->total, secs, &m->win, &t->observed);
    }
}

/* --- seconds --- */

static bool skip_vus(int metric)
{
    return metric == TIDE_M_VUS || metric == TIDE_M_VUS_MAX;
}

/* A segment's VU gauge of one second (the merged second's VUs are the segments' sum). */
static double gauge_of(const cJSON *line, const char *metric)
{
    const cJSON *se;
    cJSON_ArrayForEach(se, cJSON_GetObjectItem(line, "series"))
    {
        const char *name = str_at(se, "metric", NULL);
        if (name != NULL && strcmp(name, metric) == 0)
            return num_at(se, "last", NULL);
    }
    return 0;
}

/* Merges second idx of every segment (those lines that map to it) and books it. */
static int merge_second(struct merge *m, int64_t idx)
{
    struct tide_registry *reg = tide_registry_new();
    double vus = 0, vus_max = 0;
    bool warm = false;
    for (int i = 0; i < m->nsegs; i++) {
        struct seg *s = &m->segs[i];
        while (s->next != NULL && s->next_idx <= idx) {
            struct tide_err err = {{0}};
            if (tide_registry_from_json(reg, cJSON_GetObjectItem(s->next, "series"), skip_vus,
                                        &err) != 0) {
                fprintf(stderr, "tide: merge: %s/seconds.jsonl: %s\n", s->dir, err.msg);
                tide_registry_free(reg);
                return -1;
            }
            vus += gauge_of(s->next, "vus");
            vus_max += gauge_of(s->next, "vus_max");
            warm = warm || cJSON_IsTrue(cJSON_GetObjectItem(s->next, "warmup"));
            if (advance(m, s) != 0) {
                tide_registry_free(reg);
                return -1;
            }
        }
    }
    tide_registry_add(reg, TIDE_M_VUS, "", vus);
    tide_registry_add(reg, TIDE_M_VUS_MAX, "", vus_max);
    if (!warm)
        tide_registry_merge(m->total, reg);
    cJSON *row = tide_summary_history_row(reg, m->total, idx, m->t0 + (idx + 1) * 1000000, vus);
    if (warm)
        cJSON_AddBoolToObject(row, "warmup", 1);
    cJSON_AddItemToArray(m->history, row);
    if (!warm) {
        m->measured++;
        tide_window_push(&m->win, reg); /* taken */
        windows_step(m);
        return 0;
    }
    tide_registry_free(reg);
    return 0;
}

/* The earliest start, then every second of the test in order. */
static int merge_seconds(struct merge *m)
{
    m->t0 = INT64_MAX;
    for (int i = 0; i < m->nsegs; i++) {
        struct seg *s = &m->segs[i];
        int64_t start = 0;
        struct tide_err err = {{0}};
        const char *ts = str_at(s->summary, "run", "start");
        if (ts == NULL || tide_start_at_parse(ts, 0, &start, &err) != 0)
            return refuse("%s: run.start is not a time", s->dir);
        s->start_us = start;
        m->t0 = start < m->t0 ? start : m->t0;
    }
    for (int i = 0; i < m->nsegs; i++) {
        if (advance(m, &m->segs[i]) != 0)
            return TIDE_EXIT_USAGE;
    }
    for (;;) {
        int64_t idx = INT64_MAX;
        for (int i = 0; i < m->nsegs; i++) {
            if (m->segs[i].next != NULL && m->segs[i].next_idx < idx)
                idx = m->segs[i].next_idx;
        }
        if (idx == INT64_MAX)
            return 0;
        if (merge_second(m, idx) != 0)
            return TIDE_EXIT_USAGE;
    }
}

/* --- the merged folder --- */

/* The exit code and status, with m->reason when the test did not pass. */
static int decide(struct merge *m, const char **status)
{
    struct tide_outcome o = {0};
    o.thresholds_ok = true;
    for (int i = 0; i < m->nthr; i++)
        o.thresholds_ok = o.thresholds_ok && m->thr[i].ok;
    o.defaults_failed =
        !tide_judge_defaults(m->defaults, m->no_defaults ? TIDE_RULE_NONE : TIDE_RULE_DEFAULTS,
                             m->total, m->reason, sizeof m->reason);
    o.defaults_exit = TIDE_EXIT_THRESHOLDS;
    o.verify_failed = m->verify_result != NULL && !m->verify_ok && m->cfg.verify_fails_run;
    int code = tide_verdict(&o, status);
    if (!tide_judge_threshold_reason(m->thr, m->nthr, m->reason, sizeof m->reason) &&
        o.verify_failed) { /* as a run's reason: before a default check's */
        snprintf(m->reason, sizeof m->reason, "verify() failed (see the verify section)");
    }
    if (code == TIDE_EXIT_OK)
        m->reason[0] = '\0';
    return code;
}

/* The segments as the merged summary and manifest list them. */
static cJSON *segments_json(const struct merge *m)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < m->nsegs; i++) {
        const struct seg *s = &m->segs[i];
        cJSON *o = cJSON_CreateObject();
        char g[32], ts[40];
        snprintf(g, sizeof g, "%d/%d", s->g.index + 1, s->g.count);
        cJSON_AddStringToObject(o, "segment", g);
        cJSON_AddStringToObject(o, "dir", s->dir);
        tide_wall_format(s->start_us, ts, sizeof ts);
        cJSON_AddStringToObject(o, "start", ts);
        cJSON_AddNumberToObject(o, "start_offset_ms", (double)(s->start_us - m->t0) / 1000);
        const cJSON *skew =
            cJSON_GetObjectItem(cJSON_GetObjectItem(s->summary, "run"), "start_skew_ms");
        if (cJSON_IsNumber(skew))
            cJSON_AddNumberToObject(o, "start_skew_ms", skew->valuedouble);
        else
            cJSON_AddNullToObject(o, "start_skew_ms");
        const char *st = str_at(s->summary, "run", "status");
        cJSON_AddStringToObject(o, "status", st != NULL ? st : "");
        cJSON_AddStringToObject(o, "manifest_sha256", s->manifest_sha);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static double max_of(const struct merge *m, const char *a, const char *b)
{
    double v = 0;
    for (int i = 0; i < m->nsegs; i++) {
        double x = num_at(m->segs[i].summary, a, b);
        v = x > v ? x : v;
    }
    return v;
}

static int64_t spread_us(const struct merge *m)
{
    int64_t hi = m->t0;
    for (int i = 0; i < m->nsegs; i++)
        hi = m->segs[i].start_us > hi ? m->segs[i].start_us : hi;
    return hi - m->t0;
}

static cJSON *generator_json(const struct merge *m)
{
    cJSON *g = cJSON_CreateObject();
    double threads = 0;
    bool bound = false;
    for (int i = 0; i < m->nsegs; i++) {
        threads += num_at(m->segs[i].summary, "generator", "threads");
        bound = bound || cJSON_IsTrue(cJSON_GetObjectItem(
                             cJSON_GetObjectItem(m->segs[i].summary, "run"), "generator_bound"));
    }
    cJSON_AddNumberToObject(g, "threads", threads);
    cJSON_AddNumberToObject(g, "segments", m->nsegs);
    static const char *const maxed[] = {"loop_lag_p99_ms", "loop_lag_max_ms", "cpu_max_percent",
                                        "max_open_fds", "peak_rss_kb"};
    for (size_t i = 0; i < sizeof maxed / sizeof maxed[0]; i++)
        cJSON_AddNumberToObject(g, maxed[i], max_of(m, "generator", maxed[i]));
    cJSON_AddBoolToObject(g, "generator_bound", bound);
    return g;
}

static cJSON *run_json(const struct merge *m, const char *id, const char *status, int code)
{
    const cJSON *r0 = cJSON_GetObjectItem(m->segs[0].summary, "run");
    cJSON *run = cJSON_CreateObject();
    char ts[40];
    cJSON_AddStringToObject(run, "id", id);
    const char *file = str_at(r0, "scenario_file", NULL),
               *sha = str_at(r0, "scenario_sha256", NULL);
    const char *host = str_at(r0, "host", NULL);
    cJSON_AddStringToObject(run, "scenario_file", file != NULL ? file : "");
    cJSON_AddStringToObject(run, "scenario_sha256", sha != NULL ? sha : "");
    cJSON_AddStringToObject(run, "host", host != NULL ? host : "");
    tide_wall_format(m->t0, ts, sizeof ts);
    cJSON_AddStringToObject(run, "start", ts);
    int64_t end = m->t0;
    for (int i = 0; i < m->nsegs; i++) {
        int64_t e = 0;
        struct tide_err err;
        const char *t = str_at(m->segs[i].summary, "run", "end");
        if (t != NULL && tide_start_at_parse(t, 0, &e, &err) == 0 && e > end)
            end = e;
    }
    tide_wall_format(end, ts, sizeof ts);
    cJSON_AddStringToObject(run, "end", ts);
    cJSON_AddNumberToObject(run, "duration_s", max_of(m, "run", "duration_s"));
    cJSON_AddNumberToObject(run, "warmup_s", num_at(r0, "warmup_s", NULL));
    double threads = 0;
    for (int i = 0; i < m->nsegs; i++)
        threads += num_at(m->segs[i].summary, "run", "threads");
    cJSON_AddNumberToObject(run, "threads", threads);
    cJSON_AddStringToObject(run, "status", status);
    cJSON_AddNumberToObject(run, "exit_code", code);
    cJSON_AddNullToObject(run, "abort_reason");
    bool bound = false;
    for (int i = 0; i < m->nsegs; i++)
        bound = bound || cJSON_IsTrue(cJSON_GetObjectItem(
                             cJSON_GetObjectItem(m->segs[i].summary, "run"), "generator_bound"));
    cJSON_AddBoolToObject(run, "generator_bound", bound);
    if (m->reason[0] != '\0')
        cJSON_AddStringToObject(run, "reason", m->reason);
    else
        cJSON_AddNullToObject(run, "reason");
    cJSON_AddNullToObject(run, "segment");
    cJSON_AddNumberToObject(run, "start_spread_ms", (double)spread_us(m) / 1000);
    cJSON_AddItemToObject(run, "segments", segments_json(m));
    return run;
}

static cJSON *summary_doc(struct merge *m, const char *id, const char *status, int code)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "schema", "tide.summary/1");
    cJSON *tool = cJSON_AddObjectToObject(s, "tool");
    cJSON_AddStringToObject(tool, "name", "tide");
    cJSON_AddStringToObject(tool, "version", TIDE_VERSION);
    cJSON_AddStringToObject(tool, "git", TIDE_GIT);
    cJSON_AddItemToObject(s, "run", run_json(m, id, status, code));
    cJSON *opts = cJSON_Duplicate(cJSON_GetObjectItem(m->segs[0].summary, "options"), true);
    cJSON_AddItemToObject(s, "options", opts != NULL ? opts : cJSON_CreateObject());
    double secs = max_of(m, "run", "duration_s");
    tide_summary_add_metrics(s, m->total, secs > 0 ? secs : 1);
    cJSON_AddItemToObject(s, "thresholds",
                          tide_judge_thresholds_json(m->thr, m->nthr, m->defaults));
    if (m->verify_result != NULL)
        cJSON_AddItemToObject(s, "verify", cJSON_Duplicate(m->verify_result, true));
    else
        cJSON_AddNullToObject(s, "verify");
    cJSON_AddItemToObject(s, "generator", generator_json(m));
    cJSON_AddItemToObject(s, "history", m->history);
    m->history = NULL;
    return s;
}

/* The merged folder: summary and reports, events, then the manifest over them. */
/* merge_done's payload: the merged folder, its segments and verdict. */
static cJSON *merge_done_payload(const struct merge *m, const char *id, const char *status,
                                 int code)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "dir", m->out);
    cJSON_AddStringToObject(p, "id", id);
    cJSON_AddStringToObject(p, "status", status);
    cJSON_AddNumberToObject(p, "exit_code", code);
    if (m->reason[0] != '\0')
        cJSON_AddStringToObject(p, "reason", m->reason);
    else
        cJSON_AddNullToObject(p, "reason");
    cJSON *failed = cJSON_AddArrayToObject(p, "failed_thresholds");
    for (int i = 0; i < m->nthr; i++) {
        if (!m->thr[i].ok)
            cJSON_AddItemToArray(failed, cJSON_CreateString(m->thr[i].t.key.text));
    }
    if (m->verify_result != NULL)
        cJSON_AddBoolToObject(p, "verify_ok", m->verify_ok);
    else
        cJSON_AddNullToObject(p, "verify_ok");
    cJSON_AddItemToObject(p, "segments", segments_json(m));
    return p;
}

static int write_folder(struct merge *m, const char *status, int *exit_code)
{
    int code = *exit_code;
    struct tide_err err = {{0}};
    if (tide_fs_mkdirs(m->out, &err) != 0) {
        fprintf(stderr, "tide: merge: %s\n", err.msg);
        return TIDE_EXIT_INTERNAL;
    }
    const char *id = strrchr(m->out, '/') != NULL && strrchr(m->out, '/')[1] != '\0'
                         ? strrchr(m->out, '/') + 1
                         : m->out;
    struct tide_audit audit;
    memset(&audit, 0, sizeof audit);
    if (tide_audit_open(&audit, m->out, &err) != 0) {
        fprintf(stderr, "tide: merge: %s\n", err.msg);
        return TIDE_EXIT_INTERNAL;
    }
    cJSON *f = cJSON_CreateObject();
    cJSON_AddItemToObject(f, "segments", segments_json(m));
    tide_audit_event(&audit, "merge", f);
    if (m->verify_result != NULL) {
        cJSON *vf = cJSON_CreateObject();
        cJSON_AddBoolToObject(vf, "ok", m->verify_ok);
        tide_audit_event(&audit, "verify", vf);
    }
    for (int i = 0; i < m->nthr; i++) { /* as a run's threshold_crossed, judged on the whole */
        if (m->thr[i].ok)
            continue;
        cJSON *tf = cJSON_CreateObject();
        cJSON_AddStringToObject(tf, "metric", m->thr[i].t.key.text);
        cJSON_AddStringToObject(tf, "expression", m->thr[i].t.expr_text);
        if (isfinite(m->thr[i].observed))
            cJSON_AddNumberToObject(tf, "observed", m->thr[i].observed);
        tide_audit_event(&audit, "threshold_crossed", tf);
    }
    struct tide_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cJSON *s = summary_doc(m, id, status, code);
    cJSON *doc = NULL;
    int rc = tide_outputs_write(&cfg, m->out, s, &doc);
    cJSON_Delete(s);
    if (!m->quiet && doc != NULL)
        tide_console_summary(stdout, doc);
    cJSON_Delete(doc);
    if (rc == 0) { /* the folder holds its reports; a required hook's failure: exit 99 */
        tide_cmd_events_set_dir(&m->ce, m->out);
        cJSON *p = merge_done_payload(m, id, status, code);
        code = *exit_code = tide_cmd_events_fire(&m->ce, &audit, "merge_done", p, code);
        cJSON_Delete(p);
    }
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "status", status);
    cJSON_AddNumberToObject(e, "exit_code", code);
    tide_audit_event(&audit, "end", e);
    if (tide_audit_close(&audit, &err) != 0)
        rc = -1;
    cJSON *facts = cJSON_CreateObject();
    cJSON_AddStringToObject(facts, "tool", "tide");
    cJSON_AddStringToObject(facts, "version", TIDE_VERSION);
    cJSON_AddStringToObject(facts, "git", TIDE_GIT);
    const char *sha = str_at(m->segs[0].summary, "run", "scenario_sha256");
    cJSON_AddStringToObject(facts, "scenario_sha256", sha != NULL ? sha : "");
    cJSON_AddNumberToObject(facts, "exit_code", code);
    cJSON_AddItemToObject(facts, "merged_from", segments_json(m));
    tide_redact_json(facts);
    if (rc == 0 && tide_manifest_write(m->out, facts, &err) != 0) {
        fprintf(stderr, "tide: merge: %s\n", err.msg);
        rc = -1;
    } else if (rc != 0) {
        cJSON_Delete(facts);
    }
    return rc == 0 ? 0 : TIDE_EXIT_INTERNAL;
}

static void free_merge(struct merge *m)
{
    for (int i = 0; i < m->nsegs; i++) {
        struct seg *s = &m->segs[i];
        cJSON_Delete(s->summary);
        cJSON_Delete(s->next);
        free(s->line);
        if (s->seconds != NULL)
            fclose(s->seconds);
    }
    for (int i = 0; i < m->nthr; i++)
        tide_threshold_fini(&m->thr[i].t);
    tide_window_free(&m->win);
    tide_registry_free(m->total);
    cJSON_Delete(m->history);
    tide_cmd_events_close(&m->ce);
    tide_lifecycle_close(&m->life);
    if (m->probe != NULL)
        lua_close(m->probe);
    free(m->shared.shared_iters);
    cJSON_Delete(m->setup_data);
    cJSON_Delete(m->verify_result);
    tide_config_free(&m->cfg);
}

/* --- verify() once, on the whole test --- */

/* Before any merging: the script (--script FILE, else the segments' run.scenario_file) must
 * be the one the segments ran; its options probe runs, the setup data is read. 0 or an exit
 * code, with one line. */
static int verify_prepare(struct merge *m)
{
    const cJSON *r0 = cJSON_GetObjectItem(m->segs[0].summary, "run");
    const char *theirs = str_at(r0, "scenario_sha256", NULL);
    const char *script = m->script != NULL ? m->script : str_at(r0, "scenario_file", NULL);
    if (script == NULL || script[0] == '\0')
        return refuse("--verify: the segments name no script; give it with --script FILE");
    struct tide_err err = {{0}};
    size_t len = 0;
    char *text = tide_fs_read_all(script, &len, &err);
    if (text == NULL)
        return refuse("--verify: cannot read the segments' script (give it with --script FILE): "
                      "%s",
                      err.msg);
    char sha[65];
    tide_sha256_hex(text, len, sha);
    free(text);
    if (theirs == NULL || strcmp(sha, theirs) != 0)
        return refuse("--verify: %s is not the script the segments ran (sha256 %.12s..., "
                      "theirs %.12s...)",
                      script, sha, theirs != NULL ? theirs : "none");
    const char *host = m->host != NULL ? m->host : str_at(r0, "host", NULL);
    /* the whole test: --segment 1/1, so no TIDE_SEGMENTS of the environment applies */
    char *args[6 + 2 * TIDE_CLI_MAX] = {(char *)script, (char *)"--segment", (char *)"1/1",
                                        (char *)"--host", (char *)host};
    int nargs = host != NULL && host[0] != '\0' ? 5 : 3;
    for (int i = 0; i < m->ce.nplugins && i < TIDE_CLI_MAX - 1; i++) {
        args[nargs++] = (char *)"--plugin";
        args[nargs++] = (char *)m->ce.plugins[i];
    }
    struct tide_cli cli;
    if (tide_cli_parse_run(nargs, args, &cli, &err) != 0 ||
        tide_options_build_keep(&cli, &m->cfg, &m->probe, &err) != 0)
        return refuse("--verify: %s", err.msg);
    if (m->ce.hook_timeout_us >= 0)
        m->cfg.hook_timeout_us = m->ce.hook_timeout_us;
    if (m->setup_data_path != NULL) {
        m->setup_data = tide_setup_data_read(m->setup_data_path, &err);
        if (m->setup_data == NULL)
            return refuse("--verify: %s", err.msg);
    }
    return 0;
}

/* verify(data, summary) in the lifecycle runner, with the merged results, as a run calls it
 * after its load. 0 or an exit code. */
static int verify_run(struct merge *m)
{
    struct tide_err err = {{0}};
    m->shared.cfg = &m->cfg;
    m->shared.new_state = tide_sandbox_open;
    m->shared.shared_iters = calloc((size_t)m->cfg.nscenarios + 1, sizeof *m->shared.shared_iters);
    atomic_flag_clear(&m->shared.abort_once);
    int rc = tide_lifecycle_open(&m->life, &m->shared, m->probe, &err);
    m->probe = NULL; /* taken */
    if (rc != 0)
        return refuse("--verify: %s", err.msg);
    tide_cmd_events_adopt(&m->ce, &m->life); /* its hooks and plugins: merge_done's too */
    cJSON *results = cJSON_CreateObject();
    double secs = max_of(m, "run", "duration_s");
    tide_summary_add_metrics(results, m->total, secs > 0 ? secs : 1);
    m->verify_result = tide_lifecycle_verify(&m->life, m->setup_data, results, &m->verify_ok);
    cJSON_Delete(results);
    tide_lifecycle_hook(&m->life, NULL, "verify_done", m->verify_result);
    return 0;
}

static int merge_run(struct merge *m)
{
    int rc = 0;
    for (int i = 0; i < m->nsegs; i++) {
        rc = load_segment(&m->segs[i]);
        if (rc != 0)
            return rc;
    }
    rc = check_segments(m);
    if (rc == 0 && m->verify)
        rc = verify_prepare(m);
    else if (rc == 0) /* hooks load before anything is merged: a typo stops it here */
        rc = tide_cmd_events_open(&m->ce);
    if (rc != 0)
        return rc;
    if (thresholds_init(m) != 0)
        return TIDE_EXIT_USAGE;
    m->total = tide_registry_new();
    m->history = cJSON_CreateArray();
    rc = merge_seconds(m);
    if (rc != 0)
        return rc;
    double duration = max_of(m, "run", "duration_s");
    if ((double)spread_us(m) > duration * 1e6 * 0.01)
        tide_log(TIDE_LOG_WARN,
                 "the segments started %.0f ms apart, over 1%% of the %.1f s test: merged seconds "
                 "mix moments that far apart (start them with --start-at)",
                 (double)spread_us(m) / 1000, duration);
    for (int i = 0; i < m->nsegs; i++) {
        const char *st = str_at(m->segs[i].summary, "run", "status");
        if (st != NULL && strcmp(st, "passed") != 0 && strcmp(st, "failed") != 0)
            tide_log(TIDE_LOG_WARN,
                     "segment %s ended %s: the merged test lacks part of that segment's share",
                     m->segs[i].dir, st);
    }
    thresholds_final(m);
    if (m->verify && (rc = verify_run(m)) != 0)
        return rc;
    const char *status;
    int code = decide(m, &status);
    rc = write_folder(m, status, &code);
    if (rc != 0)
        return rc;
    if (code != TIDE_EXIT_OK && strcmp(status, "passed") == 0)
        status = "failed"; /* a required merge_done hook failed */
    if (!m->quiet)
        printf("  %s: %d segments merged into %s/ (report.html, summary.json, stats.csv, "
               "junit.xml)\n",
               code == 0 ? "passed" : status, m->nsegs, m->out);
    if (m->reason[0] != '\0') {
        fflush(stdout);
        tide_log(TIDE_LOG_ERROR, "%s: %s", status, m->reason);
    }
    return code;
}

int tide_merge_main(int argc, char **argv)
{
    struct merge *m = calloc(1, sizeof *m);
    if (m == NULL)
        return TIDE_EXIT_INTERNAL;
    int rc = parse_args(m, argc, argv);
    if (rc == -2)
        rc = TIDE_EXIT_OK;
    else if (rc == 0)
        rc = merge_run(m);
    free_merge(m);
    free(m);
    return rc;
}
