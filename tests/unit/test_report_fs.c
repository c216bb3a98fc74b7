/* Unit tests of engine/fsutil.c: atomic writes (no temporary file left, old content kept on
 * failure, a clear message on a full disk), mkdir -p, sha256, whole-file reads. */
#define _GNU_SOURCE /* unshare(2), for a private tmpfs */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../check.h"
#include "test_report_fixture.h"
#include "fsutil.h"

#define SKIPPED 77

static char dir[512];

/* Entries of 'd' other than "." and "..". */
static int entries(const char *d)
{
    DIR *dp = opendir(d);
    int n = 0;
    if (dp == NULL)
        return -1;
    for (struct dirent *e = readdir(dp); e != NULL; e = readdir(dp))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(dp);
    return n;
}

static void test_write_atomic_replaces_and_leaves_nothing(void)
{
    char sub[600], path[700];
    snprintf(sub, sizeof sub, "%s/atomic", dir);
    struct tide_err err = {{0}};
    CHECK(tide_fs_mkdirs(sub, &err) == 0);
    snprintf(path, sizeof path, "%s/report.html", sub);
    CHECK(tide_fs_write_atomic(path, "first", 5, &err) == 0);
    CHECK(tide_fs_write_atomic(path, "second!", 7, &err) == 0);
    char *text = fx_slurp(path);
    CHECK_STR(text, "second!");
    free(text);
    CHECK(entries(sub) == 1);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    /* empty content is a valid file, and a relative name works */
    CHECK(tide_fs_write_atomic(path, "", 0, &err) == 0);
    CHECK(stat(path, &st) == 0 && st.st_size == 0);
    char cwd[600];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir(sub) == 0);
    CHECK(tide_fs_write_atomic("plain.txt", "x", 1, &err) == 0);
    CHECK(chdir(cwd) == 0);
    CHECK(entries(sub) == 2);
}

static void test_write_atomic_reports_missing_folder(void)
{
    char path[700];
    struct tide_err err = {{0}};
    snprintf(path, sizeof path, "%s/nope/x.csv", dir);
    CHECK(tide_fs_write_atomic(path, "x", 1, &err) == -1);
    char want[1024];
    snprintf(want, sizeof want,
             "cannot create a temporary file for '%s': No such file or directory", path);
    CHECK_STR(err.msg, want);
}

/* In a child: a file size limit makes write(2) fail half-way (EFBIG), as a full disk would;
 * the old file must survive and no temporary file remain. Works as root too. */
static void test_write_atomic_fails_cleanly_on_short_write(void)
{
    char sub[600], path[700];
    snprintf(sub, sizeof sub, "%s/limited", dir);
    snprintf(path, sizeof path, "%s/stats.csv", sub);
    struct tide_err err = {{0}};
    CHECK(tide_fs_mkdirs(sub, &err) == 0);
    CHECK(tide_fs_write_atomic(path, "old", 3, &err) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {4096, 4096};
        setrlimit(RLIMIT_FSIZE, &rl);
        static char big[65536];
        memset(big, 'x', sizeof big);
        int rc = tide_fs_write_atomic(path, big, sizeof big, &err);
        if (rc == 0 || strstr(err.msg, "File too large") == NULL ||
            strstr(err.msg, "cannot write '") == NULL) {
            fprintf(stderr, "  short write: rc %d, '%s'\n", rc, err.msg);
            _exit(1);
        }
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *text = fx_slurp(path);
    CHECK_STR(text, "old");
    free(text);
    CHECK(entries(sub) == 1);
}

/* A 64 KiB tmpfs in a private mount namespace: a real ENOSPC. Exit 77 when this machine
 * does not allow the mount (no CAP_SYS_ADMIN, no user namespaces). */
static int full_disk_child(const char *mnt)
{
    if (unshare(CLONE_NEWNS) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
        return SKIPPED;
    if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return SKIPPED;
    if (mount("tide-test", mnt, "tmpfs", 0, "size=64k") != 0)
        return SKIPPED;
    char path[700];
    struct tide_err err = {{0}};
    snprintf(path, sizeof path, "%s/report.html", mnt);
    if (tide_fs_write_atomic(path, "old report", 10, &err) != 0)
        return 1;
    static char big[1 << 20];
    memset(big, 'r', sizeof big);
    int rc = tide_fs_write_atomic(path, big, sizeof big, &err);
    char want[1024];
    snprintf(want, sizeof want,
             "cannot write '%s': No space left on device (free some disk space, then run "
             "'tide report DIR' to write the reports again)",
             path);
    char *text = fx_slurp(path);
    int bad = rc != -1 || strcmp(err.msg, want) != 0 || text == NULL ||
              strcmp(text, "old report") != 0 || entries(mnt) != 1;
    if (bad)
        fprintf(stderr, "  full disk: rc %d, '%s', content '%.20s', %d entries\n", rc, err.msg,
                text ? text : "(none)", entries(mnt));
    free(text);
    return bad;
}

/* Its own ctest case (unit.test_report_fs.full_disk, 'test_report_fs --full-disk'), so that
 * "cannot mount here" shows as Skipped (exit 77) instead of passing unseen. */
static int test_write_atomic_on_full_disk(void)
{
    char mnt[600];
    snprintf(mnt, sizeof mnt, "%s/full", dir);
    mkdir(mnt, 0755);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(full_disk_child(mnt));
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == SKIPPED) {
        printf("skipped: cannot mount a tmpfs here (no CAP_SYS_ADMIN, no user namespaces)\n");
        return SKIPPED;
    }
    CHECK(code == 0);
    return CHECK_DONE();
}

static void test_mkdirs(void)
{
    char deep[700], file[700];
    struct tide_err err = {{0}};
    snprintf(deep, sizeof deep, "%s/a/b/c/", dir);
    CHECK(tide_fs_mkdirs(deep, &err) == 0);
    CHECK(tide_fs_mkdirs(deep, &err) == 0);
    struct stat st;
    CHECK(stat(deep, &st) == 0 && S_ISDIR(st.st_mode));
    snprintf(file, sizeof file, "%s/a/b/f", dir);
    CHECK(tide_fs_write_atomic(file, "x", 1, &err) == 0);
    snprintf(deep, sizeof deep, "%s/a/b/f/g", dir);
    CHECK(tide_fs_mkdirs(deep, &err) == -1);
    char want[1024];
    snprintf(want, sizeof want, "cannot create folder '%s': a file of that name is in the way",
             file);
    CHECK_STR(err.msg, want);
    CHECK(tide_fs_mkdirs("", &err) == -1);
}

static void test_sha256(void)
{
    char path[700], hex[65];
    struct tide_err err = {{0}};
    snprintf(path, sizeof path, "%s/abc", dir);
    CHECK(tide_fs_write_atomic(path, "abc", 3, &err) == 0);
    CHECK(tide_fs_sha256_file(path, hex, &err) == 0);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(tide_fs_write_atomic(path, "", 0, &err) == 0);
    CHECK(tide_fs_sha256_file(path, hex, &err) == 0);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* larger than one read chunk */
    static char big[100000];
    memset(big, 'a', sizeof big);
    CHECK(tide_fs_write_atomic(path, big, sizeof big, &err) == 0);
    CHECK(tide_fs_sha256_file(path, hex, &err) == 0);
    CHECK_STR(hex, "6d1cf22d7cc09b085dfc25ee1a1f3ae0265804c607bc2074ad253bcc82fd81ee");
    snprintf(path, sizeof path, "%s/missing", dir);
    CHECK(tide_fs_sha256_file(path, hex, &err) == -1);
    CHECK(strstr(err.msg, "No such file or directory") != NULL);
}

static void test_read_all(void)
{
    char path[700];
    struct tide_err err = {{0}};
    size_t len = 0;
    snprintf(path, sizeof path, "%s/data", dir);
    static char big[200001];
    for (size_t i = 0; i < sizeof big - 1; i++)
        big[i] = (char)('a' + i % 26);
    CHECK(tide_fs_write_atomic(path, big, sizeof big - 1, &err) == 0);
    char *text = tide_fs_read_all(path, &len, &err);
    CHECK(text != NULL && len == sizeof big - 1 && memcmp(text, big, len) == 0 && text[len] == 0);
    free(text);
    CHECK(tide_fs_read_all(dir, &len, &err) == NULL);
    CHECK(strstr(err.msg, "Is a directory") != NULL);
    snprintf(path, sizeof path, "%s/missing", dir);
    CHECK(tide_fs_read_all(path, NULL, &err) == NULL);
    char want[1024];
    snprintf(want, sizeof want, "cannot read '%s': No such file or directory", path);
    CHECK_STR(err.msg, want);
}

int main(int argc, char **argv)
{
    if (fx_tmpdir(dir, sizeof dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "--full-disk") == 0) {
        int rc = test_write_atomic_on_full_disk();
        fx_rmdir(dir);
        return rc;
    }
    test_write_atomic_replaces_and_leaves_nothing();
    test_write_atomic_reports_missing_folder();
    test_write_atomic_fails_cleanly_on_short_write();
    test_mkdirs();
    test_sha256();
    test_read_all();
    fx_rmdir(dir);
    return CHECK_DONE();
}
