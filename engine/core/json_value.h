/* json_value.h: conversions between Lua values and cJSON trees.
 *
 * JSON -> Lua: null is 'tide.json.null' (a light userdata), numbers that are integral and fit
 * an int64 are Lua integers, arrays are 1-based sequences carrying the array metatable (so
 * '[]' encodes back as '[]'), objects are plain tables.
 * Lua -> JSON: a table whose metatable has __jsontype = "array" is an array (of t[1..#t]);
 * __jsontype = "object" forces an object; otherwise a non-empty table whose keys are exactly
 * 1..n is an array and any other table (including {}) an object, whose integer and float keys
 * become strings ("1", "2.5"). Object keys are written in sorted order. Read-only proxies
 * (tide.data) are encoded as the table they proxy: a metatable field __jsonproxy holds a light
 * userdata key under which the proxied table is stored raw in the proxy.
 * Numbers encode exactly (all int64, floats in the shortest text that reads back the same);
 * those cJSON would round when printing are cJSON Raw items carrying that text, which
 * tide_json_push reads back as numbers. Decoding goes through cJSON's doubles: integers beyond
 * 2^53 lose precision there. Error positions are the ones cJSON reports (at or just past the
 * offending character). */
#ifndef TIDE_JSON_VALUE_H
#define TIDE_JSON_VALUE_H
#include <cJSON.h>
#include <lua.h>
#include "err.h"
#define TIDE_JSON_MAX_DEPTH 64 /* nesting accepted by tide_json_from_lua */
/* Pushes the Lua form of 'j' (one value). Raises only on Lua memory or stack exhaustion. */
void tide_json_push(lua_State *L, const cJSON *j);

/* The JSON form of the value at 'idx', owned by the caller (cJSON_Delete), or NULL with a
 * message naming where the bad value is, e.g. "cannot encode a function at $.user.hook":
 * functions, threads, userdata other than null, NaN and infinities, strings with a NUL byte,
 * tables nested in themselves and nesting deeper than TIDE_JSON_MAX_DEPTH. Does not call
 * metamethods; raises only on Lua memory exhaustion (nothing leaks then). */
cJSON *tide_json_from_lua(lua_State *L, int idx, struct tide_err *err);

/* Pushes the light userdata that stands for JSON null. */
void tide_json_push_null(lua_State *L);

/* Pushes a holder that cJSON_Delete()s '*slot' when collected and returns the slot: C code
 * that may raise while a cJSON tree is live parks the tree there (set *slot = NULL to take it
 * back). */
cJSON **tide_json_push_holder(lua_State *L);

/* A holder userdata (on the stack) that frees 'json' and 'text' when collected or cleared. */
struct tide_json_holder {
    cJSON *json;
    char *text;
};
struct tide_json_holder *tide_json_holder_push(lua_State *L);
void tide_json_holder_clear(struct tide_json_holder *h);
/* Pushes the metatable that marks a table as a JSON array. */
void tide_json_push_array_mt(lua_State *L);
#endif
