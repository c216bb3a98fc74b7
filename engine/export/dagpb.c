/* dagpb.c: protobuf encoding and decoding of PBNode, PBLink and UnixFS Data (proto2: repeated
 * fields unpacked, as kubo writes them). */
#include "dagpb.h"
#include <stdlib.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

static void put_varint(struct tide_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    tide_buf_add(b, tmp, tide_varint_put(tmp, v));
}

static void put_key(struct tide_buf *b, unsigned field, unsigned wire)
{
    put_varint(b, (uint64_t)field << 3 | wire);
}

static void put_bytes(struct tide_buf *b, unsigned field, const void *p, size_t n)
{
    put_key(b, field, WIRE_LEN);
    put_varint(b, n);
    tide_buf_add(b, p, n);
}

void tide_pb_encode(struct tide_buf *out, const struct tide_pb_link *links, size_t nlinks,
                    const uint8_t *data, size_t data_len)
{
    for (size_t i = 0; i < nlinks; i++) {
        struct tide_buf link = {0};
        uint8_t cid[TIDE_CID_BYTES];
        tide_cid_to_bytes(&links[i].cid, cid);
        put_bytes(&link, 1, cid, sizeof cid);
        put_bytes(&link, 2, links[i].name, links[i].name_len);
        put_key(&link, 3, WIRE_VARINT);
        put_varint(&link, links[i].tsize);
        if (link.failed)
            out->failed = true;
        put_bytes(out, 2, link.data, link.len);
        tide_buf_free(&link);
    }
    if (data != NULL)
        put_bytes(out, 1, data, data_len);
}

void tide_unixfs_encode(struct tide_buf *out, int type, uint64_t filesize,
                        const uint64_t *blocksizes, size_t nblocks)
{
    put_key(out, 1, WIRE_VARINT);
    put_varint(out, (uint64_t)type);
    if (type != TIDE_UNIXFS_FILE)
        return;
    put_key(out, 3, WIRE_VARINT);
    put_varint(out, filesize);
    for (size_t i = 0; i < nblocks; i++) {
        put_key(out, 4, WIRE_VARINT);
        put_varint(out, blocksizes[i]);
    }
}

/* One field of a message: its number, wire type, and value (varint or bytes). */
struct field {
    uint64_t num, wire, v;
    const uint8_t *p;
    size_t len;
};

/* Reads the field at *at; 1 when one was read, 0 at the end, -1 when malformed. */
static int next_field(const uint8_t *p, size_t len, size_t *at, struct field *f)
{
    if (*at == len)
        return 0;
    uint64_t key;
    size_t k = tide_varint_get(p + *at, len - *at, &key);
    if (k == 0)
        return -1;
    *at += k;
    f->num = key >> 3;
    f->wire = key & 7;
    f->p = NULL;
    f->len = 0;
    switch (f->wire) {
    case WIRE_VARINT:
        k = tide_varint_get(p + *at, len - *at, &f->v);
        if (k == 0)
            return -1;
        *at += k;
        return 1;
    case WIRE_LEN:
        k = tide_varint_get(p + *at, len - *at, &f->v);
        if (k == 0 || f->v > len - *at - k)
            return -1;
        f->p = p + *at + k;
        f->len = (size_t)f->v;
        *at += k + f->len;
        return 1;
    case WIRE_I64:
    case WIRE_I32: {
        size_t w = f->wire == WIRE_I64 ? 8 : 4;
        if (len - *at < w)
            return -1;
        *at += w;
        return 1;
    }
    default:
        return -1;
    }
}

static int decode_link(const struct field *f, struct tide_pb_link *l, const char **why)
{
    size_t at = 0;
    struct field g;
    int r, has_hash = 0;
    memset(l, 0, sizeof *l);
    while ((r = next_field(f->p, f->len, &at, &g)) == 1) {
        if (g.num == 1 && g.wire == WIRE_LEN) {
            size_t used = tide_cid_from_bytes(g.p, g.len, &l->cid, why);
            if (used == 0 || used != g.len)
                return -1;
            has_hash = 1;
        } else if (g.num == 2 && g.wire == WIRE_LEN) {
            l->name = g.p;
            l->name_len = g.len;
        } else if (g.num == 3 && g.wire == WIRE_VARINT) {
            l->tsize = g.v;
        }
    }
    if (r < 0 || !has_hash) {
        *why = r < 0 ? "a malformed link" : "a link without a hash";
        return -1;
    }
    return 0;
}

int tide_pb_decode(const uint8_t *p, size_t len, struct tide_pb_node *node, const char **why)
{
    const char *dummy;
    if (why == NULL)
        why = &dummy;
    memset(node, 0, sizeof *node);
    size_t at = 0, cap = 0;
    struct field f;
    int r;
    while ((r = next_field(p, len, &at, &f)) == 1) {
        if (f.num == 1 && f.wire == WIRE_LEN) {
            node->data = f.p;
            node->data_len = f.len;
        } else if (f.num == 2 && f.wire == WIRE_LEN) {
            if (node->nlinks == TIDE_PB_MAX_LINKS) {
                *why = "too many links";
                goto fail;
            }
            if (node->nlinks == cap) {
                cap = cap ? cap * 2 : 8;
                struct tide_pb_link *more = realloc(node->links, cap * sizeof *more);
                if (more == NULL) {
                    *why = "out of memory";
                    goto fail;
                }
                node->links = more;
            }
            if (decode_link(&f, &node->links[node->nlinks], why) != 0)
                goto fail;
            node->nlinks++;
        } else {
            *why = "a field dag-pb does not have";
            goto fail;
        }
    }
    if (r == 0)
        return 0;
    *why = "malformed protobuf";
fail:
    tide_pb_node_free(node);
    return -1;
}

void tide_pb_node_free(struct tide_pb_node *node)
{
    free(node->links);
    memset(node, 0, sizeof *node);
}

int tide_unixfs_decode(const uint8_t *p, size_t len, struct tide_unixfs *u, const char **why)
{
    size_t at = 0;
    struct field f;
    int r, has_type = 0;
    memset(u, 0, sizeof *u);
    while ((r = next_field(p, len, &at, &f)) == 1) {
        if (f.num == 1 && f.wire == WIRE_VARINT) {
            u->type = f.v > 16 ? -1 : (int)f.v;
            has_type = 1;
        } else if (f.num == 2 && f.wire == WIRE_LEN) {
            u->data = f.p;
            u->data_len = f.len;
        } else if (f.num == 3 && f.wire == WIRE_VARINT) {
            u->filesize = f.v;
            u->has_filesize = 1;
        }
    }
    if (r < 0 || !has_type) {
        *why = r < 0 ? "malformed UnixFS data" : "UnixFS data without a type";
        return -1;
    }
    return 0;
}
