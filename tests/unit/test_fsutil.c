/* Unit tests of whole-file reads (base/fsutil.c tide_fs_read_all, tide_fs_read_file), which the
 * script, --users and report readers share: content and length, errno kept on failure so callers
 * can word their own message, and read_file's refusal of special files and of too large ones. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../check.h"
#include "fsutil.h"

static void test_read_all(void)
{
    char dir[] = "/tmp/tide-test-fs-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/f.txt", dir);
    struct tide_err err = {{0}};
    size_t n = 200000; /* past the first 64 KiB chunk */
    char *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)('a' + i % 26);
    data[7] = '\0'; /* embedded NULs are kept: the length says where the file ends */
    CHECK(tide_fs_write_atomic(path, data, n, &err) == 0);
    size_t len = 0;
    char *got = tide_fs_read_all(path, &len, &err);
    CHECK(got != NULL && len == n && memcmp(got, data, n) == 0 && got[n] == '\0');
    free(got);
    CHECK(tide_fs_write_atomic(path, "", 0, &err) == 0);
    got = tide_fs_read_all(path, NULL, &err);
    CHECK(got != NULL && got[0] == '\0');
    free(got);

    char missing[300];
    snprintf(missing, sizeof missing, "%s/none", dir);
    errno = 0;
    CHECK(tide_fs_read_all(missing, &len, &err) == NULL);
    CHECK(errno == ENOENT);
    CHECK(strstr(err.msg, "No such file") != NULL);
    errno = 0;
    CHECK(tide_fs_read_all(dir, &len, NULL) == NULL); /* a folder: no message wanted */
    CHECK(errno == EISDIR);
    unlink(path);
    rmdir(dir);
    free(data);
}

/* read_file: regular files only (a FIFO is refused at once, not waited on), bounded. */
static void test_read_file(void)
{
    char dir[] = "/tmp/tide-test-fs-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], fifo[256];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    struct tide_err err = {{0}};
    CHECK(tide_fs_write_atomic(path, "{\"a\":1}", 7, &err) == 0);
    size_t len = 0;
    char *got = tide_fs_read_file(path, 7, &len, &err);
    CHECK(got != NULL && len == 7 && strcmp(got, "{\"a\":1}") == 0);
    free(got);
    CHECK(tide_fs_read_file(path, 6, &len, &err) == NULL); /* one byte over the bound */
    CHECK(errno == EFBIG && strstr(err.msg, "larger than") != NULL);
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK(tide_fs_read_file(fifo, 1 << 20, &len, &err) == NULL); /* no writer: no wait */
    CHECK(strstr(err.msg, "not a regular file") != NULL);
    CHECK(tide_fs_read_file("/dev/zero", 1 << 20, &len, &err) == NULL); /* never ends */
    CHECK(strstr(err.msg, "not a regular file") != NULL);
    CHECK(tide_fs_read_file(dir, 1 << 20, &len, &err) == NULL);
    unlink(fifo);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_read_all();
    test_read_file();
    return CHECK_DONE();
}
