/* Unit tests of multipart/form-data bodies: built, then parsed back part by part. */
#include <stdlib.h>
#include "../check.h"
#include "multipart.h"

/* The part after the i-th delimiter: its header block and its data, or -1. */
static int part_at(const char *body, size_t n, const char *boundary, int i, char *head,
                   size_t headcap, const char **data, size_t *len)
{
    char delim[128];
    snprintf(delim, sizeof delim, "--%s\r\n", boundary);
    char next[128];
    snprintf(next, sizeof next, "\r\n--%s", boundary);
    const char *p = body;
    for (int k = 0; k <= i; k++) {
        const char *d = NULL;
        for (const char *q = p; q + strlen(delim) <= body + n; q++) {
            if (memcmp(q, delim, strlen(delim)) == 0) {
                d = q;
                break;
            }
        }
        if (d == NULL)
            return -1;
        p = d + strlen(delim);
    }
    const char *eoh = strstr(p, "\r\n\r\n");
    if (eoh == NULL || (size_t)(eoh - p) >= headcap)
        return -1;
    memcpy(head, p, (size_t)(eoh - p));
    head[eoh - p] = '\0';
    const char *start = eoh + 4;
    for (const char *q = start; q + strlen(next) <= body + n; q++) {
        if (memcmp(q, next, strlen(next)) == 0) {
            *data = start;
            *len = (size_t)(q - start);
            return 0;
        }
    }
    return -1;
}

int main(void)
{
    static const char bytes[] = {'a', '\0', '\r', '\n', 'b'};
    struct tide_multipart_part parts[] = {
        {.name = "title", .data = "hello", .len = 5},
        {.name = "file",
         .data = bytes,
         .len = sizeof bytes,
         .filename = "x.csv",
         .content_type = "text/csv"},
        {.name = "we\"ird\r\n", .data = "", .len = 0, .filename = "a\"b.bin"},
    };
    struct tide_buf body = {0};
    char ctype[128];
    tide_multipart_build(parts, 3, &body, ctype, sizeof ctype);
    CHECK(strncmp(ctype, "multipart/form-data; boundary=tide-", 35) == 0);
    const char *boundary = ctype + strlen("multipart/form-data; boundary=");
    CHECK(strlen(boundary) == 37);
    char head[512];
    const char *data;
    size_t len;
    CHECK(part_at(body.data, body.len, boundary, 0, head, sizeof head, &data, &len) == 0);
    CHECK_STR(head, "Content-Disposition: form-data; name=\"title\"");
    CHECK(len == 5 && memcmp(data, "hello", 5) == 0);
    CHECK(part_at(body.data, body.len, boundary, 1, head, sizeof head, &data, &len) == 0);
    CHECK_STR(head, "Content-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n"
                    "Content-Type: text/csv");
    CHECK(len == sizeof bytes && memcmp(data, bytes, sizeof bytes) == 0);
    CHECK(part_at(body.data, body.len, boundary, 2, head, sizeof head, &data, &len) == 0);
    CHECK_STR(head, "Content-Disposition: form-data; name=\"we%22ird%0D%0A\"; "
                    "filename=\"a%22b.bin\"\r\nContent-Type: application/octet-stream");
    CHECK(len == 0);
    char closing[128];
    snprintf(closing, sizeof closing, "\r\n--%s--\r\n", boundary);
    CHECK(body.len > strlen(closing) &&
          memcmp(body.data + body.len - strlen(closing), closing, strlen(closing)) == 0);
    CHECK(part_at(body.data, body.len, boundary, 3, head, sizeof head, &data, &len) == -1);
    /* two bodies, two boundaries */
    struct tide_buf again = {0};
    char ctype2[128];
    tide_multipart_build(parts, 1, &again, ctype2, sizeof ctype2);
    CHECK(strcmp(ctype, ctype2) != 0);
    tide_buf_free(&again);
    tide_buf_free(&body);
    return CHECK_DONE();
}
