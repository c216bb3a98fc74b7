/* car.c: writing and reading CARv1. */
#include "car.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dagpb.h"

/* ---- the CID set ---- */

static size_t slot_of(const struct tide_cid *cid, size_t cap)
{
    uint64_t h;
    memcpy(&h, cid->digest, sizeof h); /* a sha-256 is already uniform */
    return (size_t)(h ^ cid->codec) & (cap - 1);
}

static int grow(struct tide_cidmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    struct tide_cidmap_slot *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].used)
            continue;
        size_t s = slot_of(&m->slots[i].cid, cap);
        while (slots[s].used)
            s = (s + 1) & (cap - 1);
        slots[s] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int tide_cidmap_put(struct tide_cidmap *m, const struct tide_cid *cid, uint64_t offset,
                    uint32_t len)
{
    if ((m->n + 1) * 2 > m->cap && grow(m) != 0)
        return -1;
    size_t s = slot_of(cid, m->cap);
    while (m->slots[s].used) {
        if (tide_cid_equal(&m->slots[s].cid, cid))
            return 0;
        s = (s + 1) & (m->cap - 1);
    }
    m->slots[s] = (struct tide_cidmap_slot){.cid = *cid, .offset = offset, .len = len, .used = 1};
    m->n++;
    return 1;
}

const struct tide_cidmap_slot *tide_cidmap_get(const struct tide_cidmap *m,
                                               const struct tide_cid *cid)
{
    if (m->cap == 0)
        return NULL;
    for (size_t s = slot_of(cid, m->cap); m->slots[s].used; s = (s + 1) & (m->cap - 1)) {
        if (tide_cid_equal(&m->slots[s].cid, cid))
            return &m->slots[s];
    }
    return NULL;
}

void tide_cidmap_free(struct tide_cidmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* ---- writing ---- */

/* The header, hand-encoded DAG-CBOR: map(2) "roots" -> [tag 42 (bytes 0x00 ++ CID)],
 * "version" -> 1; keys in DAG-CBOR order (shorter first). */
static size_t header(const struct tide_cid *root, uint8_t *out)
{
    size_t n = 0;
    out[n++] = 0xa2;
    out[n++] = 0x65;
    memcpy(out + n, "roots", 5);
    n += 5;
    out[n++] = 0x81;
    out[n++] = 0xd8;
    out[n++] = 42;
    out[n++] = 0x58;
    out[n++] = TIDE_CID_BYTES + 1;
    out[n++] = 0x00; /* the identity multibase prefix CIDs carry in DAG-CBOR */
    tide_cid_to_bytes(root, out + n);
    n += TIDE_CID_BYTES;
    out[n++] = 0x67;
    memcpy(out + n, "version", 7);
    n += 7;
    out[n++] = 0x01;
    return n;
}

struct writer {
    const struct tide_dag *dag;
    FILE *out;
    uint64_t bytes;
    int fd; /* the file leaves are read from */
    uint32_t fd_file;
    uint8_t *chunk;
};

static int put_block(struct writer *w, const struct tide_cid *cid, const void *data, size_t len,
                     struct tide_err *err)
{
    uint8_t head[10 + TIDE_CID_BYTES];
    size_t n = tide_varint_put(head, TIDE_CID_BYTES + (uint64_t)len);
    tide_cid_to_bytes(cid, head + n);
    n += TIDE_CID_BYTES;
    if (fwrite(head, 1, n, w->out) != n || (len > 0 && fwrite(data, 1, len, w->out) != len))
        return tide_err_set(err, "cannot write the CAR: %s", strerror(errno));
    w->bytes += n + len;
    return 0;
}

static int put_leaf(struct writer *w, const struct tide_dag_node *node, struct tide_err *err)
{
    const char *path = w->dag->files[node->file];
    if (w->fd < 0 || w->fd_file != node->file) {
        if (w->fd >= 0)
            close(w->fd);
        w->fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        w->fd_file = node->file;
        if (w->fd < 0)
            return tide_err_set(err, "cannot read %s: %s", path, strerror(errno));
    }
    size_t got = 0;
    while (got < node->len) {
        ssize_t r = pread(w->fd, w->chunk + got, node->len - got, (off_t)(node->offset + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return tide_err_set(err, "%s changed while it was exported (shorter)", path);
        got += (size_t)r;
    }
    struct tide_cid again;
    tide_cid_of(TIDE_CODEC_RAW, w->chunk, node->len, &again);
    if (!tide_cid_equal(&again, &node->cid))
        return tide_err_set(err, "%s changed while it was exported", path);
    return put_block(w, &node->cid, w->chunk, node->len, err);
}

int tide_car_write(const struct tide_dag *dag, FILE *out, uint64_t *bytes, struct tide_err *err)
{
    struct writer w = {.dag = dag, .out = out, .fd = -1, .chunk = malloc(TIDE_UNIXFS_CHUNK)};
    struct tide_cidmap seen = {0};
    uint32_t *stack = malloc((dag->n + 1) * sizeof *stack);
    uint8_t head[64], len[10];
    int rc = 0;
    if (w.chunk == NULL || stack == NULL) {
        rc = tide_err_set(err, "out of memory writing the CAR");
        goto out;
    }
    size_t hn = header(&dag->nodes[dag->root].cid, head), ln = tide_varint_put(len, hn);
    if (fwrite(len, 1, ln, out) != ln || fwrite(head, 1, hn, out) != hn) {
        rc = tide_err_set(err, "cannot write the CAR: %s", strerror(errno));
        goto out;
    }
    w.bytes = ln + hn;
    /* Depth-first, pre-order: children pushed in reverse so the first link comes out first.
     * Every node is pushed at most once (each has one parent), so n slots suffice. */
    size_t top = 0;
    stack[top++] = dag->root;
    while (top > 0 && rc == 0) {
        const struct tide_dag_node *node = &dag->nodes[stack[--top]];
        int added = tide_cidmap_put(&seen, &node->cid, 0, 0);
        if (added < 0) {
            rc = tide_err_set(err, "out of memory writing the CAR");
            break;
        }
        if (added == 0)
            continue; /* the same block (identical chunk or file) is already written */
        if (node->bytes == NULL) {
            rc = put_leaf(&w, node, err);
            continue;
        }
        rc = put_block(&w, &node->cid, node->bytes, node->nbytes, err);
        for (uint32_t i = node->nkids; i > 0 && rc == 0; i--)
            stack[top++] = node->kids[i - 1];
    }
    if (rc == 0 && fflush(out) != 0)
        rc = tide_err_set(err, "cannot write the CAR: %s", strerror(errno));
out:
    if (w.fd >= 0)
        close(w.fd);
    free(w.chunk);
    free(stack);
    tide_cidmap_free(&seen);
    if (bytes != NULL)
        *bytes = w.bytes;
    return rc;
}

/* ---- reading ---- */

/* Reads a varint from the stream; 1 read, 0 at a clean end of file, -1 malformed. */
static int read_varint(FILE *f, uint64_t *v)
{
    uint8_t b[10];
    for (size_t i = 0; i < 9; i++) {
        int c = fgetc(f);
        if (c == EOF)
            return i == 0 ? 0 : -1;
        b[i] = (uint8_t)c;
        if ((c & 0x80) == 0)
            return tide_varint_get(b, i + 1, v) == i + 1 ? 1 : -1;
    }
    return -1;
}

/* A small DAG-CBOR reader for the header: bounded input, bounded nesting. */
struct cbor {
    const uint8_t *p;
    size_t len, at;
};

static int cbor_head(struct cbor *c, int *major, uint64_t *arg)
{
    if (c->at >= c->len)
        return -1;
    uint8_t b = c->p[c->at++];
    *major = b >> 5;
    unsigned info = b & 31;
    if (info < 24) {
        *arg = info;
        return 0;
    }
    if (info > 27)
        return -1;
    size_t n = (size_t)1 << (info - 24);
    if (c->len - c->at < n)
        return -1;
    *arg = 0;
    for (size_t i = 0; i < n; i++)
        *arg = *arg << 8 | c->p[c->at++];
    return 0;
}

static int parse_header(struct tide_car *car, const uint8_t *p, size_t len, const char **why)
{
    struct cbor c = {p, len, 0};
    int major;
    uint64_t n, version = 0;
    bool has_roots = false;
    *why = "the header is not a CARv1 header";
    if (cbor_head(&c, &major, &n) != 0 || major != 5 || n > 8)
        return -1;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t klen, v;
        if (cbor_head(&c, &major, &klen) != 0 || major != 3 || klen > c.len - c.at)
            return -1;
        const uint8_t *key = c.p + c.at;
        c.at += klen;
        if (klen == 7 && memcmp(key, "version", 7) == 0) {
            if (cbor_head(&c, &major, &version) != 0 || major != 0)
                return -1;
        } else if (klen == 5 && memcmp(key, "roots", 5) == 0) {
            if (cbor_head(&c, &major, &v) != 0 || major != 4 || v == 0 || v > TIDE_CAR_MAX_ROOTS)
                return -1;
            for (uint64_t r = 0; r < v; r++) {
                uint64_t tag, blen;
                if (cbor_head(&c, &major, &tag) != 0 || major != 6 || tag != 42 ||
                    cbor_head(&c, &major, &blen) != 0 || major != 2 || blen > c.len - c.at ||
                    blen < 2 || c.p[c.at] != 0x00)
                    return -1;
                size_t used = tide_cid_from_bytes(c.p + c.at + 1, (size_t)blen - 1,
                                                  &car->roots[car->nroots], why);
                if (used == 0 || used != blen - 1)
                    return -1;
                car->nroots++;
                c.at += blen;
            }
            has_roots = true;
        } else {
            return -1;
        }
    }
    if (version != 1) {
        *why = "not a CAR version 1";
        return -1;
    }
    if (!has_roots) {
        *why = "a CAR without roots";
        return -1;
    }
    return 0;
}

int tide_car_open(const char *path, struct tide_car *car, struct tide_err *err)
{
    memset(car, 0, sizeof *car);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0)
        car->f = fdopen(fd, "rb");
    if (car->f == NULL) {
        if (fd >= 0)
            close(fd);
        return tide_err_set(err, "cannot open %s: %s", path, strerror(errno));
    }
    uint64_t hlen;
    uint8_t head[4096];
    const char *why = "malformed";
    if (read_varint(car->f, &hlen) != 1 || hlen == 0 || hlen > sizeof head ||
        fread(head, 1, (size_t)hlen, car->f) != hlen)
        return tide_err_set(err, "%s: not a CAR file (no header)", path);
    if (parse_header(car, head, (size_t)hlen, &why) != 0)
        return tide_err_set(err, "%s: %s", path, why);
    uint8_t *block = malloc(TIDE_CAR_MAX_BLOCK + 64);
    if (block == NULL)
        return tide_err_set(err, "out of memory reading %s", path);
    int rc = 0;
    for (;;) {
        long at = ftell(car->f);
        uint64_t blen;
        int r = read_varint(car->f, &blen);
        if (r == 0)
            break;
        if (r < 0 || blen == 0 || blen > TIDE_CAR_MAX_BLOCK + 64 ||
            fread(block, 1, (size_t)blen, car->f) != blen) {
            rc = tide_err_set(err, "%s: not a CAR after byte %ld (a cut or malformed block)", path,
                              at);
            break;
        }
        struct tide_cid cid, actual;
        size_t used = tide_cid_from_bytes(block, (size_t)blen, &cid, &why);
        if (used == 0) {
            rc = tide_err_set(err, "%s: the block at byte %ld has %s", path, at, why);
            break;
        }
        size_t dlen = (size_t)blen - used;
        char text[TIDE_CID_TEXT];
        tide_cid_of(cid.codec, block + used, dlen, &actual);
        if (!tide_cid_equal(&cid, &actual)) {
            tide_cid_to_text(&cid, text);
            rc = tide_err_set(err, "block %s: its bytes do not hash to its CID (corrupt)", text);
            break;
        }
        uint64_t off = (uint64_t)ftell(car->f) - dlen;
        if (tide_cidmap_put(&car->blocks, &cid, off, (uint32_t)dlen) < 0) {
            rc = tide_err_set(err, "out of memory reading %s", path);
            break;
        }
        car->nblocks++;
    }
    free(block);
    return rc;
}

int tide_car_read(struct tide_car *car, const struct tide_cid *cid, uint8_t **data, size_t *len,
                  struct tide_err *err)
{
    const struct tide_cidmap_slot *s = tide_cidmap_get(&car->blocks, cid);
    char text[TIDE_CID_TEXT];
    tide_cid_to_text(cid, text);
    if (s == NULL)
        return tide_err_set(err, "block %s is missing", text);
    *data = malloc(s->len ? s->len : 1);
    if (*data == NULL)
        return tide_err_set(err, "out of memory reading block %s", text);
    if (fseek(car->f, (long)s->offset, SEEK_SET) != 0 ||
        fread(*data, 1, s->len, car->f) != s->len) {
        free(*data);
        *data = NULL;
        return tide_err_set(err, "cannot read block %s", text);
    }
    *len = s->len;
    return 0;
}

int tide_car_check_complete(struct tide_car *car, struct tide_err *err)
{
    struct tide_cidmap seen = {0};
    size_t cap = 64, top = 0;
    struct tide_cid *stack = malloc(cap * sizeof *stack);
    int rc = stack == NULL ? tide_err_set(err, "out of memory") : 0;
    for (size_t i = 0; i < car->nroots && rc == 0; i++) {
        if (tide_cidmap_get(&car->blocks, &car->roots[i]) == NULL) {
            char text[TIDE_CID_TEXT];
            tide_cid_to_text(&car->roots[i], text);
            rc = tide_err_set(err, "root block %s is missing", text);
        }
        stack[top++] = car->roots[i];
    }
    while (top > 0 && rc == 0) {
        struct tide_cid cid = stack[--top];
        int added = tide_cidmap_put(&seen, &cid, 0, 0);
        if (added <= 0) {
            rc = added < 0 ? tide_err_set(err, "out of memory") : 0;
            continue;
        }
        if (cid.codec != TIDE_CODEC_DAG_PB)
            continue;
        uint8_t *data;
        size_t len;
        struct tide_pb_node node;
        const char *why = "";
        char text[TIDE_CID_TEXT];
        tide_cid_to_text(&cid, text);
        if ((rc = tide_car_read(car, &cid, &data, &len, err)) != 0)
            break;
        if (tide_pb_decode(data, len, &node, &why) != 0) {
            free(data);
            rc = tide_err_set(err, "block %s: not a dag-pb node (%s)", text, why);
            break;
        }
        for (size_t i = 0; i < node.nlinks && rc == 0; i++) {
            char kid[TIDE_CID_TEXT];
            if (tide_cidmap_get(&car->blocks, &node.links[i].cid) == NULL) {
                tide_cid_to_text(&node.links[i].cid, kid);
                rc = tide_err_set(err, "block %s (linked from %s) is missing", kid, text);
                break;
            }
            if (top == cap) {
                struct tide_cid *more = realloc(stack, cap * 2 * sizeof *more);
                if (more == NULL) {
                    rc = tide_err_set(err, "out of memory");
                    break;
                }
                stack = more;
                cap *= 2;
            }
            stack[top++] = node.links[i].cid;
        }
        tide_pb_node_free(&node);
        free(data);
    }
    free(stack);
    tide_cidmap_free(&seen);
    return rc;
}

void tide_car_close(struct tide_car *car)
{
    if (car->f != NULL)
        fclose(car->f);
    tide_cidmap_free(&car->blocks);
    memset(car, 0, sizeof *car);
}
