-- Endurance (soak): a steady, moderate load for a long time (30 minutes by default), to find
-- what only time reveals: leaks, slow drifts in latency, tokens that expire mid-run, data that
-- piles up. Users browse, search and edit projects with think time; when a token expires
-- they log in again and retry (counted in endurance_relogins). An error rate above 1% stops
-- the run early (abort_on_fail after a minute). verify() checks nothing piled up in the
-- tenant; handle_summary() compares the latency of the first and last tenth of the run
-- (endurance.txt in the run folder).
--
-- Run against the built-in reference API:
--   tide run scenarios/endurance.lua --target                  # 30 minutes
--   tide run scenarios/endurance.lua --target --duration 2m    # a short rehearsal
-- Against your backend (the same /api, see docs/scenarios.md):
--   TIDE_PASSWORD=secret tide run scenarios/endurance.lua --host https://staging.example.com \
--     --vus 50 --duration 4h
-- Environment: TIDE_USER (default demo), TIDE_PASSWORD (demo), TIDE_TENANT (endurance),
-- TIDE_TOKEN_TTL (seconds: ask the login for short-lived tokens, to exercise the re-login).
-- Values read with tide.env are treated as secrets and blanked in the reports wherever they
-- occur, so give TIDE_TOKEN_TTL a short value (e.g. 60), not one like 300.
local http = require "tide.http"
local tide = require "tide"
local metrics = require "tide.metrics"

local format = string.format

local USER <const> = tide.env("TIDE_USER", "demo")
local TENANT <const> = tide.env("TIDE_TENANT", "endurance")
local TOKEN_TTL <const> = tonumber(tide.env("TIDE_TOKEN_TTL", ""))
local DRIFT_MAX <const> = 1.5 -- the last tenth's p95 may be at most 1.5 times the first's

options = {
  vus = 10,
  duration = "30m",
  thresholds = {
    http_req_failed = {
      { threshold = "rate<0.01", abort_on_fail = true, delay_abort_eval = "1m" },
    },
    http_req_duration = { "p(95)<300", "p(99)<1000" },
    checks = { "rate>0.99" },
  },
}

local relogins = metrics.counter("endurance_relogins")

-- Per VU: its headers, and the projects it created and has not deleted yet.
local headers
local open = {}

local function login()
  local res = http.post("/api/auth/login", {
    name = "/api/auth/login",
    json = { username = USER, password = tide.env("TIDE_PASSWORD", "demo"), ttl = TOKEN_TTL },
  })
  if res.status ~= 200 then return nil end
  return { Authorization = "Bearer " .. res.json().token, ["X-Tenant-ID"] = TENANT }
end

-- One API call; when the token has expired (401), logs in again and retries once. The first
-- 401 is expected in a long run, so it is not counted as a failed request.
local function call(method, url, opts)
  local expect = opts.expect or { 200, 201, 204 }
  opts.headers = headers
  opts.expect = { 401, table.unpack(expect) }
  local res = http.request(method, url, opts)
  if res.status ~= 401 then return res end
  relogins:add(1)
  headers = login()
  if not headers then tide.fail("cannot log in again") end
  opts.headers, opts.expect = headers, expect
  return http.request(method, url, opts)
end

local function server_count(h)
  local res = http.get("/api/projects", {
    name = "/api/projects", headers = h, query = { per_page = 1 },
  })
  return res.status == 200 and res.json().total or nil
end

function setup()
  local h = login()
  if not h then tide.abort("setup: cannot log in as " .. USER) end
  return { run = format("%x%04x", os.time(), math.random(0, 0xffff)), before = server_count(h) }
end

function vu_setup()
  headers = login()
  if not headers then tide.fail("cannot log in") end
end

function run(data)
  local list = call("GET", "/api/projects", { name = "/api/projects", query = { per_page = 20 } })
  tide.check(list, { ["list answers 200"] = list.status == 200 })
  tide.think(0.5, 2)

  local search = call("GET", "/api/search", { name = "/api/search", query = { q = "endurance" } })
  tide.check(search, { ["search answers 200"] = search.status == 200 })
  tide.think(0.5, 2)

  local name = format("endurance-%s-vu%d-it%d", data.run, tide.vu.id, tide.vu.iteration)
  local created = call("POST", "/api/projects", { name = "/api/projects", json = { name = name } })
  if not tide.check(created, { ["create answers 201"] = created.status == 201 }) then return end
  local id = created.json().id
  local url = "/api/projects/" .. id
  open[id] = true
  tide.think(0.5, 2)

  local updated = call("PATCH", url, {
    name = "/api/projects/{id}", json = { description = "edited" },
  })
  tide.check(updated, { ["update answers 200"] = updated.status == 200 })
  local deleted = call("DELETE", url, { name = "/api/projects/{id}" })
  tide.check(deleted, { ["delete answers 204"] = deleted.status == 204 })
  if deleted.status == 204 then open[id] = nil end
end

function vu_teardown()
  for id in pairs(open) do
    call("DELETE", "/api/projects/" .. id, { name = "/api/projects/{id}", expect = { 204, 404 } })
  end
end

function verify(data)
  local health = http.get("/health", { name = "/health" })
  tide.check(health, { ["the service answers /health after the run"] = health.status == 200 })
  local h = login()
  if not tide.check(h, { ["logging in works after the run"] = h ~= nil }) then return end
  local count = server_count(h)
  tide.check(count, {
    ["nothing piled up: the tenant holds as many projects as before"] = count == data.before,
  })
end

-- The mean of the per-second p95 over rows[from..to] of the history.
local function mean_p95(rows, from, to)
  local sum = 0
  for i = from, to do sum = sum + (rows[i].percentiles and rows[i].percentiles["95"] or 0) end
  return sum / (to - from + 1)
end

function handle_summary(s)
  local rows, n = s.history, #s.history
  if n < 2 then return {} end
  local tenth = math.max(1, n // 10)
  local first, last = mean_p95(rows, 1, tenth), mean_p95(rows, n - tenth + 1, n)
  -- below a few milliseconds, ratios are noise
  local drifted = last > first * DRIFT_MAX and last - first > 5
  local relogged = s.metrics.endurance_relogins
  local text = format("tide endurance report: %s\n"
    .. "p95 over the first %d s: %.2f ms; over the last %d s: %.2f ms: %s\n"
    .. "re-logins after an expired token: %d\n",
    s.run.id, tenth, first, tenth, last,
    drifted and format("LATENCY DRIFTED (more than x%.1f)", DRIFT_MAX) or "no drift",
    relogged and relogged.count or 0)
  return { ["endurance.txt"] = text, stdout = text }
end
