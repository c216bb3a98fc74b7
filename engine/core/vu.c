/* vu.c: VU coroutines: creation in a fresh _ENV, the driver loop, resume, interruption. */
#include <ctype.h>
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
#include "luaerr.h"
#include "vu.h"
#include "vumem.h"
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
    "    local failed = {}\n"
    "    for i = 1, #list do\n"
    "      local h = list[i]\n"
    "      core.hook_current(h.name, h.required)\n"
    "      local ok, res = pcall(h.fn, data)\n"
    "      if not ok or res == false then\n"
    "        failed[#failed + 1] = { hook = h.name, required = h.required,\n"
    "          error = ok and 'returned false' or tostring(res) }\n"
    "      end\n"
    "    end\n"
    "    core.hook_current(nil)\n"
    "    if #failed == 0 then return 'called', true end\n"
    "    return 'called', true, failed\n"
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
    tide_http_transfer_fini(&r->r);
    tide_buf_free(&r->name_buf);
    tide_buf_free(&r->tags_buf);
    r->name = r->tags = NULL;
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

struct tide_session *tide_vu_share(struct tide_vu *vu)
{
    /* created on the first request: VUs that only sleep hold no connection state */
    if (vu->share == NULL)
        vu->share = tide_http_session_new();
    return vu->share;
}

struct tide_vu_request *tide_vu_request_of(struct tide_vu *vu)
{
    if (vu->req == NULL && (vu->req = calloc(1, sizeof *vu->req)) != NULL)
        vu->req->vu = vu;
    return vu->req;
}

void tide_vu_free(struct tide_vu *vu)
{
    if (vu == NULL)
        return;
    ev_timer_stop(vu->w->loop, &vu->timer);
    tide_conn_forget(vu);
    if (vu->req != NULL)
        release_request(vu, vu->req);
    free(vu->req);
    for (int i = 0; i < vu->batch_cap; i++)
        release_request(vu, &vu->batch[i]);
    free(vu->batch);
    tide_http_session_free(vu->share);
    drop_coroutine(vu);
    tide_vumem_forget(&vu->w->mem, vu);
    luaL_unref(vu->w->L, LUA_REGISTRYINDEX, vu->env_ref);
    luaL_unref(vu->w->L, LUA_REGISTRYINDEX, vu->call_arg_ref);
    luaL_unref(vu->w->L, LUA_REGISTRYINDEX, vu->call_arg2_ref);
    atomic_fetch_sub(&vu->w->vus_max, 1);
    free(vu);
}

/* The VU whose code runs on this thread now (script-made coroutines have no VU of their own
 * in their extra space; the count hook finds their VU here). */
static _Thread_local struct tide_vu *running_vu;

/* What a doomed VU's code gets raised at it, or the counted message (out of memory). */
static const char *doom_text(const struct tide_vu *vu, char *buf, size_t n)
{
    int64_t cap = vu->w->mem.cap;
    switch (vu->doom) {
    case TIDE_VU_OUT_OF_MEMORY:
        /* one message for every VU: counted as one kind of error (the log line names the
         * first VU) */
        if (cap % (1024 * 1024) == 0)
            snprintf(buf, n, "out of memory (Lua memory cap %lld MiB per VU)",
                     (long long)(cap / (1024 * 1024)));
        else
            snprintf(buf, n, "out of memory (Lua memory cap %lld bytes per VU)", (long long)cap);
        break;
    case TIDE_VU_BUSY_LOOP:
        snprintf(buf, n, "stopped: still running after the graceful stop");
        break;
    default:
        snprintf(buf, n, "stopped: the run was interrupted while this code was running");
        break;
    }
    return buf;
}

static void stop_hook(lua_State *L, lua_Debug *ar);

/* A doomed VU gets an error at every instruction from now on, so a pcall around its code
 * cannot keep it alive: the first instruction outside the pcall raises again. */
static int raise_doom(lua_State *L, struct tide_vu *vu)
{
    char msg[160];
    lua_sethook(L, stop_hook, LUA_MASKCOUNT, 1);
    if (vu->co != NULL && vu->co != L)
        lua_sethook(vu->co, stop_hook, LUA_MASKCOUNT, 1);
    return luaL_error(L, "%s", doom_text(vu, msg, sizeof msg));
}

struct tide_vu *tide_vu_of(lua_State *L)
{
    struct tide_vu *vu = *(struct tide_vu **)lua_getextraspace(L);
    if (vu == NULL || vu->co != L)
        luaL_error(L, "must be called from a VU's code (not at load time, nor from a coroutine "
                      "the script created)");
    if (vu->doom != TIDE_VU_ALIVE)
        raise_doom(L, vu);
    return vu;
}

/* Reports a failed top level (the error on top of L, the env below) and pops both. */
static int env_failed(struct tide_vu *vu, const char *prefix)
{
    lua_State *L = vu->w->L;
    char msg[1024];
    if (vu->doom == TIDE_VU_OUT_OF_MEMORY)
        doom_text(vu, msg, sizeof msg);
    else
        tide_lua_errtext(L, -1, msg, sizeof msg);
    if (vu->call_fn != NULL) {
        vu->w->call_ok = false;
        snprintf(vu->w->call_error, sizeof vu->w->call_error, "%s%s", prefix, msg);
    } else {
        tide_vu_script_error(vu, msg);
    }
    lua_pop(L, 2);
    return -1;
}

/* Runs the scenario's top level and the --plugin files in the env on top of L. A load VU's
 * environment is marked while they run (registry "tide.vu_env"): hooks registered there are
 * checked but not kept, since only the lifecycle environment runs them. */
static int run_top_level_in(struct tide_vu *vu);

static int run_top_level(struct tide_vu *vu)
{
    lua_State *L = vu->w->L;
    lua_pushboolean(L, vu->call_fn == NULL);
    lua_setfield(L, LUA_REGISTRYINDEX, "tide.vu_env");
    int rc = run_top_level_in(vu);
    lua_pushboolean(L, 0);
    lua_setfield(L, LUA_REGISTRYINDEX, "tide.vu_env");
    return rc;
}

static int run_top_level_in(struct tide_vu *vu)
{
    lua_State *L = vu->w->L;
    if (luaL_loadbufferx(L, vu->w->chunk, vu->w->chunk_len, vu->w->cfg->script_name, "b") !=
            LUA_OK ||
        (lua_pushvalue(L, -2), lua_setupvalue(L, -2, 1), lua_pcall(L, 0, 0, 0)) != LUA_OK)
        return env_failed(vu, "");
    /* --plugin files run in the same environment, after the scenario's top level */
    for (int i = 0; i < vu->w->cfg->nplugins; i++) {
        if (tide_plugin_exec(L, -1, vu->w->cfg->plugins[i]) != 0)
            return env_failed(vu, "plugin ");
    }
    return 0;
}

int tide_plugin_exec(lua_State *L, int env, const char *path)
{
    env = lua_absindex(L, env);
    if (luaL_loadfilex(L, path, "t") != LUA_OK)
        return -1;
    lua_pushvalue(L, env);
    lua_setupvalue(L, -2, 1);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK)
        return -1;
    if (!lua_istable(L, -1)) { /* a plain file: its top level registered what it needs */
        lua_pop(L, 1);
        return 0;
    }
    /* a package: require("tide").plugins._setup(plugin, path, env) */
    lua_getfield(L, env, "require"); /* plugin, require */
    lua_pushliteral(L, "tide");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_remove(L, -2);
        return -1;
    }
    lua_getfield(L, -1, "plugins"); /* plugin, tide, plugins */
    lua_getfield(L, -1, "_setup");  /* plugin, tide, plugins, _setup */
    lua_replace(L, -3);             /* plugin, _setup, plugins */
    lua_pop(L, 1);                  /* plugin, _setup */
    lua_insert(L, -2);              /* _setup, plugin */
    lua_pushstring(L, path);
    lua_pushvalue(L, env);
    return lua_pcall(L, 3, 0, 0) == LUA_OK ? 0 : -1;
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
    /* the VU's globals count against its memory cap */
    struct tide_vu *prev = tide_vumem_enter(&vu->w->mem, vu->call_fn == NULL ? vu : NULL);
    int rc = run_top_level(vu);
    tide_vumem_leave(&vu->w->mem, prev);
    if (rc != 0)
        return -1;
    vu->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

atomic_int tide_stop_requested;

/* Whether the VU is past the time it must be gone by (its scenario's end plus graceful stop,
 * or its ramp-down deadline); *stopped_us: when it was asked to stop. */
static bool past_deadline(struct tide_vu *vu, int64_t *stopped_us)
{
    if (vu->sched == NULL)
        return false; /* lifecycle calls have no deadline */
    int64_t hard = tide_sched_deadline(vu->sched, vu, stopped_us);
    return hard != INT64_MAX && tide_now_us() >= hard;
}

#define HOOK_COUNT 1000000 /* instructions between two looks at the clock and the stop */

void tide_vu_check_soon(struct tide_vu *vu)
{
    lua_sethook(vu->co, stop_hook, LUA_MASKCOUNT, 1);
}

/* The VU went over its memory cap: after a full collection (its garbage is not held against
 * it) the count is exact; still over, the VU ends. */
static void check_memory(lua_State *L, struct tide_vu *vu)
{
    vu->mem_over = false;
    lua_sethook(vu->co, stop_hook, LUA_MASKCOUNT, HOOK_COUNT);
    lua_gc(L, LUA_GCCOLLECT);
    if (vu->mem > vu->w->mem.cap) {
        vu->doom = TIDE_VU_OUT_OF_MEMORY;
        raise_doom(L, vu);
    }
}

/* A count hook: code that never yields still ends when the run is stopped, and when its VU is
 * past its hard deadline (the loop cannot get to it: the VU holds the thread). */
static void stop_hook(lua_State *L, lua_Debug *ar)
{
    struct tide_vu *vu = *(struct tide_vu **)lua_getextraspace(L);
    if (vu == NULL)
        vu = running_vu; /* a coroutine the script created */
    if (vu == NULL) {
        if (tide_stop_requested)
            luaL_error(L, "stopped: the run was interrupted while this code was running");
        return;
    }
    if (vu->call_fn != NULL && vu->w->call_deadline_us > 0 &&
        tide_now_us() >= vu->w->call_deadline_us) {
        /* a lifecycle call past its time limit: pause it for good (worker.c's watchdog ends
         * it), so even a pcall around the loop cannot catch this */
        if (lua_isyieldable(L)) {
            lua_yield(L, 0);
            return;
        }
        luaL_error(L, "stopped: past its time limit");
    }
    if (vu->doom != TIDE_VU_ALIVE)
        raise_doom(L, vu);
    if (vu->mem_over)
        check_memory(L, vu);
    if (tide_stop_requested || (vu->call_fn == NULL && atomic_load(&vu->w->shared->stop))) {
        /* the first time, like an error (vu_teardown still runs); a VU still running at the
         * next hook (a pcall caught it) is ended */
        if (++vu->stop_hits > 1) {
            vu->doom = TIDE_VU_STOPPED;
            raise_doom(L, vu);
        }
        luaL_error(L, "stopped: the run was interrupted while this code was running");
    }
    int64_t stopped_us = 0;
    if (past_deadline(vu, &stopped_us)) {
        tide_log(TIDE_LOG_WARN, "VU %d still running %.0f s after the stop: busy loop?", vu->id,
                 (double)(tide_now_us() - stopped_us) / 1e6);
        vu->doom = TIDE_VU_BUSY_LOOP;
        raise_doom(L, vu);
    }
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
    lua_sethook(vu->co, stop_hook, LUA_MASKCOUNT, HOOK_COUNT);
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

/* The error value's "tide_error" field (tide.fail / tide.abort tables), read raw: a script's
 * __index must not run here. */
static bool is_abort(lua_State *co, int idx)
{
    if (lua_type(co, idx) != LUA_TTABLE)
        return false;
    lua_pushliteral(co, "tide_error");
    lua_rawget(co, idx);
    const char *kind = lua_type(co, -1) == LUA_TSTRING ? lua_tostring(co, -1) : NULL;
    bool abort = kind != NULL && strcmp(kind, "abort") == 0;
    lua_pop(co, 1);
    return abort;
}

static void capture_call_result(struct tide_vu *vu, int nres)
{
    struct tide_worker *w = vu->w;
    lua_State *co = vu->co;
    int base = lua_gettop(co) - nres;
    const char *what =
        nres > 0 && lua_type(co, base + 1) == LUA_TSTRING ? lua_tostring(co, base + 1) : NULL;
    w->call_missing = what == NULL || strcmp(what, "missing") == 0;
    if (w->call_missing) {
        w->call_ok = true;
        w->call_result = NULL;
        return;
    }
    w->call_ok = lua_toboolean(co, base + 2);
    if (!w->call_ok) {
        w->call_aborted = is_abort(co, base + 3);
        tide_lua_errtext(co, base + 3, w->call_error, sizeof w->call_error);
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

/* The coroutine ended with an error (any status): say so, unless the VU was being ended. The
 * value is turned into text on the worker's main state, protected, with the dead coroutine's
 * traceback. */
static void report_error(struct tide_vu *vu)
{
    struct tide_worker *w = vu->w;
    lua_State *L = w->L;
    char text[1024];
    if (vu->call_fn == NULL && vu->doom != TIDE_VU_OUT_OF_MEMORY &&
        (vu->doom != TIDE_VU_ALIVE || atomic_load(&w->shared->stop))) {
        return; /* stopped (a busy loop: said by the hook); not a script error */
    } else if (vu->doom != TIDE_VU_ALIVE) {
        doom_text(vu, text, sizeof text);
    } else {
        lua_xmove(vu->co, L, 1);                       /* L: err */
        lua_rawgeti(L, LUA_REGISTRYINDEX, vu->co_ref); /* L: err, co */
        tide_lua_errtrace(L, -2, -1, text, sizeof text);
        char *tb = strstr(text, "\nstack traceback:");
        if (tb != NULL && vu->call_fn == NULL) {
            tide_log(TIDE_LOG_DEBUG, "VU %d: %s", vu->id, text);
            *tb = '\0'; /* counted by its message */
        }
        lua_pop(L, 2);
    }
    if (vu->call_fn != NULL) {
        w->call_ok = false;
        snprintf(w->call_error, sizeof w->call_error, "%s", text);
    } else {
        tide_vu_script_error(vu, text);
    }
}

/* The coroutine is over (returned or raised): the VU is done. */
static void vu_ended(struct tide_vu *vu)
{
    struct tide_worker *w = vu->w;
    if (vu->in_iteration) {
        vu->in_iteration = false;
        atomic_fetch_sub(&w->vus_active, 1);
    }
    drop_coroutine(vu);
    vu->state = TIDE_VU_DONE;
    if (vu->doom != TIDE_VU_ALIVE) { /* its globals may be what filled its memory */
        luaL_unref(w->L, LUA_REGISTRYINDEX, vu->env_ref);
        vu->env_ref = LUA_NOREF;
    }
    if (vu->call_fn != NULL)
        ev_break(w->loop, EVBREAK_ALL);
    tide_sched_vu_done(vu->sched, vu);
}

void tide_vu_resume(struct tide_vu *vu, int nargs)
{
    struct tide_worker *w = vu->w;
    int nres = 0;
    vu->state = TIDE_VU_RUNNING;
    vu->cancel = NULL; /* the wait is over */
    vu->yielded = true;
    struct tide_vu *prev_running = running_vu;
    struct tide_vu *prev = tide_vumem_enter(&w->mem, vu->call_fn == NULL ? vu : NULL);
    running_vu = vu;
    int st = lua_resume(vu->co, w->L, nargs, &nres);
    running_vu = prev_running;
    tide_vumem_leave(&w->mem, prev);
    switch (st) {
    case LUA_YIELD:
        lua_pop(vu->co, nres);
        if (vu->state == TIDE_VU_RUNNING) /* coroutine.yield() in the VU's own code */
            tide_vu_sleep(vu, 0);         /* a pass through the loop, then it goes on */
        return;
    case LUA_OK:
        if (vu->call_fn != NULL)
            capture_call_result(vu, nres);
        lua_pop(vu->co, nres);
        break;
    default: /* LUA_ERRRUN, LUA_ERRMEM, LUA_ERRERR */
        report_error(vu);
        break;
    }
    vu_ended(vu);
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

static void cancel_timer(struct tide_vu *vu, void *ctx)
{
    ev_timer_stop(vu->w->loop, &vu->timer);
}

void tide_vu_wait(struct tide_vu *vu, enum tide_vu_state st, tide_vu_cancel_fn cancel, void *ctx)
{
    vu->state = st;
    vu->cancel = cancel;
    vu->cancel_ctx = ctx;
}

void tide_vu_sleep(struct tide_vu *vu, double seconds)
{
    tide_vu_wait(vu, TIDE_VU_SLEEP, cancel_timer, NULL);
    ev_timer_stop(vu->w->loop, &vu->timer);
    ev_timer_set(&vu->timer, seconds, 0.);
    ev_timer_start(vu->w->loop, &vu->timer);
}

void tide_vu_cancel_http(struct tide_vu *vu, void *ctx)
{
    if (vu->req != NULL)
        tide_http_cancel(vu->w->http, &vu->req->r);
    for (int i = 0; i < vu->batch_cap; i++)
        tide_http_cancel(vu->w->http, &vu->batch[i].r);
    vu->batch_pending = 0;
    tide_conn_forget(vu); /* also its place in the connection queue */
}

void tide_vu_wake_now(struct tide_vu *vu, bool value)
{
    if (vu->state != TIDE_VU_PARKED && vu->state != TIDE_VU_READY)
        return;
    ev_timer_stop(vu->w->loop, &vu->timer);
    lua_pushboolean(vu->co, value);
    tide_vu_resume(vu, 1);
}

void tide_vu_wake(struct tide_vu *vu, bool value)
{
    if (vu->state != TIDE_VU_PARKED && vu->state != TIDE_VU_READY)
        return;
    if (!value) {
        tide_vu_wake_now(vu, false); /* the VU runs vu_teardown and ends */
        return;
    }
    tide_vu_wait(vu, TIDE_VU_READY, cancel_timer, NULL);
    ev_timer_stop(vu->w->loop, &vu->timer);
    ev_timer_set(&vu->timer, 0., 0.);
    ev_timer_start(vu->w->loop, &vu->timer);
}

void tide_vu_interrupt(struct tide_vu *vu)
{
    if (vu->state == TIDE_VU_DONE || vu->state == TIDE_VU_NEW || vu->state == TIDE_VU_RUNNING)
        return;
    tide_vu_cancel_fn cancel = vu->cancel;
    vu->cancel = NULL;
    if (cancel != NULL)
        cancel(vu, vu->cancel_ctx);
    tide_conn_forget(vu); /* the kept connection goes with the coroutine */
    if (vu->in_iteration) {
        vu->in_iteration = false;
        atomic_fetch_sub(&vu->w->vus_active, 1);
    }
    drop_coroutine(vu);
    vu->state = TIDE_VU_NEW; /* restartable; vu_setup is not run again */
    tide_sched_vu_reset(vu->sched);
}

bool tide_vu_retire(struct tide_vu *vu)
{
    if (vu->state != TIDE_VU_NEW)
        return false;
    vu->state = TIDE_VU_DONE;
    return true;
}

void tide_vu_rearm(struct tide_vu *vu)
{
    if (vu->state == TIDE_VU_DONE)
        vu->state = TIDE_VU_NEW;
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

/* Script errors are counted per group of messages (ids folded, tide_vu_error_group); the
 * first message of each group is printed once per run; past TIDE_VU_ERROR_GROUPS groups, new
 * ones are counted together (one error carrying an id per iteration must not print a line and
 * keep a summary entry per failure). */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char **seen;
static size_t nseen;
static bool seen_full;

static bool hexdigit(char c)
{
    return isxdigit((unsigned char)c) || c == '-';
}

/* Length of the Lua location prefix "chunk:123: " at the start of 'msg' (kept as is), or 0. */
static size_t location_len(const char *msg)
{
    const char *colon = strchr(msg, ':');
    if (colon == NULL || !isdigit((unsigned char)colon[1]))
        return 0;
    const char *p = colon + 1;
    while (isdigit((unsigned char)*p))
        p++;
    return *p == ':' ? (size_t)(p + 1 - msg) : 0;
}

void tide_vu_error_group(const char *msg, char *out, size_t len)
{
    size_t o = 0, i = location_len(msg);
    snprintf(out, len, "%.*s", (int)i, msg);
    o = strlen(out);
    while (msg[i] != '\0' && o + 2 < len) {
        bool starts_word = i == 0 || !isalnum((unsigned char)msg[i - 1]);
        size_t n = 0, digits = 0;
        while (hexdigit(msg[i + n])) /* a hexadecimal id or a UUID: a word of its own */
            digits += isdigit((unsigned char)msg[i + n++]) ? 1 : 0;
        if (starts_word && n >= 8 && digits > 0 && !isalnum((unsigned char)msg[i + n])) {
            out[o++] = 'X';
            i += n;
            continue;
        }
        for (n = 0; isdigit((unsigned char)msg[i + n]);)
            n++;
        if (n >= 4) { /* a number of 4 digits or more: an id, a count, a time */
            out[o++] = 'N';
            i += n;
            continue;
        }
        out[o++] = msg[i++];
    }
    out[o] = '\0';
}

/* The group's name as counted; *first: the first message of its group. */
static const char *group_of(const char *group, bool *first)
{
    const char *name = group;
    *first = true;
    pthread_mutex_lock(&seen_lock);
    for (size_t i = 0; i < nseen && *first; i++)
        *first = strcmp(seen[i], group) != 0;
    if (*first && nseen >= TIDE_VU_ERROR_GROUPS) {
        name = TIDE_VU_ERROR_OTHER;
        *first = !seen_full;
        seen_full = true;
    } else if (*first) {
        char **grown = realloc(seen, (nseen + 1) * sizeof *seen);
        if (grown != NULL) {
            seen = grown;
            seen[nseen] = strdup(group);
            if (seen[nseen] != NULL)
                nseen++;
        }
    }
    pthread_mutex_unlock(&seen_lock);
    return name;
}

void tide_vu_script_error(struct tide_vu *vu, const char *msg)
{
    char m[300], g[300];
    /* redacted whole, then cut: a secret across the cut would otherwise be printed in part */
    char *red = tide_redact(msg != NULL ? msg : "(error object is not a string)");
    snprintf(m, sizeof m, "%s", red != NULL ? red : "(error text hidden: out of memory)");
    free(red);
    tide_vu_error_group(m, g, sizeof g);
    bool first;
    const char *name = group_of(g, &first);
    if (first && name != g)
        tide_log(TIDE_LOG_ERROR,
                 "more than %d kinds of script errors: further new ones are counted as \"%s\", "
                 "not printed (latest: %s, VU %d)",
                 TIDE_VU_ERROR_GROUPS, TIDE_VU_ERROR_OTHER, m, vu->id);
    else if (first)
        tide_log(TIDE_LOG_ERROR, "%s (VU %d; further occurrences are counted, not printed)", m,
                 vu->id);
    struct tide_tags t = {0};
    tide_tags_set(&t, "message", name);
    char canon[512];
    tide_tags_canon(&t, canon, sizeof canon);
    tide_registry_add(vu->w->reg, TIDE_M_SCRIPT_ERRORS, canon, 1);
}
