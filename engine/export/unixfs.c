/* unixfs.c: kubo's balanced file layout and plain directories, built from the disk. */
#include "unixfs.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "dagpb.h"

/* kubo shards a directory once the sum of its links' name and CID lengths passes 256 KiB. */
enum { SHARD_THRESHOLD = 262144, MAX_DEPTH = 64 };

static int add_node(struct tide_dag *dag, uint32_t *idx, struct tide_err *err)
{
    if (dag->n == dag->cap) {
        size_t cap = dag->cap ? dag->cap * 2 : 64;
        struct tide_dag_node *more = realloc(dag->nodes, cap * sizeof *more);
        if (more == NULL || cap > UINT32_MAX)
            return tide_err_set(err, "out of memory building the DAG");
        dag->nodes = more;
        dag->cap = cap;
    }
    memset(&dag->nodes[dag->n], 0, sizeof dag->nodes[0]);
    *idx = (uint32_t)dag->n++;
    return 0;
}

/* A dag-pb node from its links and UnixFS data. */
static int add_pb(struct tide_dag *dag, const uint32_t *kids, const char *const *names,
                  size_t nkids, const struct tide_buf *unixfs, uint32_t *idx, struct tide_err *err)
{
    struct tide_pb_link *links = calloc(nkids ? nkids : 1, sizeof *links);
    uint32_t *copy = malloc((nkids ? nkids : 1) * sizeof *copy);
    struct tide_buf out = {0};
    if (links == NULL || copy == NULL || unixfs->failed) {
        free(links);
        free(copy);
        return tide_err_set(err, "out of memory building the DAG");
    }
    uint64_t tsize = 0;
    for (size_t i = 0; i < nkids; i++) {
        const struct tide_dag_node *k = &dag->nodes[kids[i]];
        links[i].cid = k->cid;
        links[i].name = (const uint8_t *)(names != NULL ? names[i] : "");
        links[i].name_len = names != NULL ? strlen(names[i]) : 0;
        links[i].tsize = k->tsize;
        tsize += k->tsize;
        copy[i] = kids[i];
    }
    tide_pb_encode(&out, links, nkids, (const uint8_t *)unixfs->data, unixfs->len);
    free(links);
    if (out.failed || add_node(dag, idx, err) != 0) {
        free(copy);
        tide_buf_free(&out);
        return tide_err_set(err, "out of memory building the DAG");
    }
    struct tide_dag_node *n = &dag->nodes[*idx];
    n->bytes = (uint8_t *)out.data;
    n->nbytes = out.len;
    n->kids = copy;
    n->nkids = (uint32_t)nkids;
    n->tsize = tsize + out.len;
    tide_cid_of(TIDE_CODEC_DAG_PB, out.data, out.len, &n->cid);
    return 0;
}

/* The chunks of one file, read one ahead so the builder knows when the file ends. */
struct chunker {
    int fd;
    uint32_t file;
    const char *path;
    uint8_t *buf;
    uint64_t offset; /* of the chunk in buf */
    size_t len;      /* bytes in buf */
    bool done;       /* no chunk left */
    bool started;
};

static int chunker_fill(struct chunker *c, struct tide_err *err)
{
    c->offset += c->len;
    c->len = 0;
    while (c->len < TIDE_UNIXFS_CHUNK) {
        ssize_t r = read(c->fd, c->buf + c->len, TIDE_UNIXFS_CHUNK - c->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return tide_err_set(err, "cannot read %s: %s", c->path, strerror(errno));
        if (r == 0)
            break;
        c->len += (size_t)r;
    }
    c->done = c->len == 0 && c->started;
    c->started = true;
    return 0;
}

/* Takes the chunk in the buffer as a raw leaf and reads the next one. */
static int leaf(struct tide_dag *dag, struct chunker *c, uint32_t *idx, uint64_t *size,
                struct tide_err *err)
{
    if (add_node(dag, idx, err) != 0)
        return -1;
    struct tide_dag_node *n = &dag->nodes[*idx];
    tide_cid_of(TIDE_CODEC_RAW, c->buf, c->len, &n->cid);
    n->file = c->file;
    n->offset = c->offset;
    n->len = (uint32_t)c->len;
    n->tsize = c->len;
    *size = c->len;
    return chunker_fill(c, err);
}

/* A file node being filled: its children and the file bytes under each. */
struct pending {
    uint32_t kids[TIDE_UNIXFS_MAX_LINKS];
    uint64_t sizes[TIDE_UNIXFS_MAX_LINKS];
    size_t n;
};

static int commit(struct tide_dag *dag, const struct pending *p, uint32_t *idx, uint64_t *size,
                  struct tide_err *err)
{
    struct tide_buf data = {0};
    uint64_t total = 0;
    for (size_t i = 0; i < p->n; i++)
        total += p->sizes[i];
    tide_unixfs_encode(&data, TIDE_UNIXFS_FILE, total, p->sizes, p->n);
    int rc = add_pb(dag, p->kids, NULL, p->n, &data, idx, err);
    tide_buf_free(&data);
    *size = total;
    return rc;
}

/* kubo's fillNodeRec: children of depth-1 (leaves at depth 1) until full or the file ends. */
static int fill(struct tide_dag *dag, struct chunker *c, struct pending *p, int depth,
                uint32_t *idx, uint64_t *size, struct tide_err *err)
{
    while (p->n < TIDE_UNIXFS_MAX_LINKS && !c->done) {
        uint32_t kid;
        uint64_t ksize;
        int rc;
        if (depth == 1) {
            rc = leaf(dag, c, &kid, &ksize, err);
        } else {
            struct pending *sub = calloc(1, sizeof *sub);
            if (sub == NULL)
                return tide_err_set(err, "out of memory building the DAG");
            rc = fill(dag, c, sub, depth - 1, &kid, &ksize, err);
            free(sub);
        }
        if (rc != 0)
            return -1;
        p->kids[p->n] = kid;
        p->sizes[p->n++] = ksize;
    }
    return commit(dag, p, idx, size, err);
}

/* kubo's balanced Layout: the first chunk alone is the root of a one-chunk file; each time the
 * tree is full, it becomes the first child of a root one level deeper. */
static int build_file(struct tide_dag *dag, const char *path, uint32_t *idx, struct tide_err *err)
{
    if (dag->nfiles == dag->files_cap) {
        size_t cap = dag->files_cap ? dag->files_cap * 2 : 16;
        char **more = realloc(dag->files, cap * sizeof *more);
        if (more == NULL)
            return tide_err_set(err, "out of memory building the DAG");
        dag->files = more;
        dag->files_cap = cap;
    }
    char *copy = strdup(path);
    if (copy == NULL)
        return tide_err_set(err, "out of memory building the DAG");
    dag->files[dag->nfiles] = copy;
    struct chunker c = {.fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC),
                        .file = (uint32_t)dag->nfiles++,
                        .path = path,
                        .buf = malloc(TIDE_UNIXFS_CHUNK)};
    struct stat st;
    int rc = -1;
    if (c.fd < 0 || fstat(c.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        tide_err_set(err, "%s: %s", path, c.fd < 0 ? strerror(errno) : "not a regular file");
        goto out;
    }
    if (c.buf == NULL) {
        tide_err_set(err, "out of memory building the DAG");
        goto out;
    }
    uint64_t size;
    if (chunker_fill(&c, err) != 0 || leaf(dag, &c, idx, &size, err) != 0)
        goto out;
    rc = 0;
    for (int depth = 1; !c.done && rc == 0; depth++) {
        struct pending *p = calloc(1, sizeof *p);
        if (p == NULL) {
            rc = tide_err_set(err, "out of memory building the DAG");
            break;
        }
        p->kids[0] = *idx;
        p->sizes[0] = size;
        p->n = 1;
        rc = fill(dag, &c, p, depth, idx, &size, err);
        free(p);
    }
out:
    if (c.fd >= 0)
        close(c.fd);
    free(c.buf);
    return rc;
}

static int by_name_bytes(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b); /* strcmp compares unsigned bytes */
}

static int build_path(struct tide_dag *dag, const char *path, int depth, uint32_t *idx,
                      struct tide_err *err);

static int build_dir(struct tide_dag *dag, const char *path, int depth, uint32_t *idx,
                     struct tide_err *err)
{
    if (depth > MAX_DEPTH)
        return tide_err_set(err, "%s: folders nested over %d deep", path, MAX_DEPTH);
    DIR *d = opendir(path);
    if (d == NULL)
        return tide_err_set(err, "cannot open %s: %s", path, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **more = realloc(names, cap * sizeof *more);
            if (more == NULL) {
                rc = tide_err_set(err, "out of memory listing %s", path);
                break;
            }
            names = more;
        }
        if ((names[n] = strdup(e->d_name)) == NULL)
            rc = tide_err_set(err, "out of memory listing %s", path);
        else
            n++;
    }
    closedir(d);
    uint32_t *kids = rc == 0 ? malloc((n ? n : 1) * sizeof *kids) : NULL;
    if (rc == 0 && kids == NULL)
        rc = tide_err_set(err, "out of memory listing %s", path);
    if (rc == 0 && n > 1)
        qsort(names, n, sizeof *names, by_name_bytes);
    size_t estimate = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char child[4096];
        if ((size_t)snprintf(child, sizeof child, "%s/%s", path, names[i]) >= sizeof child) {
            rc = tide_err_set(err, "%s/%s: path too long", path, names[i]);
            break;
        }
        estimate += strlen(names[i]) + TIDE_CID_BYTES;
        if (estimate > SHARD_THRESHOLD) {
            rc = tide_err_set(err, "%s: too many entries for a plain UnixFS directory", path);
            break;
        }
        rc = build_path(dag, child, depth + 1, &kids[i], err);
    }
    if (rc == 0) {
        struct tide_buf data = {0};
        tide_unixfs_encode(&data, TIDE_UNIXFS_DIRECTORY, 0, NULL, 0);
        rc = add_pb(dag, kids, (const char *const *)names, n, &data, idx, err);
        tide_buf_free(&data);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(kids);
    return rc;
}

static int build_path(struct tide_dag *dag, const char *path, int depth, uint32_t *idx,
                      struct tide_err *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return tide_err_set(err, "cannot read %s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return build_dir(dag, path, depth, idx, err);
    if (S_ISREG(st.st_mode))
        return build_file(dag, path, idx, err);
    return tide_err_set(err, "%s: not a regular file or folder (links and devices are refused)",
                        path);
}

int tide_dag_build(const char *path, struct tide_dag *dag, struct tide_err *err)
{
    memset(dag, 0, sizeof *dag);
    return build_path(dag, path, 0, &dag->root, err);
}

void tide_dag_free(struct tide_dag *dag)
{
    for (size_t i = 0; i < dag->n; i++) {
        free(dag->nodes[i].bytes);
        free(dag->nodes[i].kids);
    }
    for (size_t i = 0; i < dag->nfiles; i++)
        free(dag->files[i]);
    free(dag->nodes);
    free(dag->files);
    memset(dag, 0, sizeof *dag);
}
