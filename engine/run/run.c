/* run.c: the run coordinator. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "audit.h"
#include "provenance.h"
#include "sign.h"
#include "cli.h"
#include "embedded.h"
#include "clock.h"
#include "console.h"
#include "distributed.h"
#include "fsutil.h"
#include "judge.h"
#include "lifecycle.h"
#include "lua_runfiles.h"
#include "log.h"
#include "options.h"
#include "outputs.h"
#include "plugins.h"
#include "report.h"
#include "run.h"
#include "sandbox.h"
#include "regjson.h"
#include "summary.h"
#include "transport.h"
#include "target.h"
#include "threshold.h"
#include "verdict.h"
#include "dashboard.h"
#include "fsutil.h"
#include "stream.h"
#include "vu.h"
#include "worker.h"
#include "plan.h"
#include "runconf.h"

struct pending {
    struct tide_registry *reg;
    bool final;
};

struct run {
    struct tide_config cfg;
    struct tide_shared shared;
    struct tide_worker *workers;
    int nworkers;
    int64_t *delivered; /* per worker: highest interval index handed over, -1 none */
    struct tide_registry *total;
    struct pending *pend;
    int64_t npend;
    int64_t next_final;
    struct tide_buf history; /* per-second rows as JSON text, comma-separated: compact for
                                long runs; parsed once when the summary is written */
    cJSON *last_row;         /* the newest row, for the progress line */
    struct tide_judged *thr;
    int nthr;
    struct tide_window win; /* the last measured seconds, for windowed thresholds */
    struct tide_audit audit;
    char dir[4096];
    char id[300];
    int64_t start_wall_us, end_wall_us, start_us, end_us;
    struct tide_target *target;
    bool tty;
    bool only_summary;           /* Locust's --only-summary: no progress line, the summary still */
    const struct tide_cli *cli;  /* the settings and their layers, for the plan */
    double vus_now, vus_max_now; /* peaks over the last second, summed over workers */
    bool threshold_abort;
    char threshold_abort_reason[512];
    cJSON *setup_data;
    char *setup_text;           /* setup_data as JSON text, for the workers */
    struct tide_lifecycle life; /* setup, teardown, verify, handle_summary, hooks */
    lua_State *probe;           /* the options probe's state, until 'life' takes it */
    int64_t last_plain_progress;
    /* generator self-health */
    int64_t saturated_s, health_s;
    int max_fds;
    struct tide_agg lag_total, cpu_total;
    int *stage_seen; /* per scenario: last schedule event logged */
    /* hook summaries computed from the merged seconds (never per request): failed checks and
     * errors since the last event of each kind; one saturation event per run */
    struct burst {
        cJSON *items; /* key -> { ..., count } */
        int64_t from_s, last_fired_s;
        bool fired;
    } checks_burst, errors_burst;
    bool saturation_told;
    /* the verdict: the default checks (verdict.h) and the one line that says why a run did
     * not pass */
    enum tide_verdict_rule rule;
    int locust_exit;
    struct tide_default_check defaults[TIDE_DEFAULT_COUNT];
    char reason[700];
    /* --stream outputs (stream.h): fed by finalize(), closed by finish() */
    const char *stream_specs[TIDE_CLI_MAX];
    struct tide_stream *streams[TIDE_CLI_MAX];
    int nstreams;
    /* --dashboard (dashboard.h): fed once a second by drive(), the final report by finish() */
    const char *dashboard_addr;
    struct tide_dashboard *dash;
    size_t dash_rows_off; /* bytes of 'history' already handed to it */
    cJSON *sections;      /* the plugins' summary sections (NULL: none) */
    /* a test split over processes (distributed.h) */
    const char *phase;           /* --phase setup|run|teardown; NULL: all of them */
    const char *setup_data_path; /* --setup-data FILE */
    bool start_at;               /* --start-at given */
    int64_t start_at_wall_us;    /* its instant */
    int64_t start_skew_us;       /* how late the start was (negative: early) */
    bool segment;                /* --segment/--segments given: seconds.jsonl for tide merge */
    FILE *seconds;               /* seconds.jsonl */
};

#define SATURATED_LAG_MS  10.0
#define SATURATED_CPU_PCT 90.0

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (d == NULL)
        return 0;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the directory's own descriptor */
}

static void run_hook(struct run *r, const char *event, const cJSON *arg);

/* generator_saturated: once per run, at the first saturated second. */
static void saturated_hook(struct run *r, int64_t idx, double lag_p99, double cpu_max)
{
    if (r->saturation_told)
        return;
    r->saturation_told = true;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "second", (double)(idx + 1));
    cJSON_AddNumberToObject(f, "loop_lag_p99_ms", round(lag_p99 * 1000) / 1000);
    cJSON_AddNumberToObject(f, "cpu_max_percent", round(cpu_max * 10) / 10);
    cJSON_AddNumberToObject(f, "threads", r->nworkers);
    run_hook(r, "generator_saturated", f);
    cJSON_Delete(f);
}

/* One second's self-health: the loop lag and worker CPU samples of that interval. */
static void health_second(struct run *r, const struct tide_registry *reg, int64_t idx)
{
    struct tide_agg lag, cpu;
    tide_registry_aggregate(reg, TIDE_M_LOOP_LAG, NULL, NULL, &lag);
    tide_registry_aggregate(reg, TIDE_M_WORKER_CPU, NULL, NULL, &cpu);
    if (lag.count > 0 || cpu.count > 0) {
        r->health_s++;
        if (tide_agg_percentile(&lag, 99) > SATURATED_LAG_MS || cpu.max > SATURATED_CPU_PCT) {
            r->saturated_s++;
            saturated_hook(r, idx, tide_agg_percentile(&lag, 99), cpu.max);
        }
    }
    tide_agg_merge(&r->lag_total, &lag);
    tide_agg_merge(&r->cpu_total, &cpu);
    tide_agg_fini(&lag);
    tide_agg_fini(&cpu);
}

static bool generator_bound(const struct run *r)
{
    return r->health_s > 0 && r->saturated_s * 10 > r->health_s;
}

static cJSON *generator_json(const struct run *r)
{
    cJSON *g = cJSON_CreateObject();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    cJSON_AddNumberToObject(g, "threads", r->nworkers);
    cJSON_AddNumberToObject(g, "loop_lag_p99_ms",
                            round(tide_agg_percentile(&r->lag_total, 99) * 1000) / 1000);
    cJSON_AddNumberToObject(g, "loop_lag_max_ms", round(r->lag_total.max * 1000) / 1000);
    cJSON_AddNumberToObject(g, "cpu_max_percent", round(r->cpu_total.max * 10) / 10);
    cJSON_AddNumberToObject(
        g, "cpu_avg_percent",
        r->cpu_total.count ? round(r->cpu_total.sum / (double)r->cpu_total.count * 10) / 10 : 0);
    cJSON_AddNumberToObject(g, "max_open_fds", r->max_fds);
    cJSON_AddNumberToObject(g, "peak_rss_kb", (double)ru.ru_maxrss);
    cJSON_AddNumberToObject(g, "saturated_seconds", (double)r->saturated_s);
    cJSON_AddNumberToObject(g, "measured_seconds", (double)r->health_s);
    cJSON_AddBoolToObject(g, "generator_bound", generator_bound(r));
    return g;
}

static volatile sig_atomic_t got_signal, nsignals;

static void on_signal(int sig)
{
    got_signal = sig;
    if (nsignals < 2)
        nsignals++; /* handlers do not nest (sa_mask): no lost update */
    tide_stop_requested = 1;
}

/* Descriptors a worker thread holds besides its connections (event loop, wake-up pipes,
 * libcurl's own), and those kept for the run folder's files, streams and the audit log. */
#define FDS_PER_WORKER 4
#define FDS_RESERVED   8

/* Raises the open-file limit to its hard limit and warns when it is below what the VUs need
 * (each VU keeps its own keep-alive connection). Sets each worker's connection budget from
 * the descriptors really free; -1 (said in one line) when there is not one connection per
 * worker: the event library would abort when it cannot make its pipes. */
static int raise_nofile(struct run *r)
{
    const struct tide_config *cfg = &r->cfg;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY) {
        long in_use = count_fds(), threads = cfg->threads > 0 ? cfg->threads : 1;
        long free_fds = (long)rl.rlim_cur - in_use - threads * FDS_PER_WORKER - FDS_RESERVED;
        if (cfg->target_inprocess)
            free_fds /= 2; /* the in-process target holds the other end of each connection */
        if (free_fds < threads) {
            tide_log(TIDE_LOG_ERROR,
                     "the open-file limit of this machine (%llu descriptors, hard limit %llu) "
                     "is too low for the load generator: %ld are in use and %ld worker "
                     "thread(s) need at least %ld more (raise it: ulimit -n 1024, or use fewer "
                     "--threads)",
                     (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, in_use,
                     threads, threads * (FDS_PER_WORKER + 1) + FDS_RESERVED);
            return -1;
        }
        r->shared.conn_budget = free_fds / threads;
    }
    double vus = 0;
    for (int i = 0; i < cfg->nscenarios; i++) {
        const struct tide_scenario *s = &cfg->scenarios[i];
        double v = s->vus > s->max_vus ? s->vus : s->max_vus;
        for (int k = 0; k < s->nstages; k++)
            v = s->stages[k].target > v ? s->stages[k].target : v;
        vus += v;
    }
    if (vus + 64 > (double)rl.rlim_cur)
        tide_log(TIDE_LOG_WARN,
                 "the open-file limit (%llu, hard limit %llu) is below the ~%.0f connections %.0f "
                 "VUs may hold: about %.0f stay open and the other VUs reconnect for each "
                 "request, waiting when all are in use (for full keep-alive raise the hard "
                 "limit: ulimit -Hn)",
                 (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, vus + 64, vus,
                 (double)r->shared.conn_budget * (cfg->threads > 0 ? cfg->threads : 1) * 0.9);
    return 0;
}

/* --- thresholds --- */

static int thresholds_init(struct run *r, struct tide_err *err)
{
    r->nthr = r->cfg.nthresholds;
    r->thr = calloc((size_t)(r->nthr > 0 ? r->nthr : 1), sizeof *r->thr);
    for (int i = 0; i < r->nthr; i++) {
        const struct tide_threshold_spec *sp = &r->cfg.thresholds[i];
        struct tide_judged *t = &r->thr[i];
        t->source = sp->from_cli ? "cli" : sp->plugin != NULL ? "plugin" : "script";
        t->plugin = sp->plugin;
        t->ok = true;
        if (tide_threshold_parse(sp->key, sp->expr, &t->t, err) != 0)
            return -1;
        t->t.abort_on_fail = sp->abort_on_fail;
        t->t.delay_abort_eval_us = sp->delay_abort_eval_us;
        int id = tide_metric_lookup(t->t.key.metric);
        if (id < 0)
            return tide_err_set(err,
                                "threshold on \"%s\": no metric named %s (built-in metrics are "
                                "listed in docs/metrics.md; custom ones must be created at the "
                                "script's top level)",
                                sp->key, t->t.key.metric);
        if (tide_threshold_check_type(&t->t, tide_metric_type_of(id), err) != 0)
            return -1;
    }
    if (tide_window_init(&r->win, r->thr, r->nthr) != 0)
        return tide_err_set(err, "out of memory");
    const char **metrics = calloc((size_t)(r->nthr > 0 ? r->nthr : 1), sizeof *metrics);
    if (metrics == NULL)
        return tide_err_set(err, "out of memory");
    for (int i = 0; i < r->nthr; i++)
        metrics[i] = r->thr[i].t.key.metric;
    tide_defaults_init(r->defaults, r->rule, metrics, r->nthr); /* the user's replace them */
    free(metrics);
    return 0;
}

/* Business hooks (tide.hooks.on) run in the lifecycle runner, timed and logged; a failure is
 * kept there (r->life.failures, required_failed) for the verdict and the summary. */
static void run_hook(struct run *r, const char *event, const cJSON *arg)
{
    tide_lifecycle_hook(&r->life, &r->audit, event, arg);
}

static void threshold_event(struct run *r, struct tide_judged *t, const char *type)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "metric", t->t.key.text);
    cJSON_AddStringToObject(f, "expression", t->t.expr_text);
    if (isfinite(t->observed))
        cJSON_AddNumberToObject(f, "observed", t->observed);
    if (strcmp(type, "threshold_crossed") == 0 || strcmp(type, "threshold_recovered") == 0)
        run_hook(r, type, f);
    tide_audit_event(&r->audit, type, f);
}

static void thresholds_eval(struct run *r, bool final)
{
    int64_t elapsed = tide_now_us() - r->start_us;
    for (int i = 0; i < r->nthr; i++) {
        struct tide_judged *t = &r->thr[i];
        double secs = (double)(r->next_final) - (double)r->cfg.warmup_us / 1e6;
        double obs = NAN;
        bool ok = tide_judge_observe(t, r->total, secs < 1 ? 1 : secs, &r->win, &obs);
        bool windowed = t->t.window_us > 0;
        bool window_full = tide_window_full(&r->win, t);
        if (windowed && !final && window_full && !ok)
            t->window_failed = true;
        if (!windowed || window_full || final)
            t->observed = windowed && t->window_failed && ok ? t->observed : obs;
        if (!ok && !t->failing && (!windowed || window_full)) {
            t->failing = true;
            threshold_event(r, t, "threshold_crossed");
        } else if (ok && t->failing && !windowed) {
            t->failing = false;
            threshold_event(r, t, "threshold_recovered");
        }
        if (final)
            t->ok = windowed ? !t->window_failed && (ok || !window_full) : ok;
        if (!final && t->t.abort_on_fail && t->failing && !r->threshold_abort &&
            elapsed >= t->t.delay_abort_eval_us) {
            r->threshold_abort = true;
            t->aborted = true;
            snprintf(r->threshold_abort_reason, sizeof r->threshold_abort_reason,
                     "threshold %s: %s crossed (observed %g)", t->t.key.text, t->t.expr_text,
                     t->observed);
            tide_log(TIDE_LOG_WARN, "aborting: %s", r->threshold_abort_reason);
            threshold_event(r, t, "abort");
            atomic_store(&r->shared.stop, true);
            for (int w = 0; w < r->nworkers; w++)
                tide_worker_wake(&r->workers[w]);
        }
    }
}

/* --- check_failed and error_burst: summaries from the merged seconds --- */

#define BURST_EVERY_S 10 /* at most one event of each kind per 10 s */
#define BURST_KINDS   20 /* kinds kept per event */

/* Adds 'count' to the item of 'key' (made from 'proto', taken) in b. */
static void burst_add(struct burst *b, int64_t idx, const char *key, cJSON *proto, double count)
{
    if (b->items == NULL) {
        b->items = cJSON_CreateObject();
        b->from_s = idx + 1;
    }
    cJSON *it = cJSON_GetObjectItem(b->items, key);
    if (it == NULL && cJSON_GetArraySize(b->items) < BURST_KINDS) {
        cJSON_AddNumberToObject(proto, "count", 0);
        cJSON_AddItemToObject(b->items, key, proto);
        it = proto;
    } else {
        cJSON_Delete(proto);
    }
    if (it != NULL) {
        cJSON *c = cJSON_GetObjectItem(it, "count");
        cJSON_SetNumberValue(c, c->valuedouble + count);
    }
}

/* Fires the event of b when it holds something and its last one is BURST_EVERY_S old (or
 * 'flush': the run ended). */
static void burst_fire(struct run *r, struct burst *b, const char *event, const char *list,
                       int64_t idx, bool flush)
{
    if (b->items == NULL)
        return;
    if (!flush && b->fired && idx + 1 - b->last_fired_s < BURST_EVERY_S)
        return;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "from_second", (double)b->from_s);
    cJSON_AddNumberToObject(f, "to_second", (double)(idx + 1));
    cJSON *arr = cJSON_AddArrayToObject(f, list);
    double total = 0;
    cJSON *it;
    while ((it = b->items->child) != NULL) {
        cJSON_DetachItemViaPointer(b->items, it);
        free(it->string);
        it->string = NULL;
        total += cJSON_GetObjectItem(it, "count")->valuedouble;
        cJSON_AddItemToArray(arr, it);
    }
    cJSON_AddNumberToObject(f, "total", total);
    cJSON_Delete(b->items);
    b->items = NULL;
    b->fired = true;
    b->last_fired_s = idx + 1;
    run_hook(r, event, f);
    cJSON_Delete(f);
}

/* One merged second's failed checks and errors, into the two bursts (only when a hook
 * listens: nothing is kept otherwise). */
static void burst_second(struct run *r, const struct tide_registry *reg, int64_t idx)
{
    bool checks = tide_lifecycle_has_hook(&r->life, "check_failed");
    bool errors = tide_lifecycle_has_hook(&r->life, "error_burst");
    for (size_t i = 0; (checks || errors) && i < tide_registry_size(reg); i++) {
        const struct tide_series *se = tide_registry_at(reg, i);
        bool is_check = se->metric == TIDE_M_CHECKS && checks;
        bool is_error =
            (se->metric == TIDE_M_FAILURES || se->metric == TIDE_M_SCRIPT_ERRORS) && errors;
        double fails = is_check ? (double)(se->agg.count - se->agg.nonzero) : se->agg.sum;
        if ((!is_check && !is_error) || fails <= 0)
            continue;
        char scratch[2048];
        struct tide_tags t;
        tide_tags_parse(se->tags, scratch, sizeof scratch, &t);
        cJSON *o = cJSON_CreateObject();
        if (is_error)
            cJSON_AddStringToObject(o, "kind",
                                    se->metric == TIDE_M_FAILURES ? "request" : "script");
        for (int k = 0; k < t.n; k++)
            cJSON_AddStringToObject(o, t.key[k], t.value[k]);
        burst_add(is_check ? &r->checks_burst : &r->errors_burst, idx, se->tags, o, fails);
    }
    burst_fire(r, &r->checks_burst, "check_failed", "checks", idx, false);
    burst_fire(r, &r->errors_burst, "error_burst", "errors", idx, false);
}

/* Audit: the errors of one second, with counts (at most 10 kinds per second). */
static void errors_event(struct run *r, const struct tide_registry *reg, int64_t idx)
{
    const int failures = TIDE_M_FAILURES, script = TIDE_M_SCRIPT_ERRORS;
    cJSON *items = NULL;
    int n = 0;
    for (size_t i = 0; i < tide_registry_size(reg) && n < 10; i++) {
        const struct tide_series *se = tide_registry_at(reg, i);
        if (se->metric != failures && se->metric != script)
            continue;
        char scratch[2048];
        struct tide_tags t;
        tide_tags_parse(se->tags, scratch, sizeof scratch, &t);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", se->metric == failures ? "request" : "script");
        for (int k = 0; k < t.n; k++)
            cJSON_AddStringToObject(o, t.key[k], t.value[k]);
        cJSON_AddNumberToObject(o, "count", se->agg.sum);
        if (items == NULL)
            items = cJSON_CreateArray();
        cJSON_AddItemToArray(items, o);
        n++;
    }
    if (items == NULL)
        return;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "second", (double)(idx + 1));
    cJSON_AddItemToObject(f, "errors", items);
    tide_audit_event(&r->audit, "errors", f);
}

/* Audit: scenario starts and ends and stage changes, from the schedule. */
static void schedule_events(struct run *r, int64_t elapsed_us)
{
    if (r->stage_seen == NULL)
        r->stage_seen = calloc((size_t)r->cfg.nscenarios, sizeof *r->stage_seen);
    if (r->stage_seen == NULL)
        return;
    for (int i = 0; i < r->cfg.nscenarios; i++) {
        const struct tide_scenario *sc = &r->cfg.scenarios[i];
        int64_t t = elapsed_us - sc->start_time_us;
        int64_t end = tide_scenario_end_us(sc);
        int stage = 0; /* 0: not started, 1..n: stage, n+1: ended */
        if (t >= 0) {
            stage = 1;
            int64_t acc = 0;
            for (int k = 0; k < sc->nstages; k++) {
                acc += sc->stages[k].duration_us;
                if (t >= acc)
                    stage = k + 2;
            }
            if (sc->nstages == 0 && end > 0 && t >= end)
                stage = 2;
        }
        while (r->stage_seen[i] < stage) {
            int s = ++r->stage_seen[i];
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "scenario", sc->name);
            const char *type = "stage";
            int last = sc->nstages > 0 ? sc->nstages + 1 : 2;
            if (s == 1) {
                type = "scenario_start";
                cJSON_AddStringToObject(f, "executor", tide_executor_name(sc->executor));
            } else if (s == last) {
                type = "scenario_end";
            }
            if (sc->nstages > 0 && s <= sc->nstages && s > 1) {
                cJSON_AddNumberToObject(f, "stage", s);
                cJSON_AddNumberToObject(f, "target", sc->stages[s - 1].target);
                cJSON_AddNumberToObject(f, "duration_s",
                                        (double)sc->stages[s - 1].duration_us / 1e6);
            }
            run_hook(r, strcmp(type, "stage") == 0 ? "stage_change" : type, f);
            tide_audit_event(&r->audit, type, f);
            if (s == 1 && sc->nstages > 0) { /* the first stage starts with the scenario */
                cJSON *g = cJSON_CreateObject();
                cJSON_AddStringToObject(g, "scenario", sc->name);
                cJSON_AddNumberToObject(g, "stage", 1);
                cJSON_AddNumberToObject(g, "target", sc->stages[0].target);
                cJSON_AddNumberToObject(g, "duration_s", (double)sc->stages[0].duration_us / 1e6);
                run_hook(r, "stage_change", g);
                tide_audit_event(&r->audit, "stage", g);
            }
        }
    }
}

/* --- merging intervals --- */

/* seconds.jsonl: one line per second with that second's whole registry, so that tide merge
 * rebuilds the seconds of a split test exactly (regjson.h). */
static void write_second(struct run *r, const struct tide_registry *reg, int64_t idx, bool warm)
{
    if (r->seconds == NULL)
        return;
    cJSON *line = cJSON_CreateObject();
    char ts[40];
    tide_wall_format(r->start_wall_us + (idx + 1) * 1000000, ts, sizeof ts);
    cJSON_AddNumberToObject(line, "second", (double)(idx + 1));
    cJSON_AddStringToObject(line, "time", ts);
    cJSON_AddNumberToObject(line, "time_us", (double)(r->start_wall_us + (idx + 1) * 1000000));
    cJSON_AddBoolToObject(line, "warmup", warm);
    cJSON_AddItemToObject(line, "series", tide_registry_to_json(reg));
    tide_redact_json(line);
    char *text = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    if (text == NULL || fprintf(r->seconds, "%s\n", text) < 0) {
        tide_log(TIDE_LOG_ERROR, "seconds.jsonl: cannot write; tide merge will refuse this folder");
        fclose(r->seconds);
        r->seconds = NULL;
    }
    free(text);
}

static void finalize(struct run *r, int64_t idx)
{
    struct tide_registry *reg = r->pend[idx].reg;
    if (reg == NULL)
        reg = tide_registry_new();
    bool warm = (idx + 1) * 1000000 <= r->cfg.warmup_us;
    tide_registry_add(reg, TIDE_M_VUS, "", r->vus_now);
    tide_registry_add(reg, TIDE_M_VUS_MAX, "", r->vus_max_now);
    health_second(r, reg, idx);
    errors_event(r, reg, idx);
    burst_second(r, reg, idx);
    write_second(r, reg, idx, warm);
    if (!warm)
        tide_registry_merge(r->total, reg);
    cJSON *row = tide_summary_history_row(reg, r->total, idx,
                                          r->start_wall_us + (idx + 1) * 1000000, r->vus_now);
    if (warm)
        cJSON_AddBoolToObject(row, "warmup", 1);
    for (int i = 0; i < r->nstreams; i++)
        tide_stream_second(r->streams[i], reg, r->start_wall_us + (idx + 1) * 1000000, warm);
    char *text = cJSON_PrintUnformatted(row);
    if (text != NULL) {
        if (r->history.len > 0)
            tide_buf_append(&r->history, ",", 1);
        tide_buf_append(&r->history, text, strlen(text));
        free(text);
    }
    cJSON_Delete(r->last_row);
    r->last_row = row;
    r->pend[idx].reg = NULL;
    if (!warm)
        tide_window_push(&r->win, reg); /* taken */
    else
        tide_registry_free(reg);
    r->next_final = idx + 1;
    if (!warm)
        thresholds_eval(r, false);
}

static int grow_pending(struct run *r, int64_t idx)
{
    if (idx < r->npend)
        return 0;
    int64_t n = r->npend ? r->npend : 64;
    while (n <= idx)
        n *= 2;
    struct pending *g = realloc(r->pend, (size_t)n * sizeof *g);
    if (g == NULL)
        return -1;
    memset(g + r->npend, 0, (size_t)(n - r->npend) * sizeof *g);
    r->pend = g;
    r->npend = n;
    return 0;
}

/* Merges one worker's filled second into the pending registry of that second. */
static void merge_interval(struct run *r, int w, const struct tide_interval *iv)
{
    if (grow_pending(r, iv->index) != 0)
        return;
    struct pending *p = &r->pend[iv->index];
    if (p->reg == NULL)
        p->reg = tide_registry_new();
    if (p->reg != NULL)
        tide_registry_merge(p->reg, iv->reg);
    if (iv->index > r->delivered[w])
        r->delivered[w] = iv->index;
}

static void collect(struct run *r, bool all_done)
{
    for (int w = 0; w < r->nworkers; w++) {
        struct tide_recorder *rec = r->workers[w].rec;
        struct tide_interval *iv;
        while ((iv = tide_recorder_take(rec)) != NULL) {
            merge_interval(r, w, iv);
            tide_recorder_recycle(rec, iv); /* reset, and the worker's next spare */
        }
    }
    for (;;) {
        int64_t idx = r->next_final;
        bool ready = true;
        for (int w = 0; w < r->nworkers && ready; w++) {
            bool done = atomic_load(&r->workers[w].finished);
            ready = r->delivered[w] >= idx || (done && all_done);
        }
        bool any = idx < r->npend;
        int64_t maxd = -1;
        for (int w = 0; w < r->nworkers; w++)
            maxd = r->delivered[w] > maxd ? r->delivered[w] : maxd;
        if (!ready || idx > maxd || (!any && !all_done))
            break;
        if (grow_pending(r, idx) != 0)
            break;
        finalize(r, idx);
    }
}

/* --- progress --- */

static void progress(struct run *r)
{
    if (r->cfg.quiet || r->only_summary)
        return;
    int64_t now = tide_now_us();
    if (!r->tty && now - r->last_plain_progress < 10000000)
        return;
    r->last_plain_progress = now;
    struct tide_progress p = {0};
    p.elapsed_us = now - r->start_us;
    int64_t total = 0;
    for (int i = 0; i < r->cfg.nscenarios; i++) {
        const struct tide_scenario *s = &r->cfg.scenarios[i];
        int64_t end = s->start_time_us + tide_scenario_end_us(s);
        if (s->executor == TIDE_EXEC_PER_VU_ITERATIONS ||
            s->executor == TIDE_EXEC_SHARED_ITERATIONS)
            end = 0;
        total = end > total ? end : total;
    }
    p.total_us = total;
    p.vus = (int)r->vus_now;
    const cJSON *last = r->last_row;
    if (last != NULL) {
        const cJSON *t = cJSON_GetObjectItem(last, "total");
        p.rps = cJSON_GetObjectItem(last, "rps")->valuedouble;
        p.p95_ms = cJSON_GetObjectItem(cJSON_GetObjectItem(last, "percentiles"), "95")->valuedouble;
        p.reqs = cJSON_GetObjectItem(t, "reqs")->valuedouble;
        p.fails = cJSON_GetObjectItem(t, "fails")->valuedouble;
    }
    struct tide_agg it;
    tide_registry_aggregate(r->total, TIDE_M_ITERATIONS, NULL, NULL, &it);
    p.iterations = it.sum;
    tide_agg_fini(&it);
    tide_console_progress(stderr, r->tty, &p);
}

/* --- the run folder --- */

/* --- the run --- */

static void free_run(struct run *r)
{
    for (int i = 0; i < r->nthr; i++)
        tide_threshold_fini(&r->thr[i].t);
    free(r->thr);
    tide_window_free(&r->win);
    for (int64_t i = 0; i < r->npend; i++)
        tide_registry_free(r->pend[i].reg);
    free(r->pend);
    free(r->delivered);
    free(r->stage_seen);
    cJSON_Delete(r->checks_burst.items);
    cJSON_Delete(r->errors_burst.items);
    free(r->workers);
    free(r->shared.shared_iters);
    tide_registry_free(r->total);
    tide_agg_fini(&r->lag_total);
    tide_agg_fini(&r->cpu_total);
    tide_buf_free(&r->history);
    for (int i = 0; i < r->nstreams; i++)
        tide_stream_close(r->streams[i]);
    tide_dashboard_stop(r->dash, 0);
    if (r->seconds != NULL)
        fclose(r->seconds);
    cJSON_Delete(r->last_row);
    cJSON_Delete(r->setup_data);
    cJSON_Delete(r->sections);
    free(r->setup_text);
    tide_lifecycle_close(&r->life);
    if (r->probe != NULL)
        lua_close(r->probe);
    tide_target_stop(r->target);
    tide_config_free(&r->cfg);
}

static int start_target(struct run *r, struct tide_err *err)
{
    struct tide_target_opts o;
    tide_target_opts_init(&o);
    o.port = 0;
    r->target = tide_target_start(&o, err);
    if (r->target == NULL)
        return -1;
    if (r->cfg.host == NULL) {
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d", tide_target_port(r->target));
        r->cfg.host = strdup(url);
    }
    tide_log(TIDE_LOG_INFO, "built-in target API listening on http://127.0.0.1:%d",
             tide_target_port(r->target));
    return 0;
}

/* The VU gauges: each worker's peak since the last look (a run shorter than a second still
 * shows its VUs), reset to the current value. */
static void sample_vus(struct run *r)
{
    double vus = 0, vmax = 0;
    for (int w = 0; w < r->nworkers; w++) {
        struct tide_worker *wk = &r->workers[w];
        vus += atomic_exchange(&wk->vus_peak, atomic_load(&wk->vus_active));
        vmax += atomic_exchange(&wk->vus_max_peak, atomic_load(&wk->vus_max));
    }
    r->vus_now = vus;
    r->vus_max_now = vmax;
}

/* The one place workers are shut down, in this order: join every thread (each hands over its
 * last, partial second before it ends), drain and merge everything they queued, then free
 * their recorders. Nothing touches a worker's recorder after this. */
static void stop_workers(struct run *r)
{
    for (int w = 0; w < r->nworkers; w++)
        tide_worker_join(&r->workers[w]);
    r->end_us = tide_now_us();
    r->end_wall_us = tide_wall_us();
    sample_vus(r);
    collect(r, true);
    for (int w = 0; w < r->nworkers; w++)
        tide_worker_release(&r->workers[w]);
}

static cJSON *summary_doc(const struct run *r, const char *status, int code, cJSON *verify);

/* The dashboard's second: the summary so far (without the history, which the page keeps)
 * and the rows added since the last tick, both redacted. */
static void dashboard_tick(struct run *r)
{
    if (r->dash == NULL)
        return;
    int64_t end = r->end_us, end_wall = r->end_wall_us;
    struct tide_buf history = r->history;
    r->end_us = tide_now_us(); /* rates over the time so far */
    r->end_wall_us = tide_wall_us();
    r->history = (struct tide_buf){0};
    cJSON *s = summary_doc(r, "running", 0, NULL);
    r->history = history;
    r->end_us = end;
    r->end_wall_us = end_wall;
    tide_redact_json(s);
    char *page = tide_report_page_json(s);
    cJSON_Delete(s);
    struct tide_buf rows = {0};
    size_t from = r->dash_rows_off;
    tide_buf_append(&rows, "[", 1);
    if (from < r->history.len) {
        from += r->history.data[from] == ',';
        tide_buf_append(&rows, r->history.data + from, r->history.len - from);
    }
    tide_buf_append(&rows, "]", 1);
    r->dash_rows_off = r->history.len;
    cJSON *rj = rows.data != NULL ? cJSON_Parse(rows.data) : NULL;
    tide_redact_json(rj);
    char *rows_text = rj != NULL ? cJSON_PrintUnformatted(rj) : NULL;
    if (page != NULL)
        tide_dashboard_tick(r->dash, page, rows_text != NULL ? rows_text : "[]");
    cJSON_Delete(rj);
    tide_buf_free(&rows);
    free(rows_text);
    free(page);
}

/* Drives the workers until they end; returns true when interrupted by a signal. */
static bool drive(struct run *r)
{
    bool interrupted = false, stopping = false;
    int64_t next_tick = r->start_us + 1000000;
    for (;;) {
        int64_t now = tide_now_us();
        int64_t wait = next_tick - now;
        if (wait > 100000)
            wait = 100000;
        if (wait > 0) {
            struct timespec ts = {0, (long)wait * 1000};
            nanosleep(&ts, NULL);
        }
        if (got_signal && !interrupted) {
            interrupted = true;
            if (r->tty && !r->cfg.quiet)
                tide_console_progress_end(stderr, r->tty);
            tide_log(TIDE_LOG_WARN, "interrupted (%s): stopping VUs, then writing the report",
                     got_signal == SIGTERM ? "SIGTERM" : "SIGINT");
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "signal", got_signal == SIGTERM ? "SIGTERM" : "SIGINT");
            tide_audit_event(&r->audit, "interrupted", f);
            atomic_store(&r->shared.stop, true);
        }
        if (atomic_load(&r->shared.stop) && !stopping) {
            stopping = true;
            for (int w = 0; w < r->nworkers; w++)
                tide_worker_wake(&r->workers[w]);
        }
        bool all_done = true;
        for (int w = 0; w < r->nworkers; w++)
            all_done = all_done && atomic_load(&r->workers[w].finished);
        now = tide_now_us();
        schedule_events(r, now - r->start_us);
        if (now >= next_tick || all_done) {
            int fds = count_fds(); /* once a second: /proc/self/fd is long with many VUs */
            r->max_fds = fds > r->max_fds ? fds : r->max_fds;
            sample_vus(r);
            collect(r, false);
            progress(r);
            dashboard_tick(r);
            next_tick += 1000000;
            if (next_tick < now)
                next_tick = now + 1000000;
        }
        if (all_done)
            break;
    }
    stop_workers(r);
    if (r->tty && !r->cfg.quiet)
        tide_console_progress_end(stderr, r->tty);
    return interrupted;
}

/* --- the end of the run --- */

/* verify(data, summary): the load's results, to compare with the server's state. Its checks
 * are reported apart from the load's. */
static cJSON *run_verify(struct run *r, bool *ok)
{
    cJSON *partial = cJSON_CreateObject();
    double secs = (double)(r->end_us - r->start_us) / 1e6;
    tide_summary_add_metrics(partial, r->total, secs > 0 ? secs : 1);
    cJSON *v = tide_lifecycle_verify(&r->life, r->setup_data, partial, ok);
    cJSON_Delete(partial);
    bool all = *ok;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddBoolToObject(f, "ok", all);
    tide_audit_event(&r->audit, "verify", f);
    run_hook(r, "verify_done", v);
    return v;
}

/* teardown(), then verify() unless the run was interrupted or aborted (NULL then). */
static cJSON *end_calls(struct run *r, bool interrupted, bool *verify_ok)
{
    struct tide_err err = {{0}};
    bool ran;
    cJSON *res = NULL;
    int rc = 0;
    if (r->phase == NULL) /* a segment's teardown runs once, in --phase teardown */
        rc = tide_lifecycle_call(&r->life, "teardown", r->setup_data, NULL, &res, &ran, NULL, &err);
    if (rc == TIDE_CALL_STOPPED)
        tide_log(TIDE_LOG_ERROR, "teardown(): %s", err.msg);
    else if (rc != 0)
        tide_log(TIDE_LOG_ERROR, "teardown() failed: %s", err.msg);
    cJSON_Delete(res);
    *verify_ok = true;
    if (interrupted || atomic_load(&r->shared.aborted) || r->segment)
        return NULL; /* a segment's share is not the test: verify() would judge a part */
    return run_verify(r, verify_ok);
}

/* The audit events and warnings of how the run ended: tide.abort(), a saturated generator. */
static void end_events(struct run *r)
{
    if (atomic_load(&r->shared.aborted)) {
        cJSON *af = cJSON_CreateObject();
        cJSON_AddStringToObject(af, "reason", r->shared.abort_reason);
        cJSON_AddStringToObject(af, "by", "tide.abort");
        tide_audit_event(&r->audit, "abort", af);
    }
    if (!generator_bound(r))
        return;
    tide_log(TIDE_LOG_WARN,
             "the load generator itself was saturated for %lld of %lld s (event-loop lag "
             "p99 > %.0f ms or a worker above %.0f%% CPU): latencies include tide's own "
             "delay; use more --threads or machines%s",
             (long long)r->saturated_s, (long long)r->health_s, SATURATED_LAG_MS, SATURATED_CPU_PCT,
             r->cfg.fail_on_saturation ? " (--fail-on-saturation)" : "");
    cJSON *gf = cJSON_CreateObject();
    cJSON_AddNumberToObject(gf, "saturated_seconds", (double)r->saturated_s);
    tide_audit_event(&r->audit, "generator_bound", gf);
}

/* Judges the default checks on the run's totals; false with r->reason when one failed. */
static bool judge_defaults(struct run *r)
{
    return tide_judge_defaults(r->defaults, r->rule, r->total, r->reason, sizeof r->reason);
}

/* r->reason for a run that failed on a user threshold, verify() or saturation. */
static void failure_reason(struct run *r, const struct tide_outcome *o)
{
    if (tide_judge_threshold_reason(r->thr, r->nthr, r->reason, sizeof r->reason))
        return;
    if (o->verify_failed) {
        snprintf(r->reason, sizeof r->reason, "verify() failed (see the verify section)");
    } else if (o->saturated_fails) {
        snprintf(r->reason, sizeof r->reason,
                 "the load generator was saturated for %lld of %lld s (--fail-on-saturation)",
                 (long long)r->saturated_s, (long long)r->health_s);
    }
}

static int decide(struct run *r, bool interrupted, bool verify_ok, const char **status)
{
    struct tide_outcome o = {0};
    o.interrupted = interrupted;
    o.aborted = atomic_load(&r->shared.aborted);
    o.thresholds_ok = true;
    for (int i = 0; i < r->nthr; i++)
        o.thresholds_ok = o.thresholds_ok && r->thr[i].ok;
    o.verify_failed = !verify_ok && r->cfg.verify_fails_run;
    o.saturated_fails = r->cfg.fail_on_saturation && generator_bound(r);
    o.threshold_abort = r->threshold_abort;
    o.defaults_failed = !judge_defaults(r);
    o.defaults_exit = r->rule == TIDE_RULE_LOCUST ? r->locust_exit : TIDE_EXIT_THRESHOLDS;
    int code = tide_verdict(&o, status);
    if (interrupted)
        snprintf(r->reason, sizeof r->reason,
                 "interrupted by %s (the report holds the results up to then)",
                 got_signal == SIGTERM ? "SIGTERM" : "SIGINT");
    else if (o.aborted)
        snprintf(r->reason, sizeof r->reason, "%s", r->shared.abort_reason);
    else if (r->threshold_abort)
        snprintf(r->reason, sizeof r->reason, "%s", r->threshold_abort_reason);
    else if ((!o.thresholds_ok || o.verify_failed || o.saturated_fails) &&
             code == TIDE_EXIT_THRESHOLDS)
        failure_reason(r, &o); /* before a default check's reason */
    if (code == TIDE_EXIT_OK)
        r->reason[0] = '\0';
    return code;
}

/* The measured duration: without the warm-up, unless that leaves nothing. */
static double measured_seconds(const struct run *r)
{
    double secs = (double)(r->end_us - r->start_us) / 1e6 - (double)r->cfg.warmup_us / 1e6;
    if (secs <= 0)
        secs = (double)(r->end_us - r->start_us) / 1e6;
    return secs;
}

/* summary.json's "run" section. */
static cJSON *run_json(const struct run *r, const char *status, int code)
{
    cJSON *run = cJSON_CreateObject();
    char ts[40], sha[65];
    cJSON_AddStringToObject(run, "id", r->id);
    cJSON_AddStringToObject(run, "scenario_file", r->cfg.script_path);
    tide_sha256_hex(r->cfg.script_source, r->cfg.script_len, sha);
    cJSON_AddStringToObject(run, "scenario_sha256", sha);
    cJSON_AddStringToObject(run, "host", r->cfg.host != NULL ? r->cfg.host : "");
    tide_wall_format(r->start_wall_us, ts, sizeof ts);
    cJSON_AddStringToObject(run, "start", ts);
    tide_wall_format(r->end_wall_us, ts, sizeof ts);
    cJSON_AddStringToObject(run, "end", ts);
    cJSON_AddNumberToObject(run, "duration_s", round(measured_seconds(r) * 1000) / 1000);
    cJSON_AddNumberToObject(run, "warmup_s", (double)r->cfg.warmup_us / 1e6);
    cJSON_AddNumberToObject(run, "threads", r->nworkers);
    cJSON_AddStringToObject(run, "status", status);
    cJSON_AddNumberToObject(run, "exit_code", code);
    if (atomic_load(&r->shared.aborted))
        cJSON_AddStringToObject(run, "abort_reason", r->shared.abort_reason);
    else if (r->threshold_abort)
        cJSON_AddStringToObject(run, "abort_reason", r->threshold_abort_reason);
    else
        cJSON_AddNullToObject(run, "abort_reason");
    cJSON_AddBoolToObject(run, "generator_bound", generator_bound(r));
    if (r->reason[0] != '\0')
        cJSON_AddStringToObject(run, "reason", r->reason);
    else
        cJSON_AddNullToObject(run, "reason");
    return run;
}

/* The per-second rows, kept as JSON text during the run, parsed once here. */
static cJSON *history_json(const struct run *r)
{
    struct tide_buf rows = {0};
    tide_buf_append(&rows, "[", 1);
    if (r->history.len > 0)
        tide_buf_append(&rows, r->history.data, r->history.len);
    tide_buf_append(&rows, "]", 1);
    cJSON *history = rows.data != NULL ? cJSON_Parse(rows.data) : NULL;
    tide_buf_free(&rows);
    return history != NULL ? history : cJSON_CreateArray();
}

/* summary.json's "plugins" (the loaded packages), "plugin_sections" (what their api.summary
 * functions returned) and "hooks" ({ failures: [{ event, hook, required, error }] }). */
static void extension_json(const struct run *r, cJSON *s)
{
    cJSON_AddItemToObject(s, "plugins", tide_plugins_json(&r->cfg));
    if (r->sections != NULL)
        cJSON_AddItemToObject(s, "plugin_sections", cJSON_Duplicate(r->sections, 1));
    cJSON *h = cJSON_AddObjectToObject(s, "hooks");
    cJSON_AddItemToObject(h, "failures",
                          r->life.failures != NULL ? cJSON_Duplicate(r->life.failures, 1)
                                                   : cJSON_CreateArray());
    cJSON_AddBoolToObject(h, "required_failed", r->life.required_failed);
}

/* summary.json's run.segment, run.start_at, run.start_skew_ms (docs/distributed.md). */
static void add_distributed_json(const struct run *r, cJSON *run)
{
    if (r->cfg.segment_count > 1 || r->segment) {
        char seg[32];
        snprintf(seg, sizeof seg, "%d/%d", r->cfg.segment_index + 1,
                 r->cfg.segment_count > 0 ? r->cfg.segment_count : 1);
        cJSON_AddStringToObject(run, "segment", seg);
    } else {
        cJSON_AddNullToObject(run, "segment");
    }
    if (r->start_at) {
        char ts[40];
        tide_wall_format(r->start_at_wall_us, ts, sizeof ts);
        cJSON_AddStringToObject(run, "start_at", ts);
        cJSON_AddNumberToObject(run, "start_skew_ms", round((double)r->start_skew_us) / 1000);
    } else {
        cJSON_AddNullToObject(run, "start_at");
        cJSON_AddNullToObject(run, "start_skew_ms");
    }
}

/* summary.json's "transports": requests each HTTP client ended (docs/http.md). */
static void add_transports_json(cJSON *s)
{
    uint64_t native = 0, curl = 0;
    tide_transport_counts(&native, &curl);
    cJSON *t = cJSON_AddObjectToObject(s, "transports");
    cJSON_AddNumberToObject(t, "native", (double)native);
    cJSON_AddNumberToObject(t, "curl", (double)curl);
}

/* summary.json (not yet redacted); takes 'verify' (NULL: verify did not run). */
static cJSON *summary_doc(const struct run *r, const char *status, int code, cJSON *verify)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "schema", "tide.summary/1");
    cJSON *tool = cJSON_AddObjectToObject(s, "tool");
    cJSON_AddStringToObject(tool, "name", "tide");
    cJSON_AddStringToObject(tool, "version", TIDE_VERSION);
    cJSON_AddStringToObject(tool, "git", TIDE_GIT);
    cJSON *run = run_json(r, status, code);
    add_distributed_json(r, run);
    cJSON_AddItemToObject(s, "run", run);
    cJSON_AddItemToObject(s, "options", tide_outputs_options_json(&r->cfg));
    tide_summary_add_metrics(s, r->total, measured_seconds(r));
    cJSON_AddItemToObject(s, "thresholds",
                          tide_judge_thresholds_json(r->thr, r->nthr, r->defaults));
    if (verify != NULL)
        cJSON_AddItemToObject(s, "verify", verify);
    else
        cJSON_AddNullToObject(s, "verify");
    cJSON_AddItemToObject(s, "generator", generator_json(r));
    cJSON_AddItemToObject(s, "history", history_json(r));
    extension_json(r, s);
    add_transports_json(s);
    return s;
}

/* The files, then handle_summary() and the terminal summary. Returns -1
 * when a file could not be written. */
static int write_folder(struct run *r, cJSON *summary)
{
    cJSON *doc = NULL;
    int rc = tide_outputs_write(&r->cfg, r->dir, summary, &doc);
    if (doc != NULL) {
        struct tide_err err = {{0}};
        cJSON *files = NULL;
        bool ran;
        int hs =
            tide_lifecycle_call(&r->life, "handle_summary", doc, NULL, &files, &ran, NULL, &err);
        if (hs == TIDE_CALL_STOPPED)
            tide_log(TIDE_LOG_ERROR, "handle_summary(): %s", err.msg);
        else if (hs != 0)
            tide_log(TIDE_LOG_ERROR, "handle_summary() failed: %s", err.msg);
        else if (cJSON_IsObject(files))
            tide_outputs_handle_summary(r->dir, files);
        cJSON_Delete(files);
    }
    if (!r->cfg.quiet)
        tide_console_summary(stdout, doc != NULL ? doc : summary);
    cJSON_Delete(doc);
    return rc;
}

/* report_written's file list: [{ name, sha256, bytes }], the manifest's files and the
 * manifest itself, sorted by name. */
static cJSON *folder_files(const char *dir)
{
    cJSON *arr = cJSON_CreateArray();
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    char *text = tide_fs_read_all(path, NULL, NULL);
    cJSON *m = text != NULL ? cJSON_Parse(text) : NULL;
    free(text);
    cJSON *files = cJSON_GetObjectItem(m, "files");
    if (cJSON_IsObject(files))
        cJSON_AddStringToObject(files, "manifest.json", "");
    const cJSON *f, *list = cJSON_IsObject(files) ? files : NULL;
    cJSON_ArrayForEach(f, list)
    {
        char hex[65];
        struct tide_err err = {{0}};
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, f->string);
        if (stat(path, &st) != 0 || tide_fs_sha256_file(path, hex, &err) != 0)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", f->string);
        cJSON_AddStringToObject(o, "sha256", hex);
        cJSON_AddNumberToObject(o, "bytes", (double)st.st_size);
        cJSON_AddItemToArray(arr, o);
    }
    cJSON_Delete(m);
    return arr;
}

/* A required hook that failed fails a run that would have passed (exit 99, the reason names
 * the hook); a run that failed already keeps its code and reason. */
static int hooks_verdict(struct run *r, int code, const char **status)
{
    if (!r->life.required_failed || code != TIDE_EXIT_OK)
        return code;
    *status = "failed";
    snprintf(r->reason, sizeof r->reason, "%s", r->life.required_msg);
    return TIDE_EXIT_THRESHOLDS;
}

/* The plugins' summary sections (api.summary), from the summary as it stands. */
static void plugin_sections(struct run *r, int code, const char *status, const cJSON *verify)
{
    cJSON *s = summary_doc(r, status, code, verify != NULL ? cJSON_Duplicate(verify, 1) : NULL);
    tide_redact_json(s);
    cJSON *res = NULL;
    bool ran = false;
    struct tide_err err = {{0}};
    int rc =
        tide_lifecycle_call(&r->life, "__tide_plugin_sections", s, NULL, &res, &ran, NULL, &err);
    cJSON_Delete(s);
    if (rc != 0)
        tide_log(TIDE_LOG_WARN, "plugin summary sections: %s", err.msg);
    else if (cJSON_IsArray(res))
        r->sections = res, res = NULL;
    cJSON_Delete(res);
}

/* The audit log's last event, then the manifest over everything, then report_written. */
static int seal_folder(struct run *r, int write_failed, const char *status, int code)
{
    struct tide_err err = {{0}};
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "status", status);
    cJSON_AddNumberToObject(f, "exit_code", code);
    tide_audit_event(&r->audit, "end", f);
    if (r->seconds != NULL && fclose(r->seconds) != 0) {
        tide_log(TIDE_LOG_ERROR, "seconds.jsonl: cannot write");
        write_failed = -1;
    }
    r->seconds = NULL;
    if (tide_audit_close(&r->audit, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "%s", err.msg);
        write_failed = -1;
    }
    if (write_failed == 0 &&
        tide_outputs_manifest(&r->cfg, r->dir, r->start_wall_us, r->end_wall_us, code, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "%s", err.msg);
        write_failed = -1;
    }
    if (write_failed == 0 && tide_provenance_seal(&r->cfg, r->dir, code) != 0)
        write_failed = -1; /* --sign failed: the run is not what was asked */
    tide_outputs_point_latest(&r->cfg, r->id);
    if (write_failed != 0)
        return -1;
    cJSON *arg = cJSON_CreateObject();
    cJSON_AddStringToObject(arg, "dir", r->dir);
    cJSON_AddStringToObject(arg, "id", r->id);
    cJSON_AddStringToObject(arg, "status", status);
    cJSON_AddNumberToObject(arg, "exit_code", code);
    cJSON_AddItemToObject(arg, "files", folder_files(r->dir));
    tide_lifecycle_hook(&r->life, NULL, "report_written", arg); /* the audit log is closed */
    cJSON_Delete(arg);
    return 0;
}

/* The dashboard's last event: the final summary and report.html as written in the folder;
 * open pages get up to 3 s to receive it before the server stops. */
static void dashboard_final(struct run *r)
{
    if (r->dash == NULL)
        return;
    char path[4200];
    struct tide_err err = {{0}};
    size_t slen = 0, hlen = 0;
    snprintf(path, sizeof path, "%s/summary.json", r->dir);
    char *stext = tide_fs_read_all(path, &slen, &err);
    snprintf(path, sizeof path, "%s/report.html", r->dir);
    char *html = tide_fs_read_all(path, &hlen, &err);
    cJSON *s = stext != NULL ? cJSON_Parse(stext) : NULL;
    char *page = s != NULL ? tide_report_page_json(s) : NULL;
    if (page != NULL)
        tide_dashboard_final(r->dash, page, "[]", html, hlen);
    tide_dashboard_stop(r->dash, 3000);
    r->dash = NULL;
    cJSON_Delete(s);
    free(stext);
    free(html);
    free(page);
}

static void close_streams(struct run *r)
{
    for (int i = 0; i < r->nstreams; i++) {
        tide_stream_close(r->streams[i]); /* logs its own problems */
        r->streams[i] = NULL;
    }
}

static int finish(struct run *r, bool interrupted)
{
    /* teardown and reports run; a second Ctrl-C stops them, also one that came while the VUs
     * were stopping (it must not be forgotten here: teardown would wait on its requests) */
    tide_stop_requested = nsignals >= 2;
    if (nsignals >= 2)
        tide_log(TIDE_LOG_WARN, "interrupted twice: teardown() and hooks are stopped at once; "
                                "writing the report");
    int64_t last_s = r->next_final > 0 ? r->next_final - 1 : 0;
    burst_fire(r, &r->checks_burst, "check_failed", "checks", last_s, true);
    burst_fire(r, &r->errors_burst, "error_burst", "errors", last_s, true);
    bool verify_ok;
    cJSON *verify = end_calls(r, interrupted, &verify_ok);
    if (got_signal && !interrupted) {
        /* Ctrl-C during teardown() or verify(): the user stopped the run, so it ends as
         * interrupted (130); a verify() cut short is no verdict on the system under test */
        interrupted = true;
        verify_ok = true;
    }
    thresholds_eval(r, true);
    end_events(r);
    const char *status;
    int code = decide(r, interrupted, verify_ok, &status);
    plugin_sections(r, code, status, verify);
    /* test_end sees the verdict; a required test_end hook that fails still changes it */
    cJSON *s = summary_doc(r, status, code, verify != NULL ? cJSON_Duplicate(verify, 1) : NULL);
    run_hook(r, "test_end", s);
    cJSON_Delete(s);
    code = hooks_verdict(r, code, &status);
    s = summary_doc(r, status, code, verify);
    int write_failed = write_folder(r, s);
    cJSON_Delete(s);
    close_streams(r); /* every second is in: written and flushed, also after Ctrl-C */
    dashboard_final(r);
    int sealed = seal_folder(r, write_failed, status, code);
    code = hooks_verdict(r, code, &status); /* a required report_written hook */
    if (sealed != 0) {
        tide_log(TIDE_LOG_ERROR, "the run folder %s is incomplete", r->dir);
        return code == TIDE_EXIT_OK ? TIDE_EXIT_INTERNAL : code;
    }
    if (!r->cfg.quiet)
        printf("  %s: report in %s/ (report.html, summary.json, stats.csv, junit.xml)\n",
               code == 0 ? "passed" : status, r->dir);
    if (r->reason[0] != '\0') {
        fflush(stdout); /* the reason is the last line, also when both go to one terminal */
        tide_log(TIDE_LOG_ERROR, "%s: %s", status, r->reason);
    }
    return code;
}

/* --- the start of the run --- */

/* --dashboard: the live page (its data arrive by /events) and the server, before anything is
 * sent; an address that cannot be bound stops the run. */
static int open_dashboard(struct run *r)
{
    if (r->dashboard_addr == NULL)
        return 0;
    struct tide_err err = {{0}};
    cJSON *s = cJSON_Parse("{\"schema\":\"tide.summary/1\",\"run\":{\"status\":\"running\"}}");
    cJSON_AddStringToObject(cJSON_GetObjectItem(s, "run"), "scenario_file", r->cfg.script_path);
    struct tide_buf page = {0};
    int rc = tide_report_html_text(s, true, &page, &err);
    cJSON_Delete(s);
    if (rc == 0)
        r->dash = tide_dashboard_start(r->dashboard_addr, page.data, page.len, &err);
    tide_buf_free(&page);
    if (r->dash == NULL) {
        tide_log(TIDE_LOG_ERROR, "%s", err.msg);
        return -1;
    }
    tide_log(TIDE_LOG_INFO, "dashboard: %s (read-only, for the length of the run)",
             tide_dashboard_url(r->dash));
    return 0;
}

/* --stream outputs, before anything is sent: a file that cannot be created stops the run. */
static int open_streams(struct run *r)
{
    for (int i = 0; i < r->nstreams; i++) {
        struct tide_err err = {{0}};
        if ((r->streams[i] = tide_stream_open(r->stream_specs[i], &err)) == NULL) {
            tide_log(TIDE_LOG_ERROR, "%s", err.msg);
            return -1;
        }
        if (tide_stream_uses_stdout(r->stream_specs[i]))
            r->cfg.quiet = true; /* stdout carries the stream alone; messages stay on stderr */
    }
    return 0;
}

/* Everything before setup(): thresholds, the in-process target, limits, shared state,
 * signals. Returns 0 or an exit code. */
static int prepare(struct run *r)
{
    struct tide_err err = {{0}};
    if (thresholds_init(r, &err) != 0 || tide_outputs_check_extra(&r->cfg, &err) != 0 ||
        (r->cfg.sign_key != NULL && tide_sign_check_key(r->cfg.sign_key, &err) != 0)) {
        tide_log(TIDE_LOG_ERROR, "%s", err.msg);
        return TIDE_EXIT_USAGE;
    }
    tide_log_set_quiet(r->cfg.quiet);
    if (open_streams(r) != 0)
        return TIDE_EXIT_USAGE;
    if (open_dashboard(r) != 0)
        return TIDE_EXIT_USAGE;
    if (r->cfg.target_inprocess && start_target(r, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "target: %s", err.msg);
        return TIDE_EXIT_INTERNAL;
    }
    if (raise_nofile(r) != 0)
        return TIDE_EXIT_USAGE;
    r->shared.cfg = &r->cfg;
    r->shared.new_state = tide_sandbox_open;
    r->shared.shared_iters = calloc((size_t)r->cfg.nscenarios, sizeof *r->shared.shared_iters);
    atomic_flag_clear(&r->shared.abort_once);
    r->total = tide_registry_new();
    tide_agg_init(&r->lag_total, TIDE_TREND);
    tide_agg_init(&r->cpu_total, TIDE_TREND);
    r->tty = isatty(STDERR_FILENO);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT); /* one handler at a time: nsignals counts right */
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return 0;
}

/* Opens the lifecycle runner and runs setup(): once, before any VU; its result goes to every
 * VU. Returns 0 or an exit code. */
static int run_setup(struct run *r)
{
    struct tide_err err = {{0}};
    bool ran;
    int rc = tide_lifecycle_open(&r->life, &r->shared, r->probe, &err);
    r->probe = NULL; /* taken */
    bool given = r->setup_data_path != NULL && strcmp(r->phase, "setup") != 0;
    if (rc == 0 && given) { /* setup() ran once, in --phase setup */
        r->setup_data = tide_setup_data_read(r->setup_data_path, &err);
        if (r->setup_data == NULL) {
            tide_log(TIDE_LOG_ERROR, "%s", err.msg);
            return TIDE_EXIT_USAGE;
        }
    } else if (rc == 0 && (r->phase == NULL || strcmp(r->phase, "setup") == 0)) {
        rc = tide_lifecycle_call(&r->life, "setup", NULL, NULL, &r->setup_data, &ran, NULL, &err);
    }
    if (rc == TIDE_CALL_ABORTED) {
        tide_log(TIDE_LOG_ERROR, "setup() called tide.abort(): %s", err.msg);
        return TIDE_EXIT_ABORTED;
    }
    if (rc != 0 && got_signal) {
        tide_log(TIDE_LOG_WARN, "interrupted during setup(); nothing was measured");
        return TIDE_EXIT_INTERRUPTED;
    }
    if (rc == TIDE_CALL_STOPPED) {
        tide_log(TIDE_LOG_ERROR, "setup(): %s", err.msg);
        return TIDE_EXIT_USAGE;
    }
    if (rc != 0) {
        tide_log(TIDE_LOG_ERROR, "setup() failed: %s", err.msg);
        return TIDE_EXIT_USAGE;
    }
    r->setup_text = r->setup_data != NULL ? cJSON_PrintUnformatted(r->setup_data) : NULL;
    r->shared.setup_json = r->setup_text;
    return 0;
}

static int open_seconds(struct run *r)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/seconds.jsonl", r->dir);
    r->seconds = fopen(path, "w");
    if (r->seconds == NULL) {
        tide_log(TIDE_LOG_ERROR, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The run folder and its audit log, the start event and the test_start hook. */
static int open_folder(struct run *r)
{
    struct tide_err err = {{0}};
    r->start_wall_us = tide_wall_us();
    if (tide_outputs_make_dir(&r->cfg, r->start_wall_us, r->dir, sizeof r->dir, r->id, sizeof r->id,
                              &err) != 0 ||
        tide_audit_open(&r->audit, r->dir, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "%s", err.msg);
        return TIDE_EXIT_INTERNAL;
    }
    if (r->segment && open_seconds(r) != 0)
        return TIDE_EXIT_INTERNAL;
    for (int i = 0; i < r->nstreams; i++)
        tide_stream_set_run_id(r->streams[i], r->id); /* a label of prometheus=URL series */
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "scenario_file", r->cfg.script_path);
    cJSON_AddStringToObject(f, "host", r->cfg.host != NULL ? r->cfg.host : "");
    cJSON_AddItemToObject(f, "options", tide_outputs_options_json(&r->cfg));
    cJSON *hook_arg = cJSON_CreateObject();
    cJSON_AddStringToObject(hook_arg, "id", r->id);
    cJSON_AddStringToObject(hook_arg, "dir", r->dir);
    cJSON_AddStringToObject(hook_arg, "scenario_file", r->cfg.script_path);
    cJSON_AddStringToObject(hook_arg, "host", r->cfg.host != NULL ? r->cfg.host : "");
    cJSON_AddItemToObject(hook_arg, "options", tide_outputs_options_json(&r->cfg));
    cJSON_AddItemToObject(hook_arg, "plugins", tide_plugins_json(&r->cfg));
    if (r->life.open && r->life.w.L != NULL)
        tide_runfiles_set_dir(r->life.w.L, r->dir); /* hooks may read it from now on */
    tide_audit_event(&r->audit, "start", f);
    run_hook(r, "test_start", hook_arg);
    cJSON_Delete(hook_arg);
    return 0;
}

/* --start-at: the first VU starts at that instant (workers are up 20 ms before), or at once
 * when it is past; the skew is what summary.json records. Run time (the history's seconds)
 * counts from the start, so the segments' seconds line up by wall clock. */
static void start_at_instant(struct run *r)
{
    int64_t now_mono = tide_now_us(), now_wall = tide_wall_us();
    int64_t ahead = r->start_at_wall_us - now_wall;
    if (ahead > 20000)
        r->shared.start_us = now_mono + ahead;
    r->start_skew_us = now_wall + (r->shared.start_us - now_mono) - r->start_at_wall_us;
    r->start_wall_us = r->start_at_wall_us + r->start_skew_us;
    if (r->start_skew_us > TIDE_START_AT_TOLERANCE_US)
        tide_log(TIDE_LOG_WARN, "started %.0f ms after --start-at (tolerance %.0f ms)",
                 (double)r->start_skew_us / 1000, (double)TIDE_START_AT_TOLERANCE_US / 1000);
}

/* Waits for --start-at, less the workers' start-up; false when interrupted. */
static bool wait_start_at(struct run *r)
{
    for (;;) {
        int64_t left = r->start_at_wall_us - 20000 - tide_wall_us();
        if (left <= 0)
            return true;
        if (got_signal)
            return false;
        struct timespec ts = {0, (long)(left > 100000 ? 100000 : left) * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Refuses a --start-at already past by more than a second: the other segments started
 * without this one. */
static int check_start_at(struct run *r)
{
    int64_t late = tide_wall_us() - r->start_at_wall_us;
    if (late > TIDE_START_AT_REFUSE_US) {
        tide_log(TIDE_LOG_ERROR,
                 "--start-at is %.1f s past: the other segments started without "
                 "this one (give a later time)",
                 (double)late / 1e6);
        return TIDE_EXIT_USAGE;
    }
    return 0;
}

static void start_workers(struct run *r)
{
    struct tide_err err = {{0}};
    r->nworkers = r->cfg.threads;
    r->workers = calloc((size_t)r->nworkers, sizeof *r->workers);
    r->delivered = malloc((size_t)r->nworkers * sizeof *r->delivered);
    for (int w = 0; w < r->nworkers; w++)
        r->delivered[w] = -1;
    r->start_us = tide_now_us();
    r->shared.start_us = r->start_us + 20000; /* workers are up before the first VU starts */
    if (r->start_at)
        start_at_instant(r);
    r->start_us = r->shared.start_us;
    int started = 0;
    for (int w = 0; w < r->nworkers; w++) {
        if (tide_worker_start(&r->workers[w], w, r->nworkers, &r->shared, &err) != 0) {
            tide_log(TIDE_LOG_ERROR, "%s", err.msg);
            atomic_store(&r->shared.stop, true);
            break;
        }
        started++;
    }
    r->nworkers = started;
}

/* --phase setup: setup() alone, its data to --setup-data FILE (or setup-data.json);
 * --phase teardown: teardown() alone with the data of FILE. */
static int run_phase(struct run *r)
{
    struct tide_err err = {{0}};
    if (strcmp(r->phase, "setup") == 0) {
        const char *path = r->setup_data_path != NULL ? r->setup_data_path : "setup-data.json";
        if (tide_setup_data_write(path, r->setup_data, &err) != 0) {
            tide_log(TIDE_LOG_ERROR, "%s", err.msg);
            return TIDE_EXIT_INTERNAL;
        }
        if (!r->cfg.quiet)
            printf("setup() done: its data is in %s (give it to each segment with --setup-data "
                   "%s)\n",
                   path, path);
        return TIDE_EXIT_OK;
    }
    bool ran = false;
    cJSON *res = NULL;
    int rc = tide_lifecycle_call(&r->life, "teardown", r->setup_data, NULL, &res, &ran, NULL, &err);
    cJSON_Delete(res);
    if (rc != 0) {
        tide_log(TIDE_LOG_ERROR,
                 rc == TIDE_CALL_STOPPED ? "teardown(): %s" : "teardown() failed: %s", err.msg);
        return TIDE_EXIT_USAGE;
    }
    if (!r->cfg.quiet)
        printf("teardown() %s\n", ran ? "done" : "is not defined: nothing to do");
    return TIDE_EXIT_OK;
}

/* The plan on stderr (--quiet, or a log level above INFO: its warnings alone). An output path
 * that cannot be written stops the run first, one line each and exit 2, before anything is
 * sent (--csv/--html folders are made here when missing). */
static int show_plan(struct run *r, const struct tide_cli *cli)
{
    struct tide_err err = {{0}};
    if (tide_outputs_check_extra(&r->cfg, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "%s", err.msg);
        return TIDE_EXIT_USAGE;
    }
    cJSON *plan = tide_plan_build(cli, &r->cfg, r->probe, r->rule);
    if (plan == NULL)
        return TIDE_EXIT_INTERNAL;
    int code = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItem(plan, "warnings"))
    {
        if (strcmp(cJSON_GetObjectItem(w, "kind")->valuestring, "output") == 0) {
            tide_log(TIDE_LOG_ERROR, "%s", cJSON_GetObjectItem(w, "message")->valuestring);
            code = TIDE_EXIT_USAGE;
        }
    }
    if (code == 0 && !r->cfg.quiet && tide_log_enabled(TIDE_LOG_INFO)) {
        tide_plan_print(stderr, plan);
        fflush(stderr);
    } else if (code == 0) {
        tide_plan_warn(plan, NULL);
    }
    cJSON_Delete(plan);
    return code;
}

static int run_with(struct run *r)
{
    int code = prepare(r);
    if (code == 0 && r->start_at)
        code = check_start_at(r); /* past already: one line, no plan (again after setup()) */
    if (code == 0)
        code = show_plan(r, r->cli); /* after the up-front checks, before setup() (plan.h) */
    if (code == 0)
        code = run_setup(r);
    if (code == 0 && r->phase != NULL && strcmp(r->phase, "run") != 0)
        return run_phase(r); /* --phase setup or teardown: no load, no run folder */
    if (code == 0 && r->start_at)
        code = check_start_at(r);
    if (code == 0)
        code = open_folder(r);
    if (code != 0)
        return code;
    if (r->start_at && !wait_start_at(r)) {
        tide_log(TIDE_LOG_WARN, "interrupted before --start-at; nothing was measured");
        code = TIDE_EXIT_INTERRUPTED;
        seal_folder(r, 0, "interrupted", code);
        return code;
    }
    start_workers(r);
    bool interrupted = drive(r);
    for (int w = 0; w < r->nworkers; w++) {
        if (r->workers[w].failed)
            tide_log(TIDE_LOG_ERROR, "worker %d: %s", w, r->workers[w].error);
    }
    code = finish(r, interrupted);
    r->shared.setup_json = NULL;
    return code;
}
/* The flags of a split test (distributed.h); 0 or an exit code. */
static int distributed_flags(struct run *r, const struct tide_cli *cli)
{
    struct tide_err err = {{0}};
    r->phase = cli->phase;
    r->setup_data_path = cli->setup_data;
    if (r->phase == NULL && r->setup_data_path != NULL)
        r->phase = "run"; /* the data of a setup phase: no setup() or teardown() here */
    r->segment = cli->segment != NULL || r->cfg.segment_count > 1;
    if (cli->start_at != NULL) {
        if (tide_start_at_parse(cli->start_at, tide_wall_us(), &r->start_at_wall_us, &err) != 0) {
            tide_log(TIDE_LOG_ERROR, "%s", err.msg);
            return TIDE_EXIT_USAGE;
        }
        r->start_at = true;
    }
    return 0;
}

/* Locust's --loglevel: messages below it are not printed. */
static void set_loglevel(const struct tide_cli *cli)
{
    if (cli->loglevel == NULL)
        return;
    enum tide_log_level min = TIDE_LOG_DEBUG;
    if (strcmp(cli->loglevel, "INFO") == 0)
        min = TIDE_LOG_INFO;
    else if (strcmp(cli->loglevel, "WARNING") == 0 || strcmp(cli->loglevel, "WARN") == 0)
        min = TIDE_LOG_WARN;
    else if (strcmp(cli->loglevel, "ERROR") == 0 || strcmp(cli->loglevel, "CRITICAL") == 0)
        min = TIDE_LOG_ERROR;
    tide_log_set_level(min);
}

int tide_run_main(int argc, char **argv)
{
    struct tide_cli cli;
    struct tide_err err = {{0}};
    if (tide_runconf_parse(argc, argv, &cli, &err) != 0) { /* flags, env, config (runconf.h) */
        tide_log(TIDE_LOG_ERROR, "%s", err.msg);
        tide_cli_free(&cli);
        return TIDE_EXIT_USAGE;
    }
    set_loglevel(&cli);
    struct run *r = calloc(1, sizeof *r);
    if (r == NULL) {
        tide_cli_free(&cli);
        return TIDE_EXIT_INTERNAL;
    }
    int code;
    if (tide_options_build_keep(&cli, &r->cfg, &r->probe, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "%s", err.msg);
        code = TIDE_EXIT_USAGE;
    } else {
        /* Locust's rule only for a Locust user who set no threshold (verdict.h) */
        if (cli.no_default_thresholds)
            r->rule = TIDE_RULE_NONE;
        else if (cli.locust_flags && r->cfg.nthresholds == 0)
            r->rule = TIDE_RULE_LOCUST;
        r->locust_exit =
            cli.exit_code_on_error >= 0 ? cli.exit_code_on_error : TIDE_LOCUST_EXIT_DEFAULT;
        r->only_summary = cli.only_summary;
        r->nstreams = cli.nstreams;
        r->dashboard_addr = cli.dashboard;
        memcpy(r->stream_specs, cli.streams, sizeof r->stream_specs);
        r->cli = &cli;
        code = distributed_flags(r, &cli);
        if (code == 0)
            code = run_with(r);
        if (code == TIDE_EXIT_THRESHOLDS && r->segment) {
            /* a segment's share is not the test: tide merge gives the verdict */
            tide_log(TIDE_LOG_INFO,
                     "segment %d/%d: exit 0; its thresholds are judged on the whole "
                     "test by tide merge",
                     r->cfg.segment_index + 1, r->cfg.segment_count);
            code = TIDE_EXIT_OK;
        }
    }
    free_run(r);
    free(r);
    tide_cli_free(&cli);
    tide_secrets_clear();
    return code;
}

/* tide demo: the built-in API in-process and the bundled scenario (scenarios/demo.lua when
 * run from the source tree; otherwise the copy embedded in the binary). */
int tide_demo_main(int argc, char **argv)
{
    char script[4200];
    const struct tide_embedded *e = tide_embedded_find(tide_scenarios, "demo.lua");
    if (access("scenarios/demo.lua", R_OK) == 0) {
        snprintf(script, sizeof script, "scenarios/demo.lua");
    } else if (e != NULL) {
        const char *tmp = getenv("TMPDIR");
        snprintf(script, sizeof script, "%s/tide-demo-%d", tmp ? tmp : "/tmp", (int)getuid());
        struct tide_err err;
        if (tide_fs_mkdirs(script, &err) != 0) {
            tide_log(TIDE_LOG_ERROR, "%s", err.msg);
            return TIDE_EXIT_INTERNAL;
        }
        strcat(script, "/demo.lua");
        if (tide_fs_write_atomic(script, e->data, e->len, &err) != 0) {
            tide_log(TIDE_LOG_ERROR, "%s", err.msg);
            return TIDE_EXIT_INTERNAL;
        }
    } else {
        tide_log(TIDE_LOG_ERROR, "demo scenario not found");
        return TIDE_EXIT_INTERNAL;
    }
    char *args[64];
    int n = 0;
    args[n++] = script;
    args[n++] = (char *)"--target";
    for (int i = 0; i < argc && n < 63; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    printf("tide demo: built-in API + %s (login, CRUD and search, ~30 s)\n", script);
    fflush(stdout);
    return tide_run_main(n, args);
}
