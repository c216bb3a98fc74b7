/* lifecycle.h: the run's lifecycle runner. setup(), teardown(), verify(), handle_summary() and
 * every business hook (tide.hooks.on) run in one call-mode worker on the coordinator's thread,
 * opened once per run: one Lua state, one loop, one HTTP driver, and one environment where the
 * scenario's top level and the --plugin files run once (the top level in the options probe,
 * whose state this takes over). Each call is bounded by its time limit
 * (options.setup_timeout, teardown_timeout, hook_timeout / --hook-timeout). */
#ifndef TIDE_LIFECYCLE_H
#define TIDE_LIFECYCLE_H
#include <stdbool.h>
#include <cJSON.h>
#include "audit.h"
#include "err.h"
#include "worker.h"

struct tide_lifecycle {
    struct tide_worker w;
    const struct tide_config *cfg;
    bool open;
};

/* 'probe' (taken over; may be NULL) is the options probe's state (tide_options_build_keep):
 * the top level already ran there, so it does not run again. */
int tide_lifecycle_open(struct tide_lifecycle *lc, struct tide_shared *shared, lua_State *probe,
                        struct tide_err *err);
void tide_lifecycle_close(struct tide_lifecycle *lc); /* safe on one never opened */

/* Runs env[fname](arg, extra): "setup" under cfg->setup_timeout_us, the others under
 * cfg->teardown_timeout_us. Returns as tide_worker_call (0, -1, TIDE_CALL_ABORTED,
 * TIDE_CALL_STOPPED with "still running after N s, stopped"). */
int tide_lifecycle_call(struct tide_lifecycle *lc, const char *fname, const cJSON *arg,
                        const cJSON *extra, cJSON **result, bool *ran, struct tide_registry *reg,
                        struct tide_err *err);

/* Runs the handlers of 'event' under cfg->hook_timeout_us. A failure or a stop is printed on
 * one line and never changes the run; each run is logged as a "hook" event in 'audit' (none
 * when NULL). */
void tide_lifecycle_hook(struct tide_lifecycle *lc, struct tide_audit *audit, const char *event,
                         const cJSON *arg);

#endif
