/* car.h: CARv1 files (the IPFS archive format kubo's `dag import`/`dag export` use): a
 * DAG-CBOR header {roots: [CID], version: 1}, then each block as varint(length) CID bytes.
 * The writer puts a DAG's blocks root first, depth-first, each once (what `ipfs dag export`
 * does), re-reading every leaf from its file and refusing a file that changed since the DAG
 * was built. The reader indexes a CAR while checking every block's sha2-256 against its CID,
 * then checks the DAG under each root is complete; an error names the block. */
#ifndef TIDE_CAR_H
#define TIDE_CAR_H
#include <stdint.h>
#include <stdio.h>
#include "cid.h"
#include "err.h"
#include "unixfs.h"

/* Writes the CAR of 'dag' to 'out'; 0, or -1 with a message. 'bytes' (may be NULL) gets the
 * CAR's size. */
int tide_car_write(const struct tide_dag *dag, FILE *out, uint64_t *bytes, struct tide_err *err);

/* A set of CIDs, with where each block lies in a CAR. */
struct tide_cidmap_slot {
    struct tide_cid cid;
    uint64_t offset; /* of the block's bytes, after its CID */
    uint32_t len;
    uint8_t used;
};
struct tide_cidmap {
    struct tide_cidmap_slot *slots;
    size_t cap, n;
};
/* Adds 'cid' (no-op when present); 1 when added, 0 when present, -1 without memory. */
int tide_cidmap_put(struct tide_cidmap *m, const struct tide_cid *cid, uint64_t offset,
                    uint32_t len);
const struct tide_cidmap_slot *tide_cidmap_get(const struct tide_cidmap *m,
                                               const struct tide_cid *cid);
void tide_cidmap_free(struct tide_cidmap *m);

enum { TIDE_CAR_MAX_ROOTS = 16, TIDE_CAR_MAX_BLOCK = 4 << 20 };
struct tide_car {
    FILE *f;
    struct tide_cid roots[TIDE_CAR_MAX_ROOTS];
    size_t nroots;
    struct tide_cidmap blocks;
    uint64_t nblocks; /* blocks read, duplicates included */
};

/* Opens and indexes a CAR, checking every block's hash: 0, or -1 with a message naming the
 * block (or the offset where the file stops being a CAR). Close with tide_car_close, also
 * after a failure. */
int tide_car_open(const char *path, struct tide_car *car, struct tide_err *err);
/* Every block linked from the roots, recursively, is in the CAR. */
int tide_car_check_complete(struct tide_car *car, struct tide_err *err);
/* A block's bytes (malloc'd, the caller frees them); -1 when absent or unreadable. */
int tide_car_read(struct tide_car *car, const struct tide_cid *cid, uint8_t **data, size_t *len,
                  struct tide_err *err);
void tide_car_close(struct tide_car *car);

#endif
