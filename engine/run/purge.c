/* purge.c: retention, erasure, receipts (see purge.h). */
#define _GNU_SOURCE /* nftw's FTW_PHYS, timegm */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cJSON.h>
#include "audit.h"
#include "clock.h"
#include "cmd_events.h"
#include "duration.h"
#include "export_s3.h"
#include "fsutil.h"
#include "ledger.h"
#include "log.h"
#include "operator.h"
#include "purge.h"
#include "run.h"
#include "sign.h"

#define RECEIPTS         ".receipts"
#define EXPORTS          ".exports.jsonl"
/* Files up to this size are also searched for the run id by the re-scan. */
#define SCAN_CONTENT_MAX ((off_t)64 << 20)

/* What selects runs; every given filter must match. */
struct selection {
    const char *runs;
    int64_t older_us; /* -1: any age */
    const char *scenario;
    const char *tag; /* "K=V" */
    bool dry_run;
    const char *key; /* signs receipts */
    cJSON *done;     /* purge_done's "erased" list (cmd_events.h); NULL: not kept */
};

static cJSON *read_json(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (16 << 20))
        return NULL;
    char *text = tide_fs_read_all(path, NULL, NULL);
    cJSON *j = text != NULL ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

/* A run folder: a real folder (not a link) holding manifest.json or an events log. */
static bool is_run(const char *runs, const char *id)
{
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", runs, id);
    if (id[0] == '.' || lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return false;
    const char *marks[] = {"manifest.json", "events.jsonl", ".events.jsonl.partial"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s/%s", runs, id, marks[i]);
        if (lstat(path, &st) == 0)
            return true;
    }
    return false;
}

/* The run's start (µs since the epoch): the manifest's "start", else the folder's mtime. */
static int64_t run_start_us(const char *runs, const char *id, const cJSON *m)
{
    const char *start = cJSON_GetStringValue(cJSON_GetObjectItem(m, "start"));
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (start != NULL && strptime(start, "%Y-%m-%dT%H:%M:%S", &tm) != NULL)
        return (int64_t)timegm(&tm) * 1000000;
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", runs, id);
    return stat(path, &st) == 0 ? (int64_t)st.st_mtime * 1000000 : 0;
}

static bool matches(const struct selection *s, const char *id, int64_t now_us)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s/manifest.json", s->runs, id);
    cJSON *m = read_json(path);
    bool ok = true;
    if (s->older_us >= 0)
        ok = now_us - run_start_us(s->runs, id, m) > s->older_us;
    if (ok && s->scenario != NULL) {
        const char *sf = cJSON_GetStringValue(cJSON_GetObjectItem(m, "scenario_file"));
        const char *base = sf != NULL ? strrchr(sf, '/') : NULL;
        base = base != NULL ? base + 1 : sf;
        size_t n = strlen(s->scenario);
        ok = base != NULL && strncmp(base, s->scenario, n) == 0 &&
             (base[n] == '\0' || strcmp(base + n, ".lua") == 0);
    }
    if (ok && s->tag != NULL) {
        const char *eq = strchr(s->tag, '=');
        const cJSON *tags = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "options"), "tags");
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(eq - s->tag), s->tag);
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tags, key));
        ok = v != NULL && strcmp(v, eq + 1) == 0;
    }
    cJSON_Delete(m);
    return ok;
}

/* The files of a folder, recursively: {"name","bytes","sha256"} (links and special files get
 * "type" instead of a hash; nothing is opened but regular files). nftw has no user pointer. */
static cJSON *walk_files;
static size_t walk_root_len;

static int collect_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag == FTW_D || flag == FTW_DP || strlen(path) <= walk_root_len)
        return 0;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "name", path + walk_root_len + 1);
    cJSON_AddNumberToObject(f, "bytes", (double)st->st_size);
    char hex[65];
    if (S_ISREG(st->st_mode) && tide_fs_sha256_file(path, hex, NULL) == 0)
        cJSON_AddStringToObject(f, "sha256", hex);
    else
        cJSON_AddStringToObject(f, "type", S_ISLNK(st->st_mode) ? "link" : "special");
    cJSON_AddItemToArray(walk_files, f);
    return 0;
}

static cJSON *list_run_files(const char *dir)
{
    walk_files = cJSON_CreateArray();
    walk_root_len = strlen(dir);
    nftw(dir, collect_one, 16, FTW_PHYS);
    cJSON *out = walk_files;
    walk_files = NULL;
    return out;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) != 0 ? -1 : 0;
}

/* Erases what tide can reach of one export record 'e' and says so in 'x': a CAR file tide
 * wrote (a local copy), the objects of an S3 export (with the environment's credentials).
 * Content given to an IPFS node cannot be recalled by anyone: unpin it there, and only
 * encryption makes the copies unreadable (docs/export.md). */
static void reach_export(const cJSON *e, cJSON *x, bool dry_run)
{
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind"));
    const char *ref = cJSON_GetStringValue(cJSON_GetObjectItem(e, "ref"));
    const char *file = cJSON_GetStringValue(cJSON_GetObjectItem(e, "file"));
    char why[600];
    bool erased = false;
    struct stat st;
    if (kind != NULL && strcmp(kind, "car") == 0 && file != NULL) {
        if (lstat(file, &st) != 0) {
            snprintf(why, sizeof why, "the CAR file %s is already gone", file);
            erased = errno == ENOENT;
        } else if (!S_ISREG(st.st_mode)) {
            snprintf(why, sizeof why, "%s is not a regular file: left alone", file);
        } else if (dry_run) {
            snprintf(why, sizeof why, "would delete the CAR file %s", file);
        } else if (unlink(file) == 0) {
            snprintf(why, sizeof why, "deleted the CAR file %s", file);
            erased = true;
        } else {
            snprintf(why, sizeof why, "cannot delete %s: %s", file, strerror(errno));
        }
    } else if (kind != NULL && strcmp(kind, "s3") == 0 && ref != NULL) {
        const char *endpoint = cJSON_GetStringValue(cJSON_GetObjectItem(e, "endpoint"));
        const char *region = cJSON_GetStringValue(cJSON_GetObjectItem(e, "region"));
        struct tide_err err = {{0}};
        size_t n = 0;
        if (dry_run) {
            snprintf(why, sizeof why, "would delete every object under %s", ref);
        } else if (tide_export_s3_delete_ref(ref, endpoint, region, &n, &err) == 0) {
            snprintf(why, sizeof why, "deleted %zu objects under %s (none left)", n, ref);
            erased = true;
        } else {
            snprintf(why, sizeof why, "not deleted: %s", err.msg);
        }
    } else {
        snprintf(why, sizeof why,
                 "outside the runs folder: tide cannot delete it; "
                 "delete or unpin it at the destination");
    }
    cJSON_AddBoolToObject(x, "erased", erased);
    cJSON_AddStringToObject(x, "why", why);
}

/* The run id summary.json gives a folder ("" when none): a run written with --out has a
 * folder name and a run id of its own, and exports may be recorded under either. */
static void summary_run_id(const char *dir, char *out, size_t outlen)
{
    char path[4300];
    out[0] = '\0';
    snprintf(path, sizeof path, "%s/summary.json", dir);
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    char *text = tide_fs_read_all(path, NULL, NULL);
    cJSON *j = text != NULL ? cJSON_Parse(text) : NULL;
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "run"), "id"));
    if (id != NULL)
        snprintf(out, outlen, "%s", id);
    cJSON_Delete(j);
    free(text);
}

/* The lines of RUNS/.exports.jsonl naming the run, by folder name 'id' or summary id 'sid'
 * (taken out of the file unless dry_run). */
static cJSON *take_exports(const char *runs, const char *id, const char *sid, bool dry_run)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/" EXPORTS, runs);
    cJSON *taken = cJSON_CreateArray();
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return taken;
    char *text = tide_fs_read_all(path, NULL, NULL);
    if (text == NULL)
        return taken;
    size_t cap = strlen(text) + 1, len = 0;
    char *kept = calloc(1, cap);
    for (char *line = strtok(text, "\n"); line != NULL && kept != NULL; line = strtok(NULL, "\n")) {
        cJSON *e = cJSON_Parse(line);
        const char *rid = cJSON_GetStringValue(cJSON_GetObjectItem(e, "run_id"));
        if (rid != NULL && (strcmp(rid, id) == 0 || (sid[0] != '\0' && strcmp(rid, sid) == 0))) {
            cJSON *x = cJSON_CreateObject();
            const char *fields[] = {"kind", "ref", "encrypted"};
            for (int i = 0; i < 3; i++) {
                cJSON *v = cJSON_GetObjectItem(e, fields[i]);
                if (v != NULL)
                    cJSON_AddItemToObject(x, fields[i], cJSON_Duplicate(v, 1));
            }
            reach_export(e, x, dry_run);
            cJSON_AddItemToArray(taken, x);
        } else {
            len += (size_t)snprintf(kept + len, cap - len, "%s\n", line);
        }
        cJSON_Delete(e);
    }
    if (!dry_run && kept != NULL && cJSON_GetArraySize(taken) > 0)
        tide_fs_write_atomic(path, kept, len, NULL);
    free(kept);
    free(text);
    return taken;
}

static int cmp_desc(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

/* Run ids in 'runs', newest name first (ids begin with the date); NULL-terminated. */
static char **list_runs(const char *runs)
{
    DIR *d = opendir(runs);
    char **ids = calloc(1, sizeof *ids);
    size_t n = 0;
    struct dirent *de;
    while (d != NULL && ids != NULL && (de = readdir(d)) != NULL) {
        if (!is_run(runs, de->d_name))
            continue;
        char **g = realloc(ids, (n + 2) * sizeof *g);
        if (g == NULL)
            break;
        ids = g;
        ids[n++] = strdup(de->d_name);
        ids[n] = NULL;
    }
    if (d != NULL)
        closedir(d);
    if (ids != NULL && n > 1)
        qsort(ids, n, sizeof *ids, cmp_desc);
    return ids;
}

static void free_ids(char **ids)
{
    for (size_t i = 0; ids != NULL && ids[i] != NULL; i++)
        free(ids[i]);
    free(ids);
}

/* RUNS/latest pointed at 'id': point it at the newest run left, or remove it. */
static void repoint_latest(const char *runs, const char *id)
{
    char path[4200], target[PATH_MAX], tmp[4300];
    snprintf(path, sizeof path, "%s/latest", runs);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0)
        return;
    target[n] = '\0';
    const char *base = strrchr(target, '/');
    if (strcmp(base != NULL ? base + 1 : target, id) != 0)
        return;
    char **ids = list_runs(runs);
    unlink(path);
    if (ids != NULL && ids[0] != NULL) {
        snprintf(tmp, sizeof tmp, "%s/.latest.%d", runs, (int)getpid());
        if (symlink(ids[0], tmp) == 0 && rename(tmp, path) != 0)
            unlink(tmp);
    }
    free_ids(ids);
}

/* The re-scan: every entry of 'runs' (but the ledger and receipts) that names 'id', links to
 * it, holds one of the erased files' bytes, or, outside other runs' folders, mentions 'id'
 * (files up to 64 MiB). Names are the id or the id and an extension, not any name holding it
 * (a run "old" must not match "thresholds.csv"). Matches inside
 * another run's folder are that run's own identical files (e.g. an empty failures.csv) and listed
 * apart. */
static const cJSON *scan_files;
static const char *scan_id, *scan_runs;
static cJSON *scan_left, *scan_same;
static long scan_entries;

static bool inside_other_run(const char *path)
{
    size_t n = strlen(scan_runs);
    if (strncmp(path, scan_runs, n) != 0 || path[n] != '/')
        return false;
    char id[1024];
    snprintf(id, sizeof id, "%.*s", (int)strcspn(path + n + 1, "/"), path + n + 1);
    return path[n + 1 + strlen(id)] == '/' && is_run(scan_runs, id);
}

/* A name that is the run's: the id itself, or the id and an extension ("ID.json"). */
static bool names_run(const char *name)
{
    size_t n = strlen(scan_id);
    return strncmp(name, scan_id, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

static int scan_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    const char *name = path + ftw->base;
    if (ftw->level == 1 && (strcmp(name, ".ledger.jsonl") == 0 || strcmp(name, RECEIPTS) == 0))
        return flag == FTW_D ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
    if (ftw->level == 0)
        return FTW_CONTINUE;
    scan_entries++;
    if (names_run(name)) {
        cJSON_AddItemToArray(scan_left, cJSON_CreateString(path));
        return FTW_CONTINUE;
    }
    if (flag == FTW_SL) {
        char target[PATH_MAX];
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n >= 0) {
            target[n] = '\0';
            const char *base = strrchr(target, '/');
            if (names_run(base != NULL ? base + 1 : target))
                cJSON_AddItemToArray(scan_left, cJSON_CreateString(path));
        }
        return FTW_CONTINUE;
    }
    if (flag != FTW_F || !S_ISREG(st->st_mode))
        return FTW_CONTINUE;
    bool other_run = inside_other_run(path);
    const cJSON *f;
    bool hashed = false;
    char hex[65];
    cJSON_ArrayForEach(f, scan_files)
    {
        const cJSON *bytes = cJSON_GetObjectItem(f, "bytes");
        const char *sha = cJSON_GetStringValue(cJSON_GetObjectItem(f, "sha256"));
        if (sha == NULL || !cJSON_IsNumber(bytes) || (off_t)bytes->valuedouble != st->st_size)
            continue;
        if (!hashed && tide_fs_sha256_file(path, hex, NULL) != 0)
            break;
        hashed = true;
        if (strcmp(hex, sha) == 0) {
            cJSON_AddItemToArray(other_run ? scan_same : scan_left, cJSON_CreateString(path));
            return FTW_CONTINUE;
        }
    }
    /* a stray file (not another run's own) that mentions the run: a copy, an index line */
    if (!other_run && st->st_size <= SCAN_CONTENT_MAX) {
        size_t len = 0;
        char *text = tide_fs_read_all(path, &len, NULL);
        if (text != NULL && memmem(text, len, scan_id, strlen(scan_id)) != NULL)
            cJSON_AddItemToArray(scan_left, cJSON_CreateString(path));
        free(text);
    }
    return FTW_CONTINUE;
}

/* {"scanned","entries","remaining":[...],"identical_in_other_runs":[...]} */
static cJSON *rescan(const char *runs, const char *id, const cJSON *files)
{
    scan_files = files;
    scan_id = id;
    scan_runs = runs;
    scan_left = cJSON_CreateArray();
    scan_same = cJSON_CreateArray();
    scan_entries = 0;
    nftw(runs, scan_one, 16, FTW_PHYS | FTW_ACTIONRETVAL);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "scanned", runs);
    cJSON_AddNumberToObject(r, "entries", (double)scan_entries);
    cJSON_AddItemToObject(r, "remaining", scan_left);
    cJSON_AddItemToObject(r, "identical_in_other_runs", scan_same);
    scan_left = scan_same = NULL;
    return r;
}

static cJSON *limits_json(void)
{
    cJSON *l = cJSON_CreateArray();
    cJSON_AddItemToArray(
        l, cJSON_CreateString("copies made outside tide (downloads, attachments, backups, CI "
                              "artifacts) are not reachable"));
    cJSON_AddItemToArray(
        l, cJSON_CreateString("files are unlinked, not overwritten: storage that keeps old "
                              "blocks (copy-on-write, SSD, snapshots) may still hold them"));
    cJSON_AddItemToArray(
        l, cJSON_CreateString("exported content (IPFS pins, S3 objects) is erased only at its "
                              "destination"));
    return l;
}

/* Erases one run (or tells what it would erase). 0 done; -1 failed with a message. */
static int erase_run(const struct selection *s, const char *id, struct tide_err *err)
{
    char dir[4200], manifest[4300], hex[65] = "";
    snprintf(dir, sizeof dir, "%s/%s", s->runs, id);
    snprintf(manifest, sizeof manifest, "%s/manifest.json", dir);
    tide_fs_sha256_file(manifest, hex, NULL);
    cJSON *files = list_run_files(dir);
    char sid[256];
    summary_run_id(dir, sid, sizeof sid);
    cJSON *exports = take_exports(s->runs, id, sid, s->dry_run);
    if (s->done != NULL) { /* purge_done's payload: what this run's erasure did */
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "run_id", id);
        cJSON_AddNumberToObject(d, "files", cJSON_GetArraySize(files));
        cJSON_AddStringToObject(d, "manifest_sha256", hex);
        cJSON_AddNumberToObject(d, "exports", cJSON_GetArraySize(exports));
        cJSON_AddItemToArray(s->done, d);
    }
    if (s->dry_run) {
        printf("would erase %s: %d files%s\n", dir, cJSON_GetArraySize(files),
               cJSON_GetArraySize(exports) > 0 ? " and what it can reach of its exports" : "");
        cJSON_Delete(files);
        cJSON_Delete(exports);
        tide_ledger_append(s->runs, "purge", id, "dry-run", NULL);
        return 0;
    }
    int rc = nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    if (rc != 0) {
        cJSON_Delete(files);
        cJSON_Delete(exports);
        return tide_err_set(err, "%s: cannot remove everything: %s", dir, strerror(errno));
    }
    repoint_latest(s->runs, id);
    cJSON *scan = rescan(s->runs, id, files);
    int left = cJSON_GetArraySize(cJSON_GetObjectItem(scan, "remaining"));
    char ts[40], rpath[4400];
    tide_wall_format(tide_wall_us(), ts, sizeof ts);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "type", "tide.erasure-receipt/1");
    cJSON_AddStringToObject(r, "run_id", id);
    cJSON_AddStringToObject(r, "manifest_sha256", hex);
    cJSON_AddStringToObject(r, "erased_at", ts);
    cJSON_AddItemToObject(r, "operator", tide_operator_json());
    cJSON_AddItemToObject(r, "files", files);
    cJSON *reach = cJSON_AddObjectToObject(r, "reachable");
    cJSON_AddStringToObject(reach, "run_folder", "erased");
    cJSON_AddStringToObject(reach, "latest_link", "repointed or removed");
    cJSON_AddStringToObject(reach, "indexes",
                            "run removed from " EXPORTS
                            "; the ledger keeps the run id and hashes only");
    cJSON_AddItemToObject(r, "exports", exports);
    cJSON_AddItemToObject(r, "rescan", scan);
    cJSON_AddItemToObject(r, "not_reachable", limits_json());
    snprintf(rpath, sizeof rpath, "%s/" RECEIPTS, s->runs);
    rc = tide_fs_mkdirs(rpath, err);
    snprintf(rpath, sizeof rpath, "%s/" RECEIPTS "/%s.json", s->runs, id);
    char *text = cJSON_Print(r);
    cJSON_Delete(r);
    if (rc == 0)
        rc = tide_fs_write_atomic(rpath, text, strlen(text), err);
    free(text);
    if (rc == 0 && s->key != NULL)
        rc = tide_sign_file(rpath, s->key, err);
    char rhex[65] = "";
    tide_fs_sha256_file(rpath, rhex, NULL);
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddStringToObject(extra, "manifest_sha256", hex);
    cJSON_AddStringToObject(extra, "receipt_sha256", rhex);
    tide_ledger_append_json(s->runs, "purge", id, left == 0 && rc == 0 ? "erased" : "incomplete",
                            extra, NULL);
    cJSON *d = cJSON_GetArrayItem(s->done, cJSON_GetArraySize(s->done) - 1);
    if (d != NULL) {
        cJSON_AddStringToObject(d, "receipt", rpath);
        cJSON_AddStringToObject(d, "receipt_sha256", rhex);
        cJSON_AddBoolToObject(d, "complete", left == 0 && rc == 0);
    }
    if (rc != 0)
        return -1;
    if (left > 0)
        return tide_err_set(err, "%s: %d entries still hold the run after erasing (see %s)", id,
                            left, rpath);
    printf("erased %s; receipt %s%s\n", dir, rpath, s->key != NULL ? " (signed)" : "");
    return 0;
}

static int purge_selected(const struct selection *s, char **explicit_ids, int nexplicit,
                          const char *keep_id, int *count, struct tide_err *err)
{
    int64_t now = tide_wall_us();
    int rc = 0;
    *count = 0;
    if (nexplicit > 0) {
        for (int i = 0; i < nexplicit && rc == 0; i++) {
            if (!is_run(s->runs, explicit_ids[i]))
                return tide_err_set(err, "%s/%s: no such run", s->runs, explicit_ids[i]);
        }
        for (int i = 0; i < nexplicit && rc == 0; i++) {
            if (matches(s, explicit_ids[i], now)) {
                rc = erase_run(s, explicit_ids[i], err);
                ++*count;
            }
        }
        return rc;
    }
    char **ids = list_runs(s->runs);
    for (size_t i = 0; ids != NULL && ids[i] != NULL && rc == 0; i++) {
        if (keep_id != NULL && strcmp(ids[i], keep_id) == 0)
            continue;
        if (matches(s, ids[i], now)) {
            rc = erase_run(s, ids[i], err);
            ++*count;
        }
    }
    free_ids(ids);
    return rc;
}

int tide_purge_expired(const char *runs_dir, int64_t max_age_us, const char *keep_id,
                       struct tide_err *err)
{
    struct selection s = {runs_dir, max_age_us, NULL, NULL, false, NULL, NULL};
    int count;
    return purge_selected(&s, NULL, 0, keep_id, &count, err) == 0 ? count : -1;
}

static const char purge_usage[] =
    "usage: tide purge [RUN_DIR|RUN_ID...] [--runs DIR] [--older-than AGE] [--scenario NAME]\n"
    "                  [--tag K=V] [--dry-run] [--key KEY] [--plugin NAME|PATH]... [--script "
    "FILE]\n"
    "                  [--hook-timeout D]   (hooks on purge_done: docs/extending.md)\n";

/* The command; *reached says it got past its checks to erasing (then purge_done may fire). */
static int purge_cmd(int argc, char **argv, struct tide_cmd_events *ce, struct selection *out,
                     char runs_real[PATH_MAX], bool *reached)
{
    struct selection s = {"report", -1, NULL, NULL, false, NULL, out->done};
    char *ids[64], *owned[64] = {NULL}, runs_of_arg[4096] = "";
    int nids = 0;
    struct tide_err err = {{0}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(purge_usage, stdout);
            puts("\nErases runs (every file, the latest link, export index lines), re-scans, and\n"
                 "writes an erasure receipt into RUNS/.receipts/. See docs/sovereignty.md.");
            return TIDE_EXIT_OK;
        } else if (strcmp(a, "--dry-run") == 0) {
            s.dry_run = true;
        } else if (strcmp(a, "--runs") == 0 && more) {
            s.runs = argv[++i];
        } else if (strcmp(a, "--older-than") == 0 && more) {
            if (tide_duration_parse(argv[++i], &s.older_us, &err) != 0) {
                fprintf(stderr, "tide: purge: --older-than: %s\n", err.msg);
                return TIDE_EXIT_USAGE;
            }
        } else if (strcmp(a, "--scenario") == 0 && more) {
            s.scenario = argv[++i];
        } else if (strcmp(a, "--tag") == 0 && more && strchr(argv[i + 1], '=') != NULL) {
            s.tag = argv[++i];
        } else if (strcmp(a, "--key") == 0 && more) {
            s.key = argv[++i];
        } else if (a[0] != '-' && nids < 64) {
            ids[nids++] = argv[i];
        } else {
            fprintf(stderr, "tide: purge: bad argument \"%s\"\n%s", a, purge_usage);
            return TIDE_EXIT_USAGE;
        }
    }
    if (nids == 0 && s.older_us < 0 && s.scenario == NULL && s.tag == NULL) {
        fprintf(stderr, "tide: purge: name runs or a filter (nothing is purged by default)\n%s",
                purge_usage);
        return TIDE_EXIT_USAGE;
    }
    /* a run folder given by path: its runs folder is its parent */
    for (int i = 0; i < nids; i++) {
        if (strchr(ids[i], '/') == NULL)
            continue;
        char runs[4096], id[1024];
        tide_ledger_locate(ids[i], runs, sizeof runs, id, sizeof id);
        if (runs_of_arg[0] != '\0' && strcmp(runs_of_arg, runs) != 0) {
            fprintf(stderr, "tide: purge: runs from different folders; one at a time\n");
            for (int k = 0; k < i; k++)
                free(owned[k]);
            return TIDE_EXIT_USAGE;
        }
        snprintf(runs_of_arg, sizeof runs_of_arg, "%s", runs);
        ids[i] = owned[i] = strdup(id);
    }
    if (runs_of_arg[0] != '\0')
        s.runs = runs_of_arg;
    struct stat st;
    if (stat(s.runs, &st) != 0 || !S_ISDIR(st.st_mode) ||
        (s.key != NULL && tide_sign_check_key(s.key, &err) != 0)) {
        if (err.msg[0] == '\0')
            tide_err_set(&err, "%s is not a folder of runs", s.runs);
        fprintf(stderr, "tide: purge: %s\n", err.msg);
        for (int i = 0; i < nids; i++)
            free(owned[i]);
        return TIDE_EXIT_USAGE;
    }
    int count = 0, rc = tide_cmd_events_open(ce); /* an unknown event: nothing erased */
    *out = s;
    if (realpath(s.runs, runs_real) == NULL)
        snprintf(runs_real, PATH_MAX, "%s", s.runs);
    out->runs = runs_real;
    *reached = rc == 0;
    if (rc == 0)
        rc = purge_selected(&s, ids, nids, NULL, &count, &err);
    else
        err.msg[0] = '\0';
    for (int i = 0; i < nids; i++)
        free(owned[i]);
    if (rc != 0 && err.msg[0] == '\0')
        return rc; /* the hooks did not load: said already */
    if (rc != 0) {
        fprintf(stderr, "tide: purge: %s\n", err.msg);
        return strstr(err.msg, "no such run") != NULL ? TIDE_EXIT_USAGE : TIDE_EXIT_THRESHOLDS;
    }
    if (count == 0)
        printf("no run matched in %s\n", s.runs);
    return TIDE_EXIT_OK;
}

int tide_purge_main(int argc, char **argv)
{
    struct tide_cmd_events ce;
    int rc = tide_cmd_events_take(&ce, "purge", &argc, argv, false);
    if (rc != 0)
        return rc;
    struct selection s = {.done = cJSON_CreateArray()};
    bool reached = false;
    char runs[PATH_MAX];
    rc = purge_cmd(argc, argv, &ce, &s, runs, &reached);
    /* purge_done when it erased something, or succeeded (no run matched is a purge too) */
    if (reached && (rc == TIDE_EXIT_OK || cJSON_GetArraySize(s.done) > 0)) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "runs", s.runs);
        cJSON_AddBoolToObject(p, "dry_run", s.dry_run);
        cJSON_AddNumberToObject(p, "count", cJSON_GetArraySize(s.done));
        cJSON_AddBoolToObject(p, "ok", rc == TIDE_EXIT_OK);
        cJSON_AddNumberToObject(p, "exit_code", rc);
        cJSON_AddItemToObject(p, "erased", s.done);
        s.done = NULL;
        rc = tide_cmd_events_fire(&ce, NULL, "purge_done", p, rc);
        cJSON_Delete(p);
    }
    cJSON_Delete(s.done);
    tide_cmd_events_close(&ce);
    return rc;
}

int tide_verify_receipt_main(int argc, char **argv)
{
    const char *file = NULL, *allowed = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            puts("usage: tide verify-receipt FILE [--allowed-signers FILE]\n\nChecks an erasure "
                 "receipt's signature and re-scans its runs folder. See docs/sovereignty.md.");
            return TIDE_EXIT_OK;
        }
        if (strcmp(argv[i], "--allowed-signers") == 0 && i + 1 < argc)
            allowed = argv[++i];
        else if (argv[i][0] != '-' && file == NULL)
            file = argv[i];
        else
            file = NULL, i = argc;
    }
    if (file == NULL) {
        fprintf(stderr, "tide: usage: tide verify-receipt FILE [--allowed-signers FILE]\n");
        return TIDE_EXIT_USAGE;
    }
    cJSON *r = read_json(file);
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(r, "type"));
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(r, "run_id"));
    if (type == NULL || strcmp(type, "tide.erasure-receipt/1") != 0 || id == NULL ||
        strchr(id, '/') != NULL || id[0] == '.') {
        fprintf(stderr, "tide: verify-receipt: %s is not a tide erasure receipt\n", file);
        cJSON_Delete(r);
        return TIDE_EXIT_USAGE;
    }
    struct tide_err err = {{0}};
    char sig[4200], who[256] = "", signature[400] = "not signed";
    struct stat st;
    snprintf(sig, sizeof sig, "%s.sig", file);
    int rc = TIDE_EXIT_OK;
    if (lstat(sig, &st) == 0) {
        if (tide_sign_verify_file(file, allowed, who, sizeof who, &err) != 0) {
            fprintf(stderr, "tide: verify-receipt %s: %s.sig: %s\n", file, file, err.msg);
            rc = TIDE_EXIT_THRESHOLDS;
        } else {
            snprintf(signature, sizeof signature, "signed by %s", who);
        }
    } else if (allowed != NULL) {
        fprintf(stderr, "tide: verify-receipt %s: %s.sig: missing (the receipt is not signed)\n",
                file, file);
        rc = TIDE_EXIT_THRESHOLDS;
    }
    /* the receipt sits in RUNS/.receipts/: re-scan RUNS now */
    char runs[4096], name[1024], receipts[4096];
    tide_ledger_locate(file, receipts, sizeof receipts, name, sizeof name);
    tide_ledger_locate(receipts, runs, sizeof runs, name, sizeof name);
    if (rc == TIDE_EXIT_OK && strcmp(name, RECEIPTS) == 0) {
        cJSON *scan = rescan(runs, id, cJSON_GetObjectItem(r, "files"));
        const cJSON *left = cJSON_GetObjectItem(scan, "remaining");
        if (cJSON_GetArraySize(left) > 0) {
            fprintf(stderr, "tide: verify-receipt %s: %s still holds content of run %s\n", file,
                    cJSON_GetStringValue(cJSON_GetArrayItem(left, 0)), id);
            rc = TIDE_EXIT_THRESHOLDS;
        } else {
            printf("%s: run %s erased at %s; %d files; re-scan of %s: nothing remains; %s\n", file,
                   id, cJSON_GetStringValue(cJSON_GetObjectItem(r, "erased_at")),
                   cJSON_GetArraySize(cJSON_GetObjectItem(r, "files")), runs, signature);
        }
        cJSON_Delete(scan);
        tide_ledger_append(runs, "verify-receipt", id, rc == 0 ? "ok" : "failed", NULL);
    } else if (rc == TIDE_EXIT_OK) {
        printf("%s: run %s; %s (not in a runs folder's .receipts/: not re-scanned)\n", file, id,
               signature);
    }
    cJSON_Delete(r);
    return rc;
}
