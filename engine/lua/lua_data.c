/* lua_data.c: the 'tide.data' Lua module: sandboxed path resolution, a per-state cache, CSV and
 * JSON loading, and the read-only proxies the data is handed out through.
 *
 * A proxy is an empty table that keeps the table it stands for at the light userdata key
 * &proxy_key, with a metatable shared by every table of one file: reads go through __index,
 * writes hit __newindex (the proxy has no other keys), __len and __pairs read the hidden
 * table. Nested tables are proxies too, so nothing reachable can be changed by accident. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <lauxlib.h>
#include "config.h"
#include "fsutil.h"
#include "loaded.h"
#include "lua_data.h"
#include "lua_json.h"
#include "segment.h"

static char config_key; /* registry: { base = dir, root = dir } */
static char cache_key;  /* registry: cache key -> loaded value */
static char proxy_key;  /* in a proxy: the table it stands for */

/* Read-only proxies. */

static int proxy_index(lua_State *L)
{
    if (lua_rawgetp(L, 1, &proxy_key) != LUA_TTABLE) /* real */
        return 0;
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

static int proxy_newindex(lua_State *L)
{
    const char *file = "?";
    if (lua_getmetatable(L, 1)) { /* mt */
        lua_getfield(L, -1, "__file");
        if (lua_type(L, -1) == LUA_TSTRING)
            file = lua_tostring(L, -1);
    }
    return luaL_error(L, "tide.data: data loaded from \"%s\" is read-only", file);
}

static int proxy_len(lua_State *L)
{
    if (lua_rawgetp(L, 1, &proxy_key) != LUA_TTABLE)
        return 0;
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
    return 1;
}

static int proxy_next(lua_State *L)
{
    lua_settop(L, 2);
    if (lua_rawgetp(L, 1, &proxy_key) != LUA_TTABLE) /* proxy, k, real */
        return 0;
    lua_pushvalue(L, 2); /* proxy, k, real, k */
    if (lua_next(L, 3) == 0)
        return 0;
    return 2;
}

static int proxy_pairs(lua_State *L)
{
    lua_pushcfunction(L, proxy_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* Pushes the metatable of the tables loaded from 'file'; arrays get __jsontype = "array". */
static void push_proxy_mt(lua_State *L, const char *file, bool array)
{
    static const luaL_Reg methods[] = {
        {"__index", proxy_index},
        {"__newindex", proxy_newindex},
        {"__len", proxy_len},
        {"__pairs", proxy_pairs},
        {NULL, NULL},
    };
    lua_createtable(L, 0, 10); /* mt */
    luaL_setfuncs(L, methods, 0);
    lua_pushstring(L, file);
    lua_setfield(L, -2, "__file");
    lua_pushliteral(L, "tide.data");
    lua_setfield(L, -2, "__name");
    lua_pushliteral(L, "tide.data");
    lua_setfield(L, -2, "__metatable");
    lua_pushlightuserdata(L, &proxy_key);
    lua_setfield(L, -2, "__jsonproxy");
    if (array) {
        lua_pushliteral(L, "array");
        lua_setfield(L, -2, "__jsontype");
    }
}

/* Replaces the table on top of the stack by its proxy, with the metatable at 'mt'. */
static void make_proxy(lua_State *L, int mt)
{
    lua_createtable(L, 0, 1);       /* real, proxy */
    lua_insert(L, -2);              /* proxy, real */
    lua_rawsetp(L, -2, &proxy_key); /* proxy */
    lua_pushvalue(L, mt);           /* proxy, mt */
    lua_setmetatable(L, -2);        /* proxy */
}

/* Paths. */

struct where {
    char base[PATH_MAX]; /* "" : the current directory */
    char root[PATH_MAX]; /* "" : no restriction */
};

static void config(lua_State *L, struct where *w)
{
    w->base[0] = '\0';
    w->root[0] = '\0';
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &config_key) == LUA_TTABLE) { /* cfg */
        if (lua_getfield(L, -1, "base") == LUA_TSTRING)
            snprintf(w->base, sizeof w->base, "%s", lua_tostring(L, -1));
        if (lua_getfield(L, -2, "root") == LUA_TSTRING)
            snprintf(w->root, sizeof w->root, "%s", lua_tostring(L, -1));
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
}

static bool under(const char *path, const char *root)
{
    size_t n = strlen(root);
    if (n == 0 || strcmp(root, "/") == 0)
        return true;
    return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int refuse_outside(lua_State *L, const char *path)
{
    return luaL_error(L,
                      "tide.data: \"%s\" is outside the scenario folder (allow with "
                      "--allow-read)",
                      path);
}

/* The missing file's folder, when it exists, tells whether it would be outside the root. */
static bool folder_outside(const char *full, const char *root)
{
    char copy[PATH_MAX], dir[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", full);
    return realpath(dirname(copy), dir) != NULL && !under(dir, root);
}

/* Resolves 'path' into 'out' (realpath), raising when it is missing or outside the root. */
static void resolve(lua_State *L, const char *path, char *out)
{
    struct where w;
    char full[PATH_MAX];
    config(L, &w);
    int n;
    if (path[0] == '/' || w.base[0] == '\0')
        n = snprintf(full, sizeof full, "%s", path);
    else
        n = snprintf(full, sizeof full, "%s/%s", w.base, path);
    if (n < 0 || (size_t)n >= sizeof full)
        luaL_error(L, "tide.data: path \"%s\" is too long", path);
    if (realpath(full, out) == NULL) {
        int e = errno;
        if (w.root[0] != '\0' && folder_outside(full, w.root))
            refuse_outside(L, path);
        if (strcmp(full, path) != 0)
            luaL_error(L, "tide.data: cannot open \"%s\" (%s): %s", path, full, strerror(e));
        luaL_error(L, "tide.data: cannot open \"%s\": %s", path, strerror(e));
    }
    if (!under(out, w.root))
        refuse_outside(L, path);
}

void tide_data_set_root(lua_State *L, const char *base_dir, const char *allowed_root)
{
    char real[PATH_MAX];
    lua_createtable(L, 0, 2); /* cfg */
    if (base_dir != NULL) {
        lua_pushstring(L, base_dir);
        lua_setfield(L, -2, "base");
    }
    if (allowed_root != NULL) {
        lua_pushstring(L, realpath(allowed_root, real) != NULL ? real : allowed_root);
        lua_setfield(L, -2, "root");
    }
    lua_rawsetp(L, LUA_REGISTRYINDEX, &config_key);
}

/* Files. */

/* Pushes a userdata holding the file's bytes plus a NUL; returns them and their length. */
static char *read_file(lua_State *L, const char *path, const char *resolved, size_t *len)
{
    struct stat st;
    if (stat(resolved, &st) != 0)
        luaL_error(L, "tide.data: cannot open \"%s\": %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        luaL_error(L, "tide.data: \"%s\" is not a regular file", path);
    struct tide_json_holder *h = tide_json_holder_push(L); /* holder: frees the text on error */
    h->text = tide_fs_read_all(resolved, len, NULL);
    if (h->text == NULL)
        luaL_error(L, "tide.data: cannot read \"%s\": %s", path, strerror(errno));
    tide_loaded_add("data", resolved, h->text, *len); /* for the manifest */
    char *buf = lua_newuserdatauv(L, *len + 1, 0);    /* holder, bytes */
    memcpy(buf, h->text, *len + 1);
    tide_json_holder_clear(h);
    lua_remove(L, -2); /* bytes */
    return buf;
}

/* Pushes the cached value for the key on top (replacing it) and returns true, or leaves the
 * key and returns false. */
static bool cache_get(lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &cache_key) != LUA_TTABLE) { /* key, cache */
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &cache_key);
    }
    lua_pushvalue(L, -2); /* key, cache, key */
    if (lua_rawget(L, -2) == LUA_TNIL) {
        lua_pop(L, 2); /* key */
        return false;
    }
    lua_replace(L, -3); /* value, cache */
    lua_pop(L, 1);
    return true;
}

/* Stores the value on top under the key at 'key_idx'; the value stays on top. */
static void cache_set(lua_State *L, int key_idx)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &cache_key); /* value, cache */
    lua_pushvalue(L, key_idx);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* CSV. Quoted fields are unescaped in place: the text written never overtakes the text read. */

struct csv {
    char *p, *end;
    char sep;
    int line; /* of the read position, 1-based */
    const char *path;
};

static bool at_eol(const struct csv *c)
{
    return c->p < c->end && (*c->p == '\n' || *c->p == '\r');
}

static void skip_eol(struct csv *c)
{
    if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n')
        c->p++;
    c->p++;
    c->line++;
}

static void push_quoted(lua_State *L, struct csv *c)
{
    int start = c->line;
    char *out = c->p, *w = c->p;
    for (c->p++;; c->p++) {
        if (c->p >= c->end)
            luaL_error(L, "tide.data: \"%s\" line %d: unterminated quoted field", c->path, start);
        if (*c->p == '"') {
            if (c->p + 1 < c->end && c->p[1] == '"') {
                *w++ = '"';
                c->p++;
                continue;
            }
            break;
        }
        if (*c->p == '\n')
            c->line++;
        *w++ = *c->p;
    }
    c->p++;
    if (c->p < c->end && *c->p != c->sep && !at_eol(c))
        luaL_error(L, "tide.data: \"%s\" line %d: unexpected '%c' after a closing quote", c->path,
                   c->line, *c->p);
    lua_pushlstring(L, out, (size_t)(w - out));
}

static void push_field(lua_State *L, struct csv *c)
{
    luaL_checkstack(L, 2, "tide.data: too many fields");
    if (c->p < c->end && *c->p == '"') {
        push_quoted(L, c);
        return;
    }
    const char *s = c->p;
    while (c->p < c->end && *c->p != c->sep && *c->p != '\n' && *c->p != '\r')
        c->p++;
    lua_pushlstring(L, s, (size_t)(c->p - s));
}

/* Pushes the fields of the next record and returns how many (0 at the end); blank lines are
 * skipped; *line is where the record starts. */
static int push_record(lua_State *L, struct csv *c, int *line)
{
    while (at_eol(c))
        skip_eol(c);
    if (c->p >= c->end)
        return 0;
    *line = c->line;
    int n = 0;
    for (;;) {
        push_field(L, c);
        n++;
        if (c->p >= c->end || *c->p != c->sep)
            break;
        c->p++;
    }
    if (at_eol(c))
        skip_eol(c);
    return n;
}

/* Pops n fields into a new row table: keyed by the names in 'header', or an array. */
static void push_row(lua_State *L, int n, int header)
{
    lua_createtable(L, header ? 0 : n, header ? n : 0); /* f1..fn, row */
    lua_insert(L, -n - 1);                              /* row, f1..fn */
    for (int i = n; i >= 1; i--) {
        if (header) {
            lua_rawgeti(L, header, i); /* row, f1..fi, name */
            lua_insert(L, -2);         /* row, f1..name, fi */
            lua_rawset(L, -i - 2);
        } else {
            lua_rawseti(L, -i - 1, i);
        }
    }
}

/* Pops the header's n names into an array; returns its stack slot. Raises on duplicates. */
static int take_header(lua_State *L, struct csv *c, int n, int line)
{
    push_row(L, n, 0);        /* names */
    lua_createtable(L, 0, n); /* names, seen */
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, -2, i); /* names, seen, name */
        lua_pushvalue(L, -1);  /* names, seen, name, name */
        if (lua_rawget(L, -3) != LUA_TNIL)
            luaL_error(L, "tide.data: \"%s\" line %d: duplicate column \"%s\"", c->path, line,
                       lua_tostring(L, -2));
        lua_pop(L, 1); /* names, seen, name */
        lua_pushboolean(L, 1);
        lua_rawset(L, -3); /* names, seen */
    }
    lua_pop(L, 1); /* names */
    return lua_gettop(L);
}

/* Pushes the proxied array of the rows of c's text. */
static void push_csv(lua_State *L, struct csv *c, bool header)
{
    int obj_mt, arr_mt, names = 0, width = -1, line = 1, n;
    push_proxy_mt(L, c->path, false);
    obj_mt = lua_gettop(L);
    push_proxy_mt(L, c->path, true);
    arr_mt = lua_gettop(L);
    if (c->end - c->p >= 3 && memcmp(c->p, "\xEF\xBB\xBF", 3) == 0)
        c->p += 3;
    lua_newtable(L); /* rows */
    int rows = lua_gettop(L);
    lua_Integer count = 0;
    for (;;) {
        n = push_record(L, c, &line);
        if (n == 0)
            break;
        if (width < 0)
            width = n;
        else if (n != width)
            luaL_error(L, "tide.data: \"%s\" line %d: %d fields, expected %d", c->path, line, n,
                       width);
        if (header && names == 0) {
            names = take_header(L, c, n, line);
            continue;
        }
        push_row(L, n, names); /* ..., row */
        make_proxy(L, names ? obj_mt : arr_mt);
        lua_rawseti(L, rows, ++count);
    }
    lua_settop(L, rows);
    make_proxy(L, arr_mt); /* ..., proxy of rows */
}

/* partition = "segment": the caller wants this segment's slice (segment.h). */
static bool partition_option(lua_State *L, const char *fn)
{
    if (lua_type(L, -1) != LUA_TSTRING || strcmp(lua_tostring(L, -1), "segment") != 0)
        luaL_error(L, "tide.data.%s: partition must be \"segment\"", fn);
    return true;
}

/* Replaces the read-only list on top by the current segment's contiguous slice of it (the
 * whole list when the test is not split), read-only too. */
static void segment_slice(lua_State *L, const char *path)
{
    if (lua_rawgetp(L, -1, &proxy_key) != LUA_TTABLE) /* list, real */
        luaL_error(L, "tide.data: \"%s\": partition = \"segment\" needs a list", path);
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.config");
    const struct tide_config *cfg = lua_touserdata(L, -1);
    lua_pop(L, 1);
    struct tide_segment seg = TIDE_SEGMENT_WHOLE;
    if (cfg != NULL && cfg->segment_count > 1)
        seg = (struct tide_segment){cfg->segment_index, cfg->segment_count};
    int64_t first, n;
    tide_segment_slice(seg, (int64_t)lua_rawlen(L, -1), &first, &n);
    lua_getmetatable(L, -2); /* list, real, mt */
    int mt = lua_gettop(L);
    lua_createtable(L, (int)n, 0); /* list, real, mt, slice */
    for (int64_t i = 1; i <= n; i++) {
        lua_rawgeti(L, -3, (lua_Integer)(first + i));
        lua_rawseti(L, -2, (lua_Integer)i);
    }
    make_proxy(L, mt);  /* list, real, mt, proxy */
    lua_replace(L, -4); /* proxy, real, mt */
    lua_pop(L, 2);
}

static void csv_options(lua_State *L, int idx, bool *header, char *sep, bool *partition)
{
    if (lua_isnoneornil(L, idx))
        return;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "tide.data.csv: options are named (use header or separator)");
        const char *k = lua_tostring(L, -2);
        size_t len = 0;
        if (strcmp(k, "partition") == 0) {
            *partition = partition_option(L, "csv");
        } else if (strcmp(k, "header") == 0 && lua_isboolean(L, -1)) {
            *header = lua_toboolean(L, -1);
        } else if (strcmp(k, "separator") == 0 && lua_type(L, -1) == LUA_TSTRING) {
            const char *s = lua_tolstring(L, -1, &len);
            if (len != 1 || *s == '"' || *s == '\n' || *s == '\r')
                luaL_error(L, "tide.data.csv: separator must be one character other than a "
                              "quote or a line break");
            *sep = *s;
        } else if (strcmp(k, "header") == 0 || strcmp(k, "separator") == 0) {
            luaL_error(L, "tide.data.csv: option '%s' must be a %s", k,
                       k[0] == 'h' ? "boolean" : "string");
        } else {
            luaL_error(L, "tide.data.csv: unknown option '%s' (use header, separator or partition)",
                       k);
        }
        lua_pop(L, 1);
    }
}

static int l_csv(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    bool header = true;
    char sep = ',';
    bool partition = false;
    csv_options(L, 2, &header, &sep, &partition);
    char resolved[PATH_MAX];
    resolve(L, path, resolved);
    lua_settop(L, 1);
    lua_pushfstring(L, "csv\n%d\n%c\n%s", (int)header, sep, resolved); /* path, key */
    if (cache_get(L)) {
        if (partition)
            segment_slice(L, path);
        return 1;
    }
    size_t len;
    char *buf = read_file(L, path, resolved, &len); /* path, key, bytes */
    struct csv c = {buf, buf + len, sep, 1, path};
    push_csv(L, &c, header); /* path, key, bytes, ..., rows */
    cache_set(L, 2);
    if (partition)
        segment_slice(L, path);
    return 1;
}

/* JSON. */

static void push_frozen(lua_State *L, const cJSON *j, int obj_mt, int arr_mt)
{
    luaL_checkstack(L, 4, "tide.data: nesting too deep");
    if (cJSON_IsArray(j)) {
        lua_createtable(L, cJSON_GetArraySize(j), 0);
        lua_Integer i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, j)
        {
            push_frozen(L, e, obj_mt, arr_mt);
            lua_rawseti(L, -2, ++i);
        }
        make_proxy(L, arr_mt);
    } else if (cJSON_IsObject(j)) {
        lua_createtable(L, 0, cJSON_GetArraySize(j));
        const cJSON *e;
        cJSON_ArrayForEach(e, j)
        {
            lua_pushstring(L, e->string);
            push_frozen(L, e, obj_mt, arr_mt);
            lua_rawset(L, -3);
        }
        make_proxy(L, obj_mt);
    } else {
        tide_json_push(L, j);
    }
}

static int json_error(lua_State *L, const char *path, const char *buf, const char *at)
{
    int line = 1, col = 1;
    for (const char *p = buf; p < at; p++) {
        col++;
        if (*p == '\n') {
            line++;
            col = 1;
        }
    }
    return luaL_error(L, "tide.data: \"%s\": invalid JSON at line %d, column %d", path, line, col);
}

/* json(path [, { partition = "segment" }]) */
static bool json_partition(lua_State *L)
{
    if (lua_isnoneornil(L, 2))
        return false;
    luaL_checktype(L, 2, LUA_TTABLE);
    bool partition = false;
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING || strcmp(lua_tostring(L, -2), "partition") != 0)
            luaL_error(L, "tide.data.json: the only option is partition");
        partition = partition_option(L, "json");
        lua_pop(L, 1);
    }
    return partition;
}

static int l_json(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    bool partition = json_partition(L);
    char resolved[PATH_MAX];
    resolve(L, path, resolved);
    lua_settop(L, 1);
    lua_pushfstring(L, "json\n%s", resolved); /* path, key */
    if (cache_get(L)) {
        if (partition)
            segment_slice(L, path);
        return 1;
    }
    size_t len;
    const char *buf = read_file(L, path, resolved, &len); /* path, key, bytes */
    const char *nul = memchr(buf, '\0', len);
    if (nul != NULL)
        return json_error(L, path, buf, nul);
    cJSON **tree = tide_json_push_holder(L); /* path, key, bytes, holder */
    const char *end = NULL;
    *tree = cJSON_ParseWithLengthOpts(buf, len + 1, &end, true);
    if (*tree == NULL)
        return json_error(L, path, buf, end != NULL ? end : buf);
    push_proxy_mt(L, path, false);
    push_proxy_mt(L, path, true); /* path, key, bytes, holder, obj mt, arr mt */
    bool list = cJSON_IsArray(*tree);
    push_frozen(L, *tree, 5, 6); /* ..., value */
    cJSON_Delete(*tree);
    *tree = NULL;
    cache_set(L, 2);
    if (partition && !list)
        return luaL_error(L, "tide.data: \"%s\": partition = \"segment\" needs a list", path);
    if (partition)
        segment_slice(L, path);
    return 1;
}

static const luaL_Reg data_funcs[] = {
    {"csv", l_csv},
    {"json", l_json},
    {NULL, NULL},
};

int luaopen_tide_data(lua_State *L)
{
    luaL_newlib(L, data_funcs);
    return 1;
}
