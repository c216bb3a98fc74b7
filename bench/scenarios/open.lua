-- openmodel.sh: one GET per iteration, started at a fixed arrival rate (--rate N).
local http = require "tide.http"
function run()
  http.get("/", { discard_body = true })
end
