-- A business hook: log (and, with TIDE_ALERT_URL, post) every threshold the moment it is
-- crossed, while the test is still running. Load it with --plugin.
local http = require "tide.http"
local tide = require "tide"

tide.hooks.on("threshold_crossed", function(t)
  tide.log.warn("threshold crossed: " .. t.metric .. " " .. t.expression ..
    " (observed " .. tostring(t.observed) .. ")")
  local url = tide.env("TIDE_ALERT_URL")
  if url then http.post(url, { json = t, timeout = 5 }) end
end)
