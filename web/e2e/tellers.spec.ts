// A teller's cash repayment above the institution's threshold waits for a second person (issue 17,
// capability 4). Set up through the API: a borrower with a clean bureau file is approved, finance opens
// the loan and disburses it 40 days back, the administrator sets the threshold to 1,000.00. Then, in
// browser contexts of their own: the finance officer (冯琳) records 1,500.00 in cash — the dialog says
// beforehand that it will wait, and afterwards the loan lists it as waiting, with nothing recorded; she
// cannot find a checker's queue. The branch manager (陈刚) confirms it from the queue of changes; the
// loan then shows the repayment, its receipt (PDF) one click away. The borrower sees the receipt too.
import type { APIRequestContext, Browser, Page } from '@playwright/test'
import { test, expect } from './fixtures'
import { ADMIN, BRANCH_MANAGER, DEMO_PASSWORD, borrowerLogin, cleanIdNumber, currentConsents, drawn, expectAccessible, freshTotp, randomName, randomPhone, screenshot, signContract, smsCode, staffLogin } from './helpers'

const FINANCE = { phone: '13900000009' } // 冯琳, 财务


async function token(api: APIRequestContext, phone: string, kind: 'staff' | 'borrower', password: string, totpSecret?: string): Promise<string> {
  const login = await api.post('/api/v1/auth/login', { data: { phone, password, kind } })
  expect(login.status(), await login.text()).toBe(200)
  let body = await login.json()
  if (body.status === 'mfa_required') {
    const second = await api.post('/api/v1/auth/login/totp', { data: { mfa_token: body.mfa_token, code: await freshTotp(totpSecret!) } })
    expect(second.status(), await second.text()).toBe(200)
    body = await second.json()
  }
  return body.token as string
}

/** A borrower approved for 8,000.00 and the loan disbursed 40 days back; its id and the borrower's login. */
async function disbursedLoan(api: APIRequestContext, page: Page) {
  const phone = randomPhone()
  expect((await api.post('/api/v1/auth/sms-codes', { data: { phone, purpose: 'register' } })).status()).toBe(202)
  const b = { phone, password: 'Spring-Rain-2026', name: randomName() }
  const registered = await api.post('/api/v1/auth/register', {
    data: { phone, sms_code: await smsCode(api, phone), real_name: b.name, id_number: cleanIdNumber(), password: b.password, consents: await currentConsents(api) },
  })
  expect(registered.status(), await registered.text()).toBe(202)
  const hb = { Authorization: `Bearer ${await token(api, phone, 'borrower', b.password)}` }
  await page.goto('/')
  for (const type of ['id_card', 'bank_statement']) {
    const up = await api.post('/api/v1/me/documents', { headers: hb, multipart: { type, file: { name: `${type}.jpg`, mimeType: 'image/jpeg', buffer: await drawn(page) } } })
    expect(up.status(), await up.text()).toBe(201)
  }
  const draft = await api.post('/api/v1/me/applications', {
    // A device of its own, as the app sends: without one, every API-made application in the run counts
    // as one device and the velocity rules refer this one once earlier specs have applied.
    headers: { ...hb, 'X-Device-Id': `e2e-teller-${phone}` },
    data: { product_code: 'CONSUMER', amount: '8000.00', term: 6, repayment_method: 'equal_installment', purpose: 'education', monthly_income: '50000.00', monthly_spending: '2500.00' },
  })
  expect(draft.status(), await draft.text()).toBe(201)
  const submitted = await api.post(`/api/v1/me/applications/${(await draft.json()).id}/submit`, { headers: hb })
  expect(submitted.status(), await submitted.text()).toBe(200)
  expect((await submitted.json()).status).toBe('approved')
  await signContract(api, { token: hb.Authorization.slice('Bearer '.length), phone }, String((await draft.json()).id))
  const hf = { Authorization: `Bearer ${await token(api, FINANCE.phone, 'staff', DEMO_PASSWORD)}` }
  const opened = await api.post('/api/v1/loans', { headers: hf, data: { application_id: (await draft.json()).id } })
  expect(opened.status(), await opened.text()).toBe(201)
  const loan = await opened.json()
  const today = loan.terms.terms.start_date as string // the business date the loan was opened on
  const back = new Date(`${today}T00:00:00Z`)
  back.setUTCDate(back.getUTCDate() - 40)
  const disbursed = await api.post(`/api/v1/loans/${loan.id}/disbursements`, {
    headers: { ...hf, 'Idempotency-Key': `e2e-d-${loan.id}-${Date.now()}` },
    data: { on: back.toISOString().slice(0, 10), channel: 'bank_transfer', reference: 'B-E2E-TELLER' },
  })
  expect(disbursed.status(), await disbursed.text()).toBe(200)
  const ha = { Authorization: `Bearer ${await token(api, ADMIN.phone, 'staff', DEMO_PASSWORD, ADMIN.totpSecret)}` }
  const set = await api.put('/api/v1/servicing/settings', { headers: ha, data: { repayment_approval_above: '1000.00' } })
  expect(set.status(), await set.text()).toBe(200)
  return { loanId: loan.id as number, number: loan.number as string, borrower: b }
}

async function staffPage(browser: Browser, baseURL: string | undefined): Promise<Page> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } })
  return context.newPage()
}

test('a teller’s cash repayment above the threshold waits for a second person, who confirms it', async ({ page, browser, api, baseURL }) => {
  test.setTimeout(180_000)
  const { loanId, number, borrower } = await disbursedLoan(api, page)

  // 冯琳 (finance) records 1,500.00 in cash: the dialog says it will wait; afterwards it waits.
  const teller = await staffPage(browser, baseURL)
  await staffLogin(teller, FINANCE.phone)
  await teller.goto(`/staff/loans/${loanId}`)
  await expect(teller.getByTestId('loan-status')).toHaveText('还款中')
  const events = teller.getByTestId('loan-events').locator('.el-timeline-item')
  const recorded = await events.count()
  await teller.getByTestId('record-repayment').click()
  const action = teller.getByTestId('loan-action-dialog')
  await action.getByTestId('action-amount').fill('800')
  await action.getByTestId('action-channel').click()
  await teller.getByRole('option', { name: '现金' }).click()
  await expect(action.getByTestId('action-waits')).toBeHidden()
  await action.getByTestId('action-amount').fill('1500')
  await expect(action.getByTestId('action-waits')).toContainText('1,000.00')
  await action.getByTestId('action-reference').fill('柜面 E2E-0001')
  await expectAccessible(teller, 'repayment dialog above the threshold')
  await screenshot(teller, 'staff-repayment-waits')
  await action.getByTestId('action-save').click()
  await expect(action).toBeHidden()
  const waiting = teller.getByTestId('loan-pending-changes')
  await expect(waiting).toContainText('柜面还款（超限额）')
  await expect(waiting).toContainText('等待第二人复核')
  await expect(events).toHaveCount(recorded)
  // The teller has no checker's queue.
  await expect(teller.getByTestId('menu-loans')).toBeVisible()
  await expect(teller.getByTestId('menu-loan-changes')).toHaveCount(0)

  // 陈刚 (branch manager), in a browser of his own, confirms it from the queue.
  const checker = await staffPage(browser, baseURL)
  await staffLogin(checker, BRANCH_MANAGER.phone)
  await checker.getByTestId('menu-loan-changes').click()
  await expect(checker.getByRole('heading', { name: '待复核的变更' })).toBeVisible()
  const row = checker.getByTestId('loan-changes').locator('tbody tr', { hasText: '柜面 E2E-0001' })
  await expect(row).toHaveCount(1)
  await expect(row).toContainText('1,500.00')
  await expectAccessible(checker, 'queue of changes')
  await screenshot(checker, 'staff-loan-changes')
  await row.getByRole('button', { name: '批准' }).click()
  await expect(row).toHaveCount(0)

  // The teller's loan page now shows the repayment, its ledger entries and its receipt.
  await teller.goto(`/staff/loans/${loanId}`)
  await expect(teller.getByTestId('loan-pending-changes')).toBeHidden()
  await expect(events).toHaveCount(recorded + 1)
  const repayment = teller.getByTestId('loan-events').locator('.el-timeline-item', { hasText: '柜面 E2E-0001' })
  await expect(repayment).toContainText('还款')
  await expect(repayment).toContainText('1,500.00')
  const download = teller.waitForEvent('download')
  await repayment.getByText('还款回单（PDF）').click()
  expect((await download).suggestedFilename()).toMatch(new RegExp(`^receipt-${number}-r\\d+\\.pdf$`))

  // The borrower, on a phone, finds the receipt among the loan's receipts.
  await page.setViewportSize({ width: 375, height: 812 })
  await borrowerLogin(page, borrower.phone, borrower.password)
  await page.goto(`/loans/${loanId}`)
  const receipts = page.getByTestId('my-receipts')
  await expect(receipts).toContainText('还款回单（PDF）')
  await expect(receipts).toContainText('凭证（PDF）')
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
  await expectAccessible(page, 'borrower loan receipts')
  const mine = page.waitForEvent('download')
  await receipts.locator('button').first().click()
  expect((await mine).suggestedFilename()).toMatch(/\.pdf$/)
})
