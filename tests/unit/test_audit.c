/* Unit tests of run/audit.c: events.jsonl is a hash chain (each line carries the sha256 of the
 * line before it, the first one 64 zeros), secrets are redacted in it, and a run folder with a
 * manifest verifies until anything changes: an edited event, a dropped last event, a modified or
 * added file, hidden file, subfolder or FIFO, an event edited by someone who also re-hashed the
 * manifest (the chain), the tail cut and the hash fixed (the recorded count), the whole chain
 * recomputed (the recorded head), the manifest's exit_code edited (the end event). */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../check.h"
#include "audit.h"
#include "fsutil.h"
#include "log.h"

static char dir[512];

static void path_of(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

static char *slurp(const char *name)
{
    char path[700];
    size_t len = 0;
    struct tide_err err = {{0}};
    path_of(path, sizeof path, name);
    return tide_fs_read_all(path, &len, &err);
}

static void put(const char *name, const char *text)
{
    char path[700];
    struct tide_err err = {{0}};
    path_of(path, sizeof path, name);
    CHECK(tide_fs_write_atomic(path, text, strlen(text), &err) == 0);
}

/* A run folder: three events (one carrying a secret), a summary, and the manifest. */
static void write_run(void)
{
    struct tide_audit a;
    struct tide_err err = {{0}};
    CHECK(tide_audit_open(&a, dir, &err) == 0);
    tide_audit_event(&a, "start", NULL);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "note", "password is hunter2-secret");
    cJSON_AddNumberToObject(f, "target", 4);
    tide_audit_event(&a, "stage", f);
    f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "status", "passed");
    cJSON_AddNumberToObject(f, "exit_code", 0);
    tide_audit_event(&a, "end", f);
    CHECK(tide_audit_close(&a, &err) == 0);
    put("summary.json", "{\"schema\":\"tide.summary/1\"}\n");
    cJSON *facts = cJSON_CreateObject();
    cJSON_AddStringToObject(facts, "tool", "tide");
    cJSON_AddNumberToObject(facts, "exit_code", 0);
    CHECK(tide_manifest_write(dir, facts, &err) == 0);
}

/* The lines of events.jsonl, parsed; returns how many (at most 'max'). */
static int events(cJSON **ev, char lines[][1024], int max)
{
    char *text = slurp("events.jsonl");
    int n = 0;
    for (char *l = text, *nl; l != NULL && *l != '\0' && n < max; l = nl + 1) {
        nl = strchr(l, '\n');
        if (nl == NULL)
            break;
        snprintf(lines[n], sizeof lines[n], "%.*s", (int)(nl - l), l);
        ev[n] = cJSON_Parse(lines[n]);
        n++;
    }
    free(text);
    return n;
}

static void test_events_form_a_hash_chain(void)
{
    cJSON *ev[8];
    char lines[8][1024];
    int n = events(ev, lines, 8);
    CHECK(n == 3);
    char prev[65];
    memset(prev, '0', 64);
    prev[64] = '\0';
    static const char *const types[] = {"start", "stage", "end"};
    for (int i = 0; i < n; i++) {
        CHECK(ev[i] != NULL);
        CHECK(cJSON_GetObjectItem(ev[i], "seq")->valuedouble == i + 1);
        CHECK_STR(cJSON_GetObjectItem(ev[i], "type")->valuestring, types[i]);
        CHECK(cJSON_IsString(cJSON_GetObjectItem(ev[i], "time")));
        CHECK_STR(cJSON_GetObjectItem(ev[i], "prev")->valuestring, prev);
        tide_sha256_hex(lines[i], strlen(lines[i]), prev);
        cJSON_Delete(ev[i]);
    }
    CHECK(strstr(lines[1], "\"target\":4") != NULL); /* the fields are in the event */
    char path[700];
    path_of(path, sizeof path, ".events.jsonl.partial");
    CHECK(access(path, F_OK) != 0); /* moved into place */
}

static void test_secrets_are_redacted(void)
{
    char *text = slurp("events.jsonl");
    CHECK(text != NULL && strstr(text, "hunter2-secret") == NULL);
    CHECK(text != NULL && strstr(text, "***") != NULL);
    free(text);
}

static void test_intact_folder_verifies(void)
{
    struct tide_err err = {{0}};
    int rc = tide_audit_verify_dir(dir, NULL, &err);
    CHECK(rc == 0);
    if (rc != 0)
        fprintf(stderr, "  %s\n", err.msg);
    char *m = slurp("manifest.json");
    CHECK(m != NULL && strstr(m, "\"events.jsonl\"") != NULL && strstr(m, "\"summary.json\""));
    CHECK(m != NULL && strstr(m, "\"tool\":") != NULL);
    free(m);
}

/* Runs 'tamper' on a fresh run folder; verify must fail with a message containing 'want'. */
static void expect_broken(void (*tamper)(void), const char *want)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'/* '%s'/.hidden", dir, dir); /* a fresh folder */
    CHECK(system(cmd) == 0);
    write_run();
    tamper();
    struct tide_err err = {{0}};
    CHECK(tide_audit_verify_dir(dir, NULL, &err) == -1);
    CHECK(strstr(err.msg, want) != NULL);
    if (strstr(err.msg, want) == NULL)
        fprintf(stderr, "  '%s' does not say '%s'\n", err.msg, want);
}

static void edit_an_event(void)
{
    char *text = slurp("events.jsonl");
    char *p = strstr(text, "\"target\":4");
    p[sizeof "\"target\":" - 1] = '5';
    put("events.jsonl", text);
    free(text);
}

static void drop_the_last_event(void)
{
    char *text = slurp("events.jsonl");
    size_t n = strlen(text);
    text[n - 1] = '\0'; /* the last newline */
    *(strrchr(text, '\n') + 1) = '\0';
    put("events.jsonl", text);
    free(text);
}

static void modify_the_summary(void)
{
    put("summary.json", "{\"schema\":\"tide.summary/1\",\"forged\":true}\n");
}

static void add_a_file(void)
{
    put("extra.txt", "added later\n");
}

/* A forger's manifest: the file hashes of the folder as it is now (and 'field' set to 'value'
 * when not NULL), the events' recorded head and count kept from the original. */
static void rehash_manifest(const char *field, double value)
{
    char *text = slurp("manifest.json");
    cJSON *m = cJSON_Parse(text);
    free(text);
    cJSON *files = cJSON_GetObjectItem(m, "files");
    cJSON *f;
    cJSON_ArrayForEach(f, files)
    {
        char path[700], hex[65];
        struct tide_err err = {{0}};
        path_of(path, sizeof path, f->string);
        if (tide_fs_sha256_file(path, hex, &err) == 0)
            cJSON_SetValuestring(f, hex);
    }
    if (field != NULL)
        cJSON_SetNumberValue(cJSON_GetObjectItem(m, field), value);
    text = cJSON_Print(m);
    put("manifest.json", text);
    free(text);
    cJSON_Delete(m);
}

/* An edited event with the manifest re-hashed to match: the chain tells. */
static void edit_an_event_and_the_manifest(void)
{
    edit_an_event();
    rehash_manifest(NULL, 0);
}

/* The tail cut and the file's hash fixed in the manifest: the recorded count tells. */
static void drop_the_tail_and_fix_the_hash(void)
{
    drop_the_last_event();
    rehash_manifest(NULL, 0);
}

/* An event edited, the whole chain recomputed, the file's hash fixed: the recorded head tells. */
static void recompute_the_chain(void)
{
    char *text = slurp("events.jsonl");
    char out[8192] = "", prev[65];
    memset(prev, '0', 64);
    prev[64] = '\0';
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        cJSON *e = cJSON_Parse(line);
        cJSON_SetValuestring(cJSON_GetObjectItem(e, "prev"), prev);
        cJSON *t = cJSON_GetObjectItem(e, "target");
        if (t != NULL)
            cJSON_SetNumberValue(t, 5);
        char *l = cJSON_PrintUnformatted(e);
        tide_sha256_hex(l, strlen(l), prev);
        strcat(out, l);
        strcat(out, "\n");
        free(l);
        cJSON_Delete(e);
    }
    free(text);
    put("events.jsonl", out);
    rehash_manifest(NULL, 0);
}

static void edit_the_exit_code(void)
{
    rehash_manifest("exit_code", 99);
}

static void add_a_hidden_file(void)
{
    put(".hidden", "x\n");
}

static void add_a_subfolder(void)
{
    char path[700];
    path_of(path, sizeof path, "sub");
    CHECK(mkdir(path, 0755) == 0);
}

static void add_a_fifo(void)
{
    char path[700];
    path_of(path, sizeof path, "pipe");
    CHECK(mkfifo(path, 0644) == 0);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tide-audit-test-XXXXXX", base && base[0] ? base : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    tide_secret_add("hunter2-secret");
    write_run();
    test_events_form_a_hash_chain();
    test_secrets_are_redacted();
    test_intact_folder_verifies();
    expect_broken(edit_an_event, "events.jsonl: sha256 differs from the manifest");
    expect_broken(drop_the_last_event, "events.jsonl: sha256 differs from the manifest");
    expect_broken(modify_the_summary, "summary.json: sha256 differs from the manifest");
    expect_broken(add_a_file, "extra.txt: not in the manifest");
    expect_broken(edit_an_event_and_the_manifest, "events.jsonl line 3: the hash chain is broken");
    expect_broken(drop_the_tail_and_fix_the_hash,
                  "events.jsonl: 2 events, the manifest recorded 3");
    expect_broken(recompute_the_chain, "events.jsonl: the chain's head differs");
    expect_broken(edit_the_exit_code, "manifest.json: field exit_code differs");
    expect_broken(add_a_hidden_file, ".hidden: not in the manifest");
    expect_broken(add_a_subfolder, "sub/: a subfolder not in the manifest");
    expect_broken(add_a_fifo, "pipe: not in the manifest");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    tide_secrets_clear();
    return CHECK_DONE();
}
