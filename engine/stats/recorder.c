/* recorder.c: swap-and-recycle handover of per-interval registries (see recorder.h). */
#include <pthread.h>
#include <stdlib.h>
#include "recorder.h"

struct tide_recorder {
    struct tide_registry *active; /* the writer's; never touched by the reader */
    pthread_mutex_t lock;         /* guards the three lists below */
    struct tide_interval *filled, **filled_tail;
    struct tide_interval *spare; /* reset registries, ready for a swap */
};

static struct tide_interval *interval_new(void)
{
    struct tide_interval *iv = calloc(1, sizeof *iv);
    if (iv == NULL)
        return NULL;
    iv->reg = tide_registry_new();
    if (iv->reg == NULL) {
        free(iv);
        return NULL;
    }
    return iv;
}

static void intervals_free(struct tide_interval *list)
{
    while (list != NULL) {
        struct tide_interval *next = list->next;
        tide_registry_free(list->reg);
        free(list);
        list = next;
    }
}

struct tide_recorder *tide_recorder_new(void)
{
    struct tide_recorder *rec = calloc(1, sizeof *rec);
    if (rec == NULL)
        return NULL;
    rec->active = tide_registry_new();
    if (rec->active == NULL) {
        free(rec);
        return NULL;
    }
    pthread_mutex_init(&rec->lock, NULL);
    rec->filled_tail = &rec->filled;
    return rec;
}

void tide_recorder_free(struct tide_recorder *rec)
{
    if (rec == NULL)
        return;
    intervals_free(rec->filled);
    intervals_free(rec->spare);
    tide_registry_free(rec->active);
    pthread_mutex_destroy(&rec->lock);
    free(rec);
}

struct tide_registry *tide_recorder_active(const struct tide_recorder *rec)
{
    return rec->active;
}

int tide_recorder_swap(struct tide_recorder *rec, int64_t index)
{
    pthread_mutex_lock(&rec->lock);
    struct tide_interval *iv = rec->spare;
    if (iv != NULL)
        rec->spare = iv->next;
    pthread_mutex_unlock(&rec->lock);
    if (iv == NULL) /* the first seconds, or the reader is behind: grow the pool */
        iv = interval_new();
    if (iv == NULL)
        return -1;
    struct tide_registry *filled = rec->active;
    rec->active = iv->reg;
    iv->reg = filled;
    iv->index = index;
    iv->next = NULL;
    pthread_mutex_lock(&rec->lock);
    *rec->filled_tail = iv;
    rec->filled_tail = &iv->next;
    pthread_mutex_unlock(&rec->lock);
    return 0;
}

struct tide_interval *tide_recorder_take(struct tide_recorder *rec)
{
    pthread_mutex_lock(&rec->lock);
    struct tide_interval *iv = rec->filled;
    if (iv != NULL) {
        rec->filled = iv->next;
        if (rec->filled == NULL)
            rec->filled_tail = &rec->filled;
        iv->next = NULL;
    }
    pthread_mutex_unlock(&rec->lock);
    return iv;
}

void tide_recorder_recycle(struct tide_recorder *rec, struct tide_interval *iv)
{
    if (iv == NULL)
        return;
    tide_registry_reset(iv->reg);
    pthread_mutex_lock(&rec->lock);
    iv->next = rec->spare;
    rec->spare = iv;
    pthread_mutex_unlock(&rec->lock);
}
