/* test_treehash.c: a folder's tree hash is sha256sum's listing of its sorted files, hashed;
 * it changes when any file changes, is added or is renamed, and symbolic links do not count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../check.h"
#include "fsutil.h"
#include "treehash.h"

static void put(const char *dir, const char *name, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static char *hash_of(const char *dir)
{
    static char hex[65];
    struct tide_err err = {{0}};
    CHECK(tide_tree_sha256(dir, hex, &err) == 0);
    return hex;
}

int main(void)
{
    char dir[] = "/tmp/tide-treehash-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/lib", dir);
    mkdir(sub, 0755);
    put(dir, "plugin.lua", "return {}\n");
    put(dir, "lib/helper.lua", "return 1\n");
    /* the same as: printf '<sha> lib/helper.lua\n<sha> plugin.lua\n' | sha256sum, where
     * sha256("return 1\n") and sha256("return {}\n") are the files' digests */
    char listing[400], a[65], b[65], want[65], p[400];
    snprintf(p, sizeof p, "%s/lib/helper.lua", dir);
    tide_fs_sha256_file(p, a, NULL);
    snprintf(p, sizeof p, "%s/plugin.lua", dir);
    tide_fs_sha256_file(p, b, NULL);
    snprintf(listing, sizeof listing, "%s  lib/helper.lua\n%s  plugin.lua\n", a, b);
    char lpath[] = "/tmp/tide-treehash-list-XXXXXX";
    int fd = mkstemp(lpath);
    CHECK(fd >= 0 && write(fd, listing, strlen(listing)) == (ssize_t)strlen(listing));
    close(fd);
    tide_fs_sha256_file(lpath, want, NULL);
    unlink(lpath);
    char first[65];
    snprintf(first, sizeof first, "%s", hash_of(dir));
    CHECK_STR(first, want);

    put(dir, "lib/helper.lua", "return 2\n"); /* a helper changes: the hash changes */
    CHECK(strcmp(hash_of(dir), first) != 0);
    put(dir, "lib/helper.lua", "return 1\n");
    CHECK_STR(hash_of(dir), first);

    snprintf(p, sizeof p, "%s/link.lua", dir); /* a symbolic link is not part of it */
    CHECK(symlink("plugin.lua", p) == 0);
    CHECK_STR(hash_of(dir), first);
    unlink(p);

    put(dir, "data.csv", "a,b\n"); /* a file added */
    CHECK(strcmp(hash_of(dir), first) != 0);
    snprintf(p, sizeof p, "%s/data.csv", dir);
    unlink(p);

    char moved[400], from[400];
    snprintf(from, sizeof from, "%s/lib/helper.lua", dir); /* renamed: another hash */
    snprintf(moved, sizeof moved, "%s/lib/helper2.lua", dir);
    CHECK(rename(from, moved) == 0);
    CHECK(strcmp(hash_of(dir), first) != 0);
    unlink(moved);

    struct tide_err err = {{0}};
    char hex[65];
    CHECK(tide_tree_sha256("/nonexistent-tide-dir", hex, &err) == -1);
    CHECK(strstr(err.msg, "cannot read") != NULL);

    snprintf(p, sizeof p, "%s/plugin.lua", dir);
    unlink(p);
    rmdir(sub);
    rmdir(dir);
    return CHECK_DONE();
}
