-- Auditability: every write and every read of personal data leaves exactly one audit record,
-- with the right actor, inside the run's time window. setup() creates one member per VU slot
-- (USERS of them); each iteration, as its member, creates a project, renames it, reads the
-- member's own export (personal data) and deletes the project, counting each success in its
-- own counter (audit_creates, audit_updates, audit_reads, audit_deletes). verify() pages
-- through GET /api/audit for each member and reconciles: as many records of each action as the
-- VUs counted, one create and one delete per project and by the same actor, every record time
-- between the start of setup() and verify(). A broken promise is named on stderr
-- ("broken promise: audit ...").
--
-- Run against the built-in reference API:
--   tide run scenarios/audit.lua --target
--   tide target --skip-audit        # and in another shell, to see verify() catch it (exit 99):
--   tide run scenarios/audit.lua --host http://127.0.0.1:5000
-- Against your backend (the /api of docs/target.md: /api/users, /api/audit):
--   TIDE_PASSWORD=secret tide run scenarios/audit.lua --host https://staging.example.com
-- Environment: TIDE_USER (default demo: an admin), TIDE_PASSWORD (demo), TIDE_TENANT (audit).
local http = require "tide.http"
local tide = require "tide"
local metrics = require "tide.metrics"

local format, date = string.format, os.date

local USER <const> = tide.env("TIDE_USER", "demo")
local TENANT <const> = tide.env("TIDE_TENANT", "audit")
local USERS <const> = 10    -- members made by setup(); VU n acts as member (n - 1) % USERS + 1
local PAGE <const> = 1000   -- audit records per request
local MAX_PAGES <const> = 1000

options = {
  vus = 4,
  duration = "20s",
  thresholds = {
    http_req_failed = { "rate<0.01" },
    checks = { "rate>0.99" },
  },
}

-- What the VUs did, by audit action.
local COUNTERS <const> = {
  ["project.create"] = metrics.counter("audit_creates"),
  ["project.update"] = metrics.counter("audit_updates"),
  ["user.export"] = metrics.counter("audit_reads"),
  ["project.delete"] = metrics.counter("audit_deletes"),
}

local session = require "session" -- scenarios/lib/session.lua
local decode, login = session.decode, session.login

local function auth(token)
  return session.auth(token, TENANT)
end

-- A UTC time as the audit log writes it, to the second.
local function utc(t)
  return date("!%Y-%m-%dT%H:%M:%S", t)
end

function setup()
  local admin = login(USER, tide.env("TIDE_PASSWORD", "demo"))
  if not admin then tide.abort("setup: cannot log in as " .. USER) end
  local run = format("%x%04x", os.time(), math.random(0, 0xffff))
  local data = { run = run, users = {}, started = os.time() - 1 }
  for i = 1, USERS do
    local u = { username = format("audit-%s-u%d", run, i),
                password = format("pw-%s-%x", run, math.random(0, 0x7fffffff)) }
    local res = http.post("/api/users", {
      name = "/api/users", headers = auth(admin),
      json = { username = u.username, password = u.password, role = "member" },
    })
    local body = decode(res)
    if res.status ~= 201 or not body then tide.abort("setup: cannot create a member") end
    u.id = body.id
    data.users[i] = u
  end
  return data
end

-- Per VU: its member and token.
local me, token

function vu_setup(data)
  me = data.users[(tide.vu.id - 1) % #data.users + 1]
  token = login(me.username, me.password)
  if not token then tide.fail("cannot log in") end
end

local function counted(res, status, action)
  local ok = res.status == status
  if ok then COUNTERS[action]:add(1) end
  return ok
end

function run(data)
  local h = auth(token)
  local name = format("audit-%s-vu%d-it%d", data.run, tide.vu.id, tide.vu.iteration)
  local made = http.post("/api/projects", { name = "/api/projects", headers = h,
                                            json = { name = name } })
  local project = made.status == 201 and decode(made) or nil
  tide.check(made, { ["create answers 201"] = counted(made, 201, "project.create") })
  if not project then return end
  local path = "/api/projects/" .. project.id
  local renamed = http.patch(path, { name = "/api/projects/{id}", headers = h,
                                     json = { name = name .. "-renamed" } })
  tide.check(renamed, { ["rename answers 200"] = counted(renamed, 200, "project.update") })
  local export = http.get("/api/users/" .. me.id .. "/export", {
    name = "/api/users/{id}/export", headers = h,
  })
  tide.check(export, { ["own export answers 200"] = counted(export, 200, "user.export") })
  local deleted = http.delete(path, { name = "/api/projects/{id}", headers = h })
  tide.check(deleted, { ["delete answers 204"] = counted(deleted, 204, "project.delete") })
  tide.think(0.02, 0.1)
end

-- Every audit record of one actor, following the log's cursor; nil when it cannot be read.
local function records_of(h, actor)
  local all, since = {}, 0
  for _ = 1, MAX_PAGES do
    local res = http.get("/api/audit", {
      name = "/api/audit", headers = h, query = { since = since, actor = actor, limit = PAGE },
    })
    local body = res.status == 200 and decode(res) or nil
    if body == nil then return nil end
    for _, r in ipairs(body.items) do all[#all + 1] = r end
    if #body.items < PAGE then break end
    since = body.next
  end
  return all
end

function verify(data, summary)
  local admin = login(USER, tide.env("TIDE_PASSWORD", "demo"))
  if not tide.check(admin, { ["verify can log in"] = admin ~= nil }) then return end
  local h = auth(admin)
  local from, to = utc(data.started), utc(os.time() + 2)
  local found, by_resource = {}, {}
  local out_of_window, readable = 0, true
  for _, u in ipairs(data.users) do
    local records = records_of(h, u.id)
    if records == nil then
      readable = false
      break
    end
    for _, r in ipairs(records) do
      found[r.action] = (found[r.action] or 0) + 1
      if r.time < from or r.time > to or r.actor ~= u.id then out_of_window = out_of_window + 1 end
      if r.action == "project.create" or r.action == "project.delete" then
        local seen = by_resource[r.resource] or {}
        seen[r.action] = (seen[r.action] or 0) + 1
        seen.actors = seen.actors or {}
        seen.actors[r.actor] = true
        by_resource[r.resource] = seen
      end
    end
  end
  if not tide.check(readable, { ["the audit log can be read"] = readable }) then return end

  local m = summary and summary.metrics or {}
  local broken = {}
  for action, counter in pairs(COUNTERS) do
    local did = m[counter:name()] and m[counter:name()].count or 0
    local logged = found[action] or 0
    local ok = logged == did
    tide.check(logged, { [format("every %s has exactly one audit record", action)] = ok })
    if not ok then
      broken[#broken + 1] = format("%s: the VUs counted %d, the log holds %d", action, did, logged)
    end
  end
  local unpaired = 0
  for _, seen in pairs(by_resource) do
    local actors = 0
    for _ in pairs(seen.actors) do actors = actors + 1 end
    if seen["project.create"] ~= 1 or (seen["project.delete"] or 0) > 1 or actors ~= 1 then
      unpaired = unpaired + 1
    end
  end
  tide.check(unpaired, {
    ["each project has one create record and at most one delete, by one actor"] = unpaired == 0,
    ["every record has the right actor and a time within the run"] = out_of_window == 0,
  })
  if unpaired > 0 then broken[#broken + 1] = format("%d projects' records do not pair", unpaired) end
  if out_of_window > 0 then
    broken[#broken + 1] = format("%d records outside the run's window", out_of_window)
  end
  for _, line in ipairs(broken) do tide.log.error("broken promise: audit: " .. line) end
  -- cleanup (the log keeps its records: it is append-only)
  for _, u in ipairs(data.users) do
    http.delete("/api/users/" .. u.id, {
      name = "/api/users/{id}", headers = h, expect = { 200, 404 },
    })
  end
end
