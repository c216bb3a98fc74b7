/* plugins.c: finding, loading and listing plugin packages. */
#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "audit.h"
#include "fsutil.h"
#include "log.h"
#include "luaerr.h"
#include "plugins.h"
#include "sandbox.h"
#include "treehash.h"
#include "vu.h"

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The search folders, in order, into dirs (each PATH_MAX); returns how many. */
static int search_dirs(const char *script_dir, char dirs[][PATH_MAX], int max)
{
    int n = 0;
    if (script_dir != NULL && n < max)
        snprintf(dirs[n++], PATH_MAX, "%s/plugins", script_dir);
    if (n < max)
        snprintf(dirs[n++], PATH_MAX, "plugins");
    const char *env = getenv("TIDE_PLUGIN_PATH");
    if (env != NULL) {
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", env);
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d != NULL && n < max;
             d = strtok_r(NULL, ":", &save))
            snprintf(dirs[n++], PATH_MAX, "%s", d);
    }
    if (n < max)
        snprintf(dirs[n++], PATH_MAX, "%s", TIDE_PLUGIN_INSTALL_DIR);
    return n;
}

/* NAME in folder 'dir': dir/NAME.lua or dir/NAME/plugin.lua. */
static bool find_in(const char *dir, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s.lua", dir, name);
    if (is_file(out))
        return true;
    snprintf(out, len, "%s/%s/plugin.lua", dir, name);
    return is_file(out);
}

int tide_plugins_resolve(const char *spec, const char *script_dir, char *out, size_t len,
                         struct tide_err *err)
{
    bool is_path = strchr(spec, '/') != NULL || strstr(spec, ".lua") != NULL;
    if (is_path) {
        if (is_dir(spec)) {
            snprintf(out, len, "%s/plugin.lua", spec);
            if (!is_file(out))
                return tide_err_set(err, "plugin %s: a folder without plugin.lua", spec);
            return 0;
        }
        if (!is_file(spec))
            return tide_err_set(err, "plugin %s: %s", spec,
                                errno ? strerror(errno) : "not a regular file");
        snprintf(out, len, "%s", spec);
        return 0;
    }
    char dirs[8][PATH_MAX];
    int n = search_dirs(script_dir, dirs, 8);
    for (int i = 0; i < n; i++) {
        if (find_in(dirs[i], spec, out, len))
            return 0;
    }
    char searched[2048] = "";
    for (int i = 0; i < n; i++) {
        size_t l = strlen(searched);
        snprintf(searched + l, sizeof searched - l, "%s%s/", i ? ", " : "", dirs[i]);
    }
    return tide_err_set(err, "plugin \"%s\" not found (searched %s; `tide plugins` lists them)",
                        spec, searched);
}

static int add_plugin(struct tide_config *cfg, const char *path, struct tide_err *err)
{
    char real[PATH_MAX];
    const char *key = realpath(path, real) != NULL ? real : path;
    for (int i = 0; i < cfg->nplugins; i++) {
        if (strcmp(cfg->plugins[i], key) == 0)
            return 0; /* named twice: loaded once */
    }
    char **g = realloc(cfg->plugins, (size_t)(cfg->nplugins + 2) * sizeof *g);
    if (g == NULL)
        return tide_err_set(err, "out of memory");
    cfg->plugins = g;
    g[cfg->nplugins++] = strdup(key);
    g[cfg->nplugins] = NULL;
    return 0;
}

/* Whether a package named 'name' is set up already in L (tide.plugins._loaded). */
static bool is_loaded(lua_State *L, const char *name)
{
    int top = lua_gettop(L);
    bool yes = false;
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.loaded");
    if (lua_istable(L, -1) && lua_getfield(L, -1, "tide.plugins") == LUA_TTABLE &&
        lua_getfield(L, -1, "_loaded") == LUA_TTABLE)
        yes = lua_getfield(L, -1, name) == LUA_TTABLE;
    lua_settop(L, top);
    return yes;
}

static int exec_last(lua_State *L, int env, struct tide_config *cfg, int from, struct tide_err *err)
{
    for (int i = from; i < cfg->nplugins; i++) {
        if (tide_plugin_exec(L, env, cfg->plugins[i]) != 0) {
            char msg[1024];
            tide_err_set(err, "plugin %s", tide_lua_errtext(L, -1, msg, sizeof msg));
            lua_pop(L, 1);
            return -1;
        }
    }
    return 0;
}

/* The names in options.plugins (a table { name = opts }) at 'env'.options that no --plugin
 * set up already: found by name and run. */
static int option_plugins(lua_State *L, int env, struct tide_config *cfg, struct tide_err *err)
{
    int top = lua_gettop(L);
    int rc = 0;
    if (lua_getfield(L, env, "options") == LUA_TTABLE) {
        int t = lua_getfield(L, -1, "plugins");
        if (t == LUA_TTABLE) {
            lua_pushnil(L);
            while (rc == 0 && lua_next(L, -2) != 0) {
                char path[PATH_MAX];
                int from = cfg->nplugins;
                if (lua_type(L, -2) != LUA_TSTRING)
                    rc = tide_err_set(err, "options.plugins: expected { name = options }");
                else if (is_loaded(L, lua_tostring(L, -2)))
                    ;
                else if (tide_plugins_resolve(lua_tostring(L, -2), cfg->script_dir, path,
                                              sizeof path, err) != 0 ||
                         add_plugin(cfg, path, err) != 0 || exec_last(L, env, cfg, from, err) != 0)
                    rc = -1;
                lua_pop(L, 1);
            }
        } else if (t != LUA_TNIL) {
            rc = tide_err_set(err, "options.plugins: expected { name = options }");
        }
    }
    lua_settop(L, top);
    return rc;
}

static char *field_str(lua_State *L, int idx, const char *k)
{
    lua_getfield(L, idx, k);
    char *v = lua_isstring(L, -1) ? strdup(lua_tostring(L, -1)) : strdup("");
    lua_pop(L, 1);
    return v;
}

/* A file plugin: the sha256 of its file. A folder plugin (DIR/plugin.lua): the tree hash of
 * DIR (treehash.h), so a changed helper or data file changes it too. */
static void plugin_sha256(const char *path, char hex[65])
{
    size_t n = strlen(path), tail = strlen("/plugin.lua");
    if (n > tail && strcmp(path + n - tail, "/plugin.lua") == 0) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%.*s", (int)(n - tail), path);
        if (tide_tree_sha256(dir, hex, NULL) == 0)
            return;
    }
    size_t len = 0;
    char *data = tide_fs_read_all(path, &len, NULL);
    tide_sha256_hex(data != NULL ? data : "", data != NULL ? len : 0, hex);
    free(data);
}

/* cfg->plugin_info from require("tide").plugins._list() in the probe. */
static void record_loaded(lua_State *L, int env, struct tide_config *cfg)
{
    int top = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.loaded");
    if (!lua_istable(L, -1) || lua_getfield(L, -1, "tide.plugins") != LUA_TTABLE ||
        lua_getfield(L, -1, "_list") != LUA_TFUNCTION || lua_pcall(L, 0, 1, 0) != LUA_OK ||
        !lua_istable(L, -1)) {
        lua_settop(L, top);
        return;
    }
    (void)env;
    int n = (int)lua_rawlen(L, -1);
    cfg->plugin_info = calloc((size_t)(n > 0 ? n : 1), sizeof *cfg->plugin_info);
    for (int i = 1; cfg->plugin_info != NULL && i <= n; i++) {
        lua_rawgeti(L, -1, i);
        struct tide_plugin_info *p = &cfg->plugin_info[cfg->nplugin_info++];
        p->name = field_str(L, -1, "name");
        p->version = field_str(L, -1, "version");
        p->path = field_str(L, -1, "path");
        plugin_sha256(p->path, p->sha256);
        lua_pop(L, 1);
    }
    lua_settop(L, top);
}

int tide_plugins_load(lua_State *L, int env, const struct tide_cli *cli, struct tide_config *cfg,
                      struct tide_err *err)
{
    env = lua_absindex(L, env);
    for (int i = 0; i < cli->nplugins; i++) {
        char path[PATH_MAX];
        if (tide_plugins_resolve(cli->plugins[i], cfg->script_dir, path, sizeof path, err) != 0 ||
            add_plugin(cfg, path, err) != 0)
            return -1;
    }
    if (exec_last(L, env, cfg, 0, err) != 0 || option_plugins(L, env, cfg, err) != 0)
        return -1;
    record_loaded(L, env, cfg);
    return 0;
}

cJSON *tide_plugins_json(const struct tide_config *cfg)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < cfg->nplugin_info; i++) {
        const struct tide_plugin_info *p = &cfg->plugin_info[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", p->name);
        cJSON_AddStringToObject(o, "version", p->version);
        cJSON_AddStringToObject(o, "path", p->path);
        cJSON_AddStringToObject(o, "sha256", p->sha256);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* --- tide plugins --- */

/* Loads 'path' in a fresh sandbox (without calling setup) and prints one line about it. */
static bool list_one(const char *dir, const char *name, const char *path)
{
    struct tide_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.script_dir = (char *)dir;
    struct tide_err err = {{0}};
    lua_State *L = tide_sandbox_new(&cfg, &err);
    if (L == NULL)
        return false;
    bool ok = false;
    char msg[1024] = "";
    lua_newtable(L); /* env */
    lua_newtable(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.base");
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    if (luaL_loadfilex(L, path, "t") == LUA_OK) {
        lua_pushvalue(L, -2);
        lua_setupvalue(L, -2, 1);
        if (lua_pcall(L, 0, 1, 0) == LUA_OK) {
            ok = true;
            if (lua_istable(L, -1)) {
                char *pn = field_str(L, -1, "name"), *pv = field_str(L, -1, "version");
                printf("%-16s %-10s %s\n", pn[0] ? pn : name, pv[0] ? pv : "-", path);
                free(pn);
                free(pv);
            } else {
                printf("%-16s %-10s %s (plain file)\n", name, "-", path);
            }
        } else {
            tide_lua_errtext(L, -1, msg, sizeof msg);
        }
    } else {
        tide_lua_errtext(L, -1, msg, sizeof msg);
    }
    if (!ok)
        printf("%-16s %-10s %s (not loadable: %s)\n", name, "-", path, msg);
    lua_close(L);
    return ok;
}

int tide_plugins_main(int argc, char **argv)
{
    char script_dir[PATH_MAX] = "";
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: tide plugins [SCENARIO]\n"
                   "Lists the plugins found by name (the scenario's plugins/, ./plugins/,\n"
                   "TIDE_PLUGIN_PATH, %s) and whether each loads.\n",
                   TIDE_PLUGIN_INSTALL_DIR);
            return 0;
        }
        char real[PATH_MAX];
        if (argv[i][0] == '-' || realpath(argv[i], real) == NULL) {
            tide_log(TIDE_LOG_ERROR, "plugins: %s: %s", argv[i],
                     argv[i][0] == '-' ? "unknown flag" : strerror(errno));
            return 2;
        }
        char *slash = strrchr(real, '/');
        if (slash != NULL)
            *slash = '\0';
        snprintf(script_dir, sizeof script_dir, "%s", real);
    }
    char dirs[8][PATH_MAX];
    int n = search_dirs(script_dir[0] ? script_dir : NULL, dirs, 8);
    int found = 0, bad = 0;
    printf("%-16s %-10s %s\n", "NAME", "VERSION", "PATH");
    for (int i = 0; i < n; i++) {
        DIR *d = opendir(dirs[i]);
        if (d == NULL)
            continue;
        struct dirent *e;
        char **names = NULL;
        int nn = 0;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char **g = realloc(names, (size_t)(nn + 1) * sizeof *g);
            if (g == NULL)
                break;
            names = g;
            names[nn++] = strdup(e->d_name);
        }
        closedir(d);
        for (int a = 1; a < nn; a++) /* sorted, for a stable listing */
            for (int b = a; b > 0 && strcmp(names[b - 1], names[b]) > 0; b--) {
                char *t = names[b];
                names[b] = names[b - 1];
                names[b - 1] = t;
            }
        for (int k = 0; k < nn; k++) {
            char path[PATH_MAX * 2], name[256];
            snprintf(name, sizeof name, "%s", names[k]);
            size_t l = strlen(name);
            int pn;
            if (l > 4 && strcmp(name + l - 4, ".lua") == 0) {
                name[l - 4] = '\0';
                pn = snprintf(path, sizeof path, "%s/%s", dirs[i], names[k]);
            } else {
                pn = snprintf(path, sizeof path, "%s/%s/plugin.lua", dirs[i], names[k]);
            }
            if (pn > 0 && pn < (int)sizeof path && is_file(path)) {
                found++;
                bad += !list_one(dirs[i], name, path);
            }
            free(names[k]);
        }
        free(names);
    }
    if (found == 0)
        printf("(no plugin found)\n");
    return bad > 0 ? 1 : 0;
}
