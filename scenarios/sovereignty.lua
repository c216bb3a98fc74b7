-- Data sovereignty: a user's data can be taken out whole (export), erased for good (erasure)
-- and brought back (portability). setup() creates users, each owning projects that carry the
-- user's own marker; half of them are to be erased. Under load, VUs read the users' exports
-- and check each is complete (the profile and every project), list and search the tenant,
-- while VU 1 erases the users of the erase set one by one, checking each receipt. verify()
-- then proves nothing of an erased user is returned anywhere: profile, export, login, the
-- users list, the projects list, search, the audit log; and that the export of every kept
-- user, erased and re-imported, gives the same data again. A broken promise is named on
-- stderr ("broken promise: erasure ...", "... export ...", "... portability ...").
--
-- Run against the built-in reference API:
--   tide run scenarios/sovereignty.lua --target
--   tide target --leaky-erasure     # or --incomplete-export; then, in another shell (exit 99):
--   tide run scenarios/sovereignty.lua --host http://127.0.0.1:5000
-- Against your backend (the /api of docs/target.md: /api/users, export, erasure, import):
--   TIDE_PASSWORD=secret tide run scenarios/sovereignty.lua --host https://staging.example.com
-- Environment: TIDE_USER (default demo: an admin), TIDE_PASSWORD (demo), TIDE_TENANT
-- (sovereignty).
local http = require "tide.http"
local tide = require "tide"
local metrics = require "tide.metrics"

local format, find = string.format, string.find

local USER <const> = tide.env("TIDE_USER", "demo")
local TENANT <const> = tide.env("TIDE_TENANT", "sovereignty")
local USERS <const> = 8    -- made by setup(); the even ones are erased under load
local PROJECTS <const> = 3 -- each user owns this many
local PER_PAGE <const> = 100

options = {
  vus = 4,
  duration = "20s",
  thresholds = {
    http_req_failed = { "rate<0.01" },
    checks = { "rate>0.99" },
  },
}

local erasures = metrics.counter("sovereignty_erasures")

local session = require "session" -- scenarios/lib/session.lua
local decode = session.decode

local function login(username, password)
  return session.login(username, password, { refusal_expected = true })
end

local function auth(token)
  return session.auth(token, TENANT)
end

local function admin_login()
  return login(USER, tide.env("TIDE_PASSWORD", "demo"))
end

-- The user's data as setup() made it: its marker and its projects' names.
local function make_user(admin, run, i)
  local u = {
    username = format("sov-%s-u%d", run, i),
    password = format("pw-%s-%x", run, math.random(0, 0x7fffffff)),
    email = format("sov-%s-u%d@example.org", run, i),
    full_name = format("Person %s %d", run, i),
    erase = i % 2 == 0,
    projects = {},
  }
  local res = http.post("/api/users", {
    name = "/api/users", headers = auth(admin),
    json = { username = u.username, password = u.password, email = u.email,
             full_name = u.full_name },
  })
  local body = decode(res)
  if res.status ~= 201 or not body then tide.abort("setup: cannot create user " .. i) end
  u.id = body.id
  local token = login(u.username, u.password)
  if not token then tide.abort("setup: cannot log in as user " .. i) end
  for k = 1, PROJECTS do
    local name = format("%s project %d", u.username, k)
    res = http.post("/api/projects", {
      name = "/api/projects", headers = auth(token),
      json = { name = name, description = "owned by " .. u.email },
    })
    if res.status ~= 201 then tide.abort("setup: cannot create a project") end
    u.projects[k] = name
  end
  return u
end

function setup()
  local admin = admin_login()
  if not admin then tide.abort("setup: cannot log in as " .. USER) end
  local run = format("%x%04x", os.time(), math.random(0, 0xffff))
  local data = { run = run, users = {} }
  for i = 1, USERS do data.users[i] = make_user(admin, run, i) end
  return data
end

-- True when the export document holds the user's profile and exactly its projects.
local function complete(doc, u)
  if type(doc) ~= "table" or type(doc.user) ~= "table" or type(doc.projects) ~= "table" then
    return false
  end
  if doc.user.username ~= u.username or doc.user.email ~= u.email or
      doc.user.full_name ~= u.full_name or #doc.projects ~= #u.projects then
    return false
  end
  local names = {}
  for _, p in ipairs(doc.projects) do names[p.name] = true end
  for _, name in ipairs(u.projects) do
    if not names[name] then return false end
  end
  return true
end

-- Per VU: its admin token; VU 1 erases the erase set on its first iteration.
local token

function vu_setup()
  token = admin_login()
  if not token then tide.fail("cannot log in") end
end

local function erase(u, headers)
  local res = http.delete("/api/users/" .. u.id, {
    name = "/api/users/{id}", headers = headers, expect = { 200, 404 },
  })
  local receipt = res.status == 200 and decode(res) or nil
  if receipt then erasures:add(1) end
  return res, receipt
end

function run(data)
  local h = auth(token)
  if tide.vu.id == 1 and tide.vu.iteration == 0 then
    for _, u in ipairs(data.users) do
      if u.erase then
        local res, receipt = erase(u, h)
        tide.check(res, {
          ["erasure answers with a receipt"] = receipt ~= nil and receipt.erased == true and
            receipt.user_id == u.id,
          ["the receipt counts the user's projects"] =
            receipt ~= nil and receipt.projects_deleted == PROJECTS,
        })
        tide.sleep(0.05) -- spread the erasures over the concurrent reads
      end
    end
  end
  -- reads of every user, erased or not, while the erasures go on
  local u = data.users[(tide.vu.id + tide.vu.iteration) % #data.users + 1]
  local res = http.get("/api/users/" .. u.id .. "/export", {
    name = "/api/users/{id}/export", headers = h, expect = u.erase and { 200, 404 } or 200,
  })
  if res.status == 200 then
    local doc = decode(res)
    tide.check(res, { ["an export holds the profile and every project"] = complete(doc, u) })
  end
  local found = http.get("/api/search", {
    name = "/api/search", headers = h, query = { q = data.run, limit = PER_PAGE },
  })
  tide.check(found, { ["search answers 200"] = found.status == 200 })
  tide.think(0.05, 0.2)
end

-- Every project of the tenant, page by page (at most 100 pages), or nil.
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

-- Where the erased user's markers (name, email) still show, as a list of route names.
local function traces(u, h, listed, users_body, audit_body)
  local seen, named = {}, {}
  local function look(where, text)
    if text and not named[where] and
        (find(text, u.username, 1, true) or find(text, u.email, 1, true)) then
      named[where] = true
      seen[#seen + 1] = where
    end
  end
  local profile = http.get("/api/users/" .. u.id, {
    name = "/api/users/{id}", headers = h, expect = { 404 },
  })
  if profile.status ~= 404 then seen[#seen + 1] = "GET /api/users/{id}" end
  local export = http.get("/api/users/" .. u.id .. "/export", {
    name = "/api/users/{id}/export", headers = h, expect = { 404 },
  })
  if export.status ~= 404 then seen[#seen + 1] = "GET /api/users/{id}/export" end
  if login(u.username, u.password) ~= nil then seen[#seen + 1] = "POST /api/auth/login" end
  local found = http.get("/api/search", {
    name = "/api/search", headers = h, query = { q = u.username, limit = PER_PAGE },
  })
  look("GET /api/search", found.body)
  local by_mail = http.get("/api/search", {
    name = "/api/search", headers = h, query = { q = u.email, limit = PER_PAGE },
  })
  look("GET /api/search (email)", by_mail.body)
  for _, p in ipairs(listed or {}) do
    look("GET /api/projects", p.name .. " " .. p.description)
  end
  look("GET /api/users", users_body)
  look("GET /api/audit", audit_body)
  return seen
end

local function erasure_verified(data, h)
  -- VU 1 may not have run (or finished): erase what is left, then look everywhere
  for _, u in ipairs(data.users) do
    if u.erase then erase(u, h) end
  end
  local listed = list_all(h)
  local users = http.get("/api/users", { name = "/api/users", headers = h })
  local audit = http.get("/api/audit", {
    name = "/api/audit", headers = h, query = { since = 0, limit = 1000 },
  })
  tide.check(listed, { ["the tenant's projects can be listed"] = listed ~= nil })
  for _, u in ipairs(data.users) do
    if u.erase then
      local seen = traces(u, h, listed, users.body, audit.body)
      tide.check(seen, { ["nothing of an erased user is returned by any route"] = #seen == 0 })
      if #seen > 0 then
        tide.log.error(format("broken promise: erasure: user %d still shows in %s", u.id,
          table.concat(seen, ", ")))
      end
    end
  end
end

local function export_verified(data, h)
  local docs = {}
  for _, u in ipairs(data.users) do
    if not u.erase then
      local res = http.get("/api/users/" .. u.id .. "/export", {
        name = "/api/users/{id}/export", headers = h,
      })
      local doc = res.status == 200 and decode(res) or nil
      local ok = complete(doc, u)
      tide.check(doc, { ["an export holds the profile and every project"] = ok })
      if not ok then
        tide.log.error(format("broken promise: export: user %d's export is incomplete (%s of %d "
          .. "projects)", u.id, doc and doc.projects and #doc.projects or "none", PROJECTS))
      end
      docs[u] = doc
    end
  end
  return docs
end

-- Portability: a kept user's export, erased and imported again, gives the same data.
local function portability_verified(data, h, docs)
  for _, u in ipairs(data.users) do
    local doc = docs[u]
    if doc then
      erase(u, h)
      local res = http.post("/api/users/import", {
        name = "/api/users/import", headers = h,
        json = { user = doc.user, projects = doc.projects, password = u.password },
      })
      local back = res.status == 201 and decode(res) or nil
      local same = back ~= nil and complete(back, u) and #back.projects == #doc.projects
      tide.check(res, { ["an export re-imported gives the same data"] = same })
      if not same then
        tide.log.error(format("broken promise: portability: user %d re-imported differs "
          .. "(status %d)", u.id, res.status))
      end
      if back and back.user then u.id = back.user.id end
      erase(u, h) -- cleanup
    end
  end
end

function verify(data)
  local admin = admin_login()
  if not tide.check(admin, { ["verify can log in"] = admin ~= nil }) then return end
  local h = auth(admin)
  erasure_verified(data, h)
  local docs = export_verified(data, h)
  portability_verified(data, h, docs)
end
