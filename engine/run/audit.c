/* audit.c: hash-chained events and the manifest. */
#include <dirent.h>
#include <errno.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "audit.h"
#include "clock.h"
#include "fsutil.h"
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

/* Regular files of dir other than manifest.json and hidden ones, sorted; NULL-terminated. */
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
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
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

int tide_manifest_write(const char *dir, cJSON *facts, struct tide_err *err)
{
    char **names = list_files(dir);
    if (names == NULL) {
        cJSON_Delete(facts);
        return tide_err_set(err, "cannot list %s: %s", dir, strerror(errno));
    }
    cJSON *files = cJSON_AddObjectToObject(facts, "files");
    int rc = 0;
    for (size_t i = 0; names[i] != NULL && rc == 0; i++) {
        char path[4096], hex[65];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = tide_fs_sha256_file(path, hex, err);
        if (rc == 0)
            cJSON_AddStringToObject(files, names[i], hex);
    }
    free_list(names);
    if (rc == 0) {
        char *text = cJSON_Print(facts);
        char path[4096];
        snprintf(path, sizeof path, "%s/manifest.json", dir);
        rc = tide_fs_write_atomic(path, text, strlen(text), err);
        free(text);
    }
    cJSON_Delete(facts);
    return rc;
}

static int verify_chain(const char *dir, struct tide_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/events.jsonl", dir);
    size_t len;
    char *text = tide_fs_read_all(path, &len, err);
    if (text == NULL)
        return -1;
    char prev[65];
    memset(prev, '0', 64);
    prev[64] = '\0';
    int rc = 0;
    long lineno = 0;
    for (char *line = text; *line != '\0' && rc == 0;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        lineno++;
        cJSON *e = cJSON_Parse(line);
        const cJSON *p = e != NULL ? cJSON_GetObjectItem(e, "prev") : NULL;
        if (!cJSON_IsString(p) || strcmp(p->valuestring, prev) != 0)
            rc = tide_err_set(err,
                              "events.jsonl line %ld: the hash chain is broken (edited or "
                              "reordered)",
                              lineno);
        cJSON_Delete(e);
        tide_sha256_hex(line, strlen(line), prev);
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    free(text);
    return rc;
}

int tide_audit_verify_dir(const char *dir, struct tide_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    size_t len;
    char *text = tide_fs_read_all(path, &len, err);
    if (text == NULL)
        return -1;
    cJSON *m = cJSON_Parse(text);
    free(text);
    const cJSON *files = m != NULL ? cJSON_GetObjectItem(m, "files") : NULL;
    if (!cJSON_IsObject(files)) {
        cJSON_Delete(m);
        return tide_err_set(err, "%s: not a tide manifest", path);
    }
    int rc = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, files)
    {
        char fp[4096], hex[65];
        snprintf(fp, sizeof fp, "%s/%s", dir, f->string);
        if (tide_fs_sha256_file(fp, hex, err) != 0) {
            rc = -1;
            break;
        }
        if (!cJSON_IsString(f) || strcmp(hex, f->valuestring) != 0) {
            rc = tide_err_set(err, "%s: sha256 differs from the manifest (modified)", f->string);
            break;
        }
    }
    char **names = rc == 0 ? list_files(dir) : NULL;
    for (size_t i = 0; names != NULL && names[i] != NULL && rc == 0; i++) {
        if (cJSON_GetObjectItemCaseSensitive(files, names[i]) == NULL)
            rc = tide_err_set(err, "%s: not in the manifest (added after the run)", names[i]);
    }
    free_list(names);
    cJSON_Delete(m);
    if (rc == 0)
        rc = verify_chain(dir, err);
    return rc;
}
