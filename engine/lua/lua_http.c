/* lua_http.c: the tide.http module: Lua arguments in (parsed into the transfer's spec,
 * transport.h), response tables out. The VU yields while the transport works; when the
 * transfer ends, sample.c records its samples and the VU resumes with the response. */
#include <ctype.h>
#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "duration.h"
#include "log.h"
#include "multipart.h"
#include "proxy.h"
#include "suggest.h"
#include "compress.h"
#include "connbudget.h"
#include "sample.h"
#include "lua_cookies.h"
#include "lua_http.h"
#include "lua_json.h"
#include "lua_tide.h"
#include "urlname.h"
#include "vu.h"
#include "worker.h"

#define DEFAULT_TIMEOUT_MS 60000L
#define DEFAULT_REDIRECTS  10L

static void url_encode(struct tide_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            tide_buf_append(b, &s[i], 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            tide_buf_append(b, e, 3);
        }
    }
}

/* Appends the table at idx as k=v&k=v (values: strings, numbers, booleans, or arrays). */
static void encode_pairs(lua_State *L, int idx, struct tide_buf *b)
{
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        size_t kl, vl;
        lua_pushvalue(L, -2);
        const char *k = luaL_tolstring(L, -1, &kl); /* key, value, key, kstr */
        if (lua_type(L, -3) == LUA_TTABLE) {
            lua_Integer n = luaL_len(L, -3);
            for (lua_Integer i = 1; i <= n; i++) {
                lua_geti(L, -3, i);
                const char *v = luaL_tolstring(L, -1, &vl);
                if (b->len > 0)
                    tide_buf_append(b, "&", 1);
                url_encode(b, k, kl);
                tide_buf_append(b, "=", 1);
                url_encode(b, v, vl);
                lua_pop(L, 2);
            }
        } else {
            const char *v = luaL_tolstring(L, -3, &vl);
            if (b->len > 0)
                tide_buf_append(b, "&", 1);
            url_encode(b, k, kl);
            tide_buf_append(b, "=", 1);
            url_encode(b, v, vl);
            lua_pop(L, 1);
        }
        lua_pop(L, 3);
    }
}

static const struct tide_config *config_of(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.config");
    const struct tide_config *cfg = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return cfg;
}

static bool has_header(const struct tide_buf *lines, const char *name)
{
    size_t n = strlen(name);
    for (size_t at = 0; at < lines->len; at += strlen(lines->data + at) + 1) {
        const char *line = lines->data + at;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':')
            return true;
    }
    return false;
}

/* 's' in 'b' (its buffer reused), or NULL when out of memory. */
static char *keep_str(struct tide_buf *b, const char *s)
{
    b->len = 0;
    b->failed = false;
    return tide_buf_append(b, s, strlen(s) + 1) == 0 ? b->data : NULL;
}

/* One "Name: value" line, NUL-terminated (transport.h). */
static void add_header(struct tide_buf *lines, const char *name, const char *value)
{
    tide_buf_append(lines, name, strlen(name));
    tide_buf_append(lines, ": ", 2);
    tide_buf_append(lines, value, strlen(value) + 1);
}

static void printable_name(const char *name, size_t n, char *out, size_t cap);

/* Every key an options table may hold, sorted (bsearch); a batch item adds method and url. */
static const char *const option_names[] = {
    "accept_encoding", "auth", "body",    "ca_bundle", "cert",      "compression", "discard_body",
    "expect",          "form", "headers", "http2",     "json",      "key",         "max_body",
    "multipart",       "name", "proxy",   "query",     "redirects", "tags",        "timeout",
    "unix_socket",     NULL};

/* option_names' indices */
enum opt_id {
    OPT_ACCEPT_ENCODING,
    OPT_AUTH,
    OPT_BODY,
    OPT_CA_BUNDLE,
    OPT_CERT,
    OPT_COMPRESSION,
    OPT_DISCARD_BODY,
    OPT_EXPECT,
    OPT_FORM,
    OPT_HEADERS,
    OPT_HTTP2,
    OPT_JSON,
    OPT_KEY,
    OPT_MAX_BODY,
    OPT_MULTIPART,
    OPT_NAME,
    OPT_PROXY,
    OPT_QUERY,
    OPT_REDIRECTS,
    OPT_TAGS,
    OPT_TIMEOUT,
    OPT_UNIX_SOCKET,
    OPT_COUNT
};
_Static_assert(OPT_COUNT <= 32, "struct opts.present has a bit per option");

/* An options table read once: the pass that checks its keys notes which options it holds, so
 * an absent option (most of them, in most requests) is a nil push, not a lookup by name. No
 * stack slot per option: 16 slots grew every VU's coroutine stack by ~1.4 KB (massif,
 * bench/memory.sh). A table with a metatable is read by name (its __index may supply
 * options). No table at all: every option is nil. */
struct opts {
    int table;        /* its stack index, 0: none */
    uint32_t present; /* bit 'id': option_names[id] is a key of the table */
    bool by_name;
};

/* Pushes option 'id' (nil when absent) and returns its type, as lua_getfield would. */
static int opt_push(lua_State *L, const struct opts *o, enum opt_id id)
{
    if (o->by_name)
        return lua_getfield(L, o->table, option_names[id]);
    if (!(o->present & (UINT32_C(1) << id))) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    lua_pushstring(L, option_names[id]);
    return lua_rawget(L, o->table);
}

static long timeout_ms_of(lua_State *L, const struct opts *o)
{
    int t = opt_push(L, o, OPT_TIMEOUT);
    long ms = DEFAULT_TIMEOUT_MS;
    if (t == LUA_TNUMBER) {
        double s = lua_tonumber(L, -1);
        if (!(s > 0) || !isfinite(s))
            luaL_error(L, "tide.http: timeout must be > 0 seconds (got %s)",
                       luaL_tolstring(L, -1, NULL));
        ms = (long)ceil(s * 1000);
    } else if (t == LUA_TSTRING) {
        int64_t us;
        struct tide_err err;
        const char *text = lua_tostring(L, -1);
        if (tide_duration_parse(text, &us, &err) != 0)
            luaL_error(L, "tide.http: timeout: %s", err.msg);
        if (us <= 0)
            luaL_error(L, "tide.http: timeout \"%s\" must be more than 0 (e.g. \"5s\")", text);
        ms = (long)((us + 999) / 1000);
    } else if (t != LUA_TNIL) {
        luaL_error(L, "tide.http: timeout must be seconds or a duration like \"5s\"");
    }
    lua_pop(L, 1);
    return ms;
}

static void read_expect(lua_State *L, const struct opts *o, struct tide_vu_request *r)
{
    r->nexpect = 0;
    int t = opt_push(L, o, OPT_EXPECT);
    if (t == LUA_TNUMBER) {
        r->expect[r->nexpect++] = (int)lua_tointeger(L, -1);
    } else if (t == LUA_TTABLE) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n && r->nexpect < 16; i++) {
            lua_geti(L, -1, i);
            if (!lua_isinteger(L, -1))
                luaL_error(L, "tide.http: expect must list status codes, e.g. {200, 404}");
            r->expect[r->nexpect++] = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
    } else if (t != LUA_TNIL) {
        luaL_error(L, "tide.http: expect must be a status or a list of statuses");
    }
    lua_pop(L, 1);
}

/* Length of the URL's scheme ("https" in "https://h/"), 0 when it has none: then it is a
 * path ("/search?u=http://x" has none: '://' after a '/' or '?' is not a scheme). */
static size_t scheme_len(const char *url)
{
    size_t n = 0;
    if (!isalpha((unsigned char)url[0]))
        return 0;
    while (isalnum((unsigned char)url[n]) || url[n] == '+' || url[n] == '-' || url[n] == '.')
        n++;
    return strncmp(url + n, "://", 3) == 0 ? n : 0;
}

/* Only http and https leave tide: file://, ftp://... raise (the transport refuses them too,
 * and refuses a redirect to them with error 1410). */
static void check_scheme(lua_State *L, const char *url, size_t n)
{
    if ((n == 4 && strncasecmp(url, "http", 4) == 0) ||
        (n == 5 && strncasecmp(url, "https", 5) == 0))
        return;
    char scheme[32];
    snprintf(scheme, sizeof scheme, "%.*s", (int)(n < 31 ? n : 31), url);
    luaL_error(L, "tide.http: \"%s://\" URLs are not allowed: only http and https", scheme);
}

/* The absolute URL: relative ones go after the host; opts.query is appended encoded. */
static void read_url(lua_State *L, const struct tide_config *cfg, const char *url,
                     const struct opts *o, struct tide_buf *out)
{
    out->len = 0;
    size_t sn = scheme_len(url);
    if (sn > 0)
        check_scheme(L, url, sn);
    if (sn == 0) {
        if (cfg->host == NULL || cfg->host[0] == '\0')
            luaL_error(L, "tide.http: relative URL \"%s\" needs a host (--host or options.host)",
                       url);
        tide_buf_append(out, cfg->host, strlen(cfg->host));
        if (url[0] != '/')
            tide_buf_append(out, "/", 1);
    }
    tide_buf_append(out, url, strlen(url));
    if (o->table == 0)
        return;
    if (opt_push(L, o, OPT_QUERY) == LUA_TTABLE) {
        struct tide_buf q = {0};
        encode_pairs(L, -1, &q);
        if (q.len > 0) {
            tide_buf_append(out, strchr(out->data, '?') ? "&" : "?", 1);
            tide_buf_append(out, q.data, q.len);
        }
        tide_buf_free(&q);
    }
    lua_pop(L, 1);
}

static int compare_name(const void *a, const void *b)
{
    return strcmp(a, *(const char *const *)b);
}

/* One pass over the keys: a misspelt option raises instead of being ignored (a request sent
 * without its headers measures the wrong thing). The distance is computed only on a miss.
 * Each option's value goes to its slot in 'o' (unless o->by_name). */
static void check_option_names(lua_State *L, int opts, bool batch_item, struct opts *o)
{
    size_t n = sizeof option_names / sizeof *option_names - 1;
    lua_pushnil(L);
    while (lua_next(L, opts) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 1);
            if (batch_item && lua_isinteger(L, -1))
                continue;
            luaL_error(L, "tide.http: option names are strings (got a %s key)",
                       luaL_typename(L, -1));
        }
        const char *k = lua_tostring(L, -2);
        const char *const *found = bsearch(k, option_names, n, sizeof *option_names, compare_name);
        if (found != NULL) {
            o->present |= UINT32_C(1) << (found - option_names);
            lua_pop(L, 1);
            continue;
        }
        lua_pop(L, 1);
        if (batch_item && (strcmp(k, "method") == 0 || strcmp(k, "url") == 0))
            continue;
        char shown[400];
        printable_name(k, strlen(k), shown, sizeof shown);
        const char *near = tide_suggest(k, option_names);
        if (near != NULL)
            luaL_error(L, "tide.http: unknown option '%s' (did you mean '%s'?)", shown, near);
        luaL_error(L,
                   "tide.http: unknown option '%s' (options: accept_encoding, auth, body, "
                   "ca_bundle, cert, compression, discard_body, expect, form, headers, http2, "
                   "json, key, max_body, multipart, name, proxy, query, redirects, tags, "
                   "timeout, unix_socket)",
                   shown);
    }
}

#define MAX_PARTS 256

/* One multipart value: a string or number (a field) or http.file(...) (an upload). */
static void add_part(lua_State *L, int v, int keep, const char *name,
                     struct tide_multipart_part *parts, size_t *n)
{
    if (*n == MAX_PARTS)
        luaL_error(L, "tide.http: multipart: at most %d parts", MAX_PARTS);
    struct tide_multipart_part *p = &parts[(*n)++];
    *p = (struct tide_multipart_part){.name = name};
    if (lua_type(L, v) == LUA_TSTRING || lua_type(L, v) == LUA_TNUMBER) {
        lua_pushvalue(L, v);
        p->data = lua_tolstring(L, -1, &p->len); /* a number becomes a string: */
        luaL_ref(L, keep);                       /* 'keep' holds it until the body is built */
        return;
    }
    bool is_file = luaL_getmetafield(L, v, "__name") == LUA_TSTRING &&
                   strcmp(lua_tostring(L, -1), "tide.file") == 0;
    lua_settop(L, v); /* v is the top: drop the metafield */
    if (!is_file)
        luaL_error(L,
                   "tide.http: multipart field '%s': expected a string, a number, http.file(...) "
                   "or a list of them",
                   name);
    if (lua_getfield(L, v, "data") != LUA_TSTRING)
        luaL_error(L, "tide.http: multipart field '%s': the file's data is not a string", name);
    p->data = lua_tolstring(L, -1, &p->len);
    lua_getfield(L, v, "filename");
    p->filename = lua_tostring(L, -1);
    lua_getfield(L, v, "content_type");
    p->content_type = lua_tostring(L, -1);
    lua_pop(L, 3); /* the file table keeps its strings alive */
}

/* opts.multipart: parts ordered by field name (a list keeps its order), so a body's layout
 * does not depend on table iteration. */
static void read_multipart(lua_State *L, int mp, struct tide_http_spec *sp, char *ctype,
                           size_t ctype_cap)
{
    struct tide_multipart_part parts[MAX_PARTS];
    size_t n = 0;
    lua_newtable(L);
    int keep = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, mp) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "tide.http: multipart: field names are strings (got a %s)",
                       luaL_typename(L, -2));
        const char *name = lua_tostring(L, -2);
        int v = lua_gettop(L);
        if (lua_type(L, v) == LUA_TTABLE && luaL_getmetafield(L, v, "__name") == LUA_TNIL) {
            lua_Integer len = luaL_len(L, v);
            if (len == 0) {
                lua_pushnil(L);
                if (lua_next(L, v) != 0) { /* a table, but not a list: raises */
                    lua_settop(L, v);
                    add_part(L, v, keep, name, parts, &n);
                }
            }
            for (lua_Integer i = 1; i <= len; i++) {
                lua_geti(L, v, i); /* kept alive by the list */
                add_part(L, lua_gettop(L), keep, name, parts, &n);
                lua_pop(L, 1);
            }
        } else {
            if (lua_gettop(L) > v)
                lua_pop(L, 1); /* the metafield */
            add_part(L, v, keep, name, parts, &n);
        }
        lua_settop(L, v - 1);
    }
    for (size_t i = 1; i < n; i++) { /* insertion sort: stable, repeated fields keep order */
        struct tide_multipart_part p = parts[i];
        size_t j = i;
        while (j > 0 && strcmp(parts[j - 1].name, p.name) > 0) {
            parts[j] = parts[j - 1];
            j--;
        }
        parts[j] = p;
    }
    tide_multipart_build(parts, n, &sp->body, ctype, ctype_cap);
    lua_pop(L, 1); /* keep */
}

/* http.file(data [, filename [, content_type]]): a file to upload in opts.multipart */
static int l_file(lua_State *L)
{
    size_t n;
    luaL_checklstring(L, 1, &n);
    const char *filename = luaL_optstring(L, 2, "file");
    const char *ctype = luaL_optstring(L, 3, "application/octet-stream");
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "data");
    lua_pushstring(L, filename);
    lua_setfield(L, -2, "filename");
    lua_pushstring(L, ctype);
    lua_setfield(L, -2, "content_type");
    luaL_setmetatable(L, "tide.file");
    return 1;
}

/* A TLS file: the option's value, else the run's default (options.tls, --cacert...). */
static void read_tls_file(lua_State *L, const struct opts *o, enum opt_id id, const char *fallback,
                          struct tide_buf *out)
{
    out->len = 0;
    const char *path = fallback;
    if (opt_push(L, o, id) != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "tide.http: %s must be a file path", option_names[id]);
        path = lua_tostring(L, -1);
    }
    if (path != NULL && path[0] != '\0')
        tide_buf_append(out, path, strlen(path) + 1);
    lua_pop(L, 1);
}

/* ---- what only libcurl serves: http2, proxy, unix_socket, auth (docs/scenario-api.md) ---- */

/* Whether the URL has a user name ("http://user:pw@host/"). */
static bool has_userinfo(const char *url)
{
    const char *a = strstr(url, "://");
    if (a == NULL)
        return false;
    a += 3;
    return memchr(a, '@', strcspn(a, "/?#")) != NULL;
}

/* auth = "basic" | "digest" | "ntlm": the scheme for the URL's user name and password. */
static enum tide_http_auth read_auth(lua_State *L, const struct opts *o, const char *url)
{
    enum tide_http_auth auth = TIDE_AUTH_BASIC;
    if (opt_push(L, o, OPT_AUTH) != LUA_TNIL) {
        const char *a = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
        if (strcmp(a, "digest") == 0)
            auth = TIDE_AUTH_DIGEST;
        else if (strcmp(a, "ntlm") == 0)
            auth = TIDE_AUTH_NTLM;
        else if (strcmp(a, "basic") != 0)
            luaL_error(L, "tide.http: auth must be \"basic\", \"digest\" or \"ntlm\"");
        if (auth != TIDE_AUTH_BASIC && !has_userinfo(url))
            luaL_error(L,
                       "tide.http: auth \"%s\" needs the user name and password in the URL's "
                       "user info (before the host, with an @)",
                       a);
    }
    lua_pop(L, 1);
    return auth;
}

/* http2, proxy (over options.http2 and options.proxy), unix_socket and auth: a request asking
 * for any of them goes to libcurl (transport.c). */
static void read_curl_only(lua_State *L, const struct opts *o, const struct tide_config *cfg,
                           struct tide_http_spec *sp)
{
    sp->http2 = cfg->http2;
    sp->proxy.len = 0;
    sp->has_proxy = cfg->proxy != NULL;
    const char *proxy = cfg->proxy;
    sp->unix_socket.len = 0;
    sp->auth = TIDE_AUTH_BASIC;
    if (o->table != 0) {
        if (opt_push(L, o, OPT_HTTP2) != LUA_TNIL) {
            if (lua_type(L, -1) != LUA_TBOOLEAN)
                luaL_error(L, "tide.http: http2 must be true or false");
            sp->http2 = lua_toboolean(L, -1);
        }
        if (opt_push(L, o, OPT_PROXY) != LUA_TNIL) {
            if (lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "tide.http: proxy must be a URL (\"http://host:port\") or \"\"");
            proxy = lua_tostring(L, -1);
            sp->has_proxy = true;
            if (proxy[0] != '\0' && !tide_proxy_valid(proxy))
                luaL_error(L,
                           "tide.http: proxy \"%s\" is not a proxy URL "
                           "([http|https|socks4|socks4a|socks5|socks5h://]host[:port])",
                           proxy);
        }
        if (opt_push(L, o, OPT_UNIX_SOCKET) != LUA_TNIL) {
            size_t n = 0;
            const char *path = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
            if (path == NULL || n == 0 || n >= 108 || strlen(path) != n)
                luaL_error(L, "tide.http: unix_socket must be a socket's path (1 to 107 bytes)");
            tide_buf_append(&sp->unix_socket, path, n + 1);
        }
        sp->auth = read_auth(L, o, sp->url.data);
    }
    if (sp->has_proxy)
        tide_buf_append(&sp->proxy, proxy, strlen(proxy) + 1);
    if (o->table != 0)
        lua_pop(L, 3); /* http2, proxy, unix_socket: 'proxy' was read off the stack */
}

/* The body from opts.json, else opts.form, else opts.multipart, else opts.body; returns the
 * Content-Type it implies (in 'ctype' for a multipart body), or NULL. */
static const char *read_body(lua_State *L, const struct opts *o, struct tide_http_spec *sp,
                             char *ctype, size_t ctype_cap)
{
    sp->body.len = 0;
    sp->has_body = true;
    if (opt_push(L, o, OPT_JSON) != LUA_TNIL) {
        struct tide_err err;
        cJSON *j = tide_json_from_lua(L, -1, &err);
        if (j == NULL)
            luaL_error(L, "tide.http: json: %s", err.msg);
        char *s = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        tide_buf_append(&sp->body, s, strlen(s));
        free(s);
        lua_pop(L, 1);
        return "application/json";
    }
    lua_pop(L, 1);
    if (opt_push(L, o, OPT_FORM) == LUA_TTABLE) {
        encode_pairs(L, -1, &sp->body);
        lua_pop(L, 1);
        return "application/x-www-form-urlencoded";
    }
    lua_pop(L, 1);
    if (opt_push(L, o, OPT_MULTIPART) == LUA_TTABLE) {
        read_multipart(L, lua_gettop(L), sp, ctype, ctype_cap);
        lua_pop(L, 1);
        return ctype;
    }
    lua_pop(L, 1);
    if (opt_push(L, o, OPT_BODY) != LUA_TNIL) {
        size_t n;
        const char *s = luaL_tolstring(L, -1, &n);
        tide_buf_append(&sp->body, s, n);
        lua_pop(L, 2);
        return NULL;
    }
    lua_pop(L, 1);
    sp->has_body = false;
    return NULL;
}

/* RFC 7230 tchar: what a header name is made of. */
static bool is_tchar(unsigned char c)
{
    return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* 'name' printable in an error message: control bytes as \xNN, cut at 64 bytes. */
static void printable_name(const char *name, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && i < 64 && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(out + o, cap - o, "\\x%02X", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* A name that is not a token, or a value with CR, LF or NUL (a request split in two, or
 * cut short), raises naming the header; the value is never printed (it may be a secret). */
static void check_header(lua_State *L, const char *name, size_t nl, const char *value, size_t vl)
{
    char shown[400];
    bool name_ok = nl > 0;
    for (size_t i = 0; i < nl && name_ok; i++)
        name_ok = is_tchar((unsigned char)name[i]);
    printable_name(name, nl, shown, sizeof shown);
    if (!name_ok)
        luaL_error(L,
                   "tide.http: header name \"%s\" is not valid (letters, digits and "
                   "!#$%%&'*+-.^_`|~ only)",
                   shown);
    for (size_t i = 0; i < vl; i++) {
        if (value[i] == '\r' || value[i] == '\n' || value[i] == '\0')
            luaL_error(L, "tide.http: header \"%s\": the value contains %s (not allowed)", shown,
                       value[i] == '\r'   ? "CR"
                       : value[i] == '\n' ? "LF"
                                          : "a NUL byte");
    }
}

/* opts.headers (string keys), then the body's Content-Type unless one was given. */
static void read_headers(lua_State *L, const struct opts *o, struct tide_http_spec *sp,
                         const char *ctype)
{
    if (opt_push(L, o, OPT_HEADERS) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
            if (lua_type(L, -2) == LUA_TSTRING) {
                size_t nl, vl;
                const char *v = luaL_tolstring(L, -1, &vl); /* headers, k, v, vstr */
                const char *k = lua_tolstring(L, -3, &nl);
                check_header(L, k, nl, v, vl);
                add_header(&sp->headers, k, v);
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    if (ctype != NULL && !has_header(&sp->headers, "Content-Type"))
        add_header(&sp->headers, "Content-Type", ctype);
}

/* redirects, name, discard_body, tags, expect, timeout */
static void read_options(lua_State *L, const struct opts *o, struct tide_vu_request *r)
{
    struct tide_http_spec *sp = &r->r.spec;
    if (opt_push(L, o, OPT_REDIRECTS) != LUA_TNIL)
        sp->redirects = (long)luaL_checkinteger(L, -1);
    lua_pop(L, 1);
    if (opt_push(L, o, OPT_NAME) != LUA_TNIL)
        r->name = keep_str(&r->name_buf, luaL_checkstring(L, -1));
    lua_pop(L, 1);
    if (opt_push(L, o, OPT_DISCARD_BODY) != LUA_TNIL)
        sp->discard_body = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (opt_push(L, o, OPT_MAX_BODY) != LUA_TNIL) {
        lua_Integer mb = luaL_checkinteger(L, -1);
        if (mb < 0 || (lua_Unsigned)mb > TIDE_HTTP_BODY_BUDGET)
            luaL_error(L, "tide.http: max_body must be 0 to %d bytes (got %I)",
                       (int)TIDE_HTTP_BODY_BUDGET, mb);
        sp->max_body = (size_t)mb;
    }
    lua_pop(L, 1);
    if (opt_push(L, o, OPT_TAGS) == LUA_TTABLE) {
        char canon[1024];
        tide_lua_tags(L, -1, canon, sizeof canon);
        r->tags = keep_str(&r->tags_buf, canon);
    }
    lua_pop(L, 1);
    read_expect(L, o, r);
    sp->timeout_ms = timeout_ms_of(L, o);
}

/* accept_encoding (ask for gzip and deflate: tide decodes them) and compression (the body sent
 * gzip'd or deflate'd), docs/http.md "Compression". After the body and the headers are read. */
static void read_compression(lua_State *L, const struct opts *o, struct tide_http_spec *sp)
{
    int ty = opt_push(L, o, OPT_ACCEPT_ENCODING);
    if (ty != LUA_TNIL && ty != LUA_TBOOLEAN)
        luaL_error(L, "tide.http: accept_encoding must be true or false (got a %s)",
                   luaL_typename(L, -1));
    if (lua_toboolean(L, -1) && !has_header(&sp->headers, "Accept-Encoding"))
        add_header(&sp->headers, "Accept-Encoding", "gzip, deflate");
    lua_pop(L, 1);
    if (opt_push(L, o, OPT_COMPRESSION) != LUA_TNIL) {
        const char *c = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
        if (strcmp(c, "gzip") != 0 && strcmp(c, "deflate") != 0)
            luaL_error(L, "tide.http: compression must be \"gzip\" or \"deflate\"");
        struct tide_buf packed = {0};
        if (tide_compress(c, sp->body.data != NULL ? sp->body.data : "", sp->body.len, &packed) !=
            0) {
            tide_buf_free(&packed);
            luaL_error(L, "tide.http: compression: out of memory");
        }
        tide_buf_free(&sp->body);
        sp->body = packed;
        sp->has_body = true;
        if (!has_header(&sp->headers, "Content-Encoding"))
            add_header(&sp->headers, "Content-Encoding", c);
    }
    lua_pop(L, 1);
}

/* Fills r's spec (and what its samples need) from (method, url, opts at index 'opts'). */
static void prepare(lua_State *L, struct tide_vu *vu, struct tide_vu_request *r, const char *method,
                    const char *url, int opts, bool batch_item)
{
    struct tide_http_spec *sp = &r->r.spec;
    r->vu = vu;
    size_t m = 0;
    for (; method[m] != '\0' && m + 1 < sizeof sp->method; m++)
        sp->method[m] = (char)toupper((unsigned char)method[m]);
    sp->method[m] = '\0';
    r->name = NULL; /* name and tags reuse their buffers: no allocation per request */
    r->tags = NULL;
    r->nexpect = 0;
    sp->headers.len = 0;
    sp->body.len = 0;
    sp->has_body = false;
    sp->timeout_ms = DEFAULT_TIMEOUT_MS;
    sp->redirects = DEFAULT_REDIRECTS;
    sp->discard_body = false;
    sp->max_body = TIDE_HTTP_MAX_BODY;
    sp->one_use = false;
    const struct tide_config *cfg = config_of(L);
    sp->insecure = cfg->insecure;
    sp->transport = (enum tide_transport_choice)cfg->transport;
    sp->session = tide_vu_share(vu);
    bool has_opts = lua_type(L, opts) == LUA_TTABLE;
    struct opts o = {.table = has_opts ? lua_absindex(L, opts) : 0};
    int top = lua_gettop(L);
    if (has_opts) {
        o.by_name = lua_getmetatable(L, o.table) != 0;
        if (o.by_name)
            lua_pop(L, 1);
        check_option_names(L, o.table, batch_item, &o);
    }
    read_url(L, cfg, url, &o, &sp->url);
    read_tls_file(L, &o, OPT_CA_BUNDLE, cfg->tls_ca, &sp->tls_ca);
    read_tls_file(L, &o, OPT_CERT, cfg->tls_cert, &sp->tls_cert);
    read_tls_file(L, &o, OPT_KEY, cfg->tls_key, &sp->tls_key);
    read_curl_only(L, &o, cfg, sp);
    if (has_opts) {
        char mp_ctype[128];
        const char *ctype = read_body(L, &o, sp, mp_ctype, sizeof mp_ctype);
        read_headers(L, &o, sp, ctype);
        read_options(L, &o, r);
        read_compression(L, &o, sp);
    }
    lua_settop(L, top);
    if (r->name == NULL) {
        char name[512];
        tide_url_group(sp->url.data, name, sizeof name);
        if (strlen(name) + 1 >= sizeof name) /* cut: a secret at the edge is hidden too */
            tide_redact_buf(name, sizeof name);
        r->name = keep_str(&r->name_buf, name);
    }
    if (r->name != NULL && tide_redact_changes(r->name)) {
        /* before it names a series: /users/jane@example.com -> /users/[email:1a2b3c4d] */
        char *f = tide_redact(r->name);
        r->name = f != NULL ? keep_str(&r->name_buf, f) : NULL;
        free(f);
    }
}

/* A response table carries its rarely read fields (headers, timings, url, method, name,
 * proto) packed in one string under this key, and builds each on its first read (then keeps
 * it as a plain field): one string per response instead of two and six fields. Layout: a
 * struct raw_head, then the header block, the URL and the name. */
static const char raw_key = 'r';
/* The response metatable, found by address (luaL_setmetatable looks it up by name). */
static const char response_mt_key = 'm';

struct raw_head {
    double timings[7];
    uint32_t headers_len, url_len, name_len; /* name_len UINT32_MAX: no name (nil) */
    char method[16];
    bool native; /* res.transport: "native" or "curl" */
};

/* The packed fields of response table 't' (head copied out, pointers into the string on the
 * stack top, which the caller pops); false when 't' has none. */
static bool raw_of(lua_State *L, int t, struct raw_head *h, const char **headers, const char **url,
                   const char **name)
{
    size_t n = 0;
    lua_rawgetp(L, t, &raw_key);
    const char *raw = lua_tolstring(L, -1, &n);
    if (raw == NULL || n < sizeof *h)
        return false;
    memcpy(h, raw, sizeof *h);
    size_t name_len = h->name_len == UINT32_MAX ? 0 : h->name_len;
    if ((size_t)h->headers_len + h->url_len + name_len != n - sizeof *h)
        return false;
    *headers = raw + sizeof *h;
    *url = *headers + h->headers_len;
    *name = *url + h->url_len;
    return true;
}

/* Parses raw response header lines into a table with case-insensitive lookup. */
static void push_headers(lua_State *L, const char *data, size_t len)
{
    lua_newtable(L);
    luaL_setmetatable(L, "tide.headers");
    if (data == NULL)
        return;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            eol = end;
        const char *le = eol;
        if (le > p && le[-1] == '\r')
            le--;
        if (le - p > 5 && memcmp(p, "HTTP/", 5) == 0) {
            /* the status line */
        } else {
            const char *colon = memchr(p, ':', (size_t)(le - p));
            if (colon != NULL) {
                char key[256];
                size_t kl =
                    (size_t)(colon - p) < sizeof key - 1 ? (size_t)(colon - p) : sizeof key - 1;
                for (size_t i = 0; i < kl; i++)
                    key[i] = (char)tolower((unsigned char)p[i]);
                key[kl] = '\0';
                const char *v = colon + 1;
                while (v < le && (*v == ' ' || *v == '\t'))
                    v++;
                if (lua_getfield(L, -1, key) == LUA_TSTRING) { /* repeated: join with ", " */
                    lua_pushliteral(L, ", ");
                    lua_pushlstring(L, v, (size_t)(le - v));
                    lua_concat(L, 3);
                } else {
                    lua_pop(L, 1);
                    lua_pushlstring(L, v, (size_t)(le - v));
                }
                lua_setfield(L, -2, key);
            }
        }
        p = eol + 1;
    }
}

static void push_timings(lua_State *L, const double v[7])
{
    static const char *const names[7] = {"blocked", "connecting", "tls_handshaking", "sending",
                                         "waiting", "receiving",  "duration"};
    lua_createtable(L, 0, 7);
    for (int i = 0; i < 7; i++) {
        lua_pushnumber(L, v[i]);
        lua_setfield(L, -2, names[i]);
    }
}

/* Builds the response table of a finished request on L, and records its samples. */
static void finish(lua_State *L, struct tide_vu_request *r)
{
    const struct tide_http_result *res = &r->r.res;
    struct tide_sample s;
    tide_sample_request(r->vu, r, &s);
    lua_createtable(L, 0, 4);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &response_mt_key);
    lua_setmetatable(L, -2);
    lua_pushinteger(L, res->status);
    lua_setfield(L, -2, "status");
    lua_pushlstring(L, res->body.data != NULL ? res->body.data : "", res->body.len);
    lua_setfield(L, -2, "body");
    if (res->truncated) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "truncated");
    }
    if (res->body.len >= ((size_t)1 << 20)) /* pay the collector for it now: the garbage of */
        lua_gc(L, LUA_GCSTEP, (int)(res->body.len >> 10)); /* big bodies must not pile up */
    tide_http_body_done(&r->r); /* copied: the buffer and its budget go back now */
    /* the rest is built when first read: most iterations never look (raw_key) */
    const struct tide_sample_timings *t = &s.t;
    const char *url = res->url.data != NULL ? res->url.data : "";
    struct raw_head head = {
        .timings = {t->blocked, t->connecting, t->tls, t->sending, t->waiting, t->receiving,
                    s.duration},
        .headers_len = (uint32_t)res->headers.len,
        .url_len = (uint32_t)strlen(url),
        .name_len = r->name != NULL ? (uint32_t)strlen(r->name) : UINT32_MAX,
        .native = res->native,
    };
    memcpy(head.method, r->r.spec.method, sizeof head.method);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, (const char *)&head, sizeof head);
    if (res->headers.len > 0)
        luaL_addlstring(&b, res->headers.data, res->headers.len);
    luaL_addlstring(&b, url, head.url_len);
    if (r->name != NULL)
        luaL_addlstring(&b, r->name, head.name_len);
    luaL_pushresult(&b);
    lua_rawsetp(L, -2, &raw_key);
    if (res->error_code != 0) {
        char *msg = tide_redact(res->error); /* whole: the filter may lengthen it */
        lua_pushstring(L, msg != NULL ? msg : "(error text hidden: out of memory)");
        free(msg);
        lua_setfield(L, -2, "error");
        lua_pushinteger(L, res->error_code);
        lua_setfield(L, -2, "error_code");
    }
}

/* tide_transfer.done for single requests */
static void on_single_done(struct tide_transfer *hr)
{
    struct tide_vu_request *r = (struct tide_vu_request *)hr;
    struct tide_vu *vu = r->vu;
    struct tide_worker *w = vu->w;
    bool freed = vu->transient;
    if (vu->transient) {
        vu->transient = false;
        w->conns_transient--;
    }
    finish(vu->co, r);
    tide_vu_resume(vu, 1);
    if (freed)
        tide_conn_release(w);
}

static void on_batch_done(struct tide_transfer *hr)
{
    struct tide_vu_request *r = (struct tide_vu_request *)hr;
    struct tide_vu *vu = r->vu;
    if (--vu->batch_pending > 0)
        return;
    lua_State *co = vu->co;
    lua_createtable(co, vu->batch_n, 0);
    for (int i = 0; i < vu->batch_n; i++) {
        finish(co, &vu->batch[i]);
        lua_rawseti(co, -2, i + 1);
    }
    tide_vu_resume(vu, 1);
}

static int start_or_raise(lua_State *L, struct tide_vu *vu, struct tide_vu_request *r)
{
    if (tide_http_start(vu->w->http, &r->r) != 0)
        return luaL_error(L, "tide.http: could not start the request");
    return 0;
}

/* request(method, url [, opts]) */
static int l_request(lua_State *L)
{
    struct tide_vu *vu = tide_vu_of(L);
    const char *method = luaL_checkstring(L, 1);
    const char *url = luaL_checkstring(L, 2);
    if (!lua_isnoneornil(L, 3))
        luaL_checktype(L, 3, LUA_TTABLE);
    struct tide_vu_request *r = tide_vu_request_of(vu);
    if (r == NULL)
        return luaL_error(L, "tide.http: out of memory");
    prepare(L, vu, r, method, url, 3, false);
    r->r.done = on_single_done;
    if (tide_conn_admit(vu)) /* else queued: started by tide_conn_release */
        start_or_raise(L, vu, r);
    tide_vu_wait(vu, TIDE_VU_WAIT_IO, tide_vu_cancel_http, NULL);
    return lua_yield(L, 0);
}

static int method_call(lua_State *L, const char *method, bool has_body)
{
    /* get(url, opts) / post(url, body_or_opts, opts): a string second argument is the body */
    luaL_checkstring(L, 1);
    if (has_body && lua_type(L, 2) == LUA_TSTRING) {
        if (lua_isnoneornil(L, 3)) {
            lua_settop(L, 2);
            lua_newtable(L);
        } else {
            luaL_checktype(L, 3, LUA_TTABLE);
        }
        lua_pushvalue(L, 2);
        lua_setfield(L, 3, "body");
        lua_remove(L, 2);
    }
    lua_settop(L, 2);
    lua_pushstring(L, method);
    lua_insert(L, 1);
    return l_request(L);
}

static int l_get(lua_State *L)
{
    return method_call(L, "GET", false);
}
static int l_head(lua_State *L)
{
    return method_call(L, "HEAD", false);
}
static int l_options(lua_State *L)
{
    return method_call(L, "OPTIONS", false);
}
static int l_delete(lua_State *L)
{
    return method_call(L, "DELETE", true);
}
static int l_post(lua_State *L)
{
    return method_call(L, "POST", true);
}
static int l_put(lua_State *L)
{
    return method_call(L, "PUT", true);
}
static int l_patch(lua_State *L)
{
    return method_call(L, "PATCH", true);
}

/* batch{ {method, url, opts} | {method=, url=, ...opts} | "url", ... } -> { responses } */
static int l_batch(lua_State *L)
{
    struct tide_vu *vu = tide_vu_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    int n = (int)luaL_len(L, 1);
    luaL_argcheck(L, n > 0 && n <= 256, 1, "batch takes 1 to 256 requests");
    if (n > vu->batch_cap) {
        struct tide_vu_request *grown = realloc(vu->batch, (size_t)n * sizeof *grown);
        if (grown == NULL)
            return luaL_error(L, "tide.http: out of memory");
        memset(grown + vu->batch_cap, 0, (size_t)(n - vu->batch_cap) * sizeof *grown);
        vu->batch = grown;
        vu->batch_cap = n;
    }
    for (int i = 0; i < n; i++) {
        int t = lua_geti(L, 1, i + 1);
        int item = lua_gettop(L);
        if (t == LUA_TSTRING) {
            lua_pushnil(L); /* no options */
            prepare(L, vu, &vu->batch[i], "GET", lua_tostring(L, item), lua_gettop(L), false);
        } else if (t == LUA_TTABLE) {
            const char *method, *url;
            int opts;
            bool keyed = false;
            if (lua_geti(L, item, 1) == LUA_TSTRING) { /* positional form */
                method = lua_tostring(L, -1);
                lua_geti(L, item, 2);
                url = luaL_checkstring(L, -1);
                lua_geti(L, item, 3);
                opts = lua_gettop(L);
            } else {
                lua_getfield(L, item, "method");
                method = luaL_optstring(L, -1, "GET");
                lua_getfield(L, item, "url");
                url = luaL_checkstring(L, -1);
                opts = item;
                keyed = true;
            }
            prepare(L, vu, &vu->batch[i], method, url, opts, keyed);
        } else {
            return luaL_error(L, "tide.http.batch: item %d must be a URL or a table", i + 1);
        }
        vu->batch[i].r.done = on_batch_done;
        lua_settop(L, 1);
    }
    vu->batch_n = n;
    vu->batch_pending = 0;
    for (int i = 0; i < n; i++) {
        start_or_raise(L, vu, &vu->batch[i]);
        vu->batch_pending++;
    }
    tide_vu_wait(vu, TIDE_VU_WAIT_IO, tide_vu_cancel_http, NULL);
    return lua_yield(L, 0);
}

/* headers["Content-Type"] finds "content-type" */
static int headers_index(lua_State *L)
{
    if (lua_type(L, 2) != LUA_TSTRING)
        return 0;
    size_t n;
    const char *k = lua_tolstring(L, 2, &n);
    char key[256];
    if (n >= sizeof key)
        return 0;
    for (size_t i = 0; i <= n; i++)
        key[i] = (char)tolower((unsigned char)k[i]);
    lua_pushstring(L, key);
    lua_rawget(L, 1);
    return 1;
}

/* res.json() and res:json(): the body decoded (raises on invalid JSON) */
static int response_json_call(lua_State *L)
{
    lua_getfield(L, lua_upvalueindex(1), "body");
    size_t n;
    const char *body = lua_tolstring(L, -1, &n);
    if (body == NULL)
        return luaL_error(L, "response has no body");
    cJSON *j = cJSON_ParseWithLength(body, n);
    if (j == NULL)
        return luaL_error(L, "response body is not JSON (%d bytes)", (int)n);
    tide_json_push(L, j);
    cJSON_Delete(j);
    return 1;
}

/* response.json, and headers/timings built on first use from the raw data (then cached) */
static int response_index(lua_State *L)
{
    const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
    if (k == NULL)
        return 0;
    if (strcmp(k, "json") == 0) {
        lua_pushvalue(L, 1);
        lua_pushcclosure(L, response_json_call, 1);
        return 1;
    }
    struct raw_head h;
    const char *headers = NULL, *url = "", *name = "";
    if (!raw_of(L, 1, &h, &headers, &url, &name)) { /* not made by finish(): no fields */
        if (strcmp(k, "headers") != 0 && strcmp(k, "timings") != 0)
            return 0;
        memset(&h, 0, sizeof h);
        headers = NULL;
    }
    if (strcmp(k, "headers") == 0) {
        push_headers(L, headers, h.headers_len);
    } else if (strcmp(k, "cookies") == 0) { /* lua_cookies.c: what this response set */
        tide_lua_push_set_cookies(L, headers != NULL ? headers : "", h.headers_len, url);
    } else if (strcmp(k, "timings") == 0) {
        push_timings(L, h.timings);
    } else if (strcmp(k, "url") == 0) {
        lua_pushlstring(L, url, h.url_len);
    } else if (strcmp(k, "method") == 0) {
        h.method[sizeof h.method - 1] = '\0';
        lua_pushstring(L, h.method);
    } else if (strcmp(k, "name") == 0) {
        if (h.name_len == UINT32_MAX)
            return 0;
        lua_pushlstring(L, name, h.name_len);
    } else if (strcmp(k, "transport") == 0) {
        lua_pushstring(L, h.native ? "native" : "curl");
    } else if (strcmp(k, "proto") == 0) {
        size_t n = h.headers_len;
        lua_pushstring(L, n >= 6 && strncmp(headers, "HTTP/2", 6) == 0     ? "HTTP/2.0"
                          : n >= 8 && strncmp(headers, "HTTP/1.0", 8) == 0 ? "HTTP/1.0"
                                                                           : "HTTP/1.1");
    } else {
        return 0;
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, 1, k); /* cache: t, raw, value */
    return 1;
}

static const luaL_Reg http_funcs[] = {
    {"request", l_request},
    {"get", l_get},
    {"post", l_post},
    {"put", l_put},
    {"patch", l_patch},
    {"delete", l_delete},
    {"head", l_head},
    {"options", l_options},
    {"batch", l_batch},
    {"file", l_file},
    {"cookie_jar", tide_lua_cookie_jar},
    {NULL, NULL},
};

int luaopen_tide_http(lua_State *L)
{
    luaL_newmetatable(L, "tide.headers");
    lua_pushcfunction(L, headers_index);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newmetatable(L, "tide.file");
    lua_pop(L, 1);
    luaL_newmetatable(L, "tide.response");
    lua_pushcfunction(L, response_index);
    lua_setfield(L, -2, "__index");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &response_mt_key);
    tide_lua_cookies_open(L);
    luaL_newlib(L, http_funcs);
    return 1;
}
