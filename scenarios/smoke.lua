-- Smoke test: one user calls every endpoint of the API once per iteration (health, login,
-- create, read, patch, list, search, delete, logout) and expects each to work. Run it before
-- a load test, or after a deploy: any failed check or request fails the run (exit 99).
--
-- Run against the built-in reference API:
--   tide run scenarios/smoke.lua --target
-- Against your backend (the same /api, see docs/scenarios.md):
--   TIDE_PASSWORD=secret tide run scenarios/smoke.lua --host https://staging.example.com
-- Environment: TIDE_USER (default demo), TIDE_PASSWORD (demo), TIDE_TENANT (smoke).
local http = require "tide.http"
local tide = require "tide"

local format = string.format

local USER <const> = tide.env("TIDE_USER", "demo")
local TENANT <const> = tide.env("TIDE_TENANT", "smoke")

options = {
  vus = 1,
  iterations = 3,
  thresholds = {
    http_req_failed = { "rate==0" },
    checks = { "rate==1" },
    http_req_duration = { "max<2000" },
  },
}

local function decode(res)
  local ok, body = pcall(res.json)
  return ok and body or nil
end

function setup()
  -- a run id keeps project names unique across runs against the same server
  return { run = format("%x%04x", os.time(), math.random(0, 0xffff)) }
end

function run(data)
  local health = http.get("/health", { name = "/health" })
  tide.check(health, { ["health answers 200"] = health.status == 200 })

  local login = http.post("/api/auth/login", {
    name = "/api/auth/login",
    json = { username = USER, password = tide.env("TIDE_PASSWORD", "demo") },
  })
  local session = decode(login)
  if not tide.check(login, {
    ["login answers 200"] = login.status == 200,
    ["login returns a bearer token"] = session ~= nil and type(session.token) == "string",
  }) then
    tide.fail("login failed: HTTP " .. login.status)
  end
  local headers = { Authorization = "Bearer " .. session.token, ["X-Tenant-ID"] = TENANT }

  -- unique per run, VU and iteration: any number of VUs can run this without name clashes
  local name = format("smoke-%s-vu%d-it%d", data.run, tide.vu.id, tide.vu.iteration)
  local created = http.post("/api/projects", {
    name = "/api/projects", headers = headers,
    json = { name = name, description = "smoke test" },
  })
  local project = decode(created)
  if not tide.check(created, {
    ["create answers 201"] = created.status == 201,
    ["create returns the new project's id"] = project ~= nil and project.id ~= nil,
  }) then
    tide.fail("create failed: HTTP " .. created.status)
  end
  local url = "/api/projects/" .. project.id

  local read = http.get(url, { name = "/api/projects/{id}", headers = headers })
  tide.check(read, {
    ["read answers 200"] = read.status == 200,
    ["read returns the name that was sent"] = function(r) return r.json().name == name end,
  })

  local patched = http.patch(url, {
    name = "/api/projects/{id}", headers = headers, json = { description = "patched" },
  })
  tide.check(patched, {
    ["patch answers 200"] = patched.status == 200,
    ["patch changes only the description"] = function(r)
      local p = r.json()
      return p.description == "patched" and p.name == name
    end,
  })

  local list = http.get("/api/projects", { name = "/api/projects", headers = headers })
  tide.check(list, {
    ["list answers 200"] = list.status == 200,
    ["list counts at least the new project"] = function(r) return r.json().total >= 1 end,
  })

  local search = http.get("/api/search", {
    name = "/api/search", headers = headers, query = { q = name },
  })
  tide.check(search, {
    ["search answers 200"] = search.status == 200,
    ["search finds the new project by its name"] = function(r)
      local body = r.json()
      return body.total == 1 and body.items[1].id == project.id
    end,
  })

  local deleted = http.delete(url, { name = "/api/projects/{id}", headers = headers })
  tide.check(deleted, { ["delete answers 204"] = deleted.status == 204 })

  local logout = http.post("/api/auth/logout", { name = "/api/auth/logout", headers = headers })
  tide.check(logout, { ["logout answers 204"] = logout.status == 204 })
end
