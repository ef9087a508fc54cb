// WeChat sign-in through the real OAuth2 redirect flow against the built-in provider simulator: a new
// account proves a phone by SMS and registers; the next time it signs straight in.
import { test, expect } from './fixtures'
import { acceptConsents, idNumber, lastSmsId, randomName, randomPhone, smsCode } from './helpers'

test.use({ viewport: { width: 375, height: 812 } })

test('sign in with WeChat: link a phone, register, then sign in directly', async ({ page, api }) => {
  const account = `wx-${Date.now()}`
  const phone = randomPhone()

  await page.goto('/login')
  await page.getByTestId('oauth-wechat').click()
  await expect(page).toHaveURL(/\/_sim\/oauth\/wechat\/authorize/)
  await page.locator('#account').fill(account)
  await page.getByRole('button', { name: /Authorize/ }).click()

  await expect(page).toHaveURL(/\/oauth\/complete/)
  await page.getByTestId('phone').fill(phone)
  await page.getByTestId('send-code').click()
  await page.getByTestId('code').fill(await smsCode(api, phone))
  await page.getByTestId('link-submit').click()

  // Nobody has this phone yet: registration, with the phone already proven (no SMS code asked).
  await expect(page).toHaveURL(/\/register\?oauth_ticket=/)
  await expect(page.getByTestId('code')).toHaveCount(0)
  await page.getByTestId('real-name').fill(randomName())
  await page.getByTestId('id-number').fill(idNumber('19920315'))
  await page.getByTestId('password').fill('Wechat-Linked-2026')
  await acceptConsents(page)
  await page.getByTestId('register-submit').click()
  await expect(page).toHaveURL(/\/me$/)
  await page.getByTestId('logout').click()

  await page.getByTestId('oauth-wechat').click()
  await page.locator('#account').fill(account)
  await page.getByRole('button', { name: /Authorize/ }).click()
  await expect(page).toHaveURL(/\/me$/)
  expect(await lastSmsId(api, phone)).toBeGreaterThan(0)
})

test('declining at the provider says so', async ({ page }) => {
  await page.goto('/login')
  await page.getByTestId('oauth-alipay').click()
  await page.getByRole('button', { name: /Deny/ }).click()
  await expect(page).toHaveURL(/\/oauth\/complete/)
  await expect(page.getByText('您拒绝了授权')).toBeVisible()
})
