/* embedded.c: lookup in the tables that cmake/embed.cmake generates. */
#include <string.h>
#include "embedded.h"

const struct tide_embedded *tide_embedded_find(const struct tide_embedded *table, const char *name)
{
    for (; table->name != NULL; table++) {
        if (strcmp(table->name, name) == 0)
            return table;
    }
    return NULL;
}
