/* resolver.c: resolver.h's cache on the worker's loop and its lookup threads. Two sides:
 * - the loop's: the names (a list kept most recently used first, so the name a test hits is
 *   found at once), their waiters, statistics. Touched only by the worker's thread.
 * - 'struct shared', under its mutex: jobs queued for the threads, jobs they finished, the
 *   ev_async that wakes the loop. Reference-counted by the resolver and each running thread,
 *   so a worker that ends frees its part at once and the last thread frees the rest. */
#include "resolver.h"
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "clock.h"

/* One name: cached, or being looked up (then 'job' is set and its waiters wait). */
struct tide_resolver_name {
    char host[TIDE_RESOLVER_NAME_MAX + 1];
    struct tide_addrs addrs; /* ports 0 */
    int64_t expires_us;
    struct job *job;                         /* in flight */
    bool delivering;                         /* its waiters' callbacks are running */
    struct tide_resolve_wait *waiters;       /* waiting for 'job' */
    struct tide_resolve_wait *delivering_to; /* the callbacks not run yet */
    struct tide_resolver_name *next;
};

/* A lookup given to the threads. 'host', then 'status' and 'addrs', are the thread's while it
 * runs; 'name' is the loop's (NULL: nobody waits for the result any more). */
struct job {
    char host[TIDE_RESOLVER_NAME_MAX + 1];
    int status;
    struct tide_addrs addrs;
    struct tide_resolver_name *name;
    struct job *next;
};

struct shared {
    pthread_mutex_t mu;
    int refs;      /* the resolver (until freed) + each running thread */
    bool orphaned; /* the resolver was freed: results go nowhere */
    struct job *queue, **queue_tail;
    struct job *finished;
    int threads;
    struct ev_loop *loop;
    ev_async wake;
    tide_lookup_fn lookup;
    void *lookup_ud;
};

struct tide_resolver {
    struct shared *sh;
    struct ev_loop *loop;
    struct tide_resolver_config cfg;
    struct tide_resolver_name *names;
    int nnames;
    struct tide_resolver_stats stats;
};

/* ---- the real lookup ---- */

int tide_resolver_getaddrinfo(const char *name, struct tide_addrs *out, void *ud)
{
    (void)ud;
    /* as libcurl's threaded resolver: every family, no AI_ADDRCONFIG (which would drop ::1 on
     * a machine whose only IPv6 address is loopback) */
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(name, NULL, &hints, &ai);
    if (rc != 0)
        return rc;
    out->n = 0;
    for (struct addrinfo *a = ai; a != NULL && out->n < TIDE_RESOLVER_MAX_ADDRS; a = a->ai_next) {
        if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
            a->ai_addrlen > sizeof out->addr[0])
            continue;
        memcpy(&out->addr[out->n], a->ai_addr, a->ai_addrlen);
        out->len[out->n] = a->ai_addrlen;
        out->n++;
    }
    freeaddrinfo(ai);
    return out->n > 0 ? 0 : EAI_NONAME;
}

/* ---- the threads ---- */

static void shared_release(struct shared *sh)
{
    /* the caller held the last reference: nobody else sees 'sh' */
    for (struct job *j = sh->queue, *next; j != NULL; j = next) {
        next = j->next;
        free(j);
    }
    for (struct job *j = sh->finished, *next; j != NULL; j = next) {
        next = j->next;
        free(j);
    }
    pthread_mutex_destroy(&sh->mu);
    free(sh);
}

static void *lookup_thread(void *arg)
{
    struct shared *sh = arg;
    pthread_mutex_lock(&sh->mu);
    while (!sh->orphaned && sh->queue != NULL) {
        struct job *j = sh->queue;
        sh->queue = j->next;
        if (sh->queue == NULL)
            sh->queue_tail = &sh->queue;
        pthread_mutex_unlock(&sh->mu);
        j->status = sh->lookup(j->host, &j->addrs, sh->lookup_ud);
        pthread_mutex_lock(&sh->mu);
        if (sh->orphaned) {
            free(j);
            break;
        }
        j->next = sh->finished;
        sh->finished = j;
        ev_async_send(sh->loop, &sh->wake); /* under the lock: never after the loop is gone */
    }
    sh->threads--;
    bool last = --sh->refs == 0;
    pthread_mutex_unlock(&sh->mu);
    if (last)
        shared_release(sh);
    return NULL;
}

/* Queues 'j' and starts a thread when fewer than TIDE_RESOLVER_THREADS run. False: no thread
 * could start and none runs (the job is not queued). */
static bool submit(struct shared *sh, struct job *j)
{
    j->next = NULL;
    pthread_mutex_lock(&sh->mu);
    *sh->queue_tail = j;
    sh->queue_tail = &j->next;
    bool ok = true;
    if (sh->threads < TIDE_RESOLVER_THREADS) {
        pthread_attr_t attr;
        pthread_t tid;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&tid, &attr, lookup_thread, sh) == 0) {
            sh->threads++;
            sh->refs++;
        }
        pthread_attr_destroy(&attr);
    }
    if (sh->threads == 0) { /* nobody would take it: take it back */
        struct job **pp = &sh->queue;
        while (*pp != j)
            pp = &(*pp)->next;
        *pp = NULL;
        sh->queue_tail = pp;
        ok = false;
    }
    pthread_mutex_unlock(&sh->mu);
    return ok;
}

/* ---- the loop's side ---- */

static int64_t now_of(const struct tide_resolver *r)
{
    return r->cfg.now_us != NULL ? r->cfg.now_us() : tide_now_us();
}

static void set_port(union tide_sockaddr *a, int port)
{
    if (a->sa.sa_family == AF_INET)
        a->v4.sin_port = htons((uint16_t)port);
    else
        a->v6.sin6_port = htons((uint16_t)port);
}

static void copy_out(const struct tide_addrs *from, int port, struct tide_addrs *out)
{
    out->n = from->n;
    for (int i = 0; i < from->n; i++) {
        out->addr[i] = from->addr[i];
        out->len[i] = from->len[i];
        set_port(&out->addr[i], port);
    }
}

static void add_v4(struct tide_addrs *out, const struct in_addr *a)
{
    union tide_sockaddr *s = &out->addr[out->n];
    memset(s, 0, sizeof *s);
    s->v4.sin_family = AF_INET;
    s->v4.sin_addr = *a;
    out->len[out->n++] = sizeof s->v4;
}

static void add_v6(struct tide_addrs *out, const struct in6_addr *a)
{
    union tide_sockaddr *s = &out->addr[out->n];
    memset(s, 0, sizeof *s);
    s->v6.sin6_family = AF_INET6;
    s->v6.sin6_addr = *a;
    out->len[out->n++] = sizeof s->v6;
}

static bool is_localhost(const char *host)
{
    size_t n = strlen(host);
    return strcasecmp(host, "localhost") == 0 ||
           (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0);
}

/* Addresses known without a lookup: a numeric host, or localhost (127.0.0.1, then ::1). */
static bool without_lookup(const char *host, struct tide_addrs *out)
{
    struct in_addr v4;
    struct in6_addr v6;
    out->n = 0;
    if (inet_pton(AF_INET, host, &v4) == 1)
        add_v4(out, &v4);
    else if (inet_pton(AF_INET6, host, &v6) == 1)
        add_v6(out, &v6);
    else if (is_localhost(host)) {
        v4.s_addr = htonl(INADDR_LOOPBACK);
        add_v4(out, &v4);
        add_v6(out, &in6addr_loopback);
    }
    return out->n > 0;
}

/* The cached or in-flight entry of 'host', moved to the front of the list; NULL: none. */
static struct tide_resolver_name *find(struct tide_resolver *r, const char *host)
{
    for (struct tide_resolver_name **pp = &r->names; *pp != NULL; pp = &(*pp)->next) {
        struct tide_resolver_name *e = *pp;
        if (strcmp(e->host, host) != 0)
            continue;
        if (pp != &r->names) {
            *pp = e->next;
            e->next = r->names;
            r->names = e;
        }
        return e;
    }
    return NULL;
}

static bool busy(const struct tide_resolver_name *e)
{
    return e->job != NULL || e->delivering;
}

static void unlink_name(struct tide_resolver *r, struct tide_resolver_name *e)
{
    for (struct tide_resolver_name **pp = &r->names; *pp != NULL; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            r->nnames--;
            free(e);
            return;
        }
}

/* Room for one more name: the expired ones go, else the least recently used one that is not
 * being looked up (names in flight are never dropped: their waiters need them). */
static void make_room(struct tide_resolver *r, int64_t now)
{
    if (r->nnames < r->cfg.max_names)
        return;
    struct tide_resolver_name *victim = NULL;
    for (struct tide_resolver_name *e = r->names, *next; e != NULL; e = next) {
        next = e->next;
        if (busy(e))
            continue;
        if (e->expires_us <= now)
            unlink_name(r, e);
        else
            victim = e; /* the last one not busy: the least recently used */
    }
    if (r->nnames >= r->cfg.max_names && victim != NULL)
        unlink_name(r, victim);
}

static void deliver(struct tide_resolver *r, struct tide_resolver_name *e, int status)
{
    e->delivering = true;
    e->delivering_to = e->waiters;
    e->waiters = NULL;
    while (e->delivering_to != NULL) {
        struct tide_resolve_wait *w = e->delivering_to;
        e->delivering_to = w->next;
        w->name = NULL;
        w->next = NULL;
        if (status == 0)
            copy_out(&e->addrs, w->port, w->out);
        w->done(w, status); /* may look up again, or cancel a waiter still in the list */
    }
    e->delivering = false;
    if (status != 0 && e->job == NULL && e->waiters == NULL)
        unlink_name(r, e); /* failures are not kept */
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)revents;
    struct tide_resolver *r = w->data;
    pthread_mutex_lock(&r->sh->mu);
    struct job *done = r->sh->finished;
    r->sh->finished = NULL;
    pthread_mutex_unlock(&r->sh->mu);
    for (struct job *j = done, *next; j != NULL; j = next) {
        next = j->next;
        struct tide_resolver_name *e = j->name;
        int status = j->status;
        if (status == 0 && j->addrs.n == 0)
            status = EAI_NONAME;
        if (status == 0) {
            e->addrs = j->addrs;
            e->expires_us = now_of(r) + r->cfg.ttl_us;
        } else {
            e->expires_us = 0;
            r->stats.failures++;
        }
        e->job = NULL;
        free(j);
        deliver(r, e, status);
    }
}

struct tide_resolver *tide_resolver_new(struct ev_loop *loop,
                                        const struct tide_resolver_config *cfg)
{
    struct tide_resolver *r = calloc(1, sizeof *r);
    struct shared *sh = calloc(1, sizeof *sh);
    if (r == NULL || sh == NULL || pthread_mutex_init(&sh->mu, NULL) != 0) {
        free(r);
        free(sh);
        return NULL;
    }
    if (cfg != NULL)
        r->cfg = *cfg;
    if (r->cfg.ttl_us <= 0)
        r->cfg.ttl_us = TIDE_RESOLVER_TTL_US;
    if (r->cfg.max_names <= 0)
        r->cfg.max_names = TIDE_RESOLVER_MAX_NAMES;
    if (r->cfg.lookup == NULL)
        r->cfg.lookup = tide_resolver_getaddrinfo;
    r->loop = loop;
    r->sh = sh;
    sh->refs = 1;
    sh->queue_tail = &sh->queue;
    sh->loop = loop;
    sh->lookup = r->cfg.lookup;
    sh->lookup_ud = r->cfg.lookup_ud;
    ev_async_init(&sh->wake, on_wake);
    sh->wake.data = r;
    ev_async_start(loop, &sh->wake);
    ev_unref(loop); /* a lookup nobody waits for does not keep the loop running */
    return r;
}

void tide_resolver_free(struct tide_resolver *r)
{
    if (r == NULL)
        return;
    struct shared *sh = r->sh;
    pthread_mutex_lock(&sh->mu);
    sh->orphaned = true;
    bool last = --sh->refs == 0;
    pthread_mutex_unlock(&sh->mu);
    ev_ref(r->loop);
    ev_async_stop(r->loop, &sh->wake);
    for (struct tide_resolver_name *e = r->names, *next; e != NULL; e = next) {
        next = e->next;
        for (struct tide_resolve_wait *w = e->waiters; w != NULL; w = w->next)
            w->name = NULL;
        for (struct tide_resolve_wait *w = e->delivering_to; w != NULL; w = w->next)
            w->name = NULL;
        free(e);
    }
    /* jobs still queued or running are the threads' now (they see 'orphaned') */
    if (last)
        shared_release(sh);
    free(r);
}

int tide_resolver_lookup(struct tide_resolver *r, const char *host, int port,
                         struct tide_addrs *out, struct tide_resolve_wait *w)
{
    tide_resolver_cancel(w); /* a wait reused while it still waited: out of its old list */
    if (without_lookup(host, out)) {
        for (int i = 0; i < out->n; i++)
            set_port(&out->addr[i], port);
        r->stats.numeric++;
        return TIDE_RESOLVE_DONE;
    }
    if (strlen(host) > TIDE_RESOLVER_NAME_MAX || host[0] == '\0')
        return TIDE_RESOLVE_FAILED;
    int64_t now = now_of(r);
    struct tide_resolver_name *e = find(r, host);
    if (e != NULL && e->job == NULL && e->expires_us > now) {
        copy_out(&e->addrs, port, out);
        r->stats.hits++;
        return TIDE_RESOLVE_DONE;
    }
    if (e == NULL) {
        make_room(r, now);
        e = calloc(1, sizeof *e);
        if (e == NULL)
            return TIDE_RESOLVE_FAILED;
        memcpy(e->host, host, strlen(host) + 1);
        e->next = r->names;
        r->names = e;
        r->nnames++;
    }
    if (e->job != NULL) {
        r->stats.coalesced++;
    } else {
        struct job *j = calloc(1, sizeof *j);
        if (j == NULL ||
            (memcpy(j->host, host, strlen(host) + 1), j->name = e, !submit(r->sh, j))) {
            free(j);
            if (!busy(e) && e->waiters == NULL)
                unlink_name(r, e);
            return TIDE_RESOLVE_FAILED;
        }
        e->job = j;
        r->stats.lookups++;
    }
    w->out = out;
    w->port = port;
    w->name = e;
    w->next = e->waiters;
    e->waiters = w;
    return TIDE_RESOLVE_PENDING;
}

static bool unlink_wait(struct tide_resolve_wait **pp, struct tide_resolve_wait *w)
{
    for (; *pp != NULL; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            return true;
        }
    return false;
}

void tide_resolver_cancel(struct tide_resolve_wait *w)
{
    struct tide_resolver_name *e = w->name;
    if (e == NULL)
        return;
    if (!unlink_wait(&e->waiters, w))
        unlink_wait(&e->delivering_to, w);
    w->name = NULL;
    w->next = NULL;
}

bool tide_resolver_waiting(const struct tide_resolve_wait *w)
{
    return w->name != NULL;
}

void tide_resolver_stats(const struct tide_resolver *r, struct tide_resolver_stats *out)
{
    *out = r->stats;
    out->names = r->nnames;
}
