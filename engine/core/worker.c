/* worker.c: worker threads and lifecycle calls. */
#include <lauxlib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "clock.h"
#include "executor.h"
#include "log.h"
#include "json_value.h"
#include "luaerr.h"
#include "vu.h"
#include "worker.h"

#define CONTROL_INTERVAL 0.02 /* s: how often executors look at the clock */

static int dump_writer(lua_State *L, const void *p, size_t n, void *ud)
{
    struct tide_buf *b = ud;
    return tide_buf_append(b, p, n);
}

static int load_driver(struct tide_worker *w, struct tide_err *err);

int tide_worker_setup_lua(struct tide_worker *w, struct tide_err *err)
{
    w->L = w->shared->new_state(w->cfg, err);
    if (w->L == NULL)
        return -1;
    lua_State *L = w->L;
    struct tide_buf dump = {0};
    lua_dump(L, dump_writer, &dump, 0); /* keep debug info: line numbers and _ENV */
    lua_pop(L, 1);
    w->chunk = dump.data;
    w->chunk_len = dump.len;
    return load_driver(w, err);
}

/* The VU driver, and this worker's copy of setup()'s data. */
static int load_driver(struct tide_worker *w, struct tide_err *err)
{
    lua_State *L = w->L;
    /* the driver, given tide.core; protected: 'require' is the script's world */
    char msg[512];
    if (luaL_loadbufferx(L, tide_vu_driver_source, strlen(tide_vu_driver_source), "=driver", "t") !=
        LUA_OK)
        return tide_err_set(err, "internal: driver: %s", tide_lua_errtext(L, -1, msg, sizeof msg));
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.base");
    lua_getfield(L, -1, "require");
    lua_remove(L, -2);
    lua_pushliteral(L, "tide.core");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || lua_pcall(L, 1, 1, 0) != LUA_OK)
        return tide_err_set(err, "internal: driver: %s", tide_lua_errtext(L, -1, msg, sizeof msg));
    w->driver_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    /* lifecycle functions (setup() may load big data) are not capped */
    int64_t cap = w->cfg->vu_memory > 0 ? w->cfg->vu_memory : TIDE_VU_MEMORY_DEFAULT;
    tide_vumem_install(&w->mem, L, w->mode == TIDE_WORKER_CALL ? 0 : cap, &w->vus_max);
    w->setup_ref = LUA_NOREF;
    if (w->shared->setup_json != NULL) {
        cJSON *j = cJSON_Parse(w->shared->setup_json);
        if (j != NULL) {
            lua_pushlightuserdata(L, j);
            w->setup_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        }
    }
    return 0;
}

static void teardown_lua(struct tide_worker *w)
{
    if (w->L == NULL)
        return;
    if (w->setup_ref != LUA_NOREF) {
        lua_rawgeti(w->L, LUA_REGISTRYINDEX, w->setup_ref);
        cJSON_Delete(lua_touserdata(w->L, -1));
        lua_pop(w->L, 1);
    }
    lua_close(w->L);
    tide_vumem_detach(&w->mem);
    w->L = NULL;
    free(w->chunk);
    w->chunk = NULL;
}

/* Hands this second's registry to the coordinator and records into a recycled one. */
static void hand_over(struct tide_worker *w)
{
    if (tide_recorder_swap(w->rec, w->interval) == 0)
        w->interval++;
    /* else out of memory: keep accumulating; the next swap hands over both seconds */
    w->reg = tide_recorder_active(w->rec);
}

static int64_t thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Self-health samples, in internal metrics the coordinator reads: loop lag (ms) and this
 * worker's CPU use (percent of one core) over the last second. */
static void sample_cpu(struct tide_worker *w)
{
    int64_t cpu = thread_cpu_us(), wall = tide_now_us();
    if (w->wall_last_us > 0 && wall > w->wall_last_us) {
        double pct = 100.0 * (double)(cpu - w->cpu_last_us) / (double)(wall - w->wall_last_us);
        tide_registry_add(w->reg, TIDE_M_WORKER_CPU, "", pct);
    }
    w->cpu_last_us = cpu;
    w->wall_last_us = wall;
}

static void on_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
    sample_cpu(t->data);
    hand_over(t->data);
}

static void on_lag(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct tide_worker *w = t->data;
    int64_t now = tide_now_us();
    if (w->lag_expected_us > 0) {
        double late = (double)(now - w->lag_expected_us) / 1000.0;
        tide_registry_add(w->reg, TIDE_M_LOOP_LAG, "", late > 0 ? late : 0);
    }
    w->lag_expected_us = now + 100000;
}

void tide_worker_finish_check(struct tide_worker *w)
{
    if (w->mode != TIDE_WORKER_LOAD)
        return;
    for (int i = 0; i < w->nscheds; i++) {
        if (!w->scheds[i].finished)
            return;
    }
    ev_break(w->loop, EVBREAK_ALL);
}

static void control(struct tide_worker *w)
{
    int64_t now = tide_now_us();
    bool stop = atomic_load(&w->shared->stop);
    int64_t next = now + (int64_t)(CONTROL_INTERVAL * 1e6);
    for (int i = 0; i < w->nscheds; i++) {
        if (stop)
            tide_sched_stop(&w->scheds[i], now, 0);
        tide_sched_tick(&w->scheds[i], now);
        int64_t due = tide_sched_next_due(&w->scheds[i]);
        if (due < next)
            next = due;
    }
    double in = (double)(next - now) / 1e6;
    ev_timer_stop(w->loop, &w->control);
    ev_timer_set(&w->control, in > 0 ? in : 0, 0.);
    ev_timer_start(w->loop, &w->control);
    tide_worker_finish_check(w);
}

static void on_control(struct ev_loop *loop, ev_timer *t, int revents)
{
    control(t->data);
}

static void on_wake(struct ev_loop *loop, ev_async *a, int revents)
{
    control(a->data);
}

static void *worker_main(void *arg)
{
    struct tide_worker *w = arg;
    struct tide_err err = {{0}};
    long maxconn = 64;
    for (int i = 0; i < w->cfg->nscenarios; i++) {
        const struct tide_scenario *sc = &w->cfg->scenarios[i];
        long v = sc->vus + sc->max_vus + sc->pre_allocated_vus;
        for (int k = 0; k < sc->nstages; k++)
            v = v > (long)sc->stages[k].target ? v : (long)sc->stages[k].target;
        maxconn += v;
    }
    w->http = w->loop != NULL ? tide_http_new(w->loop, maxconn) : NULL;
    if (w->http == NULL || tide_worker_setup_lua(w, &err) != 0) {
        w->failed = true;
        snprintf(w->error, sizeof w->error, "%s", err.msg[0] ? err.msg : "out of memory");
        atomic_store(&w->finished, true);
        return NULL;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        /* keep descriptors for files, the target, pipes: the rest is for connections */
        long budget = ((long)rl.rlim_cur - 64) / w->count - 8;
        w->conn_budget = budget < 16 ? 16 : (int)budget;
    }
    w->nscheds = w->cfg->nscenarios;
    w->scheds = calloc((size_t)w->nscheds, sizeof *w->scheds);
    for (int i = 0; i < w->nscheds; i++)
        tide_sched_init(&w->scheds[i], w, i);
    ev_timer_init(&w->tick, on_tick, 1., 1.);
    w->tick.data = w;
    ev_timer_start(w->loop, &w->tick);
    w->cpu_last_us = thread_cpu_us();
    w->wall_last_us = tide_now_us();
    ev_timer_init(&w->lag, on_lag, 0.1, 0.1);
    w->lag.data = w;
    ev_timer_start(w->loop, &w->lag);
    ev_timer_init(&w->control, on_control, 0., 0.);
    w->control.data = w;
    control(w);
    ev_run(w->loop, 0);
    ev_timer_stop(w->loop, &w->tick);
    ev_timer_stop(w->loop, &w->control);
    ev_timer_stop(w->loop, &w->lag);
    tide_vumem_detach(&w->mem); /* the VUs go before the state */
    for (int i = 0; i < w->nscheds; i++)
        tide_sched_fini(&w->scheds[i]);
    free(w->scheds);
    w->scheds = NULL;
    hand_over(w); /* the last, partial interval */
    teardown_lua(w);
    tide_http_free(w->http);
    /* the loop itself lives until tide_worker_join: the coordinator may still wake it */
    atomic_store(&w->finished, true);
    return NULL;
}

static void worker_init(struct tide_worker *w, int index, int count, struct tide_shared *shared)
{
    memset(w, 0, sizeof *w);
    w->index = index;
    w->count = count;
    w->shared = shared;
    w->cfg = shared->cfg;
    w->driver_ref = LUA_NOREF;
    w->setup_ref = LUA_NOREF;
    w->rec = tide_recorder_new();
    w->reg = w->rec != NULL ? tide_recorder_active(w->rec) : NULL;
}

int tide_worker_start(struct tide_worker *w, int index, int count, struct tide_shared *shared,
                      struct tide_err *err)
{
    worker_init(w, index, count, shared);
    w->mode = TIDE_WORKER_LOAD;
    /* made here, before the thread, so the coordinator's tide_worker_wake reads a pointer
     * written before pthread_create (never one the worker is writing) */
    w->loop = w->reg != NULL ? ev_loop_new(EVFLAG_AUTO) : NULL;
    if (w->loop == NULL) {
        tide_worker_release(w);
        return tide_err_set(err, "out of memory");
    }
    ev_async_init(&w->wake, on_wake);
    w->wake.data = w;
    /* started here too: libev makes the async's event fd when it starts, and the coordinator
     * writes to it (tide_worker_wake); it stops in tide_worker_join, after the thread */
    ev_async_start(w->loop, &w->wake);
    /* signals are the coordinator's */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        ev_async_stop(w->loop, &w->wake);
        ev_loop_destroy(w->loop);
        w->loop = NULL;
        tide_worker_release(w);
        return tide_err_set(err, "cannot start worker thread %d", index);
    }
    return 0;
}

void tide_worker_wake(struct tide_worker *w)
{
    if (!atomic_load(&w->finished) && w->loop != NULL)
        ev_async_send(w->loop, &w->wake);
}

void tide_worker_join(struct tide_worker *w)
{
    pthread_join(w->thread, NULL);
    w->reg = NULL; /* the thread is gone; what it recorded is queued in w->rec */
    ev_async_stop(w->loop, &w->wake);
    ev_loop_destroy(w->loop);
    w->loop = NULL;
}

void tide_worker_release(struct tide_worker *w)
{
    tide_recorder_free(w->rec);
    w->rec = NULL;
    w->reg = NULL;
    tide_series_cache_free(w->series);
    w->series = NULL;
}

/* The call watchdog: while a call waits in the loop (a request, a sleep, or a busy loop that
 * the count hook paused), it is stopped at its deadline or on Ctrl-C. */
static void on_call_watch(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct tide_worker *w = t->data;
    bool late = w->call_deadline_us > 0 && tide_now_us() >= w->call_deadline_us;
    if (!late && !tide_stop_requested)
        return;
    w->call_stopped = true;
    tide_vu_interrupt(w->call_vu);
    ev_break(loop, EVBREAK_ALL);
}

int tide_worker_call_open(struct tide_worker *w, struct tide_shared *shared, lua_State *state,
                          struct tide_err *err)
{
    worker_init(w, 0, 1, shared);
    w->mode = TIDE_WORKER_CALL;
    w->L = state;
    int env_ref = state != NULL ? luaL_ref(state, LUA_REGISTRYINDEX) : LUA_NOREF;
    w->loop = ev_loop_new(EVFLAG_AUTO);
    w->http = w->loop != NULL ? tide_http_new(w->loop, 64) : NULL;
    if (w->reg == NULL || w->http == NULL)
        return tide_err_set(err, "out of memory");
    const char *saved = shared->setup_json;
    shared->setup_json = NULL; /* lifecycle functions get their data as the argument */
    int rc = state != NULL ? load_driver(w, err) : tide_worker_setup_lua(w, err);
    shared->setup_json = saved;
    if (rc != 0)
        return -1;
    w->call_vu = tide_vu_new(w, NULL);
    if (w->call_vu == NULL)
        return tide_err_set(err, "out of memory");
    ev_timer_init(&w->call_watch, on_call_watch, 0.05, 0.05);
    w->call_watch.data = w;
    if (state != NULL) /* the plugins ran in the probe, after the top level */
        w->call_vu->env_ref = env_ref;
    return 0;
}

void tide_worker_call_close(struct tide_worker *w)
{
    if (w->mode != TIDE_WORKER_CALL)
        return; /* never opened */
    if (w->call_vu != NULL)
        tide_vu_free(w->call_vu);
    w->call_vu = NULL;
    teardown_lua(w);
    tide_http_free(w->http);
    w->http = NULL;
    if (w->loop != NULL)
        ev_loop_destroy(w->loop);
    w->loop = NULL;
    tide_worker_release(w);
    w->mode = TIDE_WORKER_LOAD;
}

/* Readies the lifecycle VU for one call: arguments, group, outcome fields, an empty registry
 * (metrics of earlier calls are not this call's). */
static void call_prepare(struct tide_worker *w, const char *fname, const cJSON *arg,
                         const cJSON *extra)
{
    struct tide_vu *vu = w->call_vu;
    lua_State *L = w->L;
    luaL_unref(L, LUA_REGISTRYINDEX, vu->call_arg_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, vu->call_arg2_ref);
    if (arg != NULL)
        tide_json_push(L, arg);
    else
        lua_pushnil(L);
    vu->call_arg_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    vu->call_arg2_ref = LUA_NOREF;
    if (extra != NULL) {
        tide_json_push(L, extra);
        vu->call_arg2_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    vu->call_fn = fname;
    /* verify's checks are reported apart from the load's */
    snprintf(vu->group, sizeof vu->group, "%s", strcmp(fname, "verify") == 0 ? "::verify" : "");
    tide_vu_rearm(vu);
    w->call_result = NULL;
    w->call_ok = true;
    w->call_aborted = false;
    w->call_stopped = false;
    w->call_error[0] = '\0';
    tide_registry_reset(w->reg);
}

static void format_limit(int64_t us, char *buf, size_t len)
{
    if (us % 1000000 == 0)
        snprintf(buf, len, "%lld s", (long long)(us / 1000000));
    else
        snprintf(buf, len, "%g s", (double)us / 1e6);
}

/* The outcome of the call that just ran (or was stopped). */
static int call_outcome(struct tide_worker *w, int64_t limit_us, bool late, cJSON **result,
                        bool *ran, struct tide_err *err)
{
    struct tide_vu *vu = w->call_vu;
    bool done = vu->state == TIDE_VU_DONE;
    if (!done)
        tide_vu_interrupt(vu);
    if (vu->env_ref == LUA_NOREF) { /* the top level failed: it is not run again */
        w->failed = true;
        snprintf(w->error, sizeof w->error, "%s",
                 w->call_error[0] ? w->call_error : "the script failed to load");
        return tide_err_set(err, "%s", w->error);
    }
    if (late && (!done || !w->call_ok)) {
        char lim[32];
        format_limit(limit_us, lim, sizeof lim);
        tide_err_set(err, "still running after %s, stopped", lim);
        return TIDE_CALL_STOPPED;
    }
    if (!done) {
        tide_err_set(err, "interrupted");
        return TIDE_CALL_STOPPED;
    }
    if (!w->call_ok) {
        tide_err_set(err, "%s", w->call_error);
        return w->call_aborted ? TIDE_CALL_ABORTED : -1;
    }
    *result = w->call_result;
    w->call_result = NULL;
    *ran = !w->call_missing; /* no such function or hook: nothing ran (no audit event) */
    return 0;
}

int tide_worker_call(struct tide_worker *w, const char *fname, const cJSON *arg, const cJSON *extra,
                     int64_t limit_us, cJSON **result, bool *ran, struct tide_registry *reg,
                     struct tide_err *err)
{
    *result = NULL;
    *ran = false;
    if (w->failed)
        return tide_err_set(err, "%s", w->error);
    call_prepare(w, fname, arg, extra);
    struct tide_vu *vu = w->call_vu;
    w->call_deadline_us = limit_us > 0 ? tide_now_us() + limit_us : 0;
    ev_timer_start(w->loop, &w->call_watch);
    tide_vu_start(vu);
    if (vu->state != TIDE_VU_DONE && !w->call_stopped)
        ev_run(w->loop, 0);
    ev_timer_stop(w->loop, &w->call_watch);
    bool late = w->call_deadline_us > 0 && tide_now_us() >= w->call_deadline_us;
    w->call_deadline_us = 0;
    int rc = call_outcome(w, limit_us, late, result, ran, err);
    vu->call_fn = ""; /* still call mode; 'fname' is the caller's */
    if (reg != NULL)
        tide_registry_merge(reg, w->reg);
    return rc;
}
