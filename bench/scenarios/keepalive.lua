-- memory.sh: VUs that each hold an idle keep-alive connection: one GET, then THINK seconds
-- (env, default 5) of sleep before the next. Run with --vus N --duration D.
local http = require "tide.http"
local tide = require "tide"
local think = tonumber(tide.env("THINK", "5"))
function run()
  http.get("/", { discard_body = true })
  tide.sleep(think)
end
