/* sandbox.h: the Lua world a scenario sees: an allow-list of the standard library (no
 * os.execute, io.popen, package.loadlib, load of bytecode), and a `require` that finds tide's
 * embedded modules, then modules in the scenario's folder and its plugins/ folder. */
#ifndef TIDE_SANDBOX_H
#define TIDE_SANDBOX_H
#include <lua.h>
#include "config.h"
#include "err.h"

/* A new lua_State with the base environment in the registry ("tide.base"), the config as
 * "tide.config", and tide's modules preloaded. NULL with a message on failure. */
lua_State *tide_sandbox_new(const struct tide_config *cfg, struct tide_err *err);
/* Loads the scenario source as a chunk (syntax errors: "file:line: message"). */
int tide_sandbox_load_script(lua_State *L, const struct tide_config *cfg, struct tide_err *err);

/* Both: the state core/worker.h's tide_state_fn describes (closed again on failure). */
lua_State *tide_sandbox_open(const struct tide_config *cfg, struct tide_err *err);
#endif
