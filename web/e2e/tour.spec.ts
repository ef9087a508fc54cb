// A visual tour for reviewers: screenshots of the borrower pages at 375×812 and the staff pages at
// 1366×900 and 1024×768, in both languages, under test-results/screenshots/tour/. It checks nothing
// the other specs do not, so it runs only when asked: `E2E_TOUR=1 npx playwright test e2e/tour.spec.ts`.
import { join } from 'node:path'
import { test, expect, type Page } from './fixtures'
import { ADMIN, BRANCH_MANAGER, DEMO_PASSWORD, borrowerLogin, registerBorrower, staffLogin } from './helpers'
import { SCREENSHOTS } from './paths'

test.describe.configure({ timeout: 240_000 })

const LANGS = ['zh-CN', 'en'] as const

async function shoot(page: Page, name: string, fullPage = false) {
  await page.waitForLoadState('networkidle')
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => undefined))))
  await page.screenshot({ path: join(SCREENSHOTS, 'tour', `${name}.png`), fullPage, animations: 'disabled' })
}

async function setLang(page: Page, lang: string) {
  await page.evaluate((l) => localStorage.setItem('mc.locale', l), lang)
}

test.describe('borrower pages at 375×812', () => {
  test.use({ viewport: { width: 375, height: 812 } })

  test('registration', async ({ page }) => {
    await page.goto('/')
    for (const lang of LANGS) {
      await setLang(page, lang)
      await page.goto('/register')
      await page.getByTestId('phone').fill('1371234')
      await page.getByTestId('real-name').click()
      await page.getByTestId('id-number').fill('110105')
      await page.getByTestId('password').click()
      await page.getByTestId('real-name').click()
      await shoot(page, `b-${lang}-register-errors`, true)
      await page.getByTestId('phone').fill(`137${String(Date.now()).slice(-8)}`)
      await page.getByTestId('register-submit').click()
      await page.getByTestId('send-code').click()
      await page.waitForTimeout(800)
      await shoot(page, `b-${lang}-register-code-sent`, true)
    }
  })

  test('calculator', async ({ page }) => {
    await page.goto('/')
    for (const lang of LANGS) {
      await setLang(page, lang)
      await page.goto('/calculator')
      await expect(page.getByTestId('calc-installment')).toBeVisible()
      await shoot(page, `b-${lang}-calculator`)
      await page.getByTestId('calc-amount').fill('abc')
      await page.waitForTimeout(800)
      await shoot(page, `b-${lang}-calculator-invalid`)
      await page.getByTestId('calc-amount').fill('10000')
      await expect(page.getByTestId('calc-installment')).toBeVisible()
      await page.getByTestId('calc-schedule').scrollIntoViewIfNeeded()
      await shoot(page, `b-${lang}-calculator-schedule`)
    }
  })

  test('home, messages, 404, profile', async ({ page, api }) => {
    const b = await registerBorrower(api)
    await page.goto('/')
    for (const lang of LANGS) {
      await setLang(page, lang)
      await page.goto('/')
      await shoot(page, `b-${lang}-home-visitor`)
      await page.goto('/sms-inbox')
      await shoot(page, `b-${lang}-sms-inbox`)
      await page.goto('/no-such-page')
      await shoot(page, `b-${lang}-not-found`)
    }
    await borrowerLogin(page, b.phone, b.password)
    for (const lang of LANGS) {
      await setLang(page, lang)
      await page.goto('/')
      await shoot(page, `b-${lang}-home-signed-in`, true)
      await page.goto('/me')
      await shoot(page, `b-${lang}-me`)
    }
  })
})

// The demo's loans (its living portfolio): README's docs/images/staff-loans.png and borrower-loan-mobile.png.
test('the demo loans: the staff loan list and a borrower’s loan', async ({ page, browser, baseURL }) => {
  await page.setViewportSize({ width: 1366, height: 900 })
  await staffLogin(page, '13900000009') // 冯琳, finance
  await page.goto('/staff/loans')
  await expect(page.getByText('L-DEMO-').first()).toBeVisible()
  await shoot(page, 's-1366-zh-CN-loans', true)
  const phone = await (await browser.newContext({ baseURL, viewport: { width: 375, height: 812 } })).newPage()
  await borrowerLogin(phone, '13900001001', DEMO_PASSWORD) // 张三
  await phone.goto('/loans')
  await phone.locator('a[href^="/loans/"]').first().click()
  await expect(phone).toHaveURL(/\/loans\/\d+$/)
  await shoot(phone, 'b-zh-CN-loan')
})

const STAFF_PAGES = [
  ['/staff', 'home'],
  ['/staff/borrowers', 'borrowers'],
  ['/staff/institutions', 'institutions'],
  ['/staff/branches', 'branches'],
  ['/staff/staff', 'staff'],
  ['/staff/roles', 'roles'],
  ['/staff/login-history', 'login-history'],
  ['/staff/audit-log', 'audit-log'],
  ['/staff/no-such-page', 'not-found'],
]

test('branch manager pages at 1366×900 and 1024×768', async ({ page, api }) => {
  await page.setViewportSize({ width: 1366, height: 900 })
  await registerBorrower(api)
  await staffLogin(page, BRANCH_MANAGER.phone)
  for (const [width, height] of [[1366, 900], [1024, 768]]) {
    await page.setViewportSize({ width, height })
    for (const lang of LANGS) {
      await setLang(page, lang)
      for (const [path, name] of [['/staff/borrowers/new', 'walk-in'], ['/staff/profile-changes', 'profile-changes'], ['/staff', 'bm-home']]) {
        await page.goto(path)
        await shoot(page, `s-${width}-${lang}-${name}`)
      }
    }
  }
  await page.setViewportSize({ width: 1366, height: 900 })
  await page.goto('/staff/borrowers/new')
  await page.locator('form button[type=submit]').first().click()
  await shoot(page, 's-1366-en-walk-in-errors')
})

test('staff pages at 1366×900 and 1024×768', async ({ page, api }) => {
  await page.setViewportSize({ width: 1366, height: 900 })
  await registerBorrower(api)
  await staffLogin(page, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)
  await page.goto('/staff/borrowers')
  await page.getByTestId('borrower-table').locator('tbody tr a').first().click()
  await expect(page).toHaveURL(/\/staff\/borrowers\/\d+$/)
  const detail = new URL(page.url()).pathname
  for (const [width, height] of [[1366, 900], [1024, 768]]) {
    await page.setViewportSize({ width, height })
    for (const lang of LANGS) {
      await setLang(page, lang)
      for (const [path, name] of [...STAFF_PAGES, [detail, 'borrower-detail']]) {
        await page.goto(path)
        await shoot(page, `s-${width}-${lang}-${name}`)
      }
    }
  }
})
