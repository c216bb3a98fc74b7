/* suggest.h: "did you mean ...?" for a mistyped name (an option key, a flag, a command): the
 * closest of a list of valid names by Damerau-Levenshtein distance (a swap of two neighbours
 * counts once: "hedaers" is one edit from "headers"). Only called after a lookup missed, so
 * its cost is never on a hot path. */
#ifndef TIDE_SUGGEST_H
#define TIDE_SUGGEST_H
#include <stddef.h>

/* Edit distance between a and b (insertions, deletions, substitutions, adjacent swaps); names
 * longer than 63 bytes compare as far apart (SIZE_MAX). */
size_t tide_suggest_distance(const char *a, const char *b);
/* The name in 'names' (NULL-terminated) closest to 'typed' when close enough to be a typo
 * (at most 1 edit for short names, 2 up to 8 bytes, 3 beyond), else NULL. */
const char *tide_suggest(const char *typed, const char *const *names);

#endif
