// End-to-end tests: Debian's Chromium against the real API, one server (and one fresh embedded
// database) per worker, started by e2e/fixtures.ts from a database seeded once in e2e/global-setup.ts.
import { defineConfig } from '@playwright/test'

export default defineConfig({
  testDir: 'e2e',
  // The screenshot tour is a review aid, not a test: it is collected only when asked for (E2E_TOUR=1).
  testIgnore: process.env.E2E_TOUR ? [] : ['**/tour.spec.ts'],
  fullyParallel: true,
  workers: process.env.E2E_WORKERS ? Number(process.env.E2E_WORKERS) : 2,
  retries: process.env.CI ? 1 : 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  outputDir: 'test-results/artifacts',
  globalSetup: './e2e/global-setup.ts',
  globalTeardown: './e2e/global-teardown.ts',
  use: {
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    // The service worker precaches ~316 KB in the background after each first load, which holds
    // `networkidle` back on every page; only e2e/slow-network.spec.ts (which tests it) allows it.
    serviceWorkers: 'block',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  projects: [{ name: 'chromium' }],
})
