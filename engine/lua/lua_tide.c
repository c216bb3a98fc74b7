/* lua_tide.c: tide.core (iteration control, sleep, groups, checks, env, log) and
 * tide.metrics (custom counters, gauges, rates, trends). */
#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "executor.h"
#include "log.h"
#include "lua_net.h"
#include "lua_runfiles.h"
#include "lua_tide.h"
#include "luaerr.h"
#include "metrics.h"
#include "sample.h"
#include "segment.h"
#include "vu.h"
#include "worker.h"

static void begin_iteration(struct tide_vu *vu)
{
    int64_t now = tide_now_us();
    vu->iteration++;
    vu->iter_start_us = now;
    vu->group[0] = '\0';
    vu->yielded = false;
    vu->in_iteration = true;
    int active = atomic_fetch_add(&vu->w->vus_active, 1) + 1;
    if (active > atomic_load(&vu->w->vus_peak))
        atomic_store(&vu->w->vus_peak, active);
    if (vu->sched_start_us > 0) {
        double late = (double)(now - vu->sched_start_us) / 1000.0;
        tide_sample_vu_add(vu, NULL, TIDE_M_ITERATION_START_DELAY, late > 0 ? late : 0);
        vu->prev_req_end_us = vu->sched_start_us;
    }
}

static int k_next(lua_State *L, int status, lua_KContext begin)
{
    struct tide_vu *vu = tide_vu_of(L);
    bool go = lua_toboolean(L, -1);
    if (go && begin)
        begin_iteration(vu);
    lua_pushboolean(L, go);
    return 1;
}

/* next_iteration() -> bool; may wait (parked VUs, arrivals, or a pass through the loop when
 * the last iteration never yielded, so a CPU-only scenario cannot starve the loop). */
static int l_next_iteration(lua_State *L)
{
    struct tide_vu *vu = tide_vu_of(L);
    int d = tide_sched_next(vu->sched, vu);
    if (d == 0) {
        lua_pushboolean(L, 0);
        return 1;
    }
    if (d == 2) {
        tide_vu_wait(vu, TIDE_VU_PARKED, tide_sched_cancel_park, NULL);
        return lua_yieldk(L, 0, 1, k_next);
    }
    bool yielded = vu->yielded;
    begin_iteration(vu);
    if (!yielded) {
        tide_vu_wait(vu, TIDE_VU_PARKED, NULL, NULL);
        tide_vu_wake(vu, true); /* resumed from the loop: other VUs get their turn */
        return lua_yieldk(L, 0, 0, k_next);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* The message of an error value; tide.fail/abort raise tables { tide_error=, message= }. */
static const char *error_kind(lua_State *L, int idx, const char **msg)
{
    const char *kind = NULL;
    if (lua_type(L, idx) == LUA_TTABLE) { /* read raw: a script's __index must not run */
        lua_pushliteral(L, "tide_error");
        kind = lua_rawget(L, idx) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        lua_pushliteral(L, "message");
        *msg = lua_rawget(L, idx) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        lua_pop(L, 2); /* the strings stay alive in the table */
        if (kind != NULL) {
            if (*msg == NULL)
                *msg = "(no message)";
            return kind;
        }
    }
    /* any other value as tostring() shows it, even when its __tostring raises */
    char text[600];
    lua_pushstring(L, tide_lua_errtext(L, idx, text, sizeof text));
    lua_replace(L, idx);
    *msg = lua_tostring(L, idx);
    return NULL;
}

static void request_abort(struct tide_vu *vu, const char *msg)
{
    struct tide_shared *sh = vu->w->shared;
    if (!atomic_flag_test_and_set(&sh->abort_once)) {
        char *red = tide_redact(msg); /* whole, then cut */
        snprintf(sh->abort_reason, sizeof sh->abort_reason, "%s",
                 red != NULL ? red : "(reason hidden: out of memory)");
        free(red);
        atomic_store(&sh->aborted, true);
    }
    atomic_store(&sh->stop, true);
}

/* iteration_done(ok, err) */
static int l_iteration_done(lua_State *L)
{
    struct tide_vu *vu = tide_vu_of(L);
    bool ok = lua_toboolean(L, 1);
    int64_t now = tide_now_us();
    if (vu->in_iteration) {
        vu->in_iteration = false;
        atomic_fetch_sub(&vu->w->vus_active, 1);
    }
    vu->group[0] = '\0';
    if (!ok && (tide_stop_requested || atomic_load(&vu->w->shared->stop)))
        return 0; /* cut short by the stop hook: neither an error nor an iteration */
    if (!ok) {
        const char *msg;
        const char *kind = error_kind(L, 2, &msg);
        if (kind != NULL && strcmp(kind, "abort") == 0) {
            request_abort(vu, msg);
            return 0; /* an aborted iteration is not counted */
        }
        char buf[600];
        if (kind != NULL && strcmp(kind, "fail") == 0)
            snprintf(buf, sizeof buf, "tide.fail: %s", msg);
        else
            snprintf(buf, sizeof buf, "%s", msg);
        tide_vu_script_error(vu, buf);
    }
    tide_sample_vu_add(vu, NULL, TIDE_M_ITERATIONS, 1);
    tide_sample_vu_add(vu, NULL, TIDE_M_ITERATION_DURATION,
                       (double)(now - vu->iter_start_us) / 1000.0);
    return 0;
}

/* vu_error(err, where): vu_setup or vu_teardown failed. */
static int l_vu_error(lua_State *L)
{
    struct tide_vu *vu = tide_vu_of(L);
    const char *msg;
    const char *kind = error_kind(L, 1, &msg);
    if (kind != NULL && strcmp(kind, "abort") == 0) {
        request_abort(vu, msg);
        return 0;
    }
    char buf[600];
    snprintf(buf, sizeof buf, "%s: %s", luaL_optstring(L, 2, "?"), msg);
    tide_vu_script_error(vu, buf);
    vu->setup_failed = strcmp(luaL_optstring(L, 2, ""), "vu_setup") == 0;
    return 0;
}

static int l_sleep(lua_State *L)
{
    struct tide_vu *vu = tide_vu_of(L);
    double s = luaL_checknumber(L, 1);
    luaL_argcheck(L, s >= 0 && isfinite(s), 1, "seconds must be a finite number >= 0");
    tide_vu_sleep(vu, s);
    return lua_yield(L, 0);
}

static int l_vu_id(lua_State *L)
{
    struct tide_vu *vu = *(struct tide_vu **)lua_getextraspace(L);
    lua_pushinteger(L, vu != NULL && vu->call_fn == NULL ? vu->id : 0);
    return 1;
}

static const struct tide_config *config_of(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.config");
    const struct tide_config *cfg = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return cfg;
}

/* tide.vu.id_in_test: unique across the segments of a test (segment.h); 0 outside VUs. */
static int l_vu_id_in_test(lua_State *L)
{
    struct tide_vu *vu = *(struct tide_vu **)lua_getextraspace(L);
    const struct tide_config *cfg = config_of(L);
    struct tide_segment seg = TIDE_SEGMENT_WHOLE;
    if (cfg != NULL && cfg->segment_count > 1)
        seg = (struct tide_segment){cfg->segment_index, cfg->segment_count};
    lua_pushinteger(L, vu != NULL && vu->call_fn == NULL ? tide_segment_vu_id(seg, vu->id) : 0);
    return 1;
}

/* segment() -> I, N: this process's segment (1-based), 1, 1 for a whole test. */
static int l_segment(lua_State *L)
{
    const struct tide_config *cfg = config_of(L);
    bool split = cfg != NULL && cfg->segment_count > 1;
    lua_pushinteger(L, split ? cfg->segment_index + 1 : 1);
    lua_pushinteger(L, split ? cfg->segment_count : 1);
    return 2;
}

static int l_vu_iteration(lua_State *L)
{
    struct tide_vu *vu = *(struct tide_vu **)lua_getextraspace(L);
    lua_pushinteger(L, vu != NULL && vu->iteration > 0 ? vu->iteration - 1 : 0);
    return 1;
}

static int l_vu_scenario(lua_State *L)
{
    struct tide_vu *vu = *(struct tide_vu **)lua_getextraspace(L);
    if (vu == NULL || vu->sched == NULL)
        lua_pushnil(L);
    else
        lua_pushstring(L, vu->sched->sc->name);
    return 1;
}

/* group_push(name) -> previous length; group_pop(previous length) */
static int l_group_push(lua_State *L)
{
    struct tide_vu *vu = tide_vu_of(L);
    const char *name = luaL_checkstring(L, 1);
    size_t len = strlen(vu->group);
    if (strstr(name, "::") != NULL)
        return luaL_argerror(L, 1, "a group name cannot contain '::'");
    char *red = NULL;
    if (tide_redact_changes(name)) { /* a name built from data: redacted before the cut */
        red = tide_redact(name);
        name = red != NULL ? red : "(group name hidden: out of memory)";
    }
    snprintf(vu->group + len, sizeof vu->group - len, "::%s", name);
    free(red);
    lua_pushinteger(L, (lua_Integer)len);
    return 1;
}

static int l_group_pop(lua_State *L)
{
    struct tide_vu *vu = tide_vu_of(L);
    lua_Integer len = luaL_checkinteger(L, 1);
    if (len >= 0 && (size_t)len < sizeof vu->group)
        vu->group[len] = '\0';
    return 0;
}

static int l_group(lua_State *L)
{
    struct tide_vu *vu = tide_vu_of(L);
    lua_pushstring(L, vu->group);
    return 1;
}

/* Canonical form of a Lua table of tags at 'idx' (strings/numbers/booleans), into buf. */
void tide_lua_tags(lua_State *L, int idx, char *buf, size_t len)
{
    struct tide_tags t = {0};
    char arena[2048];
    size_t used = 0;
    buf[0] = '\0';
    if (lua_isnoneornil(L, idx))
        return;
    luaL_checktype(L, idx, LUA_TTABLE);
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING && t.n < 32) {
            size_t kl, vl;
            const char *k = lua_tolstring(L, -2, &kl);
            const char *v = luaL_tolstring(L, -1, &vl); /* k, v, s */
            if (used + kl + vl + 2 <= sizeof arena) {
                memcpy(arena + used, k, kl + 1);
                memcpy(arena + used + kl + 1, v, vl + 1);
                tide_tags_set(&t, arena + used, arena + used + kl + 1);
                used += kl + vl + 2;
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    tide_tags_canon(&t, buf, len);
}

/* check(name, passed [, tags]) records one sample of `checks`. */
static int l_check(lua_State *L)
{
    struct tide_vu *vu = tide_vu_of(L);
    const char *name = luaL_checkstring(L, 1);
    bool passed = lua_toboolean(L, 2);
    if (tide_redact_changes(name)) { /* a name built from data: redacted before it is cut */
        char *red = tide_redact(name);
        lua_pushstring(L, red != NULL ? red : "(check name hidden: out of memory)");
        free(red);
        lua_replace(L, 1);
        name = lua_tostring(L, 1);
    }
    char extra[1024];
    tide_lua_tags(L, 3, extra, sizeof extra);
    struct tide_tags t = {0};
    char scratch[1024];
    tide_tags_parse(extra, scratch, sizeof scratch, &t);
    tide_tags_set(&t, "check", name);
    char canon[1200];
    tide_tags_canon(&t, canon, sizeof canon);
    tide_sample_vu_add(vu, canon, TIDE_M_CHECKS, passed ? 1 : 0);
    lua_pushboolean(L, passed);
    return 1;
}

/* env(name [, default]): --env K=V first, then the process environment. Values read here are
 * treated as secrets: redacted from every log and report. */
static int l_env(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    struct tide_vu *vu = *(struct tide_vu **)lua_getextraspace(L);
    const struct tide_config *cfg = NULL;
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.config");
    cfg = lua_touserdata(L, -1);
    lua_pop(L, 1);
    (void)vu;
    const char *v = NULL;
    for (int i = 0; cfg != NULL && i < cfg->nenv && v == NULL; i++) {
        if (strcmp(cfg->env[i].key, name) == 0)
            v = cfg->env[i].value;
    }
    if (v == NULL)
        v = getenv(name);
    if (v == NULL) {
        lua_settop(L, 2);
        return 1;
    }
    bool secret = true; /* env(name, default, { secret = false }): a setting, not a secret */
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "secret");
        secret = lua_isnil(L, -1) || lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    if (secret)
        tide_secret_add(v);
    lua_pushstring(L, v);
    return 1;
}

/* secret(value): from now on 'value' is redacted from everything tide writes, in every
 * thread (a token returned by a login); returns it, so `local t = tide.secret(res.json().t)`. */
static int l_secret(lua_State *L)
{
    const char *v = luaL_checkstring(L, 1);
    tide_secret_add(v);
    lua_settop(L, 1);
    return 1;
}

static int l_log(lua_State *L)
{
    const char *level = luaL_checkstring(L, 1);
    const char *msg = luaL_checkstring(L, 2);
    struct tide_vu *vu = *(struct tide_vu **)lua_getextraspace(L);
    enum tide_log_level lv = TIDE_LOG_INFO;
    if (strcmp(level, "warn") == 0)
        lv = TIDE_LOG_WARN;
    else if (strcmp(level, "error") == 0)
        lv = TIDE_LOG_ERROR;
    else if (strcmp(level, "debug") == 0)
        lv = TIDE_LOG_DEBUG;
    if (vu != NULL)
        tide_log(lv, "[VU %d] %s", vu->id, msg);
    else
        tide_log(lv, "%s", msg);
    return 0;
}

static const luaL_Reg core_funcs[] = {
    {"next_iteration", l_next_iteration},
    {"iteration_done", l_iteration_done},
    {"vu_error", l_vu_error},
    {"sleep", l_sleep},
    {"vu_id", l_vu_id},
    {"vu_id_in_test", l_vu_id_in_test},
    {"segment", l_segment},
    {"vu_iteration", l_vu_iteration},
    {"vu_scenario", l_vu_scenario},
    {"group_push", l_group_push},
    {"group_pop", l_group_pop},
    {"group", l_group},
    {"check", l_check},
    {"env", l_env},
    {"secret", l_secret},
    {"log", l_log},
    {NULL, NULL},
};

int luaopen_tide_core(lua_State *L)
{
    luaL_newlib(L, core_funcs);
    tide_runfiles_register(L); /* run_files, run_read, hook_current */
    tide_net_register(L);      /* net_send */
    return 1;
}

/* --- tide.metrics --- */

struct metric_ud {
    int id;
};

static int l_metric_add(lua_State *L)
{
    struct metric_ud *m = luaL_checkudata(L, 1, "tide.metric");
    double v;
    if (lua_isboolean(L, 2))
        v = lua_toboolean(L, 2) ? 1 : 0;
    else
        v = luaL_checknumber(L, 2);
    luaL_argcheck(L, isfinite(v), 2, "value must be finite");
    struct tide_vu *vu = tide_vu_of(L);
    char extra[1024];
    tide_lua_tags(L, 3, extra, sizeof extra);
    tide_sample_vu_add(vu, extra, m->id, v);
    return 0;
}

static int l_metric_name(lua_State *L)
{
    struct metric_ud *m = luaL_checkudata(L, 1, "tide.metric");
    lua_pushstring(L, tide_metric_name(m->id));
    return 1;
}

static int new_metric(lua_State *L, enum tide_metric_type type)
{
    const char *name = luaL_checkstring(L, 1);
    enum tide_contains contains = TIDE_CONTAINS_DEFAULT;
    if (type == TIDE_TREND && lua_toboolean(L, 2))
        contains = TIDE_CONTAINS_TIME;
    if (strncmp(name, "tide_", 5) == 0)
        return luaL_argerror(L, 1, "names starting with 'tide_' are reserved");
    struct tide_err err;
    int id = tide_metric_register(name, type, contains, &err);
    if (id < 0)
        return luaL_error(L, "%s", err.msg);
    struct metric_ud *m = lua_newuserdatauv(L, sizeof *m, 0);
    m->id = id;
    luaL_setmetatable(L, "tide.metric");
    return 1;
}

static int l_counter(lua_State *L)
{
    return new_metric(L, TIDE_COUNTER);
}

static int l_gauge(lua_State *L)
{
    return new_metric(L, TIDE_GAUGE);
}

static int l_rate(lua_State *L)
{
    return new_metric(L, TIDE_RATE);
}

static int l_trend(lua_State *L)
{
    return new_metric(L, TIDE_TREND);
}

static const luaL_Reg metric_methods[] = {
    {"add", l_metric_add},
    {"name", l_metric_name},
    {NULL, NULL},
};

static const luaL_Reg metrics_funcs[] = {
    {"counter", l_counter}, {"gauge", l_gauge}, {"rate", l_rate}, {"trend", l_trend}, {NULL, NULL},
};

int luaopen_tide_metrics(lua_State *L)
{
    luaL_newmetatable(L, "tide.metric"); /* mt */
    luaL_newlib(L, metric_methods);      /* mt, methods */
    lua_setfield(L, -2, "__index");      /* mt */
    lua_pop(L, 1);
    luaL_newlib(L, metrics_funcs); /* module */
    return 1;
}
