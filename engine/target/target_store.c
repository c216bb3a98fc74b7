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
#include "target_audit.h"
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

struct tide_store_user {
    int64_t id;
    char *name, *password, *tenant; /* tenant may be NULL */
    char *email, *full_name;        /* "" when not given */
    bool admin;                     /* else a member */
    char created[TIMESTAMP_LEN + 1];
};

struct token {
    char id[33];
    const struct tide_store_user *user;
    double expires;
    bool revoked;
    double window; /* of the rate-limited route: when the current second began */
    int hits;      /* requests in it */
};

struct tenant;

struct project {
    int64_t id;
    int64_t owner; /* the id of the user who created it */
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
    struct map users_by_id;
    struct vec all;
    struct tide_audit *audit;
    struct tide_store_faults faults;
    int64_t next_user_id;
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

static void user_free(struct tide_store_user *u)
{
    free(u->name);
    free(u->password);
    free(u->tenant);
    free(u->email);
    free(u->full_name);
    free(u);
}

static void timestamp(double now, char out[TIMESTAMP_LEN + 1]);

/* Adds a user with the next id; NULL with 'err' set on a duplicate name or no memory. */
static struct tide_store_user *user_add(struct tide_store *s, const char *name,
                                        const char *password, const char *tenant, bool admin,
                                        const char *email, const char *full_name, double now,
                                        struct tide_err *err)
{
    if (map_get(&s->users, name, strlen(name)) != NULL) {
        tide_err_set(err, "duplicate user '%s'", name);
        return NULL;
    }
    struct tide_store_user *u = calloc(1, sizeof *u);
    if (u == NULL) {
        tide_err_set(err, "out of memory");
        return NULL;
    }
    u->name = strdup(name);
    u->password = strdup(password);
    u->tenant = tenant != NULL && tenant[0] != '\0' ? strdup(tenant) : NULL;
    u->email = strdup(email != NULL ? email : "");
    u->full_name = strdup(full_name != NULL ? full_name : "");
    u->admin = admin;
    u->id = s->next_user_id;
    timestamp(now, u->created);
    bool ok = u->name != NULL && u->password != NULL && u->email != NULL && u->full_name != NULL &&
              (tenant == NULL || tenant[0] == '\0' || u->tenant != NULL);
    if (ok && map_put(&s->users, u->name, strlen(u->name), u) == 0) {
        if (map_put(&s->users_by_id, &u->id, sizeof u->id, u) == 0) {
            s->next_user_id++;
            return u;
        }
        map_del(&s->users, u->name, strlen(u->name));
    }
    user_free(u);
    tide_err_set(err, "out of memory");
    return NULL;
}

/* A user of the users file or the built-in ones: admin unless 'role' says "member". */
static int add_user(struct tide_store *s, const char *name, const char *password,
                    const char *tenant, const char *role, struct tide_err *err)
{
    if (role != NULL && role[0] != '\0' && strcmp(role, "admin") != 0 &&
        strcmp(role, "member") != 0)
        return tide_err_set(err, "role '%s': expected admin or member", role);
    bool admin = role == NULL || strcmp(role, "member") != 0;
    return user_add(s, name, password, tenant, admin, NULL, NULL, (double)time(NULL), err) != NULL
               ? 0
               : -1;
}

static int builtin_users(struct tide_store *s, struct tide_err *err)
{
    static const char *const fixed[][2] = {
        {"demo", "demo"}, {"alice", "alice-pw"}, {"bob", "bob-pw"}};
    for (size_t i = 0; i < 3; i++) {
        if (add_user(s, fixed[i][0], fixed[i][1], NULL, NULL, err) < 0)
            return -1;
    }
    for (int i = 1; i <= 100; i++) {
        char name[16], pw[16];
        snprintf(name, sizeof name, "user%d", i);
        snprintf(pw, sizeof pw, "pw-user%d", i);
        if (add_user(s, name, pw, NULL, NULL, err) < 0)
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

/* Puts "<where>: " before err's message ("%s:%d" with path and n, or "%s: item %d"), from a
 * copy: the message is also the output. */
static int prefix_err(struct tide_err *err, bool item, const char *path, int n)
{
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    if (item)
        return tide_err_set(err, "%s: item %d: %s", path, n, msg);
    return tide_err_set(err, "%s:%d: %s", path, n, msg);
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
        char *f[5] = {l, NULL, NULL, NULL, NULL};
        int n = 1;
        for (char *c = l; *c != '\0' && n < 5; c++) {
            if (*c == ',') {
                *c = '\0';
                f[n++] = c + 1;
            }
        }
        for (int i = 0; i < n; i++)
            f[i] = trim(f[i]);
        if (line == 1 && strcmp(f[0], "username") == 0)
            continue;
        if (n < 2 || n > 4 || f[0][0] == '\0')
            return tide_err_set(err, "%s:%d: expected 'username,password[,tenant[,role]]'", path,
                                line);
        if (add_user(s, f[0], f[1], n >= 3 ? f[2] : NULL, n == 4 ? f[3] : NULL, err) < 0)
            return prefix_err(err, false, path, line);
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
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(u, "role");
        if (!cJSON_IsString(name) || !cJSON_IsString(pw) || name->valuestring[0] == '\0' ||
            (tenant != NULL && !cJSON_IsString(tenant) && !cJSON_IsNull(tenant)) ||
            (role != NULL && !cJSON_IsString(role))) {
            tide_err_set(err, "%s: item %d: expected {\"username\", \"password\"[, \"tenant\"]}",
                         path, i);
            goto out;
        }
        if (add_user(s, name->valuestring, pw->valuestring,
                     cJSON_IsString(tenant) ? tenant->valuestring : NULL,
                     cJSON_IsString(role) ? role->valuestring : NULL, err) < 0) {
            prefix_err(err, true, path, i);
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
    s->next_user_id = 1;
    rng_seed(s);
    s->ring = calloc(TIDE_STORE_TOKENS, sizeof *s->ring);
    s->audit = tide_audit_new();
    int rc = s->ring != NULL && s->audit != NULL ? 0 : tide_err_set(err, "out of memory");
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
        struct tide_store_user *u = s->users.slots[i].val;
        if (u != NULL)
            user_free(u);
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
    free(s->users_by_id.slots);
    tide_audit_free(s->audit);
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

static struct token *token_new(struct tide_store *s, const struct tide_store_user *u,
                               double expires)
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
        const struct tide_store_user *u =
            map_get(&s->users, name->valuestring, strlen(name->valuestring));
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
            tide_buf_printf(out, "\"expires_in\":%g,\"user_id\":%lld,\"role\":\"%s\",", life,
                            (long long)u->id, u->admin ? "admin" : "member");
            tide_buf_puts(out, "\"username\":");
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
                         const struct tide_store_user **who, struct tide_buf *out)
{
    struct tide_http_str tok;
    if (!bearer(authorization, &tok))
        return fail(out, 401, "missing bearer token");
    const struct token *t = map_get(&s->tokens, tok.p, tok.n);
    if (t == NULL)
        return fail(out, 401, "invalid token");
    if (now >= t->expires)
        return fail(out, 401, "token expired");
    if (who != NULL)
        *who = t->user;
    if (!need_tenant)
        return 0;
    if (tenant == NULL)
        return fail(out, 400, "missing X-Tenant-ID");
    if (!tenant_valid(*tenant))
        return fail(out, 400, "invalid X-Tenant-ID (use 1 to 64 of A-Z a-z 0-9 . _ -)");
    const char *bound = t->user->tenant;
    if (bound != NULL && !s->faults.broken_authz &&
        (strlen(bound) != tenant->n || memcmp(bound, tenant->p, tenant->n) != 0))
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
    tide_audit_timestamp(now, out);
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

/* Audit records and roles. */

/* Records an action on 'prefix' followed by 'id' (no id when negative). The skip-audit fault
 * loses the records of deletions and erasures. */
static void audit(struct tide_store *s, double now, const struct tide_store_user *who,
                  struct tide_http_str tenant, const char *action, const char *prefix, int64_t id)
{
    if (s->faults.skip_audit &&
        (strstr(action, "delete") != NULL || strstr(action, "erase") != NULL))
        return;
    char resource[TIDE_AUDIT_RESOURCE];
    if (id >= 0)
        snprintf(resource, sizeof resource, "%s%lld", prefix, (long long)id);
    else
        snprintf(resource, sizeof resource, "%s", prefix);
    tide_audit_add(s->audit, now, who->id, tenant, action, resource);
}

/* Admins change any project of their tenant, members only their own. */
static bool may_change(const struct tide_store *s, const struct tide_store_user *who,
                       const struct project *p)
{
    return who->admin || p->owner == who->id || s->faults.broken_authz;
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

int tide_store_create(struct tide_store *s, const struct tide_store_user *who,
                      struct tide_http_str tenant, const char *body, size_t len, double now,
                      bool dry, struct tide_buf *out, int64_t *id)
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
        p->owner = who->id;
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
        audit(s, now, who, tenant, "project.create", "/api/projects/", p->id);
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

int tide_store_update(struct tide_store *s, const struct tide_store_user *who,
                      struct tide_http_str tenant, struct tide_http_str id, const char *body,
                      size_t len, bool partial, double now, bool dry, struct tide_buf *out)
{
    struct project *p = project_find(s, tenant, id);
    if (p == NULL)
        return fail(out, 404, "project not found");
    if (!may_change(s, who, p))
        return fail(out, 403, "forbidden: only the project's owner or an admin may change it");
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
    if (status == 200)
        audit(s, now, who, tenant, "project.update", "/api/projects/", p->id);
    cJSON_Delete(root);
    return status;
}

/* Removes p from every index and frees it. */
static void project_remove(struct tide_store *s, struct project *p)
{
    map_del(&s->projects, &p->id, sizeof p->id);
    map_del(&p->tenant->by_name, p->name, p->name_len);
    vec_remove(&p->tenant->items, p->id);
    vec_remove(&s->all, p->id);
    project_free(p);
}

int tide_store_delete(struct tide_store *s, const struct tide_store_user *who,
                      struct tide_http_str tenant, struct tide_http_str id, double now, bool dry,
                      struct tide_buf *out)
{
    struct project *p = project_find(s, tenant, id);
    if (p == NULL)
        return fail(out, 404, "project not found");
    if (!may_change(s, who, p))
        return fail(out, 403, "forbidden: only the project's owner or an admin may change it");
    audit(s, now, who, tenant, "project.delete", "/api/projects/", p->id);
    if (!dry)
        project_remove(s, p);
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

/* Users: profiles, export, erasure, import (docs/target.md#users-and-personal-data). */

void tide_store_set_faults(struct tide_store *s, const struct tide_store_faults *f)
{
    s->faults = *f;
}

/* A decimal id making up all of 'seg', or -1. */
static int64_t parse_id(struct tide_http_str seg)
{
    if (seg.n == 0 || seg.n > 18)
        return -1;
    int64_t id = 0;
    for (size_t i = 0; i < seg.n; i++) {
        if (seg.p[i] < '0' || seg.p[i] > '9')
            return -1;
        id = id * 10 + (seg.p[i] - '0');
    }
    return id;
}

static bool same_tenant(const char *bound, struct tide_http_str tenant)
{
    return strlen(bound) == tenant.n && memcmp(bound, tenant.p, tenant.n) == 0;
}

/* A user is seen from the tenant it is bound to (an unbound one from every tenant). */
static bool user_visible(const struct tide_store *s, const struct tide_store_user *u,
                         struct tide_http_str tenant)
{
    return u->tenant == NULL || same_tenant(u->tenant, tenant) || s->faults.broken_authz;
}

/* The user 'seg' names, when 'who' may see it ('self_ok': the user itself may too); else NULL
 * with 404 or 403 written into 'out' and returned in *status. */
static struct tide_store_user *user_access(struct tide_store *s, const struct tide_store_user *who,
                                           struct tide_http_str tenant, struct tide_http_str seg,
                                           struct tide_buf *out, int *status)
{
    int64_t id = parse_id(seg);
    struct tide_store_user *u = id >= 0 ? map_get(&s->users_by_id, &id, sizeof id) : NULL;
    if (u == NULL || !user_visible(s, u, tenant)) {
        *status = fail(out, 404, "user not found");
        return NULL;
    }
    if (u != who && !who->admin && !s->faults.broken_authz) {
        *status = fail(out, 403, "forbidden: only the user or an admin may do this");
        return NULL;
    }
    return u;
}

static int admin_only(const struct tide_store *s, const struct tide_store_user *who,
                      struct tide_buf *out)
{
    if (who->admin || s->faults.broken_authz)
        return 0;
    return fail(out, 403, "forbidden: admins only");
}

static void profile_json(const struct tide_store_user *u, struct tide_buf *out)
{
    tide_buf_printf(out, "{\"id\":%lld,\"username\":", (long long)u->id);
    tide_store_buf_json(out, u->name, strlen(u->name));
    tide_buf_puts(out, ",\"email\":");
    tide_store_buf_json(out, u->email, strlen(u->email));
    tide_buf_puts(out, ",\"full_name\":");
    tide_store_buf_json(out, u->full_name, strlen(u->full_name));
    tide_buf_printf(out, ",\"role\":\"%s\",\"tenant\":", u->admin ? "admin" : "member");
    if (u->tenant != NULL)
        tide_store_buf_json(out, u->tenant, strlen(u->tenant));
    else
        tide_buf_puts(out, "null");
    tide_buf_printf(out, ",\"created_at\":\"%s\"}", u->created);
}

/* The export document: the profile and every project the user created, in any tenant. The
 * incomplete-export fault leaves out the newest project. */
static void export_json(const struct tide_store *s, const struct tide_store_user *u, double now,
                        struct tide_buf *out)
{
    char when[TIMESTAMP_LEN + 1];
    size_t last = s->all.n;
    if (s->faults.incomplete_export) {
        for (size_t i = s->all.n; i-- > 0;) {
            if (s->all.v[i]->owner == u->id) {
                last = i;
                break;
            }
        }
    }
    timestamp(now, when);
    tide_buf_puts(out, "{\"user\":");
    profile_json(u, out);
    tide_buf_puts(out, ",\"projects\":[");
    bool first = true;
    for (size_t i = 0; i < s->all.n; i++) {
        const struct project *p = s->all.v[i];
        if (p->owner != u->id || i == last)
            continue;
        tide_buf_puts(out, first ? "" : ",");
        first = false;
        project_json(p, out);
    }
    tide_buf_printf(out, "],\"exported_at\":\"%s\"}", when);
}

/* A string member: absent is "" (or NULL when 'required'); 0, or 422 written. */
static int text_member(const cJSON *root, const char *name, bool required, size_t max,
                       const char **v, struct tide_buf *out)
{
    char msg[96];
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, name);
    *v = "";
    if (m == NULL || cJSON_IsNull(m)) {
        if (!required)
            return 0;
        snprintf(msg, sizeof msg, "%s is required", name);
        return invalid(out, name, msg);
    }
    long chars = cJSON_IsString(m) ? tide_utf8_count(m->valuestring, strlen(m->valuestring)) : -1;
    if (chars < 0 || (required && strspn(m->valuestring, " \t\r\n") == strlen(m->valuestring)) ||
        chars > (long)max) {
        snprintf(msg, sizeof msg, "%s must be a %sstring of at most %zu characters", name,
                 required ? "non-empty " : "", max);
        return invalid(out, name, msg);
    }
    *v = m->valuestring;
    return 0;
}

/* Checks a profile body ({"username", "password", "role", "email", "full_name"}) and adds the
 * user bound to 'tenant'; 'password' NULL: the body's (required). 0, or an error status written. */
static int profile_create(struct tide_store *s, const cJSON *body, const char *password,
                          struct tide_http_str tenant, double now, struct tide_buf *out,
                          struct tide_store_user **made)
{
    const char *name, *pw, *email, *full, *role;
    int st = text_member(body, "username", true, TIDE_STORE_TENANT_MAX, &name, out);
    if (st == 0 && password == NULL)
        st = text_member(body, "password", true, 200, &pw, out);
    if (st == 0 && password != NULL)
        pw = password;
    if (st == 0)
        st = text_member(body, "email", false, 200, &email, out);
    if (st == 0)
        st = text_member(body, "full_name", false, 200, &full, out);
    if (st == 0)
        st = text_member(body, "role", false, 16, &role, out);
    if (st == 0 && role[0] != '\0' && strcmp(role, "admin") != 0 && strcmp(role, "member") != 0)
        st = invalid(out, "role", "role must be admin or member");
    if (st != 0)
        return st;
    if (map_get(&s->users, name, strlen(name)) != NULL)
        return field_error(out, 409, "username", "a user with this name already exists");
    if (s->users.n >= TIDE_STORE_USERS)
        return fail(out, 507, "store is full");
    char bound[TIDE_STORE_TENANT_MAX + 1];
    memcpy(bound, tenant.p, tenant.n);
    bound[tenant.n] = '\0';
    struct tide_err err;
    *made = user_add(s, name, pw, bound, strcmp(role, "admin") == 0, email, full, now, &err);
    return *made != NULL ? 0 : fail(out, 500, err.msg);
}

int tide_store_user_create(struct tide_store *s, const struct tide_store_user *who,
                           struct tide_http_str tenant, const char *body, size_t len, double now,
                           struct tide_buf *out, int64_t *id)
{
    int st = admin_only(s, who, out);
    if (st != 0)
        return st;
    cJSON *root = parse_object(body, len, out);
    if (root == NULL)
        return 422;
    struct tide_store_user *u = NULL;
    st = profile_create(s, root, NULL, tenant, now, out, &u);
    cJSON_Delete(root);
    if (st != 0)
        return st;
    profile_json(u, out);
    *id = u->id;
    audit(s, now, who, tenant, "user.create", "/api/users/", u->id);
    return 201;
}

static int by_id(const void *a, const void *b)
{
    const struct tide_store_user *x = *(const struct tide_store_user *const *)a;
    const struct tide_store_user *y = *(const struct tide_store_user *const *)b;
    return (x->id > y->id) - (x->id < y->id);
}

int tide_store_user_list(struct tide_store *s, const struct tide_store_user *who,
                         struct tide_http_str tenant, double now, struct tide_buf *out)
{
    int st = admin_only(s, who, out);
    if (st != 0)
        return st;
    const struct tide_store_user **v = malloc((s->users.n + 1) * sizeof *v);
    if (v == NULL)
        return fail(out, 500, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < s->users.cap; i++) {
        const struct tide_store_user *u = s->users.slots[i].val;
        if (u != NULL && user_visible(s, u, tenant))
            v[n++] = u;
    }
    qsort(v, n, sizeof *v, by_id);
    tide_buf_puts(out, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        tide_buf_puts(out, i > 0 ? "," : "");
        profile_json(v[i], out);
    }
    tide_buf_printf(out, "],\"total\":%zu}", n);
    free(v);
    audit(s, now, who, tenant, "user.list", "/api/users", -1);
    return 200;
}

int tide_store_user_get(struct tide_store *s, const struct tide_store_user *who,
                        struct tide_http_str tenant, struct tide_http_str id, double now,
                        struct tide_buf *out)
{
    int st;
    const struct tide_store_user *u = user_access(s, who, tenant, id, out, &st);
    if (u == NULL)
        return st;
    profile_json(u, out);
    audit(s, now, who, tenant, "user.read", "/api/users/", u->id);
    return 200;
}

int tide_store_user_export(struct tide_store *s, const struct tide_store_user *who,
                           struct tide_http_str tenant, struct tide_http_str id, double now,
                           struct tide_buf *out)
{
    int st;
    const struct tide_store_user *u = user_access(s, who, tenant, id, out, &st);
    if (u == NULL)
        return st;
    export_json(s, u, now, out);
    char path[TIDE_AUDIT_RESOURCE];
    snprintf(path, sizeof path, "/api/users/%lld/export", (long long)u->id);
    audit(s, now, who, tenant, "user.export", path, -1);
    return 200;
}

int tide_store_user_erase(struct tide_store *s, const struct tide_store_user *who,
                          struct tide_http_str tenant, struct tide_http_str id, double now,
                          struct tide_buf *out)
{
    int st;
    struct tide_store_user *u = user_access(s, who, tenant, id, out, &st);
    if (u == NULL)
        return st;
    int64_t uid = u->id, actor = who->id;
    size_t projects = 0, tokens = 0;
    /* The leaky-erasure fault answers the same receipt but leaves the projects behind. */
    for (size_t i = s->all.n; i-- > 0;) {
        if (s->all.v[i]->owner == uid) {
            if (!s->faults.leaky_erasure)
                project_remove(s, s->all.v[i]);
            projects++;
        }
    }
    for (size_t i = 0; i < s->ring_n; i++) {
        struct token *t = s->ring[(s->ring_head + i) % TIDE_STORE_TOKENS];
        if (t->user != u)
            continue;
        if (!t->revoked) {
            map_del(&s->tokens, t->id, 32);
            t->revoked = true;
            tokens++;
        }
        t->user = NULL;
    }
    map_del(&s->users, u->name, strlen(u->name));
    map_del(&s->users_by_id, &u->id, sizeof u->id);
    user_free(u); /* 'who' may be 'u': not used below */
    char when[TIMESTAMP_LEN + 1], resource[TIDE_AUDIT_RESOURCE];
    timestamp(now, when);
    snprintf(resource, sizeof resource, "/api/users/%lld", (long long)uid);
    if (!s->faults.skip_audit)
        tide_audit_add(s->audit, now, actor, tenant, "user.erase", resource);
    tide_buf_printf(out,
                    "{\"erased\":true,\"user_id\":%lld,\"projects_deleted\":%zu,"
                    "\"tokens_revoked\":%zu,\"erased_at\":\"%s\",\"receipt\":\"erase-%lld-%llx\"}",
                    (long long)uid, projects, tokens, when, (long long)uid,
                    (unsigned long long)(rng_next(s) & 0xffffffffffULL));
    return 200;
}

int tide_store_user_import(struct tide_store *s, const struct tide_store_user *who,
                           struct tide_http_str tenant, const char *body, size_t len, double now,
                           struct tide_buf *out, int64_t *id)
{
    int st = admin_only(s, who, out);
    if (st != 0)
        return st;
    cJSON *root = parse_object(body, len, out);
    if (root == NULL)
        return 422;
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(root, "user");
    const cJSON *projects = cJSON_GetObjectItemCaseSensitive(root, "projects");
    const cJSON *password = cJSON_GetObjectItemCaseSensitive(root, "password");
    struct tenant *t = tenant_find(s, tenant);
    const cJSON *p;
    if (!cJSON_IsObject(user))
        st = invalid(out, "user", "user must be an object (an export document)");
    else if (projects != NULL && !cJSON_IsArray(projects))
        st = invalid(out, "projects", "projects must be a list");
    else if (password != NULL && !cJSON_IsString(password))
        st = invalid(out, "password", "password must be a string");
    else if ((size_t)cJSON_GetArraySize(projects) + s->all.n > TIDE_STORE_PROJECTS)
        st = fail(out, 507, "store is full");
    cJSON_ArrayForEach(p, projects)
    {
        struct fields f;
        if (st == 0 && !cJSON_IsObject(p))
            st = invalid(out, "projects", "each project must be an object");
        if (st == 0)
            st = check_fields(p, true, &f, out);
        if (st == 0)
            st = check_unique(t, f.name->valuestring, NULL, out);
        for (const cJSON *q = projects->child; st == 0 && q != p; q = q->next) {
            const cJSON *qn = cJSON_GetObjectItemCaseSensitive(q, "name");
            if (strcmp(qn->valuestring, f.name->valuestring) == 0)
                st = field_error(out, 409, "name", "a project with this name already exists");
        }
    }
    struct tide_store_user *u = NULL;
    char random_pw[33];
    snprintf(random_pw, sizeof random_pw, "%016llx%016llx", (unsigned long long)rng_next(s),
             (unsigned long long)rng_next(s));
    if (st == 0)
        st = profile_create(s, user, cJSON_IsString(password) ? password->valuestring : random_pw,
                            tenant, now, out, &u);
    if (st == 0 && (t = tenant_get(s, tenant)) == NULL)
        st = fail(out, 500, "out of memory");
    cJSON_ArrayForEach(p, projects)
    {
        if (st != 0)
            break;
        struct fields f;
        check_fields(p, true, &f, out); /* checked above: cannot fail */
        struct project *np = calloc(1, sizeof *np);
        if (np != NULL) {
            np->name = strdup(f.name->valuestring);
            np->desc = strdup(f.desc != NULL ? f.desc : "");
        }
        if (np == NULL || np->name == NULL || np->desc == NULL) {
            if (np != NULL)
                project_free(np);
            st = fail(out, 500, "out of memory");
            break;
        }
        np->id = s->next_id++;
        np->owner = u->id;
        np->tenant = t;
        np->name_len = strlen(np->name);
        np->desc_len = strlen(np->desc);
        timestamp(now, np->created);
        memcpy(np->updated, np->created, sizeof np->created);
        if (store_project(s, t, np) < 0) {
            project_free(np);
            st = fail(out, 500, "out of memory");
        }
    }
    cJSON_Delete(root);
    if (st != 0)
        return st;
    export_json(s, u, now, out);
    *id = u->id;
    audit(s, now, who, tenant, "user.import", "/api/users/", u->id);
    return 201;
}

int tide_store_audit_query(struct tide_store *s, const struct tide_store_user *who,
                           struct tide_http_str tenant, struct tide_http_str query,
                           struct tide_buf *out)
{
    int st = admin_only(s, who, out);
    return st != 0 ? st : tide_audit_query(s->audit, tenant, query, out);
}

int tide_store_limited(struct tide_store *s, const struct tide_http_str *authorization, double now,
                       struct tide_buf *out, int *retry_after)
{
    struct tide_http_str tok;
    struct token *t = bearer(authorization, &tok) ? map_get(&s->tokens, tok.p, tok.n) : NULL;
    if (t == NULL)
        return fail(out, 401, "invalid token");
    if (now - t->window >= 1.0 || now < t->window) {
        t->window = now;
        t->hits = 0;
    }
    if (++t->hits > TIDE_STORE_RATE) {
        double wait = ceil(t->window + 1.0 - now);
        *retry_after = wait < 1 ? 1 : (int)wait;
        return fail(out, 429, "rate limit exceeded");
    }
    tide_buf_printf(out, "{\"ok\":true,\"remaining\":%d}", TIDE_STORE_RATE - t->hits);
    return 200;
}
