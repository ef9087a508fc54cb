// 1. A borrower registers with the SMS code from the simulator's message box, signs out, then signs
//    in with the password and with an SMS code. The ID number is checked as it is typed. Also: a
//    forgotten password, and signing out another device from the list of signed-in devices.
import { test, expect } from './fixtures'
import { acceptConsents, borrowerLogin, idNumber, lastSmsId, randomName, randomPhone, registerBorrower, screenshot, smsCode, withWrongChecksum } from './helpers'

test.use({ viewport: { width: 375, height: 812 } })

test('register with an SMS code, sign out, sign in by password and by SMS code', async ({ page, api }) => {
  const phone = randomPhone()
  const id = idNumber()
  const password = 'Blue-River-Stone-9'

  await page.goto('/')
  await screenshot(page, 'borrower-home-mobile')
  await page.getByTestId('home-register').click()
  await expect(page).toHaveURL(/\/register$/)

  // Live validation, with the API's rules: a wrong check character is named as such.
  await page.getByTestId('phone').fill('1234')
  await page.getByTestId('id-number').fill(withWrongChecksum(id))
  await expect(page.getByText('身份证号码校验位（最后一位）不正确')).toBeVisible()
  await expect(page.getByText('手机号应为 11 位数字')).toBeVisible()

  await page.getByTestId('phone').fill(phone)
  await page.getByTestId('id-number').fill(id)
  await expect(page.getByText('身份证号码校验位（最后一位）不正确')).toBeHidden()
  await page.getByTestId('send-code').click()
  await expect(page.getByTestId('send-code')).toBeDisabled()

  // The demo's message box shows the simulated SMS with its code.
  await page.getByTestId('open-inbox').click()
  const code = page.getByRole('dialog').getByTestId('sms-code').first()
  await expect(code).toHaveText(/^\d{6}$/)
  const received = (await code.textContent())!.trim()
  await page.getByRole('dialog').getByRole('button', { name: /关闭|Close/ }).click()

  await page.getByTestId('code').fill(received)
  await page.getByTestId('real-name').fill(randomName())
  await page.getByTestId('password').fill(password)
  await acceptConsents(page)
  await screenshot(page, 'borrower-registration')
  await page.getByTestId('register-submit').click()

  await expect(page).toHaveURL(/\/me$/)
  await expect(page.getByTestId('id-masked')).toHaveText(/^3601\d{2}\*+\d{3}[\dX]$|\*/)
  await expect(page.getByTestId('id-masked')).not.toHaveText(id)
  await expect(page.getByTestId('phone-masked')).toContainText('****')
  await screenshot(page, 'borrower-profile-mobile')

  await page.getByTestId('logout').click()
  await expect(page).toHaveURL(/\/login$/)

  // Password.
  await page.getByTestId('phone').fill(phone)
  await page.getByTestId('password').fill(password)
  await page.getByTestId('login-submit').click()
  await expect(page).toHaveURL(/\/me$/)
  await page.getByTestId('logout').click()

  // SMS code.
  await page.getByRole('tab', { name: '验证码登录' }).click()
  await page.getByTestId('phone').fill(phone)
  const before = await lastSmsId(api, phone)
  await page.getByTestId('send-code').click()
  await page.getByTestId('code').fill(await smsCode(api, phone, before))
  await page.getByTestId('login-submit').click()
  await expect(page).toHaveURL(/\/me$/)
})

test('a forgotten password is reset with an SMS code', async ({ page, api }) => {
  const b = await registerBorrower(api)
  await page.goto('/login')
  await page.getByRole('link', { name: '忘记密码？' }).click()
  await expect(page.getByRole('heading', { name: '重置密码' })).toBeVisible()
  await page.getByTestId('phone').fill(b.phone)
  const before = await lastSmsId(api, b.phone)
  await page.getByTestId('send-code').click()
  await page.getByTestId('code').fill(await smsCode(api, b.phone, before))
  await page.getByTestId('password').fill('Another-Long-Pass-77')
  await page.getByTestId('reset-submit').click()
  await expect(page).toHaveURL(/\/login\?phone=/)
  await page.getByTestId('password').fill('Another-Long-Pass-77')
  await page.getByTestId('login-submit').click()
  await expect(page).toHaveURL(/\/me$/)
})

test('a borrower signs out another device from the profile page', async ({ page, browser, api, baseURL }) => {
  const b = await registerBorrower(api)
  const otherContext = await browser.newContext({ baseURL, viewport: { width: 375, height: 812 } })
  const other = await otherContext.newPage()
  await borrowerLogin(other, b.phone, b.password)
  await borrowerLogin(page, b.phone, b.password)

  // Registration (through the API), the other phone, and this one.
  const sessions = page.getByTestId('sessions')
  await expect(sessions.getByTestId('session')).toHaveCount(3)
  await expect(sessions.getByTestId('session-current')).toHaveCount(1)
  await expect(sessions.getByTestId('session').first()).toContainText('本设备')
  await expect(sessions.getByTestId('end-session')).toHaveCount(2)
  for (const left of [2, 1]) {
    await sessions.getByTestId('end-session').first().click()
    await page.getByRole('dialog').getByRole('button', { name: '退出该设备' }).click()
    await expect(sessions.getByTestId('session')).toHaveCount(left)
  }
  await sessions.scrollIntoViewIfNeeded()
  await screenshot(page, 'borrower-devices-mobile')

  // The other phone is signed out: its next request goes to sign-in.
  await other.reload()
  await expect(other).toHaveURL(/\/login/)
  await otherContext.close()

  // This device is still signed in.
  await page.reload()
  await expect(page.getByTestId('sessions').getByTestId('session')).toHaveCount(1)
})
