/* Tests of 'tide target' in-process: started on a free loopback port, driven with libcurl (and a
 * raw socket for what curl will not send), every route, auth, tenants, /_stats and each fault
 * as a client sees it. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <cJSON.h>
#include <curl/curl.h>
#include "../check.h"
#include "target.h"

static char base[64];
static int port;

struct resp {
    CURLcode rc;
    long status;
    char *body;
    size_t len;
    char head[8192];
    size_t head_len;
    double ms;
    long connects;
    cJSON *json;
};

static struct resp R; /* the last response */

enum { F_FOLLOW = 1, F_CLOSE = 2 };

static const char *cookie; /* sent with the next request when not NULL */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    char *b = realloc(R.body, R.len + n + 1);
    if (b == NULL)
        return 0;
    memcpy(b + R.len, p, n);
    R.body = b;
    R.len += n;
    R.body[R.len] = '\0';
    return n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    if (R.head_len + n < sizeof R.head) {
        memcpy(R.head + R.head_len, p, n);
        R.head_len += n;
        R.head[R.head_len] = '\0';
    }
    return n;
}

/* One request on handle 'h' (reusing its connections); fills R. */
static struct resp *req(CURL *h, const char *method, const char *path, const char *token,
                        const char *tenant, const char *body, int flags)
{
    char url[512], auth[256], ten[128];
    struct curl_slist *hs = NULL;
    free(R.body);
    cJSON_Delete(R.json);
    memset(&R, 0, sizeof R);
    curl_easy_reset(h);
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (flags & F_FOLLOW)
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    if (cookie != NULL)
        curl_easy_setopt(h, CURLOPT_COOKIE, cookie);
    if (token != NULL) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hs = curl_slist_append(hs, auth);
    }
    if (tenant != NULL) {
        snprintf(ten, sizeof ten, "X-Tenant-ID: %s", tenant);
        hs = curl_slist_append(hs, ten);
    }
    if (flags & F_CLOSE)
        hs = curl_slist_append(hs, "Connection: close");
    if (body != NULL) {
        hs = curl_slist_append(hs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    R.rc = curl_easy_perform(h);
    clock_gettime(CLOCK_MONOTONIC, &b);
    R.ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &R.status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &R.connects);
    curl_slist_free_all(hs);
    if (R.body != NULL)
        R.json = cJSON_Parse(R.body);
    return &R;
}

static CURL *H; /* the shared handle: keep-alive across tests */

static long get(const char *path)
{
    return req(H, "GET", path, NULL, NULL, NULL, 0)->status;
}

/* The value of response header 'name' (any case), or "". */
static const char *header(const char *name)
{
    static char v[512];
    size_t n = strlen(name);
    v[0] = '\0';
    for (const char *l = R.head; *l != '\0';) {
        const char *end = strstr(l, "\r\n");
        if (end == NULL)
            break;
        if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
            const char *p = l + n + 1;
            while (*p == ' ')
                p++;
            snprintf(v, sizeof v, "%.*s", (int)(end - p), p);
            return v;
        }
        l = end + 2;
    }
    return v;
}

static const cJSON *field(const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(R.json, name);
}

static const char *str(const char *name)
{
    const cJSON *f = field(name);
    return cJSON_IsString(f) ? f->valuestring : "(not a string)";
}

static double num(const char *name)
{
    const cJSON *f = field(name);
    return cJSON_IsNumber(f) ? f->valuedouble : -1;
}

/* Raw socket: sends 'data', returns what came back until the server closed (or 2 s). */
static char *raw(const char *data, size_t len, size_t *got)
{
    static char buf[65536];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {2, 0};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    *got = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && send(fd, data, len, 0) > 0) {
        ssize_t n;
        while ((n = recv(fd, buf + *got, sizeof buf - 1 - *got, 0)) > 0)
            *got += (size_t)n;
    }
    buf[*got] = '\0';
    close(fd);
    return buf;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static char *login(const char *user, const char *pw)
{
    char body[256];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);
    req(H, "POST", "/api/auth/login", NULL, NULL, body, 0);
    CHECK(R.status == 200);
    return strdup(str("token"));
}

static int64_t create(const char *token, const char *tenant, const char *name, const char *desc)
{
    char body[1024];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"description\":\"%s\"}", name, desc);
    req(H, "POST", "/api/projects", token, tenant, body, 0);
    CHECK(R.status == 201);
    return (int64_t)num("id");
}

static void set_faults(const char *json)
{
    req(H, "POST", "/_faults", NULL, NULL, json, 0);
    CHECK(R.status == 200);
    if (R.status != 200)
        fprintf(stderr, "  POST /_faults %s: %s\n", json, R.body);
}

static void clear_faults(void)
{
    req(H, "DELETE", "/_faults", NULL, NULL, NULL, 0);
    CHECK(R.status == 200);
}

static void test_target_refuses_other_addresses(void)
{
    struct tide_target_opts o;
    struct tide_err err = {{0}};
    tide_target_opts_init(&o);
    o.bind_host = "0.0.0.0";
    CHECK(tide_target_start(&o, &err) == NULL);
    CHECK_STR(err.msg, "--bind 0.0.0.0: not a loopback address (use 127.0.0.1, another "
                       "127.x.y.z, ::1 or localhost)");
    o.bind_host = "192.168.1.1";
    CHECK(tide_target_start(&o, &err) == NULL);
    o.bind_host = "example.com";
    CHECK(tide_target_start(&o, &err) == NULL);
    o.bind_host = "127.0.0.2";
    struct tide_target *t = tide_target_start(&o, &err);
    CHECK(t != NULL && tide_target_port(t) > 0);
    tide_target_stop(t);
    tide_target_stop(NULL);
}

static void test_target_test_routes(void)
{
    CHECK(get("/health") == 200);
    CHECK_STR(R.body, "{\"status\":\"ok\"}");
    CHECK_STR(header("Content-Type"), "application/json");

    req(H, "HEAD", "/health", NULL, NULL, NULL, 0);
    CHECK(R.status == 200 && R.len == 0);
    CHECK_STR(header("Content-Length"), "15");

    req(H, "PUT", "/echo/x?a=1&b=caf%C3%A9&a=2", "tok", NULL, "{\"k\":\"v\"}", 0);
    CHECK(R.status == 200);
    CHECK_STR(str("method"), "PUT");
    CHECK_STR(str("path"), "/echo/x");
    CHECK_STR(str("query"), "a=1&b=caf%C3%A9&a=2");
    CHECK_STR(str("body"), "{\"k\":\"v\"}");
    const cJSON *args = field("args"), *hs = field("headers");
    CHECK_STR(cJSON_GetObjectItem(args, "a")->valuestring, "1");
    CHECK_STR(cJSON_GetObjectItem(args, "b")->valuestring, "caf\xc3\xa9");
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(hs, "authorization")->valuestring, "Bearer tok");
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(hs, "content-type")->valuestring,
              "application/json");

    const long codes[] = {200, 201, 202, 204, 400, 401, 403, 404, 418, 429, 500, 502, 503, 599};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char path[32];
        snprintf(path, sizeof path, "/status/%ld", codes[i]);
        CHECK(get(path) == codes[i]);
    }
    CHECK(get("/status/99") == 400);
    CHECK(get("/status/abc") == 400);

    CHECK(get("/redirect/3") == 302);
    CHECK_STR(header("Location"), "/redirect/2");
    req(H, "GET", "/redirect/3", NULL, NULL, NULL, F_FOLLOW);
    long redirects = 0;
    curl_easy_getinfo(H, CURLINFO_REDIRECT_COUNT, &redirects);
    CHECK(R.status == 200 && redirects == 3);

    CHECK(get("/cookies/set?sid=abc&lang=fr") == 200);
    CHECK_STR(header("Set-Cookie"), "sid=abc; Path=/");
    CHECK(count_of(R.head, "Set-Cookie: ") == 2 && strstr(R.head, "lang=fr; Path=/") != NULL);
    cookie = "sid=abc; lang=fr";
    CHECK(get("/cookies") == 200);
    cookie = NULL;
    const cJSON *jar = field("cookies");
    CHECK(cJSON_GetArraySize(jar) == 2);
    CHECK_STR(cJSON_GetObjectItem(jar, "sid")->valuestring, "abc");
    CHECK_STR(cJSON_GetObjectItem(jar, "lang")->valuestring, "fr");

    CHECK(get("/bytes/100000") == 200 && R.len == 100000);
    CHECK(R.body[0] == 'a' && R.body[25] == 'z' && R.body[26] == 'a');
    CHECK(get("/bytes/0") == 200 && R.len == 0);
    CHECK(get("/bytes/-1") == 400);

    /* Delays are floors: a busy machine makes responses later, never earlier (no upper
     * bounds on times in these tests; every request has curl's 5 s timeout). */
    CHECK(get("/delay?ms=200") == 200);
    CHECK(R.ms >= 195);
    CHECK(get("/delay/100") == 200);
    CHECK(R.ms >= 95);
    CHECK(get("/delay?ms=x") == 400);
    CHECK(get("/delay/60001") == 400);

    CHECK(get("/nope") == 404);
    CHECK(get("/api/nope") == 404);
    req(H, "POST", "/api/search", NULL, NULL, "{}", 0);
    CHECK(R.status == 405);
    CHECK_STR(header("Allow"), "GET");
}

static void test_target_keeps_connections_alive(void)
{
    CURL *h = curl_easy_init();
    req(h, "GET", "/health", NULL, NULL, NULL, 0);
    CHECK(R.status == 200 && R.connects == 1);
    for (int i = 0; i < 5; i++) {
        req(h, "POST", "/echo", NULL, NULL, "{\"i\":1}", 0);
        CHECK(R.status == 200 && R.connects == 0);
    }
    req(h, "GET", "/health", NULL, NULL, NULL, F_CLOSE);
    CHECK(R.status == 200);
    CHECK_STR(header("Connection"), "close");
    req(h, "GET", "/health", NULL, NULL, NULL, 0);
    CHECK(R.status == 200 && R.connects == 1);
    curl_easy_cleanup(h);
}

static void test_target_raw_requests(void)
{
    size_t got;
    const char pipelined[] = "GET /status/201 HTTP/1.1\r\nHost: x\r\n\r\n"
                             "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                             "GET /health HTTP/1.1\r\nConnection: close\r\n\r\n";
    char *r = raw(pipelined, sizeof pipelined - 1, &got);
    const char *a = strstr(r, "HTTP/1.1 201"), *b = strstr(r, "\"body\":\"abc\"");
    const char *c = strstr(r, "{\"status\":\"ok\"}");
    CHECK(a != NULL && b != NULL && c != NULL && a < b && b < c);
    CHECK(count_of(r, "HTTP/1.1 ") == 3);

    /* A held response holds back the ones after it: answers stay in order. */
    const char delayed[] = "GET /delay/150 HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\n"
                           "Connection: close\r\n\r\n";
    r = raw(delayed, sizeof delayed - 1, &got);
    a = strstr(r, "{\"delay_ms\":150}");
    c = strstr(r, "{\"status\":\"ok\"}");
    CHECK(a != NULL && c != NULL && a < c);

    static char huge[70000];
    size_t n = (size_t)snprintf(huge, sizeof huge, "GET / HTTP/1.1\r\nX-Big: ");
    memset(huge + n, 'x', sizeof huge - n);
    r = raw(huge, sizeof huge, &got);
    CHECK(strncmp(r, "HTTP/1.1 431 ", 13) == 0);
    req(H, "GET", "/_stats", NULL, NULL, NULL, 0);
    double bad = num("bad_requests");

    const char garbage[] = "GARBAGE\r\n\r\n";
    r = raw(garbage, sizeof garbage - 1, &got);
    CHECK(strncmp(r, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
    CHECK(strstr(r, "{\"error\":\"bad method\"}") != NULL);
    CHECK(strstr(r, "Connection: close") != NULL);

    const char big[] = "POST /echo HTTP/1.1\r\nContent-Length: 9999999999\r\n\r\n";
    r = raw(big, sizeof big - 1, &got);
    CHECK(strncmp(r, "HTTP/1.1 413 ", 13) == 0);
    req(H, "GET", "/_stats", NULL, NULL, NULL, 0);
    CHECK(num("bad_requests") == bad + 2); /* the garbage and this one */

    const char chunked[] = "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                           "Connection: close\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
    r = raw(chunked, sizeof chunked - 1, &got);
    CHECK(strstr(r, "\"body\":\"abcdefg\"") != NULL);

    const char http10[] = "GET /health HTTP/1.0\r\n\r\n";
    r = raw(http10, sizeof http10 - 1, &got);
    CHECK(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0 && strstr(r, "Connection: close") != NULL);

    /* A 2 MB body: curl sends 'Expect: 100-continue' and would wait 1 s without an answer;
     * the interim answer reaches the header callback. */
    n = 2u << 20;
    char *body = malloc(n + 1);
    memset(body, 'x', n);
    body[n] = '\0';
    req(H, "POST", "/echo", NULL, NULL, body, 0);
    CHECK(R.status == 200 && num("body_length") == (double)n);
    CHECK(strstr(R.head, "HTTP/1.1 100 Continue\r\n") == R.head);
    free(body);
}

static void test_target_auth(void)
{
    req(H, "POST", "/api/auth/login", NULL, NULL, "{\"username\":\"demo\",\"password\":\"x\"}", 0);
    CHECK(R.status == 401);
    CHECK_STR(str("error"), "invalid credentials");
    req(H, "POST", "/api/auth/login", NULL, NULL, "{\"username\":\"nobody\",\"password\":\"x\"}",
        0);
    CHECK(R.status == 401);
    req(H, "POST", "/api/auth/login", NULL, NULL, "{\"username\":", 0);
    CHECK(R.status == 422);
    req(H, "POST", "/api/auth/login", NULL, NULL, "{\"password\":\"demo\"}", 0);
    CHECK(R.status == 422);
    CHECK_STR(str("field"), "username");
    req(H, "GET", "/api/auth/login", NULL, NULL, NULL, 0);
    CHECK(R.status == 405);

    char *tok = login("user42", "pw-user42");
    CHECK(strlen(tok) == 32);
    char *alice = login("alice", "alice-pw");
    CHECK(strcmp(tok, alice) != 0);

    req(H, "GET", "/api/projects", NULL, "t1", NULL, 0);
    CHECK(R.status == 401);
    CHECK_STR(str("error"), "missing bearer token");
    CHECK_STR(header("WWW-Authenticate"), "Bearer");
    req(H, "GET", "/api/projects", "0123456789abcdef0123456789abcdef", "t1", NULL, 0);
    CHECK(R.status == 401);
    CHECK_STR(str("error"), "invalid token");
    req(H, "GET", "/api/projects", tok, NULL, NULL, 0);
    CHECK(R.status == 400);
    CHECK_STR(R.body, "{\"error\":\"missing X-Tenant-ID\"}");
    req(H, "GET", "/api/projects", tok, "bad tenant!", NULL, 0);
    CHECK(R.status == 400);
    req(H, "GET", "/api/projects", tok, "t1", NULL, 0);
    CHECK(R.status == 200);

    req(H, "POST", "/api/auth/login", NULL, NULL,
        "{\"username\":\"bob\",\"password\":\"bob-pw\",\"ttl\":0}", 0);
    CHECK(R.status == 200);
    char *expired = strdup(str("token"));
    req(H, "GET", "/api/projects", expired, "t1", NULL, 0);
    CHECK(R.status == 401);
    CHECK_STR(R.body, "{\"error\":\"token expired\"}");
    req(H, "POST", "/api/auth/login", NULL, NULL,
        "{\"username\":\"bob\",\"password\":\"bob-pw\",\"ttl\":-1}", 0);
    CHECK(R.status == 422);

    req(H, "POST", "/api/auth/logout", alice, NULL, NULL, 0);
    CHECK(R.status == 204);
    req(H, "GET", "/api/projects", alice, "t1", NULL, 0);
    CHECK(R.status == 401);
    CHECK_STR(str("error"), "invalid token");
    req(H, "POST", "/api/auth/logout", alice, NULL, NULL, 0);
    CHECK(R.status == 401);
    free(tok);
    free(alice);
    free(expired);
}

static void test_target_crud(void)
{
    char *tok = login("demo", "demo");
    char path[64], name[1024];
    req(H, "POST", "/api/projects", tok, "crud", "{\"name\":\"Apollo\",\"description\":\"moon\"}",
        0);
    CHECK(R.status == 201);
    int64_t id = (int64_t)num("id");
    snprintf(path, sizeof path, "/api/projects/%lld", (long long)id);
    CHECK_STR(header("Location"), path);
    CHECK_STR(str("name"), "Apollo");
    CHECK_STR(str("description"), "moon");
    CHECK(strlen(str("created_at")) == 24 && strcmp(str("created_at"), str("updated_at")) == 0);

    req(H, "GET", path, tok, "crud", NULL, 0);
    CHECK(R.status == 200 && num("id") == (double)id);
    CHECK_STR(str("name"), "Apollo");

    req(H, "PATCH", path, tok, "crud", "{\"description\":\"to the moon\"}", 0);
    CHECK(R.status == 200);
    CHECK_STR(str("name"), "Apollo");
    CHECK_STR(str("description"), "to the moon");
    req(H, "PATCH", path, tok, "crud", "{\"description\":null}", 0);
    CHECK(R.status == 200);
    CHECK_STR(str("description"), "");
    req(H, "PUT", path, tok, "crud", "{\"name\":\"Artemis\"}", 0);
    CHECK(R.status == 200);
    CHECK_STR(str("name"), "Artemis");
    CHECK_STR(str("description"), "");
    req(H, "PUT", path, tok, "crud", "{\"description\":\"no name\"}", 0);
    CHECK(R.status == 422);
    CHECK_STR(str("field"), "name");

    /* Validation. */
    const struct {
        const char *body;
        const char *field; /* NULL: null */
    } bad[] = {
        {"{\"name\":", NULL},
        {"[1,2]", NULL},
        {"{}", "name"},
        {"{\"name\":\"\"}", "name"},
        {"{\"name\":\"  \"}", "name"},
        {"{\"name\":42}", "name"},
        {"{\"name\":null}", "name"},
        {"{\"name\":\"x\",\"description\":7}", "description"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        req(H, "POST", "/api/projects", tok, "crud", bad[i].body, 0);
        CHECK(R.status == 422);
        CHECK(cJSON_IsString(field("error")));
        if (bad[i].field != NULL)
            CHECK_STR(str("field"), bad[i].field);
        else
            CHECK(cJSON_IsNull(field("field")));
    }
    memset(name, 'n', 201);
    name[201] = '\0';
    char body[1200];
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    req(H, "POST", "/api/projects", tok, "crud", body, 0);
    CHECK(R.status == 422);
    CHECK_STR(str("field"), "name");
    name[200] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    req(H, "POST", "/api/projects", tok, "crud", body, 0);
    CHECK(R.status == 201);
    /* 200 characters of 3 bytes each are fine: the limit counts characters. */
    name[0] = '\0';
    for (int i = 0; i < 200; i++)
        strcat(name, "\xe2\x98\x83");
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    req(H, "POST", "/api/projects", tok, "crud", body, 0);
    CHECK(R.status == 201);
    CHECK_STR(str("name"), name);

    /* Unicode round trip, raw and escaped. */
    req(H, "POST", "/api/projects", tok, "crud",
        "{\"name\":\"Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80\","
        "\"description\":\"\\u00e9t\\u00e9 \\ud83c\\udf1e\"}",
        0);
    CHECK(R.status == 201);
    snprintf(path, sizeof path, "/api/projects/%lld", (long long)num("id"));
    req(H, "GET", path, tok, "crud", NULL, 0);
    CHECK_STR(str("name"), "Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80");
    CHECK_STR(str("description"), "\xc3\xa9t\xc3\xa9 \xf0\x9f\x8c\x9e");

    /* Duplicates within a tenant. */
    req(H, "POST", "/api/projects", tok, "crud", "{\"name\":\"Artemis\"}", 0);
    CHECK(R.status == 409);
    CHECK_STR(str("field"), "name");
    int64_t other = create(tok, "crud", "Gemini", "");
    snprintf(path, sizeof path, "/api/projects/%lld", (long long)other);
    req(H, "PATCH", path, tok, "crud", "{\"name\":\"Artemis\"}", 0);
    CHECK(R.status == 409);
    req(H, "PATCH", path, tok, "crud", "{\"name\":\"Gemini\"}", 0);
    CHECK(R.status == 200);

    snprintf(path, sizeof path, "/api/projects/%lld", (long long)id);
    req(H, "DELETE", path, tok, "crud", NULL, 0);
    CHECK(R.status == 204 && R.len == 0);
    req(H, "GET", path, tok, "crud", NULL, 0);
    CHECK(R.status == 404);
    CHECK_STR(R.body, "{\"error\":\"project not found\"}");
    req(H, "DELETE", path, tok, "crud", NULL, 0);
    CHECK(R.status == 404);
    req(H, "PUT", path, tok, "crud", "{\"name\":\"x\"}", 0);
    CHECK(R.status == 404);
    req(H, "GET", "/api/projects/abc", tok, "crud", NULL, 0);
    CHECK(R.status == 404);
    req(H, "POST", "/api/projects", tok, "crud", "{\"name\":\"Artemis\"}", 0);
    CHECK(R.status == 201); /* the name is free again */
    free(tok);
}

static void test_target_tenants_are_isolated(void)
{
    char *tok = login("user1", "pw-user1");
    char path[64];
    int64_t id = create(tok, "acme", "Secret plan", "acme only");
    snprintf(path, sizeof path, "/api/projects/%lld", (long long)id);
    req(H, "GET", path, tok, "globex", NULL, 0);
    CHECK(R.status == 404);
    req(H, "PUT", path, tok, "globex", "{\"name\":\"stolen\"}", 0);
    CHECK(R.status == 404);
    req(H, "PATCH", path, tok, "globex", "{\"name\":\"stolen\"}", 0);
    CHECK(R.status == 404);
    req(H, "DELETE", path, tok, "globex", NULL, 0);
    CHECK(R.status == 404);
    req(H, "GET", "/api/projects", tok, "globex", NULL, 0);
    CHECK(R.status == 200 && num("total") == 0 && cJSON_GetArraySize(field("items")) == 0);
    req(H, "GET", "/api/search?q=secret", tok, "globex", NULL, 0);
    CHECK(R.status == 200 && num("total") == 0);
    create(tok, "globex", "Secret plan", "same name, other tenant"); /* no 409 */
    req(H, "GET", path, tok, "acme", NULL, 0);
    CHECK(R.status == 200);
    CHECK_STR(str("description"), "acme only");
    req(H, "GET", "/api/search?q=secret", tok, "acme", NULL, 0);
    CHECK(num("total") == 1);
    free(tok);
}

static void test_target_pagination_and_search(void)
{
    char *tok = login("demo", "demo");
    int64_t first = 0;
    for (int i = 1; i <= 25; i++) {
        char name[32];
        snprintf(name, sizeof name, "Item %02d", i);
        int64_t id = create(tok, "pages", name, i % 5 == 0 ? "has a NEEDLE inside" : "plain");
        first = first ? first : id;
    }
    req(H, "GET", "/api/projects", tok, "pages", NULL, 0);
    CHECK(R.status == 200 && num("page") == 1 && num("per_page") == 20 && num("total") == 25);
    const cJSON *items = field("items");
    CHECK(cJSON_GetArraySize(items) == 20);
    CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "id")->valuedouble == (double)first);
    double prev = 0;
    bool ordered = true;
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        double id = cJSON_GetObjectItem(it, "id")->valuedouble;
        ordered = ordered && id > prev;
        prev = id;
    }
    CHECK(ordered);
    req(H, "GET", "/api/projects?page=2", tok, "pages", NULL, 0);
    CHECK(cJSON_GetArraySize(field("items")) == 5 && num("page") == 2);
    req(H, "GET", "/api/projects?page=3&per_page=10", tok, "pages", NULL, 0);
    CHECK(cJSON_GetArraySize(field("items")) == 5);
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(field("items"), 0), "name")->valuestring,
              "Item 21");
    req(H, "GET", "/api/projects?page=9", tok, "pages", NULL, 0);
    CHECK(R.status == 200 && cJSON_GetArraySize(field("items")) == 0 && num("total") == 25);
    req(H, "GET", "/api/projects?per_page=500", tok, "pages", NULL, 0);
    CHECK(num("per_page") == 100 && cJSON_GetArraySize(field("items")) == 25);
    const char *bad[] = {"?page=0", "?page=-1", "?per_page=abc", "?per_page=0", "?page="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[64];
        snprintf(path, sizeof path, "/api/projects%s", bad[i]);
        req(H, "GET", path, tok, "pages", NULL, 0);
        CHECK(R.status == 422);
    }

    req(H, "GET", "/api/search?q=needle", tok, "pages", NULL, 0);
    CHECK(R.status == 200 && num("total") == 5 && cJSON_GetArraySize(field("items")) == 5);
    req(H, "GET", "/api/search?q=ITEM%201", tok, "pages", NULL, 0);
    CHECK(num("total") == 10); /* Item 10..19 */
    req(H, "GET", "/api/search?q=item&limit=3", tok, "pages", NULL, 0);
    CHECK(num("total") == 25 && cJSON_GetArraySize(field("items")) == 3);
    req(H, "GET", "/api/search?q=zzz", tok, "pages", NULL, 0);
    CHECK(R.status == 200 && num("total") == 0);
    req(H, "GET", "/api/search", tok, "pages", NULL, 0);
    CHECK(R.status == 422);
    CHECK_STR(str("field"), "q");
    req(H, "GET", "/api/search?q=", tok, "pages", NULL, 0);
    CHECK(R.status == 422);
    free(tok);
}

/* The count /_stats shows for 'key' and 'status', or -1. */
static double stat(const char *key, const char *status)
{
    const cJSON *route = cJSON_GetObjectItemCaseSensitive(field("requests"), key);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(route, status);
    return cJSON_IsNumber(n) ? n->valuedouble : -1;
}

static void test_target_stats_count_requests(void)
{
    char *tok = login("demo", "demo");
    req(H, "POST", "/_stats/reset", NULL, NULL, NULL, 0);
    CHECK(R.status == 204);
    for (int i = 0; i < 7; i++)
        get("/health");
    for (int i = 0; i < 3; i++)
        get("/status/404");
    int64_t id = create(tok, "stats", "S1", "");
    create(tok, "stats", "S2", "");
    req(H, "POST", "/api/projects", tok, "stats", "{\"name\":\"S1\"}", 0);
    char path[64];
    snprintf(path, sizeof path, "/api/projects/%lld", (long long)id);
    req(H, "GET", path, tok, "stats", NULL, 0);
    req(H, "GET", "/api/projects/999999", tok, "stats", NULL, 0);
    get("/nowhere");
    req(H, "GET", "/_faults", NULL, NULL, NULL, 0);

    req(H, "GET", "/_stats", NULL, NULL, NULL, 0);
    CHECK(R.status == 200);
    CHECK(stat("GET /health", "200") == 7);
    CHECK(stat("GET /status/{code}", "404") == 3);
    CHECK(stat("POST /api/projects", "201") == 2);
    CHECK(stat("POST /api/projects", "409") == 1);
    CHECK(stat("GET /api/projects/{id}", "200") == 1);
    CHECK(stat("GET /api/projects/{id}", "404") == 1);
    CHECK(stat("GET (unmatched)", "404") == 1);
    CHECK(stat("GET /_stats", "200") == -1);
    CHECK(stat("GET /_faults", "200") == -1);
    CHECK(num("total_requests") == 16);
    CHECK(cJSON_GetObjectItem(field("items_per_tenant"), "stats")->valuedouble == 2);
    const cJSON *conns = field("connections");
    CHECK(cJSON_GetObjectItem(conns, "live")->valuedouble >= 1);
    CHECK(cJSON_GetObjectItem(conns, "total")->valuedouble >= 1);

    req(H, "POST", "/_stats/reset", NULL, NULL, NULL, 0);
    req(H, "GET", "/_stats", NULL, NULL, NULL, 0);
    CHECK(num("total_requests") == 0 && cJSON_GetArraySize(field("requests")) == 0);
    free(tok);
}

static void test_target_faults_at_run_time(void)
{
    req(H, "GET", "/_faults", NULL, NULL, NULL, 0);
    CHECK(R.status == 200 && cJSON_IsNull(field("delay")) && num("reset_rate") == 0);
    set_faults("{\"delay\":\"20ms\",\"delay_dist\":\"bimodal:0.9:10ms:200ms\",\"stall\":\"1s/5s\","
               "\"error_rate\":[\"0.1:503:/api/*\",\"0.5\"],\"drop-writes\":true}");
    CHECK_STR(str("delay"), "20ms");
    CHECK_STR(str("delay_dist"), "bimodal:0.9:10ms:200ms");
    CHECK_STR(str("stall"), "1000ms/5000ms");
    CHECK(cJSON_GetArraySize(field("error_rate")) == 2);
    CHECK_STR(cJSON_GetArrayItem(field("error_rate"), 0)->valuestring, "0.1:503:/api/*");
    CHECK(cJSON_IsTrue(field("drop_writes")));
    req(H, "GET", "/_faults", NULL, NULL, NULL, 0);
    CHECK_STR(str("delay"), "20ms");

    req(H, "POST", "/_faults", NULL, NULL, "{\"delay\":\"5x\"}", 0);
    CHECK(R.status == 400);
    CHECK_STR(str("error"),
              "delay: duration \"5x\": unknown unit 'x' (use ms, s, m or h, e.g. 1h30m)");
    req(H, "POST", "/_faults", NULL, NULL, "{\"jitter\":\"5ms\"}", 0);
    CHECK(R.status == 400);
    req(H, "POST", "/_faults", NULL, NULL, "not json", 0);
    CHECK(R.status == 400);
    set_faults("{\"delay\":null,\"error_rate\":[]}");
    CHECK(cJSON_IsNull(field("delay")) && cJSON_GetArraySize(field("error_rate")) == 0);
    CHECK_STR(str("delay_dist"), "bimodal:0.9:10ms:200ms");
    clear_faults();
    CHECK(cJSON_IsNull(field("delay_dist")) && cJSON_IsFalse(field("drop_writes")));
}

static void test_target_fault_delays(void)
{
    set_faults("{\"delay\":\"150ms\"}");
    get("/health");
    CHECK(R.status == 200 && R.ms >= 145);
    get("/delay/100"); /* adds up */
    CHECK(R.ms >= 245);
    /* Control routes are never delayed: with a 3 s delay, /_stats answers in far less (a bound
     * 1000 times what it takes, not a speed). */
    set_faults("{\"delay\":\"3s\"}");
    req(H, "GET", "/_stats", NULL, NULL, NULL, 0);
    CHECK(R.status == 200 && R.ms < 1500);

    set_faults("{\"delay\":null,\"delay_dist\":\"uniform:40ms:80ms\"}");
    double lo = 1e9, hi = 0;
    for (int i = 0; i < 8; i++) {
        get("/health");
        lo = R.ms < lo ? R.ms : lo;
        hi = R.ms > hi ? R.ms : hi;
    }
    CHECK(lo >= 38 && hi >= lo);

    /* Half not delayed, half by 400 ms: 200 ms between them is 100 times what an undelayed
     * answer takes, so a busy machine does not blur the two. */
    set_faults("{\"delay_dist\":\"bimodal:0.5:0ms:400ms\"}");
    int fast = 0, slow = 0;
    for (int i = 0; i < 16; i++) {
        get("/health");
        fast += R.ms < 200;
        slow += R.ms >= 395;
    }
    CHECK(fast >= 2 && slow >= 2 && fast + slow == 16);

    /* From 400 ms after it is set, for 200 ms in every 400 ms, responses wait for the end. */
    set_faults("{\"delay_dist\":null,\"stall\":\"200ms/400ms\"}");
    double worst = 0, stalled = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int n = 0;
    do {
        get("/health");
        worst = R.ms > worst ? R.ms : worst;
        stalled += R.ms >= 50 ? 1 : 0;
        n++;
        clock_gettime(CLOCK_MONOTONIC, &b);
    } while ((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9 < 1.0);
    CHECK(worst >= 100);
    CHECK(stalled >= 1 && stalled < n); /* the first 400 ms are never stalled */

    set_faults("{\"stall\":null,\"slow_body\":\"300ms\"}");
    get("/bytes/1000");
    CHECK(R.status == 200 && R.len == 1000 && R.ms >= 290);
    CHECK(R.body != NULL && R.body[999] == 'a' + 999 % 26);
    clear_faults();
    req(H, "GET", "/_faults", NULL, NULL, NULL, 0);
    CHECK(cJSON_IsNull(field("slow_body")));
}

static void test_target_fault_errors(void)
{
    req(H, "POST", "/_stats/reset", NULL, NULL, NULL, 0);
    set_faults("{\"error_rate\":\"0.25\"}");
    int errors = 0;
    for (int i = 0; i < 400; i++)
        errors += get("/health") == 500;
    CHECK(errors >= 70 && errors <= 130);
    CHECK_STR(R.status == 500 ? str("error") : "injected fault", "injected fault");
    req(H, "GET", "/_stats", NULL, NULL, NULL, 0);
    CHECK(stat("GET /health", "500") == errors && stat("GET /health", "200") == 400 - errors);

    set_faults("{\"error_rate\":[\"0.5:503:/status/{code}\"]}");
    int health = 0, status = 0;
    for (int i = 0; i < 100; i++) {
        health += get("/health") != 200;
        status += get("/status/200") == 503;
    }
    CHECK(health == 0 && status >= 25 && status <= 75);
    set_faults("{\"error_rate\":[\"1:429:POST /echo\"]}");
    CHECK(get("/echo") == 200);
    req(H, "POST", "/echo", NULL, NULL, "{}", 0);
    CHECK(R.status == 429);
    clear_faults();
}

static void test_target_fault_connections(void)
{
    req(H, "POST", "/_stats/reset", NULL, NULL, NULL, 0);
    set_faults("{\"reset_rate\":1}");
    /* New connections each time: curl retries a request once when a reused one dies. */
    CURL *h = curl_easy_init();
    req(h, "GET", "/health", NULL, NULL, NULL, 0);
    curl_easy_cleanup(h);
    CHECK(R.rc == CURLE_RECV_ERROR || R.rc == CURLE_GOT_NOTHING);
    req(H, "GET", "/_stats", NULL, NULL, NULL, 0); /* still reachable */
    CHECK(R.status == 200 && stat("GET /health", "reset") == 1);

    set_faults("{\"reset_rate\":0.5}");
    int failed = 0;
    for (int i = 0; i < 60; i++) {
        h = curl_easy_init();
        req(h, "GET", "/health", NULL, NULL, NULL, 0);
        curl_easy_cleanup(h);
        failed += R.rc != CURLE_OK;
    }
    CHECK(failed >= 15 && failed <= 45);

    set_faults("{\"reset_rate\":0,\"malformed_rate\":1}");
    get("/health");
    CHECK(R.rc != CURLE_OK);
    req(H, "GET", "/_stats", NULL, NULL, NULL, 0);
    CHECK(stat("GET /health", "malformed") == 1);
    clear_faults();
    CHECK(get("/health") == 200);
}

static void test_target_fault_data(void)
{
    char *tok = login("demo", "demo");
    char path[64];
    int64_t kept = create(tok, "drop", "Kept", "");
    set_faults("{\"drop_writes\":true}");
    req(H, "POST", "/api/projects", tok, "drop", "{\"name\":\"Lost\"}", 0);
    CHECK(R.status == 201);
    snprintf(path, sizeof path, "/api/projects/%lld", (long long)num("id"));
    req(H, "GET", path, tok, "drop", NULL, 0);
    CHECK(R.status == 404);
    snprintf(path, sizeof path, "/api/projects/%lld", (long long)kept);
    req(H, "PATCH", path, tok, "drop", "{\"name\":\"Renamed\"}", 0);
    CHECK(R.status == 200);
    CHECK_STR(str("name"), "Renamed");
    req(H, "DELETE", path, tok, "drop", NULL, 0);
    CHECK(R.status == 204);
    req(H, "GET", path, tok, "drop", NULL, 0);
    CHECK(R.status == 200);
    CHECK_STR(str("name"), "Kept");

    set_faults("{\"drop_writes\":false}");
    create(tok, "leak-a", "Private A", "belongs to a");
    req(H, "GET", "/api/projects?per_page=100", tok, "leak-b", NULL, 0);
    CHECK(num("total") == 0);
    set_faults("{\"tenant_leak\":true}");
    req(H, "GET", "/api/projects?per_page=100", tok, "leak-b", NULL, 0);
    double all = num("total");
    char last[64];
    snprintf(last, sizeof last, "/api/projects?per_page=100&page=%d", (int)(all + 99) / 100);
    req(H, "GET", last, tok, "leak-b", NULL, 0);
    CHECK(all > 1 && strstr(R.body, "Private A") != NULL);
    req(H, "GET", "/api/search?q=private%20a", tok, "leak-b", NULL, 0);
    CHECK(num("total") == 1);
    clear_faults();
    req(H, "GET", "/api/search?q=private%20a", tok, "leak-b", NULL, 0);
    CHECK(num("total") == 0);
    free(tok);
}

/* tide_target_main on "target a1 [a2]"; it prints its one-line errors on stderr. */
static int main_with(const char *a1, const char *a2)
{
    char s0[] = "target", s1[64], s2[64];
    char *argv[] = {s0, s1, s2, NULL};
    snprintf(s1, sizeof s1, "%s", a1);
    snprintf(s2, sizeof s2, "%s", a2 != NULL ? a2 : "");
    return tide_target_main(a2 != NULL ? 3 : 2, argv);
}

static void test_target_fault_flags(void)
{
    struct tide_target_faults f = {0};
    struct tide_err err = {{0}};
    CHECK(tide_target_faults_set(&f, "delay", "20ms", &err) == 0 && f.delay_us == 20000);
    CHECK(tide_target_faults_set(&f, "delay-dist", "exp:20ms", &err) == 0);
    CHECK(f.dist == TIDE_TARGET_DIST_EXP && f.dist_a_us == 20000);
    CHECK(tide_target_faults_set(&f, "delay_dist", "uniform:5ms:50ms", &err) == 0);
    CHECK(f.dist == TIDE_TARGET_DIST_UNIFORM && f.dist_b_us == 50000);
    CHECK(tide_target_faults_set(&f, "stall", "1s/5s", &err) == 0);
    CHECK(f.stall_for_us == 1000000 && f.stall_every_us == 5000000);
    CHECK(tide_target_faults_set(&f, "error-rate", "0.1", &err) == 0);
    CHECK(tide_target_faults_set(&f, "error-rate", "0.2:503", &err) == 0);
    CHECK(tide_target_faults_set(&f, "error-rate", "0.3:/api/projects/{id}", &err) == 0);
    CHECK(f.n_errors == 3 && f.errors[1].status == 503 && f.errors[2].status == 500);
    CHECK_STR(f.errors[0].route, "*");
    CHECK_STR(f.errors[2].route, "/api/projects/{id}");
    CHECK(tide_target_faults_set(&f, "error-rate", NULL, &err) == 0 && f.n_errors == 0);
    CHECK(tide_target_faults_set(&f, "drop-writes", "true", &err) == 0 && f.drop_writes);

    const struct {
        const char *name, *value, *msg;
    } bad[] = {
        {"delay-dist", "normal:5ms",
         "delay-dist \"normal:5ms\": expected uniform:MIN:MAX, exp:MEAN or bimodal:P:FAST:SLOW "
         "(e.g. bimodal:0.9:10ms:200ms)"},
        {"delay-dist", "uniform:50ms:5ms", "delay-dist \"uniform:50ms:5ms\": MIN is above MAX"},
        {"stall", "5s/1s", "stall \"5s/1s\": FOR must be above 0 and below EVERY"},
        {"stall", "5s", "stall \"5s\": expected FOR/EVERY, e.g. 1s/5s"},
        {"reset-rate", "1.5", "reset-rate \"1.5\": expected a probability from 0 to 1, e.g. 0.05"},
        {"error-rate", "0.1:200",
         "error-rate \"0.1:200\": expected a status from 400 to 599 after the rate"},
        {"tenant-leak", "maybe", "tenant-leak \"maybe\": expected true or false"},
        {"jitter", "1ms",
         "unknown fault 'jitter' (one of delay, delay-dist, stall, error-rate, reset-rate, "
         "slow-body, malformed-rate, drop-writes, tenant-leak, leaky-erasure, "
         "incomplete-export, skip-audit, broken-authz)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(tide_target_faults_set(&f, bad[i].name, bad[i].value, &err) == -1);
        CHECK_STR(err.msg, bad[i].msg);
    }

    CHECK(main_with("--port", "70000") == 2);
    CHECK(main_with("--frobnicate", NULL) == 2);
    CHECK(main_with("--delay-dist=exp", NULL) == 2);
    CHECK(main_with("--delay", NULL) == 2);
    CHECK(main_with("--bind", "0.0.0.0") == 2);
    CHECK(main_with("--help", NULL) == 0);
}

/* A target of its own, with users from a file and faults from the options. */
static void test_target_users_file_and_start_faults(void)
{
    char path[] = "/tmp/tide-users-XXXXXX";
    int fd = mkstemp(path);
    const char csv[] = "username,password,tenant\n# comment\nann,ann-pw,acme\nbo,bo-pw\n";
    CHECK(fd >= 0 && write(fd, csv, sizeof csv - 1) == (ssize_t)(sizeof csv - 1));
    close(fd);
    struct tide_target_opts o;
    struct tide_err err = {{0}};
    tide_target_opts_init(&o);
    o.users_file = path;
    o.seed = 42;
    CHECK(tide_target_faults_set(&o.faults, "error-rate", "1:503:/api/search", &err) == 0);
    struct tide_target *t = tide_target_start(&o, &err);
    CHECK(t != NULL);
    if (t == NULL) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    char saved[64];
    snprintf(saved, sizeof saved, "%s", base);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", tide_target_port(t));
    CURL *h = curl_easy_init();
    req(h, "POST", "/api/auth/login", NULL, NULL, "{\"username\":\"demo\",\"password\":\"demo\"}",
        0);
    CHECK(R.status == 401);
    req(h, "POST", "/api/auth/login", NULL, NULL, "{\"username\":\"ann\",\"password\":\"ann-pw\"}",
        0);
    CHECK(R.status == 200);
    CHECK_STR(str("tenant"), "acme");
    char *ann = strdup(str("token"));
    req(h, "GET", "/api/projects", ann, "acme", NULL, 0);
    CHECK(R.status == 200);
    req(h, "GET", "/api/projects", ann, "globex", NULL, 0);
    CHECK(R.status == 403);
    req(h, "GET", "/api/search?q=x", ann, "acme", NULL, 0);
    CHECK(R.status == 503);
    curl_easy_cleanup(h);
    free(ann);
    tide_target_stop(t);
    snprintf(base, sizeof base, "%s", saved);

    const char bad[] = "ann\n";
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && write(fd, bad, sizeof bad - 1) == (ssize_t)(sizeof bad - 1));
    close(fd);
    CHECK(tide_target_start(&o, &err) == NULL);
    char expect[128];
    snprintf(expect, sizeof expect, "%s:1: expected 'username,password[,tenant[,role]]'", path);
    CHECK_STR(err.msg, expect);

    const char json[] = "[{\"username\":\"jo\",\"password\":\"jo-pw\"}]";
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && write(fd, json, sizeof json - 1) == (ssize_t)(sizeof json - 1));
    close(fd);
    t = tide_target_start(&o, &err);
    CHECK(t != NULL);
    tide_target_stop(t);
    unlink(path);
}

int main(void)
{
    struct tide_target_opts o;
    struct tide_err err = {{0}};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test_target_refuses_other_addresses();
    test_target_fault_flags();
    tide_target_opts_init(&o);
    o.seed = 7;
    struct tide_target *t = tide_target_start(&o, &err);
    if (t == NULL) {
        fprintf(stderr, "cannot start the target: %s\n", err.msg);
        return 1;
    }
    port = tide_target_port(t);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    H = curl_easy_init();
    test_target_test_routes();
    test_target_keeps_connections_alive();
    test_target_raw_requests();
    test_target_auth();
    test_target_crud();
    test_target_tenants_are_isolated();
    test_target_pagination_and_search();
    test_target_stats_count_requests();
    test_target_faults_at_run_time();
    test_target_fault_delays();
    test_target_fault_errors();
    test_target_fault_connections();
    test_target_fault_data();
    test_target_users_file_and_start_faults();
    curl_easy_cleanup(H);
    free(R.body);
    cJSON_Delete(R.json);
    tide_target_stop(t);
    curl_global_cleanup();
    return CHECK_DONE();
}
