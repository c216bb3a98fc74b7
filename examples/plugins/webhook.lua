-- A business hook: when the test ends, POST its verdict and key figures to a webhook
-- (chat, incident tool, dashboard). Load it with:
--   TIDE_WEBHOOK_URL=https://hooks.example/... tide run scenarios/crud.lua --plugin examples/plugins/webhook.lua
-- The URL is read through tide.env, so it is treated as a secret and redacted from every report.
local http = require "tide.http"
local tide = require "tide"

tide.hooks.on("test_end", function(summary)
  local url = tide.env("TIDE_WEBHOOK_URL")
  if not url then return end
  local m = summary.metrics
  local res = http.post(url, { json = {
    run = summary.run.id,
    status = summary.run.status,
    requests = m.http_reqs and m.http_reqs.count or 0,
    p95_ms = m.http_req_duration and m.http_req_duration.p95 or nil,
    failed_rate = m.http_req_failed and m.http_req_failed.rate or 0,
  }, timeout = 10 })
  if res.status < 200 or res.status >= 300 then
    error("webhook answered " .. tostring(res.status))
  end
end)
