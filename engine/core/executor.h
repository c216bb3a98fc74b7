/* executor.h: a worker's share of one scenario: how many VUs run when (closed model) or when
 * iterations start (open model), and what a VU does between iterations. */
#ifndef TIDE_EXECUTOR_H
#define TIDE_EXECUTOR_H
#include <stdbool.h>
#include <stdint.h>
#include "config.h"

struct tide_worker;
struct tide_vu;

struct tide_sched {
    struct tide_worker *w;
    const struct tide_scenario *sc;
    int index;  /* scenario index */
    char *tags; /* canonical scenario tags for samples */
    struct tide_vu **vus;
    int nvus, cap;
    int dead;     /* VUs lost to a failing vu_setup (not replaced) */
    int starting; /* open model: VUs still in vu_setup (they will take queued arrivals) */
    int live;     /* VUs started and not ended (not NEW, not DONE) */
    int fresh;    /* VUs in state NEW */
    int running;  /* VUs that should be iterating now */
    int target;   /* this worker's share of the target */
    bool started, ended, finished;
    bool vus_started;  /* iterations executors start their VUs once */
    bool ramping_down; /* some VUs finish their iteration before parking */
    int64_t end_us;    /* when the scenario stops starting iterations (0: open-ended) */
    int64_t hard_us;   /* when remaining VUs are interrupted */
    /* open model */
    int64_t next_arrival; /* global arrival index */
    int64_t arrival_us;   /* due time of next_arrival, relative to the scenario start */
    struct tide_vu *idle; /* VUs waiting for an arrival */
    int64_t *queue;       /* due times of arrivals waiting for a VU */
    int64_t qhead, qlen, qcap;
    bool warned_max_vus;
    uint64_t rng; /* poisson arrivals */
};

/* Number of units of 'total' that worker 'w' of 'n' gets (exact split). */
int64_t tide_share(int64_t total, int w, int n);
/* Target VUs of a ramping-vus scenario 't' µs after its start. */
double tide_ramp_target(const struct tide_scenario *s, int64_t t);

/* Open model: when arrival k of the whole test is due, µs after the scenario start
 * (INT64_MAX: never). */
int64_t tide_arrival_due(const struct tide_scenario *sc, int64_t k);

int tide_sched_init(struct tide_sched *s, struct tide_worker *w, int index);
void tide_sched_fini(struct tide_sched *s);
/* Called often from the worker loop: starts, parks, stops and interrupts VUs. */
void tide_sched_tick(struct tide_sched *s, int64_t now_us);
/* For tide.core.next_iteration: 1 = start an iteration now, 0 = stop (end the VU),
 * 2 = park (the VU waits; the executor wakes it). */
int tide_sched_next(struct tide_sched *s, struct tide_vu *vu);
/* A VU's life, for O(1) bookkeeping: started (NEW -> running), reset (interrupted back to
 * NEW), done (ended). */
void tide_sched_vu_started(struct tide_sched *s);
void tide_sched_vu_reset(struct tide_sched *s);
void tide_sched_vu_done(struct tide_sched *s, struct tide_vu *vu);
const char *tide_sched_exec(const struct tide_sched *s);
/* Open model: when the next arrival needs a tick (absolute µs), or INT64_MAX. */
int64_t tide_sched_next_due(const struct tide_sched *s);
/* The cancel step of a VU parked between iterations (it leaves the idle list). */
void tide_sched_cancel_park(struct tide_vu *vu, void *ctx);
/* When 'vu' must be gone at the latest (absolute µs; INT64_MAX: no limit yet), and in
 * *stopped_us when it was asked to stop: the scenario's end plus graceful stop, or the VU's
 * ramp-down deadline. Read by the count hook of a VU that never yields. */
int64_t tide_sched_deadline(const struct tide_sched *s, const struct tide_vu *vu,
                            int64_t *stopped_us);
/* Stops starting iterations now (Ctrl-C, abort): parked VUs end, running ones finish. */
void tide_sched_stop(struct tide_sched *s, int64_t now_us, int64_t grace_us);

#endif
