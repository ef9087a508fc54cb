// Early warning (issue 19 §5): a loan made late through the API (a borrower approved, the contract signed,
// the loan disbursed 40 days back); the administrator runs the close of business, whose early-warning step
// scores the loan and raises "first missed payment" with the suggested action "step up collection". The risk
// officer 孙伟 proposes that action; in the browser the branch manager 陈刚 finds the warning in the queue,
// sees the score history and the proposal, approves it (a second person), and the action applied shows on
// the warning and on the loan's page.
import type { APIRequestContext, Page } from '@playwright/test'
import { test, expect } from './fixtures'
import { ADMIN, BRANCH_MANAGER, DEMO_PASSWORD, cleanIdNumber, currentConsents, drawn, expectAccessible, freshTotp, randomName, randomPhone, screenshot, signContract, smsCode, staffLogin } from './helpers'

const FINANCE = { phone: '13900000009' } // 冯琳, 财务
const RISK_OFFICER = { phone: '13900000004' } // 孙伟, 风控专员

test.use({ viewport: { width: 1366, height: 900 } })

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

/** A loan of 8,000.00 disbursed 40 days back and never repaid: its id and number. */
async function lateLoan(api: APIRequestContext, page: Page): Promise<{ id: number; number: string }> {
  const phone = randomPhone()
  expect((await api.post('/api/v1/auth/sms-codes', { data: { phone, purpose: 'register' } })).status()).toBe(202)
  const password = 'Spring-Rain-2026'
  const registered = await api.post('/api/v1/auth/register', {
    data: { phone, sms_code: await smsCode(api, phone), real_name: randomName(), id_number: cleanIdNumber(), password, consents: await currentConsents(api) },
  })
  expect(registered.status(), await registered.text()).toBe(202)
  const hb = { Authorization: `Bearer ${await token(api, phone, 'borrower', password)}` }
  await page.goto('/')
  for (const type of ['id_card', 'bank_statement']) {
    const up = await api.post('/api/v1/me/documents', { headers: hb, multipart: { type, file: { name: `${type}.jpg`, mimeType: 'image/jpeg', buffer: await drawn(page) } } })
    expect(up.status(), await up.text()).toBe(201)
  }
  const draft = await api.post('/api/v1/me/applications', {
    headers: { ...hb, 'X-Device-Id': `e2e-warnings-${phone}` },
    data: { product_code: 'CONSUMER', amount: '8000.00', term: 6, repayment_method: 'equal_installment', purpose: 'education', monthly_income: '50000.00', monthly_spending: '2500.00' },
  })
  expect(draft.status(), await draft.text()).toBe(201)
  const applicationId = (await draft.json()).id
  const submitted = await api.post(`/api/v1/me/applications/${applicationId}/submit`, { headers: hb })
  expect((await submitted.json()).status).toBe('approved')
  await signContract(api, { token: hb.Authorization.slice('Bearer '.length), phone }, String(applicationId))
  const hf = { Authorization: `Bearer ${await token(api, FINANCE.phone, 'staff', DEMO_PASSWORD)}` }
  const loan = await (await api.post('/api/v1/loans', { headers: hf, data: { application_id: applicationId } })).json()
  const back = new Date(`${loan.terms.terms.start_date}T00:00:00Z`)
  back.setUTCDate(back.getUTCDate() - 40)
  const disbursed = await api.post(`/api/v1/loans/${loan.id}/disbursements`, {
    headers: { ...hf, 'Idempotency-Key': `e2e-w-${loan.id}-${Date.now()}` },
    data: { on: back.toISOString().slice(0, 10), channel: 'bank_transfer', reference: 'B-E2E-WARN' },
  })
  expect(disbursed.status(), await disbursed.text()).toBe(200)
  return { id: loan.id as number, number: loan.number as string }
}

/** The administrator closes the next business date and waits for the run to finish. */
async function closeOfBusiness(api: APIRequestContext) {
  const ha = { Authorization: `Bearer ${await token(api, ADMIN.phone, 'staff', DEMO_PASSWORD, ADMIN.totpSecret)}` }
  const started = await api.post('/api/v1/cob/runs', { headers: ha, data: {} })
  expect(started.status(), await started.text()).toBe(202)
  const id = (await started.json()).id
  await expect.poll(async () => (await (await api.get(`/api/v1/cob/runs/${id}`, { headers: ha })).json()).run.status,
    { timeout: 150_000, intervals: [1000] }).toBe('done')
}

test('a warning raised by the close of business has its suggested action applied on a second person’s approval and shown on the loan', async ({ page, api }) => {
  test.setTimeout(240_000) // a loan made late, a run over the demo portfolio, two sign-ins, an axe scan
  const loan = await lateLoan(api, page)
  await closeOfBusiness(api)

  // The risk officer proposes the suggested action (the first person).
  const hr = { Authorization: `Bearer ${await token(api, RISK_OFFICER.phone, 'staff', DEMO_PASSWORD)}` }
  const listed = await (await api.get('/api/v1/risk/warnings', { headers: hr, params: { loan_id: loan.id } })).json()
  const warning = listed.items.find((w: { rule: string }) => w.rule === 'first_missed_payment')
  expect(warning, JSON.stringify(listed.items)).toBeTruthy()
  expect(warning.suggested_action).toBe('step_up_collection')
  const proposed = await api.post(`/api/v1/risk/warnings/${warning.id}/propose`, { headers: hr, data: { note: '首次逾期，电话未接通' } })
  expect(proposed.status(), await proposed.text()).toBe(200)

  // The branch manager finds it in the queue and approves it (the second person).
  await staffLogin(page, BRANCH_MANAGER.phone, DEMO_PASSWORD)
  await page.getByTestId('menu-risk-warnings').click()
  await expect(page.getByRole('heading', { name: '贷后预警', level: 1 })).toBeVisible()
  await expect(page.getByTestId('warnings')).toBeVisible()
  await expectAccessible(page, '/staff/risk/warnings')
  await page.getByTestId('filter-rule').click()
  await page.getByRole('option', { name: '首次逾期' }).click()
  await page.getByTestId(`warning-${warning.id}`).click()
  await expect(page.getByRole('heading', { name: '预警详情', level: 1 })).toBeVisible()
  await expect(page.getByTestId('warning-summary')).toContainText('首次逾期')
  await expect(page.getByTestId('warning-suggested')).toHaveText('加强催收')
  await expect(page.getByTestId('warning-status')).toHaveText('待审批')
  await expect(page.getByTestId('warning-proposed')).toContainText('加强催收')
  await expect(page.getByText('行为评分历史')).toBeVisible()
  await expectAccessible(page, '/staff/risk/warnings/:id')
  await page.getByTestId('warning-approve').click()
  await expect(page.getByTestId('warning-status')).toHaveText('已处置')
  await expect(page.getByTestId('warning-outcome')).toContainText('已执行：加强催收')
  await expect(page.getByTestId('warning-outcome')).toContainText('催收案件已升级至')
  await screenshot(page, 'warning-actioned')

  // On the loan's page: the warning and the action applied.
  await page.getByTestId('warning-loan').click()
  await expect(page.getByTestId('loan-warnings')).toBeVisible()
  const onLoan = page.getByTestId(`loan-warning-${warning.id}`)
  await expect(onLoan).toContainText('首次逾期')
  await expect(onLoan).toContainText('已处置')
  await expect(onLoan.getByTestId('loan-warning-action')).toContainText('加强催收')

  // And the collection case was stepped up through collections.
  const hm = { Authorization: `Bearer ${await token(api, BRANCH_MANAGER.phone, 'staff', DEMO_PASSWORD)}` }
  const detail = await (await api.get(`/api/v1/risk/warnings/${warning.id}`, { headers: hm })).json()
  const cases = (await (await api.get('/api/v1/collections/cases', { headers: hm, params: { page_size: 100 } })).json()).items
  const stepped = cases.find((c: { id: number }) => c.id === detail.outcome.case_id)
  expect(stepped.stage).toBe(detail.outcome.stage)
})
