/* multipart.h: multipart/form-data request bodies (RFC 7578): fields and file uploads, built
 * by tide (not by the HTTP library) so any transport sends the same bytes. The boundary is
 * random and checked absent from every part; names and file names are escaped as browsers do
 * (" -> %22, CR -> %0D, LF -> %0A). */
#ifndef TIDE_MULTIPART_H
#define TIDE_MULTIPART_H
#include <stddef.h>
#include "buf.h"

struct tide_multipart_part {
    const char *name; /* the form field's name */
    const char *data; /* the value or the file's bytes (any bytes) */
    size_t len;
    const char *filename;     /* NULL: a plain field; else a file upload */
    const char *content_type; /* a file's type; NULL: application/octet-stream */
};

#define TIDE_MULTIPART_BOUNDARY_MAX 64

/* Appends the body of 'parts' to 'out' and writes the Content-Type header's value
 * ("multipart/form-data; boundary=...") to 'ctype' (at least 96 bytes). */
void tide_multipart_build(const struct tide_multipart_part *parts, size_t n, struct tide_buf *out,
                          char *ctype, size_t ctype_cap);

#endif
