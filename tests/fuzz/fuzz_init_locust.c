/* fuzz_init_locust: `tide init --from-locust` on any file (engine/run/init_locust.c). Whatever
 * the input, the translation ends, stays bounded, and writes a Lua chunk that compiles, with
 * no control character but newline and tab (copied text cannot break out of a comment). */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "init_locust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tide_locust_result r;
    struct tide_err err;
    if (tide_locust_translate((const char *)data, size, "fuzz.lua", NULL, &r, &err) != 0) {
        if (size <= TIDE_LOCUST_MAX_BYTES && memchr(data, '\0', size) == NULL)
            abort(); /* text of an allowed size is always translated */
        return 0;
    }
    size_t n = strlen(r.lua);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)r.lua[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
            abort();
    }
    lua_State *L = luaL_newstate();
    if (L == NULL)
        abort();
    if (luaL_loadbufferx(L, r.lua, n, "=fuzz.lua", "t") != LUA_OK) {
        fprintf(stderr, "%s\n--- output:\n%s\n", lua_tostring(L, -1), r.lua);
        abort(); /* the output always compiles */
    }
    lua_close(L);
    tide_locust_result_free(&r);
    return 0;
}
