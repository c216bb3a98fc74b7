/* vumem.h: the Lua memory cap of VUs. A worker's Lua state allocates through an accounting
 * allocator. Every large block (strings, table parts: where a VU's memory grows) remembers the
 * VU that allocated it, so a VU's count is exact whichever VU's turn the collector frees it
 * in. A VU over its cap is checked at its next instruction (full collection first: garbage is
 * not held against it) and, still over, ends with a counted script error instead of running
 * the machine out of memory. Allocations beyond twice the cap, or beyond the whole state's
 * cap (base + (VUs + 1) * cap), are refused outright ("not enough memory"). */
#ifndef TIDE_VUMEM_H
#define TIDE_VUMEM_H
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lua.h>

#define TIDE_VU_MEMORY_DEFAULT  (64 * 1024 * 1024)
#define TIDE_VUMEM_LARGE        1024 /* bytes: blocks from this size on are attributed */
#define TIDE_VUMEM_POOL_STEP    16
#define TIDE_VUMEM_POOL_CLASSES 16                /* blocks up to 256 bytes are pooled */
#define TIDE_VUMEM_POOL_BYTES   ((size_t)4 << 20) /* free bytes kept at most, per worker */

struct tide_vu;

struct tide_vumem {
    lua_Alloc orig;
    void *orig_ud;
    int64_t total;           /* bytes in the state */
    int64_t base;            /* bytes before any VU */
    int64_t cap;             /* per VU; 0: no cap */
    const atomic_int *nvus;  /* the worker's VU count */
    struct tide_vu *running; /* attributed VU, or NULL */
    /* large block -> owner (open addressing; NULL key: empty) */
    void **keys;
    struct tide_vu **owners;
    size_t slots, used;
    /* Freed small blocks kept for reuse, by size class of TIDE_VUMEM_POOL_STEP bytes: a
     * request's table, strings and closures come back from here instead of malloc. */
    void *pool[TIDE_VUMEM_POOL_CLASSES];
    unsigned pooled[TIDE_VUMEM_POOL_CLASSES];
    size_t pooled_bytes; /* bounded by TIDE_VUMEM_POOL_BYTES: a collection that frees a burst
                          * (1000 VUs' responses) keeps what the next requests will ask for */
    bool pooling;        /* off until install, after detach, and under AddressSanitizer */
};

/* Routes L's allocations through 'm' from now on ('m' must outlive L; L comes from
 * luaL_newstate, whose allocator is malloc's). */
void tide_vumem_install(struct tide_vumem *m, lua_State *L, int64_t cap, const atomic_int *nvus);
/* Attributes new allocations to 'vu' (NULL: nobody) until tide_vumem_leave; returns what to
 * pass to tide_vumem_leave (the previous VU: resumes may nest). */
struct tide_vu *tide_vumem_enter(struct tide_vumem *m, struct tide_vu *vu);
void tide_vumem_leave(struct tide_vumem *m, struct tide_vu *prev);
/* Forgets 'vu' as an owner (before it is freed). */
void tide_vumem_forget(struct tide_vumem *m, struct tide_vu *vu);
/* Stops attributing (all VUs are about to be freed) and pooling, and frees the table and the
 * pooled blocks. */
void tide_vumem_detach(struct tide_vumem *m);

#endif
