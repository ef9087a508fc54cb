// 2. A borrower changes a credit-relevant field; it waits for review; a staff member (another browser
//    context) approves it; the borrower sees it applied.
import { test, expect } from './fixtures'
import { BRANCH_MANAGER, borrowerLogin, registerBorrower, screenshot, staffLogin } from './helpers'

test('a credit-relevant change is approved by staff and then applied', async ({ page, browser, api, baseURL }) => {
  const b = await registerBorrower(api)
  await page.setViewportSize({ width: 375, height: 812 })
  await borrowerLogin(page, b.phone, b.password)

  await page.getByTestId('edit-credit').click()
  await page.getByTestId('monthly_income').fill('12345.60')
  await page.getByTestId('occupation').fill('教师')
  await page.getByTestId('save-credit').click()
  const pending = page.getByTestId('pending-change')
  await expect(pending).toBeVisible()
  await expect(pending).toContainText('¥12,345.60')
  await expect(page.getByTestId('value-monthly_income')).not.toHaveText('¥12,345.60')
  await pending.scrollIntoViewIfNeeded()
  await screenshot(page, 'borrower-pending-change-mobile')

  // Contact details apply at once.
  await page.getByTestId('edit-contact').click()
  await page.getByTestId('city').fill('南昌')
  await page.getByTestId('save-contact').click()
  await expect(page.getByTestId('value-city')).toHaveText('南昌')

  const staffContext = await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } })
  const staff = await staffContext.newPage()
  await staffLogin(staff, BRANCH_MANAGER.phone)
  await staff.getByTestId('menu-profile-changes').click()
  const row = staff.getByTestId('changes-table').locator('tr', { hasText: b.name })
  await expect(row).toContainText('¥12,345.60')
  await screenshot(staff, 'staff-profile-changes')
  await row.getByTestId('approve').click()
  await staff.getByTestId('review-confirm').click()
  await expect(staff.getByTestId('changes-table').locator('tr', { hasText: b.name })).toHaveCount(0)
  await staffContext.close()

  await page.reload()
  await expect(page.getByTestId('value-monthly_income')).toHaveText('¥12,345.60')
  await expect(page.getByTestId('value-occupation')).toHaveText('教师')
  await expect(page.getByTestId('pending-change')).toHaveCount(0)
})

test('a rejected change shows the reason to the borrower', async ({ page, browser, api, baseURL }) => {
  const b = await registerBorrower(api)
  await borrowerLogin(page, b.phone, b.password)
  await page.getByTestId('edit-credit').click()
  await page.getByTestId('total_assets').fill('9999999')
  await page.getByTestId('save-credit').click()
  await expect(page.getByTestId('pending-change')).toBeVisible()

  const staffContext = await browser.newContext({ baseURL })
  const staff = await staffContext.newPage()
  await staffLogin(staff, BRANCH_MANAGER.phone)
  await staff.goto('/staff/profile-changes')
  await staff.getByTestId('changes-table').locator('tr', { hasText: b.name }).getByTestId('reject').click()
  await staff.getByTestId('review-confirm').click()
  await expect(staff.getByText('请填写驳回原因')).toBeVisible()
  await staff.getByTestId('review-reason').fill('请提供资产证明')
  await staff.getByTestId('review-confirm').click()
  await expect(staff.getByTestId('changes-table').locator('tr', { hasText: b.name })).toHaveCount(0)
  await staffContext.close()

  await page.reload()
  await expect(page.getByTestId('change-rejected')).toContainText('请提供资产证明')
})
