// The two shells keep to their users; a missing permission is a 403 page; an ended session goes to
// sign-in and comes back; a network failure is retryable; forms and menus work from the keyboard.
import { test, expect } from './fixtures'
import { AUDITOR, DEMO_PASSWORD, OFFICER_BR01, borrowerLogin, registerBorrower, staffLogin } from './helpers'

test('a staff member never sees the borrower app, nor a page outside their permissions', async ({ page }) => {
  await page.setViewportSize({ width: 1366, height: 900 })
  await staffLogin(page, AUDITOR.phone)
  const menu = page.getByTestId('staff-menu')
  await expect(menu.getByTestId('menu-audit-log')).toBeVisible()
  await expect(menu.getByTestId('menu-borrower-new')).toHaveCount(0)
  await page.goto('/me')
  await expect(page).toHaveURL(/\/staff$/)
  await page.goto('/staff/borrowers/new')
  await expect(page.getByTestId('forbidden')).toBeVisible()
  await expect(page.getByTestId('forbidden')).toContainText('403')
})

test('a borrower cannot open the staff console', async ({ page, api }) => {
  const b = await registerBorrower(api)
  await borrowerLogin(page, b.phone, b.password)
  await page.goto('/staff/borrowers')
  await expect(page.getByTestId('forbidden')).toBeVisible()
  await expect(page.getByTestId('tab-me')).toBeVisible()
})

test('an ended session returns to sign-in, then back to the page', async ({ page, api }) => {
  await page.setViewportSize({ width: 1366, height: 900 })
  await staffLogin(page, OFFICER_BR01.phone)
  await page.goto('/staff/borrowers')
  await expect(page.getByTestId('borrower-table')).toBeVisible()
  // The session ends on the server (as after the idle timeout).
  const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('mc.session')!).token)
  await api.post('/api/v1/auth/logout', { headers: { Authorization: `Bearer ${token}` } })
  await page.getByTestId('search-submit').click()
  await expect(page).toHaveURL(/\/staff\/login\?redirect=(%2F|\/)staff(%2F|\/)borrowers/)
  await expect(page.getByText('登录已过期')).toBeVisible()
  await page.getByTestId('phone').fill(OFFICER_BR01.phone)
  await page.getByTestId('password').fill(DEMO_PASSWORD)
  await page.getByTestId('login-submit').click()
  await expect(page).toHaveURL(/\/staff\/borrowers$/)
})

test('a network failure shows a retryable message', async ({ page }) => {
  await page.setViewportSize({ width: 1366, height: 900 })
  await staffLogin(page, OFFICER_BR01.phone)
  await page.route('**/api/v1/borrowers/search', (route) => route.abort('internetdisconnected'))
  await page.goto('/staff/borrowers')
  const problem = page.getByTestId('problem')
  await expect(problem).toContainText('网络连接失败')
  await page.unroute('**/api/v1/borrowers/search')
  await problem.getByRole('button', { name: '重试' }).click()
  await expect(problem).toHaveCount(0)
  await expect(page.getByTestId('borrower-table').locator('tbody tr').first()).toBeVisible()
})

test('a server error (5xx) shows a retryable message', async ({ page }) => {
  await page.route('**/api/v1/public/config', (route) => route.fulfill({ status: 503, body: 'unavailable' }))
  await page.route('**/_sim/sms**', (route) => route.fulfill({ status: 502, body: 'bad gateway' }))
  await page.goto('/sms-inbox')
  await expect(page.getByTestId('problem')).toContainText('服务暂时无法响应')
})

test('the sign-in form works from the keyboard alone', async ({ page, api }) => {
  const b = await registerBorrower(api)
  await page.goto('/login')
  await page.getByTestId('phone').focus()
  await page.keyboard.type(b.phone)
  await page.keyboard.press('Tab')
  await expect(page.getByTestId('password')).toBeFocused()
  await page.keyboard.type(b.password)
  await page.keyboard.press('Enter')
  await expect(page).toHaveURL(/\/me$/)
})

test('the staff menu is reachable and usable from the keyboard', async ({ page }) => {
  await page.setViewportSize({ width: 1366, height: 900 })
  await staffLogin(page, AUDITOR.phone)
  // Tab from the skip link through the menu to "Audit log", then Enter.
  await page.getByTestId('menu-audit-log').waitFor()
  await page.locator('body').focus()
  for (let i = 0; i < 20 && !(await page.getByTestId('menu-audit-log').evaluate((e) => e === document.activeElement)); i++) {
    await page.keyboard.press('Tab')
  }
  await expect(page.getByTestId('menu-audit-log')).toBeFocused()
  await page.keyboard.press('Enter')
  await expect(page).toHaveURL(/\/staff\/audit-log$/)
})
