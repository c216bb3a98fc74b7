/* plan.h: what a run will do, said before it does it (`tide run` on stderr before setup() and
 * the first request; `tide inspect` alone): per scenario the executor, VUs, rates, durations,
 * stages, with where each setting came from (cli, env, config, script, default); thresholds
 * and the default checks; the outputs; and warnings about what will not work as written:
 *  - override:   a flag (from any layer) replacing the script's own option or scenarios;
 *  - threshold:  a threshold that can never match a series (no such metric, a scenario
 *                tag naming no scenario, dropped_iterations without an arrival-rate scenario);
 *  - vus:        an arrival rate the VU pool cannot sustain: max VUs < peak arrivals per
 *                second x the expected iteration duration (expected_iteration_duration, in
 *                the scenario or at the top of options; default 1 s) -- k6's "Insufficient
 *                VUs", said before the run instead of during it;
 *  - output:     an output path that cannot be written (tide run then exits 2);
 *  - config:     a locust.conf key tide ignores.
 * The JSON form (docs/cli.md#tide-inspect) is what `tide inspect --json` prints. */
#ifndef TIDE_PLAN_H
#define TIDE_PLAN_H
#include <stdio.h>
#include <cJSON.h>
#include <lua.h>
#include "cli.h"
#include "config.h"
#include "verdict.h"

#define TIDE_PLAN_VERSION               1
#define TIDE_PLAN_ITERATION_ESTIMATE_US 1000000 /* when the script declares none */

/* The plan of a built config. 'probe' is options.c's kept state (the script's environment on
 * top), read for what the script itself set; NULL: every value counts as the script's.
 * Returns a new JSON object (redacted), NULL without memory. */
cJSON *tide_plan_build(const struct tide_cli *cli, const struct tide_config *cfg, lua_State *probe,
                       enum tide_verdict_rule rule);
/* The plan as text: a block of lines, warnings last. */
void tide_plan_print(FILE *out, const cJSON *plan);
/* The warnings, one "tide: warning: ..." line each on stderr; returns how many. With
 * 'kind' non-NULL only those of that kind. */
int tide_plan_warn(const cJSON *plan, const char *kind);
int tide_plan_warning_count(const cJSON *plan, const char *kind);

/* `tide inspect SCRIPT [run options] [--json] [--strict]` (argv after "inspect"): loads the
 * script as tide run does (no setup(), no request), prints the plan on stdout. Exit 0; 99 with
 * --strict when there is a warning; 2 when the script or options do not load. */
int tide_inspect_main(int argc, char **argv);

#endif
