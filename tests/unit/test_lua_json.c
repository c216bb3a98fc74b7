/* Unit tests of tide.json: decoding, encoding, errors, the C conversions, memory failures. */
#include <stdbool.h>
#include <stdlib.h>
#include <lauxlib.h>
#include <lualib.h>
#include "../check.h"
#include "lua_json.h"

static lua_State *new_state(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    luaL_requiref(L, "tide.json", luaopen_tide_json, 0);
    lua_pop(L, 1);
    return L;
}

/* Runs a chunk; a failed assert is reported with the chunk's line. */
static bool run_at(lua_State *L, const char *code, const char *file, int line)
{
    check_count++;
    if (luaL_loadstring(L, code) == LUA_OK && lua_pcall(L, 0, 0, 0) == LUA_OK)
        return true;
    check_failures++;
    fprintf(stderr, "%s:%d: lua: %s\n", file, line, lua_tostring(L, -1));
    lua_pop(L, 1);
    return false;
}

#define RUN(L, code) run_at(L, code, __FILE__, __LINE__)

static void test_json_decodes_values(void)
{
    lua_State *L = new_state();
    RUN(L, "local json = require 'tide.json'\n"
           "local v = json.decode('{\"a\":1,\"b\":[1,2,3],\"c\":null,\"d\":true,\"e\":\"x\",'..\n"
           "  '\"f\":1.5,\"g\":-3,\"h\":1e3,\"i\":false,\"j\":{\"k\":{}}}')\n"
           "assert(math.type(v.a) == 'integer' and v.a == 1)\n"
           "assert(#v.b == 3 and v.b[1] == 1 and v.b[3] == 3)\n"
           "assert(v.c == json.null and v.c ~= nil)\n"
           "assert(v.d == true and v.i == false)\n"
           "assert(v.e == 'x')\n"
           "assert(math.type(v.f) == 'float' and v.f == 1.5)\n"
           "assert(math.type(v.g) == 'integer' and v.g == -3)\n"
           "assert(math.type(v.h) == 'integer' and v.h == 1000)\n"
           "assert(type(v.j.k) == 'table' and next(v.j.k) == nil)\n"
           "assert(math.type(json.decode('1e300')) == 'float')\n"
           "assert(math.type(json.decode('9007199254740992')) == 'integer')\n"
           "assert(json.decode('null') == json.null)\n"
           "assert(json.decode('  \"\\\\u00e9\\\\n\" ') == '\\u{e9}\\n')\n"
           "local a = json.decode('[1,null,3]')\n"
           "assert(#a == 3 and a[2] == json.null)\n"
           "for i, x in ipairs(a) do assert(x == ({1, json.null, 3})[i]) end\n"
           "assert(getmetatable(json.decode('[]')).__jsontype == 'array')\n"
           "assert(getmetatable(json.decode('{}')) == nil)\n"
           "assert(json.encode(json.decode('[]')) == '[]')\n"
           "assert(json.encode(json.decode('{}')) == '{}')\n"
           "assert(type(json.null) == 'userdata')\n");
    lua_close(L);
}

static void test_json_decode_reports_position(void)
{
    lua_State *L = new_state();
    RUN(L, "local json = require 'tide.json'\n"
           "local cases = { [''] = 1, ['{'] = 2, ['[1,]'] = 4, ['{\"a\":}'] = 6, ['1 x'] = 3,\n"
           "  ['tru'] = 1, ['[1,2'] = 5, ['[1]]'] = 4, ['[1]\\0'] = 4, ['\"a\\0b\"'] = 3 }\n"
           "for s, at in pairs(cases) do\n"
           "  local ok, err = pcall(json.decode, s)\n"
           "  assert(not ok, s)\n"
           "  local want = 'tide.json.decode: invalid JSON at character ' .. at\n"
           "  assert(err:sub(-#want) == want, s .. ': ' .. err)\n"
           "end\n"
           "local ok, err = pcall(json.decode)\n"
           "assert(not ok and err:find('bad argument #1 to', 1, true), err)\n"
           "local ok2, err2 = pcall(function() return json.decode('[') end)\n"
           "assert(err2:find('^%[string \"local json'), err2)\n");
    lua_close(L);
}

static void test_json_encodes_values(void)
{
    lua_State *L = new_state();
    RUN(L,
        "local json = require 'tide.json'\n"
        "assert(json.encode({}) == '{}')\n"
        "assert(json.encode(json.array({})) == '[]')\n"
        "assert(json.encode(json.array()) == '[]')\n"
        "local t = {1, 2}\n"
        "assert(json.array(t) == t and json.array(t) == t)\n"
        "assert(json.encode({1, 2, 3}) == '[1,2,3]')\n"
        "assert(json.encode({b = 1, a = 2, c = {}}) == '{\"a\":2,\"b\":1,\"c\":{}}')\n"
        "assert(json.encode({1, 2, x = 1}) == '{\"1\":1,\"2\":2,\"x\":1}')\n"
        "assert(json.encode({[1] = 1, [3] = 3}) == '{\"1\":1,\"3\":3}')\n"
        "assert(json.encode({[-1] = 1}) == '{\"-1\":1}')\n"
        "assert(json.encode({[1.5] = true}) == '{\"1.5\":true}')\n"
        "assert(json.encode(setmetatable({1, 2}, {__jsontype = 'object'})) ==\n"
        "  '{\"1\":1,\"2\":2}')\n"
        "assert(json.encode(setmetatable({1, 2, x = 3}, {__jsontype = 'array'})) == '[1,2]')\n"
        "assert(json.encode('a\"b\\n\\\\') == '\"a\\\\\"b\\\\n\\\\\\\\\"')\n"
        "assert(json.encode(nil) == 'null' and json.encode(json.null) == 'null')\n"
        "assert(json.encode({json.null, 1}) == '[null,1]')\n"
        "assert(json.encode(true) == 'true' and json.encode(false) == 'false')\n"
        "assert(json.encode(3) == '3' and json.encode(3.5) == '3.5' and json.encode(-2) == '-2')\n"
        "assert(json.encode(2^53) == '9007199254740992')\n"
        "assert(json.encode(0.1) == '0.1' and json.encode(0.1 + 0.2) == '0.30000000000000004')\n"
        "assert(json.encode(1732550000123456) == '1732550000123456')\n"
        "assert(json.encode(math.maxinteger) == '9223372036854775807')\n"
        "assert(json.encode(math.mininteger) == '-9223372036854775808')\n"
        "assert(json.decode(json.encode({0.1 + 0.2}))[1] == 0.1 + 0.2)\n"
        "assert(json.encode({n = 1732550000123456}) == '{\"n\":1732550000123456}')\n"
        "assert(json.encode(1e300) == '1e+300' and json.encode(3.0) == '3')\n"
        "assert(json.encode({a = {b = {c = {}}}}) == '{\"a\":{\"b\":{\"c\":{}}}}')\n"
        "local shared = {1}\n"
        "assert(json.encode({a = shared, b = shared}) == '{\"a\":[1],\"b\":[1]}')\n"
        "local pretty = json.encode({a = 1, b = {1, 2}}, {pretty = true})\n"
        "assert(pretty:find('\\n'), pretty)\n"
        "assert(json.decode(pretty).b[2] == 2)\n"
        "assert(json.encode({a = 1}, {}) == '{\"a\":1}')\n"
        "local doc = {name = 'x', list = {1, 2.5, 'three', {four = 4}}, flag = false,\n"
        "  nothing = json.null, empty = json.array()}\n"
        "local back = json.decode(json.encode(doc))\n"
        "assert(json.encode(back) == json.encode(doc))\n"
        "assert(back.list[4].four == 4 and back.nothing == json.null)\n");
    lua_close(L);
}

static void test_json_encode_rejects_bad_values(void)
{
    lua_State *L = new_state();
    RUN(L, "local json = require 'tide.json'\n"
           "local function fails(v, msg)\n"
           "  local ok, err = pcall(json.encode, v)\n"
           "  assert(not ok, msg)\n"
           "  local want = 'tide.json.encode: ' .. msg\n"
           "  assert(err:sub(-#want) == want, err)\n"
           "end\n"
           "fails(print, 'cannot encode a function')\n"
           "fails({a = {b = print}}, 'cannot encode a function at $.a.b')\n"
           "fails({1, {2, math.huge}}, 'cannot encode NaN or infinity at $[2][2]')\n"
           "fails({x = 0/0}, 'cannot encode NaN or infinity at $.x')\n"
           "local t = {}; t.self = t\n"
           "fails(t, 'table is nested in itself (cycle) at $.self')\n"
           "local u = {list = {}}; u.list[1] = u\n"
           "fails(u, 'table is nested in itself (cycle) at $.list[1]')\n"
           "fails({[true] = 1}, 'cannot encode a table key of type boolean')\n"
           "fails({k = coroutine.create(print)}, 'cannot encode a thread at $.k')\n"
           "fails(io.stdout, 'cannot encode a userdata')\n"
           "fails('a\\0b', 'cannot encode a string with a NUL byte')\n"
           "fails({t = {['a\\0b'] = 1}}, 'cannot encode a key with a NUL byte at $.t')\n"
           "local function nest(n) local v = {} for _ = 1, n do v = {x = v} end return v end\n"
           "assert(#json.encode(nest(63)) > 0)\n"
           "local ok, err = pcall(json.encode, nest(64))\n"
           "assert(not ok and err:find('tide.json.encode: nesting deeper than 64 at $.x.x', 1,\n"
           "  true), err)\n"
           "local ok2, err2 = pcall(json.array, setmetatable({}, {}))\n"
           "assert(not ok2 and err2:find('table already has a metatable'), err2)\n"
           "assert(not pcall(json.array, 5))\n"
           "assert(not pcall(json.encode))\n"
           "assert(not pcall(json.encode, {}, 5))\n");
    lua_close(L);
}

static void test_json_encodes_proxies(void)
{
    lua_State *L = new_state();
    RUN(L, "local json = require 'tide.json'\n"
           "local K = json.null -- any light userdata will do as the key\n"
           "local function proxy(real, kind)\n"
           "  return setmetatable({[K] = real}, {__jsonproxy = K, __jsontype = kind,\n"
           "    __index = real})\n"
           "end\n"
           "local p = proxy({b = 2, a = proxy({1, 2})})\n"
           "assert(json.encode(p) == '{\"a\":[1,2],\"b\":2}', json.encode(p))\n"
           "assert(json.encode(proxy({}, 'array')) == '[]')\n");
    lua_close(L);
}

static void test_json_c_api(void)
{
    lua_State *L = new_state();
    cJSON *j = cJSON_Parse("{\"n\":[1,2.5,\"s\",null,true],\"o\":{\"k\":\"v\"}}");
    tide_json_push(L, j);
    lua_setglobal(L, "v");
    cJSON_Delete(j);
    RUN(L, "local json = require 'tide.json'\n"
           "assert(v.n[1] == 1 and v.n[2] == 2.5 and v.n[3] == 's' and v.n[4] == json.null)\n"
           "assert(v.n[5] == true and v.o.k == 'v')\n");

    int top = lua_gettop(L);
    RUN(L, "w = {list = {1, 2}, name = 'x', t = true}");
    lua_getglobal(L, "w");
    struct tide_err err = {{0}};
    cJSON *out = tide_json_from_lua(L, -1, &err);
    CHECK(out != NULL);
    CHECK(lua_gettop(L) == top + 1);
    char *text = cJSON_PrintUnformatted(out);
    CHECK_STR(text, "{\"list\":[1,2],\"name\":\"x\",\"t\":true}");
    cJSON_free(text);
    cJSON_Delete(out);
    lua_pop(L, 1);

    RUN(L, "bad = {ok = 1, f = {print}}");
    lua_getglobal(L, "bad");
    out = tide_json_from_lua(L, -1, &err);
    CHECK(out == NULL);
    CHECK_STR(err.msg, "cannot encode a function at $.f[1]");
    CHECK(lua_gettop(L) == top + 1);
    lua_pop(L, 1);

    /* numbers cJSON would round travel exactly through the C form (e.g. setup() data) */
    RUN(L, "big = {n = 1732550000123456, m = math.mininteger, f = 0.1 + 0.2, s = '12'}");
    lua_getglobal(L, "big");
    out = tide_json_from_lua(L, -1, &err);
    lua_pop(L, 1);
    tide_json_push(L, out);
    lua_setglobal(L, "back");
    cJSON_Delete(out);
    RUN(L, "assert(math.type(back.n) == 'integer' and back.n == 1732550000123456)\n"
           "assert(back.m == math.mininteger and back.f == 0.1 + 0.2 and back.s == '12')\n");

    tide_json_push_null(L);
    out = tide_json_from_lua(L, -1, &err);
    CHECK(cJSON_IsNull(out));
    cJSON_Delete(out);
    lua_pop(L, 1);
    CHECK(lua_gettop(L) == top);
    lua_close(L);
}

/* An allocator that fails from the N-th call on, as lua/lua's ltests.c does. */
struct limit {
    long calls;
    long fail_at; /* 0: never */
};

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct limit *lim = ud;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (lim->fail_at > 0 && ++lim->calls >= lim->fail_at && nsize > osize)
        return NULL;
    return realloc(ptr, nsize);
}

static void test_json_survives_allocation_failures(void)
{
    const char *code = "local json = require 'tide.json'\n"
                       "local s = json.encode({a = {1, 2, {b = 'x'}}, c = json.array(), d = 'y'})\n"
                       "local v = json.decode(s)\n"
                       "assert(json.encode(v) == s)\n"
                       "assert(not pcall(json.decode, '[1,'))\n";
    int passed = 0;
    for (long n = 1; n < 400; n++) {
        struct limit lim = {0, 0};
        lua_State *L = lua_newstate(limited_alloc, &lim);
        luaL_openlibs(L);
        luaL_requiref(L, "tide.json", luaopen_tide_json, 0);
        lua_pop(L, 1);
        int rc = luaL_loadstring(L, code);
        lim.fail_at = n;
        if (rc == LUA_OK)
            rc = lua_pcall(L, 0, 0, 0);
        lim.fail_at = 0;
        if (rc == LUA_OK)
            passed++;
        else
            CHECK(rc == LUA_ERRMEM || lua_tostring(L, -1) != NULL);
        lua_close(L);
    }
    CHECK(passed > 0); /* the last runs had enough memory */
}

int main(void)
{
    test_json_decodes_values();
    test_json_decode_reports_position();
    test_json_encodes_values();
    test_json_encode_rejects_bad_values();
    test_json_encodes_proxies();
    test_json_c_api();
    test_json_survives_allocation_failures();
    return CHECK_DONE();
}
