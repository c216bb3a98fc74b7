/* export_s3.c: tide export DIR --s3 (see export_s3.h). */
#include "export_s3.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cJSON.h>
#include <openssl/crypto.h>
#include "log.h"
#include "s3.h"

enum { EXIT_OK = 0, EXIT_INTERNAL = 1, EXIT_USAGE = 2 };

static const char usage[] =
    "usage: tide export DIR --s3 s3://BUCKET[/PREFIX] [--s3-endpoint URL] [--s3-region R]\n"
    "                   [--encrypt-to age1...]... [--delete]\n";

/* ---- the run folder's files ---- */

struct file_list {
    char **rel; /* paths relative to the run folder */
    size_t n, cap;
};

static int list_add(struct file_list *l, const char *rel)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char **grown = realloc(l->rel, cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        l->rel = grown;
        l->cap = cap;
    }
    l->rel[l->n] = strdup(rel);
    return l->rel[l->n++] ? 0 : -1;
}

static void list_free(struct file_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->rel[i]);
    free(l->rel);
}

/* Regular files under root/rel, recursively; names starting with '.' (temporary files, the
 * runs folder's own records) and symbolic links are not part of a run and are skipped. */
static int walk(const char *root, const char *rel, struct file_list *l, int depth,
                struct tide_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (d == NULL)
        return tide_err_set(err, "cannot read %s: %s", path, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[PATH_MAX], full[PATH_MAX];
        if ((size_t)snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
            sizeof sub)
            continue;
        struct stat st;
        if ((size_t)snprintf(full, sizeof full, "%s/%s", root, sub) >= sizeof full ||
            lstat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 16)
            rc = walk(root, sub, l, depth + 1, err);
        else if (S_ISREG(st.st_mode) && list_add(l, sub) != 0)
            rc = tide_err_set(err, "out of memory");
    }
    closedir(d);
    return rc;
}

static int cmp_rel(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- the export record ---- */

static void iso_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Appends one line to <runs folder>/.exports.jsonl (O_APPEND: one write per record). */
static int record(const char *runs_folder, cJSON *rec, struct tide_err *err)
{
    char path[PATH_MAX], now[32];
    iso_now(now);
    cJSON_AddStringToObject(rec, "time", now);
    tide_redact_json(rec);
    char *line = cJSON_PrintUnformatted(rec);
    if (line == NULL)
        return tide_err_set(err, "out of memory");
    snprintf(path, sizeof path, "%s/.exports.jsonl", runs_folder);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    size_t len = strlen(line);
    line[len] = '\n';
    int ok = fd >= 0 && write(fd, line, len + 1) == (ssize_t)(len + 1) && fsync(fd) == 0;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    free(line);
    if (!ok)
        return tide_err_set(err, "cannot record the export in %s: %s", path, strerror(saved));
    return 0;
}

/* ---- upload ---- */

/* Encrypts 'path' to a temporary file whose name lands in 'tmp'. */
static int encrypt_to_temp(const char *path, const struct tide_export_s3_opts *o,
                           char tmp[PATH_MAX], struct tide_err *err)
{
    const char *dir = getenv("TMPDIR");
    snprintf(tmp, PATH_MAX, "%s/tide-export-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(tmp);
    if (fd < 0)
        return tide_err_set(err, "cannot create a temporary file: %s", strerror(errno));
    FILE *out = fdopen(fd, "wb");
    FILE *in = fopen(path, "rb");
    int rc;
    if (out == NULL || in == NULL)
        rc = tide_err_set(err, "cannot read %s: %s", path, strerror(errno));
    else
        rc = tide_age_encrypt(in, out, o->recipients, o->nrecipients, err);
    if (in != NULL)
        fclose(in);
    if (out != NULL) {
        if (fclose(out) != 0 && rc == 0)
            rc = tide_err_set(err, "cannot write a temporary file: %s", strerror(errno));
    } else {
        close(fd);
    }
    if (rc != 0)
        unlink(tmp);
    return rc;
}

struct sent {
    char *key;
    long long size;
    char etag[80];
};

static int upload_all(const struct tide_s3 *s3, const char *bucket, const char *base,
                      const char *dir, const struct file_list *files,
                      const struct tide_export_s3_opts *o, struct sent *sent, struct tide_err *err)
{
    bool encrypt = o->nrecipients > 0;
    for (size_t i = 0; i < files->n; i++) {
        char path[PATH_MAX], tmp[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, files->rel[i]) >= sizeof path)
            return tide_err_set(err, "path too long: %s", files->rel[i]);
        size_t klen = strlen(base) + strlen(files->rel[i]) + 8;
        sent[i].key = malloc(klen);
        if (sent[i].key == NULL)
            return tide_err_set(err, "out of memory");
        snprintf(sent[i].key, klen, "%s%s%s", base, files->rel[i], encrypt ? ".age" : "");
        const char *body = path;
        if (encrypt) {
            if (encrypt_to_temp(path, o, tmp, err) != 0)
                return -1;
            body = tmp;
        }
        struct stat st;
        int rc = stat(body, &st) == 0 ? 0 : tide_err_set(err, "cannot read %s", body);
        sent[i].size = (long long)st.st_size;
        if (rc == 0)
            rc = tide_s3_put_file(s3, bucket, sent[i].key, body, sent[i].etag, err);
        if (encrypt)
            unlink(tmp);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Lists the run's prefix and checks each object sent is there with the size sent and the ETag
 * the server acknowledged. */
static int check_landed(const struct tide_s3 *s3, const char *bucket, const char *base,
                        const struct sent *sent, size_t n, struct tide_err *err)
{
    struct tide_s3_object *objs = NULL;
    size_t nobj = 0;
    if (tide_s3_list(s3, bucket, base, &objs, &nobj, err) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct tide_s3_object *found = NULL;
        for (size_t j = 0; j < nobj && found == NULL; j++) {
            if (strcmp(objs[j].key, sent[i].key) == 0)
                found = &objs[j];
        }
        if (found == NULL)
            rc =
                tide_err_set(err, "s3://%s/%s is not listed after its upload", bucket, sent[i].key);
        else if (found->size != sent[i].size)
            rc = tide_err_set(err, "s3://%s/%s holds %lld bytes, %lld were sent", bucket,
                              sent[i].key, found->size, sent[i].size);
        else if (sent[i].etag[0] && strcmp(found->etag, sent[i].etag) != 0)
            rc = tide_err_set(err, "s3://%s/%s: listed ETag %s, upload answered %s", bucket,
                              sent[i].key, found->etag, sent[i].etag);
    }
    tide_s3_free_objects(objs, nobj);
    return rc;
}

int tide_export_s3_run(const struct tide_export_s3_opts *o)
{
    struct tide_err err = {{0}};
    char real[PATH_MAX], manifest[PATH_MAX];
    struct stat st;
    if (realpath(o->dir, real) == NULL || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        tide_log(TIDE_LOG_ERROR, "export: %s is not a run folder", o->dir);
        return EXIT_USAGE;
    }
    if ((size_t)snprintf(manifest, sizeof manifest, "%s/manifest.json", real) >= sizeof manifest ||
        stat(manifest, &st) != 0) {
        tide_log(TIDE_LOG_ERROR, "export: %s is not a run folder (no manifest.json)", o->dir);
        return EXIT_USAGE;
    }
    char *slash = strrchr(real, '/');
    const char *run_id = slash + 1;
    char runs_folder[PATH_MAX];
    snprintf(runs_folder, sizeof runs_folder, "%.*s", slash == real ? 1 : (int)(slash - real),
             real);
    char *bucket = NULL, *prefix = NULL;
    if (tide_s3_parse_url(o->url, &bucket, &prefix, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "export: %s", err.msg);
        return EXIT_USAGE;
    }
    struct tide_s3 s3;
    if (tide_s3_open(&s3, o->endpoint, o->region, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "export: %s", err.msg);
        free(bucket);
        free(prefix);
        return EXIT_USAGE;
    }
    /* Every object of this run lives under BASE = PREFIX/RUN_ID/. */
    size_t blen = strlen(prefix) + strlen(run_id) + 3;
    char *base = malloc(blen);
    char *ref = malloc(blen + strlen(bucket) + 8);
    struct file_list files = {0};
    struct sent *sent = NULL;
    cJSON *rec = cJSON_CreateObject();
    int rc = EXIT_OK;
    if (base == NULL || ref == NULL || rec == NULL) {
        rc = EXIT_INTERNAL;
        goto done;
    }
    snprintf(base, blen, "%s%s%s/", prefix, *prefix ? "/" : "", run_id);
    snprintf(ref, blen + strlen(bucket) + 8, "s3://%s/%s", bucket, base);
    cJSON_AddStringToObject(rec, "run_id", run_id);
    cJSON_AddStringToObject(rec, "kind", "s3");
    cJSON_AddStringToObject(rec, "ref", ref);
    cJSON_AddStringToObject(rec, "endpoint", s3.endpoint);
    cJSON_AddStringToObject(rec, "region", s3.region); /* purge deletes with both */
    if (o->delete_objects) {
        size_t deleted = 0;
        if (tide_export_s3_delete_ref(ref, o->endpoint, o->region, &deleted, &err) != 0) {
            tide_log(TIDE_LOG_ERROR, "export --delete: %s", err.msg);
            rc = EXIT_INTERNAL;
            goto done;
        }
        cJSON_AddBoolToObject(rec, "deleted", 1);
        cJSON_AddNumberToObject(rec, "objects", (double)deleted);
        if (record(runs_folder, rec, &err) != 0) {
            tide_log(TIDE_LOG_ERROR, "export: %s", err.msg);
            rc = EXIT_INTERNAL;
            goto done;
        }
        char line[PATH_MAX + 64];
        snprintf(line, sizeof line, "%s: %zu object%s deleted, none left", ref, deleted,
                 deleted == 1 ? "" : "s");
        char *clean = tide_redact(line);
        printf("%s\n", clean ? clean : "");
        free(clean);
        goto done;
    }
    if (walk(real, "", &files, 0, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "export: %s", err.msg);
        rc = EXIT_USAGE;
        goto done;
    }
    qsort(files.rel, files.n, sizeof *files.rel, cmp_rel);
    sent = calloc(files.n ? files.n : 1, sizeof *sent);
    if (sent == NULL) {
        rc = EXIT_INTERNAL;
        goto done;
    }
    if (upload_all(&s3, bucket, base, real, &files, o, sent, &err) != 0 ||
        check_landed(&s3, bucket, base, sent, files.n, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "export: %s", err.msg);
        rc = EXIT_INTERNAL;
        goto done;
    }
    long long bytes = 0;
    for (size_t i = 0; i < files.n; i++)
        bytes += sent[i].size;
    cJSON_AddBoolToObject(rec, "encrypted", o->nrecipients > 0);
    cJSON *recips = cJSON_AddArrayToObject(rec, "recipients");
    for (size_t i = 0; i < o->nrecipients; i++) {
        char s[TIDE_AGE_KEY_STR];
        tide_age_recipient_string(&o->recipients[i], s);
        cJSON_AddItemToArray(recips, cJSON_CreateString(s));
    }
    cJSON_AddNumberToObject(rec, "objects", (double)files.n);
    cJSON_AddNumberToObject(rec, "bytes", (double)bytes);
    if (record(runs_folder, rec, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "export: %s", err.msg);
        rc = EXIT_INTERNAL;
        goto done;
    }
    char line[PATH_MAX + 128];
    snprintf(line, sizeof line, "%s: %zu object%s, %lld bytes uploaded and listed back%s", ref,
             files.n, files.n == 1 ? "" : "s", bytes, o->nrecipients ? " (age-encrypted)" : "");
    char *clean = tide_redact(line);
    printf("%s\n", clean ? clean : "");
    free(clean);
done:
    if (sent != NULL) {
        for (size_t i = 0; i < files.n; i++)
            free(sent[i].key);
        free(sent);
    }
    list_free(&files);
    cJSON_Delete(rec);
    free(base);
    free(ref);
    free(bucket);
    free(prefix);
    tide_s3_close(&s3);
    return rc;
}

int tide_export_s3_delete_ref(const char *ref, const char *endpoint, const char *region,
                              size_t *deleted, struct tide_err *err)
{
    char *bucket = NULL, *prefix = NULL;
    if (tide_s3_parse_url(ref, &bucket, &prefix, err) != 0)
        return -1;
    int rc = -1;
    struct tide_s3 s3;
    if (*prefix == '\0') {
        /* A record always names a run's own prefix; never empty a whole bucket. */
        tide_err_set(err, "%.200s names a whole bucket, not a run's prefix", ref);
    } else if (tide_s3_open(&s3, endpoint, region, err) == 0) {
        size_t len = strlen(prefix);
        char *base = malloc(len + 2);
        if (base == NULL) {
            tide_err_set(err, "out of memory");
        } else {
            snprintf(base, len + 2, "%s/", prefix); /* parse_url took the trailing '/' off */
            rc = tide_s3_delete_prefix(&s3, bucket, base, deleted, err);
            free(base);
        }
        tide_s3_close(&s3);
    }
    free(bucket);
    free(prefix);
    return rc;
}

int tide_export_s3_main(int argc, char **argv)
{
    struct tide_export_s3_opts o = {0};
    struct tide_age_key *to = calloc((size_t)argc, sizeof *to);
    struct tide_err err = {{0}};
    int rc = EXIT_USAGE;
    if (to == NULL)
        return EXIT_INTERNAL;
    o.recipients = to;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--s3") == 0 && has_value)
            o.url = argv[++i];
        else if (strcmp(a, "--s3-endpoint") == 0 && has_value)
            o.endpoint = argv[++i];
        else if (strcmp(a, "--s3-region") == 0 && has_value)
            o.region = argv[++i];
        else if (strcmp(a, "--encrypt-to") == 0 && has_value) {
            if (tide_age_parse_recipient(argv[++i], &to[o.nrecipients++], &err) != 0) {
                tide_log(TIDE_LOG_ERROR, "export: --encrypt-to: %s", err.msg);
                goto done;
            }
        } else if (strcmp(a, "--delete") == 0)
            o.delete_objects = true;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            rc = EXIT_OK;
            goto done;
        } else if (o.dir == NULL && a[0] != '-')
            o.dir = a;
        else {
            fprintf(stderr,
                    "tide: export: unknown or incomplete option \"%s\" (see tide export --help)\n",
                    a);
            goto done;
        }
    }
    if (o.dir == NULL || o.url == NULL) {
        fprintf(stderr, "tide: export needs DIR and --s3 s3://BUCKET[/PREFIX] (see tide export "
                        "--help)\n");
        goto done;
    }
    if (o.delete_objects && o.nrecipients > 0) {
        fprintf(stderr, "tide: export: --delete takes no --encrypt-to\n");
        goto done;
    }
    rc = tide_export_s3_run(&o);
done:
    free(to);
    return rc;
}
