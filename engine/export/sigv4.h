/* sigv4.h: AWS Signature Version 4 (header form), the signing that S3-compatible stores
 * (AWS S3, MinIO, Ceph, Garage, R2...) check. tide signs its S3 requests with it rather than
 * with libcurl's CURLOPT_AWS_SIGV4, which in the libcurl tide builds against (7.88) leaves
 * x-amz-content-sha256 to the caller and whose signed header set varies between versions; one
 * signer, unit-tested against AWS's published examples, signs every request tide sends.
 *
 * Steps (each exposed for the tests): the canonical request (method, URI, sorted query,
 * lowercased sorted headers, signed header list, payload hash), the string to sign
 * (algorithm, date, scope, hash of the canonical request), the signing key (HMAC chain of
 * date, region, service, "aws4_request" from "AWS4" + secret) and the Authorization header. */
#ifndef TIDE_SIGV4_H
#define TIDE_SIGV4_H
#include <stddef.h>

struct tide_sigv4_header {
    const char *name;
    const char *value;
};

struct tide_sigv4_request {
    const char *method;
    const char *path;  /* URI-encoded path, "/" when empty */
    const char *query; /* "a=1&b=2", each name and value URI-encoded; "" or NULL for none */
    const struct tide_sigv4_header *headers; /* all signed: host and x-amz-date at least */
    size_t nheaders;
    const char *payload_hash; /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
    const char *amz_date;     /* YYYYMMDDTHHMMSSZ, the x-amz-date header's value */
    const char *region;
    const char *service;
};

/* Each returns a malloc'ed string (NULL without memory). */
char *tide_sigv4_canonical_request(const struct tide_sigv4_request *r);
char *tide_sigv4_string_to_sign(const struct tide_sigv4_request *r);
/* "AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/SERVICE/aws4_request, SignedHeaders=...,
 * Signature=HEX". 'signature', when not NULL, gets the 64 hex digits and a NUL. */
char *tide_sigv4_authorization(const struct tide_sigv4_request *r, const char *access_key,
                               const char *secret_key, char signature[65]);

/* URI-encodes per SigV4: every byte but A-Z a-z 0-9 - . _ ~ becomes %XX (uppercase hex);
 * '/' is kept when 'keep_slash' (object key paths). malloc'ed. */
char *tide_sigv4_uri_encode(const char *s, int keep_slash);
/* Lowercase hex SHA-256 of a buffer. */
void tide_sigv4_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
