// 3. Five wrong passwords lock the account (the app waits out the growing delay between attempts and
//    says so); an administrator unlocks it; the borrower signs in.
import { test, expect } from './fixtures'
import { ADMIN, DEMO_PASSWORD, borrowerLogin, registerBorrower, screenshot, staffLogin } from './helpers'

test('five wrong passwords lock the account; an administrator unlocks it', async ({ page, browser, api, baseURL }) => {
  test.setTimeout(90_000)
  const b = await registerBorrower(api)
  await page.goto('/login')
  await page.getByTestId('phone').fill(b.phone)
  const submit = page.getByTestId('login-submit')
  // Wrong passwords until the account locks. After two failures each attempt must wait 1 s, 2 s, 4 s:
  // an early one is answered 429 login_delayed, and the app disables the button while it counts down.
  const statuses: number[] = []
  for (let i = 1; i <= 12 && !statuses.includes(423); i++) {
    await page.getByTestId('password').fill(`wrong-password-${i}`)
    await expect(submit).toBeEnabled({ timeout: 10_000 })
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login'))
    await submit.click()
    const status = (await answer).status()
    statuses.push(status)
    if (status === 401) await expect(page.getByText('手机号或密码错误')).toBeVisible()
    if (status === 429) await expect(page.getByTestId('login-delayed')).toBeVisible()
  }
  // The fifth wrong password is the one that locks.
  expect(statuses.filter((s) => s === 401)).toHaveLength(4)
  expect(statuses.at(-1)).toBe(423)
  const locked = page.getByTestId('account-locked')
  await expect(locked).toBeVisible()
  await expect(locked).toContainText('账户已锁定')
  await screenshot(page, 'borrower-locked')

  // The right password does not help while locked.
  await page.getByTestId('password').fill(b.password)
  await submit.click()
  await expect(locked).toBeVisible()

  const adminContext = await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } })
  const admin = await adminContext.newPage()
  await staffLogin(admin, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)
  await admin.goto('/staff/borrowers')
  await admin.getByTestId('borrower-search').fill(b.phone)
  await admin.getByTestId('search-submit').click()
  await admin.getByTestId('borrower-table').getByRole('link', { name: b.name }).click()
  await expect(admin.getByTestId('locked-tag')).toBeVisible()
  await admin.getByTestId('unlock').click()
  await admin.getByRole('dialog').getByRole('button', { name: '解锁账户' }).click()
  await expect(admin.getByTestId('locked-tag')).toHaveCount(0)
  await adminContext.close()

  await borrowerLogin(page, b.phone, b.password)
})
