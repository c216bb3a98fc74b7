/* utf8.h: UTF-8 validation (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF), for
 * the writers that must not pass invalid bytes on (JSON, XML, HTML) and for length limits
 * counted in characters. */
#ifndef TIDE_UTF8_H
#define TIDE_UTF8_H
#include <stddef.h>

/* Length (1..4) of the valid sequence at s, within its n bytes; 0 when invalid or cut. */
size_t tide_utf8_seq(const char *s, size_t n);
/* The same in a NUL-terminated string (a NUL is never a continuation byte, so nothing past
 * it is read); 1 for the NUL itself. */
size_t tide_utf8_char(const char *s);
/* Code points in s[0..n), or -1 when it is not valid UTF-8. */
long tide_utf8_count(const char *s, size_t n);

#endif
