// 4. An administrator signs in with TOTP, creates a branch and a loan officer; the officer signs in
//    (first time: SMS code) and sees only their branch's borrowers; the administrator signs them out
//    everywhere. Also: enrolling an authenticator without a password, and the exports of the lists
//    that gained one (institutions, roles).
import { test, expect } from './fixtures'
import {
  ADMIN, DEMO_PASSWORD, freshTotp, idNumber, lastSmsId, randomName, randomPhone, screenshot, smsCode, staffLogin,
} from './helpers'

test.use({ viewport: { width: 1366, height: 900 } })

test('administrator creates a branch and a loan officer who sees only that branch', async ({ page, browser, api, baseURL }) => {
  await staffLogin(page, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)
  await expect(page.getByTestId('business-date')).toContainText('营业日')
  const code = `E2E${Date.now() % 100000}`
  const branchName = `测试支行${code}`

  await page.getByTestId('menu-branches').click()
  await page.getByTestId('create-branch').click()
  await page.getByTestId('branch-code').fill(code)
  await page.getByTestId('branch-name').fill(branchName)
  await page.getByTestId('branch-save').click()
  await expect(page.getByTestId('branch-table')).toContainText(branchName)

  const officerPhone = randomPhone()
  const officerName = randomName()
  await page.getByTestId('menu-staff').click()
  await page.getByTestId('create-staff').click()
  await page.getByTestId('staff-name').fill(officerName)
  await page.getByTestId('staff-number').fill(`N${code}`)
  await page.getByTestId('staff-phone').fill(officerPhone)
  await page.getByTestId('staff-branch').click()
  await page.getByRole('option', { name: new RegExp(branchName) }).click()
  await page.getByTestId('staff-roles').click()
  await page.getByRole('option', { name: '客户经理' }).click()
  await page.keyboard.press('Escape')
  await page.getByTestId('staff-save').click()
  await expect(page.getByTestId('staff-table')).toContainText(officerName)

  // The officer's first sign-in: an SMS code (no password was chosen for them).
  const ctx = await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } })
  const officer = await ctx.newPage()
  await officer.goto('/staff/login')
  await officer.getByRole('tab', { name: '验证码登录' }).click()
  await officer.getByTestId('phone').fill(officerPhone)
  await officer.getByTestId('send-code').click()
  await officer.getByTestId('code').fill(await smsCode(api, officerPhone))
  await officer.getByTestId('login-submit').click()
  await expect(officer.getByTestId('staff-menu')).toBeVisible()
  await expect(officer.getByTestId('menu-audit-log')).toHaveCount(0)

  // Their branch has no borrowers yet: the demo borrowers of other branches are not visible.
  await officer.getByTestId('menu-borrowers').click()
  await expect(officer.getByTestId('borrower-table')).toContainText(/暂无数据|No Data/)
  await officer.getByTestId('borrower-search').fill('张三')
  await officer.getByTestId('search-submit').click()
  await expect(officer.getByTestId('borrower-table')).toContainText(/暂无数据|No Data/)

  // They register a walk-in borrower, who lands in their branch and is the only one they see.
  const walkInName = randomName()
  await officer.getByTestId('menu-borrower-new').click()
  await officer.getByTestId('real-name').fill(walkInName)
  await officer.getByTestId('id-number').fill(idNumber('19851230'))
  await officer.getByTestId('phone').fill(randomPhone())
  await officer.getByTestId('consent-signed').click()
  await officer.getByTestId('walk-in-submit').click()
  await expect(officer).toHaveURL(/\/staff\/borrowers\/\d+$/)
  await expect(officer.getByRole('heading', { name: walkInName })).toBeVisible()
  await officer.getByTestId('menu-borrowers').click()
  await officer.getByTestId('borrower-search').fill('')
  await officer.getByTestId('search-submit').click()
  await expect(officer.getByTestId('borrower-table').locator('tbody tr')).toHaveCount(1)
  await expect(officer.getByTestId('borrower-table')).toContainText(walkInName)

  // A page outside their permissions is a clear 403.
  await officer.goto('/staff/audit-log')
  await expect(officer.getByTestId('forbidden')).toBeVisible()

  // The administrator signs them out on every device (a lost laptop): their next request ends at sign-in.
  await page.getByTestId('menu-staff').click()
  await page.getByTestId('staff-table').locator('tr', { hasText: officerName }).getByTestId('staff-more').click()
  await page.getByRole('menuitem', { name: '全部退出登录' }).click()
  await page.getByRole('dialog').getByRole('button', { name: '确定' }).click()
  await expect(page.getByText(`${officerName} 已在所有设备上退出登录`)).toBeVisible()
  await officer.getByTestId('menu-borrowers').click()
  await expect(officer).toHaveURL(/\/staff\/login\?redirect=/)
  await ctx.close()
})

test('a role that requires a second factor enrols an authenticator with the QR code', async ({ page, browser, api, baseURL }) => {
  await staffLogin(page, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)
  const phone = randomPhone()
  const name = randomName()
  await page.goto('/staff/staff')
  await page.getByTestId('create-staff').click()
  await page.getByTestId('staff-name').fill(name)
  await page.getByTestId('staff-number').fill(`M${Date.now() % 100000}`)
  await page.getByTestId('staff-phone').fill(phone)
  await page.getByTestId('staff-roles').click()
  await page.getByRole('option', { name: '终审员' }).click()
  await page.keyboard.press('Escape')
  await page.getByTestId('staff-save').click()
  await expect(page.getByTestId('staff-table')).toContainText(name)

  const ctx = await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } })
  const approver = await ctx.newPage()
  await approver.goto('/staff/login')
  await approver.getByRole('tab', { name: '验证码登录' }).click()
  await approver.getByTestId('phone').fill(phone)
  const before = await lastSmsId(api, phone)
  await approver.getByTestId('send-code').click()
  await approver.getByTestId('code').fill(await smsCode(api, phone, before))
  await approver.getByTestId('login-submit').click()
  // No password yet: the QR code comes at once; choosing a password is offered, not required.
  await expect(approver).toHaveURL(/\/staff\/enrol/)
  await expect(approver.getByTestId('qr')).toBeVisible()
  await expect(approver.getByTestId('current-password')).toHaveCount(0)
  await screenshot(approver, 'staff-totp-enrolment')
  await approver.getByTestId('choose-password').click()
  await approver.getByTestId('new-password').fill('Approver-Pass-2026')
  await approver.getByTestId('set-password').click()
  await expect(approver.getByTestId('password-set')).toBeVisible()
  const secret = (await approver.getByTestId('totp-secret').textContent())!.trim()
  await approver.getByTestId('totp').fill(await freshTotp(secret))
  await approver.getByTestId('enrol-confirm').click()
  await expect(approver.getByTestId('staff-menu')).toBeVisible()

  // Next sign-in: password, then the authenticator code.
  await approver.getByTestId('user-menu').click()
  await approver.getByTestId('logout').click()
  await expect(approver).toHaveURL(/\/staff\/login/)
  await approver.getByTestId('phone').fill(phone)
  await approver.getByTestId('password').fill('Approver-Pass-2026')
  await approver.getByTestId('login-submit').click()
  await approver.getByTestId('totp').fill(await freshTotp(secret))
  await approver.getByTestId('totp-submit').click()
  await expect(approver.getByTestId('staff-menu')).toBeVisible()
  await ctx.close()
})

test('the lists that gained an export download .xlsx files', async ({ page }) => {
  await staffLogin(page, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)
  for (const [path, ready, name] of [
    ['/staff/institutions', 'institution-table', /^institutions.*\.xlsx$/],
    ['/staff/roles', 'roles-table', /^roles.*\.xlsx$/],
  ] as const) {
    await page.goto(path)
    await expect(page.getByTestId(ready)).toBeVisible()
    const download = page.waitForEvent('download')
    await page.getByTestId('export').click()
    expect((await download).suggestedFilename()).toMatch(name)
  }
})
