// A group meeting's collection sheet (小组例会收款表, issue 16/17). Set up through the API: three clean farmers of
// 城关支行 in a group meeting monthly on the business date's day, their group application consented and
// approved, two members' loans opened and paid out 40 days back (synced to the meetings: an installment falls
// due at today's). The loan officer who collected opens the group page's sheet in one browser, collects less
// from one member (absent), saves it whole, and both loans show the payments; the sheet waits 待交款. Finance,
// in another browser, finds it on the 待交款 page, counts the cash 10.00 short, gives the reason and confirms
// the handover; both see it 已交款 with the shortage.
import type { APIRequestContext, Page } from '@playwright/test'
import { test, expect } from './fixtures'
import {
  DEMO_PASSWORD, OFFICER_BR01, choose, cleanIdNumber, currentConsents, drawn, expectAccessible, randomName, randomPhone, signContract,
  smsCode, staffLogin, token,
} from './helpers'

const FINANCE = '13900000009' // 冯琳, 财务: records repayments, confirms the cash handed over

async function farmer(api: APIRequestContext, page: Page, staff: Record<string, string>) {
  const phone = randomPhone()
  const password = 'Spring-Rain-2026'
  expect((await api.post('/api/v1/auth/sms-codes', { data: { phone, purpose: 'register' } })).status()).toBe(202)
  const registered = await api.post('/api/v1/auth/register', {
    data: { phone, sms_code: await smsCode(api, phone), real_name: randomName(), id_number: cleanIdNumber(), password, consents: await currentConsents(api) },
  })
  expect(registered.status(), await registered.text()).toBe(202)
  const hb = { Authorization: `Bearer ${await token(api, phone, 'borrower', password)}` }
  for (const type of ['id_card', 'income_proof', 'land_contract']) {
    const up = await api.post('/api/v1/me/documents', { headers: hb, multipart: { type, file: { name: `${type}.jpg`, mimeType: 'image/jpeg', buffer: await drawn(page) } } })
    expect(up.status(), await up.text()).toBe(201)
  }
  const found = await api.post('/api/v1/borrowers/search', { headers: staff, data: { q: phone } })
  const id = (await found.json()).items[0].id as number
  const r = await api.patch(`/api/v1/borrowers/${id}`, { headers: staff, data: { customer_type: 'farmer', occupation: '种植户', monthly_income: '50000.00' } })
  expect(r.status(), await r.text()).toBe(200)
  return { id, phone, hb }
}

const iso = (d: Date) => d.toISOString().slice(0, 10)

test('the officer saves a meeting’s collection sheet with one member short, and finance confirms the cash handed over', async ({ page, request, browser, baseURL }) => {
  test.setTimeout(180_000)
  await page.goto('/')
  const staff = { Authorization: `Bearer ${await token(request, OFFICER_BR01.phone, 'staff', DEMO_PASSWORD)}` }
  const hf = { Authorization: `Bearer ${await token(request, FINANCE, 'staff', DEMO_PASSWORD)}` }
  const members = [await farmer(request, page, staff), await farmer(request, page, staff), await farmer(request, page, staff)]
  const me = await (await request.get('/api/v1/auth/me', { headers: staff })).json()
  const today = new Date(`${me.institution.business_date as string}T00:00:00Z`)
  // Monthly meetings fall on days 1-28: the sheet of today's meeting needs the business date on one of them.
  expect(today.getUTCDate(), 'the business date must be a day 1-28 for a monthly meeting on it').toBeLessThanOrEqual(28)

  const group = await request.post('/api/v1/groups', { headers: staff, data: { name: `收款表组${Date.now() % 100000}`, member_ids: members.map((m) => m.id), leader_id: members[0].id } })
  expect(group.status(), await group.text()).toBe(201)
  const groupId = (await group.json()).id as number
  const met = await request.put(`/api/v1/groups/${groupId}/meeting`, { headers: staff, data: { frequency: 'monthly', first_on: iso(today), time_of_day: '09:30', place: '城关村委会' } })
  expect(met.status(), await met.text()).toBe(200)
  const ga = await request.post('/api/v1/group-applications', {
    headers: staff,
    data: { group_id: groupId, product_code: 'FARM-BIZ', term: 12, repayment_method: 'equal_installment', purpose: 'agriculture', members: members.map((m) => ({ borrower_id: m.id, amount: '6000.00' })) },
  })
  expect(ga.status(), await ga.text()).toBe(201)
  const apps = Object.fromEntries((await ga.json()).members.map((x: { borrower_id: number; application_id: number }) => [x.borrower_id, x.application_id]))
  for (const [i, m] of members.entries()) {
    const r = await request.post(`/api/v1/me/applications/${apps[m.id]}/consent`, { headers: { ...m.hb, 'X-Device-Id': `e2e-sheet-${i}-${m.phone}` }, data: { agree_joint_liability: true } })
    expect(r.status(), await r.text()).toBe(200)
  }
  const back = new Date(today)
  back.setUTCDate(back.getUTCDate() - 40)
  const loans: { id: number; number: string }[] = []
  for (const m of members.slice(0, 2)) {
    const application = await (await request.get(`/api/v1/me/applications/${apps[m.id]}`, { headers: m.hb })).json()
    expect(application.status).toBe('approved')
    await signContract(request, { token: m.hb.Authorization.slice('Bearer '.length), phone: m.phone }, String(apps[m.id]))
    const opened = await request.post('/api/v1/loans', { headers: hf, data: { application_id: apps[m.id] } })
    expect(opened.status(), await opened.text()).toBe(201)
    const loan = await opened.json()
    const paid = await request.post(`/api/v1/loans/${loan.id}/disbursements`, { headers: { ...hf, 'Idempotency-Key': `e2e-sheet-${loan.id}-${Date.now()}` }, data: { on: iso(back), channel: 'bank_transfer', reference: 'B-E2E-SHEET' } })
    expect(paid.status(), await paid.text()).toBe(200)
    loans.push({ id: loan.id, number: loan.number })
  }

  // The officer opens the group page: today's meeting, the two loans (the third member has none), due and overdue.
  await page.setViewportSize({ width: 1366, height: 900 })
  await staffLogin(page, OFFICER_BR01.phone)
  await page.goto(`/staff/groups/${groupId}`)
  const sheet = page.getByTestId('collection-sheet')
  await expect(sheet.getByTestId('collection-sheet-lines').locator('tbody tr')).toHaveCount(2)
  for (const loan of loans) await expect(sheet.getByTestId(`collection-sheet-line-${loan.id}`)).toContainText(loan.number)
  const read = await (await request.get(`/api/v1/groups/${groupId}/collection-sheet`, { headers: hf })).json()
  expect(read.meeting_date).toBe(iso(today))
  const [first, second] = read.lines as { loan_id: number; total: string }[]
  // What the sheet asks is what the loan says falls due today.
  const owed = await (await request.get(`/api/v1/loans/${first.loan_id}`, { headers: hf })).json()
  const dueToday = owed.state.installments.find((x: { due_date: string }) => x.due_date === iso(today))
  expect(first.total).toBe(dueToday.outstanding.total)
  await expectAccessible(page, 'group page with its collection sheet')

  // The second member paid 100.00 and was otherwise absent: the totals follow, the reason is chosen.
  await sheet.getByTestId(`collection-sheet-amount-${second.loan_id}`).fill('100.00')
  const collected = (Number(first.total) + 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
  await expect(sheet.getByTestId('collection-sheet-collected')).toContainText(collected)
  // The reason's select appears once the amount is short; choose until it shows (it may still be settling).
  await choose(page, sheet.getByTestId(`collection-sheet-reason-${second.loan_id}`), '缺席')
  await sheet.getByTestId('collection-sheet-save').click()
  await expect(sheet.getByTestId('collection-sheet-saved')).toContainText('2 笔已入账')

  // The loans show the payments, valued on the meeting day.
  for (const [loan, amount] of [[loans[0], first.total], [loans[1], '100.00']] as const) {
    const read = await (await request.get(`/api/v1/loans/${loan.id}`, { headers: hf })).json()
    const repaid = read.events.filter((e: { type: string }) => e.type === 'repayment')
    expect(repaid.map((e: { value_date: string; payload: { amount: string } }) => [e.value_date, e.payload.amount])).toEqual([[iso(today), amount]])
  }
  const history = await (await request.get(`/api/v1/groups/${groupId}/collection-sheets`, { headers: hf })).json()
  expect(history.items[0].lines.map((x: { reason: string | null }) => x.reason)).toEqual([null, 'absent'])
  const sheetId = history.items[0].id as number
  // The officer sees the sheet waiting for its handover, and no button to confirm it.
  const status = page.getByTestId(`sheet-handover-status-${sheetId}`)
  await expect(status).toContainText('待交款')
  await expect(page.getByTestId(`sheet-handover-${sheetId}`)).toHaveCount(0)

  // Finance, in another browser: the 待交款 page from the menu lists the sheet; 10.00 short, with the reason.
  const ctx = await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } })
  const finance = await ctx.newPage()
  await staffLogin(finance, FINANCE)
  await finance.getByTestId('menu-sheet-handover').click()
  await expect(finance.getByTestId(`sheet-handover-status-${sheetId}`)).toContainText('待交款')
  await finance.getByTestId(`sheet-handover-${sheetId}`).click()
  const dialog = finance.getByTestId('sheet-handover-dialog')
  const counted = (Math.round((Number(first.total) + 100 - 10) * 100) / 100).toFixed(2)
  await dialog.getByTestId('sheet-handover-counted').fill(counted)
  await expect(dialog.getByTestId('sheet-handover-difference')).toContainText('短款')
  await dialog.getByTestId('sheet-handover-save').click()
  await expect(dialog).toContainText('请填写短款原因')
  await dialog.getByTestId('sheet-handover-reason').fill('找零短少')
  await dialog.getByTestId('sheet-handover-save').click()
  await expect(finance.getByTestId(`sheet-handover-status-${sheetId}`)).toHaveCount(0) // left the waiting list
  await finance.goto(`/staff/groups/${groupId}`)
  await expect(finance.getByTestId(`sheet-handover-status-${sheetId}`)).toContainText('已交款')
  await expect(finance.getByTestId(`sheet-handover-status-${sheetId}`)).toContainText('短款')
  await expectAccessible(finance, 'group page with a sheet handed over')
  await ctx.close()

  // The officer's page, read again, shows it handed over too.
  await page.reload()
  await expect(status).toContainText('已交款')
  await expect(status).toContainText('10.00')
  await page.goto(`/staff/loans/${loans[1].id}`)
  await expect(page.getByText('100.00').first()).toBeVisible()
})
