/* Unit tests of the VU memory accounting allocator (vumem.c): large blocks are charged to the
 * VU that made them, credited back whoever's turn frees them, and growth beyond the hard limit
 * is refused (a Lua "not enough memory" error, never a crash). */
#include <stdlib.h>
#include <lauxlib.h>
#include <lualib.h>
#include "../check.h"
#include "vu.h"
#include "vumem.h"

static bool run(lua_State *L, const char *code)
{
    bool ok = luaL_loadstring(L, code) == LUA_OK && lua_pcall(L, 0, 0, 0) == LUA_OK;
    if (!ok)
        lua_pop(L, 1);
    return ok;
}

static void test_attribution(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    static struct tide_vumem m;
    atomic_int nvus = 1;
    struct tide_vu *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    tide_vumem_install(&m, L, 1024 * 1024, &nvus);
    struct tide_vu *prev = tide_vumem_enter(&m, a);
    CHECK(prev == NULL);
    CHECK(run(L, "big = string.rep('x', 600000)"));
    CHECK(a->mem >= 600000 && a->mem < 700000);
    tide_vumem_leave(&m, prev);
    /* freed during another VU's turn: still credited to the VU that made it */
    tide_vumem_enter(&m, b);
    CHECK(run(L, "big = nil collectgarbage() small = {} for i = 1, 100 do small[i] = i end"));
    CHECK(a->mem == 0);
    CHECK(b->mem < 4096);
    tide_vumem_leave(&m, NULL);
    /* beyond twice the cap: refused, as a Lua error */
    tide_vumem_enter(&m, a);
    CHECK(!run(L, "huge = string.rep('y', 3 * 1024 * 1024)"));
    CHECK(run(L, "collectgarbage()"));
    CHECK(a->mem == 0);
    tide_vumem_leave(&m, NULL);
    /* nobody running: not capped per VU, only the whole state (here 5 MB over its base) */
    nvus = 4;
    CHECK(run(L, "free = string.rep('z', 1500000)"));
    CHECK(!run(L, "free = nil collectgarbage() free = string.rep('z', 6 * 1024 * 1024)"));
    CHECK(a->mem == 0 && b->mem < 4096);
    tide_vumem_detach(&m);
    lua_close(L);
    free(a);
    free(b);
}

int main(void)
{
    test_attribution();
    return CHECK_DONE();
}
