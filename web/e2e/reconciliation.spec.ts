// Reconciliation breaks (issue 17): finance (冯琳) uploads a payment provider's statement holding a
// payment we never made; the break is listed; she marks it resolved — a note is required, said beside
// the field — and it leaves the list.
import { test, expect } from './fixtures'
import { DEMO_PASSWORD, expectAccessible, staffLogin } from './helpers'

const FINANCE = { phone: '13900000009' } // 冯琳, 财务

test('finance resolves a reconciliation break with a note and it leaves the list', async ({ page, api }) => {
  const login = await api.post('/api/v1/auth/login', { data: { phone: FINANCE.phone, password: DEMO_PASSWORD, kind: 'staff' } })
  expect(login.status(), await login.text()).toBe(200)
  const headers = { Authorization: `Bearer ${(await login.json()).token}` }
  const me = await (await api.get('/api/v1/auth/me', { headers })).json()
  const day = me.institution.business_date as string
  const ref = `SIME2E${Date.now()}`
  const statement = [
    'provider_reference,merchant_reference,kind,amount,currency,status,settled_at',
    `${ref},MC${me.institution.id}-9${Date.now() % 100000000},online,50.00,CNY,succeeded,${day}T10:00:00+08:00`,
  ].join('\n')

  await staffLogin(page, FINANCE.phone, DEMO_PASSWORD)
  await page.goto('/staff/loans/reconciliation')
  await page.getByTestId('recon-file').setInputFiles({ name: `statement-${day}.csv`, mimeType: 'text/csv', buffer: Buffer.from(`${statement}\n`) })
  await page.getByTestId('recon-run').click()
  const row = page.getByTestId('recon-breaks').locator('tbody tr', { hasText: ref })
  await expect(row).toHaveCount(1)
  await expect(row).toContainText('我方无记录')

  await row.getByRole('button', { name: '标记已处理' }).click()
  const dialog = page.getByTestId('recon-resolve-dialog')
  await dialog.getByTestId('recon-resolve-save').click()
  await expect(dialog).toContainText('请填写处理说明')
  await dialog.locator('textarea').fill('支付机构已更正对账单')
  await dialog.getByTestId('recon-resolve-save').click()
  await expect(page.getByText('已标记为已处理')).toBeVisible()
  await expect(row).toHaveCount(0)
  await expectAccessible(page, 'reconciliation after a break resolved')
  // Listed among the resolved ones, with the note.
  const resolved = await (await api.get('/api/v1/reconciliation/breaks?resolved=true&page_size=100', { headers })).json()
  expect(resolved.items.find((b: { provider_reference: string }) => b.provider_reference === ref).resolution_note).toBe('支付机构已更正对账单')
})
