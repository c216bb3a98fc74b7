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

static bool check_bounds(const struct tide_vumem *m)
{
    size_t bytes = 0;
    for (int c = 0; c < TIDE_VUMEM_POOL_CLASSES; c++)
        bytes += (size_t)m->pooled[c] * (c + 1) * TIDE_VUMEM_POOL_STEP;
    return bytes == m->pooled_bytes && bytes <= TIDE_VUMEM_POOL_BYTES;
}

/* Small blocks freed are kept for reuse, a bounded number per size class, and given back to
 * malloc at detach; growing and shrinking blocks across classes keeps their contents. */
static void test_pools(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    static struct tide_vumem m;
    atomic_int nvus = 1;
    tide_vumem_install(&m, L, 0, &nvus);
    /* a table's array grows through every class and beyond; strings of every small size */
    CHECK(run(L, "local t = {} for i = 1, 200 do t[i] = i end local s = 0 "
                 "for i = 1, #t do s = s + t[i] end assert(s == 20100) "
                 "local parts = {} for n = 1, 300 do parts[n] = string.rep('a', n) .. n end "
                 "for n = 1, 300 do assert(#parts[n] == n + #tostring(n)) end"));
    /* 200k small tables freed at once (64 bytes and their 32-byte arrays, 19 MB): the pools
     * fill up to their bound, no further */
    CHECK(run(L, "local k = {} for i = 1, 200000 do k[i] = {i, i + 1} end k = nil "
                 "collectgarbage()"));
    CHECK(check_bounds(&m));
    if (m.pooling)
        CHECK(m.pooled_bytes > TIDE_VUMEM_POOL_BYTES / 2);
    unsigned kept = 0;
    for (int c = 0; c < TIDE_VUMEM_POOL_CLASSES; c++)
        kept += m.pooled[c];
    if (m.pooling) {
        CHECK(kept > 0);
        /* reuse: new small tables come from the pools */
        CHECK(run(L, "keep = {} for i = 1, 100 do keep[i] = {i} end"));
        unsigned after = 0;
        for (int c = 0; c < TIDE_VUMEM_POOL_CLASSES; c++)
            after += m.pooled[c];
        CHECK(after < kept);
    } else {
        CHECK(kept == 0); /* under AddressSanitizer every block goes back to malloc */
    }
    CHECK(run(L, "local t = {} for i = 1, 50 do t[i] = ('x'):rep(i) end "
                 "for i = 50, 1, -1 do t[i] = nil end collectgarbage() assert(next(t) == nil)"));
    tide_vumem_detach(&m);
    for (int c = 0; c < TIDE_VUMEM_POOL_CLASSES; c++)
        CHECK(m.pool[c] == NULL && m.pooled[c] == 0);
    CHECK(m.pooled_bytes == 0);
    CHECK(!m.pooling);
    lua_close(L); /* after detach: every block to free(), none pooled */
    for (int c = 0; c < TIDE_VUMEM_POOL_CLASSES; c++)
        CHECK(m.pool[c] == NULL);
}

int main(void)
{
    test_attribution();
    test_pools();
    return CHECK_DONE();
}
