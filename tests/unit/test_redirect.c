/* Unit tests of the redirect policy (engine/core/redirect.c): methods and bodies per status,
 * RFC 3986 reference resolution (its section 5.4 examples), schemes, origins. */
#include <stdlib.h>
#include <string.h>
#include "../check.h"
#include "redirect.h"
#include "transport.h"

static struct tide_buf out;

static const char *resolve(const char *base, const char *ref)
{
    out.len = 0;
    out.failed = false;
    if (!tide_url_resolve(base, ref, strlen(ref), &out))
        return "(failed)";
    return out.data;
}

static void test_rfc3986_examples(void)
{
    const char *base = "http://a/b/c/d;p?q";
    static const char *cases[][2] = {
        {"g:h", "g:h"},
        {"g", "http://a/b/c/g"},
        {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},
        {"//g", "http://g"},
        {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},
        {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"},
        {"g?y#s", "http://a/b/c/g?y#s"},
        {";x", "http://a/b/c/;x"},
        {"g;x", "http://a/b/c/g;x"},
        {"g;x?y#s", "http://a/b/c/g;x?y#s"},
        {"", "http://a/b/c/d;p?q"},
        {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},
        {"..", "http://a/b/"},
        {"../", "http://a/b/"},
        {"../g", "http://a/b/g"},
        {"../..", "http://a/"},
        {"../../", "http://a/"},
        {"../../g", "http://a/g"},
        /* abnormal examples (5.4.2) */
        {"../../../g", "http://a/g"},
        {"../../../../g", "http://a/g"},
        {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},
        {"g.", "http://a/b/c/g."},
        {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."},
        {"..g", "http://a/b/c/..g"},
        {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"},
        {"g/./h", "http://a/b/c/g/h"},
        {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
        {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"},
        {"g?y/../x", "http://a/b/c/g?y/../x"},
        {"g#s/./x", "http://a/b/c/g#s/./x"},
        {"g#s/../x", "http://a/b/c/g#s/../x"},
        {"http:g", "http:g"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_STR(resolve(base, cases[i][0]), cases[i][1]);
    /* a fragment of the base is inherited when the Location has none (RFC 9110 10.2.2) */
    CHECK_STR(resolve("http://h/p#frag", "/q"), "http://h/q#frag");
    /* spaces and non-ASCII percent-encoded; surrounding blanks trimmed */
    CHECK_STR(resolve("http://h/p", " /a b\xc3\xa9 "), "http://h/a%20b%C3%A9");
    CHECK_STR(resolve("HTTPS://h:8443", "x"), "https://h:8443/x");
    CHECK_STR(resolve("noscheme", "x"), "(failed)");
}

static void test_methods(void)
{
    struct tide_redirect r = {0};
    const char *u = "http://h/a";
    CHECK(tide_redirect_next(200, "GET", u, "/x", 2, 0, 20, &r) == TIDE_REDIRECT_NONE);
    CHECK(tide_redirect_next(304, "GET", u, "/x", 2, 0, 20, &r) == TIDE_REDIRECT_NONE);
    CHECK(tide_redirect_next(300, "GET", u, "/x", 2, 0, 20, &r) == TIDE_REDIRECT_NONE);
    CHECK(tide_redirect_next(302, "GET", u, NULL, 0, 0, 20, &r) == TIDE_REDIRECT_NONE);
    CHECK(tide_redirect_next(302, "GET", u, "  ", 2, 0, 20, &r) == TIDE_REDIRECT_NONE);
    static const struct {
        long status;
        const char *method, *next;
        bool body;
    } rules[] = {
        {301, "POST", "GET", false},     {302, "POST", "GET", false}, {303, "POST", "GET", false},
        {307, "POST", "POST", true},     {308, "POST", "POST", true}, {301, "PUT", "PUT", true},
        {302, "DELETE", "DELETE", true}, {303, "PUT", "GET", false},  {303, "HEAD", "HEAD", true},
        {303, "GET", "GET", true},       {302, "GET", "GET", true},   {308, "PATCH", "PATCH", true},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        CHECK(tide_redirect_next(rules[i].status, rules[i].method, u, "/n", 2, 0, 20, &r) ==
              TIDE_REDIRECT_FOLLOW);
        CHECK_STR(r.method, rules[i].next);
        CHECK(r.resend_body == rules[i].body);
        CHECK(r.method_changed == (strcmp(rules[i].method, rules[i].next) != 0));
        CHECK_STR(r.url.data, "http://h/n");
    }
    CHECK(tide_redirect_next(302, "GET", u, "file:///etc/passwd", 18, 0, 20, &r) ==
          TIDE_REDIRECT_BAD_SCHEME);
    CHECK(tide_redirect_next(302, "GET", u, "ftp://h/x", 9, 0, 20, &r) == TIDE_REDIRECT_BAD_SCHEME);
    CHECK(tide_redirect_next(302, "GET", u, "HTTPS://other:1/x", 17, 0, 20, &r) ==
          TIDE_REDIRECT_FOLLOW);
    CHECK_STR(r.url.data, "https://other:1/x");
    CHECK(tide_redirect_next(302, "GET", u, "http:nohost", 11, 0, 20, &r) == TIDE_REDIRECT_BAD_URL);
    CHECK(tide_redirect_next(302, "GET", u, "//other/y", 9, 0, 20, &r) == TIDE_REDIRECT_FOLLOW);
    CHECK_STR(r.url.data, "http://other/y");
    /* the cap: 'max' followed, the next is an error; max 0: a 3xx is the response */
    CHECK(tide_redirect_next(302, "GET", u, "/x", 2, 3, 3, &r) == TIDE_REDIRECT_TOO_MANY);
    CHECK(tide_redirect_next(302, "GET", u, "/x", 2, 2, 3, &r) == TIDE_REDIRECT_FOLLOW);
    CHECK(tide_redirect_next(302, "GET", u, "/x", 2, 0, 0, &r) == TIDE_REDIRECT_NONE);
    char err[256], kind[128];
    CHECK(tide_redirect_error(TIDE_REDIRECT_TOO_MANY, 3, &r, err, sizeof err, kind, sizeof kind) ==
          1400);
    CHECK_STR(err, "Maximum (3) redirects followed");
    CHECK(tide_redirect_next(302, "GET", u, "file:///etc/passwd", 18, 0, 20, &r) ==
          TIDE_REDIRECT_BAD_SCHEME);
    CHECK(tide_redirect_error(TIDE_REDIRECT_BAD_SCHEME, 3, &r, err, sizeof err, kind,
                              sizeof kind) == TIDE_HTTP_ERR_REDIRECT_SCHEME);
    CHECK(strstr(err, "file") != NULL && strstr(err, "passwd") == NULL);
    tide_buf_free(&r.url);
}

static void test_origin(void)
{
    CHECK(tide_url_same_origin("http://h/a", "http://h/b?x"));
    CHECK(tide_url_same_origin("http://h:80/a", "HTTP://H/b"));
    CHECK(tide_url_same_origin("https://h:443/a", "https://h"));
    CHECK(tide_url_same_origin("http://u:p@h/a", "http://h/b"));
    CHECK(!tide_url_same_origin("http://h/a", "https://h/a"));
    CHECK(!tide_url_same_origin("http://h:8080/a", "http://h/a"));
    CHECK(!tide_url_same_origin("http://h/a", "http://g/a"));
}

/* The Location both transports read: the first one, any case, trimmed; none: NULL. */
static void test_location(void)
{
    struct tide_buf h = {0};
    const char *raw = "HTTP/1.1 302 Found\r\nX-Location: /no\r\nLOCATION:  /next?a=1 \r\n"
                      "Location: /second\r\n\r\n";
    tide_buf_add(&h, raw, strlen(raw));
    size_t len = 0;
    const char *v = tide_redirect_location(&h, &len);
    CHECK(v != NULL && len == 9 && strncmp(v, "/next?a=1", 9) == 0);
    h.len = 0;
    tide_buf_puts(&h, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n");
    CHECK(tide_redirect_location(&h, &len) == NULL);
    tide_buf_free(&h);
}

int main(void)
{
    test_location();
    test_rfc3986_examples();
    test_methods();
    test_origin();
    tide_buf_free(&out);
    return CHECK_DONE();
}
