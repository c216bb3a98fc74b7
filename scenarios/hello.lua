-- scenarios/hello.lua: a logged-in user lists projects.
local http = require "tide.http"
local tide = require "tide"

options = {
  thresholds = {
    http_req_duration = { "p(95)<300" },      -- ms
    http_req_failed   = { "rate<0.01" },
    checks            = { "rate>0.99" },
  },
}

function vu_setup()   -- once per VU
  local res = http.post("/api/auth/login",
    { json = { username = "demo", password = tide.env("TIDE_PASSWORD", "demo") } })
  token = res:json().token   -- globals are per VU
end

function run()        -- one iteration
  local res = http.get("/api/projects",
    { headers = { Authorization = "Bearer " .. token, ["X-Tenant-ID"] = "acme" } })
  tide.check(res, { ["list is 200"] = function(r) return r.status == 200 end })
  tide.think(0.5, 1.5)
end
