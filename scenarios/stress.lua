-- Stress: ramps the number of users past what the service can take, until errors or slow
-- answers appear, then back down to see whether it recovers. Requests have a short timeout,
-- so an overloaded service shows up as errors instead of stalling the test. By default this
-- scenario *reports* rather than fails: handle_summary() writes stress.txt into the run folder
-- (and prints it) with the breaking point (the first second with more than 1% errors or a
-- p95 over the limit, and how many VUs were running then), the peak throughput, and whether
-- the last stage was healthy again. With TIDE_STRESS_STRICT=1 the same limits become
-- thresholds and fail the run (exit 99). In both modes verify() fails the run when the
-- service still does not answer properly after the load.
--
-- Run against the built-in reference API (six stages of 20 s: 2 minutes):
--   tide run scenarios/stress.lua --target
--   TIDE_STRESS_STRICT=1 tide run scenarios/stress.lua --target    # fail on the limits
-- Against your backend (the same /api, see docs/scenarios.md):
--   TIDE_PASSWORD=secret tide run scenarios/stress.lua --host https://staging.example.com
-- Another shape from the command line (it replaces the stages below; keep a last stage low,
-- the report reads the last quarter of the run as the recovery):
--   tide run scenarios/stress.lua --target --stage 30s:100 --stage 30s:800 --stage 30s:10
-- PEAK, STEP, TIMEOUT and P95_MS below set the default shape and the limits.
-- Environment: TIDE_STRESS_STRICT (1: the limits fail the run), TIDE_USER (default demo),
-- TIDE_PASSWORD (demo), TIDE_TENANT (stress).
local http = require "tide.http"
local tide = require "tide"

local format = string.format

local USER <const> = tide.env("TIDE_USER", "demo")
local TENANT <const> = tide.env("TIDE_TENANT", "stress")
local PEAK <const> = 200 -- VUs around the expected capacity; the ramp goes to twice that
local STEP <const> = "20s" -- each stage
local TIMEOUT <const> = "2s" -- per request: beyond, an answer counts as an error
local P95_MS <const> = 500 -- the latency limit
local MAX_ERRORS <const> = 0.01 -- the error rate limit
local STRICT <const> = tide.env("TIDE_STRESS_STRICT", "0") == "1"

options = {
  scenarios = {
    stress = {
      executor = "ramping-vus",
      exec = "run",
      start_vus = 0,
      stages = {
        { duration = STEP, target = PEAK // 4 }, -- normal load
        { duration = STEP, target = PEAK // 2 },
        { duration = STEP, target = PEAK }, -- around capacity
        { duration = STEP, target = 2 * PEAK }, -- beyond it
        { duration = STEP, target = PEAK // 10 }, -- back down
        { duration = STEP, target = PEAK // 10 }, -- recovery: healthy again?
      },
      graceful_ramp_down = "5s",
    },
  },
  thresholds = STRICT and {
    http_req_failed = { "rate<" .. MAX_ERRORS },
    http_req_duration = { "p(95)<" .. P95_MS },
  } or {
    -- errors past the breaking point are reported, not failed on: this replaces tide's
    -- default check (10% failed requests fail a run) and fails only a run where no request
    -- succeeded (a wrong host, a service down from the start)
    http_req_failed = { "rate<1" },
  },
}

local headers -- per VU
local open = {} -- per VU: projects created and not deleted yet

local function login()
  local res = http.post("/api/auth/login", {
    name = "/api/auth/login", timeout = TIMEOUT,
    json = { username = USER, password = tide.env("TIDE_PASSWORD", "demo") },
  })
  if res.status ~= 200 then return nil end
  return { Authorization = "Bearer " .. res.json().token, ["X-Tenant-ID"] = TENANT }
end

function setup()
  return { run = format("%x%04x", os.time(), math.random(0, 0xffff)) }
end

function vu_setup()
  headers = login()
  if not headers then tide.fail("cannot log in") end
end

function run(data)
  -- mostly reads, and a write in one iteration out of four
  local list = http.get("/api/projects", {
    name = "/api/projects", headers = headers, timeout = TIMEOUT, query = { per_page = 20 },
  })
  tide.check(list, { ["list answers 200"] = list.status == 200 })

  local search = http.get("/api/search", {
    name = "/api/search", headers = headers, timeout = TIMEOUT, query = { q = "stress" },
  })
  tide.check(search, { ["search answers 200"] = search.status == 200 })

  if tide.vu.iteration % 4 == 0 then
    local name = format("stress-%s-vu%d-it%d", data.run, tide.vu.id, tide.vu.iteration)
    local created = http.post("/api/projects", {
      name = "/api/projects", headers = headers, timeout = TIMEOUT, json = { name = name },
    })
    tide.check(created, { ["create answers 201"] = created.status == 201 })
    if created.status == 201 then
      local id = created.json().id
      open[id] = true
      local deleted = http.delete("/api/projects/" .. id, {
        name = "/api/projects/{id}", headers = headers, timeout = TIMEOUT,
      })
      tide.check(deleted, { ["delete answers 204"] = deleted.status == 204 })
      if deleted.status == 204 then open[id] = nil end
    end
  end
  tide.think(0.05, 0.25)
end

-- Removes what overloaded iterations could not, with the default (long) timeout.
function vu_teardown()
  for id in pairs(open) do
    http.delete("/api/projects/" .. id, {
      name = "/api/projects/{id}", headers = headers, expect = { 204, 404 },
    })
  end
end

function verify()
  local health = http.get("/health", { name = "/health", timeout = "5s" })
  tide.check(health, { ["the service answers /health after the load"] = health.status == 200 })
  local h = login()
  if not tide.check(h, { ["logging in works after the load"] = h ~= nil }) then return end
  local created = http.post("/api/projects", {
    name = "/api/projects", headers = h, json = { name = format("stress-verify-%x", os.time()) },
  })
  tide.check(created, { ["writing works after the load"] = created.status == 201 })
  if created.status == 201 then
    local deleted = http.delete("/api/projects/" .. created.json().id, {
      name = "/api/projects/{id}", headers = h,
    })
    tide.check(deleted, { ["deleting works after the load"] = deleted.status == 204 })
  end
end

-- The capacity report, from the per-second history of the run.
local function report(s)
  local lines = { "tide stress report: " .. s.run.id, "" }
  local function add(...) lines[#lines + 1] = format(...) end
  local limits = format("more than %g%% errors or p95 over %g ms", MAX_ERRORS * 100, P95_MS)
  local peak, breaking = nil, nil
  for _, row in ipairs(s.history) do
    local errors = row.reqs > 0 and row.fails / row.reqs or 0
    local p95 = row.percentiles and row.percentiles["95"] or 0
    if peak == nil or row.rps > peak.rps then peak = row end
    if breaking == nil and (errors > MAX_ERRORS or p95 > P95_MS) then
      breaking = { row = row, errors = errors, p95 = p95 }
    end
  end
  if peak then
    add("peak throughput: %.0f req/s at %d VUs (second %d)", peak.rps, peak.vus, peak.elapsed_s)
  end
  if breaking then
    add("breaking point:  %d VUs at second %d: %.1f%% errors, p95 %.0f ms (limit: %s)",
      breaking.row.vus, breaking.row.elapsed_s, breaking.errors * 100, breaking.p95, limits)
  else
    add("breaking point:  not reached (no second with %s)", limits)
  end
  -- the last quarter of the run is the recovery stage of the default shape
  local n, reqs, fails, worst = #s.history, 0, 0, 0
  for i = n - n // 4 + 1, n do
    local row = s.history[i]
    reqs, fails = reqs + row.reqs, fails + row.fails
    local p95 = row.percentiles and row.percentiles["95"] or 0
    if p95 > worst then worst = p95 end
  end
  local errors = reqs > 0 and fails / reqs or 0
  local healthy = errors <= MAX_ERRORS and worst <= P95_MS
  add("recovery:        last %d s: %.2f%% errors, worst p95 %.0f ms: %s", n // 4, errors * 100,
    worst, healthy and "healthy again" or "NOT healthy")
  add("verdict:         %s", STRICT and "strict (thresholds decide the exit code)"
    or "report only (set TIDE_STRESS_STRICT=1 to fail on these limits)")
  return table.concat(lines, "\n") .. "\n"
end

function handle_summary(s)
  local text = report(s)
  return { ["stress.txt"] = text, stdout = text }
end
