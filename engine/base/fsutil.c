/* fsutil.c: atomic file writes (temporary file, fsync, rename), mkdir -p, sha256, reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "fsutil.h"

/* What a user can do about 'e', appended to messages. */
static const char *hint(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
        return " (free some disk space, then run 'tide report DIR' to write the reports again)";
    case EFBIG:
        return " (the file size limit was reached: check 'ulimit -f')";
    case EACCES:
    case EPERM:
    case EROFS:
        return " (check that the folder is writable)";
    default:
        return "";
    }
}

/* The folder part of 'path' ("." when there is none); the caller frees it. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static int write_full(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Makes a rename in 'dir' durable. File systems that cannot fsync a folder say EINVAL. */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    if (rc != 0 && (errno == EINVAL || errno == EROFS))
        rc = 0;
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* Writes, syncs and closes 'fd'; on failure 'step' names what failed and errno says why. */
static int fill_tmp(int fd, const void *data, size_t len, const char **step)
{
    *step = "write";
    if (write_full(fd, data, len) != 0)
        return -1;
    *step = "set permissions of";
    if (fchmod(fd, 0644) != 0)
        return -1;
    *step = "write (fsync)";
    if (fsync(fd) != 0)
        return -1;
    *step = "write (close)";
    return close(fd);
}

int tide_fs_write_atomic(const char *path, const void *data, size_t len, struct tide_err *err)
{
    int rc = -1;
    const char *step = "create a temporary file for";
    char *dir = dir_of(path);
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    size_t tlen = strlen(path) + 16;
    char *tmp = malloc(tlen);
    if (dir == NULL || tmp == NULL) {
        rc = tide_err_set(err, "cannot write '%s': out of memory", path);
        goto out;
    }
    snprintf(tmp, tlen, "%.*s.%s.XXXXXX", (int)(base - path), path, base);
    int fd = mkstemp(tmp);
    if (fd < 0)
        goto fail;
    if (fill_tmp(fd, data, len, &step) != 0) {
        int e = errno;
        if (strcmp(step, "write (close)") != 0)
            close(fd);
        unlink(tmp);
        errno = e;
        goto fail;
    }
    step = "rename a temporary file to";
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        goto fail;
    }
    /* The file is complete from here on; a failure only leaves its durability in doubt. */
    step = "sync the folder of";
    if (sync_dir(dir) != 0)
        goto fail;
    rc = 0;
    goto out;
fail:
    rc = tide_err_set(err, "cannot %s '%s': %s%s", step, path, strerror(errno), hint(errno));
out:
    free(tmp);
    free(dir);
    return rc;
}

static int mkdir_one(const char *path, struct tide_err *err)
{
    struct stat st;
    if (mkdir(path, 0755) == 0)
        return 0;
    int e = errno;
    if (e == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    if (e == EEXIST)
        return tide_err_set(err, "cannot create folder '%s': a file of that name is in the way",
                            path);
    return tide_err_set(err, "cannot create folder '%s': %s%s", path, strerror(e), hint(e));
}

int tide_fs_mkdirs(const char *path, struct tide_err *err)
{
    if (path == NULL || path[0] == '\0')
        return tide_err_set(err, "cannot create a folder with an empty name");
    char *p = strdup(path);
    if (p == NULL)
        return tide_err_set(err, "%s: out of memory", path);
    int rc = 0;
    for (char *s = p + 1; *s != '\0' && rc == 0; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        rc = mkdir_one(p, err);
        *s = '/';
    }
    if (rc == 0)
        rc = mkdir_one(p, err);
    free(p);
    return rc;
}

char *tide_fs_read_all(const char *path, size_t *len, struct tide_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        tide_err_set(err, "cannot read '%s': %s", path, strerror(e));
        errno = e;
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || ferror(f))
            break;
        cap *= 2;
        char *bigger = realloc(buf, cap + 1);
        if (bigger == NULL)
            free(buf);
        buf = bigger;
    }
    int bad = ferror(f);
    int e = buf == NULL ? ENOMEM : errno;
    fclose(f);
    if (buf == NULL) {
        tide_err_set(err, "cannot read '%s': out of memory", path);
        errno = ENOMEM;
        return NULL;
    }
    if (bad) {
        free(buf);
        tide_err_set(err, "cannot read '%s': %s", path, strerror(e));
        errno = e;
        return NULL;
    }
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

/* The one-line refusal of read_file, with errno 'e'. */
static char *read_file_refused(int fd, const char *path, const char *why, int e,
                               struct tide_err *err)
{
    if (fd >= 0)
        close(fd);
    tide_err_set(err, "cannot read '%s': %s", path, why != NULL ? why : strerror(e));
    errno = e;
    return NULL;
}

char *tide_fs_read_file(const char *path, size_t max, size_t *len, struct tide_err *err)
{
    /* O_NONBLOCK: opening a FIFO with no writer must not wait; the checks are made on the
     * descriptor that is then read, so the file cannot be swapped in between */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        return read_file_refused(fd, path, NULL, errno, err);
    if (!S_ISREG(st.st_mode))
        return read_file_refused(fd, path, "not a regular file", EINVAL, err);
    char why[64];
    snprintf(why, sizeof why, "larger than %zu MiB", max >> 20);
    if ((uintmax_t)st.st_size > (uintmax_t)max)
        return read_file_refused(fd, path, why, EFBIG, err);
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
        return read_file_refused(fd, path, NULL, errno, err);
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL)
        return read_file_refused(fd, path, "out of memory", ENOMEM, err);
    for (;;) {
        if (n == cap) { /* it grew since fstat: still bounded by 'max' */
            if (cap > max) {
                free(buf);
                return read_file_refused(fd, path, why, EFBIG, err);
            }
            cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *bigger = realloc(buf, cap + 1);
            if (bigger == NULL) {
                free(buf);
                return read_file_refused(fd, path, "out of memory", ENOMEM, err);
            }
            buf = bigger;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            return read_file_refused(fd, path, NULL, e, err);
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > max) {
        free(buf);
        return read_file_refused(-1, path, why, EFBIG, err);
    }
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

int tide_fs_sha256_file(const char *path, char hex[65], struct tide_err *err)
{
    int rc = -1;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char chunk[16384];
    FILE *f = fopen(path, "rb");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (f == NULL) {
        rc = tide_err_set(err, "cannot hash '%s': %s", path, strerror(errno));
        goto out;
    }
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rc = tide_err_set(err, "cannot hash '%s': sha256 is unavailable in libcrypto", path);
        goto out;
    }
    size_t n = fread(chunk, 1, sizeof chunk, f);
    while (n > 0) {
        EVP_DigestUpdate(ctx, chunk, n);
        n = fread(chunk, 1, sizeof chunk, f);
    }
    if (ferror(f)) {
        rc = tide_err_set(err, "cannot hash '%s': read error", path);
        goto out;
    }
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    for (unsigned int i = 0; i < mdlen && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    hex[64] = '\0';
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    if (f != NULL)
        fclose(f);
    return rc;
}
