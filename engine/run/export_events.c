/* export_events.c: tide export with export_done (see export_events.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cmd_events.h"
#include "export_cmd.h"
#include "export_events.h"
#include "export_s3.h"
#include "fsutil.h"
#include "record.h"
#include "run.h"

/* The run folder: the first argument that is neither a flag nor a flag's value; *car: the
 * value of --car (the log holds its path redacted, so the file is found from here). */
static const char *folder_arg(int argc, char **argv, const char **car)
{
    const char *dir = NULL;
    *car = NULL;
    static const char *const valued[] = {"--car",       "--s3",         "--s3-endpoint",
                                         "--s3-region", "--encrypt-to", NULL};
    for (int i = 1; i < argc; i++) {
        bool takes = false;
        for (int k = 0; valued[k] != NULL; k++)
            takes = takes || strcmp(argv[i], valued[k]) == 0;
        if (takes && strcmp(argv[i], "--car") == 0 && i + 1 < argc)
            *car = argv[i + 1];
        if (takes)
            i++;
        else if (dir == NULL && argv[i][0] != '-' && strstr(argv[i], "://") == NULL)
            dir = argv[i];
    }
    return dir;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The lines the command appended to .exports.jsonl (from byte 'from'); a CAR's size added. */
static cJSON *appended_records(const char *log, long from, const char *car)
{
    cJSON *arr = cJSON_CreateArray();
    FILE *f = fopen(log, "r");
    if (f == NULL || fseek(f, from, SEEK_SET) != 0) {
        if (f != NULL)
            fclose(f);
        return arr;
    }
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *r = cJSON_Parse(line);
        const cJSON *kind = cJSON_GetObjectItem(r, "kind");
        if (car != NULL && cJSON_IsString(kind) && strcmp(kind->valuestring, "car") == 0)
            cJSON_AddNumberToObject(r, "bytes", (double)file_size(car));
        if (r != NULL)
            cJSON_AddItemToArray(arr, r);
    }
    free(line);
    fclose(f);
    return arr;
}

/* The files the manifest seals, { name, bytes }, and their total. */
static void add_folder(cJSON *payload, const char *dir)
{
    char path[PATH_MAX + 32], hex[65] = "";
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    tide_fs_sha256_file(path, hex, NULL);
    cJSON_AddStringToObject(payload, "manifest_sha256", hex);
    char *text = tide_fs_read_all(path, NULL, NULL);
    cJSON *m = text != NULL ? cJSON_Parse(text) : NULL;
    free(text);
    cJSON *files = cJSON_AddArrayToObject(payload, "files");
    double total = 0;
    const cJSON *f, *list = cJSON_GetObjectItem(m, "files");
    if (!cJSON_IsObject(list))
        list = NULL;
    cJSON_ArrayForEach(f, list)
    {
        snprintf(path, sizeof path, "%s/%s", dir, f->string);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", f->string);
        cJSON_AddNumberToObject(o, "bytes", (double)file_size(path));
        total += (double)file_size(path);
        cJSON_AddItemToArray(files, o);
    }
    cJSON_AddNumberToObject(payload, "bytes", total);
    cJSON_Delete(m);
}

int tide_export_events_main(int argc, char **argv)
{
    struct tide_cmd_events ce;
    int rc = tide_cmd_events_take(&ce, "export", &argc, argv, false);
    if (rc == 0)
        rc = tide_cmd_events_open(&ce);
    if (rc != 0) {
        tide_cmd_events_close(&ce);
        return rc;
    }
    const char *car = NULL, *dir = folder_arg(argc, argv, &car);
    char runs[PATH_MAX] = "", log[PATH_MAX + 32] = "";
    struct tide_err err = {{0}};
    if (dir != NULL && tide_export_runs_folder(dir, runs, sizeof runs, &err) == 0)
        snprintf(log, sizeof log, "%s/.exports.jsonl", runs);
    long before = log[0] != '\0' ? file_size(log) : -1;
    bool s3 = false;
    for (int i = 1; i < argc; i++)
        s3 = s3 || strcmp(argv[i], "--s3") == 0;
    rc = s3 ? tide_export_s3_main(argc, argv) : tide_export_main(argc, argv);
    cJSON *records = log[0] != '\0' ? appended_records(log, before > 0 ? before : 0, car) : NULL;
    if (cJSON_GetArraySize(records) > 0) { /* something was exported */
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "dir", dir);
        const cJSON *id = cJSON_GetObjectItem(cJSON_GetArrayItem(records, 0), "run_id");
        cJSON_AddStringToObject(p, "run_id", cJSON_IsString(id) ? id->valuestring : "");
        cJSON_AddBoolToObject(p, "ok", rc == 0);
        cJSON_AddNumberToObject(p, "exit_code", rc);
        cJSON_AddItemToObject(p, "exports", records);
        records = NULL;
        add_folder(p, dir);
        tide_cmd_events_set_dir(&ce, dir);
        rc = tide_cmd_events_fire(&ce, NULL, "export_done", p, rc);
        cJSON_Delete(p);
    }
    cJSON_Delete(records);
    tide_cmd_events_close(&ce);
    return rc;
}
