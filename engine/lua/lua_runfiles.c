/* lua_runfiles.c: read-only access to the run folder for hooks, and the running hook's name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lua_runfiles.h"

#define DIR_KEY      "tide.run_dir"
#define HOOK_KEY     "tide.hook_name"
#define REQUIRED_KEY "tide.hook_required"

void tide_runfiles_set_dir(lua_State *L, const char *dir)
{
    char real[PATH_MAX];
    if (realpath(dir, real) == NULL)
        return;
    lua_pushstring(L, real);
    lua_setfield(L, LUA_REGISTRYINDEX, DIR_KEY);
}

static const char *run_dir(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, DIR_KEY);
    const char *d = lua_tostring(L, -1);
    lua_pop(L, 1); /* the registry keeps the string alive */
    if (d == NULL)
        luaL_error(L, "tide.run_files: only hooks of a run can read its folder "
                      "(test_start ... report_written)");
    return d;
}

/* A name is relative, with no empty, "." or ".." part. */
static bool plain_name(const char *name)
{
    if (name[0] == '\0' || name[0] == '/')
        return false;
    const char *p = name;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n + (slash != NULL);
        if (slash != NULL && *p == '\0')
            return false;
    }
    return true;
}

/* tide.run_files.read(name): the bytes of a regular file of the run folder. The real path
 * must be the folder's path plus name (no symlink anywhere on the way). */
static int l_run_read(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *dir = run_dir(L);
    if (!plain_name(name))
        return luaL_error(L,
                          "tide.run_files.read: \"%s\": a name inside the run folder "
                          "(no leading /, no ..)",
                          name);
    char path[PATH_MAX], real[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return luaL_error(L, "tide.run_files.read: name too long");
    if (realpath(path, real) == NULL)
        return luaL_error(L, "tide.run_files.read: %s: %s", name, strerror(errno));
    if (strcmp(real, path) != 0)
        return luaL_error(L, "tide.run_files.read: %s: a symbolic link (refused)", name);
    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return luaL_error(L, "tide.run_files.read: %s: not a regular file of the run folder", name);
    }
    if ((size_t)st.st_size > TIDE_RUNFILE_MAX) {
        close(fd);
        return luaL_error(L, "tide.run_files.read: %s: larger than %d MiB", name,
                          (int)(TIDE_RUNFILE_MAX >> 20));
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char chunk[65536];
    ssize_t n;
    size_t total = 0;
    while ((n = read(fd, chunk, sizeof chunk)) > 0 && total <= TIDE_RUNFILE_MAX) {
        luaL_addlstring(&b, chunk, (size_t)n);
        total += (size_t)n;
    }
    close(fd);
    luaL_pushresult(&b);
    return 1;
}

/* Appends the regular files below dir/rel to the list on top of L (sorted later). */
static void list_into(lua_State *L, const char *dir, const char *rel, int depth)
{
    char path[PATH_MAX * 2 + 2];
    snprintf(path, sizeof path, "%s%s%s", dir, rel[0] ? "/" : "", rel);
    DIR *d = opendir(path);
    if (d == NULL || depth > 8) {
        if (d != NULL)
            closedir(d);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || strcmp(e->d_name, "..") == 0))
            continue;
        char sub[PATH_MAX], full[PATH_MAX * 2 + 2];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", dir, sub);
        struct stat st;
        if (lstat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            list_into(L, dir, sub, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            lua_pushstring(L, sub);
            lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        }
    }
    closedir(d);
}

/* tide.run_files.list(): the names of the folder's regular files, sorted. */
static int l_run_files(lua_State *L)
{
    const char *dir = run_dir(L);
    lua_newtable(L);
    list_into(L, dir, "", 0);
    lua_getglobal(L, "table"); /* the raw state's table library, not the sandbox's */
    if (lua_istable(L, -1) && lua_getfield(L, -1, "sort") == LUA_TFUNCTION) {
        lua_pushvalue(L, -3);
        lua_call(L, 1, 0);
        lua_pop(L, 1);
    } else {
        lua_pop(L, 2);
    }
    return 1;
}

/* core.hook_current(name, required): which hook runs now (nil: none). */
static int l_hook_current(lua_State *L)
{
    lua_pushvalue(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, HOOK_KEY);
    lua_pushboolean(L, lua_toboolean(L, 2));
    lua_setfield(L, LUA_REGISTRYINDEX, REQUIRED_KEY);
    return 0;
}

bool tide_runfiles_current_hook(lua_State *L, char *name, size_t len, bool *required)
{
    lua_getfield(L, LUA_REGISTRYINDEX, HOOK_KEY);
    const char *n = lua_tostring(L, -1);
    bool have = n != NULL;
    if (have)
        snprintf(name, len, "%s", n);
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, REQUIRED_KEY);
    *required = have && lua_toboolean(L, -1);
    lua_pop(L, 1);
    return have;
}

/* core.in_vu_env(): true while a load VU's environment runs its top level and plugins. */
static int l_in_vu_env(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.vu_env");
    lua_pushboolean(L, lua_toboolean(L, -1));
    return 1;
}

void tide_runfiles_register(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"in_vu_env", l_in_vu_env},
        {"run_files", l_run_files},
        {"run_read", l_run_read},
        {"hook_current", l_hook_current},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
