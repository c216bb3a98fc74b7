// Opens a rendered report.html in headless Chromium from a file:// URL with every network
// request refused, and checks what a reader would see: each chart drew its data, the tables
// sort, server text stays text (no script from an error message runs), no console errors.
// Usage: node report.test.mjs REPORT_HTML SCREENSHOT_PNG
// Exit: 0 passed, 1 failed, 77 skipped (no Chromium). Chromium: $TIDE_CHROMIUM or /usr/bin/chromium.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const [reportPath, shotPath] = process.argv.slice(2);
if (!reportPath || !shotPath) {
  console.error("usage: node report.test.mjs REPORT_HTML SCREENSHOT_PNG");
  process.exit(2);
}
const executablePath = process.env.TIDE_CHROMIUM || "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  console.log(`SKIP: ${executablePath} not found (apt-get install -y chromium)`);
  process.exit(77);
}

let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) {
    passed++;
  } else {
    failed++;
    console.error(`FAIL: ${what}`);
  }
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  chromiumSandbox: false,
  args: ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions"],
});
try {
  // A fresh context is a new, empty profile; offline and a route that refuses anything but
  // the report file itself make any network use visible instead of silently working.
  const context = await browser.newContext({ offline: true, viewport: { width: 1400, height: 900 } });
  const url = pathToFileURL(resolve(reportPath)).href;
  const foreign = [];
  await context.route("**/*", (route) => {
    const u = route.request().url();
    if (u === url) return route.continue();
    foreign.push(u);
    return route.abort();
  });
  const page = await context.newPage();
  const consoleErrors = [];
  const dialogs = [];
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });

  page.setDefaultTimeout(5000);
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => window.tideReport && window.tideReport.ready, null, { timeout: 10000 });

  // Charts: each uPlot instance has its series filled and its canvas painted.
  const charts = await page.evaluate(() => {
    const out = {};
    for (const [id, u] of Object.entries(window.tideReport.charts)) {
      const series = u.data.slice(1).map((s) => s.filter((v) => v !== null && v !== undefined).length);
      const canvas = document.querySelector(`#chart-${id} canvas`);
      let painted = 0;
      if (canvas) {
        const px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) painted++;
      }
      out[id] = { points: u.data[0].length, series, painted, width: canvas ? canvas.width : 0 };
    }
    return out;
  });
  for (const id of ["throughput", "latency", "vus", "endpoints"]) {
    const c = charts[id];
    check(c !== undefined, `chart '${id}' exists`);
    if (!c) continue;
    check(c.points > 10, `chart '${id}' has its time axis (${c.points} points)`);
    check(c.series.length > 0 && c.series.every((n) => n > 0), `every series of '${id}' has points (${c.series})`);
    check(c.painted > 2000, `chart '${id}' canvas is painted (${c.painted} pixels)`);
  }
  // one line per endpoint (6), and the dashed limit of the threshold on one of them
  check(charts.endpoints && charts.endpoints.series.length === 7, "one line per endpoint, one limit");

  // Switching the per-endpoint percentile redraws with other data.
  const before = await page.evaluate(() => window.tideReport.charts.endpoints.data[1].slice());
  await page.selectOption("[data-chart=endpoints] select", "p50");
  const after = await page.evaluate(() => window.tideReport.charts.endpoints.data[1].slice());
  check(JSON.stringify(before) !== JSON.stringify(after), "p50/p95 selector changes the per-endpoint data");

  // Escaping: the error message from the server is shown as text, and ran nothing.
  const xss = "HTTP 500: <script>alert(1)</script>";
  const cells = await page.$$eval("td", (tds) => tds.map((td) => td.textContent));
  check(cells.includes(xss), "the error message appears verbatim as text");
  check(cells.some((t) => t.includes('body has <b>no</b> "error" & is JSON')), "check names keep their markup as text");
  check(await page.$$eval("main script, main img, main b", (n) => n.length) === 0, "no element was created from data");
  check(dialogs.length === 0, `no dialog opened (${dialogs})`);

  // Sorting: the endpoint table starts by requests, descending; a click makes it ascending.
  const table = "#sec-endpoints table";
  const counts = async () => page.$$eval(`${table} tbody tr:not(.total) td:nth-child(3)`,
    (tds) => tds.map((td) => Number(td.textContent.replace(/,/g, ""))));
  const desc = await counts();
  check(desc.length === 6 && desc.every((v, i) => i === 0 || desc[i - 1] >= v), `endpoints sorted by requests, descending (${desc})`);
  await page.click(`${table} th:nth-child(3) button`);
  const asc = await counts();
  check(asc.every((v, i) => i === 0 || asc[i - 1] <= v), `a click sorts ascending (${asc})`);
  check(await page.$eval(`${table} th:nth-child(3)`, (th) => th.getAttribute("aria-sort")) === "ascending", "aria-sort follows");
  check(await page.$eval(`${table} tbody tr:last-child`, (tr) => tr.className) === "total", "Aggregated row stays last");
  await page.click(`${table} th:nth-child(3) button`);

  // Locust's percentile columns in the endpoint table, in Locust's order.
  const heads = await page.$$eval(`${table} thead th`, (ths) => ths.map((th) => th.textContent.trim()));
  const want = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"];
  check(JSON.stringify(heads.filter((x) => x.endsWith("%") && !x.startsWith("Fail"))) === JSON.stringify(want),
        `Locust's percentile columns (${heads})`);

  // Status codes per endpoint: the search endpoint's 17 HTTP 500s; each row's total equals the
  // endpoint's request count in the endpoint table.
  const status = await page.$$eval("#sec-status-codes table", (tables) => {
    const t = tables[0];
    if (!t) return null;
    const heads = [...t.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    const rows = [...t.querySelectorAll("tbody tr")].map((tr) => [...tr.children].map((td) => td.textContent.trim()));
    return { heads, rows };
  });
  check(status !== null, "a status code table");
  if (status) {
    const col = (name) => status.heads.indexOf(name);
    const search = status.rows.find((r) => r[1] === "/api/search?q={term}");
    check(search && search[col("500")] === "17", `search: 17 responses with status 500 (${search})`);
    check(search && search[col("200")] === "815", `search: 815 with status 200 (${search})`);
    const reqs = await page.$$eval(`${table} tbody tr:not(.total)`, (trs) => Object.fromEntries(
      trs.map((tr) => [tr.children[0].textContent + " " + tr.children[1].textContent, tr.children[2].textContent])));
    const mismatched = status.rows.filter((r) => reqs[r[0] + " " + r[1]] !== r[r.length - 1]);
    check(status.rows.length === 6 && mismatched.length === 0, `status totals equal the endpoint requests (${mismatched})`);
  }

  // Request phases: the fixture records time to first byte (waiting) only.
  const phases = await page.$$eval("#phases .phase", (ps) => ps.map((p) => p.dataset.phase));
  check(JSON.stringify(phases) === JSON.stringify(["http_req_waiting"]), `phase bars (${phases})`);
  const barWidth = await page.$eval("#phases .phase-avg", (b) => b.getBoundingClientRect().width).catch(() => 0);
  check(barWidth > 10, `the average bar is drawn (${barWidth} px)`);

  // Thresholds on http_req_duration are limit lines on the latency chart; the filtered one
  // (name:/api/auth/login) is not drawn there.
  const limits = await page.evaluate(() => {
    const u = window.tideReport.charts.latency;
    return u.series.map((s, i) => [s.label, i ? u.data[i][0] : null]).filter((x) => /^threshold/.test(x[0]));
  });
  check(JSON.stringify(limits) === JSON.stringify([["threshold p(95)<300 (pass)", 300], ["threshold p(99)<120 (fail)", 120]]),
        `threshold lines on the latency chart (${JSON.stringify(limits)})`);

  // The threshold on one endpoint (http_req_duration{name:/api/auth/login}: p(95)<500) is a
  // limit line on the per-endpoint chart.
  const epLimits = await page.evaluate(() => {
    const u = window.tideReport.charts.endpoints;
    return u.series.map((s, i) => [s.label, i ? u.data[i][0] : null]).filter((x) => /^threshold/.test(x[0]));
  });
  check(JSON.stringify(epLimits) === JSON.stringify([["threshold /api/auth/login: p(95)<500 (pass)", 500]]),
        `sub-metric threshold line on the per-endpoint chart (${JSON.stringify(epLimits)})`);

  const verdict = await page.textContent(".verdict");
  check(verdict.trim() === "Failed", `verdict reads 'Failed' (${verdict})`);

  check(foreign.length === 0, `no network request (${foreign})`);
  check(consoleErrors.length === 0, `no console errors (${consoleErrors.join(" | ")})`);

  await page.screenshot({ path: shotPath, fullPage: true });
  console.log(`screenshot: ${shotPath}`);
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
