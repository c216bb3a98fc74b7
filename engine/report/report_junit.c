/* report_junit.c: junit.xml, so a CI server shows each threshold, check and verify() check of
 * a run as a test case. Layout of Ant's JUnit XML as Jenkins and GitLab read it:
 * <testsuites> with one <testsuite> each for "run", "thresholds", "checks" and "verify".
 * "run" makes the file agree with the exit code: a run that did not pass (failed, aborted,
 * interrupted) always has a failure there, and so do its failed requests and script errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "report.h"
#include "report_util.h"

/* Escapes for both text and attributes; replaces what XML 1.0 cannot carry (control bytes
 * other than tab and line breaks, U+FFFE/U+FFFF, invalid UTF-8) with U+FFFD, and keeps line
 * breaks in attributes as character references. */
static void put_xml(struct tide_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x80) {
            size_t n = tide_utf8_char(s);
            bool nonchar =
                n == 3 && c == 0xEF && (unsigned char)s[1] == 0xBF && (unsigned char)s[2] >= 0xBE;
            if (n == 0 || nonchar)
                tide_buf_puts(b, "\xEF\xBF\xBD");
            else
                tide_buf_add(b, s, n);
            s += n == 0 ? 0 : n - 1;
            continue;
        }
        switch (c) {
        case '<':
            tide_buf_puts(b, "&lt;");
            break;
        case '>':
            tide_buf_puts(b, "&gt;");
            break;
        case '&':
            tide_buf_puts(b, "&amp;");
            break;
        case '"':
            tide_buf_puts(b, "&quot;");
            break;
        case '\'':
            tide_buf_puts(b, "&apos;");
            break;
        case '\n':
            tide_buf_puts(b, "&#10;");
            break;
        case '\r':
            tide_buf_puts(b, "&#13;");
            break;
        case '\t':
            tide_buf_puts(b, "&#9;");
            break;
        default:
            if (c >= 0x20)
                tide_buf_add(b, s, 1);
            else
                tide_buf_puts(b, "\xEF\xBF\xBD"); /* U+FFFD */
        }
    }
}

static void put_num(struct tide_buf *b, double v)
{
    char num[40];
    tide_report_fmt_num(num, sizeof num, v);
    tide_buf_puts(b, num);
}

/* What a suite counts, for its attributes; rendered before its cases. */
struct suite {
    int tests, failures, errors, skipped;
};

static void open_suite(struct tide_buf *b, const char *name, const struct suite *s, double secs,
                       const char *stamp)
{
    tide_buf_printf(b,
                    "  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"%d\" "
                    "skipped=\"%d\" time=\"%.3f\"",
                    name, s->tests, s->failures, s->errors, s->skipped, secs);
    if (stamp[0] != '\0')
        tide_buf_printf(b, " timestamp=\"%s\"", stamp);
    tide_buf_puts(b, ">\n");
}

static void open_case(struct tide_buf *b, const char *classname, const char *name)
{
    tide_buf_puts(b, "    <testcase classname=\"");
    put_xml(b, classname);
    tide_buf_puts(b, "\" name=\"");
    put_xml(b, name);
    tide_buf_puts(b, "\" time=\"0.000\"");
}

/* <failure> (or <error>) with 'msg' as both its message and its text. */
static void put_outcome(struct tide_buf *b, const char *tag, const char *type, const char *msg)
{
    tide_buf_printf(b, ">\n      <%s type=\"%s\" message=\"", tag, type);
    put_xml(b, msg);
    tide_buf_puts(b, "\">");
    put_xml(b, msg);
    tide_buf_printf(b, "</%s>\n    </testcase>\n", tag);
}

static void count_thresholds(const cJSON *arr, struct suite *s)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, arr)
    {
        s->tests++;
        s->failures += !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "ok"));
    }
}

static void threshold_case(struct tide_buf *b, const cJSON *t)
{
    const char *metric = tide_rj_str(t, "metric", "");
    const char *expr = tide_rj_str(t, "expression", "");
    open_case(b, metric, expr);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "ok"))) {
        tide_buf_puts(b, "/>\n");
        return;
    }
    struct tide_buf msg = {0};
    const cJSON *obs = cJSON_GetObjectItemCaseSensitive(t, "observed");
    tide_buf_printf(&msg, "%s failed: observed ", expr);
    if (cJSON_IsNumber(obs))
        put_num(&msg, obs->valuedouble);
    else
        tide_buf_puts(&msg, "no value (the metric has no samples)");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "aborted")))
        tide_buf_puts(&msg, "; the run was aborted on it");
    put_outcome(b, "failure", "threshold", msg.failed ? expr : msg.data);
    tide_buf_free(&msg);
}

static void count_checks(const cJSON *arr, struct suite *s)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, arr)
    {
        s->tests++;
        s->failures += tide_rj_num(c, "fails", 0) > 0;
    }
}

/* Groups are "::a::b"; the class name reads "<kind>::a::b" ("checks" alone at top level,
 * "verify" for verify()'s own group "::verify"). */
static void check_case(struct tide_buf *b, const cJSON *c, const char *kind)
{
    struct tide_buf cls = {0};
    const char *name = tide_rj_str(c, "name", "");
    const char *group = tide_rj_str(c, "group", "");
    if (strncmp(group, "::", 2) == 0 && strcmp(group + 2, kind) == 0)
        group = "";
    tide_buf_printf(&cls, "%s%s", kind, group);
    open_case(b, cls.failed ? kind : cls.data, name);
    tide_buf_free(&cls);
    double passes = tide_rj_num(c, "passes", 0), fails = tide_rj_num(c, "fails", 0);
    if (fails <= 0) {
        tide_buf_puts(b, "/>\n");
        return;
    }
    struct tide_buf msg = {0};
    tide_buf_printf(&msg, "%s failed: %.0f of %.0f failed (%.2f%% passed)", name, fails,
                    passes + fails, 100.0 * passes / (passes + fails));
    put_outcome(b, "failure", "check", msg.failed ? name : msg.data);
    tide_buf_free(&msg);
}

static void put_property(struct tide_buf *b, const char *name, const char *value)
{
    if (value == NULL)
        return;
    tide_buf_printf(b, "      <property name=\"%s\" value=\"", name);
    put_xml(b, value);
    tide_buf_puts(b, "\"/>\n");
}

static void put_properties(struct tide_buf *b, const cJSON *run)
{
    char code[24];
    snprintf(code, sizeof code, "%.0f", tide_rj_num(run, "exit_code", 0));
    tide_buf_puts(b, "    <properties>\n");
    put_property(b, "run.id", tide_rj_str(run, "id", NULL));
    put_property(b, "run.status", tide_rj_str(run, "status", NULL));
    put_property(b, "run.exit_code", code);
    put_property(b, "run.scenario_file", tide_rj_str(run, "scenario_file", NULL));
    put_property(b, "run.host", tide_rj_str(run, "host", NULL));
    put_property(b, "run.start", tide_rj_str(run, "start", NULL));
    put_property(b, "run.abort_reason", tide_rj_str(run, "abort_reason", NULL));
    tide_buf_puts(b, "    </properties>\n");
}

/* What the "run" suite judges, from the summary. */
struct run_facts {
    const char *status; /* "passed", "failed", "aborted", "interrupted" */
    bool passed;
    const char *why; /* run.reason or run.abort_reason; NULL: none recorded */
    double reqs, failed, script_errors;
    const char *top_error, *top_script_error;
};

static double sum_of(const cJSON *arr, const char *field)
{
    double n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        n += tide_rj_num(e, field, 0);
    }
    return n;
}

static void run_facts(const cJSON *summary, struct run_facts *f)
{
    const cJSON *run = tide_rj_object(summary, "run");
    const cJSON *m = tide_rj_object(summary, "metrics");
    f->status = tide_rj_str(run, "status", "passed");
    f->passed = strcmp(f->status, "passed") == 0;
    f->why = tide_rj_str(run, "reason", NULL);
    if (f->why == NULL)
        f->why = tide_rj_str(run, "abort_reason", NULL);
    f->reqs = tide_rj_num(tide_rj_object(m, "http_reqs"), "count", 0);
    f->failed = tide_rj_num(tide_rj_object(m, "http_req_failed"), "passes", 0);
    const cJSON *errors = tide_rj_array(summary, "errors");
    const cJSON *serrors = tide_rj_array(summary, "script_errors");
    f->script_errors = sum_of(serrors, "count");
    f->top_error = tide_rj_str(cJSON_GetArrayItem(errors, 0), "error", NULL);
    f->top_script_error = tide_rj_str(cJSON_GetArrayItem(serrors, 0), "message", NULL);
}

/* Failed requests and script errors count as failures when the run did not pass; in a run
 * that passed, its thresholds allowed them. */
static int run_failures(const struct run_facts *f)
{
    if (f->passed)
        return 0;
    return 1 + (f->failed > 0) + (f->script_errors > 0);
}

static void status_case(struct tide_buf *b, const struct run_facts *f)
{
    open_case(b, "run", "status");
    if (f->passed) {
        tide_buf_puts(b, "/>\n");
        return;
    }
    struct tide_buf msg = {0};
    tide_buf_printf(&msg, "%s: %s", f->status, f->why != NULL ? f->why : "see the report");
    put_outcome(b, "failure", f->status, msg.failed ? f->status : msg.data);
    tide_buf_free(&msg);
}

static void count_case(struct tide_buf *b, const char *name, const char *type, bool failing,
                       const char *text)
{
    open_case(b, "run", name);
    if (!failing)
        tide_buf_puts(b, "/>\n");
    else
        put_outcome(b, "failure", type, text);
}

static void run_suite(struct tide_buf *b, const cJSON *summary, double secs, const char *stamp)
{
    struct run_facts f;
    run_facts(summary, &f);
    struct suite s = {.tests = 3, .failures = run_failures(&f)};
    open_suite(b, "run", &s, secs, stamp);
    put_properties(b, tide_rj_object(summary, "run"));
    status_case(b, &f);
    struct tide_buf msg = {0};
    tide_buf_printf(&msg, "%.0f of %.0f requests failed", f.failed, f.reqs);
    if (f.top_error != NULL)
        tide_buf_printf(&msg, "; most often: %s", f.top_error);
    count_case(b, "failed requests", "requests", !f.passed && f.failed > 0,
               msg.failed ? "requests failed" : msg.data);
    tide_buf_free(&msg);
    tide_buf_printf(&msg, "%.0f script errors", f.script_errors);
    if (f.top_script_error != NULL)
        tide_buf_printf(&msg, "; most often: %s", f.top_script_error);
    count_case(b, "script errors", "script", !f.passed && f.script_errors > 0,
               msg.failed ? "script errors" : msg.data);
    tide_buf_free(&msg);
    tide_buf_puts(b, "  </testsuite>\n");
}

static void thresholds_suite(struct tide_buf *b, const cJSON *summary, double secs,
                             const char *stamp)
{
    const cJSON *arr = tide_rj_array(summary, "thresholds");
    struct suite s = {0};
    count_thresholds(arr, &s);
    open_suite(b, "thresholds", &s, secs, stamp);
    const cJSON *t;
    cJSON_ArrayForEach(t, arr)
    {
        threshold_case(b, t);
    }
    tide_buf_puts(b, "  </testsuite>\n");
}

static void checks_suite(struct tide_buf *b, const cJSON *summary, double secs, const char *stamp)
{
    const cJSON *arr = tide_rj_array(summary, "checks");
    struct suite s = {0};
    count_checks(arr, &s);
    open_suite(b, "checks", &s, secs, stamp);
    const cJSON *c;
    cJSON_ArrayForEach(c, arr)
    {
        check_case(b, c, "checks");
    }
    tide_buf_puts(b, "  </testsuite>\n");
}

/* verify(): its checks, plus a case "verify()" carrying the error it raised, if any. */
static void verify_suite(struct tide_buf *b, const cJSON *summary, const char *stamp)
{
    const cJSON *v = tide_rj_object(summary, "verify");
    const cJSON *arr = tide_rj_array(v, "checks");
    const char *error = tide_rj_str(v, "error", NULL);
    struct suite s = {0};
    count_checks(arr, &s);
    if (error != NULL) {
        s.tests++;
        s.errors++;
    }
    open_suite(b, "verify", &s, 0, stamp);
    const cJSON *c;
    cJSON_ArrayForEach(c, arr)
    {
        check_case(b, c, "verify");
    }
    if (error != NULL) {
        open_case(b, "verify", "verify()");
        put_outcome(b, "error", "script", error);
    }
    tide_buf_puts(b, "  </testsuite>\n");
}

/* The hooks that failed (summary.json "hooks"): a required one is a failure, another a
 * passed case whose <system-err> carries the warning (JUnit has no warning outcome). */
static void hooks_suite(struct tide_buf *b, const cJSON *summary, const char *stamp, int *fails)
{
    const cJSON *arr = tide_rj_array(tide_rj_object(summary, "hooks"), "failures");
    struct suite s = {0};
    const cJSON *f;
    cJSON_ArrayForEach(f, arr)
    {
        s.tests++;
        s.failures += cJSON_IsTrue(cJSON_GetObjectItem(f, "required"));
    }
    *fails = s.failures;
    if (s.tests == 0)
        return;
    open_suite(b, "hooks", &s, 0, stamp);
    cJSON_ArrayForEach(f, arr)
    {
        struct tide_buf name = {0}, msg = {0};
        tide_buf_printf(&name, "%s (%s)", tide_rj_str(f, "hook", ""), tide_rj_str(f, "event", ""));
        tide_buf_printf(&msg, "hook %s (%s) failed: %s", tide_rj_str(f, "hook", ""),
                        tide_rj_str(f, "event", ""), tide_rj_str(f, "error", ""));
        open_case(b, "hooks", name.failed ? "hook" : name.data);
        if (cJSON_IsTrue(cJSON_GetObjectItem(f, "required"))) {
            put_outcome(b, "failure", "required-hook", msg.failed ? "hook failed" : msg.data);
        } else {
            tide_buf_puts(b, ">\n      <system-err>warning: ");
            put_xml(b, msg.failed ? "hook failed" : msg.data);
            tide_buf_puts(b, "</system-err>\n    </testcase>\n");
        }
        tide_buf_free(&name);
        tide_buf_free(&msg);
    }
    tide_buf_puts(b, "  </testsuite>\n");
}

/* "2026-11-25T15:30:00" (ISO 8601 without zone, as the JUnit schemas want it), or "". */
static void junit_stamp(const char *start, char out[24])
{
    out[0] = '\0';
    double secs;
    struct tm tm;
    if (!tide_report_parse_time(start, &secs))
        return;
    time_t t = (time_t)floor(secs);
    if (gmtime_r(&t, &tm) == NULL || strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        out[0] = '\0';
}

int tide_report_junit(const cJSON *summary, const char *path, struct tide_err *err)
{
    if (tide_report_check_schema(summary, err) != 0)
        return -1;
    const cJSON *run = tide_rj_object(summary, "run");
    double secs = tide_rj_num(run, "duration_s", 0);
    char stamp[24];
    junit_stamp(tide_rj_str(run, "start", NULL), stamp);
    struct run_facts f;
    run_facts(summary, &f);
    struct suite all = {.tests = 3, .failures = run_failures(&f)};
    count_thresholds(tide_rj_array(summary, "thresholds"), &all);
    count_checks(tide_rj_array(summary, "checks"), &all);
    const cJSON *v = tide_rj_object(summary, "verify");
    count_checks(tide_rj_array(v, "checks"), &all);
    all.errors = tide_rj_str(v, "error", NULL) != NULL;
    all.tests += all.errors;
    const cJSON *hook_fails = tide_rj_array(tide_rj_object(summary, "hooks"), "failures");
    all.tests += cJSON_GetArraySize(hook_fails);
    const cJSON *hf;
    cJSON_ArrayForEach(hf, hook_fails)
    {
        all.failures += cJSON_IsTrue(cJSON_GetObjectItem(hf, "required"));
    }

    struct tide_buf b = {0};
    tide_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"");
    put_xml(&b, "tide ");
    put_xml(&b, tide_rj_str(run, "id", ""));
    tide_buf_printf(&b, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" time=\"%.3f\">\n", all.tests,
                    all.failures, all.errors, secs);
    run_suite(&b, summary, secs, stamp);
    thresholds_suite(&b, summary, secs, stamp);
    checks_suite(&b, summary, secs, stamp);
    verify_suite(&b, summary, stamp);
    int hook_failures = 0;
    hooks_suite(&b, summary, stamp, &hook_failures);
    tide_buf_puts(&b, "</testsuites>\n");
    return tide_report_buf_save(&b, path, err);
}
