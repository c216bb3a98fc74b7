-- CRUD of projects. Each iteration creates a project, reads it back, renames it, lists the
-- tenant's projects and deletes it, checking every answer; custom counters count the creates
-- and deletes. verify() then checks the server holds what the client left: as many projects
-- as before the run (every create was matched by a delete), a list that agrees with the
-- server's own count (GET /_stats), and a project it creates can be read back and deleted.
--
-- Run against the built-in reference API:
--   tide run scenarios/crud.lua --target
--   tide run scenarios/crud.lua --target --vus 20 --duration 1m
-- Against your backend (the same /api, see docs/scenarios.md):
--   TIDE_PASSWORD=secret tide run scenarios/crud.lua --host https://staging.example.com
-- Environment: TIDE_USER (default demo), TIDE_PASSWORD (demo), TIDE_TENANT (crud).
-- Use a tenant nobody else writes to during the run: verify() compares counts.
local http = require "tide.http"
local tide = require "tide"
local metrics = require "tide.metrics"

local format = string.format

local USER <const> = tide.env("TIDE_USER", "demo")
local TENANT <const> = tide.env("TIDE_TENANT", "crud")
local PER_PAGE <const> = 100

options = {
  vus = 5,
  duration = "30s",
  thresholds = {
    http_req_failed = { "rate<0.01" },
    http_req_duration = { "p(95)<500" },
    ["http_req_duration{name:/api/projects/{id}}"] = { "p(99)<800" },
    checks = { "rate>0.99" },
  },
}

local creates = metrics.counter("crud_creates")
local deletes = metrics.counter("crud_deletes")
local tags <const> = { tenant = TENANT }

-- Per VU (each VU runs this file in its own environment): its headers and the projects it
-- created and has not deleted yet.
local headers
local open = {}

local function decode(res)
  local ok, body = pcall(res.json)
  return ok and body or nil
end

-- Logs in; returns the headers of the API's calls, or nil.
local function login()
  local res = http.post("/api/auth/login", {
    name = "/api/auth/login",
    json = { username = USER, password = tide.env("TIDE_PASSWORD", "demo") },
  })
  local body = decode(res)
  local ok = tide.check(res, {
    ["login answers 200"] = res.status == 200,
    ["login returns a token"] = body ~= nil and type(body.token) == "string",
  })
  if not ok then return nil end
  return { Authorization = "Bearer " .. body.token, ["X-Tenant-ID"] = TENANT }
end

-- The tenant's project count as the server keeps it (GET /_stats), or nil when the backend
-- has no /_stats.
local function server_count()
  local res = http.get("/_stats", { name = "/_stats", expect = { 200, 404 } })
  local body = res.status == 200 and decode(res) or nil
  if body == nil or type(body.items_per_tenant) ~= "table" then return nil end
  return body.items_per_tenant[TENANT] or 0
end

-- Every project of the tenant, page by page (at most 100 pages).
local function list_all(h)
  local all = {}
  for page = 1, 100 do
    local res = http.get("/api/projects", {
      name = "/api/projects", headers = h, query = { page = page, per_page = PER_PAGE },
    })
    local body = res.status == 200 and decode(res) or nil
    if body == nil then return nil end
    for _, p in ipairs(body.items) do all[#all + 1] = p end
    if #body.items < PER_PAGE then break end
  end
  return all
end

function setup()
  local h = login()
  if not h then tide.abort("setup: cannot log in as " .. USER) end
  local count = server_count()
  if count == nil then
    tide.log.warn("no /_stats on this host: verify() compares with the API's list instead")
    count = #(list_all(h) or {})
  end
  -- a run id makes this run's project names unique, also across runs against one server
  return { run = format("%x%04x", os.time(), math.random(0, 0xffff)), before = count }
end

function vu_setup()
  headers = login()
  if not headers then tide.fail("cannot log in") end
end

function run(data)
  local name = format("crud-%s-vu%d-it%d", data.run, tide.vu.id, tide.vu.iteration)

  local created = http.post("/api/projects", {
    name = "/api/projects", headers = headers,
    json = { name = name, description = "created by scenarios/crud.lua" },
  })
  local project = decode(created)
  tide.check(created, {
    ["create answers 201"] = created.status == 201,
    ["created project has an id and the name sent"] = project ~= nil and project.id ~= nil
      and project.name == name,
  }, tags)
  if created.status ~= 201 or project == nil or project.id == nil then return end
  creates:add(1, tags)
  open[project.id] = true
  local url = "/api/projects/" .. project.id

  local read = http.get(url, { name = "/api/projects/{id}", headers = headers })
  tide.check(read, {
    ["read answers 200"] = read.status == 200,
    ["read returns the created project"] = function(r) return r.json().name == name end,
  }, tags)

  local renamed = name .. "-renamed"
  local updated = http.put(url, {
    name = "/api/projects/{id}", headers = headers,
    json = { name = renamed, description = "updated by scenarios/crud.lua" },
  })
  tide.check(updated, {
    ["update answers 200"] = updated.status == 200,
    ["update saves the new name"] = function(r) return r.json().name == renamed end,
  }, tags)

  local list = http.get("/api/projects", {
    name = "/api/projects", headers = headers, query = { per_page = PER_PAGE },
  })
  tide.check(list, {
    ["list answers 200"] = list.status == 200,
    ["list holds at most per_page projects of a total of at least one"] = function(r)
      local body = r.json()
      return #body.items <= PER_PAGE and body.total >= 1
    end,
  }, tags)

  local deleted = http.delete(url, { name = "/api/projects/{id}", headers = headers })
  tide.check(deleted, { ["delete answers 204"] = deleted.status == 204 }, tags)
  if deleted.status == 204 then
    deletes:add(1, tags)
    open[project.id] = nil
  end
  tide.think(0.1, 0.5)
end

-- Deletes what this VU created and could not delete during its iterations, so that the
-- tenant ends the run as it began.
function vu_teardown()
  for id in pairs(open) do
    local res = http.delete("/api/projects/" .. id, {
      name = "/api/projects/{id}", headers = headers, expect = { 204, 404 },
    })
    if res.status == 204 then deletes:add(1, tags) end
  end
end

function verify(data, summary)
  local h = login()
  if not h then return end
  local listed = list_all(h)
  local count = server_count()
  tide.check(listed, { ["the tenant's projects can be listed"] = listed ~= nil })
  if listed == nil then return end
  -- what the VUs counted, from the load's results
  local m = summary and summary.metrics or {}
  local created = m.crud_creates and m.crud_creates.count or 0
  local removed = m.crud_deletes and m.crud_deletes.count or 0
  if count ~= nil then
    tide.check(count, {
      ["the server holds what the VUs left: before + creates - deletes"] =
        count == data.before + created - removed,
      ["the list shows every project the server counts"] = #listed == count,
    })
  else
    tide.check(listed, {
      ["the tenant lists as many projects as before the run (creates = deletes)"] =
        #listed == data.before,
    })
  end

  -- a write the API acknowledges must be readable, counted, and deletable
  local name = format("crud-%s-verify", data.run)
  local created = http.post("/api/projects", {
    name = "/api/projects", headers = h, json = { name = name },
  })
  local project = decode(created)
  if not tide.check(created, {
    ["verify creates a project"] = created.status == 201 and project ~= nil,
  }) then
    return
  end
  local url = "/api/projects/" .. project.id
  local read = http.get(url, { name = "/api/projects/{id}", headers = h, expect = { 200, 404 } })
  tide.check(read, {
    ["the created project can be read back"] = function(r)
      return r.status == 200 and r.json().name == name
    end,
  })
  if count ~= nil then
    tide.check(server_count(), {
      ["the server counts the created project"] = function(n) return n == count + 1 end,
    })
  end
  local deleted = http.delete(url, {
    name = "/api/projects/{id}", headers = h, expect = { 204, 404 },
  })
  local gone = http.get(url, { name = "/api/projects/{id}", headers = h, expect = { 200, 404 } })
  tide.check(deleted, {
    ["the created project can be deleted"] = deleted.status == 204,
    ["a deleted project is gone"] = gone.status == 404,
  })
end
