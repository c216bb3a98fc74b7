-- examples/slo.lua: the slo plugin on the built-in API: 99.5 % of requests succeed, 95 % are
-- under 300 ms. Run: tide run examples/slo.lua --target
local http = require "tide.http"

options = {
  vus = 5,
  duration = "20s",
  plugins = { slo = { objectives = {
    { name = "availability", target = 99.5 },
    { name = "latency", target = 95, latency_ms = 300 },
  }, windows = { { window = "5s", burn = 14.4 }, { window = "10s", burn = 6 } } } },
}

function run()
  http.get("/echo?item=42", { name = "/echo" })
  http.get("/health")
end
