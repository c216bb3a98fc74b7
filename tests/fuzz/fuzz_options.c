/* fuzz_options: the reader of a script's `options` table (engine/run/options.c: scenarios,
 * executors, stages, durations, thresholds, tags...), driven as 'tide run' drives it, without
 * running a test: the input is the table's text in "options = INPUT; function run() end",
 * loaded in the probe state. Inputs with loops or functions are skipped (their top level could
 * run forever, which is the VU watchdog's business, not the reader's). A message is an expected
 * outcome; a crash is not. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "config.h"
#include "fuzz_util.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has_code(const char *s)
{
    static const char *const words[] = {"while", "repeat", "for",     "goto",   "function",
                                        "rep",   "load",   "require", "dofile", "::"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strstr(s, words[i]) != NULL)
            return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *table = fuzz_string(data, size);
    if (strlen(table) < size || has_code(table)) {
        free(table);
        return 0;
    }
    size_t n = size + 64;
    char *script = malloc(n);
    int len = snprintf(script, n, "options = %s\nfunction run() end\n", table);
    char path[128];
    snprintf(path, sizeof path, "%s", fuzz_file("s.lua", (const uint8_t *)script, (size_t)len));
    char *argv[] = {path, NULL};
    struct tide_cli cli;
    struct tide_err err;
    if (tide_cli_parse_run(1, argv, &cli, &err) != 0)
        abort(); /* a bare script path always parses */
    struct tide_config cfg;
    memset(&cfg, 0, sizeof cfg);
    (void)tide_options_build(&cli, &cfg, &err);
    tide_config_free(&cfg); /* filled in part on failure too: the caller frees it (run.c) */
    free(script);
    free(table);
    return 0;
}
