/* lifecycle.h: the run's lifecycle runner. setup(), teardown(), verify(), handle_summary() and
 * every business hook (tide.hooks.on, docs/extending.md) run in one call-mode worker on the
 * coordinator's thread, opened once per run: one Lua state, one loop, one HTTP driver, and one
 * environment where the scenario's top level and the --plugin files run once (the top level in the
 * options probe, whose state this takes over). Each call is bounded by its time limit
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
    cJSON *failures;      /* the hooks that failed, in order (NULL: none) */
    bool required_failed; /* a required hook failed: the run fails (docs/extending.md) */
    char required_msg[700];
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

/* verify(data, summary) with 'summary' the load's results (metrics, series, endpoints, checks,
 * errors as in summary.json): returns summary.json's "verify" section ({ ran, ok, error,
 * checks }), with *ok false when it raised, was stopped or a check of it failed (then also a
 * line on stderr when it raised or was stopped). Shared by a run and by `tide merge --verify`,
 * so both judge and report verify() alike. */
cJSON *tide_lifecycle_verify(struct tide_lifecycle *lc, const cJSON *data, const cJSON *summary,
                             bool *ok);

/* Runs the handlers of 'event' under cfg->hook_timeout_us, with a redacted copy of 'arg'
 * (the privacy filter applies to everything a hook sees). Every handler runs, in registration
 * order; one that raises, returns false or is stopped at the time limit is a failure: printed
 * on one line and kept in lc->failures ({ event, hook, required, error }). A required one sets
 * lc->required_failed and lc->required_msg (the first). Each run is logged as a "hook" event
 * in 'audit' (none when NULL, or when no handler ran). Returns the number of failures. */
int tide_lifecycle_hook(struct tide_lifecycle *lc, struct tide_audit *audit, const char *event,
                        const cJSON *arg);

/* Whether any handler runs on 'event' (so a payload need not be built). */
bool tide_lifecycle_has_hook(struct tide_lifecycle *lc, const char *event);

#endif
