// 3. Consent at registration (PIPL): a new borrower must tick three separate consents — the user
//    agreement, the privacy policy and, on its own, the processing of their ID number — each document
//    readable on a phone; the consents are recorded, and a staff member sees them on the borrower's
//    page with the version, the time and the channel. The borrower withdraws the sensitive one.
import { test, expect } from './fixtures'
import { BRANCH_MANAGER, CONSENT_KINDS, expectAccessible, idNumber, randomName, randomPhone, screenshot, smsCode, staffLogin } from './helpers'

test('a new borrower accepts the three documents, and staff see the consents', async ({ page, browser, api, baseURL }) => {
  await page.setViewportSize({ width: 375, height: 812 })
  const phone = randomPhone()
  const name = randomName()
  const id = idNumber('19880808')

  await page.goto('/register')
  for (const kind of CONSENT_KINDS) await expect(page.getByTestId(`consent-${kind}`).locator('input')).not.toBeChecked()
  await expect(page.getByTestId('sensitive-hint')).toContainText('第二十九条')

  await page.getByTestId('phone').fill(phone)
  await page.getByTestId('send-code').click()
  await page.getByTestId('code').fill(await smsCode(api, phone))
  await page.getByTestId('real-name').fill(name)
  await page.getByTestId('id-number').fill(id)
  await page.getByTestId('password').fill('Consent-Given-2026')

  // Without the consents nothing is sent; each box says what it needs, tied to the box.
  const registered = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/register'), { timeout: 1500 }).catch(() => null)
  await page.getByTestId('register-submit').click()
  for (const kind of CONSENT_KINDS) {
    const box = page.getByTestId(`consent-${kind}`).locator('input')
    await expect(box).toHaveAttribute('aria-invalid', 'true')
    const describedBy = (await box.getAttribute('aria-describedby'))!.split(' ')[0]
    await expect(page.locator(`[id="${describedBy}"]`)).toHaveText('请阅读并勾选同意')
  }
  expect(await registered).toBeNull()

  // The sensitive-information rules open in a dialog that fits the phone; accepting there ticks the box.
  await page.getByTestId('read-sensitive_info').click()
  const dialog = page.getByTestId('consent-dialog')
  await expect(dialog.getByTestId('consent-body')).toContainText('居民身份证号码')
  const box = await page.locator('.el-dialog').boundingBox()
  expect(box!.width).toBeLessThanOrEqual(375)
  await screenshot(page, 'borrower-consent-document-mobile')
  await page.getByTestId('consent-accept').click()
  await expect(page.getByTestId('consent-sensitive_info').locator('input')).toBeChecked()
  await page.getByTestId('consent-user_agreement').click()
  await page.getByTestId('consent-privacy_policy').click()
  await screenshot(page, 'borrower-registration-consents-mobile', true)
  await expectAccessible(page, '/register with the consents ticked')
  await page.getByTestId('register-submit').click()
  await expect(page).toHaveURL(/\/me$/)

  // The borrower sees their consents on their profile.
  const mine = page.getByTestId('my-consents')
  await expect(mine.getByTestId('consent-records').locator('li')).toHaveCount(3)
  await expect(mine.getByTestId('consent-sensitive_info')).toContainText('线上注册')

  // A staff member finds the borrower and sees the three consents with version, time and channel.
  const staffContext = await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } })
  const staff = await staffContext.newPage()
  await staffLogin(staff, BRANCH_MANAGER.phone)
  await staff.getByTestId('menu-borrowers').click()
  await staff.getByTestId('borrower-search').fill(id)
  await staff.getByTestId('search-submit').click()
  await staff.getByTestId('borrower-table').getByRole('link', { name }).click()
  await expect(staff).toHaveURL(/\/staff\/borrowers\/\d+$/)
  const block = staff.getByTestId('borrower-consents')
  for (const [kind, label] of [['user_agreement', '用户协议'], ['privacy_policy', '隐私政策'], ['sensitive_info', '敏感个人信息处理规则']]) {
    const rec = block.getByTestId(`consent-${kind}`)
    await expect(rec).toContainText(label)
    await expect(rec).toContainText('版本 1.0')
    await expect(rec.getByTestId('consent-channel')).toHaveText('线上注册')
    await expect(rec.getByTestId('consent-time')).toHaveText(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}$/)
    await expect(rec).toContainText('有效')
  }
  await block.scrollIntoViewIfNeeded()
  await screenshot(staff, 'staff-borrower-consents')

  // The borrower withdraws the sensitive-information consent: staff see when.
  await mine.getByTestId('withdraw-sensitive_info').click()
  await page.getByRole('dialog').getByRole('button', { name: '撤回同意' }).click()
  await expect(mine.getByTestId('consent-sensitive_info')).toContainText('撤回')
  await staff.reload()
  await expect(staff.getByTestId('borrower-consents').getByTestId('consent-sensitive_info')).toContainText(/已于 .+ 撤回/)
  await staffContext.close()
})
