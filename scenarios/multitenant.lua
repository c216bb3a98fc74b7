-- Tenant isolation under load. VUs are spread over several tenants (X-Tenant-ID); each one
-- creates, lists, searches, reads and deletes projects in its own tenant, and checks it never
-- sees another tenant's projects, not even by id. Every request and check carries a `tenant`
-- tag, so each tenant gets its own thresholds (http_req_duration{tenant:t1}, ...) and its own
-- lines in the report. setup() gives every tenant a few marker projects; verify() checks, per
-- tenant, that list and search show no other tenant's projects and that the counts match
-- GET /_stats, then removes the markers.
--
-- Run against the built-in reference API:
--   tide run scenarios/multitenant.lua --target
--   tide run scenarios/multitenant.lua --target --vus 30 --duration 1m
-- Against your backend (the same /api, see docs/scenarios.md):
--   TIDE_TENANTS=acme,globex TIDE_PASSWORD=secret \
--     tide run scenarios/multitenant.lua --host https://staging.example.com
-- Environment: TIDE_TENANTS (default t1,t2,t3: a comma-separated list), TIDE_USER (demo; a
-- user allowed in every tenant), TIDE_PASSWORD (demo).
local http = require "tide.http"
local tide = require "tide"

local format, gmatch, sub = string.format, string.gmatch, string.sub

local USER <const> = tide.env("TIDE_USER", "demo")
local MARKERS <const> = 2 -- projects setup() gives each tenant
local PER_PAGE <const> = 100

local TENANTS = {}
for t in gmatch(tide.env("TIDE_TENANTS", "t1,t2,t3"), "[^,%s]+") do TENANTS[#TENANTS + 1] = t end

options = {
  vus = 6,
  duration = "30s",
  thresholds = {
    http_req_failed = { "rate<0.01" },
    checks = { "rate>0.99" },
  },
}
for _, t in ipairs(TENANTS) do
  options.thresholds["http_req_duration{tenant:" .. t .. "}"] = { "p(95)<500" }
  options.thresholds["checks{tenant:" .. t .. "}"] = { "rate>0.99" }
end

-- Per VU: its tenant, the tags of its samples, its token.
local tenant, tags, token

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
  return res.status == 200 and body and body.token or nil
end

local function headers(t)
  return { Authorization = "Bearer " .. token, ["X-Tenant-ID"] = t }
end

-- The tenant a project of this run belongs to, from its name "<tenant>-<run>-...".
local function owner(name, run)
  for _, t in ipairs(TENANTS) do
    local prefix = t .. "-" .. run .. "-"
    if sub(name, 1, #prefix) == prefix then return t end
  end
  return nil
end

-- True when none of the items belongs to another of this run's tenants than t.
local function only_own(items, t, run)
  for _, p in ipairs(items) do
    local o = owner(p.name, run)
    if o ~= nil and o ~= t then return false end
  end
  return true
end

-- The tenants' project counts as the server keeps them (GET /_stats), or nil.
local function server_counts()
  local res = http.get("/_stats", { name = "/_stats", expect = { 200, 404 } })
  local body = res.status == 200 and decode(res) or nil
  return body and body.items_per_tenant or nil
end

function setup()
  if #TENANTS < 2 then tide.abort("TIDE_TENANTS: name at least two tenants") end
  token = login()
  if not token then tide.abort("setup: cannot log in as " .. USER) end
  local run = format("%x%04x", os.time(), math.random(0, 0xffff))
  local counts = server_counts() or {}
  local data = { run = run, markers = {}, before = {} }
  for _, t in ipairs(TENANTS) do
    data.before[t] = counts[t] or 0
    data.markers[t] = {}
    for k = 1, MARKERS do
      local res = http.post("/api/projects", {
        name = "/api/projects", headers = headers(t),
        json = { name = format("%s-%s-marker-%d", t, run, k), description = "tenant marker" },
      })
      if res.status ~= 201 then tide.abort("setup: cannot create a marker in " .. t) end
      data.markers[t][k] = res.json().id
    end
  end
  return data
end

function vu_setup()
  tenant = TENANTS[(tide.vu.id - 1) % #TENANTS + 1]
  tags = { tenant = tenant }
  token = login()
  if not token then tide.fail("cannot log in") end
end

function run(data)
  local h = headers(tenant)
  local name = format("%s-%s-vu%d-it%d", tenant, data.run, tide.vu.id, tide.vu.iteration)

  local created = http.post("/api/projects", {
    name = "/api/projects", headers = h, tags = tags, json = { name = name },
  })
  local project = decode(created)
  tide.check(created, { ["create answers 201"] = created.status == 201 }, tags)

  local list = http.get("/api/projects", {
    name = "/api/projects", headers = h, tags = tags, query = { per_page = PER_PAGE },
  })
  tide.check(list, {
    ["list answers 200"] = list.status == 200,
    ["list shows no project of another tenant"] = function(r)
      return only_own(r.json().items, tenant, data.run)
    end,
  }, tags)

  local search = http.get("/api/search", {
    name = "/api/search", headers = h, tags = tags, query = { q = data.run, limit = PER_PAGE },
  })
  tide.check(search, {
    ["search answers 200"] = search.status == 200,
    ["search finds no project of another tenant"] = function(r)
      return only_own(r.json().items, tenant, data.run)
    end,
    ["search finds this tenant's markers"] = function(r) return r.json().total >= MARKERS end,
  }, tags)

  -- ids are global: another tenant's id must look like an unknown one
  local other = TENANTS[tide.vu.id % #TENANTS + 1]
  local foreign = http.get("/api/projects/" .. data.markers[other][1], {
    name = "/api/projects/{id}", headers = h, tags = tags, expect = 404,
  })
  tide.check(foreign, { ["another tenant's project is not found (404)"] = foreign.status == 404 },
    tags)

  if project and project.id then
    local deleted = http.delete("/api/projects/" .. project.id, {
      name = "/api/projects/{id}", headers = h, tags = tags,
    })
    tide.check(deleted, { ["delete answers 204"] = deleted.status == 204 }, tags)
  end
  tide.think(0.1, 0.4)
end

-- Every project of tenant t, page by page (at most 100 pages), or nil.
local function list_all(t)
  local all = {}
  for page = 1, 100 do
    local res = http.get("/api/projects", {
      name = "/api/projects", headers = headers(t), query = { page = page, per_page = PER_PAGE },
    })
    local body = res.status == 200 and decode(res) or nil
    if body == nil then return nil end
    for _, p in ipairs(body.items) do all[#all + 1] = p end
    if #body.items < PER_PAGE then break end
  end
  return all
end

function verify(data)
  token = login()
  if not tide.check(token, { ["verify can log in"] = token ~= nil }) then return end
  local counts = server_counts()
  for _, t in ipairs(TENANTS) do
    tide.group("tenant " .. t, function()
      local listed = list_all(t)
      if not tide.check(listed, { ["the tenant's projects can be listed"] = listed ~= nil }) then
        return
      end
      tide.check(listed, {
        ["list shows no project of another tenant"] = only_own(listed, t, data.run),
        ["the tenant holds its markers and nothing else of the load"] =
          #listed == data.before[t] + MARKERS,
      })
      if counts then
        tide.check(counts[t], {
          ["the list shows every project /_stats counts"] = #listed == (counts[t] or 0),
        })
      end
      local found = http.get("/api/search", {
        name = "/api/search", headers = headers(t), query = { q = data.run, limit = PER_PAGE },
      })
      tide.check(found, {
        ["search shows no project of another tenant"] = function(r)
          return only_own(r.json().items, t, data.run)
        end,
        ["search finds exactly the tenant's markers"] = function(r)
          return r.json().total == MARKERS
        end,
      })
    end)
  end
  -- teardown() runs before verify(), so the markers are removed here, once all are checked
  for _, t in ipairs(TENANTS) do
    for _, id in ipairs(data.markers[t]) do
      local res = http.delete("/api/projects/" .. id, {
        name = "/api/projects/{id}", headers = headers(t), expect = { 204, 404 },
      })
      tide.check(res, { ["every marker can be deleted"] = res.status == 204 })
    end
  end
end
