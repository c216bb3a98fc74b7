/* report_html.c: report.html, one self-contained page: the template, styles, uPlot and the
 * page script are compiled in (engine/report/report_assets.cmake, uPlot from npm), the summary goes
 * in as JSON. Untrusted text (error messages carry server responses) is HTML-escaped here and
 * reaches the page script as JSON with '<' escaped; a Content-Security-Policy lets only the two
 * embedded scripts run (by their sha256) and forbids every network request. */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include "embedded.h"
#include "report.h"
#include "report_downsample.h"
#include "report_util.h"

extern const struct tide_embedded tide_report_assets[]; /* engine/report_assets.cmake */

static const char *const statuses[] = {"passed",      "failed", "aborted",
                                       "interrupted", "error",  "running"};
static const char *const verdicts[] = {"Passed",      "Failed", "Aborted",
                                       "Interrupted", "Error",  "Running"};

/* Top-level summary keys the page shows; "options" and "series" stay out (size, secrets). */
static const char *const page_keys[] = {
    "schema",    "tool",       "run",     "metrics",        "endpoints",     "aggregated",
    "checks",    "thresholds", "verify",  "errors",         "script_errors", "history",
    "generator", "hooks",      "plugins", "plugin_sections"};

/* Text and attribute escaping; invalid UTF-8 becomes U+FFFD. */
static void put_html(struct tide_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        size_t n = tide_utf8_char(s);
        switch (*s) {
        case '&':
            tide_buf_puts(b, "&amp;");
            break;
        case '<':
            tide_buf_puts(b, "&lt;");
            break;
        case '>':
            tide_buf_puts(b, "&gt;");
            break;
        case '"':
            tide_buf_puts(b, "&quot;");
            break;
        case '\'':
            tide_buf_puts(b, "&#39;");
            break;
        default:
            if (n == 0)
                tide_buf_puts(b, "\xEF\xBF\xBD");
            else
                tide_buf_add(b, s, n);
            s += n == 0 ? 0 : n - 1;
        }
    }
}

/* Histograms are for 'tide compare' and 'tide merge'; the page does not need their bulk. */
static void strip_histograms(cJSON *j)
{
    if (cJSON_IsObject(j))
        cJSON_DeleteItemFromObjectCaseSensitive(j, "histogram");
    cJSON *kid;
    cJSON_ArrayForEach(kid, j)
    {
        strip_histograms(kid);
    }
}

/* Requests per (method, name, status) from the summary's http_reqs series: the page's
 * status-code breakdown. The series are capped per metric (metrics.h), so this is bounded. */
static cJSON *status_codes(const cJSON *summary)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *se;
    cJSON_ArrayForEach(se, tide_rj_array(summary, "series"))
    {
        if (strcmp(tide_rj_str(se, "metric", ""), "http_reqs") != 0)
            continue;
        const cJSON *tags = tide_rj_object(se, "tags");
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "method", tide_rj_str(tags, "method", ""));
        cJSON_AddStringToObject(row, "name", tide_rj_str(tags, "name", ""));
        cJSON_AddStringToObject(row, "status", tide_rj_str(tags, "status", ""));
        cJSON_AddNumberToObject(row, "count", tide_rj_num(se, "count", 0));
        cJSON_AddItemToArray(out, row);
    }
    return out;
}

static cJSON *page_data(const cJSON *summary, bool live)
{
    cJSON *data = cJSON_CreateObject();
    for (size_t i = 0; data != NULL && i < sizeof page_keys / sizeof page_keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(summary, page_keys[i]);
        if (v == NULL)
            continue;
        cJSON *copy = cJSON_Duplicate(v, 1);
        if (copy == NULL || !cJSON_AddItemToObject(data, page_keys[i], copy)) {
            cJSON_Delete(copy);
            cJSON_Delete(data);
            return NULL;
        }
    }
    strip_histograms(data);
    if (data != NULL)
        cJSON_AddItemToObject(data, "status_codes", status_codes(summary));
    if (data != NULL && live) /* the live dashboard (run/dashboard.h): updates from /events */
        cJSON_AddStringToObject(cJSON_AddObjectToObject(data, "live"), "events", "/events");
    /* Long runs: the charts get a min/max envelope; the page says so ("history_buckets") */
    int per = 0;
    cJSON *thin = tide_history_downsample(cJSON_GetObjectItemCaseSensitive(data, "history"),
                                          TIDE_REPORT_CHART_ROWS, &per);
    if (thin != NULL) {
        cJSON *info = cJSON_CreateObject();
        cJSON_AddNumberToObject(
            info, "rows", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(data, "history")));
        cJSON_AddNumberToObject(info, "bucket_rows", per);
        cJSON_ReplaceItemInObjectCaseSensitive(data, "history", thin);
        cJSON_AddItemToObject(data, "history_buckets", info);
    }
    return data;
}

/* JSON inside <script type="application/json">: '<', '>' and '&' only occur in strings, where
 * \u escapes keep the meaning and make "</script>" and "<!--" impossible. */
static int put_data(struct tide_buf *b, const cJSON *summary, bool live)
{
    cJSON *data = page_data(summary, live);
    char *text = data ? cJSON_PrintUnformatted(data) : NULL;
    cJSON_Delete(data);
    if (text == NULL)
        return -1;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '<')
            tide_buf_puts(b, "\\u003c");
        else if (*p == '>')
            tide_buf_puts(b, "\\u003e");
        else if (*p == '&')
            tide_buf_puts(b, "\\u0026");
        else
            tide_buf_add(b, p, 1);
    }
    cJSON_free(text);
    return 0;
}

/* "'sha256-<base64>'" of a script's exact text, as CSP hashes it. */
static int put_script_hash(struct tide_buf *b, const struct tide_embedded *script)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    if (EVP_Digest(script->data, script->len, md, &mdlen, EVP_sha256(), NULL) != 1)
        return -1;
    EVP_EncodeBlock(b64, md, (int)mdlen);
    tide_buf_printf(b, " 'sha256-%s'", (const char *)b64);
    return 0;
}

struct page {
    const cJSON *summary;
    const char *status; /* one of 'statuses', or "unknown" */
    const char *verdict;
    const struct tide_embedded *uplot_js, *uplot_css, *uplot_license, *report_js, *report_css;
    bool live; /* the dashboard's page: may connect to its own server for /events */
};

static int put_csp(struct tide_buf *b, const struct page *pg)
{
    tide_buf_puts(b, "default-src 'none'; script-src");
    if (put_script_hash(b, pg->uplot_js) != 0 || put_script_hash(b, pg->report_js) != 0)
        return -1;
    if (pg->live)
        tide_buf_puts(b, "; connect-src 'self'");
    tide_buf_puts(b, "; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                     "form-action 'none'");
    return 0;
}

static void put_generator(struct tide_buf *b, const cJSON *summary)
{
    const cJSON *tool = tide_rj_object(summary, "tool");
    tide_buf_puts(b, "tide ");
    put_html(b, tide_rj_str(tool, "version", ""));
}

static void put_subtitle(struct tide_buf *b, const cJSON *run)
{
    const char *scenario = tide_rj_str(run, "scenario_file", NULL);
    const char *host = tide_rj_str(run, "host", NULL);
    const char *parts[] = {scenario, host};
    const char *sep = "";
    for (size_t i = 0; i < 2; i++) {
        if (parts[i] == NULL || parts[i][0] == '\0')
            continue;
        tide_buf_puts(b, sep);
        put_html(b, parts[i]);
        sep = " \xC2\xB7 "; /* middle dot */
    }
}

/* Fills the template slot 'name'; -1 for a name the template should not have. */
static int put_slot(struct tide_buf *b, const char *name, size_t n, const struct page *pg)
{
    const cJSON *run = tide_rj_object(pg->summary, "run");
    const char *id = tide_rj_str(run, "id", "run");
#define SLOT(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
    if (SLOT("csp"))
        return put_csp(b, pg);
    if (SLOT("generator"))
        put_generator(b, pg->summary);
    else if (SLOT("title")) {
        tide_buf_puts(b, "tide report \xC2\xB7 ");
        put_html(b, id);
        tide_buf_printf(b, " \xC2\xB7 %s", pg->verdict);
    } else if (SLOT("heading"))
        put_html(b, id);
    else if (SLOT("subtitle"))
        put_subtitle(b, run);
    else if (SLOT("status"))
        tide_buf_puts(b, pg->status);
    else if (SLOT("verdict"))
        tide_buf_puts(b, pg->verdict);
    else if (SLOT("data"))
        return put_data(b, pg->summary, pg->live);
    else if (SLOT("uplot_css"))
        tide_buf_add(b, pg->uplot_css->data, pg->uplot_css->len);
    else if (SLOT("uplot_license"))
        put_html(b, pg->uplot_license->data); /* escaped: no "-->" can end the comment */
    else if (SLOT("report_css"))
        tide_buf_add(b, pg->report_css->data, pg->report_css->len);
    else if (SLOT("uplot_js"))
        tide_buf_add(b, pg->uplot_js->data, pg->uplot_js->len);
    else if (SLOT("report_js"))
        tide_buf_add(b, pg->report_js->data, pg->report_js->len);
    else
        return -1;
#undef SLOT
    return 0;
}

static int render(struct tide_buf *b, const struct tide_embedded *tpl, const struct page *pg,
                  struct tide_err *err)
{
    const char *p = tpl->data, *end = tpl->data + tpl->len;
    while (p < end) {
        const char *open = strstr(p, "{{");
        const char *close = open ? strstr(open, "}}") : NULL;
        if (open == NULL || close == NULL) {
            tide_buf_add(b, p, (size_t)(end - p));
            break;
        }
        tide_buf_add(b, p, (size_t)(open - p));
        size_t n = (size_t)(close - open - 2);
        if (put_slot(b, open + 2, n, pg) != 0)
            return tide_err_set(err, "report.html: cannot fill slot '{{%.*s}}' of the template",
                                (int)n, open + 2);
        p = close + 2;
    }
    return 0;
}

static const struct tide_embedded *asset(const char *name, struct tide_err *err)
{
    const struct tide_embedded *a = tide_embedded_find(tide_report_assets, name);
    if (a == NULL)
        tide_err_set(err, "report.html: asset '%s' is missing from this build", name);
    return a;
}

char *tide_report_page_json(const cJSON *summary)
{
    cJSON *data = page_data(summary, false);
    char *text = data ? cJSON_PrintUnformatted(data) : NULL;
    cJSON_Delete(data);
    return text;
}

int tide_report_html_text(const cJSON *summary, bool live, struct tide_buf *b, struct tide_err *err)
{
    if (tide_report_check_schema(summary, err) != 0)
        return -1;
    struct page pg = {summary, "unknown", "Unknown", NULL, NULL, NULL, NULL, NULL, live};
    const char *status = tide_rj_str(tide_rj_object(summary, "run"), "status", "");
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        if (strcmp(status, statuses[i]) == 0) {
            pg.status = statuses[i];
            pg.verdict = verdicts[i];
        }
    }
    const struct tide_embedded *tpl = asset("report.html", err);
    pg.uplot_js = asset("uPlot.iife.min.js", err);
    pg.uplot_css = asset("uPlot.min.css", err);
    pg.uplot_license = asset("uPlot.LICENSE", err);
    pg.report_js = asset("report.js", err);
    pg.report_css = asset("report.css", err);
    if (!tpl || !pg.uplot_js || !pg.uplot_css || !pg.uplot_license || !pg.report_js ||
        !pg.report_css)
        return -1;
    return render(b, tpl, &pg, err);
}

int tide_report_html(const cJSON *summary, const char *path, struct tide_err *err)
{
    struct tide_buf b = {0};
    if (tide_report_html_text(summary, false, &b, err) != 0) {
        tide_buf_free(&b);
        return -1;
    }
    return tide_report_buf_save(&b, path, err);
}
