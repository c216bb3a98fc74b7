/* lua_json.c: the 'tide.json' Lua module (encode, decode, null, array) on core/json_value.c. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "lua_json.h"

/* The module. */

static int l_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    bool pretty = false;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "pretty");
        pretty = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    lua_settop(L, 1);
    struct tide_json_holder *h = tide_json_holder_push(L); /* v, holder */
    struct tide_err err;
    h->json = tide_json_from_lua(L, 1, &err);
    if (h->json == NULL)
        return luaL_error(L, "tide.json.encode: %s", err.msg);
    h->text = pretty ? cJSON_Print(h->json) : cJSON_PrintUnformatted(h->json);
    if (h->text == NULL)
        return luaL_error(L, "tide.json.encode: out of memory");
    lua_pushstring(L, h->text); /* v, holder, s */
    tide_json_holder_clear(h);
    return 1;
}

static int l_decode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *nul = memchr(s, '\0', len);
    if (nul != NULL)
        return luaL_error(L, "tide.json.decode: invalid JSON at character %d", (int)(nul - s) + 1);
    lua_settop(L, 1);
    struct tide_json_holder *h = tide_json_holder_push(L); /* s, holder */
    const char *end = NULL;
    h->json = cJSON_ParseWithLengthOpts(s, len + 1, &end, true);
    if (h->json == NULL)
        return luaL_error(L, "tide.json.decode: invalid JSON at character %d",
                          end != NULL ? (int)(end - s) + 1 : 1);
    tide_json_push(L, h->json); /* s, holder, v */
    cJSON_Delete(h->json);
    h->json = NULL;
    return 1;
}

static int l_array(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    tide_json_push_array_mt(L); /* t, array mt */
    if (lua_getmetatable(L, 1)) {
        if (!lua_rawequal(L, -1, -2))
            return luaL_argerror(L, 1, "table already has a metatable");
        lua_pop(L, 2);
        return 1;
    }
    lua_setmetatable(L, 1);
    return 1;
}

static const luaL_Reg json_funcs[] = {
    {"encode", l_encode},
    {"decode", l_decode},
    {"array", l_array},
    {NULL, NULL},
};

int luaopen_tide_json(lua_State *L)
{
    luaL_newlib(L, json_funcs); /* module */
    tide_json_push_null(L);     /* module, null */
    lua_setfield(L, -2, "null");
    return 1;
}
