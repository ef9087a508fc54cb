// 20. A slow, flaky phone network: the built files come compressed, and after a first visit the app
//     opens from the service worker's cache without any network, saying so in both languages; no API
//     response is ever kept in a cache.
import { test, expect } from './fixtures'

test.use({ viewport: { width: 375, height: 740 }, serviceWorkers: 'allow' })

test('scripts and styles come precompressed, varying by Accept-Encoding', async ({ page }) => {
  const assets: { url: string; encoding?: string; vary?: string; size: number }[] = []
  page.on('response', async (r) => {
    if (!new URL(r.url()).pathname.startsWith('/assets/') || !/\.(js|css)$/.test(r.url())) return
    const headers = await r.allHeaders()
    assets.push({ url: r.url(), encoding: headers['content-encoding'], vary: headers['vary'], size: Number(headers['content-length'] ?? 0) })
  })
  await page.goto('/login')
  await expect(page.getByTestId('login-submit')).toBeVisible()
  await page.waitForLoadState('networkidle')
  expect(assets.length).toBeGreaterThan(3)
  // Every file the build compressed (all but the smallest, under 1 KB) arrives as br or gzip.
  const big = assets.filter((a) => a.encoding !== undefined || a.size >= 1024)
  expect(big.length).toBeGreaterThan(3)
  for (const a of big) {
    expect(['br', 'gzip'], a.url).toContain(a.encoding)
    expect(a.vary, a.url).toBe('Accept-Encoding')
  }
})

test('after a first visit the app opens offline and says it is offline', async ({ page, context }) => {
  await page.goto('/')
  await expect(page.getByTestId('tab-calculator')).toBeVisible()
  await expect(page.getByTestId('offline-notice')).toHaveCount(0)
  // The service worker has installed (the shell is in its cache) and controls the page.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }))
    }
  })

  await context.setOffline(true)
  await page.reload()
  await expect(page.getByTestId('tab-calculator')).toBeVisible()
  const notice = page.getByTestId('offline-notice')
  await expect(notice).toContainText('网络已断开')
  await expect(page.getByTestId('network-status')).toHaveAttribute('aria-live', 'polite')

  // Other borrower pages open from the cache too, and the notice follows the language.
  await page.getByTestId('tab-login').click()
  await expect(page).toHaveURL(/\/login$/)
  await expect(page.getByTestId('login-submit')).toBeVisible()
  await page.getByTestId('language-switch').click()
  await expect(notice).toContainText('You are offline')

  // Back online: the notice goes.
  await context.setOffline(false)
  await expect(notice).toHaveCount(0)

  // Nothing from the API is in any cache (personal data must not outlive the session on a shared phone).
  const cached = await page.evaluate(async () => {
    const urls: string[] = []
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) urls.push(request.url)
    }
    return urls
  })
  expect(cached.length).toBeGreaterThan(5)
  expect(cached.filter((u) => new URL(u).pathname.startsWith('/api/'))).toEqual([])
})
