-- The demo that `tide demo` runs against the built-in reference API: about 30 seconds of
-- two kinds of users at once. Editors (a closed model: a few VUs ramping up, holding, and
-- ramping down) log in and create, read, update and delete projects; readers (an open model:
-- a fixed rate of arrivals, whatever the response times) list and search them. Thresholds
-- that a healthy service passes easily on a small machine; a verify() that the editors left
-- nothing behind. This file is self-contained (no data files), so `tide demo` can run the
-- copy built into the binary from any folder; lua/tide/demo_scenario.lua is that copy and
-- must stay identical to this file (a test checks it).
--
-- Run:
--   tide demo                                   # this file, the built-in API, a report
--   tide run scenarios/demo.lua --target        # the same
--   tide run scenarios/demo.lua --target --vus 5 --duration 10s   # run() only, 5 VUs
-- Against your backend (the same /api, see docs/scenarios.md):
--   TIDE_PASSWORD=secret tide run scenarios/demo.lua --host https://staging.example.com
-- Environment: TIDE_USER (default demo), TIDE_PASSWORD (demo), TIDE_TENANT (demo).
local http = require "tide.http"
local tide = require "tide"
local metrics = require "tide.metrics"

local format = string.format

local USER <const> = tide.env("TIDE_USER", "demo")
local TENANT <const> = tide.env("TIDE_TENANT", "demo")
local SEEDS <const> = {
  { name = "Demo: payments API", description = "Card payments for the web shop" },
  { name = "Demo: search indexer", description = "Feeds products into search" },
  { name = "Demo: mobile app", description = "The shop on iOS and Android" },
  { name = "Demo: load testing", description = "Performance tests of the checkout" },
}
local QUERIES <const> = { "demo", "payments", "search", "mobile", "checkout", "nothing-here" }

options = {
  scenarios = {
    editors = {
      executor = "ramping-vus",
      exec = "edit",
      start_vus = 0,
      stages = {
        { duration = "5s", target = 4 },
        { duration = "20s", target = 4 },
        { duration = "5s", target = 0 },
      },
    },
    readers = {
      executor = "constant-arrival-rate",
      exec = "browse",
      rate = 10,
      time_unit = "1s",
      duration = "30s",
      pre_allocated_vus = 5,
      max_vus = 10,
    },
  },
  thresholds = {
    http_req_duration = { "p(95)<500", "p(99)<1000" },
    ["http_req_duration{scenario:readers}"] = { "p(95)<300" },
    http_req_failed = { "rate<0.01" },
    checks = { "rate>0.99" },
  },
}

local edits = metrics.counter("demo_projects_edited")

local headers -- per VU
local open = {} -- per VU: projects created and not deleted yet

local function decode(res)
  local ok, body = pcall(res.json)
  return ok and body or nil
end

local function login()
  local res = http.post("/api/auth/login", {
    name = "/api/auth/login",
    json = { username = USER, password = tide.env("TIDE_PASSWORD", "demo") },
  })
  local body = decode(res)
  tide.check(res, { ["login answers 200 with a token"] = res.status == 200 and body ~= nil })
  if res.status ~= 200 or body == nil then return nil end
  return { Authorization = "Bearer " .. body.token, ["X-Tenant-ID"] = TENANT }
end

local function count(h)
  local res = http.get("/api/projects", {
    name = "/api/projects", headers = h, query = { per_page = 1 },
  })
  local body = res.status == 200 and decode(res) or nil
  return body and body.total or nil
end

-- Once, before the load: a few projects for the readers to find (kept if already there).
function setup()
  local h = login()
  if not h then tide.abort("setup: cannot log in as " .. USER) end
  for _, seed in ipairs(SEEDS) do
    http.post("/api/projects", {
      name = "/api/projects", headers = h, json = seed, expect = { 201, 409 },
    })
  end
  -- the readers share this session; editors log in on their own (vu_setup)
  return { run = format("%x%04x", os.time(), math.random(0, 0xffff)), before = count(h),
    headers = h }
end

function vu_setup(data)
  if tide.vu.scenario == "readers" then
    headers = data.headers
    return
  end
  headers = login()
  if not headers then tide.fail("cannot log in") end
end

-- An editor's iteration: create, read, update, delete one project.
function edit(data)
  tide.group("edit", function()
    local name = format("demo-%s-vu%d-it%d", data.run, tide.vu.id, tide.vu.iteration)
    local created = http.post("/api/projects", {
      name = "/api/projects", headers = headers, json = { name = name, description = "draft" },
    })
    local project = decode(created)
    if not tide.check(created, { ["create answers 201"] = created.status == 201 }) then return end
    open[project.id] = true
    local url = "/api/projects/" .. project.id
    tide.think(0.2, 0.6)

    local read = http.get(url, { name = "/api/projects/{id}", headers = headers })
    tide.check(read, {
      ["read returns the project created"] = function(r) return r.json().name == name end,
    })
    local updated = http.patch(url, {
      name = "/api/projects/{id}", headers = headers, json = { description = "final" },
    })
    tide.check(updated, {
      ["update saves the description"] = function(r) return r.json().description == "final" end,
    })
    tide.think(0.2, 0.6)

    local deleted = http.delete(url, { name = "/api/projects/{id}", headers = headers })
    if tide.check(deleted, { ["delete answers 204"] = deleted.status == 204 }) then
      open[project.id] = nil
      edits:add(1)
    end
  end)
end

-- A reader's iteration: a page of the list and one search.
function browse()
  tide.group("browse", function()
    local list = http.get("/api/projects", {
      name = "/api/projects", headers = headers, query = { per_page = 10 },
    })
    tide.check(list, { ["list answers 200"] = list.status == 200 })
    local q = QUERIES[(tide.vu.id + tide.vu.iteration) % #QUERIES + 1]
    local found = http.get("/api/search", {
      name = "/api/search", headers = headers, query = { q = q },
    })
    tide.check(found, {
      ["search answers 200"] = found.status == 200,
      ["search finds nothing for nothing-here"] = function(r)
        return q ~= "nothing-here" or r.json().total == 0
      end,
    })
  end)
end

-- What --vus/--duration/--iterations on the command line run: a bit of both.
function run(data)
  if tide.vu.iteration % 3 == 2 then edit(data) else browse() end
  tide.think(0.1, 0.3)
end

function vu_teardown()
  for id in pairs(open) do
    http.delete("/api/projects/" .. id, {
      name = "/api/projects/{id}", headers = headers, expect = { 204, 404 },
    })
  end
end

-- After the load: the editors deleted every project they created.
function verify(data)
  local h = login()
  if not h then return end
  tide.check(count(h), {
    ["the editors left nothing behind"] = function(n) return n == data.before end,
  })
end
