/* report.js: builds report.html's sections from the summary embedded in #tide-data (tide).
 * Every string from the summary reaches the page through textContent or a text node, never
 * parsed as HTML: error messages carry server responses and must stay inert text. */
(function () {
  "use strict";

  var INITIAL = JSON.parse(document.getElementById("tide-data").textContent);
  window.tideReport = { charts: {}, ready: false, updates: 0, final: false };

  /* The whole page from one summary: called once for a report, and again for every update
   * of the live dashboard (S.live), after the previous page's charts are destroyed. */
  function page(S) {
  var app = document.getElementById("app");
  var run = S.run || {};
  var metrics = S.metrics || {};
  var history = Array.isArray(S.history) ? S.history : [];
  var charts = {};
  window.tideReport.charts = charts;

  /* Time axis steps, in seconds: history rows are one second apart. */
  var TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
                    21600, 43200, 86400];
  /* Locust's percentile columns (its stats table and stats.csv) */
  var LOCUST_PCTS = ["50", "66", "75", "80", "90", "95", "98", "99", "99.9", "99.99", "100"];
  var COLORS = ["#2563eb", "#d97706", "#7c3aed", "#0d9488", "#db2777", "#65a30d",
                "#0891b2", "#9333ea", "#ea580c", "#475569"];

  /* ---- DOM helpers: text only ---- */
  function h(tag, props) {
    var e = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        if (k === "class") e.className = props[k];
        else if (k === "text") e.textContent = props[k];
        else e.setAttribute(k, props[k]);
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var kid = arguments[i];
      if (kid === null || kid === undefined) continue;
      e.appendChild(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return e;
  }

  function num(v) {
    return typeof v === "number" && isFinite(v) ? v : null;
  }

  /* ---- formatting ---- */
  function fmtMs(v) {
    v = num(v);
    if (v === null) return "\u2013";
    if (v >= 10000) return (v / 1000).toFixed(1) + " s";
    if (v >= 1000) return (v / 1000).toFixed(2) + " s";
    if (v >= 100) return v.toFixed(0) + " ms";
    if (v >= 10) return v.toFixed(1) + " ms";
    return v.toFixed(2) + " ms";
  }
  function fmtInt(v) {
    v = num(v);
    return v === null ? "\u2013" : Math.round(v).toLocaleString("en-US");
  }
  function fmtNum(v) {
    v = num(v);
    if (v === null) return "\u2013";
    if (Math.abs(v) >= 1000 || Number.isInteger(v)) return fmtInt(v);
    return v.toFixed(Math.abs(v) >= 10 ? 1 : Math.abs(v) >= 1 ? 2 : 3);
  }
  /* Six significant digits: what a threshold's observed value is compared with. */
  function fmtExact(v) {
    v = num(v);
    return v === null ? "\u2013" : String(Number(v.toPrecision(6)));
  }
  function fmtRate(v) {
    v = num(v);
    return v === null ? "\u2013" : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2);
  }
  function fmtPct(x) {
    x = num(x);
    return x === null ? "\u2013" : (x * 100).toFixed(x > 0 && x < 0.0001 ? 4 : 2) + " %";
  }
  function fmtBytes(v) {
    v = num(v);
    if (v === null) return "\u2013";
    var units = ["B", "kB", "MB", "GB", "TB"];
    var i = 0;
    while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
    return (i === 0 ? v.toFixed(0) : v.toFixed(v >= 100 ? 0 : 1)) + " " + units[i];
  }
  function fmtDuration(s) {
    s = num(s);
    if (s === null) return "\u2013";
    if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + " s";
    var hrs = Math.floor(s / 3600), min = Math.floor(s % 3600 / 60), sec = Math.round(s % 60);
    return (hrs ? hrs + "h " : "") + min + "m " + sec + "s";
  }
  function fmtTime(iso) {
    if (typeof iso !== "string") return "\u2013";
    var t = Date.parse(iso);
    if (isNaN(t)) return iso;
    return new Date(t).toISOString().replace("T", " ").replace(/\.\d+Z$/, "").replace(/Z$/, "") + " UTC";
  }
  function fmtMetric(m, v) {
    if (m && m.contains === "time") return fmtMs(v);
    if (m && m.contains === "data") return fmtBytes(v);
    return fmtNum(v);
  }

  /* ---- building blocks ---- */
  function section(title, count) {
    var id = "sec-" + title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/-$/, "");
    var s = h("section", { id: id }, h("h2", null, title,
      count === undefined ? null : h("span", { class: "count", text: " (" + count + ")" })));
    app.appendChild(s);
    return s;
  }
  function badge(ok, text) {
    return h("span", { class: "badge " + (ok ? "pass" : "fail"), text: text || (ok ? "pass" : "fail") });
  }

  /* A table whose headers sort it. cols: {label, get(row) for sorting, show(row) -> text or
   * Node, cls}; opts.total: a row kept last; opts.sort: [column index, direction]. */
  function table(cols, rows, opts) {
    opts = opts || {};
    var tbody = h("tbody");
    var ths = cols.map(function (c, i) {
      var th = h("th", { scope: "col", class: c.cls === "num" ? "num" : "" },
                 h("button", { type: "button", text: c.label }));
      th.firstChild.addEventListener("click", function () { sortBy(i); });
      return th;
    });
    var state = { col: -1, dir: 1 };
    function cell(c, r) {
      var v = c.show ? c.show(r) : c.get(r);
      return h("td", { class: c.cls || "" }, v instanceof Node ? v : String(v));
    }
    function render(list) {
      tbody.textContent = "";
      list.forEach(function (r) { tbody.appendChild(h.apply(null, ["tr", null].concat(cols.map(function (c) { return cell(c, r); })))); });
      if (opts.total) {
        var tr = h.apply(null, ["tr", { class: "total" }].concat(cols.map(function (c) { return cell(c, opts.total); })));
        tbody.appendChild(tr);
      }
    }
    function sortBy(i, dir) {
      state.dir = dir !== undefined ? dir : state.col === i ? -state.dir : (cols[i].cls === "num" ? -1 : 1);
      state.col = i;
      ths.forEach(function (th, j) {
        if (j === i) th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
        else th.removeAttribute("aria-sort");
      });
      var get = cols[i].get;
      var sorted = rows.slice().sort(function (a, b) {
        var x = get(a), y = get(b);
        if (x === y) return 0;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        if (typeof x === "number" && typeof y === "number") return (x - y) * state.dir;
        return String(x).localeCompare(String(y)) * state.dir;
      });
      render(sorted);
    }
    if (opts.sort) sortBy(opts.sort[0], opts.sort[1]);
    else render(rows);
    return h("div", { class: "card table-wrap" },
             h("table", null, h("thead", null, h.apply(null, ["tr", null].concat(ths))), tbody));
  }

  /* ---- header facts and notices ---- */
  function facts() {
    var tool = S.tool || {};
    var peaks = [metrics.vus_max && metrics.vus_max.max, metrics.vus_max && metrics.vus_max.value,
                 metrics.vus && metrics.vus.max].filter(function (v) { return num(v) !== null; });
    var vusMax = peaks.length ? Math.max.apply(null, peaks) : null;
    var items = [
      ["Scenario", run.scenario_file],
      ["Target", run.host],
      ["Started", fmtTime(run.start)],
      ["Ended", fmtTime(run.end)],
      ["Measured", fmtDuration(run.duration_s) + (run.warmup_s ? " (after " + fmtDuration(run.warmup_s) + " warm-up)" : "")],
      ["Peak VUs", fmtInt(vusMax)],
      ["Threads", fmtInt(run.threads)],
      ["Exit code", run.exit_code === undefined ? null : String(run.exit_code)],
      ["tide", [tool.version, tool.git].filter(Boolean).join(" \u00b7 ")]
    ];
    var dl = h("dl", { class: "facts card" });
    items.forEach(function (it) {
      if (it[1] === null || it[1] === undefined || it[1] === "") return;
      dl.appendChild(h("div", null, h("dt", { text: it[0] }), h("dd", { text: String(it[1]) })));
    });
    app.appendChild(h("section", null, dl));
    var notes = [];
    if (run.abort_reason) notes.push(["warn", "Run aborted: " + run.abort_reason]);
    if (run.status === "interrupted") notes.push(["warn", "Run interrupted by a signal: the results cover the time until then."]);
    if (run.generator_bound) notes.push(["warn", "The load generator itself was saturated (CPU or event-loop lag): latencies may include client-side delay."]);
    if (S.verify && S.verify.error) notes.push(["fail", "verify() raised an error: " + S.verify.error]);
    var hookFails = S.hooks && Array.isArray(S.hooks.failures) ? S.hooks.failures : [];
    hookFails.forEach(function (f) {
      notes.push([f.required ? "fail" : "warn", (f.required ? "Required hook " : "Warning: hook ") +
        f.hook + " (" + f.event + ") failed: " + f.error]);
    });
    notes.forEach(function (n) {
      app.appendChild(h("div", { class: "notice " + n[0], role: "note", text: n[1] }));
    });
  }

  function kpis() {
    var agg = S.aggregated || {};
    var d = metrics.http_req_duration || {};
    var checks = Array.isArray(S.checks) ? S.checks : [];
    var cp = 0, cf = 0;
    checks.forEach(function (c) { cp += c.passes || 0; cf += c.fails || 0; });
    var th = Array.isArray(S.thresholds) ? S.thresholds : [];
    var thOk = th.filter(function (t) { return t.ok; }).length;
    var failRate = agg.requests ? agg.failures / agg.requests : null;
    var cards = [
      ["Requests", fmtInt(agg.requests), fmtRate(agg.rps) + " req/s", ""],
      ["Failed requests", fmtPct(failRate), fmtInt(agg.failures) + " failed", agg.failures ? "bad" : "good"],
      ["Latency p95", fmtMs(d.p95), "p99 " + fmtMs(d.p99), ""],
      ["Latency median", fmtMs(d.med), "avg " + fmtMs(d.avg) + ", max " + fmtMs(d.max), ""],
      ["Checks", cp + cf ? fmtPct(cp / (cp + cf)) : "\u2013", fmtInt(cf) + " of " + fmtInt(cp + cf) + " failed", cf ? "bad" : cp ? "good" : ""],
      ["Thresholds", th.length ? thOk + " / " + th.length : "\u2013", th.length ? (th.length - thOk) + " failed" : "none defined", th.length === thOk ? (th.length ? "good" : "") : "bad"]
    ];
    if (metrics.iterations) {
      var dropped = metrics.dropped_iterations ? metrics.dropped_iterations.count : 0;
      cards.push(["Iterations", fmtInt(metrics.iterations.count), fmtRate(metrics.iterations.rate) + "/s" + (dropped ? ", " + fmtInt(dropped) + " dropped" : ""), dropped ? "bad" : ""]);
    }
    if (metrics.data_received) {
      cards.push(["Data received", fmtBytes(metrics.data_received.count), fmtBytes(metrics.data_received.rate) + "/s" + (metrics.data_sent ? ", sent " + fmtBytes(metrics.data_sent.count) : ""), ""]);
    }
    var grid = h("div", { class: "kpis" });
    cards.forEach(function (c) {
      grid.appendChild(h("div", { class: "card kpi " + c[3] },
        h("div", { class: "label", text: c[0] }), h("div", { class: "value", text: c[1] }),
        h("div", { class: "note", text: c[2] })));
    });
    app.appendChild(h("section", null, grid));
  }

  /* ---- charts ---- */
  var startS = Date.parse(run.start) / 1000;
  var xs = history.map(function (r) {
    var t = Date.parse(r.time) / 1000;
    return isNaN(t) ? (isNaN(startS) ? 0 : startS) + (r.elapsed_s || 0) : t;
  });
  function col(get) {
    return history.map(function (r) { var v = get(r); return num(v); });
  }
  function pctOf(key) {
    return col(function (r) { return r.percentiles && r.reqs ? r.percentiles[key] : null; });
  }

  function axisFmt(fmt) {
    return function (u, vals) { return vals.map(function (v) { return v === null ? "" : fmt(v); }); };
  }
  /* Time axis ticks in UTC: "15:30:10", "15:30" for minute steps, with the date over a day. */
  function clockTicks(u, splits, axisIdx, space, incr) {
    var span = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0;
    return splits.map(function (t) {
      var iso = new Date(t * 1000).toISOString();
      var clock = incr % 60 === 0 ? iso.slice(11, 16) : iso.slice(11, 19);
      return span > 86400 ? iso.slice(5, 10) + " " + clock : clock;
    });
  }
  function shortMs(v) {
    return v >= 1000 ? +(v / 1000).toFixed(2) + " s" : +v.toFixed(2) + " ms";
  }
  function shortNum(v) {
    return Math.abs(v) >= 1e6 ? +(v / 1e6).toFixed(1) + "M" : Math.abs(v) >= 1e3 ? +(v / 1e3).toFixed(1) + "k" : String(+v.toFixed(2));
  }

  function chartBox(id, title, extra) {
    var plot = h("div", { class: "plot", id: "chart-" + id });
    var box = h("div", { class: "card chart", "data-chart": id },
                h("div", { class: "chart-head" }, h("h3", { text: title }), extra || null), plot);
    return { box: box, plot: plot };
  }

  function makePlot(id, target, series, data, axes, scales) {
    var width = Math.max(300, target.clientWidth || 560);
    var opts = {
      width: width,
      height: 260,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      scales: Object.assign({ x: { time: true } }, scales || {}),
      series: [{ label: "Time (UTC)", value: function (u, v) {
        return v === null || v === undefined ? "\u2013" : new Date(v * 1000).toISOString().slice(11, 19);
      } }].concat(series),
      axes: [{ stroke: "#5d6778", grid: { stroke: "#eef1f5" }, ticks: { stroke: "#e1e5ec" },
               space: 70, incrs: TIME_STEPS, values: clockTicks }].concat(axes),
      legend: { live: true },
      cursor: { drag: { x: true, y: false } }
    };
    var u = new uPlot(opts, [xs].concat(data), target);
    charts[id] = u;
    return u;
  }
  function yAxis(fmt, extra) {
    return Object.assign({ stroke: "#5d6778", grid: { stroke: "#eef1f5" }, ticks: { stroke: "#e1e5ec" },
                           size: 64, values: axisFmt(fmt) }, extra || {});
  }
  function line(label, color, fmt, extra) {
    return Object.assign({ label: label, stroke: color, width: 1.75, points: { show: false },
                           value: function (u, v) { return v === null ? "\u2013" : fmt(v); } }, extra || {});
  }

  /* Thresholds on http_req_duration of the form p(N)/avg/med/min/max < or <= a number: the
   * limit can be drawn on the latency chart (ms). Those on one endpoint (the sub-metric
   * http_req_duration{name:X}) are drawn on the per-endpoint chart (endpointLimits). */
  var LIMIT_RE = /^\s*(p\(\d+(?:\.\d+)?\)|avg|med|min|max)\s*<=?\s*(\d+(?:\.\d+)?)\s*$/;
  function latencyLimits() {
    var th = Array.isArray(S.thresholds) ? S.thresholds : [];
    var out = [];
    th.forEach(function (t) {
      if (t.metric !== "http_req_duration" || typeof t.expression !== "string") return;
      var m = LIMIT_RE.exec(t.expression);
      if (m) out.push({ expression: t.expression, ok: !!t.ok, limit: Number(m[2]) });
    });
    return out;
  }
  /* http_req_duration{name:X} limits, dashed in the color of X's line on the per-endpoint
   * chart ('names' are its "METHOD name" keys), or red/green when X is not among them. */
  function endpointLimits(names) {
    var th = Array.isArray(S.thresholds) ? S.thresholds : [];
    var out = [];
    th.forEach(function (t) {
      var mk = /^http_req_duration\{name:([^,}]+)\}$/.exec(t.metric || "");
      var m = mk && typeof t.expression === "string" ? LIMIT_RE.exec(t.expression) : null;
      if (!m) return;
      var idx = -1;
      names.forEach(function (k, i) {
        if (idx < 0 && k.slice(k.indexOf(" ") + 1) === mk[1]) idx = i;
      });
      out.push({ label: "threshold " + mk[1] + ": " + t.expression + (t.ok ? " (pass)" : " (fail)"),
                 color: idx >= 0 ? COLORS[idx] : (t.ok ? "#14803c" : "#c62828"), limit: Number(m[2]) });
    });
    return out;
  }

  function chartsSection() {
    var s = section("Over time");
    if (history.length === 0) {
      s.appendChild(h("div", { class: "card chart" }, h("div", { class: "empty", text: "No per-second history in this summary." })));
      return;
    }
    var hb = S.history_buckets;
    if (hb && num(hb.rows) !== null) {
      /* a long run: the C renderer kept each bucket's minimum and maximum (report_downsample.h) */
      s.appendChild(h("p", { class: "muted", id: "downsampled",
        text: fmtInt(hb.rows) + " seconds drawn as the minimum and maximum of every " + fmtInt(hb.bucket_rows) +
              "-second span; summary.json and stats_history.csv have every second." }));
    }
    var grid = h("div", { class: "charts" });
    s.appendChild(grid);
    var boxes = [];

    var tp = chartBox("throughput", "Throughput");
    grid.appendChild(tp.box);
    boxes.push(function () {
      makePlot("throughput", tp.plot, [
        line("Requests/s", "#2563eb", fmtRate, { fill: "rgba(37,99,235,0.08)" }),
        line("Errors/s", "#c62828", fmtRate, { scale: "err" })
      ], [col(function (r) { return r.rps; }), col(function (r) { return r.fps; })],
      [yAxis(shortNum), yAxis(shortNum, { scale: "err", side: 1, grid: { show: false }, stroke: "#c62828" })],
      { err: { range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } });
    });

    var lat = chartBox("latency", "Latency percentiles (all requests, per second)");
    grid.appendChild(lat.box);
    boxes.push(function () {
      /* thresholds on http_req_duration itself are drawn as dashed limits */
      var limits = latencyLimits();
      makePlot("latency", lat.plot, [
        line("p50", "#0d9488", fmtMs),
        line("p95", "#d97706", fmtMs),
        line("p99", "#c62828", fmtMs)
      ].concat(limits.map(function (t) {
        return line("threshold " + t.expression + (t.ok ? " (pass)" : " (fail)"), t.ok ? "#14803c" : "#c62828",
                    fmtMs, { dash: [6, 4], width: 1.25, "class": "threshold" });
      })), [pctOf("50"), pctOf("95"), pctOf("99")].concat(limits.map(function (t) {
        return xs.map(function () { return t.limit; });
      })), [yAxis(shortMs)]);
    });

    var vu = chartBox("vus", "Virtual users");
    grid.appendChild(vu.box);
    boxes.push(function () {
      makePlot("vus", vu.plot, [
        line("VUs", "#7c3aed", fmtInt, { fill: "rgba(124,58,237,0.08)", paths: uPlot.paths.stepped({ align: 1 }) }),
        line("Iterations/s", "#65a30d", fmtRate, { scale: "it" })
      ], [col(function (r) { return r.vus; }), col(function (r) { return r.iterations; })],
      [yAxis(shortNum), yAxis(shortNum, { scale: "it", side: 1, grid: { show: false }, stroke: "#65a30d" })],
      { it: { range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } });
    });

    /* Per-endpoint latency: the busiest endpoints, one line each. */
    var keys = {};
    history.forEach(function (r) {
      Object.keys(r.endpoints || {}).forEach(function (k) { keys[k] = (keys[k] || 0) + (r.endpoints[k].reqs || 0); });
    });
    var names = Object.keys(keys).sort(function (a, b) { return keys[b] - keys[a] || (a < b ? -1 : 1); }).slice(0, COLORS.length);
    var select = h("select", { "aria-label": "Percentile" }, h("option", { value: "p50", text: "p50" }),
                   h("option", { value: "p95", text: "p95" }), h("option", { value: "p99", text: "p99" }));
    select.value = "p95";
    var ep = chartBox("endpoints", "Latency per endpoint", select);
    grid.appendChild(ep.box);
    function epData(p) {
      return names.map(function (k) {
        return col(function (r) { var e = (r.endpoints || {})[k]; return e && e.reqs ? e[p] : null; });
      });
    }
    boxes.push(function () {
      if (names.length === 0) {
        ep.plot.appendChild(h("div", { class: "empty", text: "No per-endpoint history." }));
        return;
      }
      var limits = endpointLimits(names);
      var limitData = limits.map(function (t) { return xs.map(function () { return t.limit; }); });
      var u = makePlot("endpoints", ep.plot, names.map(function (k, i) { return line(k, COLORS[i], fmtMs); })
                       .concat(limits.map(function (t) {
                         return line(t.label, t.color, fmtMs, { dash: [6, 4], width: 1.25, "class": "threshold" });
                       })), epData("p95").concat(limitData), [yAxis(shortMs)]);
      select.addEventListener("change", function () { u.setData([xs].concat(epData(select.value), limitData)); });
    });

    boxes.forEach(function (f) { f(); });
    var resize = function () {
      Object.keys(charts).forEach(function (id) {
        var el = document.getElementById("chart-" + id);
        if (el && el.clientWidth) charts[id].setSize({ width: el.clientWidth, height: 260 });
      });
    };
    if (!window.tideReport.onResize) { /* once, also when the live page is rebuilt */
      var pending = null;
      window.tideReport.onResize = function () { clearTimeout(pending); pending = setTimeout(function () { window.tideReport.resize(); }, 100); };
      window.addEventListener("resize", window.tideReport.onResize);
    }
    window.tideReport.resize = resize;
  }

  /* ---- tables ---- */
  function thresholdsSection() {
    var th = Array.isArray(S.thresholds) ? S.thresholds : [];
    if (!th.length) return;
    var s = section("Thresholds", th.length);
    s.appendChild(table([
      { label: "Metric", get: function (t) { return t.metric; }, cls: "name" },
      { label: "Condition", get: function (t) { return t.expression; }, cls: "name" },
      { label: "Observed", get: function (t) { return num(t.observed); }, show: function (t) { return num(t.observed) === null ? "no samples" : fmtExact(t.observed); }, cls: "num" },
      { label: "Source", get: function (t) { return t.source || ""; } },
      { label: "Result", get: function (t) { return t.ok ? 1 : 0; }, show: function (t) {
        return t.aborted ? h("span", null, badge(false), " aborted the run") : badge(!!t.ok); } }
    ], th));
  }

  function checksTable(list) {
    return table([
      { label: "Group", get: function (c) { return c.group || ""; }, cls: "name" },
      { label: "Check", get: function (c) { return c.name; } },
      { label: "Passes", get: function (c) { return c.passes || 0; }, show: function (c) { return fmtInt(c.passes || 0); }, cls: "num" },
      { label: "Fails", get: function (c) { return c.fails || 0; }, show: function (c) {
        return c.fails ? h("span", { class: "bad", text: fmtInt(c.fails) }) : "0"; }, cls: "num" },
      { label: "Success", get: function (c) { var n = (c.passes || 0) + (c.fails || 0); return n ? c.passes / n : null; },
        show: function (c) { var n = (c.passes || 0) + (c.fails || 0); return n ? fmtPct(c.passes / n) : "\u2013"; }, cls: "num" },
      { label: "Result", get: function (c) { return c.fails ? 0 : 1; }, show: function (c) { return badge(!c.fails); } }
    ], list);
  }

  function checksSection() {
    var checks = Array.isArray(S.checks) ? S.checks : [];
    if (!checks.length) return;
    section("Checks", checks.length).appendChild(checksTable(checks));
  }

  function verifySection() {
    var v = S.verify;
    if (!v || !v.ran) return;
    var list = Array.isArray(v.checks) ? v.checks : [];
    var s = section("verify()", list.length);
    if (v.error) s.appendChild(h("div", { class: "notice fail", text: "verify() raised: " + v.error }));
    if (list.length) s.appendChild(checksTable(list));
    else if (!v.error) s.appendChild(h("p", { class: "muted", text: "verify() ran and recorded no checks." }));
  }

  function endpointsSection() {
    var eps = Array.isArray(S.endpoints) ? S.endpoints : [];
    var s = section("Endpoints", eps.length);
    var p = function (k) { return function (e) { return e.percentiles ? num(e.percentiles[k]) : null; }; };
    var ms = function (get) { return function (e) { return fmtMs(get(e)); }; };
    var f = function (k) { return function (e) { return num(e[k]); }; };
    var cols = [
      { label: "Type", get: function (e) { return e.method || ""; } },
      { label: "Name", get: function (e) { return e.name || ""; }, cls: "name" },
      { label: "Requests", get: f("requests"), show: function (e) { return fmtInt(e.requests); }, cls: "num" },
      { label: "Fails", get: f("failures"), show: function (e) {
        return e.failures ? h("span", { class: "bad", text: fmtInt(e.failures) }) : "0"; }, cls: "num" },
      { label: "Fail %", get: function (e) { return e.requests ? e.failures / e.requests : null; },
        show: function (e) { return e.requests ? fmtPct(e.failures / e.requests) : "\u2013"; }, cls: "num" },
      { label: "Median", get: f("med"), show: ms(f("med")), cls: "num" },
      { label: "Average", get: f("avg"), show: ms(f("avg")), cls: "num" },
      { label: "Min", get: f("min"), show: ms(f("min")), cls: "num" },
      { label: "Max", get: f("max"), show: ms(f("max")), cls: "num" },
    ].concat(LOCUST_PCTS.map(function (k) {
      return { label: k + "%", get: p(k), show: ms(p(k)), cls: "num pct" };
    })).concat([
      { label: "Req/s", get: f("rps"), show: function (e) { return fmtRate(e.rps); }, cls: "num" },
      { label: "Avg size", get: f("avg_content_size"), show: function (e) { return fmtBytes(e.avg_content_size); }, cls: "num" }
    ]);
    var total = S.aggregated ? Object.assign({}, S.aggregated, { name: "Aggregated", method: "" }) : null;
    s.appendChild(table(cols, eps, { total: total, sort: [2, -1] }));
  }

  /* Responses per status code for each endpoint, from the summary's http_reqs series
   * (the C renderer sums them into S.status_codes). */
  function statusSection() {
    var rows = Array.isArray(S.status_codes) ? S.status_codes : [];
    if (!rows.length) return;
    var codes = {}, eps = {}, order = [];
    rows.forEach(function (r) {
      var key = (r.method || "") + " " + (r.name || "");
      if (!eps[key]) { eps[key] = { method: r.method || "", name: r.name || "", total: 0, by: {} }; order.push(key); }
      eps[key].by[r.status] = (eps[key].by[r.status] || 0) + (r.count || 0);
      eps[key].total += r.count || 0;
      codes[r.status] = true;
    });
    var list = Object.keys(codes).sort();
    function cls(code) {
      return /^2/.test(code) ? "num" : /^3/.test(code) ? "num" : "num bad-code";
    }
    var cols = [
      { label: "Type", get: function (e) { return e.method; } },
      { label: "Name", get: function (e) { return e.name; }, cls: "name" }
    ].concat(list.map(function (code) {
      return { label: code === "" || code === "0" ? "no response" : code, get: function (e) { return e.by[code] || 0; },
               show: function (e) { return e.by[code] ? fmtInt(e.by[code]) : "\u2013"; }, cls: cls(code) };
    })).concat([{ label: "Total", get: function (e) { return e.total; }, show: function (e) { return fmtInt(e.total); }, cls: "num" }]);
    var s = section("Status codes", list.length);
    s.appendChild(table(cols, order.map(function (k) { return eps[k]; }), { sort: [cols.length - 1, -1] }));
  }

  /* Where a request's time goes: k6's phases, average and p95 of each, as bars. */
  var PHASES = [["http_req_blocked", "Blocked"], ["http_req_connecting", "Connecting"],
                ["http_req_tls_handshaking", "TLS handshake"], ["http_req_sending", "Sending"],
                ["http_req_waiting", "Waiting (time to first byte)"], ["http_req_receiving", "Receiving"]];
  function phasesSection() {
    var present = PHASES.filter(function (p) { return metrics[p[0]] && num(metrics[p[0]].avg) !== null; });
    if (!present.length) return;
    var top = Math.max.apply(null, present.map(function (p) { return Math.max(num(metrics[p[0]].p95) || 0, metrics[p[0]].avg); }));
    var box = h("div", { class: "card phases", id: "phases", role: "img",
                         "aria-label": "Average and p95 time of each request phase" });
    present.forEach(function (p) {
      var m = metrics[p[0]];
      var w = function (v) { return (top > 0 ? Math.max(0, Math.min(100, (num(v) || 0) / top * 100)) : 0).toFixed(2) + "%"; };
      var bar = h("div", { class: "phase-track" },
                  h("div", { class: "phase-p95", style: "width:" + w(m.p95) }),
                  h("div", { class: "phase-avg", style: "width:" + w(m.avg) }));
      box.appendChild(h("div", { class: "phase", "data-phase": p[0] },
        h("div", { class: "phase-name", text: p[1] }), bar,
        h("div", { class: "phase-val", text: "avg " + fmtMs(m.avg) + " \u00b7 p95 " + fmtMs(m.p95) })));
    });
    box.appendChild(h("div", { class: "phase-legend muted" },
      h("span", { class: "key key-avg" }), " average ", h("span", { class: "key key-p95" }), " p95"));
    section("Request phases").appendChild(box);
  }

  function errorsSection() {
    var errs = Array.isArray(S.errors) ? S.errors : [];
    var serrs = Array.isArray(S.script_errors) ? S.script_errors : [];
    if (!errs.length && !serrs.length) return;
    var s = section("Errors", errs.length + serrs.length);
    if (errs.length) {
      s.appendChild(table([
        { label: "Type", get: function (e) { return e.method || ""; } },
        { label: "Name", get: function (e) { return e.name || ""; }, cls: "name" },
        { label: "Error", get: function (e) { return e.error || ""; }, cls: "msg" },
        { label: "Occurrences", get: function (e) { return e.occurrences || 0; }, show: function (e) { return fmtInt(e.occurrences); }, cls: "num" }
      ], errs, { sort: [3, -1] }));
    }
    if (serrs.length) {
      s.appendChild(h("h2", { class: "sub-h", text: "Script errors" }));
      s.appendChild(table([
        { label: "Message", get: function (e) { return e.message || ""; }, cls: "msg" },
        { label: "Count", get: function (e) { return e.count || 0; }, show: function (e) { return fmtInt(e.count); }, cls: "num" }
      ], serrs, { sort: [1, -1] }));
    }
  }

  function metricsSection() {
    var names = Object.keys(metrics).sort();
    if (!names.length) return;
    var rows = names.map(function (n) { return Object.assign({ _name: n }, metrics[n]); });
    var val = function (k) { return function (m) { return num(m[k]); }; };
    var show = function (k) { return function (m) { return num(m[k]) === null ? "" : fmtMetric(m, m[k]); }; };
    section("All metrics", names.length).appendChild(table([
      { label: "Metric", get: function (m) { return m._name; }, cls: "name" },
      { label: "Type", get: function (m) { return m.type || ""; } },
      { label: "Count", get: val("count"), show: function (m) {
        return m.type === "counter" ? fmtMetric(m, m.count) : num(m.count) === null ? "" : fmtInt(m.count); }, cls: "num" },
      { label: "Rate", get: val("rate"), show: function (m) {
        if (num(m.rate) === null) return "";
        return m.type === "rate" ? fmtPct(m.rate) : fmtMetric(m, m.rate) + "/s"; }, cls: "num" },
      { label: "Value", get: val("value"), show: show("value"), cls: "num" },
      { label: "Avg", get: val("avg"), show: show("avg"), cls: "num" },
      { label: "Min", get: val("min"), show: show("min"), cls: "num" },
      { label: "Med", get: val("med"), show: show("med"), cls: "num" },
      { label: "p95", get: val("p95"), show: show("p95"), cls: "num" },
      { label: "p99", get: val("p99"), show: show("p99"), cls: "num" },
      { label: "Max", get: val("max"), show: show("max"), cls: "num" }
    ], rows));
  }

  // Plugins: the loaded packages and each section a plugin added (api.summary).
  function pluginsSection() {
    var list = Array.isArray(S.plugins) ? S.plugins : [];
    var secs = Array.isArray(S.plugin_sections) ? S.plugin_sections : [];
    if (!list.length && !secs.length) return;
    var s = section("Plugins", list.length);
    if (list.length) {
      var dl = h("dl", { class: "facts card" });
      list.forEach(function (p) {
        dl.appendChild(h("div", null, h("dt", { text: p.name + " " + p.version }),
          h("dd", { text: "sha256 " + String(p.sha256).slice(0, 16) + "…" })));
      });
      s.appendChild(dl);
    }
    secs.forEach(function (sec) {
      s.appendChild(h("h3", { text: sec.title + " (" + sec.plugin + ")" }));
      if (sec.error) s.appendChild(h("div", { class: "notice warn", text: sec.error }));
      var rows = sec.rows || {};
      var dl2 = h("dl", { class: "facts card plugin-section" });
      var pairs = Array.isArray(rows) ? rows.map(function (r) { return Array.isArray(r) ? r : [String(r), ""]; })
        : Object.keys(rows).map(function (k) { return [k, rows[k]]; });
      pairs.forEach(function (kv) {
        var v = kv[1];
        dl2.appendChild(h("div", null, h("dt", { text: String(kv[0]) }),
          h("dd", { text: typeof v === "object" ? JSON.stringify(v) : String(v) })));
      });
      s.appendChild(dl2);
    });
  }

  function generatorSection() {
    var g = S.generator;
    if (!g) return;
    var dl = h("dl", { class: "facts card" });
    [["Threads", fmtInt(g.threads)], ["Event-loop lag p99", fmtMs(g.loop_lag_p99_ms)],
     ["CPU peak", num(g.cpu_max_percent) === null ? null : g.cpu_max_percent.toFixed(0) + " %"],
     ["Open files peak", fmtInt(g.max_open_fds)], ["Memory peak", fmtBytes(num(g.peak_rss_kb) === null ? null : g.peak_rss_kb * 1024)]]
      .forEach(function (it) {
        if (it[1] !== null) dl.appendChild(h("div", null, h("dt", { text: it[0] }), h("dd", { text: it[1] })));
      });
    section("Load generator").appendChild(dl);
  }

  facts();
  kpis();
  thresholdsSection();
  chartsSection();
  endpointsSection();
  statusSection();
  phasesSection();
  checksSection();
  verifySection();
  errorsSection();
  metricsSection();
  pluginsSection();
  generatorSection();
  }

  var VERDICTS = { passed: "Passed", failed: "Failed", aborted: "Aborted", interrupted: "Interrupted",
                   error: "Error", running: "Running" };

  /* Live dashboard: the summary so far every second ("tick") and the final one ("final") from
   * the run's own server; history rows arrive once each and are kept here. */
  function live(S0) {
    if (!S0.live || typeof EventSource !== "function") return;
    var rows = Array.isArray(S0.history) ? S0.history.slice() : [];
    var es = new EventSource(S0.live.events);
    function update(ev, final) {
      var m = JSON.parse(ev.data);
      rows = rows.concat(Array.isArray(m.rows) ? m.rows : []);
      var S = m.summary || {};
      if (!(final && Array.isArray(S.history))) S.history = rows; /* the final summary has its own */
      Object.keys(window.tideReport.charts).forEach(function (id) { window.tideReport.charts[id].destroy(); });
      var scroll = window.scrollY;
      document.getElementById("app").textContent = "";
      page(S);
      window.scrollTo(0, scroll);
      if (S.run && S.run.id) document.querySelector(".top h1").textContent = S.run.id;
      if (S.run) document.querySelector(".top .sub").textContent = [S.run.scenario_file, S.run.host].filter(Boolean).join(" \u00b7 ");
      var status = (S.run && S.run.status) || "running";
      var v = document.querySelector(".verdict");
      v.className = "verdict verdict-" + (VERDICTS[status] ? status : "unknown");
      v.textContent = VERDICTS[status] || "Unknown";
      window.tideReport.updates++;
      if (final) {
        window.tideReport.final = true;
        es.close();
        var foot = document.querySelector(".foot");
        foot.textContent = "";
        var a = document.createElement("a");
        a.href = "/report.html";
        a.textContent = "The final report";
        foot.appendChild(a);
        foot.appendChild(document.createTextNode(" (also in the run folder, report.html)"));
      }
    }
    es.addEventListener("tick", function (ev) { update(ev, false); });
    es.addEventListener("final", function (ev) { update(ev, true); });
  }

  page(INITIAL);
  window.tideReport.ready = true;
  live(INITIAL);
})();
