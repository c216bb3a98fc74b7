--- slo: service level objectives as error budgets (SRE practice), turned into thresholds that
-- fail the run and a report section with the budget consumed and the burn rates.
--   options = { plugins = { slo = { objectives = {
--     { name = "availability", target = 99.5 },                       -- http_req_failed
--     { name = "latency", target = 99, latency_ms = 300 },            -- http_req_duration
--   } } } }
-- An availability objective of T % leaves an error budget b = 1 - T/100. Thresholds: the
-- whole run stays within the budget (http_req_failed rate < b), and over each burn-rate
-- window the budget burns slower than its factor (rate < b × burn over WINDOW); the default
-- windows are short enough for a load test. A latency objective becomes p(T) < latency_ms.
-- See docs/extending.md#slo.
local function fmt(x) return string.format("%.6g", x) end

return {
  name = "slo",
  version = "1.0.0",
  options = {
    objectives = { type = "list", required = true },
    windows = { type = "list", default = {
      { window = "30s", burn = 14.4 },
      { window = "60s", burn = 6 },
    } },
  },
  setup = function(opts, api)
    local rows = {}
    for i, o in ipairs(opts.objectives) do
      if type(o) ~= "table" or type(o.target) ~= "number" or o.target <= 0 or o.target >= 100 then
        error("plugin slo: objectives[" .. i .. "]: expected { name, target = 0 < percent < 100 }", 0)
      end
      local name = o.name or ("objective " .. i)
      if o.latency_ms then
        local expr = "p(" .. fmt(o.target) .. ")<" .. fmt(o.latency_ms)
        api.threshold("http_req_duration", expr)
        rows[#rows + 1] = { name = name, kind = "latency", target = o.target, expr = expr,
          metric = "http_req_duration" }
      else
        local budget = 1 - o.target / 100
        local exprs = { "rate<" .. fmt(budget) }
        for _, w in ipairs(opts.windows) do
          exprs[#exprs + 1] = "rate<" .. fmt(budget * w.burn) .. " over " .. w.window
        end
        for _, e in ipairs(exprs) do api.threshold("http_req_failed", e) end
        rows[#rows + 1] = { name = name, kind = "availability", target = o.target,
          budget = budget, exprs = exprs, metric = "http_req_failed" }
      end
    end

    api.summary("Service level objectives", function(s)
      local out = {}
      local by = {}
      for _, t in ipairs(s.thresholds or {}) do by[t.metric .. " " .. t.expression] = t end
      for _, r in ipairs(rows) do
        if r.kind == "latency" then
          local t = by[r.metric .. " " .. r.expr] or {}
          out[#out + 1] = { r.name, string.format("%s: %s (observed %s ms)", r.expr,
            t.ok and "met" or "missed", tostring(t.observed)) }
        else
          local m = s.metrics and s.metrics.http_req_failed or {}
          local rate = m.rate or 0
          out[#out + 1] = { r.name, string.format(
            "target %s%%, error budget %s, observed error rate %s: %.1f%% of the budget used (burn rate %.2f)",
            fmt(r.target), fmt(r.budget), fmt(rate), rate / r.budget * 100, rate / r.budget) }
          for k = 2, #r.exprs do
            local t = by[r.metric .. " " .. r.exprs[k]] or {}
            out[#out + 1] = { r.name .. " burn window", string.format("%s: %s", r.exprs[k],
              t.ok == false and "alert (budget burning too fast)" or "ok") }
          end
        end
      end
      return out
    end)
  end,
}
