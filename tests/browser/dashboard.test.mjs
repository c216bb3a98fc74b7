// The live dashboard in headless Chromium: starts 'tide run --dashboard' (built-in target,
// a few seconds), opens the URL it prints while the run goes, and checks that the page
// loads, gets at least two updates over server-sent events with growing history, ends with
// the final verdict, links the final report, loads nothing from elsewhere, and has the same
// sections as the run folder's report.html (the layout). Screenshot: DIR/dashboard.png.
// Usage: node dashboard.test.mjs TIDE SCENARIO OUT_DIR
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const [tide, scenario, outDir] = process.argv.slice(2);
const executablePath = process.env.TIDE_CHROMIUM || "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  console.log(`SKIP: ${executablePath} not found (apt-get install -y chromium)`);
  process.exit(77);
}
let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else { failed++; console.error(`FAIL: ${what}`); }
}

const runDir = join(outDir, "run");
const proc = spawn(tide, ["run", scenario, "--target", "--vus", "2", "--duration", "15s", "--out", runDir,
                          "--dashboard"], { stdio: ["ignore", "pipe", "pipe"] });
let stderr = "";
const exited = new Promise((res) => proc.on("exit", (code) => res(code)));
const url = await new Promise((res) => {
  const timer = setTimeout(() => res(null), 20000);
  proc.stderr.on("data", (d) => {
    stderr += d;
    const m = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr);
    if (m) { clearTimeout(timer); res(m[1]); }
  });
});
check(url !== null, `the URL is printed at start (${stderr.slice(-300)})`);

const browser = await chromium.launch({
  executablePath, headless: true, chromiumSandbox: false,
  args: ["--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions"],
});
try {
  if (url) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const foreign = [];
    // watched, not intercepted: an intercepted event stream would be buffered whole
    context.on("request", (req) => { if (!req.url().startsWith(url)) foreign.push(req.url()); });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(url, { waitUntil: "load", timeout: 15000 });
    await page.waitForFunction(() => window.tideReport && window.tideReport.ready, null, { timeout: 15000 });

    // two updates while the run goes, the history growing between them
    await page.waitForFunction(() => window.tideReport.updates >= 1 && !window.tideReport.final, null, { timeout: 15000 })
      .catch(() => {});
    const first = await page.evaluate(() => ({ n: window.tideReport.updates, pts: window.tideReport.charts.throughput ? window.tideReport.charts.throughput.data[0].length : 0,
                                               verdict: document.querySelector(".verdict").textContent }));
    await page.waitForFunction((n) => window.tideReport.updates >= n + 1, first.n, { timeout: 15000 }).catch(() => {});
    const second = await page.evaluate(() => ({ n: window.tideReport.updates, pts: window.tideReport.charts.throughput ? window.tideReport.charts.throughput.data[0].length : 0 }));
    check(first.n >= 1 && second.n >= 2, `at least two updates during the run (${first.n}, ${second.n})`);
    check(first.verdict.trim() === "Running", `the verdict reads Running during the run (${first.verdict})`);
    check(second.pts > first.pts || (first.pts > 0 && second.n > first.n), `the history grows (${first.pts} -> ${second.pts} points)`);

    // the final verdict
    await page.waitForFunction(() => window.tideReport.final, null, { timeout: 30000 }).catch(() => {});
    const end = await page.evaluate(() => ({ final: window.tideReport.final, verdict: document.querySelector(".verdict").textContent.trim(),
                                             cls: document.querySelector(".verdict").className,
                                             heading: document.querySelector(".top h1").textContent,
                                             link: document.querySelector(".foot a") ? document.querySelector(".foot a").getAttribute("href") : null,
                                             sections: [...document.querySelectorAll("main h2")].map((h) => h.firstChild.textContent.trim()) }));
    check(end.final, "the final event arrived");
    check(end.verdict === "Passed", `the final verdict (${end.verdict})`);
    check(end.cls === "verdict verdict-passed", `its style (${end.cls})`);
    check(/^\d{8}-\d{6}-demo/.test(end.heading), `the heading is the run id (${end.heading})`);
    check(end.link === "/report.html", `a link to the final report (${end.link})`);
    await page.screenshot({ path: join(outDir, "dashboard.png"), fullPage: false });
    check(foreign.length === 0, `no request elsewhere (${foreign})`);
    check(errors.length === 0, `no console errors (${errors.join(" | ")})`);

    // the layout: the same sections as the run folder's report.html
    const code = await exited;
    check(code === 0, `the run passed (exit ${code})`);
    const report = await (await browser.newContext({ offline: true, viewport: { width: 1400, height: 900 } })).newPage();
    await report.goto(pathToFileURL(resolve(join(runDir, "report.html"))).href, { waitUntil: "load" });
    await report.waitForFunction(() => window.tideReport && window.tideReport.ready, null, { timeout: 15000 });
    const sections = await report.evaluate(() => [...document.querySelectorAll("main h2")].map((h) => h.firstChild.textContent.trim()));
    check(JSON.stringify(sections) === JSON.stringify(end.sections), `same sections as report.html (${end.sections} vs ${sections})`);
  }
} finally {
  await browser.close();
  if (proc.exitCode === null) proc.kill("SIGKILL");
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
