/* vu.c: VU coroutines: creation in a fresh _ENV, the driver loop, resume, interruption. */
#include <lauxlib.h>
#include <lualib.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "executor.h"
#include "log.h"
#include "connbudget.h"
#include "json_value.h"
#include "vu.h"
#include "worker.h"

#if LUA_VERSION_RELEASE_NUM >= 50406
#define close_thread(co, from) lua_closethread(co, from)
#else
#define close_thread(co, from) lua_resetthread(co)
#endif

/* The body of every VU coroutine. 'core' is tide.core. In "call" mode it runs one lifecycle
 * function; otherwise vu_setup once, iterations while the executor says so, vu_teardown. */
const char tide_vu_driver_source[] =
    "local core = ...\n"
    "local pcall, type = pcall, type\n"
    "return function(mode, env, data, exec, extra)\n"
    "  if mode == 'hook' then\n"
    "    local list = env.require('tide').hooks._handlers[exec]\n"
    "    if not list then return 'missing' end\n"
    "    for i = 1, #list do\n"
    "      local ok, err = pcall(list[i], data)\n"
    "      if not ok then return 'called', false, err end\n"
    "    end\n"
    "    return 'called', true\n"
    "  end\n"
    "  if mode == 'call' then\n"
    "    local f = env[exec]\n"
    "    if type(f) ~= 'function' then return 'missing' end\n"
    "    return 'called', pcall(f, data, extra)\n"
    "  end\n"
    "  if mode == 'load' and type(env.vu_setup) == 'function' then\n"
    "    local ok, err = pcall(env.vu_setup, data)\n"
    "    if not ok then core.vu_error(err, 'vu_setup') return end\n"
    "  end\n"
    "  local f = env[exec]\n"
    "  while core.next_iteration() do\n"
    "    core.iteration_done(pcall(f, data))\n"
    "  end\n"
    "  if type(env.vu_teardown) == 'function' then\n"
    "    local ok, err = pcall(env.vu_teardown, data)\n"
    "    if not ok then core.vu_error(err, 'vu_teardown') end\n"
    "  end\n"
    "end\n";

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents);

struct tide_vu *tide_vu_new(struct tide_worker *w, struct tide_sched *s)
{
    struct tide_vu *vu = calloc(1, sizeof *vu);
    if (vu == NULL)
        return NULL;
    vu->w = w;
    vu->sched = s;
    if (s != NULL) /* lifecycle calls (setup, teardown...) run as VU 0 */
        vu->id = (int)atomic_fetch_add(&w->shared->vu_ids, 1) + 1;
    vu->co_ref = LUA_NOREF;
    vu->env_ref = LUA_NOREF;
    vu->call_arg_ref = LUA_NOREF;
    vu->call_arg2_ref = LUA_NOREF;
    vu->state = TIDE_VU_NEW;
    vu->req.vu = vu;
    ev_timer_init(&vu->timer, on_timer, 0., 0.);
    vu->timer.data = vu;
    int n = atomic_fetch_add(&w->vus_max, 1) + 1;
    if (n > atomic_load(&w->vus_max_peak))
        atomic_store(&w->vus_max_peak, n);
    return vu;
}

static void release_request(struct tide_vu *vu, struct tide_vu_request *r)
{
    tide_http_cancel(vu->w->http, &r->r);
    if (r->r.easy != NULL)
        curl_easy_cleanup(r->r.easy);
    curl_slist_free_all(r->headers);
    free(r->name);
    free(r->tags);
    tide_buf_free(&r->r.body);
    tide_buf_free(&r->r.headers);
    tide_buf_free(&r->url);
    tide_buf_free(&r->send);
    curl_url_cleanup(r->cu);
    free(r->cu_url);
}

static void drop_coroutine(struct tide_vu *vu)
{
    lua_State *L = vu->w->L;
    if (vu->co != NULL) {
        *(struct tide_vu **)lua_getextraspace(vu->co) = NULL;
        close_thread(vu->co, L);
    }
    luaL_unref(L, LUA_REGISTRYINDEX, vu->co_ref);
    vu->co_ref = LUA_NOREF;
    vu->co = NULL;
}

CURLSH *tide_vu_share(struct tide_vu *vu)
{
    if (vu->share != NULL)
        return vu->share;
    /* created on the first request: VUs that only sleep hold no connection state */
    vu->share = curl_share_init();
    if (vu->share != NULL) {
        curl_share_setopt(vu->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
        curl_share_setopt(vu->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
        curl_share_setopt(vu->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    }
    return vu->share;
}

void tide_vu_free(struct tide_vu *vu)
{
    if (vu == NULL)
        return;
    ev_timer_stop(vu->w->loop, &vu->timer);
    tide_conn_forget(vu);
    release_request(vu, &vu->req);
    for (int i = 0; i < vu->batch_cap; i++)
        release_request(vu, &vu->batch[i]);
    free(vu->batch);
    if (vu->share != NULL)
        curl_share_cleanup(vu->share);
    drop_coroutine(vu);
    luaL_unref(vu->w->L, LUA_REGISTRYINDEX, vu->env_ref);
    luaL_unref(vu->w->L, LUA_REGISTRYINDEX, vu->call_arg_ref);
    luaL_unref(vu->w->L, LUA_REGISTRYINDEX, vu->call_arg2_ref);
    atomic_fetch_sub(&vu->w->vus_max, 1);
    free(vu);
}

struct tide_vu *tide_vu_of(lua_State *L)
{
    struct tide_vu *vu = *(struct tide_vu **)lua_getextraspace(L);
    if (vu == NULL || vu->co != L)
        luaL_error(L, "must be called from a VU's code (not at load time, nor from a coroutine "
                      "the script created)");
    return vu;
}

/* Builds the VU's _ENV and runs the scenario's top level in it. Leaves nothing on L. */
static int make_env(struct tide_vu *vu)
{
    lua_State *L = vu->w->L;
    lua_newtable(L);                                 /* env */
    lua_newtable(L);                                 /* env, mt */
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.base"); /* env, mt, base */
    lua_setfield(L, -2, "__index");                  /* env, mt */
    lua_setmetatable(L, -2);                         /* env */
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "_G"); /* _G is this VU's environment, not the shared base */
    if (luaL_loadbufferx(L, vu->w->chunk, vu->w->chunk_len, vu->w->cfg->script_name, "b") !=
            LUA_OK ||
        (lua_pushvalue(L, -2), lua_setupvalue(L, -2, 1), lua_pcall(L, 0, 0, 0)) != LUA_OK) {
        const char *msg = luaL_tolstring(L, -1, NULL); /* env, err, msg */
        if (vu->call_fn != NULL) {
            vu->w->call_ok = false;
            snprintf(vu->w->call_error, sizeof vu->w->call_error, "%s", msg);
        } else {
            tide_vu_script_error(vu, msg);
        }
        lua_pop(L, 3);
        return -1;
    }
    /* --plugin files run in the same environment, after the scenario's top level */
    for (int i = 0; i < vu->w->cfg->nplugins; i++) {
        const char *path = vu->w->cfg->plugins[i];
        if (luaL_loadfilex(L, path, "t") != LUA_OK ||
            (lua_pushvalue(L, -2), lua_setupvalue(L, -2, 1), lua_pcall(L, 0, 0, 0)) != LUA_OK) {
            const char *msg = luaL_tolstring(L, -1, NULL); /* env, err, msg */
            if (vu->call_fn != NULL) {
                vu->w->call_ok = false;
                snprintf(vu->w->call_error, sizeof vu->w->call_error, "plugin %s", msg);
            } else {
                tide_vu_script_error(vu, msg);
            }
            lua_pop(L, 3);
            return -1;
        }
    }
    vu->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

volatile sig_atomic_t tide_stop_requested;

/* A count hook: a VU stuck in a loop that never yields still stops when the run is stopped. */
static void stop_hook(lua_State *L, lua_Debug *ar)
{
    struct tide_vu *vu = *(struct tide_vu **)lua_getextraspace(L);
    if (tide_stop_requested ||
        (vu != NULL && vu->call_fn == NULL && atomic_load(&vu->w->shared->stop)))
        luaL_error(L, "stopped: the run was interrupted while this code was running");
}

int tide_vu_start(struct tide_vu *vu)
{
    struct tide_worker *w = vu->w;
    lua_State *L = w->L;
    tide_sched_vu_started(vu->sched);
    if (vu->env_ref == LUA_NOREF && make_env(vu) != 0) {
        vu->state = TIDE_VU_DONE;
        tide_sched_vu_done(vu->sched, vu);
        return -1;
    }
    vu->co = lua_newthread(L); /* thread */
    vu->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    *(struct tide_vu **)lua_getextraspace(vu->co) = vu;
    lua_sethook(vu->co, stop_hook, LUA_MASKCOUNT, 1000000);
    lua_rawgeti(vu->co, LUA_REGISTRYINDEX, w->driver_ref);
    const char *mode = vu->call_fn == NULL ? (vu->setup_done ? "resume" : "load")
                       : strncmp(vu->call_fn, "hook:", 5) == 0 ? "hook"
                                                               : "call";
    lua_pushstring(vu->co, mode);
    lua_rawgeti(vu->co, LUA_REGISTRYINDEX, vu->env_ref);
    if (vu->call_fn != NULL) {
        lua_rawgeti(vu->co, LUA_REGISTRYINDEX, vu->call_arg_ref);
        lua_pushstring(vu->co,
                       strncmp(vu->call_fn, "hook:", 5) == 0 ? vu->call_fn + 5 : vu->call_fn);
    } else {
        if (w->setup_ref != LUA_NOREF) {
            /* every VU gets its own copy of setup()'s data */
            lua_rawgeti(vu->co, LUA_REGISTRYINDEX, w->setup_ref);
            const cJSON *j = lua_touserdata(vu->co, -1);
            lua_pop(vu->co, 1);
            tide_json_push(vu->co, j);
        } else {
            lua_pushnil(vu->co);
        }
        lua_pushstring(vu->co, tide_sched_exec(vu->sched));
    }
    if (vu->call_arg2_ref != LUA_NOREF)
        lua_rawgeti(vu->co, LUA_REGISTRYINDEX, vu->call_arg2_ref);
    else
        lua_pushnil(vu->co);
    vu->setup_done = true;
    tide_vu_resume(vu, 5);
    return 0;
}

static void capture_call_result(struct tide_vu *vu, int nres)
{
    struct tide_worker *w = vu->w;
    lua_State *co = vu->co;
    int base = lua_gettop(co) - nres;
    const char *what = nres > 0 ? lua_tostring(co, base + 1) : NULL;
    if (what == NULL || strcmp(what, "missing") == 0) {
        w->call_ok = true;
        w->call_result = NULL;
        return;
    }
    w->call_ok = lua_toboolean(co, base + 2);
    if (!w->call_ok && lua_type(co, base + 3) == LUA_TTABLE) {
        lua_getfield(co, base + 3, "tide_error");
        const char *kind = lua_tostring(co, -1);
        w->call_aborted = kind != NULL && strcmp(kind, "abort") == 0;
        lua_pop(co, 1);
    }
    if (!w->call_ok) {
        const char *msg = luaL_tolstring(co, base + 3, NULL);
        snprintf(w->call_error, sizeof w->call_error, "%s", msg);
        lua_pop(co, 1);
        return;
    }
    if (lua_isnoneornil(co, base + 3))
        return;
    struct tide_err err;
    w->call_result = tide_json_from_lua(co, base + 3, &err);
    if (w->call_result == NULL) {
        w->call_ok = false;
        snprintf(w->call_error, sizeof w->call_error, "%s() returned a value that is not JSON: %s",
                 vu->call_fn, err.msg);
    }
}

void tide_vu_resume(struct tide_vu *vu, int nargs)
{
    struct tide_worker *w = vu->w;
    int nres = 0;
    vu->state = TIDE_VU_RUNNING;
    vu->yielded = true;
    int st = lua_resume(vu->co, w->L, nargs, &nres);
    if (st == LUA_YIELD) {
        lua_pop(vu->co, nres);
        return; /* the yielding function set vu->state */
    }
    if (st == LUA_OK) {
        if (vu->call_fn != NULL)
            capture_call_result(vu, nres);
        lua_pop(vu->co, nres);
    } else {
        const char *msg = luaL_tolstring(vu->co, -1, NULL);
        if (vu->call_fn == NULL && atomic_load(&w->shared->stop)) {
            /* stopped by the count hook: not a script error */
        } else if (vu->call_fn != NULL) {
            w->call_ok = false;
            snprintf(w->call_error, sizeof w->call_error, "%s", msg);
        } else {
            tide_vu_script_error(vu, msg);
        }
    }
    if (vu->in_iteration) {
        vu->in_iteration = false;
        atomic_fetch_sub(&w->vus_active, 1);
    }
    drop_coroutine(vu);
    vu->state = TIDE_VU_DONE;
    if (vu->call_fn != NULL)
        ev_break(w->loop, EVBREAK_ALL);
    tide_sched_vu_done(vu->sched, vu);
}

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct tide_vu *vu = t->data;
    if (vu->state == TIDE_VU_SLEEP) {
        vu->prev_req_end_us = tide_now_us(); /* think time is not latency */
        tide_vu_resume(vu, 0);
    } else if (vu->state == TIDE_VU_READY) {
        lua_pushboolean(vu->co, 1);
        tide_vu_resume(vu, 1);
    }
}

void tide_vu_wake(struct tide_vu *vu, bool value)
{
    if (vu->state != TIDE_VU_PARKED && vu->state != TIDE_VU_READY)
        return;
    if (!value) {
        /* resume right away: the VU runs vu_teardown and ends */
        lua_pushboolean(vu->co, 0);
        tide_vu_resume(vu, 1);
        return;
    }
    vu->state = TIDE_VU_READY;
    ev_timer_stop(vu->w->loop, &vu->timer);
    ev_timer_set(&vu->timer, 0., 0.);
    ev_timer_start(vu->w->loop, &vu->timer);
}

void tide_vu_interrupt(struct tide_vu *vu)
{
    if (vu->state == TIDE_VU_DONE || vu->state == TIDE_VU_NEW)
        return;
    ev_timer_stop(vu->w->loop, &vu->timer);
    tide_http_cancel(vu->w->http, &vu->req.r);
    for (int i = 0; i < vu->batch_cap; i++)
        tide_http_cancel(vu->w->http, &vu->batch[i].r);
    vu->batch_pending = 0;
    tide_conn_forget(vu);
    if (vu->in_iteration) {
        vu->in_iteration = false;
        atomic_fetch_sub(&vu->w->vus_active, 1);
    }
    drop_coroutine(vu);
    vu->state = TIDE_VU_NEW; /* restartable; vu_setup is not run again */
    tide_sched_vu_reset(vu->sched);
}

void tide_vu_tags(struct tide_vu *vu, const char *extra, char *buf, size_t len)
{
    struct tide_tags t = {0};
    char scratch[2048], scratch2[1024];
    tide_tags_parse(vu->scenario_tags != NULL ? vu->scenario_tags : "", scratch, sizeof scratch,
                    &t);
    tide_tags_set(&t, "group", vu->group);
    if (extra != NULL && *extra != '\0') {
        struct tide_tags e;
        tide_tags_parse(extra, scratch2, sizeof scratch2, &e);
        for (int i = 0; i < e.n; i++)
            tide_tags_set(&t, e.key[i], e.value[i]);
    }
    tide_tags_canon(&t, buf, len);
}

/* Script errors are counted per distinct message; each message is printed once per run. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char **seen;
static size_t nseen;

static bool first_time(const char *msg)
{
    bool first = true;
    pthread_mutex_lock(&seen_lock);
    for (size_t i = 0; i < nseen && first; i++)
        first = strcmp(seen[i], msg) != 0;
    if (first && nseen < 1000) {
        char **grown = realloc(seen, (nseen + 1) * sizeof *seen);
        if (grown != NULL) {
            seen = grown;
            seen[nseen] = strdup(msg);
            if (seen[nseen] != NULL)
                nseen++;
        }
    }
    pthread_mutex_unlock(&seen_lock);
    return first;
}

void tide_vu_script_error(struct tide_vu *vu, const char *msg)
{
    char m[300];
    snprintf(m, sizeof m, "%s", msg != NULL ? msg : "(error object is not a string)");
    tide_redact_buf(m, sizeof m);
    if (first_time(m))
        tide_log(TIDE_LOG_ERROR, "%s (VU %d; further occurrences are counted, not printed)", m,
                 vu->id);
    struct tide_tags t = {0};
    tide_tags_set(&t, "message", m);
    char canon[512];
    tide_tags_canon(&t, canon, sizeof canon);
    tide_registry_add(vu->w->reg, TIDE_M_SCRIPT_ERRORS, canon, 1);
}
