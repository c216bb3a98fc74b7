/* sandbox.c: the scenario's environment and module loader. */
#include <fcntl.h>
#include <lauxlib.h>
#include <limits.h>
#include <lualib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "embedded.h"
#include "fsutil.h"
#include "loaded.h"
#include "log.h"
#include "lua_data.h"
#include "lua_http.h"
#include "lua_json.h"
#include "lua_tide.h"
#include "sandbox.h"
#include "vu.h"

static const char *const base_allowed[] = {
    "assert",   "error",  "getmetatable", "ipairs",   "next",   "pairs",        "pcall",
    "rawequal", "rawget", "rawlen",       "rawset",   "select", "setmetatable", "tonumber",
    "tostring", "type",   "xpcall",       "_VERSION", NULL,
};
static const char *const libs_allowed[] = {"string", "table", "math", "utf8", "coroutine", NULL};
static const char *const os_allowed[] = {"time", "clock", "date", "difftime", NULL};

/* The path of module 'mod' below 'dir': dots become slashes, ".lua" appended. */
static void module_path(const char *dir, const char *mod, char *path, size_t pathlen)
{
    char rel[512];
    snprintf(rel, sizeof rel, "%s", mod);
    for (char *p = rel; *p; p++) {
        if (*p == '.')
            *p = '/';
    }
    int n = snprintf(path, pathlen, "%s/%s.lua", dir, rel);
    if (n < 0 || (size_t)n >= pathlen)
        path[0] = '\0'; /* too long: not found */
}

/* Reads a file below 'dir' named 'mod' (dots become slashes) + ".lua"; malloc'd or NULL. */
static char *read_module(const char *dir, const char *mod, char *path, size_t pathlen)
{
    module_path(dir, mod, path, pathlen);
    return tide_fs_read_all(path, NULL, NULL);
}

static bool is_under(const char *path, const char *root)
{
    size_t n = strlen(root);
    return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/' || n == 1);
}

/* A scenario module: its real path (symlinks resolved) must stay inside 'root' (the
 * scenario folder's real path; NULL: anywhere) and be a regular file, opened
 * without blocking (a FIFO must not hang the run). 0: read into *src; 1: not there; -1: refused
 * (message pushed). */
static int read_scenario_module(lua_State *L, const char *dir, const char *mod, const char *root,
                                char *path, size_t pathlen, char **src)
{
    char real[PATH_MAX];
    module_path(dir, mod, path, pathlen);
    if (realpath(path, real) == NULL)
        return 1;
    if (root != NULL && !is_under(real, root)) {
        lua_pushfstring(L, "module '%s': %s leads outside the scenario folder", mod, path);
        return -1;
    }
    int fd = open(real, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        lua_pushfstring(L, "module '%s': %s is not a regular file", mod, path);
        return -1;
    }
    close(fd);
    size_t len = 0;
    *src = tide_fs_read_all(real, &len, NULL);
    if (*src != NULL)
        tide_loaded_add("module", real, *src, len); /* for the manifest */
    return *src != NULL ? 0 : 1;
}

/* Runs the chunk on top of the stack with the base env as _ENV (modules are shared by the
 * worker's VUs; a module's globals go to its own table, not to a VU's). */
static void run_module(lua_State *L, const char *name)
{
    lua_newtable(L);                                 /* chunk, menv */
    lua_newtable(L);                                 /* chunk, menv, mt */
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.base"); /* chunk, menv, mt, base */
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2); /* chunk, menv */
    lua_setupvalue(L, -2, 1);
    lua_pushstring(L, name);
    lua_call(L, 1, 1); /* module */
}

static const struct {
    const char *name;
    lua_CFunction open;
} c_modules[] = {
    {"tide.core", luaopen_tide_core},       {"tide.http", luaopen_tide_http},
    {"tide.metrics", luaopen_tide_metrics}, {"tide.json", luaopen_tide_json},
    {"tide.data", luaopen_tide_data},
};

static int load_embedded(lua_State *L, const char *name)
{
    const char *file = strcmp(name, "tide") == 0 ? "tide.lua" : NULL;
    char fname[256];
    if (file == NULL && strncmp(name, "tide.", 5) == 0) {
        snprintf(fname, sizeof fname, "%s.lua", name + 5);
        file = fname;
    }
    if (file == NULL)
        return 0;
    const char *override = getenv("TIDE_LUA_PATH");
    char chunkname[300];
    snprintf(chunkname, sizeof chunkname, "@lua/tide/%s", file);
    if (override != NULL && *override != '\0') {
        char path[1024], stem[256];
        snprintf(stem, sizeof stem, "%.*s", (int)(strlen(file) - 4), file); /* no ".lua" */
        char *src = read_module(override, stem, path, sizeof path);
        if (src != NULL) {
            int rc = luaL_loadbufferx(L, src, strlen(src), chunkname, "t");
            free(src);
            if (rc != LUA_OK)
                lua_error(L);
            return 1;
        }
    }
    const struct tide_embedded *e = tide_embedded_find(tide_lua_modules, file);
    if (e == NULL)
        return 0;
    if (luaL_loadbufferx(L, e->data, e->len, chunkname, "t") != LUA_OK)
        lua_error(L);
    return 1;
}

/* require(name): cached per lua_State in registry "tide.loaded". */
static int l_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.loaded"); /* name, loaded */
    if (lua_getfield(L, 2, name) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    for (size_t i = 0; i < sizeof c_modules / sizeof c_modules[0]; i++) {
        if (strcmp(c_modules[i].name, name) == 0) {
            luaL_requiref(L, name, c_modules[i].open, 0); /* name, loaded, mod */
            lua_pushvalue(L, -1);
            lua_setfield(L, 2, name);
            return 1;
        }
    }
    if (load_embedded(L, name)) {
        run_module(L, name);
    } else {
        const struct tide_config *cfg;
        lua_getfield(L, LUA_REGISTRYINDEX, "tide.config");
        cfg = lua_touserdata(L, -1);
        lua_pop(L, 1);
        if (strstr(name, "..") != NULL || name[0] == '/' || name[0] == '.')
            return luaL_error(L, "module '%s' not found (bad name)", name);
        char dir[1024], path[1200], chunk[1300], root[PATH_MAX];
        char *src = NULL;
        const char *subdirs[] = {"", "/plugins", "/lib"};
        bool confined = cfg != NULL; /* --allow-read is for tide.data only */
        if (confined && realpath(cfg->script_dir, root) == NULL)
            return luaL_error(L, "module '%s': cannot resolve the scenario folder", name);
        for (size_t i = 0; i < 3 && src == NULL && cfg != NULL; i++) {
            snprintf(dir, sizeof dir, "%s%s", cfg->script_dir, subdirs[i]);
            if (read_scenario_module(L, dir, name, confined ? root : NULL, path, sizeof path,
                                     &src) < 0)
                return lua_error(L);
        }
        if (src == NULL)
            return luaL_error(L,
                              "module '%s' not found (looked in tide's modules and in the "
                              "scenario's folder, plugins/ and lib/)",
                              name);
        snprintf(chunk, sizeof chunk, "@%s", path);
        int rc = luaL_loadbufferx(L, src, strlen(src), chunk, "t");
        free(src);
        if (rc != LUA_OK)
            return lua_error(L);
        run_module(L, name);
    }
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, 2, name);
    return 1;
}

/* print(...) goes to tide's log, redacted. */
static int l_print(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    char *line = tide_redact(lua_tostring(L, -1));
    fprintf(stderr, "%s\n", line != NULL ? line : "");
    free(line);
    return 0;
}

/* load(chunk [, name [, mode [, env]]]) restricted to text. */
static int l_load(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    const char *name = luaL_optstring(L, 2, "=(load)");
    int has_env = !lua_isnone(L, 4);
    if (luaL_loadbufferx(L, s, n, name, "t") != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (has_env) {
        lua_pushvalue(L, 4);
        lua_setupvalue(L, -2, 1);
    } else {
        /* the caller's globals: a VU's own environment, else the shared base */
        struct tide_vu *vu = *(struct tide_vu **)lua_getextraspace(L);
        if (vu != NULL && vu->co == L && vu->env_ref != LUA_NOREF)
            lua_rawgeti(L, LUA_REGISTRYINDEX, vu->env_ref);
        else
            lua_getfield(L, LUA_REGISTRYINDEX, "tide.base");
        lua_setupvalue(L, -2, 1);
    }
    return 1;
}

lua_State *tide_sandbox_new(const struct tide_config *cfg, struct tide_err *err)
{
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        tide_err_set(err, "cannot create a Lua state (out of memory)");
        return NULL;
    }
    *(void **)lua_getextraspace(L) = NULL; /* coroutines copy this: NULL means "not a VU" */
    luaL_openlibs(L);
    lua_pushlightuserdata(L, (void *)cfg);
    lua_setfield(L, LUA_REGISTRYINDEX, "tide.config");
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "tide.loaded");

    lua_newtable(L); /* base */
    for (int i = 0; base_allowed[i] != NULL; i++) {
        lua_getglobal(L, base_allowed[i]);
        lua_setfield(L, -2, base_allowed[i]);
    }
    for (int i = 0; libs_allowed[i] != NULL; i++) {
        lua_getglobal(L, libs_allowed[i]);
        lua_setfield(L, -2, libs_allowed[i]);
    }
    lua_newtable(L); /* base, os */
    lua_getglobal(L, "os");
    for (int i = 0; os_allowed[i] != NULL; i++) {
        lua_getfield(L, -1, os_allowed[i]);
        lua_setfield(L, -3, os_allowed[i]);
    }
    lua_pop(L, 1);
    lua_setfield(L, -2, "os");
    lua_pushcfunction(L, l_require);
    lua_setfield(L, -2, "require");
    lua_pushcfunction(L, l_print);
    lua_setfield(L, -2, "print");
    lua_pushcfunction(L, l_load);
    lua_setfield(L, -2, "load");
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "_G");
    lua_setfield(L, LUA_REGISTRYINDEX, "tide.base");

    const char *root = cfg->allow_read_anywhere ? NULL : cfg->script_dir;
    tide_data_set_root(L, cfg->script_dir, root);
    return L;
}

int tide_sandbox_load_script(lua_State *L, const struct tide_config *cfg, struct tide_err *err)
{
    char chunk[1100];
    snprintf(chunk, sizeof chunk, "@%s", cfg->script_path);
    if (luaL_loadbufferx(L, cfg->script_source, cfg->script_len, chunk, "t") != LUA_OK) {
        tide_err_set(err, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

lua_State *tide_sandbox_open(const struct tide_config *cfg, struct tide_err *err)
{
    lua_State *L = tide_sandbox_new(cfg, err);
    if (L != NULL && tide_sandbox_load_script(L, cfg, err) != 0) {
        lua_close(L);
        L = NULL;
    }
    return L;
}
