// Loads the dashboard N times in headless Chromium (over WebDriver/chromedriver) and
// prints the time to the first rendered SmartNumber card (the app's `first-card`
// performance mark), p50/p90, plus the sizes of the SPA's .wasm and .js, raw and gzip.
// Usage: node scripts/bench-spa.mjs <base-url> <dist-dir> [runs]
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createServer } from "node:net";

const [base, dist, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 20);

const kb = (n) => (n / 1024).toFixed(1) + " KB";
let wasmJsGzip = 0;
console.log("Sizes (dist/):");
for (const f of readdirSync(dist).sort()) {
  if (!/\.(wasm|js)$/.test(f)) continue;
  const raw = readFileSync(`${dist}/${f}`);
  const gz = gzipSync(raw, { level: 9 }).length;
  const ours = !f.startsWith("echarts");
  if (ours) wasmJsGzip += gz;
  console.log(`  ${f.padEnd(40)} ${kb(raw.length).padStart(11)} raw ${kb(gz).padStart(10)} gzip${ours ? "" : "  (ECharts, excluded from the goal)"}`);
}
console.log(`  SPA wasm+js gzip total: ${kb(wasmJsGzip)} (goal ≤ 500 KB)`);

const port = await new Promise((res) => {
  const s = createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); });
});
const driver = spawn("/usr/bin/chromedriver", [`--port=${port}`], { stdio: "ignore" });
const wd = `http://127.0.0.1:${port}`;
const call = async (method, path, body) => {
  const r = await fetch(wd + path, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) });
  return (await r.json()).value;
};
let session;
for (let i = 0; i < 100 && !session; i++) {
  try {
    session = (await call("POST", "/session", { capabilities: { alwaysMatch: { browserName: "chrome", "goog:chromeOptions": {
      binary: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--window-size=1280,800"],
    } } } })).sessionId;
  } catch { await new Promise((r) => setTimeout(r, 100)); }
}
const s = `/session/${session}`;
const times = [];
try {
  for (let i = 0; i < runs; i++) {
    await call("POST", `${s}/url`, { url: "about:blank" });
    await call("POST", `${s}/url`, { url: `${base}/` });
    let t = null;
    for (let k = 0; k < 200 && t === null; k++) {
      t = await call("POST", `${s}/execute/sync`, { script: "const m = performance.getEntriesByName('first-card')[0]; return m ? m.startTime : null;", args: [] });
      if (t === null) await new Promise((r) => setTimeout(r, 25));
    }
    if (t === null) throw new Error("the first-card mark never appeared");
    times.push(t);
  }
} finally {
  await call("DELETE", s).catch(() => {});
  driver.kill();
}
times.sort((a, b) => a - b);
const pct = (p) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)];
console.log(`Time to first SmartNumber card over ${runs} loads (ms since navigation start):`);
console.log(`  p50 ${pct(50).toFixed(0)} ms, p90 ${pct(90).toFixed(0)} ms, min ${times[0].toFixed(0)} ms, max ${times[times.length - 1].toFixed(0)} ms (goal p50 ≤ 300 ms)`);
