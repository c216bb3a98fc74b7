/* plan.c: the plan of a run as JSON, its text, and its warnings (plan.h). */
#include <errno.h>
#include <stdarg.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "duration.h"
#include "log.h"
#include "metrics.h"
#include "plan.h"
#include "threshold.h"

/* --- what the script set, read from the probe state (env on top) --- */

/* Pushes options[key] (or options.scenarios[name][key] with name non-NULL); returns its type. */
static int script_value(lua_State *L, const char *scenario, const char *key)
{
    if (!lua_istable(L, -1)) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    int top = lua_gettop(L);
    int t = lua_getfield(L, top, "options");
    if (t == LUA_TTABLE && scenario != NULL) {
        t = lua_getfield(L, -1, "scenarios");
        if (t == LUA_TTABLE)
            t = lua_getfield(L, -1, scenario);
    }
    if (t == LUA_TTABLE)
        t = lua_getfield(L, -1, key);
    else
        lua_pushnil(L), t = LUA_TNIL;
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return t;
}

static bool script_has(lua_State *L, const char *scenario, const char *key)
{
    if (L == NULL)
        return scenario != NULL; /* no state: a scenario's values are the script's */
    int t = script_value(L, scenario, key);
    lua_pop(L, 1);
    return t != LUA_TNIL;
}

/* options.expected_iteration_duration (of the scenario, else of options): microseconds. */
static int64_t iteration_estimate(lua_State *L, const char *scenario, enum tide_source *src)
{
    const char *const keys[] = {"expected_iteration_duration", "expectedIterationDuration"};
    for (int pass = 0; L != NULL && pass < 2; pass++) {
        for (int k = 0; k < 2; k++) {
            int t = script_value(L, pass == 0 ? scenario : NULL, keys[k]);
            int64_t us = -1;
            struct tide_err e;
            if (t == LUA_TNUMBER && lua_tonumber(L, -1) > 0)
                us = (int64_t)(lua_tonumber(L, -1) * 1e6);
            else if (t == LUA_TSTRING && tide_duration_parse(lua_tostring(L, -1), &us, &e) != 0)
                us = -1;
            lua_pop(L, 1);
            if (us > 0) {
                *src = TIDE_SRC_SCRIPT;
                return us;
            }
        }
    }
    *src = TIDE_SRC_DEFAULT;
    return TIDE_PLAN_ITERATION_ESTIMATE_US;
}

/* --- values --- */

static void fmt_duration(int64_t us, char *buf, size_t len)
{
    if (us % 1000000 != 0 || us == 0) {
        snprintf(buf, len, us % 1000 == 0 ? "%.0fms" : "%.3fms", (double)us / 1000);
        return;
    }
    int64_t s = us / 1000000;
    size_t n = 0;
    buf[0] = '\0';
    if (s >= 3600)
        n += (size_t)snprintf(buf + n, len - n, "%lldh", (long long)(s / 3600));
    if (s % 3600 >= 60 && n < len)
        n += (size_t)snprintf(buf + n, len - n, "%lldm", (long long)(s % 3600 / 60));
    if (s % 60 != 0 && n < len)
        snprintf(buf + n, len - n, "%llds", (long long)(s % 60));
}

static cJSON *duration_json(int64_t us)
{
    char b[64];
    fmt_duration(us, b, sizeof b);
    return cJSON_CreateString(b);
}

/* obj[name] = { value, source } */
static void setting(cJSON *obj, const char *name, cJSON *value, enum tide_source src)
{
    cJSON *s = cJSON_AddObjectToObject(obj, name);
    cJSON_AddItemToObject(s, "value", value);
    cJSON_AddStringToObject(s, "source", tide_source_name(src));
}

/* The highest layer that gave one of the flags; -1: none. */
static int flag_source(const struct tide_cli *cli, const char *a, const char *b)
{
    int best = -1;
    const struct tide_cli_given *g = tide_cli_given_of(cli, a);
    if (g != NULL)
        best = (int)g->source;
    g = b != NULL ? tide_cli_given_of(cli, b) : NULL;
    if (g != NULL && (int)g->source > best)
        best = (int)g->source;
    return best;
}

/* A flag's layer, else the script's when it set 'key', else the default. */
static enum tide_source source_of(const struct tide_cli *cli, lua_State *L, const char *flag,
                                  const char *flag2, const char *key)
{
    int f = flag != NULL ? flag_source(cli, flag, flag2) : -1;
    if (f >= 0)
        return (enum tide_source)f;
    return key != NULL && script_has(L, NULL, key) ? TIDE_SRC_SCRIPT : TIDE_SRC_DEFAULT;
}

static void warn(cJSON *warnings, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warn(cJSON *warnings, const char *kind, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *w = cJSON_CreateObject();
    cJSON_AddStringToObject(w, "kind", kind);
    cJSON_AddStringToObject(w, "message", msg);
    cJSON_AddItemToArray(warnings, w);
}

/* --- scenarios --- */

struct sources {
    enum tide_source vus, duration, iterations, stages, rate;
};

static cJSON *stages_json(const struct tide_scenario *s)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < s->nstages; i++) {
        cJSON *st = cJSON_CreateObject();
        cJSON_AddItemToObject(st, "duration", duration_json(s->stages[i].duration_us));
        cJSON_AddNumberToObject(st, "target", s->stages[i].target);
        cJSON_AddItemToArray(a, st);
    }
    return a;
}

/* Where each field of scenario s came from: the script's scenario, or the default one built
 * from top-level options and flags. */
static enum tide_source field_source(lua_State *L, const struct tide_scenario *s, bool from_script,
                                     const char *key, enum tide_source flag_src)
{
    if (from_script)
        return script_has(L, s->name, key) ? TIDE_SRC_SCRIPT : TIDE_SRC_DEFAULT;
    return flag_src;
}

static double peak_per_second(const struct tide_scenario *s)
{
    double peak = s->rate > s->start_rate ? s->rate : s->start_rate;
    for (int i = 0; i < s->nstages; i++)
        peak = s->stages[i].target > peak ? s->stages[i].target : peak;
    return peak * 1e6 / (double)s->time_unit_us;
}

static void capacity_warning(cJSON *warnings, lua_State *L, const struct tide_scenario *s,
                             bool from_script, cJSON *sc)
{
    enum tide_source est_src;
    int64_t est = iteration_estimate(L, from_script ? s->name : NULL, &est_src);
    double per_s = peak_per_second(s);
    double need = ceil(per_s * (double)est / 1e6);
    setting(sc, "expected_iteration_duration", duration_json(est), est_src);
    if ((double)s->max_vus >= need)
        return;
    char e[64];
    fmt_duration(est, e, sizeof e);
    warn(warnings, "vus",
         "scenario %s: %g iterations/s at %s each need about %.0f VUs, but max_vus is %d: "
         "iterations will be dropped (raise max_vus/--vus, or declare "
         "expected_iteration_duration)",
         s->name, per_s, e, need, s->max_vus);
}

static cJSON *scenario_json(const struct tide_cli *cli, lua_State *L, const struct sources *src,
                            const struct tide_scenario *s, bool from_script, cJSON *warnings)
{
    cJSON *sc = cJSON_CreateObject();
    cJSON_AddStringToObject(sc, "name", s->name);
    enum tide_source shape = src->vus;
    const enum tide_source others[] = {src->duration, src->iterations, src->stages, src->rate};
    for (size_t k = 0; k < sizeof others / sizeof others[0]; k++)
        shape = others[k] > shape ? others[k] : shape;
    setting(sc, "executor", cJSON_CreateString(tide_executor_name(s->executor)),
            from_script ? TIDE_SRC_SCRIPT : shape);
    cJSON_AddStringToObject(sc, "exec", s->exec);
    enum tide_executor e = s->executor;
    bool arrival = e == TIDE_EXEC_CONSTANT_ARRIVAL_RATE || e == TIDE_EXEC_RAMPING_ARRIVAL_RATE;
    if (e == TIDE_EXEC_CONSTANT_VUS || e == TIDE_EXEC_PER_VU_ITERATIONS ||
        e == TIDE_EXEC_SHARED_ITERATIONS)
        setting(sc, "vus", cJSON_CreateNumber(s->vus),
                field_source(L, s, from_script, "vus", src->vus));
    if (e == TIDE_EXEC_PER_VU_ITERATIONS || e == TIDE_EXEC_SHARED_ITERATIONS) {
        setting(sc, "iterations", cJSON_CreateNumber((double)s->iterations),
                field_source(L, s, from_script, "iterations", src->iterations));
        setting(sc, "max_duration", duration_json(s->max_duration_us),
                field_source(L, s, from_script, "max_duration", src->duration));
    }
    if (e == TIDE_EXEC_CONSTANT_VUS || e == TIDE_EXEC_CONSTANT_ARRIVAL_RATE)
        setting(sc, "duration", duration_json(s->duration_us),
                field_source(L, s, from_script, "duration", src->duration));
    if (e == TIDE_EXEC_RAMPING_VUS)
        setting(sc, "start_vus", cJSON_CreateNumber(s->start_vus),
                field_source(L, s, from_script, "start_vus", TIDE_SRC_DEFAULT));
    if (e == TIDE_EXEC_RAMPING_VUS || e == TIDE_EXEC_RAMPING_ARRIVAL_RATE)
        setting(sc, "stages", stages_json(s),
                field_source(L, s, from_script, "stages", src->stages));
    if (arrival) {
        if (e == TIDE_EXEC_CONSTANT_ARRIVAL_RATE)
            setting(sc, "rate", cJSON_CreateNumber(s->rate),
                    field_source(L, s, from_script, "rate", src->rate));
        else
            setting(sc, "start_rate", cJSON_CreateNumber(s->start_rate),
                    field_source(L, s, from_script, "start_rate", TIDE_SRC_DEFAULT));
        setting(sc, "time_unit", duration_json(s->time_unit_us),
                field_source(L, s, from_script, "time_unit", TIDE_SRC_DEFAULT));
        enum tide_source vs = src->vus == TIDE_SRC_DEFAULT ? TIDE_SRC_DEFAULT : src->vus;
        setting(sc, "pre_allocated_vus", cJSON_CreateNumber(s->pre_allocated_vus),
                field_source(L, s, from_script, "pre_allocated_vus", vs));
        setting(sc, "max_vus", cJSON_CreateNumber(s->max_vus),
                field_source(L, s, from_script, "max_vus", vs));
    }
    if (s->start_time_us > 0)
        setting(sc, "start_time", duration_json(s->start_time_us), TIDE_SRC_SCRIPT);
    int stop = flag_source(cli, "--stop-timeout", NULL);
    setting(sc, "graceful_stop", duration_json(s->graceful_stop_us),
            stop >= 0 ? (enum tide_source)stop
                      : field_source(L, s, from_script, "graceful_stop", TIDE_SRC_DEFAULT));
    cJSON *tags = cJSON_AddObjectToObject(sc, "tags");
    for (int i = 0; i < s->ntags; i++)
        cJSON_AddStringToObject(tags, s->tags[i].key, s->tags[i].value);
    if (arrival)
        capacity_warning(warnings, L, s, from_script, sc);
    return sc;
}

/* Whether the scenarios are the script's own (not the default one of flags/top options). */
static bool scenarios_from_script(const struct tide_cli *cli, lua_State *L)
{
    if (tide_cli_shapes_load(cli))
        return false;
    return L == NULL || script_has(L, NULL, "scenarios");
}

static void add_scenarios(cJSON *plan, const struct tide_cli *cli, const struct tide_config *cfg,
                          lua_State *L, cJSON *warnings)
{
    struct sources src = {
        source_of(cli, L, "--vus", "--users", "vus"),
        source_of(cli, L, "--duration", "--run-time", "duration"),
        source_of(cli, L, "--iterations", NULL, "iterations"),
        source_of(cli, L, "--stage", "--users", "stages"),
        source_of(cli, L, "--rate", NULL, NULL),
    };
    bool from_script = scenarios_from_script(cli, L);
    cJSON *a = cJSON_AddArrayToObject(plan, "scenarios");
    for (int i = 0; i < cfg->nscenarios; i++)
        cJSON_AddItemToArray(
            a, scenario_json(cli, L, &src, &cfg->scenarios[i], from_script, warnings));
}

/* --- warnings: flags over the script --- */

static void override_warnings(const struct tide_cli *cli, lua_State *L, cJSON *warnings)
{
    static const char *const pairs[][3] = {{"--host", NULL, "host"},
                                           {"--vus", NULL, "vus"},
                                           {"--duration", "--run-time", "duration"},
                                           {"--iterations", NULL, "iterations"},
                                           {"--stage", NULL, "stages"},
                                           {"--threads", NULL, "threads"},
                                           {"--warmup", NULL, "warmup"},
                                           {"--hook-timeout", NULL, "hook_timeout"}};
    for (size_t k = 0; L != NULL && k < sizeof pairs / sizeof pairs[0]; k++) {
        int f = flag_source(cli, pairs[k][0], pairs[k][1]);
        if (f < 0 || !script_has(L, NULL, pairs[k][2]))
            continue;
        const struct tide_cli_given *g = tide_cli_given_of(cli, pairs[k][0]);
        if (g == NULL)
            g = tide_cli_given_of(cli, pairs[k][1]);
        warn(warnings, "override", "%s (%s) overrides the script's options.%s", g->flag,
             tide_source_name(g->source), pairs[k][2]);
    }
    if (L == NULL || !tide_cli_shapes_load(cli) || !script_has(L, NULL, "scenarios"))
        return;
    static const char *const shape[] = {"--vus",   "--duration", "--run-time", "--iterations",
                                        "--stage", "--rate",     "--users",    NULL};
    char flags[256] = "";
    for (int k = 0; shape[k] != NULL; k++) {
        const struct tide_cli_given *g = tide_cli_given_of(cli, shape[k]);
        if (g != NULL)
            snprintf(flags + strlen(flags), sizeof flags - strlen(flags), "%s%s (%s)",
                     flags[0] ? ", " : "", g->flag, tide_source_name(g->source));
    }
    warn(warnings, "override",
         "load flags %s replace the script's options.scenarios with one scenario named \"default\"",
         flags);
}

/* --- thresholds --- */

static bool has_scenario(const struct tide_config *cfg, const char *name)
{
    for (int i = 0; i < cfg->nscenarios; i++) {
        if (strcmp(cfg->scenarios[i].name, name) == 0)
            return true;
    }
    return false;
}

static bool any_arrival(const struct tide_config *cfg)
{
    for (int i = 0; i < cfg->nscenarios; i++) {
        enum tide_executor e = cfg->scenarios[i].executor;
        if (e == TIDE_EXEC_CONSTANT_ARRIVAL_RATE || e == TIDE_EXEC_RAMPING_ARRIVAL_RATE)
            return true;
    }
    return false;
}

static void threshold_warnings(const struct tide_config *cfg, const struct tide_threshold_spec *sp,
                               cJSON *warnings)
{
    struct tide_threshold t;
    struct tide_err e = {{0}};
    memset(&t, 0, sizeof t);
    if (tide_threshold_parse(sp->key, sp->expr, &t, &e) != 0) {
        warn(warnings, "threshold", "threshold on %s: %s", sp->key, e.msg);
        return;
    }
    if (tide_metric_lookup(t.key.metric) < 0)
        warn(warnings, "threshold",
             "threshold on %s: no metric named %s is recorded (not built in, and not created at "
             "the script's top level)",
             sp->key, t.key.metric);
    else if (strcmp(t.key.metric, "dropped_iterations") == 0 && !any_arrival(cfg))
        warn(warnings, "threshold",
             "threshold on %s can never match: only arrival-rate scenarios drop iterations",
             sp->key);
    for (int i = 0; i < t.key.ntags; i++) {
        const struct tide_tag_match *m = &t.key.tags[i];
        if (strcmp(m->key, "scenario") == 0 && m->op == TIDE_TAG_EQ &&
            !has_scenario(cfg, m->value)) {
            char names[512] = "";
            for (int k = 0; k < cfg->nscenarios; k++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? ", " : "",
                         cfg->scenarios[k].name);
            warn(warnings, "threshold",
                 "threshold on %s can never match: no scenario is named %s (scenarios: %s)",
                 sp->key, m->value, names);
        }
    }
    tide_threshold_fini(&t);
}

static void add_thresholds(cJSON *plan, const struct tide_cli *cli, const struct tide_config *cfg,
                           enum tide_verdict_rule rule, cJSON *warnings)
{
    cJSON *a = cJSON_AddArrayToObject(plan, "thresholds");
    const char **metrics = calloc((size_t)cfg->nthresholds + 1, sizeof *metrics);
    struct tide_threshold *parsed = calloc((size_t)cfg->nthresholds + 1, sizeof *parsed);
    int from_cli = 0; /* the flags' thresholds are added in their order (options.c) */
    for (int i = 0; i < cfg->nthresholds; i++) {
        const struct tide_threshold_spec *sp = &cfg->thresholds[i];
        enum tide_source src = TIDE_SRC_SCRIPT;
        if (sp->from_cli)
            src = from_cli < cli->nthresholds ? cli->threshold_sources[from_cli++] : TIDE_SRC_CLI;
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "metric", sp->key);
        cJSON_AddStringToObject(t, "expression", sp->expr);
        cJSON_AddStringToObject(t, "source", sp->plugin != NULL ? "plugin" : tide_source_name(src));
        cJSON_AddBoolToObject(t, "abort_on_fail", sp->abort_on_fail);
        cJSON_AddItemToArray(a, t);
        threshold_warnings(cfg, sp, warnings);
        struct tide_err e;
        if (tide_threshold_parse(sp->key, sp->expr, &parsed[i], &e) == 0)
            metrics[i] = parsed[i].key.metric;
        else
            metrics[i] = sp->key;
    }
    struct tide_default_check d[TIDE_DEFAULT_COUNT];
    tide_defaults_init(d, rule, metrics, cfg->nthresholds);
    cJSON *dc = cJSON_AddObjectToObject(plan, "default_checks");
    static const char *const rules[] = {"defaults", "locust", "none"};
    cJSON_AddStringToObject(dc, "rule", rules[rule]);
    cJSON *checks = cJSON_AddArrayToObject(dc, "active");
    for (int i = 0; i < TIDE_DEFAULT_COUNT; i++) {
        if (!d[i].active)
            continue;
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "metric", d[i].metric);
        cJSON_AddStringToObject(c, "expression", d[i].expression);
        cJSON_AddItemToArray(checks, c);
    }
    for (int i = 0; i < cfg->nthresholds; i++)
        tide_threshold_fini(&parsed[i]);
    free(parsed);
    free(metrics);
}

/* --- outputs --- */

/* Whether 'path' (a folder when dir) could be made and written, without making anything:
 * its nearest existing ancestor must be a writable folder. NULL, or why not. */
static const char *unwritable(const char *path, bool dir, char *why, size_t len)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    struct stat st;
    if (dir && stat(p, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return snprintf(why, len, "%.400s exists and is not a folder", p), why;
        if (access(p, W_OK) != 0)
            return snprintf(why, len, "cannot write in %.400s: %s", p, strerror(errno)), why;
        return NULL;
    }
    for (;;) {
        char *slash = strrchr(p, '/');
        if (slash == NULL)
            snprintf(p, sizeof p, ".");
        else if (slash == p)
            p[1] = '\0';
        else
            *slash = '\0';
        if (stat(p, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                return snprintf(why, len, "%.400s is not a folder", p), why;
            if (access(p, W_OK) != 0)
                return snprintf(why, len, "cannot write in %.400s: %s", p, strerror(errno)), why;
            return NULL;
        }
        if (strcmp(p, ".") == 0 || strcmp(p, "/") == 0)
            return snprintf(why, len, "%.400s does not exist", p), why;
    }
}

static void output(cJSON *a, cJSON *warnings, const char *kind, const char *flag, const char *path,
                   bool dir, enum tide_source src)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON_AddStringToObject(o, "path", path);
    cJSON_AddStringToObject(o, "source", tide_source_name(src));
    char why[600];
    const char *bad = strchr(path, '<') == NULL ? unwritable(path, dir, why, sizeof why) : NULL;
    cJSON_AddBoolToObject(o, "writable", bad == NULL);
    cJSON_AddItemToArray(a, o);
    if (bad != NULL)
        warn(warnings, "output", "%s %s cannot be written: %s", flag, path, bad);
}

static void add_outputs(cJSON *plan, const struct tide_cli *cli, const struct tide_config *cfg,
                        cJSON *warnings)
{
    cJSON *a = cJSON_AddArrayToObject(plan, "outputs");
    int f = flag_source(cli, "--out", NULL);
    if (cfg->out_dir != NULL) {
        output(a, warnings, "run folder", "--out", cfg->out_dir, true, (enum tide_source)f);
    } else {
        char def[600];
        snprintf(def, sizeof def, "report/<date>-%s", cfg->script_name);
        output(a, warnings, "run folder", "report/", "report", true, TIDE_SRC_DEFAULT);
        cJSON_SetValuestring(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "path"), def);
    }
    if (cfg->csv_prefix != NULL)
        output(a, warnings, "csv", "--csv", cfg->csv_prefix, false,
               (enum tide_source)flag_source(cli, "--csv", NULL));
    if (cfg->html_path != NULL)
        output(a, warnings, "html", "--html", cfg->html_path, false,
               (enum tide_source)flag_source(cli, "--html", NULL));
    int sf = flag_source(cli, "--stream", NULL);
    for (int i = 0; i < cli->nstreams; i++) {
        const char *spec = cli->streams[i];
        if (strncmp(spec, "json=", 5) == 0 && strcmp(spec + 5, "-") != 0) {
            output(a, warnings, "stream", "--stream json=", spec + 5, false, (enum tide_source)sf);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "kind", "stream");
            cJSON_AddStringToObject(o, "path", spec);
            cJSON_AddStringToObject(o, "source", tide_source_name((enum tide_source)sf));
            cJSON_AddItemToArray(a, o);
        }
    }
}

/* --- settings as given --- */

static void add_settings(cJSON *plan, const struct tide_cli *cli)
{
    cJSON *a = cJSON_AddArrayToObject(plan, "settings");
    for (int i = 0; i < cli->ngiven; i++) {
        const struct tide_cli_given *g = &cli->given[i];
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "flag", g->flag);
        if (g->value == NULL) {
            cJSON_AddBoolToObject(s, "value", true);
        } else if (strcmp(g->flag, "--tag") == 0 && cli->ntags > 0) { /* K=V, split in place */
            char kv[512];
            const struct tide_kv *t = &cli->tags[cli->ntags - 1];
            snprintf(kv, sizeof kv, "%s=%s", t->key, t->value);
            cJSON_AddStringToObject(s, "value", kv);
        } else if (strcmp(g->flag, "--env") == 0) { /* values for tide.env are secrets */
            char k[256];
            snprintf(k, sizeof k, "%.*s=***", (int)strcspn(g->value, "="), g->value);
            cJSON_AddStringToObject(s, "value", k);
        } else {
            cJSON_AddStringToObject(s, "value", g->value);
        }
        cJSON_AddStringToObject(s, "source", tide_source_name(g->source));
        cJSON_AddItemToArray(a, s);
    }
}

/* The host with any user:password@ hidden. */
static cJSON *host_json(const char *host)
{
    if (host == NULL)
        return cJSON_CreateNull();
    const char *scheme = strstr(host, "://");
    const char *start = scheme != NULL ? scheme + 3 : host;
    const char *at = strchr(start, '@');
    const char *slash = strchr(start, '/');
    if (at == NULL || (slash != NULL && slash < at))
        return cJSON_CreateString(host);
    char buf[2048];
    snprintf(buf, sizeof buf, "%.*s***%s", (int)(start - host), host, at);
    return cJSON_CreateString(buf);
}

cJSON *tide_plan_build(const struct tide_cli *cli, const struct tide_config *cfg, lua_State *probe,
                       enum tide_verdict_rule rule)
{
    cJSON *plan = cJSON_CreateObject();
    if (plan == NULL)
        return NULL;
    int top = probe != NULL ? lua_gettop(probe) : 0;
    cJSON *warnings = cJSON_CreateArray();
    cJSON_AddNumberToObject(plan, "plan_version", TIDE_PLAN_VERSION);
    cJSON_AddStringToObject(plan, "script", cfg->script_path);
    if (cli->config != NULL)
        cJSON_AddStringToObject(plan, "config_file", cli->config);
    else
        cJSON_AddNullToObject(plan, "config_file");
    enum tide_source host_src = source_of(cli, probe, "--host", NULL, "host");
    if (host_src == TIDE_SRC_DEFAULT && tide_cli_given_of(cli, "--target") != NULL)
        host_src = tide_cli_given_of(cli, "--target")->source; /* the in-process API's */
    cJSON *host = cfg->host == NULL && cfg->target_inprocess
                      ? cJSON_CreateString("the built-in API on a free port (--target)")
                      : host_json(cfg->host);
    setting(plan, "host", host, host_src);
    setting(plan, "threads", cJSON_CreateNumber(cfg->threads),
            source_of(cli, probe, "--threads", NULL, "threads"));
    if (cfg->warmup_us > 0)
        setting(plan, "warmup", duration_json(cfg->warmup_us),
                source_of(cli, probe, "--warmup", NULL, "warmup"));
    add_scenarios(plan, cli, cfg, probe, warnings);
    add_thresholds(plan, cli, cfg, rule, warnings);
    add_outputs(plan, cli, cfg, warnings);
    add_settings(plan, cli);
    override_warnings(cli, probe, warnings);
    for (int i = 0; i < cli->nnotes; i++)
        warn(warnings, "config", "%s", cli->notes[i]);
    cJSON_AddItemToObject(plan, "warnings", warnings);
    if (probe != NULL)
        lua_settop(probe, top);
    tide_redact_json(plan);
    return plan;
}

/* --- text --- */

static void value_text(const cJSON *v, char *buf, size_t len)
{
    if (cJSON_IsString(v)) {
        snprintf(buf, len, "%s", v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        snprintf(buf, len, "%g", v->valuedouble);
    } else if (cJSON_IsArray(v)) { /* stages */
        size_t n = 0;
        buf[0] = '\0';
        const cJSON *st;
        cJSON_ArrayForEach(st, v)
        {
            const cJSON *d = cJSON_GetObjectItem(st, "duration");
            const cJSON *t = cJSON_GetObjectItem(st, "target");
            if (n < len)
                n += (size_t)snprintf(buf + n, len - n, "%s%s:%g", n ? " " : "",
                                      cJSON_IsString(d) ? d->valuestring : "?",
                                      cJSON_IsNumber(t) ? t->valuedouble : 0);
        }
    } else {
        snprintf(buf, len, "none");
    }
}

static void print_setting(FILE *out, const char *indent, const cJSON *obj, const char *name)
{
    const cJSON *s = cJSON_GetObjectItem(obj, name);
    if (!cJSON_IsObject(s))
        return;
    char v[1024];
    value_text(cJSON_GetObjectItem(s, "value"), v, sizeof v);
    const cJSON *src = cJSON_GetObjectItem(s, "source");
    fprintf(out, "%s%-28s %-30s (%s)\n", indent, name, v,
            cJSON_IsString(src) ? src->valuestring : "?");
}

/* "  LABEL metric: expression   (source)" for each item of a list; 'source' NULL: the item's. */
static void print_exprs(FILE *out, const char *label, int width, const cJSON *list,
                        const char *source)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, list)
    {
        char line[1200];
        snprintf(line, sizeof line, "%s: %s", cJSON_GetObjectItem(t, "metric")->valuestring,
                 cJSON_GetObjectItem(t, "expression")->valuestring);
        fprintf(out, "  %s %-*s (%s)\n", label, width, line,
                source != NULL ? source : cJSON_GetObjectItem(t, "source")->valuestring);
    }
}

void tide_plan_print(FILE *out, const cJSON *plan)
{
    const cJSON *cf = cJSON_GetObjectItem(plan, "config_file");
    fprintf(out, "tide: plan of %s%s%s%s\n", cJSON_GetObjectItem(plan, "script")->valuestring,
            cJSON_IsString(cf) ? " (config file " : "", cJSON_IsString(cf) ? cf->valuestring : "",
            cJSON_IsString(cf) ? ")" : "");
    print_setting(out, "  ", plan, "host");
    print_setting(out, "  ", plan, "threads");
    print_setting(out, "  ", plan, "warmup");
    const cJSON *sc;
    static const char *const fields[] = {"executor",
                                         "vus",
                                         "iterations",
                                         "duration",
                                         "max_duration",
                                         "start_vus",
                                         "stages",
                                         "rate",
                                         "start_rate",
                                         "time_unit",
                                         "pre_allocated_vus",
                                         "max_vus",
                                         "expected_iteration_duration",
                                         "start_time",
                                         "graceful_stop",
                                         NULL};
    cJSON_ArrayForEach(sc, cJSON_GetObjectItem(plan, "scenarios"))
    {
        fprintf(out, "  scenario %s, exec %s()\n", cJSON_GetObjectItem(sc, "name")->valuestring,
                cJSON_GetObjectItem(sc, "exec")->valuestring);
        for (int k = 0; fields[k] != NULL; k++)
            print_setting(out, "    ", sc, fields[k]);
    }
    print_exprs(out, "threshold", 48, cJSON_GetObjectItem(plan, "thresholds"), NULL);
    const cJSON *dc = cJSON_GetObjectItem(plan, "default_checks");
    print_exprs(out, "default check", 44, cJSON_GetObjectItem(dc, "active"),
                cJSON_GetObjectItem(dc, "rule")->valuestring);
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItem(plan, "outputs"))
    {
        const cJSON *w = cJSON_GetObjectItem(o, "writable");
        fprintf(out, "  output %-10s %-40s (%s)%s\n", cJSON_GetObjectItem(o, "kind")->valuestring,
                cJSON_GetObjectItem(o, "path")->valuestring,
                cJSON_GetObjectItem(o, "source")->valuestring,
                cJSON_IsFalse(w) ? " NOT WRITABLE" : "");
    }
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItem(plan, "warnings"))
        fprintf(out, "  warning (%s): %s\n", cJSON_GetObjectItem(w, "kind")->valuestring,
                cJSON_GetObjectItem(w, "message")->valuestring);
}

int tide_plan_warning_count(const cJSON *plan, const char *kind)
{
    int n = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItem(plan, "warnings"))
    {
        if (kind == NULL || strcmp(cJSON_GetObjectItem(w, "kind")->valuestring, kind) == 0)
            n++;
    }
    return n;
}

int tide_plan_warn(const cJSON *plan, const char *kind)
{
    int n = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItem(plan, "warnings"))
    {
        if (kind != NULL && strcmp(cJSON_GetObjectItem(w, "kind")->valuestring, kind) != 0)
            continue;
        tide_log(TIDE_LOG_WARN, "%s", cJSON_GetObjectItem(w, "message")->valuestring);
        n++;
    }
    return n;
}
