/* embedded.h: files compiled into the binary at build time (Lua modules, report assets). */
#ifndef TIDE_EMBEDDED_H
#define TIDE_EMBEDDED_H
#include <stddef.h>

struct tide_embedded {
    const char *name; /* file name, e.g. "http.lua"; NULL ends a table */
    const char *data; /* NUL-terminated */
    size_t len;
};

extern const struct tide_embedded tide_lua_modules[];
extern const struct tide_embedded tide_scenarios[]; /* scenarios/demo.lua */

/* The entry named 'name' in 'table', or NULL. */
const struct tide_embedded *tide_embedded_find(const struct tide_embedded *table, const char *name);

#endif
