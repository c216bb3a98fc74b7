/* resolver.h: host names to addresses for the native client (native.c), without blocking the
 * worker's libev loop. A lookup runs getaddrinfo on a small pool of resolver threads (at most
 * TIDE_RESOLVER_THREADS per worker, started when needed, gone when idle) and its result comes
 * back to the loop through an ev_async; the worker's loop never waits for a name server.
 *
 * Per worker, a cache of names (TIDE_RESOLVER_MAX_NAMES at most, each kept for the TTL, 60 s
 * by default as libcurl's DNS cache) so a name is looked up once a minute, and lookups in
 * flight are shared: 1000 VUs asking for one name make one lookup and wait together. Numeric
 * addresses (127.0.0.1, ::1) never reach the resolver, and "localhost" or a name under
 * ".localhost" is 127.0.0.1 then ::1 without a lookup (RFC 6761, as libcurl 7.88 does), so both
 * transports connect to the same addresses. Every address is returned in the system's order
 * (RFC 6724 through getaddrinfo): the caller tries the next one when a connection fails.
 * Failures are not cached (libcurl does not cache them either).
 *
 * Why threads rather than c-ares: getaddrinfo reads /etc/hosts, nsswitch and resolv.conf exactly
 * as libcurl's threaded resolver does, so both transports find the same addresses; no new
 * dependency. Threads are detached: a worker that ends never waits for a slow name server (its
 * lookups finish into nothing and the last thread frees what they shared). */
#ifndef TIDE_RESOLVER_H
#define TIDE_RESOLVER_H
#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define TIDE_RESOLVER_MAX_ADDRS 8          /* addresses kept per name */
#define TIDE_RESOLVER_MAX_NAMES 256        /* names a worker keeps */
#define TIDE_RESOLVER_TTL_US    60000000LL /* as libcurl's CURLOPT_DNS_CACHE_TIMEOUT */
#define TIDE_RESOLVER_THREADS   4          /* lookups a worker runs at once */
#define TIDE_RESOLVER_NAME_MAX  255        /* longer names do not resolve (RFC 1035) */

/* An IPv4 or IPv6 address with its port (28 bytes, not sockaddr_storage's 128: each transfer
 * holds a set). */
union tide_sockaddr {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
};

/* The addresses of a name, in the order to try them. */
struct tide_addrs {
    int n;
    union tide_sockaddr addr[TIDE_RESOLVER_MAX_ADDRS];
    socklen_t len[TIDE_RESOLVER_MAX_ADDRS];
};

/* A blocking lookup of 'name', run on a resolver thread: fills 'out' (ports 0) and returns 0,
 * or returns an EAI_* code. tide_resolver_getaddrinfo is the real one; tests inject theirs. */
typedef int (*tide_lookup_fn)(const char *name, struct tide_addrs *out, void *ud);
int tide_resolver_getaddrinfo(const char *name, struct tide_addrs *out, void *ud);

struct tide_resolver_config {
    int64_t ttl_us;          /* 0: TIDE_RESOLVER_TTL_US */
    int max_names;           /* 0: TIDE_RESOLVER_MAX_NAMES */
    tide_lookup_fn lookup;   /* NULL: tide_resolver_getaddrinfo */
    void *lookup_ud;         /* shared with the resolver threads: the caller keeps it valid */
    int64_t (*now_us)(void); /* NULL: tide_now_us (tests move time by hand) */
};

struct tide_resolver;
/* NULL: out of memory (or no ev_async). 'cfg' NULL: the defaults. */
struct tide_resolver *tide_resolver_new(struct ev_loop *loop,
                                        const struct tide_resolver_config *cfg);
/* Every waiting request is dropped without its callback; lookups still running end into
 * nothing. NULL is fine. */
void tide_resolver_free(struct tide_resolver *r);

/* A request that waits for a lookup, kept alive by its owner (native.c embeds one per
 * transfer) until 'done' runs or tide_resolver_cancel. Zero it before its first use. */
struct tide_resolve_wait;
/* From the loop: 'status' 0 (w->out holds the addresses, with the port) or an EAI_* code. */
typedef void (*tide_resolved_fn)(struct tide_resolve_wait *w, int status);
struct tide_resolve_wait {
    tide_resolved_fn done;
    struct tide_addrs *out;
    /* the resolver's own */
    int port;
    struct tide_resolver_name *name;
    struct tide_resolve_wait *next;
};

enum { TIDE_RESOLVE_FAILED = -1, TIDE_RESOLVE_DONE = 0, TIDE_RESOLVE_PENDING = 1 };
/* The addresses of 'host' with 'port' into *out: TIDE_RESOLVE_DONE at once (numeric, localhost,
 * cached), TIDE_RESOLVE_PENDING (w->done runs later from the loop, never from inside this
 * call; 'w' and 'out' must stay valid), or TIDE_RESOLVE_FAILED (a name too long, out of
 * memory: nothing was asked). */
int tide_resolver_lookup(struct tide_resolver *r, const char *host, int port,
                         struct tide_addrs *out, struct tide_resolve_wait *w);
/* 'w' stops waiting: its callback will not run. Nothing happens when it is not waiting. */
void tide_resolver_cancel(struct tide_resolve_wait *w);
bool tide_resolver_waiting(const struct tide_resolve_wait *w);

/* What a resolver did, for tests and docs/http.md's claims. */
struct tide_resolver_stats {
    uint64_t numeric;   /* answered without a lookup: numeric or localhost */
    uint64_t hits;      /* from the cache */
    uint64_t lookups;   /* given to a resolver thread */
    uint64_t coalesced; /* waited for a lookup already running */
    uint64_t failures;  /* lookups that failed */
    int names;          /* names held now (cached or in flight) */
};
void tide_resolver_stats(const struct tide_resolver *r, struct tide_resolver_stats *out);

#endif
