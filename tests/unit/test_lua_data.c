/* Unit tests of tide.data: CSV quoting, JSON, read-only proxies, caching, the path sandbox. */
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lualib.h>
#include "../check.h"
#include "config.h"
#include "lua_data.h"
#include "lua_json.h"

static char dir[256];  /* a fresh temporary folder */
static char scen[300]; /* dir/scen: the scenario folder */

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    fputs(text, f);
    fclose(f);
}

static lua_State *new_state(const char *base, const char *root)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    luaL_requiref(L, "tide.json", luaopen_tide_json, 0);
    luaL_requiref(L, "tide.data", luaopen_tide_data, 0);
    lua_pop(L, 2);
    tide_data_set_root(L, base, root);
    lua_pushstring(L, dir);
    lua_setglobal(L, "DIR");
    return L;
}

static bool run_at(lua_State *L, const char *code, const char *file, int line)
{
    check_count++;
    if (luaL_loadstring(L, code) == LUA_OK && lua_pcall(L, 0, 0, 0) == LUA_OK)
        return true;
    check_failures++;
    fprintf(stderr, "%s:%d: lua: %s\n", file, line, lua_tostring(L, -1));
    lua_pop(L, 1);
    return false;
}

#define RUN(L, code) run_at(L, code, __FILE__, __LINE__)

/* Lua helper: fails(f, ..., msg) asserts f(...) raises an error ending with msg. */
#define PRELUDE                                                                                    \
    "local data = require 'tide.data'\n"                                                           \
    "local json = require 'tide.json'\n"                                                           \
    "local function fails(msg, f, ...)\n"                                                          \
    "  local ok, err = pcall(f, ...)\n"                                                            \
    "  assert(not ok, 'no error, expected: ' .. msg)\n"                                            \
    "  assert(err:sub(-#msg) == msg, err)\n"                                                       \
    "end\n"

static void test_data_csv_quoting(void)
{
    write_file("scen/users.csv", "\xEF\xBB\xBFname,quote,n\r\n"
                                 "alice,\"hello, world\",1\r\n"
                                 "bob,\"she said \"\"hi\"\"\",2\r\n"
                                 "\"carol\",\"multi\r\nline\",3\r\n"
                                 "\r\n"
                                 "dave,,4\r\n"
                                 "\"\",\"\",5");
    write_file("scen/semi.csv", "a;b\n1;2\n\"x;y\";\"\"\"\"\n");
    write_file("scen/tab.csv", "k\tv\nx\ty\n");
    write_file("scen/lf.csv", "id\n1\n2\n\n3\n\n");
    write_file("scen/empty.csv", "");
    lua_State *L = new_state(scen, scen);
    RUN(L, PRELUDE
        "local rows = data.csv('users.csv')\n"
        "assert(#rows == 5, #rows)\n"
        "assert(rows[1].name == 'alice' and rows[1].quote == 'hello, world')\n"
        "assert(rows[1].n == '1' and type(rows[1].n) == 'string')\n"
        "assert(rows[2].quote == 'she said \"hi\"')\n"
        "assert(rows[3].name == 'carol' and rows[3].quote == 'multi\\r\\nline')\n"
        "assert(rows[4].name == 'dave' and rows[4].quote == '' and rows[4].n == '4')\n"
        "assert(rows[5].name == '' and rows[5].n == '5')\n"
        "assert(rows[6] == nil and rows[1].missing == nil)\n"
        "local semi = data.csv('semi.csv', {header = false, separator = ';'})\n"
        "assert(#semi == 3 and #semi[1] == 2 and semi[1][1] == 'a' and semi[2][2] == '2')\n"
        "assert(semi[3][1] == 'x;y' and semi[3][2] == '\"')\n"
        "local tab = data.csv('tab.csv', {separator = '\\t'})\n"
        "assert(#tab == 1 and tab[1].k == 'x' and tab[1].v == 'y')\n"
        "local lf = data.csv('lf.csv')\n"
        "assert(#lf == 3 and lf[3].id == '3')\n"
        "assert(#data.csv('empty.csv') == 0)\n"
        "assert(json.encode(data.csv('empty.csv')) == '[]')\n"
        "assert(json.encode(semi) == '[[\"a\",\"b\"],[\"1\",\"2\"],[\"x;y\",\"\\\\\"\"]]')\n"
        "assert(json.encode(tab) == '[{\"k\":\"x\",\"v\":\"y\"}]')\n");
    lua_close(L);
}

static void test_data_csv_rejects_malformed(void)
{
    write_file("scen/ragged.csv", "a,b\n1,2\n\n3\n");
    write_file("scen/open.csv", "a,b\n1,\"2\n3,4\n");
    write_file("scen/junk.csv", "a,b\n1,\"2\"x\n");
    write_file("scen/dup.csv", "a,b,a\n1,2,3\n");
    lua_State *L = new_state(scen, scen);
    RUN(L, PRELUDE
        "fails('tide.data: \"ragged.csv\" line 4: 1 fields, expected 2', data.csv, 'ragged.csv')\n"
        "fails('tide.data: \"open.csv\" line 2: unterminated quoted field', data.csv,\n"
        "  'open.csv')\n"
        "fails('tide.data: \"junk.csv\" line 2: unexpected \\'x\\' after a closing quote',\n"
        "  data.csv, 'junk.csv')\n"
        "fails('tide.data: \"dup.csv\" line 1: duplicate column \"a\"', data.csv, 'dup.csv')\n"
        "fails('tide.data.csv: unknown option \\'seperator\\' (use header, separator or '\n"
        "  .. 'partition)',\n"
        "  data.csv, 'dup.csv', {seperator = ';'})\n"
        "fails('tide.data.csv: separator must be one character other than a quote or a line '\n"
        "  .. 'break', data.csv, 'dup.csv', {separator = ';;'})\n"
        "fails('tide.data.csv: option \\'header\\' must be a boolean', data.csv, 'dup.csv',\n"
        "  {header = 'yes'})\n"
        "fails('tide.data.csv: options are named (use header or separator)', data.csv,\n"
        "  'dup.csv', {';'})\n"
        "assert(not pcall(data.csv))\n"
        "assert(not pcall(data.csv, 'dup.csv', 5))\n");
    lua_close(L);
}

/* partition = "segment": each segment of a split test (config's segment) gets its own
 * contiguous slice; the slices of 10 rows over 3 segments are 1-4, 5-7, 8-10; a whole test
 * gets every row; a bad partition value or a non-list is refused. */
static void test_data_partition(void)
{
    write_file("scen/ten.csv", "id\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n");
    write_file("scen/list.json", "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]");
    write_file("scen/obj.json", "{\"a\": 1}");
    static const char *const want[] = {"1,2,3,4", "5,6,7", "8,9,10"};
    for (int seg = 0; seg < 3; seg++) {
        struct tide_config cfg = {0};
        cfg.segment_index = seg;
        cfg.segment_count = 3;
        lua_State *L = new_state(scen, scen);
        lua_pushlightuserdata(L, &cfg);
        lua_setfield(L, LUA_REGISTRYINDEX, "tide.config");
        char code[1200];
        snprintf(code, sizeof code,
                 PRELUDE "local rows = data.csv('ten.csv', {partition = 'segment'})\n"
                         "local ids = {}\n"
                         "for i = 1, #rows do ids[i] = rows[i].id end\n"
                         "assert(table.concat(ids, ',') == '%s', table.concat(ids, ','))\n"
                         "assert(#data.csv('ten.csv') == 10)\n"
                         "local l = data.json('list.json', {partition = 'segment'})\n"
                         "local v = {}\n"
                         "for i = 1, #l do v[i] = tostring(math.tointeger(l[i])) end\n"
                         "assert(table.concat(v, ',') == '%s', table.concat(v, ','))\n"
                         "assert(not pcall(function() rows[1] = 1 end))\n"
                         "fails('tide.data.csv: partition must be \"segment\"', data.csv, "
                         "'ten.csv', {partition = 'rows'})\n"
                         "fails('partition = \"segment\" needs a list', data.json, 'obj.json', "
                         "{partition = 'segment'})\n",
                 want[seg], want[seg]);
        RUN(L, code);
        lua_close(L);
    }
    lua_State *L = new_state(scen, scen); /* no segment: the whole list */
    RUN(L, PRELUDE "assert(#data.csv('ten.csv', {partition = 'segment'}) == 10)\n");
    lua_close(L);
}

static void test_data_is_read_only(void)
{
    write_file("scen/ro.csv", "id,name\n1,a\n2,b\n");
    write_file("scen/ro.json", "{\"users\":[{\"id\":1,\"name\":\"a\"},{\"id\":2}],\"n\":null,"
                               "\"empty\":[],\"num\":1.5,\"s\":\"x\"}");
    lua_State *L = new_state(scen, scen);
    RUN(L, PRELUDE
        "local rows = data.csv('ro.csv')\n"
        "local msg = 'tide.data: data loaded from \"ro.csv\" is read-only'\n"
        "fails(msg, function() rows[1] = {} end)\n"
        "fails(msg, function() rows[3] = {} end)\n"
        "fails(msg, function() rows[1].name = 'x' end)\n"
        "fails(msg, function() rows[1].new = 'x' end)\n"
        "fails(msg, table.insert, rows, {})\n"
        "fails(msg, table.sort, rows, function(a, b) return a.id > b.id end)\n"
        "assert(rows[1].name == 'a' and #rows == 2)\n"
        "assert(getmetatable(rows) == 'tide.data')\n"
        "assert(not pcall(setmetatable, rows, nil))\n"
        "assert(tostring(rows):find('^tide.data: '))\n"
        "local ok, err = pcall(function() rows[1] = 1 end)\n"
        "assert(err:find('^%[string \"local data'), err) -- blames the assignment's line\n"
        "local d = data.json('ro.json')\n"
        "local jmsg = 'tide.data: data loaded from \"ro.json\" is read-only'\n"
        "fails(jmsg, function() d.users[1].id = 5 end)\n"
        "fails(jmsg, function() d.users[3] = {} end)\n"
        "fails(jmsg, function() d.x = 1 end)\n"
        "assert(d.users[1].id == 1 and math.type(d.users[1].id) == 'integer')\n"
        "assert(d.users[2].name == nil and d.n == json.null and d.num == 1.5 and d.s == 'x')\n"
        "assert(#d.users == 2 and #d.empty == 0)\n"
        "assert(json.encode(d) ==\n"
        "  "
        "'{\"empty\":[],\"n\":null,\"num\":1.5,\"s\":\"x\",\"users\":[{\"id\":1,\"name\":\"a\"},'\n"
        "  .. '{\"id\":2}]}', json.encode(d))\n");
    lua_close(L);
}

static void test_data_iterates(void)
{
    write_file("scen/it.csv", "id,name\n1,a\n2,b\n3,c\n");
    write_file("scen/it.json", "{\"a\":1,\"b\":[10,20,null,40],\"c\":{\"d\":true}}");
    lua_State *L = new_state(scen, scen);
    RUN(L,
        PRELUDE "local rows = data.csv('it.csv')\n"
                "local n, ids = 0, ''\n"
                "for i, row in ipairs(rows) do n = n + 1; ids = ids .. row.id; assert(i == n) end\n"
                "assert(n == 3 and ids == '123')\n"
                "local seen = 0\n"
                "for i, row in pairs(rows) do seen = seen + 1; assert(rows[i] == row) end\n"
                "assert(seen == 3)\n"
                "local keys = {}\n"
                "for k, v in pairs(rows[2]) do keys[#keys + 1] = k .. '=' .. v end\n"
                "table.sort(keys)\n"
                "assert(table.concat(keys, ',') == 'id=2,name=b')\n"
                "assert(select('#', table.unpack(rows)) == 3)\n"
                "local d = data.json('it.json')\n"
                "assert(#d.b == 4 and d.b[3] == json.null)\n"
                "local sum = 0\n"
                "for _, v in ipairs(d.b) do if v ~= json.null then sum = sum + v end end\n"
                "assert(sum == 70)\n"
                "local count = 0\n"
                "for k, v in pairs(d) do count = count + 1 end\n"
                "assert(count == 3 and d.c.d == true)\n"
                "assert(next({}) == nil)\n");
    lua_close(L);
}

static void test_data_is_loaded_once(void)
{
    write_file("scen/once.csv", "id\n1\n");
    write_file("scen/once.json", "[1,2]");
    write_file("scen/scalar.json", "  42 ");
    lua_State *L = new_state(scen, scen);
    RUN(L, PRELUDE "local a = data.csv('once.csv')\n"
                   "assert(rawequal(a, data.csv('once.csv')))\n"
                   "assert(rawequal(a, data.csv('./once.csv')))\n"
                   "assert(rawequal(a, data.csv(DIR .. '/scen/once.csv')))\n"
                   "assert(rawequal(a, data.csv('once.csv', {header = true, separator = ','})))\n"
                   "local b = data.csv('once.csv', {header = false})\n"
                   "assert(not rawequal(a, b) and b[1][1] == 'id')\n"
                   "assert(rawequal(a[1], data.csv('once.csv')[1]))\n"
                   "local j = data.json('once.json')\n"
                   "assert(rawequal(j, data.json('once.json')) and j[2] == 2)\n"
                   "assert(data.json('scalar.json') == 42)\n");
    /* a change to the file after the first load is not seen: the data is loaded once */
    write_file("scen/once.csv", "id\n1\n2\n");
    RUN(L, "assert(#require('tide.data').csv('once.csv') == 1)");
    lua_close(L);
    L = new_state(scen, scen);
    RUN(L, "assert(#require('tide.data').csv('once.csv') == 2)");
    lua_close(L);
}

static void test_data_sandbox(void)
{
    char outside[512], link[512];
    write_file("outside.csv", "a\n1\n");
    write_file("scen/inside.csv", "a\n1\n");
    snprintf(outside, sizeof outside, "%s/outside.csv", dir);
    snprintf(link, sizeof link, "%s/link.csv", scen);
    CHECK(symlink(outside, link) == 0);
    lua_State *L = new_state(scen, scen);
    RUN(L, PRELUDE
        "fails('tide.data: \"../outside.csv\" is outside the scenario folder (allow with '\n"
        "  .. '--allow-read)', data.csv, '../outside.csv')\n"
        "fails('is outside the scenario folder (allow with --allow-read)', data.csv,\n"
        "  DIR .. '/outside.csv')\n"
        "fails('tide.data: \"link.csv\" is outside the scenario folder (allow with '\n"
        "  .. '--allow-read)', data.json, 'link.csv')\n"
        "fails('tide.data: \"../missing.csv\" is outside the scenario folder (allow with '\n"
        "  .. '--allow-read)', data.csv, '../missing.csv')\n"
        "fails('tide.data: \"../scen2/x.csv\" is outside the scenario folder (allow with '\n"
        "  .. '--allow-read)', data.csv, '../scen2/x.csv')\n"
        "fails('tide.data: \"/etc/passwd\" is outside the scenario folder (allow with '\n"
        "  .. '--allow-read)', data.csv, '/etc/passwd')\n"
        "fails('tide.data: cannot open \"missing.csv\" (' .. DIR .. '/scen/missing.csv): No '\n"
        "  .. 'such file or directory', data.csv, 'missing.csv')\n"
        "fails('tide.data: \".\" is not a regular file', data.csv, '.')\n"
        "assert(data.csv('inside.csv')[1].a == '1')\n"
        "assert(data.csv('../scen/inside.csv')[1].a == '1')\n");
    lua_close(L);

    /* the allowed root may be wider than the base folder (--allow-read) */
    L = new_state(scen, dir);
    RUN(L, PRELUDE "assert(data.csv('../outside.csv')[1].a == '1')\n"
                   "assert(data.csv('link.csv')[1].a == '1')\n"
                   "fails('is outside the scenario folder (allow with --allow-read)',\n"
                   "  data.csv, '/etc/passwd')\n");
    lua_close(L);

    /* no root: anything readable; no base: relative to the current directory */
    L = new_state(NULL, NULL);
    RUN(L, PRELUDE "assert(data.csv(DIR .. '/outside.csv')[1].a == '1')\n"
                   "fails('tide.data: cannot open \"no-such-file.csv\": No such file or '\n"
                   "  .. 'directory', data.csv, 'no-such-file.csv')\n");
    lua_close(L);
    unlink(link);
}

static void test_data_json_errors(void)
{
    write_file("scen/bad.json", "{\n  \"a\": 1,\n  oops\n}");
    write_file("scen/trail.json", "[1] [2]");
    lua_State *L = new_state(scen, scen);
    RUN(L, PRELUDE
        "fails('tide.data: \"bad.json\": invalid JSON at line 3, column 4', data.json,\n"
        "  'bad.json')\n"
        "fails('tide.data: \"trail.json\": invalid JSON at line 1, column 5', data.json,\n"
        "  'trail.json')\n"
        "fails('tide.data: cannot open \"nope.json\" (' .. DIR .. '/scen/nope.json): No such '\n"
        "  .. 'file or directory', data.json, 'nope.json')\n");
    lua_close(L);
}

/* An allocator that fails from the N-th call on, as lua/lua's ltests.c does. */
struct limit {
    long calls;
    long fail_at; /* 0: never */
};

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct limit *lim = ud;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (lim->fail_at > 0 && ++lim->calls >= lim->fail_at && nsize > osize)
        return NULL;
    return realloc(ptr, nsize);
}

/* Out of memory at any point of a load leaks nothing (LeakSanitizer checks) and crashes not. */
static void test_data_survives_allocation_failures(void)
{
    write_file("scen/mem.csv", "id,name\n1,\"a,b\"\n2,c\n");
    write_file("scen/mem.json", "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}");
    const char *code = "local data = require 'tide.data'\n"
                       "local rows = data.csv('mem.csv')\n"
                       "local d = data.json('mem.json')\n"
                       "assert(rows[1].name == 'a,b' and d.c == 'd')\n";
    int passed = 0;
    for (long n = 1; n < 300; n++) {
        struct limit lim = {0, 0};
        lua_State *L = lua_newstate(limited_alloc, &lim);
        luaL_openlibs(L);
        luaL_requiref(L, "tide.json", luaopen_tide_json, 0);
        luaL_requiref(L, "tide.data", luaopen_tide_data, 0);
        lua_pop(L, 2);
        tide_data_set_root(L, scen, scen);
        int rc = luaL_loadstring(L, code);
        lim.fail_at = n;
        if (rc == LUA_OK)
            rc = lua_pcall(L, 0, 0, 0);
        lim.fail_at = 0;
        passed += rc == LUA_OK;
        lua_close(L);
    }
    CHECK(passed > 0);
}

static void remove_tree(void)
{
    static const char *const files[] = {
        "scen/users.csv",   "scen/semi.csv",   "scen/tab.csv",  "scen/lf.csv",     "scen/empty.csv",
        "scen/ragged.csv",  "scen/open.csv",   "scen/junk.csv", "scen/dup.csv",    "scen/ro.csv",
        "scen/ro.json",     "scen/it.csv",     "scen/it.json",  "scen/once.csv",   "scen/once.json",
        "scen/scalar.json", "scen/inside.csv", "scen/bad.json", "scen/trail.json", "outside.csv",
        "scen/mem.csv",     "scen/mem.json",
    };
    char path[512];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(scen);
    rmdir(dir);
}

int main(void)
{
    char tmpl[] = "/tmp/tide-data-XXXXXX";
    if (mkdtemp(tmpl) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(dir, sizeof dir, "%s", tmpl);
    snprintf(scen, sizeof scen, "%s/scen", dir);
    char scen2[320];
    snprintf(scen2, sizeof scen2, "%s/scen2", dir);
    CHECK(mkdir(scen, 0700) == 0);
    CHECK(mkdir(scen2, 0700) == 0);
    test_data_csv_quoting();
    test_data_csv_rejects_malformed();
    test_data_is_read_only();
    test_data_partition();
    test_data_iterates();
    test_data_is_loaded_once();
    test_data_sandbox();
    test_data_json_errors();
    test_data_survives_allocation_failures();
    rmdir(scen2);
    remove_tree();
    return CHECK_DONE();
}
