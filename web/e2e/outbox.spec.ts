// 7. The outbox monitor: an administrator sees a message that failed (the SMS simulator refuses numbers
//    starting FAILING_PHONE_PREFIX), sends it again and sees it still failing, cancels it; a delivered
//    verification-code message is listed without its code.
import { randomInt } from 'node:crypto'
import type { Locator } from '@playwright/test'
import { test, expect } from './fixtures'
import { ADMIN, DEMO_PASSWORD, OFFICER_BR01, expectAccessible, randomPhone, screenshot, smsCode, staffLogin } from './helpers'
import { FAILING_PHONE_PREFIX } from './paths'

test.use({ viewport: { width: 1366, height: 900 } })

const masked = (phone: string) => `${phone.slice(0, 3)}****${phone.slice(-4)}`

async function attempts(row: Locator): Promise<number> {
  return Number((await row.getByTestId('outbox-attempts').innerText()).split('/')[0].trim())
}

test('an administrator retries a failing message, sees it still failing, cancels it; no code is ever shown', async ({ page, api }) => {
  test.setTimeout(120_000) // a sign-in with TOTP, two axe scans and a language switch
  const failing = `${FAILING_PHONE_PREFIX}${String(randomInt(0, 10_000)).padStart(4, '0')}`
  const good = randomPhone()
  for (const phone of [failing, good]) {
    const sent = await api.post('/api/v1/auth/sms-codes', { data: { phone, purpose: 'register' } })
    expect(sent.status()).toBe(202)
  }
  const code = await smsCode(api, good)

  await staffLogin(page, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)
  await page.getByTestId('menu-outbox').click()
  await expect(page.getByRole('heading', { name: '短信发送记录' })).toBeVisible()
  const table = page.getByTestId('outbox-table')

  // Delivered: listed by template and masked number, never with its text or code.
  const delivered = table.locator('tbody tr', { hasText: masked(good) })
  await expect(delivered.getByTestId('outbox-status')).toHaveText('已送达')
  await expect(delivered).toContainText('验证码')
  await expect(page.locator('body')).not.toContainText(code)
  await expect(page.locator('body')).not.toContainText(good)

  // Failed: the retrying tab (with its count) shows it with the operator's refusal.
  await expect(page.getByTestId('outbox-count-retrying')).not.toHaveText('0')
  await page.getByTestId('outbox-tab-retrying').click()
  const row = table.locator('tbody tr', { hasText: masked(failing) })
  await expect(row.getByTestId('outbox-status')).toHaveText('重试中')
  await expect(row).toContainText('refused')
  await expect(table.locator('tbody tr', { hasText: masked(good) })).toHaveCount(0)
  await expectAccessible(page, '/staff/outbox')
  await screenshot(page, 'staff-outbox')

  // Send it again now: one more attempt is made at once, and it fails again.
  const before = await attempts(row)
  await row.getByTestId('outbox-retry').click()
  const dialog = page.getByRole('dialog')
  await expect(dialog).toContainText(masked(failing))
  await expectAccessible(page, '/staff/outbox (confirm retry)')
  await dialog.getByRole('button', { name: '重新发送' }).click()
  await expect(page.getByText(`正在重新发送给 ${masked(failing)} 的短信。`)).toBeVisible()
  await expect.poll(() => attempts(row)).toBeGreaterThan(before)
  await expect(row.getByTestId('outbox-status')).toHaveText(/重试中|发送失败/)
  await expect(row).toContainText('refused')

  // Cancel it: it leaves the retrying tab for the cancelled one, and will never be sent.
  await row.getByTestId('outbox-cancel').click()
  await expect(dialog).toContainText('取消后将不再发送')
  await dialog.getByRole('button', { name: '取消发送' }).click()
  await expect(row).toHaveCount(0)
  await page.getByTestId('outbox-tab-cancelled').click()
  await expect(table.locator('tbody tr', { hasText: masked(failing) }).getByTestId('outbox-status')).toHaveText('已取消')
  await expect(table.locator('tbody tr', { hasText: masked(failing) }).getByTestId('outbox-retry')).toHaveCount(0)
  await expect(page.getByTestId('outbox-count-cancelled')).not.toHaveText('0')

  // The same page in English.
  await page.getByTestId('language-switch').click()
  await expect(page.getByRole('heading', { name: 'Message outbox' })).toBeVisible()
  await expect(table.locator('tbody tr', { hasText: masked(failing) }).getByTestId('outbox-status')).toHaveText('Cancelled')
  await page.getByTestId('outbox-tab-delivered').click()
  await expect(table.locator('tbody tr', { hasText: masked(good) })).toContainText('Verification code')
  await expect(page.locator('body')).not.toContainText(code)
})

test('staff without the permission have no menu entry and a 403 page', async ({ page }) => {
  await staffLogin(page, OFFICER_BR01.phone, DEMO_PASSWORD) // a loan officer
  await expect(page.getByTestId('menu-outbox')).toHaveCount(0)
  await page.goto('/staff/outbox')
  await expect(page.getByTestId('forbidden')).toBeVisible()
})
