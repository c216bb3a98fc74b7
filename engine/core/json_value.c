/* json_value.c: Lua values <-> cJSON trees (setup data handed to every VU, lifecycle results,
 * and the tide.json module of lua/lua_json.c). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "json_value.h"

static char json_null;     /* its address is tide.json.null */
static char array_mt_key;  /* registry: the metatable of JSON arrays */
static char holder_mt_key; /* registry: the metatable of holders */

/* Holders: what a C function has allocated outside Lua while it may still raise. */

void tide_json_holder_clear(struct tide_json_holder *h)
{
    cJSON_Delete(h->json);
    free(h->text);
    h->json = NULL;
    h->text = NULL;
}

static int holder_gc(lua_State *L)
{
    tide_json_holder_clear(lua_touserdata(L, 1));
    return 0;
}

struct tide_json_holder *tide_json_holder_push(lua_State *L)
{
    struct tide_json_holder *h = lua_newuserdatauv(L, sizeof *h, 0); /* holder */
    h->json = NULL;
    h->text = NULL;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &holder_mt_key) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 2); /* holder, mt */
        lua_pushcfunction(L, holder_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, holder_gc);
        lua_setfield(L, -2, "__close");
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &holder_mt_key);
    }
    lua_setmetatable(L, -2); /* holder */
    return h;
}

cJSON **tide_json_push_holder(lua_State *L)
{
    return &tide_json_holder_push(L)->json;
}

void tide_json_push_null(lua_State *L)
{
    lua_pushlightuserdata(L, &json_null);
}

void tide_json_push_array_mt(lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &array_mt_key) != LUA_TNIL)
        return;
    lua_pop(L, 1);
    lua_createtable(L, 0, 1); /* mt */
    lua_pushliteral(L, "array");
    lua_setfield(L, -2, "__jsontype");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &array_mt_key); /* mt */
}

/* JSON -> Lua. */

static void push_number(lua_State *L, double d)
{
    if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        lua_pushinteger(L, (lua_Integer)d);
    else
        lua_pushnumber(L, d);
}

/* Raw items are numbers tide_json_from_lua wrote exactly (see number_item); other raw text is
 * handed over as a string. */
static void push_raw(lua_State *L, const char *text)
{
    char *end;
    errno = 0;
    long long i = strtoll(text, &end, 10);
    if (end != text && *end == '\0' && errno == 0) {
        lua_pushinteger(L, (lua_Integer)i);
        return;
    }
    double d = strtod(text, &end);
    if (end != text && *end == '\0')
        lua_pushnumber(L, d);
    else
        lua_pushstring(L, text);
}

static void push_array(lua_State *L, const cJSON *j)
{
    lua_createtable(L, cJSON_GetArraySize(j), 0); /* t */
    lua_Integer i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, j)
    {
        tide_json_push(L, e); /* t, v */
        lua_rawseti(L, -2, ++i);
    }
    tide_json_push_array_mt(L); /* t, mt */
    lua_setmetatable(L, -2);
}

static void push_object(lua_State *L, const cJSON *j)
{
    lua_createtable(L, 0, cJSON_GetArraySize(j)); /* t */
    const cJSON *e;
    cJSON_ArrayForEach(e, j)
    {
        lua_pushstring(L, e->string); /* t, k */
        tide_json_push(L, e);         /* t, k, v */
        lua_rawset(L, -3);
    }
}

void tide_json_push(lua_State *L, const cJSON *j)
{
    luaL_checkstack(L, 4, "tide.json: nesting too deep");
    if (cJSON_IsNull(j))
        tide_json_push_null(L);
    else if (cJSON_IsBool(j))
        lua_pushboolean(L, cJSON_IsTrue(j));
    else if (cJSON_IsNumber(j))
        push_number(L, j->valuedouble);
    else if (cJSON_IsString(j))
        lua_pushstring(L, j->valuestring);
    else if (cJSON_IsRaw(j))
        push_raw(L, j->valuestring);
    else if (cJSON_IsArray(j))
        push_array(L, j);
    else if (cJSON_IsObject(j))
        push_object(L, j);
    else
        lua_pushnil(L);
}

/* Lua -> JSON. Each new item is linked into its parent before its own children are made, so
 * when Lua raises (out of memory) the holder's tree owns everything allocated so far. */

struct step {
    bool is_index;
    lua_Integer index;
    const char *key;
    char num[32]; /* number keys of objects, as text */
};

struct enc {
    lua_State *L;
    struct tide_err *err;
    cJSON **root;
    int depth;
    const void *seen[TIDE_JSON_MAX_DEPTH + 1]; /* tables on the current path */
    struct step path[TIDE_JSON_MAX_DEPTH + 1]; /* how each level was reached */
};

static int fail(struct enc *e, const char *what)
{
    char where[256] = "";
    size_t n = 0;
    for (int i = 0; i < e->depth && n < sizeof where - 1; i++) {
        const struct step *s = &e->path[i];
        if (s->is_index)
            n += (size_t)snprintf(where + n, sizeof where - n, "[%lld]", (long long)s->index);
        else
            n += (size_t)snprintf(where + n, sizeof where - n, ".%s", s->key);
    }
    if (e->depth == 0)
        return tide_err_set(e->err, "%s", what);
    return tide_err_set(e->err, "%s at $%s", what, where);
}

/* cJSON prints a number with 15 significant digits whenever that reads back within an epsilon,
 * which rounds 16-digit integers (µs timestamps) and some floats. Those become Raw items holding
 * the shortest text that reads back exactly; the rest stay plain numbers. */
static cJSON *number_item(lua_State *L, int idx)
{
    char text[40];
    if (lua_isinteger(L, idx)) {
        lua_Integer i = lua_tointeger(L, idx);
        if (i > -1000000000000000LL && i < 1000000000000000LL)
            return cJSON_CreateNumber((double)i);
        snprintf(text, sizeof text, "%lld", (long long)i);
        return cJSON_CreateRaw(text);
    }
    double d = (double)lua_tonumber(L, idx);
    snprintf(text, sizeof text, "%.15g", d);
    if (strtod(text, NULL) == d)
        return cJSON_CreateNumber(d); /* cJSON prints this very text */
    snprintf(text, sizeof text, "%.16g", d);
    if (strtod(text, NULL) != d)
        snprintf(text, sizeof text, "%.17g", d);
    return cJSON_CreateRaw(text);
}

/* A failure about the table being filled itself (a bad key), not about one of its values. */
static int fail_here(struct enc *e, const char *what)
{
    e->depth--;
    fail(e, what);
    e->depth++;
    return -1;
}

static int add_value(struct enc *e, int idx, cJSON *parent, const char *key);

/* Links 'item' under 'parent' (or as the root); -1 when creating it failed. */
static int link(struct enc *e, cJSON *item, cJSON *parent, const char *key)
{
    if (item == NULL)
        return fail(e, "out of memory");
    bool ok = true;
    if (parent == NULL)
        *e->root = item;
    else if (key != NULL)
        ok = cJSON_AddItemToObject(parent, key, item);
    else
        ok = cJSON_AddItemToArray(parent, item);
    if (ok)
        return 0;
    cJSON_Delete(item);
    return fail(e, "out of memory");
}

static int cmp_items(const void *a, const void *b)
{
    return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

/* Sorts an object's members by key, for output that does not depend on the hash order. */
static void sort_members(cJSON *obj)
{
    int n = cJSON_GetArraySize(obj);
    if (n < 2)
        return;
    cJSON **items = malloc((size_t)n * sizeof *items);
    if (items == NULL)
        return;
    int i = 0;
    for (cJSON *c = obj->child; c != NULL; c = c->next)
        items[i++] = c;
    qsort(items, (size_t)n, sizeof *items, cmp_items);
    obj->child = items[0];
    for (i = 0; i < n; i++) {
        items[i]->prev = items[i > 0 ? i - 1 : n - 1];
        items[i]->next = i + 1 < n ? items[i + 1] : NULL;
    }
    free(items);
}

static int fill_array(struct enc *e, int src, lua_Integer n, cJSON *arr)
{
    struct step *s = &e->path[e->depth - 1];
    s->is_index = true;
    for (lua_Integer i = 1; i <= n; i++) {
        s->index = i;
        lua_rawgeti(e->L, src, i); /* v */
        int rc = add_value(e, lua_gettop(e->L), arr, NULL);
        lua_pop(e->L, 1);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The key on top of the stack as object member text, without converting it in place. */
static int key_text(struct enc *e, struct step *s)
{
    lua_State *L = e->L;
    size_t len;
    s->is_index = false;
    s->key = s->num;
    if (lua_type(L, -1) == LUA_TSTRING) {
        s->key = lua_tolstring(L, -1, &len);
        if (memchr(s->key, '\0', len) != NULL)
            return fail_here(e, "cannot encode a key with a NUL byte");
    } else if (lua_isinteger(L, -1)) {
        snprintf(s->num, sizeof s->num, "%lld", (long long)lua_tointeger(L, -1));
    } else if (lua_type(L, -1) == LUA_TNUMBER) {
        snprintf(s->num, sizeof s->num, "%.14g", (double)lua_tonumber(L, -1));
    } else {
        char what[64];
        snprintf(what, sizeof what, "cannot encode a table key of type %s", luaL_typename(L, -1));
        return fail_here(e, what);
    }
    return 0;
}

static int fill_object(struct enc *e, int src, cJSON *obj)
{
    lua_State *L = e->L;
    struct step *s = &e->path[e->depth - 1];
    lua_pushnil(L); /* k */
    while (lua_next(L, src) != 0) {
        lua_pushvalue(L, -2); /* k, v, k */
        int rc = key_text(e, s);
        if (rc == 0)
            rc = add_value(e, lua_gettop(L) - 1, obj, s->key);
        lua_pop(L, 2); /* k */
        if (rc != 0) {
            lua_pop(L, 1);
            return -1;
        }
    }
    sort_members(obj);
    return 0;
}

enum kind { KIND_AUTO, KIND_ARRAY, KIND_OBJECT };

static enum kind kind_of(lua_State *L, int t)
{
    enum kind k = KIND_AUTO;
    if (luaL_getmetafield(L, t, "__jsontype") == LUA_TNIL)
        return k;
    if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "array") == 0)
        k = KIND_ARRAY;
    else if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "object") == 0)
        k = KIND_OBJECT;
    lua_pop(L, 1);
    return k;
}

/* Array when marked so, or when the keys are exactly 1..n (n > 0); *n is then the length. */
static bool is_array(lua_State *L, enum kind kind, int src, lua_Integer *n)
{
    *n = (lua_Integer)lua_rawlen(L, src);
    if (kind != KIND_AUTO)
        return kind == KIND_ARRAY;
    lua_Integer count = 0, max = 0;
    lua_pushnil(L);
    while (lua_next(L, src) != 0) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1) {
            lua_pop(L, 1);
            return false;
        }
        count++;
        if (lua_tointeger(L, -1) > max)
            max = lua_tointeger(L, -1);
    }
    *n = count;
    return count > 0 && max == count;
}

/* Replaces a read-only proxy at 't' by the table it stands for. */
static void source_of(lua_State *L, int t)
{
    if (luaL_getmetafield(L, t, "__jsonproxy") == LUA_TNIL)
        return;
    void *k = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (k == NULL)
        return;
    if (lua_rawgetp(L, t, k) == LUA_TTABLE)
        lua_replace(L, t);
    else
        lua_pop(L, 1);
}

static int add_table(struct enc *e, int idx, cJSON *parent, const char *key)
{
    lua_State *L = e->L;
    const void *p = lua_topointer(L, idx);
    if (e->depth >= TIDE_JSON_MAX_DEPTH)
        return fail(e, "nesting deeper than 64");
    for (int i = 0; i < e->depth; i++) {
        if (e->seen[i] == p)
            return fail(e, "table is nested in itself (cycle)");
    }
    if (!lua_checkstack(L, 6))
        return fail(e, "Lua stack exhausted");
    lua_pushvalue(L, idx); /* t */
    int t = lua_gettop(L);
    enum kind kind = kind_of(L, t);
    source_of(L, t); /* t (or the table it proxies) */
    lua_Integer n;
    bool array = is_array(L, kind, t, &n);
    cJSON *item = array ? cJSON_CreateArray() : cJSON_CreateObject();
    int rc = link(e, item, parent, key);
    if (rc == 0) {
        e->seen[e->depth++] = p;
        rc = array ? fill_array(e, t, n, item) : fill_object(e, t, item);
        e->depth--;
    }
    lua_pop(L, 1);
    return rc;
}

static int add_value(struct enc *e, int idx, cJSON *parent, const char *key)
{
    lua_State *L = e->L;
    size_t len;
    const char *s;
    double d;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return link(e, cJSON_CreateNull(), parent, key);
    case LUA_TBOOLEAN:
        return link(e, cJSON_CreateBool(lua_toboolean(L, idx)), parent, key);
    case LUA_TNUMBER:
        d = (double)lua_tonumber(L, idx);
        if (!isfinite(d))
            return fail(e, "cannot encode NaN or infinity");
        return link(e, number_item(L, idx), parent, key);
    case LUA_TSTRING:
        s = lua_tolstring(L, idx, &len);
        if (memchr(s, '\0', len) != NULL)
            return fail(e, "cannot encode a string with a NUL byte");
        return link(e, cJSON_CreateString(s), parent, key);
    case LUA_TTABLE:
        return add_table(e, idx, parent, key);
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == &json_null)
            return link(e, cJSON_CreateNull(), parent, key);
        return fail(e, "cannot encode a light userdata");
    default: {
        char what[64];
        snprintf(what, sizeof what, "cannot encode a %s", luaL_typename(L, idx));
        return fail(e, what);
    }
    }
}

/* Builds the tree into '*root', which a holder owns: on error the partial tree stays there. */
static int to_json(lua_State *L, int idx, cJSON **root, struct tide_err *err)
{
    struct enc e;
    e.L = L;
    e.err = err;
    e.root = root;
    e.depth = 0;
    return add_value(&e, idx, NULL, NULL);
}

cJSON *tide_json_from_lua(lua_State *L, int idx, struct tide_err *err)
{
    idx = lua_absindex(L, idx);
    struct tide_json_holder *h = tide_json_holder_push(L); /* holder */
    int rc = to_json(L, idx, &h->json, err);
    cJSON *j = h->json;
    h->json = NULL;
    lua_pop(L, 1);
    if (rc == 0)
        return j;
    cJSON_Delete(j);
    return NULL;
}
