/* unpack.c: writing a CAR's root directory out as files and folders. */
#include "unpack.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dagpb.h"

enum { MAX_DEPTH = 64 };

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Appends the bytes of the file DAG under 'cid' to fd; *written counts them. */
static int write_file(struct tide_car *car, const struct tide_cid *cid, int fd, const char *path,
                      int depth, uint64_t *written, struct tide_err *err)
{
    uint8_t *data;
    size_t len;
    char text[TIDE_CID_TEXT];
    tide_cid_to_text(cid, text);
    if (depth > MAX_DEPTH)
        return tide_err_set(err, "block %s: a file DAG over %d deep", text, MAX_DEPTH);
    if (tide_car_read(car, cid, &data, &len, err) != 0)
        return -1;
    int rc = 0;
    if (cid->codec == TIDE_CODEC_RAW) {
        if (write_all(fd, data, len) != 0)
            rc = tide_err_set(err, "cannot write %s: %s", path, strerror(errno));
        *written += len;
        free(data);
        return rc;
    }
    struct tide_pb_node node;
    struct tide_unixfs u;
    const char *why = "";
    if (tide_pb_decode(data, len, &node, &why) != 0 ||
        tide_unixfs_decode(node.data, node.data_len, &u, &why) != 0 ||
        (u.type != TIDE_UNIXFS_FILE && u.type != TIDE_UNIXFS_RAW)) {
        if (why[0] == '\0')
            why = "not a UnixFS file";
        tide_pb_node_free(&node);
        free(data);
        return tide_err_set(err, "block %s: %s", text, why);
    }
    uint64_t start = *written;
    if (u.data_len > 0 && write_all(fd, u.data, u.data_len) != 0)
        rc = tide_err_set(err, "cannot write %s: %s", path, strerror(errno));
    *written += u.data_len;
    for (size_t i = 0; i < node.nlinks && rc == 0; i++)
        rc = write_file(car, &node.links[i].cid, fd, path, depth + 1, written, err);
    if (rc == 0 && u.has_filesize && *written - start != u.filesize)
        rc = tide_err_set(err, "block %s: says %llu bytes, holds %llu", text,
                          (unsigned long long)u.filesize, (unsigned long long)(*written - start));
    tide_pb_node_free(&node);
    free(data);
    return rc;
}

static bool plain_name(const uint8_t *name, size_t len)
{
    if (len == 0 || len > 255 || (len == 1 && name[0] == '.') ||
        (len == 2 && name[0] == '.' && name[1] == '.'))
        return false;
    return memchr(name, '/', len) == NULL && memchr(name, '\0', len) == NULL;
}

/* Is 'cid' a directory node? (raw blocks are files) */
static int is_directory(struct tide_car *car, const struct tide_cid *cid, bool *dir,
                        struct tide_err *err)
{
    *dir = false;
    if (cid->codec == TIDE_CODEC_RAW)
        return 0;
    uint8_t *data;
    size_t len;
    if (tide_car_read(car, cid, &data, &len, err) != 0)
        return -1;
    struct tide_pb_node node;
    struct tide_unixfs u;
    const char *why = "";
    int rc = 0;
    if (tide_pb_decode(data, len, &node, &why) != 0 ||
        tide_unixfs_decode(node.data, node.data_len, &u, &why) != 0) {
        char text[TIDE_CID_TEXT];
        tide_cid_to_text(cid, text);
        rc = tide_err_set(err, "block %s: %s", text, why);
    } else {
        *dir = u.type == TIDE_UNIXFS_DIRECTORY;
        if (u.type != TIDE_UNIXFS_DIRECTORY && u.type != TIDE_UNIXFS_FILE &&
            u.type != TIDE_UNIXFS_RAW) {
            char text[TIDE_CID_TEXT];
            tide_cid_to_text(cid, text);
            rc = tide_err_set(err, "block %s: a UnixFS type tide does not unpack (%d)", text,
                              u.type);
        }
    }
    tide_pb_node_free(&node);
    free(data);
    return rc;
}

static int unpack_dir(struct tide_car *car, const struct tide_cid *cid, const char *path, int depth,
                      struct tide_err *err)
{
    if (depth > MAX_DEPTH)
        return tide_err_set(err, "%s: folders nested over %d deep", path, MAX_DEPTH);
    uint8_t *data;
    size_t len;
    if (tide_car_read(car, cid, &data, &len, err) != 0)
        return -1;
    struct tide_pb_node node;
    const char *why = "";
    if (tide_pb_decode(data, len, &node, &why) != 0) {
        char text[TIDE_CID_TEXT];
        tide_cid_to_text(cid, text);
        free(data);
        return tide_err_set(err, "block %s: %s", text, why);
    }
    int rc = 0;
    for (size_t i = 0; i < node.nlinks && rc == 0; i++) {
        const struct tide_pb_link *l = &node.links[i];
        char child[4096];
        if (!plain_name(l->name, l->name_len)) {
            rc = tide_err_set(err, "%s: an entry whose name is not a plain file name", path);
            break;
        }
        if ((size_t)snprintf(child, sizeof child, "%s/%.*s", path, (int)l->name_len,
                             (const char *)l->name) >= sizeof child) {
            rc = tide_err_set(err, "%s: path too long", path);
            break;
        }
        bool sub;
        if ((rc = is_directory(car, &l->cid, &sub, err)) != 0)
            break;
        if (sub) {
            if (mkdir(child, 0755) != 0)
                rc = tide_err_set(err, "cannot make %s: %s", child, strerror(errno));
            else
                rc = unpack_dir(car, &l->cid, child, depth + 1, err);
            continue;
        }
        int fd = open(child, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
            rc = tide_err_set(err, "cannot create %s: %s", child, strerror(errno));
            break;
        }
        uint64_t written = 0;
        rc = write_file(car, &l->cid, fd, child, 0, &written, err);
        if (fsync(fd) != 0 && rc == 0)
            rc = tide_err_set(err, "cannot write %s: %s", child, strerror(errno));
        close(fd);
    }
    tide_pb_node_free(&node);
    free(data);
    return rc;
}

static bool empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

int tide_car_unpack(struct tide_car *car, const char *dir, struct tide_err *err)
{
    bool is_dir;
    if (car->nroots != 1)
        return tide_err_set(err, "the CAR has %zu roots; tide imports a CAR with one", car->nroots);
    if (is_directory(car, &car->roots[0], &is_dir, err) != 0)
        return -1;
    if (!is_dir)
        return tide_err_set(err, "the CAR's root is a file, not a folder");
    if (mkdir(dir, 0755) != 0 && !(errno == EEXIST && empty_dir(dir)))
        return tide_err_set(err, "%s: %s", dir,
                            errno == EEXIST ? "exists and is not an empty folder"
                                            : strerror(errno));
    return unpack_dir(car, &car->roots[0], dir, 0, err);
}
