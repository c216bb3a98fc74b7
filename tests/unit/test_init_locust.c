/* Unit tests of `tide init --from-locust`'s translator (engine/run/init_locust.c and
 * init_pyexpr.c): expressions, statements, classes, and what it must do with hostile input
 * (bounded, never an unloadable chunk, nothing dropped silently). */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>
#include "../check.h"
#include "init_locust.h"
#include "init_pyexpr.h"

static void expr_is(const char *py, const char *want)
{
    static const char *const methods[] = {"helper", NULL};
    static const char *const functions[] = {"login", NULL};
    struct tide_pyctx ctx = {
        .self_name = "self", .prefix = "U_", .methods = methods, .functions = functions};
    struct tide_buf out = {0};
    int rc = tide_py_expr(&ctx, py, strlen(py), &out);
    if (want == NULL) {
        CHECK(rc == -1);
        CHECK(out.len == 0);
    } else {
        CHECK(rc == 0);
        CHECK_STR(out.data ? out.data : "", want);
    }
    tide_buf_free(&out);
}

static bool compiles(const char *lua)
{
    lua_State *L = luaL_newstate();
    bool ok = luaL_loadbufferx(L, lua, strlen(lua), "=t", "t") == LUA_OK;
    if (!ok)
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
    lua_close(L);
    return ok;
}

static const char *translate(const char *py, struct tide_locust_result *r)
{
    struct tide_err err;
    CHECK(tide_locust_translate(py, strlen(py), "t.lua", NULL, r, &err) == 0);
    CHECK(r->lua != NULL && compiles(r->lua));
    return r->lua ? r->lua : "";
}

static void expressions(void)
{
    expr_is("self.client.get(\"/x\", name=\"n\")", "http.get(\"/x\", { name = \"n\" })");
    expr_is("self.client.post('/p', json={'a': 1, 'end': [1, 2]}, headers=self.h)",
            "http.post(\"/p\", { json = { a = 1, [\"end\"] = { 1, 2 } }, headers = h })");
    expr_is("self.client.put('/p', data={'a': 'b'})", "http.put(\"/p\", { form = { a = \"b\" } })");
    expr_is("self.client.patch('/p', 'raw')", "http.patch(\"/p\", { body = \"raw\" })");
    expr_is("self.client.get('/p', params={'q': x}, allow_redirects=False)",
            "http.get(\"/p\", { query = { q = x }, redirects = 0 })");
    expr_is("self.client.get('/p', cookies={'a': 'b'})", NULL); /* not translated */
    expr_is("self.client.request('GET', '/p')", "http.request(\"GET\", \"/p\", {})");
    expr_is("r.json()['token']", "r:json()[\"token\"]");
    expr_is("r.status_code != 200 and 'x' in r.text",
            "(r.status ~= 200) and (string.find(r.body, \"x\", 1, true) ~= nil)");
    expr_is("'items' not in r.json()", "(r:json()[\"items\"] == nil)");
    expr_is("f'/api/{pid}/x{{y}}'", "(\"/api/\" .. tostring(pid) .. \"/x{y}\")");
    expr_is("f'{x:.2f}'", NULL);
    expr_is("\"Bearer \" + token", "\"Bearer \" .. token");
    expr_is("a + b", "a + b");
    expr_is("xs[0]", "xs[1]");
    expr_is("xs[i]", NULL); /* a key or a position: not guessed */
    expr_is("random.choice(self.ids)", "choice(ids)");
    expr_is("random.randint(1, 10)", "math.random(1, 10)");
    expr_is("os.environ['TOKEN']", "tide.env(\"TOKEN\")");
    expr_is("os.environ.get('TOKEN', 'x')", "tide.env(\"TOKEN\", \"x\")");
    expr_is("self.helper(1)", "U_helper(1)");
    expr_is("self.unknown(1)", NULL);
    expr_is("login(self)", "login()");
    expr_is("sorted(xs)", NULL); /* a builtin without a mapping */
    expr_is("x if y else z", NULL);
    expr_is("[x for x in y]", NULL);
    expr_is("lambda: 1", NULL);
    expr_is("None is None", "nil == nil");
    expr_is("2 ** 3", "2 ^ 3");
    expr_is("'a\\n\"b'", "\"a\\n\\\"b\"");
    expr_is("'end'", "\"end\"");
    expr_is("end", "end_"); /* a Lua keyword as a Python name */
    expr_is("run", "run_"); /* and tide's own globals */
    expr_is("\"abc", NULL); /* unterminated */
    expr_is("a $ b", NULL);
    char deep[400];
    memset(deep, '(', 200);
    deep[200] = '1';
    memset(deep + 201, ')', 198);
    deep[399] = '\0';
    expr_is(deep, NULL); /* nesting past the bound: refused, not a stack overflow */
}

static void classes(void)
{
    struct tide_locust_result r;
    const char *lua = translate("from locust import HttpUser, task, between\n"
                                "class U(HttpUser):\n"
                                "    host = 'http://127.0.0.1:5000'\n"
                                "    wait_time = between(1, 2)\n"
                                "    def on_start(self):\n"
                                "        self.n = 0\n"
                                "    @task(3)\n"
                                "    def a(self): self.client.get('/a')\n"
                                "    @task\n"
                                "    def b(self):\n"
                                "        self.n += 1\n"
                                "        assert self.n > 0, 'positive'\n"
                                "        with self.client.get('/b', catch_response=True) as r:\n"
                                "            if r.status_code != 200:\n"
                                "                r.failure('bad status')\n"
                                "        try:\n"
                                "            x = 1\n"
                                "        except ValueError:\n"
                                "            pass\n",
                                &r);
    CHECK(strstr(lua, "host = \"http://127.0.0.1:5000\"") != NULL);
    CHECK(strstr(lua, "{ 3, U_a }") != NULL && strstr(lua, "{ 1, U_b }") != NULL);
    CHECK(strstr(lua, "tide.think(1, 2)") != NULL);
    CHECK(strstr(lua, "function vu_setup() U_on_start() end") != NULL);
    CHECK(strstr(lua, "function U_a()\n  http.get(\"/a\", {})\nend") != NULL); /* a one-liner */
    CHECK(strstr(lua, "n = n + (1)") != NULL);
    CHECK(strstr(lua, "tide.check(nil, { [\"positive\"] = n > 0 })") != NULL);
    CHECK(strstr(lua, "tide.check(r, { [\"bad status\"] = not (r.status ~= 200) })") != NULL);
    CHECK(strstr(lua, "-- TODO(locust): try:") != NULL);
    CHECK(strstr(lua, "-- TODO(locust): except ValueError:") != NULL);
    CHECK(strstr(lua, "-- TODO(locust): pass") != NULL); /* inside except: kept, not dropped */
    CHECK(strstr(lua, "  local x\n") != NULL);           /* a Python local is a Lua local */
    CHECK(r.users == 1 && r.tasks == 2 && r.todos == 3);
    tide_locust_result_free(&r);

    /* several classes: weights and fixed_count become scenarios */
    lua = translate("class A(HttpUser):\n    weight = 3\n    @task\n    def t(self): pass\n"
                    "class B(HttpUser):\n    fixed_count = 2\n    @task\n    def t(self): pass\n"
                    "class C(HttpUser):\n    abstract = True\n",
                    &r);
    CHECK(strstr(lua, "A = { executor = \"constant-vus\", exec = \"run_A\", vus = share(3)") !=
          NULL);
    CHECK(strstr(lua, "B = { executor = \"constant-vus\", exec = \"run_B\", vus = 2,") != NULL);
    CHECK(strstr(lua, "run_C") == NULL); /* abstract: no scenario */
    CHECK(strstr(lua, "(USERS - 2) * weight / 3") != NULL);
    CHECK(r.users == 2);
    tide_locust_result_free(&r);

    /* an unknown base class, code at the top level: TODO, never dropped */
    lua = translate("class Db(Base):\n    x = 1\nfor i in range(3):\n    print(i)\n", &r);
    CHECK(strstr(lua, "-- TODO(locust): class Db(Base):") != NULL);
    CHECK(strstr(lua, "-- TODO(locust): x = 1") != NULL);
    CHECK(strstr(lua, "-- TODO(locust): print(i)") != NULL);
    CHECK(strstr(lua, "-- TODO(locust): no HttpUser class found") != NULL);
    tide_locust_result_free(&r);
}

static void hostile(void)
{
    struct tide_locust_result r;
    /* control characters in comments and TODO lines cannot end the comment */
    const char *lua = translate("# a\rcomment\x01\nclass A(HttpUser):\n    x = y z\r\n"
                                "    @task\n    def t(self): self.client.get('/\\x01')\n",
                                &r);
    for (const char *p = lua; *p; p++)
        CHECK(!((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t'));
    CHECK(strstr(lua, "-- TODO(locust): x = y z") != NULL);
    CHECK(strstr(lua, "http.get(\"/\\001\", {})") != NULL);
    tide_locust_result_free(&r);

    struct tide_err err;
    CHECK(tide_locust_translate("a\0b", 3, "t.lua", NULL, &r, &err) == -1);
    CHECK(strstr(err.msg, "not text") != NULL);
    size_t big = TIDE_LOCUST_MAX_BYTES + 1;
    char *s = malloc(big);
    memset(s, '\n', big);
    CHECK(tide_locust_translate(s, big, "t.lua", NULL, &r, &err) == -1);
    CHECK(strstr(err.msg, "larger than") != NULL);
    /* the largest input: many one-liners, deep brackets, unterminated strings */
    size_t n = 0;
    while (n + 40 < TIDE_LOCUST_MAX_BYTES) {
        static const char *const lines[] = {"if x: self.client.get('/a')",
                                            "((((((((((((((((((((((((((((((",
                                            "'unterminated string  \\"};
        char chunk[41];
        snprintf(chunk, sizeof chunk, "%-39s\n", lines[(n / 40) % 3]);
        memcpy(s + n, chunk, 40);
        n += 40;
    }
    CHECK(tide_locust_translate(s, n, "t.lua", NULL, &r, &err) == 0);
    CHECK(r.lua != NULL && compiles(r.lua));
    tide_locust_result_free(&r);
    free(s);
    /* deep class and block nesting is bounded */
    struct tide_buf deep = {0};
    tide_buf_puts(&deep, "class A(HttpUser):\n    @task\n    def t(self):\n");
    for (int i = 0; i < 60; i++) {
        for (int k = 0; k < i + 2; k++)
            tide_buf_puts(&deep, "    ");
        tide_buf_puts(&deep, "if x:\n");
    }
    for (int k = 0; k < 63; k++)
        tide_buf_puts(&deep, "    ");
    tide_buf_puts(&deep, "self.client.get('/deep')\n");
    lua = translate(deep.data, &r);
    CHECK(strstr(lua, "-- TODO(locust): self.client.get('/deep')") != NULL);
    tide_locust_result_free(&r);
    tide_buf_free(&deep);
}

int main(void)
{
    expressions();
    classes();
    hostile();
    return CHECK_DONE();
}
