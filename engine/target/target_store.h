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
#define TIDE_STORE_RATE       5       /* GET /api/limited: requests per token per second */
#define TIDE_STORE_USERS      100000  /* users in all; beyond, creating one is 507 */

/* Output buffers (base/buf.h). */

/* s[0..n) as a quoted JSON string; invalid UTF-8 becomes U+FFFD. */
void tide_store_buf_json(struct tide_buf *b, const char *s, size_t n);

/* Lifetime. */

struct tide_store;
struct tide_store_user; /* who a token belongs to */

/* Faults that break the promises of the user routes (docs/target.md#faults). */
struct tide_store_faults {
    bool leaky_erasure;     /* erasure answers its receipt but keeps the user's projects */
    bool incomplete_export; /* export leaves out the user's newest project */
    bool skip_audit;        /* deletions and erasures leave no audit record */
    bool broken_authz;      /* roles and tenant bindings are not checked (tokens still are) */
};
void tide_store_set_faults(struct tide_store *s, const struct tide_store_faults *f);

/* 'users_file': CSV lines 'username,password[,tenant]' (a first line 'username,...' and '#'
 * lines are skipped) or a JSON list of {"username","password","tenant"}; NULL: the built-in
 * users demo/demo, alice/alice-pw, bob/bob-pw and user1..user100 with password pw-user1..100,
 * none bound to a tenant. A user with a tenant may only use that X-Tenant-ID (else 403). A
 * fourth CSV column or a "role" member says "admin" (the default) or "member". */
struct tide_store *tide_store_new(const char *users_file, struct tide_err *err);
void tide_store_free(struct tide_store *s); /* NULL is fine */

/* Authentication ('now': wall-clock seconds). */

/* POST /api/auth/login {"username","password"[,"ttl": seconds]} → 200 {"token",...} | 401 |
 * 422. */
int tide_store_login(struct tide_store *s, const char *body, size_t len, double now,
                     struct tide_buf *out);
/* Checks 'Authorization: Bearer ...' (NULL: absent) and, when 'need_tenant', X-Tenant-ID.
 * Returns 0 when both are fine, with the token's user in *who (when not NULL), else 401, 400 or
 * 403 with the error body in 'out'. */
int tide_store_authorize(struct tide_store *s, const struct tide_http_str *authorization,
                         const struct tide_http_str *tenant, bool need_tenant, double now,
                         const struct tide_store_user **who, struct tide_buf *out);
/* POST /api/auth/logout, after tide_store_authorize: the token stops working. 204. */
int tide_store_logout(struct tide_store *s, const struct tide_http_str *authorization);

/* Projects of one tenant. 'id' is the path segment after /api/projects/. 'dry': answer as
 * usual but change nothing (the drop-writes fault). 'who' (from tide_store_authorize) owns what
 * it creates; a member may change only its own projects (else 403), an admin any. Each write
 * leaves an audit record. */

int tide_store_create(struct tide_store *s, const struct tide_store_user *who,
                      struct tide_http_str tenant, const char *body, size_t len, double now,
                      bool dry, struct tide_buf *out, int64_t *id);
int tide_store_get(struct tide_store *s, struct tide_http_str tenant, struct tide_http_str id,
                   struct tide_buf *out);
/* PUT ('partial' false: name required, description reset when absent) or PATCH. */
int tide_store_update(struct tide_store *s, const struct tide_store_user *who,
                      struct tide_http_str tenant, struct tide_http_str id, const char *body,
                      size_t len, bool partial, double now, bool dry, struct tide_buf *out);
int tide_store_delete(struct tide_store *s, const struct tide_store_user *who,
                      struct tide_http_str tenant, struct tide_http_str id, double now, bool dry,
                      struct tide_buf *out);
/* GET /api/projects?page=&per_page= and /api/search?q=&limit=. 'leak': all tenants' items
 * (the tenant-leak fault). */
int tide_store_list(struct tide_store *s, struct tide_http_str tenant, struct tide_http_str query,
                    bool leak, struct tide_buf *out);
int tide_store_search(struct tide_store *s, struct tide_http_str tenant, struct tide_http_str query,
                      bool leak, struct tide_buf *out);

/* Users and their personal data. A user is seen from the tenant it is bound to (an unbound one
 * from every tenant): another tenant's user is 404. Profiles, exports and erasure are for the
 * user itself or an admin (else 403); creating, listing, importing users and the audit log are
 * for admins. Reads of personal data and every write leave an audit record. */

/* POST /api/users {"username","password"[,"role","email","full_name"]}: 201 + the profile, the
 * user bound to 'tenant'; 409 name taken; 422. */
int tide_store_user_create(struct tide_store *s, const struct tide_store_user *who,
                           struct tide_http_str tenant, const char *body, size_t len, double now,
                           struct tide_buf *out, int64_t *id);
/* GET /api/users: {"items":[profile...],"total"} in id order. */
int tide_store_user_list(struct tide_store *s, const struct tide_store_user *who,
                         struct tide_http_str tenant, double now, struct tide_buf *out);
/* GET /api/users/{id}: the profile. */
int tide_store_user_get(struct tide_store *s, const struct tide_store_user *who,
                        struct tide_http_str tenant, struct tide_http_str id, double now,
                        struct tide_buf *out);
/* GET /api/users/{id}/export: {"user": profile, "projects": [...], "exported_at"}. */
int tide_store_user_export(struct tide_store *s, const struct tide_store_user *who,
                           struct tide_http_str tenant, struct tide_http_str id, double now,
                           struct tide_buf *out);
/* DELETE /api/users/{id}: removes the user, its projects (all tenants) and tokens; 200 with a
 * receipt {"erased","user_id","projects_deleted","tokens_revoked","erased_at","receipt"}. */
int tide_store_user_erase(struct tide_store *s, const struct tide_store_user *who,
                          struct tide_http_str tenant, struct tide_http_str id, double now,
                          struct tide_buf *out);
/* POST /api/users/import with an export document (plus "password" optionally): 201 + the new
 * user's export; the user and its projects land in 'tenant' with new ids. 409 on a name taken. */
int tide_store_user_import(struct tide_store *s, const struct tide_store_user *who,
                           struct tide_http_str tenant, const char *body, size_t len, double now,
                           struct tide_buf *out, int64_t *id);
/* GET /api/audit (admins): see target_audit.h. */
int tide_store_audit_query(struct tide_store *s, const struct tide_store_user *who,
                           struct tide_http_str tenant, struct tide_http_str query,
                           struct tide_buf *out);
/* GET /api/limited: 200 {"ok","remaining"} for TIDE_STORE_RATE requests per token per second,
 * then 429 with *retry_after the seconds to wait. */
int tide_store_limited(struct tide_store *s, const struct tide_http_str *authorization, double now,
                       struct tide_buf *out, int *retry_after);

/* Statistics. */

/* {"tenant": number of projects, ...} */
void tide_store_tenants_json(const struct tide_store *s, struct tide_buf *out);

#endif
