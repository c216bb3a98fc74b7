/* bundle.c: copies a run's inputs into RUN/bundle/ and checks them (see bundle.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "audit.h"
#include "bundle.h"
#include "fsutil.h"
#include "loaded.h"
#include "log.h"

/* Words that, in a data file's name or first line (a CSV header, a JSON key), suggest it holds
 * credentials. Deliberately broad: leaving out a harmless file costs a flag, shipping a
 * password list costs more. */
static const char *const secret_words[] = {"password", "passwd",      "passphrase",  "secret",
                                           "token",    "credential",  "api_key",     "apikey",
                                           "api-key",  "private_key", "private-key", NULL};

static bool has_secret_word(const char *text, size_t len)
{
    char low[4096];
    size_t n = len < sizeof low - 1 ? len : sizeof low - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)text[i]);
    low[n] = '\0';
    for (int i = 0; secret_words[i] != NULL; i++) {
        if (strstr(low, secret_words[i]) != NULL)
            return true;
    }
    return false;
}

bool tide_bundle_may_hold_secrets(const char *path, const char *data, size_t len)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash != NULL ? slash + 1 : path;
    if (has_secret_word(name, strlen(name)))
        return true;
    const char *nl = data != NULL ? memchr(data, '\n', len) : NULL;
    return data != NULL && has_secret_word(data, nl != NULL ? (size_t)(nl - data) : len);
}

/* 'path' relative to 'root' when it lies under it (NULL otherwise). */
static const char *relative_to(const char *path, const char *root)
{
    size_t n = strlen(root);
    if (strncmp(path, root, n) != 0 || path[n] != '/' || path[n + 1] == '\0')
        return NULL;
    return path + n + 1;
}

struct bundler {
    const struct tide_config *cfg;
    char root[PATH_MAX]; /* the scenario's folder, real path */
    char dir[4096];      /* RUN/bundle */
    cJSON *copied, *excluded, *files;
};

static void exclude(struct bundler *b, const char *kind, const char *path, const char *why)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON_AddStringToObject(o, "path", path);
    cJSON_AddStringToObject(o, "excluded", why);
    cJSON_AddItemToArray(b->excluded, o);
    tide_log(TIDE_LOG_WARN, "--bundle: %s %s not bundled: %s", kind, path, why);
}

/* Writes 'data' to bundle/'rel' and lists it in the section and the files map. */
static int copy_bytes(struct bundler *b, const char *kind, const char *rel, const char *data,
                      size_t len, struct tide_err *err)
{
    char dest[8400], parent[8400], hex[65];
    snprintf(dest, sizeof dest, "%s/%s", b->dir, rel);
    snprintf(parent, sizeof parent, "%s", dest);
    *strrchr(parent, '/') = '\0';
    if (tide_fs_mkdirs(parent, err) != 0 || tide_fs_write_atomic(dest, data, len, err) != 0)
        return -1;
    tide_sha256_hex(data, len, hex);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON_AddStringToObject(o, "path", rel);
    cJSON_AddStringToObject(o, "sha256", hex);
    cJSON_AddNumberToObject(o, "bytes", (double)len);
    cJSON_AddItemToArray(b->copied, o);
    char key[4200];
    snprintf(key, sizeof key, "bundle/%s", rel);
    cJSON_AddStringToObject(b->files, key, hex);
    return 0;
}

/* Copies one file (real path 'path') into the bundle; a path copied already is skipped. */
static int add_file(struct bundler *b, const char *kind, const char *path, struct tide_err *err)
{
    char real[PATH_MAX];
    if (realpath(path, real) == NULL) {
        exclude(b, kind, path, "cannot be read any more");
        return 0;
    }
    const char *rel = relative_to(real, b->root);
    if (rel == NULL) {
        exclude(b, kind, path, "outside the scenario's folder (links followed)");
        return 0;
    }
    char key[4200];
    snprintf(key, sizeof key, "bundle/%s", rel);
    if (cJSON_GetObjectItemCaseSensitive(b->files, key) != NULL)
        return 0;
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
        exclude(b, kind, rel, "not a regular file");
        return 0;
    }
    size_t len = 0;
    char *data = tide_fs_read_all(real, &len, err);
    if (data == NULL)
        return -1;
    if (strcmp(kind, "data") == 0 && !b->cfg->bundle_data &&
        tide_bundle_may_hold_secrets(rel, data, len)) {
        free(data);
        exclude(b, kind, rel, "may hold secrets");
        return 0;
    }
    int rc = copy_bytes(b, kind, rel, data, len, err);
    free(data);
    return rc;
}

/* Removes 'path' and what is under it; links are removed, never followed. */
static int remove_tree(const char *path, int depth)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    DIR *d = depth < 64 ? opendir(path) : NULL;
    if (d == NULL)
        return -1;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char sub[8400];
        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        rc = remove_tree(sub, depth + 1);
    }
    closedir(d);
    return rc == 0 ? rmdir(path) : rc;
}

int tide_bundle_write(const struct tide_config *cfg, const char *dir, cJSON *facts,
                      struct tide_err *err)
{
    struct bundler b = {.cfg = cfg};
    if (cfg->script_dir == NULL || realpath(cfg->script_dir, b.root) == NULL)
        snprintf(b.root, sizeof b.root,
                 "//"); /* no folder (a built-in scenario): no file is under it */
    snprintf(b.dir, sizeof b.dir, "%s/bundle", dir);
    /* --out into an earlier run's folder: its bundle/ would mix in files this run did not read
     * (links are removed, not followed) */
    if (remove_tree(b.dir, 0) != 0)
        return tide_err_set(err, "--bundle: cannot empty %s: %s", b.dir, strerror(errno));
    if (tide_fs_mkdirs(b.dir, err) != 0)
        return -1;
    cJSON *section = cJSON_AddObjectToObject(facts, "bundle");
    cJSON_AddStringToObject(section, "root", "the scenario's folder");
    b.copied = cJSON_AddArrayToObject(section, "files");
    b.excluded = cJSON_AddArrayToObject(section, "excluded");
    b.files = cJSON_GetObjectItem(facts, "files");
    if (b.files == NULL)
        b.files = cJSON_AddObjectToObject(facts, "files");
    /* the scenario: the bytes that ran, under its own name (even when it is a link) */
    const char *slash = strrchr(cfg->script_path, '/');
    int rc = copy_bytes(&b, "scenario", slash != NULL ? slash + 1 : cfg->script_path,
                        cfg->script_source, cfg->script_len, err);
    for (int i = 0; rc == 0 && i < cfg->nplugins; i++)
        rc = add_file(&b, "plugin", cfg->plugins[i], err);
    cJSON *read = tide_loaded_json(); /* modules and data files, real paths */
    const cJSON *f;
    cJSON_ArrayForEach(f, read)
    {
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(f, "kind"));
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(f, "path"));
        if (rc == 0 && kind != NULL && path != NULL)
            rc = add_file(&b, kind, path, err);
    }
    cJSON_Delete(read);
    return rc;
}

/* Verify. */

/* Every entry under dir/'rel' (rel "bundle" first) is a folder or a listed regular file. */
static int walk(const char *dir, const char *rel, const cJSON *files, int depth,
                struct tide_err *err)
{
    if (depth > 64)
        return tide_err_set(err, "%s/: folders nested too deep (refused)", rel);
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    DIR *d = opendir(path);
    if (d == NULL)
        return tide_err_set(err, "%s/: %s", rel, strerror(errno));
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char sub[4200], full[8400];
        struct stat st;
        snprintf(sub, sizeof sub, "%s/%s", rel, de->d_name);
        snprintf(full, sizeof full, "%s/%s", dir, sub);
        if (lstat(full, &st) != 0)
            rc = tide_err_set(err, "%s: %s", sub, strerror(errno));
        else if (S_ISDIR(st.st_mode))
            rc = walk(dir, sub, files, depth + 1, err);
        else if (!S_ISREG(st.st_mode))
            rc = tide_err_set(err, "%s: not a regular file (refused)", sub);
        else if (cJSON_GetObjectItemCaseSensitive(files, sub) == NULL)
            rc = tide_err_set(err, "%s: not in the manifest (added after the run)", sub);
    }
    closedir(d);
    return rc;
}

/* "bundle/a/b": no empty, "." or ".." component. */
static bool safe_name(const char *name)
{
    for (const char *p = name; *p != '\0';) {
        const char *slash = strchr(p, '/');
        size_t n = slash != NULL ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (slash == NULL)
            break;
        p = slash + 1;
        if (*p == '\0')
            return false;
    }
    return true;
}

int tide_bundle_verify(const char *dir, const cJSON *files, struct tide_err *err)
{
    char path[8400];
    struct stat st;
    snprintf(path, sizeof path, "%s/bundle", dir);
    if (lstat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return tide_err_set(err, "bundle: not a folder (refused)");
        if (walk(dir, "bundle", files, 0, err) != 0)
            return -1;
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, files)
    {
        if (strncmp(f->string, "bundle/", 7) != 0)
            continue;
        if (!safe_name(f->string))
            return tide_err_set(err, "\"%s\": not a file name of the bundle", f->string);
        snprintf(path, sizeof path, "%s/%s", dir, f->string);
        /* the walk above saw no link on the way; the file itself must not be one either */
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return tide_err_set(err, "%s: %s", f->string,
                                errno == ENOENT ? "missing (removed)" : strerror(errno));
        bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
        close(fd);
        char hex[65];
        if (!regular)
            return tide_err_set(err, "%s: not a regular file (refused)", f->string);
        if (tide_fs_sha256_file(path, hex, err) != 0)
            return -1;
        if (!cJSON_IsString(f) || strcmp(hex, f->valuestring) != 0)
            return tide_err_set(err, "%s: sha256 differs from the manifest (modified)", f->string);
    }
    return 0;
}
