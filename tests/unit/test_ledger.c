/* Unit tests of run/ledger.c: records are hash-chained with consecutive seq; an edited,
 * removed or reordered record is named by its line; concurrent appenders (processes) do not
 * fork the chain (flock); the manifest sha256 of a run's "run" record is found; a run folder
 * (or report/latest, a link) maps to its runs folder and id. */
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../check.h"
#include "fsutil.h"
#include "ledger.h"

static char dir[512];

static char *ledger_text(void)
{
    char path[700];
    snprintf(path, sizeof path, "%s/.ledger.jsonl", dir);
    return tide_fs_read_all(path, NULL, NULL);
}

static void put_ledger(const char *text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/.ledger.jsonl", dir);
    CHECK(tide_fs_write_atomic(path, text, strlen(text), NULL) == 0);
}

static void test_chain_and_tampering(void)
{
    struct tide_err err = {{0}};
    long n = -1;
    CHECK(tide_ledger_check(dir, NULL, &n, &err) == 0 && n == 0); /* none yet */
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddStringToObject(extra, "manifest_sha256",
                            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    CHECK(tide_ledger_append_json(dir, "run", "r1", "exit 0", extra, &err) == 0);
    CHECK(tide_ledger_append(dir, "verify", "r1", "ok", &err) == 0);
    CHECK(tide_ledger_append(dir, "report", "r1", "ok", &err) == 0);
    CHECK(tide_ledger_check(dir, NULL, &n, &err) == 0 && n == 3);
    char hex[65];
    CHECK(tide_ledger_manifest_sha(dir, "r1", hex) && hex[0] == 'a');
    CHECK(!tide_ledger_manifest_sha(dir, "r2", hex));

    char *orig = ledger_text();
    char *edited = strdup(orig);
    memcpy(strstr(edited, "\"ok\""), "\"OK\"", 4); /* line 2 edited: line 3's prev differs */
    put_ledger(edited);
    CHECK(tide_ledger_check(dir, NULL, &n, &err) == -1 && strstr(err.msg, "line 3") != NULL);
    free(edited);

    char *cut = strdup(orig); /* line 2 removed */
    char *l2 = strchr(cut, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    memmove(l2, l3, strlen(l3) + 1);
    put_ledger(cut);
    CHECK(tide_ledger_check(dir, NULL, &n, &err) == -1 && strstr(err.msg, "line 2") != NULL);
    free(cut);
    put_ledger(orig);
    free(orig);
}

static void test_concurrent_appends(void)
{
    enum { PROCS = 4, EACH = 25 };
    for (int p = 0; p < PROCS; p++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (int i = 0; i < EACH; i++)
                tide_ledger_append(dir, "verify", "r1", "ok", NULL);
            _exit(0);
        }
    }
    for (int p = 0; p < PROCS; p++)
        wait(NULL);
    struct tide_err err = {{0}};
    long n = 0;
    CHECK(tide_ledger_check(dir, NULL, &n, &err) == 0);
    CHECK(n == 3 + PROCS * EACH);
    if (n != 3 + PROCS * EACH)
        fprintf(stderr, "  %ld records: %s\n", n, err.msg);
}

static void test_locate(void)
{
    char runs[4096], id[1024], path[700];
    snprintf(path, sizeof path, "%s/r1", dir);
    mkdir(path, 0755);
    tide_ledger_locate(path, runs, sizeof runs, id, sizeof id);
    CHECK_STR(id, "r1");
    char real[4096];
    CHECK(realpath(dir, real) != NULL);
    CHECK_STR(runs, real);
    snprintf(path, sizeof path, "%s/latest", dir);
    CHECK(symlink("r1", path) == 0);
    tide_ledger_locate(path, runs, sizeof runs, id, sizeof id);
    CHECK_STR(id, "r1"); /* the link names its target's run */
    tide_ledger_locate("no-such/run7/", runs, sizeof runs, id, sizeof id);
    CHECK_STR(id, "run7");
    CHECK_STR(runs, "no-such");
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tide-ledger-test-XXXXXX", base && base[0] ? base : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_chain_and_tampering();
    test_concurrent_appends();
    test_locate();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return CHECK_DONE();
}
