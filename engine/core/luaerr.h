/* luaerr.h: turning a Lua value (usually an error object) into text without ever raising.
 * luaL_tolstring runs a script's __tostring, which may itself raise or return a non-string;
 * outside a protected call that is a panic, so every such conversion goes through here. */
#ifndef TIDE_LUAERR_H
#define TIDE_LUAERR_H
#include <stddef.h>
#include <lua.h>

/* The text of the value at 'idx' of L, as tostring() would give it, copied into buf (always
 * terminated). When the conversion raises or there is no room on the stack, a fallback like
 * "(error object is a table value)". Never raises; leaves L's stack as it was. Returns buf. */
const char *tide_lua_errtext(lua_State *L, int idx, char *buf, size_t n);

/* Like tide_lua_errtext, followed by a traceback of the coroutine at 'co_idx' of L (one that
 * ended in an error: its stack is kept for this). */
const char *tide_lua_errtrace(lua_State *L, int idx, int co_idx, char *buf, size_t n);

#endif
