--- tide.plugins: plugins as packages. A plugin file returns
--   { name = "x", version = "1.0", options = <schema>, setup = function(opts, api) ... end }
-- and tide calls setup once per environment (the lifecycle one and each VU's), after the
-- scenario's top level, with its options validated against the schema (docs/extending.md).
local error, pairs, ipairs, type, tostring, rawget, rawset = error, pairs, ipairs, type,
  tostring, rawget, rawset

local M = {}
local tide
local loaded = {}   -- name -> { name, version, path }
local order = {}    -- names, in load order
local exports = {}  -- name -> what setup returned
local sections = {} -- { plugin, title, fn }
M._loaded, M._order, M._sections = loaded, order, sections

function M._bind(t) tide = t end

--- What plugin `name`'s setup returned (for the scenario's run(); nil when not loaded).
function M.get(name) return exports[name] end

local TYPES = { string = true, number = true, boolean = true, table = true, list = true,
  ["function"] = true }

-- Checks `opts` against `schema` ({ field = { type, required, default, enum } }); returns a
-- copy with defaults filled in, or raises one line naming the plugin and the field.
local function validate(pname, schema, opts)
  if type(opts) ~= "table" then
    error("plugin " .. pname .. ": options must be a table", 0)
  end
  local out = {}
  schema = schema or {}
  for k in pairs(opts) do
    if schema[k] == nil then
      local names = {}
      for n in pairs(schema) do names[#names + 1] = n end
      table.sort(names)
      error("plugin " .. pname .. ": unknown option \"" .. tostring(k) .. "\" (known: " ..
        (#names > 0 and table.concat(names, ", ") or "none") .. ")", 0)
    end
  end
  for k, spec in pairs(schema) do
    if type(spec) ~= "table" or not TYPES[spec.type] then
      error("plugin " .. pname .. ": schema of option \"" .. tostring(k) ..
        "\" needs type = string|number|boolean|table|list|function", 0)
    end
    local v = opts[k]
    if v == nil then
      if spec.required then
        error("plugin " .. pname .. ": option \"" .. k .. "\" is required", 0)
      end
      v = spec.default
    elseif spec.type == "list" then
      if type(v) ~= "table" or (next(v) ~= nil and v[1] == nil) then
        error("plugin " .. pname .. ": option \"" .. k .. "\": expected a list", 0)
      end
    elseif type(v) ~= spec.type then
      error("plugin " .. pname .. ": option \"" .. k .. "\": expected a " .. spec.type ..
        ", got " .. type(v), 0)
    end
    if v ~= nil and spec.enum then
      local vals = spec.type == "list" and v or { v }
      for _, one in ipairs(vals) do
        local ok = false
        for _, e in ipairs(spec.enum) do ok = ok or e == one end
        if not ok then
          error("plugin " .. pname .. ": option \"" .. k .. "\": " .. tostring(one) ..
            " is not one of " .. table.concat(spec.enum, ", "), 0)
        end
      end
    end
    out[k] = v
  end
  return out
end
M._validate = validate

-- Called by tide (C) with the table a plugin file returned, its path and the environment.
function M._setup(p, path, env)
  if type(p) ~= "table" or type(p.name) ~= "string" or not p.name:match("^[%w_%-%.]+$") then
    error("plugin " .. path .. ": expected { name = \"...\", version = \"...\", setup = fn }", 0)
  end
  local pname = p.name
  if type(p.version) ~= "string" then
    error("plugin " .. pname .. ": version must be a string", 0)
  end
  if type(p.setup) ~= "function" then
    error("plugin " .. pname .. ": setup must be a function (opts, api)", 0)
  end
  local options = rawget(env, "options")
  local given = type(options) == "table" and type(options.plugins) == "table" and
    options.plugins[pname] or {}
  local opts = validate(pname, p.options, given)
  local api = {
    name = pname,
    hooks = {
      on = function(event, fn, o)
        o = o or {}
        if type(o) == "table" and o.name == nil then
          o = { required = o.required, name = pname .. ":" .. tostring(event) }
        end
        tide.hooks._register(2, event, fn, o)
      end,
    },
    --- Adds a threshold, honoured like one in options.thresholds.
    threshold = function(metric, expression, extra)
      if type(metric) ~= "string" or type(expression) ~= "string" then
        error("plugin " .. pname .. ": api.threshold(metric, expression)", 2)
      end
      local o = rawget(env, "options")
      if type(o) ~= "table" then o = {}; rawset(env, "options", o) end
      if type(o.thresholds) ~= "table" then o.thresholds = {} end
      local list = o.thresholds[metric]
      if type(list) == "string" then list = { list } end
      list = list or {}
      local t = { threshold = expression }
      if type(extra) == "table" then
        for k, v in pairs(extra) do t[k] = v end
      end
      t.plugin = pname -- summary.json: "source": "plugin", "plugin": pname
      list[#list + 1] = t
      o.thresholds[metric] = list
    end,
    --- Adds a step to verify(): fn(data, summary) runs after the scenario's verify().
    verify = function(fn)
      if type(fn) ~= "function" then error("plugin " .. pname .. ": api.verify(fn)", 2) end
      local steps = rawget(env, "__tide_verify_steps")
      if not steps then
        steps = {}
        rawset(env, "__tide_verify_steps", steps)
        local own = rawget(env, "verify")
        rawset(env, "verify", function(data, summary)
          local res
          if type(own) == "function" then res = own(data, summary) end
          for _, s in ipairs(steps) do tide.group(s.plugin, s.fn, data, summary) end
          return res
        end)
      end
      steps[#steps + 1] = { plugin = pname, fn = fn }
    end,
    --- Adds a section to summary.json ("plugins") and the report: fn(summary) returns a
    -- table of { label = value } rows (or a list of { label, value }).
    summary = function(title, fn)
      if type(title) ~= "string" or type(fn) ~= "function" then
        error("plugin " .. pname .. ": api.summary(title, fn)", 2)
      end
      for _, s in ipairs(sections) do
        if s.plugin == pname and s.title == title then s.fn = fn; return end
      end
      sections[#sections + 1] = { plugin = pname, title = title, fn = fn }
    end,
    metrics = tide.metrics, check = tide.check, group = tide.group, env = tide.env,
    log = tide.log, json = tide.json, run_files = tide.run_files,
  }
  local ret = p.setup(opts, api)
  exports[pname] = ret
  if not loaded[pname] then order[#order + 1] = pname end
  loaded[pname] = { name = pname, version = p.version, path = path }
  if not rawget(env, "__tide_plugin_sections") then
    rawset(env, "__tide_plugin_sections", function(summary)
      local out = {}
      for _, s in ipairs(sections) do
        local ok, rows = pcall(s.fn, summary)
        out[#out + 1] = { plugin = s.plugin, title = s.title,
          rows = ok and rows or nil, error = (not ok) and tostring(rows) or nil }
      end
      return #out > 0 and out or nil
    end)
  end
end

--- The loaded plugins, in load order: { { name, version, path }, ... }.
function M._list()
  local out = {}
  for i, n in ipairs(order) do out[i] = loaded[n] end
  return out
end

return M
