/* s3.h: the few S3 calls an export needs, against any S3-compatible store (AWS S3, MinIO,
 * Ceph RGW, Garage, a team's own): PUT an object from a file, list a prefix (ListObjectsV2),
 * delete every object under a prefix. Path-style URLs (ENDPOINT/BUCKET/KEY), which every
 * S3-compatible server accepts; each request signed with sigv4.h and carrying
 * x-amz-content-sha256. Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN, registered as secrets (log.h) so they never appear in tide's output.
 *
 * Purge (the erasure of a run) deletes each S3 export of the run (the "kind": "s3" records of
 * runs folder/.exports.jsonl) with tide_export_s3_delete_ref (export_s3.h), which parses the
 * record's "ref" back with tide_s3_parse_url and calls tide_s3_delete_prefix. */
#ifndef TIDE_S3_H
#define TIDE_S3_H
#include <stddef.h>
#include "err.h"

struct tide_s3 {
    char *endpoint; /* scheme://host[:port], no trailing slash */
    char *host;     /* host[:port], the signed Host header */
    char *region;
    char *access_key;
    char *secret_key;
    char *session_token; /* NULL when not set */
};

struct tide_s3_object {
    char *key;
    long long size;
    char etag[80]; /* without its quotes */
};

/* 'endpoint' NULL: https://s3.REGION.amazonaws.com. 'region' NULL: AWS_REGION, then
 * AWS_DEFAULT_REGION, then us-east-1. -1 with a message when a credential is missing or the
 * endpoint is not an http(s) URL. */
int tide_s3_open(struct tide_s3 *s3, const char *endpoint, const char *region,
                 struct tide_err *err);
void tide_s3_close(struct tide_s3 *s3);

/* "s3://bucket/some/prefix" -> bucket, prefix without leading or trailing '/' (may be "").
 * Both malloc'ed. */
int tide_s3_parse_url(const char *url, char **bucket, char **prefix, struct tide_err *err);

/* PUT 'path' as BUCKET/KEY; 'etag' (may be NULL) gets the ETag the server answered. */
int tide_s3_put_file(const struct tide_s3 *s3, const char *bucket, const char *key,
                     const char *path, char etag[80], struct tide_err *err);
/* Every object whose key starts with 'prefix', following continuation tokens. */
int tide_s3_list(const struct tide_s3 *s3, const char *bucket, const char *prefix,
                 struct tide_s3_object **objs, size_t *n, struct tide_err *err);
void tide_s3_free_objects(struct tide_s3_object *objs, size_t n);
/* Deletes every object under 'prefix' (which should end in '/'), then lists again to check
 * none is left; '*deleted' (may be NULL) gets their number. */
int tide_s3_delete_prefix(const struct tide_s3 *s3, const char *bucket, const char *prefix,
                          size_t *deleted, struct tide_err *err);

/* The parsers of what a server answers (tests/fuzz/fuzz_s3.c feeds them anything). */

/* Appends the <Contents> of one ListObjectsV2 page to the list; '*next' gets the continuation
 * token (malloc'ed) when the listing is truncated, else NULL. -1 on a malformed entry. */
int tide_s3_parse_list_page(const char *xml, struct tide_s3_object **objs, size_t *n, char **next);
/* ": <Code>" of an S3 error body, for the one-line error ("" when there is none). */
void tide_s3_error_summary(const char *body, char *out, size_t outsz);

#endif
