// Changes to a running loan and the group statement in the browser (issue 17 §6 and §9).
// - Rescheduling by maker-checker: a loan made late through the API (helpers.lateLoan: 8,000.00 over 6
//   months, paid out 40 days back, never repaid); finance proposes a new schedule of 9 installments in the
//   loan page's dialog (a bad rate refused beside the field first); the branch manager approves it in the
//   loan changes queue; the loan page then lists the rescheduling among the events and a schedule whose
//   installments after the day of approval are the 9 proposed.
// - A waiver by maker-checker: finance proposes forgiving 5.00 of the late loan's first installment's interest in
//   the loan page's change dialog (refused beside the note first), the branch manager approves it, the
//   installment shows it waived.
// - A tranche (多次放款): a product that pays out in tranches (published by the administrator through the
//   API), a loan of 8,000.00 whose first 5,000.00 went to the borrower's bank card; finance opens the loan
//   page, asks for more than is left (refused beside the amount), then sends the remaining 3,000.00
//   through the payment provider's simulator to the borrower's card, and the loan shows both disbursements.
// - The group statement (小组联保): the demo's group leader 赵建国 reads his group's loans in the borrower
//   app at phone width, and the branch manager reads the same statement on the group's console page.
import { test, expect } from './fixtures'
import { ADMIN, BRANCH_MANAGER, DEMO_PASSWORD, borrowerLogin, expectAccessible, lateLoan, screenshot, signedLoan, staffLogin, token } from './helpers'

const FINANCE = { phone: '13900000009' } // 冯琳, 财务: may propose changes to a loan, not approve them
const LEADER = { phone: '13900001006' } // 赵建国, leader of 城关联保一组

test.describe('a rescheduling', () => {
  test.use({ viewport: { width: 1366, height: 900 } })

  test('finance proposes it in the loan page, the branch manager approves it, the loan follows the new schedule', async ({ page, api, browser, baseURL }) => {
    test.setTimeout(180_000)
    const loan = await lateLoan(api, page, 'resch')
    await staffLogin(page, FINANCE.phone, DEMO_PASSWORD)
    await page.goto(`/staff/loans/${loan.id}`)
    await expect(page.getByTestId('loan-status')).toBeVisible()
    await page.getByTestId('propose-reschedule').click()
    const dialog = page.getByTestId('reschedule-dialog')
    await expect(dialog).toBeVisible()
    await page.getByTestId('reschedule-installments').locator('input').fill('9')
    // A rate the form cannot read, and no note for the checker: both refused beside their fields, nothing sent.
    await page.getByTestId('reschedule-rate').fill('abc')
    await page.getByTestId('reschedule-save').click()
    await expect(dialog.locator('.el-form-item__error')).toHaveCount(2)
    await page.getByTestId('reschedule-rate').fill('')
    await page.getByTestId('reschedule-note').fill('借款人务工收入中断，协商延长期限')
    await expectAccessible(page, 'reschedule dialog')
    await page.getByTestId('reschedule-save').click()
    await expect(dialog).toBeHidden()
    await expect(page.getByTestId('loan-pending-changes')).toContainText('重新安排还款计划')

    // The second person, in a browser of their own: the branch manager approves it in the queue.
    const second = await browser.newContext({ viewport: { width: 1366, height: 900 }, baseURL })
    const manager = await second.newPage()
    await staffLogin(manager, BRANCH_MANAGER.phone, DEMO_PASSWORD)
    await manager.goto('/staff/loan-changes')
    // The queue names the loan by its number and the borrower by name.
    const row = manager.getByTestId('loan-changes').locator('tr', { has: manager.getByRole('link', { name: loan.number, exact: true }) })
    await expect(row).toContainText('重新安排还款计划')
    await row.getByRole('button', { name: '批准' }).click()
    await expect(row).toHaveCount(0)
    await second.close()

    // The loan now runs on the new schedule: the rescheduling among its events, 9 installments after it.
    const hm = { Authorization: `Bearer ${await token(api, BRANCH_MANAGER.phone, 'staff', DEMO_PASSWORD)}` }
    const read = await (await api.get(`/api/v1/loans/${loan.id}`, { headers: hm })).json()
    const rescheduled = read.events.find((e: { type: string }) => e.type === 'rescheduling')
    expect(rescheduled).toBeTruthy()
    const after = read.state.installments.filter((r: { number: number; period_start: string }) => r.number > 0 && r.period_start >= rescheduled.payload.on)
    expect(after).toHaveLength(9)
    await page.reload()
    await expect(page.getByTestId('loan-events')).toContainText('重新安排还款计划')
    await expect(page.getByTestId('loan-schedule').locator('tbody tr')).toHaveCount(read.state.installments.length)
    await expect(page.getByTestId('loan-pending-changes')).toHaveCount(0)
    await screenshot(page, 'loan-rescheduled')
  })
})

test.describe('a waiver', () => {
  test.use({ viewport: { width: 1366, height: 900 } })

  test('finance proposes a waiver of interest in the change dialog, the branch manager approves it, the installment shows it waived', async ({ page, api, browser, baseURL }) => {
    test.setTimeout(180_000)
    const loan = await lateLoan(api, page, 'waive')
    await staffLogin(page, FINANCE.phone, DEMO_PASSWORD)
    await page.goto(`/staff/loans/${loan.id}`)
    await page.getByTestId('propose-change').click()
    const dialog = page.getByTestId('change-dialog')
    await expect(dialog).toBeVisible()
    // Installment 1 fell due ten days ago with its interest unpaid: it is offered; the product has no
    // one-person limit, so the dialog says a second person must approve.
    await expect(page.getByTestId('change-installment')).toContainText('第 1 期')
    await page.getByTestId('change-component-interest').click()
    await page.getByTestId('change-amount').fill('5.00')
    await expect(page.getByTestId('change-approval')).toContainText('另一人复核')
    // No note for the checker: refused beside the field, nothing sent.
    await page.getByTestId('change-save').click()
    await expect(dialog.locator('.el-form-item__error')).toHaveCount(1)
    await page.getByTestId('change-note').fill('台风受灾，减免第 1 期部分利息')
    await expectAccessible(page, 'change dialog')
    await page.getByTestId('change-save').click()
    await expect(dialog).toBeHidden()
    await expect(page.getByTestId('loan-pending-changes')).toContainText('减免')

    const second = await browser.newContext({ viewport: { width: 1366, height: 900 }, baseURL })
    const manager = await second.newPage()
    await staffLogin(manager, BRANCH_MANAGER.phone, DEMO_PASSWORD)
    await manager.goto('/staff/loan-changes')
    const row = manager.getByTestId('loan-changes').locator('tr', { has: manager.getByRole('link', { name: loan.number, exact: true }) })
    await expect(row).toContainText('减免')
    await row.getByRole('button', { name: '批准' }).click()
    await expect(row).toHaveCount(0)
    await second.close()

    const hm = { Authorization: `Bearer ${await token(api, BRANCH_MANAGER.phone, 'staff', DEMO_PASSWORD)}` }
    const read = await (await api.get(`/api/v1/loans/${loan.id}`, { headers: hm })).json()
    expect(read.state.installments.find((r: { number: number }) => r.number === 1).waived.interest).toBe('5.00')
    await page.reload()
    await expect(page.getByTestId('loan-events')).toContainText('减免')
    await expect(page.getByTestId('loan-pending-changes')).toHaveCount(0)
  })
})

test.describe('a tranche', () => {
  test.use({ viewport: { width: 1366, height: 900 } })

  test('finance pays the next tranche of a loan to the borrower’s card from the loan page', async ({ page, api }) => {
    test.setTimeout(180_000)
    const code = `TR${Date.now() % 100000}`
    const ha = { Authorization: `Bearer ${await token(api, ADMIN.phone, 'staff', DEMO_PASSWORD, ADMIN.totpSecret)}` }
    const terms = {
      name_zh: '分笔放款测试贷', name_en: 'Tranche test loan', amount_min: '1000.00', amount_max: '20000.00', term_min: 3, term_max: 12,
      repayment_methods: ['equal_installment'], rate: { kind: 'fixed', annual_rate: '10' }, day_count: 'ACT/360',
      penalty: { basis: 'uplift', value_percent: '50', grace_days: 3 }, customer_types: ['consumer'], age_min: 18, age_max: 65,
      required_documents: ['id_card'], approval_policy: [{ up_to_amount: '20000.00', worst_grade: 'E', levels: 1 }],
      tranches: true, active_from: '2026-01-01',
    }
    const created = await api.post('/api/v1/products', { headers: ha, data: { code, terms } })
    expect(created.status(), await created.text()).toBe(201)
    const published = await api.post(`/api/v1/products/${code}/versions/1/publish`, { headers: ha })
    expect(published.status(), await published.text()).toBe(200)

    const { id, hb, hf } = await signedLoan(api, page, 'tranche', code)
    const card = await api.post('/api/v1/me/bank-cards', { headers: hb, data: { bank_name: '中国农业银行', card_number: luhn(`6228480${String(Date.now()).slice(-8)}`), primary: true } })
    expect(card.status(), await card.text()).toBe(201)
    const first = await api.post(`/api/v1/loans/${id}/disbursements`, {
      headers: { ...hf, 'Idempotency-Key': `e2e-tranche-${id}-${Date.now()}` },
      data: { amount: '5000.00', channel: 'bank_transfer', reference: 'B-E2E-TRANCHE-1' },
    })
    expect(first.status(), await first.text()).toBe(200)

    await staffLogin(page, FINANCE.phone, DEMO_PASSWORD)
    await page.goto(`/staff/loans/${id}`)
    await page.getByTestId('pay-tranche').click()
    const dialog = page.getByTestId('payout-dialog')
    await expect(dialog).toContainText('尚可放款 ¥3,000.00')
    await page.getByTestId('payout-amount').fill('4000.00')
    await page.getByTestId('payout-send').click()
    await expect(dialog.locator('.el-form-item__error')).toBeVisible()
    await expect(page.getByTestId('payout-status')).toHaveCount(0) // refused: nothing sent
    await page.getByTestId('payout-amount').fill('3000.00')
    await expectAccessible(page, 'tranche payout dialog')
    await page.getByTestId('payout-send').click()
    const status = page.getByTestId('payout-status')
    await expect(status).toContainText('¥3,000.00')
    if (await page.getByTestId('payout-poll').isVisible()) await page.getByTestId('payout-poll').click()
    await expect(status).toContainText('已成功')
    await page.getByTestId('payout-open').click()

    const read = await (await api.get(`/api/v1/loans/${id}`, { headers: hf })).json()
    expect(read.state.disbursements.map((d: { amount: string }) => d.amount)).toEqual(['5000.00', '3000.00'])
    expect(read.state.disbursed).toBe('8000.00')
    await expect(page.getByTestId('pay-tranche')).toHaveCount(0) // nothing left to pay out
    await expect(page.getByTestId('loan-events')).toContainText('放款')
  })
})

test.describe('the group statement', () => {
  test('the leader reads the group’s loans on the phone; the branch manager reads them in the console', async ({ page, api, browser, baseURL }) => {
    test.setTimeout(120_000)
    const leader = await browser.newContext({ viewport: { width: 375, height: 812 }, baseURL })
    const phone = await leader.newPage()
    await borrowerLogin(phone, LEADER.phone, DEMO_PASSWORD)
    await phone.goto('/loans')
    await phone.getByTestId('my-group-link').click()
    const statement = phone.getByTestId('group-statement')
    await expect(statement).toBeVisible()
    await expect(statement).toContainText('赵建国')
    await expect(statement).toContainText('孙秀英')
    await expect(statement).toContainText('周明')
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    await expectAccessible(phone, 'my group')
    await screenshot(phone, 'my-group')
    const hb = { Authorization: `Bearer ${await token(api, LEADER.phone, 'borrower', DEMO_PASSWORD)}` }
    const mine = await (await api.get('/api/v1/me/group-statement', { headers: hb })).json()
    await leader.close()

    // The same statement in the console, on the group's page.
    await staffLogin(page, BRANCH_MANAGER.phone, DEMO_PASSWORD)
    await page.goto(`/staff/groups/${mine.group_id}`)
    const staff = page.getByTestId('group-statement')
    await expect(staff).toBeVisible()
    await expect(staff.getByTestId('group-overdue')).toHaveText(statementOverdue(mine.overdue))
    for (const m of mine.members) await expect(staff.getByTestId(`group-member-${m.borrower_id}`)).toContainText(m.name)
  })
})

/** The overdue total as the page writes money (¥ and thousands separators). */
function statementOverdue(amount: string): string {
  const [whole, cents] = amount.split('.')
  return `¥${Number(whole).toLocaleString('en-US')}.${cents}`
}

/** `prefix` completed with its Luhn check digit (a card number the API accepts). */
function luhn(prefix: string): string {
  let sum = 0
  for (let i = 0; i < prefix.length; i++) {
    let d = Number(prefix[prefix.length - 1 - i])
    if (i % 2 === 0) d *= 2
    if (d > 9) d -= 9
    sum += d
  }
  return `${prefix}${(10 - (sum % 10)) % 10}`
}
