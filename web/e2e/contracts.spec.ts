// 8. The contract: a borrower on a 375 px phone puts their documents on file, picks a product, applies with
//    its plan, is approved by the automated review, opens the contract (the APR first, the schedule),
//    signs it with the SMS code the simulator delivered, and downloads the institution-signed PDF.
import type { Page } from '@playwright/test'
import { readFileSync } from 'node:fs'
import { test, expect } from './fixtures'
import type { APIRequestContext } from '@playwright/test'
import {
  ADMIN, BRANCH_MANAGER, DEMO_PASSWORD, SECOND_ADMIN, borrowerLogin, currentConsents, expectAccessible, idNumber, lastSmsId, randomName, randomPhone, screenshot,
  smsCode, staffLogin,
} from './helpers'

/** A borrower whose ID number's sequence code (94x) gives the bureau simulator's clean thick file, so the
 *  automated review approves a modest plan (integrations/bureau.py lists the fixed scenarios). */
async function registerClean(api: APIRequestContext) {
  let id = idNumber()
  while (id.slice(14, 16) !== '94') id = idNumber()
  const phone = randomPhone()
  const password = 'Spring-Rain-2026'
  expect((await api.post('/api/v1/auth/sms-codes', { data: { phone, purpose: 'register' } })).status()).toBe(202)
  const r = await api.post('/api/v1/auth/register', {
    data: { phone, sms_code: await smsCode(api, phone), real_name: randomName(), id_number: id, password, consents: await currentConsents(api) },
  })
  expect(r.status(), await r.text()).toBe(202)
  return { phone, password }
}

async function photo(page: Page): Promise<Buffer> {
  const dataUrl = await page.evaluate(() => {
    const canvas = document.createElement('canvas')
    canvas.width = 320
    canvas.height = 200
    const g = canvas.getContext('2d')!
    g.fillStyle = '#e8efe0'
    g.fillRect(0, 0, 320, 200)
    g.fillStyle = '#2d5a1f'
    g.font = '20px sans-serif'
    g.fillText(`ID ${Math.random().toString(36).slice(2, 8)}`, 40, 100)
    return canvas.toDataURL('image/jpeg', 0.9)
  })
  return Buffer.from(dataUrl.split(',')[1], 'base64')
}

test('a borrower on a phone applies, is approved automatically, signs the contract and downloads it', async ({ page, api }) => {
  test.setTimeout(120_000)
  const b = await registerClean(api)
  await page.setViewportSize({ width: 375, height: 812 })
  await borrowerLogin(page, b.phone, b.password)

  // The product asks for the ID card and a bank statement: both photographed on file first.
  await page.getByTestId('my-documents-link').click()
  for (const type of ['id_card', 'bank_statement']) {
    const card = page.getByTestId(`doc-card-${type}`)
    await card.getByTestId('camera-input').setInputFiles({ name: `${type}.jpg`, mimeType: 'image/jpeg', buffer: await photo(page) })
    await expect(card.getByTestId('doc-state')).toHaveText('已上传')
  }

  await page.getByTestId('tab-products').click()
  await page.getByTestId('offer-CONSUMER').click()
  await page.getByTestId('offer-amount').fill('8000')
  await expect(page.getByTestId('offer-schedule')).toBeVisible()
  await page.getByTestId('apply-with-plan').click()
  await page.getByTestId('apply-purpose').selectOption({ label: '教育' })
  await page.getByTestId('apply-income').fill('20000')
  await page.getByTestId('apply-spending').fill('3000')
  await page.getByTestId('apply-submit').click()
  await expect(page).toHaveURL(/\/applications\/\d+$/)
  await expect(page.getByTestId('application-status')).toHaveText('已批准')

  await page.getByTestId('open-contract').click()
  await expect(page).toHaveURL(/\/applications\/\d+\/contract$/)
  await expect(page.getByTestId('contract-status')).toHaveText('待签署')
  await expect(page.getByTestId('contract-apr')).toContainText('%')
  await expect(page.getByTestId('contract-schedule').locator('tbody tr')).toHaveCount(12)
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
  await expectAccessible(page, 'borrower contract page')
  await screenshot(page, 'borrower-contract')
  // The full text (the same template and terms as the PDF) opens on demand in a sandboxed frame.
  await page.getByTestId('contract-text-toggle').click()
  await expect(page.frameLocator('[data-testid="contract-text"]').getByText('第九条　争议解决')).toBeVisible()

  await page.getByTestId('sign-open').click()
  const since = await lastSmsId(api, b.phone)
  await page.getByTestId('sign-send-code').click()
  await expect(page.getByTestId('sign-code-sent')).toContainText('验证码已发送至')
  await page.getByTestId('sign-code').fill(await smsCode(api, b.phone, since))
  await page.getByTestId('sign-agree').click()
  await page.getByTestId('sign-confirm').click()
  await expect(page.getByTestId('contract-status')).toHaveText('已签署')
  await expect(page.getByTestId('contract-signed')).toBeVisible()
  await screenshot(page, 'borrower-contract-signed')

  const downloading = page.waitForEvent('download')
  await page.getByTestId('download-signed').click()
  const file = await downloading
  expect(file.suggestedFilename()).toMatch(/-signed\.pdf$/)
  const bytes = readFileSync((await file.path())!)
  expect(bytes.subarray(0, 5).toString()).toBe('%PDF-')
  expect(bytes.includes(Buffer.from('/ETSI.CAdES.detached'))).toBe(true)
})

test.describe('staff console', () => {
  test.use({ viewport: { width: 1366, height: 900 } })

  test('the application shows its signed contract with the signing record and downloads', async ({ page, api }) => {
    // The demo's 王芳 signed the contract of her first approved application.
    const login = await api.post('/api/v1/auth/login', { data: { phone: BRANCH_MANAGER.phone, password: DEMO_PASSWORD, kind: 'staff' } })
    const headers = { Authorization: `Bearer ${(await login.json()).token}` }
    const approved = (await (await api.get('/api/v1/applications?status=approved', { headers })).json()).items as { id: number }[]
    // (another test of this worker may have signed one too: pick the demo's by its device)
    const contracts = await Promise.all(approved.map(async (a) => [a.id, await (await api.get(`/api/v1/applications/${a.id}/contract`, { headers })).json()] as const))
    const signedId = contracts.find(([, c]) => c.status === 'signed' && c.signature?.device_id === 'demo-device-wang')![0]

    await staffLogin(page, BRANCH_MANAGER.phone)
    await page.goto(`/staff/applications/${signedId}`)
    const panel = page.getByTestId('contract-panel')
    await expect(panel.getByTestId('contract-status')).toHaveText('已签署')
    await expect(panel.getByTestId('contract-record')).toContainText('demo-device-wang')
    const downloading = page.waitForEvent('download')
    await panel.getByTestId('contract-download-signed').click()
    expect((await downloading).suggestedFilename()).toMatch(/-signed\.pdf$/)
    await expectAccessible(page, 'staff application with its contract')
    await screenshot(page, 'staff-application-contract', true)
  })

  test('an administrator edits a draft template, its Word copy too, requests its publication; a second one approves it', async ({ page, browser, baseURL }) => {
    test.setTimeout(150_000) // two sign-ins with a second factor, two browser contexts
    await staffLogin(page, ADMIN.phone, DEMO_PASSWORD, ADMIN.totpSecret)
    await page.goto('/staff/contract-templates')
    await expect(page.getByTestId('template-versions')).toContainText('生效中')
    await page.getByTestId('template-draft-loan').click()
    const source = page.getByTestId('template-html')
    await expect(source).toHaveValue(/第九条　争议解决/)
    const original = await source.inputValue()
    // A placeholder the contract does not have is refused on save, named beside the source.
    await source.fill(`${original}<p>{{ borrower.no_such }}</p>`)
    await page.getByTestId('template-save').click()
    await expect(page.getByText('合同模板使用了未知的占位符：borrower.no_such')).toBeVisible()
    await source.fill(original.replace('第九条　争议解决', '第九条　争议解决（可选仲裁）'))
    await page.getByTestId('template-save').click()
    await expect(page.getByText('草稿已保存')).toBeVisible()
    await page.getByTestId('template-preview').click()
    await expect(page.getByTestId('template-preview-frame')).toBeVisible()
    // The Word template: downloaded, a file that is not one refused beside it, the real one uploaded back.
    const gettingDocx = page.waitForEvent('download')
    await page.getByTestId('template-docx-download').click()
    const docx = await gettingDocx
    expect(docx.suggestedFilename()).toMatch(/^template-loan-\d+\.docx$/)
    const number = Number(/template-loan-(\d+)\.docx/.exec(docx.suggestedFilename())![1])
    await page.getByTestId('template-docx-file').setInputFiles({ name: 'notes.docx', mimeType: 'application/octet-stream', buffer: Buffer.from('not a Word document') })
    await expect(page.getByTestId('template-docx-error')).toContainText('合同模板有误')
    await page.getByTestId('template-docx-file').setInputFiles(await docx.path())
    await expect(page.getByText('Word 模板已上传')).toBeVisible()
    await expect(page.getByTestId('template-docx-error')).toHaveCount(0)
    await expectAccessible(page, 'contract templates')
    // Publishing takes two people: the editor only requests it; the draft is then frozen and the
    // editor cannot decide their own request.
    await page.getByTestId('template-request').click()
    await page.getByRole('dialog').getByRole('button', { name: '提交发布申请' }).click()
    await expect(page.getByTestId('template-state')).toContainText('待审批')
    await expect(page.getByTestId('template-waiting')).toContainText('须由另一位有审批权限的人员审批')
    await expect(page.getByTestId('template-approve')).toHaveCount(0)
    await expect(page.getByTestId('template-save')).toHaveCount(0)
    const rows = page.getByTestId('template-versions').locator('tbody tr')
    await expect(rows.filter({ hasText: '生效中' })).toHaveCount(1)
    await expect(page.getByTestId(`template-review-loan-${number}`)).toHaveText('待审批')

    // The second administrator, in a browser of her own, finds the request among her to-dos and decides it.
    const ctx = await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } })
    const second = await ctx.newPage()
    await staffLogin(second, SECOND_ADMIN.phone, DEMO_PASSWORD, SECOND_ADMIN.totpSecret)
    const todo = second.getByTestId('todo-contract_templates_pending_approval')
    await expect(todo).toContainText('待您审批的合同模板发布申请')
    await todo.click()
    await second.getByTestId(`template-open-loan-${number}`).click()
    await expect(second.getByTestId('template-html')).toHaveValue(/争议解决（可选仲裁）/)
    // A rejection needs its reason: refused beside the field, nothing decided.
    await second.getByTestId('template-reject').click()
    await expect(second.getByTestId('template-decision')).toContainText('内容太短')
    await expect(second.getByTestId('template-state')).toContainText('待审批')
    await second.getByTestId('template-reason').fill('第九条仲裁条款已由法务复核')
    await expectAccessible(second, 'contract template approval')
    await second.getByTestId('template-approve').click()
    await expect(second.getByText('已批准，此版本现已生效')).toBeVisible()
    await expect(second.getByTestId('template-state')).toContainText('生效中')
    await expect(second.getByTestId('template-approval-note')).toContainText('第九条仲裁条款已由法务复核')
    const secondRows = second.getByTestId('template-versions').locator('tbody tr')
    await expect(secondRows.filter({ hasText: '生效中' })).toHaveCount(1)
    await expect(secondRows.filter({ hasText: '生效中' })).toContainText(String(number))
    await screenshot(second, 'staff-contract-templates')
    await ctx.close()

    // The editor sees the new version in force, and the one before it retired.
    await page.reload()
    await expect(rows.filter({ hasText: '生效中' })).toHaveCount(1)
    await expect(rows.filter({ hasText: '生效中' })).toContainText(String(number))
    await expect(page.getByTestId(`template-review-loan-${number}`)).toHaveText('已批准')
  })
})
