-- Script errors: an error in one iteration is counted and the VU goes on; tide.fail ends the
-- iteration as failed. test_lua_api.py checks the counts in summary.json.
local tide = require "tide"
-- 4 of the 6 iterations raise on purpose: the scenario's own limit on script errors replaces
-- the default check (10% of iterations raising fails a run, docs/cli.md).
options = { iterations = 6, vus = 1, thresholds = { tide_script_errors = { "count<=4" } } }

function run()
  local i = tide.vu.iteration
  if i % 3 == 0 then error("boom") end
  if i % 3 == 1 then tide.fail("business rule broken") end
  tide.check(true, { ["reached"] = true })
end
