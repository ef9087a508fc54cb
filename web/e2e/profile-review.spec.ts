// 2. A borrower changes a credit-relevant field; it waits for review; a staff member (another browser
//    context) finds the borrower by the full ID number and approves it; the borrower sees it applied.
//    Also: a rejection with its reason, a change withdrawn by the borrower, and an approval refused
//    because staff edited the fields meanwhile.
import { test, expect } from './fixtures'
import { BRANCH_MANAGER, DEMO_PASSWORD, borrowerLogin, expectAccessible, registerBorrower, screenshot, staffLogin } from './helpers'

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

  // The full ID number finds the borrower; it travels in a POST body, never in a URL.
  const urls: string[] = []
  staff.on('request', (r) => urls.push(r.url()))
  await staff.getByTestId('menu-borrowers').click()
  await staff.getByTestId('borrower-search').fill(b.idNumber)
  const searched = staff.waitForResponse((r) => r.url().endsWith('/api/v1/borrowers/search') && (r.request().postData() ?? '').includes(b.idNumber))
  await staff.getByTestId('search-submit').click()
  expect((await searched).status()).toBe(200)
  await expect(staff.getByTestId('borrower-table').locator('tbody tr')).toHaveCount(1)
  await expect(staff.getByTestId('borrower-table')).toContainText(b.name)
  expect(urls.filter((u) => u.includes(b.idNumber))).toEqual([])

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

test('a borrower adds to a pending change, then withdraws it', async ({ page, api }) => {
  const b = await registerBorrower(api)
  await page.setViewportSize({ width: 375, height: 812 })
  await borrowerLogin(page, b.phone, b.password)
  await page.getByTestId('edit-credit').click()
  await page.getByTestId('monthly_income').fill('7000')
  await page.getByTestId('save-credit').click()
  const pending = page.getByTestId('pending-change')
  await expect(pending).toContainText('¥7,000.00')

  // Editing again merges: the form shows the value asked for, and the untouched field stays pending.
  await page.getByTestId('edit-credit').click()
  await expect(page.getByTestId('monthly_income')).toHaveValue('7000.00')
  await page.getByTestId('occupation').fill('厨师')
  await page.getByTestId('save-credit').click()
  await expect(pending).toContainText('¥7,000.00')
  await expect(pending).toContainText('厨师')

  await pending.getByTestId('withdraw-change').click()
  await page.getByRole('dialog').getByRole('button', { name: '撤回此变更' }).click()
  await expect(pending).toHaveCount(0)
  await expect(page.getByTestId('history-withdrawn')).toContainText('已撤回')
  await expect(page.getByTestId('history-withdrawn')).toContainText('厨师')
  await expect(page.getByTestId('value-monthly_income')).not.toHaveText('¥7,000.00')
})

test('approving a change whose fields staff edited meanwhile is refused, and says which', async ({ page, api }) => {
  const b = await registerBorrower(api)
  const asBorrower = { Authorization: `Bearer ${b.token}` }
  const sent = await api.patch('/api/v1/me/profile', { headers: asBorrower, data: { monthly_income: '8000', occupation: '司机' } })
  expect(sent.status(), await sent.text()).toBe(200)
  const borrowerId = (await sent.json()).id as number

  // A staff member edits the monthly income directly after the request.
  const login = await api.post('/api/v1/auth/login', { data: { phone: BRANCH_MANAGER.phone, password: DEMO_PASSWORD, kind: 'staff' } })
  const staffToken = (await login.json()).token as string
  const edited = await api.patch(`/api/v1/borrowers/${borrowerId}`, { headers: { Authorization: `Bearer ${staffToken}` }, data: { monthly_income: '6500' } })
  expect(edited.status(), await edited.text()).toBe(200)

  await page.setViewportSize({ width: 1366, height: 900 })
  await staffLogin(page, BRANCH_MANAGER.phone)
  await page.goto('/staff/profile-changes')
  const row = page.getByTestId('changes-table').locator('tr', { hasText: b.name })
  await row.getByTestId('approve').click()
  await page.getByTestId('review-confirm').click()
  const outdated = page.getByTestId('change-outdated')
  await expect(outdated).toContainText('此变更已过时')
  const line = outdated.getByTestId('outdated-monthly_income')
  await expect(line).toContainText('月收入')
  await expect(line).toContainText('¥6,500.00')
  await expect(line).toContainText('¥8,000.00')
  await expect(outdated.getByTestId('outdated-occupation')).toHaveCount(0)
  await expectAccessible(page, 'review dialog (change outdated)')
  await screenshot(page, 'staff-change-outdated')

  await page.getByTestId('reject-instead').click()
  await expect(page.getByTestId('review-reason')).toHaveValue(/工作人员已更新/)
  await page.getByTestId('review-confirm').click()
  await expect(page.getByTestId('changes-table').locator('tr', { hasText: b.name })).toHaveCount(0)
})
