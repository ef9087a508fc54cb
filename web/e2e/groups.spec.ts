// Group lending (小组联保, issue 16 §9). A loan officer forms a group of three farmers in the console,
// makes a group application with an amount for each; the three members, each in their own browser
// context on a 375 px phone, read the joint liability and consent; the last consent submits the three
// applications, which the officer sees decided, with the mutual guarantee on each.
import { test, expect } from './fixtures'
import { DEMO_PASSWORD, OFFICER_BR01, borrowerLogin, expectAccessible, registerBorrower, staffLogin, type Borrower } from './helpers'

const DECIDED = /已批准|未通过|人工审核中|待补充材料/

test('an officer forms a group of three, applies for it, the members consent and the applications are decided', async ({ page, request, browser, baseURL }) => {
  test.setTimeout(120_000)
  // Three borrowers of 城关支行 (online, placed by their ID's region), farmers as the product asks.
  const members: Borrower[] = []
  const login = await request.post('/api/v1/auth/login', { data: { phone: OFFICER_BR01.phone, password: DEMO_PASSWORD, kind: 'staff' } })
  expect(login.status(), await login.text()).toBe(200)
  const staff = { Authorization: `Bearer ${(await login.json()).token}` }
  for (let i = 0; i < 3; i++) {
    const b = await registerBorrower(request)
    const found = await request.post('/api/v1/borrowers/search', { headers: staff, data: { q: b.phone } })
    const id = (await found.json()).items[0].id
    const r = await request.patch(`/api/v1/borrowers/${id}`, { headers: staff, data: { customer_type: 'farmer', occupation: '种植户' } })
    expect(r.status(), await r.text()).toBe(200)
    members.push(b)
  }

  await page.setViewportSize({ width: 1366, height: 900 })
  await staffLogin(page, OFFICER_BR01.phone)
  await page.getByTestId('menu-groups').click()
  await page.getByTestId('group-name').fill('测试联保组')
  for (const m of members) {
    await page.getByTestId('group-member-search').fill(m.name)
    await page.getByTestId('group-member-find').click()
    await page.getByTestId('group-found').getByRole('button', { name: '加入' }).first().click()
  }
  await page.getByTestId('group-chosen').locator('.el-radio').first().click()
  await page.getByTestId('group-create').click()
  await expect(page).toHaveURL(/\/staff\/groups\/\d+$/)
  await expect(page.getByTestId('group-status')).toHaveText('有效')
  await expect(page.getByTestId('group-members').locator('tbody tr')).toHaveCount(3)
  await expectAccessible(page, 'group page')

  await page.getByTestId('group-apply').click()
  await expect(page).toHaveURL(/\/staff\/group-applications\/new\?group=\d+$/)
  await page.getByTestId('ga-product').click()
  await page.getByRole('option', { name: /FARM-BIZ/ }).click()
  await page.getByTestId('ga-purpose').click()
  await page.getByRole('option', { name: '农业生产' }).click()
  for (const [i, amount] of ['6000', '8000', '5000'].entries()) await page.getByTestId(`ga-amount-${i}`).fill(amount)
  await page.getByTestId('ga-create').click()
  await expect(page).toHaveURL(/\/staff\/group-applications\/\d+$/)
  await expect(page.getByTestId('ga-status')).toHaveText('等待成员同意')
  await expect(page.getByTestId('ga-members')).toContainText('待确认')
  const gaUrl = page.url()

  // Each member consents on their phone, in a separate browser context.
  for (const [i, m] of members.entries()) {
    const ctx = await browser.newContext({ baseURL, viewport: { width: 375, height: 812 } })
    const phone = await ctx.newPage()
    await borrowerLogin(phone, m.phone, m.password)
    await phone.getByTestId('tab-my-applications').click()
    await phone.getByTestId('to-consent').click()
    const card = phone.getByTestId('group-consent')
    await expect(card).toContainText('联保小组“测试联保组”的贷款申请')
    await expect(card).toContainText('连带保证责任')
    await expect(card.locator('tbody tr')).toHaveCount(3)
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    if (i === 0) await expectAccessible(phone, 'group consent card')
    await phone.getByTestId('agree-liability').click()
    await phone.getByTestId('consent').click()
    if (i < 2) {
      await expect(phone.getByTestId('my-consent')).toContainText('您已同意')
      await expect(phone.getByTestId('application-status')).toHaveText('待成员同意')
    } else {
      await expect(phone.getByTestId('application-status')).toHaveText(DECIDED)
    }
    await ctx.close()
  }

  await page.goto(gaUrl)
  await expect(page.getByTestId('ga-status')).toHaveText('已提交审查')
  const statuses = page.locator('[data-testid^="ga-app-status-"]')
  await expect(statuses).toHaveCount(3)
  for (let i = 0; i < 3; i++) await expect(statuses.nth(i)).toHaveText(DECIDED)
  await page.getByTestId('ga-members').getByRole('link').first().click()
  await expect(page.getByTestId('guarantee')).toContainText('承担连带保证责任')
  await expect(page.getByTestId('guarantee').locator('li')).toHaveCount(2)
})

test('a member who refuses holds the group application, and the officer finds it among the to-dos', async ({ page, request, browser, baseURL }) => {
  // Set up through the API: three farmers of 城关支行 in a group, and a group application for them.
  const login = await request.post('/api/v1/auth/login', { data: { phone: OFFICER_BR01.phone, password: DEMO_PASSWORD, kind: 'staff' } })
  expect(login.status(), await login.text()).toBe(200)
  const staff = { Authorization: `Bearer ${(await login.json()).token}` }
  const members: (Borrower & { id: number })[] = []
  for (let i = 0; i < 3; i++) {
    const b = await registerBorrower(request)
    const found = await request.post('/api/v1/borrowers/search', { headers: staff, data: { q: b.phone } })
    const id = (await found.json()).items[0].id as number
    const r = await request.patch(`/api/v1/borrowers/${id}`, { headers: staff, data: { customer_type: 'farmer', occupation: '种植户' } })
    expect(r.status(), await r.text()).toBe(200)
    members.push({ ...b, id })
  }
  const name = `拒绝测试组${Date.now() % 100000}`
  const group = await request.post('/api/v1/groups', { headers: staff, data: { name, member_ids: members.map((m) => m.id), leader_id: members[0].id } })
  expect(group.status(), await group.text()).toBe(201)
  const ga = await request.post('/api/v1/group-applications', {
    headers: staff,
    data: { group_id: (await group.json()).id, product_code: 'FARM-BIZ', term: 12, repayment_method: 'equal_installment', purpose: 'agriculture', members: members.map((m) => ({ borrower_id: m.id, amount: '6000.00' })) },
  })
  expect(ga.status(), await ga.text()).toBe(201)

  // The second member refuses on the phone, after a confirmation.
  const ctx = await browser.newContext({ baseURL, viewport: { width: 375, height: 812 } })
  const phone = await ctx.newPage()
  await borrowerLogin(phone, members[1].phone, members[1].password)
  await phone.getByTestId('tab-my-applications').click()
  await phone.getByTestId('to-consent').click()
  await phone.getByTestId('refuse').click()
  await phone.getByRole('dialog').getByRole('button', { name: '拒绝' }).click()
  await expect(phone.getByTestId('my-consent')).toContainText('拒绝')
  await ctx.close()

  // The officer's overview counts it; the to-do opens the list filtered to the held ones, ours among them.
  await page.setViewportSize({ width: 1366, height: 900 })
  await staffLogin(page, OFFICER_BR01.phone)
  const todo = page.getByTestId('todo-group_applications_member_refused')
  await expect(todo).toBeVisible()
  expect(Number(await todo.getByTestId('todo-count').textContent())).toBeGreaterThanOrEqual(1)
  await todo.click()
  await expect(page).toHaveURL(/\/staff\/group-applications\?status=member_refused$/)
  const row = page.getByTestId('ga-table').locator('tbody tr', { hasText: name })
  await expect(row).toHaveCount(1)
  await expect(row).toContainText('有成员拒绝')
  await expect(page.getByTestId('ga-table').locator('tbody tr', { hasText: '等待成员同意' })).toHaveCount(0)
  await expectAccessible(page, 'group applications held by a refusal')
})

test('a member who leaves the group has their part withdrawn, and below three members the group application is held', async ({ page, request, browser, baseURL }) => {
  // Set up through the API: three farmers of 城关支行 in a group, and a group application for them.
  const login = await request.post('/api/v1/auth/login', { data: { phone: OFFICER_BR01.phone, password: DEMO_PASSWORD, kind: 'staff' } })
  expect(login.status(), await login.text()).toBe(200)
  const staff = { Authorization: `Bearer ${(await login.json()).token}` }
  const members: (Borrower & { id: number })[] = []
  for (let i = 0; i < 3; i++) {
    const b = await registerBorrower(request)
    const found = await request.post('/api/v1/borrowers/search', { headers: staff, data: { q: b.phone } })
    const id = (await found.json()).items[0].id as number
    const r = await request.patch(`/api/v1/borrowers/${id}`, { headers: staff, data: { customer_type: 'farmer', occupation: '种植户' } })
    expect(r.status(), await r.text()).toBe(200)
    members.push({ ...b, id })
  }
  const name = `退出测试组${Date.now() % 100000}`
  const group = await request.post('/api/v1/groups', { headers: staff, data: { name, member_ids: members.map((m) => m.id), leader_id: members[0].id } })
  expect(group.status(), await group.text()).toBe(201)
  const groupId = (await group.json()).id as number
  const ga = await request.post('/api/v1/group-applications', {
    headers: staff,
    data: { group_id: groupId, product_code: 'FARM-BIZ', term: 12, repayment_method: 'equal_installment', purpose: 'agriculture', members: members.map((m) => ({ borrower_id: m.id, amount: '6000.00' })) },
  })
  expect(ga.status(), await ga.text()).toBe(201)
  const gaId = (await ga.json()).id as number

  // The officer removes the third member from the group, after a confirmation saying what it does.
  await page.setViewportSize({ width: 1366, height: 900 })
  await staffLogin(page, OFFICER_BR01.phone)
  await page.goto(`/staff/groups/${groupId}`)
  await page.getByTestId(`group-remove-${members[2].id}`).click()
  const dialog = page.getByRole('dialog')
  await expect(dialog).toContainText('联保申请中的部分将被撤回')
  await dialog.getByRole('button', { name: '移出' }).click()
  await expect(page.getByTestId('group-members').locator('tbody tr')).toHaveCount(2)

  // The group application: held (fewer than 3), the member's part withdrawn, the total the rest's.
  await page.goto(`/staff/group-applications/${gaId}`)
  await expect(page.getByTestId('ga-status')).toHaveText('暂停：成员不足')
  await expect(page.getByTestId('ga-note')).toContainText('剩余不足 3 人')
  await expect(page.getByTestId('ga-total')).toContainText('12,000')
  await expect(page.getByTestId(`ga-consent-${members[2].id}`)).toHaveText('已移出')
  await expect(page.getByTestId(`ga-app-status-${members[2].id}`)).toHaveText('已撤回')
  await expect(page.getByTestId('ga-cancel')).toBeVisible()
  await expectAccessible(page, 'group application held')

  // A remaining member's phone says the group application is on hold; nothing to answer.
  const ctx = await browser.newContext({ baseURL, viewport: { width: 375, height: 812 } })
  const phone = await ctx.newPage()
  await borrowerLogin(phone, members[0].phone, members[0].password)
  await phone.getByTestId('tab-my-applications').click()
  await phone.getByTestId('to-consent').click()
  await expect(phone.getByTestId('group-held')).toContainText('已暂停')
  await expect(phone.getByTestId('consent')).toHaveCount(0)
  expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
  await ctx.close()
})

test('an officer sets a monthly meeting schedule and a member sees the next meeting on the phone', async ({ page, request, browser, baseURL }) => {
  test.setTimeout(90_000)
  // A group of three farmers of 城关支行, made through the API.
  const login = await request.post('/api/v1/auth/login', { data: { phone: OFFICER_BR01.phone, password: DEMO_PASSWORD, kind: 'staff' } })
  expect(login.status(), await login.text()).toBe(200)
  const staff = { Authorization: `Bearer ${(await login.json()).token}` }
  const members: (Borrower & { id: number })[] = []
  for (let i = 0; i < 3; i++) {
    const b = await registerBorrower(request)
    const found = await request.post('/api/v1/borrowers/search', { headers: staff, data: { q: b.phone } })
    members.push({ ...b, id: (await found.json()).items[0].id as number })
  }
  const group = await request.post('/api/v1/groups', { headers: staff, data: { name: `例会组${Date.now() % 100000}`, member_ids: members.map((m) => m.id), leader_id: members[0].id } })
  expect(group.status(), await group.text()).toBe(201)
  const groupId = (await group.json()).id as number
  const me = await (await request.get('/api/v1/auth/me', { headers: staff })).json()
  const business = new Date(`${me.institution.business_date as string}T00:00:00Z`)
  const first = new Date(Date.UTC(business.getUTCFullYear(), business.getUTCMonth() + 1, 15)).toISOString().slice(0, 10)

  // The officer sets it in the console: monthly, from the 15th of next month; a 30th is refused beside the field.
  await page.setViewportSize({ width: 1366, height: 900 })
  await staffLogin(page, OFFICER_BR01.phone)
  await page.goto(`/staff/groups/${groupId}`)
  const card = page.getByTestId('group-meeting')
  await expect(card.getByTestId('group-meeting-none')).toBeVisible()
  await card.getByTestId('group-meeting-edit').click()
  await card.getByTestId('group-meeting-frequency').getByText('每月').click()
  const day = card.getByTestId('group-meeting-first-on').locator('input')
  await day.fill(`${first.slice(0, 8)}30`)
  await day.press('Enter')
  await card.getByTestId('group-meeting-place').locator('xpath=descendant-or-self::input').fill('城关村委会二楼')
  await card.getByTestId('group-meeting-save').click()
  await expect(card).toContainText('每月例会须在 1–28 日')
  await day.fill(first)
  await day.press('Enter')
  await card.getByTestId('group-meeting-save').click()
  await expect(card.getByTestId('group-meeting-summary')).toHaveText('每月 09:00 · 城关村委会二楼')
  await expect(card.getByTestId('group-meeting-next').locator('li')).toHaveCount(3)
  const meeting = await (await request.get(`/api/v1/groups/${groupId}/meeting`, { headers: staff })).json()
  expect(meeting.next_meetings[0]).toBe(first)
  await expectAccessible(page, 'group page with its meeting')

  // A member (not the leader) sees the next meeting on a 375 px phone.
  const ctx = await browser.newContext({ baseURL, viewport: { width: 375, height: 812 } })
  const phone = await ctx.newPage()
  await borrowerLogin(phone, members[2].phone, members[2].password)
  await phone.goto('/group')
  const next = phone.getByTestId('my-group-meeting')
  const [y, m, d] = first.split('-').map(Number)
  await expect(next.getByTestId('my-group-meeting-when')).toHaveText(`${y}年${m}月${d}日 09:00`)
  await expect(next.getByTestId('my-group-meeting-place')).toHaveText('城关村委会二楼')
  expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
  await expectAccessible(phone, 'borrower group page with the next meeting')
  await ctx.close()
})
