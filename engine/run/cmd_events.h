/* cmd_events.h: business hooks for the commands that are not a run: `tide export` fires
 * export_done, `tide purge` purge_done, `tide merge` merge_done (docs/extending.md). Those
 * commands load no scenario, so this module gives them the flags that bring hooks in
 * (--plugin NAME|PATH, repeatable; --script FILE, a Lua file whose top level registers hooks;
 * --hook-timeout D) and runs the events through the run's lifecycle runner (lifecycle.h): the
 * same time limit, privacy filter, and failure rules. A required hook that fails turns a
 * command that succeeded into exit 99 with one line naming it; a non-required one is a warning.
 * Hooks are loaded before the command does anything, so a typo'd event name stops it (exit 2)
 * before anything is exported, erased or merged. */
#ifndef TIDE_CMD_EVENTS_H
#define TIDE_CMD_EVENTS_H
#include <stdbool.h>
#include <cJSON.h>
#include "audit.h"
#include "cli.h"
#include "config.h"
#include "lifecycle.h"

struct tide_cmd_events {
    const char *cmd; /* "export", "purge", "merge": in messages */
    const char *script;
    const char *plugins[TIDE_CLI_MAX];
    int nplugins;
    int64_t hook_timeout_us; /* -1: the default (options.hook_timeout, else 10 s) */
    struct tide_config cfg;
    struct tide_shared shared;
    struct tide_lifecycle own;
    struct tide_lifecycle *lc; /* &own, or a runner the command opened (merge --verify) */
};

/* Takes --plugin, --script and --hook-timeout (with their values) out of argv[1..], closing
 * the gap (argv[0], the command's name, stays). 'keep_script' leaves --script in argv for a
 * command that reads it itself (merge). 0, or 2 with one line on stderr. */
int tide_cmd_events_take(struct tide_cmd_events *ce, const char *cmd, int *argc, char **argv,
                         bool keep_script);

/* Whether --script or --plugin asked for hooks. */
bool tide_cmd_events_wanted(const struct tide_cmd_events *ce);

/* Runs the --script's top level and sets up the --plugin packages in the lifecycle runner
 * (nothing when none was given). 0, or 2 with one line (an unknown event, a plugin not found,
 * a script that fails). */
int tide_cmd_events_open(struct tide_cmd_events *ce);

/* Uses 'lc' (already open, with the hooks of the command's own script) instead of opening one;
 * the --plugin files must have been set up there. */
void tide_cmd_events_adopt(struct tide_cmd_events *ce, struct tide_lifecycle *lc);

/* The folder hooks may read with tide.run_files (the exported run, the merged folder). */
void tide_cmd_events_set_dir(struct tide_cmd_events *ce, const char *dir);

/* Fires 'event' with 'payload' (redacted on the way in; not taken), logged as a "hook" event in
 * 'audit' when not NULL. Returns the command's exit code: 'rc', or 99 when 'rc' was 0 and a
 * required hook failed (then the last line on stderr says which and why). */
int tide_cmd_events_fire(struct tide_cmd_events *ce, struct tide_audit *audit, const char *event,
                         const cJSON *payload, int rc);

void tide_cmd_events_close(struct tide_cmd_events *ce); /* safe on one never opened */

#endif
