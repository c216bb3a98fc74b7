/* options.h: builds a run's struct tide_config from the script's `options` table and the CLI
 * (CLI flags win). Loads the script once in a probe Lua state: a script that does not compile
 * or whose top level fails is reported here, before anything is sent. */
#ifndef TIDE_OPTIONS_H
#define TIDE_OPTIONS_H
#include <lua.h>
#include "cli.h"
#include "config.h"
#include "err.h"

int tide_options_build(const struct tide_cli *cli, struct tide_config *cfg, struct tide_err *err);
/* The same, and on success *keep holds the probe state, the environment where the top level
 * ran on top of its stack (see tide_worker_call_open): the run's lifecycle calls use it, so the
 * top level does not run again for them. Its "tide.config" is 'cfg': keep cfg where it is. */
int tide_options_build_keep(const struct tide_cli *cli, struct tide_config *cfg, lua_State **keep,
                            struct tide_err *err);

#endif
