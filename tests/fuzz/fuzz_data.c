/* fuzz_data: the CSV and JSON data loaders of scripts (tide.data.csv, tide.data.json;
 * engine/lua/lua_data.c) on arbitrary file contents. The first input byte picks the loader and
 * the CSV options; the rest is the file. Every row and field is then read back through the
 * read-only proxies. A Lua error (bad file) is an expected outcome; a crash is not. */
#include <stdint.h>
#include <stdlib.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include "fuzz_util.h"
#include "lua_data.h"
#include "lua_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every value of the loaded data, through pairs() on the proxies. */
static const char walk[] = "local function walk(v, depth)\n"
                           "  if type(v) ~= 'table' or depth > 50 then return end\n"
                           "  local n = #v\n"
                           "  for k, x in pairs(v) do walk(x, depth + 1) end\n"
                           "end\n"
                           "local data, kind, path, header, sep = ...\n"
                           "local v\n"
                           "if kind == 0 then v = data.json(path)\n"
                           "else v = data.csv(path, {header = header, separator = sep}) end\n"
                           "walk(v, 0)\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = data[0] & 1;
    const char *path = fuzz_file(kind == 0 ? "data.json" : "data.csv", data + 1, size - 1);
    lua_State *L = luaL_newstate();
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1); /* pairs, type: all the walk needs */
    lua_pop(L, 1);
    luaL_requiref(L, "tide.json", luaopen_tide_json, 0);
    lua_pop(L, 1);
    if (luaL_loadstring(L, walk) != LUA_OK)
        abort();
    luaopen_tide_data(L);
    tide_data_set_root(L, NULL, NULL);
    lua_pushinteger(L, kind);
    lua_pushstring(L, path);
    lua_pushboolean(L, data[0] & 2);
    lua_pushstring(L, data[0] & 4 ? ";" : ",");
    (void)lua_pcall(L, 5, 0, 0);
    lua_close(L);
    return 0;
}
