/* target_store.h: the data behind 'tide target''s /api routes: users, bearer tokens, tenants
 * and their projects, and the JSON bodies that show them. One thread (the target's loop) owns a
 * store; nothing here locks. Every route function returns the HTTP status to answer and writes
 * the JSON body into 'out'. */
#ifndef TIDE_TARGET_STORE_H
#define TIDE_TARGET_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "err.h"
#include "target_http.h"

#define TIDE_STORE_NAME_MAX   200     /* characters (code points) in a project name */
#define TIDE_STORE_DESC_MAX   2000    /* characters in a description */
#define TIDE_STORE_PAGE_MAX   100     /* per_page and limit are clamped to this */
#define TIDE_STORE_TTL        86400.0 /* default token lifetime, seconds */
#define TIDE_STORE_TOKENS     262144  /* live tokens kept; the oldest are forgotten beyond */
#define TIDE_STORE_PROJECTS   1000000 /* projects over all tenants; beyond: 507 */
#define TIDE_STORE_TENANT_MAX 64      /* bytes in an X-Tenant-ID */

/* Output buffers (base/buf.h). */

/* s[0..n) as a quoted JSON string; invalid UTF-8 becomes U+FFFD. */
void tide_store_buf_json(struct tide_buf *b, const char *s, size_t n);

/* Lifetime. */

struct tide_store;

/* 'users_file': CSV lines 'username,password[,tenant]' (a first line 'username,...' and '#'
 * lines are skipped) or a JSON list of {"username","password","tenant"}; NULL: the built-in
 * users demo/demo, alice/alice-pw, bob/bob-pw and user1..user100 with password pw-user1..100,
 * none bound to a tenant. A user with a tenant may only use that X-Tenant-ID (else 403). */
struct tide_store *tide_store_new(const char *users_file, struct tide_err *err);
void tide_store_free(struct tide_store *s); /* NULL is fine */

/* Authentication ('now': wall-clock seconds). */

/* POST /api/auth/login {"username","password"[,"ttl": seconds]} → 200 {"token",...} | 401 |
 * 422. */
int tide_store_login(struct tide_store *s, const char *body, size_t len, double now,
                     struct tide_buf *out);
/* Checks 'Authorization: Bearer ...' (NULL: absent) and, when 'need_tenant', X-Tenant-ID.
 * Returns 0 when both are fine, else 401, 400 or 403 with the error body in 'out'. */
int tide_store_authorize(struct tide_store *s, const struct tide_http_str *authorization,
                         const struct tide_http_str *tenant, bool need_tenant, double now,
                         struct tide_buf *out);
/* POST /api/auth/logout, after tide_store_authorize: the token stops working. 204. */
int tide_store_logout(struct tide_store *s, const struct tide_http_str *authorization);

/* Projects of one tenant. 'id' is the path segment after /api/projects/. 'dry': answer as
 * usual but change nothing (the drop-writes fault). */

int tide_store_create(struct tide_store *s, struct tide_http_str tenant, const char *body,
                      size_t len, double now, bool dry, struct tide_buf *out, int64_t *id);
int tide_store_get(struct tide_store *s, struct tide_http_str tenant, struct tide_http_str id,
                   struct tide_buf *out);
/* PUT ('partial' false: name required, description reset when absent) or PATCH. */
int tide_store_update(struct tide_store *s, struct tide_http_str tenant, struct tide_http_str id,
                      const char *body, size_t len, bool partial, double now, bool dry,
                      struct tide_buf *out);
int tide_store_delete(struct tide_store *s, struct tide_http_str tenant, struct tide_http_str id,
                      bool dry, struct tide_buf *out);
/* GET /api/projects?page=&per_page= and /api/search?q=&limit=. 'leak': all tenants' items
 * (the tenant-leak fault). */
int tide_store_list(struct tide_store *s, struct tide_http_str tenant, struct tide_http_str query,
                    bool leak, struct tide_buf *out);
int tide_store_search(struct tide_store *s, struct tide_http_str tenant, struct tide_http_str query,
                      bool leak, struct tide_buf *out);

/* Statistics. */

/* {"tenant": number of projects, ...} */
void tide_store_tenants_json(const struct tide_store *s, struct tide_buf *out);

#endif
