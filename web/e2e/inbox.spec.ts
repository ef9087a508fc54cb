// In-app notifications (issue 16, capability 10): a borrower who submits an application sees the bell's
// unread count in the header, reads the notifications in their language, and a tap opens the application.
import { test, expect } from './fixtures'
import { borrowerLogin, expectAccessible, registerBorrower } from './helpers'

test.use({ viewport: { width: 375, height: 812 } })

test('a borrower who submits sees the notifications behind the bell and opens the application', async ({ page, request }) => {
  const b = await registerBorrower(request)
  await borrowerLogin(page, b.phone, b.password)
  await expect(page.getByTestId('bell')).toHaveAttribute('aria-label', '消息通知，没有未读消息')
  await page.getByTestId('tab-products').click()
  await page.getByTestId('offer-CONSUMER').click()
  await page.getByTestId('offer-amount').fill('12000')
  await page.getByTestId('apply-with-plan').click()
  await page.getByTestId('apply-purpose').selectOption({ label: '教育' })
  await page.getByTestId('apply-income').fill('8000')
  await page.getByTestId('apply-spending').fill('2500')
  await page.getByTestId('apply-submit').click()
  await expect(page).toHaveURL(/\/applications\/\d+$/)
  const url = page.url()
  const number = (await page.getByRole('heading', { level: 1 }).textContent())!.trim()

  // Submitted, then decided: two unread notifications.
  await expect(page.getByTestId('bell-count')).toHaveText('2')
  await expect(page.getByTestId('bell')).toHaveAttribute('aria-label', '消息通知，2 条未读')
  await page.getByTestId('bell').click()
  await expect(page).toHaveURL(/\/notifications$/)
  const items = page.getByTestId('notifications').locator('li')
  await expect(items).toHaveCount(2)
  await expect(items.nth(1)).toContainText(`您的贷款申请 ${number}`)
  await expect(items.nth(1)).toContainText('已提交，正在审查')
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
  await expectAccessible(page, 'borrower notifications')

  await items.nth(0).getByRole('button').click()
  await expect(page).toHaveURL(url)
  await expect(page.getByTestId('bell-count')).toHaveText('1')
  // The text follows the reader's language.
  await page.getByTestId('bell').click()
  await page.getByTestId('language-switch').click()
  await expect(items.nth(1)).toContainText(`Your loan application ${number}`)
  await expect(page.getByTestId('bell')).toHaveAttribute('aria-label', 'Notifications, 1 unread')
  await page.getByTestId('read-all').click()
  await expect(page.getByTestId('bell-count')).toHaveCount(0)
  await expect(page.getByTestId('read-all')).toHaveCount(0)
})
