/* Unit tests of report.html: self-contained (nothing loaded from a network), data escaped,
 * scripts allowed by hash only, deterministic. tests/browser/ checks how it renders. */
#include <ctype.h>
#include <strings.h>
#include <openssl/evp.h>
#include "../check.h"
#include "test_report_fixture.h"
#include "embedded.h"
#include "report.h"
#include "report_util.h"

extern const struct tide_embedded tide_report_assets[];

/* strstr, ignoring ASCII case. */
static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay != '\0'; hay++) {
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    }
    return NULL;
}

static char *render(const cJSON *s, const char *path)
{
    struct tide_err err = {{0}};
    int rc = tide_report_html(s, path, &err);
    CHECK(rc == 0);
    if (rc != 0)
        fprintf(stderr, "  %s\n", err.msg);
    return fx_slurp(path);
}

static bool starts_remote(const char *v)
{
    while (*v == '"' || *v == '\'' || *v == ' ' || *v == '(')
        v++;
    return strncasecmp(v, "http:", 5) == 0 || strncasecmp(v, "https:", 6) == 0 ||
           strncmp(v, "//", 2) == 0 || strncasecmp(v, "ftp:", 4) == 0 ||
           strncasecmp(v, "ws:", 3) == 0 || strncasecmp(v, "wss:", 4) == 0;
}

/* Every place a page can name a resource to load: none may point off the file. */
static void check_no_external_urls(const char *html)
{
    const char *attrs[] = {"src=",    "href=",   "action=", "url(", "@import",
                           "srcset=", "poster=", "data=",   NULL};
    for (int i = 0; attrs[i] != NULL; i++) {
        for (const char *p = find_ci(html, attrs[i]); p != NULL; p = find_ci(p + 1, attrs[i])) {
            bool remote = starts_remote(p + strlen(attrs[i]));
            CHECK(!remote);
            if (remote)
                fprintf(stderr, "  external resource: %.60s\n", p);
        }
    }
    CHECK(find_ci(html, "<link") == NULL);
    CHECK(find_ci(html, "<iframe") == NULL);
    CHECK(find_ci(html, "<base") == NULL);
    CHECK(fx_count(html, "<script") == 3);
    /* no <script src=...>: every script tag is one of the three inline forms */
    CHECK(fx_count(html, "<script>") == 2);
    CHECK(fx_count(html, "<script type=\"application/json\" id=\"tide-data\">") == 1);
}

/* The text of the n-th <script> element (0-based); the caller frees it. */
static char *script_text(const char *html, int n)
{
    const char *p = html;
    for (int i = 0; i <= n && p != NULL; i++) {
        p = strstr(p, "<script");
        p = p ? strchr(p, '>') + 1 : NULL;
    }
    const char *end = p ? strstr(p, "</script>") : NULL;
    return end ? strndup(p, (size_t)(end - p)) : NULL;
}

static void sha256_b64(const char *s, char out[64])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
    EVP_EncodeBlock((unsigned char *)out, md, 32);
}

static void test_html_is_self_contained(const char *html)
{
    check_no_external_urls(html);
    /* the Content-Security-Policy allows exactly the two inline scripts, and no fetch */
    CHECK(strstr(html, "content=\"default-src 'none'; script-src 'sha256-") != NULL);
    for (int i = 1; i <= 2; i++) {
        char *js = script_text(html, i);
        char b64[64], want[80];
        CHECK(js != NULL);
        if (js == NULL)
            continue;
        sha256_b64(js, b64);
        snprintf(want, sizeof want, "'sha256-%s'", b64);
        CHECK(strstr(html, want) != NULL);
        free(js);
    }
    CHECK(strstr(html, "'unsafe-inline'; img-src") != NULL); /* styles only */
    CHECK(fx_count(html, "'unsafe-inline'") == 1);
}

static void test_assets_cannot_close_their_script(void)
{
    for (const struct tide_embedded *a = tide_report_assets; a->name != NULL; a++) {
        if (strstr(a->name, ".js") == NULL && strstr(a->name, ".css") == NULL)
            continue;
        CHECK(find_ci(a->data, "</script") == NULL);
        CHECK(find_ci(a->data, "</style") == NULL);
        CHECK(strstr(a->data, "{{") == NULL || strcmp(a->name, "uPlot.iife.min.js") == 0);
        CHECK(strstr(a->data, "innerHTML") == NULL || strcmp(a->name, "uPlot.iife.min.js") == 0);
    }
    CHECK(tide_embedded_find(tide_report_assets, "report.html") != NULL);
    CHECK(tide_embedded_find(tide_report_assets, "uPlot.iife.min.js") != NULL);
    /* uPlot comes from npm (engine/report/npm) with its licence, which the page carries */
    const struct tide_embedded *lic = tide_embedded_find(tide_report_assets, "uPlot.LICENSE");
    CHECK(lic != NULL && strstr(lic->data, "MIT License") != NULL);
}

static void test_html_data_is_escaped(const char *html, const cJSON *s)
{
    /* the error body "<script>alert(1)</script>" only appears \u-escaped */
    CHECK(strstr(html, "alert(1)") != NULL);
    CHECK(strstr(html, "<script>alert") == NULL);
    CHECK(strstr(html, "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e") != NULL);
    CHECK(strstr(html, "<b>no</b>") == NULL);
    char *data = script_text(html, 0);
    CHECK(data != NULL && strchr(data, '<') == NULL && strchr(data, '>') == NULL);
    /* it is still the summary: same numbers, histograms left out */
    cJSON *back = data ? cJSON_Parse(data) : NULL;
    CHECK(back != NULL);
    CHECK(tide_rj_num(tide_rj_object(back, "aggregated"), "requests", -1) ==
          tide_rj_num(tide_rj_object(s, "aggregated"), "requests", -2));
    CHECK(cJSON_GetArraySize(tide_rj_array(back, "history")) ==
          cJSON_GetArraySize(tide_rj_array(s, "history")));
    int found = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, tide_rj_array(back, "errors"))
    {
        found += strcmp(tide_rj_str(e, "error", ""), "HTTP 500: <script>alert(1)</script>") == 0;
    }
    CHECK(found == 1);
    CHECK(strstr(data ? data : "", "\"buckets\"") == NULL);
    /* the status-code breakdown adds up to the requests; the search endpoint's 17 HTTP 500s */
    double sum = 0, search500 = 0;
    cJSON_ArrayForEach(e, tide_rj_array(back, "status_codes"))
    {
        sum += tide_rj_num(e, "count", 0);
        if (strcmp(tide_rj_str(e, "name", ""), "/api/search?q={term}") == 0 &&
            strcmp(tide_rj_str(e, "status", ""), "500") == 0)
            search500 += tide_rj_num(e, "count", 0);
    }
    CHECK(sum == tide_rj_num(tide_rj_object(s, "aggregated"), "requests", -1));
    CHECK(search500 == 17);
    CHECK(cJSON_GetObjectItem(back, "options") == NULL);
    cJSON_Delete(back);
    free(data);
}

static void test_html_header_is_escaped(const char *dir)
{
    cJSON *s = cJSON_Parse("{\"schema\":\"tide.summary/1\",\"run\":{\"status\":\"passed\\\" "
                           "onmouseover=\\\"alert(2)\",\"host\":\"http://h/?a=1&b=<i>\"}}");
    cJSON *run = cJSON_GetObjectItem(s, "run");
    cJSON_AddStringToObject(run, "id", "run <img src=x onerror=alert(1)> \xFF");
    char path[512];
    char *html = render(s, fx_path(path, sizeof path, dir, "hostile.html"));
    CHECK(html != NULL);
    if (html == NULL)
        return;
    CHECK(strstr(html, "<h1>run &lt;img src=x onerror=alert(1)&gt; \xEF\xBF\xBD</h1>") != NULL);
    CHECK(strstr(html, "<img") == NULL);
    CHECK(strstr(html, "http://h/?a=1&amp;b=&lt;i&gt;") != NULL);
    /* an unknown status cannot reach the class attribute */
    CHECK(strstr(html, "class=\"verdict verdict-unknown\" role=\"status\">Unknown<") != NULL);
    CHECK(strstr(html, "onmouseover=\"") == NULL);
    check_no_external_urls(html);
    free(html);
    cJSON_Delete(s);
}

static void test_html_verdicts(const char *dir)
{
    const char *st[] = {"passed", "failed", "aborted", "interrupted", "error"};
    const char *vd[] = {"Passed", "Failed", "Aborted", "Interrupted", "Error"};
    for (int i = 0; i < 5; i++) {
        char json[200], path[512], want[120];
        snprintf(json, sizeof json, "{\"schema\":\"tide.summary/1\",\"run\":{\"status\":\"%s\"}}",
                 st[i]);
        cJSON *s = cJSON_Parse(json);
        char *html = render(s, fx_path(path, sizeof path, dir, "verdict.html"));
        snprintf(want, sizeof want, "class=\"verdict verdict-%s\" role=\"status\">%s<", st[i],
                 vd[i]);
        CHECK(html != NULL && strstr(html, want) != NULL);
        free(html);
        cJSON_Delete(s);
    }
}

static void test_html_is_deterministic(const cJSON *s, const char *dir, const char *first)
{
    char path[512];
    char *again = render(s, fx_path(path, sizeof path, dir, "again.html"));
    CHECK(again != NULL && first != NULL && strcmp(first, again) == 0);
    free(again);
}

int main(void)
{
    char dir[512], path[512];
    if (fx_tmpdir(dir, sizeof dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    cJSON *s = fixture_summary(1.0);
    char *html = render(s, fx_path(path, sizeof path, dir, "report.html"));
    CHECK(html != NULL);
    if (html != NULL) {
        test_html_is_self_contained(html);
        test_html_data_is_escaped(html, s);
        test_html_is_deterministic(s, dir, html);
        CHECK(strstr(html, "<!-- uPlot (embedded below) is under this licence:") != NULL);
        CHECK(strstr(html, "Permission is hereby granted") != NULL);
    }
    test_assets_cannot_close_their_script();
    test_html_header_is_escaped(dir);
    test_html_verdicts(dir);
    free(html);
    cJSON_Delete(s);
    fx_rmdir(dir);
    return CHECK_DONE();
}
