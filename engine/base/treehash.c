/* treehash.c: the tree hash of a folder (see treehash.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include "fsutil.h"
#include "treehash.h"

struct names {
    char **rel;
    int n;
};

/* Adds the regular files below root/rel (rel "" for the root) to 'out'. */
static int walk(const char *root, const char *rel, int depth, struct names *out,
                struct tide_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s%s", root, rel[0] ? "/" : "", rel);
    if (depth > TIDE_TREEHASH_MAX_DEPTH)
        return tide_err_set(err, "%s: more than %d folders deep", path, TIDE_TREEHASH_MAX_DEPTH);
    DIR *d = opendir(path);
    if (d == NULL)
        return tide_err_set(err, "cannot read %s: %s", path, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[PATH_MAX], full[PATH_MAX];
        struct stat st;
        if ((size_t)snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name) >=
                sizeof sub ||
            (size_t)snprintf(full, sizeof full, "%s/%s", root, sub) >= sizeof full) {
            rc = tide_err_set(err, "%s/%s: path too long", path, e->d_name);
        } else if (lstat(full, &st) != 0) {
            rc = tide_err_set(err, "cannot read %s: %s", full, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk(root, sub, depth + 1, out, err);
        } else if (S_ISREG(st.st_mode)) {
            char **g = out->n < TIDE_TREEHASH_MAX_FILES
                           ? realloc(out->rel, (size_t)(out->n + 1) * sizeof *g)
                           : NULL;
            if (g == NULL)
                rc = tide_err_set(err, "%s: more than %d files", root, TIDE_TREEHASH_MAX_FILES);
            else if ((g[out->n] = strdup(sub)) != NULL)
                out->rel = g, out->n++;
            else
                out->rel = g, rc = tide_err_set(err, "out of memory");
        }
    }
    closedir(d);
    return rc;
}

static int by_bytes(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int tide_tree_sha256(const char *dir, char hex[65], struct tide_err *err)
{
    struct names files = {NULL, 0};
    int rc = walk(dir, "", 0, &files, err);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (rc == 0 && (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1))
        rc = tide_err_set(err, "sha256: no digest context");
    if (rc == 0)
        qsort(files.rel, (size_t)files.n, sizeof *files.rel, by_bytes);
    for (int i = 0; rc == 0 && i < files.n; i++) {
        char path[PATH_MAX], one[65];
        snprintf(path, sizeof path, "%s/%s", dir, files.rel[i]);
        rc = tide_fs_sha256_file(path, one, err);
        if (rc == 0) { /* one sha256sum line */
            EVP_DigestUpdate(ctx, one, 64);
            EVP_DigestUpdate(ctx, "  ", 2);
            EVP_DigestUpdate(ctx, files.rel[i], strlen(files.rel[i]));
            EVP_DigestUpdate(ctx, "\n", 1);
        }
    }
    if (rc == 0) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        EVP_DigestFinal_ex(ctx, md, &mdlen);
        for (unsigned int i = 0; i < mdlen && i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < files.n; i++)
        free(files.rel[i]);
    free(files.rel);
    return rc;
}
