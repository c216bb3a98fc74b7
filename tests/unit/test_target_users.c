/* Tests of 'tide target''s user routes in-process (docs/target.md#users-and-personal-data):
 * roles on the project routes, users, export, erasure with its receipt, import, the audit log
 * (and its cap, on the module directly), the rate-limited route, and each fault that breaks
 * one of these promises, as a client sees them. */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <cJSON.h>
#include <curl/curl.h>
#include "../check.h"
#include "target.h"
#include "target_audit.h"

static char base[64];
static CURL *H;

struct resp {
    long status;
    char *body;
    size_t len;
    char head[4096];
    size_t head_len;
    cJSON *json;
};

static struct resp R; /* the last response */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    (void)size;
    (void)ud;
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
    (void)size;
    (void)ud;
    if (R.head_len + n < sizeof R.head) {
        memcpy(R.head + R.head_len, p, n);
        R.head_len += n;
        R.head[R.head_len] = '\0';
    }
    return n;
}

/* One request; 'token' and 'tenant' may be NULL. Returns the status. */
static long req(const char *method, const char *path, const char *token, const char *tenant,
                const char *body)
{
    char url[512], auth[128], ten[128];
    struct curl_slist *hs = NULL;
    free(R.body);
    cJSON_Delete(R.json);
    memset(&R, 0, sizeof R);
    curl_easy_reset(H);
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(H, CURLOPT_URL, url);
    curl_easy_setopt(H, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(H, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(H, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(H, CURLOPT_TIMEOUT_MS, 5000L);
    if (token != NULL) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hs = curl_slist_append(hs, auth);
    }
    if (tenant != NULL) {
        snprintf(ten, sizeof ten, "X-Tenant-ID: %s", tenant);
        hs = curl_slist_append(hs, ten);
    }
    if (body != NULL) {
        hs = curl_slist_append(hs, "Content-Type: application/json");
        curl_easy_setopt(H, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(H, CURLOPT_HTTPHEADER, hs);
    curl_easy_perform(H);
    curl_easy_getinfo(H, CURLINFO_RESPONSE_CODE, &R.status);
    curl_slist_free_all(hs);
    if (R.body != NULL)
        R.json = cJSON_Parse(R.body);
    return R.status;
}

static double num(const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(R.json, name);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *str(const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(R.json, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static int items(void)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(R.json, "items"));
}

static bool body_has(const char *text)
{
    return R.body != NULL && strstr(R.body, text) != NULL;
}

static char *login(const char *user, const char *pw)
{
    char body[256];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);
    CHECK(req("POST", "/api/auth/login", NULL, NULL, body) == 200);
    return strdup(str("token"));
}

/* Creates a user in 'tenant' as 'admin'; returns its id. */
static long make_user(const char *admin, const char *tenant, const char *name, const char *role)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"username\":\"%s\",\"password\":\"pw-%s\",\"role\":\"%s\","
             "\"email\":\"%s@example.org\",\"full_name\":\"Full %s\"}",
             name, name, role, name, name);
    CHECK(req("POST", "/api/users", admin, tenant, body) == 201);
    return (long)num("id");
}

static long make_project(const char *token, const char *tenant, const char *name)
{
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"description\":\"d-%s\"}", name, name);
    CHECK(req("POST", "/api/projects", token, tenant, body) == 201);
    return (long)num("id");
}

static void set_faults(const char *json)
{
    CHECK(req("POST", "/_faults", NULL, NULL, json) == 200);
}

static void test_target_roles(char *admin)
{
    char path[128];
    CHECK(req("POST", "/api/auth/login", NULL, NULL,
              "{\"username\":\"demo\",\"password\":\"demo\"}") == 200);
    CHECK_STR(str("role"), "admin");
    CHECK(num("user_id") >= 1);

    long m1 = make_user(admin, "r1", "rm1", "member");
    CHECK(strstr(R.head, "Location: /api/users/") != NULL);
    CHECK_STR(str("role"), "member");
    CHECK_STR(str("tenant"), "r1");
    CHECK_STR(str("email"), "rm1@example.org");
    make_user(admin, "r1", "rm2", "member");
    CHECK(req("POST", "/api/users", admin, "r1", "{\"username\":\"rm1\",\"password\":\"x\"}") ==
          409);
    CHECK(req("POST", "/api/users", admin, "r1", "{\"password\":\"x\"}") == 422);
    CHECK(req("POST", "/api/users", admin, "r1",
              "{\"username\":\"rx\",\"password\":\"x\",\"role\":\"root\"}") == 422);
    char *t1 = login("rm1", "pw-rm1"), *t2 = login("rm2", "pw-rm2");

    long own = make_project(t1, "r1", "rm1-project");
    long theirs = make_project(admin, "r1", "admin-project");
    snprintf(path, sizeof path, "/api/projects/%ld", own);
    CHECK(req("PATCH", path, t2, "r1", "{\"description\":\"x\"}") == 403);
    CHECK(body_has("owner or an admin"));
    CHECK(req("PUT", path, t2, "r1", "{\"name\":\"stolen\"}") == 403);
    CHECK(req("DELETE", path, t2, "r1", NULL) == 403);
    CHECK(req("GET", path, t2, "r1", NULL) == 200); /* members read the tenant's projects */
    CHECK(req("PATCH", path, t1, "r1", "{\"description\":\"mine\"}") == 200);
    CHECK(req("PATCH", path, admin, "r1", "{\"description\":\"admin\"}") == 200);
    snprintf(path, sizeof path, "/api/projects/%ld", theirs);
    CHECK(req("DELETE", path, t1, "r1", NULL) == 403);
    CHECK(req("DELETE", path, admin, "r1", NULL) == 204);

    /* members: no admin routes, no other user's data, no other tenant */
    CHECK(req("POST", "/api/users", t1, "r1", "{\"username\":\"x\",\"password\":\"x\"}") == 403);
    CHECK(req("GET", "/api/users", t1, "r1", NULL) == 403);
    CHECK(req("GET", "/api/audit", t1, "r1", NULL) == 403);
    CHECK(req("POST", "/api/users/import", t1, "r1", "{}") == 403);
    snprintf(path, sizeof path, "/api/users/%ld", m1);
    CHECK(req("GET", path, t2, "r1", NULL) == 403);
    CHECK(req("GET", path, t1, "r1", NULL) == 200);
    CHECK(req("GET", path, admin, "r1", NULL) == 200);
    CHECK(req("GET", path, admin, "r2", NULL) == 404); /* another tenant's user */
    CHECK(req("GET", "/api/projects", t1, "r2", NULL) == 403);
    CHECK(req("GET", "/api/users/999999", admin, "r1", NULL) == 404);
    CHECK(req("GET", "/api/users/abc", admin, "r1", NULL) == 404);
    CHECK(req("DELETE", "/api/users", admin, "r1", NULL) == 405);
    CHECK(req("GET", "/api/users", NULL, "r1", NULL) == 401);

    /* admins list the tenant's users (and the unbound built-in ones) */
    CHECK(req("GET", "/api/users", admin, "r1", NULL) == 200);
    CHECK(body_has("\"rm1\"") && body_has("\"rm2\"") && body_has("\"demo\""));
    CHECK(req("GET", "/api/users", admin, "r2", NULL) == 200);
    CHECK(!body_has("\"rm1\""));

    /* broken-authz: members get through, bound users cross tenants */
    set_faults("{\"broken_authz\": true}");
    CHECK(req("GET", "/api/audit", t1, "r1", NULL) == 200);
    CHECK(req("GET", "/api/projects", t1, "r2", NULL) == 200);
    snprintf(path, sizeof path, "/api/users/%ld", m1);
    CHECK(req("GET", path, t2, "r1", NULL) == 200);
    set_faults("{\"broken_authz\": null}");
    CHECK(req("GET", "/api/audit", t1, "r1", NULL) == 403);
    free(t1);
    free(t2);
}

static void test_target_export_erase_import(char *admin)
{
    char path[128];
    long u = make_user(admin, "e1", "eu", "member");
    char *t = login("eu", "pw-eu");
    make_project(t, "e1", "eu-one");
    make_project(t, "e1", "eu-two");
    make_project(admin, "e1", "not-eu");

    snprintf(path, sizeof path, "/api/users/%ld/export", u);
    CHECK(req("GET", path, t, "e1", NULL) == 200);
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(R.json, "user");
    const cJSON *projects = cJSON_GetObjectItemCaseSensitive(R.json, "projects");
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(user, "username")->valuestring, "eu");
    CHECK(cJSON_GetArraySize(projects) == 2);
    CHECK(body_has("eu-one") && body_has("eu-two") && !body_has("not-eu"));
    CHECK(strlen(str("exported_at")) == 24);
    char *doc = strdup(R.body);

    set_faults("{\"incomplete_export\": true}");
    CHECK(req("GET", path, t, "e1", NULL) == 200);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(R.json, "projects")) == 1);
    CHECK(body_has("eu-one") && !body_has("eu-two")); /* the newest is left out */
    set_faults("{\"incomplete_export\": null}");

    /* erasure: a receipt, then nothing of the user anywhere */
    snprintf(path, sizeof path, "/api/users/%ld", u);
    CHECK(req("DELETE", path, admin, "e1", NULL) == 200);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(R.json, "erased")));
    CHECK(num("user_id") == (double)u);
    CHECK(num("projects_deleted") == 2);
    CHECK(num("tokens_revoked") == 1);
    CHECK(strncmp(str("receipt"), "erase-", 6) == 0);
    CHECK(!body_has("eu@example.org") && !body_has("\"eu\""));
    CHECK(req("GET", path, admin, "e1", NULL) == 404);
    CHECK(req("DELETE", path, admin, "e1", NULL) == 404);
    snprintf(path, sizeof path, "/api/users/%ld/export", u);
    CHECK(req("GET", path, admin, "e1", NULL) == 404);
    CHECK(req("GET", "/api/projects", t, "e1", NULL) == 401); /* its token is gone */
    CHECK(req("POST", "/api/auth/login", NULL, NULL,
              "{\"username\":\"eu\",\"password\":\"pw-eu\"}") == 401);
    CHECK(req("GET", "/api/search?q=eu-", admin, "e1", NULL) == 200 && num("total") == 0);
    CHECK(req("GET", "/api/projects", admin, "e1", NULL) == 200 && num("total") == 1);
    CHECK(req("GET", "/api/users", admin, "e1", NULL) == 200 && !body_has("\"eu\""));
    CHECK(req("GET", "/api/audit?since=0&limit=1000", admin, "e1", NULL) == 200);
    CHECK(!body_has("eu@example.org") && !body_has("\"eu\""));

    /* import: the export comes back whole, under a new id */
    CHECK(req("POST", "/api/users/import", admin, "e1", doc) == 201);
    CHECK(strstr(R.head, "Location: /api/users/") != NULL);
    user = cJSON_GetObjectItemCaseSensitive(R.json, "user");
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(user, "email")->valuestring, "eu@example.org");
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(user, "full_name")->valuestring, "Full eu");
    CHECK(cJSON_GetObjectItemCaseSensitive(user, "id")->valuedouble != (double)u);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(R.json, "projects")) == 2);
    CHECK(body_has("\"d-eu-two\""));
    CHECK(req("POST", "/api/users/import", admin, "e1", doc) == 409); /* name taken */
    CHECK(req("POST", "/api/users/import", admin, "e1", "{\"projects\":[]}") == 422);
    CHECK(req("POST", "/api/users/import", admin, "e1", "[1]") == 422);
    CHECK(
        req("POST", "/api/users/import", admin, "e1",
            "{\"user\":{\"username\":\"i2\"},\"projects\":[{\"name\":\"a\"},{\"name\":\"a\"}]}") ==
        409);
    CHECK(req("POST", "/api/users/import", admin, "e1",
              "{\"user\":{\"username\":\"i3\"},\"projects\":[{\"description\":\"no name\"}]}") ==
          422);
    CHECK(req("POST", "/api/users/import", admin, "e1",
              "{\"user\":{\"username\":\"i4\"},\"password\":\"pw4\"}") == 201);
    free(login("i4", "pw4"));
    free(doc);

    /* leaky-erasure: the same receipt, the projects stay */
    long v = make_user(admin, "e2", "leaky", "member");
    free(t);
    t = login("leaky", "pw-leaky");
    make_project(t, "e2", "leaky-one");
    set_faults("{\"leaky_erasure\": true}");
    snprintf(path, sizeof path, "/api/users/%ld", v);
    CHECK(req("DELETE", path, admin, "e2", NULL) == 200 && num("projects_deleted") == 1);
    CHECK(req("GET", "/api/search?q=leaky", admin, "e2", NULL) == 200 && num("total") == 1);
    set_faults("{\"leaky_erasure\": null}");
    free(t);

    /* a user may erase itself */
    long w = make_user(admin, "e3", "selfish", "member");
    t = login("selfish", "pw-selfish");
    snprintf(path, sizeof path, "/api/users/%ld", w);
    CHECK(req("DELETE", path, t, "e3", NULL) == 200);
    CHECK(req("GET", "/api/projects", t, "e3", NULL) == 401);
    free(t);
}

/* The number of audit records of 'action' in the last answer. */
static int count_action(const char *action)
{
    int n = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(R.json, "items"))
    {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(r, "action");
        n += cJSON_IsString(a) && strcmp(a->valuestring, action) == 0;
    }
    return n;
}

static void test_target_audit_log(char *admin)
{
    char path[160];
    long u = make_user(admin, "a1", "au", "member");
    char *t = login("au", "pw-au");
    long p = make_project(t, "a1", "au-one");
    snprintf(path, sizeof path, "/api/projects/%ld", p);
    CHECK(req("GET", path, t, "a1", NULL) == 200);                        /* not audited */
    CHECK(req("PATCH", path, t, "a1", "{\"description\":\"x\"}") == 200); /* audited */
    CHECK(req("PATCH", path, t, "a1", "{\"name\":\"\"}") == 422);         /* failed: not */
    CHECK(req("DELETE", path, t, "a1", NULL) == 204);
    snprintf(path, sizeof path, "/api/users/%ld/export", u);
    CHECK(req("GET", path, t, "a1", NULL) == 200);
    snprintf(path, sizeof path, "/api/users/%ld", u);
    CHECK(req("GET", path, t, "a1", NULL) == 200);

    snprintf(path, sizeof path, "/api/audit?actor=%ld", u);
    CHECK(req("GET", path, admin, "a1", NULL) == 200);
    CHECK(items() == 5);
    CHECK(count_action("project.create") == 1 && count_action("project.update") == 1 &&
          count_action("project.delete") == 1 && count_action("user.export") == 1 &&
          count_action("user.read") == 1);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(R.json, "items"), 0);
    CHECK(cJSON_GetObjectItemCaseSensitive(first, "actor")->valuedouble == (double)u);
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(first, "tenant")->valuestring, "a1");
    CHECK(strncmp(cJSON_GetObjectItemCaseSensitive(first, "resource")->valuestring,
                  "/api/projects/", 14) == 0);
    const char *when = cJSON_GetObjectItemCaseSensitive(first, "time")->valuestring;
    CHECK(strlen(when) == 24 && when[23] == 'Z');
    double seq = cJSON_GetObjectItemCaseSensitive(first, "seq")->valuedouble;

    /* the cursor: since=seq gives the records after it; limit pages */
    snprintf(path, sizeof path, "/api/audit?actor=%ld&since=%.0f&limit=2", u, seq);
    CHECK(req("GET", path, admin, "a1", NULL) == 200 && items() == 2);
    double next = num("next");
    snprintf(path, sizeof path, "/api/audit?actor=%ld&since=%.0f&limit=2", u, next);
    CHECK(req("GET", path, admin, "a1", NULL) == 200 && items() == 2);
    /* a time: records at or after it (all of this test's are after 2020) */
    snprintf(path, sizeof path, "/api/audit?actor=%ld&since=2020-01-01T00:00:00Z", u);
    CHECK(req("GET", path, admin, "a1", NULL) == 200 && items() == 5);
    snprintf(path, sizeof path, "/api/audit?actor=%ld&since=2999-01-01T00:00:00.000Z", u);
    CHECK(req("GET", path, admin, "a1", NULL) == 200 && items() == 0);
    /* records are per tenant */
    snprintf(path, sizeof path, "/api/audit?actor=%ld", u);
    CHECK(req("GET", path, admin, "a2", NULL) == 200 && items() == 0);
    CHECK(req("GET", "/api/audit?since=yesterday", admin, "a1", NULL) == 422);
    CHECK_STR(str("field"), "since");
    CHECK(req("GET", "/api/audit?limit=0", admin, "a1", NULL) == 422);
    CHECK(req("GET", "/api/audit?actor=me", admin, "a1", NULL) == 422);
    CHECK(req("GET", "/api/audit", admin, "a1", NULL) == 200 && num("dropped") == 0);

    /* skip-audit: deletions leave no record, other writes still do */
    set_faults("{\"skip_audit\": true}");
    p = make_project(t, "a1", "au-two");
    snprintf(path, sizeof path, "/api/projects/%ld", p);
    CHECK(req("DELETE", path, t, "a1", NULL) == 204);
    set_faults("{\"skip_audit\": null}");
    snprintf(path, sizeof path, "/api/audit?actor=%ld", u);
    CHECK(req("GET", path, admin, "a1", NULL) == 200);
    CHECK(count_action("project.create") == 2 && count_action("project.delete") == 1);
    free(t);
}

static void test_target_rate_limit(char *admin)
{
    for (int i = 1; i <= 5; i++)
        CHECK(req("GET", "/api/limited", admin, "rl", NULL) == 200);
    CHECK(req("GET", "/api/limited", admin, "rl", NULL) == 429);
    CHECK(strstr(R.head, "Retry-After: 1") != NULL);
    CHECK_STR(str("error"), "rate limit exceeded");
    CHECK(req("GET", "/api/limited", NULL, "rl", NULL) == 401);
    char *other = login("alice", "alice-pw"); /* per token */
    CHECK(req("GET", "/api/limited", other, "rl", NULL) == 200);
    free(other);
    usleep(1100 * 1000);
    CHECK(req("GET", "/api/limited", admin, "rl", NULL) == 200);
    CHECK(num("remaining") == 4);
}

static void test_target_user_faults_shown(void)
{
    CHECK(req("GET", "/_faults", NULL, NULL, NULL) == 200);
    CHECK(body_has("\"leaky_erasure\":false") && body_has("\"incomplete_export\":false") &&
          body_has("\"skip_audit\":false") && body_has("\"broken_authz\":false"));
    set_faults("{\"skip-audit\": true, \"broken_authz\": \"on\"}");
    CHECK(body_has("\"skip_audit\":true") && body_has("\"broken_authz\":true"));
    CHECK(req("DELETE", "/_faults", NULL, NULL, NULL) == 200);
    CHECK(body_has("\"skip_audit\":false"));
    CHECK(req("POST", "/_faults", NULL, NULL, "{\"leaky_erasure\": \"maybe\"}") == 400);

    struct tide_target_faults f = {0};
    struct tide_err err;
    CHECK(tide_target_faults_set(&f, "leaky-erasure", "true", &err) == 0 && f.leaky_erasure);
    CHECK(tide_target_faults_set(&f, "incomplete_export", "1", &err) == 0 && f.incomplete_export);
    CHECK(tide_target_faults_set(&f, "leaky-erasure", NULL, &err) == 0 && !f.leaky_erasure);
}

/* The log keeps TIDE_AUDIT_CAP records, the oldest go first, and says how many went. */
static void test_target_audit_cap(void)
{
    struct tide_audit *a = tide_audit_new();
    struct tide_buf out = {0};
    struct tide_http_str tenant = {"t", 1}, none = {"", 0};
    for (int i = 0; i < TIDE_AUDIT_CAP + 5; i++)
        tide_audit_add(a, 1.7e9 + i, i % 3, tenant, "project.create", "/api/projects/1");
    CHECK(tide_audit_query(a, tenant, none, &out) == 200);
    cJSON *j = cJSON_Parse(out.data);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "oldest")->valuedouble == 6);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "dropped")->valuedouble == 5);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "items")) == TIDE_AUDIT_PAGE);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "items"), 0);
    CHECK(cJSON_GetObjectItemCaseSensitive(first, "seq")->valuedouble == 6);
    cJSON_Delete(j);
    out.len = 0;
    struct tide_http_str q = {"since=100004&limit=1000", 23};
    CHECK(tide_audit_query(a, tenant, q, &out) == 200);
    j = cJSON_Parse(out.data);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "items")) == 1);
    cJSON_Delete(j);
    tide_buf_free(&out);
    tide_audit_free(a);
}

/* A users file's fourth column (or "role") makes members; a bad role is refused at start. */
static void test_target_users_file_roles(void)
{
    char path[] = "/tmp/tide-roles-XXXXXX";
    int fd = mkstemp(path);
    const char csv[] = "username,password,tenant,role\nmia,mia-pw,t1,member\nmax,max-pw,,admin\n";
    CHECK(fd >= 0 && write(fd, csv, sizeof csv - 1) == (ssize_t)(sizeof csv - 1));
    close(fd);
    struct tide_target_opts o;
    struct tide_err err = {{0}};
    tide_target_opts_init(&o);
    o.users_file = path;
    struct tide_target *t = tide_target_start(&o, &err);
    CHECK(t != NULL);
    if (t != NULL) {
        char saved[64];
        snprintf(saved, sizeof saved, "%s", base);
        snprintf(base, sizeof base, "http://127.0.0.1:%d", tide_target_port(t));
        CHECK(req("POST", "/api/auth/login", NULL, NULL,
                  "{\"username\":\"mia\",\"password\":\"mia-pw\"}") == 200);
        CHECK_STR(str("role"), "member");
        char *mia = strdup(str("token"));
        CHECK(req("GET", "/api/audit", mia, "t1", NULL) == 403);
        CHECK(req("POST", "/api/auth/login", NULL, NULL,
                  "{\"username\":\"max\",\"password\":\"max-pw\"}") == 200);
        CHECK_STR(str("role"), "admin");
        free(mia);
        tide_target_stop(t);
        snprintf(base, sizeof base, "%s", saved);
    }
    const char bad[] = "zed,zed-pw,t1,root\n";
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && write(fd, bad, sizeof bad - 1) == (ssize_t)(sizeof bad - 1));
    close(fd);
    CHECK(tide_target_start(&o, &err) == NULL);
    char expect[160];
    snprintf(expect, sizeof expect, "%s:1: role 'root': expected admin or member", path);
    CHECK_STR(err.msg, expect);
    unlink(path);
}

int main(void)
{
    struct tide_target_opts o;
    struct tide_err err = {{0}};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test_target_audit_cap();
    tide_target_opts_init(&o);
    struct tide_target *t = tide_target_start(&o, &err);
    if (t == NULL) {
        fprintf(stderr, "cannot start the target: %s\n", err.msg);
        return 1;
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", tide_target_port(t));
    H = curl_easy_init();
    char *admin = login("demo", "demo");
    test_target_roles(admin);
    test_target_export_erase_import(admin);
    test_target_audit_log(admin);
    test_target_rate_limit(admin);
    test_target_user_faults_shown();
    test_target_users_file_roles();
    free(admin);
    curl_easy_cleanup(H);
    free(R.body);
    cJSON_Delete(R.json);
    tide_target_stop(t);
    curl_global_cleanup();
    return CHECK_DONE();
}
