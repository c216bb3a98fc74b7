/* lua_tide.h: the C side of the `tide` module (tide.core) and `tide.metrics`. The public
 * `tide` module is lua/tide/tide.lua, built on tide.core. */
#ifndef TIDE_LUA_TIDE_H
#define TIDE_LUA_TIDE_H
#include <stddef.h>
#include <lua.h>

int luaopen_tide_core(lua_State *L);
int luaopen_tide_metrics(lua_State *L);
/* Canonical tag string from the Lua table at idx (nil: empty). Raises on a non-table. */
void tide_lua_tags(lua_State *L, int idx, char *buf, size_t len);

#endif
