// Collections (issue 18): a loan made late through the API (a borrower approved, the contract signed, the
// loan disbursed 40 days back), its case opened by the sync and assigned by the branch manager (陈刚) to
// the collector 钱进. In the browser, 钱进 opens the case from 我的催收案件, logs a call that reached the
// debtor and a promise to pay; both show in the contact history. Then the debtor's time zone is one where
// it is 22:xx (the server's clock is the machine's; no test back door): the next call is refused, and the
// page names the rule (no contact 22:00–08:00 without consent). A second loan has a guarantor, added by the
// loan officer on the application's page before the decision (a wrong ID number refused beside the field);
// the collector sees the guarantor on the case (phone masked) and logs a call to them, picked from the list.
import type { APIRequestContext, Page } from '@playwright/test'
import { test, expect } from './fixtures'
import { BRANCH_MANAGER, DEMO_PASSWORD, OFFICER_BR01, choose, drawn, expectAccessible, idNumber, lateLoan, randomPhone, screenshot, staffLogin, token, withWrongChecksum } from './helpers'

const COLLECTOR = { phone: '13900000008' } // 钱进, 催收员

/** A fixed-offset zone where the wall clock now shows `hour`:xx (Etc/GMT-N is UTC+N). */
function zoneAt(hour: number): string {
  let offset = hour - new Date().getUTCHours()
  if (offset > 14) offset -= 24
  if (offset < -12) offset += 24
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`
}

async function lateCase(api: APIRequestContext, page: Page, beforeSubmit?: (applicationId: number) => Promise<void>) {
  const loan = await lateLoan(api, page, 'collections', beforeSubmit)
  // 陈刚 runs the sync (what the close of business does) and gives the case to 钱进.
  const hm = { Authorization: `Bearer ${await token(api, BRANCH_MANAGER.phone, 'staff', DEMO_PASSWORD)}` }
  const synced = await api.post('/api/v1/collections/sync', { headers: hm })
  expect(synced.status(), await synced.text()).toBe(200)
  const cases = (await (await api.get('/api/v1/collections/cases', { headers: hm, params: { page_size: 100 } })).json()).items
  const found = cases.find((c: { loan_id: number }) => c.loan_id === loan.id)
  expect(found).toBeTruthy()
  const collectors = await (await api.get('/api/v1/collections/collectors', { headers: hm })).json()
  const qian = collectors.find((c: { name: string }) => c.name === '钱进')
  const assigned = await api.put(`/api/v1/collections/cases/${found.id}/assignment`, { headers: hm, data: { user_id: qian.user_id } })
  expect(assigned.status(), await assigned.text()).toBe(200)
  return { caseId: found.id as number, borrowerId: found.borrower_id as number }
}

async function debtorZone(api: APIRequestContext, borrowerId: number, zone: string) {
  const hc = { Authorization: `Bearer ${await token(api, COLLECTOR.phone, 'staff', DEMO_PASSWORD)}` }
  const r = await api.put(`/api/v1/collections/debtors/${borrowerId}`, { headers: hc, data: { time_zone: zone, night_contact_consent: false } })
  expect(r.status(), await r.text()).toBe(200)
}

test('a collector logs a call and a promise to pay; a call at 22:xx in the debtor’s zone is refused with the rule shown', async ({ page, api, browser, baseURL }) => {
  test.setTimeout(180_000)
  const { caseId, borrowerId } = await lateCase(api, page)
  await debtorZone(api, borrowerId, zoneAt(12)) // midday for the debtor, whatever the machine's time

  await staffLogin(page, COLLECTOR.phone)
  await page.getByTestId('menu-collection-mine').click()
  await expect(page.getByRole('heading', { name: '我的催收案件' })).toBeVisible()
  await page.getByTestId(`case-${caseId}`).click()
  await expect(page.getByRole('heading', { name: '催收案件' })).toBeVisible()
  await expect(page.getByTestId('case-summary')).toContainText('提醒') // ~10 days late: the reminder stage

  // A call that reached the debtor.
  await page.getByTestId('action-notes').fill('已接通，称月底发工资')
  await page.getByTestId('action-submit').click()
  const history = page.getByTestId('contact-history')
  await expect(history).toContainText('已接通')
  // A promise to pay.
  await page.getByTestId('action-kind').click()
  await page.getByRole('option', { name: '承诺还款' }).click()
  const due = new Date()
  due.setUTCDate(due.getUTCDate() + 365) // after any business date the demo may be on
  await page.getByTestId('promise-date').fill(due.toISOString().slice(0, 10))
  await page.getByTestId('promise-amount').fill('900.00')
  await page.getByTestId('action-notes').fill('')
  await page.getByTestId('action-submit').click()
  await expect(history).toContainText('900.00')
  await expect(history).toContainText('待兑现')
  // A field visit with two photos taken there: each stored at once, then named by the visit.
  await page.getByTestId('action-kind').click()
  await page.getByRole('option', { name: '上门', exact: true }).click()
  await page.getByTestId('visit-photos').setInputFiles([
    { name: 'shop.jpg', mimeType: 'image/jpeg', buffer: await drawn(page) },
    { name: 'door.png', mimeType: 'image/png', buffer: await drawn(page, 'image/png') },
  ])
  await expect(page.getByTestId('visit-photos-count')).toHaveText('已添加 2 张照片')
  await page.getByTestId('action-notes').fill('上门见到本人，店铺正常营业')
  await page.getByTestId('action-submit').click()
  await expect(history).toContainText('上门见到本人')
  await expect(history.getByRole('button', { name: '照片 2' })).toBeVisible()
  await page.getByTestId('action-kind').click()
  await page.getByRole('option', { name: '电话', exact: true }).click()
  await expectAccessible(page, 'collection case')
  await screenshot(page, 'staff-collection-case')

  // Now 22:xx for the debtor: the call is refused and the page names the rule.
  await debtorZone(api, borrowerId, zoneAt(22))
  await page.reload()
  await page.getByTestId('action-submit').click()
  await expect(page.getByTestId('gate-rule')).toHaveAttribute('data-rule', 'quiet_hours')
  await expect(page.getByTestId('gate-rule')).toContainText('22:00–08:00')
  await expect(page.getByTestId('gate-refusal')).toContainText('禁止催收时段')
  await expect(history.locator('tbody tr')).toHaveCount(3) // nothing logged
  await screenshot(page, 'staff-collection-quiet-hours')

  // 陈刚 (branch manager) sees the case assigned to 钱进 and 钱进's figures: one case worked, one promise.
  const manager = await (await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } })).newPage()
  await staffLogin(manager, BRANCH_MANAGER.phone)
  await manager.getByTestId('menu-collections').click()
  await expect(manager.getByRole('heading', { name: '催收管理' })).toBeVisible()
  await expect(manager.getByTestId('manage-cases').locator('tbody tr').first()).toBeVisible()
  await manager.getByRole('tab', { name: '绩效' }).click()
  const qian = manager.getByTestId('performance').locator('tbody tr', { hasText: '钱进' })
  await expect(qian).toHaveCount(1)
  await expect(qian.locator('td').nth(2)).toHaveText('1') // cases worked
  await expect(qian.locator('td').nth(4)).toHaveText('1') // promises made
  await expectAccessible(manager, 'collections manager')
  await screenshot(manager, 'staff-collections-performance')
})

test('a loan officer adds a guarantor before the decision; the collector logs a call to that guarantor', async ({ page, api, browser, baseURL }) => {
  test.setTimeout(180_000)
  const officer = await (await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } })).newPage()
  const phone = randomPhone()
  const { caseId, borrowerId } = await lateCase(api, page, async (applicationId) => {
    await staffLogin(officer, OFFICER_BR01.phone)
    await officer.goto(`/staff/applications/${applicationId}`)
    const panel = officer.getByTestId('guarantors')
    await expect(panel).toContainText('尚未添加担保人')
    await officer.getByTestId('add-guarantor').click()
    await officer.getByTestId('guarantor-name').fill('王担保')
    const good = idNumber('19700308')
    await officer.getByTestId('guarantor-id-number').fill(withWrongChecksum(good))
    await officer.getByTestId('guarantor-phone').fill(phone)
    await officer.getByTestId('guarantor-relation').click()
    await officer.getByRole('option', { name: '配偶' }).click()
    await officer.getByTestId('guarantor-amount').fill('8000')
    await officer.getByTestId('guarantor-consent').click()
    await officer.getByTestId('guarantor-submit').click()
    await expect(officer.getByTestId('guarantor-form')).toContainText('校验') // the check character, beside the field
    await officer.getByTestId('guarantor-id-number').fill(good)
    await officer.getByTestId('guarantor-submit').click()
    const rows = officer.getByTestId('guarantor-rows')
    await expect(rows).toContainText('王担保')
    await expect(rows).toContainText(`${phone.slice(0, 3)}****${phone.slice(-4)}`)
    await expect(rows).toContainText('连带责任保证')
    await expectAccessible(officer, 'application guarantors')
    await screenshot(officer, 'staff-application-guarantors')
  })
  await debtorZone(api, borrowerId, zoneAt(12))

  await staffLogin(page, COLLECTOR.phone)
  await page.goto(`/staff/collections/cases/${caseId}`)
  await expect(page.getByRole('heading', { name: '催收案件' })).toBeVisible()
  const listed = page.getByTestId('case-guarantors')
  await expect(listed).toContainText('王担保')
  await expect(listed).toContainText('配偶')
  await expect(listed).toContainText(`${phone.slice(0, 3)}****${phone.slice(-4)}`)
  await choose(page, page.getByTestId('action-party'), '担保人')
  await choose(page, page.getByTestId('action-guarantor'), /王担保/)
  await page.getByTestId('action-notes').fill('担保人已接通，同意督促还款')
  await page.getByTestId('action-submit').click()
  const history = page.getByTestId('contact-history')
  await expect(history).toContainText('担保人已接通')
  await expect(history.getByTestId('history-party')).toContainText('王担保')
  await expectAccessible(page, 'collection case with a guarantor')
  await screenshot(page, 'staff-collection-guarantor-call')
})

test('a branch manager edits the collection rules: quiet hours, a new SMS template sent on entering a stage, an agency; refusals beside the field', async ({ page }) => {
  await staffLogin(page, BRANCH_MANAGER.phone)
  await page.getByTestId('menu-collections').click()
  await expect(page.getByRole('heading', { name: '催收管理' })).toBeVisible()
  await page.getByRole('tab', { name: '规则' }).click()
  const form = page.getByTestId('rules-form')
  await expect(page.getByTestId('placeholders')).toContainText('{amount}')
  const i = await form.locator('[data-testid^="template-code-"]').count()

  // Quiet hours shorter than 22:00–08:00: refused beside the field before anything is sent.
  await page.getByTestId('quiet-from').fill('22:30')
  await page.getByTestId('rules-save').click()
  await expect(form.locator('.el-form-item', { has: page.getByTestId('quiet-from') })).toContainText('须至少覆盖 22:00 至次日 08:00')
  await page.getByTestId('quiet-from').fill('21:30')
  await page.getByTestId('quiet-until').fill('08:30')

  // A template naming a placeholder the sender does not fill: shown beside its text.
  await page.getByTestId('add-template').click()
  await page.getByTestId(`template-code-${i}`).fill('phone_notice')
  await page.getByTestId(`template-zh-${i}`).fill('{name}您好，贷款 {loan} 余额 {balance} 元')
  await page.getByTestId(`template-en-${i}`).fill('Dear {name}, loan {loan} is {dpd} day(s) past due; we will call you.')
  await page.getByTestId('rules-save').click()
  const zh = form.locator('.el-form-item', { has: page.getByTestId(`template-zh-${i}`) })
  await expect(zh).toContainText('未知占位符 {balance}')
  // A prohibited phrase only the API knows the list of: its refusal lands beside the same field.
  await page.getByTestId(`template-zh-${i}`).fill('{name}您好，贷款 {loan} 逾期 {dpd} 天，否则列入黑名单')
  await page.getByTestId('rules-save').click()
  await expect(zh).toContainText('黑名单')
  await expect(page.getByTestId(`template-zh-${i}`)).toHaveAttribute('aria-invalid', 'true')
  await page.getByTestId(`template-zh-${i}`).fill('{name}您好，贷款 {loan} 已逾期 {dpd} 天，我们将致电您。')

  // The phone stage texts it on entering; an agency takes field visits and legal cases.
  await page.getByTestId('stage-sms-1').click()
  await page.getByRole('option', { name: 'phone_notice' }).click()
  await page.getByTestId('add-agency').click()
  await page.getByTestId('agency-name-0').fill('华信催收')
  await page.getByTestId('agency-contact-0').fill('周经理 13900001111')
  await page.getByTestId('agency-commission-0').fill('12.5')
  await page.getByTestId('agency-stages-0').click()
  await page.getByRole('option', { name: '上门走访' }).click()
  await page.getByRole('option', { name: '法务' }).click()
  await page.keyboard.press('Escape')
  await page.getByTestId('rules-save').click()
  await expect(page.getByText('规则已保存')).toBeVisible()

  // As saved, after a reload.
  await page.reload()
  await page.getByRole('tab', { name: '规则' }).click()
  await expect(page.getByTestId('quiet-from')).toHaveValue('21:30')
  await expect(page.getByTestId('quiet-until')).toHaveValue('08:30')
  await expect(page.getByTestId(`template-code-${i}`)).toHaveValue('phone_notice')
  await expect(page.getByTestId('stage-sms-1')).toContainText('phone_notice')
  await expect(page.getByTestId('agency-0')).toContainText('华信催收')
  await expect(page.getByTestId('agency-commission-0')).toHaveValue('12.5')
  await expectAccessible(page, 'collection rules')
  await screenshot(page, 'staff-collection-rules')
})
