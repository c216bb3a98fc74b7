/* runconf.h: the settings of `tide run` (and `tide inspect`) from their four layers, highest
 * first: the command line, the environment (TIDE_<FLAG>, and LOCUST_<KEY> for Locust's keys),
 * a config file (--config FILE, TIDE_CONFIG, or ./tide.toml: a TOML subset; a locust.conf), and
 * the script's options (options.c). Every layer speaks the flags of cli.c: a config key or a
 * variable is the long flag's name, so none can be missing (docs/cli.md#configuration). Also
 * Locust's -T/--tags and --stop-timeout, applied to the built config. */
#ifndef TIDE_RUNCONF_H
#define TIDE_RUNCONF_H
#include <stddef.h>
#include "cli.h"
#include "config.h"
#include "err.h"

/* Parses the layers into cli (tide_cli_free after). Returns 0, or -1 with one line naming the
 * file and line or the variable at fault. */
int tide_runconf_parse(int argc, char **argv, struct tide_cli *cli, struct tide_err *err);

/* The variable of a long flag: "--spawn-rate" -> "TIDE_SPAWN_RATE". */
void tide_runconf_env_name(const char *flag, char *out, size_t len);

/* -T/--tags: keeps the scenarios with a tag (a key or a value of options.scenarios.X.tags)
 * among the names given; none left is an error. --stop-timeout: every scenario's graceful
 * stop and ramp-down. Called by options.c once the scenarios are built. */
int tide_runconf_apply(const struct tide_cli *cli, struct tide_config *cfg, struct tide_err *err);

#endif
