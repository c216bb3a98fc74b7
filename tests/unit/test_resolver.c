/* Unit tests of the native client's resolver (engine/core/resolver.c) with an injected lookup
 * (no network): numeric hosts and localhost never reach it, 1000 waiters for one name make one
 * lookup, the cache answers until its TTL (a clock moved by hand), failures are not kept, the
 * names are bounded, a cancelled waiter is never called back (also from another waiter's
 * callback), and a resolver freed with a lookup running is safe. Runs under TSan too. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../check.h"
#include "clock.h"
#include "resolver.h"

/* ---- the injected lookup: counts calls, blocks while the gate is closed ---- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open = true;
static int calls, returned;

static void set_gate(bool open)
{
    pthread_mutex_lock(&gate_mu);
    gate_open = open;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

static int counter(int *c)
{
    pthread_mutex_lock(&gate_mu);
    int v = *c;
    pthread_mutex_unlock(&gate_mu);
    return v;
}

static int fake_lookup(const char *name, struct tide_addrs *out, void *ud)
{
    (void)ud;
    pthread_mutex_lock(&gate_mu);
    calls++;
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    int rc = 0;
    if (strncmp(name, "bad", 3) == 0) {
        rc = EAI_NONAME;
    } else { /* two addresses, IPv6 first, as a system may order them */
        memset(out, 0, sizeof *out);
        struct sockaddr_in6 *v6 = &out->addr[0].v6;
        struct sockaddr_in *v4 = &out->addr[1].v4;
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_loopback;
        out->len[0] = sizeof *v6;
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(0x7f000002);
        out->len[1] = sizeof *v4;
        out->n = 2;
    }
    pthread_mutex_lock(&gate_mu);
    returned++;
    pthread_mutex_unlock(&gate_mu);
    return rc;
}

static int64_t fake_now = 1000000;
static int64_t fake_clock(void)
{
    return fake_now;
}

/* ---- waiters ---- */

struct waiter {
    struct tide_resolve_wait w; /* first: the callback's pointer is the waiter's */
    struct tide_addrs out;
    int status, called;
    struct waiter *cancel_other; /* cancelled from this one's callback */
};

static int callbacks;

static void on_done(struct tide_resolve_wait *w, int status)
{
    struct waiter *x = (struct waiter *)w;
    x->status = status;
    x->called++;
    callbacks++;
    if (x->cancel_other != NULL)
        tide_resolver_cancel(&x->cancel_other->w);
}

static void tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

/* Runs the loop until 'callbacks' reaches 'want' (10 s at most). */
static void run_until(struct ev_loop *loop, int want)
{
    ev_timer t;
    ev_timer_init(&t, tick, 0.005, 0.005);
    ev_timer_start(loop, &t);
    int64_t deadline = tide_now_us() + 10000000;
    while (callbacks < want && tide_now_us() < deadline)
        ev_run(loop, EVRUN_ONCE);
    ev_timer_stop(loop, &t);
}

static int port_of(const union tide_sockaddr *a)
{
    return a->sa.sa_family == AF_INET ? ntohs(a->v4.sin_port) : ntohs(a->v6.sin6_port);
}

static struct tide_resolver *make(struct ev_loop *loop, int max_names)
{
    struct tide_resolver_config cfg = {
        .ttl_us = 60000000, .max_names = max_names, .lookup = fake_lookup, .now_us = fake_clock};
    return tide_resolver_new(loop, &cfg);
}

static void start(struct tide_resolver *r, struct waiter *x, const char *host, int port, int want)
{
    memset(x, 0, sizeof *x);
    x->w.done = on_done;
    CHECK(tide_resolver_lookup(r, host, port, &x->out, &x->w) == want);
}

static void test_without_lookup(struct ev_loop *loop)
{
    struct tide_resolver *r = make(loop, 0);
    struct waiter x;
    calls = 0;
    start(r, &x, "127.0.0.1", 8080, TIDE_RESOLVE_DONE);
    CHECK(x.out.n == 1 && x.out.addr[0].sa.sa_family == AF_INET && port_of(&x.out.addr[0]) == 8080);
    start(r, &x, "::1", 443, TIDE_RESOLVE_DONE);
    CHECK(x.out.n == 1 && x.out.addr[0].sa.sa_family == AF_INET6 && port_of(&x.out.addr[0]) == 443);
    start(r, &x, "localhost", 81, TIDE_RESOLVE_DONE); /* 127.0.0.1 then ::1, as libcurl */
    CHECK(x.out.n == 2 && x.out.addr[0].sa.sa_family == AF_INET &&
          x.out.addr[1].sa.sa_family == AF_INET6 && port_of(&x.out.addr[1]) == 81);
    start(r, &x, "api.LOCALHOST", 81, TIDE_RESOLVE_DONE);
    CHECK(x.out.n == 2);
    CHECK(!tide_resolver_waiting(&x.w));
    struct tide_resolver_stats s;
    tide_resolver_stats(r, &s);
    CHECK(s.numeric == 4 && s.lookups == 0 && s.names == 0);
    CHECK(calls == 0);
    char long_name[300];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    start(r, &x, long_name, 80, TIDE_RESOLVE_FAILED);
    tide_resolver_free(r);
}

static struct waiter many[1000];

static void test_coalesce_cache_ttl(struct ev_loop *loop)
{
    struct tide_resolver *r = make(loop, 0);
    calls = returned = callbacks = 0;
    set_gate(false);
    for (int i = 0; i < 1000; i++)
        start(r, &many[i], "svc.test", 9000 + (i % 7), TIDE_RESOLVE_PENDING);
    CHECK(tide_resolver_waiting(&many[0].w));
    CHECK(callbacks == 0); /* never from inside the lookup call */
    set_gate(true);
    run_until(loop, 1000);
    CHECK(callbacks == 1000);
    CHECK(counter(&calls) == 1); /* one lookup for 1000 waiters */
    bool all = true;
    for (int i = 0; i < 1000; i++)
        all = all && many[i].called == 1 && many[i].status == 0 && many[i].out.n == 2 &&
              many[i].out.addr[0].sa.sa_family == AF_INET6 &&
              port_of(&many[i].out.addr[0]) == 9000 + (i % 7) &&
              port_of(&many[i].out.addr[1]) == 9000 + (i % 7);
    CHECK(all); /* every address, the system's order, each waiter's port */
    struct tide_resolver_stats s;
    tide_resolver_stats(r, &s);
    CHECK(s.lookups == 1 && s.coalesced == 999 && s.names == 1);

    struct waiter x;
    fake_now += 59000000; /* within the TTL: the cache answers */
    start(r, &x, "svc.test", 80, TIDE_RESOLVE_DONE);
    CHECK(x.out.n == 2 && port_of(&x.out.addr[1]) == 80);
    tide_resolver_stats(r, &s);
    CHECK(s.hits == 1 && counter(&calls) == 1);

    fake_now += 2000000; /* past it: looked up again */
    callbacks = 0;
    start(r, &x, "svc.test", 80, TIDE_RESOLVE_PENDING);
    run_until(loop, 1);
    CHECK(x.called == 1 && x.status == 0 && counter(&calls) == 2);
    tide_resolver_free(r);
}

static void test_failure_not_cached(struct ev_loop *loop)
{
    struct tide_resolver *r = make(loop, 0);
    calls = callbacks = 0;
    struct waiter a, b;
    start(r, &a, "bad.invalid", 80, TIDE_RESOLVE_PENDING);
    start(r, &b, "bad.invalid", 80, TIDE_RESOLVE_PENDING);
    run_until(loop, 2);
    CHECK(a.called == 1 && b.called == 1);
    CHECK(a.status == EAI_NONAME && b.status == EAI_NONAME);
    struct tide_resolver_stats s;
    tide_resolver_stats(r, &s);
    CHECK(s.names == 0 && s.failures == 1 && s.lookups == 1);
    callbacks = 0;
    start(r, &a, "bad.invalid", 80, TIDE_RESOLVE_PENDING); /* asked again, not remembered */
    run_until(loop, 1);
    CHECK(a.called == 1 && a.status != 0 && counter(&calls) == 2);
    tide_resolver_free(r);
}

static void test_cancel(struct ev_loop *loop)
{
    struct tide_resolver *r = make(loop, 0);
    calls = callbacks = 0;
    struct waiter a, b, c, d;
    set_gate(false);
    start(r, &a, "one.test", 80, TIDE_RESOLVE_PENDING);
    start(r, &b, "one.test", 80, TIDE_RESOLVE_PENDING);
    tide_resolver_cancel(&a.w);
    CHECK(!tide_resolver_waiting(&a.w) && tide_resolver_waiting(&b.w));
    tide_resolver_cancel(&a.w); /* twice: nothing */
    /* c and d wait together; the first called cancels the other, which is then never called */
    start(r, &c, "two.test", 80, TIDE_RESOLVE_PENDING);
    start(r, &d, "two.test", 80, TIDE_RESOLVE_PENDING);
    c.cancel_other = &d;
    d.cancel_other = &c;
    set_gate(true);
    run_until(loop, 2);
    usleep(20000);
    ev_run(loop, EVRUN_NOWAIT);
    CHECK(a.called == 0 && b.called == 1);
    CHECK(c.called + d.called == 1);
    CHECK(callbacks == 2);
    tide_resolver_free(r);
}

static void test_bounded(struct ev_loop *loop)
{
    struct tide_resolver *r = make(loop, 4);
    struct waiter x;
    char name[32];
    for (int i = 0; i < 10; i++) {
        callbacks = 0;
        snprintf(name, sizeof name, "n%d.test", i);
        start(r, &x, name, 80, TIDE_RESOLVE_PENDING);
        run_until(loop, 1);
        CHECK(x.called == 1 && x.status == 0);
    }
    struct tide_resolver_stats s;
    tide_resolver_stats(r, &s);
    CHECK(s.names == 4);
    start(r, &x, "n9.test", 80, TIDE_RESOLVE_DONE); /* the most recent ones stay */
    start(r, &x, "n0.test", 80, TIDE_RESOLVE_PENDING);
    tide_resolver_free(r); /* x still waiting: dropped, never called */
    CHECK(!tide_resolver_waiting(&x.w));
    tide_resolver_cancel(&x.w); /* after the free: nothing */
}

static void test_free_while_looking_up(struct ev_loop *loop)
{
    struct tide_resolver *r = make(loop, 0);
    calls = returned = callbacks = 0;
    struct waiter x;
    set_gate(false);
    start(r, &x, "slow.test", 80, TIDE_RESOLVE_PENDING);
    int64_t deadline = tide_now_us() + 5000000;
    while (counter(&calls) == 0 && tide_now_us() < deadline)
        usleep(1000);
    tide_resolver_free(r); /* the thread is inside the lookup */
    set_gate(true);
    while (counter(&returned) == 0 && tide_now_us() < deadline)
        usleep(1000);
    usleep(50000); /* the thread frees what it shared */
    ev_run(loop, EVRUN_NOWAIT);
    CHECK(x.called == 0 && counter(&returned) == 1);
}

static void test_real_getaddrinfo(void)
{
    struct tide_addrs out;
    CHECK(tide_resolver_getaddrinfo("127.0.0.1", &out, NULL) == 0);
    CHECK(out.n == 1 && out.addr[0].sa.sa_family == AF_INET);
}

int main(void)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    test_without_lookup(loop);
    test_coalesce_cache_ttl(loop);
    test_failure_not_cached(loop);
    test_cancel(loop);
    test_bounded(loop);
    test_free_while_looking_up(loop);
    test_real_getaddrinfo();
    ev_loop_destroy(loop);
    return CHECK_DONE();
}
