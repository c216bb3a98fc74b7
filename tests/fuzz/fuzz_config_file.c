/* fuzz_config_file: tide.toml (the TOML subset) and locust.conf (engine/base/config_file.c).
 * The first byte picks the syntax; the rest is the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    enum tide_conf_syntax syn = (data[0] & 1) ? TIDE_CONF_LOCUST : TIDE_CONF_TOML;
    struct tide_conf c;
    struct tide_err err = {{0}};
    int rc = tide_conf_parse((const char *)data + 1, size - 1, syn, &c, &err);
    if (rc != 0 && (err.msg[0] == '\0' || c.n != 0 || strncmp(err.msg, "line ", 5) != 0))
        abort(); /* a refusal names its line and leaves nothing */
    for (int i = 0; rc == 0 && i < c.n; i++) {
        const struct tide_conf_entry *e = &c.entries[i];
        if (e->key == NULL || e->key[0] == '\0' || e->section == NULL || e->line < 1 ||
            (e->kind != TIDE_CONF_ARRAY && e->nvalues != 1))
            abort(); /* every entry has a key, a line, and a scalar has one value */
        for (int v = 0; v < e->nvalues; v++) {
            if (e->values[v] == NULL)
                abort();
        }
    }
    tide_conf_free(&c);
    return 0;
}
