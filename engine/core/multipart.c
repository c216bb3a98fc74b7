/* multipart.c: multipart/form-data bodies (multipart.h). */
#include "multipart.h"
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static bool contains(const char *hay, size_t n, const char *needle, size_t m)
{
    if (m == 0 || n < m)
        return false;
    for (size_t i = 0; i + m <= n; i++) {
        if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0)
            return true;
    }
    return false;
}

/* "tide-" and 32 random hex digits; drawn again in the (astronomically rare) case a part
 * holds it. */
static void pick_boundary(const struct tide_multipart_part *parts, size_t n, char *b)
{
    static const char hex[] = "0123456789abcdef";
    for (;;) {
        unsigned char r[16] = {0};
        if (RAND_bytes(r, sizeof r) != 1) { /* unlikely: then the clock and a count */
            static unsigned long drawn;
            unsigned long v = (unsigned long)time(NULL) * 2654435761u + ++drawn;
            memcpy(r, &v, sizeof v < sizeof r ? sizeof v : sizeof r);
        }
        memcpy(b, "tide-", 5);
        for (size_t i = 0; i < sizeof r; i++) {
            b[5 + 2 * i] = hex[r[i] >> 4];
            b[6 + 2 * i] = hex[r[i] & 15];
        }
        b[5 + 2 * sizeof r] = '\0';
        bool clash = false;
        for (size_t i = 0; i < n && !clash; i++)
            clash = contains(parts[i].data, parts[i].len, b, strlen(b));
        if (!clash)
            return;
    }
}

static void append_str(struct tide_buf *out, const char *s)
{
    tide_buf_append(out, s, strlen(s));
}

/* A quoted-string parameter's value, escaped like browsers do. */
static void append_quoted(struct tide_buf *out, const char *s)
{
    tide_buf_append(out, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            append_str(out, "%22");
        else if (*s == '\r')
            append_str(out, "%0D");
        else if (*s == '\n')
            append_str(out, "%0A");
        else
            tide_buf_append(out, s, 1);
    }
    tide_buf_append(out, "\"", 1);
}

/* A Content-Type value must not split the part's headers: CR and LF are dropped. */
static void append_header_value(struct tide_buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s != '\r' && *s != '\n')
            tide_buf_append(out, s, 1);
    }
}

void tide_multipart_build(const struct tide_multipart_part *parts, size_t n, struct tide_buf *out,
                          char *ctype, size_t ctype_cap)
{
    char b[TIDE_MULTIPART_BOUNDARY_MAX];
    pick_boundary(parts, n, b);
    for (size_t i = 0; i < n; i++) {
        const struct tide_multipart_part *p = &parts[i];
        append_str(out, "--");
        append_str(out, b);
        append_str(out, "\r\nContent-Disposition: form-data; name=");
        append_quoted(out, p->name);
        if (p->filename != NULL) {
            append_str(out, "; filename=");
            append_quoted(out, p->filename);
            append_str(out, "\r\nContent-Type: ");
            append_header_value(out, p->content_type != NULL ? p->content_type
                                                             : "application/octet-stream");
        }
        append_str(out, "\r\n\r\n");
        tide_buf_append(out, p->data, p->len);
        append_str(out, "\r\n");
    }
    append_str(out, "--");
    append_str(out, b);
    append_str(out, "--\r\n");
    snprintf(ctype, ctype_cap, "multipart/form-data; boundary=%s", b);
}
