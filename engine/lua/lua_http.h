/* lua_http.h: the `tide.http` Lua module: requests that yield the VU until they complete. */
#ifndef TIDE_LUA_HTTP_H
#define TIDE_LUA_HTTP_H
#include <lua.h>

int luaopen_tide_http(lua_State *L);

#endif
