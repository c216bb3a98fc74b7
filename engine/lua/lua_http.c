/* lua_http.c: tide.http. A request is configured on the VU's reusable easy handle, handed to
 * the worker's CURLM, and the VU yields; when libcurl is done, the samples are recorded and
 * the VU resumes with the response table. */
#include <ctype.h>
#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "duration.h"
#include "log.h"
#include "connbudget.h"
#include "lua_http.h"
#include "lua_json.h"
#include "lua_tide.h"
#include "metrics.h"
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

/* The URL as a parsed CURLU, reused while the VU requests the same URL: libcurl then skips
 * parsing it again (measurably cheaper per request). Falls back to the text form. */
static void set_url(struct tide_vu_request *r, CURL *e)
{
    if (r->cu_url == NULL || strcmp(r->cu_url, r->url.data) != 0) {
        free(r->cu_url);
        r->cu_url = NULL;
        if (r->cu == NULL)
            r->cu = curl_url();
        if (r->cu != NULL && curl_url_set(r->cu, CURLUPART_URL, r->url.data, 0) == CURLUE_OK)
            r->cu_url = strdup(r->url.data);
    }
    if (r->cu_url != NULL) {
        curl_easy_setopt(e, CURLOPT_CURLU, r->cu);
        return;
    }
    curl_easy_setopt(e, CURLOPT_CURLU, NULL); /* libcurl judges the text itself */
    curl_easy_setopt(e, CURLOPT_URL, r->url.data);
}

static bool has_header(const struct curl_slist *h, const char *name)
{
    size_t n = strlen(name);
    for (; h != NULL; h = h->next) {
        if (strncasecmp(h->data, name, n) == 0 && h->data[n] == ':')
            return true;
    }
    return false;
}

static long timeout_ms_of(lua_State *L, int opts)
{
    int t = lua_getfield(L, opts, "timeout");
    long ms = DEFAULT_TIMEOUT_MS;
    if (t == LUA_TNUMBER) {
        double s = lua_tonumber(L, -1);
        if (!(s > 0) || !isfinite(s))
            luaL_error(L, "tide.http: timeout must be > 0 seconds");
        ms = (long)ceil(s * 1000);
    } else if (t == LUA_TSTRING) {
        int64_t us;
        struct tide_err err;
        if (tide_duration_parse(lua_tostring(L, -1), &us, &err) != 0 || us <= 0)
            luaL_error(L, "tide.http: timeout: %s", err.msg);
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

/* Configures r (on its reusable easy handle) from (method, url, opts at index 'opts'). */
static void prepare(lua_State *L, struct tide_vu *vu, struct tide_vu_request *r, const char *method,
                    const char *url, int opts)
{
    const struct tide_config *cfg = config_of(L);
    if (r->r.easy == NULL &&
        tide_http_easy_get(vu->w->http, &r->r, tide_vu_share(vu), cfg->insecure) == NULL)
        luaL_error(L, "tide.http: out of memory");
    CURL *e = r->r.easy;
    r->vu = vu;
    r->done = false;
    snprintf(r->method, sizeof r->method, "%s", method);
    for (char *p = r->method; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    curl_slist_free_all(r->headers);
    r->headers = NULL;
    free(r->name);
    r->name = NULL;
    free(r->tags);
    r->tags = NULL;
    r->r.discard_body = false;

    r->url.len = 0;
    bool absolute = strstr(url, "://") != NULL;
    if (!absolute) {
        if (cfg->host == NULL || cfg->host[0] == '\0')
            luaL_error(L, "tide.http: relative URL \"%s\" needs a host (--host or options.host)",
                       url);
        tide_buf_append(&r->url, cfg->host, strlen(cfg->host));
        if (url[0] != '/')
            tide_buf_append(&r->url, "/", 1);
    }
    tide_buf_append(&r->url, url, strlen(url));
    bool has_opts = lua_type(L, opts) == LUA_TTABLE;
    if (has_opts && lua_getfield(L, opts, "query") == LUA_TTABLE) {
        struct tide_buf q = {0};
        encode_pairs(L, -1, &q);
        if (q.len > 0) {
            tide_buf_append(&r->url, strchr(r->url.data, '?') ? "&" : "?", 1);
            tide_buf_append(&r->url, q.data, q.len);
        }
        tide_buf_free(&q);
    }
    if (has_opts)
        lua_pop(L, 1);
    set_url(r, e);

    /* method and body */
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    r->send.len = 0;
    bool has_body = false;
    const char *ctype = NULL;
    if (has_opts) {
        if (lua_getfield(L, opts, "json") != LUA_TNIL) {
            struct tide_err err;
            cJSON *j = tide_json_from_lua(L, -1, &err);
            if (j == NULL) {
                luaL_error(L, "tide.http: json: %s", err.msg);
            }
            char *s = cJSON_PrintUnformatted(j);
            cJSON_Delete(j);
            tide_buf_append(&r->send, s, strlen(s));
            free(s);
            has_body = true;
            ctype = "Content-Type: application/json";
        }
        lua_pop(L, 1);
        if (!has_body) {
            if (lua_getfield(L, opts, "form") == LUA_TTABLE) {
                encode_pairs(L, -1, &r->send);
                if (r->send.data == NULL)
                    tide_buf_append(&r->send, "", 0);
                has_body = true;
                ctype = "Content-Type: application/x-www-form-urlencoded";
            }
            lua_pop(L, 1);
        }
        if (!has_body) {
            if (lua_getfield(L, opts, "body") != LUA_TNIL) {
                size_t n;
                const char *s = luaL_tolstring(L, -1, &n);
                tide_buf_append(&r->send, s, n);
                lua_pop(L, 1);
                has_body = true;
            }
            lua_pop(L, 1);
        }
    }
    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(r->method, "GET") != 0 || has_body) {
        if (strcmp(r->method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
        if (has_body || strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
            strcmp(r->method, "PATCH") == 0) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->send.len);
            curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, r->send.data != NULL ? r->send.data : "");
        }
    }

    /* headers: never 'Expect: 100-continue' (a wasted round trip on every large body) */
    r->headers = curl_slist_append(r->headers, "Expect:");
    if (has_opts && lua_getfield(L, opts, "headers") == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
            if (lua_type(L, -2) == LUA_TSTRING) {
                const char *k = lua_tostring(L, -2);
                const char *v = luaL_tolstring(L, -1, NULL);
                size_t n = strlen(k) + strlen(v) + 3;
                char *line = malloc(n);
                if (line != NULL) {
                    snprintf(line, n, "%s: %s", k, v);
                    r->headers = curl_slist_append(r->headers, line);
                    free(line);
                }
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
    }
    if (has_opts)
        lua_pop(L, 1);
    if (ctype != NULL && !has_header(r->headers, "Content-Type"))
        r->headers = curl_slist_append(r->headers, ctype);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);

    long redirects = DEFAULT_REDIRECTS;
    if (has_opts) {
        if (lua_getfield(L, opts, "redirects") != LUA_TNIL)
            redirects = (long)luaL_checkinteger(L, -1);
        lua_pop(L, 1);
        if (lua_getfield(L, opts, "name") != LUA_TNIL)
            r->name = strdup(luaL_checkstring(L, -1));
        lua_pop(L, 1);
        if (lua_getfield(L, opts, "discard_body") != LUA_TNIL)
            r->r.discard_body = lua_toboolean(L, -1);
        lua_pop(L, 1);
        if (lua_getfield(L, opts, "tags") == LUA_TTABLE) {
            char canon[1024];
            tide_lua_tags(L, -1, canon, sizeof canon);
            r->tags = strdup(canon);
        }
        lua_pop(L, 1);
        read_expect(L, opts, r);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms_of(L, opts));
    } else {
        r->nexpect = 0;
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, DEFAULT_TIMEOUT_MS);
    }
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, redirects > 0 ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, redirects);
    if (r->name == NULL) {
        char name[512];
        tide_url_group(r->url.data, name, sizeof name);
        r->name = strdup(name);
    }
}

static bool expected_status(const struct tide_vu_request *r, long status)
{
    if (r->nexpect == 0)
        return status >= 200 && status < 400;
    for (int i = 0; i < r->nexpect; i++) {
        if (r->expect[i] == status)
            return true;
    }
    return false;
}

/* k6-style error codes for transport failures (docs/scenario-api.md lists them). */
static int error_code_of(CURLcode c)
{
    switch (c) {
    case CURLE_OPERATION_TIMEDOUT:
        return 1050;
    case CURLE_COULDNT_RESOLVE_HOST:
        return 1100;
    case CURLE_COULDNT_CONNECT:
        return 1212;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return 1220;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        return 1300;
    case CURLE_TOO_MANY_REDIRECTS:
        return 1400;
    case CURLE_WEIRD_SERVER_REPLY:
        return 1500;
    case CURLE_UNSUPPORTED_PROTOCOL: /* also a garbage status line from the server */
        return 1500;
    case CURLE_URL_MALFORMAT:
        return 1020;
    default:
        return 1000;
    }
}

struct timings {
    double blocked, connecting, tls, sending, waiting, receiving, duration;
};

static double ms_between(curl_off_t a, curl_off_t b)
{
    return b > a ? (double)(b - a) / 1000.0 : 0;
}

static void read_timings(CURL *e, struct timings *t)
{
    curl_off_t dns = 0, conn = 0, app = 0, pre = 0, start = 0, total = 0;
    curl_easy_getinfo(e, CURLINFO_NAMELOOKUP_TIME_T, &dns);
    curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &conn);
    curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &app);
    curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pre);
    curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &start);
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total);
    if (conn < dns)
        conn = dns;
    curl_off_t ready = app > conn ? app : conn;
    if (pre < ready)
        pre = ready;
    if (start < pre)
        start = pre;
    if (total < start)
        total = start;
    t->blocked = (double)dns / 1000.0;
    t->connecting = ms_between(dns, conn);
    t->tls = app > 0 ? ms_between(conn, app) : 0;
    t->sending = ms_between(ready, pre);
    t->waiting = ms_between(pre, start);
    t->receiving = ms_between(start, total);
    t->duration = t->sending + t->waiting + t->receiving;
}

/* Records the samples of a finished request; fills status/timings for the response. */
static void record(struct tide_vu_request *r, long status, const struct timings *t,
                   double corrected)
{
    struct tide_vu *vu = r->vu;
    struct tide_registry *reg = vu->w->reg;
    struct tide_tags extra = {0};
    char scratch[1024], statusbuf[16], tags[2048], canon[2048];
    tide_tags_parse(r->tags != NULL ? r->tags : "", scratch, sizeof scratch, &extra);
    snprintf(statusbuf, sizeof statusbuf, "%ld", status);
    tide_tags_set(&extra, "name", r->name);
    tide_tags_set(&extra, "method", r->method);
    tide_tags_set(&extra, "status", statusbuf);
    tide_tags_canon(&extra, canon, sizeof canon);
    tide_vu_tags(vu, canon, tags, sizeof tags);

    bool failed = r->r.result != CURLE_OK || !expected_status(r, status);
    uint64_t th = tide_tags_hash(tags);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQS, tags, th, 1);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_FAILED, tags, th, failed ? 1 : 0);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_DURATION, tags, th, corrected);
    if (vu->sched_start_us > 0)
        tide_registry_add_h(reg, TIDE_M_HTTP_REQ_DURATION_UNCORRECTED, tags, th, t->duration);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_BLOCKED, tags, th, t->blocked);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_CONNECTING, tags, th, t->connecting);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_TLS, tags, th, t->tls);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_SENDING, tags, th, t->sending);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_WAITING, tags, th, t->waiting);
    tide_registry_add_h(reg, TIDE_M_HTTP_REQ_RECEIVING, tags, th, t->receiving);
    curl_off_t up = 0, hdr = 0;
    curl_easy_getinfo(r->r.easy, CURLINFO_SIZE_UPLOAD_T, &up);
    curl_easy_getinfo(r->r.easy, CURLINFO_REQUEST_SIZE, &hdr);
    tide_registry_add_h(reg, TIDE_M_DATA_SENT, tags, th, (double)up + (double)hdr);
    tide_registry_add_h(reg, TIDE_M_DATA_RECEIVED, tags, th,
                        (double)r->r.body_bytes + (double)r->r.headers.len);
    tide_registry_add_h(reg, TIDE_M_CONTENT_BYTES, tags, th, (double)r->r.body_bytes);
    if (failed) {
        char errtext[300];
        if (r->r.result != CURLE_OK) /* libcurl's generic text: one row per kind of error */
            snprintf(errtext, sizeof errtext, "%s (curl %d)", curl_easy_strerror(r->r.result),
                     (int)r->r.result);
        else
            snprintf(errtext, sizeof errtext, "HTTP %ld", status);
        tide_redact_buf(errtext, sizeof errtext);
        struct tide_tags ft = {0};
        tide_tags_set(&ft, "method", r->method);
        tide_tags_set(&ft, "name", r->name);
        tide_tags_set(&ft, "error", errtext);
        tide_tags_canon(&ft, canon, sizeof canon);
        tide_registry_add(reg, TIDE_M_FAILURES, canon, 1);
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
    struct tide_vu *vu = r->vu;
    CURL *e = r->r.easy;
    long status = 0;
    if (r->r.result == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    struct timings t;
    read_timings(e, &t);
    double corrected = t.duration;
    if (vu->sched_start_us > 0) {
        /* coordinated omission: time from when this request should have started */
        int64_t should =
            vu->prev_req_end_us > vu->sched_start_us ? vu->prev_req_end_us : vu->sched_start_us;
        double late = (double)(r->r.started_us - should) / 1000.0;
        if (late > 0)
            corrected += late;
        vu->prev_req_end_us = r->r.ended_us;
    }
    record(r, status, &t, corrected);

    lua_createtable(L, 0, 10);
    luaL_setmetatable(L, "tide.response");
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "status");
    if (r->r.body.data != NULL)
        lua_pushlstring(L, r->r.body.data, r->r.body.len);
    else
        lua_pushliteral(L, "");
    lua_setfield(L, -2, "body");
    /* headers and timings are built when first read: most iterations never look */
    const char *h = r->r.headers.data != NULL ? r->r.headers.data : "";
    lua_pushstring(L, strncmp(h, "HTTP/2", 6) == 0     ? "HTTP/2"
                      : strncmp(h, "HTTP/1.0", 8) == 0 ? "HTTP/1.0"
                                                       : "HTTP/1.1");
    lua_setfield(L, -2, "proto");
    lua_pushlstring(L, h, r->r.headers.len);
    lua_rawsetp(L, -2, &raw_headers_key);
    double packed[7] = {t.blocked, t.connecting, t.tls,    t.sending,
                        t.waiting, t.receiving,  corrected};
    lua_pushlstring(L, (const char *)packed, sizeof packed);
    lua_rawsetp(L, -2, &raw_timings_key);
    char *eff = NULL;
    curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &eff);
    lua_pushstring(L, eff != NULL ? eff : "");
    lua_setfield(L, -2, "url");
    lua_pushstring(L, r->method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, r->name);
    lua_setfield(L, -2, "name");
    if (r->r.result != CURLE_OK) {
        char msg[CURL_ERROR_SIZE + 64];
        snprintf(msg, sizeof msg, "%s",
                 r->r.errbuf[0] ? r->r.errbuf : curl_easy_strerror(r->r.result));
        tide_redact_buf(msg, sizeof msg);
        lua_pushstring(L, msg);
        lua_setfield(L, -2, "error");
        lua_pushinteger(L, error_code_of(r->r.result));
        lua_setfield(L, -2, "error_code");
    }
    r->done = true;
    tide_http_easy_put(vu->w->http, &r->r); /* everything read: lend the handle to others */
}

/* tide_http_req.done for single requests */
static void on_single_done(struct tide_http_req *hr)
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

static void on_batch_done(struct tide_http_req *hr)
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
    prepare(L, vu, &vu->req, method, url, 3);
    vu->req.r.done = on_single_done;
    vu->state = TIDE_VU_WAIT_IO;
    if (!tide_conn_admit(vu)) /* queued: started by tide_conn_release */
        return lua_yield(L, 0);
    start_or_raise(L, vu, &vu->req);
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
            prepare(L, vu, &vu->batch[i], "GET", lua_tostring(L, item), lua_gettop(L));
        } else if (t == LUA_TTABLE) {
            const char *method, *url;
            int opts;
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
            }
            prepare(L, vu, &vu->batch[i], method, url, opts);
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
    vu->state = TIDE_VU_WAIT_IO;
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
    {"batch", l_batch},     {NULL, NULL},
};

int luaopen_tide_http(lua_State *L)
{
    luaL_newmetatable(L, "tide.headers");
    lua_pushcfunction(L, headers_index);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newmetatable(L, "tide.response");
    lua_pushcfunction(L, response_index);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newlib(L, http_funcs);
    return 1;
}
