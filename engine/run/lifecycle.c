/* lifecycle.c: the lifecycle runner: one call-mode worker for the whole run. */
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "lifecycle.h"
#include "log.h"
#include "lua_runfiles.h"
#include "summary.h"

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
    cJSON_Delete(lc->failures);
    lc->failures = NULL;
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

cJSON *tide_lifecycle_verify(struct tide_lifecycle *lc, const cJSON *data, const cJSON *summary,
                             bool *ok)
{
    cJSON *v = cJSON_CreateObject();
    struct tide_registry *reg = tide_registry_new();
    cJSON *res = NULL;
    bool ran = false;
    struct tide_err err = {{0}};
    int rc = tide_lifecycle_call(lc, "verify", data, summary, &res, &ran, reg, &err);
    cJSON_Delete(res);
    cJSON *checks = tide_summary_checks(reg); /* its checks, apart from the load's */
    bool all = rc == 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, checks)
    {
        if (cJSON_GetObjectItem(c, "fails")->valuedouble > 0)
            all = false;
    }
    cJSON_AddBoolToObject(v, "ran", ran || rc != 0);
    cJSON_AddBoolToObject(v, "ok", all);
    if (rc != 0) {
        char *m = tide_redact(err.msg);
        cJSON_AddStringToObject(v, "error", m != NULL ? m : "");
        free(m);
        tide_log(TIDE_LOG_ERROR, rc == TIDE_CALL_STOPPED ? "verify(): %s" : "verify() failed: %s",
                 err.msg);
    } else {
        cJSON_AddNullToObject(v, "error");
    }
    cJSON_AddItemToObject(v, "checks", checks);
    tide_registry_free(reg);
    *ok = all;
    return v;
}

bool tide_lifecycle_has_hook(struct tide_lifecycle *lc, const char *event)
{
    if (!lc->open || lc->w.L == NULL)
        return false;
    lua_State *L = lc->w.L;
    int top = lua_gettop(L);
    bool has = false;
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.loaded");
    if (lua_istable(L, -1) && lua_getfield(L, -1, "tide") == LUA_TTABLE &&
        lua_getfield(L, -1, "hooks") == LUA_TTABLE &&
        lua_getfield(L, -1, "_handlers") == LUA_TTABLE)
        has = lua_getfield(L, -1, event) == LUA_TTABLE && lua_rawlen(L, -1) > 0;
    lua_settop(L, top);
    return has;
}

/* One failed hook: its line on stderr and its record. */
static void hook_failed(struct tide_lifecycle *lc, const char *event, const char *hook,
                        bool required, const char *error)
{
    char *clean = tide_redact(error);
    const char *msg = clean != NULL ? clean : "";
    if (required) {
        tide_log(TIDE_LOG_ERROR, "required hook %s (%s) failed: %s", hook, event, msg);
        if (!lc->required_failed)
            snprintf(lc->required_msg, sizeof lc->required_msg, "required hook %s (%s) failed: %s",
                     hook, event, msg);
        lc->required_failed = true;
    } else {
        tide_log(TIDE_LOG_WARN, "hook %s failed (%s): %s", event, hook, msg);
    }
    if (lc->failures == NULL)
        lc->failures = cJSON_CreateArray();
    if (cJSON_GetArraySize(lc->failures) < 100) { /* bounded: a hook failing every event */
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "event", event);
        cJSON_AddStringToObject(f, "hook", hook);
        cJSON_AddBoolToObject(f, "required", required);
        cJSON_AddStringToObject(f, "error", msg);
        cJSON_AddItemToArray(lc->failures, f);
    }
    free(clean);
}

int tide_lifecycle_hook(struct tide_lifecycle *lc, struct tide_audit *audit, const char *event,
                        const cJSON *arg)
{
    if (!lc->open || !tide_lifecycle_has_hook(lc, event))
        return 0;
    char fname[64];
    snprintf(fname, sizeof fname, "hook:%s", event);
    cJSON *res = NULL;
    bool ran = false;
    struct tide_err err = {{0}};
    cJSON *payload = arg != NULL ? cJSON_Duplicate(arg, 1) : cJSON_CreateObject();
    tide_redact_json(payload); /* nothing a hook can send out holds a secret */
    int64_t t0 = tide_now_us();
    int rc = tide_worker_call(&lc->w, fname, payload, NULL, lc->cfg->hook_timeout_us, &res, &ran,
                              NULL, &err);
    cJSON_Delete(payload);
    if (rc == 0 && !ran) {
        cJSON_Delete(res);
        return 0; /* no handler for this event */
    }
    double ms = (double)(tide_now_us() - t0) / 1000.0;
    int nfailed = 0;
    if (rc != 0) { /* stopped at the time limit, or the driver itself failed */
        char hook[200] = "";
        bool required = false;
        if (!tide_runfiles_current_hook(lc->w.L, hook, sizeof hook, &required))
            snprintf(hook, sizeof hook, "%s", event);
        if (rc == TIDE_CALL_STOPPED)
            tide_log(TIDE_LOG_ERROR, "hook %s: %s", event, err.msg);
        hook_failed(lc, event, hook, required, err.msg);
        nfailed = 1;
    }
    const cJSON *f, *list = cJSON_IsArray(res) ? res : NULL;
    cJSON_ArrayForEach(f, list)
    {
        const cJSON *h = cJSON_GetObjectItem(f, "hook"), *e = cJSON_GetObjectItem(f, "error");
        hook_failed(lc, event, cJSON_IsString(h) ? h->valuestring : event,
                    cJSON_IsTrue(cJSON_GetObjectItem(f, "required")),
                    cJSON_IsString(e) ? e->valuestring : "failed");
        nfailed++;
    }
    if (audit != NULL) {
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "event", event);
        cJSON_AddNumberToObject(ev, "ms", round(ms * 1000) / 1000);
        cJSON_AddBoolToObject(ev, "ok", nfailed == 0);
        if (rc != 0)
            cJSON_AddStringToObject(ev, "error", err.msg);
        else if (nfailed > 0)
            cJSON_AddItemToObject(ev, "failed", cJSON_Duplicate(res, 1));
        tide_audit_event(audit, "hook", ev);
    }
    cJSON_Delete(res);
    return nfailed;
}
