/* audit.c: hash-chained events and the manifest. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "audit.h"
#include "bundle.h"
#include "clock.h"
#include "fsutil.h"
#include "jsonl_chain.h"
#include "log.h"

void tide_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

int tide_audit_open(struct tide_audit *a, const char *dir, struct tide_err *err)
{
    memset(a, 0, sizeof *a);
    snprintf(a->path, sizeof a->path, "%s/events.jsonl", dir);
    snprintf(a->tmp, sizeof a->tmp, "%s/.events.jsonl.partial", dir);
    a->f = fopen(a->tmp, "w");
    if (a->f == NULL)
        return tide_err_set(err, "cannot write %s: %s", a->tmp, strerror(errno));
    memset(a->prev, '0', 64);
    a->prev[64] = '\0';
    return 0;
}

void tide_audit_event(struct tide_audit *a, const char *type, cJSON *fields)
{
    if (a == NULL || a->f == NULL) {
        cJSON_Delete(fields);
        return;
    }
    cJSON *e = cJSON_CreateObject();
    char ts[40];
    tide_wall_format(tide_wall_us(), ts, sizeof ts);
    cJSON_AddNumberToObject(e, "seq", (double)++a->seq);
    cJSON_AddStringToObject(e, "time", ts);
    cJSON_AddStringToObject(e, "type", type);
    if (fields != NULL) {
        cJSON *f = fields->child;
        while (f != NULL) {
            cJSON *next = f->next;
            cJSON_DetachItemViaPointer(fields, f);
            cJSON_AddItemToObject(e, f->string, f);
            f = next;
        }
        cJSON_Delete(fields);
    }
    cJSON_AddStringToObject(e, "prev", a->prev);
    tide_redact_json(e);
    char *line = cJSON_PrintUnformatted(e);
    cJSON_Delete(e);
    if (line == NULL)
        return;
    fprintf(a->f, "%s\n", line);
    fflush(a->f);
    tide_sha256_hex(line, strlen(line), a->prev);
    free(line);
}

int tide_audit_close(struct tide_audit *a, struct tide_err *err)
{
    if (a->f == NULL)
        return 0;
    int bad = fflush(a->f) != 0 || fsync(fileno(a->f)) != 0;
    int saved = errno;
    bad |= fclose(a->f) != 0;
    a->f = NULL;
    if (bad)
        return tide_err_set(err, "cannot write %s: %s", a->tmp, strerror(saved ? saved : errno));
    if (rename(a->tmp, a->path) != 0)
        return tide_err_set(err, "cannot rename %s: %s", a->tmp, strerror(errno));
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Largest manifest.json and events.jsonl tide verify reads (they are read whole). */
#define MANIFEST_MAX ((off_t)16 << 20)
#define EVENTS_MAX   ((off_t)256 << 20)

/* 'name' in 'dir' is a regular file of at most 'max' bytes (-1: any), not a symlink: opened
 * without blocking and checked on the opened file, so a FIFO or a device named in a manifest
 * cannot hang tide verify, nor a link lead out of the folder. */
static int check_regular(const char *dir, const char *name, off_t max, struct tide_err *err)
{
    if (name[0] == '\0' || strchr(name, '/') != NULL || strcmp(name, "..") == 0 ||
        strcmp(name, ".") == 0)
        return tide_err_set(err, "\"%s\": not a file name of the run folder", name);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return tide_err_set(err, "%s: %s", name,
                            errno == ELOOP ? "a symbolic link (refused)" : strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = tide_err_set(err, "%s: not a regular file (refused)", name);
    else if (max >= 0 && st.st_size > max)
        rc = tide_err_set(err, "%s: larger than %lld MiB (refused)", name, (long long)(max >> 20));
    close(fd);
    return rc;
}

/* Files of dir other than manifest.json and hidden ones, sorted; NULL-terminated. Regular
 * files only: what the manifest lists. */
static char **list_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return NULL;
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "manifest.json") == 0)
            continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        char **g = realloc(names, (n + 2) * sizeof *g);
        if (g == NULL)
            break;
        names = g;
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (names == NULL)
        names = calloc(1, sizeof *names);
    else
        names[n] = NULL;
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    return names;
}

static void free_list(char **names)
{
    for (size_t i = 0; names != NULL && names[i] != NULL; i++)
        free(names[i]);
    free(names);
}

/* One event of the chain: the verify info it gives (the last event's type and exit code, the
 * first one's scenario and host). */
static bool chain_event(void *ctx, long lineno, const cJSON *e, bool chain_ok)
{
    struct tide_verify_info *info = ctx;
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(e, "type"));
    snprintf(info->last_type, sizeof info->last_type, "%s", type != NULL ? type : "");
    const cJSON *code = cJSON_GetObjectItem(e, "exit_code");
    info->last_exit_code = cJSON_IsNumber(code) ? code->valueint : -1;
    if (lineno == 1) {
        const char *sf = cJSON_GetStringValue(cJSON_GetObjectItem(e, "scenario_file"));
        const char *host = cJSON_GetStringValue(cJSON_GetObjectItem(e, "host"));
        snprintf(info->start_scenario, sizeof info->start_scenario, "%s", sf ? sf : "");
        snprintf(info->start_host, sizeof info->start_host, "%s", host ? host : "");
    }
    return chain_ok;
}

/* Walks the events chain of dir/events.jsonl: 0 when every "prev" is the sha256 of the line
 * before; fills 'info' (count, head, the last event's type and exit code). */
static int walk_chain(const char *dir, struct tide_verify_info *info, struct tide_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/events.jsonl", dir);
    if (check_regular(dir, "events.jsonl", EVENTS_MAX, err) != 0)
        return -1;
    size_t len;
    char *text = tide_fs_read_all(path, &len, err);
    if (text == NULL)
        return -1;
    struct tide_chain_result res;
    int rc = tide_chain_walk(text, chain_event, info, &res);
    if (rc != 0)
        tide_err_set(err, "events.jsonl line %ld: the hash chain is broken (edited or reordered)",
                     res.broken_line);
    free(text);
    info->events = res.lines;
    memcpy(info->head, res.head, sizeof res.head);
    return rc;
}

int tide_manifest_write(const char *dir, cJSON *facts, struct tide_err *err)
{
    char **names = list_files(dir);
    if (names == NULL) {
        cJSON_Delete(facts);
        return tide_err_set(err, "cannot list %s: %s", dir, strerror(errno));
    }
    cJSON *files = cJSON_GetObjectItem(facts, "files"); /* bundle.c may have begun it */
    if (files == NULL)
        files = cJSON_AddObjectToObject(facts, "files");
    int rc = 0;
    bool has_events = false;
    for (size_t i = 0; names[i] != NULL && rc == 0; i++) {
        char path[4096], hex[65];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = tide_fs_sha256_file(path, hex, err);
        if (rc == 0)
            cJSON_AddStringToObject(files, names[i], hex);
        has_events |= strcmp(names[i], "events.jsonl") == 0;
    }
    free_list(names);
    struct tide_verify_info info;
    memset(&info, 0, sizeof info);
    if (rc == 0 && has_events && (rc = walk_chain(dir, &info, err)) == 0) {
        /* the chain's head and length: cutting the tail and re-hashing the file is seen */
        cJSON *ev = cJSON_AddObjectToObject(facts, "events");
        cJSON_AddNumberToObject(ev, "count", (double)info.events);
        cJSON_AddStringToObject(ev, "head", info.head);
    }
    if (rc == 0) {
        tide_redact_json(facts); /* options, host, paths: as the events redact them */
        char *text = cJSON_Print(facts);
        char path[4096];
        snprintf(path, sizeof path, "%s/manifest.json", dir);
        rc = tide_fs_write_atomic(path, text, strlen(text), err);
        free(text);
    }
    cJSON_Delete(facts);
    return rc;
}

/* Every entry of dir is listed in the manifest ('files'), but manifest.json and its signature:
 * an added file, hidden file, link, FIFO or subfolder is named. lstat only: nothing is opened. */
static int check_no_extra(const char *dir, const cJSON *files, bool bundled, struct tide_err *err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return tide_err_set(err, "cannot list %s: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, "manifest.json") == 0 ||
            strcmp(n, "manifest.json.sig") == 0 || (bundled && strcmp(n, "bundle") == 0) ||
            cJSON_GetObjectItemCaseSensitive(files, n) != NULL)
            continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, n);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            rc = tide_err_set(err, "%s/: a subfolder not in the manifest (added after the run)", n);
        else
            rc = tide_err_set(err, "%s: not in the manifest (added after the run)", n);
    }
    closedir(d);
    return rc;
}

/* The manifest's facts agree with the events chain: its recorded head and count (a cut tail),
 * the end event's exit code, the start event's scenario and host (an edited field). */
static int check_facts(const cJSON *m, const struct tide_verify_info *info, struct tide_err *err)
{
    const cJSON *ev = cJSON_GetObjectItem(m, "events");
    const cJSON *count = cJSON_GetObjectItem(ev, "count");
    const char *head = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "head"));
    if (!cJSON_IsNumber(count) || head == NULL)
        return tide_err_set(err, "manifest.json: field events (chain head and count) missing");
    if ((long)count->valuedouble != info->events)
        return tide_err_set(err,
                            "events.jsonl: %ld events, the manifest recorded %ld (events "
                            "removed or added)",
                            info->events, (long)count->valuedouble);
    if (strcmp(head, info->head) != 0)
        return tide_err_set(err, "events.jsonl: the chain's head differs from the manifest's "
                                 "events.head (events rewritten)");
    if (strcmp(info->last_type, "end") != 0)
        return tide_err_set(err, "events.jsonl: the last event is \"%s\", not \"end\" (cut)",
                            info->last_type);
    const cJSON *code = cJSON_GetObjectItem(m, "exit_code");
    if (!cJSON_IsNumber(code) || code->valueint != info->last_exit_code)
        return tide_err_set(err,
                            "manifest.json: field exit_code differs from the end event's (%d) "
                            "(edited)",
                            info->last_exit_code);
    const char *sf = cJSON_GetStringValue(cJSON_GetObjectItem(m, "scenario_file"));
    if (info->start_scenario[0] != '\0' && (sf == NULL || strcmp(sf, info->start_scenario) != 0))
        return tide_err_set(err, "manifest.json: field scenario_file differs from the start "
                                 "event's (edited)");
    const char *host = cJSON_GetStringValue(cJSON_GetObjectItem(m, "host"));
    if (info->start_scenario[0] != '\0' && (host == NULL || strcmp(host, info->start_host) != 0))
        return tide_err_set(err, "manifest.json: field host differs from the start event's "
                                 "(edited)");
    return 0;
}

int tide_audit_verify_dir(const char *dir, struct tide_verify_info *out, struct tide_err *err)
{
    struct tide_verify_info local;
    struct tide_verify_info *info = out != NULL ? out : &local;
    memset(info, 0, sizeof *info);
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    if (check_regular(dir, "manifest.json", MANIFEST_MAX, err) != 0)
        return -1;
    size_t len;
    char *text = tide_fs_read_all(path, &len, err);
    if (text == NULL)
        return -1;
    tide_sha256_hex(text, len, info->manifest_sha256);
    cJSON *m = cJSON_Parse(text);
    free(text);
    const cJSON *files = m != NULL ? cJSON_GetObjectItem(m, "files") : NULL;
    if (!cJSON_IsObject(files)) {
        cJSON_Delete(m);
        return tide_err_set(err, "%s: not a tide manifest", path);
    }
    int rc = 0;
    const cJSON *f;
    /* a bundled run (bundle.h): its bundle/ subfolder is checked by tide_bundle_verify */
    bool bundled = cJSON_IsObject(cJSON_GetObjectItem(m, "bundle"));
    cJSON_ArrayForEach(f, files)
    {
        char fp[4096], hex[65];
        if (bundled && strncmp(f->string, "bundle/", 7) == 0)
            continue;
        snprintf(fp, sizeof fp, "%s/%s", dir, f->string);
        if (check_regular(dir, f->string, -1, err) != 0 || tide_fs_sha256_file(fp, hex, err) != 0) {
            rc = -1;
            break;
        }
        if (!cJSON_IsString(f) || strcmp(hex, f->valuestring) != 0) {
            rc = tide_err_set(err, "%s: sha256 differs from the manifest (modified)", f->string);
            break;
        }
    }
    if (rc == 0)
        rc = check_no_extra(dir, files, bundled, err);
    if (rc == 0 && bundled)
        rc = tide_bundle_verify(dir, files, err);
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(files, "events.jsonl") == NULL)
        rc = tide_err_set(err, "manifest.json: events.jsonl is not listed (removed)");
    if (rc == 0)
        rc = walk_chain(dir, info, err);
    if (rc == 0)
        rc = check_facts(m, info, err);
    cJSON_Delete(m);
    return rc;
}
