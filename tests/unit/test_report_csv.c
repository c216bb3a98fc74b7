/* Unit tests of the Locust-layout CSV files (stats.csv, stats_history.csv, failures.csv). */
#include <math.h>
#include "../check.h"
#include "test_report_fixture.h"
#include "report.h"
#include "report_util.h"

/* Locust's column names, as its stats.py builds them (requests_csv_columns and
 * get_readable_percentiles(PERCENTILES_TO_REPORT)). */
static const char *const locust_stats[] = {"Type",
                                           "Name",
                                           "Request Count",
                                           "Failure Count",
                                           "Median Response Time",
                                           "Average Response Time",
                                           "Min Response Time",
                                           "Max Response Time",
                                           "Average Content Size",
                                           "Requests/s",
                                           "Failures/s",
                                           "50%",
                                           "66%",
                                           "75%",
                                           "80%",
                                           "90%",
                                           "95%",
                                           "98%",
                                           "99%",
                                           "99.9%",
                                           "99.99%",
                                           "100%",
                                           NULL};
static const char *const locust_history[] = {"Timestamp",
                                             "User Count",
                                             "Type",
                                             "Name",
                                             "Requests/s",
                                             "Failures/s",
                                             "50%",
                                             "66%",
                                             "75%",
                                             "80%",
                                             "90%",
                                             "95%",
                                             "98%",
                                             "99%",
                                             "99.9%",
                                             "99.99%",
                                             "100%",
                                             "Total Request Count",
                                             "Total Failure Count",
                                             "Total Median Response Time",
                                             "Total Average Response Time",
                                             "Total Min Response Time",
                                             "Total Max Response Time",
                                             "Total Average Content Size",
                                             NULL};
static const char *const locust_failures[] = {"Method", "Name", "Error", "Occurrences", NULL};

#define MAX_FIELDS 32
#define MAX_ROWS   128

/* A parsed CSV file: Python csv's dialect (quotes doubled, "\r\n" line ends). */
struct csv {
    int rows;
    int nf[MAX_ROWS];
    char *f[MAX_ROWS][MAX_FIELDS];
    bool crlf; /* every line ended in "\r\n" */
};

static void csv_free(struct csv *c)
{
    for (int r = 0; r < c->rows; r++) {
        for (int i = 0; i < c->nf[r]; i++)
            free(c->f[r][i]);
    }
}

static const char *csv_field(const char *p, char **out)
{
    char buf[1024];
    size_t n = 0;
    if (*p == '"') {
        for (p++; *p != '\0'; p++) {
            if (*p == '"' && p[1] == '"')
                p++;
            else if (*p == '"')
                break;
            if (n < sizeof buf - 1)
                buf[n++] = *p;
        }
        p += *p == '"';
    } else {
        for (; *p != '\0' && *p != ',' && *p != '\r' && *p != '\n'; p++) {
            if (n < sizeof buf - 1)
                buf[n++] = *p;
        }
    }
    buf[n] = '\0';
    *out = strdup(buf);
    return p;
}

static bool csv_parse(const char *text, struct csv *c)
{
    memset(c, 0, sizeof *c);
    c->crlf = true;
    const char *p = text;
    while (*p != '\0' && c->rows < MAX_ROWS) {
        int r = c->rows++;
        for (;;) {
            if (c->nf[r] == MAX_FIELDS)
                return false;
            p = csv_field(p, &c->f[r][c->nf[r]++]);
            if (*p != ',')
                break;
            p++;
        }
        if (p[0] == '\r' && p[1] == '\n')
            p += 2;
        else if (*p == '\n' || *p == '\0')
            c->crlf = false, p += *p == '\n';
        else
            return false;
    }
    return true;
}

static void check_header(const struct csv *c, const char *const *names, const char *file)
{
    int n = 0;
    while (names[n] != NULL)
        n++;
    CHECK(c->rows > 0 && c->nf[0] == n);
    for (int i = 0; c->rows > 0 && i < n && i < c->nf[0]; i++) {
        CHECK_STR(c->f[0][i], names[i]);
        if (strcmp(c->f[0][i], names[i]) != 0)
            fprintf(stderr, "  %s: column %d\n", file, i + 1);
    }
}

static char *render(const cJSON *s, const char *dir, const char *name)
{
    char st[512], hi[512], fa[512];
    struct tide_err err = {{0}};
    fx_path(st, sizeof st, dir, "stats.csv");
    fx_path(hi, sizeof hi, dir, "stats_history.csv");
    fx_path(fa, sizeof fa, dir, "failures.csv");
    int rc = tide_report_csv(s, st, hi, fa, &err);
    CHECK(rc == 0);
    if (rc != 0)
        fprintf(stderr, "  %s\n", err.msg);
    char path[512];
    return fx_slurp(fx_path(path, sizeof path, dir, name));
}

static const cJSON *find_endpoint(const cJSON *s, const char *method, const char *name)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, tide_rj_array(s, "endpoints"))
    {
        if (strcmp(tide_rj_str(e, "method", ""), method) == 0 &&
            strcmp(tide_rj_str(e, "name", ""), name) == 0)
            return e;
    }
    return NULL;
}

static void check_stats_row(char **f, const cJSON *e)
{
    CHECK(strtod(f[2], NULL) == tide_rj_num(e, "requests", -1));
    CHECK(strtod(f[3], NULL) == tide_rj_num(e, "failures", -1));
    CHECK(strtod(f[5], NULL) == tide_rj_num(e, "avg", -1));
    CHECK(strtod(f[6], NULL) == tide_rj_num(e, "min", -1));
    CHECK(strtod(f[7], NULL) == tide_rj_num(e, "max", -1));
    CHECK(strtod(f[9], NULL) == tide_rj_num(e, "rps", -1));
    CHECK(strtod(f[10], NULL) == tide_rj_num(e, "fps", -1));
    CHECK(strchr(f[4], '.') == NULL); /* median: an integer, as in Locust */
    CHECK_NEAR(strtod(f[4], NULL), tide_rj_num(e, "med", -1), 0.5);
    const char *keys[] = {"50", "66", "75", "80", "90", "95", "98", "99", "99.9", "99.99", "100"};
    const cJSON *p = tide_rj_object(e, "percentiles");
    for (int i = 0; i < 11; i++) {
        CHECK(strchr(f[11 + i], '.') == NULL);
        CHECK(strtod(f[11 + i], NULL) == nearbyint(tide_rj_num(p, keys[i], -1)));
    }
}

static void test_stats_csv_matches_summary(const cJSON *s, const char *dir)
{
    char *text = render(s, dir, "stats.csv");
    struct csv c;
    CHECK(text != NULL && csv_parse(text, &c));
    check_header(&c, locust_stats, "stats.csv");
    CHECK(c.crlf);
    int neps = cJSON_GetArraySize(tide_rj_array(s, "endpoints"));
    CHECK(c.rows == 1 + neps + 1);
    for (int r = 1; r < c.rows - 1; r++) {
        CHECK(c.nf[r] == 22);
        const cJSON *e = find_endpoint(s, c.f[r][0], c.f[r][1]);
        CHECK(e != NULL);
        if (e != NULL)
            check_stats_row(c.f[r], e);
        /* Locust's order: by name, then method */
        if (r > 1) {
            int byname = strcmp(c.f[r - 1][1], c.f[r][1]);
            CHECK(byname < 0 || (byname == 0 && strcmp(c.f[r - 1][0], c.f[r][0]) < 0));
        }
    }
    int last = c.rows - 1;
    CHECK_STR(c.f[last][0], "");
    CHECK_STR(c.f[last][1], "Aggregated");
    check_stats_row(c.f[last], tide_rj_object(s, "aggregated"));
    csv_free(&c);
    free(text);
}

static void test_history_csv_matches_summary(const cJSON *s, const char *dir)
{
    char *text = render(s, dir, "stats_history.csv");
    struct csv c;
    CHECK(text != NULL && csv_parse(text, &c));
    check_header(&c, locust_history, "stats_history.csv");
    const cJSON *hist = tide_rj_array(s, "history");
    CHECK(c.rows == 1 + cJSON_GetArraySize(hist));
    int r = 1;
    const cJSON *h;
    cJSON_ArrayForEach(h, hist)
    {
        if (r >= c.rows)
            break;
        char **f = c.f[r++];
        CHECK(c.nf[r - 1] == 24);
        /* 2026-11-25T15:30:00Z is 1795620600 */
        CHECK(strtod(f[0], NULL) == 1795620600 + tide_rj_num(h, "elapsed_s", -1));
        CHECK(strtod(f[1], NULL) == tide_rj_num(h, "vus", -1));
        CHECK_STR(f[2], "");
        CHECK_STR(f[3], "Aggregated");
        char rps[64];
        snprintf(rps, sizeof rps, "%f", tide_rj_num(h, "rps", -1));
        CHECK_STR(f[4], rps);
        const cJSON *tot = tide_rj_object(h, "total");
        CHECK(strtod(f[6], NULL) ==
              nearbyint(tide_rj_num(tide_rj_object(h, "percentiles"), "50", -1)));
        CHECK(strtod(f[17], NULL) == tide_rj_num(tot, "reqs", -1));
        CHECK(strtod(f[18], NULL) == tide_rj_num(tot, "fails", -1));
        CHECK(strtod(f[20], NULL) == tide_rj_num(tot, "avg", -1));
        CHECK(strtod(f[23], NULL) == tide_rj_num(tot, "avg_content_size", -1));
    }
    csv_free(&c);
    free(text);
}

static void test_failures_csv_matches_summary(const cJSON *s, const char *dir)
{
    char *text = render(s, dir, "failures.csv");
    struct csv c;
    CHECK(text != NULL && csv_parse(text, &c));
    check_header(&c, locust_failures, "failures.csv");
    CHECK(c.rows == 1 + cJSON_GetArraySize(tide_rj_array(s, "errors")));
    for (int r = 1; r < c.rows; r++) {
        CHECK(c.nf[r] == 4);
        if (r > 1)
            CHECK(strtod(c.f[r - 1][3], NULL) >= strtod(c.f[r][3], NULL));
        bool found = false;
        const cJSON *e;
        cJSON_ArrayForEach(e, tide_rj_array(s, "errors"))
        {
            found |= strcmp(tide_rj_str(e, "error", ""), c.f[r][2]) == 0 &&
                     tide_rj_num(e, "occurrences", -1) == strtod(c.f[r][3], NULL);
        }
        CHECK(found);
    }
    /* the quotes and the comma of the 409 body survive the round trip */
    CHECK(strstr(text,
                 "\"HTTP 409: {\"\"error\"\": \"\"project \\\"\"alpha, beta\\\"\" exists\"\"}\"") !=
          NULL);
    csv_free(&c);
    free(text);
}

/* A one-endpoint summary whose numbers exercise Python's float repr() rules. */
static cJSON *number_summary(void)
{
    const char *json =
        "{\"schema\":\"tide.summary/1\",\"run\":{\"start\":\"2026-11-25T15:30:00.000Z\"},"
        "\"endpoints\":["
        "{\"method\":\"GET\",\"name\":\"/n\",\"requests\":3,\"failures\":1,\"med\":0.45,"
        "\"avg\":0.1,\"min\":0.4,\"max\":1e16,\"avg_content_size\":123456789012345.6,"
        "\"rps\":0.3333333333333333,\"fps\":1e-05,\"percentiles\":{\"50\":2.5,\"66\":3.5,"
        "\"75\":3,\"80\":0.0001,\"90\":12345.678,\"95\":1e15,\"98\":7.49,\"99\":7.5,"
        "\"99.9\":8,\"99.99\":8,\"100\":9}},"
        "{\"method\":\"POST\",\"name\":\"/a,\\\"b\\\"\",\"requests\":0,\"failures\":0,\"avg\":0,"
        "\"rps\":0,\"fps\":0},"
        "{\"method\":\"PUT\",\"name\":\"/whole\",\"requests\":2,\"failures\":0,\"med\":3,"
        "\"avg\":3,\"min\":1.5,\"max\":1000000000000000,\"avg_content_size\":0,\"rps\":2,"
        "\"fps\":0,\"percentiles\":{}}],"
        "\"aggregated\":{\"requests\":0},"
        "\"errors\":[{\"method\":\"GET\",\"name\":\"/n\",\"error\":\"line1\\nline2\","
        "\"occurrences\":1}],"
        "\"history\":[{\"elapsed_s\":5,\"vus\":3,\"rps\":2.5,\"fps\":0.125,\"total\":{\"reqs\":0}}]"
        "}";
    return cJSON_Parse(json);
}

static void test_numbers_formatted_as_locust(const char *dir)
{
    cJSON *s = number_summary();
    CHECK(s != NULL);
    char *text = render(s, dir, "stats.csv");
    /* repr(0.1), repr(0.4) for a median below min, repr(1e16), repr(123456789012345.6),
     * repr(1/3), repr(1e-05); percentiles rounded half to even as Python's round() */
    CHECK(text && strstr(text, "\r\nGET,/n,3,1,0.4,0.1,0.4,1e+16,123456789012345.6,"
                               "0.3333333333333333,1e-05,2,4,3,0,12346,1000000000000000,7,8,8,8,9"
                               "\r\n") != NULL);
    /* no requests: Locust's 0 / 0.0 / N/A, and a name with a comma and quotes is quoted */
    CHECK(text && strstr(text, "\r\nPOST,\"/a,\"\"b\"\"\",0,0,0,0.0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,"
                               "N/A,N/A,N/A,N/A,N/A,N/A,N/A\r\n") != NULL);
    /* repr(3.0), repr(1e15), a zero content size of real requests is 0.0 */
    CHECK(text && strstr(text, "\r\nPUT,/whole,2,0,3,3.0,1.5,1000000000000000.0,0.0,2.0,0.0,"
                               "0,0,0,0,0,0,0,0,0,0,0\r\n") != NULL);
    CHECK(text && strstr(text, "\r\n,Aggregated,0,0,0,0.0,0,0,0,0.0,0.0,N/A,") != NULL);
    free(text);

    text = render(s, dir, "stats_history.csv");
    /* no "time": run start + elapsed_s; rates as Python's f"{x:2f}" */
    CHECK(text && strstr(text, "\r\n1795620605,3,,Aggregated,2.500000,0.125000,N/A,N/A,N/A,N/A,"
                               "N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0.0,0,0,0\r\n") != NULL);
    free(text);

    text = render(s, dir, "failures.csv");
    CHECK_STR(text, "Method,Name,Error,Occurrences\r\nGET,/n,\"line1\nline2\",1\r\n");
    free(text);
    cJSON_Delete(s);
}

static void test_null_paths_skip_files(const char *dir)
{
    cJSON *s = number_summary();
    char st[512], hi[512];
    struct tide_err err = {{0}};
    fx_path(st, sizeof st, dir, "only_stats.csv");
    fx_path(hi, sizeof hi, dir, "only_history.csv");
    CHECK(tide_report_csv(s, st, NULL, NULL, &err) == 0);
    char *a = fx_slurp(st), *b = fx_slurp(hi);
    CHECK(a != NULL);
    CHECK(b == NULL);
    free(a);
    free(b);
    cJSON_Delete(s);
}

static void test_rejects_foreign_json(const char *dir)
{
    cJSON *s = cJSON_Parse("{\"schema\":\"k6.summary/2\"}");
    char st[512];
    struct tide_err err = {{0}};
    CHECK(tide_report_csv(s, fx_path(st, sizeof st, dir, "x.csv"), NULL, NULL, &err) == -1);
    CHECK_STR(err.msg, "summary: schema \"k6.summary/2\" is not supported (expected "
                       "\"tide.summary/1\"; use the tide version that wrote it)");
    cJSON_Delete(s);
}

/* PREFIX_exceptions.csv: Locust's header; rows grouped as script_errors, most frequent first;
 * a message with a comma and a quote quoted; the file:line as Traceback; header alone when
 * nothing raised. */
static void test_exceptions_csv(const char *dir)
{
    cJSON *s = cJSON_Parse(
        "{\"schema\":\"tide.summary/1\",\"script_errors\":["
        "{\"message\":\"s.lua:3: once\",\"count\":1},"
        "{\"message\":\"/x/s.lua:12: order N was \\\"rejected\\\", twice\",\"count\":7},"
        "{\"message\":\"tide.fail: no location\",\"count\":2}]}");
    char path[512];
    struct tide_err err = {{0}};
    fx_path(path, sizeof path, dir, "exceptions.csv");
    CHECK(tide_report_exceptions_csv(s, path, &err) == 0);
    char *text = fx_slurp(path);
    CHECK_STR(text ? text : "",
              "Count,Message,Traceback,Nodes\r\n"
              "7,\"/x/s.lua:12: order N was \"\"rejected\"\", twice\",/x/s.lua:12,local\r\n"
              "2,tide.fail: no location,,local\r\n"
              "1,s.lua:3: once,s.lua:3,local\r\n");
    free(text);
    cJSON_Delete(s);
    s = cJSON_Parse("{\"schema\":\"tide.summary/1\",\"script_errors\":[]}");
    CHECK(tide_report_exceptions_csv(s, path, &err) == 0);
    text = fx_slurp(path);
    CHECK_STR(text ? text : "", "Count,Message,Traceback,Nodes\r\n");
    free(text);
    cJSON_Delete(s);
}

int main(void)
{
    char dir[512];
    if (fx_tmpdir(dir, sizeof dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    cJSON *s = fixture_summary(1.0);
    test_stats_csv_matches_summary(s, dir);
    test_history_csv_matches_summary(s, dir);
    test_failures_csv_matches_summary(s, dir);
    test_numbers_formatted_as_locust(dir);
    test_null_paths_skip_files(dir);
    test_rejects_foreign_json(dir);
    test_exceptions_csv(dir);
    cJSON_Delete(s);
    fx_rmdir(dir);
    return CHECK_DONE();
}
