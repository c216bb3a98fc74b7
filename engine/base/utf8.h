/* utf8.h: UTF-8 validation (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF), for
 * the writers that must not pass invalid bytes on (JSON, XML, HTML) and for length limits
 * counted in characters. */
#ifndef TIDE_UTF8_H
#define TIDE_UTF8_H
#include <stdbool.h>
#include <stddef.h>

/* Length (1..4) of the valid sequence at s, within its n bytes; 0 when invalid or cut. */
size_t tide_utf8_seq(const char *s, size_t n);
/* The same in a NUL-terminated string (a NUL is never a continuation byte, so nothing past
 * it is read); 1 for the NUL itself. */
size_t tide_utf8_char(const char *s);
/* Code points in s[0..n), or -1 when it is not valid UTF-8. */
long tide_utf8_count(const char *s, size_t n);

/* Repair, for text tide did not make (a server's bytes, a script's names and messages) before
 * it reaches a file that must be valid UTF-8. */

/* Whether the NUL-terminated s is valid UTF-8. */
bool tide_utf8_valid(const char *s);
/* A malloc'd copy of s with each byte that does not start a valid sequence replaced by U+FFFD
 * (so the result is valid UTF-8 and as readable as the input allows); NULL without memory. */
char *tide_utf8_repair(const char *s);

#endif
