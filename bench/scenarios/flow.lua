-- flow.sh: a 2-step flow per iteration: log in (POST JSON, read the token from the JSON
-- answer), then GET an item with the token and check its answer.
local http = require "tide.http"
local tide = require "tide"
function run()
  local login = http.post("/api/login", { json = { user = "alice", password = "secret" } })
  local token = login.json().token
  local item = http.get("/api/items/1", { headers = { Authorization = "Bearer " .. token } })
  tide.check(item, {
    ["item is 200"] = function(r) return r.status == 200 end,
    ["item has an id"] = function(r) return r.body:find('"id":1', 1, true) ~= nil end,
  })
end
