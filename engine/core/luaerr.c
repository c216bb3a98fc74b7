/* luaerr.c: error values to text, inside a protected call (see luaerr.h). */
#include <lauxlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "luaerr.h"

/* tostring(value [, thread]): the text, with the thread's traceback when one is given. */
static int to_text(lua_State *L)
{
    luaL_tolstring(L, 1, NULL); /* raises on a bad __tostring */
    if (lua_type(L, 2) == LUA_TTHREAD)
        luaL_traceback(L, lua_tothread(L, 2), lua_tostring(L, -1), 0);
    return 1;
}

static const char *convert(lua_State *L, int idx, int co_idx, char *buf, size_t n)
{
    idx = lua_absindex(L, idx);
    co_idx = co_idx != 0 ? lua_absindex(L, co_idx) : 0;
    int type = lua_type(L, idx);
    if (type == LUA_TSTRING && co_idx == 0) { /* the common case needs no call */
        snprintf(buf, n, "%s", lua_tostring(L, idx));
        return buf;
    }
    bool done = false;
    if (lua_checkstack(L, 4)) {
        int top = lua_gettop(L);
        lua_pushcfunction(L, to_text);
        lua_pushvalue(L, idx);
        if (co_idx != 0)
            lua_pushvalue(L, co_idx);
        else
            lua_pushnil(L);
        if (lua_pcall(L, 2, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) {
            snprintf(buf, n, "%s", lua_tostring(L, -1));
            done = true;
        }
        lua_settop(L, top);
    }
    if (!done)
        snprintf(buf, n, "(error object is a %s value)", lua_typename(L, type));
    return buf;
}

const char *tide_lua_errtext(lua_State *L, int idx, char *buf, size_t n)
{
    return convert(L, idx, 0, buf, n);
}

const char *tide_lua_errtrace(lua_State *L, int idx, int co_idx, char *buf, size_t n)
{
    return convert(L, idx, co_idx, buf, n);
}
