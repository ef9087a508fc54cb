// The test fixture: each worker starts its own API server (serving web/dist) on a free port over
// its own copy of the freshly seeded database, so tests in different workers never share data.
import { test as base, expect, type Page, type APIRequestContext } from '@playwright/test'
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DIST, FAILING_PHONE_PREFIX, MICROCREDIT, TEMPLATE_FILE, cleanEnv } from './paths'

export interface Server {
  url: string
  dataDir: string
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address ? address.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/** A client address from the benchmarking range 198.18.0.0/15, different for each test. */
function clientAddress(): string {
  const n = Math.floor(Math.random() * 2 ** 17)
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`
}

async function waitReady(url: string, proc: ChildProcess, log: () => string): Promise<void> {
  // The demo's loans make the database larger: on a loaded 2-core machine a restarted worker's server
  // took longer than 30 s to answer (CI, 3 December).
  const deadline = Date.now() + 90_000
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`the API server exited (${proc.exitCode}):\n${log()}`)
    try {
      const r = await fetch(`${url}/readyz`)
      if (r.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150))
  }
  throw new Error(`the API server did not become ready:\n${log()}`)
}

export const test = base.extend<{ api: APIRequestContext }, { server: Server; isolatedServer: boolean }>({
  /** A spec that changes institution-wide state (e.g. the champion credit model) sets this with `test.use`:
   *  a different worker option gives it workers, and so servers and databases, of its own. */
  isolatedServer: [false, { scope: 'worker', option: true }],
  server: [
    async ({ isolatedServer }, use, workerInfo) => {
      void isolatedServer
      const port = await freePort()
      const url = `http://127.0.0.1:${port}`
      const dataDir = mkdtempSync(join(tmpdir(), `mc-e2e-w${workerInfo.workerIndex}-`))
      cpSync(readFileSync(TEMPLATE_FILE, 'utf8'), dataDir, { recursive: true })
      let output = ''
      const proc = spawn(MICROCREDIT, ['serve', '--port', String(port)], {
        env: {
          ...cleanEnv(),
          MICROCREDIT_MODE: 'test',
          MICROCREDIT_DATA_DIR: dataDir,
          MICROCREDIT_PUBLIC_URL: url,
          MICROCREDIT_WEB_DIST: DIST,
          MICROCREDIT_LOG_LEVEL: 'WARNING',
          // Many sign-ins and codes from one IP (the test run) within minutes.
          MICROCREDIT_RATE_LIMITS__SMS_PER_IP_PER_HOUR: '10000',
          MICROCREDIT_RATE_LIMITS__LOGIN_PER_IP_PER_MINUTE: '10000',
          MICROCREDIT_RATE_LIMITS__REGISTER_PER_IP_PER_HOUR: '10000',
          MICROCREDIT_RATE_LIMITS__QUOTE_PER_IP_PER_MINUTE: '10000',
          // The test runner stands for a proxy: each test's requests carry a client address of their own
          // (X-Forwarded-For, below), so per-IP rules (application velocity) see each test as one client.
          MICROCREDIT_TRUSTED_PROXIES: '127.0.0.1',
          // The SMS simulator refuses these numbers (FAILING_PHONE_PREFIX): deliveries that fail for real.
          MICROCREDIT_SMS_SIMULATOR_FAIL_PREFIX: FAILING_PHONE_PREFIX,
          // The demo has 18 submitted applications: fraud-model.spec trains the anomaly model from them.
          MICROCREDIT_FRAUD_MODEL_MIN_APPLICATIONS: '15',
          NO_COLOR: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      proc.stdout?.on('data', (d) => (output = (output + d).slice(-20_000)))
      proc.stderr?.on('data', (d) => (output = (output + d).slice(-20_000)))
      try {
        await waitReady(url, proc, () => output)
        await use({ url, dataDir })
      } finally {
        proc.kill('SIGTERM')
        await new Promise<void>((resolve) => {
          if (proc.exitCode !== null) return resolve()
          const timer = setTimeout(() => {
            proc.kill('SIGKILL')
            resolve()
          }, 5_000)
          proc.once('exit', () => {
            clearTimeout(timer)
            resolve()
          })
        })
        rmSync(dataDir, { recursive: true, force: true })
      }
    },
    { scope: 'worker', auto: true },
  ],
  baseURL: async ({ server }, use) => {
    await use(server.url)
  },
  /** Each test a client of its own, behind the trusted proxy: without it every application of the run
   *  comes from 127.0.0.1 and, past five a day, the velocity rule refers the next one to people. */
  extraHTTPHeaders: async ({}, use) => {
    await use({ 'X-Forwarded-For': clientAddress() })
  },
  /** HTTP requests straight to the API (for set-up), in Chinese like the browser. */
  api: async ({ playwright, server, extraHTTPHeaders }, use) => {
    const ctx = await playwright.request.newContext({ baseURL: server.url, extraHTTPHeaders: { ...extraHTTPHeaders, 'Accept-Language': 'zh-CN' } })
    await use(ctx)
    await ctx.dispose()
  },
})

export { expect, type Page }
