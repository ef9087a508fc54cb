// axe-core on the main pages of both shells (no serious or critical WCAG 2.1 A/AA violations), and
// the screenshots of the main pages saved as artefacts (test-results/screenshots/).
import { test, expect } from './fixtures'
import { ADMIN, DEMO_PASSWORD, OFFICER_BR01, borrowerLogin, expectAccessible, registerBorrower, screenshot, staffLogin } from './helpers'

test.describe('borrower app (375×812)', () => {
  test.use({ viewport: { width: 375, height: 812 } })

  test('public pages', async ({ page }) => {
    for (const [path, name] of [
      ['/', 'borrower-home'],
      ['/login', 'borrower-login'],
      ['/register', 'borrower-register'],
      ['/reset-password', 'borrower-reset-password'],
      ['/sms-inbox', 'borrower-sms-inbox'],
      ['/calculator', 'borrower-calculator'],
      ['/no-such-page', 'not-found'],
    ]) {
      await page.goto(path)
      await page.waitForLoadState('networkidle')
      await expectAccessible(page, path)
      await screenshot(page, `a11y-${name}`)
    }
    // Errors shown next to the fields are accessible too.
    await page.goto('/login')
    await page.getByTestId('login-submit').click()
    await expect(page.getByText('必填').first()).toBeVisible()
    await expectAccessible(page, '/login with errors')
  })

  test('profile', async ({ page, api }) => {
    const b = await registerBorrower(api)
    await borrowerLogin(page, b.phone, b.password)
    await page.waitForLoadState('networkidle')
    await expectAccessible(page, '/me')
    await page.getByTestId('edit-credit').click()
    await expectAccessible(page, '/me (editing)')
    await page.getByTestId('monthly_income').fill('6000')
    await page.getByTestId('save-credit').click()
    await expect(page.getByTestId('pending-change')).toBeVisible()
    await expectAccessible(page, '/me (change pending)')
    await page.getByTestId('withdraw-change').click()
    await expect(page.getByRole('dialog')).toBeVisible()
    await expectAccessible(page, '/me (withdraw dialog)')
    await page.getByRole('dialog').getByRole('button', { name: '撤回此变更' }).click()
    await expect(page.getByTestId('history-withdrawn')).toBeVisible()
    await expectAccessible(page, '/me (history)')
    await page.getByTestId('language-switch').click()
    await expectAccessible(page, '/me (English)')
  })
})

test.describe('staff console (1366×900)', () => {
  test.use({ viewport: { width: 1366, height: 900 } })

  test('sign-in pages', async ({ page }) => {
    await page.goto('/staff/login')
    await expectAccessible(page, '/staff/login')
    await page.getByTestId('phone').fill(ADMIN.phone)
    await page.getByTestId('password').fill(DEMO_PASSWORD)
    await page.getByTestId('login-submit').click()
    await expect(page.getByTestId('totp')).toBeVisible()
    await expectAccessible(page, '/staff/login (second factor)')
  })

  const ADMIN_PAGES: [string, string, string][][] = [
    [
      ['/staff', 'staff-home', 'staff-menu'],
      ['/staff/borrowers', 'staff-borrowers', 'borrower-table'],
      ['/staff/institutions', 'staff-institutions', 'institution-table'],
      ['/staff/branches', 'staff-branches', 'branch-table'],
    ],
    [
      ['/staff/staff', 'staff-staff', 'staff-table'],
      ['/staff/roles', 'staff-roles', 'roles-table'],
      ['/staff/login-history', 'staff-login-history', 'login-table'],
      ['/staff/audit-log', 'staff-audit-log', 'audit-table'],
      ['/staff/account', 'staff-account', 'session-current'],
    ],
  ]
  for (const [i, pages] of ADMIN_PAGES.entries()) {
    test(`administration pages, part ${i + 1}`, async ({ page }) => {
      await staffLogin(page, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)
      for (const [path, name, ready] of pages) {
        await page.goto(path)
        await expect(page.getByTestId(ready)).toBeVisible()
        await page.waitForLoadState('networkidle')
        await expectAccessible(page, path)
        await screenshot(page, name)
      }
    })
  }

  test('audit chain verification and a dialog', async ({ page }) => {
    await staffLogin(page, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)
    await page.goto('/staff/audit-log')
    await page.getByTestId('verify-chain').click()
    await expect(page.getByTestId('verify-result')).toContainText('审计链完整')
    await expectAccessible(page, '/staff/audit-log (verified)')
    await screenshot(page, 'staff-audit-log-verified')

    await page.goto('/staff/staff')
    await page.getByTestId('create-staff').click()
    await expect(page.getByRole('dialog')).toBeVisible()
    await expectAccessible(page, 'create staff dialog')
  })

  test('loan officer pages', async ({ page, api }) => {
    await staffLogin(page, OFFICER_BR01.phone)
    await page.goto('/staff/borrowers')
    await expect(page.getByTestId('borrower-table').locator('tbody tr').first()).toBeVisible()
    await expectAccessible(page, '/staff/borrowers (officer)')
    await screenshot(page, 'staff-borrower-list')
    await page.getByTestId('borrower-table').getByRole('link').first().click()
    await expect(page.getByTestId('reveal')).toBeVisible()
    await page.getByTestId('reveal').click()
    await expect(page.getByTestId('revealed')).toBeVisible()
    await expectAccessible(page, 'borrower detail')
    await screenshot(page, 'staff-borrower-detail')
    await page.goto('/staff/borrowers/new')
    await expectAccessible(page, '/staff/borrowers/new')
    await screenshot(page, 'staff-walk-in')
    await page.goto('/staff/profile-changes')
    await expect(page.getByTestId('changes-table')).toBeVisible()
    await expectAccessible(page, '/staff/profile-changes')
    await page.goto('/staff/audit-log')
    await expect(page.getByTestId('forbidden')).toBeVisible()
    await expectAccessible(page, '403')
    await screenshot(page, 'staff-forbidden')
    void api
  })
})
