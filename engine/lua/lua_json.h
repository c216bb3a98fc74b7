/* lua_json.h: the 'tide.json' Lua module. The value conversions it is built on, and their
 * rules, are in core/json_value.h. */
#ifndef TIDE_LUA_JSON_H
#define TIDE_LUA_JSON_H
#include <lua.h>
#include "json_value.h"
/* The module table { encode, decode, null, array }:
 *   encode(v [, {pretty = true}]) -> string; raises "tide.json.encode: <why>"
 *   decode(s) -> value; raises "tide.json.decode: invalid JSON at character N"
 *   array([t]) -> t (or a new table) with the array metatable; raises if t has a metatable */
int luaopen_tide_json(lua_State *L);
#endif
