/* Unit tests of tide_lua_errtext / tide_lua_errtrace: any error value becomes text, even when
 * its __tostring raises or returns something else, and the stack is left as it was. */
#include <stdbool.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>
#include "../check.h"
#include "luaerr.h"

/* Evaluates 'expr' (a Lua expression) and returns its text; the stack must be unchanged. */
static const char *text_of(lua_State *L, const char *expr, char *buf, size_t n)
{
    char code[512];
    snprintf(code, sizeof code, "return %s", expr);
    if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK)
        return "(test chunk failed)";
    int top = lua_gettop(L);
    tide_lua_errtext(L, -1, buf, n);
    CHECK(lua_gettop(L) == top);
    lua_pop(L, 1);
    return buf;
}

static void test_values(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    char buf[256];
    CHECK_STR(text_of(L, "'plain message'", buf, sizeof buf), "plain message");
    CHECK_STR(text_of(L, "42", buf, sizeof buf), "42");
    CHECK_STR(text_of(L, "nil", buf, sizeof buf), "nil");
    CHECK(strncmp(text_of(L, "{}", buf, sizeof buf), "table: ", 7) == 0);
    CHECK_STR(text_of(L, "setmetatable({}, {__tostring = function() return 'custom' end})", buf,
                      sizeof buf),
              "custom");
    /* the defects: each of these was a PANIC (unprotected error) before */
    CHECK_STR(text_of(L, "setmetatable({}, {__tostring = function() error('boom') end})", buf,
                      sizeof buf),
              "(error object is a table value)");
    CHECK_STR(
        text_of(L, "setmetatable({}, {__tostring = function() return {} end})", buf, sizeof buf),
        "(error object is a table value)");
    CHECK_STR(
        text_of(L, "setmetatable({}, {__tostring = function() return 7 end})", buf, sizeof buf),
        "7"); /* a number is a string to Lua */
    CHECK_STR(text_of(L, "'truncated text'", buf, 6), "trunc");
    lua_close(L);
}

static void test_traceback_of_dead_coroutine(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_State *co = lua_newthread(L); /* L: co */
    luaL_loadstring(co, "local function inner() error('deep', 0) end\n"
                        "local function outer() inner() end\n"
                        "outer()");
    int nres;
    CHECK(lua_resume(co, L, 0, &nres) == LUA_ERRRUN);
    lua_xmove(co, L, 1); /* L: co, err */
    char buf[1024];
    tide_lua_errtrace(L, -1, -2, buf, sizeof buf);
    CHECK(strncmp(buf, "deep\nstack traceback:", 21) == 0);
    CHECK(strstr(buf, "inner") != NULL);
    CHECK(lua_gettop(L) == 2);
    /* a raising __tostring with a traceback still gives one fallback text */
    CHECK(luaL_dostring(L, "return setmetatable({}, {__tostring = function() error('x') end})") ==
          LUA_OK);
    tide_lua_errtrace(L, -1, 1, buf, sizeof buf);
    CHECK_STR(buf, "(error object is a table value)");
    lua_close(L);
}

int main(void)
{
    test_values();
    test_traceback_of_dead_coroutine();
    return CHECK_DONE();
}
