/* vu.h: virtual users. Each VU is a Lua coroutine running the scenario in its own _ENV;
 * tide.http.* and tide.sleep yield it to the worker's loop, which resumes it when the wait
 * ends. All resumes go through tide_vu_resume. */
#ifndef TIDE_VU_H
#define TIDE_VU_H
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <ev.h>
#include <lua.h>
#include "http.h"

struct tide_worker;
struct tide_sched;

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
    char *name;     /* URL-grouping tag */
    char *tags;     /* extra user tags, canonical, or NULL */
    int expect[16]; /* statuses that are not failures; nexpect == 0: 200..399 */
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
    bool setup_done;     /* vu_setup ran (a restarted coroutine skips it) */
    bool stop_requested; /* finish the current iteration, then vu_teardown and end */
    bool park_requested; /* finish the current iteration, then wait for the executor */
    bool yielded;        /* the current iteration yielded at least once */
    int64_t deadline_us; /* hard stop after this (0: none) */
    ev_timer timer;
    struct tide_session *share; /* connections and cookies of this VU */
    struct tide_vu_request req;
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

/* Set from a signal handler: code running in any Lua state stops at its next count hook. */
extern volatile sig_atomic_t tide_stop_requested;

struct tide_vu *tide_vu_new(struct tide_worker *w, struct tide_sched *s);
void tide_vu_free(struct tide_vu *vu);
/* The VU's connection cache, cookie jar and DNS cache (created on first use; NULL: out of
 * memory, requests then keep nothing). */
struct tide_session *tide_vu_share(struct tide_vu *vu);
/* Creates the coroutine and runs it up to its first wait. Returns 0, -1 on error. */
int tide_vu_start(struct tide_vu *vu);
/* Resumes with 'nargs' values already pushed on vu->co. */
void tide_vu_resume(struct tide_vu *vu, int nargs);
/* Schedules a resume from the loop with one boolean (used for parked VUs). */
void tide_vu_wake(struct tide_vu *vu, bool value);
/* Stops now: cancels I/O and timers, closes the coroutine (iteration not counted). */
void tide_vu_interrupt(struct tide_vu *vu);
/* The VU running on L; raises a Lua error when called outside a VU's own coroutine. */
struct tide_vu *tide_vu_of(lua_State *L);
/* The tags of a sample made now by this VU, with 'extra' canonical pairs merged in. */
void tide_vu_tags(struct tide_vu *vu, const char *extra, char *buf, size_t len);
void tide_vu_script_error(struct tide_vu *vu, const char *msg);

#endif
