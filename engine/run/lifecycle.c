/* lifecycle.c: the lifecycle runner: one call-mode worker for the whole run. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "clock.h"
#include "lifecycle.h"
#include "log.h"

int tide_lifecycle_open(struct tide_lifecycle *lc, struct tide_shared *shared, lua_State *probe,
                        struct tide_err *err)
{
    memset(lc, 0, sizeof *lc);
    lc->cfg = shared->cfg;
    if (tide_worker_call_open(&lc->w, shared, probe, err) != 0) {
        tide_worker_call_close(&lc->w);
        return -1;
    }
    lc->open = true;
    return 0;
}

void tide_lifecycle_close(struct tide_lifecycle *lc)
{
    if (lc->open)
        tide_worker_call_close(&lc->w);
    lc->open = false;
}

int tide_lifecycle_call(struct tide_lifecycle *lc, const char *fname, const cJSON *arg,
                        const cJSON *extra, cJSON **result, bool *ran, struct tide_registry *reg,
                        struct tide_err *err)
{
    *result = NULL;
    *ran = false;
    if (!lc->open)
        return tide_err_set(err, "internal: the lifecycle runner is not open");
    int64_t limit =
        strcmp(fname, "setup") == 0 ? lc->cfg->setup_timeout_us : lc->cfg->teardown_timeout_us;
    return tide_worker_call(&lc->w, fname, arg, extra, limit, result, ran, reg, err);
}

void tide_lifecycle_hook(struct tide_lifecycle *lc, struct tide_audit *audit, const char *event,
                         const cJSON *arg)
{
    if (!lc->open)
        return;
    char fname[64];
    snprintf(fname, sizeof fname, "hook:%s", event);
    cJSON *res = NULL;
    bool ran = false;
    struct tide_err err = {{0}};
    int64_t t0 = tide_now_us();
    /* a hook may send its payload anywhere: it gets the redacted, privacy-filtered copy */
    cJSON *clean = arg != NULL ? cJSON_Duplicate(arg, true) : NULL;
    tide_redact_json(clean);
    int rc = tide_worker_call(&lc->w, fname, clean, NULL, lc->cfg->hook_timeout_us, &res, &ran,
                              NULL, &err);
    cJSON_Delete(clean);
    cJSON_Delete(res);
    if (rc == 0 && !ran)
        return; /* no handler for this event */
    double ms = (double)(tide_now_us() - t0) / 1000.0;
    if (rc == TIDE_CALL_STOPPED)
        tide_log(TIDE_LOG_ERROR, "hook %s: %s", event, err.msg);
    else if (rc != 0)
        tide_log(TIDE_LOG_ERROR, "hook %s failed: %s", event, err.msg);
    if (audit == NULL)
        return;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "event", event);
    cJSON_AddNumberToObject(f, "ms", round(ms * 1000) / 1000);
    cJSON_AddBoolToObject(f, "ok", rc == 0);
    if (rc != 0)
        cJSON_AddStringToObject(f, "error", err.msg);
    tide_audit_event(audit, "hook", f);
}
