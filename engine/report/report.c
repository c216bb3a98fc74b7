/* report.c: 'tide report DIR' and writing every rendered file of a run. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fsutil.h"
#include "report.h"
#include "report_util.h"

static const char *const report_files[] = {"stats.csv", "stats_history.csv", "failures.csv",
                                           "junit.xml", "report.html"};

int tide_report_write_all(const cJSON *summary, const char *dir, struct tide_err *err)
{
    if (tide_report_check_schema(summary, err) != 0 || tide_fs_mkdirs(dir, err) != 0)
        return -1;
    size_t dlen = strlen(dir);
    char *paths[5];
    for (int i = 0; i < 5; i++) {
        size_t n = dlen + strlen(report_files[i]) + 2;
        paths[i] = malloc(n);
        if (paths[i] != NULL)
            snprintf(paths[i], n, "%s/%s", dir, report_files[i]);
    }
    int rc = -1;
    for (int i = 0; i < 5; i++) {
        if (paths[i] == NULL) {
            tide_err_set(err, "cannot write reports into '%s': out of memory", dir);
            goto out;
        }
    }
    rc = tide_report_csv(summary, paths[0], paths[1], paths[2], err);
    if (rc == 0)
        rc = tide_report_junit(summary, paths[3], err);
    if (rc == 0)
        rc = tide_report_html(summary, paths[4], err);
out:
    for (int i = 0; i < 5; i++)
        free(paths[i]);
    return rc;
}

static void report_usage(FILE *f)
{
    fputs("usage: tide report DIR\n"
          "  Re-renders stats.csv, stats_history.csv, failures.csv, junit.xml and report.html\n"
          "  of the run folder DIR from DIR/summary.json (or from DIR itself, when it is a\n"
          "  summary.json file, writing next to it).\n",
          f);
}

int tide_report_main(int argc, char **argv)
{
    const char *arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            report_usage(stdout);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "tide: report: unknown option '%s' (usage: tide report DIR)\n",
                    argv[i]);
            return 2;
        }
        if (arg != NULL) {
            fprintf(stderr, "tide: report: one run folder expected (usage: tide report DIR)\n");
            return 2;
        }
        arg = argv[i];
    }
    if (arg == NULL) {
        fprintf(stderr, "tide: report: no run folder given (usage: tide report DIR)\n");
        return 2;
    }
    struct tide_err err = {{0}};
    char *dir = NULL;
    char *path = tide_report_summary_path(arg, &dir);
    size_t len = 0;
    char *text = path && dir ? tide_fs_read_file(path, TIDE_FS_SUMMARY_MAX, &len, &err) : NULL;
    cJSON *summary = text ? tide_report_parse(text, len, path, &err) : NULL;
    int rc = 0;
    if (path == NULL || dir == NULL) {
        fprintf(stderr, "tide: report: out of memory\n");
        rc = 1;
    } else if (text == NULL) {
        fprintf(stderr, "tide: report: %s (is '%s' a run folder?)\n", err.msg, arg);
        rc = 2;
    } else if (summary == NULL) {
        fprintf(stderr, "tide: report: %s\n", err.msg);
        rc = 2;
    } else if (tide_report_write_all(summary, dir, &err) != 0) {
        fprintf(stderr, "tide: report: %s\n", err.msg);
        rc = 1;
    } else {
        printf("tide: wrote %s/report.html, junit.xml, stats.csv, stats_history.csv, "
               "failures.csv\n",
               dir);
    }
    cJSON_Delete(summary);
    free(text);
    free(path);
    free(dir);
    return rc;
}
