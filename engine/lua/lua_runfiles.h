/* lua_runfiles.h: what hooks may read of the current run: the files of the run folder, read
 * only and nothing outside it (tide.run_files, tide.report.read), and which hook is running
 * (so a hook stopped at its time limit can be named). The folder is set by the coordinator
 * on the lifecycle state once it exists; VUs never have one, so they cannot read it. */
#ifndef TIDE_LUA_RUNFILES_H
#define TIDE_LUA_RUNFILES_H
#include <stdbool.h>
#include <stddef.h>
#include <lua.h>

/* The largest file tide.run_files.read returns (a run folder's biggest file is its report). */
#define TIDE_RUNFILE_MAX ((size_t)256 << 20)

/* Sets the run folder of state L (its real path is kept). */
void tide_runfiles_set_dir(lua_State *L, const char *dir);
/* Adds run_files, run_read and hook_current to the tide.core table on top of L. */
void tide_runfiles_register(lua_State *L);
/* The hook running (or last stopped) on L: its name and whether it is required; false when
 * none is recorded. */
bool tide_runfiles_current_hook(lua_State *L, char *name, size_t len, bool *required);

#endif
