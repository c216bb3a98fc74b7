/* dagpb.h: the two protobuf messages of a UnixFS DAG. PBNode (dag-pb: links, then data, the
 * canonical order every implementation hashes) and the UnixFS Data it carries (file or
 * directory, file size, the sizes of a file's blocks). Encoding writes exactly the fields
 * kubo writes, so tide's blocks hash like kubo's; decoding takes what a CAR holds, bounded. */
#ifndef TIDE_DAGPB_H
#define TIDE_DAGPB_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "cid.h"

struct tide_pb_link {
    struct tide_cid cid;
    const uint8_t *name; /* not NUL-terminated; into the node's bytes when decoded */
    size_t name_len;
    uint64_t tsize; /* the linked DAG's total block bytes */
};

/* Appends a PBNode: each link (Hash, Name even when empty, Tsize), then Data. */
void tide_pb_encode(struct tide_buf *out, const struct tide_pb_link *links, size_t nlinks,
                    const uint8_t *data, size_t data_len);

enum { TIDE_PB_MAX_LINKS = 1 << 16 };
struct tide_pb_node {
    struct tide_pb_link *links; /* malloc'd; names point into the decoded bytes */
    size_t nlinks;
    const uint8_t *data; /* NULL when absent */
    size_t data_len;
};
/* Decodes a PBNode; 0, or -1 (with 'why') when malformed, a link's CID is one tide cannot
 * read, or it has more than TIDE_PB_MAX_LINKS links. Free with tide_pb_node_free. */
int tide_pb_decode(const uint8_t *p, size_t len, struct tide_pb_node *node, const char **why);
void tide_pb_node_free(struct tide_pb_node *node);

/* UnixFS Data. */
enum { TIDE_UNIXFS_RAW = 0, TIDE_UNIXFS_DIRECTORY = 1, TIDE_UNIXFS_FILE = 2 };
struct tide_unixfs {
    int type;
    const uint8_t *data; /* a file node's own bytes (NULL when absent) */
    size_t data_len;
    uint64_t filesize;
    int has_filesize;
};
/* Appends a File's Data (Type, filesize, one blocksizes field per child) or, with type
 * Directory, just its Type. */
void tide_unixfs_encode(struct tide_buf *out, int type, uint64_t filesize,
                        const uint64_t *blocksizes, size_t nblocks);
int tide_unixfs_decode(const uint8_t *p, size_t len, struct tide_unixfs *u, const char **why);

#endif
