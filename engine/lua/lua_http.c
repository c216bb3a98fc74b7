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
#include "suggest.h"
#include "connbudget.h"
#include "sample.h"
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

/* One "Name: value" line, NUL-terminated (transport.h). */
static void add_header(struct tide_buf *lines, const char *name, const char *value)
{
    tide_buf_append(lines, name, strlen(name));
    tide_buf_append(lines, ": ", 2);
    tide_buf_append(lines, value, strlen(value) + 1);
}

static long timeout_ms_of(lua_State *L, int opts)
{
    int t = lua_getfield(L, opts, "timeout");
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

static void read_expect(lua_State *L, int opts, struct tide_vu_request *r)
{
    r->nexpect = 0;
    int t = lua_getfield(L, opts, "expect");
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
static void read_url(lua_State *L, const char *url, int opts, struct tide_buf *out)
{
    const struct tide_config *cfg = config_of(L);
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
    if (lua_type(L, opts) != LUA_TTABLE)
        return;
    if (lua_getfield(L, opts, "query") == LUA_TTABLE) {
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

static void printable_name(const char *name, size_t n, char *out, size_t cap);

/* Every key an options table may hold, sorted (bsearch); a batch item adds method and url. */
static const char *const option_names[] = {
    "body",     "ca_bundle", "cert", "discard_body", "expect",    "form", "headers", "json", "key",
    "max_body", "multipart", "name", "query",        "redirects", "tags", "timeout", NULL};

static int compare_name(const void *a, const void *b)
{
    return strcmp(a, *(const char *const *)b);
}

/* One pass over the keys: a misspelt option raises instead of being ignored (a request sent
 * without its headers measures the wrong thing). The distance is computed only on a miss. */
static void check_option_names(lua_State *L, int opts, bool batch_item)
{
    size_t n = sizeof option_names / sizeof *option_names - 1;
    lua_pushnil(L);
    while (lua_next(L, opts) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            if (batch_item && lua_isinteger(L, -1))
                continue;
            luaL_error(L, "tide.http: option names are strings (got a %s key)",
                       luaL_typename(L, -1));
        }
        const char *k = lua_tostring(L, -1);
        if (bsearch(k, option_names, n, sizeof *option_names, compare_name) != NULL)
            continue;
        if (batch_item && (strcmp(k, "method") == 0 || strcmp(k, "url") == 0))
            continue;
        char shown[400];
        printable_name(k, strlen(k), shown, sizeof shown);
        const char *near = tide_suggest(k, option_names);
        if (near != NULL)
            luaL_error(L, "tide.http: unknown option '%s' (did you mean '%s'?)", shown, near);
        luaL_error(L,
                   "tide.http: unknown option '%s' (options: body, ca_bundle, cert, discard_body, "
                   "expect, form, headers, json, key, max_body, multipart, name, query, redirects, "
                   "tags, timeout)",
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
static void read_tls_file(lua_State *L, int opts, const char *key, const char *fallback,
                          struct tide_buf *out)
{
    out->len = 0;
    const char *path = fallback;
    if (opts != 0 && lua_getfield(L, opts, key) != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "tide.http: %s must be a file path", key);
        path = lua_tostring(L, -1);
    }
    if (path != NULL && path[0] != '\0')
        tide_buf_append(out, path, strlen(path) + 1);
    if (opts != 0)
        lua_pop(L, 1);
}

/* The body from opts.json, else opts.form, else opts.multipart, else opts.body; returns the
 * Content-Type it implies (in 'ctype' for a multipart body), or NULL. */
static const char *read_body(lua_State *L, int opts, struct tide_http_spec *sp, char *ctype,
                             size_t ctype_cap)
{
    sp->body.len = 0;
    sp->has_body = true;
    if (lua_getfield(L, opts, "json") != LUA_TNIL) {
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
    if (lua_getfield(L, opts, "form") == LUA_TTABLE) {
        encode_pairs(L, -1, &sp->body);
        lua_pop(L, 1);
        return "application/x-www-form-urlencoded";
    }
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "multipart") == LUA_TTABLE) {
        read_multipart(L, lua_gettop(L), sp, ctype, ctype_cap);
        lua_pop(L, 1);
        return ctype;
    }
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "body") != LUA_TNIL) {
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
static void read_headers(lua_State *L, int opts, struct tide_http_spec *sp, const char *ctype)
{
    if (lua_getfield(L, opts, "headers") == LUA_TTABLE) {
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
static void read_options(lua_State *L, int opts, struct tide_vu_request *r)
{
    struct tide_http_spec *sp = &r->r.spec;
    if (lua_getfield(L, opts, "redirects") != LUA_TNIL)
        sp->redirects = (long)luaL_checkinteger(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "name") != LUA_TNIL)
        r->name = strdup(luaL_checkstring(L, -1));
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "discard_body") != LUA_TNIL)
        sp->discard_body = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "max_body") != LUA_TNIL) {
        lua_Integer mb = luaL_checkinteger(L, -1);
        if (mb < 0 || (lua_Unsigned)mb > TIDE_HTTP_BODY_BUDGET)
            luaL_error(L, "tide.http: max_body must be 0 to %d bytes (got %I)",
                       (int)TIDE_HTTP_BODY_BUDGET, mb);
        sp->max_body = (size_t)mb;
    }
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "tags") == LUA_TTABLE) {
        char canon[1024];
        tide_lua_tags(L, -1, canon, sizeof canon);
        r->tags = strdup(canon);
    }
    lua_pop(L, 1);
    read_expect(L, opts, r);
    sp->timeout_ms = timeout_ms_of(L, opts);
}

/* Fills r's spec (and what its samples need) from (method, url, opts at index 'opts'). */
static void prepare(lua_State *L, struct tide_vu *vu, struct tide_vu_request *r, const char *method,
                    const char *url, int opts, bool batch_item)
{
    struct tide_http_spec *sp = &r->r.spec;
    r->vu = vu;
    snprintf(sp->method, sizeof sp->method, "%s", method);
    for (char *p = sp->method; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    free(r->name);
    r->name = NULL;
    free(r->tags);
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
    if (has_opts)
        check_option_names(L, opts, batch_item);
    read_url(L, url, opts, &sp->url);
    read_tls_file(L, has_opts ? opts : 0, "ca_bundle", cfg->tls_ca, &sp->tls_ca);
    read_tls_file(L, has_opts ? opts : 0, "cert", cfg->tls_cert, &sp->tls_cert);
    read_tls_file(L, has_opts ? opts : 0, "key", cfg->tls_key, &sp->tls_key);
    if (has_opts) {
        char mp_ctype[128];
        const char *ctype = read_body(L, opts, sp, mp_ctype, sizeof mp_ctype);
        read_headers(L, opts, sp, ctype);
        read_options(L, opts, r);
    }
    if (r->name == NULL) {
        char name[512];
        tide_url_group(sp->url.data, name, sizeof name);
        if (strlen(name) + 1 >= sizeof name) /* cut: a secret at the edge is hidden too */
            tide_redact_buf(name, sizeof name);
        r->name = strdup(name);
    }
    if (r->name != NULL && tide_redact_changes(r->name)) {
        /* before it names a series: /users/jane@example.com -> /users/[email:1a2b3c4d] */
        char *f = tide_redact(r->name);
        free(r->name);
        r->name = f;
    }
}

/* Keys of the raw data a response table carries until 'headers'/'timings' are first read. */
static const char raw_headers_key = 'h', raw_timings_key = 't';

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
    lua_createtable(L, 0, 10);
    luaL_setmetatable(L, "tide.response");
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
    /* headers and timings are built when first read: most iterations never look */
    const char *h = res->headers.data != NULL ? res->headers.data : "";
    lua_pushstring(L, strncmp(h, "HTTP/2", 6) == 0     ? "HTTP/2"
                      : strncmp(h, "HTTP/1.0", 8) == 0 ? "HTTP/1.0"
                                                       : "HTTP/1.1");
    lua_setfield(L, -2, "proto");
    lua_pushlstring(L, h, res->headers.len);
    lua_rawsetp(L, -2, &raw_headers_key);
    const struct tide_sample_timings *t = &s.t;
    double packed[7] = {t->blocked, t->connecting, t->tls,    t->sending,
                        t->waiting, t->receiving,  s.duration};
    lua_pushlstring(L, (const char *)packed, sizeof packed);
    lua_rawsetp(L, -2, &raw_timings_key);
    lua_pushstring(L, res->url.data != NULL ? res->url.data : "");
    lua_setfield(L, -2, "url");
    lua_pushstring(L, r->r.spec.method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, res->native ? "native" : "curl");
    lua_setfield(L, -2, "transport");
    lua_pushstring(L, r->name);
    lua_setfield(L, -2, "name");
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
    prepare(L, vu, &vu->req, method, url, 3, false);
    vu->req.r.done = on_single_done;
    if (tide_conn_admit(vu)) /* else queued: started by tide_conn_release */
        start_or_raise(L, vu, &vu->req);
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
    if (strcmp(k, "headers") == 0) {
        size_t n = 0;
        lua_rawgetp(L, 1, &raw_headers_key);
        const char *raw = lua_tolstring(L, -1, &n);
        push_headers(L, raw, n);
    } else if (strcmp(k, "timings") == 0) {
        size_t n = 0;
        lua_rawgetp(L, 1, &raw_timings_key);
        const char *raw = lua_tolstring(L, -1, &n);
        double v[7] = {0};
        if (raw != NULL && n == sizeof v)
            memcpy(v, raw, sizeof v);
        push_timings(L, v);
    } else {
        return 0;
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, 1, k); /* cache: t, raw, value */
    return 1;
}

static const luaL_Reg http_funcs[] = {
    {"request", l_request}, {"get", l_get},       {"post", l_post}, {"put", l_put},
    {"patch", l_patch},     {"delete", l_delete}, {"head", l_head}, {"options", l_options},
    {"batch", l_batch},     {"file", l_file},     {NULL, NULL},
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
    lua_pop(L, 1);
    luaL_newlib(L, http_funcs);
    return 1;
}
