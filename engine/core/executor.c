/* executor.c: the six executors, seen from one worker. Closed model (constant-vus,
 * ramping-vus, per-vu-iterations, shared-iterations): keep this worker's share of the target
 * number of VUs iterating. Open model (constant- and ramping-arrival-rate): start iterations at
 * scheduled times; arrivals are dealt round-robin to workers (arrival k to worker k mod n). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "executor.h"
#include "log.h"
#include "segment.h"
#include "vu.h"
#include "worker.h"

#define ARRIVAL_LOOKAHEAD_US 1000

static int open_workers(const struct tide_sched *s);

/* This process's segment of the test (segment.h): every total is split over the segments
 * first, then over the workers. */
static struct tide_segment segment_of(const struct tide_sched *s)
{
    const struct tide_config *c = s->w->cfg;
    if (c->segment_count <= 1)
        return TIDE_SEGMENT_WHOLE;
    return (struct tide_segment){c->segment_index, c->segment_count};
}

/* The segment's share of a whole-test total. */
static int64_t seg_total(const struct tide_sched *s, int64_t total)
{
    return tide_segment_share(segment_of(s), total);
}

int64_t tide_share(int64_t total, int w, int n)
{
    if (n <= 1)
        return total;
    return total / n + (w < total % n ? 1 : 0);
}

double tide_ramp_target(const struct tide_scenario *s, int64_t t)
{
    double from = s->start_vus;
    for (int i = 0; i < s->nstages; i++) {
        const struct tide_stage *st = &s->stages[i];
        if (t < st->duration_us) {
            double f = st->duration_us > 0 ? (double)t / (double)st->duration_us : 1;
            return from + (st->target - from) * f;
        }
        t -= st->duration_us;
        from = st->target;
    }
    return from;
}

static bool is_open(const struct tide_scenario *sc)
{
    return sc->executor == TIDE_EXEC_CONSTANT_ARRIVAL_RATE ||
           sc->executor == TIDE_EXEC_RAMPING_ARRIVAL_RATE;
}

static bool is_iterations(const struct tide_scenario *sc)
{
    return sc->executor == TIDE_EXEC_PER_VU_ITERATIONS ||
           sc->executor == TIDE_EXEC_SHARED_ITERATIONS;
}

int tide_sched_init(struct tide_sched *s, struct tide_worker *w, int index)
{
    memset(s, 0, sizeof *s);
    s->w = w;
    s->index = index;
    s->sc = &w->cfg->scenarios[index];
    struct tide_tags t = {0};
    for (int i = 0; i < w->cfg->ntags; i++)
        tide_tags_set(&t, w->cfg->tags[i].key, w->cfg->tags[i].value);
    for (int i = 0; i < s->sc->ntags; i++)
        tide_tags_set(&t, s->sc->tags[i].key, s->sc->tags[i].value);
    tide_tags_set(&t, "scenario", s->sc->name);
    char canon[2048];
    tide_tags_canon(&t, canon, sizeof canon);
    s->tags = strdup(canon);
    return s->tags != NULL ? 0 : -1;
}

void tide_sched_fini(struct tide_sched *s)
{
    for (int i = 0; i < s->nvus; i++)
        tide_vu_free(s->vus[i]);
    free(s->vus);
    free(s->queue);
    free(s->tags);
}

const char *tide_sched_exec(const struct tide_sched *s)
{
    return s->sc->exec;
}

static struct tide_vu *add_vu(struct tide_sched *s)
{
    if (s->nvus == s->cap) {
        int cap = s->cap ? s->cap * 2 : 16;
        struct tide_vu **grown = realloc(s->vus, (size_t)cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        s->vus = grown;
        s->cap = cap;
    }
    struct tide_vu *vu = tide_vu_new(s->w, s);
    if (vu == NULL)
        return NULL;
    vu->scenario_tags = s->tags;
    s->vus[s->nvus++] = vu;
    s->fresh++;
    return vu;
}

static void check_finished(struct tide_sched *s)
{
    if (s->finished || !s->started)
        return;
    if (s->live > 0)
        return; /* still iterating or waiting */
    bool none_new = s->fresh == 0;
    /* iterations executors end when their VUs are done (a worker whose share is 0 VUs has
     * nothing to do); the others when their time is up */
    if (s->ended || (is_iterations(s->sc) && none_new)) {
        s->finished = true;
        tide_worker_finish_check(s->w);
    }
}

void tide_sched_vu_started(struct tide_sched *s)
{
    if (s == NULL)
        return;
    s->fresh--;
    s->live++;
}

void tide_sched_vu_reset(struct tide_sched *s)
{
    if (s == NULL)
        return;
    s->live--;
    s->fresh++;
}

void tide_sched_vu_done(struct tide_sched *s, struct tide_vu *vu)
{
    if (s == NULL) /* lifecycle call */
        return;
    s->live--;
    if (vu->starting) {
        vu->starting = false;
        s->starting--;
    }
    if (vu->active)
        s->running--;
    if (vu->active && vu->setup_failed && !s->ended) {
        s->dead++; /* replacing it would fail the same way, every tick */
        if (s->dead == 1)
            tide_log(TIDE_LOG_WARN,
                     "scenario %s: vu_setup() failed in VU %d; VUs whose vu_setup fails are "
                     "not replaced",
                     s->sc->name, vu->id);
    }
    vu->active = false;
    check_finished(s);
}

static void activate(struct tide_sched *s, struct tide_vu *vu)
{
    vu->active = true;
    vu->park_requested = false;
    vu->deadline_us = 0;
    s->running++;
    if (vu->state == TIDE_VU_NEW)
        tide_vu_start(vu);
    else if (vu->state == TIDE_VU_PARKED)
        tide_vu_wake(vu, true);
}

static void deactivate(struct tide_sched *s, struct tide_vu *vu, int64_t now)
{
    vu->active = false;
    vu->park_requested = true;
    vu->deadline_us = now + s->sc->graceful_ramp_down_us;
    s->running--;
    s->ramping_down = true;
}

/* Closed model: make the number of active VUs equal this worker's share of 'target'. */
static void adjust(struct tide_sched *s, int64_t target, int64_t now)
{
    int64_t share = tide_share(seg_total(s, target), s->w->index, s->w->count);
    /* counts are fixed first: a VU may finish (and leave 'running') while it is started */
    int64_t need = share - s->running - s->dead;
    for (int i = 0; i < s->nvus && need > 0; i++) {
        struct tide_vu *vu = s->vus[i];
        if (!vu->active && vu->state != TIDE_VU_DONE) {
            need--;
            activate(s, vu);
        }
    }
    for (; need > 0; need--) {
        struct tide_vu *vu = add_vu(s);
        if (vu == NULL)
            break;
        activate(s, vu);
    }
    int64_t excess = s->running - share;
    for (int i = s->nvus - 1; i >= 0 && excess > 0; i--) {
        if (s->vus[i]->active) {
            excess--;
            deactivate(s, s->vus[i], now);
        }
    }
    /* ramp-down is graceful up to graceful_ramp_down, then the iteration is interrupted */
    bool pending = false;
    for (int i = 0; i < s->nvus && s->ramping_down; i++) {
        struct tide_vu *vu = s->vus[i];
        if (!vu->active && vu->park_requested && vu->deadline_us > 0 &&
            vu->state != TIDE_VU_PARKED && vu->state != TIDE_VU_DONE) {
            pending = true;
            if (now >= vu->deadline_us) {
                tide_vu_interrupt(vu);
                vu->deadline_us = 0;
            }
        }
    }
    s->ramping_down = pending; /* nothing left to watch: skip the scan */
}

/* Open model: when arrival k is due, µs after the scenario start. */
int64_t tide_arrival_due(const struct tide_scenario *sc, int64_t k)
{
    double unit = (double)(sc->time_unit_us > 0 ? sc->time_unit_us : 1000000);
    if (sc->executor == TIDE_EXEC_CONSTANT_ARRIVAL_RATE) {
        if (sc->rate <= 0)
            return INT64_MAX;
        return (int64_t)llround((double)k * unit / sc->rate);
    }
    double need = (double)k, t0 = 0, r0 = sc->start_rate / unit; /* arrivals per µs */
    for (int i = 0; i < sc->nstages; i++) {
        double d = (double)sc->stages[i].duration_us, r1 = sc->stages[i].target / unit;
        double in_stage = (r0 + r1) / 2 * d;
        if (need < in_stage || i == sc->nstages - 1) {
            double a = (r1 - r0) / (2 * d), tau;
            if (fabs(a) < 1e-18)
                tau = r0 > 0 ? need / r0 : (double)INFINITY;
            else
                tau = (-r0 + sqrt(r0 * r0 + 4 * a * need)) / (2 * a);
            if (!isfinite(tau) || tau > d)
                return i == sc->nstages - 1 ? INT64_MAX : (int64_t)(t0 + d);
            return (int64_t)llround(t0 + tau);
        }
        need -= in_stage;
        t0 += d;
        r0 = r1;
    }
    return INT64_MAX;
}

static void next_arrival(struct tide_sched *s)
{
    const struct tide_scenario *sc = s->sc;
    if (sc->poisson && sc->executor == TIDE_EXEC_CONSTANT_ARRIVAL_RATE && sc->rate > 0) {
        /* each worker runs its own Poisson process at rate/n; their sum is Poisson at rate */
        double mean = (double)sc->time_unit_us / sc->rate * open_workers(s) * segment_of(s).count;
        s->rng ^= s->rng << 13; /* xorshift64: seeded per run and worker */
        s->rng ^= s->rng >> 7;
        s->rng ^= s->rng << 17;
        double u = ((double)(s->rng >> 11) + 0.5) / 9007199254740992.0;
        s->arrival_us += (int64_t)llround(-log(u) * mean);
        return;
    }
    s->next_arrival += open_workers(s);
    s->arrival_us = tide_arrival_due(sc, tide_segment_arrival(segment_of(s), s->next_arrival));
}

static void record_dropped(struct tide_sched *s, double n)
{
    tide_registry_add(s->w->reg, TIDE_M_DROPPED_ITERATIONS, s->tags, n);
}

/* The segment's max_vus: at least one, so that a segment always has a VU for its arrivals
 * (with max_vus below the number of segments, the segments together hold a few more). */
static int64_t segment_max_vus(const struct tide_sched *s)
{
    int64_t m =
        s->sc->max_vus > s->sc->pre_allocated_vus ? s->sc->max_vus : s->sc->pre_allocated_vus;
    m = seg_total(s, m);
    return m > 0 ? m : 1;
}

/* Open model: the segment's arrivals go round-robin to the workers that can hold a VU (with
 * max_vus below the thread count, some workers get none and must get no arrivals either). */
static int open_workers(const struct tide_sched *s)
{
    int64_t m = segment_max_vus(s);
    return m < s->w->count ? (int)m : s->w->count;
}

/* This worker's share of a whole-test total: the segment's share, split over the workers. */
static int64_t open_share(const struct tide_sched *s, int64_t total)
{
    return tide_share(seg_total(s, total), s->w->index, open_workers(s));
}

static int64_t max_vus_share(const struct tide_sched *s)
{
    return tide_share(segment_max_vus(s), s->w->index, open_workers(s));
}

/* Starts a new open-model VU; it takes queued arrivals once its vu_setup is done. */
static void start_open_vu(struct tide_sched *s)
{
    struct tide_vu *vu = add_vu(s);
    if (vu == NULL)
        return;
    vu->active = true;
    vu->starting = true;
    s->starting++;
    tide_vu_start(vu);
}

static void arrive(struct tide_sched *s, int64_t due_abs)
{
    struct tide_vu *vu = s->idle;
    if (vu != NULL) {
        s->idle = vu->next;
        vu->next = NULL;
        vu->sched_start_us = due_abs;
        /* resume now rather than on the next loop pass: lateness here is latency */
        tide_vu_wake_now(vu, true);
        return;
    }
    int64_t qmax = open_share(s, s->sc->max_queue);
    if (s->qlen >= qmax || s->qcap == 0) {
        record_dropped(s, 1);
        return;
    }
    s->queue[(s->qhead + s->qlen) % s->qcap] = due_abs;
    s->qlen++;
    if (s->nvus < max_vus_share(s) && s->starting == 0) {
        if (!s->warned_max_vus && s->nvus >= open_share(s, s->sc->pre_allocated_vus)) {
            s->warned_max_vus = true;
            tide_log(TIDE_LOG_WARN,
                     "scenario %s: all %d pre-allocated VUs are busy; adding VUs up to max_vus "
                     "%d",
                     s->sc->name, s->sc->pre_allocated_vus, s->sc->max_vus);
        }
        start_open_vu(s);
    }
}

static void open_start(struct tide_sched *s)
{
    if (s->w->index >= open_workers(s)) {
        s->arrival_us = INT64_MAX; /* no VU capacity here: the other workers take them all */
        return;
    }
    s->rng = (uint64_t)tide_now_us() * 2654435761ULL + (uint64_t)s->w->index + 1;
    s->qcap = open_share(s, s->sc->max_queue);
    if (s->qcap > 0)
        s->queue = calloc((size_t)s->qcap, sizeof *s->queue);
    if (s->queue == NULL)
        s->qcap = 0;
    s->next_arrival = s->w->index; /* the segment's own arrival numbers (segment.h) */
    s->arrival_us =
        s->sc->poisson
            ? 0
            : tide_arrival_due(s->sc, tide_segment_arrival(segment_of(s), s->next_arrival));
    int64_t pre = open_share(s, s->sc->pre_allocated_vus);
    if (pre == 0 && s->w->index == 0)
        pre = 1; /* a segment with no pre-allocated VU of its own still needs one */
    for (int64_t i = 0; i < pre; i++)
        start_open_vu(s);
}

static void end_scenario(struct tide_sched *s, int64_t now, int64_t grace_us)
{
    if (s->ended)
        return;
    s->ended = true;
    s->hard_us = now + grace_us;
    if (s->qlen > 0) { /* arrivals that never got a VU before the end */
        record_dropped(s, (double)s->qlen);
        s->qlen = 0;
    }
    for (int i = 0; i < s->nvus; i++) {
        struct tide_vu *vu = s->vus[i];
        vu->stop_requested = true;
        if (vu->state == TIDE_VU_PARKED)
            tide_vu_wake(vu, false);
    }
    s->idle = NULL;
    check_finished(s);
}

void tide_sched_stop(struct tide_sched *s, int64_t now_us, int64_t grace_us)
{
    if (!s->started) {
        s->started = true;
        s->ended = true;
        s->finished = true;
        return;
    }
    if (s->ended && s->hard_us > now_us + grace_us)
        s->hard_us = now_us + grace_us;
    end_scenario(s, now_us, grace_us);
}

static void interrupt_all(struct tide_sched *s)
{
    for (int i = 0; i < s->nvus; i++) {
        struct tide_vu *vu = s->vus[i];
        if (vu->state != TIDE_VU_DONE && vu->state != TIDE_VU_NEW)
            tide_vu_interrupt(vu); /* now NEW */
        if (tide_vu_retire(vu))
            s->fresh--;
        vu->active = false;
    }
    s->running = 0;
    check_finished(s);
}

/* Every arrival due by now (before the scenario's end). libev sleeps in whole milliseconds, so
 * a timer fires up to 1 ms late: arrivals due within the next millisecond start now rather
 * than late (lateness would be counted as latency by the coordinated-omission correction). */
static void open_arrivals(struct tide_sched *s, int64_t start, int64_t now)
{
    while (s->arrival_us != INT64_MAX && start + s->arrival_us <= now + ARRIVAL_LOOKAHEAD_US &&
           (s->end_us == 0 || start + s->arrival_us < s->end_us)) {
        arrive(s, start + s->arrival_us);
        next_arrival(s);
    }
}

void tide_sched_tick(struct tide_sched *s, int64_t now)
{
    const struct tide_scenario *sc = s->sc;
    int64_t start = s->w->shared->start_us + sc->start_time_us;
    if (s->finished || now < start)
        return;
    if (!s->started) {
        s->started = true;
        int64_t end = tide_scenario_end_us(sc);
        s->end_us = end > 0 ? start + end : 0;
        if (is_open(sc))
            open_start(s);
    }
    if (s->ended) {
        if (now >= s->hard_us)
            interrupt_all(s);
        return;
    }
    if (s->end_us > 0 && now >= s->end_us) {
        /* a late tick (a busy machine): arrivals due before the end still arrive, late, so
         * that each is run or counted as dropped, never lost */
        if (is_open(sc))
            open_arrivals(s, start, now);
        end_scenario(s, now, sc->graceful_stop_us);
        return;
    }
    int64_t t = now - start;
    switch (sc->executor) {
    case TIDE_EXEC_CONSTANT_VUS:
        adjust(s, sc->vus, now);
        break;
    case TIDE_EXEC_PER_VU_ITERATIONS:
    case TIDE_EXEC_SHARED_ITERATIONS:
        if (!s->vus_started) {
            s->vus_started = true;
            adjust(s, sc->vus, now);
        }
        break;
    case TIDE_EXEC_RAMPING_VUS:
        adjust(s, (int64_t)floor(tide_ramp_target(sc, t) + 1e-9), now);
        break;
    case TIDE_EXEC_CONSTANT_ARRIVAL_RATE:
    case TIDE_EXEC_RAMPING_ARRIVAL_RATE:
        open_arrivals(s, start, now);
        break;
    }
    if (is_iterations(sc))
        check_finished(s);
}

/* When the next tick is needed for arrivals (absolute µs), or INT64_MAX. */
int64_t tide_sched_next_due(const struct tide_sched *s)
{
    if (!s->started || s->ended || !is_open(s->sc) || s->arrival_us == INT64_MAX)
        return INT64_MAX;
    return s->w->shared->start_us + s->sc->start_time_us + s->arrival_us - ARRIVAL_LOOKAHEAD_US;
}

int tide_sched_next(struct tide_sched *s, struct tide_vu *vu)
{
    const struct tide_scenario *sc = s->sc;
    if (atomic_load(&s->w->shared->stop) || s->ended || vu->stop_requested)
        return 0;
    if (is_open(sc)) {
        if (vu->starting) {
            vu->starting = false;
            s->starting--;
        }
        if (s->qlen > 0) {
            vu->sched_start_us = s->queue[s->qhead];
            s->qhead = (s->qhead + 1) % s->qcap;
            s->qlen--;
            return 1;
        }
        vu->next = s->idle;
        s->idle = vu;
        return 2;
    }
    if (!vu->active)
        return 2;
    if (sc->executor == TIDE_EXEC_PER_VU_ITERATIONS && vu->iteration >= sc->iterations)
        return 0;
    if (sc->executor == TIDE_EXEC_SHARED_ITERATIONS &&
        atomic_fetch_add(&s->w->shared->shared_iters[s->index], 1) >= seg_total(s, sc->iterations))
        return 0;
    return 1;
}

void tide_sched_cancel_park(struct tide_vu *vu, void *ctx)
{
    struct tide_sched *s = vu->sched;
    for (struct tide_vu **p = &s->idle; *p != NULL; p = &(*p)->next) {
        if (*p == vu) {
            *p = vu->next;
            vu->next = NULL;
            return;
        }
    }
}

int64_t tide_sched_deadline(const struct tide_sched *s, const struct tide_vu *vu,
                            int64_t *stopped_us)
{
    int64_t hard = INT64_MAX;
    if (s->ended) {
        hard = s->hard_us;
        *stopped_us = s->hard_us - s->sc->graceful_stop_us;
    } else if (s->started && s->end_us > 0) {
        /* the loop may not have seen the end yet: this VU may be what holds it */
        hard = s->end_us + s->sc->graceful_stop_us;
        *stopped_us = s->end_us;
    }
    if (!vu->active && vu->park_requested && vu->deadline_us > 0 && vu->deadline_us < hard) {
        hard = vu->deadline_us;
        *stopped_us = vu->deadline_us - s->sc->graceful_ramp_down_us;
    }
    return hard;
}
