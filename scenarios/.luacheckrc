-- luacheck settings for the scenarios: Lua 5.4, 100 columns, and the globals tide reads from a
-- scenario (its options and lifecycle functions, and the exec functions its options name).
std = "lua54"
max_line_length = 100
globals = {
  "options", "setup", "vu_setup", "run", "vu_teardown", "teardown", "verify", "handle_summary",
  "edit", "browse", -- demo.lua's exec functions
}
