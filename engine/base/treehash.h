/* treehash.h: one sha256 for a whole folder, so a folder plugin's manifest entry covers every
 * file it ships (helpers, data, scenarios), not only its plugin.lua. The tree hash is the
 * sha256 of the lines "<sha256 of the file>  <relative path>\n", one per regular file below the
 * folder (symbolic links and other non-regular entries are not followed and not counted),
 * sorted by relative path byte by byte: what `sha256sum` prints for the sorted list, so
 *   cd DIR && find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum
 * gives the same digest (docs/extending.md#plugins). */
#ifndef TIDE_TREEHASH_H
#define TIDE_TREEHASH_H
#include "err.h"

#define TIDE_TREEHASH_MAX_FILES 10000 /* a folder with more is refused (bounded memory) */
#define TIDE_TREEHASH_MAX_DEPTH 32

/* 0 with 64 lowercase hex digits in 'hex', or -1 with a message. */
int tide_tree_sha256(const char *dir, char hex[65], struct tide_err *err);

#endif
