-- Login under load: many different users log in, use their token once, log out, and check
-- the token stops working; now and then someone types a wrong password. Shows per-endpoint
-- thresholds (the login must stay fast) and expected error statuses (401s that are the right
-- answer are not counted as failed requests). verify() checks that, after the load, every
-- user can still log in (no lockouts) and a logged-out token stays refused.
--
-- Run against the built-in reference API:
--   tide run scenarios/login.lua --target
--   tide run scenarios/login.lua --target --vus 50 --duration 2m
-- Against your backend (the same /api, see docs/scenarios.md):
--   tide run scenarios/login.lua --host https://staging.example.com
-- Users come from data/users.csv (username,password): the test accounts of the built-in
-- API. For your own accounts, point TIDE_USERS at another file below scenarios/ and leave
-- its password column empty to use TIDE_PASSWORD (read from the environment, never logged).
-- Environment: TIDE_USERS (default data/users.csv), TIDE_PASSWORD, TIDE_TENANT (login).
local http = require "tide.http"
local tide = require "tide"

local TENANT <const> = tide.env("TIDE_TENANT", "login")
local users = tide.data.csv(tide.env("TIDE_USERS", "data/users.csv"))

options = {
  vus = 10,
  duration = "30s",
  thresholds = {
    ["http_req_duration{name:/api/auth/login}"] = { "p(95)<300", "p(99)<800" },
    http_req_failed = { "rate<0.01" },
    checks = { "rate>0.99" },
  },
}

local function password_of(user)
  if user.password ~= nil and user.password ~= "" then return user.password end
  return tide.env("TIDE_PASSWORD", "demo")
end

local function login(user, password)
  return http.post("/api/auth/login", {
    name = "/api/auth/login",
    json = { username = user.username, password = password },
    expect = { 200, 401 }, -- a wrong password must be refused: that is not a failure
  })
end

local function projects(token)
  return http.get("/api/projects", {
    name = "/api/projects",
    headers = { Authorization = "Bearer " .. token, ["X-Tenant-ID"] = TENANT },
    query = { per_page = 1 },
    expect = { 200, 401 },
  })
end

function setup()
  if #users == 0 then tide.abort("no users in " .. tide.env("TIDE_USERS", "data/users.csv")) end
end

function run()
  -- VUs start at different users and walk through the list
  local user = users[(tide.vu.id * 7 + tide.vu.iteration) % #users + 1]

  if tide.vu.iteration % 10 == 9 then
    local wrong = login(user, "not-" .. password_of(user))
    tide.check(wrong, { ["a wrong password is refused with 401"] = wrong.status == 401 })
  end

  local res = login(user, password_of(user))
  local ok, body = pcall(res.json)
  if not tide.check(res, {
    ["login answers 200"] = res.status == 200,
    ["login returns a token that expires later"] = function()
      return ok and type(body.token) == "string" and (body.expires_in or 1) > 0
    end,
  }) then
    return
  end

  local before = projects(body.token)
  tide.check(before, { ["the token opens the API"] = before.status == 200 })

  tide.think(0.1, 0.5)

  local logout = http.post("/api/auth/logout", {
    name = "/api/auth/logout", headers = { Authorization = "Bearer " .. body.token },
  })
  tide.check(logout, { ["logout answers 204"] = logout.status == 204 })

  local after = projects(body.token)
  tide.check(after, { ["a logged-out token is refused with 401"] = after.status == 401 })
end

function verify()
  local locked = 0
  for _, user in ipairs(users) do
    local res = login(user, password_of(user))
    if res.status ~= 200 then
      locked = locked + 1
      tide.log.warn("cannot log in after the load:", user.username, "HTTP", res.status)
    end
  end
  tide.check(locked, { ["every user can still log in after the load"] = locked == 0 })

  local res = login(users[1], password_of(users[1]))
  local token = res.status == 200 and res.json().token
  if not token then return end
  http.post("/api/auth/logout", {
    name = "/api/auth/logout", headers = { Authorization = "Bearer " .. token },
  })
  local after = projects(token)
  tide.check(after, { ["a logged-out token stays refused"] = after.status == 401 })
end
