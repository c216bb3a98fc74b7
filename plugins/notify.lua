--- notify: posts a message to a webhook on chosen events, in the format of the receiving
-- chat: generic JSON, Slack-compatible, Microsoft Teams (Adaptive Card) or Matrix.
--   options = { plugins = { notify = { url_env = "CHAT_WEBHOOK", preset = "slack",
--                                      events = { "test_end" }, only_failed = true } } }
-- The URL (and Matrix token) are best given through environment variables (url_env,
-- token_env): tide.env values are secrets, redacted from every output. Every payload tide
-- hands to a hook has passed the privacy filter already. See docs/extending.md#notify.
local http = require "tide.http"
local tide = require "tide"

local function text_of(event, p)
  if event == "test_end" then
    local run, m = p.run or {}, p.metrics or {}
    local reqs = m.http_reqs and m.http_reqs.count or 0
    local p95 = m.http_req_duration and m.http_req_duration.p95
    local failed = m.http_req_failed and m.http_req_failed.rate or 0
    local s = string.format("tide run %s: %s (exit %s)", tostring(run.id), tostring(run.status),
      tostring(run.exit_code))
    if run.reason and run.reason ~= tide.json.null then s = s .. ": " .. tostring(run.reason) end
    s = s .. string.format("; %d requests, %.1f%% failed", reqs, failed * 100)
    if p95 then s = s .. string.format(", p95 %.1f ms", p95) end
    return s
  elseif event == "threshold_crossed" or event == "threshold_recovered" then
    return string.format("tide: %s %s %s (observed %s)", event:gsub("_", " "), tostring(p.metric),
      tostring(p.expression), tostring(p.observed))
  elseif event == "report_written" then
    return string.format("tide run %s: report written in %s (%d files)", tostring(p.id),
      tostring(p.dir), #(p.files or {}))
  end
  return "tide: " .. event .. " " .. tide.json.encode(p):sub(1, 500)
end

local function failed(event, p)
  if event == "test_end" then return (p.run or {}).status ~= "passed" end
  if event == "report_written" then return p.status ~= "passed" end
  return event ~= "threshold_recovered" and event ~= "test_start" and event ~= "scenario_start"
end

local presets = {}

function presets.json(opts, url, event, text, p)
  local body = { event = event, text = text }
  if event == "test_end" then
    local run = p.run or {}
    body.run, body.status, body.exit_code = run.id, run.status, run.exit_code
    body.failed_checks = {}
    for _, c in ipairs(p.checks or {}) do
      if (c.fails or 0) > 0 then body.failed_checks[#body.failed_checks + 1] = c.name end
    end
  else
    body.payload = p
  end
  return "POST", url, body
end

function presets.slack(opts, url, event, text)
  return "POST", url, { text = text,
    blocks = { { type = "section", text = { type = "mrkdwn", text = text } } } }
end

function presets.teams(opts, url, event, text)
  return "POST", url, { type = "message", attachments = { {
    contentType = "application/vnd.microsoft.card.adaptive",
    content = { ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
      type = "AdaptiveCard", version = "1.4",
      body = { { type = "TextBlock", text = "tide: " .. event, weight = "Bolder" },
               { type = "TextBlock", text = text, wrap = true } } } } } }
end

local txn = 0
function presets.matrix(opts, url, event, text)
  txn = txn + 1
  local id = string.format("tide-%d-%d", os.time(), txn)
  return "PUT", url .. "/send/m.room.message/" .. id, { msgtype = "m.text", body = text }
end

return {
  name = "notify",
  version = "1.0.0",
  options = {
    url = { type = "string" },
    url_env = { type = "string" },
    preset = { type = "string", enum = { "json", "slack", "teams", "matrix" }, default = "json" },
    events = { type = "list", enum = tide.hooks.events, default = { "test_end" } },
    only_failed = { type = "boolean", default = false },
    token_env = { type = "string" },
    required = { type = "boolean", default = false },
    timeout = { type = "number", default = 10 },
  },
  setup = function(opts, api)
    if not opts.url and not opts.url_env then
      error("plugin notify: give url or url_env (an environment variable holding the URL)", 0)
    end
    for _, event in ipairs(opts.events) do
      api.hooks.on(event, function(p)
        if opts.only_failed and not failed(event, p) then return true end
        local url = opts.url or api.env(opts.url_env)
        if not url then error("notify: " .. opts.url_env .. " is not set") end
        local method, to, body = presets[opts.preset](opts, url, event, text_of(event, p), p)
        local headers = {}
        if opts.token_env then
          local token = api.env(opts.token_env)
          if token then headers.Authorization = "Bearer " .. token end
        end
        local res = http.request(method, to, { json = body, headers = headers,
          timeout = opts.timeout })
        if res.status < 200 or res.status >= 300 then
          error("notify (" .. opts.preset .. "): the webhook answered " .. tostring(res.status))
        end
        return true
      end, { required = opts.required, name = "notify:" .. event })
    end
  end,
}
