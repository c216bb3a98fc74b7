-- Security under load: an authorisation matrix (who may read and write what), token expiry
-- and reuse after logout, the rate limit (429 with Retry-After, respected), and
-- injection-shaped inputs. setup() makes, through the admin API, members and an admin bound to
-- tenant A and a member of tenant B, each owning a project; every iteration then tries the
-- matrix's cells as these users: no token and a forged token get 401, a member changing
-- another member's project, reading another user's export or the audit log gets 403, a user
-- of tenant B is refused in tenant A (403) and never sees A's projects or users (404), while
-- the owner and the admin are allowed. verify() walks the whole matrix once more, one request
-- at a time, and names the promise that broke ("broken promise: authorisation ..."), then
-- erases the users it made.
--
-- Run against the built-in reference API:
--   tide run scenarios/security.lua --target
--   tide target --broken-authz      # and in another shell, to see verify() catch it (exit 99):
--   tide run scenarios/security.lua --host http://127.0.0.1:5000
-- Against your backend (the /api of docs/target.md: roles, POST /api/users, /api/limited):
--   TIDE_PASSWORD=secret tide run scenarios/security.lua --host https://staging.example.com
-- Environment: TIDE_USER (default demo: an admin in every tenant), TIDE_PASSWORD (demo).
local http = require "tide.http"
local tide = require "tide"

local format = string.format

local USER <const> = tide.env("TIDE_USER", "demo")
local TENANT_A <const> = "sec-a"
local TENANT_B <const> = "sec-b"
local RATE_TRIES <const> = 20 -- requests to GET /api/limited before a 429 must have come

options = {
  vus = 4,
  duration = "20s",
  thresholds = {
    http_req_failed = { "rate<0.01" },
    checks = { "rate>0.99" },
  },
}

local session = require "session" -- scenarios/lib/session.lua
local decode, auth = session.decode, session.auth

local function login(username, password, ttl)
  return session.login(username, password, { ttl = ttl, refusal_expected = true })
end

function setup()
  local admin = login(USER, tide.env("TIDE_PASSWORD", "demo"))
  if not admin then tide.abort("setup: cannot log in as " .. USER) end
  local run = format("%x%04x", os.time(), math.random(0, 0xffff))
  local data = { run = run, users = {}, projects = {} }
  local plan = {
    { key = "a1", tenant = TENANT_A, role = "member" },
    { key = "a2", tenant = TENANT_A, role = "member" },
    { key = "admin_a", tenant = TENANT_A, role = "admin" },
    { key = "b1", tenant = TENANT_B, role = "member" },
  }
  for _, p in ipairs(plan) do
    local u = { username = format("sec-%s-%s", run, p.key), tenant = p.tenant, role = p.role,
                password = format("pw-%s-%x", run, math.random(0, 0x7fffffff)) }
    local res = http.post("/api/users", {
      name = "/api/users", headers = auth(admin, p.tenant),
      json = { username = u.username, password = u.password, role = p.role },
    })
    local body = decode(res)
    if res.status ~= 201 or not body then tide.abort("setup: cannot create " .. p.key) end
    u.id = body.id
    data.users[p.key] = u
    -- each member owns a project in its tenant
    local token = login(u.username, u.password)
    if not token then tide.abort("setup: cannot log in as " .. p.key) end
    res = http.post("/api/projects", {
      name = "/api/projects", headers = auth(token, p.tenant),
      json = { name = format("sec-%s-%s-project", run, p.key) },
    })
    body = decode(res)
    if res.status ~= 201 or not body then tide.abort("setup: cannot create a project") end
    data.projects[p.key] = body.id
  end
  data.admin_token = admin
  return data
end

-- Per VU: a token per user of the matrix.
local tokens = {}

function vu_setup(data)
  for key, u in pairs(data.users) do
    tokens[key] = login(u.username, u.password)
    if not tokens[key] then tide.fail("cannot log in as " .. key) end
  end
end

-- The matrix: each cell is a request by one user and the statuses that keep the promise.
-- 'promise' names what breaks when the answer is wrong.
local function cells(data)
  local p, u = data.projects, data.users
  local pa1 = "/api/projects/" .. p.a1
  return {
    { "no token gets 401", nil, TENANT_A, "GET", "/api/projects", "/api/projects", { 401 } },
    { "a forged token gets 401", "forged", TENANT_A, "GET", "/api/projects", "/api/projects",
      { 401 } },
    { "the owner may change its project", "a1", TENANT_A, "PATCH", pa1, "/api/projects/{id}",
      { 200 }, { description = "owner" } },
    { "a member cannot change another member's project (403)", "a2", TENANT_A, "PATCH", pa1,
      "/api/projects/{id}", { 403 }, { description = "not mine" } },
    { "a member cannot delete another member's project (403)", "a2", TENANT_A, "DELETE", pa1,
      "/api/projects/{id}", { 403 } },
    { "an admin may change a member's project", "admin_a", TENANT_A, "PATCH", pa1,
      "/api/projects/{id}", { 200 }, { description = "admin" } },
    { "a member cannot read another user's export (403)", "a2", TENANT_A, "GET",
      "/api/users/" .. u.a1.id .. "/export", "/api/users/{id}/export", { 403 } },
    { "a user may read its own export", "a1", TENANT_A, "GET",
      "/api/users/" .. u.a1.id .. "/export", "/api/users/{id}/export", { 200 } },
    { "a member cannot read the audit log (403)", "a2", TENANT_A, "GET", "/api/audit",
      "/api/audit", { 403 } },
    { "a member cannot create users (403)", "a2", TENANT_A, "POST", "/api/users", "/api/users",
      { 403 }, { username = "sec-" .. data.run .. "-intruder", password = "x" } },
    { "an admin may read a member's profile", "admin_a", TENANT_A, "GET",
      "/api/users/" .. u.a1.id, "/api/users/{id}", { 200 } },
    { "a user of another tenant is refused (403)", "b1", TENANT_A, "GET", "/api/projects",
      "/api/projects", { 403 } },
    { "another tenant's project is not found (404)", "b1", TENANT_B, "GET", pa1,
      "/api/projects/{id}", { 404 } },
    { "another tenant's admin cannot see the user (404)", "admin_a", TENANT_A, "GET",
      "/api/users/" .. u.b1.id, "/api/users/{id}", { 404 } },
  }
end

local function try(cell, token_of)
  local _, who, tenant, method, path, name, allowed, body = table.unpack(cell)
  local headers = { ["X-Tenant-ID"] = tenant }
  if who == "forged" then
    headers.Authorization = "Bearer 0123456789abcdef0123456789abcdef"
  elseif who ~= nil then
    headers.Authorization = "Bearer " .. (token_of(who) or "none")
  end
  local res = http.request(method, path, {
    name = name, headers = headers, json = body, expect = { 200, 201, 204, 401, 403, 404 },
  })
  for _, s in ipairs(allowed) do
    if res.status == s then return true, res end
  end
  return false, res
end

-- Inputs shaped like attacks: each must be answered, and never with a 5xx.
local HOSTILE <const> = {
  "' OR '1'='1", "1; DROP TABLE projects; --", "<script>alert(1)</script>",
  "../../../../etc/passwd", "${jndi:ldap://127.0.0.1/a}", "%00%0d%0aSet-Cookie: x=y",
  "{{7*7}}", "\\\"}, {\\\"admin\\\": true", string.rep("A", 1000),
}

local function injections(token, vu, it, run)
  local h = auth(token, TENANT_A)
  for k, s in ipairs(HOSTILE) do
    local found = http.get("/api/search", {
      name = "/api/search", headers = h, query = { q = s }, expect = { 200, 422 },
    })
    local made = http.post("/api/projects", {
      name = "/api/projects", headers = h, expect = { 201, 409, 422 },
      json = { name = format("sec-%s-vu%d-it%d-%d %s", run, vu, it, k, s:sub(1, 150)),
               description = s },
    })
    local body = made.status == 201 and decode(made) or nil
    tide.check(found, {
      ["an injection-shaped input is answered without a 5xx"] =
        found.status > 0 and found.status < 500 and made.status > 0 and made.status < 500,
      ["an injection-shaped name is stored as sent"] =
        body == nil or body.description == s,
    })
    if body then
      http.delete("/api/projects/" .. body.id, { name = "/api/projects/{id}", headers = h })
    end
  end
end

-- A token past its lifetime and a logged-out token are refused.
local function token_lifecycle(u)
  local short = login(u.username, u.password, 1)
  local expired = nil
  if short then
    tide.sleep(1.2)
    expired = http.get("/api/projects", {
      name = "/api/projects", headers = auth(short, u.tenant), expect = 401,
    })
  end
  local token = login(u.username, u.password)
  local reused = nil
  if token then
    http.post("/api/auth/logout", {
      name = "/api/auth/logout", headers = { Authorization = "Bearer " .. token },
    })
    reused = http.get("/api/projects", {
      name = "/api/projects", headers = auth(token, u.tenant), expect = 401,
    })
  end
  tide.check(expired, {
    ["an expired token is refused (401)"] = expired ~= nil and expired.status == 401,
    ["a token is refused after logout (401)"] = reused ~= nil and reused.status == 401,
  })
end

-- Calls GET /api/limited until a 429 comes, waits its Retry-After, and calls again.
local function rate_limit(token, tenant)
  local refused
  for _ = 1, RATE_TRIES do
    local res = http.get("/api/limited", {
      name = "/api/limited", headers = auth(token, tenant), expect = { 200, 429 },
    })
    if res.status == 429 then
      refused = res
      break
    end
  end
  local wait = refused and tonumber(refused.headers["Retry-After"]) or nil
  tide.check(refused, {
    ["the rate limit answers 429"] = refused ~= nil,
    ["a 429 says when to retry (Retry-After)"] = wait ~= nil and wait >= 0 and wait <= 60,
  })
  if not wait then return end
  tide.sleep(wait + 0.1)
  local again = http.get("/api/limited", {
    name = "/api/limited", headers = auth(token, tenant), expect = { 200, 429 },
  })
  tide.check(again, { ["after Retry-After the request is allowed"] = again.status == 200 })
end

function run(data)
  local token_of = function(key) return tokens[key] end
  for _, cell in ipairs(cells(data)) do
    local ok = try(cell, token_of)
    tide.check(ok, { [cell[1]] = ok })
  end
  if tokens.a1 then
    injections(tokens.a1, tide.vu.id, tide.vu.iteration, data.run)
  end
  if tide.vu.iteration == 0 then
    token_lifecycle(data.users.a2)
    if tokens.b1 then rate_limit(tokens.b1, TENANT_B) end
  end
  tide.think(0.05, 0.2)
end

function verify(data)
  local admin = login(USER, tide.env("TIDE_PASSWORD", "demo"))
  if not tide.check(admin, { ["verify can log in"] = admin ~= nil }) then return end
  local fresh = {}
  for key, u in pairs(data.users) do fresh[key] = login(u.username, u.password) end
  local broken = {}
  for _, cell in ipairs(cells(data)) do
    local ok, res = try(cell, function(key) return fresh[key] end)
    tide.check(res, { [cell[1]] = ok })
    if not ok then broken[#broken + 1] = format("%s (got %d)", cell[1], res.status) end
  end
  for _, line in ipairs(broken) do
    tide.log.error("broken promise: authorisation: " .. line)
  end
  -- cleanup: erasing a user removes its projects too
  for _, u in pairs(data.users) do
    http.delete("/api/users/" .. u.id, {
      name = "/api/users/{id}", headers = auth(admin, u.tenant), expect = { 200, 404 },
    })
  end
end
