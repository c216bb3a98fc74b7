/* unixfs.h: a folder (or a file) as a UnixFS DAG, with the parameters of kubo's
 * `ipfs add --cid-version=1` (profile "kubo-cid-v1"): 256 KiB chunks, raw leaves, the
 * balanced layout with at most 174 links per node, directories as dag-pb with links sorted by
 * name bytes. The DAG is kept small in memory: dag-pb nodes hold their bytes, a leaf only
 * where its chunk lies (file, offset, length), so the CAR writer re-reads it and checks that
 * it did not change meanwhile. Every file and folder inside is taken (hidden ones too);
 * symbolic links and other special files are refused, as are directories so large kubo would
 * shard them (HAMT), whose CIDs tide does not compute. */
#ifndef TIDE_UNIXFS_H
#define TIDE_UNIXFS_H
#include <stddef.h>
#include <stdint.h>
#include "cid.h"
#include "err.h"

#define TIDE_UNIXFS_PROFILE "kubo-cid-v1"
enum { TIDE_UNIXFS_CHUNK = 262144, TIDE_UNIXFS_MAX_LINKS = 174 };

struct tide_dag_node {
    struct tide_cid cid;
    uint64_t tsize; /* bytes of this block and every block below it */
    /* a raw leaf: where its bytes are */
    uint32_t file;
    uint64_t offset;
    uint32_t len;
    /* a dag-pb node: its bytes and its children, in link order */
    uint8_t *bytes;
    size_t nbytes;
    uint32_t *kids;
    uint32_t nkids;
};

struct tide_dag {
    struct tide_dag_node *nodes;
    size_t n, cap;
    char **files; /* paths of the files leaves point into */
    size_t nfiles, files_cap;
    uint32_t root;
};

/* Builds the DAG of 'path' (a folder, or a single file); 0, or -1 with a one-line message.
 * Release with tide_dag_free (also after a failure). */
int tide_dag_build(const char *path, struct tide_dag *dag, struct tide_err *err);
void tide_dag_free(struct tide_dag *dag);

#endif
