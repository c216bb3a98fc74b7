/* urlname.c: URL grouping for the `name` tag. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include "urlname.h"

static bool is_uuid(const char *s, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static bool is_identifier(const char *s, size_t n)
{
    size_t digits = 0, hex = 0, alnum = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        digits += isdigit(c) != 0;
        hex += isxdigit(c) != 0;
        alnum += isalnum(c) != 0 || c == '-' || c == '_';
    }
    if (n == 0)
        return false;
    if (digits == n)
        return true; /* 42 */
    if (is_uuid(s, n))
        return true;
    if (hex == n && n >= 16)
        return true; /* object ids, hashes */
    /* long opaque tokens mixing letters and digits, e.g. "a8Fk29xQ0pLm" */
    return alnum == n && n >= 16 && digits >= 2;
}

void tide_url_group(const char *url, char *out, size_t len)
{
    const char *p = url;
    const char *scheme = strstr(url, "://");
    if (scheme != NULL) {
        p = strchr(scheme + 3, '/');
        if (p == NULL)
            p = "/";
    }
    size_t o = 0;
    out[0] = '\0';
    while (*p != '\0' && *p != '?' && *p != '#' && o + 1 < len) {
        if (*p == '/') {
            out[o++] = '/';
            p++;
            continue;
        }
        size_t n = strcspn(p, "/?#");
        const char *seg = p;
        size_t seglen = n;
        if (is_identifier(p, n)) {
            seg = "{id}";
            seglen = 4;
        }
        if (o + seglen + 1 > len)
            break;
        memcpy(out + o, seg, seglen);
        o += seglen;
        p += n;
    }
    if (o == 0 && len > 1)
        out[o++] = '/';
    out[o] = '\0';
}
