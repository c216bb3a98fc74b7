/* vumem.c: per-VU accounting allocator for worker Lua states (see vumem.h). */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include "vu.h"
#include "vumem.h"

static size_t slot_of(const struct tide_vumem *m, const void *p)
{
    uintptr_t h = (uintptr_t)p >> 4;
    h ^= h >> 17;
    h *= (uintptr_t)0x9e3779b97f4a7c15ULL;
    return (size_t)h & (m->slots - 1);
}

static size_t find(const struct tide_vumem *m, const void *p)
{
    if (m->slots == 0)
        return SIZE_MAX;
    for (size_t i = slot_of(m, p);; i = (i + 1) & (m->slots - 1)) {
        if (m->keys[i] == p)
            return i;
        if (m->keys[i] == NULL)
            return SIZE_MAX;
    }
}

/* Removes slot i, moving later entries of its run back so lookups still find them. */
static void remove_at(struct tide_vumem *m, size_t i)
{
    size_t mask = m->slots - 1;
    m->keys[i] = NULL;
    m->used--;
    for (size_t j = (i + 1) & mask; m->keys[j] != NULL; j = (j + 1) & mask) {
        void *k = m->keys[j];
        struct tide_vu *o = m->owners[j];
        m->keys[j] = NULL;
        m->used--;
        size_t s = slot_of(m, k);
        while (m->keys[s] != NULL)
            s = (s + 1) & mask;
        m->keys[s] = k;
        m->owners[s] = o;
        m->used++;
    }
}

static bool grow(struct tide_vumem *m)
{
    size_t n = m->slots ? m->slots * 2 : 1024;
    void **keys = calloc(n, sizeof *keys);
    struct tide_vu **owners = calloc(n, sizeof *owners);
    if (keys == NULL || owners == NULL) {
        free(keys);
        free(owners);
        return false;
    }
    void **ok = m->keys;
    struct tide_vu **oo = m->owners;
    size_t on = m->slots;
    m->keys = keys;
    m->owners = owners;
    m->slots = n;
    m->used = 0;
    for (size_t i = 0; i < on; i++) {
        if (ok[i] == NULL)
            continue;
        size_t s = slot_of(m, ok[i]);
        while (m->keys[s] != NULL)
            s = (s + 1) & (n - 1);
        m->keys[s] = ok[i];
        m->owners[s] = oo[i];
        m->used++;
    }
    free(ok);
    free(oo);
    return true;
}

static void put(struct tide_vumem *m, void *p, struct tide_vu *owner, size_t size)
{
    if ((m->used + 1) * 2 > m->slots && !grow(m))
        return; /* not attributed: the state's cap still holds */
    size_t s = slot_of(m, p);
    while (m->keys[s] != NULL)
        s = (s + 1) & (m->slots - 1);
    m->keys[s] = p;
    m->owners[s] = owner;
    m->used++;
    owner->mem += (int64_t)size;
}

/* Whether to refuse growing 'owner' (may be NULL) by 'delta' bytes. Over the cap, the VU is
 * flagged: its count hook collects garbage and decides at its next instruction. */
static bool refuse(struct tide_vumem *m, struct tide_vu *owner, int64_t delta)
{
    int64_t state_cap = m->base + ((int64_t)atomic_load(m->nvus) + 1) * m->cap;
    bool refused = m->total + delta > state_cap;
    if (owner != NULL) {
        if (owner->doom == TIDE_VU_OUT_OF_MEMORY || owner->mem + delta > 2 * m->cap)
            refused = true;
        if (owner->mem + delta > m->cap && owner->co != NULL && !owner->mem_over) {
            owner->mem_over = true;
            tide_vu_check_soon(owner);
        }
    }
    return refused;
}

/* ---- small-block pools: a steady-state request allocates nothing from malloc ---- */

#if defined(__SANITIZE_ADDRESS__)
#define POOLING_ALLOWED false /* a pooled block would hide a use after free from ASan */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOLING_ALLOWED false
#endif
#endif
#ifndef POOLING_ALLOWED
#define POOLING_ALLOWED true
#endif

static size_t pool_class(size_t n)
{
    return n == 0 || n > TIDE_VUMEM_POOL_STEP * TIDE_VUMEM_POOL_CLASSES
               ? SIZE_MAX
               : (n - 1) / TIDE_VUMEM_POOL_STEP;
}

static size_t class_bytes(size_t cls)
{
    return (cls + 1) * TIDE_VUMEM_POOL_STEP;
}

static void *pool_take(struct tide_vumem *m, size_t cls)
{
    void *p = m->pool[cls];
    if (p == NULL)
        return malloc(class_bytes(cls));
    memcpy(&m->pool[cls], p, sizeof(void *));
    m->pooled[cls]--;
    m->pooled_bytes -= class_bytes(cls);
    return p;
}

/* Frees 'p' of Lua size 'size': kept when the pools have room and the block really holds the
 * class's size (blocks made before the pools, with malloc's exact size, may not). */
static void pool_give(struct tide_vumem *m, void *p, size_t size)
{
    size_t cls = pool_class(size);
    if (cls != SIZE_MAX && m->pooled_bytes + class_bytes(cls) <= TIDE_VUMEM_POOL_BYTES &&
        malloc_usable_size(p) >= class_bytes(cls)) {
        memcpy(p, &m->pool[cls], sizeof(void *));
        m->pool[cls] = p;
        m->pooled[cls]++;
        m->pooled_bytes += class_bytes(cls);
        return;
    }
    free(p);
}

static void pool_drain(struct tide_vumem *m)
{
    for (size_t cls = 0; cls < TIDE_VUMEM_POOL_CLASSES; cls++) {
        while (m->pool[cls] != NULL)
            free(pool_take(m, cls));
        m->pooled[cls] = 0;
    }
}

/* lua_Alloc's contract (old: the block's size, 0 without one) on the pools. */
static void *pool_realloc(struct tide_vumem *m, void *ptr, size_t old, size_t nsize)
{
    if (nsize == 0) {
        if (ptr != NULL)
            pool_give(m, ptr, old);
        return NULL;
    }
    size_t ncls = pool_class(nsize);
    if (ptr == NULL)
        return ncls != SIZE_MAX ? pool_take(m, ncls) : malloc(nsize);
    size_t ocls = pool_class(old);
    if (ocls == SIZE_MAX && ncls == SIZE_MAX)
        return realloc(ptr, nsize);
    if (ocls == ncls && malloc_usable_size(ptr) >= class_bytes(ncls))
        return ptr; /* the block already holds the class */
    void *p = ncls != SIZE_MAX ? pool_take(m, ncls) : malloc(nsize);
    if (p == NULL)
        return NULL; /* the old block is untouched */
    memcpy(p, ptr, old < nsize ? old : nsize);
    pool_give(m, ptr, old);
    return p;
}

static void *vumem_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct tide_vumem *m = ud;
    size_t old = ptr != NULL ? osize : 0; /* without ptr, osize is a type tag */
    size_t at = ptr != NULL && old >= TIDE_VUMEM_LARGE ? find(m, ptr) : SIZE_MAX;
    struct tide_vu *owner = at != SIZE_MAX ? m->owners[at] : NULL;
    struct tide_vu *nowner = nsize >= TIDE_VUMEM_LARGE ? (owner ? owner : m->running) : NULL;
    if (nsize > old && m->cap > 0 &&
        refuse(m, nowner, (int64_t)nsize - (nowner == owner ? (int64_t)old : 0)))
        return NULL;
    void *p =
        m->pooling ? pool_realloc(m, ptr, old, nsize) : m->orig(m->orig_ud, ptr, osize, nsize);
    if (p == NULL && nsize > 0)
        return NULL; /* the old block is untouched */
    m->total += (int64_t)nsize - (int64_t)old;
    if (at != SIZE_MAX) {
        owner->mem -= (int64_t)old;
        remove_at(m, at);
    }
    if (nowner != NULL && m->cap > 0)
        put(m, p, nowner, nsize);
    return p;
}

void tide_vumem_install(struct tide_vumem *m, lua_State *L, int64_t cap, const atomic_int *nvus)
{
    m->orig = lua_getallocf(L, &m->orig_ud);
    m->total = (int64_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + lua_gc(L, LUA_GCCOUNTB, 0);
    m->base = m->total;
    m->cap = cap;
    m->nvus = nvus;
    m->running = NULL;
    m->pooling = POOLING_ALLOWED;
    lua_setallocf(L, vumem_alloc, m);
}

struct tide_vu *tide_vumem_enter(struct tide_vumem *m, struct tide_vu *vu)
{
    struct tide_vu *prev = m->running;
    m->running = vu;
    return prev;
}

void tide_vumem_leave(struct tide_vumem *m, struct tide_vu *prev)
{
    m->running = prev;
}

void tide_vumem_forget(struct tide_vumem *m, struct tide_vu *vu)
{
    if (m->running == vu)
        m->running = NULL;
    if (vu->mem == 0)
        return;
    for (size_t i = 0; i < m->slots; i++) {
        while (m->keys[i] != NULL && m->owners[i] == vu)
            remove_at(m, i); /* a later entry may move into slot i */
    }
    vu->mem = 0;
}

void tide_vumem_detach(struct tide_vumem *m)
{
    free(m->keys);
    free(m->owners);
    m->keys = NULL;
    m->owners = NULL;
    m->slots = m->used = 0;
    m->running = NULL;
    m->cap = 0;
    m->pooling = false; /* what is still freed (lua_close) goes back to malloc */
    pool_drain(m);
}
