/* options.h: builds a run's struct tide_config from the script's `options` table and the CLI
 * (CLI flags win). Loads the script once in a probe Lua state: a script that does not compile
 * or whose top level fails is reported here, before anything is sent. */
#ifndef TIDE_OPTIONS_H
#define TIDE_OPTIONS_H
#include "cli.h"
#include "config.h"
#include "err.h"

int tide_options_build(const struct tide_cli *cli, struct tide_config *cfg, struct tide_err *err);

#endif
