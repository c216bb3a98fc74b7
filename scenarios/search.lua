-- Search under load. setup() makes sure a known catalogue of projects (data/catalog.csv)
-- exists in a tenant of its own; then every VU runs the queries of data/queries.csv against
-- it and checks each answer: the number of matches the file expects, no more items than the
-- limit, and every item really contains the query. verify() checks that after the load every
-- query still finds what it should, and that another tenant finds none of it.
--
-- Run against the built-in reference API:
--   tide run scenarios/search.lua --target
--   tide run scenarios/search.lua --target --vus 30 --duration 1m
-- Against your backend (the same /api, see docs/scenarios.md):
--   TIDE_PASSWORD=secret tide run scenarios/search.lua --host https://staging.example.com
-- Queries: data/queries.csv, columns q (the text searched) and expected (how many catalogue
-- projects contain it in their name or description, ignoring ASCII case). Seeding is
-- idempotent: projects already there (409) are kept, so runs can repeat against one server.
-- Environment: TIDE_USER (default demo), TIDE_PASSWORD (demo), TIDE_TENANT (search).
local http = require "tide.http"
local tide = require "tide"

local find, lower = string.find, string.lower

local USER <const> = tide.env("TIDE_USER", "demo")
local TENANT <const> = tide.env("TIDE_TENANT", "search")
local LIMIT <const> = 20
local catalog = tide.data.csv("data/catalog.csv")
local queries = tide.data.csv("data/queries.csv")

options = {
  vus = 10,
  duration = "30s",
  thresholds = {
    ["http_req_duration{name:/api/search}"] = { "p(95)<300", "p(99)<800" },
    http_req_failed = { "rate<0.01" },
    checks = { "rate>0.99" },
  },
}

local headers -- per VU

local function login()
  local res = http.post("/api/auth/login", {
    name = "/api/auth/login",
    json = { username = USER, password = tide.env("TIDE_PASSWORD", "demo") },
  })
  if res.status ~= 200 then return nil end
  return { Authorization = "Bearer " .. res.json().token, ["X-Tenant-ID"] = TENANT }
end

local function search(h, q, tenant)
  if tenant then h = { Authorization = h.Authorization, ["X-Tenant-ID"] = tenant } end
  return http.get("/api/search", {
    name = "/api/search", headers = h, query = { q = q, limit = LIMIT },
  })
end

-- True when every item contains q in its name or description (ASCII case ignored, as the
-- API does).
local function all_match(items, q)
  q = lower(q)
  for _, p in ipairs(items) do
    if not find(lower(p.name), q, 1, true) and not find(lower(p.description or ""), q, 1, true) then
      return false
    end
  end
  return true
end

function setup()
  local h = login()
  if not h then tide.abort("setup: cannot log in as " .. USER) end
  local added = 0
  for _, p in ipairs(catalog) do
    local res = http.post("/api/projects", {
      name = "/api/projects", headers = h,
      json = { name = p.name, description = p.description },
      expect = { 201, 409 }, -- 409: already there from an earlier run
    })
    if res.status == 201 then
      added = added + 1
    elseif res.status ~= 409 then
      tide.abort("setup: cannot add \"" .. p.name .. "\": HTTP " .. res.status)
    end
  end
  tide.log.info(string.format("catalogue: %d projects added, %d already there", added,
    #catalog - added))
end

function vu_setup()
  headers = login()
  if not headers then tide.fail("cannot log in") end
end

function run()
  -- each VU starts at another query and walks through the file
  local query = queries[(tide.vu.id + tide.vu.iteration) % #queries + 1]
  local expected = tonumber(query.expected)
  local res = search(headers, query.q)
  tide.check(res, {
    ["search answers 200"] = res.status == 200,
    ["search finds as many projects as expected"] = function(r)
      return r.json().total == expected
    end,
    ["search returns at most limit items"] = function(r) return #r.json().items <= LIMIT end,
    ["every item found contains the query"] = function(r)
      return all_match(r.json().items, query.q)
    end,
  })
  tide.think(0.05, 0.2)
end

function verify()
  local h = login()
  if not tide.check(h, { ["verify can log in"] = h ~= nil }) then return end
  local wrong = {}
  for _, query in ipairs(queries) do
    local res = search(h, query.q)
    local ok, body = pcall(res.json)
    if res.status ~= 200 or not ok or body.total ~= tonumber(query.expected) then
      wrong[#wrong + 1] = query.q
    end
  end
  tide.check(wrong, { ["every query finds what it should after the load"] = #wrong == 0 })
  if #wrong > 0 then
    tide.log.warn("queries with unexpected results: " .. table.concat(wrong, ", "))
  end

  -- the catalogue belongs to one tenant: another one finds none of it
  local other = search(h, queries[1].q, TENANT .. "-other")
  tide.check(other, {
    ["another tenant finds none of the catalogue"] = function(r)
      return r.status == 200 and r.json().total == 0
    end,
  })
end
