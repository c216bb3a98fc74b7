/* Unit tests of 'tide report DIR': it re-creates a run's files byte for byte, and refuses bad
 * usage and unreadable input with exit code 2. */
#include <sys/stat.h>
#include "../check.h"
#include "test_report_fixture.h"
#include "report.h"

static const char *const files[] = {"stats.csv", "stats_history.csv", "failures.csv", "junit.xml",
                                    "report.html"};

static int report(const char *a, const char *b)
{
    char name[] = "report";
    char *argv[] = {name, (char *)a, (char *)b, NULL};
    return tide_report_main(a == NULL ? 1 : b == NULL ? 2 : 3, argv);
}

static void read_all(const char *dir, char *out[5])
{
    for (int i = 0; i < 5; i++) {
        char path[700];
        out[i] = fx_slurp(fx_path(path, sizeof path, dir, files[i]));
        CHECK(out[i] != NULL && out[i][0] != '\0');
    }
}

static void test_report_regenerates_identically(const char *run, const char *other, const cJSON *s)
{
    char *first[5], *second[5], *direct[5];
    CHECK(report(run, NULL) == 0);
    read_all(run, first);
    /* a second rendering, and one straight from the parsed summary, are the same bytes */
    CHECK(report(run, NULL) == 0);
    read_all(run, second);
    struct tide_err err = {{0}};
    CHECK(tide_report_write_all(s, other, &err) == 0);
    read_all(other, direct);
    for (int i = 0; i < 5; i++) {
        bool same = first[i] && second[i] && direct[i] && strcmp(first[i], second[i]) == 0 &&
                    strcmp(first[i], direct[i]) == 0;
        CHECK(same);
        if (!same)
            fprintf(stderr, "  %s differs between renderings\n", files[i]);
        free(first[i]);
        free(second[i]);
        free(direct[i]);
    }
    /* DIR/summary.json given as a file, and a trailing slash, work too */
    char path[700];
    CHECK(report(fx_path(path, sizeof path, run, "summary.json"), NULL) == 0);
    snprintf(path, sizeof path, "%s/", run);
    CHECK(report(path, NULL) == 0);
}

static void test_report_bad_input_exits_2(const char *dir)
{
    char path[700], file[800];
    CHECK(report(NULL, NULL) == 2);
    CHECK(report(dir, dir) == 2);
    CHECK(report("--color", NULL) == 2);
    CHECK(report("--help", NULL) == 0);
    CHECK(report(fx_path(path, sizeof path, dir, "missing-run"), NULL) == 2);

    const char *bad[] = {"{\"schema\": \"tide.summary/1\",\n \"run\": {,}}", "[1, 2]",
                         "{\"schema\": \"tide.summary/9\"}", "{}", ""};
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/bad%d", dir, i);
        mkdir(path, 0755);
        snprintf(file, sizeof file, "%s/summary.json", path);
        FILE *f = fopen(file, "w");
        fputs(bad[i], f);
        fclose(f);
        CHECK(report(path, NULL) == 2);
        /* nothing was written next to it */
        CHECK(fx_slurp(fx_path(file, sizeof file, path, "report.html")) == NULL);
    }
}

int main(void)
{
    char dir[512], run[600], other[600];
    if (fx_tmpdir(dir, sizeof dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(other, sizeof other, "%s/other", dir);
    mkdir(run, 0755);
    mkdir(other, 0755);
    cJSON *s = fixture_summary(1.0);
    char path[700];
    CHECK(fx_save(s, fx_path(path, sizeof path, run, "summary.json")) == 0);
    test_report_regenerates_identically(run, other, s);
    test_report_bad_input_exits_2(dir);
    cJSON_Delete(s);
    fx_rmdir(dir);
    return CHECK_DONE();
}
