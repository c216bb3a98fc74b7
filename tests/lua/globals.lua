-- Lua API tests: globals are per VU, also through _G and through load() without an env.
local tide = require "tide"
options = { scenarios = { a = { executor = "per-vu-iterations", vus = 2, iterations = 1 } } }
function run()
  if tide.vu.id == 1 then _G.shared = 1; load("loaded = 1")() end
  tide.sleep(0.05)
  if tide.vu.id == 2 then
    tide.check(0, { ["_G is per VU"] = function() return _G.shared == nil and shared == nil end,
                    ["load() globals are per VU"] = function() return loaded == nil end })
  else
    tide.check(0, { ["own _G write visible"] = function() return shared == 1 and loaded == 1 end })
  end
end
