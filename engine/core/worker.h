/* worker.h: a worker thread: one libev loop, one CURLM, one lua_State and its share of every
 * scenario's VUs. Workers hand per-second metric registries to the coordinator and share
 * nothing else on the hot path. A worker in call mode runs the lifecycle calls (setup,
 * teardown, verify, handle_summary, hooks) on the calling thread, all in one Lua state. */
#ifndef TIDE_WORKER_H
#define TIDE_WORKER_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <cJSON.h>
#include <ev.h>
#include <lua.h>
#include "config.h"
#include "err.h"
#include "http.h"
#include "metrics.h"
#include "vumem.h"
#include "recorder.h"
#include "seriescache.h"

/* Makes the Lua state a worker runs its VUs in: the scenario's sandboxed world with tide's
 * modules, and the scenario compiled (not run) on top of the stack. NULL with a message on
 * failure. Given by the layer above (lua/sandbox.c), so core does not depend on bindings. */
typedef lua_State *(*tide_state_fn)(const struct tide_config *cfg, struct tide_err *err);

/* State shared by the coordinator and all workers (atomics only). */
struct tide_shared {
    const struct tide_config *cfg;
    tide_state_fn new_state;
    int64_t start_us;       /* monotonic time of the run's start */
    atomic_bool stop;       /* stop everything now (Ctrl-C, abort) */
    atomic_bool aborted;    /* tide.abort() was called */
    char abort_reason[512]; /* written once, by whoever set 'aborted' first */
    atomic_flag abort_once;
    atomic_llong *shared_iters; /* per scenario: iterations claimed (shared-iterations) */
    atomic_llong vu_ids;        /* last VU id handed out */
    const char *setup_json;     /* setup()'s return value, or NULL */
};

struct tide_sched;
struct tide_vu;

enum tide_worker_mode { TIDE_WORKER_LOAD, TIDE_WORKER_CALL };

struct tide_worker {
    int index, count;
    enum tide_worker_mode mode;
    struct tide_shared *shared;
    const struct tide_config *cfg;
    pthread_t thread;
    struct ev_loop *loop;
    struct tide_http *http;
    lua_State *L;
    struct tide_vumem mem; /* L's allocator: the VUs' Lua memory cap */
    char *chunk;           /* the scenario compiled once, dumped with debug info */
    size_t chunk_len;
    int driver_ref;            /* the VU driver function */
    int setup_ref;             /* setup data decoded once for this worker (LUA_NOREF: none) */
    struct tide_recorder *rec; /* per-second handover to the coordinator */
    struct tide_registry *reg; /* the recorder's active registry: this second's samples */
    struct tide_series_cache *series; /* request shape -> tags, series (sample.c; lazily) */
    int64_t interval;                 /* this second's index */
    ev_timer tick;                    /* every second: swap 'reg' for a recycled one */
    ev_timer control;                 /* executors adjust VUs */
    ev_timer lag; /* self-health: how late a 100 ms timer fires = event-loop lag */
    int64_t lag_expected_us;
    int64_t cpu_last_us, wall_last_us; /* for this thread's CPU use per second */
    ev_async wake;
    struct tide_sched *scheds; /* one per scenario */
    int nscheds;
    atomic_int vus_active;
    atomic_int vus_max;
    atomic_int vus_peak, vus_max_peak; /* highest since the coordinator last looked */
    atomic_bool finished;
    /* connection budget under the open-file limit (connbudget.c): VUs keep their keep-alive
     * connection while there is room; beyond it requests use a connection closed after use,
     * and wait when every descriptor of the budget is in use */
    int conn_budget; /* 0: unlimited */
    int conns_kept, conns_transient;
    struct tide_vu *conn_waiters, *conn_waiters_last;
    /* TIDE_WORKER_CALL: */
    struct tide_vu *call_vu; /* the one lifecycle VU: its _ENV is kept across calls */
    cJSON *call_result;
    bool call_ok;
    bool call_missing; /* the function or hook was not defined */
    char call_error[1024];
    bool call_aborted;        /* the lifecycle function called tide.abort() */
    int64_t call_deadline_us; /* the running call stops after this (0: no limit); read by
                                 vu.c's count hook, so a busy loop stops too */
    bool call_stopped;        /* the watchdog stopped the call (deadline or Ctrl-C) */
    ev_timer call_watch;      /* the watchdog, while a call waits in the loop */
    bool failed;              /* could not start (call mode: the top level or a plugin failed) */
    char error[1024];
};

/* Load workers: start a thread that runs until its scenarios end or shared->stop. On failure
 * nothing is left to join or release. */
int tide_worker_start(struct tide_worker *w, int index, int count, struct tide_shared *shared,
                      struct tide_err *err);
void tide_worker_wake(struct tide_worker *w); /* look at shared->stop now */
/* Shutdown, in this order (run.c's stop_workers): join waits for the thread, which has handed
 * over its last, partial second; the caller then drains w->rec (tide_recorder_take until NULL,
 * recycling each) and finally calls release, which frees the recorder. */
void tide_worker_join(struct tide_worker *w);
void tide_worker_release(struct tide_worker *w);

/* A call-mode worker on the calling thread, for the whole run: one loop, one HTTP driver, one
 * Lua state and one VU (id 0) whose environment is kept, so globals persist from one call to
 * the next. 'state' (taken over, even on failure) is a state from shared->new_state's world
 * where the scenario's top level already ran, in the table on top of its stack (the options
 * probe, where the --plugin files ran too). With 'state' NULL, a new state is made and
 * the top level and plugins run at the first call. */
int tide_worker_call_open(struct tide_worker *w, struct tide_shared *shared, lua_State *state,
                          struct tide_err *err);
void tide_worker_call_close(struct tide_worker *w); /* also after a failed open */

#define TIDE_CALL_ABORTED -2 /* the function called tide.abort() */
#define TIDE_CALL_STOPPED -3 /* still running at its deadline, or Ctrl-C: stopped */

/* Runs env[fname](arg, extra) in w's VU; a "hook:EVENT" name runs EVENT's handlers
 * (tide.hooks.on) instead. 'limit_us' > 0 bounds it: past that, the call is stopped wherever
 * it is (a busy loop, a request, a sleep). On success *result holds its return value as JSON
 * (NULL for nil) and 'reg' (if not NULL) receives its metrics. Returns 0, -1 with the
 * script's error, TIDE_CALL_ABORTED or TIDE_CALL_STOPPED. A missing function is not an error
 * (*result NULL, *ran false). */
int tide_worker_call(struct tide_worker *w, const char *fname, const cJSON *arg, const cJSON *extra,
                     int64_t limit_us, cJSON **result, bool *ran, struct tide_registry *reg,
                     struct tide_err *err);

/* Used by vu.c/executor.c. */
int tide_worker_setup_lua(struct tide_worker *w, struct tide_err *err);
void tide_worker_finish_check(struct tide_worker *w);

#endif
