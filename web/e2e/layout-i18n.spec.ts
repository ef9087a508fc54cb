// 6. The borrower pages at 375×812 have no horizontal scrolling, and the language switch changes
//    every label on the page (no Chinese left in English, no English UI text left in Chinese).
import { test, expect, type Page } from './fixtures'
import { borrowerLogin, registerBorrower } from './helpers'

test.use({ viewport: { width: 375, height: 812 } })

const PUBLIC_PAGES = ['/', '/login', '/register', '/reset-password', '/sms-inbox', '/calculator']

async function noHorizontalScroll(page: Page, path: string) {
  const [scrollWidth, clientWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth])
  expect(scrollWidth, `horizontal scrolling on ${path}`).toBeLessThanOrEqual(clientWidth)
}

/** The visible text of labels, headings, buttons, links, tabs and paragraphs of the page. */
async function labels(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const selector = 'label, h1, h2, h3, button, a, [role=tab], p, dt, th, legend, .el-alert__title, .el-select__selected-item, [placeholder]'
    return [...document.querySelectorAll<HTMLElement>(selector)]
      .filter((e) => e.offsetParent !== null && !e.closest('[data-testid=language-switch]'))
      .map((e) => (e.getAttribute('placeholder') ?? '') + (e.innerText ?? '').trim())
      .filter((s) => s.length > 0)
  })
}

const CJK = /[\u3400-\u9fff]/

test('borrower pages fit 375 px without horizontal scrolling', async ({ page, api }) => {
  for (const path of PUBLIC_PAGES) {
    await page.goto(path)
    await page.waitForLoadState('networkidle')
    await noHorizontalScroll(page, path)
  }
  const b = await registerBorrower(api)
  await borrowerLogin(page, b.phone, b.password)
  await page.waitForLoadState('networkidle')
  await noHorizontalScroll(page, '/me')
  await page.getByTestId('edit-credit').click()
  await noHorizontalScroll(page, '/me (editing)')
})

test('the language switch changes every label on the page', async ({ page, api }) => {
  const b = await registerBorrower(api)
  for (const path of ['/login', '/register', '/calculator', '/me']) {
    if (path === '/me') await borrowerLogin(page, b.phone, b.password)
    else await page.goto(path)
    await page.waitForLoadState('networkidle')
    const chinese = await labels(page)
    expect(chinese.some((s) => CJK.test(s)), `Chinese labels on ${path}`).toBe(true)

    await page.getByTestId('language-switch').click()
    await expect(page.locator('html')).toHaveAttribute('lang', 'en')
    // Names typed by people (the borrower's name) stay as they are; every label changes.
    const english = (await labels(page)).filter((s) => !s.includes(b.name))
    const left = english.filter((s) => CJK.test(s))
    expect(left, `labels still in Chinese on ${path}`).toEqual([])

    await page.getByTestId('language-switch').click()
    await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN')
  }
})

test('the chosen language is kept and used for the API’s messages', async ({ page }) => {
  await page.goto('/login')
  await page.getByTestId('language-switch').click()
  await expect(page.locator('html')).toHaveAttribute('lang', 'en')
  await page.reload()
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign in')
  await page.getByTestId('phone').fill('13900001001')
  await page.getByTestId('password').fill('not-the-password')
  await page.getByTestId('login-submit').click()
  // The API's problem detail, in English, next to the password field.
  await expect(page.getByText('Wrong phone number or password')).toBeVisible()
})
