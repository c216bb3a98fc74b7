/* vu.h: virtual users. Each VU is a Lua coroutine running the scenario in its own _ENV;
 * tide.http.* and tide.sleep yield it to the worker's loop, which resumes it when the wait
 * ends. All resumes go through tide_vu_resume, and only vu.c changes a VU's state: code that
 * makes a VU wait calls tide_vu_wait (or tide_vu_sleep) with the step that cancels the wait,
 * then yields. Stop, abort, interrupt and the graceful deadline cancel through that step. */
#ifndef TIDE_VU_H
#define TIDE_VU_H
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <ev.h>
#include <lua.h>
#include "http.h"

struct tide_worker;
struct tide_sched;
struct tide_vu;

/* Undoes a pending wait (stops a timer, cancels requests, leaves a queue). */
typedef void (*tide_vu_cancel_fn)(struct tide_vu *vu, void *ctx);

/* Why a VU is being ended from inside its own code (see stop_hook in vu.c). */
enum tide_vu_doom {
    TIDE_VU_ALIVE,
    TIDE_VU_STOPPED,       /* the run was stopped (Ctrl-C, abort) and the VU kept running */
    TIDE_VU_BUSY_LOOP,     /* still running after its hard deadline */
    TIDE_VU_OUT_OF_MEMORY, /* over its Lua memory cap */
};

enum tide_vu_state {
    TIDE_VU_NEW,     /* no coroutine yet */
    TIDE_VU_READY,   /* will be resumed from the loop (zero timer) */
    TIDE_VU_RUNNING, /* inside lua_resume */
    TIDE_VU_WAIT_IO, /* waiting on HTTP */
    TIDE_VU_SLEEP,   /* waiting on a timer */
    TIDE_VU_PARKED,  /* between iterations, waiting for its executor */
    TIDE_VU_DONE,
};

/* One request of a VU: the transfer (spec in, result out), and what its samples need. */
struct tide_vu_request {
    struct tide_transfer r; /* first: the done callback gets back to the request from it */
    struct tide_vu *vu;
    char *name;                         /* URL-grouping tag (in name_buf, or NULL) */
    char *tags;                         /* extra user tags, canonical (in tags_buf), or NULL */
    struct tide_buf name_buf, tags_buf; /* kept from request to request */
    int expect[16];                     /* statuses that are not failures; nexpect == 0: 200..399 */
    int nexpect;
};

struct tide_vu {
    struct tide_worker *w;
    struct tide_sched *sched;
    int id;            /* 1-based, unique in the run */
    int64_t iteration; /* iterations started by this VU */
    lua_State *co;
    int co_ref, env_ref;
    enum tide_vu_state state;
    bool setup_done;          /* vu_setup ran (a restarted coroutine skips it) */
    bool stop_requested;      /* finish the current iteration, then vu_teardown and end */
    bool park_requested;      /* finish the current iteration, then wait for the executor */
    bool yielded;             /* the current iteration yielded at least once */
    int64_t deadline_us;      /* hard stop after this (0: none) */
    tide_vu_cancel_fn cancel; /* the pending wait's cancel step (NULL: none) */
    void *cancel_ctx;
    enum tide_vu_doom doom; /* not ALIVE: every count hook and tide call raises */
    int stop_hits;          /* count hooks that raised "stopped" in this VU */
    int64_t mem;            /* Lua bytes in large blocks this VU allocated (vumem.c) */
    bool mem_over;          /* over its cap: checked at its next instruction */
    ev_timer timer;
    struct tide_session *share;  /* connections and cookies of this VU */
    struct tide_vu_request *req; /* single requests: made by the first (tide_vu_request_of);
                                  * a VU that never sends holds none (~1 KB) */
    struct tide_vu_request *batch;
    int batch_cap, batch_n, batch_pending;
    int64_t iter_start_us;
    int64_t sched_start_us; /* arrival-rate: when this iteration was due */
    int64_t prev_req_end_us;
    char group[256];
    const char *scenario_tags; /* canonical "scenario" + scenario and global tags */
    const char *call_fn;       /* TIDE_WORKER_CALL: the function to call */
    int call_arg_ref, call_arg2_ref;
    bool active;       /* the executor wants this VU iterating */
    bool in_iteration; /* counted in worker->vus_active */
    bool setup_failed; /* vu_setup raised: this VU ended and is not replaced */
    bool starting;     /* open model: created, vu_setup not finished yet */
    bool holds_conn;   /* counted in worker->conns_kept */
    bool transient;    /* its request in flight uses a connection closed after use */
    bool conn_waiting; /* queued for a connection (worker->conn_waiters) */
    struct tide_vu *conn_next, *conn_prev;
    struct tide_vu *next; /* intrusive list of the sched's idle VUs */
};

/* The Lua body of every VU coroutine (and of lifecycle calls); compiled once per worker. */
extern const char tide_vu_driver_source[];

/* Set from a signal handler, read by every worker: code running in any Lua state stops at
 * its next count hook. Atomic (lock-free, so signal-safe): a sig_atomic_t is not thread-safe. */
extern atomic_int tide_stop_requested;

struct tide_vu *tide_vu_new(struct tide_worker *w, struct tide_sched *s);
void tide_vu_free(struct tide_vu *vu);
/* The VU's connection cache, cookie jar and DNS cache (created on first use; NULL: out of
 * memory, requests then keep nothing). */
struct tide_session *tide_vu_share(struct tide_vu *vu);
/* The VU's single-request slot, made on first use; NULL when out of memory. */
struct tide_vu_request *tide_vu_request_of(struct tide_vu *vu);
/* Creates the coroutine and runs it up to its first wait. Returns 0, -1 on error. */
int tide_vu_start(struct tide_vu *vu);
/* Resumes with 'nargs' values already pushed on vu->co: the one place a VU runs. Handles
 * every outcome (yield, end, error of any kind); error values become text protected. */
void tide_vu_resume(struct tide_vu *vu, int nargs);
/* Called by the running VU's code right before it yields: the VU now waits in 'st'
 * (TIDE_VU_WAIT_IO or TIDE_VU_PARKED) and 'cancel' (may be NULL) undoes the wait. */
void tide_vu_wait(struct tide_vu *vu, enum tide_vu_state st, tide_vu_cancel_fn cancel, void *ctx);
/* Like tide_vu_wait: the VU sleeps 'seconds' on its timer and then resumes with nothing. */
void tide_vu_sleep(struct tide_vu *vu, double seconds);
/* The cancel step of HTTP waits: the request, a batch, or the place in the connection queue. */
void tide_vu_cancel_http(struct tide_vu *vu, void *ctx);
/* A parked VU resumes with 'value': from the loop when true (schedules it), now when false
 * (the VU runs vu_teardown and ends). */
void tide_vu_wake(struct tide_vu *vu, bool value);
/* A parked VU resumes now with 'value' (an arrival is due: lateness would be latency). */
void tide_vu_wake_now(struct tide_vu *vu, bool value);
/* Stops now: runs the pending wait's cancel step, closes the coroutine (iteration not
 * counted). The VU is NEW again: restartable, without vu_setup. */
void tide_vu_interrupt(struct tide_vu *vu);
/* A VU that never started (NEW) will not start: it becomes DONE. False when not NEW. */
bool tide_vu_retire(struct tide_vu *vu);
/* The lifecycle VU, done with one call, can start the next (DONE -> NEW; its _ENV is kept). */
void tide_vu_rearm(struct tide_vu *vu);
/* Makes the VU's count hook run at its next instruction (memory check). Safe anywhere,
 * including inside the allocator. */
void tide_vu_check_soon(struct tide_vu *vu);
/* The VU running on L; raises a Lua error when called outside a VU's own coroutine, or when
 * the VU is being ended (doomed). */
struct tide_vu *tide_vu_of(lua_State *L);
/* The tags of a sample made now by this VU, with 'extra' canonical pairs merged in. */
void tide_vu_tags(struct tide_vu *vu, const char *extra, char *buf, size_t len);
void tide_vu_script_error(struct tide_vu *vu, const char *msg);
/* Script errors are grouped by message with ids folded: the "chunk:line:" prefix kept, then
 * numbers of 4 digits or more become N and hexadecimal ids or UUIDs (8+ characters with a
 * digit) X. At most TIDE_VU_ERROR_GROUPS groups per run; later new ones are counted as
 * TIDE_VU_ERROR_OTHER. */
#define TIDE_VU_ERROR_GROUPS 100
#define TIDE_VU_ERROR_OTHER  "(other script errors)"
void tide_vu_error_group(const char *msg, char *out, size_t len);

/* Runs the plugin file 'path' in the environment at index 'env' (docs/extending.md): a plain
 * file just runs; one that returns a table is a package, set up by
 * require("tide").plugins._setup(table, path, env). Returns 0, or -1 with the error on top. */
int tide_plugin_exec(lua_State *L, int env, const char *path);

#endif
