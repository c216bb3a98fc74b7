/* options.c: script options + CLI -> struct tide_config. */
#include <errno.h>
#include <lauxlib.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "distributed.h"
#include "duration.h"
#include "luaerr.h"
#include "fsutil.h"
#include "options.h"
#include "plugins.h"
#include "privacy_options.h"
#include "runconf.h"
#include "sandbox.h"
#include "suggest.h"
#include "threshold.h"
#include "proxy.h"
#include "transport.h"

#define DEFAULT_GRACEFUL_STOP_US 30000000LL
#define DEFAULT_MAX_DURATION_US  600000000LL

/* Ranges of option values, checked at start (docs/scenario-api.md#options): as the flags'. */
#define MAX_VUS        10000000.0            /* --vus */
#define MAX_ITERATIONS 1e12                  /* --iterations */
#define MAX_THREADS    256.0                 /* --threads */
#define MAX_RATE       1e9                   /* --rate: iterations per time unit */
#define MAX_QUEUE      1e9                   /* arrivals waiting for a VU */
#define MAX_SECONDS    (100.0 * 365 * 86400) /* any duration: 100 years */

static char *dupstr(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static int read_script(const char *path, struct tide_config *cfg, struct tide_err *err)
{
    size_t len = 0;
    char *text = tide_fs_read_all(path, &len, NULL);
    if (text == NULL && errno == ENOMEM)
        return tide_err_set(err, "out of memory reading %s", path);
    if (text == NULL)
        return tide_err_set(err, "cannot read %s: %s", path, strerror(errno));
    cfg->script_source = text;
    cfg->script_len = len;
    char real[PATH_MAX];
    if (realpath(path, real) == NULL)
        return tide_err_set(err, "cannot resolve %s: %s", path, strerror(errno));
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", real);
    cfg->script_dir = strdup(dirname(tmp));
    snprintf(tmp, sizeof tmp, "%s", real);
    char *base = basename(tmp);
    char *dot = strrchr(base, '.');
    if (dot != NULL && dot != base)
        *dot = '\0';
    cfg->script_name = strdup(base);
    cfg->script_path = strdup(path);
    return 0;
}

/* --- reading Lua option values (table at index idx); k6's camelCase names accepted too --- */

static int field(lua_State *L, int idx, const char *name, const char *alias)
{
    int t = lua_getfield(L, idx, name);
    if (t == LUA_TNIL && alias != NULL) {
        lua_pop(L, 1);
        t = lua_getfield(L, idx, alias);
    }
    return t;
}

static int opt_duration(lua_State *L, int idx, const char *where, const char *name,
                        const char *alias, int64_t *out, struct tide_err *err)
{
    int t = field(L, idx, name, alias);
    int rc = 0;
    if (t == LUA_TNUMBER) {
        double s = lua_tonumber(L, -1);
        if (!(s >= 0) || !isfinite(s))
            rc = tide_err_set(err, "%s.%s: expected a duration >= 0", where, name);
        else if (s > MAX_SECONDS)
            rc = tide_err_set(err, "%s.%s: %g s is more than 100 years", where, name, s);
        else
            *out = (int64_t)llround(s * 1e6);
    } else if (t == LUA_TSTRING) {
        struct tide_err e;
        if (tide_duration_parse(lua_tostring(L, -1), out, &e) != 0)
            rc = tide_err_set(err, "%s.%s: %s", where, name, e.msg);
        else if ((double)*out > MAX_SECONDS * 1e6)
            rc = tide_err_set(err, "%s.%s: \"%s\" is more than 100 years", where, name,
                              lua_tostring(L, -1));
    } else if (t != LUA_TNIL) {
        rc = tide_err_set(err, "%s.%s: expected a duration such as \"30s\"", where, name);
    }
    lua_pop(L, 1);
    return rc;
}

static int opt_number(lua_State *L, int idx, const char *where, const char *name, const char *alias,
                      double min, double max, double *out, struct tide_err *err)
{
    int t = field(L, idx, name, alias);
    int rc = 0;
    if (t == LUA_TNUMBER) {
        double v = lua_tonumber(L, -1);
        if (!(v >= min) || !isfinite(v))
            rc = tide_err_set(err, "%s.%s: expected a number >= %g", where, name, min);
        else if (v > max)
            rc = tide_err_set(err, "%s.%s: %g is too large (at most %.15g)", where, name, v, max);
        else
            *out = v;
    } else if (t != LUA_TNIL) {
        rc = tide_err_set(err, "%s.%s: expected a number", where, name);
    }
    lua_pop(L, 1);
    return rc;
}

static int opt_int(lua_State *L, int idx, const char *where, const char *name, const char *alias,
                   double max, int64_t *out, struct tide_err *err)
{
    double v = (double)*out;
    if (opt_number(L, idx, where, name, alias, 0, max, &v, err) != 0)
        return -1;
    if (v != floor(v))
        return tide_err_set(err, "%s.%s: expected a whole number", where, name);
    if (!(fabs(v) < 0x1p63)) /* the cast is undefined beyond int64_t (found by tests/fuzz) */
        return tide_err_set(err, "%s.%s: %g is too large", where, name, v);
    *out = (int64_t)v;
    return 0;
}

static int opt_string(lua_State *L, int idx, const char *where, const char *name, char **out,
                      struct tide_err *err)
{
    int t = lua_getfield(L, idx, name);
    int rc = 0;
    if (t == LUA_TSTRING) {
        free(*out);
        *out = strdup(lua_tostring(L, -1));
    } else if (t != LUA_TNIL) {
        rc = tide_err_set(err, "%s.%s: expected a string", where, name);
    }
    lua_pop(L, 1);
    return rc;
}

static int opt_bool(lua_State *L, int idx, const char *where, const char *name, bool *out,
                    struct tide_err *err)
{
    int t = lua_getfield(L, idx, name);
    int rc = 0;
    if (t == LUA_TBOOLEAN)
        *out = lua_toboolean(L, -1);
    else if (t != LUA_TNIL)
        rc = tide_err_set(err, "%s.%s: expected true or false, got a %s", where, name,
                          lua_typename(L, t));
    lua_pop(L, 1);
    return rc;
}

static int read_kvs(lua_State *L, int idx, const char *where, const char *name,
                    struct tide_kv **out, int *n, struct tide_err *err)
{
    int t = lua_getfield(L, idx, name);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (t != LUA_TTABLE) {
        lua_pop(L, 1);
        return tide_err_set(err, "%s.%s: expected a table of name = value", where, name);
    }
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            struct tide_kv *g = realloc(*out, (size_t)(*n + 1) * sizeof *g);
            if (g != NULL) {
                *out = g;
                g[*n].key = strdup(lua_tostring(L, -2));
                char text[1024];
                g[*n].value = strdup(tide_lua_errtext(L, -1, text, sizeof text));
                (*n)++;
            }
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

static int read_stages(lua_State *L, int idx, const char *where, struct tide_scenario *s,
                       struct tide_err *err)
{
    int type = lua_getfield(L, idx, "stages");
    if (type != LUA_TTABLE) {
        lua_pop(L, 1);
        return type == LUA_TNIL ? 0
                                : tide_err_set(err,
                                               "%s.stages: expected a list of { duration = "
                                               "\"30s\", target = N }",
                                               where);
    }
    int st = lua_gettop(L);
    int n = (int)luaL_len(L, st);
    s->stages = calloc((size_t)(n > 0 ? n : 1), sizeof *s->stages);
    s->nstages = 0;
    for (int i = 1; i <= n; i++) {
        char w[160];
        snprintf(w, sizeof w, "%s.stages[%d]", where, i);
        if (lua_geti(L, st, i) != LUA_TTABLE) {
            lua_settop(L, st - 1);
            return tide_err_set(err, "%s: expected { duration = \"30s\", target = N }", w);
        }
        struct tide_stage *sg = &s->stages[s->nstages];
        sg->duration_us = -1;
        sg->target = -1;
        if (opt_duration(L, -1, w, "duration", NULL, &sg->duration_us, err) != 0 ||
            opt_number(L, -1, w, "target", NULL, 0, MAX_RATE, &sg->target, err) != 0) {
            lua_settop(L, st - 1);
            return -1;
        }
        if (sg->duration_us < 0 || sg->target < 0) {
            lua_settop(L, st - 1);
            return tide_err_set(err, "%s: needs both duration and target", w);
        }
        s->nstages++;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

static int parse_executor(const char *name, enum tide_executor *e)
{
    for (int i = 0; i <= TIDE_EXEC_RAMPING_ARRIVAL_RATE; i++) {
        if (strcmp(name, tide_executor_name((enum tide_executor)i)) == 0) {
            *e = (enum tide_executor)i;
            return 0;
        }
    }
    return -1;
}

static void scenario_defaults(struct tide_scenario *s, const char *name)
{
    memset(s, 0, sizeof *s);
    s->name = strdup(name);
    s->exec = strdup("run");
    s->vus = 1;
    s->iterations = 1;
    s->graceful_ramp_down_us = DEFAULT_GRACEFUL_STOP_US;
    s->graceful_stop_us = DEFAULT_GRACEFUL_STOP_US;
    s->max_duration_us = DEFAULT_MAX_DURATION_US;
    s->time_unit_us = 1000000;
    s->duration_us = -1;
    s->max_queue = -1;
}

/* Checks and completes one scenario once all its keys are read. */
static int finish_scenario(struct tide_scenario *s, struct tide_err *err)
{
    const char *n = s->name;
    for (int i = 0; s->executor == TIDE_EXEC_RAMPING_VUS && i < s->nstages; i++) {
        if (s->stages[i].target > MAX_VUS || s->stages[i].target != floor(s->stages[i].target))
            return tide_err_set(err,
                                "scenario %s: stages[%d].target: %g VUs (expected a whole "
                                "number from 0 to %.0f)",
                                n, i + 1, s->stages[i].target, MAX_VUS);
    }
    switch (s->executor) {
    case TIDE_EXEC_CONSTANT_VUS:
        if (s->duration_us <= 0)
            return tide_err_set(err, "scenario %s: constant-vus needs a duration", n);
        break;
    case TIDE_EXEC_RAMPING_VUS:
    case TIDE_EXEC_RAMPING_ARRIVAL_RATE:
        if (s->nstages == 0)
            return tide_err_set(err, "scenario %s: %s needs stages", n,
                                tide_executor_name(s->executor));
        break;
    case TIDE_EXEC_CONSTANT_ARRIVAL_RATE:
        if (s->duration_us <= 0 || !(s->rate > 0))
            return tide_err_set(err, "scenario %s: constant-arrival-rate needs rate and duration",
                                n);
        break;
    default:
        break;
    }
    if (s->executor == TIDE_EXEC_CONSTANT_ARRIVAL_RATE ||
        s->executor == TIDE_EXEC_RAMPING_ARRIVAL_RATE) {
        if (s->pre_allocated_vus <= 0)
            s->pre_allocated_vus = s->max_vus > 0 ? s->max_vus : 10;
        if (s->max_vus < s->pre_allocated_vus)
            s->max_vus = s->pre_allocated_vus;
        if (s->max_queue < 0) {
            double peak = s->rate > s->start_rate ? s->rate : s->start_rate;
            for (int i = 0; i < s->nstages; i++)
                peak = s->stages[i].target > peak ? s->stages[i].target : peak;
            double per_s = peak * 1e6 / (double)s->time_unit_us;
            s->max_queue = (int64_t)ceil(per_s * 10); /* 10 s worth of arrivals */
            if (s->max_queue < 1)
                s->max_queue = 1;
        }
    }
    return 0;
}

/* Every key of a scenario table is one tide reads: a typo ("maxVus") is an error, not a
 * setting silently left at its default. */
static int scenario_keys_known(lua_State *L, int idx, const char *where, struct tide_err *err)
{
    static const char *const keys[] = {"executor",
                                       "exec",
                                       "start_time",
                                       "startTime",
                                       "duration",
                                       "graceful_ramp_down",
                                       "gracefulRampDown",
                                       "graceful_stop",
                                       "gracefulStop",
                                       "max_duration",
                                       "maxDuration",
                                       "time_unit",
                                       "timeUnit",
                                       "vus",
                                       "start_vus",
                                       "startVUs",
                                       "iterations",
                                       "pre_allocated_vus",
                                       "preAllocatedVUs",
                                       "max_vus",
                                       "maxVUs",
                                       "max_queue",
                                       "rate",
                                       "start_rate",
                                       "startRate",
                                       "poisson",
                                       "stages",
                                       "tags",
                                       "expected_iteration_duration",
                                       "expectedIterationDuration",
                                       NULL};
    int rc = 0;
    lua_pushnil(L);
    while (rc == 0 && lua_next(L, idx) != 0) {
        lua_pop(L, 1); /* key */
        if (lua_type(L, -1) != LUA_TSTRING) {
            rc = tide_err_set(err, "%s: keys must be option names", where);
            break;
        }
        const char *k = lua_tostring(L, -1);
        size_t i = 0;
        while (keys[i] != NULL && strcmp(keys[i], k) != 0)
            i++;
        if (keys[i] != NULL)
            continue;
        const char *near = tide_suggest(k, keys);
        rc = tide_err_set(err, "%s: unknown option \"%.64s\"%s%s%s", where, k,
                          near ? " (did you mean \"" : "", near ? near : "", near ? "\"?)" : "");
    }
    if (rc != 0)
        lua_pop(L, 1);
    return rc;
}

static int read_scenario(lua_State *L, int idx, const char *name, struct tide_scenario *s,
                         struct tide_err *err)
{
    char where[160];
    snprintf(where, sizeof where, "options.scenarios.%s", name);
    scenario_defaults(s, name);
    if (scenario_keys_known(L, idx, where, err) != 0)
        return -1;
    if (lua_getfield(L, idx, "executor") != LUA_TSTRING) {
        lua_pop(L, 1);
        return tide_err_set(err, "%s: needs an executor (e.g. \"constant-vus\")", where);
    }
    if (parse_executor(lua_tostring(L, -1), &s->executor) != 0) {
        tide_err_set(err,
                     "%s: unknown executor \"%s\" (constant-vus, ramping-vus, per-vu-iterations, "
                     "shared-iterations, constant-arrival-rate, ramping-arrival-rate)",
                     where, lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    lua_pop(L, 1);
    int64_t vus = s->vus, it = s->iterations, pre = 0, maxv = 0, startv = 0;
    double rate = 0, start_rate = 0;
    if (opt_string(L, idx, where, "exec", &s->exec, err) != 0 ||
        opt_duration(L, idx, where, "start_time", "startTime", &s->start_time_us, err) != 0 ||
        opt_duration(L, idx, where, "duration", NULL, &s->duration_us, err) != 0 ||
        opt_duration(L, idx, where, "graceful_ramp_down", "gracefulRampDown",
                     &s->graceful_ramp_down_us, err) != 0 ||
        opt_duration(L, idx, where, "graceful_stop", "gracefulStop", &s->graceful_stop_us, err) !=
            0 ||
        opt_duration(L, idx, where, "max_duration", "maxDuration", &s->max_duration_us, err) != 0 ||
        opt_duration(L, idx, where, "time_unit", "timeUnit", &s->time_unit_us, err) != 0 ||
        opt_int(L, idx, where, "vus", NULL, MAX_VUS, &vus, err) != 0 ||
        opt_int(L, idx, where, "start_vus", "startVUs", MAX_VUS, &startv, err) != 0 ||
        opt_int(L, idx, where, "iterations", NULL, MAX_ITERATIONS, &it, err) != 0 ||
        opt_int(L, idx, where, "pre_allocated_vus", "preAllocatedVUs", MAX_VUS, &pre, err) != 0 ||
        opt_int(L, idx, where, "max_vus", "maxVUs", MAX_VUS, &maxv, err) != 0 ||
        opt_int(L, idx, where, "max_queue", NULL, MAX_QUEUE, &s->max_queue, err) != 0 ||
        opt_number(L, idx, where, "rate", NULL, 0, MAX_RATE, &rate, err) != 0 ||
        opt_number(L, idx, where, "start_rate", "startRate", 0, MAX_RATE, &start_rate, err) != 0 ||
        opt_bool(L, idx, where, "poisson", &s->poisson, err) != 0 ||
        read_stages(L, idx, where, s, err) != 0 ||
        read_kvs(L, idx, where, "tags", &s->tags, &s->ntags, err) != 0)
        return -1;
    if (s->time_unit_us <= 0)
        return tide_err_set(err, "%s.time_unit: must be > 0", where);
    s->vus = (int)vus;
    s->start_vus = (int)startv;
    s->iterations = it;
    s->pre_allocated_vus = (int)pre;
    s->max_vus = (int)maxv;
    s->rate = rate;
    s->start_rate = start_rate;
    return finish_scenario(s, err);
}

static int add_scenario(struct tide_config *cfg, struct tide_scenario **out)
{
    struct tide_scenario *g = realloc(cfg->scenarios, (size_t)(cfg->nscenarios + 1) * sizeof *g);
    if (g == NULL)
        return -1;
    cfg->scenarios = g;
    *out = &g[cfg->nscenarios++];
    return 0;
}

/* The default scenario from the top-level shortcuts (options and CLI merged). */
static int default_scenario(struct tide_config *cfg, const struct tide_cli *cli, int64_t vus,
                            int64_t duration, int64_t iterations, struct tide_stage *stages,
                            int nstages, struct tide_err *err)
{
    struct tide_scenario *s;
    if (add_scenario(cfg, &s) != 0)
        return tide_err_set(err, "out of memory");
    scenario_defaults(s, "default");
    if (cli->users >= 0) {
        /* Locust: -u users at -r per second, then hold until -t */
        int64_t total = duration > 0 ? duration : 0;
        double rate = cli->spawn_rate > 0 ? cli->spawn_rate : 0;
        int64_t ramp = rate > 0 ? (int64_t)llround((double)cli->users / rate * 1e6) : 0;
        if (total <= 0)
            return tide_err_set(err, "-u/--users needs -t/--run-time (e.g. -t 5m)");
        if (ramp > total)
            ramp = total;
        s->executor = TIDE_EXEC_RAMPING_VUS;
        s->stages = calloc(2, sizeof *s->stages);
        s->stages[0] = (struct tide_stage){ramp, cli->users};
        s->stages[1] = (struct tide_stage){total - ramp, cli->users};
        s->nstages = 2;
        s->start_vus = 0;
        s->graceful_ramp_down_us = 0;
    } else if (cli->rate > 0) {
        if (duration <= 0)
            return tide_err_set(err, "--rate needs --duration");
        s->executor = TIDE_EXEC_CONSTANT_ARRIVAL_RATE;
        s->rate = cli->rate;
        s->duration_us = duration;
        s->pre_allocated_vus = vus > 0 ? (int)vus : 0;
        s->max_vus = vus > 0 ? (int)vus : 0;
    } else if (nstages > 0) {
        s->executor = TIDE_EXEC_RAMPING_VUS;
        s->stages = calloc((size_t)nstages, sizeof *s->stages);
        memcpy(s->stages, stages, (size_t)nstages * sizeof *stages);
        s->nstages = nstages;
        s->start_vus = 0;
    } else if (iterations > 0) {
        s->executor = TIDE_EXEC_SHARED_ITERATIONS;
        s->vus = vus > 0 ? (int)vus : 1;
        s->iterations = iterations;
        if (duration > 0)
            s->max_duration_us = duration;
    } else if (duration > 0) {
        s->executor = TIDE_EXEC_CONSTANT_VUS;
        s->vus = vus > 0 ? (int)vus : 1;
        s->duration_us = duration;
    } else {
        s->executor = TIDE_EXEC_PER_VU_ITERATIONS; /* nothing said: 1 VU, 1 iteration */
        s->vus = vus > 0 ? (int)vus : 1;
        s->iterations = 1;
    }
    return finish_scenario(s, err);
}

static int read_scenarios(lua_State *L, int opts, struct tide_config *cfg, struct tide_err *err)
{
    if (lua_getfield(L, opts, "scenarios") != LUA_TTABLE) {
        lua_pop(L, 1);
        return 0;
    }
    int tbl = lua_gettop(L);
    /* sorted names, so worker shares and reports are deterministic */
    const char *names[256];
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, tbl) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING || n == 256) {
            lua_settop(L, tbl - 1);
            return tide_err_set(err, "options.scenarios: keys must be scenario names");
        }
        names[n++] = lua_tostring(L, -1);
    }
    for (int i = 1; i < n; i++) {
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    }
    for (int i = 0; i < n; i++) {
        struct tide_scenario *s;
        if (add_scenario(cfg, &s) != 0) {
            lua_settop(L, tbl - 1);
            return tide_err_set(err, "out of memory");
        }
        if (lua_getfield(L, tbl, names[i]) != LUA_TTABLE) {
            scenario_defaults(s, names[i]);
            lua_settop(L, tbl - 1);
            return tide_err_set(err, "options.scenarios.%s: expected a table", names[i]);
        }
        if (read_scenario(L, lua_gettop(L), names[i], s, err) != 0) {
            lua_settop(L, tbl - 1);
            return -1;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

static int add_threshold(struct tide_config *cfg, const char *key, const char *expr, bool abort,
                         int64_t delay, bool cli)
{
    struct tide_threshold_spec *g =
        realloc(cfg->thresholds, (size_t)(cfg->nthresholds + 1) * sizeof *g);
    if (g == NULL)
        return -1;
    cfg->thresholds = g;
    g[cfg->nthresholds] =
        (struct tide_threshold_spec){strdup(key), strdup(expr), abort, delay, cli, NULL};
    cfg->nthresholds++;
    return 0;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One key's list of expressions (the value on top of the stack). */
static int read_threshold_list(lua_State *L, const char *key, struct tide_config *cfg,
                               struct tide_err *err)
{
    if (lua_type(L, -1) == LUA_TSTRING) /* one expression, not in a list */
        return add_threshold(cfg, key, lua_tostring(L, -1), false, 0, false);
    if (lua_type(L, -1) != LUA_TTABLE)
        return tide_err_set(err, "options.thresholds[\"%s\"]: expected a list of expressions", key);
    int list = lua_gettop(L);
    int n = (int)luaL_len(L, list);
    for (int i = 1; i <= n; i++) {
        int t = lua_geti(L, list, i);
        int rc = 0;
        if (t == LUA_TSTRING) {
            rc = add_threshold(cfg, key, lua_tostring(L, -1), false, 0, false);
        } else if (t == LUA_TTABLE) {
            char where[200];
            snprintf(where, sizeof where, "options.thresholds[\"%s\"][%d]", key, i);
            int64_t delay = 0;
            bool abort = false;
            if (field(L, -1, "threshold", NULL) != LUA_TSTRING) {
                lua_settop(L, list);
                return tide_err_set(err, "%s: needs threshold = \"expression\"", where);
            }
            char *expr = strdup(lua_tostring(L, -1));
            lua_pop(L, 1);
            rc = opt_bool(L, -1, where, "abort_on_fail", &abort, err);
            if (rc == 0)
                rc = opt_bool(L, -1, where, "abortOnFail", &abort, err);
            if (rc == 0)
                rc = opt_duration(L, -1, where, "delay_abort_eval", "delayAbortEval", &delay, err);
            if (rc == 0)
                rc = add_threshold(cfg, key, expr, abort, delay, false);
            free(expr);
            if (rc == 0 && field(L, -1, "plugin", NULL) == LUA_TSTRING) /* api.threshold */
                cfg->thresholds[cfg->nthresholds - 1].plugin = strdup(lua_tostring(L, -1));
        } else {
            rc = tide_err_set(err,
                              "options.thresholds[\"%s\"][%d]: expected a string or "
                              "{ threshold = ... }",
                              key, i);
        }
        lua_settop(L, list);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Thresholds in a stable order: metric keys sorted, expressions in the order written. */
static int read_thresholds(lua_State *L, int opts, struct tide_config *cfg, struct tide_err *err)
{
    int type = lua_getfield(L, opts, "thresholds");
    if (type != LUA_TTABLE) {
        lua_pop(L, 1);
        return type == LUA_TNIL ? 0
                                : tide_err_set(err,
                                               "options.thresholds: expected a table of "
                                               "metric = { \"expression\", ... }, got a %s",
                                               lua_typename(L, type));
    }
    int tbl = lua_gettop(L);
    const char *keys[512];
    int n = 0, rc = 0;
    lua_pushnil(L);
    while (lua_next(L, tbl) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING || n == 512) {
            lua_settop(L, tbl - 1);
            return tide_err_set(err, "options.thresholds: keys must be metric names");
        }
        keys[n++] = lua_tostring(L, -1); /* alive: the table holds its keys */
    }
    qsort(keys, (size_t)n, sizeof *keys, cmp_cstr);
    for (int i = 0; i < n && rc == 0; i++) {
        lua_getfield(L, tbl, keys[i]);
        rc = read_threshold_list(L, keys[i], cfg, err);
        lua_settop(L, tbl);
    }
    lua_settop(L, tbl - 1);
    return rc;
}

/* Runs the script's top level in a probe state and leaves its `options` (or nil) and its env
 * on the stack: env, options. */
static int probe(lua_State *L, const struct tide_cli *cli, struct tide_config *cfg,
                 struct tide_err *err)
{
    if (tide_sandbox_load_script(L, cfg, err) != 0)
        return -1;
    lua_newtable(L); /* chunk, env */
    lua_newtable(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.base");
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "_G"); /* as in a VU's environment: the run's lifecycle calls use it */
    lua_pushvalue(L, -1);
    lua_setupvalue(L, -3, 1); /* chunk, env */
    lua_insert(L, -2);        /* env, chunk */
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        char msg[1024];
        tide_err_set(err, "%s", tide_lua_errtext(L, -1, msg, sizeof msg));
        return -1;
    }
    /* plugins after the top level, before options are read: their thresholds count */
    if (tide_plugins_load(L, -1, cli, cfg, err) != 0)
        return -1;
    lua_getfield(L, -1, "options"); /* env, options */
    if (!lua_isnil(L, -1) && !lua_istable(L, -1))
        return tide_err_set(err, "%s: options must be a table", cfg->script_path);
    return 0;
}

static int exec_defined(lua_State *L, int env, const struct tide_config *cfg, struct tide_err *err)
{
    for (int i = 0; i < cfg->nscenarios; i++) {
        const struct tide_scenario *s = &cfg->scenarios[i];
        if (lua_getfield(L, env, s->exec) != LUA_TFUNCTION) {
            lua_pop(L, 1);
            if (strcmp(s->exec, "run") == 0)
                return tide_err_set(err,
                                    "%s: no function run() to iterate (define run(), or set exec "
                                    "in options.scenarios)",
                                    cfg->script_path);
            return tide_err_set(err, "%s: scenario %s: exec function %s() is not defined",
                                cfg->script_path, s->name, s->exec);
        }
        lua_pop(L, 1);
    }
    return 0;
}

static char *trim_host(const char *h)
{
    char *s = strdup(h);
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        s[--n] = '\0';
    return s;
}

int tide_options_build(const struct tide_cli *cli, struct tide_config *cfg, struct tide_err *err)
{
    return tide_options_build_keep(cli, cfg, NULL, err);
}

/* The script's top-level option values, before the CLI is applied. */
struct top_options {
    bool present; /* the script has an options table */
    int64_t vus, duration, iterations, warmup, threads;
    struct tide_scenario top; /* its stages */
};

static int copy_cli_env(const struct tide_cli *cli, struct tide_config *cfg, struct tide_err *err)
{
    for (int i = 0; i < cli->nenv; i++) {
        struct tide_kv *g = realloc(cfg->env, (size_t)(cfg->nenv + 1) * sizeof *g);
        if (g == NULL)
            return tide_err_set(err, "out of memory");
        cfg->env = g;
        g[cfg->nenv].key = strdup(cli->env[i].key);
        g[cfg->nenv].value = strdup(cli->env[i].value);
        cfg->nenv++;
    }
    return 0;
}

/* options.tls = { ca = FILE, cert = FILE, key = FILE } (every request's default) */
/* options.transport: "auto", "native" or "curl" (docs/http.md) */
static int read_transport(lua_State *L, int opts, struct tide_config *cfg, struct tide_err *err)
{
    char *text = NULL;
    if (opt_string(L, opts, "options", "transport", &text, err) != 0)
        return -1;
    int rc = 0;
    if (text != NULL) {
        cfg->transport = tide_transport_parse(text);
        if (cfg->transport < 0)
            rc = tide_err_set(err, "options.transport: \"%s\" is not auto, native or curl", text);
    }
    free(text);
    return rc;
}

/* options.http2 and options.proxy: every request's defaults (docs/http.md); a proxy URL that
 * libcurl could not use is refused here rather than failing every request. */
static int read_curl_only(lua_State *L, int opts, struct tide_config *cfg, struct tide_err *err)
{
    if (opt_bool(L, opts, "options", "http2", &cfg->http2, err) != 0 ||
        opt_string(L, opts, "options", "proxy", &cfg->proxy, err) != 0)
        return -1;
    if (cfg->proxy != NULL && cfg->proxy[0] != '\0' && !tide_proxy_valid(cfg->proxy))
        return tide_err_set(err,
                            "options.proxy: \"%.100s\" is not a proxy URL "
                            "([http|https|socks4|socks4a|socks5|socks5h://]host[:port])",
                            cfg->proxy);
    return 0;
}

static int read_tls(lua_State *L, int opts, struct tide_config *cfg, struct tide_err *err)
{
    int t = lua_getfield(L, opts, "tls");
    int rc = 0;
    if (t == LUA_TTABLE) {
        int tls = lua_gettop(L);
        if (opt_string(L, tls, "options.tls", "ca", &cfg->tls_ca, err) != 0 ||
            opt_string(L, tls, "options.tls", "cert", &cfg->tls_cert, err) != 0 ||
            opt_string(L, tls, "options.tls", "key", &cfg->tls_key, err) != 0)
            rc = -1;
    } else if (t != LUA_TNIL) {
        rc = tide_err_set(err, "options.tls: expected a table { ca = FILE, cert = FILE, key = "
                               "FILE }");
    }
    lua_pop(L, 1);
    return rc;
}

static int read_top_options(lua_State *L, int opts, struct tide_config *cfg, struct top_options *t,
                            struct tide_err *err)
{
    t->vus = t->duration = t->iterations = -1;
    cfg->setup_timeout_us = 60000000; /* k6's defaults */
    cfg->teardown_timeout_us = 60000000;
    cfg->hook_timeout_us = 10000000;
    t->present = lua_istable(L, opts);
    if (!t->present)
        return 0;
    if (opt_string(L, opts, "options", "host", &cfg->host, err) != 0 ||
        opt_int(L, opts, "options", "vus", NULL, MAX_VUS, &t->vus, err) != 0 ||
        opt_duration(L, opts, "options", "duration", NULL, &t->duration, err) != 0 ||
        opt_int(L, opts, "options", "iterations", NULL, MAX_ITERATIONS, &t->iterations, err) != 0 ||
        opt_duration(L, opts, "options", "warmup", NULL, &t->warmup, err) != 0 ||
        opt_int(L, opts, "options", "threads", NULL, MAX_THREADS, &t->threads, err) != 0 ||
        opt_duration(L, opts, "options", "setup_timeout", "setupTimeout", &cfg->setup_timeout_us,
                     err) != 0 ||
        opt_duration(L, opts, "options", "teardown_timeout", "teardownTimeout",
                     &cfg->teardown_timeout_us, err) != 0 ||
        opt_duration(L, opts, "options", "hook_timeout", NULL, &cfg->hook_timeout_us, err) != 0 ||
        opt_duration(L, opts, "options", "retention", NULL, &cfg->retention_us, err) != 0 ||
        opt_bool(L, opts, "options", "insecure", &cfg->insecure, err) != 0 ||
        read_tls(L, opts, cfg, err) != 0 || read_transport(L, opts, cfg, err) != 0 ||
        read_curl_only(L, opts, cfg, err) != 0 ||
        opt_bool(L, opts, "options", "verify_fails_run", &cfg->verify_fails_run, err) != 0 ||
        opt_bool(L, opts, "options", "bundle", &cfg->bundle, err) != 0 ||
        opt_bool(L, opts, "options", "bundle_data", &cfg->bundle_data, err) != 0 ||
        read_stages(L, opts, "options", &t->top, err) != 0 ||
        read_kvs(L, opts, "options", "tags", &cfg->tags, &cfg->ntags, err) != 0 ||
        read_thresholds(L, opts, cfg, err) != 0)
        return -1;
    return 0;
}

/* CLI wins: the host and the default scenario's shape. */
static void apply_cli_shape(const struct tide_cli *cli, struct tide_config *cfg,
                            struct top_options *t)
{
    if (cli->host != NULL) {
        free(cfg->host);
        cfg->host = strdup(cli->host);
    }
    if (cfg->host != NULL) {
        char *h = trim_host(cfg->host);
        free(cfg->host);
        cfg->host = h;
    }
    if (cli->vus >= 0)
        t->vus = cli->vus;
    if (cli->duration_us >= 0)
        t->duration = cli->duration_us;
    if (cli->iterations >= 0)
        t->iterations = cli->iterations;
    if (tide_cli_shapes_load(cli) && cli->nstages == 0) {
        /* --vus/--duration/--iterations/--rate/-u replace the script's own shape */
        free(t->top.stages);
        t->top.stages = NULL;
        t->top.nstages = 0;
    }
    if (cli->nstages > 0) {
        free(t->top.stages);
        t->top.stages = calloc((size_t)cli->nstages, sizeof *t->top.stages);
        memcpy(t->top.stages, cli->stages, (size_t)cli->nstages * sizeof *t->top.stages);
        t->top.nstages = cli->nstages;
    }
}

/* options.scenarios, unless the CLI sets the shape or there is none: then the default one. */
static int build_scenarios(lua_State *L, int opts, const struct tide_cli *cli,
                           struct tide_config *cfg, const struct top_options *t,
                           struct tide_err *err)
{
    if (tide_cli_shapes_load(cli) || !t->present ||
        (lua_getfield(L, opts, "scenarios"), !lua_istable(L, -1))) {
        if (t->present && !tide_cli_shapes_load(cli))
            lua_pop(L, 1);
        return default_scenario(cfg, cli, t->vus, t->duration, t->iterations, t->top.stages,
                                t->top.nstages, err);
    }
    lua_pop(L, 1);
    if (read_scenarios(L, opts, cfg, err) != 0)
        return -1;
    if (cfg->nscenarios == 0)
        return tide_err_set(err, "options.scenarios is empty");
    return 0;
}

/* --threshold 'METRIC: EXPRESSION': the first ':' outside {} separates them. */
static int add_cli_thresholds(const struct tide_cli *cli, struct tide_config *cfg,
                              struct tide_err *err)
{
    for (int i = 0; i < cli->nthresholds; i++) {
        const char *arg = cli->thresholds[i], *expr;
        size_t keylen;
        if (tide_threshold_split_cli(arg, &keylen, &expr, err) != 0)
            return -1;
        char key[512];
        snprintf(key, sizeof key, "%.*s", (int)keylen, arg);
        add_threshold(cfg, key, expr, false, 0, true);
    }
    return 0;
}

/* The rest of the CLI: tags, warm-up, hook time limit, threads, outputs, plugins. */
static void apply_cli_settings(const struct tide_cli *cli, struct tide_config *cfg,
                               const struct top_options *t)
{
    for (int i = 0; i < cli->ntags; i++) {
        struct tide_kv *g = realloc(cfg->tags, (size_t)(cfg->ntags + 1) * sizeof *g);
        cfg->tags = g;
        g[cfg->ntags].key = strdup(cli->tags[i].key);
        g[cfg->ntags].value = strdup(cli->tags[i].value);
        cfg->ntags++;
    }
    cfg->warmup_us = cli->warmup_us >= 0 ? cli->warmup_us : t->warmup;
    if (cli->hook_timeout_us >= 0)
        cfg->hook_timeout_us = cli->hook_timeout_us;
    cfg->threads = cli->threads > 0 ? cli->threads : (int)t->threads;
    if (cfg->threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = n > 0 ? (int)n : 1;
    }
    cfg->insecure = cfg->insecure || cli->insecure;
    cfg->http2 = cfg->http2 || cli->http2;
    if (cli->transport != NULL) /* --transport wins over options.transport */
        cfg->transport = tide_transport_parse(cli->transport);
    if (cli->cacert != NULL) { /* --cacert, --cert, --key win over options.tls */
        free(cfg->tls_ca);
        cfg->tls_ca = dupstr(cli->cacert);
    }
    if (cli->cert != NULL) {
        free(cfg->tls_cert);
        cfg->tls_cert = dupstr(cli->cert);
    }
    if (cli->key != NULL) {
        free(cfg->tls_key);
        cfg->tls_key = dupstr(cli->key);
    }
    cfg->quiet = cli->quiet;
    cfg->out_dir = dupstr(cli->out);
    cfg->sign_key = dupstr(cli->sign_key);
    cfg->bundle = cfg->bundle || cfg->bundle_data || cli->bundle;
    cfg->bundle_data = cfg->bundle_data || cli->bundle_data;
    cfg->csv_prefix = dupstr(cli->csv_prefix);
    cfg->html_path = dupstr(cli->html_path);
    cfg->fail_on_saturation = cli->fail_on_saturation;
    cfg->vu_memory = cli->vu_memory;
    cfg->target_inprocess = cli->target;
    /* cfg->plugins: resolved and loaded in the probe (plugins.c) */
}

int tide_options_build_keep(const struct tide_cli *cli, struct tide_config *cfg, lua_State **keep,
                            struct tide_err *err)
{
    struct top_options t;
    memset(&t, 0, sizeof t);
    memset(cfg, 0, sizeof *cfg);
    cfg->verify_fails_run = true;
    /* --env first: the script's top level may read it */
    if (read_script(cli->script, cfg, err) != 0 || copy_cli_env(cli, cfg, err) != 0)
        return -1;
    cfg->allow_read_anywhere = cli->allow_read;
    lua_State *L = tide_sandbox_new(cfg, err);
    if (L == NULL)
        return -1;
    int rc = -1, env = 0, opts = 0;
    if (probe(L, cli, cfg, err) != 0)
        goto out;
    env = lua_gettop(L) - 1;
    opts = lua_gettop(L);
    if (read_top_options(L, opts, cfg, &t, err) != 0 ||
        tide_privacy_options_read(L, opts, err) != 0)
        goto out;
    apply_cli_shape(cli, cfg, &t);
    if (tide_privacy_options_apply(cli, cfg, err) != 0)
        goto out;
    if (build_scenarios(L, opts, cli, cfg, &t, err) != 0 || exec_defined(L, env, cfg, err) != 0 ||
        add_cli_thresholds(cli, cfg, err) != 0)
        goto out;
    apply_cli_settings(cli, cfg, &t);
    if (tide_runconf_apply(cli, cfg, err) != 0) /* Locust's -T and --stop-timeout */
        goto out;
    if (tide_distributed_segment(cli, cfg, err) != 0) /* --segment: docs/distributed.md */
        goto out;
    rc = 0;
out:
    free(t.top.stages);
    if (rc == 0 && keep != NULL) {
        lua_settop(L, env); /* the environment the top level ran in, on top */
        *keep = L;
    } else {
        lua_close(L);
    }
    return rc;
}
