/* lua_cookies.c: http.cookie_jar() and res.cookies (lua_cookies.h). The jar object holds
 * nothing: its methods act on the jar of the VU that calls them, so a jar kept in a shared
 * table never reaches another VU's cookies. Times are wall-clock seconds. */
#include "lua_cookies.h"
#include <lauxlib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "config.h"
#include "cookiejar.h"
#include "transport.h"
#include "vu.h"

#define JAR_META "tide.cookiejar"

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static struct tide_cookiejar *jar_of(lua_State *L)
{
    luaL_checkudata(L, 1, JAR_META);
    struct tide_vu *vu = tide_vu_of(L);
    struct tide_cookiejar *j = tide_session_cookies(tide_vu_share(vu));
    if (j == NULL)
        luaL_error(L, "tide.http: cookie jar: out of memory");
    return j;
}

/* The URL argument at 'idx', absolute: a relative one is joined to --host as requests do.
 * Pushes the result and returns it. */
static const char *url_arg(lua_State *L, int idx)
{
    const char *url = luaL_checkstring(L, idx);
    const char *colon = strstr(url, "://");
    if (colon != NULL && (size_t)(colon - url) < strcspn(url, "/?#")) {
        lua_pushstring(L, url);
        return lua_tostring(L, -1);
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.config");
    const struct tide_config *cfg = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (cfg == NULL || cfg->host == NULL || cfg->host[0] == '\0')
        luaL_error(L, "tide.http: relative URL \"%s\" needs a host (--host or options.host)", url);
    lua_pushfstring(L, "%s%s%s", cfg->host, url[0] == '/' ? "" : "/", url);
    return lua_tostring(L, -1);
}

static void add_name_value(const struct tide_cookie *c, void *ud)
{
    lua_State *L = ud;
    if (lua_getfield(L, -1, c->name) == LUA_TNIL) { /* the first, most specific, wins */
        lua_pushstring(L, c->value);
        lua_setfield(L, -3, c->name);
    }
    lua_pop(L, 1);
}

/* jar:cookies_for_url(url) -> {name = value} of what a request to url sends */
static int jar_cookies_for_url(lua_State *L)
{
    lua_settop(L, 2);
    struct tide_cookiejar *j = jar_of(L);
    const char *url = url_arg(L, 2);
    lua_newtable(L);
    tide_cookiejar_each(j, url, now_s(), add_name_value, L);
    return 1;
}

static bool opt_bool(lua_State *L, int opts, const char *k)
{
    lua_getfield(L, opts, k);
    bool v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* opts.k as a string kept on the stack (NULL when absent) */
static const char *opt_string(lua_State *L, int opts, const char *k)
{
    int t = lua_getfield(L, opts, k);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return NULL;
    }
    if (t != LUA_TSTRING)
        luaL_error(L, "tide.http: cookie_jar:set: %s must be a string", k);
    return lua_tostring(L, -1); /* left on the stack: the pointer stays valid */
}

static void read_set_options(lua_State *L, int opts, struct tide_cookie_attrs *a)
{
    if (lua_isnoneornil(L, opts))
        return;
    luaL_checktype(L, opts, LUA_TTABLE);
    a->domain = opt_string(L, opts, "domain");
    a->path = opt_string(L, opts, "path");
    int t = lua_getfield(L, opts, "expires");
    if (t == LUA_TNUMBER) {
        a->expires = (int64_t)lua_tonumber(L, -1);
        if (a->expires == 0)
            a->expires = -1; /* 0 means none in the attrs: the epoch is long past */
    } else if (t == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        if (!tide_cookie_parse_date(s, n, &a->expires))
            luaL_error(L, "tide.http: cookie_jar:set: expires \"%s\" is not a date", s);
    } else if (t != LUA_TNIL) {
        luaL_error(L, "tide.http: cookie_jar:set: expires must be a date or epoch seconds");
    }
    lua_pop(L, 1);
    t = lua_getfield(L, opts, "max_age");
    if (t == LUA_TNUMBER) {
        a->has_max_age = true;
        a->max_age = (int64_t)lua_tonumber(L, -1);
    } else if (t != LUA_TNIL) {
        luaL_error(L, "tide.http: cookie_jar:set: max_age must be a number of seconds");
    }
    lua_pop(L, 1);
    a->secure = opt_bool(L, opts, "secure");
    a->http_only = opt_bool(L, opts, "http_only");
    const char *ss = opt_string(L, opts, "samesite");
    if (ss != NULL)
        a->samesite = strcasecmp(ss, "strict") == 0 ? TIDE_SAMESITE_STRICT
                      : strcasecmp(ss, "lax") == 0  ? TIDE_SAMESITE_LAX
                      : strcasecmp(ss, "none") == 0 ? TIDE_SAMESITE_NONE
                                                    : TIDE_SAMESITE_UNSET;
}

/* jar:set(url, name, value [, {domain=, path=, expires=, max_age=, secure=, http_only=,
 * samesite=}]) -> true when stored, false when the cookie rules refuse it for url */
static int jar_set(lua_State *L)
{
    lua_settop(L, 5); /* what is pushed below stays above the arguments */
    struct tide_cookiejar *j = jar_of(L);
    const char *name = luaL_checkstring(L, 3);
    const char *value = luaL_checkstring(L, 4);
    const char *url = url_arg(L, 2);
    struct tide_cookie_attrs a = {0};
    read_set_options(L, 5, &a);
    int r = tide_cookiejar_set(j, url, name, value, &a, now_s());
    if (r == -2)
        return luaL_error(L,
                          "tide.http: cookie_jar:set: \"%s\" with its value cannot be a "
                          "cookie (a name is a token; no ';' nor control characters)",
                          name);
    if (r < 0)
        return luaL_error(L, "tide.http: cookie jar: out of memory");
    lua_pushboolean(L, r == 1);
    return 1;
}

/* jar:delete(url, name) -> how many were removed */
static int jar_delete(lua_State *L)
{
    lua_settop(L, 3);
    struct tide_cookiejar *j = jar_of(L);
    const char *name = luaL_checkstring(L, 3);
    const char *url = url_arg(L, 2);
    lua_pushinteger(L, tide_cookiejar_delete(j, url, name, now_s()));
    return 1;
}

/* jar:clear([url]) -> how many were removed (every cookie without url) */
static int jar_clear(lua_State *L)
{
    lua_settop(L, 2);
    struct tide_cookiejar *j = jar_of(L);
    const char *url = lua_isnoneornil(L, 2) ? NULL : url_arg(L, 2);
    lua_pushinteger(L, tide_cookiejar_delete(j, url, NULL, now_s()));
    return 1;
}

int tide_lua_cookie_jar(lua_State *L)
{
    tide_vu_of(L); /* a VU's own: not at load time */
    lua_newuserdatauv(L, 0, 0);
    luaL_setmetatable(L, JAR_META);
    return 1;
}

static const luaL_Reg jar_methods[] = {
    {"cookies_for_url", jar_cookies_for_url},
    {"set", jar_set},
    {"delete", jar_delete},
    {"clear", jar_clear},
    {NULL, NULL},
};

void tide_lua_cookies_open(lua_State *L)
{
    luaL_newmetatable(L, JAR_META);
    luaL_newlib(L, jar_methods);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "tide.cookiejar");
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
}

static const char *const samesite_names[] = {NULL, "Strict", "Lax", "None"};

static void set_string(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, bool v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

void tide_lua_push_set_cookies(lua_State *L, const char *raw, size_t n, const char *url)
{
    lua_newtable(L);
    const char *p = raw, *end = raw + n;
    int64_t now = now_s();
    while (p != NULL && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *stop = eol != NULL ? eol : end;
        if (stop - p > 11 && strncasecmp(p, "set-cookie:", 11) == 0) {
            const char *v = p + 11;
            while (v < stop && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = stop > v && stop[-1] == '\r' ? stop - 1 : stop;
            struct tide_cookie *c = tide_cookie_parse(url, v, (size_t)(ve - v), now);
            if (c != NULL) {
                lua_createtable(L, 0, 8);
                set_string(L, "value", c->value);
                set_string(L, "domain", c->domain);
                set_string(L, "path", c->path);
                if (c->expires != TIDE_COOKIE_SESSION) {
                    lua_pushinteger(L, c->expires > now ? c->expires : 0);
                    lua_setfield(L, -2, "expires");
                }
                set_bool(L, "secure", c->secure);
                set_bool(L, "http_only", c->http_only);
                set_bool(L, "host_only", c->host_only);
                if (c->samesite != TIDE_SAMESITE_UNSET)
                    set_string(L, "samesite", samesite_names[c->samesite]);
                lua_setfield(L, -2, c->name);
                free(c);
            }
        }
        p = eol != NULL ? eol + 1 : NULL;
    }
}
