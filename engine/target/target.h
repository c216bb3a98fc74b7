/* target.h: 'tide target', the built-in reference API (docs/target.md): an in-memory HTTP/1.1
 * keep-alive server on loopback with test routes, a small multi-tenant projects API, /_stats
 * counters and fault injection. It runs on its own thread with its own libev loop. */
#ifndef TIDE_TARGET_H
#define TIDE_TARGET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define TIDE_TARGET_MAX_BODY    (8u << 20) /* default request body limit (bytes); beyond: 413 */
#define TIDE_TARGET_ERROR_RULES 8

enum tide_target_dist {
    TIDE_TARGET_DIST_NONE,
    TIDE_TARGET_DIST_UNIFORM, /* a..b */
    TIDE_TARGET_DIST_EXP,     /* mean a */
    TIDE_TARGET_DIST_BIMODAL, /* a with probability p, else b */
};

struct tide_target_error_rule {
    double rate;    /* probability in [0, 1] */
    int status;     /* 500..599 */
    char route[64]; /* "*", a route as /_stats names it ("/api/projects/{id}"), maybe with a
                       method ("GET /api/projects"), maybe ending in a star for a prefix ("/api/" +
                       star) */
};

/* Faults apply to every route but /_stats and /_faults. All zero: none. */
struct tide_target_faults {
    int64_t delay_us;           /* fixed delay before each response */
    enum tide_target_dist dist; /* random delay, added to the fixed one */
    int64_t dist_a_us, dist_b_us;
    double dist_p;
    int64_t stall_for_us, stall_every_us; /* from each multiple of 'every' after the faults were
                                             set, hold all responses for 'for' */
    struct tide_target_error_rule errors[TIDE_TARGET_ERROR_RULES]; /* first match applies */
    int n_errors;
    double reset_rate;     /* close with a TCP RST instead of answering */
    int64_t slow_body_us;  /* send each body in 10 pieces spread over this long */
    double malformed_rate; /* answer with a garbage status line, then close */
    bool drop_writes;      /* project writes answer success and change nothing */
    bool tenant_leak;      /* list and search show all tenants' projects */
    /* The user routes' promises, each broken on purpose (docs/target.md#faults): */
    bool leaky_erasure;     /* erasure answers its receipt but keeps the user's projects */
    bool incomplete_export; /* export leaves out the user's newest project */
    bool skip_audit;        /* deletions and erasures leave no audit record */
    bool broken_authz;      /* roles and tenant bindings are not checked (tokens still are) */
};

struct tide_target_opts {
    const char *bind_host;  /* default "127.0.0.1"; loopback only: 127.0.0.0/8, ::1, localhost */
    int port;               /* 0: a free port (see tide_target_port) */
    const char *users_file; /* CSV or JSON (see target_store.h); NULL: built-in users */
    size_t max_body;        /* request body limit; 0: TIDE_TARGET_MAX_BODY */
    uint64_t seed;          /* of the faults' randomness; 0: random */
    bool precise;           /* µs timers (select backend, <= 1000 connections): for accuracy
                               tests, where epoll's whole milliseconds would skew delays */
    struct tide_target_faults faults;
};

/* Options and faults. */

void tide_target_opts_init(struct tide_target_opts *o); /* the defaults, no faults */

/* Sets one fault from its command-line form: 'name' is the flag without "--" ('_' or '-'),
 * 'value' its argument ("20ms", "exp:20ms", "1s/5s", "0.1:503:/api/projects", "true"); NULL turns
 * the fault off. "error-rate" adds a rule. Used by the CLI and by POST /_faults. */
int tide_target_faults_set(struct tide_target_faults *f, const char *name, const char *value,
                           struct tide_err *err);

/* Lifetime. */

struct tide_target;

/* Binds, listens and starts serving on a new thread. NULL with 'err' set when the address is not
 * loopback, the port is taken or the users file is bad. */
struct tide_target *tide_target_start(const struct tide_target_opts *o, struct tide_err *err);
int tide_target_port(const struct tide_target *t); /* the bound port */
void tide_target_stop(struct tide_target *t);      /* closes all, joins, frees; NULL is fine */

/* Command. */

/* 'tide target [options]' with argv[0] the command name: prints "tide target listening on
 * http://127.0.0.1:PORT" on stdout, serves until SIGINT or SIGTERM, returns 0. Bad options, or
 * a failure to start (port taken, bad users file): one line "tide: target: ..." on stderr and 2.
 * '--help' prints the usage on stdout and returns 0. */
int tide_target_main(int argc, char **argv);

#endif
