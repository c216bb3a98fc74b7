-- Lua API tests: setup data reaches every VU, globals are per VU, lifecycle functions share
-- one environment (apart from the VUs'), groups tag checks, custom metrics, tide.vu facts.
-- Run by tests/e2e/test_lua_api.py; all checks must pass.
local http = require "tide.http"
local tide = require "tide"
local metrics = require "tide.metrics"

options = {
  scenarios = {
    per_vu = { executor = "per-vu-iterations", vus = 4, iterations = 3 },
  },
}

local my_counter = metrics.counter("my_counter")
local my_trend = metrics.trend("my_trend", true)
counter_global = 0          -- a global: each VU must have its own

function setup()
  lifecycle_global = "set in setup" -- seen by teardown and verify, not by the VUs
  return { token = "abc", list = { 1, 2, 3 }, nested = { k = "v" } }
end

function vu_setup(data)
  vu_marker = tide.vu.id    -- per VU global set once
end

function run(data)
  tide.check(data, {
    ["setup data reaches the VU"] = function(d) return #d.list == 3 end,
    -- the first iteration of every VU sees the original: another VU's change did not leak
    ["each VU has its own copy"] = function(d) return tide.vu.iteration > 0 or d.token == "abc" end,
    ["nested setup data"] = function(d) return d.nested.k == "v" end,
  })
  data.token = "changed"    -- must not leak to other VUs (each VU has its own copy)
  counter_global = counter_global + 1
  tide.check(counter_global, { ["globals are per VU"] = function(c) return c == tide.vu.iteration + 1 end })
  tide.check(lifecycle_global, { ["VUs do not see lifecycle globals"] = function(g) return g == nil end })
  tide.check(vu_marker, { ["vu_setup ran in this VU"] = function(m) return m == tide.vu.id end })
  tide.check(tide.vu, { ["vu.scenario"] = function(v) return v.scenario == "per_vu" end })
  tide.group("outer", function()
    tide.group("inner", function()
      tide.check(tide.vu.group, { ["nested group name"] = function(g) return g == "::outer::inner" end })
      http.get("/health")
    end)
  end)
  tide.check(tide.vu.group, { ["group restored"] = function(g) return g == "" end })
  my_counter:add(2, { kind = "a" })
  my_trend:add(12.5)
  tide.sleep(0.01)
end

function verify(data, summary)
  tide.check(summary, {
    ["verify gets the load's summary"] = function(s) return s.metrics.iterations.count == 12 end,
    ["verify gets endpoints"] = function(s) return s.endpoints[1].name == "/health" end,
  })
  tide.check(lifecycle_global, { ["lifecycle functions share one environment"] =
    function(g) return g == "set in setup" end })
  tide.check(tide.vu.group, { ["verify checks are grouped"] = function(g) return g == "::verify" end })
  tide.check(tide.env("TIDE_LIFECYCLE_SETTING", "42", { secret = false }),
    { ["env with secret = false"] = function(v) return v == "42" end })
end

function teardown(data)
  tide.check(data.token, { ["teardown gets the setup data"] = function(t) return t == "abc" end })
end
