/* target_store.c: users, tokens, tenants and projects of the reference API, in memory, with
 * open-addressing hash maps (linear probing, backward-shift deletion) and id-ordered arrays. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cJSON.h>
#include "fsutil.h"
#include "target_store.h"
#include "utf8.h"

#define TIMESTAMP_LEN 24 /* "2025-01-31T12:00:00.000Z" */

struct slot {
    uint64_t hash;
    const void *key; /* points into 'val' */
    size_t klen;
    void *val; /* NULL: empty */
};

struct map {
    struct slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t n;
};

struct user {
    char *name, *password, *tenant; /* tenant may be NULL */
};

struct token {
    char id[33];
    const struct user *user;
    double expires;
    bool revoked;
};

struct tenant;

struct project {
    int64_t id;
    struct tenant *tenant;
    char *name, *desc;
    size_t name_len, desc_len;
    char created[TIMESTAMP_LEN + 1], updated[TIMESTAMP_LEN + 1];
};

struct vec {
    struct project **v; /* in id order */
    size_t n, cap;
};

struct tenant {
    char *name;
    size_t name_len;
    struct vec items;
    struct map by_name;
};

struct tide_store {
    struct map users, tokens, tenants, projects; /* by name, id, name, id */
    struct vec all;
    struct token **ring; /* tokens in creation order; frees them */
    size_t ring_head, ring_n;
    int64_t next_id;
    uint64_t rng[2];
};

/* Output buffers. */

void tide_store_buf_json(struct tide_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    tide_buf_add(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        size_t k = c >= 0x80 ? tide_utf8_seq(s + i, n - i) : 0;
        if (k > 0) {
            i += k;
            continue;
        }
        tide_buf_add(b, s + run, i - run);
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            tide_buf_add(b, esc, 2);
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            tide_buf_add(b, esc, 6);
        } else {
            tide_buf_puts(b, "\\ufffd");
        }
        run = ++i;
    }
    tide_buf_add(b, s + run, n - run);
    tide_buf_add(b, "\"", 1);
}

/* Hash maps: keys are bytes that live inside the value. */

static uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static struct slot *map_find(const struct map *m, const void *key, size_t klen, uint64_t h)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct slot *sl = &m->slots[i];
        if (sl->val == NULL)
            return sl;
        if (sl->hash == h && sl->klen == klen && memcmp(sl->key, key, klen) == 0)
            return sl;
    }
}

static void *map_get(const struct map *m, const void *key, size_t klen)
{
    struct slot *sl = map_find(m, key, klen, hash_bytes(key, klen));
    return sl != NULL ? sl->val : NULL;
}

static int map_grow(struct map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    struct slot *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return -1;
    struct map bigger = {slots, cap, m->n};
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].val != NULL)
            *map_find(&bigger, m->slots[i].key, m->slots[i].klen, m->slots[i].hash) = m->slots[i];
    }
    free(m->slots);
    *m = bigger;
    return 0;
}

/* Adds or replaces. -1: no memory. */
static int map_put(struct map *m, const void *key, size_t klen, void *val)
{
    if ((m->n + 1) * 2 > m->cap && map_grow(m) < 0)
        return -1;
    uint64_t h = hash_bytes(key, klen);
    struct slot *sl = map_find(m, key, klen, h);
    if (sl->val == NULL)
        m->n++;
    *sl = (struct slot){h, key, klen, val};
    return 0;
}

static void map_del(struct map *m, const void *key, size_t klen)
{
    struct slot *sl = map_find(m, key, klen, hash_bytes(key, klen));
    if (sl == NULL || sl->val == NULL)
        return;
    size_t mask = m->cap - 1, hole = (size_t)(sl - m->slots);
    for (size_t i = (hole + 1) & mask; m->slots[i].val != NULL; i = (i + 1) & mask) {
        size_t home = m->slots[i].hash & mask;
        /* Move back an entry whose home is not in (hole, i]. */
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            m->slots[hole] = m->slots[i];
            hole = i;
        }
    }
    m->slots[hole] = (struct slot){0};
    m->n--;
}

/* Id-ordered arrays. */

static int vec_push(struct vec *v, struct project *p)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        struct project **nv = realloc(v->v, cap * sizeof *nv);
        if (nv == NULL)
            return -1;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = p;
    return 0;
}

static void vec_remove(struct vec *v, int64_t id)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->v[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < v->n && v->v[lo]->id == id) {
        memmove(v->v + lo, v->v + lo + 1, (v->n - lo - 1) * sizeof *v->v);
        v->n--;
    }
}

/* Randomness for tokens: xorshift128+, seeded from /dev/urandom. */

static uint64_t rng_next(struct tide_store *s)
{
    uint64_t a = s->rng[0], b = s->rng[1];
    s->rng[0] = b;
    a ^= a << 23;
    s->rng[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
    return s->rng[1] + b;
}

static void rng_seed(struct tide_store *s)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, s->rng, sizeof s->rng) : -1;
    if (fd >= 0)
        close(fd);
    if (n != (ssize_t)sizeof s->rng) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s->rng[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
        s->rng[1] = (uint64_t)ts.tv_sec ^ 0xbf58476d1ce4e5b9ULL;
    }
    if (s->rng[0] == 0 && s->rng[1] == 0)
        s->rng[1] = 1;
}

/* Users. */

static int add_user(struct tide_store *s, const char *name, const char *password,
                    const char *tenant, struct tide_err *err)
{
    if (map_get(&s->users, name, strlen(name)) != NULL)
        return tide_err_set(err, "duplicate user '%s'", name);
    struct user *u = calloc(1, sizeof *u);
    if (u == NULL)
        return tide_err_set(err, "out of memory");
    u->name = strdup(name);
    u->password = strdup(password);
    u->tenant = tenant != NULL && tenant[0] != '\0' ? strdup(tenant) : NULL;
    bool ok = u->name != NULL && u->password != NULL &&
              (tenant == NULL || tenant[0] == '\0' || u->tenant != NULL);
    if (!ok || map_put(&s->users, u->name, strlen(u->name), u) < 0) {
        free(u->name);
        free(u->password);
        free(u->tenant);
        free(u);
        return tide_err_set(err, "out of memory");
    }
    return 0;
}

static int builtin_users(struct tide_store *s, struct tide_err *err)
{
    static const char *const fixed[][2] = {
        {"demo", "demo"}, {"alice", "alice-pw"}, {"bob", "bob-pw"}};
    for (size_t i = 0; i < 3; i++) {
        if (add_user(s, fixed[i][0], fixed[i][1], NULL, err) < 0)
            return -1;
    }
    for (int i = 1; i <= 100; i++) {
        char name[16], pw[16];
        snprintf(name, sizeof name, "user%d", i);
        snprintf(pw, sizeof pw, "pw-user%d", i);
        if (add_user(s, name, pw, NULL, err) < 0)
            return -1;
    }
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static int users_csv(struct tide_store *s, const char *path, char *text, struct tide_err *err)
{
    int line = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        line++;
        l = trim(l);
        if (l[0] == '\0' || l[0] == '#')
            continue;
        char *f[4] = {l, NULL, NULL, NULL};
        int n = 1;
        for (char *c = l; *c != '\0' && n < 4; c++) {
            if (*c == ',') {
                *c = '\0';
                f[n++] = c + 1;
            }
        }
        for (int i = 0; i < n; i++)
            f[i] = trim(f[i]);
        if (line == 1 && strcmp(f[0], "username") == 0)
            continue;
        if (n < 2 || n > 3 || f[0][0] == '\0')
            return tide_err_set(err, "%s:%d: expected 'username,password[,tenant]'", path, line);
        if (add_user(s, f[0], f[1], n == 3 ? f[2] : NULL, err) < 0)
            return tide_err_set(err, "%s:%d: %s", path, line, err->msg);
    }
    if (s->users.n == 0)
        return tide_err_set(err, "%s: no users in it", path);
    return 0;
}

static int users_json(struct tide_store *s, const char *path, const char *text,
                      struct tide_err *err)
{
    cJSON *root = cJSON_Parse(text);
    int rc = -1;
    if (!cJSON_IsArray(root)) {
        tide_err_set(err, "%s: expected a JSON list of {\"username\", \"password\"}", path);
        goto out;
    }
    int i = 0;
    const cJSON *u;
    cJSON_ArrayForEach(u, root)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(u, "username");
        const cJSON *pw = cJSON_GetObjectItemCaseSensitive(u, "password");
        const cJSON *tenant = cJSON_GetObjectItemCaseSensitive(u, "tenant");
        if (!cJSON_IsString(name) || !cJSON_IsString(pw) || name->valuestring[0] == '\0' ||
            (tenant != NULL && !cJSON_IsString(tenant) && !cJSON_IsNull(tenant))) {
            tide_err_set(err, "%s: item %d: expected {\"username\", \"password\"[, \"tenant\"]}",
                         path, i);
            goto out;
        }
        if (add_user(s, name->valuestring, pw->valuestring,
                     cJSON_IsString(tenant) ? tenant->valuestring : NULL, err) < 0) {
            tide_err_set(err, "%s: item %d: %s", path, i, err->msg);
            goto out;
        }
        i++;
    }
    if (s->users.n == 0) {
        tide_err_set(err, "%s: no users in it", path);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

static int load_users(struct tide_store *s, const char *path, struct tide_err *err)
{
    char *text = tide_fs_read_all(path, NULL, NULL);
    if (text == NULL)
        return tide_err_set(err, "--users %s: %s", path,
                            errno == ENOMEM ? "out of memory" : strerror(errno));
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    int rc = *p == '[' ? users_json(s, path, text, err) : users_csv(s, path, text, err);
    free(text);
    return rc;
}

/* Lifetime. */

struct tide_store *tide_store_new(const char *users_file, struct tide_err *err)
{
    struct tide_store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        tide_err_set(err, "out of memory");
        return NULL;
    }
    s->next_id = 1;
    rng_seed(s);
    s->ring = calloc(TIDE_STORE_TOKENS, sizeof *s->ring);
    int rc = s->ring != NULL ? 0 : tide_err_set(err, "out of memory");
    if (rc == 0)
        rc = users_file != NULL ? load_users(s, users_file, err) : builtin_users(s, err);
    if (rc < 0) {
        tide_store_free(s);
        return NULL;
    }
    return s;
}

static void project_free(struct project *p)
{
    free(p->name);
    free(p->desc);
    free(p);
}

void tide_store_free(struct tide_store *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->users.cap; i++) {
        struct user *u = s->users.slots[i].val;
        if (u != NULL) {
            free(u->name);
            free(u->password);
            free(u->tenant);
            free(u);
        }
    }
    for (size_t i = 0; i < s->tenants.cap; i++) {
        struct tenant *t = s->tenants.slots[i].val;
        if (t != NULL) {
            free(t->name);
            free(t->items.v);
            free(t->by_name.slots);
            free(t);
        }
    }
    for (size_t i = 0; i < s->all.n; i++)
        project_free(s->all.v[i]);
    for (size_t i = 0; i < s->ring_n; i++)
        free(s->ring[(s->ring_head + i) % TIDE_STORE_TOKENS]);
    free(s->ring);
    free(s->all.v);
    free(s->users.slots);
    free(s->tokens.slots);
    free(s->tenants.slots);
    free(s->projects.slots);
    free(s);
}

/* Error bodies. */

static int fail(struct tide_buf *out, int status, const char *msg)
{
    tide_buf_puts(out, "{\"error\":");
    tide_store_buf_json(out, msg, strlen(msg));
    tide_buf_puts(out, "}");
    return status;
}

/* An error about one field of the body ('field' NULL: the body as a whole). */
static int field_error(struct tide_buf *out, int status, const char *field, const char *msg)
{
    tide_buf_puts(out, "{\"error\":");
    tide_store_buf_json(out, msg, strlen(msg));
    tide_buf_puts(out, ",\"field\":");
    if (field != NULL)
        tide_store_buf_json(out, field, strlen(field));
    else
        tide_buf_puts(out, "null");
    tide_buf_puts(out, "}");
    return status;
}

static int invalid(struct tide_buf *out, const char *field, const char *msg)
{
    return field_error(out, 422, field, msg);
}

/* Parses a JSON object body; NULL after writing the 422 into 'out'. */
static cJSON *parse_object(const char *body, size_t len, struct tide_buf *out)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (root == NULL) {
        invalid(out, NULL, "invalid JSON body");
        return NULL;
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        invalid(out, NULL, "body must be a JSON object");
        return NULL;
    }
    return root;
}

/* Authentication. */

static struct token *token_new(struct tide_store *s, const struct user *u, double expires)
{
    struct token *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    static const char hex[] = "0123456789abcdef";
    uint64_t r[2] = {rng_next(s), rng_next(s)};
    for (int i = 0; i < 32; i++)
        t->id[i] = hex[(r[i / 16] >> (4 * (i % 16))) & 15];
    t->user = u;
    t->expires = expires;
    if (s->ring_n == TIDE_STORE_TOKENS) {
        struct token *old = s->ring[s->ring_head];
        if (!old->revoked)
            map_del(&s->tokens, old->id, 32);
        free(old);
        s->ring_head = (s->ring_head + 1) % TIDE_STORE_TOKENS;
        s->ring_n--;
    }
    if (map_put(&s->tokens, t->id, 32, t) < 0) {
        free(t);
        return NULL;
    }
    s->ring[(s->ring_head + s->ring_n++) % TIDE_STORE_TOKENS] = t;
    return t;
}

int tide_store_login(struct tide_store *s, const char *body, size_t len, double now,
                     struct tide_buf *out)
{
    cJSON *root = parse_object(body, len, out);
    if (root == NULL)
        return 422;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "username");
    const cJSON *pw = cJSON_GetObjectItemCaseSensitive(root, "password");
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(root, "ttl");
    int status;
    if (!cJSON_IsString(name)) {
        status = invalid(out, "username", "username is required (a string)");
    } else if (!cJSON_IsString(pw)) {
        status = invalid(out, "password", "password is required (a string)");
    } else if (ttl != NULL &&
               (!cJSON_IsNumber(ttl) || !(ttl->valuedouble >= 0) || ttl->valuedouble > 1e9)) {
        status = invalid(out, "ttl", "ttl must be a number of seconds >= 0");
    } else {
        const struct user *u = map_get(&s->users, name->valuestring, strlen(name->valuestring));
        double life = ttl != NULL ? ttl->valuedouble : TIDE_STORE_TTL;
        const struct token *t = NULL;
        if (u != NULL && strcmp(u->password, pw->valuestring) == 0)
            t = token_new(s, u, now + life);
        if (u == NULL || strcmp(u->password, pw->valuestring) != 0)
            status = fail(out, 401, "invalid credentials");
        else if (t == NULL)
            status = fail(out, 500, "out of memory");
        else
            status = 200;
        if (status == 200) {
            tide_buf_printf(out, "{\"token\":\"%s\",\"token_type\":\"Bearer\",", t->id);
            tide_buf_printf(out, "\"expires_in\":%g,\"username\":", life);
            tide_store_buf_json(out, u->name, strlen(u->name));
            if (u->tenant != NULL) {
                tide_buf_puts(out, ",\"tenant\":");
                tide_store_buf_json(out, u->tenant, strlen(u->tenant));
            }
            tide_buf_puts(out, "}");
        }
    }
    cJSON_Delete(root);
    return status;
}

/* The token of 'Authorization: Bearer <token>', or false. */
static bool bearer(const struct tide_http_str *h, struct tide_http_str *token)
{
    if (h == NULL || h->n < 7 || strncasecmp(h->p, "bearer ", 7) != 0)
        return false;
    size_t i = 7;
    while (i < h->n && h->p[i] == ' ')
        i++;
    *token = (struct tide_http_str){h->p + i, h->n - i};
    return token->n > 0;
}

static bool tenant_valid(struct tide_http_str t)
{
    if (t.n == 0 || t.n > TIDE_STORE_TENANT_MAX)
        return false;
    for (size_t i = 0; i < t.n; i++) {
        char c = t.p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

int tide_store_authorize(struct tide_store *s, const struct tide_http_str *authorization,
                         const struct tide_http_str *tenant, bool need_tenant, double now,
                         struct tide_buf *out)
{
    struct tide_http_str tok;
    if (!bearer(authorization, &tok))
        return fail(out, 401, "missing bearer token");
    const struct token *t = map_get(&s->tokens, tok.p, tok.n);
    if (t == NULL)
        return fail(out, 401, "invalid token");
    if (now >= t->expires)
        return fail(out, 401, "token expired");
    if (!need_tenant)
        return 0;
    if (tenant == NULL)
        return fail(out, 400, "missing X-Tenant-ID");
    if (!tenant_valid(*tenant))
        return fail(out, 400, "invalid X-Tenant-ID (use 1 to 64 of A-Z a-z 0-9 . _ -)");
    const char *bound = t->user->tenant;
    if (bound != NULL && (strlen(bound) != tenant->n || memcmp(bound, tenant->p, tenant->n) != 0))
        return fail(out, 403, "tenant not allowed for this user");
    return 0;
}

int tide_store_logout(struct tide_store *s, const struct tide_http_str *authorization)
{
    struct tide_http_str tok;
    if (!bearer(authorization, &tok))
        return 401;
    struct token *t = map_get(&s->tokens, tok.p, tok.n);
    if (t == NULL)
        return 401;
    map_del(&s->tokens, t->id, 32);
    t->revoked = true; /* the ring still frees it */
    return 204;
}

/* Projects. */

static void timestamp(double now, char out[TIMESTAMP_LEN + 1])
{
    time_t sec = (time_t)now;
    int ms = (int)((now - (double)sec) * 1000.0);
    struct tm tm;
    char tmp[80];
    gmtime_r(&sec, &tm);
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             ms < 0 || ms > 999 ? 0 : ms);
    memcpy(out, tmp, TIMESTAMP_LEN);
    out[TIMESTAMP_LEN] = '\0';
}

static void render(struct tide_buf *out, int64_t id, const char *name, const char *desc,
                   const char *created, const char *updated)
{
    tide_buf_printf(out, "{\"id\":%lld,\"name\":", (long long)id);
    tide_store_buf_json(out, name, strlen(name));
    tide_buf_puts(out, ",\"description\":");
    tide_store_buf_json(out, desc, strlen(desc));
    tide_buf_printf(out, ",\"created_at\":\"%s\",\"updated_at\":\"%s\"}", created, updated);
}

static void project_json(const struct project *p, struct tide_buf *out)
{
    render(out, p->id, p->name, p->desc, p->created, p->updated);
}

static struct tenant *tenant_find(const struct tide_store *s, struct tide_http_str name)
{
    return map_get(&s->tenants, name.p, name.n);
}

static struct tenant *tenant_get(struct tide_store *s, struct tide_http_str name)
{
    struct tenant *t = tenant_find(s, name);
    if (t != NULL)
        return t;
    t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->name = strndup(name.p, name.n);
    t->name_len = name.n;
    if (t->name == NULL || map_put(&s->tenants, t->name, t->name_len, t) < 0) {
        free(t->name);
        free(t);
        return NULL;
    }
    return t;
}

/* The tenant's project with the id written in 'seg', or NULL. */
static struct project *project_find(struct tide_store *s, struct tide_http_str tenant,
                                    struct tide_http_str seg)
{
    if (seg.n == 0 || seg.n > 18)
        return NULL;
    int64_t id = 0;
    for (size_t i = 0; i < seg.n; i++) {
        if (seg.p[i] < '0' || seg.p[i] > '9')
            return NULL;
        id = id * 10 + (seg.p[i] - '0');
    }
    struct project *p = map_get(&s->projects, &id, sizeof id);
    if (p == NULL || p->tenant->name_len != tenant.n ||
        memcmp(p->tenant->name, tenant.p, tenant.n) != 0)
        return NULL;
    return p;
}

struct fields {
    const cJSON *name; /* NULL: absent */
    const char *desc;  /* NULL: absent; "" for null */
};

/* Validates name and description; 0 or 422 with the body written. */
static int check_fields(const cJSON *root, bool name_required, struct fields *f,
                        struct tide_buf *out)
{
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
    f->name = cJSON_GetObjectItemCaseSensitive(root, "name");
    f->desc = NULL;
    if (f->name == NULL && name_required)
        return invalid(out, "name", "name is required");
    if (f->name != NULL) {
        if (!cJSON_IsString(f->name))
            return invalid(out, "name", "name must be a string");
        const char *n = f->name->valuestring;
        size_t len = strlen(n);
        long chars = tide_utf8_count(n, len);
        if (chars < 0)
            return invalid(out, "name", "name must be valid UTF-8");
        if (strspn(n, " \t\r\n") == len)
            return invalid(out, "name", "name must not be empty");
        if (chars > TIDE_STORE_NAME_MAX)
            return invalid(out, "name", "name must be at most 200 characters");
    }
    if (desc == NULL)
        return 0;
    if (cJSON_IsNull(desc)) {
        f->desc = "";
        return 0;
    }
    if (!cJSON_IsString(desc))
        return invalid(out, "description", "description must be a string");
    long chars = tide_utf8_count(desc->valuestring, strlen(desc->valuestring));
    if (chars < 0)
        return invalid(out, "description", "description must be valid UTF-8");
    if (chars > TIDE_STORE_DESC_MAX)
        return invalid(out, "description", "description must be at most 2000 characters");
    f->desc = desc->valuestring;
    return 0;
}

/* 409 when another project of 't' has this name. */
static int check_unique(const struct tenant *t, const char *name, const struct project *self,
                        struct tide_buf *out)
{
    const struct project *other = t != NULL ? map_get(&t->by_name, name, strlen(name)) : NULL;
    if (other != NULL && other != self)
        return field_error(out, 409, "name", "a project with this name already exists");
    return 0;
}

static int store_project(struct tide_store *s, struct tenant *t, struct project *p)
{
    if (map_put(&s->projects, &p->id, sizeof p->id, p) < 0)
        return -1;
    if (map_put(&t->by_name, p->name, p->name_len, p) == 0 && vec_push(&t->items, p) == 0) {
        if (vec_push(&s->all, p) == 0)
            return 0;
        t->items.n--;
    }
    map_del(&t->by_name, p->name, p->name_len);
    map_del(&s->projects, &p->id, sizeof p->id);
    return -1;
}

int tide_store_create(struct tide_store *s, struct tide_http_str tenant, const char *body,
                      size_t len, double now, bool dry, struct tide_buf *out, int64_t *id)
{
    cJSON *root = parse_object(body, len, out);
    if (root == NULL)
        return 422;
    struct fields f;
    struct tenant *t = tenant_find(s, tenant);
    int status = check_fields(root, true, &f, out);
    if (status == 0)
        status = check_unique(t, f.name->valuestring, NULL, out);
    if (status == 0 && s->all.n >= TIDE_STORE_PROJECTS)
        status = fail(out, 507, "store is full");
    struct project *p = NULL;
    if (status == 0) {
        p = calloc(1, sizeof *p);
        t = dry ? t : tenant_get(s, tenant);
        if (p != NULL) {
            p->name = strdup(f.name->valuestring);
            p->desc = strdup(f.desc != NULL ? f.desc : "");
        }
        if (p == NULL || p->name == NULL || p->desc == NULL || (!dry && t == NULL))
            status = fail(out, 500, "out of memory");
    }
    if (status == 0) {
        p->id = s->next_id++;
        p->tenant = t;
        p->name_len = strlen(p->name);
        p->desc_len = strlen(p->desc);
        timestamp(now, p->created);
        memcpy(p->updated, p->created, sizeof p->created);
        if (!dry && store_project(s, t, p) < 0)
            status = fail(out, 500, "out of memory");
    }
    if (status == 0) {
        project_json(p, out);
        *id = p->id;
        status = 201;
        if (!dry)
            p = NULL;
    }
    if (p != NULL)
        project_free(p);
    cJSON_Delete(root);
    return status;
}

int tide_store_get(struct tide_store *s, struct tide_http_str tenant, struct tide_http_str id,
                   struct tide_buf *out)
{
    const struct project *p = project_find(s, tenant, id);
    if (p == NULL)
        return fail(out, 404, "project not found");
    project_json(p, out);
    return 200;
}

/* Replaces p's name (keeping the tenant's name index right) and description. */
static int apply(struct project *p, const struct fields *f, bool partial, double now)
{
    const char *text = f->desc != NULL ? f->desc : partial ? NULL : "";
    char *name = f->name != NULL ? strdup(f->name->valuestring) : NULL;
    char *desc = text != NULL ? strdup(text) : NULL;
    if ((f->name != NULL && name == NULL) || (text != NULL && desc == NULL)) {
        free(name);
        free(desc);
        return -1;
    }
    if (name != NULL) {
        map_del(&p->tenant->by_name, p->name, p->name_len);
        free(p->name);
        p->name = name;
        p->name_len = strlen(name);
        /* Cannot fail: an entry was just removed, so the map does not grow. */
        map_put(&p->tenant->by_name, p->name, p->name_len, p);
    }
    if (desc != NULL) {
        free(p->desc);
        p->desc = desc;
        p->desc_len = strlen(desc);
    }
    timestamp(now, p->updated);
    return 0;
}

int tide_store_update(struct tide_store *s, struct tide_http_str tenant, struct tide_http_str id,
                      const char *body, size_t len, bool partial, double now, bool dry,
                      struct tide_buf *out)
{
    struct project *p = project_find(s, tenant, id);
    if (p == NULL)
        return fail(out, 404, "project not found");
    cJSON *root = parse_object(body, len, out);
    if (root == NULL)
        return 422;
    struct fields f;
    int status = check_fields(root, !partial, &f, out);
    if (status == 0 && f.name != NULL)
        status = check_unique(p->tenant, f.name->valuestring, p, out);
    if (status == 0 && dry) {
        char updated[TIMESTAMP_LEN + 1];
        timestamp(now, updated);
        const char *desc = f.desc != NULL ? f.desc : partial ? p->desc : "";
        render(out, p->id, f.name != NULL ? f.name->valuestring : p->name, desc, p->created,
               updated);
        status = 200;
    } else if (status == 0) {
        status = apply(p, &f, partial, now) == 0 ? 200 : fail(out, 500, "out of memory");
        if (status == 200)
            project_json(p, out);
    }
    cJSON_Delete(root);
    return status;
}

int tide_store_delete(struct tide_store *s, struct tide_http_str tenant, struct tide_http_str id,
                      bool dry, struct tide_buf *out)
{
    struct project *p = project_find(s, tenant, id);
    if (p == NULL)
        return fail(out, 404, "project not found");
    if (dry)
        return 204;
    map_del(&s->projects, &p->id, sizeof p->id);
    map_del(&p->tenant->by_name, p->name, p->name_len);
    vec_remove(&p->tenant->items, p->id);
    vec_remove(&s->all, p->id);
    project_free(p);
    return 204;
}

/* A positive integer query parameter, 'def' when absent, clamped to 'max'; 0 or 422. */
static int int_param(struct tide_http_str query, const char *name, long def, long max, long *v,
                     struct tide_buf *out)
{
    struct tide_http_str raw;
    char msg[64];
    *v = def;
    if (!tide_http_query_get(query, name, &raw))
        return 0;
    long n = 0;
    for (size_t i = 0; i < raw.n && i < 9 && n >= 0; i++)
        n = raw.p[i] >= '0' && raw.p[i] <= '9' ? n * 10 + (raw.p[i] - '0') : -1;
    if (raw.n == 0 || raw.n > 9 || n < 1) {
        snprintf(msg, sizeof msg, "%s must be a positive integer", name);
        return invalid(out, name, msg);
    }
    *v = n < max ? n : max;
    return 0;
}

static void items_json(struct project *const *v, size_t n, struct tide_buf *out)
{
    tide_buf_puts(out, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            tide_buf_puts(out, ",");
        project_json(v[i], out);
    }
    tide_buf_puts(out, "]");
}

int tide_store_list(struct tide_store *s, struct tide_http_str tenant, struct tide_http_str query,
                    bool leak, struct tide_buf *out)
{
    long page, per_page;
    int status = int_param(query, "page", 1, 1000000000L, &page, out);
    if (status == 0)
        status = int_param(query, "per_page", 20, TIDE_STORE_PAGE_MAX, &per_page, out);
    if (status != 0)
        return status;
    const struct tenant *t = tenant_find(s, tenant);
    const struct vec *v = leak ? &s->all : t != NULL ? &t->items : NULL;
    size_t total = v != NULL ? v->n : 0;
    size_t from = (size_t)(page - 1) * (size_t)per_page;
    size_t n = from < total ? total - from : 0;
    n = n < (size_t)per_page ? n : (size_t)per_page;
    items_json(n > 0 ? v->v + from : NULL, n, out);
    tide_buf_printf(out, ",\"page\":%ld,\"per_page\":%ld,\"total\":%zu}", page, per_page, total);
    return 200;
}

static int tolower_ascii(char c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool icontains(const char *hay, size_t hn, const char *needle, size_t nn)
{
    if (nn > hn)
        return false;
    for (size_t i = 0; i + nn <= hn; i++) {
        size_t k = 0;
        while (k < nn && tolower_ascii(hay[i + k]) == tolower_ascii(needle[k]))
            k++;
        if (k == nn)
            return true;
    }
    return false;
}

int tide_store_search(struct tide_store *s, struct tide_http_str tenant, struct tide_http_str query,
                      bool leak, struct tide_buf *out)
{
    struct tide_http_str raw;
    char q[1024];
    if (!tide_http_query_get(query, "q", &raw) || raw.n == 0)
        return invalid(out, "q", "q is required");
    long qn = tide_http_unescape(raw.p, raw.n, q, sizeof q);
    if (qn <= 0)
        return invalid(out, "q", "q must be percent-encoded text of at most 1024 bytes");
    long limit;
    int status = int_param(query, "limit", 20, TIDE_STORE_PAGE_MAX, &limit, out);
    if (status != 0)
        return status;
    const struct tenant *t = tenant_find(s, tenant);
    const struct vec *v = leak ? &s->all : t != NULL ? &t->items : NULL;
    size_t total = 0, shown = 0;
    tide_buf_puts(out, "{\"items\":[");
    for (size_t i = 0; v != NULL && i < v->n; i++) {
        const struct project *p = v->v[i];
        if (!icontains(p->name, p->name_len, q, (size_t)qn) &&
            !icontains(p->desc, p->desc_len, q, (size_t)qn))
            continue;
        total++;
        if (shown == (size_t)limit)
            continue;
        if (shown++ > 0)
            tide_buf_puts(out, ",");
        project_json(p, out);
    }
    tide_buf_printf(out, "],\"total\":%zu}", total);
    return 200;
}

void tide_store_tenants_json(const struct tide_store *s, struct tide_buf *out)
{
    tide_buf_puts(out, "{");
    bool first = true;
    for (size_t i = 0; i < s->tenants.cap; i++) {
        const struct tenant *t = s->tenants.slots[i].val;
        if (t == NULL)
            continue;
        if (!first)
            tide_buf_puts(out, ",");
        first = false;
        tide_store_buf_json(out, t->name, t->name_len);
        tide_buf_printf(out, ":%zu", t->items.n);
    }
    tide_buf_puts(out, "}");
}
