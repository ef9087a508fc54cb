// Loans (issue 17, first slice of the screens). A borrower on a 375 px phone applies and is approved by
// the automated review; the finance officer (冯琳, role finance), in a browser context of her own, finds
// "disbursements waiting" among her to-dos, opens the loan on the disbursement desk and disburses it
// (value date back-dated 40 days, so that the first installment has fallen due), records a repayment of
// that installment and sees it paid in the schedule; reverses it (a bounced transfer: the note is
// required) and sees it overdue again; records it again and a prepayment that shortens the term; the
// repayment's ledger entry is one click away.
// The borrower signs the contract first (only a signed contract is paid out). The borrower then sees the
// loan, its schedule (the first installment paid) and the next payment, and pays it on the phone through
// the payment provider simulator's checkout: confirmed by the provider, the payment is in the history
// and listed as succeeded.
import type { APIRequestContext, Page } from '@playwright/test'
import { test, expect } from './fixtures'
import { DEMO_PASSWORD, borrowerLogin, cleanIdNumber, currentConsents, drawn, expectAccessible, idNumber, lateLoan, randomName, randomPhone, screenshot, signContract, smsCode, staffLogin } from './helpers'

const FINANCE = { phone: '13900000009' } // 冯琳, 财务
const REVIEWER_L2 = { phone: '13900000006' } // 吴芳, 复审员


/** Register a borrower with a clean bureau file, through the API. */
async function registerClean(api: APIRequestContext) {
  const phone = randomPhone()
  expect((await api.post('/api/v1/auth/sms-codes', { data: { phone, purpose: 'register' } })).status()).toBe(202)
  const code = await smsCode(api, phone)
  const b = { phone, password: 'Spring-Rain-2026', name: randomName(), idNumber: cleanIdNumber() }
  const r = await api.post('/api/v1/auth/register', {
    data: { phone, sms_code: code, real_name: b.name, id_number: b.idNumber, password: b.password, consents: await currentConsents(api) },
  })
  expect(r.status(), await r.text()).toBe(202)
  const login = await api.post('/api/v1/auth/login', { data: { phone, password: b.password, kind: 'borrower' } })
  expect(login.status(), await login.text()).toBe(200)
  return { ...b, token: (await login.json()).token as string }
}

const plain = (money: string) => money.replace(/[¥,\s]/g, '')

/** A clean borrower's consumer loan of 8,000, applied for on the phone with the quote's plan and approved. */
async function approvedApplication(page: Page, api: APIRequestContext) {
  // The borrower: the documents the consumer product asks for, then an application with its quote's plan.
  const b = await registerClean(api)
  await page.setViewportSize({ width: 375, height: 812 })
  await borrowerLogin(page, b.phone, b.password)
  for (const type of ['id_card', 'bank_statement']) {
    const up = await api.post('/api/v1/me/documents', {
      headers: { Authorization: `Bearer ${b.token}` },
      multipart: { type, file: { name: `${type}.jpg`, mimeType: 'image/jpeg', buffer: await drawn(page) } },
    })
    expect(up.status(), await up.text()).toBe(201)
  }
  await page.getByTestId('tab-products').click()
  await page.getByTestId('offer-CONSUMER').click()
  await page.getByTestId('offer-amount').fill('8000')
  await expect(page.getByTestId('offer-schedule')).toBeVisible()
  await page.getByTestId('apply-with-plan').click()
  await page.getByTestId('apply-purpose').selectOption({ label: '教育' })
  await page.getByTestId('apply-income').fill('50000') // the clean_thick file carries other loans' payments: room for them
  await page.getByTestId('apply-spending').fill('2500')
  await page.getByTestId('apply-submit').click()
  await expect(page).toHaveURL(/\/applications\/\d+$/)
  await expect(page.getByTestId('application-status')).toHaveText('已批准')
  return { b, applicationId: /\/applications\/(\d+)$/.exec(page.url())![1] }
}

test('a borrower is approved, finance disburses and records a repayment, both see the schedule', async ({ page, browser, api, baseURL }) => {
  test.setTimeout(180_000)
  const { b, applicationId } = await approvedApplication(page, api)
  await signContract(api, b, applicationId)
  // No loan yet: the borrower's loans page says so.
  await page.goto('/')
  await page.getByTestId('home-loans').click()
  await expect(page.getByTestId('my-loans-empty')).toBeVisible()

  // Finance, in a browser context of their own: the to-do leads to the desk.
  const staffContext = await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } })
  const staff = await staffContext.newPage()
  await staffLogin(staff, FINANCE.phone, DEMO_PASSWORD)
  const todo = staff.getByTestId('todo-disbursements_waiting')
  await expect(todo).toContainText('待放款')
  await todo.click()
  await expect(staff).toHaveURL(/\/staff\/loans\/desk$/)
  await expect(staff.getByRole('heading', { name: '放款工作台' })).toBeVisible()
  const approved = staff.getByTestId('desk-approved').locator('tbody tr', { hasText: b.name })
  await expect(approved).toHaveCount(1)
  await approved.getByRole('button', { name: '开立贷款' }).click()
  const pending = staff.getByTestId('desk-pending').locator('tbody tr', { hasText: b.name })
  await expect(pending).toHaveCount(1)
  await expect(approved).toHaveCount(0)
  await expectAccessible(staff, 'disbursement desk')
  await screenshot(staff, 'staff-disbursement-desk')
  await pending.locator('[data-testid^="disburse-"]').click()
  const dialog = staff.getByTestId('disburse-dialog')
  const dateInput = dialog.locator('.el-date-editor input')
  const today = await dateInput.inputValue()
  expect(today).toMatch(/^\d{4}-\d{2}-\d{2}$/)
  const back = new Date(`${today}T00:00:00Z`)
  back.setUTCDate(back.getUTCDate() - 40)
  await dateInput.fill(back.toISOString().slice(0, 10))
  await dateInput.press('Enter')
  await dialog.getByTestId('disburse-reference').fill('B-E2E-0001')
  await dialog.getByTestId('disburse-save').click()

  // The loan: active, its first installment overdue; a repayment of exactly that installment pays it.
  await expect(staff).toHaveURL(/\/staff\/loans\/\d+$/)
  await expect(staff.getByTestId('loan-status')).toHaveText('还款中')
  await expect(staff.getByTestId('installment-1-status')).toHaveText('已逾期')
  await expect(staff.getByTestId('installment-2-status')).toHaveText('待还')
  const first = staff.getByTestId('loan-schedule').locator('tbody tr').first()
  const owed = plain((await first.locator('td').nth(8).textContent()) ?? '')
  expect(owed).toMatch(/^\d+\.\d{2}$/)
  await staff.getByTestId('record-repayment').click()
  const action = staff.getByTestId('loan-action-dialog')
  // Refused before it leaves: an amount that is not one, told beside the field.
  await action.getByTestId('action-amount').fill('0')
  await action.getByTestId('action-save').click()
  await expect(action.locator('.el-form-item', { has: staff.getByTestId('action-amount') }).locator('.el-form-item__error')).toContainText('大于 0')
  await action.getByTestId('action-amount').fill(owed)
  await action.getByTestId('action-channel').click()
  await staff.getByRole('option', { name: '现金' }).click()
  await action.getByTestId('action-reference').fill('柜面 0001')
  await action.getByTestId('action-save').click()
  await expect(action).toBeHidden()
  await expect(staff.getByTestId('installment-1-status')).toHaveText('已还清')
  await expect(staff.getByTestId('loan-payments')).toContainText('第 1 期本金')
  await expect(staff.getByTestId('loan-events')).toContainText('经办人：冯琳')

  // A reversal (the transfer bounced): the note is required, told beside it; the installment is overdue again.
  await staff.getByTestId('record-reversal').click()
  await action.getByTestId('action-event').click()
  await staff.getByRole('option', { name: /^r2 · 还款/ }).click()
  await action.getByTestId('action-save').click()
  await expect(action.locator('.el-form-item', { has: staff.getByTestId('action-note') }).locator('.el-form-item__error')).toHaveText('请填写冲正原因')
  await action.getByTestId('action-note').fill('转账被退回')
  await action.getByTestId('action-save').click()
  await expect(action).toBeHidden()
  await expect(staff.getByTestId('installment-1-status')).toHaveText('已逾期')
  await expect(staff.getByTestId('loan-events')).toContainText('已冲正')
  // Paid again; then a prepayment that shortens the term (the payoff shown in the dialog).
  await staff.getByTestId('record-repayment').click()
  await action.getByTestId('action-amount').fill(owed)
  await action.getByTestId('action-reference').fill('柜面 0002')
  await action.getByTestId('action-save').click()
  await expect(action).toBeHidden()
  await expect(staff.getByTestId('installment-1-status')).toHaveText('已还清')
  const rows = staff.getByTestId('loan-schedule').locator('tbody tr')
  const before = await rows.count()
  await staff.getByTestId('record-prepayment').click()
  await expect(action.getByTestId('action-payoff')).toContainText('今日提前结清金额')
  await action.getByTestId('action-amount').fill('2000')
  await action.getByRole('radio', { name: /缩短期限/ }).check()
  await action.getByTestId('action-save').click()
  await expect(action).toBeHidden()
  await expect(staff.getByTestId('loan-events')).toContainText('提前还款')
  await expect.poll(() => rows.count()).toBeLessThan(before)

  const entries = staff.getByTestId('event-r4-entries')
  const link = entries.getByRole('link').first()
  await expect(link).toHaveText(/^#\d+/)
  await expectAccessible(staff, 'loan detail')
  await screenshot(staff, 'staff-loan-detail', true)
  await link.click()
  await expect(staff).toHaveURL(/\/staff\/ledger\/entries\/\d+$/)
  await expect(staff.getByTestId('entry-facts')).toContainText('贷款还款')
  // The loans list names the borrower; the active tab lists the loan, a row opens it.
  await staff.getByTestId('menu-loans').click()
  await staff.getByTestId('loan-tabs').getByRole('tab', { name: '还款中' }).click()
  const listed = staff.getByTestId('loan-table').locator('tbody tr', { hasText: b.name })
  await expect(listed).toHaveCount(1)
  await expectAccessible(staff, 'loans list')
  await listed.click()
  await expect(staff).toHaveURL(/\/staff\/loans\/\d+$/)

  // The borrower's phone: the loan, its schedule and the next payment.
  await page.goto('/loans')
  const card = page.getByTestId('my-loans').locator('li')
  await expect(card).toHaveCount(1)
  await expect(card).toContainText('还款中')
  await card.getByRole('link').click()
  await expect(page).toHaveURL(/\/loans\/\d+$/)
  await expect(page.getByTestId('my-installment-1')).toContainText('已还清')
  await expect(page.getByTestId('my-installment-2')).toContainText('待还')
  await expect(page.getByTestId('next-payment')).toBeVisible()
  await expect(page.getByTestId('my-payoff')).toBeVisible()
  await expect(page.getByTestId('my-payments').locator('li').first()).toBeVisible()
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
  await expectAccessible(page, 'borrower loan page')
  await screenshot(page, 'borrower-loan', true)
  await staffContext.close()

  // Paying the next installment on the phone, through the payment provider simulator's checkout.
  const nextAmount = plain((await page.getByTestId('next-payment').locator('.big').textContent()) ?? '')
  const paidBefore = await page.getByTestId('my-payments').locator('li').count()
  await page.getByTestId('next-payment').getByRole('button', { name: '立即还款' }).click()
  const pay = page.getByTestId('pay-dialog')
  await expect(pay.getByTestId('pay-amount')).toHaveValue(nextAmount)
  // A prepayment needs the borrower's choice, told beside it.
  await pay.getByTestId('pay-prepayment').click()
  await pay.getByTestId('pay-next').click()
  await expect(pay.locator('.el-form-item', { has: page.getByTestId('pay-mode') }).locator('.el-form-item__error')).toHaveText('请选择缩短期限或减少月供')
  await pay.getByTestId('pay-repayment').click()
  await expectAccessible(page, 'pay dialog')
  await pay.getByTestId('pay-next').click()
  await expect(pay.getByTestId('cashier-hint')).toContainText('模拟器')
  expect(plain((await pay.getByTestId('cashier-amount').textContent()) ?? '')).toBe(nextAmount)
  await screenshot(page, 'borrower-pay-checkout')
  await pay.getByTestId('cashier-confirm').click()
  await expect(pay.getByTestId('pay-result')).toContainText('还款成功')
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
  await pay.getByTestId('pay-done').click()
  // Paid before its due date, it is held and used on that day (the schedule shows it then); the
  // payment is in the history and among the payments through the provider.
  await expect(page.getByTestId('my-payments').locator('li')).toHaveCount(paidBefore + 1)
  const order = page.getByTestId('my-orders').locator('li').first()
  await expect(order).toContainText('还款')
  await expect(order).toContainText('已成功')
  await expectAccessible(page, 'borrower loan page after paying')
  // ... and texted: the money paid out and each repayment received reach the phone as SMS too (the SMS
  // operator simulator's message box, this borrower's number).
  await page.goto(`/sms-inbox?phone=${b.phone}`)
  const texts = page.getByTestId('sms-message')
  // The provider's callback is texted by the server's outbox poller (every 5 s) and the page polls every 3 s.
  const delivery = { timeout: 20_000 }
  await expect(texts.filter({ hasText: '已放款' })).toHaveCount(1, delivery)
  await expect(texts.filter({ hasText: `还款 ${nextAmount} 元` }).first()).toBeVisible(delivery)
  await expect(texts.filter({ hasText: '已收到您贷款' })).toHaveCount(4, delivery)
})

test('finance calls a signed, approved loan off before payout; the borrower sees it withdrawn and is told', async ({ page, browser, api, baseURL }) => {
  test.setTimeout(180_000)
  const { b, applicationId } = await approvedApplication(page, api)
  await signContract(api, b, applicationId)
  const staffContext = await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } })
  const staff = await staffContext.newPage()
  await staffLogin(staff, FINANCE.phone, DEMO_PASSWORD)
  await staff.goto('/staff/loans/desk')
  const approved = staff.getByTestId('desk-approved').locator('tbody tr', { hasText: b.name })
  await approved.getByRole('button', { name: '开立贷款' }).click()
  const pending = staff.getByTestId('desk-pending').locator('tbody tr', { hasText: b.name })
  await expect(pending).toHaveCount(1)
  await pending.getByRole('button', { name: /^取消放款/ }).click()
  const dialog = staff.getByTestId('cancel-dialog')
  await expect(dialog).toContainText('合同作废')
  // Without a reason nothing happens but the field says why.
  await dialog.getByTestId('cancel-save').click()
  await expect(dialog.locator('.el-form-item__error')).toBeVisible()
  await expect(pending).toHaveCount(1)
  await dialog.getByTestId('cancel-note').fill('借款人来电表示不再需要这笔贷款')
  await dialog.getByTestId('cancel-save').click()
  await expect(dialog).toBeHidden()
  await expect(pending).toHaveCount(0)
  await expect(approved).toHaveCount(0)
  await staffContext.close()

  // The borrower: the application withdrawn with the reason on its timeline, and a message saying so.
  await page.goto(`/applications/${applicationId}`)
  await expect(page.getByTestId('application-status')).toHaveText('已撤回')
  await expect(page.getByText('放款前取消')).toBeVisible()
  await page.goto('/notifications')
  await expect(page.getByText(/已在放款前取消，合同已作废/)).toBeVisible()
})

// A guarantor added to a running loan (what early warning's "ask for a guarantor" asks the borrower to
// find): the level-2 reviewer 吴芳 (复审员, institution-wide, who may add guarantors as on applications)
// opens a loan that is running (helpers.lateLoan), adds the guarantor in its guarantors section with the
// signed consent confirmed, sees them listed masked; then finds them from the menu's guarantor search by
// their phone, with the loan they guarantee, one click from the loan.
test('a reviewer adds a guarantor to a running loan and finds them through the guarantor search', async ({ page, api }) => {
  test.setTimeout(180_000) // a loan made through the API, a sign-in, two axe scans
  const loan = await lateLoan(api, page, 'guarantor')
  const g = { name: randomName(), idNumber: idNumber(), phone: randomPhone() }
  const maskedPhone = `${g.phone.slice(0, 3)}****${g.phone.slice(-4)}`
  await page.setViewportSize({ width: 1366, height: 900 })
  await staffLogin(page, REVIEWER_L2.phone, DEMO_PASSWORD)
  await page.goto(`/staff/loans/${loan.id}`)
  const panel = page.getByTestId('guarantors')
  await expect(panel).toContainText('尚未添加担保人。')
  await panel.getByTestId('add-guarantor').click()
  await panel.getByTestId('guarantor-name').fill(g.name)
  await panel.getByTestId('guarantor-id-number').fill(g.idNumber)
  await panel.getByTestId('guarantor-phone').fill(g.phone)
  await panel.getByTestId('guarantor-amount').fill('5000')
  // Without the signed consent confirmed, nothing is sent.
  await panel.getByTestId('guarantor-submit').click()
  await expect(panel).toContainText('请确认担保人已签署同意书')
  await panel.getByTestId('guarantor-consent').click()
  await panel.getByTestId('guarantor-submit').click()
  const rows = panel.getByTestId('guarantor-rows')
  await expect(rows).toContainText(g.name)
  await expect(rows).toContainText(maskedPhone)
  await expect(rows).toContainText('有效')
  await expect(rows).not.toContainText(g.phone)
  await expectAccessible(page, '/staff/loans/:id (guarantors)')

  // The guarantor search, from the menu under borrowers: by the full phone (in the body, never the URL).
  await page.getByTestId('menu-guarantors').click()
  await expect(page.getByRole('heading', { name: '担保人查询', level: 1 })).toBeVisible()
  await page.getByTestId('guarantor-search').fill(g.phone)
  await page.getByTestId('guarantor-search-submit').click()
  const person = page.getByTestId('guarantor-person')
  await expect(person).toHaveCount(1)
  await expect(person).toContainText(g.name)
  await expect(person).toContainText(maskedPhone)
  await expect(person.getByTestId('guarantor-active-loans')).toHaveText('在贷担保 1 笔')
  await expect(person.getByTestId('guarantee-rows')).toContainText(loan.number)
  expect(page.url()).not.toContain(g.phone)
  await expectAccessible(page, '/staff/guarantors')
  await screenshot(page, 'guarantor-search')
  await person.getByRole('link', { name: loan.number }).click()
  await expect(page).toHaveURL(new RegExp(`/staff/loans/${loan.id}$`))
})
