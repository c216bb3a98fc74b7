/* urlname.h: the `name` tag of a request made without one: its URL path with identifiers
 * folded, so "/api/projects/42" and "/api/projects/43" are one series, "/api/projects/{id}". */
#ifndef TIDE_URLNAME_H
#define TIDE_URLNAME_H
#include <stddef.h>

/* Folds segments that are numbers, UUIDs, long hex strings or long tokens mixing letters and
 * digits into "{id}". Keeps the path only (no scheme, host, query or fragment). */
void tide_url_group(const char *url, char *out, size_t len);

#endif
