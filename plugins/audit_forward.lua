--- audit_forward: forwards tide's events to a collector (a team's SIEM), as RFC 5424 syslog
-- over TCP (octet-counting framing, RFC 6587) or UDP (one message per datagram), or as JSON
-- lines over TCP:
--   options = { plugins = { audit_forward = { url = "tcp://127.0.0.1:6514", format = "syslog" } } }
-- Each event's payload has passed tide's privacy filter before it gets here.
-- See docs/extending.md#audit_forward.
local tide = require "tide"
local json = tide.json

-- The part of a payload worth forwarding: test_end's summary is cut to the verdict.
local function brief(event, p)
  if event ~= "test_end" then return p end
  local m, out = p.metrics or {}, { run = p.run, thresholds = {} }
  for _, t in ipairs(p.thresholds or {}) do
    out.thresholds[#out.thresholds + 1] = { metric = t.metric, expression = t.expression,
      ok = t.ok }
  end
  out.requests = m.http_reqs and m.http_reqs.count or 0
  out.failed_rate = m.http_req_failed and m.http_req_failed.rate or 0
  return out
end

local function severity(event, p)
  if event == "test_end" then return (p.run or {}).status == "passed" and 6 or 3 end
  if event == "threshold_crossed" or event == "check_failed" or event == "error_burst" or
    event == "generator_saturated" then return 4 end
  return 6
end

-- RFC 5424 structured-data parameter values escape ", \ and ].
local function sd_escape(s) return (tostring(s):gsub('[%]"\\]', "\\%0")) end

local function syslog(opts, event, p, run_id)
  local pri = opts.facility * 8 + severity(event, p)
  local sd = string.format('[tide@32473 event="%s" run="%s"]', sd_escape(event),
    sd_escape(run_id or "-"))
  return string.format("<%d>1 %s %s %s - %s %s %s", pri, os.date("!%Y-%m-%dT%H:%M:%SZ"),
    opts.hostname, opts.app_name, event, sd, json.encode(brief(event, p)))
end

return {
  name = "audit_forward",
  version = "1.0.0",
  options = {
    url = { type = "string", required = true },
    format = { type = "string", enum = { "syslog", "jsonl" }, default = "syslog" },
    events = { type = "list", enum = tide.hooks.events, default = tide.hooks.events },
    app_name = { type = "string", default = "tide" },
    hostname = { type = "string", default = "tide" },
    facility = { type = "number", default = 16 }, -- local0
    required = { type = "boolean", default = false },
  },
  setup = function(opts, api)
    if not opts.url:match("^tcp://") and not opts.url:match("^udp://") then
      error("plugin audit_forward: url must be tcp://host:port or udp://host:port", 0)
    end
    if opts.format == "jsonl" and opts.url:match("^udp://") then
      error("plugin audit_forward: JSON lines go over tcp://", 0)
    end
    local run_id
    for _, event in ipairs(opts.events) do
      api.hooks.on(event, function(p)
        if event == "test_start" then run_id = p.id end
        local msg
        if opts.format == "jsonl" then
          msg = json.encode({ time = os.date("!%Y-%m-%dT%H:%M:%SZ"), event = event, run = run_id,
            payload = brief(event, p) }) .. "\n"
        else
          msg = syslog(opts, event, p, run_id)
          if opts.url:match("^tcp://") then msg = #msg .. " " .. msg end -- octet counting
        end
        tide.net.send(opts.url, msg)
        return true
      end, { required = opts.required, name = "audit_forward:" .. event })
    end
  end,
}
