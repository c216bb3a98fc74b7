/* privacy_options.c: options.privacy, --no-samples, --allow-hosts (privacy_options.h). */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include "allowhosts.h"
#include "log.h"
#include "privacy.h"
#include "privacy_options.h"

/* privacy.<field> = { "pattern", ... } */
static int read_list(lua_State *L, int tbl, const char *field, int kind, struct tide_err *err)
{
    int t = lua_getfield(L, tbl, field);
    int rc = 0;
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (t != LUA_TTABLE) {
        lua_pop(L, 1);
        return tide_err_set(err, "options.privacy.%s must be a list of strings", field);
    }
    int list = lua_gettop(L);
    for (lua_Integer i = 1; rc == 0; i++) {
        int vt = lua_geti(L, list, i);
        if (vt == LUA_TNIL) {
            lua_pop(L, 1);
            break;
        }
        if (vt != LUA_TSTRING) {
            rc =
                tide_err_set(err, "options.privacy.%s[%lld] must be a string", field, (long long)i);
        } else if (kind < 0) {
            rc = tide_privacy_keep(lua_tostring(L, -1), err);
        } else {
            rc = tide_privacy_add_rule((enum tide_privacy_action)kind, lua_tostring(L, -1), err);
            if (rc != 0) /* say where: the filter's message names the pattern */
                rc = tide_err_set(err, "options.privacy.%s[%lld]: %s", field, (long long)i,
                                  strstr(err->msg, ": ") ? strstr(err->msg, ": ") + 2 : err->msg);
        }
        lua_pop(L, 1);
    }
    lua_settop(L, list - 1);
    return rc;
}

int tide_privacy_options_read(lua_State *L, int opts, struct tide_err *err)
{
    tide_privacy_reset();
    if (!lua_istable(L, opts))
        return 0;
    int t = lua_getfield(L, opts, "privacy");
    int tbl = lua_gettop(L), rc = 0;
    if (t == LUA_TNIL || (t == LUA_TBOOLEAN && lua_toboolean(L, tbl))) {
        /* the defaults */
    } else if (t == LUA_TBOOLEAN) {
        tide_privacy_set_enabled(false);
    } else if (t != LUA_TTABLE) {
        rc = tide_err_set(err, "options.privacy must be false or a table "
                               "{ drop = {...}, pseudonymise = {...}, keep = {...} }");
    } else {
        lua_pushnil(L);
        while (rc == 0 && lua_next(L, tbl) != 0) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
            if (strcmp(k, "drop") != 0 && strcmp(k, "pseudonymise") != 0 &&
                strcmp(k, "pseudonymize") != 0 && strcmp(k, "keep") != 0)
                rc = tide_err_set(err,
                                  "options.privacy: unknown key '%s' (drop, pseudonymise, "
                                  "keep)",
                                  k);
            lua_pop(L, 1);
        }
        lua_settop(L, tbl);
        if (rc == 0)
            rc = read_list(L, tbl, "drop", TIDE_PRIVACY_DROP, err);
        if (rc == 0)
            rc = read_list(L, tbl, "pseudonymise", TIDE_PRIVACY_PSEUDONYMISE, err);
        if (rc == 0)
            rc = read_list(L, tbl, "pseudonymize", TIDE_PRIVACY_PSEUDONYMISE, err);
        if (rc == 0)
            rc = read_list(L, tbl, "keep", -1, err);
    }
    lua_settop(L, tbl - 1);
    return rc;
}

void tide_privacy_options_url_secrets(const char *url)
{
    const char *p = url != NULL ? strstr(url, "://") : NULL;
    if (p == NULL)
        return;
    p += 3;
    size_t auth = strcspn(p, "/?#");
    size_t at = auth;
    while (at > 0 && p[at - 1] != '@')
        at--;
    if (at == 0)
        return;
    char *userinfo = strndup(p, at - 1);
    if (userinfo == NULL)
        return;
    tide_secret_add(userinfo);
    char *colon = strchr(userinfo, ':');
    if (colon != NULL)
        tide_secret_add(colon + 1); /* the password, wherever else it shows */
    else
        tide_secret_add(userinfo); /* a token as the user name */
    free(userinfo);
}

int tide_privacy_options_apply(const struct tide_cli *cli, const struct tide_config *cfg,
                               struct tide_err *err)
{
    tide_privacy_options_url_secrets(cfg->host);
    if (cli->no_samples)
        tide_privacy_set_samples(false);
    if (tide_allow_hosts_set(cli->allow_hosts, err) != 0)
        return -1;
    char host[256];
    if (cfg->host != NULL && tide_allow_hosts_url_host(cfg->host, host, sizeof host) &&
        !tide_allow_hosts_permits(host))
        return tide_err_set(err, "--allow-hosts: the host %s is not in the list (%s)", host,
                            tide_allow_hosts_list());
    return 0;
}
