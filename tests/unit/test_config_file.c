/* Unit tests of the config file parser (engine/base/config_file.c): the TOML subset tide.toml
 * is read in, locust.conf as Locust reads it, and one line naming the line of each error. */
#include "../check.h"
#include "config_file.h"

static int parse(const char *text, enum tide_conf_syntax syn, struct tide_conf *c,
                 struct tide_err *err)
{
    return tide_conf_parse(text, strlen(text), syn, c, err);
}

static const struct tide_conf_entry *find(const struct tide_conf *c, const char *section,
                                          const char *key)
{
    for (int i = 0; i < c->n; i++) {
        if (strcmp(c->entries[i].section, section) == 0 && strcmp(c->entries[i].key, key) == 0)
            return &c->entries[i];
    }
    return NULL;
}

static void test_toml_values(void)
{
    const char *text = "# settings\n"
                       "vus = 10          # a comment\n"
                       "duration = \"30s\"\n"
                       "rate = 1_000.5\n"
                       "neg = -3e2\n"
                       "quiet = true\n"
                       "insecure = false\n"
                       "host = 'http://x/#not-a-comment'\n"
                       "esc = \"a\\\"b\\\\c\\n\\u00e9\"\n"
                       "\n"
                       "[run]\n"
                       "threshold = [\n"
                       "  \"http_req_duration: p(95)<300\", # first\n"
                       "  'checks: rate>0.99',\n"
                       "]\n"
                       "empty = []\n"
                       "vus = 3\n";
    struct tide_conf c;
    struct tide_err err = {{0}};
    CHECK(parse(text, TIDE_CONF_TOML, &c, &err) == 0);
    if (err.msg[0])
        fprintf(stderr, "  %s\n", err.msg);
    const struct tide_conf_entry *e = find(&c, "", "vus");
    CHECK(e != NULL && e->kind == TIDE_CONF_NUMBER && e->line == 2);
    CHECK_STR(e ? e->values[0] : NULL, "10");
    e = find(&c, "", "duration");
    CHECK(e != NULL && e->kind == TIDE_CONF_STRING);
    CHECK_STR(e ? e->values[0] : NULL, "30s");
    CHECK_STR(find(&c, "", "rate") ? find(&c, "", "rate")->values[0] : NULL, "1000.5");
    CHECK_STR(find(&c, "", "neg") ? find(&c, "", "neg")->values[0] : NULL, "-3e2");
    e = find(&c, "", "quiet");
    CHECK(e != NULL && e->kind == TIDE_CONF_BOOL);
    CHECK_STR(e ? e->values[0] : NULL, "true");
    CHECK_STR(find(&c, "", "insecure") ? find(&c, "", "insecure")->values[0] : NULL, "false");
    CHECK_STR(find(&c, "", "host") ? find(&c, "", "host")->values[0] : NULL,
              "http://x/#not-a-comment");
    CHECK_STR(find(&c, "", "esc") ? find(&c, "", "esc")->values[0] : NULL, "a\"b\\c\n\xc3\xa9");
    e = find(&c, "run", "threshold");
    CHECK(e != NULL && e->kind == TIDE_CONF_ARRAY && e->nvalues == 2 && e->line == 12);
    if (e != NULL && e->nvalues == 2) {
        CHECK_STR(e->values[0], "http_req_duration: p(95)<300");
        CHECK_STR(e->values[1], "checks: rate>0.99");
    }
    e = find(&c, "run", "empty");
    CHECK(e != NULL && e->kind == TIDE_CONF_ARRAY && e->nvalues == 0);
    e = find(&c, "run", "vus"); /* the same key in another table is another key */
    CHECK(e != NULL && e->line == 17);
    tide_conf_free(&c);
    CHECK(c.n == 0 && c.entries == NULL);
    tide_conf_free(&c); /* twice is fine */
    tide_conf_free(NULL);
}

static void expect_error(const char *text, const char *msg)
{
    struct tide_conf c;
    struct tide_err err = {{0}};
    CHECK(parse(text, TIDE_CONF_TOML, &c, &err) == -1);
    CHECK(c.n == 0);
    CHECK_STR(err.msg, msg);
}

static void test_toml_errors(void)
{
    expect_error("vus = 1\nvus = 2\n", "line 2: key \"vus\" is given twice");
    expect_error("vus\n", "line 1: expected '=' after the key");
    expect_error("a.b = 1\n", "line 1: dotted keys are not supported (use a [section])");
    expect_error("x = \"open\n", "line 1: unterminated string");
    expect_error("x = \"\"\"multi\"\"\"\n",
                 "line 1: multi-line strings are not supported (tide.toml is a TOML subset)");
    expect_error("\n\nx = 1979-05-27\n",
                 "line 3: bad number (dates, hex, inf and nan are not supported)");
    expect_error("x = [1, 2]\n", "line 1: arrays hold strings only, e.g. [\"a=1\", \"b=2\"]");
    expect_error("x = [\"a\"\n", "line 2: unterminated array (a ']' is missing)");
    expect_error("x = {a = 1}\n", "line 1: expected a value: a \"string\", a number, true, false "
                                  "or [\"a\", \"b\"] (inline tables are not supported)");
    expect_error("x = 1 2\n", "line 1: unexpected text after the value (one key = value per line)");
    expect_error("[[t]]\n", "line 1: arrays of tables ([[...]]) are not supported");
    expect_error("[a.b]\n", "line 1: expected [name] (letters, digits, '_' and '-'; no dotted "
                            "names)");
    expect_error("x =\n", "line 1: a value is missing after '='");
    expect_error("x = \"\\q\"\n", "line 1: bad escape in a string (\\\" \\\\ \\n \\t \\uXXXX...)");
    expect_error("x = \"\\ud800\"\n",
                 "line 1: bad escape in a string (\\\" \\\\ \\n \\t \\uXXXX...)");
    expect_error("x = tru\n", "line 1: expected a value: a \"string\", a number, true, false or "
                              "[\"a\", \"b\"] (inline tables are not supported)");
    struct tide_conf c;
    struct tide_err err = {{0}};
    CHECK(tide_conf_parse("a = 1\nb = \"x\0y\"\n", 14, TIDE_CONF_TOML, &c, &err) == -1);
    CHECK_STR(err.msg, "line 2: NUL byte");
}

static void test_locust_conf(void)
{
    const char *text = "# master.conf\n"
                       "; another comment\n"
                       "[locust]\n"
                       "locustfile = locust_files/my_locust_file.py\n"
                       "headless\n"
                       "users: 100\n"
                       "spawn-rate = 10   # per second\n"
                       "run-time = 10m\n"
                       "host = https://target-system/#frag\n"
                       "tags = [Critical, Normal]\n"
                       "html = \"out/report.html\"\n"
                       "users = 50\n";
    struct tide_conf c;
    struct tide_err err = {{0}};
    CHECK(parse(text, TIDE_CONF_LOCUST, &c, &err) == 0);
    CHECK_STR(find(&c, "", "locustfile") ? find(&c, "", "locustfile")->values[0] : NULL,
              "locust_files/my_locust_file.py");
    CHECK_STR(find(&c, "", "headless") ? find(&c, "", "headless")->values[0] : NULL, "true");
    const struct tide_conf_entry *e = find(&c, "", "users"); /* the later line wins */
    CHECK(e != NULL && e->line == 12);
    CHECK_STR(e ? e->values[0] : NULL, "50");
    CHECK_STR(find(&c, "", "spawn-rate") ? find(&c, "", "spawn-rate")->values[0] : NULL, "10");
    CHECK_STR(find(&c, "", "host") ? find(&c, "", "host")->values[0] : NULL,
              "https://target-system/#frag");
    e = find(&c, "", "tags");
    CHECK(e != NULL && e->kind == TIDE_CONF_ARRAY && e->nvalues == 2);
    if (e != NULL && e->nvalues == 2) {
        CHECK_STR(e->values[0], "Critical");
        CHECK_STR(e->values[1], "Normal");
    }
    CHECK_STR(find(&c, "", "html") ? find(&c, "", "html")->values[0] : NULL, "out/report.html");
    CHECK(c.n == 8);
    tide_conf_free(&c);
}

int main(void)
{
    test_toml_values();
    test_toml_errors();
    test_locust_conf();
    return CHECK_DONE();
}
