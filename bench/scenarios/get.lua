-- throughput.sh: a plain GET loop; PATH_ (env, default "/") picks the route.
-- discard_body: the body is counted but not copied into Lua, as wrk, ab and autocannon do.
local http = require "tide.http"
local tide = require "tide"
local path = tide.env("PATH_", "/")
function run()
  http.get(path, { discard_body = true })
end
