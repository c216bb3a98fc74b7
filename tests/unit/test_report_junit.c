/* Unit tests of junit.xml: well-formed XML, counts that match the cases, escaped text, and (when
 * xmllint from Debian libxml2-utils is installed) valid against tests/fixtures/junit.xsd. */
#include "../check.h"
#include "test_report_fixture.h"
#include "report.h"
#include "report_util.h"

/* ---- a small, strict XML reader: enough to prove well-formedness and count ---- */

struct suite_count {
    long tests, failures, errors; /* declared */
    long cases, failed, errored;  /* seen */
};

struct xml {
    const char *p;
    char stack[16][32];
    int depth, roots;
    struct suite_count suite, total;
    long root_tests, root_failures, root_errors;
    char why[160];
};

static bool fail_at(struct xml *x, const char *what)
{
    if (x->why[0] == '\0')
        snprintf(x->why, sizeof x->why, "%s at \"%.30s\"", what, x->p);
    return false;
}

static bool entity(struct xml *x)
{
    static const char *const names[] = {"&lt;", "&gt;", "&amp;", "&quot;", "&apos;", NULL};
    for (int i = 0; names[i] != NULL; i++) {
        if (strncmp(x->p, names[i], strlen(names[i])) == 0) {
            x->p += strlen(names[i]);
            return true;
        }
    }
    if (x->p[1] == '#') {
        char *end;
        long v = strtol(x->p + 2, &end, 10);
        if (end != x->p + 2 && *end == ';' && (v == 9 || v == 10 || v == 13 || v >= 32)) {
            x->p = end + 1;
            return true;
        }
    }
    return fail_at(x, "bad entity");
}

/* Character data up to 'stop' (NUL-terminated set); '<' is never allowed in it. */
static bool chars(struct xml *x, const char *stop)
{
    while (*x->p != '\0' && strchr(stop, *x->p) == NULL) {
        unsigned char c = (unsigned char)*x->p;
        if (c == '<')
            return fail_at(x, "'<' in text");
        if (c == '&') {
            if (!entity(x))
                return false;
            continue;
        }
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return fail_at(x, "control character");
        size_t n = tide_utf8_char(x->p);
        if (n == 0)
            return fail_at(x, "invalid UTF-8");
        x->p += n;
    }
    return true;
}

static size_t name_len(const char *p)
{
    size_t n = 0;
    while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') || p[n] == '-' ||
           p[n] == '_' || p[n] == ':' || (n > 0 && p[n] >= '0' && p[n] <= '9'))
        n++;
    return n;
}

static void skip_space(struct xml *x)
{
    while (*x->p == ' ' || *x->p == '\n' || *x->p == '\t' || *x->p == '\r')
        x->p++;
}

/* Attributes of an open tag; the counts of <testsuites> and <testsuite> are kept. */
static bool attributes(struct xml *x, const char *tag)
{
    for (;;) {
        skip_space(x);
        if (*x->p == '>' || strncmp(x->p, "/>", 2) == 0)
            return true;
        size_t n = name_len(x->p);
        if (n == 0 || x->p[n] != '=' || x->p[n + 1] != '"')
            return fail_at(x, "bad attribute");
        char attr[32];
        snprintf(attr, sizeof attr, "%.*s", (int)n, x->p);
        x->p += n + 2;
        long v = strtol(x->p, NULL, 10);
        if (strcmp(tag, "testsuite") == 0 && strcmp(attr, "tests") == 0)
            x->suite.tests = v;
        if (strcmp(tag, "testsuite") == 0 && strcmp(attr, "failures") == 0)
            x->suite.failures = v;
        if (strcmp(tag, "testsuite") == 0 && strcmp(attr, "errors") == 0)
            x->suite.errors = v;
        if (strcmp(tag, "testsuites") == 0 && strcmp(attr, "tests") == 0)
            x->root_tests = v;
        if (strcmp(tag, "testsuites") == 0 && strcmp(attr, "failures") == 0)
            x->root_failures = v;
        if (strcmp(tag, "testsuites") == 0 && strcmp(attr, "errors") == 0)
            x->root_errors = v;
        if (!chars(x, "\""))
            return false;
        if (*x->p != '"')
            return fail_at(x, "unterminated attribute");
        x->p++;
    }
}

static bool close_suite(struct xml *x)
{
    struct suite_count *s = &x->suite;
    if (s->tests != s->cases || s->failures != s->failed || s->errors != s->errored)
        return fail_at(x, "testsuite counts differ from its cases");
    x->total.cases += s->cases;
    x->total.failed += s->failed;
    x->total.errored += s->errored;
    return true;
}

static bool element(struct xml *x)
{
    x->p++;
    if (*x->p == '/') {
        x->p++;
        size_t n = name_len(x->p);
        if (x->depth == 0 || strlen(x->stack[x->depth - 1]) != n ||
            strncmp(x->stack[x->depth - 1], x->p, n) != 0 || x->p[n] != '>')
            return fail_at(x, "mismatched end tag");
        x->p += n + 1;
        x->depth--;
        return strcmp(x->stack[x->depth], "testsuite") == 0 ? close_suite(x) : true;
    }
    size_t n = name_len(x->p);
    if (n == 0 || n >= 32 || x->depth == 16)
        return fail_at(x, "bad tag");
    char tag[32];
    snprintf(tag, sizeof tag, "%.*s", (int)n, x->p);
    x->p += n;
    if (strcmp(tag, "testsuite") == 0)
        memset(&x->suite, 0, sizeof x->suite);
    x->suite.cases += strcmp(tag, "testcase") == 0;
    x->suite.failed += strcmp(tag, "failure") == 0;
    x->suite.errored += strcmp(tag, "error") == 0;
    x->roots += x->depth == 0;
    if (!attributes(x, tag))
        return false;
    if (strncmp(x->p, "/>", 2) == 0) {
        x->p += 2;
        return strcmp(tag, "testsuite") == 0 ? close_suite(x) : true;
    }
    x->p++;
    snprintf(x->stack[x->depth++], sizeof x->stack[0], "%s", tag);
    return true;
}

static bool xml_check(const char *text, struct xml *x)
{
    memset(x, 0, sizeof *x);
    x->p = text;
    const char *decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    if (strncmp(text, decl, strlen(decl)) != 0)
        return fail_at(x, "no XML declaration");
    x->p = text + strlen(decl);
    while (*x->p != '\0') {
        if (*x->p == '<' && !element(x))
            return false;
        if (*x->p != '<' && !chars(x, "<"))
            return false;
        if (x->depth == 0 && x->roots > 1)
            return fail_at(x, "more than one root");
    }
    if (x->depth != 0 || x->roots != 1)
        return fail_at(x, "unclosed element or no root");
    if (x->root_tests != x->total.cases || x->root_failures != x->total.failed ||
        x->root_errors != x->total.errored)
        return fail_at(x, "testsuites counts differ from the suites'");
    return true;
}

/* ---- tests ---- */

static char *render(const cJSON *s, const char *path)
{
    struct tide_err err = {{0}};
    int rc = tide_report_junit(s, path, &err);
    CHECK(rc == 0);
    if (rc != 0)
        fprintf(stderr, "  %s\n", err.msg);
    return fx_slurp(path);
}

static void check_wellformed(const char *text, struct xml *x)
{
    bool ok = text != NULL && xml_check(text, x);
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  junit.xml: %s\n", x->why);
}

static void test_xml_checker_can_fail(void)
{
    struct xml x;
    const char *decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    const char *bad[] = {
        "<testsuites tests=\"0\" failures=\"0\" errors=\"0\"><a></b></testsuites>",
        "<testsuites tests=\"0\" failures=\"0\" errors=\"0\">x < y</testsuites>",
        "<testsuites tests=\"0\" failures=\"0\" errors=\"0\" name=\"a&b\"/>",
        "<testsuites tests=\"1\" failures=\"0\" errors=\"0\"><testsuite tests=\"1\" failures=\"0\" "
        "errors=\"0\"/></testsuites>",
        "<testsuites tests=\"0\" failures=\"0\" errors=\"0\">\xC3\x28</testsuites>",
        NULL};
    char buf[512];
    for (int i = 0; bad[i] != NULL; i++) {
        snprintf(buf, sizeof buf, "%s%s", decl, bad[i]);
        CHECK(!xml_check(buf, &x));
    }
}

static void test_junit_counts_match_summary(const cJSON *s, const char *dir)
{
    char path[512];
    char *text = render(s, fx_path(path, sizeof path, dir, "junit.xml"));
    struct xml x;
    check_wellformed(text, &x);
    /* run: status, failed requests, script errors (all failed: the run failed); 4 thresholds
     * (1 failed), 4 checks (1 failed), 2 verify checks */
    CHECK(x.root_tests == 13);
    CHECK(x.root_failures == 5);
    CHECK(x.root_errors == 0);
    CHECK(text && fx_count(text, "<testsuite ") == 4);
    CHECK(text && strstr(text, "<testsuite name=\"run\" tests=\"3\" failures=\"3\"") != NULL);
    CHECK(text &&
          strstr(text, "<testsuite name=\"thresholds\" tests=\"4\" failures=\"1\"") != NULL);
    CHECK(text && strstr(text, "<testsuite name=\"checks\" tests=\"4\" failures=\"1\"") != NULL);
    CHECK(text && strstr(text, "<testsuite name=\"verify\" tests=\"2\" failures=\"0\"") != NULL);
    CHECK(text &&
          strstr(text, "<failure type=\"failed\" message=\"failed: threshold "
                       "http_req_duration: p(99)&lt;120 not met (observed 140.992)\"") != NULL);
    CHECK(text && strstr(text, "time=\"60.000\" timestamp=\"2026-11-25T15:30:00\"") != NULL);
    /* the failure names the observed value */
    CHECK(text && strstr(text, "<testcase classname=\"http_req_duration\" name=\"p(99)&lt;120\" "
                               "time=\"0.000\">\n      <failure type=\"threshold\" "
                               "message=\"p(99)&lt;120 failed: observed 140.992\">") != NULL);
    CHECK(text && strstr(text, "message=\"search returns items failed: 17 of 832 failed (97.96% "
                               "passed)\"") != NULL);
    /* markup in a check name is text */
    CHECK(text && strstr(text, "name=\"body has &lt;b&gt;no&lt;/b&gt; &quot;error&quot; &amp; is "
                               "JSON\"") != NULL);
    CHECK(text && strstr(text, "<testcase classname=\"verify\" name=\"every created project is "
                               "listed\"") != NULL);
    free(text);
}

static void test_junit_escapes_hostile_text(const char *dir)
{
    cJSON *s = cJSON_Parse("{\"schema\":\"tide.summary/1\",\"run\":{\"id\":\"r\\\"1\"},"
                           "\"thresholds\":[{\"metric\":\"m{name:<x>}\",\"expression\":\"p(95)<1\","
                           "\"ok\":false}],"
                           "\"verify\":{\"ran\":true,\"ok\":false,\"error\":null,\"checks\":[]}}");
    cJSON *v = cJSON_GetObjectItem(s, "verify");
    cJSON_ReplaceItemInObject(v, "error",
                              cJSON_CreateString("verify.lua:3: bad \x01 byte \xFF & \"<tag>\"\n"
                                                 "line 2 \xEF\xBF\xBE"));
    char path[512];
    char *text = render(s, fx_path(path, sizeof path, dir, "hostile.xml"));
    struct xml x;
    check_wellformed(text, &x);
    CHECK(x.root_tests == 5 && x.root_failures == 1 && x.root_errors == 1);
    CHECK(text && strstr(text, "name=\"tide r&quot;1\"") != NULL);
    CHECK(text && strstr(text, "classname=\"m{name:&lt;x&gt;}\"") != NULL);
    CHECK(text && strstr(text, "failed: observed no value (the metric has no samples)") != NULL);
    /* control byte, invalid UTF-8 and U+FFFE become U+FFFD; the line break is kept */
    CHECK(text && strstr(text, "message=\"verify.lua:3: bad \xEF\xBF\xBD byte \xEF\xBF\xBD &amp; "
                               "&quot;&lt;tag&gt;&quot;&#10;line 2 \xEF\xBF\xBD\"") != NULL);
    free(text);
    cJSON_Delete(s);
}

static void test_junit_of_empty_run(const char *dir)
{
    cJSON *s = cJSON_Parse("{\"schema\":\"tide.summary/1\"}");
    char path[512];
    char *text = render(s, fx_path(path, sizeof path, dir, "empty.xml"));
    struct xml x;
    check_wellformed(text, &x);
    CHECK(x.root_tests == 3 && x.root_failures == 0); /* the run suite's cases, passing */
    CHECK(text && strstr(text, "timestamp=") == NULL);
    free(text);
    cJSON_Delete(s);
}

/* A summary with the given status, reason, request and script-error counts. */
static cJSON *status_summary(const char *status, const char *reason_key, const char *reason,
                             double reqs, double failed, double script_errors)
{
    cJSON *s = cJSON_Parse("{\"schema\":\"tide.summary/1\",\"run\":{\"id\":\"r\"},"
                           "\"metrics\":{},\"errors\":[],\"script_errors\":[],"
                           "\"thresholds\":[],\"checks\":[],\"verify\":null}");
    cJSON *run = cJSON_GetObjectItem(s, "run");
    cJSON_AddStringToObject(run, "status", status);
    if (reason != NULL)
        cJSON_AddStringToObject(run, reason_key, reason);
    cJSON *m = cJSON_GetObjectItem(s, "metrics");
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(m, "http_reqs"), "count", reqs);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(m, "http_req_failed"), "passes", failed);
    if (failed > 0) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "error", "HTTP 503");
        cJSON_AddNumberToObject(e, "occurrences", failed);
        cJSON_AddItemToArray(cJSON_GetObjectItem(s, "errors"), e);
    }
    if (script_errors > 0) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "message", "x.lua:3: boom");
        cJSON_AddNumberToObject(e, "count", script_errors);
        cJSON_AddItemToArray(cJSON_GetObjectItem(s, "script_errors"), e);
    }
    return s;
}

/* An aborted or interrupted run, or one failed by a default check, has failures in junit.xml,
 * even without any threshold or check: the file agrees with the exit code. */
static void test_junit_reflects_run_status(const char *dir)
{
    char path[512];
    struct xml x;
    cJSON *s = status_summary("aborted", "abort_reason", "tide.abort: login impossible", 10, 0, 0);
    char *text = render(s, fx_path(path, sizeof path, dir, "aborted.xml"));
    check_wellformed(text, &x);
    CHECK(x.root_failures == 1);
    CHECK(text && strstr(text, "<failure type=\"aborted\" message=\"aborted: tide.abort: login "
                               "impossible\"") != NULL);
    free(text);
    cJSON_Delete(s);

    s = status_summary("interrupted", "reason", "interrupted by SIGINT", 10, 2, 1);
    text = render(s, fx_path(path, sizeof path, dir, "interrupted.xml"));
    check_wellformed(text, &x);
    CHECK(x.root_failures == 3);
    CHECK(text && strstr(text, "<failure type=\"interrupted\"") != NULL);
    CHECK(text &&
          strstr(text, "message=\"2 of 10 requests failed; most often: HTTP 503\"") != NULL);
    CHECK(text && strstr(text, "message=\"1 script errors; most often: x.lua:3: boom\"") != NULL);
    free(text);
    cJSON_Delete(s);

    s = status_summary("failed", "reason", "no request succeeded (47 of 47 failed: HTTP 503)", 47,
                       47, 0);
    text = render(s, fx_path(path, sizeof path, dir, "failed.xml"));
    check_wellformed(text, &x);
    CHECK(x.root_failures == 2);
    CHECK(text && strstr(text, "message=\"failed: no request succeeded (47 of 47 failed: HTTP "
                               "503)\"") != NULL);
    free(text);
    cJSON_Delete(s);

    /* a run that passed: its thresholds allowed the failed requests, nothing fails */
    s = status_summary("passed", "reason", NULL, 100, 3, 0);
    text = render(s, fx_path(path, sizeof path, dir, "passed.xml"));
    check_wellformed(text, &x);
    CHECK(x.root_tests == 3 && x.root_failures == 0);
    free(text);
    cJSON_Delete(s);
}

/* Schema validation with xmllint: its own ctest case (unit.test_report_junit.schema,
 * 'test_report_junit --schema'), skipped (exit 77) where xmllint is not installed. */
static void test_junit_valid_against_schema(const char *dir)
{
    const char *files[] = {"junit.xml",  "hostile.xml",     "empty.xml", "aborted.xml",
                           "failed.xml", "interrupted.xml", "passed.xml"};
    for (int i = 0; i < 7; i++) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd,
                 "out=$(xmllint --noout --schema '%s/tests/fixtures/junit.xsd' '%s/%s' 2>&1) "
                 "|| { echo \"$out\" >&2; exit 1; }",
                 TIDE_SOURCE_DIR, dir, files[i]);
        int rc = system(cmd);
        CHECK(rc == 0);
        if (rc != 0)
            fprintf(stderr, "  %s is not valid against junit.xsd\n", files[i]);
    }
}

int main(int argc, char **argv)
{
    bool schema = argc > 1 && strcmp(argv[1], "--schema") == 0;
    if (schema && system("command -v xmllint >/dev/null 2>&1") != 0) {
        printf("skipped: xmllint not found (apt-get install libxml2-utils)\n");
        return 77;
    }
    char dir[512];
    if (fx_tmpdir(dir, sizeof dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    cJSON *s = fixture_summary(1.0);
    test_xml_checker_can_fail();
    test_junit_counts_match_summary(s, dir);
    test_junit_escapes_hostile_text(dir);
    test_junit_of_empty_run(dir);
    test_junit_reflects_run_status(dir);
    if (schema)
        test_junit_valid_against_schema(dir);
    cJSON_Delete(s);
    fx_rmdir(dir);
    return CHECK_DONE();
}
