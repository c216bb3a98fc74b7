/* fuzz_merge: the segment files 'tide merge' reads (engine/run/merge.c): a segment's
 * summary.json (run.segment, scenario hash, options, thresholds) and its seconds.jsonl (one
 * lossless registry per second), given as "SUMMARY\0SECONDS". Each input becomes a sealed run
 * folder (events chain and manifest, so that the folder verifies and the readers behind the
 * check are reached), merged alone into a fresh output folder. A segment refused with a
 * message is an expected outcome; a crash, a leak or undefined behaviour is not. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cJSON.h>
#include "audit.h"
#include "fuzz_util.h"
#include "merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        abort();
    fputs(text, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char seg[160], out[160];
    snprintf(seg, sizeof seg, "%s/seg", fuzz_dir());
    snprintf(out, sizeof out, "%s/merged", fuzz_dir());
    nftw(seg, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    nftw(out, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (mkdir(seg, 0755) != 0)
        abort();
    char *text = fuzz_string(data, size);
    write_file(seg, "summary.json", text);
    write_file(seg, "seconds.jsonl", fuzz_second(text, size));
    free(text);
    struct tide_audit a;
    struct tide_err err;
    if (tide_audit_open(&a, seg, &err) != 0)
        abort();
    cJSON *end = cJSON_CreateObject();
    cJSON_AddNumberToObject(end, "exit_code", 0);
    tide_audit_event(&a, "end", end);
    cJSON *facts = cJSON_CreateObject();
    cJSON_AddNumberToObject(facts, "exit_code", 0);
    if (tide_audit_close(&a, &err) != 0 || tide_manifest_write(seg, facts, &err) != 0)
        abort();
    char a0[] = "merge", a2[] = "--out", a4[] = "--quiet";
    char *argv[] = {a0, seg, a2, out, a4, NULL};
    (void)tide_merge_main(5, argv);
    return 0;
}
