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

--- Marks a value known only at run time (a token from a login) as a secret: from now on it
-- is redacted from every log, file and report, in every VU. Returns the value.
M.secret = core.secret

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

--- Business hooks: tide.hooks.on(event, fn [, { required = true, name = "..." }]).
-- Every event runs on the coordinator, in the lifecycle environment (docs/extending.md).
-- An unknown event name raises at load time, naming the closest valid one.
local EVENTS = { "test_start", "scenario_start", "scenario_end", "stage_change",
  "threshold_crossed", "threshold_recovered", "check_failed", "error_burst",
  "generator_saturated", "verify_done", "test_end", "report_written",
  -- the other commands' (tide export / purge / merge with --script or --plugin)
  "export_done", "purge_done", "merge_done" }
local known = {}
for i = 1, #EVENTS do known[EVENTS[i]] = true end

-- Edit distance (insertions, deletions, substitutions, adjacent swaps).
local function distance(a, b)
  local d = {}
  for i = 0, #a do d[i] = { [0] = i } end
  for j = 0, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:sub(i, i) == b:sub(j - 1, j - 1) and
        a:sub(i - 1, i - 1) == b:sub(j, j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[#a][#b]
end

local function closest(name)
  local best, bestd = nil, math.huge
  for i = 1, #EVENTS do
    local dd = distance(name, EVENTS[i])
    if dd < bestd then best, bestd = EVENTS[i], dd end
  end
  return best
end

local handlers = {}
local function register(level, event, fn, opts)
  level = level + 1
  if type(event) ~= "string" or type(fn) ~= "function" then
    error("tide.hooks.on: expected (event, function [, options])", level)
  end
  if not known[event] then
    error("tide.hooks.on: unknown event \"" .. event .. "\" (did you mean " .. closest(event) ..
      "?)", level)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("tide.hooks.on: options must be a table ({ required = true, name = ... })", level)
  end
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= "required" and k ~= "name" then
      error("tide.hooks.on: unknown option \"" .. tostring(k) .. "\" (required, name)", level)
    end
  end
  if core.in_vu_env() then return end -- VUs never run hooks: checked, not kept
  local list = rawget(handlers, event)
  if not list then list = {}; handlers[event] = list end
  list[#list + 1] = { fn = fn, required = opts.required and true or false,
    name = opts.name and tostring(opts.name) or (event .. "#" .. (#list + 1)) }
end

M.hooks = {
  on = function(event, fn, opts) register(2, event, fn, opts) end,
  events = EVENTS,
  _handlers = handlers,
  _register = register,
}

--- The files of the current run folder, read-only (hooks only: test_end, report_written...).
M.run_files = {
  list = function() return core.run_files() end,
  read = function(name) return core.run_read(name) end,
}
M.report = { read = M.run_files.read, files = M.run_files.list }

--- One message to a collector: tide.net.send("tcp://host:port" | "udp://host:port", data).
-- Hooks only (e.g. syslog to a SIEM); raises when it cannot be delivered.
M.net = { send = function(url, data) return core.net_send(url, data) end }

M.plugins = require "tide.plugins"
M.plugins._bind(M)

return M
