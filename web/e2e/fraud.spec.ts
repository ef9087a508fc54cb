// Fraud investigation. The demo has three people who applied from one handset paying to one bank card
// (DEMO-RING-1…3); the third was referred by the review's fraud check and opened a case. The risk officer
// (孙伟, risk.fraud.investigate) opens the queue, opens the case, sees the ring drawn as a graph (three
// applications around the shared device and card), adds a note and records the verdict "fraud".
import { test, expect } from './fixtures'
import { DEMO_PASSWORD, expectAccessible, screenshot, staffLogin } from './helpers'

test.use({ viewport: { width: 1366, height: 900 } })
const RISK_OFFICER = { phone: '13900000004' }

test('an investigator opens a fraud case, sees the ring and records a verdict', async ({ page }) => {
  test.setTimeout(120_000)
  await staffLogin(page, RISK_OFFICER.phone, DEMO_PASSWORD)
  await page.getByTestId('menu-risk-fraud').click()
  await expect(page.getByRole('heading', { name: '欺诈调查' })).toBeVisible()
  const table = page.getByTestId('fraud-cases')
  await expect(table).toContainText('DEMO-RING-3')
  await expect(table).toContainText('关联 3 人')
  await table.getByRole('link').first().click()
  await expect(page).toHaveURL(/\/staff\/risk\/fraud\/\d+$/)

  await expect(page.getByTestId('fraud-case-summary')).toContainText('DEMO-RING-1')
  await expect(page.getByTestId('fraud-ring').locator('canvas')).toBeVisible()
  const nodes = page.getByTestId('fraud-ring-nodes').locator('li')
  await expect(nodes.filter({ hasText: '申请' })).toHaveCount(3)
  await expect(nodes.filter({ hasText: '设备' })).toHaveCount(1)
  await expect(nodes.filter({ hasText: '银行卡' })).toHaveCount(1)
  await expect(nodes.filter({ hasText: 'demo-ring-handset' })).toHaveCount(0)  // masked
  await expectAccessible(page, 'fraud case')
  await screenshot(page, 'risk-fraud-case', true)

  await page.getByTestId('fraud-note').fill('三人共用同一手机与收款卡，电话回访均未接通')
  await page.getByTestId('fraud-add-note').click()
  await expect(page.getByTestId('fraud-notes')).toContainText('电话回访均未接通')

  await page.getByTestId('verdict-fraud').click()
  await page.getByTestId('fraud-reason').fill('团伙共用设备与银行卡')
  await page.getByTestId('fraud-decide').click()
  await page.getByRole('button', { name: '提交结论' }).last().click()
  await expect(page.getByTestId('fraud-verdict')).toContainText('已认定：欺诈')
  await expect(page.getByTestId('fraud-verdict-form')).toHaveCount(0)
})
