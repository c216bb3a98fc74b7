/* cmd_events.c: hooks for export, purge and merge (see cmd_events.h). */
#include <errno.h>
#include <lauxlib.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd_events.h"
#include "duration.h"
#include "fsutil.h"
#include "log.h"
#include "lua_runfiles.h"
#include "luaerr.h"
#include "plugins.h"
#include "run.h"
#include "sandbox.h"

#define DEFAULT_HOOK_TIMEOUT_US 10000000 /* as a run's (docs/extending.md) */

static int usage_error(const char *cmd, const char *msg, const char *what)
{
    fprintf(stderr, "tide: %s: %s%s\n", cmd, msg, what);
    return TIDE_EXIT_USAGE;
}

int tide_cmd_events_take(struct tide_cmd_events *ce, const char *cmd, int *argc, char **argv,
                         bool keep_script)
{
    memset(ce, 0, sizeof *ce);
    ce->cmd = cmd;
    ce->hook_timeout_us = -1;
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        bool hooks_flag = strcmp(a, "--plugin") == 0 || strcmp(a, "--hook-timeout") == 0 ||
                          (!keep_script && strcmp(a, "--script") == 0);
        if (!hooks_flag) {
            argv[out++] = argv[i];
            continue;
        }
        if (i + 1 >= *argc)
            return usage_error(cmd, a, " needs a value");
        const char *v = argv[++i];
        struct tide_err err = {{0}};
        if (strcmp(a, "--plugin") == 0) {
            if (ce->nplugins == TIDE_CLI_MAX)
                return usage_error(cmd, "too many --plugin", "");
            ce->plugins[ce->nplugins++] = v;
        } else if (strcmp(a, "--script") == 0) {
            ce->script = v;
        } else if (tide_duration_parse(v, &ce->hook_timeout_us, &err) != 0) {
            return usage_error(cmd, "--hook-timeout: ", err.msg);
        }
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

bool tide_cmd_events_wanted(const struct tide_cmd_events *ce)
{
    return ce->script != NULL || ce->nplugins > 0;
}

/* The script (or an empty one, when only plugins bring hooks) into ce->cfg. */
static int read_script(struct tide_cmd_events *ce, struct tide_err *err)
{
    struct tide_config *cfg = &ce->cfg;
    char real[PATH_MAX];
    const char *path = ce->script != NULL ? ce->script : ".";
    if (realpath(path, real) == NULL)
        return tide_err_set(err, "%s: %s", path, strerror(errno));
    if (ce->script == NULL) {
        cfg->script_source = strdup("");
        cfg->script_dir = strdup(real);
        cfg->script_path = strdup("(--plugin)");
        cfg->script_name = strdup("plugins");
        return cfg->script_source != NULL ? 0 : tide_err_set(err, "out of memory");
    }
    cfg->script_source = tide_fs_read_all(ce->script, &cfg->script_len, NULL);
    if (cfg->script_source == NULL)
        return tide_err_set(err, "cannot read %s: %s", ce->script, strerror(errno));
    cfg->script_path = strdup(ce->script);
    cfg->script_name = strdup(basename(real));
    cfg->script_dir = strdup(dirname(real));
    return 0;
}

/* options.hook_timeout of the script's environment at 'env', unless --hook-timeout was given. */
static int read_hook_timeout(struct tide_cmd_events *ce, lua_State *L, int env,
                             struct tide_err *err)
{
    ce->cfg.hook_timeout_us = DEFAULT_HOOK_TIMEOUT_US;
    int rc = 0;
    if (lua_getfield(L, env, "options") == LUA_TTABLE) {
        int t = lua_getfield(L, -1, "hook_timeout");
        if (t == LUA_TSTRING)
            rc = tide_duration_parse(lua_tostring(L, -1), &ce->cfg.hook_timeout_us, err);
        else if (t == LUA_TNUMBER) /* seconds, as the run's options read a bare number */
            ce->cfg.hook_timeout_us = (int64_t)(lua_tonumber(L, -1) * 1e6);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (ce->hook_timeout_us >= 0)
        ce->cfg.hook_timeout_us = ce->hook_timeout_us;
    return rc;
}

/* The script's top level and the plugins in a new sandbox; the environment left on top. */
static lua_State *load_hooks(struct tide_cmd_events *ce, struct tide_err *err)
{
    lua_State *L = tide_sandbox_new(&ce->cfg, err);
    if (L == NULL || tide_sandbox_load_script(L, &ce->cfg, err) != 0)
        goto fail;
    lua_newtable(L); /* chunk, env: a scenario's environment, as the options probe makes it */
    lua_newtable(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.base");
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "_G");
    lua_pushvalue(L, -1);
    lua_setupvalue(L, -3, 1);
    lua_insert(L, -2); /* env, chunk */
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        char msg[1024];
        tide_err_set(err, "%s", tide_lua_errtext(L, -1, msg, sizeof msg));
        goto fail;
    }
    struct tide_cli cli;
    memset(&cli, 0, sizeof cli);
    for (int i = 0; i < ce->nplugins; i++)
        cli.plugins[i] = ce->plugins[i];
    cli.nplugins = ce->nplugins;
    if (tide_plugins_load(L, -1, &cli, &ce->cfg, err) != 0 ||
        read_hook_timeout(ce, L, lua_gettop(L), err) != 0)
        goto fail;
    return L;
fail:
    if (L != NULL)
        lua_close(L);
    return NULL;
}

int tide_cmd_events_open(struct tide_cmd_events *ce)
{
    if (!tide_cmd_events_wanted(ce) || ce->lc != NULL)
        return 0;
    struct tide_err err = {{0}};
    struct tide_config *cfg = &ce->cfg;
    cfg->verify_fails_run = true;
    cfg->setup_timeout_us = cfg->teardown_timeout_us = 60000000;
    lua_State *L = read_script(ce, &err) == 0 ? load_hooks(ce, &err) : NULL;
    if (L == NULL)
        return usage_error(ce->cmd, err.msg, "");
    ce->shared.cfg = cfg;
    ce->shared.new_state = tide_sandbox_open;
    ce->shared.shared_iters = calloc(1, sizeof *ce->shared.shared_iters);
    atomic_flag_clear(&ce->shared.abort_once);
    if (ce->shared.shared_iters == NULL ||
        tide_lifecycle_open(&ce->own, &ce->shared, L, &err) != 0) /* takes L */
        return usage_error(ce->cmd, err.msg[0] ? err.msg : "out of memory", "");
    ce->lc = &ce->own;
    return 0;
}

void tide_cmd_events_adopt(struct tide_cmd_events *ce, struct tide_lifecycle *lc)
{
    ce->lc = lc;
}

void tide_cmd_events_set_dir(struct tide_cmd_events *ce, const char *dir)
{
    if (ce->lc != NULL && ce->lc->open)
        tide_runfiles_set_dir(ce->lc->w.L, dir);
}

int tide_cmd_events_fire(struct tide_cmd_events *ce, struct tide_audit *audit, const char *event,
                         const cJSON *payload, int rc)
{
    if (ce->lc == NULL)
        return rc;
    tide_lifecycle_hook(ce->lc, audit, event, payload);
    if (rc != TIDE_EXIT_OK || !ce->lc->required_failed)
        return rc;
    fflush(stdout);
    tide_log(TIDE_LOG_ERROR, "failed: %s", ce->lc->required_msg);
    return TIDE_EXIT_THRESHOLDS;
}

void tide_cmd_events_close(struct tide_cmd_events *ce)
{
    tide_lifecycle_close(&ce->own);
    free(ce->shared.shared_iters);
    ce->shared.shared_iters = NULL;
    tide_config_free(&ce->cfg);
    memset(&ce->cfg, 0, sizeof ce->cfg);
    ce->lc = NULL;
}
