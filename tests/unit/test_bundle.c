/* Unit tests of run/bundle.c: which data files are taken to hold credentials (by name or by
 * their first line only), and tide_bundle_verify on a hand-made folder: listed files pass,
 * a changed byte, an unlisted file, a link, a missing file and a name with ".." are named. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../check.h"
#include "audit.h"
#include "bundle.h"
#include "fsutil.h"

static void test_secrets(void)
{
    const char users[] = "name,email\nbob,bob@example.com\n";
    CHECK(!tide_bundle_may_hold_secrets("data/users.csv", users, strlen(users)));
    const char accounts[] = "user,Password\nalice,x\n";
    CHECK(tide_bundle_may_hold_secrets("data/users.csv", accounts, strlen(accounts)));
    CHECK(tide_bundle_may_hold_secrets("data/api_tokens.csv", users, strlen(users)));
    CHECK(tide_bundle_may_hold_secrets("secrets.json", "{}", 2));
    const char json[] = "{\"apiKey\": \"x\"}";
    CHECK(tide_bundle_may_hold_secrets("cfg.json", json, strlen(json)));
    /* only the first line is looked at: a body that mentions a token is not a header */
    const char later[] = "q,expected\nreset token,200\n";
    CHECK(!tide_bundle_may_hold_secrets("queries.csv", later, strlen(later)));
    CHECK(!tide_bundle_may_hold_secrets("empty.csv", NULL, 0));
}

static void put(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK(tide_fs_write_atomic(path, text, strlen(text), NULL) == 0);
}

static cJSON *listing(void)
{
    char hex[65];
    cJSON *files = cJSON_CreateObject();
    tide_sha256_hex("a\n", 2, hex);
    cJSON_AddStringToObject(files, "bundle/s.lua", hex);
    tide_sha256_hex("b\n", 2, hex);
    cJSON_AddStringToObject(files, "bundle/lib/m.lua", hex);
    cJSON_AddStringToObject(files, "summary.json", "not looked at here");
    return files;
}

static void test_verify(void)
{
    char dir[] = "/tmp/tide-test-bundle-XXXXXX", sub[600];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(sub, sizeof sub, "%s/bundle/lib", dir);
    CHECK(tide_fs_mkdirs(sub, NULL) == 0);
    put(dir, "bundle/s.lua", "a\n");
    put(dir, "bundle/lib/m.lua", "b\n");
    cJSON *files = listing();
    struct tide_err err = {{0}};
    CHECK(tide_bundle_verify(dir, files, &err) == 0);

    put(dir, "bundle/lib/m.lua", "c\n");
    CHECK(tide_bundle_verify(dir, files, &err) == -1);
    CHECK(strstr(err.msg, "bundle/lib/m.lua: sha256 differs") != NULL);
    put(dir, "bundle/lib/m.lua", "b\n");

    put(dir, "bundle/lib/extra.lua", "x\n");
    CHECK(tide_bundle_verify(dir, files, &err) == -1);
    CHECK(strstr(err.msg, "bundle/lib/extra.lua: not in the manifest") != NULL);
    snprintf(sub, sizeof sub, "%s/bundle/lib/extra.lua", dir);
    unlink(sub);

    snprintf(sub, sizeof sub, "%s/bundle/link", dir);
    CHECK(symlink("/etc/hostname", sub) == 0);
    CHECK(tide_bundle_verify(dir, files, &err) == -1);
    CHECK(strstr(err.msg, "bundle/link: not a regular file") != NULL);
    unlink(sub);

    snprintf(sub, sizeof sub, "%s/bundle/s.lua", dir);
    unlink(sub);
    CHECK(tide_bundle_verify(dir, files, &err) == -1);
    CHECK(strstr(err.msg, "bundle/s.lua: missing") != NULL);
    put(dir, "bundle/s.lua", "a\n");

    cJSON_AddStringToObject(files, "bundle/../summary.json", "0");
    CHECK(tide_bundle_verify(dir, files, &err) == -1);
    CHECK(strstr(err.msg, "not a file name of the bundle") != NULL);
    cJSON_Delete(files);

    unlink(sub);
    snprintf(sub, sizeof sub, "%s/bundle/lib/m.lua", dir);
    unlink(sub);
    snprintf(sub, sizeof sub, "%s/bundle/lib", dir);
    rmdir(sub);
    snprintf(sub, sizeof sub, "%s/bundle", dir);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    test_secrets();
    test_verify();
    return CHECK_DONE();
}
