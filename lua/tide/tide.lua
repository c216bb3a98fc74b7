--- tide: checks, groups, pacing, failing and aborting, environment, VU facts, logs, hooks.
-- The scenario API's main module; `require "tide"`. Built on tide.core (C).
local core = require "tide.core"
local metrics = require "tide.metrics"
local json = require "tide.json"
local data = require "tide.data"

local error, pcall, select, setmetatable, tostring, type = error, pcall, select, setmetatable,
  tostring, type
local pairs, rawget, random = pairs, rawget, math.random
local concat, pack, unpack = table.concat, table.pack, table.unpack

local M = { metrics = metrics, json = json, data = data }

--- Runs each predicate on `value` and records one `checks` sample per name.
-- `set` maps a name to a function (called with value) or to a boolean.
-- Returns true when all passed. Never raises for a failing predicate.
function M.check(value, set, tags)
  if type(set) ~= "table" then
    error("tide.check: expected a table of { name = predicate }", 2)
  end
  local all = true
  for name, pred in pairs(set) do
    local passed
    if type(pred) == "function" then
      local ok, res = pcall(pred, value)
      passed = ok and res and true or false
    else
      passed = pred and true or false
    end
    core.check(tostring(name), passed, tags)
    all = all and passed
  end
  return all
end

--- Runs fn() with its samples tagged group="::name" (nested groups chain).
function M.group(name, fn, ...)
  if type(name) ~= "string" or type(fn) ~= "function" then
    error("tide.group: expected (name, function)", 2)
  end
  local saved = core.group_push(name)
  local res = pack(pcall(fn, ...))
  core.group_pop(saved)
  if not res[1] then error(res[2], 0) end
  return unpack(res, 2, res.n)
end

M.sleep = core.sleep

--- Sleeps a random time between min and max seconds (user think time).
function M.think(min, max)
  max = max or min
  if type(min) ~= "number" or type(max) ~= "number" or max < min or min < 0 then
    error("tide.think: expected 0 <= min <= max seconds", 2)
  end
  core.sleep(min + (max - min) * random())
end

local function raise(kind, msg, level)
  error(setmetatable({ tide_error = kind, message = tostring(msg or kind) },
    { __tostring = function(e) return e.message end }), level)
end

--- Ends this iteration as failed; the VU goes on with its next iteration.
function M.fail(msg) raise("fail", msg, 2) end

--- Ends the whole test (exit code 108); the report is still written.
function M.abort(msg) raise("abort", msg or "tide.abort() called", 2) end

--- Value of an environment variable (--env K=V first, then the process environment).
-- Values read here are secrets: tide redacts them from every log and report.
M.env = core.env

--- Facts about the running VU: id (1-based; 0 in setup/teardown), iteration (0-based), scenario.
M.vu = setmetatable({}, {
  __index = function(_, k)
    if k == "id" then return core.vu_id() end
    if k == "id_in_test" then return core.vu_id_in_test() end
    if k == "iteration" then return core.vu_iteration() end
    if k == "scenario" then return core.vu_scenario() end
    if k == "group" then return core.group() end
    return nil
  end,
  __newindex = function() error("tide.vu is read-only", 2) end,
})

--- This process's segment of a split test (--segment I/N): index (1-based) and count; 1 and 1
-- when the test is not split.
M.segment = setmetatable({}, {
  __index = function(_, k)
    local i, n = core.segment()
    if k == "index" then return i end
    if k == "count" then return n end
    return nil
  end,
  __newindex = function() error("tide.segment is read-only", 2) end,
})

local function logger(level)
  return function(...)
    local n = select("#", ...)
    local parts = {}
    for i = 1, n do parts[i] = tostring((select(i, ...))) end
    core.log(level, concat(parts, " "))
  end
end

M.log = { debug = logger("debug"), info = logger("info"), warn = logger("warn"),
  error = logger("error") }

--- Business hooks: tide.hooks.on(event, fn). Run-level events (test_start, test_end,
-- report_written, threshold_crossed) run on the coordinator.
local handlers = {}
M.hooks = {
  on = function(event, fn)
    if type(event) ~= "string" or type(fn) ~= "function" then
      error("tide.hooks.on: expected (event, function)", 2)
    end
    local list = rawget(handlers, event)
    if not list then list = {}; handlers[event] = list end
    list[#list + 1] = fn
  end,
  _handlers = handlers,
}

return M
