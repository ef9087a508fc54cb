// The web app on a slow phone network: bytes transferred, first and largest contentful paint per page.
//
//     (cd web && npm run build)          # this script builds nothing
//     node bench/web_vitals.mjs [--dist web/dist] [--before-dist DIR] [--runs 3]
//     node bench/web_vitals.mjs --url http://127.0.0.1:8000 [--before-url URL] [--pages /,/login]
//     [--profiles slow|fast] [--repeat no] [--log yes]   # one profile; no repeat visit; every response
//
// Each borrower page (the routes of the borrower app in web/src/router) and the staff sign-in page is
// opened in Debian's Chromium at 375 px, in a fresh browser context (empty cache, no service worker
// yet), on the Lighthouse mobile profile (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up, CPU
// slowed 4x, through the DevTools protocol: Network.emulateNetworkConditions and
// Emulation.setCPUThrottlingRate) and then unthrottled. A page's load ends when it has loaded and the
// network has been quiet for a second; its transfer is every response's encoded length (headers
// included) the page fetched itself. "counted KB" leaves out the calculator's chart (ECharts), which
// the issue allows to load after the first paint. Then, in the same context once the service worker
// has installed, the repeat visit: what still came over the network, and its paints.
//
// Without --url the script starts the API server like the e2e tests do (web/e2e/fixtures.ts): a fresh
// embedded demo database (`microcredit demo --no-serve`), then `microcredit serve` over the --dist
// build. --before-dist DIR starts a second server over another build (e.g. one of main) for the
// BEFORE figures of the same run; BEFORE_PYTHONPATH, if set, is that server's PYTHONPATH (main's
// src/, so it also serves files the way main does). Each figure is the median of --runs loads.
// The last line is one JSON object: max_borrower_fcp_ms, max_borrower_lcp_ms, max_borrower_page_ms (the
// page's own content, see watchContent), max_borrower_kb (counted,
// throttled), staff_kb, repeat_max_borrower_kb, sw_precache_kb, and the same for the BEFORE build.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const WEB = join(ROOT, 'web')
const { chromium } = createRequire(join(WEB, 'package.json'))('@playwright/test')

// The borrower app's routes (web/src/router, the children of `/`). `{application}`, `{loan}` and
// `{product}` are the demo borrower's first application and loan and the first product on offer; the
// pages marked SIGNED_IN are opened signed in as that borrower (signed out they open the sign-in page).
const BORROWER_PAGES = ['/', '/login', '/register', '/calculator', '/reset-password', '/sms-inbox',
  '/oauth/complete', '/products', '/products/{product}', '/products/{product}/apply', '/applications',
  '/applications/{application}', '/applications/{application}/contract', '/loans', '/loans/{loan}', '/group',
  '/notifications', '/me', '/me/documents', '/forbidden', '/no-such-page']
const SIGNED_IN = new Set(['/products/{product}/apply', '/applications', '/applications/{application}',
  '/applications/{application}/contract', '/loans', '/loans/{loan}', '/group', '/notifications', '/me', '/me/documents'])
// The demo's first borrower (src/microcredit/demo: 张三, a password, applications and a loan).
const DEMO_BORROWER = { phone: '13900001001', password: 'Demo-Pass-2026', kind: 'borrower' }
const STAFF_PAGES = ['/staff/login']
// The calculator's chart: its component, and the scripts asked for from then on (ECharts).
const CHART = /\/assets\/ScheduleChart-[^/]+\.js$/
// Lighthouse's mobile profile (its "simulated" figures: 150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up, CPU 4x).
const SLOW = { latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 }
const CPU_SLOWDOWN = 4

function args() {
  const out = { dist: join(WEB, 'dist'), runs: 3 }
  const argv = process.argv.slice(2)
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase())
    out[key] = key === 'runs' ? Number(argv[i + 1]) : argv[i + 1]
  }
  return out
}

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer()
    srv.on('error', fail)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => ok(port))
    })
  })
}

function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MICROCREDIT_')))
}

/** A server over `dist` with a fresh demo database; returns its URL and a stop function. */
async function startServer(dist, pythonPath) {
  const bin = process.env.MICROCREDIT_BIN ?? join(ROOT, '.venv/bin/microcredit')
  const dataDir = mkdtempSync(join(tmpdir(), 'mc-vitals-'))
  const env = { ...cleanEnv(), MICROCREDIT_MODE: 'test', MICROCREDIT_DATA_DIR: dataDir, NO_COLOR: '1' }
  if (pythonPath) env.PYTHONPATH = pythonPath
  execFileSync(bin, ['demo', '--no-serve'], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const proc = spawn(bin, ['serve', '--port', String(port)], {
    env: { ...env, MICROCREDIT_PUBLIC_URL: url, MICROCREDIT_WEB_DIST: resolve(dist), MICROCREDIT_LOG_LEVEL: 'WARNING' },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  // A loaded 2-core machine can take more than 30 s (e2e/fixtures.ts waits 90 s too).
  const deadline = Date.now() + 90_000
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the server over ${dist} exited (${proc.exitCode})`)
    try {
      if ((await fetch(`${url}/readyz`)).ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGTERM')
      throw new Error(`the server over ${dist} did not become ready`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    url,
    stop: async () => {
      proc.kill('SIGTERM')
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)))
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/**
 * The page's own content (not index.html's first screen, not the shell's bars): the first frame in
 * which the route's view has text — in the borrower app's `main#main`, elsewhere anywhere in `#app`
 * once the first screen has gone. Read from requestAnimationFrame, in the frame after the view
 * had text (so the paint has happened by then). Stored as window.__mcContent (ms since navigation).
 */
function watchContent() {
  const seen = () => {
    const main = document.querySelector('#main')
    if (main) return main.textContent.trim() !== ''
    const app = document.querySelector('#app')
    return !!app && !app.querySelector('.boot-bar') && app.textContent.trim() !== ''
  }
  const frame = () => {
    if (seen()) requestAnimationFrame((t) => { window.__mcContent = t })
    else requestAnimationFrame(frame)
  }
  requestAnimationFrame(frame)
}

/** Open `url` in `page` (throttled or not) and measure until the network is quiet. */
async function measure(context, page, url, throttled) {
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false })
  if (throttled) {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, ...SLOW })
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN })
  }
  const requests = new Map()
  let lastActivity = Date.now()
  let chartAsked = false
  cdp.on('Network.requestWillBeSent', (e) => {
    chartAsked ||= CHART.test(new URL(e.request.url).pathname)
    const chart = chartAsked && /\/assets\/[^/]+\.js$/.test(new URL(e.request.url).pathname)
    requests.set(e.requestId, { url: e.request.url, bytes: 0, network: true, done: false, chart, start: e.timestamp, end: null })
    lastActivity = Date.now()
  })
  cdp.on('Network.responseReceived', (e) => {
    const r = requests.get(e.requestId)
    if (r) r.network = !e.response.fromServiceWorker && !e.response.fromDiskCache && !e.response.fromPrefetchCache
  })
  cdp.on('Network.loadingFinished', (e) => {
    const r = requests.get(e.requestId)
    if (r) Object.assign(r, { bytes: e.encodedDataLength, done: true, end: e.timestamp })
    lastActivity = Date.now()
  })
  cdp.on('Network.loadingFailed', (e) => {
    const r = requests.get(e.requestId)
    if (r) r.done = true
    lastActivity = Date.now()
  })
  await page.goto(url, { waitUntil: 'load', timeout: 120_000 })
  for (;;) {
    const busy = [...requests.values()].some((r) => !r.done)
    if (!busy && Date.now() - lastActivity > 1000) break
    await page.waitForTimeout(100)
  }
  const paints = await page.evaluate(() => new Promise((done) => {
    let fcp = null
    let lcp = null
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') fcp = e.startTime
    }).observe({ type: 'paint', buffered: true })
    let lcpElement = null
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        lcp = e.startTime
        // Which element: index.html's first screen (boot-bar), the shell's bar, or the page's own.
        const el = e.element
        lcpElement = !el ? null : el.closest('.boot-bar') ? 'boot-bar' : el.closest('#main') ? 'page'
          : el.closest('header') ? 'header' : el.closest('#app') ? 'page' : el.tagName.toLowerCase()
      }
    }).observe({ type: 'largest-contentful-paint', buffered: true })
    setTimeout(() => done({ fcp, lcp, lcpElement, content: window.__mcContent ?? null }), 100)
  }))
  if (throttled) {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 })
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
  }
  await cdp.detach()
  const network = [...requests.values()].filter((r) => r.network)
  // --log: what the page fetched, for finding what a page's first load carries.
  if (logRequests) {
    console.log(`  ${url} (${throttled ? 'slow' : 'fast'})`)
    // With when each was asked for and done, in ms from the first request (the page's own document).
    const t0 = Math.min(...network.map((r) => r.start))
    const at = (t) => (t === null ? '-' : String(Math.round((t - t0) * 1000))).padStart(5)
    for (const r of network) console.log(`    ${(r.bytes / 1024).toFixed(1).padStart(7)} KB  ${at(r.start)}–${at(r.end)} ms  ${new URL(r.url).pathname}`)
    console.log(`    FCP ${Math.round(paints.fcp ?? -1)} ms, page ${Math.round(paints.content ?? -1)} ms`)
  }
  const kb = network.reduce((s, r) => s + r.bytes, 0) / 1024
  const chartKb = network.filter((r) => r.chart).reduce((s, r) => s + r.bytes, 0) / 1024
  return { kb, counted: kb - chartKb, requests: network.length, fcp: paints.fcp, lcp: paints.lcp,
    content: paints.content, lcpElement: paints.lcpElement }
}

const median = (xs) => {
  const v = xs.filter((x) => x !== null).sort((a, b) => a - b)
  return v.length ? v[Math.floor((v.length - 1) / 2)] : null
}

/** First (empty cache) and repeat (service worker) visits of one page, median of `runs`. */
async function visitPage(browser, base, path, throttled, runs, demo) {
  const address = path.replace(/\{(\w+)\}/g, (_, name) => demo.ids[name])
  const session = SIGNED_IN.has(path) ? demo : null
  const first = []
  const repeat = []
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({
      viewport: { width: 375, height: 667 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
      locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
    })
    // Signed in the way the app keeps a borrower's session (localStorage, src/identity/stores/session.ts).
    if (session) {
      await context.addInitScript((stored) => localStorage.setItem('mc.session', stored),
        JSON.stringify({ token: session.token, kind: 'borrower' }))
    }
    await context.addInitScript(watchContent)
    const page = await context.newPage()
    first.push(await measure(context, page, base + address, throttled))
    // The service worker (if the build has one) installs and downloads the shell; then the repeat visit.
    if (withRepeat) await page.evaluate(async () => {
      const registration = 'serviceWorker' in navigator ? await navigator.serviceWorker.getRegistration() : undefined
      if (registration) await Promise.race([navigator.serviceWorker.ready, new Promise((r) => setTimeout(r, 30_000))])
    })
    await page.waitForTimeout(500)
    await page.close()
    if (withRepeat) {
      const again = await context.newPage()
      repeat.push(await measure(context, again, base + address, throttled))
    }
    await context.close()
  }
  const pick = (list) => ({
    kb: median(list.map((m) => m.kb)), counted: median(list.map((m) => m.counted)),
    requests: median(list.map((m) => m.requests)), fcp: median(list.map((m) => m.fcp)), lcp: median(list.map((m) => m.lcp)),
    content: median(list.map((m) => m.content)), lcpElement: [...new Set(list.map((m) => m.lcpElement))].join('/'),
  })
  return { first: pick(first), repeat: pick(repeat) }
}

/** Sign in as the demo borrower; the ids its pages' addresses need (a page without one is skipped). */
async function demoBorrower(base) {
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(DEMO_BORROWER),
  })
  if (!login.ok) throw new Error(`signing in as the demo borrower: ${login.status}`)
  const { token } = await login.json()
  const get = async (path) => {
    const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })
    return r.ok ? r.json() : null
  }
  const applications = (await get('/api/v1/me/applications'))?.items ?? []
  const loans = (await get('/api/v1/me/loans'))?.items ?? []
  const offers = (await get('/api/v1/product-offers')) ?? []
  const contract = applications.find((a) => ['approved', 'contract_signed', 'disbursed'].includes(a.status)) ?? applications[0]
  return {
    token,
    ids: { application: contract?.id, loan: loans[0]?.id, product: (Array.isArray(offers) ? offers : offers.items ?? [])[0]?.code },
  }
}

/** What the service worker of the build downloads ahead, once, in the background (brotli sizes). */
function precacheKb(dist) {
  const sw = join(dist, 'sw.js')
  if (!existsSync(sw)) return 0
  const urls = [...readFileSync(sw, 'utf8').matchAll(/url:"([^"]+)"/g)].map((m) => m[1])
  let bytes = 0
  for (const u of new Set(urls)) {
    const file = join(dist, u)
    bytes += existsSync(`${file}.br`) ? statSync(`${file}.br`).size : existsSync(file) ? statSync(file).size : 0
  }
  return bytes / 1024
}

const fmt = (x, unit = '') => (x === null || x === undefined ? '   -' : `${Math.round(x)}${unit}`)

let only = null
let profiles = [true, false]
let logRequests = false
let withRepeat = true

async function run(label, base, dist, runs, browser) {
  const results = {}
  const demo = await demoBorrower(base)
  const pages = [...BORROWER_PAGES, ...STAFF_PAGES].filter((p) => (!only || only.includes(p))
    && [...p.matchAll(/\{(\w+)\}/g)].every((m) => demo.ids[m[1]] !== undefined))
  for (const throttled of profiles) {
    const profile = throttled ? 'mobile profile (150 ms, 1.6 Mbit/s, CPU 4x)' : 'unthrottled'
    console.log(`\n${label}: ${profile}, 375 px, median of ${runs}`)
    console.log(`${'page'.padEnd(37)} first: KB  counted KB  req   FCP ms  page ms   LCP ms (element)  | repeat: KB  req   FCP ms  page ms   LCP ms`)
    for (const path of pages) {
      const r = await visitPage(browser, base, path, throttled, runs, demo)
      results[`${throttled ? 'slow' : 'fast'} ${path}`] = r
      console.log(`${path.padEnd(37)} ${fmt(r.first.kb).padStart(9)} ${fmt(r.first.counted).padStart(11)} ${fmt(r.first.requests).padStart(4)} `
        + `${fmt(r.first.fcp).padStart(8)} ${fmt(r.first.content).padStart(8)} ${fmt(r.first.lcp).padStart(8)} ${`(${r.first.lcpElement})`.padEnd(10)}`
        + ` | ${fmt(r.repeat.kb).padStart(9)} `
        + `${fmt(r.repeat.requests).padStart(4)} ${fmt(r.repeat.fcp).padStart(8)} ${fmt(r.repeat.content).padStart(8)} ${fmt(r.repeat.lcp).padStart(8)}`)
    }
  }
  const slow = (path) => results[`slow ${path}`] ?? { first: {}, repeat: {} }
  const borrower = BORROWER_PAGES.filter((p) => pages.includes(p)).map(slow)
  const max = (f) => Math.round(Math.max(...borrower.map(f).filter((x) => x !== null)))
  const summary = {
    max_borrower_fcp_ms: max((r) => r.first.fcp),
    max_borrower_lcp_ms: max((r) => r.first.lcp),
    // The page's own content (watchContent), which the issue's 1.5 s is about.
    max_borrower_page_ms: max((r) => r.first.content),
    max_borrower_kb: max((r) => r.first.counted),
    staff_kb: Math.round(slow('/staff/login').first.kb),
    staff_fcp_ms: slow('/staff/login').first.fcp === null ? null : Math.round(slow('/staff/login').first.fcp),
    calculator_kb_with_chart: Math.round(results['fast /calculator']?.first.kb ?? 0),
    repeat_max_borrower_kb: max((r) => r.repeat.kb),
    repeat_max_borrower_fcp_ms: max((r) => r.repeat.fcp),
    sw_precache_kb: dist ? Math.round(precacheKb(dist)) : null,
  }
  console.log(`${label}: ${JSON.stringify(summary)}`)
  return summary
}

async function main() {
  const opts = args()
  only = opts.pages ? opts.pages.split(',') : null
  // --profiles slow (or fast): one profile only, for quicker iterations.
  logRequests = opts.log === 'yes'
  // --repeat no: first visits only (no waiting for the service worker), for quicker runs.
  withRepeat = opts.repeat !== 'no'
  if (opts.profiles) profiles = opts.profiles.split(',').map((p) => p === 'slow')
  const started = []
  // Interrupted: stop the servers this script started before leaving.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, async () => {
      for (const s of started) await s.stop()
      process.exit(130)
    })
  }
  console.log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  try {
    const after = opts.url ? { url: opts.url } : await startServer(opts.dist).then((s) => (started.push(s), s))
    const before = opts.beforeUrl ? { url: opts.beforeUrl }
      : opts.beforeDist ? await startServer(opts.beforeDist, process.env.BEFORE_PYTHONPATH).then((s) => (started.push(s), s))
        : null
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-quic'],
    })
    try {
      const beforeSummary = before ? await run('BEFORE', before.url, opts.beforeDist ?? null, opts.runs, browser) : null
      const afterSummary = await run('AFTER', after.url, opts.url ? null : opts.dist, opts.runs, browser)
      console.log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
      console.log(JSON.stringify({ ...afterSummary, before: beforeSummary, load_average: loadavg().map((x) => +x.toFixed(2)) }))
    } finally {
      await browser.close()
    }
  } finally {
    for (const s of started) await s.stop()
  }
}

await main()
