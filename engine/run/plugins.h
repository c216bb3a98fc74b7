/* plugins.h: plugins as packages (docs/extending.md). A plugin is a Lua file, or a folder
 * with plugin.lua, that returns { name, version, options = <schema>, setup = fn(opts, api) }
 * (a file that returns nothing is an older plain plugin: its top level just runs). It is
 * named on the command line (--plugin NAME|PATH) or in options.plugins = { name = opts },
 * found by name in the scenario's plugins/, the current directory's plugins/, each folder of
 * TIDE_PLUGIN_PATH and the installed folder, set up in the options probe (so the thresholds
 * it adds are read with the scenario's), then in every VU's environment. The manifest and
 * summary.json list each with its version and sha256; `tide plugins` lists what is found. */
#ifndef TIDE_PLUGINS_H
#define TIDE_PLUGINS_H
#include <stddef.h>
#include <cJSON.h>
#include <lua.h>
#include "cli.h"
#include "config.h"
#include "err.h"

/* The installed plugins folder, searched last. */
#define TIDE_PLUGIN_INSTALL_DIR "/usr/share/tide/plugins"

/* Finds plugin 'spec' (a path to a .lua file or a folder, or a NAME to search) into 'out'. */
int tide_plugins_resolve(const char *spec, const char *script_dir, char *out, size_t len,
                         struct tide_err *err);

/* In the probe, with the scenario's environment at 'env' (its top level ran): resolves the
 * --plugin specs and the names of options.plugins into cfg->plugins, runs each there, and
 * records the loaded packages (name, version, sha256) in cfg. */
int tide_plugins_load(lua_State *L, int env, const struct tide_cli *cli, struct tide_config *cfg,
                      struct tide_err *err);

/* [{ name, version, path, sha256 }] of the loaded plugins (an empty array when none). */
cJSON *tide_plugins_json(const struct tide_config *cfg);

/* tide plugins [SCENARIO]: lists the plugins found and whether each loads. */
int tide_plugins_main(int argc, char **argv);

#endif
