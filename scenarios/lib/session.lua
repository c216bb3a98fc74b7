-- session.lua: logging in to the reference API (docs/target.md) and the headers of a logged-in
-- user, shared by the scenarios that act as several users (security, sovereignty, audit).
-- A scenario finds it with `require "session"`: modules are looked up in the scenario's
-- folder, its plugins/ and its lib/ (docs/scenario-api.md#sandbox-rules).
local http = require "tide.http"

local M = {}

--- The response's JSON body, or nil when it is not JSON.
function M.decode(res)
  local ok, body = pcall(res.json)
  return ok and body or nil
end

--- POST /api/auth/login: the token, or nil when refused. opts.ttl asks for a token that
-- expires sooner; opts.refusal_expected counts a 401 as an expected answer (not a failed
-- request), for scenarios that try logins meant to fail.
function M.login(username, password, opts)
  opts = opts or {}
  local res = http.post("/api/auth/login", {
    name = "/api/auth/login",
    json = { username = username, password = password, ttl = opts.ttl },
    expect = opts.refusal_expected and { 200, 401 } or nil,
  })
  local body = res.status == 200 and M.decode(res) or nil
  return body and body.token or nil
end

--- The headers of a user logged in with 'token', acting in 'tenant'.
function M.auth(token, tenant)
  return { Authorization = "Bearer " .. token, ["X-Tenant-ID"] = tenant }
end

return M
